/* bench/bench_redact.c: workloads for the redaction front door.
 *   bench_redact gen FILE MB      write MB of realistic agent-run events as
 *                                 JSON lines (LLM calls with messages and
 *                                 token usage, tool calls with headers and
 *                                 keys, tool results with nested lists)
 *   bench_redact record DB N      log N such events into a new run of a
 *                                 recorder at DB (default policy) and print
 *                                 events/s as JSON
 *   bench_redact time OUT CMD...  run CMD with stdout to OUT and print
 *                                 "wall user sys" seconds (no dependence
 *                                 on /usr/bin/time)
 * The generator is deterministic (fixed seed), so runs compare. */
#include <sluice/sluice.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long state = 88172645463325252ull;

static unsigned long long rnd(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static const char *const words[] = {
    "the",    "agent",   "calls",   "search",  "results",  "for",
    "query",  "model",   "returns", "summary", "of",       "documents",
    "with",   "context", "user",    "asks",    "about",    "weather",
    "in",     "paris",   "and",     "tokyo",   "plan",     "next",
    "step",   "tool",    "output",  "json",    "éléphant", "naïve",
    "日本語", "data",    "stream",  "value"};

static void hex(FILE *f, int n) {
    for (int i = 0; i < n; i++) {
        fputc("0123456789abcdef"[rnd() % 16], f);
    }
}

/* One event; returns nothing, writes one line. Strings with a newline are
 * escaped by printing \n, so lines stay lines. */
static void event(FILE *f, unsigned long long step) {
    int kind = (int)(rnd() % 3);
    fprintf(f, "{\"run_id\":\"");
    hex(f, 32);
    fprintf(f,
            "\",\"step_id\":%llu,\"timestamp\":\"2026-11-23T17:%02d:%02d."
            "%06dZ\",",
            step, (int)(rnd() % 60), (int)(rnd() % 60), (int)(rnd() % 1000000));
    if (kind == 0) {
        fprintf(f, "\"type\":\"llm_call\",\"model\":\"gpt-4o\",\"params\":{"
                   "\"temperature\":0.7,\"max_tokens\":1024,\"top_p\":1.0},"
                   "\"messages\":[");
        int n = 2 + (int)(rnd() % 4);
        for (int i = 0; i < n; i++) {
            fprintf(f, "%s{\"role\":\"%s\",\"content\":\"", i ? "," : "",
                    i % 2 ? "assistant" : "user");
            for (int w = 0, m = 20 + (int)(rnd() % 60); w < m; w++) {
                fputs(words[rnd() % (sizeof(words) / sizeof(words[0]))], f);
                fputs(rnd() % 9 == 0 ? "\\n" : " ", f);
            }
            fprintf(f, "\"}");
        }
        fprintf(f,
                "],\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":"
                "%d,\"total_tokens\":%d},\"session_id\":\"",
                (int)(rnd() % 4000), (int)(rnd() % 800), (int)(rnd() % 4800));
        hex(f, 24);
        fprintf(f, "\",\"duration\":%d.%03d}", (int)(rnd() % 20),
                (int)(rnd() % 1000));
    } else if (kind == 1) {
        fprintf(f, "\"type\":\"tool_call\",\"tool\":\"http_request\",\"args\":"
                   "{\"method\":\"POST\",\"url\":\"https://api.example.com/v1/"
                   "search?q=");
        hex(f, 8);
        fprintf(f, "\",\"headers\":{\"Authorization\":\"Bearer ");
        hex(f, 40);
        fprintf(f, "\",\"Content-Type\":\"application/json\",\"X-Api-Key\":\"");
        hex(f, 32);
        fprintf(f, "\",\"User-Agent\":\"agent/1.2\"},\"body\":{\"query\":\"");
        for (int w = 0, m = 5 + (int)(rnd() % 10); w < m; w++) {
            fputs(words[rnd() % (sizeof(words) / sizeof(words[0]))], f);
            fputc(' ', f);
        }
        fprintf(f,
                "\",\"limit\":%d,\"filters\":{\"lang\":\"en\",\"safe\":"
                "true}}},\"credentials\":{\"user\":\"svc\",\"password\":\"",
                (int)(rnd() % 50));
        hex(f, 16);
        fprintf(f, "\"}}");
    } else {
        fprintf(f, "\"type\":\"tool_result\",\"tool\":\"web_search\","
                   "\"status\":200,\"result\":{\"items\":[");
        int n = 3 + (int)(rnd() % 6);
        for (int i = 0; i < n; i++) {
            fprintf(f, "%s{\"title\":\"", i ? "," : "");
            for (int w = 0, m = 4 + (int)(rnd() % 6); w < m; w++) {
                fputs(words[rnd() % (sizeof(words) / sizeof(words[0]))], f);
                fputc(' ', f);
            }
            fprintf(f, "\",\"url\":\"https://example.org/");
            hex(f, 12);
            fprintf(f, "\",\"score\":0.%06d,\"snippet\":\"",
                    (int)(rnd() % 1000000));
            for (int w = 0, m = 15 + (int)(rnd() % 30); w < m; w++) {
                fputs(words[rnd() % (sizeof(words) / sizeof(words[0]))], f);
                fputc(' ', f);
            }
            fprintf(f, "\",\"meta\":{\"author\":\"someone\",\"cookie\":\"");
            hex(f, 20);
            fprintf(f, "\",\"rank\":%d}}", i);
        }
        fprintf(f, "],\"next_page_token\":\"");
        hex(f, 16);
        fprintf(f, "\"},\"duration\":%d.%03d}", (int)(rnd() % 20),
                (int)(rnd() % 1000));
    }
    fputc('\n', f);
}

static int gen(const char *path, long mb) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    long long target = (long long)mb << 20;
    unsigned long long step = 0;
    while (ftell(f) < target) {
        event(f, step++);
    }
    fclose(f);
    fprintf(stderr, "bench_redact: %llu events, %ld MB in %s\n", step, mb,
            path);
    return 0;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int record(const char *db, long n) {
    char tmp[] = "/tmp/sl_bench_events_XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0) {
        perror("mkstemp");
        return 1;
    }
    FILE *f = fdopen(fd, "w+b");
    for (long i = 0; i < n; i++) {
        event(f, (unsigned long long)i);
    }
    long len = ftell(f);
    char *data = malloc((size_t)len + 1);
    fseek(f, 0, SEEK_SET);
    if (!data || fread(data, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        return 1;
    }
    fclose(f);
    remove(tmp);
    sl_recorder *rec = NULL;
    sl_error err = {0};
    char id[SL_RUN_ID_LEN + 1];
    if (sl_recorder_open(db, NULL, &rec, &err) != SL_OK ||
        sl_recorder_start_run(rec, "bench", id, &err) != SL_OK) {
        fprintf(stderr, "bench_redact: %s\n", err.msg);
        free(data);
        sl_recorder_close(rec);
        return 1;
    }
    double t0 = now(), c0 = cpu();
    long stored = 0;
    for (char *p = data, *end = data + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (sl_recorder_log_event(rec, id, "step", p, l, NULL, &err) != SL_OK) {
            fprintf(stderr, "bench_redact: %s\n", err.msg);
            break;
        }
        stored++;
        p += l + 1;
    }
    double dt = now() - t0, dc = cpu() - c0;
    sl_recorder_end_run(rec, id, "success", NULL);
    sl_recorder_close(rec);
    free(data);
    printf("{\"bench\":\"recorder\",\"events\":%ld,\"seconds\":%.3f,"
           "\"events_per_s\":%.0f,\"cpu_seconds\":%.3f,"
           "\"events_per_cpu_s\":%.0f,\"mb\":%.1f}\n",
           stored, dt, (double)stored / dt, dc, (double)stored / dc,
           (double)len / 1048576.0);
    return 0;
}

static int time_cmd(const char *out, char **argv) {
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 1) < 0) {
            _exit(127);
        }
        close(fd);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    struct rusage ru;
    if (waitpid(pid, &st, 0) < 0 || getrusage(RUSAGE_CHILDREN, &ru) != 0) {
        perror("waitpid");
        return 1;
    }
    double wall = now() - t0;
    printf("%.3f %.3f %.3f\n", wall,
           (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "time") == 0) {
        return time_cmd(argv[2], argv + 3);
    }
    if (argc == 4 && strcmp(argv[1], "gen") == 0) {
        return gen(argv[2], strtol(argv[3], NULL, 10));
    }
    if (argc == 4 && strcmp(argv[1], "record") == 0) {
        return record(argv[2], strtol(argv[3], NULL, 10));
    }
    fprintf(stderr, "usage: bench_redact gen FILE MB | record DB N | "
                    "time OUT CMD...\n");
    return 2;
}

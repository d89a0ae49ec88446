/* tests/cli/test_apply_threads.c: `sluice apply --threads N` end to end:
 * for the same input, N threads write the same bytes, the same messages
 * (same file:line:col, same order), the same stats and exit status as one
 * thread, whatever the chunk size: malformed values in the middle,
 * pretty-printed values, values larger than a chunk, empty input, stdin,
 * and generated mixes of all of them. A rate limit holds across threads. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SL_TEST_TMPDIR "/tmp/sluice-thr-XXXXXX"
#include "cli/tmpdir.h"

TestSuite(apply_threads, .init = make_dir, .fini = remove_dir);

static void put(const char *name, const char *text, size_t len) {
    FILE *f = fopen(path(name), "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* A whole file, malloc'd, NUL-terminated; *len its size. */
static char *slurp(const char *name, size_t *len) {
    FILE *f = fopen(path(name), "rb");
    cr_assert_not_null(f, "%s", name);
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    cr_assert_not_null(b);
    size_t got;
    while ((got = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            cap *= 2;
            b = realloc(b, cap);
            cr_assert_not_null(b);
        }
    }
    fclose(f);
    b[n] = '\0';
    *len = n;
    return b;
}

/* Run apply on `input` with extra arguments; output in out.<tag>,
 * messages in err.<tag>, stats in st.<tag>; returns the exit status. */
static int apply(const char *tag, const char *args, const char *input) {
    const char *bin = getenv("SLUICE_CLI");
    cr_assert_not_null(bin, "SLUICE_CLI is not set");
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "cd %s && %s apply --policies p.json --stats st.%s %s %s "
             "> out.%s 2> err.%s",
             dir, bin, tag, args, input, tag, tag);
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "%s", cmd);
    size_t n;
    char *e = slurp((snprintf(cmd, sizeof(cmd), "err.%s", tag), cmd), &n);
    cr_assert_null(strstr(e, "Sanitizer"), "%s", e);
    cr_assert_null(strstr(e, "runtime error"), "%s", e);
    free(e);
    return WEXITSTATUS(st);
}

static void same_file(const char *a, const char *b, const char *what) {
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    size_t i = 0;
    while (i < na && i < nb && x[i] == y[i]) {
        i++;
    }
    cr_assert(na == nb && i == na,
              "%s: %s and %s differ at byte %zu (%zu vs %zu bytes):\n%.200s\n"
              "--- vs ---\n%.200s",
              what, a, b, i, na, nb, x + (i > 40 ? i - 40 : 0),
              y + (i > 40 ? i - 40 : 0));
    free(x);
    free(y);
}

/* One thread is the reference; each threads/chunk-size pair must match it
 * byte for byte: output, messages, stats, exit status. */
static void same_as_one_thread(const char *input) {
    int want = apply("one", "--threads 1", input);
    static const char *const runs[] = {
        "--threads 2",
        "--threads 4",
        "--threads 2 --chunk-size 1",
        "--threads 3 --chunk-size 64",
        "--threads 4 --chunk-size 333",
        "--threads 2 --chunk-size 4096",
    };
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        int got = apply("n", runs[i], input);
        cr_assert_eq(got, want, "%s: exit %d, one thread %d", runs[i], got,
                     want);
        same_file("out.one", "out.n", runs[i]);
        same_file("err.one", "err.n", runs[i]);
        same_file("st.one", "st.n", runs[i]);
    }
}

static const char policies[] =
    "{\"policies\":[\n"
    "{\"id\":\"drop-debug\",\"name\":\"n\",\"log\":{\"match\":[{\"log_"
    "field\":\"severity_text\",\"exact\":\"DEBUG\"}],\"keep\":\"none\"}},\n"
    "{\"id\":\"redact\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
    "\"body\",\"contains\":\"tok_\"}],\"transform\":{\"redact\":[{\"log_"
    "field\":\"body\",\"regex\":\"tok_[a-z0-9]+\",\"replacement\":\"tok_"
    "***\"}]}}},\n"
    "{\"id\":\"half-warn\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
    "\"severity_text\",\"exact\":\"WARN\"}],\"keep\":\"50%\"}}\n]}\n";

#define REC(sev, body) \
    "{\"severityText\":\"" sev "\",\"body\":{\"stringValue\":\"" body "\"}}"
#define REQ(recs) \
    "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[" recs "]}]}]}"

static void put_policies(void) {
    put("p.json", policies, strlen(policies));
}

Test(apply_threads, malformed_and_pretty_values_match_one_thread) {
    put_policies();
    /* one input line per source line */
    // clang-format off
    const char in[] =
        REQ(REC("INFO", "one tok_a1") "," REC("DEBUG", "x")) "\n"
        "{\"resourceLogs\": [ oops\n" /* cut short */
        REQ(REC("WARN", "w1")) "\n"
        "garbage\n"
        "{\n"
        "  \"resourceLogs\": [{\"scopeLogs\": [{\"logRecords\": [\n"
        "    " REC("INFO", "pretty tok_b2") ",\n"
        "    " REC("DEBUG", "pretty debug") "\n"
        "  ]}]}]\n"
        "}\n"
        "{\"resourceLogs\": 7}\n" /* not OTLP */
        "[\n"
        REQ(REC("INFO", "in an array")) ",\n" /* '{' after ',' */
        REQ(REC("INFO", "still the array")) "\n"
        "]\n"
        "{\"resourceLogs\":\n"
        REQ(REC("INFO", "after a colon")) "\n"
        "\"unterminated\n"
        REQ(REC("INFO", "two")) " " REQ(REC("WARN", "w2")) "\n"
        "\n"
        "   \n"
        REQ(REC("INFO", "last")) "\n";
    // clang-format on
    put("in.json", in, strlen(in));
    same_as_one_thread("in.json");
    size_t n;
    char *e = slurp("err.one", &n);
    cr_assert(strstr(e, "in.json:2:20: "), "%s", e); /* cut short */
    cr_assert(strstr(e, "in.json:4:1: "), "%s", e);  /* garbage */
    free(e);
    char *o = slurp("out.one", &n);
    cr_assert(strstr(o, "one tok_***"), "%s", o);
    cr_assert(strstr(o, "pretty tok_***"), "%s", o);
    cr_assert(strstr(o, "\"last\""), "%s", o);
    cr_assert_null(strstr(o, "DEBUG"), "%s", o);
    free(o);
}

/* A value many times the chunk size, pretty-printed and on one line. */
Test(apply_threads, values_larger_than_a_chunk_match_one_thread) {
    put_policies();
    size_t cap = 1 << 20, n = 0;
    char *in = malloc(cap);
    cr_assert_not_null(in);
    n += (size_t)snprintf(in + n, cap - n, "%s\n", REQ(REC("INFO", "a")));
    n += (size_t)snprintf(in + n, cap - n,
                          "{\n  \"resourceLogs\": [{\"scopeLogs\": "
                          "[{\"logRecords\": [\n");
    for (int i = 0; i < 2000; i++) {
        n += (size_t)snprintf(in + n, cap - n,
                              "    %s{\"severityText\": \"%s\", \"body\": "
                              "{\"stringValue\": \"big %d tok_%d\"}}\n",
                              i ? "," : "", i % 3 ? "INFO" : "DEBUG", i, i);
    }
    n += (size_t)snprintf(in + n, cap - n, "  ]}]}]\n}\n");
    n += (size_t)snprintf(in + n, cap - n,
                          "{\"resourceLogs\":[{\"scopeLogs\":[{"
                          "\"logRecords\":[");
    for (int i = 0; i < 2000; i++) {
        n += (size_t)snprintf(in + n, cap - n, "%s" REC("WARN", "line %d"),
                              i ? "," : "", i);
    }
    n += (size_t)snprintf(in + n, cap - n, "]}]}]}\n%s\n",
                          REQ(REC("INFO", "z")));
    cr_assert_lt(n, cap);
    put("in.json", in, n);
    free(in);
    same_as_one_thread("in.json");
    size_t len;
    char *o = slurp("out.one", &len);
    int lines = 0;
    for (const char *p = o; *p; p++) {
        lines += *p == '\n';
    }
    cr_assert_eq(lines, 4, "one line per value");
    free(o);
}

/* More messages than a job keeps (256): the rest of the chunk is run
 * after them, still in order. */
Test(apply_threads, many_bad_values_in_one_chunk_match_one_thread) {
    put_policies();
    size_t cap = 1 << 17, n = 0;
    char *in = malloc(cap);
    cr_assert_not_null(in);
    for (int i = 0; i < 700; i++) {
        if (i % 7 == 3) {
            n += (size_t)snprintf(in + n, cap - n, "%s\n",
                                  REQ(REC("INFO", "ok tok_z")));
        } else {
            n += (size_t)snprintf(in + n, cap - n, "bad %d\n", i);
        }
    }
    put("in.json", in, n);
    free(in);
    same_as_one_thread("in.json");
    size_t len;
    char *e = slurp("err.one", &len);
    cr_assert(strstr(e, "in.json:700:1: "), "%s", e);
    free(e);
}

Test(apply_threads, empty_and_blank_input) {
    put_policies();
    put("empty.json", "", 0);
    put("blank.json", "\n  \n\t\n", 5);
    cr_assert_eq(apply("n", "--threads 2", "empty.json"), 0);
    size_t n;
    free(slurp("out.n", &n));
    cr_assert_eq(n, 0);
    same_as_one_thread("empty.json");
    same_as_one_thread("blank.json");
}

Test(apply_threads, stdin_matches_a_file) {
    put_policies();
    const char in[] =
        REQ(REC("INFO", "a tok_x")) "\n"
                                    "{\n \"resourceLogs\": []\n}\n"
                                    "bad\n" REQ(REC("DEBUG", "b")) "\n";
    put("in.json", in, strlen(in));
    cr_assert_eq(apply("one", "--threads 1", "in.json"), 1);
    cr_assert_eq(apply("n", "--threads 2 --chunk-size 16", "< in.json"), 1);
    same_file("out.one", "out.n", "stdin");
    cr_assert_eq(apply("n", "--threads 2 --chunk-size 16", "- < in.json"), 1);
    same_file("out.one", "out.n", "-");
    /* through a pipe: reads return what is there, chunks end early */
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "cd %s && cat in.json | %s apply --threads 3 --policies p.json "
             "> out.p 2> err.p",
             dir, getenv("SLUICE_CLI"));
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%d", st);
    same_file("out.one", "out.p", "pipe");
    cr_assert_eq(apply("p", "--threads 2", "< /dev/null"), 0);
}

/* An input that cannot be read (a directory) or opened: the same
 * message, summary and status as one thread. */
Test(apply_threads, unreadable_inputs_as_one_thread) {
    put_policies();
    cr_assert_eq(apply("one", "--threads 1", ". missing.json"), 1);
    cr_assert_eq(apply("n", "--threads 2", ". missing.json"), 1);
    same_file("err.one", "err.n", "unreadable");
}

/* Reject what is not a count. */
Test(apply_threads, bad_thread_counts_are_usage_errors) {
    put_policies();
    put("in.json", "", 0);
    cr_assert_eq(apply("n", "--threads 0", "in.json"), 2);
    cr_assert_eq(apply("n", "--threads x", "in.json"), 2);
    cr_assert_eq(apply("n", "--threads -1", "in.json"), 2);
    cr_assert_eq(apply("n", "--chunk-size 0", "in.json"), 2);
}

/* A rate limit of 5 per minute over 600 INFO records spread over many
 * chunks and 4 threads: 5 records kept in total. */
Test(apply_threads, rate_limit_holds_across_threads) {
    const char pol[] =
        "{\"policies\":[{\"id\":\"rate\",\"name\":\"n\",\"log\":{\"match\":"
        "[{\"log_field\":\"severity_text\",\"exact\":\"INFO\"}],\"keep\":"
        "\"5/m\"}}]}";
    put("p.json", pol, strlen(pol));
    size_t cap = 1 << 17, n = 0;
    char *in = malloc(cap);
    cr_assert_not_null(in);
    for (int i = 0; i < 200; i++) {
        n += (size_t)snprintf(in + n, cap - n,
                              REQ(REC("INFO", "%d a") "," REC(
                                  "INFO", "%d b") "," REC("INFO", "%d c")) "\n",
                              i, i, i);
    }
    put("in.json", in, n);
    free(in);
    cr_assert_eq(apply("n", "--threads 4 --chunk-size 256", "in.json"), 0);
    size_t len;
    char *o = slurp("out.n", &len);
    int kept = 0;
    for (const char *p = o; (p = strstr(p, "\"INFO\"")); p++) {
        kept++;
    }
    free(o);
    cr_assert_eq(kept, 5);
    char *s = slurp("st.n", &len);
    cr_assert(strstr(s, "\"hits\":600,\"kept\":5,\"dropped\":0,\"sampled_out\":"
                        "0,\"rate_limited\":595"),
              "%s", s);
    free(s);
}

/* Generated mixes: valid lines, pretty values (indent 0, 1, 2), values cut
 * short, garbage, lone brackets, arrays of requests, two values on a
 * line, blank lines, broken pretty values; fixed seeds. */
static unsigned rnd_state;

static unsigned rnd(unsigned n) {
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 16) % n;
}

static size_t gen_request(char *b, size_t cap, int indent) {
    static const char *const sev[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    const char *nl = indent ? "\n" : "";
    const char *sp = indent == 2 ? "  " : indent == 1 ? " " : "";
    size_t n = (size_t)snprintf(b, cap,
                                "{%s%s\"resourceLogs\":[{\"scopeLogs\":[{"
                                "\"logRecords\":[%s",
                                nl, sp, nl);
    unsigned k = rnd(4);
    for (unsigned i = 0; i < k; i++) {
        n += (size_t)snprintf(b + n, cap - n,
                              "%s%s%s{\"severityText\":\"%s\",\"body\":{"
                              "\"stringValue\":\"r%u tok_%x\"}}%s",
                              i ? "," : "", i ? nl : "", sp, sev[rnd(4)],
                              rnd(1000), rnd(1 << 16), "");
    }
    n += (size_t)snprintf(b + n, cap - n, "%s]}]}]%s}", nl, nl);
    return n;
}

static size_t gen_mix(char *b, size_t cap, int values) {
    static const char *const junk[] = {"garbage\n",
                                       "{\n",
                                       "[\n",
                                       "{\"a\":\n",
                                       "]\n",
                                       "}\n",
                                       "\"str\n",
                                       "[1,\n",
                                       "\n\n",
                                       "  \n",
                                       "[",
                                       ",\n",
                                       ":\n",
                                       "nul\n",
                                       "{\"resourceLogs\": 7}\n",
                                       "{}\n",
                                       "[{\"a\":1}\n",
                                       "\xff\xfe\n"};
    size_t n = 0;
    char v[2048];
    for (int i = 0; i < values && n + 8192 < cap; i++) {
        unsigned r = rnd(100);
        size_t vl = gen_request(v, sizeof(v), r < 60 ? 0 : (int)rnd(3));
        if (r < 70) {
            memcpy(b + n, v, vl);
            n += vl;
            b[n++] = '\n';
        } else if (r < 76) {
            size_t cut = rnd((unsigned)vl);
            memcpy(b + n, v, cut);
            n += cut;
            b[n++] = '\n';
        } else if (r < 84) {
            const char *j = junk[rnd(sizeof(junk) / sizeof(junk[0]))];
            memcpy(b + n, j, strlen(j));
            n += strlen(j);
        } else if (r < 90) {
            /* a broken pretty value: a newline and a bracket inside */
            size_t at = rnd((unsigned)vl);
            static const char *const ins[] = {"\n{", "\n[", "x", ",", "\n"};
            const char *s = ins[rnd(5)];
            memcpy(b + n, v, at);
            n += at;
            memcpy(b + n, s, strlen(s));
            n += strlen(s);
            memcpy(b + n, v + at, vl - at);
            n += vl - at;
            b[n++] = '\n';
        } else if (r < 95) {
            n += (size_t)snprintf(b + n, cap - n, "[\n%.*s,\n%.*s\n]\n",
                                  (int)vl, v, (int)vl, v);
        } else {
            n += (size_t)snprintf(b + n, cap - n, "%.*s %.*s\n", (int)vl, v,
                                  (int)vl, v);
        }
    }
    return n;
}

Test(apply_threads, generated_mixes_match_one_thread, .timeout = 600) {
    put_policies();
    size_t cap = 1 << 20;
    char *in = malloc(cap);
    cr_assert_not_null(in);
    for (unsigned seed = 1; seed <= 6; seed++) {
        rnd_state = seed;
        size_t n = gen_mix(in, cap, 150);
        put("mix.json", in, n);
        same_as_one_thread("mix.json");
    }
    free(in);
}

/* 300 body regexes (a set that takes a while to compile, during which the
 * first input is mapped and warmed) over 4 MB of requests, some of which
 * match: the same bytes, messages and stats at 1, 2 and 3 threads, with
 * the default chunks and small ones. */
Test(apply_threads, a_large_regex_set_matches_one_thread, .timeout = 600) {
    size_t cap = 1 << 16, n = 0;
    char *pol = malloc(cap);
    cr_assert_not_null(pol);
    n += (size_t)snprintf(pol + n, cap - n, "{\"policies\":[\n");
    for (int i = 0; i < 300; i++) {
        n += (size_t)snprintf(pol + n, cap - n,
                              "%s{\"id\":\"r%03d\",\"name\":\"n\",\"log\":{"
                              "\"match\":[{\"log_field\":\"body\",\"regex\":"
                              "\"w%d (after|in) [0-9]+ms on shard-%d\"}],"
                              "\"keep\":\"none\"}}\n",
                              i ? "," : "", i, i % 17, i);
    }
    n += (size_t)snprintf(pol + n, cap - n, "]}\n");
    cr_assert_lt(n, cap);
    put("p.json", pol, n);
    free(pol);
    size_t icap = 5 << 20, m = 0;
    char *in = malloc(icap);
    cr_assert_not_null(in);
    for (int i = 0; m + 512 < icap && i < 40000; i++) {
        m += (size_t)snprintf(
            in + m, icap - m,
            REQ(REC("INFO", "w%d after %dms on shard-%d") "," REC(
                "WARN", "w%d in 5ms on x%d")) "\n",
            i % 17, i % 1000, i % 400, i % 17, i);
    }
    put("in.json", in, m);
    free(in);
    cr_assert_geq(m, 4u << 20);
    int want = apply("one", "--threads 1", "in.json");
    cr_assert_eq(want, 0);
    static const char *const runs[] = {"--threads 2", "--threads 3",
                                       "--threads 2 --chunk-size 4096"};
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        cr_assert_eq(apply("n", runs[i], "in.json"), want, "%s", runs[i]);
        same_file("out.one", "out.n", runs[i]);
        same_file("err.one", "err.n", runs[i]);
        same_file("st.one", "st.n", runs[i]);
    }
    /* with the database cache: stored by the first run, loaded by the
     * next ones, the same bytes every time */
    static const char *const cached[] = {"--threads 1 --regex-cache hs",
                                         "--threads 2 --regex-cache hs",
                                         "--threads 3 --regex-cache hs"};
    for (size_t i = 0; i < sizeof(cached) / sizeof(cached[0]); i++) {
        cr_assert_eq(apply("n", cached[i], "in.json"), want, "%s", cached[i]);
        same_file("out.one", "out.n", cached[i]);
        same_file("err.one", "err.n", cached[i]);
        same_file("st.one", "st.n", cached[i]);
    }
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "test \"$(ls %s/hs | wc -l)\" = 1", dir);
    cr_assert_eq(system(cmd), 0, "one database stored");
    size_t len;
    char *s = slurp("st.one", &len);
    cr_assert(strstr(s, "\"policy_id\":\"r007\",\"hits\":"), "%s", s);
    free(s);
}

/* A set Vectorscan rejects only when it compiles it (each pattern alone
 * parses), while the first input is already mapped and being warmed: the
 * same message and exit status as one thread, and nothing written. */
Test(apply_threads, a_set_that_fails_to_compile_writes_nothing,
     .timeout = 300) {
    const char pol[] =
        "{\"policies\":[{\"id\":\"big\",\"name\":\"n\",\"log\":{\"match\":"
        "[{\"log_field\":\"body\",\"regex\":\"(ab|cd|ef){3000}\"}],\"keep\":"
        "\"none\"}},{\"id\":\"ok\",\"name\":\"n\",\"log\":{\"match\":[{"
        "\"log_field\":\"body\",\"regex\":\"tok_[0-9]+\"}],\"keep\":"
        "\"none\"}}]}";
    put("p.json", pol, strlen(pol));
    size_t cap = 4 << 20, n = 0;
    char *in = malloc(cap);
    cr_assert_not_null(in);
    while (n + 256 < cap) {
        n += (size_t)snprintf(in + n, cap - n, "%s\n",
                              REQ(REC("INFO", "a tok_1")));
    }
    put("in.json", in, n);
    free(in);
    cr_assert_eq(apply("one", "--threads 1", "in.json"), 1);
    cr_assert_eq(apply("n", "--threads 2", "in.json"), 1);
    same_file("err.one", "err.n", "compile error");
    size_t len;
    char *e = slurp("err.n", &len);
    cr_assert(strstr(e, "Pattern is too large"), "%s", e);
    free(e);
    free(slurp("out.n", &len));
    cr_assert_eq(len, 0, "nothing written");
}

/* A named pipe as the first input is read, not mapped ahead: a writer
 * already waiting on it keeps its reader (an early open and close would
 * leave it writing into a pipe with no reader). */
Test(apply_threads, a_fifo_input_with_a_waiting_writer, .timeout = 120) {
    put_policies();
    const char in[] = REQ(REC("INFO", "a tok_x")) "\n" REQ(
        REC("DEBUG", "b")) "\n" REQ(REC("WARN", "c")) "\n";
    put("in.json", in, strlen(in));
    cr_assert_eq(apply("one", "--threads 1", "in.json"), 0);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "cd %s && mkfifo fifo && (cat in.json > fifo &) && sleep 0.2 && "
             "timeout 60 %s apply --threads 2 --policies p.json fifo "
             "> out.f 2> err.f",
             dir, getenv("SLUICE_CLI"));
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%d", st);
    same_file("out.one", "out.f", "fifo");
}

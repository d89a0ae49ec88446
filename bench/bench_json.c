/* bench/bench_json.c: JSON reader and writer throughput on OTLP-like JSON
 * lines. Generates ~100 MB of records (or reads the file given as the first
 * argument), then times sl_doc_load_next over the whole stream (parse),
 * sl_json_write compact of every record (write), and both together with a
 * string change per record (round trip, what apply/redact do per record).
 * Prints MB/s of input per phase (thread CPU time), best of a few runs.
 * Usage: bench_json [FILE] [--mb N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/doc.h>

/* CPU time of this thread: the machine may be shared, and a busy
 * neighbour should not count against the parser. */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *grow(char *buf, size_t *cap, size_t need) {
    if (need <= *cap) {
        return buf;
    }
    while (*cap < need) {
        *cap = *cap ? *cap * 2 : 1 << 20;
    }
    char *p = realloc(buf, *cap);
    if (!p) {
        fprintf(stderr, "bench_json: out of memory\n");
        exit(1);
    }
    return p;
}

/* One OTLP logs export request per line, with a few records each. */
static char *generate(size_t target, size_t *len) {
    static const char *sev[] = {"INFO", "WARN", "ERROR", "DEBUG"};
    static const char *svc[] = {"checkout", "payments", "frontend", "cart"};
    size_t cap = 0, n = 0;
    char *buf = NULL;
    unsigned seed = 12345;
    char rec[4096];
    for (unsigned line = 0; n < target; line++) {
        buf = grow(buf, &cap, n + 16384);
        int k = snprintf(
            buf + n, cap - n,
            "{\"resourceLogs\":[{\"resource\":{\"attributes\":["
            "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"%s\"}},"
            "{\"key\":\"host.name\",\"value\":{\"stringValue\":"
            "\"node-%u.cluster.local\"}}]},\"scopeLogs\":[{\"scope\":"
            "{\"name\":\"io.opentelemetry.app\",\"version\":\"1.2.3\"},"
            "\"logRecords\":[",
            svc[line % 4], line % 97);
        n += (size_t)k;
        for (int r = 0; r < 4; r++) {
            seed = seed * 1103515245u + 12345u;
            int m = snprintf(
                rec, sizeof(rec),
                "%s{\"timeUnixNano\":\"17000000%010u\","
                "\"observedTimeUnixNano\":\"17000000%010u\","
                "\"severityNumber\":%u,\"severityText\":\"%s\","
                "\"body\":{\"stringValue\":\"user %u requested /api/v1/"
                "orders/%u with status \\\"ok\\\" in %u.%02u ms\"},"
                "\"attributes\":[{\"key\":\"http.method\",\"value\":"
                "{\"stringValue\":\"GET\"}},{\"key\":\"http.status_code\","
                "\"value\":{\"intValue\":\"200\"}},{\"key\":\"user.email\","
                "\"value\":{\"stringValue\":\"user%u@example.com\"}},"
                "{\"key\":\"duration\",\"value\":{\"doubleValue\":%u.%03u}}],"
                "\"traceId\":\"5b8efff798038103d269b633813fc60c\","
                "\"spanId\":\"eee19b7ec3c1b174\",\"flags\":1}",
                r ? "," : "", seed % 1000000000u, seed % 999999999u,
                9 + (seed >> 8) % 12, sev[(seed >> 4) % 4], seed % 100000,
                seed % 7919, seed % 500, seed % 100, seed % 100000, seed % 1000,
                seed % 1000);
            memcpy(buf + n, rec, (size_t)m);
            n += (size_t)m;
        }
        memcpy(buf + n, "]}]}]}\n", 7);
        n += 7;
    }
    *len = n;
    return buf;
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_json: cannot open %s\n", path);
        exit(1);
    }
    size_t cap = 0, n = 0;
    char *buf = NULL;
    for (;;) {
        buf = grow(buf, &cap, n + (1 << 20));
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) {
            break;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv) {
    const char *path = NULL;
    size_t mb = 100;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mb") == 0 && i + 1 < argc) {
            mb = (size_t)strtoul(argv[++i], NULL, 10);
        } else {
            path = argv[i];
        }
    }
    size_t len = 0;
    char *text = NULL;
    if (path) {
        text = read_all(path, &len);
    } else {
        text = generate(mb << 20, &len);
        FILE *f = fopen("/tmp/sluice-bench-json.jsonl", "wb");
        if (f) {
            fwrite(text, 1, len, f);
            fclose(f);
        }
    }
    double mbytes = (double)len / 1e6;
    sl_doc *doc = sl_doc_new();
    sl_buf out = {0};
    sl_error err = {0};
    double best_parse = 1e9, best_write = 1e9, best_rt = 1e9;
    size_t values = 0, out_bytes = 0;
    for (int run = 0; run < 3; run++) {
        /* parse only */
        size_t off = 0;
        values = 0;
        double t0 = now();
        for (;;) {
            sl_status rc =
                sl_doc_load_next(doc, text, len, &off, "bench", NULL, &err);
            if (rc == SL_ENOTFOUND) {
                break;
            }
            if (rc != SL_OK) {
                fprintf(stderr, "bench_json: %u:%u: %s\n", err.line, err.col,
                        err.msg);
                return 1;
            }
            values++;
        }
        double t1 = now();
        double parse_time = t1 - t0;
        if (parse_time < best_parse) {
            best_parse = parse_time;
        }
        /* write: parse + write, minus the parse time measured above (a
         * clock call per record would cost more than small writes) */
        off = 0;
        out_bytes = 0;
        t0 = now();
        while (sl_doc_load_next(doc, text, len, &off, "bench", NULL, &err) ==
               SL_OK) {
            out.len = 0;
            sl_json_write(&out, sl_doc_root(doc), SL_WRITE_COMPACT, &err);
            out_bytes += out.len;
        }
        double wtime = (now() - t0) - parse_time;
        if (wtime > 0 && wtime < best_write) {
            best_write = wtime;
        }
        /* parse + change one string + write, as apply/redact do */
        off = 0;
        t0 = now();
        while (sl_doc_load_next(doc, text, len, &off, "bench", NULL, &err) ==
               SL_OK) {
            sl_node *root = (sl_node *)sl_doc_root(doc);
            sl_node *rl =
                (sl_node *)sl_node_at(sl_node_get(root, "resourceLogs"), 0);
            sl_node *res = (sl_node *)sl_node_get(rl, "resource");
            sl_node *attrs = (sl_node *)sl_node_get(res, "attributes");
            sl_node *v = (sl_node *)sl_node_get(sl_node_at(attrs, 1), "value");
            sl_node *s = (sl_node *)sl_node_get(v, "stringValue");
            if (s) {
                sl_node_set_string(doc, s, "****", 4);
            }
            out.len = 0;
            sl_json_write(&out, root, SL_WRITE_COMPACT, &err);
            sl_buf_append(&out, "\n", 1);
        }
        t1 = now();
        if (t1 - t0 < best_rt) {
            best_rt = t1 - t0;
        }
    }
    printf("input: %.1f MB, %zu values%s\n", mbytes, values,
           path ? "" : " (generated; also in /tmp/sluice-bench-json.jsonl)");
    printf("parse:            %8.0f MB/s\n", mbytes / best_parse);
    printf("write (compact):  %8.0f MB/s of output (%.1f MB)\n",
           (double)out_bytes / 1e6 / best_write, (double)out_bytes / 1e6);
    printf("parse+edit+write: %8.0f MB/s\n", mbytes / best_rt);
    sl_buf_free(&out);
    sl_doc_free(doc);
    free(text);
    return 0;
}

/* bench/bench_toml.c: TOML reader throughput. Two generated inputs: a
 * config-like document (~20 MB of [[rule]] tables with dotted keys,
 * escaped and multi-line strings, arrays, inline tables, numbers and
 * dates) and one flat table with 200,000 keys (the hash index keeps key
 * lookup O(1); without it this input is quadratic). Times sl_doc_load and
 * sl_doc_write_tagged in CPU time (the machine is shared), best of five,
 * and prints MB/s of input.
 * Usage: bench_toml [--mb N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/doc.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void append(sl_buf *b, const char *s) {
    if (sl_buf_append(b, s, strlen(s)) != SL_OK) {
        fprintf(stderr, "bench_toml: out of memory\n");
        exit(1);
    }
}

static void config_like(sl_buf *b, size_t target) {
    char line[512];
    append(b, "# generated\ntitle = \"bench\"\n[meta]\nname.first = 'x'\n"
              "version = 1\n");
    for (unsigned i = 0; b->len < target; i++) {
        snprintf(line, sizeof(line),
                 "\n[[scope.rules]]\nselector = \"pkg:app.module_%u.*\"\n"
                 "exec = 'trace'\nreason = \"rule \\\"%u\\\" \\u00e9\"\n"
                 "limits.max_items = %u_000\nlimits.ratio = %u.25e-3\n"
                 "when = 2024-01-%02uT10:%02u:00Z\n"
                 "tags = [\"a\", \"b\", 'c', %u, 0x%x]\n"
                 "meta = {owner = \"team-%u\", level = %u, on = true}\n"
                 "note = \"\"\"\nline one\nline two \\\n   joined\"\"\"\n"
                 "[[scope.rules.value_patterns]]\nselector = 'local:*token*'\n"
                 "action = \"redact\"\n",
                 i, i, 1 + i % 999, i % 97, 1 + i % 28, i % 60, i, i, i % 31,
                 i % 5);
        append(b, line);
    }
}

static void flat(sl_buf *b, unsigned keys) {
    char line[64];
    append(b, "[big]\n");
    for (unsigned i = 0; i < keys; i++) {
        snprintf(line, sizeof(line), "key_%u = %u\n", i, i);
        append(b, line);
    }
}

static void run(const char *name, const sl_buf *in) {
    sl_doc *doc = sl_doc_new();
    sl_buf out = {0};
    double best_parse = 1e30, best_write = 1e30;
    for (int r = 0; r < 5; r++) {
        sl_error err = {0};
        double t0 = now();
        if (sl_doc_load(doc, in->ptr, in->len, SL_FORMAT_TOML, name, NULL,
                        &err) != SL_OK) {
            fprintf(stderr, "bench_toml: %s:%u:%u: %s\n", name, err.line,
                    err.col, err.msg);
            exit(1);
        }
        double t1 = now();
        out.len = 0;
        if (sl_doc_write_tagged(&out, sl_doc_root(doc), &err) != SL_OK) {
            fprintf(stderr, "bench_toml: write: %s\n", err.msg);
            exit(1);
        }
        double t2 = now();
        if (t1 - t0 < best_parse) {
            best_parse = t1 - t0;
        }
        if (t2 - t1 < best_write) {
            best_write = t2 - t1;
        }
    }
    double mb = (double)in->len / 1e6;
    printf("%-12s %7.1f MB  parse %8.1f MB/s (%.1f ms)  tagged write "
           "%8.1f MB/s\n",
           name, mb, mb / best_parse, best_parse * 1e3, mb / best_write);
    sl_buf_free(&out);
    sl_doc_free(doc);
}

int main(int argc, char **argv) {
    size_t mb = 20;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mb") == 0 && i + 1 < argc) {
            mb = (size_t)strtoul(argv[++i], NULL, 10);
        }
    }
    sl_buf a = {0}, b = {0};
    config_like(&a, mb * 1000 * 1000);
    flat(&b, 200000);
    run("config", &a);
    run("flat-200k", &b);
    sl_buf_free(&a);
    sl_buf_free(&b);
    return 0;
}

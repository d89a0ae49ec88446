/* bench/bench_otlp_load.c: the cost of loading one OTLP log request,
 * JSON against protobuf, on the `sluice apply` bench file (one record per
 * request, bench/gen_otlp_logs.py). Every line is encoded to protobuf
 * first (setup, not measured); then load_json() loads every line as JSON
 * and load_proto() every encoded request, each alone in its own function
 * so callgrind can count just it:
 *
 *   valgrind --tool=callgrind --toggle-collect=load_proto \
 *       build-release/bench/bench_otlp_load FILE
 *
 * gives protobuf load instructions (divide by the records printed). Run
 * plainly, it prints CPU ns per record of each, best of three.
 *
 * Usage: bench_otlp_load FILE   (release build: make release) */
#include <sluice/otlp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support/read_file.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Loads every JSON request of text; the records loaded. */
__attribute__((noinline)) static size_t load_json(sl_otlp *o, const char *text,
                                                  size_t len) {
    size_t off = 0, records = 0;
    sl_error err;
    while (sl_otlp_load(o, text, len, &off, "b.json", &err) == SL_OK) {
        records += sl_otlp_count(o);
    }
    return records;
}

/* Loads every protobuf request (lens[i] bytes each, back to back). */
__attribute__((noinline)) static size_t
load_proto(sl_otlp *o, const char *pb, const size_t *lens, size_t n) {
    size_t records = 0;
    sl_error err;
    for (size_t i = 0; i < n; i++) {
        if (sl_otlp_load_proto(o, SL_SIGNAL_LOG, pb, lens[i], "b.pb", &err) !=
            SL_OK) {
            fprintf(stderr, "bench_otlp_load: %s\n", err.msg);
            exit(1);
        }
        records += sl_otlp_count(o);
        pb += lens[i];
    }
    return records;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_otlp_load FILE\n");
        return 2;
    }
    size_t len = 0;
    char *text = read_file(argv[1], &len);
    if (!text) {
        fprintf(stderr, "bench_otlp_load: cannot read %s\n", argv[1]);
        return 1;
    }
    sl_otlp *o = sl_otlp_new();
    sl_buf pb = {0};
    size_t *lens = NULL, n = 0, cap = 0, off = 0;
    sl_error err;
    while (sl_otlp_load(o, text, len, &off, argv[1], &err) == SL_OK) {
        size_t before = pb.len;
        if (sl_otlp_write_proto(o, &pb, &err) != SL_OK) {
            fprintf(stderr, "bench_otlp_load: %s\n", err.msg);
            return 1;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            lens = realloc(lens, cap * sizeof(*lens));
            if (!lens) {
                return 1;
            }
        }
        lens[n++] = pb.len - before;
    }
    double best_json = 1e9, best_proto = 1e9;
    size_t rj = 0, rp = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t = now();
        rj = load_json(o, text, len);
        t = now() - t;
        best_json = t < best_json ? t : best_json;
        t = now();
        rp = load_proto(o, pb.ptr, lens, n);
        t = now() - t;
        best_proto = t < best_proto ? t : best_proto;
    }
    printf("otlp load: %zu requests, %zu records; JSON %.1f MB, protobuf %.1f "
           "MB\n",
           n, rj, (double)len / 1e6, (double)pb.len / 1e6);
    printf("  JSON load      %6.0f ns/record\n", best_json * 1e9 / (double)rj);
    printf("  protobuf load  %6.0f ns/record\n", best_proto * 1e9 / (double)rp);
    free(lens);
    sl_buf_free(&pb);
    sl_otlp_free(o);
    free(text);
    return 0;
}

/* bench/bench_serve_path.c: the work `sluice serve` does for one OTLP
 * export request, in process and without sockets: decode the protobuf
 * body, evaluate every record against a policy set with SL_POLICY_APPLY,
 * write the kept request as one OTLP/JSON line (--output's format). The
 * same steps as src/serve/pipeline.c, so instruction counts under
 * callgrind (run with two repeat counts and take the difference) give the
 * serve path's cost per record without the load generator's noise.
 *
 * Usage: bench_serve_path BODY.pb|BODY.json POLICIES.json [REPEATS] [PHASE]
 *   BODY.json (a name ending in .json): an OTLP/JSON request, loaded
 *   lazily for the policies' reads, as serve loads JSON bodies.
 *   PHASE: decode (decode + index only), eval (decode + policies) or all
 *   (default). Prints the records, the mean CPU ns per record over the
 *   repeats, and the kept records and JSON bytes of the last repeat. */
#include <sluice/otlp.h>
#include <sluice/policy.h>

#include <stdbool.h>
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

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_serve_path BODY.pb|BODY.json "
                        "POLICIES.json "
                        "[REPEATS] [decode|eval|all]\n");
        return 2;
    }
    long reps = argc > 3 ? strtol(argv[3], NULL, 10) : 100;
    const char *phase = argc > 4 ? argv[4] : "all";
    int upto = strcmp(phase, "decode") == 0 ? 0
               : strcmp(phase, "eval") == 0 ? 1
                                            : 2;
    size_t len;
    char *body = read_file(argv[1], &len);
    if (!body) {
        fprintf(stderr, "bench_serve_path: cannot read %s\n", argv[1]);
        return 1;
    }
    sl_error err = {0};
    sl_policy_set *set = NULL;
    const char *paths[1] = {argv[2]};
    if (sl_policy_load_files(paths, 1, NULL, &set, &err) != SL_OK) {
        fprintf(stderr, "bench_serve_path: %s\n", err.msg);
        return 1;
    }
    sl_policy_ctx *ctx = NULL;
    sl_otlp *o = sl_otlp_new();
    if (!o || sl_policy_ctx_new(set, &ctx, &err) != SL_OK) {
        return 1;
    }
    size_t plen = strlen(argv[1]);
    bool json = plen >= 5 && strcmp(argv[1] + plen - 5, ".json") == 0;
    if (json) {
        sl_policy_lazy_load(set, o, true);
    }
    sl_buf out = {0};
    size_t records = 0, kept = 0;
    double t0 = now();
    for (long r = 0; r < reps; r++) {
        sl_status lrc = json ? sl_otlp_load(o, body, len, NULL, "body", &err)
                             : sl_otlp_load_proto(o, SL_SIGNAL_LOG, body, len,
                                                  "body", &err);
        if (lrc != SL_OK) {
            fprintf(stderr, "bench_serve_path: %s\n", err.msg);
            return 1;
        }
        size_t n = sl_otlp_count(o);
        records += n;
        if (upto < 1) {
            continue;
        }
        kept = 0;
        for (size_t i = 0; i < n; i++) {
            sl_policy_result res;
            if (sl_policy_eval(ctx, o, i, SL_POLICY_APPLY, &res, &err) ==
                SL_OK) {
                kept += res.keep;
            }
        }
        if (upto < 2) {
            continue;
        }
        out.len = 0;
        if (sl_otlp_write(o, &out, &err) != SL_OK ||
            sl_buf_append(&out, "\n", 1) != SL_OK) {
            fprintf(stderr, "bench_serve_path: %s\n", err.msg);
            return 1;
        }
    }
    double t = now() - t0;
    printf("%s: %zu records, %.0f ns/record (CPU), %zu kept of the last "
           "request, %zu bytes of JSON\n",
           phase, records, records ? t * 1e9 / (double)records : 0.0, kept,
           out.len);
    sl_buf_free(&out);
    sl_otlp_free(o);
    sl_policy_ctx_free(ctx);
    sl_policy_set_free(set);
    free(body);
    return 0;
}

/* src/cli/cmd_bench.c: sluice bench --policies P --input I [--seconds S]
 * [--json]: measure the user's own policies on the user's own data. The
 * input (a stream of OTLP/JSON values) is parsed once; then only
 * evaluation runs (match, winner, decision, counters; no transforms, the
 * data is never changed), pass after pass, for S seconds (default 2).
 * --json prints {"records": N, "policies": N, "ns_per_record": X,
 * "records_per_s": Y}: records in the input, valid policies, total
 * evaluation time / evaluations made, and its inverse. Evaluation time is
 * the thread's CPU time (the loop runs on one core and never sleeps), so a
 * busy machine disturbs the figure less than wall time would. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "cli/policy_common.h"

enum {
    SL_BENCH_MAX_BATCHES = 1 << 20
};

static int usage(void) {
    fprintf(stderr, "usage: sluice bench --policies P [--policies P2 ...] "
                    "--input I [--seconds S] [--json]\n");
    return SL_EXIT_USAGE;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sl_cmd_bench(int argc, char **argv) {
    const char *policies[SL_CLI_MAX_POLICY_FILES];
    size_t npol = 0;
    const char *input = NULL;
    double seconds = 2.0;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--policies") == 0 && i + 1 < argc &&
            npol < SL_CLI_MAX_POLICY_FILES) {
            policies[npol++] = argv[++i];
        } else if (strcmp(a, "--input") == 0 && i + 1 < argc) {
            input = argv[++i];
        } else if (strcmp(a, "--seconds") == 0 && i + 1 < argc) {
            char *end = NULL;
            seconds = strtod(argv[++i], &end);
            if (!end || *end != '\0' || !(seconds > 0) || seconds > 3600) {
                return usage();
            }
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else {
            return usage();
        }
    }
    if (npol == 0 || !input) {
        return usage();
    }
    sl_policy_set *set = sl_cli_policy_load(policies, npol);
    if (!set) {
        return SL_EXIT_INPUT;
    }
    int status = SL_EXIT_INPUT;
    sl_error err = {0};
    char *text = NULL;
    size_t len = 0;
    sl_otlp **batches = NULL;
    size_t nb = 0, capb = 0;
    uint64_t records = 0;
    sl_policy_ctx *ctx = NULL;
    sl_status rc = sl__read_file(input, &text, &len, &err);
    size_t off = 0;
    while (rc == SL_OK) {
        if (nb == capb) {
            size_t nc = capb ? capb * 2 : 8;
            sl_otlp **p =
                nc > SL_BENCH_MAX_BATCHES
                    ? NULL
                    : sl__realloc(batches, capb * sizeof(*p), nc * sizeof(*p));
            if (!p) {
                rc = sl__error(&err, SL_ELIMIT, NULL, "too many values");
                break;
            }
            batches = p;
            capb = nc;
        }
        sl_otlp *o = sl_otlp_new();
        if (!o) {
            rc = sl__nomem(&err);
            break;
        }
        rc = sl_otlp_load(o, text, len, &off, input, &err);
        if (rc != SL_OK) {
            sl_otlp_free(o);
            break;
        }
        records += sl_otlp_count(o);
        batches[nb++] = o;
    }
    if (rc == SL_ENOTFOUND) {
        rc = SL_OK;
    }
    if (rc == SL_OK) {
        rc = sl_policy_ctx_new(set, &ctx, &err);
    }
    if (rc != SL_OK) {
        if (!err.msg[0]) {
            snprintf(err.msg, sizeof(err.msg), "%s", sl_status_str(rc));
        }
        sl_cli_print_error(&err);
        goto done;
    }
    uint64_t evals = 0;
    double start = now_s(), elapsed = 0;
    do {
        for (size_t b = 0; b < nb && rc == SL_OK; b++) {
            size_t n = sl_otlp_count(batches[b]);
            for (size_t i = 0; i < n && rc == SL_OK; i++) {
                rc = sl_policy_eval(ctx, batches[b], i, SL_POLICY_DECIDE, NULL,
                                    &err);
            }
            evals += n;
        }
        elapsed = now_s() - start;
    } while (rc == SL_OK && records > 0 && elapsed < seconds);
    if (rc != SL_OK) {
        sl_cli_print_error(&err);
        goto done;
    }
    double ns = evals ? elapsed * 1e9 / (double)evals : 0.0;
    double per_s = elapsed > 0 ? (double)evals / elapsed : 0.0;
    if (json) {
        printf("{\"records\": %llu, \"policies\": %zu, \"ns_per_record\": "
               "%.2f, \"records_per_s\": %.0f}\n",
               (unsigned long long)records, sl_policy_count(set), ns, per_s);
    } else {
        printf("%llu records, %zu policies: %.2f ns/record, %.0f "
               "records/s (%llu evaluations in %.2f s)\n",
               (unsigned long long)records, sl_policy_count(set), ns, per_s,
               (unsigned long long)evals, elapsed);
    }
    status = SL_EXIT_OK;
done:
    sl_policy_ctx_free(ctx);
    for (size_t b = 0; b < nb; b++) {
        sl_otlp_free(batches[b]);
    }
    sl__free(batches, capb * sizeof(*batches));
    if (text) {
        sl__free(text, len + 1);
    }
    sl_policy_set_free(set);
    return status;
}

/* bench/bench_policy.c: evaluation cost of the policy engine against the
 * number of policies (1, 10, 100, 1,000, 10,000), on a record that matches
 * and on one that does not. Policies mix exact / starts_with / contains /
 * regex matchers over the body, the severity text, a log attribute and a
 * resource attribute, so each field's pattern set holds a quarter of them.
 * Prints one table row per policy count (ns per record, one core). Times
 * are the thread's CPU time, so a busy shared machine inflates them less
 * than wall time would.
 * Usage: bench_policy [SECONDS_PER_CELL]
 *        bench_policy --one POLICIES RECORD ITERATIONS
 *   (one cell for a fixed count, untimed: for callgrind, as
 *   bench_policy_mix --one) */
#include <sluice/sluice.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const fields[] = {"\"log_field\":\"body\"",
                                     "\"log_field\":\"severity_text\"",
                                     "\"log_attribute\":\"http.route\"",
                                     "\"resource_attribute\":\"service.name\""};

/* Policy i: field i%4, matcher kind (i/4)%4. */
static void policy_json(sl_buf *b, int n) {
    char tmp[512];
    sl_buf_append(b, "{\"policies\":[", 13);
    for (int i = 0; i < n; i++) {
        const char *f = fields[i % 4];
        int len = 0;
        switch ((i / 4) % 4) {
        case 0:
            len = snprintf(tmp, sizeof(tmp), "\"exact\":\"v%d\"", i);
            break;
        case 1:
            len = snprintf(tmp, sizeof(tmp), "\"starts_with\":\"v%d-\"", i);
            break;
        case 2:
            len = snprintf(tmp, sizeof(tmp), "\"contains\":\"-v%d-\"", i);
            break;
        default:
            len = snprintf(tmp, sizeof(tmp), "\"regex\":\"^r%d[0-9]+x$\"", i);
            break;
        }
        char pol[768];
        int pl = snprintf(pol, sizeof(pol),
                          "%s{\"id\":\"p%05d\",\"name\":\"bench\",\"log\":"
                          "{\"match\":[{%s,%.*s}],\"keep\":\"%s\"}}",
                          i ? "," : "", i, f, len, tmp, i % 2 ? "none" : "all");
        sl_buf_append(b, pol, (size_t)pl);
    }
    sl_buf_append(b, "]}", 2);
}

/* Record 0 matches policies 0..3 (one per field; checked before timing);
 * record 1 matches none;
 * record 2 is record 1 with a 229-byte body (the second table: long values
 * cost what scanning them costs). */
static const char records[] =
    "{\"resourceLogs\":["
    "{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
    "{\"stringValue\":\"v3\"}}]},\"scopeLogs\":[{\"logRecords\":["
    "{\"severityText\":\"v1\",\"body\":{\"stringValue\":\"v0\"},"
    "\"attributes\":[{\"key\":\"http.route\",\"value\":{\"stringValue\":"
    "\"v2\"}}]}]}]},"
    "{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
    "{\"stringValue\":\"shop-api\"}}]},\"scopeLogs\":[{\"logRecords\":["
    "{\"severityText\":\"INFO\",\"body\":{\"stringValue\":"
    "\"GET /api/cart 200 12.5ms\"},\"attributes\":[{\"key\":\"http.route\","
    "\"value\":{\"stringValue\":\"/api/cart\"}}]}]}]},"
    "{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
    "{\"stringValue\":\"shop-api\"}}]},\"scopeLogs\":[{\"logRecords\":["
    "{\"severityText\":\"INFO\",\"body\":{\"stringValue\":"
    "\"GET /api/cart/items?id=42 200 12.5ms user=alice session=9f8e7d6c "
    "region=eu-west-1 bytes=5120 cache=hit agent=curl/8.1 "
    "host=shop.example.com trace=4bf92f3577b34da6a3ce929d0e0e4736 "
    "span=00f067aa0ba902b7 retry=0 pool=default shard=7\"},"
    "\"attributes\":[{\"key\":\"http.route\","
    "\"value\":{\"stringValue\":\"/api/cart\"}}]}]}]}]}";

static double measure(sl_policy_ctx *ctx, sl_otlp *o, size_t rec, double secs) {
    uint64_t n = 0;
    double start = now_s(), el = 0;
    do {
        for (int k = 0; k < 10000; k++) {
            if (sl_policy_eval(ctx, o, rec, SL_POLICY_DECIDE, NULL, NULL) !=
                SL_OK) {
                fprintf(stderr, "bench_policy: evaluation failed\n");
                exit(1);
            }
        }
        n += 10000;
        el = now_s() - start;
    } while (el < secs);
    return el * 1e9 / (double)n;
}

/* --one: load n policies, evaluate record rec iters times. */
static int one(sl_otlp *o, int n, size_t rec, long iters) {
    sl_buf b = {0};
    policy_json(&b, n);
    sl_doc *doc = sl_doc_new();
    sl_policy_set *set = NULL;
    sl_policy_ctx *ctx = NULL;
    sl_error err = {0};
    if (!doc ||
        sl_doc_load(doc, b.ptr, b.len, SL_FORMAT_JSON, "bench", NULL, &err) !=
            SL_OK ||
        sl_policy_load((const sl_doc *const *)&doc, 1, NULL, &set, &err) !=
            SL_OK ||
        sl_policy_ctx_new(set, &ctx, &err) != SL_OK) {
        fprintf(stderr, "bench_policy: %s\n", err.msg);
        return 1;
    }
    for (long k = 0; k < iters; k++) {
        sl_policy_eval(ctx, o, rec, SL_POLICY_DECIDE, NULL, NULL);
    }
    sl_policy_ctx_free(ctx);
    sl_policy_set_free(set);
    sl_doc_free(doc);
    sl_buf_free(&b);
    sl_otlp_free(o);
    return 0;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? strtod(argv[1], NULL) : 0.5;
    static const int counts[] = {1, 10, 100, 1000, 10000};
    sl_otlp *o = sl_otlp_new();
    sl_error err = {0};
    if (!o || sl_otlp_load(o, records, strlen(records), NULL, "records",
                           &err) != SL_OK) {
        fprintf(stderr, "bench_policy: records: %s\n", err.msg);
        return 1;
    }
    if (argc == 5 && strcmp(argv[1], "--one") == 0) {
        return one(o, (int)strtol(argv[2], NULL, 10),
                   (size_t)strtol(argv[3], NULL, 10),
                   strtol(argv[4], NULL, 10));
    }
    double long_ns[sizeof(counts) / sizeof(counts[0])];
    printf("%-9s %12s %14s %14s\n", "policies", "compile ms", "matching ns",
           "non-matching ns");
    for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
        sl_buf b = {0};
        policy_json(&b, counts[c]);
        sl_doc *doc = sl_doc_new();
        sl_policy_set *set = NULL;
        sl_policy_ctx *ctx = NULL;
        double t0 = now_s();
        if (!doc ||
            sl_doc_load(doc, b.ptr, b.len, SL_FORMAT_JSON, "bench", NULL,
                        &err) != SL_OK ||
            sl_policy_load((const sl_doc *const *)&doc, 1, NULL, &set, &err) !=
                SL_OK ||
            sl_policy_ctx_new(set, &ctx, &err) != SL_OK) {
            fprintf(stderr, "bench_policy: %s\n", err.msg);
            return 1;
        }
        double compile_ms = (now_s() - t0) * 1e3;
        if (sl_policy_problem_count(set)) {
            fprintf(stderr, "bench_policy: %s\n",
                    sl_policy_problem(set, 0)->msg);
            return 1;
        }
        /* the records do what the table says they do */
        for (size_t rec = 0; rec < 3; rec++) {
            sl_policy_result res;
            uint32_t want = rec ? 0 : (counts[c] < 4 ? (uint32_t)counts[c] : 4);
            if (sl_policy_eval(ctx, o, rec, SL_POLICY_DECIDE, &res, &err) !=
                    SL_OK ||
                res.matched != want) {
                fprintf(stderr,
                        "bench_policy: record %zu matched %u policies, not "
                        "%u\n",
                        rec, (unsigned)res.matched, (unsigned)want);
                return 1;
            }
        }
        double m = measure(ctx, o, 0, secs);
        double nm = measure(ctx, o, 1, secs);
        long_ns[c] = measure(ctx, o, 2, secs);
        printf("%-9d %12.1f %14.1f %14.1f\n", counts[c], compile_ms, m, nm);
        fflush(stdout);
        sl_policy_ctx_free(ctx);
        sl_policy_set_free(set);
        sl_doc_free(doc);
        sl_buf_free(&b);
    }
    printf("\n%-9s %27s\n", "policies", "non-matching, 229 B body ns");
    for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
        printf("%-9d %27.1f\n", counts[c], long_ns[c]);
    }
    sl_otlp_free(o);
    return 0;
}

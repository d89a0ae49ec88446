/* bench/bench_policy_mix.c: evaluation cost on the two policy shapes of
 * issue 11 (ns per record, one core, the thread's CPU time):
 *
 * 1. the shared-matcher mix: policy i tests one of body contains / body
 *    regex / http.route starts_with / service.name exact (i % 4), and a
 *    third of them (i % 3 == 0) also severity_text exact one of four values
 *    ((i / 3) % 4), so "INFO" is shared by a twelfth of all policies. At
 *    1, 100, 1,000 and 10,000 policies, on a record that matches (policy 0)
 *    and on one that matches none but has severity "INFO", each with a 50-
 *    and a 300-byte body.
 * 2. large pattern sets on long values: N policies each with one body
 *    contains (even i) or body regex (odd i), on bodies of 50 to 500 bytes
 *    that match none, and one that matches policy 0; then the same plus
 *    one regex without a required literal.
 *
 * Usage: bench_policy_mix [SECONDS_PER_CELL]
 *        bench_policy_mix --one mix|long|plain POLICIES RECORD ITERATIONS
 *   (one cell for a fixed count, no timing: for callgrind, where the
 *   instructions of ITERATIONS=N minus those of ITERATIONS=0, over N, are
 *   the instructions per record; RECORD indexes the table's records) */
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

static const char *const sev[] = {"INFO", "WARN", "ERROR", "DEBUG"};

static void append(sl_buf *b, const char *s, int n) {
    if (n < 0 || sl_buf_append(b, s, (size_t)n) != SL_OK) {
        fprintf(stderr, "bench_policy_mix: out of memory\n");
        exit(1);
    }
}

static void mix_policies(sl_buf *b, int n) {
    char pol[512];
    append(b, "{\"policies\":[", 13);
    for (int i = 0; i < n; i++) {
        char m[160];
        switch (i % 4) {
        case 0:
            snprintf(m, sizeof(m),
                     "{\"log_field\":\"body\",\"contains\":"
                     "\"tok%d-\"}",
                     i);
            break;
        case 1:
            snprintf(m, sizeof(m),
                     "{\"log_field\":\"body\",\"regex\":"
                     "\"req%d-[0-9]+x\"}",
                     i);
            break;
        case 2:
            snprintf(m, sizeof(m),
                     "{\"log_attribute\":\"http.route\","
                     "\"starts_with\":\"/r%d/\"}",
                     i);
            break;
        default:
            snprintf(m, sizeof(m),
                     "{\"resource_attribute\":\"service.name\","
                     "\"exact\":\"svc%d\"}",
                     i);
            break;
        }
        char s[96] = "";
        if (i % 3 == 0) {
            snprintf(s, sizeof(s),
                     ",{\"log_field\":\"severity_text\",\"exact\":\"%s\"}",
                     sev[(i / 3) % 4]);
        }
        int pl = snprintf(pol, sizeof(pol),
                          "%s{\"id\":\"p%05d\",\"log\":{\"match\":[%s%s],"
                          "\"keep\":\"%s\"}}",
                          i ? "," : "", i, m, s, i % 2 ? "none" : "all");
        append(b, pol, pl);
    }
    append(b, "]}", 2);
}

/* plain: one more policy whose regex has no required literal, a date
 * (a set of both kinds: before issue 11, two scans per value) */
static void long_policies(sl_buf *b, int n, bool plain) {
    char pol[512];
    append(b, "{\"policies\":[", 13);
    for (int i = 0; i < n; i++) {
        int pl = snprintf(pol, sizeof(pol),
                          i % 2 ? "%s{\"id\":\"p%05d\",\"log\":{\"match\":[{"
                                  "\"log_field\":\"body\",\"regex\":"
                                  "\"err%d=[0-9a-f]+;\"}],\"keep\":\"none\"}}"
                                : "%s{\"id\":\"p%05d\",\"log\":{\"match\":[{"
                                  "\"log_field\":\"body\",\"contains\":"
                                  "\"code-%d-x\"}],\"keep\":\"none\"}}",
                          i ? "," : "", i, i);
        append(b, pol, pl);
    }
    if (plain) {
        static const char q[] =
            ",{\"id\":\"zplain\",\"log\":{\"match\":[{\"log_field\":"
            "\"body\",\"regex\":\"\\\\d{4}-\\\\d{2}-\\\\d{2}\"}],\"keep\":"
            "\"none\"}}";
        append(b, q, (int)sizeof(q) - 1);
    }
    append(b, "]}", 2);
}

/* A body of len bytes: words of a realistic access log line, with tail
 * (when not NULL) at the end. */
static void body(char *out, size_t len, const char *tail) {
    static const char filler[] =
        "GET /api/cart/items?id=42 200 12.5ms user=alice session=9f8e7d6c "
        "region=eu-west-1 bytes=5120 cache=hit agent=curl/8.1 "
        "host=shop.example.com trace=4bf92f3577b34da6a3ce929d0e0e4736 "
        "span=00f067aa0ba902b7 retry=0 pool=default shard=7 ";
    size_t tl = tail ? strlen(tail) : 0;
    for (size_t k = 0; k < len; k++) {
        out[k] = filler[k % (sizeof(filler) - 1)];
    }
    if (tl && tl <= len) {
        memcpy(out + len - tl, tail, tl);
    }
    out[len] = '\0';
}

static void record(sl_buf *b, const char *severity, const char *bodytext,
                   const char *route, const char *service) {
    char tmp[1200];
    int n = snprintf(
        tmp, sizeof(tmp),
        "%s{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
        "{\"stringValue\":\"%s\"}}]},\"scopeLogs\":[{\"logRecords\":["
        "{\"severityText\":\"%s\",\"body\":{\"stringValue\":\"%s\"},"
        "\"attributes\":[{\"key\":\"http.route\",\"value\":{\"stringValue\":"
        "\"%s\"}}]}]}]}",
        b->len > 20 ? "," : "", service, severity, bodytext, route);
    append(b, tmp, n);
}

/* mix records: 0 matching 50 B, 1 non-matching 50 B, 2 matching 300 B,
 * 3 non-matching 300 B */
static void mix_records(sl_buf *b) {
    char body_text[600];
    append(b, "{\"resourceLogs\":[", 17);
    for (int r = 0; r < 4; r++) {
        body(body_text, r < 2 ? 50 : 300, r % 2 ? NULL : " tok0-");
        record(b, "INFO", body_text, "/api/cart", "shop-api");
    }
    append(b, "]}", 2);
}

static const int long_lens[] = {50, 150, 300, 500};

/* long records: 0..3 non-matching at long_lens, 4 matching (300 B) */
static void long_records(sl_buf *b) {
    char body_text[600];
    append(b, "{\"resourceLogs\":[", 17);
    for (int r = 0; r < 5; r++) {
        body(body_text, (size_t)(r < 4 ? long_lens[r] : 300),
             r < 4 ? NULL : " code-0-x");
        record(b, "INFO", body_text, "/api/cart", "shop-api");
    }
    append(b, "]}", 2);
}

typedef struct cell {
    sl_buf pol;
    sl_doc *doc;
    sl_policy_set *set;
    sl_policy_ctx *ctx;
    double compile_ms;
} cell;

/* table: 0 mix, 1 long, 2 long with one plain regex */
static void cell_open(cell *c, int table, int n) {
    sl_error err = {0};
    memset(c, 0, sizeof(*c));
    if (table == 0) {
        mix_policies(&c->pol, n);
    } else {
        long_policies(&c->pol, n, table == 2);
    }
    c->doc = sl_doc_new();
    double t0 = now_s();
    if (!c->doc ||
        sl_doc_load(c->doc, c->pol.ptr, c->pol.len, SL_FORMAT_JSON, "bench",
                    NULL, &err) != SL_OK ||
        sl_policy_load((const sl_doc *const *)&c->doc, 1, NULL, &c->set,
                       &err) != SL_OK ||
        sl_policy_ctx_new(c->set, &c->ctx, &err) != SL_OK) {
        fprintf(stderr, "bench_policy_mix: %s\n", err.msg);
        exit(1);
    }
    c->compile_ms = (now_s() - t0) * 1e3;
    if (sl_policy_problem_count(c->set)) {
        fprintf(stderr, "bench_policy_mix: %s\n",
                sl_policy_problem(c->set, 0)->msg);
        exit(1);
    }
}

static void cell_close(cell *c) {
    sl_policy_ctx_free(c->ctx);
    sl_policy_set_free(c->set);
    sl_doc_free(c->doc);
    sl_buf_free(&c->pol);
}

static void eval_n(sl_policy_ctx *ctx, sl_otlp *o, size_t rec, long n) {
    for (long k = 0; k < n; k++) {
        if (sl_policy_eval(ctx, o, rec, SL_POLICY_DECIDE, NULL, NULL) !=
            SL_OK) {
            fprintf(stderr, "bench_policy_mix: evaluation failed\n");
            exit(1);
        }
    }
}

static double measure(sl_policy_ctx *ctx, sl_otlp *o, size_t rec, double secs) {
    uint64_t n = 0;
    double start = now_s(), el = 0;
    do {
        eval_n(ctx, o, rec, 2000);
        n += 2000;
        el = now_s() - start;
    } while (el < secs);
    return el * 1e9 / (double)n;
}

/* The records do what the table says: matching ones match policy 0. */
static void check(const cell *c, sl_otlp *o, size_t rec, bool matches) {
    sl_policy_result res;
    sl_error err = {0};
    if (sl_policy_eval(c->ctx, o, rec, SL_POLICY_DECIDE, &res, &err) != SL_OK ||
        (matches ? res.policy != 0 : res.matched != 0)) {
        fprintf(stderr, "bench_policy_mix: record %zu: %u matched\n", rec,
                (unsigned)res.matched);
        exit(1);
    }
}

/* The batch borrows the text: b must outlive it. */
static sl_otlp *load_records(bool mix, sl_buf *b) {
    b->len = 0;
    if (mix) {
        mix_records(b);
    } else {
        long_records(b);
    }
    sl_otlp *o = sl_otlp_new();
    sl_error err = {0};
    if (!o || sl_otlp_load(o, b->ptr, b->len, NULL, "records", &err) != SL_OK) {
        fprintf(stderr, "bench_policy_mix: records: %s\n", err.msg);
        exit(1);
    }
    return o;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "--one") == 0) {
        int table = strcmp(argv[2], "mix") == 0    ? 0
                    : strcmp(argv[2], "long") == 0 ? 1
                                                   : 2;
        sl_buf text = {0};
        sl_otlp *o = load_records(table == 0, &text);
        cell c;
        cell_open(&c, table, (int)strtol(argv[3], NULL, 10));
        eval_n(c.ctx, o, (size_t)strtol(argv[4], NULL, 10),
               strtol(argv[5], NULL, 10));
        cell_close(&c);
        sl_otlp_free(o);
        sl_buf_free(&text);
        return 0;
    }
    double secs = argc > 1 ? strtod(argv[1], NULL) : 0.3;
    static const int counts[] = {1, 100, 1000, 10000};
    sl_buf text = {0};
    sl_otlp *o = load_records(true, &text);
    printf("shared-matcher mix, ns per record\n");
    printf("%-9s %10s %12s %12s %12s %12s\n", "policies", "compile ms",
           "match 50B", "miss 50B", "match 300B", "miss 300B");
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
        cell c;
        cell_open(&c, 0, counts[k]);
        double ns[4];
        for (size_t r = 0; r < 4; r++) {
            check(&c, o, r, r % 2 == 0);
        }
        for (size_t r = 0; r < 4; r++) {
            ns[r] = measure(c.ctx, o, r, secs);
        }
        printf("%-9d %10.1f %12.1f %12.1f %12.1f %12.1f\n", counts[k],
               c.compile_ms, ns[0], ns[1], ns[2], ns[3]);
        fflush(stdout);
        cell_close(&c);
    }
    sl_otlp_free(o);
    o = load_records(false, &text);
    for (int table = 1; table <= 2; table++) {
        printf("\nbody contains / regex pattern sets on long bodies%s, ns "
               "per record\n",
               table == 2 ? ", plus one regex without a literal" : "");
        printf("%-9s %10s %10s %10s %10s %10s %12s\n", "policies", "compile ms",
               "miss 50B", "miss 150B", "miss 300B", "miss 500B", "match 300B");
        for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
            cell c;
            cell_open(&c, table, counts[k]);
            double ns[5];
            for (size_t r = 0; r < 5; r++) {
                check(&c, o, r, r == 4);
                ns[r] = measure(c.ctx, o, r, secs);
            }
            printf("%-9d %10.1f %10.1f %10.1f %10.1f %10.1f %12.1f\n",
                   counts[k], c.compile_ms, ns[0], ns[1], ns[2], ns[3], ns[4]);
            fflush(stdout);
            cell_close(&c);
        }
    }
    sl_otlp_free(o);
    sl_buf_free(&text);
    return 0;
}

/* tests/policy/test_eval.c: evaluation on real OTLP batches: AND matching,
 * negation, the most-restrictive winner and its id tie-break, hit/miss
 * counters, log sampling by sample key, rate-limit windows on a fake
 * clock, transforms, typed matchers, and trace thresholds. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>

#include "policy/private.h"

static uint64_t fake_now;

static uint64_t fake_clock(void *ctx) {
    (void)ctx;
    return fake_now;
}

typedef struct fixture {
    sl_policy_set *set;
    sl_policy_ctx *ctx;
    sl_otlp *o;
} fixture;

static fixture setup(const char *policies, const char *otlp) {
    fixture f = {0};
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_assert_eq(sl_doc_load(doc, policies, strlen(policies), SL_FORMAT_JSON,
                             "p.json", NULL, &err),
                 SL_OK, "%s", err.msg);
    sl_policy_opts opts = {.clock = fake_clock};
    cr_assert_eq(
        sl_policy_load((const sl_doc *const *)&doc, 1, &opts, &f.set, &err),
        SL_OK, "%s", err.msg);
    cr_assert_eq(sl_policy_problem_count(f.set), 0, "%s",
                 sl_policy_problem(f.set, 0)->msg);
    sl_doc_free(doc);
    cr_assert_eq(sl_policy_ctx_new(f.set, &f.ctx, &err), SL_OK);
    f.o = sl_otlp_new();
    cr_assert_eq(sl_otlp_load(f.o, otlp, strlen(otlp), NULL, "in.json", &err),
                 SL_OK, "%s", err.msg);
    return f;
}

static void teardown(fixture *f) {
    sl_otlp_free(f->o);
    sl_policy_ctx_free(f->ctx);
    sl_policy_set_free(f->set);
}

static sl_policy_stats stats_of(const fixture *f, const char *id) {
    sl_policy_stats st = {0};
    for (size_t i = 0; i < sl_policy_count(f->set); i++) {
        if (strcmp(sl_policy_id(f->set, i), id) == 0) {
            sl_policy_stats_get(f->set, i, &st);
        }
    }
    return st;
}

static sl_policy_result eval(fixture *f, size_t i, unsigned flags) {
    sl_policy_result r;
    sl_error err = {0};
    cr_assert_eq(sl_policy_eval(f->ctx, f->o, i, flags, &r, &err), SL_OK, "%s",
                 err.msg);
    return r;
}

static char *written(const fixture *f) {
    static char text[8192];
    sl_buf b = {0};
    cr_assert_eq(sl_otlp_write(f->o, &b, NULL), SL_OK);
    cr_assert_lt(b.len, sizeof(text));
    memcpy(text, b.ptr, b.len);
    text[b.len] = '\0';
    sl_buf_free(&b);
    return text;
}

#define LOG(sev, body, attrs)                                         \
    "{\"severityText\":\"" sev "\",\"body\":{\"stringValue\":\"" body \
    "\"},\"attributes\":[" attrs "]}"
#define ATTR(k, v) "{\"key\":\"" k "\",\"value\":{\"stringValue\":\"" v "\"}}"
#define LOGS(recs)                                                        \
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[" ATTR(            \
        "service.name", "api") "]},\"scopeLogs\":[{\"logRecords\":[" recs \
                               "]}]}]}"

Test(eval, and_matching_and_negation) {
    fixture f = setup(
        "{\"policies\":[{\"id\":\"a\",\"name\":\"n\",\"log\":{\"match\":["
        "{\"log_field\":\"severity_text\",\"exact\":\"DEBUG\"},"
        "{\"log_field\":\"body\",\"contains\":\"cache\"},"
        "{\"log_attribute\":\"keep\",\"exists\":true,\"negate\":true}],"
        "\"keep\":\"none\"}}]}",
        LOGS(LOG("DEBUG", "cache hit", "") "," LOG(
            "DEBUG", "db query",
            "") "," LOG("DEBUG", "cache miss",
                        ATTR("keep", "1")) "," LOG("INFO", "cache hit", "")));
    cr_assert_eq(eval(&f, 0, 0).decision, SL_DECISION_DROP);
    cr_assert_eq(eval(&f, 1, 0).decision, SL_DECISION_NO_MATCH);
    cr_assert_eq(eval(&f, 2, 0).decision, SL_DECISION_NO_MATCH);
    cr_assert_eq(eval(&f, 3, 0).decision, SL_DECISION_NO_MATCH);
    cr_assert_eq(stats_of(&f, "a").hits, 1);
    teardown(&f);
}

Test(eval, only_negated_matchers_match_everything_else) {
    fixture f =
        setup("{\"policies\":[{\"id\":\"a\",\"name\":\"n\",\"log\":{\"match\":["
              "{\"log_field\":\"severity_text\",\"exact\":\"ERROR\",\"negate\":"
              "true}],\"keep\":\"none\"}}]}",
              LOGS(LOG("INFO", "x", "") "," LOG("ERROR", "y", "")));
    cr_assert_eq(eval(&f, 0, 0).decision, SL_DECISION_DROP);
    cr_assert_eq(eval(&f, 1, 0).decision, SL_DECISION_NO_MATCH);
    teardown(&f);
}

Test(eval, most_restrictive_wins_ties_to_smallest_id) {
    fixture f = setup(
        "{\"policies\":["
        "{\"id\":\"z-all\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
        "\"body\",\"exists\":true}],\"keep\":\"all\"}},"
        "{\"id\":\"b-none\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
        "\"body\",\"exists\":true}],\"keep\":\"none\"}},"
        "{\"id\":\"a-none\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
        "\"body\",\"exists\":true}],\"keep\":\"none\"}},"
        "{\"id\":\"c-rate\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
        "\"body\",\"exists\":true}],\"keep\":\"1/s\"}}]}",
        LOGS(LOG("INFO", "x", "")));
    sl_policy_result r = eval(&f, 0, 0);
    cr_assert_eq(r.decision, SL_DECISION_DROP);
    cr_assert_str_eq(sl_policy_id(f.set, r.policy), "a-none");
    cr_assert_eq(r.matched, 4);
    /* dropped: the winner a hit, every other matching policy a miss */
    cr_assert_eq(stats_of(&f, "a-none").hits, 1);
    cr_assert_eq(stats_of(&f, "b-none").misses, 1);
    cr_assert_eq(stats_of(&f, "c-rate").misses, 1);
    cr_assert_eq(stats_of(&f, "z-all").misses, 1);
    cr_assert_eq(stats_of(&f, "a-none").dropped, 1);
    teardown(&f);
}

Test(eval, kept_records_hit_every_matching_policy) {
    fixture f =
        setup("{\"policies\":["
              "{\"id\":\"a\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
              "\"body\",\"exists\":true}],\"keep\":\"all\"}},"
              "{\"id\":\"b\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
              "\"body\",\"exists\":true}],\"keep\":\"5/s\"}}]}",
              LOGS(LOG("INFO", "x", "")));
    sl_policy_result r = eval(&f, 0, 0);
    cr_assert_eq(r.decision, SL_DECISION_RATE_ALLOW);
    cr_assert_eq(stats_of(&f, "a").hits, 1);
    cr_assert_eq(stats_of(&f, "b").hits, 1);
    cr_assert_eq(stats_of(&f, "a").misses, 0);
    teardown(&f);
}

Test(eval, rate_limit_fixed_window_from_first_check) {
    fixture f =
        setup("{\"policies\":[{\"id\":\"r\",\"name\":\"n\",\"log\":{\"match\":["
              "{\"log_field\":\"body\",\"exists\":true}],\"keep\":\"2/5s\"}}]}",
              LOGS(LOG("INFO", "x", "")));
    const uint64_t s = 1000000000u;
    fake_now = 100 * s;
    cr_assert(eval(&f, 0, 0).keep);
    fake_now += s;
    cr_assert(eval(&f, 0, 0).keep);
    cr_assert_not(eval(&f, 0, 0).keep); /* third in the window */
    fake_now = 100 * s + 5 * s - 1;
    cr_assert_not(eval(&f, 0, 0).keep); /* window not over yet */
    fake_now = 105 * s;                 /* window over: a new one starts now */
    cr_assert_eq(eval(&f, 0, 0).decision, SL_DECISION_RATE_ALLOW);
    cr_assert(eval(&f, 0, 0).keep);
    cr_assert_eq(eval(&f, 0, 0).decision, SL_DECISION_RATE_DENY);
    sl_policy_stats st = stats_of(&f, "r");
    cr_assert_eq(st.hits, 7);
    cr_assert_eq(st.rate_limited, 3);
    cr_assert_eq(st.kept, 4);
    teardown(&f);
}

Test(eval, log_sampling_by_sample_key) {
    /* "request-123": FNV-1a 64 masked 0x8e0a3e1b2b7513 >= T(50%)
     * 0x80000000000000: kept; at 40% T = 0x99999999999998: dropped */
    fixture f = setup(
        "{\"policies\":["
        "{\"id\":\"s50\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
        "\"severity_text\",\"exact\":\"A\"}],\"keep\":\"50%\","
        "\"sample_key\":{\"log_attribute\":\"rid\"}}},"
        "{\"id\":\"s40\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
        "\"severity_text\",\"exact\":\"B\"}],\"keep\":\"40%\","
        "\"sample_key\":{\"log_attribute\":\"rid\"}}}]}",
        LOGS(LOG("A", "x", ATTR("rid", "request-123")) "," LOG(
            "B", "x",
            ATTR("rid",
                 "request-123")) "," LOG("B", "x",
                                         ATTR("other",
                                              "1")) "," LOG("A", "x",
                                                            ATTR("rid",
                                                                 "0af7651916cd4"
                                                                 "3dd8448eb211c"
                                                                 "80319c"))));
    cr_assert_eq(eval(&f, 0, 0).decision, SL_DECISION_SAMPLE_KEEP);
    cr_assert_eq(eval(&f, 1, 0).decision, SL_DECISION_SAMPLE_DROP);
    /* no sample key value: kept */
    cr_assert_eq(eval(&f, 2, 0).decision, SL_DECISION_SAMPLE_KEEP);
    /* a trace id: its last 14 hex digits, 0x48eb211c80319c < T: dropped */
    cr_assert_eq(eval(&f, 3, 0).decision, SL_DECISION_SAMPLE_DROP);
    cr_assert_eq(stats_of(&f, "s40").sampled_out, 1);
    teardown(&f);
}

Test(eval, transforms_in_id_order_only_when_kept) {
    fixture f = setup(
        "{\"policies\":["
        "{\"id\":\"b\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
        "\"body\",\"exists\":true}],\"keep\":\"all\",\"transform\":{"
        "\"add\":[{\"log_attribute\":\"who\",\"value\":\"b\",\"upsert\":"
        "true}]}}},"
        "{\"id\":\"a\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
        "\"body\",\"exists\":true}],\"keep\":\"all\",\"transform\":{"
        "\"add\":[{\"log_attribute\":\"who\",\"value\":\"a\"}],"
        "\"remove\":[{\"log_attribute\":\"secret\"}],"
        "\"rename\":[{\"from_log_attribute\":\"usr\",\"to\":\"user\"}]}}},"
        "{\"id\":\"d\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
        "\"severity_text\",\"exact\":\"DEBUG\"}],\"keep\":\"none\","
        "\"transform\":{\"add\":[{\"log_attribute\":\"never\",\"value\":"
        "\"x\"}]}}}]}",
        LOGS(LOG("INFO", "hello",
                 ATTR("secret", "s") "," ATTR(
                     "usr", "u")) "," LOG("DEBUG", "dropped", "")));
    sl_policy_result r = eval(&f, 0, SL_POLICY_APPLY);
    cr_assert(r.keep);
    cr_assert_eq(r.transforms, 4);
    r = eval(&f, 1, SL_POLICY_APPLY);
    cr_assert_not(r.keep);
    const char *out = written(&f);
    cr_assert_null(strstr(out, "secret"));
    cr_assert_null(strstr(out, "never"));
    cr_assert_null(strstr(out, "dropped"));
    /* a added who=a, then b (later id) overwrote it with upsert */
    cr_assert(strstr(out, "{\"key\":\"who\",\"value\":{\"stringValue\":"
                          "\"b\"}}"),
              "%s", out);
    cr_assert(strstr(out, "\"key\":\"user\""), "%s", out);
    teardown(&f);
}

Test(eval, typed_matchers_on_attribute_values) {
    fixture f =
        setup("{\"policies\":[{\"id\":\"t\",\"name\":\"n\",\"log\":{\"match\":["
              "{\"log_attribute\":\"status\",\"gte\":500},"
              "{\"log_attribute\":\"ratio\",\"lt\":0.5}],\"keep\":\"none\"}}]}",
              LOGS("{\"body\":{\"stringValue\":\"a\"},\"attributes\":["
                   "{\"key\":\"status\",\"value\":{\"intValue\":\"503\"}},"
                   "{\"key\":\"ratio\",\"value\":{\"doubleValue\":0.25}}]},"
                   "{\"body\":{\"stringValue\":\"b\"},\"attributes\":["
                   "{\"key\":\"status\",\"value\":{\"intValue\":200}},"
                   "{\"key\":\"ratio\",\"value\":{\"doubleValue\":0.25}}]},"
                   "{\"body\":{\"stringValue\":\"c\"},\"attributes\":["
                   "{\"key\":\"status\",\"value\":{\"stringValue\":\"503\"}},"
                   "{\"key\":\"ratio\",\"value\":{\"intValue\":0}}]}"));
    cr_assert_eq(eval(&f, 0, 0).decision, SL_DECISION_DROP);
    cr_assert_eq(eval(&f, 1, 0).decision, SL_DECISION_NO_MATCH);
    cr_assert_eq(eval(&f, 2, 0).decision, SL_DECISION_NO_MATCH);
    teardown(&f);
}

#define SPANS(spans) \
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" spans "]}]}]}"
#define SPAN(tid, ts)                                                    \
    "{\"traceId\":\"" tid "\",\"spanId\":\"0102030405060708\",\"name\":" \
    "\"s\",\"traceState\":\"" ts "\"}"

Test(eval, trace_threshold_written_on_keep) {
    fixture f = setup(
        "{\"policies\":[{\"id\":\"t\",\"name\":\"n\",\"trace\":{\"match\":["
        "{\"trace_field\":\"name\",\"exact\":\"s\"}],\"keep\":{"
        "\"percentage\":50}}}]}",
        SPANS(SPAN("00000000000000000180000000000000", "vendor=1") "," SPAN(
            "0000000000000000147fffffffffffff",
            "") "," SPAN("00000000000000000000000000000001",
                         "ot=rv:ff") "," SPAN("", "")));
    cr_assert(eval(&f, 0, SL_POLICY_APPLY).keep); /* R == T keeps */
    cr_assert_not(eval(&f, 1, SL_POLICY_APPLY).keep);
    cr_assert(eval(&f, 2, SL_POLICY_APPLY).keep);     /* rv wins over the id */
    cr_assert_not(eval(&f, 3, SL_POLICY_APPLY).keep); /* fail closed */
    const char *out = written(&f);
    cr_assert(strstr(out, "ot=th:8,vendor=1"), "%s", out);
    cr_assert(strstr(out, "ot=rv:ff;th:8"), "%s", out);
    teardown(&f);
}

Test(eval, metric_keep_false_drops) {
    fixture f = setup(
        "{\"policies\":[{\"id\":\"m\",\"name\":\"n\",\"metric\":{\"match\":["
        "{\"metric_type\":\"gauge\"}],\"keep\":false}}]}",
        "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":["
        "{\"name\":\"g\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"1\"}]}},"
        "{\"name\":\"s\",\"sum\":{\"dataPoints\":[{\"asInt\":\"1\"}]}}]}]}]}");
    cr_assert_eq(eval(&f, 0, 0).decision, SL_DECISION_DROP);
    cr_assert_eq(eval(&f, 1, 0).decision, SL_DECISION_NO_MATCH);
    teardown(&f);
}

Test(eval, disabled_policies_never_match) {
    fixture f =
        setup("{\"policies\":[{\"id\":\"d\",\"name\":\"n\",\"enabled\":false,"
              "\"log\":{\"match\":[{\"log_field\":\"body\",\"exists\":true}],"
              "\"keep\":\"none\"}}]}",
              LOGS(LOG("INFO", "x", "")));
    cr_assert_eq(eval(&f, 0, 0).decision, SL_DECISION_NO_MATCH);
    cr_assert_eq(stats_of(&f, "d").hits, 0);
    teardown(&f);
}

Test(eval, many_policies_share_one_scan) {
    char *p = malloc(1 << 20);
    size_t n = 0;
    n += (size_t)snprintf(p + n, 64, "{\"policies\":[");
    for (int i = 0; i < 2000; i++) {
        n += (size_t)snprintf(
            p + n, 256,
            "%s{\"id\":\"p%04d\",\"name\":\"n\",\"log\":{\"match\":[{"
            "\"log_field\":\"body\",\"%s\":\"v%d\"}],\"keep\":\"none\"}}",
            i ? "," : "", i, i % 2 ? "starts_with" : "exact", i);
    }
    snprintf(p + n, 8, "]}");
    fixture f =
        setup(p, LOGS(LOG("INFO", "v1234", "") "," LOG("INFO", "v7", "")));
    free(p);
    sl_policy_result r = eval(&f, 0, 0);
    /* exact v1234 (p1234), prefixes v1 (p0001), v123 (p0123) */
    cr_assert_eq(r.matched, 3);
    cr_assert_str_eq(sl_policy_id(f.set, r.policy), "p0001");
    r = eval(&f, 1, 0);
    cr_assert_eq(r.matched, 1);
    cr_assert_str_eq(sl_policy_id(f.set, r.policy), "p0007");
    teardown(&f);
}

/* The literal tables' filters (pattern lengths, first / last grams) never
 * hide a match: exact, starts_with and ends_with of lengths 1 to 70, with
 * and without case, against a naive comparison on values of every length
 * around them. */
static bool lit_match(int kind, bool ci, const char *pat, const char *v) {
    size_t pl = strlen(pat), vl = strlen(v);
    if (kind == 0 ? vl != pl : vl < pl) {
        return false;
    }
    const char *s = kind == 2 ? v + vl - pl : v;
    for (size_t i = 0; i < pl; i++) {
        char a = pat[i], b = s[i];
        if (ci) {
            a = (char)(a >= 'A' && a <= 'Z' ? a + 32 : a);
            b = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
        }
        if (a != b) {
            return false;
        }
    }
    return true;
}

Test(eval, literal_table_filters_never_hide_a_match) {
    /* exact and starts_with patterns come from the front of head, ends_with
     * ones from the end of tail; values are a piece of head's front, then
     * for some a piece of tail's end, so every table sees hits and misses */
    static const char head[] = "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789-/."
                               "qWeRtYuIoPaSdFgHjKlZxCvBnM9182736450,";
    static const char tail[] = "AbCdEfGhIjKlMnOpQrStUvWxYz9876543210_:!";
    enum {
        H = sizeof(head) - 1,
        T = sizeof(tail) - 1,
        NP = 150,
        NV = 80
    };
    static const char *kinds[] = {"exact", "starts_with", "ends_with"};
    static char pats[NP][80];
    static char vals[NV][128];
    char *p = malloc(1 << 20);
    size_t n = (size_t)snprintf(p, 64, "{\"policies\":[");
    for (int i = 0; i < NP; i++) {
        if (i % 3 == 2) { /* 6..T bytes ending at tail's end or one before */
            int len = 6 + (i * 7) % (T - 6), off = T - len - (i / 6) % 2;
            memcpy(pats[i], tail + off, (size_t)len);
            pats[i][len] = '\0';
        } else {
            int len = 1 + (i * 7) % H;
            memcpy(pats[i], head, (size_t)len);
            pats[i][len] = '\0';
        }
        n += (size_t)snprintf(p + n, 400,
                              "%s{\"id\":\"p%03d\",\"name\":\"n\",\"log\":{"
                              "\"match\":[{\"log_field\":\"body\",\"%s\":"
                              "\"%s\",\"case_insensitive\":%s}],"
                              "\"keep\":\"all\"}}",
                              i ? "," : "", i, kinds[i % 3], pats[i],
                              (i / 3) % 2 ? "true" : "false");
    }
    snprintf(p + n, 8, "]}");
    sl_buf recs = {0};
    static const char open[] =
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[";
    sl_buf_append(&recs, open, sizeof(open) - 1);
    for (int k = 0; k < NV; k++) {
        int a = 1 + (k * 7) % H, b = k % 2 ? (k * 5) % (T - 1) : 0;
        int shift = (k / 2) % 2;
        memcpy(vals[k], head, (size_t)a);
        memcpy(vals[k] + a, tail + T - b - shift, (size_t)b);
        vals[k][a + b] = '\0';
        if (k % 5 == 0) { /* flip case, keep the other bytes */
            for (int c = 0; c < a + b; c++) {
                char ch = vals[k][c];
                vals[k][c] = (char)(ch >= 'a' && ch <= 'z'   ? ch - 32
                                    : ch >= 'A' && ch <= 'Z' ? ch + 32
                                                             : ch);
            }
        }
        char rec[300];
        int rl = snprintf(rec, sizeof(rec),
                          "%s{\"severityText\":\"INFO\",\"body\":{"
                          "\"stringValue\":\"%s\"}}",
                          k ? "," : "", vals[k]);
        sl_buf_append(&recs, rec, (size_t)rl);
    }
    sl_buf_append(&recs, "]}]}]}", 6);
    sl_buf_append(&recs, "", 1);
    fixture f = setup(p, recs.ptr); /* the batch borrows recs */
    free(p);
    size_t total[3] = {0};
    for (int k = 0; k < NV; k++) {
        sl_policy_stats_reset(f.set);
        sl_policy_result r = eval(&f, (size_t)k, 0);
        size_t want = 0;
        for (int i = 0; i < NP; i++) {
            bool m = lit_match(i % 3, (i / 3) % 2, pats[i], vals[k]);
            want += m;
            total[i % 3] += m;
            cr_expect_eq(stats_of(&f, sl_policy_id(f.set, (size_t)i)).hits,
                         m ? 1u : 0u, "policy %s %s \"%s\" on \"%s\"",
                         sl_policy_id(f.set, (size_t)i), kinds[i % 3], pats[i],
                         vals[k]);
        }
        cr_expect_eq(r.matched, want, "value \"%s\"", vals[k]);
    }
    for (int t = 0; t < 3; t++) {
        cr_expect_gt(total[t], 8, "%s: too few hits to test", kinds[t]);
    }
    teardown(&f);
    sl_buf_free(&recs);
}

static void assert_stats(const fixture *f, const char *id,
                         sl_policy_stats want) {
    sl_policy_stats got = stats_of(f, id);
    cr_assert_eq(got.hits, want.hits, "%s hits %lu", id,
                 (unsigned long)got.hits);
    cr_assert_eq(got.misses, want.misses, "%s misses", id);
    cr_assert_eq(got.kept, want.kept, "%s kept %lu", id,
                 (unsigned long)got.kept);
    cr_assert_eq(got.dropped, want.dropped, "%s dropped", id);
    cr_assert_eq(got.sampled_out, want.sampled_out, "%s sampled_out", id);
    cr_assert_eq(got.rate_limited, want.rate_limited, "%s rate_limited", id);
    cr_assert_eq(got.transformed, want.transformed, "%s transformed %lu", id,
                 (unsigned long)got.transformed);
    cr_assert_eq(got.transform_failed, want.transform_failed,
                 "%s transform_failed", id);
}

/* (a+)+$ against "aaa...ab" runs into PCRE2's match limit: the record is
 * dropped, and the counters say so: the winner counts it as
 * transform_failed (not kept), the other matching policy a miss (the
 * dropped rule), and the add that did run before the failure is not
 * counted as a change, since the record never came out. */
Test(eval, failed_transform_counts_as_failed_not_kept) {
    fixture f = setup(
        "{\"policies\":["
        "{\"id\":\"a-tag\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
        "\"body\",\"exists\":true}],\"keep\":\"all\",\"transform\":{"
        "\"add\":[{\"log_attribute\":\"tag\",\"value\":\"1\"}]}}},"
        "{\"id\":\"r-redact\",\"name\":\"n\",\"log\":{\"match\":[{\"log_"
        "field\":\"body\",\"exists\":true}],\"keep\":\"10/s\",\"transform\":{"
        "\"redact\":[{\"log_field\":\"body\",\"regex\":\"(a+)+$\","
        "\"replacement\":\"X\"}]}}}]}",
        LOGS(LOG("INFO", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
                 "") "," LOG("INFO", "aaa", "")));
    fake_now = 1;
    sl_policy_result r;
    sl_error err = {0};
    cr_assert_eq(sl_policy_eval(f.ctx, f.o, 0, SL_POLICY_APPLY, &r, &err),
                 SL_ELIMIT);
    cr_assert(strstr(err.msg, "policy r-redact: transform failed"), "%s",
              err.msg);
    cr_assert_eq(r.decision, SL_DECISION_FAILED);
    cr_assert_not(r.keep);
    cr_assert_str_eq(sl_policy_id(f.set, r.policy), "r-redact");
    cr_assert_eq(r.transforms, 0);
    assert_stats(&f, "r-redact",
                 (sl_policy_stats){.hits = 1, .transform_failed = 1});
    assert_stats(&f, "a-tag", (sl_policy_stats){.misses = 1});
    sl_policy_stage_stats none = {0};
    sl_policy_stage_stats got = {0};
    sl_policy_stage_stats_get(f.set, sl_policy_find(f.set, "a-tag"), &got);
    cr_assert_eq(memcmp(&got, &none, sizeof(got)), 0,
                 "a failed record counts no stage");
    /* the next record redacts fine: kept, both policies change it */
    r = eval(&f, 1, SL_POLICY_APPLY);
    cr_assert_eq(r.decision, SL_DECISION_RATE_ALLOW);
    cr_assert_eq(r.transforms, 2);
    assert_stats(
        &f, "r-redact",
        (sl_policy_stats){
            .hits = 2, .kept = 1, .transformed = 1, .transform_failed = 1});
    assert_stats(&f, "a-tag",
                 (sl_policy_stats){.hits = 1, .misses = 1, .transformed = 1});
    const char *out = written(&f);
    cr_assert_null(strstr(out, "aab"), "%s", out);
    cr_assert(strstr(out, "\"stringValue\":\"X\""), "%s", out);
    teardown(&f);
}

static sl_policy_stage_stats stages_of(const fixture *f, const char *id) {
    sl_policy_stage_stats st = {0};
    size_t i = sl_policy_find(f->set, id);
    cr_assert_neq(i, SIZE_MAX, "no policy %s", id);
    sl_policy_stage_stats_get(f->set, i, &st);
    return st;
}

/* Each operation of a stage is a hit when it changed the kept record, a
 * miss when it selected nothing; a dropped record runs no transforms and
 * counts nothing; reset clears the stage counters too. */
Test(eval, stage_counters_count_each_operation_as_hit_or_miss) {
    fixture f = setup(
        "{\"policies\":[{\"id\":\"t\",\"name\":\"n\",\"log\":{\"match\":[{"
        "\"log_field\":\"severity_text\",\"exact\":\"INFO\"}],\"keep\":"
        "\"all\",\"transform\":{"
        "\"remove\":[{\"log_attribute\":\"a\"},{\"log_attribute\":\"nope\"}],"
        "\"redact\":[{\"log_field\":\"body\",\"regex\":\"secret\","
        "\"replacement\":\"X\"}],"
        "\"rename\":[{\"from_log_attribute\":\"b\",\"to\":\"c\"}],"
        "\"add\":[{\"log_attribute\":\"d\",\"value\":\"1\"},"
        "{\"log_attribute\":\"e\",\"value\":\"2\"}]}}},"
        "{\"id\":\"z-drop\",\"name\":\"n\",\"log\":{\"match\":[{"
        "\"log_field\":\"severity_text\",\"exact\":\"DEBUG\"}],\"keep\":"
        "\"none\",\"transform\":{\"add\":[{\"log_attribute\":\"d\","
        "\"value\":\"1\"}]}}}]}",
        LOGS(LOG("INFO", "a secret",
                 ATTR("a", "1") "," ATTR("b", "2") "," ATTR(
                     "e", "3")) "," LOG("INFO", "plain", "") "," LOG("DEBUG",
                                                                     "x", "")));
    eval(&f, 0, SL_POLICY_APPLY);
    sl_policy_stage_stats st = stages_of(&f, "t");
    cr_assert_eq(st.hits[SL_STAGE_REMOVE], 1);
    cr_assert_eq(st.misses[SL_STAGE_REMOVE], 1);
    cr_assert_eq(st.hits[SL_STAGE_REDACT], 1);
    cr_assert_eq(st.misses[SL_STAGE_REDACT], 0);
    cr_assert_eq(st.hits[SL_STAGE_RENAME], 1);
    cr_assert_eq(st.hits[SL_STAGE_ADD], 1);
    cr_assert_eq(st.misses[SL_STAGE_ADD], 1, "add without upsert: e exists");
    cr_assert_eq(stats_of(&f, "t").transformed, 4);
    /* nothing to remove, redact or rename; d is added, e too */
    eval(&f, 1, SL_POLICY_APPLY);
    st = stages_of(&f, "t");
    cr_assert_eq(st.hits[SL_STAGE_REMOVE], 1);
    cr_assert_eq(st.misses[SL_STAGE_REMOVE], 3);
    cr_assert_eq(st.misses[SL_STAGE_REDACT], 1);
    cr_assert_eq(st.misses[SL_STAGE_RENAME], 1);
    cr_assert_eq(st.hits[SL_STAGE_ADD], 3);
    cr_assert_eq(st.misses[SL_STAGE_ADD], 1);
    /* dropped: no transform ran */
    eval(&f, 2, SL_POLICY_APPLY);
    st = stages_of(&f, "z-drop");
    cr_assert_eq(st.hits[SL_STAGE_ADD] + st.misses[SL_STAGE_ADD], 0);
    sl_policy_stats_reset(f.set);
    st = stages_of(&f, "t");
    for (int s = 0; s < SL_STAGE_COUNT; s++) {
        cr_assert_eq(st.hits[s] + st.misses[s], 0, "stage %d after reset", s);
    }
    teardown(&f);
}

Test(eval, decide_only_never_counts_a_failure) {
    fixture f = setup(
        "{\"policies\":[{\"id\":\"r\",\"name\":\"n\",\"log\":{\"match\":[{"
        "\"log_field\":\"body\",\"exists\":true}],\"transform\":{"
        "\"redact\":[{\"log_field\":\"body\",\"regex\":\"(a+)+$\","
        "\"replacement\":\"X\"}]}}}]}",
        LOGS(LOG("INFO", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "")));
    cr_assert_eq(eval(&f, 0, SL_POLICY_DECIDE).decision, SL_DECISION_KEEP);
    assert_stats(&f, "r", (sl_policy_stats){.hits = 1, .kept = 1});
    teardown(&f);
}

Test(eval, rename_from_nested_attribute_targets_top_level_key) {
    /* reference §4 rename: target = same namespace + key `to`; the
     * source's inner sibling of that name is neither checked nor touched */
    fixture f = setup(
        "{\"policies\":[{\"id\":\"r\",\"name\":\"n\",\"log\":{\"match\":[{"
        "\"log_field\":\"body\",\"exists\":true}],\"keep\":\"all\","
        "\"transform\":{\"rename\":[{\"from_log_attribute\":[\"http\","
        "\"method\"],\"to\":\"verb\"}]}}}]}",
        LOGS(LOG("INFO", "moved",
                 "{\"key\":\"http\",\"value\":{\"kvlistValue\":{\"values\":["
                 "{\"key\":\"method\",\"value\":{\"stringValue\":\"GET\"}},"
                 "{\"key\":\"verb\",\"value\":{\"stringValue\":\"inner\"}}"
                 "]}}}," ATTR(
                     "x", "y")) "," LOG("INFO", "blocked",
                                        "{\"key\":\"http\",\"value\":"
                                        "{\"kvlistValue\":{\"values\":"
                                        "[{\"key\":\"method\",\"value\":"
                                        "{\"stringValue\":\"PUT\"}}]}}}," ATTR(
                                            "verb", "top"))));
    sl_policy_result r = eval(&f, 0, SL_POLICY_APPLY);
    cr_assert_eq(r.transforms, 1);
    r = eval(&f, 1, SL_POLICY_APPLY);
    cr_assert_eq(r.transforms, 0); /* top-level verb exists, no upsert */
    const char *out = written(&f);
    cr_assert(strstr(out, "\"values\":[{\"key\":\"verb\",\"value\":{"
                          "\"stringValue\":\"inner\"}}]}}}," ATTR(
                              "x", "y") "," ATTR("verb", "GET") "]"),
              "%s", out);
    cr_assert(
        strstr(out, "{\"stringValue\":\"PUT\"}}]}}}," ATTR("verb", "top") "]"),
        "%s", out);
    teardown(&f);
}

/* event_attribute and link_trace_id are accepted but unimplemented in every
 * reference engine (reference section 5): the matcher never sees a value,
 * even on a span that has the event attribute and the link, and each such
 * matcher is reported as a located warning (not a problem). */
Test(eval, unread_selectors_never_see_a_value_as_upstream) {
    fixture f =
        setup("{\"policies\":["
              "{\"id\":\"ev\",\"name\":\"n\",\"trace\":{\"match\":["
              "{\"event_attribute\":\"exception.type\",\"exact\":\"IOError\"}],"
              "\"keep\":{\"percentage\":0}}},"
              "{\"id\":\"link\",\"name\":\"n\",\"trace\":{\"match\":["
              "{\"link_trace_id\":\"0af7651916cd43dd8448eb211c80319c\"}],"
              "\"keep\":{\"percentage\":0}}},"
              "{\"id\":\"noev\",\"name\":\"n\",\"trace\":{\"match\":["
              "{\"event_attribute\":\"exception.type\",\"exists\":true,"
              "\"negate\":true}],\"keep\":{\"percentage\":100}}}]}",
              "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{"
              "\"traceId\":\"5b8efff798038103d269b633813fc60c\","
              "\"spanId\":\"eee19b7ec3c1b174\",\"name\":\"read\","
              "\"events\":[{\"name\":\"exception\",\"attributes\":["
              "{\"key\":\"exception.type\",\"value\":{\"stringValue\":"
              "\"IOError\"}}]}],"
              "\"links\":[{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\","
              "\"spanId\":\"b7ad6b7169203331\"}]}]}]}]}");
    cr_assert_eq(sl_policy_warning_count(f.set), 3);
    const sl_error *w = sl_policy_warning(f.set, 0);
    cr_assert_str_eq(w->file, "p.json");
    cr_assert_eq(w->line, 1);
    cr_assert(strstr(w->msg, "policy ev: trace: match[0]: event_attribute is "
                             "not implemented by the reference engines"),
              "%s", w->msg);
    cr_assert(strstr(sl_policy_warning(f.set, 1)->msg, "link_trace_id"));
    sl_policy_result r = eval(&f, 0, 0);
    cr_assert_eq(r.decision, SL_DECISION_KEEP); /* only "noev" matched */
    cr_assert_eq(stats_of(&f, "ev").hits, 0);
    cr_assert_eq(stats_of(&f, "link").hits, 0);
    cr_assert_eq(stats_of(&f, "noev").hits, 1);
    teardown(&f);
}

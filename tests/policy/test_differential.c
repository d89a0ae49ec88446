/* tests/policy/test_differential.c: the indexed evaluation path against the
 * plain one (sl__policy_load_reference), on randomly generated policy sets
 * and records: every decision, winner, match count, transform count, the
 * written output and every counter must be the same.
 *
 * Generated policies mix exact / starts_with / ends_with / contains /
 * regex / exists / typed matchers, case-insensitive and negated ones, on
 * log and span fields and on record, resource and scope attributes, drawn
 * from a small vocabulary so that many policies share a value (the case
 * the index exists for); keeps of every kind, log transforms. Records draw
 * their values from the same vocabulary (hits) and from noise (misses),
 * and leave fields out. A fixed clock makes rate limits deterministic.
 * Then the choice of fast tests on small sets (fast_test). */
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy/private.h"

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t rnd(rng *r, uint32_t n) {
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)((r->s >> 11) % n);
}

static uint64_t fixed_now(void *ctx) {
    (void)ctx;
    return 5000000000ull;
}

static const char *const words[] = {"INFO",
                                    "info",
                                    "WARN",
                                    "ERROR",
                                    "DEBUG",
                                    "alpha",
                                    "alphabet",
                                    "Alpha-Beta",
                                    "beta-1",
                                    "gamma",
                                    "/api/cart",
                                    "/api/users",
                                    "/healthz",
                                    "shop-api",
                                    "payment",
                                    "x",
                                    "GET /api/cart 200 12ms",
                                    "timeout connecting to db",
                                    "ab",
                                    "user=alice session=9f8e"};

/* Vectorscan accepts each (none matches only ""). */
static const char *const regexes[] = {
    "^al",       "a[0-9]",   "ph.*t", "^(INFO|WARN)$",
    "b.t",       "[A-Z]{2}", "cart$", "^/api/",
    "[0-9]+ms",  "e",        "^x$",   "session=[0-9a-f]+",
    "(?i)debug", "^.*$"};

static void put(sl_buf *b, const char *s) {
    sl_buf_append(b, s, strlen(s));
}

static void putf(sl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void putf(sl_buf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    cr_assert(n > 0 && (size_t)n < sizeof(tmp));
    sl_buf_append(b, tmp, (size_t)n);
}

/* A piece of a vocabulary word: whole, a prefix, a suffix or a middle. */
static void piece(rng *r, char *out, size_t cap) {
    const char *w = words[rnd(r, SL_ARRAY_LEN(words))];
    size_t len = strlen(w), from = 0, n = len;
    switch (rnd(r, 4)) {
    case 1:
        n = 1 + rnd(r, (uint32_t)len);
        break;
    case 2:
        from = rnd(r, (uint32_t)len);
        n = len - from;
        break;
    case 3:
        from = rnd(r, (uint32_t)len);
        n = 1 + rnd(r, (uint32_t)(len - from));
        break;
    default:
        break;
    }
    snprintf(out, cap, "%.*s", (int)n, w + from);
}

typedef struct sigspec {
    const char *block;         /* "log" or "trace" */
    const char *const *fields; /* string selectors */
    size_t nfields;
} sigspec;

static const char *const log_sels[] = {
    "\"log_field\":\"body\"",
    "\"log_field\":\"severity_text\"",
    "\"log_field\":\"event_name\"",
    "\"log_attribute\":\"http.route\"",
    "\"log_attribute\":\"k\"",
    "\"log_attribute\":[\"m\",\"in\"]",
    "\"resource_attribute\":\"service.name\"",
    "\"scope_attribute\":\"lib\""};
static const char *const trace_sels[] = {
    "\"trace_field\":\"name\"", "\"span_attribute\":\"http.route\"",
    "\"span_attribute\":\"k\"", "\"resource_attribute\":\"service.name\"",
    "\"scope_attribute\":\"lib\""};

/* One matcher object, without braces. */
static void matcher(rng *r, sl_buf *b, bool trace) {
    const char *const *sels = trace ? trace_sels : log_sels;
    size_t nsels = trace ? SL_ARRAY_LEN(trace_sels) : SL_ARRAY_LEN(log_sels);
    char text[64];
    uint32_t kind = rnd(r, 20);
    if (trace && kind >= 18) {
        static const char *const kinds[] = {"server", "client", "internal"};
        static const char *const sts[] = {"ok", "error", "unset"};
        if (kind == 18) {
            putf(b, "\"span_kind\":\"%s\"", kinds[rnd(r, 3)]);
        } else {
            putf(b, "\"span_status\":\"%s\"", sts[rnd(r, 3)]);
        }
    } else if (kind >= 17) {
        static const char *const ops[] = {"equals", "gt", "gte", "lt", "lte"};
        putf(b, "%s:\"n\",\"%s\":%u",
             trace ? "\"span_attribute\"" : "\"log_attribute\"", ops[rnd(r, 5)],
             rnd(r, 8));
    } else if (kind >= 15) {
        putf(b, "%s,\"exists\":%s", sels[rnd(r, (uint32_t)nsels)],
             rnd(r, 4) ? "true" : "false");
    } else {
        static const char *const pk[] = {"exact",       "exact",     "exact",
                                         "starts_with", "ends_with", "contains",
                                         "contains",    "regex"};
        const char *k = pk[kind % SL_ARRAY_LEN(pk)];
        if (strcmp(k, "regex") == 0) {
            snprintf(text, sizeof(text), "%s",
                     regexes[rnd(r, SL_ARRAY_LEN(regexes))]);
        } else if (strcmp(k, "exact") == 0) {
            snprintf(text, sizeof(text), "%s",
                     words[rnd(r, SL_ARRAY_LEN(words))]);
        } else {
            piece(r, text, sizeof(text));
        }
        putf(b, "%s,\"%s\":\"%s\"", sels[rnd(r, (uint32_t)nsels)], k, text);
        if (rnd(r, 4) == 0) {
            put(b, ",\"case_insensitive\":true");
        }
    }
    if (rnd(r, 6) == 0) {
        put(b, ",\"negate\":true");
    }
}

static void policies(rng *r, sl_buf *b, uint32_t n) {
    put(b, "{\"policies\":[");
    for (uint32_t i = 0; i < n; i++) {
        bool trace = rnd(r, 4) == 0;
        putf(b, "%s{\"id\":\"p%03u\",", i ? "," : "", i);
        if (rnd(r, 20) == 0) {
            put(b, "\"enabled\":false,");
        }
        putf(b, "\"%s\":{\"match\":[", trace ? "trace" : "log");
        uint32_t nm = 1 + rnd(r, 4);
        for (uint32_t m = 0; m < nm; m++) {
            put(b, m ? ",{" : "{");
            matcher(r, b, trace);
            put(b, "}");
        }
        put(b, "],\"keep\":");
        if (trace) {
            static const char *const pct[] = {"0", "100", "50", "25.5"};
            static const char *const mode[] = {"hash_seed", "proportional",
                                               "equalizing"};
            putf(b, "{\"percentage\":%s,\"mode\":\"%s\"%s}", pct[rnd(r, 4)],
                 mode[rnd(r, 3)], rnd(r, 3) ? "" : ",\"hash_seed\":7");
        } else {
            static const char *const keeps[] = {"\"all\"", "\"none\"",
                                                "\"50%\"", "\"2/s\"",
                                                "\"1/m\"", "\"0%\""};
            put(b, keeps[rnd(r, SL_ARRAY_LEN(keeps))]);
            if (rnd(r, 4) == 0) {
                put(b, ",\"sample_key\":{\"log_field\":\"trace_id\"}");
            }
            if (rnd(r, 4) == 0) {
                put(b, ",\"transform\":{");
                switch (rnd(r, 3)) {
                case 0:
                    put(b, "\"remove\":[{\"log_attribute\":\"k\"}]");
                    break;
                case 1:
                    put(b, "\"redact\":[{\"log_field\":\"body\",\"regex\":"
                           "\"[0-9]+\",\"replacement\":\"#\"}]");
                    break;
                default:
                    putf(b,
                         "\"add\":[{\"log_attribute\":\"tag%u\",\"value\":"
                         "\"v\"%s}]",
                         rnd(r, 3), rnd(r, 2) ? ",\"upsert\":true" : "");
                    break;
                }
                put(b, "}");
            }
        }
        put(b, "}}");
    }
    put(b, "]}");
}

/* A string value: a vocabulary word (maybe with a different case), noise,
 * or a word inside noise. */
static void value(rng *r, sl_buf *b) {
    char w[64];
    snprintf(w, sizeof(w), "%s", words[rnd(r, SL_ARRAY_LEN(words))]);
    uint32_t how = rnd(r, 6);
    if (how == 0) {
        for (char *c = w; *c; c++) {
            *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
        }
    }
    if (how == 1) {
        putf(b, "\"zz%u\"", rnd(r, 1000));
    } else if (how == 2) {
        putf(b, "\"q %s %u\"", w, rnd(r, 100));
    } else {
        putf(b, "\"%s\"", w);
    }
}

static void attr(rng *r, sl_buf *b, const char *key, bool *first) {
    if (rnd(r, 3) == 0) {
        return; /* absent */
    }
    putf(b, "%s{\"key\":\"%s\",\"value\":{\"stringValue\":", *first ? "" : ",",
         key);
    value(r, b);
    put(b, "}}");
    *first = false;
}

static void attrs(rng *r, sl_buf *b) {
    put(b, "\"attributes\":[");
    bool first = true;
    attr(r, b, "http.route", &first);
    attr(r, b, "k", &first);
    if (rnd(r, 3)) {
        putf(b, "%s{\"key\":\"n\",\"value\":{\"intValue\":\"%u\"}}",
             first ? "" : ",", rnd(r, 8));
        first = false;
    }
    if (rnd(r, 2)) {
        putf(b,
             "%s{\"key\":\"m\",\"value\":{\"kvlistValue\":{\"values\":["
             "{\"key\":\"in\",\"value\":{\"stringValue\":",
             first ? "" : ",");
        value(r, b);
        put(b, "}}]}}}");
    }
    put(b, "]");
}

static void resource_scope(rng *r, sl_buf *b, const char *scope_key) {
    put(b, "{\"resource\":{");
    bool first = true;
    put(b, "\"attributes\":[");
    attr(r, b, "service.name", &first);
    putf(b, "]},\"%s\":[{\"scope\":{\"name\":\"s\",\"attributes\":[",
         scope_key);
    first = true;
    attr(r, b, "lib", &first);
    put(b, "]},");
}

static void hex(rng *r, sl_buf *b, int n) {
    for (int i = 0; i < n; i++) {
        putf(b, "%x", rnd(r, 16));
    }
}

static void logs(rng *r, sl_buf *b, uint32_t nres, uint32_t nrec) {
    put(b, "{\"resourceLogs\":[");
    for (uint32_t g = 0; g < nres; g++) {
        put(b, g ? "," : "");
        resource_scope(r, b, "scopeLogs");
        put(b, "\"logRecords\":[");
        for (uint32_t i = 0; i < nrec; i++) {
            put(b, i ? ",{" : "{");
            if (rnd(r, 4)) {
                put(b, "\"severityText\":");
                value(r, b);
                put(b, ",");
            }
            if (rnd(r, 4)) {
                put(b, "\"eventName\":");
                value(r, b);
                put(b, ",");
            }
            if (rnd(r, 2)) {
                put(b, "\"traceId\":\"");
                hex(r, b, 32);
                put(b, "\",");
            }
            if (rnd(r, 5)) {
                put(b, "\"body\":{\"stringValue\":");
                value(r, b);
                put(b, "},");
            }
            attrs(r, b);
            put(b, "}");
        }
        put(b, "]}]}");
    }
    put(b, "]}");
}

static void spans(rng *r, sl_buf *b, uint32_t nres, uint32_t nrec) {
    put(b, "{\"resourceSpans\":[");
    for (uint32_t g = 0; g < nres; g++) {
        put(b, g ? "," : "");
        resource_scope(r, b, "scopeSpans");
        put(b, "\"spans\":[");
        for (uint32_t i = 0; i < nrec; i++) {
            put(b, i ? ",{\"traceId\":\"" : "{\"traceId\":\"");
            hex(r, b, 32);
            put(b, "\",\"spanId\":\"");
            hex(r, b, 16);
            putf(b,
                 "\",\"kind\":%u,\"status\":{\"code\":%u},\"name\":", rnd(r, 5),
                 rnd(r, 3));
            value(r, b);
            put(b, ",");
            attrs(r, b);
            put(b, "}");
        }
        put(b, "]}]}");
    }
    put(b, "]}");
}

static sl_policy_set *load(const sl_buf *pol, bool reference) {
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_assert_eq(sl_doc_load(doc, pol->ptr, pol->len, SL_FORMAT_JSON, "p.json",
                             NULL, &err),
                 SL_OK, "%s", err.msg);
    sl_policy_opts opts = {.clock = fixed_now};
    sl_policy_set *set = NULL;
    const sl_doc *const *docs = (const sl_doc *const *)&doc;
    sl_status rc = reference
                       ? sl__policy_load_reference(docs, 1, &opts, &set, &err)
                       : sl_policy_load(docs, 1, &opts, &set, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.msg);
    cr_assert_eq(sl_policy_problem_count(set), 0,
                 "generated policy rejected: %s",
                 sl_policy_problem(set, 0)->msg);
    sl_doc_free(doc);
    return set;
}

static sl_otlp *batch(const sl_buf *in) {
    sl_otlp *o = sl_otlp_new();
    sl_error err = {0};
    cr_assert_eq(sl_otlp_load(o, in->ptr, in->len, NULL, "in.json", &err),
                 SL_OK, "%s", err.msg);
    return o;
}

/* Both paths over one batch: each result, then the written batch. */
static void compare_batch(uint64_t seed, sl_policy_ctx *ca, sl_policy_ctx *cb,
                          const sl_buf *in, unsigned flags) {
    sl_otlp *oa = batch(in), *ob = batch(in);
    size_t n = sl_otlp_count(oa);
    cr_assert_eq(n, sl_otlp_count(ob));
    for (size_t i = 0; i < n; i++) {
        sl_policy_result ra, rb;
        sl_error ea = {0}, eb = {0};
        sl_status sa = sl_policy_eval(ca, oa, i, flags, &ra, &ea);
        sl_status sb = sl_policy_eval(cb, ob, i, flags, &rb, &eb);
        cr_assert_eq(sa, sb, "seed %llu record %zu: status",
                     (unsigned long long)seed, i);
        cr_assert_eq(ra.matched, rb.matched,
                     "seed %llu record %zu: %u policies matched, reference %u",
                     (unsigned long long)seed, i, ra.matched, rb.matched);
        cr_assert_eq(ra.policy, rb.policy, "seed %llu record %zu: winner",
                     (unsigned long long)seed, i);
        cr_assert_eq(ra.decision, rb.decision, "seed %llu record %zu: decision",
                     (unsigned long long)seed, i);
        cr_assert_eq(ra.keep, rb.keep, "seed %llu record %zu: keep",
                     (unsigned long long)seed, i);
        cr_assert_eq(ra.transforms, rb.transforms,
                     "seed %llu record %zu: transforms",
                     (unsigned long long)seed, i);
    }
    sl_buf wa = {0}, wb = {0};
    cr_assert_eq(sl_otlp_write(oa, &wa, NULL), SL_OK);
    cr_assert_eq(sl_otlp_write(ob, &wb, NULL), SL_OK);
    cr_assert(wa.len == wb.len && memcmp(wa.ptr, wb.ptr, wa.len) == 0,
              "seed %llu: written batches differ", (unsigned long long)seed);
    sl_buf_free(&wa);
    sl_buf_free(&wb);
    sl_otlp_free(oa);
    sl_otlp_free(ob);
}

static void run_seed(uint64_t seed) {
    rng r = {seed * 0x9e3779b97f4a7c15ull + 1};
    sl_buf pol = {0};
    policies(&r, &pol, 1 + rnd(&r, 60));
    sl_policy_set *a = load(&pol, false), *b = load(&pol, true);
    sl_policy_ctx *ca = NULL, *cb = NULL;
    cr_assert_eq(sl_policy_ctx_new(a, &ca, NULL), SL_OK);
    cr_assert_eq(sl_policy_ctx_new(b, &cb, NULL), SL_OK);
    for (int k = 0; k < 4; k++) {
        sl_buf in = {0};
        if (k % 2) {
            spans(&r, &in, 1 + rnd(&r, 3), 1 + rnd(&r, 12));
        } else {
            logs(&r, &in, 1 + rnd(&r, 3), 1 + rnd(&r, 12));
        }
        compare_batch(seed, ca, cb, &in,
                      k < 2 ? SL_POLICY_APPLY : SL_POLICY_DECIDE);
        sl_buf_free(&in);
    }
    cr_assert_eq(sl_policy_count(a), sl_policy_count(b));
    for (size_t i = 0; i < sl_policy_count(a); i++) {
        sl_policy_stats sa, sb;
        sl_policy_stats_get(a, i, &sa);
        sl_policy_stats_get(b, i, &sb);
        cr_assert(memcmp(&sa, &sb, sizeof(sa)) == 0,
                  "seed %llu: counters of %s differ (hits %llu/%llu, misses "
                  "%llu/%llu)",
                  (unsigned long long)seed, sl_policy_id(a, i),
                  (unsigned long long)sa.hits, (unsigned long long)sb.hits,
                  (unsigned long long)sa.misses, (unsigned long long)sb.misses);
    }
    sl_policy_ctx_free(ca);
    sl_policy_ctx_free(cb);
    sl_policy_set_free(a);
    sl_policy_set_free(b);
    sl_buf_free(&pol);
}

Test(differential, indexed_path_agrees_with_reference_on_random_sets) {
    for (uint64_t seed = 1; seed <= 100; seed++) {
        run_seed(seed);
    }
}

/* The policy of signal-local index p is indexed under test t. */
static bool indexed_under(const sl__signal_set *ss, uint32_t t, uint32_t p) {
    for (uint32_t f = ss->fast_off[t]; f < ss->fast_off[t + 1]; f++) {
        if (ss->fast[f] == p) {
            return true;
        }
    }
    return false;
}

Test(fast_test, shared_value_is_one_test_and_no_policy_is_indexed_by_it) {
    sl_buf pol = {0};
    put(&pol, "{\"policies\":[");
    for (int i = 0; i < 12; i++) {
        putf(&pol,
             "%s{\"id\":\"p%02d\",\"log\":{\"match\":[{\"log_field\":"
             "\"severity_text\",\"exact\":\"INFO\"},{\"log_field\":\"body\","
             "\"contains\":\"tok%d-\"}],\"keep\":\"none\"}}",
             i ? "," : "", i, i);
    }
    put(&pol, "]}");
    sl_policy_set *set = load(&pol, false);
    const sl__signal_set *ss = &set->sig[SL_SIGNAL_LOG];
    cr_assert_eq(ss->ntests, 13, "INFO once, 12 body literals");
    uint32_t info = ss->refs[ss->ref_off[0]].test;
    for (uint32_t p = 0; p < 12; p++) {
        cr_assert_eq(ss->refs[ss->ref_off[p]].test, info);
        cr_assert(indexed_under(ss, ss->refs[ss->ref_off[p] + 1].test, p));
    }
    cr_assert_eq(ss->fast_off[info + 1] - ss->fast_off[info], 0);
    cr_assert_eq(ss->nalways, 0);
    sl_policy_set_free(set);
    sl_buf_free(&pol);
}

Test(fast_test, exact_beats_exists_and_only_negated_policies_are_always) {
    sl_buf pol = {0};
    put(&pol, "{\"policies\":["
              "{\"id\":\"a\",\"log\":{\"match\":[{\"log_attribute\":\"k\","
              "\"exists\":true},{\"log_field\":\"severity_text\",\"exact\":"
              "\"WARN\"}],\"keep\":\"none\"}},"
              "{\"id\":\"b\",\"log\":{\"match\":[{\"log_field\":\"body\","
              "\"contains\":\"x\",\"negate\":true}],\"keep\":\"none\"}},"
              "{\"id\":\"c\",\"log\":{\"match\":[{\"log_field\":\"body\","
              "\"regex\":\"^a+b$\"},{\"log_field\":\"body\",\"exact\":"
              "\"aab\"}],\"keep\":\"none\"}}]}");
    sl_policy_set *set = load(&pol, false);
    const sl__signal_set *ss = &set->sig[SL_SIGNAL_LOG];
    cr_assert(indexed_under(ss, ss->refs[ss->ref_off[0] + 1].test, 0),
              "a: by its exact literal, not by exists");
    cr_assert_eq(ss->nalways, 1);
    cr_assert_eq(ss->always[0], 1, "b: only a negated matcher");
    cr_assert(indexed_under(ss, ss->refs[ss->ref_off[2] + 1].test, 2),
              "c: by its exact literal, not by its regex");
    sl_policy_set_free(set);
    sl_buf_free(&pol);
}

/* tests/otlp/test_lazy.c: lazy OTLP/JSON loads (src/otlp/scan.c, issue 11)
 * against full loads, by the differential check fuzz_otlp_json runs too
 * (fuzz/otlp_lazy.h): the same accept / reject and error, the same reads
 * and the same output bytes, on the conformance inputs (as written and
 * compacted), on thousands of generated requests and on mutations of
 * them. Besides, that the fast pass really indexes the common shapes
 * itself, and hands the unusual ones to the full path. */
#include <sluice/otlp.h>
#include <sluice/policy.h>

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../fuzz/otlp_lazy.h"
#include "oom.h"
#include "support/read_file.h"

/* ---- masks: what a lazy batch builds ---- */

static uint64_t bit(sl_field_kind k) {
    return 1ull << k;
}

static uint64_t log_kinds(void) {
    return bit(SL_FIELD_LOG_BODY) | bit(SL_FIELD_LOG_SEVERITY_TEXT) |
           bit(SL_FIELD_LOG_TRACE_ID) | bit(SL_FIELD_LOG_SPAN_ID) |
           bit(SL_FIELD_LOG_EVENT_NAME) | bit(SL_FIELD_ATTR) |
           bit(SL_FIELD_RESOURCE_ATTR) | bit(SL_FIELD_SCOPE_ATTR) |
           bit(SL_FIELD_RESOURCE_SCHEMA_URL) | bit(SL_FIELD_SCOPE_SCHEMA_URL) |
           bit(SL_FIELD_SCOPE_NAME) | bit(SL_FIELD_SCOPE_VERSION);
}

static uint64_t span_kinds(void) {
    return bit(SL_FIELD_SPAN_NAME) | bit(SL_FIELD_SPAN_TRACE_ID) |
           bit(SL_FIELD_SPAN_ID) | bit(SL_FIELD_SPAN_PARENT_SPAN_ID) |
           bit(SL_FIELD_SPAN_TRACE_STATE) | bit(SL_FIELD_SPAN_KIND) |
           bit(SL_FIELD_SPAN_STATUS) | bit(SL_FIELD_SPAN_EVENT_NAME) |
           bit(SL_FIELD_SPAN_LINK_TRACE_ID) | bit(SL_FIELD_EVENT_ATTR) |
           bit(SL_FIELD_ATTR) | bit(SL_FIELD_RESOURCE_ATTR) |
           bit(SL_FIELD_SCOPE_ATTR) | bit(SL_FIELD_RESOURCE_SCHEMA_URL) |
           bit(SL_FIELD_SCOPE_SCHEMA_URL) | bit(SL_FIELD_SCOPE_NAME) |
           bit(SL_FIELD_SCOPE_VERSION);
}

static uint64_t metric_kinds(void) {
    return bit(SL_FIELD_METRIC_NAME) | bit(SL_FIELD_METRIC_DESCRIPTION) |
           bit(SL_FIELD_METRIC_UNIT) | bit(SL_FIELD_METRIC_TYPE) |
           bit(SL_FIELD_METRIC_TEMPORALITY) | bit(SL_FIELD_ATTR) |
           bit(SL_FIELD_RESOURCE_ATTR) | bit(SL_FIELD_SCOPE_NAME);
}

static const uint64_t *masks(size_t *n) {
    static uint64_t m[9];
    m[0] = 0; /* nothing built: every read loads in full */
    m[1] = bit(SL_FIELD_LOG_SEVERITY_TEXT);
    m[2] = bit(SL_FIELD_LOG_BODY) | bit(SL_FIELD_ATTR);
    m[3] = log_kinds();
    /* trace policy sets: a sampler's, a filter's, everything (a log and a
     * trace set together: what apply passes for a mixed policy file) */
    m[4] = bit(SL_FIELD_SPAN_TRACE_ID) | bit(SL_FIELD_SPAN_TRACE_STATE);
    m[5] = bit(SL_FIELD_SPAN_NAME) | bit(SL_FIELD_SPAN_KIND) |
           bit(SL_FIELD_SPAN_STATUS) | bit(SL_FIELD_ATTR) |
           bit(SL_FIELD_RESOURCE_ATTR);
    m[6] = span_kinds() | log_kinds();
    /* metric policy sets: by name, by data point attribute and type */
    m[7] = bit(SL_FIELD_METRIC_NAME);
    m[8] = metric_kinds();
    *n = 9;
    return m;
}

/* Which masks a test tries: a log policy set's, a trace set's, all. */
enum {
    M_LOGS = 1 << 0 | 1 << 1 | 1 << 2 | 1 << 3,
    M_SPANS = 1 << 0 | 1 << 4 | 1 << 5 | 1 << 6,
    M_METRICS = 1 << 0 | 1 << 2 | 1 << 7 | 1 << 8,
    M_ALL = 0x1ff
};

/* Every mask in which, whole and as a stream: agree. Returns the fast
 * count. */
static size_t agree_in(const char *text, size_t len, const char *what,
                       unsigned which) {
    size_t n, fast = 0;
    const uint64_t *m = masks(&n);
    for (size_t k = 0; k < n; k++) {
        if (!(which & (1u << k))) {
            continue;
        }
        for (int stream = 0; stream < 2; stream++) {
            const char *why = lazy_differs(text, len, m[k], stream, &fast);
            cr_assert_null(why, "%s (mask %zu, %s): %s differs (%s): %.300s",
                           what, k, stream ? "stream" : "whole", why, lazy_note,
                           text);
        }
    }
    return fast;
}

static size_t agree(const char *text, size_t len, const char *what) {
    return agree_in(text, len, what, M_ALL);
}

/* ---- generated requests ---- */

typedef struct gen {
    uint64_t s;
    char *buf;
    size_t len, cap;
} gen;

static uint32_t rnd(gen *g, uint32_t n) {
    g->s = g->s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((g->s >> 33) % n);
}

static void put(gen *g, const char *s) {
    size_t n = strlen(s);
    if (g->len + n + 1 > g->cap) {
        g->cap = (g->len + n + 1) * 2;
        g->buf = realloc(g->buf, g->cap);
        cr_assert_not_null(g->buf);
    }
    memcpy(g->buf + g->len, s, n + 1);
    g->len += n;
}

static void put_str(gen *g) {
    static const char *const strs[] = {
        "\"k\"",        "\"a\"",      "\"service.name\"",    "\"\"",
        "\"payments\"", "\"a\\nb\"",  "\"\\u00e9t\\u00e9\"", "\"h\xc3\xa9llo\"",
        "\"\\ud800\"",  "\"x\\\"y\"", "\"nested\"",          "\"inner\"",
        "\"INFO\"",     "\"DEBUG\"",  "\"tab\\there\"",      "\"\xe2\x82\xac\"",
    };
    put(g, strs[rnd(g, SL_ARRAY_LEN(strs))]);
}

static void put_int(gen *g, bool str_ok) {
    static const char *const ints[] = {
        "0",
        "7",
        "17",
        "123456789",
        "1763900000000000000",
        "-1",
        "2147483648",
        "1e3",
        "5.0",
        "18446744073709551615",
        "01",
        "99999999999999999999",
    };
    /* mostly the plain forms; the odd ones (the full path's) now and then */
    const char *v = ints[rnd(g, 8) ? rnd(g, 5) : rnd(g, SL_ARRAY_LEN(ints))];
    if (str_ok && rnd(g, 3) == 0) {
        put(g, "\"");
        put(g, v);
        put(g, "\"");
    } else {
        put(g, v);
    }
}

/* A 32-bit field's number: mostly in range. */
static void put_u32(gen *g) {
    if (rnd(g, 8)) {
        put(g, rnd(g, 2) ? "7" : "123456789");
    } else {
        put_int(g, false);
    }
}

static void put_kvs(gen *g, int depth);

static void put_any(gen *g, int depth) {
    switch (rnd(g, depth > 2 ? 7 : 9)) {
    case 0:
    case 1:
        put(g, "{\"stringValue\":");
        put_str(g);
        put(g, "}");
        break;
    case 2:
        put(g, rnd(g, 2) ? "{\"intValue\":" : "{\"int_value\":");
        put_int(g, true);
        put(g, "}");
        break;
    case 3:
        put(g,
            rnd(g, 2) ? "{\"doubleValue\":1.5e3}" : "{\"doubleValue\":-0.25}");
        break;
    case 4:
        put(g, rnd(g, 2) ? "{\"boolValue\":true}" : "{\"boolValue\":false}");
        break;
    case 5:
        put(g, rnd(g, 10) ? "{\"bytesValue\":\"aGVsbG8=\"}"
                          : "{\"bytesValue\":\"not base64!\"}");
        break;
    case 6:
        put(g, rnd(g, 10) ? "{}" : "{\"stringValue\":null}");
        break;
    case 7:
        put(g, "{\"arrayValue\":{\"values\":[");
        for (uint32_t i = 0, n = rnd(g, 3); i < n; i++) {
            put(g, i ? "," : "");
            put_any(g, depth + 1);
        }
        put(g, "]}}");
        break;
    default:
        put(g, "{\"kvlistValue\":{\"values\":");
        put_kvs(g, depth + 1);
        put(g, "}}");
        break;
    }
}

static void put_kvs(gen *g, int depth) {
    put(g, "[");
    for (uint32_t i = 0, n = rnd(g, 4); i < n; i++) {
        put(g, i ? "," : "");
        switch (rnd(g, 6)) {
        case 0:
            put(g, "{\"value\":");
            put_any(g, depth);
            put(g, ",\"key\":");
            put_str(g);
            put(g, "}");
            break;
        case 1:
            put(g, "{\"key\":");
            put_str(g);
            put(g, "}");
            break;
        default:
            put(g, "{\"key\":");
            put_str(g);
            put(g, ",\"value\":");
            put_any(g, depth);
            put(g, "}");
            break;
        }
    }
    put(g, "]");
}

static void put_id(gen *g, int hexlen) {
    static const char hex[] = "0123456789abcdef";
    char id[40];
    int n = hexlen;
    switch (rnd(g, 30)) {
    case 0:
        n = 0;
        break;
    case 1:
        n = hexlen - 1;
        break;
    default:
        break;
    }
    for (int i = 0; i < n; i++) {
        id[i] = hex[rnd(g, 16)];
    }
    if (n > 0 && rnd(g, 40) == 0) {
        id[0] = 'A'; /* upper case: rewritten by the full path */
    }
    id[n] = '\0';
    put(g, "\"");
    put(g, id);
    put(g, "\"");
}

/* One log record: a random subset of its fields in random order. */
static void put_record(gen *g) {
    int order[12];
    for (int i = 0; i < 12; i++) {
        order[i] = i;
    }
    for (int i = 11; i > 0; i--) {
        int j = (int)rnd(g, (uint32_t)i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    put(g, "{");
    bool first = true;
    for (int k = 0; k < 12; k++) {
        if (rnd(g, 3) == 0) {
            continue;
        }
        put(g, first ? "" : ",");
        first = false;
        switch (order[k]) {
        case 0:
            put(g, "\"timeUnixNano\":");
            put_int(g, true);
            break;
        case 1:
            put(g, "\"severityNumber\":");
            if (rnd(g, 4) == 0) {
                put(g, rnd(g, 8) ? "\"SEVERITY_NUMBER_WARN\"" : "\"WARN\"");
            } else {
                put_u32(g);
            }
            break;
        case 2:
            put(g, "\"severityText\":");
            put_str(g);
            break;
        case 3:
            put(g, "\"body\":");
            put_any(g, 0);
            break;
        case 4:
            put(g, "\"attributes\":");
            put_kvs(g, 0);
            break;
        case 5:
            put(g, "\"droppedAttributesCount\":");
            put_u32(g);
            break;
        case 6:
            put(g, "\"flags\":");
            put_u32(g);
            break;
        case 7:
            put(g, rnd(g, 2) ? "\"traceId\":" : "\"trace_id\":");
            put_id(g, 32);
            break;
        case 8:
            put(g, "\"spanId\":");
            put_id(g, 16);
            break;
        case 9:
            put(g, "\"observedTimeUnixNano\":");
            put_int(g, true);
            break;
        case 10:
            put(g, "\"eventName\":");
            put_str(g);
            break;
        default:
            put(g, rnd(g, 2) ? "\"x-unknown\":[1,{\"a\":null},\"s\",true]"
                             : "\"x-unknown\":{\"deep\":[[[]]]}");
            break;
        }
    }
    put(g, "}");
}

/* A span's status: a message and a code (name or number), or odd. */
static void put_status(gen *g) {
    switch (rnd(g, 6)) {
    case 0:
        put(g, "{}");
        break;
    case 1:
        put(g, "{\"code\":2,\"message\":");
        put_str(g);
        put(g, "}");
        break;
    case 2:
        put(g,
            rnd(g, 8) ? "{\"code\":\"STATUS_CODE_OK\"}" : "{\"code\":\"OK\"}");
        break;
    case 3:
        put(g, rnd(g, 8) ? "{\"message\":\"m\",\"code\":1}" : "{\"code\":-1}");
        break;
    default:
        put(g, "{\"message\":\"boom\",\"code\":\"STATUS_CODE_ERROR\"}");
        break;
    }
}

/* A span's events or links: 0-2 of them, each a random subset. */
static void put_events(gen *g, bool links) {
    put(g, "[");
    for (uint32_t i = 0, n = rnd(g, 3); i < n; i++) {
        put(g, i ? "," : "");
        if (rnd(g, 30) == 0) {
            put(g, rnd(g, 2) ? "null" : "7"); /* the full path's errors */
            continue;
        }
        put(g, "{");
        bool first = true;
        for (int f = 0; f < 6; f++) {
            if (rnd(g, 3) == 0) {
                continue;
            }
            put(g, first ? "" : ",");
            first = false;
            switch (f) {
            case 0:
                put(g, links ? "\"traceId\":" : "\"timeUnixNano\":");
                if (links) {
                    put_id(g, 32);
                } else {
                    put_int(g, true);
                }
                break;
            case 1:
                put(g, links ? "\"spanId\":" : "\"name\":");
                if (links) {
                    put_id(g, 16);
                } else {
                    put_str(g);
                }
                break;
            case 2:
                put(g, "\"attributes\":");
                put_kvs(g, 0);
                break;
            case 3:
                put(g, "\"droppedAttributesCount\":");
                put_u32(g);
                break;
            case 4:
                put(g, links ? "\"traceState\":\"ot=th:8\"" : "\"x\":[]");
                break;
            default:
                put(g, links ? "\"flags\":" : "\"dropped_attributes_count\":");
                put_u32(g);
                break;
            }
        }
        put(g, "}");
    }
    put(g, "]");
}

/* One span: a random subset of its fields in random order. */
static void put_span(gen *g) {
    enum {
        NF = 17
    };
    int order[NF];
    for (int i = 0; i < NF; i++) {
        order[i] = i;
    }
    for (int i = NF - 1; i > 0; i--) {
        int j = (int)rnd(g, (uint32_t)i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    put(g, "{");
    bool first = true;
    for (int k = 0; k < NF; k++) {
        if (rnd(g, 3) == 0) {
            continue;
        }
        put(g, first ? "" : ",");
        first = false;
        switch (order[k]) {
        case 0:
            put(g, rnd(g, 2) ? "\"traceId\":" : "\"trace_id\":");
            put_id(g, 32);
            break;
        case 1:
            put(g, "\"spanId\":");
            put_id(g, 16);
            break;
        case 2:
            put(g, "\"traceState\":");
            put(g, rnd(g, 2) ? "\"ot=th:c;rv:0123456789abcd\"" : "\"\"");
            break;
        case 3:
            put(g, "\"parentSpanId\":");
            put_id(g, 16);
            break;
        case 4:
            put(g, "\"name\":");
            put_str(g);
            break;
        case 5:
            put(g, "\"kind\":");
            if (rnd(g, 3) == 0) {
                put(g, rnd(g, 8) ? "\"SPAN_KIND_SERVER\"" : "\"SERVER\"");
            } else {
                put_u32(g);
            }
            break;
        case 6:
            put(g, "\"startTimeUnixNano\":");
            put_int(g, true);
            break;
        case 7:
            put(g, "\"end_time_unix_nano\":");
            put_int(g, true);
            break;
        case 8:
            put(g, "\"attributes\":");
            put_kvs(g, 0);
            break;
        case 9:
            put(g, "\"droppedAttributesCount\":");
            put_u32(g);
            break;
        case 10:
            put(g, "\"events\":");
            put_events(g, false);
            break;
        case 11:
            put(g, "\"droppedEventsCount\":");
            put_u32(g);
            break;
        case 12:
            put(g, "\"links\":");
            put_events(g, true);
            break;
        case 13:
            put(g, "\"droppedLinksCount\":");
            put_u32(g);
            break;
        case 14:
            put(g, "\"status\":");
            put_status(g);
            break;
        case 15:
            put(g, "\"flags\":");
            put_u32(g);
            break;
        default:
            put(g, rnd(g, 2) ? "\"x-unknown\":[1,{\"a\":null},\"s\",true]"
                             : "\"x-unknown\":{\"deep\":[[[]]]}");
            break;
        }
    }
    put(g, "}");
}

/* Data points: a number (as an int or a double), attributes, times; for
 * histograms bucket counts and bounds (which the full path takes). */
static void put_points(gen *g, bool hist) {
    put(g, "[");
    for (uint32_t i = 0, n = rnd(g, 3); i < n; i++) {
        put(g, i ? ",{" : "{");
        if (rnd(g, 4)) {
            put(g, "\"attributes\":");
            put_kvs(g, 0);
            put(g, ",");
        }
        put(g, "\"timeUnixNano\":");
        put_int(g, true);
        if (hist) {
            put(g, rnd(g, 2) ? ",\"count\":\"3\",\"sum\":1.5"
                             : ",\"bucketCounts\":[\"1\",2],"
                               "\"explicitBounds\":[0.5]");
        } else {
            switch (rnd(g, 4)) {
            case 0:
                put(g, ",\"asInt\":");
                put_int(g, true);
                break;
            case 1:
                put(g, ",\"asDouble\":2.5");
                break;
            case 2:
                put(g, rnd(g, 8) ? ",\"exemplars\":[{\"asDouble\":1,\"spanId\":"
                                   "\"892f902bd23f0824\"}]"
                                 : ",\"asInt\":\"1\",\"asDouble\":1.0");
                break;
            default:
                put(g, ",\"flags\":");
                put_u32(g);
                break;
            }
        }
        put(g, "}");
    }
    put(g, "]");
}

/* One metric: a name, maybe a description and unit, one data kind (or,
 * now and then, two: an error). */
static void put_metric(gen *g) {
    put(g, "{\"name\":");
    put_str(g);
    put(g, rnd(g, 2) ? ",\"unit\":\"ms\"" : ",\"description\":\"d\"");
    switch (rnd(g, 6)) {
    case 0:
    case 1:
        put(g, ",\"gauge\":{\"dataPoints\":");
        put_points(g, false);
        put(g, "}");
        break;
    case 2:
    case 3:
        put(g, ",\"sum\":{\"dataPoints\":");
        put_points(g, false);
        put(g, rnd(g, 2) ? ",\"aggregationTemporality\":2,\"isMonotonic\":true}"
                         : ",\"aggregationTemporality\":"
                           "\"AGGREGATION_TEMPORALITY_DELTA\"}");
        break;
    case 4:
        put(g, ",\"histogram\":{\"dataPoints\":");
        put_points(g, true);
        put(g, ",\"aggregationTemporality\":1}");
        break;
    default:
        put(g, rnd(g, 4)
                   ? ",\"summary\":{\"dataPoints\":[{\"count\":\"2\","
                     "\"quantileValues\":[{\"quantile\":0.5,\"value\":1}]}]}"
                   : ",\"gauge\":{},\"sum\":{}");
        break;
    }
    put(g, rnd(g, 5) ? "}" : ",\"metadata\":[{\"key\":\"k\"}]}");
}

static void put_request_of(gen *g, int sig) {
    bool spans = sig == SL_SIGNAL_TRACE;
    bool metrics = sig == SL_SIGNAL_METRIC;
    if (metrics) {
        put(g,
            rnd(g, 8) ? "{\"resourceMetrics\":[" : "{\"resource_metrics\":[");
    } else if (spans) {
        put(g, rnd(g, 8) ? "{\"resourceSpans\":[" : "{\"resource_spans\":[");
    } else {
        put(g, rnd(g, 8) ? "{\"resourceLogs\":[" : "{\"resource_logs\":[");
    }
    for (uint32_t r = 0, nr = 1 + rnd(g, 2); r < nr; r++) {
        put(g, r ? "," : "");
        put(g, "{");
        if (rnd(g, 4)) {
            put(g, "\"resource\":{\"attributes\":");
            put_kvs(g, 0);
            put(g, rnd(g, 3) ? "}," : ",\"droppedAttributesCount\":2},");
        }
        put(g, metrics ? "\"scopeMetrics\":["
               : spans ? "\"scopeSpans\":["
                       : "\"scopeLogs\":[");
        for (uint32_t s = 0, ns = 1 + rnd(g, 2); s < ns; s++) {
            put(g, s ? "," : "");
            put(g, "{");
            if (rnd(g, 2)) {
                put(g, "\"scope\":{\"name\":");
                put_str(g);
                put(g, ",\"version\":\"1.0\",\"attributes\":");
                put_kvs(g, 0);
                put(g, "},");
            }
            put(g, metrics ? "\"metrics\":["
                   : spans ? "\"spans\":["
                           : "\"logRecords\":[");
            for (uint32_t i = 0, n = rnd(g, 4); i < n; i++) {
                put(g, i ? "," : "");
                if (metrics) {
                    put_metric(g);
                } else if (spans) {
                    put_span(g);
                } else {
                    put_record(g);
                }
            }
            put(g, "]");
            put(g, rnd(g, 3) ? "" : ",\"schemaUrl\":\"https://s/1\"");
            put(g, "}");
        }
        put(g, "]");
        put(g, rnd(g, 3) ? "" : ",\"schemaUrl\":\"https://r/1\"");
        put(g, "}");
    }
    put(g, "]");
    put(g, rnd(g, 6) ? "}" : ",\"extra\":{\"k\":[1,2.5,-3e-2]}}");
}

/* n generated requests of signal sig (a quarter followed by a second
 * value of sig or, one time in three, of other: a stream) agree with the
 * full load under mask; more than min of the loads must take the fast
 * pass, so it is not handing everything to the full path. */
static void generated_agree(uint64_t seed, int n, sl_signal sig,
                            sl_signal other, const char *what, unsigned mask,
                            size_t min) {
    gen g = {seed, NULL, 0, 0};
    size_t fast = 0;
    for (int i = 0; i < n; i++) {
        g.len = 0;
        put_request_of(&g, sig);
        if (rnd(&g, 4) == 0) {
            put(&g, "\n");
            put_request_of(&g, rnd(&g, 3) ? sig : other);
        }
        fast += agree_in(g.buf, g.len, what, mask);
    }
    cr_assert_gt(fast, min, "%s: only %zu values took the fast pass", what,
                 fast);
    free(g.buf);
}

/* 1500 requests (some of two values) x 4 masks x 2 modes */
Test(lazy, generated_requests_agree_with_full_loads) {
    generated_agree(12345, 1500, SL_SIGNAL_LOG, SL_SIGNAL_LOG, "generated",
                    M_LOGS, 1500u * 2);
}

/* 1500 requests x 4 masks x 2 modes (12,000 loads): a span has many
 * fields, each now and then in a form only the full path takes, so about
 * one load in six takes the fast pass */
Test(lazy, generated_span_requests_agree_with_full_loads) {
    generated_agree(4242, 1500, SL_SIGNAL_TRACE, SL_SIGNAL_LOG,
                    "generated spans", M_SPANS, 1500u);
}

/* 1000 requests x 4 masks x 2 modes: gauges, sums and summaries take the
 * fast pass, histograms' bucket arrays the full path */
Test(lazy, generated_metric_requests_agree_with_full_loads) {
    generated_agree(99, 1000, SL_SIGNAL_METRIC, SL_SIGNAL_TRACE,
                    "generated metrics", M_METRICS, 1000u);
}

/* Byte mutations of generated requests (logs, spans or metrics): lazy and
 * full loads agree on each, built with mask. */
static void mutations_agree(uint64_t seed, int sig, uint64_t mask) {
    static const char alphabet[] =
        "{}[]\",:\\ 0123456789aefnrtulE.-+\x80\xc3\xff";
    gen g = {seed, NULL, 0, 0};
    char *m = NULL;
    size_t cap = 0;
    for (int base = 0; base < 40; base++) {
        g.len = 0;
        put_request_of(&g, sig);
        for (int k = 0; k < 100; k++) {
            if (g.len + 2 > cap) {
                cap = g.len + 2;
                m = realloc(m, cap);
                cr_assert_not_null(m);
            }
            memcpy(m, g.buf, g.len);
            size_t n = g.len;
            size_t at = rnd(&g, (uint32_t)n);
            char c = alphabet[rnd(&g, sizeof(alphabet) - 1)];
            switch (rnd(&g, 4)) {
            case 0: /* replace */
                m[at] = c;
                break;
            case 1: /* insert */
                memmove(m + at + 1, m + at, n - at);
                m[at] = c;
                n++;
                break;
            case 2: /* delete */
                memmove(m + at, m + at + 1, n - at - 1);
                n--;
                break;
            default: /* cut */
                n = at;
                break;
            }
            size_t fast = 0;
            for (int stream = 0; stream < 2; stream++) {
                const char *why = lazy_differs(m, n, mask, stream, &fast);
                cr_assert_null(why, "mutation %d.%d: %s differs: %.*s", base, k,
                               why, (int)(n > 400 ? 400 : n), m);
            }
        }
    }
    free(m);
    free(g.buf);
}

Test(lazy, mutated_requests_agree_with_full_loads) {
    mutations_agree(777, SL_SIGNAL_LOG, log_kinds());
}

Test(lazy, mutated_span_requests_agree_with_full_loads) {
    mutations_agree(778, SL_SIGNAL_TRACE, span_kinds());
}

Test(lazy, mutated_metric_requests_agree_with_full_loads) {
    mutations_agree(779, SL_SIGNAL_METRIC, metric_kinds());
}

/* ---- conformance inputs ---- */

/* A value as written and compacted (the shape apply usually meets). */
static size_t agree_both_forms(const char *text, size_t len, const char *what) {
    size_t fast = agree(text, len, what);
    sl_doc *doc = sl_doc_new();
    cr_assert_not_null(doc);
    if (sl_doc_load(doc, text, len, SL_FORMAT_JSON, "c.json", NULL, NULL) ==
        SL_OK) {
        sl_buf c = {0};
        cr_assert_eq(sl_doc_write_json(doc, sl_doc_root(doc), &c, NULL), SL_OK);
        fast += agree(c.ptr, c.len, what);
        sl_buf_free(&c);
    }
    sl_doc_free(doc);
    return fast;
}

static size_t agree_file(const char *path) {
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text) {
        return 0;
    }
    size_t fast = agree_both_forms(text, len, path);
    free(text);
    return fast;
}

static const char *shared(void) {
    const char *s = getenv("SLUICE_SHARED");
    return s ? s : "../shared";
}

Test(lazy, conformance_inputs_agree_with_full_loads) {
    char path[512];
    size_t files = 0, fast = 0;
    snprintf(path, sizeof(path), "%s/conformance/policy/testcases", shared());
    DIR *d = opendir(path);
    if (!d) {
        cr_skip_test("no %s", path);
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') {
            continue;
        }
        for (int k = -1; k < 4; k++) {
            char file[1024];
            if (k < 0) {
                snprintf(file, sizeof(file), "%s/%s/input.json", path,
                         e->d_name);
            } else {
                snprintf(file, sizeof(file), "%s/%s/input_%d.json", path,
                         e->d_name, k);
            }
            if (access(file, R_OK) == 0) {
                files++;
                fast += agree_file(file);
            }
        }
    }
    closedir(d);
    static const char *const otlp[] = {
        "otlp/opentelemetry-proto/logs.json",
        "otlp/opentelemetry-proto/events.json",
        "otlp/fluent-bit/integration/test_logs_expect_batch.in.json",
        "otlp/otel-spec-file-exporter/logs.jsonl",
        "otlp/opentelemetry-proto/trace.json",
        "otlp/otel-spec-file-exporter/traces.jsonl",
        "otlp/opentelemetry-proto/metrics.json",
        "otlp/otel-spec-file-exporter/metrics.jsonl",
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(otlp); i++) {
        snprintf(path, sizeof(path), "%s/conformance/%s", shared(), otlp[i]);
        fast += agree_file(path);
    }
    cr_assert_gt(files, 50u);
    cr_assert_gt(fast, 100u, "only %zu values took the fast pass", fast);
}

/* The fluent-bit decoder cases of a signal: each case's input, valid or
 * not. */
static void decoder_cases_agree(const char *signal) {
    char path[1024];
    snprintf(path, sizeof(path),
             "%s/conformance/otlp/fluent-bit/decoder-cases/%s.json", shared(),
             signal);
    sl_doc *doc = NULL;
    if (sl_doc_parse_file(path, SL_FORMAT_JSON, NULL, &doc, NULL) != SL_OK) {
        cr_skip_test("no %s", path);
    }
    const sl_node *root = sl_doc_root(doc);
    size_t n = sl_node_len(root);
    cr_assert_gt(n, 20u);
    for (size_t i = 0; i < n; i++) {
        const sl_node *in = sl_node_get(sl_node_at(root, i), "input");
        if (!in) {
            continue;
        }
        sl_buf c = {0};
        cr_assert_eq(sl_doc_write_json(doc, in, &c, NULL), SL_OK);
        agree(c.ptr, c.len, "decoder case");
        sl_buf_free(&c);
    }
    sl_doc_free(doc);
}

Test(lazy, decoder_cases_agree_with_full_loads) {
    decoder_cases_agree("logs");
}

Test(lazy, trace_decoder_cases_agree_with_full_loads) {
    decoder_cases_agree("traces");
}

Test(lazy, metric_decoder_cases_agree_with_full_loads) {
    decoder_cases_agree("metrics");
}

/* ---- what takes the fast pass ---- */

static bool takes_fast_pass(const char *json) {
    size_t fast = 0;
    const char *why =
        lazy_differs(json, strlen(json),
                     log_kinds() | span_kinds() | metric_kinds(), false, &fast);
    cr_assert_null(why, "%s differs: %s", why, json);
    return fast == 1;
}

Test(lazy, common_requests_take_the_fast_pass) {
    static const char *const ok[] = {
        "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service."
        "name\",\"value\":{\"stringValue\":\"shop\"}}]},\"scopeLogs\":[{"
        "\"scope\":{\"name\":\"bench\",\"version\":\"1.0.0\"},\"logRecords\":[{"
        "\"timeUnixNano\":\"1763900000000000000\",\"severityNumber\":17,"
        "\"severityText\":\"ERROR\",\"body\":{\"stringValue\":\"payment "
        "gateway: connection refused\"},\"attributes\":[{\"key\":\"peer."
        "service\",\"value\":{\"stringValue\":\"payments\"}}],\"traceId\":"
        "\"128b2f330c5c7fd0a6a3a4506513270e\",\"spanId\":\"892f902bd23f0824\"}]"
        "}]}]}",
        /* non-ASCII and escapes in values, unknown fields, snake case */
        "{\"resource_logs\":[{\"scope_logs\":[{\"log_records\":[{\"body\":{"
        "\"stringValue\":\"h\xc3\xa9 \\\"q\\\" \\u00e9\"},\"x\":[null,{}]}]}]}]"
        "}",
        /* a span with everything: events, links, status, kind by name */
        "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":"
        "\"service.name\",\"value\":{\"stringValue\":\"shop\"}}]},"
        "\"scopeSpans\":[{\"scope\":{\"name\":\"t\"},\"spans\":[{"
        "\"traceId\":\"128b2f330c5c7fd0a6a3a4506513270e\",\"spanId\":"
        "\"892f902bd23f0824\",\"parentSpanId\":\"\",\"traceState\":"
        "\"ot=th:8\",\"name\":\"GET /cart\",\"kind\":\"SPAN_KIND_SERVER\","
        "\"startTimeUnixNano\":\"1763900000000000000\",\"endTimeUnixNano\":"
        "\"1763900000000500000\",\"attributes\":[{\"key\":\"http.route\","
        "\"value\":{\"stringValue\":\"/cart\"}}],\"events\":[{\"name\":"
        "\"retry\",\"timeUnixNano\":\"1763900000000100000\",\"attributes\":["
        "{\"key\":\"n\",\"value\":{\"intValue\":\"2\"}}]}],\"links\":[{"
        "\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":"
        "\"eee19b7ec3c1b174\"}],\"status\":{\"code\":2,\"message\":"
        "\"x\"},\"flags\":257}]}]}]}",
        "{\"resource_spans\":[{\"scope_spans\":[{\"spans\":[{\"name\":"
        "\"a\",\"kind\":3,\"status\":{}}]}]}]}",
        /* a sum with data point attributes, a gauge */
        "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":"
        "\"http.requests\",\"unit\":\"1\",\"sum\":{\"dataPoints\":[{"
        "\"attributes\":[{\"key\":\"http.route\",\"value\":{"
        "\"stringValue\":\"/cart\"}}],\"timeUnixNano\":\"1763900000000000000\","
        "\"asInt\":\"42\"}],\"aggregationTemporality\":2,\"isMonotonic\":"
        "true}},{\"name\":\"cpu\",\"gauge\":{\"dataPoints\":[{\"asDouble\":"
        "0.5}]}}]}]}]}",
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(ok); i++) {
        cr_assert(takes_fast_pass(ok[i]), "full path for %s", ok[i]);
    }
}

Test(lazy, unusual_requests_take_the_full_path) {
    static const char *const odd[] = {
        /* whitespace inside: the writer would compact it */
        "{\"resourceLogs\": []}",
        /* an upper-case id: the full path rewrites it */
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"spanId\":"
        "\"892F902BD23F0824\"}]}]}]}",
        /* null for a known field */
        "{\"resourceLogs\":[{\"scopeLogs\":null}]}",
        /* an escaped key */
        "{\"resourceLogs\":[{\"scope\\u004cogs\":[]}]}",
        /* errors: a field twice, a bad id, a bad AnyValue, bad UTF-8 */
        "{\"resourceLogs\":[],\"resourceLogs\":[]}",
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":"
        "\"xyz\"}]}]}]}",
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{"
        "\"stringValue\":\"a\",\"intValue\":1}}]}]}]}",
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{"
        "\"stringValue\":\"\xc3\x28\"}}]}]}]}",
        /* spans: an upper-case id, a null event, a bad status code name */
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
        "\"128B2F330C5C7FD0A6A3A4506513270E\"}]}]}]}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"events\":["
        "null]}]}]}]}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"status\":{"
        "\"code\":\"OK\"}}]}]}]}",
        /* metrics: histogram bucket counts (repeated numbers) */
        "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":"
        "\"h\",\"histogram\":{\"dataPoints\":[{\"bucketCounts\":[1]}]}}]}]}"
        "]}",
        /* two resource lists; none */
        "{\"resourceSpans\":[],\"resourceLogs\":[]}",
        "{\"resourceMetrics\":[],\"resourceSpans\":[]}",
        "{}",
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(odd); i++) {
        cr_assert(!takes_fast_pass(odd[i]), "fast pass for %s", odd[i]);
    }
}

/* A policy set's reads: only those become nodes; a later read of another
 * kind, or a change, loads the request in full, keeping the drops. */
Test(lazy, reads_beyond_the_mask_load_in_full_keeping_drops) {
    const char *json =
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityText\":"
        "\"INFO\",\"body\":{\"stringValue\":\"one\"}},{\"severityText\":"
        "\"DEBUG\",\"body\":{\"stringValue\":\"two\"}}]}]}]}";
    sl_otlp *o = sl_otlp_new();
    sl_otlp_set_lazy(o, true, bit(SL_FIELD_LOG_SEVERITY_TEXT));
    sl_error err;
    cr_assert_eq(sl_otlp_load(o, json, strlen(json), NULL, "t", &err), SL_OK);
    cr_assert(o->lazy);
    cr_assert_null(o->recs[0].f[LS_BODY], "the body was built");
    sl_field sev = {SL_FIELD_LOG_SEVERITY_TEXT, NULL, 0};
    sl_str s;
    cr_assert(sl_otlp_get(o, 1, &sev, &s));
    cr_assert(s.len == 5 && memcmp(s.ptr, "DEBUG", 5) == 0);
    cr_assert(o->lazy, "a read of a built kind stays lazy");
    sl_otlp_drop(o, 1);
    sl_field body = {SL_FIELD_LOG_BODY, NULL, 0};
    cr_assert(sl_otlp_get(o, 0, &body, &s));
    cr_assert(s.len == 3 && memcmp(s.ptr, "one", 3) == 0);
    cr_assert(!o->lazy, "a read of another kind loads in full");
    sl_buf out = {0};
    cr_assert_eq(sl_otlp_write(o, &out, &err), SL_OK);
    cr_assert_str_eq(out.ptr,
                     "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
                     "\"severityText\":\"INFO\",\"body\":{\"stringValue\":"
                     "\"one\"}}]}]}]}");
    sl_buf_free(&out);
    sl_otlp_free(o);
}

/* A trace policy set's reads on spans: the name and status are built,
 * the events are not until a read of an event name loads in full. */
Test(lazy, span_reads_build_only_their_fields) {
    const char *json =
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":"
        "\"GET\",\"status\":{\"code\":\"STATUS_CODE_ERROR\"},\"events\":[{"
        "\"name\":\"retry\"}]},{\"name\":\"PUT\",\"kind\":2}]}]}]}";
    sl_otlp *o = sl_otlp_new();
    sl_otlp_set_lazy(o, true,
                     bit(SL_FIELD_SPAN_NAME) | bit(SL_FIELD_SPAN_STATUS));
    sl_otlp_set_lazy_signals(o, 1u << SL_SIGNAL_TRACE);
    sl_error err;
    cr_assert_eq(sl_otlp_load(o, json, strlen(json), NULL, "t", &err), SL_OK);
    cr_assert(o->lazy);
    cr_assert_eq(sl_otlp_signal(o), SL_SIGNAL_TRACE);
    cr_assert_eq(sl_otlp_count(o), 2);
    cr_assert_not_null(o->recs[0].f[SS_NAME]);
    cr_assert_not_null(o->recs[0].f[SS_STATUS]);
    cr_assert_null(o->recs[0].f[SS_EVENTS], "the events were built");
    cr_assert_null(o->recs[1].f[SS_KIND], "the kind was built");
    sl_field name = {SL_FIELD_SPAN_NAME, NULL, 0};
    sl_field status = {SL_FIELD_SPAN_STATUS, NULL, 0};
    sl_str s;
    cr_assert(sl_otlp_get(o, 1, &name, &s));
    cr_assert(s.len == 3 && memcmp(s.ptr, "PUT", 3) == 0);
    cr_assert(sl_otlp_get(o, 0, &status, &s));
    cr_assert(s.len == 22 && memcmp(s.ptr, "SPAN_STATUS_CODE_ERROR", 22) == 0,
              "%.*s", (int)s.len, s.ptr);
    cr_assert(o->lazy, "reads of built kinds stay lazy");
    sl_otlp_drop(o, 0);
    sl_buf out = {0};
    cr_assert_eq(sl_otlp_write(o, &out, &err), SL_OK);
    cr_assert(o->lazy, "a write of drops stays lazy");
    cr_assert_str_eq(out.ptr, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\""
                              ":[{\"name\":\"PUT\",\"kind\":2}]}]}]}");
    sl_field ev = {SL_FIELD_SPAN_EVENT_NAME, NULL, 0};
    cr_assert(!sl_otlp_get(o, 1, &ev, &s));
    cr_assert(!o->lazy, "a read of another kind loads in full");
    sl_buf_free(&out);
    sl_otlp_free(o);
}

/* Only the signals enabled take the fast pass: logs by default (a caller
 * whose kinds hold only its log policies' reads, as sluice serve's). */
Test(lazy, only_enabled_signals_take_the_fast_pass) {
    static const char *const req[3] = {
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{}]}]}]}",
        "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{}]}]}]}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{}]}]}]}",
    };
    sl_otlp *o = sl_otlp_new();
    cr_assert_not_null(o);
    sl_otlp_set_lazy(o, true, bit(SL_FIELD_ATTR));
    for (unsigned sigs = 0; sigs < 9; sigs++) {
        if (sigs < 8) {
            sl_otlp_set_lazy_signals(o, sigs);
        }
        unsigned on = sigs < 8 ? sigs : 1u << SL_SIGNAL_LOG;
        for (int s = 0; s < 3; s++) {
            sl_error err;
            cr_assert_eq(
                sl_otlp_load(o, req[s], strlen(req[s]), NULL, "t", &err),
                SL_OK);
            cr_assert_eq(sl_otlp_count(o), 1);
            cr_assert_eq(o->lazy, (on >> s) & 1u, "signal %d, signals %u", s,
                         sigs);
        }
        if (sigs == 7) {
            sl_otlp_free(o); /* a new batch: logs only again */
            o = sl_otlp_new();
            cr_assert_not_null(o);
            sl_otlp_set_lazy(o, true, bit(SL_FIELD_ATTR));
        }
    }
    sl_otlp_free(o);
}

/* Allocation failures anywhere in a lazy load, a read that loads in full
 * and the write: SL_ENOMEM (or, after a failed full load, an empty batch
 * that says so), never a crash or a leak; and in the end it all works. */
Test(lazy, fails_cleanly_at_every_allocation) {
    const char *json =
        "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":"
        "\"service.name\",\"value\":{\"stringValue\":\"shop\"}}]},"
        "\"scopeLogs\":[{\"logRecords\":[{\"severityText\":\"INFO\","
        "\"body\":{\"stringValue\":\"one\"}},{\"severityText\":\"DEBUG\","
        "\"attributes\":[{\"key\":\"k\",\"value\":{\"stringValue\":"
        "\"v\"}}]}]}]}]}";
    sl_allocator a = {t_alloc, t_realloc, t_free, NULL};
    sl_set_allocator(&a);
    bool done = false;
    for (fail_at = 1; fail_at < 10000 && !done; fail_at++) {
        n_allocs = 0;
        sl_otlp *o = sl_otlp_new();
        if (!o) {
            continue;
        }
        sl_otlp_set_lazy(o, true,
                         bit(SL_FIELD_LOG_SEVERITY_TEXT) | bit(SL_FIELD_ATTR));
        sl_error err;
        sl_status rc = sl_otlp_load(o, json, strlen(json), NULL, "oom", &err);
        if (rc == SL_OK) {
            sl_otlp_drop(o, 0);
            sl_field res = {SL_FIELD_RESOURCE_ATTR, lazy_seg_service, 1};
            sl_str s;
            bool got = sl_otlp_get(o, 1, &res, &s); /* loads in full */
            sl_buf b = {0};
            rc = sl_otlp_write(o, &b, &err);
            done = got && rc == SL_OK;
            if (!got) {
                /* the full load failed: an empty batch, nothing written */
                cr_assert_eq(sl_otlp_count(o), 0, "at %ld", fail_at);
                cr_assert_neq(rc, SL_OK, "at %ld", fail_at);
                rc = SL_ENOMEM;
            }
            sl_buf_free(&b);
        }
        if (!done) {
            cr_assert_eq(rc, SL_ENOMEM, "at %ld: %d", fail_at, rc);
        }
        sl_otlp_free(o);
    }
    sl_set_allocator(NULL);
    cr_assert(done);
}

/* A policy reload between a load and its evaluation can ask for more
 * fields than the load built: those reads load the request in full. */
Test(lazy, reads_wanted_after_the_load_load_in_full) {
    const char *json =
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
        "\"severityText\":\"INFO\",\"body\":{\"stringValue\":\"one\"}}]}]}"
        "]}";
    sl_otlp *o = sl_otlp_new();
    sl_otlp_set_lazy(o, true, bit(SL_FIELD_LOG_SEVERITY_TEXT));
    sl_error err;
    cr_assert_eq(sl_otlp_load(o, json, strlen(json), NULL, "t", &err), SL_OK);
    cr_assert(o->lazy);
    sl_otlp_set_lazy(o, true, bit(SL_FIELD_LOG_BODY));
    sl_field body = {SL_FIELD_LOG_BODY, NULL, 0};
    sl_str s;
    cr_assert(sl_otlp_get(o, 0, &body, &s));
    cr_assert(s.len == 3 && memcmp(s.ptr, "one", 3) == 0);
    sl_otlp_free(o);
}

/* sl_policy_lazy_load: what apply and serve call. Every signal takes the
 * fast pass with the fields the set's policies read (a span's name, a
 * record's severity), other fields stay unbuilt; off again, loads are
 * full. */
Test(lazy, policy_lazy_load_covers_every_signal_and_turns_off) {
    static const char pol[] =
        "{\"policies\":["
        "{\"id\":\"l\",\"name\":\"l\",\"log\":{\"match\":[{\"log_field\":"
        "\"severity_text\",\"exact\":\"DEBUG\"}],\"keep\":\"none\"}},"
        "{\"id\":\"t\",\"name\":\"t\",\"trace\":{\"match\":[{\"trace_field\":"
        "\"TRACE_FIELD_NAME\",\"exact\":\"GET "
        "/healthz\"}],\"keep\":{\"percentage\":0.0}}}]}";
    static const char *const req[3] = {
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
        "\"severityText\":\"INFO\",\"body\":{\"stringValue\":\"b\"}}]}]}]}",
        "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":"
        "\"m\"}]}]}]}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":"
        "\"GET /\",\"kind\":2}]}]}]}",
    };
    sl_doc *doc = sl_doc_new();
    cr_assert_not_null(doc);
    sl_error err;
    cr_assert_eq(
        sl_doc_load(doc, pol, strlen(pol), SL_FORMAT_JSON, "p", NULL, &err),
        SL_OK, "%s", err.msg);
    const sl_doc *docs[1] = {doc};
    sl_policy_set *set = NULL;
    cr_assert_eq(sl_policy_load(docs, 1, NULL, &set, &err), SL_OK, "%s",
                 err.msg);
    cr_assert_eq(sl_policy_problem_count(set), 0);
    sl_otlp *o = sl_otlp_new();
    cr_assert_not_null(o);
    for (int round = 0; round < 2; round++) {
        bool on = round == 0;
        sl_policy_lazy_load(set, o, on);
        for (int s = 0; s < 3; s++) {
            cr_assert_eq(
                sl_otlp_load(o, req[s], strlen(req[s]), NULL, "t", &err), SL_OK,
                "%s", err.msg);
            cr_assert_eq(sl_otlp_count(o), 1);
            cr_assert_eq(o->lazy, on, "signal %d, on %d", s, on);
        }
    }
    sl_otlp_free(o);
    sl_policy_set_free(set);
    sl_doc_free(doc);
}

/* tests/otlp/test_otlp.c: the OTLP model: loading and indexing, every
 * getter rule of the reference adapter, typed values, set / remove / move,
 * the tracestate merge, write after drops, SL_ESCHEMA paths and positions,
 * allocation failures. Each case is a small inline request. */
#include <sluice/otlp.h>

#include "oom.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sl_otlp *load_ok(const char *json) {
    sl_otlp *o = sl_otlp_new();
    cr_assert_not_null(o);
    sl_error err;
    memset(&err, 0, sizeof(err));
    sl_status rc = sl_otlp_load(o, json, strlen(json), NULL, "t.json", &err);
    cr_assert_eq(rc, SL_OK, "%s:%u:%u: %s", err.file, err.line, err.col,
                 err.msg);
    return o;
}

static sl_field simple(sl_field_kind k) {
    sl_field f = {k, NULL, 0};
    return f;
}

/* get as a NUL-terminated string in buf; "<none>" when absent */
static const char *get(sl_otlp *o, size_t i, sl_field_kind k,
                       const sl_str *path, uint32_t n) {
    static char buf[512];
    sl_field f = {k, path, n};
    sl_str s;
    if (!sl_otlp_get(o, i, &f, &s)) {
        return "<none>";
    }
    snprintf(buf, sizeof(buf), "%.*s", (int)s.len, s.ptr);
    return buf;
}

static const char *gets_(sl_otlp *o, size_t i, sl_field_kind k) {
    return get(o, i, k, NULL, 0);
}

static bool exists(sl_otlp *o, size_t i, sl_field_kind k, const sl_str *path,
                   uint32_t n) {
    sl_field f = {k, path, n};
    return sl_otlp_exists(o, i, &f);
}

#define P1(a)    ((const sl_str[]){{a, sizeof(a) - 1}})
#define P2(a, b) ((const sl_str[]){{a, sizeof(a) - 1}, {b, sizeof(b) - 1}})

static char *written(sl_otlp *o) {
    static char out[8192];
    sl_buf b = {0};
    sl_error err;
    memset(&err, 0, sizeof(err));
    sl_status rc = sl_otlp_write(o, &b, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.msg);
    snprintf(out, sizeof(out), "%.*s", (int)b.len, b.ptr ? b.ptr : "");
    sl_buf_free(&b);
    return out;
}

/* ---- signals and index ---- */

Test(load, detects_each_signal_and_counts_records) {
    sl_otlp *o = load_ok("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":"
                         "[{},{}]},{\"logRecords\":[{}]}]}]}");
    cr_assert_eq(sl_otlp_signal(o), SL_SIGNAL_LOG);
    cr_assert_eq(sl_otlp_count(o), 3);
    const char *m = "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":"
                    "[{\"name\":\"a\"}]}]}]}";
    sl_error err;
    cr_assert_eq(sl_otlp_load(o, m, strlen(m), NULL, NULL, &err), SL_OK);
    cr_assert_eq(sl_otlp_signal(o), SL_SIGNAL_METRIC);
    cr_assert_eq(sl_otlp_count(o), 1);
    const char *t = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{},{}]"
                    "}]}]}";
    cr_assert_eq(sl_otlp_load(o, t, strlen(t), NULL, NULL, &err), SL_OK);
    cr_assert_eq(sl_otlp_signal(o), SL_SIGNAL_TRACE);
    cr_assert_eq(sl_otlp_count(o), 2);
    cr_assert_eq(sl_otlp_load(o, "{}", 2, NULL, NULL, &err), SL_OK);
    cr_assert_eq(sl_otlp_signal(o), SL_SIGNAL_NONE);
    cr_assert_eq(sl_otlp_count(o), 0);
    cr_assert_str_eq(written(o), "{}");
    sl_otlp_free(o);
}

Test(load, accepts_proto_field_names) {
    sl_otlp *o = load_ok(
        "{\"resource_logs\":[{\"resource\":{\"attributes\":[{\"key\":\"svc\","
        "\"value\":{\"string_value\":\"api\"}}]},\"scope_logs\":[{\"log_"
        "records\":[{\"severity_text\":\"INFO\",\"trace_id\":"
        "\"5B8EFFF798038103D269B633813FC60C\",\"body\":{\"string_value\":"
        "\"hi\"}}]}]}]}");
    cr_assert_eq(sl_otlp_signal(o), SL_SIGNAL_LOG);
    cr_assert_eq(sl_otlp_count(o), 1);
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_LOG_SEVERITY_TEXT), "INFO");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_LOG_BODY), "hi");
    cr_assert_str_eq(get(o, 0, SL_FIELD_RESOURCE_ATTR, P1("svc"), 1), "api");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_LOG_TRACE_ID),
                     "5b8efff798038103d269b633813fc60c");
    /* new members keep the request's spelling */
    sl_field sev = simple(SL_FIELD_LOG_EVENT_NAME);
    cr_assert_eq(sl_otlp_set(o, 0, &sev, "e", 1), SL_OK);
    cr_assert(strstr(written(o), "\"event_name\":\"e\"") != NULL);
    sl_otlp_free(o);
}

Test(load, stream_of_documents) {
    const char *text =
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{}]}]}]}\n"
        "\n  {\"resourceSpans\":[]}\n";
    sl_otlp *o = sl_otlp_new();
    size_t off = 0;
    sl_error err;
    cr_assert_eq(sl_otlp_load(o, text, strlen(text), &off, "s", &err), SL_OK);
    cr_assert_eq(sl_otlp_count(o), 1);
    cr_assert_eq(sl_otlp_load(o, text, strlen(text), &off, "s", &err), SL_OK);
    cr_assert_eq(sl_otlp_signal(o), SL_SIGNAL_TRACE);
    cr_assert_eq(sl_otlp_load(o, text, strlen(text), &off, "s", &err),
                 SL_ENOTFOUND);
    sl_otlp_free(o);
}

/* ---- log getters ---- */

static const char *LOGS =
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":["
    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"checkout\"}},"
    "{\"key\":\"empty\",\"value\":{\"stringValue\":\"\"}}]},"
    "\"schemaUrl\":\"https://r\",\"scopeLogs\":[{\"scope\":{\"name\":\"lib\","
    "\"version\":\"\",\"attributes\":[{\"key\":\"s\",\"value\":{\"intValue\":"
    "\"7\"}}]},\"schemaUrl\":\"\",\"logRecords\":["
    /* 0 */
    "{\"severityText\":\"INFO\",\"body\":{\"stringValue\":\"hello\"},"
    "\"traceId\":\"0AF7651916CD43DD8448EB211C80319C\",\"spanId\":\"\","
    "\"eventName\":\"login\",\"attributes\":["
    "{\"key\":\"user\",\"value\":{\"stringValue\":\"ann\"}},"
    "{\"key\":\"code\",\"value\":{\"intValue\":500}},"
    "{\"key\":\"blank\",\"value\":{\"stringValue\":\"\"}},"
    "{\"key\":\"novalue\"},"
    "{\"key\":\"emptyany\",\"value\":{}},"
    "{\"key\":\"http\",\"value\":{\"kvlistValue\":{\"values\":["
    "{\"key\":\"method\",\"value\":{\"stringValue\":\"GET\"}},"
    "{\"key\":\"n\",\"value\":{\"doubleValue\":1.5}}]}}},"
    "{\"key\":\"ok\",\"value\":{\"boolValue\":true}},"
    "{\"key\":\"raw\",\"value\":{\"bytesValue\":\"aGk=\"}},"
    "{\"key\":\"dbl\",\"value\":{\"doubleValue\":\"NaN\"}}]},"
    /* 1 */
    "{\"severityText\":\"\",\"body\":{\"stringValue\":\"\"},\"eventName\":\"\"}"
    ","
    /* 2 */
    "{\"body\":{\"intValue\":\"42\"}},"
    /* 3 */
    "{\"body\":{}}"
    "]}]}]}";

Test(get, log_simple_fields_and_empty_strings) {
    sl_otlp *o = load_ok(LOGS);
    cr_assert_eq(sl_otlp_count(o), 4);
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_LOG_SEVERITY_TEXT), "INFO");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_LOG_BODY), "hello");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_LOG_TRACE_ID),
                     "0af7651916cd43dd8448eb211c80319c");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_LOG_SPAN_ID), "<none>");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_LOG_EVENT_NAME), "login");
    cr_assert_str_eq(gets_(o, 1, SL_FIELD_LOG_SEVERITY_TEXT), "<none>");
    cr_assert_str_eq(gets_(o, 1, SL_FIELD_LOG_BODY), "<none>");
    cr_assert_str_eq(gets_(o, 1, SL_FIELD_LOG_EVENT_NAME), "<none>");
    cr_assert_str_eq(gets_(o, 2, SL_FIELD_LOG_BODY), "<none>");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_RESOURCE_SCHEMA_URL), "https://r");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_SCOPE_SCHEMA_URL), "<none>");
    cr_assert_str_eq(gets_(o, 3, SL_FIELD_SCOPE_NAME), "lib");
    cr_assert_str_eq(gets_(o, 3, SL_FIELD_SCOPE_VERSION), "<none>");
    /* fields of another signal are absent */
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_SPAN_NAME), "<none>");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_METRIC_TYPE), "<none>");
    sl_otlp_free(o);
}

Test(exists, body_present_unless_absent_or_empty_string) {
    sl_otlp *o = load_ok(LOGS);
    cr_assert(exists(o, 0, SL_FIELD_LOG_BODY, NULL, 0));
    cr_assert(!exists(o, 1, SL_FIELD_LOG_BODY, NULL, 0));
    cr_assert(exists(o, 2, SL_FIELD_LOG_BODY, NULL, 0)); /* intValue */
    cr_assert(exists(o, 3, SL_FIELD_LOG_BODY, NULL, 0)); /* {} */
    cr_assert(!exists(o, 1, SL_FIELD_LOG_SEVERITY_TEXT, NULL, 0));
    cr_assert(exists(o, 0, SL_FIELD_LOG_SEVERITY_TEXT, NULL, 0));
    cr_assert(!exists(o, 0, SL_FIELD_LOG_SPAN_ID, NULL, 0));
    sl_otlp_free(o);
}

Test(get, attribute_string_only_when_non_empty_string_value) {
    sl_otlp *o = load_ok(LOGS);
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("user"), 1), "ann");
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("code"), 1), "<none>");
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("blank"), 1), "<none>");
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("missing"), 1), "<none>");
    cr_assert_str_eq(get(o, 0, SL_FIELD_RESOURCE_ATTR, P1("service.name"), 1),
                     "checkout");
    cr_assert_str_eq(get(o, 0, SL_FIELD_RESOURCE_ATTR, P1("empty"), 1),
                     "<none>");
    cr_assert_str_eq(get(o, 0, SL_FIELD_SCOPE_ATTR, P1("s"), 1), "<none>");
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, NULL, 0), "<none>");
    sl_otlp_free(o);
}

Test(exists, attribute_present_with_any_value) {
    sl_otlp *o = load_ok(LOGS);
    cr_assert(exists(o, 0, SL_FIELD_ATTR, P1("user"), 1));
    cr_assert(exists(o, 0, SL_FIELD_ATTR, P1("code"), 1));
    cr_assert(exists(o, 0, SL_FIELD_ATTR, P1("blank"), 1));
    cr_assert(exists(o, 0, SL_FIELD_ATTR, P1("novalue"), 1));
    cr_assert(exists(o, 0, SL_FIELD_ATTR, P1("emptyany"), 1));
    cr_assert(!exists(o, 0, SL_FIELD_ATTR, P1("missing"), 1));
    cr_assert(exists(o, 0, SL_FIELD_RESOURCE_ATTR, P1("empty"), 1));
    cr_assert(exists(o, 0, SL_FIELD_SCOPE_ATTR, P1("s"), 1));
    cr_assert(!exists(o, 1, SL_FIELD_ATTR, P1("user"), 1));
    sl_otlp_free(o);
}

Test(get, nested_path_walks_kvlist_values) {
    sl_otlp *o = load_ok(LOGS);
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P2("http", "method"), 2), "GET");
    cr_assert(exists(o, 0, SL_FIELD_ATTR, P2("http", "n"), 2));
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P2("http", "n"), 2), "<none>");
    cr_assert(!exists(o, 0, SL_FIELD_ATTR, P2("http", "x"), 2));
    /* a non-kvlist value has no children */
    cr_assert(!exists(o, 0, SL_FIELD_ATTR, P2("user", "x"), 2));
    /* the kvlist itself exists but has no string value */
    cr_assert(exists(o, 0, SL_FIELD_ATTR, P1("http"), 1));
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("http"), 1), "<none>");
    sl_otlp_free(o);
}

Test(typed, values_by_any_value_kind) {
    sl_otlp *o = load_ok(LOGS);
    sl_value v;
    sl_field f = {SL_FIELD_ATTR, P1("code"), 1};
    cr_assert(sl_otlp_typed(o, 0, &f, &v));
    cr_assert_eq(v.type, SL_VALUE_INT);
    cr_assert_eq(v.i, 500);
    f.path = P1("ok");
    cr_assert(sl_otlp_typed(o, 0, &f, &v));
    cr_assert_eq(v.type, SL_VALUE_BOOL);
    cr_assert(v.b);
    f.path = P1("raw");
    cr_assert(sl_otlp_typed(o, 0, &f, &v));
    cr_assert_eq(v.type, SL_VALUE_BYTES);
    cr_assert_eq(v.s.len, 2);
    cr_assert_eq(memcmp(v.s.ptr, "hi", 2), 0);
    f.path = P1("user");
    cr_assert(sl_otlp_typed(o, 0, &f, &v));
    cr_assert_eq(v.type, SL_VALUE_STRING);
    f.path = P1("blank");
    cr_assert(sl_otlp_typed(o, 0, &f, &v));
    cr_assert_eq(v.type, SL_VALUE_STRING);
    cr_assert_eq(v.s.len, 0);
    f.path = P1("http");
    cr_assert(sl_otlp_typed(o, 0, &f, &v));
    cr_assert_eq(v.type, SL_VALUE_OTHER);
    f.path = P1("dbl");
    cr_assert(sl_otlp_typed(o, 0, &f, &v));
    cr_assert_eq(v.type, SL_VALUE_DOUBLE);
    cr_assert(v.d != v.d); /* NaN */
    f.path = P1("emptyany");
    cr_assert(!sl_otlp_typed(o, 0, &f, &v));
    f.path = P1("novalue");
    cr_assert(!sl_otlp_typed(o, 0, &f, &v));
    f = (sl_field){SL_FIELD_ATTR, P2("http", "n"), 2};
    cr_assert(sl_otlp_typed(o, 0, &f, &v));
    cr_assert_eq(v.type, SL_VALUE_DOUBLE);
    cr_assert_float_eq(v.d, 1.5, 1e-9);
    /* intValue as a string */
    f = (sl_field){SL_FIELD_LOG_BODY, NULL, 0};
    cr_assert(sl_otlp_typed(o, 2, &f, &v));
    cr_assert_eq(v.type, SL_VALUE_INT);
    cr_assert_eq(v.i, 42);
    /* ids decode to bytes */
    f = (sl_field){SL_FIELD_LOG_TRACE_ID, NULL, 0};
    cr_assert(sl_otlp_typed(o, 0, &f, &v));
    cr_assert_eq(v.type, SL_VALUE_BYTES);
    cr_assert_eq(v.s.len, 16);
    cr_assert_eq((unsigned char)v.s.ptr[0], 0x0a);
    cr_assert_eq((unsigned char)v.s.ptr[15], 0x9c);
    f = (sl_field){SL_FIELD_LOG_SEVERITY_TEXT, NULL, 0};
    cr_assert(sl_otlp_typed(o, 0, &f, &v));
    cr_assert_eq(v.type, SL_VALUE_STRING);
    cr_assert(!sl_otlp_typed(o, 1, &f, &v));
    sl_otlp_free(o);
}

/* ---- metrics ---- */

static const char *METRICS =
    "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"scope\":{\"name\":\"m\","
    "\"version\":\"1.0\"},\"metrics\":["
    "{\"name\":\"g\",\"unit\":\"\",\"description\":\"d\",\"gauge\":{"
    "\"dataPoints\":[{\"asDouble\":1,\"attributes\":[{\"key\":\"host\","
    "\"value\":{\"stringValue\":\"a\"}}]},{\"asInt\":\"2\",\"attributes\":["
    "{\"key\":\"host\",\"value\":{\"stringValue\":\"b\"}},{\"key\":\"only2\","
    "\"value\":{\"stringValue\":\"x\"}}]}]}},"
    "{\"name\":\"s\",\"sum\":{\"aggregationTemporality\":1,\"isMonotonic\":"
    "true,\"dataPoints\":[]}},"
    "{\"name\":\"h\",\"histogram\":{\"aggregationTemporality\":"
    "\"AGGREGATION_TEMPORALITY_CUMULATIVE\",\"dataPoints\":[{\"count\":\"3\","
    "\"bucketCounts\":[\"1\",2],\"explicitBounds\":[1.5],\"attributes\":["
    "{\"key\":\"k\",\"value\":{\"stringValue\":\"v\"}}]}]}},"
    "{\"name\":\"e\",\"exponentialHistogram\":{\"aggregationTemporality\":2,"
    "\"dataPoints\":[{\"scale\":-1,\"positive\":{\"offset\":0,"
    "\"bucketCounts\":[1]},\"attributes\":[{\"key\":\"k\",\"value\":{"
    "\"stringValue\":\"v\"}}]}]}},"
    "{\"name\":\"q\",\"summary\":{\"dataPoints\":[{\"quantileValues\":["
    "{\"quantile\":0.5,\"value\":\"1.0\"}]}]}},"
    "{\"name\":\"none\"},"
    "{\"name\":\"u\",\"sum\":{\"aggregationTemporality\":0}}"
    "]}]}]}";

Test(get, metric_type_temporality_and_first_data_point) {
    sl_otlp *o = load_ok(METRICS);
    cr_assert_eq(sl_otlp_count(o), 7);
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_METRIC_TYPE), "METRIC_TYPE_GAUGE");
    cr_assert_str_eq(gets_(o, 1, SL_FIELD_METRIC_TYPE), "METRIC_TYPE_SUM");
    cr_assert_str_eq(gets_(o, 2, SL_FIELD_METRIC_TYPE),
                     "METRIC_TYPE_HISTOGRAM");
    cr_assert_str_eq(gets_(o, 3, SL_FIELD_METRIC_TYPE),
                     "METRIC_TYPE_EXPONENTIAL_HISTOGRAM");
    cr_assert_str_eq(gets_(o, 4, SL_FIELD_METRIC_TYPE), "METRIC_TYPE_SUMMARY");
    cr_assert_str_eq(gets_(o, 5, SL_FIELD_METRIC_TYPE), "<none>");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_METRIC_TEMPORALITY), "<none>");
    cr_assert_str_eq(gets_(o, 1, SL_FIELD_METRIC_TEMPORALITY),
                     "AGGREGATION_TEMPORALITY_DELTA");
    cr_assert_str_eq(gets_(o, 2, SL_FIELD_METRIC_TEMPORALITY),
                     "AGGREGATION_TEMPORALITY_CUMULATIVE");
    cr_assert_str_eq(gets_(o, 3, SL_FIELD_METRIC_TEMPORALITY),
                     "AGGREGATION_TEMPORALITY_CUMULATIVE");
    cr_assert_str_eq(gets_(o, 6, SL_FIELD_METRIC_TEMPORALITY), "<none>");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_METRIC_NAME), "g");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_METRIC_UNIT), "<none>");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_METRIC_DESCRIPTION), "d");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_SCOPE_VERSION), "1.0");
    /* first data point only */
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("host"), 1), "a");
    cr_assert(!exists(o, 0, SL_FIELD_ATTR, P1("only2"), 1));
    cr_assert_str_eq(get(o, 2, SL_FIELD_ATTR, P1("k"), 1), "v");
    /* exponential histogram: no data point attributes (reference) */
    cr_assert(!exists(o, 3, SL_FIELD_ATTR, P1("k"), 1));
    cr_assert(!exists(o, 1, SL_FIELD_ATTR, P1("k"), 1));
    sl_otlp_free(o);
}

/* ---- spans ---- */

static const char *SPANS =
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":["
    "{\"name\":\"a\",\"kind\":\"SPAN_KIND_SERVER\",\"status\":{\"code\":"
    "\"STATUS_CODE_OK\"},\"traceId\":\"aabbccdd000000000180000000000000\","
    "\"spanId\":\"00f067aa0ba902b7\",\"parentSpanId\":\"\",\"traceState\":"
    "\"vendor1=abc,vendor2=xyz\",\"events\":[{\"name\":\"\"},{\"name\":"
    "\"exception\",\"attributes\":[{\"key\":\"exception.type\",\"value\":{"
    "\"stringValue\":\"IOError\"}}]}],\"links\":[{\"traceId\":\"\"},"
    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":"
    "\"0102030405060708\"}]},"
    "{\"name\":\"b\",\"kind\":3,\"status\":{\"code\":2}},"
    "{\"name\":\"c\",\"status\":{\"code\":\"STATUS_CODE_UNSET\"}},"
    "{\"name\":\"d\",\"status\":{}},"
    "{\"name\":\"\",\"kind\":0}"
    "]}]}]}";

Test(get, span_kind_status_event_and_link) {
    sl_otlp *o = load_ok(SPANS);
    cr_assert_eq(sl_otlp_count(o), 5);
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_SPAN_KIND), "SPAN_KIND_SERVER");
    cr_assert_str_eq(gets_(o, 1, SL_FIELD_SPAN_KIND), "SPAN_KIND_CLIENT");
    cr_assert_str_eq(gets_(o, 2, SL_FIELD_SPAN_KIND), "<none>");
    cr_assert_str_eq(gets_(o, 4, SL_FIELD_SPAN_KIND), "SPAN_KIND_UNSPECIFIED");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_SPAN_STATUS), "SPAN_STATUS_CODE_OK");
    cr_assert_str_eq(gets_(o, 1, SL_FIELD_SPAN_STATUS),
                     "SPAN_STATUS_CODE_ERROR");
    cr_assert_str_eq(gets_(o, 2, SL_FIELD_SPAN_STATUS),
                     "SPAN_STATUS_CODE_UNSPECIFIED");
    cr_assert_str_eq(gets_(o, 3, SL_FIELD_SPAN_STATUS),
                     "SPAN_STATUS_CODE_UNSPECIFIED");
    cr_assert_str_eq(gets_(o, 4, SL_FIELD_SPAN_STATUS), "<none>");
    cr_assert(!exists(o, 4, SL_FIELD_SPAN_STATUS, NULL, 0));
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_SPAN_EVENT_NAME), "exception");
    cr_assert_str_eq(gets_(o, 1, SL_FIELD_SPAN_EVENT_NAME), "<none>");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_SPAN_LINK_TRACE_ID),
                     "0102030405060708090a0b0c0d0e0f10");
    cr_assert_str_eq(get(o, 0, SL_FIELD_EVENT_ATTR, P1("exception.type"), 1),
                     "IOError");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_SPAN_TRACE_ID),
                     "aabbccdd000000000180000000000000");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_SPAN_ID), "00f067aa0ba902b7");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_SPAN_PARENT_SPAN_ID), "<none>");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_SPAN_TRACE_STATE),
                     "vendor1=abc,vendor2=xyz");
    cr_assert_str_eq(gets_(o, 4, SL_FIELD_SPAN_NAME), "<none>");
    sl_otlp_free(o);
}

/* ---- tracestate ---- */

static void check_th(const char *ts, const char *th, const char *want) {
    char json[512];
    snprintf(json, sizeof(json),
             "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":"
             "\"x\",\"traceState\":\"%s\"}]}]}]}",
             ts);
    sl_otlp *o = load_ok(json);
    sl_field f = simple(SL_FIELD_SPAN_SAMPLING_THRESHOLD);
    cr_assert_eq(sl_otlp_set(o, 0, &f, th, strlen(th)), SL_OK);
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_SPAN_TRACE_STATE), want, "%s", ts);
    sl_otlp_free(o);
}

Test(tracestate, threshold_merged_into_ot_entry_first) {
    check_th("vendor1=abc,vendor2=xyz", "0", "ot=th:0,vendor1=abc,vendor2=xyz");
    check_th("ot=th:4;rv:abc123", "8", "ot=rv:abc123;th:8");
    check_th("", "8", "ot=th:8");
    check_th("vendor=existing", "8", "ot=th:8,vendor=existing");
    check_th("ot=th:c,vendor=existing", "8", "ot=th:8,vendor=existing");
    check_th("a=1,ot=rv:10000000000000;th:8,b=2", "c",
             "ot=rv:10000000000000;th:c,a=1,b=2");
    check_th(" x=1 , ot=th:1 ", "fd7", "ot=th:fd7,x=1");
}

Test(tracestate, absent_tracestate_member_is_added) {
    sl_otlp *o = load_ok("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":"
                         "[{\"name\":\"x\"}]}]}]}");
    sl_field f = simple(SL_FIELD_SPAN_SAMPLING_THRESHOLD);
    cr_assert_eq(sl_otlp_set(o, 0, &f, "8", 1), SL_OK);
    cr_assert_str_eq(written(o), "{\"resourceSpans\":[{\"scopeSpans\":[{"
                                 "\"spans\":[{\"name\":\"x\",\"traceState\":"
                                 "\"ot=th:8\"}]}]}]}");
    sl_otlp_free(o);
}

/* ---- changes ---- */

static const char *ONE_LOG =
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"r\","
    "\"value\":{\"stringValue\":\"1\"}}]},\"scopeLogs\":[{\"scope\":{"
    "\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":\"b\"},"
    "\"attributes\":[{\"key\":\"a\",\"value\":{\"intValue\":\"5\"}},{\"key\":"
    "\"b\",\"value\":{\"stringValue\":\"x\"}},{\"key\":\"n\",\"value\":{"
    "\"kvlistValue\":{\"values\":[{\"key\":\"m\",\"value\":{\"stringValue\":"
    "\"GET\"}}]}}}]}]}]}]}";

Test(set, new_attribute_appended_existing_overwritten_in_place) {
    sl_otlp *o = load_ok(ONE_LOG);
    sl_field f = {SL_FIELD_ATTR, P1("new"), 1};
    cr_assert_eq(sl_otlp_set(o, 0, &f, "v", 1), SL_OK);
    f.path = P1("a");
    cr_assert_eq(sl_otlp_set(o, 0, &f, "6", 1), SL_OK);
    cr_assert_str_eq(
        written(o),
        "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"r\","
        "\"value\":{\"stringValue\":\"1\"}}]},\"scopeLogs\":[{\"scope\":{"
        "\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":\"b\"},"
        "\"attributes\":[{\"key\":\"a\",\"value\":{\"stringValue\":\"6\"}},"
        "{\"key\":\"b\",\"value\":{\"stringValue\":\"x\"}},{\"key\":\"n\","
        "\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"m\",\"value\":{"
        "\"stringValue\":\"GET\"}}]}}},{\"key\":\"new\",\"value\":{"
        "\"stringValue\":\"v\"}}]}]}]}]}");
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("new"), 1), "v");
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("a"), 1), "6");
    sl_otlp_free(o);
}

Test(set, body_severity_and_scope_fields) {
    sl_otlp *o = load_ok(ONE_LOG);
    sl_field f = simple(SL_FIELD_LOG_BODY);
    cr_assert_eq(sl_otlp_set(o, 0, &f, "[REDACTED]", 10), SL_OK);
    f = simple(SL_FIELD_LOG_SEVERITY_TEXT);
    cr_assert_eq(sl_otlp_set(o, 0, &f, "WARN", 4), SL_OK);
    f = simple(SL_FIELD_SCOPE_VERSION);
    cr_assert_eq(sl_otlp_set(o, 0, &f, "2", 1), SL_OK);
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_LOG_BODY), "[REDACTED]");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_LOG_SEVERITY_TEXT), "WARN");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_SCOPE_VERSION), "2");
    const char *w = written(o);
    cr_assert(strstr(w, "\"body\":{\"stringValue\":\"[REDACTED]\"}"), "%s", w);
    cr_assert(strstr(w, "\"severityText\":\"WARN\"}]"), "%s", w);
    cr_assert(strstr(w, "\"scope\":{\"name\":\"s\",\"version\":\"2\"}"), "%s",
              w);
    f = simple(SL_FIELD_METRIC_TYPE);
    cr_assert_eq(sl_otlp_set(o, 0, &f, "x", 1), SL_EINVAL);
    f = simple(SL_FIELD_SPAN_NAME);
    cr_assert_eq(sl_otlp_set(o, 0, &f, "x", 1), SL_EINVAL);
    sl_otlp_free(o);
}

Test(set, resource_and_scope_attributes_created_when_missing) {
    sl_otlp *o = load_ok("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":"
                         "[{}]}]}]}");
    sl_field f = {SL_FIELD_RESOURCE_ATTR, P1("env"), 1};
    cr_assert_eq(sl_otlp_set(o, 0, &f, "prod", 4), SL_OK);
    f.kind = SL_FIELD_SCOPE_ATTR;
    cr_assert_eq(sl_otlp_set(o, 0, &f, "x", 1), SL_OK);
    f.kind = SL_FIELD_ATTR;
    cr_assert_eq(sl_otlp_set(o, 0, &f, "y", 1), SL_OK);
    cr_assert_str_eq(get(o, 0, SL_FIELD_RESOURCE_ATTR, P1("env"), 1), "prod");
    cr_assert_str_eq(get(o, 0, SL_FIELD_SCOPE_ATTR, P1("env"), 1), "x");
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("env"), 1), "y");
    cr_assert_str_eq(
        written(o),
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"attributes\":"
        "[{\"key\":\"env\",\"value\":{\"stringValue\":\"y\"}}]}],\"scope\":{"
        "\"attributes\":[{\"key\":\"env\",\"value\":{\"stringValue\":\"x\"}}]"
        "}}],\"resource\":{\"attributes\":[{\"key\":\"env\",\"value\":{"
        "\"stringValue\":\"prod\"}}]}}]}");
    sl_otlp_free(o);
}

Test(set, nested_path_sets_inside_kvlist_and_creates_levels) {
    sl_otlp *o = load_ok(ONE_LOG);
    sl_field f = {SL_FIELD_ATTR, P2("n", "m"), 2};
    cr_assert_eq(sl_otlp_set(o, 0, &f, "POST", 4), SL_OK);
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P2("n", "m"), 2), "POST");
    f.path = P2("z", "q");
    cr_assert_eq(sl_otlp_set(o, 0, &f, "1", 1), SL_OK);
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P2("z", "q"), 2), "1");
    cr_assert(strstr(written(o),
                     "{\"key\":\"z\",\"value\":{\"kvlistValue\":{\"values\":"
                     "[{\"key\":\"q\",\"value\":{\"stringValue\":\"1\"}}]}}}"));
    /* a level holding a string is not replaced */
    f.path = P2("b", "q");
    cr_assert_eq(sl_otlp_set(o, 0, &f, "1", 1), SL_EINVAL);
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("b"), 1), "x");
    sl_otlp_free(o);
}

Test(remove, attribute_body_and_nested) {
    sl_otlp *o = load_ok(ONE_LOG);
    sl_field f = {SL_FIELD_ATTR, P1("a"), 1};
    cr_assert(sl_otlp_remove(o, 0, &f));
    cr_assert(!sl_otlp_remove(o, 0, &f));
    cr_assert(!exists(o, 0, SL_FIELD_ATTR, P1("a"), 1));
    f.path = P2("n", "m");
    f.path_len = 2;
    cr_assert(sl_otlp_remove(o, 0, &f));
    cr_assert(exists(o, 0, SL_FIELD_ATTR, P1("n"), 1));
    f = simple(SL_FIELD_LOG_BODY);
    cr_assert(sl_otlp_remove(o, 0, &f));
    cr_assert(!sl_otlp_remove(o, 0, &f));
    f = (sl_field){SL_FIELD_RESOURCE_ATTR, P1("r"), 1};
    cr_assert(sl_otlp_remove(o, 0, &f));
    f = simple(SL_FIELD_SCOPE_NAME);
    cr_assert(sl_otlp_remove(o, 0, &f));
    cr_assert_str_eq(
        written(o),
        "{\"resourceLogs\":[{\"resource\":{\"attributes\":[]},\"scopeLogs\":"
        "[{\"scope\":{},\"logRecords\":[{\"attributes\":[{\"key\":\"b\","
        "\"value\":{\"stringValue\":\"x\"}},{\"key\":\"n\",\"value\":{"
        "\"kvlistValue\":{\"values\":[]}}}]}]}]}]}");
    sl_otlp_free(o);
}

Test(move, renamed_member_goes_last_with_its_type) {
    sl_otlp *o = load_ok(ONE_LOG);
    sl_field from = {SL_FIELD_ATTR, P1("a"), 1};
    sl_field to = {SL_FIELD_ATTR, P1("count"), 1};
    cr_assert_eq(sl_otlp_move(o, 0, &from, &to), SL_OK);
    cr_assert(!exists(o, 0, SL_FIELD_ATTR, P1("a"), 1));
    sl_value v;
    cr_assert(sl_otlp_typed(o, 0, &to, &v));
    cr_assert_eq(v.type, SL_VALUE_INT);
    cr_assert_eq(v.i, 5);
    const char *w = written(o);
    cr_assert(strstr(w, "\"attributes\":[{\"key\":\"b\",\"value\":{"
                        "\"stringValue\":\"x\"}},{\"key\":\"n\","),
              "%s", w);
    cr_assert(strstr(w, "{\"key\":\"count\",\"value\":{\"intValue\":\"5\"}}]"),
              "%s", w);
    /* nested from, one-segment to: to is read from the root, so the
     * value leaves the kvlist for a top-level key at the end */
    from.path = P2("n", "m");
    from.path_len = 2;
    to.path = P1("method");
    cr_assert_eq(sl_otlp_move(o, 0, &from, &to), SL_OK);
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("method"), 1), "GET");
    cr_assert(!exists(o, 0, SL_FIELD_ATTR, P2("n", "m"), 2));
    cr_assert(!exists(o, 0, SL_FIELD_ATTR, P2("n", "method"), 2));
    w = written(o);
    cr_assert(strstr(w, "{\"key\":\"method\",\"value\":{\"stringValue\":"
                        "\"GET\"}}]"),
              "%s", w);
    from.path = P1("method");
    from.path_len = 1;
    /* other namespaces or plain fields do not move */
    to.kind = SL_FIELD_RESOURCE_ATTR;
    cr_assert_eq(sl_otlp_move(o, 0, &from, &to), SL_EINVAL);
    sl_field body = simple(SL_FIELD_LOG_BODY);
    cr_assert_eq(sl_otlp_move(o, 0, &body, &to), SL_EINVAL);
    sl_otlp_free(o);
}

Test(move, replaces_a_present_target) {
    sl_otlp *o = load_ok(ONE_LOG);
    sl_field from = {SL_FIELD_ATTR, P1("b"), 1};
    sl_field to = {SL_FIELD_ATTR, P1("a"), 1};
    cr_assert_eq(sl_otlp_move(o, 0, &from, &to), SL_OK);
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("a"), 1), "x");
    cr_assert(!exists(o, 0, SL_FIELD_ATTR, P1("b"), 1));
    sl_otlp_free(o);
}

/* ---- write ---- */

Test(write, unchanged_request_is_written_as_read_compact) {
    const char *in = "{ \"resourceLogs\" : [ { \"scopeLogs\": [ { "
                     "\"logRecords\": [ { \"timeUnixNano\": 1.0e3, \"body\": "
                     "{ \"stringValue\": \"a\\u00e9\\n\" } } ] } ] } ], "
                     "\"extra\": 1 }";
    sl_otlp *o = load_ok(in);
    cr_assert_str_eq(written(o),
                     "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
                     "\"timeUnixNano\":1.0e3,\"body\":{\"stringValue\":"
                     "\"a\\u00e9\\n\"}}]}]}],\"extra\":1}");
    sl_otlp_free(o);
}

Test(write, drops_prune_empty_scopes_and_resources) {
    const char *in =
        "{\"resourceLogs\":["
        "{\"resource\":{\"attributes\":[{\"key\":\"r\",\"value\":{"
        "\"stringValue\":\"1\"}}]},\"scopeLogs\":["
        "{\"scope\":{\"name\":\"s1\"},\"logRecords\":[{\"body\":{"
        "\"stringValue\":\"0\"}},{\"body\":{\"stringValue\":\"1\"}}]},"
        "{\"scope\":{\"name\":\"s2\"},\"logRecords\":[{\"body\":{"
        "\"stringValue\":\"2\"}}]}],\"schemaUrl\":\"u\"},"
        "{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"3\"}}]"
        "}]}]}";
    sl_otlp *o = load_ok(in);
    sl_otlp_drop(o, 1);
    sl_otlp_drop(o, 2);
    sl_otlp_drop(o, 2); /* twice is once */
    cr_assert_str_eq(
        written(o),
        "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"r\","
        "\"value\":{\"stringValue\":\"1\"}}]},\"scopeLogs\":[{\"scope\":{"
        "\"name\":\"s1\"},\"logRecords\":[{\"body\":{\"stringValue\":\"0\"}}]"
        "}],\"schemaUrl\":\"u\"},{\"scopeLogs\":[{\"logRecords\":[{\"body\":{"
        "\"stringValue\":\"3\"}}]}]}]}");
    sl_otlp_drop(o, 0);
    sl_otlp_drop(o, 3);
    cr_assert_str_eq(written(o), "{\"resourceLogs\":[]}");
    sl_otlp_free(o);
}

Test(write, empty_scopes_in_input_are_left_out) {
    sl_otlp *o = load_ok("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[]},"
                         "{\"spans\":[{\"name\":\"a\"}]}]},{\"scopeSpans\":[]"
                         "},{}]}");
    cr_assert_str_eq(written(o), "{\"resourceSpans\":[{\"scopeSpans\":[{"
                                 "\"spans\":[{\"name\":\"a\"}]}]}]}");
    sl_otlp_free(o);
}

Test(write, appends_to_the_buffer) {
    sl_otlp *o = load_ok("{\"resourceLogs\":[]}");
    sl_buf b = {0};
    sl_buf_append(&b, "x", 1);
    cr_assert_eq(sl_otlp_write(o, &b, NULL), SL_OK);
    cr_assert_str_eq(b.ptr, "x{\"resourceLogs\":[]}");
    sl_buf_free(&b);
    sl_otlp_free(o);
}

/* ---- errors: SL_ESCHEMA with the JSON path and line:col ---- */

static void check_err(const char *json, sl_status code, uint32_t line,
                      uint32_t col, const char *msg) {
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    memset(&err, 0, sizeof(err));
    sl_status rc = sl_otlp_load(o, json, strlen(json), NULL, "in.json", &err);
    cr_assert_eq(rc, code, "%s -> %d %s", json, rc, err.msg);
    cr_assert_eq(err.code, code);
    cr_assert_str_eq(err.file, "in.json");
    cr_assert_eq(err.line, line, "%s: line %u", err.msg, err.line);
    cr_assert_eq(err.col, col, "%s: col %u", err.msg, err.col);
    cr_assert_str_eq(err.msg, msg);
    cr_assert_eq(sl_otlp_count(o), 0);
    sl_otlp_free(o);
}

Test(errors, root_not_an_object) {
    check_err("\"x\"", SL_ESCHEMA, 1, 1,
              "request: expected an object, got string");
}

Test(errors, resource_list_not_an_array) {
    check_err("{\"resourceLogs\": \"no\"}", SL_ESCHEMA, 1, 18,
              "resourceLogs: expected an array, got string");
}

Test(errors, list_entry_not_an_object) {
    check_err("{\"resourceLogs\": [{\"scopeLogs\": [{\"logRecords\":\n"
              "  [{}, 1]}]}]}",
              SL_ESCHEMA, 2, 8,
              "resourceLogs[0].scopeLogs[0].logRecords[1]: expected an "
              "object, got integer");
}

Test(errors, attributes_not_a_list_of_key_values) {
    check_err("{\"resourceLogs\":[{\"resource\":{\"attributes\":{\"a\":1}},"
              "\"scopeLogs\":[]}]}",
              SL_ESCHEMA, 1, 44,
              "resourceLogs[0].resource.attributes: expected an array of "
              "key-values, got object");
    check_err("{\"resourceLogs\":[{\"scopeLogs\":[{\"scope\":{\"attributes\":"
              "[1]}}]}]}",
              SL_ESCHEMA, 1, 56,
              "resourceLogs[0].scopeLogs[0].scope.attributes[0]: expected a "
              "key-value object, got integer");
}

Test(errors, any_value_unknown_kind_and_two_kinds) {
    check_err("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":"
              "{\"fooValue\":1}}]}]}]}",
              SL_ESCHEMA, 1, 56,
              "resourceLogs[0].scopeLogs[0].logRecords[0].body: unknown "
              "AnyValue kind");
    check_err("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":"
              "{\"stringValue\":\"a\",\"intValue\":1}}]}]}]}",
              SL_ESCHEMA, 1, 85,
              "resourceLogs[0].scopeLogs[0].logRecords[0].body: AnyValue "
              "holds more than one value");
    check_err("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":"
              "[]}]}]}]}",
              SL_ESCHEMA, 1, 55,
              "resourceLogs[0].scopeLogs[0].logRecords[0].body: expected an "
              "AnyValue object, got array");
}

Test(errors, bad_ids) {
    check_err("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
              "\"1234567890abcdef\"}]}]}]}",
              SL_ESCHEMA, 1, 55,
              "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 "
              "hex digits or an empty string, got 16 characters");
    check_err("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"spanId\":"
              "\"000000000000000G\"}]}]}]}",
              SL_ESCHEMA, 1, 54,
              "resourceSpans[0].scopeSpans[0].spans[0].spanId: expected 16 hex "
              "digits, got another character");
}

Test(errors, timestamp_not_an_integer) {
    check_err("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
              "\"timeUnixNano\":{}}]}]}]}",
              SL_ESCHEMA, 1, 63,
              "resourceLogs[0].scopeLogs[0].logRecords[0].timeUnixNano: "
              "expected an unsigned integer, got object");
    check_err("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
              "\"timeUnixNano\":\"12x\"}]}]}]}",
              SL_ESCHEMA, 1, 63,
              "resourceLogs[0].scopeLogs[0].logRecords[0].timeUnixNano: "
              "expected an unsigned integer in a decimal string");
    check_err("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
              "\"timeUnixNano\":\"99999999999999999999\"}]}]}]}",
              SL_ESCHEMA, 1, 63,
              "resourceLogs[0].scopeLogs[0].logRecords[0].timeUnixNano: "
              "expected an unsigned integer in a decimal string");
}

Test(errors, unknown_enum_name) {
    check_err("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"status\":"
              "{\"code\":\"NOT_A_STATUS\"}}]}]}]}",
              SL_ESCHEMA, 1, 62,
              "resourceSpans[0].scopeSpans[0].spans[0].status.code: unknown "
              "name for a status code");
}

Test(errors, duplicate_field_and_two_lists) {
    check_err("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
              "\"body\":{},\"body\":{}}]}]}]}",
              SL_ESCHEMA, 1, 58,
              "resourceLogs[0].scopeLogs[0].logRecords[0]: field \"body\" "
              "given twice");
    check_err("{\"resourceLogs\":[],\"resourceSpans\":[]}", SL_ESCHEMA, 1, 20,
              "request: more than one resource list");
}

Test(errors, nothing_is_written_after_a_failed_load) {
    sl_otlp *o = load_ok("{\"resourceLogs\":[]}");
    const char *bad = "{\"resourceLogs\":[1]}";
    sl_error err;
    cr_assert_eq(sl_otlp_load(o, bad, strlen(bad), NULL, NULL, &err),
                 SL_ESCHEMA);
    sl_buf b = {0};
    cr_assert_eq(sl_otlp_write(o, &b, &err), SL_EINVAL);
    cr_assert_eq(b.len, 0);
    sl_buf_free(&b);
    sl_otlp_free(o);
}

Test(errors, metric_with_two_data_kinds) {
    check_err("{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{"
              "\"gauge\":{},\"sum\":{}}]}]}]}",
              SL_ESCHEMA, 1, 68,
              "resourceMetrics[0].scopeMetrics[0].metrics[0].sum: more than "
              "one of a set of exclusive fields");
}

Test(errors, nested_any_value_path_names_indexes_not_keys) {
    check_err(
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
        "\"attributes\":[{\"key\":\"secret\",\"value\":{\"kvlistValue\":"
        "{\"values\":[{\"key\":\"k\",\"value\":{\"boolValue\":1}}]}}}]}]}]"
        "}]}",
        SL_ESCHEMA, 1, 144,
        "resourceLogs[0].scopeLogs[0].logRecords[0].attributes[0].value."
        "kvlistValue.values[0].value.boolValue: expected a bool, got "
        "integer");
}

Test(errors, bad_json_is_a_parse_error) {
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    cr_assert_eq(sl_otlp_load(o, "{\"resourceLogs\":[", 17, NULL, "x", &err),
                 SL_EPARSE);
    cr_assert_eq(sl_otlp_count(o), 0);
    cr_assert_eq(sl_otlp_write(o, &(sl_buf){0}, &err), SL_EINVAL);
    sl_otlp_free(o);
}

Test(errors, null_arguments) {
    sl_error err;
    cr_assert_eq(sl_otlp_load(NULL, "{}", 2, NULL, NULL, &err), SL_EINVAL);
    sl_otlp_free(NULL);
    cr_assert_eq(sl_otlp_count(NULL), 0);
    sl_field f = simple(SL_FIELD_LOG_BODY);
    sl_str s;
    cr_assert(!sl_otlp_get(NULL, 0, &f, &s));
    sl_otlp *o = load_ok("{}");
    cr_assert(!sl_otlp_get(o, 0, &f, &s));
    cr_assert(!sl_otlp_exists(o, 5, &f));
    cr_assert_eq(sl_otlp_set(o, 0, &f, "x", 1), SL_EINVAL);
    sl_otlp_drop(o, 3);
    sl_otlp_free(o);
}

/* ---- what the JSON mapping allows ---- */

Test(load, accepts_mapping_variants) {
    sl_otlp *o = load_ok(
        "{\"resourceLogs\":[{\"resource\":null,\"scopeLogs\":[{\"logRecords\":"
        "[{\"timeUnixNano\":1640995200000000000,\"observedTimeUnixNano\":"
        "\"1640995200000000000\",\"severityNumber\":\"SEVERITY_NUMBER_INFO\","
        "\"flags\":1.0,\"body\":{\"stringValue\":null},\"attributes\":[{"
        "\"key\":\"k\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"x\","
        "\"value\":{\"arrayValue\":{\"values\":[{\"intValue\":\"-3\"},{"
        "\"doubleValue\":\"Infinity\"}]}}}]}}}],\"unknownField\":{\"a\":[1]},"
        "\"traceId\":null}]}]},{\"scopeLogs\":null}]}");
    cr_assert_eq(sl_otlp_count(o), 1);
    cr_assert(exists(o, 0, SL_FIELD_LOG_BODY, NULL, 0));
    cr_assert(!exists(o, 0, SL_FIELD_LOG_TRACE_ID, NULL, 0));
    sl_otlp_free(o);
}

/* ---- allocation failures ---- */

Test(oom, load_fails_cleanly_at_every_allocation) {
    sl_allocator a = {t_alloc, t_realloc, t_free, NULL};
    sl_set_allocator(&a);
    bool done = false;
    for (fail_at = 1; fail_at < 10000 && !done; fail_at++) {
        n_allocs = 0;
        sl_otlp *o = sl_otlp_new();
        if (!o) {
            continue;
        }
        sl_error err;
        sl_status rc =
            sl_otlp_load(o, LOGS, strlen(LOGS), NULL, "oom.json", &err);
        if (rc == SL_OK) {
            sl_field f = {SL_FIELD_ATTR, P1("new"), 1};
            rc = sl_otlp_set(o, 0, &f, "v", 1);
            if (rc == SL_OK) {
                sl_buf b = {0};
                rc = sl_otlp_write(o, &b, &err);
                sl_buf_free(&b);
                done = rc == SL_OK;
            }
        }
        if (!done) {
            cr_assert_eq(rc, SL_ENOMEM, "at %ld: %d", fail_at, rc);
            cr_assert_eq(sl_otlp_count(o) == 0 || rc == SL_ENOMEM, true);
        }
        sl_otlp_free(o);
    }
    sl_set_allocator(NULL);
    cr_assert(done);
}

Test(errors, too_deep_and_bad_utf8_come_from_the_reader) {
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    /* 600 nested arrayValues in a body: past the 512 depth limit */
    size_t cap = 64 + 600 * 40;
    char *deep = malloc(cap);
    size_t n =
        (size_t)snprintf(deep, cap,
                         "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
                         "\"body\":");
    for (int i = 0; i < 600; i++) {
        n += (size_t)snprintf(deep + n, cap - n,
                              "{\"arrayValue\":{\"values\":[");
    }
    for (int i = 0; i < 600; i++) {
        n += (size_t)snprintf(deep + n, cap - n, "]}}");
    }
    n += (size_t)snprintf(deep + n, cap - n, "}]}]}]}");
    cr_assert_eq(sl_otlp_load(o, deep, n, NULL, "deep.json", &err), SL_ELIMIT);
    cr_assert_eq(err.line, 1);
    free(deep);
    const char *bad = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
                      "\"body\":{\"stringValue\":\"\xff\"}}]}]}]}";
    cr_assert_eq(sl_otlp_load(o, bad, strlen(bad), NULL, "u.json", &err),
                 SL_EUTF8);
    cr_assert_eq(err.line, 1);
    cr_assert_eq(sl_otlp_count(o), 0);
    sl_otlp_free(o);
}

Test(write, copies_unchanged_compact_records_and_rewrites_changed_ones) {
    /* records ending in a literal, an escaped string, a nested list, a
     * number; a body with ", " inside; an upper-case id (rewritten) */
    const char *in =
        "{\"resourceLogs\":[{\"resource\":{\"attributes\":[]},\"scopeLogs\":[{"
        "\"logRecords\":["
        "{\"body\":{\"boolValue\":true}},"
        "{\"body\":{\"stringValue\":\"a, b: [c]\"},\"x\":\"q\\\"\"},"
        "{\"traceId\":\"5B8EFFF798038103D269B633813FC60C\"},"
        "{\"attributes\":[{\"key\":\"k\",\"value\":{\"arrayValue\":{"
        "\"values\":[{\"intValue\":7}]}}}]},"
        "{\"flags\":12},"
        "{\"severityText\":\"x\",\"flags\":1}"
        "]}]}]}";
    sl_otlp *o = load_ok(in);
    sl_otlp_drop(o, 4);
    sl_field f = simple(SL_FIELD_LOG_SEVERITY_TEXT);
    cr_assert_eq(sl_otlp_set(o, 5, &f, "y", 1), SL_OK);
    cr_assert_str_eq(
        written(o),
        "{\"resourceLogs\":[{\"resource\":{\"attributes\":[]},\"scopeLogs\":[{"
        "\"logRecords\":["
        "{\"body\":{\"boolValue\":true}},"
        "{\"body\":{\"stringValue\":\"a, b: [c]\"},\"x\":\"q\\\"\"},"
        "{\"traceId\":\"5b8efff798038103d269b633813fc60c\"},"
        "{\"attributes\":[{\"key\":\"k\",\"value\":{\"arrayValue\":{"
        "\"values\":[{\"intValue\":7}]}}}]},"
        "{\"severityText\":\"y\",\"flags\":1}"
        "]}]}]}");
    /* nothing dropped: the whole request, id rewritten, in one go */
    sl_otlp *p = load_ok(in);
    const char *w = written(p);
    cr_assert(strstr(w, "5b8efff798038103d269b633813fc60c"), "%s", w);
    cr_assert(strstr(w, "{\"flags\":12}"), "%s", w);
    sl_otlp_free(p);
    sl_otlp_free(o);
}

/* One request with body b (JSON string contents) and n spaces after the
 * body's value; written back with the second record dropped. */
static void check_copy(const char *body, const char *gap) {
    char in[1024], want[1024];
    snprintf(in, sizeof(in),
             "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{"
             "\"stringValue\":\"%s\"}%s,\"flags\":1},{\"flags\":2}]}]}]}",
             body, gap);
    snprintf(want, sizeof(want),
             "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{"
             "\"stringValue\":\"%s\"},\"flags\":1}]}]}]}",
             body);
    sl_otlp *o = load_ok(in);
    sl_otlp_drop(o, 1);
    cr_assert_str_eq(written(o), want, "body %s gap '%s'", body, gap);
    sl_otlp_free(o);
}

Test(write, compactness_is_exact_around_strings_and_escapes) {
    const char *bodies[] = {
        "",
        "plain",
        "spaces , inside : [strings] { } ",
        "an escaped quote \\\" then more text past sixteen bytes",
        "ends in an escaped backslash \\\\",
        "\\\\\\\" mixed \\\" \\\\ escapes \\n\\t and \\u00e9 across blocks "
        "....",
        "0123456789abcdef0123456789abcdef\\\"0123456789abcdef",
    };
    const char *gaps[] = {"", " ", "\n", "  \t"};
    for (size_t b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++) {
        for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
            check_copy(bodies[b], gaps[g]);
        }
    }
}

/* Every printable byte at every position of a trace id (the check takes 16
 * bytes at a time, then one by one): accepted exactly when it is a hex
 * digit; upper case comes back lower. */
Test(errors, every_byte_at_every_id_position) {
    sl_otlp *o = sl_otlp_new();
    cr_assert_not_null(o);
    static const sl_field tid = {SL_FIELD_SPAN_TRACE_ID, NULL, 0};
    for (int pos = 0; pos < 32; pos++) {
        for (int b = 0x20; b < 0x7f; b++) {
            if (b == '"' || b == '\\') {
                continue;
            }
            char id[33];
            memset(id, '0', 32);
            id[32] = '\0';
            id[pos] = (char)b;
            char doc[256];
            snprintf(doc, sizeof(doc),
                     "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{"
                     "\"traceId\":\"%s\"}]}]}]}",
                     id);
            sl_error err = {0};
            sl_status rc = sl_otlp_load(o, doc, strlen(doc), NULL, NULL, &err);
            bool hex = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') ||
                       (b >= 'A' && b <= 'F');
            cr_assert_eq(rc, hex ? SL_OK : SL_ESCHEMA, "byte %d at %d: %s", b,
                         pos, err.msg);
            if (hex) {
                sl_str v;
                cr_assert(sl_otlp_get(o, 0, &tid, &v));
                char want =
                    b >= 'A' && b <= 'F' ? (char)(b - 'A' + 'a') : (char)b;
                cr_assert_eq(v.ptr[pos], want, "byte %d at %d", b, pos);
            }
        }
    }
    sl_otlp_free(o);
}

/* Attributes are read through an index built at load (the first KeyValue
 * of a key wins, one without a key is never found); every change to a
 * list makes reads of that list walk the tree again, so a read after a
 * set, remove or move sees the change, at every level. */
Test(get, attribute_reads_follow_changes_at_every_level) {
    sl_otlp *o = load_ok(
        "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"svc\","
        "\"value\":{\"stringValue\":\"api\"}}]},\"scopeLogs\":[{\"scope\":{"
        "\"attributes\":[{\"key\":\"lib\",\"value\":{\"stringValue\":\"x\"}}]},"
        "\"logRecords\":[{\"attributes\":[{\"value\":{\"stringValue\":\"nokey\""
        "}},{\"key\":\"a\",\"value\":{\"stringValue\":\"1\"}},{\"key\":\"a\","
        "\"value\":{\"stringValue\":\"2\"}},{\"key\":\"b\",\"value\":{"
        "\"intValue\":\"7\"}}]},{\"attributes\":[{\"key\":\"a\",\"value\":{"
        "\"stringValue\":\"other\"}}]}]}]}]}");
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("a"), 1), "1");
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("b"), 1), "<none>");
    cr_assert(exists(o, 0, SL_FIELD_ATTR, P1("b"), 1));
    cr_assert_not(exists(o, 0, SL_FIELD_ATTR, P1(""), 1));
    cr_assert_str_eq(get(o, 1, SL_FIELD_RESOURCE_ATTR, P1("svc"), 1), "api");
    cr_assert_str_eq(get(o, 1, SL_FIELD_SCOPE_ATTR, P1("lib"), 1), "x");

    sl_field a = {SL_FIELD_ATTR, P1("a"), 1};
    cr_assert_eq(sl_otlp_set(o, 0, &a, "new", 3), SL_OK);
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("a"), 1), "new");
    cr_assert(sl_otlp_remove(o, 0, &a));
    cr_assert_str_eq(get(o, 0, SL_FIELD_ATTR, P1("a"), 1), "<none>");
    sl_field b = {SL_FIELD_ATTR, P1("b"), 1}, c = {SL_FIELD_ATTR, P1("c"), 1};
    cr_assert_eq(sl_otlp_move(o, 0, &b, &c), SL_OK);
    cr_assert_not(exists(o, 0, SL_FIELD_ATTR, P1("b"), 1));
    cr_assert(exists(o, 0, SL_FIELD_ATTR, P1("c"), 1));
    /* the other record's index is untouched and still right */
    cr_assert_str_eq(get(o, 1, SL_FIELD_ATTR, P1("a"), 1), "other");

    sl_field svc = {SL_FIELD_RESOURCE_ATTR, P1("svc"), 1};
    cr_assert_eq(sl_otlp_set(o, 0, &svc, "web", 3), SL_OK);
    cr_assert_str_eq(get(o, 1, SL_FIELD_RESOURCE_ATTR, P1("svc"), 1), "web");
    sl_field lib = {SL_FIELD_SCOPE_ATTR, P1("lib"), 1};
    cr_assert(sl_otlp_remove(o, 1, &lib));
    cr_assert_str_eq(get(o, 0, SL_FIELD_SCOPE_ATTR, P1("lib"), 1), "<none>");
    sl_otlp_free(o);
}

/* Field lookups try the order the previous object of the same message
 * used: records in different orders, with unknown fields between, are read
 * the same; a field given twice is still caught after an order was
 * learned. */
Test(get, records_in_any_field_order) {
    sl_otlp *o = load_ok(
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":["
        "{\"severityText\":\"A\",\"body\":{\"stringValue\":\"a\"},"
        "\"traceId\":\"0102030405060708090a0b0c0d0e0f10\"},"
        "{\"traceId\":\"1102030405060708090a0b0c0d0e0f10\",\"x\":1,"
        "\"body\":{\"stringValue\":\"b\"},\"severityText\":\"B\"},"
        "{\"body\":{\"stringValue\":\"c\"},\"severity_text\":\"C\"}]}]}]}");
    cr_assert_str_eq(gets_(o, 0, SL_FIELD_LOG_SEVERITY_TEXT), "A");
    cr_assert_str_eq(gets_(o, 1, SL_FIELD_LOG_SEVERITY_TEXT), "B");
    cr_assert_str_eq(gets_(o, 1, SL_FIELD_LOG_BODY), "b");
    cr_assert_str_eq(gets_(o, 1, SL_FIELD_LOG_TRACE_ID),
                     "1102030405060708090a0b0c0d0e0f10");
    cr_assert_str_eq(gets_(o, 2, SL_FIELD_LOG_SEVERITY_TEXT), "C");
    cr_assert_str_eq(gets_(o, 2, SL_FIELD_LOG_TRACE_ID), "<none>");
    sl_otlp_free(o);
    check_err("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":["
              "{\"severityText\":\"A\",\"body\":{\"stringValue\":\"a\"}},"
              "{\"severityText\":\"A\",\"severity_text\":\"B\"}]}]}]}",
              SL_ESCHEMA, 1, 115,
              "resourceLogs[0].scopeLogs[0].logRecords[1]: field "
              "\"severityText\" given twice");
}

/* tests/otlp/test_index.c: the load fast paths against the slow ones they
 * replaced. Every field a policy can read (get / exists / typed, all field
 * kinds, attribute paths of odd shapes) must read the same
 *   - through the attribute index the validator fills in its own walk and
 *     through a plain walk of the attribute list (the index turned off);
 *   - through the record / scope / resource slots load fills and through
 *     the rescans that find them again without validating;
 *   - after a JSON load and after loading the same request as protobuf
 *     (whose decoder hands record slots to the index and whose attribute
 *     lists are indexed by key pointers, not by the JSON validator). */
#include <sluice/otlp.h>

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../fuzz/otlp_kinds.h"
#include "otlp/private.h"

static const sl_str seg_service[] = {{"service.name", 12}};
static const sl_str seg_k[] = {{"k", 1}};
static const sl_str seg_a[] = {{"a", 1}};
static const sl_str seg_dup[] = {{"dup", 3}};
static const sl_str seg_nested[] = {{"nested", 6}, {"inner", 5}};
static const sl_str seg_empty[] = {{"", 0}};
static const sl_str seg_novalue[] = {{"novalue", 7}};
static const sl_str seg_emptyany[] = {{"emptyany", 8}};
static const sl_str seg_route[] = {{"http.route", 10}};

static const otlp_path paths[] = {
    {NULL, 0},        {seg_service, 1},  {seg_k, 1},      {seg_a, 1},
    {seg_dup, 1},     {seg_nested, 2},   {seg_nested, 1}, {seg_empty, 1},
    {seg_novalue, 1}, {seg_emptyany, 1}, {seg_route, 1},
};

/* Everything a policy can read of every record, as text. */
static void snapshot(const sl_otlp *o, sl_buf *out) {
    out->len = 0;
    cr_assert(otlp_reads(o, 0, paths, sizeof(paths) / sizeof(paths[0]), out));
}

/* Turn every attribute index off: readers walk the lists (the oracle). */
static void unindex(sl_otlp *o) {
    for (size_t i = 0; i < o->nrec; i++) {
        o->recs[i].nkvx = SL__KVX_NONE;
    }
    for (size_t g = 0; g < o->nscope; g++) {
        o->scopes[g].nkvx = SL__KVX_NONE;
    }
    for (size_t r = 0; r < o->nres; r++) {
        o->res[r].nkvx = SL__KVX_NONE;
    }
}

/* Find every slot again with the rescans (no validation, key compares). */
static void rescan(sl_otlp *o) {
    for (size_t i = 0; i < o->nrec; i++) {
        sl__otlp_rescan_record(o, i);
    }
    for (size_t g = 0; g < o->nscope; g++) {
        sl__otlp_rescan_scope(o, g);
    }
    for (size_t r = 0; r < o->nres; r++) {
        sl__otlp_rescan_res(o, r);
    }
}

static void expect_same(const sl_buf *a, const sl_buf *b, const char *what) {
    size_t n = a->len < b->len ? a->len : b->len, at = 0;
    while (at < n && a->ptr[at] == b->ptr[at]) {
        at++;
    }
    cr_assert(a->len == b->len && at == n,
              "%s: differs at byte %zu: ...%.80s... vs ...%.80s...", what, at,
              a->ptr + at, b->ptr + at);
}

/* The fast paths of one loaded batch against its slow paths: the same
 * snapshot as want. */
static void check_paths(sl_otlp *o, const sl_buf *want, const char *what) {
    sl_buf got = {0};
    char label[64];
    snapshot(o, &got);
    snprintf(label, sizeof(label), "%s, as loaded", what);
    expect_same(want, &got, label);
    unindex(o);
    snapshot(o, &got);
    snprintf(label, sizeof(label), "%s, attribute lists walked", what);
    expect_same(want, &got, label);
    rescan(o);
    snapshot(o, &got);
    snprintf(label, sizeof(label), "%s, slots rescanned", what);
    expect_same(want, &got, label);
    sl_buf_free(&got);
}

/* JSON load: fast == slow; then the same request through protobuf (when
 * cross is set: the request has no JSON-only shapes such as an empty key,
 * which proto3 cannot tell from a missing one): the same reads again. */
static void check_request(const char *json, bool cross) {
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    memset(&err, 0, sizeof(err));
    cr_assert_eq(sl_otlp_load(o, json, strlen(json), NULL, "t.json", &err),
                 SL_OK, "%s", err.msg);
    cr_assert_gt(sl_otlp_count(o), 0);
    sl_buf want = {0}, pb = {0};
    snapshot(o, &want);
    cr_assert_eq(sl_otlp_write_proto(o, &pb, &err), SL_OK, "%s", err.msg);
    sl_signal sig = sl_otlp_signal(o);
    check_paths(o, &want, "json");
    sl_otlp *q = sl_otlp_new();
    cr_assert_eq(sl_otlp_load_proto(q, sig, pb.ptr, pb.len, "t.pb", &err),
                 SL_OK, "%s", err.msg);
    if (cross) {
        check_paths(q, &want, "protobuf");
    } else {
        sl_buf pwant = {0};
        snapshot(q, &pwant);
        check_paths(q, &pwant, "protobuf");
        sl_buf_free(&pwant);
    }
    sl_buf_free(&want);
    sl_buf_free(&pb);
    sl_otlp_free(q);
    sl_otlp_free(o);
}

Test(index, log_attributes_of_every_shape_read_the_same_on_every_path) {
    check_request(
        "{\"resourceLogs\":[{\"resource\":{\"attributes\":["
        "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"svc\"}},"
        "{\"value\":{\"intValue\":\"5\"},\"key\":\"k\"},"
        "{\"key\":\"dup\",\"value\":{\"stringValue\":\"one\"}},"
        "{\"key\":\"dup\",\"value\":{\"stringValue\":\"two\"}},"
        "{\"key\":null,\"value\":{\"stringValue\":\"null-key\"}},"
        "{\"key\":\"novalue\"},"
        "{\"key\":\"emptyany\",\"value\":{}},"
        "{\"key\":\"a\",\"value\":{\"stringValue\":\"\"}}]},"
        "\"scopeLogs\":[{\"scope\":{\"name\":\"lib\",\"version\":null,"
        "\"attributes\":[{\"key\":\"a\",\"value\":{\"boolValue\":true}}]},"
        "\"logRecords\":[{\"severityText\":\"INFO\","
        "\"body\":{\"stringValue\":\"hello\"},\"attributes\":["
        "{\"key\":\"nested\",\"value\":{\"kvlistValue\":{\"values\":["
        "{\"key\":\"inner\",\"value\":{\"stringValue\":\"deep\"}}]}}},"
        "{\"key\":\"a\",\"value\":{\"doubleValue\":2.5}}],"
        "\"traceId\":\"5B8EFFF798038103D269B633813FC60C\","
        "\"spanId\":\"EEE19B7EC3C1B174\"},"
        "{\"body\":{\"kvlistValue\":{\"values\":[]}},\"severityText\":\"\","
        "\"attributes\":[]}]},"
        "{\"schemaUrl\":\"s2\",\"logRecords\":[{\"eventName\":\"ev\","
        "\"attributes\":[{\"value\":{\"bytesValue\":\"AQI=\"},\"key\":\"a\"}"
        "]}]}]},"
        "{\"schemaUrl\":\"r2\",\"scopeLogs\":[{\"scope\":{\"name\":\"other\"},"
        "\"logRecords\":[{\"body\":{\"stringValue\":\"\"}}]}]}]}",
        true);
}

Test(index, json_only_shapes_read_the_same_on_every_path_of_one_encoding) {
    /* an empty key (proto3 drops it), snake_case names, members out of
     * the usual order */
    check_request(
        "{\"resource_logs\":[{\"scope_logs\":[{\"log_records\":[{"
        "\"attributes\":[{\"value\":{\"string_value\":\"e\"},\"key\":\"\"},"
        "{\"key\":\"k\",\"value\":{\"int_value\":7}}],"
        "\"severity_text\":\"WARN\",\"body\":{\"string_value\":\"b\"}}],"
        "\"scope\":{\"attributes\":[{\"key\":\"\",\"value\":{}}],"
        "\"name\":\"n\"}}],\"resource\":{\"attributes\":[{\"key\":\"\","
        "\"value\":{\"stringValue\":\"r\"}}]}}]}",
        false);
}

Test(index, metric_data_points_read_the_same_on_every_path) {
    check_request(
        "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":"
        "\"service.name\",\"value\":{\"stringValue\":\"m\"}}]},"
        "\"scopeMetrics\":[{\"scope\":{\"name\":\"ms\"},\"metrics\":["
        "{\"name\":\"g\",\"unit\":\"1\",\"gauge\":{\"dataPoints\":[{\"asInt\":"
        "\"3\",\"attributes\":[{\"key\":\"a\",\"value\":{\"stringValue\":"
        "\"dp\"}}]}]}},"
        "{\"name\":\"s\",\"sum\":{\"aggregationTemporality\":2,"
        "\"isMonotonic\":true,\"dataPoints\":[{\"asDouble\":1.5}]}},"
        "{\"name\":\"h\",\"histogram\":{\"dataPoints\":[{\"count\":\"2\","
        "\"bucketCounts\":[\"1\",\"1\"],\"explicitBounds\":[1.0],"
        "\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":\"7\"}}]}]}},"
        "{\"name\":\"e\",\"exponentialHistogram\":{\"dataPoints\":[{"
        "\"attributes\":[{\"key\":\"a\",\"value\":{\"stringValue\":\"x\"}}]"
        "}]}},"
        "{\"name\":\"q\",\"description\":\"d\",\"summary\":{\"dataPoints\":["
        "{\"quantileValues\":[{\"quantile\":0.5,\"value\":1}]}]}}]}]}]}",
        true);
}

Test(index, spans_events_and_links_read_the_same_on_every_path) {
    check_request(
        "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":"
        "\"service.name\",\"value\":{\"stringValue\":\"t\"}}]},"
        "\"scopeSpans\":[{\"scope\":{\"name\":\"ts\",\"version\":\"1\"},"
        "\"spans\":[{\"traceId\":\"5b8efff798038103d269b633813fc60c\","
        "\"spanId\":\"eee19b7ec3c1b174\",\"parentSpanId\":\"\","
        "\"traceState\":\"ot=th:8\",\"name\":\"op\",\"kind\":2,"
        "\"attributes\":[{\"key\":\"http.route\",\"value\":{\"stringValue\":"
        "\"/x\"}},{\"key\":\"a\",\"value\":{\"arrayValue\":{\"values\":["
        "{\"stringValue\":\"1\"}]}}}],"
        "\"events\":[{\"name\":\"e1\",\"attributes\":[{\"key\":\"a\","
        "\"value\":{\"stringValue\":\"ev\"}}]}],"
        "\"links\":[{\"traceId\":\"5b8efff798038103d269b633813fc60c\","
        "\"spanId\":\"eee19b7ec3c1b174\"}],"
        "\"status\":{\"code\":2,\"message\":\"bad\"}},"
        "{\"name\":\"second\",\"kind\":\"SPAN_KIND_CLIENT\"}]}]}]}",
        true);
}

/* ---- protobuf shapes JSON cannot produce ---- */

typedef struct pb {
    unsigned char b[1024];
    size_t n;
} pb;

static void pb_varint(pb *p, uint64_t v) {
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        p->b[p->n++] = c | (v ? 0x80 : 0);
    } while (v);
}

static void pb_bytes(pb *p, unsigned num, const void *s, size_t n) {
    pb_varint(p, (uint64_t)num << 3 | 2);
    pb_varint(p, n);
    memcpy(p->b + p->n, s, n);
    p->n += n;
}

static void pb_str(pb *p, unsigned num, const char *s) {
    pb_bytes(p, num, s, strlen(s));
}

static void pb_msg(pb *p, unsigned num, const pb *sub) {
    pb_bytes(p, num, sub->b, sub->n);
}

/* A protobuf request the decoder builds in an unusual order: its record
 * slots (handed over by the decoder) read as the validating rescans find
 * them. */
static void check_proto(sl_signal sig, const pb *req) {
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    memset(&err, 0, sizeof(err));
    cr_assert_eq(
        sl_otlp_load_proto(o, sig, (const char *)req->b, req->n, "t.pb", &err),
        SL_OK, "%s", err.msg);
    cr_assert_gt(sl_otlp_count(o), 0);
    sl_buf before = {0}, after = {0};
    snapshot(o, &before);
    rescan(o);
    unindex(o);
    snapshot(o, &after);
    expect_same(&before, &after, "decoder slots vs rescan");
    /* and the JSON it writes loads to the same reads */
    sl_buf js = {0};
    cr_assert_eq(sl_otlp_write(o, &js, &err), SL_OK, "%s", err.msg);
    sl_otlp *j = sl_otlp_new();
    cr_assert_eq(sl_otlp_load(j, js.ptr, js.len, NULL, "t.json", &err), SL_OK,
                 "%s", err.msg);
    snapshot(j, &after);
    expect_same(&before, &after, "protobuf vs its JSON");
    sl_buf_free(&js);
    sl_buf_free(&before);
    sl_buf_free(&after);
    sl_otlp_free(j);
    sl_otlp_free(o);
}

Test(index, protobuf_oneof_replaced_and_fields_merged_keep_the_right_slots) {
    /* a metric whose gauge is replaced by a sum (oneof: the last wins) and
     * whose name comes after its data, given twice */
    pb dp = {0}, gauge = {0}, sum = {0}, metric = {0}, sm = {0}, rm = {0},
       req = {0}, kv = {0}, any = {0};
    pb_str(&any, 1, "v");
    pb_str(&kv, 1, "a");
    pb_msg(&kv, 2, &any);
    pb_msg(&dp, 7, &kv); /* number data point attributes */
    pb_msg(&gauge, 1, &dp);
    pb_msg(&sum, 1, &dp);
    pb_str(&metric, 1, "first");
    pb_msg(&metric, 5, &gauge);
    pb_str(&metric, 2, "desc");
    pb_msg(&metric, 7, &sum);
    pb_str(&metric, 1, "last");
    pb_msg(&sm, 2, &metric);
    pb_msg(&sm, 2, &metric);
    pb_msg(&rm, 2, &sm);
    pb_msg(&req, 1, &rm);
    check_proto(SL_SIGNAL_METRIC, &req);
}

Test(index, protobuf_lists_split_by_other_fields_index_in_order) {
    /* scopeLogs, then the resource, then more scopeLogs; records split
     * around the scope; two resources */
    pb r1 = {0}, r2 = {0}, r3 = {0}, body = {0}, scope = {0}, sl1 = {0},
       sl2 = {0}, res = {0}, kv = {0}, any = {0}, rl = {0}, rl2 = {0},
       req = {0};
    pb_str(&body, 1, "one");
    pb_msg(&r1, 5, &body);
    pb_str(&r2, 3, "WARN");
    pb_str(&r3, 12, "ev");
    pb_str(&scope, 1, "lib");
    pb_msg(&sl1, 2, &r1);
    pb_msg(&sl1, 1, &scope);
    pb_msg(&sl1, 2, &r2);
    pb_msg(&sl2, 2, &r3);
    pb_str(&sl2, 3, "schema");
    pb_str(&any, 1, "svc");
    pb_str(&kv, 1, "service.name");
    pb_msg(&kv, 2, &any);
    pb_msg(&res, 1, &kv);
    pb_msg(&rl, 2, &sl1);
    pb_msg(&rl, 1, &res);
    pb_msg(&rl, 2, &sl2);
    pb_msg(&rl2, 2, &sl2);
    pb_msg(&req, 1, &rl);
    pb_msg(&req, 1, &rl2);
    check_proto(SL_SIGNAL_LOG, &req);
}

Test(index, protobuf_record_attributes_indexed_by_the_decoder_read_as_walked) {
    /* the decoder builds a record's attribute index as its KeyValues end:
     * attributes split by other fields, a value before its key, a key
     * given twice, a value given twice (merged: the oneof's last member
     * wins), a KeyValue without key, nested KeyValues in a kvlist (not
     * entries of the record's index) and two records in a row */
    pb rec = {0}, rec2 = {0}, body = {0}, sl = {0}, rl = {0}, req = {0};
    pb kv[6] = {0}, any[6] = {0}, kvl = {0}, inner = {0};
    pb_str(&any[0], 1, "v");
    pb_str(&kv[0], 1, "a");
    pb_msg(&kv[0], 2, &any[0]);
    pb_msg(&kv[1], 2, &any[0]); /* value first */
    pb_str(&kv[1], 1, "x");
    pb_str(&kv[1], 1, "k");      /* the last key wins */
    pb_varint(&any[1], 3u << 3); /* intValue 7 (field 3, varint) */
    pb_varint(&any[1], 7);
    pb_str(&kv[2], 1, "dup");
    pb_msg(&kv[2], 2, &any[0]);
    pb_msg(&kv[2], 2, &any[1]); /* merged: intValue replaces stringValue */
    pb_msg(&kv[3], 2, &any[0]); /* no key */
    pb_str(&inner, 1, "inner");
    pb_msg(&inner, 2, &any[0]);
    pb_msg(&kvl, 1, &inner);
    pb_msg(&any[2], 6, &kvl); /* kvlistValue */
    pb_str(&kv[4], 1, "nested");
    pb_msg(&kv[4], 2, &any[2]);
    pb_msg(&rec, 6, &kv[0]);
    pb_str(&body, 1, "b");
    pb_msg(&rec, 5, &body);
    pb_msg(&rec, 6, &kv[1]);
    pb_str(&rec, 3, "WARN");
    pb_msg(&rec, 6, &kv[2]);
    pb_msg(&rec, 6, &kv[3]);
    pb_msg(&rec, 6, &kv[4]);
    pb_str(&kv[5], 1, "dup");
    pb_msg(&kv[5], 2, &any[1]);
    pb_msg(&rec2, 6, &kv[5]);
    pb_msg(&rec2, 6, &kv[0]);
    pb_msg(&sl, 2, &rec);
    pb_msg(&sl, 2, &rec2);
    pb_msg(&rl, 2, &sl);
    pb_msg(&req, 1, &rl);
    check_proto(SL_SIGNAL_LOG, &req);
}

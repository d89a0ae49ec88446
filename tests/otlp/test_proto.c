/* tests/otlp/test_proto.c: the OTLP protobuf codec: hand-built messages
 * decode into the JSON mapping's tree (ids hex, int64 strings, bytes
 * base64, defaults left out); untouched requests re-encode byte for byte;
 * changed ones keep unknown fields; malformed input gets SL_EPARSE /
 * SL_ESCHEMA / SL_ELIMIT naming the field path and offset; and the
 * equivalence: for every OTLP JSON sample and policy conformance input,
 * JSON -> protobuf -> policies -> JSON equals JSON -> policies -> JSON. */
#include <sluice/otlp.h>
#include <sluice/policy.h>

#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/read_file.h"

/* ---- a tiny protobuf writer for hand-made inputs ---- */

typedef struct pb {
    unsigned char b[4096];
    size_t n;
} pb;

/* Whether needle occurs in hay (memmem is not C17). */
static const void *has(const void *hay, size_t n, const void *needle,
                       size_t m) {
    for (size_t i = 0; m <= n && i <= n - m; i++) {
        if (memcmp((const char *)hay + i, needle, m) == 0) {
            return (const char *)hay + i;
        }
    }
    return NULL;
}

static void pb_varint(pb *p, uint64_t v) {
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        p->b[p->n++] = c | (v ? 0x80 : 0);
    } while (v);
}

static void pb_tag(pb *p, unsigned num, unsigned wt) {
    pb_varint(p, (uint64_t)num << 3 | wt);
}

static void pb_bytes(pb *p, unsigned num, const void *s, size_t n) {
    pb_tag(p, num, 2);
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

static void pb_fixed64(pb *p, unsigned num, uint64_t v) {
    pb_tag(p, num, 1);
    for (int i = 0; i < 8; i++) {
        p->b[p->n++] = (unsigned char)(v >> (8 * i));
    }
}

/* A logs request around one log record (its bytes). */
static pb logs_request(const pb *rec) {
    pb scope = {0}, res = {0}, req = {0}, sc = {0};
    pb_str(&sc, 1, "lib");
    pb_msg(&scope, 1, &sc);
    pb_msg(&scope, 2, rec);
    pb_msg(&res, 2, &scope);
    pb_msg(&req, 1, &res);
    return req;
}

static char *json_of(sl_otlp *o) {
    static char out[65536];
    sl_buf b = {0};
    sl_error err = {0};
    cr_assert_eq(sl_otlp_write(o, &b, &err), SL_OK, "%s", err.msg);
    snprintf(out, sizeof(out), "%.*s", (int)b.len, b.ptr ? b.ptr : "");
    sl_buf_free(&b);
    return out;
}

static sl_buf proto_of(sl_otlp *o) {
    sl_buf b = {0};
    sl_error err = {0};
    cr_assert_eq(sl_otlp_write_proto(o, &b, &err), SL_OK, "%s", err.msg);
    return b;
}

static sl_status load_pb(sl_otlp *o, const pb *p, sl_error *err) {
    memset(err, 0, sizeof(*err));
    return sl_otlp_load_proto(o, SL_SIGNAL_LOG, (const char *)p->b, p->n,
                              "t.pb", err);
}

/* The body of a one-record request's JSON, between "body": and ,"... */
static void body_json_is(const char *text, size_t n, const char *want) {
    pb rec = {0}, body = {0};
    pb_bytes(&body, 1, text, n);
    pb_msg(&rec, 5, &body);
    pb req = logs_request(&rec);
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    cr_assert_eq(load_pb(o, &req, &err), SL_OK, "%s", err.msg);
    const char *js = json_of(o);
    const char *b = strstr(js, "\"body\":{\"stringValue\":");
    cr_assert(b, "%s", js);
    b += strlen("\"body\":{\"stringValue\":");
    cr_assert(strncmp(b, want, strlen(want)) == 0 && b[strlen(want)] == '}',
              "%zu bytes: got %s, want %s", n, b, want);
    sl_otlp_free(o);
}

Test(proto, plain_strings_are_copied_and_the_rest_escaped_at_every_length) {
    /* the decoder's plain check reads words with an overlapping last one:
     * a byte needing escape at each position of 1..20-byte strings */
    static const char *const specials[] = {"\"", "\\", "\n", "\x01",
                                           "\xc3\xa9"};
    static const char *const escaped[] = {"\\\"", "\\\\", "\\n", "\\u0001",
                                          "\xc3\xa9"};
    for (size_t n = 0; n <= 20; n++) {
        char text[32], want[64];
        memset(text, 'a', n);
        want[0] = '"';
        memset(want + 1, 'a', n);
        memcpy(want + 1 + n, "\"", 2);
        body_json_is(text, n, want); /* all plain */
        for (size_t at = 0; at < n; at++) {
            for (size_t k = 0; k < 5; k++) {
                size_t sl = strlen(specials[k]), el = strlen(escaped[k]);
                if (at + sl > n) {
                    continue;
                }
                memset(text, 'a', n);
                memcpy(text + at, specials[k], sl);
                size_t w = 0;
                want[w++] = '"';
                memset(want + w, 'a', at);
                w += at;
                memcpy(want + w, escaped[k], el);
                w += el;
                memset(want + w, 'a', n - at - sl);
                w += n - at - sl;
                memcpy(want + w, "\"", 2);
                body_json_is(text, n, want);
            }
        }
    }
}

Test(proto, a_plain_string_changed_to_text_needing_escapes_is_escaped) {
    pb rec = {0}, kv = {0}, val = {0};
    pb_str(&val, 1, "plain");
    pb_str(&kv, 1, "k");
    pb_msg(&kv, 2, &val);
    pb_msg(&rec, 6, &kv);
    pb req = logs_request(&rec);
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    cr_assert_eq(load_pb(o, &req, &err), SL_OK, "%s", err.msg);
    sl_field k = {SL_FIELD_ATTR, (const sl_str[]){{"k", 1}}, 1};
    cr_assert_eq(sl_otlp_set(o, 0, &k, "say \"hi\"", 8), SL_OK);
    sl_field q = {SL_FIELD_ATTR, (const sl_str[]){{"q\"", 2}}, 1};
    cr_assert_eq(sl_otlp_move(o, 0, &k, &q), SL_OK);
    const char *js = json_of(o);
    cr_assert(strstr(js, "{\"key\":\"q\\\"\",\"value\":{\"stringValue\":"
                         "\"say \\\"hi\\\"\"}}"),
              "%s", js);
    sl_otlp_free(o);
}

/* ---- decoding into the JSON mapping ---- */

Test(proto, decodes_a_log_record_as_the_json_mapping_would) {
    pb rec = {0}, body = {0}, kv = {0}, val = {0};
    static const unsigned char tid[16] = {
        0x5b, 0x8e, 0xff, 0xf7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    pb_fixed64(&rec, 1, 1544712660300000000ull);
    pb_tag(&rec, 2, 0);
    pb_varint(&rec, 9);
    pb_str(&rec, 3, "INFO");
    pb_str(&body, 1, "hello \"world\"");
    pb_msg(&rec, 5, &body);
    pb_str(&kv, 1, "k");
    pb_bytes(&val, 7, "\x00\xff\x10", 3);
    pb_msg(&kv, 2, &val);
    pb_msg(&rec, 6, &kv);
    pb_bytes(&rec, 9, tid, 16);
    pb_tag(&rec, 7, 0); /* dropped_attributes_count = 0: a proto3 default */
    pb_varint(&rec, 0);
    pb req = logs_request(&rec);
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    cr_assert_eq(load_pb(o, &req, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_otlp_signal(o), SL_SIGNAL_LOG);
    cr_assert_eq(sl_otlp_count(o), 1);
    cr_assert_str_eq(
        json_of(o),
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"scope\":{\"name\":\"lib\"},"
        "\"logRecords\":[{\"timeUnixNano\":\"1544712660300000000\","
        "\"severityNumber\":9,\"severityText\":\"INFO\",\"body\":{"
        "\"stringValue\":\"hello \\\"world\\\"\"},\"attributes\":[{\"key\":"
        "\"k\",\"value\":{\"bytesValue\":\"AP8Q\"}}],\"traceId\":"
        "\"5b8efff70102030405060708090a0b0c\"}]}]}]}");
    sl_field f = {SL_FIELD_LOG_TRACE_ID, NULL, 0};
    sl_str s;
    cr_assert(sl_otlp_get(o, 0, &f, &s));
    cr_assert_eq(s.len, 32);
    f.kind = SL_FIELD_LOG_SEVERITY_TEXT;
    cr_assert(sl_otlp_get(o, 0, &f, &s));
    /* strings are read in place */
    cr_assert(s.ptr >= (const char *)req.b &&
              s.ptr < (const char *)req.b + req.n);
    sl_otlp_free(o);
}

/* The field lookup by number: LogRecord has no field 4, so fields 5 and
 * up sit one before their number in the schema's table; found whatever
 * the order on the wire, an unknown 4 skipped. Lengths of one byte and of
 * several (a 300-byte body) read alike. */
Test(proto, fields_are_found_by_number_in_any_order_and_any_length_size) {
    char big[301];
    memset(big, 'x', 300);
    big[300] = '\0';
    static const unsigned char sid[8] = {1, 2, 3, 4, 5, 6, 7, 0xab};
    pb body = {0}, fwd = {0}, rev = {0};
    pb_str(&body, 1, big);
    /* increasing numbers, an unknown field 4 among them */
    pb_fixed64(&fwd, 1, 7);
    pb_str(&fwd, 3, "WARN");
    pb_str(&fwd, 4, "unknown");
    pb_msg(&fwd, 5, &body);
    pb_bytes(&fwd, 10, sid, 8);
    pb_fixed64(&fwd, 11, 8);
    pb_str(&fwd, 12, "ev");
    /* the same fields, decreasing */
    pb_str(&rev, 12, "ev");
    pb_fixed64(&rev, 11, 8);
    pb_bytes(&rev, 10, sid, 8);
    pb_msg(&rev, 5, &body);
    pb_str(&rev, 4, "unknown");
    pb_str(&rev, 3, "WARN");
    pb_fixed64(&rev, 1, 7);
    const pb *recs[2] = {&fwd, &rev};
    for (int k = 0; k < 2; k++) {
        pb req = logs_request(recs[k]);
        sl_otlp *o = sl_otlp_new();
        sl_error err;
        cr_assert_eq(load_pb(o, &req, &err), SL_OK, "%s", err.msg);
        const char *js = json_of(o);
        cr_assert(strstr(js, "\"timeUnixNano\":\"7\""), "%s", js);
        cr_assert(strstr(js, "\"severityText\":\"WARN\""), "%s", js);
        cr_assert(strstr(js, "\"spanId\":\"01020304050607ab\""), "%s", js);
        cr_assert(strstr(js, "\"observedTimeUnixNano\":\"8\""), "%s", js);
        cr_assert(strstr(js, "\"eventName\":\"ev\""), "%s", js);
        cr_assert(strstr(js, big), "the 300-byte body: %s", js);
        cr_assert(!strstr(js, "unknown"), "%s", js);
        sl_field f = {SL_FIELD_LOG_SEVERITY_TEXT, NULL, 0};
        sl_str s;
        cr_assert(sl_otlp_get(o, 0, &f, &s));
        cr_assert(s.len == 4 && memcmp(s.ptr, "WARN", 4) == 0);
        sl_otlp_free(o);
    }
}

/* The body's JSON for an AnyValue of these bytes (a one-record request). */
static const char *body_of_any(const pb *any) {
    pb rec = {0};
    pb_msg(&rec, 5, any);
    pb req = logs_request(&rec);
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    cr_assert_eq(load_pb(o, &req, &err), SL_OK, "%s", err.msg);
    static char out[1024];
    const char *js = json_of(o);
    const char *b = strstr(js, "\"body\":");
    cr_assert(b, "%s", js);
    snprintf(out, sizeof(out), "%s", b + strlen("\"body\":"));
    out[strlen(out) - strlen("}]}]}]}")] = '\0'; /* the request's closing */
    sl_otlp_free(o);
    return out;
}

/* 64-bit integers become decimal strings, eight digits at a time from the
 * right: every length from 1 to 20 digits, the edges of an eight-digit
 * group and the largest value, each as printf writes it. */
Test(proto, sixty_four_bit_values_become_their_decimal_text) {
    const uint64_t us[] = {1,
                           9,
                           10,
                           99,
                           100,
                           12345678,
                           99999999,
                           100000000,
                           100000001,
                           1234567890123456789ull,
                           1763900000000000002ull,
                           9999999999999999ull,
                           10000000000000000ull,
                           18446744073709551615ull};
    for (size_t i = 0; i < sizeof(us) / sizeof(us[0]); i++) {
        pb rec = {0};
        pb_fixed64(&rec, 1, us[i]); /* timeUnixNano */
        pb req = logs_request(&rec);
        sl_otlp *o = sl_otlp_new();
        sl_error err;
        cr_assert_eq(load_pb(o, &req, &err), SL_OK, "%s", err.msg);
        char want[64];
        snprintf(want, sizeof(want), "\"timeUnixNano\":\"%llu\"",
                 (unsigned long long)us[i]);
        cr_assert(strstr(json_of(o), want), "%s in %s", want, json_of(o));
        sl_otlp_free(o);
    }
    for (uint64_t u = 1, n = 1; n <= 20; n++, u = u * 10 + n % 10) {
        pb rec = {0};
        pb_fixed64(&rec, 11, u); /* observedTimeUnixNano */
        pb req = logs_request(&rec);
        sl_otlp *o = sl_otlp_new();
        sl_error err;
        cr_assert_eq(load_pb(o, &req, &err), SL_OK, "%s", err.msg);
        char want[64];
        snprintf(want, sizeof(want), "\"observedTimeUnixNano\":\"%llu\"",
                 (unsigned long long)u);
        cr_assert(strstr(json_of(o), want), "%s in %s", want, json_of(o));
        sl_otlp_free(o);
    }
}

/* AnyValue shapes (one plain string, a second field, an unknown field, a
 * string needing escapes, a length of two bytes, a oneof given twice, a
 * body given twice) each decode to their JSON mapping. */
Test(proto, any_value_shapes_decode_to_their_json_mapping) {
    char s127[128], s128[129], want[200];
    memset(s127, 'y', 127);
    s127[127] = '\0';
    memset(s128, 'z', 128);
    s128[128] = '\0';
    pb a = {0};
    pb_str(&a, 1, "");
    cr_assert_str_eq(body_of_any(&a), "{\"stringValue\":\"\"}");
    a.n = 0;
    pb_str(&a, 1, s127);
    snprintf(want, sizeof(want), "{\"stringValue\":\"%s\"}", s127);
    cr_assert_str_eq(body_of_any(&a), want);
    a.n = 0;
    pb_str(&a, 1, s128); /* two-byte length */
    snprintf(want, sizeof(want), "{\"stringValue\":\"%s\"}", s128);
    cr_assert_str_eq(body_of_any(&a), want);
    a.n = 0;
    pb_str(&a, 1, "tab\there");
    cr_assert_str_eq(body_of_any(&a), "{\"stringValue\":\"tab\\there\"}");
    a.n = 0;
    pb_str(&a, 1, "first"); /* a oneof keeps its last member */
    pb_tag(&a, 3, 0);
    pb_varint(&a, 5);
    cr_assert_str_eq(body_of_any(&a), "{\"intValue\":\"5\"}");
    a.n = 0;
    pb_str(&a, 1, "kept");
    pb_str(&a, 99, "unknown");
    cr_assert_str_eq(body_of_any(&a), "{\"stringValue\":\"kept\"}");
    a.n = 0;
    pb_tag(&a, 2, 0);
    pb_varint(&a, 1);
    pb_str(&a, 1, "last");
    cr_assert_str_eq(body_of_any(&a), "{\"stringValue\":\"last\"}");
    /* a body given twice merges: the second string replaces the first */
    pb rec = {0}, b1 = {0}, b2 = {0};
    pb_str(&b1, 1, "one");
    pb_str(&b2, 1, "two");
    pb_msg(&rec, 5, &b1);
    pb_msg(&rec, 5, &b2);
    pb req = logs_request(&rec);
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    cr_assert_eq(load_pb(o, &req, &err), SL_OK, "%s", err.msg);
    cr_assert(strstr(json_of(o), "\"body\":{\"stringValue\":\"two\"}"), "%s",
              json_of(o));
    sl_otlp_free(o);
}

/* The attributes' JSON of a record with these KeyValues (count of them). */
static const char *attrs_of(const pb *kvs, size_t count) {
    pb rec = {0};
    for (size_t i = 0; i < count; i++) {
        pb_msg(&rec, 6, &kvs[i]);
    }
    pb req = logs_request(&rec);
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    cr_assert_eq(load_pb(o, &req, &err), SL_OK, "%s", err.msg);
    static char out[2048];
    const char *js = json_of(o);
    const char *b = strstr(js, "\"attributes\":");
    cr_assert(b, "%s", js);
    snprintf(out, sizeof(out), "%s", b + strlen("\"attributes\":"));
    out[strlen(out) - strlen("}]}]}]}")] = '\0';
    /* the index finds the attribute the tree holds */
    sl_str seg = {"k", 1};
    sl_field f = {SL_FIELD_ATTR, &seg, 1};
    sl_str v;
    if (sl_otlp_get(o, 0, &f, &v)) {
        snprintf(out + strlen(out), sizeof(out) - strlen(out), " k=%.*s",
                 (int)v.len, v.ptr);
    }
    sl_otlp_free(o);
    return out;
}

/* KeyValue shapes (plain, value first, empty key, a key needing escapes,
 * a value that is not a string, an unknown field, an empty value,
 * two-byte lengths) each decode to their JSON mapping, and the index
 * finds the attribute in each. */
Test(proto, key_value_shapes_decode_to_their_json_mapping) {
    pb kv[4] = {0}, any[4] = {0};
    pb_str(&any[0], 1, "v");
    pb_str(&kv[0], 1, "k");
    pb_msg(&kv[0], 2, &any[0]);
    cr_assert_str_eq(attrs_of(kv, 1),
                     "[{\"key\":\"k\",\"value\":{\"stringValue\":\"v\"}}] k=v");
    /* value first, then key */
    pb_msg(&kv[1], 2, &any[0]);
    pb_str(&kv[1], 1, "k");
    cr_assert_str_eq(attrs_of(kv + 1, 1),
                     "[{\"value\":{\"stringValue\":\"v\"},\"key\":\"k\"}] k=v");
    /* an empty key is a proto3 default: no member */
    memset(kv, 0, sizeof(kv));
    pb_str(&kv[0], 1, "");
    pb_msg(&kv[0], 2, &any[0]);
    cr_assert_str_eq(attrs_of(kv, 1), "[{\"value\":{\"stringValue\":\"v\"}}]");
    /* a key needing escapes, a value that is not a string, an unknown
     * field after the value, and an empty value */
    memset(kv, 0, sizeof(kv));
    pb_str(&kv[0], 1, "a\"b");
    pb_msg(&kv[0], 2, &any[0]);
    pb_tag(&any[1], 2, 0);
    pb_varint(&any[1], 1);
    pb_str(&kv[1], 1, "k");
    pb_msg(&kv[1], 2, &any[1]);
    pb_str(&kv[2], 1, "u");
    pb_msg(&kv[2], 2, &any[0]);
    pb_str(&kv[2], 7, "unknown");
    pb_str(&kv[3], 1, "e");
    pb_msg(&kv[3], 2, &any[2]); /* any[2] is empty: an empty AnyValue */
    cr_assert_str_eq(attrs_of(kv, 4),
                     "[{\"key\":\"a\\\"b\",\"value\":{\"stringValue\":\"v\"}},"
                     "{\"key\":\"k\",\"value\":{\"boolValue\":true}},"
                     "{\"key\":\"u\",\"value\":{\"stringValue\":\"v\"}},"
                     "{\"key\":\"e\",\"value\":{}}]");
    /* a key or value of 128 bytes: two-byte lengths */
    char big[129];
    memset(big, 'q', 128);
    big[128] = '\0';
    memset(kv, 0, sizeof(kv));
    memset(any, 0, sizeof(any));
    pb_str(&any[0], 1, big);
    pb_str(&kv[0], 1, "k");
    pb_msg(&kv[0], 2, &any[0]);
    char want[400];
    snprintf(want, sizeof(want),
             "[{\"key\":\"k\",\"value\":{\"stringValue\":\"%s\"}}] k=%s", big,
             big);
    cr_assert_str_eq(attrs_of(kv, 1), want);
}

Test(proto, untouched_request_is_written_back_byte_for_byte) {
    pb rec = {0};
    pb_str(&rec, 3, "WARN");
    pb_str(&rec, 100, "an unknown field"); /* newer OTLP */
    pb_tag(&rec, 101, 5);
    memcpy(rec.b + rec.n, "\1\2\3\4", 4);
    rec.n += 4;
    pb req = logs_request(&rec);
    pb_str(&req, 77, "top-level unknown");
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    cr_assert_eq(load_pb(o, &req, &err), SL_OK, "%s", err.msg);
    sl_buf b = proto_of(o);
    cr_assert_eq(b.len, req.n);
    cr_assert_eq(memcmp(b.ptr, req.b, req.n), 0);
    sl_buf_free(&b);
    /* the JSON mapping has no place for unknown fields */
    cr_assert_str_eq(json_of(o), "{\"resourceLogs\":[{\"scopeLogs\":[{\"scope\""
                                 ":{\"name\":\"lib\"},\"logRecords\":[{"
                                 "\"severityText\":\"WARN\"}]}]}]}");
    sl_otlp_free(o);
}

Test(proto, changed_record_keeps_its_unknown_fields_and_others_are_copied) {
    pb rec = {0}, rec2 = {0};
    pb_str(&rec, 3, "WARN");
    pb_str(&rec, 100, "unknown");
    pb_str(&rec2, 3, "second");
    pb scope = {0}, res = {0}, req = {0};
    pb_msg(&scope, 2, &rec);
    pb_msg(&scope, 2, &rec2);
    pb_msg(&res, 2, &scope);
    pb_msg(&req, 1, &res);
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    cr_assert_eq(load_pb(o, &req, &err), SL_OK, "%s", err.msg);
    sl_field f = {SL_FIELD_ATTR, (const sl_str[]){{"added", 5}}, 1};
    cr_assert_eq(sl_otlp_set(o, 0, &f, "v", 1), SL_OK);
    sl_buf b = proto_of(o);
    sl_otlp *o2 = sl_otlp_new();
    cr_assert_eq(
        sl_otlp_load_proto(o2, SL_SIGNAL_LOG, b.ptr, b.len, "re", &err), SL_OK,
        "%s", err.msg);
    cr_assert_str_eq(json_of(o2), json_of(o));
    cr_assert(strstr(json_of(o2), "\"key\":\"added\"") != NULL);
    /* the unknown field's bytes are there, and the untouched record's */
    cr_assert(has(b.ptr, b.len, "\xa2\x06\x07unknown", 10) != NULL);
    cr_assert(has(b.ptr, b.len, rec2.b, rec2.n) != NULL);
    /* dropping the first record leaves exactly the second */
    sl_otlp_drop(o2, 0);
    sl_buf c = proto_of(o2);
    cr_assert(has(c.ptr, c.len, "unknown", 7) == NULL);
    cr_assert(has(c.ptr, c.len, rec2.b, rec2.n) != NULL);
    sl_buf_free(&b);
    sl_buf_free(&c);
    sl_otlp_free(o2);
    sl_otlp_free(o);
}

Test(proto, last_scalar_wins_messages_merge_oneof_keeps_last) {
    pb rec = {0}, b1 = {0}, b2 = {0};
    pb_str(&rec, 3, "first");
    pb_str(&rec, 3, "second");
    pb_str(&b1, 1, "text");
    pb_tag(&b2, 2, 0); /* bool_value replaces string_value */
    pb_varint(&b2, 1);
    pb_msg(&rec, 5, &b1);
    pb_msg(&rec, 5, &b2);
    pb req = logs_request(&rec);
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    cr_assert_eq(load_pb(o, &req, &err), SL_OK, "%s", err.msg);
    cr_assert(strstr(json_of(o), "\"severityText\":\"second\",\"body\":{"
                                 "\"boolValue\":true}") != NULL,
              "%s", json_of(o));
    sl_otlp_free(o);
}

Test(proto, packed_and_unpacked_repeated_scalars) {
    /* a histogram data point: bucket_counts (fixed64) packed, explicit
     * bounds (double) unpacked */
    pb dp = {0}, hist = {0}, metric = {0}, scope = {0}, res = {0}, req = {0};
    pb packed = {0};
    for (int i = 1; i <= 3; i++) {
        for (int k = 0; k < 8; k++) {
            packed.b[packed.n++] = k == 0 ? (unsigned char)i : 0;
        }
    }
    pb_bytes(&dp, 6, packed.b, packed.n);
    double d = 2.5;
    uint64_t bits;
    memcpy(&bits, &d, 8);
    pb_fixed64(&dp, 7, bits);
    pb_fixed64(&dp, 7, bits);
    pb_msg(&hist, 1, &dp);
    pb_tag(&hist, 2, 0);
    pb_varint(&hist, 2);
    pb_str(&metric, 1, "m");
    pb_msg(&metric, 9, &hist);
    pb_msg(&scope, 2, &metric);
    pb_msg(&res, 2, &scope);
    pb_msg(&req, 1, &res);
    sl_otlp *o = sl_otlp_new();
    sl_error err = {0};
    cr_assert_eq(sl_otlp_load_proto(o, SL_SIGNAL_METRIC, (const char *)req.b,
                                    req.n, "m.pb", &err),
                 SL_OK, "%s", err.msg);
    cr_assert_str_eq(
        json_of(o),
        "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":"
        "\"m\",\"histogram\":{\"dataPoints\":[{\"bucketCounts\":[\"1\",\"2\","
        "\"3\"],\"explicitBounds\":[2.5,2.5]}],\"aggregationTemporality\":2}}"
        "]}]}]}");
    sl_field f = {SL_FIELD_METRIC_TEMPORALITY, NULL, 0};
    sl_str s;
    cr_assert(sl_otlp_get(o, 0, &f, &s));
    cr_assert_eq(s.len, strlen("AGGREGATION_TEMPORALITY_CUMULATIVE"));
    sl_otlp_free(o);
}

/* ---- malformed input ---- */

static void expect_error(const pb *req, sl_status code, const char *msg) {
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    sl_status rc = load_pb(o, req, &err);
    cr_assert_eq(rc, code, "got %d: %s", rc, err.msg);
    cr_assert_str_eq(err.msg, msg);
    cr_assert_eq(sl_otlp_count(o), 0);
    sl_otlp_free(o);
}

Test(proto, wrong_id_length_names_the_path_and_offset) {
    pb rec0 = {0}, rec = {0}, scope = {0}, res = {0}, req = {0};
    pb_str(&rec0, 3, "ok");
    pb_bytes(&rec, 9, "\1\2\3\4\5", 5);
    pb_msg(&scope, 2, &rec0);
    pb_msg(&scope, 2, &rec0);
    pb_msg(&scope, 2, &rec);
    pb_msg(&res, 2, &scope);
    pb_msg(&req, 1, &res);
    char want[200];
    size_t off = req.n - rec.n;
    snprintf(want, sizeof(want),
             "resourceLogs[0].scopeLogs[0].logRecords[2].traceId: expected "
             "16 bytes, got 5 (offset %zu)",
             off);
    expect_error(&req, SL_ESCHEMA, want);
}

Test(proto, malformed_wire_data_is_a_parse_error) {
    pb req = {0};
    req.b[req.n++] = 0x0a; /* resource_logs, length 50, 1 byte follows */
    req.b[req.n++] = 50;
    req.b[req.n++] = 0;
    expect_error(&req, SL_EPARSE,
                 "resourceLogs: length 50 past the end of its message "
                 "(offset 0)");
    pb t = {0};
    t.b[t.n++] = 0x0a;
    t.b[t.n++] = 0x80; /* truncated varint length */
    expect_error(&t, SL_EPARSE, "resourceLogs: truncated length (offset 0)");
    pb g = {0};
    pb_tag(&g, 9, 3); /* a group */
    expect_error(&g, SL_EPARSE,
                 "request: field 9: unsupported wire type 3 (offset 0)");
    pb z = {0};
    z.b[z.n++] = 0x00; /* field number 0 */
    expect_error(&z, SL_EPARSE, "request: invalid field number 0 (offset 0)");
}

Test(proto, wrong_wire_type_and_bad_utf8_are_schema_errors) {
    pb rec = {0};
    pb_tag(&rec, 3, 0); /* severity_text as a varint */
    pb_varint(&rec, 1);
    pb req = logs_request(&rec);
    char want[200];
    snprintf(want, sizeof(want),
             "resourceLogs[0].scopeLogs[0].logRecords[0].severityText: "
             "expected wire type 2, got 0 (offset %zu)",
             req.n - rec.n);
    expect_error(&req, SL_ESCHEMA, want);
    pb rec2 = {0};
    pb_bytes(&rec2, 12, "a\xc3(", 3);
    pb req2 = logs_request(&rec2);
    snprintf(want, sizeof(want),
             "resourceLogs[0].scopeLogs[0].logRecords[0].eventName: a string "
             "that is not valid utf-8 (offset %zu)",
             req2.n - rec2.n);
    expect_error(&req2, SL_ESCHEMA, want);
}

Test(proto, deep_nesting_is_a_limit) {
    /* body = arrayValue{values: [arrayValue{...}]} 200 deep, built inside
     * out */
    static unsigned char a[1 << 16], b[1 << 16];
    size_t n = 0;
    for (int i = 0; i < 200; i++) {
        /* any = {5: array}, array = {1: any} */
        size_t k = 0;
        b[k++] = 0x0a; /* ArrayValue.values */
        k += (size_t)(n < 128 ? (b[k] = (unsigned char)n, 1)
                              : (b[k] = (unsigned char)(n | 0x80),
                                 b[k + 1] = (unsigned char)(n >> 7), 2));
        memcpy(b + k, a, n);
        k += n;
        size_t m = 0;
        a[m++] = 0x2a; /* AnyValue.array_value */
        m += (size_t)(k < 128 ? (a[m] = (unsigned char)k, 1)
                              : (a[m] = (unsigned char)(k | 0x80),
                                 a[m + 1] = (unsigned char)(k >> 7), 2));
        memcpy(a + m, b, k);
        n = m + k;
    }
    static pb rec, req;
    memset(&rec, 0, sizeof(rec));
    pb_bytes(&rec, 5, a, n);
    req = logs_request(&rec);
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    cr_assert_eq(load_pb(o, &req, &err), SL_ELIMIT, "%s", err.msg);
    cr_assert(strstr(err.msg, "nested deeper than") != NULL, "%s", err.msg);
    sl_otlp_free(o);
}

Test(proto, every_truncation_of_a_valid_request_fails_cleanly) {
    const char *json =
        "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"a\","
        "\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"b\",\"value\":{"
        "\"doubleValue\":1.5}}]}}}]},\"scopeSpans\":[{\"spans\":[{\"traceId\":"
        "\"0af7651916cd43dd8448eb211c80319c\",\"spanId\":\"b7ad6b7169203331\","
        "\"name\":\"x\",\"kind\":2,\"startTimeUnixNano\":\"5\",\"status\":{"
        "\"code\":2}}]}]}]}";
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    cr_assert_eq(sl_otlp_load(o, json, strlen(json), NULL, "j", &err), SL_OK);
    sl_buf b = proto_of(o);
    for (size_t n = 0; n < b.len; n++) {
        char *cut = malloc(n ? n : 1);
        memcpy(cut, b.ptr, n);
        sl_status rc =
            sl_otlp_load_proto(o, SL_SIGNAL_TRACE, cut, n, "c", &err);
        if (rc == SL_OK) { /* a prefix can be a valid, shorter message */
            sl_buf x = proto_of(o);
            sl_buf_free(&x);
        }
        free(cut);
    }
    cr_assert_eq(
        sl_otlp_load_proto(o, SL_SIGNAL_TRACE, b.ptr, b.len, "c", &err), SL_OK);
    sl_field f = {SL_FIELD_SPAN_STATUS, NULL, 0};
    sl_str s;
    cr_assert(sl_otlp_get(o, 0, &f, &s));
    cr_assert_eq(s.len, strlen("SPAN_STATUS_CODE_ERROR"));
    sl_buf_free(&b);
    sl_otlp_free(o);
}

Test(proto, json_only_members_are_left_out_and_enum_names_encode) {
    const char *json = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
                       "\"severityNumber\":\"SEVERITY_NUMBER_WARN\","
                       "\"futureField\":{\"x\":1},\"flags\":0,"
                       "\"observed_time_unix_nano\":12}]}]}]}";
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    cr_assert_eq(sl_otlp_load(o, json, strlen(json), NULL, "j", &err), SL_OK);
    sl_buf b = proto_of(o);
    sl_otlp *o2 = sl_otlp_new();
    cr_assert_eq(sl_otlp_load_proto(o2, SL_SIGNAL_LOG, b.ptr, b.len, "p", &err),
                 SL_OK, "%s", err.msg);
    cr_assert_str_eq(json_of(o2),
                     "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
                     "\"severityNumber\":13,\"observedTimeUnixNano\":\"12\"}]}"
                     "]}]}");
    sl_buf_free(&b);
    sl_otlp_free(o2);
    sl_otlp_free(o);
}

Test(proto, empty_request_keeps_the_callers_signal) {
    sl_otlp *o = sl_otlp_new();
    sl_error err;
    cr_assert_eq(sl_otlp_load_proto(o, SL_SIGNAL_METRIC, "", 0, NULL, &err),
                 SL_OK);
    cr_assert_eq(sl_otlp_signal(o), SL_SIGNAL_METRIC);
    cr_assert_eq(sl_otlp_count(o), 0);
    cr_assert_str_eq(json_of(o), "{}");
    sl_buf b = proto_of(o);
    cr_assert_eq(b.len, 0);
    sl_buf_free(&b);
    sl_otlp_free(o);
}

/* ---- equivalence: JSON and protobuf give the same decisions and output ----
 */

typedef struct path_run {
    sl_policy_set *set;
    sl_policy_ctx *ctx;
    sl_otlp *o;
} path_run;

static bool run_open(path_run *r, const char *policies) {
    sl_error err = {0};
    memset(r, 0, sizeof(*r));
    if (sl_policy_load_files(&policies, 1, NULL, &r->set, &err) != SL_OK) {
        return false;
    }
    cr_assert_eq(sl_policy_ctx_new(r->set, &r->ctx, &err), SL_OK);
    r->o = sl_otlp_new();
    return true;
}

static void run_close(path_run *r) {
    sl_policy_ctx_free(r->ctx);
    sl_policy_set_free(r->set);
    sl_otlp_free(r->o);
}

/* JSON text j re-encoded as protobuf (a canonical form for comparing two
 * JSON outputs: spelling, int64 as numbers or strings, enum names or
 * numbers, proto3 defaults all fold into the same bytes). */
static sl_buf canon(const char *j, size_t n) {
    sl_otlp *o = sl_otlp_new();
    sl_error err = {0};
    cr_assert_eq(sl_otlp_load(o, j, n, NULL, "out", &err), SL_OK, "%s",
                 err.msg);
    sl_buf b = proto_of(o);
    sl_otlp_free(o);
    return b;
}

static size_t equiv_file(const char *policies, const char *input) {
    size_t len;
    char *text = read_file(input, &len);
    cr_assert_not_null(text, "%s", input);
    path_run a, b;
    if (!run_open(&a, policies)) {
        free(text);
        return 0;
    }
    cr_assert(run_open(&b, policies));
    sl_otlp *conv = sl_otlp_new();
    size_t off = 0, count = 0;
    for (;;) {
        sl_error err = {0};
        size_t start = off;
        sl_status rc = sl_otlp_load(a.o, text, len, &off, input, &err);
        if (rc == SL_ENOTFOUND) {
            break;
        }
        if (rc != SL_OK) {
            continue; /* invalid OTLP is the JSON loader's business */
        }
        size_t end = off;
        sl_signal sig = sl_otlp_signal(a.o);
        if (sig == SL_SIGNAL_NONE) {
            continue;
        }
        /* path A: JSON -> policies -> JSON */
        cr_assert_eq(sl_policy_apply(a.ctx, a.o, &err), SL_OK, "%s", err.msg);
        sl_buf ja = {0};
        cr_assert_eq(sl_otlp_write(a.o, &ja, &err), SL_OK);
        /* path B: JSON -> protobuf -> policies -> JSON */
        size_t o2 = start;
        cr_assert_eq(sl_otlp_load(conv, text, end, &o2, input, &err), SL_OK);
        sl_buf p = proto_of(conv);
        cr_assert_eq(sl_otlp_load_proto(b.o, sig, p.ptr, p.len, input, &err),
                     SL_OK, "%s: %s", input, err.msg);
        cr_assert_eq(sl_otlp_count(b.o), sl_otlp_count(a.o));
        cr_assert_eq(sl_policy_apply(b.ctx, b.o, &err), SL_OK, "%s", err.msg);
        sl_buf jb = {0};
        cr_assert_eq(sl_otlp_write(b.o, &jb, &err), SL_OK, "%s", err.msg);
        sl_buf pb_direct = proto_of(b.o);
        sl_buf ca = canon(ja.ptr, ja.len), cb = canon(jb.ptr, jb.len);
        cr_assert(ca.len == cb.len &&
                      (ca.len == 0 || memcmp(ca.ptr, cb.ptr, ca.len) == 0),
                  "%s: request %zu differs:\nA %s\nB %s", input, count, ja.ptr,
                  jb.ptr);
        /* and the protobuf written after the policies says the same (in
         * canonical form: protobuf cannot tell an empty resource list from
         * none, so {"resourceLogs":[]} comes back as {}) */
        sl_otlp *d = sl_otlp_new();
        cr_assert_eq(sl_otlp_load_proto(d, sig, pb_direct.ptr, pb_direct.len,
                                        "direct", &err),
                     SL_OK, "%s", err.msg);
        sl_buf jd = {0};
        cr_assert_eq(sl_otlp_write(d, &jd, &err), SL_OK);
        sl_buf cd = canon(jd.ptr, jd.len);
        cr_assert(cd.len == cb.len &&
                      (cd.len == 0 || memcmp(cd.ptr, cb.ptr, cd.len) == 0),
                  "%s: protobuf output differs:\nB %s\nD %s", input, jb.ptr,
                  jd.ptr);
        sl_buf_free(&cd);
        sl_otlp_free(d);
        sl_buf_free(&jd);
        sl_buf_free(&ca);
        sl_buf_free(&cb);
        sl_buf_free(&pb_direct);
        sl_buf_free(&p);
        sl_buf_free(&ja);
        sl_buf_free(&jb);
        count++;
    }
    sl_otlp_free(conv);
    run_close(&a);
    run_close(&b);
    free(text);
    return count;
}

#define SL_N(a) (sizeof(a) / sizeof((a)[0]))

static const char *shared_dir(void) {
    const char *s = getenv("SLUICE_SHARED");
    s = s ? s : "../shared";
    char probe[1024];
    snprintf(probe, sizeof(probe), "%s/conformance", s);
    FILE *f = fopen(probe, "r");
    if (!f) {
        cr_skip_test("no shared conformance data at %s", s);
    }
    fclose(f);
    return s;
}

Test(equivalence, policy_conformance_inputs_through_protobuf) {
    char pat[1024];
    snprintf(pat, sizeof(pat), "%s/conformance/policy/testcases/*/input*.json",
             shared_dir());
    glob_t g;
    cr_assert_eq(glob(pat, 0, NULL, &g), 0, "no cases at %s", pat);
    size_t requests = 0, files = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char pol[1024];
        snprintf(pol, sizeof(pol), "%s", g.gl_pathv[i]);
        char *slash = strrchr(pol, '/');
        snprintf(slash, sizeof(pol) - (size_t)(slash - pol), "/policies.json");
        requests += equiv_file(pol, g.gl_pathv[i]);
        files++;
    }
    globfree(&g);
    cr_assert_gt(files, 100);
    cr_assert_gt(requests, 100);
}

Test(equivalence, otlp_samples_and_examples_with_example_policies) {
    const char *src = getenv("SLUICE_SOURCE_DIR");
    char pol[1024], pat[1024];
    snprintf(pol, sizeof(pol), "%s/examples/policy/policies.json",
             src ? src : ".");
    const char *pats[] = {"/conformance/otlp/*/*.json",
                          "/conformance/otlp/*/*.jsonl",
                          "/conformance/otlp/fluent-bit/integration/*.json"};
    size_t requests = 0;
    for (size_t k = 0; k < SL_N(pats); k++) {
        snprintf(pat, sizeof(pat), "%s%s", shared_dir(), pats[k]);
        glob_t g;
        if (glob(pat, 0, NULL, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc; i++) {
                requests += equiv_file(pol, g.gl_pathv[i]);
            }
            globfree(&g);
        }
    }
    snprintf(pat, sizeof(pat), "%s/examples/policy/*.jsonl", src ? src : ".");
    glob_t g;
    cr_assert_eq(glob(pat, 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        requests += equiv_file(pol, g.gl_pathv[i]);
    }
    globfree(&g);
    cr_assert_gt(requests, 10);
}

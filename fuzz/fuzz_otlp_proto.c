/* fuzz/fuzz_otlp_proto.c: the OTLP protobuf codec. The first input byte
 * picks the signal (0 logs, 1 metrics, 2 traces, modulo 3), the rest is
 * one Export*ServiceRequest. When it decodes: read every field of every
 * record, change some records (set, move, remove), drop every other one,
 * write JSON and protobuf; the protobuf must decode again with exactly the
 * kept records, and both outputs must say the same thing (compared in a
 * canonical form: the JSON re-encoded as protobuf, which is field-number
 * ordered and without unknown fields); the JSON output must load as
 * OTLP/JSON and encode as protobuf that decodes. Otherwise the run traps. */
#include <stdint.h>
#include <string.h>

#include <sluice/otlp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const sl_field_kind kinds[] = {
    SL_FIELD_LOG_BODY,           SL_FIELD_LOG_SEVERITY_TEXT,
    SL_FIELD_LOG_TRACE_ID,       SL_FIELD_LOG_SPAN_ID,
    SL_FIELD_LOG_EVENT_NAME,     SL_FIELD_METRIC_NAME,
    SL_FIELD_METRIC_TYPE,        SL_FIELD_METRIC_TEMPORALITY,
    SL_FIELD_SPAN_NAME,          SL_FIELD_SPAN_TRACE_ID,
    SL_FIELD_SPAN_PARENT_SPAN_ID, SL_FIELD_SPAN_TRACE_STATE,
    SL_FIELD_SPAN_KIND,          SL_FIELD_SPAN_STATUS,
    SL_FIELD_SPAN_EVENT_NAME,    SL_FIELD_SPAN_LINK_TRACE_ID,
    SL_FIELD_SCOPE_NAME,         SL_FIELD_ATTR,
    SL_FIELD_RESOURCE_ATTR,      SL_FIELD_SCOPE_ATTR,
};

static const sl_str paths[] = {{"a", 1}, {"b", 1}, {"service.name", 12}};

static void touch(sl_otlp *o, size_t i) {
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        sl_field f = {kinds[k], paths, 1};
        sl_str s;
        sl_value v;
        if (sl_otlp_get(o, i, &f, &s) && s.len == 0) {
            __builtin_trap();
        }
        (void)sl_otlp_exists(o, i, &f);
        (void)sl_otlp_typed(o, i, &f, &v);
    }
}

static void change(sl_otlp *o, size_t i) {
    sl_field attr = {SL_FIELD_ATTR, paths, 1};
    sl_field to = {SL_FIELD_ATTR, &paths[1], 1};
    sl_field body = {SL_FIELD_LOG_BODY, NULL, 0};
    sl_field res = {SL_FIELD_RESOURCE_ATTR, &paths[2], 1};
    sl_field th = {SL_FIELD_SPAN_SAMPLING_THRESHOLD, NULL, 0};
    switch (i % 4) {
    case 0:
        (void)sl_otlp_set(o, i, &attr, "v", 1);
        (void)sl_otlp_set(o, i, &th, "8", 1);
        break;
    case 1:
        if (sl_otlp_exists(o, i, &attr)) {
            (void)sl_otlp_move(o, i, &attr, &to);
        }
        (void)sl_otlp_remove(o, i, &body);
        break;
    case 2:
        (void)sl_otlp_set(o, i, &res, "r", 1);
        break;
    default:
        break; /* untouched: copied as its bytes */
    }
}

/* JSON text as canonical protobuf (see the header comment). */
static void canon(const sl_buf *json, sl_buf *out) {
    sl_otlp *c = sl_otlp_new();
    sl_error err;
    if (!c) {
        return;
    }
    if (sl_otlp_load(c, json->ptr, json->len, NULL, "canon", &err) != SL_OK ||
        sl_otlp_write_proto(c, out, &err) != SL_OK) {
        __builtin_trap();
    }
    sl_otlp_free(c);
}

static bool same(const sl_buf *a, const sl_buf *b) {
    return a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > (1u << 20)) {
        return 0;
    }
    sl_signal sig = (sl_signal)(data[0] % 3);
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    sl_otlp *o = sl_otlp_new();
    sl_otlp *again = sl_otlp_new();
    sl_buf jo = {0}, po = {0}, ja = {0}, co = {0}, ca = {0};
    sl_error err;
    if (!o || !again ||
        sl_otlp_load_proto(o, sig, buf, len, "f.pb", &err) != SL_OK) {
        goto done;
    }
    if (sl_otlp_signal(o) != sig) {
        __builtin_trap();
    }
    size_t n = sl_otlp_count(o), kept = 0;
    for (size_t i = 0; i < n; i++) {
        touch(o, i);
        change(o, i);
        touch(o, i);
        if (i % 2) {
            sl_otlp_drop(o, i);
        } else {
            kept++;
        }
    }
    if (sl_otlp_write(o, &jo, &err) != SL_OK ||
        sl_otlp_write_proto(o, &po, &err) != SL_OK) {
        __builtin_trap();
    }
    if (sl_otlp_load_proto(again, sig, po.ptr, po.len, "out.pb", &err) !=
            SL_OK ||
        sl_otlp_count(again) != kept) {
        __builtin_trap();
    }
    if (sl_otlp_write(again, &ja, &err) != SL_OK) {
        __builtin_trap();
    }
    canon(&jo, &co);
    canon(&ja, &ca);
    if (!same(&co, &ca)) {
        __builtin_trap(); /* the JSON and the protobuf output differ */
    }
    /* canonical protobuf decodes too */
    if (sl_otlp_load_proto(again, sig, co.ptr, co.len, "c.pb", &err) != SL_OK ||
        sl_otlp_count(again) != kept) {
        __builtin_trap();
    }
done:
    sl_buf_free(&jo);
    sl_buf_free(&po);
    sl_buf_free(&ja);
    sl_buf_free(&co);
    sl_buf_free(&ca);
    sl_otlp_free(o);
    sl_otlp_free(again);
    return 0;
}

/* fuzz/fuzz_otlp_json.c: the OTLP/JSON model. Any input: load it as one
 * request and as a stream; when it loads, read every field of every record
 * (get, exists, typed) with a few attribute paths, change some records
 * (set, move, remove, the tracestate threshold), drop every other record,
 * write, and load the output again: it must load, with exactly the kept
 * records, and write back to the same bytes, or the run traps. The output
 * written as protobuf (when the schema can hold it) must decode again
 * with the same records. */
#include <stdint.h>
#include <string.h>

#include <sluice/otlp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const sl_field_kind kinds[] = {
    SL_FIELD_LOG_BODY,
    SL_FIELD_LOG_SEVERITY_TEXT,
    SL_FIELD_LOG_TRACE_ID,
    SL_FIELD_LOG_SPAN_ID,
    SL_FIELD_LOG_EVENT_NAME,
    SL_FIELD_METRIC_NAME,
    SL_FIELD_METRIC_DESCRIPTION,
    SL_FIELD_METRIC_UNIT,
    SL_FIELD_METRIC_TYPE,
    SL_FIELD_METRIC_TEMPORALITY,
    SL_FIELD_SPAN_NAME,
    SL_FIELD_SPAN_TRACE_ID,
    SL_FIELD_SPAN_ID,
    SL_FIELD_SPAN_PARENT_SPAN_ID,
    SL_FIELD_SPAN_TRACE_STATE,
    SL_FIELD_SPAN_KIND,
    SL_FIELD_SPAN_STATUS,
    SL_FIELD_SPAN_EVENT_NAME,
    SL_FIELD_SPAN_LINK_TRACE_ID,
    SL_FIELD_RESOURCE_SCHEMA_URL,
    SL_FIELD_SCOPE_SCHEMA_URL,
    SL_FIELD_SCOPE_NAME,
    SL_FIELD_SCOPE_VERSION,
    SL_FIELD_ATTR,
    SL_FIELD_RESOURCE_ATTR,
    SL_FIELD_SCOPE_ATTR,
    SL_FIELD_EVENT_ATTR,
};

static const sl_str paths[] = {
    {"a", 1},
    {"b", 1},
    {"service.name", 12},
    {"", 0},
};

static void touch(sl_otlp *o, size_t i) {
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        for (uint32_t n = 0; n <= 2; n++) {
            sl_field f = {kinds[k], paths, n};
            sl_str s;
            sl_value v;
            bool got = sl_otlp_get(o, i, &f, &s);
            bool ex = sl_otlp_exists(o, i, &f);
            if (got && (s.len == 0 || !ex)) {
                __builtin_trap(); /* a value is never empty and exists */
            }
            if (sl_otlp_typed(o, i, &f, &v) && v.type == SL_VALUE_NONE) {
                __builtin_trap();
            }
        }
    }
}

static void change(sl_otlp *o, size_t i) {
    sl_field attr = {SL_FIELD_ATTR, paths, (uint32_t)(1 + i % 2)};
    sl_field to = {SL_FIELD_ATTR, &paths[1], 1};
    sl_field th = {SL_FIELD_SPAN_SAMPLING_THRESHOLD, NULL, 0};
    sl_field body = {SL_FIELD_LOG_BODY, NULL, 0};
    sl_field res = {SL_FIELD_RESOURCE_ATTR, &paths[2], 1};
    switch (i % 5) {
    case 0:
        (void)sl_otlp_set(o, i, &attr, "v", 1);
        break;
    case 1:
        if (sl_otlp_exists(o, i, &attr)) {
            (void)sl_otlp_move(o, i, &attr, &to);
        }
        break;
    case 2:
        (void)sl_otlp_remove(o, i, &attr);
        (void)sl_otlp_remove(o, i, &body);
        break;
    case 3:
        (void)sl_otlp_set(o, i, &th, "8", 1);
        (void)sl_otlp_set(o, i, &body, "x\"y", 3);
        break;
    default:
        (void)sl_otlp_set(o, i, &res, "r", 1);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) {
        return 0;
    }
    const char *text = (const char *)data;
    sl_otlp *o = sl_otlp_new();
    sl_otlp *again = sl_otlp_new();
    sl_buf out = {0}, out2 = {0};
    sl_error err;
    if (!o || !again) {
        goto done;
    }
    if (sl_otlp_load(o, text, size, NULL, "f.json", &err) == SL_OK) {
        size_t n = sl_otlp_count(o);
        size_t kept = 0;
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
        if (sl_otlp_write(o, &out, &err) != SL_OK) {
            __builtin_trap();
        }
        if (sl_otlp_load(again, out.ptr, out.len, NULL, "out.json", &err) !=
                SL_OK ||
            sl_otlp_count(again) != kept ||
            sl_otlp_signal(again) != sl_otlp_signal(o)) {
            __builtin_trap();
        }
        /* writing is idempotent: the output, loaded and written, is the
         * same bytes (checks the source-copy path against the writer) */
        if (sl_otlp_write(again, &out2, &err) != SL_OK || out2.len != out.len ||
            memcmp(out2.ptr, out.ptr, out.len) != 0) {
            __builtin_trap();
        }
        sl_buf pb = {0};
        if (sl_otlp_signal(again) != SL_SIGNAL_NONE &&
            sl_otlp_write_proto(again, &pb, &err) == SL_OK &&
            (sl_otlp_load_proto(o, sl_otlp_signal(again), pb.ptr, pb.len,
                                "out.pb", &err) != SL_OK ||
             sl_otlp_count(o) != kept)) {
            __builtin_trap();
        }
        sl_buf_free(&pb);
    }
    /* stream mode always makes progress */
    size_t off = 0;
    for (;;) {
        size_t before = off;
        sl_status rc = sl_otlp_load(o, text, size, &off, "s.jsonl", &err);
        if (rc == SL_ENOTFOUND) {
            break;
        }
        if (off <= before || off > size) {
            __builtin_trap();
        }
    }
done:
    sl_buf_free(&out);
    sl_buf_free(&out2);
    sl_otlp_free(o);
    sl_otlp_free(again);
    return 0;
}

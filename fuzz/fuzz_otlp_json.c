/* fuzz/fuzz_otlp_json.c: the OTLP/JSON model. Any input: load it as one
 * request and as a stream; when it loads, read every field of every record
 * (get, exists, typed) with a few attribute paths, change some records
 * (set, move, remove, the tracestate threshold), drop every other record,
 * write, and load the output again: it must load, with exactly the kept
 * records, and write back to the same bytes, or the run traps. The output
 * written as protobuf (when the schema can hold it) must decode again
 * with the same records. And the lazy load (fuzz/otlp_lazy.h) must agree
 * with the full one, whole and as a stream: accept / reject, the error,
 * every read, the output bytes. */
#include <stdint.h>
#include <string.h>

#include <sluice/otlp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "otlp_exercise.h"
#include "otlp_lazy.h"

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
    /* the lazy load against the full one, building a mask of kinds the
     * input's length picks (nothing, the severity, every log kind, a
     * trace sampler's, every span kind, a metric set's) */
    static const uint64_t masks[] = {
        0,
        1ull << SL_FIELD_LOG_SEVERITY_TEXT,
        (1ull << SL_FIELD_LOG_BODY) | (1ull << SL_FIELD_LOG_SEVERITY_TEXT) |
            (1ull << SL_FIELD_LOG_TRACE_ID) | (1ull << SL_FIELD_LOG_SPAN_ID) |
            (1ull << SL_FIELD_LOG_EVENT_NAME) | (1ull << SL_FIELD_ATTR) |
            (1ull << SL_FIELD_RESOURCE_ATTR) | (1ull << SL_FIELD_SCOPE_ATTR) |
            (1ull << SL_FIELD_SCOPE_NAME),
        (1ull << SL_FIELD_SPAN_TRACE_ID) | (1ull << SL_FIELD_SPAN_TRACE_STATE),
        (1ull << SL_FIELD_SPAN_NAME) | (1ull << SL_FIELD_SPAN_TRACE_ID) |
            (1ull << SL_FIELD_SPAN_ID) |
            (1ull << SL_FIELD_SPAN_PARENT_SPAN_ID) |
            (1ull << SL_FIELD_SPAN_TRACE_STATE) | (1ull << SL_FIELD_SPAN_KIND) |
            (1ull << SL_FIELD_SPAN_STATUS) |
            (1ull << SL_FIELD_SPAN_EVENT_NAME) |
            (1ull << SL_FIELD_SPAN_LINK_TRACE_ID) |
            (1ull << SL_FIELD_EVENT_ATTR) | (1ull << SL_FIELD_ATTR) |
            (1ull << SL_FIELD_RESOURCE_ATTR) | (1ull << SL_FIELD_SCOPE_ATTR) |
            (1ull << SL_FIELD_SCOPE_NAME),
        (1ull << SL_FIELD_METRIC_NAME) | (1ull << SL_FIELD_METRIC_UNIT) |
            (1ull << SL_FIELD_METRIC_TYPE) |
            (1ull << SL_FIELD_METRIC_TEMPORALITY) | (1ull << SL_FIELD_ATTR),
    };
    size_t fast = 0;
    for (int stream = 0; stream < 2; stream++) {
        if (lazy_differs(text, size, masks[size % 6], stream, &fast)) {
            __builtin_trap();
        }
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

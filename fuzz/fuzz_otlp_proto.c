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

#include "otlp_exercise.h"

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
    return a->len == b->len &&
           (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
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

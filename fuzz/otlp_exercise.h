/* fuzz/otlp_exercise.h: what the OTLP fuzz targets (JSON and protobuf) do
 * to every record of a batch that loaded: touch() reads every field with
 * paths of 0, 1 and 2 segments through get / exists / typed and traps when
 * a value is empty, or got without existing, or typed as NONE; change()
 * sets, moves and removes attributes and the body, and sets the tracestate
 * threshold, a different change for each record index modulo 5. */
#ifndef SL_FUZZ_OTLP_EXERCISE_H
#define SL_FUZZ_OTLP_EXERCISE_H

#include <stdbool.h>
#include <stdint.h>

#include <sluice/otlp.h>

#include "otlp_kinds.h"

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

#endif

/* fuzz/otlp_kinds.h: every field kind a policy can read on a record
 * (sl_field_kind without NONE and the set-only sampling threshold), and
 * otlp_reads, every read of them as text, for the OTLP fuzz targets
 * (otlp_exercise.h, otlp_lazy.h) and the tests that compare two ways of
 * reading every field (tests/otlp/test_index.c, test_lazy.c). */
#ifndef SL_FUZZ_OTLP_KINDS_H
#define SL_FUZZ_OTLP_KINDS_H

#include <sluice/otlp.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

/* An attribute path: n segments (NULL, 0: the field itself). */
typedef struct otlp_path {
    const sl_str *p;
    uint32_t n;
} otlp_path;

static inline bool otlp_put(sl_buf *out, const char *p, size_t n) {
    return n == 0 || sl_buf_append(out, p, n) == SL_OK;
}

/* Every read (get, exists, typed) of every record's kinds in mask (all
 * when mask is 0) at each of the npaths paths, appended to out as a line
 * per read with the strings read in full; false when out of memory. Two
 * ways of reading the same records agree when their texts do. */
static inline bool otlp_reads(const sl_otlp *o, uint64_t mask,
                              const otlp_path *paths, size_t npaths,
                              sl_buf *out) {
    char num[256];
    for (size_t i = 0; i < sl_otlp_count(o); i++) {
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
            if (mask && !(mask & (1ull << kinds[k]))) {
                continue;
            }
            for (size_t p = 0; p < npaths; p++) {
                sl_field f = {kinds[k], paths[p].p, paths[p].n};
                sl_str s = {"", 0};
                sl_value v;
                memset(&v, 0, sizeof(v));
                bool got = sl_otlp_get(o, i, &f, &s);
                bool ex = sl_otlp_exists(o, i, &f);
                bool typed = sl_otlp_typed(o, i, &f, &v);
                int n = snprintf(num, sizeof(num), "%zu %d %zu: %d [", i,
                                 (int)kinds[k], p, got);
                if (!otlp_put(out, num, (size_t)n) ||
                    !otlp_put(out, s.ptr, got ? s.len : 0)) {
                    return false;
                }
                n = snprintf(num, sizeof(num), "] %d %d t%d b%d i%lld d%g [",
                             ex, typed, (int)v.type, v.b, (long long)v.i, v.d);
                if (!otlp_put(out, num, (size_t)n) ||
                    !otlp_put(out, v.s.ptr, typed && v.s.ptr ? v.s.len : 0) ||
                    !otlp_put(out, "]\n", 2)) {
                    return false;
                }
            }
        }
    }
    return true;
}

#endif

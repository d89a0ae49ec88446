/* fuzz/otlp_kinds.h: every field kind a policy can read on a record
 * (sl_field_kind without NONE and the set-only sampling threshold), for the
 * OTLP fuzz targets (otlp_exercise.h) and the tests that read every field
 * (tests/otlp/test_index.c). */
#ifndef SL_FUZZ_OTLP_KINDS_H
#define SL_FUZZ_OTLP_KINDS_H

#include <sluice/otlp.h>

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

#endif

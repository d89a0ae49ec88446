/* src/otlp/proto_schema.c: the OTLP .proto files as tables (common,
 * resource, logs, metrics, trace and the collector requests), from
 * ../shared/conformance/otlp/opentelemetry-proto/proto, plus the wire
 * helpers the decoder and encoder share. The one schema of sluice: the
 * protobuf decoder and encoder and the OTLP/JSON validator (load.c) all
 * read these tables; a field's record slot says where an index keeps it. */
#include "otlp/proto.h"

#define P          SL__PFIELD
#define PX         SL__PFIELDX
#define PMSG       SL__PMSG
#define PMSG_ONEOF SL__PMSG_ONEOF
/* a field a record or group index keeps (slot: LS_*, MS_*, SS_*, ...) */
#define PS(c, s, num, t, fl, aux, sub, slot) \
    PX(c, s, num, t, fl, aux, sub, slot, 0)
/* an entry's resource or scope, its own fields kept from ES_SUB on */
#define PINNER(c, s, num, sub) \
    PX(c, s, num, PT_MSG, 0, 0, sub, SL__ES_INNER, SL__ES_SUB)
/* an entry's list of scope entries or records (indexed by the caller) */
#define PLIST(c, s, num, sub) \
    PX(c, s, num, PT_MSG, PF_REPEATED | PF_LIST, 0, sub, SL__ES_LIST, 0)
#define PSCHEMA(num) \
    PS("schemaUrl", "schema_url", num, PT_STRING, 0, 0, NULL, SL__ES_SCHEMA)

/* ---- common.proto, resource.proto ---- */

static const sl__pfield array_fields[] = {
    P("values", "values", 1, PT_MSG, PF_REPEATED, 0, &sl__proto_any_msg),
};
static const sl__pmsg array_msg = PMSG("array value", array_fields);

static const sl__pfield kvlist_fields[] = {
    P("values", "values", 1, PT_MSG, PF_REPEATED, 0, &sl__proto_kv_msg),
};
static const sl__pmsg kvlist_msg = PMSG("kvlist value", kvlist_fields);

static const sl__pfield any_fields[] = {
    P("stringValue", "string_value", 1, PT_STRING, PF_PRESENCE, 1, NULL),
    P("boolValue", "bool_value", 2, PT_BOOL, PF_PRESENCE, 1, NULL),
    P("intValue", "int_value", 3, PT_INT64, PF_PRESENCE, 1, NULL),
    P("doubleValue", "double_value", 4, PT_DOUBLE, PF_PRESENCE, 1, NULL),
    P("arrayValue", "array_value", 5, PT_MSG, PF_PRESENCE, 1, &array_msg),
    P("kvlistValue", "kvlist_value", 6, PT_MSG, PF_PRESENCE, 1, &kvlist_msg),
    P("bytesValue", "bytes_value", 7, PT_BYTES, PF_PRESENCE, 1, NULL),
};
const sl__pmsg sl__proto_any_msg = PMSG_ONEOF("any value", any_fields, 1);

static const sl__pfield kv_fields[] = {
    P("key", "key", 1, PT_STRING, 0, 0, NULL),
    P("value", "value", 2, PT_MSG, 0, 0, &sl__proto_any_msg),
};
const sl__pmsg sl__proto_kv_msg = PMSG("key value", kv_fields);

static const sl__pfield scope_fields[] = {
    PS("name", "name", 1, PT_STRING, 0, 0, NULL, SL__SC_NAME),
    PS("version", "version", 2, PT_STRING, 0, 0, NULL, SL__SC_VERSION),
    PS("attributes", "attributes", 3, PT_MSG, PF_REPEATED, 0, &sl__proto_kv_msg,
       SL__SC_ATTRS),
    P("droppedAttributesCount", "dropped_attributes_count", 4, PT_UINT32, 0, 0,
      NULL),
};
static const sl__pmsg scope_msg = PMSG("scope", scope_fields);

static const sl__pfield entity_ref_fields[] = {
    P("schemaUrl", "schema_url", 1, PT_STRING, 0, 0, NULL),
    P("type", "type", 2, PT_STRING, 0, 0, NULL),
    P("idKeys", "id_keys", 3, PT_STRING, PF_REPEATED, 0, NULL),
    P("descriptionKeys", "description_keys", 4, PT_STRING, PF_REPEATED, 0,
      NULL),
};
static const sl__pmsg entity_ref_msg = PMSG("entity ref", entity_ref_fields);

static const sl__pfield resource_fields[] = {
    PS("attributes", "attributes", 1, PT_MSG, PF_REPEATED, 0, &sl__proto_kv_msg,
       SL__RS_ATTRS),
    P("droppedAttributesCount", "dropped_attributes_count", 2, PT_UINT32, 0, 0,
      NULL),
    /* not read by sluice: OTLP/JSON takes any value here */
    P("entityRefs", "entity_refs", 3, PT_MSG, PF_REPEATED | PF_LOOSE, 0,
      &entity_ref_msg),
};
static const sl__pmsg resource_msg = PMSG("resource", resource_fields);

/* ---- logs.proto ---- */

static const sl__pfield log_fields[] = {
    P("timeUnixNano", "time_unix_nano", 1, PT_FIXED64, 0, 0, NULL),
    P("severityNumber", "severity_number", 2, PT_ENUM, 0, PE_SEVERITY, NULL),
    PS("severityText", "severity_text", 3, PT_STRING, 0, 0, NULL, LS_SEV_TEXT),
    PS("body", "body", 5, PT_MSG, 0, 0, &sl__proto_any_msg, LS_BODY),
    PS("attributes", "attributes", 6, PT_MSG, PF_REPEATED, 0, &sl__proto_kv_msg,
       SLOT_ATTRS),
    P("droppedAttributesCount", "dropped_attributes_count", 7, PT_UINT32, 0, 0,
      NULL),
    P("flags", "flags", 8, PT_FIXED32, 0, 0, NULL),
    PS("traceId", "trace_id", 9, PT_ID, 0, 16, NULL, LS_TRACE_ID),
    PS("spanId", "span_id", 10, PT_ID, 0, 8, NULL, LS_SPAN_ID),
    P("observedTimeUnixNano", "observed_time_unix_nano", 11, PT_FIXED64, 0, 0,
      NULL),
    PS("eventName", "event_name", 12, PT_STRING, 0, 0, NULL, LS_EVENT_NAME),
};
static const sl__pmsg log_msg = PMSG("log record", log_fields);

static const sl__pfield scope_logs_fields[] = {
    PINNER("scope", "scope", 1, &scope_msg),
    PLIST("logRecords", "log_records", 2, &log_msg),
    PSCHEMA(3),
};
static const sl__pmsg scope_logs_msg = PMSG("scope logs", scope_logs_fields);

static const sl__pfield res_logs_fields[] = {
    PINNER("resource", "resource", 1, &resource_msg),
    PLIST("scopeLogs", "scope_logs", 2, &scope_logs_msg),
    PSCHEMA(3),
};
static const sl__pmsg res_logs_msg = PMSG("resource logs", res_logs_fields);

static const sl__pfield logs_req_fields[] = {
    P("resourceLogs", "resource_logs", 1, PT_MSG, PF_REPEATED, 0,
      &res_logs_msg),
};
static const sl__pmsg logs_req_msg = PMSG("request", logs_req_fields);

/* ---- metrics.proto ---- */

static const sl__pfield exemplar_fields[] = {
    P("timeUnixNano", "time_unix_nano", 2, PT_FIXED64, 0, 0, NULL),
    P("asDouble", "as_double", 3, PT_DOUBLE, PF_PRESENCE, 1, NULL),
    P("spanId", "span_id", 4, PT_ID, 0, 8, NULL),
    P("traceId", "trace_id", 5, PT_ID, 0, 16, NULL),
    P("asInt", "as_int", 6, PT_SFIXED64, PF_PRESENCE, 1, NULL),
    P("filteredAttributes", "filtered_attributes", 7, PT_MSG, PF_REPEATED, 0,
      &sl__proto_kv_msg),
};
static const sl__pmsg exemplar_msg = PMSG_ONEOF("exemplar", exemplar_fields, 5);

static const sl__pfield number_dp_fields[] = {
    P("startTimeUnixNano", "start_time_unix_nano", 2, PT_FIXED64, 0, 0, NULL),
    P("timeUnixNano", "time_unix_nano", 3, PT_FIXED64, 0, 0, NULL),
    P("asDouble", "as_double", 4, PT_DOUBLE, PF_PRESENCE, 1, NULL),
    P("exemplars", "exemplars", 5, PT_MSG, PF_REPEATED, 0, &exemplar_msg),
    P("asInt", "as_int", 6, PT_SFIXED64, PF_PRESENCE, 1, NULL),
    P("attributes", "attributes", 7, PT_MSG, PF_REPEATED, 0, &sl__proto_kv_msg),
    P("flags", "flags", 8, PT_UINT32, 0, 0, NULL),
};
static const sl__pmsg number_dp_msg =
    PMSG_ONEOF("data point", number_dp_fields, 6);

static const sl__pfield hist_dp_fields[] = {
    P("startTimeUnixNano", "start_time_unix_nano", 2, PT_FIXED64, 0, 0, NULL),
    P("timeUnixNano", "time_unix_nano", 3, PT_FIXED64, 0, 0, NULL),
    P("count", "count", 4, PT_FIXED64, 0, 0, NULL),
    P("sum", "sum", 5, PT_DOUBLE, PF_PRESENCE, 0, NULL),
    P("bucketCounts", "bucket_counts", 6, PT_FIXED64, PF_REPEATED, 0, NULL),
    P("explicitBounds", "explicit_bounds", 7, PT_DOUBLE, PF_REPEATED, 0, NULL),
    P("exemplars", "exemplars", 8, PT_MSG, PF_REPEATED, 0, &exemplar_msg),
    P("attributes", "attributes", 9, PT_MSG, PF_REPEATED, 0, &sl__proto_kv_msg),
    P("flags", "flags", 10, PT_UINT32, 0, 0, NULL),
    P("min", "min", 11, PT_DOUBLE, PF_PRESENCE, 0, NULL),
    P("max", "max", 12, PT_DOUBLE, PF_PRESENCE, 0, NULL),
};
static const sl__pmsg hist_dp_msg = PMSG("data point", hist_dp_fields);

static const sl__pfield buckets_fields[] = {
    P("offset", "offset", 1, PT_SINT32, 0, 0, NULL),
    P("bucketCounts", "bucket_counts", 2, PT_UINT64, PF_REPEATED, 0, NULL),
};
static const sl__pmsg buckets_msg = PMSG("buckets", buckets_fields);

static const sl__pfield exph_dp_fields[] = {
    P("attributes", "attributes", 1, PT_MSG, PF_REPEATED, 0, &sl__proto_kv_msg),
    P("startTimeUnixNano", "start_time_unix_nano", 2, PT_FIXED64, 0, 0, NULL),
    P("timeUnixNano", "time_unix_nano", 3, PT_FIXED64, 0, 0, NULL),
    P("count", "count", 4, PT_FIXED64, 0, 0, NULL),
    P("sum", "sum", 5, PT_DOUBLE, PF_PRESENCE, 0, NULL),
    P("scale", "scale", 6, PT_SINT32, 0, 0, NULL),
    P("zeroCount", "zero_count", 7, PT_FIXED64, 0, 0, NULL),
    P("positive", "positive", 8, PT_MSG, 0, 0, &buckets_msg),
    P("negative", "negative", 9, PT_MSG, 0, 0, &buckets_msg),
    P("flags", "flags", 10, PT_UINT32, 0, 0, NULL),
    P("exemplars", "exemplars", 11, PT_MSG, PF_REPEATED, 0, &exemplar_msg),
    P("min", "min", 12, PT_DOUBLE, PF_PRESENCE, 0, NULL),
    P("max", "max", 13, PT_DOUBLE, PF_PRESENCE, 0, NULL),
    P("zeroThreshold", "zero_threshold", 14, PT_DOUBLE, 0, 0, NULL),
};
static const sl__pmsg exph_dp_msg = PMSG("data point", exph_dp_fields);

static const sl__pfield quantile_fields[] = {
    P("quantile", "quantile", 1, PT_DOUBLE, 0, 0, NULL),
    P("value", "value", 2, PT_DOUBLE, 0, 0, NULL),
};
static const sl__pmsg quantile_msg = PMSG("quantile value", quantile_fields);

static const sl__pfield summary_dp_fields[] = {
    P("startTimeUnixNano", "start_time_unix_nano", 2, PT_FIXED64, 0, 0, NULL),
    P("timeUnixNano", "time_unix_nano", 3, PT_FIXED64, 0, 0, NULL),
    P("count", "count", 4, PT_FIXED64, 0, 0, NULL),
    P("sum", "sum", 5, PT_DOUBLE, 0, 0, NULL),
    P("quantileValues", "quantile_values", 6, PT_MSG, PF_REPEATED, 0,
      &quantile_msg),
    P("attributes", "attributes", 7, PT_MSG, PF_REPEATED, 0, &sl__proto_kv_msg),
    P("flags", "flags", 8, PT_UINT32, 0, 0, NULL),
};
static const sl__pmsg summary_dp_msg = PMSG("data point", summary_dp_fields);

static const sl__pfield gauge_fields[] = {
    P("dataPoints", "data_points", 1, PT_MSG, PF_REPEATED, 0, &number_dp_msg),
};
static const sl__pmsg gauge_msg = PMSG("gauge", gauge_fields);
static const sl__pfield sum_fields[] = {
    P("dataPoints", "data_points", 1, PT_MSG, PF_REPEATED, 0, &number_dp_msg),
    P("aggregationTemporality", "aggregation_temporality", 2, PT_ENUM, 0,
      PE_TEMPORALITY, NULL),
    P("isMonotonic", "is_monotonic", 3, PT_BOOL, 0, 0, NULL),
};
static const sl__pmsg sum_msg = PMSG("sum", sum_fields);
static const sl__pfield hist_fields[] = {
    P("dataPoints", "data_points", 1, PT_MSG, PF_REPEATED, 0, &hist_dp_msg),
    P("aggregationTemporality", "aggregation_temporality", 2, PT_ENUM, 0,
      PE_TEMPORALITY, NULL),
};
static const sl__pmsg hist_msg = PMSG("histogram", hist_fields);
static const sl__pfield exph_fields[] = {
    P("dataPoints", "data_points", 1, PT_MSG, PF_REPEATED, 0, &exph_dp_msg),
    P("aggregationTemporality", "aggregation_temporality", 2, PT_ENUM, 0,
      PE_TEMPORALITY, NULL),
};
static const sl__pmsg exph_msg = PMSG("exponential histogram", exph_fields);
static const sl__pfield summary_fields[] = {
    P("dataPoints", "data_points", 1, PT_MSG, PF_REPEATED, 0, &summary_dp_msg),
};
static const sl__pmsg summary_msg = PMSG("summary", summary_fields);

static const sl__pfield metric_fields[] = {
    PS("name", "name", 1, PT_STRING, 0, 0, NULL, MS_NAME),
    PS("description", "description", 2, PT_STRING, 0, 0, NULL, MS_DESC),
    PS("unit", "unit", 3, PT_STRING, 0, 0, NULL, MS_UNIT),
    PS("gauge", "gauge", 5, PT_MSG, PF_PRESENCE, 1, &gauge_msg, MS_GAUGE),
    PS("sum", "sum", 7, PT_MSG, PF_PRESENCE, 1, &sum_msg, MS_SUM),
    PS("histogram", "histogram", 9, PT_MSG, PF_PRESENCE, 1, &hist_msg, MS_HIST),
    PS("exponentialHistogram", "exponential_histogram", 10, PT_MSG, PF_PRESENCE,
       1, &exph_msg, MS_EXPH),
    PS("summary", "summary", 11, PT_MSG, PF_PRESENCE, 1, &summary_msg,
       MS_SUMMARY),
    P("metadata", "metadata", 12, PT_MSG, PF_REPEATED, 0, &sl__proto_kv_msg),
};
static const sl__pmsg metric_msg = PMSG_ONEOF("metric", metric_fields, 5);

static const sl__pfield scope_metrics_fields[] = {
    PINNER("scope", "scope", 1, &scope_msg),
    PLIST("metrics", "metrics", 2, &metric_msg),
    PSCHEMA(3),
};
static const sl__pmsg scope_metrics_msg =
    PMSG("scope metrics", scope_metrics_fields);

static const sl__pfield res_metrics_fields[] = {
    PINNER("resource", "resource", 1, &resource_msg),
    PLIST("scopeMetrics", "scope_metrics", 2, &scope_metrics_msg),
    PSCHEMA(3),
};
static const sl__pmsg res_metrics_msg =
    PMSG("resource metrics", res_metrics_fields);

static const sl__pfield metrics_req_fields[] = {
    P("resourceMetrics", "resource_metrics", 1, PT_MSG, PF_REPEATED, 0,
      &res_metrics_msg),
};
static const sl__pmsg metrics_req_msg = PMSG("request", metrics_req_fields);

/* ---- trace.proto ---- */

static const sl__pfield event_fields[] = {
    P("timeUnixNano", "time_unix_nano", 1, PT_FIXED64, 0, 0, NULL),
    P("name", "name", 2, PT_STRING, 0, 0, NULL),
    P("attributes", "attributes", 3, PT_MSG, PF_REPEATED, 0, &sl__proto_kv_msg),
    P("droppedAttributesCount", "dropped_attributes_count", 4, PT_UINT32, 0, 0,
      NULL),
};
static const sl__pmsg event_msg = PMSG("event", event_fields);

static const sl__pfield link_fields[] = {
    P("traceId", "trace_id", 1, PT_ID, 0, 16, NULL),
    P("spanId", "span_id", 2, PT_ID, 0, 8, NULL),
    P("traceState", "trace_state", 3, PT_STRING, 0, 0, NULL),
    P("attributes", "attributes", 4, PT_MSG, PF_REPEATED, 0, &sl__proto_kv_msg),
    P("droppedAttributesCount", "dropped_attributes_count", 5, PT_UINT32, 0, 0,
      NULL),
    P("flags", "flags", 6, PT_FIXED32, 0, 0, NULL),
};
static const sl__pmsg link_msg = PMSG("link", link_fields);

static const sl__pfield status_fields[] = {
    P("message", "message", 2, PT_STRING, 0, 0, NULL),
    P("code", "code", 3, PT_ENUM, 0, PE_STATUS, NULL),
};
static const sl__pmsg status_msg = PMSG("status", status_fields);

static const sl__pfield span_fields[] = {
    PS("traceId", "trace_id", 1, PT_ID, 0, 16, NULL, SS_TRACE_ID),
    PS("spanId", "span_id", 2, PT_ID, 0, 8, NULL, SS_SPAN_ID),
    PS("traceState", "trace_state", 3, PT_STRING, 0, 0, NULL, SS_TSTATE),
    PS("parentSpanId", "parent_span_id", 4, PT_ID, 0, 8, NULL, SS_PARENT),
    PS("name", "name", 5, PT_STRING, 0, 0, NULL, SS_NAME),
    PS("kind", "kind", 6, PT_ENUM, 0, PE_SPAN_KIND, NULL, SS_KIND),
    P("startTimeUnixNano", "start_time_unix_nano", 7, PT_FIXED64, 0, 0, NULL),
    P("endTimeUnixNano", "end_time_unix_nano", 8, PT_FIXED64, 0, 0, NULL),
    PS("attributes", "attributes", 9, PT_MSG, PF_REPEATED, 0, &sl__proto_kv_msg,
       SLOT_ATTRS),
    P("droppedAttributesCount", "dropped_attributes_count", 10, PT_UINT32, 0, 0,
      NULL),
    PS("events", "events", 11, PT_MSG, PF_REPEATED, 0, &event_msg, SS_EVENTS),
    P("droppedEventsCount", "dropped_events_count", 12, PT_UINT32, 0, 0, NULL),
    PS("links", "links", 13, PT_MSG, PF_REPEATED, 0, &link_msg, SS_LINKS),
    P("droppedLinksCount", "dropped_links_count", 14, PT_UINT32, 0, 0, NULL),
    PS("status", "status", 15, PT_MSG, 0, 0, &status_msg, SS_STATUS),
    P("flags", "flags", 16, PT_FIXED32, 0, 0, NULL),
};
static const sl__pmsg span_msg = PMSG("span", span_fields);

static const sl__pfield scope_spans_fields[] = {
    PINNER("scope", "scope", 1, &scope_msg),
    PLIST("spans", "spans", 2, &span_msg),
    PSCHEMA(3),
};
static const sl__pmsg scope_spans_msg = PMSG("scope spans", scope_spans_fields);

static const sl__pfield res_spans_fields[] = {
    PINNER("resource", "resource", 1, &resource_msg),
    PLIST("scopeSpans", "scope_spans", 2, &scope_spans_msg),
    PSCHEMA(3),
};
static const sl__pmsg res_spans_msg = PMSG("resource spans", res_spans_fields);

static const sl__pfield spans_req_fields[] = {
    P("resourceSpans", "resource_spans", 1, PT_MSG, PF_REPEATED, 0,
      &res_spans_msg),
};
static const sl__pmsg spans_req_msg = PMSG("request", spans_req_fields);

/* ---- lookups ---- */

static const sl__pmsg *const levels[3][4] = {
    {&logs_req_msg, &res_logs_msg, &scope_logs_msg, &log_msg},
    {&metrics_req_msg, &res_metrics_msg, &scope_metrics_msg, &metric_msg},
    {&spans_req_msg, &res_spans_msg, &scope_spans_msg, &span_msg},
};

static const sl__pmsg *level(sl_signal sig, int l) {
    return levels[(unsigned)sig < 3 ? (unsigned)sig : 0][l];
}

const sl__pmsg *sl__proto_request(sl_signal sig) {
    return level(sig, 0);
}
const sl__pmsg *sl__proto_resource_entry(sl_signal sig) {
    return level(sig, 1);
}
const sl__pmsg *sl__proto_scope_entry(sl_signal sig) {
    return level(sig, 2);
}
const sl__pmsg *sl__proto_record(sl_signal sig) {
    return level(sig, 3);
}

const sl__pfield *sl__proto_field_num(const sl__pmsg *m, uint32_t num) {
    if (num - 1 < m->n && m->f[num - 1].num == num) {
        return &m->f[num - 1]; /* most tables list fields 1, 2, 3, ... */
    }
    /* the tables list fields by increasing number, so field num is at
     * index num - 1 or before (LogRecord skips 4: fields 5.. are one
     * back); a table out of order still finds it in the full scan below */
    for (uint32_t i = num - 1 < m->n ? num - 1 : m->n; i-- > 0;) {
        if (m->f[i].num == num) {
            return &m->f[i];
        }
        if (m->f[i].num < num) {
            break;
        }
    }
    for (uint8_t i = 0; i < m->n; i++) {
        if (m->f[i].num == num) {
            return &m->f[i];
        }
    }
    return NULL;
}

const sl__pfield *sl__proto_field_key(const sl__pmsg *m, sl_str key) {
    for (uint8_t i = 0; i < m->n; i++) {
        const sl__pfield *f = &m->f[i];
        if ((key.len == f->clen && memcmp(key.ptr, f->camel, f->clen) == 0) ||
            (key.len == f->slen && memcmp(key.ptr, f->snake, f->slen) == 0)) {
            return f;
        }
    }
    return NULL;
}

bool sl__proto_skip(const uint8_t **p, const uint8_t *end, int wt) {
    uint64_t v;
    switch (wt) {
    case WT_VARINT:
        return sl__proto_varint(p, end, &v);
    case WT_I64:
        if (end - *p < 8) {
            return false;
        }
        *p += 8;
        return true;
    case WT_I32:
        if (end - *p < 4) {
            return false;
        }
        *p += 4;
        return true;
    case WT_LEN:
        if (!sl__proto_varint(p, end, &v) || v > (uint64_t)(end - *p)) {
            return false;
        }
        *p += v;
        return true;
    default:
        return false;
    }
}

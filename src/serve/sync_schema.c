/* src/serve/sync_schema.c: the tero.policy.v1 sync messages as protobuf
 * tables (sync_schema.h). Oneof groups use aux 10 and up, so that no enum
 * of these tables takes its names from the OTLP enum tables (aux 0-3). */
#include "serve/sync_schema.h"

#include "base/base.h"
#include "otlp/proto.h"

#define P          SL__PFIELD
#define PMSG       SL__PMSG
#define PMSG_ONEOF SL__PMSG_ONEOF

enum {
    G_FIELD = 10,  /* oneof field / from */
    G_MATCH = 11,  /* oneof match */
    G_VALUE = 12,  /* oneof value */
    G_TARGET = 13, /* oneof target */
    G_OPT = 96     /* proto3 optionals: each its own group, G_OPT + k */
};

/* ---- shared.proto ---- */

static const sl__pfield path_fields[] = {
    P("path", "path", 1, PT_STRING, PF_REPEATED, 0, NULL),
};
static const sl__pmsg path_msg = PMSG("attribute path", path_fields);

static const sl__pfield value_fields[] = {
    P("boolValue", "bool_value", 1, PT_BOOL, PF_PRESENCE, G_VALUE, NULL),
    P("intValue", "int_value", 2, PT_INT64, PF_PRESENCE, G_VALUE, NULL),
    P("doubleValue", "double_value", 3, PT_DOUBLE, PF_PRESENCE, G_VALUE, NULL),
    P("bytesValue", "bytes_value", 4, PT_BYTES, PF_PRESENCE, G_VALUE, NULL),
    P("hexValue", "hex_value", 5, PT_STRING, PF_PRESENCE, G_VALUE, NULL),
    P("stringValue", "string_value", 6, PT_STRING, PF_PRESENCE, G_VALUE, NULL),
};
static const sl__pmsg value_msg = PMSG_ONEOF("value", value_fields, 1);

static const sl__pfield numeric_fields[] = {
    P("intValue", "int_value", 1, PT_INT64, PF_PRESENCE, G_VALUE, NULL),
    P("doubleValue", "double_value", 2, PT_DOUBLE, PF_PRESENCE, G_VALUE, NULL),
};
static const sl__pmsg numeric_msg =
    PMSG_ONEOF("numeric value", numeric_fields, 1);

/* the match oneof and the two flags every matcher has */
#define MATCH_FIELDS                                                           \
    P("exact", "exact", 10, PT_STRING, PF_PRESENCE, G_MATCH, NULL),            \
        P("regex", "regex", 11, PT_STRING, PF_PRESENCE, G_MATCH, NULL),        \
        P("exists", "exists", 12, PT_BOOL, PF_PRESENCE, G_MATCH, NULL),        \
        P("startsWith", "starts_with", 13, PT_STRING, PF_PRESENCE, G_MATCH,    \
          NULL),                                                               \
        P("endsWith", "ends_with", 14, PT_STRING, PF_PRESENCE, G_MATCH, NULL), \
        P("contains", "contains", 15, PT_STRING, PF_PRESENCE, G_MATCH, NULL),  \
        P("negate", "negate", 20, PT_BOOL, 0, 0, NULL),                        \
        P("caseInsensitive", "case_insensitive", 21, PT_BOOL, 0, 0, NULL),     \
        P("equals", "equals", 22, PT_MSG, PF_PRESENCE, G_MATCH, &value_msg),   \
        P("gt", "gt", 23, PT_MSG, PF_PRESENCE, G_MATCH, &numeric_msg),         \
        P("gte", "gte", 24, PT_MSG, PF_PRESENCE, G_MATCH, &numeric_msg),       \
        P("lt", "lt", 25, PT_MSG, PF_PRESENCE, G_MATCH, &numeric_msg),         \
        P("lte", "lte", 26, PT_MSG, PF_PRESENCE, G_MATCH, &numeric_msg)

/* the field oneof of log matchers, sample keys and transforms */
#define LOG_FIELD_ONEOF                                                      \
    P("logField", "log_field", 1, PT_ENUM, PF_PRESENCE, G_FIELD, NULL),      \
        P("logAttribute", "log_attribute", 2, PT_MSG, PF_PRESENCE, G_FIELD,  \
          &path_msg),                                                        \
        P("resourceAttribute", "resource_attribute", 3, PT_MSG, PF_PRESENCE, \
          G_FIELD, &path_msg),                                               \
        P("scopeAttribute", "scope_attribute", 4, PT_MSG, PF_PRESENCE,       \
          G_FIELD, &path_msg)

/* ---- log.proto ---- */

static const sl__pfield log_matcher_fields[] = {LOG_FIELD_ONEOF, MATCH_FIELDS};
static const sl__pmsg log_matcher_msg =
    PMSG_ONEOF("log matcher", log_matcher_fields, 4);

static const sl__pfield log_field_fields[] = {LOG_FIELD_ONEOF};
static const sl__pmsg log_field_msg =
    PMSG_ONEOF("log field", log_field_fields, 1);

static const sl__pfield log_redact_fields[] = {
    LOG_FIELD_ONEOF,
    P("replacement", "replacement", 10, PT_STRING, 0, 0, NULL),
    P("regex", "regex", 11, PT_STRING, PF_PRESENCE, G_OPT, NULL),
};
static const sl__pmsg log_redact_msg =
    PMSG_ONEOF("log redact", log_redact_fields, 3);

static const sl__pfield log_rename_fields[] = {
    P("fromLogField", "from_log_field", 1, PT_ENUM, PF_PRESENCE, G_FIELD, NULL),
    P("fromLogAttribute", "from_log_attribute", 2, PT_MSG, PF_PRESENCE, G_FIELD,
      &path_msg),
    P("fromResourceAttribute", "from_resource_attribute", 3, PT_MSG,
      PF_PRESENCE, G_FIELD, &path_msg),
    P("fromScopeAttribute", "from_scope_attribute", 4, PT_MSG, PF_PRESENCE,
      G_FIELD, &path_msg),
    P("to", "to", 10, PT_STRING, 0, 0, NULL),
    P("upsert", "upsert", 11, PT_BOOL, 0, 0, NULL),
};
static const sl__pmsg log_rename_msg =
    PMSG_ONEOF("log rename", log_rename_fields, 3);

static const sl__pfield log_add_fields[] = {
    LOG_FIELD_ONEOF,
    P("value", "value", 10, PT_STRING, 0, 0, NULL),
    P("upsert", "upsert", 11, PT_BOOL, 0, 0, NULL),
};
static const sl__pmsg log_add_msg = PMSG_ONEOF("log add", log_add_fields, 3);

static const sl__pfield log_transform_fields[] = {
    P("remove", "remove", 1, PT_MSG, PF_REPEATED, 0, &log_field_msg),
    P("redact", "redact", 2, PT_MSG, PF_REPEATED, 0, &log_redact_msg),
    P("rename", "rename", 3, PT_MSG, PF_REPEATED, 0, &log_rename_msg),
    P("add", "add", 4, PT_MSG, PF_REPEATED, 0, &log_add_msg),
};
static const sl__pmsg log_transform_msg =
    PMSG("log transform", log_transform_fields);

static const sl__pfield log_target_fields[] = {
    P("match", "match", 1, PT_MSG, PF_REPEATED, 0, &log_matcher_msg),
    P("keep", "keep", 2, PT_STRING, 0, 0, NULL),
    P("transform", "transform", 3, PT_MSG, 0, 0, &log_transform_msg),
    P("sampleKey", "sample_key", 4, PT_MSG, 0, 0, &log_field_msg),
};
static const sl__pmsg log_target_msg = PMSG("log target", log_target_fields);

/* ---- metric.proto ---- */

static const sl__pfield metric_matcher_fields[] = {
    P("metricField", "metric_field", 1, PT_ENUM, PF_PRESENCE, G_FIELD, NULL),
    P("datapointAttribute", "datapoint_attribute", 2, PT_MSG, PF_PRESENCE,
      G_FIELD, &path_msg),
    P("resourceAttribute", "resource_attribute", 3, PT_MSG, PF_PRESENCE,
      G_FIELD, &path_msg),
    P("scopeAttribute", "scope_attribute", 4, PT_MSG, PF_PRESENCE, G_FIELD,
      &path_msg),
    P("metricType", "metric_type", 5, PT_ENUM, PF_PRESENCE, G_FIELD, NULL),
    P("aggregationTemporality", "aggregation_temporality", 6, PT_ENUM,
      PF_PRESENCE, G_FIELD, NULL),
    MATCH_FIELDS,
};
static const sl__pmsg metric_matcher_msg =
    PMSG_ONEOF("metric matcher", metric_matcher_fields, 4);

static const sl__pfield metric_target_fields[] = {
    P("match", "match", 1, PT_MSG, PF_REPEATED, 0, &metric_matcher_msg),
    P("keep", "keep", 2, PT_BOOL, 0, 0, NULL),
};
static const sl__pmsg metric_target_msg =
    PMSG("metric target", metric_target_fields);

/* ---- trace.proto ---- */

static const sl__pfield trace_matcher_fields[] = {
    P("traceField", "trace_field", 1, PT_ENUM, PF_PRESENCE, G_FIELD, NULL),
    P("spanAttribute", "span_attribute", 2, PT_MSG, PF_PRESENCE, G_FIELD,
      &path_msg),
    P("resourceAttribute", "resource_attribute", 3, PT_MSG, PF_PRESENCE,
      G_FIELD, &path_msg),
    P("scopeAttribute", "scope_attribute", 4, PT_MSG, PF_PRESENCE, G_FIELD,
      &path_msg),
    P("spanKind", "span_kind", 5, PT_ENUM, PF_PRESENCE, G_FIELD, NULL),
    P("spanStatus", "span_status", 6, PT_ENUM, PF_PRESENCE, G_FIELD, NULL),
    P("eventName", "event_name", 7, PT_STRING, PF_PRESENCE, G_FIELD, NULL),
    P("eventAttribute", "event_attribute", 8, PT_MSG, PF_PRESENCE, G_FIELD,
      &path_msg),
    P("linkTraceId", "link_trace_id", 9, PT_STRING, PF_PRESENCE, G_FIELD, NULL),
    MATCH_FIELDS,
};
static const sl__pmsg trace_matcher_msg =
    PMSG_ONEOF("trace matcher", trace_matcher_fields, 4);

static const sl__pfield sampling_fields[] = {
    P("percentage", "percentage", 1, PT_FLOAT, 0, 0, NULL),
    P("mode", "mode", 2, PT_ENUM, PF_PRESENCE, G_OPT, NULL),
    P("samplingPrecision", "sampling_precision", 3, PT_UINT32, PF_PRESENCE,
      G_OPT + 1, NULL),
    P("hashSeed", "hash_seed", 4, PT_UINT32, PF_PRESENCE, G_OPT + 2, NULL),
    P("failClosed", "fail_closed", 5, PT_BOOL, PF_PRESENCE, G_OPT + 3, NULL),
};
static const sl__pmsg sampling_msg = PMSG("sampling config", sampling_fields);

static const sl__pfield trace_target_fields[] = {
    P("match", "match", 1, PT_MSG, PF_REPEATED, 0, &trace_matcher_msg),
    P("keep", "keep", 2, PT_MSG, 0, 0, &sampling_msg),
};
static const sl__pmsg trace_target_msg =
    PMSG("trace target", trace_target_fields);

/* ---- policy.proto ---- */

static const sl__pfield policy_fields[] = {
    P("id", "id", 1, PT_STRING, 0, 0, NULL),
    P("name", "name", 2, PT_STRING, 0, 0, NULL),
    P("description", "description", 3, PT_STRING, 0, 0, NULL),
    P("enabled", "enabled", 4, PT_BOOL, 0, 0, NULL),
    P("createdAtUnixNano", "created_at_unix_nano", 5, PT_FIXED64, 0, 0, NULL),
    P("modifiedAtUnixNano", "modified_at_unix_nano", 6, PT_FIXED64, 0, 0, NULL),
    P("labels", "labels", 7, PT_MSG, PF_REPEATED, 0, &sl__proto_kv_msg),
    P("log", "log", 10, PT_MSG, PF_PRESENCE, G_TARGET, &log_target_msg),
    P("metric", "metric", 11, PT_MSG, PF_PRESENCE, G_TARGET,
      &metric_target_msg),
    P("trace", "trace", 12, PT_MSG, PF_PRESENCE, G_TARGET, &trace_target_msg),
};
static const sl__pmsg policy_msg = PMSG_ONEOF("policy", policy_fields, 8);

static const sl__pfield client_fields[] = {
    P("supportedPolicyStages", "supported_policy_stages", 1, PT_ENUM,
      PF_REPEATED, G_OPT, NULL),
    P("labels", "labels", 2, PT_MSG, PF_REPEATED, 0, &sl__proto_kv_msg),
    P("resourceAttributes", "resource_attributes", 3, PT_MSG, PF_REPEATED, 0,
      &sl__proto_kv_msg),
};
static const sl__pmsg client_msg = PMSG("client metadata", client_fields);

static const sl__pfield stage_fields[] = {
    P("hits", "hits", 1, PT_INT64, 0, 0, NULL),
    P("misses", "misses", 2, PT_INT64, 0, 0, NULL),
};
static const sl__pmsg stage_msg = PMSG("transform stage status", stage_fields);

static const sl__pfield status_fields[] = {
    P("id", "id", 1, PT_STRING, 0, 0, NULL),
    P("matchHits", "match_hits", 2, PT_INT64, 0, 0, NULL),
    P("matchMisses", "match_misses", 3, PT_INT64, 0, 0, NULL),
    P("errors", "errors", 4, PT_STRING, PF_REPEATED, 0, NULL),
    P("remove", "remove", 10, PT_MSG, 0, 0, &stage_msg),
    P("redact", "redact", 11, PT_MSG, 0, 0, &stage_msg),
    P("rename", "rename", 12, PT_MSG, 0, 0, &stage_msg),
    P("add", "add", 13, PT_MSG, 0, 0, &stage_msg),
};
static const sl__pmsg status_msg = PMSG("policy sync status", status_fields);

static const sl__pfield request_fields[] = {
    P("clientMetadata", "client_metadata", 1, PT_MSG, 0, 0, &client_msg),
    P("fullSync", "full_sync", 2, PT_BOOL, 0, 0, NULL),
    P("lastSyncTimestampUnixNano", "last_sync_timestamp_unix_nano", 3,
      PT_FIXED64, 0, 0, NULL),
    P("lastSuccessfulHash", "last_successful_hash", 4, PT_STRING, 0, 0, NULL),
    P("policyStatuses", "policy_statuses", 5, PT_MSG, PF_REPEATED, 0,
      &status_msg),
};
static const sl__pmsg request_msg = PMSG("sync request", request_fields);

static const sl__pfield response_fields[] = {
    P("policies", "policies", 1, PT_MSG, PF_REPEATED, 0, &policy_msg),
    P("hash", "hash", 2, PT_STRING, 0, 0, NULL),
    P("syncTimestampUnixNano", "sync_timestamp_unix_nano", 3, PT_FIXED64, 0, 0,
      NULL),
    P("recommendedSyncIntervalSeconds", "recommended_sync_interval_seconds", 4,
      PT_UINT32, 0, 0, NULL),
    P("syncType", "sync_type", 5, PT_ENUM, 0, G_OPT, NULL),
    P("errorMessage", "error_message", 6, PT_STRING, 0, 0, NULL),
};
static const sl__pmsg response_msg = PMSG("sync response", response_fields);

static const sl__pmsg *table(sl__sync_msg m) {
    return m == SL_SYNC_MSG_REQUEST ? &request_msg : &response_msg;
}

/* A protobuf Policy without enabled is disabled (proto3: false is not on
 * the wire), where a policy document without it is enabled: say false. */
static sl_status disabled_explicit(sl_doc *doc) {
    const sl_node *list = sl_node_get(sl_doc_root(doc), "policies");
    for (size_t i = 0; i < sl_node_len(list); i++) {
        sl_node *p = (sl_node *)sl_node_at(list, i);
        if (sl_node_kind_of(p) != SL_NODE_OBJECT || sl_node_get(p, "enabled")) {
            continue;
        }
        sl_node *v = NULL;
        sl_status rc = sl_node_obj_append(doc, p, "enabled", 7, &v);
        rc = rc == SL_OK ? sl_node_set_scalar(doc, v, SL_NODE_BOOL, "false", 5)
                         : rc;
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

sl_status sl__sync_pb_to_json(sl__sync_msg m, const char *pb, size_t len,
                              sl_buf *out, sl_error *err) {
    sl_doc *doc = sl_doc_new();
    if (!doc) {
        return sl__nomem(err);
    }
    const char *name =
        m == SL_SYNC_MSG_REQUEST ? "SyncRequest" : "SyncResponse";
    sl_status rc = sl__proto_decode(doc, table(m), pb, len, name, err);
    if (rc == SL_OK && m == SL_SYNC_MSG_RESPONSE &&
        (rc = disabled_explicit(doc)) != SL_OK) {
        sl__nomem(err);
    }
    if (rc == SL_OK) {
        rc = sl_json_write(out, sl_doc_root(doc), SL_WRITE_COMPACT, err);
    }
    sl_doc_free(doc);
    return rc;
}

sl_status sl__sync_pb_from_json(sl__sync_msg m, const char *json, size_t len,
                                sl_buf *out, sl_error *err) {
    sl_doc *doc = sl_doc_new();
    if (!doc) {
        return sl__nomem(err);
    }
    sl_status rc = sl_doc_load(
        doc, json ? json : "", len, SL_FORMAT_JSON,
        m == SL_SYNC_MSG_REQUEST ? "SyncRequest" : "SyncResponse", NULL, err);
    if (rc == SL_OK) {
        rc = sl__proto_encode(table(m), sl_doc_root(doc), out, err);
    }
    sl_doc_free(doc);
    return rc;
}

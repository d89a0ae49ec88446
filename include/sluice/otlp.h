/* include/sluice/otlp.h: the OTLP data model for logs, metrics and traces
 * over the JSON document tree, and field access for policies.
 *
 * An sl_otlp holds one OTLP/JSON export request (ExportLogsServiceRequest,
 * ...MetricsServiceRequest or ...TraceServiceRequest). Loading parses the
 * JSON once, validates the OTLP shape, and indexes its records (log
 * records, metrics, spans) in document order; nothing is copied. Field
 * access follows the adapter rules of the reference runner (see
 * ../shared/reference/policy-engine-upstream.md §5 and spec §7): string
 * getters return nothing for empty strings, attributes exist for any value
 * type, nested paths go through kvlistValue, metrics use the first data
 * point's attributes, metric type / temporality / span kind / span status
 * are synthesized as proto enum names. Writing emits the kept records
 * (changes applied) and leaves out scopes and resources that became empty;
 * everything the engine did not touch survives byte for byte.
 *
 * What loading accepts (the OTLP/JSON mapping, read demandingly):
 * - camelCase field names, and also the proto names (resource_logs,
 *   string_value, trace_id, ...) that the OpenTelemetry Collector and
 *   Fluent Bit accept, though the OTLP spec calls them invalid; a request
 *   keeps its spelling, and members sluice adds use the same spelling;
 * - null for any field (= absent), 64-bit integers as numbers or decimal
 *   strings, doubles as numbers or strings ("NaN", "Infinity"), enums
 *   (severityNumber, kind, status.code, aggregationTemporality) as names or
 *   numbers, bytesValue as base64, an empty AnyValue ({});
 * - trace / span ids as hex of exactly 32 / 16 digits, either case, or ""
 *   (the proto default, meaning no id); upper-case ids are rewritten in
 *   lower case, the form getters return and the writer emits;
 * - unknown fields, kept untouched (newer OTLP versions add fields);
 * - missing lists (no scopeLogs, no logRecords, ...): empty, as in proto3.
 * Everything else is SL_ESCHEMA naming the JSON path of the value
 * ("resourceLogs[0].scopeLogs[0].logRecords[2].timeUnixNano: expected an
 * unsigned integer, got object") and its file:line:col: wrong JSON types,
 * malformed ids, integers out of range, unknown enum names, an AnyValue
 * with an unknown kind or two kinds, a field given twice, two resource
 * lists in one request.
 *
 * Thread safety: one batch per thread; reads of one loaded batch may run
 * concurrently except sl_otlp_typed (decode scratch). */
#ifndef SLUICE_OTLP_H
#define SLUICE_OTLP_H

#include <stdbool.h>

#include <sluice/common.h>
#include <sluice/doc.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sl_signal {
    SL_SIGNAL_LOG = 0,
    SL_SIGNAL_METRIC = 1,
    SL_SIGNAL_TRACE = 2,
    SL_SIGNAL_NONE = 3 /* an empty request: no resource list present */
} sl_signal;

/** What a policy reads or changes on a record. */
typedef enum sl_field_kind {
    SL_FIELD_NONE = 0,
    /* log records */
    SL_FIELD_LOG_BODY = 1,
    SL_FIELD_LOG_SEVERITY_TEXT = 2,
    SL_FIELD_LOG_TRACE_ID = 3,
    SL_FIELD_LOG_SPAN_ID = 4,
    SL_FIELD_LOG_EVENT_NAME = 5,
    /* metrics */
    SL_FIELD_METRIC_NAME = 10,
    SL_FIELD_METRIC_DESCRIPTION = 11,
    SL_FIELD_METRIC_UNIT = 12,
    SL_FIELD_METRIC_TYPE = 13,        /* "METRIC_TYPE_GAUGE", ... */
    SL_FIELD_METRIC_TEMPORALITY = 14, /* "AGGREGATION_TEMPORALITY_DELTA" */
    /* spans */
    SL_FIELD_SPAN_NAME = 20,
    SL_FIELD_SPAN_TRACE_ID = 21,
    SL_FIELD_SPAN_ID = 22,
    SL_FIELD_SPAN_PARENT_SPAN_ID = 23,
    SL_FIELD_SPAN_TRACE_STATE = 24,
    SL_FIELD_SPAN_KIND = 25,       /* "SPAN_KIND_SERVER", ... */
    SL_FIELD_SPAN_STATUS = 26,     /* "SPAN_STATUS_CODE_OK", ... */
    SL_FIELD_SPAN_EVENT_NAME = 27, /* first non-empty span event name */
    SL_FIELD_SPAN_LINK_TRACE_ID = 28,
    SL_FIELD_SPAN_SAMPLING_THRESHOLD = 29, /* set only: th in `ot=` */
    /* any signal */
    SL_FIELD_RESOURCE_SCHEMA_URL = 40,
    SL_FIELD_SCOPE_SCHEMA_URL = 41,
    SL_FIELD_SCOPE_NAME = 42,
    SL_FIELD_SCOPE_VERSION = 43,
    /* attributes (need a path): the record's own attributes (log record,
     * first data point, span), its resource's, its scope's, its span
     * events' */
    SL_FIELD_ATTR = 50,
    SL_FIELD_RESOURCE_ATTR = 51,
    SL_FIELD_SCOPE_ATTR = 52,
    SL_FIELD_EVENT_ATTR = 53
} sl_field_kind;

/** A field selector. path is borrowed for the duration of each call. */
typedef struct sl_field {
    sl_field_kind kind;
    const sl_str *path; /* attribute path segments, for SL_FIELD_*ATTR */
    uint32_t path_len;
} sl_field;

/** A typed field value (for equals / gt / gte / lt / lte matchers). */
typedef enum sl_value_type {
    SL_VALUE_NONE = 0,
    SL_VALUE_STRING = 1,
    SL_VALUE_BOOL = 2,
    SL_VALUE_INT = 3,
    SL_VALUE_DOUBLE = 4,
    SL_VALUE_BYTES = 5, /* bytesValue (base64 decoded) or hex ids decoded */
    SL_VALUE_OTHER = 6  /* arrayValue / kvlistValue */
} sl_value_type;

typedef struct sl_value {
    sl_value_type type;
    bool b;
    int64_t i;
    double d;
    sl_str s; /* string text or bytes; borrowed from the batch */
} sl_value;

typedef struct sl_otlp sl_otlp;

/** A new empty batch, owned: free with sl_otlp_free(). Reuse it across
 * loads: memory is kept (no per-record malloc). NULL when out of memory. */
SL_API sl_otlp *sl_otlp_new(void);

/** Free a batch. NULL is a no-op. */
SL_API void sl_otlp_free(sl_otlp *o);

/** Parse and index one OTLP/JSON request (the batch's previous content is
 * forgotten; its memory is reused).
 * @param text  borrowed: must stay valid until the next load or free.
 * @param off   NULL: text is one whole document. Otherwise text is a
 *              stream of JSON values: parse the one at *off and advance
 *              *off past it (as sl_doc_load_next()).
 * @param file  name for errors; may be NULL.
 * @return SL_OK; SL_ENOTFOUND at the end of a stream; SL_EPARSE,
 *         SL_EUTF8, SL_ELIMIT for bad JSON; SL_ESCHEMA for JSON that is not
 *         a valid OTLP request (err names the place); SL_ENOMEM. */
SL_API sl_status sl_otlp_load(sl_otlp *o, const char *text, size_t len,
                              size_t *off, const char *file, sl_error *err);

/** Make later sl_otlp_load() calls lazy: a request of a signal enabled by
 * sl_otlp_set_lazy_signals() (logs by default) is checked in one
 * pass over its text (syntax, UTF-8 and the OTLP schema, as a full load
 * checks them) and only the fields of the given kinds become tree nodes;
 * the rest is validated and skipped, and written back as its source text.
 * Reading another field, a change, sl_otlp_doc() or sl_otlp_write_proto()
 * loads the request in full first (same result, the time of a full load).
 * A request the fast pass does not handle (other signals, whitespace
 * inside it, escaped keys, null fields, anything invalid) takes the full
 * load, so results and error messages never differ.
 * @param on     false turns lazy loading off again (the default).
 * @param kinds  bit k set: field kind k (sl_field_kind) will be read, as
 *               sl_policy_reads() reports.
 * Thread safety: a lazily loaded batch may build its tree on a read: one
 * thread per batch (as for every other use of a batch). */
SL_API void sl_otlp_set_lazy(sl_otlp *o, bool on, uint64_t kinds);

/** Which signals a lazy load takes the fast pass for: bit (1u << s) for
 * each sl_signal s; SL_SIGNAL_LOG alone by default. Enable a signal only
 * when the kinds given to sl_otlp_set_lazy() hold its policies' reads
 * too: otherwise each of its requests is checked twice (the pass, then the
 * full load on the first read). `sluice apply` enables all three. */
SL_API void sl_otlp_set_lazy_signals(sl_otlp *o, unsigned signals);

/** Decode and index one OTLP/protobuf request: an
 * Export{Logs,Metrics,Trace}ServiceRequest (or the same-shaped LogsData /
 * MetricsData / TracesData), whose signal the caller gives (protobuf does
 * not say). The batch then holds the tree the proto3 JSON mapping gives
 * (camelCase keys, 64-bit integers as decimal strings, bytes as base64,
 * ids as lower-case hex, enums as numbers, proto3 defaults left out), so
 * getters, changes, policies and sl_otlp_write work as for JSON. Strings
 * are borrowed from buf; fields sluice does not know are kept as bytes and
 * written back by sl_otlp_write_proto (sl_otlp_write leaves them out, as
 * the JSON mapping does). Repeated occurrences follow protobuf: the last
 * scalar wins, messages merge, a oneof keeps its last member.
 * @param buf   borrowed: must stay valid until the next load or free.
 * @param file  name for errors; may be NULL.
 * @return SL_OK; SL_EPARSE for malformed protobuf (truncated varint or
 *         field, a length past its message, a group); SL_ESCHEMA for a
 *         known field with the wrong wire type, invalid UTF-8 in a string
 *         or an id of the wrong length; SL_ELIMIT (nesting, size); SL_EINVAL;
 *         SL_ENOMEM. err names the field path and byte offset:
 *         "resourceLogs[0].scopeLogs[0].logRecords[2].traceId: expected 16
 *         bytes, got 5 (offset 123)". sl_otlp_signal gives sig even for an
 *         empty request. */
SL_API sl_status sl_otlp_load_proto(sl_otlp *o, sl_signal sig, const char *buf,
                                    size_t len, const char *file,
                                    sl_error *err);

/** The signal of the loaded request: from the root's resourceLogs /
 * resourceMetrics / resourceSpans; SL_SIGNAL_NONE for a request with none
 * of them ({} is a valid, empty request). */
SL_API sl_signal sl_otlp_signal(const sl_otlp *o);

/** The document behind the batch (added for tools and tests; read-only:
 * change records only through sl_otlp_set / remove / move, because the
 * writer copies the source text of parts it did not change).
 * @return borrowed until the next load or free; NULL for NULL. */
SL_API const sl_doc *sl_otlp_doc(const sl_otlp *o);

/** Number of records (log records, metrics or spans), in document order. */
SL_API size_t sl_otlp_count(const sl_otlp *o);

/** String value of a field of record i. false when absent, not a string,
 * or an empty string where the adapter rules say so.
 * The rules (reference runner's adapter, reference §5 / spec §7):
 * - plain string fields (severity_text, event_name, names, descriptions,
 *   units, trace_state, schema URLs, scope name / version): the text,
 *   nothing when empty; ids: lower-case hex, nothing when "";
 * - body and attributes: only a non-empty stringValue gives a value;
 *   attribute paths of more than one segment walk kvlistValue.values;
 * - SL_FIELD_ATTR reads the log record's / span's attributes, and for a
 *   metric the FIRST data point's attributes (none for an exponential
 *   histogram, as the reference runner);
 * - METRIC_TYPE: METRIC_TYPE_GAUGE / SUM / HISTOGRAM /
 *   EXPONENTIAL_HISTOGRAM / SUMMARY from the data member present;
 *   METRIC_TEMPORALITY: AGGREGATION_TEMPORALITY_DELTA / CUMULATIVE (name
 *   or number; sum and histograms only; nothing for UNSPECIFIED);
 * - SPAN_KIND: SPAN_KIND_* (name or number; nothing when absent);
 *   SPAN_STATUS: no status object gives nothing; STATUS_CODE_OK / ERROR /
 *   UNSET (or 1 / 2 / 0, or no code: the proto3 default) give
 *   SPAN_STATUS_CODE_OK / ERROR / UNSPECIFIED (spec §7.4 would also give
 *   UNSPECIFIED without a status object; issue 2 follows the reference
 *   runner, and every fixture span carries a status object);
 * - SPAN_EVENT_NAME: the first non-empty span event name;
 * - SPAN_LINK_TRACE_ID: the first link's non-empty trace id, and
 *   EVENT_ATTR: the attribute of the first event that has it. The
 *   reference leaves both unimplemented (never present); sluice reads them
 *   as their names say.
 * @param out  borrowed until the batch changes or is reloaded. */
SL_API bool sl_otlp_get(const sl_otlp *o, size_t i, const sl_field *f,
                        sl_str *out);

/** Whether a field of record i is present (any value type). Attributes
 * exist with any value (an empty string, a missing value included); the
 * body exists unless absent or an empty string; every other field exists
 * exactly when sl_otlp_get returns a value. */
SL_API bool sl_otlp_exists(const sl_otlp *o, size_t i, const sl_field *f);

/** Typed value of a field of record i; false when absent.
 * Body and attributes by AnyValue kind: stringValue STRING (empty
 * included), boolValue BOOL, intValue INT (number or decimal string),
 * doubleValue DOUBLE (number or string), bytesValue BYTES (base64
 * decoded), arrayValue / kvlistValue OTHER; an empty AnyValue: false.
 * Ids: BYTES (the decoded hex). Other fields: STRING as sl_otlp_get.
 * out's bytes are borrowed until the next sl_otlp_typed call on this
 * batch or a change: one batch is not for concurrent typed calls. */
SL_API bool sl_otlp_typed(const sl_otlp *o, size_t i, const sl_field *f,
                          sl_value *out);

/** Set a field of record i to a string (added at the end of its attribute
 * list when new, overwritten in place when present). For
 * SL_FIELD_SPAN_SAMPLING_THRESHOLD s is the th hex and is merged into the
 * tracestate's `ot=` entry (that entry first, other vendors after).
 * Body and attributes become {"stringValue": s}; a new attribute is
 * {"key": k, "value": {"stringValue": s}}; a nested attribute path makes
 * missing levels as kvlistValue (SL_EINVAL when a level holds another
 * kind of value). Resource / scope fields and attributes change the
 * resource / scope shared by the records of that group. Synthesized
 * fields (metric type, temporality, span kind / status, event name, link
 * trace id, event attributes) cannot be set.
 * @return SL_OK, SL_EINVAL (field cannot be set), SL_ENOMEM. */
SL_API sl_status sl_otlp_set(sl_otlp *o, size_t i, const sl_field *f,
                             const char *s, size_t len);

/** Delete a field of record i (every attribute of that name at the
 * path's level; the member of a plain field). @return true when it
 * existed (for strings: was non-empty, as the reference's hit count). */
SL_API bool sl_otlp_remove(sl_otlp *o, size_t i, const sl_field *f);

/** Move a field of record i to another key of the same namespace, keeping
 * the value's type; the moved member goes to the end of its list. to's path
 * is read from the namespace's root like any field's: a one-segment `to` is
 * a top-level key even when `from` is nested. Precondition: from exists, to
 * does not (a present `to` is replaced). Only attributes move.
 * @return SL_OK, SL_EINVAL, SL_ENOMEM. */
SL_API sl_status sl_otlp_move(sl_otlp *o, size_t i, const sl_field *from,
                              const sl_field *to);

/** Mark record i dropped: sl_otlp_write leaves it out. */
SL_API void sl_otlp_drop(sl_otlp *o, size_t i);

/** Append the request, minus dropped records and the scopes / resources
 * that became empty, as compact JSON to out. Like the reference runner
 * (retain non-empty), scopes without records and resources without
 * scopes are left out even when they were empty in the input; an empty
 * resource list stays ({"resourceLogs":[]}). Everything else is written
 * as read (the doc writer keeps lexemes). On failure out is as before.
 * @return SL_OK, SL_ENOMEM, SL_ELIMIT, SL_EINVAL (nothing loaded). */
SL_API sl_status sl_otlp_write(const sl_otlp *o, sl_buf *out, sl_error *err);

/** Append the request like sl_otlp_write, as one protobuf
 * Export*ServiceRequest (no length prefix). A batch loaded from protobuf
 * is copied, not re-encoded, wherever the policies did not change it (an
 * untouched request gives back its input byte for byte; a changed message
 * keeps its unknown fields); a batch loaded from JSON is encoded from the
 * tree, and its members that OTLP does not define have no protobuf form
 * and are left out. On failure out is as before.
 * @return SL_OK, SL_ENOMEM, SL_ELIMIT, SL_ESCHEMA (a JSON value the schema
 *         cannot hold, e.g. an entityRefs member of the wrong type),
 *         SL_EINVAL (nothing loaded). */
SL_API sl_status sl_otlp_write_proto(const sl_otlp *o, sl_buf *out,
                                     sl_error *err);

#ifdef __cplusplus
}
#endif
#endif

/* src/otlp/private.h: the index behind sl_otlp, shared by the loader
 * (load.c), field access (field.c), changes (change.c) and the writer
 * (write.c). Only src/otlp includes this.
 *
 * The one idea: the document tree is the data. Loading walks it once,
 * validates the OTLP shape and records, per record, pointers to the tree
 * nodes a policy reads (slots), so a getter is a pointer load, not a key
 * search. Every change that may move nodes (appending a member can move an
 * object's member array) re-scans the object it changed, so slots never
 * dangle. */
#ifndef SL_OTLP_PRIVATE_H
#define SL_OTLP_PRIVATE_H

#include <sluice/otlp.h>

#include "base/base.h"
#include "base/codec.h"

/* Record slots: the value node of a known member, or NULL when the member
 * is absent or null. Slot 0 is the record's own attribute list for every
 * signal (for metrics: the first data point's). */
enum {
    SLOT_ATTRS = 0,
    /* log records */
    LS_BODY = 1,
    LS_SEV_TEXT,
    LS_TRACE_ID,
    LS_SPAN_ID,
    LS_EVENT_NAME,
    LS_BODY_STR, /* the body's stringValue node, when it holds one */
    /* metrics */
    MS_NAME = 1,
    MS_DESC,
    MS_UNIT,
    MS_GAUGE,
    MS_SUM,
    MS_HIST,
    MS_EXPH,
    MS_SUMMARY,
    MS_DATA, /* whichever of the five above is set */
    MS_DP0,  /* the first data point object */
    /* spans */
    SS_NAME = 1,
    SS_TRACE_ID,
    SS_SPAN_ID,
    SS_PARENT,
    SS_TSTATE,
    SS_KIND,
    SS_STATUS,
    SS_EVENTS,
    SS_LINKS,
    NSLOTS = 12
};

/* Metric types (MS_DATA's kind), 0 = no data. */
enum {
    MT_NONE = 0,
    MT_GAUGE,
    MT_SUM,
    MT_HIST,
    MT_EXPH,
    MT_SUMMARY
};

/* An attribute index entry: a top-level KeyValue of an attribute list,
 * found once at load, so reading an attribute scans a small array instead
 * of walking the tree (resource attributes are read for every record).
 * An owner's entries are kvx[first .. first + n); n == SL__KVX_NONE means
 * no index (the list changed since load, or the index could not grow):
 * readers walk the list. */
typedef struct sl__otlp_kvx {
    const char *key; /* the key text */
    uint32_t klen;
    const sl_node *kv;  /* the KeyValue object */
    const sl_node *any; /* its AnyValue object ("value"), or NULL */
    const sl_node *str; /* the AnyValue's stringValue node, or NULL */
} sl__otlp_kvx;

#define SL__KVX_NONE UINT32_MAX

/* The field order last seen for a message type (load.c): objects of a
 * stream of requests nearly always list their fields in one order (one
 * exporter wrote them), so member i is first tried as the field member i
 * was last time. Kept across loads: a hint, always checked. */
enum {
    SL__ORDER_SLOTS = 16,
    SL__ORDER_FIELDS = 24
};

typedef struct sl__otlp_order {
    const void *m;                   /* the message table it is for */
    uint8_t field[SL__ORDER_FIELDS]; /* field index + 1; 0: not known */
} sl__otlp_order;

typedef struct sl__otlp_rec {
    sl_node *node;      /* the record object (an item of its list) */
    uint32_t scope;     /* index into scopes */
    uint8_t dropped;    /* sl_otlp_drop was called */
    uint8_t mtype;      /* metrics: MT_* */
    uint8_t dirty;      /* changed since load: its source text is stale */
    uint32_t kvx, nkvx; /* its attribute index (see sl__otlp_kvx) */
    uint32_t off, end;  /* lazy loads: its source text [off, end) */
    sl_node *f[NSLOTS];
} sl__otlp_rec;

typedef struct sl__otlp_scope {
    sl_node *entry; /* the ScopeLogs / ScopeMetrics / ScopeSpans object */
    sl_node *scope; /* its InstrumentationScope object, or NULL */
    sl_node *attrs; /* scope.attributes, or NULL */
    sl_node *name;  /* scope.name, or NULL */
    sl_node *version;
    sl_node *schema; /* entry.schemaUrl, or NULL */
    uint32_t res;    /* index into res */
    uint32_t first;  /* its records: recs[first .. first + count) */
    uint32_t count;
    uint32_t kept;       /* count minus dropped */
    uint8_t dirty;       /* the entry (outside its records) changed */
    uint32_t kvx, nkvx;  /* scope.attributes' index */
    uint32_t off, end;   /* lazy loads: the entry's source text [off, end) */
    uint32_t loff, lend; /* and its record list's (0, 0: none) */
} sl__otlp_scope;

typedef struct sl__otlp_res {
    sl_node *entry;    /* the ResourceLogs / ... object */
    sl_node *resource; /* its Resource object, or NULL */
    sl_node *attrs;    /* resource.attributes, or NULL */
    sl_node *schema;   /* entry.schemaUrl, or NULL */
    uint32_t sfirst;   /* its scopes: scopes[sfirst .. sfirst + scount) */
    uint32_t scount;
    uint32_t kept;       /* records kept in all its scopes */
    uint8_t dirty;       /* the entry (outside its scopes) changed */
    uint32_t kvx, nkvx;  /* resource.attributes' index */
    uint32_t off, end;   /* lazy loads: the entry's source text [off, end) */
    uint32_t loff, lend; /* and its scope list's (0, 0: none) */
} sl__otlp_res;

struct sl_otlp {
    sl_doc *doc;
    sl_signal sig;
    bool loaded;   /* the last load succeeded */
    bool snake;    /* the request uses proto field names */
    bool proto;    /* loaded from protobuf: text is the message's bytes */
    sl_node *list; /* the root's resource list (array), or NULL */
    sl__otlp_rec *recs;
    size_t nrec, caprec;
    sl__otlp_scope *scopes;
    size_t nscope, capscope;
    sl__otlp_res *res;
    size_t nres, capres;
    size_t ndropped;
    bool dirty;        /* anything changed since load */
    const char *text;  /* the loaded text (borrowed) and its length: */
    size_t text_len;   /* unchanged nodes are copied from it */
    size_t nempty;     /* scopes / resources empty already at load */
    sl__otlp_kvx *kvx; /* attribute indexes of all records and groups */
    size_t nkvx, capkvx;
    uint8_t idbuf[16]; /* sl_otlp_typed: decoded id bytes */
    sl_buf bytes;      /* sl_otlp_typed: decoded bytesValue */
    sl_buf scratch;    /* sl_otlp_set: the new tracestate */
    sl__otlp_order orders[SL__ORDER_SLOTS]; /* direct-mapped by message */
    size_t nprefill; /* records whose slots the protobuf decoder filled */
    /* lazy loads (scan.c): the tree holds only the values in want */
    uint32_t want;     /* SL__WANT_* to build; 0: lazy loading is off */
    uint8_t lazy_sigs; /* signals the fast pass takes: bit 1 << sl_signal */
    bool lazy;         /* the loaded request is indexed by spans only */
    uint32_t built;    /* the want it was loaded with (want may change after a
                          load: a policy reload between values) */
    uint32_t root_off, root_end; /* the request's source text */
    uint32_t list_off, list_end; /* its resource list's */
    char file[256];              /* the file name, for sl__otlp_materialize */
};

/* What a lazy load builds (o->want): record slot s is bit s (of the
 * loaded signal's slots: one mask serves every signal, a bit another
 * signal's policies asked for at most builds a slot in vain; a metric's
 * data is built whenever any record slot is); the resource entries'
 * attributes and schema URL; the scope entries' name, version, attributes
 * and schema URL. SL__WANT_OTHER is never built: fields that need it (the
 * set-only sampling threshold) make the batch load in full. */
enum {
    SL__WANT_RECORD = (1u << NSLOTS) - 1,
    SL__WANT_RES = 1u << 16,
    SL__WANT_SCOPE = 1u << 17,
    SL__WANT_ON =
        1u << 30, /* lazy loading is on (even with nothing to build) */
    SL__WANT_OTHER = 1u << 31
};

/* The parts a read of field kind k needs (SL__WANT_*). */
uint32_t sl__otlp_want_of(sl_field_kind k);

/* The OTLP/JSON fast pass (scan.c): validate and index the request (logs,
 * traces or metrics) at o->text[start..) into o (after sl__otlp_reset, o->text,
 * o->want and the doc's sl__doc_begin_text), building nodes only for o->want.
 * true: valid, indexed, *stop just past the request; false: not sure (invalid,
 * or beyond what the pass handles): o is half-filled, the caller resets
 * it and runs the full path. */
bool sl__otlp_scan(sl_otlp *o, size_t start, size_t *stop);

/* Load o's lazily loaded request again in full (the tree, every slot),
 * keeping which records were dropped: what a read of a part not built, a
 * change or a protobuf write needs first. A no-op when o is not lazy.
 * @return SL_OK or SL_ENOMEM (o is then empty, as after a failed load). */
sl_status sl__otlp_materialize(sl_otlp *o);

/* Grow an array (*p, *cap entries of esize) to hold need entries. */
bool sl__otlp_grow(void **p, size_t *cap, size_t need, size_t esize);

/* Names: each known member has a camelCase (OTLP/JSON) and a proto
 * (snake_case) spelling; both are accepted on input. Inline so the
 * lengths of literal names fold to constants. */
static inline bool sl__otlp_key_is(sl_str key, const char *camel,
                                   const char *snake) {
    size_t c = strlen(camel);
    if (key.len == c && memcmp(key.ptr, camel, c) == 0) {
        return true;
    }
    size_t s = strlen(snake);
    return key.len == s && memcmp(key.ptr, snake, s) == 0;
}

/* Whether a[0..n) == b[0..n): keys and names are short, so an inline
 * compare of (overlapping) 8-byte words beats a memcmp call. */
static inline bool sl__otlp_same(const char *a, const char *b, size_t n) {
    uint64_t x, y;
    if (n >= 8) {
        for (; n > 8; a += 8, b += 8, n -= 8) {
            memcpy(&x, a, 8);
            memcpy(&y, b, 8);
            if (x != y) {
                return false;
            }
        }
        memcpy(&x, a + n - 8, 8); /* the last 8, overlapping */
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t u, v, u2, v2;
        memcpy(&u, a, 4);
        memcpy(&v, b, 4);
        memcpy(&u2, a + n - 4, 4);
        memcpy(&v2, b + n - 4, 4);
        return u == v && u2 == v2;
    }
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    return true;
}

/* Index attribute list (an array, or NULL) into o->kvx: *first / *n name
 * the entries; *n is SL__KVX_NONE when the index cannot grow (readers
 * then walk the list). */
void sl__otlp_kvx_build(sl_otlp *o, const sl_node *list, uint32_t *first,
                        uint32_t *n);

/* Room in o->kvx for n more entries; false when it cannot grow (then the
 * list gets no index). */
bool sl__otlp_kvx_reserve(sl_otlp *o, size_t n);

/* The protobuf decoder's record slots, in decoding order (= index order):
 * the next entry of o->recs, to get f[] and, in node, the record's first
 * member (the index checks it is the record it reaches before using f[]);
 * NULL when recs cannot grow. */
sl__otlp_rec *sl__otlp_prefill(sl_otlp *o);

/* Forget the loaded request (memory kept). */
void sl__otlp_reset(sl_otlp *o);

/* Validate and index the request in o->doc (after sl__otlp_reset and the
 * doc's load): what sl_otlp_load does once the JSON is parsed. Without
 * validate the tree is known to be valid OTLP (the protobuf decoder built
 * it, checking as it went): only the slots and indexes are filled. */
sl_status sl__otlp_index(sl_otlp *o, bool validate, sl_error *err);

/* A writer that failed: out back to its length before the request (start),
 * err filled with rc when nothing more precise was; returns rc. Shared by
 * the JSON and protobuf writers (write.c). */
sl_status sl__otlp_write_failed(sl_buf *out, size_t start, sl_status rc,
                                sl_error *err);

/* The value of the member named camel or snake, or NULL. */
sl_node *sl__otlp_member(const sl_node *obj, const char *camel,
                         const char *snake);

/* Re-validate-free rescans after a change: refresh the slots of record i,
 * of scope group g, of resource group r. derive_record refreshes only the
 * slots derived from others (the body's string, a metric's data point),
 * for a change that left the record's own member array in place. */
void sl__otlp_rescan_record(sl_otlp *o, size_t i);
void sl__otlp_derive_record(sl_otlp *o, size_t i);
void sl__otlp_rescan_scope(sl_otlp *o, size_t g);
void sl__otlp_rescan_res(sl_otlp *o, size_t r);

/* The single (key, value) member of an AnyValue object, or false when the
 * value is empty ({} or {"stringValue": null}). */
bool sl__otlp_any_kind(const sl_node *any, sl_str *key, const sl_node **val);

/* The first KeyValue named path[0] in attrs (an array), walking
 * kvlistValue.values for further segments; NULL when absent. index and
 * parent (may be NULL) receive where it sits. */
const sl_node *sl__otlp_find_kv(const sl_node *attrs, const sl_str *path,
                                uint32_t n, size_t *index,
                                const sl_node **parent);

/* AnyValue kinds by key. */
enum {
    AK_NONE = 0,
    AK_STRING,
    AK_BOOL,
    AK_INT,
    AK_DOUBLE,
    AK_ARRAY,
    AK_KVLIST,
    AK_BYTES
};
int sl__otlp_any_kind_of(sl_str key);

/* Enum value of a name: which 0 SeverityNumber, 1 SpanKind, 2 StatusCode,
 * 3 AggregationTemporality (SEVERITY_NUMBER_INFO, SPAN_KIND_SERVER, ...). */
bool sl__otlp_enum_value(int which, sl_str name, int32_t *out);

/* Decoding helpers shared by validation and typed access. */
bool sl__otlp_parse_i64(const char *s, size_t n, bool is_unsigned,
                        int64_t *out);
bool sl__otlp_parse_double(const char *s, size_t n, double *out);

#endif

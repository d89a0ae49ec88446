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

typedef struct sl__otlp_rec {
    sl_node *node;   /* the record object (an item of its list) */
    uint32_t scope;  /* index into scopes */
    uint8_t dropped; /* sl_otlp_drop was called */
    uint8_t mtype;   /* metrics: MT_* */
    uint8_t dirty;   /* changed since load: its source text is stale */
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
    uint32_t kept; /* count minus dropped */
    uint8_t dirty; /* the entry (outside its records) changed */
} sl__otlp_scope;

typedef struct sl__otlp_res {
    sl_node *entry;    /* the ResourceLogs / ... object */
    sl_node *resource; /* its Resource object, or NULL */
    sl_node *attrs;    /* resource.attributes, or NULL */
    sl_node *schema;   /* entry.schemaUrl, or NULL */
    uint32_t sfirst;   /* its scopes: scopes[sfirst .. sfirst + scount) */
    uint32_t scount;
    uint32_t kept; /* records kept in all its scopes */
    uint8_t dirty; /* the entry (outside its scopes) changed */
} sl__otlp_res;

struct sl_otlp {
    sl_doc *doc;
    sl_signal sig;
    bool loaded;   /* the last load succeeded */
    bool snake;    /* the request uses proto field names */
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
    uint8_t idbuf[16]; /* sl_otlp_typed: decoded id bytes */
    sl_buf bytes;      /* sl_otlp_typed: decoded bytesValue */
    sl_buf scratch;    /* sl_otlp_set: the new tracestate */
};

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

/* Decoding helpers shared by validation and typed access. */
bool sl__otlp_parse_i64(const char *s, size_t n, bool is_unsigned,
                        int64_t *out);
bool sl__otlp_parse_double(const char *s, size_t n, double *out);

#endif

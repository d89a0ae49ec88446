/* src/otlp/field.c: reading fields of indexed records for policies:
 * sl_otlp_get (string value), sl_otlp_exists, sl_otlp_typed.
 * Leaves out changes (change.c) and the index itself (load.c).
 *
 * The one idea: these are exactly the reference runner's adapter rules
 * (reference/policy-engine-upstream.md §5, spec §7), so a policy matches
 * here what it matches there: string getters return nothing for empty
 * strings, an attribute has a string value only through a non-empty
 * stringValue but exists with any value, nested paths walk kvlistValue,
 * enum fields are synthesized proto names. */
#include <sluice/otlp.h>

#include <math.h>

#include "base/base.h"
#include "otlp/private.h"

/* ---- small readers ---- */

static bool nonempty_str(const sl_node *n, sl_str *out) {
    if (sl_node_kind_of(n) != SL_NODE_STRING) {
        return false;
    }
    sl_str s = sl_node_str(n);
    if (s.len == 0) {
        return false;
    }
    *out = s;
    return true;
}

static bool is_key_name(sl_str k) {
    return k.len == 3 && k.ptr[0] == 'k' && k.ptr[1] == 'e' && k.ptr[2] == 'y';
}

/* The key text of a KeyValue object. "key" is nearly always its first
 * member: try that before walking the members (a non-object has none). */
static bool kv_key(const sl_node *kv, sl_str *out) {
    size_t at = 0;
    if (!is_key_name(sl_node_key(kv, 0))) {
        size_t n = sl_node_len(kv);
        for (at = 1; at < n && !is_key_name(sl_node_key(kv, at)); at++) {
        }
        if (at >= n) {
            return false;
        }
    }
    const sl_node *v = sl_node_at(kv, at);
    if (sl_node_kind_of(v) != SL_NODE_STRING) {
        return false;
    }
    *out = sl_node_str(v);
    return true;
}

static const sl_node *kv_value(const sl_node *kv) {
    size_t n = sl_node_len(kv);
    for (size_t i = n > 1 ? 1 : 0, k_ = 0; k_ < n; k_++, i = (i + 1) % n) {
        sl_str k = sl_node_key(kv, i); /* "value" is usually second */
        if (k.len == 5 && sl__otlp_same(k.ptr, "value", 5)) {
            const sl_node *v = sl_node_at(kv, i);
            return sl_node_kind_of(v) == SL_NODE_OBJECT ? v : NULL;
        }
    }
    return NULL;
}

/* The values array of an AnyValue holding a kvlistValue, or NULL. */
static const sl_node *kvlist_values(const sl_node *any) {
    sl_str key;
    const sl_node *v = NULL;
    if (!sl__otlp_any_kind(any, &key, &v) ||
        sl__otlp_any_kind_of(key) != AK_KVLIST) {
        return NULL;
    }
    const sl_node *vals = sl_node_get(v, "values");
    return sl_node_kind_of(vals) == SL_NODE_ARRAY ? vals : NULL;
}

const sl_node *sl__otlp_find_kv(const sl_node *attrs, const sl_str *path,
                                uint32_t n, size_t *index,
                                const sl_node **parent) {
    while (n > 0 && sl_node_kind_of(attrs) == SL_NODE_ARRAY) {
        size_t len = sl_node_len(attrs);
        const sl_node *hit = NULL;
        size_t at = 0;
        for (size_t i = 0; i < len; i++) {
            const sl_node *kv = sl_node_at(attrs, i);
            sl_str k;
            if (kv_key(kv, &k) && k.len == path->len &&
                sl__otlp_same(k.ptr, path->ptr, k.len)) {
                hit = kv;
                at = i;
                break;
            }
        }
        if (!hit) {
            return NULL;
        }
        if (n == 1) {
            if (index) {
                *index = at;
            }
            if (parent) {
                *parent = attrs;
            }
            return hit;
        }
        attrs = kvlist_values(kv_value(hit));
        path++;
        n--;
    }
    return NULL;
}

static bool any_string(const sl_node *any, sl_str *out) {
    sl_str key;
    const sl_node *v = NULL;
    if (!sl__otlp_any_kind(any, &key, &v) ||
        sl__otlp_any_kind_of(key) != AK_STRING) {
        return false;
    }
    return nonempty_str(v, out);
}

/* ---- where a field lives ---- */

static const sl__otlp_scope *scope_of(const sl_otlp *o, size_t i) {
    return &o->scopes[o->recs[i].scope];
}

static const sl__otlp_res *res_of(const sl_otlp *o, size_t i) {
    return &o->res[scope_of(o, i)->res];
}

static const sl_node *attr_list(const sl_otlp *o, size_t i, sl_field_kind k) {
    switch (k) {
    case SL_FIELD_ATTR:
        return o->recs[i].f[SLOT_ATTRS];
    case SL_FIELD_RESOURCE_ATTR:
        return res_of(o, i)->attrs;
    case SL_FIELD_SCOPE_ATTR:
        return scope_of(o, i)->attrs;
    default:
        return NULL;
    }
}

/* Whether record i and field f can be read; a lazily loaded batch that
 * did not build what f needs loads in full first (the batch is const for
 * the caller, as for sl_otlp_typed's scratch: one thread per batch). If
 * that runs out of memory the batch is empty and every read says absent. */
static bool valid(const sl_otlp *o, size_t i, const sl_field *f) {
    if (o && f && o->lazy) {
        uint32_t need = sl__otlp_want_of(f->kind);
        if ((o->built & need) != need) {
            sl__otlp_materialize((sl_otlp *)o);
        }
    }
    return o && f && i < o->nrec;
}

/* The first event attribute at path, over the span's events in order. */
static const sl_node *event_attr(const sl_otlp *o, size_t i,
                                 const sl_field *f) {
    if (o->sig != SL_SIGNAL_TRACE) {
        return NULL;
    }
    const sl_node *events = o->recs[i].f[SS_EVENTS];
    size_t n = sl_node_len(events);
    for (size_t e = 0; e < n; e++) {
        const sl_node *attrs =
            sl__otlp_member(sl_node_at(events, e), "attributes", "attributes");
        const sl_node *kv =
            sl__otlp_find_kv(attrs, f->path, f->path_len, NULL, NULL);
        if (kv) {
            return kv;
        }
    }
    return NULL;
}

/* ---- attribute index ---- */

bool sl__otlp_kvx_reserve(sl_otlp *o, size_t n) {
    size_t need = o->nkvx + n;
    if (need > UINT32_MAX - 1) {
        return false;
    }
    if (need > o->capkvx) {
        size_t cap = o->capkvx ? o->capkvx * 2 : 256;
        while (cap < need) {
            cap *= 2;
        }
        void *p = sl__realloc(o->kvx, o->capkvx * sizeof(*o->kvx),
                              cap * sizeof(*o->kvx));
        if (!p) {
            return false;
        }
        o->kvx = p;
        o->capkvx = cap;
    }
    return true;
}

void sl__otlp_kvx_build(sl_otlp *o, const sl_node *list, uint32_t *first,
                        uint32_t *n) {
    size_t len = sl_node_kind_of(list) == SL_NODE_ARRAY ? sl_node_len(list) : 0;
    *first = (uint32_t)o->nkvx;
    *n = SL__KVX_NONE;
    if (!sl__otlp_kvx_reserve(o, len)) {
        return; /* no index: readers walk the list */
    }
    uint32_t k = 0;
    for (size_t j = 0; j < len; j++) {
        const sl_node *kv = sl_node_at(list, j);
        sl_str key;
        if (!kv_key(kv, &key)) {
            continue; /* has no key: no lookup can find it */
        }
        sl__otlp_kvx *x = &o->kvx[o->nkvx + k++];
        x->key = key.ptr;
        x->klen = (uint32_t)key.len;
        x->kv = kv;
        x->any = kv_value(kv);
        x->str = NULL;
        sl_str kind;
        const sl_node *v = NULL;
        if (sl__otlp_any_kind(x->any, &kind, &v) &&
            sl__otlp_any_kind_of(kind) == AK_STRING) {
            x->str = v;
        }
    }
    o->nkvx += k;
    *n = k;
}

/* The index of an attribute kind's list for record i, or NULL when there
 * is none (then walk the list). */
static const sl__otlp_kvx *attr_index(const sl_otlp *o, size_t i,
                                      sl_field_kind k, uint32_t *n) {
    uint32_t first;
    switch (k) {
    case SL_FIELD_ATTR:
        first = o->recs[i].kvx;
        *n = o->recs[i].nkvx;
        break;
    case SL_FIELD_RESOURCE_ATTR:
        first = res_of(o, i)->kvx;
        *n = res_of(o, i)->nkvx;
        break;
    case SL_FIELD_SCOPE_ATTR:
        first = scope_of(o, i)->kvx;
        *n = scope_of(o, i)->nkvx;
        break;
    default:
        return NULL;
    }
    if (*n == SL__KVX_NONE) {
        return NULL;
    }
    static const sl__otlp_kvx none; /* an empty index (o->kvx may be NULL) */
    return *n ? o->kvx + first : &none;
}

/* The index entry of a one-key attribute path, or NULL when the attribute
 * is absent; *indexed says whether an index answered at all. */
static const sl__otlp_kvx *attr_entry(const sl_otlp *o, size_t i,
                                      const sl_field *f, bool *indexed) {
    uint32_t n = 0;
    const sl__otlp_kvx *x = NULL;
    *indexed = f->path_len == 1 && f->kind != SL_FIELD_EVENT_ATTR &&
               (x = attr_index(o, i, f->kind, &n)) != NULL;
    if (!*indexed) {
        return NULL;
    }
    sl_str want = f->path[0];
    for (uint32_t k = 0; k < n; k++) {
        if (x[k].klen == want.len &&
            sl__otlp_same(x[k].key, want.ptr, want.len)) {
            return &x[k];
        }
    }
    return NULL;
}

/* The KeyValue an attribute field names, or NULL. */
static const sl_node *attr_kv(const sl_otlp *o, size_t i, const sl_field *f) {
    if (!f->path || f->path_len == 0) {
        return NULL;
    }
    if (f->kind == SL_FIELD_EVENT_ATTR) {
        return event_attr(o, i, f);
    }
    bool indexed;
    const sl__otlp_kvx *x = attr_entry(o, i, f, &indexed);
    if (indexed) {
        return x ? x->kv : NULL;
    }
    return sl__otlp_find_kv(attr_list(o, i, f->kind), f->path, f->path_len,
                            NULL, NULL);
}

/* The AnyValue of the attribute field f names, or NULL. */
static const sl_node *attr_any(const sl_otlp *o, size_t i, const sl_field *f) {
    if (f->path && f->path_len == 1) {
        bool indexed;
        const sl__otlp_kvx *x = attr_entry(o, i, f, &indexed);
        if (indexed) {
            return x ? x->any : NULL;
        }
    }
    return kv_value(attr_kv(o, i, f));
}

static bool is_attr(sl_field_kind k) {
    return k == SL_FIELD_ATTR || k == SL_FIELD_RESOURCE_ATTR ||
           k == SL_FIELD_SCOPE_ATTR || k == SL_FIELD_EVENT_ATTR;
}

/* The node of a plain string field of record i, or NULL (also for fields
 * of another signal). */
static const sl_node *string_node(const sl_otlp *o, size_t i, sl_field_kind k) {
    const sl__otlp_rec *r = &o->recs[i];
    switch (o->sig) {
    case SL_SIGNAL_LOG:
        switch (k) {
        case SL_FIELD_LOG_SEVERITY_TEXT:
            return r->f[LS_SEV_TEXT];
        case SL_FIELD_LOG_TRACE_ID:
            return r->f[LS_TRACE_ID];
        case SL_FIELD_LOG_SPAN_ID:
            return r->f[LS_SPAN_ID];
        case SL_FIELD_LOG_EVENT_NAME:
            return r->f[LS_EVENT_NAME];
        default:
            break;
        }
        break;
    case SL_SIGNAL_METRIC:
        switch (k) {
        case SL_FIELD_METRIC_NAME:
            return r->f[MS_NAME];
        case SL_FIELD_METRIC_DESCRIPTION:
            return r->f[MS_DESC];
        case SL_FIELD_METRIC_UNIT:
            return r->f[MS_UNIT];
        default:
            break;
        }
        break;
    case SL_SIGNAL_TRACE:
        switch (k) {
        case SL_FIELD_SPAN_NAME:
            return r->f[SS_NAME];
        case SL_FIELD_SPAN_TRACE_ID:
            return r->f[SS_TRACE_ID];
        case SL_FIELD_SPAN_ID:
            return r->f[SS_SPAN_ID];
        case SL_FIELD_SPAN_PARENT_SPAN_ID:
            return r->f[SS_PARENT];
        case SL_FIELD_SPAN_TRACE_STATE:
            return r->f[SS_TSTATE];
        default:
            break;
        }
        break;
    default:
        break;
    }
    switch (k) {
    case SL_FIELD_RESOURCE_SCHEMA_URL:
        return res_of(o, i)->schema;
    case SL_FIELD_SCOPE_SCHEMA_URL:
        return scope_of(o, i)->schema;
    case SL_FIELD_SCOPE_NAME:
        return scope_of(o, i)->name;
    case SL_FIELD_SCOPE_VERSION:
        return scope_of(o, i)->version;
    default:
        return NULL;
    }
}

static bool is_id(const sl_otlp *o, sl_field_kind k) {
    if (o->sig == SL_SIGNAL_LOG) {
        return k == SL_FIELD_LOG_TRACE_ID || k == SL_FIELD_LOG_SPAN_ID;
    }
    if (o->sig == SL_SIGNAL_TRACE) {
        return k == SL_FIELD_SPAN_TRACE_ID || k == SL_FIELD_SPAN_ID ||
               k == SL_FIELD_SPAN_PARENT_SPAN_ID ||
               k == SL_FIELD_SPAN_LINK_TRACE_ID;
    }
    return false;
}

/* ---- synthesized enum names ---- */

static bool enum_int(const sl_node *n, int64_t *v) {
    sl_str s = sl_node_str(n);
    return sl_node_kind_of(n) == SL_NODE_INT &&
           sl__otlp_parse_i64(s.ptr, s.len, false, v);
}

static bool set_out(sl_str *out, const char *s) {
    out->ptr = s;
    out->len = strlen(s);
    return true;
}

static bool metric_type(const sl__otlp_rec *r, sl_str *out) {
    static const char *const names[] = {
        NULL,
        "METRIC_TYPE_GAUGE",
        "METRIC_TYPE_SUM",
        "METRIC_TYPE_HISTOGRAM",
        "METRIC_TYPE_EXPONENTIAL_HISTOGRAM",
        "METRIC_TYPE_SUMMARY",
    };
    if (r->mtype == MT_NONE || r->mtype >= SL_ARRAY_LEN(names)) {
        return false;
    }
    return set_out(out, names[r->mtype]);
}

/* Only sum, histogram and exponential histogram carry a temporality; only
 * DELTA and CUMULATIVE (name or number) give a value, as the reference. */
static bool temporality(const sl__otlp_rec *r, sl_str *out) {
    if (r->mtype != MT_SUM && r->mtype != MT_HIST && r->mtype != MT_EXPH) {
        return false;
    }
    const sl_node *t = sl__otlp_member(r->f[MS_DATA], "aggregationTemporality",
                                       "aggregation_temporality");
    int64_t v = -1;
    if (sl_node_kind_of(t) == SL_NODE_STRING) {
        sl_str s = sl_node_str(t);
        if (s.len == 29 &&
            memcmp(s.ptr, "AGGREGATION_TEMPORALITY_DELTA", 29) == 0) {
            v = 1;
        } else if (s.len == 34 &&
                   memcmp(s.ptr, "AGGREGATION_TEMPORALITY_CUMULATIVE", 34) ==
                       0) {
            v = 2;
        }
    } else if (!enum_int(t, &v)) {
        v = -1;
    }
    if (v == 1) {
        return set_out(out, "AGGREGATION_TEMPORALITY_DELTA");
    }
    if (v == 2) {
        return set_out(out, "AGGREGATION_TEMPORALITY_CUMULATIVE");
    }
    return false;
}

static bool span_kind(const sl__otlp_rec *r, sl_str *out) {
    static const char *const names[] = {
        "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
        "SPAN_KIND_CLIENT",      "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
    };
    const sl_node *k = r->f[SS_KIND];
    if (sl_node_kind_of(k) == SL_NODE_STRING) {
        *out = sl_node_str(k); /* validated: one of the names above */
        return out->len > 0;
    }
    int64_t v = 0;
    if (enum_int(k, &v) && v >= 0 && v < (int64_t)SL_ARRAY_LEN(names)) {
        return set_out(out, names[v]);
    }
    return false;
}

/* No status object: absent. A status object without a code is the proto3
 * default, UNSET, which spec §7.4 says is logically present. */
static bool span_status(const sl__otlp_rec *r, sl_str *out) {
    const sl_node *st = r->f[SS_STATUS];
    if (sl_node_kind_of(st) != SL_NODE_OBJECT) {
        return false;
    }
    const sl_node *code = sl__otlp_member(st, "code", "code");
    int64_t v = -1;
    if (!code || sl_node_kind_of(code) == SL_NODE_NULL) {
        v = 0;
    } else if (sl_node_kind_of(code) == SL_NODE_STRING) {
        sl_str s = sl_node_str(code);
        if (s.len == 17 && memcmp(s.ptr, "STATUS_CODE_UNSET", 17) == 0) {
            v = 0;
        } else if (s.len == 14 && memcmp(s.ptr, "STATUS_CODE_OK", 14) == 0) {
            v = 1;
        } else if (s.len == 17 && memcmp(s.ptr, "STATUS_CODE_ERROR", 17) == 0) {
            v = 2;
        }
    } else if (!enum_int(code, &v)) {
        v = -1;
    }
    switch (v) {
    case 0:
        return set_out(out, "SPAN_STATUS_CODE_UNSPECIFIED");
    case 1:
        return set_out(out, "SPAN_STATUS_CODE_OK");
    case 2:
        return set_out(out, "SPAN_STATUS_CODE_ERROR");
    default:
        return false;
    }
}

/* First non-empty `field` (name, traceId) over the objects of list. */
static bool first_nonempty(const sl_node *list, const char *camel,
                           const char *snake, sl_str *out) {
    size_t n = sl_node_len(list);
    for (size_t e = 0; e < n; e++) {
        const sl_node *v = sl__otlp_member(sl_node_at(list, e), camel, snake);
        if (nonempty_str(v, out)) {
            return true;
        }
    }
    return false;
}

/* ---- public ---- */

bool sl_otlp_get(const sl_otlp *o, size_t i, const sl_field *f, sl_str *out) {
    if (!valid(o, i, f) || !out) {
        return false;
    }
    const sl__otlp_rec *r = &o->recs[i];
    if (is_attr(f->kind)) {
        if (f->path && f->path_len == 1) {
            bool indexed;
            const sl__otlp_kvx *x = attr_entry(o, i, f, &indexed);
            if (indexed) {
                return x && nonempty_str(x->str, out);
            }
        }
        return any_string(attr_any(o, i, f), out);
    }
    switch (f->kind) {
    case SL_FIELD_LOG_BODY:
        return o->sig == SL_SIGNAL_LOG && nonempty_str(r->f[LS_BODY_STR], out);
    case SL_FIELD_METRIC_TYPE:
        return o->sig == SL_SIGNAL_METRIC && metric_type(r, out);
    case SL_FIELD_METRIC_TEMPORALITY:
        return o->sig == SL_SIGNAL_METRIC && temporality(r, out);
    case SL_FIELD_SPAN_KIND:
        return o->sig == SL_SIGNAL_TRACE && span_kind(r, out);
    case SL_FIELD_SPAN_STATUS:
        return o->sig == SL_SIGNAL_TRACE && span_status(r, out);
    case SL_FIELD_SPAN_EVENT_NAME:
        return o->sig == SL_SIGNAL_TRACE &&
               first_nonempty(r->f[SS_EVENTS], "name", "name", out);
    case SL_FIELD_SPAN_LINK_TRACE_ID:
        return o->sig == SL_SIGNAL_TRACE &&
               first_nonempty(r->f[SS_LINKS], "traceId", "trace_id", out);
    default:
        return nonempty_str(string_node(o, i, f->kind), out);
    }
}

bool sl_otlp_exists(const sl_otlp *o, size_t i, const sl_field *f) {
    if (!valid(o, i, f)) {
        return false;
    }
    if (is_attr(f->kind)) {
        return attr_kv(o, i, f) != NULL;
    }
    if (f->kind == SL_FIELD_LOG_BODY) {
        /* present unless absent or an empty string (reference §5) */
        const sl_node *body =
            o->sig == SL_SIGNAL_LOG ? o->recs[i].f[LS_BODY] : NULL;
        if (!body) {
            return false;
        }
        const sl_node *str = o->recs[i].f[LS_BODY_STR];
        sl_str s;
        return !str || nonempty_str(str, &s);
    }
    sl_str s;
    return sl_otlp_get(o, i, f, &s);
}

static bool hex_bytes(sl_otlp *o, sl_str s, sl_value *out) {
    if (s.len > 2 * sizeof(o->idbuf) || s.len % 2) {
        return false;
    }
    for (size_t k = 0; k < s.len / 2; k++) {
        unsigned v = 0;
        for (size_t j = 0; j < 2; j++) {
            char c = s.ptr[2 * k + j];
            unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                                : 16u;
            if (d > 15) {
                return false;
            }
            v = v * 16 + d;
        }
        o->idbuf[k] = (uint8_t)v;
    }
    out->type = SL_VALUE_BYTES;
    out->s.ptr = (const char *)o->idbuf;
    out->s.len = s.len / 2;
    return true;
}

static bool any_typed(sl_otlp *o, const sl_node *any, sl_value *out) {
    sl_str key;
    const sl_node *v = NULL;
    if (!sl__otlp_any_kind(any, &key, &v)) {
        return false;
    }
    sl_str s = sl_node_str(v);
    switch (sl__otlp_any_kind_of(key)) {
    case AK_STRING:
        out->type = SL_VALUE_STRING;
        out->s = s;
        return true;
    case AK_BOOL:
        out->type = SL_VALUE_BOOL;
        out->b = sl_node_bool(v);
        return true;
    case AK_INT: {
        int64_t x = 0;
        if (sl__otlp_parse_i64(s.ptr, s.len, false, &x)) {
            out->type = SL_VALUE_INT;
            out->i = x;
            return true;
        }
        double d = 0;
        if (sl__otlp_parse_double(s.ptr, s.len, &d) && d == trunc(d) &&
            fabs(d) <= 9007199254740992.0) {
            out->type = SL_VALUE_INT;
            out->i = (int64_t)d;
            return true;
        }
        return false;
    }
    case AK_DOUBLE: {
        double d = 0;
        if (!sl__otlp_parse_double(s.ptr, s.len, &d)) {
            return false;
        }
        out->type = SL_VALUE_DOUBLE;
        out->d = d;
        return true;
    }
    case AK_BYTES: {
        long n = sl__base64_decode(s.ptr, s.len, NULL);
        if (n < 0) {
            return false;
        }
        o->bytes.len = 0;
        if (n > 0 && sl__buf_reserve(&o->bytes, (size_t)n) != SL_OK) {
            return false;
        }
        if (n > 0) {
            sl__base64_decode(s.ptr, s.len, (uint8_t *)o->bytes.ptr);
        }
        out->type = SL_VALUE_BYTES;
        out->s.ptr = n > 0 ? o->bytes.ptr : "";
        out->s.len = (size_t)n;
        return true;
    }
    case AK_ARRAY:
    case AK_KVLIST:
        out->type = SL_VALUE_OTHER;
        return true;
    default:
        return false;
    }
}

bool sl_otlp_typed(const sl_otlp *co, size_t i, const sl_field *f,
                   sl_value *out) {
    if (!valid(co, i, f) || !out) {
        return false;
    }
    /* the batch is const for the caller; only its decode scratch changes
     * (documented: not for concurrent use of one batch) */
    sl_otlp *o = (sl_otlp *)co;
    sl_value v;
    memset(&v, 0, sizeof(v));
    bool ok = false;
    if (is_attr(f->kind)) {
        ok = any_typed(o, attr_any(o, i, f), &v);
    } else if (f->kind == SL_FIELD_LOG_BODY) {
        ok = o->sig == SL_SIGNAL_LOG && any_typed(o, o->recs[i].f[LS_BODY], &v);
    } else {
        sl_str s;
        if (sl_otlp_get(o, i, f, &s)) {
            if (is_id(o, f->kind)) {
                ok = hex_bytes(o, s, &v);
            } else {
                v.type = SL_VALUE_STRING;
                v.s = s;
                ok = true;
            }
        }
    }
    if (ok) {
        *out = v;
    }
    return ok;
}

/* src/otlp/change.c: changing records for log transforms and trace
 * sampling: sl_otlp_set, sl_otlp_remove, sl_otlp_move, and the tracestate
 * `ot=th:` merge behind SL_FIELD_SPAN_SAMPLING_THRESHOLD. Leaves out
 * reading (field.c) and dropping / writing (write.c).
 *
 * The one idea: change the tree in place, as the reference runner changes
 * its structs (reference/policy-engine-upstream.md §4-§5): new attributes
 * are appended as {"key", "value": {"stringValue"}}, existing ones are
 * overwritten in place, a moved attribute goes to the end of its list with
 * its value untouched. New members use the request's own spelling
 * (camelCase, or proto names when the request used them). After a change
 * the touched object is re-scanned, so the index never points at a moved
 * member array. */
#include <sluice/otlp.h>

#include "base/base.h"
#include "otlp/private.h"

static sl_str key_for(const sl_otlp *o, const char *camel, const char *snake) {
    const char *k = o->snake ? snake : camel;
    sl_str s = {k, strlen(k)};
    return s;
}

/* The value node of member camel/snake of obj, appended (null) when
 * absent. */
static sl_status member(sl_otlp *o, sl_node *obj, const char *camel,
                        const char *snake, sl_node **out) {
    sl_node *v = sl__otlp_member(obj, camel, snake);
    if (v) {
        *out = v;
        return SL_OK;
    }
    sl_str k = key_for(o, camel, snake);
    return sl_node_obj_append(o->doc, obj, k.ptr, k.len, out);
}

/* Make n an AnyValue holding a string: {"stringValue": s}. */
static sl_status any_string(sl_otlp *o, sl_node *n, const char *s, size_t len) {
    sl_status rc = sl_node_set_container(o->doc, n, SL_NODE_OBJECT);
    sl_node *v = NULL;
    if (rc == SL_OK) {
        sl_str k = key_for(o, "stringValue", "string_value");
        rc = sl_node_obj_append(o->doc, n, k.ptr, k.len, &v);
    }
    if (rc == SL_OK) {
        rc = sl_node_set_string(o->doc, v, s, len);
    }
    return rc;
}

static sl_status string_member(sl_otlp *o, sl_node *obj, const char *camel,
                               const char *snake, const char *s, size_t len) {
    sl_node *v = NULL;
    sl_status rc = member(o, obj, camel, snake, &v);
    if (rc == SL_OK) {
        rc = sl_node_set_string(o->doc, v, s, len);
    }
    return rc;
}

/* The member camel/snake of obj as a container of the given kind (object
 * or array), made an empty one when absent or null. SL_EINVAL when it holds
 * something else. */
static sl_status container_member(sl_otlp *o, sl_node *obj, const char *camel,
                                  const char *snake, sl_node_kind kind,
                                  sl_node **out) {
    sl_node *v = NULL;
    sl_status rc = member(o, obj, camel, snake, &v);
    if (rc != SL_OK) {
        return rc;
    }
    if (sl_node_kind_of(v) == SL_NODE_NULL) {
        rc = sl_node_set_container(o->doc, v, kind);
    } else if (sl_node_kind_of(v) != kind) {
        rc = SL_EINVAL;
    }
    *out = v;
    return rc;
}

/* The object member camel/snake of obj (see container_member). */
static sl_status object_member(sl_otlp *o, sl_node *obj, const char *camel,
                               const char *snake, sl_node **out) {
    return container_member(o, obj, camel, snake, SL_NODE_OBJECT, out);
}

/* The array member camel/snake of obj (see container_member). */
static sl_status array_member(sl_otlp *o, sl_node *obj, const char *camel,
                              const char *snake, sl_node **out) {
    return container_member(o, obj, camel, snake, SL_NODE_ARRAY, out);
}

static sl_status kv_key_set(sl_otlp *o, sl_node *kv, sl_str key) {
    sl_node *k = sl__otlp_member(kv, "key", "key");
    if (k) {
        return sl_node_set_string(o->doc, k, key.ptr, key.len);
    }
    return SL_EINVAL;
}

/* Append {"key": key, "value": null} to a KeyValue list; *val gets the
 * value node. */
static sl_status kv_append(sl_otlp *o, sl_node *arr, sl_str key,
                           sl_node **val) {
    sl_node *kv = NULL, *k = NULL;
    sl_status rc = sl_node_arr_append(o->doc, arr, &kv);
    if (rc == SL_OK) {
        rc = sl_node_set_container(o->doc, kv, SL_NODE_OBJECT);
    }
    if (rc == SL_OK) {
        rc = sl_node_obj_append(o->doc, kv, "key", 3, &k);
    }
    if (rc == SL_OK) {
        rc = sl_node_set_string(o->doc, k, key.ptr, key.len);
    }
    if (rc == SL_OK) {
        rc = sl_node_obj_append(o->doc, kv, "value", 5, val);
    }
    return rc;
}

/* The KeyValue list a nested path lives in: walk path[0 .. n-1) through
 * kvlistValue.values, creating missing levels as empty kvlists when
 * create is set. NULL when a level holds another kind of value. */
static sl_status parent_list(sl_otlp *o, sl_node *attrs, const sl_str *path,
                             uint32_t n, bool create, sl_node **out) {
    *out = NULL;
    for (uint32_t d = 0; d + 1 < n; d++) {
        size_t idx = 0;
        const sl_node *par = NULL;
        sl_node *kv =
            (sl_node *)sl__otlp_find_kv(attrs, &path[d], 1, &idx, &par);
        sl_node *val = NULL;
        sl_status rc = SL_OK;
        if (!kv) {
            if (!create) {
                return SL_OK;
            }
            rc = kv_append(o, attrs, path[d], &val);
            if (rc == SL_OK) {
                rc = sl_node_set_container(o->doc, val, SL_NODE_OBJECT);
            }
        } else {
            rc = object_member(o, kv, "value", "value", &val);
        }
        if (rc != SL_OK) {
            return create ? rc : SL_OK;
        }
        sl_str key;
        const sl_node *inner = NULL;
        if (sl__otlp_any_kind(val, &key, &inner)) {
            if (sl__otlp_any_kind_of(key) != AK_KVLIST) {
                return create ? SL_EINVAL : SL_OK;
            }
        } else if (!create) {
            return SL_OK;
        } else if (sl_node_len(val) > 0) {
            /* {"stringValue": null}: replace by a kvlist */
            rc = sl_node_set_container(o->doc, val, SL_NODE_OBJECT);
            if (rc != SL_OK) {
                return rc;
            }
        }
        sl_node *kvl = NULL;
        rc = object_member(o, val, "kvlistValue", "kvlist_value", &kvl);
        if (rc == SL_OK) {
            rc = array_member(o, kvl, "values", "values", &attrs);
        }
        if (rc != SL_OK) {
            return create ? rc : SL_OK;
        }
    }
    *out = attrs;
    return SL_OK;
}

/* Set a (possibly nested) attribute to a string. */
static sl_status set_attr(sl_otlp *o, sl_node *attrs, const sl_field *f,
                          const char *s, size_t len) {
    sl_node *list = NULL;
    sl_status rc = parent_list(o, attrs, f->path, f->path_len, true, &list);
    if (rc != SL_OK) {
        return rc;
    }
    sl_str last = f->path[f->path_len - 1];
    sl_node *kv = (sl_node *)sl__otlp_find_kv(list, &last, 1, NULL, NULL);
    sl_node *val = NULL;
    if (kv) {
        rc = member(o, kv, "value", "value", &val);
    } else {
        rc = kv_append(o, list, last, &val);
    }
    if (rc == SL_OK) {
        rc = any_string(o, val, s, len);
    }
    return rc;
}

/* Remove every KeyValue named key from a list; true when one was. */
static bool remove_kvs(sl_node *list, sl_str key) {
    bool hit = false;
    size_t idx = 0;
    while (sl__otlp_find_kv(list, &key, 1, &idx, NULL)) {
        sl_node_remove(list, idx);
        hit = true;
    }
    return hit;
}

/* Remove every member camel/snake of obj; true when one was present. */
static bool remove_member(sl_node *obj, const char *camel, const char *snake) {
    bool hit = false;
    for (size_t i = sl_node_len(obj); i-- > 0;) {
        if (sl__otlp_key_is(sl_node_key(obj, i), camel, snake)) {
            sl_node_remove(obj, i);
            hit = true;
        }
    }
    return hit;
}

/* ---- where things live ---- */

typedef struct place {
    sl_node *obj; /* the object holding the member */
    const char *camel, *snake;
    int level; /* 0 record, 1 scope group, 2 resource group */
} place;

static sl__otlp_scope *scope_of(sl_otlp *o, size_t i) {
    return &o->scopes[o->recs[i].scope];
}

static sl__otlp_res *res_of(sl_otlp *o, size_t i) {
    return &o->res[scope_of(o, i)->res];
}

/* The member array of a record object: while it neither moves nor changes
 * length, the record's slots (pointers to its members' values) stay valid
 * and a change needs only the derived slots refreshed. */
typedef struct shape {
    const sl_node *first;
    size_t len;
} shape;

static shape shape_of(const sl_otlp *o, size_t i) {
    const sl_node *n = o->recs[i].node;
    shape s = {sl_node_at(n, 0), sl_node_len(n)};
    return s;
}

/* After a change at level (0 record, 1 scope entry, 2 resource entry):
 * mark it changed (the writer no longer copies its source text) and
 * refresh the index: the record's slots in full only when its own member
 * array changed (was is its shape before the change). */
static void rescan(sl_otlp *o, size_t i, int level, shape was) {
    o->dirty = true;
    if (level == 0) {
        o->recs[i].dirty = 1;
        o->recs[i].nkvx = SL__KVX_NONE; /* its attributes are walked now */
    } else if (level == 1) {
        o->scopes[o->recs[i].scope].dirty = 1;
        o->scopes[o->recs[i].scope].nkvx = SL__KVX_NONE;
        sl__otlp_rescan_scope(o, o->recs[i].scope);
    } else {
        o->res[scope_of(o, i)->res].dirty = 1;
        o->res[scope_of(o, i)->res].nkvx = SL__KVX_NONE;
        sl__otlp_rescan_res(o, scope_of(o, i)->res);
    }
    shape now = shape_of(o, i);
    if (now.first == was.first && now.len == was.len) {
        sl__otlp_derive_record(o, i);
    } else {
        sl__otlp_rescan_record(o, i);
    }
}

/* The object and member name of a plain (non-attribute) field. With
 * create, a missing scope object is made. false: not a settable field of
 * this signal. */
static bool plain_place(sl_otlp *o, size_t i, sl_field_kind k, bool create,
                        place *p, sl_status *rc) {
    sl_node *rec = o->recs[i].node;
    *rc = SL_OK;
    p->obj = rec;
    p->level = 0;
    static const struct {
        sl_field_kind kind;
        sl_signal sig;
        const char *camel, *snake;
    } simple[] = {
        {SL_FIELD_LOG_BODY, SL_SIGNAL_LOG, "body", "body"},
        {SL_FIELD_LOG_SEVERITY_TEXT, SL_SIGNAL_LOG, "severityText",
         "severity_text"},
        {SL_FIELD_LOG_TRACE_ID, SL_SIGNAL_LOG, "traceId", "trace_id"},
        {SL_FIELD_LOG_SPAN_ID, SL_SIGNAL_LOG, "spanId", "span_id"},
        {SL_FIELD_LOG_EVENT_NAME, SL_SIGNAL_LOG, "eventName", "event_name"},
        {SL_FIELD_METRIC_NAME, SL_SIGNAL_METRIC, "name", "name"},
        {SL_FIELD_METRIC_DESCRIPTION, SL_SIGNAL_METRIC, "description",
         "description"},
        {SL_FIELD_METRIC_UNIT, SL_SIGNAL_METRIC, "unit", "unit"},
        {SL_FIELD_SPAN_NAME, SL_SIGNAL_TRACE, "name", "name"},
        {SL_FIELD_SPAN_TRACE_ID, SL_SIGNAL_TRACE, "traceId", "trace_id"},
        {SL_FIELD_SPAN_ID, SL_SIGNAL_TRACE, "spanId", "span_id"},
        {SL_FIELD_SPAN_PARENT_SPAN_ID, SL_SIGNAL_TRACE, "parentSpanId",
         "parent_span_id"},
        {SL_FIELD_SPAN_TRACE_STATE, SL_SIGNAL_TRACE, "traceState",
         "trace_state"},
    };
    for (size_t j = 0; j < SL_ARRAY_LEN(simple); j++) {
        if (simple[j].kind == k) {
            p->camel = simple[j].camel;
            p->snake = simple[j].snake;
            return simple[j].sig == o->sig;
        }
    }
    switch (k) {
    case SL_FIELD_RESOURCE_SCHEMA_URL:
        p->obj = res_of(o, i)->entry;
        p->level = 2;
        p->camel = "schemaUrl";
        p->snake = "schema_url";
        return true;
    case SL_FIELD_SCOPE_SCHEMA_URL:
        p->obj = scope_of(o, i)->entry;
        p->level = 1;
        p->camel = "schemaUrl";
        p->snake = "schema_url";
        return true;
    case SL_FIELD_SCOPE_NAME:
    case SL_FIELD_SCOPE_VERSION:
        p->level = 1;
        p->camel = k == SL_FIELD_SCOPE_NAME ? "name" : "version";
        p->snake = p->camel;
        p->obj = scope_of(o, i)->scope;
        if (!p->obj && create) {
            *rc = object_member(o, scope_of(o, i)->entry, "scope", "scope",
                                &p->obj);
        }
        return true;
    default:
        return false;
    }
}

/* The attribute list an attribute field lives in; with create, missing
 * resource / scope objects and the list itself are made. NULL list: none
 * (and none made). */
static sl_status attr_place(sl_otlp *o, size_t i, sl_field_kind k, bool create,
                            sl_node **list, int *level) {
    *list = NULL;
    sl_node *holder = NULL;
    sl_status rc = SL_OK;
    switch (k) {
    case SL_FIELD_ATTR:
        *level = 0;
        *list = o->recs[i].f[SLOT_ATTRS];
        if (o->sig == SL_SIGNAL_METRIC) {
            holder = o->recs[i].mtype == MT_EXPH ? NULL : o->recs[i].f[MS_DP0];
        } else {
            holder = o->recs[i].node;
        }
        break;
    case SL_FIELD_RESOURCE_ATTR:
        *level = 2;
        *list = res_of(o, i)->attrs;
        holder = res_of(o, i)->resource;
        if (!holder && create) {
            rc = object_member(o, res_of(o, i)->entry, "resource", "resource",
                               &holder);
        }
        break;
    case SL_FIELD_SCOPE_ATTR:
        *level = 1;
        *list = scope_of(o, i)->attrs;
        holder = scope_of(o, i)->scope;
        if (!holder && create) {
            rc = object_member(o, scope_of(o, i)->entry, "scope", "scope",
                               &holder);
        }
        break;
    default:
        return SL_EINVAL;
    }
    if (rc != SL_OK) {
        return rc;
    }
    if (sl_node_kind_of(*list) != SL_NODE_ARRAY) {
        *list = NULL;
    }
    if (!*list && create) {
        if (!holder) {
            return SL_EINVAL;
        }
        rc = array_member(o, holder, "attributes", "attributes", list);
    }
    return rc;
}

static bool is_attr_kind(sl_field_kind k) {
    return k == SL_FIELD_ATTR || k == SL_FIELD_RESOURCE_ATTR ||
           k == SL_FIELD_SCOPE_ATTR;
}

/* ---- tracestate ---- */

static bool ows(char c) {
    return c == ' ' || c == '\t';
}

/* One list member of a comma list, trimmed. */
static sl_str next_item(const char **p, const char *end, char sep) {
    const char *s = *p;
    const char *e = memchr(s, sep, (size_t)(end - s));
    if (!e) {
        e = end;
    }
    *p = e < end ? e + 1 : end;
    while (s < e && ows(*s)) {
        s++;
    }
    while (e > s && ows(e[-1])) {
        e--;
    }
    sl_str r = {s, (size_t)(e - s)};
    return r;
}

/* Merge th:<hex> into the tracestate's `ot` entry: the old th sub-key is
 * dropped, the other ot sub-keys keep their order, th comes last; the ot
 * entry goes first and other vendors follow in their order (reference §4:
 * `vendor1=abc,vendor2=xyz` -> `ot=th:0,vendor1=abc,vendor2=xyz`,
 * `ot=th:4;rv:abc123` -> `ot=rv:abc123;th:8`). */
static sl_status set_threshold(sl_otlp *o, size_t i, const char *th,
                               size_t len) {
    if (o->sig != SL_SIGNAL_TRACE) {
        return SL_EINVAL;
    }
    sl_str old = {"", 0};
    const sl_node *ts = o->recs[i].f[SS_TSTATE];
    if (sl_node_kind_of(ts) == SL_NODE_STRING) {
        old = sl_node_str(ts);
    }
    sl_buf *b = &o->scratch;
    b->len = 0;
    b->failed = 0;
    sl__buf_append(b, "ot=", 3);
    const char *end = old.ptr + old.len;
    bool ot_seen = false;
    for (const char *p = old.ptr; p < end;) {
        sl_str item = next_item(&p, end, ',');
        if (ot_seen || item.len < 3 || memcmp(item.ptr, "ot=", 3) != 0) {
            continue;
        }
        ot_seen = true;
        const char *q = item.ptr + 3, *qe = item.ptr + item.len;
        while (q < qe) {
            sl_str sub = next_item(&q, qe, ';');
            if (sub.len == 0 ||
                (sub.len >= 3 && memcmp(sub.ptr, "th:", 3) == 0)) {
                continue;
            }
            sl__buf_append(b, sub.ptr, sub.len);
            sl__buf_putc(b, ';');
        }
    }
    sl__buf_append(b, "th:", 3);
    sl__buf_append(b, th, len);
    for (const char *p = old.ptr; p < end;) {
        sl_str item = next_item(&p, end, ',');
        if (item.len == 0 ||
            (item.len >= 3 && memcmp(item.ptr, "ot=", 3) == 0)) {
            continue;
        }
        sl__buf_putc(b, ',');
        sl__buf_append(b, item.ptr, item.len);
    }
    if (b->failed) {
        return SL_ENOMEM;
    }
    shape was = shape_of(o, i);
    sl_status rc = string_member(o, o->recs[i].node, "traceState",
                                 "trace_state", b->ptr, b->len);
    rescan(o, i, 0, was);
    return rc;
}

/* ---- public ---- */

static bool args_ok(const sl_otlp *o, size_t i, const sl_field *f) {
    if (o && o->lazy && f) {
        /* changes need the whole tree: a lazy batch loads in full first */
        sl__otlp_materialize((sl_otlp *)o);
    }
    if (!o || !f || i >= o->nrec) {
        return false;
    }
    if (is_attr_kind(f->kind) || f->kind == SL_FIELD_EVENT_ATTR) {
        return f->path && f->path_len > 0;
    }
    return true;
}

sl_status sl_otlp_set(sl_otlp *o, size_t i, const sl_field *f, const char *s,
                      size_t len) {
    if (!args_ok(o, i, f) || (!s && len)) {
        return SL_EINVAL;
    }
    if (!s) {
        s = "";
    }
    if (f->kind == SL_FIELD_SPAN_SAMPLING_THRESHOLD) {
        return set_threshold(o, i, s, len);
    }
    sl_status rc;
    int level = 0;
    shape was = shape_of(o, i);
    if (is_attr_kind(f->kind)) {
        sl_node *list = NULL;
        rc = attr_place(o, i, f->kind, true, &list, &level);
        if (rc == SL_OK) {
            rc = set_attr(o, list, f, s, len);
        }
    } else {
        place p;
        if (!plain_place(o, i, f->kind, true, &p, &rc)) {
            return SL_EINVAL;
        }
        level = p.level;
        if (rc == SL_OK && f->kind == SL_FIELD_LOG_BODY) {
            sl_node *v = NULL;
            rc = member(o, p.obj, p.camel, p.snake, &v);
            if (rc == SL_OK) {
                rc = any_string(o, v, s, len);
            }
        } else if (rc == SL_OK) {
            rc = string_member(o, p.obj, p.camel, p.snake, s, len);
        }
    }
    rescan(o, i, level, was);
    return rc;
}

bool sl_otlp_remove(sl_otlp *o, size_t i, const sl_field *f) {
    if (!args_ok(o, i, f)) {
        return false;
    }
    bool hit = false, changed = false;
    int level = 0;
    shape was = shape_of(o, i);
    if (is_attr_kind(f->kind)) {
        sl_node *list = NULL, *parent = NULL;
        if (attr_place(o, i, f->kind, false, &list, &level) != SL_OK || !list) {
            return false;
        }
        parent_list(o, list, f->path, f->path_len, false, &parent);
        if (parent) {
            hit = changed = remove_kvs(parent, f->path[f->path_len - 1]);
        }
    } else {
        place p;
        sl_status rc;
        if (!plain_place(o, i, f->kind, false, &p, &rc) || !p.obj) {
            return false;
        }
        level = p.level;
        hit = sl_otlp_exists(o, i, f) ||
              (f->kind == SL_FIELD_LOG_BODY && o->recs[i].f[LS_BODY]);
        changed = remove_member(p.obj, p.camel, p.snake);
    }
    if (changed) {
        rescan(o, i, level, was);
    }
    return hit;
}

sl_status sl_otlp_move(sl_otlp *o, size_t i, const sl_field *from,
                       const sl_field *to) {
    if (!args_ok(o, i, from) || !args_ok(o, i, to) ||
        !is_attr_kind(from->kind) || to->kind != from->kind) {
        return SL_EINVAL;
    }
    int level = 0;
    shape was = shape_of(o, i);
    sl_node *list = NULL;
    sl_status rc = attr_place(o, i, from->kind, false, &list, &level);
    if (rc != SL_OK || !list) {
        return SL_EINVAL;
    }
    size_t idx = 0;
    const sl_node *src_parent = NULL;
    const sl_node *kv =
        sl__otlp_find_kv(list, from->path, from->path_len, &idx, &src_parent);
    if (!kv) {
        return SL_EINVAL;
    }
    /* to is a path from the namespace's root like any field's (the
     * engine checked and removed it there): a one-segment to is a
     * top-level key even when from is nested (reference §4 rename: target
     * = same namespace + key `to`); a longer path names its own level,
     * made when missing. Appending to an outer list leaves from's list
     * where it is (only its element array may move, and that holds
     * from's parent by pointer). */
    sl_node *dst = list;
    if (to->path_len > 1) {
        rc = parent_list(o, list, to->path, to->path_len, true, &dst);
        if (rc != SL_OK) {
            return rc;
        }
    }
    sl_str to_key = to->path[to->path_len - 1];
    sl_str from_key = from->path[from->path_len - 1];
    bool same = dst == src_parent && to_key.len == from_key.len &&
                memcmp(to_key.ptr, from_key.ptr, to_key.len) == 0;
    if (!same) {
        remove_kvs(dst, to_key); /* upsert: the engine removed it already */
    }
    /* making levels or removing the target may have moved from: find it
     * again */
    kv = sl__otlp_find_kv(list, from->path, from->path_len, &idx, &src_parent);
    if (!kv) {
        return SL_EINVAL;
    }
    sl_node *slot = NULL;
    rc = sl_node_arr_append(o->doc, dst, &slot);
    if (rc == SL_OK) {
        /* the append may have moved from's list (same list): re-read it;
         * appended at the end, idx still names the original */
        kv = sl_node_at(src_parent, idx);
        rc = sl_node_copy(o->doc, slot, kv);
        if (rc == SL_OK) {
            rc = kv_key_set(o, slot, to_key);
        }
        if (rc != SL_OK) {
            sl_node_remove(dst, sl_node_len(dst) - 1);
        } else {
            sl_node_remove((sl_node *)src_parent, idx);
        }
    }
    rescan(o, i, level, was);
    return rc;
}

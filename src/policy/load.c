/* src/policy/load.c: read `{"policies": [...]}` from a document tree into
 * the policy model (private.h). Owns the schema: keys in snake_case or
 * camelCase, short or full enum names (or their numbers), the three
 * attribute-path forms, typed literals, keep encodings, transforms,
 * sample keys and trace sampling configs. Leaves pattern sets to
 * compile.c.
 *
 * The one idea: a policy is rejected as a whole but reported in full. Every
 * problem found in it becomes one located error `policy <id>: <signal>:
 * ...` (strings as policy-rs: `log: no matchers specified`,
 * `log: match[0]: invalid regex "<pat>": <msg>`), parsing goes on to find
 * the rest, and the other policies are unaffected.
 *
 * Unknown keys: policy-rs parses files with pbjson, which rejects unknown
 * fields (the whole file fails there). sluice rejects only the policy that
 * holds the unknown key, with `unknown field "<key>"`, so a typo never
 * silently changes what a policy does; an unknown top-level key is
 * reported and otherwise ignored. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/codec.h"
#include "match/cached.h"
#include "policy/private.h"

typedef struct lctx {
    sl_policy_set *set;
    const sl_doc *doc;
    const char *sig;  /* "log", "metric", "trace" or NULL */
    char pid[96];     /* "policy <id>" as printed */
    bool bad;         /* this policy has a problem */
    uint32_t ops_cap; /* capacity of the policy's op list being parsed */
    sl_status fatal;  /* SL_ENOMEM */
} lctx;

static void report(lctx *lc, sl__errlist *list, const sl_node *at,
                   const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void report(lctx *lc, sl__errlist *list, const sl_node *at,
                   const char *fmt, va_list ap) {
    sl_error e = {0};
    sl_pos pos = {sl_doc_file(lc->doc), 0, 0};
    if (at) {
        pos = sl_node_pos(lc->doc, at);
    }
    char msg[224];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (lc->pid[0]) {
        sl__error(&e, SL_ESCHEMA, &pos, "%s: %s", lc->pid, msg);
    } else {
        sl__error(&e, SL_ESCHEMA, &pos, "%s", msg);
    }
    if (sl__errlist_push(list, &e) != SL_OK) {
        lc->fatal = SL_ENOMEM;
    }
}

/* The policy being read is invalid: it is left out. */
static void problem(lctx *lc, const sl_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(lctx *lc, const sl_node *at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report(lc, &lc->set->problems, at, fmt, ap);
    va_end(ap);
    lc->bad = true;
}

/* The policy is valid but probably does not do what its author meant. */
static void warning(lctx *lc, const sl_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warning(lctx *lc, const sl_node *at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report(lc, &lc->set->warnings, at, fmt, ap);
    va_end(ap);
}

sl_status sl__errlist_push(sl__errlist *list, const sl_error *e) {
    if (list->n >= SL_POLICY_MAX_PROBLEMS) {
        return SL_OK; /* benign: the first 100,000 say enough */
    }
    if (list->n == list->cap) {
        size_t nc = list->cap ? list->cap * 2 : 8;
        sl_error *p =
            sl__realloc(list->v, list->cap * sizeof(*p), nc * sizeof(*p));
        if (!p) {
            return SL_ENOMEM;
        }
        list->v = p;
        list->cap = nc;
    }
    list->v[list->n++] = *e;
    return SL_OK;
}

void sl__errlist_free(sl__errlist *list) {
    sl__free(list->v, list->cap * sizeof(sl_error));
    *list = (sl__errlist){0};
}

/* ---- keys ---- */

/* camelCase -> snake_case; false when too long to be a known key. */
static bool canon_key(sl_str k, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < k.len; i++) {
        char c = k.ptr[i];
        if (c >= 'A' && c <= 'Z') {
            if (i > 0) {
                if (o + 1 >= cap) {
                    return false;
                }
                out[o++] = '_';
            }
            c = (char)(c - 'A' + 'a');
        }
        if (o + 1 >= cap) {
            return false;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

/* Map each member of obj to one of names (vals[j] = its value, keys[j] =
 * its member index). Unknown or duplicate keys are problems. false when
 * obj is not an object. */
static bool collect(lctx *lc, const sl_node *obj, const char *const *names,
                    size_t n, const sl_node **vals, const char *ctx,
                    const char *what) {
    for (size_t j = 0; j < n; j++) {
        vals[j] = NULL;
    }
    if (sl_node_kind_of(obj) != SL_NODE_OBJECT) {
        problem(lc, obj, "%s%s must be an object, not %s", ctx, what,
                sl_node_kind_name(sl_node_kind_of(obj)));
        return false;
    }
    size_t len = sl_node_len(obj);
    for (size_t i = 0; i < len; i++) {
        sl_str k = sl_node_key(obj, i);
        char key[64];
        size_t j = n;
        if (canon_key(k, key, sizeof(key))) {
            for (j = 0; j < n; j++) {
                if (strcmp(key, names[j]) == 0) {
                    break;
                }
            }
        }
        char q[64];
        sl__quote(q, sizeof(q), k.ptr, k.len);
        if (j == n) {
            sl_pos pos = sl_node_key_pos(lc->doc, obj, i);
            sl_error e = {0};
            if (lc->pid[0]) {
                sl__error(&e, SL_ESCHEMA, &pos, "%s: %sunknown field %s",
                          lc->pid, ctx, q);
            } else {
                sl__error(&e, SL_ESCHEMA, &pos, "%sunknown field %s", ctx, q);
            }
            lc->bad = true;
            if (sl__errlist_push(&lc->set->problems, &e) != SL_OK) {
                lc->fatal = SL_ENOMEM;
            }
            continue;
        }
        if (vals[j]) {
            problem(lc, sl_node_at(obj, i), "%sduplicate field %s", ctx, q);
            continue;
        }
        vals[j] = sl_node_at(obj, i);
    }
    return true;
}

/* ---- scalars ---- */

static bool get_bool(lctx *lc, const sl_node *n, bool *out, const char *ctx,
                     const char *name) {
    if (!n) {
        return true;
    }
    if (sl_node_kind_of(n) != SL_NODE_BOOL) {
        problem(lc, n, "%s%s must be a boolean", ctx, name);
        return false;
    }
    *out = sl_node_bool(n);
    return true;
}

static bool get_string(lctx *lc, const sl_node *n, sl_str *out, const char *ctx,
                       const char *name) {
    if (sl_node_kind_of(n) != SL_NODE_STRING) {
        problem(lc, n, "%s%s must be a string", ctx, name);
        return false;
    }
    *out = sl_node_str(n);
    return true;
}

/* An unsigned 32-bit integer: a JSON integer or (proto-JSON) a string of
 * digits. */
static bool get_u32(lctx *lc, const sl_node *n, uint32_t *out, const char *ctx,
                    const char *name) {
    int64_t v = -1;
    sl_node_kind k = sl_node_kind_of(n);
    if (k == SL_NODE_INT) {
        if (sl_node_int(n, &v) != SL_OK) {
            v = -1;
        }
    } else if (k == SL_NODE_STRING) {
        sl_str s = sl_node_str(n);
        uint64_t u = 0;
        bool ok = s.len > 0 && s.len <= 10;
        for (size_t i = 0; ok && i < s.len; i++) {
            ok = s.ptr[i] >= '0' && s.ptr[i] <= '9';
            u = u * 10 + (uint64_t)(s.ptr[i] - '0');
        }
        v = ok ? (int64_t)u : -1;
    }
    if (v < 0 || v > (int64_t)UINT32_MAX) {
        problem(lc, n, "%s%s must be an integer from 0 to 4294967295", ctx,
                name);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* A number: JSON number or a numeric string (proto-JSON floats). */
static bool get_double(lctx *lc, const sl_node *n, double *out, const char *ctx,
                       const char *name) {
    sl_node_kind k = sl_node_kind_of(n);
    if ((k == SL_NODE_INT || k == SL_NODE_FLOAT) &&
        sl_node_double(n, out) == SL_OK) {
        return true;
    }
    if (k == SL_NODE_STRING) {
        sl_str s = sl_node_str(n);
        char tmp[64];
        if (s.len > 0 && s.len < sizeof(tmp)) {
            memcpy(tmp, s.ptr, s.len);
            tmp[s.len] = '\0';
            char *end = NULL;
            double d = strtod(tmp, &end);
            if (end == tmp + s.len && tmp[0] != ' ') {
                *out = d;
                return true;
            }
        }
    }
    problem(lc, n, "%s%s must be a number", ctx, name);
    return false;
}

static const char *copy_str(lctx *lc, sl_str s) {
    char *p = sl__arena_strndup(&lc->set->arena, s.ptr, s.len);
    if (!p) {
        lc->fatal = SL_ENOMEM;
    }
    return p;
}

/* ---- enums ---- */

typedef struct enum_val {
    const char *name; /* short, lower case */
    int number;       /* proto number */
    int value;        /* what sluice uses */
} enum_val;

typedef struct enum_def {
    const char *what;   /* for messages: "log_field" */
    const char *prefix; /* "LOG_FIELD_" */
    const enum_val *vals;
    size_t n;
} enum_def;

static const enum_val log_fields[] = {
    {"body", 1, SL_FIELD_LOG_BODY},
    {"severity_text", 2, SL_FIELD_LOG_SEVERITY_TEXT},
    {"trace_id", 3, SL_FIELD_LOG_TRACE_ID},
    {"span_id", 4, SL_FIELD_LOG_SPAN_ID},
    {"event_name", 5, SL_FIELD_LOG_EVENT_NAME},
    {"resource_schema_url", 10, SL_FIELD_RESOURCE_SCHEMA_URL},
    {"scope_schema_url", 11, SL_FIELD_SCOPE_SCHEMA_URL},
};
static const enum_val metric_fields[] = {
    {"name", 1, SL_FIELD_METRIC_NAME},
    {"description", 2, SL_FIELD_METRIC_DESCRIPTION},
    {"unit", 3, SL_FIELD_METRIC_UNIT},
    {"resource_schema_url", 10, SL_FIELD_RESOURCE_SCHEMA_URL},
    {"scope_schema_url", 11, SL_FIELD_SCOPE_SCHEMA_URL},
    {"scope_name", 12, SL_FIELD_SCOPE_NAME},
    {"scope_version", 13, SL_FIELD_SCOPE_VERSION},
};
static const enum_val trace_fields[] = {
    {"name", 1, SL_FIELD_SPAN_NAME},
    {"trace_id", 2, SL_FIELD_SPAN_TRACE_ID},
    {"span_id", 3, SL_FIELD_SPAN_ID},
    {"parent_span_id", 4, SL_FIELD_SPAN_PARENT_SPAN_ID},
    {"trace_state", 5, SL_FIELD_SPAN_TRACE_STATE},
    {"resource_schema_url", 10, SL_FIELD_RESOURCE_SCHEMA_URL},
    {"scope_schema_url", 11, SL_FIELD_SCOPE_SCHEMA_URL},
    {"scope_name", 12, SL_FIELD_SCOPE_NAME},
    {"scope_version", 13, SL_FIELD_SCOPE_VERSION},
};
static const enum_val metric_types[] = {
    {"gauge", 1, 1},     {"sum", 2, 2},
    {"histogram", 3, 3}, {"exponential_histogram", 4, 4},
    {"summary", 5, 5},
};
static const enum_val temporalities[] = {
    {"unspecified", 0, 0},
    {"delta", 1, 1},
    {"cumulative", 2, 2},
};
static const enum_val span_kinds[] = {
    {"unspecified", 0, 0}, {"internal", 1, 1}, {"server", 2, 2},
    {"client", 3, 3},      {"producer", 4, 4}, {"consumer", 5, 5},
};
/* UNSET is OTel's name for proto's UNSPECIFIED (reference §3) */
static const enum_val span_statuses[] = {
    {"unspecified", 0, 0},
    {"unset", 0, 0},
    {"ok", 1, 1},
    {"error", 2, 2},
};
static const enum_val sampling_modes[] = {
    {"unspecified", 0, SL_MODE_HASH_SEED},
    {"hash_seed", 1, SL_MODE_HASH_SEED},
    {"proportional", 2, SL_MODE_PROPORTIONAL},
    {"equalizing", 3, SL_MODE_EQUALIZING},
};

#define ENUM(what, prefix, arr) \
    { what, prefix, arr, SL_ARRAY_LEN(arr) }
static const enum_def def_log_field =
    ENUM("log_field", "LOG_FIELD_", log_fields);
static const enum_def def_metric_field =
    ENUM("metric_field", "METRIC_FIELD_", metric_fields);
static const enum_def def_trace_field =
    ENUM("trace_field", "TRACE_FIELD_", trace_fields);
static const enum_def def_metric_type =
    ENUM("metric_type", "METRIC_TYPE_", metric_types);
static const enum_def def_temporality =
    ENUM("aggregation_temporality", "AGGREGATION_TEMPORALITY_", temporalities);
static const enum_def def_span_kind =
    ENUM("span_kind", "SPAN_KIND_", span_kinds);
static const enum_def def_span_status =
    ENUM("span_status", "SPAN_STATUS_CODE_", span_statuses);
static const enum_def def_mode = ENUM("mode", "SAMPLING_MODE_", sampling_modes);

static bool ieq_n(const char *a, size_t n, const char *b) {
    return sl__ascii_ieq(a, n, b, strlen(b));
}

/* Parse an enum: short name, full proto name (both any case) or number.
 * Returns the entry, or NULL after reporting. An UNSPECIFIED value of a
 * field enum is not in the table and so reports too. */
static const enum_val *get_enum(lctx *lc, const sl_node *n, const enum_def *d,
                                const char *ctx) {
    sl_node_kind k = sl_node_kind_of(n);
    if (k == SL_NODE_INT) {
        int64_t v = 0;
        if (sl_node_int(n, &v) == SL_OK) {
            for (size_t i = 0; i < d->n; i++) {
                if (d->vals[i].number == v) {
                    return &d->vals[i];
                }
            }
        }
        sl_str s = sl_node_str(n);
        char q[64];
        sl__quote(q, sizeof(q), s.ptr, s.len);
        problem(lc, n, "%sunknown %s %s", ctx, d->what, q);
        return NULL;
    }
    if (k != SL_NODE_STRING) {
        problem(lc, n, "%s%s must be a string", ctx, d->what);
        return NULL;
    }
    sl_str s = sl_node_str(n);
    size_t plen = strlen(d->prefix);
    for (size_t i = 0; i < d->n; i++) {
        if (ieq_n(s.ptr, s.len, d->vals[i].name)) {
            return &d->vals[i];
        }
        if (s.len > plen && ieq_n(s.ptr, plen, d->prefix) &&
            ieq_n(s.ptr + plen, s.len - plen, d->vals[i].name)) {
            return &d->vals[i];
        }
    }
    char q[64];
    sl__quote(q, sizeof(q), s.ptr, s.len);
    problem(lc, n, "%sunknown %s %s", ctx, d->what, q);
    return NULL;
}

/* The canonical proto name of an enum value ("SPAN_KIND_SERVER"), copied
 * into the arena: what the OTLP model synthesizes for that field. */
static const char *enum_name(lctx *lc, const enum_def *d, const enum_val *v,
                             size_t *len) {
    char buf[96];
    const char *name = v->name;
    if (d == &def_span_status && v->number == 0) {
        name = "unspecified";
    }
    int n = snprintf(buf, sizeof(buf), "%s", d->prefix);
    for (size_t i = 0; name[i] && (size_t)n + 1 < sizeof(buf); i++) {
        char c = name[i];
        buf[n++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    buf[n] = '\0';
    *len = (size_t)n;
    return copy_str(lc, (sl_str){buf, (size_t)n});
}

/* ---- attribute paths ---- */

/* "a" | ["a", "b"] | {"path": ["a", "b"]} */
static bool get_path(lctx *lc, const sl_node *n, sl_field_kind kind,
                     sl_field *out, const char *ctx) {
    const sl_node *arr = n;
    sl_node_kind k = sl_node_kind_of(n);
    if (k == SL_NODE_STRING) {
        sl_str s = sl_node_str(n);
        if (s.len == 0) {
            problem(lc, n, "%sattribute has empty path", ctx);
            return false;
        }
        sl_str *seg = sl__arena_alloc(&lc->set->arena, sizeof(*seg));
        const char *p = copy_str(lc, s);
        if (!seg || !p) {
            lc->fatal = SL_ENOMEM;
            return false;
        }
        seg->ptr = p;
        seg->len = s.len;
        out->kind = kind;
        out->path = seg;
        out->path_len = 1;
        return true;
    }
    if (k == SL_NODE_OBJECT) {
        static const char *const names[] = {"path"};
        const sl_node *v[1];
        bool bad = lc->bad;
        lc->bad = false;
        collect(lc, n, names, 1, v, ctx, "attribute path");
        bool failed = lc->bad;
        lc->bad = lc->bad || bad;
        if (failed) {
            return false;
        }
        arr = v[0];
        if (!arr) {
            problem(lc, n, "%sattribute has empty path", ctx);
            return false;
        }
        k = sl_node_kind_of(arr);
    }
    if (k != SL_NODE_ARRAY) {
        problem(lc, arr,
                "%sattribute path must be a string or an array of "
                "strings",
                ctx);
        return false;
    }
    size_t len = sl_node_len(arr);
    if (len == 0) {
        problem(lc, arr, "%sattribute has empty path", ctx);
        return false;
    }
    if (len > SL_POLICY_MAX_PATH) {
        problem(lc, arr, "%sattribute path has more than %d segments", ctx,
                SL_POLICY_MAX_PATH);
        return false;
    }
    sl_str *seg = sl__arena_alloc(&lc->set->arena, len * sizeof(*seg));
    if (!seg) {
        lc->fatal = SL_ENOMEM;
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        const sl_node *e = sl_node_at(arr, i);
        if (sl_node_kind_of(e) != SL_NODE_STRING) {
            problem(lc, e, "%sattribute path segments must be strings", ctx);
            return false;
        }
        sl_str s = sl_node_str(e);
        seg[i].ptr = copy_str(lc, s);
        seg[i].len = s.len;
        if (!seg[i].ptr) {
            return false;
        }
    }
    out->kind = kind;
    out->path = seg;
    out->path_len = (uint32_t)len;
    return true;
}

/* ---- selectors ---- */

typedef enum sel_type {
    SEL_FIELD = 0,    /* enum naming a simple field */
    SEL_ATTR = 1,     /* attribute path */
    SEL_IMPLICIT = 2, /* enum value that is itself the match */
    SEL_STRING = 3    /* string value that is itself the match */
} sel_type;

typedef struct sel_spec {
    const char *name;
    sel_type type;
    const enum_def *def; /* SEL_FIELD, SEL_IMPLICIT */
    sl_field_kind kind;  /* SEL_ATTR, SEL_IMPLICIT, SEL_STRING */
    bool unread;         /* accepted, but the reference engines never read it */
} sel_spec;

static const sel_spec log_sels[] = {
    {"log_field", SEL_FIELD, &def_log_field, SL_FIELD_NONE, false},
    {"log_attribute", SEL_ATTR, NULL, SL_FIELD_ATTR, false},
    {"resource_attribute", SEL_ATTR, NULL, SL_FIELD_RESOURCE_ATTR, false},
    {"scope_attribute", SEL_ATTR, NULL, SL_FIELD_SCOPE_ATTR, false},
};
static const sel_spec metric_sels[] = {
    {"metric_field", SEL_FIELD, &def_metric_field, SL_FIELD_NONE, false},
    {"datapoint_attribute", SEL_ATTR, NULL, SL_FIELD_ATTR, false},
    {"resource_attribute", SEL_ATTR, NULL, SL_FIELD_RESOURCE_ATTR, false},
    {"scope_attribute", SEL_ATTR, NULL, SL_FIELD_SCOPE_ATTR, false},
    {"metric_type", SEL_IMPLICIT, &def_metric_type, SL_FIELD_METRIC_TYPE,
     false},
    {"aggregation_temporality", SEL_IMPLICIT, &def_temporality,
     SL_FIELD_METRIC_TEMPORALITY, false},
};
static const sel_spec trace_sels[] = {
    {"trace_field", SEL_FIELD, &def_trace_field, SL_FIELD_NONE, false},
    {"span_attribute", SEL_ATTR, NULL, SL_FIELD_ATTR, false},
    {"resource_attribute", SEL_ATTR, NULL, SL_FIELD_RESOURCE_ATTR, false},
    {"scope_attribute", SEL_ATTR, NULL, SL_FIELD_SCOPE_ATTR, false},
    {"span_kind", SEL_IMPLICIT, &def_span_kind, SL_FIELD_SPAN_KIND, false},
    {"span_status", SEL_IMPLICIT, &def_span_status, SL_FIELD_SPAN_STATUS,
     false},
    {"event_name", SEL_STRING, NULL, SL_FIELD_SPAN_EVENT_NAME, false},
    /* Unimplemented in every reference engine (reference section 5): the
     * matcher is valid but its field is never present, so the policy
     * behaves exactly as upstream's (and `sluice check` says so). */
    {"event_attribute", SEL_ATTR, NULL, SL_FIELD_EVENT_ATTR, true},
    {"link_trace_id", SEL_STRING, NULL, SL_FIELD_SPAN_LINK_TRACE_ID, true},
};

static const char *const match_names[] = {
    "exact",  "regex", "exists", "starts_with", "ends_with", "contains",
    "equals", "gt",    "gte",    "lt",          "lte"};
enum {
    M_EXACT,
    M_REGEX,
    M_EXISTS,
    M_STARTS,
    M_ENDS,
    M_CONTAINS,
    M_EQUALS,
    M_GT,
    M_GTE,
    M_LT,
    M_LTE,
    M_COUNT
};

/* Parse the one selector among vals[0..nsel). The implicit selectors also
 * give the pattern text (*implicit, *ilen). */
static bool selector_value(lctx *lc, const sel_spec *sp, const sl_node *v,
                           sl_field *f, const char **implicit, size_t *ilen,
                           const char *ctx);

static bool parse_selector(lctx *lc, const sl_node *obj, const sel_spec *sels,
                           size_t nsel, const sl_node *const *vals, sl_field *f,
                           const char **implicit, size_t *ilen,
                           const char *ctx) {
    size_t found = nsel;
    size_t count = 0;
    for (size_t j = 0; j < nsel; j++) {
        if (vals[j]) {
            if (count == 0) {
                found = j;
            }
            count++;
        }
    }
    if (count == 0) {
        problem(lc, obj, "%sno field specified", ctx);
        return false;
    }
    if (count > 1) {
        problem(lc, obj, "%smultiple fields specified", ctx);
        return false;
    }
    const sel_spec *sp = &sels[found];
    bool ok = selector_value(lc, sp, vals[found], f, implicit, ilen, ctx);
    if (ok && sp->unread) {
        warning(lc, vals[found],
                "%s%s is not implemented by the reference engines; this "
                "matcher never sees a value (as upstream)",
                ctx, sp->name);
        *f = (sl_field){.kind = SL_FIELD_NONE};
    }
    return ok;
}

/* The field (and, for selectors whose value is the match, the implicit
 * pattern) of selector sp with value v. */
static bool selector_value(lctx *lc, const sel_spec *sp, const sl_node *v,
                           sl_field *f, const char **implicit, size_t *ilen,
                           const char *ctx) {
    memset(f, 0, sizeof(*f));
    if (implicit) {
        *implicit = NULL;
    }
    switch (sp->type) {
    case SEL_FIELD: {
        const enum_val *e = get_enum(lc, v, sp->def, ctx);
        if (!e) {
            return false;
        }
        f->kind = (sl_field_kind)e->value;
        return true;
    }
    case SEL_ATTR:
        return get_path(lc, v, sp->kind, f, ctx);
    case SEL_IMPLICIT: {
        const enum_val *e = get_enum(lc, v, sp->def, ctx);
        if (!e || !implicit) {
            if (e) {
                problem(lc, v, "%s%s cannot be used here", ctx, sp->name);
            }
            return false;
        }
        f->kind = sp->kind;
        *implicit = enum_name(lc, sp->def, e, ilen);
        return *implicit != NULL;
    }
    case SEL_STRING:
    default: {
        sl_str s;
        if (!get_string(lc, v, &s, ctx, sp->name)) {
            return false;
        }
        if (!implicit) {
            problem(lc, v, "%s%s cannot be used here", ctx, sp->name);
            return false;
        }
        f->kind = sp->kind;
        *implicit = copy_str(lc, s);
        *ilen = s.len;
        return *implicit != NULL;
    }
    }
}

/* ---- typed literals ---- */

/* Standard or URL-safe base64 (proto-JSON bytes), as sl__base64_decode. */
static bool decode_b64(lctx *lc, sl_str s, sl_str *out) {
    uint8_t *buf = sl__arena_alloc(&lc->set->arena, s.len / 4 * 3 + 3);
    if (!buf) {
        lc->fatal = SL_ENOMEM;
        return false;
    }
    long n = sl__base64_decode(s.ptr, s.len, buf);
    if (n < 0) {
        return false;
    }
    out->ptr = (const char *)buf;
    out->len = (size_t)n;
    return true;
}

static bool decode_hex(lctx *lc, sl_str s, sl_str *out) {
    if (s.len % 2) {
        return false;
    }
    char *buf = sl__arena_alloc(&lc->set->arena, s.len / 2 + 1);
    if (!buf) {
        lc->fatal = SL_ENOMEM;
        return false;
    }
    for (size_t i = 0; i < s.len; i += 2) {
        int a = sl__hexval(s.ptr[i]), b = sl__hexval(s.ptr[i + 1]);
        if (a < 0 || b < 0) {
            return false;
        }
        buf[i / 2] = (char)(a * 16 + b);
    }
    out->ptr = buf;
    out->len = s.len / 2;
    return true;
}

static bool int_from_node(const sl_node *n, int64_t *out) {
    if (sl_node_kind_of(n) == SL_NODE_INT) {
        return sl_node_int(n, out) == SL_OK;
    }
    if (sl_node_kind_of(n) != SL_NODE_STRING) {
        return false;
    }
    sl_str s = sl_node_str(n);
    char tmp[32];
    if (s.len == 0 || s.len >= sizeof(tmp)) {
        return false;
    }
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = '\0';
    char *end = NULL;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (errno || end != tmp + s.len || tmp[0] == ' ' || tmp[0] == '+') {
        return false;
    }
    *out = (int64_t)v;
    return true;
}

/* equals: true | 200 | 0.5 | {bool_value | int_value | double_value |
 * bytes_value | hex_value}; gt/gte/lt/lte: 5 | 0.5 | {int_value |
 * double_value}. */
static bool parse_typed(lctx *lc, const sl_node *n, sl__typed_op op,
                        sl_value *out, const char *ctx, const char *name) {
    memset(out, 0, sizeof(*out));
    sl_node_kind k = sl_node_kind_of(n);
    bool numeric_only = op != SL_TYPED_EQ;
    if (k == SL_NODE_BOOL && !numeric_only) {
        out->type = SL_VALUE_BOOL;
        out->b = sl_node_bool(n);
        return true;
    }
    if (k == SL_NODE_INT) {
        if (sl_node_int(n, &out->i) != SL_OK) {
            sl_str s = sl_node_str(n);
            char q[64];
            sl__quote(q, sizeof(q), s.ptr, s.len);
            problem(lc, n, "%s%s: integer %s out of range", ctx, name, q);
            return false;
        }
        out->type = SL_VALUE_INT;
        return true;
    }
    if (k == SL_NODE_FLOAT) {
        if (sl_node_double(n, &out->d) != SL_OK || !isfinite(out->d)) {
            sl_str s = sl_node_str(n);
            char q[64];
            sl__quote(q, sizeof(q), s.ptr, s.len);
            problem(lc, n, "%s%s: number %s out of range", ctx, name, q);
            return false;
        }
        out->type = SL_VALUE_DOUBLE;
        return true;
    }
    if (k == SL_NODE_STRING && !numeric_only) {
        problem(lc, n, "%s%s: string values are not supported (use exact)", ctx,
                name);
        return false;
    }
    if (k != SL_NODE_OBJECT) {
        problem(lc, n, "%s%s must be %s", ctx, name,
                numeric_only ? "a number" : "a boolean, a number or a value");
        return false;
    }
    static const char *const names[] = {
        "bool_value", "int_value", "double_value", "bytes_value", "hex_value"};
    const sl_node *v[5];
    bool was_bad = lc->bad;
    lc->bad = false;
    char sub[128];
    snprintf(sub, sizeof(sub), "%s%s: ", ctx, name);
    collect(lc, n, names, numeric_only ? 3 : 5, v, sub, "value");
    bool failed = lc->bad;
    lc->bad = was_bad || failed;
    if (failed) {
        return false;
    }
    size_t count = 0, which = 0;
    for (size_t j = 0; j < (numeric_only ? 3u : 5u); j++) {
        if (v[j]) {
            count++;
            which = j;
        }
    }
    if (numeric_only && v[0]) {
        problem(lc, v[0], "%sbool_value is not a number", sub);
        return false;
    }
    if (count != 1) {
        problem(lc, n, "%s%s", sub,
                count ? "more than one value specified" : "empty value");
        return false;
    }
    const sl_node *x = v[which];
    switch (which) {
    case 0:
        if (sl_node_kind_of(x) != SL_NODE_BOOL) {
            problem(lc, x, "%sbool_value must be a boolean", sub);
            return false;
        }
        out->type = SL_VALUE_BOOL;
        out->b = sl_node_bool(x);
        return true;
    case 1:
        if (!int_from_node(x, &out->i)) {
            problem(lc, x, "%sint_value must be a 64-bit integer", sub);
            return false;
        }
        out->type = SL_VALUE_INT;
        return true;
    case 2:
        if (!get_double(lc, x, &out->d, sub, "double_value")) {
            return false;
        }
        out->type = SL_VALUE_DOUBLE;
        return true;
    case 3:
    case 4: {
        sl_str s;
        if (!get_string(lc, x, &s, sub, names[which])) {
            return false;
        }
        bool ok = which == 3 ? decode_b64(lc, s, &out->s)
                             : decode_hex(lc, s, &out->s);
        if (!ok) {
            if (lc->fatal == SL_OK) {
                problem(lc, x, "%s%s is not valid %s", sub, names[which],
                        which == 3 ? "base64" : "hex");
            }
            return false;
        }
        out->type = SL_VALUE_BYTES;
        return true;
    }
    default:
        return false;
    }
}

/* ---- matchers ---- */

static const sel_spec *signal_sels(sl_signal sig, size_t *n) {
    switch (sig) {
    case SL_SIGNAL_LOG:
        *n = SL_ARRAY_LEN(log_sels);
        return log_sels;
    case SL_SIGNAL_METRIC:
        *n = SL_ARRAY_LEN(metric_sels);
        return metric_sels;
    default:
        *n = SL_ARRAY_LEN(trace_sels);
        return trace_sels;
    }
}

static bool parse_matcher(lctx *lc, sl_signal sig, const sl_node *m, size_t idx,
                          sl__matcher *out) {
    char ctx[64];
    snprintf(ctx, sizeof(ctx), "%s: match[%zu]: ", lc->sig, idx);
    size_t nsel = 0;
    const sel_spec *sels = signal_sels(sig, &nsel);
    const char *names[32];
    size_t n = 0;
    for (size_t j = 0; j < nsel; j++) {
        names[n++] = sels[j].name;
    }
    for (size_t j = 0; j < M_COUNT; j++) {
        names[n++] = match_names[j];
    }
    names[n++] = "negate";
    names[n++] = "case_insensitive";
    const sl_node *vals[32];
    bool was_bad = lc->bad;
    lc->bad = false;
    if (!collect(lc, m, names, n, vals, ctx, "matcher")) {
        lc->bad = true;
        return false;
    }
    memset(out, 0, sizeof(*out));
    /* positions are computed only when reporting (sl_node_pos walks the
     * text): a pattern set error after these checks has no position */
    const char *implicit = NULL;
    size_t ilen = 0;
    parse_selector(lc, m, sels, nsel, vals, &out->field, &implicit, &ilen, ctx);
    get_bool(lc, vals[nsel + M_COUNT], &out->negate, ctx, "negate");
    get_bool(lc, vals[nsel + M_COUNT + 1], &out->caseless, ctx,
             "case_insensitive");
    const sl_node *const *mv = vals + nsel;
    if (implicit) {
        /* "assume matcher for enum values" (policy-rs 1.4.2): the value is
         * the match, an explicit condition beside it is not consulted */
        out->kind = SL_MATCHER_PATTERN;
        out->pat_kind = SL_PAT_EXACT;
        out->text = implicit;
        out->len = ilen;
    } else if (!lc->bad) {
        size_t count = 0, which = 0;
        for (size_t j = 0; j < M_COUNT; j++) {
            if (mv[j]) {
                count++;
                which = j;
            }
        }
        if (count == 0) {
            problem(lc, m, "%sno match condition specified", ctx);
        } else if (count > 1) {
            problem(lc, m, "%smultiple match conditions specified", ctx);
        } else if (which == M_EXISTS) {
            out->kind = SL_MATCHER_EXISTS;
            get_bool(lc, mv[which], &out->should_exist, ctx, "exists");
        } else if (which >= M_EQUALS) {
            static const sl__typed_op ops[] = {SL_TYPED_EQ, SL_TYPED_GT,
                                               SL_TYPED_GTE, SL_TYPED_LT,
                                               SL_TYPED_LTE};
            out->kind = SL_MATCHER_TYPED;
            out->typed.op = ops[which - M_EQUALS];
            parse_typed(lc, mv[which], out->typed.op, &out->typed.lit, ctx,
                        match_names[which]);
        } else {
            static const sl_pat_kind kinds[] = {[M_EXACT] = SL_PAT_EXACT,
                                                [M_REGEX] = SL_PAT_REGEX,
                                                [M_STARTS] = SL_PAT_PREFIX,
                                                [M_ENDS] = SL_PAT_SUFFIX,
                                                [M_CONTAINS] = SL_PAT_CONTAINS};
            sl_str s;
            if (get_string(lc, mv[which], &s, ctx, match_names[which])) {
                out->kind = SL_MATCHER_PATTERN;
                out->pat_kind = kinds[which];
                out->text = copy_str(lc, s);
                out->len = s.len;
                sl_pat p = {.kind = out->pat_kind,
                            .flags = out->caseless ? SL_PAT_CASELESS : 0u,
                            .text = s.ptr,
                            .len = s.len};
                sl_error e = {0};
                /* a non-empty literal always compiles; exact matchers
                 * never reach Vectorscan (compile.c), so exact "" is
                 * accepted and never matches (values are never empty), as
                 * upstream's `^$` */
                bool check = out->pat_kind == SL_PAT_REGEX ||
                             (s.len == 0 && out->pat_kind != SL_PAT_EXACT);
                sl_status rc =
                    check ? sl__pat_check_width(&p, &out->width_hint, &e)
                          : SL_OK;
                if (rc == SL_ENOMEM) {
                    lc->fatal = SL_ENOMEM;
                } else if (rc != SL_OK) {
                    problem(lc, mv[which], "%s%s", ctx, e.msg);
                }
            }
        }
    }
    bool ok = !lc->bad;
    lc->bad = was_bad || !ok;
    return ok;
}

/* ---- transforms ---- */

static const char *const tsel_names[] = {
    "log_field", "log_attribute", "resource_attribute", "scope_attribute"};

/* The selectors of a transform: log_field or one of the attribute paths
 * (vals[0..4)). */
static bool parse_tfield(lctx *lc, const sl_node *obj,
                         const sl_node *const *vals, sl_field *f,
                         const char *ctx) {
    return parse_selector(lc, obj, log_sels, 4, vals, f, NULL, NULL, ctx);
}

static sl_status push_op(lctx *lc, sl__op **ops, uint32_t *n,
                         const sl__op *op) {
    uint32_t *cap = &lc->ops_cap;
    if (*n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 4;
        if (nc > SL_POLICY_MAX_MATCHERS * 4) {
            problem(lc, NULL, "%s: transform: too many operations", lc->sig);
            return SL_ELIMIT;
        }
        sl__op *p = sl__realloc(*ops, *cap * sizeof(*p), nc * sizeof(*p));
        if (!p) {
            lc->fatal = SL_ENOMEM;
            return SL_ENOMEM;
        }
        *ops = p;
        *cap = nc;
    }
    (*ops)[(*n)++] = *op;
    return SL_OK;
}

/* One list of a transform: an array of objects (a single object is taken
 * as a list of one). */
static const sl_node *list_at(const sl_node *list, size_t i) {
    if (sl_node_kind_of(list) == SL_NODE_OBJECT) {
        return i == 0 ? list : NULL;
    }
    return sl_node_at(list, i);
}

static size_t list_len(lctx *lc, const sl_node *list, const char *name) {
    if (!list) {
        return 0;
    }
    sl_node_kind k = sl_node_kind_of(list);
    if (k == SL_NODE_OBJECT) {
        return 1;
    }
    if (k != SL_NODE_ARRAY) {
        problem(lc, list, "%s: transform: %s must be an array", lc->sig, name);
        return 0;
    }
    return sl_node_len(list);
}

static void parse_transform(lctx *lc, const sl_node *t, sl__op **ops,
                            uint32_t *nops) {
    static const char *const names[] = {"remove", "redact", "rename", "add"};
    const sl_node *lists[4];
    if (!collect(lc, t, names, 4, lists, "log: transform: ", "transform")) {
        return;
    }
    char ctx[80];
    /* remove */
    size_t n = list_len(lc, lists[0], "remove");
    for (size_t i = 0; i < n && !lc->fatal; i++) {
        snprintf(ctx, sizeof(ctx), "log: transform: remove[%zu]: ", i);
        const sl_node *o = list_at(lists[0], i);
        const sl_node *v[4];
        if (!collect(lc, o, tsel_names, 4, v, ctx, "operation")) {
            continue;
        }
        sl__op op = {.kind = SL_OP_REMOVE};
        if (parse_tfield(lc, o, v, &op.field, ctx)) {
            push_op(lc, ops, nops, &op);
        }
    }
    /* redact */
    n = list_len(lc, lists[1], "redact");
    for (size_t i = 0; i < n && !lc->fatal; i++) {
        snprintf(ctx, sizeof(ctx), "log: transform: redact[%zu]: ", i);
        static const char *const rn[] = {
            "log_field",       "log_attribute", "resource_attribute",
            "scope_attribute", "replacement",   "regex"};
        const sl_node *o = list_at(lists[1], i);
        const sl_node *v[6];
        if (!collect(lc, o, rn, 6, v, ctx, "operation")) {
            continue;
        }
        sl__op op = {.kind = SL_OP_REDACT};
        bool ok = parse_tfield(lc, o, v, &op.field, ctx);
        sl_str s = {"", 0};
        if (v[4] && !get_string(lc, v[4], &s, ctx, "replacement")) {
            ok = false;
        }
        op.value = copy_str(lc, s);
        op.value_len = s.len;
        if (v[5]) {
            sl_str re;
            if (!get_string(lc, v[5], &re, ctx, "regex")) {
                ok = false;
            } else {
                sl_error e = {0};
                sl_status rc = sl_regex_compile(re.ptr, re.len, 0, &op.re, &e);
                if (rc == SL_ENOMEM) {
                    lc->fatal = SL_ENOMEM;
                    ok = false;
                } else if (rc != SL_OK) {
                    problem(lc, v[5], "%s%s", ctx, e.msg);
                    ok = false;
                }
            }
        }
        if (!ok || !op.value || push_op(lc, ops, nops, &op) != SL_OK) {
            sl_regex_free(op.re);
        }
    }
    /* rename */
    n = list_len(lc, lists[2], "rename");
    for (size_t i = 0; i < n && !lc->fatal; i++) {
        snprintf(ctx, sizeof(ctx), "log: transform: rename[%zu]: ", i);
        static const char *const rn[] = {"from_log_field",
                                         "from_log_attribute",
                                         "from_resource_attribute",
                                         "from_scope_attribute",
                                         "to",
                                         "upsert"};
        const sl_node *o = list_at(lists[2], i);
        const sl_node *v[6];
        if (!collect(lc, o, rn, 6, v, ctx, "operation")) {
            continue;
        }
        sl__op op = {.kind = SL_OP_RENAME};
        bool ok = parse_tfield(lc, o, v, &op.field, ctx);
        sl_str to = {"", 0};
        if (!v[4]) {
            problem(lc, o, "%smissing to", ctx);
            ok = false;
        } else if (!get_string(lc, v[4], &to, ctx, "to")) {
            ok = false;
        } else if (to.len == 0) {
            problem(lc, v[4], "%sto is empty", ctx);
            ok = false;
        }
        ok = get_bool(lc, v[5], &op.upsert, ctx, "upsert") && ok;
        if (ok) {
            sl_str *seg = sl__arena_alloc(&lc->set->arena, sizeof(*seg));
            const char *p = copy_str(lc, to);
            if (!seg || !p) {
                lc->fatal = SL_ENOMEM;
                continue;
            }
            seg->ptr = p;
            seg->len = to.len;
            /* the target lives in the source's namespace; a simple log
             * field renames into a log attribute */
            op.to.kind = op.field.kind == SL_FIELD_RESOURCE_ATTR ||
                                 op.field.kind == SL_FIELD_SCOPE_ATTR
                             ? op.field.kind
                             : SL_FIELD_ATTR;
            op.to.path = seg;
            op.to.path_len = 1;
            push_op(lc, ops, nops, &op);
        }
    }
    /* add */
    n = list_len(lc, lists[3], "add");
    for (size_t i = 0; i < n && !lc->fatal; i++) {
        snprintf(ctx, sizeof(ctx), "log: transform: add[%zu]: ", i);
        static const char *const an[] = {
            "log_field",       "log_attribute", "resource_attribute",
            "scope_attribute", "value",         "upsert"};
        const sl_node *o = list_at(lists[3], i);
        const sl_node *v[6];
        if (!collect(lc, o, an, 6, v, ctx, "operation")) {
            continue;
        }
        sl__op op = {.kind = SL_OP_ADD};
        bool ok = parse_tfield(lc, o, v, &op.field, ctx);
        sl_str s = {"", 0};
        if (v[4] && !get_string(lc, v[4], &s, ctx, "value")) {
            ok = false;
        }
        ok = get_bool(lc, v[5], &op.upsert, ctx, "upsert") && ok;
        op.value = copy_str(lc, s);
        op.value_len = s.len;
        if (ok && op.value) {
            push_op(lc, ops, nops, &op);
        }
    }
}

/* ---- targets ---- */

static void parse_matchers(lctx *lc, sl_signal sig, const sl_node *list,
                           const sl_node *target, sl__policy *p) {
    if (!list ||
        (sl_node_kind_of(list) == SL_NODE_ARRAY && sl_node_len(list) == 0)) {
        problem(lc, list ? list : target, "%s: no matchers specified", lc->sig);
        return;
    }
    if (sl_node_kind_of(list) != SL_NODE_ARRAY) {
        problem(lc, list, "%s: match must be an array", lc->sig);
        return;
    }
    size_t n = sl_node_len(list);
    if (n > SL_POLICY_MAX_MATCHERS) {
        problem(lc, list, "%s: more than %d matchers", lc->sig,
                SL_POLICY_MAX_MATCHERS);
        return;
    }
    p->matchers = sl__arena_calloc(&lc->set->arena, n * sizeof(sl__matcher));
    if (!p->matchers) {
        lc->fatal = SL_ENOMEM;
        return;
    }
    for (size_t i = 0; i < n && !lc->fatal; i++) {
        if (parse_matcher(lc, sig, sl_node_at(list, i), i,
                          &p->matchers[p->nmatchers])) {
            p->nmatchers++;
        }
    }
}

static void parse_log(lctx *lc, const sl_node *t, sl__policy *p, sl__op **ops) {
    static const char *const names[] = {"match", "keep", "transform",
                                        "sample_key"};
    const sl_node *v[4];
    if (!collect(lc, t, names, 4, v, "log: ", "log")) {
        return;
    }
    parse_matchers(lc, SL_SIGNAL_LOG, v[0], t, p);
    p->keep.kind = SL_KEEP_ALL;
    if (v[1]) {
        sl_str s;
        char msg[160];
        if (sl_node_kind_of(v[1]) != SL_NODE_STRING) {
            problem(lc, v[1], "log: keep: must be a string");
        } else if (s = sl_node_str(v[1]),
                   !sl__policy_parse_keep(s.ptr, s.len, &p->keep, msg,
                                          sizeof(msg))) {
            problem(lc, v[1], "log: keep: %s", msg);
        }
    }
    if (v[2]) {
        parse_transform(lc, v[2], ops, &p->nops);
    }
    if (v[3]) {
        const sl_node *sv[4];
        if (collect(lc, v[3], tsel_names, 4, sv,
                    "log: sample_key: ", "sample_key") &&
            parse_tfield(lc, v[3], sv, &p->sample_key, "log: sample_key: ")) {
            p->has_sample_key = true;
        }
    }
}

static void parse_metric(lctx *lc, const sl_node *t, sl__policy *p) {
    static const char *const names[] = {"match", "keep"};
    const sl_node *v[2];
    if (!collect(lc, t, names, 2, v, "metric: ", "metric")) {
        return;
    }
    parse_matchers(lc, SL_SIGNAL_METRIC, v[0], t, p);
    bool keep = false; /* proto3 default: a metric policy drops */
    if (v[1] && sl_node_kind_of(v[1]) != SL_NODE_BOOL) {
        problem(lc, v[1], "metric: keep: must be a boolean");
    } else if (v[1]) {
        keep = sl_node_bool(v[1]);
    }
    p->keep.kind = keep ? SL_KEEP_ALL : SL_KEEP_NONE;
}

static void parse_trace(lctx *lc, const sl_node *t, sl__policy *p) {
    static const char *const names[] = {"match", "keep"};
    const sl_node *v[2];
    if (!collect(lc, t, names, 2, v, "trace: ", "trace")) {
        return;
    }
    parse_matchers(lc, SL_SIGNAL_TRACE, v[0], t, p);
    p->keep.kind = SL_KEEP_ALL;
    p->mode = SL_MODE_HASH_SEED;
    p->precision = 4;
    p->seed = 0;
    p->fail_closed = true;
    if (!v[1]) {
        return;
    }
    static const char *const kn[] = {"percentage", "mode", "sampling_precision",
                                     "hash_seed", "fail_closed"};
    const sl_node *k[5];
    const char *ctx = "trace: keep: ";
    if (!collect(lc, v[1], kn, 5, k, ctx, "keep")) {
        return;
    }
    double pct = 0; /* proto3 default */
    if (k[0] && get_double(lc, k[0], &pct, ctx, "percentage")) {
        pct = (double)(float)pct; /* proto float is f32, widened */
    }
    if (k[1]) {
        const enum_val *e = get_enum(lc, k[1], &def_mode, ctx);
        if (e) {
            p->mode = (sl__sampling_mode)e->value;
        }
    }
    if (k[2] && get_u32(lc, k[2], &p->precision, ctx, "sampling_precision")) {
        p->precision = p->precision < 1    ? 1
                       : p->precision > 14 ? 14
                                           : p->precision;
    }
    if (k[3]) {
        get_u32(lc, k[3], &p->seed, ctx, "hash_seed");
    }
    get_bool(lc, k[4], &p->fail_closed, ctx, "fail_closed");
    if (pct >= 100.0) {
        p->keep.kind = SL_KEEP_ALL;
    } else if (pct <= 0.0 || pct != pct) {
        p->keep.kind = SL_KEEP_NONE;
    } else {
        p->keep.kind = SL_KEEP_PERCENT;
        p->keep.ratio = pct / 100.0;
    }
}

/* ---- policies ---- */

static void free_ops(sl__op *ops, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        sl_regex_free(ops[i].re);
    }
}

/* Order the parsed ops remove, redact, rename, add (they were parsed in
 * that order already) and copy them into the arena. */
static bool keep_ops(lctx *lc, sl__policy *p, sl__op *ops) {
    if (p->nops == 0) {
        return true;
    }
    p->ops = sl__arena_alloc(&lc->set->arena, p->nops * sizeof(sl__op));
    if (!p->ops) {
        lc->fatal = SL_ENOMEM;
        return false;
    }
    memcpy(p->ops, ops, p->nops * sizeof(sl__op));
    return true;
}

static sl_status push_policy(sl__policy_vec *v, const sl__policy *p) {
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 16;
        sl__policy *np =
            sl__realloc(v->v, v->cap * sizeof(*np), nc * sizeof(*np));
        if (!np) {
            return SL_ENOMEM;
        }
        v->v = np;
        v->cap = nc;
    }
    v->v[v->n++] = *p;
    return SL_OK;
}

static void parse_policy(lctx *lc, const sl_node *pn, size_t idx,
                         sl__policy_vec *out) {
    static const char *const names[] = {"id",
                                        "name",
                                        "description",
                                        "enabled",
                                        "created_at_unix_nano",
                                        "modified_at_unix_nano",
                                        "labels",
                                        "log",
                                        "metric",
                                        "trace"};
    const sl_node *v[10];
    lc->bad = false;
    lc->sig = NULL;
    lc->ops_cap = 0;
    snprintf(lc->pid, sizeof(lc->pid), "policy [%zu]", idx);
    /* the id names the policy in every message: read it first */
    const sl_node *idn =
        sl_node_kind_of(pn) == SL_NODE_OBJECT ? sl_node_get(pn, "id") : NULL;
    if (idn && sl_node_kind_of(idn) == SL_NODE_STRING &&
        sl_node_str(idn).len > 0) {
        sl_str s = sl_node_str(idn);
        snprintf(lc->pid, sizeof(lc->pid), "policy %.*s",
                 (int)(s.len > 64 ? 64 : s.len), s.ptr);
    }
    if (!collect(lc, pn, names, 10, v, "", "policy")) {
        return;
    }
    sl__policy p = {0};
    p.enabled = true;
    p.node = pn;
    p.doc = lc->doc;
    p.seq = (uint32_t)out->n;
    sl_str id = {"", 0};
    if (!v[0]) {
        problem(lc, pn, "missing id");
    } else if (get_string(lc, v[0], &id, "", "id") && id.len == 0) {
        problem(lc, v[0], "id is empty");
    }
    sl_str ignored;
    if (v[1]) {
        get_string(lc, v[1], &ignored, "", "name");
    }
    if (v[2]) {
        get_string(lc, v[2], &ignored, "", "description");
    }
    get_bool(lc, v[3], &p.enabled, "", "enabled");
    for (int j = 4; j <= 5; j++) {
        double d;
        if (v[j]) {
            get_double(lc, v[j], &d, "", names[j]);
        }
    }
    if (v[6] && sl_node_kind_of(v[6]) != SL_NODE_ARRAY) {
        problem(lc, v[6], "labels must be an array");
    }
    int targets = (v[7] != NULL) + (v[8] != NULL) + (v[9] != NULL);
    sl__op *ops = NULL;
    if (targets == 0) {
        problem(lc, pn, "no target specified (log, metric or trace)");
    } else if (targets > 1) {
        problem(lc, pn, "multiple targets specified");
    } else if (v[7]) {
        lc->sig = "log";
        p.signal = SL_SIGNAL_LOG;
        parse_log(lc, v[7], &p, &ops);
    } else if (v[8]) {
        lc->sig = "metric";
        p.signal = SL_SIGNAL_METRIC;
        parse_metric(lc, v[8], &p);
    } else {
        lc->sig = "trace";
        p.signal = SL_SIGNAL_TRACE;
        parse_trace(lc, v[9], &p);
    }
    if (!lc->bad && !lc->fatal) {
        p.id = copy_str(lc, id);
        p.id_len = id.len;
        p.restrict_ = sl__policy_restrictiveness(&p.keep);
        if (p.id && keep_ops(lc, &p, ops)) {
            if (push_policy(out, &p) != SL_OK) {
                lc->fatal = SL_ENOMEM;
            } else {
                sl__free(ops, lc->ops_cap * sizeof(sl__op));
                return; /* the regexes now belong to the set */
            }
        }
    }
    free_ops(ops, p.nops);
    sl__free(ops, lc->ops_cap * sizeof(sl__op));
}

sl_status sl__policy_parse_doc(sl_policy_set *set, const sl_doc *doc,
                               sl__policy_vec *pols, sl_error *err) {
    lctx lc = {.set = set, .doc = doc};
    const sl_node *root = sl_doc_root(doc);
    const sl_node *list = sl_node_kind_of(root) == SL_NODE_OBJECT
                              ? sl_node_get(root, "policies")
                              : NULL;
    if (!list || sl_node_kind_of(list) != SL_NODE_ARRAY) {
        sl_pos pos = sl_node_pos(doc, list ? list : root);
        if (!root) {
            pos.file = sl_doc_file(doc);
        }
        return sl__error(err, SL_ESCHEMA, &pos,
                         "expected an object with a \"policies\" array");
    }
    for (size_t i = 0; i < sl_node_len(root); i++) {
        sl_str k = sl_node_key(root, i);
        if (!(k.len == 8 && memcmp(k.ptr, "policies", 8) == 0)) {
            char q[64];
            sl__quote(q, sizeof(q), k.ptr, k.len);
            sl_pos pos = sl_node_key_pos(doc, root, i);
            sl_error e = {0};
            sl__error(&e, SL_ESCHEMA, &pos, "unknown field %s", q);
            if (sl__errlist_push(&set->problems, &e) != SL_OK) {
                return sl__nomem(err);
            }
        }
    }
    size_t n = sl_node_len(list);
    if (n > SL_POLICY_MAX_POLICIES) {
        sl_pos pos = sl_node_pos(doc, list);
        return sl__error(err, SL_ELIMIT, &pos, "more than %d policies",
                         SL_POLICY_MAX_POLICIES);
    }
    for (size_t i = 0; i < n; i++) {
        parse_policy(&lc, sl_node_at(list, i), i, pols);
        if (lc.fatal != SL_OK) {
            return sl__nomem(err);
        }
    }
    return SL_OK;
}

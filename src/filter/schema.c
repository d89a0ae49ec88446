/* src/filter/schema.c: one filter source (TOML text) checked against the
 * trace-filter schema and appended to a chain: [meta], [io], [scope],
 * [[scope.rules]], [[scope.rules.value_patterns]]. Parsing the TOML is the
 * doc module's; compiling the selectors into sets is chain.c's.
 *
 * The one idea: the loader reports every problem it finds (each with
 * file:line:col and upstream's message verbatim, reference §1.8), and a
 * source with any problem leaves the chain exactly as it was. Upstream's
 * "failed to parse trace filter" covers what serde rejects (unknown keys,
 * wrong types, missing keys); the wording after that prefix is sluice's. */
#include <sluice/filter.h>

#include <stdio.h>

#include "base/base.h"
#include "filter/private.h"

typedef struct loader {
    sl_filter *f;
    sl_doc *doc;
    const char *path; /* as displayed: absolute path or <inline:NAME> */
    const char *root;
    bool trusted; /* an embedded built-in: patterns are not compiled one by
                     one (sealing compiles them anyway; halves load time) */
    sl_error *err;
    sl_status first;
    size_t problems;
} loader;

static void problem(loader *ld, sl_status code, const sl_node *at,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void problem(loader *ld, sl_status code, const sl_node *at,
                    const char *fmt, ...) {
    sl_pos pos = at ? sl_node_pos(ld->doc, at) : (sl_pos){ld->path, 0, 0};
    pos.file = ld->path;
    sl_error e = {0};
    va_list ap;
    va_start(ap, fmt);
    sl__verror(&e, code, &pos, fmt, ap);
    va_end(ap);
    if (ld->problems == 0) {
        ld->first = code;
        if (ld->err) {
            *ld->err = e;
        }
    }
    ld->problems++;
    if (ld->f->report) {
        ld->f->report(&e, ld->f->report_ctx);
    }
}

static void problem_key(loader *ld, const sl_node *obj, size_t i,
                        const char *where) {
    sl_pos pos = sl_node_key_pos(ld->doc, obj, i);
    pos.file = ld->path;
    sl_str k = sl_node_key(obj, i);
    char q[64];
    sl__filter_squote(q, sizeof(q), k.ptr, k.len);
    sl_error e = {0};
    sl__error(&e, SL_ESCHEMA, &pos,
              "failed to parse trace filter '%s': unknown field %s in %s",
              ld->path, q, where);
    if (ld->problems == 0) {
        ld->first = SL_ESCHEMA;
        if (ld->err) {
            *ld->err = e;
        }
    }
    ld->problems++;
    if (ld->f->report) {
        ld->f->report(&e, ld->f->report_ctx);
    }
}

/* Reject keys of obj not in the NULL-terminated list. */
static void only_keys(loader *ld, const sl_node *obj, const char *where,
                      const char *const *keys) {
    for (size_t i = 0; i < sl_node_len(obj); i++) {
        sl_str k = sl_node_key(obj, i);
        bool ok = false;
        for (const char *const *p = keys; *p; p++) {
            if (strlen(*p) == k.len && memcmp(*p, k.ptr, k.len) == 0) {
                ok = true;
            }
        }
        if (!ok) {
            problem_key(ld, obj, i, where);
        }
    }
}

static void wrong_type(loader *ld, const sl_node *n, const char *field,
                       const char *want) {
    problem(ld, SL_ESCHEMA, n,
            "failed to parse trace filter '%s': '%s' must be %s, found %s",
            ld->path, field, want, sl_node_kind_name(sl_node_kind_of(n)));
}

static void missing(loader *ld, const sl_node *table, const char *field) {
    problem(ld, SL_ESCHEMA, table,
            "failed to parse trace filter '%s': missing field '%s'", ld->path,
            field);
}

/* A string member: NULL when absent (reported when required) or not a
 * string (reported). */
static const sl_node *get_string(loader *ld, const sl_node *obj,
                                 const char *key, const char *field,
                                 bool required) {
    const sl_node *n = sl_node_get(obj, key);
    if (!n) {
        if (required) {
            missing(ld, obj, field);
        }
        return NULL;
    }
    if (sl_node_kind_of(n) != SL_NODE_STRING) {
        wrong_type(ld, n, field, "a string");
        return NULL;
    }
    return n;
}

static const char *dup_str(loader *ld, const sl_node *n) {
    sl_str s = sl_node_str(n);
    const char *d = sl__arena_strndup(&ld->f->arena, s.ptr, s.len);
    if (!d) {
        problem(ld, SL_ENOMEM, NULL, "out of memory");
    }
    return d;
}

static bool str_is(sl_str s, const char *lit) {
    return strlen(lit) == s.len && memcmp(s.ptr, lit, s.len) == 0;
}

/* exec: "trace" | "skip" | "inherit" -> 0, 1, SL__EXEC_UNSET; -2 bad */
static int parse_exec(sl_str s) {
    if (str_is(s, "trace")) {
        return SL_FILTER_TRACE;
    }
    if (str_is(s, "skip")) {
        return SL_FILTER_SKIP;
    }
    if (str_is(s, "inherit")) {
        return SL__EXEC_UNSET;
    }
    return -2;
}

/* action: allow | redact | deny (alias of redact) | drop | inherit */
static int parse_action(sl_str s, bool allow_inherit) {
    if (str_is(s, "allow")) {
        return SL_FILTER_ALLOW;
    }
    if (str_is(s, "redact") || str_is(s, "deny")) {
        return SL_FILTER_REDACT;
    }
    if (str_is(s, "drop")) {
        return SL_FILTER_DROP;
    }
    if (allow_inherit && str_is(s, "inherit")) {
        return SL__ACT_UNSET;
    }
    return -2;
}

static void bad_value(loader *ld, const sl_node *n, const char *field,
                      const char *loc) {
    sl_str s = sl_node_str(n);
    char q[64];
    sl__filter_squote(q, sizeof(q), s.ptr, s.len);
    problem(ld, SL_ESCHEMA, n, "unsupported value %s for '%s' in %s", q, field,
            loc);
}

static sl_status grow(void **arr, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) {
        return SL_OK;
    }
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need) {
        nc *= 2;
    }
    size_t bytes;
    if (__builtin_mul_overflow(nc, size, &bytes)) {
        return SL_ELIMIT;
    }
    void *p = sl__realloc(*arr, *cap * size, bytes);
    if (!p) {
        return SL_ENOMEM;
    }
    *arr = p;
    *cap = nc;
    return SL_OK;
}

static void load_meta(loader *ld, const sl_node *root, sl__fsource *src) {
    const sl_node *meta = sl_node_get(root, "meta");
    if (!meta) {
        missing(ld, root, "meta");
        return;
    }
    if (sl_node_kind_of(meta) != SL_NODE_OBJECT) {
        wrong_type(ld, meta, "meta", "a table");
        return;
    }
    static const char *const keys[] = {"name", "version", "description",
                                       "labels", NULL};
    only_keys(ld, meta, "'meta'", keys);
    const sl_node *name = get_string(ld, meta, "name", "meta.name", true);
    if (name) {
        sl_str s = sl_node_str(name);
        size_t b = 0, e = s.len;
        while (b < e &&
               (s.ptr[b] == ' ' || (s.ptr[b] >= '\t' && s.ptr[b] <= '\r'))) {
            b++;
        }
        while (e > b && (s.ptr[e - 1] == ' ' ||
                         (s.ptr[e - 1] >= '\t' && s.ptr[e - 1] <= '\r'))) {
            e--;
        }
        if (b == e) {
            problem(ld, SL_ESCHEMA, name,
                    "'meta.name' must not be empty in '%s'", ld->path);
        }
        src->name = dup_str(ld, name);
    }
    const sl_node *ver = sl_node_get(meta, "version");
    if (!ver) {
        missing(ld, meta, "version");
    } else if (sl_node_kind_of(ver) != SL_NODE_INT) {
        wrong_type(ld, ver, "meta.version", "an integer");
    } else {
        int64_t v = 0;
        if (sl_node_int(ver, &v) != SL_OK || v < 0 || v > UINT32_MAX) {
            problem(ld, SL_ESCHEMA, ver,
                    "failed to parse trace filter '%s': 'meta.version' is "
                    "out of range for u32",
                    ld->path);
        } else if (v == 0) {
            problem(ld, SL_ESCHEMA, ver, "'meta.version' must be >= 1 in '%s'",
                    ld->path);
        } else if (v > 1) {
            problem(ld, SL_ESCHEMA, ver,
                    "trace filter '%s' declares 'meta.version = %lld' but "
                    "this recorder supports up to 1 (per spec § 11)",
                    ld->path, (long long)v);
        } else {
            src->version = (uint32_t)v;
        }
    }
    const sl_node *desc =
        get_string(ld, meta, "description", "meta.description", false);
    if (desc) {
        src->description = dup_str(ld, desc);
    }
    const sl_node *labels = sl_node_get(meta, "labels");
    if (labels && sl_node_kind_of(labels) != SL_NODE_ARRAY) {
        wrong_type(ld, labels, "meta.labels", "an array of strings");
    } else if (labels) {
        size_t n = sl_node_len(labels);
        src->labels = sl__arena_alloc(&ld->f->arena, (n + 1) * sizeof(char *));
        if (!src->labels) {
            problem(ld, SL_ENOMEM, NULL, "out of memory");
            return;
        }
        for (size_t i = 0; i < n; i++) {
            const sl_node *l = sl_node_at(labels, i);
            if (sl_node_kind_of(l) != SL_NODE_STRING) {
                wrong_type(ld, l, "meta.labels", "an array of strings");
                continue;
            }
            sl_str s = sl_node_str(l);
            bool dup = false; /* duplicates removed, first kept */
            for (size_t j = 0; j < src->nlabels; j++) {
                if (str_is(s, src->labels[j])) {
                    dup = true;
                }
            }
            if (!dup) {
                src->labels[src->nlabels++] = dup_str(ld, l);
            }
        }
    }
}

static void load_io(loader *ld, const sl_node *root, sl__fsource *src) {
    static const char *const streams[] = {"stdout", "stderr", "stdin", "files"};
    const sl_node *io = sl_node_get(root, "io");
    if (!io) {
        return;
    }
    if (sl_node_kind_of(io) != SL_NODE_OBJECT) {
        wrong_type(ld, io, "io", "a table");
        return;
    }
    static const char *const keys[] = {"capture", "streams", "modes", NULL};
    only_keys(ld, io, "'io'", keys);
    src->has_io = true;
    const sl_node *cap = sl_node_get(io, "capture");
    if (cap && sl_node_kind_of(cap) != SL_NODE_BOOL) {
        wrong_type(ld, cap, "io.capture", "a boolean");
    } else if (cap) {
        src->io_capture = sl_node_bool(cap);
    }
    const sl_node *st = sl_node_get(io, "streams");
    if (st && sl_node_kind_of(st) != SL_NODE_ARRAY) {
        wrong_type(ld, st, "io.streams", "an array of strings");
    } else if (st) {
        for (size_t i = 0; i < sl_node_len(st); i++) {
            const sl_node *s = sl_node_at(st, i);
            if (sl_node_kind_of(s) != SL_NODE_STRING) {
                wrong_type(ld, s, "io.streams", "an array of strings");
                continue;
            }
            sl_str v = sl_node_str(s);
            int which = -1;
            for (int k = 0; k < 4; k++) {
                if (str_is(v, streams[k])) {
                    which = k;
                }
            }
            if (which < 0) {
                char q[64];
                sl__filter_squote(q, sizeof(q), v.ptr, v.len);
                problem(ld, SL_ESCHEMA, s, "unsupported IO stream %s in '%s'",
                        q, ld->path);
            } else if (!(src->io_streams & (1u << which))) {
                src->io_streams |= 1u << which;
                src->io_order[src->nio++] = streams[which];
            }
        }
    }
    if (src->io_capture && src->nio == 0 && !(st && sl_node_len(st) > 0)) {
        problem(ld, SL_ESCHEMA, cap,
                "'io.streams' must be provided when 'io.capture = true' in "
                "'%s'",
                ld->path);
    }
    const sl_node *modes = sl_node_get(io, "modes");
    if (modes && sl_node_kind_of(modes) != SL_NODE_ARRAY) {
        wrong_type(ld, modes, "io.modes", "an array of strings");
    } else if (modes && sl_node_len(modes) > 0) {
        problem(ld, SL_ESCHEMA, modes,
                "'io.modes' is reserved and must be empty in '%s'", ld->path);
    }
}

/* The selector of a [[scope.rules]] entry, with file: patterns normalised
 * against the source's project root (reference §1.2). */
static bool scope_selector(loader *ld, const sl_node *n, const char *loc,
                           sl__selector *sel) {
    char msg[200] = "";
    sl_str s = sl_node_str(n);
    unsigned allowed =
        (1u << SL__SEL_PKG) | (1u << SL__SEL_FILE) | (1u << SL__SEL_OBJ);
    sl_status rc = sl__filter_selector_parse(&ld->f->arena, s.ptr, s.len,
                                             allowed, sel, msg, sizeof(msg));
    if (rc == SL_ENOMEM) {
        problem(ld, rc, n, "out of memory");
        return false;
    }
    if (rc != SL_OK) {
        problem(ld, rc, n, "invalid scope selector in %s: %s", loc, msg);
        return false;
    }
    sel->where = sl_node_pos(ld->doc, n);
    sel->where.file = ld->path;
    if (sel->kind == SL__SEL_FILE) {
        const char *p = sel->pat;
        char q[64];
        sl__filter_squote(q, sizeof(q), sel->pat, sel->pat_len);
        if (p[0] == '/') {
            const char *rest = NULL;
            if (!sl__filter_strip_prefix(p, ld->root, &rest)) {
                problem(ld, SL_ESCHEMA, n,
                        "file selector %s in %s must reside within project "
                        "root '%s'",
                        q, loc, ld->root);
                return false;
            }
            p = rest;
        }
        sl_buf nb = {0};
        bool ok = sl__filter_norm_path(p, strlen(p), true, &nb);
        if (nb.failed) {
            sl__buf_free(&nb);
            problem(ld, SL_ENOMEM, n, "out of memory");
            return false;
        }
        if (!ok) {
            sl__buf_free(&nb);
            problem(ld, SL_ESCHEMA, n,
                    "file selector %s in %s escapes the project root", q, loc);
            return false;
        }
        static const char *const mt[] = {"glob", "regex", "literal"};
        sl_buf rb = {0};
        sl__buf_printf(&rb, "file:%s:", mt[sel->match]);
        sl__buf_append(&rb, nb.ptr ? nb.ptr : "", nb.len);
        sl__buf_free(&nb);
        if (rb.failed) {
            sl__buf_free(&rb);
            problem(ld, SL_ENOMEM, n, "out of memory");
            return false;
        }
        sl_pos keep = sel->where;
        rc = sl__filter_selector_parse(&ld->f->arena, rb.ptr, rb.len, allowed,
                                       sel, msg, sizeof(msg));
        sl__buf_free(&rb);
        sel->where = keep;
        if (rc != SL_OK) {
            problem(ld, rc, n, "invalid scope selector in %s: %s", loc, msg);
            return false;
        }
    }
    rc = ld->trusted ? SL_OK : sl__filter_selector_check(sel, msg, sizeof(msg));
    if (rc == SL_ENOMEM) {
        problem(ld, rc, n, "out of memory");
        return false;
    }
    if (rc != SL_OK) {
        problem(ld, rc, n, "invalid scope selector in %s: %s", loc, msg);
        return false;
    }
    return true;
}

static void load_pattern(loader *ld, const sl_node *pn, const char *loc,
                         size_t j, uint32_t rule) {
    char ploc[400];
    snprintf(ploc, sizeof(ploc), "%s value_patterns[%zu]", loc, j);
    if (sl_node_kind_of(pn) != SL_NODE_OBJECT) {
        wrong_type(ld, pn, "scope.rules.value_patterns", "a table");
        return;
    }
    static const char *const keys[] = {"selector", "action", "reason", NULL};
    only_keys(ld, pn, ploc, keys);
    sl__fpattern p = {0};
    p.rule = rule;
    p.index = (uint32_t)j;
    p.action = -1;
    bool ok = true;
    const sl_node *sn = get_string(ld, pn, "selector", "selector", true);
    if (!sn) {
        ok = false;
    } else {
        char msg[200] = "";
        sl_str s = sl_node_str(sn);
        unsigned allowed = (1u << SL__SEL_LOCAL) | (1u << SL__SEL_GLOBAL) |
                           (1u << SL__SEL_ARG) | (1u << SL__SEL_RET) |
                           (1u << SL__SEL_ATTR);
        sl_status rc = sl__filter_selector_parse(
            &ld->f->arena, s.ptr, s.len, allowed, &p.sel, msg, sizeof(msg));
        if (rc == SL_OK) {
            p.sel.where = sl_node_pos(ld->doc, sn);
            p.sel.where.file = ld->path;
            rc = ld->trusted
                     ? SL_OK
                     : sl__filter_selector_check(&p.sel, msg, sizeof(msg));
        }
        if (rc != SL_OK) {
            problem(ld, rc, sn, "invalid value selector in %s: %s", ploc,
                    rc == SL_ENOMEM ? "out of memory" : msg);
            ok = false;
        }
    }
    const sl_node *an = get_string(ld, pn, "action", "action", true);
    if (!an) {
        ok = false;
    } else {
        int a = parse_action(sl_node_str(an), false);
        if (a < 0) {
            bad_value(ld, an, "action", ploc);
            ok = false;
        }
        p.action = (int8_t)a;
    }
    const sl_node *rn = get_string(ld, pn, "reason", "reason", false);
    if (rn) {
        p.reason = dup_str(ld, rn);
    }
    if (!ok) {
        return;
    }
    sl_filter *f = ld->f;
    if (f->npats >= SL__FILTER_MAX_PATTERNS) {
        problem(ld, SL_ELIMIT, pn, "too many value patterns (limit %d)",
                SL__FILTER_MAX_PATTERNS);
        return;
    }
    sl_status rc =
        grow((void **)&f->pats, &f->cpats, f->npats + 1, sizeof(*f->pats));
    if (rc != SL_OK) {
        problem(ld, rc, NULL, "out of memory");
        return;
    }
    f->pats[f->npats++] = p;
}

static void load_rule(loader *ld, const sl_node *rn, size_t i,
                      uint32_t source) {
    char loc[300];
    snprintf(loc, sizeof(loc), "%s scope.rules[%zu]", ld->path, i);
    if (sl_node_kind_of(rn) != SL_NODE_OBJECT) {
        wrong_type(ld, rn, "scope.rules", "an array of tables");
        return;
    }
    static const char *const keys[] = {
        "selector", "exec", "value_default", "reason", "value_patterns", NULL};
    char where[64];
    snprintf(where, sizeof(where), "'scope.rules[%zu]'", i);
    only_keys(ld, rn, where, keys);
    sl_filter *f = ld->f;
    sl__frule r = {0};
    r.exec = SL__EXEC_UNSET;
    r.vdef = SL__ACT_UNSET;
    r.source = source;
    r.index = (uint32_t)i;
    bool ok = true;
    const sl_node *sn = get_string(ld, rn, "selector", "selector", true);
    if (!sn || !scope_selector(ld, sn, loc, &r.sel)) {
        ok = false;
    }
    const sl_node *en = get_string(ld, rn, "exec", "exec", false);
    if (en) {
        int e = parse_exec(sl_node_str(en));
        if (e == -2) {
            bad_value(ld, en, "exec", loc);
            ok = false;
        } else {
            r.exec = (int8_t)e;
        }
    }
    const sl_node *vn =
        get_string(ld, rn, "value_default", "value_default", false);
    if (vn) {
        int a = parse_action(sl_node_str(vn), true);
        if (a == -2) {
            bad_value(ld, vn, "value_default", loc);
            ok = false;
        } else {
            r.vdef = (int8_t)a;
        }
    }
    const sl_node *reason = get_string(ld, rn, "reason", "reason", false);
    if (reason) {
        r.reason = dup_str(ld, reason);
    }
    uint32_t rule_no = (uint32_t)f->nrules;
    r.first_pattern = (uint32_t)f->npats;
    const sl_node *vp = sl_node_get(rn, "value_patterns");
    if (vp && sl_node_kind_of(vp) != SL_NODE_ARRAY) {
        wrong_type(ld, vp, "scope.rules.value_patterns", "an array of tables");
        ok = false;
    } else if (vp) {
        for (size_t j = 0; j < sl_node_len(vp); j++) {
            load_pattern(ld, sl_node_at(vp, j), loc, j, rule_no);
        }
    }
    r.npatterns = (uint32_t)(f->npats - r.first_pattern);
    if (!ok || ld->problems > 0) {
        return; /* the whole source is dropped anyway */
    }
    if (f->nrules >= SL__FILTER_MAX_RULES) {
        problem(ld, SL_ELIMIT, rn, "too many rules (limit %d)",
                SL__FILTER_MAX_RULES);
        return;
    }
    sl_status rc =
        grow((void **)&f->rules, &f->crules, f->nrules + 1, sizeof(*f->rules));
    if (rc != SL_OK) {
        problem(ld, rc, NULL, "out of memory");
        return;
    }
    f->rules[f->nrules++] = r;
}

static void load_scope(loader *ld, const sl_node *root, sl__fsource *src,
                       uint32_t source) {
    const sl_node *scope = sl_node_get(root, "scope");
    if (!scope) {
        missing(ld, root, "scope");
        return;
    }
    if (sl_node_kind_of(scope) != SL_NODE_OBJECT) {
        wrong_type(ld, scope, "scope", "a table");
        return;
    }
    static const char *const keys[] = {"default_exec", "default_value_action",
                                       "rules", NULL};
    only_keys(ld, scope, "'scope'", keys);
    char loc[300];
    snprintf(loc, sizeof(loc), "'%s'", ld->path);
    const sl_node *de =
        get_string(ld, scope, "default_exec", "scope.default_exec", true);
    if (de) {
        int e = parse_exec(sl_node_str(de));
        if (e == -2) {
            bad_value(ld, de, "scope.default_exec", loc);
        } else if (e == SL__EXEC_UNSET && ld->f->default_exec < 0) {
            problem(ld, SL_ESCHEMA, de,
                    "'scope.default_exec' in '%s' cannot inherit without a "
                    "previous filter",
                    ld->path);
        }
        src->default_exec = (int8_t)e;
    }
    const sl_node *dv = get_string(ld, scope, "default_value_action",
                                   "scope.default_value_action", true);
    if (dv) {
        int a = parse_action(sl_node_str(dv), true);
        if (a == -2) {
            bad_value(ld, dv, "scope.default_value_action", loc);
        } else if (a == SL__ACT_UNSET && ld->f->default_value < 0) {
            problem(ld, SL_ESCHEMA, dv,
                    "'scope.default_value_action' in '%s' cannot inherit "
                    "without a previous filter",
                    ld->path);
        }
        src->default_value = (int8_t)a;
    }
    const sl_node *rules = sl_node_get(scope, "rules");
    if (rules && sl_node_kind_of(rules) != SL_NODE_ARRAY) {
        wrong_type(ld, rules, "scope.rules", "an array of tables");
    } else if (rules) {
        for (size_t i = 0; i < sl_node_len(rules); i++) {
            load_rule(ld, sl_node_at(rules, i), i, source);
        }
    }
}

sl_status sl__filter_load_source(sl_filter *f, const char *path,
                                 const char *root, const char *text, size_t len,
                                 bool trusted, sl_error *err) {
    if (f->nsources >= SL__FILTER_MAX_SOURCES) {
        return sl__error(err, SL_ELIMIT, NULL,
                         "too many trace filter sources (limit %d)",
                         SL__FILTER_MAX_SOURCES);
    }
    loader ld = {
        .f = f, .path = path, .root = root, .trusted = trusted, .err = err};
    size_t nrules0 = f->nrules, npats0 = f->npats;
    sl__fsource src = {0};
    src.default_exec = SL__EXEC_UNSET;
    src.default_value = SL__ACT_UNSET;
    uint8_t sha[SL_SHA256_LEN];
    if (sl__sha256(text, len, sha) != SL_OK) {
        return sl__error(err, SL_ECRYPTO, NULL, "sha-256 failed");
    }
    sl__hex(sha, SL_SHA256_LEN, src.sha256);
    src.path = sl__arena_strndup(&f->arena, path, strlen(path));
    src.root = sl__arena_strndup(&f->arena, root, strlen(root));
    ld.doc = sl_doc_new();
    sl_status rc = SL_OK;
    if (!src.path || !src.root || !ld.doc) {
        rc = sl__nomem(err);
        goto done;
    }
    sl_error pe = {0};
    rc = sl_doc_load(ld.doc, text, len, SL_FORMAT_TOML, path, NULL, &pe);
    if (rc != SL_OK) {
        if (rc == SL_ENOMEM) {
            sl__nomem(err);
            goto done;
        }
        sl_pos pos = {path, pe.line, pe.col};
        sl_error e = {0};
        sl__error(&e, rc, &pos, "failed to parse trace filter '%s': %s", path,
                  pe.msg);
        if (err) {
            *err = e;
        }
        if (f->report) {
            f->report(&e, f->report_ctx);
        }
        goto done;
    }
    const sl_node *root_node = sl_doc_root(ld.doc);
    if (sl_node_kind_of(root_node) != SL_NODE_OBJECT) {
        problem(&ld, SL_ESCHEMA, root_node,
                "failed to parse trace filter '%s': not a table", path);
    } else {
        static const char *const keys[] = {"meta", "io", "scope", NULL};
        only_keys(&ld, root_node, "the top level", keys);
        load_meta(&ld, root_node, &src);
        load_io(&ld, root_node, &src);
        load_scope(&ld, root_node, &src, (uint32_t)f->nsources);
    }
    if (ld.problems > 0) {
        rc = ld.first;
        goto done;
    }
    rc = grow((void **)&f->sources, &f->csources, f->nsources + 1,
              sizeof(*f->sources));
    if (rc != SL_OK) {
        sl__error(err, rc, NULL, "out of memory");
        goto done;
    }
    src.first_rule = (uint32_t)nrules0;
    src.nrules = (uint32_t)(f->nrules - nrules0);
    /* merge the defaults: a later non-inherit value replaces the earlier */
    if (src.default_exec >= 0) {
        f->default_exec = src.default_exec;
    }
    if (src.default_value >= 0) {
        f->default_value = src.default_value;
        f->default_value_source = (uint32_t)f->nsources;
    }
    f->sources[f->nsources++] = src;
done:
    if (rc != SL_OK) {
        f->nrules = nrules0;
        f->npats = npats0;
    }
    sl_doc_free(ld.doc);
    return rc;
}

/* src/doc/tree.c: the document tree itself: load dispatch, node access,
 * positions and changes. The readers (json_read.c, toml.c, yaml.c) and
 * writers (json_write.c, tagged.c) live beside it and share private.h.
 * All memory belongs to the doc's arena; nothing is freed piecemeal. */
#include <sluice/doc.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "doc/private.h"
#include "doc/span.h"

static const char *const kind_names[] = {
    "null",   "bool",     "integer",        "float",      "string",    "array",
    "object", "datetime", "datetime-local", "date-local", "time-local"};

const char *sl_node_kind_name(sl_node_kind k) {
    if ((unsigned)k >= SL_ARRAY_LEN(kind_names)) {
        return "unknown";
    }
    return kind_names[k];
}

sl_doc *sl_doc_new(void) {
    sl_doc *doc = sl__calloc(1, sizeof(*doc));
    if (doc) {
        sl__arena_init(&doc->arena);
    }
    return doc;
}

void sl_doc_free(sl_doc *doc) {
    if (!doc) {
        return;
    }
    sl__arena_free(&doc->arena);
    sl__free(doc->stack, doc->stack_cap * sizeof(sl_node));
    sl__free(doc, sizeof(*doc));
}

static sl_status begin_load(sl_doc *doc, const char *text, size_t len,
                            const char *file, bool borrow, sl_error *err) {
    sl__arena_reset(&doc->arena);
    if (!borrow || text != doc->loc_text) {
        doc->loc_text = NULL; /* new text: forget sl__doc_locate's memo */
    }
    doc->root = NULL;
    doc->file = NULL;
    doc->text = NULL;
    doc->text_len = 0;
    if (len >= SL__NO_OFF || len > SL_MAX_INPUT) {
        sl_pos pos = {file, 0, 0};
        return sl__error(err, SL_ELIMIT, &pos, "input larger than 1 GiB");
    }
    if (file) {
        doc->file = sl__arena_strndup(&doc->arena, file, strlen(file));
        if (!doc->file) {
            return sl__nomem(err);
        }
    }
    if (borrow) {
        doc->text = text;
    } else {
        char *copy = sl__arena_strndup(&doc->arena, text ? text : "", len);
        if (!copy) {
            return sl__nomem(err);
        }
        doc->text = copy;
    }
    doc->text_len = len;
    return SL_OK;
}

sl_status sl_doc_load(sl_doc *doc, const char *text, size_t len, sl_format fmt,
                      const char *file, const sl_doc_opts *opts,
                      sl_error *err) {
    if (!doc || (!text && len > 0)) {
        return sl__error(err, SL_EINVAL, NULL, "no document or no text");
    }
    bool borrow = opts && opts->borrow;
    uint32_t depth = opts && opts->max_depth ? opts->max_depth : SL_MAX_DEPTH;
    doc->loc_text = NULL; /* a whole new document, even in the same buffer */
    sl_status rc = begin_load(doc, text, len, file, borrow, err);
    if (rc != SL_OK) {
        return rc;
    }
    switch (fmt) {
    case SL_FORMAT_TOML:
        rc = sl__toml_parse(doc, depth, err);
        break;
    case SL_FORMAT_YAML:
        rc = sl__yaml_parse(doc, depth, err);
        break;
    default:
        rc = sl__json_parse(doc, 0, NULL, depth, err);
        break;
    }
    if (rc != SL_OK) {
        doc->root = NULL;
    }
    return rc;
}

sl_status sl__doc_begin_text(sl_doc *doc, const char *text, size_t len,
                             const char *file, sl_error *err) {
    if (text != doc->loc_text) {
        doc->loc_text = NULL;
    }
    return begin_load(doc, text, len, file, true, err);
}

sl_status sl__doc_parse_at(sl_doc *doc, size_t off, sl_node **out,
                           sl_error *err) {
    sl_node *root = doc->root;
    size_t next = off;
    sl_status rc = sl__json_parse(doc, off, &next, SL_MAX_DEPTH, err);
    *out = rc == SL_OK ? doc->root : NULL;
    doc->root = root;
    return rc;
}

static bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

sl_status sl_doc_load_next(sl_doc *doc, const char *text, size_t len,
                           size_t *off, const char *file,
                           const sl_doc_opts *opts, sl_error *err) {
    if (!doc || !off || (!text && len > 0) || *off > len) {
        return sl__error(err, SL_EINVAL, NULL, "no document or bad offset");
    }
    size_t start = *off;
    if (start < doc->loc_off) {
        doc->loc_text = NULL; /* going back: the text may be new */
    }
    while (start < len && is_ws(text[start])) {
        start++;
    }
    if (start >= len) {
        *off = len;
        return SL_ENOTFOUND;
    }
    uint32_t depth = opts && opts->max_depth ? opts->max_depth : SL_MAX_DEPTH;
    sl_status rc = begin_load(doc, text, len, file, true, err);
    if (rc != SL_OK) {
        return rc;
    }
    size_t next = start;
    rc = sl__json_parse(doc, start, &next, depth, err);
    if (rc == SL_OK) {
        *off = next;
        return SL_OK;
    }
    doc->root = NULL;
    /* resume just past the line holding the error (the reader leaves the
     * error's byte offset in next) */
    size_t at = next > start ? next : start;
    while (at < len && text[at] != '\n') {
        at++;
    }
    *off = at < len ? at + 1 : len;
    return rc;
}

static sl_format format_of(const char *path) {
    const char *dot = strrchr(path, '.');
    if (!dot) {
        return SL_FORMAT_JSON;
    }
    if (strcmp(dot, ".toml") == 0) {
        return SL_FORMAT_TOML;
    }
    if (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0) {
        return SL_FORMAT_YAML;
    }
    return SL_FORMAT_JSON;
}

sl_status sl_doc_parse_file(const char *path, sl_format fmt,
                            const sl_doc_opts *opts, sl_doc **out,
                            sl_error *err) {
    if (!path || !out) {
        return sl__error(err, SL_EINVAL, NULL, "no path or no output");
    }
    char *text = NULL;
    size_t len = 0;
    sl_status rc = sl__read_file(path, &text, &len, err);
    if (rc != SL_OK) {
        return rc;
    }
    sl_doc *doc = sl_doc_new();
    if (!doc) {
        sl__free(text, len + 1);
        return sl__nomem(err);
    }
    if (fmt == SL_FORMAT_AUTO) {
        fmt = format_of(path);
    }
    sl_doc_opts o = opts ? *opts : (sl_doc_opts){0};
    o.borrow = false; /* the doc keeps its own copy; the buffer goes now */
    rc = sl_doc_load(doc, text, len, fmt,
                     strcmp(path, "-") == 0 ? "<stdin>" : path, &o, err);
    sl__free(text, len + 1);
    if (rc != SL_OK) {
        sl_doc_free(doc);
        return rc;
    }
    *out = doc;
    return SL_OK;
}

const sl_node *sl_doc_root(const sl_doc *doc) {
    return doc ? doc->root : NULL;
}

const char *sl_doc_file(const sl_doc *doc) {
    return doc ? doc->file : NULL;
}

/* ---- positions ---- */

void sl__doc_locate(const sl_doc *doc, size_t off, uint32_t *line,
                    uint32_t *col) {
    const char *t = doc->text;
    if (!t || off > doc->text_len) {
        *line = *col = 0;
        return;
    }
    uint32_t ln = 1;
    size_t i = 0, line_start = 0;
    if (doc->loc_text == t && doc->loc_off <= off) {
        i = doc->loc_off;
        ln = doc->loc_line;
        line_start = doc->loc_line_start;
    }
    for (;;) {
        const char *nl = memchr(t + i, '\n', off - i);
        if (!nl) {
            break;
        }
        ln++;
        i = (size_t)(nl - t) + 1;
        line_start = i;
    }
    /* the memo is a cache, not part of the doc's value: updating it
     * through a const pointer is safe (docs are never const objects) */
    sl_doc *memo = (sl_doc *)(uintptr_t)doc;
    memo->loc_text = t;
    memo->loc_off = off;
    memo->loc_line = ln;
    memo->loc_line_start = line_start;
    *line = ln;
    size_t from = line_start;
    if (from == 0 && off >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0) {
        from = 3; /* a byte order mark is no column an editor shows */
    }
    *col = sl__utf8_col(t + from, off - from);
}

sl_status sl__doc_error(const sl_doc *doc, sl_error *err, sl_status code,
                        size_t off, const char *fmt, ...) {
    sl_pos pos = {doc->file, 0, 0};
    sl__doc_locate(doc, off, &pos.line, &pos.col);
    va_list ap;
    va_start(ap, fmt);
    sl__verror(err, code, &pos, fmt, ap);
    va_end(ap);
    return code;
}

sl_pos sl_node_pos(const sl_doc *doc, const sl_node *n) {
    sl_pos pos = {doc ? doc->file : NULL, 0, 0};
    if (doc && n && n->off != SL__NO_OFF) {
        sl__doc_locate(doc, n->off, &pos.line, &pos.col);
    }
    return pos;
}

sl_pos sl_node_key_pos(const sl_doc *doc, const sl_node *obj, size_t i) {
    sl__member *m = sl__node_member(obj, i);
    return sl_node_pos(doc, m ? &m->key : NULL);
}

/* ---- reading ---- */

sl_node_kind sl_node_kind_of(const sl_node *n) {
    return n ? (sl_node_kind)n->kind : SL_NODE_NULL;
}

sl_str sl_node_str(const sl_node *n) {
    sl_str s = {"", 0};
    if (!n) {
        return s;
    }
    if (n->kind == SL_NODE_ARRAY || n->kind == SL_NODE_OBJECT) {
        return s;
    }
    s.ptr = n->u.s ? n->u.s : "";
    s.len = n->len;
    return s;
}

bool sl_node_bool(const sl_node *n) {
    return n && n->kind == SL_NODE_BOOL && n->len == 4;
}

sl_status sl_node_int(const sl_node *n, int64_t *out) {
    if (!n || n->kind != SL_NODE_INT) {
        return SL_ESCHEMA;
    }
    char tmp[32];
    if (n->len == 0 || n->len >= sizeof(tmp)) {
        return n->len ? SL_ELIMIT : SL_ESCHEMA;
    }
    /* copy out the digits: TOML lexemes may hold '_' and 0x/0o/0b */
    size_t k = 0;
    for (uint32_t i = 0; i < n->len; i++) {
        if (n->u.s[i] != '_') {
            tmp[k++] = n->u.s[i];
        }
    }
    tmp[k] = '\0';
    int base = 10;
    const char *p = tmp;
    bool neg = false;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o' || p[1] == 'b')) {
        base = p[1] == 'x' ? 16 : p[1] == 'o' ? 8 : 2;
        p += 2;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(p, &end, base);
    if (end == p || *end != '\0') {
        return SL_ESCHEMA;
    }
    if (errno == ERANGE || v > (unsigned long long)INT64_MAX + (neg ? 1 : 0)) {
        return SL_ELIMIT;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return SL_OK;
}

sl_status sl_node_double(const sl_node *n, double *out) {
    if (!n || (n->kind != SL_NODE_INT && n->kind != SL_NODE_FLOAT)) {
        return SL_ESCHEMA;
    }
    if (n->kind == SL_NODE_INT) {
        int64_t i = 0;
        sl_status rc = sl_node_int(n, &i);
        if (rc == SL_OK) {
            *out = (double)i;
            return SL_OK;
        }
    }
    char tmp[128];
    if (n->len == 0 || n->len >= sizeof(tmp)) {
        /* very long lexemes: still a number; strtod needs a copy */
        char *big = sl__strndup(n->u.s, n->len);
        if (!big) {
            return SL_ENOMEM;
        }
        char *end = NULL;
        double d = strtod(big, &end);
        bool ok = end != big && *end == '\0';
        sl__free(big, n->len + 1);
        if (!ok) {
            return SL_ESCHEMA;
        }
        *out = d;
        return SL_OK;
    }
    size_t k = 0;
    for (uint32_t i = 0; i < n->len; i++) {
        if (n->u.s[i] != '_') {
            tmp[k++] = n->u.s[i];
        }
    }
    tmp[k] = '\0';
    char *end = NULL;
    double d = strtod(tmp, &end);
    if (end == tmp || *end != '\0') {
        return SL_ESCHEMA;
    }
    *out = d;
    return SL_OK;
}

size_t sl_node_len(const sl_node *n) {
    if (!n || (n->kind != SL_NODE_ARRAY && n->kind != SL_NODE_OBJECT)) {
        return 0;
    }
    return n->len;
}

sl__member *sl__node_member(const sl_node *obj, size_t i) {
    if (!obj || obj->kind != SL_NODE_OBJECT || i >= obj->len) {
        return NULL;
    }
    return &obj->u.members[i];
}

const sl_node *sl_node_at(const sl_node *n, size_t i) {
    if (!n || i >= sl_node_len(n)) {
        return NULL;
    }
    if (n->kind == SL_NODE_ARRAY) {
        return &n->u.items[i];
    }
    return &n->u.members[i].val;
}

sl_str sl_node_key(const sl_node *n, size_t i) {
    sl__member *m = sl__node_member(n, i);
    return m ? sl_node_str(&m->key) : (sl_str){"", 0};
}

size_t sl_node_find(const sl_node *obj, const char *key, size_t klen) {
    if (!obj || obj->kind != SL_NODE_OBJECT) {
        return (size_t)-1;
    }
    for (size_t i = 0; i < obj->len; i++) {
        const sl_node *k = &obj->u.members[i].key;
        if (k->len == klen && memcmp(k->u.s, key, klen) == 0) {
            return i;
        }
    }
    return (size_t)-1;
}

const sl_node *sl_node_getn(const sl_node *obj, const char *key, size_t klen) {
    size_t i = sl_node_find(obj, key, klen);
    return i == (size_t)-1 ? NULL : &obj->u.members[i].val;
}

const sl_node *sl_node_get(const sl_node *obj, const char *key) {
    return sl_node_getn(obj, key, strlen(key));
}

/* ---- building ---- */

void sl__node_init_scalar(sl_node *n, sl_node_kind kind, const char *s,
                          uint32_t len, uint32_t off) {
    memset(n, 0, sizeof(*n));
    n->kind = (uint8_t)kind;
    n->off = off;
    n->u.s = s;
    n->len = len;
}

bool sl__node_reserve(sl_doc *doc, sl_node *c, uint32_t cap) {
    size_t esize =
        c->kind == SL_NODE_OBJECT ? sizeof(sl__member) : sizeof(sl_node);
    void *p = sl__arena_alloc(&doc->arena, (size_t)cap * esize);
    if (!p) {
        return false;
    }
    if (c->len) {
        memcpy(p,
               c->kind == SL_NODE_OBJECT ? (void *)c->u.members
                                         : (void *)c->u.items,
               (size_t)c->len * esize);
    }
    if (c->kind == SL_NODE_OBJECT) {
        c->u.members = p;
    } else {
        c->u.items = p;
    }
    c->aux = cap;
    return true;
}

/* Grow a container's arena array so one more item fits. The old array is
 * abandoned in the arena (freed with the doc): total waste stays below the
 * final size because capacity doubles. */
static bool grow(sl_doc *doc, sl_node *c) {
    if (c->len < c->aux) {
        return true;
    }
    uint32_t cap = c->aux ? c->aux * 2 : 4;
    if (cap < c->aux || cap >= SL__NO_OFF / 2) {
        return false;
    }
    return sl__node_reserve(doc, c, cap);
}

sl_node *sl__node_push(sl_doc *doc, sl_node *c, const char *key, uint32_t klen,
                       uint32_t key_off) {
    if (!grow(doc, c)) {
        return NULL;
    }
    if (c->kind == SL_NODE_OBJECT) {
        sl__member *m = &c->u.members[c->len++];
        sl__node_init_scalar(&m->key, SL_NODE_STRING, key, klen, key_off);
        m->key.raw = NULL;
        sl__node_init_scalar(&m->val, SL_NODE_NULL, "null", 4, SL__NO_OFF);
        return &m->val;
    }
    sl_node *n = &c->u.items[c->len++];
    sl__node_init_scalar(n, SL_NODE_NULL, "null", 4, SL__NO_OFF);
    return n;
}

/* ---- changing ---- */

sl_status sl_node_set_string(sl_doc *doc, sl_node *n, const char *s,
                             size_t len) {
    if (!doc || !n || (!s && len) || len >= SL__NO_OFF) {
        return SL_EINVAL;
    }
    char *copy = sl__arena_strndup(&doc->arena, s ? s : "", len);
    if (!copy) {
        return SL_ENOMEM;
    }
    uint32_t off = n->off;
    sl__node_init_scalar(n, SL_NODE_STRING, copy, (uint32_t)len, off);
    n->flags = SL__NF_CHANGED;
    return SL_OK;
}

sl_status sl_node_set_scalar(sl_doc *doc, sl_node *n, sl_node_kind kind,
                             const char *lexeme, size_t len) {
    if (!doc || !n || kind > SL_NODE_STRING || (!lexeme && len) ||
        len >= SL__NO_OFF) {
        return SL_EINVAL;
    }
    if (kind == SL_NODE_STRING) {
        return sl_node_set_string(doc, n, lexeme, len);
    }
    const char *text = NULL;
    if (kind == SL_NODE_NULL) {
        text = "null";
        len = 4;
    } else if (kind == SL_NODE_BOOL) {
        bool t = len == 4 && memcmp(lexeme, "true", 4) == 0;
        text = t ? "true" : "false";
        len = t ? 4 : 5;
    } else {
        char *copy = sl__arena_strndup(&doc->arena, lexeme, len);
        if (!copy) {
            return SL_ENOMEM;
        }
        text = copy;
    }
    uint32_t off = n->off;
    sl__node_init_scalar(n, kind, text, (uint32_t)len, off);
    n->flags = SL__NF_CHANGED;
    return SL_OK;
}

sl_status sl_node_set_container(sl_doc *doc, sl_node *n, sl_node_kind kind) {
    if (!doc || !n || (kind != SL_NODE_ARRAY && kind != SL_NODE_OBJECT)) {
        return SL_EINVAL;
    }
    uint32_t off = n->off;
    memset(n, 0, sizeof(*n));
    n->kind = (uint8_t)kind;
    n->flags = SL__NF_CHANGED;
    n->off = off;
    return SL_OK;
}

static sl_status copy_rec(sl_doc *doc, sl_node *dst, const sl_node *src,
                          uint32_t depth) {
    if (depth > SL_MAX_DEPTH) {
        return SL_ELIMIT;
    }
    if (src->kind != SL_NODE_ARRAY && src->kind != SL_NODE_OBJECT) {
        /* copy the text so dst does not depend on src's document */
        char *s = sl__arena_strndup(&doc->arena, src->u.s, src->len);
        if (!s) {
            return SL_ENOMEM;
        }
        *dst = *src;
        dst->u.s = s;
        dst->off = SL__NO_OFF;
        if (src->raw) {
            if (src->raw == src->u.s) {
                dst->raw = s;
            } else {
                char *r = sl__arena_strndup(&doc->arena, src->raw, src->aux);
                if (!r) {
                    return SL_ENOMEM;
                }
                dst->raw = r;
            }
        }
        return SL_OK;
    }
    sl_node tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.kind = src->kind;
    tmp.off = SL__NO_OFF;
    for (uint32_t i = 0; i < src->len; i++) {
        sl_node *slot;
        const sl_node *from;
        if (src->kind == SL_NODE_OBJECT) {
            const sl__member *m = &src->u.members[i];
            char *k = sl__arena_strndup(&doc->arena, m->key.u.s, m->key.len);
            if (!k) {
                return SL_ENOMEM;
            }
            slot = sl__node_push(doc, &tmp, k, m->key.len, SL__NO_OFF);
            from = &m->val;
        } else {
            slot = sl__node_push(doc, &tmp, NULL, 0, SL__NO_OFF);
            from = &src->u.items[i];
        }
        if (!slot) {
            return SL_ENOMEM;
        }
        sl_status rc = copy_rec(doc, slot, from, depth + 1);
        if (rc != SL_OK) {
            return rc;
        }
    }
    *dst = tmp;
    return SL_OK;
}

sl_status sl_node_copy(sl_doc *doc, sl_node *dst, const sl_node *src) {
    if (!doc || !dst || !src) {
        return SL_EINVAL;
    }
    sl_node tmp;
    sl_status rc = copy_rec(doc, &tmp, src, 0);
    if (rc == SL_OK) {
        *dst = tmp;
        dst->flags |= SL__NF_CHANGED;
    }
    return rc;
}

sl_status sl_node_obj_append(sl_doc *doc, sl_node *obj, const char *key,
                             size_t klen, sl_node **val) {
    if (!doc || !obj || obj->kind != SL_NODE_OBJECT || (!key && klen) ||
        klen >= SL__NO_OFF) {
        return SL_EINVAL;
    }
    char *k = sl__arena_strndup(&doc->arena, key ? key : "", klen);
    if (!k) {
        return SL_ENOMEM;
    }
    sl_node *v = sl__node_push(doc, obj, k, (uint32_t)klen, SL__NO_OFF);
    if (!v) {
        return SL_ENOMEM;
    }
    obj->flags |= SL__NF_CHANGED;
    v->flags |= SL__NF_CHANGED;
    if (val) {
        *val = v;
    }
    return SL_OK;
}

sl_status sl_node_arr_append(sl_doc *doc, sl_node *arr, sl_node **val) {
    if (!doc || !arr || arr->kind != SL_NODE_ARRAY) {
        return SL_EINVAL;
    }
    sl_node *v = sl__node_push(doc, arr, NULL, 0, SL__NO_OFF);
    if (!v) {
        return SL_ENOMEM;
    }
    arr->flags |= SL__NF_CHANGED;
    v->flags |= SL__NF_CHANGED;
    if (val) {
        *val = v;
    }
    return SL_OK;
}

sl_status sl_node_remove(sl_node *n, size_t i) {
    if (!n || i >= sl_node_len(n)) {
        return SL_EINVAL;
    }
    size_t tail = n->len - i - 1;
    if (n->kind == SL_NODE_OBJECT) {
        memmove(&n->u.members[i], &n->u.members[i + 1],
                tail * sizeof(sl__member));
    } else {
        memmove(&n->u.items[i], &n->u.items[i + 1], tail * sizeof(sl_node));
    }
    n->len--;
    n->flags |= SL__NF_CHANGED;
    return SL_OK;
}

sl_status sl_node_set_key(sl_doc *doc, sl_node *obj, size_t i, const char *key,
                          size_t klen) {
    sl__member *m = sl__node_member(obj, i);
    if (!doc || !m || (!key && klen) || klen >= SL__NO_OFF) {
        return SL_EINVAL;
    }
    char *k = sl__arena_strndup(&doc->arena, key ? key : "", klen);
    if (!k) {
        return SL_ENOMEM;
    }
    uint32_t off = m->key.off;
    sl__node_init_scalar(&m->key, SL_NODE_STRING, k, (uint32_t)klen, off);
    obj->flags |= SL__NF_CHANGED;
    return SL_OK;
}

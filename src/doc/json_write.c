/* src/doc/json_write.c: the JSON writer (compact and two-space pretty) for
 * any doc tree, whatever syntax it was read from. It owns escaping and the
 * conversion of TOML/YAML scalars to JSON; canonical JSON (RFC 8785) lives
 * in json_canon.c.
 *
 * The one idea: what was read from JSON and not changed is copied, never
 * re-encoded. A string with `raw` set goes out as its source bytes, a
 * number with SL__NF_JSON_LEXEME as its lexeme; only strings set after
 * loading (or read from TOML/YAML) are escaped, minimally. Output space is
 * reserved per node in one check, so the buffer grows by doubling and the
 * hot path is a memcpy. Containers are walked with an explicit stack, so
 * depth costs heap, never C stack. Given the doc (sl_doc_write_json), each
 * run of unchanged members read from compact JSON is one memcpy of its
 * source text: the reader records where each container ends and whether
 * whitespace occurred inside it, and every change marks the node it
 * changes. */
#include <sluice/doc.h>

#include <stdio.h>

#include "base/base.h"
#include "base/codec.h"
#include "doc/build.h"
#include "doc/private.h"

/* Room for n more bytes plus the NUL (sl_buf keeps ptr NUL-terminated). */
static sl_status need(sl_buf *b, size_t n) {
    if (b->cap > b->len && b->cap - b->len > n) {
        return SL_OK;
    }
    return sl__buf_reserve(b, n);
}

static void put(sl_buf *b, const char *s, size_t n) {
    memcpy(b->ptr + b->len, s, n);
    b->len += n;
}

static sl_status fail(sl_error *err, sl_status code, const char *msg) {
    if (code == SL_ENOMEM) {
        return sl__nomem(err);
    }
    return sl__error(err, code, NULL, "%s", msg);
}

/* ---- strings ---- */

static const char hex[] = "0123456789abcdef";

/* Append s as a quoted JSON string: '"', '\\' and control characters are
 * escaped (short forms where JSON has them), everything else is copied.
 * Returns SL_EINVAL for text that is not UTF-8. */
static sl_status put_escaped(sl_buf *b, const char *s, size_t len) {
    size_t worst = 0;
    if (__builtin_mul_overflow(len, (size_t)6, &worst) ||
        __builtin_add_overflow(worst, (size_t)2, &worst)) {
        b->failed = 1;
        return SL_ELIMIT;
    }
    sl_status rc = need(b, worst);
    if (rc != SL_OK) {
        return rc;
    }
    char *o = b->ptr + b->len;
    *o++ = '"';
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + len;
    while (p < end) {
        const unsigned char *run = p;
        p = (const unsigned char *)sl__json_skip_plain((const char *)p,
                                                       (const char *)end);
        while (p < end && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80) {
            p++;
        }
        memcpy(o, run, (size_t)(p - run));
        o += p - run;
        if (p >= end) {
            break;
        }
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t k = sl__utf8_seq(p, end);
            if (k == 0) {
                return SL_EINVAL;
            }
            memcpy(o, p, k);
            o += k;
            p += k;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *o++ = (char)c;
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\t':
            *o++ = 't';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
            break;
        }
        p++;
    }
    *o++ = '"';
    b->len = (size_t)(o - b->ptr);
    b->ptr[b->len] = '\0';
    return SL_OK;
}

/* A string node: its source bytes when it was read from JSON unchanged,
 * its own bytes when a codec marked them plain, else escaped. */
static sl_status put_string(sl_buf *b, const sl_node *n, sl_error *err) {
    const char *text = n->raw;
    size_t len = n->aux;
    if (!text && (n->flags & SL__NF_PLAIN)) {
        text = n->u.s; /* its own JSON text (checked by the codec) */
        len = n->len;
    }
    if (text) {
        sl_status rc = need(b, len + 2);
        if (rc != SL_OK) {
            return fail(err, rc, "output too large");
        }
        char *o = b->ptr + b->len;
        o[0] = '"';
        memcpy(o + 1, text, len);
        o[len + 1] = '"';
        b->len += len + 2;
        return SL_OK;
    }
    sl_status rc = put_escaped(b, n->u.s ? n->u.s : "", n->len);
    if (rc == SL_EINVAL) {
        return sl__error(err, SL_EINVAL, NULL,
                         "a string is not valid utf-8 and cannot be written "
                         "as json");
    }
    return rc == SL_OK ? SL_OK : fail(err, rc, "output too large");
}

/* ---- numbers ---- */

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* RFC 8259's number grammar, whole lexeme. */
static bool json_number(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && s[i] == '-') {
        i++;
    }
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && s[i] >= '1' && s[i] <= '9') {
        while (i < n && is_digit(s[i])) {
            i++;
        }
    } else {
        return false;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i])) {
            return false;
        }
        while (i < n && is_digit(s[i])) {
            i++;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        if (i >= n || !is_digit(s[i])) {
            return false;
        }
        while (i < n && is_digit(s[i])) {
            i++;
        }
    }
    return i == n;
}

/* Rewrite a TOML/YAML decimal lexeme ("+1_000.", ".5", "007", "1e+5") in
 * JSON's grammar into o (room for n + 1 bytes); returns the length, or 0
 * when the lexeme is not a plain decimal. */
static size_t normalize_decimal(const char *s, size_t n, char *o) {
    size_t i = 0, k = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        if (s[i] == '-') {
            o[k++] = '-';
        }
        i++;
    }
    size_t int_start = k;
    bool any = false;
    for (; i < n && (is_digit(s[i]) || s[i] == '_'); i++) {
        if (s[i] == '_') {
            continue;
        }
        any = true;
        if (k == int_start && s[i] == '0') {
            continue; /* leading zeros */
        }
        o[k++] = s[i];
    }
    if (k == int_start) {
        o[k++] = '0';
    }
    bool frac = false;
    if (i < n && s[i] == '.') {
        i++;
        size_t dot = k;
        o[k++] = '.';
        for (; i < n && (is_digit(s[i]) || s[i] == '_'); i++) {
            if (s[i] != '_') {
                o[k++] = s[i];
                frac = true;
            }
        }
        if (!frac) {
            k = dot; /* "1." */
        }
    }
    if (!any && !frac) {
        return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        o[k++] = 'e';
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            o[k++] = s[i++];
        }
        bool exp = false;
        for (; i < n && (is_digit(s[i]) || s[i] == '_'); i++) {
            if (s[i] != '_') {
                o[k++] = s[i];
                exp = true;
            }
        }
        if (!exp) {
            return 0;
        }
    }
    return i == n ? k : 0;
}

static bool has_special(const sl_node *n) {
    if (n->flags & SL__NF_TOML_SPECIAL) {
        return true;
    }
    for (uint32_t i = 0; i < n->len; i++) {
        char c = (char)(n->u.s[i] | 0x20);
        if (c == 'i' || c == 'n') { /* inf, nan: no digit lexeme has them */
            return true;
        }
    }
    return false;
}

static sl_status put_number(sl_buf *b, const sl_node *n, sl_error *err) {
    const char *s = n->u.s ? n->u.s : "";
    size_t len = n->len;
    sl_status rc = need(b, len + 24);
    if (rc != SL_OK) {
        return fail(err, rc, "output too large");
    }
    if ((n->flags & SL__NF_JSON_LEXEME) ||
        (!(n->flags & SL__NF_TOML_SPECIAL) && json_number(s, len))) {
        put(b, s, len);
        return SL_OK;
    }
    if (has_special(n)) {
        return sl__error(err, SL_EINVAL, NULL,
                         "inf and nan cannot be written as json numbers");
    }
    if (n->kind == SL_NODE_INT) {
        int64_t v = 0;
        if (sl_node_int(n, &v) == SL_OK) {
            int w = snprintf(b->ptr + b->len, 24, "%lld", (long long)v);
            b->len += (size_t)w;
            return SL_OK;
        }
    }
    size_t k = normalize_decimal(s, len, b->ptr + b->len);
    if (k == 0 || !json_number(b->ptr + b->len, k)) {
        char q[64];
        sl__quote(q, sizeof(q), s, len);
        return sl__error(err, SL_EINVAL, NULL,
                         "number %s cannot be written as json", q);
    }
    b->len += k;
    return SL_OK;
}

/* ---- scalars and containers ---- */

static sl_status put_scalar(sl_buf *b, const sl_node *n, sl_error *err) {
    sl_status rc = SL_OK;
    switch ((sl_node_kind)n->kind) {
    case SL_NODE_NULL:
        rc = need(b, 4);
        if (rc == SL_OK) {
            put(b, "null", 4);
        }
        break;
    case SL_NODE_BOOL: {
        bool t = sl_node_bool(n);
        rc = need(b, 5);
        if (rc == SL_OK) {
            put(b, t ? "true" : "false", t ? 4 : 5);
        }
        break;
    }
    case SL_NODE_INT:
    case SL_NODE_FLOAT:
        return put_number(b, n, err);
    case SL_NODE_STRING:
        return put_string(b, n, err);
    case SL_NODE_DATETIME:
    case SL_NODE_DATETIME_LOCAL:
    case SL_NODE_DATE_LOCAL:
    case SL_NODE_TIME_LOCAL: {
        sl_node tmp = *n;
        tmp.raw = NULL; /* a lexeme is not JSON string text: escape it */
        return put_string(b, &tmp, err);
    }
    default:
        return sl__error(err, SL_EINVAL, NULL, "unknown node kind %u",
                         (unsigned)n->kind);
    }
    return rc == SL_OK ? SL_OK : fail(err, rc, "output too large");
}

typedef struct frame {
    const sl_node *c;
    uint32_t i;
} frame;

enum {
    STACK_INLINE = 64,
    STACK_MAX = 1u << 24
};

static sl_status newline(sl_buf *b, size_t depth) {
    size_t n = 1 + 2 * depth;
    sl_status rc = need(b, n);
    if (rc != SL_OK) {
        return rc;
    }
    b->ptr[b->len] = '\n';
    memset(b->ptr + b->len + 1, ' ', n - 1);
    b->len += n;
    return SL_OK;
}

/* ---- source text ---- */

/* Whether nothing in n's subtree changed since loading. Deeper than any
 * document may be nested: say no (the caller then writes it node by
 * node). */
static bool unchanged(const sl_node *n, unsigned depth) {
    if ((n->flags & SL__NF_CHANGED) || depth > SL_MAX_DEPTH) {
        return false;
    }
    if (n->kind == SL_NODE_ARRAY) {
        for (uint32_t i = 0; i < n->len; i++) {
            if (!unchanged(&n->u.items[i], depth + 1)) {
                return false;
            }
        }
    } else if (n->kind == SL_NODE_OBJECT) {
        for (uint32_t i = 0; i < n->len; i++) {
            if (!unchanged(&n->u.members[i].val, depth + 1)) {
                return false;
            }
        }
    }
    return true;
}

bool sl__doc_node_unchanged(const sl_node *n) {
    return n && unchanged(n, 0);
}

bool sl_doc_node_source(const sl_doc *doc, const sl_node *n, bool deep,
                        sl_str *out) {
    if (!doc || !n || !doc->text || !out ||
        (n->kind != SL_NODE_ARRAY && n->kind != SL_NODE_OBJECT) ||
        (n->flags & (SL__NF_COMPACT | SL__NF_CHANGED)) != SL__NF_COMPACT ||
        !n->raw || n->off == SL__NO_OFF) {
        return false;
    }
    const char *start = doc->text + n->off;
    if (n->off >= doc->text_len || n->raw <= start ||
        n->raw > doc->text + doc->text_len) {
        return false; /* not from this document's current text */
    }
    if (deep && !unchanged(n, 0)) {
        return false;
    }
    out->ptr = start;
    out->len = (size_t)(n->raw - start);
    return true;
}

/* Where n's JSON text lies in doc's current source, [*s, *e): a string's
 * quotes included, a number's lexeme, a literal, a compact container.
 * false for anything made or changed after loading or read from another
 * syntax (the source bytes are checked where that is in doubt). */
static inline __attribute__((always_inline)) bool value_span(const sl_doc *doc,
                                                             const sl_node *n,
                                                             const char **s,
                                                             const char **e) {
    if (n->off == SL__NO_OFF || n->off >= doc->text_len) {
        return false;
    }
    const char *b = doc->text + n->off;
    const char *lim = doc->text + doc->text_len;
    switch ((sl_node_kind)n->kind) {
    case SL_NODE_STRING:
        if (n->raw != b + 1 || (size_t)(lim - b) < (size_t)n->aux + 2) {
            return false;
        }
        *e = b + n->aux + 2;
        break;
    case SL_NODE_INT:
    case SL_NODE_FLOAT:
        if (!(n->flags & SL__NF_JSON_LEXEME) || n->u.s != b) {
            return false;
        }
        *e = b + n->len;
        break;
    case SL_NODE_NULL:
    case SL_NODE_BOOL:
        if ((size_t)(lim - b) < n->len || memcmp(b, n->u.s, n->len) != 0) {
            return false;
        }
        *e = b + n->len;
        break;
    case SL_NODE_ARRAY:
    case SL_NODE_OBJECT:
        if (!(n->flags & SL__NF_COMPACT) || !n->raw || n->raw <= b ||
            n->raw > lim) {
            return false;
        }
        *e = n->raw;
        break;
    default:
        return false;
    }
    *s = b;
    return true;
}

bool sl__doc_value_span(const sl_doc *doc, const sl_node *n, const char **s,
                        const char **e) {
    if (!doc || !doc->text || !n || (n->flags & SL__NF_CHANGED)) {
        return false;
    }
    return value_span(doc, n, s, e);
}

bool sl__doc_member_span(const sl_doc *doc, const sl_node *obj, size_t i,
                         const char **s, const char **e) {
    if (!doc || !doc->text || !obj || obj->kind != SL_NODE_OBJECT ||
        i >= obj->len) {
        return false;
    }
    const sl__member *m = &obj->u.members[i];
    const char *ks, *ke, *vs, *ve;
    if (!sl__doc_value_span(doc, &m->key, &ks, &ke) ||
        !sl__doc_value_span(doc, &m->val, &vs, &ve) || vs != ke + 1 ||
        *ke != ':') {
        return false;
    }
    *s = ks;
    *e = ve;
    return true;
}

/* The longest run of children of container c from i on that can be copied
 * from the source as they stand: each unchanged (deep), each member's key,
 * colon and value adjacent, neighbours one comma apart (so nothing removed
 * between them). Returns the index after the run (i: none); *run gets its
 * text. */
static uint32_t source_run(const sl_doc *doc, const sl_node *c, uint32_t i,
                           sl_str *run) {
    const char *rs = NULL, *re = NULL;
    uint32_t j = i;
    for (; j < c->len; j++) {
        const sl_node *v;
        const char *s, *e;
        if (c->kind == SL_NODE_OBJECT) {
            const sl__member *m = &c->u.members[j];
            const char *ks, *ke, *vs;
            v = &m->val;
            if (!value_span(doc, &m->key, &ks, &ke) ||
                !value_span(doc, v, &vs, &e) || vs != ke + 1 || *ke != ':') {
                break;
            }
            s = ks;
        } else {
            v = &c->u.items[j];
            if (!value_span(doc, v, &s, &e)) {
                break;
            }
        }
        if ((rs && (s != re + 1 || *re != ',')) || !unchanged(v, 0)) {
            break;
        }
        if (!rs) {
            rs = s;
        }
        re = e;
    }
    if (rs) {
        run->ptr = rs;
        run->len = (size_t)(re - rs);
    }
    return j;
}

/* ---- the writer ---- */

/* With doc (compact output only), runs of children that are unchanged
 * since loading are copied from the source text (source_run): a whole
 * unchanged container is its brackets and one run. */
static sl_status write_json(sl_buf *out, const sl_doc *doc, const sl_node *n,
                            unsigned flags, sl_error *err) {
    if (!out) {
        return sl__error(err, SL_EINVAL, NULL, "no output buffer");
    }
    bool pretty = (flags & SL_WRITE_PRETTY) != 0;
    if (doc && !doc->text) {
        doc = NULL; /* a tree built by a codec: no source runs to copy */
    }
    size_t start_len = out->len;
    frame inline_stack[STACK_INLINE];
    frame *stk = inline_stack;
    size_t cap = STACK_INLINE, sp = 0;
    sl_status rc = SL_OK;
    const sl_node *v = n;
    static const sl_node null_node = {
        .kind = SL_NODE_NULL, .off = SL__NO_OFF, .len = 4, .u.s = "null"};
    if (!v) {
        v = &null_node;
    }
    for (;;) {
        /* write v: a scalar whole, a container's opening */
        if (v->kind == SL_NODE_ARRAY || v->kind == SL_NODE_OBJECT) {
            bool obj = v->kind == SL_NODE_OBJECT;
            rc = need(out, 2);
            if (rc != SL_OK) {
                rc = fail(err, rc, "output too large");
                goto done;
            }
            out->ptr[out->len++] = obj ? '{' : '[';
            if (v->len == 0) {
                out->ptr[out->len++] = obj ? '}' : ']';
            } else {
                if (sp == cap) {
                    if (cap >= STACK_MAX) {
                        rc = sl__error(err, SL_ELIMIT, NULL,
                                       "document nested too deeply to write");
                        goto done;
                    }
                    frame *ns = sl__alloc(cap * 2 * sizeof(frame));
                    if (!ns) {
                        rc = sl__nomem(err);
                        goto done;
                    }
                    memcpy(ns, stk, sp * sizeof(frame));
                    if (stk != inline_stack) {
                        sl__free(stk, cap * sizeof(frame));
                    }
                    stk = ns;
                    cap *= 2;
                }
                stk[sp].c = v;
                stk[sp].i = 0;
                sp++;
            }
        } else {
            rc = put_scalar(out, v, err);
            if (rc != SL_OK) {
                goto done;
            }
        }
        /* find the next value to write, closing finished containers */
        for (;;) {
            if (sp == 0) {
                goto done;
            }
            frame *f = &stk[sp - 1];
            bool obj = f->c->kind == SL_NODE_OBJECT;
            if (f->i >= f->c->len) {
                sp--;
                if (pretty) {
                    rc = newline(out, sp);
                    if (rc != SL_OK) {
                        rc = fail(err, rc, "output too large");
                        goto done;
                    }
                }
                rc = need(out, 1);
                if (rc != SL_OK) {
                    rc = fail(err, rc, "output too large");
                    goto done;
                }
                out->ptr[out->len++] = obj ? '}' : ']';
                continue;
            }
            if (doc && !pretty) {
                sl_str run;
                uint32_t j = source_run(doc, f->c, f->i, &run);
                if (j > f->i) {
                    rc = need(out, run.len + 1);
                    if (rc != SL_OK) {
                        rc = fail(err, rc, "output too large");
                        goto done;
                    }
                    if (f->i > 0) {
                        out->ptr[out->len++] = ',';
                    }
                    put(out, run.ptr, run.len);
                    f->i = j;
                    continue;
                }
            }
            if (f->i > 0) {
                rc = need(out, 1);
                if (rc != SL_OK) {
                    rc = fail(err, rc, "output too large");
                    goto done;
                }
                out->ptr[out->len++] = ',';
            }
            if (pretty) {
                rc = newline(out, sp);
                if (rc != SL_OK) {
                    rc = fail(err, rc, "output too large");
                    goto done;
                }
            }
            if (obj) {
                const sl__member *m = &f->c->u.members[f->i];
                rc = put_string(out, &m->key, err);
                if (rc != SL_OK) {
                    goto done;
                }
                rc = need(out, 2);
                if (rc != SL_OK) {
                    rc = fail(err, rc, "output too large");
                    goto done;
                }
                out->ptr[out->len++] = ':';
                if (pretty) {
                    out->ptr[out->len++] = ' ';
                }
                v = &m->val;
            } else {
                v = &f->c->u.items[f->i];
            }
            f->i++;
            break;
        }
    }
done:
    if (stk != inline_stack) {
        sl__free(stk, cap * sizeof(frame));
    }
    if (rc != SL_OK) {
        /* leave the buffer as it was: no half-written value */
        out->len = start_len;
    }
    if (out->ptr) {
        out->ptr[out->len] = '\0';
    }
    return rc;
}

sl_status sl_json_write(sl_buf *out, const sl_node *n, unsigned flags,
                        sl_error *err) {
    return write_json(out, NULL, n, flags, err);
}

sl_status sl_doc_write_json(const sl_doc *doc, const sl_node *n, sl_buf *out,
                            sl_error *err) {
    return write_json(out, doc, n, SL_WRITE_COMPACT, err);
}

sl_status sl_json_write_string(sl_buf *out, const char *s, size_t len) {
    if (!out || (!s && len)) {
        return SL_EINVAL;
    }
    size_t start_len = out->len;
    sl_status rc = put_escaped(out, s ? s : "", len);
    if (rc != SL_OK) {
        out->len = start_len;
        if (out->ptr) {
            out->ptr[out->len] = '\0';
        }
    }
    return rc;
}

/* src/otlp/write.c: dropping records and writing the batch back out as
 * compact JSON. Leaves out the JSON writer itself (doc module) and the
 * index (load.c).
 *
 * The one idea: only the three levels above the records are walked here;
 * everything else (each kept record, every other member) goes through the
 * doc writer, which emits untouched strings and numbers exactly as read.
 * Scopes left without records, and resources left without scopes, are not
 * written, as the reference runner's retain(!is_empty) does
 * (reference/policy-engine-upstream.md §5); that includes ones that were
 * empty in the input. With nothing to leave out, the whole document goes
 * to the doc writer in one call. */
#include <sluice/otlp.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/base.h"
#include "otlp/private.h"

void sl_otlp_drop(sl_otlp *o, size_t i) {
    if (!o || i >= o->nrec || o->recs[i].dropped) {
        return;
    }
    sl__otlp_rec *r = &o->recs[i];
    r->dropped = 1;
    o->ndropped++;
    sl__otlp_scope *s = &o->scopes[r->scope];
    s->kept--;
    o->res[s->res].kept--;
}

typedef struct wctx {
    const sl_otlp *o;
    sl_buf *out;
    sl_error *err;
} wctx;

/* ---- copying unchanged source text ----
 * The JSON reader is lossless and zero-copy: a string without escapes and
 * a number lexeme point into the loaded text. So the first and last
 * leaves of an unchanged container give its source span, checked byte by
 * byte at both ends; when that span is compact (no whitespace between
 * tokens) it is exactly what the doc writer would produce, and one memcpy
 * replaces a tree walk. Anything else (an escaped or literal leaf at an
 * end, an empty container, spaced-out input) takes the doc writer. */

static bool in_text(const sl_otlp *o, const char *p, size_t n) {
    uintptr_t lo = (uintptr_t)o->text, hi = lo + o->text_len;
    uintptr_t a = (uintptr_t)p;
    return o->text && a >= lo && a <= hi && n <= hi - a;
}

/* First byte of n's source text, or NULL. */
static const char *span_start(const sl_otlp *o, const sl_node *n,
                              unsigned depth) {
    if (depth > SL_MAX_DEPTH) {
        return NULL;
    }
    sl_node_kind k = sl_node_kind_of(n);
    if (k == SL_NODE_OBJECT) {
        sl_str key = sl_node_key(n, 0);
        if (sl_node_len(n) == 0 || !in_text(o, key.ptr, key.len) ||
            key.ptr < o->text + 2 || key.ptr[-2] != '{' || key.ptr[-1] != '"') {
            return NULL;
        }
        return key.ptr - 2;
    }
    if (k == SL_NODE_ARRAY) {
        const char *c =
            sl_node_len(n) ? span_start(o, sl_node_at(n, 0), depth + 1) : NULL;
        return c && c > o->text && c[-1] == '[' ? c - 1 : NULL;
    }
    sl_str s = sl_node_str(n);
    if (!in_text(o, s.ptr, s.len)) {
        return NULL;
    }
    if (k == SL_NODE_STRING) {
        return s.ptr > o->text && s.ptr[-1] == '"' ? s.ptr - 1 : NULL;
    }
    return k == SL_NODE_INT || k == SL_NODE_FLOAT ? s.ptr : NULL;
}

/* One past the last byte of n's source text, or NULL. */
static const char *span_end(const sl_otlp *o, const sl_node *n,
                            unsigned depth) {
    if (depth > SL_MAX_DEPTH) {
        return NULL;
    }
    const char *end = o->text + o->text_len;
    sl_node_kind k = sl_node_kind_of(n);
    if (k == SL_NODE_OBJECT || k == SL_NODE_ARRAY) {
        size_t len = sl_node_len(n);
        const char *c =
            len ? span_end(o, sl_node_at(n, len - 1), depth + 1) : NULL;
        char close = k == SL_NODE_OBJECT ? '}' : ']';
        return c && c < end && *c == close ? c + 1 : NULL;
    }
    sl_str s = sl_node_str(n);
    if (!in_text(o, s.ptr, s.len)) {
        return NULL;
    }
    if (k == SL_NODE_STRING) {
        const char *q = s.ptr + s.len;
        return q < end && *q == '"' ? q + 1 : NULL;
    }
    return k == SL_NODE_INT || k == SL_NODE_FLOAT ? s.ptr + s.len : NULL;
}

static bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Scan [p, stop) byte by byte with the in-string state *in; escapes skip
 * the escaped byte (which may take p past stop). NULL when whitespace
 * between tokens is found, else where the scan ended. */
static const char *scan_bytes(const char *p, const char *stop, unsigned *in) {
    while (p < stop) {
        char c = *p;
        if (*in) {
            if (c == '\\') {
                p += 2;
                continue;
            }
            *in = c != '"';
        } else if (c == '"') {
            *in = 1;
        } else if (is_ws(c)) {
            return NULL;
        }
        p++;
    }
    return p;
}

/* Whether the JSON text [s, e) has no whitespace between tokens, i.e. is
 * what a compact writer emits. Exact: whitespace inside strings does not
 * count. With SSE2, 16 bytes at a time: the prefix XOR of the quote mask
 * gives which bytes lie inside strings; a block holding a backslash is
 * scanned byte by byte (escapes are rare). */
static bool compact(const char *s, const char *e) {
    const char *p = s;
    unsigned in = 0;
#ifdef __SSE2__
    const __m128i vq = _mm_set1_epi8('"'), vb = _mm_set1_epi8('\\');
    const __m128i vs = _mm_set1_epi8(' '), vt = _mm_set1_epi8('\t');
    const __m128i vn = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r');
    while (e - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned b = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vb));
        if (b) {
            p = scan_bytes(p, p + 16, &in);
            if (!p) {
                return false;
            }
            continue;
        }
        unsigned q = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vq));
        unsigned w = (unsigned)_mm_movemask_epi8(_mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, vs), _mm_cmpeq_epi8(v, vt)),
            _mm_or_si128(_mm_cmpeq_epi8(v, vn), _mm_cmpeq_epi8(v, vr))));
        /* bit i of x: odd number of quotes in bytes 0..i */
        unsigned x = q;
        x ^= x << 1;
        x ^= x << 2;
        x ^= x << 4;
        x ^= x << 8;
        unsigned inside = (x ^ (in ? 0xffffu : 0u)) & 0xffffu;
        if (w & ~inside & 0xffffu) {
            return false;
        }
        in ^= (unsigned)__builtin_popcount(q) & 1u;
        p += 16;
    }
#endif
    p = scan_bytes(p, e, &in);
    return p && p <= e && !in;
}

/* Write n: its source bytes when unchanged and compact, else the doc
 * writer. */
static sl_status write_node(wctx *w, const sl_node *n, bool dirty) {
    sl_node_kind k = sl_node_kind_of(n);
    if (!dirty && (k == SL_NODE_OBJECT || k == SL_NODE_ARRAY)) {
        const char *s = span_start(w->o, n, 0);
        const char *e = s ? span_end(w->o, n, 0) : NULL;
        if (e && e > s && compact(s, e)) {
            return sl__buf_append(w->out, s, (size_t)(e - s));
        }
    }
    return sl_json_write(w->out, n, SL_WRITE_COMPACT, w->err);
}

static sl_status put_key(wctx *w, sl_str key) {
    sl_status rc = sl_json_write_string(w->out, key.ptr, key.len);
    if (rc == SL_OK) {
        rc = sl__buf_putc(w->out, ':');
    }
    return rc;
}

typedef sl_status (*list_fn)(wctx *w, size_t group);

/* Write an entry object: every member through the doc writer except the
 * one list member (camel/snake), written by fn. */
static sl_status write_entry(wctx *w, const sl_node *obj, const char *camel,
                             const char *snake, list_fn fn, size_t group,
                             bool dirty) {
    sl_status rc = sl__buf_putc(w->out, '{');
    size_t n = sl_node_len(obj);
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        if (i > 0) {
            rc = sl__buf_putc(w->out, ',');
        }
        sl_str key = sl_node_key(obj, i);
        if (rc == SL_OK) {
            rc = put_key(w, key);
        }
        if (rc != SL_OK) {
            break;
        }
        const sl_node *v = sl_node_at(obj, i);
        if (sl__otlp_key_is(key, camel, snake) &&
            sl_node_kind_of(v) == SL_NODE_ARRAY) {
            rc = fn(w, group);
        } else {
            rc = write_node(w, v, dirty);
        }
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(w->out, '}');
    }
    return rc;
}

static sl_status write_records(wctx *w, size_t g) {
    const sl_otlp *o = w->o;
    const sl__otlp_scope *s = &o->scopes[g];
    sl_status rc = sl__buf_putc(w->out, '[');
    bool first = true;
    for (uint32_t k = 0; k < s->count && rc == SL_OK; k++) {
        const sl__otlp_rec *r = &o->recs[s->first + k];
        if (r->dropped) {
            continue;
        }
        if (!first) {
            rc = sl__buf_putc(w->out, ',');
        }
        first = false;
        if (rc == SL_OK) {
            rc = write_node(w, r->node, r->dirty);
        }
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(w->out, ']');
    }
    return rc;
}

static const char *const list_camel[3][2] = {
    {"scopeLogs", "logRecords"},
    {"scopeMetrics", "metrics"},
    {"scopeSpans", "spans"},
};
static const char *const list_snake[3][2] = {
    {"scope_logs", "log_records"},
    {"scope_metrics", "metrics"},
    {"scope_spans", "spans"},
};

static sl_status write_scopes(wctx *w, size_t ri) {
    const sl_otlp *o = w->o;
    sl_status rc = sl__buf_putc(w->out, '[');
    bool first = true;
    const sl__otlp_res *r = &o->res[ri];
    for (size_t g = r->sfirst; g < r->sfirst + r->scount && rc == SL_OK; g++) {
        const sl__otlp_scope *s = &o->scopes[g];
        if (s->kept == 0) {
            continue;
        }
        if (!first) {
            rc = sl__buf_putc(w->out, ',');
        }
        first = false;
        if (rc == SL_OK) {
            rc = write_entry(w, s->entry, list_camel[o->sig][1],
                             list_snake[o->sig][1], write_records, g, s->dirty);
        }
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(w->out, ']');
    }
    return rc;
}

static sl_status write_resources(wctx *w, size_t unused) {
    SL_UNUSED(unused);
    const sl_otlp *o = w->o;
    sl_status rc = sl__buf_putc(w->out, '[');
    bool first = true;
    for (size_t ri = 0; ri < o->nres && rc == SL_OK; ri++) {
        const sl__otlp_res *r = &o->res[ri];
        if (r->kept == 0) {
            continue;
        }
        if (!first) {
            rc = sl__buf_putc(w->out, ',');
        }
        first = false;
        if (rc == SL_OK) {
            rc = write_entry(w, r->entry, list_camel[o->sig][0],
                             list_snake[o->sig][0], write_scopes, ri, r->dirty);
        }
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(w->out, ']');
    }
    return rc;
}

static const char *const root_camel[3] = {"resourceLogs", "resourceMetrics",
                                          "resourceSpans"};
static const char *const root_snake[3] = {"resource_logs", "resource_metrics",
                                          "resource_spans"};

sl_status sl_otlp_write(const sl_otlp *o, sl_buf *out, sl_error *err) {
    if (!o || !out) {
        return sl__error(err, SL_EINVAL, NULL, "no batch or no buffer");
    }
    const sl_node *root = sl_doc_root(o->doc);
    if (!root || !o->loaded) {
        return sl__error(err, SL_EINVAL, NULL, "no request loaded");
    }
    size_t start = out->len;
    sl_status rc;
    wctx w = {o, out, err};
    if ((o->ndropped == 0 && o->nempty == 0) || !o->list ||
        o->sig == SL_SIGNAL_NONE) {
        rc = write_node(&w, root, o->dirty);
    } else {
        /* the root's other members: changes never reach them */
        rc = write_entry(&w, root, root_camel[o->sig], root_snake[o->sig],
                         write_resources, 0, false);
    }
    if (rc != SL_OK) {
        out->len = start; /* no half-written request */
        if (out->ptr) {
            out->ptr[start] = '\0';
        }
        if (err && err->code == SL_OK) {
            sl__error(err, rc, NULL, "%s", sl_status_str(rc));
        }
        if (rc == SL_ENOMEM) {
            sl__nomem(err);
        }
    }
    return rc;
}

/* src/match/glob.c: translate a glob to the Vectorscan regex dialect, with
 * the semantics of Rust's globset 0.4.17 as the trace-filter reference uses
 * it (GlobBuilder::literal_separator = SL_PAT_GLOB_PATH, backslash escapes,
 * no empty alternates, classes closed or an error). Leaves out matching:
 * the result is compiled by patset.c like any other pattern.
 *
 * The one idea: parse to globset's tokens first, then render. The `**`
 * rules depend on the token before and the character after (`**` /
 * `**` + `/` / `/` + `**` + `/` / `/` + `**` at the end), which is why
 * globset builds tokens, and mirroring its parser keeps the edge cases
 * (`a**`, `**` in braces, `[]]`, `[a-]`) identical.
 *
 * One deliberate difference: globset renders `?` and classes in byte mode
 * ((?-u), so `?` matches one byte and `[é]` one of its bytes). Here `?` and
 * classes match one UTF-8 encoded character, which is what the patterns
 * mean for non-ASCII names; a byte that cannot start a valid sequence also
 * counts as one character for `?` and negated classes. On ASCII input the
 * two agree. */
#include <sluice/match.h>

#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "match/private.h"

#define NONE   UINT32_MAX
#define NOCHAR UINT32_MAX

typedef enum tkind {
    T_LIT = 0,
    T_ANY = 1,     /* ? */
    T_STAR = 2,    /* * */
    T_RPREFIX = 3, /* leading double star slash */
    T_RSUFFIX = 4, /* trailing slash double star */
    T_RZOM = 5,    /* slash double star slash */
    T_CLASS = 6,   /* [...] */
    T_ALT = 7      /* {a,b} */
} tkind;

typedef struct tok {
    uint8_t kind;
    uint8_t negated;
    uint32_t a, b; /* LIT: a = code point; CLASS: ranges[a..a+b];
                      ALT: altlist[a..a+b] */
    uint32_t prev, next;
} tok;

typedef struct branch {
    uint32_t head, tail;
} branch;

typedef struct range {
    uint32_t lo, hi;
} range;

typedef struct vec {
    void *p;
    size_t len, cap;
} vec;

typedef struct parser {
    const char *s;
    size_t len, pos;
    uint32_t cur, prev;
    vec toks;     /* tok */
    vec ranges;   /* range, for classes */
    vec branches; /* branch, every branch ever opened */
    vec active;   /* uint32_t: indices into branches, base first */
    vec altstack; /* uint32_t: index into active where a group starts */
    vec altlist;  /* uint32_t: branch indices of finished groups */
    const char *why;
    char *whybuf;
    size_t whycap;
} parser;

static sl_status vpush(vec *v, size_t esz, const void *e) {
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        size_t bytes = 0;
        if (__builtin_mul_overflow(cap, esz, &bytes)) {
            return SL_ENOMEM;
        }
        void *p = sl__realloc(v->p, v->cap * esz, bytes);
        if (!p) {
            return SL_ENOMEM;
        }
        v->p = p;
        v->cap = cap;
    }
    memcpy((char *)v->p + v->len * esz, e, esz);
    v->len++;
    return SL_OK;
}

static void vfree(vec *v, size_t esz) {
    sl__free(v->p, v->cap * esz);
    v->p = NULL;
    v->len = v->cap = 0;
}

#define AT(v, T, i) (((T *)(v).p)[i])

/* Decode the (already validated) UTF-8 character at s[*pos]. */
static uint32_t decode(const char *s, size_t len, size_t *pos) {
    if (*pos >= len) {
        return NOCHAR;
    }
    const unsigned char *u = (const unsigned char *)s + *pos;
    uint32_t c = u[0];
    size_t n = 1;
    if (c >= 0xF0) {
        c = ((c & 0x07u) << 18) | ((u[1] & 0x3Fu) << 12) |
            ((u[2] & 0x3Fu) << 6) | (u[3] & 0x3Fu);
        n = 4;
    } else if (c >= 0xE0) {
        c = ((c & 0x0Fu) << 12) | ((u[1] & 0x3Fu) << 6) | (u[2] & 0x3Fu);
        n = 3;
    } else if (c >= 0xC0) {
        c = ((c & 0x1Fu) << 6) | (u[1] & 0x3Fu);
        n = 2;
    }
    *pos += n;
    return c;
}

static uint32_t bump(parser *p) {
    p->prev = p->cur;
    p->cur = decode(p->s, p->len, &p->pos);
    return p->cur;
}

static uint32_t peek(const parser *p) {
    size_t pos = p->pos;
    return decode(p->s, p->len, &pos);
}

static sl_status fail(parser *p, const char *why) {
    p->why = why;
    return SL_EPATTERN;
}

static branch *top_branch(parser *p) {
    uint32_t b = AT(p->active, uint32_t, p->active.len - 1);
    return &AT(p->branches, branch, b);
}

static sl_status push_tok(parser *p, tkind kind, uint32_t a, uint32_t b,
                          bool negated) {
    if (p->active.len == 0) {
        return fail(p, "unopened alternate group; missing '{' (maybe escape "
                       "'}' with '[}]'?)");
    }
    tok t = {.kind = (uint8_t)kind,
             .negated = negated,
             .a = a,
             .b = b,
             .prev = NONE,
             .next = NONE};
    uint32_t idx = (uint32_t)p->toks.len;
    branch *br = top_branch(p);
    t.prev = br->tail;
    sl_status rc = vpush(&p->toks, sizeof(tok), &t);
    if (rc != SL_OK) {
        return rc;
    }
    br = top_branch(p);
    if (br->tail != NONE) {
        AT(p->toks, tok, br->tail).next = idx;
    } else {
        br->head = idx;
    }
    br->tail = idx;
    return SL_OK;
}

/* Remove and return the last token of the current branch (NONE if empty). */
static uint32_t pop_tok(parser *p) {
    branch *br = top_branch(p);
    uint32_t t = br->tail;
    if (t == NONE) {
        return NONE;
    }
    uint32_t prev = AT(p->toks, tok, t).prev;
    br->tail = prev;
    if (prev == NONE) {
        br->head = NONE;
    } else {
        AT(p->toks, tok, prev).next = NONE;
    }
    return t;
}

static sl_status new_branch(parser *p) {
    branch b = {NONE, NONE};
    uint32_t idx = (uint32_t)p->branches.len;
    sl_status rc = vpush(&p->branches, sizeof(branch), &b);
    if (rc == SL_OK) {
        rc = vpush(&p->active, sizeof(uint32_t), &idx);
    }
    return rc;
}

static sl_status push_alternate(parser *p) {
    if (p->altstack.len >= SL_GLOB_MAX_NEST) {
        p->why = "alternate groups nested too deeply";
        return SL_ELIMIT;
    }
    uint32_t start = (uint32_t)p->active.len;
    sl_status rc = vpush(&p->altstack, sizeof(uint32_t), &start);
    if (rc == SL_OK) {
        rc = new_branch(p);
    }
    return rc;
}

static sl_status pop_alternate(parser *p) {
    if (p->altstack.len == 0) {
        return fail(p, "unopened alternate group; missing '{' (maybe escape "
                       "'}' with '[}]'?)");
    }
    uint32_t start = AT(p->altstack, uint32_t, --p->altstack.len);
    uint32_t first = (uint32_t)p->altlist.len;
    for (size_t i = start; i < p->active.len; i++) {
        sl_status rc =
            vpush(&p->altlist, sizeof(uint32_t), &AT(p->active, uint32_t, i));
        if (rc != SL_OK) {
            return rc;
        }
    }
    uint32_t count = (uint32_t)(p->active.len - start);
    p->active.len = start;
    return push_tok(p, T_ALT, first, count, false);
}

static sl_status parse_comma(parser *p) {
    if (p->altstack.len == 0) {
        return push_tok(p, T_LIT, ',', 0, false);
    }
    return new_branch(p);
}

static sl_status parse_backslash(parser *p) {
    uint32_t c = bump(p);
    if (c == NOCHAR) {
        return fail(p, "dangling '\\'");
    }
    return push_tok(p, T_LIT, c, 0, false);
}

static sl_status push_two_stars(parser *p) {
    sl_status rc = push_tok(p, T_STAR, 0, 0, false);
    if (rc == SL_OK) {
        rc = push_tok(p, T_STAR, 0, 0, false);
    }
    return rc;
}

/* globset's parse_star, rule for rule. */
static sl_status parse_star(parser *p) {
    uint32_t prev = p->prev;
    if (peek(p) != '*') {
        return push_tok(p, T_STAR, 0, 0, false);
    }
    bump(p);
    if (top_branch(p)->tail == NONE) { /* no tokens yet in this branch */
        uint32_t nx = peek(p);
        if (nx != NOCHAR && nx != '/') {
            return push_two_stars(p);
        }
        sl_status rc = push_tok(p, T_RPREFIX, 0, 0, false);
        bump(p);
        return rc;
    }
    if (prev != '/') {
        if (p->active.len <= 1 || (prev != ',' && prev != '{')) {
            return push_two_stars(p);
        }
    }
    bool is_suffix;
    uint32_t nx = peek(p);
    if (nx == NOCHAR) {
        bump(p);
        is_suffix = true;
    } else if ((nx == ',' || nx == '}') && p->active.len >= 2) {
        is_suffix = true;
    } else if (nx == '/') {
        bump(p);
        is_suffix = false;
    } else {
        return push_two_stars(p);
    }
    uint32_t t = pop_tok(p);
    uint8_t k = t == NONE ? T_LIT : AT(p->toks, tok, t).kind;
    if (k == T_RPREFIX || k == T_RSUFFIX) {
        return push_tok(p, (tkind)k, 0, 0, false);
    }
    return push_tok(p, is_suffix ? T_RSUFFIX : T_RZOM, 0, 0, false);
}

static sl_status add_to_last_range(parser *p, uint32_t c) {
    range *r = &AT(p->ranges, range, p->ranges.len - 1);
    r->hi = c;
    if (r->hi < r->lo) {
        char a[5], b[5];
        a[sl__utf8_encode(r->lo, a)] = '\0';
        b[sl__utf8_encode(r->hi, b)] = '\0';
        snprintf(p->whybuf, p->whycap, "invalid range; '%s' > '%s'", a, b);
        p->why = p->whybuf;
        return SL_EPATTERN;
    }
    return SL_OK;
}

static sl_status parse_class(parser *p) {
    bool negated = false;
    uint32_t nx = peek(p);
    if (nx == '!' || nx == '^') {
        bump(p);
        negated = true;
    }
    uint32_t first_range = (uint32_t)p->ranges.len;
    bool first = true, in_range = false;
    for (;;) {
        uint32_t c = bump(p);
        if (c == NOCHAR) {
            return fail(p, "unclosed character class; missing ']'");
        }
        sl_status rc = SL_OK;
        if (c == ']' && !first) {
            break;
        }
        if (c == '-' && !first) {
            if (in_range) {
                rc = add_to_last_range(p, '-');
                in_range = false;
            } else {
                in_range = true;
            }
        } else if (in_range) {
            rc = add_to_last_range(p, c);
            in_range = false;
        } else {
            range r = {c, c};
            rc = vpush(&p->ranges, sizeof(range), &r);
        }
        if (rc != SL_OK) {
            return rc;
        }
        first = false;
    }
    if (in_range) {
        range r = {'-', '-'};
        sl_status rc = vpush(&p->ranges, sizeof(range), &r);
        if (rc != SL_OK) {
            return rc;
        }
    }
    return push_tok(p, T_CLASS, first_range,
                    (uint32_t)p->ranges.len - first_range, negated);
}

static sl_status parse(parser *p) {
    sl_status rc = new_branch(p);
    uint32_t c;
    while (rc == SL_OK && (c = bump(p)) != NOCHAR) {
        switch (c) {
        case '?':
            rc = push_tok(p, T_ANY, 0, 0, false);
            break;
        case '*':
            rc = parse_star(p);
            break;
        case '[':
            rc = parse_class(p);
            break;
        case '{':
            rc = push_alternate(p);
            break;
        case '}':
            rc = pop_alternate(p);
            break;
        case ',':
            rc = parse_comma(p);
            break;
        case '\\':
            rc = parse_backslash(p);
            break;
        default:
            rc = push_tok(p, T_LIT, c, 0, false);
            break;
        }
    }
    if (rc == SL_OK && p->altstack.len > 0) {
        rc = fail(p, "unclosed alternate group; missing '}' (maybe escape "
                     "'{' with '[{]'?)");
    }
    return rc;
}

/* ---- rendering ---- */

static sl_status put_byte(sl_buf *out, unsigned char b) {
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
        (b >= '0' && b <= '9')) {
        return sl__buf_putc(out, (char)b);
    }
    static const char hex[] = "0123456789abcdef";
    char e[4] = {'\\', 'x', hex[b >> 4], hex[b & 15]};
    return sl__buf_append(out, e, 4);
}

static sl_status put_str(sl_buf *out, const char *s) {
    return sl__buf_append(out, s, strlen(s));
}

static sl_status put_lit(sl_buf *out, uint32_t cp) {
    char u[4];
    size_t n = sl__utf8_encode(cp, u);
    sl_status rc = SL_OK;
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        rc = put_byte(out, (unsigned char)u[i]);
    }
    return rc;
}

static sl_status put_byte_range(sl_buf *out, unsigned lo, unsigned hi) {
    if (lo == hi) {
        return put_byte(out, (unsigned char)lo);
    }
    sl_status rc = sl__buf_putc(out, '[');
    if (rc == SL_OK) {
        rc = put_byte(out, (unsigned char)lo);
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(out, '-');
    }
    if (rc == SL_OK) {
        rc = put_byte(out, (unsigned char)hi);
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(out, ']');
    }
    return rc;
}

/* Emit the UTF-8 byte-range sequences of code points lo..hi (same encoded
 * length, no surrogates), each preceded by '|' (Russ Cox's utf8 ranges). */
static sl_status put_utf8_seqs(sl_buf *out, uint32_t lo, uint32_t hi) {
    static const uint32_t limits[] = {0x7F, 0x7FF, 0xFFFF};
    for (size_t i = 0; i < SL_ARRAY_LEN(limits); i++) {
        if (lo <= limits[i] && hi > limits[i]) {
            sl_status rc = put_utf8_seqs(out, lo, limits[i]);
            return rc != SL_OK ? rc : put_utf8_seqs(out, limits[i] + 1, hi);
        }
    }
    char a[4], b[4];
    size_t n = sl__utf8_encode(lo, a);
    for (size_t i = 1; i < n; i++) {
        uint32_t m = (1u << (6 * i)) - 1;
        if ((lo & ~m) != (hi & ~m)) {
            if ((lo & m) != 0) {
                sl_status rc = put_utf8_seqs(out, lo, lo | m);
                return rc != SL_OK ? rc : put_utf8_seqs(out, (lo | m) + 1, hi);
            }
            if ((hi & m) != m) {
                sl_status rc = put_utf8_seqs(out, lo, (hi & ~m) - 1);
                return rc != SL_OK ? rc : put_utf8_seqs(out, hi & ~m, hi);
            }
        }
    }
    sl__utf8_encode(hi, b);
    sl_status rc = sl__buf_putc(out, '|');
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        rc = put_byte_range(out, (unsigned char)a[i], (unsigned char)b[i]);
    }
    return rc;
}

static int range_cmp(const void *x, const void *y) {
    const range *a = x, *b = y;
    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Sort and merge r[0..n) in place; returns the new count. */
static size_t ranges_normalize(range *r, size_t n) {
    if (n == 0) {
        return 0;
    }
    qsort(r, n, sizeof(*r), range_cmp);
    size_t w = 0;
    for (size_t i = 1; i < n; i++) {
        if (r[i].lo <= r[w].hi + 1) {
            if (r[i].hi > r[w].hi) {
                r[w].hi = r[i].hi;
            }
        } else {
            r[++w] = r[i];
        }
    }
    return w + 1;
}

/* Render a class of code point ranges (negated or not) matching one UTF-8
 * character. work has room for n + 2 ranges. */
static sl_status put_class(sl_buf *out, const range *in, size_t n, bool negated,
                           range *work) {
    memcpy(work, in, n * sizeof(*in));
    n = ranges_normalize(work, n);
    if (negated) { /* complement over 0..0x10FFFF */
        size_t m = 0;
        uint32_t next = 0;
        bool done = false;
        for (size_t i = 0; i < n; i++) {
            range r = work[i];
            if (r.lo > next) {
                work[m++] = (range){next, r.lo - 1};
            }
            if (r.hi >= 0x10FFFF) {
                done = true;
                break;
            }
            next = r.hi + 1;
        }
        if (!done) {
            work[m++] = (range){next, 0x10FFFF};
        }
        n = m;
    }
    /* ASCII part as one bracket, the rest as UTF-8 sequences */
    size_t mark = out->len;
    sl_status rc = put_str(out, "(?:[");
    bool ascii = false;
    for (size_t i = 0; i < n && rc == SL_OK && work[i].lo <= 0x7F; i++) {
        uint32_t hi = work[i].hi > 0x7F ? 0x7F : work[i].hi;
        rc = put_byte(out, (unsigned char)work[i].lo);
        if (rc == SL_OK && hi != work[i].lo) {
            rc = sl__buf_putc(out, '-');
            if (rc == SL_OK) {
                rc = put_byte(out, (unsigned char)hi);
            }
        }
        ascii = true;
    }
    if (rc != SL_OK) {
        return rc;
    }
    if (ascii) {
        rc = sl__buf_putc(out, ']');
    } else {
        out->len = mark + 3; /* keep "(?:" and drop '[' */
        out->ptr[out->len] = '\0';
    }
    size_t after_ascii = out->len;
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        uint32_t lo = work[i].lo < 0x80 ? 0x80 : work[i].lo;
        uint32_t hi = work[i].hi;
        if (hi < lo) {
            continue;
        }
        /* leave out the surrogates: UTF-8 cannot encode them */
        if (lo <= 0xDFFF && hi >= 0xD800) {
            if (lo < 0xD800) {
                rc = put_utf8_seqs(out, lo, 0xD7FF);
            }
            if (rc == SL_OK && hi > 0xDFFF) {
                rc = put_utf8_seqs(out, 0xE000, hi);
            }
        } else {
            rc = put_utf8_seqs(out, lo, hi);
        }
    }
    if (rc == SL_OK && negated) {
        /* a byte that can start no valid sequence is one character */
        rc = put_str(out, "|[\\x80-\\xbf\\xc0\\xc1\\xf5-\\xff]");
    }
    if (rc != SL_OK) {
        return rc;
    }
    if (!ascii && out->len > after_ascii) {
        /* "(?:|seq|seq": drop the first '|' */
        memmove(out->ptr + after_ascii, out->ptr + after_ascii + 1,
                out->len - after_ascii - 1);
        out->len--;
        out->ptr[out->len] = '\0';
    }
    if (out->len == mark + 3) { /* nothing at all: an impossible class */
        return SL_EPATTERN;
    }
    return sl__buf_putc(out, ')');
}

static sl_status render(parser *p, uint32_t head, unsigned flags, sl_buf *out,
                        range *work);

static const char *const ANY_BYTES = "[\\x00-\\xff]";

static sl_status render_tok(parser *p, const tok *t, unsigned flags,
                            sl_buf *out, range *work) {
    bool path = (flags & SL_PAT_GLOB_PATH) != 0;
    switch ((tkind)t->kind) {
    case T_LIT:
        return put_lit(out, t->a);
    case T_ANY: {
        range slash = {'/', '/'};
        return put_class(out, &slash, path ? 1 : 0, true, work);
    }
    case T_STAR:
        return path ? put_str(out, "[^/]*") : put_str(out, "[\\x00-\\xff]*");
    case T_RPREFIX:
        return put_str(out, "(?:/?|[\\x00-\\xff]*/)");
    case T_RSUFFIX:
        return put_str(out, "/[\\x00-\\xff]*");
    case T_RZOM:
        return put_str(out, "(?:/|/[\\x00-\\xff]*/)");
    case T_CLASS:
        return put_class(out, &AT(p->ranges, range, t->a), t->b,
                         t->negated != 0, work);
    case T_ALT: {
        size_t open = out->len;
        sl_status rc = put_str(out, "(?:");
        size_t parts = 0;
        for (uint32_t i = 0; i < t->b && rc == SL_OK; i++) {
            uint32_t b = AT(p->altlist, uint32_t, t->a + i);
            size_t m = out->len;
            if (parts > 0) {
                rc = sl__buf_putc(out, '|');
            }
            size_t m2 = out->len;
            if (rc == SL_OK) {
                rc = render(p, AT(p->branches, branch, b).head, flags, out,
                            work);
            }
            if (rc == SL_OK && out->len == m2) { /* empty: dropped */
                out->len = m;
                out->ptr[m] = '\0';
            } else {
                parts++;
            }
        }
        if (rc != SL_OK) {
            return rc;
        }
        if (parts == 0) {
            out->len = open;
            if (out->ptr) {
                out->ptr[open] = '\0';
            }
            return SL_OK;
        }
        return sl__buf_putc(out, ')');
    }
    }
    return SL_EINVAL;
}

static sl_status render(parser *p, uint32_t head, unsigned flags, sl_buf *out,
                        range *work) {
    sl_status rc = SL_OK;
    for (uint32_t t = head; t != NONE && rc == SL_OK;
         t = AT(p->toks, tok, t).next) {
        tok copy = AT(p->toks, tok, t);
        rc = render_tok(p, &copy, flags, out, work);
    }
    return rc;
}

sl_status sl__glob_translate(const char *glob, size_t len, unsigned flags,
                             sl_buf *out, const char **why, char *whybuf,
                             size_t whycap) {
    *why = NULL;
    if (len > SL_PAT_MAX_LEN) {
        *why = "pattern too long";
        return SL_ELIMIT;
    }
    if (sl__utf8_valid_prefix(glob, len) != len) {
        *why = "pattern is not valid utf-8";
        return SL_EPATTERN;
    }
    parser p = {.s = glob,
                .len = len,
                .cur = NOCHAR,
                .prev = NOCHAR,
                .whybuf = whybuf,
                .whycap = whycap};
    range *work = NULL;
    size_t work_n = 0;
    size_t start = out->len;
    sl_status rc = parse(&p);
    if (rc == SL_OK) {
        /* one scratch range list big enough for any class (+ complement) */
        work_n = p.ranges.len + 2;
        work = sl__alloc(work_n * sizeof(*work));
        rc = work ? SL_OK : SL_ENOMEM;
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(out, '^');
    }
    if (rc == SL_OK) {
        branch base = AT(p.branches, branch, 0);
        if (base.head != NONE && base.head == base.tail &&
            AT(p.toks, tok, base.head).kind == T_RPREFIX) {
            /* globset: a glob that is only a double star matches all */
            rc = sl__buf_append(out, ANY_BYTES, strlen(ANY_BYTES));
            if (rc == SL_OK) {
                rc = sl__buf_putc(out, '*');
            }
        } else {
            rc = render(&p, base.head, flags, out, work);
        }
    }
    if (rc == SL_OK) {
        rc = put_str(out, "\\z");
    }
    if (rc != SL_OK) {
        if (!*why) {
            *why = p.why             ? p.why
                   : rc == SL_ENOMEM ? "out of memory"
                                     : "cannot translate glob";
        }
        if (out->ptr) {
            out->len = start;
            out->ptr[start] = '\0';
        }
        out->failed = 0;
    }
    sl__free(work, work_n * sizeof(*work));
    vfree(&p.toks, sizeof(tok));
    vfree(&p.ranges, sizeof(range));
    vfree(&p.branches, sizeof(branch));
    vfree(&p.active, sizeof(uint32_t));
    vfree(&p.altstack, sizeof(uint32_t));
    vfree(&p.altlist, sizeof(uint32_t));
    return rc;
}

sl_status sl_glob_to_regex(const char *glob, size_t len, unsigned flags,
                           sl_buf *out, sl_error *err) {
    if (!out || (!glob && len > 0)) {
        return sl__error(err, SL_EINVAL, NULL, "no glob or no output buffer");
    }
    const char *why = NULL;
    char whybuf[64];
    sl_status rc = sl__glob_translate(glob ? glob : "", len, flags, out, &why,
                                      whybuf, sizeof(whybuf));
    if (rc == SL_ENOMEM) {
        return sl__nomem(err);
    }
    if (rc != SL_OK) {
        sl_pat p = {.kind = SL_PAT_GLOB, .text = glob, .len = len};
        sl__match_pattern_error(err, &p, why);
        if (err) {
            err->code = rc;
        }
    }
    return rc;
}

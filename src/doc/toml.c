/* src/doc/toml.c: the TOML 1.0 reader. It builds the document tree in one
 * pass: tables become objects (members in document order), arrays arrays,
 * strings their decoded text, and every number a normalised lexeme
 * (integers in plain decimal, floats without '_' or a leading '+') so that
 * JSON output and sl_node_int work unchanged; date-times keep their source
 * lexeme. Left out: TOML 1.1 additions (\e, \xHH, newlines and trailing
 * commas in inline tables, optional seconds).
 *
 * The one idea: TOML's redefinition rules live as state on the table nodes
 * themselves. Bits 4..7 of sl_node.flags record how a table came to be (a
 * [header], dotted keys in the current section, dotted keys in an earlier
 * section, an inline table) and whether an array was made by [[...]]; each
 * step of a header or a dotted key checks them, so no map of paths is
 * needed. When a section ends, the tables its dotted keys defined are
 * promoted from "this section" to "defined" (tomli's pending flags), by a
 * walk that only enters those tables. Tables that grow large get a hash
 * index (its id kept in sl_node.reserved), so key lookup stays O(1). */
#include <sluice/doc.h>

#include <inttypes.h>
#include <stdio.h>

#include "base/base.h"
#include "base/codec.h"
#include "doc/private.h"

enum {
    TF_EXPLICIT = 0x10, /* table defined by a header, or by dotted keys in
                           a section that has ended */
    TF_PENDING = 0x20,  /* table defined by dotted keys in this section */
    TF_SEALED = 0x40,   /* inline table or static array: closed */
    TF_AOT = 0x80,      /* array made by [[header]] */
    INDEX_FROM = 16,    /* a table reaching this many keys gets an index */
    INDEX_IDS = 65535,  /* ids fit sl_node.reserved; more tables stay
                           linear (slower, still correct) */
    DEPTH_CAP = 4096    /* arrays and inline tables recurse on the C stack
                           (under 1 KiB a level even with ASan): a larger
                           max_depth is clamped to this */
};

#define NOT_FOUND ((size_t)-1)

/* One part of a dotted key: text (source or arena) and where it starts. */
typedef struct kpart {
    const char *s;
    uint32_t len;
    uint32_t off;
} kpart;

/* Open-addressing index of one table: member index + 1 per slot. */
typedef struct tindex {
    uint32_t *slot;
    uint32_t cap; /* power of two */
} tindex;

typedef struct parser {
    sl_doc *doc;
    const char *s;
    size_t n, p;
    uint32_t max_depth;
    sl_error *err;
    kpart *kp; /* the key being parsed */
    size_t kp_len, kp_cap;
    tindex *ix; /* ix[id - 1] */
    uint32_t ix_len, ix_cap;
    sl_node *root;
    sl_node *cur; /* the current section's table */
    uint32_t cur_depth;
} parser;

/* ---- errors ---- */

__attribute__((format(printf, 4, 5))) static sl_status
fail(parser *p, sl_status code, size_t off, const char *fmt, ...) {
    sl_pos pos = {p->doc->file, 0, 0};
    sl__doc_locate(p->doc, off, &pos.line, &pos.col);
    va_list ap;
    va_start(ap, fmt);
    sl__verror(p->err, code, &pos, fmt, ap);
    va_end(ap);
    return code;
}

static sl_status nomem(parser *p) {
    return sl__nomem(p->err);
}

static sl_status too_deep(parser *p, size_t off) {
    return fail(p, SL_ELIMIT, off, "nesting deeper than %u",
                (unsigned)p->max_depth);
}

/* Describe the character at off for a message: 'x', U+00E9, end of line,
 * end of file. */
static void describe(const parser *p, size_t off, char *out, size_t cap) {
    if (off >= p->n) {
        snprintf(out, cap, "end of file");
        return;
    }
    unsigned char c = (unsigned char)p->s[off];
    if (c == '\n' || (c == '\r' && off + 1 < p->n && p->s[off + 1] == '\n')) {
        snprintf(out, cap, "end of line");
    } else if (c > 0x20 && c < 0x7f) {
        snprintf(out, cap, "'%c'", c);
    } else if (c < 0x80) {
        snprintf(out, cap, "U+%04X", c);
    } else {
        /* the text is valid UTF-8 (checked first): decode for the name */
        uint32_t cp = c >= 0xF0 ? c & 0x07 : c >= 0xE0 ? c & 0x0F : c & 0x1F;
        size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        for (size_t k = 1; k < len && off + k < p->n; k++) {
            cp = (cp << 6) | ((unsigned char)p->s[off + k] & 0x3F);
        }
        snprintf(out, cap, "U+%04" PRIX32, cp);
    }
}

/* The key parts 0..upto joined by '.', quoted and cut for a message. */
static void key_path(const parser *p, size_t upto, char *out, size_t cap) {
    char tmp[SL_QUOTE_MAX * 2];
    size_t k = 0;
    for (size_t i = 0; i <= upto && i < p->kp_len && k < sizeof(tmp); i++) {
        if (i > 0) {
            tmp[k++] = '.';
        }
        for (uint32_t j = 0; j < p->kp[i].len && k < sizeof(tmp); j++) {
            unsigned char c = (unsigned char)p->kp[i].s[j];
            tmp[k++] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
        }
    }
    sl__quote(out, cap, tmp, k);
}

static const char *kind_word(const sl_node *n) {
    switch ((sl_node_kind)n->kind) {
    case SL_NODE_OBJECT:
        return "a table";
    case SL_NODE_ARRAY:
        return n->flags & TF_AOT ? "an array of tables" : "an array";
    case SL_NODE_STRING:
        return "a string";
    case SL_NODE_INT:
        return "an integer";
    case SL_NODE_FLOAT:
        return "a float";
    case SL_NODE_BOOL:
        return "a boolean";
    default:
        return "a date-time";
    }
}

/* ---- characters ---- */

static int peek(const parser *p) {
    return p->p < p->n ? (unsigned char)p->s[p->p] : -1;
}

static int at(const parser *p, size_t off) {
    return off < p->n ? (unsigned char)p->s[off] : -1;
}

static bool is_digit(int c) {
    return c >= '0' && c <= '9';
}

static bool is_bare(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           c == '_' || c == '-';
}

static bool is_control(int c) {
    return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

/* After a number, boolean or date-time: what may follow. */
static bool is_delim(int c) {
    return c == -1 || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
           c == '#' || c == ',' || c == ']' || c == '}';
}

static void skip_ws(parser *p) {
    while (p->p < p->n && (p->s[p->p] == ' ' || p->s[p->p] == '\t')) {
        p->p++;
    }
}

/* Length of the newline at off (1 for LF, 2 for CRLF), 0 if none. */
static size_t newline_len(const parser *p, size_t off) {
    int c = at(p, off);
    if (c == '\n') {
        return 1;
    }
    if (c == '\r' && at(p, off + 1) == '\n') {
        return 2;
    }
    return 0;
}

static sl_status bare_cr(parser *p, size_t off) {
    return fail(p, SL_EPARSE, off, "carriage return without line feed");
}

/* A comment from '#' to the end of the line (the newline is left). */
static sl_status skip_comment(parser *p) {
    p->p++;
    while (p->p < p->n) {
        int c = peek(p);
        if (c == '\n' || (c == '\r' && newline_len(p, p->p) == 2)) {
            return SL_OK;
        }
        if (c == '\r') {
            return bare_cr(p, p->p);
        }
        if (is_control(c)) {
            return fail(p, SL_EPARSE, p->p,
                        "control character U+%04X in comment", (unsigned)c);
        }
        p->p++;
    }
    return SL_OK;
}

/* Whitespace, comments and newlines (inside arrays). */
static sl_status skip_wcn(parser *p) {
    for (;;) {
        skip_ws(p);
        int c = peek(p);
        if (c == '#') {
            sl_status rc = skip_comment(p);
            if (rc != SL_OK) {
                return rc;
            }
            continue;
        }
        size_t nl = newline_len(p, p->p);
        if (nl > 0) {
            p->p += nl;
            continue;
        }
        if (c == '\r') {
            return bare_cr(p, p->p);
        }
        return SL_OK;
    }
}

/* ---- tables: lookup and insertion ---- */

static uint32_t key_hash(const char *s, size_t n) {
    uint64_t h = sl__fnv1a64(s, n);
    return (uint32_t)(h ^ (h >> 32));
}

static bool key_eq(const sl_node *k, const char *s, size_t n) {
    return k->len == n && (n == 0 || memcmp(k->u.s, s, n) == 0);
}

static void index_put(tindex *x, const sl_node *t, uint32_t i) {
    const sl_node *k = &t->u.members[i].key;
    uint32_t mask = x->cap - 1;
    uint32_t h = key_hash(k->u.s, k->len) & mask;
    while (x->slot[h] != 0) {
        h = (h + 1) & mask;
    }
    x->slot[h] = i + 1;
}

/* (Re)build the index of t with room for twice its keys. */
static sl_status index_fill(parser *p, tindex *x, const sl_node *t) {
    uint32_t cap = 64;
    while (cap < t->len * 2u + 2u) {
        cap *= 2;
    }
    uint32_t *slot = sl__calloc(cap, sizeof(uint32_t));
    if (!slot) {
        return nomem(p);
    }
    sl__free(x->slot, (size_t)x->cap * sizeof(uint32_t));
    x->slot = slot;
    x->cap = cap;
    for (uint32_t i = 0; i < t->len; i++) {
        index_put(x, t, i);
    }
    return SL_OK;
}

/* Keep t's index in step after a member was appended. */
static sl_status index_added(parser *p, sl_node *t) {
    if (t->reserved == 0) {
        if (t->len < INDEX_FROM || p->ix_len >= INDEX_IDS) {
            return SL_OK;
        }
        if (p->ix_len == p->ix_cap) {
            uint32_t cap = p->ix_cap ? p->ix_cap * 2 : 16;
            tindex *ix = sl__realloc(p->ix, (size_t)p->ix_cap * sizeof(*ix),
                                     (size_t)cap * sizeof(*ix));
            if (!ix) {
                return nomem(p);
            }
            p->ix = ix;
            p->ix_cap = cap;
        }
        tindex *x = &p->ix[p->ix_len];
        x->slot = NULL;
        x->cap = 0;
        sl_status rc = index_fill(p, x, t);
        if (rc != SL_OK) {
            return rc;
        }
        t->reserved = (uint16_t)++p->ix_len;
        return SL_OK;
    }
    tindex *x = &p->ix[t->reserved - 1];
    if (t->len * 2u > x->cap) {
        return index_fill(p, x, t);
    }
    index_put(x, t, t->len - 1);
    return SL_OK;
}

static size_t find(const parser *p, const sl_node *t, const char *s, size_t n) {
    if (t->reserved != 0) {
        const tindex *x = &p->ix[t->reserved - 1];
        uint32_t mask = x->cap - 1;
        uint32_t h = key_hash(s, n) & mask;
        while (x->slot[h] != 0) {
            uint32_t i = x->slot[h] - 1;
            if (key_eq(&t->u.members[i].key, s, n)) {
                return i;
            }
            h = (h + 1) & mask;
        }
        return NOT_FOUND;
    }
    for (uint32_t i = 0; i < t->len; i++) {
        if (key_eq(&t->u.members[i].key, s, n)) {
            return i;
        }
    }
    return NOT_FOUND;
}

/* Append member k to table t; the new value node (null) or NULL on OOM. */
static sl_node *add_member(parser *p, sl_node *t, const kpart *k) {
    sl_node *v = sl__node_push(p->doc, t, k->s, k->len, k->off);
    if (!v) {
        nomem(p);
        return NULL;
    }
    if (index_added(p, t) != SL_OK) {
        return NULL;
    }
    /* the push may have moved the members: find the value again */
    return &t->u.members[t->len - 1].val;
}

static void make_container(sl_node *n, sl_node_kind kind, size_t off,
                           uint8_t flags) {
    memset(n, 0, sizeof(*n));
    n->kind = (uint8_t)kind;
    n->flags = flags;
    n->off = (uint32_t)off;
}

/* End of a section: tables defined by its dotted keys become defined for
 * good. Only pending tables are entered, and a table is the current
 * section at most once, so all the walks together visit each member once.
 * Recursion is bounded by max_depth. */
static void promote(sl_node *t) {
    for (uint32_t i = 0; i < t->len; i++) {
        sl_node *v = &t->u.members[i].val;
        if (v->kind == SL_NODE_OBJECT && (v->flags & TF_PENDING)) {
            v->flags = (uint8_t)((v->flags & ~TF_PENDING) | TF_EXPLICIT);
            promote(v);
        }
    }
}

/* ---- keys ---- */

static sl_status parse_string(parser *p, bool allow_ml, const char **out,
                              uint32_t *olen);

static sl_status parse_simple_key(parser *p, kpart *k) {
    size_t start = p->p;
    int c = peek(p);
    k->off = (uint32_t)start;
    if (c == '"' || c == '\'') {
        if (at(p, start + 1) == c && at(p, start + 2) == c) {
            return fail(p, SL_EPARSE, start,
                        "a multi-line string cannot be a key");
        }
        return parse_string(p, false, &k->s, &k->len);
    }
    if (is_bare(c)) {
        while (is_bare(peek(p))) {
            p->p++;
        }
        k->s = p->s + start;
        k->len = (uint32_t)(p->p - start);
        return SL_OK;
    }
    if (c == '=') {
        return fail(p, SL_EPARSE, start, "missing key before '='");
    }
    char what[32];
    describe(p, start, what, sizeof(what));
    if (c == -1 || newline_len(p, start) > 0) {
        return fail(p, SL_EPARSE, start, "expected a key, found %s", what);
    }
    return fail(p, SL_EPARSE, start, "invalid character %s in key", what);
}

/* A dotted key into p->kp[0..kp_len); trailing whitespace is skipped.
 * Each part is a nesting level, so parts are limited by max_depth. */
static sl_status parse_key(parser *p) {
    p->kp_len = 0;
    for (;;) {
        if (p->kp_len >= p->max_depth) {
            return too_deep(p, p->p);
        }
        if (p->kp_len == p->kp_cap) {
            size_t cap = p->kp_cap ? p->kp_cap * 2 : 8;
            kpart *kp = sl__realloc(p->kp, p->kp_cap * sizeof(kpart),
                                    cap * sizeof(kpart));
            if (!kp) {
                return nomem(p);
            }
            p->kp = kp;
            p->kp_cap = cap;
        }
        sl_status rc = parse_simple_key(p, &p->kp[p->kp_len]);
        if (rc != SL_OK) {
            return rc;
        }
        p->kp_len++;
        skip_ws(p);
        if (peek(p) != '.') {
            return SL_OK;
        }
        p->p++;
        skip_ws(p);
    }
}

/* ---- strings ---- */

/* One escape sequence at i (a backslash) of a basic string. Appends the
 * decoded bytes at dst + *k (dst NULL: count only) and returns in *next
 * where the text continues. */
static sl_status escape(parser *p, size_t i, bool ml, char *dst, size_t *k,
                        size_t *next) {
    int e = at(p, i + 1);
    char c = 0;
    switch (e) {
    case 'b':
        c = '\b';
        break;
    case 't':
        c = '\t';
        break;
    case 'n':
        c = '\n';
        break;
    case 'f':
        c = '\f';
        break;
    case 'r':
        c = '\r';
        break;
    case '"':
        c = '"';
        break;
    case '\\':
        c = '\\';
        break;
    case 'u':
    case 'U': {
        size_t digits = e == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (size_t d = 0; d < digits; d++) {
            int h = sl__hexval(at(p, i + 2 + d));
            if (h < 0) {
                return fail(p, SL_EPARSE, i,
                            "invalid escape '\\%c': expected %zu hex digits", e,
                            digits);
            }
            cp = (cp << 4) | (uint32_t)h;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return fail(p, SL_EPARSE, i,
                        "invalid escape '\\%c%.*s': not a unicode scalar "
                        "value",
                        e, (int)digits, p->s + i + 2);
        }
        char buf[4];
        size_t len = sl__utf8_encode(cp, buf);
        if (dst) {
            memcpy(dst + *k, buf, len);
        }
        *k += len;
        *next = i + 2 + digits;
        return SL_OK;
    }
    default:
        if (ml && (e == ' ' || e == '\t' || e == '\n' || e == '\r')) {
            /* line-ending backslash: only whitespace up to the newline,
             * then every space and newline up to the next text goes */
            size_t j = i + 1;
            while (at(p, j) == ' ' || at(p, j) == '\t') {
                j++;
            }
            if (newline_len(p, j) == 0) {
                if (at(p, j) == '\r') {
                    return bare_cr(p, j);
                }
                return fail(p, SL_EPARSE, i,
                            "invalid escape '\\ ': only a newline may follow "
                            "a line-ending backslash");
            }
            for (;;) {
                int w = at(p, j);
                size_t nl = newline_len(p, j);
                if (w == ' ' || w == '\t') {
                    j++;
                } else if (nl > 0) {
                    j += nl;
                } else if (w == '\r') {
                    return bare_cr(p, j);
                } else {
                    break;
                }
            }
            *next = j;
            return SL_OK;
        }
        if (e > 0x20 && e < 0x7f) {
            return fail(p, SL_EPARSE, i, "invalid escape '\\%c'", e);
        }
        return fail(p, SL_EPARSE, i, "invalid escape");
    }
    if (dst) {
        dst[*k] = c;
    }
    (*k)++;
    *next = i + 2;
    return SL_OK;
}

/* Scan (dst NULL) or decode (dst holding *len bytes) the string whose
 * opening delimiter is at start. *len = decoded bytes, *body = where the
 * text starts, *copy = the decoded text differs from the source (escapes
 * or CRLF), *end = just past the closing delimiter. */
static sl_status scan_string(parser *p, size_t start, bool basic, bool ml,
                             char *dst, size_t *len, size_t *body, bool *copy,
                             size_t *end) {
    const char q = basic ? '"' : '\'';
    size_t i = start + (ml ? 3 : 1);
    if (ml) {
        i += newline_len(p, i); /* a newline right after """ is trimmed */
    }
    *body = i;
    *copy = false;
    size_t k = 0;
    for (;;) {
        if (i >= p->n) {
            return fail(p, SL_EPARSE, start, "unterminated string");
        }
        int c = (unsigned char)p->s[i];
        if (c == q) {
            if (!ml) {
                *end = i + 1;
                break;
            }
            size_t run = 0;
            while (at(p, i + run) == q) {
                run++;
            }
            if (run >= 3) {
                /* up to two quotes just before the closing ones belong
                 * to the text */
                if (run > 5) {
                    return fail(p, SL_EPARSE, i + 5,
                                "too many quotes after a multi-line string");
                }
                if (dst) {
                    memset(dst + k, q, run - 3);
                }
                k += run - 3;
                *end = i + run;
                break;
            }
            if (dst) {
                memset(dst + k, q, run);
            }
            k += run;
            i += run;
            continue;
        }
        if (c == '\\' && basic) {
            sl_status rc = escape(p, i, ml, dst, &k, &i);
            if (rc != SL_OK) {
                return rc;
            }
            *copy = true;
            continue;
        }
        if (c == '\n' || c == '\r') {
            size_t nl = newline_len(p, i);
            if (!ml && nl > 0) {
                return fail(p, SL_EPARSE, start, "unterminated string");
            }
            if (nl == 0) {
                return bare_cr(p, i);
            }
            if (nl == 2) {
                *copy = true; /* CRLF becomes LF */
            }
            if (dst) {
                dst[k] = '\n';
            }
            k++;
            i += nl;
            continue;
        }
        if (is_control(c)) {
            return fail(p, SL_EPARSE, i, "control character U+%04X in string",
                        (unsigned)c);
        }
        if (dst) {
            dst[k] = (char)c;
        }
        k++;
        i++;
    }
    if (dst && k != *len) {
        return fail(p, SL_EPARSE, start, "internal string length mismatch");
    }
    *len = k;
    return SL_OK;
}

/* The string at p->p: text borrowed from the source when nothing needs
 * decoding, else decoded into the arena. */
static sl_status parse_string(parser *p, bool allow_ml, const char **out,
                              uint32_t *olen) {
    size_t start = p->p;
    bool basic = p->s[start] == '"';
    char q = p->s[start];
    bool ml = allow_ml && at(p, start + 1) == q && at(p, start + 2) == q;
    size_t len = 0, body = 0, end = 0;
    bool copy = false;
    sl_status rc =
        scan_string(p, start, basic, ml, NULL, &len, &body, &copy, &end);
    if (rc != SL_OK) {
        return rc;
    }
    if (!copy) {
        *out = p->s + body;
    } else {
        char *dst = sl__arena_alloc(&p->doc->arena, len ? len : 1);
        if (!dst) {
            return nomem(p);
        }
        rc = scan_string(p, start, basic, ml, dst, &len, &body, &copy, &end);
        if (rc != SL_OK) {
            return rc;
        }
        *out = dst;
    }
    *olen = (uint32_t)len;
    p->p = end;
    return SL_OK;
}

/* ---- numbers ---- */

/* Digits of the given base at *i with single underscores between digits.
 * Adds each digit to *v (overflow sets *ovf). At least one digit. */
static sl_status digits(parser *p, size_t *i, int base, uint64_t *v,
                        bool *ovf) {
    size_t j = *i;
    bool any = false;
    for (;;) {
        int c = at(p, j);
        int d = base == 16 ? sl__hexval(c) : is_digit(c) ? c - '0' : -1;
        if (d >= 0 && d < base) {
            if (__builtin_mul_overflow(*v, (uint64_t)base, v) ||
                __builtin_add_overflow(*v, (uint64_t)d, v)) {
                *ovf = true;
            }
            any = true;
            j++;
            continue;
        }
        if (c == '_') {
            int nd = at(p, j + 1);
            int dn = base == 16 ? sl__hexval(nd) : is_digit(nd) ? nd - '0' : -1;
            if (!any || dn < 0 || dn >= base) {
                return fail(p, SL_EPARSE, j,
                            "'_' in a number must be between digits");
            }
            j++;
            continue;
        }
        break;
    }
    if (!any) {
        char what[32];
        describe(p, j, what, sizeof(what));
        return fail(p, SL_EPARSE, j, "expected a digit, found %s", what);
    }
    *i = j;
    return SL_OK;
}

/* What follows a number must end it: "1x", "1.2.3", "0x1g" are errors. */
static sl_status number_end(parser *p, size_t start, size_t i) {
    int c = at(p, i);
    if (is_delim(c)) {
        return SL_OK;
    }
    if (c == '-' || c == ':') {
        return fail(p, SL_EPARSE, start, "invalid date or time");
    }
    char what[32];
    describe(p, i, what, sizeof(what));
    return fail(p, SL_EPARSE, i, "unexpected %s in number", what);
}

/* A lexeme for out: the source span when equal, else an arena copy. */
static sl_status set_lexeme(parser *p, sl_node *out, sl_node_kind kind,
                            const char *lex, size_t len, size_t start,
                            size_t end) {
    const char *s = p->s + start;
    if (end - start != len || memcmp(s, lex, len) != 0) {
        char *copy = sl__arena_strndup(&p->doc->arena, lex, len);
        if (!copy) {
            return nomem(p);
        }
        s = copy;
    }
    sl__node_init_scalar(out, kind, s, (uint32_t)len, (uint32_t)start);
    return SL_OK;
}

static sl_status parse_number(parser *p, sl_node *out) {
    size_t start = p->p, i = start;
    bool neg = false, sign = false;
    if (at(p, i) == '+' || at(p, i) == '-') {
        sign = true;
        neg = at(p, i) == '-';
        i++;
    }
    if ((at(p, i) == 'i' && at(p, i + 1) == 'n' && at(p, i + 2) == 'f') ||
        (at(p, i) == 'n' && at(p, i + 1) == 'a' && at(p, i + 2) == 'n')) {
        bool inf = at(p, i) == 'i';
        sl_status rc = number_end(p, start, i + 3);
        if (rc != SL_OK) {
            return rc;
        }
        const char *lex = inf ? (neg ? "-inf" : "inf") : (neg ? "-nan" : "nan");
        sl__node_init_scalar(out, SL_NODE_FLOAT, lex, (uint32_t)strlen(lex),
                             (uint32_t)start);
        out->flags = SL__NF_TOML_SPECIAL;
        p->p = i + 3;
        return SL_OK;
    }
    uint64_t v = 0;
    bool ovf = false;
    int c1 = at(p, i + 1);
    if (at(p, i) == '0' && (c1 == 'x' || c1 == 'o' || c1 == 'b')) {
        if (sign) {
            return fail(p, SL_EPARSE, start,
                        "a hexadecimal, octal or binary integer cannot have "
                        "a sign");
        }
        int base = c1 == 'x' ? 16 : c1 == 'o' ? 8 : 2;
        i += 2;
        sl_status rc = digits(p, &i, base, &v, &ovf);
        if (rc == SL_OK) {
            rc = number_end(p, start, i);
        }
        if (rc != SL_OK) {
            return rc;
        }
        if (ovf || v > (uint64_t)INT64_MAX) {
            return fail(p, SL_EPARSE, start, "integer out of range");
        }
        char buf[24];
        int len = snprintf(buf, sizeof(buf), "%" PRIu64, v);
        p->p = i;
        return set_lexeme(p, out, SL_NODE_INT, buf, (size_t)len, start, i);
    }
    if (!is_digit(at(p, i))) {
        char what[32];
        describe(p, i, what, sizeof(what));
        return fail(p, SL_EPARSE, i, "invalid value: unexpected %s", what);
    }
    if (at(p, i) == '0' && (is_digit(at(p, i + 1)) || at(p, i + 1) == '_')) {
        return fail(p, SL_EPARSE, start, "leading zero in number");
    }
    sl_status rc = digits(p, &i, 10, &v, &ovf);
    if (rc != SL_OK) {
        return rc;
    }
    bool is_float = false;
    if (at(p, i) == '.') {
        i++;
        uint64_t ignore = 0;
        bool ignore_ovf = false;
        rc = digits(p, &i, 10, &ignore, &ignore_ovf);
        if (rc != SL_OK) {
            return rc;
        }
        is_float = true;
    }
    if (at(p, i) == 'e' || at(p, i) == 'E') {
        i++;
        if (at(p, i) == '+' || at(p, i) == '-') {
            i++;
        }
        uint64_t ignore = 0;
        bool ignore_ovf = false;
        rc = digits(p, &i, 10, &ignore, &ignore_ovf);
        if (rc != SL_OK) {
            return rc;
        }
        is_float = true;
    }
    rc = number_end(p, start, i);
    if (rc != SL_OK) {
        return rc;
    }
    p->p = i;
    if (is_float) {
        /* '_' and a leading '+' go; the rest is already valid JSON */
        size_t len = 0;
        for (size_t j = start + (neg ? 0 : sign ? 1 : 0); j < i; j++) {
            len += p->s[j] != '_';
        }
        char *lex = NULL;
        if (len != i - start) {
            lex = sl__arena_alloc(&p->doc->arena, len);
            if (!lex) {
                return nomem(p);
            }
            size_t k = 0;
            for (size_t j = start + (neg ? 0 : sign ? 1 : 0); j < i; j++) {
                if (p->s[j] != '_') {
                    lex[k++] = p->s[j];
                }
            }
        }
        sl__node_init_scalar(out, SL_NODE_FLOAT, lex ? lex : p->s + start,
                             (uint32_t)len, (uint32_t)start);
        return SL_OK;
    }
    if (ovf || v > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
        return fail(p, SL_EPARSE, start, "integer out of range");
    }
    char buf[24];
    int len = neg && v > 0 ? snprintf(buf, sizeof(buf), "-%" PRIu64, v)
                           : snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return set_lexeme(p, out, SL_NODE_INT, buf, (size_t)len, start, i);
}

/* ---- dates and times ---- */

/* n digits at off as a number, or -1. */
static int fixed_digits(const parser *p, size_t off, size_t n) {
    int v = 0;
    for (size_t k = 0; k < n; k++) {
        int c = at(p, off + k);
        if (!is_digit(c)) {
            return -1;
        }
        v = v * 10 + (c - '0');
    }
    return v;
}

static int days_in_month(int y, int m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return 29;
    }
    return days[m - 1];
}

/* HH:MM:SS[.frac] at *i. */
static sl_status parse_time(parser *p, size_t start, size_t *i) {
    size_t j = *i;
    int h = fixed_digits(p, j, 2);
    int m = at(p, j + 2) == ':' ? fixed_digits(p, j + 3, 2) : -1;
    if (h < 0 || m < 0) {
        return fail(p, SL_EPARSE, start, "invalid time: expected HH:MM:SS");
    }
    if (at(p, j + 5) != ':') {
        return fail(p, SL_EPARSE, start, "invalid time: seconds are required");
    }
    int s = fixed_digits(p, j + 6, 2);
    if (s < 0) {
        return fail(p, SL_EPARSE, start, "invalid time: expected HH:MM:SS");
    }
    if (h > 23 || m > 59 || s > 60) {
        return fail(p, SL_EPARSE, start, "invalid time: %s out of range",
                    h > 23   ? "hour"
                    : m > 59 ? "minute"
                             : "second");
    }
    j += 8;
    if (at(p, j) == '.') {
        j++;
        if (!is_digit(at(p, j))) {
            return fail(p, SL_EPARSE, start,
                        "invalid time: expected digits after '.'");
        }
        while (is_digit(at(p, j))) {
            j++;
        }
    }
    *i = j;
    return SL_OK;
}

static sl_status parse_datetime(parser *p, sl_node *out) {
    size_t start = p->p, i = start;
    sl_node_kind kind = SL_NODE_TIME_LOCAL;
    if (at(p, i + 4) == '-') {
        int y = fixed_digits(p, i, 4);
        int mo = fixed_digits(p, i + 5, 2);
        int d = at(p, i + 7) == '-' ? fixed_digits(p, i + 8, 2) : -1;
        if (y < 0 || mo < 0 || d < 0) {
            return fail(p, SL_EPARSE, start,
                        "invalid date: expected YYYY-MM-DD");
        }
        if (mo < 1 || mo > 12) {
            return fail(p, SL_EPARSE, start,
                        "invalid date: month out of range");
        }
        if (d < 1 || d > days_in_month(y, mo)) {
            return fail(p, SL_EPARSE, start, "invalid date: day out of range");
        }
        i += 10;
        kind = SL_NODE_DATE_LOCAL;
        int c = at(p, i);
        if (c == 'T' || c == 't' || (c == ' ' && is_digit(at(p, i + 1)))) {
            i++;
            kind = SL_NODE_DATETIME_LOCAL;
        }
    }
    if (kind != SL_NODE_DATE_LOCAL) {
        sl_status rc = parse_time(p, start, &i);
        if (rc != SL_OK) {
            return rc;
        }
    }
    if (kind == SL_NODE_DATETIME_LOCAL) {
        int c = at(p, i);
        if (c == 'Z' || c == 'z') {
            i++;
            kind = SL_NODE_DATETIME;
        } else if (c == '+' || c == '-') {
            int h = fixed_digits(p, i + 1, 2);
            int m = at(p, i + 3) == ':' ? fixed_digits(p, i + 4, 2) : -1;
            if (h < 0 || m < 0) {
                return fail(p, SL_EPARSE, i,
                            "invalid time offset: expected +HH:MM");
            }
            if (h > 23 || m > 59) {
                return fail(p, SL_EPARSE, i,
                            "invalid time offset: out of range");
            }
            i += 6;
            kind = SL_NODE_DATETIME;
        }
    }
    if (!is_delim(at(p, i))) {
        char what[32];
        describe(p, i, what, sizeof(what));
        return fail(p, SL_EPARSE, i, "unexpected %s in date-time", what);
    }
    sl__node_init_scalar(out, kind, p->s + start, (uint32_t)(i - start),
                         (uint32_t)start);
    p->p = i;
    return SL_OK;
}

/* ---- values ---- */

static sl_status parse_value(parser *p, sl_node *out, uint32_t depth);
static sl_status parse_keyval(parser *p, sl_node *tbl, uint32_t depth);

static sl_status parse_array(parser *p, sl_node *out, uint32_t depth) {
    size_t start = p->p;
    if (depth > p->max_depth) {
        return too_deep(p, start);
    }
    make_container(out, SL_NODE_ARRAY, start, TF_SEALED);
    p->p++;
    for (;;) {
        sl_status rc = skip_wcn(p);
        if (rc != SL_OK) {
            return rc;
        }
        if (peek(p) == ']') {
            p->p++;
            return SL_OK;
        }
        if (peek(p) == -1) {
            return fail(p, SL_EPARSE, start, "unterminated array");
        }
        sl_node *slot = sl__node_push(p->doc, out, NULL, 0, SL__NO_OFF);
        if (!slot) {
            return nomem(p);
        }
        rc = parse_value(p, slot, depth + 1);
        if (rc == SL_OK) {
            rc = skip_wcn(p);
        }
        if (rc != SL_OK) {
            return rc;
        }
        int c = peek(p);
        if (c == ',') {
            p->p++;
            continue;
        }
        if (c == ']') {
            p->p++;
            return SL_OK;
        }
        if (c == -1) {
            return fail(p, SL_EPARSE, start, "unterminated array");
        }
        char what[32];
        describe(p, p->p, what, sizeof(what));
        return fail(p, SL_EPARSE, p->p,
                    "expected ',' or ']' in array, found %s", what);
    }
}

static sl_status parse_inline_table(parser *p, sl_node *out, uint32_t depth) {
    size_t start = p->p;
    if (depth > p->max_depth) {
        return too_deep(p, start);
    }
    make_container(out, SL_NODE_OBJECT, start, TF_SEALED);
    p->p++;
    skip_ws(p);
    if (peek(p) == '}') {
        p->p++;
        return SL_OK;
    }
    for (;;) {
        skip_ws(p);
        if (peek(p) == '\n' || peek(p) == '\r') {
            return fail(p, SL_EPARSE, p->p, "newline in inline table");
        }
        sl_status rc = parse_keyval(p, out, depth);
        if (rc != SL_OK) {
            return rc;
        }
        skip_ws(p);
        int c = peek(p);
        if (c == ',') {
            p->p++;
            skip_ws(p);
            if (peek(p) == '}') {
                return fail(p, SL_EPARSE, p->p,
                            "trailing comma in inline table");
            }
            continue;
        }
        if (c == '}') {
            p->p++;
            return SL_OK;
        }
        if (c == -1) {
            return fail(p, SL_EPARSE, start, "unterminated inline table");
        }
        if (c == '\n' || c == '\r') {
            return fail(p, SL_EPARSE, p->p, "newline in inline table");
        }
        char what[32];
        describe(p, p->p, what, sizeof(what));
        return fail(p, SL_EPARSE, p->p,
                    "expected ',' or '}' in inline table, found %s", what);
    }
}

static bool word_at(const parser *p, size_t off, const char *w) {
    size_t n = strlen(w);
    return off + n <= p->n && memcmp(p->s + off, w, n) == 0;
}

static sl_status parse_value(parser *p, sl_node *out, uint32_t depth) {
    size_t start = p->p;
    int c = peek(p);
    switch (c) {
    case '"':
    case '\'': {
        const char *s = NULL;
        uint32_t len = 0;
        sl_status rc = parse_string(p, true, &s, &len);
        if (rc == SL_OK) {
            sl__node_init_scalar(out, SL_NODE_STRING, s, len, (uint32_t)start);
        }
        return rc;
    }
    case '[':
        return parse_array(p, out, depth);
    case '{':
        return parse_inline_table(p, out, depth);
    case 't':
    case 'f': {
        const char *w = c == 't' ? "true" : "false";
        size_t n = strlen(w);
        if (word_at(p, start, w) && is_delim(at(p, start + n))) {
            sl__node_init_scalar(out, SL_NODE_BOOL, p->s + start, (uint32_t)n,
                                 (uint32_t)start);
            p->p += n;
            return SL_OK;
        }
        break;
    }
    case 'i':
    case 'n':
    case '+':
    case '-':
        return parse_number(p, out);
    default:
        if (is_digit(c)) {
            if ((is_digit(at(p, start + 1)) && at(p, start + 2) == ':') ||
                (fixed_digits(p, start, 4) >= 0 && at(p, start + 4) == '-')) {
                return parse_datetime(p, out);
            }
            return parse_number(p, out);
        }
        break;
    }
    char what[32];
    describe(p, start, what, sizeof(what));
    if (c == -1 || c == '#' || newline_len(p, start) > 0) {
        return fail(p, SL_EPARSE, start, "missing value, found %s", what);
    }
    return fail(p, SL_EPARSE, start, "invalid value: unexpected %s", what);
}

/* key = value into table tbl (at nesting depth `depth`): the dotted key's
 * tables are made or entered first, then the value is parsed straight
 * into its slot (nothing else touches tbl meanwhile, so the slot stays). */
static sl_status parse_keyval(parser *p, sl_node *tbl, uint32_t depth) {
    sl_status rc = parse_key(p);
    if (rc != SL_OK) {
        return rc;
    }
    if (peek(p) != '=') {
        char what[32];
        describe(p, p->p, what, sizeof(what));
        return fail(p, SL_EPARSE, p->p, "expected '=' after key, found %s",
                    what);
    }
    p->p++;
    skip_ws(p);
    char path[SL_QUOTE_MAX + 8];
    sl_node *t = tbl;
    uint32_t d = depth;
    for (size_t i = 0; i + 1 < p->kp_len; i++) {
        const kpart *k = &p->kp[i];
        size_t j = find(p, t, k->s, k->len);
        if (j == NOT_FOUND) {
            if (d + 1 > p->max_depth) {
                return too_deep(p, k->off);
            }
            sl_node *child = add_member(p, t, k);
            if (!child) {
                return SL_ENOMEM;
            }
            make_container(child, SL_NODE_OBJECT, k->off, TF_PENDING);
            t = child;
        } else {
            sl_node *v = &t->u.members[j].val;
            key_path(p, i, path, sizeof(path));
            if (v->kind != SL_NODE_OBJECT) {
                return fail(p, SL_EPARSE, k->off,
                            "key %s already defined as %s", path, kind_word(v));
            }
            if (v->flags & TF_SEALED) {
                return fail(p, SL_EPARSE, k->off,
                            "cannot extend inline table %s", path);
            }
            if (v->flags & TF_EXPLICIT) {
                return fail(p, SL_EPARSE, k->off, "table %s already defined",
                            path);
            }
            v->flags |= TF_PENDING;
            t = v;
        }
        d++;
    }
    const kpart *last = &p->kp[p->kp_len - 1];
    if (find(p, t, last->s, last->len) != NOT_FOUND) {
        key_path(p, p->kp_len - 1, path, sizeof(path));
        return fail(p, SL_EPARSE, last->off, "duplicate key %s", path);
    }
    sl_node *slot = add_member(p, t, last);
    if (!slot) {
        return SL_ENOMEM;
    }
    return parse_value(p, slot, d + 1);
}

/* [a.b] or [[a.b]]: finish the previous section, walk to the table. */
static sl_status parse_header(parser *p) {
    size_t start = p->p;
    bool aot = at(p, start + 1) == '[';
    p->p += aot ? 2 : 1;
    skip_ws(p);
    sl_status rc = parse_key(p);
    if (rc != SL_OK) {
        return rc;
    }
    if (aot ? !(peek(p) == ']' && at(p, p->p + 1) == ']') : peek(p) != ']') {
        char what[32];
        describe(p, p->p, what, sizeof(what));
        return fail(p, SL_EPARSE, p->p,
                    "expected '%s' after table name, found %s",
                    aot ? "]]" : "]", what);
    }
    p->p += aot ? 2 : 1;
    promote(p->cur);

    char path[SL_QUOTE_MAX + 8];
    sl_node *t = p->root;
    uint32_t d = 1;
    for (size_t i = 0; i + 1 < p->kp_len; i++) {
        const kpart *k = &p->kp[i];
        size_t j = find(p, t, k->s, k->len);
        if (j == NOT_FOUND) {
            if (d + 1 > p->max_depth) {
                return too_deep(p, k->off);
            }
            sl_node *child = add_member(p, t, k);
            if (!child) {
                return SL_ENOMEM;
            }
            make_container(child, SL_NODE_OBJECT, k->off, 0);
            t = child;
            d++;
            continue;
        }
        sl_node *v = &t->u.members[j].val;
        key_path(p, i, path, sizeof(path));
        if (v->kind == SL_NODE_OBJECT && !(v->flags & TF_SEALED)) {
            t = v;
            d++;
        } else if (v->kind == SL_NODE_ARRAY && (v->flags & TF_AOT)) {
            if (d + 2 > p->max_depth) {
                return too_deep(p, k->off);
            }
            t = &v->u.items[v->len - 1];
            d += 2;
        } else if (v->kind == SL_NODE_OBJECT) {
            return fail(p, SL_EPARSE, k->off, "cannot extend inline table %s",
                        path);
        } else {
            return fail(p, SL_EPARSE, k->off, "key %s already defined as %s",
                        path, kind_word(v));
        }
    }
    const kpart *k = &p->kp[p->kp_len - 1];
    key_path(p, p->kp_len - 1, path, sizeof(path));
    size_t j = find(p, t, k->s, k->len);
    sl_node *v = j == NOT_FOUND ? NULL : &t->u.members[j].val;
    if (!aot) {
        if (!v) {
            if (d + 1 > p->max_depth) {
                return too_deep(p, k->off);
            }
            v = add_member(p, t, k);
            if (!v) {
                return SL_ENOMEM;
            }
            make_container(v, SL_NODE_OBJECT, start, TF_EXPLICIT);
        } else if (v->kind == SL_NODE_OBJECT &&
                   !(v->flags & (TF_EXPLICIT | TF_PENDING | TF_SEALED))) {
            v->flags |= TF_EXPLICIT;
            v->off = (uint32_t)start;
        } else if (v->kind == SL_NODE_OBJECT) {
            return fail(p, SL_EPARSE, k->off, "table %s already defined", path);
        } else {
            return fail(p, SL_EPARSE, k->off, "key %s already defined as %s",
                        path, kind_word(v));
        }
        p->cur = v;
        p->cur_depth = d + 1;
        return SL_OK;
    }
    if (!v) {
        if (d + 2 > p->max_depth) {
            return too_deep(p, k->off);
        }
        v = add_member(p, t, k);
        if (!v) {
            return SL_ENOMEM;
        }
        make_container(v, SL_NODE_ARRAY, k->off, TF_AOT | TF_EXPLICIT);
    } else if (v->kind == SL_NODE_ARRAY && !(v->flags & TF_AOT)) {
        return fail(p, SL_EPARSE, k->off, "cannot append to static array %s",
                    path);
    } else if (v->kind != SL_NODE_ARRAY) {
        return fail(p, SL_EPARSE, k->off, "key %s already defined as %s", path,
                    kind_word(v));
    }
    sl_node *elem = sl__node_push(p->doc, v, NULL, 0, SL__NO_OFF);
    if (!elem) {
        return nomem(p);
    }
    make_container(elem, SL_NODE_OBJECT, start, TF_EXPLICIT);
    p->cur = elem;
    p->cur_depth = d + 2;
    return SL_OK;
}

/* After a key/value pair or a header: optional comment, then a newline or
 * the end of the file. */
static sl_status end_of_line(parser *p, const char *after) {
    skip_ws(p);
    if (peek(p) == '#') {
        sl_status rc = skip_comment(p);
        if (rc != SL_OK) {
            return rc;
        }
    }
    if (peek(p) == -1) {
        return SL_OK;
    }
    size_t nl = newline_len(p, p->p);
    if (nl > 0) {
        p->p += nl;
        return SL_OK;
    }
    if (peek(p) == '\r') {
        return bare_cr(p, p->p);
    }
    char what[32];
    describe(p, p->p, what, sizeof(what));
    return fail(p, SL_EPARSE, p->p, "expected end of line after %s, found %s",
                after, what);
}

static sl_status parse_document(parser *p) {
    while (p->p < p->n) {
        skip_ws(p);
        int c = peek(p);
        sl_status rc = SL_OK;
        const char *after = "value";
        if (c == '[') {
            rc = parse_header(p);
            after = "table header";
        } else if (c != '#' && c != '\n' && c != '\r' && c != -1) {
            rc = parse_keyval(p, p->cur, p->cur_depth);
        }
        if (rc == SL_OK) {
            rc = end_of_line(p, after);
        }
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

sl_status sl__toml_parse(sl_doc *doc, uint32_t max_depth, sl_error *err) {
    parser p;
    memset(&p, 0, sizeof(p));
    p.doc = doc;
    p.s = doc->text ? doc->text : "";
    p.n = doc->text_len;
    p.max_depth = max_depth ? max_depth : SL_MAX_DEPTH;
    if (p.max_depth > DEPTH_CAP) {
        p.max_depth = DEPTH_CAP;
    }
    p.err = err;
    if (p.n >= 3 && memcmp(p.s, "\xEF\xBB\xBF", 3) == 0) {
        p.p = 3; /* a byte order mark may open the file */
    }
    size_t valid = sl__utf8_valid_prefix(p.s + p.p, p.n - p.p) + p.p;
    if (valid < p.n) {
        return fail(&p, SL_EUTF8, valid, "invalid utf-8");
    }
    p.root = sl__arena_alloc(&doc->arena, sizeof(sl_node));
    if (!p.root) {
        return nomem(&p);
    }
    make_container(p.root, SL_NODE_OBJECT, 0, TF_EXPLICIT);
    p.cur = p.root;
    p.cur_depth = 1;
    sl_status rc = parse_document(&p);
    for (uint32_t i = 0; i < p.ix_len; i++) {
        sl__free(p.ix[i].slot, (size_t)p.ix[i].cap * sizeof(uint32_t));
    }
    sl__free(p.ix, (size_t)p.ix_cap * sizeof(tindex));
    sl__free(p.kp, p.kp_cap * sizeof(kpart));
    if (rc == SL_OK) {
        doc->root = p.root;
    }
    return rc;
}

/* src/doc/json_read.c: the JSON reader (RFC 8259, exactly) into the doc
 * tree. It owns syntax, UTF-8 validation, escapes and the depth limit; the
 * node layout and the builder belong to tree.c / private.h.
 *
 * The one idea: no recursion and no per-node allocation. Values are pushed
 * onto one value stack (doc->stack, kept between loads); a container's slot
 * on that stack doubles as its frame (aux links to the enclosing container),
 * and when the container closes its children are copied once into an
 * exact-size arena array. Depth is therefore bounded by max_depth alone,
 * never by the C stack, and 10,000-deep input fails cleanly.
 *
 * Lossless: key order and duplicate keys are kept, numbers keep their
 * lexeme, a string without escapes points into the source text (zero-copy)
 * and a string with escapes is decoded into the arena while `raw` keeps the
 * source span, so the writer gives back the exact bytes.
 *
 * Decisions where RFC 8259 leaves room:
 * - a lone UTF-16 surrogate in a \u escape is accepted and decodes to
 *   U+FFFD (its raw text is kept, so an unchanged string is written back as
 *   it came); a data pipeline should not drop a record for it;
 * - a UTF-8 byte order mark at the very start of the text is skipped (RFC
 *   8259 section 8.1 allows ignoring it); anywhere else it is an error. */
#include <sluice/doc.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/base.h"
#include "base/codec.h"
#include "doc/private.h"

enum {
    NONE = UINT32_MAX
};

/* Character classes for the structural loop. */
enum {
    C_WS = 1,
    C_DIGIT = 2,
    C_ALNUM = 4
};

static const uint8_t cls[256] = {
    [' '] = C_WS,    ['\t'] = C_WS,   ['\n'] = C_WS,   ['\r'] = C_WS,
    ['0'] = C_DIGIT, ['1'] = C_DIGIT, ['2'] = C_DIGIT, ['3'] = C_DIGIT,
    ['4'] = C_DIGIT, ['5'] = C_DIGIT, ['6'] = C_DIGIT, ['7'] = C_DIGIT,
    ['8'] = C_DIGIT, ['9'] = C_DIGIT, ['a'] = C_ALNUM, ['b'] = C_ALNUM,
    ['c'] = C_ALNUM, ['d'] = C_ALNUM, ['e'] = C_ALNUM, ['f'] = C_ALNUM,
    ['g'] = C_ALNUM, ['h'] = C_ALNUM, ['i'] = C_ALNUM, ['j'] = C_ALNUM,
    ['k'] = C_ALNUM, ['l'] = C_ALNUM, ['m'] = C_ALNUM, ['n'] = C_ALNUM,
    ['o'] = C_ALNUM, ['p'] = C_ALNUM, ['q'] = C_ALNUM, ['r'] = C_ALNUM,
    ['s'] = C_ALNUM, ['t'] = C_ALNUM, ['u'] = C_ALNUM, ['v'] = C_ALNUM,
    ['w'] = C_ALNUM, ['x'] = C_ALNUM, ['y'] = C_ALNUM, ['z'] = C_ALNUM,
    ['A'] = C_ALNUM, ['B'] = C_ALNUM, ['C'] = C_ALNUM, ['D'] = C_ALNUM,
    ['E'] = C_ALNUM, ['F'] = C_ALNUM, ['G'] = C_ALNUM, ['H'] = C_ALNUM,
    ['I'] = C_ALNUM, ['J'] = C_ALNUM, ['K'] = C_ALNUM, ['L'] = C_ALNUM,
    ['M'] = C_ALNUM, ['N'] = C_ALNUM, ['O'] = C_ALNUM, ['P'] = C_ALNUM,
    ['Q'] = C_ALNUM, ['R'] = C_ALNUM, ['S'] = C_ALNUM, ['T'] = C_ALNUM,
    ['U'] = C_ALNUM, ['V'] = C_ALNUM, ['W'] = C_ALNUM, ['X'] = C_ALNUM,
    ['Y'] = C_ALNUM, ['Z'] = C_ALNUM, ['_'] = C_ALNUM, ['.'] = C_ALNUM,
    ['+'] = C_ALNUM, ['-'] = C_ALNUM,
};

typedef struct parser {
    sl_doc *doc;
    const char *base; /* doc->text: offsets count from here */
    const char *end;
    sl_node *stk; /* == doc->stack; may move when it grows */
    size_t cap;   /* == doc->stack_cap */
    uint32_t top; /* used slots */
    uint32_t cur; /* slot of the innermost open container, or NONE */
    uint32_t depth;
    uint32_t max_depth;
    uint32_t ws;    /* whitespace runs skipped so far (compactness) */
    bool done;      /* the top-level value is complete */
    size_t err_off; /* where the last error was found */
    sl_error *err;
} parser;

static uint32_t off_of(const parser *ps, const char *p) {
    return (uint32_t)(p - ps->base);
}

static const char *context(const parser *ps) {
    if (ps->cur == NONE) {
        return ps->done ? " after the value" : "";
    }
    return ps->stk[ps->cur].kind == SL_NODE_ARRAY ? " in array" : " in object";
}

static sl_status fail(parser *ps, sl_status code, const char *p,
                      const char *msg) {
    ps->err_off = (size_t)(p - ps->base);
    return sl__doc_error(ps->doc, ps->err, code, ps->err_off, "%s", msg);
}

/* A character where a value, key, ',' or ':' should be. */
static sl_status unexpected(parser *ps, const char *p) {
    unsigned char c = (unsigned char)*p;
    ps->err_off = (size_t)(p - ps->base);
    if (c >= 0x80) {
        if (sl__utf8_seq((const unsigned char *)p,
                         (const unsigned char *)ps->end) == 0) {
            return sl__doc_error(ps->doc, ps->err, SL_EUTF8, ps->err_off,
                                 "invalid utf-8%s", context(ps));
        }
        if (c == 0xEF && (unsigned char)p[1] == 0xBB &&
            (unsigned char)p[2] == 0xBF) {
            return sl__doc_error(ps->doc, ps->err, SL_EPARSE, ps->err_off,
                                 "unexpected byte order mark%s", context(ps));
        }
        return sl__doc_error(ps->doc, ps->err, SL_EPARSE, ps->err_off,
                             "unexpected non-ascii character%s", context(ps));
    }
    if (c < 0x20 || c == 0x7f) {
        return sl__doc_error(ps->doc, ps->err, SL_EPARSE, ps->err_off,
                             "unexpected byte 0x%02x%s", c, context(ps));
    }
    return sl__doc_error(ps->doc, ps->err, SL_EPARSE, ps->err_off,
                         "unexpected character '%c'%s", c, context(ps));
}

static sl_status eof(parser *ps) {
    ps->err_off = (size_t)(ps->end - ps->base);
    if (ps->cur == NONE) {
        return sl__doc_error(ps->doc, ps->err, SL_EPARSE, ps->err_off,
                             "empty input");
    }
    return sl__doc_error(ps->doc, ps->err, SL_EPARSE, ps->err_off,
                         "unexpected end of input%s", context(ps));
}

/* Make room for two more slots (a key and a value): the slow path of
 * RESERVE below. */
static sl_status grow_stack(parser *ps) {
    sl_doc *doc = ps->doc;
    if ((size_t)ps->top + 2 <= doc->stack_cap) {
        return SL_OK;
    }
    size_t cap = doc->stack_cap ? doc->stack_cap * 2 : 256;
    if (cap >= NONE / 2 || cap > SL_MAX_ARENA / sizeof(sl_node)) {
        ps->err_off = 0;
        return sl__error(ps->err, SL_ELIMIT, NULL,
                         "too many values in one json document");
    }
    sl_node *p = sl__realloc(doc->stack, doc->stack_cap * sizeof(sl_node),
                             cap * sizeof(sl_node));
    if (!p) {
        return sl__nomem(ps->err);
    }
    doc->stack = p;
    doc->stack_cap = cap;
    ps->stk = p;
    ps->cap = cap;
    return SL_OK;
}

static inline sl_status reserve(parser *ps) {
    if ((size_t)ps->top + 2 <= ps->cap) {
        return SL_OK;
    }
    return grow_stack(ps);
}

/* ---- strings ---- */

/* The code unit of \uXXXX at p (p at the backslash), or -1. */
static int32_t u_escape(const char *p, const char *end) {
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u') {
        return -1;
    }
    int32_t v = 0;
    for (int i = 2; i < 6; i++) {
        int h = sl__hexval((unsigned char)p[i]);
        if (h < 0) {
            return -1;
        }
        v = (v << 4) | h;
    }
    return v;
}

/* Decode the escaped string raw[0..n) (already checked for quotes, control
 * characters and UTF-8) into out; returns the decoded length, or fails with
 * the escape's position. */
static sl_status decode(parser *ps, const char *raw, size_t n, char *out,
                        uint32_t *out_len) {
    const char *p = raw, *end = raw + n;
    char *o = out;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t run = bs ? (size_t)(bs - p) : (size_t)(end - p);
        memcpy(o, p, run);
        o += run;
        p += run;
        if (!bs) {
            break;
        }
        if (p + 1 >= end) {
            return fail(ps, SL_EPARSE, p, "invalid escape in string");
        }
        char e = p[1];
        switch (e) {
        case '"':
        case '\\':
        case '/':
            *o++ = e;
            p += 2;
            continue;
        case 'b':
            *o++ = '\b';
            p += 2;
            continue;
        case 'f':
            *o++ = '\f';
            p += 2;
            continue;
        case 'n':
            *o++ = '\n';
            p += 2;
            continue;
        case 'r':
            *o++ = '\r';
            p += 2;
            continue;
        case 't':
            *o++ = '\t';
            p += 2;
            continue;
        case 'u':
            break;
        default:
            return fail(ps, SL_EPARSE, p, "invalid escape in string");
        }
        int32_t u = u_escape(p, end);
        if (u < 0) {
            return fail(ps, SL_EPARSE, p, "invalid \\u escape in string");
        }
        p += 6;
        uint32_t cp = (uint32_t)u;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            int32_t lo = u_escape(p, end);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
                p += 6;
            } else {
                cp = 0xFFFD; /* lone high surrogate (file comment) */
            }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            cp = 0xFFFD; /* lone low surrogate */
        }
        o += sl__utf8_encode(cp, o);
    }
    *out_len = (uint32_t)(o - out);
    return SL_OK;
}

/* Parse the string whose opening quote is at *pp into n; *pp ends just past
 * the closing quote. */
static inline __attribute__((always_inline)) sl_status
parse_string(parser *ps, const char **pp, sl_node *n) {
    const char *q = *pp;
    const char *s = q + 1;
    const char *p = s;
    const char *end = ps->end;
    bool escaped = false;
#ifdef __SSE2__
    const __m128i vq = _mm_set1_epi8('"');
    const __m128i vb = _mm_set1_epi8('\\');
    const __m128i vc = _mm_set1_epi8(0x20);
#endif
    for (;;) {
#ifdef __SSE2__
        /* 16 bytes at a time: a signed compare with 0x20 flags control
         * characters and every non-ASCII byte at once. This is
         * sl__json_skip_plain written out: jumping straight to the byte
         * found, with the masks hoisted, parses with 4% fewer instructions
         * than calling it (measured with cachegrind). */
        while (end - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i m = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(x, vq), _mm_cmpeq_epi8(x, vb)),
                _mm_cmplt_epi8(x, vc));
            unsigned mask = (unsigned)_mm_movemask_epi8(m);
            if (mask) {
                p += __builtin_ctz(mask);
                goto look;
            }
            p += 16;
        }
#endif
#ifdef SL_SWAR
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            uint64_t m = sl__json_special(w);
            if (m) {
                p += __builtin_ctzll(m) >> 3;
                goto look;
            }
            p += 8;
        }
#endif
        while (p < end) {
            unsigned char c = (unsigned char)*p;
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) {
                goto look;
            }
            p++;
        }
        return fail(ps, SL_EPARSE, q, "unterminated string");
    look:;
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            break;
        }
        if (c == '\\') {
            escaped = true;
            if (p + 1 >= end) {
                return fail(ps, SL_EPARSE, q, "unterminated string");
            }
            /* skip the escaped byte so an escaped quote does not end the
             * string; decode() checks the escape itself */
            p += (unsigned char)p[1] < 0x80 ? 2 : 1;
            continue;
        }
        if (c < 0x20) {
            return fail(ps, SL_EPARSE, p, "control character in string");
        }
        size_t k =
            sl__utf8_seq((const unsigned char *)p, (const unsigned char *)end);
        if (k == 0) {
            return fail(ps, SL_EUTF8, p, "invalid utf-8 in string");
        }
        p += k;
    }
    size_t rawlen = (size_t)(p - s);
    n->kind = SL_NODE_STRING;
    n->flags = 0;
    n->reserved = 0;
    n->off = off_of(ps, q);
    n->aux = (uint32_t)rawlen;
    n->raw = s;
    *pp = p + 1;
    if (!escaped) {
        n->u.s = s;
        n->len = (uint32_t)rawlen;
        return SL_OK;
    }
    char *out = sl__arena_alloc(&ps->doc->arena, rawlen + 1);
    if (!out) {
        return sl__nomem(ps->err);
    }
    uint32_t dlen = 0;
    sl_status rc = decode(ps, s, rawlen, out, &dlen);
    if (rc != SL_OK) {
        return rc;
    }
    out[dlen] = '\0';
    n->u.s = out;
    n->len = dlen;
    return SL_OK;
}

/* ---- numbers and literals ---- */

static inline __attribute__((always_inline)) sl_status
parse_number(parser *ps, const char **pp, sl_node *n) {
    const char *s = *pp, *p = s, *end = ps->end;
    bool is_float = false;
    if (*p == '-') {
        p++;
    }
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        p++;
        while (p < end && (cls[(unsigned char)*p] & C_DIGIT)) {
            p++;
        }
    } else {
        return fail(ps, SL_EPARSE, s, "invalid number");
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !(cls[(unsigned char)*p] & C_DIGIT)) {
            return fail(ps, SL_EPARSE, s, "invalid number");
        }
        while (p < end && (cls[(unsigned char)*p] & C_DIGIT)) {
            p++;
        }
        is_float = true;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p >= end || !(cls[(unsigned char)*p] & C_DIGIT)) {
            return fail(ps, SL_EPARSE, s, "invalid number");
        }
        while (p < end && (cls[(unsigned char)*p] & C_DIGIT)) {
            p++;
        }
        is_float = true;
    }
    /* "01", "1.2.3", "1x": the lexeme runs on */
    if (p < end && (cls[(unsigned char)*p] & (C_DIGIT | C_ALNUM))) {
        return fail(ps, SL_EPARSE, s, "invalid number");
    }
    sl__node_init_scalar(n, is_float ? SL_NODE_FLOAT : SL_NODE_INT, s,
                         (uint32_t)(p - s), off_of(ps, s));
    n->flags = SL__NF_JSON_LEXEME;
    *pp = p;
    return SL_OK;
}

static sl_status parse_literal(parser *ps, const char **pp, sl_node *n) {
    const char *p = *pp;
    size_t avail = (size_t)(ps->end - p);
    const char *word = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
    size_t wl = *p == 'f' ? 5 : 4;
    if (avail < wl || memcmp(p, word, wl) != 0 ||
        (avail > wl && (cls[(unsigned char)p[wl]] & (C_DIGIT | C_ALNUM)))) {
        return fail(ps, SL_EPARSE, p, "invalid literal");
    }
    sl__node_init_scalar(n, *p == 'n' ? SL_NODE_NULL : SL_NODE_BOOL, word,
                         (uint32_t)wl, off_of(ps, p));
    *pp = p + wl;
    return SL_OK;
}

/* ---- containers ---- */

/* Arena room for n nodes: the bump of sl__arena_alloc inline (nodes are
 * 32 bytes, a multiple of its 16-byte alignment), its call only when the
 * chunk is full. Containers are small and many (an OTLP record has ~19):
 * the call and a libc memcpy per container were a quarter of the parse. */
static inline sl_node *alloc_nodes(sl_arena *a, uint32_t n) {
    size_t need = (size_t)n * sizeof(sl_node);
    _Static_assert(sizeof(sl_node) % 16 == 0, "nodes keep arena alignment");
    if (a->cur && (size_t)(a->end - a->cur) >= need) {
        sl_node *p = (sl_node *)(void *)a->cur;
        a->cur += need;
        return p;
    }
    return sl__arena_alloc(a, need);
}

/* Close the innermost container: copy its children into an exact-size
 * arena array and make the enclosing container current again. */
static inline __attribute__((always_inline)) sl_status
close_container(parser *ps, const char *end) {
    uint32_t c = ps->cur;
    uint32_t first = c + 1;
    uint32_t count = ps->top - first;
    sl_node *node = &ps->stk[c];
    uint32_t ws_at_open = node->len;
    sl_node *arr = NULL;
    if (count) {
        arr = alloc_nodes(&ps->doc->arena, count);
        if (!arr) {
            return sl__nomem(ps->err);
        }
        const sl_node *from = &ps->stk[first];
        for (uint32_t i = 0; i < count; i++) {
            arr[i] = from[i];
        }
    }
    uint32_t parent = node->aux;
    if (node->kind == SL_NODE_OBJECT) {
        node->u.members = (sl__member *)(void *)arr;
        node->len = count / 2;
    } else {
        node->u.items = arr;
        node->len = count;
    }
    /* len held the whitespace count at the opening bracket: unchanged
     * means no whitespace inside, so the source text is compact JSON */
    node->flags = ps->ws == ws_at_open ? SL__NF_COMPACT : 0;
    node->raw = end;
    node->aux = node->len;
    ps->top = first;
    ps->cur = parent;
    ps->depth--;
    return SL_OK;
}

/* Past the whitespace run at p (p is whitespace), counting the run. Call
 * sites test the first byte inline: compact input skips the call. */
static const char *skip_ws(parser *ps, const char *p) {
    const char *end = ps->end;
    ps->ws++;
    do {
        p++;
    } while (p < end && (cls[(unsigned char)*p] & C_WS));
    return p;
}

static inline bool at_ws(const char *p, const char *end) {
    return p < end && (cls[(unsigned char)*p] & C_WS);
}

static sl_status parse(parser *ps, const char *p, const char **stop) {
    const char *end = ps->end;
    sl_status rc = SL_OK;
    sl_node *slot = NULL;

    /* slot 0: the root value */
    rc = reserve(ps);
    if (rc != SL_OK) {
        return rc;
    }
    slot = &ps->stk[ps->top++];

value:
    /* slot is where the next value goes. Whitespace is tested only where
     * the expected byte is not found: compact JSON never pays for it. */
    if (p >= end) {
        return eof(ps);
    }
    switch (*p) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
        p = skip_ws(ps, p);
        goto value;
    case '"':
        rc = parse_string(ps, &p, slot);
        break;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        rc = parse_number(ps, &p, slot);
        break;
    case 't':
    case 'f':
    case 'n':
        rc = parse_literal(ps, &p, slot);
        break;
    case '[':
    case '{': {
        if (ps->depth >= ps->max_depth) {
            ps->err_off = (size_t)(p - ps->base);
            return sl__doc_error(ps->doc, ps->err, SL_ELIMIT, ps->err_off,
                                 "nesting deeper than %u levels",
                                 (unsigned)ps->max_depth);
        }
        bool obj = *p == '{';
        memset(slot, 0, sizeof(*slot));
        slot->kind = obj ? SL_NODE_OBJECT : SL_NODE_ARRAY;
        slot->off = off_of(ps, p);
        slot->aux = ps->cur; /* the frame link, until it closes */
        slot->len = ps->ws;  /* see close_container */
        ps->cur = (uint32_t)(slot - ps->stk);
        ps->depth++;
        p++;
        if (at_ws(p, end)) {
            p = skip_ws(ps, p);
        }
        if (p < end && *p == (obj ? '}' : ']')) {
            p++;
            rc = close_container(ps, p);
            break;
        }
        if (obj) {
            goto key;
        }
        rc = reserve(ps);
        if (rc != SL_OK) {
            return rc;
        }
        slot = &ps->stk[ps->top++];
        goto value;
    }
    default:
        return unexpected(ps, p);
    }
    if (rc != SL_OK) {
        return rc;
    }

after:
    /* a value is complete: what follows depends on the container */
    if (ps->cur == NONE) {
        ps->done = true;
        *stop = p;
        return SL_OK;
    }
    if (p >= end) {
        return eof(ps);
    }
    if (ps->stk[ps->cur].kind == SL_NODE_ARRAY) {
        if (*p == ',') {
            p++;
            rc = reserve(ps);
            if (rc != SL_OK) {
                return rc;
            }
            slot = &ps->stk[ps->top++];
            goto value;
        }
        if (*p == ']') {
            p++;
            rc = close_container(ps, p);
            if (rc != SL_OK) {
                return rc;
            }
            goto after;
        }
    } else {
        if (*p == ',') {
            p++;
            goto key;
        }
        if (*p == '}') {
            p++;
            rc = close_container(ps, p);
            if (rc != SL_OK) {
                return rc;
            }
            goto after;
        }
    }
    if (at_ws(p, end)) {
        p = skip_ws(ps, p);
        goto after;
    }
    return unexpected(ps, p);

key:
    /* in an object, after '{' or ',': a member's key, then ':' */
    if (p >= end) {
        return eof(ps);
    }
    if (*p != '"') {
        if (at_ws(p, end)) {
            p = skip_ws(ps, p);
            goto key;
        }
        return unexpected(ps, p);
    }
    rc = reserve(ps);
    if (rc != SL_OK) {
        return rc;
    }
    rc = parse_string(ps, &p, &ps->stk[ps->top]);
    if (rc != SL_OK) {
        return rc;
    }
    ps->top++;
colon:
    if (p >= end) {
        return eof(ps);
    }
    if (*p != ':') {
        if (at_ws(p, end)) {
            p = skip_ws(ps, p);
            goto colon;
        }
        return unexpected(ps, p);
    }
    p++;
    slot = &ps->stk[ps->top++];
    goto value;
}

sl_status sl__json_parse(sl_doc *doc, size_t start, size_t *next,
                         uint32_t max_depth, sl_error *err) {
    parser ps = {
        .doc = doc,
        .base = doc->text ? doc->text : "",
        .end = (doc->text ? doc->text : "") + doc->text_len,
        .stk = doc->stack,
        .cap = doc->stack_cap,
        .top = 0,
        .cur = NONE,
        .depth = 0,
        .max_depth = max_depth ? max_depth : SL_MAX_DEPTH,
        .done = false,
        .err_off = start,
        .err = err,
    };
    doc->root = NULL;
    const char *p = ps.base + start;
    if (start == 0 && doc->text_len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3; /* a leading byte order mark is ignored (file comment) */
    }
    const char *stop = p;
    sl_status rc = parse(&ps, p, &stop);
    if (rc == SL_OK) {
        sl_node *root = sl__arena_alloc(&doc->arena, sizeof(sl_node));
        if (!root) {
            rc = sl__nomem(err);
        } else {
            *root = ps.stk[0];
            if (at_ws(stop, ps.end)) {
                stop = skip_ws(&ps, stop);
            }
            if (next) {
                *next = (size_t)(stop - ps.base);
                doc->root = root;
                return SL_OK;
            }
            if (stop < ps.end) {
                rc = unexpected(&ps, stop);
            } else {
                doc->root = root;
                return SL_OK;
            }
        }
    }
    if (next) {
        *next = ps.err_off;
    }
    return rc;
}

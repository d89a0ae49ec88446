/* src/otlp/scan.c: the OTLP/JSON fast pass (issue 11 item 3): one walk
 * over the text of an export request (logs, traces or metrics) that checks
 * JSON syntax, UTF-8 and the OTLP schema together, records where each
 * resource entry, scope entry and record (log record, span, metric) lies,
 * and builds doc nodes only for the values the caller reads (o->want).
 * Everything else is validated and skipped, never built. Repeated numbers
 * (histogram buckets and bounds) are "not sure": the full path. Leaves out
 * error messages and changes: load.c.
 *
 * The one idea: the fast pass only ever says "valid, and here is the
 * index" or "not sure". It accepts a strict subset of what the full path
 * (json_read.c + load.c's check_fields) accepts: compact text (no
 * whitespace inside the value, so every untouched span is what the writer
 * would emit), keys without escapes, no null for a known field, integers
 * as plain digits, lower-case ids, no field given twice. Anything else -
 * an error, or merely something unusual - returns false and the caller
 * runs the full path on the same text, which gives today's exact result
 * and error message. Values that become nodes are parsed by the doc
 * module's own reader (sl__doc_parse_at), so there is one JSON grammar
 * for the tree; this file only decides validity. */
#include <sluice/otlp.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/base.h"
#include "base/codec.h"
#include "doc/span.h"
#include "otlp/proto.h"

/* Nesting this pass follows, the request object included (64 below it);
 * deeper input takes the full path (which allows SL_MAX_DEPTH). */
enum {
    SCAN_MAX_DEPTH = 65
};

typedef sl__pfield fdesc;
typedef sl__pmsg msgdesc;

typedef struct scan {
    sl_otlp *o;
    const char *base, *end;
    uint32_t depth;
    const msgdesc *res_entry, *scope_entry, *record;
    uint32_t list_off, list_end; /* the last entry list walked */
} scan;

/* ---- JSON syntax ---- */

/* A string at p (its opening quote): returns just past the closing quote,
 * or NULL when invalid or unterminated. *esc tells whether it holds an
 * escape (then its raw bytes are not its text). */
static const char *str(const scan *s, const char *p, bool *esc) {
    const char *end = s->end;
    p++;
    *esc = false;
    for (;;) {
#ifdef __SSE2__
        /* the JSON reader's skip over plain string text (doc/private.h's
         * sl__json_skip_plain, which src/doc keeps private) written out,
         * as json_read.c writes it out: calling a shared copy from base/
         * and then looking at the byte it stopped at measured +82
         * instructions a record (+1.5%, callgrind, apply passthrough) */
        while (end - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i m = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                             _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
            unsigned mask = (unsigned)_mm_movemask_epi8(m);
            if (mask) {
                p += __builtin_ctz(mask);
                goto look;
            }
            p += 16;
        }
#endif
        while (p < end) {
            unsigned char c = (unsigned char)*p;
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) {
                goto look;
            }
            p++;
        }
        return NULL;
    look:;
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            return p + 1;
        }
        if (c == '\\') {
            *esc = true;
            if (end - p < 2) {
                return NULL;
            }
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                p += 2;
                continue;
            case 'u':
                if (end - p < 6) {
                    return NULL;
                }
                for (int i = 2; i < 6; i++) {
                    if (sl__hexval((unsigned char)p[i]) < 0) {
                        return NULL;
                    }
                }
                p += 6;
                continue;
            default:
                return NULL;
            }
        }
        if (c < 0x20) {
            return NULL;
        }
        size_t k =
            sl__utf8_seq((const unsigned char *)p, (const unsigned char *)end);
        if (k == 0) {
            return NULL;
        }
        p += k;
    }
}

/* str's common case inline: the closing quote among the next 16 bytes,
 * with nothing to look at before it (most keys and short values). */
static inline __attribute__((always_inline)) const char *
str_short(const scan *s, const char *p, bool *esc) {
#ifdef __SSE2__
    if (s->end - p > 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
        __m128i m =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                      _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                         _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        const char *q = p + 1 + __builtin_ctz(mask | 0x10000u);
        if (mask && *q == '"') {
            *esc = false;
            return q + 1;
        }
    }
#endif
    return str(s, p, esc);
}

static bool digit(char c) {
    return c >= '0' && c <= '9';
}

/* A number at p (RFC 8259's grammar): its end, or NULL. *is_int: no
 * fraction and no exponent (the reader's SL_NODE_INT). */
static const char *num(const scan *s, const char *p, bool *is_int) {
    const char *end = s->end;
    *is_int = true;
    if (p < end && *p == '-') {
        p++;
    }
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && digit(*p)) {
            p++;
        }
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !digit(*p)) {
            return NULL;
        }
        while (p < end && digit(*p)) {
            p++;
        }
        *is_int = false;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p >= end || !digit(*p)) {
            return NULL;
        }
        while (p < end && digit(*p)) {
            p++;
        }
        *is_int = false;
    }
    return p;
}

static const char *lit(const scan *s, const char *p, const char *word,
                       size_t n) {
    return (size_t)(s->end - p) >= n && memcmp(p, word, n) == 0 ? p + n : NULL;
}

/* ---- the one container loop ---- */

/* A cursor over the members of an object or the elements of an array.
 * Every walker in this file is this loop:
 *
 *     cur c;
 *     for (bool m = members(s, &c, p); m; m = next(s, &c)) {
 *         c.p = value(s, c.p);    (c.key: the member's key; NULL: give up)
 *     }
 *     return c.p;                 (just past the close, or NULL)
 *
 * (elems for an array), so the shape - the open bracket, a key and ':',
 * the value, ',' or the close bracket, the depth - is written once.
 * open_at and next are always inlined: each walker gets its own copy with
 * the bracket and the key rule as constants, no slower than the seven
 * hand-written loops it replaced (callgrind, passthrough on
 * bench/run-apply.sh's records: 6,139 instructions a record with those
 * loops, 5,966 with the cursor, both without the shape probes below). */
typedef struct cur {
    const char *p; /* the value; after the loop: past the close, or NULL */
    sl_str key;    /* the member's key (objects), between its quotes */
    bool esc_ok;   /* keys may hold escapes (then key is their raw bytes) */
    char close;    /* '}' or ']' */
} cur;

#define INLINE static inline __attribute__((always_inline))

/* The key and ':' at c->p; c->p just past the ':'. */
INLINE bool cur_key(const scan *s, cur *c) {
    const char *p = c->p;
    bool esc;
    const char *q = p < s->end && *p == '"' ? str_short(s, p, &esc) : NULL;
    if (!q || (esc && !c->esc_ok) || q >= s->end || *q != ':') {
        c->p = NULL;
        return false;
    }
    c->key = (sl_str){p + 1, (size_t)(q - p - 2)};
    c->p = q + 1;
    return true;
}

/* Opens the container at p ('{' or '[' as open): true when a first member
 * or element follows at c->p; false with c->p past an empty container,
 * or NULL (not that container, too deep, or a bad first key). */
INLINE bool open_at(scan *s, cur *c, const char *p, char open, bool esc_ok) {
    c->close = open == '{' ? '}' : ']';
    c->esc_ok = esc_ok;
    if (p >= s->end || *p != open || s->depth >= SCAN_MAX_DEPTH) {
        c->p = NULL;
        return false;
    }
    p++;
    if (p < s->end && *p == c->close) {
        c->p = p + 1;
        return false;
    }
    s->depth++;
    c->p = p;
    return open == '[' || cur_key(s, c);
}

/* An OTLP object: keys without escapes. */
INLINE bool members(scan *s, cur *c, const char *p) {
    return open_at(s, c, p, '{', false);
}

INLINE bool elems(scan *s, cur *c, const char *p) {
    return open_at(s, c, p, '[', false);
}

/* After a value (c->p just past it, or NULL): true when another member
 * or element follows at c->p; false with c->p past the close, or NULL. */
INLINE bool next(scan *s, cur *c) {
    const char *p = c->p;
    if (!p || p >= s->end) {
        c->p = NULL;
        return false;
    }
    if (*p == c->close) {
        s->depth--;
        c->p = p + 1;
        return false;
    }
    if (*p != ',') {
        c->p = NULL;
        return false;
    }
    c->p = p + 1;
    return c->close == ']' || cur_key(s, c);
}

/* Any JSON value at p, compact: its end, or NULL. What follows a value is
 * checked by its container (',', '}' or ']'), which also rejects "1x" and
 * "truex" as the reader does. */
static const char *any_json(scan *s, const char *p) {
    if (p >= s->end) {
        return NULL;
    }
    bool flag;
    switch (*p) {
    case '"':
        return str_short(s, p, &flag);
    case 't':
        return lit(s, p, "true", 4);
    case 'f':
        return lit(s, p, "false", 5);
    case 'n':
        return lit(s, p, "null", 4);
    case '{':
    case '[': {
        cur c;
        for (bool m = open_at(s, &c, p, *p, true); m; m = next(s, &c)) {
            c.p = any_json(s, c.p);
        }
        return c.p;
    }
    default:
        return num(s, p, &flag);
    }
}

/* ---- OTLP values ---- */

/* A string value without escapes: its text in *t (between the quotes). */
static const char *plain_str(scan *s, const char *p, sl_str *t) {
    bool esc;
    if (p >= s->end || *p != '"') {
        return NULL;
    }
    const char *q = str_short(s, p, &esc);
    if (!q || esc) {
        return NULL;
    }
    *t = (sl_str){p + 1, (size_t)(q - p - 2)};
    return q;
}

static const char *string_val(scan *s, const char *p) {
    bool esc;
    return p < s->end && *p == '"' ? str_short(s, p, &esc) : NULL;
}

static bool all_digits(sl_str t) {
    unsigned bad = 0;
    for (size_t i = 0; i < t.len; i++) {
        bad |= (unsigned)((unsigned char)t.ptr[i] - '0') > 9u;
    }
    return t.len > 0 && !bad;
}

/* An integer the full path surely accepts: plain non-negative digits (a
 * number, or for 64-bit types a decimal string) short enough that no value
 * of that length is out of range: max_digits 19 for unsigned 64-bit, 18
 * for signed, 9 for 32-bit and enums. */
static const char *int_val(scan *s, const char *p, size_t max_digits,
                           bool str_ok) {
    if (p >= s->end) {
        return NULL;
    }
    sl_str t;
    const char *q;
    if (*p == '"') {
        if (!str_ok) {
            return NULL;
        }
        q = plain_str(s, p, &t);
    } else {
        bool is_int;
        q = num(s, p, &is_int);
        if (!q || !is_int) {
            return NULL;
        }
        t = (sl_str){p, (size_t)(q - p)};
    }
    return q && all_digits(t) && t.len <= max_digits ? q : NULL;
}

static const char *double_val(scan *s, const char *p) {
    bool is_int;
    return p < s->end && (*p == '-' || digit(*p)) ? num(s, p, &is_int) : NULL;
}

/* Lower-case hex digits only (what the full path keeps as it is; upper
 * case it rewrites, so that takes the full path). */
static bool hex_lower(sl_str t) {
    size_t i = 0;
    unsigned bad = 0;
#ifdef __SSE2__
    for (; i + 16 <= t.len; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(t.ptr + i));
        __m128i dig = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                    _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
        __m128i af = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('a' - 1)),
                                   _mm_cmplt_epi8(x, _mm_set1_epi8('f' + 1)));
        bad |= (unsigned)_mm_movemask_epi8(_mm_or_si128(dig, af)) ^ 0xffffu;
    }
#endif
    for (; i < t.len; i++) {
        char c = t.ptr[i];
        bad |= !digit(c) && !(c >= 'a' && c <= 'f');
    }
    return bad == 0;
}

static bool is(sl_str key, const char *name, size_t n) {
    return key.len == n && memcmp(key.ptr, name, n) == 0;
}

static const char *kvlist(scan *s, const char *p);
static const char *wrapped(scan *s, const char *p, bool kv);

/* The usual shapes of an AnyValue, {"stringValue":"..."}, and of a
 * KeyValue, {"key":"...","value":{...}}, matched by their bytes before
 * the walk: past the object when it is that shape, NULL when not (nothing
 * to undo: a pure check; then the walk decides, with the same result).
 * Measured with callgrind on bench/run-apply.sh's records (passthrough,
 * release build): 5,132 instructions a record with them, 5,966 without,
 * so they save 834 (14%). Taking "stringValue", "key" and "value" as
 * expected keys inside the cursor instead saved only 340: what these skip
 * is the members loop's bookkeeping (depth, close, seen), not the keys. */
static const char *usual_any(scan *s, const char *p) {
    const char *q =
        s->depth < SCAN_MAX_DEPTH ? lit(s, p, "{\"stringValue\":", 15) : NULL;
    q = q ? string_val(s, q) : NULL;
    return q && q < s->end && *q == '}' ? q + 1 : NULL;
}

static const char *any_value(scan *s, const char *p);

static const char *usual_kv(scan *s, const char *p) {
    const char *q =
        s->depth < SCAN_MAX_DEPTH ? lit(s, p, "{\"key\":", 7) : NULL;
    q = q ? string_val(s, q) : NULL;
    q = q ? lit(s, q, ",\"value\":", 9) : NULL;
    if (!q) {
        return NULL;
    }
    s->depth++;
    q = any_value(s, q);
    s->depth--;
    return q && q < s->end && *q == '}' ? q + 1 : NULL;
}

/* An AnyValue object: every key a known kind, at most one non-null. */
static const char *any_value(scan *s, const char *p) {
    const char *q = usual_any(s, p);
    if (q) {
        return q;
    }
    bool seen = false;
    cur c;
    for (bool m = members(s, &c, p); m; m = next(s, &c)) {
        int kind = sl__otlp_any_kind_of(c.key);
        p = c.p;
        if (kind == AK_NONE || seen || p >= s->end || *p == 'n') {
            return NULL; /* an error, or a null: the full path decides */
        }
        seen = true;
        switch (kind) {
        case AK_STRING:
            c.p = string_val(s, p);
            break;
        case AK_BOOL:
            c.p = *p == 't' ? lit(s, p, "true", 4) : lit(s, p, "false", 5);
            break;
        case AK_INT:
            c.p = int_val(s, p, 18, true);
            break;
        case AK_DOUBLE:
            c.p = double_val(s, p);
            break;
        case AK_BYTES: {
            sl_str t;
            c.p = plain_str(s, p, &t);
            if (c.p && sl__base64_decode(t.ptr, t.len, NULL) < 0) {
                c.p = NULL;
            }
            break;
        }
        default:
            c.p = wrapped(s, p, kind == AK_KVLIST);
            break;
        }
    }
    return c.p;
}

/* An arrayValue / kvlistValue object: its "values" member (any number of
 * times, as the full path checks each) an array of AnyValues or a
 * key-value list; other members are ignored, as load.c ignores them. */
static const char *wrapped(scan *s, const char *p, bool kv) {
    cur c;
    for (bool m = members(s, &c, p); m; m = next(s, &c)) {
        if (!is(c.key, "values", 6)) {
            c.p = any_json(s, c.p);
        } else if (kv) {
            c.p = kvlist(s, c.p);
        } else {
            cur e;
            for (bool m2 = elems(s, &e, c.p); m2; m2 = next(s, &e)) {
                e.p = any_value(s, e.p);
            }
            c.p = e.p;
        }
    }
    return c.p;
}

/* A KeyValue: "key" a string, "value" an AnyValue, each at most once;
 * other members ignored. */
static const char *key_value(scan *s, const char *p) {
    const char *q = usual_kv(s, p);
    if (q) {
        return q;
    }
    bool has_key = false, has_value = false;
    cur c;
    for (bool m = members(s, &c, p); m; m = next(s, &c)) {
        bool is_key = is(c.key, "key", 3);
        bool is_value = is(c.key, "value", 5);
        if ((is_key && has_key) || (is_value && has_value) ||
            ((is_key || is_value) && c.p < s->end && *c.p == 'n')) {
            return NULL;
        }
        if (is_key) {
            has_key = true;
            c.p = string_val(s, c.p);
        } else if (is_value) {
            has_value = true;
            c.p = any_value(s, c.p);
        } else {
            c.p = any_json(s, c.p);
        }
    }
    return c.p;
}

static const char *kvlist(scan *s, const char *p) {
    cur c;
    for (bool m = elems(s, &c, p); m; m = next(s, &c)) {
        c.p = key_value(s, c.p);
    }
    return c.p;
}

/* ---- messages ---- */

static bool names(const fdesc *d, sl_str key) {
    return (key.len == d->clen && sl__otlp_same(key.ptr, d->camel, d->clen)) ||
           (key.len == d->slen && sl__otlp_same(key.ptr, d->snake, d->slen));
}

/* The field key names, tried first at *hint (just after the last one
 * found: fields mostly come in one order), then all of them. */
static const fdesc *field_of(const msgdesc *m, sl_str key, uint8_t *hint) {
    if (*hint < m->n && names(&m->f[*hint], key)) {
        return &m->f[(*hint)++];
    }
    for (uint8_t i = 0; i < m->n; i++) {
        if (names(&m->f[i], key)) {
            *hint = (uint8_t)(i + 1);
            return &m->f[i];
        }
    }
    return NULL;
}

static const char *msg(scan *s, const char *p, const msgdesc *m,
                       sl_node **slots, uint32_t want, uint32_t group);
static const char *msg_list(scan *s, const char *p, const msgdesc *m);
static const char *scopes(scan *s, const char *p, uint32_t ri);
static const char *records(scan *s, const char *p, uint32_t g);

/* A repeated message field (a span's events or links): an array of
 * objects of m, each validated, none indexed (load.c's check_array). */
static const char *msg_list(scan *s, const char *p, const msgdesc *m) {
    cur c;
    for (bool more = elems(s, &c, p); more; more = next(s, &c)) {
        c.p = msg(s, c.p, m, NULL, 0, 0);
    }
    return c.p;
}

/* One known field's value (what load.c's check_value accepts, narrowed
 * as the file comment says); lists are the caller's. */
static const char *field_value(scan *s, const char *p, const fdesc *d,
                               sl_node **slots, uint32_t want) {
    bool rep = (d->flags & PF_REPEATED) != 0;
    switch ((sl__ptype)d->type) {
    case PT_ID: {
        sl_str t;
        const char *q = plain_str(s, p, &t);
        return q && (t.len == 0 || (t.len == d->aux * 2u && hex_lower(t)))
                   ? q
                   : NULL;
    }
    case PT_FIXED64:
    case PT_UINT64: /* 19 digits fit in 64 bits unsigned, 18 signed */
        return rep ? NULL : int_val(s, p, 19, true);
    case PT_SFIXED64:
    case PT_INT64:
        return rep ? NULL : int_val(s, p, 18, true);
    case PT_UINT32:
    case PT_FIXED32:
    case PT_INT32:
    case PT_SINT32:
        return rep ? NULL : int_val(s, p, 9, false);
    case PT_ENUM: {
        if (rep) {
            return NULL;
        }
        if (*p != '"') {
            return int_val(s, p, 9, false);
        }
        sl_str t;
        int32_t v;
        const char *q = plain_str(s, p, &t);
        return q && sl__otlp_enum_value(d->aux, t, &v) ? q : NULL;
    }
    case PT_DOUBLE:
        return rep ? NULL : double_val(s, p);
    case PT_BOOL:
        return *p == 't' ? lit(s, p, "true", 4) : lit(s, p, "false", 5);
    case PT_MSG:
        if (d->flags & PF_LOOSE) {
            return any_json(s, p);
        }
        if (d->sub == &sl__proto_any_msg) {
            return any_value(s, p);
        }
        if (rep) {
            return d->sub == &sl__proto_kv_msg ? kvlist(s, p)
                                               : msg_list(s, p, d->sub);
        }
        return msg(s, p, d->sub, slots && d->inner ? slots + d->inner : NULL,
                   d->inner ? want >> d->inner : 0, 0);
    case PT_STRING:
        return rep ? NULL : string_val(s, p);
    default:
        return NULL;
    }
}

/* An object of message m. slots (may be NULL) receive the nodes of the
 * fields whose slot bit is set in want, built by the doc reader. The list
 * of a resource or scope entry (group: its index) is walked where it
 * stands, its span left in s->list_off / s->list_end. */
static const char *msg(scan *s, const char *p, const msgdesc *m,
                       sl_node **slots, uint32_t want, uint32_t group) {
    if (m->n > 32) {
        return NULL;
    }
    uint32_t seen = 0, oneofs = 0;
    uint8_t hint = 0;
    cur c;
    for (bool more = members(s, &c, p); more; more = next(s, &c)) {
        const fdesc *d = field_of(m, c.key, &hint);
        const char *v = c.p;
        if (!d) {
            c.p = any_json(s, v); /* unknown: kept, only its syntax counts */
            continue;
        }
        uint32_t bit = 1u << (d - m->f);
        uint8_t oneof = d->flags & PF_PRESENCE ? d->aux : 0;
        if ((seen & bit) || v >= s->end || *v == 'n' ||
            (oneof && (oneofs & (1u << oneof)))) {
            return NULL;
        }
        seen |= bit;
        oneofs |= oneof ? 1u << oneof : 0;
        if (d->flags & PF_LIST) {
            c.p = m == s->res_entry     ? scopes(s, v, group)
                  : m == s->scope_entry ? records(s, v, group)
                                        : NULL;
            s->list_off = (uint32_t)(v - s->base);
            s->list_end = c.p ? (uint32_t)(c.p - s->base) : 0;
            continue;
        }
        c.p = field_value(s, v, d, slots, want);
        if (c.p && slots && d->slot >= 0 && (want >> d->slot) & 1u) {
            sl_node *n = NULL;
            if (sl__doc_parse_at(s->o->doc, (size_t)(v - s->base), &n, NULL) !=
                SL_OK) {
                return NULL;
            }
            slots[d->slot] = n;
        }
    }
    return c.p;
}

/* ---- the three levels ---- */

static void entry_kvx(sl_otlp *o, const sl_node *attrs, uint32_t *first,
                      uint32_t *n);

static const char *record(scan *s, const char *p, uint32_t g) {
    sl_otlp *o = s->o;
    if (o->nrec >= UINT32_MAX ||
        !sl__otlp_grow((void **)&o->recs, &o->caprec, o->nrec + 1,
                       sizeof(*o->recs))) {
        return NULL; /* the full path reports it */
    }
    sl__otlp_rec *r = &o->recs[o->nrec];
    memset(r, 0, sizeof(*r));
    r->scope = g;
    r->off = (uint32_t)(p - s->base);
    uint32_t want = o->want & SL__WANT_RECORD;
    if (o->sig == SL_SIGNAL_METRIC && want) {
        /* a metric's type, temporality and attributes (its first data
         * point's) are derived from its data: built for any of them */
        want |= 1u << MS_GAUGE | 1u << MS_SUM | 1u << MS_HIST | 1u << MS_EXPH |
                1u << MS_SUMMARY;
    }
    const char *q = msg(s, p, s->record, r->f, want, 0);
    if (!q) {
        return NULL;
    }
    r->end = (uint32_t)(q - s->base);
    sl__otlp_derive_record(o, o->nrec); /* metrics: sets the attributes */
    entry_kvx(o, r->f[SLOT_ATTRS], &r->kvx, &r->nkvx);
    o->nrec++;
    return q;
}

static const char *records(scan *s, const char *p, uint32_t g) {
    cur c;
    for (bool m = elems(s, &c, p); m; m = next(s, &c)) {
        c.p = record(s, c.p, g);
    }
    return c.p;
}

/* The attribute index of a list (NULL: none, an empty index, as load.c
 * makes for an absent or unbuilt list). */
static void entry_kvx(sl_otlp *o, const sl_node *attrs, uint32_t *first,
                      uint32_t *n) {
    if (!attrs) {
        *first = (uint32_t)o->nkvx;
        *n = 0;
        return;
    }
    sl__otlp_kvx_build(o, attrs, first, n);
}

static const char *scope_entry(scan *s, const char *p, uint32_t ri) {
    sl_otlp *o = s->o;
    if (o->nscope >= UINT32_MAX ||
        !sl__otlp_grow((void **)&o->scopes, &o->capscope, o->nscope + 1,
                       sizeof(*o->scopes))) {
        return NULL;
    }
    uint32_t g = (uint32_t)o->nscope++;
    sl__otlp_scope *sc = &o->scopes[g];
    memset(sc, 0, sizeof(*sc));
    sc->res = ri;
    sc->first = (uint32_t)o->nrec;
    sc->off = (uint32_t)(p - s->base);
    sl_node *slots[SL__ES_NSLOTS] = {NULL};
    uint32_t want = o->want & SL__WANT_SCOPE
                        ? 1u << SL__ES_SCHEMA |
                              1u << (SL__ES_SUB + SL__SC_NAME) |
                              1u << (SL__ES_SUB + SL__SC_VERSION) |
                              1u << (SL__ES_SUB + SL__SC_ATTRS)
                        : 0;
    s->list_off = s->list_end = 0;
    const char *q = msg(s, p, s->scope_entry, slots, want, g);
    if (!q) {
        return NULL;
    }
    sc = &o->scopes[g];
    sc->end = (uint32_t)(q - s->base);
    sc->loff = s->list_off;
    sc->lend = s->list_end;
    sc->schema = slots[SL__ES_SCHEMA];
    sc->name = slots[SL__ES_SUB + SL__SC_NAME];
    sc->version = slots[SL__ES_SUB + SL__SC_VERSION];
    sc->attrs = slots[SL__ES_SUB + SL__SC_ATTRS];
    entry_kvx(o, sc->attrs, &sc->kvx, &sc->nkvx);
    sc->count = (uint32_t)(o->nrec - sc->first);
    sc->kept = sc->count;
    o->res[ri].kept += sc->count;
    if (sc->count == 0) {
        o->nempty++;
    }
    return q;
}

static const char *scopes(scan *s, const char *p, uint32_t ri) {
    cur c;
    for (bool m = elems(s, &c, p); m; m = next(s, &c)) {
        c.p = scope_entry(s, c.p, ri);
    }
    return c.p;
}

static const char *res_entry(scan *s, const char *p) {
    sl_otlp *o = s->o;
    if (o->nres >= UINT32_MAX || !sl__otlp_grow((void **)&o->res, &o->capres,
                                                o->nres + 1, sizeof(*o->res))) {
        return NULL;
    }
    uint32_t ri = (uint32_t)o->nres++;
    sl__otlp_res *r = &o->res[ri];
    memset(r, 0, sizeof(*r));
    r->sfirst = (uint32_t)o->nscope;
    r->off = (uint32_t)(p - s->base);
    sl_node *slots[SL__ES_NSLOTS] = {NULL};
    uint32_t want =
        o->want & SL__WANT_RES
            ? 1u << SL__ES_SCHEMA | 1u << (SL__ES_SUB + SL__RS_ATTRS)
            : 0;
    s->list_off = s->list_end = 0;
    const char *q = msg(s, p, s->res_entry, slots, want, ri);
    if (!q) {
        return NULL;
    }
    r = &o->res[ri];
    r->end = (uint32_t)(q - s->base);
    r->loff = s->list_off;
    r->lend = s->list_end;
    r->schema = slots[SL__ES_SCHEMA];
    r->attrs = slots[SL__ES_SUB + SL__RS_ATTRS];
    entry_kvx(o, r->attrs, &r->kvx, &r->nkvx);
    r->scount = (uint32_t)(o->nscope - r->sfirst);
    if (r->kept == 0) {
        o->nempty++;
    }
    return q;
}

/* The request: its resourceLogs, resourceSpans or resourceMetrics list
 * walked where it stands (when o->lazy_sigs enables the signal); a second
 * list takes the full path. */
bool sl__otlp_scan(sl_otlp *o, size_t start, size_t *stop) {
    scan sc = {
        .o = o,
        .base = o->text,
        .end = o->text + o->text_len,
        .depth = 0,
    };
    scan *s = &sc;
    o->root_off = (uint32_t)start;
    bool found = false;
    cur c;
    for (bool m = members(s, &c, s->base + start); m; m = next(s, &c)) {
        int sig = -1;
        for (int k = 0; k < 3; k++) {
            const fdesc *d = &sl__proto_request((sl_signal)k)->f[0];
            if (is(c.key, d->camel, d->clen) || is(c.key, d->snake, d->slen)) {
                sig = k;
                o->snake = c.key.len == d->slen && d->slen != d->clen;
            }
        }
        if (sig >= 0 && (found || !(o->lazy_sigs & (1u << sig)))) {
            return false; /* an error, or a signal not enabled: the full
                             path */
        }
        if (sig < 0) {
            c.p = any_json(s, c.p);
            continue;
        }
        found = true;
        o->sig = (sl_signal)sig; /* what the records' derived slots follow */
        s->res_entry = sl__proto_resource_entry(o->sig);
        s->scope_entry = sl__proto_scope_entry(o->sig);
        s->record = sl__proto_record(o->sig);
        o->list_off = (uint32_t)(c.p - s->base);
        cur e;
        for (bool m2 = elems(s, &e, c.p); m2; m2 = next(s, &e)) {
            e.p = res_entry(s, e.p);
        }
        c.p = e.p;
        o->list_end = c.p ? (uint32_t)(c.p - s->base) : 0;
    }
    if (!found || !c.p) {
        return false;
    }
    o->root_end = (uint32_t)(c.p - s->base);
    *stop = (size_t)(c.p - s->base);
    return true;
}

/* src/otlp/proto_read.c: sl_otlp_load_proto, one OTLP/protobuf export
 * request decoded into the same document tree an OTLP/JSON request gives,
 * then validated and indexed by load.c like JSON. Writing protobuf lives
 * in proto_write.c, the schema in proto_schema.c.
 *
 * The one idea: the tree is what the proto3 JSON mapping of the message
 * would be (camelCase keys, 64-bit integers as decimal strings, bytes as
 * base64, trace / span ids as lower-case hex, enums as numbers, default
 * scalars left out as proto3 does), so every getter, policy, change and
 * the JSON writer work unchanged. Strings point into the input (zero-copy).
 * Every message object remembers its span in the input: the protobuf
 * writer copies unchanged messages as their bytes, and recovers unknown
 * fields (never in the tree) from the span of a changed one.
 *
 * Strict: a truncated varint or field, a length past its message, a wire
 * type that is not the field's, a group, invalid UTF-8 in a string, an id
 * of the wrong length: SL_EPARSE (wire) or SL_ESCHEMA (schema), naming the
 * field path and the byte offset; nesting deeper than PROTO_MAX_DEPTH
 * messages: SL_ELIMIT. Repeated occurrences of a field follow protobuf:
 * the last scalar wins, messages merge, a oneof keeps its last member. */
#include <sluice/otlp.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "doc/build.h"
#include "doc/view.h"
#include "otlp/proto.h"

enum {
    PROTO_MAX_DEPTH = 100, /* nested messages (AnyValue inside AnyValue..) */
    MAX_FIELDS = 32,       /* fields of the largest message */
    DIRECT_NUMS = 32,      /* field numbers a direct table covers */
    FTAB_BITS = 5,         /* 2^FTAB_BITS direct tables per decode */
    FTAB_PROBES = 4,       /* entries tried for a message's table */
    TEXT_CHUNK = 4096      /* bytes of made text per arena call */
};

/* A message's direct table (fields_of). */
typedef struct ftab {
    const sl__pmsg *m;       /* NULL: not built */
    uint8_t at[DIRECT_NUMS]; /* field number -> 1 + field index; 0: none */
} ftab;

typedef struct pstep {
    const char *name;
    uint32_t index; /* UINT32_MAX: not a list element */
} pstep;

typedef struct dctx {
    sl_otlp *o;
    const sl__pmsg *rec; /* the signal's record message */
    bool prefill;        /* records' slots still go to o (no failure) */
    /* the attribute index of the record being decoded (sl__otlp_kvx),
     * appended to o as its KeyValues are decoded, so the index need not
     * find each KeyValue's key and value again (load.c's known_kvlist) */
    bool kvx_on;        /* prefill, and the records are not metrics */
    bool kvx_bad;       /* o->kvx could not grow: readers walk the list */
    uint32_t kvx_first; /* the record's first entry in o->kvx */
    const sl_node *kv_key, *kv_val; /* members of the last KeyValue done */
    sl_doc *doc;
    const uint8_t *base;
    sl_error *err;
    const char *file;
    /* an error fail() found: its path is gathered as the decoder returns
     * (innermost step first), so decoding keeps no path while it works */
    bool failed;
    sl_status code;
    size_t off;
    char msg[200];
    pstep path[PROTO_MAX_DEPTH * 2 + 4];
    unsigned npath;
    ftab tabs[1u << FTAB_BITS];
    char *tcur, *tend; /* text_room's chunk: its free bytes */
} dctx;

static sl_status fail(dctx *c, sl_status code, const uint8_t *at,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sl_status fail(dctx *c, sl_status code, const uint8_t *at,
                      const char *fmt, ...) {
    if (!c->err) {
        return code;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
    va_end(ap);
    c->failed = true;
    c->code = code;
    c->off = (size_t)(at - c->base);
    c->npath = 0;
    return code;
}

/* One step of the path of an error, on the way out of the field it is in
 * (index: its list index, or UINT32_MAX). */
static void step_out(dctx *c, const char *name, uint32_t index) {
    if (c->failed && c->npath < SL_ARRAY_LEN(c->path)) {
        c->path[c->npath].name = name;
        c->path[c->npath].index = index;
        c->npath++;
    }
}

/* The error fail() found, with its path ("resourceLogs[0].scopeLogs"):
 * "<path>: <message> (offset N)". */
static sl_status report(dctx *c) {
    char path[160];
    size_t n = 0;
    path[0] = '\0';
    for (unsigned k = 0; k < c->npath && n < sizeof(path); k++) {
        const pstep *s = &c->path[c->npath - 1 - k];
        int w = s->index == UINT32_MAX
                    ? snprintf(path + n, sizeof(path) - n, "%s%s", k ? "." : "",
                               s->name)
                    : snprintf(path + n, sizeof(path) - n, "%s%s[%u]",
                               k ? "." : "", s->name, (unsigned)s->index);
        if (w < 0) {
            break;
        }
        n += (size_t)w;
    }
    sl_pos pos = {c->file, 0, 0};
    return sl__error(c->err, c->code, &pos, "%s: %s (offset %zu)",
                     c->npath ? path : "request", c->msg, c->off);
}

/* The error of read_len, kept out of its fast path: p0 is where the
 * length prefix starts. */
static __attribute__((noinline)) sl_status
len_fail(dctx *c, const uint8_t *p0, const uint8_t *end, const uint8_t *at) {
    uint64_t n;
    if (!sl__proto_varint(&p0, end, &n)) {
        return fail(c, SL_EPARSE, at, "truncated length");
    }
    return fail(c, SL_EPARSE, at, "length %llu past the end of its message",
                (unsigned long long)n);
}

/* A length prefix at *p: the length in *n and *p past it, when it is whole
 * and does not run past end; otherwise the error, located at `at`. */
static inline sl_status read_len(dctx *c, const uint8_t **p, const uint8_t *end,
                                 const uint8_t *at, uint64_t *n) {
    const uint8_t *p0 = *p;
    if (sl__proto_varint(p, end, n) && *n <= (uint64_t)(end - *p)) {
        return SL_OK;
    }
    return len_fail(c, p0, end, at);
}

/* ---- scalars into the tree ---- */

/* Room for n bytes of text the decoder makes (hex ids, decimals, base64,
 * floats), carved from arena chunks of TEXT_CHUNK bytes: one arena call
 * per chunk, not per value; a long text gets its own. NULL when out of
 * memory. */
static char *text_room(dctx *c, size_t n) {
    if ((size_t)(c->tend - c->tcur) >= n) {
        char *p = c->tcur;
        c->tcur += n;
        return p;
    }
    if (n > TEXT_CHUNK / 4) {
        return sl__doc_build_alloc(c->doc, n);
    }
    char *chunk = sl__doc_build_alloc(c->doc, TEXT_CHUNK);
    if (!chunk) {
        return NULL;
    }
    c->tcur = chunk + n;
    c->tend = chunk + TEXT_CHUNK;
    return chunk;
}

static const char *copy_text(dctx *c, const char *s, size_t n) {
    char *p = text_room(c, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static sl_status set_lexeme(dctx *c, sl_node *v, sl_node_kind kind,
                            const char *s, size_t n) {
    const char *t = copy_text(c, s, n);
    if (!t) {
        return sl__nomem(c->err);
    }
    sl__doc_build_scalar(v, kind, t, (uint32_t)n);
    return SL_OK;
}

/* Decimal digits of u, written backwards from end, two at a time;
 * returns the start. Eight digits at a time are split off with one 64-bit
 * division, the rest is 32-bit arithmetic (timestamps have 19 digits). */
static char *digits(uint64_t u, char *end) {
    static const char pairs[201] =
        "000102030405060708091011121314151617181920212223242526272829"
        "303132333435363738394041424344454647484950515253545556575859"
        "606162636465666768697071727374757677787980818283848586878889"
        "90919293949596979899";
    while (u >= 100000000) {
        uint64_t q = u / 100000000;
        uint32_t r = (uint32_t)(u - q * 100000000);
        uint32_t hi = r / 10000, lo = r % 10000; /* independent halves */
        end -= 8;
        memcpy(end, pairs + 2 * (hi / 100), 2);
        memcpy(end + 2, pairs + 2 * (hi % 100), 2);
        memcpy(end + 4, pairs + 2 * (lo / 100), 2);
        memcpy(end + 6, pairs + 2 * (lo % 100), 2);
        u = q;
    }
    uint32_t v = (uint32_t)u;
    while (v >= 100) {
        unsigned r = v % 100;
        v /= 100;
        end -= 2;
        memcpy(end, pairs + 2 * r, 2);
    }
    if (v >= 10) {
        end -= 2;
        memcpy(end, pairs + 2 * v, 2);
    } else {
        *--end = (char)('0' + v);
    }
    return end;
}

/* The text is written in place, at the end of room for the longest (a
 * sign, 20 digits, the NUL): no copy. */
static sl_status set_dec(dctx *c, sl_node *v, sl_node_kind kind, uint64_t u,
                         bool neg) {
    char *b = text_room(c, 22);
    if (!b) {
        return sl__nomem(c->err);
    }
    b[21] = '\0';
    char *p = digits(u, b + 21);
    if (neg) {
        *--p = '-';
    }
    sl__doc_build_scalar(v, kind, p, (uint32_t)(b + 21 - p));
    sl__doc_build_plain(v); /* digits: a string when 64-bit */
    return SL_OK;
}

static sl_status set_u64(dctx *c, sl_node *v, uint64_t u) {
    return set_dec(c, v, SL_NODE_STRING, u, false);
}

static sl_status set_i64(dctx *c, sl_node *v, int64_t i) {
    return set_dec(c, v, SL_NODE_STRING, i < 0 ? 0 - (uint64_t)i : (uint64_t)i,
                   i < 0);
}

static sl_status set_int(dctx *c, sl_node *v, int64_t i) {
    return set_dec(c, v, SL_NODE_INT, i < 0 ? 0 - (uint64_t)i : (uint64_t)i,
                   i < 0);
}

/* A double as the shortest decimal that reads back the same; NaN and the
 * infinities as the strings the JSON mapping uses. */
static sl_status set_double(dctx *c, sl_node *v, double d) {
    if (isnan(d)) {
        sl__doc_build_scalar(v, SL_NODE_STRING, "NaN", 3);
        return SL_OK;
    }
    if (isinf(d)) {
        sl__doc_build_scalar(v, SL_NODE_STRING,
                             d > 0 ? "Infinity" : "-Infinity", d > 0 ? 8 : 9);
        return SL_OK;
    }
    char b[40];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(b, sizeof(b), "%.*g", prec, d);
        if (strtod(b, NULL) == d) {
            break;
        }
    }
    return set_lexeme(c, v, SL_NODE_FLOAT, b, (size_t)n);
}

/* A float as the shortest decimal that reads back as the same float. */
static sl_status set_float(dctx *c, sl_node *v, uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof(f));
    if (!isfinite(f)) {
        return set_double(c, v, (double)f);
    }
    char b[40];
    int n = 0;
    for (int prec = 6; prec <= 9; prec++) {
        n = snprintf(b, sizeof(b), "%.*g", prec, (double)f);
        if (strtof(b, NULL) == f) {
            break;
        }
    }
    return set_lexeme(c, v, SL_NODE_FLOAT, b, (size_t)n);
}

static sl_status set_base64(dctx *c, sl_node *v, const uint8_t *p, size_t n) {
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t olen = (n + 2) / 3 * 4;
    char *o = text_room(c, olen + 1);
    if (!o) {
        return sl__nomem(c->err);
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)p[i] << 16;
        if (i + 1 < n) {
            w |= (uint32_t)p[i + 1] << 8;
        }
        if (i + 2 < n) {
            w |= p[i + 2];
        }
        o[j++] = tab[(w >> 18) & 63];
        o[j++] = tab[(w >> 12) & 63];
        o[j++] = i + 1 < n ? tab[(w >> 6) & 63] : '=';
        o[j++] = i + 2 < n ? tab[w & 63] : '=';
    }
    o[j] = '\0';
    sl__doc_build_scalar(v, SL_NODE_STRING, o, (uint32_t)j);
    sl__doc_build_plain(v); /* base64 */
    return SL_OK;
}

static uint64_t le64(const uint8_t *p) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
#else
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
#endif
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* ---- messages ----
 * One general path for every message: a field's number finds its table
 * entry through the message's direct table (fields_of), its value goes to
 * the member of its field (found through the present bits, or pushed into
 * the room the message reserved when it began), and a sub-message is the
 * same loop one level down. */

typedef struct mstate {
    const sl__pmsg *m;
    sl_node *obj;
    uint32_t count;         /* members of obj */
    uint32_t present;       /* bit i: field i has a member */
    int8_t idx[MAX_FIELDS]; /* member index of each present field */
} mstate;

/* Message m's direct table: at[num] is 1 + the index in m->f of field
 * number num < DIRECT_NUMS, 0 for an unknown number. The schema tables are
 * constant, so a decode keeps its own, built at a message's first use in
 * an entry of c->tabs found from the message's address (the next few
 * entries when that one holds another message); NULL when all of those do
 * (its fields are then found by sl__proto_field_num: slower, the same
 * answer). */
static const uint8_t *fields_of(dctx *c, const sl__pmsg *m) {
    uint32_t h = (uint32_t)(((uint64_t)(uintptr_t)m * 0x9e3779b97f4a7c15ull) >>
                            (64 - FTAB_BITS));
    for (uint32_t k = 0; k < FTAB_PROBES; k++) {
        ftab *t = &c->tabs[(h + k) & (SL_ARRAY_LEN(c->tabs) - 1)];
        if (t->m == m) {
            return t->at;
        }
        if (!t->m) {
            t->m = m;
            memset(t->at, 0, sizeof(t->at));
            for (uint8_t i = 0; i < m->n; i++) {
                uint8_t num = m->f[i].num;
                if (num < DIRECT_NUMS && !t->at[num]) {
                    t->at[num] = (uint8_t)(i + 1);
                }
            }
            return t->at;
        }
    }
    return NULL;
}

static void reindex(mstate *s) {
    s->present = 0;
    size_t n = sl_node_len(s->obj);
    s->count = (uint32_t)n;
    for (size_t k = 0; k < n; k++) {
        const sl__pfield *f = sl__proto_field_key(s->m, sl_node_key(s->obj, k));
        if (f) {
            size_t fi = (size_t)(f - s->m->f);
            s->present |= 1u << fi;
            s->idx[fi] = (int8_t)k;
        }
    }
}

/* Field f (index fi) joins a oneof: the other members of its oneof go
 * (the last one set wins). */
static __attribute__((noinline)) void oneof_clear(mstate *s,
                                                  const sl__pfield *f) {
    bool removed = false;
    for (uint8_t i = 0; i < s->m->n; i++) {
        const sl__pfield *g = &s->m->f[i];
        if (g != f && g->aux == f->aux && (g->flags & PF_PRESENCE) &&
            (s->present & (1u << i))) {
            sl_node_remove(s->obj, (size_t)s->idx[i]);
            s->present &= ~(1u << i);
            removed = true;
        }
    }
    if (removed) {
        reindex(s);
    }
}

/* The member node of field f (index fi), made (null) when absent. */
static inline sl_node *member(dctx *c, mstate *s, const sl__pfield *f,
                              size_t fi) {
    if (s->present & (1u << fi)) {
        return (sl_node *)sl_node_at(s->obj, (size_t)s->idx[fi]);
    }
    if ((f->flags & PF_PRESENCE) && f->aux && s->present) {
        oneof_clear(s, f);
    }
    sl_node *v = sl__doc_build_push(c->doc, s->obj, f->camel, f->clen);
    if (v) {
        s->present |= 1u << fi;
        s->idx[fi] = (int8_t)s->count++;
    }
    return v;
}

/* The array member of repeated field f (index fi), made when absent. */
static sl_node *array_of(dctx *c, mstate *s, const sl__pfield *f, size_t fi) {
    if (!(s->present & (1u << fi))) {
        sl_node *v = member(c, s, f, fi);
        if (!v) {
            return NULL;
        }
        sl__doc_build_container(v, SL_NODE_ARRAY, UINT32_MAX, NULL);
        return v;
    }
    return (sl_node *)sl_node_at(s->obj, (size_t)s->idx[fi]);
}

/* Where a value of field f (index fi) goes: a new element of its list
 * (in_array), or its member, made when absent. NULL: out of memory, or
 * (*skip set) a proto3 default of a field without presence that has no
 * member yet, which is no value. */
static inline sl_node *value_node(dctx *c, mstate *s, const sl__pfield *f,
                                  size_t fi, bool in_array, bool is_default,
                                  bool *skip) {
    if (in_array) {
        sl_node *arr = (sl_node *)sl_node_at(s->obj, (size_t)s->idx[fi]);
        return sl__doc_build_push(c->doc, arr, NULL, 0);
    }
    if (is_default && !(f->flags & PF_PRESENCE) && !(s->present & (1u << fi))) {
        *skip = true;
        return NULL;
    }
    return member(c, s, f, fi);
}

static sl_status dec_msg(dctx *c, const sl__pmsg *m, sl_node *obj, bool merge,
                         const uint8_t *p, const uint8_t *end, unsigned depth);

/* Types whose default is a zero in the low 32 bits of the value read (an
 * int32 varint is sign-extended to 64 bits on the wire). For every other
 * type the default is a value read as 0: a zero varint or fixed64, a
 * length of 0, a double +0.0 (all bits zero; -0.0 is a value). */
#define NARROW_TYPES                                                         \
    (1u << PT_UINT32 | 1u << PT_INT32 | 1u << PT_SINT32 | 1u << PT_FIXED32 | \
     1u << PT_ENUM | 1u << PT_FLOAT)

/* A string of field f (index fi) at *pp, its length prefix first: a new
 * list element (in_array), or the field's member, made unless it is empty
 * and the field has no presence. It points into the input. */
static inline __attribute__((always_inline)) sl_status
dec_string(dctx *c, mstate *s, const sl__pfield *f, size_t fi,
           const uint8_t **pp, const uint8_t *end, bool in_array,
           const uint8_t *fstart) {
    const uint8_t *p = *pp;
    uint64_t n;
    sl_status lrc = read_len(c, &p, end, fstart, &n);
    if (lrc != SL_OK) {
        return lrc;
    }
    const char *t = (const char *)p;
    size_t len = (size_t)n;
    *pp = p + len;
    /* most strings are plain (ASCII, nothing to escape): then valid UTF-8
     * and written to JSON as they are */
    bool plain = sl__doc_text_plain(t, len);
    if (!plain && sl__utf8_valid_prefix(t, len) != len) {
        return fail(c, SL_ESCHEMA, fstart, "a string that is not valid utf-8");
    }
    bool skip = false;
    sl_node *v = value_node(c, s, f, fi, in_array, len == 0, &skip);
    if (!v) {
        return skip ? SL_OK : sl__nomem(c->err);
    }
    sl__doc_build_scalar(v, SL_NODE_STRING, len ? t : "", (uint32_t)len);
    if (plain) {
        sl__doc_build_plain(v);
    }
    return SL_OK;
}

/* One scalar value of field f (index fi) at *pp, other than a string: a
 * new list element (in_array), or the field's member, made unless the
 * value is a proto3 default of a field without presence. Errors name
 * fstart, the field's tag (NULL: the value itself, an element of a packed
 * list). */
static sl_status dec_scalar(dctx *c, mstate *s, const sl__pfield *f, size_t fi,
                            const uint8_t **pp, const uint8_t *end,
                            bool in_array, const uint8_t *fstart) {
    const uint8_t *p = *pp;
    const uint8_t *at = fstart ? fstart : p; /* errors: the field's tag */
    uint64_t u = 0;
    const uint8_t *data = NULL;
    switch (f->wt) {
    case WT_VARINT:
        if (!sl__proto_varint(&p, end, &u)) {
            return fail(c, SL_EPARSE, at, "truncated varint");
        }
        break;
    case WT_I64:
        if (end - p < 8) {
            return fail(c, SL_EPARSE, at, "truncated 64-bit value");
        }
        u = le64(p);
        p += 8;
        break;
    case WT_I32:
        if (end - p < 4) {
            return fail(c, SL_EPARSE, at, "truncated 32-bit value");
        }
        u = le32(p);
        p += 4;
        break;
    default: { /* WT_LEN: string, bytes, id; u is the length */
        sl_status lrc = read_len(c, &p, end, at, &u);
        if (lrc != SL_OK) {
            return lrc;
        }
        data = p;
        p += u;
        break;
    }
    }
    *pp = p;
    size_t dlen = (size_t)u;
    if (f->type == PT_ID && dlen != 0 && dlen != f->aux) {
        return fail(c, SL_ESCHEMA, at, "expected %u bytes, got %zu",
                    (unsigned)f->aux, dlen);
    }
    bool is_default = ((NARROW_TYPES >> f->type) & 1 ? (uint32_t)u : u) == 0;
    bool skip = false;
    sl_node *v = value_node(c, s, f, fi, in_array, is_default, &skip);
    if (!v) {
        return skip ? SL_OK : sl__nomem(c->err);
    }
    switch ((sl__ptype)f->type) {
    case PT_BYTES:
        return set_base64(c, v, data, dlen);
    case PT_ID: {
        char *h = text_room(c, dlen * 2 + 1);
        if (!h) {
            return sl__nomem(c->err);
        }
        sl__hex(data, dlen, h);
        sl__doc_build_scalar(v, SL_NODE_STRING, h, (uint32_t)(dlen * 2));
        sl__doc_build_plain(v); /* hex */
        return SL_OK;
    }
    case PT_FIXED64:
    case PT_UINT64:
        return set_u64(c, v, u);
    case PT_SFIXED64:
    case PT_INT64:
        return set_i64(c, v, (int64_t)u);
    case PT_UINT32:
    case PT_FIXED32:
        return set_int(c, v, (uint32_t)u);
    case PT_INT32:
    case PT_ENUM:
        return set_int(c, v, (int32_t)(uint32_t)u);
    case PT_SINT32: {
        uint32_t z = (uint32_t)u;
        return set_int(c, v, (int32_t)((z >> 1) ^ (0u - (z & 1))));
    }
    case PT_FLOAT:
        return set_float(c, v, (uint32_t)u);
    case PT_DOUBLE: {
        double d;
        memcpy(&d, &u, sizeof(d));
        return set_double(c, v, d);
    }
    case PT_BOOL:
        sl__doc_build_scalar(v, SL_NODE_BOOL, u ? "true" : "false", u ? 4 : 5);
        return SL_OK;
    default:
        return SL_OK;
    }
}

/* A packed list of field f's scalars (its length prefix at *pp), or a
 * value of the wrong wire type wt. */
static __attribute__((noinline)) sl_status
dec_packed(dctx *c, mstate *s, const sl__pfield *f, size_t fi, int wt,
           const uint8_t **pp, const uint8_t *end, const uint8_t *fstart) {
    if (!(f->flags & PF_REPEATED) || f->wt == WT_LEN || wt != WT_LEN) {
        return fail(c, SL_ESCHEMA, fstart, "expected wire type %d, got %d",
                    f->wt, wt);
    }
    if (!array_of(c, s, f, fi)) {
        return sl__nomem(c->err);
    }
    const uint8_t *p = *pp;
    uint64_t n;
    sl_status lrc = read_len(c, &p, end, fstart, &n);
    if (lrc != SL_OK) {
        return lrc;
    }
    const uint8_t *pend = p + n;
    while (p < pend) {
        sl_status rc = dec_scalar(c, s, f, fi, &p, pend, true, NULL);
        if (rc != SL_OK) {
            return rc;
        }
    }
    *pp = pend;
    return SL_OK;
}

/* A KeyValue of the record's attributes just decoded (its key and value
 * in c->kv_key, c->kv_val): its entry of the record's attribute index,
 * what load.c's known_kvlist would make of it. No key (proto3 leaves an
 * empty one out): no entry, no lookup can find it. */
static void index_kv(dctx *c, const sl_node *kv) {
    if (!c->kv_key) {
        return;
    }
    sl_otlp *o = c->o;
    if (!sl__otlp_kvx_reserve(o, 1)) {
        c->kvx_bad = true;
        return;
    }
    const sl_node *val = c->kv_val; /* an object the decoder made */
    sl_str ks = sl__doc_str(c->kv_key);
    sl__otlp_kvx *x = &o->kvx[o->nkvx++];
    x->key = ks.ptr;
    x->klen = (uint32_t)ks.len;
    x->kv = kv;
    x->any = val;
    x->str = NULL;
    size_t n = 0;
    sl__member *mem = val ? sl__doc_members(val, &n) : NULL;
    if (n == 1 && sl__member_key(mem).ptr == sl__proto_any_msg.f[0].camel) {
        x->str = sl__member_val(mem); /* stringValue, alone */
    }
}

/* A sub-message of field f (index fi) at *pp: a new element of its list
 * (*index: its list index), or its member, merged into the one given
 * before. */
static sl_status dec_sub(dctx *c, mstate *s, const sl__pfield *f, size_t fi,
                         const uint8_t **pp, const uint8_t *end,
                         const uint8_t *fstart, unsigned depth,
                         uint32_t *index) {
    const uint8_t *p = *pp;
    uint64_t n;
    sl_status lrc = read_len(c, &p, end, fstart, &n);
    if (lrc != SL_OK) {
        return lrc;
    }
    const uint8_t *mend = p + n;
    if (f->flags & PF_REPEATED) {
        sl_node *arr = array_of(c, s, f, fi);
        if (!arr) {
            return sl__nomem(c->err);
        }
        sl_node *v = sl__doc_build_push(c->doc, arr, NULL, 0);
        if (!v) {
            return sl__nomem(c->err);
        }
        sl__doc_build_container(v, SL_NODE_OBJECT, (uint32_t)(p - c->base),
                                (const char *)mend);
        *pp = mend;
        sl_status rc = dec_msg(c, f->sub, v, false, p, mend, depth + 1);
        if (rc != SL_OK) {
            *index = (uint32_t)sl_node_len(arr) - 1; /* v's, for the path */
        } else if (s->m == c->rec && f->sub == &sl__proto_kv_msg && c->kvx_on) {
            index_kv(c, v); /* an element of the record's attributes */
        }
        return rc;
    }
    bool merge = (s->present & (1u << fi)) != 0;
    sl_node *v = member(c, s, f, fi);
    if (!v) {
        return sl__nomem(c->err);
    }
    if (merge && sl_node_kind_of(v) == SL_NODE_OBJECT) {
        /* given twice: protobuf merges; no single span holds it */
        sl__doc_build_span(v, UINT32_MAX, NULL);
    } else {
        merge = false;
        sl__doc_build_container(v, SL_NODE_OBJECT, (uint32_t)(p - c->base),
                                (const char *)mend);
    }
    *pp = mend;
    return dec_msg(c, f->sub, v, merge, p, mend, depth + 1);
}

/* A record just decoded (its members final): its slots for the index, so
 * the index need not find its fields again (sl__otlp_prefill). */
static void prefill(dctx *c, const mstate *s) {
    sl__otlp_rec *r = sl__otlp_prefill(c->o);
    if (!r) {
        c->prefill = false; /* the index finds them itself */
        c->kvx_on = false;
        return;
    }
    memset(r->f, 0, sizeof(r->f));
    if (c->kvx_on) {
        r->kvx = c->kvx_first;
        r->nkvx =
            c->kvx_bad ? SL__KVX_NONE : (uint32_t)c->o->nkvx - c->kvx_first;
    }
    for (uint32_t b = s->present; b; b &= b - 1) { /* present fields */
        unsigned i = (unsigned)__builtin_ctz(b);
        const sl__pfield *f = &s->m->f[i];
        if (f->slot >= 0) {
            sl_node *v = (sl_node *)sl_node_at(s->obj, (size_t)s->idx[i]);
            r->f[f->slot] = sl_node_kind_of(v) == SL_NODE_NULL ? NULL : v;
        }
    }
    r->node = (sl_node *)sl_node_at(s->obj, 0);
}

/* An unknown field (tag read, number num, wire type wt): skipped (kept in
 * its message's bytes, never in the tree), or the error of an invalid
 * number or wire type. */
static __attribute__((noinline)) sl_status
skip_unknown(dctx *c, uint64_t num, int wt, const uint8_t **pp,
             const uint8_t *end, const uint8_t *fstart) {
    if (num == 0 || num > 536870911u) {
        return fail(c, SL_EPARSE, fstart, "invalid field number %llu",
                    (unsigned long long)num);
    }
    if (wt == WT_SGROUP || wt == WT_EGROUP || wt > WT_I32) {
        return fail(c, SL_EPARSE, fstart,
                    "field %llu: unsupported wire type %d",
                    (unsigned long long)num, wt);
    }
    if (!sl__proto_skip(pp, end, wt)) {
        return fail(c, SL_EPARSE, fstart, "field %llu: truncated value",
                    (unsigned long long)num);
    }
    return SL_OK;
}

/* Message m's fields [p, end) into obj: a new empty object, or with merge
 * one given before whose fields the new ones join. */
static sl_status dec_msg(dctx *c, const sl__pmsg *m, sl_node *obj, bool merge,
                         const uint8_t *p, const uint8_t *end, unsigned depth) {
    if (depth > PROTO_MAX_DEPTH) {
        return fail(c, SL_ELIMIT, p, "messages nested deeper than %d",
                    PROTO_MAX_DEPTH);
    }
    mstate s;
    s.m = m;
    s.obj = obj;
    s.present = 0;
    s.count = 0;
    if (merge) {
        reindex(&s); /* merging into an object given before */
    } else if (p < end &&
               sl__doc_build_reserve(c->doc, obj, m->slots) != SL_OK) {
        return sl__nomem(c->err);
    }
    if (m == c->rec && c->kvx_on) {
        c->kvx_first = (uint32_t)c->o->nkvx;
        c->kvx_bad = false;
    }
    const uint8_t *at = fields_of(c, m);
    while (p < end) {
        const uint8_t *fstart = p;
        uint64_t tag;
        if (*p < 0x80) { /* one byte: field numbers below 16 */
            tag = *p++;
        } else if (!sl__proto_varint(&p, end, &tag)) {
            return fail(c, SL_EPARSE, fstart, "truncated field tag");
        }
        uint64_t num = tag >> 3;
        int wt = (int)(tag & 7);
        size_t fi;
        if (at && num < DIRECT_NUMS) {
            fi = (size_t)at[num] - 1; /* SIZE_MAX: unknown */
        } else {
            const sl__pfield *g = num - 1 < 536870911u
                                      ? sl__proto_field_num(m, (uint32_t)num)
                                      : NULL;
            fi = g ? (size_t)(g - m->f) : SIZE_MAX;
        }
        if (fi == SIZE_MAX) {
            sl_status rc = skip_unknown(c, num, wt, &p, end, fstart);
            if (rc != SL_OK) {
                return rc;
            }
            continue;
        }
        const sl__pfield *f = &m->f[fi];
        uint32_t index = UINT32_MAX;
        sl_status rc;
        bool repeated = (f->flags & PF_REPEATED) != 0;
        if (wt != f->wt) {
            rc = dec_packed(c, &s, f, fi, wt, &p, end, fstart);
        } else if (f->type == PT_MSG) {
            rc = dec_sub(c, &s, f, fi, &p, end, fstart, depth, &index);
        } else if (repeated && !array_of(c, &s, f, fi)) {
            rc = sl__nomem(c->err);
        } else if (f->type == PT_STRING) {
            rc = dec_string(c, &s, f, fi, &p, end, repeated, fstart);
        } else {
            rc = dec_scalar(c, &s, f, fi, &p, end, repeated, fstart);
        }
        if (rc != SL_OK) {
            step_out(c, f->camel, index);
            return rc;
        }
    }
    if (m == &sl__proto_kv_msg) { /* key is field 0, value field 1 */
        size_t n;
        sl__member *mem = sl__doc_members(obj, &n);
        c->kv_key = (s.present & 1u) ? sl__member_val(mem + s.idx[0]) : NULL;
        c->kv_val = (s.present & 2u) ? sl__member_val(mem + s.idx[1]) : NULL;
    } else if (m == c->rec && c->prefill) {
        prefill(c, &s);
    }
    return SL_OK;
}

/* Decode message m (len bytes at p) into root, the new tree of doc. With
 * o, the records (message rec) hand their slots to o's index as they are
 * decoded (sl__otlp_prefill). */
static sl_status decode_root(sl_doc *doc, sl_node *root, const sl__pmsg *m,
                             sl_otlp *o, const sl__pmsg *rec, const uint8_t *p,
                             size_t len, sl_error *err) {
    sl__doc_build_span(root, 0, (const char *)p + len);
    dctx *c = sl__alloc(sizeof(*c));
    if (!c) {
        return sl__nomem(err);
    }
    c->o = o;
    c->rec = rec;
    c->prefill = o != NULL;
    /* a metric's attributes are its first data point's: load.c indexes
     * them once it has found that point */
    c->kvx_on = o != NULL && rec != sl__proto_record(SL_SIGNAL_METRIC);
    c->kvx_bad = false;
    c->kvx_first = 0;
    c->kv_key = c->kv_val = NULL;
    c->doc = doc;
    c->base = p;
    c->err = err;
    c->file = sl_doc_file(doc);
    c->npath = 0;
    c->failed = false;
    for (size_t i = 0; i < SL_ARRAY_LEN(c->tabs); i++) {
        c->tabs[i].m = NULL;
    }
    c->tcur = c->tend = NULL;
    sl_status rc = dec_msg(c, m, root, false, p, p + len, 0);
    if (rc != SL_OK && c->failed) {
        rc = report(c);
    }
    sl__free(c, sizeof(*c));
    return rc;
}

sl_status sl__proto_decode(sl_doc *doc, const sl__pmsg *m, const char *buf,
                           size_t len, const char *file, sl_error *err) {
    if (!doc || (!buf && len > 0)) {
        return sl__error(err, SL_EINVAL, NULL, "no document or no bytes");
    }
    if (len >= UINT32_MAX || len > SL_MAX_INPUT) {
        sl_pos pos = {file, 0, 0};
        return sl__error(err, SL_ELIMIT, &pos, "input larger than 1 GiB");
    }
    sl_node *root;
    sl_status rc = sl__doc_build_begin(doc, file, &root, err);
    if (rc != SL_OK) {
        return rc;
    }
    static const uint8_t none[1] = {0};
    return decode_root(doc, root, m, NULL, NULL,
                       buf ? (const uint8_t *)buf : none, len, err);
}

sl_status sl_otlp_load_proto(sl_otlp *o, sl_signal sig, const char *buf,
                             size_t len, const char *file, sl_error *err) {
    if (!o || (!buf && len > 0) || (unsigned)sig > SL_SIGNAL_TRACE) {
        return sl__error(err, SL_EINVAL, NULL,
                         "no batch, no bytes or no signal");
    }
    sl__otlp_reset(o);
    if (len >= UINT32_MAX || len > SL_MAX_INPUT) {
        sl_pos pos = {file, 0, 0};
        return sl__error(err, SL_ELIMIT, &pos, "input larger than 1 GiB");
    }
    o->text = buf;
    o->text_len = len;
    o->proto = true;
    sl_node *root;
    sl_status rc = sl__doc_build_begin(o->doc, file, &root, err);
    if (rc != SL_OK) {
        o->proto = false;
        return rc;
    }
    static const uint8_t none[1] = {0};
    const uint8_t *p = buf ? (const uint8_t *)buf : none;
    rc = decode_root(o->doc, root, sl__proto_request(sig), o,
                     sl__proto_record(sig), p, len, err);
    if (rc == SL_OK) {
        rc = sl__otlp_index(o, false, err); /* checked as it was decoded */
    }
    if (rc != SL_OK) {
        sl__otlp_reset(o);
        return rc;
    }
    o->proto = true;
    o->text = (const char *)p;
    o->text_len = len;
    if (o->sig == SL_SIGNAL_NONE) {
        o->sig = sig; /* no resource list: the caller's signal, empty */
    }
    o->loaded = true;
    return SL_OK;
}

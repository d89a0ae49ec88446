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
#include "otlp/proto.h"

enum {
    PROTO_MAX_DEPTH = 100, /* nested messages (AnyValue inside AnyValue..) */
    MAX_FIELDS = 32        /* fields of the largest message */
};

typedef struct pstep {
    const char *name;
    uint32_t index; /* UINT32_MAX: not a list element */
} pstep;

typedef struct dctx {
    sl_otlp *o;
    const sl__pmsg *rec; /* the signal's record message */
    bool prefill;        /* records' slots still go to o (no failure) */
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

static const char *copy_text(dctx *c, const char *s, size_t n) {
    char *p = sl__doc_build_alloc(c->doc, n + 1);
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
 * returns the start. */
static char *digits(uint64_t u, char *end) {
    static const char pairs[201] =
        "000102030405060708091011121314151617181920212223242526272829"
        "303132333435363738394041424344454647484950515253545556575859"
        "606162636465666768697071727374757677787980818283848586878889"
        "90919293949596979899";
    while (u >= 100) {
        unsigned r = (unsigned)(u % 100);
        u /= 100;
        end -= 2;
        memcpy(end, pairs + 2 * r, 2);
    }
    if (u >= 10) {
        end -= 2;
        memcpy(end, pairs + 2 * u, 2);
    } else {
        *--end = (char)('0' + u);
    }
    return end;
}

/* The text is written in place, at the end of room for the longest (a
 * sign, 20 digits, the NUL): no copy. */
static sl_status set_dec(dctx *c, sl_node *v, sl_node_kind kind, uint64_t u,
                         bool neg) {
    char *b = sl__doc_build_alloc(c->doc, 22);
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
    char *o = sl__doc_build_alloc(c->doc, olen + 1);
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
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* ---- messages ---- */

typedef struct mstate {
    const sl__pmsg *m;
    sl_node *obj;
    uint32_t count;         /* members of obj */
    uint32_t present;       /* bit i: field i has a member */
    int8_t idx[MAX_FIELDS]; /* member index of each present field */
} mstate;

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

/* The member node of field f (index fi), made (null) when absent; for a
 * member of a oneof, other members of the same oneof go (the last one set
 * wins). */
static sl_node *member(dctx *c, mstate *s, const sl__pfield *f, size_t fi) {
    if (s->present & (1u << fi)) {
        return (sl_node *)sl_node_at(s->obj, (size_t)s->idx[fi]);
    }
    if ((f->flags & PF_PRESENCE) && f->aux && s->present) {
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
    sl_node *v = sl__doc_build_push(c->doc, s->obj, f->camel, f->clen);
    if (v) {
        s->present |= 1u << fi;
        s->idx[fi] = (int8_t)s->count++;
    }
    return v;
}

static sl_status dec_msg(dctx *c, const sl__pmsg *m, sl_node *obj,
                         const uint8_t *p, const uint8_t *end, unsigned depth);

/* One scalar value of field f at *pp: a new list element (in_array), or
 * the field's member, made unless the value is a proto3 default of a
 * field without presence. Errors name fstart, the field's tag (NULL: the
 * value itself, an element of a packed list). */
static sl_status dec_scalar(dctx *c, mstate *s, const sl__pfield *f,
                            const uint8_t **pp, const uint8_t *end,
                            bool in_array, const uint8_t *fstart) {
    const uint8_t *p = *pp;
    const uint8_t *at = fstart ? fstart : p; /* errors: the field's tag */
    uint64_t u = 0;
    const uint8_t *data = NULL;
    size_t dlen = 0;
    switch (sl__proto_wire_type(f)) {
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
    default: { /* WT_LEN: string, bytes, id */
        sl_status lrc = read_len(c, &p, end, at, &u);
        if (lrc != SL_OK) {
            return lrc;
        }
        data = p;
        dlen = (size_t)u;
        p += dlen;
        break;
    }
    }
    *pp = p;
    bool is_default;
    switch ((sl__ptype)f->type) {
    case PT_STRING:
    case PT_BYTES:
    case PT_ID:
        is_default = dlen == 0;
        break;
    case PT_DOUBLE: {
        double d;
        memcpy(&d, &u, sizeof(d));
        is_default = d == 0 && !signbit(d);
        break;
    }
    case PT_INT32:
    case PT_ENUM:
    case PT_UINT32:
    case PT_SINT32:
    case PT_FIXED32:
    case PT_FLOAT:
        is_default = (uint32_t)u == 0;
        break;
    default:
        is_default = u == 0;
        break;
    }
    if (f->type == PT_ID && dlen != 0 && dlen != f->aux) {
        return fail(c, SL_ESCHEMA, at, "expected %u bytes, got %zu",
                    (unsigned)f->aux, dlen);
    }
    /* most strings are plain (ASCII, nothing to escape): then valid UTF-8
     * and written to JSON as they are */
    bool plain =
        f->type == PT_STRING && sl__doc_text_plain((const char *)data, dlen);
    if (f->type == PT_STRING && !plain &&
        sl__utf8_valid_prefix((const char *)data, dlen) != dlen) {
        return fail(c, SL_ESCHEMA, at, "a string that is not valid utf-8");
    }
    sl_node *v;
    size_t fi = (size_t)(f - s->m->f);
    if (in_array) {
        sl_node *arr = (sl_node *)sl_node_at(s->obj, (size_t)s->idx[fi]);
        v = sl__doc_build_push(c->doc, arr, NULL, 0);
    } else {
        if (is_default && !(f->flags & PF_PRESENCE) &&
            !(s->present & (1u << fi))) {
            return SL_OK; /* proto3: a default scalar is no value */
        }
        v = member(c, s, f, fi);
    }
    if (!v) {
        return sl__nomem(c->err);
    }
    switch ((sl__ptype)f->type) {
    case PT_STRING:
        sl__doc_build_scalar(v, SL_NODE_STRING, dlen ? (const char *)data : "",
                             (uint32_t)dlen);
        if (plain) {
            sl__doc_build_plain(v);
        }
        return SL_OK;
    case PT_BYTES:
        return set_base64(c, v, data, dlen);
    case PT_ID: {
        char *h = sl__doc_build_alloc(c->doc, dlen * 2 + 1);
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

/* The array member of repeated field f, made when absent. */
static sl_node *array_of(dctx *c, mstate *s, const sl__pfield *f) {
    size_t fi = (size_t)(f - s->m->f);
    if (!(s->present & (1u << fi))) {
        sl_node *v = member(c, s, f, fi);
        if (!v) {
            return NULL;
        }
        sl__doc_build_container(v, SL_NODE_ARRAY, UINT32_MAX, NULL);
    }
    return (sl_node *)sl_node_at(s->obj, (size_t)s->idx[fi]);
}

/* ---- short paths for the commonest shapes ----
 * An AnyValue that is one plain string (bodies, most attribute values) and
 * a KeyValue of a plain key and such a value (most attributes) are made as
 * dec_msg would make them, without its field loop. Their shape is checked
 * before anything is made; any other shape (another field, an unknown
 * one, a length of two bytes, text needing escapes, an empty key) goes to
 * dec_msg, which also reports every error. */

/* Bytes [p, end) are field `num` (length-delimited) and nothing else, its
 * one-byte length counted: its value in [*v, *vend). */
static bool only_field(const uint8_t *p, const uint8_t *end, unsigned num,
                       const uint8_t **v) {
    if (end - p < 2 || p[0] != (num << 3 | WT_LEN) || p[1] >= 0x80 ||
        p[1] != (size_t)(end - p - 2)) {
        return false;
    }
    *v = p + 2;
    return true;
}

/* The one plain string of an AnyValue of bytes [p, end), in [*t, end). */
static bool any_plain_shape(const uint8_t *p, const uint8_t *end,
                            const uint8_t **t) {
    return only_field(p, end, sl__proto_any_msg.f[0].num, t) &&
           sl__doc_text_plain((const char *)*t, (size_t)(end - *t));
}

/* Field f's member of object v, a plain string of the input. */
static sl_status push_plain(dctx *c, sl_node *v, const sl__pfield *f,
                            const uint8_t *t, const uint8_t *end) {
    sl_node *sv = sl__doc_build_push(c->doc, v, f->camel, f->clen);
    if (!sv) {
        return sl__nomem(c->err);
    }
    size_t n = (size_t)(end - t);
    sl__doc_build_scalar(sv, SL_NODE_STRING, n ? (const char *)t : "",
                         (uint32_t)n);
    sl__doc_build_plain(sv);
    return SL_OK;
}

/* Make the AnyValue of plain string [t, end) into the empty object v. */
static sl_status make_any(dctx *c, sl_node *v, const uint8_t *t,
                          const uint8_t *end) {
    if (sl__doc_build_reserve(c->doc, v, sl__proto_any_msg.slots) != SL_OK) {
        return sl__nomem(c->err);
    }
    return push_plain(c, v, &sl__proto_any_msg.f[0], t, end); /* stringValue */
}

/* A KeyValue of bytes [p, end) into the empty object v when it has the
 * short shape; *done says whether it had. */
static sl_status kv_plain(dctx *c, sl_node *v, const uint8_t *p,
                          const uint8_t *end, bool *done) {
    const sl__pfield *kf = &sl__proto_kv_msg.f[0], *vf = &sl__proto_kv_msg.f[1];
    *done = false;
    if (end - p < 2 || p[0] != (kf->num << 3 | WT_LEN) || p[1] == 0 ||
        p[1] >= 0x80 || p[1] > (size_t)(end - p - 2)) {
        return SL_OK; /* an empty key is a proto3 default: not a member */
    }
    const uint8_t *key = p + 2, *kend = key + p[1], *val, *t;
    if (!sl__doc_text_plain((const char *)key, p[1]) ||
        !only_field(kend, end, vf->num, &val) ||
        !any_plain_shape(val, end, &t)) {
        return SL_OK;
    }
    if (sl__doc_build_reserve(c->doc, v, sl__proto_kv_msg.slots) != SL_OK) {
        return sl__nomem(c->err);
    }
    *done = true;
    if (push_plain(c, v, kf, key, kend) != SL_OK) {
        return SL_ENOMEM;
    }
    sl_node *any = sl__doc_build_push(c->doc, v, vf->camel, vf->clen);
    if (!any) {
        return sl__nomem(c->err);
    }
    sl__doc_build_container(any, SL_NODE_OBJECT, (uint32_t)(val - c->base),
                            (const char *)end);
    return make_any(c, any, t, end);
}

static sl_status dec_field(dctx *c, mstate *s, const sl__pfield *f, int wt,
                           const uint8_t **pp, const uint8_t *end,
                           const uint8_t *fstart, unsigned depth,
                           uint32_t *index) {
    int want = sl__proto_wire_type(f);
    bool repeated = (f->flags & PF_REPEATED) != 0;
    if (repeated && f->type != PT_MSG && !array_of(c, s, f)) {
        return sl__nomem(c->err);
    }
    if (repeated && want != WT_LEN && wt == WT_LEN) {
        /* packed repeated scalars */
        const uint8_t *p = *pp;
        uint64_t n;
        sl_status lrc = read_len(c, &p, end, fstart, &n);
        if (lrc != SL_OK) {
            return lrc;
        }
        const uint8_t *pend = p + n;
        while (p < pend) {
            sl_status rc = dec_scalar(c, s, f, &p, pend, true, NULL);
            if (rc != SL_OK) {
                return rc;
            }
        }
        *pp = pend;
        return SL_OK;
    }
    if (wt != want) {
        return fail(c, SL_ESCHEMA, fstart, "expected wire type %d, got %d",
                    want, wt);
    }
    if (f->type != PT_MSG) {
        return dec_scalar(c, s, f, pp, end, repeated, fstart);
    }
    const uint8_t *p = *pp;
    uint64_t n;
    sl_status lrc = read_len(c, &p, end, fstart, &n);
    if (lrc != SL_OK) {
        return lrc;
    }
    const uint8_t *mend = p + n;
    sl_node *v;
    if (repeated) {
        sl_node *arr = array_of(c, s, f);
        if (!arr) {
            return sl__nomem(c->err);
        }
        *index = (uint32_t)sl_node_len(arr);
        v = sl__doc_build_push(c->doc, arr, NULL, 0);
        if (!v) {
            return sl__nomem(c->err);
        }
        sl__doc_build_container(v, SL_NODE_OBJECT, (uint32_t)(p - c->base),
                                (const char *)mend);
    } else {
        size_t fi = (size_t)(f - s->m->f);
        bool merge = (s->present & (1u << fi)) != 0;
        v = member(c, s, f, fi);
        if (!v) {
            return sl__nomem(c->err);
        }
        if (merge && sl_node_kind_of(v) == SL_NODE_OBJECT) {
            /* given twice: protobuf merges; no single span holds it */
            sl__doc_build_span(v, UINT32_MAX, NULL);
        } else {
            sl__doc_build_container(v, SL_NODE_OBJECT, (uint32_t)(p - c->base),
                                    (const char *)mend);
        }
    }
    *pp = mend;
    if (sl_node_len(v) == 0 && depth + 2 <= PROTO_MAX_DEPTH) {
        const uint8_t *t;
        if (f->sub == &sl__proto_any_msg && any_plain_shape(p, mend, &t)) {
            return make_any(c, v, t, mend);
        }
        if (f->sub == &sl__proto_kv_msg) {
            bool done;
            sl_status rc = kv_plain(c, v, p, mend, &done);
            if (rc != SL_OK || done) {
                return rc;
            }
        }
    }
    return dec_msg(c, f->sub, v, p, mend, depth + 1);
}

/* A record just decoded (its members final): its slots for the index, so
 * the index need not find its fields again (sl__otlp_prefill). */
static void prefill(dctx *c, const mstate *s) {
    sl__otlp_rec *r = sl__otlp_prefill(c->o);
    if (!r) {
        c->prefill = false; /* the index finds them itself */
        return;
    }
    memset(r->f, 0, sizeof(r->f));
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

static sl_status dec_msg(dctx *c, const sl__pmsg *m, sl_node *obj,
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
    if (sl_node_len(obj) > 0) {
        reindex(&s); /* merging into an object given before */
    } else if (p < end &&
               sl__doc_build_reserve(c->doc, obj, m->slots) != SL_OK) {
        return sl__nomem(c->err);
    }
    while (p < end) {
        const uint8_t *fstart = p;
        uint64_t tag;
        if (!sl__proto_varint(&p, end, &tag)) {
            return fail(c, SL_EPARSE, fstart, "truncated field tag");
        }
        int wt = (int)(tag & 7);
        uint64_t num = tag >> 3;
        if (num == 0 || num > 536870911u) {
            return fail(c, SL_EPARSE, fstart, "invalid field number %llu",
                        (unsigned long long)num);
        }
        const sl__pfield *f = sl__proto_field_num(m, (uint32_t)num);
        if (!f) {
            /* unknown: kept in the message's bytes, not in the tree */
            if (wt == WT_SGROUP || wt == WT_EGROUP || wt > WT_I32) {
                return fail(c, SL_EPARSE, fstart,
                            "field %llu: unsupported wire type %d",
                            (unsigned long long)num, wt);
            }
            if (!sl__proto_skip(&p, end, wt)) {
                return fail(c, SL_EPARSE, fstart, "field %llu: truncated value",
                            (unsigned long long)num);
            }
            continue;
        }
        uint32_t index = UINT32_MAX;
        sl_status rc = dec_field(c, &s, f, wt, &p, end, fstart, depth, &index);
        if (rc != SL_OK) {
            step_out(c, f->camel, index);
            return rc;
        }
    }
    if (m == c->rec && c->prefill) {
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
    c->doc = doc;
    c->base = p;
    c->err = err;
    c->file = sl_doc_file(doc);
    c->npath = 0;
    c->failed = false;
    sl_status rc = dec_msg(c, m, root, p, p + len, 0);
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

/* src/otlp/proto_write.c: sl_otlp_write_proto, the kept records of a
 * batch (changes applied; scopes and resources without records left out,
 * as sl_otlp_write does) as one OTLP/protobuf export request.
 *
 * The one idea: copy, don't encode. For a batch loaded from protobuf,
 * every message that did not change since loading is its source bytes,
 * copied in one piece (an untouched request is the input itself); a
 * changed message is encoded from the tree, copying its unchanged
 * sub-messages, plus the unknown fields its source bytes held. A batch
 * loaded from JSON is encoded from the tree (members the schema does not
 * know have no protobuf form and are left out). */
#include <sluice/otlp.h>

#include <math.h>
#include <stdio.h>

#include "base/base.h"
#include "base/codec.h"
#include "doc/build.h"
#include "otlp/proto.h"

typedef struct ectx {
    const sl_otlp *o;
    sl_buf *out;
    sl_error *err;
    bool proto;          /* copy unchanged messages from base */
    const uint8_t *base; /* the loaded protobuf bytes */
    unsigned depth;
} ectx;

enum {
    LEN_SLOT = 5 /* bytes reserved for a length before its content */
};

/* Append n bytes; the common case (room in the buffer) without a call. */
static inline sl_status put(ectx *e, const void *p, size_t n) {
    sl_buf *b = e->out;
    if (b->ptr && n < b->cap - b->len) {
        memcpy(b->ptr + b->len, p, n);
        b->len += n;
        b->ptr[b->len] = '\0';
        return SL_OK;
    }
    return n ? sl__buf_append(b, p, n) : SL_OK;
}

static sl_status put_varint(ectx *e, uint64_t v) {
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) {
            b[n] |= 0x80;
        }
        n++;
    } while (v);
    return put(e, b, n);
}

static sl_status put_tag(ectx *e, unsigned num, int wt) {
    if (num < 16) { /* every OTLP field number below 16: one byte */
        uint8_t t = (uint8_t)(num << 3 | (unsigned)wt);
        return put(e, &t, 1);
    }
    return put_varint(e, (uint64_t)num << 3 | (unsigned)wt);
}

static sl_status put_le(ectx *e, uint64_t v, size_t n) {
    uint8_t b[8];
    for (size_t i = 0; i < n; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
    return put(e, b, n);
}

/* A length-delimited field: tag, a reserved length slot, the content,
 * then close_len writes the real length and slides the content down. */
static sl_status open_len(ectx *e, unsigned num, size_t *mark) {
    static const uint8_t zero[LEN_SLOT] = {0};
    sl_status rc = put_tag(e, num, WT_LEN);
    *mark = e->out->len;
    return rc == SL_OK ? put(e, zero, LEN_SLOT) : rc;
}

static void close_len(ectx *e, size_t mark) {
    char *p = e->out->ptr;
    size_t n = e->out->len - mark - LEN_SLOT;
    uint8_t b[10];
    size_t k = 0;
    uint64_t v = n;
    do {
        b[k] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) {
            b[k] |= 0x80;
        }
        k++;
    } while (v);
    memmove(p + mark + k, p + mark + LEN_SLOT, n);
    memcpy(p + mark, b, k);
    e->out->len -= LEN_SLOT - k;
    p[e->out->len] = '\0';
}

static sl_status bad(ectx *e, const sl__pfield *f, const char *what) {
    return sl__error(e->err, SL_ESCHEMA, NULL,
                     "%s: %s cannot be encoded as protobuf", f->camel, what);
}

/* ---- scalars ---- */

static bool node_i64(const sl_node *n, bool is_unsigned, int64_t *out) {
    sl_node_kind k = sl_node_kind_of(n);
    if (k != SL_NODE_INT && k != SL_NODE_STRING && k != SL_NODE_FLOAT) {
        return false;
    }
    sl_str s = sl_node_str(n);
    if (sl__otlp_parse_i64(s.ptr, s.len, is_unsigned, out)) {
        return true;
    }
    double d;
    if (!sl__otlp_parse_double(s.ptr, s.len, &d) || d != floor(d) ||
        !(fabs(d) < 9.2e18) || (is_unsigned && d < 0)) {
        return false;
    }
    *out = (int64_t)d;
    return true;
}

/* The value of scalar field f in node n as wire bits (varint, fixed32 or
 * fixed64); false when n does not hold one. */
static bool scalar_bits(const sl__pfield *f, const sl_node *n, uint64_t *out) {
    int64_t i;
    switch ((sl__ptype)f->type) {
    case PT_BOOL:
        if (sl_node_kind_of(n) != SL_NODE_BOOL) {
            return false;
        }
        *out = sl_node_bool(n);
        return true;
    case PT_DOUBLE:
    case PT_FLOAT: {
        sl_node_kind k = sl_node_kind_of(n);
        double d;
        sl_str s = sl_node_str(n);
        if ((k != SL_NODE_INT && k != SL_NODE_FLOAT && k != SL_NODE_STRING) ||
            !sl__otlp_parse_double(s.ptr, s.len, &d)) {
            return false;
        }
        if (f->type == PT_FLOAT) {
            float fl = (float)d;
            uint32_t bits;
            memcpy(&bits, &fl, sizeof(bits));
            *out = bits;
            return true;
        }
        memcpy(out, &d, sizeof(d));
        return true;
    }
    case PT_ENUM:
        if (sl_node_kind_of(n) == SL_NODE_STRING) {
            int32_t v;
            if (!sl__otlp_enum_value(f->aux, sl_node_str(n), &v)) {
                return false;
            }
            *out = (uint64_t)(int64_t)v;
            return true;
        }
        if (!node_i64(n, false, &i) || i < INT32_MIN || i > INT32_MAX) {
            return false;
        }
        *out = (uint64_t)i; /* negative enums: 10-byte varints */
        return true;
    case PT_INT32:
        if (!node_i64(n, false, &i) || i < INT32_MIN || i > INT32_MAX) {
            return false;
        }
        *out = (uint64_t)i;
        return true;
    case PT_SINT32: {
        if (!node_i64(n, false, &i) || i < INT32_MIN || i > INT32_MAX) {
            return false;
        }
        int32_t v = (int32_t)i;
        *out = (uint32_t)(((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
        return true;
    }
    case PT_UINT32:
    case PT_FIXED32:
        if (!node_i64(n, true, &i) || (uint64_t)i > UINT32_MAX) {
            return false;
        }
        *out = (uint64_t)i;
        return true;
    case PT_FIXED64:
    case PT_UINT64:
        if (!node_i64(n, true, &i)) {
            return false;
        }
        *out = (uint64_t)i;
        return true;
    case PT_SFIXED64:
    case PT_INT64:
        if (!node_i64(n, false, &i)) {
            return false;
        }
        *out = (uint64_t)i;
        return true;
    default:
        return false;
    }
}

static sl_status put_bits(ectx *e, int wt, uint64_t v) {
    if (wt == WT_VARINT) {
        return put_varint(e, v);
    }
    return put_le(e, v, wt == WT_I64 ? 8 : 4);
}

/* Decode hex (even length, validated at load) into out. */
static size_t unhex(sl_str s, uint8_t *out, size_t cap) {
    size_t n = s.len / 2;
    if (n > cap) {
        return SIZE_MAX;
    }
    for (size_t i = 0; i < n; i++) {
        int hi = sl__hexval((unsigned char)s.ptr[2 * i]);
        int lo = sl__hexval((unsigned char)s.ptr[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return SIZE_MAX;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return s.len % 2 ? SIZE_MAX : n;
}

static sl_status enc_msg(ectx *e, unsigned num, const sl__pmsg *m,
                         const sl_node *n, bool clean);

/* One value (not a list) of field f. */
static sl_status enc_one(ectx *e, const sl__pfield *f, const sl_node *n,
                         bool in_list) {
    bool keep_default = in_list || (f->flags & PF_PRESENCE);
    sl_node_kind k = sl_node_kind_of(n);
    if (k == SL_NODE_NULL && !in_list) {
        return SL_OK; /* JSON null: absent */
    }
    switch ((sl__ptype)f->type) {
    case PT_MSG:
        if (k != SL_NODE_OBJECT) {
            return bad(e, f, "a non-object");
        }
        return enc_msg(e, f->num, f->sub, n, false);
    case PT_STRING: {
        if (k != SL_NODE_STRING) {
            return bad(e, f, "a non-string");
        }
        sl_str s = sl_node_str(n);
        if (s.len == 0 && !keep_default) {
            return SL_OK;
        }
        sl_status rc = put_tag(e, f->num, WT_LEN);
        if (rc == SL_OK) {
            rc = put_varint(e, s.len);
        }
        return rc == SL_OK ? put(e, s.ptr, s.len) : rc;
    }
    case PT_BYTES: {
        sl_str s = sl_node_str(n);
        long len =
            k == SL_NODE_STRING ? sl__base64_decode(s.ptr, s.len, NULL) : -1;
        if (len < 0) {
            return bad(e, f, "a value that is not base64");
        }
        if (len == 0 && !keep_default) {
            return SL_OK;
        }
        sl_status rc = put_tag(e, f->num, WT_LEN);
        if (rc == SL_OK) {
            rc = put_varint(e, (uint64_t)len);
        }
        if (rc == SL_OK) {
            rc = sl__buf_reserve(e->out, (size_t)len + 1);
        }
        if (rc == SL_OK) {
            sl__base64_decode(s.ptr, s.len,
                              (uint8_t *)e->out->ptr + e->out->len);
            e->out->len += (size_t)len;
            e->out->ptr[e->out->len] = '\0';
        }
        return rc;
    }
    case PT_ID: {
        uint8_t id[16];
        size_t len =
            k == SL_NODE_STRING ? unhex(sl_node_str(n), id, f->aux) : SIZE_MAX;
        if (len == SIZE_MAX || (len != 0 && len != f->aux)) {
            return bad(e, f, "an id that is not hex of the right length");
        }
        if (len == 0 && !keep_default) {
            return SL_OK;
        }
        sl_status rc = put_tag(e, f->num, WT_LEN);
        if (rc == SL_OK) {
            rc = put_varint(e, len);
        }
        return rc == SL_OK ? put(e, id, len) : rc;
    }
    default: {
        uint64_t v;
        if (!scalar_bits(f, n, &v)) {
            return bad(e, f, "a value of the wrong type");
        }
        if (v == 0 && !keep_default) {
            return SL_OK;
        }
        int wt = sl__proto_wire_type(f);
        sl_status rc = put_tag(e, f->num, wt);
        return rc == SL_OK ? put_bits(e, wt, v) : rc;
    }
    }
}

static sl_status enc_field(ectx *e, const sl__pfield *f, const sl_node *n) {
    if (!(f->flags & PF_REPEATED)) {
        return enc_one(e, f, n, false);
    }
    sl_node_kind k = sl_node_kind_of(n);
    if (k == SL_NODE_NULL) {
        return SL_OK;
    }
    if (k != SL_NODE_ARRAY) {
        return bad(e, f, "a non-list");
    }
    size_t len = sl_node_len(n);
    int wt = sl__proto_wire_type(f);
    if (wt == WT_LEN) { /* messages, strings: one field per element */
        for (size_t i = 0; i < len; i++) {
            sl_status rc = enc_one(e, f, sl_node_at(n, i), true);
            if (rc != SL_OK) {
                return rc;
            }
        }
        return SL_OK;
    }
    if (len == 0) {
        return SL_OK;
    }
    size_t mark;
    sl_status rc = open_len(e, f->num, &mark); /* packed */
    for (size_t i = 0; i < len && rc == SL_OK; i++) {
        uint64_t v;
        if (!scalar_bits(f, sl_node_at(n, i), &v)) {
            return bad(e, f, "a list element of the wrong type");
        }
        rc = put_bits(e, wt, v);
    }
    if (rc == SL_OK) {
        close_len(e, mark);
    }
    return rc;
}

/* The source span of message node n, when the batch came from protobuf. */
static bool span(const ectx *e, const sl_node *n, const uint8_t **s,
                 const uint8_t **end) {
    uint32_t off;
    const char *en;
    if (!e->proto || !sl__doc_node_span(n, &off, &en)) {
        return false;
    }
    *s = e->base + off;
    *end = (const uint8_t *)en;
    return true;
}

/* Copy from n's source bytes every field that the tree does not hold
 * (unknown to m) or, with all_but, every field except number all_but. */
static sl_status copy_source_fields(ectx *e, const sl__pmsg *m,
                                    const sl_node *n, unsigned all_but) {
    const uint8_t *p, *end;
    if (!span(e, n, &p, &end)) {
        return SL_OK;
    }
    while (p < end) {
        const uint8_t *fs = p;
        uint64_t tag;
        if (!sl__proto_varint(&p, end, &tag) ||
            !sl__proto_skip(&p, end, (int)(tag & 7))) {
            return sl__error(e->err, SL_EINVAL, NULL,
                             "source bytes changed since loading");
        }
        uint64_t num = tag >> 3;
        bool copy = all_but ? num != all_but
                            : sl__proto_field_num(m, (uint32_t)num) == NULL;
        if (copy) {
            sl_status rc = put(e, fs, (size_t)(p - fs));
            if (rc != SL_OK) {
                return rc;
            }
        }
    }
    return SL_OK;
}

/* The members of object n that m knows, except field number skip, in
 * field number order (as protobuf serialisers write them, so the bytes
 * do not depend on the JSON's member order). */
static sl_status enc_members(ectx *e, const sl__pmsg *m, const sl_node *n,
                             unsigned skip) {
    enum {
        MAX_KNOWN = 32
    };
    struct {
        const sl__pfield *f;
        const sl_node *v;
    } known[MAX_KNOWN];
    size_t nk = 0;
    size_t len = sl_node_len(n);
    for (size_t i = 0; i < len; i++) {
        const sl__pfield *f = sl__proto_field_key(m, sl_node_key(n, i));
        if (!f || f->num == skip) {
            continue; /* JSON-only members have no protobuf form */
        }
        if (nk == MAX_KNOWN) {
            return sl__error(e->err, SL_ESCHEMA, NULL,
                             "%s: a field given more than once", m->name);
        }
        size_t k = nk++;
        for (; k > 0 && known[k - 1].f->num > f->num; k--) {
            known[k] = known[k - 1]; /* insertion sort: a few fields */
        }
        known[k].f = f;
        known[k].v = sl_node_at(n, i);
    }
    for (size_t k = 0; k < nk; k++) {
        sl_status rc = enc_field(e, known[k].f, known[k].v);
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

/* Message n as field num: its source bytes when it has not changed
 * (clean: the caller knows it has not, so no walk checks), else encoded. */
static sl_status enc_msg(ectx *e, unsigned num, const sl__pmsg *m,
                         const sl_node *n, bool clean) {
    const uint8_t *s, *end;
    if (span(e, n, &s, &end) && (clean || sl__doc_node_unchanged(n))) {
        sl_status rc = put_tag(e, num, WT_LEN);
        if (rc == SL_OK) {
            rc = put_varint(e, (uint64_t)(end - s));
        }
        return rc == SL_OK ? put(e, s, (size_t)(end - s)) : rc;
    }
    if (++e->depth > SL_MAX_DEPTH) {
        return sl__error(e->err, SL_ELIMIT, NULL, "nested too deeply");
    }
    size_t mark;
    sl_status rc = open_len(e, num, &mark);
    if (rc == SL_OK) {
        rc = enc_members(e, m, n, 0);
    }
    if (rc == SL_OK) {
        rc = copy_source_fields(e, m, n, 0);
    }
    if (rc == SL_OK) {
        close_len(e, mark);
    }
    e->depth--;
    return rc;
}

/* ---- the three levels above the records ---- */

enum {
    LIST_FIELD = 2,    /* scopeLogs / logRecords / ... in their entries */
    REQ_LIST_FIELD = 1 /* resourceLogs / ... in the request */
};

/* An entry (resource or scope) whose list is written by the caller: its
 * other fields, as source bytes when it is clean. */
static sl_status enc_entry_head(ectx *e, const sl__pmsg *m, const sl_node *n,
                                bool dirty) {
    const uint8_t *s, *end;
    if (!dirty && span(e, n, &s, &end)) {
        return copy_source_fields(e, m, n, LIST_FIELD);
    }
    sl_status rc = enc_members(e, m, n, LIST_FIELD);
    return rc == SL_OK ? copy_source_fields(e, m, n, 0) : rc;
}

static bool scope_clean(const sl_otlp *o, const sl__otlp_scope *s) {
    if (s->dirty || s->kept != s->count || s->count == 0) {
        return false;
    }
    for (uint32_t k = 0; k < s->count; k++) {
        if (o->recs[s->first + k].dirty) {
            return false;
        }
    }
    return true;
}

static sl_status enc_scope(ectx *e, size_t g) {
    const sl_otlp *o = e->o;
    const sl__otlp_scope *s = &o->scopes[g];
    const sl__pmsg *sm = sl__proto_scope_entry(o->sig);
    if (e->proto && scope_clean(o, s)) {
        return enc_msg(e, LIST_FIELD, sm, s->entry, true);
    }
    size_t mark;
    sl_status rc = open_len(e, LIST_FIELD, &mark);
    if (rc == SL_OK) {
        rc = enc_entry_head(e, sm, s->entry, s->dirty);
    }
    const sl__pmsg *rm = sl__proto_record(o->sig);
    for (uint32_t k = 0; k < s->count && rc == SL_OK; k++) {
        const sl__otlp_rec *r = &o->recs[s->first + k];
        if (!r->dropped) {
            rc = enc_msg(e, LIST_FIELD, rm, r->node, !r->dirty);
        }
    }
    if (rc == SL_OK) {
        close_len(e, mark);
    }
    return rc;
}

static sl_status enc_resource(ectx *e, size_t ri) {
    const sl_otlp *o = e->o;
    const sl__otlp_res *r = &o->res[ri];
    const sl__pmsg *rm = sl__proto_resource_entry(o->sig);
    bool clean = e->proto && !r->dirty && r->scount > 0;
    for (uint32_t g = r->sfirst; clean && g < r->sfirst + r->scount; g++) {
        clean = scope_clean(o, &o->scopes[g]);
    }
    if (clean) {
        return enc_msg(e, REQ_LIST_FIELD, rm, r->entry, true);
    }
    size_t mark;
    sl_status rc = open_len(e, REQ_LIST_FIELD, &mark);
    if (rc == SL_OK) {
        rc = enc_entry_head(e, rm, r->entry, r->dirty);
    }
    for (uint32_t g = r->sfirst; g < r->sfirst + r->scount && rc == SL_OK;
         g++) {
        if (o->scopes[g].kept > 0) {
            rc = enc_scope(e, g);
        }
    }
    if (rc == SL_OK) {
        close_len(e, mark);
    }
    return rc;
}

sl_status sl_otlp_write_proto(const sl_otlp *o, sl_buf *out, sl_error *err) {
    if (!o || !out) {
        return sl__error(err, SL_EINVAL, NULL, "no batch or no buffer");
    }
    if (o->lazy && sl__otlp_materialize((sl_otlp *)o) != SL_OK) {
        return sl__nomem(err); /* encoding walks the whole tree */
    }
    const sl_node *root = sl_doc_root(o->doc);
    if (!root || !o->loaded) {
        return sl__error(err, SL_EINVAL, NULL, "no request loaded");
    }
    size_t start = out->len;
    ectx e = {o, out, err, o->proto, (const uint8_t *)o->text, 0};
    sl_status rc = SL_OK;
    const sl__pmsg *req = sl__proto_request(o->sig);
    if (o->proto && o->ndropped == 0 && o->nempty == 0 && !o->dirty) {
        rc = put(&e, o->text, o->text_len); /* untouched: the input */
    } else if (!o->list) {
        rc = enc_members(&e, req, root, 0);
        if (rc == SL_OK) {
            rc = copy_source_fields(&e, req, root, 0);
        }
    } else {
        for (size_t ri = 0; ri < o->nres && rc == SL_OK; ri++) {
            if (o->res[ri].kept > 0) {
                rc = enc_resource(&e, ri);
            }
        }
        if (rc == SL_OK) {
            rc = copy_source_fields(&e, req, root, 0);
        }
    }
    return rc == SL_OK ? SL_OK : sl__otlp_write_failed(out, start, rc, err);
}

sl_status sl__proto_encode(const sl__pmsg *m, const sl_node *n, sl_buf *out,
                           sl_error *err) {
    if (sl_node_kind_of(n) != SL_NODE_OBJECT) {
        return sl__error(err, SL_ESCHEMA, NULL, "%s: not an object", m->name);
    }
    ectx e = {.out = out, .err = err};
    return enc_members(&e, m, n, 0);
}

/* src/otlp/load.c: parse one OTLP/JSON export request, validate its shape
 * and index its records (log records, metrics, spans) in document order.
 * Field access, changes and writing live in field.c, change.c, write.c.
 *
 * The one idea: one walk does everything. Each message type is a table of
 * known fields (camelCase and proto snake_case spellings, a value type, a
 * record slot); validating a record fills its slots as a side effect, so
 * later reads are pointer loads. What the JSON mapping of OTLP allows is
 * accepted: null for any field (= absent), 64-bit integers as numbers or
 * decimal strings, enums as names or numbers, hex ids of the right length
 * or empty, an empty AnyValue; unknown fields are kept untouched (newer
 * OTLP versions add fields). Wrong types, malformed ids, numbers out of
 * range, unknown enum names, an AnyValue with an unknown or a second kind,
 * a repeated field spelled twice: SL_ESCHEMA with the JSON path of the
 * value and its file:line:col. */
#include <sluice/otlp.h>

#include <math.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdio.h>

#include "base/base.h"
#include "doc/span.h"
#include "doc/view.h"
#include "otlp/proto.h"

/* ---- message tables: proto_schema.c's, shared with the protobuf codec ---- */

/* The checks a number, enum or array of OTLP/JSON needs (the proto3 JSON
 * mapping of the field's type). */
typedef enum vtype {
    VT_U64,
    VT_I64,
    VT_U32,
    VT_I32,
    VT_SEV,    /* SeverityNumber */
    VT_KIND,   /* Span.SpanKind */
    VT_STATUS, /* Status.StatusCode */
    VT_TEMP,   /* AggregationTemporality */
    VT_MSG_ARRAY,
    VT_U64_ARRAY,
    VT_DBL_ARRAY
} vtype;

typedef sl__pfield fdesc;
typedef sl__pmsg msgdesc;

/* Fields sharing a non-zero id exclude each other (a oneof). */
static uint8_t oneof_of(const fdesc *d) {
    return d->flags & PF_PRESENCE ? d->aux : 0;
}

/* ---- names ---- */

sl_node *sl__otlp_member(const sl_node *obj, const char *camel,
                         const char *snake) {
    if (sl_node_kind_of(obj) != SL_NODE_OBJECT) {
        return NULL;
    }
    size_t n = sl_node_len(obj);
    for (size_t i = 0; i < n; i++) {
        if (sl__otlp_key_is(sl_node_key(obj, i), camel, snake)) {
            return (sl_node *)sl_node_at(obj, i);
        }
    }
    return NULL;
}

static bool desc_match(const fdesc *d, sl_str key) {
    return (key.len == d->clen && sl__otlp_same(key.ptr, d->camel, d->clen)) ||
           (key.len == d->slen && sl__otlp_same(key.ptr, d->snake, d->slen));
}

/* Fields usually come in table order: search from just after the last
 * match (*hint), wrapping around, so most members match at the first try. */
static const fdesc *desc_find(const msgdesc *m, sl_str key, uint8_t *hint) {
    uint8_t n = m->n;
    uint8_t i = *hint < n ? *hint : 0;
    for (uint8_t k = 0; k < n; k++) {
        const fdesc *d = &m->f[i];
        if (desc_match(d, key)) {
            *hint = (uint8_t)(i + 1);
            return d;
        }
        i = (uint8_t)(i + 1 == n ? 0 : i + 1);
    }
    return NULL;
}

static bool eq(sl_str key, const char *lit, size_t n) {
    return memcmp(key.ptr, lit, n) == 0;
}

/* The AnyValue kind a key names, by length first (hot: every attribute). */
int sl__otlp_any_kind_of(sl_str key) {
    switch (key.len) {
    case 8:
        return eq(key, "intValue", 8) ? AK_INT : AK_NONE;
    case 9:
        return eq(key, "boolValue", 9)   ? AK_BOOL
               : eq(key, "int_value", 9) ? AK_INT
                                         : AK_NONE;
    case 10:
        return eq(key, "arrayValue", 10)   ? AK_ARRAY
               : eq(key, "bytesValue", 10) ? AK_BYTES
               : eq(key, "bool_value", 10) ? AK_BOOL
                                           : AK_NONE;
    case 11:
        return eq(key, "stringValue", 11)   ? AK_STRING
               : eq(key, "doubleValue", 11) ? AK_DOUBLE
               : eq(key, "kvlistValue", 11) ? AK_KVLIST
               : eq(key, "array_value", 11) ? AK_ARRAY
               : eq(key, "bytes_value", 11) ? AK_BYTES
                                            : AK_NONE;
    case 12:
        return eq(key, "string_value", 12)   ? AK_STRING
               : eq(key, "double_value", 12) ? AK_DOUBLE
               : eq(key, "kvlist_value", 12) ? AK_KVLIST
                                             : AK_NONE;
    default:
        return AK_NONE;
    }
}

bool sl__otlp_any_kind(const sl_node *any, sl_str *key, const sl_node **val) {
    if (sl_node_kind_of(any) != SL_NODE_OBJECT) {
        return false;
    }
    size_t n = sl_node_len(any);
    for (size_t i = 0; i < n; i++) {
        const sl_node *v = sl_node_at(any, i);
        if (sl_node_kind_of(v) != SL_NODE_NULL) {
            *key = sl_node_key(any, i);
            *val = v;
            return true;
        }
    }
    return false;
}

/* ---- validation context and errors ---- */

typedef struct vctx {
    sl_otlp *o;
    sl_error *err;
    bool rewrote;   /* an id was rewritten in lower case */
    bool validate;  /* false: the tree is known valid (decoded from
                       protobuf): only fill slots and indexes */
    uint32_t depth; /* messages nested (bounded by the reader's depth) */
    uint32_t kvx_first, kvx_n; /* the attribute index of the last indexed
                                  list (see sl__otlp_kvx) */
} vctx;

/* One step of a path: member or element idx of parent. */
typedef struct step {
    const sl_node *parent;
    size_t idx;
} step;

/* Depth-first search for target under n, filling steps; the number of
 * steps, or -1 when target is not under n. Errors only: validation keeps
 * no path while it walks, the path is found again when one is reported. */
static int find_path(const sl_node *n, const sl_node *target, step *steps,
                     int depth, int max) {
    if (n == target) {
        return depth;
    }
    sl_node_kind k = sl_node_kind_of(n);
    if ((k != SL_NODE_OBJECT && k != SL_NODE_ARRAY) || depth >= max) {
        return -1;
    }
    size_t len = sl_node_len(n);
    for (size_t i = 0; i < len; i++) {
        steps[depth] = (step){n, i};
        int d = find_path(sl_node_at(n, i), target, steps, depth + 1, max);
        if (d >= 0) {
            return d;
        }
    }
    return -1;
}

/* The JSON path of node at ("resourceLogs[0].scopeLogs[1]"), cut to fit.
 * Only schema field names and indexes appear, never payload text: the
 * walk reaches an error only through known fields, and attributes are
 * entered by index ("attributes[2].value"). */
static void format_path(const vctx *c, const sl_node *at, char *buf,
                        size_t cap) {
    step steps[SL_MAX_DEPTH + 16];
    int n = find_path(sl_doc_root(c->o->doc), at, steps, 0,
                      (int)SL_ARRAY_LEN(steps));
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len + 1 < cap; i++) {
        int w;
        if (sl_node_kind_of(steps[i].parent) == SL_NODE_OBJECT) {
            sl_str key = sl_node_key(steps[i].parent, steps[i].idx);
            w = snprintf(buf + len, cap - len, "%s%.*s", len ? "." : "",
                         (int)(key.len > 40 ? 40 : key.len), key.ptr);
        } else {
            w = snprintf(buf + len, cap - len, "[%zu]", steps[i].idx);
        }
        if (w < 0) {
            break;
        }
        len += (size_t)w;
        if (len >= cap) {
            len = cap - 1;
        }
    }
    if (len == 0) {
        snprintf(buf, cap, "request");
    }
}

/* SL_ESCHEMA at node at: "<path of in>: <message>" (in is at, or the
 * object the message is about). */
static sl_status vfail(vctx *c, const sl_node *in, const sl_node *at,
                       const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static sl_status vfail(vctx *c, const sl_node *in, const sl_node *at,
                       const char *fmt, va_list ap) {
    if (!c->err) {
        return SL_ESCHEMA;
    }
    char path[160];
    format_path(c, in, path, sizeof(path));
    char what[96];
    vsnprintf(what, sizeof(what), fmt, ap);
    sl_pos pos = sl_node_pos(c->o->doc, at);
    return sl__error(c->err, SL_ESCHEMA, &pos, "%s: %s", path, what);
}

static sl_status fail(vctx *c, const sl_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static sl_status fail(vctx *c, const sl_node *at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sl_status rc = vfail(c, at, at, fmt, ap);
    va_end(ap);
    return rc;
}

static sl_status fail_in(vctx *c, const sl_node *in, const sl_node *at,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sl_status fail_in(vctx *c, const sl_node *in, const sl_node *at,
                         const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sl_status rc = vfail(c, in, at, fmt, ap);
    va_end(ap);
    return rc;
}

static sl_status wrong_type(vctx *c, const sl_node *at, const char *want) {
    return fail(c, at, "expected %s, got %s", want,
                sl_node_kind_name(sl_node_kind_of(at)));
}

/* ---- scalars ---- */

/* Fast check for the common 64-bit case: only digits, short enough that
 * no value of that many digits can be out of range (18 digits signed, 19
 * unsigned). Longer ones take the full parse. */
static bool short_digits(sl_str s, bool is_unsigned) {
    size_t max = is_unsigned ? 19 : 18;
    if (s.len == 0 || s.len > max) {
        return false;
    }
    unsigned bad = 0;
    for (size_t i = 0; i < s.len; i++) {
        bad |= (unsigned)((unsigned char)s.ptr[i] - '0') > 9u;
    }
    return !bad;
}

static sl_status check_int(vctx *c, const sl_node *n, vtype t) {
    sl_node_kind k = sl_node_kind_of(n);
    bool is_unsigned = t == VT_U64 || t == VT_U32;
    const char *want = is_unsigned ? "an unsigned integer" : "an integer";
    int64_t v = 0;
    sl_str s = sl_node_str(n);
    if ((t == VT_U64 || t == VT_I64) &&
        (k == SL_NODE_INT || k == SL_NODE_STRING) &&
        short_digits(s, is_unsigned)) {
        return SL_OK;
    }
    if (k == SL_NODE_INT || k == SL_NODE_STRING) {
        if (!sl__otlp_parse_i64(s.ptr, s.len, is_unsigned, &v)) {
            return k == SL_NODE_INT
                       ? fail(c, n, "integer out of range")
                       : fail(c, n, "expected %s in a decimal string", want);
        }
    } else if (k == SL_NODE_FLOAT) {
        /* the JSON mapping allows 1e3 or 5.0 for integers: integral only */
        double d = 0;
        if (!sl__otlp_parse_double(s.ptr, s.len, &d) || d != trunc(d) ||
            fabs(d) > 9007199254740992.0 || (is_unsigned && d < 0)) {
            return fail(c, n, "expected %s, got a fraction or a huge number",
                        want);
        }
        v = (int64_t)d;
    } else {
        return wrong_type(c, n, want);
    }
    if (t == VT_U32 && (uint64_t)v > UINT32_MAX) {
        return fail(c, n, "integer out of range");
    }
    if (t == VT_I32 && (v < INT32_MIN || v > INT32_MAX)) {
        return fail(c, n, "integer out of range");
    }
    return SL_OK;
}

static sl_status check_double(vctx *c, const sl_node *n) {
    sl_node_kind k = sl_node_kind_of(n);
    if (k == SL_NODE_INT || k == SL_NODE_FLOAT) {
        return SL_OK;
    }
    if (k == SL_NODE_STRING) {
        sl_str s = sl_node_str(n);
        double d = 0;
        if (!sl__otlp_parse_double(s.ptr, s.len, &d)) {
            return fail(c, n, "expected a number in a string");
        }
        return SL_OK;
    }
    return wrong_type(c, n, "a number");
}

typedef struct enum_name {
    const char *name;
    int value;
} enum_name;

static const enum_name sev_names[] = {
    {"SEVERITY_NUMBER_UNSPECIFIED", 0}, {"SEVERITY_NUMBER_TRACE", 1},
    {"SEVERITY_NUMBER_TRACE2", 2},      {"SEVERITY_NUMBER_TRACE3", 3},
    {"SEVERITY_NUMBER_TRACE4", 4},      {"SEVERITY_NUMBER_DEBUG", 5},
    {"SEVERITY_NUMBER_DEBUG2", 6},      {"SEVERITY_NUMBER_DEBUG3", 7},
    {"SEVERITY_NUMBER_DEBUG4", 8},      {"SEVERITY_NUMBER_INFO", 9},
    {"SEVERITY_NUMBER_INFO2", 10},      {"SEVERITY_NUMBER_INFO3", 11},
    {"SEVERITY_NUMBER_INFO4", 12},      {"SEVERITY_NUMBER_WARN", 13},
    {"SEVERITY_NUMBER_WARN2", 14},      {"SEVERITY_NUMBER_WARN3", 15},
    {"SEVERITY_NUMBER_WARN4", 16},      {"SEVERITY_NUMBER_ERROR", 17},
    {"SEVERITY_NUMBER_ERROR2", 18},     {"SEVERITY_NUMBER_ERROR3", 19},
    {"SEVERITY_NUMBER_ERROR4", 20},     {"SEVERITY_NUMBER_FATAL", 21},
    {"SEVERITY_NUMBER_FATAL2", 22},     {"SEVERITY_NUMBER_FATAL3", 23},
    {"SEVERITY_NUMBER_FATAL4", 24},
};
static const enum_name kind_names[] = {
    {"SPAN_KIND_UNSPECIFIED", 0}, {"SPAN_KIND_INTERNAL", 1},
    {"SPAN_KIND_SERVER", 2},      {"SPAN_KIND_CLIENT", 3},
    {"SPAN_KIND_PRODUCER", 4},    {"SPAN_KIND_CONSUMER", 5},
};
static const enum_name status_names[] = {
    {"STATUS_CODE_UNSET", 0},
    {"STATUS_CODE_OK", 1},
    {"STATUS_CODE_ERROR", 2},
};
static const enum_name temp_names[] = {
    {"AGGREGATION_TEMPORALITY_UNSPECIFIED", 0},
    {"AGGREGATION_TEMPORALITY_DELTA", 1},
    {"AGGREGATION_TEMPORALITY_CUMULATIVE", 2},
};

bool sl__otlp_enum_value(int which, sl_str name, int32_t *out) {
    static const struct {
        const enum_name *names;
        size_t n;
    } tables[] = {
        {sev_names, SL_ARRAY_LEN(sev_names)},
        {kind_names, SL_ARRAY_LEN(kind_names)},
        {status_names, SL_ARRAY_LEN(status_names)},
        {temp_names, SL_ARRAY_LEN(temp_names)},
    };
    if (which < 0 || (size_t)which >= SL_ARRAY_LEN(tables)) {
        return false;
    }
    for (size_t i = 0; i < tables[which].n; i++) {
        const char *nm = tables[which].names[i].name;
        if (strlen(nm) == name.len && memcmp(nm, name.ptr, name.len) == 0) {
            *out = tables[which].names[i].value;
            return true;
        }
    }
    return false;
}

static sl_status check_enum(vctx *c, const sl_node *n, vtype t) {
    const enum_name *names = sev_names;
    size_t count = SL_ARRAY_LEN(sev_names);
    const char *what = "a severity number";
    if (t == VT_KIND) {
        names = kind_names;
        count = SL_ARRAY_LEN(kind_names);
        what = "a span kind";
    } else if (t == VT_STATUS) {
        names = status_names;
        count = SL_ARRAY_LEN(status_names);
        what = "a status code";
    } else if (t == VT_TEMP) {
        names = temp_names;
        count = SL_ARRAY_LEN(temp_names);
        what = "an aggregation temporality";
    }
    sl_node_kind k = sl_node_kind_of(n);
    sl_str s = sl_node_str(n);
    if (k == SL_NODE_INT) {
        int64_t v = 0;
        /* proto3 enums are open: any int32 number is accepted */
        if (!sl__otlp_parse_i64(s.ptr, s.len, false, &v) || v < INT32_MIN ||
            v > INT32_MAX) {
            return fail(c, n, "%s out of range", what);
        }
        return SL_OK;
    }
    if (k == SL_NODE_STRING) {
        for (size_t i = 0; i < count; i++) {
            size_t l = strlen(names[i].name);
            if (s.len == l && memcmp(s.ptr, names[i].name, l) == 0) {
                return SL_OK;
            }
        }
        return fail(c, n, "unknown name for %s", what);
    }
    char want[64];
    snprintf(want, sizeof(want), "%s (name or number)", what);
    return wrong_type(c, n, want);
}

/* Byte classes for ids: 1 digit or lower-case hex, 3 upper-case hex, 0
 * anything else. And-ing bit 0 and or-ing bit 1 over a whole id checks it
 * in one pass without a branch per byte. */
static const uint8_t hexclass[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1,
    ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['A'] = 3, ['B'] = 3,
    ['C'] = 3, ['D'] = 3, ['E'] = 3, ['F'] = 3,
};

/* Ids are hex (case-insensitive, as the OTLP/JSON spec says) of exactly
 * the id's length, or empty (the proto default, which the conformance
 * fixtures use for "no trace id"). Upper-case ids are rewritten in lower
 * case, the form every getter returns and the writer emits. */
static sl_status check_id(vctx *c, sl_node *n, size_t want) {
    if (sl_node_kind_of(n) != SL_NODE_STRING) {
        return wrong_type(c, n, "a hex string");
    }
    sl_str s = sl_node_str(n);
    if (s.len == 0) {
        return SL_OK;
    }
    if (s.len != want) {
        return fail(c, n,
                    "expected %zu hex digits or an empty string, got "
                    "%zu characters",
                    want, s.len);
    }
    unsigned all = 1, any = 0;
    size_t i = 0;
#ifdef __SSE2__
    /* 16 at a time: a byte is a hex digit when it is a decimal digit or,
     * with bit 5 set (ASCII lower case), in a..f; upper case is one that
     * changed under bit 5. Signed compares reject bytes >= 0x80. */
    for (; i + 16 <= s.len; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s.ptr + i));
        __m128i lo = _mm_or_si128(x, _mm_set1_epi8(0x20));
        __m128i dig = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                    _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
        __m128i af = _mm_and_si128(_mm_cmpgt_epi8(lo, _mm_set1_epi8('a' - 1)),
                                   _mm_cmplt_epi8(lo, _mm_set1_epi8('f' + 1)));
        unsigned ok = (unsigned)_mm_movemask_epi8(_mm_or_si128(dig, af));
        unsigned up = (unsigned)_mm_movemask_epi8(
            _mm_andnot_si128(_mm_cmpeq_epi8(x, lo), af));
        all &= ok == 0xffffu;
        any |= up ? 2u : 0u;
    }
#endif
    for (; i < s.len; i++) {
        unsigned cls = hexclass[(unsigned char)s.ptr[i]];
        all &= cls;
        any |= cls;
    }
    bool upper = any & 2;
    if (!all) {
        return fail(c, n, "expected %zu hex digits, got another character",
                    want);
    }
    if (upper) {
        char low[32];
        for (size_t k = 0; k < s.len; k++) {
            char ch = s.ptr[k];
            low[k] = ch >= 'A' && ch <= 'F' ? (char)(ch - 'A' + 'a') : ch;
        }
        if (sl_node_set_string(c->o->doc, n, low, s.len) != SL_OK) {
            return sl__nomem(c->err);
        }
        c->rewrote = true;
        c->o->dirty = true;
    }
    return SL_OK;
}

/* ---- structures ---- */

static sl_status check_msg(vctx *c, sl_node *obj, const msgdesc *m,
                           sl_node **slots);
static sl_status check_kvlist(vctx *c, sl_node *arr, bool index);

/* An AnyValue; *str (when not NULL) receives its stringValue node, when it
 * holds one (what the attribute index keeps). */
static sl_status check_any(vctx *c, sl_node *any, const sl_node **str) {
    if (sl_node_kind_of(any) != SL_NODE_OBJECT) {
        return wrong_type(c, any, "an AnyValue object");
    }
    size_t n;
    sl__member *mem = sl__doc_members(any, &n);
    bool seen = false;
    for (size_t i = 0; i < n; i++) {
        sl_str key = sl__member_key(&mem[i]);
        sl_node *v = sl__member_val(&mem[i]);
        int kind = sl__otlp_any_kind_of(key);
        if (kind == AK_NONE) {
            sl_pos pos = sl_node_key_pos(c->o->doc, any, i);
            char path[160];
            format_path(c, any, path, sizeof(path));
            return sl__error(c->err, SL_ESCHEMA, &pos,
                             "%s: unknown AnyValue kind", path);
        }
        sl_node_kind k = sl__doc_kind(v);
        if (k == SL_NODE_NULL) {
            continue; /* null = not set (the JSON mapping's rule) */
        }
        if (seen) {
            return fail_in(c, any, v, "AnyValue holds more than one value");
        }
        seen = true;
        sl_status rc = SL_OK;
        switch (kind) {
        case AK_STRING:
            rc = k == SL_NODE_STRING ? SL_OK : wrong_type(c, v, "a string");
            if (str) {
                *str = v;
            }
            break;
        case AK_BOOL:
            rc = k == SL_NODE_BOOL ? SL_OK : wrong_type(c, v, "a bool");
            break;
        case AK_INT:
            rc = check_int(c, v, VT_I64);
            break;
        case AK_DOUBLE:
            rc = check_double(c, v);
            break;
        case AK_BYTES:
            if (k != SL_NODE_STRING) {
                rc = wrong_type(c, v, "a base64 string");
            } else if (sl__base64_decode(sl__doc_str(v).ptr, sl__doc_str(v).len,
                                         NULL) < 0) {
                rc = fail(c, v, "expected base64");
            }
            break;
        case AK_ARRAY:
        case AK_KVLIST: {
            if (k != SL_NODE_OBJECT) {
                rc = wrong_type(c, v, "an object with \"values\"");
                break;
            }
            size_t m;
            sl__member *vm = sl__doc_members(v, &m);
            for (size_t j = 0; j < m && rc == SL_OK; j++) {
                sl_str vk = sl__member_key(&vm[j]);
                sl_node *vals = sl__member_val(&vm[j]);
                if (vk.len != 6 || memcmp(vk.ptr, "values", 6) != 0 ||
                    sl__doc_kind(vals) == SL_NODE_NULL) {
                    continue;
                }
                if (kind == AK_KVLIST) {
                    rc = check_kvlist(c, vals, false);
                } else if (sl__doc_kind(vals) != SL_NODE_ARRAY) {
                    rc = wrong_type(c, vals, "an array");
                } else {
                    size_t e;
                    sl_node *items = sl__doc_items(vals, &e);
                    for (size_t q = 0; q < e && rc == SL_OK; q++) {
                        rc = check_any(c, &items[q], NULL);
                    }
                }
            }
            break;
        }
        default:
            break;
        }
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

/* A KeyValue list: objects with a string "key" and an AnyValue "value"
 * (both optional, as proto3 defaults). Written out rather than through
 * check_msg: it is the hottest loop of a load. With index, the same pass
 * appends the list's attribute index to o->kvx (what sl__otlp_kvx_build
 * makes: every KeyValue with a string key) and names it in c->kvx_first /
 * c->kvx_n. */
static sl_status check_kvlist(vctx *c, sl_node *arr, bool index) {
    if (sl_node_kind_of(arr) != SL_NODE_ARRAY) {
        return wrong_type(c, arr, "an array of key-values");
    }
    sl_otlp *o = c->o;
    size_t n;
    sl_node *items = sl__doc_items(arr, &n);
    uint32_t first = (uint32_t)o->nkvx, k = 0;
    bool indexing = index && sl__otlp_kvx_reserve(o, n);
    for (size_t i = 0; i < n; i++) {
        sl_node *kv = &items[i];
        if (sl__doc_kind(kv) != SL_NODE_OBJECT) {
            sl_status rc = wrong_type(c, kv, "a key-value object");
            return rc;
        }
        size_t m;
        sl__member *mem = sl__doc_members(kv, &m);
        const sl_node *knode = NULL, *vnode = NULL, *str = NULL;
        for (size_t j = 0; j < m; j++) {
            sl_str key = sl__member_key(&mem[j]);
            sl_node *v = sl__member_val(&mem[j]);
            bool is_key = key.len == 3 && memcmp(key.ptr, "key", 3) == 0;
            bool is_value =
                !is_key && key.len == 5 && memcmp(key.ptr, "value", 5) == 0;
            if (!is_key && !is_value) {
                continue;
            }
            sl_status rc = SL_OK;
            if ((is_key && knode) || (is_value && vnode)) {
                sl_pos pos = sl_node_key_pos(c->o->doc, kv, j);
                char path[160];
                format_path(c, kv, path, sizeof(path));
                rc = sl__error(c->err, SL_ESCHEMA, &pos,
                               "%s: field \"%s\" given twice", path,
                               is_key ? "key" : "value");
            } else if (sl__doc_kind(v) != SL_NODE_NULL) {
                if (is_key) {
                    rc = sl__doc_kind(v) == SL_NODE_STRING
                             ? SL_OK
                             : wrong_type(c, v, "a string");
                } else {
                    rc = check_any(c, v, &str);
                }
            }
            if (is_key) {
                knode = v;
            } else {
                vnode = v;
            }
            if (rc != SL_OK) {
                return rc;
            }
        }
        if (indexing && knode && sl__doc_kind(knode) == SL_NODE_STRING) {
            sl_str key = sl__doc_str(knode);
            sl__otlp_kvx *x = &o->kvx[first + k++];
            x->key = key.ptr;
            x->klen = (uint32_t)key.len;
            x->kv = kv;
            x->any =
                vnode && sl__doc_kind(vnode) == SL_NODE_OBJECT ? vnode : NULL;
            x->str = str;
        }
    }
    if (index) {
        o->nkvx += k;
        c->kvx_first = first;
        c->kvx_n = indexing ? k : SL__KVX_NONE;
    }
    return SL_OK;
}

static sl_status check_array(vctx *c, sl_node *arr, vtype t,
                             const msgdesc *sub) {
    if (sl_node_kind_of(arr) != SL_NODE_ARRAY) {
        return wrong_type(c, arr, "an array");
    }
    size_t n;
    sl_node *items = sl__doc_items(arr, &n);
    for (size_t i = 0; i < n; i++) {
        sl_node *e = &items[i];
        sl_status rc;
        if (t == VT_MSG_ARRAY) {
            rc = sl__doc_kind(e) == SL_NODE_OBJECT
                     ? check_msg(c, e, sub, NULL)
                     : wrong_type(c, e, "an object");
        } else if (t == VT_U64_ARRAY) {
            rc = check_int(c, e, VT_U64);
        } else {
            rc = check_double(c, e);
        }
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

/* One field's value. With slots (the caller keeps this message's), an
 * entry's resource / scope fills its slots too and a record's, scope's or
 * resource's attributes index themselves. */
static sl_status check_value(vctx *c, sl_node *v, const fdesc *d,
                             sl_node **slots) {
    bool rep = (d->flags & PF_REPEATED) != 0;
    switch ((sl__ptype)d->type) {
    case PT_ID:
        return check_id(c, v, d->aux * 2u);
    case PT_FIXED64:
    case PT_UINT64:
        return rep ? check_array(c, v, VT_U64_ARRAY, NULL)
                   : check_int(c, v, VT_U64);
    case PT_SFIXED64:
    case PT_INT64:
        return check_int(c, v, VT_I64);
    case PT_UINT32:
    case PT_FIXED32:
        return check_int(c, v, VT_U32);
    case PT_INT32:
    case PT_SINT32:
        return check_int(c, v, VT_I32);
    case PT_ENUM:
        return check_enum(c, v,
                          d->aux == PE_SEVERITY    ? VT_SEV
                          : d->aux == PE_SPAN_KIND ? VT_KIND
                          : d->aux == PE_STATUS    ? VT_STATUS
                                                   : VT_TEMP);
    case PT_DOUBLE:
        return rep ? check_array(c, v, VT_DBL_ARRAY, NULL) : check_double(c, v);
    case PT_BOOL:
        return sl_node_kind_of(v) == SL_NODE_BOOL ? SL_OK
                                                  : wrong_type(c, v, "a bool");
    case PT_MSG:
        if (d->flags & (PF_LOOSE | PF_LIST)) {
            /* a list: its elements are the indexer's */
            return (d->flags & PF_LOOSE) || sl_node_kind_of(v) == SL_NODE_ARRAY
                       ? SL_OK
                       : wrong_type(c, v, "an array");
        }
        if (d->sub == &sl__proto_any_msg) {
            return check_any(c, v, NULL);
        }
        if (rep) {
            /* a record's, scope's or resource's attributes index themselves */
            return d->sub == &sl__proto_kv_msg
                       ? check_kvlist(c, v, slots && d->slot >= 0)
                       : check_array(c, v, VT_MSG_ARRAY, d->sub);
        }
        return sl_node_kind_of(v) == SL_NODE_OBJECT
                   ? check_msg(c, v, d->sub,
                               slots && d->inner ? slots + d->inner : NULL)
                   : wrong_type(c, v, "an object");
    default: /* PT_STRING; PT_BYTES is only an AnyValue's (check_any) */
        return sl_node_kind_of(v) == SL_NODE_STRING
                   ? SL_OK
                   : wrong_type(c, v, "a string");
    }
}

/* Validate an object against a message table; fill slots (when not NULL)
 * with the value nodes of the fields that have one. Unknown fields are
 * accepted and left alone; null means absent. */
static sl_status check_fields(vctx *c, sl_node *obj, const msgdesc *m,
                              sl_node **slots);

/* The attribute index of a key-value list the protobuf decoder built
 * (what sl__otlp_kvx_build makes, by key pointers): resources' and
 * scopes' lists (records' come from the decoder, proto_read.c's index_kv,
 * made the same way as their KeyValues are decoded). Every KeyValue has a
 * string key unless the key was empty (proto3 leaves defaults out), a
 * value is an AnyValue object, holding one member. */
static void known_kvlist(vctx *c, const sl_node *arr) {
    sl_otlp *o = c->o;
    size_t n = sl_node_len(arr);
    c->kvx_first = (uint32_t)o->nkvx;
    c->kvx_n = SL__KVX_NONE;
    if (!sl__otlp_kvx_reserve(o, n)) {
        return;
    }
    const char *kname = sl__proto_kv_msg.f[0].camel;
    const char *sname = sl__proto_any_msg.f[0].camel; /* stringValue */
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const sl_node *kv = sl_node_at(arr, i);
        const sl_node *key = NULL, *val = NULL;
        size_t m = sl_node_len(kv);
        for (size_t j = 0; j < m; j++) {
            if (sl_node_key(kv, j).ptr == kname) {
                key = sl_node_at(kv, j);
            } else {
                val = sl_node_at(kv, j);
            }
        }
        if (!key) {
            continue;
        }
        sl_str ks = sl_node_str(key);
        sl__otlp_kvx *x = &o->kvx[o->nkvx + k++];
        x->key = ks.ptr;
        x->klen = (uint32_t)ks.len;
        x->kv = kv;
        x->any = val;
        x->str =
            val && sl_node_len(val) == 1 && sl_node_key(val, 0).ptr == sname
                ? sl_node_at(val, 0)
                : NULL;
    }
    o->nkvx += k;
    c->kvx_n = k;
}

/* The slots and attribute indexes of a tree the protobuf decoder built:
 * valid, and its keys are the tables' own name pointers, so a field is
 * found by comparing pointers, from just after the last one found (the
 * decoder adds members in wire order, nearly always table order). */
static void known_fields(vctx *c, sl_node *obj, const msgdesc *m,
                         sl_node **slots) {
    size_t n = sl_node_len(obj);
    uint8_t next = 0;
    for (size_t i = 0; i < n; i++) {
        const char *key = sl_node_key(obj, i).ptr;
        const fdesc *d = NULL;
        for (uint8_t k = 0, j = next; k < m->n; k++) {
            j = j >= m->n ? 0 : j;
            if (m->f[j].camel == key) {
                d = &m->f[j];
                next = (uint8_t)(j + 1);
                break;
            }
            j++;
        }
        if (!d || d->slot < 0) {
            continue;
        }
        sl_node *v = (sl_node *)sl_node_at(obj, i);
        if (sl_node_kind_of(v) == SL_NODE_NULL) {
            continue;
        }
        slots[d->slot] = v;
        if (d->inner) {
            known_fields(c, v, d->sub, slots + d->inner);
        } else if (d->sub == &sl__proto_kv_msg) {
            known_kvlist(c, v);
        }
    }
}

static sl_status check_msg(vctx *c, sl_node *obj, const msgdesc *m,
                           sl_node **slots) {
    if (!c->validate) {
        known_fields(c, obj, m, slots);
        return SL_OK;
    }
    if (c->depth >= SL_MAX_DEPTH) {
        return fail(c, obj, "nested too deeply");
    }
    c->depth++;
    sl_status rc = check_fields(c, obj, m, slots);
    c->depth--;
    return rc;
}

static sl_status check_fields(vctx *c, sl_node *obj, const msgdesc *m,
                              sl_node **slots) {
    uint32_t seen = 0;
    uint8_t oneof_seen = 0; /* bit per oneof group id */
    uint8_t hint = 0;
    size_t n;
    sl__member *mem = sl__doc_members(obj, &n);
    sl__otlp_order *ord =
        &c->o->orders[((uintptr_t)m / sizeof(msgdesc)) % SL__ORDER_SLOTS];
    for (size_t i = 0; i < n; i++) {
        sl_str key = sl__member_key(&mem[i]);
        const fdesc *d = NULL;
        if (i < SL__ORDER_FIELDS) {
            /* checked at every member, not once: validating the previous
             * member's value may have nested into a message that shares
             * this slot and taken it (its indexes would overrun m->f;
             * found by fuzz_otlp_json) */
            if (ord->m != m) {
                memset(ord, 0, sizeof(*ord));
                ord->m = m;
            }
            uint8_t f = ord->field[i];
            d = f && desc_match(&m->f[f - 1], key) ? &m->f[f - 1]
                                                   : desc_find(m, key, &hint);
            ord->field[i] = d ? (uint8_t)(d - m->f + 1) : 0;
        } else {
            d = desc_find(m, key, &hint);
        }
        if (!d) {
            continue;
        }
        uint32_t bit = 1u << (d - m->f);
        if (seen & bit) {
            sl_pos pos = sl_node_key_pos(c->o->doc, obj, i);
            char path[160];
            format_path(c, obj, path, sizeof(path));
            return sl__error(c->err, SL_ESCHEMA, &pos,
                             "%s: field \"%s\" given twice", path, d->camel);
        }
        seen |= bit;
        sl_node *v = sl__member_val(&mem[i]);
        if (sl__doc_kind(v) == SL_NODE_NULL) {
            continue;
        }
        sl_status rc = SL_OK;
        uint8_t oneof = oneof_of(d);
        if (oneof) {
            uint8_t ob = (uint8_t)(1u << oneof);
            if (oneof_seen & ob) {
                rc = fail(c, v, "more than one of a set of exclusive fields");
            }
            oneof_seen |= ob;
        }
        if (rc == SL_OK) {
            rc = check_value(c, v, d, slots);
        }
        if (rc != SL_OK) {
            return rc;
        }
        if (slots && d->slot >= 0) {
            slots[d->slot] = v;
        }
    }
    return SL_OK;
}

/* Fill slots without validating (after a change). */
static void fill_slots(sl_node *obj, const msgdesc *m, sl_node **slots) {
    size_t n = sl_node_len(obj);
    uint8_t hint = 0;
    for (size_t i = 0; i < n; i++) {
        const fdesc *d = desc_find(m, sl_node_key(obj, i), &hint);
        if (!d || d->slot < 0) {
            continue;
        }
        sl_node *v = (sl_node *)sl_node_at(obj, i);
        if (sl_node_kind_of(v) != SL_NODE_NULL && !slots[d->slot]) {
            slots[d->slot] = v;
        }
    }
}

/* ---- index ---- */

bool sl__otlp_grow(void **p, size_t *cap, size_t need, size_t esize) {
    if (need <= *cap) {
        return true;
    }
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need) {
        nc *= 2;
    }
    size_t bytes = 0;
    if (__builtin_mul_overflow(nc, esize, &bytes)) {
        return false;
    }
    void *q = sl__realloc(*p, *cap * esize, bytes);
    if (!q) {
        return false;
    }
    *p = q;
    *cap = nc;
    return true;
}

sl__otlp_rec *sl__otlp_prefill(sl_otlp *o) {
    if (o->nprefill >= UINT32_MAX ||
        !sl__otlp_grow((void **)&o->recs, &o->caprec, o->nprefill + 1,
                       sizeof(*o->recs))) {
        return NULL;
    }
    return &o->recs[o->nprefill++];
}

/* Derived slots of a metric: its data, type and first data point. The
 * reference runner reads no data point attributes for exponential
 * histograms (reference/policy-engine-upstream.md §5): kept. */
static void metric_derive(sl__otlp_rec *r) {
    static const uint8_t order[] = {MS_GAUGE, MS_SUM, MS_HIST, MS_EXPH,
                                    MS_SUMMARY};
    r->mtype = MT_NONE;
    r->f[MS_DATA] = NULL;
    r->f[MS_DP0] = NULL;
    r->f[SLOT_ATTRS] = NULL;
    for (size_t i = 0; i < SL_ARRAY_LEN(order); i++) {
        if (r->f[order[i]]) {
            r->f[MS_DATA] = r->f[order[i]];
            r->mtype = (uint8_t)(MT_GAUGE + i);
            break;
        }
    }
    if (!r->f[MS_DATA]) {
        return;
    }
    sl_node *dps = sl__otlp_member(r->f[MS_DATA], "dataPoints", "data_points");
    const sl_node *dp0 = sl_node_at(dps, 0);
    if (sl_node_kind_of(dps) == SL_NODE_ARRAY &&
        sl_node_kind_of(dp0) == SL_NODE_OBJECT) {
        r->f[MS_DP0] = (sl_node *)dp0;
        if (r->mtype != MT_EXPH) {
            sl_node *a = sl__otlp_member(dp0, "attributes", "attributes");
            r->f[SLOT_ATTRS] = sl_node_kind_of(a) == SL_NODE_ARRAY ? a : NULL;
        }
    }
}

/* The body's string node, so reading the body (the most matched field)
 * is one pointer load. */
static void log_derive(sl__otlp_rec *r) {
    sl_str key;
    const sl_node *v = NULL;
    r->f[LS_BODY_STR] = NULL;
    if (sl__otlp_any_kind(r->f[LS_BODY], &key, &v) &&
        sl__otlp_any_kind_of(key) == AK_STRING &&
        sl_node_kind_of(v) == SL_NODE_STRING) {
        r->f[LS_BODY_STR] = (sl_node *)v;
    }
}

void sl__otlp_rescan_record(sl_otlp *o, size_t i) {
    sl__otlp_rec *r = &o->recs[i];
    memset(r->f, 0, sizeof(r->f));
    fill_slots(r->node, sl__proto_record(o->sig), r->f);
    sl__otlp_derive_record(o, i);
}

void sl__otlp_derive_record(sl_otlp *o, size_t i) {
    sl__otlp_rec *r = &o->recs[i];
    if (o->sig == SL_SIGNAL_METRIC) {
        metric_derive(r);
    } else if (o->sig == SL_SIGNAL_LOG) {
        log_derive(r);
    }
}

static void scope_derive(sl__otlp_scope *s, sl_node *inner) {
    s->scope = sl_node_kind_of(inner) == SL_NODE_OBJECT ? inner : NULL;
    s->attrs = sl__otlp_member(s->scope, "attributes", "attributes");
    s->name = sl__otlp_member(s->scope, "name", "name");
    s->version = sl__otlp_member(s->scope, "version", "version");
}

void sl__otlp_rescan_scope(sl_otlp *o, size_t g) {
    sl__otlp_scope *s = &o->scopes[g];
    sl_node *slots[3] = {NULL, NULL, NULL};
    fill_slots(s->entry, sl__proto_scope_entry(o->sig), slots);
    s->schema = slots[SL__ES_SCHEMA];
    scope_derive(s, slots[SL__ES_INNER]);
}

static void res_derive(sl__otlp_res *r, sl_node *inner) {
    r->resource = sl_node_kind_of(inner) == SL_NODE_OBJECT ? inner : NULL;
    r->attrs = sl__otlp_member(r->resource, "attributes", "attributes");
}

void sl__otlp_rescan_res(sl_otlp *o, size_t ri) {
    sl__otlp_res *r = &o->res[ri];
    sl_node *slots[3] = {NULL, NULL, NULL};
    fill_slots(r->entry, sl__proto_resource_entry(o->sig), slots);
    r->schema = slots[SL__ES_SCHEMA];
    res_derive(r, slots[SL__ES_INNER]);
}

static sl_status index_records(vctx *c, sl_node *list, uint32_t g) {
    sl_otlp *o = c->o;
    const msgdesc *m = sl__proto_record(o->sig);
    size_t n = sl_node_len(list);
    if (o->nrec + n > UINT32_MAX) {
        return sl__error(c->err, SL_ELIMIT, NULL,
                         "more than 4294967295 records in one request");
    }
    if (!sl__otlp_grow((void **)&o->recs, &o->caprec, o->nrec + n,
                       sizeof(*o->recs))) {
        return sl__nomem(c->err);
    }
    for (size_t i = 0; i < n; i++) {
        sl_node *e = (sl_node *)sl_node_at(list, i);
        if (sl_node_kind_of(e) != SL_NODE_OBJECT) {
            return wrong_type(c, e, "an object");
        }
        sl__otlp_rec *r = &o->recs[o->nrec];
        /* decoded from protobuf: its slots may be there already */
        bool pre = o->nrec < o->nprefill && r->node == sl_node_at(e, 0);
        uint32_t pre_kvx = 0, pre_nkvx = 0;
        if (pre) {
            /* the decoder's slots and (but for metrics) attribute index */
            sl_node *f[NSLOTS];
            memcpy(f, r->f, sizeof(f));
            pre_kvx = r->kvx;
            pre_nkvx = r->nkvx;
            memset(r, 0, sizeof(*r));
            memcpy(r->f, f, sizeof(f));
        } else {
            memset(r, 0, sizeof(*r));
        }
        r->node = e;
        r->scope = g;
        c->rewrote = false;
        c->kvx_first = (uint32_t)o->nkvx;
        c->kvx_n = 0;
        sl_status rc = SL_OK;
        if (!pre) {
            rc = check_msg(c, e, m, r->f);
        } else {
            c->kvx_first = pre_kvx;
            c->kvx_n = pre_nkvx;
        }
        r->dirty = c->rewrote;
        if (rc != SL_OK) {
            return rc;
        }
        if (o->sig == SL_SIGNAL_METRIC) {
            /* its attributes are its first data point's: indexed here */
            metric_derive(r);
            sl__otlp_kvx_build(o, r->f[SLOT_ATTRS], &r->kvx, &r->nkvx);
        } else {
            if (o->sig == SL_SIGNAL_LOG) {
                log_derive(r);
            }
            r->kvx = c->kvx_first; /* indexed as it was validated */
            r->nkvx = c->kvx_n;
        }
        o->nrec++;
    }
    return SL_OK;
}

static sl_status index_scopes(vctx *c, sl_node *list, uint32_t ri) {
    sl_otlp *o = c->o;
    const msgdesc *m = sl__proto_scope_entry(o->sig);
    size_t n = sl_node_len(list);
    for (size_t i = 0; i < n; i++) {
        sl_node *e = (sl_node *)sl_node_at(list, i);
        if (sl_node_kind_of(e) != SL_NODE_OBJECT) {
            return wrong_type(c, e, "an object");
        }
        sl_node *slots[SL__ES_NSLOTS] = {NULL};
        c->kvx_first = (uint32_t)o->nkvx;
        c->kvx_n = 0;
        sl_status rc = check_msg(c, e, m, slots);
        if (rc != SL_OK) {
            return rc;
        }
        if (o->nscope >= UINT32_MAX) {
            return sl__error(c->err, SL_ELIMIT, NULL, "too many scopes");
        }
        if (!sl__otlp_grow((void **)&o->scopes, &o->capscope, o->nscope + 1,
                           sizeof(*o->scopes))) {
            return sl__nomem(c->err);
        }
        uint32_t g = (uint32_t)o->nscope++;
        sl__otlp_scope *s = &o->scopes[g];
        memset(s, 0, sizeof(*s));
        s->entry = e;
        s->schema = slots[SL__ES_SCHEMA];
        s->res = ri;
        s->first = (uint32_t)o->nrec;
        /* what scope_derive finds, filled as the scope was validated */
        s->scope = slots[SL__ES_INNER];
        s->name = slots[SL__ES_SUB + SL__SC_NAME];
        s->version = slots[SL__ES_SUB + SL__SC_VERSION];
        s->attrs = slots[SL__ES_SUB + SL__SC_ATTRS];
        s->kvx = c->kvx_first;
        s->nkvx = c->kvx_n;
        if (slots[SL__ES_LIST]) {
            rc = index_records(c, slots[SL__ES_LIST], g);
            if (rc != SL_OK) {
                return rc;
            }
        }
        s = &o->scopes[g];
        s->count = (uint32_t)(o->nrec - s->first);
        s->kept = s->count;
        o->res[ri].kept += s->count;
        if (s->count == 0) {
            o->nempty++;
        }
    }
    return SL_OK;
}

static sl_status index_resources(vctx *c, sl_node *list) {
    sl_otlp *o = c->o;
    const msgdesc *m = sl__proto_resource_entry(o->sig);
    size_t n = sl_node_len(list);
    for (size_t i = 0; i < n; i++) {
        sl_node *e = (sl_node *)sl_node_at(list, i);
        if (sl_node_kind_of(e) != SL_NODE_OBJECT) {
            return wrong_type(c, e, "an object");
        }
        sl_node *slots[SL__ES_NSLOTS] = {NULL};
        c->kvx_first = (uint32_t)o->nkvx;
        c->kvx_n = 0;
        sl_status rc = check_msg(c, e, m, slots);
        if (rc != SL_OK) {
            return rc;
        }
        if (o->nres >= UINT32_MAX) {
            return sl__error(c->err, SL_ELIMIT, NULL, "too many resources");
        }
        if (!sl__otlp_grow((void **)&o->res, &o->capres, o->nres + 1,
                           sizeof(*o->res))) {
            return sl__nomem(c->err);
        }
        uint32_t ri = (uint32_t)o->nres++;
        sl__otlp_res *r = &o->res[ri];
        memset(r, 0, sizeof(*r));
        r->entry = e;
        r->schema = slots[SL__ES_SCHEMA];
        r->resource = slots[SL__ES_INNER]; /* what res_derive finds */
        r->attrs = slots[SL__ES_SUB + SL__RS_ATTRS];
        r->kvx = c->kvx_first;
        r->nkvx = c->kvx_n;
        r->sfirst = (uint32_t)o->nscope;
        if (slots[SL__ES_LIST]) {
            rc = index_scopes(c, slots[SL__ES_LIST], ri);
            if (rc != SL_OK) {
                return rc;
            }
        }
        o->res[ri].scount = (uint32_t)(o->nscope - o->res[ri].sfirst);
        if (o->res[ri].kept == 0) {
            o->nempty++;
        }
    }
    return SL_OK;
}

void sl__otlp_reset(sl_otlp *o) {
    o->sig = SL_SIGNAL_NONE;
    o->proto = false;
    o->loaded = false;
    o->dirty = false;
    o->text = NULL;
    o->text_len = 0;
    o->snake = false;
    o->list = NULL;
    o->nrec = o->nscope = o->nres = 0;
    o->nprefill = 0;
    o->ndropped = o->nempty = 0;
    o->nkvx = 0;
    o->lazy = false;
}

sl_status sl__otlp_index(sl_otlp *o, bool validate, sl_error *err) {
    vctx ctx;
    vctx *c = &ctx;
    c->o = o;
    c->validate = validate;
    c->err = err;
    c->depth = 0;
    c->rewrote = false;
    sl_status rc = SL_OK;
    sl_node *root = (sl_node *)sl_doc_root(o->doc);
    if (sl_node_kind_of(root) != SL_NODE_OBJECT) {
        rc = wrong_type(c, root, "an object");
        goto done;
    }
    size_t n = sl_node_len(root);
    for (size_t i = 0; i < n; i++) {
        sl_str key = sl_node_key(root, i);
        for (int s = 0; s < 3; s++) {
            const fdesc *d = &sl__proto_request((sl_signal)s)->f[0];
            if (!desc_match(d, key)) {
                continue;
            }
            if (o->sig != SL_SIGNAL_NONE) {
                sl_pos pos = sl_node_key_pos(o->doc, root, i);
                rc = sl__error(err, SL_ESCHEMA, &pos,
                               "request: more than one resource list");
                goto done;
            }
            o->sig = (sl_signal)s;
            o->snake =
                key.len == d->slen && memcmp(key.ptr, d->snake, key.len) == 0;
            sl_node *v = (sl_node *)sl_node_at(root, i);
            if (sl_node_kind_of(v) == SL_NODE_ARRAY) {
                o->list = v;
            } else if (sl_node_kind_of(v) != SL_NODE_NULL) {
                rc = wrong_type(c, v, "an array");
                goto done;
            }
        }
    }
    if (o->list) {
        rc = index_resources(c, o->list);
    }
done:
    if (rc != SL_OK) {
        sl__otlp_reset(o);
    }
    return rc;
}

/* ---- public ---- */

sl_otlp *sl_otlp_new(void) {
    sl_otlp *o = sl__calloc(1, sizeof(*o));
    if (!o) {
        return NULL;
    }
    o->doc = sl_doc_new();
    if (!o->doc) {
        sl__free(o, sizeof(*o));
        return NULL;
    }
    sl__otlp_reset(o);
    o->lazy_sigs = 1u << SL_SIGNAL_LOG;
    return o;
}

void sl_otlp_free(sl_otlp *o) {
    if (!o) {
        return;
    }
    sl_doc_free(o->doc);
    sl__free(o->recs, o->caprec * sizeof(*o->recs));
    sl__free(o->scopes, o->capscope * sizeof(*o->scopes));
    sl__free(o->res, o->capres * sizeof(*o->res));
    sl__free(o->kvx, o->capkvx * sizeof(*o->kvx));
    sl__buf_free(&o->bytes);
    sl__buf_free(&o->scratch);
    sl__free(o, sizeof(*o));
}

static bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The fast pass (scan.c) over the request at text[*off..) (or the whole
 * text when off is NULL): true when it indexed it, false when the full
 * path must run. */
static bool load_lazy(sl_otlp *o, size_t *off, const char *file) {
    size_t start = off ? *off : 0, stop = 0;
    while (off && start < o->text_len && is_ws(o->text[start])) {
        start++;
    }
    if (start >= o->text_len || o->text_len > SL_MAX_INPUT ||
        sl__doc_begin_text(o->doc, o->text, o->text_len, file, NULL) != SL_OK) {
        return false;
    }
    if (!sl__otlp_scan(o, start, &stop)) {
        return false;
    }
    while (stop < o->text_len && is_ws(o->text[stop])) {
        stop++;
    }
    if (!off && stop < o->text_len) {
        return false; /* something after the value: the full path says */
    }
    if (off) {
        *off = stop;
    }
    /* kept for a later full load; a bounded copy (snprintf per request
     * cost more than the index of a small one) */
    size_t fl = file ? strnlen(file, sizeof(o->file) - 1) : 0;
    if (fl > 0) {
        memcpy(o->file, file, fl);
    }
    o->file[fl] = '\0';
    o->lazy = true;
    o->built = o->want;
    o->loaded = true;
    return true;
}

static sl_status load_full(sl_otlp *o, size_t *off, const char *file,
                           sl_error *err) {
    sl_doc_opts opts = {0};
    opts.borrow = true;
    sl_status rc;
    if (off) {
        rc = sl_doc_load_next(o->doc, o->text, o->text_len, off, file, &opts,
                              err);
    } else {
        rc = sl_doc_load(o->doc, o->text, o->text_len, SL_FORMAT_JSON, file,
                         &opts, err);
    }
    if (rc != SL_OK) {
        return rc;
    }
    rc = sl__otlp_index(o, true, err);
    o->loaded = rc == SL_OK;
    return rc;
}

sl_status sl_otlp_load(sl_otlp *o, const char *text, size_t len, size_t *off,
                       const char *file, sl_error *err) {
    if (!o || (!text && len > 0)) {
        return sl__error(err, SL_EINVAL, NULL, "no batch or no text");
    }
    sl__otlp_reset(o);
    o->text = text;
    o->text_len = len;
    if (o->want) {
        size_t at = off ? *off : 0;
        if (load_lazy(o, off ? &at : NULL, file)) {
            if (off) {
                *off = at;
            }
            return SL_OK;
        }
        sl__otlp_reset(o);
        o->text = text;
        o->text_len = len;
    }
    return load_full(o, off, file, err);
}

sl_status sl__otlp_materialize(sl_otlp *o) {
    if (!o->lazy) {
        return SL_OK;
    }
    size_t n = o->nrec, start = o->root_off;
    uint8_t *dropped = NULL;
    if (o->ndropped > 0) {
        dropped = sl__alloc(n);
        if (!dropped) {
            sl__otlp_reset(o);
            return SL_ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
            dropped[i] = o->recs[i].dropped;
        }
    }
    const char *text = o->text;
    size_t len = o->text_len;
    sl__otlp_reset(o);
    o->text = text;
    o->text_len = len;
    /* the text was valid a moment ago: only memory can fail here */
    sl_status rc = load_full(o, &start, o->file[0] ? o->file : NULL, NULL);
    if (rc == SL_OK && o->nrec != n) {
        rc = SL_EINVAL; /* cannot happen: the same text */
    }
    for (size_t i = 0; rc == SL_OK && dropped && i < n; i++) {
        if (dropped[i]) {
            sl_otlp_drop(o, i);
        }
    }
    sl__free(dropped, n);
    if (rc != SL_OK) {
        sl__otlp_reset(o);
    }
    return rc;
}

void sl_otlp_set_lazy(sl_otlp *o, bool on, uint64_t kinds) {
    if (!o) {
        return;
    }
    uint32_t want = 0;
    for (unsigned k = 0; k < 64 && kinds; k++) {
        if (kinds & (1ull << k)) {
            want |= sl__otlp_want_of((sl_field_kind)k);
        }
    }
    /* kinds that need SL__WANT_OTHER are read after a full load */
    o->want = on ? (want & ~(uint32_t)SL__WANT_OTHER) | SL__WANT_ON : 0;
}

void sl_otlp_set_lazy_signals(sl_otlp *o, unsigned signals) {
    if (o) {
        o->lazy_sigs = (uint8_t)(signals & 7u);
    }
}

uint32_t sl__otlp_want_of(sl_field_kind k) {
    switch (k) {
    case SL_FIELD_LOG_BODY:
        return 1u << LS_BODY;
    case SL_FIELD_LOG_SEVERITY_TEXT:
        return 1u << LS_SEV_TEXT;
    case SL_FIELD_LOG_TRACE_ID:
        return 1u << LS_TRACE_ID;
    case SL_FIELD_LOG_SPAN_ID:
        return 1u << LS_SPAN_ID;
    case SL_FIELD_LOG_EVENT_NAME:
        return 1u << LS_EVENT_NAME;
    case SL_FIELD_METRIC_NAME:
        return 1u << MS_NAME;
    case SL_FIELD_METRIC_DESCRIPTION:
        return 1u << MS_DESC;
    case SL_FIELD_METRIC_UNIT:
        return 1u << MS_UNIT;
    case SL_FIELD_METRIC_TYPE:
    case SL_FIELD_METRIC_TEMPORALITY: /* both follow the data member */
        return 1u << MS_GAUGE | 1u << MS_SUM | 1u << MS_HIST | 1u << MS_EXPH |
               1u << MS_SUMMARY;
    case SL_FIELD_SPAN_NAME:
        return 1u << SS_NAME;
    case SL_FIELD_SPAN_TRACE_ID:
        return 1u << SS_TRACE_ID;
    case SL_FIELD_SPAN_ID:
        return 1u << SS_SPAN_ID;
    case SL_FIELD_SPAN_PARENT_SPAN_ID:
        return 1u << SS_PARENT;
    case SL_FIELD_SPAN_TRACE_STATE:
        return 1u << SS_TSTATE;
    case SL_FIELD_SPAN_KIND:
        return 1u << SS_KIND;
    case SL_FIELD_SPAN_STATUS:
        return 1u << SS_STATUS;
    case SL_FIELD_SPAN_EVENT_NAME:
    case SL_FIELD_EVENT_ATTR:
        return 1u << SS_EVENTS;
    case SL_FIELD_SPAN_LINK_TRACE_ID:
        return 1u << SS_LINKS;
    case SL_FIELD_ATTR:
        return 1u << SLOT_ATTRS;
    case SL_FIELD_RESOURCE_ATTR:
    case SL_FIELD_RESOURCE_SCHEMA_URL:
        return SL__WANT_RES;
    case SL_FIELD_SCOPE_ATTR:
    case SL_FIELD_SCOPE_NAME:
    case SL_FIELD_SCOPE_VERSION:
    case SL_FIELD_SCOPE_SCHEMA_URL:
        return SL__WANT_SCOPE;
    default:
        return SL__WANT_OTHER;
    }
}

sl_signal sl_otlp_signal(const sl_otlp *o) {
    return o ? o->sig : SL_SIGNAL_NONE;
}

size_t sl_otlp_count(const sl_otlp *o) {
    return o ? o->nrec : 0;
}

const sl_doc *sl_otlp_doc(const sl_otlp *o) {
    if (o && o->lazy) {
        /* the tree is wanted whole: build it (o stays the same batch) */
        sl__otlp_materialize((sl_otlp *)o);
    }
    return o ? o->doc : NULL;
}

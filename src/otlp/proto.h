/* src/otlp/proto.h: the OTLP protobuf schema (field numbers, wire types,
 * proto3 JSON names) shared by the protobuf decoder (proto_read.c) and
 * encoder (proto_write.c), and the wire-format primitives both use. Only
 * src/otlp includes this.
 *
 * Each message is a table of fields; a field's JSON names are the ones the
 * proto3 JSON mapping uses (camelCase; the proto name is also accepted on
 * encode, as load.c accepts both). Fields sluice does not know (newer OTLP
 * versions, or the profiles-only key_strindex / string_value_strindex) are
 * unknown fields: never in the tree, kept as the source bytes of their
 * message.
 *
 * The same tables and codec serve other protobuf messages through
 * sl__proto_decode / sl__proto_encode: the gateway's policy sync messages
 * (src/serve/sync_schema.c) use them. */
#ifndef SL_OTLP_PROTO_H
#define SL_OTLP_PROTO_H

#include "otlp/private.h"

/* Wire types. */
enum {
    WT_VARINT = 0,
    WT_I64 = 1,
    WT_LEN = 2,
    WT_SGROUP = 3,
    WT_EGROUP = 4,
    WT_I32 = 5
};

/* Field types, and how each looks in the tree (the proto3 JSON mapping). */
typedef enum sl__ptype {
    PT_STRING,   /* string, zero-copy from the input */
    PT_BYTES,    /* base64 string */
    PT_ID,       /* trace / span id: lower-case hex string (idlen bytes) */
    PT_FIXED64,  /* decimal string */
    PT_SFIXED64, /* decimal string */
    PT_UINT64,   /* varint, decimal string */
    PT_INT64,    /* varint, decimal string */
    PT_UINT32,   /* varint, number */
    PT_INT32,    /* varint, number */
    PT_SINT32,   /* zigzag varint, number */
    PT_FIXED32,  /* number */
    PT_ENUM,     /* varint, number (names accepted on encode) */
    PT_DOUBLE,   /* number; "NaN", "Infinity", "-Infinity" as strings */
    PT_BOOL,
    PT_MSG,
    PT_FLOAT /* fixed32 IEEE float: number */
} sl__ptype;

enum {
    PF_REPEATED = 1,
    PF_PRESENCE = 2, /* oneof member or proto3 optional: a default value is
                        still a value */
    PF_LIST = 4,     /* an entry's list of entries or records: the OTLP/JSON
                        validator leaves its elements to the indexer */
    PF_LOOSE = 8     /* OTLP/JSON accepts any value (not read by sluice) */
};

/* Slots of resource and scope entries (sl__pfield.slot): the entry's own,
 * then from SL__ES_SUB on its resource's (SL__RS_*) or scope's (SL__SC_*). */
enum {
    SL__ES_INNER = 0,
    SL__ES_SCHEMA = 1,
    SL__ES_LIST = 2,
    SL__ES_SUB = 3,
    SL__RS_ATTRS = 0,
    SL__SC_NAME = 0,
    SL__SC_VERSION = 1,
    SL__SC_ATTRS = 2,
    SL__ES_NSLOTS = SL__ES_SUB + 3
};

/* Enum tables for names on encode (PT_ENUM's aux). */
enum {
    PE_SEVERITY = 0,
    PE_SPAN_KIND = 1,
    PE_STATUS = 2,
    PE_TEMPORALITY = 3
};

typedef struct sl__pmsg sl__pmsg;

typedef struct sl__pfield {
    const char *camel, *snake;
    uint8_t clen, slen;
    uint8_t num;   /* field number (all OTLP numbers are < 128) */
    uint8_t type;  /* sl__ptype */
    uint8_t flags; /* PF_* */
    uint8_t aux;   /* PT_ID: byte length; PT_ENUM: PE_*; oneof group */
    uint8_t wt;    /* the wire type its values use (WT_LEN for messages,
                      strings, bytes and packed repeated scalars) */
    const sl__pmsg *sub;
    int8_t slot;   /* where an index keeps its value (a record slot, an
                      SL__ES_* entry slot), or -1 */
    uint8_t inner; /* a message whose own fields are kept too, from this
                      slot on (an entry's resource / scope), or 0 */
} sl__pfield;

/* A type's wire type, as a constant expression for the tables. */
#define SL__PT_WIRE(t)                                                    \
    ((t) == PT_FIXED64 || (t) == PT_SFIXED64 || (t) == PT_DOUBLE ? WT_I64 \
     : (t) == PT_FIXED32 || (t) == PT_FLOAT                      ? WT_I32 \
     : ((t) >= PT_UINT64 && (t) <= PT_SINT32) || (t) == PT_ENUM ||        \
             (t) == PT_BOOL                                               \
         ? WT_VARINT                                                      \
         : WT_LEN)

struct sl__pmsg {
    const char *name;
    const sl__pfield *f;
    uint8_t n;
    uint8_t slots; /* most members a message can have: its fields, a oneof
                      counting once (the decoder sizes objects with it) */
};

/* Table entries: a field (camel name, snake name, number, type, PF_*
 * flags, aux, sub-message, then the index slot and inner-slot start), the
 * same without index slots, a message, a message with a oneof (its most
 * members at once in slots). */
#define SL__PFIELDX(c, s, num, t, fl, aux, sub, slot, inner)                 \
    {                                                                        \
        c, s, sizeof(c) - 1, sizeof(s) - 1, num, t, fl, aux, SL__PT_WIRE(t), \
            sub, slot, inner                                                 \
    }
#define SL__PFIELD(c, s, num, t, fl, aux, sub) \
    SL__PFIELDX(c, s, num, t, fl, aux, sub, -1, 0)
#define SL__PMSG(name, arr) \
    { name, arr, (uint8_t)SL_ARRAY_LEN(arr), (uint8_t)SL_ARRAY_LEN(arr) }
#define SL__PMSG_ONEOF(name, arr, slots) \
    { name, arr, (uint8_t)SL_ARRAY_LEN(arr), slots }

/* AnyValue and KeyValue (common.proto): the OTLP/JSON validator checks
 * these two by hand (they are most of a request); the sync messages use
 * KeyValue too. */
extern const sl__pmsg sl__proto_any_msg, sl__proto_kv_msg;

/* Decode protobuf message m (len bytes of buf, borrowed: strings point
 * into it while doc lives) into doc as its proto3 JSON mapping (the tree
 * sl_otlp_load_proto builds; unknown fields are skipped). Errors name the
 * field path and the byte offset, as for OTLP.
 * @return SL_OK, SL_EPARSE, SL_ESCHEMA, SL_ELIMIT, SL_ENOMEM. */
sl_status sl__proto_decode(sl_doc *doc, const sl__pmsg *m, const char *buf,
                           size_t len, const char *file, sl_error *err);

/* Append object n (proto3 JSON mapping: either key spelling, enums as
 * numbers or the names load.c knows, 64-bit integers as strings or
 * numbers) as protobuf message m to out; members m does not know are left
 * out. @return SL_OK, SL_ESCHEMA (a value of the wrong type), SL_ELIMIT,
 * SL_ENOMEM. */
sl_status sl__proto_encode(const sl__pmsg *m, const sl_node *n, sl_buf *out,
                           sl_error *err);

/* The request message of a signal (Export*ServiceRequest; the *Data
 * messages have the same shape), its resource entry, scope entry and
 * record messages. */
const sl__pmsg *sl__proto_request(sl_signal sig);
const sl__pmsg *sl__proto_resource_entry(sl_signal sig);
const sl__pmsg *sl__proto_scope_entry(sl_signal sig);
const sl__pmsg *sl__proto_record(sl_signal sig);

/* The field numbered num, or NULL (unknown). */
const sl__pfield *sl__proto_field_num(const sl__pmsg *m, uint32_t num);

/* The field a tree key names (camel or snake), or NULL. */
const sl__pfield *sl__proto_field_key(const sl__pmsg *m, sl_str key);

/* The wire type a field's values use. */
static inline int sl__proto_wire_type(const sl__pfield *f) {
    return f->wt;
}

/* Read a varint at *p (< end): advances *p; false when truncated or longer
 * than 10 bytes. */
static inline bool sl__proto_varint(const uint8_t **p, const uint8_t *end,
                                    uint64_t *out) {
    const uint8_t *q = *p;
    if (q < end && *q < 0x80) { /* one byte: most tags and lengths */
        *out = *q;
        *p = q + 1;
        return true;
    }
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 70 && q < end; shift += 7) {
        uint8_t b = *q++;
        if (shift == 63 && b > 1) {
            return false; /* more than 64 bits */
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *p = q;
            *out = v;
            return true;
        }
    }
    return false;
}

/* Skip one field's value of wire type wt at *p (groups are not accepted);
 * false when it does not fit before end. */
bool sl__proto_skip(const uint8_t **p, const uint8_t *end, int wt);

#endif

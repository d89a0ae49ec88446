/* src/doc/view.h: the node layout, and unchecked read-only views of it
 * for hot walks outside src/doc (the OTLP validation walk in
 * src/otlp/load.c), where the public accessors' checks (NULL, kind,
 * bounds) on every call cost more than the walk's own work. Included by
 * src/doc/private.h; other modules include it only for such walks and
 * only read through the functions below (the fields stay src/doc's).
 *
 * Nothing here checks anything: the caller has already checked the kind
 * of the node it passes. Everything else goes through <sluice/doc.h>. */
#ifndef SL_DOC_VIEW_H
#define SL_DOC_VIEW_H

#include <sluice/doc.h>

#include <stdint.h>

typedef struct sl__member sl__member;

/* The values of sl_node's off and flags fields. */
enum {
    SL__NO_OFF = UINT32_MAX, /* node made after loading: no position */
    SL__NF_TOML_SPECIAL = 1, /* TOML/YAML float inf/nan ("inf", "-.nan") */
    SL__NF_JSON_LEXEME = 2,  /* number lexeme known to be valid JSON (set by
                                the JSON reader; the writer skips checks) */
    SL__NF_COMPACT = 4,      /* container read from JSON with no whitespace
                                between its tokens */
    SL__NF_CHANGED = 8,      /* changed since loading (set by every
                                sl_node_set_* / append / remove / copy) */
    SL__NF_PLAIN = 16        /* a string (or key) whose bytes are their own
                                JSON text: ASCII, no '"', '\\' or control
                                byte (set by a codec that checked; cleared
                                by every change, which re-initialises) */
};

struct sl_node {
    uint8_t kind;  /* sl_node_kind */
    uint8_t flags; /* SL__NF_* */
    uint16_t reserved;
    uint32_t off; /* byte offset in doc->text, or SL__NO_OFF */
    uint32_t len; /* scalar: bytes of u.s; container: count */
    uint32_t aux; /* string: bytes of raw; container: capacity */
    union {
        const char *s;       /* scalar text (decoded string, lexeme) */
        sl_node *items;      /* array elements */
        sl__member *members; /* object members */
    } u;
    /* A string: its JSON text as written between the quotes (escapes not
     * decoded), so an unchanged string is written back byte for byte. A
     * container read from JSON: one past its closing bracket in the source
     * text (it starts at off). NULL when set after loading or read from
     * TOML/YAML. */
    const char *raw;
};

struct sl__member {
    sl_node key; /* a string node: its text, raw text and position */
    sl_node val;
};

/* The members of object obj (its kind checked by the caller): the array
 * and its length in *n. */
static inline sl__member *sl__doc_members(const sl_node *obj, size_t *n) {
    *n = obj->len;
    return obj->u.members;
}

/* The elements of array arr (its kind checked by the caller). */
static inline sl_node *sl__doc_items(const sl_node *arr, size_t *n) {
    *n = arr->len;
    return arr->u.items;
}

/* The kind of node n (not NULL). */
static inline sl_node_kind sl__doc_kind(const sl_node *n) {
    return (sl_node_kind)n->kind;
}

/* The text of scalar n (not NULL, not a container): sl_node_str's. */
static inline sl_str sl__doc_str(const sl_node *n) {
    return (sl_str){n->u.s ? n->u.s : "", n->len};
}

/* Whether node n itself (not what is below it) changed since it was
 * read: every change marks the node it changes (a container for a member
 * added, removed or renamed), so a walk that checks each node it reaches
 * knows whether that node's source text still stands for it. */
static inline bool sl__doc_self_changed(const sl_node *n) {
    return (n->flags & SL__NF_CHANGED) != 0;
}

/* Member m's key text (sl_node_key's) and value node. */
static inline sl_str sl__member_key(const sl__member *m) {
    return sl__doc_str(&m->key);
}

static inline sl_node *sl__member_val(sl__member *m) {
    return &m->val;
}

#endif

/* src/match/littrie.c: exact, prefix and suffix patterns, matched with byte
 * tries instead of Vectorscan. Leaves out contains, regex and glob, which
 * Vectorscan does well.
 *
 * The one idea: Vectorscan's compile time grows about quadratically with
 * the number of anchored literals (measured on 5.4.9: 1,000 `^lit` take
 * 2 s, 5,000 take 27 s), while thousands of exact matchers are the common
 * policy. A trie keeps the promise that matters, a cost per value that
 * depends on its length and not on the number of patterns, and builds in
 * linear time. Four roots share one node pool and one edge hash table:
 * forward (exact, prefix) and reversed (suffix), each case-sensitive and
 * ASCII-caseless (keys and input lowered). */
#include <sluice/match.h>

#include "base/base.h"
#include "match/private.h"

enum {
    ROOT_FWD = 0,
    ROOT_FWD_CI = 1,
    ROOT_REV = 2,
    ROOT_REV_CI = 3
};

#define NONE UINT32_MAX

typedef struct term {
    uint32_t pat;  /* index in the caller's pattern array */
    uint32_t next; /* next term of the same node and list, or NONE */
} term;

typedef struct node {
    uint32_t exact;  /* terms: the whole value ends here */
    uint32_t prefix; /* terms: prefix or suffix patterns ending here */
    uint32_t only;   /* the child when there is exactly one, else NONE */
    uint16_t nkids;  /* children, capped at 2 (only 0, 1, many matter) */
    uint8_t only_byte;
} node;

typedef struct edge {
    uint64_t key; /* (parent + 1) << 8 | byte; 0 = empty slot */
    uint32_t child;
} edge;

struct sl__lit {
    node *nodes;
    size_t nnodes, capnodes;
    term *terms;
    size_t nterms, capterms;
    edge *edges;
    size_t nedges, capedges; /* capedges a power of two */
    bool used[4];            /* a root has any term */
};

static uint64_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

static unsigned char lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static uint32_t child_of(const sl__lit *t, uint32_t parent, unsigned char b) {
    const node *pn = &t->nodes[parent];
    if (pn->nkids < 2) {
        return pn->nkids == 1 && pn->only_byte == b ? pn->only : NONE;
    }
    uint64_t key = ((uint64_t)parent + 1) << 8 | b;
    size_t mask = t->capedges - 1;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
        if (t->edges[i].key == key) {
            return t->edges[i].child;
        }
        if (t->edges[i].key == 0) {
            return NONE;
        }
    }
}

static sl_status grow_edges(sl__lit *t) {
    size_t cap = t->capedges ? t->capedges * 2 : 256;
    edge *e = sl__calloc(cap, sizeof(*e));
    if (!e) {
        return SL_ENOMEM;
    }
    for (size_t i = 0; i < t->capedges; i++) {
        if (t->edges[i].key) {
            size_t j = mix(t->edges[i].key) & (cap - 1);
            while (e[j].key) {
                j = (j + 1) & (cap - 1);
            }
            e[j] = t->edges[i];
        }
    }
    sl__free(t->edges, t->capedges * sizeof(*t->edges));
    t->edges = e;
    t->capedges = cap;
    return SL_OK;
}

static sl_status new_node(sl__lit *t, uint32_t *out) {
    if (t->nnodes == t->capnodes) {
        size_t cap = t->capnodes ? t->capnodes * 2 : 64;
        if (cap > UINT32_MAX / 2) {
            return SL_ELIMIT;
        }
        node *n =
            sl__realloc(t->nodes, t->capnodes * sizeof(*n), cap * sizeof(*n));
        if (!n) {
            return SL_ENOMEM;
        }
        t->nodes = n;
        t->capnodes = cap;
    }
    t->nodes[t->nnodes] = (node){NONE, NONE, NONE, 0, 0};
    *out = (uint32_t)t->nnodes++;
    return SL_OK;
}

static sl_status child_add(sl__lit *t, uint32_t parent, unsigned char b,
                           uint32_t *out) {
    uint32_t c = child_of(t, parent, b);
    if (c != NONE) {
        *out = c;
        return SL_OK;
    }
    if ((t->nedges + 1) * 2 > t->capedges) {
        sl_status rc = grow_edges(t);
        if (rc != SL_OK) {
            return rc;
        }
    }
    sl_status rc = new_node(t, &c);
    if (rc != SL_OK) {
        return rc;
    }
    uint64_t key = ((uint64_t)parent + 1) << 8 | b;
    size_t mask = t->capedges - 1;
    size_t i = mix(key) & mask;
    while (t->edges[i].key) {
        i = (i + 1) & mask;
    }
    t->edges[i] = (edge){key, c};
    t->nedges++;
    /* most of a long literal is a chain of single children: those are
     * followed with one compare instead of a hash probe */
    node *pn = &t->nodes[parent];
    if (pn->nkids == 0) {
        pn->only = c;
        pn->only_byte = b;
        pn->nkids = 1;
    } else {
        pn->only = NONE;
        pn->nkids = 2;
    }
    *out = c;
    return SL_OK;
}

static sl_status add_term(sl__lit *t, uint32_t *head, uint32_t pat) {
    if (t->nterms == t->capterms) {
        size_t cap = t->capterms ? t->capterms * 2 : 64;
        term *v =
            sl__realloc(t->terms, t->capterms * sizeof(*v), cap * sizeof(*v));
        if (!v) {
            return SL_ENOMEM;
        }
        t->terms = v;
        t->capterms = cap;
    }
    t->terms[t->nterms] = (term){pat, *head};
    *head = (uint32_t)t->nterms++;
    return SL_OK;
}

bool sl__lit_handles(const sl_pat *p) {
    return p->kind == SL_PAT_EXACT || p->kind == SL_PAT_PREFIX ||
           p->kind == SL_PAT_SUFFIX;
}

static sl_status insert(sl__lit *t, const sl_pat *p, uint32_t index) {
    bool ci = (p->flags & SL_PAT_CASELESS) != 0;
    bool rev = p->kind == SL_PAT_SUFFIX;
    uint32_t root =
        rev ? (ci ? ROOT_REV_CI : ROOT_REV) : (ci ? ROOT_FWD_CI : ROOT_FWD);
    t->used[root] = true;
    const unsigned char *s = (const unsigned char *)p->text;
    uint32_t cur = root;
    for (size_t i = 0; i < p->len; i++) {
        unsigned char b = rev ? s[p->len - 1 - i] : s[i];
        sl_status rc = child_add(t, cur, ci ? lower(b) : b, &cur);
        if (rc != SL_OK) {
            return rc;
        }
    }
    node *nd = &t->nodes[cur];
    return add_term(t, p->kind == SL_PAT_EXACT ? &nd->exact : &nd->prefix,
                    index);
}

void sl__lit_free(sl__lit *t) {
    if (!t) {
        return;
    }
    sl__free(t->nodes, t->capnodes * sizeof(*t->nodes));
    sl__free(t->terms, t->capterms * sizeof(*t->terms));
    sl__free(t->edges, t->capedges * sizeof(*t->edges));
    sl__free(t, sizeof(*t));
}

sl_status sl__lit_build(const sl_pat *pats, size_t n, sl__lit **out) {
    sl__lit *t = sl__calloc(1, sizeof(*t));
    if (!t) {
        return SL_ENOMEM;
    }
    sl_status rc = grow_edges(t);
    for (uint32_t r = 0; r < 4 && rc == SL_OK; r++) {
        uint32_t id;
        rc = new_node(t, &id);
    }
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        if (sl__lit_handles(&pats[i])) {
            rc = insert(t, &pats[i], (uint32_t)i);
        }
    }
    if (rc != SL_OK) {
        sl__lit_free(t);
        return rc;
    }
    *out = t;
    return SL_OK;
}

bool sl__lit_empty(const sl__lit *t) {
    return !t || !(t->used[0] || t->used[1] || t->used[2] || t->used[3]);
}

/* Report the terms of list head; stop (return non-zero) when fn does. */
static int report(const sl__lit *t, uint32_t head, size_t from, size_t to,
                  sl__lit_fn fn, void *ctx) {
    for (uint32_t i = head; i != NONE; i = t->terms[i].next) {
        int r = fn(t->terms[i].pat, from, to, ctx);
        if (r) {
            return r;
        }
    }
    return 0;
}

static int walk_fwd(const sl__lit *t, uint32_t root, bool ci,
                    const unsigned char *s, size_t len, sl__lit_fn fn,
                    void *ctx) {
    uint32_t cur = root;
    int r = report(t, t->nodes[cur].prefix, 0, 0, fn, ctx);
    if (!r && len == 0) {
        r = report(t, t->nodes[cur].exact, 0, 0, fn, ctx);
    }
    for (size_t i = 0; i < len && !r; i++) {
        cur = child_of(t, cur, ci ? lower(s[i]) : s[i]);
        if (cur == NONE) {
            break;
        }
        r = report(t, t->nodes[cur].prefix, 0, i + 1, fn, ctx);
        if (!r && i + 1 == len) {
            r = report(t, t->nodes[cur].exact, 0, len, fn, ctx);
        }
    }
    return r;
}

static int walk_rev(const sl__lit *t, uint32_t root, bool ci,
                    const unsigned char *s, size_t len, sl__lit_fn fn,
                    void *ctx) {
    uint32_t cur = root;
    int r = report(t, t->nodes[cur].prefix, len, len, fn, ctx);
    for (size_t i = len; i > 0 && !r; i--) {
        cur = child_of(t, cur, ci ? lower(s[i - 1]) : s[i - 1]);
        if (cur == NONE) {
            break;
        }
        r = report(t, t->nodes[cur].prefix, i - 1, len, fn, ctx);
    }
    return r;
}

int sl__lit_scan(const sl__lit *t, const char *s, size_t len, sl__lit_fn fn,
                 void *ctx) {
    const unsigned char *u = (const unsigned char *)s;
    int r = 0;
    if (t->used[ROOT_FWD]) {
        r = walk_fwd(t, ROOT_FWD, false, u, len, fn, ctx);
    }
    if (!r && t->used[ROOT_FWD_CI]) {
        r = walk_fwd(t, ROOT_FWD_CI, true, u, len, fn, ctx);
    }
    if (!r && t->used[ROOT_REV]) {
        r = walk_rev(t, ROOT_REV, false, u, len, fn, ctx);
    }
    if (!r && t->used[ROOT_REV_CI]) {
        r = walk_rev(t, ROOT_REV_CI, true, u, len, fn, ctx);
    }
    return r;
}

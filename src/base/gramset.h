/* src/base/gramset.h: a set of short byte strings ("grams", 1 to 4 bytes),
 * blind to ASCII case, built for fast misses. Leaves out what the grams
 * stand for: callers use a set as a cheap necessary condition in front of
 * costlier matching (pattern-set prefilters, the policy literal tables).
 *
 * The one idea: a lookup first tests one bit indexed directly by the
 * gram's first two bytes (its first byte for 1-byte grams): no hash, one
 * load, and most grams of real text miss there. Only a hit hashes the
 * whole gram into an open-addressing table of the keys for an exact
 * answer. A key clears bit 0x20 of every byte, so a letter and its other
 * case share a key (bytes that differ only in that bit collide too, which
 * makes a "present" mean "maybe": callers verify). */
#ifndef SL_BASE_GRAMSET_H
#define SL_BASE_GRAMSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum {
    SL_GRAM_MAX = 4,         /* bytes of the longest gram */
    SL_GRAM_BITS = 1u << 16, /* bits of the first-two-bytes array */
    SL_GRAM_WORDS = SL_GRAM_BITS / 64
};

typedef struct sl__gramset {
    uint64_t *bits; /* SL_GRAM_WORDS words, borrowed; NULL = unused set */
    uint32_t *keys; /* kmask + 1 slots of keys, SL_GRAM_NONE = empty */
    uint32_t kmask;
    uint32_t q; /* gram length, 1..SL_GRAM_MAX: every gram of a set */
} sl__gramset;

/* An empty key slot: every key has bit 0x20 of its first byte clear. */
#define SL_GRAM_NONE 0xFFFFFFFFu

/* Key slots for n grams (a power of two, at most half full). */
size_t sl__gramset_slots(size_t n);

/* Point g at caller memory for n grams of q bytes: bits (SL_GRAM_WORDS
 * words) and keys (sl__gramset_slots(n) slots), and clear it. */
void sl__gramset_init(sl__gramset *g, size_t n, unsigned q, uint64_t *bits,
                      uint32_t *keys);

/* Add the gram at s (g->q bytes). */
void sl__gramset_add(sl__gramset *g, const unsigned char *s);

/* The key of the q bytes at s (1 <= q <= SL_GRAM_MAX). */
static inline uint32_t sl__gram_key(const unsigned char *s, unsigned q) {
    uint32_t k = 0;
    if (q >= 4) {
        memcpy(&k, s, 4); /* host order: every table is process-local */
    } else {
        for (unsigned i = 0; i < q; i++) {
            k |= (uint32_t)s[i] << (8 * i);
        }
    }
    return k & 0xDFDFDFDFu;
}

/* The direct bit of the gram at s: its first two bytes (one for q == 1),
 * folded as the key. */
static inline uint32_t sl__gram_bit(const unsigned char *s, unsigned q) {
    if (q == 1) {
        return s[0] & 0xDFu;
    }
    uint16_t b;
    memcpy(&b, s, 2);
    return b & 0xDFDFu;
}

static inline uint32_t sl__gram_slot(const sl__gramset *g, uint32_t key) {
    return (uint32_t)(((uint64_t)key * 0x9e3779b97f4a7c15ull) >> 40) & g->kmask;
}

/* Whether g holds the key (the bit already tested). */
static inline bool sl__gramset_has_key(const sl__gramset *g, uint32_t key) {
    for (uint32_t i = sl__gram_slot(g, key);; i = (i + 1) & g->kmask) {
        if (g->keys[i] == key) {
            return true;
        }
        if (g->keys[i] == SL_GRAM_NONE) {
            return false;
        }
    }
}

/* Whether the gram at s (q = g->q bytes, the caller checked they exist)
 * is in g. q is a parameter so that callers passing a constant get a
 * specialised body. */
static inline bool sl__gramset_has(const sl__gramset *g, const unsigned char *s,
                                   unsigned q) {
    uint32_t b = sl__gram_bit(s, q);
    if (!((g->bits[b >> 6] >> (b & 63)) & 1u)) {
        return false;
    }
    return q <= 2 || sl__gramset_has_key(g, sl__gram_key(s, q));
}

#endif

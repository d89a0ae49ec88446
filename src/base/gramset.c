/* src/base/gramset.c: sizing and filling of gram sets (gramset.h has the
 * idea and the inline lookup). */
#include "base/gramset.h"

size_t sl__gramset_slots(size_t n) {
    size_t s = 16;
    while (s < n * 2) {
        s *= 2;
    }
    return s;
}

void sl__gramset_init(sl__gramset *g, size_t n, unsigned q, uint64_t *bits,
                      uint32_t *keys) {
    g->bits = bits;
    g->keys = keys;
    g->kmask = (uint32_t)(sl__gramset_slots(n) - 1);
    g->q = q;
    memset(bits, 0, SL_GRAM_WORDS * sizeof(uint64_t));
    memset(keys, 0xff, ((size_t)g->kmask + 1) * sizeof(uint32_t));
}

void sl__gramset_add(sl__gramset *g, const unsigned char *s) {
    uint32_t b = sl__gram_bit(s, g->q);
    g->bits[b >> 6] |= 1ull << (b & 63);
    uint32_t key = sl__gram_key(s, g->q);
    for (uint32_t i = sl__gram_slot(g, key);; i = (i + 1) & g->kmask) {
        if (g->keys[i] == key) {
            return;
        }
        if (g->keys[i] == SL_GRAM_NONE) {
            g->keys[i] = key;
            return;
        }
    }
}

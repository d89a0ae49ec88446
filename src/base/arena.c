/* src/base/arena.c: bump allocation for per-document and per-batch data.
 * Chunks grow geometrically (64 KiB up to 64 MiB) and are freed together;
 * a large request gets a chunk of its own. reset() keeps the first chunk so
 * a batch loop reuses memory instead of calling malloc per record. */
#include <sluice/common.h>

#include "base/base.h"

struct sl_arena_chunk {
    sl_arena_chunk *next;
    size_t size; /* bytes including this header */
};

enum {
    CHUNK_MIN = 64 * 1024,
    CHUNK_MAX = 64 * 1024 * 1024,
    ALIGN = 16
};

void sl__arena_init(sl_arena *a) {
    memset(a, 0, sizeof(*a));
}

static size_t header_size(void) {
    return (sizeof(sl_arena_chunk) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

void *sl__arena_alloc(sl_arena *a, size_t size) {
    size_t need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < size) {
        return NULL;
    }
    if ((size_t)(a->end - a->cur) >= need && a->cur) {
        void *p = a->cur;
        a->cur += need;
        return p;
    }
    size_t last = a->head ? a->head->size : CHUNK_MIN / 2;
    size_t csize = last * 2;
    if (csize > CHUNK_MAX) {
        csize = CHUNK_MAX;
    }
    size_t hdr = header_size();
    if (csize < need + hdr) {
        if (__builtin_add_overflow(need, hdr, &csize)) {
            return NULL;
        }
    }
    size_t limit = a->limit ? a->limit : SL_MAX_ARENA;
    if (a->total + csize > limit) {
        return NULL;
    }
    sl_arena_chunk *c = sl__alloc(csize);
    if (!c) {
        return NULL;
    }
    c->size = csize;
    c->next = a->head;
    a->head = c;
    a->total += csize;
    a->cur = (char *)c + hdr + need;
    a->end = (char *)c + csize;
    return (char *)c + hdr;
}

void *sl__arena_calloc(sl_arena *a, size_t size) {
    void *p = sl__arena_alloc(a, size);
    if (p) {
        memset(p, 0, size);
    }
    return p;
}

char *sl__arena_strndup(sl_arena *a, const char *s, size_t n) {
    char *p = sl__arena_alloc(a, n + 1);
    if (p) {
        if (n) {
            memcpy(p, s, n);
        }
        p[n] = '\0';
    }
    return p;
}

void sl__arena_reset(sl_arena *a) {
    if (!a->head) {
        return;
    }
    /* keep the newest (largest) chunk, free the rest */
    sl_arena_chunk *keep = a->head;
    sl_arena_chunk *c = keep->next;
    while (c) {
        sl_arena_chunk *next = c->next;
        sl__free(c, c->size);
        c = next;
    }
    keep->next = NULL;
    a->total = keep->size;
    a->cur = (char *)keep + header_size();
    a->end = (char *)keep + keep->size;
}

void sl__arena_free(sl_arena *a) {
    sl_arena_chunk *c = a->head;
    while (c) {
        sl_arena_chunk *next = c->next;
        sl__free(c, c->size);
        c = next;
    }
    size_t limit = a->limit;
    sl__arena_init(a);
    a->limit = limit;
}

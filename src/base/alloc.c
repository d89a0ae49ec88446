/* src/base/alloc.c: the allocator hook. Every heap allocation of the library
 * goes through sl__alloc & co, so a host (or an OOM test) can replace it
 * once with sl_set_allocator(). The hook is the only mutable global. */
#include <sluice/common.h>

#include <stdlib.h>

#include "base/alloc_hook.h"
#include "base/base.h"

static void *std_alloc(void *ctx, size_t size) {
    SL_UNUSED(ctx);
    return malloc(size);
}

static void *std_realloc(void *ctx, void *p, size_t old_size, size_t size) {
    SL_UNUSED(ctx);
    SL_UNUSED(old_size);
    return realloc(p, size);
}

static void std_free(void *ctx, void *p, size_t size) {
    SL_UNUSED(ctx);
    SL_UNUSED(size);
    free(p);
}

static const sl_allocator std_allocator = {std_alloc, std_realloc, std_free,
                                           NULL};
static sl_allocator hook = {std_alloc, std_realloc, std_free, NULL};

void sl_set_allocator(const sl_allocator *a) {
    hook = a ? *a : std_allocator;
}

void sl__alloc_hook(sl_allocator *out) {
    *out = hook;
}

void *sl__alloc(size_t size) {
    return hook.alloc(hook.ctx, size ? size : 1);
}

void *sl__calloc(size_t n, size_t size) {
    size_t total = 0;
    if (__builtin_mul_overflow(n, size, &total)) {
        return NULL;
    }
    void *p = sl__alloc(total);
    if (p) {
        memset(p, 0, total ? total : 1);
    }
    return p;
}

void *sl__realloc(void *p, size_t old_size, size_t new_size) {
    if (!p) {
        return sl__alloc(new_size);
    }
    return hook.realloc(hook.ctx, p, old_size, new_size ? new_size : 1);
}

void sl__free(void *p, size_t size) {
    if (p) {
        hook.free(hook.ctx, p, size);
    }
}

char *sl__strndup(const char *s, size_t n) {
    char *p = sl__alloc(n + 1);
    if (p) {
        if (n) {
            memcpy(p, s, n);
        }
        p[n] = '\0';
    }
    return p;
}

uint32_t sl_version(void) {
    return SL_VERSION_HEX;
}

/* tests/otlp/oom.h: an allocator that fails the fail_at-th allocation
 * (counting in n_allocs), for the otlp OOM tests (test_otlp.c,
 * test_lazy.c): fail N = 1, 2, ... until the work succeeds. */
#ifndef SL_TESTS_OTLP_OOM_H
#define SL_TESTS_OTLP_OOM_H

#include <stdlib.h>

static long fail_at;
static long n_allocs;

static void *t_alloc(void *ctx, size_t n) {
    (void)ctx;
    if (++n_allocs == fail_at) {
        return NULL;
    }
    return malloc(n);
}

static void *t_realloc(void *ctx, void *p, size_t old, size_t n) {
    (void)ctx;
    (void)old;
    if (++n_allocs == fail_at) {
        return NULL;
    }
    return realloc(p, n);
}

static void t_free(void *ctx, void *p, size_t n) {
    (void)ctx;
    (void)n;
    free(p);
}

#endif

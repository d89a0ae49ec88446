/* src/store/sqlite_mem.c: the bridge from SQLite's allocator
 * (sqlite3_mem_methods) to sluice's allocator hook, so SQLite's memory is
 * the host's and an OOM test can fail SQLite's allocations too. Owns the
 * block header; leaves SQLite's page cache and lookaside policy alone.
 *
 * The one idea: sl_set_allocator() may replace the hook at any time (OOM
 * tests swap it in and out around each attempt), while SQLite keeps blocks
 * for as long as a connection lives, and the process-global configuration
 * can be set only once. So the bridge never captures a hook: each xMalloc
 * asks for the hook in force at that moment, and the block's header keeps a
 * copy of the allocator that made it, so xFree and xRealloc hand the block
 * back to its maker even after the hook changed (a counting or arena
 * allocator sees every block it made come back to it; its ctx must outlive
 * those blocks). The header also keeps the size SQLite asked for (xSize)
 * and is a multiple of 16 bytes, so the payload keeps malloc's 16-byte
 * alignment. */
#include "store/sqlite_mem.h"

#include <pthread.h>
#include <string.h>

#include <sqlite3.h>

#include "base/alloc_hook.h"
#include "base/base.h"

typedef struct hdr {
    sl_allocator maker; /* the hook in force when the block was made */
    size_t size;        /* bytes SQLite asked for */
} hdr;

enum {
    HDR_ALIGN = 16,
    HDR_SIZE = (sizeof(hdr) + HDR_ALIGN - 1) / HDR_ALIGN * HDR_ALIGN
};

static hdr *hdr_of(void *p) {
    return (hdr *)(void *)((char *)p - HDR_SIZE);
}

static void *bridge_malloc(int n) {
    if (n <= 0) {
        return NULL;
    }
    size_t total = 0;
    if (__builtin_add_overflow((size_t)n, (size_t)HDR_SIZE, &total)) {
        return NULL;
    }
    sl_allocator a;
    sl__alloc_hook(&a);
    char *base = a.alloc(a.ctx, total);
    if (!base) {
        return NULL;
    }
    hdr *h = (hdr *)(void *)base;
    h->maker = a;
    h->size = (size_t)n;
    return base + HDR_SIZE;
}

static void bridge_free(void *p) {
    if (!p) {
        return;
    }
    hdr *h = hdr_of(p);
    sl_allocator maker = h->maker;
    maker.free(maker.ctx, h, h->size + HDR_SIZE);
}

static bool same_allocator(const sl_allocator *a, const sl_allocator *b) {
    return a->alloc == b->alloc && a->realloc == b->realloc &&
           a->free == b->free && a->ctx == b->ctx;
}

static void *bridge_realloc(void *p, int n) {
    if (!p) {
        return bridge_malloc(n);
    }
    if (n <= 0) {
        return NULL; /* SQLite never asks; the old block stays valid */
    }
    hdr *h = hdr_of(p);
    sl_allocator now;
    sl__alloc_hook(&now);
    if (same_allocator(&now, &h->maker)) {
        size_t total = 0;
        if (__builtin_add_overflow((size_t)n, (size_t)HDR_SIZE, &total)) {
            return NULL;
        }
        hdr *nh = now.realloc(now.ctx, h, h->size + HDR_SIZE, total);
        if (!nh) {
            return NULL; /* the old block is untouched, as SQLite expects */
        }
        nh->size = (size_t)n;
        return (char *)nh + HDR_SIZE;
    }
    /* the hook changed since the block was made: move it to the new one */
    char *q = bridge_malloc(n);
    if (!q) {
        return NULL;
    }
    memcpy(q, p, h->size < (size_t)n ? h->size : (size_t)n);
    bridge_free(p);
    return q;
}

static int bridge_size(void *p) {
    return p ? (int)hdr_of(p)->size : 0;
}

static int bridge_roundup(int n) {
    return n > INT32_MAX - 7 ? n : (n + 7) & ~7;
}

static int bridge_init(void *app) {
    SL_UNUSED(app);
    return SQLITE_OK;
}

static void bridge_shutdown(void *app) {
    SL_UNUSED(app);
}

static const sqlite3_mem_methods bridge = {
    bridge_malloc,  bridge_free, bridge_realloc,  bridge_size,
    bridge_roundup, bridge_init, bridge_shutdown, NULL};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void setup_once(void) {
    /* SQLITE_MISUSE: SQLite is already initialised (the application set it
     * up, perhaps with its own allocator, and called sqlite3_initialize()
     * first). SQLite then keeps what it has: not an error. (Before
     * initialisation SQLite cannot tell "configured" from "default":
     * SQLITE_CONFIG_GETMALLOC fills in the default first.) */
    int rc = sqlite3_config(SQLITE_CONFIG_MALLOC, &bridge);
    SL_UNUSED(rc);
}

void sl__store_sqlite_mem_setup(void) {
    pthread_once(&once, setup_once);
}

/* src/cli/input_map.c: input files mapped in place, with the SIGBUS
 * guard, warmed ahead of their readers and released behind them (see
 * input_map.h).
 *
 * The handler only reads the slot table and calls mmap(2), which is a
 * plain system call: nothing in it takes a lock or allocates. A slot is
 * published (len, then base) before the map is read and withdrawn after
 * the last reader is done, so the handler never sees a half-made slot.
 * The warming thread reads the map too, so it keeps SIGBUS deliverable:
 * a synchronous signal that is blocked kills the process instead. */
#define _GNU_SOURCE
#include "cli/input_map.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14; older kernels say EINVAL */
#endif

enum {
    SLOTS = 8,
    WARM_SLICE = 2 << 20 /* bytes warmed between two looks at stop */
};

typedef struct slot {
    atomic_uintptr_t base; /* 0: free */
    atomic_size_t len;
    atomic_bool busy; /* claimed by a map (base may still be 0) */
    atomic_bool cut;  /* a page went missing under the reader */
} slot;

static slot slots[SLOTS];
static atomic_bool installed;

static void on_sigbus(int sig, siginfo_t *info, void *uctx) {
    (void)uctx;
    int saved = errno;
    uintptr_t a = (uintptr_t)info->si_addr;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    /* si_code > 0: a fault of this thread's, not a signal someone sent */
    for (int i = 0; info->si_code > 0 && i < SLOTS; i++) {
        uintptr_t b = atomic_load(&slots[i].base);
        size_t n = atomic_load(&slots[i].len);
        if (b == 0 || a < b || a - b >= n) {
            continue;
        }
        void *at = (void *)(a & ~(page - 1));
        if (mmap(at, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                 -1, 0) != MAP_FAILED) {
            atomic_store(&slots[i].cut, true);
            errno = saved;
            return; /* the read is retried and finds zeros */
        }
        break;
    }
    /* not ours (or no page to put there): the default action, delivered
     * on return (the signal is blocked while this handler runs) */
    struct sigaction dfl = {0};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig);
    errno = saved;
}

static bool install(void) {
    if (atomic_load(&installed)) {
        return true;
    }
    struct sigaction sa = {0};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, NULL) != 0) {
        return false;
    }
    atomic_store(&installed, true);
    return true;
}

bool sl_cli_map_open(sl_cli_map *m, int fd) {
    m->ptr = NULL;
    m->len = 0;
    m->slot = -1;
    m->fd = -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (uint64_t)st.st_size > SL_CLI_MAP_MAX || !install()) {
        return false;
    }
    int s = -1;
    for (int i = 0; i < SLOTS && s < 0; i++) {
        bool expect = false;
        if (atomic_compare_exchange_strong(&slots[i].busy, &expect, true)) {
            s = i;
        }
    }
    if (s < 0) {
        return false;
    }
    size_t len = (size_t)st.st_size;
    void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        atomic_store(&slots[s].busy, false);
        return false;
    }
    (void)madvise(p, len, MADV_SEQUENTIAL);
    atomic_store(&slots[s].cut, false);
    atomic_store(&slots[s].len, len);
    atomic_store(&slots[s].base, (uintptr_t)p);
    m->ptr = p;
    m->len = len;
    m->slot = s;
    m->fd = fd;
    return true;
}

bool sl_cli_map_truncated(const sl_cli_map *m) {
    if (!m->ptr) {
        return false;
    }
    if (atomic_load(&slots[m->slot].cut)) {
        return true;
    }
    struct stat st;
    return fstat(m->fd, &st) == 0 && (uint64_t)st.st_size < m->len;
}

void sl_cli_map_close(sl_cli_map *m) {
    if (!m->ptr) {
        return;
    }
    atomic_store(&slots[m->slot].base, 0);
    munmap((void *)m->ptr, m->len);
    atomic_store(&slots[m->slot].len, 0);
    atomic_store(&slots[m->slot].busy, false);
    close(m->fd);
    m->ptr = NULL;
    m->len = 0;
    m->slot = -1;
    m->fd = -1;
}

struct sl_cli_warm {
    const sl_cli_map *m;
    pthread_t thread;
    atomic_bool stop;
    atomic_size_t done;
};

/* A read per page: what a reader would do, for kernels without
 * MADV_POPULATE_READ (a page past a shrunken end takes the guard). */
static void touch(const char *p, size_t n, size_t page) {
    for (size_t i = 0; i < n; i += page) {
        (void)*(const volatile char *)(p + i);
    }
}

static void *warm_run(void *arg) {
    sl_cli_warm *w = arg;
    const sl_cli_map *m = w->m;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    bool populate = true;
    size_t off = 0;
    while (off < m->len && !atomic_load(&w->stop)) {
        size_t n = m->len - off < WARM_SLICE ? m->len - off : WARM_SLICE;
        if (populate &&
            madvise((void *)(m->ptr + off), n, MADV_POPULATE_READ) != 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EINVAL) {
                break; /* e.g. EFAULT: the file shrank; readers will see */
            }
            populate = false;
        }
        if (!populate) {
            touch(m->ptr + off, n, page);
        }
        off += n;
        atomic_store(&w->done, off);
    }
    return NULL;
}

sl_cli_warm *sl_cli_map_warm_start(const sl_cli_map *m) {
    if (!m->ptr) {
        return NULL;
    }
    sl_cli_warm *w = sl__calloc(1, sizeof(*w));
    if (!w) {
        return NULL; /* benign: the readers fault the pages in themselves */
    }
    w->m = m;
    atomic_init(&w->stop, false);
    atomic_init(&w->done, 0);
    /* the process's handlers (SIGHUP, SIGINT) stay on the caller's
     * thread; the faults' own signals stay deliverable (see the top) */
    sigset_t mask, old;
    sigfillset(&mask);
    sigdelset(&mask, SIGBUS);
    sigdelset(&mask, SIGSEGV);
    pthread_sigmask(SIG_SETMASK, &mask, &old);
    int rc = pthread_create(&w->thread, NULL, warm_run, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        sl__free(w, sizeof(*w));
        return NULL;
    }
    return w;
}

size_t sl_cli_map_warm_stop(sl_cli_warm *w) {
    if (!w) {
        return 0;
    }
    atomic_store(&w->stop, true);
    pthread_join(w->thread, NULL);
    size_t done = atomic_load(&w->done);
    sl__free(w, sizeof(*w));
    return done;
}

void sl_cli_map_release(const sl_cli_map *m, const char *p, size_t len) {
    if (!m->ptr || p < m->ptr || len > m->len ||
        (size_t)(p - m->ptr) > m->len - len) {
        return;
    }
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t from = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t to = ((uintptr_t)p + len) & ~(page - 1);
    if (to > from) {
        /* a hint: when it fails, munmap does the work at the end */
        (void)madvise((void *)from, to - from, MADV_DONTNEED);
    }
}

void sl_cli_map_truncation_error(sl_error *err, const char *name) {
    memset(err, 0, sizeof(*err));
    err->code = SL_EIO;
    snprintf(err->file, sizeof(err->file), "%s", name);
    snprintf(err->msg, sizeof(err->msg),
             "the file was truncated while it was read");
}

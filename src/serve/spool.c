/* src/serve/spool.c: the on-disk export queue (see spool.h). Segments are
 * DIR/seg-<20-digit seq>.q; the writer always appends to the newest, the
 * reader walks from the oldest. A new process never appends to an old
 * segment: it scans them (replay), truncates a torn tail, and starts a new
 * one, so a write of this process never follows bytes it did not check. */
#include "serve/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "serve/log.h"

/* ---- CRC32C ---- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        }
        crc_table[i] = c;
    }
}

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t c, const unsigned char *p, size_t n) {
    uint64_t c64 = c;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = _mm_crc32_u64(c64, v);
        p += 8;
        n -= 8;
    }
    c = (uint32_t)c64;
    while (n--) {
        c = _mm_crc32_u8(c, *p++);
    }
    return c;
}
#endif

uint32_t sl__crc32c(uint32_t crc, const void *data, size_t n) {
    const unsigned char *p = data;
    uint32_t c = ~crc;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) {
        return ~crc_hw(c, p, n);
    }
#endif
    pthread_once(&crc_once, crc_init);
    while (n--) {
        c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    }
    return ~c;
}

/* ---- entry format ---- */

static const unsigned char MAGIC[4] = {'S', 'L', 'Q', '1'};

static void put32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

void sl__spool_header(unsigned char hdr[SL_SPOOL_HEADER], sl_signal sig,
                      uint32_t records, const void *data, uint32_t len) {
    memcpy(hdr, MAGIC, 4);
    put32(hdr + 4, len);
    put32(hdr + 8, records);
    hdr[12] = (unsigned char)sig;
    hdr[13] = hdr[14] = hdr[15] = 0;
    uint32_t crc = sl__crc32c(0, hdr, 16);
    put32(hdr + 16, sl__crc32c(crc, data, len));
}

size_t sl__spool_parse(const void *buf, size_t avail, sl__spool_entry *e,
                       const char **why) {
    const unsigned char *p = buf;
    if (avail < SL_SPOOL_HEADER) {
        *why = "header cut short";
        return 0;
    }
    if (memcmp(p, MAGIC, 4) != 0) {
        *why = "bad magic";
        return 0;
    }
    uint32_t len = get32(p + 4);
    if (p[12] > SL_SIGNAL_TRACE || p[13] || p[14] || p[15]) {
        *why = "bad signal or reserved bytes";
        return 0;
    }
    if (len > SL_SPOOL_MAX_ENTRY || len > avail - SL_SPOOL_HEADER) {
        *why = "payload cut short";
        return 0;
    }
    uint32_t crc = sl__crc32c(0, p, 16);
    crc = sl__crc32c(crc, p + SL_SPOOL_HEADER, len);
    if (crc != get32(p + 16)) {
        *why = "checksum mismatch";
        return 0;
    }
    e->sig = (sl_signal)p[12];
    e->records = get32(p + 8);
    e->data = (const char *)p + SL_SPOOL_HEADER;
    e->len = len;
    return SL_SPOOL_HEADER + (size_t)len;
}

/* ---- the queue ---- */

typedef struct seg {
    uint64_t seq;
    uint64_t end;     /* bytes of whole, valid entries */
    uint64_t entries; /* of them not yet acked */
} seg;

struct sl__spool {
    sl__spool_opts o;
    char dir[PATH_MAX - 64];
    int lockfd;
    pthread_mutex_t mu;
    pthread_cond_t synced_cv;
    seg *segs; /* [0] the reader's, [nsegs - 1] the writer's */
    size_t nsegs, cap;
    int wfd;
    uint64_t written, synced; /* append generations */
    bool syncing;
    /* reader (one thread) */
    int rfd;
    uint64_t rseq, roff;
    bool cursor_dirty;  /* acks since the cursor file was written */
    uint64_t cursor_ms; /* when it was */
    size_t have;        /* size of the peeked entry, 0 = none */
    sl_buf buf;
    /* counters, under mu */
    uint64_t pending_bytes, pending_entries, disk_bytes;
    uint64_t replayed, torn, appends, syncs;
};

static void seg_path(const sl__spool *s, uint64_t seq, char *out, size_t n) {
    snprintf(out, n, "%s/seg-%020" PRIu64 ".q", s->dir, seq);
}

static sl_status io_error(sl_error *err, const char *what, const char *path) {
    return sl__error(err, SL_EIO, NULL, "%s %s: %s", what, path,
                     strerror(errno));
}

static void sync_dir(const sl__spool *s) {
    if (s->o.fsync == SL_SPOOL_FSYNC_NEVER) {
        return;
    }
    int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static sl_status segs_push(sl__spool *s, uint64_t seq, uint64_t end,
                           uint64_t entries) {
    if (s->nsegs == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        seg *n = sl__realloc(s->segs, s->cap * sizeof(seg), cap * sizeof(seg));
        if (!n) {
            return SL_ENOMEM;
        }
        s->segs = n;
        s->cap = cap;
    }
    s->segs[s->nsegs++] = (seg){seq, end, entries};
    return SL_OK;
}

/* Start segment seq as the writer's. Under mu (or before threads). */
static sl_status open_writer(sl__spool *s, uint64_t seq, sl_error *err) {
    char path[PATH_MAX];
    seg_path(s, seq, path, sizeof(path));
    int fd =
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        return io_error(err, "cannot create", path);
    }
    if (segs_push(s, seq, 0, 0) != SL_OK) {
        close(fd);
        unlink(path);
        return sl__nomem(err);
    }
    sync_dir(s);
    s->wfd = fd;
    return SL_OK;
}

/* Close the writer's segment (after a final fdatasync) and start the next.
 * Under mu; waits for a group commit in progress, which uses wfd. */
static sl_status rotate(sl__spool *s, sl_error *err) {
    while (s->syncing) {
        pthread_cond_wait(&s->synced_cv, &s->mu);
    }
    if (s->o.fsync != SL_SPOOL_FSYNC_NEVER && s->synced < s->written) {
        if (fdatasync(s->wfd) != 0) {
            return sl__error(err, SL_EIO, NULL, "fdatasync: %s",
                             strerror(errno));
        }
        s->syncs++;
        s->synced = s->written;
        pthread_cond_broadcast(&s->synced_cv);
    }
    int old = s->wfd;
    sl_status rc = open_writer(s, s->segs[s->nsegs - 1].seq + 1, err);
    if (rc == SL_OK) {
        close(old);
    }
    return rc;
}

static bool parse_seq(const char *name, uint64_t *seq) {
    if (strncmp(name, "seg-", 4) != 0) {
        return false;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(name + 4, &end, 10);
    if (errno || end != name + 24 || strcmp(end, ".q") != 0) {
        return false;
    }
    *seq = v;
    return true;
}

static int cmp_seq(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void read_cursor(sl__spool *s, uint64_t *seq, uint64_t *off) {
    *seq = 0;
    *off = 0;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/cursor", s->dir);
    FILE *f = fopen(path, "re");
    if (!f) {
        return;
    }
    char line[128] = {0};
    char *end = NULL;
    if (fgets(line, sizeof(line), f)) {
        errno = 0;
        unsigned long long a = strtoull(line, &end, 10);
        unsigned long long b =
            end && *end == ' ' ? strtoull(end + 1, &end, 10) : 0;
        if (errno == 0 && end && *end == '\n') {
            *seq = a;
            *off = b;
        } else {
            sl__serve_log(SL_SERVE_WARN,
                          "spool: %s is unreadable: replaying every segment",
                          path);
        }
    }
    fclose(f);
}

static sl_status write_cursor(sl__spool *s, uint64_t seq, uint64_t off,
                              sl_error *err) {
    char path[PATH_MAX], tmp[PATH_MAX];
    snprintf(path, sizeof(path), "%s/cursor", s->dir);
    snprintf(tmp, sizeof(tmp), "%s/cursor.tmp", s->dir);
    char line[64];
    int n = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 "\n", seq, off);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return io_error(err, "cannot write", tmp);
    }
    bool ok = write(fd, line, (size_t)n) == n;
    /* losing the cursor only redelivers: synced only in always mode */
    if (ok && s->o.fsync == SL_SPOOL_FSYNC_ALWAYS) {
        ok = fdatasync(fd) == 0;
    }
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        return io_error(err, "cannot write", path);
    }
    return SL_OK;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Write the reader's position if acks moved it since the last write. */
static sl_status flush_cursor(sl__spool *s, sl_error *err) {
    if (!s->cursor_dirty) {
        return SL_OK;
    }
    s->cursor_dirty = false;
    s->cursor_ms = now_ms();
    return write_cursor(s, s->rseq, s->roff, err);
}

/* Read a whole file into s->buf. */
static sl_status slurp(sl__spool *s, const char *path, sl_error *err) {
    s->buf.len = 0;
    s->buf.failed = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return io_error(err, "cannot open", path);
    }
    sl_status rc = SL_OK;
    for (;;) {
        if (sl__buf_reserve(&s->buf, 1 << 16) != SL_OK) {
            rc = sl__nomem(err);
            break;
        }
        ssize_t r = read(fd, s->buf.ptr + s->buf.len, s->buf.cap - s->buf.len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            rc = io_error(err, "cannot read", path);
            break;
        }
        if (r == 0) {
            break;
        }
        s->buf.len += (size_t)r;
    }
    close(fd);
    return rc;
}

/* Check segment seq from off: count its whole entries, truncate a torn
 * or corrupt tail (logged, counted), and keep it when it holds any. */
static sl_status replay_segment(sl__spool *s, uint64_t seq, uint64_t off,
                                sl_error *err) {
    char path[PATH_MAX];
    seg_path(s, seq, path, sizeof(path));
    sl_status rc = slurp(s, path, err);
    if (rc != SL_OK) {
        return rc;
    }
    size_t len = s->buf.len;
    size_t pos = off <= len ? (size_t)off : len;
    uint64_t entries = 0;
    const char *why = NULL;
    while (pos < len) {
        sl__spool_entry e;
        size_t n = sl__spool_parse(s->buf.ptr + pos, len - pos, &e, &why);
        if (n == 0) {
            break;
        }
        pos += n;
        entries++;
    }
    if (pos < len) {
        s->torn++;
        sl__serve_log(SL_SERVE_WARN,
                      "spool: %s: torn or corrupt entry at offset %zu (%s): "
                      "skipping its %zu byte(s) to the end of the segment",
                      path, pos, why, len - pos);
        if (truncate(path, (off_t)pos) != 0) {
            return io_error(err, "cannot truncate", path);
        }
    }
    s->replayed += entries;
    s->pending_entries += entries;
    s->pending_bytes += pos - (off <= pos ? off : pos);
    s->disk_bytes += pos;
    if (entries == 0) {
        s->disk_bytes -= pos;
        unlink(path);
        return SL_OK;
    }
    if (s->nsegs == 0) {
        s->rseq = seq;
        s->roff = off;
    }
    return segs_push(s, seq, pos, entries) != SL_OK ? sl__nomem(err) : SL_OK;
}

static sl_status scan(sl__spool *s, sl_error *err) {
    DIR *d = opendir(s->dir);
    if (!d) {
        return io_error(err, "cannot open", s->dir);
    }
    uint64_t *seqs = NULL;
    size_t n = 0, cap = 0;
    sl_status rc = SL_OK;
    for (struct dirent *de = readdir(d); de; de = readdir(d)) {
        uint64_t seq;
        if (!parse_seq(de->d_name, &seq)) {
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            uint64_t *ns =
                sl__realloc(seqs, cap * sizeof(*seqs), nc * sizeof(*seqs));
            if (!ns) {
                rc = sl__nomem(err);
                break;
            }
            seqs = ns;
            cap = nc;
        }
        seqs[n++] = seq;
    }
    closedir(d);
    if (rc == SL_OK && n > 0) {
        qsort(seqs, n, sizeof(*seqs), cmp_seq);
    }
    uint64_t cseq = 0, coff = 0;
    read_cursor(s, &cseq, &coff);
    uint64_t next = 1;
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        next = seqs[i] + 1;
        if (seqs[i] < cseq) {
            char path[PATH_MAX];
            seg_path(s, seqs[i], path, sizeof(path));
            unlink(path); /* delivered; its deletion was cut short */
            continue;
        }
        rc = replay_segment(s, seqs[i], seqs[i] == cseq ? coff : 0, err);
    }
    sl__free(seqs, cap * sizeof(*seqs));
    if (rc == SL_OK) {
        rc = open_writer(s, next, err);
    }
    if (rc == SL_OK && s->nsegs == 1) {
        s->rseq = next;
        s->roff = 0;
    }
    sl__buf_free(&s->buf);
    return rc;
}

sl_status sl__spool_open(const sl__spool_opts *o, sl__spool **out,
                         sl_error *err) {
    if (!o || !o->dir || !o->dir[0] || !out) {
        return sl__error(err, SL_EINVAL, NULL, "no queue directory");
    }
    if (strlen(o->dir) >= PATH_MAX - 64) {
        return sl__error(err, SL_ELIMIT, NULL, "queue directory name too long");
    }
    sl__spool *s = sl__calloc(1, sizeof(*s));
    if (!s) {
        return sl__nomem(err);
    }
    s->o = *o;
    if (!s->o.max_bytes) {
        s->o.max_bytes = 64u << 20;
    }
    if (!s->o.segment_bytes) {
        s->o.segment_bytes = 16u << 20;
    }
    if (s->o.fsync == SL_SPOOL_FSYNC_DEFAULT) {
        s->o.fsync = SL_SPOOL_FSYNC_BATCH;
    }
    snprintf(s->dir, sizeof(s->dir), "%s", o->dir);
    s->o.dir = s->dir;
    s->wfd = s->rfd = s->lockfd = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->synced_cv, NULL);
    sl_status rc = SL_OK;
    if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
        rc = io_error(err, "cannot create", s->dir);
        goto done;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/lock", s->dir);
    s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lockfd < 0) {
        rc = io_error(err, "cannot open", path);
        goto done;
    }
    if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
        rc = sl__error(err, SL_ESTATE, NULL, "%s is in use by another process",
                       s->dir);
        goto done;
    }
    rc = scan(s, err);
done:
    if (rc != SL_OK) {
        sl__spool_close(s);
        return rc;
    }
    *out = s;
    return SL_OK;
}

void sl__spool_close(sl__spool *s) {
    if (!s) {
        return;
    }
    if (s->lockfd >= 0 && flush_cursor(s, NULL) != SL_OK) {
        sl__serve_log(SL_SERVE_ERROR, "spool: %s: cannot write the cursor",
                      s->dir);
    }
    if (s->wfd >= 0) {
        if (s->o.fsync != SL_SPOOL_FSYNC_NEVER && s->synced < s->written) {
            fdatasync(s->wfd);
        }
        close(s->wfd);
    }
    if (s->rfd >= 0) {
        close(s->rfd);
    }
    if (s->lockfd >= 0) {
        close(s->lockfd); /* releases the flock */
    }
    sl__buf_free(&s->buf);
    sl__free(s->segs, s->cap * sizeof(seg));
    pthread_cond_destroy(&s->synced_cv);
    pthread_mutex_destroy(&s->mu);
    sl__free(s, sizeof(*s));
}

bool sl__spool_has_room(sl__spool *s) {
    pthread_mutex_lock(&s->mu);
    bool room = s->pending_bytes < s->o.max_bytes;
    pthread_mutex_unlock(&s->mu);
    return room;
}

static bool write_all(int fd, struct iovec *iov, int n) {
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return true;
}

sl_status sl__spool_write(sl__spool *s, sl_signal sig, uint32_t records,
                          const void *data, size_t len, uint64_t *gen,
                          sl_error *err) {
    if (len > SL_SPOOL_MAX_ENTRY) {
        return sl__error(err, SL_ELIMIT, NULL, "entry of %zu bytes too large",
                         len);
    }
    unsigned char hdr[SL_SPOOL_HEADER];
    sl__spool_header(hdr, sig, records, data, (uint32_t)len);
    struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)data, len}};
    size_t total = sizeof(hdr) + len;
    pthread_mutex_lock(&s->mu);
    sl_status rc = SL_OK;
    seg *w = &s->segs[s->nsegs - 1];
    if (w->end > 0 && w->end + total > s->o.segment_bytes) {
        rc = rotate(s, err);
        if (rc != SL_OK) {
            goto done;
        }
        w = &s->segs[s->nsegs - 1];
    }
    if (!write_all(s->wfd, iov, len ? 2 : 1)) {
        rc = sl__error(err, SL_EIO, NULL, "spool write: %s",
                       errno ? strerror(errno) : "short write");
        /* drop a partial entry so the next one starts on a boundary */
        if (ftruncate(s->wfd, (off_t)w->end) != 0) {
            sl__serve_log(SL_SERVE_ERROR, "spool: cannot truncate: %s",
                          strerror(errno));
        }
        goto done;
    }
    w->end += total;
    w->entries++;
    s->disk_bytes += total;
    s->pending_bytes += total;
    s->pending_entries++;
    s->appends++;
    *gen = ++s->written;
    if (s->o.fsync == SL_SPOOL_FSYNC_ALWAYS) {
        if (fdatasync(s->wfd) != 0) {
            rc = sl__error(err, SL_EIO, NULL, "fdatasync: %s", strerror(errno));
        }
        s->syncs++;
        s->synced = *gen;
    }
done:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

sl_status sl__spool_commit(sl__spool *s, uint64_t gen, sl_error *err) {
    sl_status rc = SL_OK;
    pthread_mutex_lock(&s->mu);
    if (s->o.fsync == SL_SPOOL_FSYNC_BATCH) {
        /* group commit: one leader syncs what is written so far; writers
         * arriving meanwhile wait and share the next sync */
        while (rc == SL_OK && s->synced < gen) {
            if (s->syncing) {
                pthread_cond_wait(&s->synced_cv, &s->mu);
                continue;
            }
            s->syncing = true;
            uint64_t upto = s->written;
            int fd = s->wfd;
            pthread_mutex_unlock(&s->mu);
            int r = fdatasync(fd);
            int e = errno;
            pthread_mutex_lock(&s->mu);
            s->syncing = false;
            s->syncs++;
            if (r != 0) {
                rc = sl__error(err, SL_EIO, NULL, "fdatasync: %s", strerror(e));
            } else if (upto > s->synced) {
                s->synced = upto;
            }
            pthread_cond_broadcast(&s->synced_cv);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

sl_status sl__spool_append(sl__spool *s, sl_signal sig, uint32_t records,
                           const void *data, size_t len, sl_error *err) {
    uint64_t gen = 0;
    sl_status rc = sl__spool_write(s, sig, records, data, len, &gen, err);
    return rc == SL_OK ? sl__spool_commit(s, gen, err) : rc;
}

/* The reader's segment is finished: drop it (cursor first, then unlink). */
static sl_status finish_segment(sl__spool *s, sl_error *err) {
    pthread_mutex_lock(&s->mu);
    uint64_t old = s->segs[0].seq, oldend = s->segs[0].end;
    memmove(s->segs, s->segs + 1, (s->nsegs - 1) * sizeof(seg));
    s->nsegs--;
    uint64_t next = s->segs[0].seq;
    s->disk_bytes -= oldend;
    pthread_mutex_unlock(&s->mu);
    if (s->rfd >= 0) {
        close(s->rfd);
        s->rfd = -1;
    }
    s->rseq = next;
    s->roff = 0;
    s->cursor_dirty = false;
    s->cursor_ms = now_ms();
    sl_status rc = write_cursor(s, next, 0, err);
    char path[PATH_MAX];
    seg_path(s, old, path, sizeof(path));
    unlink(path);
    return rc;
}

/* Skip the rest of the reader's segment after a bad entry found at run
 * time (the disk changed under us): never delivered, counted. */
static sl_status skip_rest(sl__spool *s, const char *why, sl_error *err) {
    pthread_mutex_lock(&s->mu);
    sl_status rc = SL_OK;
    if (s->nsegs == 1) {
        rc = rotate(s, err); /* the writer moves on first */
    }
    uint64_t end = s->segs[0].end;
    uint64_t lost = end - s->roff;
    s->pending_bytes -= lost <= s->pending_bytes ? lost : s->pending_bytes;
    s->pending_entries -= s->segs[0].entries;
    s->segs[0].entries = 0;
    s->torn++;
    pthread_mutex_unlock(&s->mu);
    sl__serve_log(SL_SERVE_WARN,
                  "spool: segment %" PRIu64 ": corrupt entry at offset %" PRIu64
                  " (%s): skipping %" PRIu64 " byte(s)",
                  s->rseq, s->roff, why, lost);
    if (rc != SL_OK) {
        return rc;
    }
    return finish_segment(s, err);
}

sl_status sl__spool_peek(sl__spool *s, sl__spool_entry *e, sl_error *err) {
    for (;;) {
        pthread_mutex_lock(&s->mu);
        uint64_t end = s->segs[0].end;
        bool last = s->nsegs == 1;
        pthread_mutex_unlock(&s->mu);
        if (s->roff >= end) {
            if (last) {
                sl_status rc = flush_cursor(s, err); /* idle: record it */
                return rc != SL_OK ? rc : SL_ENOTFOUND;
            }
            sl_status rc = finish_segment(s, err);
            if (rc != SL_OK) {
                return rc;
            }
            continue;
        }
        if (s->rfd < 0) {
            char path[PATH_MAX];
            seg_path(s, s->rseq, path, sizeof(path));
            s->rfd = open(path, O_RDONLY | O_CLOEXEC);
            if (s->rfd < 0) {
                return io_error(err, "cannot open", path);
            }
        }
        /* the header first, then exactly the payload it announces */
        uint64_t avail = end - s->roff;
        size_t want = SL_SPOOL_HEADER;
        s->buf.len = 0;
        s->buf.failed = 0;
        const char *why = "header cut short";
        for (int pass = 0; pass < 2; pass++) {
            if (want > avail) {
                break;
            }
            if (sl__buf_reserve(&s->buf, want - s->buf.len) != SL_OK) {
                return sl__nomem(err);
            }
            while (s->buf.len < want) {
                ssize_t r =
                    pread(s->rfd, s->buf.ptr + s->buf.len, want - s->buf.len,
                          (off_t)(s->roff + s->buf.len));
                if (r < 0 && errno == EINTR) {
                    continue;
                }
                if (r < 0) {
                    return sl__error(err, SL_EIO, NULL, "spool read: %s",
                                     strerror(errno));
                }
                if (r == 0) {
                    break; /* shorter than recorded: corrupt below */
                }
                s->buf.len += (size_t)r;
            }
            uint32_t plen = pass == 0 && s->buf.len == SL_SPOOL_HEADER
                                ? get32((const unsigned char *)s->buf.ptr + 4)
                                : 0;
            if (plen > SL_SPOOL_MAX_ENTRY) {
                break; /* rejected by the parse below */
            }
            want += plen;
        }
        size_t n = sl__spool_parse(s->buf.ptr, s->buf.len, e, &why);
        if (n > 0) {
            s->have = n;
            return SL_OK;
        }
        sl_status rc = skip_rest(s, why, err);
        if (rc != SL_OK) {
            return rc;
        }
    }
}

sl_status sl__spool_ack(sl__spool *s, sl_error *err) {
    if (!s->have) {
        return sl__error(err, SL_ESTATE, NULL, "no entry to acknowledge");
    }
    s->roff += s->have;
    pthread_mutex_lock(&s->mu);
    s->pending_bytes -= s->have;
    s->pending_entries--;
    s->segs[0].entries--;
    pthread_mutex_unlock(&s->mu);
    s->have = 0;
    s->cursor_dirty = true;
    /* the cursor file is rewritten at most every SL_SPOOL_CURSOR_MS under
     * load (a rename per request costs more than delivering it), at once
     * in always mode, when the queue empties and on close: a crash
     * redelivers at most that window */
    if (s->o.fsync == SL_SPOOL_FSYNC_ALWAYS ||
        now_ms() - s->cursor_ms >= SL_SPOOL_CURSOR_MS) {
        return flush_cursor(s, err);
    }
    return SL_OK;
}

void sl__spool_stats_get(sl__spool *s, sl__spool_stats *st) {
    pthread_mutex_lock(&s->mu);
    st->pending_bytes = s->pending_bytes;
    st->pending_entries = s->pending_entries;
    st->disk_bytes = s->disk_bytes;
    st->replayed = s->replayed;
    st->torn = s->torn;
    st->appends = s->appends;
    st->syncs = s->syncs;
    pthread_mutex_unlock(&s->mu);
}

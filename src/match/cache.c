/* src/match/cache.c: an opt-in directory of compiled Vectorscan databases,
 * so that a pattern set compiled once loads in a fraction of a millisecond
 * the next time (Suricata 8 keeps such a cache too). Leaves out what is
 * compiled (patset.c) and where the directory is (the caller's option).
 *
 * The one idea: a file is named by the SHA-256 of everything that decides
 * what hs_compile_multi builds: each expression's bytes, flags and id, in
 * order, the mode, Vectorscan's version string and the platform it
 * compiles for (tuning and CPU features). The same key is the same
 * database, so a hit changes nothing but the time. A file is trusted only
 * after its header repeats the key, its length is the file's, the SHA-256
 * of its payload matches and Vectorscan deserializes it; anything else
 * (truncated, corrupt, from another version) is ignored, compiled anew
 * and replaced. Files are written to a temporary name in the same
 * directory and renamed into place, so a reader (another process) sees a
 * whole file or none. Only databases that compiled are stored: a set
 * Vectorscan rejects is rejected with the same message every time.
 *
 * File layout: "SLHSDB1\0", the 32-byte key, the payload's length (8
 * bytes, little-endian), the payload's SHA-256, the payload
 * (hs_serialize_database). */
#include <sluice/match.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hs/hs.h>

#include "base/base.h"
#include "match/private.h"

static const char MAGIC[8] = "SLHSDB1";

enum {
    HEADER = 8 + SL_SHA256_LEN + 8 + SL_SHA256_LEN,
    CACHE_MAX_FILE = 1 << 30 /* a database this large is not read back */
};

static sl_status put_u64(sl_buf *b, uint64_t v) {
    unsigned char le[8];
    for (int i = 0; i < 8; i++) {
        le[i] = (unsigned char)(v >> (8 * i));
    }
    return sl__buf_append(b, le, 8);
}

static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

/* The key of a compile: SL_OK, SL_ENOMEM, or SL_EINVAL when the platform
 * cannot be named (then nothing is cached). */
static sl_status cache_key(const char *const *e, const unsigned *f,
                           const unsigned *ids, unsigned n,
                           uint8_t key[SL_SHA256_LEN]) {
    hs_platform_info_t plat;
    if (hs_populate_platform(&plat) != HS_SUCCESS) {
        return SL_EINVAL;
    }
    sl_buf b = {0};
    const char *ver = hs_version();
    sl_status rc = sl__buf_append(&b, "sluice vectorscan cache 1", 26);
    rc = rc == SL_OK ? sl__buf_append(&b, ver, strlen(ver) + 1) : rc;
    rc = rc == SL_OK ? put_u64(&b, plat.tune) : rc;
    rc = rc == SL_OK ? put_u64(&b, plat.cpu_features) : rc;
    rc = rc == SL_OK ? put_u64(&b, HS_MODE_BLOCK) : rc;
    rc = rc == SL_OK ? put_u64(&b, n) : rc;
    for (unsigned i = 0; i < n && rc == SL_OK; i++) {
        size_t len = strlen(e[i]);
        rc = put_u64(&b, f[i]);
        rc = rc == SL_OK ? put_u64(&b, ids[i]) : rc;
        rc = rc == SL_OK ? put_u64(&b, len) : rc;
        rc = rc == SL_OK ? sl__buf_append(&b, e[i], len) : rc;
    }
    if (rc == SL_OK) {
        rc = sl__sha256(b.ptr, b.len, key);
    }
    sl__buf_free(&b);
    return rc;
}

/* dir/<hex key>.hsdb, or false when it does not fit. */
static bool cache_path(const char *dir, const uint8_t key[SL_SHA256_LEN],
                       char *out, size_t cap) {
    char hex[2 * SL_SHA256_LEN + 1];
    for (int i = 0; i < SL_SHA256_LEN; i++) {
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    }
    int w = snprintf(out, cap, "%s/%s.hsdb", dir, hex);
    return w > 0 && (size_t)w < cap;
}

/* The database stored at path under key, or NULL (missing, unreadable,
 * not the same key, corrupt, or not loadable by this Vectorscan). */
static hs_database_t *cache_load(const char *path,
                                 const uint8_t key[SL_SHA256_LEN]) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    hs_database_t *db = NULL;
    unsigned char *buf = NULL;
    size_t size = 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= HEADER ||
        st.st_size > CACHE_MAX_FILE) {
        goto done;
    }
    size = (size_t)st.st_size;
    buf = sl__alloc(size);
    if (!buf) {
        goto done; /* benign: compiled instead */
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r <= 0) {
            goto done;
        }
        got += (size_t)r;
    }
    const unsigned char *p = buf;
    uint64_t len = get_u64(p + 8 + SL_SHA256_LEN);
    uint8_t sum[SL_SHA256_LEN];
    if (memcmp(p, MAGIC, 8) != 0 || memcmp(p + 8, key, SL_SHA256_LEN) != 0 ||
        len != size - HEADER ||
        sl__sha256(p + HEADER, (size_t)len, sum) != SL_OK ||
        memcmp(sum, p + 8 + SL_SHA256_LEN + 8, SL_SHA256_LEN) != 0) {
        goto done;
    }
    if (hs_deserialize_database((const char *)p + HEADER, (size_t)len, &db) !=
        HS_SUCCESS) {
        db = NULL;
    }
done:
    sl__free(buf, size);
    close(fd);
    return db;
}

static bool write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w <= 0) {
            return false;
        }
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* Store db at path, atomically. Every failure is benign (the next run
 * compiles again) and leaves no temporary file behind. */
static void cache_store(const char *dir, const char *path,
                        const uint8_t key[SL_SHA256_LEN],
                        const hs_database_t *db) {
    char *bytes = NULL;
    size_t len = 0;
    if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS) {
        return;
    }
    unsigned char head[HEADER];
    memcpy(head, MAGIC, 8);
    memcpy(head + 8, key, SL_SHA256_LEN);
    for (int i = 0; i < 8; i++) {
        head[8 + SL_SHA256_LEN + i] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    char tmp[4096];
    int w = snprintf(tmp, sizeof(tmp), "%s/.hsdb-XXXXXX", dir);
    int fd = -1;
    if (sl__sha256(bytes, len, head + 8 + SL_SHA256_LEN + 8) != SL_OK ||
        w <= 0 || (size_t)w >= sizeof(tmp)) {
        goto done;
    }
    (void)mkdir(dir, 0700); /* one level, when missing; EEXIST is fine */
    fd = mkstemp(tmp);
    if (fd < 0) {
        goto done;
    }
    bool ok = write_all(fd, head, HEADER) && write_all(fd, bytes, len);
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
    }
done:
    free(bytes); /* Vectorscan's misc allocator: malloc */
}

hs_error_t sl__match_compile_multi(const char *cache_dir, const char *const *e,
                                   const unsigned *f, const unsigned *ids,
                                   unsigned n, hs_database_t **db,
                                   hs_compile_error_t **cerr) {
    uint8_t key[SL_SHA256_LEN];
    char path[4096];
    bool cached = cache_dir && *cache_dir &&
                  cache_key(e, f, ids, n, key) == SL_OK &&
                  cache_path(cache_dir, key, path, sizeof(path));
    if (cached && (*db = cache_load(path, key)) != NULL) {
        *cerr = NULL;
        return HS_SUCCESS;
    }
    hs_error_t hr =
        hs_compile_multi(e, f, ids, n, HS_MODE_BLOCK, NULL, db, cerr);
    if (cached && hr == HS_SUCCESS) {
        cache_store(cache_dir, path, key, *db);
    }
    return hr;
}

/* fuzz/fuzz_spool.c: the on-disk queue's segment reader (src/serve/spool.c).
 * The first byte picks the mode; the rest is a segment file's bytes.
 * Mode bit 0 clear: sl__spool_parse walks the bytes in memory, and every
 * entry it accepts must re-encode to the same header (length, records,
 * signal, CRC32C) and lie inside the input. Bit 0 set: the bytes become a
 * segment file in a scratch directory (bit 1: with a cursor at the offset
 * of the second byte), the queue is opened (replay: torn tail cut and
 * counted) and drained by peek / ack; every entry returned must be one the
 * parser accepts, and the pending counts must reach zero. Any crash,
 * sanitizer report or leak fails. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "serve/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_spool: invariant broken: %s\n", what);
        abort();
    }
}

static void walk(const uint8_t *p, size_t n) {
    size_t pos = 0;
    while (pos < n) {
        sl__spool_entry e;
        const char *why = NULL;
        size_t got = sl__spool_parse(p + pos, n - pos, &e, &why);
        if (got == 0) {
            check(why != NULL, "a rejection names its reason");
            return;
        }
        check(got == SL_SPOOL_HEADER + e.len && got <= n - pos, "inside");
        unsigned char hdr[SL_SPOOL_HEADER];
        sl__spool_header(hdr, e.sig, e.records, e.data, (uint32_t)e.len);
        check(memcmp(hdr, p + pos, SL_SPOOL_HEADER) == 0, "re-encodes");
        pos += got;
    }
}

static void remove_dir(const char *dir) {
    static const char *const names[] = {"seg-00000000000000000001.q",
                                        "seg-00000000000000000002.q",
                                        "seg-00000000000000000003.q",
                                        "cursor",
                                        "cursor.tmp",
                                        "lock"};
    char path[512];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void replay(const uint8_t *p, size_t n, bool cursor, uint8_t coff) {
    char dir[] = "/tmp/sluice-fuzz-spool-XXXXXX";
    if (!mkdtemp(dir)) {
        return;
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/seg-00000000000000000001.q", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        bool ok = write(fd, p, n) == (ssize_t)n;
        close(fd);
        if (ok && cursor) {
            snprintf(path, sizeof(path), "%s/cursor", dir);
            FILE *f = fopen(path, "w");
            if (f) {
                fprintf(f, "1 %u\n", (unsigned)coff);
                fclose(f);
            }
        }
        sl__spool_opts o = {.dir = dir, .fsync = SL_SPOOL_FSYNC_NEVER};
        sl__spool *s = NULL;
        if (sl__spool_open(&o, &s, NULL) == SL_OK) {
            sl__spool_entry e;
            while (sl__spool_peek(s, &e, NULL) == SL_OK) {
                check(e.len <= n && e.sig <= SL_SIGNAL_TRACE, "entry bounds");
                check(sl__spool_ack(s, NULL) == SL_OK, "ack");
            }
            sl__spool_stats st;
            sl__spool_stats_get(s, &st);
            check(st.pending_entries == 0 && st.pending_bytes == 0, "drained");
            check(st.torn <= 1, "one torn tail at most per segment");
            sl__spool_close(s);
        }
    }
    remove_dir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > (1u << 20)) {
        return 0;
    }
    if (data[0] & 1) {
        replay(data + 2, size - 2, data[0] & 2, data[1]);
    } else {
        walk(data + 2, size - 2);
    }
    return 0;
}

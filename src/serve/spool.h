/* src/serve/spool.h: the on-disk export queue (--queue-dir): append-only
 * segment files of entries (a 20-byte header: magic, length, record count,
 * signal, CRC32C of header and payload; then the payload), a cursor file
 * naming the next entry to deliver (replaced atomically by rename), and
 * group commit: a write returns once its bytes are in the file; a commit
 * returns, in fsync=batch mode, once an fdatasync that covers them has
 * finished. A worker writes a whole batch of requests and commits once;
 * commits that arrive while one fdatasync runs share the next one.
 * One reader (the exporter thread) peeks the oldest entry and acks it once
 * delivered; finished segments are deleted. Opening a directory replays
 * what is left after the cursor; a torn or corrupt entry ends its segment
 * (logged, counted in `torn`) and is never returned. */
#ifndef SL_SERVE_SPOOL_H
#define SL_SERVE_SPOOL_H

#include <sluice/otlp.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl__spool sl__spool;

typedef enum sl__spool_fsync {
    SL_SPOOL_FSYNC_DEFAULT = 0, /* = batch */
    SL_SPOOL_FSYNC_ALWAYS = 1,  /* one fdatasync per append */
    SL_SPOOL_FSYNC_BATCH = 2,   /* group commit: one per batch of appends */
    SL_SPOOL_FSYNC_NEVER = 3    /* page cache only: survives kill -9, not
                                   power loss */
} sl__spool_fsync;

enum {
    SL_SPOOL_HEADER = 20,
    SL_SPOOL_MAX_ENTRY = 1 << 30,
    SL_SPOOL_CURSOR_MS = 100 /* cursor file rewritten at most this often */
};

typedef struct sl__spool_opts {
    const char *dir;      /* created (0700) when missing */
    size_t max_bytes;     /* pending bytes (headers included); 0 = 64 MiB */
    size_t segment_bytes; /* rotate after this many; 0 = 16 MiB */
    sl__spool_fsync fsync;
} sl__spool_opts;

/* Counters; pending_* is what is queued and not yet acked. */
typedef struct sl__spool_stats {
    uint64_t pending_bytes, pending_entries;
    uint64_t disk_bytes; /* segment files' sizes, delivered parts too */
    uint64_t replayed;   /* entries found on disk when opened */
    uint64_t torn;       /* entries skipped as torn or corrupt */
    uint64_t appends, syncs;
} sl__spool_stats;

/* One entry as read back: data borrowed until the next peek, ack or close. */
typedef struct sl__spool_entry {
    sl_signal sig;
    uint32_t records;
    const char *data;
    size_t len;
} sl__spool_entry;

/* Open (or create) a queue directory and scan what it holds. Takes an
 * exclusive lock on DIR/lock: two servers cannot share one directory.
 * @return SL_OK, SL_EIO (err names the file), SL_ESTATE (locked), SL_ENOMEM. */
sl_status sl__spool_open(const sl__spool_opts *o, sl__spool **out,
                         sl_error *err);

/* Close the files; what is pending stays on disk for the next open. */
void sl__spool_close(sl__spool *s);

/* Whether pending bytes are below max_bytes. Any thread. */
bool sl__spool_has_room(sl__spool *s);

/* Append one entry; returns once it is as durable as the fsync mode says
 * (sl__spool_write then sl__spool_commit). Any thread.
 * @return SL_OK, SL_ELIMIT (len too large), SL_EIO. */
sl_status sl__spool_append(sl__spool *s, sl_signal sig, uint32_t records,
                           const void *data, size_t len, sl_error *err);

/* Write one entry without waiting for batch mode's fdatasync (always mode
 * syncs here); *gen is its generation, for sl__spool_commit. Any thread. */
sl_status sl__spool_write(sl__spool *s, sl_signal sig, uint32_t records,
                          const void *data, size_t len, uint64_t *gen,
                          sl_error *err);

/* Return once every entry up to generation gen is synced (batch mode: one
 * caller runs fdatasync for everything written so far, the others wait
 * for it; always and never: at once). A caller that wrote many entries
 * commits once, with the last generation. @return SL_OK or SL_EIO. */
sl_status sl__spool_commit(sl__spool *s, uint64_t gen, sl_error *err);

/* The oldest pending entry (the same one until acked). One reader thread.
 * @return SL_OK, SL_ENOTFOUND (empty), SL_EIO, SL_ENOMEM. */
sl_status sl__spool_peek(sl__spool *s, sl__spool_entry *e, sl_error *err);

/* The peeked entry was delivered: move the cursor past it. DIR/cursor is
 * replaced (by rename) at most every SL_SPOOL_CURSOR_MS, at once in
 * always mode, and whenever the queue empties, a segment is finished or
 * the spool is closed: a crash redelivers at most that window (at least
 * once). */
sl_status sl__spool_ack(sl__spool *s, sl_error *err);

void sl__spool_stats_get(sl__spool *s, sl__spool_stats *st);

/* Parse one entry at p (avail bytes). Returns the entry's total size
 * (header + payload) and fills e (data points into p), or 0 when the
 * bytes are not a whole valid entry; *why then says what is wrong.
 * Used by the replay scan, the reader and the fuzz target. */
size_t sl__spool_parse(const void *p, size_t avail, sl__spool_entry *e,
                       const char **why);

/* Encode an entry's header for a payload (for tests and the writer). */
void sl__spool_header(unsigned char hdr[SL_SPOOL_HEADER], sl_signal sig,
                      uint32_t records, const void *data, uint32_t len);

/* CRC32C (Castagnoli) of n bytes, continuing from crc (0 to start). */
uint32_t sl__crc32c(uint32_t crc, const void *p, size_t n);

#endif

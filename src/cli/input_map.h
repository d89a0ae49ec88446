/* src/cli/input_map.h: an input file mapped read-only into memory, so
 * the parser reads the page cache in place instead of a copy made by
 * read(2), safe against the file shrinking while it is read.
 *
 * A mapped file that is truncated under the reader (logrotate's
 * copytruncate) would raise SIGBUS on the first page past the new end.
 * A process-wide SIGBUS handler, installed on the first map, puts a page
 * of zeros in place of such a page of a live map and marks the map
 * truncated: the reader sees NUL bytes (never valid JSON, so nothing past
 * the cut is passed on), and sl_cli_map_truncated() tells the caller to
 * end the input with an error. A SIGBUS anywhere else keeps its default
 * action. Used by value_stream.c (every CLI input stream) and by
 * apply_threads.c (chunks point into the map instead of being read). */
#ifndef SL_CLI_INPUT_MAP_H
#define SL_CLI_INPUT_MAP_H

#include <sluice/sluice.h>

#include <stdbool.h>
#include <stddef.h>

typedef struct sl_cli_map {
    const char *ptr; /* the file's bytes, or NULL when not mapped */
    size_t len;
    int slot; /* the handler's slot for this map */
    int fd;   /* kept open to notice a shrink at the end */
} sl_cli_map;

/* Files larger than this are read, not mapped (the parser's offsets are
 * 32-bit, and one window of the stream is at most 1 GiB). */
#define SL_CLI_MAP_MAX ((size_t)1 << 30)

/* Map the regular file open on fd (which the map then owns) when it is
 * worth it: a regular file of 1 byte .. SL_CLI_MAP_MAX. Returns false,
 * leaving fd open and m->ptr NULL, when the caller should read instead
 * (a pipe, an empty or huge file, a failed mmap, all slots in use). */
bool sl_cli_map_open(sl_cli_map *m, int fd);

/* True once a page of m went missing under the reader (see above), or
 * when the file is now shorter than what was mapped. */
bool sl_cli_map_truncated(const sl_cli_map *m);

/* The error that ends a truncated input (name: the path shown). */
void sl_cli_map_truncation_error(sl_error *err, const char *name);

/* Warming: fault a map's pages in ahead of its readers, on a thread of
 * its own, while the caller does something else (`apply --threads`
 * compiles the policies meanwhile). A first read of a mapped page costs a
 * page fault; on 580 MB that is 75-140 ms of kernel time, paid on the
 * readers' critical path unless an idle core pays it first. Pages are
 * populated from the start in slices (MADV_POPULATE_READ, or a read per
 * page where the kernel lacks it, under the SIGBUS guard) until the end
 * of the map or sl_cli_map_warm_stop. What it costs in memory: page table
 * entries (2 KiB per MiB); the pages are the page cache's, shared. */
typedef struct sl_cli_warm sl_cli_warm;

/* Start warming m (borrowed until sl_cli_map_warm_stop). NULL when m is
 * not mapped or no thread could be started: nothing is warmed, nothing
 * else changes. */
sl_cli_warm *sl_cli_map_warm_start(const sl_cli_map *m);

/* Stop warming after the current slice and join the thread; returns the
 * bytes warmed. NULL is a no-op (0). */
size_t sl_cli_map_warm_stop(sl_cli_warm *w);

/* Drop the page table entries of the pages lying wholly inside
 * [p, p + len) of m, which its reader has finished with: a later read
 * faults them in again, with the same bytes (the map is a read-only view
 * of the file). Spreads the teardown that munmap (or the process exit)
 * would do at the end over the threads that read the map. */
void sl_cli_map_release(const sl_cli_map *m, const char *p, size_t len);

/* Unmap and close. A zeroed map is a no-op. */
void sl_cli_map_close(sl_cli_map *m);

#endif

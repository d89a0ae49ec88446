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

/* Unmap and close. A zeroed map is a no-op. */
void sl_cli_map_close(sl_cli_map *m);

#endif

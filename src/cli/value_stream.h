/* src/cli/value_stream.h: read a stream of whitespace-separated JSON values
 * (JSON lines, or pretty-printed documents one after another) from a file
 * or stdin in bounded windows, one parsed value at a time, with error
 * positions counted from the start of the whole stream. Used by `apply`,
 * `redact` and `record`; `apply --threads` also runs it over one chunk of
 * input in memory (sl_cli_stream_open_mem). */
#ifndef SL_CLI_VALUE_STREAM_H
#define SL_CLI_VALUE_STREAM_H

#include <sluice/sluice.h>

#include <stdio.h>

#include "cli/input_map.h"

/* Parse the value at *off of text[0..len) and advance *off past it, as
 * sl_doc_load_next() does (the default loader); SL_ENOTFOUND when only
 * whitespace is left. The text stays valid until the next stream call. */
typedef sl_status (*sl_cli_loader)(void *ud, const char *text, size_t len,
                                   size_t *off, const char *file,
                                   sl_error *err);

typedef struct sl_cli_stream {
    FILE *f;
    const char *name; /* for errors: the path, or "<stdin>" */
    char *buf;
    size_t counted;         /* lines counted in buf[0..counted) ... */
    uint32_t counted_lines; /* ... are this many */
    size_t len, cap, off;
    uint64_t bytes_read; /* from the file so far */
    int eof;
    uint32_t line_base; /* newlines before buf[0] */
    sl_doc *doc;        /* the default loader's value (borrows buf) */
    sl_cli_loader load; /* parses one value */
    void *load_ud;
    size_t limit;           /* parse up to here (see value_stream.c) */
    size_t value_start;     /* where the current value starts in buf */
    void (*wait)(void *ud); /* called before each read (set_wait) */
    void *wait_ud;
    /* a container value cut by the window edge: how far its bracket scan
     * got (relative to off) and the scan's state (see value_stream.c) */
    int scanning;
    size_t scan_at;
    uint32_t scan_depth;
    uint8_t scan_str, scan_esc;
    /* memory mode (sl_cli_stream_open_mem) */
    int in_memory; /* buf is borrowed; lines are relative (see open_mem) */
    int more;      /* input goes on past buf: a value cut by its end is
                      returned as SL_CLI_STREAM_MORE, not as an error */
    size_t stop;   /* no value starting at or after this is returned */
    /* a regular file is mapped, not read (input_map.h): buf is the map,
     * the whole file is one window and the stream is at eof from the
     * start */
    sl_cli_map map;
} sl_cli_stream;

/* sl_cli_stream_next's result for a value that may go on past the end of
 * an in-memory chunk opened with more = 1 (see open_mem). */
enum {
    SL_CLI_STREAM_MORE = -3
};

/* Open path ("-" = stdin). Returns 0, or prints an error and returns 1. */
int sl_cli_stream_open(sl_cli_stream *s, const char *path);

/* Run the stream over text[0..len) in memory (borrowed until close): a
 * chunk of a larger input, cut just past a newline. Values starting before
 * stop (<= len) are returned; text[stop..len) is lookahead only, read by a
 * value that runs past stop (see apply_threads.c for why one line of it
 * decides such a value exactly). With more = 0 the text ends where the
 * input ends. With more = 1 the input goes on after len: a value whose
 * parse runs into len (it might be complete with more input) is not
 * judged: next returns SL_CLI_STREAM_MORE, s->off stays at its start.
 * Line numbers (in errors, value_line) count from 1 at text[0]; a bad
 * value's error does not get the "(in the value starting at line N)"
 * note: the caller adds the chunk's line offset to err->line and to the
 * value line, then calls sl_cli_stream_locate. The caller may set s->off
 * (before the first next) to where the first value starts within text's
 * first line, so that columns count from the line's start. Nothing is
 * allocated. */
void sl_cli_stream_open_mem(sl_cli_stream *s, const char *name,
                            const char *text, size_t len, size_t stop, int more,
                            sl_cli_loader load, void *ud);

/* Finish a bad value's error: when it lies after the line where the value
 * starts (vline), say where the value starts. */
void sl_cli_stream_locate(sl_error *err, uint32_t vline);

/* Parse values with load(ud, ...) instead of into s->doc (call after
 * open, before the first next). */
void sl_cli_stream_set_loader(sl_cli_stream *s, sl_cli_loader load, void *ud);

/* Call wait(ud) before each read from the input, i.e. whenever every
 * value already read has been returned or is incomplete and the stream
 * is about to ask for more, which may block on a pipe: a caller flushes
 * its output there, so whoever reads it sees each finished value before
 * the stream waits for the next. Call after open. */
void sl_cli_stream_set_wait(sl_cli_stream *s, void (*wait)(void *ud), void *ud);

/* Next value: 1 with the loaded value (by default sl_doc_root(s->doc))
 * valid until the next call, 0 at
 * the end, -1 for a bad value (err filled, its line absolute; the stream
 * resumes after the bad line), -2 for a fatal error (err filled). */
int sl_cli_stream_next(sl_cli_stream *s, sl_error *err);

/* The 1-based line where the current (or rejected) value starts. Counts
 * lines in the window: call it for messages, not per value. */
uint32_t sl_cli_stream_value_line(sl_cli_stream *s);

void sl_cli_stream_close(sl_cli_stream *s);

/* The number of newlines in p[0..n). */
uint32_t sl_cli_count_lines(const char *p, size_t n);

#endif

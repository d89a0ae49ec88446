/* src/cli/value_stream.h: read a stream of whitespace-separated JSON values
 * (JSON lines, or pretty-printed documents one after another) from a file
 * or stdin in bounded windows, one parsed value at a time, with error
 * positions counted from the start of the whole stream. Used by `redact`
 * and `record`. */
#ifndef SL_CLI_VALUE_STREAM_H
#define SL_CLI_VALUE_STREAM_H

#include <sluice/sluice.h>

#include <stdio.h>

typedef struct sl_cli_stream {
    FILE *f;
    const char *name; /* for errors: the path, or "<stdin>" */
    char *buf;
    int mapped;             /* buf is the whole file, mmap'd */
    size_t counted;         /* lines counted in buf[0..counted) ... */
    uint32_t counted_lines; /* ... are this many */
    size_t len, cap, off;
    int eof;
    uint32_t line_base; /* newlines before buf[0] */
    sl_doc *doc;        /* holds the current value (borrows buf) */
    size_t limit;       /* parse up to here (see value_stream.c) */
    size_t value_start; /* where the current value starts in buf */
} sl_cli_stream;

/* Open path ("-" = stdin). Returns 0, or prints an error and returns 1. */
int sl_cli_stream_open(sl_cli_stream *s, const char *path);

/* Next value: 1 with sl_doc_root(s->doc) valid until the next call, 0 at
 * the end, -1 for a bad value (err filled, its line absolute; the stream
 * resumes after the bad line), -2 for a fatal error (err filled). */
int sl_cli_stream_next(sl_cli_stream *s, sl_error *err);

/* The 1-based line where the current (or rejected) value starts. Counts
 * lines in the window: call it for messages, not per value. */
uint32_t sl_cli_stream_value_line(sl_cli_stream *s);

void sl_cli_stream_close(sl_cli_stream *s);

#endif

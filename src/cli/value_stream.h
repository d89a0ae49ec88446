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
    size_t len, cap, off;
    int eof;
    uint32_t line_base;  /* newlines before buf[0] */
    uint32_t off_line;   /* line number (1-based) of buf[off] */
    sl_doc *doc;         /* holds the current value (borrows buf) */
    uint32_t value_line; /* line where the current value starts */
} sl_cli_stream;

/* Open path ("-" = stdin). Returns 0, or prints an error and returns 1. */
int sl_cli_stream_open(sl_cli_stream *s, const char *path);

/* Next value: 1 with sl_doc_root(s->doc) valid until the next call, 0 at
 * the end, -1 for a bad value (err filled, its line absolute; the stream
 * resumes after the bad line), -2 for a fatal error (err filled). */
int sl_cli_stream_next(sl_cli_stream *s, sl_error *err);

void sl_cli_stream_close(sl_cli_stream *s);

#endif

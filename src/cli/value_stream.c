/* src/cli/value_stream.c: a JSON value stream read in windows. Owns the
 * buffer handling; parsing is sl_doc_load_next's.
 *
 * The one idea: parse only up to the last newline of the window unless the
 * input has ended, so a value cut by the window edge is never taken for a
 * bad one; if a parse error still runs to the window edge (a value that
 * spans lines), read more and parse again from the value's start. The
 * window grows only for a value larger than itself. Lines are counted only
 * when a window is refilled and when a message needs one, never per value:
 * this loop runs at hundreds of MB/s.
 *
 * A regular file (up to 1 GiB) is mapped and parsed in place: the whole
 * file is one window, and read(2)'s copy, 12% of `apply`'s time, is gone.
 * A mapped file truncated while it is read (logrotate's copytruncate)
 * ends the input with an error instead of raising SIGBUS (input_map.h).
 * Other input is read: reads take what is there (read(2), not fread,
 * which waits for a full window), so a value that arrived on a pipe is
 * returned without waiting for more. The window is reused, so its pages
 * stay mapped and mostly in cache; reading a whole file into fresh memory
 * cost a fifth of `apply`'s time in page faults. */
#define _GNU_SOURCE /* memrchr */
#include "cli/value_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    WINDOW = 1 << 20,
    MAX_WINDOW = 1 << 30
};

static sl_status doc_loader(void *ud, const char *text, size_t len, size_t *off,
                            const char *file, sl_error *err) {
    return sl_doc_load_next(ud, text, len, off, file, NULL, err);
}

int sl_cli_stream_open(sl_cli_stream *s, const char *path) {
    memset(s, 0, sizeof(*s));
    int is_stdin = strcmp(path, "-") == 0;
    s->name = is_stdin ? "<stdin>" : path;
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        return 1;
    }
    s->map.slot = s->map.fd = -1;
    if (!is_stdin && sl_cli_map_open(&s->map, fd)) {
        s->buf = (char *)s->map.ptr; /* never written */
        s->len = s->cap = s->map.len;
        s->bytes_read = s->map.len;
        s->eof = 1;
    } else {
        s->f = is_stdin ? stdin : fdopen(fd, "rb");
        if (!s->f) {
            fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
            close(fd);
            return 1;
        }
        s->buf = malloc(WINDOW);
        s->cap = WINDOW;
    }
    s->doc = sl_doc_new();
    s->load = doc_loader;
    s->load_ud = s->doc;
    if (!s->doc || !s->buf) {
        fprintf(stderr, "%s: out of memory\n", s->name);
        sl_cli_stream_close(s);
        return 1;
    }
    return 0;
}

void sl_cli_stream_open_mem(sl_cli_stream *s, const char *name,
                            const char *text, size_t len, size_t stop, int more,
                            sl_cli_loader load, void *ud) {
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->buf = (char *)text; /* borrowed: never written, never freed */
    s->len = s->cap = len;
    s->eof = 1;
    s->in_memory = 1;
    s->more = more;
    s->stop = stop < len ? stop : len;
    s->load = load;
    s->load_ud = ud;
}

void sl_cli_stream_close(sl_cli_stream *s) {
    if (s->f && s->f != stdin) {
        fclose(s->f);
    }
    if (s->map.ptr) {
        sl_cli_map_close(&s->map);
    } else if (!s->in_memory) {
        free(s->buf);
    }
    sl_doc_free(s->doc);
    memset(s, 0, sizeof(*s));
}

void sl_cli_stream_set_loader(sl_cli_stream *s, sl_cli_loader load, void *ud) {
    s->load = load;
    s->load_ud = ud;
}

void sl_cli_stream_set_wait(sl_cli_stream *s, void (*wait)(void *ud),
                            void *ud) {
    s->wait = wait;
    s->wait_ud = ud;
}

uint32_t sl_cli_count_lines(const char *p, size_t n) {
    uint32_t lines = 0;
    const char *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            break;
        }
        lines++;
        p = nl + 1;
    }
    return lines;
}

uint32_t sl_cli_stream_value_line(sl_cli_stream *s) {
    /* values only move forward: count from where the last call stopped */
    if (s->counted > s->value_start) {
        s->counted = 0;
        s->counted_lines = 0;
    }
    s->counted_lines +=
        sl_cli_count_lines(s->buf + s->counted, s->value_start - s->counted);
    s->counted = s->value_start;
    return s->line_base + 1 + s->counted_lines;
}

/* Drop the consumed prefix, grow if full, read more. 0 ok, -2 fatal. */
static int fill(sl_cli_stream *s, sl_error *err) {
    if (s->off > 0) {
        s->line_base += sl_cli_count_lines(s->buf, s->off);
        s->counted = 0;
        s->counted_lines = 0;
        memmove(s->buf, s->buf + s->off, s->len - s->off);
        s->len -= s->off;
        s->off = 0;
    }
    if (s->len == s->cap) {
        if (s->cap >= MAX_WINDOW) {
            snprintf(err->msg, sizeof(err->msg), "one value over 1 GiB");
            err->code = SL_ELIMIT;
            return -2;
        }
        char *nb = realloc(s->buf, s->cap * 2);
        if (!nb) {
            snprintf(err->msg, sizeof(err->msg), "out of memory");
            err->code = SL_ENOMEM;
            return -2;
        }
        s->buf = nb;
        s->cap *= 2;
    }
    ssize_t n;
    do {
        if (s->wait) {
            s->wait(s->wait_ud);
        }
        n = read(fileno(s->f), s->buf + s->len, s->cap - s->len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        snprintf(err->msg, sizeof(err->msg), "read failed: %s",
                 strerror(errno));
        err->code = SL_EIO;
        return -2;
    }
    if (n == 0) {
        s->eof = 1;
    }
    s->len += (size_t)n;
    s->bytes_read += (uint64_t)n;
    s->limit = 0;
    return 0;
}

/* Just past the last newline of the window (everything at end of input). */
static size_t window_end(const sl_cli_stream *s) {
    if (s->eof) {
        return s->len;
    }
    const char *nl = memrchr(s->buf + s->off, '\n', s->len - s->off);
    return nl ? (size_t)(nl - s->buf) + 1 : s->off; /* s->off: no line yet */
}

/* Scan the cut container value at off for its closing bracket, from
 * where the last scan stopped (strings and escapes followed, nothing
 * else checked: the parser judges the value). Returns the value's length
 * once its brackets balance, 0 while more input is needed. */
static size_t scan_value(sl_cli_stream *s) {
    const char *b = s->buf + s->off;
    size_t n = s->len - s->off, i = s->scan_at;
    uint32_t depth = s->scan_depth;
    unsigned str = s->scan_str, esc = s->scan_esc;
    for (; i < n; i++) {
        char c = b[i];
        if (str) {
            if (esc) {
                esc = 0;
            } else if (c == '\\') {
                esc = 1;
            } else if (c == '"') {
                str = 0;
            }
        } else if (c == '"') {
            str = 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            s->scanning = 0;
            return i + 1;
        }
    }
    s->scan_at = i;
    s->scan_depth = depth;
    s->scan_str = (uint8_t)str;
    s->scan_esc = (uint8_t)esc;
    return 0;
}

static int refill(sl_cli_stream *s, sl_error *err) {
    int rc = fill(s, err);
    if (rc != 0) {
        snprintf(err->file, sizeof(err->file), "%s", s->name);
    }
    return rc;
}

void sl_cli_stream_locate(sl_error *err, uint32_t vline) {
    if (err->line > vline) {
        size_t ml = strlen(err->msg);
        snprintf(err->msg + ml, sizeof(err->msg) - ml,
                 " (in the value starting at line %u)", (unsigned)vline);
    }
}

/* A mapped file that shrank under the reader: the input ends here, with
 * this error, instead of with whatever the zeroed pages parse as. */
static int truncated(sl_cli_stream *s, sl_error *err) {
    sl_cli_map_truncation_error(err, s->name);
    s->off = s->len;
    return -2;
}

int sl_cli_stream_next(sl_cli_stream *s, sl_error *err) {
    for (;;) {
        if (s->in_memory) {
            /* blanks up to stop end the chunk: what follows is lookahead */
            while (s->off < s->stop &&
                   (s->buf[s->off] == ' ' || s->buf[s->off] == '\t' ||
                    s->buf[s->off] == '\n' || s->buf[s->off] == '\r')) {
                s->off++;
            }
            if (s->off >= s->stop) {
                return 0;
            }
        }
        if (s->limit <= s->off) {
            s->limit = window_end(s);
        }
        size_t limit = s->limit;
        if (limit <= s->off) {
            if (s->eof) {
                return s->map.ptr && sl_cli_map_truncated(&s->map)
                           ? truncated(s, err)
                           : 0;
            }
            int rc = refill(s, err);
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        size_t o = s->off;
        err->code = SL_OK;
        sl_status st = s->load(s->load_ud, s->buf, limit, &o, s->name, err);
        if (st == SL_ENOTFOUND) {
            s->off = limit;
            continue;
        }
        /* where the value starts (after leading whitespace) */
        size_t start = s->off;
        while (start < limit &&
               (s->buf[start] == ' ' || s->buf[start] == '\t' ||
                s->buf[start] == '\n' || s->buf[start] == '\r')) {
            start++;
        }
        s->value_start = start;
        if (st == SL_OK) {
            s->off = o;
            s->scanning = 0;
            return 1;
        }
        if (st == SL_ENOMEM) {
            return -2;
        }
        if (s->map.ptr && sl_cli_map_truncated(&s->map)) {
            return truncated(s, err);
        }
        if (s->more && o >= limit) {
            s->scanning = 0;
            return SL_CLI_STREAM_MORE; /* judged with what follows */
        }
        if (!s->eof && o >= limit) {
            /* may be a value cut by the window: read more, parse again.
             * A container is parsed again only once a bracket scan of the
             * new bytes finds its end (or the input ends), so a large
             * value arriving in small pipe reads costs one scan and one
             * more parse, not a parse per read. */
            bool container = s->buf[start] == '{' || s->buf[start] == '[';
            if (container && !s->scanning) {
                s->scanning = 1;
                s->scan_at = start - s->off;
                s->scan_depth = 0;
                s->scan_str = s->scan_esc = 0;
            }
            size_t end = 0;
            do {
                int rc = refill(s, err);
                if (rc != 0) {
                    return rc;
                }
            } while (container && !s->eof && (end = scan_value(s)) == 0);
            if (end) {
                size_t w = window_end(s);
                s->limit = w > s->off + end ? w : s->off + end;
            }
            continue;
        }
        uint32_t vline = sl_cli_stream_value_line(s);
        if (err->line) {
            err->line += s->line_base; /* the reader counts from buf[0] */
        } else {
            err->line = vline;
        }
        if (!s->in_memory) {
            sl_cli_stream_locate(err, vline);
        }
        size_t resume = o > start ? o : limit;
        if (st != SL_ESCHEMA && err->line > vline && err->col == 1) {
            /* a value cut short by its line's end (JSON lines): the next
             * line starts a new value, so resume there, not after it */
            size_t p = resume;
            if (p > start && s->buf[p - 1] == '\n') {
                p--;
            }
            while (p > start && s->buf[p - 1] != '\n') {
                p--;
            }
            if (p > start) {
                resume = p;
            }
        }
        s->off = resume;
        s->scanning = 0;
        return -1;
    }
}

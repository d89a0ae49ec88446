/* src/serve/log.h: the gateway's log: one JSON object per line on stderr,
 * {"ts":"<RFC 3339 UTC>","level":"info","msg":"..."}, written whole by one
 * call so that lines of different threads never mix. */
#ifndef SL_SERVE_LOG_H
#define SL_SERVE_LOG_H

typedef enum sl__serve_level {
    SL_SERVE_DEBUG = 0,
    SL_SERVE_INFO = 1,
    SL_SERVE_WARN = 2,
    SL_SERVE_ERROR = 3
} sl__serve_level;

/* Log a printf-style message (escaped as a JSON string). */
void sl__serve_log(sl__serve_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append s (n bytes) to dst as the inside of a JSON string, cut to fit
 * cap (always NUL-terminated); returns the new length. */
size_t sl__serve_json_escape(char *dst, size_t cap, const char *s, size_t n);

#endif

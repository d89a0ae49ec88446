/* src/serve/log.c: JSON-lines logging on stderr, with levels. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "serve/log.h"

static const char *const level_names[] = {"debug", "info", "warn", "error"};

size_t sl__serve_json_escape(char *dst, size_t cap, const char *s, size_t n) {
    size_t o = 0;
    if (cap == 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[8];
        size_t k = 0;
        if (c == '"' || c == '\\') {
            tmp[k++] = '\\';
            tmp[k++] = (char)c;
        } else if (c == '\n') {
            tmp[k++] = '\\';
            tmp[k++] = 'n';
        } else if (c < 0x20 || c == 0x7f) {
            k = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", c);
        } else {
            tmp[k++] = (char)c;
        }
        if (o + k + 1 > cap) {
            break;
        }
        memcpy(dst + o, tmp, k);
        o += k;
    }
    dst[o] = '\0';
    return o;
}

void sl__serve_log(sl__serve_level level, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    size_t mlen = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char esc[2048];
    sl__serve_json_escape(esc, sizeof(esc), msg, mlen);
    char line[2304];
    int len = snprintf(line, sizeof(line),
                       "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\","
                       "\"level\":\"%s\",\"msg\":\"%s\"}\n",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
                       level_names[level <= SL_SERVE_ERROR ? level : 0], esc);
    if (len > 0) {
        fputs(line, stderr);
    }
}

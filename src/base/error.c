/* src/base/error.c: filling and printing sl_error. Errors are filled where
 * the problem is found (only there is the position known); callers add
 * context by prefixing. Nothing here allocates, so out-of-memory can be
 * reported too. */
#include <sluice/common.h>

#include <stdio.h>

#include "base/base.h"

static const char *const status_names[] = {
    "ok",
    "out of memory",
    "invalid argument",
    "parse error",
    "schema error",
    "invalid pattern",
    "limit exceeded",
    "i/o error",
    "invalid utf-8",
    "not found",
    "invalid state",
    "storage error",
    "crypto error",
};
_Static_assert(SL_ARRAY_LEN(status_names) == SL_STATUS_COUNT_,
               "one name per sl_status");

const char *sl_status_str(sl_status s) {
    if ((unsigned)s >= SL_STATUS_COUNT_) {
        return "unknown status";
    }
    return status_names[s];
}

/* the format attribute lets clang's -Wformat=2 accept the va_list call */
__attribute__((format(printf, 4, 0))) sl_status
sl__verror(sl_error *err, sl_status code, const sl_pos *pos, const char *fmt,
           va_list ap) {
    if (!err) {
        return code;
    }
    err->code = code;
    err->line = pos ? pos->line : 0;
    err->col = pos ? pos->col : 0;
    err->file[0] = '\0';
    if (pos && pos->file) {
        snprintf(err->file, sizeof(err->file), "%s", pos->file);
    }
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    return code;
}

sl_status sl__error(sl_error *err, sl_status code, const sl_pos *pos,
                    const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sl__verror(err, code, pos, fmt, ap);
    va_end(ap);
    return code;
}

sl_status sl__nomem(sl_error *err) {
    if (err) {
        err->code = SL_ENOMEM;
        err->line = err->col = 0;
        err->file[0] = '\0';
        memcpy(err->msg, "out of memory", sizeof("out of memory"));
    }
    return SL_ENOMEM;
}

void sl__error_prefix(sl_error *err, const char *fmt, ...) {
    if (!err) {
        return;
    }
    char pre[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof(pre), fmt, ap);
    va_end(ap);
    /* messages are cut, never overflowed: copy what fits of each part */
    char old[sizeof(err->msg)];
    memcpy(old, err->msg, sizeof(old));
    size_t cap = sizeof(err->msg) - 1;
    size_t plen = strnlen(pre, cap);
    size_t olen = strnlen(old, sizeof(old) - 1);
    if (olen > cap - plen) {
        olen = cap - plen;
    }
    memcpy(err->msg, pre, plen);
    memcpy(err->msg + plen, old, olen);
    err->msg[plen + olen] = '\0';
}

void sl__quote(char *dst, size_t cap, const char *s, size_t n) {
    if (cap == 0) {
        return;
    }
    size_t cut = n > SL_QUOTE_MAX ? SL_QUOTE_MAX : n;
    /* never cut inside a UTF-8 sequence */
    while (cut > 0 && cut < n && ((unsigned char)s[cut] & 0xC0) == 0x80) {
        cut--;
    }
    snprintf(dst, cap, "\"%.*s%s\"", (int)cut, s, cut < n ? "..." : "");
}

size_t sl_error_format(const sl_error *err, char *buf, size_t cap) {
    if (!err) {
        return cap ? (buf[0] = '\0', 0) : 0;
    }
    int n;
    if (err->file[0] && err->line) {
        n = snprintf(buf, cap, "%s:%u:%u: %s", err->file, (unsigned)err->line,
                     (unsigned)err->col, err->msg);
    } else if (err->file[0]) {
        n = snprintf(buf, cap, "%s: %s", err->file, err->msg);
    } else if (err->line) {
        n = snprintf(buf, cap, "%u:%u: %s", (unsigned)err->line,
                     (unsigned)err->col, err->msg);
    } else {
        n = snprintf(buf, cap, "%s", err->msg);
    }
    return n < 0 ? 0 : (size_t)n;
}

/* src/base/buf.c: a growable byte buffer for writers. Growth doubles, so
 * appends are amortised O(1); a buffer is meant to be reused across records
 * (reset len to 0), never allocated per record. */
#include <sluice/common.h>

#include <stdio.h>

#include "base/base.h"

sl_status sl__buf_reserve(sl_buf *b, size_t extra) {
    size_t need = 0;
    if (__builtin_add_overflow(b->len, extra, &need) || need > SL_MAX_ARENA) {
        b->failed = 1;
        return SL_ELIMIT;
    }
    if (need + 1 <= b->cap) {
        return SL_OK;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need + 1) {
        cap *= 2;
    }
    char *p = sl__realloc(b->ptr, b->cap, cap);
    if (!p) {
        b->failed = 1;
        return SL_ENOMEM;
    }
    b->ptr = p;
    b->cap = cap;
    return SL_OK;
}

sl_status sl__buf_append(sl_buf *b, const void *p, size_t n) {
    if (n == 0) {
        return SL_OK;
    }
    sl_status rc = sl__buf_reserve(b, n);
    if (rc != SL_OK) {
        return rc;
    }
    memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return SL_OK;
}

sl_status sl_buf_append(sl_buf *b, const void *p, size_t n) {
    return sl__buf_append(b, p, n);
}

sl_status sl__buf_putc(sl_buf *b, char c) {
    if (b->len + 1 < b->cap) {
        b->ptr[b->len++] = c;
        b->ptr[b->len] = '\0';
        return SL_OK;
    }
    return sl__buf_append(b, &c, 1);
}

sl_status sl__buf_printf(sl_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[128];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return SL_EINVAL;
    }
    if ((size_t)n < sizeof(small)) {
        return sl__buf_append(b, small, (size_t)n);
    }
    sl_status rc = sl__buf_reserve(b, (size_t)n);
    if (rc != SL_OK) {
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return SL_OK;
}

void sl__buf_free(sl_buf *b) {
    sl_buf_free(b);
}

void sl_buf_free(sl_buf *b) {
    if (!b) {
        return;
    }
    sl__free(b->ptr, b->cap);
    b->ptr = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

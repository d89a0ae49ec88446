/* src/otlp/num.c: the scalar encodings of the proto JSON mapping that OTLP
 * uses: 64-bit integers as JSON numbers or decimal strings, doubles as
 * numbers or strings (with "NaN" / "Infinity"). Used by validation (is
 * this well formed?) and by typed access (what value?). Leaves out hex ids
 * (load.c), enums (load.c, field.c) and base64 bytes (base/codec.c). */
#include <sluice/otlp.h>

#include <math.h>
#include <stdlib.h>

#include "base/base.h"
#include "otlp/private.h"

/* Decimal integer, optional leading '-' (never for unsigned), digits only,
 * no leading '+', within int64 (or uint64 when is_unsigned; the bits are
 * stored in *out). */
bool sl__otlp_parse_i64(const char *s, size_t n, bool is_unsigned,
                        int64_t *out) {
    size_t i = 0;
    bool neg = false;
    if (n > 0 && s[0] == '-') {
        neg = true; /* unsigned: only "-0" passes, below */
        i = 1;
    }
    if (i >= n) {
        return false;
    }
    uint64_t v = 0;
    /* the first 18 digits cannot overflow: no checks for them */
    size_t fast = n - i <= 18 ? n : i + 18;
    for (; i < fast; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9) {
            return false;
        }
        v = v * 10 + d;
    }
    for (; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9) {
            return false;
        }
        if (__builtin_mul_overflow(v, 10u, &v) ||
            __builtin_add_overflow(v, d, &v)) {
            return false;
        }
    }
    if (is_unsigned) {
        if (neg && v != 0) {
            return false;
        }
        *out = (int64_t)v;
        return true;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) {
            return false;
        }
        *out = (int64_t)(0 - v);
        return true;
    }
    if (v > (uint64_t)INT64_MAX) {
        return false;
    }
    *out = (int64_t)v;
    return true;
}

/* A JSON-number-shaped text or one of the proto JSON special strings. */
bool sl__otlp_parse_double(const char *s, size_t n, double *out) {
    if (n == 3 && memcmp(s, "NaN", 3) == 0) {
        *out = NAN;
        return true;
    }
    if (n == 8 && memcmp(s, "Infinity", 8) == 0) {
        *out = INFINITY;
        return true;
    }
    if (n == 9 && memcmp(s, "-Infinity", 9) == 0) {
        *out = -INFINITY;
        return true;
    }
    char tmp[128];
    if (n == 0 || n >= sizeof(tmp)) {
        return false;
    }
    bool digit = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            digit = true;
        } else if (c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E') {
            return false;
        }
    }
    if (!digit) {
        return false;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end = NULL;
    double d = strtod(tmp, &end);
    if (end != tmp + n) {
        return false;
    }
    *out = d;
    return true;
}

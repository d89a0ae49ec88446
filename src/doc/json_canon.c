/* src/doc/json_canon.c: RFC 8785 (JSON Canonicalization Scheme) output, the
 * text the redactor hashes for any non-string value. Owns the canonical
 * number form and the UTF-16 key order; leaves the lossless writer to
 * json_write.c.
 *
 * The one idea: every number is an IEEE double printed the ECMAScript way
 * (Number.prototype.toString): the shortest digit string that reads back
 * to the same double, placed in plain or exponent form by the exponent.
 * The shortest digits come from printf's correctly rounded %.*e at
 * precisions 1..17, keeping the first that round-trips through strtod. */
#include <sluice/doc.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "doc/private.h"

/* Write d in ECMAScript Number::toString form. NaN and infinities have no
 * JSON form: SL_EINVAL. */
static sl_status write_number(sl_buf *out, double d) {
    if (!isfinite(d)) {
        return SL_EINVAL;
    }
    if (d == 0) {
        return sl__buf_append(out, "0", 1); /* -0 too */
    }
    char tmp[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d) {
            break;
        }
    }
    /* tmp: [-]D[.DDD]e[+-]XX -> digits and decimal exponent */
    const char *p = tmp;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    char digits[20] = {0};
    int k = 0;
    for (; *p && *p != 'e'; p++) {
        if (*p != '.' && k < (int)sizeof(digits)) {
            digits[k++] = *p;
        }
    }
    int e10 = (int)strtol(p + 1, NULL, 10);
    while (k > 1 && digits[k - 1] == '0') {
        k--;
    }
    int n = e10 + 1; /* value = 0.d1d2...dk * 10^n */
    char res[64];
    size_t r = 0;
    if (neg) {
        res[r++] = '-';
    }
    if (k <= n && n <= 21) {
        memcpy(res + r, digits, (size_t)k);
        r += (size_t)k;
        for (int i = 0; i < n - k; i++) {
            res[r++] = '0';
        }
    } else if (0 < n && n <= 21) {
        memcpy(res + r, digits, (size_t)n);
        r += (size_t)n;
        res[r++] = '.';
        memcpy(res + r, digits + n, (size_t)(k - n));
        r += (size_t)(k - n);
    } else if (-6 < n && n <= 0) {
        res[r++] = '0';
        res[r++] = '.';
        for (int i = 0; i < -n; i++) {
            res[r++] = '0';
        }
        memcpy(res + r, digits, (size_t)k);
        r += (size_t)k;
    } else {
        res[r++] = digits[0];
        if (k > 1) {
            res[r++] = '.';
            memcpy(res + r, digits + 1, (size_t)(k - 1));
            r += (size_t)(k - 1);
        }
        int x = n - 1;
        r += (size_t)snprintf(res + r, sizeof(res) - r, "e%c%d",
                              x < 0 ? '-' : '+', x < 0 ? -x : x);
    }
    return sl__buf_append(out, res, r);
}

/* A string with the minimal JCS escapes: \" \\ \b \f \n \r \t, other
 * controls as \u00xx, everything else (all valid UTF-8) as is. */
static sl_status write_string(sl_buf *out, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    sl_status rc = sl__buf_putc(out, '"');
    size_t run = 0; /* start of the pending unescaped run */
    for (size_t i = 0; i < len && rc == SL_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        rc = sl__buf_append(out, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t elen = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
            break;
        }
        if (rc == SL_OK) {
            rc = sl__buf_append(out, esc, elen);
        }
    }
    if (rc == SL_OK) {
        rc = sl__buf_append(out, s + run, len - run);
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(out, '"');
    }
    return rc;
}

/* Next code point of valid UTF-8 at *p (advanced). Invalid bytes read as
 * themselves so the order stays total. */
static uint32_t next_cp(const unsigned char **p, const unsigned char *end) {
    const unsigned char *s = *p;
    uint32_t c = *s++;
    int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (more) {
        c &= 0x3Fu >> more;
    }
    for (; more > 0 && s < end && (*s & 0xC0) == 0x80; more--) {
        c = (c << 6) | (*s++ & 0x3Fu);
    }
    *p = s;
    return c;
}

/* Order of two keys by their UTF-16 code units (RFC 8785 3.2.3). UTF-8
 * byte order is code point order, which differs from UTF-16 order only
 * between supplementary characters (surrogates 0xD800..) and U+E000..FFFF,
 * so compare code points mapped to their first UTF-16 unit. */
static int cmp_utf16(sl_str a, sl_str b) {
    const unsigned char *p = (const unsigned char *)a.ptr;
    const unsigned char *pe = p + a.len;
    const unsigned char *q = (const unsigned char *)b.ptr;
    const unsigned char *qe = q + b.len;
    while (p < pe && q < qe) {
        uint32_t x = next_cp(&p, pe);
        uint32_t y = next_cp(&q, qe);
        if (x == y) {
            continue;
        }
        uint32_t ux = x >= 0x10000 ? 0xD800 + ((x - 0x10000) >> 10) : x;
        uint32_t uy = y >= 0x10000 ? 0xD800 + ((y - 0x10000) >> 10) : y;
        if (ux != uy) {
            return ux < uy ? -1 : 1;
        }
        /* same high surrogate: the low surrogates decide */
        return (x & 0x3FF) < (y & 0x3FF) ? -1 : 1;
    }
    return (p < pe) - (q < qe);
}

static sl_status write_canon(sl_buf *out, const sl_node *n, uint32_t depth,
                             sl_error *err);

/* Members in UTF-16 key order: an insertion sort over an index array
 * (stable, so duplicate keys keep their input order; objects are small and
 * hashing a whole object is rare). */
static sl_status write_object(sl_buf *out, const sl_node *n, uint32_t depth,
                              sl_error *err) {
    size_t len = sl_node_len(n);
    size_t *idx = NULL;
    if (len > 0) {
        idx = sl__calloc(len, sizeof(*idx));
        if (!idx) {
            return sl__nomem(err);
        }
    }
    for (size_t i = 0; i < len; i++) {
        size_t j = i;
        sl_str ki = sl_node_key(n, i);
        while (j > 0 && cmp_utf16(sl_node_key(n, idx[j - 1]), ki) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    sl_status rc = sl__buf_putc(out, '{');
    for (size_t i = 0; i < len && rc == SL_OK; i++) {
        if (i > 0) {
            rc = sl__buf_putc(out, ',');
        }
        sl_str k = sl_node_key(n, idx[i]);
        if (rc == SL_OK) {
            rc = write_string(out, k.ptr, k.len);
        }
        if (rc == SL_OK) {
            rc = sl__buf_putc(out, ':');
        }
        if (rc == SL_OK) {
            rc = write_canon(out, sl_node_at(n, idx[i]), depth + 1, err);
        }
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(out, '}');
    }
    sl__free(idx, len * sizeof(*idx));
    return rc;
}

static sl_status write_canon(sl_buf *out, const sl_node *n, uint32_t depth,
                             sl_error *err) {
    if (depth > SL_MAX_DEPTH) {
        return sl__error(err, SL_ELIMIT, NULL, "nesting deeper than %d",
                         SL_MAX_DEPTH);
    }
    sl_status rc = SL_OK;
    switch (sl_node_kind_of(n)) {
    case SL_NODE_NULL:
        return sl__buf_append(out, "null", 4);
    case SL_NODE_BOOL:
        return sl_node_bool(n) ? sl__buf_append(out, "true", 4)
                               : sl__buf_append(out, "false", 5);
    case SL_NODE_INT:
    case SL_NODE_FLOAT: {
        double d = 0;
        if (n->flags & SL__NF_TOML_SPECIAL || sl_node_double(n, &d) != SL_OK) {
            return sl__error(err, SL_EINVAL, NULL,
                             "number has no canonical json form");
        }
        rc = write_number(out, d);
        if (rc == SL_EINVAL) {
            return sl__error(err, SL_EINVAL, NULL,
                             "number out of the double range");
        }
        return rc;
    }
    case SL_NODE_ARRAY: {
        rc = sl__buf_putc(out, '[');
        size_t len = sl_node_len(n);
        for (size_t i = 0; i < len && rc == SL_OK; i++) {
            if (i > 0) {
                rc = sl__buf_putc(out, ',');
            }
            if (rc == SL_OK) {
                rc = write_canon(out, sl_node_at(n, i), depth + 1, err);
            }
        }
        if (rc == SL_OK) {
            rc = sl__buf_putc(out, ']');
        }
        return rc;
    }
    case SL_NODE_OBJECT:
        return write_object(out, n, depth, err);
    default: { /* strings; TOML date/times are written as their text */
        sl_str s = sl_node_str(n);
        return write_string(out, s.ptr, s.len);
    }
    }
}

sl_status sl_json_write_canonical(sl_buf *out, const sl_node *n,
                                  sl_error *err) {
    if (!out) {
        return sl__error(err, SL_EINVAL, NULL, "no output buffer");
    }
    size_t old = out->len;
    sl_status rc = write_canon(out, n, 0, err);
    if (rc != SL_OK) {
        if (out->ptr) {
            out->len = old;
            out->ptr[old] = '\0';
        }
        if (rc == SL_ENOMEM) {
            sl__nomem(err);
        } else if (rc == SL_ELIMIT && err && err->code != SL_ELIMIT) {
            sl__error(err, SL_ELIMIT, NULL, "canonical text too large");
        }
    }
    return rc;
}

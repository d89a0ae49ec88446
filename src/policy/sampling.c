/* src/policy/sampling.c: the arithmetic of OpenTelemetry consistent
 * probability sampling: rejection thresholds, their `th` encoding, rv / th
 * decoding, trace-id randomness and the tracestate `ot=` entry. Owns no
 * state and decides nothing; eval.c decides.
 *
 * The one idea: thresholds are 56-bit integers; a record is kept when its
 * 56-bit randomness R is >= the threshold T. policy-rs computes T in f64 and
 * truncates its hex encoding (reference §9, §8), and so does this file. */
#include "base/codec.h"
#include "policy/private.h"

uint64_t sl__sampling_threshold(double ratio) {
    if (!(ratio > 0.0)) {
        return SL_SAMPLING_MAX;
    }
    if (ratio >= 1.0) {
        return 0;
    }
    double t = (1.0 - ratio) * 72057594037927936.0; /* 2^56 */
    if (t >= 72057594037927936.0) {
        return SL_SAMPLING_MAX;
    }
    return t <= 0.0 ? 0 : (uint64_t)t;
}

size_t sl__sampling_encode(uint64_t t, uint32_t prec, char *out) {
    static const char hex[] = "0123456789abcdef";
    if (t >= SL_SAMPLING_MAX) {
        t = SL_SAMPLING_MAX - 1;
    }
    if (prec < 1) {
        prec = 1;
    }
    if (prec > 14) {
        prec = 14;
    }
    char digits[14];
    for (int i = 13; i >= 0; i--) {
        digits[i] = hex[t & 0xf];
        t >>= 4;
    }
    size_t n = prec;
    while (n > 0 && digits[n - 1] == '0') {
        n--;
    }
    memcpy(out, digits, n);
    out[n] = '\0';
    return n;
}

bool sl__sampling_decode(const char *s, size_t len, uint64_t *out) {
    if (len == 0 || len > 14) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < 14; i++) {
        int d = 0;
        if (i < len) {
            d = sl__hexval(s[i]);
            if (d < 0) {
                return false;
            }
        }
        v = (v << 4) | (uint64_t)d;
    }
    *out = v;
    return true;
}

bool sl__sampling_hex_suffix(const char *s, size_t len, uint64_t *out) {
    if (len < 14) {
        return false;
    }
    const char *p = s + len - 14;
    size_t i = 0;
    if (p[0] == '+') { /* u64::from_str_radix takes a leading '+' */
        i = 1;
    }
    uint64_t v = 0;
    for (; i < 14; i++) {
        int d = sl__hexval(p[i]);
        if (d < 0) {
            return false;
        }
        v = (v << 4) | (uint64_t)d;
    }
    *out = v;
    return true;
}

/* The tracestate is `key=value` list members separated by ','; the `ot`
 * member's value is `k:v` pairs separated by ';'. */
void sl__sampling_parse_tracestate(const char *s, size_t len,
                                   sl__tracestate *out) {
    memset(out, 0, sizeof(*out));
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != ',') {
            end++;
        }
        size_t a = i, b = end;
        while (a < b && (s[a] == ' ' || s[a] == '\t')) {
            a++;
        }
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) {
            b--;
        }
        if (b - a >= 3 && s[a] == 'o' && s[a + 1] == 't' && s[a + 2] == '=') {
            size_t j = a + 3;
            while (j < b) {
                size_t e = j;
                while (e < b && s[e] != ';') {
                    e++;
                }
                if (e - j >= 3 && s[j + 2] == ':') {
                    uint64_t v = 0;
                    bool ok = sl__sampling_decode(s + j + 3, e - j - 3, &v);
                    if (s[j] == 'r' && s[j + 1] == 'v' && ok) {
                        out->has_rv = true;
                        out->rv = v;
                    } else if (s[j] == 't' && s[j + 1] == 'h' && ok) {
                        out->has_th = true;
                        out->th = v;
                    }
                }
                j = e + 1;
            }
            return; /* only the first ot entry counts */
        }
        i = end + 1;
    }
}

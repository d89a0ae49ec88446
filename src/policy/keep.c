/* src/policy/keep.c: log keep strings and restrictiveness. Owns the
 * grammar of `all` / `none` / `N%` / `R/s` / `R/m` / `R/Ds` / `R/Dm` and
 * the restrictiveness scale that picks the winner among matching policies;
 * leaves the acting on a keep (sampling, rate limits) to eval.c.
 *
 * The one idea: this is policy-rs 1.7 keep.rs to the letter
 * (reference/policy-engine-upstream.md §2 "Keep encodings"), including what
 * it accepts that the spec does not (`0/s`, whitespace around parts). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy/private.h"

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

static void trim(const char **s, size_t *len) {
    while (*len > 0 && is_space(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_space((*s)[*len - 1])) {
        (*len)--;
    }
}

static bool ieq(const char *s, size_t len, const char *lit) {
    return sl__ascii_ieq(s, len, lit, strlen(lit));
}

/* Rust's f64::from_str: [+-]? (digits [. digits?] | . digits) ([eE] [+-]?
 * digits)? or inf / infinity / nan (any case). */
static bool parse_f64(const char *s, size_t len, double *out) {
    char tmp[64];
    if (len == 0 || len >= sizeof(tmp)) {
        return false;
    }
    size_t i = 0;
    if (s[i] == '+' || s[i] == '-') {
        i++;
    }
    const char *rest = s + i;
    size_t rlen = len - i;
    if (ieq(rest, rlen, "inf") || ieq(rest, rlen, "infinity")) {
        *out = s[0] == '-' ? -INFINITY : INFINITY;
        return true;
    }
    if (ieq(rest, rlen, "nan")) {
        *out = NAN;
        return true;
    }
    size_t digits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        i++;
        digits++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
            digits++;
        }
    }
    if (digits == 0) {
        return false;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        size_t ed = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
            ed++;
        }
        if (ed == 0) {
            return false;
        }
    }
    if (i != len) {
        return false;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    *out = strtod(tmp, NULL);
    return true;
}

/* Rust's u64::from_str: optional '+', then digits only, no overflow. */
static bool parse_u64(const char *s, size_t len, uint64_t *out) {
    size_t i = 0;
    if (len > 0 && s[0] == '+') {
        i = 1;
    }
    if (i == len) {
        return false;
    }
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v)) {
            return false;
        }
    }
    *out = v;
    return true;
}

static bool fail(char *msg, size_t cap, const char *what, const char *s,
                 size_t len) {
    char q[64];
    sl__quote(q, sizeof(q), s, len);
    snprintf(msg, cap, "%s %s", what, q);
    return false;
}

bool sl__policy_parse_keep(const char *s, size_t len, sl__keep *out, char *msg,
                           size_t cap) {
    const char *orig = s;
    size_t olen = len;
    trim(&s, &len);
    sl__keep k = {0};
    if (len == 0 || ieq(s, len, "all")) {
        k.kind = SL_KEEP_ALL;
        *out = k;
        return true;
    }
    if (ieq(s, len, "none")) {
        k.kind = SL_KEEP_NONE;
        *out = k;
        return true;
    }
    if (s[len - 1] == '%') {
        const char *n = s;
        size_t nlen = len - 1;
        trim(&n, &nlen);
        double pct = 0;
        if (!parse_f64(n, nlen, &pct)) {
            return fail(msg, cap, "invalid percentage", orig, olen);
        }
        if (!(pct >= 0.0 && pct <= 100.0)) {
            return fail(msg, cap, "percentage must be between 0 and 100:", orig,
                        olen);
        }
        if (pct >= 100.0) {
            k.kind = SL_KEEP_ALL;
        } else if (pct <= 0.0) {
            k.kind = SL_KEEP_NONE;
        } else {
            k.kind = SL_KEEP_PERCENT;
            k.ratio = pct / 100.0;
        }
        *out = k;
        return true;
    }
    const char *slash = memchr(s, '/', len);
    if (!slash) {
        return fail(msg, cap, "invalid keep value", orig, olen);
    }
    const char *r = s;
    size_t rlen = (size_t)(slash - s);
    trim(&r, &rlen);
    const char *w = slash + 1;
    size_t wlen = (size_t)(s + len - w);
    trim(&w, &wlen);
    uint64_t limit = 0;
    if (!parse_u64(r, rlen, &limit)) {
        return fail(msg, cap, "invalid rate limit count in", orig, olen);
    }
    if (wlen == 0) {
        return fail(msg, cap, "invalid rate limit window in", orig, olen);
    }
    char unit = w[wlen - 1];
    uint64_t mult = 0;
    if (unit == 's') {
        mult = 1;
    } else if (unit == 'm') {
        mult = 60;
    } else {
        return fail(msg, cap, "invalid rate limit unit in", orig, olen);
    }
    const char *d = w;
    size_t dlen = wlen - 1;
    trim(&d, &dlen);
    uint64_t count = 1;
    if (dlen > 0) {
        if (!parse_u64(d, dlen, &count) || count == 0) {
            return fail(msg, cap, "invalid rate limit window in", orig, olen);
        }
    }
    uint64_t secs = 0;
    if (__builtin_mul_overflow(count, mult, &secs) ||
        secs > UINT64_MAX / 1000000000u) {
        return fail(msg, cap, "rate limit window too long in", orig, olen);
    }
    k.kind = SL_KEEP_RATE;
    k.limit = limit;
    k.window_secs = secs;
    *out = k;
    return true;
}

uint32_t sl__policy_restrictiveness(const sl__keep *k) {
    switch (k->kind) {
    case SL_KEEP_NONE:
        return 1000;
    case SL_KEEP_PERCENT: {
        double v = 100.0 - k->ratio * 100.0;
        return v <= 0.0 ? 0u : (uint32_t)v; /* Rust `as u32` truncates */
    }
    case SL_KEEP_RATE:
        return 10;
    case SL_KEEP_ALL:
    default:
        return 0;
    }
}

/* tests/redact/test_gate.c: the detectors' gate, the test that lets most
 * strings skip the Vectorscan scan. It must hold for every string any
 * detector can match, so it is checked here against a plain reference of
 * its rule (an '@', the word "authorization", or a run of 16 token bytes
 * with an upper-case letter, '_', '-' or "bearer" and a blank), on chosen
 * strings and on many random ones of every length and alignment, through
 * both of its paths (AVX2 where the CPU has it, a byte at a time). */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "redact/private.h"

static bool in_g(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || (c != 0 && strchr("+/=._~\\-", c));
}

static bool has(const char *s, size_t len, const char *w, bool caseless) {
    size_t n = strlen(w);
    for (size_t i = 0; i + n <= len; i++) {
        size_t k = 0;
        while (k < n && (caseless ? (s[i + k] | 0x20) : s[i + k]) == w[k]) {
            k++;
        }
        if (k == n) {
            return true;
        }
    }
    return false;
}

static bool reference(const char *s, size_t len) {
    if (len < 10) {
        return false;
    }
    bool at = false, special = false, blank = false, run = false;
    size_t r = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        at |= c == '@';
        special |= (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
        blank |= c == ' ' || c == '\t';
        r = in_g(c) ? r + 1 : 0;
        run |= r >= 16;
    }
    bool bearer = has(s, len, "earer", false) || has(s, len, "EARER", false);
    return at || has(s, len, "authorization", true) ||
           (run && (special || (blank && bearer)));
}

/* s copied to a heap block of exactly its size, so reading past either
 * end is an ASan error. */
static void check(const char *s, size_t len) {
    char *p = malloc(len ? len : 1);
    cr_assert_not_null(p);
    memcpy(p, s, len);
    bool want = reference(p, len);
    cr_assert_eq(sl__redact_detect_gate(p, len), want, "len %zu: %.*s", len,
                 (int)len, p);
    cr_assert_eq(sl__redact_detect_gate_bytes(p, len), want,
                 "bytes, len %zu: %.*s", len, (int)len, p);
    free(p);
}

static void check_str(const char *s) {
    check(s, strlen(s));
}

Test(gate, opens_on_what_a_detector_needs) {
    check_str("AKIAIOSFODNN7EXAMPLE");
    check_str("note: retry with key AKIAIOSFODNN7EXAMPLE if throttled");
    check_str("Authorization: Basic dXNlcjpwYXNz");
    check_str("AUTHORIZATION=basic dXNlcjpwYXNz");
    check_str("bearer 0123456789abcdef0123456789");
    check_str("pg://u:pw@h");
    check_str("ghp_0123456789abcdefghijklmnopqrstuvwxyz");
    cr_assert(sl__redact_detect_gate("bearer 0123456789abcdef0123", 27));
    cr_assert(sl__redact_detect_gate("x Authorization y", 17));
}

Test(gate, stays_shut_on_prose_ids_and_timestamps) {
    const char *shut[] = {
        "2026-11-23T17:05:12.123456Z",
        "0123456789abcdef0123456789abcdef",
        "https://api.example.com/v1/search?q=deadbeef",
        "the agent calls search results for query model returns summary",
        "zzzzzzzzzzzzzzzzzzzz zzzz",
        "0123456789abcdef0123456789abcdef 0123456789abcdef",
        "short@",
    };
    for (size_t i = 0; i < sizeof(shut) / sizeof(shut[0]); i++) {
        cr_assert_not(sl__redact_detect_gate(shut[i], strlen(shut[i])), "%s",
                      shut[i]);
        check_str(shut[i]);
    }
}

/* Runs of token bytes of 15, 16 and 17 bytes ending at every position,
 * so they straddle each 8-, 16- and 32-byte step of the gate. */
Test(gate, finds_runs_across_every_boundary) {
    char buf[160];
    for (size_t runlen = 15; runlen <= 17; runlen++) {
        for (size_t end = runlen; end <= 130; end++) {
            for (size_t tail = 0; tail < 4; tail++) {
                size_t len = end + tail;
                memset(buf, ' ', len);
                memset(buf + end - runlen, 'a', runlen);
                buf[end - runlen] = 'Q'; /* special */
                check(buf, len);
            }
        }
    }
}

static unsigned long long seed = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return (unsigned)(seed % n);
}

/* Random strings of 0 to 200 bytes from the bytes on either side of every
 * class boundary, with words and token runs planted. */
Test(gate, agrees_with_its_rule_on_random_strings) {
    static const char bytes[] = "aAzZoOpP09@ \t_-+/=.~\\:{}[]\"'`^|,;!#$%&()*"
                                "\x7f\x80\xc3\xa9\xff\x01\n";
    static const char *const words[] = {"authorization", "AuThOrIzAtIoN",
                                        "bearer ",       "BEARER\t",
                                        "earer",         "authorizatio"};
    char buf[256];
    for (int iter = 0; iter < 200000; iter++) {
        size_t len = rnd(201);
        for (size_t i = 0; i < len; i++) {
            buf[i] = bytes[rnd(sizeof(bytes) - 1)];
        }
        if (len > 20 && rnd(3) == 0) { /* a run of token bytes */
            size_t n = 12 + rnd(8), at = rnd((unsigned)(len - n));
            for (size_t k = 0; k < n; k++) {
                buf[at + k] = "abc019xyz+/=._~"[rnd(15)];
            }
        }
        if (len > 20 && rnd(4) == 0) {
            const char *w = words[rnd(6)];
            size_t n = strlen(w), at = rnd((unsigned)(len - n));
            memcpy(buf + at, w, n);
        }
        check(buf, len);
    }
}

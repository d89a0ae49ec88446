/* src/base/codec.c: hex digits and base64 decoding (see codec.h). */
#include <sluice/common.h>

#include "base/base.h"
#include "base/codec.h"

int sl__hexval(int c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20; /* ASCII lower case; non-letters stay out of a..f */
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

static int b64_val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+' || c == '-') {
        return 62;
    }
    if (c == '/' || c == '_') {
        return 63;
    }
    return -1;
}

long sl__base64_decode(const char *s, size_t n, uint8_t *out) {
    /* padding: up to two '=' at the end, only when the length is a
     * multiple of 4 */
    size_t m = n;
    if (m % 4 == 0 && m >= 4 && s[m - 1] == '=') {
        m--;
        if (s[m - 1] == '=') {
            m--;
        }
    }
    if (m % 4 == 1 || n > (size_t)1 << 30) {
        return -1;
    }
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < m; i++) {
        int v = b64_val((unsigned char)s[i]);
        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (out) {
                out[o] = (uint8_t)(acc >> bits);
            }
            o++;
            acc &= (1u << bits) - 1;
        }
    }
    return (long)o;
}

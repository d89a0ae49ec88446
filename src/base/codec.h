/* src/base/codec.h: small text codecs shared by the readers and loaders:
 * hex digits and base64 (proto-JSON bytes). One copy, so every module
 * accepts exactly the same spellings. */
#ifndef SL_BASE_CODEC_H
#define SL_BASE_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Value of a hex digit (either case), or -1. */
int sl__hexval(int c);

/* Decode standard or URL-safe base64 (proto-JSON accepts both). Padding is
 * optional, but when present it must make the length a multiple of 4.
 * out may be NULL to learn the decoded length; otherwise it needs
 * n / 4 * 3 + 3 bytes. Returns the decoded length, or -1 if s is not
 * base64. */
long sl__base64_decode(const char *s, size_t n, uint8_t *out);

/* Length of the valid UTF-8 sequence at p (1..4, p < end), or 0 when
 * invalid: overlong forms, UTF-16 surrogates and code points above
 * U+10FFFF are rejected. One copy for the JSON reader and the OTLP/JSON
 * fast pass (src/otlp/scan.c), so both accept exactly the same text. */
static inline __attribute__((always_inline)) size_t
sl__utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned char c = p[0];
    if (c < 0x80) {
        return 1;
    }
    size_t avail = (size_t)(end - p);
    if (c >= 0xC2 && c <= 0xDF) {
        return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) {
            return 0;
        }
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)) {
            return 0; /* overlong, or a UTF-16 surrogate */
        }
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80) {
            return 0;
        }
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)) {
            return 0; /* overlong, or above U+10FFFF */
        }
        return 4;
    }
    return 0;
}

#endif

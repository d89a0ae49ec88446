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

#endif

/* src/base/hash.c: FNV-1a 64 (the policy engine's sampling hash, as
 * upstream) and SHA-256 / HMAC-SHA256 through libcrypto (audited; no
 * home-made crypto). */
#include <sluice/common.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/base.h"

uint64_t sl__fnv1a64_update(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t sl__fnv1a64(const void *p, size_t n) {
    return sl__fnv1a64_update(SL_FNV64_OFFSET, p, n);
}

sl_status sl__sha256(const void *p, size_t n, uint8_t out[SL_SHA256_LEN]) {
    unsigned int olen = 0;
    if (!EVP_Digest(p, n, out, &olen, EVP_sha256(), NULL) ||
        olen != SL_SHA256_LEN) {
        return SL_ECRYPTO;
    }
    return SL_OK;
}

sl_status sl__hmac_sha256(const void *key, size_t klen, const void *p, size_t n,
                          uint8_t out[SL_SHA256_LEN]) {
    unsigned int olen = 0;
    if (klen > INT32_MAX ||
        !HMAC(EVP_sha256(), key, (int)klen, p, n, out, &olen) ||
        olen != SL_SHA256_LEN) {
        return SL_ECRYPTO;
    }
    return SL_OK;
}

/* A byte's two hex digits at a time (ids are hex-encoded per record). */
void sl__hex(const uint8_t *p, size_t n, char *out) {
    static const char pairs[513] =
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
        "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
        "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
        "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
        "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
    const uint8_t *q = p, *e = p + n;
    char *o = out;
#ifdef __SSE2__
    /* eight bytes at a time: their high and low nibbles interleaved one per
     * byte, each made its digit ('0' + d, 39 more from 10 on: 'a' + d - 10) */
    const __m128i nib = _mm_set1_epi8(0x0f);
    for (; e - q >= 8; q += 8, o += 16) {
        __m128i x = _mm_loadl_epi64((const __m128i *)(const void *)q);
        __m128i d = _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(x, 4), nib),
                                      _mm_and_si128(x, nib));
        __m128i ten = _mm_and_si128(_mm_cmpgt_epi8(d, _mm_set1_epi8(9)),
                                    _mm_set1_epi8(39));
        d = _mm_add_epi8(_mm_add_epi8(d, _mm_set1_epi8('0')), ten);
        _mm_storeu_si128((__m128i *)(void *)o, d);
    }
#endif
    for (; q < e; q++, o += 2) {
        memcpy(o, pairs + 2 * *q, 2);
    }
    *o = '\0';
}

void sl__wipe(void *p, size_t n) {
    if (p && n) {
        OPENSSL_cleanse(p, n);
    }
}

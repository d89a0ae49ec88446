/* src/base/hash.c: FNV-1a 64 (the policy engine's sampling hash, as
 * upstream) and SHA-256 / HMAC-SHA256 through libcrypto (audited; no
 * home-made crypto). */
#include <sluice/common.h>

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
    for (size_t i = 0; i < n; i++) {
        memcpy(out + 2 * i, pairs + 2 * p[i], 2);
    }
    out[2 * n] = '\0';
}

void sl__wipe(void *p, size_t n) {
    if (p && n) {
        OPENSSL_cleanse(p, n);
    }
}

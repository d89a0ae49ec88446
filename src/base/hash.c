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

void sl__hex(const uint8_t *p, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void sl__wipe(void *p, size_t n) {
    if (p && n) {
        OPENSSL_cleanse(p, n);
    }
}

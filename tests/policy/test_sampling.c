/* tests/policy/test_sampling.c: consistent probability sampling arithmetic
 * against the vectors of reference/policy-engine-upstream.md §9: policy-rs
 * thresholds and their truncated th encoding, rv/th decoding, trace-id
 * randomness, the tracestate's ot entry, and FNV-1a 64. */
#include <criterion/criterion.h>

#include "policy/private.h"

static const char *enc(double pct, uint32_t prec) {
    static char out[16];
    sl__sampling_encode(sl__sampling_threshold(pct / 100.0), prec, out);
    return out;
}

Test(sampling, thresholds_match_policy_rs) {
    cr_assert_eq(sl__sampling_threshold(0.5), 0x80000000000000ull);
    cr_assert_eq(sl__sampling_threshold(0.10), 0xe6666666666668ull);
    cr_assert_eq(sl__sampling_threshold(0.01), 0xfd70a3d70a3d70ull);
    /* trunc((1 - 0.001) * 2^56) in f64; the reference's ...a3d708 is a typo */
    cr_assert_eq(sl__sampling_threshold(0.001), 0xffbe76c8b43958ull);
    cr_assert_eq(sl__sampling_threshold(1.0), 0);
    cr_assert_eq(sl__sampling_threshold(0.0), SL_SAMPLING_MAX);
}

Test(sampling, encodings_truncate) {
    cr_assert_str_eq(enc(50, 4), "8");
    cr_assert_str_eq(enc(25, 4), "c");
    cr_assert_str_eq(enc(75, 4), "4");
    cr_assert_str_eq(enc(10, 4), "e666");
    cr_assert_str_eq(enc(10, 8), "e6666666");
    cr_assert_str_eq(enc(1, 4), "fd7");
    cr_assert_str_eq(enc(0.1, 4), "ffbe");
    cr_assert_str_eq(enc(99.99, 4), "0006");
    /* all zeros after truncation: policy-rs gives "" */
    cr_assert_str_eq(enc(99.9999, 4), "");
    char out[16];
    sl__sampling_encode(0, 4, out);
    cr_assert_str_eq(out, "");
    sl__sampling_encode(0xaaaaaaaaaaaaacull, 14, out);
    cr_assert_str_eq(out, "aaaaaaaaaaaaac");
}

Test(sampling, decode_right_pads) {
    uint64_t v = 0;
    cr_assert(sl__sampling_decode("abc", 3, &v));
    cr_assert_eq(v, 0xabc00000000000ull);
    cr_assert(sl__sampling_decode("8", 1, &v));
    cr_assert_eq(v, 0x80000000000000ull);
    cr_assert(sl__sampling_decode("0", 1, &v));
    cr_assert_eq(v, 0);
    cr_assert_not(sl__sampling_decode("", 0, &v));
    cr_assert_not(sl__sampling_decode("123456789012345", 15, &v));
    cr_assert_not(sl__sampling_decode("xyz", 3, &v));
}

Test(sampling, hex_suffix_randomness) {
    uint64_t r = 0;
    const char *id = "0af7651916cd43dd8448eb211c80319c";
    cr_assert(sl__sampling_hex_suffix(id, 32, &r));
    cr_assert_eq(r, 0x48eb211c80319cull);
    cr_assert_lt(r, sl__sampling_threshold(0.5)); /* 50%: dropped */
    const char *id2 = "abababababababababd29d6a7215ced0";
    cr_assert(sl__sampling_hex_suffix(id2, 32, &r));
    cr_assert_eq(r, 0xd29d6a7215ced0ull);
    cr_assert_not(sl__sampling_hex_suffix("abc", 3, &r));
    cr_assert_not(sl__sampling_hex_suffix("request-12345678", 16, &r));
}

Test(sampling, fnv1a64_vectors) {
    cr_assert_eq(sl__fnv1a64("request-123", 11), 0xa28e0a3e1b2b7513ull);
    cr_assert_eq(sl__fnv1a64("request-123", 11) & SL_SAMPLING_MASK,
                 0x8e0a3e1b2b7513ull);
    cr_assert_eq(sl__fnv1a64("", 0), 0xcbf29ce484222325ull);
}

Test(sampling, tracestate_ot_entry) {
    sl__tracestate ts;
    const char *s = "vendor1=abc,ot=th:4;rv:abc123,vendor2=xyz";
    sl__sampling_parse_tracestate(s, strlen(s), &ts);
    cr_assert(ts.has_th);
    cr_assert_eq(ts.th, 0x40000000000000ull);
    cr_assert(ts.has_rv);
    cr_assert_eq(ts.rv, 0xabc12300000000ull);
    s = "vendor1=abc";
    sl__sampling_parse_tracestate(s, strlen(s), &ts);
    cr_assert_not(ts.has_th);
    cr_assert_not(ts.has_rv);
    sl__sampling_parse_tracestate("", 0, &ts);
    cr_assert_not(ts.has_th);
}

/* tests/base/test_base.c: arena, buffer, errors, UTF-8, hashing. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "base/base.h"

Test(arena, allocations_are_aligned_and_distinct) {
    sl_arena a;
    sl__arena_init(&a);
    char *p = sl__arena_alloc(&a, 3);
    char *q = sl__arena_alloc(&a, 5);
    cr_assert_not_null(p);
    cr_assert_not_null(q);
    cr_assert_eq((uintptr_t)p % 16, 0);
    cr_assert_eq((uintptr_t)q % 16, 0);
    cr_assert_neq(p, q);
    sl__arena_free(&a);
}

Test(arena, large_request_gets_its_own_chunk) {
    sl_arena a;
    sl__arena_init(&a);
    char *p = sl__arena_alloc(&a, 10 * 1024 * 1024);
    cr_assert_not_null(p);
    memset(p, 1, 10 * 1024 * 1024);
    sl__arena_reset(&a);
    cr_assert_not_null(sl__arena_alloc(&a, 16));
    sl__arena_free(&a);
}

Test(arena, limit_is_enforced) {
    sl_arena a;
    sl__arena_init(&a);
    a.limit = 100 * 1024;
    cr_assert_null(sl__arena_alloc(&a, 1024 * 1024));
    sl__arena_free(&a);
}

Test(buf, append_and_printf_grow) {
    sl_buf b = {0};
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(sl__buf_printf(&b, "%d,", i), SL_OK);
    }
    cr_assert_eq(strncmp(b.ptr, "0,1,2,", 6), 0);
    cr_assert_eq(b.ptr[b.len], '\0');
    sl_buf_free(&b);
    cr_assert_null(b.ptr);
}

Test(error, format_has_file_line_col) {
    sl_error err = {0};
    sl_pos pos = {"p.json", 3, 7};
    cr_assert_eq(sl__error(&err, SL_ESCHEMA, &pos, "unknown key %s", "\"x\""),
                 SL_ESCHEMA);
    char line[512];
    sl_error_format(&err, line, sizeof(line));
    cr_assert_str_eq(line, "p.json:3:7: unknown key \"x\"");
    sl__error_prefix(&err, "policy %s: ", "a");
    sl_error_format(&err, line, sizeof(line));
    cr_assert_str_eq(line, "p.json:3:7: policy a: unknown key \"x\"");
}

Test(error, status_names_cover_every_code) {
    for (int s = 0; s < SL_STATUS_COUNT_; s++) {
        cr_assert_str_neq(sl_status_str((sl_status)s), "unknown status");
    }
    cr_assert_str_eq(sl_status_str((sl_status)99), "unknown status");
}

Test(error, quote_cuts_at_40_bytes) {
    char q[64];
    sl__quote(q, sizeof(q), "sometimes", 9);
    cr_assert_str_eq(q, "\"sometimes\"");
    sl__quote(q, sizeof(q), "0123456789012345678901234567890123456789TAIL", 44);
    cr_assert_str_eq(q, "\"0123456789012345678901234567890123456789...\"");
}

Test(utf8, rejects_overlong_surrogate_and_truncated) {
    cr_assert_eq(sl__utf8_valid_prefix("abc\xc3\xa9", 5), 5);
    cr_assert_eq(sl__utf8_valid_prefix("a\xc0\xaf", 3), 1);
    cr_assert_eq(sl__utf8_valid_prefix("a\xed\xa0\x80", 4), 1);
    cr_assert_eq(sl__utf8_valid_prefix("ab\xe2\x82", 4), 2);
    cr_assert_eq(sl__utf8_valid_prefix("\xf4\x90\x80\x80", 4), 0);
    cr_assert_eq(sl__utf8_valid_prefix("\xf0\x9f\x98\x80", 4), 4);
}

Test(utf8, encode_round_trips) {
    char out[4];
    cr_assert_eq(sl__utf8_encode(0x41, out), 1);
    cr_assert_eq(sl__utf8_encode(0xe9, out), 2);
    cr_assert_eq(sl__utf8_encode(0x20ac, out), 3);
    cr_assert_eq(memcmp(out, "\xe2\x82\xac", 3), 0);
    cr_assert_eq(sl__utf8_encode(0x1f600, out), 4);
    cr_assert_eq(sl__utf8_valid_prefix(out, 4), 4);
}

Test(hash, fnv1a64_vectors) {
    cr_assert_eq(sl__fnv1a64("", 0), 0xcbf29ce484222325ull);
    cr_assert_eq(sl__fnv1a64("request-123", 11), 0xa28e0a3e1b2b7513ull);
}

Test(hash, sha256_matches_sha256sum) {
    uint8_t d[SL_SHA256_LEN];
    char hex[2 * SL_SHA256_LEN + 1];
    cr_assert_eq(sl__sha256("abc", 3, d), SL_OK);
    sl__hex(d, sizeof(d), hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
                          "b00361a396177a9cb410ff61f20015ad");
}

/* sl__hex writes four bytes at a time and the rest one by one: every
 * byte value, at every position of every length up to 9, gives the two
 * lower-case digits printf gives. */
Test(hash, hex_every_byte_every_position) {
    uint8_t d[9];
    char hex[2 * sizeof(d) + 1], want[2 * sizeof(d) + 1];
    for (size_t n = 0; n <= sizeof(d); n++) {
        for (unsigned b = 0; b < 256; b++) {
            for (size_t i = 0; i < n; i++) {
                d[i] = (uint8_t)(b + 37 * i);
                snprintf(want + 2 * i, 3, "%02x", (unsigned)d[i]);
            }
            want[2 * n] = '\0';
            memset(hex, 'X', sizeof(hex));
            sl__hex(d, n, hex);
            cr_assert_str_eq(hex, want, "length %zu, first byte %u", n, b);
        }
    }
}

Test(hash, hmac_sha256_rfc4231_case2) {
    uint8_t d[SL_SHA256_LEN];
    char hex[2 * SL_SHA256_LEN + 1];
    const char *data = "what do ya want for nothing?";
    cr_assert_eq(sl__hmac_sha256("Jefe", 4, data, strlen(data), d), SL_OK);
    sl__hex(d, sizeof(d), hex);
    cr_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c7"
                          "5a003f089d2739839dec58b964ec3843");
}

Test(version, matches_header) {
    cr_assert_eq(sl_version(), SL_VERSION_HEX);
}

#include "base/codec.h"

Test(codec, hexval_accepts_both_cases_only) {
    cr_assert_eq(sl__hexval('0'), 0);
    cr_assert_eq(sl__hexval('9'), 9);
    cr_assert_eq(sl__hexval('a'), 10);
    cr_assert_eq(sl__hexval('F'), 15);
    cr_assert_eq(sl__hexval('g'), -1);
    cr_assert_eq(sl__hexval('G'), -1);
    cr_assert_eq(sl__hexval('@'), -1);
    cr_assert_eq(sl__hexval('`'), -1);
    cr_assert_eq(sl__hexval(' '), -1);
}

Test(codec, base64_standard_and_url_safe) {
    uint8_t out[16];
    cr_assert_eq(sl__base64_decode("aGVsbG8=", 8, out), 5);
    cr_assert_eq(memcmp(out, "hello", 5), 0);
    cr_assert_eq(sl__base64_decode("aGVsbG8", 7, out), 5);
    cr_assert_eq(sl__base64_decode("-_8", 3, out), 2);
    cr_assert_eq(out[0], 0xfb);
    cr_assert_eq(out[1], 0xff);
    cr_assert_eq(sl__base64_decode("+/8=", 4, NULL), 2);
    cr_assert_eq(sl__base64_decode("", 0, out), 0);
}

Test(codec, base64_rejects_bad_padding_and_characters) {
    cr_assert_eq(sl__base64_decode("a", 1, NULL), -1);
    cr_assert_eq(sl__base64_decode("aGVsbG8==", 9, NULL), -1);
    cr_assert_eq(sl__base64_decode("aG!s", 4, NULL), -1);
    cr_assert_eq(sl__base64_decode("a===", 4, NULL), -1);
}

Test(ascii_ieq, folds_ascii_letters_only_and_compares_every_byte) {
    cr_assert(sl__ascii_ieq("Content-Type", 12, "content-type", 12));
    cr_assert(sl__ascii_ieq("", 0, "", 0));
    cr_assert(!sl__ascii_ieq("gzip", 4, "gzip2", 5));
    /* only A-Z fold: '@' (0x40) is not '`' (0x60), '[' is not '{' */
    cr_assert(!sl__ascii_ieq("@", 1, "`", 1));
    cr_assert(!sl__ascii_ieq("[", 1, "{", 1));
    /* non-ASCII bytes compare as they are: \xc3\x89 is not \xc3\xa9 */
    cr_assert(!sl__ascii_ieq("\xc3\x89", 2, "\xc3\xa9", 2));
    cr_assert(sl__ascii_ieq("\xc3\xa9", 2, "\xc3\xa9", 2));
    /* NUL bytes are compared, not ends */
    cr_assert(sl__ascii_ieq("a\0B", 3, "A\0b", 3));
    cr_assert(!sl__ascii_ieq("a\0b", 3, "a\0c", 3));
}

/* tests/policy/test_keep.c: log keep strings (policy-rs keep.rs grammar)
 * and the restrictiveness scale that picks the winning policy. */
#include <criterion/criterion.h>

#include "policy/private.h"

static sl__keep parse_ok(const char *s) {
    sl__keep k = {0};
    char msg[128] = "";
    cr_assert(sl__policy_parse_keep(s, strlen(s), &k, msg, sizeof(msg)),
              "\"%s\": %s", s, msg);
    return k;
}

static void parse_bad(const char *s) {
    sl__keep k = {0};
    char msg[128] = "";
    cr_assert_not(sl__policy_parse_keep(s, strlen(s), &k, msg, sizeof(msg)),
                  "\"%s\" should be rejected", s);
    cr_assert(msg[0] != '\0');
}

Test(keep, all_none_and_empty) {
    cr_assert_eq(parse_ok("all").kind, SL_KEEP_ALL);
    cr_assert_eq(parse_ok("ALL").kind, SL_KEEP_ALL);
    cr_assert_eq(parse_ok("").kind, SL_KEEP_ALL);
    cr_assert_eq(parse_ok("  all ").kind, SL_KEEP_ALL);
    cr_assert_eq(parse_ok("none").kind, SL_KEEP_NONE);
    cr_assert_eq(parse_ok("None").kind, SL_KEEP_NONE);
}

Test(keep, percentages) {
    sl__keep k = parse_ok("50%");
    cr_assert_eq(k.kind, SL_KEEP_PERCENT);
    cr_assert_float_eq(k.ratio, 0.5, 1e-12);
    k = parse_ok(" 12.5 %");
    cr_assert_eq(k.kind, SL_KEEP_PERCENT);
    cr_assert_float_eq(k.ratio, 0.125, 1e-12);
    cr_assert_eq(parse_ok("100%").kind, SL_KEEP_ALL);
    cr_assert_eq(parse_ok("0%").kind, SL_KEEP_NONE);
    cr_assert_eq(parse_ok("0.0%").kind, SL_KEEP_NONE);
    parse_bad("101%");
    parse_bad("-1%");
    parse_bad("abc%");
    parse_bad("%");
    parse_bad("nan%");
}

Test(keep, rate_limits) {
    sl__keep k = parse_ok("10/s");
    cr_assert_eq(k.kind, SL_KEEP_RATE);
    cr_assert_eq(k.limit, 10);
    cr_assert_eq(k.window_secs, 1);
    k = parse_ok("2/m");
    cr_assert_eq(k.limit, 2);
    cr_assert_eq(k.window_secs, 60);
    k = parse_ok("10/5m");
    cr_assert_eq(k.limit, 10);
    cr_assert_eq(k.window_secs, 300);
    k = parse_ok("1/300s");
    cr_assert_eq(k.window_secs, 300);
    k = parse_ok(" 3 / 5 s ");
    cr_assert_eq(k.limit, 3);
    cr_assert_eq(k.window_secs, 5);
    k = parse_ok("0/s"); /* policy-rs accepts a zero rate */
    cr_assert_eq(k.kind, SL_KEEP_RATE);
    cr_assert_eq(k.limit, 0);
}

Test(keep, rejected_strings) {
    parse_bad("1.5/s");
    parse_bad("1/1.5s");
    parse_bad("1/0s");
    parse_bad("100/h");
    parse_bad("50");
    parse_bad("sometimes");
    parse_bad("/s");
    parse_bad("1/");
    parse_bad("99999999999999999999/s");
}

Test(keep, restrictiveness_scale) {
    sl__keep none = {.kind = SL_KEEP_NONE};
    sl__keep all = {.kind = SL_KEEP_ALL};
    sl__keep rate = {.kind = SL_KEEP_RATE, .limit = 5, .window_secs = 1};
    sl__keep half = {.kind = SL_KEEP_PERCENT, .ratio = 0.5};
    sl__keep p95 = {.kind = SL_KEEP_PERCENT, .ratio = 0.95};
    sl__keep p10 = {.kind = SL_KEEP_PERCENT, .ratio = 0.1};
    cr_assert_eq(sl__policy_restrictiveness(&none), 1000);
    cr_assert_eq(sl__policy_restrictiveness(&all), 0);
    cr_assert_eq(sl__policy_restrictiveness(&rate), 10);
    cr_assert_eq(sl__policy_restrictiveness(&half), 50);
    cr_assert_eq(sl__policy_restrictiveness(&p10), 90);
    /* truncation: 100 - 95.0 may be 4.99..., policy-rs's `as u32` cuts */
    uint32_t r95 = sl__policy_restrictiveness(&p95);
    cr_assert(r95 == 4 || r95 == 5);
    cr_assert_lt(sl__policy_restrictiveness(&p95),
                 sl__policy_restrictiveness(&rate));
}

/* tests/policy/test_typed.c: typed matchers (equals, gt, gte, lt, lte)
 * including int / double cross-comparison, bools and bytes. */
#include <criterion/criterion.h>

#include "policy/private.h"

static sl__typed lit_int(sl__typed_op op, int64_t i) {
    sl__typed t = {op, {.type = SL_VALUE_INT, .i = i}};
    return t;
}

static sl__typed lit_double(sl__typed_op op, double d) {
    sl__typed t = {op, {.type = SL_VALUE_DOUBLE, .d = d}};
    return t;
}

static sl_value v_int(int64_t i) {
    return (sl_value){.type = SL_VALUE_INT, .i = i};
}

static sl_value v_double(double d) {
    return (sl_value){.type = SL_VALUE_DOUBLE, .d = d};
}

Test(typed, equals_crosses_int_and_double) {
    sl__typed t = lit_int(SL_TYPED_EQ, 200);
    sl_value a = v_int(200), b = v_double(200.0), c = v_double(200.5);
    cr_assert(sl__policy_typed_eval(&t, &a));
    cr_assert(sl__policy_typed_eval(&t, &b));
    cr_assert_not(sl__policy_typed_eval(&t, &c));
    sl__typed d = lit_double(SL_TYPED_EQ, 0.5);
    sl_value e = v_double(0.5), f = v_int(0);
    cr_assert(sl__policy_typed_eval(&d, &e));
    cr_assert_not(sl__policy_typed_eval(&d, &f));
}

Test(typed, comparisons) {
    sl_value five = v_int(5), fiveh = v_double(5.5);
    sl__typed gt = lit_int(SL_TYPED_GT, 5), gte = lit_int(SL_TYPED_GTE, 5);
    sl__typed lt = lit_double(SL_TYPED_LT, 5.5);
    sl__typed lte = lit_double(SL_TYPED_LTE, 5.5);
    cr_assert_not(sl__policy_typed_eval(&gt, &five));
    cr_assert(sl__policy_typed_eval(&gt, &fiveh));
    cr_assert(sl__policy_typed_eval(&gte, &five));
    cr_assert(sl__policy_typed_eval(&lt, &five));
    cr_assert_not(sl__policy_typed_eval(&lt, &fiveh));
    cr_assert(sl__policy_typed_eval(&lte, &fiveh));
    /* exact for big ints, not through f64 */
    sl__typed big = lit_int(SL_TYPED_GT, INT64_MAX - 1);
    sl_value max = v_int(INT64_MAX);
    cr_assert(sl__policy_typed_eval(&big, &max));
}

Test(typed, type_mismatch_and_absent_are_false) {
    sl__typed t = lit_int(SL_TYPED_GT, 1);
    sl_value s = {.type = SL_VALUE_STRING, .s = {"5", 1}};
    sl_value b = {.type = SL_VALUE_BOOL, .b = true};
    sl_value nan = v_double(0.0 / 0.0);
    cr_assert_not(sl__policy_typed_eval(&t, &s));
    cr_assert_not(sl__policy_typed_eval(&t, &b));
    cr_assert_not(sl__policy_typed_eval(&t, NULL));
    cr_assert_not(sl__policy_typed_eval(&t, &nan));
}

Test(typed, bool_and_bytes_equal_their_own_type) {
    sl__typed tb = {SL_TYPED_EQ, {.type = SL_VALUE_BOOL, .b = true}};
    sl_value yes = {.type = SL_VALUE_BOOL, .b = true};
    sl_value one = v_int(1);
    cr_assert(sl__policy_typed_eval(&tb, &yes));
    cr_assert_not(sl__policy_typed_eval(&tb, &one));
    sl__typed tx = {SL_TYPED_EQ,
                    {.type = SL_VALUE_BYTES, .s = {"\x01\x02", 2}}};
    sl_value same = {.type = SL_VALUE_BYTES, .s = {"\x01\x02", 2}};
    sl_value other = {.type = SL_VALUE_BYTES, .s = {"\x01", 1}};
    cr_assert(sl__policy_typed_eval(&tx, &same));
    cr_assert_not(sl__policy_typed_eval(&tx, &other));
}

/* tests/redact/test_canon.c: the RFC 8785 writer the redactor hashes with
 * (sl_json_write_canonical): ECMAScript number forms (the RFC's appendix
 * values, 1e21, 0.1, -0, exponent edges), UTF-16 key order, minimal string
 * escapes, and the values it must refuse. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>

#include <sluice/sluice.h>

#include "base/base.h"

static void canon(const char *in, const char *want) {
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_assert_eq(
        sl_doc_load(doc, in, strlen(in), SL_FORMAT_JSON, "t", NULL, &err),
        SL_OK, "%s: %s", in, err.msg);
    sl_buf out = {0};
    cr_assert_eq(sl_json_write_canonical(&out, sl_doc_root(doc), &err), SL_OK,
                 "%s: %s", in, err.msg);
    cr_expect_str_eq(out.ptr, want, "input %s got %s", in, out.ptr);
    sl_buf_free(&out);
    sl_doc_free(doc);
}

Test(canonical, numbers_in_ecmascript_form) {
    static const char *const cases[][2] = {
        {"0", "0"},
        {"-0", "0"},
        {"-0.0", "0"},
        {"1.0", "1"},
        {"1e0", "1"},
        {"0.1", "0.1"},
        {"1e21", "1e+21"},
        {"1e20", "100000000000000000000"},
        {"123456789012345678901", "123456789012345680000"},
        {"1e-6", "0.000001"},
        {"1e-7", "1e-7"},
        {"1.5e-7", "1.5e-7"},
        {"-1.5", "-1.5"},
        {"0.30000000000000004", "0.30000000000000004"},
        {"4.50", "4.5"},
        {"2e-3", "0.002"},
        {"333333333.33333329", "333333333.3333333"},
        {"1E30", "1e+30"},
        {"9007199254740993", "9007199254740992"},
        {"5e-324", "5e-324"},
        {"1.7976931348623157e308", "1.7976931348623157e+308"},
        {"-1e-7", "-1e-7"},
        {"295147905179352830000", "295147905179352830000"},
        {"0.000001234", "0.000001234"},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        canon(cases[i][0], cases[i][1]);
    }
}

Test(canonical, keys_sorted_by_utf16_code_units) {
    /* RFC 8785 3.2.3's example: U+FB33 sorts after U+1F600 (a surrogate
     * pair, 0xD83D...) in UTF-16, though before it in code points */
    canon("{\"\\ufb33\":8,\"\\u20ac\":1,\"\\ud83d\\ude00\":2,\"a\":3,\"\\r\":4,"
          "\"1\":5,\"\\u0080\":6,\"\\u00f6\":7}",
          "{\"\\r\":4,\"1\":5,\"a\":3,\"\xc2\x80\":6,\"\xc3\xb6\":7,"
          "\"\xe2\x82\xac\":1,\"\xf0\x9f\x98\x80\":2,\"\xef\xac\xb3\":8}");
}

Test(canonical, nested_and_whitespace) {
    canon(" { \"b\" : [ 1 , { \"d\":null, \"c\":true } ] , \"a\" : \"x\" } ",
          "{\"a\":\"x\",\"b\":[1,{\"c\":true,\"d\":null}]}");
}

Test(canonical, minimal_string_escapes) {
    canon("\"\\u0041\\/\\b\\f\\n\\r\\t\\\"\\\\\\u0001\\u001f\\u007f\\u2028\"",
          "\"A/\\b\\f\\n\\r\\t\\\"\\\\\\u0001\\u001f\x7f\xe2\x80\xa8\"");
}

Test(canonical, numbers_out_of_range_are_refused) {
    sl_doc *doc = sl_doc_new();
    const char *in = "[1e400]";
    cr_assert_eq(
        sl_doc_load(doc, in, strlen(in), SL_FORMAT_JSON, "t", NULL, NULL),
        SL_OK);
    sl_buf out = {0};
    sl_error err = {0};
    cr_expect_eq(sl_json_write_canonical(&out, sl_doc_root(doc), &err),
                 SL_EINVAL);
    cr_expect_eq(out.len, 0);
    sl_buf_free(&out);
    sl_doc_free(doc);
}

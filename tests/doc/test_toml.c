/* tests/doc/test_toml.c: the TOML reader and the tagged writer: every
 * error code with its exact line:col and message, normalised lexemes, node
 * positions, the table redefinition rules (both what is allowed and what
 * is not), depth limits, large tables, and allocation failure. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "doc/private.h"

static sl_doc *load_ok(const char *text) {
    sl_doc *doc = sl_doc_new();
    cr_assert_not_null(doc);
    sl_error err = {0};
    sl_status rc = sl_doc_load(doc, text, strlen(text), SL_FORMAT_TOML,
                               "t.toml", NULL, &err);
    cr_assert_eq(rc, SL_OK, "%s\n=> %u:%u: %s", text, err.line, err.col,
                 err.msg);
    cr_assert_eq(sl_node_kind_of(sl_doc_root(doc)), SL_NODE_OBJECT);
    return doc;
}

static void expect_error_n(const char *text, size_t len, sl_status code,
                           uint32_t line, uint32_t col, const char *msg) {
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    sl_status rc =
        sl_doc_load(doc, text, len, SL_FORMAT_TOML, "t.toml", NULL, &err);
    cr_expect_eq(rc, code, "input %s: got %d (%s)", text, rc, err.msg);
    cr_expect_eq(err.code, code, "input %s", text);
    cr_expect_eq(err.line, line, "input %s: line %u (%s)", text, err.line,
                 err.msg);
    cr_expect_eq(err.col, col, "input %s: col %u (%s)", text, err.col, err.msg);
    cr_expect_str_eq(err.file, "t.toml");
    if (msg) {
        cr_expect_str_eq(err.msg, msg, "input %s", text);
    }
    cr_expect_null(sl_doc_root(doc));
    sl_doc_free(doc);
}

#define ERR(text, code, line, col, msg) \
    expect_error_n(text, sizeof(text) - 1, code, line, col, msg)

/* The tagged JSON of text (malloc'd), or fails the test. */
static char *tagged(const char *text) {
    sl_doc *doc = load_ok(text);
    sl_buf out = {0};
    sl_error err = {0};
    cr_assert_eq(sl_doc_write_tagged(&out, sl_doc_root(doc), &err), SL_OK, "%s",
                 err.msg);
    char *s = strdup(out.ptr ? out.ptr : "");
    sl_buf_free(&out);
    sl_doc_free(doc);
    return s;
}

static void expect_tagged(const char *text, const char *want) {
    char *have = tagged(text);
    cr_expect_str_eq(have, want, "input %s", text);
    free(have);
}

/* The scalar at root key "v" of text: kind and lexeme. */
static void expect_scalar(const char *text, sl_node_kind kind,
                          const char *lexeme) {
    sl_doc *doc = load_ok(text);
    const sl_node *v = sl_node_get(sl_doc_root(doc), "v");
    cr_assert_not_null(v, "input %s", text);
    cr_expect_eq(sl_node_kind_of(v), kind, "input %s: kind %s", text,
                 sl_node_kind_name(sl_node_kind_of(v)));
    sl_str s = sl_node_str(v);
    cr_expect(s.len == strlen(lexeme) && memcmp(s.ptr, lexeme, s.len) == 0,
              "input %s: lexeme %.*s, want %s", text, (int)s.len, s.ptr,
              lexeme);
    sl_doc_free(doc);
}

/* ---- scalars and normalised lexemes ---- */

Test(toml_scalars, integers_are_plain_decimal) {
    expect_scalar("v = 42", SL_NODE_INT, "42");
    expect_scalar("v = +99", SL_NODE_INT, "99");
    expect_scalar("v = -17", SL_NODE_INT, "-17");
    expect_scalar("v = -0", SL_NODE_INT, "0");
    expect_scalar("v = +0", SL_NODE_INT, "0");
    expect_scalar("v = 1_000_000", SL_NODE_INT, "1000000");
    expect_scalar("v = 0xDEAD_beef", SL_NODE_INT, "3735928559");
    expect_scalar("v = 0o755", SL_NODE_INT, "493");
    expect_scalar("v = 0b1101_0110", SL_NODE_INT, "214");
    expect_scalar("v = 0x00", SL_NODE_INT, "0");
    expect_scalar("v = 9223372036854775807", SL_NODE_INT,
                  "9223372036854775807");
    expect_scalar("v = -9223372036854775808", SL_NODE_INT,
                  "-9223372036854775808");
    expect_scalar("v = 0x7fffffffffffffff", SL_NODE_INT, "9223372036854775807");
}

Test(toml_scalars, integer_values_convert) {
    sl_doc *doc = load_ok("a = 0x10\nb = -9223372036854775808\nc = 1_0");
    const sl_node *r = sl_doc_root(doc);
    int64_t v = 0;
    cr_expect_eq(sl_node_int(sl_node_get(r, "a"), &v), SL_OK);
    cr_expect_eq(v, 16);
    cr_expect_eq(sl_node_int(sl_node_get(r, "b"), &v), SL_OK);
    cr_expect_eq(v, INT64_MIN);
    cr_expect_eq(sl_node_int(sl_node_get(r, "c"), &v), SL_OK);
    cr_expect_eq(v, 10);
    sl_doc_free(doc);
}

Test(toml_scalars, floats_drop_underscores_and_plus) {
    expect_scalar("v = 1.5", SL_NODE_FLOAT, "1.5");
    expect_scalar("v = +1.0", SL_NODE_FLOAT, "1.0");
    expect_scalar("v = -0.0", SL_NODE_FLOAT, "-0.0");
    expect_scalar("v = 1_000.000_1", SL_NODE_FLOAT, "1000.0001");
    expect_scalar("v = 1e06", SL_NODE_FLOAT, "1e06");
    expect_scalar("v = +6.626e-34", SL_NODE_FLOAT, "6.626e-34");
    expect_scalar("v = 5E+2_2", SL_NODE_FLOAT, "5E+22");
    expect_scalar("v = 0e0", SL_NODE_FLOAT, "0e0");
}

Test(toml_scalars, inf_and_nan_are_flagged) {
    const char *in[] = {"v = inf", "v = +inf", "v = -inf",
                        "v = nan", "v = +nan", "v = -nan"};
    const char *want[] = {"inf", "inf", "-inf", "nan", "nan", "-nan"};
    for (size_t i = 0; i < SL_ARRAY_LEN(in); i++) {
        expect_scalar(in[i], SL_NODE_FLOAT, want[i]);
        sl_doc *doc = load_ok(in[i]);
        const sl_node *v = sl_node_get(sl_doc_root(doc), "v");
        cr_expect(v->flags & SL__NF_TOML_SPECIAL, "input %s", in[i]);
        sl_buf out = {0};
        cr_expect_eq(sl_json_write(&out, sl_doc_root(doc), 0, NULL), SL_EINVAL,
                     "plain JSON cannot hold %s", in[i]);
        sl_buf_free(&out);
        sl_doc_free(doc);
    }
}

Test(toml_scalars, booleans) {
    expect_scalar("v = true", SL_NODE_BOOL, "true");
    expect_scalar("v = false # no", SL_NODE_BOOL, "false");
    sl_doc *doc = load_ok("v = true");
    cr_expect(sl_node_bool(sl_node_get(sl_doc_root(doc), "v")));
    sl_doc_free(doc);
}

Test(toml_scalars, date_times_keep_their_lexeme) {
    expect_scalar("v = 1979-05-27T07:32:00Z", SL_NODE_DATETIME,
                  "1979-05-27T07:32:00Z");
    expect_scalar("v = 1979-05-27 07:32:00.999999-07:00", SL_NODE_DATETIME,
                  "1979-05-27 07:32:00.999999-07:00");
    expect_scalar("v = 1979-05-27t07:32:00z", SL_NODE_DATETIME,
                  "1979-05-27t07:32:00z");
    expect_scalar("v = 1979-05-27T07:32:00", SL_NODE_DATETIME_LOCAL,
                  "1979-05-27T07:32:00");
    expect_scalar("v = 1979-05-27", SL_NODE_DATE_LOCAL, "1979-05-27");
    expect_scalar("v = 1979-05-27 # a date, then a comment", SL_NODE_DATE_LOCAL,
                  "1979-05-27");
    expect_scalar("v = 07:32:00.5", SL_NODE_TIME_LOCAL, "07:32:00.5");
    expect_scalar("v = 2000-02-29", SL_NODE_DATE_LOCAL, "2000-02-29");
    expect_scalar("v = 2024-02-29", SL_NODE_DATE_LOCAL, "2024-02-29");
    expect_scalar("v = 23:59:60", SL_NODE_TIME_LOCAL, "23:59:60");
}

Test(toml_strings, escapes_decode) {
    expect_scalar("v = \"a\\tb\\n\\\"\\\\\\b\\f\\r\"", SL_NODE_STRING,
                  "a\tb\n\"\\\b\f\r");
    expect_scalar("v = \"\\u00e9\\U0001F600\"", SL_NODE_STRING,
                  "\xC3\xA9\xF0\x9F\x98\x80");
    expect_scalar("v = 'C:\\no\\escape'", SL_NODE_STRING, "C:\\no\\escape");
    expect_scalar("v = \"\"", SL_NODE_STRING, "");
}

Test(toml_strings, multi_line_forms) {
    expect_scalar("v = \"\"\"\nline1\nline2\"\"\"", SL_NODE_STRING,
                  "line1\nline2");
    expect_scalar("v = \"\"\"\r\na\r\nb\"\"\"", SL_NODE_STRING, "a\nb");
    expect_scalar("v = \"\"\"one \\\n    two \\  \r\n\n  three\"\"\"",
                  SL_NODE_STRING, "one two three");
    expect_scalar("v = \"\"\"a\"\"b\"\"\"\"\"", SL_NODE_STRING, "a\"\"b\"\"");
    expect_scalar("v = '''\nraw \\n ''line'''''", SL_NODE_STRING,
                  "raw \\n ''line''");
    expect_scalar("v = '''\tx'''", SL_NODE_STRING, "\tx");
}

Test(toml_strings, plain_text_is_not_copied) {
    const char *text = "v = \"plain\"\nw = 'lit'\n";
    sl_doc *doc = sl_doc_new();
    sl_doc_opts opts = {.borrow = true};
    cr_assert_eq(
        sl_doc_load(doc, text, strlen(text), SL_FORMAT_TOML, NULL, &opts, NULL),
        SL_OK);
    const sl_node *r = sl_doc_root(doc);
    cr_expect_eq(sl_node_str(sl_node_get(r, "v")).ptr, text + 5);
    cr_expect_eq(sl_node_str(sl_node_get(r, "w")).ptr, text + 17);
    cr_expect_null(sl_node_get(r, "v")->raw);
    sl_doc_free(doc);
}

Test(toml_keys, bare_quoted_and_dotted) {
    expect_tagged(
        "a-b_9 = 1\n\"q k\" = 2\n'l.k' = 3\n\"\" = 4\n"
        "x . \"y\" . 'z' = 5\n1.2 = 6",
        "{\"a-b_9\":{\"type\":\"integer\",\"value\":\"1\"},"
        "\"q k\":{\"type\":\"integer\",\"value\":\"2\"},"
        "\"l.k\":{\"type\":\"integer\",\"value\":\"3\"},"
        "\"\":{\"type\":\"integer\",\"value\":\"4\"},"
        "\"x\":{\"y\":{\"z\":{\"type\":\"integer\",\"value\":\"5\"}}},"
        "\"1\":{\"2\":{\"type\":\"integer\",\"value\":\"6\"}}}");
}

Test(toml_document, bom_crlf_comments_and_empty) {
    expect_tagged("", "{}");
    expect_tagged("\xEF\xBB\xBF# only a comment\r\n", "{}");
    expect_tagged("\xEF\xBB\xBF"
                  "a = 1\r\n[t] # c\r\nb = [\r\n 1, # c\r\n 2,\r\n]\r\n",
                  "{\"a\":{\"type\":\"integer\",\"value\":\"1\"},"
                  "\"t\":{\"b\":[{\"type\":\"integer\",\"value\":\"1\"},"
                  "{\"type\":\"integer\",\"value\":\"2\"}]}}");
}

Test(toml_document, members_in_document_order) {
    sl_doc *doc = load_ok("z = 1\n[m]\n[a]\ny = 2\n[m.k]\n");
    const sl_node *r = sl_doc_root(doc);
    cr_assert_eq(sl_node_len(r), 3);
    cr_expect_eq(strncmp(sl_node_key(r, 0).ptr, "z", 1), 0);
    cr_expect_eq(strncmp(sl_node_key(r, 1).ptr, "m", 1), 0);
    cr_expect_eq(strncmp(sl_node_key(r, 2).ptr, "a", 1), 0);
    sl_doc_free(doc);
}

Test(toml_tagged, every_kind) {
    expect_tagged(
        "s = \"q\\\"\\u0001\"\ni = 7\nf = 2.5\nn = -nan\nb = false\n"
        "d = 1979-05-27T07:32:00Z\nl = 1979-05-27T07:32:00\nday = "
        "1979-05-27\nt = 07:32:00\na = [1, 'x', [], {}]\n[[arr]]\n[[arr]]\n"
        "k = {}",
        "{\"s\":{\"type\":\"string\",\"value\":\"q\\\"\\u0001\"},"
        "\"i\":{\"type\":\"integer\",\"value\":\"7\"},"
        "\"f\":{\"type\":\"float\",\"value\":\"2.5\"},"
        "\"n\":{\"type\":\"float\",\"value\":\"-nan\"},"
        "\"b\":{\"type\":\"bool\",\"value\":\"false\"},"
        "\"d\":{\"type\":\"datetime\",\"value\":\"1979-05-27T07:32:00Z\"},"
        "\"l\":{\"type\":\"datetime-local\",\"value\":\"1979-05-27T07:32:00\"},"
        "\"day\":{\"type\":\"date-local\",\"value\":\"1979-05-27\"},"
        "\"t\":{\"type\":\"time-local\",\"value\":\"07:32:00\"},"
        "\"a\":[{\"type\":\"integer\",\"value\":\"1\"},"
        "{\"type\":\"string\",\"value\":\"x\"},[],{}],"
        "\"arr\":[{},{\"k\":{}}]}");
}

Test(toml_tagged, json_trees_map_null_and_bool) {
    sl_doc *doc = sl_doc_new();
    const char *json = "{\"n\":null,\"b\":true,\"x\":[1.5e3]}";
    cr_assert_eq(
        sl_doc_load(doc, json, strlen(json), SL_FORMAT_JSON, NULL, NULL, NULL),
        SL_OK);
    sl_buf out = {0};
    cr_assert_eq(sl_doc_write_tagged(&out, sl_doc_root(doc), NULL), SL_OK);
    cr_expect_str_eq(out.ptr, "{\"n\":{\"type\":\"null\",\"value\":\"null\"},"
                              "\"b\":{\"type\":\"bool\",\"value\":\"true\"},"
                              "\"x\":[{\"type\":\"float\",\"value\":"
                              "\"1.5e3\"}]}");
    sl_buf_free(&out);
    sl_doc_free(doc);
}

Test(toml_tagged, null_arguments) {
    sl_buf out = {0};
    sl_error err = {0};
    cr_expect_eq(sl_doc_write_tagged(&out, NULL, &err), SL_EINVAL);
    cr_expect_eq(err.code, SL_EINVAL);
    cr_expect_eq(sl_doc_write_tagged(NULL, NULL, NULL), SL_EINVAL);
}

Test(toml_tagged, too_deep_a_tree_is_a_limit) {
    /* only a JSON tree can be this deep (TOML stops at 4,096) */
    size_t n = 5000;
    char *text = malloc(2 * n);
    memset(text, '[', n);
    memset(text + n, ']', n);
    sl_doc *doc = sl_doc_new();
    sl_doc_opts opts = {.max_depth = 10000};
    cr_assert_eq(
        sl_doc_load(doc, text, 2 * n, SL_FORMAT_JSON, NULL, &opts, NULL),
        SL_OK);
    sl_buf out = {0};
    sl_error err = {0};
    cr_expect_eq(sl_doc_write_tagged(&out, sl_doc_root(doc), &err), SL_ELIMIT);
    cr_expect_str_eq(err.msg, "nesting deeper than 4096");
    sl_buf_free(&out);
    sl_doc_free(doc);
    free(text);
}

Test(toml_tagged, plain_json_of_a_toml_tree) {
    sl_doc *doc = load_ok("a = 0x1F\nb = +1_0.5\nc = 2021-01-01\n[t]\nd = 'x'");
    sl_buf out = {0};
    cr_assert_eq(sl_json_write(&out, sl_doc_root(doc), 0, NULL), SL_OK);
    cr_expect_str_eq(out.ptr,
                     "{\"a\":31,\"b\":10.5,\"c\":\"2021-01-01\",\"t\":{\"d\":"
                     "\"x\"}}");
    sl_buf_free(&out);
    sl_doc_free(doc);
}

/* ---- positions ---- */

Test(toml_positions, nodes_and_keys) {
    sl_doc *doc = load_ok("# head\nname = \"x\"\n\n[srv.http]\n  port = "
                          "[ 80,\n    443 ]\n[[rule]]\nk.j = {a = 1}\n");
    const sl_node *r = sl_doc_root(doc);
    sl_pos p = sl_node_pos(doc, sl_node_get(r, "name"));
    cr_expect_str_eq(p.file, "t.toml");
    cr_expect_eq(p.line, 2);
    cr_expect_eq(p.col, 8);
    p = sl_node_key_pos(doc, r, 0);
    cr_expect_eq(p.line, 2);
    cr_expect_eq(p.col, 1);
    const sl_node *http = sl_node_get(sl_node_get(r, "srv"), "http");
    p = sl_node_pos(doc, http);
    cr_expect_eq(p.line, 4);
    cr_expect_eq(p.col, 1);
    p = sl_node_key_pos(doc, r, 1); /* "srv" inside the header */
    cr_expect_eq(p.line, 4);
    cr_expect_eq(p.col, 2);
    const sl_node *port = sl_node_get(http, "port");
    p = sl_node_pos(doc, port);
    cr_expect_eq(p.line, 5);
    cr_expect_eq(p.col, 10);
    p = sl_node_pos(doc, sl_node_at(port, 1));
    cr_expect_eq(p.line, 6);
    cr_expect_eq(p.col, 5);
    p = sl_node_key_pos(doc, http, 0);
    cr_expect_eq(p.line, 5);
    cr_expect_eq(p.col, 3);
    const sl_node *rule = sl_node_at(sl_node_get(r, "rule"), 0);
    p = sl_node_pos(doc, rule);
    cr_expect_eq(p.line, 7);
    cr_expect_eq(p.col, 1);
    const sl_node *k = sl_node_get(rule, "k");
    p = sl_node_key_pos(doc, k, 0); /* "j" */
    cr_expect_eq(p.line, 8);
    cr_expect_eq(p.col, 3);
    p = sl_node_pos(doc, sl_node_get(k, "j"));
    cr_expect_eq(p.line, 8);
    cr_expect_eq(p.col, 7);
    sl_doc_free(doc);
}

Test(toml_positions, columns_count_characters) {
    ERR("\"\xC3\xA9\xC3\xA9\" = 1\nx = \"\xC3\xA9\" \xC3\xA9", SL_EPARSE, 2, 9,
        "expected end of line after value, found U+00E9");
}

/* ---- errors: code, position and message ---- */

Test(toml_errors, utf8) {
    ERR("a = \"\xC3\"", SL_EUTF8, 1, 6, "invalid utf-8");
    ERR("# ok\n# \xED\xA0\x80 surrogate", SL_EUTF8, 2, 3, "invalid utf-8");
    ERR("a = 1\n\xFF", SL_EUTF8, 2, 1, "invalid utf-8");
}

Test(toml_errors, control_characters_and_cr) {
    ERR("a = \"x\x01\"", SL_EPARSE, 1, 7, "control character U+0001 in string");
    ERR("a = 'x\x7f'", SL_EPARSE, 1, 7, "control character U+007F in string");
    ERR("# c\x00mment", SL_EPARSE, 1, 4, "control character U+0000 in comment");
    ERR("a = 1\rb = 2", SL_EPARSE, 1, 6, "carriage return without line feed");
    ERR("a = 1 # x\r", SL_EPARSE, 1, 10, "carriage return without line feed");
    ERR("a = '''x\ry'''", SL_EPARSE, 1, 9, "carriage return without line feed");
    ERR("a = \x0b", SL_EPARSE, 1, 5, "invalid value: unexpected U+000B");
}

Test(toml_errors, strings) {
    ERR("a = \"\\q\"", SL_EPARSE, 1, 6, "invalid escape '\\q'");
    ERR("a = \"\\x41\"", SL_EPARSE, 1, 6, "invalid escape '\\x'");
    ERR("a = \"\\u12\"", SL_EPARSE, 1, 6,
        "invalid escape '\\u': expected 4 hex digits");
    ERR("a = \"\\uD800\"", SL_EPARSE, 1, 6,
        "invalid escape '\\uD800': not a unicode scalar value");
    ERR("a = \"\\U00110000\"", SL_EPARSE, 1, 6,
        "invalid escape '\\U00110000': not a unicode scalar value");
    ERR("a = \"\"\"x\\ y\"\"\"", SL_EPARSE, 1, 9,
        "invalid escape '\\ ': only a newline may follow a line-ending "
        "backslash");
    ERR("a = \"abc\nb = 1", SL_EPARSE, 1, 5, "unterminated string");
    ERR("\n a = '''abc", SL_EPARSE, 2, 6, "unterminated string");
    ERR("a = \"\"\"x\"\"\"\"\"\"", SL_EPARSE, 1, 14,
        "too many quotes after a multi-line string");
    ERR("\"\"\"k\"\"\" = 1", SL_EPARSE, 1, 1,
        "a multi-line string cannot be a key");
    ERR("a = \"x\" \"y\"", SL_EPARSE, 1, 9,
        "expected end of line after value, found '\"'");
}

Test(toml_errors, numbers) {
    ERR("a = 9223372036854775808", SL_EPARSE, 1, 5, "integer out of range");
    ERR("a = -9223372036854775809", SL_EPARSE, 1, 5, "integer out of range");
    ERR("a = 0x8000000000000000", SL_EPARSE, 1, 5, "integer out of range");
    ERR("a = 012", SL_EPARSE, 1, 5, "leading zero in number");
    ERR("a = -01.5", SL_EPARSE, 1, 5, "leading zero in number");
    ERR("a = 1__0", SL_EPARSE, 1, 6, "'_' in a number must be between digits");
    ERR("a = 10_", SL_EPARSE, 1, 7, "'_' in a number must be between digits");
    ERR("a = _1", SL_EPARSE, 1, 5, "invalid value: unexpected '_'");
    ERR("a = 1._5", SL_EPARSE, 1, 7, "'_' in a number must be between digits");
    ERR("a = 1.", SL_EPARSE, 1, 7, "expected a digit, found end of file");
    ERR("a = 1e", SL_EPARSE, 1, 7, "expected a digit, found end of file");
    ERR("a = .5", SL_EPARSE, 1, 5, "invalid value: unexpected '.'");
    ERR("a = 1.2.3", SL_EPARSE, 1, 8, "unexpected '.' in number");
    ERR("a = +0x10", SL_EPARSE, 1, 5,
        "a hexadecimal, octal or binary integer cannot have a sign");
    ERR("a = 0X10", SL_EPARSE, 1, 6, "unexpected 'X' in number");
    ERR("a = 0o8", SL_EPARSE, 1, 7, "expected a digit, found '8'");
    ERR("a = infinity", SL_EPARSE, 1, 8, "unexpected 'i' in number");
    ERR("a = Inf", SL_EPARSE, 1, 5, "invalid value: unexpected 'I'");
    ERR("a = 1x", SL_EPARSE, 1, 6, "unexpected 'x' in number");
    ERR("a = 123-45", SL_EPARSE, 1, 5, "invalid date or time");
}

Test(toml_errors, date_times) {
    ERR("a = 2100-02-29", SL_EPARSE, 1, 5, "invalid date: day out of range");
    ERR("a = 2021-04-31", SL_EPARSE, 1, 5, "invalid date: day out of range");
    ERR("a = 2021-13-01", SL_EPARSE, 1, 5, "invalid date: month out of range");
    ERR("a = 2021-1-01", SL_EPARSE, 1, 5, "invalid date: expected YYYY-MM-DD");
    ERR("a = 24:00:00", SL_EPARSE, 1, 5, "invalid time: hour out of range");
    ERR("a = 12:60:00", SL_EPARSE, 1, 5, "invalid time: minute out of range");
    ERR("a = 12:00:61", SL_EPARSE, 1, 5, "invalid time: second out of range");
    ERR("a = 12:00", SL_EPARSE, 1, 5, "invalid time: seconds are required");
    ERR("a = 12:00:00.", SL_EPARSE, 1, 5,
        "invalid time: expected digits after '.'");
    ERR("a = 2021-01-01T", SL_EPARSE, 1, 5, "invalid time: expected HH:MM:SS");
    ERR("a = 2021-01-01T00:00:00+24:00", SL_EPARSE, 1, 24,
        "invalid time offset: out of range");
    ERR("a = 2021-01-01T00:00:00+0100", SL_EPARSE, 1, 24,
        "invalid time offset: expected +HH:MM");
    ERR("a = 12:00:00Z", SL_EPARSE, 1, 13, "unexpected 'Z' in date-time");
    ERR("a = 2021-01-01 12:00", SL_EPARSE, 1, 5,
        "invalid time: seconds are required");
}

Test(toml_errors, syntax) {
    ERR("= 1", SL_EPARSE, 1, 1, "missing key before '='");
    ERR("a", SL_EPARSE, 1, 2, "expected '=' after key, found end of file");
    ERR("a b = 1", SL_EPARSE, 1, 3, "expected '=' after key, found 'b'");
    ERR("a = ", SL_EPARSE, 1, 5, "missing value, found end of file");
    ERR("a = # c", SL_EPARSE, 1, 5, "missing value, found '#'");
    ERR("a = 1 b = 2", SL_EPARSE, 1, 7,
        "expected end of line after value, found 'b'");
    ERR("a.  = 1", SL_EPARSE, 1, 5, "missing key before '='");
    ERR("$ = 1", SL_EPARSE, 1, 1, "invalid character '$' in key");
    ERR("a = truely", SL_EPARSE, 1, 5, "invalid value: unexpected 't'");
    ERR("[a", SL_EPARSE, 1, 3,
        "expected ']' after table name, found end of "
        "file");
    ERR("[[a]", SL_EPARSE, 1, 4, "expected ']]' after table name, found ']'");
    ERR("[[a] ]", SL_EPARSE, 1, 4, "expected ']]' after table name, found ']'");
    ERR("[]", SL_EPARSE, 1, 2, "invalid character ']' in key");
    ERR("[a] b = 1", SL_EPARSE, 1, 5,
        "expected end of line after table header, found 'b'");
    ERR("a = [1 2]", SL_EPARSE, 1, 8,
        "expected ',' or ']' in array, found '2'");
    ERR("a = [1,,2]", SL_EPARSE, 1, 8, "invalid value: unexpected ','");
    ERR("a = [1,\n2", SL_EPARSE, 1, 5, "unterminated array");
    ERR("a = {b = 1,}", SL_EPARSE, 1, 12, "trailing comma in inline table");
    ERR("a = {b = 1\n}", SL_EPARSE, 1, 11, "newline in inline table");
    ERR("a = {\nb = 1}", SL_EPARSE, 1, 6, "newline in inline table");
    ERR("a = {b = 1", SL_EPARSE, 1, 5, "unterminated inline table");
    ERR("a = {b = 1 c = 2}", SL_EPARSE, 1, 12,
        "expected ',' or '}' in inline table, found 'c'");
}

/* ---- redefinition rules ---- */

Test(toml_redefine, keys_and_tables_defined_twice) {
    ERR("a = 1\na = 2", SL_EPARSE, 2, 1, "duplicate key \"a\"");
    ERR("a = 1\n\"a\" = 2", SL_EPARSE, 2, 1, "duplicate key \"a\"");
    ERR("[t]\nx.y = 1\nx.y = 2", SL_EPARSE, 3, 3, "duplicate key \"x.y\"");
    ERR("[a]\n[a]", SL_EPARSE, 2, 2, "table \"a\" already defined");
    ERR("[a.b]\n[a]\n[a]", SL_EPARSE, 3, 2, "table \"a\" already defined");
    ERR("[a]\nb = 1\n[a.b]", SL_EPARSE, 3, 4,
        "key \"a.b\" already defined as an integer");
    ERR("a = 1\n[a.b.c]", SL_EPARSE, 2, 2,
        "key \"a\" already defined as an integer");
    ERR("[a]\nb.c = 1\nb = 2", SL_EPARSE, 3, 1, "duplicate key \"b\"");
    ERR("a = 'x'\na.b = 1", SL_EPARSE, 2, 1,
        "key \"a\" already defined as a string");
}

Test(toml_redefine, dotted_keys_and_headers) {
    /* a table made by dotted keys cannot be opened by a header later */
    ERR("a.b = 1\n[a]", SL_EPARSE, 2, 2, "table \"a\" already defined");
    ERR("[t1]\nt2.t3.v = 0\n[t1.t2]", SL_EPARSE, 3, 5,
        "table \"t1.t2\" already defined");
    /* nor reopened by dotted keys from a later section */
    ERR("[a.b.c]\nz = 9\n[a]\nb.c.t = 1", SL_EPARSE, 4, 3,
        "table \"b.c\" already defined");
    ERR("[a]\nb.c = 1\n[x]\n[a]\nb.d = 2", SL_EPARSE, 4, 2,
        "table \"a\" already defined");
    /* but sub-tables may still be added under them by headers */
    expect_tagged("[fruit]\napple.color = 'red'\n[fruit.apple.texture]\n"
                  "smooth = true",
                  "{\"fruit\":{\"apple\":{\"color\":{\"type\":\"string\","
                  "\"value\":\"red\"},\"texture\":{\"smooth\":{\"type\":"
                  "\"bool\",\"value\":\"true\"}}}}}");
    /* dotted keys may enter implicit tables and repeat in one section */
    expect_tagged("[a.b.c]\n[a]\nb.d = 1\nb.e = 2",
                  "{\"a\":{\"b\":{\"c\":{},\"d\":{\"type\":\"integer\","
                  "\"value\":\"1\"},\"e\":{\"type\":\"integer\",\"value\":"
                  "\"2\"}}}}");
    /* an implicit table may be defined once, after its sub-table */
    expect_tagged("[x.y]\n[x]\nz = 1",
                  "{\"x\":{\"y\":{},\"z\":{\"type\":\"integer\",\"value\":"
                  "\"1\"}}}");
}

Test(toml_redefine, inline_tables_are_sealed) {
    ERR("a = {b = 1}\na.c = 2", SL_EPARSE, 2, 1,
        "cannot extend inline table \"a\"");
    ERR("a = {b = 1}\n[a]", SL_EPARSE, 2, 2, "table \"a\" already defined");
    ERR("a = {b = {}}\n[a.b.c]", SL_EPARSE, 2, 2,
        "cannot extend inline table \"a\"");
    ERR("a = {b = 1, b = 2}", SL_EPARSE, 1, 13, "duplicate key \"b\"");
    ERR("a = {b = {}, b.c = 1}", SL_EPARSE, 1, 14,
        "cannot extend inline table \"b\"");
    ERR("a = {x = 1, x.y = 2}", SL_EPARSE, 1, 13,
        "key \"x\" already defined as an integer");
    expect_tagged("a = {b.c = 1, b.d = 2}",
                  "{\"a\":{\"b\":{\"c\":{\"type\":\"integer\",\"value\":\"1\"},"
                  "\"d\":{\"type\":\"integer\",\"value\":\"2\"}}}}");
}

Test(toml_redefine, arrays_of_tables) {
    ERR("a = []\n[[a]]", SL_EPARSE, 2, 3,
        "cannot append to static array \"a\"");
    ERR("a = [{}]\n[a.b]", SL_EPARSE, 2, 2,
        "key \"a\" already defined as an array");
    ERR("[a]\n[[a]]", SL_EPARSE, 2, 3, "key \"a\" already defined as a table");
    ERR("[[a]]\n[a]", SL_EPARSE, 2, 2,
        "key \"a\" already defined as an array of tables");
    ERR("[[a.b]]\n[a]\nb.c = 1", SL_EPARSE, 3, 1,
        "key \"b\" already defined as an array of tables");
    /* [[a]] starts a fresh table each time; [a.b] goes to the last one */
    expect_tagged("[[a]]\nx = 1\n[a.b]\ny = 2\n[[a]]\nx = 3\n[a.b]\ny = 4",
                  "{\"a\":[{\"x\":{\"type\":\"integer\",\"value\":\"1\"},"
                  "\"b\":{\"y\":{\"type\":\"integer\",\"value\":\"2\"}}},"
                  "{\"x\":{\"type\":\"integer\",\"value\":\"3\"},"
                  "\"b\":{\"y\":{\"type\":\"integer\",\"value\":\"4\"}}}]}");
    expect_tagged("[[a]]\n[[a.b]]\n[[a.b]]\n[[a]]\n[[a.b]]",
                  "{\"a\":[{\"b\":[{},{}]},{\"b\":[{}]}]}");
    ERR("[[a.b]]\n[[a]]", SL_EPARSE, 2, 3,
        "key \"a\" already defined as a table");
}

/* ---- limits ---- */

static void expect_limit(const char *text, size_t len, uint32_t max_depth) {
    sl_doc *doc = sl_doc_new();
    sl_doc_opts opts = {.max_depth = max_depth};
    sl_error err = {0};
    sl_status rc =
        sl_doc_load(doc, text, len, SL_FORMAT_TOML, "t.toml", &opts, &err);
    cr_expect_eq(rc, SL_ELIMIT, "got %d: %s", rc, err.msg);
    cr_expect_eq(err.line, 1);
    cr_expect_null(sl_doc_root(doc));
    sl_doc_free(doc);
}

Test(toml_limits, ten_thousand_nested_arrays) {
    size_t n = 10000;
    char *text = malloc(2 * n + 8);
    memcpy(text, "a = ", 4);
    memset(text + 4, '[', n);
    memset(text + 4 + n, ']', n);
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    sl_status rc =
        sl_doc_load(doc, text, 2 * n + 4, SL_FORMAT_TOML, "t.toml", NULL, &err);
    cr_expect_eq(rc, SL_ELIMIT, "%s", err.msg);
    cr_expect_eq(err.line, 1);
    cr_expect_eq(err.col, 4 + SL_MAX_DEPTH); /* root is depth 1 */
    cr_expect_str_eq(err.msg, "nesting deeper than 512");
    sl_doc_free(doc);
    free(text);
}

Test(toml_limits, huge_max_depth_is_clamped) {
    size_t n = 10000;
    char *text = malloc(2 * n + 8);
    memcpy(text, "a = ", 4);
    memset(text + 4, '[', n);
    memset(text + 4 + n, ']', n);
    sl_doc *doc = sl_doc_new();
    sl_doc_opts opts = {.max_depth = 1000000};
    sl_error err = {0};
    cr_expect_eq(
        sl_doc_load(doc, text, 2 * n + 4, SL_FORMAT_TOML, NULL, &opts, &err),
        SL_ELIMIT);
    cr_expect_str_eq(err.msg, "nesting deeper than 4096");
    cr_expect_eq(err.col, 4 + 4096);
    sl_doc_free(doc);
    free(text);
}

Test(toml_limits, deep_inline_tables_and_long_keys) {
    size_t n = 10000;
    char *text = malloc(6 * n + 16);
    size_t k = 0;
    memcpy(text, "a = ", 4);
    k = 4;
    for (size_t i = 0; i < n; i++) {
        memcpy(text + k, "{b = ", 5);
        k += 5;
    }
    text[k++] = '1';
    memset(text + k, '}', n);
    k += n;
    expect_limit(text, k, 0);
    /* a header and a dotted key with 10,000 parts */
    k = 0;
    text[k++] = '[';
    for (size_t i = 0; i < n; i++) {
        memcpy(text + k, "a.", 2);
        k += 2;
    }
    memcpy(text + k, "b]", 2);
    k += 2;
    expect_limit(text, k, 0);
    text[0] = 'x';
    memcpy(text + k - 1, "=1", 2);
    k++;
    expect_limit(text, k, 0);
    free(text);
}

Test(toml_limits, max_depth_option_counts_every_level) {
    const char ok[] = "a.b = 1";
    sl_doc *doc = sl_doc_new();
    sl_doc_opts opts = {.max_depth = 2};
    cr_expect_eq(
        sl_doc_load(doc, ok, sizeof(ok) - 1, SL_FORMAT_TOML, NULL, &opts, NULL),
        SL_OK);
    sl_doc_free(doc);
    expect_limit("a.b.c = 1", 9, 2);
    expect_limit("a = [[1]]", 9, 2);
    expect_limit("[[a]]", 5, 2);
    expect_limit("[a.b]", 5, 2);
}

Test(toml_limits, large_tables_use_the_index) {
    /* 5,000 keys in the root, in a header table and in an inline table; the
     * duplicate at the end must still be found */
    size_t n = 5000;
    sl_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        sl__buf_printf(&b, "k%zu = %zu\n", i, i);
    }
    sl__buf_printf(&b, "[t]\n");
    for (size_t i = 0; i < n; i++) {
        sl__buf_printf(&b, "s%zu.x = %zu\n", i, i);
    }
    sl__buf_printf(&b, "i = {");
    for (size_t i = 0; i < n; i++) {
        sl__buf_printf(&b, "%sq%zu = 1", i ? ", " : "", i);
    }
    sl__buf_printf(&b, "}\n");
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_assert_eq(
        sl_doc_load(doc, b.ptr, b.len, SL_FORMAT_TOML, NULL, NULL, &err), SL_OK,
        "%s", err.msg);
    const sl_node *r = sl_doc_root(doc);
    cr_expect_eq(sl_node_len(r), n + 1);
    const sl_node *t = sl_node_get(r, "t");
    cr_expect_eq(sl_node_len(t), n + 1);
    cr_expect_eq(sl_node_len(sl_node_get(t, "i")), n);
    int64_t v = 0;
    cr_expect_eq(sl_node_int(sl_node_get(r, "k4321"), &v), SL_OK);
    cr_expect_eq(v, 4321);
    size_t at = b.len;
    sl__buf_printf(&b, "s4999.y = 2\ns1234.x = 1\n");
    cr_expect_eq(
        sl_doc_load(doc, b.ptr, b.len, SL_FORMAT_TOML, NULL, NULL, &err),
        SL_EPARSE);
    cr_expect_str_eq(err.msg, "duplicate key \"s1234.x\"");
    cr_expect_eq(err.line, 2 * n + 4);
    b.len = at;
    sl__buf_printf(&b, "[k77]\n");
    cr_expect_eq(
        sl_doc_load(doc, b.ptr, b.len, SL_FORMAT_TOML, NULL, NULL, &err),
        SL_EPARSE);
    cr_expect_str_eq(err.msg, "key \"k77\" already defined as an integer");
    sl_buf_free(&b);
    sl_doc_free(doc);
}

Test(toml_limits, doc_reuse_between_loads) {
    sl_doc *doc = sl_doc_new();
    for (int i = 0; i < 3; i++) {
        const char ok[] = "[a]\nb = 1";
        cr_assert_eq(sl_doc_load(doc, ok, sizeof(ok) - 1, SL_FORMAT_TOML, NULL,
                                 NULL, NULL),
                     SL_OK);
        cr_expect_eq(sl_node_len(sl_doc_root(doc)), 1);
        cr_expect_eq(
            sl_doc_load(doc, "[a", 2, SL_FORMAT_TOML, NULL, NULL, NULL),
            SL_EPARSE);
        cr_expect_null(sl_doc_root(doc));
    }
    sl_doc_free(doc);
}

/* ---- allocation failure ---- */

static size_t fail_at, calls, live_bytes;

static void *oom_alloc(void *ctx, size_t size) {
    (void)ctx;
    if (++calls == fail_at) {
        return NULL;
    }
    live_bytes += size;
    return malloc(size);
}

static void *oom_realloc(void *ctx, void *p, size_t old, size_t size) {
    (void)ctx;
    if (++calls == fail_at) {
        return NULL;
    }
    void *q = realloc(p, size);
    if (q) {
        live_bytes += size - old;
    }
    return q;
}

static void oom_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    live_bytes -= size;
    free(p);
}

Test(toml_oom, every_allocation_failure_is_reported) {
    /* big enough to grow arenas, member arrays, the key buffer, a table
     * index and decoded strings */
    sl_buf b = {0};
    sl__buf_printf(&b, "a.b.c.d.e.f.g.h.i.j = 'x'\n[t]\n");
    for (int i = 0; i < 40; i++) {
        sl__buf_printf(&b, "\"k\\u00e9%d\" = [\"v\\n\", {x = 1}]\n", i);
    }
    sl__buf_printf(&b, "[[arr]]\n[[arr]]\ns = \"\"\"\nz\\\n  \"\"\"\n");
    for (int i = 0; i < 3000; i++) {
        sl__buf_printf(&b, "n%d = %d\n", i, i);
    }
    char *text = strdup(b.ptr);
    size_t len = b.len;
    sl_buf_free(&b);
    sl_allocator a = {oom_alloc, oom_realloc, oom_free, NULL};
    sl_set_allocator(&a);
    bool done = false;
    for (fail_at = 1; !done && fail_at < 10000; fail_at++) {
        calls = 0;
        live_bytes = 0;
        sl_error err = {0};
        sl_doc *doc = sl_doc_new();
        sl_status rc = SL_ENOMEM;
        bool loaded = false;
        if (doc) {
            rc = sl_doc_load(doc, text, len, SL_FORMAT_TOML, "t.toml", NULL,
                             &err);
            loaded = rc == SL_OK;
        }
        if (rc == SL_OK) {
            sl_buf out = {0};
            rc = sl_doc_write_tagged(&out, sl_doc_root(doc), &err);
            sl_buf_free(&out);
            done = rc == SL_OK;
        }
        if (!done) {
            cr_expect_eq(rc, SL_ENOMEM, "fail_at %zu: %d %s", fail_at, rc,
                         err.msg);
            if (doc) {
                cr_expect_eq(err.code, SL_ENOMEM, "fail_at %zu", fail_at);
            }
            if (doc && !loaded) {
                cr_expect_null(sl_doc_root(doc));
            }
        }
        sl_doc_free(doc);
        cr_expect_eq(live_bytes, 0, "fail_at %zu leaks %zu bytes", fail_at,
                     live_bytes);
    }
    sl_set_allocator(NULL);
    cr_log_info("toml oom: %zu allocation points failed in turn", fail_at - 2);
    cr_expect(done, "never succeeded");
    cr_expect_gt(fail_at, 5);
    free(text);
}

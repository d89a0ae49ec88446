/* tests/doc/test_json.c: the JSON reader and writer: every error code with
 * its exact line:col, byte-for-byte round trips, zero-copy strings,
 * escapes, stream mode, the writer's conversions, and allocation failure. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "doc/private.h"

static sl_doc *load_ok(const char *text) {
    sl_doc *doc = sl_doc_new();
    cr_assert_not_null(doc);
    sl_error err = {0};
    sl_status rc = sl_doc_load(doc, text, strlen(text), SL_FORMAT_JSON,
                               "t.json", NULL, &err);
    cr_assert_eq(rc, SL_OK, "%s: %u:%u: %s", text, err.line, err.col, err.msg);
    return doc;
}

static void expect_error(const char *text, size_t len, sl_status code,
                         uint32_t line, uint32_t col, const char *msg) {
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    sl_status rc =
        sl_doc_load(doc, text, len, SL_FORMAT_JSON, "t.json", NULL, &err);
    cr_expect_eq(rc, code, "input %s: got %d (%s)", text, rc, err.msg);
    cr_expect_eq(err.code, code);
    cr_expect_eq(err.line, line, "input %s: line %u", text, err.line);
    cr_expect_eq(err.col, col, "input %s: col %u", text, err.col);
    cr_expect_str_eq(err.file, "t.json");
    if (msg) {
        cr_expect_str_eq(err.msg, msg, "input %s", text);
    }
    cr_expect_null(sl_doc_root(doc));
    sl_doc_free(doc);
}

#define ERR(text, code, line, col, msg) \
    expect_error(text, sizeof(text) - 1, code, line, col, msg)

static void expect_roundtrip(const char *text) {
    sl_doc *doc = load_ok(text);
    sl_buf out = {0};
    sl_error err = {0};
    cr_assert_eq(sl_json_write(&out, sl_doc_root(doc), SL_WRITE_COMPACT, &err),
                 SL_OK, "%s", err.msg);
    cr_expect_str_eq(out.ptr, text);
    sl_buf_free(&out);
    sl_doc_free(doc);
}

static char *write_compact(const sl_node *n) {
    sl_buf out = {0};
    sl_error err = {0};
    cr_assert_eq(sl_json_write(&out, n, SL_WRITE_COMPACT, &err), SL_OK, "%s",
                 err.msg);
    char *s = strdup(out.ptr ? out.ptr : "");
    sl_buf_free(&out);
    return s;
}

/* ---- errors: code and exact position ---- */

Test(json_errors, unexpected_character_in_array) {
    ERR("[1,\n  2,}", SL_EPARSE, 2, 5, "unexpected character '}' in array");
}

Test(json_errors, unexpected_character_in_object) {
    ERR("{\"a\" 1}", SL_EPARSE, 1, 6, "unexpected character '1' in object");
    ERR("{\"a\":1,}", SL_EPARSE, 1, 8, "unexpected character '}' in object");
    ERR("{1:2}", SL_EPARSE, 1, 2, "unexpected character '1' in object");
}

Test(json_errors, trailing_garbage) {
    ERR("{} x", SL_EPARSE, 1, 4, "unexpected character 'x' after the value");
    ERR("[1]\n]", SL_EPARSE, 2, 1, "unexpected character ']' after the value");
}

Test(json_errors, empty_input) {
    ERR("", SL_EPARSE, 1, 1, "empty input");
    ERR(" \n ", SL_EPARSE, 2, 2, "empty input");
}

Test(json_errors, end_of_input_inside_containers) {
    ERR("[1,", SL_EPARSE, 1, 4, "unexpected end of input in array");
    ERR("{\"a\":", SL_EPARSE, 1, 6, "unexpected end of input in object");
}

Test(json_errors, unterminated_string) {
    ERR("[\"abc", SL_EPARSE, 1, 2, "unterminated string");
    ERR("\n  \"ab\\", SL_EPARSE, 2, 3, "unterminated string");
}

Test(json_errors, control_character_in_string) {
    ERR("[\"a\tb\"]", SL_EPARSE, 1, 4, "control character in string");
}

Test(json_errors, invalid_escape) {
    ERR("[\"a\\x\"]", SL_EPARSE, 1, 4, "invalid escape in string");
    ERR("[\"\\u12G4\"]", SL_EPARSE, 1, 3, "invalid \\u escape in string");
    ERR("[\"\\uD800\\u1x\"]", SL_EPARSE, 1, 9, "invalid \\u escape in string");
}

Test(json_errors, invalid_number) {
    ERR("[01]", SL_EPARSE, 1, 2, "invalid number");
    ERR("[1.]", SL_EPARSE, 1, 2, "invalid number");
    ERR("-", SL_EPARSE, 1, 1, "invalid number");
    ERR("[1e+]", SL_EPARSE, 1, 2, "invalid number");
    ERR("[.5]", SL_EPARSE, 1, 2, "unexpected character '.' in array");
    ERR("[-Infinity]", SL_EPARSE, 1, 2, "invalid number");
}

Test(json_errors, invalid_literal) {
    ERR("[tru]", SL_EPARSE, 1, 2, "invalid literal");
    ERR("nulls", SL_EPARSE, 1, 1, "invalid literal");
}

Test(json_errors, invalid_utf8_in_string_is_eutf8) {
    ERR("{\"k\":\n \"ab\xC3\x28\"}", SL_EUTF8, 2, 5, "invalid utf-8 in string");
    ERR("[\"\xED\xA0\x80\"]", SL_EUTF8, 1, 3, "invalid utf-8 in string");
    ERR("[\"\xC0\xAF\"]", SL_EUTF8, 1, 3, "invalid utf-8 in string");
}

Test(json_errors, invalid_utf8_outside_strings_is_eutf8) {
    ERR("[\xFF]", SL_EUTF8, 1, 2, "invalid utf-8 in array");
    ERR("[\xC3\xA9]", SL_EPARSE, 1, 2,
        "unexpected non-ascii character in array");
}

Test(json_errors, byte_order_mark_alone_fails) {
    ERR("\xEF\xBB\xBF", SL_EPARSE, 1, 1, "empty input");
    ERR("[\xEF\xBB\xBF]", SL_EPARSE, 1, 2,
        "unexpected byte order mark in array");
}

/* A leading byte order mark is not a column: errors on line 1 are where
 * an editor shows them. */
Test(json_errors, columns_after_a_leading_byte_order_mark) {
    ERR("\xEF\xBB\xBF{\"a\":}", SL_EPARSE, 1, 6,
        "unexpected character '}' in object");
    ERR("\xEF\xBB\xBF[1,\n 2,]", SL_EPARSE, 2, 4,
        "unexpected character ']' in array");
}

Test(json_errors, depth_limit_is_elimit) {
    size_t n = 10000;
    char *text = malloc(n);
    memset(text, '[', n);
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_assert_eq(
        sl_doc_load(doc, text, n, SL_FORMAT_JSON, "deep.json", NULL, &err),
        SL_ELIMIT);
    cr_expect_eq(err.line, 1);
    cr_expect_eq(err.col, 513);
    cr_expect_str_eq(err.msg, "nesting deeper than 512 levels");
    /* a raised limit parses deeper, still without recursion */
    sl_doc_opts opts = {.max_depth = 20000};
    cr_assert_eq(sl_doc_load(doc, text, n, SL_FORMAT_JSON, NULL, &opts, &err),
                 SL_EPARSE);
    cr_expect_str_eq(err.msg, "unexpected end of input in array");
    sl_doc_free(doc);
    free(text);
}

Test(json_errors, deep_but_within_limit_parses_and_writes) {
    size_t d = 5000;
    char *text = malloc(2 * d + 1);
    memset(text, '[', d);
    memset(text + d, ']', d);
    text[2 * d] = '\0';
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    sl_doc_opts opts = {.max_depth = 6000};
    cr_assert_eq(
        sl_doc_load(doc, text, 2 * d, SL_FORMAT_JSON, NULL, &opts, &err), SL_OK,
        "%s", err.msg);
    char *out = write_compact(sl_doc_root(doc));
    cr_expect_str_eq(out, text);
    free(out);
    sl_doc_free(doc);
    free(text);
}

Test(json_errors, bad_arguments_are_einval) {
    sl_error err = {0};
    cr_expect_eq(sl_doc_load(NULL, "1", 1, SL_FORMAT_JSON, NULL, NULL, &err),
                 SL_EINVAL);
    sl_doc *doc = sl_doc_new();
    cr_expect_eq(sl_doc_load(doc, NULL, 3, SL_FORMAT_JSON, NULL, NULL, &err),
                 SL_EINVAL);
    cr_expect_eq(sl_json_write(NULL, NULL, 0, &err), SL_EINVAL);
    sl_doc_free(doc);
}

/* ---- values ---- */

Test(json_read, number_kinds_and_lexemes) {
    sl_doc *doc = load_ok("[0,-0,12,1.0e+2,1E400,-1.5,3e2]");
    const sl_node *r = sl_doc_root(doc);
    cr_assert_eq(sl_node_len(r), 7);
    sl_node_kind kinds[] = {SL_NODE_INT,   SL_NODE_INT,   SL_NODE_INT,
                            SL_NODE_FLOAT, SL_NODE_FLOAT, SL_NODE_FLOAT,
                            SL_NODE_FLOAT};
    const char *lex[] = {"0", "-0", "12", "1.0e+2", "1E400", "-1.5", "3e2"};
    for (size_t i = 0; i < 7; i++) {
        const sl_node *n = sl_node_at(r, i);
        cr_expect_eq(sl_node_kind_of(n), kinds[i], "item %zu", i);
        sl_str s = sl_node_str(n);
        cr_expect_eq(s.len, strlen(lex[i]));
        cr_expect_eq(memcmp(s.ptr, lex[i], s.len), 0);
    }
    int64_t v = 0;
    cr_expect_eq(sl_node_int(sl_node_at(r, 2), &v), SL_OK);
    cr_expect_eq(v, 12);
    sl_doc_free(doc);
}

Test(json_read, strings_without_escapes_point_into_the_text) {
    const char *text = "{\"key\":\"value\",\"e\":\"a\\nb\"}";
    sl_doc *doc = sl_doc_new();
    sl_doc_opts opts = {.borrow = true};
    sl_error err = {0};
    cr_assert_eq(
        sl_doc_load(doc, text, strlen(text), SL_FORMAT_JSON, NULL, &opts, &err),
        SL_OK);
    const sl_node *r = sl_doc_root(doc);
    sl_str k = sl_node_key(r, 0);
    cr_expect_eq(k.ptr, text + 2);
    const sl_node *v = sl_node_at(r, 0);
    cr_expect_eq(sl_node_str(v).ptr, text + 8);
    cr_expect_eq(v->raw, text + 8);
    const sl_node *e = sl_node_at(r, 1);
    cr_expect_eq(sl_node_str(e).len, 3);
    cr_expect_eq(memcmp(sl_node_str(e).ptr, "a\nb", 3), 0);
    cr_expect_eq(e->raw, text + 20);
    cr_expect_eq(e->aux, 4);
    sl_doc_free(doc);
}

Test(json_read, escapes_decode) {
    sl_doc *doc = load_ok("[\"\\u00e9\\/\\\"\\\\\\b\\f\\n\\r\\t\","
                          "\"\\ud83d\\ude00\",\"\\uD800x\",\"\\uDC00\"]");
    const sl_node *r = sl_doc_root(doc);
    sl_str s = sl_node_str(sl_node_at(r, 0));
    cr_expect_eq(s.len, 10);
    cr_expect_eq(memcmp(s.ptr, "\xC3\xA9/\"\\\b\f\n\r\t", 10), 0);
    s = sl_node_str(sl_node_at(r, 1));
    cr_expect_eq(s.len, 4);
    cr_expect_eq(memcmp(s.ptr, "\xF0\x9F\x98\x80", 4), 0);
    /* lone surrogates decode to U+FFFD */
    s = sl_node_str(sl_node_at(r, 2));
    cr_expect_eq(s.len, 4);
    cr_expect_eq(memcmp(s.ptr, "\xEF\xBF\xBDx", 4), 0);
    s = sl_node_str(sl_node_at(r, 3));
    cr_expect_eq(s.len, 3);
    cr_expect_eq(memcmp(s.ptr, "\xEF\xBF\xBD", 3), 0);
    sl_doc_free(doc);
}

Test(json_read, duplicate_keys_and_order_are_kept) {
    sl_doc *doc = load_ok("{\"b\":1,\"a\":2,\"b\":3}");
    const sl_node *r = sl_doc_root(doc);
    cr_assert_eq(sl_node_len(r), 3);
    cr_expect_eq(sl_node_key(r, 0).ptr[0], 'b');
    cr_expect_eq(sl_node_key(r, 1).ptr[0], 'a');
    cr_expect_eq(sl_node_key(r, 2).ptr[0], 'b');
    cr_expect_eq(sl_node_str(sl_node_get(r, "b")).ptr[0], '1');
    sl_doc_free(doc);
}

Test(json_read, positions_of_nodes_and_keys) {
    sl_doc *doc = load_ok("{\n  \"a\": [true,\n    null]\n}");
    const sl_node *r = sl_doc_root(doc);
    sl_pos p = sl_node_key_pos(doc, r, 0);
    cr_expect_eq(p.line, 2);
    cr_expect_eq(p.col, 3);
    const sl_node *arr = sl_node_get(r, "a");
    p = sl_node_pos(doc, arr);
    cr_expect_eq(p.line, 2);
    cr_expect_eq(p.col, 8);
    p = sl_node_pos(doc, sl_node_at(arr, 1));
    cr_expect_eq(p.line, 3);
    cr_expect_eq(p.col, 5);
    cr_expect_str_eq(p.file, "t.json");
    sl_doc_free(doc);
}

Test(json_read, leading_byte_order_mark_is_skipped) {
    sl_doc *doc = load_ok("\xEF\xBB\xBF{\"a\":1}");
    cr_expect_eq(sl_node_len(sl_doc_root(doc)), 1);
    sl_doc_free(doc);
}

Test(json_read, doc_is_reusable_between_loads) {
    sl_doc *doc = load_ok("[1,2,3]");
    sl_error err = {0};
    cr_assert_eq(
        sl_doc_load(doc, "{\"x\":[]}", 8, SL_FORMAT_JSON, NULL, NULL, &err),
        SL_OK);
    cr_expect_eq(sl_node_kind_of(sl_doc_root(doc)), SL_NODE_OBJECT);
    cr_expect_eq(sl_node_len(sl_node_get(sl_doc_root(doc), "x")), 0);
    sl_doc_free(doc);
}

/* ---- round trips ---- */

Test(json_roundtrip, compact_text_is_written_back_byte_for_byte) {
    expect_roundtrip("{\"b\":1,\"a\":[1.0e+2,-0,1E400,0.5e-3],\"b\":\"x\"}");
    expect_roundtrip("[\"\\/\",\"\\u00e9\",\"\\u00E9\",\"\xC3\xA9\","
                     "\"\\ud83d\\ude00\",\"\\uDEAD\"]");
    expect_roundtrip("{\"\\u0041\":{\"\":[[],{}]},\"n\":null,\"t\":true,"
                     "\"f\":false}");
    expect_roundtrip("\"top\"");
    expect_roundtrip("-12345678901234567890123456789");
}

Test(json_roundtrip, whitespace_is_dropped_in_compact) {
    sl_doc *doc = load_ok(" { \"a\" : [ 1 , 2 ] ,\n\"b\":{ } } ");
    char *s = write_compact(sl_doc_root(doc));
    cr_expect_str_eq(s, "{\"a\":[1,2],\"b\":{}}");
    free(s);
    sl_doc_free(doc);
}

Test(json_write, pretty_uses_two_spaces) {
    sl_doc *doc = load_ok("{\"a\":[1,{\"b\":null}],\"c\":[],\"d\":{}}");
    sl_buf out = {0};
    cr_assert_eq(sl_json_write(&out, sl_doc_root(doc), SL_WRITE_PRETTY, NULL),
                 SL_OK);
    cr_expect_str_eq(out.ptr, "{\n"
                              "  \"a\": [\n"
                              "    1,\n"
                              "    {\n"
                              "      \"b\": null\n"
                              "    }\n"
                              "  ],\n"
                              "  \"c\": [],\n"
                              "  \"d\": {}\n"
                              "}");
    sl_buf_free(&out);
    sl_doc_free(doc);
}

Test(json_write, null_node_is_null) {
    sl_buf out = {0};
    cr_assert_eq(sl_json_write(&out, NULL, 0, NULL), SL_OK);
    cr_expect_str_eq(out.ptr, "null");
    sl_buf_free(&out);
}

Test(json_write, write_string_escapes_minimally) {
    sl_buf out = {0};
    const char s[] = "a\"b\\c\n\t\r\b\f\x01\x1f/\xC3\xA9\x7f";
    cr_assert_eq(sl_json_write_string(&out, s, sizeof(s) - 1), SL_OK);
    cr_expect_str_eq(out.ptr, "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f/"
                              "\xC3\xA9\x7f\"");
    out.len = 0;
    cr_expect_eq(sl_json_write_string(&out, "\xC3", 1), SL_EINVAL);
    cr_expect_eq(out.len, 0);
    sl_buf_free(&out);
}

Test(json_write, set_string_is_escaped_on_write) {
    sl_doc *doc = load_ok("{\"a\":\"\\u0041\",\"b\":\"keep\\/me\"}");
    sl_node *a = (sl_node *)sl_node_get(sl_doc_root(doc), "a");
    cr_assert_eq(sl_node_set_string(doc, a, "say \"hi\"\n", 9), SL_OK);
    char *s = write_compact(sl_doc_root(doc));
    cr_expect_str_eq(s, "{\"a\":\"say \\\"hi\\\"\\n\",\"b\":\"keep\\/me\"}");
    free(s);
    sl_doc_free(doc);
}

Test(json_write, toml_special_floats_are_einval) {
    sl_doc *doc = sl_doc_new();
    sl_node n;
    sl__node_init_scalar(&n, SL_NODE_FLOAT, "inf", 3, SL__NO_OFF);
    n.flags = SL__NF_TOML_SPECIAL;
    sl_buf out = {0};
    sl_error err = {0};
    cr_expect_eq(sl_json_write(&out, &n, 0, &err), SL_EINVAL);
    cr_expect_str_eq(err.msg, "inf and nan cannot be written as json numbers");
    sl__node_init_scalar(&n, SL_NODE_FLOAT, "-.nan", 5, SL__NO_OFF);
    cr_expect_eq(sl_json_write(&out, &n, 0, &err), SL_EINVAL);
    cr_expect_eq(out.len, 0);
    sl_buf_free(&out);
    sl_doc_free(doc);
}

Test(json_write, foreign_numbers_and_dates_are_converted) {
    struct {
        sl_node_kind kind;
        const char *lex;
        const char *json;
    } cases[] = {
        {SL_NODE_INT, "+1_000", "1000"},
        {SL_NODE_INT, "0x1F", "31"},
        {SL_NODE_INT, "0o17", "15"},
        {SL_NODE_INT, "007", "7"},
        {SL_NODE_FLOAT, "+1_000.5", "1000.5"},
        {SL_NODE_FLOAT, ".5", "0.5"},
        {SL_NODE_FLOAT, "1.", "1"},
        {SL_NODE_FLOAT, "1e+5", "1e+5"},
        {SL_NODE_FLOAT, "-0.0", "-0.0"},
        {SL_NODE_DATETIME, "1979-05-27T07:32:00Z", "\"1979-05-27T07:32:00Z\""},
        {SL_NODE_DATE_LOCAL, "1979-05-27", "\"1979-05-27\""},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        sl_node n;
        sl__node_init_scalar(&n, cases[i].kind, cases[i].lex,
                             (uint32_t)strlen(cases[i].lex), SL__NO_OFF);
        char *s = write_compact(&n);
        cr_expect_str_eq(s, cases[i].json, "lexeme %s", cases[i].lex);
        free(s);
    }
    sl_node n;
    sl__node_init_scalar(&n, SL_NODE_FLOAT, "1.2.3", 5, SL__NO_OFF);
    sl_buf out = {0};
    sl_error err = {0};
    cr_expect_eq(sl_json_write(&out, &n, 0, &err), SL_EINVAL);
    cr_expect_str_eq(err.msg, "number \"1.2.3\" cannot be written as json");
    sl_buf_free(&out);
}

/* ---- stream mode ---- */

Test(json_stream, load_next_reads_values_and_resumes_after_a_bad_line) {
    const char *text = "{\"a\":1}\n"
                       "[1,2]  \"s\"\n"
                       "{\"bad\": tru}\n"
                       "{\n  \"pretty\": true\n}\n"
                       "\n";
    size_t len = strlen(text), off = 0;
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_assert_eq(sl_doc_load_next(doc, text, len, &off, "s.jsonl", NULL, &err),
                 SL_OK);
    cr_expect_eq(sl_node_kind_of(sl_doc_root(doc)), SL_NODE_OBJECT);
    cr_expect_eq(off, 8);
    cr_assert_eq(sl_doc_load_next(doc, text, len, &off, "s.jsonl", NULL, &err),
                 SL_OK);
    cr_expect_eq(sl_node_len(sl_doc_root(doc)), 2);
    cr_assert_eq(sl_doc_load_next(doc, text, len, &off, "s.jsonl", NULL, &err),
                 SL_OK);
    cr_expect_eq(sl_node_kind_of(sl_doc_root(doc)), SL_NODE_STRING);
    cr_expect_eq(off, 19);
    cr_assert_eq(sl_doc_load_next(doc, text, len, &off, "s.jsonl", NULL, &err),
                 SL_EPARSE);
    cr_expect_eq(err.line, 3);
    cr_expect_eq(err.col, 9);
    cr_expect_str_eq(err.file, "s.jsonl");
    cr_expect_str_eq(err.msg, "invalid literal");
    cr_expect_eq(off, 32);
    cr_assert_eq(sl_doc_load_next(doc, text, len, &off, "s.jsonl", NULL, &err),
                 SL_OK);
    const sl_node *r = sl_doc_root(doc);
    cr_expect(sl_node_bool(sl_node_get(r, "pretty")));
    cr_expect_eq(sl_node_pos(doc, r).line, 4);
    cr_expect_eq(sl_doc_load_next(doc, text, len, &off, "s.jsonl", NULL, &err),
                 SL_ENOTFOUND);
    cr_expect_eq(off, len);
    sl_doc_free(doc);
}

Test(json_stream, values_need_no_separator_after_brackets) {
    const char *text = "[1][2]{}";
    size_t off = 0;
    sl_doc *doc = sl_doc_new();
    int n = 0;
    while (sl_doc_load_next(doc, text, strlen(text), &off, NULL, NULL, NULL) ==
           SL_OK) {
        n++;
    }
    cr_expect_eq(n, 3);
    sl_doc_free(doc);
}

Test(json_stream, error_without_err_record_still_resumes) {
    const char *text = "[1,\n2,]\n[3]";
    size_t off = 0;
    sl_doc *doc = sl_doc_new();
    cr_expect_eq(
        sl_doc_load_next(doc, text, strlen(text), &off, NULL, NULL, NULL),
        SL_EPARSE);
    cr_expect_eq(off, 8);
    cr_expect_eq(
        sl_doc_load_next(doc, text, strlen(text), &off, NULL, NULL, NULL),
        SL_OK);
    cr_expect_eq(sl_node_len(sl_doc_root(doc)), 1);
    sl_doc_free(doc);
}

/* ---- allocation failure ---- */

static size_t fail_at, n_alloc, live;

static void *t_alloc(void *ctx, size_t size) {
    (void)ctx;
    if (++n_alloc == fail_at) {
        return NULL;
    }
    live++;
    return malloc(size);
}

static void *t_realloc(void *ctx, void *p, size_t old, size_t size) {
    (void)ctx;
    (void)old;
    if (++n_alloc == fail_at) {
        return NULL;
    }
    if (!p) {
        live++;
    }
    return realloc(p, size);
}

static void t_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    (void)size;
    if (p) {
        live--;
    }
    free(p);
}

Test(json_oom, every_failed_allocation_is_enomem_without_leaks) {
    static const sl_allocator a = {t_alloc, t_realloc, t_free, NULL};
    /* big enough that the arena and the value stack both grow */
    sl_buf text = {0};
    sl__buf_append(&text, "[", 1);
    for (int i = 0; i < 3000; i++) {
        sl__buf_printf(&text, "%s{\"k%d\":\"v\\n\",\"n\":[%d]}", i ? "," : "",
                       i, i);
    }
    sl__buf_append(&text, "]", 1);
    char *copy = strdup(text.ptr);
    size_t len = text.len;
    sl_buf_free(&text);
    sl_set_allocator(&a);
    bool ok = false;
    for (fail_at = 1; fail_at < 1000 && !ok; fail_at++) {
        n_alloc = 0;
        live = 0;
        sl_error err = {0};
        sl_doc *doc = sl_doc_new();
        if (!doc) {
            cr_expect_eq(live, 0);
            continue;
        }
        sl_status rc =
            sl_doc_load(doc, copy, len, SL_FORMAT_JSON, "o.json", NULL, &err);
        if (rc == SL_OK) {
            sl_buf out = {0};
            rc = sl_json_write(&out, sl_doc_root(doc), 0, &err);
            if (rc == SL_OK) {
                ok = true;
                cr_expect_eq(out.len, len);
            } else {
                cr_expect_eq(rc, SL_ENOMEM);
            }
            sl_buf_free(&out);
        } else {
            cr_expect_eq(rc, SL_ENOMEM, "fail_at %zu: %s", fail_at, err.msg);
            cr_expect_eq(err.code, SL_ENOMEM);
        }
        sl_doc_free(doc);
        cr_expect_eq(live, 0, "leak at fail_at %zu", fail_at);
    }
    sl_set_allocator(NULL);
    cr_expect(ok);
    free(copy);
}

Test(json_stream, many_bad_lines_report_their_own_line_numbers) {
    /* errors far into a stream are located by scanning forward from the
     * previous one (the memo in sl__doc_locate); each line is right */
    sl_buf text = {0};
    for (int i = 0; i < 2000; i++) {
        sl__buf_printf(&text, i % 2 ? "{\"ok\":%d}\n" : "{\"x\":\xC3\xA9%d}\n",
                       i);
    }
    sl_doc *doc = sl_doc_new();
    size_t off = 0;
    int line = 0, bad = 0;
    sl_error err = {0};
    for (;;) {
        sl_status rc =
            sl_doc_load_next(doc, text.ptr, text.len, &off, "s", NULL, &err);
        if (rc == SL_ENOTFOUND) {
            break;
        }
        line++;
        if (rc != SL_OK) {
            cr_assert_eq(rc, SL_EPARSE);
            cr_assert_eq(err.line, (uint32_t)line);
            cr_assert_eq(err.col, 6);
            bad++;
        }
    }
    cr_expect_eq(bad, 1000);
    /* a whole load of the same buffer starts counting afresh */
    cr_expect_eq(sl_doc_load(doc, text.ptr, 7, SL_FORMAT_JSON, NULL,
                             &(sl_doc_opts){.borrow = true}, &err),
                 SL_EPARSE);
    cr_expect_eq(err.line, 1);
    sl_buf_free(&text);
    sl_doc_free(doc);
}

Test(json_write, escapes_found_at_every_position_of_long_strings) {
    /* the 16-byte scan must stop exactly at each special byte */
    const char specials[] = {'"', '\\', '\n', '\x01', '\x7f'};
    const char *escaped[] = {"\\\"", "\\\\", "\\n", "\\u0001", "\x7f"};
    for (size_t k = 0; k < sizeof(specials); k++) {
        for (size_t i = 0; i < 40; i++) {
            char in[41], want[64];
            memset(in, 'a', 40);
            in[i] = specials[k];
            in[40] = '\0';
            int w = snprintf(want, sizeof(want), "\"%.*s%s%s\"", (int)i, in,
                             escaped[k], in + i + 1);
            cr_assert(w > 0);
            sl_buf out = {0};
            cr_assert_eq(sl_json_write_string(&out, in, 40), SL_OK);
            cr_expect_str_eq(out.ptr, want, "special %zu at %zu", k, i);
            sl_buf_free(&out);
        }
    }
}

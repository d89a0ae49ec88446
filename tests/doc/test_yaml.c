/* tests/doc/test_yaml.c: the YAML reader: core-schema types, positions,
 * anchors and aliases (copies, bombs), and every error code with its
 * line:col. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "doc/private.h"

static sl_doc *yload(const char *text) {
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_assert_eq(sl_doc_load(doc, text, strlen(text), SL_FORMAT_YAML, "t.yaml",
                             NULL, &err),
                 SL_OK, "%u:%u: %s", err.line, err.col, err.msg);
    return doc;
}

static void yerror(const char *text, sl_status code, uint32_t line,
                   uint32_t col, const char *msg) {
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    sl_status rc = sl_doc_load(doc, text, strlen(text), SL_FORMAT_YAML,
                               "t.yaml", NULL, &err);
    cr_expect_eq(rc, code, "%s: got %d (%s)", text, rc, err.msg);
    cr_expect_eq(err.line, line, "%s: line %u", text, err.line);
    cr_expect_eq(err.col, col, "%s: col %u", text, err.col);
    cr_expect_str_eq(err.file, "t.yaml");
    if (msg) {
        cr_expect_str_eq(err.msg, msg);
    }
    cr_expect_null(sl_doc_root(doc));
    sl_doc_free(doc);
}

static char *to_json(const sl_node *n) {
    sl_buf out = {0};
    sl_error err = {0};
    cr_assert_eq(sl_json_write(&out, n, SL_WRITE_COMPACT, &err), SL_OK, "%s",
                 err.msg);
    char *s = strdup(out.ptr);
    sl_buf_free(&out);
    return s;
}

Test(yaml, core_schema_plain_scalars) {
    struct {
        const char *text;
        sl_node_kind kind;
        const char *json;
    } cases[] = {
        {"~", SL_NODE_NULL, "null"},
        {"null", SL_NODE_NULL, "null"},
        {"NULL", SL_NODE_NULL, "null"},
        {"True", SL_NODE_BOOL, "true"},
        {"FALSE", SL_NODE_BOOL, "false"},
        {"yes", SL_NODE_STRING, "\"yes\""},
        {"42", SL_NODE_INT, "42"},
        {"-17", SL_NODE_INT, "-17"},
        {"+5", SL_NODE_INT, "5"},
        {"0x1F", SL_NODE_INT, "31"},
        {"0o17", SL_NODE_INT, "15"},
        {"1.5", SL_NODE_FLOAT, "1.5"},
        {"-.5e3", SL_NODE_FLOAT, "-0.5e3"},
        {"1.", SL_NODE_FLOAT, "1"},
        {"1_000", SL_NODE_STRING, "\"1_000\""},
        {"'42'", SL_NODE_STRING, "\"42\""},
        {"\"true\"", SL_NODE_STRING, "\"true\""},
        {"!!str 7", SL_NODE_STRING, "\"7\""},
        {"2001-12-14", SL_NODE_STRING, "\"2001-12-14\""},
        {"\"tab\\there\"", SL_NODE_STRING, "\"tab\\there\""},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        char text[64];
        snprintf(text, sizeof(text), "v: %s\n", cases[i].text);
        sl_doc *doc = yload(text);
        const sl_node *v = sl_node_get(sl_doc_root(doc), "v");
        cr_expect_eq(sl_node_kind_of(v), cases[i].kind, "%s: kind %d",
                     cases[i].text, sl_node_kind_of(v));
        char *json = to_json(v);
        cr_expect_str_eq(json, cases[i].json, "%s", cases[i].text);
        free(json);
        sl_doc_free(doc);
    }
}

Test(yaml, empty_value_and_empty_file_are_null) {
    sl_doc *doc = yload("a:\nb: ''\n");
    char *json = to_json(sl_doc_root(doc));
    cr_expect_str_eq(json, "{\"a\":null,\"b\":\"\"}");
    free(json);
    sl_doc_free(doc);
    doc = yload("");
    cr_expect_eq(sl_node_kind_of(sl_doc_root(doc)), SL_NODE_NULL);
    sl_doc_free(doc);
}

Test(yaml, inf_and_nan_load_but_cannot_be_json) {
    sl_doc *doc = yload("a: .inf\nb: -.Inf\nc: .NaN\n");
    const sl_node *r = sl_doc_root(doc);
    double d = 0;
    cr_expect_eq(sl_node_kind_of(sl_node_get(r, "a")), SL_NODE_FLOAT);
    cr_expect_eq(sl_node_get(r, "c")->flags, SL__NF_TOML_SPECIAL);
    cr_expect_eq(sl_node_double(sl_node_get(r, "b"), &d), SL_ESCHEMA);
    sl_buf out = {0};
    sl_error err = {0};
    cr_expect_eq(sl_json_write(&out, r, 0, &err), SL_EINVAL);
    cr_expect_str_eq(err.msg, "inf and nan cannot be written as json numbers");
    sl_buf_free(&out);
    sl_doc_free(doc);
}

Test(yaml, positions_are_byte_offsets_of_marks) {
    sl_doc *doc = yload("top:\n  list:\n    - one\n    - {k: 2}\n");
    const sl_node *r = sl_doc_root(doc);
    const sl_node *top = sl_node_get(r, "top");
    sl_pos p = sl_node_key_pos(doc, r, 0);
    cr_expect_eq(p.line, 1);
    cr_expect_eq(p.col, 1);
    p = sl_node_key_pos(doc, top, 0);
    cr_expect_eq(p.line, 2);
    cr_expect_eq(p.col, 3);
    const sl_node *list = sl_node_get(top, "list");
    p = sl_node_pos(doc, sl_node_at(list, 0));
    cr_expect_eq(p.line, 3);
    cr_expect_eq(p.col, 7);
    const sl_node *k = sl_node_get(sl_node_at(list, 1), "k");
    p = sl_node_pos(doc, k);
    cr_expect_eq(p.line, 4);
    cr_expect_eq(p.col, 11);
    cr_expect_str_eq(p.file, "t.yaml");
    sl_doc_free(doc);
}

Test(yaml, keys_order_and_duplicates_kept) {
    sl_doc *doc = yload("b: 1\na: 2\n1: x\n");
    char *json = to_json(sl_doc_root(doc));
    cr_expect_str_eq(json, "{\"b\":1,\"a\":2,\"1\":\"x\"}");
    free(json);
    sl_doc_free(doc);
}

Test(yaml, aliases_are_independent_copies) {
    sl_doc *doc = yload("base: &b {x: 1, y: [1, 2]}\ncopy: *b\nk: &s key\n"
                        "*s : 3\n");
    sl_node *r = (sl_node *)sl_doc_root(doc);
    char *json = to_json(r);
    cr_expect_str_eq(json, "{\"base\":{\"x\":1,\"y\":[1,2]},"
                           "\"copy\":{\"x\":1,\"y\":[1,2]},\"k\":\"key\","
                           "\"key\":3}");
    free(json);
    sl_node *copy_y = (sl_node *)sl_node_get(sl_node_get(r, "copy"), "y");
    cr_assert_eq(
        sl_node_set_string(doc, (sl_node *)sl_node_at(copy_y, 0), "z", 1),
        SL_OK);
    json = to_json(sl_node_get(r, "base"));
    cr_expect_str_eq(json, "{\"x\":1,\"y\":[1,2]}");
    free(json);
    sl_doc_free(doc);
}

/* ---- errors ---- */

Test(yaml_errors, alias_bomb_is_elimit) {
    const char *bomb = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
                       "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                       "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                       "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                       "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                       "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                       "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                       "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                       "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    yerror(bomb, SL_ELIMIT, 7, 9, "aliases expand to more than 1000000 nodes");
}

Test(yaml_errors, more_than_one_document_is_eparse) {
    yerror("a: 1\n---\nb: 2\n", SL_EPARSE, 2, 1,
           "more than one yaml document in one file");
}

Test(yaml_errors, syntax_error_has_libfyaml_position) {
    yerror("empty:\nk: - 1\n", SL_EPARSE, 2, 4,
           "block sequence on the same line as a mapping key");
}

Test(yaml_errors, invalid_utf8_is_eutf8) {
    yerror("a: 1\nb: x\xC3\x28\n", SL_EUTF8, 2, 5, "invalid utf-8");
}

Test(yaml_errors, depth_limit_is_elimit) {
    char text[2000];
    memset(text, '[', 1000);
    text[1000] = '\0';
    yerror(text, SL_ELIMIT, 1, 513, "nesting deeper than 512 levels");
}

Test(yaml_errors, complex_keys_are_eparse) {
    yerror("? [a, b]\n: 1\n", SL_EPARSE, 1, 3, "mapping keys must be scalars");
}

Test(yaml_errors, unknown_alias_is_eparse) {
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_expect_eq(
        sl_doc_load(doc, "a: *nope\n", 9, SL_FORMAT_YAML, "t.yaml", NULL, &err),
        SL_EPARSE);
    cr_expect_eq(err.line, 1);
    sl_doc_free(doc);
}

Test(yaml, single_quoted_runs_of_quotes_and_folding) {
    /* libfyaml 0.7.12 gets runs of '' wrong; sluice decodes this style */
    sl_doc *doc = yload("a: '''''''''''x'\nb: 'one  \n   two\n\n  three '\n"
                        "c: ''\nd: 'it''s'\n");
    char *json = to_json(sl_doc_root(doc));
    cr_expect_str_eq(json, "{\"a\":\"'''''x\",\"b\":\"one two\\nthree \","
                           "\"c\":\"\",\"d\":\"it's\"}");
    free(json);
    /* a quoted scalar's position is its opening quote */
    sl_pos p = sl_node_pos(doc, sl_node_get(sl_doc_root(doc), "d"));
    cr_expect_eq(p.line, 7);
    cr_expect_eq(p.col, 4);
    sl_doc_free(doc);
}

/* ---- allocation failure (sluice's own allocations; libfyaml's use
 * malloc and are outside the hook) ---- */

static size_t y_fail_at, y_n_alloc, y_live;

static void *y_alloc(void *ctx, size_t size) {
    (void)ctx;
    if (++y_n_alloc == y_fail_at) {
        return NULL;
    }
    y_live++;
    return malloc(size);
}

static void *y_realloc(void *ctx, void *p, size_t old, size_t size) {
    (void)ctx;
    (void)old;
    if (++y_n_alloc == y_fail_at) {
        return NULL;
    }
    if (!p) {
        y_live++;
    }
    return realloc(p, size);
}

static void y_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    (void)size;
    if (p) {
        y_live--;
    }
    free(p);
}

Test(yaml_oom, every_failed_allocation_is_enomem_without_leaks) {
    static const sl_allocator a = {y_alloc, y_realloc, y_free, NULL};
    sl_buf text = {0};
    for (int i = 0; i < 400; i++) {
        sl__buf_printf(&text, "k%d: &a%d {x: [1, 'two', \"3\"], y: ~}\n", i, i);
    }
    for (int i = 0; i < 50; i++) {
        sl__buf_printf(&text, "r%d: *a%d\n", i, i);
    }
    char *copy = strdup(text.ptr);
    size_t len = text.len;
    sl_buf_free(&text);
    sl_set_allocator(&a);
    bool ok = false;
    for (y_fail_at = 1; y_fail_at < 1000 && !ok; y_fail_at++) {
        y_n_alloc = 0;
        y_live = 0;
        sl_error err = {0};
        sl_doc *doc = sl_doc_new();
        if (!doc) {
            continue;
        }
        sl_status rc =
            sl_doc_load(doc, copy, len, SL_FORMAT_YAML, "o.yaml", NULL, &err);
        if (rc == SL_OK) {
            ok = true;
            cr_expect_eq(sl_node_len(sl_doc_root(doc)), 450);
        } else {
            cr_expect_eq(rc, SL_ENOMEM, "fail_at %zu: %s", y_fail_at, err.msg);
        }
        sl_doc_free(doc);
        cr_expect_eq(y_live, 0, "leak at fail_at %zu", y_fail_at);
    }
    sl_set_allocator(NULL);
    cr_expect(ok);
    free(copy);
}

Test(yaml_errors, control_characters_are_eparse) {
    /* "? m:\t\0" crashed libfyaml 0.7.12 (fuzz_yaml); never reaches it */
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_expect_eq(sl_doc_load(doc, "a: 1\n? m:\t\0", 11, SL_FORMAT_YAML,
                             "t.yaml", NULL, &err),
                 SL_EPARSE);
    cr_expect_eq(err.line, 2);
    cr_expect_eq(err.col, 6);
    cr_expect_str_eq(err.msg, "control character 0x00 in yaml text");
    sl_doc_free(doc);
}

Test(yaml_errors, tab_before_indicator_with_explicit_keys_is_eparse) {
    /* these crashed libfyaml 0.7.12 in fy_parser_destroy (fuzz_yaml) */
    yerror("? y:\t:", SL_EPARSE, 1, 5,
           "tab before a block indicator in a document with explicit keys");
    yerror("a: 1\n? y:\n  w:\t: z\n", SL_EPARSE, 3, 5, NULL);
    /* block scalar indicators and '?' / ':' need no white space after */
    yerror("? ::\t>", SL_EPARSE, 1, 5, NULL);
    yerror("? ::\t|2", SL_EPARSE, 1, 5, NULL);
    yerror("? ::\t?x", SL_EPARSE, 1, 5, NULL);
    yerror("? ::\t:x", SL_EPARSE, 1, 5, NULL);
    /* tabs elsewhere, or no explicit key, are left to libfyaml */
    sl_doc *doc = yload("a:\t1\nb: 'x\t- y'\n");
    sl_doc_free(doc);
    /* a tab before a negative number is fine even with explicit keys */
    doc = yload("a:\t-1\n? b\n: c\n");
    sl_doc_free(doc);
}

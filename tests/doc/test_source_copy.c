/* tests/doc/test_source_copy.c: copying unchanged source text when
 * writing (sl_doc_node_source, sl_doc_write_json). The promise checked
 * everywhere: sl_doc_write_json produces exactly the bytes sl_json_write
 * produces, whatever was changed, removed or appended; and a node's source
 * text is offered only when it is compact and unchanged. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/doc.h>

static sl_doc *load(const char *text) {
    sl_doc *d = sl_doc_new();
    cr_assert_not_null(d);
    sl_error err = {0};
    cr_assert_eq(
        sl_doc_load(d, text, strlen(text), SL_FORMAT_JSON, NULL, NULL, &err),
        SL_OK, "%s", err.msg);
    return d;
}

/* Both writers agree; return the text (static buffer). */
static const char *write_both(const sl_doc *d, const sl_node *n) {
    static char text[1 << 16];
    sl_buf a = {0}, b = {0};
    sl_error err = {0};
    cr_assert_eq(sl_json_write(&a, n, SL_WRITE_COMPACT, &err), SL_OK);
    cr_assert_eq(sl_doc_write_json(d, n, &b, &err), SL_OK);
    cr_assert_str_eq(b.ptr, a.ptr);
    snprintf(text, sizeof(text), "%s", a.ptr);
    sl_buf_free(&a);
    sl_buf_free(&b);
    return text;
}

static bool source(const sl_doc *d, const sl_node *n, bool deep,
                   const char *want) {
    sl_str s = {0};
    if (!sl_doc_node_source(d, n, deep, &s)) {
        return false;
    }
    cr_assert_eq(s.len, strlen(want));
    cr_assert_eq(memcmp(s.ptr, want, s.len), 0, "%.*s", (int)s.len, s.ptr);
    return true;
}

Test(source_copy, an_unchanged_compact_container_is_its_source_text) {
    const char *t = "{\"a\":[1,2.50,\"x\\u0041\"],\"b\":{\"c\":null}}";
    sl_doc *d = load(t);
    const sl_node *root = sl_doc_root(d);
    cr_assert(source(d, root, true, t));
    cr_assert(
        source(d, sl_node_get(root, "a"), false, "[1,2.50,\"x\\u0041\"]"));
    cr_assert_str_eq(write_both(d, root), t);
    sl_doc_free(d);
}

Test(source_copy, whitespace_inside_means_no_source_text) {
    sl_doc *d = load("{\"a\": [1, 2], \"b\":{\"c\":true}}");
    const sl_node *root = sl_doc_root(d);
    cr_assert_not(source(d, root, true, ""));
    cr_assert_not(source(d, sl_node_get(root, "a"), true, ""));
    cr_assert(source(d, sl_node_get(root, "b"), true, "{\"c\":true}"));
    cr_assert_str_eq(write_both(d, root), "{\"a\":[1,2],\"b\":{\"c\":true}}");
    sl_doc_free(d);
}

Test(source_copy, a_change_below_hides_the_ancestors_only_when_deep) {
    sl_doc *d = load("{\"a\":{\"b\":\"old\",\"c\":[3]},\"d\":[4]}");
    sl_node *root = (sl_node *)sl_doc_root(d);
    sl_node *a = (sl_node *)sl_node_get(root, "a");
    cr_assert_eq(sl_node_set_string(d, (sl_node *)sl_node_get(a, "b"), "n", 1),
                 SL_OK);
    cr_assert_not(source(d, root, true, ""));
    cr_assert_not(source(d, a, true, ""));
    /* without deep the caller vouches: the node itself is unchanged */
    cr_assert(source(d, a, false, "{\"b\":\"old\",\"c\":[3]}"));
    cr_assert(source(d, sl_node_get(root, "d"), true, "[4]"));
    cr_assert_str_eq(write_both(d, root),
                     "{\"a\":{\"b\":\"n\",\"c\":[3]},\"d\":[4]}");
    sl_doc_free(d);
}

Test(source_copy, removed_members_are_never_copied_with_their_neighbours) {
    sl_doc *d = load("{\"a\":1,\"gone\":2,\"b\":3,\"c\":[5,6,7]}");
    sl_node *root = (sl_node *)sl_doc_root(d);
    cr_assert_eq(sl_node_remove(root, 1), SL_OK);
    sl_node *c = (sl_node *)sl_node_get(root, "c");
    cr_assert_eq(sl_node_remove(c, 1), SL_OK);
    cr_assert_not(source(d, root, false, ""));
    cr_assert_str_eq(write_both(d, root), "{\"a\":1,\"b\":3,\"c\":[5,7]}");
    sl_doc_free(d);
}

Test(source_copy, appended_renamed_and_copied_parts_are_written_anew) {
    sl_doc *d = load("{\"k\":\"v\",\"l\":[{\"x\":1}],\"m\":{}}");
    sl_node *root = (sl_node *)sl_doc_root(d);
    sl_node *v = NULL;
    cr_assert_eq(sl_node_obj_append(d, root, "n\"q", 3, &v), SL_OK);
    cr_assert_eq(sl_node_set_string(d, v, "tab\there", 8), SL_OK);
    sl_node *l = (sl_node *)sl_node_get(root, "l");
    cr_assert_eq(sl_node_arr_append(d, l, &v), SL_OK);
    cr_assert_eq(sl_node_copy(d, v, sl_node_at(l, 0)), SL_OK);
    cr_assert_eq(sl_node_set_key(d, root, 0, "K", 1), SL_OK);
    sl_node *m = (sl_node *)sl_node_get(root, "m");
    cr_assert_eq(sl_node_set_container(d, m, SL_NODE_ARRAY), SL_OK);
    cr_assert_not(source(d, m, false, ""));
    cr_assert_str_eq(write_both(d, root),
                     "{\"K\":\"v\",\"l\":[{\"x\":1},{\"x\":1}],\"m\":[],"
                     "\"n\\\"q\":\"tab\\there\"}");
    sl_doc_free(d);
}

Test(source_copy, nodes_of_another_syntax_or_load_are_not_offered) {
    sl_doc *y = sl_doc_new();
    sl_error err = {0};
    const char *yaml = "{a: [1, 2]}";
    cr_assert_eq(
        sl_doc_load(y, yaml, strlen(yaml), SL_FORMAT_YAML, NULL, NULL, &err),
        SL_OK, "%s", err.msg);
    cr_assert_not(source(y, sl_doc_root(y), true, ""));
    cr_assert_str_eq(write_both(y, sl_doc_root(y)), "{\"a\":[1,2]}");
    sl_doc *d = load("[1]");
    cr_assert_not(source(d, sl_doc_root(y), true, ""));
    cr_assert_not(sl_doc_node_source(NULL, sl_doc_root(d), true, &(sl_str){0}));
    sl_doc_free(d);
    sl_doc_free(y);
}

/* ---- property: random documents, random changes ---- */

static unsigned rnd(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static void gen(sl_buf *b, unsigned *s, int depth) {
    unsigned k = rnd(s) % (depth > 4 ? 4 : 6);
    static const char *const scalars[] = {"1",       "-2.5e3", "\"s\"",
                                          "\"\\n\"", "true",   "null"};
    if (k < 4) {
        const char *v = scalars[rnd(s) % 6];
        sl_buf_append(b, v, strlen(v));
        return;
    }
    bool obj = k == 4;
    unsigned n = rnd(s) % 4;
    sl_buf_append(b, obj ? "{" : "[", 1);
    for (unsigned i = 0; i < n; i++) {
        if (i) {
            sl_buf_append(b, ",", 1);
        }
        if (rnd(s) % 8 == 0) {
            sl_buf_append(b, " ", 1); /* now and then not compact */
        }
        if (obj) {
            char key[16];
            int kl = snprintf(key, sizeof(key), "\"k%u\":", i);
            sl_buf_append(b, key, (size_t)kl);
        }
        gen(b, s, depth + 1);
    }
    sl_buf_append(b, obj ? "}" : "]", 1);
}

/* Change a random node somewhere under n (maybe none). */
static void mutate(sl_doc *d, sl_node *n, unsigned *s) {
    sl_node_kind k = sl_node_kind_of(n);
    size_t len = sl_node_len(n);
    unsigned what = rnd(s) % 8;
    if (k != SL_NODE_ARRAY && k != SL_NODE_OBJECT) {
        if (what < 3) {
            cr_assert_eq(sl_node_set_string(d, n, "new", 3), SL_OK);
        }
        return;
    }
    if (what == 0 && len > 0) {
        sl_node_remove(n, rnd(s) % len);
    } else if (what == 1) {
        sl_node *v = NULL;
        if (k == SL_NODE_OBJECT) {
            cr_assert_eq(sl_node_obj_append(d, n, "added", 5, &v), SL_OK);
        } else {
            cr_assert_eq(sl_node_arr_append(d, n, &v), SL_OK);
        }
    } else if (len > 0) {
        mutate(d, (sl_node *)sl_node_at(n, rnd(s) % len), s);
    }
}

Test(source_copy, random_documents_and_changes_write_as_the_plain_writer) {
    unsigned seed = 12345;
    for (int round = 0; round < 3000; round++) {
        sl_buf text = {0};
        gen(&text, &seed, 0);
        sl_doc *d = load(text.ptr);
        sl_node *root = (sl_node *)sl_doc_root(d);
        unsigned changes = rnd(&seed) % 4;
        for (unsigned c = 0; c < changes; c++) {
            mutate(d, root, &seed);
        }
        write_both(d, root);
        sl_doc_free(d);
        sl_buf_free(&text);
    }
}

/* tests/doc/test_tree.c: the tree's access and mutation API (tree.c):
 * appends, removals, renames, scalar changes, copies between documents,
 * and how the writer sees each change. */
#include <criterion/criterion.h>

#include <stdlib.h>

#include "base/base.h"
#include "doc/private.h"

static sl_doc *load(const char *text) {
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_assert_eq(sl_doc_load(doc, text, strlen(text), SL_FORMAT_JSON, "t.json",
                             NULL, &err),
                 SL_OK, "%s", err.msg);
    return doc;
}

static void expect_json(const sl_node *n, const char *want) {
    sl_buf out = {0};
    sl_error err = {0};
    cr_assert_eq(sl_json_write(&out, n, SL_WRITE_COMPACT, &err), SL_OK, "%s",
                 err.msg);
    cr_expect_str_eq(out.ptr, want);
    sl_buf_free(&out);
}

Test(tree, obj_append_remove_and_set_key) {
    sl_doc *doc = load("{\"a\":1,\"b\":\"x\\/y\"}");
    sl_node *r = (sl_node *)sl_doc_root(doc);
    sl_node *v = NULL;
    cr_assert_eq(sl_node_obj_append(doc, r, "c\"", 2, &v), SL_OK);
    cr_assert_eq(sl_node_set_scalar(doc, v, SL_NODE_INT, "42", 2), SL_OK);
    expect_json(r, "{\"a\":1,\"b\":\"x\\/y\",\"c\\\"\":42}");
    cr_assert_eq(sl_node_remove(r, 0), SL_OK);
    expect_json(r, "{\"b\":\"x\\/y\",\"c\\\"\":42}");
    cr_assert_eq(sl_node_set_key(doc, r, 0, "B\n", 2), SL_OK);
    expect_json(r, "{\"B\\n\":\"x\\/y\",\"c\\\"\":42}");
    cr_expect_eq(sl_node_remove(r, 5), SL_EINVAL);
    cr_expect_eq(sl_node_find(r, "c\"", 2), 1);
    sl_doc_free(doc);
}

Test(tree, arr_append_grows_a_loaded_array) {
    sl_doc *doc = load("[1,2]");
    sl_node *r = (sl_node *)sl_doc_root(doc);
    for (int i = 0; i < 20; i++) {
        sl_node *v = NULL;
        cr_assert_eq(sl_node_arr_append(doc, r, &v), SL_OK);
        if (i == 0) {
            cr_assert_eq(sl_node_set_string(doc, v, "s", 1), SL_OK);
        }
    }
    cr_expect_eq(sl_node_len(r), 22);
    cr_expect_str_eq(sl_node_str(sl_node_at(r, 2)).ptr, "s");
    cr_expect_eq(sl_node_kind_of(sl_node_at(r, 21)), SL_NODE_NULL);
    sl_doc_free(doc);
}

Test(tree, set_scalar_and_container_change_kinds) {
    sl_doc *doc = load("[\"a\",1,{\"x\":[1]}]");
    sl_node *r = (sl_node *)sl_doc_root(doc);
    cr_assert_eq(sl_node_set_scalar(doc, (sl_node *)sl_node_at(r, 0),
                                    SL_NODE_BOOL, "true", 4),
                 SL_OK);
    cr_assert_eq(sl_node_set_scalar(doc, (sl_node *)sl_node_at(r, 1),
                                    SL_NODE_NULL, NULL, 0),
                 SL_OK);
    cr_assert_eq(
        sl_node_set_container(doc, (sl_node *)sl_node_at(r, 2), SL_NODE_ARRAY),
        SL_OK);
    expect_json(r, "[true,null,[]]");
    cr_expect_eq(sl_node_set_container(doc, r, SL_NODE_STRING), SL_EINVAL);
    sl_doc_free(doc);
}

Test(tree, copy_between_docs_survives_the_source) {
    sl_doc *src = load("{\"k\":[\"a\\u00e9\",1.50,{\"n\":null}],\"s\":\"p\"}");
    sl_doc *dst = load("{\"into\":0}");
    sl_node *slot = (sl_node *)sl_node_get(sl_doc_root(dst), "into");
    cr_assert_eq(sl_node_copy(dst, slot, sl_node_get(sl_doc_root(src), "k")),
                 SL_OK);
    sl_doc_free(src);
    expect_json(sl_doc_root(dst),
                "{\"into\":[\"a\\u00e9\",1.50,{\"n\":null}]}");
    sl_str s = sl_node_str(sl_node_at(slot, 0));
    cr_expect_eq(s.len, 3);
    cr_expect_eq(memcmp(s.ptr, "a\xC3\xA9", 3), 0);
    /* a copied node has no position in its new doc */
    cr_expect_eq(sl_node_pos(dst, slot).line, 0);
    sl_doc_free(dst);
}

Test(tree, accessors_on_null_and_wrong_kinds) {
    cr_expect_eq(sl_node_kind_of(NULL), SL_NODE_NULL);
    cr_expect_eq(sl_node_len(NULL), 0);
    cr_expect_null(sl_node_at(NULL, 0));
    cr_expect_eq(sl_node_str(NULL).len, 0);
    sl_doc *doc = load("{\"a\":\"1\",\"i\":9223372036854775808,\"d\":2.5}");
    const sl_node *r = sl_doc_root(doc);
    int64_t v = 0;
    cr_expect_eq(sl_node_int(sl_node_get(r, "a"), &v), SL_ESCHEMA);
    cr_expect_eq(sl_node_int(sl_node_get(r, "i"), &v), SL_ELIMIT);
    double d = 0;
    cr_expect_eq(sl_node_double(sl_node_get(r, "d"), &d), SL_OK);
    cr_expect_eq(d, 2.5);
    cr_expect_null(sl_node_get(r, "zz"));
    cr_expect_str_eq(sl_node_kind_name(SL_NODE_OBJECT), "object");
    sl_doc_free(doc);
}

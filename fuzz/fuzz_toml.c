/* fuzz/fuzz_toml.c: the TOML reader and the tagged writer. Any input:
 * parse; a failure must carry its code and a position. When it parses,
 * the tagged JSON is written, read back with the JSON reader and compared
 * with the tree node by node ({"type", "value"} leaves carry exactly the
 * kind name and text); the plain JSON writer may refuse only inf/nan
 * (SL_EINVAL), and what it writes must parse; every integer lexeme must
 * convert with sl_node_int; every node's offset lies in the input. Any
 * broken invariant traps. */
#include <stdint.h>
#include <string.h>

#include <sluice/doc.h>

#include "doc/private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool str_eq(sl_str a, const char *b, size_t blen) {
    return a.len == blen && (blen == 0 || memcmp(a.ptr, b, blen) == 0);
}

/* t: node of the TOML tree; j: the same place in the tagged JSON tree. */
static bool same(const sl_node *t, const sl_node *j, size_t size) {
    sl_node_kind k = sl_node_kind_of(t);
    if (t->off >= size && !(t->off == 0 && size == 0)) {
        return false;
    }
    if (k == SL_NODE_ARRAY || k == SL_NODE_OBJECT) {
        if (sl_node_kind_of(j) != k || sl_node_len(j) != sl_node_len(t)) {
            return false;
        }
        for (size_t i = 0; i < sl_node_len(t); i++) {
            if (k == SL_NODE_OBJECT) {
                sl_str a = sl_node_key(t, i), b = sl_node_key(j, i);
                if (!str_eq(a, b.ptr, b.len)) {
                    return false;
                }
            }
            if (!same(sl_node_at(t, i), sl_node_at(j, i), size)) {
                return false;
            }
        }
        return true;
    }
    const sl_node *type = sl_node_get(j, "type");
    const sl_node *value = sl_node_get(j, "value");
    if (sl_node_len(j) != 2 || !type || !value) {
        return false;
    }
    const char *name = sl_node_kind_name(k);
    if (k == SL_NODE_BOOL) {
        name = "bool";
    }
    sl_str v = sl_node_str(t);
    if (!str_eq(sl_node_str(type), name, strlen(name)) ||
        !str_eq(sl_node_str(value), v.ptr, v.len)) {
        return false;
    }
    if (k == SL_NODE_INT) {
        int64_t i = 0;
        if (sl_node_int(t, &i) != SL_OK) {
            return false;
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) {
        return 0;
    }
    sl_doc *doc = sl_doc_new();
    sl_doc *back = sl_doc_new();
    sl_buf tagged = {0}, plain = {0};
    sl_error err = {0};
    if (!doc || !back) {
        goto done;
    }
    sl_status rc = sl_doc_load(doc, (const char *)data, size, SL_FORMAT_TOML,
                               "f.toml", NULL, &err);
    if (rc != SL_OK) {
        if (err.code != rc || sl_doc_root(doc) != NULL ||
            (rc != SL_ENOMEM && err.line == 0) || err.msg[0] == '\0') {
            __builtin_trap();
        }
        goto done;
    }
    const sl_node *root = sl_doc_root(doc);
    if (sl_node_kind_of(root) != SL_NODE_OBJECT) {
        __builtin_trap();
    }
    if (sl_doc_write_tagged(&tagged, root, &err) != SL_OK ||
        sl_doc_load(back, tagged.ptr, tagged.len, SL_FORMAT_JSON, NULL, NULL,
                    &err) != SL_OK ||
        !same(root, sl_doc_root(back), size)) {
        __builtin_trap();
    }
    rc = sl_json_write(&plain, root, SL_WRITE_COMPACT, &err);
    if (rc == SL_OK) {
        if (sl_doc_load(back, plain.ptr, plain.len, SL_FORMAT_JSON, NULL, NULL,
                        &err) != SL_OK) {
            __builtin_trap();
        }
    } else if (rc != SL_EINVAL) {
        __builtin_trap();
    }
done:
    sl_buf_free(&tagged);
    sl_buf_free(&plain);
    sl_doc_free(doc);
    sl_doc_free(back);
    return 0;
}

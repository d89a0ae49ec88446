/* fuzz/fuzz_json.c: the JSON reader and writer. Any input: parse; when it
 * parses, write compact, parse that, write again: both writes must be the
 * same bytes (the reader and writer are lossless), or the run traps. The
 * source-copying writer (sl_doc_write_json) must give the same bytes too,
 * before and after a change picked from the input. Also walks the input as
 * a stream of values (sl_doc_load_next). */
#include <stdint.h>
#include <string.h>

#include <sluice/doc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) {
        return 0;
    }
    const char *text = (const char *)data;
    sl_doc *doc = sl_doc_new();
    sl_doc *again = sl_doc_new();
    sl_buf w1 = {0}, w2 = {0};
    sl_error err = {0};
    if (!doc || !again) {
        goto done;
    }
    if (sl_doc_load(doc, text, size, SL_FORMAT_JSON, "f.json", NULL, &err) ==
        SL_OK) {
        if (sl_json_write(&w1, sl_doc_root(doc), SL_WRITE_COMPACT, &err) !=
            SL_OK) {
            __builtin_trap();
        }
        if (sl_doc_load(again, w1.ptr, w1.len, SL_FORMAT_JSON, NULL, NULL,
                        &err) != SL_OK) {
            __builtin_trap();
        }
        if (sl_json_write(&w2, sl_doc_root(again), SL_WRITE_COMPACT, &err) !=
                SL_OK ||
            w1.len != w2.len || memcmp(w1.ptr, w2.ptr, w1.len) != 0) {
            __builtin_trap();
        }
        w2.len = 0;
        if (sl_doc_write_json(doc, sl_doc_root(doc), &w2, &err) != SL_OK ||
            w1.len != w2.len || memcmp(w1.ptr, w2.ptr, w1.len) != 0) {
            __builtin_trap();
        }
        /* change one node deep down (chosen by the input's first bytes),
         * then both writers must still agree */
        sl_node *n = (sl_node *)sl_doc_root(doc);
        for (size_t k = 0; k < size && k < 8 && sl_node_len(n) > 0; k++) {
            sl_node *child = (sl_node *)sl_node_at(n, data[k] % sl_node_len(n));
            if (sl_node_kind_of(child) != SL_NODE_ARRAY &&
                sl_node_kind_of(child) != SL_NODE_OBJECT) {
                break;
            }
            n = child;
        }
        if (sl_node_len(n) > 0 && (data[0] & 1)) {
            sl_node_remove(n, data[0] % sl_node_len(n));
        } else if (sl_node_kind_of(n) == SL_NODE_ARRAY) {
            sl_node_arr_append(doc, n, NULL);
        } else if (sl_node_kind_of(n) == SL_NODE_OBJECT) {
            sl_node_obj_append(doc, n, "k", 1, NULL);
        } else {
            sl_node_set_string(doc, n, "s\"", 2);
        }
        w1.len = 0;
        w2.len = 0;
        if (sl_json_write(&w1, sl_doc_root(doc), SL_WRITE_COMPACT, &err) !=
                SL_OK ||
            sl_doc_write_json(doc, sl_doc_root(doc), &w2, &err) != SL_OK ||
            w1.len != w2.len || memcmp(w1.ptr, w2.ptr, w1.len) != 0) {
            __builtin_trap();
        }
        w2.len = 0;
        if (sl_json_write(&w2, sl_doc_root(doc), SL_WRITE_PRETTY, &err) !=
            SL_OK) {
            __builtin_trap();
        }
    }
    /* stream mode must always make progress */
    size_t off = 0;
    for (;;) {
        size_t before = off;
        sl_status rc =
            sl_doc_load_next(doc, text, size, &off, "s.jsonl", NULL, &err);
        if (rc == SL_ENOTFOUND) {
            break;
        }
        if (off <= before || off > size) {
            __builtin_trap();
        }
    }
done:
    sl_buf_free(&w1);
    sl_buf_free(&w2);
    sl_doc_free(doc);
    sl_doc_free(again);
    return 0;
}

/* fuzz/fuzz_json.c: the JSON reader and writer. Any input: parse; when it
 * parses, write compact, parse that, write again: both writes must be the
 * same bytes (the reader and writer are lossless), or the run traps. Also
 * walks the input as a stream of values (sl_doc_load_next). */
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

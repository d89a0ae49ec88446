/* fuzz/fuzz_yaml.c: the YAML reader (libfyaml events into the doc tree)
 * and the JSON writer over what it builds. Any input: parse; when it
 * parses, write compact and pretty JSON. Nothing may crash, leak or hang;
 * a write may only fail with SL_EINVAL (inf/nan, a key JSON cannot hold)
 * and what it wrote must parse as JSON. */
#include <stdint.h>
#include <string.h>

#include <sluice/doc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) {
        return 0;
    }
    sl_doc *doc = sl_doc_new();
    sl_doc *json = sl_doc_new();
    sl_buf out = {0};
    sl_error err = {0};
    if (!doc || !json) {
        goto done;
    }
    if (sl_doc_load(doc, (const char *)data, size, SL_FORMAT_YAML, "f.yaml",
                    NULL, &err) != SL_OK) {
        goto done;
    }
    sl_status rc =
        sl_json_write(&out, sl_doc_root(doc), SL_WRITE_COMPACT, &err);
    if (rc == SL_OK) {
        if (sl_doc_load(json, out.ptr, out.len, SL_FORMAT_JSON, NULL, NULL,
                        &err) != SL_OK) {
            __builtin_trap();
        }
    } else if (rc != SL_EINVAL) {
        __builtin_trap();
    }
    out.len = 0;
    rc = sl_json_write(&out, sl_doc_root(doc), SL_WRITE_PRETTY, &err);
    if (rc != SL_OK && rc != SL_EINVAL) {
        __builtin_trap();
    }
done:
    sl_buf_free(&out);
    sl_doc_free(doc);
    sl_doc_free(json);
    return 0;
}

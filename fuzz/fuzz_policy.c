/* fuzz/fuzz_policy.c: the policy loader and compiler on arbitrary bytes.
 * The input is parsed as JSON (or as YAML when it starts with '#' or
 * "---"), then loaded; invariants: the load either fails with a message or
 * gives a set whose policies are sorted by id and whose problems all carry
 * a message; a context can be made and everything is freed. */
#include <sluice/sluice.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) {
        return 0;
    }
    const char *text = (const char *)data;
    sl_format fmt = SL_FORMAT_JSON;
    if ((size >= 1 && text[0] == '#') ||
        (size >= 3 && memcmp(text, "---", 3) == 0)) {
        fmt = SL_FORMAT_YAML;
    }
    sl_doc *doc = sl_doc_new();
    if (!doc) {
        return 0;
    }
    sl_error err = {0};
    if (sl_doc_load(doc, text, size, fmt, "fuzz", NULL, &err) != SL_OK) {
        sl_doc_free(doc);
        return 0;
    }
    sl_policy_set *set = NULL;
    sl_status rc =
        sl_policy_load((const sl_doc *const *)&doc, 1, NULL, &set, &err);
    if (rc != SL_OK) {
        if (err.msg[0] == '\0') {
            abort();
        }
        sl_doc_free(doc);
        return 0;
    }
    for (size_t i = 0; i < sl_policy_problem_count(set); i++) {
        if (sl_policy_problem(set, i)->msg[0] == '\0') {
            abort();
        }
    }
    for (size_t i = 1; i < sl_policy_count(set); i++) {
        if (strcmp(sl_policy_id(set, i - 1), sl_policy_id(set, i)) >= 0) {
            abort(); /* sorted, no duplicates */
        }
    }
    sl_policy_ctx *ctx = NULL;
    if (sl_policy_ctx_new(set, &ctx, &err) == SL_OK) {
        sl_policy_ctx_free(ctx);
    }
    sl_policy_set_free(set);
    sl_doc_free(doc);
    return 0;
}

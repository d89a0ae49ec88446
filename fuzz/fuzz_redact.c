/* fuzz/fuzz_redact.c: the redactor and its policy loader.
 * Input starting with "#policy\n": the rest is a policy document (JSON);
 * when it loads, it redacts a fixed payload. Any other input is a payload
 * (JSON): redacted with the default SAFE policy (every value detector
 * on), and with a policy using hash, drop, paths and HMAC. Invariants (trap on
 * failure): the output parses as JSON; redacting it again with the
 * mask-only default policy changes nothing (masking is idempotent); the
 * input tree is unchanged; sl_redact_write_doc (which copies compact
 * source text) gives the same output and audit, on the input as read and
 * compacted. The two payload-mode policies are compiled
 * once (Vectorscan compiles take ~0.1 s; redactors are immutable, so
 * sharing them between runs carries no state); everything else is freed. */
#include <stdint.h>
#include <string.h>

#include <sluice/sluice.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char custom_policy[] =
    "{\"extends\":\"default\",\"detect\":[\"all\"],\"rules\":["
    "{\"action\":\"hash\",\"key\":\"glob:h*\"},"
    "{\"action\":\"drop\",\"path\":\"**.debug\"},"
    "{\"action\":\"mask\",\"key\":\"regex:^x[0-9]+$\",\"path\":\"a.*.b\"},"
    "{\"action\":\"hash\",\"key\":\"word:user_id\"}]}";

static const char fixed_payload[] =
    "{\"api_key\":\"k\",\"h1\":{\"b\":[1,2.5e3,null]},\"a\":{\"q\":{\"b\":1}},"
    "\"debug\":true,\"user\":{\"userId\":7,\"msg\":\"Bearer abcdefgh12345\"}}";

static sl_redactor *load(const char *text, size_t len) {
    sl_doc *doc = sl_doc_new();
    sl_redactor *r = NULL;
    if (doc && sl_doc_load(doc, text, len, SL_FORMAT_JSON, "p.json", NULL,
                           NULL) == SL_OK) {
        sl_redactor_load_doc(doc, NULL, &r, NULL);
    }
    sl_doc_free(doc);
    return r;
}

/* Redact root with r into out; on success check the output parses and is
 * a fixed point of the default policy. */
static void check(const sl_redactor *r, const sl_redactor *def,
                  const sl_doc *src, const sl_node *root) {
    sl_redact_ctx *ctx = NULL, *dctx = NULL;
    sl_buf out = {0}, again = {0}, audit = {0}, before = {0}, after = {0};
    sl_doc *doc = sl_doc_new();
    if (!doc || sl_redact_ctx_new(r, &ctx, NULL) != SL_OK ||
        sl_redact_ctx_new(def, &dctx, NULL) != SL_OK) {
        goto done;
    }
    sl_json_write(&before, root, SL_WRITE_COMPACT, NULL);
    if (sl_redact_write(ctx, root, &out, &audit, NULL, NULL) != SL_OK) {
        if (out.len != 0) {
            __builtin_trap(); /* failure must write nothing */
        }
        goto done;
    }
    sl_json_write(&after, root, SL_WRITE_COMPACT, NULL);
    if (before.len != after.len ||
        (before.len && memcmp(before.ptr, after.ptr, before.len) != 0)) {
        __builtin_trap(); /* the input must not change */
    }
    /* the source-copy path: the same bytes and audit */
    sl_buf out2 = {0}, audit2 = {0};
    sl_status rc2 =
        sl_redact_write_doc(ctx, src, root, &out2, &audit2, NULL, NULL);
    bool same = rc2 == SL_OK && out2.len == out.len &&
                audit2.len == audit.len &&
                (!out.len || memcmp(out.ptr, out2.ptr, out.len) == 0) &&
                (!audit.len || memcmp(audit.ptr, audit2.ptr, audit.len) == 0);
    sl_buf_free(&out2);
    sl_buf_free(&audit2);
    if (!same) {
        __builtin_trap();
    }
    if (sl_doc_load(doc, out.ptr, out.len, SL_FORMAT_JSON, NULL, NULL, NULL) !=
        SL_OK) {
        __builtin_trap();
    }
    sl_doc *adoc = sl_doc_new();
    if (adoc && sl_doc_load(adoc, audit.ptr, audit.len, SL_FORMAT_JSON, NULL,
                            NULL, NULL) != SL_OK) {
        __builtin_trap();
    }
    sl_doc_free(adoc);
    if (r == def) {
        if (sl_redact_write(dctx, sl_doc_root(doc), &again, NULL, NULL, NULL) !=
                SL_OK ||
            again.len != out.len || memcmp(again.ptr, out.ptr, out.len)) {
            __builtin_trap();
        }
    }
done:
    sl_buf_free(&out);
    sl_buf_free(&again);
    sl_buf_free(&audit);
    sl_buf_free(&before);
    sl_buf_free(&after);
    sl_redact_ctx_free(ctx);
    sl_redact_ctx_free(dctx);
    sl_doc_free(doc);
}

static sl_redactor *def_policy;
static sl_redactor *custom;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) {
        return 0;
    }
    const char *text = (const char *)data;
    if (!def_policy && sl_redactor_default(&def_policy, NULL) != SL_OK) {
        return 0;
    }
    if (!custom) {
        custom = load(custom_policy, sizeof(custom_policy) - 1);
        if (!custom) {
            __builtin_trap(); /* the fixed policy must load */
        }
    }
    static const char tag[] = "#policy\n";
    if (size >= sizeof(tag) - 1 && memcmp(text, tag, sizeof(tag) - 1) == 0) {
        sl_redactor *r = load(text + sizeof(tag) - 1, size - (sizeof(tag) - 1));
        if (r) {
            sl_doc *doc = sl_doc_new();
            if (doc &&
                sl_doc_load(doc, fixed_payload, sizeof(fixed_payload) - 1,
                            SL_FORMAT_JSON, NULL, NULL, NULL) == SL_OK) {
                check(r, def_policy, doc, sl_doc_root(doc));
            }
            sl_doc_free(doc);
            sl_redactor_free(r);
        }
        return 0;
    }
    sl_doc *doc = sl_doc_new();
    if (doc && sl_doc_load(doc, text, size, SL_FORMAT_JSON, "f.json", NULL,
                           NULL) == SL_OK) {
        check(def_policy, def_policy, doc, sl_doc_root(doc));
        check(custom, def_policy, doc, sl_doc_root(doc));
        /* compacted, so the source-copy path applies */
        sl_buf compact = {0};
        sl_doc *cdoc = sl_doc_new();
        if (cdoc &&
            sl_json_write(&compact, sl_doc_root(doc), SL_WRITE_COMPACT, NULL) ==
                SL_OK &&
            sl_doc_load(cdoc, compact.ptr, compact.len, SL_FORMAT_JSON, NULL,
                        NULL, NULL) == SL_OK) {
            check(def_policy, def_policy, cdoc, sl_doc_root(cdoc));
            check(custom, def_policy, cdoc, sl_doc_root(cdoc));
        }
        sl_doc_free(cdoc);
        sl_buf_free(&compact);
    }
    sl_doc_free(doc);
    return 0;
}

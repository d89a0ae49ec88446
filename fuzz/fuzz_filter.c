/* fuzz/fuzz_filter.c: the trace-filter loader on arbitrary TOML bytes,
 * chained after a small base source so `inherit` can resolve (not after
 * builtin-default: compiling its secret regexes for every input would
 * leave the fuzzer a few runs a second). Invariants: a
 * rejected source carries its code and message and leaves the chain as it
 * was; an accepted one seals, resolves a few scopes, decides a few values
 * (each action in range), and its `filter show` and metadata JSON parse
 * with the JSON reader. Any broken invariant traps. */
#include <stdint.h>
#include <string.h>

#include <sluice/doc.h>
#include <sluice/filter.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void json_parses(const sl_buf *b) {
    sl_doc *d = sl_doc_new();
    if (!d) {
        return;
    }
    sl_error err = {0};
    if (sl_doc_load(d, b->ptr, b->len, SL_FORMAT_JSON, "out", NULL, &err) !=
        SL_OK) {
        __builtin_trap();
    }
    sl_doc_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) {
        return 0;
    }
    sl_filter *f = sl_filter_new();
    if (!f) {
        return 0;
    }
    sl_error err = {0};
    static const char base[] = "[meta]\nname = \"base\"\nversion = 1\n"
                               "[scope]\ndefault_exec = \"trace\"\n"
                               "default_value_action = \"allow\"\n";
    if (sl_filter_add_text(f, "base", base, sizeof(base) - 1, &err) != SL_OK) {
        __builtin_trap();
    }
    sl_status rc =
        sl_filter_add_text(f, "fuzz", (const char *)data, size, &err);
    if (rc != SL_OK) {
        if (err.code != rc || err.msg[0] == '\0' ||
            sl_filter_source_count(f) != 1) {
            __builtin_trap();
        }
    } else if (sl_filter_source_count(f) != 2) {
        __builtin_trap();
    }
    rc = sl_filter_ready(f, &err);
    if (rc != SL_OK) {
        /* every pattern was checked while loading: sealing may fail only
         * for lack of memory or a limit */
        if (rc != SL_ENOMEM && rc != SL_ELIMIT) {
            __builtin_trap();
        }
        sl_filter_free(f);
        return 0;
    }
    sl_filter_ctx *ctx = NULL;
    if (sl_filter_ctx_new(f, &ctx, &err) == SL_OK) {
        static const char *const files[] = {
            "/p/app/foo.py", "/usr/lib/python3.12/os.py", "rel/x.py", "/"};
        static const char *const names[] = {"password", "user", "", "a/b"};
        for (size_t i = 0; i < 4; i++) {
            const sl_filter_scope *s = NULL;
            if (sl_filter_classify(ctx, files[i], "f", i ? NULL : "app.foo", &s,
                                   &err) != SL_OK) {
                continue;
            }
            for (int k = 0; k < SL_FILTER_KIND_COUNT; k++) {
                sl_filter_action a = sl_filter_decide(
                    ctx, s, (sl_filter_kind)k, names[i], strlen(names[i]));
                if ((unsigned)a > SL_FILTER_DROP) {
                    __builtin_trap();
                }
            }
        }
        sl_filter_ctx_free(ctx);
    }
    sl_buf b = {0};
    if (sl_filter_write_chain(f, &b, &err) == SL_OK) {
        json_parses(&b);
    }
    b.len = 0;
    if (sl_filter_write_metadata(f, &b, &err) == SL_OK) {
        json_parses(&b);
    }
    sl_buf_free(&b);
    sl_filter_free(f);
    return 0;
}

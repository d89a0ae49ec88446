/* fuzz/otlp_lazy.h: the differential check of lazy OTLP/JSON loads
 * (src/otlp/scan.c) against full loads, shared by fuzz_otlp_json and
 * tests/otlp/test_lazy.c. The same text is loaded by a batch with lazy
 * loading on (building only the kinds given) and by one without; they
 * must agree on accept / reject (status, stream offset, error code,
 * position and message), then on every read of the kinds built, on the
 * output after dropping every third record, on every read of every kind
 * (which makes the lazy batch load in full) and on the output again. */
#ifndef SL_FUZZ_OTLP_LAZY_H
#define SL_FUZZ_OTLP_LAZY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sluice/otlp.h>

#include "otlp/private.h"
#include "otlp_kinds.h"

static const sl_str lazy_seg_a[] = {{"a", 1}};
static const sl_str lazy_seg_k[] = {{"k", 1}};
static const sl_str lazy_seg_service[] = {{"service.name", 12}};
static const sl_str lazy_seg_nested[] = {{"nested", 6}, {"inner", 5}};

static const otlp_path lazy_paths[] = {
    {NULL, 0},
    {lazy_seg_a, 1},
    {lazy_seg_k, 1},
    {lazy_seg_service, 1},
    {lazy_seg_nested, 2},
};

/* Every read of the records' kinds in mask (all when mask is 0). */
static bool lazy_reads(const sl_otlp *o, uint64_t mask, sl_buf *out) {
    return otlp_reads(o, mask, lazy_paths,
                      sizeof(lazy_paths) / sizeof(lazy_paths[0]), out);
}

/* Where the last comparison found a difference (full, then lazy). */
static char lazy_note[400];

static bool lazy_same_buf(const sl_buf *a, const sl_buf *b) {
    if (a->len == b->len &&
        (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0)) {
        return true;
    }
    size_t at = 0;
    while (at < a->len && at < b->len && a->ptr[at] == b->ptr[at]) {
        at++;
    }
    while (at > 0 && a->ptr[at - 1] != '\n') {
        at--;
    }
    snprintf(lazy_note, sizeof(lazy_note), "full: %.150s | lazy: %.150s",
             a->len > at ? a->ptr + at : "", b->len > at ? b->ptr + at : "");
    return false;
}

static bool lazy_same_err(const sl_error *a, const sl_error *b) {
    return a->code == b->code && a->line == b->line && a->col == b->col &&
           strcmp(a->msg, b->msg) == 0 && strcmp(a->file, b->file) == 0;
}

/* One loaded request in both batches: the same everything. */
static const char *lazy_compare_loaded(sl_otlp *full, sl_otlp *lazy,
                                       uint64_t kinds_built) {
    const char *why = NULL;
    sl_buf a = {0}, b = {0};
    sl_error err;
    if (sl_otlp_count(full) != sl_otlp_count(lazy) ||
        sl_otlp_signal(full) != sl_otlp_signal(lazy)) {
        why = "count or signal";
        goto done;
    }
    if (!lazy_reads(full, kinds_built ? kinds_built : ~0ull, &a) ||
        !lazy_reads(lazy, kinds_built ? kinds_built : ~0ull, &b)) {
        goto done; /* out of memory: nothing to say */
    }
    if (!lazy_same_buf(&a, &b)) {
        why = "reads of the kinds built";
        goto done;
    }
    for (size_t i = 1; i < sl_otlp_count(full); i += 3) {
        sl_otlp_drop(full, i);
        sl_otlp_drop(lazy, i);
    }
    a.len = b.len = 0;
    sl_status ra = sl_otlp_write(full, &a, &err);
    sl_status rb = sl_otlp_write(lazy, &b, &err);
    if (ra != rb || !lazy_same_buf(&a, &b)) {
        why = "output after drops";
        goto done;
    }
    a.len = b.len = 0;
    if (!lazy_reads(full, 0, &a) || !lazy_reads(lazy, 0, &b)) {
        goto done;
    }
    if (!lazy_same_buf(&a, &b)) {
        why = "reads of every kind";
        goto done;
    }
    a.len = b.len = 0;
    ra = sl_otlp_write(full, &a, &err);
    rb = sl_otlp_write(lazy, &b, &err);
    if (ra != rb || !lazy_same_buf(&a, &b)) {
        why = "output after a full load";
    }
done:
    sl_buf_free(&a);
    sl_buf_free(&b);
    return why;
}

/* Load text (whole, or as a stream of values) lazily building built and in
 * full: NULL when both agree on everything, else what differed. *fast
 * counts the values the fast pass indexed itself. */
static const char *lazy_differs(const char *text, size_t len, uint64_t built,
                                bool stream, size_t *fast) {
    sl_otlp *full = sl_otlp_new(), *lazy = sl_otlp_new();
    const char *why = NULL;
    if (!full || !lazy) {
        goto done;
    }
    sl_otlp_set_lazy(lazy, true, built);
    sl_otlp_set_lazy_signals(lazy, 7u); /* every signal */
    size_t off_a = 0, off_b = 0;
    for (int values = 0; values < 64; values++) {
        sl_error ea, eb;
        memset(&ea, 0, sizeof(ea));
        memset(&eb, 0, sizeof(eb));
        sl_status ra = sl_otlp_load(full, text, len, stream ? &off_a : NULL,
                                    "d.json", &ea);
        sl_status rb = sl_otlp_load(lazy, text, len, stream ? &off_b : NULL,
                                    "d.json", &eb);
        if (ra != rb || off_a != off_b) {
            why = "accept / reject or stream offset";
            goto done;
        }
        if (ra != SL_OK && !lazy_same_err(&ea, &eb)) {
            why = "error";
            goto done;
        }
        if (ra == SL_OK) {
            *fast += lazy->lazy;
            why = lazy_compare_loaded(full, lazy, built);
            if (why) {
                goto done;
            }
        }
        if (!stream || ra == SL_ENOTFOUND || ra == SL_ENOMEM) {
            break;
        }
    }
done:
    sl_otlp_free(full);
    sl_otlp_free(lazy);
    return why;
}

#endif

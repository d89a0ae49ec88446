/* fuzz/fuzz_glob.c: glob translation and the pattern set behind it. The
 * first byte picks flags (path / caseless) and a line break splits the
 * glob from a value to scan. Invariants: a failed translation appends
 * nothing and names a reason; a translated glob always compiles in
 * Vectorscan (only its size limits may refuse it); scanning never fails;
 * a pattern set of the same glob agrees with itself across two scans; the
 * selector parser never reads outside its input. Any broken invariant
 * traps. */
#include <stdint.h>
#include <string.h>

#include <sluice/match.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(uint32_t id, size_t from, size_t to, void *ctx) {
    if (id != 1 || from > to) {
        __builtin_trap();
    }
    (*(size_t *)ctx)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0 || size > (1u << 20)) {
        return 0;
    }
    unsigned flags = SL_PAT_ALLOWEMPTY;
    flags |= (data[0] & 1) ? SL_PAT_GLOB_PATH : 0;
    flags |= (data[0] & 2) ? SL_PAT_CASELESS : 0;
    const char *glob = (const char *)data + 1;
    size_t rest = size - 1;
    const char *nl = memchr(glob, '\n', rest);
    size_t glen = nl ? (size_t)(nl - glob) : rest;
    const char *val = nl ? nl + 1 : "";
    size_t vlen = nl ? rest - glen - 1 : 0;

    sl_pat sel = {0};
    if (sl_pat_parse(glob, glen, SL_PAT_GLOB, &sel, NULL) == SL_OK &&
        (sel.text < glob || sel.text + sel.len > glob + glen)) {
        __builtin_trap();
    }

    sl_buf re = {0};
    sl_error err = {0};
    sl_status rc = sl_glob_to_regex(glob, glen, flags, &re, &err);
    if (rc != SL_OK) {
        if (re.len != 0 || err.code != rc || err.msg[0] == '\0') {
            __builtin_trap();
        }
        sl_buf_free(&re);
        return 0;
    }
    sl_pat p = {.kind = SL_PAT_GLOB,
                .flags = flags,
                .text = glob,
                .len = glen,
                .id = 1};
    sl_patset *set = NULL;
    rc = sl_patset_compile(&p, 1, &set, &err);
    if (rc != SL_OK) {
        /* only Vectorscan's resource limits may refuse a translated glob */
        if (rc != SL_EPATTERN || (!strstr(err.msg, "too large") &&
                                  !strstr(err.msg, "Resource limit"))) {
            __builtin_trap();
        }
        sl_buf_free(&re);
        return 0;
    }
    sl_scratch *scr = NULL;
    if (sl_scratch_reserve(&scr, set) != SL_OK) {
        __builtin_trap();
    }
    size_t a = 0, b = 0;
    if (sl_patset_scan(set, val, vlen, scr, count, &a) != SL_OK ||
        sl_patset_scan(set, val, vlen, scr, count, &b) != SL_OK || a != b ||
        a > 1) {
        __builtin_trap();
    }
    sl_scratch_free(scr);
    sl_patset_free(set);
    sl_buf_free(&re);
    return 0;
}

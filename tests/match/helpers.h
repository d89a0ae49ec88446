/* tests/match/helpers.h: compile-and-scan helpers shared by the match
 * tests. */
#ifndef SL_TEST_MATCH_HELPERS_H
#define SL_TEST_MATCH_HELPERS_H

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include <sluice/match.h>

typedef struct hit {
    uint32_t id;
    size_t from, to;
} hit;

typedef struct hits {
    hit v[64];
    size_t n;
    size_t stop_after; /* 0 = never stop */
} hits;

static inline int collect(uint32_t id, size_t from, size_t to, void *ctx) {
    hits *h = ctx;
    if (h->n < 64) {
        h->v[h->n] = (hit){id, from, to};
    }
    h->n++;
    return h->stop_after && h->n >= h->stop_after;
}

static inline sl_pat mkpat(sl_pat_kind kind, unsigned flags, const char *text,
                           uint32_t id) {
    sl_pat p = {.kind = kind,
                .flags = flags,
                .text = text,
                .len = strlen(text),
                .id = id};
    return p;
}

/* Does one pattern match s? */
static inline bool matches1(sl_pat_kind kind, unsigned flags, const char *pat,
                            const char *s) {
    sl_pat p = mkpat(kind, flags, pat, 7);
    sl_patset *set = NULL;
    sl_error err = {0};
    sl_status rc = sl_patset_compile(&p, 1, &set, &err);
    cr_assert_eq(rc, SL_OK, "%s: %s", pat, err.msg);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    hits h = {0};
    cr_assert_eq(sl_patset_scan(set, s, strlen(s), scr, collect, &h), SL_OK);
    sl_scratch_free(scr);
    sl_patset_free(set);
    cr_assert_leq(h.n, 1, "single-match pattern reported %zu times", h.n);
    return h.n == 1;
}

#endif

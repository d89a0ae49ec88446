/* tests/match/test_prefilter.c: the pattern-set prefilter: which literal
 * a regex certainly contains (and every construct that must give none),
 * the gram test itself, and, against Vectorscan run on each pattern alone,
 * that a filtered set reports exactly what an unfiltered scan reports
 * (caseless, anchored, globs, short and long values, spans). */
#include "helpers.h"

#include <stdlib.h>

#include <hs/hs.h>

#include "base/base.h"
#include "match/private.h"

typedef struct req_case {
    const char *re;
    const char *lit; /* NULL: no literal */
    bool anchored;
} req_case;

static const req_case req_cases[] = {
    {"^r12[0-9]+x$", "r12", true},
    {"\\x2dv8\\x2d", "-v8-", false}, /* a lowered contains */
    {"^\\x2fapi\\x2f\\z", "/api/", true},
    {"abc", "abc", false},
    {"error: (\\d+) times", "error: ", false},
    {"^ab?c", "a", true},         /* b optional: the run stops before it */
    {"^abc*d", "ab", true},       /* c optional */
    {"^abc+d", "abc", true},      /* c required, the run stops after it */
    {"^abc{0,2}d", "ab", true},   /* {0,n} allows zero */
    {"^abc{2}d", "abc", true},    /* {2}: c is there */
    {"^abc{,2}d", "ab", true},    /* read as allowing zero */
    {"^ab{x", "a", true},         /* a '{' that is no quantifier */
    {"x[abc]yzw", "yzw", false},  /* the class ends the run */
    {"[|]abcd", "abcd", false},   /* '|' in a class is no alternation */
    {"(a|b)cdef", "cdef", false}, /* '|' in a group neither */
    {"(?:a|b)cdef", "cdef", false},
    {"foo(bar)?baz", "foo", false}, /* equal length: the first */
    {"\\d+\\.log$", ".log", false},
    {"\\pLabcd", "abcd", false}, /* \pL is one item */
    {"\\p{Lu}abcd", "abcd", false},
    {"\\x{41}bcd", "bcd", false},
    {"a.b", "a", false},
    {"^.abc", "abc", false}, /* not at the start: floating */
    {"ab\\bcd", "ab", false},
    {"x\\]yz", "x]yz", false},
    {"abcdefgh", "abcdefgh", false},
    /* nothing certain */
    {"a|b", NULL, false},
    {"^abc|xyz", NULL, false},
    {"(?i)abc", NULL, false},
    {"abc(?i)def", NULL, false},
    {"(*UTF8)abc", NULL, false},
    {"(?<n>abc)", NULL, false},
    {"\\Qabc\\E", NULL, false},
    {"(abc)\\1", NULL, false},
    {"\\101bc", NULL, false},
    {"\\x4", NULL, false},
    {"a?", NULL, false},
    {"x*", NULL, false},
    {".*", NULL, false},
    {"[abc]+", NULL, false},
    {"(abc)", NULL, false},
    {"abc)", NULL, false},
    {"(abc", NULL, false},
    {"[abc", NULL, false},
    {"*abc", NULL, false},
    {"^$", NULL, false},
    {"", NULL, false},
};

Test(required, literal_of_each_regex_form) {
    for (size_t i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
        const req_case *c = &req_cases[i];
        char out[64] = {0};
        bool anch = true;
        size_t n =
            sl__match_required(c->re, strlen(c->re), &anch, out, sizeof(out));
        if (!c->lit) {
            cr_expect_eq(n, 0, "%s: got \"%.*s\"", c->re, (int)n, out);
            cr_expect(!anch, "%s", c->re);
            continue;
        }
        cr_expect_eq(n, strlen(c->lit), "%s: got %zu \"%.*s\"", c->re, n,
                     (int)n, out);
        cr_expect(n == strlen(c->lit) && memcmp(out, c->lit, n) == 0,
                  "%s: got \"%.*s\", want \"%s\"", c->re, (int)n, out, c->lit);
        cr_expect_eq(anch, c->anchored, "%s", c->re);
    }
}

Test(required, copies_at_most_cap_bytes) {
    char out[4] = {'?', '?', '?', '?'};
    bool anch = false;
    size_t n = sl__match_required("abcdefgh", 8, &anch, out, 3);
    cr_assert_eq(n, 8);
    cr_assert(memcmp(out, "abc?", 4) == 0);
}

Test(prefilter, grams_anchored_floating_and_case_blind) {
    sl__req reqs[] = {
        {{'e', 'r', 'r', 'o'}, 4, false}, /* "erro" anywhere */
        {{'/', 'a', 'p', 0}, 3, true},    /* "/ap" at the start */
        {{'q', 'z', 0, 0}, 2, false},
        {{'#', 0, 0, 0}, 1, true},
    };
    sl__prefilter *pf = NULL;
    cr_assert_eq(sl__prefilter_build(reqs, 4, &pf), SL_OK);
    static const struct {
        const char *s;
        bool want;
    } cases[] = {
        {"an error here", true},
        {"an ERROR here", true}, /* grams ignore ASCII case */
        {"an err0r here", false},
        {"/api/v1", true},
        {"/API/v1", true},
        {"x/api/v1", false}, /* anchored: only at the start */
        {"/a", false},       /* too short for the gram */
        {"xxQZxx", true},
        {"#1", true},
        {"1#", false},
        {"", false},
        {"err", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_expect_eq(
            sl__prefilter_may_match(pf, cases[i].s, strlen(cases[i].s)),
            cases[i].want, "%s", cases[i].s);
    }
    sl__prefilter_free(pf);
    sl__req bad = {{'a', 0, 0, 0}, 0, false};
    cr_assert_eq(sl__prefilter_build(&bad, 1, &pf), SL_EINVAL);
}

/* ---- a filtered set against Vectorscan on each pattern alone ---- */

static int hs_hit(unsigned int id, unsigned long long from,
                  unsigned long long to, unsigned int flags, void *ctx) {
    (void)id;
    (void)from;
    (void)to;
    (void)flags;
    *(bool *)ctx = true;
    return 1;
}

/* What Vectorscan alone says about pattern p on s. */
static bool reference(const sl_pat *p, const char *s, size_t len) {
    if (p->kind <= SL_PAT_SUFFIX) {
        return matches1(p->kind, p->flags, p->text, s);
    }
    sl_buf re = {0};
    unsigned flags = 0;
    cr_assert_eq(sl__match_lower(p, &re, &flags, NULL), SL_OK);
    hs_database_t *db = NULL;
    hs_compile_error_t *cerr = NULL;
    cr_assert_eq(hs_compile(re.ptr, flags, HS_MODE_BLOCK, NULL, &db, &cerr),
                 HS_SUCCESS, "%s", re.ptr);
    hs_scratch_t *scr = NULL;
    cr_assert_eq(hs_alloc_scratch(db, &scr), HS_SUCCESS);
    bool found = false;
    hs_scan(db, len ? s : "", (unsigned)len, 0, scr, hs_hit, &found);
    hs_free_scratch(scr);
    hs_free_database(db);
    sl__buf_free(&re);
    return found;
}

typedef struct seen {
    bool v[64];
} seen;

static int mark(uint32_t id, size_t from, size_t to, void *ctx) {
    (void)from;
    (void)to;
    ((seen *)ctx)->v[id] = true;
    return 0;
}

static const struct {
    sl_pat_kind kind;
    unsigned flags;
    const char *text;
} mixed[] = {
    {SL_PAT_CONTAINS, 0, "error"},
    {SL_PAT_CONTAINS, SL_PAT_CASELESS, "Timeout"},
    {SL_PAT_CONTAINS, 0, "-v8-"},
    {SL_PAT_CONTAINS, 0, "x"},
    {SL_PAT_CONTAINS, 0, "ab"},
    {SL_PAT_CONTAINS, 0, "a\xc3\xa9z"},
    {SL_PAT_REGEX, 0, "^r12[0-9]+x$"},
    {SL_PAT_REGEX, SL_PAT_CASELESS, "^GET /api/(cart|user)"},
    {SL_PAT_REGEX, 0, "user-\\d+-(get|put)"},
    {SL_PAT_REGEX, 0, "a|b"},
    {SL_PAT_REGEX, 0, "^[0-9]{3} ms$"},
    {SL_PAT_REGEX, 0, "(?i)secret"},
    {SL_PAT_REGEX, 0, "^a.c$"},
    {SL_PAT_REGEX, 0, "ok\\.$"},
    {SL_PAT_GLOB, 0, "/api/*/cart"},
    {SL_PAT_GLOB, SL_PAT_CASELESS, "*.PY"},
    {SL_PAT_EXACT, 0, "INFO"},
    {SL_PAT_PREFIX, SL_PAT_CASELESS, "/svc/"},
    {SL_PAT_SUFFIX, 0, ".log"},
};

static const char *values[] = {
    "",
    "x",
    "ab",
    "an error",
    "an ERROR",
    "request TIMEOUT after 3s",
    "timeout",
    "-v8-",
    "-V8-",
    "r12345x",
    "r12x",
    "R12345X",
    "GET /api/cart 200",
    "get /API/user",
    "user-42-put",
    "user--put",
    "b",
    "200 ms",
    "2000 ms",
    "SECRET",
    "abc",
    "a\nc",
    "fine ok.",
    "fine ok.\n",
    "/api/v1/cart",
    "main.py",
    "INFO",
    "/SVC/a",
    "app.log",
    "a\xc3\xa9z",
    "a\xc3\x89z",
    "nothing to see here at all, nothing",
};

static void check_against_reference(const char *v, size_t len) {
    size_t n = sizeof(mixed) / sizeof(mixed[0]);
    sl_pat pats[sizeof(mixed) / sizeof(mixed[0])];
    for (size_t i = 0; i < n; i++) {
        pats[i] =
            mkpat(mixed[i].kind, mixed[i].flags, mixed[i].text, (uint32_t)i);
    }
    sl_patset *set = NULL;
    sl_error err = {0};
    cr_assert_eq(sl_patset_compile(pats, n, &set, &err), SL_OK, "%s", err.msg);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    seen got = {0};
    cr_assert_eq(sl_patset_scan(set, v, len, scr, mark, &got), SL_OK);
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(got.v[i], reference(&pats[i], v, len),
                     "pattern \"%s\" on \"%.*s\"", mixed[i].text,
                     (int)(len > 60 ? 60 : len), v);
    }
    sl_scratch_free(scr);
    sl_patset_free(set);
}

Test(prefilter, filtered_set_reports_what_each_pattern_alone_reports) {
    for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
        check_against_reference(values[k], strlen(values[k]));
    }
}

Test(prefilter, long_values_skip_the_filter_and_still_match) {
    char v[SL_PREFILTER_MAX_VALUE + 64];
    memset(v, '.', sizeof(v));
    memcpy(v + sizeof(v) - 6, "error", 5);
    check_against_reference(v, sizeof(v));
    memcpy(v, "r12345x", 7);
    check_against_reference(v, sizeof(v));
    check_against_reference(v, SL_PREFILTER_MAX_VALUE);
}

Test(prefilter, spans_of_filtered_patterns_are_kept) {
    sl_pat p = mkpat(SL_PAT_REGEX, SL_PAT_SPANS, "tok-[0-9]+", 3);
    sl_patset *set = NULL;
    cr_assert_eq(sl_patset_compile(&p, 1, &set, NULL), SL_OK);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    hits h = {0};
    const char *v = "a tok-12 b tok-3";
    cr_assert_eq(sl_patset_scan(set, v, strlen(v), scr, collect, &h), SL_OK);
    cr_assert_eq(h.n, 2);
    cr_expect(h.v[0].id == 3 && h.v[0].from == 2 && h.v[0].to == 8);
    cr_expect(h.v[1].id == 3 && h.v[1].from == 11 && h.v[1].to == 16);
    h.n = 0;
    cr_assert_eq(sl_patset_scan(set, "a tok b", 7, scr, collect, &h), SL_OK);
    cr_assert_eq(h.n, 0);
    sl_scratch_free(scr);
    sl_patset_free(set);
}

Test(prefilter, bad_pattern_named_across_both_databases) {
    /* "abc" has a literal (filtered database), "x*" none (the other one,
     * where Vectorscan rejects it): the error names x*, index 1 */
    sl_pat pats[] = {mkpat(SL_PAT_CONTAINS, 0, "abc", 0),
                     mkpat(SL_PAT_REGEX, 0, "x*", 1)};
    sl_patset *set = NULL;
    sl_error err = {0};
    size_t bad = 0;
    cr_assert_eq(sl_patset_compile_report(pats, 2, &set, &bad, &err),
                 SL_EPATTERN);
    cr_assert_eq(bad, 1);
    cr_assert(strstr(err.msg, "\"x*\"") != NULL, "%s", err.msg);
    cr_assert_null(set);
}

/* tests/match/test_patset.c: pattern sets: every kind with and without
 * case, ids, spans, the empty-match rule, errors and positions, empty sets
 * and inputs, a 10,000-pattern set, and allocation failures. */
#include "helpers.h"

#include <pthread.h>
#include <stdlib.h>

#include "base/base.h"
#include "match/cached.h"
#include "match/private.h"

typedef struct kind_case {
    sl_pat_kind kind;
    unsigned flags;
    const char *pat;
    const char *s;
    bool want;
} kind_case;

static const kind_case kind_cases[] = {
    {SL_PAT_EXACT, 0, "DEBUG", "DEBUG", true},
    {SL_PAT_EXACT, 0, "DEBUG", "debug", false},
    {SL_PAT_EXACT, 0, "DEBUG", "DEBUGX", false},
    {SL_PAT_EXACT, 0, "DEBUG", "XDEBUG", false},
    {SL_PAT_EXACT, 0, "DEBUG", "DEBUG\n", false}, /* \z, not $ */
    {SL_PAT_EXACT, SL_PAT_CASELESS, "DEBUG", "debug", true},
    {SL_PAT_EXACT, SL_PAT_CASELESS, "DeBuG", "dEbUg", true},
    {SL_PAT_EXACT, SL_PAT_CASELESS, "DEBUG", "debugs", false},
    {SL_PAT_PREFIX, 0, "/api/", "/api/v1", true},
    {SL_PAT_PREFIX, 0, "/api/", "x/api/v1", false},
    {SL_PAT_PREFIX, 0, "/api/", "/API/v1", false},
    {SL_PAT_PREFIX, SL_PAT_CASELESS, "/api/", "/API/v1", true},
    {SL_PAT_SUFFIX, 0, ".py", "main.py", true},
    {SL_PAT_SUFFIX, 0, ".py", "main.pyc", false},
    {SL_PAT_SUFFIX, 0, ".py", "main.PY", false},
    {SL_PAT_SUFFIX, SL_PAT_CASELESS, ".py", "main.PY", true},
    {SL_PAT_CONTAINS, 0, "secret", "my_secret_token", true},
    {SL_PAT_CONTAINS, 0, "secret", "my_SECRET_token", false},
    {SL_PAT_CONTAINS, SL_PAT_CASELESS, "secret", "my_SECRET_token", true},
    {SL_PAT_CONTAINS, 0, "a.b", "axb", false}, /* '.' is literal */
    {SL_PAT_CONTAINS, 0, "a.b", "a.b", true},
    {SL_PAT_CONTAINS, 0, "(x)*[y]$^|\\", "1(x)*[y]$^|\\2", true},
    {SL_PAT_CONTAINS, 0, "caf\xc3\xa9", "un caf\xc3\xa9 noir", true},
    {SL_PAT_CONTAINS, SL_PAT_CASELESS, "CAF\xc3\xa9", "caf\xc3\xa9", true},
    {SL_PAT_CONTAINS, 0, "caf\xc3\xa9", "cafe", false},
    {SL_PAT_REGEX, 0, "^[0-9]+$", "12345", true},
    {SL_PAT_REGEX, 0, "^[0-9]+$", "123a5", false},
    {SL_PAT_REGEX, 0, "token", "my_token_2", true}, /* unanchored */
    {SL_PAT_REGEX, 0, "error", "ERROR", false},
    {SL_PAT_REGEX, SL_PAT_CASELESS, "error", "ERROR", true},
    {SL_PAT_REGEX, 0, "(?i)error", "ERROR", true},
    {SL_PAT_REGEX, 0, "^my_app::service::[A-Z]\\w+$",
     "my_app::service::Handler", true},
    {SL_PAT_REGEX, 0, "^my_app::service::[A-Z]\\w+$", "my_app.service.Handler",
     false},
    {SL_PAT_GLOB, SL_PAT_GLOB_PATH, "user_*", "user_id", true},
    {SL_PAT_GLOB, SL_PAT_GLOB_PATH, "user_*", "order_id", false},
    {SL_PAT_GLOB, SL_PAT_GLOB_PATH, "user_*", "USER_ID", false},
    {SL_PAT_GLOB, SL_PAT_GLOB_PATH | SL_PAT_CASELESS, "user_*", "USER_ID",
     true},
    {SL_PAT_GLOB, SL_PAT_GLOB_PATH, "a/*", "a/b/c", false},
};

Test(patset, every_kind_with_and_without_case) {
    for (size_t i = 0; i < SL_ARRAY_LEN(kind_cases); i++) {
        const kind_case *c = &kind_cases[i];
        cr_expect_eq(matches1(c->kind, c->flags, c->pat, c->s), c->want,
                     "case %zu: %s %s on %s", i, sl__match_kind_name(c->kind),
                     c->pat, c->s);
    }
}

Test(patset, repeated_ids_are_reported_per_pattern) {
    sl_pat pats[] = {
        mkpat(SL_PAT_CONTAINS, 0, "a", 5),
        mkpat(SL_PAT_CONTAINS, 0, "b", 5),
        mkpat(SL_PAT_CONTAINS, 0, "z", 5),
        mkpat(SL_PAT_CONTAINS, 0, "c", 9),
    };
    sl_patset *set = NULL;
    sl_error err = {0};
    cr_assert_eq(sl_patset_compile(pats, 4, &set, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_patset_count(set), 4);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    hits h = {0};
    cr_assert_eq(sl_patset_scan(set, "abcabc", 6, scr, collect, &h), SL_OK);
    size_t fives = 0, nines = 0;
    for (size_t i = 0; i < h.n; i++) {
        fives += h.v[i].id == 5;
        nines += h.v[i].id == 9;
    }
    cr_assert_eq(fives, 2, "two patterns with id 5 matched");
    cr_assert_eq(nines, 1);
    cr_assert_eq(h.n, 3);
    sl_scratch_free(scr);
    sl_patset_free(set);
}

Test(patset, many_patterns_report_each_matching_id_once) {
    enum {
        N = 200
    };
    sl_pat pats[N];
    char texts[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(texts[i], sizeof(texts[i]), "k%03d", i);
        pats[i] = mkpat(i % 2 ? SL_PAT_CONTAINS : SL_PAT_PREFIX, 0, texts[i],
                        (uint32_t)i);
    }
    sl_patset *set = NULL;
    sl_error err = {0};
    cr_assert_eq(sl_patset_compile(pats, N, &set, &err), SL_OK, "%s", err.msg);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    /* k000 is a prefix; k001 k003 occur (twice each); k002 not at start */
    const char *s = "k000 k001 k001 k002 k003 k003";
    hits h = {0};
    cr_assert_eq(sl_patset_scan(set, s, strlen(s), scr, collect, &h), SL_OK);
    cr_assert_eq(h.n, 3);
    bool seen[N] = {false};
    for (size_t i = 0; i < h.n; i++) {
        cr_assert(!seen[h.v[i].id], "id %u twice", h.v[i].id);
        seen[h.v[i].id] = true;
        cr_assert_eq(h.v[i].from, 0, "no spans asked for");
    }
    cr_assert(seen[0] && seen[1] && seen[3]);
    sl_scratch_free(scr);
    sl_patset_free(set);
}

static void scan_spans(const char *re, const char *s, hits *h) {
    sl_pat p = mkpat(SL_PAT_REGEX, SL_PAT_SPANS, re, 3);
    sl_patset *set = NULL;
    sl_error err = {0};
    cr_assert_eq(sl_patset_compile(&p, 1, &set, &err), SL_OK, "%s", err.msg);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    cr_assert_eq(sl_patset_scan(set, s, strlen(s), scr, collect, h), SL_OK);
    sl_scratch_free(scr);
    sl_patset_free(set);
}

Test(spans, each_match_reported_with_its_range) {
    hits h = {0};
    scan_spans("AKIA[0-9A-Z]{4}", "x AKIA1234 y AKIAABCD", &h);
    cr_assert_eq(h.n, 2);
    cr_assert_eq(h.v[0].id, 3);
    cr_assert_eq(h.v[0].from, 2);
    cr_assert_eq(h.v[0].to, 10);
    cr_assert_eq(h.v[1].from, 13);
    cr_assert_eq(h.v[1].to, 21);
}

Test(spans, growing_match_is_one_leftmost_longest_span) {
    hits h = {0};
    scan_spans("a+", "xaaay", &h); /* Vectorscan reports 1-2, 1-3, 1-4 */
    cr_assert_eq(h.n, 1);
    cr_assert_eq(h.v[0].from, 1);
    cr_assert_eq(h.v[0].to, 4);
}

Test(spans, overlapping_matches_merge_so_every_byte_is_covered) {
    hits h = {0};
    scan_spans("ab|bcd|cd", "abcd--cd", &h);
    cr_assert_eq(h.n, 2);
    cr_assert_eq(h.v[0].from, 0);
    cr_assert_eq(h.v[0].to, 4);
    cr_assert_eq(h.v[1].from, 6);
    cr_assert_eq(h.v[1].to, 8);
}

Test(spans, adjacent_matches_stay_apart) {
    hits h = {0};
    scan_spans("[0-9]{3}", "123456", &h);
    /* 0-3 1-4 2-5 3-6 overlap pairwise: one span covers them */
    cr_assert_eq(h.n, 1);
    cr_assert_eq(h.v[0].to, 6);
    hits g = {0};
    scan_spans("ab", "abab", &g);
    cr_assert_eq(g.n, 2);
    cr_assert_eq(g.v[0].from, 0);
    cr_assert_eq(g.v[0].to, 2);
    cr_assert_eq(g.v[1].from, 2);
    cr_assert_eq(g.v[1].to, 4);
}

Test(spans, ordered_by_start_across_patterns_and_mixed_with_single) {
    sl_pat pats[] = {
        mkpat(SL_PAT_CONTAINS, SL_PAT_SPANS, "zz", 1),
        mkpat(SL_PAT_CONTAINS, SL_PAT_SPANS, "yy", 2),
        mkpat(SL_PAT_CONTAINS, 0, "q", 3),
    };
    sl_patset *set = NULL;
    cr_assert_eq(sl_patset_compile(pats, 3, &set, NULL), SL_OK);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    hits h = {0};
    const char *s = "yy zz yy q";
    cr_assert_eq(sl_patset_scan(set, s, strlen(s), scr, collect, &h), SL_OK);
    cr_assert_eq(h.n, 4);
    cr_assert_eq(h.v[0].id, 3, "single matches come during the scan");
    cr_assert_eq(h.v[1].id, 2);
    cr_assert_eq(h.v[1].from, 0);
    cr_assert_eq(h.v[2].id, 1);
    cr_assert_eq(h.v[2].from, 3);
    cr_assert_eq(h.v[3].id, 2);
    cr_assert_eq(h.v[3].from, 6);
    sl_scratch_free(scr);
    sl_patset_free(set);
}

Test(spans, many_matches_grow_and_compact_the_buffer) {
    enum {
        N = 100000
    };
    char *s = malloc(N + 1);
    for (size_t i = 0; i < N; i++) {
        s[i] = (i % 4 == 3) ? ' ' : 'a';
    }
    s[N] = '\0';
    sl_pat p = mkpat(SL_PAT_REGEX, SL_PAT_SPANS, "a+", 1);
    sl_patset *set = NULL;
    cr_assert_eq(sl_patset_compile(&p, 1, &set, NULL), SL_OK);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    hits h = {0};
    cr_assert_eq(sl_patset_scan(set, s, N, scr, collect, &h), SL_OK);
    cr_assert_eq(h.n, N / 4);
    cr_assert_eq(h.v[1].from, 4);
    cr_assert_eq(h.v[1].to, 7);
    sl_scratch_free(scr);
    sl_patset_free(set);
    free(s);
}

Test(literal, trie_kinds_report_ranges_and_empty_literals) {
    sl_pat pats[] = {
        mkpat(SL_PAT_SUFFIX, SL_PAT_SPANS | SL_PAT_CASELESS, ".PY", 1),
        mkpat(SL_PAT_PREFIX, SL_PAT_SPANS, "src/", 2),
        mkpat(SL_PAT_EXACT, SL_PAT_SPANS, "src/a.py", 3),
        mkpat(SL_PAT_PREFIX, SL_PAT_ALLOWEMPTY, "", 4),
        mkpat(SL_PAT_SUFFIX, 0, "a.py", 5),
        mkpat(SL_PAT_PREFIX, SL_PAT_CASELESS, "SRC/A", 6),
        mkpat(SL_PAT_EXACT, SL_PAT_CASELESS, "src/A.PY", 7),
        mkpat(SL_PAT_EXACT, 0, "src/A.PY", 8),
        mkpat(SL_PAT_PREFIX, 0, "src/a.py/", 9),
    };
    sl_patset *set = NULL;
    sl_error err = {0};
    cr_assert_eq(sl_patset_compile(pats, 9, &set, &err), SL_OK, "%s", err.msg);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    hits h = {0};
    cr_assert_eq(sl_patset_scan(set, "src/a.py", 8, scr, collect, &h), SL_OK);
    bool seen[10] = {false};
    for (size_t i = 0; i < h.n; i++) {
        const hit *x = &h.v[i];
        cr_assert(!seen[x->id]);
        seen[x->id] = true;
        switch (x->id) {
        case 1:
            cr_assert_eq(x->from, 5);
            cr_assert_eq(x->to, 8);
            break;
        case 2:
            cr_assert_eq(x->from, 0);
            cr_assert_eq(x->to, 4);
            break;
        case 3:
        case 5:
        case 7:
            cr_assert_eq(x->from, 0);
            cr_assert_eq(x->to, 8);
            break;
        case 4:
            cr_assert_eq(x->to, 0);
            break;
        case 6:
            cr_assert_eq(x->to, 5);
            break;
        default:
            cr_assert_fail("id %u should not match", x->id);
        }
    }
    cr_assert_eq(h.n, 7);
    h.n = 0;
    cr_assert_eq(sl_patset_scan(set, "", 0, scr, collect, &h), SL_OK);
    cr_assert_eq(h.n, 1);
    cr_assert_eq(h.v[0].id, 4);
    sl_scratch_free(scr);
    sl_patset_free(set);
}

Test(patset, callback_stop_is_not_an_error) {
    sl_pat pats[] = {mkpat(SL_PAT_CONTAINS, 0, "a", 1),
                     mkpat(SL_PAT_CONTAINS, 0, "b", 2),
                     mkpat(SL_PAT_CONTAINS, SL_PAT_SPANS, "c", 3)};
    sl_patset *set = NULL;
    cr_assert_eq(sl_patset_compile(pats, 3, &set, NULL), SL_OK);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    hits h = {.stop_after = 1};
    cr_assert_eq(sl_patset_scan(set, "abc", 3, scr, collect, &h), SL_OK);
    cr_assert_eq(h.n, 1);
    sl_pat lits[] = {mkpat(SL_PAT_PREFIX, 0, "a", 1),
                     mkpat(SL_PAT_EXACT, 0, "abc", 2),
                     mkpat(SL_PAT_CONTAINS, 0, "b", 3)};
    sl_patset *ls = NULL;
    cr_assert_eq(sl_patset_compile(lits, 3, &ls, NULL), SL_OK);
    cr_assert_eq(sl_scratch_reserve(&scr, ls), SL_OK);
    hits k = {.stop_after = 1};
    cr_assert_eq(sl_patset_scan(ls, "abc", 3, scr, collect, &k), SL_OK);
    cr_assert_eq(k.n, 1);
    sl_patset_free(ls);
    /* the scratch is reusable after a stopped scan */
    hits g = {0};
    cr_assert_eq(sl_patset_scan(set, "abc", 3, scr, collect, &g), SL_OK);
    cr_assert_eq(g.n, 3);
    sl_scratch_free(scr);
    sl_patset_free(set);
}

Test(empty, anchored_empty_regex_rejected_without_allowempty) {
    sl_pat p = mkpat(SL_PAT_REGEX, 0, "^$", 1);
    p.where = (sl_pos){"policies.json", 12, 30};
    sl_error err = {0};
    cr_assert_eq(sl_pat_check(&p, &err), SL_EPATTERN);
    cr_assert_eq(err.code, SL_EPATTERN);
    cr_assert_str_eq(err.msg,
                     "invalid regex \"^$\": Pattern matches empty buffer; use "
                     "HS_FLAG_ALLOWEMPTY to enable support.");
    cr_assert_eq(err.line, 12);
    cr_assert_eq(err.col, 30);
    cr_assert_str_eq(err.file, "policies.json");
}

Test(empty, exact_empty_and_unanchored_empty_rejected) {
    sl_error err = {0};
    sl_pat p = mkpat(SL_PAT_EXACT, 0, "", 1);
    cr_assert_eq(sl_pat_check(&p, &err), SL_EPATTERN);
    cr_assert_str_eq(err.msg,
                     "invalid exact \"\": Pattern matches empty buffer; use "
                     "HS_FLAG_ALLOWEMPTY to enable support.");
    const char *bad[] = {"x*", "^", "\\b", "a?"};
    for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
        p = mkpat(SL_PAT_REGEX, 0, bad[i], 1);
        p.where = (sl_pos){NULL, 3, 4};
        cr_assert_eq(sl_pat_check(&p, &err), SL_EPATTERN, "%s", bad[i]);
        cr_assert(strstr(err.msg, ": Pattern matches empty buffer; use "
                                  "HS_FLAG_ALLOWEMPTY to enable support."),
                  "%s", err.msg);
        cr_assert_eq(err.line, 3);
    }
    p = mkpat(SL_PAT_CONTAINS, 0, "", 1);
    cr_assert_eq(sl_pat_check(&p, &err), SL_EPATTERN);
    p = mkpat(SL_PAT_PREFIX, 0, "", 1);
    cr_assert_eq(sl_pat_check(&p, &err), SL_EPATTERN);
    /* named when it is not the first pattern of the set */
    sl_pat pats[] = {mkpat(SL_PAT_REGEX, 0, "ok", 1),
                     mkpat(SL_PAT_REGEX, 0, "x*", 2)};
    sl_patset *set = NULL;
    size_t badi = 0;
    cr_assert_eq(sl_patset_compile_report(pats, 2, &set, &badi, &err),
                 SL_EPATTERN);
    cr_assert_eq(badi, 1);
}

Test(empty, anchored_patterns_that_also_match_more_are_valid) {
    /* the policy suite expects `^.*$` to match every record */
    cr_assert(matches1(SL_PAT_REGEX, 0, "^.*$", "any body"));
    cr_assert(matches1(SL_PAT_REGEX, 0, "^.*$", ""));
    cr_assert(matches1(SL_PAT_REGEX, 0, "^a?", "b"));
    cr_assert(matches1(SL_PAT_GLOB, SL_PAT_GLOB_PATH, "*", "a.b.c"));
    cr_assert(matches1(SL_PAT_GLOB, SL_PAT_GLOB_PATH, "*", ""));
    cr_assert(!matches1(SL_PAT_GLOB, SL_PAT_GLOB_PATH, "*", "a/b"));
}

Test(empty, allowempty_matches_the_empty_string) {
    cr_assert(matches1(SL_PAT_REGEX, SL_PAT_ALLOWEMPTY, "^$", ""));
    cr_assert(!matches1(SL_PAT_REGEX, SL_PAT_ALLOWEMPTY, "^$", "a"));
    cr_assert(matches1(SL_PAT_EXACT, SL_PAT_ALLOWEMPTY, "", ""));
    cr_assert(!matches1(SL_PAT_EXACT, SL_PAT_ALLOWEMPTY, "", "x"));
    cr_assert(
        matches1(SL_PAT_GLOB, SL_PAT_ALLOWEMPTY | SL_PAT_GLOB_PATH, "*", ""));
    cr_assert(matches1(SL_PAT_GLOB, SL_PAT_ALLOWEMPTY | SL_PAT_GLOB_PATH, "*",
                       "a.b.c"));
}

Test(empty, empty_input_scans) {
    sl_pat pats[] = {mkpat(SL_PAT_CONTAINS, 0, "a", 1),
                     mkpat(SL_PAT_REGEX, SL_PAT_ALLOWEMPTY, "^$", 2)};
    sl_patset *set = NULL;
    cr_assert_eq(sl_patset_compile(pats, 2, &set, NULL), SL_OK);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    hits h = {0};
    cr_assert_eq(sl_patset_scan(set, NULL, 0, scr, collect, &h), SL_OK);
    cr_assert_eq(h.n, 1);
    cr_assert_eq(h.v[0].id, 2);
    h.n = 0;
    cr_assert_eq(sl_patset_scan(set, "", 0, scr, collect, &h), SL_OK);
    cr_assert_eq(h.n, 1);
    sl_scratch_free(scr);
    sl_patset_free(set);
}

Test(empty, empty_set_compiles_and_matches_nothing) {
    sl_patset *set = NULL;
    sl_error err = {0};
    cr_assert_eq(sl_patset_compile(NULL, 0, &set, &err), SL_OK);
    cr_assert_not_null(set);
    cr_assert_eq(sl_patset_count(set), 0);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    hits h = {0};
    cr_assert_eq(sl_patset_scan(set, "abc", 3, scr, collect, &h), SL_OK);
    cr_assert_eq(sl_patset_scan(set, "abc", 3, NULL, collect, &h), SL_OK);
    cr_assert_eq(h.n, 0);
    sl_scratch_free(scr);
    sl_patset_free(set);
}

Test(errors, bad_regex_message_and_position) {
    sl_pat p = mkpat(SL_PAT_REGEX, 0, "([bad", 1);
    p.where = (sl_pos){"p.yaml", 4, 9};
    sl_error err = {0};
    cr_assert_eq(sl_pat_check(&p, &err), SL_EPATTERN);
    cr_assert_str_eq(err.msg, "invalid regex \"([bad\": Unterminated "
                              "character class starting at index 1.");
    cr_assert_eq(err.line, 4);
    cr_assert_eq(err.col, 9);
    char line[512];
    sl_error_format(&err, line, sizeof(line));
    cr_assert_str_eq(line, "p.yaml:4:9: invalid regex \"([bad\": "
                           "Unterminated character class starting at "
                           "index 1.");
}

Test(errors, set_names_the_bad_pattern) {
    sl_pat pats[] = {mkpat(SL_PAT_CONTAINS, 0, "ok", 1),
                     mkpat(SL_PAT_REGEX, 0, "(", 2),
                     mkpat(SL_PAT_EXACT, 0, "fine", 3)};
    pats[1].where = (sl_pos){NULL, 2, 5};
    sl_patset *set = NULL;
    sl_error err = {0};
    size_t bad = 0;
    cr_assert_eq(sl_patset_compile_report(pats, 3, &set, &bad, &err),
                 SL_EPATTERN);
    cr_assert_null(set);
    cr_assert_eq(bad, 1);
    cr_assert_eq(err.line, 2);
    cr_assert_eq(err.col, 5);
    cr_assert_str_eq(err.msg, "invalid regex \"(\": Missing close "
                              "parenthesis for group started at index 0.");
    /* drop it and compile the rest */
    pats[1] = pats[2];
    cr_assert_eq(sl_patset_compile_report(pats, 2, &set, &bad, &err), SL_OK);
    cr_assert_eq(bad, SIZE_MAX);
    sl_patset_free(set);
}

Test(errors, long_pattern_is_cut_so_the_reason_fits) {
    char pat[400];
    memset(pat, 'a', sizeof(pat) - 2);
    pat[sizeof(pat) - 2] = '(';
    pat[sizeof(pat) - 1] = '\0';
    sl_pat p = mkpat(SL_PAT_REGEX, 0, pat, 1);
    sl_error err = {0};
    cr_assert_eq(sl_pat_check(&p, &err), SL_EPATTERN);
    cr_assert(strstr(err.msg, "...\": Missing close parenthesis"), "%s",
              err.msg);
    cr_assert_eq(strncmp(err.msg, "invalid regex \"aaaa", 19), 0);
}

Test(errors, nul_in_regex_and_bad_arguments) {
    sl_pat p = {.kind = SL_PAT_REGEX, .text = "a\0b", .len = 3};
    sl_error err = {0};
    cr_assert_eq(sl_pat_check(&p, &err), SL_EPATTERN);
    cr_assert_eq(sl_pat_check(NULL, &err), SL_EINVAL);
    sl_patset *set = NULL;
    cr_assert_eq(sl_patset_compile(NULL, 2, &set, &err), SL_EINVAL);
    cr_assert_eq(sl_patset_compile(&p, 1, NULL, &err), SL_EINVAL);
    p = (sl_pat){.kind = (sl_pat_kind)42, .text = "a", .len = 1};
    cr_assert_eq(sl_pat_check(&p, &err), SL_EINVAL);
    /* a literal with a NUL byte is fine: it is escaped */
    p = (sl_pat){.kind = SL_PAT_CONTAINS, .text = "a\0b", .len = 3};
    cr_assert_eq(sl_pat_check(&p, &err), SL_OK, "%s", err.msg);
}

Test(errors, pattern_too_long_is_a_limit) {
    size_t n = SL_PAT_MAX_LEN + 1;
    char *big = malloc(n);
    memset(big, 'a', n);
    sl_pat p = {.kind = SL_PAT_CONTAINS, .text = big, .len = n};
    sl_error err = {0};
    cr_assert_eq(sl_pat_check(&p, &err), SL_ELIMIT);
    free(big);
}

Test(scan, literal_bytes_above_0x7f_and_nul_match) {
    sl_pat p = {.kind = SL_PAT_CONTAINS, .text = "\xff\x00\x80", .len = 3};
    sl_patset *set = NULL;
    cr_assert_eq(sl_patset_compile(&p, 1, &set, NULL), SL_OK);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    hits h = {0};
    cr_assert_eq(sl_patset_scan(set, "x\xff\x00\x80y", 5, scr, collect, &h),
                 SL_OK);
    cr_assert_eq(h.n, 1);
    h.n = 0;
    cr_assert_eq(sl_patset_scan(set, "x\xff\x00\x81y", 5, scr, collect, &h),
                 SL_OK);
    cr_assert_eq(h.n, 0);
    sl_scratch_free(scr);
    sl_patset_free(set);
}

Test(scan, one_scratch_serves_several_sets) {
    sl_pat a = mkpat(SL_PAT_CONTAINS, 0, "a", 1);
    sl_pat b[] = {mkpat(SL_PAT_REGEX, 0, "b[0-9]{2,}c", 2),
                  mkpat(SL_PAT_REGEX, SL_PAT_SPANS, "(x|yz)+w", 3)};
    sl_patset *s1 = NULL, *s2 = NULL;
    cr_assert_eq(sl_patset_compile(&a, 1, &s1, NULL), SL_OK);
    cr_assert_eq(sl_patset_compile(b, 2, &s2, NULL), SL_OK);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, s1), SL_OK);
    cr_assert_eq(sl_scratch_reserve(&scr, s2), SL_OK);
    hits h = {0};
    cr_assert_eq(sl_patset_scan(s1, "a", 1, scr, collect, &h), SL_OK);
    cr_assert_eq(sl_patset_scan(s2, "b123c xyzw", 10, scr, collect, &h), SL_OK);
    cr_assert_eq(h.n, 3);
    cr_assert_eq(h.v[2].from, 6);
    cr_assert_eq(h.v[2].to, 10);
    cr_assert_eq(sl_patset_scan(s2, "x", 1, NULL, collect, &h), SL_EINVAL);
    cr_assert_eq(sl_patset_scan(NULL, "x", 1, scr, collect, &h), SL_EINVAL);
    cr_assert_eq(sl_patset_scan(s2, "x", 1, scr, NULL, &h), SL_EINVAL);
    sl_scratch_free(scr);
    sl_patset_free(s1);
    sl_patset_free(s2);
    sl_scratch_free(NULL);
    sl_patset_free(NULL);
}

Test(scale, ten_thousand_mixed_patterns_compile_and_scan) {
    enum {
        N = 10000
    };
    sl_pat *pats = calloc(N, sizeof(*pats));
    char(*texts)[32] = calloc(N, 32);
    for (int i = 0; i < N; i++) {
        switch (i % 4) {
        case 0:
            snprintf(texts[i], 32, "value-%05d", i);
            pats[i] = mkpat(SL_PAT_EXACT, 0, texts[i], (uint32_t)i);
            break;
        case 1:
            snprintf(texts[i], 32, "/svc/%05d/", i);
            pats[i] =
                mkpat(SL_PAT_PREFIX, SL_PAT_CASELESS, texts[i], (uint32_t)i);
            break;
        case 2:
            snprintf(texts[i], 32, "err%05dx", i);
            pats[i] = mkpat(SL_PAT_CONTAINS, 0, texts[i], (uint32_t)i);
            break;
        default:
            snprintf(texts[i], 32, "user-%05d-(get|put)", i);
            pats[i] = mkpat(SL_PAT_REGEX, 0, texts[i], (uint32_t)i);
            break;
        }
    }
    sl_patset *set = NULL;
    sl_error err = {0};
    cr_assert_eq(sl_patset_compile(pats, N, &set, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_patset_count(set), N);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    const char *probe[] = {"value-09996", "/SVC/00005/x", "an err00010x here",
                           "user-00007-put", "nothing matches this value"};
    const uint32_t want[] = {9996, 5, 10, 7, UINT32_MAX};
    for (size_t i = 0; i < SL_ARRAY_LEN(probe); i++) {
        hits h = {0};
        cr_assert_eq(
            sl_patset_scan(set, probe[i], strlen(probe[i]), scr, collect, &h),
            SL_OK);
        if (want[i] == UINT32_MAX) {
            cr_assert_eq(h.n, 0);
        } else {
            cr_assert_eq(h.n, 1, "%s", probe[i]);
            cr_assert_eq(h.v[0].id, want[i]);
        }
    }
    sl_scratch_free(scr);
    sl_patset_free(set);
    free(pats);
    free(texts);
}

/* ---- allocation failures ---- */

static size_t oom_countdown;
static bool oom_armed;
static size_t live_bytes;

static void *oom_alloc(void *ctx, size_t size) {
    SL_UNUSED(ctx);
    if (oom_armed && oom_countdown-- == 0) {
        return NULL;
    }
    live_bytes += size;
    return malloc(size);
}

static void *oom_realloc(void *ctx, void *p, size_t old, size_t size) {
    SL_UNUSED(ctx);
    if (oom_armed && oom_countdown-- == 0) {
        return NULL;
    }
    live_bytes += size;
    live_bytes -= old;
    return realloc(p, size);
}

static void oom_free(void *ctx, void *p, size_t size) {
    SL_UNUSED(ctx);
    if (p) {
        live_bytes -= size;
    }
    free(p);
}

Test(oom, compile_and_scan_fail_cleanly) {
    sl_allocator a = {oom_alloc, oom_realloc, oom_free, NULL};
    sl_set_allocator(&a);
    sl_pat pats[] = {
        mkpat(SL_PAT_GLOB, SL_PAT_GLOB_PATH, "{a,b}/[!x-z]?*.py", 1),
        mkpat(SL_PAT_REGEX, SL_PAT_SPANS, "q+", 2),
        mkpat(SL_PAT_EXACT, SL_PAT_CASELESS, "Exact", 3),
    };
    bool done = false;
    for (size_t n = 0; n < 200 && !done; n++) {
        oom_countdown = n;
        oom_armed = true;
        sl_patset *set = NULL;
        sl_scratch *scr = NULL;
        sl_error err = {0};
        sl_status rc = sl_patset_compile(pats, 3, &set, &err);
        if (rc == SL_OK) {
            rc = sl_scratch_reserve(&scr, set);
        }
        hits h = {0};
        if (rc == SL_OK) {
            rc = sl_patset_scan(set, "a/b.py qq qqq", 13, scr, collect, &h);
        }
        oom_armed = false;
        if (rc == SL_OK) {
            cr_assert_eq(h.n, 2);
            done = true;
        } else {
            cr_assert_eq(rc, SL_ENOMEM, "n=%zu rc=%d %s", n, rc, err.msg);
        }
        sl_scratch_free(scr);
        sl_patset_free(set);
        cr_assert_eq(live_bytes, 0, "n=%zu leaked %zu", n, live_bytes);
    }
    cr_assert(done);
    sl_set_allocator(NULL);
}

typedef struct scan_arg {
    const sl_patset *set;
    int ok;
} scan_arg;

static void *scan_worker(void *p) {
    scan_arg *a = p;
    sl_scratch *scr = NULL;
    a->ok = sl_scratch_reserve(&scr, a->set) == SL_OK;
    for (int i = 0; i < 2000 && a->ok; i++) {
        hits h = {0};
        const char *s = i % 2 ? "user_id" : "order.py";
        if (sl_patset_scan(a->set, s, strlen(s), scr, collect, &h) != SL_OK ||
            h.n != 1 || h.v[0].id != (uint32_t)(i % 2 ? 1 : 2)) {
            a->ok = 0;
        }
    }
    sl_scratch_free(scr);
    return NULL;
}

Test(threads, one_set_many_threads_one_scratch_each) {
    sl_pat pats[] = {mkpat(SL_PAT_GLOB, SL_PAT_GLOB_PATH, "user_*", 1),
                     mkpat(SL_PAT_SUFFIX, 0, ".py", 2)};
    sl_patset *set = NULL;
    cr_assert_eq(sl_patset_compile(pats, 2, &set, NULL), SL_OK);
    enum {
        T = 6
    };
    pthread_t th[T];
    scan_arg args[T];
    for (int i = 0; i < T; i++) {
        args[i] = (scan_arg){set, 0};
        cr_assert_eq(pthread_create(&th[i], NULL, scan_worker, &args[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        cr_assert(args[i].ok, "thread %d", i);
    }
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(NULL, set), SL_EINVAL);
    cr_assert_eq(sl_scratch_reserve(&scr, NULL), SL_EINVAL);
    cr_assert_null(scr);
    sl_patset_free(set);
}

/* The width a check learnt (sl__pat_check_width) stands in for the
 * compile's own parse: on values around each pattern's shortest match the
 * hinted set matches exactly as the plain one. */
Test(patset, checked_width_hints_give_the_same_matches) {
    static const char *const texts[] = {"abc[0-9]{5}", "x{3,}y", "^z+$",
                                        "(foo|ba)r", "q"};
    enum {
        N = sizeof(texts) / sizeof(texts[0])
    };
    sl_pat p[N];
    unsigned hints[N];
    for (uint32_t i = 0; i < N; i++) {
        p[i] = mkpat(SL_PAT_REGEX, 0, texts[i], i);
        sl_error e = {0};
        cr_assert_eq(sl__pat_check_width(&p[i], &hints[i], &e), SL_OK, "%s",
                     e.msg);
    }
    cr_assert_eq(hints[0], 9u, "abc + 5 digits, plus one");
    cr_assert_eq(hints[1], 5u);
    sl_patset *plain = NULL, *hinted = NULL;
    cr_assert_eq(sl_patset_compile(p, N, &plain, NULL), SL_OK);
    cr_assert_eq(
        sl__patset_compile_cached(p, N, NULL, hints, &hinted, NULL, NULL),
        SL_OK);
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, plain), SL_OK);
    cr_assert_eq(sl_scratch_reserve(&scr, hinted), SL_OK);
    static const char *const values[] = {
        "abc1234", "abc12345", "xabc123456", "xxy",  "xxxy",   "z",
        "zz",      "bar",      "far",        "foor", "foor q", ""};
    for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
        hits a = {0}, b = {0};
        size_t len = strlen(values[v]);
        cr_assert_eq(sl_patset_scan(plain, values[v], len, scr, collect, &a),
                     SL_OK);
        cr_assert_eq(sl_patset_scan(hinted, values[v], len, scr, collect, &b),
                     SL_OK);
        cr_assert_eq(a.n, b.n, "%s", values[v]);
        for (size_t i = 0; i < a.n && i < 64; i++) {
            cr_assert_eq(a.v[i].id, b.v[i].id, "%s", values[v]);
        }
    }
    sl_scratch_free(scr);
    sl_patset_free(plain);
    sl_patset_free(hinted);
}

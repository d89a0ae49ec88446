/* src/match/patset.c: compile sl_pat lists into one Vectorscan block-mode
 * database (contains, regex, glob) plus byte tries (exact, prefix, suffix:
 * littrie.c says why), and scan values with both. Leaves out how a pattern
 * becomes regex text (lower.c, glob.c) and regex replace (regex.c).
 *
 * The one idea: one database per set, so a value is scanned once whatever
 * the number of patterns. Vectorscan reports expression indices; the set
 * maps each index to the caller's id (ids may repeat: a policy with two
 * matchers on one field counts two hits). Every pattern is first checked
 * alone with hs_expression_info, which both names the bad pattern (the
 * multi compile only gives an index, and gives up at the first error) and
 * yields max_width. Without SL_PAT_ALLOWEMPTY, patterns that can match ""
 * are rejected as upstream does, which on Vectorscan means: unanchored ones
 * (`x*`: Vectorscan's own check) and ones that can only match "" (`^$`:
 * ours, as Vectorscan 5.4 accepts it). Anchored patterns that can also match
 * more (`^.*$`, glob `*`) stay valid: the policy suite expects `^.*$` to
 * match every record.
 *
 * Span patterns (SL_PAT_SPANS) compile with HS_FLAG_SOM_LEFTMOST, which
 * reports every match end with the leftmost start reaching it. Those are
 * buffered in the scratch and, once the scan is done, overlapping ones of
 * the same pattern are merged; the disjoint spans go to the callback in
 * order of start. Merging (not picking the first of two overlapping
 * matches) is what a masker needs: Vectorscan cannot tell which later match
 * a backtracking engine would have chosen, and every matched byte must end
 * up inside a reported span. */
#include <sluice/match.h>

#include <limits.h>
#include <stdlib.h>

#include <hs/hs.h>

#include "base/base.h"
#include "match/cached.h"
#include "match/private.h"

struct sl_patset {
    hs_database_t *db;  /* owned; patterns without a required literal */
    hs_database_t *fdb; /* owned; patterns with one, behind pf */
    sl__prefilter *pf;  /* owned; NULL when fdb is */
    size_t min_db;      /* shortest value each database can match */
    size_t min_fdb;
    sl__lit *lit; /* owned; exact / prefix / suffix patterns */
    size_t n;
    uint32_t *ids;  /* n caller ids, by expression index */
    uint8_t *spans; /* n flags: 1 = SL_PAT_SPANS */
    bool any_spans;
};

typedef struct span {
    uint32_t idx;
    uint64_t from, to;
} span;

struct sl_scratch {
    hs_scratch_t *hs; /* owned; NULL until a non-empty set is reserved */
    span *buf;        /* span matches of the running scan */
    size_t len, cap;
};

static const char EMPTY_MSG[] = "Pattern matches empty buffer; use "
                                "HS_FLAG_ALLOWEMPTY to enable support.";

/* Check one lowered pattern alone: syntax, and the half of the empty-match
 * rule Vectorscan leaves to us: a pattern that can only ever match ""
 * (max_width 0: `^$`, `^`, `\b`). The other half, patterns that can match
 * "" anywhere (`x*`), hs_compile_multi rejects itself and names. */
static sl_status check_one(const sl_pat *p, const char *re, unsigned flags,
                           unsigned *min_width, sl_error *err) {
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *cerr = NULL;
    if (hs_expression_info(re, flags, &info, &cerr) != HS_SUCCESS) {
        sl_status rc = sl__match_pattern_error(
            err, p, cerr ? cerr->message : "rejected by vectorscan");
        hs_free_compile_error(cerr);
        return rc;
    }
    bool only_empty = info->max_width == 0;
    if (min_width) {
        *min_width = info->min_width;
    }
    free(info); /* allocated by Vectorscan's misc allocator (malloc) */
    if (only_empty && !(flags & HS_FLAG_ALLOWEMPTY)) {
        /* Vectorscan's own words for the same rejection */
        return sl__match_pattern_error(err, p, EMPTY_MSG);
    }
    return SL_OK;
}

/* Checking alone costs a parse (hs_expression_info, ~0.06 ms), not a
 * database build (~1.5 ms for a small regex), unless only the build can
 * tell: a pattern that can match "" (Vectorscan rejects the unanchored
 * ones) or one that asks for spans (some patterns have no start of match).
 * Literal kinds never reach Vectorscan. What a parse cannot see, a set
 * exceeding Vectorscan's size limits, shows when the set is compiled. */
sl_status sl_pat_check(const sl_pat *p, sl_error *err) {
    return sl__pat_check_width(p, NULL, err);
}

sl_status sl__pat_check_width(const sl_pat *p, unsigned *hint, sl_error *err) {
    if (hint) {
        *hint = 0;
    }
    if (!p) {
        return sl__error(err, SL_EINVAL, NULL, "no pattern");
    }
    sl_status rc = SL_OK;
    bool full = sl__lit_handles(p) || (p->flags & SL_PAT_SPANS);
    if (!full) {
        sl_buf re = {0};
        unsigned flags = 0, min_width = 0;
        rc = sl__match_lower(p, &re, &flags, err);
        if (rc == SL_OK) {
            rc = check_one(p, re.ptr, flags, &min_width, err);
        }
        sl__buf_free(&re);
        full = rc == SL_OK && min_width == 0;
        if (rc == SL_OK && !full && hint && min_width < UINT_MAX) {
            *hint = min_width + 1; /* what check_one would find again */
        }
    }
    if (full) {
        sl_patset *set = NULL;
        rc = sl_patset_compile(p, 1, &set, err);
        sl_patset_free(set);
    }
    return rc;
}

/* Compile exprs[i], i in sel[0, m), into *db (Vectorscan ids: hsids),
 * through the cache in cache_dir (NULL: none). */
static sl_status compile_db(const sl_pat *pats, const char **exprs,
                            const unsigned *flags, const unsigned *hsids,
                            const size_t *sel, size_t m, const char *cache_dir,
                            hs_database_t **db, size_t *bad, sl_error *err) {
    const char **e = sl__alloc(m * sizeof(*e));
    unsigned *f = sl__alloc(m * sizeof(*f));
    unsigned *ids = sl__alloc(m * sizeof(*ids));
    hs_compile_error_t *cerr = NULL;
    sl_status rc = SL_OK;
    if (!e || !f || !ids) {
        rc = sl__nomem(err);
        goto done;
    }
    for (size_t k = 0; k < m; k++) {
        e[k] = exprs[sel[k]];
        f[k] = flags[sel[k]];
        ids[k] = hsids[sel[k]];
    }
    if (sl__match_compile_multi(cache_dir, e, f, ids, (unsigned)m, db, &cerr) !=
        HS_SUCCESS) {
        const char *msg = cerr ? cerr->message : "rejected by vectorscan";
        if (cerr && cerr->expression >= 0 && (size_t)cerr->expression < m) {
            size_t i = ids[cerr->expression];
            if (bad) {
                *bad = i;
            }
            rc = sl__match_pattern_error(err, &pats[i], msg);
        } else {
            rc = sl__error(err, SL_EPATTERN, NULL, "pattern set rejected: %s",
                           msg);
        }
        *db = NULL;
    }
done:
    hs_free_compile_error(cerr);
    sl__free(e, m * sizeof(*e));
    sl__free(f, m * sizeof(*f));
    sl__free(ids, m * sizeof(*ids));
    return rc;
}

/* Split the nhs Vectorscan patterns by whether a required literal is
 * known (prefilter.c): those with one go to set->fdb behind set->pf, the
 * others (and every span pattern) to set->db, scanned every time. Each database
 * also records the shortest value it can match (the least min_width of its
 * patterns). */
static sl_status compile_split(sl_patset *set, const sl_pat *pats,
                               const char **exprs, const unsigned *flags,
                               const unsigned *hsids, const unsigned *widths,
                               size_t nhs, sl__req *reqs, const char *cache_dir,
                               size_t *bad, sl_error *err) {
    size_t *sel = sl__alloc(nhs * sizeof(*sel));
    if (!sel) {
        return sl__nomem(err);
    }
    size_t nf = 0, na = nhs; /* filtered from the front, others from the back */
    set->min_db = set->min_fdb = SIZE_MAX;
    for (size_t k = 0; k < nhs; k++) {
        char lit[SL_GRAM_MAX];
        bool anch = false;
        /* span patterns (value detectors over free text) skip it: on the
         * redaction detectors' short literal prefixes the prefilter cost
         * ~1,400 instructions per value of <= 32 bytes, hs_scan ~170 */
        size_t len = (flags[k] & HS_FLAG_SOM_LEFTMOST)
                         ? 0
                         : sl__match_required(exprs[k], strlen(exprs[k]), &anch,
                                              lit, sizeof(lit));
        if (len > 0) {
            sl__req *r = &reqs[nf];
            r->len = (uint8_t)(len < SL_GRAM_MAX ? len : SL_GRAM_MAX);
            r->anchored = anch;
            memcpy(r->lit, lit, r->len);
            sel[nf++] = k;
            set->min_fdb = widths[k] < set->min_fdb ? widths[k] : set->min_fdb;
        } else {
            sel[--na] = k;
            set->min_db = widths[k] < set->min_db ? widths[k] : set->min_db;
        }
    }
    sl_status rc = SL_OK, rca = SL_OK;
    size_t badf = SIZE_MAX, bada = SIZE_MAX;
    sl_error ea = {0};
    if (nf > 0) {
        rc = sl__prefilter_build(reqs, nf, &set->pf);
        rc = rc == SL_OK ? compile_db(pats, exprs, flags, hsids, sel, nf,
                                      cache_dir, &set->fdb, &badf, err)
                         : sl__nomem(err);
    }
    if (rc != SL_ENOMEM && na < nhs) {
        rca = compile_db(pats, exprs, flags, hsids, sel + na, nhs - na,
                         cache_dir, &set->db, &bada, &ea);
    }
    sl__free(sel, nhs * sizeof(*sel));
    /* both rejected: name the first bad pattern, as one database would */
    if (rca != SL_OK && (rc == SL_OK || (rca == SL_ENOMEM && rc != rca) ||
                         (rc != SL_ENOMEM && bada < badf))) {
        rc = rca;
        badf = bada;
        if (err) {
            *err = ea;
        }
    }
    if (bad && rc != SL_OK) {
        *bad = badf;
    }
    return rc;
}

sl_status sl_patset_compile(const sl_pat *pats, size_t n, sl_patset **out,
                            sl_error *err) {
    return sl_patset_compile_report(pats, n, out, NULL, err);
}

sl_status sl_patset_compile_report(const sl_pat *pats, size_t n,
                                   sl_patset **out, size_t *bad,
                                   sl_error *err) {
    return sl__patset_compile_cached(pats, n, NULL, NULL, out, bad, err);
}

sl_status sl__patset_compile_cached(const sl_pat *pats, size_t n,
                                    const char *cache_dir,
                                    const unsigned *hints, sl_patset **out,
                                    size_t *bad, sl_error *err) {
    if (bad) {
        *bad = SIZE_MAX;
    }
    if (!out || (!pats && n > 0)) {
        return sl__error(err, SL_EINVAL, NULL, "no output or no patterns");
    }
    if (n > SL_PATSET_MAX) {
        return sl__error(err, SL_ELIMIT, NULL,
                         "too many patterns in one set (%zu, limit %u)", n,
                         (unsigned)SL_PATSET_MAX);
    }
    sl_buf text = {0};
    size_t *offs = NULL;
    const char **exprs = NULL;
    unsigned *flags = NULL, *hsids = NULL, *widths = NULL;
    sl__req *reqs = NULL;
    sl_status rc = SL_OK;
    sl_patset *set = sl__calloc(1, sizeof(*set));
    if (!set) {
        return sl__nomem(err);
    }
    set->n = n;
    if (n == 0) {
        *out = set;
        return SL_OK;
    }
    set->ids = sl__alloc(n * sizeof(*set->ids));
    set->spans = sl__calloc(n, 1);
    offs = sl__alloc(n * sizeof(*offs));
    exprs = sl__alloc(n * sizeof(*exprs));
    flags = sl__alloc(n * sizeof(*flags));
    hsids = sl__alloc(n * sizeof(*hsids));
    widths = sl__alloc(n * sizeof(*widths));
    reqs = sl__alloc(n * sizeof(*reqs));
    if (!set->ids || !set->spans || !offs || !exprs || !flags || !hsids ||
        !widths || !reqs) {
        rc = sl__nomem(err);
        goto done;
    }
    size_t nhs = 0; /* patterns for Vectorscan, compacted to the front */
    bool any_lit = false;
    for (size_t i = 0; i < n; i++) {
        set->ids[i] = pats[i].id;
        set->spans[i] = (pats[i].flags & SL_PAT_SPANS) != 0;
        set->any_spans |= set->spans[i] != 0;
        if (sl__lit_handles(&pats[i])) {
            if (pats[i].len > SL_PAT_MAX_LEN) {
                sl__match_pattern_error(err, &pats[i], "pattern too long");
                rc = SL_ELIMIT;
                if (err) {
                    err->code = SL_ELIMIT;
                }
            } else if (!pats[i].text && pats[i].len > 0) {
                rc = sl__error(err, SL_EINVAL, &pats[i].where,
                               "pattern has no text");
            } else if (pats[i].len == 0 &&
                       !(pats[i].flags & SL_PAT_ALLOWEMPTY)) {
                rc = sl__match_pattern_error(err, &pats[i], EMPTY_MSG);
            }
            if (rc != SL_OK) {
                if (bad) {
                    *bad = i;
                }
                goto done;
            }
            any_lit = true;
            continue;
        }
        offs[nhs] = text.len;
        rc = sl__match_lower(&pats[i], &text, &flags[nhs], err);
        if (rc != SL_OK) {
            if (bad && rc != SL_ENOMEM) {
                *bad = i;
            }
            goto done;
        }
        hsids[nhs++] = (unsigned)i;
    }
    for (size_t k = 0; k < nhs; k++) {
        exprs[k] = text.ptr + offs[k];
        if (hints && hints[hsids[k]] > 0) {
            widths[k] = hints[hsids[k]] - 1; /* checked before: same text */
            continue;
        }
        rc = check_one(&pats[hsids[k]], exprs[k], flags[k], &widths[k], err);
        if (rc != SL_OK) {
            if (bad) {
                *bad = hsids[k];
            }
            goto done;
        }
    }
    if (any_lit) {
        rc = sl__lit_build(pats, n, &set->lit);
        if (rc != SL_OK) {
            rc = rc == SL_ENOMEM
                     ? sl__nomem(err)
                     : sl__error(err, rc, NULL, "too many literal patterns");
            goto done;
        }
    }
    if (nhs > 0) {
        rc = compile_split(set, pats, exprs, flags, hsids, widths, nhs, reqs,
                           cache_dir, bad, err);
    }
done:
    sl__free(widths, n * sizeof(*widths));
    sl__free(reqs, n * sizeof(*reqs));
    sl__free(offs, n * sizeof(*offs));
    sl__free(exprs, n * sizeof(*exprs));
    sl__free(flags, n * sizeof(*flags));
    sl__free(hsids, n * sizeof(*hsids));
    sl__buf_free(&text);
    if (rc != SL_OK) {
        sl_patset_free(set);
        return rc;
    }
    *out = set;
    return SL_OK;
}

void sl_patset_free(sl_patset *set) {
    if (!set) {
        return;
    }
    hs_free_database(set->db);
    hs_free_database(set->fdb);
    sl__prefilter_free(set->pf);
    sl__lit_free(set->lit);
    sl__free(set->ids, set->n * sizeof(*set->ids));
    sl__free(set->spans, set->n);
    sl__free(set, sizeof(*set));
}

size_t sl_patset_count(const sl_patset *set) {
    return set ? set->n : 0;
}

sl_status sl_scratch_reserve(sl_scratch **scratch, const sl_patset *set) {
    if (!scratch || !set) {
        return SL_EINVAL;
    }
    sl_scratch *s = *scratch;
    bool fresh = false;
    if (!s) {
        s = sl__calloc(1, sizeof(*s));
        if (!s) {
            return SL_ENOMEM;
        }
        fresh = true;
    }
    if (set->db || set->fdb) {
        /* grows s->hs in place to fit set, or allocates it when NULL */
        if ((set->db && hs_alloc_scratch(set->db, &s->hs) != HS_SUCCESS) ||
            (set->fdb && hs_alloc_scratch(set->fdb, &s->hs) != HS_SUCCESS)) {
            if (fresh) {
                sl_scratch_free(s);
            }
            return SL_ENOMEM;
        }
    }
    *scratch = s;
    return SL_OK;
}

void sl_scratch_free(sl_scratch *scratch) {
    if (!scratch) {
        return;
    }
    hs_free_scratch(scratch->hs);
    sl__free(scratch->buf, scratch->cap * sizeof(*scratch->buf));
    sl__free(scratch, sizeof(*scratch));
}

typedef struct scan_ctx {
    const sl_patset *set;
    sl_scratch *scratch;
    sl_match_fn fn;
    void *ctx;
    sl_status rc;
    bool stopped;
} scan_ctx;

static int span_by_idx(const void *x, const void *y) {
    const span *a = x, *b = y;
    if (a->idx != b->idx) {
        return a->idx < b->idx ? -1 : 1;
    }
    if (a->from != b->from) {
        return a->from < b->from ? -1 : 1;
    }
    return a->to < b->to ? -1 : a->to > b->to;
}

static int span_by_from(const void *x, const void *y) {
    const span *a = x, *b = y;
    if (a->from != b->from) {
        return a->from < b->from ? -1 : 1;
    }
    if (a->idx != b->idx) {
        return a->idx < b->idx ? -1 : 1;
    }
    return a->to < b->to ? -1 : a->to > b->to;
}

/* Merge overlapping spans of the same pattern, in place; the result is
 * sorted by (pattern, from). Merging is idempotent, so it also serves to
 * compact the buffer in the middle of a scan. */
static void merge_spans(sl_scratch *s) {
    if (s->len == 0) {
        return;
    }
    qsort(s->buf, s->len, sizeof(*s->buf), span_by_idx);
    size_t w = 0;
    for (size_t i = 1; i < s->len; i++) {
        span *cur = &s->buf[w];
        const span *nx = &s->buf[i];
        bool same = nx->idx == cur->idx &&
                    (nx->from < cur->to || nx->from == cur->from ||
                     (nx->from == cur->to && nx->to == nx->from));
        if (same) {
            if (nx->to > cur->to) {
                cur->to = nx->to;
            }
        } else {
            s->buf[++w] = *nx;
        }
    }
    s->len = w + 1;
}

static bool push_span(scan_ctx *c, unsigned idx, unsigned long long from,
                      unsigned long long to) {
    sl_scratch *s = c->scratch;
    if (s->len == s->cap) {
        merge_spans(s);
        if (s->len > s->cap / 2 || s->cap == 0) {
            size_t cap = s->cap ? s->cap * 2 : 64;
            if (cap > SL_SPAN_MAX) {
                if (s->len < s->cap) {
                    goto put;
                }
                c->rc = SL_ELIMIT;
                return false;
            }
            span *b =
                sl__realloc(s->buf, s->cap * sizeof(*b), cap * sizeof(*b));
            if (!b) {
                c->rc = SL_ENOMEM;
                return false;
            }
            s->buf = b;
            s->cap = cap;
        }
    }
put:
    s->buf[s->len++] = (span){(uint32_t)idx, from, to};
    return true;
}

static int on_lit(uint32_t idx, size_t from, size_t to, void *ctx) {
    scan_ctx *c = ctx;
    if (c->set->spans[idx]) {
        return push_span(c, idx, from, to) ? 0 : 1;
    }
    if (c->fn(c->set->ids[idx], 0, to, c->ctx) != 0) {
        c->stopped = true;
        return 1;
    }
    return 0;
}

static int on_match(unsigned int idx, unsigned long long from,
                    unsigned long long to, unsigned int flags, void *ctx) {
    SL_UNUSED(flags);
    scan_ctx *c = ctx;
    if (c->set->spans[idx]) {
        return push_span(c, idx, from, to) ? 0 : 1;
    }
    if (c->fn(c->set->ids[idx], 0, (size_t)to, c->ctx) != 0) {
        c->stopped = true;
        return 1;
    }
    return 0;
}

sl_status sl_patset_scan(const sl_patset *set, const char *s, size_t len,
                         sl_scratch *scratch, sl_match_fn fn, void *ctx) {
    if (!set || !fn || (!s && len > 0)) {
        return SL_EINVAL;
    }
    if (set->n == 0) {
        return SL_OK; /* the empty set matches nothing */
    }
    if (!scratch || ((set->db || set->fdb) && !scratch->hs)) {
        return SL_EINVAL;
    }
    if (len > UINT_MAX) {
        return SL_ELIMIT; /* hs_scan takes an unsigned int length */
    }
    scan_ctx c = {set, scratch, fn, ctx, SL_OK, false};
    scratch->len = 0;
    if (!s) {
        s = "";
    }
    hs_error_t hr = HS_SUCCESS;
    if (set->lit && sl__lit_scan(set->lit, s, len, on_lit, &c) != 0) {
        hr = HS_SCAN_TERMINATED;
    }
    if (hr == HS_SUCCESS && set->db && len >= set->min_db) {
        hr = hs_scan(set->db, s, (unsigned)len, 0, scratch->hs, on_match, &c);
    }
    /* the prefilter pays while hs_scan's fixed cost dominates; past
     * SL_PREFILTER_MAX_VALUE bytes its own walk would cost more */
    if (hr == HS_SUCCESS && set->fdb && len >= set->min_fdb &&
        (len > SL_PREFILTER_MAX_VALUE ||
         sl__prefilter_may_match(set->pf, s, len))) {
        hr = hs_scan(set->fdb, s, (unsigned)len, 0, scratch->hs, on_match, &c);
    }
    if (hr == HS_SCAN_TERMINATED) {
        if (c.rc != SL_OK) {
            scratch->len = 0;
            return c.rc;
        }
        if (c.stopped) {
            scratch->len = 0;
            return SL_OK;
        }
    } else if (hr == HS_NOMEM) {
        return SL_ENOMEM;
    } else if (hr != HS_SUCCESS) {
        return SL_EINVAL; /* scratch too small for set, or in use */
    }
    if (scratch->len > 0) {
        merge_spans(scratch);
        qsort(scratch->buf, scratch->len, sizeof(*scratch->buf), span_by_from);
        for (size_t i = 0; i < scratch->len; i++) {
            const span *sp = &scratch->buf[i];
            if (fn(set->ids[sp->idx], (size_t)sp->from, (size_t)sp->to, ctx) !=
                0) {
                break;
            }
        }
        scratch->len = 0;
    }
    return SL_OK;
}

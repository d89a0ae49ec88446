/* src/match/private.h: what the match module's files share and nobody else
 * sees: limits, the lowering of one sl_pat to Vectorscan regex text, and the
 * helpers that build error messages. */
#ifndef SL_MATCH_PRIVATE_H
#define SL_MATCH_PRIVATE_H

#include <sluice/match.h>

#include <hs/hs.h>

#include "base/base.h"
#include "base/gramset.h"

enum {
    SL_PAT_MAX_LEN = 1u << 16,      /* bytes of one pattern's text */
    SL_PATSET_MAX = 1u << 20,       /* patterns in one set */
    SL_GLOB_MAX_NEST = 32,          /* nesting of {a,{b,c}} groups */
    SL_SPAN_MAX = 1u << 21,         /* span matches buffered by one scan */
    SL_REGEX_MAX_OUT = 1u << 30,    /* bytes one replace may produce */
    SL_REGEX_MATCH_LIMIT = 1000000, /* PCRE2 backtracking steps per match */
    /* values longer than this skip the prefilter: it walks ~1 ns a byte,
     * hs_scan costs 30-45 ns + ~0.1 ns a byte; measured on 4 to 1,250
     * patterns the two meet at 36-48 bytes */
    SL_PREFILTER_MAX_VALUE = 32
};

/* Append the Vectorscan regex for p (NUL-terminated) to out and set *hs_flags
 * to the compile flags it needs. The regex text of p->kind == SL_PAT_REGEX is
 * copied as is. Fails with SL_EPATTERN (bad glob, NUL byte in a regex,
 * text too long: message filled, position p->where) or SL_ENOMEM. */
sl_status sl__match_lower(const sl_pat *p, sl_buf *out, unsigned *hs_flags,
                          sl_error *err);

/* Fill err with the message every rejected pattern gets:
 * `invalid regex "<text>": <why>` (the word after "invalid" names the
 * kind), the pattern quoted in full when the message has room for it, else
 * cut on a UTF-8 boundary so `why` still fits. Returns SL_EPATTERN. */
sl_status sl__match_pattern_error(sl_error *err, const sl_pat *p,
                                  const char *why);

/* The kind's word in messages: "regex", "glob", "exact" ... */
const char *sl__match_kind_name(sl_pat_kind kind);

/* Glob translation with the error left as a bare reason (no pattern quoted),
 * so callers can word the message: sl_glob_to_regex and the lowering both
 * use it. On SL_EPATTERN *why is a static string or points into whybuf. */
sl_status sl__glob_translate(const char *glob, size_t len, unsigned flags,
                             sl_buf *out, const char **why, char *whybuf,
                             size_t whycap);

/* ---- the database cache (cache.c) ---- */
/* hs_compile_multi in HS_MODE_BLOCK for the host platform, through the
 * cache in cache_dir (NULL or "": none): a database stored under the same
 * key is loaded instead of compiled, and one compiled is stored. Same
 * results and errors as hs_compile_multi. */
hs_error_t sl__match_compile_multi(const char *cache_dir, const char *const *e,
                                   const unsigned *f, const unsigned *ids,
                                   unsigned n, hs_database_t **db,
                                   hs_compile_error_t **cerr);

/* ---- exact / prefix / suffix patterns (littrie.c) ---- */
typedef struct sl__lit sl__lit;
/* Called per literal match with the pattern's index; non-zero stops. */
typedef int (*sl__lit_fn)(uint32_t index, size_t from, size_t to, void *ctx);
/* Whether p is matched by the tries rather than by Vectorscan. */
bool sl__lit_handles(const sl_pat *p);
/* Build tries over the patterns of pats that sl__lit_handles (indices are
 * positions in pats). SL_OK, SL_ENOMEM or SL_ELIMIT. */
sl_status sl__lit_build(const sl_pat *pats, size_t n, sl__lit **out);
void sl__lit_free(sl__lit *t);
bool sl__lit_empty(const sl__lit *t);
/* Report every literal match in s; returns what the stopping fn returned,
 * else 0. No allocation. */
int sl__lit_scan(const sl__lit *t, const char *s, size_t len, sl__lit_fn fn,
                 void *ctx);

/* ---- prefilter of the Vectorscan patterns (prefilter.c) ---- */
typedef struct sl__prefilter sl__prefilter;
/* A literal every match of one pattern contains: its first len bytes
 * (1..SL_GRAM_MAX); anchored = the literal starts every match at offset 0
 * of the value. */
typedef struct sl__req {
    unsigned char lit[SL_GRAM_MAX];
    uint8_t len;
    bool anchored;
} sl__req;
/* Read the lowered regex re[0, n) and find the best literal every match
 * must contain (the longest top-level run of literal bytes, counting up to
 * SL_GRAM_MAX bytes, one that must start the value winning ties). Copies
 * up to cap of its bytes to out and returns its length (runs longer than
 * 64 bytes count as 64), 0 when no literal is certain (then out is
 * untouched). *anchored tells whether it must start the value. Never
 * allocates. */
size_t sl__match_required(const char *re, size_t n, bool *anchored, char *out,
                          size_t cap);
/* A prefilter over n literals. SL_OK, SL_ENOMEM, SL_EINVAL (a len out of
 * range). */
sl_status sl__prefilter_build(const sl__req *reqs, size_t n,
                              sl__prefilter **out);
void sl__prefilter_free(sl__prefilter *pf);
/* False when s contains none of the literals (where anchored ones must
 * start it), so no filtered pattern can match; true when one may. */
bool sl__prefilter_may_match(const sl__prefilter *pf, const char *s,
                             size_t len);

#endif

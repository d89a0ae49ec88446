/* src/match/cached.h: pattern sets compiled through the database cache
 * (cache.c) and with what an earlier check of their patterns learnt, for
 * the policy loader (policy/load.c checks each regex, policy/compile.c
 * compiles them: sl_policy_opts.regex_cache). Internal: both are
 * properties of one load, not of the public sl_patset API. */
#ifndef SL_MATCH_CACHED_H
#define SL_MATCH_CACHED_H

#include <sluice/match.h>

/* sl_pat_check that also tells what the check learnt, for a later
 * compile of the same pattern: *hint = its shortest match + 1 when the
 * check parsed it with Vectorscan alone and it passed, else 0 (unknown). */
sl_status sl__pat_check_width(const sl_pat *p, unsigned *hint, sl_error *err);

/* sl_patset_compile_report, with the Vectorscan databases loaded from or
 * stored to cache_dir (NULL or "": no cache; created, one level, when
 * missing). A hit gives the same set as a compile; a missing, stale or
 * corrupt file is compiled anew and replaced; a failure to read or write
 * the cache is never an error. hints: NULL, or n values of
 * sl__pat_check_width for the same patterns (0: unknown): a pattern with
 * a hint is not parsed again (Vectorscan's parse is most of a set's cost
 * once its database comes from the cache). Same returns as
 * sl_patset_compile_report. */
sl_status sl__patset_compile_cached(const sl_pat *pats, size_t n,
                                    const char *cache_dir,
                                    const unsigned *hints, sl_patset **out,
                                    size_t *bad, sl_error *err);

#endif

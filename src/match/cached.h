/* src/match/cached.h: pattern sets compiled through the database cache
 * (cache.c), for the modules that offer it as an option (policy/
 * compile.c: sl_policy_opts.regex_cache). Internal: the cache is a
 * property of a compile, not of the public sl_patset API. */
#ifndef SL_MATCH_CACHED_H
#define SL_MATCH_CACHED_H

#include <sluice/match.h>

/* sl_patset_compile_report, with the Vectorscan databases loaded from or
 * stored to cache_dir (NULL or "": no cache; created, one level, when
 * missing). A hit gives the same set as a compile; a missing, stale or
 * corrupt file is compiled anew and replaced; a failure to read or write
 * the cache is never an error. Same returns as
 * sl_patset_compile_report. */
sl_status sl__patset_compile_cached(const sl_pat *pats, size_t n,
                                    const char *cache_dir, sl_patset **out,
                                    size_t *bad, sl_error *err);

#endif

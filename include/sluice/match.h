/* include/sluice/match.h: pattern sets: many patterns, one pass. Owns sl_pat,
 * sl_patset, sl_scratch, the selector dialect (glob / regex / literal) and
 * sl_regex (PCRE2 regex replace with $1 / ${name} templates). No Vectorscan
 * or PCRE2 type appears here.
 *
 * Every front door compiles the patterns that look at one field into one
 * sl_patset and scans each value once, so the cost per value depends on the
 * value's length, not on the number of rules. */
#ifndef SLUICE_MATCH_H
#define SLUICE_MATCH_H

#include <stdbool.h>

#include <sluice/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a pattern's text means. */
typedef enum sl_pat_kind {
    SL_PAT_EXACT = 0,    /* the whole value equals text (bytes) */
    SL_PAT_PREFIX = 1,   /* the value starts with text */
    SL_PAT_SUFFIX = 2,   /* the value ends with text */
    SL_PAT_CONTAINS = 3, /* text occurs anywhere in the value */
    SL_PAT_REGEX = 4,    /* Vectorscan (PCRE-like) regex, unanchored search;
                            byte semantics (no UTF-8 mode); `$` also matches
                            before a final "\n", as in PCRE */
    SL_PAT_GLOB = 5      /* anchored glob, translated by sl_glob_to_regex */
} sl_pat_kind;

typedef enum sl_pat_flags {
    SL_PAT_CASELESS = 1u << 0,   /* ASCII case-insensitive */
    SL_PAT_ALLOWEMPTY = 1u << 1, /* accept patterns that match "". Without
                                    it, as upstream, a pattern is rejected
                                    when it can match "" unanchored (`x*`,
                                    contains "") or can only match ""
                                    (`^$`, exact/prefix/suffix ""); anchored
                                    patterns that may match "" as well as
                                    more (`^.*$`, glob `*`) are valid */
    SL_PAT_SPANS = 1u << 2,      /* report match ranges (see scan); cannot
                                    be combined with patterns that match
                                    "" (Vectorscan has no start of match
                                    for them) */
    SL_PAT_GLOB_PATH = 1u << 3   /* glob: '*' and '?' never cross '/' */
} sl_pat_flags;

/** One pattern. All fields are read during compile only (text is copied). */
typedef struct sl_pat {
    sl_pat_kind kind;
    unsigned flags;   /* sl_pat_flags */
    const char *text; /* len bytes, UTF-8 */
    size_t len;
    uint32_t id;  /* reported on match; ids may repeat across patterns */
    sl_pos where; /* where the pattern was written, for errors */
} sl_pat;

typedef struct sl_patset sl_patset;
typedef struct sl_scratch sl_scratch;

/** Check one pattern alone: syntax (Vectorscan's parser) and the empty-match
 * rule; a database is built only when that alone can decide (patterns that
 * can match "", spans). Loaders call this to reject one bad rule and keep
 * the rest; a set too large for Vectorscan shows only when compiled (see
 * sl_patset_compile_report).
 * @return SL_OK, SL_EPATTERN (err: `invalid <kind> "<pat>": <message>` at
 *         p->where, <kind> being regex, glob, exact, prefix, suffix or
 *         contains, <message> Vectorscan's own; the pattern is quoted in
 *         full unless the message would overflow, then cut with "..."),
 *         SL_ELIMIT (text above 64 KiB), SL_ENOMEM, SL_EINVAL. */
SL_API sl_status sl_pat_check(const sl_pat *p, sl_error *err);

/** Compile patterns into one set, scanned in a single pass. Vectorscan's
 * own allocations (database, scratch) use its default allocator, not the
 * sl_set_allocator hook.
 * @param pats  n patterns, copied; may be NULL only when n is 0 (an empty
 *              set matches nothing). At most 2^20 patterns.
 * @param out   on SL_OK a new set, owned: free with sl_patset_free().
 * @param err   may be NULL; on SL_EPATTERN it carries the pattern's `where`.
 * @return SL_OK, SL_EPATTERN, SL_ELIMIT, SL_ENOMEM or SL_EINVAL.
 * Thread safety: the set is immutable; scan from many threads, one
 * sl_scratch each. */
SL_API sl_status sl_patset_compile(const sl_pat *pats, size_t n,
                                   sl_patset **out, sl_error *err);

/** sl_patset_compile, also saying which pattern made the set fail, so the
 * caller can drop it and compile the rest again.
 * @param bad  may be NULL; set to the index of the rejected pattern on
 *             SL_EPATTERN / SL_ELIMIT for one pattern, else to SIZE_MAX.
 * @return as sl_patset_compile. */
SL_API sl_status sl_patset_compile_report(const sl_pat *pats, size_t n,
                                          sl_patset **out, size_t *bad,
                                          sl_error *err);

/** Free a set. NULL is a no-op. */
SL_API void sl_patset_free(sl_patset *set);

/** Number of patterns in a set. */
SL_API size_t sl_patset_count(const sl_patset *set);

/** Make *scratch big enough for set (allocating it when *scratch is NULL;
 * Vectorscan grows the existing scratch in place). One scratch serves any
 * number of sets; allocate it once per thread, reserve it for every set
 * that thread scans, and never while a scan is using it.
 * @return SL_OK, SL_ENOMEM (*scratch unchanged), SL_EINVAL (NULL scratch
 *         pointer or set). */
SL_API sl_status sl_scratch_reserve(sl_scratch **scratch, const sl_patset *set);

/** Free a scratch. NULL is a no-op. */
SL_API void sl_scratch_free(sl_scratch *scratch);

/** Called for each match: pattern id, and the match's byte range (from is
 * 0 unless the pattern had SL_PAT_SPANS). Return non-zero to stop. */
typedef int (*sl_match_fn)(uint32_t id, size_t from, size_t to, void *ctx);

/** Scan one value. Each pattern without SL_PAT_SPANS reports at most once,
 * during the scan, with from = 0 and to = the end of its first match.
 * Patterns with SL_PAT_SPANS report after the scan, in order of from: for
 * each pattern, its matches (each from its leftmost start) with overlapping
 * ones merged into one span, so spans of one pattern are disjoint and every
 * matched byte lies in one ("abcd" with `ab|bcd|cd` gives [0,4): a masker
 * must not leave "cd" visible; adjacent matches stay apart: `ab` on "abab"
 * gives [0,2) and [2,4)). Ids are reported per pattern, so an id shared by
 * two matching patterns is reported twice.
 * @param s        len bytes; NULL allowed when len is 0.
 * @param scratch  reserved for set with sl_scratch_reserve(); may be NULL
 *                 only for an empty set. Span matches are buffered in it
 *                 (it grows when needed, never shrinks: no allocation per
 *                 scan once warm).
 * @return SL_OK (also when fn stopped the scan), SL_EINVAL (NULL set or fn,
 *         scratch missing, too small or in use), SL_ENOMEM, SL_ELIMIT (len
 *         above UINT_MAX, or more than 2M disjoint spans in one value).
 * Thread safety: concurrent scans need distinct scratches. */
SL_API sl_status sl_patset_scan(const sl_patset *set, const char *s, size_t len,
                                sl_scratch *scratch, sl_match_fn fn, void *ctx);

/* ---- the selector dialect (trace filters, redaction keys) ---- */

/** Split a selector's match-type prefix: "glob:", "regex:" or "literal:"
 * (-> SL_PAT_EXACT) select the kind; text without a colon gets def. As the
 * reference parser, text with a colon must start with a match type, so a
 * pattern containing ':' states its type ("glob:a:b"); everything after
 * the first colon is the pattern. out->text/len point into text
 * (borrowed); out->kind is set; flags, id and where are left as they were
 * (where positions the errors).
 * @return SL_OK, SL_EINVAL (NULL out, or NULL text with len > 0) or
 *         SL_EPATTERN: `selector pattern cannot be empty`,
 *         `selector match type cannot be empty`,
 *         `unsupported selector match type 'x'`. */
SL_API sl_status sl_pat_parse(const char *text, size_t len, sl_pat_kind def,
                              sl_pat *out, sl_error *err);

/** Translate an anchored glob to the regex dialect and append it to out
 * (^...\z, NUL-terminated; nothing is appended on failure). Semantics of
 * Rust globset 0.4.17, as the trace-filter reference uses it: '*' any run,
 * '?' one UTF-8 character (neither crosses '/' with SL_PAT_GLOB_PATH);
 * '**' crosses '/' only as a whole path component: `**` + `/x` (also
 * matches "x"), `x/` + `**` (everything below x, not x itself),
 * `a/` + `**` + `/b` (zero or more directories), a lone `**` (everything);
 * elsewhere it acts as '*'. '[...]', '[!...]' and '[^...]' classes of
 * characters (']' first is literal, '-' first or last is literal; classes
 * may match '/'), '{a,b}' alternation (nestable; empty alternatives are
 * dropped, so "{a,}" matches only "a"), '\\' escapes the next character.
 * '.' is not special. SL_PAT_CASELESS is not rendered: pass it as a
 * pattern flag.
 * @return SL_OK, SL_EINVAL, SL_EPATTERN (unclosed class or group, unopened
 *         group, reversed range, dangling '\\', invalid UTF-8: message
 *         `invalid glob "<glob>": <reason>`, no position), SL_ELIMIT
 *         (longer than 64 KiB, groups nested deeper than 32), SL_ENOMEM. */
SL_API sl_status sl_glob_to_regex(const char *glob, size_t len, unsigned flags,
                                  sl_buf *out, sl_error *err);

/* ---- regex replace (PCRE2) ---- */

typedef struct sl_regex sl_regex;

/** Compile a regex for replacement and search, with PCRE2 (UTF-8, JIT when
 * available). Rust regex crate syntax and meaning for what the two share:
 * (?P<n>...) and (?<n>...) groups, inline flags such as (?i), Unicode-aware
 * \d \w \s, `$` only at the end of the text (not before a final "\n").
 * Subjects need not be valid UTF-8.
 * @param pat    len bytes (at most 64 KiB), copied.
 * @param flags  SL_PAT_CASELESS or 0.
 * @param out    on SL_OK a new regex, owned: free with sl_regex_free().
 * @return SL_OK, SL_EPATTERN (err: `invalid regex "<pat>": <PCRE2 message>
 *         at offset N`, no position: callers prefix their own), SL_ELIMIT,
 *         SL_ENOMEM, SL_EINVAL. Immutable once built. */
SL_API sl_status sl_regex_compile(const char *pat, size_t len, unsigned flags,
                                  sl_regex **out, sl_error *err);

/** Free a regex. NULL is a no-op. */
SL_API void sl_regex_free(sl_regex *re);

/** Replace every non-overlapping match of re in s with tmpl, appending the
 * result to out, exactly as Rust's Regex::replace_all. Template: `$name` takes
 * the longest run of [_0-9A-Za-z] as a group number (if all digits) or name,
 * so "$1a" is group "1a" (""), "${1}a" is group 1 then "a"; `${...}` takes
 * anything up to '}'; `$$` is '$'; a '$' starting no reference is kept;
 * a group that does not exist or did not take part gives "". $0 is the whole
 * match. An empty match right after the previous match is skipped by moving
 * one UTF-8 character on ("a*" on "baaac" with "-" gives "-b-c-").
 * @param count  out: number of replacements; may be NULL.
 * @return SL_OK, SL_ENOMEM, SL_ELIMIT (output above 1 GiB, or PCRE2's match
 *         or depth limit), SL_EINVAL. On failure out is as it was.
 * Thread safety: safe on one regex from many threads. Each regex keeps a
 * few match-data blocks in atomic slots, so calls allocate nothing per
 * record unless more threads than slots use one regex at the same time. */
SL_API sl_status sl_regex_replace(const sl_regex *re, const char *s, size_t len,
                                  const char *tmpl, size_t tlen, sl_buf *out,
                                  size_t *count, sl_error *err);

/** Whether re matches anywhere in s (false also for NULL re or an error
 * such as PCRE2's match limit). Thread safety as sl_regex_replace. */
SL_API bool sl_regex_search(const sl_regex *re, const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif

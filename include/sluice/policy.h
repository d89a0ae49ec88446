/* include/sluice/policy.h: telemetry policies: load, compile into an
 * immutable snapshot, evaluate, transform, sample, rate-limit, count.
 *
 * A policy file is `{"policies": [...]}` in JSON, YAML or TOML (one loader
 * over the document tree), in the Tero policy schema (proto v1.5.0, as
 * policy-rs 1.7 reads it: snake_case or camelCase keys, short or full enum
 * names). Loading keeps going past bad policies: each rejected policy is
 * left out and reported as a problem (`policy <id>: <signal>: ...`, with
 * its file:line:col), the valid ones keep working.
 *
 * The compiled set (sl_policy_set) is immutable and shared by any number
 * of threads; the only things that change in it are atomic counters and
 * the rate limiters' windows. A reload (sl_policy_reload) compiles a new
 * set that shares those with the old one by policy id, so the caller can
 * swap snapshots without losing counts or resetting rate windows. Each thread
 * evaluates through its own sl_policy_ctx, which holds the pattern scratch and
 * per-policy match counters, allocated once: evaluating a record allocates
 * nothing.
 *
 * Semantics: ../shared/spec/policy-engine.md made exact by
 * ../shared/reference/policy-engine-upstream.md §4 (policy-rs 1.7). */
#ifndef SLUICE_POLICY_H
#define SLUICE_POLICY_H

#include <stdbool.h>

#include <sluice/common.h>
#include <sluice/doc.h>
#include <sluice/match.h>
#include <sluice/otlp.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_policy_set sl_policy_set;
typedef struct sl_policy_ctx sl_policy_ctx;

/** Load options; {0} gives the defaults. */
typedef struct sl_policy_opts {
    sl_format format; /* for files: SL_FORMAT_AUTO picks by extension */
    /* Monotonic clock for rate limiters, in nanoseconds; NULL =
     * CLOCK_MONOTONIC. Tests plug in their own to step through windows. */
    uint64_t (*clock)(void *clock_ctx);
    void *clock_ctx;
    /* A directory of compiled Vectorscan databases (copied; NULL = none):
     * a pattern set compiled before, with the same patterns, flags,
     * Vectorscan version and CPU, is loaded from it instead of compiled,
     * and a new one is stored (created when missing; files verified on
     * load, corrupt or stale ones replaced; a cache that cannot be read
     * or written only costs the compile). Results never depend on it. */
    const char *regex_cache;
} sl_policy_opts;

/** Compile the policies of n parsed documents into one set.
 * A document whose root is not an object with a "policies" array fails the
 * whole load; a bad policy inside one is only left out and reported
 * (sl_policy_problem).
 * @param docs  n documents, borrowed during the call (everything needed is
 *              copied into the set).
 * @param opts  may be NULL.
 * @param out   on SL_OK a new set, owned: free with sl_policy_set_free().
 * @return SL_OK (possibly with problems), SL_ESCHEMA (not a policy
 *         document), SL_EINVAL, SL_ELIMIT, SL_ENOMEM.
 * Thread safety: reentrant. */
SL_API sl_status sl_policy_load(const sl_doc *const *docs, size_t n,
                                const sl_policy_opts *opts, sl_policy_set **out,
                                sl_error *err);

/** Read, parse and compile n policy files (as sl_doc_parse_file then
 * sl_policy_load).
 * @return SL_OK (possibly with problems), SL_EIO, the parse codes of
 *         sl_doc_load(), and those of sl_policy_load(). */
SL_API sl_status sl_policy_load_files(const char *const *paths, size_t n,
                                      const sl_policy_opts *opts,
                                      sl_policy_set **out, sl_error *err);

/** Reload: compile a new snapshot from n documents and carry prev's state
 * over to it, by policy id. For every policy whose id is in both sets the
 * new set shares prev's counters (sl_policy_stats) and, when the policy
 * limits the rate in both with the same limit and window and opts gives
 * the same clock as prev's, prev's rate-limiter window (its start and
 * count): a reload neither resets statistics nor lets a rate-limited
 * policy burst. A policy whose limit changed starts a fresh window (its
 * old count was measured against another limit); one that no longer
 * limits the rate drops the window. Policies only in prev are left out
 * (their counters stay readable through prev); new ids start at zero.
 * Problems are reported for the new files only, as sl_policy_load().
 *
 * Counts during the swap: state is shared, not copied. A thread still
 * evaluating through a context of prev counts into the same atomics the
 * new set reports and draws from the same rate window, before and after
 * the reload returns, until its context is freed: no count of a carried
 * policy is lost or counted twice, whenever it lands. Counts for
 * policies that are not carried land only in prev. Consequently
 * sl_policy_stats_get() on prev shows the new set's counts of carried
 * policies too, and sl_policy_stats_reset() on either set resets them
 * for both.
 *
 * Swapping: contexts belong to one set. To swap, reload, make a context
 * for the new set per evaluating thread (sl_policy_ctx_new), publish the
 * new set to them (the caller's atomic pointer or lock); each thread
 * switches between records, freeing its old context; when every context
 * of prev is freed, free prev with sl_policy_set_free(). prev stays
 * valid and usable throughout; a failed reload changes nothing, so the
 * caller keeps evaluating with prev.
 * @param prev  the snapshot being replaced, borrowed during the call (it
 *              must not be freed concurrently); NULL = sl_policy_load().
 * @param out   on SL_OK a new set, owned, independent of prev's lifetime.
 * @return as sl_policy_load(); on failure *out is untouched and prev is
 *         unchanged.
 * Thread safety: reentrant; other threads may evaluate with prev. */
SL_API sl_status sl_policy_reload(const sl_policy_set *prev,
                                  const sl_doc *const *docs, size_t n,
                                  const sl_policy_opts *opts,
                                  sl_policy_set **out, sl_error *err);

/** sl_policy_reload() from n policy files (parsed as
 * sl_policy_load_files() does).
 * @return as sl_policy_load_files(). */
SL_API sl_status sl_policy_reload_files(const sl_policy_set *prev,
                                        const char *const *paths, size_t n,
                                        const sl_policy_opts *opts,
                                        sl_policy_set **out, sl_error *err);

/** Free a set. NULL is a no-op. Every context made for it must be freed
 * first. */
SL_API void sl_policy_set_free(sl_policy_set *set);

/** Number of problems found while loading (rejected policies, unknown
 * top-level keys); each rejected policy may have several. */
SL_API size_t sl_policy_problem_count(const sl_policy_set *set);

/** Problem i, borrowed until the set is freed. Its message reads
 * `policy <id>: <signal>: ...` and it carries the file:line:col. */
SL_API const sl_error *sl_policy_problem(const sl_policy_set *set, size_t i);

/** Number of warnings: valid policies that probably do not do what their
 * author meant (a matcher on event_attribute or link_trace_id, which the
 * reference engines accept but never read, so it never sees a value). A
 * warning does not make the set unclean. */
SL_API size_t sl_policy_warning_count(const sl_policy_set *set);

/** Warning i, borrowed until the set is freed; message and location as
 * sl_policy_problem. */
SL_API const sl_error *sl_policy_warning(const sl_policy_set *set, size_t i);

/** Number of valid policies (all signals), in id order (byte-wise). */
SL_API size_t sl_policy_count(const sl_policy_set *set);

/** Id of valid policy i (NUL-terminated), borrowed until the set is freed;
 * NULL when out of range. */
SL_API const char *sl_policy_id(const sl_policy_set *set, size_t i);

/** Index of the valid policy with this id (NUL-terminated), SIZE_MAX when
 * there is none or set or id is NULL. Indexes change across reloads; ids
 * do not. */
SL_API size_t sl_policy_find(const sl_policy_set *set, const char *id);

/** The field kinds the policies of one signal read or change (matchers,
 * sample keys, transforms): bit k set for sl_field_kind k. What
 * sl_otlp_set_lazy() takes, so a lazy load builds only these fields.
 * 0 for NULL or when no policy has that signal. Fields an evaluation reads
 * beyond these (a trace's id for sampling) are still read correctly: the
 * batch then loads in full. */
SL_API uint64_t sl_policy_reads(const sl_policy_set *set, sl_signal sig);

/** Make o's later JSON loads lazy for set (on) or full (!on): the fast
 * pass is taken for every signal and builds exactly the fields set's
 * policies read (sl_policy_reads of each signal, to sl_otlp_set_lazy and
 * sl_otlp_set_lazy_signals). Call it again after a reload. What `sluice
 * apply` and `sluice serve` (JSON output) do. */
SL_API void sl_policy_lazy_load(const sl_policy_set *set, sl_otlp *o, bool on);

/** Signal of valid policy i (SL_SIGNAL_NONE when out of range). */
SL_API sl_signal sl_policy_signal(const sl_policy_set *set, size_t i);

/** Counters of one policy. hits/misses follow the upstream rule (record
 * kept: every matching policy gets a hit; dropped: the winner a hit, the
 * other matching policies a miss). The rest say what happened to the
 * records this policy won, so that kept + dropped + sampled_out +
 * rate_limited + transform_failed is the number of records it won, and
 * how many transform operations it applied to records that were kept.
 * A record whose transform fails is dropped (never written half
 * transformed) and counts as dropped for hits/misses. */
typedef struct sl_policy_stats {
    uint64_t hits, misses;
    uint64_t kept;             /* won and kept (keep all, or sampled in) */
    uint64_t dropped;          /* won with keep none / false / 0% */
    uint64_t sampled_out;      /* won, dropped by probability sampling */
    uint64_t rate_limited;     /* won, dropped by the rate limiter */
    uint64_t transformed;      /* transform operations that changed a record
                                  that was kept */
    uint64_t transform_failed; /* won and kept by the keep rule, then
                                  dropped by SL_POLICY_APPLY because a
                                  transform of a matching policy (or the
                                  span threshold write) could not finish */
} sl_policy_stats;

/** Read policy i's counters (a consistent-enough snapshot of atomics).
 * Out of range gives zeros. Thread safety: any thread, any time. */
SL_API void sl_policy_stats_get(const sl_policy_set *set, size_t i,
                                sl_policy_stats *out);

/** The transform stages of a log policy, in the order they run. */
typedef enum sl_policy_stage {
    SL_STAGE_REMOVE = 0,
    SL_STAGE_REDACT = 1,
    SL_STAGE_RENAME = 2,
    SL_STAGE_ADD = 3,
    SL_STAGE_COUNT = 4
} sl_policy_stage;

/** What each transform stage of a policy did (PolicySyncStatus's
 * TransformStageStatus), indexed by sl_policy_stage. Counted for records
 * the policy matched that were kept (transforms run only then), per
 * operation of the stage: a hit when it changed the record, a miss when it
 * selected nothing (field absent, regex without a match, add without
 * upsert on a present field, ...). A record whose transform failed counts
 * nothing here (it is counted in transform_failed). */
typedef struct sl_policy_stage_stats {
    uint64_t hits[SL_STAGE_COUNT];
    uint64_t misses[SL_STAGE_COUNT];
} sl_policy_stage_stats;

/** Read policy i's stage counters, like sl_policy_stats_get(). Out of
 * range gives zeros. Thread safety: any thread, any time. */
SL_API void sl_policy_stage_stats_get(const sl_policy_set *set, size_t i,
                                      sl_policy_stage_stats *out);

/** Set every counter of every policy to zero. */
SL_API void sl_policy_stats_reset(sl_policy_set *set);

/** What evaluation decided for one record. */
typedef enum sl_policy_decision {
    SL_DECISION_NO_MATCH = 0,    /* no policy matched: kept */
    SL_DECISION_KEEP = 1,        /* winner keeps all */
    SL_DECISION_DROP = 2,        /* winner keeps none */
    SL_DECISION_SAMPLE_KEEP = 3, /* probability sampling kept it */
    SL_DECISION_SAMPLE_DROP = 4, /* probability sampling dropped it */
    SL_DECISION_RATE_ALLOW = 5,  /* within the winner's rate limit */
    SL_DECISION_RATE_DENY = 6,   /* over the winner's rate limit */
    SL_DECISION_FAILED = 7       /* kept by the winner's rule, dropped
                                    because a transform failed (APPLY) */
} sl_policy_decision;

typedef struct sl_policy_result {
    sl_policy_decision decision;
    bool keep;           /* false for DROP, SAMPLE_DROP, RATE_DENY,
                            FAILED */
    size_t policy;       /* winner (index for sl_policy_id); SIZE_MAX if
                            none matched */
    uint32_t matched;    /* number of matching policies */
    uint32_t transforms; /* transform operations applied (APPLY only) */
} sl_policy_result;

/** Evaluation flags. */
typedef enum sl_policy_flags {
    SL_POLICY_DECIDE = 0, /* decide and count only; the record is not
                             touched */
    SL_POLICY_APPLY = 1   /* also act: drop it (sl_otlp_drop), apply log
                             transforms, write the span's sampling
                             threshold */
} sl_policy_flags;

/** A per-thread evaluation context for set, owned: free with
 * sl_policy_ctx_free() before the set.
 * @return SL_OK, SL_EINVAL, SL_ENOMEM. */
SL_API sl_status sl_policy_ctx_new(const sl_policy_set *set,
                                   sl_policy_ctx **out, sl_error *err);

/** Free a context. NULL is a no-op. */
SL_API void sl_policy_ctx_free(sl_policy_ctx *ctx);

/** Evaluate record i of a batch against the policies of the batch's
 * signal: match, pick the most restrictive winner (ties: smallest id),
 * decide keep / drop / sample / rate-limit, update counters, and with
 * SL_POLICY_APPLY carry the decision out on the batch.
 * @param res  may be NULL; filled on SL_OK and when a transform failed.
 * @return SL_OK, SL_EINVAL (index out of range, NULL argument), or the
 *         code of a transform that could not finish (SL_ENOMEM when it
 *         could not grow the batch, SL_ELIMIT when a redaction regex hit
 *         its match limit, ...): the record is then dropped so nothing
 *         half-redacted is ever written, res->decision is
 *         SL_DECISION_FAILED and the winner counts transform_failed.
 * Thread safety: one context per thread; the set may be shared. */
SL_API sl_status sl_policy_eval(sl_policy_ctx *ctx, sl_otlp *o, size_t i,
                                unsigned flags, sl_policy_result *res,
                                sl_error *err);

/** Evaluate every record of a batch with SL_POLICY_APPLY.
 * @return as sl_policy_eval(). */
SL_API sl_status sl_policy_apply(sl_policy_ctx *ctx, sl_otlp *o, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif

/* include/sluice/filter.h: trace filters for recorder hosts. Owns the filter
 * chain (TOML filter files and inline sources), scope resolution (trace or
 * skip a code object), value decisions (allow / redact / drop a variable),
 * the counters and the `trace_filter` metadata object. The recorder that
 * hosts the engine (the Python recorder) is not here.
 *
 * The one idea: a chain is loaded once and sealed with sl_filter_ready();
 * from then on the rules are immutable, every selector kind of the whole
 * chain is one pattern set, each scope is resolved once and cached, and a
 * host that keeps a per-code-object decision vector (sl_filter_plan) pays a
 * byte load per value on warm events.
 *
 * Thread safety: sl_filter_new / sl_filter_add_* / sl_filter_ready run on
 * one thread. After sl_filter_ready() any number of threads may classify
 * and decide at once, each through its own sl_filter_ctx (per-thread
 * scratch, decision cache and counters); the scope cache is shared behind
 * a read-write lock (sl_filter_classify only); scopes returned stay valid
 * and immutable until sl_filter_free(). */
#ifndef SLUICE_FILTER_H
#define SLUICE_FILTER_H

#include <stdbool.h>

#include <sluice/common.h>
#include <sluice/doc.h>
#include <sluice/match.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_filter sl_filter;             /* a chain and its engine */
typedef struct sl_filter_ctx sl_filter_ctx;     /* per-thread state */
typedef struct sl_filter_scope sl_filter_scope; /* one resolved scope */

/** Whether a scope is traced. */
typedef enum sl_filter_exec {
    SL_FILTER_TRACE = 0,
    SL_FILTER_SKIP = 1
} sl_filter_exec;

/** What happens to one value. */
typedef enum sl_filter_action {
    SL_FILTER_ALLOW = 0,
    SL_FILTER_REDACT = 1,
    SL_FILTER_DROP = 2
} sl_filter_action;

/** Value kinds (selector kinds `arg`, `local`, `global`, `ret`, `attr`;
 * counter labels `argument`, `local`, `global`, `return`, `attribute`). */
typedef enum sl_filter_kind {
    SL_FILTER_ARG = 0,
    SL_FILTER_LOCAL = 1,
    SL_FILTER_GLOBAL = 2,
    SL_FILTER_RET = 3,
    SL_FILTER_ATTR = 4,
    SL_FILTER_KIND_COUNT = 5
} sl_filter_kind;

/** Called once per problem found while loading (every problem, not only
 * the first), with file:line:col when the problem is in a file. */
typedef void (*sl_filter_report_fn)(const sl_error *problem, void *ctx);

/* ---- loading a chain ---- */

/** A new, empty chain, owned: free with sl_filter_free().
 * @return NULL when out of memory. */
SL_API sl_filter *sl_filter_new(void);

/** Free a chain, its cached scopes and its engine. Every sl_filter_ctx
 * made for it must be freed first. NULL is a no-op. */
SL_API void sl_filter_free(sl_filter *f);

/** Send every loading problem to fn (besides the first one, which the
 * failing call also puts in its err). fn may be NULL. */
SL_API void sl_filter_set_reporter(sl_filter *f, sl_filter_report_fn fn,
                                   void *ctx);

/** Append a built-in source: "builtin-default", "builtin-pytest" or
 * "builtin-unittest" (path `<inline:NAME>`, project root "").
 * @return SL_OK, SL_ENOTFOUND (unknown name), SL_ESTATE (already ready),
 *         SL_ENOMEM, and the codes of sl_filter_add_text(). */
SL_API sl_status sl_filter_add_builtin(sl_filter *f, const char *name,
                                       sl_error *err);

/** Append an inline source whose path is `<inline:LABEL>` (project root
 * ""). The text is TOML (copied) and is validated against the chain so far
 * (`inherit` needs an earlier source that set the field). A source with any
 * problem is not appended.
 * @return SL_OK, SL_EPARSE (TOML syntax), SL_ESCHEMA (unknown key, wrong
 *         type, bad value, bad selector), SL_EPATTERN (a glob or regex
 *         that does not compile), SL_ELIMIT, SL_ESTATE, SL_ENOMEM,
 *         SL_EINVAL. */
SL_API sl_status sl_filter_add_text(sl_filter *f, const char *label,
                                    const char *text, size_t len,
                                    sl_error *err);

/** Append the files of spec: one path or several joined by "::"; each
 * segment is trimmed, empty ones are dropped, "~" is expanded, and the
 * file must exist; its absolute, resolved path is recorded. Its project
 * root is the parent of the nearest ancestor directory named
 * `.codetracer`, else the file's own directory. Duplicates are kept.
 * @return SL_OK, SL_ENOTFOUND (`trace filter '<p>' does not exist`),
 *         SL_EIO (not a regular file, unreadable), SL_EINVAL (no path in
 *         spec), and the codes of sl_filter_add_text(). */
SL_API sl_status sl_filter_add_paths(sl_filter *f, const char *spec,
                                     sl_error *err);

/** Append the files named by the environment variable
 * CODETRACER_TRACE_FILTER ("::"-joined), if it is set and not empty.
 * Reads the environment: call it before starting threads.
 * @return as sl_filter_add_paths(). */
SL_API sl_status sl_filter_add_env(sl_filter *f, sl_error *err);

/** Append the first regular file `<dir>/.codetracer/trace-filter.toml`
 * found walking up from the program's directory (program itself when it is
 * a directory, else its parent; relative paths join the working
 * directory; NULL, "" or "<unknown>" start at the working directory).
 * @param found  out: whether a file was appended; may be NULL.
 * @return SL_OK (also when none was found), and the codes of
 *         sl_filter_add_paths(). */
SL_API sl_status sl_filter_discover(sl_filter *f, const char *program,
                                    bool *found, sl_error *err);

/** Seal the chain: compile every selector kind of all sources into one
 * pattern set each. After this the chain can no longer change.
 * @return SL_OK, SL_EINVAL (`no trace filter sources supplied`),
 *         SL_ESTATE (already ready), SL_EPATTERN, SL_ELIMIT, SL_ENOMEM. */
SL_API sl_status sl_filter_ready(sl_filter *f, sl_error *err);

/* ---- summary ---- */

/** One source of the chain, all strings borrowed from f until
 * sl_filter_free(). */
typedef struct sl_filter_source_info {
    const char *name;
    uint32_t version;
    const char *sha256; /* 64 lower-case hex digits of the exact text */
    const char *path;   /* absolute path, or `<inline:NAME>` */
    size_t rules;       /* number of [[scope.rules]] */
} sl_filter_source_info;

/** Number of sources in the chain. */
SL_API size_t sl_filter_source_count(const sl_filter *f);

/** Describe source i.
 * @return SL_OK or SL_EINVAL (i out of range). */
SL_API sl_status sl_filter_source(const sl_filter *f, size_t i,
                                  sl_filter_source_info *out);

/** Append the chain as JSON to out: {"filters": [{"name", "version",
 * "sha256", "path", "rules": [{"selector", "exec", "value_default",
 * "reason", "value_patterns": [{"selector", "action", "reason"}]}]}]}
 * (absent optional fields are null).
 * @return SL_OK, SL_ENOMEM, SL_ELIMIT. */
SL_API sl_status sl_filter_write_chain(const sl_filter *f, sl_buf *out,
                                       sl_error *err);

/** The composed [io] table: the last source with an [io] table replaces
 * it wholesale (default: capture false, no streams). Validated only; the
 * engine itself does not use it.
 * @param streams  out: borrowed until sl_filter_free(); may be NULL. */
SL_API void sl_filter_io(const sl_filter *f, bool *capture,
                         const char *const **streams, size_t *nstreams);

/** Counters, summed over every context (live or freed). */
typedef struct sl_filter_stats {
    uint64_t scopes_skipped;                         /* per cached scope */
    uint64_t value_redactions[SL_FILTER_KIND_COUNT]; /* by sl_filter_kind */
    uint64_t value_drops[SL_FILTER_KIND_COUNT];
} sl_filter_stats;

/** Read the counters. Thread safety: any thread, at any time after
 * sl_filter_ready(); counts from other threads may lag by a few events. */
SL_API void sl_filter_get_stats(sl_filter *f, sl_filter_stats *out);

/** Append the `trace_filter` metadata object, keys sorted as upstream's
 * trace_metadata.json: {"filters": [{"name", "path", "sha256",
 * "version"}], "stats": {"scopes_skipped", "value_drops": {"argument",
 * "attribute", "global", "local", "return"}, "value_redactions": {...}}}.
 * @return SL_OK, SL_ENOMEM, SL_ELIMIT. */
SL_API sl_status sl_filter_write_metadata(sl_filter *f, sl_buf *out,
                                          sl_error *err);

/* ---- per-thread context ---- */

/** A context for one thread: pattern-set scratch, per-name decision cache
 * and counters. Owned: free with sl_filter_ctx_free() before f.
 * @return SL_OK, SL_ESTATE (f not ready), SL_ENOMEM, SL_EINVAL. */
SL_API sl_status sl_filter_ctx_new(sl_filter *f, sl_filter_ctx **out,
                                   sl_error *err);

/** Free a context; its counts stay in the filter's totals. NULL is a
 * no-op. */
SL_API void sl_filter_ctx_free(sl_filter_ctx *ctx);

/* ---- scopes ---- */

/** Resolve a code object: its module name (module_hint first when it is a
 * valid dotted name, else from the project-relative path, else by walking
 * `__init__.py` packages), its relative path and object name, then the
 * rules of the chain. The answer is cached in f under (filename, qualname,
 * module_hint); a host may keep the returned pointer (e.g. in the code
 * object's extra slot, tagged with sl_filter_id()).
 * @param filename  the code object's file name, borrowed for the call.
 * @param qualname  may be NULL.
 * @param module_hint  the frame's `__name__`, may be NULL.
 * @param out  the scope, borrowed until sl_filter_free().
 * @return SL_OK, SL_EINVAL, SL_ELIMIT, SL_ENOMEM. */
SL_API sl_status sl_filter_classify(sl_filter_ctx *ctx, const char *filename,
                                    const char *qualname,
                                    const char *module_hint,
                                    const sl_filter_scope **out, sl_error *err);

/** A number unique to this filter in the process (never reused while the
 * process lives), so that caches kept by a host for several filters never
 * mix their answers. */
SL_API uint64_t sl_filter_id(const sl_filter *f);

/** Trace or skip. */
SL_API sl_filter_exec sl_filter_scope_exec(const sl_filter_scope *s);

/** The scope's default for values no pattern decides. */
SL_API sl_filter_action sl_filter_scope_value_default(const sl_filter_scope *s);

/* ---- values ---- */

/** Decide one value and count it (redact / drop counters). The first
 * decision for a (scope, kind, name) is one pattern-set pass; later ones
 * are a lookup: the context interns the name to a dense id and keeps one
 * byte vector per (scope, kind) indexed by it. Patterns of every rule
 * matching the scope apply, tried from the last matching rule back to the
 * first; the first pattern that matches decides, else the scope's default.
 * For SL_FILTER_RET the name is the returning function's object name
 * (`module.qualname`), as upstream. Invalid arguments give SL_FILTER_REDACT
 * (fail closed).
 * @param name  len bytes, borrowed for the call.
 * Thread safety: only the context's own thread. */
SL_API sl_filter_action sl_filter_decide(sl_filter_ctx *ctx,
                                         const sl_filter_scope *s,
                                         sl_filter_kind kind, const char *name,
                                         size_t len);

/** Decide n names at once without counting, writing actions[i] (an
 * sl_filter_action). A host keeps the vector per code object (indexed by
 * variable slot) and on each event reads actions[slot] and calls
 * sl_filter_count(): a warm decision is then a byte load.
 * @param names  n views, borrowed for the call.
 * @return SL_OK, SL_EINVAL, SL_ENOMEM. */
SL_API sl_status sl_filter_plan(sl_filter_ctx *ctx, const sl_filter_scope *s,
                                sl_filter_kind kind, const sl_str *names,
                                size_t n, uint8_t *actions, sl_error *err);

/** Count one decision taken from a plan (allow counts nothing).
 * Thread safety: only the context's own thread. */
SL_API void sl_filter_count(sl_filter_ctx *ctx, sl_filter_kind kind,
                            sl_filter_action action);

/** Count n decisions of one action at once, e.g. the redactions of one
 * snapshot summed while applying a plan: one store per event instead of
 * one per value. */
SL_API void sl_filter_count_n(sl_filter_ctx *ctx, sl_filter_kind kind,
                              sl_filter_action action, uint64_t n);

/** Append the explain object for one scope and a list of values as JSON:
 * {"module", "relative_path", "object", "exec", "value_default",
 *  "rule": {"source", "index", "selector", "reason"} | null,
 *  "values": [{"kind", "name", "action", "rule": {"source", "index",
 *  "pattern", "selector", "reason"} | null}]}. "source" is the source's
 * path, "index" the rule's 0-based index in it. Nothing is counted.
 * @param kinds, names  n values; names borrowed for the call.
 * @return SL_OK, SL_EINVAL, SL_ENOMEM, SL_ELIMIT. */
SL_API sl_status sl_filter_explain(sl_filter_ctx *ctx, const char *filename,
                                   const char *qualname,
                                   const char *module_hint,
                                   const sl_filter_kind *kinds,
                                   const sl_str *names, size_t n, sl_buf *out,
                                   sl_error *err);

/** The selector kind name of a value kind ("arg", "local", ...), static. */
SL_API const char *sl_filter_kind_name(sl_filter_kind kind);

/** Parse a selector kind name ("arg", "local", "global", "ret", "attr").
 * @return SL_OK or SL_EINVAL. */
SL_API sl_status sl_filter_kind_parse(const char *s, size_t len,
                                      sl_filter_kind *out);

/** "allow", "redact" or "drop" (static). */
SL_API const char *sl_filter_action_name(sl_filter_action a);

#ifdef __cplusplus
}
#endif
#endif

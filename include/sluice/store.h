/* include/sluice/store.h: the run recorder: an SQLite database of runs and
 * their events whose only write path binds the redacted payload. Owns
 * sl_recorder; redaction itself is <sluice/redact.h>'s. No SQLite type
 * appears here.
 *
 * Tables: runs(run_id, schema_version, entrypoint, started_at, ended_at,
 * status, host, platform, cwd, pid, sluice_version) and
 * events(event_id, run_id, seq, ts, type, payload, audit). Timestamps are
 * RFC 3339 UTC with microseconds and `Z`; run ids are 128 random bits in
 * lower-case hex. Each event is its own transaction: a crash never leaves
 * half an event.
 *
 * Memory: SQLite allocates through sluice's allocator hook
 * (sl_set_allocator()). SQLite's allocator is process-global and can be set
 * only before SQLite initialises, so the first sl_recorder_open() of the
 * process installs it, once (thread-safe). From then on each SQLite
 * allocation goes to the hook in force at the moment it is made, and each
 * block is freed by the allocator that made it (whose ctx must therefore
 * outlive the block). An application that configured and initialised
 * SQLite itself before that first open keeps its own allocator: sluice's
 * set-up is then skipped silently (SQLite answers SQLITE_MISUSE), which is
 * not an error. Running out of memory inside SQLite is SL_ENOMEM. */
#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H

#include <sluice/common.h>
#include <sluice/doc.h>
#include <sluice/redact.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_recorder sl_recorder;

/** Length of a run id's text, without the NUL. */
enum {
    SL_RUN_ID_LEN = 32
};

/** Open (creating if needed) a recorder database; WAL mode, foreign keys
 * on. The redaction policy is fixed here for the recorder's lifetime.
 * @param db_path  copied.
 * @param policy   borrowed, must outlive the recorder; NULL = the default
 *                 SAFE policy.
 * @param out      on SL_OK a new recorder, owned: sl_recorder_close().
 * @return SL_OK, SL_EDB (cannot open, not a recorder database), SL_ENOMEM,
 *         SL_EINVAL.
 * Thread safety: one thread at a time per recorder. */
SL_API sl_status sl_recorder_open(const char *db_path,
                                  const sl_redactor *policy, sl_recorder **out,
                                  sl_error *err);

/** Close a recorder. NULL is a no-op. */
SL_API void sl_recorder_close(sl_recorder *rec);

/** Start a run with status "running".
 * @param entrypoint  what ran (non-empty UTF-8, at most 4096 bytes).
 * @param run_id      out: SL_RUN_ID_LEN hex digits and a NUL.
 * @return SL_OK, SL_EINVAL, SL_EDB, SL_EIO (no randomness), SL_ENOMEM.
 * Nothing is stored when anything fails. */
SL_API sl_status sl_recorder_start_run(sl_recorder *rec, const char *entrypoint,
                                       char run_id[SL_RUN_ID_LEN + 1],
                                       sl_error *err);

/** Redact payload with the recorder's policy and store it as the run's
 * next event. Nothing is stored when anything fails.
 * @param type     event type: non-empty UTF-8, at most 256 bytes.
 * @param payload  borrowed; must be an object.
 * @param seq      out: the event's 1-based sequence in its run; may be
 *                 NULL.
 * @return SL_OK, SL_ENOTFOUND (unknown run), SL_ESTATE (run finished),
 *         SL_ESCHEMA (payload not an object, bad type), SL_EINVAL (a
 *         value JSON cannot hold, e.g. NaN or Infinity), SL_EUTF8,
 *         SL_ENOMEM, SL_EDB. */
SL_API sl_status sl_recorder_log_node(sl_recorder *rec, const char *run_id,
                                      const char *type, const sl_node *payload,
                                      int64_t *seq, sl_error *err);

/** As sl_recorder_log_node() for a payload node of doc (doc borrowed, only
 * read): what is not redacted is copied from doc's source text when the
 * payload was read from compact JSON and not changed since (the same
 * bytes as sl_recorder_log_node() stores, with less work).
 * @return as sl_recorder_log_node(). */
SL_API sl_status sl_recorder_log_doc_node(sl_recorder *rec, const char *run_id,
                                          const char *type, const sl_doc *doc,
                                          const sl_node *payload, int64_t *seq,
                                          sl_error *err);

/** As sl_recorder_log_node() for JSON text.
 * @return also SL_EPARSE and SL_EUTF8 for text that is not valid JSON. */
SL_API sl_status sl_recorder_log_event(sl_recorder *rec, const char *run_id,
                                       const char *type, const char *json,
                                       size_t len, int64_t *seq, sl_error *err);

/** Finish a run.
 * @param status  "success", "failure", "error" or "cancelled".
 * @return SL_OK, SL_ENOTFOUND (unknown run), SL_ESTATE (already
 *         finished), SL_EINVAL (bad status), SL_EDB, SL_ENOMEM. */
SL_API sl_status sl_recorder_end_run(sl_recorder *rec, const char *run_id,
                                     const char *status, sl_error *err);

/** Receives one line of JSON (no newline); return non-zero to stop. */
typedef int (*sl_line_fn)(const char *line, size_t len, void *ctx);

/** One JSON object per run, oldest first: {"run_id", "entrypoint",
 * "status", "started_at", "ended_at" (null while running), "events"}.
 * @return SL_OK, SL_EDB, SL_ENOMEM. */
SL_API sl_status sl_recorder_list_runs(sl_recorder *rec, sl_line_fn fn,
                                       void *ctx, sl_error *err);

/** One JSON object per event of a run, in order: {"event_id", "seq",
 * "ts", "type", "payload", "audit"}.
 * @return SL_OK, SL_ENOTFOUND, SL_EDB, SL_ENOMEM. */
SL_API sl_status sl_recorder_show_run(sl_recorder *rec, const char *run_id,
                                      sl_line_fn fn, void *ctx, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif

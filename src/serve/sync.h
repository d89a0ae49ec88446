/* src/serve/sync.h: the HTTP policy sync client (POST /v1/policy/sync,
 * tero.policy.v1 SyncRequest / SyncResponse in proto-JSON): report each
 * policy's PolicySyncStatus (hit and miss deltas since the last report,
 * compile errors of the policies last received), send the client metadata
 * and last_successful_hash, and compile the policies of the answer into a
 * new snapshot. Shared by `sluice conform --server` and `sluice serve
 * --policy-server`. Not thread safe: one caller at a time per client. */
#ifndef SL_SERVE_SYNC_H
#define SL_SERVE_SYNC_H

#include <sluice/policy.h>

typedef struct sl__sync sl__sync;

/* A client for url (http://HOST:PORT/v1/policy/sync). NULL with a message
 * in err for a URL that is not http:// or on SL_ENOMEM. */
sl__sync *sl__sync_new(const char *url, sl_error *err);
void sl__sync_free(sl__sync *s);

/* One sync. set: the snapshot whose counters are reported (NULL: none yet,
 * a full sync). Counters are never reset (serve's /metrics reads them): the
 * client remembers, by policy id, what it last reported once the provider
 * answered 2xx, so each report carries the deltas since then. When the
 * answer's hash differs from the last one, its policies are compiled into
 * *out (a reload of set, as sl_policy_reload: counters and rate windows
 * carried by id), owned by the caller; otherwise *out is NULL. Rejected
 * policies are left out of *out and their errors reported in every later
 * sync until the provider sends other policies.
 * @return SL_OK; SL_EIO (no answer, a non-2xx status, or a non-empty
 *         error_message: the message says which); the parse codes of
 *         sl_doc_load() and those of sl_policy_load(). On failure *out is
 *         NULL and the client's state is unchanged. */
sl_status sl__sync_run(sl__sync *s, sl_policy_set *set, sl_policy_set **out,
                       sl_error *err);

/* recommended_sync_interval_seconds of the last answer (0 = none given). */
uint32_t sl__sync_interval(const sl__sync *s);

#endif

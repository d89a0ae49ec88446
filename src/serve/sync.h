/* src/serve/sync.h: the policy sync client: HTTP (POST /v1/policy/sync,
 * tero.policy.v1 SyncRequest / SyncResponse in proto-JSON or protobuf) or
 * gRPC (tero.policy.v1.PolicyService/Sync): report each
 * policy's PolicySyncStatus (hit and miss deltas since the last report,
 * the same for each transform stage, compile errors of the policies last
 * received), send the client metadata
 * and last_successful_hash, and compile the policies of the answer into a
 * new snapshot. Shared by `sluice conform --server` and `sluice serve
 * --policy-server`. Not thread safe: one caller at a time per client. */
#ifndef SL_SERVE_SYNC_H
#define SL_SERVE_SYNC_H

#include <sluice/policy.h>

#include "serve/forward.h"

typedef struct sl__sync sl__sync;

/* A client for url: http[s]://HOST:PORT/v1/policy/sync (bodies in
 * proto-JSON, or application/x-protobuf with co->proto) or
 * grpc://HOST:PORT, grpcs://HOST:PORT over TLS (PolicyService/Sync; always
 * protobuf); co->gzip compresses the requests, co->ca_file / insecure
 * apply to TLS (co->tls is set by the scheme). NULL with a message in err
 * for another scheme, a malformed URL or on SL_ENOMEM. */
sl__sync *sl__sync_new(const char *url, const sl__serve_client_opts *co,
                       sl_error *err);
void sl__sync_free(sl__sync *s);

/* One sync. set: the snapshot whose counters are reported (NULL: none yet,
 * a full sync). Counters are never reset (serve's /metrics reads them): the
 * client remembers, by policy id, what it last reported once the provider
 * answered 2xx, so each report carries the deltas since then. When the
 * answer's hash differs from the last one (or is empty, or on the first
 * answer) the client keeps its policies as a document (sl__sync_doc) and
 * *changed is true: the caller compiles a snapshot from it (alone or
 * after its policy files: on a duplicate id the first document wins, see
 * sl_policy_load) and then calls sl__sync_compiled().
 * @return SL_OK; SL_EIO (no answer, a non-2xx status, or a non-empty
 *         error_message: the message says which); SL_ESCHEMA
 *         ("policies" is not an array); the parse codes of sl_doc_load(). On
 * failure the client's policies and hash are unchanged. */
sl_status sl__sync_run(sl__sync *s, const sl_policy_set *set, bool *changed,
                       sl_error *err);

/* Take an answer's body (a SyncResponse in the client's encoding) as
 * sl__sync_run() does after a successful exchange: no I/O. Codes and
 * *changed as for sl__sync_run() (SL_EPARSE / SL_ESCHEMA for a malformed
 * protobuf answer too). Used by sl__sync_run() and the fuzz target. */
sl_status sl__sync_answer(sl__sync *s, const char *body, size_t len,
                          bool *changed, sl_error *err);

/* The policies of the last answer taken, as a policy document
 * ({"policies": [...]}, named "SyncResponse" in positions); NULL before
 * the first. Borrowed until the next sl__sync_run() that changes it. */
const sl_doc *sl__sync_doc(const sl__sync *s);

/* After compiling set from sl__sync_doc() (and maybe other documents):
 * remember the problems of the provider's policies that set rejected, to
 * report them as PolicySyncStatus errors in every later sync.
 * @return SL_OK or SL_ENOMEM (the errors are then not reported). */
sl_status sl__sync_compiled(sl__sync *s, const sl_policy_set *set);

/* recommended_sync_interval_seconds of the last answer (0 = none given). */
uint32_t sl__sync_interval(const sl__sync *s);

#endif

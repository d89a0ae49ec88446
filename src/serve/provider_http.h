/* src/serve/provider_http.h: the HTTP sync provider of `sluice serve
 * --policy-server URL` (HTTP, JSON or protobuf, or grpc://HOST:PORT):
 * a thread that syncs with the provider (sync.c)
 * every recommended_sync_interval_seconds (60 s when the provider names
 * none, at least 1 s), reporting the current snapshot's hit and miss deltas
 * and compile errors, and rebuilds the snapshot from the policy files and
 * the provider's policies when the provider's hash changes. */
#ifndef SL_SERVE_PROVIDER_HTTP_H
#define SL_SERVE_PROVIDER_HTTP_H

#include "serve/private.h"

/* Make the provider and run the first sync (blocking, bounded by the HTTP
 * client's timeouts). NULL with the located reason in err. */
sl__serve_provider *sl__serve_provider_new(sl__serve *srv, const char *url,
                                           sl_error *err);

/* The provider's policies as a policy document; NULL before the first
 * answer. Call with srv->build_mu held. */
const sl_doc *sl__serve_provider_doc(const sl__serve_provider *p);

/* set was compiled from the provider's document: note the errors of the
 * provider's policies it rejected. Call with srv->build_mu held. */
void sl__serve_provider_compiled(sl__serve_provider *p,
                                 const sl_policy_set *set);

/* Start the periodic syncs. false when the thread cannot start. */
bool sl__serve_provider_start(sl__serve_provider *p);

/* Stop (waiting for a sync in progress) and free. NULL is a no-op. */
void sl__serve_provider_free(sl__serve_provider *p);

#endif

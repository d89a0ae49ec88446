/* src/serve/sender.h: the exporter's transport, chosen by the options:
 * --forward (OTLP/HTTP, forward.c) or --forward-grpc (OTLP/gRPC, each
 * queued request sent as Export*ServiceRequest to
 * opentelemetry.proto.collector.<signal>.v1.<Signal>Service/Export through
 * grpc_client.c). export.c keeps one queue, backoff and backpressure for
 * both. */
#ifndef SL_SERVE_SENDER_H
#define SL_SERVE_SENDER_H

#include "serve/forward.h"
#include "serve/private.h"

typedef struct sl__serve_sender sl__serve_sender;

/* The transport of o->forward or o->forward_grpc; NULL with a message in
 * err (a malformed target, SL_ENOMEM). */
sl__serve_sender *sl__serve_sender_new(const sl__serve_opts *o, sl_error *err);
void sl__serve_sender_free(sl__serve_sender *s);

/* Send one request's kept data (OTLP protobuf for gRPC). *retry_after_ms:
 * the target's Retry-After or grpc-retry-pushback-ms (0 = none); *status:
 * the HTTP status, or the grpc-status for gRPC (0 when no answer, -1 for a
 * gRPC answer without a status). */
sl__forward_result sl__serve_sender_send(sl__serve_sender *s, sl_signal sig,
                                         const char *body, size_t len,
                                         unsigned *retry_after_ms, int *status);

#endif

/* src/serve/grpc_client.h: a small blocking gRPC unary client over h2c
 * (HTTP/2 with prior knowledge) or TLS (ALPN h2, verified, SNI) through
 * libnghttp2's client session: one call at
 * a time on one kept-alive connection, the message length-prefixed and
 * optionally gzip-compressed, the answer's message and its grpc-status /
 * grpc-message trailers read back, everything bounded by a time-out.
 * Serves both the --forward-grpc exporter and the gRPC policy provider.
 * Not thread safe: one caller at a time per client. */
#ifndef SL_SERVE_GRPC_CLIENT_H
#define SL_SERVE_GRPC_CLIENT_H

#include "serve/forward.h"

typedef struct sl__grpc_client sl__grpc_client;

/* What a call got back. grpc_status is -1 when no status arrived (no
 * answer, or an HTTP error without one); http_status is 0 when no answer. */
typedef struct sl__grpc_reply {
    int http_status;
    int grpc_status;
    unsigned pushback_ms; /* grpc-retry-pushback-ms, 0 = none */
    char message[256];    /* grpc-message, percent-decoded, cut */
} sl__grpc_reply;

/* A client for target (HOST:PORT, [V6]:PORT). co->gzip: compress every
 * request message (grpc-encoding: gzip); co->tls, ca_file, insecure: TLS
 * (proto is unused). NULL with a message in err. */
sl__grpc_client *sl__grpc_client_new(const char *target,
                                     const sl__serve_client_opts *co,
                                     sl_error *err);
void sl__grpc_client_free(sl__grpc_client *c);

/* Change the time-out of connecting and of one whole call (default 10 s). */
void sl__grpc_client_set_timeout(sl__grpc_client *c, unsigned ms);

/* Call path (/pkg.Service/Method) with one message; the answer's message
 * (decompressed) is appended to resp unless resp is NULL.
 * @return SL_FORWARD_OK for grpc-status 0; SL_FORWARD_RETRY when the call
 *         broke (no answer, an I/O error, the deadline, a reset stream) or
 *         the status is retryable (UNAVAILABLE,
 *         RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, ABORTED, CANCELLED,
 *         OUT_OF_RANGE, DATA_LOSS; HTTP 429/502/503/504 without a status);
 *         SL_FORWARD_PERMANENT for every other status. */
sl__forward_result sl__grpc_client_call(sl__grpc_client *c, const char *path,
                                        const char *msg, size_t len,
                                        sl_buf *resp, sl__grpc_reply *reply);

#endif

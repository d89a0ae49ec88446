/* src/serve/h2.h: HTTP/2 over cleartext (h2c, prior knowledge: what gRPC
 * and OTLP/HTTP clients with HTTP/2 use) through libnghttp2. One session
 * per connection; nghttp2 does the framing, HPACK, flow control and
 * trailers; this file collects each stream's request, hands it to the
 * receiver (OTLP/HTTP, admin, or OTLP/gRPC on the gRPC listener) when the
 * stream ends, and submits the answer, with grpc-status / grpc-message
 * as trailers for gRPC. */
#ifndef SL_SERVE_H2_H
#define SL_SERVE_H2_H

#include "serve/receiver.h"

typedef struct sl__serve_h2 sl__serve_h2;

/* The 24-byte client connection preface. */
#define SL_SERVE_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

/* A server session whose requests run through p; NULL when out of
 * memory. */
sl__serve_h2 *sl__serve_h2_new(sl__serve_pipe *p, sl__serve_listener kind);
void sl__serve_h2_free(sl__serve_h2 *h);

/* Feed received bytes (requests are answered as their streams end).
 * false: protocol error, close the connection. */
bool sl__serve_h2_recv(sl__serve_h2 *h, const char *data, size_t len);

/* Append the frames ready to send to out. false on a session error. */
bool sl__serve_h2_send(sl__serve_h2 *h, sl_buf *out);

/* Whether the session is over (both sides done, or GOAWAY). */
bool sl__serve_h2_done(const sl__serve_h2 *h);

/* When the connection was last active for --idle-timeout-ms: the last
 * HEADERS, DATA or RST_STREAM received or answer finished (PINGs and
 * other control frames do not count). */
uint64_t sl__serve_h2_active_ms(const sl__serve_h2 *h);

/* Whether a stream is open (a request in progress or being answered). */
bool sl__serve_h2_busy(const sl__serve_h2 *h);

/* Answer 408 to every request not complete timeout_ms after its headers
 * began (the answers appended to out), then queue a GOAWAY; whether there
 * was one (the caller then closes the connection once the frames are
 * out). */
bool sl__serve_h2_expire(sl__serve_h2 *h, uint64_t now, unsigned timeout_ms,
                         sl_buf *out);

/* Whether an answered stream is still open (its response not all sent);
 * once the peer has closed, the other streams can never complete. */
bool sl__serve_h2_answering(const sl__serve_h2 *h);

/* Send GOAWAY (no new streams), for a drain. */
void sl__serve_h2_shutdown(sl__serve_h2 *h);

#endif

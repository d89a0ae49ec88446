/* src/serve/receiver.h: the OTLP receivers and the admin endpoints,
 * independent of the transport: a call (method, path, media type,
 * encodings, body) becomes a response (status, media type, Retry-After,
 * body), as the OTLP specification says: Export*ServiceResponse or
 * google.rpc.Status in the request's encoding, Retry-After under
 * backpressure. OTLP/gRPC calls get the 5-byte message framing and a
 * grpc-status / grpc-message for the trailers. HTTP/1.1 (net.c) and
 * HTTP/2 (h2.c) only carry them. */
#ifndef SL_SERVE_RECEIVER_H
#define SL_SERVE_RECEIVER_H

#include "serve/http1.h"
#include "serve/pipeline.h"

typedef enum sl__serve_listener {
    SL_SERVE_L_HTTP = 0,
    SL_SERVE_L_GRPC = 1,
    SL_SERVE_L_ADMIN = 2
} sl__serve_listener;

typedef struct sl__serve_call {
    sl_str method, path, content_type, content_encoding;
    sl_str grpc_encoding;
    const char *body;
    size_t body_len;
    uint64_t start_us; /* first byte of the request read (sl__serve_now_us);
                          0 = when the handler starts */
} sl__serve_call;

typedef struct sl__serve_resp {
    int status;           /* HTTP status */
    const char *ctype;    /* static */
    unsigned retry_after; /* seconds, 0 = no header */
    sl_buf body;          /* owned by the caller; reused */
    int grpc_status;      /* gRPC calls: the trailer values */
    char grpc_msg[320];
} sl__serve_resp;

/* Answer an OTLP/HTTP or admin call (kind says which listener). */
void sl__serve_handle(sl__serve_pipe *p, sl__serve_listener kind,
                      const sl__serve_call *call, sl__serve_resp *resp);

/* Answer an OTLP/gRPC call: resp->body is the framed reply message (empty
 * when grpc_status is not 0). */
void sl__serve_grpc_handle(sl__serve_pipe *p, const sl__serve_call *call,
                           sl__serve_resp *resp);

/* HTTP/1.1: answer one framed request; a whole response is appended to
 * out; *keep_alive is cleared when the connection must close after it.
 * The _at form takes when the request's first byte was read (latency
 * histogram); the plain one counts from now. */
void sl__serve_http_handle(sl__serve_pipe *p, sl__serve_listener kind,
                           const sl__http_req *req, sl_buf *out,
                           bool *keep_alive);
void sl__serve_http_handle_at(sl__serve_pipe *p, sl__serve_listener kind,
                              const sl__http_req *req, uint64_t start_us,
                              sl_buf *out, bool *keep_alive);

/* HTTP/1.1: answer a request that could not be framed (parser status). */
void sl__serve_http_error(sl__serve *srv, int status, sl_buf *out);

/* Count a response of this HTTP status in the metrics. */
void sl__serve_count_status(sl__serve *srv, int status);

#endif

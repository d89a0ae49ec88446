/* src/serve/receiver.h: the OTLP/HTTP receiver and the admin endpoints
 * over HTTP/1.1: route, check method and media type, run the pipeline,
 * answer as the OTLP specification says (Export*ServiceResponse or
 * google.rpc.Status in the request's encoding, Retry-After under
 * backpressure). */
#ifndef SL_SERVE_RECEIVER_H
#define SL_SERVE_RECEIVER_H

#include "serve/http1.h"
#include "serve/pipeline.h"

typedef enum sl__serve_listener {
    SL_SERVE_L_HTTP = 0,
    SL_SERVE_L_GRPC = 1,
    SL_SERVE_L_ADMIN = 2
} sl__serve_listener;

/* Answer one request: a whole HTTP/1.1 response is appended to out;
 * *keep_alive is cleared when the connection must close after it. */
void sl__serve_http_handle(sl__serve_pipe *p, sl__serve_listener kind,
                           const sl__http_req *req, sl_buf *out,
                           bool *keep_alive);

/* Answer a request that could not be framed (status from the parser). */
void sl__serve_http_error(sl__serve *srv, int status, sl_buf *out);

/* Count a response of this HTTP status in the metrics. */
void sl__serve_count_status(sl__serve *srv, int status);

#endif

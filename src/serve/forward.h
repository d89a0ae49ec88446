/* src/serve/forward.h: the OTLP/HTTP client of --forward: one POST per
 * queued request (gzip, JSON or protobuf), blocking with timeouts, run only
 * by the
 * exporter thread. */
#ifndef SL_SERVE_FORWARD_H
#define SL_SERVE_FORWARD_H

#include <sluice/otlp.h>

#include <stdbool.h>

typedef struct sl__serve_forward sl__serve_forward;

typedef enum sl__forward_result {
    SL_FORWARD_OK = 0,
    SL_FORWARD_RETRY = 1,    /* connection failed, 429, 5xx: try again */
    SL_FORWARD_PERMANENT = 2 /* 4xx: the target will never take it */
} sl__forward_result;

/* Parse http://HOST:PORT[/prefix]; NULL with a message in err. proto:
 * bodies are OTLP protobuf (else JSON). */
sl__serve_forward *sl__serve_forward_new(const char *url, bool proto,
                                         sl_error *err);
void sl__serve_forward_free(sl__serve_forward *f);

/* POST body (OTLP JSON or protobuf) to <prefix>/v1/<signal>. *retry_after_ms is
 * the target's Retry-After (0 = none); status is the HTTP status (0 when no
 * response). */
sl__forward_result sl__serve_forward_post(sl__serve_forward *f, sl_signal sig,
                                          const char *body, size_t len,
                                          unsigned *retry_after_ms,
                                          int *status);

/* POST body as is (no compression) to the URL's own path, with the content
 * type of _new (JSON or protobuf) and Accept the same; append the answer's
 * body to resp. status is the HTTP status (0 when no response). Used by the
 * policy sync client (sync.c). */
sl__forward_result sl__serve_forward_call(sl__serve_forward *f,
                                          const char *body, size_t len,
                                          int *status, sl_buf *resp);

/* Connect to host:port (TCP, blocking, TCP_NODELAY) within timeout_ms,
 * which also bounds each later send and recv. -1 when it cannot. Shared
 * with the gRPC client (grpc_client.c). */
int sl__serve_dial(const char *host, const char *port, unsigned timeout_ms);

/* Send all n bytes (no SIGPIPE). false on an error or time-out. */
bool sl__serve_send_all(int fd, const char *p, size_t n);

#endif

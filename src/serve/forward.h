/* src/serve/forward.h: the OTLP/HTTP client of --forward: one POST per
 * queued request (gzip or not, JSON or protobuf, http:// or https://),
 * blocking with timeouts, run only by the exporter thread (and the policy
 * sync thread, through its own client). Also the blocking connection,
 * cleartext or TLS, that it shares with the gRPC client. */
#ifndef SL_SERVE_FORWARD_H
#define SL_SERVE_FORWARD_H

#include <sluice/otlp.h>

#include <stdbool.h>
#include <sys/types.h>

#include "serve/tls.h"

typedef struct sl__serve_forward sl__serve_forward;

/* How a client talks to its target; {0}: JSON, no compression,
 * cleartext, the system store for https. */
typedef struct sl__serve_client_opts {
    bool proto;          /* HTTP: OTLP protobuf bodies (else JSON) */
    bool gzip;           /* compress request bodies */
    bool tls;            /* gRPC: over TLS (HTTP: the https:// scheme) */
    const char *ca_file; /* TLS: verify against it, NULL = system store */
    bool insecure;       /* TLS: accept any certificate (no check) */
} sl__serve_client_opts;

/* A blocking connection, cleartext or TLS. */
typedef struct sl__serve_link {
    int fd;       /* -1 when closed */
    sl__tls *tls; /* NULL: cleartext */
} sl__serve_link;

typedef enum sl__forward_result {
    SL_FORWARD_OK = 0,
    SL_FORWARD_RETRY = 1,    /* connection failed, 429, 5xx: try again */
    SL_FORWARD_PERMANENT = 2 /* 4xx: the target will never take it */
} sl__forward_result;

/* Parse http[s]://HOST[:PORT][/prefix] (ports 80 / 443 by default); NULL
 * with a message in err (a malformed URL, an unreadable CA file). */
sl__serve_forward *sl__serve_forward_new(const char *url,
                                         const sl__serve_client_opts *co,
                                         sl_error *err);
void sl__serve_forward_free(sl__serve_forward *f);

/* POST body (OTLP JSON or protobuf) to <prefix>/v1/<signal>. *retry_after_ms is
 * the target's Retry-After (0 = none); status is the HTTP status (0 when no
 * response). */
sl__forward_result sl__serve_forward_post(sl__serve_forward *f, sl_signal sig,
                                          const char *body, size_t len,
                                          unsigned *retry_after_ms,
                                          int *status);

/* POST body (gzip when the options say) to the URL's own path, with the
 * content type of _new (JSON or protobuf) and Accept the same; append the
 * answer's
 * body to resp. status is the HTTP status (0 when no response). Used by the
 * policy sync client (sync.c). */
sl__forward_result sl__serve_forward_call(sl__serve_forward *f,
                                          const char *body, size_t len,
                                          int *status, sl_buf *resp);

/* Connect l to host:port (TCP, blocking, TCP_NODELAY) within timeout_ms,
 * which also bounds each later send and recv; then the TLS handshake when
 * tc is not NULL (SNI and the name check for host). false when it
 * cannot (l->fd is then -1); a failed handshake is logged with its reason
 * (a refused certificate says why). Shared with the gRPC client
 * (grpc_client.c). */
bool sl__serve_link_open(sl__serve_link *l, const char *host, const char *port,
                         unsigned timeout_ms, sl__tls_client *tc);

/* Send all n bytes (no SIGPIPE). false on an error or time-out. */
bool sl__serve_link_send(sl__serve_link *l, const char *p, size_t n);

/* Receive up to cap bytes: the count, 0 at the peer's end, -1 on an error
 * or time-out. */
ssize_t sl__serve_link_recv(sl__serve_link *l, void *buf, size_t cap);

/* Whether received bytes wait in the TLS session (recv will not block). */
bool sl__serve_link_pending(const sl__serve_link *l);

/* Close (TLS close_notify first); l->fd becomes -1. Closed: a no-op. */
void sl__serve_link_close(sl__serve_link *l);

#endif

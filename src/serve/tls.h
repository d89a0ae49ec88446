/* src/serve/tls.h: TLS for the gateway through OpenSSL, both ways. The
 * server side (--tls-cert / --tls-key, optional --tls-client-ca for mutual
 * TLS) wraps accepted sockets of the OTLP/HTTP and gRPC listeners in
 * non-blocking sessions that net.c drives from its epoll loop; ALPN offers
 * h2 and http/1.1 (h2 only on the gRPC listener); TLS 1.2 and later only.
 * The client side (--forward https://, --forward-grpc-tls) wraps the
 * blocking sockets of the exporter and the policy sync clients, verifying
 * the peer against the system store or a CA file, with SNI. Decrypted
 * bytes go through the same HTTP/1.1 and HTTP/2 code as cleartext ones.
 * No OpenSSL type leaves tls.c. */
#ifndef SL_SERVE_TLS_H
#define SL_SERVE_TLS_H

#include <sluice/sluice.h>

#include <stdbool.h>
#include <stddef.h>

/* What one server-side session may hold in OpenSSL's heap, charged to
 * --max-inflight per TLS connection from accept to close. Measured with
 * the release build (OpenSSL 3.0, TLS 1.3, ECDHE and certificate P-256,
 * RSS over 1,000 connections): 9 KiB before the ClientHello, 57 KiB in
 * the middle of the handshake (key schedule, record buffers), 33 KiB idle
 * after it; the ceiling is rounded up. */
enum {
    SL_TLS_SESSION_BYTES = 64 * 1024
};

typedef struct sl__tls_server sl__tls_server;
typedef struct sl__tls_client sl__tls_client;
typedef struct sl__tls sl__tls; /* one connection's session */

/* What one read or write did. */
typedef enum sl__tls_io {
    SL_TLS_DONE = 0,       /* bytes moved (*n > 0) */
    SL_TLS_WANT_READ = 1,  /* wait until the socket is readable */
    SL_TLS_WANT_WRITE = 2, /* wait until the socket is writable */
    SL_TLS_CLOSED = 3,     /* the peer closed (close_notify or EOF) */
    SL_TLS_FAILED = 4,     /* handshake or protocol error, I/O error */
    SL_TLS_PLAIN_HTTP = 5  /* cleartext HTTP sent to the TLS port */
} sl__tls_io;

/* A server context from PEM files: cert (the chain, leaf first), key, and
 * client_ca (NULL: no client certificate asked; else one is required and
 * verified against it). NULL with err naming the file and OpenSSL's
 * reason when one cannot be read or they do not match. */
sl__tls_server *sl__tls_server_new(const char *cert, const char *key,
                                   const char *client_ca, sl_error *err);

/* Read the same files again (SIGHUP): new connections use the new
 * certificate, open ones keep theirs. On failure the old context stays
 * and err says why. Safe against concurrent sl__tls_accept(). */
sl_status sl__tls_server_reload(sl__tls_server *t, sl_error *err);

void sl__tls_server_free(sl__tls_server *t);

/* A session for an accepted non-blocking socket; the handshake runs in
 * the first reads. h2_only: ALPN offers only h2 (the gRPC listener).
 * NULL when out of memory. */
sl__tls *sl__tls_accept(sl__tls_server *t, int fd, bool h2_only);

/* A client context: verify the server against ca_file (NULL: the system
 * store) unless insecure; alpn_h2 offers ALPN h2 (gRPC). NULL with err. */
sl__tls_client *sl__tls_client_new(const char *ca_file, bool insecure,
                                   bool alpn_h2, sl_error *err);
void sl__tls_client_free(sl__tls_client *c);

/* Handshake over the connected blocking socket fd (its SO_RCVTIMEO /
 * SO_SNDTIMEO bound it) with SNI and name check for host. NULL when it
 * fails, with err saying why (the verification result when the
 * certificate was refused). */
sl__tls *sl__tls_connect(sl__tls_client *c, int fd, const char *host,
                         sl_error *err);

/* Whether the handshake is over. */
bool sl__tls_ready(const sl__tls *t);

/* Decrypted bytes into buf (up to cap); *n is set on SL_TLS_DONE. On a
 * non-blocking socket the handshake and records may want either
 * direction; on a blocking one WANT_* means the time-out passed. */
sl__tls_io sl__tls_read(sl__tls *t, char *buf, size_t cap, size_t *n);

/* Encrypt and send up to len bytes of buf; *n is set on SL_TLS_DONE (a
 * part may go). After WANT_*, call again with the same bytes (more may
 * follow them; the buffer may have moved). */
sl__tls_io sl__tls_write(sl__tls *t, const char *buf, size_t len, size_t *n);

/* Whether decrypted bytes wait inside the session (read them before
 * polling the socket). */
bool sl__tls_pending(const sl__tls *t);

/* Send close_notify when the session is healthy (best effort, never
 * blocks on a non-blocking socket), then free. The socket stays open.
 * NULL is a no-op. */
void sl__tls_free(sl__tls *t);

#endif

/* src/serve/net.h: the transport: listening sockets and N worker threads,
 * each with its own epoll loop, connections and pipeline. Every worker
 * waits on every listener (EPOLLEXCLUSIVE wakes one); a connection stays
 * with the worker that accepted it, so a request never crosses threads.
 * HTTP/1.1 (keep-alive, pipelining, chunked, 100-continue) and h2c with
 * prior knowledge (h2.c) on the OTLP/HTTP and admin listeners; the gRPC
 * listener speaks HTTP/2 only. Both may run over TLS (tls.h). */
#ifndef SL_SERVE_NET_H
#define SL_SERVE_NET_H

#include "serve/private.h"

typedef struct sl__serve_net sl__serve_net;

enum {
    SL_SERVE_ADDR_LEN = 80
};

/* Bind the three listeners (opts.http, opts.grpc, opts.admin; port 0 =
 * any free port) and write each one's bound HOST:PORT into addrs. NULL
 * (logged) when one cannot be bound. */
sl__serve_net *sl__serve_net_new(sl__serve *srv,
                                 char addrs[3][SL_SERVE_ADDR_LEN]);

/* Start opts.threads workers. false (logged) when none could start. */
bool sl__serve_net_start(sl__serve_net *net);

/* Stop accepting, let in-flight requests finish (bounded by
 * opts.drain_timeout_ms), join the workers. Call after srv->draining is
 * set. */
void sl__serve_net_drain(sl__serve_net *net);

/* SIGHUP: read the TLS certificate, key and client CA again; new
 * connections use them, open ones keep theirs; a failure is logged and
 * keeps the old ones. No-op without TLS. */
void sl__serve_net_reload_tls(sl__serve_net *net);

/* Close the listeners and free. NULL is a no-op. */
void sl__serve_net_free(sl__serve_net *net);

#endif

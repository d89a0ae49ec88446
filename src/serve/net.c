/* src/serve/net.c: listeners, workers and HTTP/1.1 connections over
 * epoll (see net.h). Reads go into the connection's buffer (bounded by
 * the header and body limits), requests are framed by http1.c and
 * answered in place by receiver.c; a connection whose answers are not
 * read is not read either (no unbounded output). With --tls-cert the
 * OTLP/HTTP and gRPC listeners' connections go through a TLS session
 * (tls.c): the handshake runs inside the first reads, non-blocking, and
 * must end within --read-timeout-ms; decrypted bytes take the cleartext
 * path, so every limit applies unchanged. The admin listener stays
 * cleartext. */
#define _GNU_SOURCE /* accept4 */
#include "serve/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/base.h"
#include "serve/export.h"
#include "serve/h2.h"
#include "serve/http1.h"
#include "serve/log.h"
#include "serve/receiver.h"
#include "serve/tls.h"

enum {
    SRC_LISTENER = 0,
    SRC_CONN = 1,
    SRC_WAKE = 2,
    READ_STEP = 64 * 1024,
    OUT_HIGH = 1 << 20, /* stop answering pipelined requests above this */
    SWEEP_MS = 100,
    HANDOFF_CAP = 256 /* connections waiting for another worker to take */
};

typedef struct src {
    int kind;
    int fd;
} src;

typedef struct listener {
    src s;
    sl__serve_listener kind;
} listener;

typedef struct worker worker;

/* A connection accepted by one worker for another (balancing). */
typedef struct handoff {
    int fd;
    sl__serve_listener kind;
} handoff;

typedef struct conn {
    src s;
    sl__serve_listener kind;
    worker *w;
    struct conn *prev, *next;
    sl_buf in, out;
    size_t out_off;
    sl__http_parser p;
    sl__serve_h2 *h2; /* set once the connection speaks HTTP/2 */
    sl__tls *tls;     /* TLS listeners: the session */
    size_t held;      /* in.cap as counted in the server's inflight bytes */
    uint64_t last_ms, req_start_ms, start_ms;
    uint64_t req_start_us; /* the request's first byte read (latency) */
    /* TLS may need the other direction: a read waiting for the socket to
     * be writable (handshake), a write waiting for it to be readable */
    bool tls_read_wants_out, tls_write_wants_in;
    bool closing, peer_closed, sent_continue, want_out, goaway;
    bool deferred; /* answers wait for the on-disk queue's commit */
} conn;

struct worker {
    sl__serve_net *net;
    pthread_t thread;
    int ep;
    src wake;
    sl__serve_pipe pipe;
    conn *conns;
    size_t nconns;
    int spare_fd; /* given up to refuse a connection when out of fds */
    bool listening, started;
    unsigned id; /* index: srv->m.worker_conns[id] is its share */
    /* connections other workers accepted for this one: a ring under hmu,
     * taken when wake fires; hclosed once the loop has ended */
    pthread_mutex_t hmu;
    bool hmu_init, hclosed;
    handoff hq[HANDOFF_CAP];
    size_t hhead, hlen;
};

struct sl__serve_net {
    sl__serve *srv;
    listener l[3];
    sl__tls_server *tls; /* --tls-cert: the OTLP/HTTP and gRPC listeners */
    sl__tls_server *admin_tls; /* --admin-tls-cert: the admin listener */
    worker *workers;
    unsigned nworkers;
    _Atomic unsigned rr; /* where the next least-loaded search starts */
};

/* ---- listeners ---- */

static int bind_one(const char *hostport, char *bound, size_t cap) {
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof(host)) {
        sl__serve_log(SL_SERVE_ERROR, "listen address \"%s\": want HOST:PORT",
                      hostport);
        return -1;
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    char *h = host;
    if (h[0] == '[') { /* [::1]:4318 */
        h++;
        size_t n = strlen(h);
        if (n > 0 && h[n - 1] == ']') {
            h[n - 1] = '\0';
        }
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int gr = getaddrinfo(h[0] ? h : NULL, colon + 1, &hints, &res);
    if (gr != 0) {
        sl__serve_log(SL_SERVE_ERROR, "listen address \"%s\": %s", hostport,
                      gai_strerror(gr));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);
        if (fd < 0) {
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 1024) == 0) {
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        sl__serve_log(SL_SERVE_ERROR, "cannot listen on %s: %s", hostport,
                      strerror(errno));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        port = ntohs(s6->sin6_port);
        snprintf(bound, cap, "[%s]:%u", ip, port);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        port = ntohs(s4->sin_port);
        snprintf(bound, cap, "%s:%u", ip, port);
    }
    return fd;
}

sl__serve_net *sl__serve_net_new(sl__serve *srv,
                                 char addrs[3][SL_SERVE_ADDR_LEN]) {
    sl__serve_net *net = sl__calloc(1, sizeof(*net));
    if (!net) {
        sl__serve_log(SL_SERVE_ERROR, "out of memory");
        return NULL;
    }
    net->srv = srv;
    if (srv->opts.tls_cert) {
        sl_error err = {0};
        net->tls = sl__tls_server_new(srv->opts.tls_cert, srv->opts.tls_key,
                                      srv->opts.tls_client_ca, &err);
        if (!net->tls) {
            sl__serve_log(SL_SERVE_ERROR, "%s", err.msg);
            sl__serve_net_free(net);
            return NULL;
        }
    }
    if (srv->opts.admin_tls_cert) {
        sl_error err = {0};
        net->admin_tls = sl__tls_server_new(
            srv->opts.admin_tls_cert, srv->opts.admin_tls_key, NULL, &err);
        if (!net->admin_tls) {
            sl__serve_log(SL_SERVE_ERROR, "admin listener: %s", err.msg);
            sl__serve_net_free(net);
            return NULL;
        }
    }
    const char *want[3] = {srv->opts.http, srv->opts.grpc, srv->opts.admin};
    for (int i = 0; i < 3; i++) {
        net->l[i].s.kind = SRC_LISTENER;
        net->l[i].kind = (sl__serve_listener)i;
        net->l[i].s.fd = bind_one(want[i], addrs[i], SL_SERVE_ADDR_LEN);
        if (net->l[i].s.fd < 0) {
            sl__serve_net_free(net);
            return NULL;
        }
    }
    return net;
}

/* ---- connections ---- */

/* Keep the server-wide count of input buffer memory in step with c. */
static void account(worker *w, conn *c) {
    _Atomic uint64_t *total = &w->net->srv->m.inflight_bytes;
    if (c->in.cap > c->held) {
        atomic_fetch_add(total, c->in.cap - c->held);
    } else if (c->in.cap < c->held) {
        atomic_fetch_sub(total, c->held - c->in.cap);
    }
    c->held = c->in.cap;
}

/* After a request: give a large idle input buffer back. */
static void shrink(worker *w, conn *c) {
    if (c->in.len == 0 && c->in.cap > (1u << 20)) {
        sl__buf_free(&c->in);
        account(w, c);
    }
}

static void conn_close(worker *w, conn *c) {
    epoll_ctl(w->ep, EPOLL_CTL_DEL, c->s.fd, NULL);
    if (c->tls) {
        sl__tls_free(c->tls);
        atomic_fetch_sub(&w->net->srv->m.inflight_bytes, SL_TLS_SESSION_BYTES);
    }
    close(c->s.fd);
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        w->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    w->nconns--;
    atomic_fetch_sub(&w->net->srv->m.conns_open, 1);
    atomic_fetch_sub(&w->net->srv->m.worker_conns[w->id], 1);
    sl__serve_h2_free(c->h2);
    sl__buf_free(&c->in);
    account(w, c);
    sl__buf_free(&c->out);
    sl__free(c, sizeof(*c));
}

static void set_out_interest(worker *w, conn *c, bool want) {
    if (c->tls_read_wants_out) {
        want = true; /* the handshake must write before reading on */
    } else if (c->tls_write_wants_in) {
        want = false;
    }
    if (c->want_out == want) {
        return;
    }
    struct epoll_event ev = {0};
    ev.events = want ? EPOLLOUT : EPOLLIN;
    ev.data.ptr = c;
    epoll_ctl(w->ep, EPOLL_CTL_MOD, c->s.fd, &ev);
    c->want_out = want;
}

static void conn_process(worker *w, conn *c);

/* One send of c's pending output, through TLS or straight: 1 with *sent
 * set, 0 to wait for the socket (the interest is set), -1 when the
 * connection broke. */
static int conn_send(worker *w, conn *c, size_t *sent) {
    const char *p = c->out.ptr + c->out_off;
    size_t n = c->out.len - c->out_off;
    if (c->tls) {
        switch (sl__tls_write(c->tls, p, n, sent)) {
        case SL_TLS_DONE:
            return 1;
        case SL_TLS_WANT_WRITE:
            set_out_interest(w, c, true);
            return 0;
        case SL_TLS_WANT_READ:
            c->tls_write_wants_in = true;
            set_out_interest(w, c, false);
            return 0;
        default:
            return -1;
        }
    }
    for (;;) {
        ssize_t r = send(c->s.fd, p, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_out_interest(w, c, true);
            return 0;
        }
        if (r <= 0) {
            return -1;
        }
        *sent = (size_t)r;
        return 1;
    }
}

/* Send what is pending; returns false when the connection was closed. */
static bool conn_flush(worker *w, conn *c) {
    if (w->pipe.commit && c->out_off < c->out.len) {
        c->deferred = true; /* sent by commit_and_flush() */
        return true;
    }
    while (c->out_off < c->out.len) {
        size_t sent = 0;
        int r = conn_send(w, c, &sent);
        if (r == 0) {
            return true;
        }
        if (r < 0) {
            conn_close(w, c);
            return false;
        }
        c->out_off += sent;
        c->last_ms = sl__serve_now_ms();
    }
    c->out.len = 0;
    c->out_off = 0;
    if (c->closing || (c->peer_closed && c->in.len == 0 &&
                       !(c->h2 && sl__serve_h2_answering(c->h2)))) {
        conn_close(w, c);
        return false;
    }
    set_out_interest(w, c, false);
    return true;
}

/* Whether the input starts (or, when short, could start) with the HTTP/2
 * preface: prior-knowledge h2c on the OTLP/HTTP and admin listeners. */
static int h2_preface(const sl_buf *in) {
    static const char pre[] = SL_SERVE_H2_PREFACE;
    size_t n = in->len < sizeof(pre) - 1 ? in->len : sizeof(pre) - 1;
    if (memcmp(in->ptr, pre, n) != 0) {
        return 0; /* HTTP/1.x */
    }
    return n == sizeof(pre) - 1 ? 1 : -1; /* yes / need more */
}

/* HTTP/2: nghttp2 takes every byte; answers are queued as frames. */
static void conn_process_h2(worker *w, conn *c) {
    if (c->in.len > 0) {
        bool ok = sl__serve_h2_recv(c->h2, c->in.ptr, c->in.len);
        c->in.len = 0;
        shrink(w, c);
        if (!ok) {
            c->closing = true;
        }
    }
    if (atomic_load(&w->net->srv->draining) && !c->goaway) {
        sl__serve_h2_shutdown(c->h2);
        c->goaway = true;
    }
    if (!sl__serve_h2_send(c->h2, &c->out) || sl__serve_h2_done(c->h2) ||
        (c->peer_closed && !sl__serve_h2_answering(c->h2))) {
        c->closing = true;
    }
    if (c->out.failed) {
        conn_close(w, c);
        return;
    }
    conn_flush(w, c);
}

static void conn_process(worker *w, conn *c) {
    sl__serve *srv = w->net->srv;
    const sl__serve_opts *o = &srv->opts;
    if (!c->h2 && c->in.len > 0) {
        int pre = c->kind == SL_SERVE_L_GRPC ? 1 : h2_preface(&c->in);
        if (pre < 0 && !c->peer_closed) {
            return;
        }
        if (pre > 0) {
            c->h2 = sl__serve_h2_new(&w->pipe, c->kind);
            if (!c->h2) {
                conn_close(w, c);
                return;
            }
        }
    }
    if (c->h2) {
        conn_process_h2(w, c);
        return;
    }
    for (;;) {
        while (!c->closing && c->out.len < OUT_HIGH) {
            sl__http_req req;
            int status = 0;
            sl__http_result r = sl__http_parse(&c->p, &c->in, o->max_header,
                                               o->max_body, &req, &status);
            if (r == SL_HTTP_MORE) {
                if (c->p.want_continue && !c->sent_continue) {
                    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                    sl__buf_append(&c->out, cont, sizeof(cont) - 1);
                    c->sent_continue = true;
                }
                if (c->peer_closed) {
                    c->closing = true; /* a request cut short: nothing to do */
                }
                break;
            }
            if (r == SL_HTTP_ERROR) {
                sl__serve_http_error(srv, status, &c->out);
                c->closing = true;
                break;
            }
            bool keep = req.keep_alive && !c->peer_closed;
            sl__serve_http_handle_at(&w->pipe, c->kind, &req, c->req_start_us,
                                     &c->out, &keep);
            sl__http_consume(&c->p, &c->in);
            shrink(w, c);
            c->sent_continue = false;
            /* a pipelined request's bytes are here already: it starts now */
            c->req_start_us = c->in.len ? sl__serve_now_us() : 0;
            c->req_start_ms = c->req_start_us / 1000u;
            if (!keep) {
                c->closing = true;
            }
        }
        if (c->out.failed) {
            conn_close(w, c); /* out of memory for the answer */
            return;
        }
        size_t pending = c->in.len;
        bool was_full = c->out.len >= OUT_HIGH;
        if (!conn_flush(w, c)) {
            return;
        }
        /* all answers went out and more requests wait: go on */
        if (!(was_full && c->out.len == 0 && pending > 0)) {
            return;
        }
    }
}

/* Cleartext HTTP sent to a TLS port: one plain answer saying so (as
 * nginx does), written past the session, then the connection ends. The
 * request already received is read first (a bounded amount): closing
 * with unread input would reset the connection and could destroy the
 * answer before the client reads it. */
static void refuse_plain(worker *w, conn *c) {
    static const char msg[] =
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
        "Content-Length: 39\r\nConnection: close\r\n\r\n"
        "this port speaks TLS: use https or h2\r\n";
    char scratch[4096];
    for (int i = 0; i < 16; i++) {
        if (recv(c->s.fd, scratch, sizeof(scratch), MSG_DONTWAIT) <= 0) {
            break;
        }
    }
    ssize_t r = send(c->s.fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL);
    (void)r; /* best effort: the connection ends either way */
    shutdown(c->s.fd, SHUT_WR);
    conn_close(w, c);
}

/* One receive into buf, through TLS or straight: > 0 bytes, 0 at the
 * peer's end, -1 to wait for the socket, -2 when c was closed. */
static ssize_t conn_recv(worker *w, conn *c, char *buf, size_t cap) {
    if (!c->tls) {
        for (;;) {
            ssize_t n = recv(c->s.fd, buf, cap, 0);
            if (n >= 0) {
                return n;
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return -1;
            }
            conn_close(w, c);
            return -2;
        }
    }
    size_t got = 0;
    bool was_ready = sl__tls_ready(c->tls);
    switch (sl__tls_read(c->tls, buf, cap, &got)) {
    case SL_TLS_DONE:
        return (ssize_t)got;
    case SL_TLS_WANT_READ:
        return -1;
    case SL_TLS_WANT_WRITE:
        c->tls_read_wants_out = true;
        set_out_interest(w, c, true);
        return -1;
    case SL_TLS_CLOSED:
        return 0;
    case SL_TLS_PLAIN_HTTP:
        atomic_fetch_add(&w->net->srv->m.tls_failed, 1);
        refuse_plain(w, c);
        return -2;
    default:
        if (!was_ready) {
            atomic_fetch_add(&w->net->srv->m.tls_failed, 1);
        }
        conn_close(w, c);
        return -2;
    }
}

static void conn_read(worker *w, conn *c) {
    const sl__serve_opts *o = &w->net->srv->opts;
    size_t cap = o->max_header + o->max_body + READ_STEP;
    for (;;) {
        if (c->in.len >= cap && !c->h2) {
            /* the parser's limits should have answered first: never read
             * without bound */
            sl__serve_http_error(w->net->srv, 413, &c->out);
            c->closing = true;
            conn_flush(w, c);
            return;
        }
        const sl__serve_opts *lim = &w->net->srv->opts;
        if (c->kind != SL_SERVE_L_ADMIN && /* /metrics under overload */
            c->in.cap < c->in.len + READ_STEP + 1 &&
            atomic_load(&w->net->srv->m.inflight_bytes) + READ_STEP >
                lim->max_inflight) {
            /* every connection's buffers together are bounded: this
             * request is refused (not acknowledged), the client retries */
            atomic_fetch_add(&w->net->srv->m.rejected_memory, 1);
            sl__serve_http_error(w->net->srv, 503, &c->out);
            c->closing = true;
            conn_flush(w, c);
            return;
        }
        if (sl__buf_reserve(&c->in, READ_STEP) != SL_OK) {
            conn_close(w, c);
            return;
        }
        account(w, c);
        size_t room = c->in.cap - c->in.len - 1;
        ssize_t n = conn_recv(w, c, c->in.ptr + c->in.len, room);
        if (n == -2) {
            return; /* closed */
        }
        if (n > 0) {
            if (c->in.len == 0 && c->req_start_ms == 0) {
                c->req_start_us = sl__serve_now_us();
                c->req_start_ms = c->req_start_us / 1000u;
            }
            c->in.len += (size_t)n;
            c->in.ptr[c->in.len] = '\0';
            atomic_fetch_add(&w->net->srv->m.bytes_in, (uint64_t)n);
            if ((size_t)n < room && !c->tls) {
                break; /* drained (a TLS session may still hold records) */
            }
            continue;
        }
        if (n == 0) {
            c->peer_closed = true;
        }
        break;
    }
    c->last_ms = sl__serve_now_ms();
    conn_process(w, c);
}

/* The TLS context of a listener's connections, NULL for cleartext: the
 * receivers' for OTLP/HTTP and gRPC; for the admin listener its own
 * (--admin-tls-cert) or, with --admin-tls, the receivers'. */
static sl__tls_server *tls_for(const sl__serve_net *net,
                               sl__serve_listener kind) {
    if (kind != SL_SERVE_L_ADMIN) {
        return net->tls;
    }
    return net->srv->opts.admin_tls_same ? net->tls : net->admin_tls;
}

/* Charge a TLS session's memory to the in-flight bound (OpenSSL keeps
 * its own heap: SL_TLS_SESSION_BYTES is its measured ceiling per
 * connection); false, uncharged and counted, when it would pass
 * --max-inflight. The admin listener is charged but never refused. */
static bool charge_tls(sl__serve *srv, sl__serve_listener kind) {
    _Atomic uint64_t *total = &srv->m.inflight_bytes;
    uint64_t was = atomic_fetch_add(total, SL_TLS_SESSION_BYTES);
    if (kind != SL_SERVE_L_ADMIN &&
        was + SL_TLS_SESSION_BYTES > srv->opts.max_inflight) {
        atomic_fetch_sub(total, SL_TLS_SESSION_BYTES);
        atomic_fetch_add(&srv->m.tls_refused_memory, 1);
        return false;
    }
    return true;
}

/* Make the accepted socket fd (TCP_NODELAY set, counted in
 * srv->m.worker_conns[w->id]) one of w's connections; on failure (out of
 * memory, or a TLS session over --max-inflight) it is closed and
 * uncounted. */
static void adopt(worker *w, int fd, sl__serve_listener kind) {
    sl__serve *srv = w->net->srv;
    conn *c = sl__calloc(1, sizeof(*c));
    if (!c) {
        goto fail;
    }
    c->s.kind = SRC_CONN;
    c->s.fd = fd;
    c->kind = kind;
    c->w = w;
    c->last_ms = sl__serve_now_ms();
    c->start_ms = c->last_ms;
    sl__tls_server *t = tls_for(w->net, kind);
    if (t) {
        if (!charge_tls(srv, kind)) {
            goto fail;
        }
        c->tls = sl__tls_accept(t, fd, kind == SL_SERVE_L_GRPC);
        if (!c->tls) {
            atomic_fetch_sub(&srv->m.inflight_bytes, SL_TLS_SESSION_BYTES);
            goto fail;
        }
    }
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        if (c->tls) {
            sl__tls_free(c->tls);
            atomic_fetch_sub(&srv->m.inflight_bytes, SL_TLS_SESSION_BYTES);
        }
        goto fail;
    }
    c->next = w->conns;
    if (w->conns) {
        w->conns->prev = c;
    }
    w->conns = c;
    w->nconns++;
    atomic_fetch_add(&srv->m.conns_open, 1);
    atomic_fetch_add(&srv->m.conns_total, 1);
    return;
fail:
    close(fd);
    sl__free(c, sizeof(*c));
    atomic_fetch_sub(&srv->m.worker_conns[w->id], 1);
}

/* The worker holding the fewest connections; among equals, the search
 * starts one further each time, so a burst of connects (a client opening
 * its pool) is dealt out in turn rather than to whichever worker woke.
 * One worker taking a whole burst would leave the others idle while its
 * requests queue: the tail latency of a multi-threaded server. */
static worker *least_loaded(sl__serve_net *net) {
    _Atomic uint64_t *share = net->srv->m.worker_conns;
    unsigned n = net->nworkers;
    unsigned best = atomic_fetch_add(&net->rr, 1) % n;
    uint64_t min = atomic_load(&share[best]);
    for (unsigned k = 1; k < n; k++) {
        unsigned i = (best + k) % n;
        uint64_t v = atomic_load(&share[i]);
        if (v < min) {
            min = v;
            best = i;
        }
    }
    return &net->workers[best];
}

/* Queue fd for worker to and wake it; false when its ring is full or its
 * loop has ended (the caller keeps the connection). */
static bool hand_over(worker *to, int fd, sl__serve_listener kind) {
    pthread_mutex_lock(&to->hmu);
    bool ok = !to->hclosed && to->hlen < HANDOFF_CAP;
    if (ok) {
        to->hq[(to->hhead + to->hlen) % HANDOFF_CAP] =
            (handoff){.fd = fd, .kind = kind};
        to->hlen++;
    }
    pthread_mutex_unlock(&to->hmu);
    if (ok) {
        uint64_t one = 1;
        ssize_t r = write(to->wake.fd, &one, sizeof(one));
        (void)r; /* the counter only saturates: a wake is pending then */
    }
    return ok;
}

/* Take the connections handed to w; with closing, close them instead and
 * take no more (the loop is ending). */
static void take_handoffs(worker *w, bool closing) {
    for (;;) {
        pthread_mutex_lock(&w->hmu);
        if (closing) {
            w->hclosed = true;
        }
        if (w->hlen == 0) {
            pthread_mutex_unlock(&w->hmu);
            return;
        }
        handoff h = w->hq[w->hhead];
        w->hhead = (w->hhead + 1) % HANDOFF_CAP;
        w->hlen--;
        pthread_mutex_unlock(&w->hmu);
        if (closing) {
            close(h.fd);
            atomic_fetch_sub(&w->net->srv->m.worker_conns[w->id], 1);
        } else {
            adopt(w, h.fd, h.kind);
        }
    }
}

static void accept_all(worker *w, listener *l) {
    sl__serve *srv = w->net->srv;
    for (;;) {
        int fd = accept4(l->s.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) {
                continue;
            }
            if ((errno == EMFILE || errno == ENFILE) && w->spare_fd >= 0) {
                /* out of descriptors: the listener would stay readable and
                 * spin; free the spare, refuse this one, take it back */
                close(w->spare_fd);
                int refused = accept4(l->s.fd, NULL, NULL, SOCK_CLOEXEC);
                if (refused >= 0) {
                    close(refused);
                    atomic_fetch_add(&srv->m.conns_refused, 1);
                }
                w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (refused < 0) {
                    return; /* none pending (Linux says EMFILE first) */
                }
                continue;
            }
            return; /* EAGAIN */
        }
        if (atomic_load(&srv->m.conns_open) >= srv->opts.max_conns) {
            atomic_fetch_add(&srv->m.conns_refused, 1);
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        /* the admin listener's connections stay where they were accepted
         * (scrapes are light); OTLP ones go to the least-loaded worker */
        worker *to = l->kind == SL_SERVE_L_ADMIN ? w : least_loaded(w->net);
        _Atomic uint64_t *share = srv->m.worker_conns;
        atomic_fetch_add(&share[to->id], 1);
        if (to != w) {
            if (hand_over(to, fd, l->kind)) {
                continue;
            }
            /* its ring is full or it has stopped: keep it here */
            atomic_fetch_sub(&share[to->id], 1);
            atomic_fetch_add(&share[w->id], 1);
        }
        adopt(w, fd, l->kind);
    }
}

/* Since when c has been idle: its last read or write; on HTTP/2 its last
 * request frame or finished answer, so that PINGs (read, and answered)
 * do not keep an idle connection open. */
static uint64_t idle_since(const conn *c) {
    if (!c->h2) {
        return c->last_ms;
    }
    uint64_t a = sl__serve_h2_active_ms(c->h2);
    return a > c->start_ms ? a : c->start_ms;
}

/* Close connections past their deadlines; when draining, also every
 * connection with no request in progress. */
static void sweep(worker *w, uint64_t now, bool draining) {
    sl__serve *srv = w->net->srv;
    const sl__serve_opts *o = &srv->opts;
    conn *next = NULL;
    for (conn *c = w->conns; c; c = next) {
        next = c->next;
        bool busy = c->in.len > 0 || c->out.len > 0 ||
                    (c->h2 && sl__serve_h2_busy(c->h2));
        if (c->tls && !sl__tls_ready(c->tls) &&
            now - c->start_ms > o->read_timeout_ms) {
            /* a handshake still unfinished after the read timeout
             * (slowloris before the first request) */
            atomic_fetch_add(&srv->m.timeouts, 1);
            atomic_fetch_add(&srv->m.tls_failed, 1);
            conn_close(w, c);
            continue;
        }
        if (draining && c->h2 && !c->goaway) {
            conn_process_h2(w, c); /* GOAWAY: no new streams */
            continue;
        }
        if (c->h2 && !c->closing &&
            sl__serve_h2_expire(c->h2, now, o->read_timeout_ms, &c->out)) {
            /* an HTTP/2 request trickling in past the read timeout
             * (slowloris over h2): 408, GOAWAY, then the connection ends */
            atomic_fetch_add(&srv->m.timeouts, 1);
            c->closing = true;
            conn_process_h2(w, c);
        } else if ((c->out.len > 0 || (c->h2 && busy)) &&
                   now - c->last_ms > o->read_timeout_ms) {
            /* the client does not read its answers, or an HTTP/2 stream
             * stalls mid-request (slowloris over h2) */
            atomic_fetch_add(&srv->m.timeouts, 1);
            conn_close(w, c);
        } else if (c->out.len == 0 && c->in.len > 0 && c->req_start_ms &&
                   now - c->req_start_ms > o->read_timeout_ms) {
            atomic_fetch_add(&srv->m.timeouts, 1);
            sl__serve_http_error(srv, 408, &c->out);
            c->closing = true;
            conn_flush(w, c);
        } else if (!busy &&
                   (draining || (now > idle_since(c) &&
                                 now - idle_since(c) > o->idle_timeout_ms))) {
            if (!draining) {
                atomic_fetch_add(&srv->m.timeouts, 1);
            }
            conn_close(w, c);
        }
    }
}

/* The on-disk queue (--queue-dir): the requests this worker ran in one
 * event batch were written to it; one commit (a shared fdatasync in batch
 * mode) makes them durable, then their answers go out: nothing is
 * acknowledged before. A failed commit closes those connections instead
 * (the clients retry; what was written may be delivered twice). */
static void commit_and_flush(worker *w) {
    while (w->pipe.commit) {
        uint64_t gen = w->pipe.commit;
        w->pipe.commit = 0;
        bool ok = sl__serve_export_commit(w->net->srv->ex, gen) == SL_OK;
        conn *nx = NULL;
        for (conn *c = w->conns; c; c = nx) {
            nx = c->next;
            if (!c->deferred) {
                continue;
            }
            c->deferred = false;
            if (!ok) {
                conn_close(w, c);
            } else if (conn_flush(w, c) && c->in.len > 0) {
                conn_process(w, c); /* pipelined requests left waiting */
            }
        }
    }
}

static void *worker_run(void *arg) {
    worker *w = arg;
    sl__serve *srv = w->net->srv;
    struct epoll_event evs[64];
    uint64_t last_sweep = sl__serve_now_ms();
    uint64_t drain_deadline = 0;
    for (;;) {
        bool draining = atomic_load(&srv->draining);
        if (draining && w->listening) {
            for (int i = 0; i < 3; i++) {
                epoll_ctl(w->ep, EPOLL_CTL_DEL, w->net->l[i].s.fd, NULL);
            }
            w->listening = false;
            drain_deadline = sl__serve_now_ms() + srv->opts.drain_timeout_ms;
            sweep(w, sl__serve_now_ms(), true);
        }
        if (draining &&
            (w->nconns == 0 || sl__serve_now_ms() > drain_deadline)) {
            break;
        }
        int n = epoll_wait(w->ep, evs, 64, SWEEP_MS);
        for (int i = 0; i < n; i++) {
            src *s = evs[i].data.ptr;
            if (s->kind == SRC_LISTENER) {
                accept_all(w, (listener *)s);
            } else if (s->kind == SRC_WAKE) {
                uint64_t v;
                ssize_t r = read(s->fd, &v, sizeof(v));
                (void)r;
                take_handoffs(w, false);
            } else {
                conn *c = (conn *)s;
                if (c->tls_read_wants_out) {
                    c->tls_read_wants_out = false; /* writable now */
                    conn_read(w, c);
                } else if (c->tls_write_wants_in) {
                    c->tls_write_wants_in = false; /* readable now */
                    if (conn_flush(w, c) && c->in.len > 0) {
                        conn_process(w, c);
                    }
                } else if (evs[i].events & EPOLLOUT) {
                    if (conn_flush(w, c) && c->in.len > 0) {
                        conn_process(w, c);
                    }
                } else {
                    conn_read(w, c);
                }
            }
        }
        commit_and_flush(w);
        uint64_t now = sl__serve_now_ms();
        if (now - last_sweep >= SWEEP_MS) {
            sweep(w, now, draining);
            last_sweep = now;
        }
    }
    take_handoffs(w, true);
    while (w->conns) {
        conn_close(w, w->conns);
    }
    return NULL;
}

bool sl__serve_net_start(sl__serve_net *net) {
    sl__serve *srv = net->srv;
    unsigned n = srv->opts.threads;
    net->workers = sl__calloc(n, sizeof(worker));
    if (!net->workers) {
        sl__serve_log(SL_SERVE_ERROR, "out of memory");
        return false;
    }
    net->nworkers = n;
    for (unsigned i = 0; i < n; i++) {
        worker *w = &net->workers[i];
        w->net = net;
        w->id = i;
        w->hmu_init = pthread_mutex_init(&w->hmu, NULL) == 0;
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->wake.kind = SRC_WAKE;
        w->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (!w->hmu_init || w->ep < 0 || w->wake.fd < 0 ||
            sl__serve_pipe_init(&w->pipe, srv) != SL_OK) {
            sl__serve_log(SL_SERVE_ERROR, "worker %u: cannot start", i);
            return false;
        }
        struct epoll_event ev = {0};
        ev.events = EPOLLIN;
        ev.data.ptr = &w->wake;
        epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake.fd, &ev);
        for (int k = 0; k < 3; k++) {
            ev.events = EPOLLIN | EPOLLEXCLUSIVE;
            ev.data.ptr = &net->l[k].s;
            epoll_ctl(w->ep, EPOLL_CTL_ADD, net->l[k].s.fd, &ev);
        }
        w->listening = true;
        if (pthread_create(&w->thread, NULL, worker_run, w) != 0) {
            sl__serve_log(SL_SERVE_ERROR, "worker %u: cannot start thread", i);
            return false;
        }
        char name[16];
        snprintf(name, sizeof(name), "sl-worker-%u", i % 100000u);
        pthread_setname_np(w->thread, name); /* top -H, /proc: best effort */
        w->started = true;
    }
    return true;
}

void sl__serve_net_drain(sl__serve_net *net) {
    for (unsigned i = 0; i < net->nworkers; i++) {
        worker *w = &net->workers[i];
        if (w->wake.fd >= 0) {
            uint64_t one = 1;
            ssize_t r = write(w->wake.fd, &one, sizeof(one));
            (void)r;
        }
    }
    for (unsigned i = 0; i < net->nworkers; i++) {
        worker *w = &net->workers[i];
        if (w->started) {
            pthread_join(w->thread, NULL);
            w->started = false;
        }
    }
}

void sl__serve_net_free(sl__serve_net *net) {
    if (!net) {
        return;
    }
    if (net->workers) {
        sl__serve_net_drain(net);
        for (unsigned i = 0; i < net->nworkers; i++) {
            worker *w = &net->workers[i];
            if (w->ep > 0) {
                close(w->ep);
            }
            if (w->wake.fd > 0) {
                close(w->wake.fd);
            }
            if (w->spare_fd > 0) {
                close(w->spare_fd);
            }
            if (w->pipe.srv) {
                sl__serve_pipe_free(&w->pipe);
            }
            if (w->hmu_init) {
                pthread_mutex_destroy(&w->hmu);
            }
        }
        sl__free(net->workers, net->nworkers * sizeof(worker));
    }
    for (int i = 0; i < 3; i++) {
        if (net->l[i].s.fd > 0) {
            close(net->l[i].s.fd);
        }
    }
    sl__tls_server_free(net->tls);
    sl__tls_server_free(net->admin_tls);
    sl__free(net, sizeof(*net));
}

void sl__serve_net_reload_tls(sl__serve_net *net) {
    if (!net) {
        return;
    }
    sl__tls_server *ctxs[2] = {net->tls, net->admin_tls};
    static const char *const what[2] = {"", "admin listener: "};
    for (int i = 0; i < 2; i++) {
        sl_error err = {0};
        if (!ctxs[i]) {
            continue;
        }
        if (sl__tls_server_reload(ctxs[i], &err) != SL_OK) {
            sl__serve_log(SL_SERVE_ERROR,
                          "%stls reload failed, keeping the previous "
                          "certificate: %s",
                          what[i], err.msg);
        } else {
            sl__serve_log(SL_SERVE_INFO, "%stls certificate reloaded", what[i]);
        }
    }
}

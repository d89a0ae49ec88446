/* src/serve/forward.c: a minimal blocking OTLP/HTTP client for the
 * exporter thread: connect with a timeout (TLS for https://: verified,
 * SNI), POST JSON or protobuf, gzip or not, over a kept-alive connection
 * (reconnecting once when the target closed it),
 * read the status line and headers (picohttpparser's phr_parse_response)
 * and skip the body, honour Retry-After (seconds). */
#include "serve/forward.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fcntl.h>

#include "base/base.h"
#include "serve/codec.h"
#include "serve/http1.h"
#include "serve/log.h"

enum {
    TIMEOUT_MS = 10000,
    MAX_KEPT_BODY = 64 << 20 /* an answer body read into memory (sync) */
};

struct sl__serve_forward {
    char host[256], port[16], prefix[512];
    const char *ctype;
    bool gzip;
    sl__tls_client *tls; /* https:// */
    sl__serve_link link; /* kept-alive connection, fd -1 when none */
    sl_buf req, gz;
};

sl__serve_forward *sl__serve_forward_new(const char *url,
                                         const sl__serve_client_opts *co,
                                         sl_error *err) {
    static const char scheme[] = "http://", tls_scheme[] = "https://";
    bool tls = strncmp(url, tls_scheme, sizeof(tls_scheme) - 1) == 0;
    if (!tls && strncmp(url, scheme, sizeof(scheme) - 1) != 0) {
        sl__error(err, SL_EINVAL, NULL,
                  "only http:// and https:// URLs are supported");
        return NULL;
    }
    const char *h = url + (tls ? sizeof(tls_scheme) : sizeof(scheme)) - 1;
    const char *slash = strchr(h, '/');
    size_t hp = slash ? (size_t)(slash - h) : strlen(h);
    const char *colon = memchr(h, ':', hp);
    sl__serve_forward *f = sl__calloc(1, sizeof(*f));
    if (!f) {
        sl__nomem(err);
        return NULL;
    }
    size_t hl = colon ? (size_t)(colon - h) : hp;
    size_t pl = colon ? hp - hl - 1 : 0;
    if (hl == 0 || hl >= sizeof(f->host) || pl >= sizeof(f->port) ||
        (slash && strlen(slash) >= sizeof(f->prefix))) {
        sl__error(err, SL_EINVAL, NULL, "malformed URL");
        sl__free(f, sizeof(*f));
        return NULL;
    }
    f->ctype = co->proto ? "application/x-protobuf" : "application/json";
    f->gzip = co->gzip;
    f->link.fd = -1;
    memcpy(f->host, h, hl);
    if (colon) {
        memcpy(f->port, colon + 1, pl);
    } else {
        memcpy(f->port, tls ? "443" : "80", tls ? 4 : 3);
    }
    if (tls) {
        f->tls = sl__tls_client_new(co->ca_file, co->insecure, false, err);
        if (!f->tls) {
            sl__free(f, sizeof(*f));
            return NULL;
        }
    }
    if (slash) {
        snprintf(f->prefix, sizeof(f->prefix), "%s", slash);
        size_t n = strlen(f->prefix);
        if (n > 0 && f->prefix[n - 1] == '/') {
            f->prefix[n - 1] = '\0';
        }
    }
    return f;
}

void sl__serve_forward_free(sl__serve_forward *f) {
    if (f) {
        sl__serve_link_close(&f->link);
        sl__tls_client_free(f->tls);
        sl__buf_free(&f->req);
        sl__buf_free(&f->gz);
        sl__free(f, sizeof(*f));
    }
}

static int wait_fd(int fd, short ev, unsigned timeout_ms) {
    struct pollfd p = {fd, ev, 0};
    int r = poll(&p, 1, (int)timeout_ms);
    return r > 0 ? 0 : -1;
}

static int dial(const char *host, const char *port, unsigned timeout_ms) {
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0) {
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            continue;
        }
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        int r = connect(fd, a->ai_addr, a->ai_addrlen);
        if (r != 0 && errno == EINPROGRESS &&
            wait_fd(fd, POLLOUT, timeout_ms) == 0) {
            int e = 0;
            socklen_t el = sizeof(e);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
            r = e == 0 ? 0 : -1;
        }
        if (r == 0) {
            fcntl(fd, F_SETFL, fl);
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        struct timeval tv = {(time_t)(timeout_ms / 1000),
                             (long)(timeout_ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        /* head and body go in two sends: without this the body waits for
         * the peer's delayed ACK of the head (40 ms on Linux) */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

static const char *signal_path(sl_signal sig) {
    switch (sig) {
    case SL_SIGNAL_METRIC:
        return "/v1/metrics";
    case SL_SIGNAL_TRACE:
        return "/v1/traces";
    default:
        return "/v1/logs";
    }
}

bool sl__serve_link_open(sl__serve_link *l, const char *host, const char *port,
                         unsigned timeout_ms, sl__tls_client *tc) {
    l->tls = NULL;
    l->fd = dial(host, port, timeout_ms);
    if (l->fd < 0 || !tc) {
        return l->fd >= 0;
    }
    sl_error err = {0};
    l->tls = sl__tls_connect(tc, l->fd, host, &err);
    if (!l->tls) {
        sl__serve_log(SL_SERVE_WARN, "%s:%s: %s", host, port, err.msg);
        close(l->fd);
        l->fd = -1;
        return false;
    }
    return true;
}

bool sl__serve_link_send(sl__serve_link *l, const char *p, size_t n) {
    while (n > 0) {
        size_t put = 0;
        if (l->tls) {
            if (sl__tls_write(l->tls, p, n, &put) != SL_TLS_DONE) {
                return false; /* WANT_*: the send time-out passed */
            }
        } else {
            ssize_t w = send(l->fd, p, n, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                return false;
            }
            put = (size_t)w;
        }
        p += put;
        n -= put;
    }
    return true;
}

ssize_t sl__serve_link_recv(sl__serve_link *l, void *buf, size_t cap) {
    if (l->tls) {
        size_t got = 0;
        switch (sl__tls_read(l->tls, buf, cap, &got)) {
        case SL_TLS_DONE:
            return (ssize_t)got;
        case SL_TLS_CLOSED:
            return 0;
        default:
            return -1;
        }
    }
    for (;;) {
        ssize_t r = recv(l->fd, buf, cap, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        return r < 0 ? -1 : r;
    }
}

bool sl__serve_link_pending(const sl__serve_link *l) {
    return l->tls && sl__tls_pending(l->tls);
}

void sl__serve_link_close(sl__serve_link *l) {
    sl__tls_free(l->tls);
    l->tls = NULL;
    if (l->fd >= 0) {
        close(l->fd);
        l->fd = -1;
    }
}

/* Read the answer's status line and headers, then skip its body (by
 * Content-Length; without one the connection cannot be reused, and the body
 * runs to the end of the connection), or append it to keep when keep is not
 * NULL. Returns false on an I/O or framing error (or SL_ENOMEM growing
 * keep, or a body over MAX_KEPT_BODY). */
static bool read_answer(sl__serve_forward *f, unsigned *retry_after_ms,
                        int *status, bool *reusable, sl_buf *keep) {
    char buf[8192];
    size_t got = 0;
    for (;;) {
        ssize_t r = sl__serve_link_recv(&f->link, buf + got, sizeof(buf) - got);
        if (r <= 0) {
            return false;
        }
        got += (size_t)r;
        int minor = 0;
        const char *msg = NULL;
        size_t mlen = 0;
        struct phr_header hdr[32];
        size_t nh = 32;
        int pr = phr_parse_response(buf, got, &minor, status, &msg, &mlen, hdr,
                                    &nh, 0);
        if (pr == -2 && got < sizeof(buf)) {
            continue;
        }
        if (pr < 0) {
            return false;
        }
        size_t clen = 0;
        bool have_len = false;
        *reusable = minor == 1;
        for (size_t i = 0; i < nh; i++) {
            if (!hdr[i].name) {
                continue;
            }
            sl_str n = {hdr[i].name, hdr[i].name_len};
            sl_str v = {hdr[i].value, hdr[i].value_len};
            unsigned num = 0;
            bool digits = v.len > 0 && v.len < 10;
            for (size_t k = 0; k < v.len && digits; k++) {
                digits = v.ptr[k] >= '0' && v.ptr[k] <= '9';
                num = num * 10 + (unsigned)(v.ptr[k] - '0');
            }
            if (sl__http_ieq(n, "retry-after") && digits) {
                *retry_after_ms = (num > 60 ? 60 : num) * 1000;
            } else if (sl__http_ieq(n, "content-length") && digits) {
                clen = num;
                have_len = true;
            } else if (sl__http_ieq(n, "connection") &&
                       sl__http_ieq(v, "close")) {
                *reusable = false;
            }
        }
        if (!have_len) {
            *reusable = false;
            if (!keep) {
                return true;
            }
        }
        size_t body = got - (size_t)pr;
        if (keep &&
            sl__buf_append(keep, buf + pr,
                           have_len && body > clen ? clen : body) != SL_OK) {
            return false;
        }
        while (!have_len || body < clen) {
            r = sl__serve_link_recv(&f->link, buf, sizeof(buf));
            if (r == 0 && !have_len) {
                return true; /* the body ran to the end of the connection */
            }
            if (r <= 0) {
                return false;
            }
            size_t take = (size_t)r;
            if (have_len && take > clen - body) {
                take = clen - body;
            }
            if (keep && (keep->len + take > MAX_KEPT_BODY ||
                         sl__buf_append(keep, buf, take) != SL_OK)) {
                return false;
            }
            body += (size_t)r;
        }
        return true;
    }
}

/* Send f->req then f->gz on the kept-alive connection (or a new one) and
 * read the answer, the body into keep when not NULL. */
static sl__forward_result exchange(sl__serve_forward *f,
                                   unsigned *retry_after_ms, int *status,
                                   sl_buf *keep) {
    /* a kept-alive connection may have been closed by the target since:
     * one more try on a fresh connection then */
    for (int attempt = 0; attempt < 2; attempt++) {
        bool reused = f->link.fd >= 0;
        if (!reused && !sl__serve_link_open(&f->link, f->host, f->port,
                                            TIMEOUT_MS, f->tls)) {
            return SL_FORWARD_RETRY;
        }
        bool reusable = false;
        size_t kept = keep ? keep->len : 0;
        bool ok = sl__serve_link_send(&f->link, f->req.ptr, f->req.len) &&
                  sl__serve_link_send(&f->link, f->gz.ptr, f->gz.len) &&
                  read_answer(f, retry_after_ms, status, &reusable, keep);
        if (!ok && keep) {
            keep->len = kept;
        }
        if (!ok || !reusable) {
            sl__serve_link_close(&f->link);
        }
        if (ok) {
            break;
        }
        if (!reused) {
            return SL_FORWARD_RETRY;
        }
        *status = 0;
    }
    if (*status >= 200 && *status < 300) {
        return SL_FORWARD_OK;
    }
    if (*status == 0 || *status == 429 || *status >= 500 || *status == 408) {
        return SL_FORWARD_RETRY;
    }
    return SL_FORWARD_PERMANENT;
}

/* Build the request in f->req (head) and f->gz (body, gzip when the
 * options say): POST path, with Accept when accept is set. false on
 * SL_ENOMEM. */
static bool build(sl__serve_forward *f, const char *path, const char *path2,
                  const char *body, size_t len, bool accept) {
    f->gz.len = 0;
    f->req.len = 0;
    sl_status rc = f->gzip ? sl__serve_gzip(body, len, &f->gz)
                           : sl__buf_append(&f->gz, body, len);
    return rc == SL_OK &&
           sl__buf_printf(&f->req,
                          "POST %s%s HTTP/1.1\r\nHost: %s:%s\r\n"
                          "Content-Type: %s\r\n%s%s%s%s"
                          "Content-Length: %zu\r\n"
                          "User-Agent: sluice-serve\r\n\r\n",
                          path, path2, f->host, f->port, f->ctype,
                          accept ? "Accept: " : "", accept ? f->ctype : "",
                          accept ? "\r\n" : "",
                          f->gzip ? "Content-Encoding: gzip\r\n" : "",
                          f->gz.len) == SL_OK;
}

sl__forward_result sl__serve_forward_post(sl__serve_forward *f, sl_signal sig,
                                          const char *body, size_t len,
                                          unsigned *retry_after_ms,
                                          int *status) {
    *retry_after_ms = 0;
    *status = 0;
    if (!build(f, f->prefix, signal_path(sig), body, len, false)) {
        return SL_FORWARD_RETRY;
    }
    return exchange(f, retry_after_ms, status, NULL);
}

sl__forward_result sl__serve_forward_call(sl__serve_forward *f,
                                          const char *body, size_t len,
                                          int *status, sl_buf *resp) {
    unsigned retry_after_ms = 0;
    *status = 0;
    if (!build(f, f->prefix[0] ? f->prefix : "/", "", body, len, true)) {
        return SL_FORWARD_RETRY;
    }
    return exchange(f, &retry_after_ms, status, resp);
}

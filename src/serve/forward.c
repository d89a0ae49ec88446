/* src/serve/forward.c: a minimal blocking OTLP/HTTP client for the
 * exporter thread: connect with a timeout, POST gzip JSON or protobuf over
 * a kept-alive connection (reconnecting once when the target closed it),
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

enum {
    TIMEOUT_MS = 10000,
    MAX_KEPT_BODY = 64 << 20 /* an answer body read into memory (sync) */
};

struct sl__serve_forward {
    char host[256], port[16], prefix[512];
    const char *ctype;
    int fd; /* kept-alive connection, -1 when none */
    sl_buf req, gz;
};

sl__serve_forward *sl__serve_forward_new(const char *url, bool proto,
                                         sl_error *err) {
    static const char scheme[] = "http://";
    if (strncmp(url, scheme, sizeof(scheme) - 1) != 0) {
        sl__error(err, SL_EINVAL, NULL, "only http:// URLs are supported");
        return NULL;
    }
    const char *h = url + sizeof(scheme) - 1;
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
    f->ctype = proto ? "application/x-protobuf" : "application/json";
    f->fd = -1;
    memcpy(f->host, h, hl);
    if (colon) {
        memcpy(f->port, colon + 1, pl);
    } else {
        memcpy(f->port, "80", 3);
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
        if (f->fd >= 0) {
            close(f->fd);
        }
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

int sl__serve_dial(const char *host, const char *port, unsigned timeout_ms) {
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

bool sl__serve_send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
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
        ssize_t r = recv(f->fd, buf + got, sizeof(buf) - got, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
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
            r = recv(f->fd, buf, sizeof(buf), 0);
            if (r < 0 && errno == EINTR) {
                continue;
            }
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
        bool reused = f->fd >= 0;
        if (!reused) {
            f->fd = sl__serve_dial(f->host, f->port, TIMEOUT_MS);
            if (f->fd < 0) {
                return SL_FORWARD_RETRY;
            }
        }
        bool reusable = false;
        size_t kept = keep ? keep->len : 0;
        bool ok = sl__serve_send_all(f->fd, f->req.ptr, f->req.len) &&
                  sl__serve_send_all(f->fd, f->gz.ptr, f->gz.len) &&
                  read_answer(f, retry_after_ms, status, &reusable, keep);
        if (!ok && keep) {
            keep->len = kept;
        }
        if (!ok || !reusable) {
            close(f->fd);
            f->fd = -1;
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

sl__forward_result sl__serve_forward_post(sl__serve_forward *f, sl_signal sig,
                                          const char *body, size_t len,
                                          unsigned *retry_after_ms,
                                          int *status) {
    *retry_after_ms = 0;
    *status = 0;
    f->gz.len = 0;
    f->req.len = 0;
    if (sl__serve_gzip(body, len, &f->gz) != SL_OK ||
        sl__buf_printf(&f->req,
                       "POST %s%s HTTP/1.1\r\nHost: %s:%s\r\n"
                       "Content-Type: %s\r\n"
                       "Content-Encoding: gzip\r\nContent-Length: %zu\r\n"
                       "User-Agent: sluice-serve\r\n\r\n",
                       f->prefix, signal_path(sig), f->host, f->port, f->ctype,
                       f->gz.len) != SL_OK) {
        return SL_FORWARD_RETRY;
    }
    return exchange(f, retry_after_ms, status, NULL);
}

sl__forward_result sl__serve_forward_call(sl__serve_forward *f,
                                          const char *body, size_t len,
                                          int *status, sl_buf *resp) {
    unsigned retry_after_ms = 0;
    *status = 0;
    f->gz.len = 0;
    f->req.len = 0;
    if (sl__buf_append(&f->gz, body, len) != SL_OK ||
        sl__buf_printf(&f->req,
                       "POST %s HTTP/1.1\r\nHost: %s:%s\r\n"
                       "Content-Type: %s\r\nAccept: %s\r\n"
                       "Content-Length: %zu\r\n"
                       "User-Agent: sluice\r\n\r\n",
                       f->prefix[0] ? f->prefix : "/", f->host, f->port,
                       f->ctype, f->ctype, len) != SL_OK) {
        return SL_FORWARD_RETRY;
    }
    return exchange(f, &retry_after_ms, status, resp);
}

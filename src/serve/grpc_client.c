/* src/serve/grpc_client.c: the blocking gRPC unary client (grpc_client.h).
 * libnghttp2's client session does the HTTP/2 framing; this file drives it
 * over a blocking connection, cleartext or TLS (forward.c's link): mem_send
 * what the session wants written, poll and mem_recv what arrives, until the
 * call's stream closes or the deadline passes. A connection the target closed
 * (GOAWAY, reset, EOF) is replaced on the next call; a call that failed on a
 * reused connection before any answer is tried once more on a fresh one, as
 * forward.c does. */
#include "serve/grpc_client.h"

#include <nghttp2/nghttp2.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/base.h"
#include "base/codec.h"
#include "serve/codec.h"
#include "serve/private.h"

enum {
    DEFAULT_TIMEOUT_MS = 10000,
    MAX_ANSWER = 64 << 20 /* answer bytes kept (message + prefix) */
};

typedef struct call {
    int32_t stream;
    bool closed, failed, answered;
    uint32_t rst; /* the stream's close error code */
    const char *body;
    size_t len, off;
    sl_buf data;        /* the answer's DATA: length-prefixed message(s) */
    bool compressed_ok; /* grpc-encoding: gzip on the answer */
    sl__grpc_reply *reply;
} call;

struct sl__grpc_client {
    char host[256], port[16], authority[280];
    bool gzip;
    unsigned timeout_ms;
    sl__tls_client *tls; /* NULL: h2c */
    sl__serve_link link;
    nghttp2_session *sess;
    call *cur;
    sl_buf frame; /* prefix + (compressed) message of the call */
    sl_buf gz;
};

sl__grpc_client *sl__grpc_client_new(const char *target,
                                     const sl__serve_client_opts *co,
                                     sl_error *err) {
    const char *colon = strrchr(target, ':');
    const char *h = target;
    size_t hl = colon ? (size_t)(colon - target) : 0;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    size_t pl = colon ? strlen(colon + 1) : 0;
    sl__grpc_client *c = NULL;
    if (!colon || hl == 0 || pl == 0) {
        sl__error(err, SL_EINVAL, NULL, "want HOST:PORT");
        return NULL;
    }
    c = sl__calloc(1, sizeof(*c));
    if (!c) {
        sl__nomem(err);
        return NULL;
    }
    if (hl >= sizeof(c->host) || pl >= sizeof(c->port) ||
        strspn(colon + 1, "0123456789") != pl) {
        sl__error(err, SL_EINVAL, NULL, "want HOST:PORT");
        sl__free(c, sizeof(*c));
        return NULL;
    }
    memcpy(c->host, h, hl);
    memcpy(c->port, colon + 1, pl);
    snprintf(c->authority, sizeof(c->authority), "%s", target);
    c->gzip = co->gzip;
    c->timeout_ms = DEFAULT_TIMEOUT_MS;
    c->link.fd = -1;
    if (co->tls) {
        c->tls = sl__tls_client_new(co->ca_file, co->insecure, true, err);
        if (!c->tls) {
            sl__free(c, sizeof(*c));
            return NULL;
        }
    }
    return c;
}

static void disconnect(sl__grpc_client *c) {
    if (c->sess) {
        nghttp2_session_del(c->sess);
        c->sess = NULL;
    }
    sl__serve_link_close(&c->link);
}

void sl__grpc_client_free(sl__grpc_client *c) {
    if (c) {
        disconnect(c);
        sl__tls_client_free(c->tls);
        sl__buf_free(&c->frame);
        sl__buf_free(&c->gz);
        sl__free(c, sizeof(*c));
    }
}

void sl__grpc_client_set_timeout(sl__grpc_client *c, unsigned ms) {
    c->timeout_ms = ms ? ms : DEFAULT_TIMEOUT_MS;
}

static bool is(const uint8_t *p, size_t n, const char *s) {
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* grpc-message is percent-encoded (gRPC over HTTP/2). */
static void pct_decode(char *dst, size_t cap, const uint8_t *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        int a = i + 2 < n ? sl__hexval(s[i + 1]) : -1;
        int b = i + 2 < n ? sl__hexval(s[i + 2]) : -1;
        if (s[i] == '%' && a >= 0 && b >= 0) {
            dst[o++] = (char)(a * 16 + b);
            i += 2;
        } else {
            dst[o++] = (char)s[i];
        }
    }
    dst[o] = '\0';
}

static unsigned digits(const uint8_t *p, size_t n, bool *ok) {
    unsigned v = 0;
    *ok = n > 0 && n < 10;
    for (size_t i = 0; i < n && *ok; i++) {
        *ok = p[i] >= '0' && p[i] <= '9';
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame,
                     const uint8_t *name, size_t namelen, const uint8_t *value,
                     size_t valuelen, uint8_t flags, void *ud) {
    (void)s;
    (void)flags;
    sl__grpc_client *c = ud;
    call *k = c->cur;
    if (!k || frame->hd.stream_id != k->stream) {
        return 0;
    }
    k->answered = true;
    bool ok = false;
    unsigned v = 0;
    if (is(name, namelen, ":status")) {
        v = digits(value, valuelen, &ok);
        k->reply->http_status = ok ? (int)v : 0;
    } else if (is(name, namelen, "grpc-status")) {
        v = digits(value, valuelen, &ok);
        k->reply->grpc_status = ok ? (int)v : 2; /* UNKNOWN */
    } else if (is(name, namelen, "grpc-message")) {
        pct_decode(k->reply->message, sizeof(k->reply->message), value,
                   valuelen);
    } else if (is(name, namelen, "grpc-retry-pushback-ms")) {
        v = digits(value, valuelen, &ok); /* negative: do not retry */
        k->reply->pushback_ms = ok ? (v > 60000 ? 60000 : v) : 0;
    } else if (is(name, namelen, "grpc-encoding")) {
        k->compressed_ok =
            sl__serve_enc_parse((sl_str){(const char *)value, valuelen}) ==
            SL_SERVE_ENC_GZIP;
    }
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t stream,
                   const uint8_t *data, size_t len, void *ud) {
    (void)s;
    (void)flags;
    sl__grpc_client *c = ud;
    call *k = c->cur;
    if (!k || stream != k->stream) {
        return 0;
    }
    if (k->data.len + len > MAX_ANSWER ||
        sl__buf_append(&k->data, data, len) != SL_OK) {
        k->failed = true;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
}

static int on_close(nghttp2_session *s, int32_t stream, uint32_t code,
                    void *ud) {
    (void)s;
    sl__grpc_client *c = ud;
    if (c->cur && stream == c->cur->stream) {
        c->cur->closed = true;
        c->cur->rst = code;
    }
    return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t stream, uint8_t *buf,
                         size_t length, uint32_t *flags,
                         nghttp2_data_source *src, void *ud) {
    (void)s;
    (void)stream;
    (void)ud;
    call *k = src->ptr;
    size_t n = k->len - k->off;
    if (n > length) {
        n = length;
    }
    memcpy(buf, k->body + k->off, n);
    k->off += n;
    if (k->off == k->len) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return (ssize_t)n;
}

static bool connect_session(sl__grpc_client *c) {
    if (!sl__serve_link_open(&c->link, c->host, c->port, c->timeout_ms,
                             c->tls)) {
        return false;
    }
    nghttp2_session_callbacks *cb = NULL;
    if (nghttp2_session_callbacks_new(&cb) != 0) {
        disconnect(c);
        return false;
    }
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    int r = nghttp2_session_client_new(&c->sess, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (r != 0) {
        c->sess = NULL;
        disconnect(c);
        return false;
    }
    nghttp2_settings_entry set[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 24}};
    if (nghttp2_submit_settings(c->sess, NGHTTP2_FLAG_NONE, set, 2) != 0 ||
        nghttp2_session_set_local_window_size(c->sess, NGHTTP2_FLAG_NONE, 0,
                                              1 << 26) != 0) {
        disconnect(c);
        return false;
    }
    return true;
}

/* Write what the session has to send. */
static bool flush(sl__grpc_client *c) {
    for (;;) {
        const uint8_t *d = NULL;
        ssize_t n = nghttp2_session_mem_send(c->sess, &d);
        if (n < 0) {
            return false;
        }
        if (n == 0) {
            return true;
        }
        if (!sl__serve_link_send(&c->link, (const char *)d, (size_t)n)) {
            return false;
        }
    }
}

/* Run the session until k's stream closes. false on an I/O or protocol
 * error, a closed connection or the deadline. */
static bool pump(sl__grpc_client *c, call *k, uint64_t deadline) {
    uint8_t buf[16384];
    for (;;) {
        if (!flush(c)) {
            return false;
        }
        if (k->closed) {
            return true;
        }
        if (!nghttp2_session_want_read(c->sess)) {
            return false;
        }
        uint64_t now = sl__serve_now_ms();
        if (now >= deadline) {
            return false;
        }
        if (!sl__serve_link_pending(&c->link)) {
            struct pollfd p = {c->link.fd, POLLIN, 0};
            int pr = poll(&p, 1, (int)(deadline - now));
            if (pr < 0 && errno == EINTR) {
                continue;
            }
            if (pr <= 0) {
                return false;
            }
        }
        ssize_t r = sl__serve_link_recv(&c->link, buf, sizeof(buf));
        if (r <= 0) {
            return false;
        }
        if (nghttp2_session_mem_recv(c->sess, buf, (size_t)r) != r ||
            k->failed) {
            return false;
        }
    }
}

/* One attempt on the current connection (made if none). */
static bool attempt(sl__grpc_client *c, call *k, const char *path) {
    if (!c->sess && !connect_session(c)) {
        return false;
    }
    nghttp2_nv nv[] = {
#define NV(n, v)                                                      \
    {(uint8_t *)(uintptr_t)(n), (uint8_t *)(uintptr_t)(v), strlen(n), \
     strlen(v), NGHTTP2_NV_FLAG_NONE}
        NV(":method", "POST"),
        NV(":scheme", c->tls ? "https" : "http"),
        NV(":path", path),
        NV(":authority", c->authority),
        NV("content-type", "application/grpc"),
        NV("te", "trailers"),
        NV("user-agent", "sluice-grpc"),
        NV("grpc-accept-encoding", "gzip"),
        NV("grpc-encoding", c->gzip ? "gzip" : "identity"),
#undef NV
    };
    nghttp2_data_provider dp = {.source.ptr = k, .read_callback = read_body};
    c->cur = k;
    k->stream = nghttp2_submit_request(c->sess, NULL, nv,
                                       sizeof(nv) / sizeof(nv[0]), &dp, NULL);
    bool ok = k->stream > 0 && pump(c, k, sl__serve_now_ms() + c->timeout_ms);
    c->cur = NULL;
    if (!ok || nghttp2_session_check_request_allowed(c->sess) == 0) {
        disconnect(c); /* broken, or the target said GOAWAY */
    }
    return ok;
}

/* The answer's message: the first length-prefixed one of k->data. */
static bool take_message(const call *k, sl_buf *resp) {
    if (k->data.len == 0) {
        return true; /* trailers only */
    }
    const uint8_t *p = (const uint8_t *)k->data.ptr;
    if (k->data.len < 5) {
        return false;
    }
    size_t n = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 |
               (size_t)p[4];
    if (n > k->data.len - 5) {
        return false;
    }
    if (!resp) {
        return true;
    }
    if (p[0] == 0) {
        return sl__buf_append(resp, p + 5, n) == SL_OK;
    }
    return k->compressed_ok &&
           sl__serve_decompress(SL_SERVE_ENC_GZIP, (const char *)p + 5, n,
                                MAX_ANSWER, resp, NULL) == SL_OK;
}

static bool retryable(int code) {
    switch (code) {
    case 1:  /* CANCELLED */
    case 4:  /* DEADLINE_EXCEEDED */
    case 8:  /* RESOURCE_EXHAUSTED */
    case 10: /* ABORTED */
    case 11: /* OUT_OF_RANGE */
    case 14: /* UNAVAILABLE */
    case 15: /* DATA_LOSS */
        return true;
    default:
        return false;
    }
}

sl__forward_result sl__grpc_client_call(sl__grpc_client *c, const char *path,
                                        const char *msg, size_t len,
                                        sl_buf *resp, sl__grpc_reply *reply) {
    memset(reply, 0, sizeof(*reply));
    reply->grpc_status = -1;
    c->frame.len = 0;
    c->gz.len = 0;
    const char *m = msg;
    if (c->gzip) {
        if (sl__serve_gzip(msg, len, &c->gz) != SL_OK) {
            return SL_FORWARD_RETRY;
        }
        m = c->gz.ptr;
        len = c->gz.len;
    }
    if (len > UINT32_MAX) {
        return SL_FORWARD_PERMANENT;
    }
    uint8_t pre[5] = {c->gzip ? 1 : 0, (uint8_t)(len >> 24),
                      (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
    if (sl__buf_append(&c->frame, pre, 5) != SL_OK ||
        sl__buf_append(&c->frame, m, len) != SL_OK) {
        return SL_FORWARD_RETRY;
    }
    size_t kept = resp ? resp->len : 0;
    bool ok = false, reset = false;
    for (int i = 0; i < 2 && !ok; i++) {
        bool reused = c->sess != NULL;
        call k = {.body = c->frame.ptr, .len = c->frame.len, .reply = reply};
        memset(reply, 0, sizeof(*reply));
        reply->grpc_status = -1;
        ok = attempt(c, &k, path);
        reset = k.rst != NGHTTP2_NO_ERROR;
        if (ok && reply->grpc_status == 0 && !take_message(&k, resp)) {
            reply->grpc_status = 13; /* INTERNAL: a malformed answer */
            snprintf(reply->message, sizeof(reply->message),
                     "malformed answer message");
        }
        if (!ok && resp) {
            resp->len = kept;
        }
        sl__buf_free(&k.data);
        if (!ok && (!reused || k.answered)) {
            break; /* a fresh connection failed, or the call was answered */
        }
    }
    if (!ok) {
        return SL_FORWARD_RETRY; /* broke: I/O error, time-out, GOAWAY */
    }
    if (reply->grpc_status < 0) { /* a reset stream or an HTTP error */
        int h = reply->http_status;
        return reset || h == 429 || h == 502 || h == 503 || h == 504
                   ? SL_FORWARD_RETRY
                   : SL_FORWARD_PERMANENT;
    }
    if (reply->grpc_status == 0) {
        return SL_FORWARD_OK;
    }
    return retryable(reply->grpc_status) ? SL_FORWARD_RETRY
                                         : SL_FORWARD_PERMANENT;
}

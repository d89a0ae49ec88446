/* src/serve/h2.c: h2c sessions over libnghttp2 (see h2.h), with limits of
 * our own rather than nghttp2's defaults: at most SL__H2_MAX_STREAMS
 * concurrent streams (more are refused with RST_STREAM REFUSED_STREAM);
 * SETTINGS_MAX_HEADER_LIST_SIZE = --max-header, enforced (431); each
 * stream's body bounded by --max-body (413 / RESOURCE_EXHAUSTED) and the
 * bodies buffered on one connection together by --max-body too (503 /
 * UNAVAILABLE with Retry-After); a request not complete within
 * --read-timeout-ms gets 408 and the connection a GOAWAY (slowloris); a
 * burst of more than SL__H2_RESET_BURST client stream resets, refilled at
 * SL__H2_RESET_RATE a second, ends the connection with GOAWAY
 * ENHANCE_YOUR_CALM (rapid reset, CVE-2023-44487: our bucket, counted
 * here, because nghttp2's own says INTERNAL_ERROR; its bucket stays as a
 * looser backstop). Only request frames (HEADERS, DATA, RST_STREAM) and
 * finished answers count as activity for --idle-timeout-ms: PING,
 * SETTINGS and WINDOW_UPDATE do not, so a client cannot keep an idle
 * connection open with PINGs (the Collector's keepalive enforcement makes
 * the same call). Bodies are decompressed by the pipeline, under
 * --max-decompressed, as on HTTP/1.1. */
#include "serve/h2.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "serve/private.h"
#include "serve/reply.h"

#define SL__H2_MAX_STREAMS 100
#define SL__H2_RESET_BURST 200
#define SL__H2_RESET_RATE  20

typedef struct stream {
    struct stream *prev, *next; /* the session's open streams */
    int32_t id;
    char method[16], ctype[128], cenc[32], genc[32];
    char path[512];
    sl_buf body;
    size_t header_bytes; /* name + value + 32 each, as RFC 9113 counts */
    uint64_t start_ms, start_us;
    int refuse; /* 408, 413, 431 or 503: answered so, the body dropped */
    bool answered;
    sl__serve_resp resp;
    size_t sent;
    char trailer_msg[400];
} stream;

struct sl__serve_h2 {
    nghttp2_session *session;
    sl__serve_pipe *pipe;
    sl__serve_listener kind;
    stream *open; /* streams with user data, newest first */
    size_t streams;
    size_t buffered;       /* request body bytes held by open streams */
    uint64_t active_ms;    /* last request frame or finished answer */
    uint64_t reset_tokens; /* rapid reset bucket, in 1/1000 resets */
    uint64_t reset_ms;     /* when the bucket was last refilled */
    bool failed;
};

/* A client RST_STREAM: take one token from the bucket (refilled at
 * SL__H2_RESET_RATE a second up to SL__H2_RESET_BURST); when empty, end
 * the session with GOAWAY ENHANCE_YOUR_CALM. */
static void count_reset(sl__serve_h2 *h, uint64_t now) {
    uint64_t cap = (uint64_t)SL__H2_RESET_BURST * 1000;
    h->reset_tokens += (now - h->reset_ms) * SL__H2_RESET_RATE;
    if (h->reset_tokens > cap) {
        h->reset_tokens = cap;
    }
    h->reset_ms = now;
    if (h->reset_tokens < 1000) {
        nghttp2_session_terminate_session(h->session,
                                          NGHTTP2_ENHANCE_YOUR_CALM);
        return;
    }
    h->reset_tokens -= 1000;
}

static void copy_hdr(char *dst, size_t cap, const uint8_t *v, size_t n) {
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(dst, v, k);
    dst[k] = '\0';
}

static void drop_body(sl__serve_h2 *h, stream *s) {
    h->buffered -= s->body.len;
    sl__buf_free(&s->body);
}

static void stream_free(sl__serve_h2 *h, stream *s) {
    drop_body(h, s);
    if (s->prev) {
        s->prev->next = s->next;
    } else {
        h->open = s->next;
    }
    if (s->next) {
        s->next->prev = s->prev;
    }
    sl__buf_free(&s->resp.body);
    sl__free(s, sizeof(*s));
}

static int on_begin_headers(nghttp2_session *session,
                            const nghttp2_frame *frame, void *ud) {
    sl__serve_h2 *h = ud;
    if (frame->hd.type != NGHTTP2_HEADERS ||
        frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
        return 0;
    }
    stream *s = sl__calloc(1, sizeof(*s));
    if (!s) {
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    s->id = frame->hd.stream_id;
    s->start_us = sl__serve_now_us();
    s->start_ms = s->start_us / 1000u;
    nghttp2_session_set_stream_user_data(session, s->id, s);
    s->next = h->open;
    if (h->open) {
        h->open->prev = s;
    }
    h->open = s;
    h->streams++;
    return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame,
                     const uint8_t *name, size_t namelen, const uint8_t *value,
                     size_t valuelen, uint8_t flags, void *ud) {
    (void)flags;
    sl__serve_h2 *h = ud;
    if (frame->hd.type != NGHTTP2_HEADERS) {
        return 0;
    }
    stream *s =
        nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!s || s->refuse) {
        return 0;
    }
    s->header_bytes += namelen + valuelen + 32;
    if (s->header_bytes > h->pipe->srv->opts.max_header) {
        s->refuse = 431; /* answered when the stream ends */
        return 0;
    }
    sl_str n = {(const char *)name, namelen};
    if (sl__http_ieq(n, ":method")) {
        copy_hdr(s->method, sizeof(s->method), value, valuelen);
    } else if (sl__http_ieq(n, ":path")) {
        copy_hdr(s->path, sizeof(s->path), value, valuelen);
    } else if (sl__http_ieq(n, "content-type")) {
        copy_hdr(s->ctype, sizeof(s->ctype), value, valuelen);
    } else if (sl__http_ieq(n, "content-encoding")) {
        copy_hdr(s->cenc, sizeof(s->cenc), value, valuelen);
    } else if (sl__http_ieq(n, "grpc-encoding")) {
        copy_hdr(s->genc, sizeof(s->genc), value, valuelen);
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags,
                         int32_t stream_id, const uint8_t *data, size_t len,
                         void *ud) {
    (void)flags;
    sl__serve_h2 *h = ud;
    stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (!s || s->refuse || s->answered) {
        return 0;
    }
    size_t max = h->pipe->srv->opts.max_body;
    if (s->body.len + len > max) {
        s->refuse = 413; /* answered when the stream ends */
    } else if (h->buffered + len > max) {
        s->refuse = 503; /* the other streams hold the connection's share */
    } else if (sl__buf_append(&s->body, data, len) != SL_OK) {
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    } else {
        h->buffered += len;
        return 0;
    }
    drop_body(h, s);
    return 0;
}

static ssize_t read_body(nghttp2_session *session, int32_t stream_id,
                         uint8_t *buf, size_t length, uint32_t *data_flags,
                         nghttp2_data_source *source, void *ud);

static bool add(nghttp2_nv *nv, size_t *n, const char *name,
                const char *value) {
    nv[*n].name = (uint8_t *)(uintptr_t)name;
    nv[*n].namelen = strlen(name);
    nv[*n].value = (uint8_t *)(uintptr_t)value;
    nv[*n].valuelen = strlen(value);
    nv[*n].flags = NGHTTP2_NV_FLAG_NONE;
    (*n)++;
    return true;
}

/* grpc-message is percent-encoded (gRPC over HTTP/2 spec). */
static void pct_encode(char *dst, size_t cap, const char *s) {
    size_t o = 0;
    for (; *s && o + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c > 0x7e || c == '%') {
            o += (size_t)snprintf(dst + o, cap - o, "%%%02X", c);
        } else {
            dst[o++] = (char)c;
        }
    }
    dst[o] = '\0';
}

/* The answer to a stream refused by a limit (s->refuse). */
static void refusal(sl__serve_h2 *h, stream *s, bool grpc) {
    const sl__serve_opts *o = &h->pipe->srv->opts;
    char msg[160];
    switch (s->refuse) {
    case 408:
        snprintf(msg, sizeof(msg), "request not received within %u ms",
                 o->read_timeout_ms);
        break;
    case 413:
        snprintf(msg, sizeof(msg), "request body is larger than %zu bytes",
                 o->max_body);
        break;
    case 431:
        snprintf(msg, sizeof(msg), "request header is larger than %zu bytes",
                 o->max_header);
        break;
    default:
        snprintf(msg, sizeof(msg),
                 "server busy: this connection's streams hold %zu body "
                 "bytes, retry later",
                 o->max_body);
        s->resp.retry_after = 1;
        break;
    }
    int code = sl__serve_grpc_code(s->refuse);
    if (grpc) {
        s->resp.status = 200;
        s->resp.ctype = "application/grpc";
        s->resp.grpc_status = code;
        snprintf(s->resp.grpc_msg, sizeof(s->resp.grpc_msg), "%s", msg);
    } else {
        s->resp.status = s->refuse;
        s->resp.ctype = "application/json";
        sl__serve_reply_status(&s->resp.body, false, code, msg);
    }
    sl__serve_count_status(h->pipe->srv, s->refuse);
}

static int answer(sl__serve_h2 *h, stream *s) {
    sl_str path = {s->path, strlen(s->path)};
    sl__serve_call call = {
        .method = {s->method, strlen(s->method)},
        .path = path,
        .content_type = {s->ctype, strlen(s->ctype)},
        .content_encoding = {s->cenc, strlen(s->cenc)},
        .grpc_encoding = {s->genc, strlen(s->genc)},
        .body = s->body.ptr ? s->body.ptr : "",
        .body_len = s->body.len,
        .start_us = s->start_us,
    };
    bool grpc = h->kind == SL_SERVE_L_GRPC;
    s->answered = true;
    if (s->refuse) {
        refusal(h, s, grpc);
    } else if (grpc) {
        sl__serve_grpc_handle(h->pipe, &call, &s->resp);
    } else {
        sl__serve_handle(h->pipe, h->kind, &call, &s->resp);
    }
    char status[8], len[24], retry[16];
    snprintf(status, sizeof(status), "%d", s->resp.status);
    snprintf(len, sizeof(len), "%zu", s->resp.body.len);
    nghttp2_nv nv[6];
    size_t n = 0;
    add(nv, &n, ":status", status);
    add(nv, &n, "content-type", s->resp.ctype);
    if (s->resp.retry_after) {
        snprintf(retry, sizeof(retry), "%u", s->resp.retry_after);
        add(nv, &n, "retry-after", retry);
    }
    if (grpc && s->resp.grpc_status != 0) {
        /* trailers-only response: the status rides on the headers */
        char code[8];
        snprintf(code, sizeof(code), "%d", s->resp.grpc_status);
        pct_encode(s->trailer_msg, sizeof(s->trailer_msg), s->resp.grpc_msg);
        add(nv, &n, "grpc-status", code);
        add(nv, &n, "grpc-message", s->trailer_msg);
        return nghttp2_submit_response(h->session, s->id, nv, n, NULL);
    }
    if (!grpc) {
        add(nv, &n, "content-length", len);
    }
    nghttp2_data_provider dp;
    dp.source.ptr = s;
    dp.read_callback = read_body;
    return nghttp2_submit_response(h->session, s->id, nv, n, &dp);
}

static ssize_t read_body(nghttp2_session *session, int32_t stream_id,
                         uint8_t *buf, size_t length, uint32_t *data_flags,
                         nghttp2_data_source *source, void *ud) {
    sl__serve_h2 *h = ud;
    stream *s = source->ptr;
    size_t left = s->resp.body.len - s->sent;
    size_t n = left < length ? left : length;
    if (n > 0) {
        memcpy(buf, s->resp.body.ptr + s->sent, n);
        s->sent += n;
    }
    if (s->sent == s->resp.body.len) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        if (h->kind == SL_SERVE_L_GRPC) {
            *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
            nghttp2_nv nv[1];
            size_t k = 0;
            add(nv, &k, "grpc-status", "0");
            if (nghttp2_submit_trailer(session, stream_id, nv, k) != 0) {
                return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
            }
        }
    }
    return (ssize_t)n;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
                         void *ud) {
    sl__serve_h2 *h = ud;
    uint8_t t = frame->hd.type;
    if (t == NGHTTP2_HEADERS || t == NGHTTP2_DATA || t == NGHTTP2_RST_STREAM) {
        h->active_ms = sl__serve_now_ms();
    }
    if (t == NGHTTP2_RST_STREAM) {
        count_reset(h, h->active_ms);
        return 0;
    }
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        return 0;
    }
    stream *s =
        nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!s || s->answered) {
        return 0;
    }
    return answer(h, s) == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id,
                           uint32_t error_code, void *ud) {
    (void)error_code;
    sl__serve_h2 *h = ud;
    stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (s) {
        nghttp2_session_set_stream_user_data(session, stream_id, NULL);
        stream_free(h, s);
        h->streams--;
    }
    h->active_ms = sl__serve_now_ms(); /* an answer finished */
    return 0;
}

sl__serve_h2 *sl__serve_h2_new(sl__serve_pipe *p, sl__serve_listener kind) {
    sl__serve_h2 *h = sl__calloc(1, sizeof(*h));
    if (!h) {
        return NULL;
    }
    h->pipe = p;
    h->kind = kind;
    h->active_ms = h->reset_ms = sl__serve_now_ms();
    h->reset_tokens = (uint64_t)SL__H2_RESET_BURST * 1000;
    nghttp2_session_callbacks *cb = NULL;
    if (nghttp2_session_callbacks_new(&cb) != 0) {
        sl__free(h, sizeof(*h));
        return NULL;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb,
                                                            on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
                                                              on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_option *opt = NULL;
    int rv = nghttp2_option_new(&opt);
    if (rv == 0) {
        /* rapid reset: our bucket (count_reset) answers first, with
         * ENHANCE_YOUR_CALM; the library's (default 1000, 33/s) is kept
         * looser than ours as a backstop */
        nghttp2_option_set_stream_reset_rate_limit(opt, 2 * SL__H2_RESET_BURST,
                                                   2 * SL__H2_RESET_RATE);
        rv = nghttp2_session_server_new2(&h->session, cb, h, opt);
        nghttp2_option_del(opt);
    }
    nghttp2_session_callbacks_del(cb);
    if (rv != 0) {
        sl__free(h, sizeof(*h));
        return NULL;
    }
    size_t max_header = p->srv->opts.max_header;
    nghttp2_settings_entry iv[3] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, SL__H2_MAX_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
         max_header < UINT32_MAX ? (uint32_t)max_header : UINT32_MAX},
    };
    if (nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, iv, 3) != 0) {
        nghttp2_session_del(h->session);
        sl__free(h, sizeof(*h));
        return NULL;
    }
    return h;
}

void sl__serve_h2_free(sl__serve_h2 *h) {
    if (h) {
        nghttp2_session_del(h->session); /* no stream close callbacks */
        while (h->open) {
            stream_free(h, h->open);
        }
        sl__free(h, sizeof(*h));
    }
}

bool sl__serve_h2_recv(sl__serve_h2 *h, const char *data, size_t len) {
    ssize_t r =
        nghttp2_session_mem_recv(h->session, (const uint8_t *)data, len);
    if (r < 0 || (size_t)r != len) {
        h->failed = true;
        return false;
    }
    return true;
}

bool sl__serve_h2_send(sl__serve_h2 *h, sl_buf *out) {
    for (;;) {
        const uint8_t *p = NULL;
        ssize_t n = nghttp2_session_mem_send(h->session, &p);
        if (n < 0) {
            h->failed = true;
            return false;
        }
        if (n == 0) {
            return true;
        }
        if (sl__buf_append(out, p, (size_t)n) != SL_OK) {
            h->failed = true;
            return false;
        }
    }
}

bool sl__serve_h2_done(const sl__serve_h2 *h) {
    return h->failed || (!nghttp2_session_want_read(h->session) &&
                         !nghttp2_session_want_write(h->session));
}

uint64_t sl__serve_h2_active_ms(const sl__serve_h2 *h) {
    return h->active_ms;
}

bool sl__serve_h2_busy(const sl__serve_h2 *h) {
    return h->streams > 0;
}

bool sl__serve_h2_answering(const sl__serve_h2 *h) {
    for (const stream *s = h->open; s; s = s->next) {
        if (s->answered) {
            return true;
        }
    }
    return false;
}

bool sl__serve_h2_expire(sl__serve_h2 *h, uint64_t now, unsigned timeout_ms,
                         sl_buf *out) {
    bool late = false;
    for (stream *s = h->open; s; s = s->next) {
        if (!s->answered && now - s->start_ms > timeout_ms) {
            drop_body(h, s);
            s->refuse = 408;
            if (answer(h, s) != 0) {
                h->failed = true;
            }
            late = true;
        }
    }
    if (late) {
        /* the answers first: nghttp2 would put a GOAWAY before their DATA */
        sl__serve_h2_send(h, out);
        sl__serve_h2_shutdown(h);
    }
    return late;
}

void sl__serve_h2_shutdown(sl__serve_h2 *h) {
    nghttp2_submit_goaway(h->session, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(h->session),
                          NGHTTP2_NO_ERROR, NULL, 0);
}

/* src/serve/receiver.c: OTLP/HTTP, OTLP/gRPC and admin calls (see
 * receiver.h). */
#include "serve/receiver.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "serve/admin.h"
#include "serve/reply.h"

static const char JSON[] = "application/json";
static const char PROTO[] = "application/x-protobuf";
static const char GRPC[] = "application/grpc";

void sl__serve_count_status(sl__serve *srv, int status) {
    int cls = status / 100;
    atomic_fetch_add(&srv->m.status[cls >= 1 && cls <= 5 ? cls : 0], 1);
}

/* The media type without parameters ("application/json; charset=utf-8"). */
static sl_str media_type(sl_str v) {
    size_t n = 0;
    while (n < v.len && v.ptr[n] != ';' && v.ptr[n] != ' ' && v.ptr[n] != '+') {
        n++;
    }
    return (sl_str){v.ptr, n};
}

static void set_status(sl__serve_resp *r, int status, bool proto,
                       const char *msg, unsigned retry_after) {
    r->status = status;
    r->ctype = proto ? PROTO : JSON;
    r->retry_after = retry_after;
    r->body.len = 0;
    r->body.failed = 0;
    sl__serve_reply_status(&r->body, proto, sl__serve_grpc_code(status), msg);
}

static bool path_is(sl_str path, const char *want) {
    size_t n = 0;
    while (n < path.len && path.ptr[n] != '?') {
        n++;
    }
    return n == strlen(want) && memcmp(path.ptr, want, n) == 0;
}

static void handle_admin(sl__serve *srv, const sl__serve_call *call,
                         sl__serve_resp *r) {
    r->status = 200;
    r->ctype = "text/plain; charset=utf-8";
    r->body.len = 0;
    if (!sl__http_ieq(call->method, "GET")) {
        r->status = 405;
        sl__buf_printf(&r->body, "method not allowed\n");
    } else if (path_is(call->path, "/metrics")) {
        r->ctype = "text/plain; version=0.0.4; charset=utf-8";
        if (sl__serve_admin_metrics(srv, &r->body) != SL_OK) {
            r->status = 500;
        }
    } else if (path_is(call->path, "/healthz")) {
        sl__buf_printf(&r->body, "ok\n");
    } else if (path_is(call->path, "/readyz")) {
        r->ctype = JSON;
        sl__serve_admin_ready(srv, &r->body);
        if (!atomic_load(&srv->ready) || atomic_load(&srv->draining)) {
            r->status = 503;
        }
    } else {
        r->status = 404;
        sl__buf_printf(&r->body, "not found\n");
    }
}

/* One export request of signal sig answered: its time since t0 (the
 * request's first byte, so time waiting behind other work of the worker
 * counts) into the signal's histogram. */
static void observe(sl__serve *srv, sl_signal sig, uint64_t t0) {
    uint64_t now = sl__serve_now_us();
    uint64_t us = now > t0 ? now - t0 : 0;
    size_t b = 0;
    while (b < SL_SERVE_NBUCKETS && us > sl__serve_lat_bounds_us[b]) {
        b++;
    }
    atomic_fetch_add(&srv->m.lat_bucket[sig][b], 1);
    atomic_fetch_add(&srv->m.lat_sum_us[sig], us);
    atomic_fetch_add(&srv->m.lat_count[sig], 1);
}

void sl__serve_handle(sl__serve_pipe *p, sl__serve_listener kind,
                      const sl__serve_call *call, sl__serve_resp *r) {
    sl__serve *srv = p->srv;
    r->retry_after = 0;
    if (kind == SL_SERVE_L_ADMIN) {
        handle_admin(srv, call, r);
        return;
    }
    sl_signal sig;
    if (path_is(call->path, "/v1/logs")) {
        sig = SL_SIGNAL_LOG;
    } else if (path_is(call->path, "/v1/metrics")) {
        sig = SL_SIGNAL_METRIC;
    } else if (path_is(call->path, "/v1/traces")) {
        sig = SL_SIGNAL_TRACE;
    } else {
        set_status(r, 404, false,
                   "unknown path: use /v1/logs, /v1/metrics or /v1/traces", 0);
        sl__serve_count_status(srv, r->status);
        return;
    }
    if (!sl__http_ieq(call->method, "POST")) {
        set_status(r, 405, false, "only POST is allowed", 0);
        sl__serve_count_status(srv, r->status);
        return;
    }
    sl_str mt = media_type(call->content_type);
    bool proto;
    if (sl__http_ieq(mt, JSON)) {
        proto = false;
    } else if (sl__http_ieq(mt, PROTO)) {
        proto = true;
    } else {
        set_status(r, 415, false,
                   "unsupported content type: use application/json or "
                   "application/x-protobuf",
                   0);
        sl__serve_count_status(srv, r->status);
        return;
    }
    uint64_t t0 = call->start_us ? call->start_us : sl__serve_now_us();
    sl__serve_enc enc = sl__serve_enc_parse(call->content_encoding);
    sl__serve_outcome res;
    sl__serve_pipe_run(p, sig, proto, enc, call->body, call->body_len, &res);
    if (res.http != 200) {
        set_status(r, res.http, proto, res.msg, res.retry_after_s);
    } else {
        r->status = 200;
        r->ctype = proto ? PROTO : JSON;
        r->body.len = 0;
        sl__serve_reply_export(&r->body, proto, sig, res.rejected, res.msg);
    }
    sl__serve_count_status(srv, r->status);
    observe(srv, sig, t0);
}

static const struct {
    const char *path;
    sl_signal sig;
} grpc_paths[] = {
    {"/opentelemetry.proto.collector.logs.v1.LogsService/Export",
     SL_SIGNAL_LOG},
    {"/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
     SL_SIGNAL_METRIC},
    {"/opentelemetry.proto.collector.trace.v1.TraceService/Export",
     SL_SIGNAL_TRACE},
};

static void grpc_fail(sl__serve_resp *r, int code, const char *msg) {
    r->grpc_status = code;
    snprintf(r->grpc_msg, sizeof(r->grpc_msg), "%s", msg);
    r->body.len = 0;
}

void sl__serve_grpc_handle(sl__serve_pipe *p, const sl__serve_call *call,
                           sl__serve_resp *r) {
    sl__serve *srv = p->srv;
    r->status = 200; /* gRPC always answers 200; the status is a trailer */
    r->ctype = GRPC;
    r->retry_after = 0;
    r->grpc_status = 0;
    r->grpc_msg[0] = '\0';
    r->body.len = 0;
    sl_signal sig = SL_SIGNAL_NONE;
    for (size_t i = 0; i < SL_ARRAY_LEN(grpc_paths); i++) {
        if (path_is(call->path, grpc_paths[i].path)) {
            sig = grpc_paths[i].sig;
        }
    }
    if (sig == SL_SIGNAL_NONE) {
        grpc_fail(r, 12, "unknown method");
        return;
    }
    sl_str mt = media_type(call->content_type);
    if (!sl__http_ieq(mt, GRPC)) {
        r->status = 415;
        grpc_fail(r, 12, "content-type must be application/grpc");
        return;
    }
    /* one length-prefixed message: flag byte, 4-byte big-endian length */
    if (call->body_len < 5) {
        grpc_fail(r, 3, "missing gRPC message frame");
        return;
    }
    const unsigned char *b = (const unsigned char *)call->body;
    size_t mlen = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 |
                  (size_t)b[4];
    if (mlen != call->body_len - 5) {
        grpc_fail(r, 3, "gRPC message length does not match the stream");
        return;
    }
    sl__serve_enc enc = SL_SERVE_ENC_IDENTITY;
    if (b[0] == 1) {
        enc = sl__serve_enc_parse(call->grpc_encoding);
        if (enc == SL_SERVE_ENC_IDENTITY) {
            grpc_fail(r, 13, "compressed message without grpc-encoding");
            return;
        }
    } else if (b[0] != 0) {
        grpc_fail(r, 13, "bad gRPC compressed flag");
        return;
    }
    uint64_t t0 = call->start_us ? call->start_us : sl__serve_now_us();
    sl__serve_outcome res;
    sl__serve_pipe_run(p, sig, true, enc, call->body + 5, mlen, &res);
    sl__serve_count_status(srv, res.http);
    observe(srv, sig, t0);
    if (res.http != 200) {
        grpc_fail(r, sl__serve_grpc_code(res.http), res.msg);
        return;
    }
    sl_buf msg = {0};
    sl__serve_reply_export(&msg, true, sig, res.rejected, res.msg);
    unsigned char head[5] = {
        0, (unsigned char)(msg.len >> 24), (unsigned char)(msg.len >> 16),
        (unsigned char)(msg.len >> 8), (unsigned char)msg.len};
    sl__buf_append(&r->body, head, 5);
    sl__buf_append(&r->body, msg.ptr, msg.len);
    sl__buf_free(&msg);
}

void sl__serve_http_error(sl__serve *srv, int status, sl_buf *out) {
    const char *msg = status == 413   ? "request body is too large"
                      : status == 431 ? "request header is too large"
                      : status == 408 ? "request not received in time"
                      : status == 501 ? "unsupported transfer encoding"
                      : status == 505 ? "unsupported HTTP version"
                      : status == 503 ? "server busy: request buffers are "
                                        "full, retry later"
                                      : "malformed HTTP request";
    sl_buf body = {0};
    sl__serve_reply_status(&body, false, sl__serve_grpc_code(status), msg);
    sl__serve_http_respond(out, status, JSON,
                           status == 503 ? "Retry-After: 1\r\n" : NULL,
                           body.ptr, body.len, false);
    sl__buf_free(&body);
    sl__serve_count_status(srv, status);
}

void sl__serve_http_handle(sl__serve_pipe *p, sl__serve_listener kind,
                           const sl__http_req *req, sl_buf *out,
                           bool *keep_alive) {
    sl__serve_http_handle_at(p, kind, req, 0, out, keep_alive);
}

void sl__serve_http_handle_at(sl__serve_pipe *p, sl__serve_listener kind,
                              const sl__http_req *req, uint64_t start_us,
                              sl_buf *out, bool *keep_alive) {
    sl__serve *srv = p->srv;
    if (atomic_load(&srv->draining)) {
        *keep_alive = false;
    }
    sl__serve_call call = {
        .method = req->method,
        .path = req->path,
        .content_type = req->content_type,
        .content_encoding = req->content_encoding,
        .body = req->body,
        .body_len = req->body_len,
        .start_us = start_us,
    };
    sl__serve_resp r;
    memset(&r, 0, sizeof(r));
    r.body = p->reply; /* the worker's buffer, lent for this request */
    r.body.len = 0;
    sl__serve_handle(p, kind, &call, &r);
    char extra[64] = "";
    if (r.retry_after) {
        snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", r.retry_after);
    }
    sl__serve_http_respond(out, r.status, r.ctype, extra, r.body.ptr,
                           r.body.len, *keep_alive);
    p->reply = r.body;
}

/* src/serve/receiver.c: OTLP/HTTP and admin request handling (see
 * receiver.h). */
#include "serve/receiver.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "serve/admin.h"
#include "serve/reply.h"

static const char JSON[] = "application/json";
static const char PROTO[] = "application/x-protobuf";

void sl__serve_count_status(sl__serve *srv, int status) {
    int cls = status / 100;
    atomic_fetch_add(&srv->m.status[cls >= 1 && cls <= 5 ? cls : 0], 1);
}

/* The media type without parameters ("application/json; charset=utf-8"). */
static sl_str media_type(sl_str v) {
    size_t n = 0;
    while (n < v.len && v.ptr[n] != ';' && v.ptr[n] != ' ') {
        n++;
    }
    return (sl_str){v.ptr, n};
}

static void respond_status(sl__serve *srv, sl_buf *out, int status,
                           bool proto, const char *msg, unsigned retry_after,
                           bool keep_alive) {
    sl_buf body = {0};
    sl__serve_reply_status(&body, proto, sl__serve_grpc_code(status), msg);
    char extra[64] = "";
    if (retry_after) {
        snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", retry_after);
    }
    sl__serve_http_respond(out, status, proto ? PROTO : JSON, extra,
                           body.ptr, body.len, keep_alive);
    sl__buf_free(&body);
    sl__serve_count_status(srv, status);
}

void sl__serve_http_error(sl__serve *srv, int status, sl_buf *out) {
    const char *msg = status == 413   ? "request body is too large"
                      : status == 431 ? "request header is too large"
                      : status == 408 ? "request not received in time"
                      : status == 501 ? "unsupported transfer encoding"
                      : status == 505 ? "unsupported HTTP version"
                                      : "malformed HTTP request";
    respond_status(srv, out, status, false, msg, 0, false);
}

static bool path_is(sl_str path, const char *want) {
    size_t n = 0;
    while (n < path.len && path.ptr[n] != '?') {
        n++;
    }
    return n == strlen(want) && memcmp(path.ptr, want, n) == 0;
}

static void handle_admin(sl__serve *srv, const sl__http_req *req,
                         sl_buf *out, bool keep_alive) {
    sl_buf body = {0};
    int status = 200;
    const char *ctype = "text/plain; charset=utf-8";
    if (!sl__http_ieq(req->method, "GET") &&
        !sl__http_ieq(req->method, "HEAD")) {
        status = 405;
        sl__buf_printf(&body, "method not allowed\n");
    } else if (path_is(req->path, "/metrics")) {
        ctype = "text/plain; version=0.0.4; charset=utf-8";
        if (sl__serve_admin_metrics(srv, &body) != SL_OK) {
            status = 500;
        }
    } else if (path_is(req->path, "/healthz")) {
        sl__buf_printf(&body, "ok\n");
    } else if (path_is(req->path, "/readyz")) {
        ctype = JSON;
        sl__serve_admin_ready(srv, &body);
        if (!atomic_load(&srv->ready) || atomic_load(&srv->draining)) {
            status = 503;
        }
    } else {
        status = 404;
        sl__buf_printf(&body, "not found\n");
    }
    sl__serve_http_respond(out, status, ctype, NULL, body.ptr, body.len,
                           keep_alive);
    sl__buf_free(&body);
}

void sl__serve_http_handle(sl__serve_pipe *p, sl__serve_listener kind,
                           const sl__http_req *req, sl_buf *out,
                           bool *keep_alive) {
    sl__serve *srv = p->srv;
    if (atomic_load(&srv->draining)) {
        *keep_alive = false;
    }
    if (kind == SL_SERVE_L_ADMIN) {
        handle_admin(srv, req, out, *keep_alive);
        return;
    }
    uint64_t t0 = sl__serve_now_us();
    sl_signal sig;
    if (path_is(req->path, "/v1/logs")) {
        sig = SL_SIGNAL_LOG;
    } else if (path_is(req->path, "/v1/metrics")) {
        sig = SL_SIGNAL_METRIC;
    } else if (path_is(req->path, "/v1/traces")) {
        sig = SL_SIGNAL_TRACE;
    } else {
        respond_status(srv, out, 404, false,
                       "unknown path: use /v1/logs, /v1/metrics or "
                       "/v1/traces",
                       0, *keep_alive);
        return;
    }
    if (!sl__http_ieq(req->method, "POST")) {
        respond_status(srv, out, 405, false, "only POST is allowed", 0,
                       *keep_alive);
        return;
    }
    sl_str mt = media_type(req->content_type);
    bool proto;
    if (sl__http_ieq(mt, JSON)) {
        proto = false;
    } else if (sl__http_ieq(mt, PROTO)) {
        proto = true;
    } else {
        respond_status(srv, out, 415, false,
                       "unsupported content type: use application/json or "
                       "application/x-protobuf",
                       0, *keep_alive);
        return;
    }
    sl__serve_enc enc = sl__serve_enc_parse(req->content_encoding);
    sl__serve_outcome res;
    sl__serve_pipe_run(p, sig, proto, enc, req->body, req->body_len, &res);
    if (res.http != 200) {
        respond_status(srv, out, res.http, proto, res.msg, res.retry_after_s,
                       *keep_alive);
    } else {
        sl_buf body = {0};
        sl__serve_reply_export(&body, proto, sig, res.rejected, res.msg);
        sl__serve_http_respond(out, 200, proto ? PROTO : JSON, NULL,
                               body.ptr, body.len, *keep_alive);
        sl__buf_free(&body);
        sl__serve_count_status(srv, 200);
    }
    uint64_t us = sl__serve_now_us() - t0;
    size_t b = 0;
    while (b < SL_SERVE_NBUCKETS && us > sl__serve_lat_bounds_us[b]) {
        b++;
    }
    atomic_fetch_add(&srv->m.lat_bucket[b], 1);
    atomic_fetch_add(&srv->m.lat_sum_us, us);
    atomic_fetch_add(&srv->m.lat_count, 1);
}

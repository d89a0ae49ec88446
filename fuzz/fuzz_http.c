/* fuzz/fuzz_http.c: the gateway's HTTP request path without sockets. The
 * input is raw bytes from a client: the first byte picks the listener
 * (OTLP or admin) and where the bytes are split in two reads; the rest
 * goes through the HTTP/1.1 framer (sl__http_parse, chunked decoding in
 * place, limits) and every framed request through the receiver (routing,
 * media type, gzip / zstd, OTLP load, policies, response encoding), as a
 * connection would, pipelined requests included. With bit 1 of the first
 * byte set the bytes go to an HTTP/2 session instead (h2.c over nghttp2;
 * bit 2 picks the gRPC listener), as a prior-knowledge h2c connection
 * would send them, preface included. Any crash, sanitizer
 * report or leak fails. The policy set is compiled once (no rate limits,
 * so runs do not depend on each other). */
#include <stdint.h>
#include <string.h>

#include "base/base.h"
#include "serve/h2.h"
#include "serve/receiver.h"
#include "serve/serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char POLICIES[] =
    "{\"policies\":["
    "{\"id\":\"drop-debug\",\"log\":{\"match\":[{\"log_field\":"
    "\"severity_text\",\"exact\":\"DEBUG\"}],\"keep\":\"none\"}},"
    "{\"id\":\"redact\",\"log\":{\"match\":[{\"log_attribute\":\"user\","
    "\"exists\":true}],\"keep\":\"all\",\"transform\":{\"redact\":[{"
    "\"log_attribute\":\"user\",\"replacement\":\"x\"}]}}},"
    "{\"id\":\"spans\",\"trace\":{\"match\":[{\"span_field\":\"name\","
    "\"starts_with\":\"GET\"}],\"keep\":{\"percentage\":50}}}]}";

static sl__serve srv;

static bool setup(void) {
    static int state; /* 0 not yet, 1 ok, 2 failed */
    if (state) {
        return state == 1;
    }
    state = 2;
    sl_doc *doc = sl_doc_new();
    sl_policy_set *set = NULL;
    if (!doc ||
        sl_doc_load(doc, POLICIES, sizeof(POLICIES) - 1, SL_FORMAT_JSON, "fuzz",
                    NULL, NULL) != SL_OK ||
        sl_policy_load((const sl_doc *const *)&doc, 1, NULL, &set, NULL) !=
            SL_OK) {
        sl_doc_free(doc);
        return false;
    }
    sl_doc_free(doc);
    sl__serve_opts_defaults(&srv.opts);
    srv.opts.max_body = 1 << 20;
    srv.opts.max_decompressed = 4 << 20;
    srv.opts.max_header = 8 << 10;
    pthread_mutex_init(&srv.snap_mu, NULL);
    if (!sl__serve_snap_publish(&srv, set)) {
        sl_policy_set_free(set);
        return false;
    }
    atomic_store(&srv.ready, true);
    state = 1;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!setup()) {
        __builtin_trap(); /* the fixed policies must compile */
    }
    if (size < 1 || size > (1u << 20)) {
        return 0;
    }
    sl__serve_listener kind =
        (data[0] & 1) ? SL_SERVE_L_ADMIN : SL_SERVE_L_HTTP;
    bool h2 = data[0] & 2;
    if (h2 && (data[0] & 4)) {
        kind = SL_SERVE_L_GRPC;
    }
    data++;
    size--;
    size_t split = size ? (size_t)data[0] * size / 256 : 0;
    sl__serve_pipe pipe;
    if (sl__serve_pipe_init(&pipe, &srv) != SL_OK) {
        return 0;
    }
    sl_buf in = {0}, out = {0};
    if (h2) {
        static const char pre[] = SL_SERVE_H2_PREFACE;
        sl__serve_h2 *s = sl__serve_h2_new(&pipe, kind);
        if (s && sl__serve_h2_recv(s, pre, sizeof(pre) - 1) &&
            sl__serve_h2_recv(s, (const char *)data, split) &&
            sl__serve_h2_send(s, &out)) {
            if (sl__serve_h2_recv(s, (const char *)data + split,
                                  size - split)) {
                sl__serve_h2_send(s, &out);
            }
        }
        sl__serve_h2_free(s);
        sl__buf_free(&out);
        sl__serve_pipe_free(&pipe);
        return 0;
    }
    sl__http_parser p;
    memset(&p, 0, sizeof(p));
    size_t fed = 0;
    bool closed = false;
    for (int read = 0; read < 2 && !closed; read++) {
        size_t step = read == 0 ? split : size - fed;
        if (sl__buf_append(&in, data + fed, step) != SL_OK) {
            break;
        }
        fed += step;
        for (;;) {
            sl__http_req req;
            int status = 0;
            sl__http_result r = sl__http_parse(
                &p, &in, srv.opts.max_header, srv.opts.max_body, &req, &status);
            if (r == SL_HTTP_MORE) {
                break;
            }
            if (r == SL_HTTP_ERROR) {
                if (status < 400 || status > 599) {
                    __builtin_trap();
                }
                sl__serve_http_error(&srv, status, &out);
                closed = true;
                break;
            }
            bool keep = req.keep_alive;
            sl__serve_http_handle(&pipe, kind, &req, &out, &keep);
            /* every answer is a whole HTTP/1.1 response */
            if (out.len < 12 || memcmp(out.ptr, "HTTP/1.1 ", 9) != 0) {
                __builtin_trap();
            }
            out.len = 0;
            sl__http_consume(&p, &in);
            if (!keep) {
                closed = true;
                break;
            }
        }
    }
    sl__buf_free(&in);
    sl__buf_free(&out);
    sl__serve_pipe_free(&pipe);
    return 0;
}

/* src/serve/http1.c: HTTP/1.1 request framing and limits (see http1.h). */
#include "serve/http1.h"

#include <string.h>

#include "base/base.h"

enum {
    ST_HEAD = 0,
    ST_BODY = 1,
    ST_CHUNKED = 2,
    ST_DONE = 3
};

bool sl__http_ieq(sl_str a, const char *b) {
    return sl__ascii_ieq(a.ptr, a.len, b, strlen(b));
}

bool sl__http_header(const sl__http_req *req, const char *name, sl_str *out) {
    for (size_t i = 0; i < req->nhdr; i++) {
        sl_str n = {req->hdr[i].name, req->hdr[i].name_len};
        if (n.ptr && sl__http_ieq(n, name)) {
            out->ptr = req->hdr[i].value;
            out->len = req->hdr[i].value_len;
            return true;
        }
    }
    return false;
}

/* Whether a comma-separated header value lists token (any case). */
static bool has_token(sl_str v, const char *token) {
    size_t i = 0;
    while (i < v.len) {
        while (i < v.len &&
               (v.ptr[i] == ' ' || v.ptr[i] == ',' || v.ptr[i] == '\t')) {
            i++;
        }
        size_t s = i;
        while (i < v.len && v.ptr[i] != ',') {
            i++;
        }
        size_t e = i;
        while (e > s && (v.ptr[e - 1] == ' ' || v.ptr[e - 1] == '\t')) {
            e--;
        }
        if (sl__http_ieq((sl_str){v.ptr + s, e - s}, token)) {
            return true;
        }
    }
    return false;
}

static bool parse_size(sl_str v, size_t *out) {
    size_t n = 0;
    if (v.len == 0 || v.len > 19) {
        return false;
    }
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9') {
            return false;
        }
        n = n * 10 + (size_t)(v.ptr[i] - '0');
    }
    *out = n;
    return true;
}

static sl__http_result fail(int *status, int code) {
    *status = code;
    return SL_HTTP_ERROR;
}

static sl__http_result parse_head(sl__http_parser *p, sl_buf *in,
                                  size_t max_header, size_t max_body,
                                  sl__http_req *req, int *status) {
    const char *method = NULL, *path = NULL;
    size_t mlen = 0, plen = 0;
    req->nhdr = SL_HTTP_MAX_HEADERS;
    int r = phr_parse_request(in->ptr, in->len, &method, &mlen, &path, &plen,
                              &req->minor, req->hdr, &req->nhdr, 0);
    if (r == -2) {
        return in->len > max_header ? fail(status, 431) : SL_HTTP_MORE;
    }
    if (r < 0) {
        /* too many headers also lands here: picohttpparser says -1 */
        return fail(status, 400);
    }
    if ((size_t)r > max_header) {
        return fail(status, 431);
    }
    if (req->minor != 0 && req->minor != 1) {
        return fail(status, 505);
    }
    p->head_len = (size_t)r;
    req->method = (sl_str){method, mlen};
    req->path = (sl_str){path, plen};
    sl_str v = {0};
    req->keep_alive = req->minor == 1;
    if (sl__http_header(req, "connection", &v)) {
        if (has_token(v, "close")) {
            req->keep_alive = false;
        } else if (has_token(v, "keep-alive")) {
            req->keep_alive = true;
        }
    }
    req->content_type = (sl_str){"", 0};
    req->content_encoding = (sl_str){"", 0};
    sl__http_header(req, "content-type", &req->content_type);
    sl__http_header(req, "content-encoding", &req->content_encoding);
    sl_str expect = {0};
    p->keep_alive = req->keep_alive;
    p->want_continue = sl__http_header(req, "expect", &expect) &&
                       sl__http_ieq(expect, "100-continue");
    if (sl__http_header(req, "transfer-encoding", &v)) {
        if (!sl__http_ieq(v, "chunked")) {
            return fail(status, 501);
        }
        if (sl__http_header(req, "content-length", &v)) {
            return fail(status, 400); /* smuggling: never both */
        }
        memset(&p->dec, 0, sizeof(p->dec));
        p->dec.consume_trailer = 1;
        p->body_len = 0;
        p->raw_off = p->head_len;
        p->state = ST_CHUNKED;
        return SL_HTTP_MORE;
    }
    p->content_len = 0;
    if (sl__http_header(req, "content-length", &v) &&
        !parse_size(v, &p->content_len)) {
        return fail(status, 400);
    }
    if (p->content_len > max_body) {
        return fail(status, 413);
    }
    p->state = ST_BODY;
    return SL_HTTP_MORE;
}

sl__http_result sl__http_parse(sl__http_parser *p, sl_buf *in,
                               size_t max_header, size_t max_body,
                               sl__http_req *req, int *status) {
    *status = 0;
    if (p->state == ST_HEAD || p->state == ST_DONE) {
        p->state = ST_HEAD;
        if (in->len == 0) {
            return SL_HTTP_MORE;
        }
        sl__http_result r =
            parse_head(p, in, max_header, max_body, req, status);
        if (r != SL_HTTP_MORE || p->state == ST_HEAD) {
            return r;
        }
    } else {
        /* views into in may have moved since the head was parsed */
        int minor = 0;
        const char *m = NULL, *pa = NULL;
        size_t ml = 0, pl = 0;
        req->nhdr = SL_HTTP_MAX_HEADERS;
        if (phr_parse_request(in->ptr, p->head_len, &m, &ml, &pa, &pl, &minor,
                              req->hdr, &req->nhdr, 0) != (int)p->head_len) {
            return fail(status, 400);
        }
        req->method = (sl_str){m, ml};
        req->path = (sl_str){pa, pl};
        req->content_type = (sl_str){"", 0};
        req->content_encoding = (sl_str){"", 0};
        sl__http_header(req, "content-type", &req->content_type);
        sl__http_header(req, "content-encoding", &req->content_encoding);
    }
    if (p->state == ST_BODY) {
        if (in->len - p->head_len < p->content_len) {
            return SL_HTTP_MORE;
        }
        req->body = in->ptr + p->head_len;
        req->body_len = p->content_len;
        p->want_continue = false;
        req->keep_alive = p->keep_alive;
        p->state = ST_DONE;
        return SL_HTTP_DONE;
    }
    /* chunked: decode what arrived since last time, in place, and move it
     * right after the body decoded so far */
    if (in->len > p->raw_off) {
        size_t sz = in->len - p->raw_off;
        ssize_t left = phr_decode_chunked(&p->dec, in->ptr + p->raw_off, &sz);
        if (left == -1) {
            return fail(status, 400);
        }
        size_t dst = p->head_len + p->body_len;
        if (dst != p->raw_off && sz > 0) {
            memmove(in->ptr + dst, in->ptr + p->raw_off, sz);
        }
        p->body_len += sz;
        if (left >= 0) {
            /* complete: the pipelined rest follows the decoded body */
            if (left > 0) {
                memmove(in->ptr + dst + sz, in->ptr + p->raw_off + sz,
                        (size_t)left);
            }
            in->len = dst + sz + (size_t)left;
        } else {
            in->len = dst + sz;
        }
        p->raw_off = in->len;
        if (in->ptr) {
            in->ptr[in->len] = '\0';
        }
        if (p->body_len > max_body) {
            return fail(status, 413);
        }
        if (left >= 0) {
            req->body = in->ptr + p->head_len;
            req->body_len = p->body_len;
            p->content_len = p->body_len;
            p->want_continue = false;
            req->keep_alive = p->keep_alive;
            p->state = ST_DONE;
            return SL_HTTP_DONE;
        }
    }
    return SL_HTTP_MORE;
}

void sl__http_consume(sl__http_parser *p, sl_buf *in) {
    size_t used = p->head_len + p->content_len;
    if (used > in->len) {
        used = in->len;
    }
    memmove(in->ptr, in->ptr + used, in->len - used);
    in->len -= used;
    if (in->ptr) {
        in->ptr[in->len] = '\0';
    }
    memset(p, 0, sizeof(*p));
}

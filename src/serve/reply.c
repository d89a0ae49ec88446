/* src/serve/reply.c: response messages in JSON and protobuf, and HTTP/1.1
 * response heads. Protobuf: field numbers from the OTLP collector protos
 * (Export*ServiceResponse.partial_success = 1; Export*PartialSuccess
 * rejected_* = 1, error_message = 2) and google/rpc/status.proto (code =
 * 1, message = 2). */
#include "serve/reply.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "serve/log.h"

static size_t put_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static const char *rejected_name(sl_signal sig) {
    switch (sig) {
    case SL_SIGNAL_METRIC:
        return "rejectedDataPoints";
    case SL_SIGNAL_TRACE:
        return "rejectedSpans";
    default:
        return "rejectedLogRecords";
    }
}

sl_status sl__serve_reply_export(sl_buf *out, bool proto, sl_signal sig,
                                 uint64_t rejected, const char *msg) {
    if (rejected == 0) {
        return proto ? SL_OK : sl__buf_append(out, "{}", 2);
    }
    size_t mlen = strnlen(msg, 512);
    if (!proto) {
        char esc[1200];
        sl__serve_json_escape(esc, sizeof(esc), msg, mlen);
        return sl__buf_printf(out,
                              "{\"partialSuccess\":{\"%s\":\"%" PRIu64
                              "\",\"errorMessage\":\"%s\"}}",
                              rejected_name(sig), rejected, esc);
    }
    uint8_t inner[600];
    size_t n = 0;
    inner[n++] = 0x08; /* rejected_*: field 1, varint */
    n += put_varint(inner + n, rejected);
    inner[n++] = 0x12; /* error_message: field 2, bytes */
    n += put_varint(inner + n, mlen);
    memcpy(inner + n, msg, mlen);
    n += mlen;
    uint8_t head[11];
    size_t h = 0;
    head[h++] = 0x0a; /* partial_success: field 1, bytes */
    h += put_varint(head + h, n);
    sl_status rc = sl__buf_append(out, head, h);
    return rc == SL_OK ? sl__buf_append(out, inner, n) : rc;
}

sl_status sl__serve_reply_status(sl_buf *out, bool proto, int grpc_code,
                                 const char *msg) {
    size_t mlen = strnlen(msg, 512);
    if (!proto) {
        char esc[1200];
        sl__serve_json_escape(esc, sizeof(esc), msg, mlen);
        return sl__buf_printf(out, "{\"code\":%d,\"message\":\"%s\"}",
                              grpc_code, esc);
    }
    uint8_t b[600];
    size_t n = 0;
    if (grpc_code != 0) {
        b[n++] = 0x08;
        n += put_varint(b + n, (uint64_t)grpc_code);
    }
    b[n++] = 0x12;
    n += put_varint(b + n, mlen);
    memcpy(b + n, msg, mlen);
    n += mlen;
    return sl__buf_append(out, b, n);
}

const char *sl__serve_http_reason(int status) {
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

int sl__serve_grpc_code(int http_status) {
    switch (http_status) {
    case 200:
        return 0; /* OK */
    case 400:
        return 3; /* INVALID_ARGUMENT */
    case 408:
        return 4; /* DEADLINE_EXCEEDED */
    case 404:
    case 405:
    case 415:
    case 501:
        return 12; /* UNIMPLEMENTED */
    case 413:
    case 429:
    case 431:
        return 8; /* RESOURCE_EXHAUSTED */
    case 503:
        return 14; /* UNAVAILABLE */
    default:
        return 13; /* INTERNAL */
    }
}

sl_status sl__serve_http_respond(sl_buf *out, int status, const char *ctype,
                                 const char *extra, const char *body,
                                 size_t len, bool keep_alive) {
    sl_status rc = sl__buf_printf(
        out,
        "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s"
        "\r\n",
        status, sl__serve_http_reason(status), ctype, len,
        keep_alive ? "" : "Connection: close\r\n", extra ? extra : "");
    if (rc == SL_OK && len > 0) {
        rc = sl__buf_append(out, body, len);
    }
    return rc;
}

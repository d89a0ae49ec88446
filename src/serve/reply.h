/* src/serve/reply.h: the small messages the gateway answers with, encoded
 * here (they are a few bytes): HTTP/1.1 response heads, OTLP
 * Export*ServiceResponse with partial_success, and google.rpc.Status, each
 * in JSON or protobuf as the request came. */
#ifndef SL_SERVE_REPLY_H
#define SL_SERVE_REPLY_H

#include <sluice/otlp.h>

#include <stdbool.h>
#include <stdint.h>

/* Export*ServiceResponse for sig: empty ({} / no bytes) when rejected is 0,
 * else partial_success {rejected_<log_records|data_points|spans>,
 * error_message}. Appended to out. */
sl_status sl__serve_reply_export(sl_buf *out, bool proto, sl_signal sig,
                                 uint64_t rejected, const char *msg);

/* google.rpc.Status {code, message} appended to out. */
sl_status sl__serve_reply_status(sl_buf *out, bool proto, int grpc_code,
                                 const char *msg);

/* A whole HTTP/1.1 response appended to out. extra: more header lines,
 * each ending in \r\n, or NULL. */
sl_status sl__serve_http_respond(sl_buf *out, int status, const char *ctype,
                                 const char *extra, const char *body,
                                 size_t len, bool keep_alive);

/* The reason phrase of an HTTP status. */
const char *sl__serve_http_reason(int status);

/* The gRPC code that matches an HTTP status (as the OTLP spec maps them). */
int sl__serve_grpc_code(int http_status);

#endif

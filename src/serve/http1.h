/* src/serve/http1.h: HTTP/1.1 request framing over picohttpparser (the
 * copy Debian ships inside libh2o-evloop: phr_parse_request,
 * phr_decode_chunked). Feed it a connection's input buffer; it says when
 * a whole request (head and body, Content-Length or chunked) is there,
 * decodes chunked bodies in place, and enforces the head and body
 * limits. No sockets here: the fuzz target drives it directly. */
#ifndef SL_SERVE_HTTP1_H
#define SL_SERVE_HTTP1_H

#include <sluice/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum {
    SL_HTTP_MAX_HEADERS = 64
};

/* picohttpparser's API (picohttpparser.h is not installed by Debian; the
 * functions are exported by libh2o-evloop.so, ABI of h2o 2.2.5). */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
struct phr_chunked_decoder {
    size_t bytes_left_in_chunk;
    char consume_trailer;
    char _hex_count;
    char _state;
};
int phr_parse_request(const char *buf, size_t len, const char **method,
                      size_t *method_len, const char **path, size_t *path_len,
                      int *minor_version, struct phr_header *headers,
                      size_t *num_headers, size_t last_len);
int phr_parse_response(const char *buf, size_t len, int *minor_version,
                       int *status, const char **msg, size_t *msg_len,
                       struct phr_header *headers, size_t *num_headers,
                       size_t last_len);
ssize_t phr_decode_chunked(struct phr_chunked_decoder *decoder, char *buf,
                           size_t *bufsz);

/* One parsed request; every view borrows the input buffer until the
 * request is consumed. */
typedef struct sl__http_req {
    sl_str method, path;
    int minor; /* HTTP/1.<minor> */
    struct phr_header hdr[SL_HTTP_MAX_HEADERS];
    size_t nhdr;
    sl_str content_type, content_encoding;
    const char *body;
    size_t body_len;
    bool keep_alive;
} sl__http_req;

typedef struct sl__http_parser {
    int state;          /* internal */
    size_t head_len;    /* bytes of request line and headers */
    size_t content_len; /* Content-Length body */
    size_t body_len;    /* chunked: decoded bytes so far */
    size_t raw_off;     /* chunked: where undecoded input starts */
    bool want_continue; /* Expect: 100-continue seen, body not yet here */
    bool keep_alive;
    struct phr_chunked_decoder dec;
} sl__http_parser;

typedef enum sl__http_result {
    SL_HTTP_MORE = 0, /* need more input */
    SL_HTTP_DONE = 1, /* *req is a whole request */
    SL_HTTP_ERROR = 2 /* *status says which (400, 413, 431, 501, 505) */
} sl__http_result;

/* Frame the request at the start of in. Chunked bodies are decoded in
 * place (in->len shrinks). On DONE, the caller handles *req, then calls
 * sl__http_consume(). On ERROR the connection must be answered with
 * *status and closed. */
sl__http_result sl__http_parse(sl__http_parser *p, sl_buf *in,
                               size_t max_header, size_t max_body,
                               sl__http_req *req, int *status);

/* Drop the handled request from in, keeping pipelined bytes; reset p. */
void sl__http_consume(sl__http_parser *p, sl_buf *in);

/* Case-insensitive header lookup; false when absent. */
bool sl__http_header(const sl__http_req *req, const char *name, sl_str *out);

/* Whether a and the NUL-terminated b are equal ignoring ASCII case. */
bool sl__http_ieq(sl_str a, const char *b);

#endif

/* src/serve/codec.h: Content-Encoding for request and forwarded bodies:
 * gzip (zlib) and zstd (libzstd), decompression bounded so that a small
 * bomb cannot make a large buffer. */
#ifndef SL_SERVE_CODEC_H
#define SL_SERVE_CODEC_H

#include <sluice/common.h>

typedef enum sl__serve_enc {
    SL_SERVE_ENC_IDENTITY = 0,
    SL_SERVE_ENC_GZIP = 1,
    SL_SERVE_ENC_ZSTD = 2,
    SL_SERVE_ENC_UNKNOWN = 3
} sl__serve_enc;

/* The encoding a Content-Encoding / grpc-encoding value names ("" and
 * "identity" are identity). */
sl__serve_enc sl__serve_enc_parse(sl_str v);

/* Decompress n bytes into out (appended), at most limit bytes.
 * @return SL_OK; SL_ELIMIT past limit; SL_EPARSE for corrupt or truncated
 *         data (err says which); SL_ENOMEM. */
sl_status sl__serve_decompress(sl__serve_enc enc, const char *in, size_t n,
                               size_t limit, sl_buf *out, sl_error *err);

/* gzip n bytes into out (appended). @return SL_OK, SL_ENOMEM, SL_EINVAL. */
sl_status sl__serve_gzip(const char *in, size_t n, sl_buf *out);

#endif

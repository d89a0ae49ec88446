/* src/serve/codec.c: bounded gzip / zstd decompression, gzip compression.
 * Output grows in steps and is checked against the limit after each step;
 * the buffer doubles, so a bomb costs at most about twice the limit. */
#include "serve/codec.h"

#include <zlib.h>
#include <zstd.h>

#include "base/base.h"
#include "serve/http1.h"

enum {
    STEP = 64 * 1024
};

sl__serve_enc sl__serve_enc_parse(sl_str v) {
    if (v.len == 0 || sl__http_ieq(v, "identity")) {
        return SL_SERVE_ENC_IDENTITY;
    }
    if (sl__http_ieq(v, "gzip") || sl__http_ieq(v, "x-gzip")) {
        return SL_SERVE_ENC_GZIP;
    }
    if (sl__http_ieq(v, "zstd")) {
        return SL_SERVE_ENC_ZSTD;
    }
    return SL_SERVE_ENC_UNKNOWN;
}

static sl_status grow(sl_buf *out, size_t limit, size_t *room, sl_error *err) {
    if (out->len > limit) {
        return sl__error(err, SL_ELIMIT, NULL,
                         "decompressed body is larger than %zu bytes", limit);
    }
    sl_status rc = sl__buf_reserve(out, STEP);
    if (rc != SL_OK) {
        return rc == SL_ENOMEM ? sl__nomem(err) : rc;
    }
    *room = out->cap - out->len - 1;
    return SL_OK;
}

static sl_status gunzip(const char *in, size_t n, size_t limit, sl_buf *out,
                        sl_error *err) {
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 32) != Z_OK) { /* gzip or zlib header */
        return sl__nomem(err);
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    sl_status rc = SL_OK;
    size_t left = n;
    int zr = Z_OK;
    while (zr != Z_STREAM_END) {
        size_t room = 0;
        rc = grow(out, limit, &room, err);
        if (rc != SL_OK) {
            break;
        }
        if (zs.avail_in == 0) {
            zs.avail_in = left > UINT32_MAX ? UINT32_MAX : (uInt)left;
            left -= zs.avail_in;
        }
        zs.next_out = (Bytef *)out->ptr + out->len;
        zs.avail_out = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
        uInt before = zs.avail_out;
        zr = inflate(&zs, Z_NO_FLUSH);
        out->len += before - zs.avail_out;
        out->ptr[out->len] = '\0';
        if (zr == Z_STREAM_END) {
            break;
        }
        if (zr == Z_BUF_ERROR && zs.avail_in == 0 && left == 0) {
            rc = sl__error(err, SL_EPARSE, NULL, "gzip body is truncated");
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = sl__error(err, SL_EPARSE, NULL, "gzip body is corrupt: %s",
                           zs.msg ? zs.msg : "inflate failed");
            break;
        }
    }
    if (rc == SL_OK && out->len > limit) {
        rc = sl__error(err, SL_ELIMIT, NULL,
                       "decompressed body is larger than %zu bytes", limit);
    }
    inflateEnd(&zs);
    return rc;
}

static sl_status unzstd(const char *in, size_t n, size_t limit, sl_buf *out,
                        sl_error *err) {
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    if (!dc) {
        return sl__nomem(err);
    }
    ZSTD_inBuffer ib = {in, n, 0};
    sl_status rc = SL_OK;
    size_t zr = 1;
    while (zr != 0) {
        size_t room = 0;
        rc = grow(out, limit, &room, err);
        if (rc != SL_OK) {
            break;
        }
        ZSTD_outBuffer ob = {out->ptr + out->len, room, 0};
        zr = ZSTD_decompressStream(dc, &ob, &ib);
        if (ZSTD_isError(zr)) {
            rc = sl__error(err, SL_EPARSE, NULL, "zstd body is corrupt: %s",
                           ZSTD_getErrorName(zr));
            break;
        }
        out->len += ob.pos;
        out->ptr[out->len] = '\0';
        if (zr != 0 && ib.pos == ib.size && ob.pos < room) {
            rc = sl__error(err, SL_EPARSE, NULL, "zstd body is truncated");
            break;
        }
    }
    if (rc == SL_OK && out->len > limit) {
        rc = sl__error(err, SL_ELIMIT, NULL,
                       "decompressed body is larger than %zu bytes", limit);
    }
    ZSTD_freeDCtx(dc);
    return rc;
}

sl_status sl__serve_decompress(sl__serve_enc enc, const char *in, size_t n,
                               size_t limit, sl_buf *out, sl_error *err) {
    switch (enc) {
    case SL_SERVE_ENC_GZIP:
        return gunzip(in, n, limit, out, err);
    case SL_SERVE_ENC_ZSTD:
        return unzstd(in, n, limit, out, err);
    default:
        return sl__error(err, SL_EINVAL, NULL, "unsupported encoding");
    }
}

sl_status sl__serve_gzip(const char *in, size_t n, sl_buf *out) {
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        return SL_ENOMEM;
    }
    sl_status rc = sl__buf_reserve(out, deflateBound(&zs, (uLong)n) + 32);
    if (rc == SL_OK) {
        zs.next_in = (Bytef *)(uintptr_t)in;
        zs.avail_in = (uInt)n;
        zs.next_out = (Bytef *)out->ptr + out->len;
        zs.avail_out = (uInt)(out->cap - out->len - 1);
        if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
            rc = SL_EINVAL;
        } else {
            out->len += zs.total_out;
            out->ptr[out->len] = '\0';
        }
    }
    deflateEnd(&zs);
    return rc;
}

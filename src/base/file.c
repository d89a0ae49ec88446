/* src/base/file.c: read a whole file (or stdin) into memory. Inputs are
 * parsed in place (zero-copy strings), so the buffer is NUL-terminated and
 * owned by the caller. Capped at SL_MAX_INPUT. */
#include <sluice/common.h>

#include <errno.h>
#include <stdio.h>

#include "base/base.h"

sl_status sl__read_file(const char *path, char **out, size_t *len,
                        sl_error *err) {
    sl_pos pos = {path, 0, 0};
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        return sl__error(err, SL_EIO, &pos, "cannot open: %s", strerror(errno));
    }
    sl_buf b = {0};
    sl_status rc = SL_OK;
    for (;;) {
        rc = sl__buf_reserve(&b, 1 << 16);
        if (rc != SL_OK) {
            break;
        }
        size_t room = b.cap - b.len - 1;
        size_t n = fread(b.ptr + b.len, 1, room, f);
        b.len += n;
        if (b.len > SL_MAX_INPUT) {
            rc = SL_ELIMIT;
            break;
        }
        if (n < room) {
            if (ferror(f)) {
                rc = SL_EIO;
            }
            break;
        }
    }
    if (!is_stdin) {
        fclose(f);
    }
    if (rc != SL_OK) {
        sl__buf_free(&b);
        if (rc == SL_ENOMEM) {
            return sl__nomem(err);
        }
        return sl__error(err, rc, &pos,
                         rc == SL_ELIMIT ? "file larger than 1 GiB"
                                         : "read failed");
    }
    if (!b.ptr && sl__buf_reserve(&b, 1) != SL_OK) {
        return sl__nomem(err);
    }
    b.ptr[b.len] = '\0';
    *out = b.ptr;
    *len = b.len;
    return SL_OK;
}

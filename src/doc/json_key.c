/* src/doc/json_key.c: write one object key as it was read. Owns only
 * sl_json_write_key, for writers outside src/doc that emit objects member
 * by member (the redactor) and must keep each key's text byte for byte;
 * whole values are written by json_write.c. */
#include <sluice/doc.h>

#include "base/base.h"
#include "doc/private.h"

sl_status sl_json_write_key(sl_buf *out, const sl_node *obj, size_t i) {
    const sl__member *m = sl__node_member(obj, i);
    if (!out || !m) {
        return SL_EINVAL;
    }
    if (!m->key.raw) {
        return sl_json_write_string(out, m->key.u.s ? m->key.u.s : "",
                                    m->key.len);
    }
    size_t need = (size_t)m->key.aux + 2;
    if (out->len + need + 1 > out->cap) { /* rare: the buffer grows */
        sl_status rc = sl__buf_reserve(out, need);
        if (rc != SL_OK) {
            return rc;
        }
    }
    out->ptr[out->len++] = '"';
    memcpy(out->ptr + out->len, m->key.raw, m->key.aux);
    out->len += m->key.aux;
    out->ptr[out->len++] = '"';
    out->ptr[out->len] = '\0';
    return SL_OK;
}

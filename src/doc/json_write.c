/* src/doc/json_write.c: placeholder until the JSON writer lands. */
#include <sluice/doc.h>

#include "base/base.h"
#include "doc/private.h"

sl_status sl_json_write(sl_buf *out, const sl_node *n, unsigned flags,
                        sl_error *err) {
    SL_UNUSED(out);
    SL_UNUSED(n);
    SL_UNUSED(flags);
    return sl__error(err, SL_EINVAL, NULL, "json writer not built yet");
}

sl_status sl_json_write_string(sl_buf *out, const char *s, size_t len) {
    SL_UNUSED(out);
    SL_UNUSED(s);
    SL_UNUSED(len);
    return SL_EINVAL;
}

/* src/doc/json_canon.c: placeholder until the RFC 8785 writer lands. */
#include <sluice/doc.h>

#include "base/base.h"
#include "doc/private.h"

sl_status sl_json_write_canonical(sl_buf *out, const sl_node *n,
                                  sl_error *err) {
    SL_UNUSED(out);
    SL_UNUSED(n);
    return sl__error(err, SL_EINVAL, NULL, "canonical writer not built yet");
}

/* src/doc/tagged.c: placeholder until the tagged (toml-test) writer lands. */
#include <sluice/doc.h>

#include "base/base.h"
#include "doc/private.h"

sl_status sl_doc_write_tagged(sl_buf *out, const sl_node *n, sl_error *err) {
    SL_UNUSED(out);
    SL_UNUSED(n);
    return sl__error(err, SL_EINVAL, NULL, "tagged writer not built yet");
}

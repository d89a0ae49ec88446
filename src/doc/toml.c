/* src/doc/toml.c: placeholder until the reader lands (see the issue);
 * every call fails with a clear error, nothing is half-parsed. */
#include <sluice/doc.h>

#include "base/base.h"
#include "doc/private.h"

sl_status sl__toml_parse(sl_doc *doc, uint32_t max_depth, sl_error *err) {
    SL_UNUSED(max_depth);
    return sl__doc_error(doc, err, SL_EPARSE, 0, "toml reader not built yet");
}

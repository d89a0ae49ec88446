/* src/doc/json_read.c: placeholder until the reader lands (see the issue);
 * every call fails with a clear error, nothing is half-parsed. */
#include <sluice/doc.h>

#include "base/base.h"
#include "doc/private.h"

sl_status sl__json_parse(sl_doc *doc, size_t start, size_t *next, uint32_t max_depth, sl_error *err) {
    SL_UNUSED(max_depth);
    SL_UNUSED(start);
    SL_UNUSED(next);
    return sl__doc_error(doc, err, SL_EPARSE, 0, "json_read reader not built yet");
}

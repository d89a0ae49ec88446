/* src/doc/span.h: two hooks for readers outside src/doc that validate a
 * JSON text themselves and want nodes for some of its values only (the
 * OTLP/JSON fast pass, src/otlp/scan.c): give a document its text without
 * parsing it, then parse single values of that text into nodes. One JSON
 * grammar still: the values are read by the doc module's own reader, and
 * their nodes carry offsets into the same text, as a full load's would. */
#ifndef SL_DOC_SPAN_H
#define SL_DOC_SPAN_H

#include <sluice/doc.h>

/* Forget doc's tree and make text[0..len) (borrowed: it must outlive the
 * nodes) its source, named file (copied; may be NULL); doc has no root
 * afterwards. @return SL_OK, SL_ELIMIT (over 1 GiB), SL_ENOMEM. */
sl_status sl__doc_begin_text(sl_doc *doc, const char *text, size_t len,
                             const char *file, sl_error *err);

/* Parse the one JSON value that starts at byte off of doc's text into a
 * new node (*out, in doc's arena; the root is left as it was).
 * @return SL_OK, or the reader's SL_EPARSE / SL_EUTF8 / SL_ELIMIT /
 * SL_ENOMEM. */
sl_status sl__doc_parse_at(sl_doc *doc, size_t off, sl_node **out,
                           sl_error *err);

#endif

/* src/doc/build.h: building and inspecting a tree from a codec outside the
 * doc module's own readers (the OTLP protobuf decoder in src/otlp). Only
 * src code includes this; it is the doc module's whole internal interface
 * for such codecs (the node layout stays private to src/doc).
 *
 * A built document has no JSON source text: nothing in it is ever copied
 * as JSON source, so every JSON writer encodes it node by node. Containers
 * may carry a span [off, end) in the codec's own input (its bytes, e.g. a
 * protobuf message's content) so the codec can copy unchanged parts back
 * out; strings may point into that input (zero-copy). */
#ifndef SL_DOC_BUILD_H
#define SL_DOC_BUILD_H

#include <sluice/doc.h>

#include "base/base.h"

/* Start a new tree in doc (its previous content is forgotten, memory kept):
 * no source text; file is copied. The root is an empty object, returned
 * in *root. */
sl_status sl__doc_build_begin(sl_doc *doc, const char *file, sl_node **root,
                              sl_error *err);

/* A new member (key borrowed: must outlive the doc's content, and must be
 * JSON-plain text as sl__doc_text_plain says: writers copy it as it is) or
 * element appended to container c, initialised to null; NULL when out of
 * memory or when the container is full (SL__NO_OFF entries). */
sl_node *sl__doc_build_push(sl_doc *doc, sl_node *c, const char *key,
                            uint32_t klen);

/* Make n a scalar over s (borrowed; a string's text is its decoded value,
 * numbers are JSON lexemes). */
void sl__doc_build_scalar(sl_node *n, sl_node_kind kind, const char *s,
                          uint32_t len);

/* Whether s[0..n) is its own JSON string text (ASCII, no '"', '\\' or
 * control byte), checked a word at a time; such text is valid UTF-8. */
bool sl__doc_text_plain(const char *s, size_t n);

/* Mark string n, made by sl__doc_build_scalar over text for which
 * sl__doc_text_plain holds, so that writers copy its bytes as they are
 * instead of escaping them one by one. */
void sl__doc_build_plain(sl_node *n);

/* Make n an empty container whose source is [off, end) of the codec's
 * input (end points one past its last byte); off = UINT32_MAX: no span. */
void sl__doc_build_container(sl_node *n, sl_node_kind kind, uint32_t off,
                             const char *end);

/* Give empty container c room for cap members or elements at once (one
 * arena array instead of growing by doubling). SL_ENOMEM. */
sl_status sl__doc_build_reserve(sl_doc *doc, sl_node *c, uint32_t cap);

/* Set (or with off = UINT32_MAX clear) the span of container n, keeping
 * its content. */
void sl__doc_build_span(sl_node *n, uint32_t off, const char *end);

/* Arena memory of the doc (freed with its content); NULL when out. */
void *sl__doc_build_alloc(sl_doc *doc, size_t size);

/* The span given at build time to container n, whether or not n changed
 * since (a changed object keeps its span: its source still holds what a
 * codec cannot represent in the tree, such as unknown protobuf fields). */
bool sl__doc_node_span(const sl_node *n, uint32_t *off, const char **end);

/* Whether n and everything below it are unchanged since they were built
 * or read. */
bool sl__doc_node_unchanged(const sl_node *n);

/* For writers outside src/doc that copy a document's compact JSON source
 * around the values they replace (the redactor): where node n's own JSON
 * text lies in doc's current source, [*s, *e) (a string's quotes
 * included, a number's lexeme, a literal, a compact container), and
 * where object obj's member i lies (its key's opening quote to the end of
 * its value). False for anything changed or made after loading, read from
 * another syntax, or not compact; *s and *e are then untouched. */
bool sl__doc_value_span(const sl_doc *doc, const sl_node *n, const char **s,
                        const char **e);
bool sl__doc_member_span(const sl_doc *doc, const sl_node *obj, size_t i,
                         const char **s, const char **e);

#endif

/* include/sluice/doc.h: the document tree every loader reads. JSON, TOML and
 * YAML parse into the same arena-backed tree (sl_doc / sl_node), so each
 * loader (policies, filters, redaction rules) is written once and accepts
 * all three syntaxes. Every node keeps its source position so every config
 * error can say file:line:col.
 *
 * The tree is lossless for JSON: number lexemes, string escapes and key
 * order survive a parse -> write round trip unless a node was changed. */
#ifndef SLUICE_DOC_H
#define SLUICE_DOC_H

#include <stdbool.h>

#include <sluice/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_doc sl_doc;   /* owns all its nodes (one arena) */
typedef struct sl_node sl_node; /* borrowed from its doc */

/** Node kinds. Numbers keep their source lexeme (sl_node_str). The four
 * date/time kinds come only from TOML and keep their lexeme too. */
typedef enum sl_node_kind {
    SL_NODE_NULL = 0,
    SL_NODE_BOOL = 1,
    SL_NODE_INT = 2,   /* JSON number without '.', 'e' or 'E'; TOML integer */
    SL_NODE_FLOAT = 3, /* other JSON numbers; TOML float */
    SL_NODE_STRING = 4,
    SL_NODE_ARRAY = 5,
    SL_NODE_OBJECT = 6,   /* JSON object, TOML table, YAML mapping */
    SL_NODE_DATETIME = 7, /* TOML offset date-time */
    SL_NODE_DATETIME_LOCAL = 8,
    SL_NODE_DATE_LOCAL = 9,
    SL_NODE_TIME_LOCAL = 10
} sl_node_kind;

typedef enum sl_format {
    SL_FORMAT_AUTO = 0, /* from the file extension; JSON otherwise */
    SL_FORMAT_JSON = 1,
    SL_FORMAT_TOML = 2,
    SL_FORMAT_YAML = 3
} sl_format;

/** Parse options; {0} gives the defaults. */
typedef struct sl_doc_opts {
    uint32_t max_depth; /* nesting limit; 0 = 512 */
    bool borrow;        /* text is borrowed (must outlive the next load or
                           free) instead of copied into the doc */
} sl_doc_opts;

/** A new, empty document (root NULL), owned: free with sl_doc_free().
 * Reuse one doc for many loads: memory is kept between loads.
 * @return NULL when out of memory. */
SL_API sl_doc *sl_doc_new(void);

/** Free a document and every node in it. NULL is a no-op. */
SL_API void sl_doc_free(sl_doc *doc);

/** Parse text as one whole document into doc (replacing what it held).
 * @param text  len bytes; copied unless opts->borrow.
 * @param file  name used in positions and errors; copied; may be NULL.
 * @param opts  may be NULL.
 * @param err   on failure carries file:line:col of the problem.
 * @return SL_OK, SL_EPARSE, SL_EUTF8, SL_ELIMIT, SL_ENOMEM or SL_EINVAL.
 * JSON: RFC 8259 exactly; a leading UTF-8 byte order mark is skipped; a
 * lone UTF-16 surrogate in a \u escape decodes to U+FFFD (its source text
 * is kept, so an unchanged string is written back as read). YAML: one
 * document, YAML 1.2 core schema; aliases are copies, limited in total.
 * Thread safety: one doc per thread while loading. */
SL_API sl_status sl_doc_load(sl_doc *doc, const char *text, size_t len,
                             sl_format fmt, const char *file,
                             const sl_doc_opts *opts, sl_error *err);

/** Parse the next JSON value of a whitespace-separated stream of values
 * (JSON lines, or pretty-printed documents one after another).
 * The text is always borrowed. Positions count from the start of text, so
 * line numbers in errors are the stream's line numbers.
 * @param off  in: where to start; out (on SL_OK and SL_EPARSE alike): just
 *             past the value and the whitespace after it, or for SL_EPARSE
 *             just past the end of the line holding the error.
 * @return SL_OK with a value; SL_ENOTFOUND when only whitespace remains;
 *         SL_EPARSE, SL_EUTF8, SL_ELIMIT, SL_ENOMEM. */
SL_API sl_status sl_doc_load_next(sl_doc *doc, const char *text, size_t len,
                                  size_t *off, const char *file,
                                  const sl_doc_opts *opts, sl_error *err);

/** Read and parse a file ("-" = stdin) into a new doc, owned.
 * @param fmt  SL_FORMAT_AUTO picks by extension: .toml, .yaml/.yml, else
 *             JSON.
 * @return SL_OK, SL_EIO and the codes of sl_doc_load(). */
SL_API sl_status sl_doc_parse_file(const char *path, sl_format fmt,
                                   const sl_doc_opts *opts, sl_doc **out,
                                   sl_error *err);

/** The root node, borrowed until the next load or free; NULL if empty. */
SL_API const sl_node *sl_doc_root(const sl_doc *doc);

/** The file name given at load (borrowed), or NULL. */
SL_API const char *sl_doc_file(const sl_doc *doc);

/* ---- reading nodes (NULL node: kind NULL, length 0, empty string) ---- */

SL_API sl_node_kind sl_node_kind_of(const sl_node *n);

/** Name of a kind: "null", "bool", "integer", "float", "string", "array",
 * "object", "datetime", ... (static). */
SL_API const char *sl_node_kind_name(sl_node_kind k);

/** Text of a scalar: the decoded value of a string, the source lexeme of a
 * number or date/time, "true"/"false", "null". Borrowed from the doc. */
SL_API sl_str sl_node_str(const sl_node *n);

/** Value of a bool node (false for any other kind). */
SL_API bool sl_node_bool(const sl_node *n);

/** Integer value of an INT node (JSON lexeme or TOML integer).
 * @return SL_OK, SL_ESCHEMA (not an integer), SL_ELIMIT (out of range). */
SL_API sl_status sl_node_int(const sl_node *n, int64_t *out);

/** Numeric value of an INT or FLOAT node.
 * @return SL_OK or SL_ESCHEMA. */
SL_API sl_status sl_node_double(const sl_node *n, double *out);

/** Number of elements (array) or members (object); 0 otherwise. */
SL_API size_t sl_node_len(const sl_node *n);

/** Element i of an array, or the value of member i of an object; NULL when
 * out of range. */
SL_API const sl_node *sl_node_at(const sl_node *n, size_t i);

/** Key of member i of an object (empty when out of range). */
SL_API sl_str sl_node_key(const sl_node *n, size_t i);

/** The value of the first member named key (NUL-terminated), or NULL. */
SL_API const sl_node *sl_node_get(const sl_node *obj, const char *key);

/** As sl_node_get with an explicit key length. */
SL_API const sl_node *sl_node_getn(const sl_node *obj, const char *key,
                                   size_t klen);

/** Index of the first member named key, or (size_t)-1. */
SL_API size_t sl_node_find(const sl_node *obj, const char *key, size_t klen);

/** Source position of a node (line/col computed on demand, so call it only
 * when reporting). {file, 0, 0} for nodes created after loading. */
SL_API sl_pos sl_node_pos(const sl_doc *doc, const sl_node *n);

/** Source position of the key of member i of an object. */
SL_API sl_pos sl_node_key_pos(const sl_doc *doc, const sl_node *obj, size_t i);

/* ---- changing nodes ----
 * Nodes read through the const accessors of a doc you hold non-const may be
 * cast to (sl_node *) and changed with these. New text is copied into the
 * doc's arena. A changed string is escaped anew when written; everything
 * untouched is written back byte for byte. */

/** Turn n into a string with the given text (copied). */
SL_API sl_status sl_node_set_string(sl_doc *doc, sl_node *n, const char *s,
                                    size_t len);

/** Turn n into a scalar of another kind with the given lexeme (copied):
 * SL_NODE_NULL, SL_NODE_BOOL ("true"/"false"), SL_NODE_INT, SL_NODE_FLOAT
 * (the lexeme must be valid JSON for JSON output). */
SL_API sl_status sl_node_set_scalar(sl_doc *doc, sl_node *n, sl_node_kind kind,
                                    const char *lexeme, size_t len);

/** Turn n into an empty array or object. */
SL_API sl_status sl_node_set_container(sl_doc *doc, sl_node *n,
                                       sl_node_kind kind);

/** Make dst a deep copy of src (which may belong to another doc). */
SL_API sl_status sl_node_copy(sl_doc *doc, sl_node *dst, const sl_node *src);

/** Append a member with key (copied) and a null value to an object.
 * @param val  out: the new value node, borrowed; may be NULL. */
SL_API sl_status sl_node_obj_append(sl_doc *doc, sl_node *obj, const char *key,
                                    size_t klen, sl_node **val);

/** Append a null element to an array. */
SL_API sl_status sl_node_arr_append(sl_doc *doc, sl_node *arr, sl_node **val);

/** Remove member or element i (later ones move down by one).
 * @return SL_OK or SL_EINVAL. */
SL_API sl_status sl_node_remove(sl_node *n, size_t i);

/** Rename member i of an object (key copied). */
SL_API sl_status sl_node_set_key(sl_doc *doc, sl_node *obj, size_t i,
                                 const char *key, size_t klen);

/* ---- writing ---- */

typedef enum sl_write_flags {
    SL_WRITE_COMPACT = 0,
    SL_WRITE_PRETTY = 1 /* two-space indent, one member per line */
} sl_write_flags;

/** Append n as JSON text to out. Strings and numbers that were not changed
 * are written exactly as they were read; TOML/YAML scalars are converted
 * (date/times become strings; TOML inf/nan cannot be JSON: SL_EINVAL).
 * @return SL_OK, SL_EINVAL, SL_ENOMEM, SL_ELIMIT. */
SL_API sl_status sl_json_write(sl_buf *out, const sl_node *n, unsigned flags,
                               sl_error *err);

/** Append n, a node of doc, as compact JSON like sl_json_write, but copy
 * the source text of every run of members or elements that is unchanged
 * since doc read it from JSON without whitespace between tokens: after a
 * few changes to a large document, only the changed parts and the
 * containers around them are written node by node. The output is the same
 * bytes sl_json_write produces. */
SL_API sl_status sl_doc_write_json(const sl_doc *doc, const sl_node *n,
                                   sl_buf *out, sl_error *err);

/** The source text of container n when it can be copied instead of
 * written: n was read from JSON by doc's current load, its text has no
 * whitespace between tokens (so it is exactly what the compact writer
 * produces), and n has not changed since. With deep, nothing below n has
 * changed either (checked by walking n); without, the caller vouches for
 * that (it tracks its changes itself).
 * @return true with *out pointing into doc's text; false otherwise. */
SL_API bool sl_doc_node_source(const sl_doc *doc, const sl_node *n, bool deep,
                               sl_str *out);

/** Append s as a JSON string literal (quotes included) to out, escaped
 * minimally: '"', '\\' and control characters (\n \t \r \b \f, else
 * \u00XX); all other UTF-8 is copied. out is unchanged on failure.
 * @return SL_OK, SL_EINVAL (s is not UTF-8, or NULL with len > 0),
 *         SL_ENOMEM, SL_ELIMIT. */
SL_API sl_status sl_json_write_string(sl_buf *out, const char *s, size_t len);

/** Append the key of member i of obj as a JSON string literal, exactly as
 * it was read (escapes kept) when it came from JSON and was not changed;
 * escaped anew otherwise. Lets a caller that writes objects member by
 * member (the redactor) keep keys byte for byte.
 * @return SL_OK, SL_EINVAL (not an object or i out of range), SL_ENOMEM,
 *         SL_ELIMIT. */
SL_API sl_status sl_json_write_key(sl_buf *out, const sl_node *obj, size_t i);

/** Append n as RFC 8785 (JCS) canonical JSON to out: object members sorted
 * by UTF-16 code units, no whitespace, numbers in ECMAScript form, strings
 * with the minimal escapes. Used to hash non-string values.
 * @return SL_OK, SL_EINVAL (a number JCS cannot represent), SL_ENOMEM. */
SL_API sl_status sl_json_write_canonical(sl_buf *out, const sl_node *n,
                                         sl_error *err);

/** Append n as toml-test's tagged JSON ({"type": "integer", "value": "42"}
 * leaves; tables as objects, arrays as arrays) to out. */
SL_API sl_status sl_doc_write_tagged(sl_buf *out, const sl_node *n,
                                     sl_error *err);

#ifdef __cplusplus
}
#endif
#endif

/* src/doc/private.h: the builder the readers (JSON, TOML, YAML) and
 * writers of the doc module share, over the node layout of doc/view.h.
 * Only src/doc includes this; every other module goes through
 * <sluice/doc.h> (and hot walks through doc/view.h).
 *
 * A node is 32 bytes. Scalars point into the source text where they can
 * (zero-copy); containers hold a contiguous arena array, so member i is an
 * index, not a list walk. Positions are byte offsets; line:col is derived
 * only when an error is reported (yyjson's split). */
#ifndef SL_DOC_PRIVATE_H
#define SL_DOC_PRIVATE_H

#include <sluice/doc.h>

#include "base/base.h"
#include "doc/view.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SL_SWAR 1 /* 8 bytes at a time where byte order allows */
#endif

/* Bytes of the 8 little-endian bytes w that need a look inside a JSON
 * string: '"', '\\', control characters and non-ASCII, as their high bits.
 * Only the lowest flagged byte is exact (borrows can flag bytes above a
 * real hit), which is all the reader and writer use. */
static inline uint64_t sl__json_special(uint64_t w) {
    const uint64_t ones = 0x0101010101010101ull;
    uint64_t q = w ^ (ones * '"');
    uint64_t b = w ^ (ones * '\\');
    uint64_t hits =
        ((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w) | w;
    return hits & (ones * 0x80);
}

/* Skip the bytes of p..end that JSON string text copies as they are, 16
 * then 8 at a time: returns the first byte that needs a look ('"', '\\',
 * a control character, non-ASCII) or, only when none was found, a point
 * less than 8 bytes from end (the caller finishes byte by byte). The
 * reader and the writer share it. */
static inline __attribute__((always_inline)) const char *
sl__json_skip_plain(const char *p, const char *end) {
#ifdef __SSE2__
    while (end - p >= 16) {
        /* a signed compare with 0x20 flags control characters and every
         * non-ASCII byte at once */
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                      _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                         _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask) {
            return p + __builtin_ctz(mask);
        }
        p += 16;
    }
#endif
#ifdef SL_SWAR
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t m = sl__json_special(w);
        if (m) {
            return p + (__builtin_ctzll(m) >> 3);
        }
        p += 8;
    }
#endif
    return p;
}

struct sl_doc {
    sl_arena arena;
    const char *text; /* the source: a copy in the arena, or borrowed */
    size_t text_len;
    char *file; /* copied into the arena at each load, or NULL */
    sl_node *root;
    /* the JSON reader's value stack (heap, kept between loads so a JSON
     * lines loop allocates it once): children of every open container,
     * copied into an exact-size arena array when the container closes */
    sl_node *stack;
    size_t stack_cap; /* in nodes */
    /* sl__doc_locate's memo: the line (and where it starts) of the last
     * offset located in loc_text, so a stream with many bad values is
     * scanned forward once, not from the start for every error. Kept
     * across sl_doc_load_next calls on the same text, reset otherwise. */
    const char *loc_text;
    size_t loc_off, loc_line_start;
    uint32_t loc_line;
};

/* The readers. Each parses doc->text[start..end) and sets doc->root, using
 * the arena for nodes; errors carry file:line:col via sl__doc_error().
 * sl__json_parse parses one value; with `next` non-NULL it stops after the
 * value and trailing whitespace (stream mode) and stores where in *next,
 * otherwise anything but whitespace after the value is an error. On any
 * error other than SL_ENOMEM, *next (when given) is set to the byte offset
 * of the error, so a stream reader can resume after that line. */
sl_status sl__json_parse(sl_doc *doc, size_t start, size_t *next,
                         uint32_t max_depth, sl_error *err);
sl_status sl__toml_parse(sl_doc *doc, uint32_t max_depth, sl_error *err);
sl_status sl__yaml_parse(sl_doc *doc, uint32_t max_depth, sl_error *err);

/* Fill err with the position of byte offset off in doc->text. */
sl_status sl__doc_error(const sl_doc *doc, sl_error *err, sl_status code,
                        size_t off, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Line and column (1-based, column in characters) of byte offset off. */
void sl__doc_locate(const sl_doc *doc, size_t off, uint32_t *line,
                    uint32_t *col);

/* Give container c an arena array of cap entries (cap > c->len), its
 * entries copied; the old array stays in the arena. false when out of
 * memory. */
bool sl__node_reserve(sl_doc *doc, sl_node *c, uint32_t cap);

/* Builder: a node slot appended to a container (array or object, growing
 * its arena array by doubling). For objects the member's key is set from
 * key/klen (borrowed: must live in the arena or the source text) and the
 * returned pointer is the member's value node, initialised to null. */
sl_node *sl__node_push(sl_doc *doc, sl_node *container, const char *key,
                       uint32_t klen, uint32_t key_off);

/* The member struct behind object member i (for readers that need keys). */
sl__member *sl__node_member(const sl_node *obj, size_t i);

/* Initialise n as a scalar over text s (borrowed). */
void sl__node_init_scalar(sl_node *n, sl_node_kind kind, const char *s,
                          uint32_t len, uint32_t off);

#endif

/* src/redact/private.h: the compiled redactor's layout, shared by the files
 * of src/redact only: compile.c (rules -> sl_redactor), words.c (whole-word
 * key matching), path.c (root-anchored path patterns), detect.c (value
 * detectors), walk.c (the structural rewrite), load.c (policy files). */
#ifndef SL_REDACT_PRIVATE_H
#define SL_REDACT_PRIVATE_H

#include <sluice/redact.h>

#include "base/base.h"

enum {
    SL__REDACT_MAX_RULES = 4096,
    SL__REDACT_MAX_SAFE = 4096,
    SL__REDACT_MAX_SEGS = 64,      /* segments in one path pattern */
    SL__REDACT_MAX_TERM_WORDS = 4, /* words in one word: term */
    SL__REDACT_MAX_KEYS = 4096     /* keys in one path (walk.c's nesting) */
};

/* How a rule looks at the key. */
typedef enum rd_key_kind {
    RD_KEY_NONE = 0, /* path-only rule */
    RD_KEY_PAT = 1,  /* in the key sl_patset (substring/glob/regex/literal) */
    RD_KEY_WORD = 2  /* whole words, through the word table */
} rd_key_kind;

/* One path segment: literal text (compared caseless), '*' or '**'. */
typedef enum rd_seg_kind {
    RD_SEG_LIT = 0,
    RD_SEG_ONE = 1, /* "*" */
    RD_SEG_ANY = 2  /* "**" */
} rd_seg_kind;

typedef struct rd_seg {
    uint8_t kind;
    uint32_t len;
    const char *text; /* unescaped, owned by the redactor's arena */
} rd_seg;

typedef struct rd_path {
    rd_seg *segs;
    uint32_t n;
    uint32_t min_depth; /* segments that are not "**" */
    bool has_any;
} rd_path;

typedef struct rd_rule {
    uint8_t action; /* sl_redact_action */
    uint8_t key_kind;
    bool has_path;
    rd_path path;
} rd_rule;

/* A word-table entry: lower-case words joined by one space (or a single
 * word, or the words concatenated) -> the smallest rule index using it. */
typedef struct rd_word {
    const char *text;
    uint32_t len;
    uint32_t rule;
} rd_word;

struct sl_redactor {
    sl_arena arena; /* every string and array below */
    rd_rule *rules;
    size_t n_rules;
    sl_patset *keys; /* RD_KEY_PAT rules, id = rule index; may be NULL */
    rd_word *words;
    size_t n_words;
    uint32_t max_term_words;
    uint32_t *keyless; /* indices of path-only rules, ascending */
    size_t n_keyless;
    /* safe keys, ASCII-lower-cased, in an open-addressed table */
    sl_str *safe;
    size_t safe_cap;   /* power of two, 0 = none */
    uint8_t *hash_key; /* sl__alloc'd, wiped on free; NULL = plain */
    size_t hash_key_len;
    unsigned detect;
    sl_patset *detectors;  /* may be NULL */
    bool detectors_shared; /* the process-wide default set: not freed */
};

/* ---- words.c ---- */
/* Split key into lower-case words (at non-alphanumerics, lower->Upper,
 * UPPER->Upper+lower and letter<->digit boundaries) and report, through
 * the word table, the rules whose term occurs: each term is a run of
 * consecutive words, or one word equal to the term's words concatenated.
 * Calls hit(rule, ctx) per match. buf is scratch for the lower-cased key. */
void sl__redact_words_match(const sl_redactor *r, const char *key, size_t len,
                            sl_buf *buf, void (*hit)(uint32_t rule, void *ctx),
                            void *ctx);
/* Add a term's entries (joined and concatenated forms) for rule. */
sl_status sl__redact_words_add(sl_redactor *r, size_t *cap, const char *term,
                               size_t len, uint32_t rule);

/* ---- path.c ---- */
/* Compile a path pattern into r's arena. */
sl_status sl__redact_path_compile(sl_redactor *r, const char *text, size_t len,
                                  rd_path *out, const sl_pos *pos,
                                  const char *what, sl_error *err);
/* Whether the path of segments keys[0..n) matches p. */
bool sl__redact_path_match(const rd_path *p, const sl_str *keys, size_t n);

/* ---- compile.c ---- */
bool sl__redact_is_safe(const sl_redactor *r, const char *key, size_t len);

/* ---- detect.c ---- */
sl_status sl__redact_detect_compile(sl_redactor *r, sl_error *err);
/* The detector name of an id, and the bit of a name (0 = unknown). */
const char *sl__redact_detector_name(uint32_t id);
unsigned sl__redact_detector_bit(const char *name, size_t len);
/* False when no detector can match s (len bytes): the cheap test before
 * the Vectorscan scan (detect.c says what it checks). */
bool sl__redact_detect_gate(const char *s, size_t len);
/* The same a byte at a time (the path of CPUs without AVX2; tests compare
 * the two). */
bool sl__redact_detect_gate_bytes(const char *s, size_t len);
/* The confirm step of a span [*from, *to) reported by detector pattern id
 * in s (len bytes): false to drop it; else the span to mask (widened over
 * the whole token, or narrowed to the credential) and its detector index
 * in *det. */
bool sl__redact_detect_confirm(uint32_t id, const char *s, size_t len,
                               size_t *from, size_t *to, uint32_t *det);

/* ---- default.c ---- */
/* The SAFE policy's terms and safe keys. */
extern const char *const sl__redact_default_terms[];
extern const size_t sl__redact_default_n_terms;
extern const char *const sl__redact_default_safe[];
extern const size_t sl__redact_default_n_safe;

#endif

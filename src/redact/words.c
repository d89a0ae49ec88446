/* src/redact/words.c: whole-word key matching, used by the default SAFE
 * policy (and by "word:" key patterns). Owns the key tokenizer and the word
 * table; leaves the substring/glob/regex kinds to the key sl_patset.
 *
 * The one idea: tokenise the key once (split at _ - . spaces and any other
 * non-alphanumeric byte, at camelCase and letter/digit boundaries), then
 * look every window of 1..max consecutive words up in a small table of
 * terms. `token` then hits `X-Auth-Token` and `csrfToken` but not
 * `max_tokens` or `tokenizer`, which a regex with lookarounds could only
 * do with constructs Vectorscan lacks. A multi-word term (`api_key`) also
 * matches its words concatenated in one word (`apikey`, `APIKEY`). Each
 * distinct key is tokenised once per context: walk.c caches decisions. */
#include <sluice/redact.h>

#include "base/base.h"
#include "redact/private.h"

enum {
    MAX_WORDS = 128
}; /* words of one key looked at */

static bool is_lower(unsigned char c) {
    return c >= 'a' && c <= 'z';
}

static bool is_upper(unsigned char c) {
    return c >= 'A' && c <= 'Z';
}

static bool is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

/* Bytes >= 0x80 (UTF-8) count as letters: they never split a word. */
static bool is_alnum(unsigned char c) {
    return is_lower(c) || is_upper(c) || is_digit(c) || c >= 0x80;
}

typedef struct word {
    uint32_t off, len;
} word;

/* Split s into words; lowered receives the ASCII-lower-cased bytes at the
 * same offsets. Returns the number of words (at most MAX_WORDS). */
static size_t tokenize(const char *s, size_t len, char *lowered, word *words) {
    size_t n = 0;
    size_t i = 0;
    while (i < len && n < MAX_WORDS) {
        while (i < len && !is_alnum((unsigned char)s[i])) {
            lowered[i] = s[i];
            i++;
        }
        if (i >= len) {
            break;
        }
        size_t start = i;
        for (; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!is_alnum(c)) {
                break;
            }
            if (i > start) {
                unsigned char p = (unsigned char)s[i - 1];
                bool split = false;
                if (is_upper(c) && (is_lower(p) || is_digit(p))) {
                    split = true; /* apiKey, v2Token */
                } else if (is_upper(c) && is_upper(p) && i + 1 < len &&
                           is_lower((unsigned char)s[i + 1])) {
                    split = true; /* APIKey -> API | Key */
                } else if (is_digit(c) != is_digit(p)) {
                    split = true; /* oauth2 -> oauth | 2 */
                }
                if (split) {
                    break;
                }
            }
            lowered[i] = is_upper(c) ? (char)(c + 32) : (char)c;
        }
        words[n].off = (uint32_t)start;
        words[n].len = (uint32_t)(i - start);
        n++;
    }
    return n;
}

static const rd_word *find(const sl_redactor *r, const char *s, size_t len) {
    for (size_t i = 0; i < r->n_words; i++) {
        const rd_word *w = &r->words[i];
        if (w->len == len && memcmp(w->text, s, len) == 0) {
            return w;
        }
    }
    return NULL;
}

void sl__redact_words_match(const sl_redactor *r, const char *key, size_t len,
                            sl_buf *buf, void (*hit)(uint32_t rule, void *ctx),
                            void *ctx) {
    if (r->n_words == 0 || len == 0) {
        return;
    }
    /* lowered key, then room for one joined window */
    size_t need = 0;
    if (__builtin_mul_overflow(len, 2, &need) ||
        __builtin_add_overflow(need, 8, &need)) {
        return;
    }
    buf->len = 0;
    if (sl__buf_reserve(buf, need) != SL_OK) {
        return; /* out of memory: callers check buf->failed */
    }
    char *lowered = buf->ptr;
    char *joined = buf->ptr + len;
    word words[MAX_WORDS];
    size_t n = tokenize(key, len, lowered, words);
    for (size_t i = 0; i < n; i++) {
        size_t jl = 0;
        for (size_t k = 0; k < r->max_term_words && i + k < n; k++) {
            if (k > 0) {
                joined[jl++] = ' ';
            }
            memcpy(joined + jl, lowered + words[i + k].off, words[i + k].len);
            jl += words[i + k].len;
            const rd_word *w = find(r, joined, jl);
            if (w) {
                hit(w->rule, ctx);
            }
        }
    }
}

static sl_status add_entry(sl_redactor *r, size_t *cap, const char *text,
                           size_t len, uint32_t rule) {
    for (size_t i = 0; i < r->n_words; i++) {
        rd_word *w = &r->words[i];
        if (w->len == len && memcmp(w->text, text, len) == 0) {
            if (rule < w->rule) {
                w->rule = rule;
            }
            return SL_OK;
        }
    }
    if (r->n_words == *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        rd_word *nw = sl__arena_alloc(&r->arena, ncap * sizeof(*nw));
        if (!nw) {
            return SL_ENOMEM;
        }
        if (r->n_words) {
            memcpy(nw, r->words, r->n_words * sizeof(*nw));
        }
        r->words = nw;
        *cap = ncap;
    }
    char *t = sl__arena_strndup(&r->arena, text, len);
    if (!t) {
        return SL_ENOMEM;
    }
    r->words[r->n_words++] = (rd_word){t, (uint32_t)len, rule};
    return SL_OK;
}

sl_status sl__redact_words_add(sl_redactor *r, size_t *cap, const char *term,
                               size_t len, uint32_t rule) {
    if (len == 0 || len > 1024) {
        return SL_EPATTERN;
    }
    char lowered[1024];
    char joined[2048];
    char concat[1024];
    word words[MAX_WORDS];
    size_t n = tokenize(term, len, lowered, words);
    if (n == 0 || n > SL__REDACT_MAX_TERM_WORDS) {
        return SL_EPATTERN;
    }
    size_t jl = 0, cl = 0;
    for (size_t k = 0; k < n; k++) {
        if (k > 0) {
            joined[jl++] = ' ';
        }
        memcpy(joined + jl, lowered + words[k].off, words[k].len);
        jl += words[k].len;
        memcpy(concat + cl, lowered + words[k].off, words[k].len);
        cl += words[k].len;
    }
    sl_status rc = add_entry(r, cap, joined, jl, rule);
    if (rc == SL_OK && n > 1) {
        rc = add_entry(r, cap, concat, cl, rule);
    }
    if (rc == SL_OK && n > r->max_term_words) {
        r->max_term_words = (uint32_t)n;
    }
    return rc;
}

/* src/base/base.h: the internal toolbox every source file includes:
 * allocation through the hook, error setters, limits, growable buffers,
 * arenas, and small helpers. Nothing here is exported (names use sl__). */
#ifndef SL_BASE_H
#define SL_BASE_H

#include <sluice/common.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- limits: every buffer, depth and count has one (SL_ELIMIT) ---- */
enum {
    SL_MAX_DEPTH = 512,             /* nesting of any document */
    SL_MAX_INPUT = 1u << 30,        /* one input document: 1 GiB */
    SL_MAX_ARENA = (size_t)1 << 32, /* one arena: 4 GiB */
    SL_QUOTE_MAX = 40               /* config text quoted in messages */
};

/* ---- allocation (all heap memory goes through the hook) ---- */
void *sl__alloc(size_t size);
void *sl__calloc(size_t n, size_t size);
void *sl__realloc(void *p, size_t old_size, size_t new_size);
void sl__free(void *p, size_t size);
char *sl__strndup(const char *s, size_t n);

/* ---- errors ---- */
/* Fill err (if not NULL) with code, position and a printf-style message;
 * returns code so callers can `return sl__error(...)`. */
sl_status sl__error(sl_error *err, sl_status code, const sl_pos *pos,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
sl_status sl__verror(sl_error *err, sl_status code, const sl_pos *pos,
                     const char *fmt, va_list ap);
/* Out of memory: never allocates. */
sl_status sl__nomem(sl_error *err);

/* Make err read as "nothing failed" without zeroing its 520 bytes: on a
 * per-record path a full memset costs more than the work it guards. Every
 * reader of an sl_error goes by code, line, col and the two strings. */
static inline void sl__error_clear(sl_error *err) {
    err->code = SL_OK;
    err->line = err->col = 0;
    err->file[0] = '\0';
    err->msg[0] = '\0';
}
/* Prepend "prefix" to err->msg (callers add context such as "policy x: "). */
void sl__error_prefix(sl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Write s (len n) into dst quoted and cut at SL_QUOTE_MAX bytes, for quoting
 * config text in messages: "abc" or "abcdef..." */
void sl__quote(char *dst, size_t cap, const char *s, size_t n);

/* ---- growable byte buffer (never per-record malloc: reuse it) ---- */
/* sl_buf itself is public (sluice/common.h). */
sl_status sl__buf_reserve(sl_buf *b, size_t extra);
sl_status sl__buf_append(sl_buf *b, const void *p, size_t n);
sl_status sl__buf_putc(sl_buf *b, char c);
sl_status sl__buf_printf(sl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sl__buf_free(sl_buf *b);

/* ---- arena: bump allocation in chunks, freed all at once ---- */
typedef struct sl_arena_chunk sl_arena_chunk;
typedef struct sl_arena {
    sl_arena_chunk *head;
    char *cur, *end;
    size_t total; /* bytes of chunks held */
    size_t limit; /* 0 = SL_MAX_ARENA */
} sl_arena;

void sl__arena_init(sl_arena *a);
void *sl__arena_alloc(sl_arena *a, size_t size); /* 16-aligned; NULL on OOM */
void *sl__arena_calloc(sl_arena *a, size_t size);
char *sl__arena_strndup(sl_arena *a, const char *s, size_t n);
/* Forget everything but keep the first chunk, for per-batch reuse. */
void sl__arena_reset(sl_arena *a);
void sl__arena_free(sl_arena *a);

/* ---- files ---- */
/* Read a whole file (or stdin for "-") into an owned buffer with a NUL
 * after the last byte. */
sl_status sl__read_file(const char *path, char **out, size_t *len,
                        sl_error *err);

/* ---- hashing ---- */
uint64_t sl__fnv1a64(const void *p, size_t n);
uint64_t sl__fnv1a64_update(uint64_t h, const void *p, size_t n);
#define SL_FNV64_OFFSET 0xcbf29ce484222325ull

/* ---- UTF-8 ---- */
/* Length of the valid UTF-8 prefix of s (== n when all valid). Rejects
 * overlongs, surrogates and code points above U+10FFFF. */
size_t sl__utf8_valid_prefix(const char *s, size_t n);
/* Encode cp as UTF-8 into out (>= 4 bytes); returns the byte count. */
size_t sl__utf8_encode(uint32_t cp, char *out);
/* Column (1-based, in characters) of byte offset off in a line starting at
 * line_start. */
uint32_t sl__utf8_col(const char *line_start, size_t off);
/* Whether a[0..alen) and b[0..blen) are equal ignoring ASCII case (other
 * bytes, NUL included, compare as they are): header names, enum names,
 * keep words, redaction key literals. */
bool sl__ascii_ieq(const char *a, size_t alen, const char *b, size_t blen);

#define SL_UNUSED(x)    ((void)(x))
#define SL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- SHA-256 / HMAC-SHA256 (libcrypto) ---- */
#define SL_SHA256_LEN 32
sl_status sl__sha256(const void *p, size_t n, uint8_t out[SL_SHA256_LEN]);
sl_status sl__hmac_sha256(const void *key, size_t klen, const void *p, size_t n,
                          uint8_t out[SL_SHA256_LEN]);
/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void sl__hex(const uint8_t *p, size_t n, char *out);
/* Wipe secret bytes (OPENSSL_cleanse). */
void sl__wipe(void *p, size_t n);
#endif

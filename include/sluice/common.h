/* include/sluice/common.h: what every sluice module shares: the export macro,
 * status codes, the caller-owned error record, source positions, string
 * views, and the allocator hook. Nothing here allocates.
 *
 * Conventions used by every header (STYLE.md §2-§4):
 * - fallible functions return sl_status; results go through out-params that
 *   stay untouched on failure; the last parameter is `sl_error *err` (NULL ok);
 * - "owned" = caller frees with the matching sl_x_free(); "borrowed" = valid
 *   until the named event; "copied" = the callee kept its own copy. */
#ifndef SLUICE_COMMON_H
#define SLUICE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SL_BUILDING)
#define SL_API __attribute__((visibility("default")))
#else
#define SL_API
#endif

/** Status codes. Positive and append-only: never renumber (curl's rule). */
typedef enum sl_status {
    SL_OK = 0,        /* success */
    SL_ENOMEM = 1,    /* an allocation failed; partial work was released */
    SL_EINVAL = 2,    /* a caller passed an invalid argument */
    SL_EPARSE = 3,    /* input text is not valid JSON / TOML / YAML */
    SL_ESCHEMA = 4,   /* parsed, but a key, type or value is not allowed */
    SL_EPATTERN = 5,  /* a pattern (regex, glob) was rejected */
    SL_ELIMIT = 6,    /* a size, depth or count limit was exceeded */
    SL_EIO = 7,       /* a file could not be read or written */
    SL_EUTF8 = 8,     /* input is not valid UTF-8 */
    SL_ENOTFOUND = 9, /* a named item does not exist */
    SL_ESTATE = 10,   /* the object is in the wrong state for this call */
    SL_EDB = 11,      /* the storage engine reported an error */
    SL_ECRYPTO = 12,  /* the hashing library reported an error */
    SL_STATUS_COUNT_ = 13
} sl_status;

/** A position in an input file. line and col are 1-based (col counts
 * characters, not bytes); 0 means "no position". file is borrowed from the
 * document that produced it. */
typedef struct sl_pos {
    const char *file;
    uint32_t line, col;
} sl_pos;

/** Caller-owned error record with inline storage: filling it never
 * allocates, and nothing in it dangles once the input is freed. */
typedef struct sl_error {
    sl_status code;     /* SL_OK when nothing failed */
    uint32_t line, col; /* 1-based, col in characters; 0 = no input */
    char file[256];     /* copied (truncated): outlives the document */
    char msg[256];
} sl_error;

/** A borrowed string view; not necessarily NUL-terminated. */
typedef struct sl_str {
    const char *ptr;
    size_t len;
} sl_str;

/** A growable output buffer that writers append to. Zero-initialise it,
 * reuse it across records (set len = 0), release it with sl_buf_free().
 * ptr is NUL-terminated after the last byte whenever len > 0. */
typedef struct sl_buf {
    char *ptr;
    size_t len, cap;
    int failed; /* sticky: an append ran out of memory or hit a limit */
} sl_buf;

/** Append n bytes to a buffer.
 * @return SL_OK, SL_ENOMEM or SL_ELIMIT (the buffer's `failed` is set). */
SL_API sl_status sl_buf_append(sl_buf *b, const void *p, size_t n);

/** Release a buffer's memory; the struct is left zeroed. NULL is a no-op. */
SL_API void sl_buf_free(sl_buf *b);

/** Allocator hook. realloc and free receive the old size, so arena-style
 * allocators can be plugged in. All fields must be set. */
typedef struct sl_allocator {
    void *(*alloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
    void (*free)(void *ctx, void *ptr, size_t size);
    void *ctx;
} sl_allocator;

/** Replace the allocator used for all library memory.
 * Call once, before any other sluice call; NULL restores malloc/free.
 * @param a  copied.
 * Thread safety: not thread-safe; set before starting threads. */
SL_API void sl_set_allocator(const sl_allocator *a);

/** The static, lower-case name of a status ("out of memory"); never NULL. */
SL_API const char *sl_status_str(sl_status s);

/** Format an error as one line: "file:line:col: message", leaving out the
 * parts that are unset. Always NUL-terminates when cap > 0.
 * @return the length the full text would have (like snprintf). */
SL_API size_t sl_error_format(const sl_error *err, char *buf, size_t cap);

/** The linked library's SL_VERSION_HEX. */
SL_API uint32_t sl_version(void);

#ifdef __cplusplus
}
#endif
#endif

/* src/filter/private.h: the filter module's shared layout: sources, rules
 * and patterns as loaded (schema.c), the sealed engine (chain.c), scopes
 * (resolve.c) and per-thread contexts (decide.c). Only src/filter includes
 * it; other modules use <sluice/filter.h>.
 *
 * Everything a chain holds lives in one arena (f->arena); rules and
 * patterns are numbered globally in chain order (source order, then rule
 * order, then pattern order), and those numbers are the pattern-set ids, so
 * "the last matching rule" is the largest id among the matches. */
#ifndef SL_FILTER_PRIVATE_H
#define SL_FILTER_PRIVATE_H

#include <sluice/filter.h>

#include <pthread.h>
#include <stdatomic.h>

#include "base/base.h"

enum {
    SL__FILTER_MAX_SOURCES = 256,
    SL__FILTER_MAX_RULES =
        65535, /* all sources together (uint16 force lists) */
    SL__FILTER_MAX_PATTERNS = 65536,  /* all value patterns together */
    SL__FILTER_MAX_NAME = 4096,       /* a filename, qualname or value name */
    SL__FILTER_MAX_SCOPES = 1u << 22, /* cached scopes per filter */
    SL__FILTER_MAX_DECISIONS = 1u << 20, /* interned names per context */
    SL__FILTER_MAX_VEC_BYTES = 64u << 20 /* decision vectors per context */
};

/* Selector kinds; the first three select scopes, the rest values (their
 * value numbering is sl_filter_kind + SL__SEL_ARG). */
typedef enum sl__sel_kind {
    SL__SEL_PKG = 0,
    SL__SEL_FILE = 1,
    SL__SEL_OBJ = 2,
    SL__SEL_ARG = 3,
    SL__SEL_LOCAL = 4,
    SL__SEL_GLOBAL = 5,
    SL__SEL_RET = 6,
    SL__SEL_ATTR = 7,
    SL__SEL_KIND_COUNT = 8
} sl__sel_kind;

typedef enum sl__sel_match {
    SL__MATCH_GLOB = 0,
    SL__MATCH_REGEX = 1,
    SL__MATCH_LITERAL = 2
} sl__sel_match;

/* Field values of a source; INHERIT/UNSET leave the chain's value. */
enum {
    SL__EXEC_UNSET = -1, /* absent or "inherit" */
    SL__ACT_UNSET = -1
};

typedef struct sl__selector {
    uint8_t kind;    /* sl__sel_kind */
    uint8_t match;   /* sl__sel_match */
    const char *raw; /* normalised "kind:match:pattern" (arena) */
    const char *pat; /* pattern text (arena, NUL-terminated) */
    size_t pat_len;
    sl_pos where; /* file borrowed from the source's path */
} sl__selector;

typedef struct sl__fpattern {
    sl__selector sel;
    int8_t action;      /* sl_filter_action */
    const char *reason; /* arena or NULL */
    uint32_t rule;      /* global rule number */
    uint32_t index;     /* within its rule */
} sl__fpattern;

typedef struct sl__frule {
    sl__selector sel;
    int8_t exec; /* sl_filter_exec or SL__EXEC_UNSET */
    int8_t vdef; /* sl_filter_action or SL__ACT_UNSET */
    const char *reason;
    uint32_t source;                   /* index of its source in the chain */
    uint32_t index;                    /* within its source */
    uint32_t first_pattern, npatterns; /* global pattern numbers */
} sl__frule;

typedef struct sl__fsource {
    const char *name, *description, *path, *root; /* arena */
    uint32_t version;
    char sha256[65];
    const char **labels;
    size_t nlabels;
    int8_t default_exec; /* or SL__EXEC_UNSET = inherit */
    int8_t default_value;
    bool has_io, io_capture;
    unsigned io_streams; /* bit per stream, in first-seen order below */
    const char *io_order[4];
    size_t nio;
    uint32_t first_rule, nrules;
} sl__fsource;

/* One cached scope resolution. Small on purpose: 1,000 of them must fit in
 * 200 KB (issue 4), so derived names are recomputed by explain, not kept,
 * the file name is interned (one copy per file), and the rest of the key
 * lives in the same allocation, after force[]. */
struct sl_filter_scope {
    uint64_t hash;
    const char *filename;         /* interned in the scope arena */
    struct sl_filter_scope *next; /* hash chain */
    int32_t rule;                 /* last matching rule, or -1 */
    uint8_t exec;                 /* sl_filter_exec */
    uint8_t vdef;                 /* sl_filter_action */
    uint16_t nforce;              /* rules whose patterns apply, last first */
    uint16_t qual_len, hint_len;  /* SL__NO_KEY: NULL */
    uint32_t force[];             /* global rule numbers; then qualname and
                                     hint, each NUL-terminated */
};

enum {
    SL__NO_KEY = UINT16_MAX
};

typedef struct sl__counters {
    _Atomic uint64_t red[SL_FILTER_KIND_COUNT];
    _Atomic uint64_t drop[SL_FILTER_KIND_COUNT];
} sl__counters;

struct sl_filter {
    sl_arena arena; /* sources, rules, patterns, strings */
    uint64_t id;
    bool ready;
    sl_filter_report_fn report;
    void *report_ctx;

    sl__fsource *sources;
    size_t nsources, csources;
    sl__frule *rules;
    size_t nrules, crules;
    sl__fpattern *pats;
    size_t npats, cpats;

    /* merged defaults */
    int8_t default_exec, default_value;
    uint32_t default_value_source;

    /* distinct project roots, chain order (inline sources give "") */
    const char **roots;
    size_t nroots;

    /* sealed engine: one set per selector kind (NULL when no selector of
     * that kind); ids are rule numbers (scope kinds) or pattern numbers
     * (value kinds) */
    sl_patset *sets[SL__SEL_KIND_COUNT];

    /* scope cache */
    pthread_rwlock_t lock;
    bool lock_init;
    sl_arena scope_arena;
    struct sl_filter_scope **buckets;
    size_t nbuckets, nscopes;
    const char **files; /* interned file names, open addressing */
    size_t nfiles, cfiles;

    /* counters: contexts count on their own; these hold what freed
     * contexts counted, and the skipped scopes */
    pthread_mutex_t ctx_lock;
    struct sl_filter_ctx *ctxs;
    sl__counters retired;
    _Atomic uint64_t scopes_skipped;
};

/* A name interned by a context: ids are dense, so a scope's decisions are a
 * byte vector indexed by id (CLARIFICATIONS, trace-filter performance). */
typedef struct sl__iname {
    uint64_t hash;
    const char *name; /* ctx->names arena; NULL = empty slot */
    uint32_t len, id;
} sl__iname;

/* Decisions of one (scope, kind) in one context: acts[id] is an
 * sl_filter_action, or SL__UNDECIDED. */
typedef struct sl__svec {
    const sl_filter_scope *scope; /* NULL = empty slot */
    uint32_t kind, cap;
    uint8_t *acts;
} sl__svec;

enum {
    SL__UNDECIDED = 0xFF
};

struct sl_filter_ctx {
    sl_filter *f;
    struct sl_filter_ctx *prev, *next; /* f->ctxs list */
    sl_scratch *scratch;
    /* counters written by this thread only (relaxed load + store, no
     * locked instruction); read by any thread */
    sl__counters counts;
    /* per-name decisions: interned names, one vector per (scope, kind) */
    sl__iname *inames;
    size_t ninames, cinames;
    sl_arena names;
    sl__svec *vecs;
    size_t nvecs, cvecs, vec_bytes;
    sl__svec *last; /* the vector used last: events decide many names of
                       one scope in a row */
    /* scratch for resolution: matching rules as a bitset */
    uint64_t *bits;
    size_t nbits_words;
    uint32_t *force;
    size_t cforce;
    sl_buf path, rel, module, object;
};

/* ---- selector.c ---- */
/* Parse raw (len bytes) into sel (strings copied into arena). allowed is a
 * bit mask of sl__sel_kind. On failure msg gets the upstream selector error
 * text ("selector string is empty", ...). */
sl_status sl__filter_selector_parse(sl_arena *a, const char *raw, size_t len,
                                    unsigned allowed, sl__selector *sel,
                                    char *msg, size_t cap);
/* Check that the selector's pattern compiles; msg as above
 * ("invalid regex pattern '<p>': ..."). */
sl_status sl__filter_selector_check(const sl__selector *sel, char *msg,
                                    size_t cap);
/* Fill a sl_pat for a selector. */
void sl__filter_selector_pat(const sl__selector *sel, uint32_t id, sl_pat *out);
/* Word-at-a-time hash of n bytes (not for anything adversarial: tables
 * probe linearly and compare full keys). */
uint64_t sl__filter_hash(const char *p, size_t n);
/* Quote config text in single quotes, cut at SL_QUOTE_MAX bytes. */
void sl__filter_squote(char *dst, size_t cap, const char *s, size_t n);
/* Normalise a path: components split on '/', empty and "." dropped, ".."
 * pops (returns false when nothing is left to pop and strict), joined with
 * '/'. Appends to out without a leading '/'. */
bool sl__filter_norm_path(const char *p, size_t n, bool strict, sl_buf *out);
/* Component-wise prefix test (Rust Path::strip_prefix): on success *rest
 * points into path after the prefix and its separator. */
bool sl__filter_strip_prefix(const char *path, const char *prefix,
                             const char **rest);

/* ---- schema.c ---- */
sl_status sl__filter_load_source(sl_filter *f, const char *path,
                                 const char *root, const char *text, size_t len,
                                 bool trusted, sl_error *err);

/* ---- builtin.c ---- */
const char *sl__filter_builtin_text(const char *name, size_t *len);

/* ---- resolve.c ---- */
sl_status sl__filter_identity(sl_filter_ctx *ctx, const char *filename,
                              const char *qualname, const char *hint,
                              bool *has_module, bool *has_rel);
sl_status sl__filter_resolve(sl_filter_ctx *ctx, const char *filename,
                             const char *qualname, const char *hint,
                             const sl_filter_scope **out, sl_error *err);
void sl__filter_cache_free(sl_filter *f);

/* ---- decide.c ---- */
/* The deciding pattern (global number) or -1 for the scope default. */
int64_t sl__filter_match_value(sl_filter_ctx *ctx, const sl_filter_scope *s,
                               sl_filter_kind kind, const char *name,
                               size_t len);
void sl__filter_cache_reset(sl_filter_ctx *ctx);

/* ---- json helpers (chain.c) ---- */
sl_status sl__filter_json_str(sl_buf *b, const char *s);
sl_status sl__filter_json_strn(sl_buf *b, const char *s, size_t n);
#endif

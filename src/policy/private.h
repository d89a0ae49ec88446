/* src/policy/private.h: the policy module's internal model, shared by the
 * loader (load.c), the compiler (compile.c), keep / sampling arithmetic
 * (keep.c, sampling.c) and the evaluator (eval.c). Nothing here leaves
 * the module except through include/sluice/policy.h (tests include it to
 * reach the pure functions). */
#ifndef SL_POLICY_PRIVATE_H
#define SL_POLICY_PRIVATE_H

#include <sluice/policy.h>

#include <stdatomic.h>

#include "base/base.h"
#include "base/gramset.h"

enum {
    SL_POLICY_MAX_POLICIES = 1000000, /* per set */
    SL_POLICY_MAX_MATCHERS = 1024,    /* per policy */
    SL_POLICY_MAX_PATH = 64,          /* attribute path segments */
    SL_POLICY_MAX_PROBLEMS = 100000   /* reported problems per set */
};

/* ---- keep actions ---- */
typedef enum sl__keep_kind {
    SL_KEEP_ALL = 0,
    SL_KEEP_NONE = 1,
    SL_KEEP_PERCENT = 2,
    SL_KEEP_RATE = 3
} sl__keep_kind;

typedef struct sl__keep {
    sl__keep_kind kind;
    double ratio;         /* PERCENT: 0 < ratio < 1 */
    uint64_t limit;       /* RATE: records per window */
    uint64_t window_secs; /* RATE */
} sl__keep;

/* Parse a log keep string as policy-rs 1.7 keep.rs does. On failure msg
 * gets the reason (no prefix). */
bool sl__policy_parse_keep(const char *s, size_t len, sl__keep *out, char *msg,
                           size_t cap);

/* Restrictiveness of a keep action (policy-rs keep.rs): None 1000,
 * Percentage (100 - p*100) truncated, RateLimit 10, All 0. */
uint32_t sl__policy_restrictiveness(const sl__keep *k);

/* ---- consistent probability sampling (reference §9) ---- */
#define SL_SAMPLING_MAX  ((uint64_t)1 << 56) /* 2^56 */
#define SL_SAMPLING_MASK (SL_SAMPLING_MAX - 1)

/* T = trunc((1 - ratio) * 2^56) in f64, clamped to [0, 2^56]. */
uint64_t sl__sampling_threshold(double ratio);
/* th encoding as policy-rs: 14 hex digits, first prec of them, trailing
 * zeros removed (may give ""). out must hold 15 bytes. Returns length. */
size_t sl__sampling_encode(uint64_t t, uint32_t prec, char *out);
/* Decode a th / rv value: up to 14 hex digits right-padded with zeros.
 * false when empty, too long or not hex. */
bool sl__sampling_decode(const char *s, size_t len, uint64_t *out);
/* Randomness from a value that ends in >= 14 hex characters (as Rust's
 * u64::from_str_radix on the last 14, which allows a leading '+'). */
bool sl__sampling_hex_suffix(const char *s, size_t len, uint64_t *out);
/* The `ot=` entry's rv and th of a W3C tracestate. */
typedef struct sl__tracestate {
    bool has_rv, has_th;
    uint64_t rv, th;
} sl__tracestate;
void sl__sampling_parse_tracestate(const char *s, size_t len,
                                   sl__tracestate *out);

/* ---- compiled policy ---- */

/* A field selector with its path copied into the set's arena. */
typedef struct sl__sel {
    sl_field f;
} sl__sel;

typedef enum sl__typed_op {
    SL_TYPED_EQ = 0,
    SL_TYPED_GT = 1,
    SL_TYPED_GTE = 2,
    SL_TYPED_LT = 3,
    SL_TYPED_LTE = 4
} sl__typed_op;

typedef struct sl__typed {
    sl__typed_op op;
    sl_value lit; /* BOOL, INT, DOUBLE or BYTES (s in the set's arena) */
} sl__typed;

/* Is the typed matcher true for a field value (NULL = absent)? */
bool sl__policy_typed_eval(const sl__typed *t, const sl_value *v);

typedef enum sl__matcher_kind {
    SL_MATCHER_PATTERN = 0,
    SL_MATCHER_EXISTS = 1,
    SL_MATCHER_TYPED = 2
} sl__matcher_kind;

typedef struct sl__matcher {
    sl__matcher_kind kind;
    sl_field field;
    bool negate;
    bool caseless;
    sl_pat_kind pat_kind; /* PATTERN */
    const char *text;     /* PATTERN, in the arena */
    size_t len;
    unsigned width_hint; /* PATTERN: sl__pat_check_width's, 0 = unknown */
    bool should_exist;   /* EXISTS */
    sl__typed typed;     /* TYPED */
    sl_pos pos;
} sl__matcher;

typedef enum sl__op_kind {
    SL_OP_REMOVE = 0,
    SL_OP_REDACT = 1,
    SL_OP_RENAME = 2,
    SL_OP_ADD = 3
} sl__op_kind;

_Static_assert(SL_OP_REMOVE == (int)SL_STAGE_REMOVE &&
                   SL_OP_REDACT == (int)SL_STAGE_REDACT &&
                   SL_OP_RENAME == (int)SL_STAGE_RENAME &&
                   SL_OP_ADD == (int)SL_STAGE_ADD,
               "an operation's kind is its stage");

/* What one record's transforms did for one matching policy (eval.c). */
typedef struct sl__done {
    uint32_t applied; /* operations that changed the record */
    uint32_t hits[SL_STAGE_COUNT], misses[SL_STAGE_COUNT];
} sl__done;

typedef struct sl__op {
    sl__op_kind kind;
    sl_field field;    /* target (REMOVE, REDACT, ADD) or source (RENAME) */
    sl_field to;       /* RENAME: same namespace, one segment */
    const char *value; /* REDACT replacement / ADD value, in the arena */
    size_t value_len;
    sl_regex *re; /* REDACT with regex; owned */
    bool upsert;
} sl__op;

typedef enum sl__sampling_mode {
    SL_MODE_HASH_SEED = 1,
    SL_MODE_PROPORTIONAL = 2,
    SL_MODE_EQUALIZING = 3
} sl__sampling_mode;

typedef struct sl__policy {
    const char *id; /* in the arena, NUL-terminated */
    size_t id_len;
    sl_signal signal;
    bool enabled;
    /* while loading only (the docs are freed after): where it was written,
     * and its place among all loaded policies */
    const sl_node *node;
    const sl_doc *doc;
    uint32_t seq;
    sl__matcher *matchers;
    uint32_t nmatchers;
    sl__keep keep;
    uint32_t restrict_;
    bool has_sample_key;
    sl_field sample_key;
    sl__op *ops; /* in order remove, redact, rename, add */
    uint32_t nops;
    /* traces */
    sl__sampling_mode mode;
    uint32_t precision;
    uint32_t seed;
    bool fail_closed;
} sl__policy;

/* The mutable part of a set: per policy one statistics block and, for a
 * rate-limited policy, one limiter block. Blocks are reference counted
 * so that a reloaded snapshot can share them with the one it replaces
 * (state.c): a count made through either snapshot lands in the same
 * atomic, and both snapshots draw from the same rate window. */
typedef struct sl__stats {
    _Atomic uint64_t hits, misses, kept, dropped, sampled_out, rate_limited,
        transformed, transform_failed;
    /* per transform stage (sl_policy_stage, = sl__op_kind) */
    _Atomic uint64_t stage_hits[SL_STAGE_COUNT], stage_misses[SL_STAGE_COUNT];
    _Atomic uint32_t refs; /* snapshots holding this block */
} sl__stats;

/* A context's held-back counts of one policy (sl__policy_ctx_defer_counts):
 * plain sums of the sl__stats counters, field k at the k-th uint64_t. */
enum {
    SL__TALLY_FIELDS = 8 + 2 * SL_STAGE_COUNT
};
_Static_assert(offsetof(sl__stats, hits) == 0 &&
                   sizeof(_Atomic uint64_t) == sizeof(uint64_t),
               "sl__stats counters start the struct, each a uint64_t");
_Static_assert(offsetof(sl__stats, stage_misses) +
                       SL_STAGE_COUNT * sizeof(uint64_t) ==
                   SL__TALLY_FIELDS * sizeof(uint64_t),
               "sl__stats counters are SL__TALLY_FIELDS uint64_t in a row");
typedef struct sl__tally {
    uint64_t v[SL__TALLY_FIELDS];
    bool dirty; /* listed in the context's dirty[] */
} sl__tally;

typedef struct sl__limiter {
    atomic_flag lock; /* guards the three fields below */
    bool window_open;
    uint64_t window_start; /* ns on the set's clock */
    uint64_t window_count;
    _Atomic uint32_t refs; /* snapshots holding this block */
} sl__limiter;

/* Literal matchers of one key (exact, starts_with, ends_with), by value: a
 * chained hash table per kind and case mode. Literals are the commonest
 * matchers (service.name == X); a lookup costs one hash per distinct
 * pattern length whatever the number of policies, and builds in no time
 * (a Vectorscan database of thousands of anchored literals takes
 * seconds). Byte equality of the whole value, its first or its last L
 * bytes is exactly what `^text\z`, `^text` and `text\z` mean; the
 * caseless tables hold ASCII-folded text, as HS_FLAG_CASELESS. */
typedef struct sl__exact {
    uint64_t hash;
    const char *text;
    size_t len;
    uint32_t test; /* the condition it decides (sl__signal_set) */
    uint32_t next; /* UINT32_MAX ends the chain */
} sl__exact;

/* Before any hash, a filter rejects most values of a miss in a few
 * instructions (a record reads every key, and most keys miss): exact
 * tables check the set of pattern lengths; prefix and suffix tables (one
 * hash per distinct length otherwise) the grams of the bytes every
 * pattern pins: its first (prefix) or last (suffix) gq bytes, gq the
 * shortest pattern's length up to SL_GRAM_MAX. */
typedef struct sl__xtable {
    uint32_t *heads; /* mask + 1 chain heads, UINT32_MAX = empty */
    uint64_t mask;
    sl__exact *e;
    uint32_t n;
    size_t *lens; /* distinct pattern lengths, ascending */
    uint32_t nlens;
    uint64_t lenmask; /* bit L: some pattern has length L (L < 64) */
    bool long_lens;   /* some pattern has length >= 64 */
    uint8_t gq;       /* gram length; 0 = no gram filter */
    sl__gramset grams;
} sl__xtable;

enum {
    SL_X_EXACT = 0,
    SL_X_PREFIX = 1,
    SL_X_SUFFIX = 2,
    SL_X_TABLES = 6 /* kind * 2 + caseless */
};

/* All string conditions that read one field. */
typedef struct sl__key {
    sl_field field;
    bool any_ci;               /* some table is caseless: fold the value once */
    uint8_t used[SL_X_TABLES]; /* indexes of the non-empty tables */
    uint8_t nused;
    sl__xtable x[SL_X_TABLES];
    sl_patset *set;     /* contains / regex matchers; NULL when none */
    uint32_t *pat_test; /* pattern id -> test */
} sl__key;

/* The literal tables' hash: 8 bytes per step (FNV-1a's byte-at-a-time
 * multiply chain costs ~4 cycles a byte, a third of a record's budget). */
uint64_t sl__policy_hash(const char *s, size_t n);

/* ASCII lower-case fold (what HS_FLAG_CASELESS ignores). */
void sl__policy_fold(char *dst, const char *src, size_t n);

/* An existence or typed test: its field and condition (m). */
typedef struct sl__check {
    sl_field field;
    uint32_t test;
    const sl__matcher *m;
} sl__check;

/* One matcher of a policy: the test it reads, and whether it must be
 * false (negated) rather than true. */
typedef struct sl__ref {
    uint32_t test;
    bool negate;
} sl__ref;

/* Per signal. A test is one distinct condition (field, kind, text, case,
 * or existence, or typed compare): matchers that many policies share are
 * one test, decided once per record whatever the number of policies.
 * Each policy is indexed by ONE of its non-negated matchers, its fast
 * test (the most selective: fewest sharers, then kind and length), and
 * checked in full only when that test held; policies without a
 * non-negated matcher are checked on every record (always). */
typedef struct sl__signal_set {
    uint32_t *global; /* signal-local index -> index into set->policies */
    uint32_t n;
    uint32_t ntests;
    sl__key *keys; /* string tests, one key per field */
    uint32_t nkeys;
    sl__check *exists; /* existence tests, grouped by field */
    uint32_t nexists;
    sl__check *typed; /* typed tests, grouped by field */
    uint32_t ntyped;
    sl__ref *refs;      /* every enabled policy's matchers, in order */
    uint32_t *ref_off;  /* n + 1 offsets into refs (disabled: none) */
    uint32_t *fast_off; /* ntests + 1 offsets into fast */
    uint32_t *fast;     /* policies by fast test, ascending per test */
    uint32_t *always;   /* enabled policies with only negated matchers */
    uint32_t nalways;
} sl__signal_set;

/* A growable list of located messages (load problems, warnings). */
typedef struct sl__errlist {
    sl_error *v;
    size_t n, cap;
} sl__errlist;

struct sl_policy_set {
    sl_arena arena;
    sl__policy *policies; /* valid ones, sorted by id */
    uint32_t npolicies;
    sl__stats **stats;      /* one per policy, shared (state.c) */
    sl__limiter **limiters; /* one per policy; NULL unless SL_KEEP_RATE */
    sl__signal_set sig[3];
    sl__errlist problems; /* rejected policies: the set is not clean */
    sl__errlist warnings; /* valid, but probably not what was meant */
    uint64_t (*clock)(void *);
    void *clock_ctx;
    const char *regex_cache; /* sl_policy_opts.regex_cache, in the arena */
    bool reference; /* built by sl__policy_load_reference: the test oracle */
};

/* sl_policy_load for the differential test (tests/policy/
 * test_differential.c): a set that evaluates every record by the plain
 * path, which the indexed one must agree with on every decision and
 * counter. Never used outside tests. */
sl_status sl__policy_load_reference(const sl_doc *const *docs, size_t n,
                                    const sl_policy_opts *opts,
                                    sl_policy_set **out, sl_error *err);

/* Field equality (kind and path). */
bool sl__field_eq(const sl_field *a, const sl_field *b);

/* Parse all policies of doc into set (load.c): valid ones appended to
 * *pols (arena memory), problems recorded in set. */
typedef struct sl__policy_vec {
    sl__policy *v;
    size_t n, cap;
} sl__policy_vec;
sl_status sl__policy_parse_doc(sl_policy_set *set, const sl_doc *doc,
                               sl__policy_vec *pols, sl_error *err);
/* Append a copy of e to list (at most SL_POLICY_MAX_PROBLEMS are kept).
 * Returns SL_OK or SL_ENOMEM. */
sl_status sl__errlist_push(sl__errlist *list, const sl_error *e);
/* Free the list's storage. */
void sl__errlist_free(sl__errlist *list);
/* Build the per-signal match structures (compile.c). */
sl_status sl__policy_compile(sl_policy_set *set, sl_error *err);
/* Free what compile built and the regexes of ops. */
void sl__policy_compiled_free(sl_policy_set *set);
/* Give every policy of set its state blocks (state.c): those of prev's
 * policy with the same id (the limiter only when the rate and the clock
 * are unchanged), fresh zeroed ones otherwise. prev may be NULL. On
 * failure every block taken so far is released. */
sl_status sl__policy_state_attach(sl_policy_set *set, const sl_policy_set *prev,
                                  sl_error *err);
/* Release set's references to its state blocks (and free the arrays). */
void sl__policy_state_release(sl_policy_set *set);

#endif

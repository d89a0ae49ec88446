/* src/redact/walk.c: the structural rewrite. Owns sl_redact_ctx (scratch,
 * key-decision cache, path stack, buffers), the walk that writes redacted
 * JSON, hashing, detector rewriting and the audit summary. Rules come
 * compiled from compile.c.
 *
 * The one idea: never copy or change the input tree. Walk it and write the
 * output directly: each key through sl_json_write_key (its text byte for
 * byte), each untouched scalar through sl_json_write (likewise), and only
 * matched members differently. What a key's rules are does not depend on
 * where the key sits (only path constraints do), so the candidate rules of
 * each distinct key are computed once per context (one pattern-set scan,
 * one tokenisation) and cached; a warm key costs one hash lookup, and a
 * record costs no allocation once buffers have grown.
 *
 * Given the document (sl_redact_write_doc) of a payload read from compact
 * JSON and unchanged since, nothing unchanged is written at all: the walk
 * still decides every key and gates every string, but the output is the
 * source text, copied in runs between the values it replaces or drops
 * (c->src marks the first source byte not yet copied). The bytes are the
 * same as writing node by node (the writers copy unchanged keys, strings
 * and lexemes from the source), at the cost of a few memcpy calls. */
#include <sluice/redact.h>

#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "doc/build.h"
#include "doc/view.h"
#include "redact/private.h"

enum {
    CACHE_SLOTS = 1024,          /* power of two; 48 KiB stays in cache */
    CACHE_MAX = CACHE_SLOTS / 2, /* entries before the cache is cleared */
    CACHE_KEY_MAX = 128,         /* longer keys are not cached */
    AUDIT_FIELDS_MAX = 256,      /* fields listed per call; counts stay exact */
    MAX_NESTING = SL__REDACT_MAX_KEYS /* containers, lists included */
};

typedef struct cache_ent {
    uint64_t a, b;   /* key_sig(); for keys of up to 16 bytes, the key */
    const char *key; /* NULL = empty slot; copy in the cache arena */
    uint32_t klen;
    uint32_t n;            /* candidate rules */
    const uint32_t *rules; /* ascending; in the cache arena */
} cache_ent;

typedef struct span {
    size_t from, to;
    uint32_t id;
} span;

struct sl_redact_ctx {
    const sl_redactor *r;
    sl_scratch *scratch;
    cache_ent *cache; /* CACHE_SLOTS, or NULL when the policy has no rules */
    size_t cached;
    sl_arena cache_arena;
    uint64_t *bits; /* one bit per rule */
    size_t nbits;   /* words in bits */
    uint32_t *list; /* candidates of an uncached key */
    sl_buf words;   /* tokenizer scratch */
    sl_buf tmp;     /* canonical text, rewritten strings */
    sl_buf tmp2;    /* the next pass over a rewritten string */
    sl_buf pathtxt; /* a rendered path (audit, errors) */
    sl_buf fields;  /* the audit's "fields" array body */
    span *spans;
    size_t nspans, spans_cap;
    sl_str path[MAX_NESTING + 2];
    /* per call */
    sl_buf *out;
    uint32_t nesting; /* containers open, lists included */
    bool audit;
    size_t nfields;
    bool truncated;
    sl_redact_counts counts;
    uint64_t per_detector[SL_DETECT_COUNT];
    sl_error *err;
    /* source-copy mode (file comment): the document, and the first byte
     * of its source not yet copied to out; NULL = write node by node */
    const sl_doc *doc;
    const char *src;
    bool no_source; /* source-copy mode gave up (no_source()) */
};

sl_status sl_redact_ctx_new(const sl_redactor *r, sl_redact_ctx **out,
                            sl_error *err) {
    if (!r || !out) {
        return sl__error(err, SL_EINVAL, NULL, "no redactor or no output");
    }
    sl_redact_ctx *c = sl__calloc(1, sizeof(*c));
    if (!c) {
        return sl__nomem(err);
    }
    c->r = r;
    sl__arena_init(&c->cache_arena);
    sl_status rc = SL_OK;
    if (r->n_rules) {
        c->cache = sl__calloc(CACHE_SLOTS, sizeof(*c->cache));
        c->nbits = (r->n_rules + 63) / 64;
        c->bits = sl__calloc(c->nbits, sizeof(*c->bits));
        c->list = sl__calloc(r->n_rules, sizeof(*c->list));
        if (!c->cache || !c->bits || !c->list) {
            rc = SL_ENOMEM;
        }
    }
    if (rc == SL_OK && r->keys) {
        rc = sl_scratch_reserve(&c->scratch, r->keys);
    }
    if (rc == SL_OK && r->detectors) {
        rc = sl_scratch_reserve(&c->scratch, r->detectors);
    }
    if (rc != SL_OK) {
        sl_redact_ctx_free(c);
        return rc == SL_ENOMEM
                   ? sl__nomem(err)
                   : sl__error(err, rc, NULL, "%s", sl_status_str(rc));
    }
    *out = c;
    return SL_OK;
}

void sl_redact_ctx_free(sl_redact_ctx *c) {
    if (!c) {
        return;
    }
    size_t n = c->r->n_rules;
    sl__free(c->cache, c->cache ? CACHE_SLOTS * sizeof(*c->cache) : 0);
    sl__free(c->bits, c->nbits * sizeof(*c->bits));
    sl__free(c->list, n * sizeof(*c->list));
    sl__free(c->spans, c->spans_cap * sizeof(*c->spans));
    sl_scratch_free(c->scratch);
    sl__arena_free(&c->cache_arena);
    sl_buf_free(&c->words);
    sl_buf_free(&c->tmp);
    sl_buf_free(&c->tmp2);
    sl_buf_free(&c->pathtxt);
    sl_buf_free(&c->fields);
    sl__free(c, sizeof(*c));
}

/* ---- which rules a key can trigger ---- */

static void set_bit(uint32_t rule, void *ctx) {
    sl_redact_ctx *c = ctx;
    if (rule < c->r->n_rules) {
        c->bits[rule / 64] |= 1ull << (rule % 64);
    }
}

static int on_key_match(uint32_t id, size_t from, size_t to, void *ctx) {
    SL_UNUSED(from);
    SL_UNUSED(to);
    set_bit(id, ctx);
    return 0;
}

/* The candidate rules of key, ascending: those whose key pattern matches
 * and the path-only ones, cut after the first without a path constraint
 * (nothing after it can win). A safe key has none. */
static sl_status candidates(sl_redact_ctx *c, const char *key, size_t len,
                            size_t *n) {
    const sl_redactor *r = c->r;
    *n = 0;
    if (sl__redact_is_safe(r, key, len)) {
        return SL_OK;
    }
    memset(c->bits, 0, c->nbits * sizeof(*c->bits));
    if (r->keys) {
        sl_status rc =
            sl_patset_scan(r->keys, key, len, c->scratch, on_key_match, c);
        if (rc != SL_OK) {
            return rc;
        }
    }
    if (r->n_words) {
        sl__redact_words_match(r, key, len, &c->words, set_bit, c);
        if (c->words.failed) {
            c->words.failed = 0;
            return SL_ENOMEM;
        }
    }
    for (size_t i = 0; i < r->n_keyless; i++) {
        set_bit(r->keyless[i], c);
    }
    for (size_t w = 0; w < c->nbits; w++) {
        uint64_t b = c->bits[w];
        while (b) {
            uint32_t rule = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
            b &= b - 1;
            c->list[(*n)++] = rule;
            if (!r->rules[rule].has_path) {
                return SL_OK;
            }
        }
    }
    return SL_OK;
}

/* 8 bytes of s at i, as a number (unaligned load). */
static uint64_t load8(const char *s) {
    uint64_t w;
    memcpy(&w, s, 8);
    return w;
}

/* 4 bytes of s, as a number (unaligned load). */
static uint64_t load4(const char *s) {
    uint32_t w;
    memcpy(&w, s, 4);
    return w;
}

/* A key as two words, a and b, which with its length tell apart any two
 * keys of up to 16 bytes: its first and last 8 bytes (overlapping) from 8
 * bytes on, its first and last 4 from 4, and its first, middle and last
 * bytes below that (which are all of them). Longer keys also hash the
 * bytes between (key_hash) and are compared with memcmp. No loop and no
 * byte-wise stack word: keys are mostly short, and this runs for each. */
static inline void key_sig(const char *s, size_t len, uint64_t *a,
                           uint64_t *b) {
    if (len >= 8) {
        *a = load8(s);
        *b = load8(s + len - 8);
    } else if (len >= 4) {
        *a = load4(s);
        *b = load4(s + len - 4);
    } else {
        *a = len == 0 ? 0
                      : (uint64_t)(unsigned char)s[0] |
                            (uint64_t)(unsigned char)s[len / 2] << 8 |
                            (uint64_t)(unsigned char)s[len - 1] << 16;
        *b = 0;
    }
}

static inline uint64_t key_hash(const char *s, size_t len, uint64_t a,
                                uint64_t b) {
    uint64_t h = (a ^ len) * 0xff51afd7ed558ccdull;
    for (size_t i = 8; i + 8 < len; i += 8) {
        h = (h ^ (h >> 32) ^ load8(s + i)) * 0xff51afd7ed558ccdull;
    }
    h = (h ^ (h >> 32) ^ b) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

/* Candidates of key through the cache. *rules is valid until the next
 * call. */
static sl_status lookup(sl_redact_ctx *c, const char *key, size_t len,
                        const uint32_t **rules, size_t *n) {
    if (len > CACHE_KEY_MAX) {
        *rules = c->list;
        return candidates(c, key, len, n);
    }
    uint64_t a, b;
    key_sig(key, len, &a, &b);
    uint64_t h = key_hash(key, len, a, b);
    size_t mask = CACHE_SLOTS - 1;
    size_t i = h & mask;
    for (;; i = (i + 1) & mask) {
        cache_ent *e = &c->cache[i];
        if (!e->key) {
            break;
        }
        if (e->a == a && e->b == b && e->klen == len &&
            (len <= 16 || memcmp(e->key, key, len) == 0)) {
            *rules = e->rules;
            *n = e->n;
            return SL_OK;
        }
    }
    sl_status rc = candidates(c, key, len, n);
    *rules = c->list;
    if (rc != SL_OK) {
        return rc;
    }
    if (c->cached >= CACHE_MAX) {
        /* full: start over (cheap, and bounded memory beats an LRU) */
        memset(c->cache, 0, CACHE_SLOTS * sizeof(*c->cache));
        sl__arena_reset(&c->cache_arena);
        c->cached = 0;
        i = h & mask;
    }
    char *k = sl__arena_strndup(&c->cache_arena, key, len);
    uint32_t *copy = NULL;
    if (k && *n) {
        copy = sl__arena_alloc(&c->cache_arena, *n * sizeof(*copy));
        if (copy) {
            memcpy(copy, c->list, *n * sizeof(*copy));
        }
    }
    if (!k || (*n && !copy)) {
        return SL_OK; /* not cached: benign, the answer is in c->list */
    }
    c->cache[i] = (cache_ent){a, b, k, (uint32_t)len, (uint32_t)*n, copy};
    c->cached++;
    return SL_OK;
}

/* The winning rule for the member whose key is path[depth], or -1. */
static sl_status decide(sl_redact_ctx *c, size_t depth, int64_t *rule) {
    *rule = -1;
    const uint32_t *rules = NULL;
    size_t n = 0;
    sl_str key = c->path[depth];
    sl_status rc = lookup(c, key.ptr, key.len, &rules, &n);
    if (rc != SL_OK) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        const rd_rule *rr = &c->r->rules[rules[i]];
        if (!rr->has_path ||
            sl__redact_path_match(&rr->path, c->path, depth + 1)) {
            *rule = rules[i];
            return SL_OK;
        }
    }
    return SL_OK;
}

/* ---- audit ---- */

/* path[0..n) in the path-pattern syntax ('.' and '\' escaped) into
 * c->pathtxt. */
static sl_status render_path(sl_redact_ctx *c, size_t n) {
    sl_buf *b = &c->pathtxt;
    b->len = 0;
    sl_status rc = sl__buf_reserve(b, 1);
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        if (i > 0) {
            rc = sl__buf_putc(b, '.');
        }
        sl_str k = c->path[i];
        size_t run = 0;
        for (size_t j = 0; j < k.len && rc == SL_OK; j++) {
            if (k.ptr[j] == '.' || k.ptr[j] == '\\') {
                rc = sl__buf_append(b, k.ptr + run, j - run);
                if (rc == SL_OK) {
                    rc = sl__buf_putc(b, '\\');
                }
                run = j;
            }
        }
        if (rc == SL_OK) {
            rc = sl__buf_append(b, k.ptr + run, k.len - run);
        }
    }
    return rc;
}

static const char *const audit_names[] = {"mask", "hash", "drop", "detect"};

/* Count one action (3 = detect) at path[0..n) and list it in the audit. */
static sl_status note(sl_redact_ctx *c, int action, size_t n, int64_t rule,
                      uint32_t detector) {
    switch (action) {
    case SL_REDACT_MASK:
        c->counts.masked++;
        break;
    case SL_REDACT_HASH:
        c->counts.hashed++;
        break;
    case SL_REDACT_DROP:
        c->counts.dropped++;
        break;
    default:
        c->counts.detected++;
        if (detector < SL_DETECT_COUNT) {
            c->per_detector[detector]++;
        }
        break;
    }
    if (!c->audit) {
        return SL_OK;
    }
    if (c->nfields >= AUDIT_FIELDS_MAX) {
        c->truncated = true;
        return SL_OK;
    }
    sl_buf *f = &c->fields;
    sl_status rc = render_path(c, n);
    if (rc == SL_OK) {
        rc = sl__buf_printf(f, "%s{\"action\":\"%s\",\"path\":",
                            c->nfields ? "," : "", audit_names[action]);
    }
    if (rc == SL_OK) {
        rc = sl_json_write_string(f, c->pathtxt.ptr, c->pathtxt.len);
    }
    if (rc == SL_OK) {
        rc = action == 3
                 ? sl__buf_printf(f, ",\"detector\":\"%s\"}",
                                  sl__redact_detector_name(detector))
                 : sl__buf_printf(f, ",\"rule\":%lld}", (long long)rule);
    }
    c->nfields++;
    return rc;
}

/* The audit's "detectors":{"name":N,...}, member and comma, in detector
 * order. */
static sl_status write_per_detector(sl_redact_ctx *c, sl_buf *audit) {
    sl_status rc = sl__buf_append(audit, "\"detectors\":{", 13);
    bool first = true;
    for (uint32_t i = 0; i < SL_DETECT_COUNT && rc == SL_OK; i++) {
        if (c->per_detector[i]) {
            rc = sl__buf_printf(audit, "%s\"%s\":%llu", first ? "" : ",",
                                sl__redact_detector_name(i),
                                (unsigned long long)c->per_detector[i]);
            first = false;
        }
    }
    return rc == SL_OK ? sl__buf_append(audit, "},", 2) : rc;
}

/* ---- writing ---- */

/* One byte; the buffer's slow path only when it must grow. */
static sl_status put(sl_buf *b, char ch) {
    if (b->len + 1 < b->cap) {
        b->ptr[b->len++] = ch;
        b->ptr[b->len] = '\0';
        return SL_OK;
    }
    return sl__buf_putc(b, ch);
}

static sl_status value_error(sl_redact_ctx *c, size_t depth, sl_status code,
                             const char *what) {
    if (code == SL_ENOMEM) {
        return sl__nomem(c->err);
    }
    if (render_path(c, depth) != SL_OK) {
        return sl__nomem(c->err);
    }
    return sl__error(c->err, code, NULL, "%s at \"%.*s\"", what,
                     (int)(c->pathtxt.len > 200 ? 200 : c->pathtxt.len),
                     c->pathtxt.ptr ? c->pathtxt.ptr : "");
}

/* Returned (with nothing reported) when source-copy mode meets a node
 * whose source text it cannot find; sl_redact_write_doc then writes the
 * payload node by node. Cannot happen for a tree checked unchanged and
 * compact, but the copy must never guess. */
static sl_status no_source(sl_redact_ctx *c) {
    c->no_source = true;
    return SL_ESTATE;
}

/* In source-copy mode, copy the source up to `at` and continue after
 * `next` (the text in between is replaced or dropped). */
static sl_status copy_until(sl_redact_ctx *c, const char *at,
                            const char *next) {
    if (at < c->src || next < at) {
        return no_source(c);
    }
    sl_status rc = sl__buf_append(c->out, c->src, (size_t)(at - c->src));
    c->src = next;
    return rc;
}

/* Before writing a replacement for value v: in source-copy mode, copy the
 * source up to v and skip v's own text; otherwise nothing. */
static sl_status replace_value(sl_redact_ctx *c, const sl_node *v) {
    if (!c->src) {
        return SL_OK;
    }
    const char *s, *e;
    if (!sl__doc_value_span(c->doc, v, &s, &e)) {
        return no_source(c);
    }
    return copy_until(c, s, e);
}

/* Drop member i of obj in source-copy mode. `kept`: members of obj
 * already in the output. A member after a kept one goes with the comma
 * before it; otherwise with the comma after it (up to the next member's
 * key), or alone when it is the last. */
static sl_status skip_member(sl_redact_ctx *c, const sl_node *obj, size_t i,
                             size_t kept) {
    const char *s, *e;
    if (!sl__doc_member_span(c->doc, obj, i, &s, &e)) {
        return no_source(c);
    }
    if (kept) {
        return s[-1] == ',' ? copy_until(c, s - 1, e) : no_source(c);
    }
    if (i + 1 < sl_node_len(obj)) {
        const char *ns, *ne;
        if (!sl__doc_member_span(c->doc, obj, i + 1, &ns, &ne)) {
            return no_source(c);
        }
        return copy_until(c, s, ns);
    }
    return copy_until(c, s, e);
}

static sl_status write_hash(sl_redact_ctx *c, const sl_node *v, size_t depth) {
    const sl_redactor *r = c->r;
    const char *p;
    size_t len;
    if (sl_node_kind_of(v) == SL_NODE_STRING) {
        sl_str s = sl_node_str(v);
        p = s.ptr;
        len = s.len;
    } else {
        c->tmp.len = 0;
        sl_error e = {0};
        sl_status rc = sl_json_write_canonical(&c->tmp, v, &e);
        if (rc != SL_OK) {
            return value_error(c, depth + 1, rc,
                               "value cannot be hashed (no canonical json)");
        }
        p = c->tmp.ptr ? c->tmp.ptr : "";
        len = c->tmp.len;
    }
    uint8_t d[SL_SHA256_LEN];
    sl_status rc =
        r->hash_key ? sl__hmac_sha256(r->hash_key, r->hash_key_len, p, len, d)
                    : sl__sha256(p, len, d);
    if (rc != SL_OK) {
        return sl__error(c->err, rc, NULL, "hashing failed");
    }
    rc = replace_value(c, v);
    if (rc != SL_OK) {
        sl__wipe(d, sizeof(d));
        return rc;
    }
    char text[8 + 2 * SL_SHA256_LEN + 2];
    memcpy(text, r->hash_key ? "\"hmac:" : "\"hash:", 6);
    sl__hex(d, SL_SHA256_LEN, text + 6);
    text[6 + 2 * SL_SHA256_LEN] = '"';
    sl__wipe(d, sizeof(d));
    return sl__buf_append(c->out, text, 7 + 2 * SL_SHA256_LEN);
}

static int on_detect(uint32_t id, size_t from, size_t to, void *ctx) {
    sl_redact_ctx *c = ctx;
    if (c->nspans == c->spans_cap) {
        size_t ncap = c->spans_cap ? c->spans_cap * 2 : 16;
        if (ncap > 65536) {
            return 1; /* enough: the rest is masked from the last span on */
        }
        span *ns = sl__realloc(c->spans, c->spans_cap * sizeof(*ns),
                               ncap * sizeof(*ns));
        if (!ns) {
            return 1;
        }
        c->spans = ns;
        c->spans_cap = ncap;
    }
    c->spans[c->nspans++] = (span){from, to, id};
    return 0;
}

/* By start, the longest first, then by detector: the order, and so the
 * detector a merged span is counted for, does not depend on qsort. */
static int cmp_span(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->from != y->from) {
        return x->from < y->from ? -1 : 1;
    }
    if (x->to != y->to) {
        return x->to > y->to ? -1 : 1;
    }
    return x->id < y->id ? -1 : x->id > y->id;
}

enum {
    MASK_PASSES = 4 /* rescans of a masked string, at most */
};

/* One detector pass over s: the masked text into out; *found = the number
 * of spans masked (0: out untouched). The gate is the caller's: most
 * strings stop there, before any of this. */
static sl_status mask_pass(sl_redact_ctx *c, const char *s, size_t len,
                           sl_buf *out, size_t depth, size_t *found) {
    *found = 0;
    c->nspans = 0;
    sl_status rc =
        sl_patset_scan(c->r->detectors, s, len, c->scratch, on_detect, c);
    if (rc != SL_OK) {
        return rc;
    }
    size_t kept = 0;
    for (size_t i = 0; i < c->nspans; i++) {
        span sp = c->spans[i];
        if (sl__redact_detect_confirm(sp.id, s, len, &sp.from, &sp.to,
                                      &sp.id)) {
            c->spans[kept++] = sp;
        }
    }
    c->nspans = kept;
    if (kept == 0) {
        return SL_OK;
    }
    qsort(c->spans, c->nspans, sizeof(*c->spans), cmp_span);
    out->len = 0;
    size_t at = 0;
    for (size_t i = 0; i < c->nspans && rc == SL_OK; i++) {
        span sp = c->spans[i];
        if (sp.to <= at) {
            continue; /* inside a span already masked */
        }
        if (sp.from < at) {
            sp.from = at; /* overlaps: merge into the previous mask */
        } else {
            rc = sl__buf_append(out, s + at, sp.from - at);
            if (rc == SL_OK) {
                rc = sl__buf_append(out, "[REDACTED]", 10);
            }
            if (rc == SL_OK) {
                rc = note(c, 3, depth, -1, sp.id);
                (*found)++;
            }
        }
        at = sp.to;
    }
    if (rc == SL_OK) {
        rc = sl__buf_append(out, s + at, len - at);
    }
    return rc;
}

/* A string value the gate let through (walk_scalar gates, inline: most
 * strings stop there): mask what the detectors find, else copy. A masked
 * string is scanned again until nothing more is found: a mask can end a
 * token a detector had rejected for running on into the masked text
 * ("Basic dXNl...=eyJ..." once the JWT is gone), and masking must be
 * idempotent (redacting the output changes nothing). */
static sl_status write_string(sl_redact_ctx *c, const sl_node *v,
                              size_t depth) {
    sl_str s = sl__doc_str(v);
    size_t found = 0;
    sl_status rc = mask_pass(c, s.ptr, s.len, &c->tmp, depth, &found);
    if (rc != SL_OK || found == 0) {
        return rc != SL_OK || c->src
                   ? rc
                   : sl_json_write(c->out, v, SL_WRITE_COMPACT, NULL);
    }
    sl_buf *cur = &c->tmp, *next = &c->tmp2;
    for (int pass = 1; pass < MASK_PASSES && found && rc == SL_OK; pass++) {
        if (!sl__redact_detect_gate(cur->ptr, cur->len)) {
            break;
        }
        rc = mask_pass(c, cur->ptr, cur->len, next, depth, &found);
        if (rc == SL_OK && found) {
            sl_buf *t = cur;
            cur = next;
            next = t;
        }
    }
    if (rc == SL_OK) {
        rc = replace_value(c, v);
    }
    if (rc == SL_OK) {
        rc = sl_json_write_string(c->out, cur->ptr ? cur->ptr : "", cur->len);
    }
    return rc;
}

static sl_status walk_container(sl_redact_ctx *c, const sl_node *n,
                                size_t depth);

/* Write scalar n (in source-copy mode: only a string a detector changes).
 * Inlined into both container loops: most nodes are scalars, and a call
 * per scalar cost more than its work. */
static inline __attribute__((always_inline)) sl_status
walk_scalar(sl_redact_ctx *c, const sl_node *n, size_t depth) {
    if (sl__doc_kind(n) == SL_NODE_STRING && c->r->detectors) {
        sl_str s = sl__doc_str(n);
        if (sl__redact_detect_gate(s.ptr, s.len)) {
            return write_string(c, n, depth);
        }
    }
    if (c->src) {
        return SL_OK; /* read from JSON: its text is its source */
    }
    /* no sl_error here: zeroing one per scalar costs more than the write */
    sl_status rc = sl_json_write(c->out, n, SL_WRITE_COMPACT, NULL);
    if (rc == SL_EINVAL) {
        return value_error(c, depth, rc, "value has no json form");
    }
    return rc;
}

/* Write n, whose members' keys start at path[depth]. In source-copy mode
 * a node changed since it was read has no source text that stands for it
 * (nor, for a container, for what is below it): every node the walk
 * reaches is checked, which covers every byte the copy keeps (a value
 * replaced or dropped is not read from the source), and the payload is
 * then written node by node (no_source). */
static inline __attribute__((always_inline)) sl_status
walk_value(sl_redact_ctx *c, const sl_node *n, size_t depth) {
    if (c->src && sl__doc_self_changed(n)) {
        return no_source(c);
    }
    sl_node_kind k = sl__doc_kind(n);
    if (k == SL_NODE_OBJECT || k == SL_NODE_ARRAY) {
        return walk_container(c, n, depth);
    }
    return walk_scalar(c, n, depth);
}

/* Write object n (in source-copy mode: only what changes in it). */
static sl_status walk_object(sl_redact_ctx *c, const sl_node *n, size_t depth) {
    sl_buf *out = c->out;
    bool copy = c->src != NULL;
    sl_status rc = copy ? SL_OK : put(out, '{');
    size_t len;
    const sl__member *m = sl__doc_members(n, &len);
    size_t kept = 0;
    if (depth > MAX_NESTING) {
        return sl__error(c->err, SL_ELIMIT, NULL, "nesting deeper than %d",
                         MAX_NESTING);
    }
    for (size_t i = 0; i < len && rc == SL_OK; i++) {
        c->path[depth] = sl__member_key(&m[i]);
        int64_t rule = -1;
        if (c->cache) {
            rc = decide(c, depth, &rule);
            if (rc != SL_OK) {
                break;
            }
        }
        const sl_node *v = &m[i].val;
        int action = rule < 0 ? -1 : c->r->rules[rule].action;
        if (action == SL_REDACT_DROP) {
            rc = note(c, SL_REDACT_DROP, depth + 1, rule, 0);
            if (rc == SL_OK && copy) {
                rc = skip_member(c, n, i, kept);
            }
            continue;
        }
        if (!copy) {
            if (kept) {
                rc = put(out, ',');
            }
            if (rc == SL_OK) {
                rc = sl_json_write_key(out, n, i);
            }
            if (rc == SL_OK) {
                rc = put(out, ':');
            }
        }
        kept++;
        if (rc != SL_OK) {
            break;
        }
        if (action == SL_REDACT_MASK) {
            rc = replace_value(c, v);
            if (rc == SL_OK) {
                rc = sl__buf_append(out, "\"[REDACTED]\"", 12);
            }
            if (rc == SL_OK) {
                rc = note(c, SL_REDACT_MASK, depth + 1, rule, 0);
            }
        } else if (action == SL_REDACT_HASH) {
            rc = write_hash(c, v, depth);
            if (rc == SL_OK) {
                rc = note(c, SL_REDACT_HASH, depth + 1, rule, 0);
            }
        } else {
            rc = walk_value(c, v, depth + 1);
        }
    }
    if (rc == SL_OK && !copy) {
        rc = put(out, '}');
    }
    return rc;
}

static sl_status walk_array(sl_redact_ctx *c, const sl_node *n, size_t depth) {
    bool copy = c->src != NULL;
    sl_status rc = copy ? SL_OK : put(c->out, '[');
    size_t len;
    const sl_node *items = sl__doc_items(n, &len);
    for (size_t i = 0; i < len && rc == SL_OK; i++) {
        if (i > 0 && !copy) {
            rc = put(c->out, ',');
        }
        if (rc == SL_OK) {
            /* list elements add no path segment */
            rc = walk_value(c, &items[i], depth);
        }
    }
    if (rc == SL_OK && !copy) {
        rc = put(c->out, ']');
    }
    return rc;
}

/* Write container n. The recursion is bounded: trees from the readers are
 * at most 4096 deep, and a tree built by hand deeper than that is
 * refused. */
static sl_status walk_container(sl_redact_ctx *c, const sl_node *n,
                                size_t depth) {
    if (c->nesting >= MAX_NESTING) {
        return sl__error(c->err, SL_ELIMIT, NULL, "nesting deeper than %d",
                         MAX_NESTING);
    }
    c->nesting++;
    sl_status rc = sl__doc_kind(n) == SL_NODE_OBJECT ? walk_object(c, n, depth)
                                                     : walk_array(c, n, depth);
    c->nesting--;
    return rc;
}

/* One redaction of payload; with doc, in source-copy mode when payload's
 * source text is compact and unchanged (the file comment). */
static sl_status redact(sl_redact_ctx *c, const sl_doc *doc,
                        const sl_node *payload, sl_buf *out, sl_buf *audit,
                        sl_redact_counts *counts, sl_error *err) {
    if (!c || !out || !payload) {
        return sl__error(err, SL_EINVAL, NULL,
                         "no context, no payload or no output");
    }
    sl_str source = {0};
    c->doc = NULL;
    c->src = NULL;
    c->no_source = false;
    /* the root only: the walk checks each node below (walk_value) */
    if (doc && sl_doc_node_source(doc, payload, false, &source)) {
        c->doc = doc;
        c->src = source.ptr;
    }
    size_t old = out->len;
    size_t old_audit = audit ? audit->len : 0;
    if (err) {
        err->code = SL_OK; /* a stale code must not hide this call's */
    }
    c->out = out;
    c->nesting = 0;
    c->audit = audit != NULL;
    c->nfields = 0;
    c->truncated = false;
    c->fields.len = 0;
    memset(&c->counts, 0, sizeof(c->counts));
    memset(c->per_detector, 0, sizeof(c->per_detector));
    c->err = err;
    sl_status rc = walk_value(c, payload, 0);
    if (rc == SL_OK && c->src) {
        rc = copy_until(c, source.ptr + source.len, source.ptr + source.len);
    }
    if (rc == SL_OK && audit) {
        rc = sl__buf_printf(
            audit,
            "{\"mask\":%llu,\"hash\":%llu,\"drop\":%llu,\"detect\":%llu,",
            (unsigned long long)c->counts.masked,
            (unsigned long long)c->counts.hashed,
            (unsigned long long)c->counts.dropped,
            (unsigned long long)c->counts.detected);
        if (rc == SL_OK && c->counts.detected) {
            rc = write_per_detector(c, audit);
        }
        if (rc == SL_OK) {
            rc = sl__buf_append(audit, "\"fields\":[", 10);
        }
        if (rc == SL_OK) {
            rc = sl__buf_append(audit, c->fields.ptr, c->fields.len);
        }
        if (rc == SL_OK) {
            rc = c->truncated
                     ? sl__buf_append(audit, "],\"truncated\":true}", 19)
                     : sl__buf_append(audit, "]}", 2);
        }
    }
    c->out = NULL;
    c->err = NULL;
    c->doc = NULL;
    c->src = NULL;
    /* the wiped temp text may hold a hashed secret's canonical form */
    if (c->tmp.len) {
        sl__wipe(c->tmp.ptr, c->tmp.len);
        c->tmp.len = 0;
    }
    if (c->tmp2.len) {
        sl__wipe(c->tmp2.ptr, c->tmp2.len);
        c->tmp2.len = 0;
    }
    if (rc != SL_OK) {
        if (out->ptr) {
            out->len = old;
            out->ptr[old] = '\0';
        }
        if (audit && audit->ptr) {
            audit->len = old_audit;
            audit->ptr[old_audit] = '\0';
        }
        if (rc == SL_ENOMEM) {
            sl__nomem(err);
        } else if (err && err->code == SL_OK) {
            sl__error(err, rc, NULL, "%s", sl_status_str(rc));
        }
        return rc;
    }
    if (counts) {
        *counts = c->counts;
    }
    return SL_OK;
}

sl_status sl_redact_write(sl_redact_ctx *c, const sl_node *payload, sl_buf *out,
                          sl_buf *audit, sl_redact_counts *counts,
                          sl_error *err) {
    return redact(c, NULL, payload, out, audit, counts, err);
}

sl_status sl_redact_write_doc(sl_redact_ctx *c, const sl_doc *doc,
                              const sl_node *payload, sl_buf *out,
                              sl_buf *audit, sl_redact_counts *counts,
                              sl_error *err) {
    sl_status rc = redact(c, doc, payload, out, audit, counts, err);
    if (rc != SL_OK && c && c->no_source) {
        /* the source could not stand in (redact()): node by node */
        c->no_source = false;
        if (err) {
            *err = (sl_error){0};
        }
        rc = redact(c, NULL, payload, out, audit, counts, err);
    }
    return rc;
}

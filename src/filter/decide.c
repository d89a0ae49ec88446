/* src/filter/decide.c: value decisions, per-thread contexts, counters and
 * `filter explain`'s object. Scope resolution is resolve.c's.
 *
 * The one idea: all value patterns of one kind in the chain are one
 * pattern set whose ids are pattern numbers in chain order. One scan of a
 * name reports every pattern that matches; the scope's list of rules in
 * force (last matching rule first) then picks the winner: the pattern of
 * the earliest rule in that list, and the first such pattern within the
 * rule. The answer is cached per context: names are interned to dense ids
 * and each (scope, kind) keeps a byte vector indexed by id; a host that
 * keeps sl_filter_plan's vector per code object skips even that lookup.
 * Counters are written by their own thread only, with relaxed loads and stores
 * (no locked instruction on the hot path), and summed by readers. */
#include <sluice/filter.h>

#include <stdio.h>

#include "base/base.h"
#include "filter/private.h"

static const char *const kind_sel_names[SL_FILTER_KIND_COUNT] = {
    "arg", "local", "global", "ret", "attr"};

const char *sl_filter_kind_name(sl_filter_kind kind) {
    return (unsigned)kind < SL_FILTER_KIND_COUNT ? kind_sel_names[kind] : "";
}

sl_status sl_filter_kind_parse(const char *s, size_t len, sl_filter_kind *out) {
    if (!s || !out) {
        return SL_EINVAL;
    }
    for (int k = 0; k < SL_FILTER_KIND_COUNT; k++) {
        if (strlen(kind_sel_names[k]) == len &&
            memcmp(s, kind_sel_names[k], len) == 0) {
            *out = (sl_filter_kind)k;
            return SL_OK;
        }
    }
    return SL_EINVAL;
}

sl_status sl_filter_ctx_new(sl_filter *f, sl_filter_ctx **out, sl_error *err) {
    if (!f || !out) {
        return sl__error(err, SL_EINVAL, NULL, "no filter or out");
    }
    if (!f->ready) {
        return sl__error(err, SL_ESTATE, NULL, "filter chain not ready");
    }
    sl_filter_ctx *c = sl__calloc(1, sizeof(*c));
    if (!c) {
        return sl__nomem(err);
    }
    c->f = f;
    sl__arena_init(&c->names);
    c->nbits_words = (f->nrules + 63) / 64;
    c->bits = sl__calloc(c->nbits_words ? c->nbits_words : 1, sizeof(uint64_t));
    c->cforce = f->nrules ? f->nrules : 1;
    c->force = sl__calloc(c->cforce, sizeof(uint32_t));
    sl_status rc = (c->bits && c->force) ? SL_OK : SL_ENOMEM;
    for (int k = 0; k < SL__SEL_KIND_COUNT && rc == SL_OK; k++) {
        if (f->sets[k]) {
            rc = sl_scratch_reserve(&c->scratch, f->sets[k]);
        }
    }
    if (rc != SL_OK) {
        c->f = NULL; /* not linked yet */
        sl_filter_ctx_free(c);
        return sl__error(err, rc, NULL, "out of memory");
    }
    pthread_mutex_lock(&f->ctx_lock);
    c->next = f->ctxs;
    if (f->ctxs) {
        f->ctxs->prev = c;
    }
    f->ctxs = c;
    pthread_mutex_unlock(&f->ctx_lock);
    *out = c;
    return SL_OK;
}

void sl_filter_ctx_free(sl_filter_ctx *c) {
    if (!c) {
        return;
    }
    sl_filter *f = c->f;
    if (f) {
        pthread_mutex_lock(&f->ctx_lock);
        for (int k = 0; k < SL_FILTER_KIND_COUNT; k++) {
            atomic_fetch_add(&f->retired.red[k],
                             atomic_load(&c->counts.red[k]));
            atomic_fetch_add(&f->retired.drop[k],
                             atomic_load(&c->counts.drop[k]));
        }
        if (c->prev) {
            c->prev->next = c->next;
        } else {
            f->ctxs = c->next;
        }
        if (c->next) {
            c->next->prev = c->prev;
        }
        pthread_mutex_unlock(&f->ctx_lock);
    }
    sl_scratch_free(c->scratch);
    sl__free(c->bits, (c->nbits_words ? c->nbits_words : 1) * sizeof(uint64_t));
    sl__free(c->force, c->cforce * sizeof(uint32_t));
    sl__filter_cache_reset(c);
    sl__free(c->inames, c->cinames * sizeof(*c->inames));
    sl__free(c->vecs, c->cvecs * sizeof(*c->vecs));
    sl__arena_free(&c->names);
    sl__buf_free(&c->path);
    sl__buf_free(&c->rel);
    sl__buf_free(&c->module);
    sl__buf_free(&c->object);
    sl__free(c, sizeof(*c));
}

typedef struct pick {
    const sl_filter *f;
    const sl_filter_scope *s;
    size_t best_pos; /* position in s->force; smaller wins */
    int64_t best;    /* pattern number */
} pick;

static int on_value_match(uint32_t id, size_t from, size_t to, void *p) {
    SL_UNUSED(from);
    SL_UNUSED(to);
    pick *pk = p;
    uint32_t rule = pk->f->pats[id].rule;
    for (size_t i = 0; i < pk->s->nforce && i <= pk->best_pos; i++) {
        if (pk->s->force[i] == rule) {
            if (i < pk->best_pos || (int64_t)id < pk->best) {
                pk->best_pos = i;
                pk->best = id;
            }
            break;
        }
    }
    return 0;
}

int64_t sl__filter_match_value(sl_filter_ctx *ctx, const sl_filter_scope *s,
                               sl_filter_kind kind, const char *name,
                               size_t len) {
    const sl_patset *set = ctx->f->sets[SL__SEL_ARG + kind];
    if (!set || s->nforce == 0) {
        return -1;
    }
    pick pk = {ctx->f, s, SIZE_MAX, INT64_MAX};
    if (sl_patset_scan(set, name, len, ctx->scratch, on_value_match, &pk) !=
        SL_OK) {
        /* fail closed: a name the engine could not scan is redacted by the
         * caller's default path below (reported as no pattern) */
        return -2;
    }
    return pk.best == INT64_MAX ? -1 : pk.best;
}

static sl_filter_action action_of(sl_filter_ctx *ctx, const sl_filter_scope *s,
                                  int64_t p) {
    if (p == -2) {
        return SL_FILTER_REDACT; /* scan failure: never leak the value */
    }
    if (p < 0) {
        return (sl_filter_action)s->vdef;
    }
    return (sl_filter_action)ctx->f->pats[p].action;
}

void sl_filter_count(sl_filter_ctx *ctx, sl_filter_kind kind,
                     sl_filter_action action) {
    sl_filter_count_n(ctx, kind, action, 1);
}

void sl_filter_count_n(sl_filter_ctx *ctx, sl_filter_kind kind,
                       sl_filter_action action, uint64_t n) {
    if (!ctx || (unsigned)kind >= SL_FILTER_KIND_COUNT || n == 0) {
        return;
    }
    /* only this thread writes its counters: a relaxed load and store is
     * enough, and readers see a value at most a few events old */
    _Atomic uint64_t *c = NULL;
    if (action == SL_FILTER_REDACT) {
        c = &ctx->counts.red[kind];
    } else if (action == SL_FILTER_DROP) {
        c = &ctx->counts.drop[kind];
    } else {
        return;
    }
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* Forget every interned name and decision vector (bounded memory). */
void sl__filter_cache_reset(sl_filter_ctx *c) {
    for (size_t i = 0; i < c->cvecs; i++) {
        if (c->vecs[i].scope) {
            sl__free(c->vecs[i].acts, c->vecs[i].cap);
        }
    }
    if (c->vecs) {
        memset(c->vecs, 0, c->cvecs * sizeof(*c->vecs));
    }
    if (c->inames) {
        memset(c->inames, 0, c->cinames * sizeof(*c->inames));
    }
    c->nvecs = c->ninames = c->vec_bytes = 0;
    c->last = NULL;
    sl__arena_reset(&c->names);
}

/* The id of a name, interning it; UINT32_MAX when out of memory. */
static uint32_t intern(sl_filter_ctx *c, const char *name, size_t len) {
    uint64_t h = sl__filter_hash(name, len);
    if (c->cinames > 0) {
        for (size_t j = h & (c->cinames - 1); c->inames[j].name;
             j = (j + 1) & (c->cinames - 1)) {
            const sl__iname *e = &c->inames[j];
            if (e->hash == h && e->len == len &&
                memcmp(e->name, name, len) == 0) {
                return e->id;
            }
        }
    }
    if (c->ninames >= SL__FILTER_MAX_DECISIONS ||
        c->vec_bytes >= SL__FILTER_MAX_VEC_BYTES) {
        sl__filter_cache_reset(c);
    }
    if ((c->ninames + 1) * 2 > c->cinames) {
        size_t nc = c->cinames ? c->cinames * 2 : 256;
        sl__iname *t = sl__calloc(nc, sizeof(*t));
        if (!t) {
            return UINT32_MAX;
        }
        for (size_t i = 0; i < c->cinames; i++) {
            if (c->inames[i].name) {
                size_t j = c->inames[i].hash & (nc - 1);
                while (t[j].name) {
                    j = (j + 1) & (nc - 1);
                }
                t[j] = c->inames[i];
            }
        }
        sl__free(c->inames, c->cinames * sizeof(*t));
        c->inames = t;
        c->cinames = nc;
    }
    char *copy = sl__arena_strndup(&c->names, name, len);
    if (!copy) {
        return UINT32_MAX;
    }
    size_t j = h & (c->cinames - 1);
    while (c->inames[j].name) {
        j = (j + 1) & (c->cinames - 1);
    }
    c->inames[j] = (sl__iname){h, copy, (uint32_t)len, (uint32_t)c->ninames};
    return (uint32_t)c->ninames++;
}

static size_t vec_slot(const sl_filter_scope *s, uint32_t kind, size_t cap) {
    uint64_t h = ((uint64_t)(uintptr_t)s >> 4) * 0x9E3779B97F4A7C15ull;
    return (size_t)((h ^ (h >> 31) ^ kind) & (cap - 1));
}

/* The decision vector of (s, kind), created empty; NULL when out of
 * memory. */
static sl__svec *vec_of(sl_filter_ctx *c, const sl_filter_scope *s,
                        uint32_t kind) {
    if (c->last && c->last->scope == s && c->last->kind == kind) {
        return c->last;
    }
    if (c->cvecs > 0) {
        for (size_t j = vec_slot(s, kind, c->cvecs); c->vecs[j].scope;
             j = (j + 1) & (c->cvecs - 1)) {
            if (c->vecs[j].scope == s && c->vecs[j].kind == kind) {
                c->last = &c->vecs[j];
                return c->last;
            }
        }
    }
    if ((c->nvecs + 1) * 2 > c->cvecs) {
        size_t nc = c->cvecs ? c->cvecs * 2 : 64;
        sl__svec *t = sl__calloc(nc, sizeof(*t));
        if (!t) {
            return NULL;
        }
        for (size_t i = 0; i < c->cvecs; i++) {
            if (c->vecs[i].scope) {
                size_t j = vec_slot(c->vecs[i].scope, c->vecs[i].kind, nc);
                while (t[j].scope) {
                    j = (j + 1) & (nc - 1);
                }
                t[j] = c->vecs[i];
            }
        }
        sl__free(c->vecs, c->cvecs * sizeof(*t));
        c->vecs = t;
        c->cvecs = nc;
    }
    size_t j = vec_slot(s, kind, c->cvecs);
    while (c->vecs[j].scope) {
        j = (j + 1) & (c->cvecs - 1);
    }
    c->vecs[j] = (sl__svec){s, kind, 0, NULL};
    c->nvecs++;
    c->last = &c->vecs[j];
    return c->last;
}

/* Make room for id in v (new slots undecided). */
static bool vec_fit(sl_filter_ctx *c, sl__svec *v, uint32_t id) {
    if (id < v->cap) {
        return true;
    }
    size_t nc = v->cap ? v->cap : 64;
    while (nc <= id) {
        nc *= 2;
    }
    uint8_t *a = sl__realloc(v->acts, v->cap, nc);
    if (!a) {
        return false;
    }
    memset(a + v->cap, SL__UNDECIDED, nc - v->cap);
    c->vec_bytes += nc - v->cap;
    v->acts = a;
    v->cap = (uint32_t)nc;
    return true;
}

sl_filter_action sl_filter_decide(sl_filter_ctx *ctx, const sl_filter_scope *s,
                                  sl_filter_kind kind, const char *name,
                                  size_t len) {
    if (!ctx || !s || (unsigned)kind >= SL_FILTER_KIND_COUNT ||
        (!name && len > 0)) {
        return SL_FILTER_REDACT; /* fail closed */
    }
    if (!name) {
        name = "";
    }
    if (s->nforce == 0) {
        sl_filter_action a = (sl_filter_action)s->vdef;
        sl_filter_count(ctx, kind, a);
        return a;
    }
    uint32_t id =
        len <= SL__FILTER_MAX_NAME ? intern(ctx, name, len) : UINT32_MAX;
    sl__svec *v = id != UINT32_MAX ? vec_of(ctx, s, (uint32_t)kind) : NULL;
    if (v && id < v->cap && v->acts[id] != SL__UNDECIDED) {
        sl_filter_action a = (sl_filter_action)v->acts[id];
        sl_filter_count(ctx, kind, a);
        return a;
    }
    int64_t p = sl__filter_match_value(ctx, s, kind, name, len);
    sl_filter_action a = action_of(ctx, s, p);
    sl_filter_count(ctx, kind, a);
    /* remember it unless the scan failed; failing to remember (out of
     * memory) loses nothing but time */
    if (v && p != -2 && vec_fit(ctx, v, id)) {
        v->acts[id] = (uint8_t)a;
    }
    return a;
}

sl_status sl_filter_plan(sl_filter_ctx *ctx, const sl_filter_scope *s,
                         sl_filter_kind kind, const sl_str *names, size_t n,
                         uint8_t *actions, sl_error *err) {
    if (!ctx || !s || (unsigned)kind >= SL_FILTER_KIND_COUNT ||
        (n > 0 && (!names || !actions))) {
        return sl__error(err, SL_EINVAL, NULL, "bad plan arguments");
    }
    for (size_t i = 0; i < n; i++) {
        int64_t p =
            sl__filter_match_value(ctx, s, kind, names[i].ptr, names[i].len);
        actions[i] = (uint8_t)action_of(ctx, s, p);
    }
    return SL_OK;
}

static void write_rule(sl_buf *out, const sl_filter *f, const sl__frule *r,
                       const sl__fpattern *p) {
    sl__buf_append(out, "{\"source\":", 10);
    sl__filter_json_str(out, f->sources[r->source].path);
    sl__buf_printf(out, ",\"index\":%u", r->index);
    if (p) {
        sl__buf_printf(out, ",\"pattern\":%u", p->index);
    }
    sl__buf_append(out, ",\"selector\":", 12);
    sl__filter_json_str(out, p ? p->sel.raw : r->sel.raw);
    sl__buf_append(out, ",\"reason\":", 10);
    sl__filter_json_str(out, p ? p->reason : r->reason);
    sl__buf_putc(out, '}');
}

static void json_opt(sl_buf *out, const sl_buf *b) {
    if (b->len == 0) {
        sl__buf_append(out, "null", 4);
    } else {
        sl__filter_json_strn(out, b->ptr, b->len);
    }
}

sl_status sl_filter_explain(sl_filter_ctx *ctx, const char *filename,
                            const char *qualname, const char *module_hint,
                            const sl_filter_kind *kinds, const sl_str *names,
                            size_t n, sl_buf *out, sl_error *err) {
    if (!ctx || !filename || !out || (n > 0 && (!kinds || !names))) {
        return sl__error(err, SL_EINVAL, NULL, "bad explain arguments");
    }
    const sl_filter_scope *s = NULL;
    sl_status rc =
        sl_filter_classify(ctx, filename, qualname, module_hint, &s, err);
    if (rc != SL_OK) {
        return rc;
    }
    bool has_module = false, has_rel = false;
    rc = sl__filter_identity(ctx, filename, qualname, module_hint, &has_module,
                             &has_rel);
    if (rc != SL_OK) {
        return sl__nomem(err);
    }
    const sl_filter *f = ctx->f;
    sl__buf_append(out, "{\"module\":", 10);
    json_opt(out, &ctx->module);
    sl__buf_append(out, ",\"relative_path\":", 17);
    json_opt(out, &ctx->rel);
    sl__buf_append(out, ",\"object\":", 10);
    json_opt(out, &ctx->object);
    sl__buf_printf(out, ",\"exec\":\"%s\",\"value_default\":\"%s\",\"rule\":",
                   s->exec == SL_FILTER_SKIP ? "skip" : "trace",
                   sl_filter_action_name((sl_filter_action)s->vdef));
    if (s->rule < 0) {
        sl__buf_append(out, "null", 4);
    } else {
        write_rule(out, f, &f->rules[s->rule], NULL);
    }
    sl__buf_append(out, ",\"values\":[", 11);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned)kinds[i] >= SL_FILTER_KIND_COUNT) {
            return sl__error(err, SL_EINVAL, NULL, "bad value kind");
        }
        int64_t p = sl__filter_match_value(ctx, s, kinds[i], names[i].ptr,
                                           names[i].len);
        sl_filter_action a = action_of(ctx, s, p);
        sl__buf_printf(out, "%s{\"kind\":\"%s\",\"name\":", i ? "," : "",
                       kind_sel_names[kinds[i]]);
        sl__filter_json_strn(out, names[i].ptr, names[i].len);
        sl__buf_printf(
            out, ",\"action\":\"%s\",\"rule\":", sl_filter_action_name(a));
        if (p < 0) {
            sl__buf_append(out, "null", 4);
        } else {
            const sl__fpattern *pat = &f->pats[p];
            write_rule(out, f, &f->rules[pat->rule], pat);
        }
        sl__buf_putc(out, '}');
    }
    sl__buf_append(out, "]}", 2);
    if (out->failed) {
        return sl__error(err, SL_ENOMEM, NULL, "out of memory");
    }
    return SL_OK;
}

/* src/policy/state.c: the mutable part of a policy set, what a reload
 * carries over: per policy a statistics block and, for a rate-limited
 * policy, a limiter block (window start and count). Owns their life
 * (reference counts), the carry-over by policy id, and the stats
 * accessors. Leaves loading and compiling to compile.c and counting to
 * eval.c.
 *
 * The one idea: a reload does not copy state, it shares it. The new set
 * takes a reference to the old set's block of every policy whose id it
 * keeps, so threads still evaluating through the old snapshot count into
 * the very atomics the new one reports, and both snapshots draw from one
 * rate window: nothing is lost, counted twice or allowed to burst while
 * the two overlap. A block is freed when the last set holding it is. */
#include <stdlib.h>

#include "policy/private.h"

static void stats_unref(sl__stats *s) {
    if (s &&
        atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) {
        sl__free(s, sizeof(*s));
    }
}

static void limiter_unref(sl__limiter *l) {
    if (l &&
        atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) == 1) {
        sl__free(l, sizeof(*l));
    }
}

void sl__policy_state_release(sl_policy_set *set) {
    size_t cap = set->npolicies ? set->npolicies : 1;
    if (set->stats) {
        for (uint32_t i = 0; i < set->npolicies; i++) {
            stats_unref(set->stats[i]);
        }
        sl__free(set->stats, cap * sizeof(*set->stats));
        set->stats = NULL;
    }
    if (set->limiters) {
        for (uint32_t i = 0; i < set->npolicies; i++) {
            limiter_unref(set->limiters[i]);
        }
        sl__free(set->limiters, cap * sizeof(*set->limiters));
        set->limiters = NULL;
    }
}

/* Byte-wise id order, the order both sets are sorted in (compile.c). */
static int id_cmp(const sl__policy *a, const sl__policy *b) {
    size_t n = a->id_len < b->id_len ? a->id_len : b->id_len;
    int c = n ? memcmp(a->id, b->id, n) : 0;
    if (c != 0) {
        return c;
    }
    return a->id_len < b->id_len ? -1 : a->id_len > b->id_len;
}

/* May the new policy p draw from the old policy q's rate window? Only
 * when both limit the same number of records per the same window and
 * read the same clock: a changed limit starts a fresh window (the old
 * count measured against another limit means nothing), and windows on
 * another clock cannot be compared. */
static bool same_limit(const sl_policy_set *set, const sl__policy *p,
                       const sl_policy_set *prev, const sl__policy *q) {
    return p->keep.kind == SL_KEEP_RATE && q->keep.kind == SL_KEEP_RATE &&
           p->keep.limit == q->keep.limit &&
           p->keep.window_secs == q->keep.window_secs &&
           set->clock == prev->clock && set->clock_ctx == prev->clock_ctx;
}

sl_status sl__policy_state_attach(sl_policy_set *set, const sl_policy_set *prev,
                                  sl_error *err) {
    size_t cap = set->npolicies ? set->npolicies : 1;
    set->stats = sl__calloc(cap, sizeof(*set->stats));
    set->limiters = sl__calloc(cap, sizeof(*set->limiters));
    if (!set->stats || !set->limiters) {
        sl__policy_state_release(set);
        return sl__nomem(err);
    }
    uint32_t j = 0; /* both sets are sorted by id: one merge walk */
    uint32_t nprev = prev ? prev->npolicies : 0;
    for (uint32_t i = 0; i < set->npolicies; i++) {
        const sl__policy *p = &set->policies[i];
        int c = 1;
        while (j < nprev && (c = id_cmp(&prev->policies[j], p)) < 0) {
            j++;
        }
        const sl__policy *q = j < nprev && c == 0 ? &prev->policies[j] : NULL;
        if (q) {
            set->stats[i] = prev->stats[j];
            atomic_fetch_add_explicit(&set->stats[i]->refs, 1,
                                      memory_order_relaxed);
        } else {
            set->stats[i] = sl__calloc(1, sizeof(sl__stats));
            if (!set->stats[i]) {
                sl__policy_state_release(set);
                return sl__nomem(err);
            }
            atomic_init(&set->stats[i]->refs, 1);
        }
        if (p->keep.kind != SL_KEEP_RATE) {
            continue;
        }
        if (q && same_limit(set, p, prev, q)) {
            set->limiters[i] = prev->limiters[j];
            atomic_fetch_add_explicit(&set->limiters[i]->refs, 1,
                                      memory_order_relaxed);
        } else {
            sl__limiter *l = sl__calloc(1, sizeof(*l));
            if (!l) {
                sl__policy_state_release(set);
                return sl__nomem(err);
            }
            atomic_flag_clear(&l->lock);
            atomic_init(&l->refs, 1);
            set->limiters[i] = l;
        }
    }
    return SL_OK;
}

size_t sl_policy_find(const sl_policy_set *set, const char *id) {
    if (!set || !id) {
        return SIZE_MAX;
    }
    sl__policy key = {.id = id, .id_len = strlen(id)};
    size_t lo = 0, hi = set->npolicies;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = id_cmp(&set->policies[mid], &key);
        if (c == 0) {
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return SIZE_MAX;
}

void sl_policy_stats_get(const sl_policy_set *set, size_t i,
                         sl_policy_stats *out) {
    memset(out, 0, sizeof(*out));
    if (!set || i >= set->npolicies) {
        return;
    }
    sl__stats *c = set->stats[i];
    out->hits = atomic_load_explicit(&c->hits, memory_order_relaxed);
    out->misses = atomic_load_explicit(&c->misses, memory_order_relaxed);
    out->kept = atomic_load_explicit(&c->kept, memory_order_relaxed);
    out->dropped = atomic_load_explicit(&c->dropped, memory_order_relaxed);
    out->sampled_out =
        atomic_load_explicit(&c->sampled_out, memory_order_relaxed);
    out->rate_limited =
        atomic_load_explicit(&c->rate_limited, memory_order_relaxed);
    out->transformed =
        atomic_load_explicit(&c->transformed, memory_order_relaxed);
    out->transform_failed =
        atomic_load_explicit(&c->transform_failed, memory_order_relaxed);
}

void sl_policy_stage_stats_get(const sl_policy_set *set, size_t i,
                               sl_policy_stage_stats *out) {
    memset(out, 0, sizeof(*out));
    if (!set || i >= set->npolicies) {
        return;
    }
    sl__stats *c = set->stats[i];
    for (int s = 0; s < SL_STAGE_COUNT; s++) {
        out->hits[s] =
            atomic_load_explicit(&c->stage_hits[s], memory_order_relaxed);
        out->misses[s] =
            atomic_load_explicit(&c->stage_misses[s], memory_order_relaxed);
    }
}

void sl_policy_stats_reset(sl_policy_set *set) {
    if (!set) {
        return;
    }
    for (uint32_t i = 0; i < set->npolicies; i++) {
        sl__stats *c = set->stats[i];
        atomic_store(&c->hits, 0);
        atomic_store(&c->misses, 0);
        atomic_store(&c->kept, 0);
        atomic_store(&c->dropped, 0);
        atomic_store(&c->sampled_out, 0);
        atomic_store(&c->rate_limited, 0);
        atomic_store(&c->transformed, 0);
        atomic_store(&c->transform_failed, 0);
        for (int s = 0; s < SL_STAGE_COUNT; s++) {
            atomic_store(&c->stage_hits[s], 0);
            atomic_store(&c->stage_misses[s], 0);
        }
    }
}

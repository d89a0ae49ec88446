/* src/policy/eval.c: evaluate one record against a compiled set: match,
 * pick the winner, decide keep / drop / sample / rate-limit, count, and
 * (with SL_POLICY_APPLY) act: drop, transform logs, write the span's
 * sampling threshold. Owns the per-thread context; leaves loading and
 * compiling to load.c / compile.c and the sampling arithmetic to
 * sampling.c.
 *
 * The one idea: per record, each test (a distinct condition, compile.c)
 * that holds is stamped once, then only the policies indexed by a test
 * that held (their fast test), plus the few with only negated matchers,
 * are checked, each matcher by its test's stamp. Stamps are a generation
 * counter, so nothing is reset, nothing is proportional to the number of
 * policies and nothing is allocated. A reference set (the test oracle)
 * checks every policy instead. Semantics:
 * reference/policy-engine-upstream.md §4. */
#include <stdlib.h>
#include <time.h>

#include "policy/defer.h"
#include "policy/private.h"

struct sl_policy_ctx {
    const sl_policy_set *set;
    sl_scratch *scratch;
    uint32_t cap;   /* policies of the largest signal */
    uint32_t tcap;  /* tests of the largest signal */
    uint32_t *gen;  /* stamp per test: == cur when it held this record */
    uint32_t *held; /* tests that held this record */
    uint32_t nheld;
    uint32_t *matched;
    sl__done *done; /* transform ops run, per matched[] position */
    uint32_t cur;
    sl_buf buf;  /* regex redaction output */
    sl_buf fold; /* a value folded for caseless exact lookups */
    /* during one scan */
    const sl__key *key;
    /* counts held back (sl__policy_ctx_defer_counts): per policy of the
     * set, NULL when counting straight into the shared atomics */
    sl__tally *tally;
    uint32_t *dirty; /* policies with a tally not yet published */
    uint32_t ntally, ndirty;
};

sl_status sl_policy_ctx_new(const sl_policy_set *set, sl_policy_ctx **out,
                            sl_error *err) {
    if (!set || !out) {
        return sl__error(err, SL_EINVAL, NULL, "no set or no output");
    }
    sl_policy_ctx *c = sl__calloc(1, sizeof(*c));
    if (!c) {
        return sl__nomem(err);
    }
    c->set = set;
    uint32_t cap = 1, tcap = 1;
    for (int s = 0; s < 3; s++) {
        cap = set->sig[s].n > cap ? set->sig[s].n : cap;
        tcap = set->sig[s].ntests > tcap ? set->sig[s].ntests : tcap;
    }
    c->cap = cap;
    c->tcap = tcap;
    c->gen = sl__calloc(tcap, sizeof(uint32_t));
    c->held = sl__calloc(tcap, sizeof(uint32_t));
    c->matched = sl__calloc(cap, sizeof(uint32_t));
    c->done = sl__calloc(cap, sizeof(sl__done));
    c->cur = 1;
    sl_status rc = SL_OK;
    if (!c->gen || !c->held || !c->matched || !c->done) {
        rc = SL_ENOMEM;
    }
    for (int s = 0; s < 3 && rc == SL_OK; s++) {
        for (uint32_t k = 0; k < set->sig[s].nkeys && rc == SL_OK; k++) {
            if (set->sig[s].keys[k].set) {
                rc = sl_scratch_reserve(&c->scratch, set->sig[s].keys[k].set);
            }
        }
    }
    if (rc != SL_OK) {
        sl_policy_ctx_free(c);
        return sl__nomem(err);
    }
    *out = c;
    return SL_OK;
}

void sl_policy_ctx_free(sl_policy_ctx *c) {
    if (!c) {
        return;
    }
    sl__policy_ctx_publish_counts(c);
    sl_scratch_free(c->scratch);
    sl__free(c->gen, c->tcap * sizeof(uint32_t));
    sl__free(c->held, c->tcap * sizeof(uint32_t));
    sl__free(c->matched, c->cap * sizeof(uint32_t));
    sl__free(c->done, c->cap * sizeof(sl__done));
    sl_buf_free(&c->buf);
    sl_buf_free(&c->fold);
    sl__free(c->tally, c->ntally * sizeof(*c->tally));
    sl__free(c->dirty, c->ntally * sizeof(*c->dirty));
    sl__free(c, sizeof(*c));
}

sl_status sl__policy_ctx_defer_counts(sl_policy_ctx *c) {
    uint32_t n = c->set->npolicies ? c->set->npolicies : 1;
    if (c->tally) {
        return SL_OK;
    }
    c->tally = sl__calloc(n, sizeof(*c->tally));
    c->dirty = sl__calloc(n, sizeof(*c->dirty));
    if (!c->tally || !c->dirty) {
        sl__free(c->tally, n * sizeof(*c->tally));
        sl__free(c->dirty, n * sizeof(*c->dirty));
        c->tally = NULL;
        c->dirty = NULL;
        return SL_ENOMEM;
    }
    c->ntally = n;
    return SL_OK;
}

void sl__policy_ctx_publish_counts(sl_policy_ctx *c) {
    for (uint32_t d = 0; d < c->ndirty; d++) {
        uint32_t g = c->dirty[d];
        sl__tally *t = &c->tally[g];
        char *pc = (char *)c->set->stats[g];
        for (size_t k = 0; k < SL__TALLY_FIELDS; k++) {
            if (t->v[k]) {
                atomic_fetch_add_explicit(
                    (_Atomic uint64_t *)(pc + k * sizeof(uint64_t)), t->v[k],
                    memory_order_relaxed);
            }
        }
        memset(t, 0, sizeof(*t));
    }
    c->ndirty = 0;
}

/* ---- matching ---- */

static void next_record(sl_policy_ctx *c) {
    c->nheld = 0;
    if (++c->cur == 0) { /* stamp wrapped: forget every old stamp */
        memset(c->gen, 0, c->tcap * sizeof(uint32_t));
        c->cur = 1;
    }
}

/* Test t holds for this record (a second report changes nothing). */
static void hold(sl_policy_ctx *c, uint32_t t) {
    if (c->gen[t] != c->cur) {
        c->gen[t] = c->cur;
        c->held[c->nheld++] = t;
    }
}

static void lookup(sl_policy_ctx *c, const sl__xtable *t, const char *v,
                   size_t len) {
    uint64_t h = sl__policy_hash(v, len);
    for (uint32_t e = t->heads[h & t->mask]; e != UINT32_MAX;
         e = t->e[e].next) {
        const sl__exact *x = &t->e[e];
        if (x->hash == h && x->len == len &&
            (len == 0 || memcmp(x->text, v, len) == 0)) {
            hold(c, x->test);
        }
    }
}

/* The literal tables of one key against value v (folded copy vf). */
static void lookup_literals(sl_policy_ctx *c, const sl__key *key, const char *v,
                            const char *vf, size_t len) {
    for (uint8_t u = 0; u < key->nused; u++) {
        int t = key->used[u];
        const sl__xtable *x = &key->x[t];
        const char *s = (t & 1) ? vf : v;
        if (t / 2 == SL_X_EXACT &&
            (len < 64 ? !((x->lenmask >> len) & 1) : !x->long_lens)) {
            continue;
        }
        if (x->gq > 0) {
            if (len < x->gq) {
                continue;
            }
            const char *g = t / 2 == SL_X_SUFFIX ? s + len - x->gq : s;
            if (!sl__gramset_has(&x->grams, (const unsigned char *)g, x->gq)) {
                continue;
            }
        }
        if (t / 2 == SL_X_EXACT) {
            lookup(c, x, s, len);
            continue;
        }
        for (uint32_t l = 0; l < x->nlens && x->lens[l] <= len; l++) {
            size_t n = x->lens[l];
            lookup(c, x, t / 2 == SL_X_PREFIX ? s : s + len - n, n);
        }
    }
}

static int on_match(uint32_t id, size_t from, size_t to, void *ctx) {
    (void)from;
    (void)to;
    sl_policy_ctx *c = ctx;
    hold(c, c->key->pat_test[id]);
    return 0;
}

/* Every matcher of policy p agrees with the record: a plain matcher's
 * test held, a negated one's did not. */
static bool policy_holds(const sl_policy_ctx *c, const sl__signal_set *ss,
                         uint32_t p) {
    for (uint32_t r = ss->ref_off[p]; r < ss->ref_off[p + 1]; r++) {
        if ((c->gen[ss->refs[r].test] == c->cur) == ss->refs[r].negate) {
            return false;
        }
    }
    return true;
}

static int u32_cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Match record i; fills c->matched (ascending local index) and returns
 * how many matched. */
static sl_status match_record(sl_policy_ctx *c, const sl__signal_set *ss,
                              const sl_otlp *o, size_t i, uint32_t *nmatched) {
    next_record(c);
    for (uint32_t k = 0; k < ss->nkeys; k++) {
        const sl__key *key = &ss->keys[k];
        sl_str v;
        if (!sl_otlp_get(o, i, &key->field, &v)) {
            continue; /* absent: no test on it holds */
        }
        const char *vf = v.ptr;
        if (key->any_ci) {
            c->fold.len = 0;
            sl_status rc = sl__buf_reserve(&c->fold, v.len + 1);
            if (rc != SL_OK) {
                return rc;
            }
            sl__policy_fold(c->fold.ptr, v.ptr, v.len);
            vf = c->fold.ptr;
        }
        lookup_literals(c, key, v.ptr, vf, v.len);
        if (key->set) {
            c->key = key;
            sl_status rc =
                sl_patset_scan(key->set, v.ptr, v.len, c->scratch, on_match, c);
            if (rc != SL_OK) {
                return rc;
            }
        }
    }
    bool have = false, exists = false;
    for (uint32_t e = 0; e < ss->nexists; e++) {
        const sl__check *ch = &ss->exists[e];
        if (!have || e == 0 ||
            !sl__field_eq(&ch->field, &ss->exists[e - 1].field)) {
            exists = sl_otlp_exists(o, i, &ch->field);
            have = true;
        }
        if (exists == ch->m->should_exist) {
            hold(c, ch->test);
        }
    }
    sl_value tv;
    bool tpresent = false;
    for (uint32_t t = 0; t < ss->ntyped; t++) {
        const sl__check *ch = &ss->typed[t];
        if (t == 0 || !sl__field_eq(&ch->field, &ss->typed[t - 1].field)) {
            tpresent = sl_otlp_typed(o, i, &ch->field, &tv);
        }
        if (sl__policy_typed_eval(&ch->m->typed, tpresent ? &tv : NULL)) {
            hold(c, ch->test);
        }
    }
    /* each enabled policy is in exactly one list (its fast test's, or
     * always), so none is checked twice */
    uint32_t n = 0;
    if (c->set->reference) {
        for (uint32_t p = 0; p < ss->n; p++) {
            if (ss->ref_off[p + 1] > ss->ref_off[p] && policy_holds(c, ss, p)) {
                c->matched[n++] = p;
            }
        }
        *nmatched = n; /* already ascending */
        return SL_OK;
    }
    for (uint32_t a = 0; a < ss->nalways; a++) {
        if (policy_holds(c, ss, ss->always[a])) {
            c->matched[n++] = ss->always[a];
        }
    }
    for (uint32_t h = 0; h < c->nheld; h++) {
        uint32_t t = c->held[h];
        for (uint32_t f = ss->fast_off[t]; f < ss->fast_off[t + 1]; f++) {
            if (policy_holds(c, ss, ss->fast[f])) {
                c->matched[n++] = ss->fast[f];
            }
        }
    }
    if (n > 1) {
        if (n <= 16) {
            for (uint32_t a = 1; a < n; a++) {
                uint32_t x = c->matched[a];
                uint32_t b = a;
                while (b > 0 && c->matched[b - 1] > x) {
                    c->matched[b] = c->matched[b - 1];
                    b--;
                }
                c->matched[b] = x;
            }
        } else {
            qsort(c->matched, n, sizeof(uint32_t), u32_cmp);
        }
    }
    *nmatched = n;
    return SL_OK;
}

/* ---- deciding ---- */

static uint64_t now_ns(const sl_policy_set *set) {
    if (set->clock) {
        return set->clock(set->clock_ctx);
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Fixed window from the first check (policy-rs rate_limiter.rs): a new
 * window starts when the old one has fully passed. The limiter may be
 * shared with the snapshot this one replaced (state.c). */
static bool rate_allow(const sl_policy_set *set, sl__limiter *ct,
                       const sl__keep *k) {
    uint64_t now = now_ns(set);
    uint64_t window = k->window_secs * 1000000000u;
    while (atomic_flag_test_and_set_explicit(&ct->lock, memory_order_acquire)) {
        /* spin: the critical section is a few instructions */
    }
    if (!ct->window_open || now - ct->window_start >= window) {
        ct->window_open = true;
        ct->window_start = now;
        ct->window_count = 0;
    }
    bool ok = ct->window_count < k->limit;
    if (ok) {
        ct->window_count++;
    }
    atomic_flag_clear_explicit(&ct->lock, memory_order_release);
    return ok;
}

/* Consistent probability sampling of a log record (policy-rs sampling.rs):
 * no sample key, or an absent / empty value, keeps. */
static bool log_sample(const sl__policy *p, const sl_otlp *o, size_t i) {
    if (!p->has_sample_key) {
        return true;
    }
    sl_str v;
    if (!sl_otlp_get(o, i, &p->sample_key, &v) || v.len == 0) {
        return true;
    }
    uint64_t t = sl__sampling_threshold(p->keep.ratio);
    uint64_t r = 0;
    if (!sl__sampling_hex_suffix(v.ptr, v.len, &r)) {
        r = sl__fnv1a64(v.ptr, v.len) & SL_SAMPLING_MASK;
    }
    return r >= t;
}

/* The 56-bit randomness of a trace id: its last 14 hex digits; only a
 * 32-digit hex id counts (anything else falls back to fail_closed). */
static bool trace_id_r(const sl_otlp *o, size_t i, uint64_t *r, sl_str *id) {
    static const sl_field f = {SL_FIELD_SPAN_TRACE_ID, NULL, 0};
    if (!sl_otlp_get(o, i, &f, id) || id->len != 32) {
        return false;
    }
    for (size_t k = 0; k < 32; k++) {
        char ch = id->ptr[k];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
              (ch >= 'A' && ch <= 'F'))) {
            return false;
        }
    }
    return sl__sampling_hex_suffix(id->ptr, 32, r);
}

typedef struct trace_verdict {
    bool keep;
    bool write; /* write th */
    uint64_t th;
    bool th_zero; /* write "0" (keep all) */
} trace_verdict;

static trace_verdict trace_sample(const sl__policy *p, const sl_otlp *o,
                                  size_t i) {
    trace_verdict v = {0};
    static const sl_field tsf = {SL_FIELD_SPAN_TRACE_STATE, NULL, 0};
    sl__tracestate ts = {0};
    sl_str s;
    if (sl_otlp_get(o, i, &tsf, &s)) {
        sl__sampling_parse_tracestate(s.ptr, s.len, &ts);
    }
    if (ts.has_rv && ts.has_th && ts.rv < ts.th) {
        v.keep = true; /* inconsistent: keep, leave the tracestate alone */
        return v;
    }
    uint64_t t = sl__sampling_threshold(p->keep.ratio);
    uint64_t r = 0;
    bool have_r = false;
    sl_str id = {0};
    if (p->mode == SL_MODE_HASH_SEED && p->seed != 0) {
        static const sl_field f = {SL_FIELD_SPAN_TRACE_ID, NULL, 0};
        if (sl_otlp_get(o, i, &f, &id) && id.len > 0) {
            uint8_t le[4] = {(uint8_t)p->seed, (uint8_t)(p->seed >> 8),
                             (uint8_t)(p->seed >> 16),
                             (uint8_t)(p->seed >> 24)};
            uint64_t h = sl__fnv1a64(id.ptr, id.len);
            h = sl__fnv1a64_update(h, le, 4);
            r = h & SL_SAMPLING_MASK;
            have_r = true;
        }
    } else if (ts.has_rv) {
        r = ts.rv;
        have_r = true;
    } else {
        have_r = trace_id_r(o, i, &r, &id);
    }
    if (!have_r) {
        v.keep = !p->fail_closed;
        return v;
    }
    switch (p->mode) {
    case SL_MODE_PROPORTIONAL: {
        double p_in = 1.0;
        if (ts.has_th) {
            p_in = (double)(SL_SAMPLING_MAX - ts.th) / 72057594037927936.0;
        }
        uint64_t to = sl__sampling_threshold(p->keep.ratio * p_in);
        v.keep = r >= to;
        v.write = v.keep;
        v.th = to;
        break;
    }
    case SL_MODE_EQUALIZING:
        if (ts.has_th && ts.th >= t) {
            v.keep = true;
            v.write = true;
            v.th = ts.th;
            break;
        }
        v.keep = r >= t;
        v.write = v.keep;
        v.th = t;
        break;
    case SL_MODE_HASH_SEED:
    default:
        v.keep = r >= t;
        v.write = v.keep;
        v.th = t;
        break;
    }
    return v;
}

/* ---- transforms ---- */

static uint32_t run_op(sl_policy_ctx *c, const sl__op *op, sl_otlp *o, size_t i,
                       sl_status *rc) {
    switch (op->kind) {
    case SL_OP_REMOVE:
        return sl_otlp_remove(o, i, &op->field) ? 1 : 0;
    case SL_OP_REDACT:
        if (!op->re) {
            if (!sl_otlp_exists(o, i, &op->field)) {
                return 0;
            }
            *rc = sl_otlp_set(o, i, &op->field, op->value, op->value_len);
            return *rc == SL_OK;
        } else {
            sl_str v;
            if (!sl_otlp_get(o, i, &op->field, &v)) {
                return 0;
            }
            c->buf.len = 0;
            c->buf.failed = 0;
            size_t count = 0;
            *rc = sl_regex_replace(op->re, v.ptr, v.len, op->value,
                                   op->value_len, &c->buf, &count, NULL);
            if (*rc != SL_OK || count == 0) {
                return 0;
            }
            *rc = sl_otlp_set(o, i, &op->field, c->buf.len ? c->buf.ptr : "",
                              c->buf.len);
            return *rc == SL_OK;
        }
    case SL_OP_RENAME:
        if (!sl_otlp_exists(o, i, &op->field) ||
            sl__field_eq(&op->field, &op->to)) {
            return 0;
        }
        if (sl_otlp_exists(o, i, &op->to)) {
            if (!op->upsert) {
                return 0;
            }
            sl_otlp_remove(o, i, &op->to);
        }
        *rc = sl_otlp_move(o, i, &op->field, &op->to);
        if (*rc == SL_EINVAL) {
            *rc = SL_OK; /* a move the model cannot do is a no-op */
            return 0;
        }
        return *rc == SL_OK;
    case SL_OP_ADD:
    default:
        if (!op->upsert && sl_otlp_exists(o, i, &op->field)) {
            return 0;
        }
        *rc = sl_otlp_set(o, i, &op->field, op->value, op->value_len);
        if (*rc == SL_EINVAL) {
            *rc = SL_OK;
            return 0;
        }
        return *rc == SL_OK;
    }
}

/* ---- the whole evaluation ---- */

/* Add n to counter a of policy g (a is a field of set->stats[g]): into
 * the shared atomic, or into the context's tally when counts are held
 * back (the atomics of a policy share cache lines, and two threads
 * adding to them per record make those lines travel between cores). */
static void count(sl_policy_ctx *c, uint32_t g, _Atomic uint64_t *a,
                  uint64_t n) {
    if (!c->tally) {
        atomic_fetch_add_explicit(a, n, memory_order_relaxed);
        return;
    }
    sl__tally *t = &c->tally[g];
    if (!t->dirty) {
        t->dirty = true;
        c->dirty[c->ndirty++] = g;
    }
    t->v[(size_t)((char *)a - (char *)c->set->stats[g]) / sizeof(uint64_t)] +=
        n;
}

/* The transforms policy g ran on a kept record, into its counters. */
static void count_stages(sl_policy_ctx *c, uint32_t g, const sl__done *d) {
    sl__stats *pc = c->set->stats[g];
    if (d->applied) {
        count(c, g, &pc->transformed, d->applied);
    }
    for (int s = 0; s < SL_STAGE_COUNT; s++) {
        if (d->hits[s]) {
            count(c, g, &pc->stage_hits[s], d->hits[s]);
        }
        if (d->misses[s]) {
            count(c, g, &pc->stage_misses[s], d->misses[s]);
        }
    }
}

sl_status sl_policy_eval(sl_policy_ctx *c, sl_otlp *o, size_t i, unsigned flags,
                         sl_policy_result *res, sl_error *err) {
    sl_policy_result r = {SL_DECISION_NO_MATCH, true, SIZE_MAX, 0, 0};
    if (!c || !o || i >= sl_otlp_count(o)) {
        return sl__error(err, SL_EINVAL, NULL,
                         "no context, no batch or "
                         "record out of range");
    }
    sl_signal sig = sl_otlp_signal(o);
    if (sig > SL_SIGNAL_TRACE) {
        if (res) {
            *res = r;
        }
        return SL_OK;
    }
    const sl_policy_set *set = c->set;
    const sl__signal_set *ss = &set->sig[sig];
    uint32_t n = 0;
    sl_status rc = ss->n ? match_record(c, ss, o, i, &n) : SL_OK;
    if (rc != SL_OK) {
        return sl__error(err, rc, NULL, "pattern scan failed: %s",
                         sl_status_str(rc));
    }
    r.matched = n;
    if (n == 0) {
        if (res) {
            *res = r;
        }
        return SL_OK;
    }
    uint32_t win = c->matched[0];
    for (uint32_t k = 1; k < n; k++) {
        uint32_t p = c->matched[k];
        if (set->policies[ss->global[p]].restrict_ >
            set->policies[ss->global[win]].restrict_) {
            win = p;
        }
    }
    uint32_t g = ss->global[win];
    const sl__policy *wp = &set->policies[g];
    r.policy = g;
    trace_verdict tv = {0};
    switch (wp->keep.kind) {
    case SL_KEEP_NONE:
        r.decision = SL_DECISION_DROP;
        r.keep = false;
        break;
    case SL_KEEP_ALL:
        r.decision = SL_DECISION_KEEP;
        tv.th_zero = true;
        break;
    case SL_KEEP_RATE:
        r.keep = rate_allow(set, set->limiters[g], &wp->keep);
        r.decision = r.keep ? SL_DECISION_RATE_ALLOW : SL_DECISION_RATE_DENY;
        break;
    case SL_KEEP_PERCENT:
    default:
        if (sig == SL_SIGNAL_TRACE) {
            tv = trace_sample(wp, o, i);
            r.keep = tv.keep;
        } else {
            r.keep = log_sample(wp, o, i);
        }
        r.decision = r.keep ? SL_DECISION_SAMPLE_KEEP : SL_DECISION_SAMPLE_DROP;
        break;
    }
    /* act first, count after: a record whose transform fails is dropped,
     * and the counters must say so (transform_failed, not kept) */
    bool apply = (flags & SL_POLICY_APPLY) != 0;
    bool transformed = false; /* c->done[] holds per-policy op counts */
    const sl__policy *failed = wp;
    if (apply && !r.keep) {
        sl_otlp_drop(o, i);
    } else if (apply && sig == SL_SIGNAL_TRACE) {
        static const sl_field thf = {SL_FIELD_SPAN_SAMPLING_THRESHOLD, NULL, 0};
        if (tv.th_zero) {
            rc = sl_otlp_set(o, i, &thf, "0", 1);
        } else if (tv.write) {
            char th[16];
            size_t len = sl__sampling_encode(tv.th, wp->precision, th);
            rc = sl_otlp_set(o, i, &thf, th, len);
        }
    } else if (apply && sig == SL_SIGNAL_LOG) {
        /* transforms of every matching policy, in id order, only when
         * kept; matching is already over, so they cannot affect it */
        transformed = true;
        memset(c->done, 0, n * sizeof(*c->done));
        for (uint32_t k = 0; k < n && rc == SL_OK; k++) {
            const sl__policy *p = &set->policies[ss->global[c->matched[k]]];
            failed = p;
            sl__done *d = &c->done[k];
            for (uint32_t op = 0; op < p->nops && rc == SL_OK; op++) {
                uint32_t hit = (uint32_t)run_op(c, &p->ops[op], o, i, &rc);
                d->applied += hit;
                d->hits[p->ops[op].kind] += hit;
                d->misses[p->ops[op].kind] += !hit;
            }
            r.transforms += d->applied;
        }
    }
    if (rc != SL_OK) {
        /* never write a record half-transformed */
        sl_otlp_drop(o, i);
        r.keep = false;
        r.decision = SL_DECISION_FAILED;
        r.transforms = 0;
        transformed = false;
    }
    /* counters: kept => every matching policy a hit; dropped => the
     * winner a hit, the others a miss */
    for (uint32_t k = 0; k < n; k++) {
        uint32_t p = c->matched[k];
        uint32_t pg = ss->global[p];
        sl__stats *pc = set->stats[pg];
        count(c, pg, r.keep || p == win ? &pc->hits : &pc->misses, 1);
        if (transformed) {
            count_stages(c, pg, &c->done[k]);
        }
    }
    sl__stats *wc = set->stats[g];
    switch (r.decision) {
    case SL_DECISION_DROP:
        count(c, g, &wc->dropped, 1);
        break;
    case SL_DECISION_SAMPLE_DROP:
        count(c, g, &wc->sampled_out, 1);
        break;
    case SL_DECISION_RATE_DENY:
        count(c, g, &wc->rate_limited, 1);
        break;
    case SL_DECISION_FAILED:
        count(c, g, &wc->transform_failed, 1);
        break;
    default:
        count(c, g, &wc->kept, 1);
        break;
    }
    if (res) {
        *res = r;
    }
    if (rc != SL_OK) {
        return sl__error(err, rc, NULL,
                         "record %zu: policy %.64s: %s failed (%s); record "
                         "dropped",
                         i, failed->id,
                         sig == SL_SIGNAL_TRACE ? "threshold write"
                                                : "transform",
                         sl_status_str(rc));
    }
    return SL_OK;
}

sl_status sl_policy_apply(sl_policy_ctx *c, sl_otlp *o, sl_error *err) {
    if (!c || !o) {
        return sl__error(err, SL_EINVAL, NULL, "no context or no batch");
    }
    size_t n = sl_otlp_count(o);
    for (size_t i = 0; i < n; i++) {
        sl_status rc = sl_policy_eval(c, o, i, SL_POLICY_APPLY, NULL, err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

/* src/policy/compile.c: turn the parsed policies into the snapshot's match
 * structures, and own the set's life cycle (load, reload, accessors,
 * free). Leaves parsing to load.c, evaluation to eval.c and the counters
 * and rate windows (what a reload carries over) to state.c.
 *
 * The one idea (reference §4, policy-rs compiled.rs): per signal, every
 * distinct condition (a test: matchers that policies share are one) that
 * reads the same field goes into ONE key, literal tables plus a pattern
 * set whose ids are tests. A record then costs one scan per field, however
 * many policies there are, and each test that holds costs one step,
 * however many policies share it. Existence and typed tests sit beside
 * the keys, sorted by field so each field is read once per record. Each
 * policy is indexed by one test, its fast test (issue 11, the "fast
 * pattern" of Snort and Suricata): the one expected to hold least often,
 * chosen here from how many policies share it and its kind and length. */
#include <stdlib.h>

#include "match/cached.h"
#include "policy/private.h"

bool sl__field_eq(const sl_field *a, const sl_field *b) {
    if (a->kind != b->kind || a->path_len != b->path_len) {
        return false;
    }
    for (uint32_t i = 0; i < a->path_len; i++) {
        if (a->path[i].len != b->path[i].len ||
            memcmp(a->path[i].ptr, b->path[i].ptr, a->path[i].len) != 0) {
            return false;
        }
    }
    return true;
}

static int field_cmp(const sl_field *a, const sl_field *b) {
    if (a->kind != b->kind) {
        return a->kind < b->kind ? -1 : 1;
    }
    if (a->path_len != b->path_len) {
        return a->path_len < b->path_len ? -1 : 1;
    }
    for (uint32_t i = 0; i < a->path_len; i++) {
        size_t n =
            a->path[i].len < b->path[i].len ? a->path[i].len : b->path[i].len;
        int c = n ? memcmp(a->path[i].ptr, b->path[i].ptr, n) : 0;
        if (c != 0) {
            return c;
        }
        if (a->path[i].len != b->path[i].len) {
            return a->path[i].len < b->path[i].len ? -1 : 1;
        }
    }
    return 0;
}

/* One string test while its field's key is built. */
typedef struct pref {
    const sl__matcher *m;
    uint32_t test;
} pref;

static int pref_cmp(const void *a, const void *b) {
    const pref *x = a, *y = b;
    int c = field_cmp(&x->m->field, &y->m->field);
    if (c != 0) {
        return c;
    }
    return x->test < y->test ? -1 : x->test > y->test;
}

void sl__policy_fold(char *dst, const char *src, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        dst[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
}

uint64_t sl__policy_hash(const char *s, size_t n) {
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t h = 0x243f6a8885a308d3ull ^ (n * k);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8); /* the host's byte order: tables are local */
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    if (i < n) {
        uint64_t w = 0; /* a byte loop: a variable memcpy is a libc call */
        for (size_t b = 0; i + b < n; b++) {
            w |= (uint64_t)(unsigned char)s[i + b] << (8 * b);
        }
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

static int xkind(const sl__matcher *m) {
    switch (m->pat_kind) {
    case SL_PAT_EXACT:
        return SL_X_EXACT;
    case SL_PAT_PREFIX:
        return SL_X_PREFIX;
    case SL_PAT_SUFFIX:
        return SL_X_SUFFIX;
    default:
        return -1;
    }
}

static int size_cmp(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Build table `which` (kind * 2 + caseless) from the refs [i, j). */
static sl_status build_xtable(sl_policy_set *set, sl__xtable *t,
                              const pref *refs, size_t i, size_t j, int which,
                              sl_error *err) {
    uint32_t n = 0;
    for (size_t x = i; x < j; x++) {
        const sl__matcher *m = refs[x].m;
        n += xkind(m) >= 0 && xkind(m) * 2 + m->caseless == which;
    }
    if (n == 0) {
        return SL_OK;
    }
    bool ci = which & 1;
    uint64_t size = 16;
    while (size < (uint64_t)n * 2) {
        size *= 2;
    }
    t->mask = size - 1;
    t->heads = sl__arena_alloc(&set->arena, size * sizeof(uint32_t));
    t->e = sl__arena_alloc(&set->arena, n * sizeof(sl__exact));
    t->lens = sl__arena_alloc(&set->arena, n * sizeof(size_t));
    if (!t->heads || !t->e || !t->lens) {
        return sl__nomem(err);
    }
    memset(t->heads, 0xff, size * sizeof(uint32_t));
    for (size_t x = i; x < j; x++) {
        const sl__matcher *m = refs[x].m;
        if (xkind(m) < 0 || xkind(m) * 2 + m->caseless != which) {
            continue;
        }
        const char *text = m->text;
        if (ci) {
            char *f = sl__arena_alloc(&set->arena, m->len + 1);
            if (!f) {
                return sl__nomem(err);
            }
            sl__policy_fold(f, m->text, m->len);
            text = f;
        }
        uint64_t h = sl__policy_hash(text, m->len);
        sl__exact *e = &t->e[t->n];
        *e = (sl__exact){h, text, m->len, refs[x].test, t->heads[h & t->mask]};
        t->heads[h & t->mask] = t->n;
        t->lens[t->n++] = m->len;
    }
    qsort(t->lens, t->n, sizeof(size_t), size_cmp);
    uint32_t d = 0;
    for (uint32_t k = 0; k < t->n; k++) {
        if (d == 0 || t->lens[d - 1] != t->lens[k]) {
            t->lens[d++] = t->lens[k];
        }
    }
    t->nlens = d;
    for (uint32_t k = 0; k < d; k++) {
        if (t->lens[k] < 64) {
            t->lenmask |= 1ull << t->lens[k];
        } else {
            t->long_lens = true;
        }
    }
    /* the gram filter: the bytes every pattern pins at its anchored end;
     * exact tables hash the value once anyway: the lengths suffice */
    size_t gq = t->lens[0] < SL_GRAM_MAX ? t->lens[0] : SL_GRAM_MAX;
    if (gq > 0 && which / 2 != SL_X_EXACT) { /* exact: one hash anyway */
        uint64_t *bits =
            sl__arena_alloc(&set->arena, SL_GRAM_WORDS * sizeof(uint64_t));
        uint32_t *keys = sl__arena_alloc(&set->arena, sl__gramset_slots(t->n) *
                                                          sizeof(uint32_t));
        if (!bits || !keys) {
            return sl__nomem(err);
        }
        sl__gramset_init(&t->grams, t->n, (unsigned)gq, bits, keys);
        bool suffix = which / 2 == SL_X_SUFFIX;
        for (uint32_t k = 0; k < t->n; k++) {
            const unsigned char *u = (const unsigned char *)t->e[k].text;
            sl__gramset_add(&t->grams, suffix ? u + t->e[k].len - gq : u);
        }
        t->gq = (uint8_t)gq;
    }
    return SL_OK;
}

/* One key per field over the string tests refs[0, n) (one pref per test):
 * literal tables and a pattern set whose ids are tests. */
static sl_status build_keys(sl_policy_set *set, sl__signal_set *ss, pref *refs,
                            size_t n, sl_error *err) {
    qsort(refs, n, sizeof(*refs), pref_cmp);
    size_t groups = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || field_cmp(&refs[i].m->field, &refs[i - 1].m->field)) {
            groups++;
        }
    }
    ss->keys =
        sl__arena_calloc(&set->arena, (groups ? groups : 1) * sizeof(sl__key));
    if (!ss->keys) {
        return sl__nomem(err);
    }
    sl_pat *pats = sl__calloc(n ? n : 1, sizeof(sl_pat));
    unsigned *hints = sl__calloc(n ? n : 1, sizeof(unsigned));
    if (!pats || !hints) {
        sl__free(pats, (n ? n : 1) * sizeof(sl_pat));
        sl__free(hints, (n ? n : 1) * sizeof(unsigned));
        return sl__nomem(err);
    }
    sl_status rc = SL_OK;
    size_t i = 0;
    while (i < n && rc == SL_OK) {
        size_t j = i + 1;
        while (j < n && field_cmp(&refs[j].m->field, &refs[i].m->field) == 0) {
            j++;
        }
        sl__key *k = &ss->keys[ss->nkeys++];
        k->field = refs[i].m->field;
        for (int t = 0; t < SL_X_TABLES && rc == SL_OK; t++) {
            rc = build_xtable(set, &k->x[t], refs, i, j, t, err);
            k->any_ci = k->any_ci || ((t & 1) && k->x[t].n > 0);
            if (k->x[t].n > 0) {
                k->used[k->nused++] = (uint8_t)t;
            }
        }
        if (rc != SL_OK) {
            break;
        }
        size_t np = 0;
        for (size_t x = i; x < j; x++) {
            np += xkind(refs[x].m) < 0;
        }
        if (np == 0) {
            i = j;
            continue;
        }
        k->pat_test = sl__arena_alloc(&set->arena, np * sizeof(uint32_t));
        if (!k->pat_test) {
            rc = sl__nomem(err);
            break;
        }
        np = 0;
        for (size_t x = i; x < j; x++) {
            const sl__matcher *m = refs[x].m;
            if (xkind(m) >= 0) {
                continue;
            }
            pats[np] = (sl_pat){.kind = m->pat_kind,
                                .flags = m->caseless ? SL_PAT_CASELESS : 0u,
                                .text = m->text,
                                .len = m->len,
                                .id = (uint32_t)np,
                                .where = m->pos};
            hints[np] = m->width_hint;
            k->pat_test[np++] = refs[x].test;
        }
        rc = sl__patset_compile_cached(pats, np, set->regex_cache, hints,
                                       &k->set, NULL, err);
        i = j;
    }
    sl__free(pats, (n ? n : 1) * sizeof(sl_pat));
    sl__free(hints, (n ? n : 1) * sizeof(unsigned));
    return rc;
}

/* One matcher of an enabled policy while tests are assigned. */
typedef struct mref {
    const sl__matcher *m;
    uint32_t at; /* its place in ss->refs */
} mref;

static int value_cmp(const sl_value *a, const sl_value *b) {
    if (a->type != b->type) {
        return a->type < b->type ? -1 : 1;
    }
    switch (a->type) {
    case SL_VALUE_BOOL:
        return a->b - b->b;
    case SL_VALUE_INT:
        return a->i < b->i ? -1 : a->i > b->i;
    case SL_VALUE_DOUBLE:
        return memcmp(&a->d, &b->d, sizeof(double)); /* same bits: same */
    default:
        if (a->s.len != b->s.len) {
            return a->s.len < b->s.len ? -1 : 1;
        }
        return a->s.len ? memcmp(a->s.ptr, b->s.ptr, a->s.len) : 0;
    }
}

/* Order of matchers by the condition they test: equal = one test. Kind
 * first, then field, so each kind's tests come grouped by field. */
static int test_cmp(const sl__matcher *x, const sl__matcher *y) {
    if (x->kind != y->kind) {
        return x->kind < y->kind ? -1 : 1;
    }
    int c = field_cmp(&x->field, &y->field);
    if (c != 0) {
        return c;
    }
    switch (x->kind) {
    case SL_MATCHER_PATTERN:
        if (x->pat_kind != y->pat_kind) {
            return x->pat_kind < y->pat_kind ? -1 : 1;
        }
        if (x->caseless != y->caseless) {
            return x->caseless ? 1 : -1;
        }
        if (x->len != y->len) {
            return x->len < y->len ? -1 : 1;
        }
        return x->len ? memcmp(x->text, y->text, x->len) : 0;
    case SL_MATCHER_EXISTS:
        return x->should_exist - y->should_exist;
    default:
        if (x->typed.op != y->typed.op) {
            return x->typed.op < y->typed.op ? -1 : 1;
        }
        return value_cmp(&x->typed.lit, &y->typed.lit);
    }
}

static int mref_cmp(const void *a, const void *b) {
    const mref *x = a, *y = b;
    int c = test_cmp(x->m, y->m);
    if (c != 0) {
        return c;
    }
    return x->at < y->at ? -1 : x->at > y->at;
}

/* How many records a test is expected to pass, relative to an exact
 * literal: a fast test should hold rarely. Exact literals pin the whole
 * value; anchored literals and substrings less; a regex may match
 * anything; a short literal hits often; existence and typed compares
 * hold on most records that have the field. */
static uint64_t penalty(const sl__matcher *m) {
    uint64_t p = 1;
    switch (m->kind) {
    case SL_MATCHER_EXISTS:
        return 64;
    case SL_MATCHER_TYPED:
        return m->typed.op == SL_TYPED_EQ ? 4 : 16;
    default:
        break;
    }
    switch (m->pat_kind) {
    case SL_PAT_EXACT:
        p = 1;
        break;
    case SL_PAT_PREFIX:
    case SL_PAT_SUFFIX:
    case SL_PAT_CONTAINS:
        p = 2;
        break;
    default:
        p = 4;
        break;
    }
    return m->len < 3 ? p * 4 : p;
}

/* Assign tests (sharing conditions unless the set is the reference),
 * build the per-field keys and the existence and typed lists, and index
 * every policy by its fast test. */
static sl_status build_tests(sl_policy_set *set, sl__signal_set *ss, mref *mr,
                             size_t nm, sl_error *err) {
    sl_arena *a = &set->arena;
    qsort(mr, nm, sizeof(*mr), mref_cmp);
    uint32_t nt = 0;
    for (size_t i = 0; i < nm; i++) {
        if (i == 0 || set->reference || test_cmp(mr[i - 1].m, mr[i].m) != 0) {
            nt++;
        }
    }
    ss->ntests = nt;
    size_t npat = 0;
    const sl__matcher **rep = sl__calloc(nt ? nt : 1, sizeof(*rep));
    uint64_t *share = sl__calloc(nt ? nt : 1, sizeof(*share));
    pref *prefs = NULL;
    sl_status rc = SL_OK;
    ss->fast_off = sl__arena_calloc(a, ((size_t)nt + 1) * sizeof(uint32_t));
    ss->fast = sl__arena_calloc(a, (ss->n ? ss->n : 1) * sizeof(uint32_t));
    ss->exists = sl__arena_calloc(a, (nt ? nt : 1) * sizeof(sl__check));
    ss->typed = sl__arena_calloc(a, (nt ? nt : 1) * sizeof(sl__check));
    if (!rep || !share || !ss->fast_off || !ss->fast || !ss->exists ||
        !ss->typed) {
        rc = sl__nomem(err);
        goto done;
    }
    uint32_t t = 0;
    for (size_t i = 0; i < nm; i++) {
        if (i > 0 && (set->reference || test_cmp(mr[i - 1].m, mr[i].m) != 0)) {
            t++;
        }
        const sl__matcher *m = mr[i].m;
        ss->refs[mr[i].at] = (sl__ref){t, m->negate};
        share[t] += !m->negate;
        if (rep[t]) {
            continue;
        }
        rep[t] = m;
        if (m->kind == SL_MATCHER_PATTERN) {
            npat++;
        } else if (m->kind == SL_MATCHER_EXISTS) {
            ss->exists[ss->nexists++] = (sl__check){m->field, t, m};
        } else {
            ss->typed[ss->ntyped++] = (sl__check){m->field, t, m};
        }
    }
    /* the fast test of each policy: the least share x penalty */
    uint32_t *fast_of = ss->fast; /* borrowed as scratch, filled below */
    for (uint32_t p = 0; p < ss->n; p++) {
        uint32_t best = UINT32_MAX;
        uint64_t cost = UINT64_MAX;
        for (uint32_t r = ss->ref_off[p]; r < ss->ref_off[p + 1]; r++) {
            const sl__ref *ref = &ss->refs[r];
            uint64_t c = share[ref->test] * penalty(rep[ref->test]);
            if (!ref->negate && c < cost) {
                cost = c;
                best = ref->test;
            }
        }
        fast_of[p] = best;
        if (best != UINT32_MAX) {
            ss->fast_off[best + 1]++;
        } else if (ss->ref_off[p + 1] > ss->ref_off[p]) {
            ss->always[ss->nalways++] = p;
        }
    }
    for (uint32_t k = 0; k < nt; k++) {
        ss->fast_off[k + 1] += ss->fast_off[k];
    }
    /* place policies in ascending order per test; fast_off[k] walks on
     * to fast_off[k + 1] and is moved back after */
    uint32_t *fill = sl__calloc(ss->n ? ss->n : 1, sizeof(uint32_t));
    if (!fill) {
        rc = sl__nomem(err);
        goto done;
    }
    memcpy(fill, fast_of, ss->n * sizeof(uint32_t));
    for (uint32_t p = 0; p < ss->n; p++) {
        if (fill[p] != UINT32_MAX) {
            ss->fast[ss->fast_off[fill[p]]++] = p;
        }
    }
    for (uint32_t k = nt; k > 0; k--) {
        ss->fast_off[k] = ss->fast_off[k - 1];
    }
    ss->fast_off[0] = 0;
    sl__free(fill, (ss->n ? ss->n : 1) * sizeof(uint32_t));
    prefs = sl__calloc(npat ? npat : 1, sizeof(pref));
    if (!prefs) {
        rc = sl__nomem(err);
        goto done;
    }
    npat = 0;
    for (uint32_t k = 0; k < nt; k++) {
        if (rep[k]->kind == SL_MATCHER_PATTERN) {
            prefs[npat++] = (pref){rep[k], k};
        }
    }
    rc = build_keys(set, ss, prefs, npat, err);
done:
    sl__free(prefs, (npat ? npat : 1) * sizeof(pref));
    sl__free(rep, (nt ? nt : 1) * sizeof(*rep));
    sl__free(share, (nt ? nt : 1) * sizeof(*share));
    return rc;
}

static sl_status compile_signal(sl_policy_set *set, sl_signal sig,
                                sl_error *err) {
    sl__signal_set *ss = &set->sig[sig];
    uint32_t n = 0;
    size_t nm = 0;
    for (uint32_t g = 0; g < set->npolicies; g++) {
        const sl__policy *p = &set->policies[g];
        if (p->signal == sig) {
            n++;
            nm += p->enabled ? p->nmatchers : 0; /* disabled: left out */
        }
    }
    ss->n = n;
    sl_arena *a = &set->arena;
    ss->global = sl__arena_calloc(a, (n ? n : 1) * sizeof(uint32_t));
    ss->always = sl__arena_calloc(a, (n ? n : 1) * sizeof(uint32_t));
    ss->ref_off = sl__arena_calloc(a, ((size_t)n + 1) * sizeof(uint32_t));
    ss->refs = sl__arena_calloc(a, (nm ? nm : 1) * sizeof(sl__ref));
    mref *mr = sl__calloc(nm ? nm : 1, sizeof(mref));
    sl_status rc = SL_OK;
    if (!ss->global || !ss->always || !ss->ref_off || !ss->refs || !mr) {
        rc = sl__nomem(err);
        goto done;
    }
    uint32_t local = 0, at = 0;
    for (uint32_t g = 0; g < set->npolicies; g++) {
        const sl__policy *p = &set->policies[g];
        if (p->signal != sig) {
            continue;
        }
        ss->global[local] = g;
        ss->ref_off[local] = at;
        for (uint32_t m = 0; p->enabled && m < p->nmatchers; m++) {
            mr[at] = (mref){&p->matchers[m], at};
            at++;
        }
        local++;
    }
    ss->ref_off[local] = at;
    rc = build_tests(set, ss, mr, nm, err);
done:
    sl__free(mr, (nm ? nm : 1) * sizeof(mref));
    return rc;
}

sl_status sl__policy_compile(sl_policy_set *set, sl_error *err) {
    for (int s = 0; s < 3; s++) {
        sl_status rc = compile_signal(set, (sl_signal)s, err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

void sl__policy_compiled_free(sl_policy_set *set) {
    /* the arrays live in the set's arena; only the pattern sets and the
     * regexes are separately owned */
    for (int s = 0; s < 3; s++) {
        sl__signal_set *ss = &set->sig[s];
        for (uint32_t k = 0; k < ss->nkeys; k++) {
            sl_patset_free(ss->keys[k].set);
        }
        memset(ss, 0, sizeof(*ss));
    }
    for (uint32_t i = 0; i < set->npolicies; i++) {
        for (uint32_t o = 0; o < set->policies[i].nops; o++) {
            sl_regex_free(set->policies[i].ops[o].re);
        }
    }
}

/* ---- the set ---- */

static int policy_cmp(const void *a, const void *b) {
    const sl__policy *x = a, *y = b;
    size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;
    int c = memcmp(x->id, y->id, n);
    if (c != 0) {
        return c;
    }
    if (x->id_len != y->id_len) {
        return x->id_len < y->id_len ? -1 : 1;
    }
    /* equal ids: load order keeps the first one first */
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void free_policy_ops(sl__policy *p) {
    for (uint32_t o = 0; o < p->nops; o++) {
        sl_regex_free(p->ops[o].re);
        p->ops[o].re = NULL;
    }
}

/* Load docs into a new set whose state blocks come from prev (NULL: all
 * fresh): sl_policy_load and sl_policy_reload. */
static sl_status load_set(const sl_doc *const *docs, size_t n,
                          const sl_policy_opts *opts, const sl_policy_set *prev,
                          bool reference, sl_policy_set **out, sl_error *err) {
    if (!out || (!docs && n > 0)) {
        return sl__error(err, SL_EINVAL, NULL, "no output or no documents");
    }
    sl_policy_set *set = sl__calloc(1, sizeof(*set));
    if (!set) {
        return sl__nomem(err);
    }
    sl__arena_init(&set->arena);
    set->reference = reference;
    if (opts) {
        set->clock = opts->clock;
        set->clock_ctx = opts->clock_ctx;
        if (opts->regex_cache) {
            size_t len = strlen(opts->regex_cache) + 1;
            char *dir = sl__arena_alloc(&set->arena, len);
            if (!dir) {
                sl_policy_set_free(set);
                return sl__nomem(err);
            }
            memcpy(dir, opts->regex_cache, len);
            set->regex_cache = dir;
        }
    }
    sl__policy_vec v = {0};
    sl_status rc = SL_OK;
    for (size_t d = 0; d < n && rc == SL_OK; d++) {
        rc = sl__policy_parse_doc(set, docs[d], &v, err);
    }
    if (rc != SL_OK) {
        goto fail;
    }
    if (v.n > 0) {
        qsort(v.v, v.n, sizeof(*v.v), policy_cmp);
    }
    /* a repeated id is rejected: stats and winners are keyed by id */
    size_t kept = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (kept > 0 && v.v[kept - 1].id_len == v.v[i].id_len &&
            memcmp(v.v[kept - 1].id, v.v[i].id, v.v[i].id_len) == 0) {
            sl_error e = {0};
            sl_pos pos = sl_node_pos(v.v[i].doc, v.v[i].node);
            sl_pos first = sl_node_pos(v.v[kept - 1].doc, v.v[kept - 1].node);
            sl__error(&e, SL_ESCHEMA, &pos,
                      "policy %.*s: duplicate id (first defined at %s%s%u:%u)",
                      (int)(v.v[i].id_len > 64 ? 64 : v.v[i].id_len), v.v[i].id,
                      first.file && pos.file && strcmp(first.file, pos.file)
                          ? first.file
                          : "",
                      first.file && pos.file && strcmp(first.file, pos.file)
                          ? ":"
                          : "",
                      first.line, first.col);
            free_policy_ops(&v.v[i]);
            if (sl__errlist_push(&set->problems, &e) != SL_OK) {
                rc = sl__nomem(err);
                goto fail;
            }
            continue;
        }
        v.v[kept++] = v.v[i];
    }
    v.n = kept;
    set->npolicies = (uint32_t)v.n;
    set->policies =
        sl__arena_alloc(&set->arena, (v.n ? v.n : 1) * sizeof(sl__policy));
    if (!set->policies) {
        rc = sl__nomem(err);
        goto fail;
    }
    for (size_t i = 0; i < v.n; i++) {
        set->policies[i] = v.v[i];
        set->policies[i].node = NULL; /* the docs do not outlive the load */
        set->policies[i].doc = NULL;
    }
    sl__free(v.v, v.cap * sizeof(*v.v));
    v = (sl__policy_vec){0};
    rc = sl__policy_state_attach(set, prev, err);
    if (rc == SL_OK) {
        rc = sl__policy_compile(set, err);
    }
    if (rc != SL_OK) {
        sl_policy_set_free(set);
        return rc;
    }
    *out = set;
    return SL_OK;
fail:
    for (size_t i = 0; i < v.n; i++) {
        free_policy_ops(&v.v[i]);
    }
    sl__free(v.v, v.cap * sizeof(*v.v));
    set->npolicies = 0; /* ops of policies already freed above */
    sl_policy_set_free(set);
    return rc;
}

sl_status sl_policy_load(const sl_doc *const *docs, size_t n,
                         const sl_policy_opts *opts, sl_policy_set **out,
                         sl_error *err) {
    return load_set(docs, n, opts, NULL, false, out, err);
}

sl_status sl__policy_load_reference(const sl_doc *const *docs, size_t n,
                                    const sl_policy_opts *opts,
                                    sl_policy_set **out, sl_error *err) {
    return load_set(docs, n, opts, NULL, true, out, err);
}

sl_status sl_policy_reload(const sl_policy_set *prev, const sl_doc *const *docs,
                           size_t n, const sl_policy_opts *opts,
                           sl_policy_set **out, sl_error *err) {
    return load_set(docs, n, opts, prev, false, out, err);
}

/* Parse the files, then load_set. */
static sl_status load_files(const char *const *paths, size_t n,
                            const sl_policy_opts *opts,
                            const sl_policy_set *prev, sl_policy_set **out,
                            sl_error *err) {
    if (!out || (!paths && n > 0)) {
        return sl__error(err, SL_EINVAL, NULL, "no output or no paths");
    }
    sl_doc **docs = sl__calloc(n ? n : 1, sizeof(*docs));
    if (!docs) {
        return sl__nomem(err);
    }
    sl_status rc = SL_OK;
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        rc = sl_doc_parse_file(paths[i], opts ? opts->format : SL_FORMAT_AUTO,
                               NULL, &docs[i], err);
    }
    if (rc == SL_OK) {
        rc = load_set((const sl_doc *const *)docs, n, opts, prev, false, out,
                      err);
    }
    for (size_t i = 0; i < n; i++) {
        sl_doc_free(docs[i]);
    }
    sl__free(docs, (n ? n : 1) * sizeof(*docs));
    return rc;
}

sl_status sl_policy_load_files(const char *const *paths, size_t n,
                               const sl_policy_opts *opts, sl_policy_set **out,
                               sl_error *err) {
    return load_files(paths, n, opts, NULL, out, err);
}

sl_status sl_policy_reload_files(const sl_policy_set *prev,
                                 const char *const *paths, size_t n,
                                 const sl_policy_opts *opts,
                                 sl_policy_set **out, sl_error *err) {
    return load_files(paths, n, opts, prev, out, err);
}

void sl_policy_set_free(sl_policy_set *set) {
    if (!set) {
        return;
    }
    sl__policy_compiled_free(set);
    sl__policy_state_release(set);
    sl__errlist_free(&set->problems);
    sl__errlist_free(&set->warnings);
    sl__arena_free(&set->arena);
    sl__free(set, sizeof(*set));
}

size_t sl_policy_problem_count(const sl_policy_set *set) {
    return set ? set->problems.n : 0;
}

const sl_error *sl_policy_problem(const sl_policy_set *set, size_t i) {
    return set && i < set->problems.n ? &set->problems.v[i] : NULL;
}

size_t sl_policy_warning_count(const sl_policy_set *set) {
    return set ? set->warnings.n : 0;
}

const sl_error *sl_policy_warning(const sl_policy_set *set, size_t i) {
    return set && i < set->warnings.n ? &set->warnings.v[i] : NULL;
}

static uint64_t kind_bit(const sl_field *f) {
    return (unsigned)f->kind < 64 ? 1ull << f->kind : 0;
}

uint64_t sl_policy_reads(const sl_policy_set *set, sl_signal sig) {
    uint64_t bits = 0;
    for (uint32_t i = 0; set && i < set->npolicies; i++) {
        const sl__policy *p = &set->policies[i];
        if (p->signal != sig) {
            continue;
        }
        for (uint32_t k = 0; k < p->nmatchers; k++) {
            bits |= kind_bit(&p->matchers[k].field);
        }
        if (p->has_sample_key) {
            bits |= kind_bit(&p->sample_key);
        }
        for (uint32_t k = 0; k < p->nops; k++) {
            bits |= kind_bit(&p->ops[k].field) | kind_bit(&p->ops[k].to);
        }
    }
    return bits;
}

void sl_policy_lazy_load(const sl_policy_set *set, sl_otlp *o, bool on) {
    /* one mask for all signals: a load builds only its own signal's
     * slots, so another signal's bits cost at most a few slots in vain */
    sl_otlp_set_lazy(o, on,
                     sl_policy_reads(set, SL_SIGNAL_LOG) |
                         sl_policy_reads(set, SL_SIGNAL_TRACE) |
                         sl_policy_reads(set, SL_SIGNAL_METRIC));
    sl_otlp_set_lazy_signals(o, 1u << SL_SIGNAL_LOG | 1u << SL_SIGNAL_TRACE |
                                    1u << SL_SIGNAL_METRIC);
}

size_t sl_policy_count(const sl_policy_set *set) {
    return set ? set->npolicies : 0;
}

const char *sl_policy_id(const sl_policy_set *set, size_t i) {
    return set && i < set->npolicies ? set->policies[i].id : NULL;
}

sl_signal sl_policy_signal(const sl_policy_set *set, size_t i) {
    return set && i < set->npolicies ? set->policies[i].signal : SL_SIGNAL_NONE;
}

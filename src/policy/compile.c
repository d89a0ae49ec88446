/* src/policy/compile.c: turn the parsed policies into the snapshot's match
 * structures, and own the set's life cycle (load, reload, accessors,
 * free). Leaves parsing to load.c, evaluation to eval.c and the counters
 * and rate windows (what a reload carries over) to state.c.
 *
 * The one idea (reference §4, policy-rs compiled.rs): per signal, every
 * string matcher of every policy that reads the same (field selector,
 * negated) pair goes into ONE pattern set, whose pattern ids map back to
 * the policy. A record then costs one scan per distinct pair, however many
 * policies there are. Existence and typed checks sit beside the sets,
 * sorted by field so each field is read once per record. */
#include <stdlib.h>

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

typedef struct pref {
    const sl__matcher *m;
    uint32_t policy; /* signal-local */
    uint32_t seq;    /* keeps the sort stable */
} pref;

static int pref_cmp(const void *a, const void *b) {
    const pref *x = a, *y = b;
    int c = field_cmp(&x->m->field, &y->m->field);
    if (c != 0) {
        return c;
    }
    if (x->m->negate != y->m->negate) {
        return x->m->negate ? 1 : -1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
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
        *e =
            (sl__exact){h, text, m->len, refs[x].policy, t->heads[h & t->mask]};
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

static sl_status build_keys(sl_policy_set *set, sl__signal_set *ss, pref *refs,
                            size_t n, sl_error *err) {
    qsort(refs, n, sizeof(*refs), pref_cmp);
    size_t groups = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || pref_cmp(&(pref){refs[i].m, 0, 0},
                               &(pref){refs[i - 1].m, 0, 0}) != 0) {
            groups++;
        }
    }
    ss->keys =
        sl__arena_calloc(&set->arena, (groups ? groups : 1) * sizeof(sl__key));
    if (!ss->keys) {
        return sl__nomem(err);
    }
    sl_pat *pats = sl__calloc(n ? n : 1, sizeof(sl_pat));
    if (!pats) {
        return sl__nomem(err);
    }
    sl_status rc = SL_OK;
    size_t i = 0;
    while (i < n && rc == SL_OK) {
        size_t j = i + 1;
        while (j < n && field_cmp(&refs[j].m->field, &refs[i].m->field) == 0 &&
               refs[j].m->negate == refs[i].m->negate) {
            j++;
        }
        sl__key *k = &ss->keys[ss->nkeys++];
        k->field = refs[i].m->field;
        k->negated = refs[i].m->negate;
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
        k->pat_policy = sl__arena_alloc(&set->arena, np * sizeof(uint32_t));
        if (!k->pat_policy) {
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
            k->pat_policy[np++] = refs[x].policy;
        }
        rc = sl_patset_compile(pats, np, &k->set, err);
        i = j;
    }
    sl__free(pats, (n ? n : 1) * sizeof(sl_pat));
    return rc;
}

static int check_cmp(const void *a, const void *b) {
    const sl__check *x = a, *y = b;
    int c = field_cmp(&x->field, &y->field);
    if (c != 0) {
        return c;
    }
    return x->policy < y->policy ? -1 : x->policy > y->policy;
}

static sl_status compile_signal(sl_policy_set *set, sl_signal sig,
                                sl_error *err) {
    sl__signal_set *ss = &set->sig[sig];
    uint32_t n = 0;
    size_t npat = 0, nex = 0, nty = 0;
    for (uint32_t g = 0; g < set->npolicies; g++) {
        const sl__policy *p = &set->policies[g];
        if (p->signal != sig) {
            continue;
        }
        n++;
        if (!p->enabled) {
            continue; /* compiled but never matched: left out */
        }
        for (uint32_t m = 0; m < p->nmatchers; m++) {
            switch (p->matchers[m].kind) {
            case SL_MATCHER_PATTERN:
                npat++;
                break;
            case SL_MATCHER_EXISTS:
                nex++;
                break;
            default:
                nty++;
                break;
            }
        }
    }
    ss->n = n;
    sl_arena *a = &set->arena;
    ss->global = sl__arena_calloc(a, (n ? n : 1) * sizeof(uint32_t));
    ss->always = sl__arena_calloc(a, (n ? n : 1) * sizeof(uint32_t));
    ss->exists = sl__arena_calloc(a, (nex ? nex : 1) * sizeof(sl__check));
    ss->typed = sl__arena_calloc(a, (nty ? nty : 1) * sizeof(sl__check));
    pref *refs = sl__calloc(npat ? npat : 1, sizeof(pref));
    sl_status rc = SL_OK;
    if (!ss->global || !ss->always || !ss->exists || !ss->typed || !refs) {
        rc = sl__nomem(err);
        goto done;
    }
    uint32_t local = 0;
    size_t r = 0;
    for (uint32_t g = 0; g < set->npolicies; g++) {
        const sl__policy *p = &set->policies[g];
        if (p->signal != sig) {
            continue;
        }
        ss->global[local] = g;
        if (p->enabled) {
            if (p->required == 0 && p->nmatchers > 0) {
                ss->always[ss->nalways++] = local;
            }
            for (uint32_t m = 0; m < p->nmatchers; m++) {
                const sl__matcher *mt = &p->matchers[m];
                if (mt->kind == SL_MATCHER_PATTERN) {
                    refs[r] = (pref){mt, local, (uint32_t)r};
                    r++;
                } else if (mt->kind == SL_MATCHER_EXISTS) {
                    ss->exists[ss->nexists++] =
                        (sl__check){mt->field, local, mt};
                } else {
                    ss->typed[ss->ntyped++] = (sl__check){mt->field, local, mt};
                }
            }
        }
        local++;
    }
    qsort(ss->exists, ss->nexists, sizeof(sl__check), check_cmp);
    qsort(ss->typed, ss->ntyped, sizeof(sl__check), check_cmp);
    rc = build_keys(set, ss, refs, r, err);
done:
    sl__free(refs, (npat ? npat : 1) * sizeof(pref));
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

size_t sl_policy_count(const sl_policy_set *set) {
    return set ? set->npolicies : 0;
}

const char *sl_policy_id(const sl_policy_set *set, size_t i) {
    return set && i < set->npolicies ? set->policies[i].id : NULL;
}

sl_signal sl_policy_signal(const sl_policy_set *set, size_t i) {
    return set && i < set->npolicies ? set->policies[i].signal : SL_SIGNAL_NONE;
}

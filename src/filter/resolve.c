/* src/filter/resolve.c: scope identity and scope resolution. Derives what
 * the selectors see for a code object (module name, project-relative path,
 * object name; reference §1.4), runs the three scope pattern sets once, and
 * caches the resolution in the filter under (filename, qualname, hint).
 * Value decisions are decide.c's.
 *
 * The one idea: the cache lives inside the filter, so two filters with
 * different chains can never share an answer (upstream's co_extra slot
 * could, reference §1.10); and a resolution keeps only what deciding needs
 * (exec, value default, the matching rules that carry patterns), which
 * keeps 1,000 scopes well under 200 KB. */
#include <sluice/filter.h>

#include <stdio.h>
#include <sys/stat.h>

#include "base/base.h"
#include "filter/private.h"

static bool valid_segment(const char *s, size_t n) {
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return true;
}

/* upstream is_valid_module_name: non-empty, every dotted segment non-empty
 * and [A-Za-z0-9_] (a leading digit is allowed) */
static bool valid_module(const char *s, size_t n) {
    if (n == 0) {
        return false;
    }
    size_t b = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!valid_segment(s + b, i - b)) {
                return false;
            }
            b = i + 1;
        }
    }
    return true;
}

static bool ends_with(const char *s, size_t n, const char *suf) {
    size_t k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

/* (a) module name from a relative path: parts joined with '.', ".py"
 * stripped from the last, "__init__.py" dropped. */
static void module_from_rel(const char *rel, size_t n, sl_buf *out) {
    size_t b = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && rel[i] != '/') {
            continue;
        }
        size_t cl = i - b;
        const char *c = rel + b;
        b = i + 1;
        if (cl == 0) {
            continue;
        }
        if (i == n) {
            if (cl == 11 && memcmp(c, "__init__.py", 11) == 0) {
                break;
            }
            if (ends_with(c, cl, ".py")) {
                cl -= 3;
            }
        }
        if (out->len > 0) {
            sl__buf_putc(out, '.');
        }
        sl__buf_append(out, c, cl);
    }
}

/* (c) walk up through directories holding __init__.py, then the stem. */
static void module_from_packages(const char *file, sl_buf *out) {
    size_t n = strlen(file);
    size_t slash = n;
    while (slash > 0 && file[slash - 1] != '/') {
        slash--;
    }
    const char *base = file + slash;
    size_t bl = n - slash;
    size_t dot = bl;
    while (dot > 0 && base[dot - 1] != '.') {
        dot--;
    }
    size_t stem_len = dot > 1 ? dot - 1 : bl;
    bool is_init = stem_len == 8 && memcmp(base, "__init__", 8) == 0;
    if (!is_init && !valid_segment(base, stem_len)) {
        return;
    }
    /* collect package directories from the innermost outwards */
    size_t starts[64], lens[64], np = 0;
    size_t end = slash > 0 ? slash - 1 : 0; /* index of the '/' */
    sl_buf probe = {0};
    while (end > 0 && np < 64) {
        size_t b = end;
        while (b > 0 && file[b - 1] != '/') {
            b--;
        }
        probe.len = 0;
        sl__buf_append(&probe, file, end);
        sl__buf_append(&probe, "/__init__.py", 12);
        sl__buf_putc(&probe, '\0');
        struct stat st;
        if (probe.failed || !valid_segment(file + b, end - b) ||
            stat(probe.ptr, &st) != 0 || !S_ISREG(st.st_mode)) {
            break;
        }
        starts[np] = b;
        lens[np] = end - b;
        np++;
        end = b > 0 ? b - 1 : 0;
    }
    sl__buf_free(&probe);
    for (size_t i = np; i > 0; i--) {
        if (out->len > 0) {
            sl__buf_putc(out, '.');
        }
        sl__buf_append(out, file + starts[i - 1], lens[i - 1]);
    }
    if (!is_init) {
        if (out->len > 0) {
            sl__buf_putc(out, '.');
        }
        sl__buf_append(out, base, stem_len);
    }
}

static size_t count_components(const char *s) {
    size_t n = 0;
    bool in = false;
    for (; *s; s++) {
        if (*s == '/') {
            in = false;
        } else if (!in) {
            in = true;
            n++;
        }
    }
    return n;
}

static void terminate(sl_buf *b) {
    sl__buf_putc(b, '\0');
    if (!b->failed) {
        b->len--;
    }
}

sl_status sl__filter_identity(sl_filter_ctx *ctx, const char *filename,
                              const char *qualname, const char *hint,
                              bool *has_module, bool *has_rel) {
    sl_filter *f = ctx->f;
    ctx->path.len = 0;
    ctx->rel.len = 0;
    ctx->module.len = 0;
    ctx->object.len = 0;
    /* 1. POSIX form: '.' dropped, '..' kept, a leading '/' kept */
    if (filename[0] == '/') {
        sl__buf_putc(&ctx->path, '/');
    }
    for (const char *s = filename; *s;) {
        size_t cl = strcspn(s, "/");
        if (cl > 0 && !(cl == 1 && s[0] == '.')) {
            if (ctx->path.len > 0 && ctx->path.ptr[ctx->path.len - 1] != '/') {
                sl__buf_putc(&ctx->path, '/');
            }
            sl__buf_append(&ctx->path, s, cl);
        }
        s += cl;
        while (*s == '/') {
            s++;
        }
    }
    terminate(&ctx->path);
    if (ctx->path.failed) {
        return SL_ENOMEM;
    }
    /* 2. relative path: the remainder with the fewest components over all
     * project roots, the earliest root winning ties */
    const char *best = NULL;
    size_t best_n = SIZE_MAX;
    for (size_t i = 0; i < f->nroots; i++) {
        const char *rest = NULL;
        if (sl__filter_strip_prefix(ctx->path.ptr, f->roots[i], &rest)) {
            size_t c = count_components(rest);
            if (c < best_n) {
                best_n = c;
                best = rest;
            }
        }
    }
    if (best) {
        sl__filter_norm_path(best, strlen(best), false, &ctx->rel);
    }
    terminate(&ctx->rel);
    *has_rel = ctx->rel.len > 0;
    /* 3. module name: the hint when valid, else from the relative path,
     * else by walking __init__.py packages */
    size_t hb = 0, he = hint ? strlen(hint) : 0;
    while (hb < he &&
           (hint[hb] == ' ' || (hint[hb] >= '\t' && hint[hb] <= '\r'))) {
        hb++;
    }
    while (he > hb && (hint[he - 1] == ' ' ||
                       (hint[he - 1] >= '\t' && hint[he - 1] <= '\r'))) {
        he--;
    }
    if (hint && valid_module(hint + hb, he - hb)) {
        sl__buf_append(&ctx->module, hint + hb, he - hb);
    } else {
        if (*has_rel) {
            module_from_rel(ctx->rel.ptr, ctx->rel.len, &ctx->module);
        }
        if (!valid_module(ctx->module.ptr, ctx->module.len)) {
            ctx->module.len = 0;
            module_from_packages(ctx->path.ptr, &ctx->module);
            if (!valid_module(ctx->module.ptr, ctx->module.len)) {
                ctx->module.len = 0;
            }
        }
    }
    terminate(&ctx->module);
    *has_module = ctx->module.len > 0;
    /* 4. object name */
    size_t ql = qualname ? strlen(qualname) : 0;
    if (*has_module) {
        sl__buf_append(&ctx->object, ctx->module.ptr, ctx->module.len);
        if (ql > 0) {
            sl__buf_putc(&ctx->object, '.');
            sl__buf_append(&ctx->object, qualname, ql);
        }
    } else if (ql > 0) {
        sl__buf_append(&ctx->object, qualname, ql);
    }
    terminate(&ctx->object);
    if (ctx->rel.failed || ctx->module.failed || ctx->object.failed) {
        return SL_ENOMEM;
    }
    return SL_OK;
}

static int set_bit(uint32_t id, size_t from, size_t to, void *p) {
    SL_UNUSED(from);
    SL_UNUSED(to);
    uint64_t *bits = p;
    bits[id >> 6] |= 1ull << (id & 63);
    return 0;
}

static uint64_t key_hash(const char *filename, const char *qualname,
                         const char *hint) {
    uint64_t h = sl__filter_hash(filename, strlen(filename));
    h = h * 31 + (qualname ? sl__filter_hash(qualname, strlen(qualname)) : 1);
    h = h * 31 + (hint ? sl__filter_hash(hint, strlen(hint)) : 1);
    return h ^ (h >> 29);
}

static const char *scope_qual(const sl_filter_scope *s) {
    return s->qual_len == SL__NO_KEY ? NULL
                                     : (const char *)(s->force + s->nforce);
}

static const char *scope_hint(const sl_filter_scope *s) {
    if (s->hint_len == SL__NO_KEY) {
        return NULL;
    }
    const char *q = (const char *)(s->force + s->nforce);
    return s->qual_len == SL__NO_KEY ? q : q + s->qual_len + 1;
}

static bool key_eq(const char *stored, uint16_t slen, const char *s) {
    if (!s) {
        return slen == SL__NO_KEY;
    }
    return slen != SL__NO_KEY && strlen(s) == slen &&
           memcmp(stored, s, slen) == 0;
}

static const sl_filter_scope *lookup(const sl_filter *f, uint64_t h,
                                     const char *filename, const char *qualname,
                                     const char *hint) {
    if (f->nbuckets == 0) {
        return NULL;
    }
    for (const sl_filter_scope *s = f->buckets[h & (f->nbuckets - 1)]; s;
         s = s->next) {
        if (s->hash == h && strcmp(s->filename, filename) == 0 &&
            key_eq(scope_qual(s), s->qual_len, qualname) &&
            key_eq(scope_hint(s), s->hint_len, hint)) {
            return s;
        }
    }
    return NULL;
}

/* One copy of each file name: code objects of one file share it. */
static const char *intern_file(sl_filter *f, const char *name) {
    if ((f->nfiles + 1) * 2 > f->cfiles) {
        size_t nc = f->cfiles ? f->cfiles * 2 : 64;
        const char **t = sl__calloc(nc, sizeof(*t));
        if (!t) {
            return NULL;
        }
        for (size_t i = 0; i < f->cfiles; i++) {
            if (f->files[i]) {
                size_t j = sl__filter_hash(f->files[i], strlen(f->files[i])) &
                           (nc - 1);
                while (t[j]) {
                    j = (j + 1) & (nc - 1);
                }
                t[j] = f->files[i];
            }
        }
        sl__free(f->files, f->cfiles * sizeof(*t));
        f->files = t;
        f->cfiles = nc;
    }
    size_t len = strlen(name);
    size_t j = sl__filter_hash(name, len) & (f->cfiles - 1);
    while (f->files[j]) {
        if (strcmp(f->files[j], name) == 0) {
            return f->files[j];
        }
        j = (j + 1) & (f->cfiles - 1);
    }
    char *copy = sl__arena_strndup(&f->scope_arena, name, len);
    if (copy) {
        f->files[j] = copy;
        f->nfiles++;
    }
    return copy;
}

static sl_status grow_buckets(sl_filter *f) {
    size_t nb = f->nbuckets ? f->nbuckets * 2 : 256;
    sl_filter_scope **b = sl__calloc(nb, sizeof(*b));
    if (!b) {
        return SL_ENOMEM;
    }
    for (size_t i = 0; i < f->nbuckets; i++) {
        sl_filter_scope *s = f->buckets[i];
        while (s) {
            sl_filter_scope *next = s->next;
            s->next = b[s->hash & (nb - 1)];
            b[s->hash & (nb - 1)] = s;
            s = next;
        }
    }
    sl__free(f->buckets, f->nbuckets * sizeof(*b));
    f->buckets = b;
    f->nbuckets = nb;
    return SL_OK;
}

void sl__filter_cache_free(sl_filter *f) {
    sl__free(f->files, f->cfiles * sizeof(*f->files));
    f->files = NULL;
    f->cfiles = f->nfiles = 0;
    sl__free(f->buckets, f->nbuckets * sizeof(*f->buckets));
    f->buckets = NULL;
    f->nbuckets = 0;
    f->nscopes = 0;
}

sl_status sl__filter_resolve(sl_filter_ctx *ctx, const char *filename,
                             const char *qualname, const char *hint,
                             const sl_filter_scope **out, sl_error *err) {
    sl_filter *f = ctx->f;
    uint64_t h = key_hash(filename, qualname, hint);
    pthread_rwlock_rdlock(&f->lock);
    const sl_filter_scope *hit = lookup(f, h, filename, qualname, hint);
    pthread_rwlock_unlock(&f->lock);
    if (hit) {
        *out = hit;
        return SL_OK;
    }
    bool has_module = false, has_rel = false;
    sl_status rc = sl__filter_identity(ctx, filename, qualname, hint,
                                       &has_module, &has_rel);
    if (rc != SL_OK) {
        return sl__nomem(err);
    }
    memset(ctx->bits, 0, ctx->nbits_words * sizeof(uint64_t));
    struct {
        int kind;
        const sl_buf *b;
        bool on;
    } cands[3] = {
        {SL__SEL_PKG, &ctx->module, has_module},
        {SL__SEL_FILE, has_rel ? &ctx->rel : &ctx->path, true},
        {SL__SEL_OBJ, &ctx->object, ctx->object.len > 0},
    };
    for (int i = 0; i < 3; i++) {
        const sl_patset *set = f->sets[cands[i].kind];
        if (!set || !cands[i].on) {
            continue;
        }
        rc = sl_patset_scan(set, cands[i].b->ptr, cands[i].b->len, ctx->scratch,
                            set_bit, ctx->bits);
        if (rc != SL_OK) {
            return sl__error(err, rc, NULL, "scope selector scan failed");
        }
    }
    /* the last matching rule decides exec and value_default, field by
     * field (reference §1.5) */
    int exec = f->default_exec, vdef = f->default_value;
    uint32_t vsource = f->default_value_source;
    int32_t last = -1;
    for (size_t w = 0; w < ctx->nbits_words; w++) {
        uint64_t word = ctx->bits[w];
        while (word) {
            uint32_t r = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(word));
            word &= word - 1;
            const sl__frule *rule = &f->rules[r];
            if (rule->exec >= 0) {
                exec = rule->exec;
            }
            if (rule->vdef >= 0) {
                vdef = rule->vdef;
                vsource = rule->source;
            }
            last = (int32_t)r;
        }
    }
    /* sluice keeps the patterns of every matching rule (issue 4, item 5),
     * last rule first; under a drop default only rules from the source
     * that set drop or later count (as upstream) */
    size_t nforce = 0;
    for (size_t w = ctx->nbits_words; w > 0; w--) {
        uint64_t word = ctx->bits[w - 1];
        while (word) {
            int top = 63 - __builtin_clzll(word);
            word &= ~(1ull << top);
            uint32_t r = (uint32_t)((w - 1) * 64 + (size_t)top);
            const sl__frule *rule = &f->rules[r];
            if (rule->npatterns == 0 ||
                (vdef == SL_FILTER_DROP && rule->source < vsource)) {
                continue;
            }
            if (nforce < UINT16_MAX) {
                ctx->force[nforce++] = r;
            }
        }
    }
    pthread_rwlock_wrlock(&f->lock);
    hit = lookup(f, h, filename, qualname, hint);
    if (hit) {
        pthread_rwlock_unlock(&f->lock);
        *out = hit;
        return SL_OK;
    }
    rc = SL_OK;
    if (f->nscopes >= SL__FILTER_MAX_SCOPES) {
        rc = sl__error(err, SL_ELIMIT, NULL, "too many scopes (limit %u)",
                       (unsigned)SL__FILTER_MAX_SCOPES);
        goto unlock;
    }
    if (f->nscopes + 1 > f->nbuckets / 4 * 3 && grow_buckets(f) != SL_OK) {
        rc = sl__nomem(err);
        goto unlock;
    }
    size_t ql = qualname ? strlen(qualname) + 1 : 0;
    size_t hl = hint ? strlen(hint) + 1 : 0;
    const char *file = intern_file(f, filename);
    sl_filter_scope *s =
        file ? sl__arena_alloc(&f->scope_arena,
                               sizeof(*s) + nforce * sizeof(uint32_t) + ql + hl)
             : NULL;
    if (!s) {
        rc = sl__nomem(err);
        goto unlock;
    }
    s->hash = h;
    s->filename = file;
    s->qual_len = qualname ? (uint16_t)(ql - 1) : SL__NO_KEY;
    s->hint_len = hint ? (uint16_t)(hl - 1) : SL__NO_KEY;
    char *keys = (char *)(s->force + nforce);
    if (qualname) {
        memcpy(keys, qualname, ql);
    }
    if (hint) {
        memcpy(keys + ql, hint, hl);
    }
    s->rule = last;
    s->exec = (uint8_t)exec;
    s->vdef = (uint8_t)vdef;
    s->nforce = (uint16_t)nforce;
    if (nforce > 0) {
        memcpy(s->force, ctx->force, nforce * sizeof(uint32_t));
    }
    s->next = f->buckets[h & (f->nbuckets - 1)];
    f->buckets[h & (f->nbuckets - 1)] = s;
    f->nscopes++;
    if (exec == SL_FILTER_SKIP) {
        atomic_fetch_add(&f->scopes_skipped, 1);
    }
    *out = s;
unlock:
    pthread_rwlock_unlock(&f->lock);
    return rc;
}

sl_status sl_filter_classify(sl_filter_ctx *ctx, const char *filename,
                             const char *qualname, const char *module_hint,
                             const sl_filter_scope **out, sl_error *err) {
    if (!ctx || !filename || !out) {
        return sl__error(err, SL_EINVAL, NULL, "no context, filename or out");
    }
    if (strlen(filename) > SL__FILTER_MAX_NAME ||
        (qualname && strlen(qualname) > SL__FILTER_MAX_NAME) ||
        (module_hint && strlen(module_hint) > SL__FILTER_MAX_NAME)) {
        return sl__error(err, SL_ELIMIT, NULL,
                         "filename, qualname or module hint longer than %d "
                         "bytes",
                         SL__FILTER_MAX_NAME);
    }
    return sl__filter_resolve(ctx, filename, qualname, module_hint, out, err);
}

sl_filter_exec sl_filter_scope_exec(const sl_filter_scope *s) {
    return s ? (sl_filter_exec)s->exec : SL_FILTER_TRACE;
}

sl_filter_action sl_filter_scope_value_default(const sl_filter_scope *s) {
    return s ? (sl_filter_action)s->vdef : SL_FILTER_ALLOW;
}

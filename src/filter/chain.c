/* src/filter/chain.c: composing a chain of filter sources (built-ins,
 * inline text, files, CODETRACER_TRACE_FILTER, discovery), sealing it into
 * one pattern set per selector kind, and reporting it: the source summary,
 * `filter show`'s JSON, the counters and the `trace_filter` metadata.
 * Checking one source is schema.c's; scopes and values are resolve.c's and
 * decide.c's.
 *
 * The one idea: sources are appended in the order the caller adds them
 * (upstream: builtin-default, framework builtin, discovered project file,
 * env, explicit files) and rules keep that global order, so every
 * pattern-set id compares directly as "later in the chain". */
/* realpath() is XSI */
#define _XOPEN_SOURCE 700

#include <sluice/filter.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "filter/private.h"

static _Atomic uint64_t next_filter_id = 1;

sl_filter *sl_filter_new(void) {
    sl_filter *f = sl__calloc(1, sizeof(*f));
    if (!f) {
        return NULL;
    }
    sl__arena_init(&f->arena);
    sl__arena_init(&f->scope_arena);
    f->default_exec = SL__EXEC_UNSET;
    f->default_value = SL__ACT_UNSET;
    f->id = atomic_fetch_add(&next_filter_id, 1);
    if (pthread_rwlock_init(&f->lock, NULL) != 0) {
        sl__free(f, sizeof(*f));
        return NULL;
    }
    if (pthread_mutex_init(&f->ctx_lock, NULL) != 0) {
        pthread_rwlock_destroy(&f->lock);
        sl__free(f, sizeof(*f));
        return NULL;
    }
    f->lock_init = true;
    return f;
}

void sl_filter_free(sl_filter *f) {
    if (!f) {
        return;
    }
    for (int k = 0; k < SL__SEL_KIND_COUNT; k++) {
        sl_patset_free(f->sets[k]);
    }
    sl__filter_cache_free(f);
    sl__free(f->sources, f->csources * sizeof(*f->sources));
    sl__free(f->rules, f->crules * sizeof(*f->rules));
    sl__free(f->pats, f->cpats * sizeof(*f->pats));
    sl__free(f->roots, f->nroots * sizeof(*f->roots));
    sl__arena_free(&f->arena);
    sl__arena_free(&f->scope_arena);
    if (f->lock_init) {
        pthread_rwlock_destroy(&f->lock);
        pthread_mutex_destroy(&f->ctx_lock);
    }
    sl__free(f, sizeof(*f));
}

void sl_filter_set_reporter(sl_filter *f, sl_filter_report_fn fn, void *ctx) {
    if (f) {
        f->report = fn;
        f->report_ctx = ctx;
    }
}

uint64_t sl_filter_id(const sl_filter *f) {
    return f ? f->id : 0;
}

/* Report a chain-level problem (no file position) and return its code. */
static sl_status chain_error(sl_filter *f, sl_error *err, sl_status code,
                             const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sl_status chain_error(sl_filter *f, sl_error *err, sl_status code,
                             const char *fmt, ...) {
    sl_error e = {0};
    va_list ap;
    va_start(ap, fmt);
    sl__verror(&e, code, NULL, fmt, ap);
    va_end(ap);
    if (err) {
        *err = e;
    }
    if (f->report) {
        f->report(&e, f->report_ctx);
    }
    return code;
}

sl_status sl_filter_add_text(sl_filter *f, const char *label, const char *text,
                             size_t len, sl_error *err) {
    if (!f || !label || (!text && len > 0)) {
        return sl__error(err, SL_EINVAL, NULL, "no filter, label or text");
    }
    if (f->ready) {
        return sl__error(err, SL_ESTATE, NULL, "filter chain already ready");
    }
    char path[300];
    snprintf(path, sizeof(path), "<inline:%s>", label);
    return sl__filter_load_source(f, path, "", text ? text : "", len, false,
                                  err);
}

sl_status sl_filter_add_builtin(sl_filter *f, const char *name, sl_error *err) {
    if (!f || !name) {
        return sl__error(err, SL_EINVAL, NULL, "no filter or name");
    }
    size_t len = 0;
    const char *text = sl__filter_builtin_text(name, &len);
    if (!text) {
        char q[64];
        sl__filter_squote(q, sizeof(q), name, strlen(name));
        return chain_error(f, err, SL_ENOTFOUND, "unknown built-in filter %s",
                           q);
    }
    if (f->ready) {
        return sl__error(err, SL_ESTATE, NULL, "filter chain already ready");
    }
    char path[300];
    snprintf(path, sizeof(path), "<inline:%s>", name);
    return sl__filter_load_source(f, path, "", text, len, true, err);
}

/* The project root of a filter file: the parent of the nearest ancestor
 * directory named .codetracer, else the file's own directory. */
static void project_root(const char *abs, sl_buf *out) {
    size_t n = strlen(abs);
    size_t end = n;
    while (end > 0 && abs[end - 1] != '/') {
        end--;
    }
    size_t dir_end = end > 1 ? end - 1 : end; /* the file's directory */
    size_t e = dir_end;
    while (e > 0) {
        size_t b = e;
        while (b > 0 && abs[b - 1] != '/') {
            b--;
        }
        if (e - b == 11 && memcmp(abs + b, ".codetracer", 11) == 0) {
            size_t r = b > 1 ? b - 1 : b;
            sl__buf_append(out, abs, r);
            sl__buf_putc(out, '\0');
            out->len--;
            return;
        }
        e = b > 0 ? b - 1 : 0;
    }
    sl__buf_append(out, abs, dir_end);
    sl__buf_putc(out, '\0');
    out->len--;
}

static sl_status add_one_path(sl_filter *f, const char *seg, size_t n,
                              sl_error *err) {
    sl_buf p = {0};
    if (seg[0] == '~' && (n == 1 || seg[1] == '/')) {
        const char *home = getenv("HOME");
        sl__buf_append(&p, home ? home : "", home ? strlen(home) : 0);
        sl__buf_append(&p, seg + 1, n - 1);
    } else {
        sl__buf_append(&p, seg, n);
    }
    sl__buf_putc(&p, '\0');
    if (p.failed) {
        sl__buf_free(&p);
        return sl__nomem(err);
    }
    sl_status rc = SL_OK;
    char *text = NULL;
    size_t len = 0;
    sl_buf root = {0};
    char abs[PATH_MAX];
    struct stat st;
    if (stat(p.ptr, &st) != 0 || !realpath(p.ptr, abs)) {
        rc = chain_error(f, err, SL_ENOTFOUND,
                         "trace filter '%s' does not exist", p.ptr);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc =
            chain_error(f, err, SL_EIO, "trace filter '%s' is not a file", abs);
        goto done;
    }
    sl_error re = {0};
    rc = sl__read_file(abs, &text, &len, &re);
    if (rc != SL_OK) {
        rc = chain_error(f, err, rc, "failed to read trace filter '%s': %s",
                         abs, re.msg);
        goto done;
    }
    project_root(abs, &root);
    if (root.failed) {
        rc = sl__nomem(err);
        goto done;
    }
    rc = sl__filter_load_source(f, abs, root.ptr ? root.ptr : "", text, len,
                                false, err);
done:
    if (text) {
        sl__free(text, len + 1);
    }
    sl__buf_free(&root);
    sl__buf_free(&p);
    return rc;
}

sl_status sl_filter_add_paths(sl_filter *f, const char *spec, sl_error *err) {
    if (!f || !spec) {
        return sl__error(err, SL_EINVAL, NULL, "no filter or spec");
    }
    if (f->ready) {
        return sl__error(err, SL_ESTATE, NULL, "filter chain already ready");
    }
    size_t added = 0;
    const char *s = spec;
    sl_status first = SL_OK;
    for (;;) {
        const char *sep = strstr(s, "::");
        size_t n = sep ? (size_t)(sep - s) : strlen(s);
        size_t b = 0, e = n;
        while (b < e && (s[b] == ' ' || (s[b] >= '\t' && s[b] <= '\r'))) {
            b++;
        }
        while (e > b &&
               (s[e - 1] == ' ' || (s[e - 1] >= '\t' && s[e - 1] <= '\r'))) {
            e--;
        }
        if (e > b) {
            added++;
            sl_error e1 = {0};
            sl_status rc = add_one_path(f, s + b, e - b, &e1);
            if (rc != SL_OK && first == SL_OK) {
                first = rc;
                if (err) {
                    *err = e1;
                }
            }
        }
        if (!sep) {
            break;
        }
        s = sep + 2;
    }
    if (added == 0) {
        return chain_error(f, err, SL_EINVAL,
                           "trace_filter must resolve to at least one path");
    }
    return first;
}

sl_status sl_filter_add_env(sl_filter *f, sl_error *err) {
    if (!f) {
        return sl__error(err, SL_EINVAL, NULL, "no filter");
    }
    const char *v = getenv("CODETRACER_TRACE_FILTER");
    if (!v || !*v) {
        return SL_OK;
    }
    return sl_filter_add_paths(f, v, err);
}

sl_status sl_filter_discover(sl_filter *f, const char *program, bool *found,
                             sl_error *err) {
    if (found) {
        *found = false;
    }
    if (!f) {
        return sl__error(err, SL_EINVAL, NULL, "no filter");
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd))) {
        return sl__error(err, SL_EIO, NULL, "cannot read working directory");
    }
    sl_buf dir = {0};
    if (!program || !*program || strcmp(program, "<unknown>") == 0) {
        sl__buf_append(&dir, cwd, strlen(cwd));
    } else {
        if (program[0] != '/') {
            sl__buf_append(&dir, cwd, strlen(cwd));
            sl__buf_putc(&dir, '/');
        }
        sl__buf_append(&dir, program, strlen(program));
        sl__buf_putc(&dir, '\0');
        struct stat st;
        if (!dir.failed && !(stat(dir.ptr, &st) == 0 && S_ISDIR(st.st_mode))) {
            size_t k = dir.len - 1; /* drop the last component */
            while (k > 0 && dir.ptr[k - 1] != '/') {
                k--;
            }
            dir.len = k > 1 ? k - 1 : k;
        } else {
            dir.len--;
        }
    }
    sl_buf cand = {0};
    sl_status rc = SL_OK;
    for (;;) {
        if (dir.failed) {
            rc = sl__nomem(err);
            break;
        }
        cand.len = 0;
        sl__buf_append(&cand, dir.ptr, dir.len);
        sl__buf_append(&cand, "/.codetracer/trace-filter.toml", 30);
        sl__buf_putc(&cand, '\0');
        if (cand.failed) {
            rc = sl__nomem(err);
            break;
        }
        struct stat st;
        if (stat(cand.ptr, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = add_one_path(f, cand.ptr, cand.len - 1, err);
            if (rc == SL_OK && found) {
                *found = true;
            }
            break;
        }
        if (dir.len == 0) {
            break; /* "/" itself was the last candidate */
        }
        size_t k = dir.len;
        while (k > 0 && dir.ptr[k - 1] != '/') {
            k--;
        }
        dir.len = k > 0 ? k - 1 : 0;
    }
    sl__buf_free(&cand);
    sl__buf_free(&dir);
    return rc;
}

static sl_status add_root(sl_filter *f, const char *root) {
    for (size_t i = 0; i < f->nroots; i++) {
        if (strcmp(f->roots[i], root) == 0) {
            return SL_OK;
        }
    }
    const char **r = sl__realloc(f->roots, f->nroots * sizeof(*r),
                                 (f->nroots + 1) * sizeof(*r));
    if (!r) {
        return SL_ENOMEM;
    }
    f->roots = r;
    f->roots[f->nroots++] = root;
    return SL_OK;
}

sl_status sl_filter_ready(sl_filter *f, sl_error *err) {
    if (!f) {
        return sl__error(err, SL_EINVAL, NULL, "no filter");
    }
    if (f->ready) {
        return sl__error(err, SL_ESTATE, NULL, "filter chain already ready");
    }
    if (f->nsources == 0) {
        return sl__error(err, SL_EINVAL, NULL,
                         "no trace filter sources supplied");
    }
    if (f->default_exec < 0) {
        return sl__error(err, SL_ESCHEMA, NULL,
                         "composed filters never set 'scope.default_exec'");
    }
    if (f->default_value < 0) {
        return sl__error(
            err, SL_ESCHEMA, NULL,
            "composed filters never set 'scope.default_value_action'");
    }
    for (size_t i = 0; i < f->nsources; i++) {
        if (add_root(f, f->sources[i].root) != SL_OK) {
            return sl__nomem(err);
        }
    }
    size_t cap = f->nrules > f->npats ? f->nrules : f->npats;
    sl_pat *pats = sl__calloc(cap ? cap : 1, sizeof(*pats));
    if (!pats) {
        return sl__nomem(err);
    }
    sl_status rc = SL_OK;
    for (int k = 0; k < SL__SEL_KIND_COUNT && rc == SL_OK; k++) {
        size_t n = 0;
        if (k < SL__SEL_ARG) {
            for (size_t i = 0; i < f->nrules; i++) {
                if (f->rules[i].sel.kind == k) {
                    sl__filter_selector_pat(&f->rules[i].sel, (uint32_t)i,
                                            &pats[n++]);
                }
            }
        } else {
            for (size_t i = 0; i < f->npats; i++) {
                if (f->pats[i].sel.kind == k) {
                    sl__filter_selector_pat(&f->pats[i].sel, (uint32_t)i,
                                            &pats[n++]);
                }
            }
        }
        if (n > 0) {
            rc = sl_patset_compile(pats, n, &f->sets[k], err);
        }
    }
    sl__free(pats, (cap ? cap : 1) * sizeof(*pats));
    if (rc != SL_OK) {
        for (int k = 0; k < SL__SEL_KIND_COUNT; k++) {
            sl_patset_free(f->sets[k]);
            f->sets[k] = NULL;
        }
        return rc;
    }
    f->ready = true;
    return SL_OK;
}

void sl_filter_io(const sl_filter *f, bool *capture,
                  const char *const **streams, size_t *nstreams) {
    const sl__fsource *last = NULL;
    for (size_t i = 0; f && i < f->nsources; i++) {
        if (f->sources[i].has_io) {
            last = &f->sources[i];
        }
    }
    if (capture) {
        *capture = last ? last->io_capture : false;
    }
    if (streams) {
        *streams = last ? last->io_order : NULL;
    }
    if (nstreams) {
        *nstreams = last ? last->nio : 0;
    }
}

size_t sl_filter_source_count(const sl_filter *f) {
    return f ? f->nsources : 0;
}

sl_status sl_filter_source(const sl_filter *f, size_t i,
                           sl_filter_source_info *out) {
    if (!f || !out || i >= f->nsources) {
        return SL_EINVAL;
    }
    const sl__fsource *s = &f->sources[i];
    out->name = s->name;
    out->version = s->version;
    out->sha256 = s->sha256;
    out->path = s->path;
    out->rules = s->nrules;
    return SL_OK;
}

sl_status sl__filter_json_strn(sl_buf *b, const char *s, size_t n) {
    /* The filter module writes only small, flat objects; a local escaper
     * keeps it independent of the JSON writer's tree API. */
    static const char hex[] = "0123456789abcdef";
    sl__buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        sl__buf_append(b, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            sl__buf_append(b, esc, 2);
        } else if (c == '\n') {
            sl__buf_append(b, "\\n", 2);
        } else if (c == '\t') {
            sl__buf_append(b, "\\t", 2);
        } else if (c == '\r') {
            sl__buf_append(b, "\\r", 2);
        } else {
            sl__buf_append(b, esc, 6);
        }
    }
    sl__buf_append(b, s + run, n - run);
    return sl__buf_putc(b, '"');
}

sl_status sl__filter_json_str(sl_buf *b, const char *s) {
    if (!s) {
        return sl__buf_append(b, "null", 4);
    }
    return sl__filter_json_strn(b, s, strlen(s));
}

static const char *exec_name(int e) {
    return e == SL_FILTER_TRACE ? "trace" : e == SL_FILTER_SKIP ? "skip" : NULL;
}

const char *sl_filter_action_name(sl_filter_action a) {
    switch (a) {
    case SL_FILTER_REDACT:
        return "redact";
    case SL_FILTER_DROP:
        return "drop";
    default:
        return "allow";
    }
}

static sl_status finish(sl_buf *out, sl_error *err) {
    if (out->failed) {
        return sl__error(err, SL_ENOMEM, NULL, "out of memory");
    }
    return SL_OK;
}

sl_status sl_filter_write_chain(const sl_filter *f, sl_buf *out,
                                sl_error *err) {
    if (!f || !out) {
        return sl__error(err, SL_EINVAL, NULL, "no filter or output");
    }
    sl__buf_append(out, "{\"filters\":[", 12);
    for (size_t i = 0; i < f->nsources; i++) {
        const sl__fsource *s = &f->sources[i];
        sl__buf_append(out, i ? ",{" : "{", i ? 2 : 1);
        sl__buf_append(out, "\"name\":", 7);
        sl__filter_json_str(out, s->name);
        sl__buf_printf(out, ",\"version\":%u,\"sha256\":\"%s\",\"path\":",
                       s->version, s->sha256);
        sl__filter_json_str(out, s->path);
        sl__buf_append(out, ",\"rules\":[", 10);
        for (uint32_t r = 0; r < s->nrules; r++) {
            const sl__frule *rule = &f->rules[s->first_rule + r];
            sl__buf_append(out, r ? ",{" : "{", r ? 2 : 1);
            sl__buf_append(out, "\"selector\":", 11);
            sl__filter_json_str(out, rule->sel.raw);
            sl__buf_append(out, ",\"exec\":", 8);
            sl__filter_json_str(out, exec_name(rule->exec));
            sl__buf_append(out, ",\"value_default\":", 17);
            sl__filter_json_str(
                out, rule->vdef < 0
                         ? NULL
                         : sl_filter_action_name((sl_filter_action)rule->vdef));
            sl__buf_append(out, ",\"reason\":", 10);
            sl__filter_json_str(out, rule->reason);
            sl__buf_append(out, ",\"value_patterns\":[", 19);
            for (uint32_t j = 0; j < rule->npatterns; j++) {
                const sl__fpattern *p = &f->pats[rule->first_pattern + j];
                sl__buf_append(out, j ? ",{" : "{", j ? 2 : 1);
                sl__buf_append(out, "\"selector\":", 11);
                sl__filter_json_str(out, p->sel.raw);
                sl__buf_append(out, ",\"action\":", 10);
                sl__filter_json_str(
                    out, sl_filter_action_name((sl_filter_action)p->action));
                sl__buf_append(out, ",\"reason\":", 10);
                sl__filter_json_str(out, p->reason);
                sl__buf_putc(out, '}');
            }
            sl__buf_append(out, "]}", 2);
        }
        sl__buf_append(out, "]}", 2);
    }
    sl__buf_append(out, "]}", 2);
    return finish(out, err);
}

void sl_filter_get_stats(sl_filter *f, sl_filter_stats *out) {
    memset(out, 0, sizeof(*out));
    if (!f) {
        return;
    }
    out->scopes_skipped = atomic_load(&f->scopes_skipped);
    pthread_mutex_lock(&f->ctx_lock);
    for (int k = 0; k < SL_FILTER_KIND_COUNT; k++) {
        out->value_redactions[k] =
            atomic_load_explicit(&f->retired.red[k], memory_order_relaxed);
        out->value_drops[k] =
            atomic_load_explicit(&f->retired.drop[k], memory_order_relaxed);
        for (sl_filter_ctx *c = f->ctxs; c; c = c->next) {
            out->value_redactions[k] +=
                atomic_load_explicit(&c->counts.red[k], memory_order_relaxed);
            out->value_drops[k] +=
                atomic_load_explicit(&c->counts.drop[k], memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&f->ctx_lock);
}

static void write_kinds(sl_buf *out, const uint64_t *v) {
    /* sorted keys, as upstream writes trace_metadata.json */
    sl__buf_printf(out,
                   "{\"argument\":%llu,\"attribute\":%llu,\"global\":%llu,"
                   "\"local\":%llu,\"return\":%llu}",
                   (unsigned long long)v[SL_FILTER_ARG],
                   (unsigned long long)v[SL_FILTER_ATTR],
                   (unsigned long long)v[SL_FILTER_GLOBAL],
                   (unsigned long long)v[SL_FILTER_LOCAL],
                   (unsigned long long)v[SL_FILTER_RET]);
}

sl_status sl_filter_write_metadata(sl_filter *f, sl_buf *out, sl_error *err) {
    if (!f || !out) {
        return sl__error(err, SL_EINVAL, NULL, "no filter or output");
    }
    sl_filter_stats st;
    sl_filter_get_stats(f, &st);
    sl__buf_append(out, "{\"filters\":[", 12);
    for (size_t i = 0; i < f->nsources; i++) {
        const sl__fsource *s = &f->sources[i];
        sl__buf_append(out, i ? ",{\"name\":" : "{\"name\":", i ? 9 : 8);
        sl__filter_json_str(out, s->name);
        sl__buf_append(out, ",\"path\":", 8);
        sl__filter_json_str(out, s->path);
        sl__buf_printf(out, ",\"sha256\":\"%s\",\"version\":%u}", s->sha256,
                       s->version);
    }
    sl__buf_printf(out, "],\"stats\":{\"scopes_skipped\":%llu,",
                   (unsigned long long)st.scopes_skipped);
    sl__buf_append(out, "\"value_drops\":", 14);
    write_kinds(out, st.value_drops);
    sl__buf_append(out, ",\"value_redactions\":", 20);
    write_kinds(out, st.value_redactions);
    sl__buf_append(out, "}}", 2);
    return finish(out, err);
}

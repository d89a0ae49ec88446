/* bench/bench_filter.c: the trace-filter engine on upstream's workload
 * (reference/trace-filters-upstream.md §3, conformance perf_cases): 100
 * code objects (10 modules x 10 functions) under bench_pkg/, 50 locals
 * each (or 500), 10,000 events round-robin, each event a cached scope
 * lookup plus one decision per local.
 *
 * What is timed (best of several runs):
 *   warm_plan   the recorder's hot path: the scope pointer kept per code
 *               object (as in co_extra) and a per-code-object decision
 *               vector (sl_filter_plan) read by variable slot; the event's
 *               redactions and drops counted with sl_filter_count_n
 *   warm_name   the same events through sl_filter_decide (per-context
 *               cache keyed by scope, kind and name)
 *   classify    a warm sl_filter_classify (cache lookup by strings)
 *   first_decision   one pattern-set pass for a never-seen name against a
 *               filter with 50 local patterns (sl_filter_plan, no cache)
 *   first_resolution a never-seen scope against a chain of 50 rules
 *   memory      bytes held by 1,000 cached scopes (scope arena in use, hash
 *               buckets, file-name table); per-name caches reported apart
 *
 * Usage: bench_filter FILTER.toml [--names N] [--builtin] */
/* realpath() */
#define _XOPEN_SOURCE 700

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/filter.h>

#include "base/base.h"
#include "filter/private.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const sl_error *err) {
    fprintf(stderr, "bench_filter: %s: %s:%u:%u: %s\n", what, err->file,
            err->line, err->col, err->msg);
    exit(1);
}

enum {
    NCODE = 100,
    EVENTS = 10000
};

typedef struct code {
    char file[1024];
    char qual[64];
    const sl_filter_scope *scope; /* the host's per-code-object cache */
    uint8_t *plan;
} code;

static const char *const base_names[50] = {
    "public_field_0",    "public_field_1",    "public_field_2",
    "public_field_3",    "public_field_4",    "public_field_5",
    "public_field_6",    "public_field_7",    "public_field_8",
    "public_field_9",    "public_field_10",   "public_field_11",
    "public_field_12",   "public_field_13",   "public_field_14",
    "secret_field_0",    "secret_field_1",    "secret_field_2",
    "secret_field_3",    "secret_field_4",    "secret_field_5",
    "secret_field_6",    "secret_field_7",    "secret_field_8",
    "secret_field_9",    "secret_field_10",   "secret_field_11",
    "secret_field_12",   "secret_field_13",   "secret_field_14",
    "token_0",           "token_1",           "token_2",
    "token_3",           "token_4",           "token_5",
    "token_6",           "token_7",           "token_8",
    "token_9",           "password_hash",     "api_key",
    "credit_card",       "session_id",        "metric_latency",
    "metric_throughput", "metric_error_rate", "masked_value",
    "debug_flag",        "trace_id"};

static sl_filter *load(const char *path, bool builtin, sl_filter_ctx **ctx) {
    sl_filter *f = sl_filter_new();
    sl_error err = {0};
    if (!f) {
        exit(1);
    }
    if (builtin && sl_filter_add_builtin(f, "builtin-default", &err)) {
        die("builtin", &err);
    }
    if (sl_filter_add_paths(f, path, &err) != SL_OK) {
        die(path, &err);
    }
    if (sl_filter_ready(f, &err) != SL_OK ||
        sl_filter_ctx_new(f, ctx, &err) != SL_OK) {
        die("ready", &err);
    }
    return f;
}

static sl_filter *load_text(const char *text, sl_filter_ctx **ctx) {
    sl_filter *f = sl_filter_new();
    sl_error err = {0};
    if (!f || sl_filter_add_text(f, "synthetic", text, strlen(text), &err) ||
        sl_filter_ready(f, &err) || sl_filter_ctx_new(f, ctx, &err)) {
        die("synthetic", &err);
    }
    return f;
}

/* Project root of the bench filter: its own directory (no .codetracer). */
static void root_of(const char *path, char *out, size_t cap) {
    char *r = realpath(path, NULL);
    snprintf(out, cap, "%s", r ? r : path);
    free(r);
    char *slash = strrchr(out, '/');
    if (slash) {
        *slash = '\0';
    }
}

static void workload(const char *root, code *codes) {
    /* root is at most 511 bytes (root_of), so file[1024] never cuts */
    size_t k = 0;
    for (int m = 0; m < 10; m++) {
        char file[1024];
        const char *kind;
        int idx;
        if (m < 6) {
            idx = m;
            snprintf(file, sizeof(file),
                     "%s/bench_pkg/services/api/module_%d.py", root, idx);
            kind = "api_handler";
        } else if (m < 9) {
            idx = m - 6;
            snprintf(file, sizeof(file),
                     "%s/bench_pkg/jobs/worker/module_%d.py", root, idx);
            kind = "worker_task";
        } else {
            idx = 0;
            snprintf(file, sizeof(file),
                     "%s/bench_pkg/external/integration_0.py", root);
            kind = "integration_op";
        }
        for (int j = 0; j < 10; j++, k++) {
            snprintf(codes[k].file, sizeof(codes[k].file), "%s", file);
            snprintf(codes[k].qual, sizeof(codes[k].qual), "%s_%d_%d", kind,
                     idx, j);
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_filter FILTER.toml [--names N] "
                        "[--builtin]\n");
        return 2;
    }
    size_t nnames = 50;
    bool builtin = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--names") == 0 && i + 1 < argc) {
            nnames = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--builtin") == 0) {
            builtin = true;
        }
    }
    if (nnames == 0 || nnames > 5000) {
        nnames = 50;
    }
    /* names: the 50 upstream locals, then the same with _r1, _r2, ... */
    sl_str *names = calloc(nnames, sizeof(*names));
    char(*store)[48] = calloc(nnames, sizeof(*store));
    for (size_t i = 0; i < nnames; i++) {
        if (i < 50) {
            snprintf(store[i], sizeof(store[i]), "%s", base_names[i]);
        } else {
            snprintf(store[i], sizeof(store[i]), "%s_r%zu", base_names[i % 50],
                     i / 50);
        }
        names[i].ptr = store[i];
        names[i].len = strlen(store[i]);
    }
    sl_filter_ctx *ctx = NULL;
    sl_filter *f = load(argv[1], builtin, &ctx);
    char root[512];
    root_of(argv[1], root, sizeof(root));
    root[sizeof(root) - 1] = '\0';
    code *codes = calloc(NCODE, sizeof(*codes));
    workload(root, codes);
    sl_error err = {0};
    size_t skipped = 0;
    for (size_t c = 0; c < NCODE; c++) {
        if (sl_filter_classify(ctx, codes[c].file, codes[c].qual, NULL,
                               &codes[c].scope, &err) != SL_OK) {
            die("classify", &err);
        }
        skipped += sl_filter_scope_exec(codes[c].scope) == SL_FILTER_SKIP;
        codes[c].plan = malloc(nnames);
        if (sl_filter_plan(ctx, codes[c].scope, SL_FILTER_LOCAL, names, nnames,
                           codes[c].plan, &err) != SL_OK) {
            die("plan", &err);
        }
    }
    /* warm_plan */
    double best_plan = 1e9, best_name = 1e9, best_cls = 1e9;
    unsigned long sink = 0;
    for (int rep = 0; rep < 20; rep++) {
        double t0 = now();
        for (size_t e = 0; e < EVENTS; e++) {
            code *cd = &codes[e % NCODE];
            const sl_filter_scope *s = cd->scope; /* cached scope lookup */
            sink += sl_filter_scope_exec(s);
            const uint8_t *plan = cd->plan;
            uint64_t red = 0, drop = 0;
            for (size_t i = 0; i < nnames; i++) {
                /* a recorder encodes, redacts or drops value i here */
                red += plan[i] == SL_FILTER_REDACT;
                drop += plan[i] == SL_FILTER_DROP;
            }
            sl_filter_count_n(ctx, SL_FILTER_LOCAL, SL_FILTER_REDACT, red);
            sl_filter_count_n(ctx, SL_FILTER_LOCAL, SL_FILTER_DROP, drop);
            sink += red;
        }
        double t = (now() - t0) / EVENTS;
        best_plan = t < best_plan ? t : best_plan;
    }
    /* warm_name: first a warming pass, then timed passes */
    for (int rep = 0; rep < 6; rep++) {
        double t0 = now();
        for (size_t e = 0; e < EVENTS; e++) {
            code *cd = &codes[e % NCODE];
            for (size_t i = 0; i < nnames; i++) {
                sink += sl_filter_decide(ctx, cd->scope, SL_FILTER_LOCAL,
                                         names[i].ptr, names[i].len);
            }
        }
        double t = (now() - t0) / EVENTS;
        if (rep > 0) {
            best_name = t < best_name ? t : best_name;
        }
    }
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        for (size_t e = 0; e < EVENTS; e++) {
            const sl_filter_scope *s = NULL;
            code *cd = &codes[e % NCODE];
            sl_filter_classify(ctx, cd->file, cd->qual, NULL, &s, &err);
            sink += (uintptr_t)s & 1;
        }
        double t = (now() - t0) / EVENTS;
        best_cls = t < best_cls ? t : best_cls;
    }
    sl_filter_stats st;
    sl_filter_get_stats(f, &st);
    printf("%s names=%zu%s: warm_plan %.1f ns/event, warm_name %.1f "
           "ns/event, classify_warm %.1f ns, scopes_skipped %zu, local "
           "redactions %llu (sink %lu)\n",
           strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1], nnames,
           builtin ? " +builtin" : "", best_plan * 1e9, best_name * 1e9,
           best_cls * 1e9, skipped,
           (unsigned long long)st.value_redactions[SL_FILTER_LOCAL], sink & 1);
    size_t dec_bytes = ctx->cinames * sizeof(*ctx->inames) +
                       ctx->cvecs * sizeof(*ctx->vecs) + ctx->vec_bytes +
                       ctx->names.total;
    printf("  per-name caches: plans %zu B (100 x %zu), decision cache %zu "
           "B\n",
           (size_t)NCODE * nnames, nnames, dec_bytes);
    sl_filter_ctx_free(ctx);
    sl_filter_free(f);
    for (size_t c = 0; c < NCODE; c++) {
        free(codes[c].plan);
    }
    free(codes);

    if (nnames != 50 || builtin) {
        free(names);
        free(store);
        return 0;
    }
    /* first_decision against 50 patterns (globs and regexes) */
    sl_buf t = {0};
    sl__buf_printf(&t, "[meta]\nname = \"p50\"\nversion = 1\n[scope]\n"
                       "default_exec = \"trace\"\n"
                       "default_value_action = \"allow\"\n"
                       "[[scope.rules]]\nselector = \"pkg:glob:*\"\n");
    for (int i = 0; i < 50; i++) {
        if (i % 5 == 4) {
            sl__buf_printf(&t,
                           "[[scope.rules.value_patterns]]\nselector = "
                           "'local:regex:^(kind%d|sort%d)_\\w+$'\naction = "
                           "\"redact\"\n",
                           i, i);
        } else {
            sl__buf_printf(&t,
                           "[[scope.rules.value_patterns]]\nselector = "
                           "\"local:glob:field%d_*\"\naction = \"redact\"\n",
                           i);
        }
    }
    f = load_text(t.ptr, &ctx);
    const sl_filter_scope *s = NULL;
    sl_filter_classify(ctx, "/p/app/mod.py", "f", "app.mod", &s, &err);
    enum {
        NFRESH = 200000
    };
    char(*fresh)[32] = malloc((size_t)NFRESH * sizeof(*fresh));
    sl_str *fs = malloc((size_t)NFRESH * sizeof(*fs));
    for (size_t i = 0; i < NFRESH; i++) {
        snprintf(fresh[i], sizeof(fresh[i]), "%s_%zu", base_names[i % 50], i);
        fs[i].ptr = fresh[i];
        fs[i].len = strlen(fresh[i]);
    }
    uint8_t *acts = malloc(NFRESH);
    double best_first = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        sl_filter_plan(ctx, s, SL_FILTER_LOCAL, fs, NFRESH, acts, &err);
        double tt = (now() - t0) / NFRESH;
        best_first = tt < best_first ? tt : best_first;
    }
    printf("first_decision vs 50 patterns: %.1f ns\n", best_first * 1e9);
    sl_filter_ctx_free(ctx);
    sl_filter_free(f);
    free(acts);
    free(fs);
    free(fresh);

    /* first_resolution with 50 rules */
    t.len = 0;
    sl__buf_printf(&t, "[meta]\nname = \"r50\"\nversion = 1\n[scope]\n"
                       "default_exec = \"trace\"\n"
                       "default_value_action = \"allow\"\n");
    for (int i = 0; i < 50; i++) {
        switch (i % 3) {
        case 0:
            sl__buf_printf(&t,
                           "[[scope.rules]]\nselector = \"pkg:app%d.*\"\n"
                           "exec = \"skip\"\n",
                           i);
            break;
        case 1:
            sl__buf_printf(&t,
                           "[[scope.rules]]\nselector = "
                           "\"file:glob:**/mod%d/*.py\"\nvalue_default = "
                           "\"redact\"\n[[scope.rules.value_patterns]]\n"
                           "selector = \"local:public_*\"\naction = "
                           "\"allow\"\n",
                           i);
            break;
        default:
            sl__buf_printf(&t,
                           "[[scope.rules]]\nselector = "
                           "'obj:regex:^pkg\\.m%d\\.(run|stop)_\\d+$'\n"
                           "exec = \"trace\"\n",
                           i);
            break;
        }
    }
    f = load_text(t.ptr, &ctx);
    sl_buf_free(&t);
    enum {
        NSCOPES = 1000,
        RES_REPS = 20
    };
    char(*files)[96] = malloc((size_t)NSCOPES * RES_REPS * sizeof(*files));
    for (size_t i = 0; i < (size_t)NSCOPES * RES_REPS; i++) {
        /* 10 functions per file, like the workload */
        snprintf(files[i], sizeof(files[i]), "/srv/proj/pkg/mod%zu/m%zu.py",
                 (i / 10) % 60, i / 10);
    }
    double t0 = now();
    for (size_t i = 0; i < (size_t)NSCOPES * RES_REPS; i++) {
        char q[32];
        snprintf(q, sizeof(q), "run_%zu", i % 10);
        if (sl_filter_classify(ctx, files[i], q, NULL, &s, &err) != SL_OK) {
            die("classify", &err);
        }
    }
    double per = (now() - t0) / ((double)NSCOPES * RES_REPS);
    printf("first_resolution vs 50 rules: %.2f us\n", per * 1e6);
    sl_filter_ctx_free(ctx);
    sl_filter_free(f);

    /* memory for 1,000 cached scopes (fresh filter) */
    f = load(argv[1], false, &ctx);
    for (size_t i = 0; i < NSCOPES; i++) {
        char q[32];
        snprintf(q, sizeof(q), "api_handler_%zu", i % 10);
        sl_filter_classify(ctx, files[i], q, NULL, &s, &err);
    }
    sl_arena *a = &f->scope_arena;
    size_t used = a->total - (size_t)(a->end - a->cur);
    size_t tables =
        f->nbuckets * sizeof(*f->buckets) + f->cfiles * sizeof(*f->files);
    printf("memory for %zu cached scopes: %zu B (scope arena in use %zu B "
           "of %zu B reserved, hash tables %zu B)\n",
           f->nscopes, used + tables, used, a->total, tables);
    sl_filter_ctx_free(ctx);
    sl_filter_free(f);
    free(files);
    free(names);
    free(store);
    return 0;
}

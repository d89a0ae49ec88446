/* src/cli/cmd_filter.c: sluice filter check | show | explain. Parses the
 * arguments, composes a chain through <sluice/filter.h>, prints.
 *
 *   check [--no-builtin] FILE...     every problem as file:line:col: message
 *   show [--filter F]... [--program PATH] [--no-builtin] [--framework N]
 *   explain [--filter F]... [--program PATH] [--no-builtin] [--framework N]
 *           --file PATH [--qualname Q] [--module M] [--value KIND:NAME]...
 *
 * The chain is composed as the recorder composes it: builtin-default
 * (unless --no-builtin), builtin-pytest or builtin-unittest for
 * --framework pytest|unittest (--pytest / --unittest for short; another
 * name is warned about and ignored, as upstream), the
 * .codetracer/trace-filter.toml discovered from --program (when given),
 * CODETRACER_TRACE_FILTER, then each --filter (or each check FILE) and
 * each --inline LABEL=FILE (FILE's text as the inline source
 * `<inline:LABEL>` with project root "", as the recorder loads its
 * built-ins) in argument order; --filter values may join paths with "::".
 * Exit 0 clean, 1 input problems, 2 usage. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void print_problem(const sl_error *e, void *ctx) {
    size_t *count = ctx;
    (*count)++;
    sl_cli_print_error(e);
}

static int usage(void) {
    fprintf(stderr,
            "usage: sluice filter check [--no-builtin] FILE...\n"
            "       sluice filter show [--filter F]... [--program PATH] "
            "[--no-builtin] [--framework N]\n"
            "                          [--inline LABEL=FILE]...\n"
            "       sluice filter explain [--filter F]... [--program PATH] "
            "[--no-builtin] [--framework N] [--inline LABEL=FILE]...\n"
            "                             --file PATH [--qualname Q] "
            "[--module M] [--value KIND:NAME]...\n");
    return SL_EXIT_USAGE;
}

typedef struct opts {
    bool no_builtin;
    const char *framework;
    const char *program;
    const char **filters;
    bool *inline_; /* filters[i] is LABEL=FILE of --inline */
    size_t nfilters;
    const char *file, *qualname, *module;
    sl_filter_kind *kinds;
    sl_str *names;
    size_t nvalues;
} opts;

/* --inline LABEL=FILE: the file's text as an inline source. */
static void add_inline(sl_filter *f, const char *spec, size_t *problems) {
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec) {
        fprintf(stderr, "sluice filter: --inline wants LABEL=FILE\n");
        (*problems)++;
        return;
    }
    FILE *fp = fopen(eq + 1, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0;
    if (fp) {
        for (;;) {
            if (len + 4096 > cap) {
                cap = cap ? cap * 2 : 8192;
                char *t = realloc(text, cap);
                if (!t) {
                    break;
                }
                text = t;
            }
            size_t n = fread(text + len, 1, cap - len, fp);
            len += n;
            if (n == 0) {
                break;
            }
        }
        fclose(fp);
    }
    if (!fp || !text) {
        fprintf(stderr, "sluice filter: cannot read \"%s\"\n", eq + 1);
        (*problems)++;
        free(text);
        return;
    }
    char label[256];
    snprintf(label, sizeof(label), "%.*s", (int)(eq - spec), spec);
    sl_error err = {0};
    sl_filter_add_text(f, label, text, len, &err);
    free(text);
}

/* Compose the chain; problems are printed (and counted) as they come. */
static sl_filter *compose(const opts *o, bool with_env, size_t *problems) {
    sl_filter *f = sl_filter_new();
    if (!f) {
        fprintf(stderr, "sluice filter: out of memory\n");
        (*problems)++;
        return NULL;
    }
    sl_filter_set_reporter(f, print_problem, problems);
    sl_error err = {0};
    if (!o->no_builtin) {
        sl_filter_add_builtin(f, "builtin-default", &err);
    }
    if (o->framework) {
        char name[64];
        snprintf(name, sizeof(name), "builtin-%s", o->framework);
        if (strcmp(o->framework, "pytest") == 0 ||
            strcmp(o->framework, "unittest") == 0) {
            sl_filter_add_builtin(f, name, &err);
        } else {
            fprintf(stderr,
                    "sluice filter: warning: unknown framework \"%s\" "
                    "ignored\n",
                    o->framework);
        }
    }
    if (o->program) {
        sl_filter_discover(f, o->program, NULL, &err);
    }
    if (with_env) {
        sl_filter_add_env(f, &err);
    }
    for (size_t i = 0; i < o->nfilters; i++) {
        if (o->inline_[i]) {
            add_inline(f, o->filters[i], problems);
        } else {
            sl_filter_add_paths(f, o->filters[i], &err);
        }
    }
    if (*problems == 0) {
        sl_error e = {0};
        if (sl_filter_ready(f, &e) != SL_OK) {
            print_problem(&e, problems);
        }
    }
    return f;
}

static int parse(int argc, char **argv, bool is_check, opts *o) {
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--no-builtin") == 0) {
            o->no_builtin = true;
        } else if (!is_check && strcmp(a, "--filter") == 0 && has) {
            o->filters[o->nfilters++] = argv[++i];
        } else if (!is_check && strcmp(a, "--inline") == 0 && has) {
            o->inline_[o->nfilters] = true;
            o->filters[o->nfilters++] = argv[++i];
        } else if (!is_check && strcmp(a, "--framework") == 0 && has) {
            o->framework = argv[++i];
        } else if (!is_check && strcmp(a, "--pytest") == 0) {
            o->framework = "pytest";
        } else if (!is_check && strcmp(a, "--unittest") == 0) {
            o->framework = "unittest";
        } else if (!is_check && strcmp(a, "--program") == 0 && has) {
            o->program = argv[++i];
        } else if (!is_check && strcmp(a, "--file") == 0 && has) {
            o->file = argv[++i];
        } else if (!is_check && strcmp(a, "--qualname") == 0 && has) {
            o->qualname = argv[++i];
        } else if (!is_check && strcmp(a, "--module") == 0 && has) {
            o->module = argv[++i];
        } else if (!is_check && strcmp(a, "--value") == 0 && has) {
            const char *v = argv[++i];
            const char *colon = strchr(v, ':');
            sl_filter_kind k;
            if (!colon ||
                sl_filter_kind_parse(v, (size_t)(colon - v), &k) != SL_OK) {
                fprintf(stderr,
                        "sluice filter: --value wants KIND:NAME with KIND "
                        "one of arg, local, global, ret, attr\n");
                return SL_EXIT_USAGE;
            }
            o->kinds[o->nvalues] = k;
            o->names[o->nvalues].ptr = colon + 1;
            o->names[o->nvalues].len = strlen(colon + 1);
            o->nvalues++;
        } else if (is_check && !(a[0] == '-' && a[1] != '\0')) {
            o->filters[o->nfilters++] = a;
        } else {
            fprintf(stderr, "sluice filter: unknown option \"%s\"\n", a);
            return usage();
        }
    }
    return SL_EXIT_OK;
}

static int print_buf(sl_buf *b) {
    int rc = sl_cli_write_file("-", b->ptr ? b->ptr : "", b->len);
    return rc ? SL_EXIT_INPUT : SL_EXIT_OK;
}

int sl_cmd_filter(int argc, char **argv) {
    if (argc < 2) {
        return usage();
    }
    const char *sub = argv[1];
    bool is_check = strcmp(sub, "check") == 0;
    bool is_show = strcmp(sub, "show") == 0;
    bool is_explain = strcmp(sub, "explain") == 0;
    if (!is_check && !is_show && !is_explain) {
        return usage();
    }
    size_t n = (size_t)argc;
    opts o = {0};
    o.filters = calloc(n, sizeof(*o.filters));
    o.inline_ = calloc(n, sizeof(*o.inline_));
    o.kinds = calloc(n, sizeof(*o.kinds));
    o.names = calloc(n, sizeof(*o.names));
    int rc = SL_EXIT_OK;
    sl_filter *f = NULL;
    sl_filter_ctx *ctx = NULL;
    sl_buf out = {0};
    if (!o.filters || !o.inline_ || !o.kinds || !o.names) {
        fprintf(stderr, "sluice filter: out of memory\n");
        rc = SL_EXIT_INPUT;
        goto done;
    }
    rc = parse(argc, argv, is_check, &o);
    if (rc != SL_EXIT_OK) {
        goto done;
    }
    if ((is_check && o.nfilters == 0) || (is_explain && !o.file) ||
        (!is_explain && (o.file || o.qualname || o.module || o.nvalues))) {
        rc = usage();
        goto done;
    }
    size_t problems = 0;
    f = compose(&o, !is_check, &problems);
    if (problems > 0) {
        rc = SL_EXIT_INPUT;
        goto done;
    }
    sl_error err = {0};
    if (is_check) {
        for (size_t i = 0; i < sl_filter_source_count(f); i++) {
            sl_filter_source_info si;
            sl_filter_source(f, i, &si);
            printf("%s: ok (%zu rules)\n", si.path, si.rules);
        }
        goto done;
    }
    sl_status st = SL_OK;
    if (is_show) {
        st = sl_filter_write_chain(f, &out, &err);
    } else {
        st = sl_filter_ctx_new(f, &ctx, &err);
        if (st == SL_OK) {
            st = sl_filter_explain(ctx, o.file, o.qualname, o.module, o.kinds,
                                   o.names, o.nvalues, &out, &err);
        }
    }
    if (st != SL_OK) {
        sl_cli_print_error(&err);
        rc = SL_EXIT_INPUT;
        goto done;
    }
    sl_buf_append(&out, "\n", 1);
    rc = print_buf(&out);
done:
    sl_buf_free(&out);
    sl_filter_ctx_free(ctx);
    sl_filter_free(f);
    free(o.filters);
    free(o.inline_);
    free(o.kinds);
    free(o.names);
    return rc;
}

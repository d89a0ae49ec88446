/* src/cli/cmd_apply.c: sluice apply --policies P [--policies P2 ...]
 * [--stats S] [--threads N] [--quiet] [INPUT...]: apply telemetry
 * policies to OTLP/JSON.
 *
 * Input (files, or stdin when none or "-") is a stream of JSON values
 * separated by whitespace: one request per line, or pretty-printed
 * documents one after another. Each value is evaluated on its own and
 * written, minus dropped records and with transforms applied, as one
 * compact JSON line on stdout, in input order. A value that is not valid
 * JSON or not an OTLP request is reported with its file:line:col and
 * written not at all (never half); the rest go on. A per-policy summary
 * (hits, misses, kept, dropped, sampled, rate-limited, failed transforms,
 * changes) goes to stderr, and with --stats as JSON to a file.
 *
 * SIGHUP reloads the policy files (sl_policy_reload_files: counters and
 * unchanged rate windows carry over by policy id, so the summary covers
 * the whole run), between two input values, never in the middle of one:
 * the handler only sets a flag, which is acted on before the next value
 * is evaluated. One line on stderr says the reload happened or why it
 * failed; a failed reload keeps the old policies. Output is flushed
 * whenever the input is about to be read, so a reader downstream of a
 * pipe sees each value's line before apply waits for more.
 *
 * --regex-cache DIR keeps the compiled Vectorscan databases in DIR
 * (sl_policy_opts.regex_cache): a second run with the same patterns loads
 * them instead of compiling (opt-in; results never depend on it).
 *
 * --threads N (default: the number of online cores) evaluates chunks of
 * the input on N worker threads and writes in input order with the same
 * bytes, messages and counts (apply_threads.c); --threads 1 is the loop
 * below, with no thread at all. --chunk-size BYTES tunes the chunks.
 *
 * Exit: 0 when all input was processed (rejected policies are printed,
 * not fatal); 1 when a file cannot be read or parsed or an input value was
 * malformed; 2 for bad usage. */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/apply.h"
#include "cli/policy_common.h"
#include "cli/value_stream.h"

static int usage(void) {
    fprintf(stderr, "usage: sluice apply --policies P [--policies P2 ...] "
                    "[--stats S] [--threads N] [--chunk-size BYTES] "
                    "[--regex-cache DIR] [--quiet] [INPUT...]\n");
    return SL_EXIT_USAGE;
}

volatile sig_atomic_t sl_cli_reload_requested;

static void on_sighup(int sig) {
    (void)sig;
    sl_cli_reload_requested = 1;
}

void sl_cli_totals_add(sl_cli_totals *a, const sl_cli_totals *b) {
    a->values += b->values;
    a->bad_values += b->bad_values;
    a->records_in += b->records_in;
    a->records_out += b->records_out;
    a->bytes_in += b->bytes_in;
    a->bytes_out += b->bytes_out;
    a->signals |= b->signals;
}

void sl_cli_apply_reload(const sl_cli_policies *p, sl_policy_set **next) {
    sl_cli_reload_requested = 0;
    *next = NULL;
    sl_error err = {0};
    sl_policy_set *set = NULL;
    sl_status rc =
        sl_policy_reload_files(p->set, p->paths, p->n, p->opts, &set, &err);
    if (rc != SL_OK) {
        if (!err.msg[0]) {
            snprintf(err.msg, sizeof(err.msg), "%s", sl_status_str(rc));
        }
        char where[768];
        sl_error_format(&err, where, sizeof(where));
        fprintf(stderr,
                "sluice apply: policy reload failed, keeping the previous "
                "policies: %s\n",
                where);
        return;
    }
    size_t problems = sl_policy_problem_count(set);
    sl_cli_policy_print(set);
    fprintf(stderr,
            "sluice apply: policies reloaded: %zu valid, %zu problem(s)\n",
            sl_policy_count(set), problems);
    *next = set;
}

bool sl_cli_apply_value(sl_policy_ctx *ctx, sl_otlp *o, sl_buf *out,
                        sl_cli_totals *t, sl_cli_fail_fn fail, void *ud) {
    bool ok = true;
    sl_error err;
    t->values++;
    t->signals |= 1u << sl_otlp_signal(o);
    size_t n = sl_otlp_count(o);
    t->records_in += n;
    for (size_t i = 0; i < n; i++) {
        sl_policy_result res;
        sl__error_clear(&err);
        sl_status rc = sl_policy_eval(ctx, o, i, SL_POLICY_APPLY, &res, &err);
        if (rc != SL_OK) {
            /* the record was dropped by the engine (a transform that
             * cannot finish, e.g. a redaction regex over its match
             * limit, never lets the record out): say so, go on */
            fail(ud, SL_CLI_FAIL_RECORD, &err);
            ok = false;
            continue;
        }
        t->records_out += res.keep;
    }
    size_t before = out->len;
    sl__error_clear(&err);
    sl_status rc = sl_otlp_write(o, out, &err);
    if (rc == SL_OK) {
        rc = sl_buf_append(out, "\n", 1);
    }
    if (rc != SL_OK) {
        /* nothing of this value is written: a record a policy would
         * have dropped or redacted must never come out */
        out->len = before;
        out->failed = 0;
        if (!err.msg[0]) {
            snprintf(err.msg, sizeof(err.msg), "%s", sl_status_str(rc));
        }
        fail(ud, SL_CLI_FAIL_WRITE, &err);
        t->bad_values++;
        return false;
    }
    return ok;
}

/* The single-threaded loop's output: values gather in out and reach the
 * sink in writes of about OUT_BATCH bytes (an fwrite of one small value
 * is one more copy, into stdio's buffer). */
enum {
    OUT_BATCH = 1 << 16
};

typedef struct pending {
    FILE *sink;
    sl_buf *out;
    bool failed; /* a write failed: nothing more is written */
} pending;

static bool write_pending(pending *p) {
    if (p->out->len && !p->failed &&
        fwrite(p->out->ptr, 1, p->out->len, p->sink) != p->out->len) {
        p->failed = true;
    }
    p->out->len = 0;
    return !p->failed;
}

/* Before each read of the input: let a reader downstream see what is
 * done. A failed write shows at the next value or at the end. */
static void flush_output(void *ud) {
    pending *p = ud;
    write_pending(p);
    fflush(p->sink);
}

static sl_status otlp_loader(void *ud, const char *text, size_t len,
                             size_t *off, const char *file, sl_error *err) {
    return sl_otlp_load(ud, text, len, off, file, err);
}

/* The single-threaded loop's way to report a value's failure: at once. */
static void print_fail(void *ud, sl_cli_fail kind, sl_error *err) {
    sl_cli_stream *in = ud;
    if (kind == SL_CLI_FAIL_RECORD) {
        fprintf(stderr, "%s: line %u: %s\n", in->name,
                (unsigned)sl_cli_stream_value_line(in), err->msg);
    } else {
        sl_cli_print_error(err);
    }
}

/* Compile anew and swap: the single-threaded loop frees the old context
 * and set at once. */
static void reload(sl_cli_policies *p, sl_policy_ctx **ctx) {
    sl_policy_set *next = NULL;
    sl_cli_apply_reload(p, &next);
    if (!next) {
        return;
    }
    sl_policy_ctx *c = NULL;
    sl_error err = {0};
    if (sl_policy_ctx_new(next, &c, &err) != SL_OK) {
        fprintf(stderr, "sluice apply: policy reload failed, keeping the "
                        "previous policies: out of memory\n");
        sl_policy_set_free(next);
        return;
    }
    sl_policy_ctx_free(*ctx);
    sl_policy_set_free(p->set);
    p->set = next;
    *ctx = c;
}

/* Apply to every value of one input; false on a read error or a
 * malformed value. */
static bool apply_input(const char *path, sl_cli_policies *pol,
                        sl_policy_ctx **ctx, sl_otlp *o, sl_buf *out,
                        sl_cli_totals *t, FILE *sink) {
    sl_cli_stream in;
    if (sl_cli_stream_open(&in, path) != 0) {
        return false;
    }
    sl_cli_stream_set_loader(&in, otlp_loader, o);
    sl_policy_lazy_load(pol->set, o, true);
    pending pend = {sink, out, false};
    out->len = 0;
    sl_cli_stream_set_wait(&in, flush_output, &pend);
    bool ok = true;
    sl_error err;
    for (;;) {
        sl__error_clear(&err);
        int got = sl_cli_stream_next(&in, &err);
        if (got == 0) {
            break;
        }
        if (got < 0) {
            if (!err.msg[0]) {
                snprintf(err.msg, sizeof(err.msg), "%s",
                         sl_status_str(err.code));
            }
            sl_cli_print_error(&err);
            ok = false;
            t->bad_values++;
            if (got == -2) {
                break; /* cannot resynchronise: stop this input */
            }
            continue;
        }
        if (sl_cli_reload_requested) {
            reload(pol, ctx); /* between values: this one sees the new set */
            sl_policy_lazy_load(pol->set, o, true);
        }
        size_t before = out->len;
        out->failed = 0;
        ok = sl_cli_apply_value(*ctx, o, out, t, print_fail, &in) && ok;
        t->bytes_out += out->len - before;
        if (pend.failed || (out->len >= OUT_BATCH && !write_pending(&pend))) {
            break;
        }
    }
    if (!write_pending(&pend)) {
        fprintf(stderr, "sluice apply: write failed\n");
        ok = false;
    }
    t->bytes_in += in.bytes_read;
    sl_cli_stream_close(&in);
    return ok;
}

/* A positive decimal count, or 0 for anything else. */
static size_t count_arg(const char *a) {
    char *end = NULL;
    unsigned long long v = strtoull(a, &end, 10);
    if (!*a || *end || a[0] == '-' || v == 0 || v > (1ull << 30)) {
        return 0;
    }
    return (size_t)v;
}

int sl_cmd_apply(int argc, char **argv) {
    const char *policy_files[SL_CLI_MAX_POLICY_FILES];
    size_t npol = 0;
    const char *stats = NULL;
    bool quiet = false;
    size_t threads = 0, chunk = 0;
    const char *regex_cache = NULL;
    const char **inputs = sl__calloc((size_t)argc + 1, sizeof(char *));
    size_t nin = 0;
    if (!inputs) {
        fprintf(stderr, "sluice apply: out of memory\n");
        return SL_EXIT_INPUT;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--policies") == 0 && i + 1 < argc) {
            if (npol == SL_CLI_MAX_POLICY_FILES) {
                sl__free(inputs, ((size_t)argc + 1) * sizeof(char *));
                return usage();
            }
            policy_files[npol++] = argv[++i];
        } else if (strcmp(a, "--stats") == 0 && i + 1 < argc) {
            stats = argv[++i];
        } else if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
            if ((threads = count_arg(argv[++i])) == 0 || threads > 256) {
                sl__free(inputs, ((size_t)argc + 1) * sizeof(char *));
                return usage();
            }
        } else if (strcmp(a, "--chunk-size") == 0 && i + 1 < argc) {
            if ((chunk = count_arg(argv[++i])) == 0) {
                sl__free(inputs, ((size_t)argc + 1) * sizeof(char *));
                return usage();
            }
        } else if (strcmp(a, "--regex-cache") == 0 && i + 1 < argc) {
            regex_cache = argv[++i];
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            quiet = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            sl__free(inputs, ((size_t)argc + 1) * sizeof(char *));
            return usage();
        } else {
            inputs[nin++] = a;
        }
    }
    if (npol == 0) {
        sl__free(inputs, ((size_t)argc + 1) * sizeof(char *));
        return usage();
    }
    if (nin == 0) {
        inputs[nin++] = "-";
    }
    int status = SL_EXIT_INPUT;
    /* installed before the first load: a SIGHUP from then on reloads
     * rather than ends the process; SA_RESTART keeps reads and writes
     * going through it */
    struct sigaction sa = {0}, old_sa;
    sa.sa_handler = on_sighup;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sl_cli_reload_requested = 0;
    sigaction(SIGHUP, &sa, &old_sa);
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n < 1 ? 1 : n > 256 ? 256 : (size_t)n;
    }
    /* With workers, the first input is mapped and warmed (its pages
     * faulted in) on an idle core while this thread compiles the
     * policies: the compile is serial, and the faults are otherwise paid
     * by the workers (apply_threads.c). Nothing is read or written
     * before the policies are in force: a policy file that does not load
     * ends the run as it always did. */
    sl_cli_map early = {.slot = -1, .fd = -1};
    sl_cli_warm *warm = NULL;
    if (threads > 1 && sl_cli_apply_premap(inputs[0], &early)) {
        warm = sl_cli_map_warm_start(&early);
    }
    sl_policy_opts popts = {0};
    popts.regex_cache = regex_cache;
    sl_cli_policies pol = {policy_files, npol, NULL, &popts};
    pol.set = sl_cli_policy_load_opts(policy_files, npol, &popts);
    sl_cli_map_warm_stop(warm);
    sl_policy_ctx *ctx = NULL;
    sl_cli_apply_par *par = NULL;
    sl_otlp *o = NULL;
    sl_buf out = {0};
    sl_error err = {0};
    sl_cli_totals t = {0};
    if (!pol.set) {
        goto done;
    }
    if (threads > 1) {
        par = sl_cli_apply_par_new(&pol, threads, chunk);
        if (!par) {
            goto done; /* printed */
        }
    } else {
        o = sl_otlp_new();
        if (!o || sl_policy_ctx_new(pol.set, &ctx, &err) != SL_OK) {
            fprintf(stderr, "sluice apply: out of memory\n");
            goto done;
        }
    }
    bool ok = true;
    for (size_t i = 0; i < nin; i++) {
        if (par) {
            ok = sl_cli_apply_par_input(par, inputs[i], i ? NULL : &early, &t,
                                        stdout) &&
                 ok;
        } else {
            ok = apply_input(inputs[i], &pol, &ctx, o, &out, &t, stdout) && ok;
        }
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "sluice apply: write failed\n");
        ok = false;
    }
    if (!quiet) {
        fprintf(stderr,
                "sluice apply: %" PRIu64 " value(s), %" PRIu64
                " record(s) in, %" PRIu64 " out, %" PRIu64 " bytes in, %" PRIu64
                " bytes out%s\n",
                t.values, t.records_in, t.records_out, t.bytes_in, t.bytes_out,
                t.bad_values ? ", some input values rejected" : "");
        sl_cli_policy_summary(pol.set, t.signals, stderr);
    }
    if (stats) {
        out.len = 0;
        if (sl_cli_policy_stats_json(pol.set, true, &out) != SL_OK ||
            sl_cli_write_file(stats, out.ptr, out.len) != 0) {
            ok = false;
        }
    }
    status = ok ? SL_EXIT_OK : SL_EXIT_INPUT;
done:
    sl_cli_map_close(&early); /* unless apply took it over */
    sl_buf_free(&out);
    sl_cli_apply_par_free(par);
    sl_policy_ctx_free(ctx);
    sl_otlp_free(o);
    sl_policy_set_free(pol.set);
    sigaction(SIGHUP, &old_sa, NULL);
    sl__free(inputs, ((size_t)argc + 1) * sizeof(char *));
    return status;
}

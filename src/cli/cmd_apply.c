/* src/cli/cmd_apply.c: sluice apply --policies P [--policies P2 ...]
 * [--stats S] [--quiet] [INPUT...]: apply telemetry policies to OTLP/JSON.
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
 * Exit: 0 when all input was processed (rejected policies are printed,
 * not fatal); 1 when a file cannot be read or parsed or an input value was
 * malformed; 2 for bad usage. */
#include <inttypes.h>
#include <string.h>

#include "base/base.h"
#include "cli/policy_common.h"
#include "cli/value_stream.h"

static int usage(void) {
    fprintf(stderr, "usage: sluice apply --policies P [--policies P2 ...] "
                    "[--stats S] [--quiet] [INPUT...]\n");
    return SL_EXIT_USAGE;
}

typedef struct totals {
    uint64_t values, bad_values, records_in, records_out;
    uint64_t bytes_in, bytes_out;
    unsigned signals; /* 1 << sl_signal seen */
} totals;

static sl_status otlp_loader(void *ud, const char *text, size_t len,
                             size_t *off, const char *file, sl_error *err) {
    return sl_otlp_load(ud, text, len, off, file, err);
}

/* Apply to every value of one input; false on a read error or a
 * malformed value. */
static bool apply_input(const char *path, sl_policy_ctx *ctx, sl_otlp *o,
                        sl_buf *out, totals *t, FILE *sink) {
    sl_cli_stream in;
    if (sl_cli_stream_open(&in, path) != 0) {
        return false;
    }
    sl_cli_stream_set_loader(&in, otlp_loader, o);
    bool ok = true;
    sl_error err;
    for (;;) {
        memset(&err, 0, sizeof(err));
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
        t->values++;
        t->signals |= 1u << sl_otlp_signal(o);
        size_t n = sl_otlp_count(o);
        t->records_in += n;
        for (size_t i = 0; i < n; i++) {
            sl_policy_result res;
            sl_status rc =
                sl_policy_eval(ctx, o, i, SL_POLICY_APPLY, &res, &err);
            if (rc != SL_OK) {
                /* the record was dropped by the engine (a transform that
                 * cannot finish, e.g. a redaction regex over its match
                 * limit, never lets the record out): say so, go on */
                fprintf(stderr, "%s: line %u: %s\n", in.name,
                        (unsigned)sl_cli_stream_value_line(&in), err.msg);
                ok = false;
                continue;
            }
            t->records_out += res.keep;
        }
        out->len = 0;
        out->failed = 0;
        sl_status rc = sl_otlp_write(o, out, &err);
        if (rc == SL_OK) {
            rc = sl_buf_append(out, "\n", 1);
        }
        if (rc != SL_OK) {
            /* nothing of this value is written: a record a policy would
             * have dropped or redacted must never come out */
            if (!err.msg[0]) {
                snprintf(err.msg, sizeof(err.msg), "%s", sl_status_str(rc));
            }
            sl_cli_print_error(&err);
            ok = false;
            t->bad_values++;
            continue;
        }
        if (fwrite(out->ptr, 1, out->len, sink) != out->len) {
            fprintf(stderr, "sluice apply: write failed\n");
            ok = false;
            break;
        }
        t->bytes_out += out->len;
    }
    t->bytes_in += in.bytes_read;
    sl_cli_stream_close(&in);
    return ok;
}

int sl_cmd_apply(int argc, char **argv) {
    const char *policies[SL_CLI_MAX_POLICY_FILES];
    size_t npol = 0;
    const char *stats = NULL;
    bool quiet = false;
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
            policies[npol++] = argv[++i];
        } else if (strcmp(a, "--stats") == 0 && i + 1 < argc) {
            stats = argv[++i];
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
    sl_policy_set *set = sl_cli_policy_load(policies, npol);
    sl_policy_ctx *ctx = NULL;
    sl_otlp *o = sl_otlp_new();
    sl_buf out = {0};
    sl_error err = {0};
    totals t = {0};
    if (!set) {
        goto done;
    }
    if (!o || sl_policy_ctx_new(set, &ctx, &err) != SL_OK) {
        fprintf(stderr, "sluice apply: out of memory\n");
        goto done;
    }
    bool ok = true;
    for (size_t i = 0; i < nin; i++) {
        ok = apply_input(inputs[i], ctx, o, &out, &t, stdout) && ok;
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
        sl_cli_policy_summary(set, t.signals, stderr);
    }
    if (stats) {
        out.len = 0;
        if (sl_cli_policy_stats_json(set, true, &out) != SL_OK ||
            sl_cli_write_file(stats, out.ptr, out.len) != 0) {
            ok = false;
        }
    }
    status = ok ? SL_EXIT_OK : SL_EXIT_INPUT;
done:
    sl_buf_free(&out);
    sl_policy_ctx_free(ctx);
    sl_otlp_free(o);
    sl_policy_set_free(set);
    sl__free(inputs, ((size_t)argc + 1) * sizeof(char *));
    return status;
}

/* src/cli/cmd_redact.c: sluice redact [--policy P | --default [--no-detect]]
 * [--audit FILE] [FILE|-]. Reads a stream of JSON values, writes each one
 * redacted as one compact line to stdout, in input order. A bad value is
 * reported on stderr with its line and nothing of it is written; the exit
 * status is then 1, after the whole stream. --audit writes one audit
 * summary per written value (JSON lines); without it one line of totals
 * goes to stderr. Exit 2 for bad usage. */
#include <errno.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "cli/value_stream.h"

enum {
    FLUSH_AT = 1 << 20
};

static int usage(void) {
    fprintf(stderr, "usage: sluice redact [--policy FILE | --default "
                    "[--no-detect]] [--audit FILE] [FILE|-]\n");
    return SL_EXIT_USAGE;
}

static int flush(FILE *f, sl_buf *b) {
    if (b->len && fwrite(b->ptr, 1, b->len, f) != b->len) {
        return 1;
    }
    b->len = 0;
    return 0;
}

sl_status sl_cli_default_redactor(bool no_detect, sl_redactor **out,
                                  sl_error *err) {
    sl_redact_spec spec = {0};
    spec.extends_default = true;
    spec.detect_exact = no_detect; /* with detect 0: none */
    return sl_redactor_compile(&spec, out, err);
}

int sl_cmd_redact(int argc, char **argv) {
    const char *policy = NULL, *audit_path = NULL, *path = NULL;
    bool use_default = false, no_detect = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--policy") == 0 && i + 1 < argc) {
            policy = argv[++i];
        } else if (strcmp(a, "--default") == 0) {
            use_default = true;
        } else if (strcmp(a, "--no-detect") == 0) {
            no_detect = true;
        } else if (strcmp(a, "--audit") == 0 && i + 1 < argc) {
            audit_path = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "sluice redact: unknown option \"%s\"\n", a);
            return usage();
        } else if (!path) {
            path = a;
        } else {
            return usage();
        }
    }
    if (policy && use_default) {
        fprintf(stderr, "sluice redact: --policy and --default exclude each "
                        "other\n");
        return usage();
    }
    if (policy && no_detect) {
        fprintf(stderr, "sluice redact: --no-detect goes with the default "
                        "policy; a policy file lists its own (detect = [])\n");
        return usage();
    }
    sl_error err = {0};
    sl_redactor *r = NULL;
    sl_status rc = policy ? sl_redactor_load(policy, &r, &err)
                          : sl_cli_default_redactor(no_detect, &r, &err);
    if (rc != SL_OK) {
        sl_cli_print_error(&err);
        return SL_EXIT_INPUT;
    }
    sl_redact_ctx *ctx = NULL;
    rc = sl_redact_ctx_new(r, &ctx, &err);
    if (rc != SL_OK) {
        sl_cli_print_error(&err);
        sl_redactor_free(r);
        return SL_EXIT_INPUT;
    }
    FILE *af = NULL;
    if (audit_path) {
        af = strcmp(audit_path, "-") == 0 ? stdout : fopen(audit_path, "wb");
        if (!af) {
            fprintf(stderr, "%s: cannot open for writing: %s\n", audit_path,
                    strerror(errno));
            sl_redact_ctx_free(ctx);
            sl_redactor_free(r);
            return SL_EXIT_INPUT;
        }
    }
    sl_cli_stream in;
    if (sl_cli_stream_open(&in, path ? path : "-") != 0) {
        if (af && af != stdout) {
            fclose(af);
        }
        sl_redact_ctx_free(ctx);
        sl_redactor_free(r);
        return SL_EXIT_INPUT;
    }
    sl_buf out = {0}, audit = {0};
    sl_redact_counts total = {0};
    unsigned long long values = 0, bad = 0;
    int status = SL_EXIT_OK;
    for (;;) {
        int got = sl_cli_stream_next(&in, &err);
        if (got == 0) {
            break;
        }
        if (got == -2) {
            sl_cli_print_error(&err);
            status = SL_EXIT_INPUT;
            break;
        }
        if (got == -1) {
            sl_cli_print_error(&err);
            bad++;
            status = SL_EXIT_INPUT;
            continue;
        }
        sl_redact_counts c = {0};
        sl__error_clear(&err);
        rc = sl_redact_write_doc(ctx, in.doc, sl_doc_root(in.doc), &out,
                                 af ? &audit : NULL, &c, &err);
        if (rc == SL_OK) {
            rc = sl_buf_append(&out, "\n", 1);
        }
        if (rc == SL_OK && af) {
            rc = sl_buf_append(&audit, "\n", 1);
        }
        if (rc != SL_OK) {
            snprintf(err.file, sizeof(err.file), "%s", in.name);
            err.line = sl_cli_stream_value_line(&in);
            err.col = 0;
            sl_cli_print_error(&err);
            bad++;
            status = SL_EXIT_INPUT;
            if (rc == SL_ENOMEM) {
                break;
            }
            continue;
        }
        values++;
        total.masked += c.masked;
        total.hashed += c.hashed;
        total.dropped += c.dropped;
        total.detected += c.detected;
        if (out.len >= FLUSH_AT && flush(stdout, &out) != 0) {
            fprintf(stderr, "sluice redact: write failed\n");
            status = SL_EXIT_INPUT;
            break;
        }
        if (af && audit.len >= FLUSH_AT && flush(af, &audit) != 0) {
            fprintf(stderr, "%s: write failed\n", audit_path);
            status = SL_EXIT_INPUT;
            break;
        }
    }
    if (flush(stdout, &out) != 0 || fflush(stdout) != 0) {
        fprintf(stderr, "sluice redact: write failed\n");
        status = SL_EXIT_INPUT;
    }
    if (af) {
        if (flush(af, &audit) != 0 ||
            (af == stdout ? fflush(af) : fclose(af)) != 0) {
            fprintf(stderr, "%s: write failed\n", audit_path);
            status = SL_EXIT_INPUT;
        }
    } else {
        fprintf(stderr,
                "sluice redact: %llu values, %llu masked, %llu hashed, "
                "%llu dropped, %llu detected, %llu rejected\n",
                values, (unsigned long long)total.masked,
                (unsigned long long)total.hashed,
                (unsigned long long)total.dropped,
                (unsigned long long)total.detected, bad);
    }
    sl_buf_free(&out);
    sl_buf_free(&audit);
    sl_cli_stream_close(&in);
    sl_redact_ctx_free(ctx);
    sl_redactor_free(r);
    return status;
}

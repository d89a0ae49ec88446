/* src/cli/cmd_conform.c: sluice conform (--policies P | --server URL
 * [--protobuf] | --grpc HOST:PORT) --input I --output O --stats S
 * [--signal log|metric|trace]: the
 * policy-conformance runner contract (../shared/tools/policy-conformance).
 * One OTLP/JSON request in, the kept and transformed request out,
 * per-policy hits/misses as {"policies":[{"policy_id","hits"[,"misses"]}]}.
 * Provider mode (--server, upstream's HTTP mode, proto-JSON or with
 * --protobuf application/x-protobuf bodies; --grpc, upstream's gRPC mode,
 * tero.policy.v1.PolicyService/Sync): the policies come from a sync
 * (serve/sync.c); after the run a second sync reports each policy's hits,
 * misses and compile errors to the provider.
 * Exit 0 when the data was processed (rejected policies are printed, not
 * fatal), 1 when a file cannot be read or parsed or the provider cannot be
 * reached, 2 for bad usage. */
#include <string.h>

#include "base/base.h"
#include "cli/policy_common.h"
#ifdef SLUICE_HAVE_SERVE
#include "serve/sync.h"
#endif

static int usage(void) {
    fprintf(stderr, "usage: sluice conform (--policies P | --server URL "
                    "[--protobuf] | --grpc HOST:PORT)\n"
                    "                      --input I --output O --stats S "
                    "[--signal log|metric|trace]\n");
    return SL_EXIT_USAGE;
}

#ifdef SLUICE_HAVE_SERVE
/* First sync of provider mode: the policies to run with. */
static sl_policy_set *sync_load(sl__sync **client, const char *url,
                                bool proto) {
    sl_error err = {0};
    sl_policy_set *set = NULL;
    bool changed = false;
    sl__serve_client_opts co = {.proto = proto};
    *client = sl__sync_new(url, &co, &err);
    if (!*client || sl__sync_run(*client, NULL, &changed, &err) != SL_OK) {
        sl_cli_print_error(&err);
        return NULL;
    }
    const sl_doc *doc = sl__sync_doc(*client);
    if (sl_policy_load(&doc, 1, NULL, &set, &err) != SL_OK ||
        (sl__sync_compiled(*client, set) != SL_OK && sl__nomem(&err))) {
        sl_cli_print_error(&err);
        sl_policy_set_free(set);
        return NULL;
    }
    sl_cli_policy_print(set);
    return set;
}

/* Last sync: report the run's counters and the compile errors. */
static int sync_report(sl__sync *client, sl_policy_set *set) {
    sl_error err = {0};
    bool changed = false;
    if (sl__sync_run(client, set, &changed, &err) != SL_OK) {
        sl_cli_print_error(&err);
        return SL_EXIT_INPUT;
    }
    return SL_EXIT_OK;
}
#endif

int sl_cmd_conform(int argc, char **argv) {
    const char *policies[SL_CLI_MAX_POLICY_FILES];
    size_t npol = 0;
    const char *input = NULL, *output = NULL, *stats = NULL, *signal = NULL;
    const char *server = NULL, *grpc = NULL;
    bool proto = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--protobuf") == 0) {
            proto = true;
            continue;
        }
        if (i + 1 >= argc) {
            return usage();
        }
        if (strcmp(a, "--policies") == 0) {
            if (npol == SL_CLI_MAX_POLICY_FILES) {
                return usage();
            }
            policies[npol++] = argv[++i];
        } else if (strcmp(a, "--server") == 0) {
            server = argv[++i];
        } else if (strcmp(a, "--grpc") == 0) {
            grpc = argv[++i];
        } else if (strcmp(a, "--input") == 0) {
            input = argv[++i];
        } else if (strcmp(a, "--output") == 0) {
            output = argv[++i];
        } else if (strcmp(a, "--stats") == 0) {
            stats = argv[++i];
        } else if (strcmp(a, "--signal") == 0) {
            signal = argv[++i];
        } else {
            return usage();
        }
    }
    if ((npol > 0) + (server != NULL) + (grpc != NULL) != 1 || !input ||
        !output || !stats || (proto && !server)) {
        return usage();
    }
    char grpc_url[512];
    if (grpc) {
        if (snprintf(grpc_url, sizeof(grpc_url), "grpc://%s", grpc) >=
            (int)sizeof(grpc_url)) {
            return usage();
        }
        server = grpc_url;
    }
#ifndef SLUICE_HAVE_SERVE
    if (server) {
        fprintf(stderr, "sluice conform: --server and --grpc need the "
                        "gateway, which "
                        "this build leaves out (SLUICE_BUILD_SERVE=OFF)\n");
        return usage();
    }
#endif
    if (signal && strcmp(signal, "log") != 0 && strcmp(signal, "metric") != 0 &&
        strcmp(signal, "trace") != 0) {
        fprintf(stderr, "sluice conform: unknown signal \"%s\"\n", signal);
        return usage();
    }
#ifdef SLUICE_HAVE_SERVE
    sl__sync *client = NULL;
    sl_policy_set *set = server ? sync_load(&client, server, proto)
                                : sl_cli_policy_load(policies, npol);
#else
    sl_policy_set *set = sl_cli_policy_load(policies, npol);
#endif
    if (!set) {
#ifdef SLUICE_HAVE_SERVE
        sl__sync_free(client);
#endif
        return SL_EXIT_INPUT;
    }
    int status = SL_EXIT_INPUT;
    sl_error err = {0};
    char *text = NULL;
    size_t len = 0;
    sl_otlp *o = sl_otlp_new();
    sl_policy_ctx *ctx = NULL;
    sl_buf out = {0};
    sl_status rc = o ? SL_OK : SL_ENOMEM;
    if (rc == SL_OK) {
        rc = sl__read_file(input, &text, &len, &err);
    }
    if (rc == SL_OK) {
        rc = sl_otlp_load(o, text, len, NULL, input, &err);
    }
    if (rc == SL_OK) {
        rc = sl_policy_ctx_new(set, &ctx, &err);
    }
    if (rc == SL_OK) {
        rc = sl_policy_apply(ctx, o, &err);
    }
    if (rc == SL_OK) {
        rc = sl_otlp_write(o, &out, &err);
    }
    if (rc == SL_OK) {
        rc = sl_buf_append(&out, "\n", 1);
    }
    if (rc != SL_OK) {
        if (!err.msg[0]) {
            snprintf(err.msg, sizeof(err.msg), "%s", sl_status_str(rc));
        }
        sl_cli_print_error(&err);
        goto done;
    }
    if (sl_cli_write_file(output, out.ptr, out.len) != 0) {
        goto done;
    }
    out.len = 0;
    if (sl_cli_policy_stats_json(set, false, &out) != SL_OK ||
        sl_cli_write_file(stats, out.ptr, out.len) != 0) {
        goto done;
    }
    status = SL_EXIT_OK;
#ifdef SLUICE_HAVE_SERVE
    if (client) {
        status = sync_report(client, set);
    }
#endif
done:
    sl_buf_free(&out);
    sl_policy_ctx_free(ctx);
    sl_otlp_free(o);
    if (text) {
        sl__free(text, len + 1);
    }
    sl_policy_set_free(set);
#ifdef SLUICE_HAVE_SERVE
    sl__sync_free(client);
#endif
    return status;
}

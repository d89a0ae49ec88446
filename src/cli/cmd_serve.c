/* src/cli/cmd_serve.c: sluice serve --policies FILE... [--http HOST:PORT]
 * [--grpc HOST:PORT] [--admin HOST:PORT] [--output FILE | --forward URL |
 * --forward-grpc HOST:PORT]
 * [--threads N] [--config FILE] [limits]: the OTLP gateway (src/serve).
 * Parse (flags win over the config file), then run. Also `sluice check
 * --config FILE` (sl_cli_serve_check_config).
 * Exit: 0 after a clean drain (SIGTERM / SIGINT), 1 when it cannot start,
 * 2 for bad usage. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/policy_common.h"
#include "serve/config.h"
#include "serve/serve.h"

static int usage(const char *why) {
    if (why) {
        fprintf(stderr, "sluice serve: %s\n", why);
    }
    fprintf(stderr,
            "usage: sluice serve --policies FILE... [--http HOST:PORT] "
            "[--grpc HOST:PORT]\n"
            "                    [--admin HOST:PORT] [--output FILE | "
            "--forward URL |\n"
            "                    --forward-grpc HOST:PORT] [--threads N]\n"
            "                    [--forward-protobuf] [--no-watch] "
            "[--policy-server URL|grpc://HOST:PORT]\n"
            "                    [--policy-protobuf] [--regex-cache DIR]\n"
            "  limits: --max-body BYTES --max-decompressed BYTES "
            "--max-header BYTES\n"
            "          --max-connections N --max-inflight BYTES\n"
            "          --idle-timeout-ms MS "
            "--read-timeout-ms MS\n"
            "          --queue-bytes BYTES --drain-timeout-ms MS "
            "--rotate-bytes BYTES\n"
            "  on-disk queue: --queue-dir DIR "
            "[--queue-fsync always|batch|never]\n"
            "          (--queue-max-bytes is --queue-bytes)\n"
            "  TLS: --tls-cert FILE --tls-key FILE [--tls-client-ca FILE]\n"
            "       admin listener: --admin-tls-cert FILE --admin-tls-key FILE"
            " |\n"
            "       --admin-tls (the receivers' certificate and client CA)\n"
            "       policy provider (https://, grpcs://): [--policy-ca FILE]\n"
            "       --forward https://... | --forward-grpc-tls, "
            "[--forward-ca FILE]\n"
            "       [--forward-insecure-skip-verify]\n"
            "  compression of what serve sends: --forward-compression "
            "gzip|none,\n"
            "       --policy-compression gzip|none\n");
    return SL_EXIT_USAGE;
}

/* gzip | none -> sl__serve_compress; 0 when neither. */
static unsigned parse_compress(const char *v) {
    if (strcmp(v, "gzip") == 0) {
        return SL_SERVE_COMPRESS_GZIP;
    }
    return strcmp(v, "none") == 0 ? SL_SERVE_COMPRESS_NONE : 0;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out) {
    if (!s || s[0] < '0' || s[0] > '9') {
        return false;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* Print a configuration's problems; the number printed. */
static size_t print_problems(const sl__serve_config *cfg) {
    size_t n = cfg->nproblems < SL_SERVE_CONFIG_MAX_PROBLEMS
                   ? cfg->nproblems
                   : SL_SERVE_CONFIG_MAX_PROBLEMS;
    for (size_t i = 0; i < n; i++) {
        sl_cli_print_error(&cfg->problems[i]);
    }
    if (cfg->nproblems > n) {
        fprintf(stderr, "... and %zu more problem(s)\n", cfg->nproblems - n);
    }
    return cfg->nproblems;
}

int sl_cli_serve_check_config(const char *path) {
    sl__serve_config cfg;
    sl_error err = {0};
    sl_status rc = sl__serve_config_load(path, &cfg, &err);
    if (rc != SL_OK) {
        if (!err.msg[0]) {
            snprintf(err.msg, sizeof(err.msg), "%s", sl_status_str(rc));
        }
        sl_cli_print_error(&err);
        return SL_EXIT_INPUT;
    }
    size_t problems = print_problems(&cfg);
    size_t policy_problems = 0;
    if (cfg.opts.npolicies == 0 && !cfg.opts.policy_server) {
        fprintf(stderr, "%s: policies: neither files nor server given\n", path);
        problems++;
    } else if (cfg.opts.npolicies > 0) {
        sl_policy_set *set =
            sl_cli_policy_load(cfg.opts.policies, cfg.opts.npolicies);
        if (!set) {
            policy_problems++;
        } else {
            policy_problems = sl_policy_problem_count(set);
            sl_policy_set_free(set);
        }
    }
    printf("%s: %zu config problem(s), %zu policy problem(s)\n", path, problems,
           policy_problems);
    sl__serve_config_free(&cfg);
    return problems || policy_problems ? SL_EXIT_INPUT : SL_EXIT_OK;
}

int sl_cmd_serve(int argc, char **argv) {
    sl__serve_opts o;
    memset(&o, 0, sizeof(o));
    const char *config = NULL;
    static const struct {
        const char *flag;
        size_t off, size;
        uint64_t max;
    } nums[] = {
        {"--threads", offsetof(sl__serve_opts, threads), sizeof(unsigned),
         SL_SERVE_MAX_THREADS},
        {"--max-body", offsetof(sl__serve_opts, max_body), sizeof(size_t),
         1u << 30},
        {"--max-decompressed", offsetof(sl__serve_opts, max_decompressed),
         sizeof(size_t), 1u << 30},
        {"--max-header", offsetof(sl__serve_opts, max_header), sizeof(size_t),
         1u << 20},
        {"--max-inflight", offsetof(sl__serve_opts, max_inflight),
         sizeof(size_t), (uint64_t)1 << 40},
        {"--max-connections", offsetof(sl__serve_opts, max_conns),
         sizeof(unsigned), 1u << 20},
        {"--idle-timeout-ms", offsetof(sl__serve_opts, idle_timeout_ms),
         sizeof(unsigned), 86400000u},
        {"--read-timeout-ms", offsetof(sl__serve_opts, read_timeout_ms),
         sizeof(unsigned), 86400000u},
        {"--drain-timeout-ms", offsetof(sl__serve_opts, drain_timeout_ms),
         sizeof(unsigned), 86400000u},
        {"--queue-bytes", offsetof(sl__serve_opts, queue_bytes), sizeof(size_t),
         (uint64_t)1 << 40},
        {"--queue-max-bytes", offsetof(sl__serve_opts, queue_bytes),
         sizeof(size_t), (uint64_t)1 << 40},
        {"--rotate-bytes", offsetof(sl__serve_opts, rotate_bytes),
         sizeof(size_t), (uint64_t)1 << 50},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool found = false;
        for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++) {
            if (strcmp(a, nums[k].flag) != 0) {
                continue;
            }
            uint64_t n = 0;
            if (!parse_u64(v, nums[k].max, &n) || n == 0) {
                fprintf(stderr, "sluice serve: %s wants a positive number\n",
                        a);
                return usage(NULL);
            }
            char *field = (char *)&o + nums[k].off;
            if (nums[k].size == sizeof(unsigned)) {
                unsigned u = (unsigned)n;
                memcpy(field, &u, sizeof(u));
            } else {
                size_t z = (size_t)n;
                memcpy(field, &z, sizeof(z));
            }
            found = true;
            i++;
            break;
        }
        if (found) {
            continue;
        }
        if (strcmp(a, "--policies") == 0 && v) {
            /* --policies A B C: every following argument up to a flag */
            while (i + 1 < argc && argv[i + 1][0] != '-') {
                if (o.npolicies == SL_SERVE_MAX_POLICY_FILES) {
                    return usage("too many policy files");
                }
                o.policies[o.npolicies++] = argv[++i];
            }
        } else if (strcmp(a, "--http") == 0 && v) {
            o.http = argv[++i];
        } else if (strcmp(a, "--grpc") == 0 && v) {
            o.grpc = argv[++i];
        } else if (strcmp(a, "--admin") == 0 && v) {
            o.admin = argv[++i];
        } else if (strcmp(a, "--output") == 0 && v) {
            o.output = argv[++i];
        } else if (strcmp(a, "--forward") == 0 && v) {
            o.forward = argv[++i];
        } else if (strcmp(a, "--policy-server") == 0 && v) {
            o.policy_server = argv[++i];
        } else if (strcmp(a, "--policy-protobuf") == 0) {
            o.policy_proto = true;
        } else if (strcmp(a, "--queue-dir") == 0 && v) {
            o.queue_dir = argv[++i];
        } else if (strcmp(a, "--queue-fsync") == 0 && v) {
            static const char *const modes[] = {"always", "batch", "never"};
            i++;
            for (unsigned k = 0; k < 3; k++) {
                if (strcmp(v, modes[k]) == 0) {
                    o.queue_fsync = k + 1; /* sl__spool_fsync */
                }
            }
            if (o.queue_fsync == 0) {
                return usage("--queue-fsync wants always, batch or never");
            }
        } else if (strcmp(a, "--forward-protobuf") == 0) {
            o.forward_proto = true;
        } else if (strcmp(a, "--no-watch") == 0) {
            o.no_watch = true;
        } else if (strcmp(a, "--forward-grpc") == 0 && v) {
            o.forward_grpc = argv[++i];
        } else if (strcmp(a, "--tls-cert") == 0 && v) {
            o.tls_cert = argv[++i];
        } else if (strcmp(a, "--tls-key") == 0 && v) {
            o.tls_key = argv[++i];
        } else if (strcmp(a, "--tls-client-ca") == 0 && v) {
            o.tls_client_ca = argv[++i];
        } else if (strcmp(a, "--admin-tls-cert") == 0 && v) {
            o.admin_tls_cert = argv[++i];
        } else if (strcmp(a, "--admin-tls-key") == 0 && v) {
            o.admin_tls_key = argv[++i];
        } else if (strcmp(a, "--admin-tls") == 0) {
            o.admin_tls_same = true;
        } else if (strcmp(a, "--policy-ca") == 0 && v) {
            o.policy_ca = argv[++i];
        } else if (strcmp(a, "--regex-cache") == 0 && v) {
            o.regex_cache = argv[++i];
        } else if (strcmp(a, "--forward-ca") == 0 && v) {
            o.forward_ca = argv[++i];
        } else if (strcmp(a, "--forward-insecure-skip-verify") == 0) {
            o.forward_insecure = true;
        } else if (strcmp(a, "--forward-grpc-tls") == 0) {
            o.forward_grpc_tls = true;
        } else if ((strcmp(a, "--forward-compression") == 0 ||
                    strcmp(a, "--policy-compression") == 0) &&
                   v) {
            unsigned c = parse_compress(argv[++i]);
            if (c == 0) {
                fprintf(stderr, "sluice serve: %s wants gzip or none\n", a);
                return usage(NULL);
            }
            if (a[2] == 'f') {
                o.forward_compress = c;
            } else {
                o.policy_compress = c;
            }
        } else if (strcmp(a, "--config") == 0 && v) {
            config = argv[++i];
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(NULL);
            return SL_EXIT_OK;
        } else {
            fprintf(stderr, "sluice serve: unknown or incomplete option %s\n",
                    a);
            return usage(NULL);
        }
    }
    if ((o.output != NULL) + (o.forward != NULL) + (o.forward_grpc != NULL) >
        1) {
        return usage("--output, --forward and --forward-grpc exclude each "
                     "other");
    }
    if (o.forward_proto && !o.forward) {
        return usage("--forward-protobuf goes with --forward");
    }
    sl__serve_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    if (config) {
        sl_error err = {0};
        sl_status rc = sl__serve_config_load(config, &cfg, &err);
        if (rc != SL_OK) {
            if (!err.msg[0]) {
                snprintf(err.msg, sizeof(err.msg), "%s", sl_status_str(rc));
            }
            sl_cli_print_error(&err);
            return SL_EXIT_INPUT;
        }
        if (print_problems(&cfg) > 0) {
            sl__serve_config_free(&cfg);
            return SL_EXIT_INPUT;
        }
        sl__serve_config_merge(&o, &cfg);
    }
    int status;
    if ((o.tls_cert != NULL) != (o.tls_key != NULL)) {
        status = usage("--tls-cert and --tls-key go together");
    } else if (o.tls_client_ca && !o.tls_cert) {
        status = usage("--tls-client-ca needs --tls-cert and --tls-key");
    } else if ((o.admin_tls_cert != NULL) != (o.admin_tls_key != NULL)) {
        status = usage("--admin-tls-cert and --admin-tls-key go together");
    } else if (o.admin_tls_same && o.admin_tls_cert) {
        status = usage("--admin-tls excludes --admin-tls-cert");
    } else if (o.admin_tls_same && !o.tls_cert) {
        status = usage("--admin-tls needs --tls-cert and --tls-key");
    } else if (o.policy_ca && !o.policy_server) {
        status = usage("--policy-ca goes with --policy-server");
    } else if (o.forward_grpc_tls && !o.forward_grpc) {
        status = usage("--forward-grpc-tls goes with --forward-grpc");
    } else if (o.npolicies == 0 && !o.policy_server) {
        status = usage("--policies (or policies.files in --config) or "
                       "--policy-server is required");
    } else {
        status = sl__serve_run(&o);
    }
    sl__serve_config_free(&cfg);
    return status;
}

/* tests/serve/test_tls.c: TLS set-up without sockets: the server context
 * names the file it cannot use, the clients refuse what they cannot
 * verify against, and the TLS, compression and verification keys of the
 * config file are applied and merged under the flags. Handshakes with real
 * clients and certificates are in tests/serve/run-serve-tls.py. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "serve/config.h"
#include "serve/forward.h"
#include "serve/grpc_client.h"
#include "serve/tls.h"
#include "serve/tmpfile.h"

Test(tls, server_context_errors_name_the_file) {
    sl_error err = {0};
    cr_assert_null(sl__tls_server_new("/nonexistent/c.pem",
                                      "/nonexistent/k.pem", NULL, &err));
    cr_assert(strstr(err.msg, "tls certificate /nonexistent/c.pem: "), "%s",
              err.msg);
    char path[64];
    write_tmp(path, "c.pem",
              "-----BEGIN CERTIFICATE-----\nnot base64 !\n"
              "-----END CERTIFICATE-----\n");
    memset(&err, 0, sizeof(err));
    cr_assert_null(sl__tls_server_new(path, path, NULL, &err));
    remove_tmp(path);
    cr_assert(strstr(err.msg, path), "%s", err.msg);
    cr_assert_neq(err.code, SL_OK);
}

Test(tls, clients_refuse_a_missing_ca_and_other_schemes) {
    sl_error err = {0};
    sl__serve_client_opts co = {.ca_file = "/nonexistent/ca.pem"};
    cr_assert_null(sl__serve_forward_new("https://localhost:1", &co, &err));
    cr_assert(strstr(err.msg, "tls CA /nonexistent/ca.pem"), "%s", err.msg);
    co.tls = true;
    cr_assert_null(sl__grpc_client_new("localhost:1", &co, &err));
    cr_assert(strstr(err.msg, "/nonexistent/ca.pem"), "%s", err.msg);
    /* a cleartext URL never reads the CA */
    sl__serve_forward *f =
        sl__serve_forward_new("http://localhost:1", &co, &err);
    cr_assert_not_null(f, "%s", err.msg);
    sl__serve_forward_free(f);
    sl__serve_client_opts insecure = {.insecure = true};
    f = sl__serve_forward_new("https://localhost", &insecure, &err);
    cr_assert_not_null(f, "%s", err.msg);
    sl__serve_forward_free(f);
    cr_assert_null(sl__serve_forward_new("ftp://localhost", &insecure, &err));
    cr_assert(strstr(err.msg, "https://"), "%s", err.msg);
}

Test(config, tls_compression_and_verify_keys_apply_and_flags_win) {
    char path[64];
    write_tmp(path, "serve.yaml", "");
    FILE *f = fopen(path, "w");
    /* the config file itself stands in for readable PEM files */
    fprintf(f,
            "receivers:\n"
            "  tls: {cert_file: %s, key_file: %s, client_ca_file: %s}\n"
            "exporter: {forward_grpc: 127.0.0.1:4317, forward_grpc_tls: true,\n"
            "           ca_file: %s, insecure_skip_verify: true,\n"
            "           compression: none}\n"
            "policies: {compression: gzip}\n",
            path, path, path, path);
    fclose(f);
    sl__serve_config cfg;
    sl_error err = {0};
    cr_assert_eq(sl__serve_config_load(path, &cfg, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(cfg.nproblems, 0, "%s", cfg.problems[0].msg);
    sl__serve_opts o;
    memset(&o, 0, sizeof(o));
    o.tls_cert = "flag.pem"; /* a flag wins */
    sl__serve_config_merge(&o, &cfg);
    cr_assert_str_eq(o.tls_cert, "flag.pem");
    cr_assert_str_eq(o.tls_key, path);
    cr_assert_str_eq(o.tls_client_ca, path);
    cr_assert_str_eq(o.forward_ca, path);
    cr_assert(o.forward_grpc_tls);
    cr_assert(o.forward_insecure);
    cr_assert_eq(o.forward_compress, SL_SERVE_COMPRESS_NONE);
    cr_assert_eq(o.policy_compress, SL_SERVE_COMPRESS_GZIP);
    sl__serve_config_free(&cfg);

    f = fopen(path, "w");
    fputs("receivers:\n  tls: {key_file: /nonexistent/k.pem}\n", f);
    fclose(f);
    cr_assert_eq(sl__serve_config_load(path, &cfg, &err), SL_OK);
    remove_tmp(path);
    cr_assert_eq(cfg.nproblems, 2);
    cr_assert_eq(cfg.problems[0].line, 2);
    cr_assert(strstr(cfg.problems[0].msg, "key_file: cannot read"), "%s",
              cfg.problems[0].msg);
    cr_assert_str_eq(cfg.problems[1].msg,
                     "tls: cert_file and key_file go together");
    sl__serve_config_free(&cfg);
}

/* src/serve/config.h: `sluice serve --config FILE`: the gateway's options
 * as a YAML (or JSON / TOML: any sl_doc syntax) document, checked key by
 * key with file:line:col problems. Flags given on the command line win
 * over the file.
 *
 *   receivers: {http: HOST:PORT, grpc: HOST:PORT,
 *               tls: {cert_file: PEM, key_file: PEM, client_ca_file: PEM}}
 *   admin: HOST:PORT
 *   threads: N
 *   policies: {files: [FILE, ...], watch: true, server: URL,
 *              protobuf: false, compression: none | gzip}
 *   exporter: {output: FILE | forward: URL | forward_grpc: HOST:PORT,
 *              rotate_bytes: N,
 *              queue_bytes: N (alias queue_max_bytes), drain_timeout_ms: N,
 *              queue_dir: DIR, queue_fsync: always | batch | never,
 *              compression: gzip | none, ca_file: PEM,
 *              insecure_skip_verify: false, forward_grpc_tls: false}
 *   limits: {max_body: N, max_decompressed: N, max_header: N,
 *            max_connections: N, idle_timeout_ms: N, read_timeout_ms: N}
 */
#ifndef SL_SERVE_CONFIG_H
#define SL_SERVE_CONFIG_H

#include "serve/private.h"

enum {
    SL_SERVE_CONFIG_MAX_PROBLEMS = 32
};

/* A loaded configuration: options plus the strings they point to. */
typedef struct sl__serve_config {
    sl__serve_opts opts;
    bool set_threads, set_watch; /* which scalars the file gave */
    char *strings[SL_SERVE_MAX_POLICY_FILES + 16]; /* owned */
    size_t lens[SL_SERVE_MAX_POLICY_FILES + 16];
    size_t nstrings;
    sl_error problems[SL_SERVE_CONFIG_MAX_PROBLEMS];
    size_t nproblems; /* more than the array holds are counted, not kept */
} sl__serve_config;

/* Read and check a configuration file. Every problem found is recorded
 * (located); the valid keys are applied. @return SL_OK when the file was
 * read and parsed (check cfg->nproblems), else the code of
 * sl_doc_parse_file() with err filled. */
sl_status sl__serve_config_load(const char *path, sl__serve_config *cfg,
                                sl_error *err);

/* Free the strings. */
void sl__serve_config_free(sl__serve_config *cfg);

/* Fill the unset fields of o (flags) from the file's options. */
void sl__serve_config_merge(sl__serve_opts *o, const sl__serve_config *cfg);

#endif

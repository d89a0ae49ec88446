/* src/cli/policy_common.h: pieces the policy subcommands (conform, apply,
 * check, bench) share: loading policy files with every problem printed,
 * and the stats JSON of the conformance runner contract. */
#ifndef SL_CLI_POLICY_COMMON_H
#define SL_CLI_POLICY_COMMON_H

#include "cli/cli.h"

enum {
    SL_CLI_MAX_POLICY_FILES = 64
};

/* Print every problem and warning of set on stderr, one per line as
 * file:line:col: [warning: ]message. */
void sl_cli_policy_print(const sl_policy_set *set);

/* Load policy files; print each problem and warning on stderr. Returns NULL
 * (after printing) when a file cannot be read or parsed at all. */
sl_policy_set *sl_cli_policy_load(const char *const *paths, size_t n);

/* The same with load options (NULL: the defaults). */
sl_policy_set *sl_cli_policy_load_opts(const char *const *paths, size_t n,
                                       const sl_policy_opts *opts);

/* Append the runner-contract stats JSON ({"policies":[{"policy_id","hits"
 * [,"misses"]}]}, sorted by id, only policies with hits or misses) to out;
 * with `full`, also each policy's kept / dropped / sampled_out /
 * rate_limited / transformed / transform_failed (`conform` writes the
 * contract's form, never `full`). */
sl_status sl_cli_policy_stats_json(const sl_policy_set *set, bool full,
                                   sl_buf *out);

/* Print a per-policy summary table to f: the policies of the signals in
 * signal_mask (bit 1 << sl_signal) and any policy with a non-zero
 * counter. */
void sl_cli_policy_summary(const sl_policy_set *set, unsigned signal_mask,
                           FILE *f);

#endif

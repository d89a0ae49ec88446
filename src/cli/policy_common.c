/* src/cli/policy_common.c: shared by the policy subcommands: load policy
 * files printing every problem, write the stats JSON, print a summary. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/policy_common.h"

void sl_cli_policy_print(const sl_policy_set *set) {
    for (size_t i = 0; i < sl_policy_problem_count(set); i++) {
        sl_cli_print_error(sl_policy_problem(set, i));
    }
    for (size_t i = 0; i < sl_policy_warning_count(set); i++) {
        sl_cli_print_warning(sl_policy_warning(set, i));
    }
}

sl_policy_set *sl_cli_policy_load(const char *const *paths, size_t n) {
    return sl_cli_policy_load_opts(paths, n, NULL);
}

sl_policy_set *sl_cli_policy_load_opts(const char *const *paths, size_t n,
                                       const sl_policy_opts *opts) {
    sl_error err = {0};
    sl_policy_set *set = NULL;
    sl_status rc = sl_policy_load_files(paths, n, opts, &set, &err);
    if (rc != SL_OK) {
        if (!err.msg[0]) {
            snprintf(err.msg, sizeof(err.msg), "%s", sl_status_str(rc));
        }
        sl_cli_print_error(&err);
        return NULL;
    }
    sl_cli_policy_print(set);
    return set;
}

static sl_status put(sl_buf *b, const char *s) {
    return sl_buf_append(b, s, strlen(s));
}

static sl_status put_u64(sl_buf *b, const char *key, uint64_t v) {
    char tmp[64];
    int n = snprintf(tmp, sizeof(tmp), ",\"%s\":%" PRIu64, key, v);
    return sl_buf_append(b, tmp, (size_t)n);
}

sl_status sl_cli_policy_stats_json(const sl_policy_set *set, bool full,
                                   sl_buf *out) {
    sl_status rc = put(out, "{\"policies\":[");
    bool first = true;
    for (size_t i = 0; i < sl_policy_count(set) && rc == SL_OK; i++) {
        sl_policy_stats st;
        sl_policy_stats_get(set, i, &st);
        if (st.hits == 0 && st.misses == 0) {
            continue;
        }
        const char *id = sl_policy_id(set, i);
        rc = put(out, first ? "{\"policy_id\":" : ",{\"policy_id\":");
        first = false;
        if (rc == SL_OK) {
            rc = sl_json_write_string(out, id, strlen(id));
        }
        if (rc == SL_OK) {
            rc = put_u64(out, "hits", st.hits);
        }
        if (rc == SL_OK && st.misses) {
            rc = put_u64(out, "misses", st.misses);
        }
        if (rc == SL_OK && full) {
            rc = put_u64(out, "kept", st.kept);
            rc = rc == SL_OK ? put_u64(out, "dropped", st.dropped) : rc;
            rc = rc == SL_OK ? put_u64(out, "sampled_out", st.sampled_out) : rc;
            rc = rc == SL_OK ? put_u64(out, "rate_limited", st.rate_limited)
                             : rc;
            rc = rc == SL_OK ? put_u64(out, "transformed", st.transformed) : rc;
            rc = rc == SL_OK
                     ? put_u64(out, "transform_failed", st.transform_failed)
                     : rc;
        }
        if (rc == SL_OK) {
            rc = put(out, "}");
        }
    }
    if (rc == SL_OK) {
        rc = put(out, "]}\n");
    }
    return rc;
}

void sl_cli_policy_summary(const sl_policy_set *set, unsigned signal_mask,
                           FILE *f) {
    static const char *const sig[] = {"log", "metric", "trace", "-"};
    fprintf(f, "%-32s %-6s %8s %8s %8s %8s %8s %8s %8s %8s\n", "policy",
            "signal", "hits", "misses", "kept", "dropped", "sampled", "limited",
            "failed", "changes");
    for (size_t i = 0; i < sl_policy_count(set); i++) {
        sl_policy_stats st;
        sl_policy_stats_get(set, i, &st);
        bool seen = (signal_mask >> sl_policy_signal(set, i)) & 1u;
        if (!seen && st.hits == 0 && st.misses == 0) {
            continue;
        }
        fprintf(f,
                "%-32s %-6s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
                " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
                sl_policy_id(set, i), sig[sl_policy_signal(set, i)], st.hits,
                st.misses, st.kept, st.dropped, st.sampled_out, st.rate_limited,
                st.transform_failed, st.transformed);
    }
}

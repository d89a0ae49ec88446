/* src/cli/cmd_check.c: sluice check P...: validate policy files. Each file
 * is loaded on its own; every problem is printed as `file:line:col: policy
 * <id>: message` on stderr (warnings as `file:line:col: warning: ...`), and
 * one line per file on stdout says how many policies are valid. Exit 0 when
 * every file is clean (warnings allowed), 1 when any file has a problem or
 * cannot be read or parsed, 2 for bad usage. `sluice check --config FILE`
 * checks a `serve` configuration instead (cmd_serve.c). */
#include <string.h>

#include "cli/policy_common.h"

int sl_cmd_check(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--config") == 0) {
#ifdef SLUICE_HAVE_SERVE
        return sl_cli_serve_check_config(argv[2]); /* cmd_serve.c */
#else
        fprintf(stderr,
                "sluice check: --config checks a serve configuration, "
                "and this build has no serve (SLUICE_BUILD_SERVE=OFF)\n");
        return SL_EXIT_USAGE;
#endif
    }
    if (argc < 2) {
        fprintf(stderr, "usage: sluice check POLICY_FILE...\n");
        return SL_EXIT_USAGE;
    }
    int status = SL_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "usage: sluice check POLICY_FILE...\n");
            return SL_EXIT_USAGE;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *path = argv[i];
        sl_policy_set *set = sl_cli_policy_load(&path, 1);
        if (!set) {
            status = SL_EXIT_INPUT;
            continue;
        }
        size_t problems = sl_policy_problem_count(set);
        size_t warnings = sl_policy_warning_count(set);
        printf("%s: %zu valid %s, %zu %s", path, sl_policy_count(set),
               sl_policy_count(set) == 1 ? "policy" : "policies", problems,
               problems == 1 ? "problem" : "problems");
        if (warnings) {
            printf(", %zu %s", warnings,
                   warnings == 1 ? "warning" : "warnings");
        }
        printf("\n");
        if (problems) {
            status = SL_EXIT_INPUT;
        }
        sl_policy_set_free(set);
    }
    return status;
}

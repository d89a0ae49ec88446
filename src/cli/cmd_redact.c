/* src/cli/cmd_redact.c: placeholder; the subcommand lands with its issue.
 * Until then it says so and exits 2 rather than pretending to work. */
#include "cli/cli.h"

int sl_cmd_redact(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice redact: not implemented yet\n");
    return SL_EXIT_USAGE;
}

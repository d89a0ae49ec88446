/* src/cli/cli.h: the sluice command's shared pieces. The CLI is thin: each
 * subcommand lives in cmd_<name>.c, parses its arguments, calls the
 * library, prints. Exit status: 0 clean, 1 input errors, 2 usage. */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <sluice/sluice.h>

#include <stdio.h>

enum {
    SL_EXIT_OK = 0,
    SL_EXIT_INPUT = 1,
    SL_EXIT_USAGE = 2
};

/* One entry per subcommand (cmd_<name>.c). */
int sl_cmd_convert(int argc, char **argv);
int sl_cmd_conform(int argc, char **argv);
int sl_cmd_apply(int argc, char **argv);
int sl_cmd_check(int argc, char **argv);
int sl_cmd_bench(int argc, char **argv);
int sl_cmd_redact(int argc, char **argv);
/* The default SAFE redactor, without its value detectors when no_detect
 * (redact and record's --no-detect). */
sl_status sl_cli_default_redactor(bool no_detect, sl_redactor **out,
                                  sl_error *err);
int sl_cmd_record(int argc, char **argv);
int sl_cmd_runs(int argc, char **argv);
int sl_cmd_filter(int argc, char **argv);
int sl_cmd_serve(int argc, char **argv);
/* sluice check --config FILE: the serve configuration and its policies. */
int sl_cli_serve_check_config(const char *path);

/* Print an error as "file:line:col: message" on stderr. */
void sl_cli_print_error(const sl_error *err);

/* The same for a warning: `file:line:col: warning: message`. */
void sl_cli_print_warning(const sl_error *w);

/* Write a whole buffer to a file ("-" = stdout); 0 on success. */
int sl_cli_write_file(const char *path, const char *data, size_t len);

#endif

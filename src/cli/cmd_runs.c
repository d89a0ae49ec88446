/* src/cli/cmd_runs.c: sluice runs list --db DB | show --db DB RUN_ID |
 * end --db DB RUN_ID --status S. `list` prints one JSON object per run,
 * `show` one per event (JSON lines); `end` closes a running run with
 * success, failure, error or cancelled (an unknown or finished run is an
 * error, exit 1). Exit 2 for bad usage. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static int usage(void) {
    fprintf(stderr, "usage: sluice runs list --db DB\n"
                    "       sluice runs show --db DB RUN_ID\n"
                    "       sluice runs end --db DB RUN_ID --status "
                    "success|failure|error|cancelled\n");
    return SL_EXIT_USAGE;
}

static int print_line(const char *line, size_t len, void *ctx) {
    (void)ctx;
    return fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF;
}

int sl_cmd_runs(int argc, char **argv) {
    if (argc < 2) {
        return usage();
    }
    const char *verb = argv[1];
    const char *db = NULL, *run_id = NULL, *status = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--db") == 0 && i + 1 < argc) {
            db = argv[++i];
        } else if (strcmp(a, "--status") == 0 && i + 1 < argc) {
            status = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "sluice runs: unknown option \"%s\"\n", a);
            return usage();
        } else if (!run_id) {
            run_id = a;
        } else {
            return usage();
        }
    }
    bool list = strcmp(verb, "list") == 0;
    bool show = strcmp(verb, "show") == 0;
    bool end = strcmp(verb, "end") == 0;
    if (!db || !(list || show || end) || (list && (run_id || status)) ||
        (show && (!run_id || status)) || (end && (!run_id || !status))) {
        return usage();
    }
    if (access(db, F_OK) != 0) {
        /* reading or ending runs never creates a database */
        fprintf(stderr, "%s: cannot open: %s\n", db, strerror(errno));
        return SL_EXIT_INPUT;
    }
    sl_error err = {0};
    sl_recorder *rec = NULL;
    if (sl_recorder_open(db, NULL, &rec, &err) != SL_OK) {
        sl_cli_print_error(&err);
        return SL_EXIT_INPUT;
    }
    sl_status rc;
    if (list) {
        rc = sl_recorder_list_runs(rec, print_line, NULL, &err);
    } else if (show) {
        rc = sl_recorder_show_run(rec, run_id, print_line, NULL, &err);
    } else {
        rc = sl_recorder_end_run(rec, run_id, status, &err);
    }
    int code = SL_EXIT_OK;
    if (rc != SL_OK) {
        sl_cli_print_error(&err);
        code = SL_EXIT_INPUT;
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "sluice runs: write failed\n");
        code = SL_EXIT_INPUT;
    }
    sl_recorder_close(rec);
    return code;
}

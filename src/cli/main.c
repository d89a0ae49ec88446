/* src/cli/main.c: the sluice command: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"apply", sl_cmd_apply, "apply telemetry policies to OTLP JSON"},
    {"bench", sl_cmd_bench, "measure policies on your own data"},
    {"check", sl_cmd_check, "validate policy files"},
    {"conform", sl_cmd_conform, "policy-conformance runner contract"},
    {"convert", sl_cmd_convert, "read JSON/TOML/YAML, write JSON"},
    {"filter", sl_cmd_filter, "trace filters: check, show, explain"},
    {"record", sl_cmd_record, "record a run's events, redacted, to SQLite"},
    {"redact", sl_cmd_redact, "redact JSON payloads"},
    {"runs", sl_cmd_runs, "list, show and end recorded runs"},
#ifdef SLUICE_HAVE_SERVE /* not in builds made with SLUICE_BUILD_SERVE=OFF */
    {"serve", sl_cmd_serve, "OTLP gateway: receive, apply policies, export"},
#endif
};

static void usage(FILE *f) {
    fprintf(f, "usage: sluice <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(f, "\nsluice %s\n", SL_VERSION_STRING);
}

void sl_cli_print_error(const sl_error *err) {
    char line[1024];
    sl_error_format(err, line, sizeof(line));
    fprintf(stderr, "%s\n", line);
}

void sl_cli_print_warning(const sl_error *w) {
    sl_error e = *w;
    static const char tag[] = "warning: ";
    size_t n = strnlen(w->msg, sizeof(e.msg) - sizeof(tag));
    memcpy(e.msg, tag, sizeof(tag) - 1);
    memcpy(e.msg + sizeof(tag) - 1, w->msg, n);
    e.msg[sizeof(tag) - 1 + n] = '\0';
    sl_cli_print_error(&e);
}

int sl_cli_write_file(const char *path, const char *data, size_t len) {
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "%s: cannot open for writing\n", path);
        return 1;
    }
    size_t n = len ? fwrite(data, 1, len, f) : 0;
    int bad = n != len;
    if (f == stdout) {
        bad |= fflush(f) != 0;
    } else {
        bad |= fclose(f) != 0;
    }
    if (bad) {
        fprintf(stderr, "%s: write failed\n", path);
    }
    return bad;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? SL_EXIT_USAGE : SL_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("sluice %s\n", SL_VERSION_STRING);
        return SL_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "sluice: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return SL_EXIT_USAGE;
}

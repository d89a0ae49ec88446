/* src/cli/cmd_convert.c: sluice convert [--from json|toml|yaml] [--tagged]
 * [--pretty] [FILE|-]: read one document, write it as JSON (or as
 * toml-test's tagged JSON). Exit 0 for valid input; 1 with a located error
 * on stderr for invalid input; 2 for bad usage. */
#include <string.h>

#include "cli/cli.h"

static int usage(void) {
    fprintf(stderr, "usage: sluice convert [--from json|toml|yaml] "
                    "[--tagged] [--pretty] [FILE|-]\n");
    return SL_EXIT_USAGE;
}

int sl_cmd_convert(int argc, char **argv) {
    sl_format fmt = SL_FORMAT_AUTO;
    bool tagged = false;
    unsigned flags = SL_WRITE_COMPACT;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--from") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            if (strcmp(f, "json") == 0) {
                fmt = SL_FORMAT_JSON;
            } else if (strcmp(f, "toml") == 0) {
                fmt = SL_FORMAT_TOML;
            } else if (strcmp(f, "yaml") == 0) {
                fmt = SL_FORMAT_YAML;
            } else {
                fprintf(stderr, "sluice convert: unknown format \"%s\"\n", f);
                return usage();
            }
        } else if (strcmp(a, "--tagged") == 0) {
            tagged = true;
        } else if (strcmp(a, "--pretty") == 0) {
            flags = SL_WRITE_PRETTY;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "sluice convert: unknown option \"%s\"\n", a);
            return usage();
        } else if (!path) {
            path = a;
        } else {
            return usage();
        }
    }
    if (!path) {
        path = "-";
    }
    sl_error err = {0};
    sl_doc *doc = NULL;
    sl_status rc = sl_doc_parse_file(path, fmt, NULL, &doc, &err);
    if (rc != SL_OK) {
        sl_cli_print_error(&err);
        return SL_EXIT_INPUT;
    }
    sl_buf out = {0};
    rc = tagged ? sl_doc_write_tagged(&out, sl_doc_root(doc), &err)
                : sl_json_write(&out, sl_doc_root(doc), flags, &err);
    if (rc == SL_OK) {
        rc = sl_buf_append(&out, "\n", 1);
    }
    int status = SL_EXIT_OK;
    if (rc != SL_OK) {
        if (!err.msg[0]) {
            snprintf(err.msg, sizeof(err.msg), "%s", sl_status_str(rc));
        }
        sl_cli_print_error(&err);
        status = SL_EXIT_INPUT;
    } else if (sl_cli_write_file("-", out.ptr, out.len) != 0) {
        status = SL_EXIT_INPUT;
    }
    sl_buf_free(&out);
    sl_doc_free(doc);
    return status;
}

/* src/cli/cmd_record.c: sluice record --db DB --entrypoint NAME
 * [--policy P | --no-detect] [FILE|-]. Each JSON value of the input is an event
 * {"type": "...", "payload": {...}}; all of them become one run in DB,
 * redacted with the policy (default SAFE, value detectors included unless
 * --no-detect) before anything is stored. Every
 * valid event is stored; each rejected one is named by its line on stderr
 * (exit 1 at the end). Prints the run id; the run stays "running" until
 * `sluice runs end`. Exit 2 for bad usage. */
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "cli/value_stream.h"

static int usage(void) {
    fprintf(stderr, "usage: sluice record --db DB --entrypoint NAME "
                    "[--policy FILE | --no-detect] [FILE|-]\n");
    return SL_EXIT_USAGE;
}

/* The event's type and payload, or a message naming what is wrong. */
static const char *event_parts(const sl_node *ev, const char **type,
                               const sl_node **payload, char *tbuf,
                               size_t tcap) {
    if (sl_node_kind_of(ev) != SL_NODE_OBJECT) {
        return "an event must be an object {\"type\": ..., \"payload\": {...}}";
    }
    *payload = NULL;
    const sl_node *t = NULL;
    for (size_t i = 0; i < sl_node_len(ev); i++) {
        sl_str k = sl_node_key(ev, i);
        if (k.len == 4 && memcmp(k.ptr, "type", 4) == 0) {
            t = sl_node_at(ev, i);
        } else if (k.len == 7 && memcmp(k.ptr, "payload", 7) == 0) {
            *payload = sl_node_at(ev, i);
        } else {
            return "an event has only \"type\" and \"payload\"";
        }
    }
    if (!t || sl_node_kind_of(t) != SL_NODE_STRING) {
        return "event \"type\" must be a string";
    }
    if (!*payload) {
        return "event has no \"payload\"";
    }
    sl_str ts = sl_node_str(t);
    if (ts.len == 0 || ts.len >= tcap || memchr(ts.ptr, '\0', ts.len)) {
        return "event \"type\" must be 1 to 256 bytes";
    }
    memcpy(tbuf, ts.ptr, ts.len);
    tbuf[ts.len] = '\0';
    *type = tbuf;
    return NULL;
}

int sl_cmd_record(int argc, char **argv) {
    const char *db = NULL, *entry = NULL, *policy = NULL, *path = NULL;
    bool no_detect = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--db") == 0 && i + 1 < argc) {
            db = argv[++i];
        } else if (strcmp(a, "--entrypoint") == 0 && i + 1 < argc) {
            entry = argv[++i];
        } else if (strcmp(a, "--policy") == 0 && i + 1 < argc) {
            policy = argv[++i];
        } else if (strcmp(a, "--no-detect") == 0) {
            no_detect = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "sluice record: unknown option \"%s\"\n", a);
            return usage();
        } else if (!path) {
            path = a;
        } else {
            return usage();
        }
    }
    if (!db || !entry || (policy && no_detect)) {
        return usage();
    }
    sl_error err = {0};
    sl_redactor *r = NULL;
    if (policy
            ? sl_redactor_load(policy, &r, &err) != SL_OK
            : no_detect && sl_cli_default_redactor(true, &r, &err) != SL_OK) {
        sl_cli_print_error(&err);
        return SL_EXIT_INPUT;
    }
    sl_recorder *rec = NULL;
    if (sl_recorder_open(db, r, &rec, &err) != SL_OK) {
        sl_cli_print_error(&err);
        sl_redactor_free(r);
        return SL_EXIT_INPUT;
    }
    sl_cli_stream in;
    if (sl_cli_stream_open(&in, path ? path : "-") != 0) {
        sl_recorder_close(rec);
        sl_redactor_free(r);
        return SL_EXIT_INPUT;
    }
    char run_id[SL_RUN_ID_LEN + 1];
    int status = SL_EXIT_OK;
    if (sl_recorder_start_run(rec, entry, run_id, &err) != SL_OK) {
        sl_cli_print_error(&err);
        status = SL_EXIT_INPUT;
        goto done;
    }
    unsigned long long stored = 0, rejected = 0;
    for (;;) {
        int got = sl_cli_stream_next(&in, &err);
        if (got == 0) {
            break;
        }
        if (got == -2) {
            sl_cli_print_error(&err);
            status = SL_EXIT_INPUT;
            break;
        }
        if (got == -1) {
            sl_cli_print_error(&err);
            rejected++;
            status = SL_EXIT_INPUT;
            continue;
        }
        const char *type = NULL;
        const sl_node *payload = NULL;
        char tbuf[257];
        const char *why = event_parts(sl_doc_root(in.doc), &type, &payload,
                                      tbuf, sizeof(tbuf));
        sl_status rc = SL_ESCHEMA;
        sl__error_clear(&err);
        if (!why) {
            rc = sl_recorder_log_doc_node(rec, run_id, type, in.doc, payload,
                                          NULL, &err);
        }
        if (rc != SL_OK) {
            fprintf(stderr, "%s:%u: event rejected: %s\n", in.name,
                    (unsigned)sl_cli_stream_value_line(&in),
                    why ? why : err.msg);
            rejected++;
            status = SL_EXIT_INPUT;
            if (rc == SL_EDB || rc == SL_ENOMEM) {
                break;
            }
            continue;
        }
        stored++;
    }
    printf("%s\n", run_id);
    fprintf(stderr,
            "sluice record: run %s: %llu events stored, %llu "
            "rejected\n",
            run_id, stored, rejected);
done:
    sl_cli_stream_close(&in);
    sl_recorder_close(rec);
    sl_redactor_free(r);
    return status;
}

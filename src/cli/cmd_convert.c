/* src/cli/cmd_convert.c: sluice convert.
 *   sluice convert [--from json|toml|yaml] [--tagged] [--pretty] [FILE|-]
 * reads one document and writes it as JSON (or as toml-test's tagged
 * JSON);
 *   sluice convert --from otlp-json|otlp-proto --to otlp-json|otlp-proto
 *                  [--signal logs|metrics|traces] [--delimited] [IN [OUT]]
 * converts OTLP export requests between JSON and protobuf. OTLP/JSON is
 * one request per line (JSON lines; a single pretty-printed document is
 * fine too); OTLP/protobuf is one Export*ServiceRequest per file, or with
 * --delimited a stream of requests each preceded by its length as a
 * varint (protobuf's writeDelimitedTo). Protobuf input needs --signal;
 * JSON input says its own. Exit 0 for valid input; 1 with a located error
 * on stderr for invalid input; 2 for bad usage. */
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"

static int usage(void) {
    fprintf(stderr, "usage: sluice convert [--from json|toml|yaml] [--tagged] "
                    "[--pretty] [FILE|-]\n"
                    "       sluice convert --from otlp-json|otlp-proto "
                    "--to otlp-json|otlp-proto\n"
                    "                      [--signal logs|metrics|traces] "
                    "[--delimited] [IN|- [OUT|-]]\n");
    return SL_EXIT_USAGE;
}

enum {
    OTLP_NONE = 0,
    OTLP_JSON = 1,
    OTLP_PROTO = 2
};

static int otlp_format(const char *f) {
    if (strcmp(f, "otlp-json") == 0) {
        return OTLP_JSON;
    }
    if (strcmp(f, "otlp-proto") == 0) {
        return OTLP_PROTO;
    }
    return OTLP_NONE;
}

/* A varint length prefix from text[*off..len); false when malformed. */
static bool read_prefix(const char *text, size_t len, size_t *off,
                        size_t *out) {
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && *off < len; shift += 7) {
        uint8_t b = (uint8_t)text[(*off)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (v > len - *off) {
                return false;
            }
            *out = (size_t)v;
            return true;
        }
    }
    return false;
}

static sl_status put_prefix(sl_buf *b, size_t n) {
    uint8_t v[10];
    size_t k = 0;
    do {
        v[k] = (uint8_t)(n & 0x7f);
        n >>= 7;
        if (n) {
            v[k] |= 0x80;
        }
        k++;
    } while (n);
    return sl_buf_append(b, v, k);
}

/* Write the loaded request o to out in format to. */
static sl_status write_one(sl_otlp *o, int to, bool delimited, sl_buf *out,
                           sl_buf *tmp, sl_error *err) {
    if (to == OTLP_JSON) {
        sl_status rc = sl_otlp_write(o, out, err);
        return rc == SL_OK ? sl_buf_append(out, "\n", 1) : rc;
    }
    if (!delimited) {
        return sl_otlp_write_proto(o, out, err);
    }
    tmp->len = 0;
    sl_status rc = sl_otlp_write_proto(o, tmp, err);
    if (rc == SL_OK) {
        rc = put_prefix(out, tmp->len);
    }
    return rc == SL_OK ? sl_buf_append(out, tmp->ptr, tmp->len) : rc;
}

/* The command's end: the error (its message, or its status's name) or
 * the output written to path ("-": stdout); the exit status. */
static int finish(sl_status rc, sl_error *err, const sl_buf *out,
                  const char *path) {
    if (rc != SL_OK) {
        if (!err->msg[0]) {
            snprintf(err->msg, sizeof(err->msg), "%s", sl_status_str(rc));
        }
        sl_cli_print_error(err);
        return SL_EXIT_INPUT;
    }
    return sl_cli_write_file(path, out->ptr ? out->ptr : "", out->len) != 0
               ? SL_EXIT_INPUT
               : SL_EXIT_OK;
}

static int convert_otlp(int from, int to, int sig, bool delimited,
                        const char *in, const char *outp) {
    if (from == OTLP_PROTO && sig < 0) {
        fprintf(stderr, "sluice convert: protobuf input needs --signal\n");
        return usage();
    }
    sl_error err = {0};
    char *text = NULL;
    size_t len = 0;
    sl_status rc = sl__read_file(in, &text, &len, &err);
    if (rc != SL_OK) {
        sl_cli_print_error(&err);
        return SL_EXIT_INPUT;
    }
    sl_otlp *o = sl_otlp_new();
    sl_buf out = {0}, tmp = {0};
    size_t off = 0, count = 0;
    rc = o ? SL_OK : SL_ENOMEM;
    while (rc == SL_OK) {
        if (from == OTLP_JSON) {
            rc = sl_otlp_load(o, text, len, &off, in, &err);
            if (rc == SL_ENOTFOUND) {
                rc = SL_OK;
                break;
            }
        } else {
            size_t n = len;
            if (delimited) {
                if (off == len) {
                    break;
                }
                if (!read_prefix(text, len, &off, &n)) {
                    rc = sl__error(&err, SL_EPARSE, NULL,
                                   "%s: request %zu: bad length prefix (offset "
                                   "%zu)",
                                   in, count, off);
                    break;
                }
            } else if (count == 1) {
                break;
            }
            rc = sl_otlp_load_proto(o, (sl_signal)sig, text + off, n, in, &err);
            off += n;
        }
        if (rc == SL_OK && sig >= 0 && from == OTLP_JSON &&
            sl_otlp_signal(o) != SL_SIGNAL_NONE &&
            sl_otlp_signal(o) != (sl_signal)sig) {
            rc = sl__error(&err, SL_ESCHEMA, NULL,
                           "%s: request %zu is not of the --signal given", in,
                           count);
        }
        if (rc == SL_OK && to == OTLP_PROTO && !delimited && count == 1) {
            rc = sl__error(&err, SL_EINVAL, NULL,
                           "%s: more than one request: protobuf output of a "
                           "stream needs --delimited",
                           in);
        }
        if (rc == SL_OK) {
            rc = write_one(o, to, delimited, &out, &tmp, &err);
        }
        count++;
    }
    int status = finish(rc, &err, &out, outp);
    sl_buf_free(&out);
    sl_buf_free(&tmp);
    sl_otlp_free(o);
    sl__free(text, len + 1);
    return status;
}

int sl_cmd_convert(int argc, char **argv) {
    sl_format fmt = SL_FORMAT_AUTO;
    bool tagged = false, delimited = false;
    int from = OTLP_NONE, to = OTLP_NONE, sig = -1;
    unsigned flags = SL_WRITE_COMPACT;
    const char *path = NULL, *outp = NULL;
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
            } else if ((from = otlp_format(f)) == OTLP_NONE) {
                fprintf(stderr, "sluice convert: unknown format \"%s\"\n", f);
                return usage();
            }
        } else if (strcmp(a, "--to") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            if ((to = otlp_format(f)) == OTLP_NONE) {
                fprintf(stderr, "sluice convert: unknown format \"%s\"\n", f);
                return usage();
            }
        } else if (strcmp(a, "--signal") == 0 && i + 1 < argc) {
            const char *s = argv[++i];
            if (strcmp(s, "logs") == 0) {
                sig = SL_SIGNAL_LOG;
            } else if (strcmp(s, "metrics") == 0) {
                sig = SL_SIGNAL_METRIC;
            } else if (strcmp(s, "traces") == 0) {
                sig = SL_SIGNAL_TRACE;
            } else {
                fprintf(stderr, "sluice convert: unknown signal \"%s\"\n", s);
                return usage();
            }
        } else if (strcmp(a, "--delimited") == 0) {
            delimited = true;
        } else if (strcmp(a, "--tagged") == 0) {
            tagged = true;
        } else if (strcmp(a, "--pretty") == 0) {
            flags = SL_WRITE_PRETTY;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "sluice convert: unknown option \"%s\"\n", a);
            return usage();
        } else if (!path) {
            path = a;
        } else if (!outp) {
            outp = a;
        } else {
            return usage();
        }
    }
    if (!path) {
        path = "-";
    }
    if (from != OTLP_NONE || to != OTLP_NONE) {
        if (from == OTLP_NONE || to == OTLP_NONE || tagged ||
            flags != SL_WRITE_COMPACT) {
            fprintf(stderr, "sluice convert: OTLP conversion needs --from "
                            "otlp-... and --to otlp-..., nothing else\n");
            return usage();
        }
        return convert_otlp(from, to, sig, delimited, path, outp ? outp : "-");
    }
    if (outp || sig >= 0 || delimited) {
        return usage();
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
    int status = finish(rc, &err, &out, "-");
    sl_buf_free(&out);
    sl_doc_free(doc);
    return status;
}

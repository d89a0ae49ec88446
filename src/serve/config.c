/* src/serve/config.c: the --config file (see config.h). One table names
 * every scalar option with its place in sl__serve_opts, so checking,
 * applying and merging are written once. */
#include "serve/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"

typedef enum kind {
    K_ADDR = 0, /* HOST:PORT string */
    K_STR = 1,
    K_SIZE = 2, /* size_t, >= 1 */
    K_UINT = 3, /* unsigned, >= 1 */
    K_ENUM = 4, /* one of option.names, stored as unsigned index + 1 */
    K_FILE = 5, /* a path that must be readable (checked at load) */
    K_BOOL = 6
} kind;

static const char *const fsync_modes[] = {"always", "batch", "never", NULL};
/* index + 1 = sl__serve_compress */
static const char *const compress_modes[] = {"gzip", "none", NULL};

typedef struct option {
    const char *section, *key;
    kind k;
    size_t off;
    uint64_t max;
    const char *const *names; /* K_ENUM */
} option;

#define OFF(f) offsetof(sl__serve_opts, f)

static const option options[] = {
    {"receivers", "http", K_ADDR, OFF(http), 0, NULL},
    {"receivers", "grpc", K_ADDR, OFF(grpc), 0, NULL},
    {"", "admin", K_ADDR, OFF(admin), 0, NULL},
    {"", "threads", K_UINT, OFF(threads), SL_SERVE_MAX_THREADS, NULL},
    {"exporter", "output", K_STR, OFF(output), 0, NULL},
    {"exporter", "forward", K_STR, OFF(forward), 0, NULL},
    {"exporter", "forward_grpc", K_ADDR, OFF(forward_grpc), 0, NULL},
    {"policies", "server", K_STR, OFF(policy_server), 0, NULL},
    {"exporter", "rotate_bytes", K_SIZE, OFF(rotate_bytes), (uint64_t)1 << 50,
     NULL},
    {"exporter", "queue_bytes", K_SIZE, OFF(queue_bytes), (uint64_t)1 << 40,
     NULL},
    {"exporter", "queue_max_bytes", K_SIZE, OFF(queue_bytes), (uint64_t)1 << 40,
     NULL},
    {"exporter", "queue_dir", K_STR, OFF(queue_dir), 0, NULL},
    {"exporter", "queue_fsync", K_ENUM, OFF(queue_fsync), 0, fsync_modes},
    {"exporter", "compression", K_ENUM, OFF(forward_compress), 0,
     compress_modes},
    {"exporter", "ca_file", K_FILE, OFF(forward_ca), 0, NULL},
    {"exporter", "insecure_skip_verify", K_BOOL, OFF(forward_insecure), 0,
     NULL},
    {"exporter", "forward_grpc_tls", K_BOOL, OFF(forward_grpc_tls), 0, NULL},
    {"policies", "compression", K_ENUM, OFF(policy_compress), 0,
     compress_modes},
    {"receivers.tls", "cert_file", K_FILE, OFF(tls_cert), 0, NULL},
    {"receivers.tls", "key_file", K_FILE, OFF(tls_key), 0, NULL},
    {"receivers.tls", "client_ca_file", K_FILE, OFF(tls_client_ca), 0, NULL},
    {"admin_tls", "cert_file", K_FILE, OFF(admin_tls_cert), 0, NULL},
    {"admin_tls", "key_file", K_FILE, OFF(admin_tls_key), 0, NULL},
    {"admin_tls", "same_as_receivers", K_BOOL, OFF(admin_tls_same), 0, NULL},
    {"policies", "ca_file", K_FILE, OFF(policy_ca), 0, NULL},
    {"policies", "regex_cache", K_STR, OFF(regex_cache), 0, NULL},
    {"exporter", "drain_timeout_ms", K_UINT, OFF(drain_timeout_ms), 86400000u,
     NULL},
    {"limits", "max_body", K_SIZE, OFF(max_body), 1u << 30, NULL},
    {"limits", "max_decompressed", K_SIZE, OFF(max_decompressed), 1u << 30,
     NULL},
    {"limits", "max_header", K_SIZE, OFF(max_header), 1u << 20, NULL},
    {"limits", "max_connections", K_UINT, OFF(max_conns), 1u << 20, NULL},
    {"limits", "max_inflight", K_SIZE, OFF(max_inflight), (uint64_t)1 << 40,
     NULL},
    {"limits", "idle_timeout_ms", K_UINT, OFF(idle_timeout_ms), 86400000u,
     NULL},
    {"limits", "read_timeout_ms", K_UINT, OFF(read_timeout_ms), 86400000u,
     NULL},
};

static const char *const sections[] = {"receivers", "exporter", "limits",
                                       "policies", "admin_tls"};

typedef struct loader {
    sl__serve_config *cfg;
    const sl_doc *doc;
    const sl_node *admin_tls; /* the admin_tls mapping, when there is one */
} loader;

static void problem(loader *ld, const sl_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(loader *ld, const sl_node *n, const char *fmt, ...) {
    sl__serve_config *cfg = ld->cfg;
    if (cfg->nproblems < SL_SERVE_CONFIG_MAX_PROBLEMS) {
        sl_pos pos = sl_node_pos(ld->doc, n);
        va_list ap;
        va_start(ap, fmt);
        sl__verror(&cfg->problems[cfg->nproblems], SL_ESCHEMA, &pos, fmt, ap);
        va_end(ap);
    }
    cfg->nproblems++;
}

static void unknown_key(loader *ld, const sl_node *obj, size_t i,
                        const char *where) {
    sl__serve_config *cfg = ld->cfg;
    sl_str k = sl_node_key(obj, i);
    char q[64];
    sl__quote(q, sizeof(q), k.ptr, k.len);
    if (cfg->nproblems < SL_SERVE_CONFIG_MAX_PROBLEMS) {
        sl_pos pos = sl_node_key_pos(ld->doc, obj, i);
        sl__error(&cfg->problems[cfg->nproblems], SL_ESCHEMA, &pos,
                  "unknown key %s%s%s", q, where[0] ? " in " : "", where);
    }
    cfg->nproblems++;
}

static char *keep(loader *ld, sl_str s) {
    sl__serve_config *cfg = ld->cfg;
    if (cfg->nstrings == SL_ARRAY_LEN(cfg->strings)) {
        return NULL;
    }
    char *p = sl__strndup(s.ptr, s.len);
    if (p) {
        cfg->lens[cfg->nstrings] = s.len;
        cfg->strings[cfg->nstrings++] = p;
    }
    return p;
}

static void apply(loader *ld, const option *op, const sl_node *v) {
    char *field = (char *)&ld->cfg->opts + op->off;
    sl_node_kind k = sl_node_kind_of(v);
    if (op->k == K_BOOL) {
        if (k != SL_NODE_BOOL) {
            problem(ld, v, "%s: expected true or false", op->key);
            return;
        }
        bool b = sl_node_bool(v);
        memcpy(field, &b, sizeof(b));
        return;
    }
    if (op->k == K_ADDR || op->k == K_STR || op->k == K_FILE) {
        if (k != SL_NODE_STRING || sl_node_str(v).len == 0) {
            problem(ld, v, "%s: expected a non-empty string, got %s", op->key,
                    sl_node_kind_name(k));
            return;
        }
        sl_str s = sl_node_str(v);
        if (op->k == K_ADDR && !memchr(s.ptr, ':', s.len)) {
            problem(ld, v, "%s: expected HOST:PORT", op->key);
            return;
        }
        const char *p = keep(ld, s);
        if (!p) {
            problem(ld, v, "%s: out of memory", op->key);
            return;
        }
        if (op->k == K_FILE && access(p, R_OK) != 0) {
            char q[64];
            sl__quote(q, sizeof(q), s.ptr, s.len);
            problem(ld, v, "%s: cannot read %s: %s", op->key, q,
                    strerror(errno));
            return;
        }
        memcpy(field, &p, sizeof(p));
        return;
    }
    if (op->k == K_ENUM) {
        sl_str s = k == SL_NODE_STRING ? sl_node_str(v) : (sl_str){"", 0};
        char list[96] = "";
        size_t used = 0;
        for (unsigned c = 0; op->names[c]; c++) {
            if (strlen(op->names[c]) == s.len &&
                memcmp(op->names[c], s.ptr, s.len) == 0) {
                unsigned u = c + 1;
                memcpy(field, &u, sizeof(u));
                return;
            }
            int w = snprintf(list + used, sizeof(list) - used, "%s%s",
                             c == 0             ? ""
                             : op->names[c + 1] ? ", "
                                                : " or ",
                             op->names[c]);
            used += w > 0 && (size_t)w < sizeof(list) - used ? (size_t)w : 0;
        }
        char q[64];
        sl__quote(q, sizeof(q), s.ptr, s.len);
        problem(ld, v, "%s: unknown value %s (%s)", op->key, q, list);
        return;
    }
    int64_t n = 0;
    if (k != SL_NODE_INT || sl_node_int(v, &n) != SL_OK || n < 1 ||
        (uint64_t)n > op->max) {
        problem(ld, v, "%s: expected an integer from 1 to %llu", op->key,
                (unsigned long long)op->max);
        return;
    }
    if (op->k == K_SIZE) {
        size_t z = (size_t)n;
        memcpy(field, &z, sizeof(z));
    } else {
        unsigned u = (unsigned)n;
        memcpy(field, &u, sizeof(u));
    }
    if (op->off == OFF(threads)) {
        ld->cfg->set_threads = true;
    }
}

static bool has_key(const sl_node *obj, const char *key) {
    for (size_t i = 0; i < sl_node_len(obj); i++) {
        sl_str k = sl_node_key(obj, i);
        if (k.len == strlen(key) && memcmp(k.ptr, key, k.len) == 0) {
            return true;
        }
    }
    return false;
}

/* admin_tls: its own cert_file and key_file (both), or
 * same_as_receivers: true (the receivers' tls, checked once the whole
 * file is read). */
static void admin_tls(loader *ld, const sl_node *v) {
    bool cert = has_key(v, "cert_file"), key = has_key(v, "key_file");
    if (cert != key) {
        problem(ld, v, "admin_tls: cert_file and key_file go together");
    } else if (cert && ld->cfg->opts.admin_tls_same) {
        problem(ld, v,
                "admin_tls: same_as_receivers excludes cert_file and "
                "key_file");
    } else if (!cert && !has_key(v, "same_as_receivers")) {
        problem(ld, v,
                "admin_tls: want cert_file and key_file, or "
                "same_as_receivers: true");
    }
    ld->admin_tls = v;
}

/* The keys of one object (section "" = the root). */
static void object(loader *ld, const sl_node *obj, const char *section) {
    for (size_t i = 0; i < sl_node_len(obj); i++) {
        sl_str key = sl_node_key(obj, i);
        const sl_node *v = sl_node_at(obj, i);
        bool known = false;
        for (size_t o = 0; o < SL_ARRAY_LEN(options); o++) {
            if (strcmp(options[o].section, section) == 0 &&
                strlen(options[o].key) == key.len &&
                memcmp(options[o].key, key.ptr, key.len) == 0) {
                apply(ld, &options[o], v);
                known = true;
            }
        }
        for (size_t s = 0;
             !known && section[0] == '\0' && s < SL_ARRAY_LEN(sections); s++) {
            if (strlen(sections[s]) != key.len ||
                memcmp(sections[s], key.ptr, key.len) != 0) {
                continue;
            }
            known = true;
            if (sl_node_kind_of(v) != SL_NODE_OBJECT) {
                problem(ld, v, "%s: expected a mapping, got %s", sections[s],
                        sl_node_kind_name(sl_node_kind_of(v)));
            } else {
                object(ld, v, sections[s]);
                if (strcmp(sections[s], "admin_tls") == 0) {
                    admin_tls(ld, v);
                }
            }
        }
        if (known) {
            continue;
        }
        if (strcmp(section, "receivers") == 0 && key.len == 3 &&
            memcmp(key.ptr, "tls", 3) == 0) {
            if (sl_node_kind_of(v) != SL_NODE_OBJECT) {
                problem(ld, v, "tls: expected a mapping, got %s",
                        sl_node_kind_name(sl_node_kind_of(v)));
            } else {
                object(ld, v, "receivers.tls");
                bool cert = has_key(v, "cert_file");
                bool pkey = has_key(v, "key_file");
                if (cert != pkey) {
                    problem(ld, v, "tls: cert_file and key_file go together");
                } else if (has_key(v, "client_ca_file") && !cert) {
                    problem(ld, v,
                            "tls: client_ca_file needs cert_file and "
                            "key_file");
                }
            }
            continue;
        }
        if (strcmp(section, "policies") == 0 && key.len == 5 &&
            memcmp(key.ptr, "files", 5) == 0) {
            sl__serve_opts *o = &ld->cfg->opts;
            if (sl_node_kind_of(v) != SL_NODE_ARRAY || sl_node_len(v) == 0) {
                problem(ld, v, "files: expected a non-empty list of paths");
                continue;
            }
            for (size_t f = 0; f < sl_node_len(v); f++) {
                const sl_node *e = sl_node_at(v, f);
                if (sl_node_kind_of(e) != SL_NODE_STRING ||
                    sl_node_str(e).len == 0) {
                    problem(ld, e, "files[%zu]: expected a path", f);
                } else if (o->npolicies == SL_SERVE_MAX_POLICY_FILES) {
                    problem(ld, e, "files: more than %d files",
                            SL_SERVE_MAX_POLICY_FILES);
                } else {
                    const char *p = keep(ld, sl_node_str(e));
                    if (p) {
                        o->policies[o->npolicies++] = p;
                    }
                }
            }
            continue;
        }
        if (strcmp(section, "policies") == 0 && key.len == 8 &&
            memcmp(key.ptr, "protobuf", 8) == 0) {
            if (sl_node_kind_of(v) != SL_NODE_BOOL) {
                problem(ld, v, "protobuf: expected true or false");
            } else {
                ld->cfg->opts.policy_proto = sl_node_bool(v);
            }
            continue;
        }
        if (strcmp(section, "policies") == 0 && key.len == 5 &&
            memcmp(key.ptr, "watch", 5) == 0) {
            if (sl_node_kind_of(v) != SL_NODE_BOOL) {
                problem(ld, v, "watch: expected true or false");
            } else {
                ld->cfg->opts.no_watch = !sl_node_bool(v);
                ld->cfg->set_watch = true;
            }
            continue;
        }
        unknown_key(ld, obj, i, section);
    }
}

sl_status sl__serve_config_load(const char *path, sl__serve_config *cfg,
                                sl_error *err) {
    memset(cfg, 0, sizeof(*cfg));
    sl_doc *doc = NULL;
    sl_status rc = sl_doc_parse_file(path, SL_FORMAT_AUTO, NULL, &doc, err);
    if (rc != SL_OK) {
        return rc;
    }
    loader ld = {cfg, doc, NULL};
    const sl_node *root = sl_doc_root(doc);
    if (!root || sl_node_kind_of(root) != SL_NODE_OBJECT) {
        problem(&ld, root, "expected a mapping of options");
    } else {
        object(&ld, root, "");
    }
    if ((cfg->opts.output != NULL) + (cfg->opts.forward != NULL) +
            (cfg->opts.forward_grpc != NULL) >
        1) {
        problem(&ld, root,
                "exporter: output, forward and forward_grpc exclude each "
                "other");
    }
    if (ld.admin_tls && cfg->opts.admin_tls_same && !cfg->opts.tls_cert) {
        problem(&ld, ld.admin_tls,
                "admin_tls: same_as_receivers needs receivers.tls");
    }
    sl_doc_free(doc);
    return SL_OK;
}

void sl__serve_config_free(sl__serve_config *cfg) {
    for (size_t i = 0; i < cfg->nstrings; i++) {
        sl__free(cfg->strings[i], cfg->lens[i] + 1);
    }
    cfg->nstrings = 0;
}

void sl__serve_config_merge(sl__serve_opts *o, const sl__serve_config *cfg) {
    const sl__serve_opts *f = &cfg->opts;
    bool flag_exporter = o->output || o->forward || o->forward_grpc;
    for (size_t i = 0; i < SL_ARRAY_LEN(options); i++) {
        if (flag_exporter &&
            (options[i].off == OFF(output) || options[i].off == OFF(forward) ||
             options[i].off == OFF(forward_grpc))) {
            continue; /* a flag chose the exporter */
        }
        char *dst = (char *)o + options[i].off;
        const char *src = (const char *)f + options[i].off;
        size_t n = options[i].k == K_UINT || options[i].k == K_ENUM
                       ? sizeof(unsigned)
                   : options[i].k == K_SIZE ? sizeof(size_t)
                   : options[i].k == K_BOOL ? sizeof(bool)
                                            : sizeof(const char *);
        static const char zero[sizeof(size_t) > sizeof(void *)
                                   ? sizeof(size_t)
                                   : sizeof(void *)];
        if (memcmp(dst, zero, n) == 0) {
            memcpy(dst, src, n); /* the flag was not given */
        }
    }
    if (o->npolicies == 0) {
        for (size_t i = 0; i < f->npolicies; i++) {
            o->policies[o->npolicies++] = f->policies[i];
        }
    }
    if (!o->policy_proto) {
        o->policy_proto = f->policy_proto;
    }
    if (!o->no_watch && cfg->set_watch) {
        o->no_watch = f->no_watch;
    }
}

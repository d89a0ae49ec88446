/* src/redact/load.c: policy files -> sl_redact_spec -> sl_redactor. Owns
 * the file schema (rules, safe_keys, hash_key_file / hash_key_env, detect,
 * extends) and its errors; compile.c owns what the rules mean.
 *
 * The one idea: read through the document tree, so JSON, YAML and TOML
 * policies are one loader, and every error can point at file:line:col of
 * the node at fault, prefixed with the rule index (`rules[2]: unknown
 * action "scramble"`). Unknown keys are errors, not ignored: a misspelt
 * `safe_key` must not silently weaken a policy. */
#include <sluice/redact.h>

#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "redact/private.h"

enum {
    MAX_KEY_FILE = 1 << 16
};

typedef struct loader {
    const sl_doc *doc;
    const char *base_dir;
    sl_error *err;
} loader;

static sl_status fail(loader *l, const sl_node *at, sl_status code,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sl_status fail(loader *l, const sl_node *at, sl_status code,
                      const char *fmt, ...) {
    sl_pos pos = sl_node_pos(l->doc, at);
    va_list ap;
    va_start(ap, fmt);
    sl__verror(l->err, code, &pos, fmt, ap);
    va_end(ap);
    return code;
}

static sl_status fail_key(loader *l, const sl_node *obj, size_t i,
                          const char *prefix) {
    sl_str k = sl_node_key(obj, i);
    char q[64];
    sl__quote(q, sizeof(q), k.ptr, k.len);
    sl_pos pos = sl_node_key_pos(l->doc, obj, i);
    return sl__error(l->err, SL_ESCHEMA, &pos, "%sunknown key %s", prefix, q);
}

static bool key_is(sl_str k, const char *name) {
    size_t n = strlen(name);
    return k.len == n && memcmp(k.ptr, name, n) == 0;
}

static sl_status want_string(loader *l, const sl_node *n, const char *what,
                             sl_str *out) {
    if (sl_node_kind_of(n) != SL_NODE_STRING) {
        return fail(l, n, SL_ESCHEMA, "%s must be a string, not %s", what,
                    sl_node_kind_name(sl_node_kind_of(n)));
    }
    *out = sl_node_str(n);
    return SL_OK;
}

static sl_status load_rule(loader *l, const sl_node *n, size_t i,
                           sl_redact_rule *rule) {
    char pre[32];
    snprintf(pre, sizeof(pre), "rules[%zu]: ", i);
    if (sl_node_kind_of(n) != SL_NODE_OBJECT) {
        return fail(l, n, SL_ESCHEMA, "%sa rule must be an object", pre);
    }
    memset(rule, 0, sizeof(*rule));
    rule->where = sl_node_pos(l->doc, n);
    bool have_action = false;
    char what[48];
    for (size_t k = 0; k < sl_node_len(n); k++) {
        sl_str key = sl_node_key(n, k);
        const sl_node *v = sl_node_at(n, k);
        sl_status rc = SL_OK;
        if (key_is(key, "action")) {
            sl_str a = {"", 0};
            snprintf(what, sizeof(what), "%saction", pre);
            rc = want_string(l, v, what, &a);
            if (rc != SL_OK) {
                return rc;
            }
            if (key_is(a, "mask")) {
                rule->action = SL_REDACT_MASK;
            } else if (key_is(a, "hash")) {
                rule->action = SL_REDACT_HASH;
            } else if (key_is(a, "drop")) {
                rule->action = SL_REDACT_DROP;
            } else {
                char q[64];
                sl__quote(q, sizeof(q), a.ptr, a.len);
                return fail(l, v, SL_ESCHEMA, "%sunknown action %s", pre, q);
            }
            have_action = true;
        } else if (key_is(key, "key")) {
            snprintf(what, sizeof(what), "%skey", pre);
            rc = want_string(l, v, what, &rule->key);
            rule->key_pos = sl_node_pos(l->doc, v);
        } else if (key_is(key, "path")) {
            snprintf(what, sizeof(what), "%spath", pre);
            rc = want_string(l, v, what, &rule->path);
            rule->path_pos = sl_node_pos(l->doc, v);
        } else if (key_is(key, "reason")) {
            snprintf(what, sizeof(what), "%sreason", pre);
            rc = want_string(l, v, what, &rule->reason);
        } else {
            return fail_key(l, n, k, pre);
        }
        if (rc != SL_OK) {
            return rc;
        }
    }
    if (!have_action) {
        return fail(l, n, SL_ESCHEMA, "%smissing action", pre);
    }
    if (!rule->key.ptr && !rule->path.ptr) {
        return fail(l, n, SL_ESCHEMA, "%sa rule needs a key or a path", pre);
    }
    return SL_OK;
}

/* Read the hash key named by hash_key_file (relative to base_dir) or
 * hash_key_env into an owned buffer; one trailing newline is not part of
 * the key. */
static sl_status read_key(loader *l, const sl_node *file, const sl_node *env,
                          uint8_t **key, size_t *klen, size_t *alloc_out) {
    sl_str s = {"", 0};
    if (file && env) {
        return fail(l, env, SL_ESCHEMA,
                    "hash_key_file and hash_key_env are exclusive");
    }
    const sl_node *at = file ? file : env;
    sl_status rc =
        want_string(l, at, file ? "hash_key_file" : "hash_key_env", &s);
    if (rc != SL_OK) {
        return rc;
    }
    char q[64];
    sl__quote(q, sizeof(q), s.ptr, s.len);
    if (s.len == 0 || memchr(s.ptr, '\0', s.len)) {
        return fail(l, at, SL_ESCHEMA, "%s must name a %s",
                    file ? "hash_key_file" : "hash_key_env",
                    file ? "file" : "variable");
    }
    char *text = NULL;
    size_t len = 0;
    if (env) {
        char name[256];
        if (s.len >= sizeof(name)) {
            return fail(l, at, SL_ELIMIT, "hash_key_env %s is too long", q);
        }
        memcpy(name, s.ptr, s.len);
        name[s.len] = '\0';
        const char *v = getenv(name);
        if (!v || !*v) {
            return fail(l, at, SL_ESCHEMA, "hash_key_env %s is not set", q);
        }
        len = strlen(v);
        text = sl__strndup(v, len);
        if (!text) {
            return sl__nomem(l->err);
        }
    } else {
        char path[4096];
        int n = s.ptr[0] == '/' || !l->base_dir
                    ? snprintf(path, sizeof(path), "%.*s", (int)s.len, s.ptr)
                    : snprintf(path, sizeof(path), "%s/%.*s", l->base_dir,
                               (int)s.len, s.ptr);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            return fail(l, at, SL_ELIMIT, "hash_key_file %s: path too long", q);
        }
        sl_error e = {0};
        rc = sl__read_file(path, &text, &len, &e);
        if (rc != SL_OK) {
            return fail(l, at, rc, "hash_key_file %s: %s", q, e.msg);
        }
        if (len > MAX_KEY_FILE) {
            sl__wipe(text, len);
            sl__free(text, len + 1);
            return fail(l, at, SL_ELIMIT, "hash_key_file %s: over 64 KiB", q);
        }
    }
    size_t alloc = len + 1;
    if (len > 0 && text[len - 1] == '\n') {
        len--;
        if (len > 0 && text[len - 1] == '\r') {
            len--;
        }
    }
    if (len == 0) {
        sl__wipe(text, alloc);
        sl__free(text, alloc);
        return fail(l, at, SL_ESCHEMA, "%s %s: the key is empty",
                    file ? "hash_key_file" : "hash_key_env", q);
    }
    *key = (uint8_t *)text;
    *klen = len;
    *alloc_out = alloc; /* the caller wipes and frees alloc bytes */
    return SL_OK;
}

static sl_status load_detect(loader *l, const sl_node *n, unsigned *bits) {
    if (sl_node_kind_of(n) != SL_NODE_ARRAY) {
        return fail(l, n, SL_ESCHEMA,
                    "detect must be an array of detector names");
    }
    for (size_t i = 0; i < sl_node_len(n); i++) {
        const sl_node *v = sl_node_at(n, i);
        sl_str s = {"", 0};
        char what[32];
        snprintf(what, sizeof(what), "detect[%zu]", i);
        sl_status rc = want_string(l, v, what, &s);
        if (rc != SL_OK) {
            return rc;
        }
        unsigned b = sl__redact_detector_bit(s.ptr, s.len);
        if (!b) {
            char q[64];
            sl__quote(q, sizeof(q), s.ptr, s.len);
            return fail(l, v, SL_ESCHEMA, "detect[%zu]: unknown detector %s", i,
                        q);
        }
        *bits |= b;
    }
    return SL_OK;
}

sl_status sl_redactor_load_doc(const sl_doc *doc, const char *base_dir,
                               sl_redactor **out, sl_error *err) {
    if (!doc || !out) {
        return sl__error(err, SL_EINVAL, NULL, "no document or no output");
    }
    loader l = {doc, base_dir, err};
    const sl_node *root = sl_doc_root(doc);
    if (sl_node_kind_of(root) != SL_NODE_OBJECT) {
        return fail(&l, root, SL_ESCHEMA, "a policy must be an object");
    }
    sl_redact_spec spec = {0};
    sl_redact_rule *rules = NULL;
    sl_str *safe = NULL;
    uint8_t *key = NULL;
    size_t key_alloc = 0;
    const sl_node *rules_n = NULL, *safe_n = NULL, *kf = NULL, *ke = NULL;
    sl_status rc = SL_OK;
    for (size_t i = 0; i < sl_node_len(root) && rc == SL_OK; i++) {
        sl_str k = sl_node_key(root, i);
        const sl_node *v = sl_node_at(root, i);
        if (key_is(k, "rules")) {
            rules_n = v;
        } else if (key_is(k, "safe_keys")) {
            safe_n = v;
        } else if (key_is(k, "hash_key_file")) {
            kf = v;
        } else if (key_is(k, "hash_key_env")) {
            ke = v;
        } else if (key_is(k, "detect")) {
            rc = load_detect(&l, v, &spec.detect);
            spec.detect_exact = true; /* a policy's list is the whole set */
        } else if (key_is(k, "extends")) {
            sl_str s = {"", 0};
            rc = want_string(&l, v, "extends", &s);
            if (rc == SL_OK && !key_is(s, "default")) {
                char q[64];
                sl__quote(q, sizeof(q), s.ptr, s.len);
                rc = fail(&l, v, SL_ESCHEMA,
                          "extends %s: only \"default\" exists", q);
            }
            spec.extends_default = true;
        } else {
            rc = fail_key(&l, root, i, "");
        }
    }
    if (rc == SL_OK && rules_n) {
        if (sl_node_kind_of(rules_n) != SL_NODE_ARRAY) {
            rc = fail(&l, rules_n, SL_ESCHEMA, "rules must be an array");
        } else if (sl_node_len(rules_n) > SL__REDACT_MAX_RULES) {
            rc = fail(&l, rules_n, SL_ELIMIT, "more than %d rules",
                      SL__REDACT_MAX_RULES);
        } else if (sl_node_len(rules_n) > 0) {
            spec.n_rules = sl_node_len(rules_n);
            rules = sl__calloc(spec.n_rules, sizeof(*rules));
            if (!rules) {
                rc = sl__nomem(err);
            }
            for (size_t i = 0; rc == SL_OK && i < spec.n_rules; i++) {
                rc = load_rule(&l, sl_node_at(rules_n, i), i, &rules[i]);
            }
            spec.rules = rules;
        }
    }
    if (rc == SL_OK && safe_n) {
        if (sl_node_kind_of(safe_n) != SL_NODE_ARRAY) {
            rc = fail(&l, safe_n, SL_ESCHEMA,
                      "safe_keys must be an array of strings");
        } else if (sl_node_len(safe_n) > SL__REDACT_MAX_SAFE) {
            rc = fail(&l, safe_n, SL_ELIMIT, "more than %d safe keys",
                      SL__REDACT_MAX_SAFE);
        } else if (sl_node_len(safe_n) > 0) {
            spec.n_safe_keys = sl_node_len(safe_n);
            safe = sl__calloc(spec.n_safe_keys, sizeof(*safe));
            if (!safe) {
                rc = sl__nomem(err);
            }
            for (size_t i = 0; rc == SL_OK && i < spec.n_safe_keys; i++) {
                char what[32];
                snprintf(what, sizeof(what), "safe_keys[%zu]", i);
                rc = want_string(&l, sl_node_at(safe_n, i), what, &safe[i]);
            }
            spec.safe_keys = safe;
        }
    }
    if (rc == SL_OK && (kf || ke)) {
        size_t klen = 0;
        rc = read_key(&l, kf, ke, &key, &klen, &key_alloc);
        if (rc == SL_OK) {
            spec.hash_key = key;
            spec.hash_key_len = klen;
        }
    }
    if (rc == SL_OK) {
        rc = sl_redactor_compile(&spec, out, err);
    }
    if (key) {
        sl__wipe(key, key_alloc);
        sl__free(key, key_alloc);
    }
    sl__free(rules, spec.n_rules * sizeof(*rules));
    sl__free(safe, spec.n_safe_keys * sizeof(*safe));
    return rc;
}

sl_status sl_redactor_load(const char *path, sl_redactor **out, sl_error *err) {
    if (!path || !out) {
        return sl__error(err, SL_EINVAL, NULL, "no path or no output");
    }
    sl_doc *doc = NULL;
    sl_status rc = sl_doc_parse_file(path, SL_FORMAT_AUTO, NULL, &doc, err);
    if (rc != SL_OK) {
        return rc;
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    const char *base = NULL;
    if (slash && (size_t)(slash - path) < sizeof(dir)) {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, n);
        dir[n] = '\0';
        base = dir;
    }
    rc = sl_redactor_load_doc(doc, base, out, err);
    sl_doc_free(doc);
    return rc;
}

/* src/redact/compile.c: rules -> an immutable sl_redactor. Owns rule
 * validation, the key pattern set, the safe-key table and the hash key;
 * leaves files to load.c and the rewrite to walk.c.
 *
 * The one idea: every key pattern of every rule (substring, glob, regex,
 * literal; all caseless) goes into ONE sl_patset whose ids are rule
 * indices, so one scan of a key yields every rule whose key matches; the
 * first rule wins by taking the smallest index among those whose path
 * constraint also holds. Whole-word terms (the default policy, "word:")
 * go to the word table instead (words.c). */
#include <sluice/redact.h>

#include <stdio.h>

#include "base/base.h"
#include "redact/private.h"

static const char *const action_names[] = {"mask", "hash", "drop"};

const char *sl_redact_action_name(sl_redact_action a) {
    return (unsigned)a < SL_ARRAY_LEN(action_names) ? action_names[a]
                                                    : "unknown";
}

static unsigned char lower(unsigned char c) {
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static uint64_t hash_lower(const char *s, size_t len) {
    uint64_t h = SL_FNV64_OFFSET;
    for (size_t i = 0; i < len; i++) {
        h ^= lower((unsigned char)s[i]);
        h *= 0x100000001b3ull;
    }
    return h;
}

static bool eq_lower(const char *a, const char *b, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) {
            return false;
        }
    }
    return true;
}

bool sl__redact_is_safe(const sl_redactor *r, const char *key, size_t len) {
    if (r->safe_cap == 0) {
        return false;
    }
    size_t mask = r->safe_cap - 1;
    for (size_t i = hash_lower(key, len) & mask;; i = (i + 1) & mask) {
        const sl_str *s = &r->safe[i];
        if (!s->ptr) {
            return false;
        }
        if (s->len == len && eq_lower(s->ptr, key, len)) {
            return true;
        }
    }
}

static sl_status add_safe(sl_redactor *r, const char *key, size_t len) {
    if (sl__redact_is_safe(r, key, len)) {
        return SL_OK;
    }
    char *copy = sl__arena_strndup(&r->arena, key, len);
    if (!copy) {
        return SL_ENOMEM;
    }
    size_t mask = r->safe_cap - 1;
    size_t i = hash_lower(key, len) & mask;
    while (r->safe[i].ptr) {
        i = (i + 1) & mask;
    }
    r->safe[i] = (sl_str){copy, len};
    return SL_OK;
}

static sl_status build_safe(sl_redactor *r, const sl_redact_spec *spec,
                            sl_error *err) {
    size_t n = spec->n_safe_keys +
               (spec->extends_default ? sl__redact_default_n_safe : 0);
    if (n == 0) {
        return SL_OK;
    }
    if (n > SL__REDACT_MAX_SAFE) {
        return sl__error(err, SL_ELIMIT, NULL, "more than %d safe keys",
                         SL__REDACT_MAX_SAFE);
    }
    size_t cap = 16;
    while (cap < n * 2) {
        cap *= 2;
    }
    r->safe = sl__arena_calloc(&r->arena, cap * sizeof(*r->safe));
    if (!r->safe) {
        return sl__nomem(err);
    }
    r->safe_cap = cap;
    sl_status rc = SL_OK;
    for (size_t i = 0; spec->extends_default && i < sl__redact_default_n_safe;
         i++) {
        const char *k = sl__redact_default_safe[i];
        rc = add_safe(r, k, strlen(k));
        if (rc != SL_OK) {
            return sl__nomem(err);
        }
    }
    for (size_t i = 0; i < spec->n_safe_keys; i++) {
        sl_str k = spec->safe_keys[i];
        if (!k.ptr && k.len) {
            return sl__error(err, SL_EINVAL, NULL, "safe_keys[%zu]: no text",
                             i);
        }
        rc = add_safe(r, k.ptr ? k.ptr : "", k.len);
        if (rc != SL_OK) {
            return sl__nomem(err);
        }
    }
    return SL_OK;
}

/* Key pattern of spec rule i (global index g): into pats or the word
 * table. */
static sl_status compile_key(sl_redactor *r, const sl_redact_rule *rule,
                             size_t i, uint32_t g, sl_pat *pats, size_t *np,
                             size_t *wcap, sl_error *err) {
    sl_str k = rule->key;
    if (k.len == 0) {
        return sl__error(err, SL_EPATTERN, &rule->key_pos,
                         "rules[%zu]: empty key pattern", i);
    }
    if (k.len > 5 && memcmp(k.ptr, "word:", 5) == 0) {
        sl_status rc = sl__redact_words_add(r, wcap, k.ptr + 5, k.len - 5, g);
        if (rc == SL_ENOMEM) {
            return sl__nomem(err);
        }
        if (rc != SL_OK) {
            char q[64];
            sl__quote(q, sizeof(q), k.ptr, k.len);
            return sl__error(err, SL_EPATTERN, &rule->key_pos,
                             "rules[%zu]: word pattern %s needs 1 to %d "
                             "words",
                             i, q, SL__REDACT_MAX_TERM_WORDS);
        }
        r->rules[g].key_kind = RD_KEY_WORD;
        return SL_OK;
    }
    sl_pat p = {0};
    sl_status rc = sl_pat_parse(k.ptr, k.len, SL_PAT_CONTAINS, &p, err);
    if (rc == SL_OK) {
        /* every match type is caseless for redaction (CLARIFICATIONS) */
        p.flags = SL_PAT_CASELESS;
        p.id = g;
        p.where = rule->key_pos;
        rc = sl_pat_check(&p, err);
    }
    if (rc != SL_OK) {
        if (err && err->line == 0 && rule->key_pos.line) {
            err->line = rule->key_pos.line;
            err->col = rule->key_pos.col;
            if (rule->key_pos.file) {
                snprintf(err->file, sizeof(err->file), "%s",
                         rule->key_pos.file);
            }
        }
        sl__error_prefix(err, "rules[%zu]: ", i);
        return rc;
    }
    pats[(*np)++] = p;
    r->rules[g].key_kind = RD_KEY_PAT;
    return SL_OK;
}

static sl_status compile_rules(sl_redactor *r, const sl_redact_spec *spec,
                               sl_error *err) {
    size_t base = spec->extends_default ? sl__redact_default_n_terms : 0;
    size_t n = base + spec->n_rules;
    if (spec->n_rules > SL__REDACT_MAX_RULES) {
        return sl__error(err, SL_ELIMIT, NULL, "more than %d rules",
                         SL__REDACT_MAX_RULES);
    }
    r->n_rules = n;
    if (n == 0) {
        return SL_OK;
    }
    r->rules = sl__arena_calloc(&r->arena, n * sizeof(*r->rules));
    r->keyless = sl__arena_calloc(&r->arena, n * sizeof(*r->keyless));
    if (!r->rules || !r->keyless) {
        return sl__nomem(err);
    }
    size_t wcap = 0;
    for (size_t i = 0; i < base; i++) {
        const char *t = sl__redact_default_terms[i];
        r->rules[i].action = SL_REDACT_MASK;
        r->rules[i].key_kind = RD_KEY_WORD;
        if (sl__redact_words_add(r, &wcap, t, strlen(t), (uint32_t)i) !=
            SL_OK) {
            return sl__nomem(err);
        }
    }
    sl_pat *pats = NULL;
    size_t np = 0;
    if (spec->n_rules) {
        pats = sl__calloc(spec->n_rules, sizeof(*pats));
        if (!pats) {
            return sl__nomem(err);
        }
    }
    sl_status rc = SL_OK;
    for (size_t i = 0; i < spec->n_rules && rc == SL_OK; i++) {
        const sl_redact_rule *rule = &spec->rules[i];
        uint32_t g = (uint32_t)(base + i);
        rd_rule *out = &r->rules[g];
        if ((unsigned)rule->action > SL_REDACT_DROP) {
            rc = sl__error(err, SL_ESCHEMA, &rule->where,
                           "rules[%zu]: unknown action %d", i,
                           (int)rule->action);
            break;
        }
        out->action = (uint8_t)rule->action;
        if (!rule->key.ptr && !rule->path.ptr) {
            rc = sl__error(err, SL_ESCHEMA, &rule->where,
                           "rules[%zu]: a rule needs a key or a path", i);
            break;
        }
        if (rule->key.ptr) {
            rc = compile_key(r, rule, i, g, pats, &np, &wcap, err);
        }
        if (rc == SL_OK && rule->path.ptr) {
            char what[32];
            snprintf(what, sizeof(what), "rules[%zu]", i);
            rc =
                sl__redact_path_compile(r, rule->path.ptr, rule->path.len,
                                        &out->path, &rule->path_pos, what, err);
            out->has_path = rc == SL_OK;
        }
        if (rc == SL_OK && !rule->key.ptr) {
            r->keyless[r->n_keyless++] = g;
        }
    }
    if (rc == SL_OK && np > 0) {
        rc = sl_patset_compile(pats, np, &r->keys, err);
    }
    sl__free(pats, spec->n_rules * sizeof(*pats));
    return rc;
}

sl_status sl_redactor_compile(const sl_redact_spec *spec, sl_redactor **out,
                              sl_error *err) {
    if (!spec || !out || (!spec->rules && spec->n_rules) ||
        (!spec->safe_keys && spec->n_safe_keys) ||
        (!spec->hash_key && spec->hash_key_len)) {
        return sl__error(err, SL_EINVAL, NULL, "no spec or no output");
    }
    sl_redactor *r = sl__calloc(1, sizeof(*r));
    if (!r) {
        return sl__nomem(err);
    }
    sl__arena_init(&r->arena);
    sl_status rc = compile_rules(r, spec, err);
    if (rc == SL_OK) {
        rc = build_safe(r, spec, err);
    }
    if (rc == SL_OK && spec->hash_key) {
        if (spec->hash_key_len == 0) {
            rc = sl__error(err, SL_EINVAL, NULL, "empty hash key");
        } else {
            r->hash_key = sl__alloc(spec->hash_key_len);
            if (!r->hash_key) {
                rc = sl__nomem(err);
            } else {
                memcpy(r->hash_key, spec->hash_key, spec->hash_key_len);
                r->hash_key_len = spec->hash_key_len;
            }
        }
    }
    unsigned detect = spec->detect;
    if (spec->extends_default && !spec->detect_exact) {
        detect |= SL_DETECT_DEFAULT;
    }
    if (rc == SL_OK && (detect & SL_DETECT_ALL)) {
        r->detect = detect & SL_DETECT_ALL;
        rc = sl__redact_detect_compile(r, err);
    }
    if (rc != SL_OK) {
        sl_redactor_free(r);
        return rc;
    }
    *out = r;
    return SL_OK;
}

sl_status sl_redactor_default(sl_redactor **out, sl_error *err) {
    sl_redact_spec spec = {0};
    spec.extends_default = true;
    return sl_redactor_compile(&spec, out, err);
}

void sl_redactor_free(sl_redactor *r) {
    if (!r) {
        return;
    }
    sl_patset_free(r->keys);
    if (!r->detectors_shared) {
        sl_patset_free(r->detectors);
    }
    if (r->hash_key) {
        sl__wipe(r->hash_key, r->hash_key_len);
        sl__free(r->hash_key, r->hash_key_len);
    }
    sl__arena_free(&r->arena);
    sl__free(r, sizeof(*r));
}

size_t sl_redactor_rule_count(const sl_redactor *r) {
    return r ? r->n_rules : 0;
}

bool sl_redactor_keyed(const sl_redactor *r) {
    return r && r->hash_key;
}

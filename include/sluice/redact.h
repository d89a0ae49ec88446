/* include/sluice/redact.h: payload redaction: rules, the default SAFE
 * policy, mask / hash / drop, value detectors and audit summaries. Owns
 * sl_redactor (a compiled, immutable policy) and sl_redact_ctx (one
 * thread's scratch space). Reading files goes through <sluice/doc.h>; the
 * key patterns through <sluice/match.h>.
 *
 * Redaction never changes its input: it walks the payload tree and writes
 * the redacted JSON text, copying every untouched string and number byte
 * for byte and keeping the key order. */
#ifndef SLUICE_REDACT_H
#define SLUICE_REDACT_H

#include <stdbool.h>

#include <sluice/common.h>
#include <sluice/doc.h>
#include <sluice/match.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a matching rule does to the member it matched. */
typedef enum sl_redact_action {
    SL_REDACT_MASK = 0, /* value becomes "[REDACTED]" */
    SL_REDACT_HASH = 1, /* "hash:" + hex SHA-256 (or "hmac:" with a key) */
    SL_REDACT_DROP = 2  /* the member is removed */
} sl_redact_action;

/** Value detectors (`detect = [...]`); each masks only the span it finds
 * inside a string value (see the README for what each matches). All of
 * them are on in the default SAFE policy (SL_DETECT_DEFAULT): each fires
 * only on a credential's own format, never on an entropy guess. */
typedef enum sl_redact_detector {
    SL_DETECT_AWS_KEY = 1u << 0,        /* "aws_access_key": AKIA... ids */
    SL_DETECT_JWT = 1u << 1,            /* "jwt": eyJ... three-part tokens */
    SL_DETECT_BEARER = 1u << 2,         /* "bearer": Bearer <credential> */
    SL_DETECT_PRIVATE_KEY = 1u << 3,    /* "private_key": PEM, PuTTY keys */
    SL_DETECT_GITHUB = 1u << 4,         /* "github_token": ghp_..., pat */
    SL_DETECT_SLACK = 1u << 5,          /* "slack_token": xoxb-... */
    SL_DETECT_OPENAI = 1u << 6,         /* "openai_key": sk-..., sk-proj-... */
    SL_DETECT_BASIC = 1u << 7,          /* "basic_auth": Authorization: Basic */
    SL_DETECT_GITLAB = 1u << 8,         /* "gitlab_token": glpat-... */
    SL_DETECT_SLACK_WEBHOOK = 1u << 9,  /* "slack_webhook": hooks URLs */
    SL_DETECT_STRIPE = 1u << 10,        /* "stripe_key": sk_live_... */
    SL_DETECT_ANTHROPIC = 1u << 11,     /* "anthropic_key": sk-ant-... */
    SL_DETECT_GOOGLE = 1u << 12,        /* "google_api_key": AIza... */
    SL_DETECT_CONNECTION = 1u << 13,    /* "connection_string": password of
                                           scheme://user:password@host */
    SL_DETECT_NPM = 1u << 14,           /* "npm_token": npm_... */
    SL_DETECT_PYPI = 1u << 15,          /* "pypi_token": pypi-AgEIcHlwaS5vcmc */
    SL_DETECT_TWILIO = 1u << 16,        /* "twilio_key": SK + 32 hex */
    SL_DETECT_SENDGRID = 1u << 17,      /* "sendgrid_key": SG.x.y */
    SL_DETECT_SHOPIFY = 1u << 18,       /* "shopify_token": shpat_... */
    SL_DETECT_DIGITALOCEAN = 1u << 19,  /* "digitalocean_token": dop_v1_ */
    SL_DETECT_AGE = 1u << 20,           /* "age_secret_key": AGE-SECRET-KEY-1 */
    SL_DETECT_AZURE_STORAGE = 1u << 21, /* "azure_storage_key": AccountKey= */
    SL_DETECT_COUNT = 22,               /* detectors (bits 0 .. COUNT-1) */
    SL_DETECT_ALL = (1u << 22) - 1,
    SL_DETECT_DEFAULT = SL_DETECT_ALL /* what the SAFE policy turns on */
} sl_redact_detector;

/** One rule as written in a policy. At least one of key and path is set
 * (ptr non-NULL); an empty pattern is rejected. */
typedef struct sl_redact_rule {
    sl_redact_action action;
    /* key pattern: case-insensitive substring by default; "glob:",
     * "regex:", "literal:" (whole key) and "word:" (whole words of the key,
     * split at _ - . spaces and camelCase) select other match types */
    sl_str key;
    /* path from the payload root: dot-separated segments compared
     * case-insensitively; "*" one segment, "**" any number; list elements
     * add no segment; "\." is a dot inside a key, "\\" a backslash */
    sl_str path;
    sl_str reason;   /* free text for people; may be empty */
    sl_pos where;    /* the rule, for errors */
    sl_pos key_pos;  /* the key pattern, for errors */
    sl_pos path_pos; /* the path pattern, for errors */
} sl_redact_rule;

/** Everything a policy says. Zero-initialise and fill; all of it is copied
 * by sl_redactor_compile(). */
typedef struct sl_redact_spec {
    const sl_redact_rule *rules; /* n_rules rules, first match wins */
    size_t n_rules;
    const sl_str *safe_keys; /* exact, case-insensitive; no rule applies */
    size_t n_safe_keys;
    bool extends_default;    /* the SAFE rules first, safe keys merged */
    const uint8_t *hash_key; /* HMAC key; NULL = plain SHA-256 */
    size_t hash_key_len;
    unsigned detect; /* sl_redact_detector bits */
    /* false: extends_default also turns on SL_DETECT_DEFAULT (with the
     * bits of detect); true: exactly the detectors in detect (0 = none) */
    bool detect_exact;
} sl_redact_spec;

/** A compiled policy: immutable, shared by any number of threads. */
typedef struct sl_redactor sl_redactor;

/** One thread's working space for one redactor (pattern scratch, key
 * decision cache, buffers). Reused across calls: no per-record malloc. */
typedef struct sl_redact_ctx sl_redact_ctx;

/** What one call did. */
typedef struct sl_redact_counts {
    uint64_t masked;   /* members replaced by "[REDACTED]" */
    uint64_t hashed;   /* members replaced by a hash */
    uint64_t dropped;  /* members removed */
    uint64_t detected; /* spans masked by value detectors */
} sl_redact_counts;

/** Compile a policy.
 * @param spec  copied (patterns, safe keys, hash key); not NULL.
 * @param out   on SL_OK a new redactor, owned: sl_redactor_free().
 * @param err   on failure names the rule: `rules[2]: ...` at its position.
 * @return SL_OK, SL_ESCHEMA (rule without key and path, bad path),
 *         SL_EPATTERN (empty or invalid pattern), SL_ELIMIT, SL_ENOMEM,
 *         SL_EINVAL.
 * Thread safety: the result is immutable. */
SL_API sl_status sl_redactor_compile(const sl_redact_spec *spec,
                                     sl_redactor **out, sl_error *err);

/** The default SAFE policy: mask secrets and credential headers by whole
 * words of the key, the spec's safe keys, and the SL_DETECT_DEFAULT value
 * detectors. The recorder, the Python package and `serve` all use it.
 * Without detectors: sl_redactor_compile with extends_default and
 * detect_exact set, detect 0.
 * @return SL_OK, SL_ENOMEM. */
SL_API sl_status sl_redactor_default(sl_redactor **out, sl_error *err);

/** Load a policy file (JSON, YAML or TOML by extension) with `rules`,
 * `safe_keys`, `hash_key_file` (relative to the file's folder) or
 * `hash_key_env`, `detect` and `extends = "default"`. Unknown keys are
 * rejected.
 * @return SL_OK, SL_EIO, SL_EPARSE, SL_ESCHEMA, SL_EPATTERN, SL_ELIMIT,
 *         SL_ENOMEM; err carries file:line:col. */
SL_API sl_status sl_redactor_load(const char *path, sl_redactor **out,
                                  sl_error *err);

/** As sl_redactor_load() for a parsed document.
 * @param doc       borrowed during the call.
 * @param base_dir  folder for a relative hash_key_file; NULL = ".". */
SL_API sl_status sl_redactor_load_doc(const sl_doc *doc, const char *base_dir,
                                      sl_redactor **out, sl_error *err);

/** Free a redactor (its hash key is wiped). NULL is a no-op. Free every
 * context made for it first. */
SL_API void sl_redactor_free(sl_redactor *r);

/** Number of rules (default rules included when extended). */
SL_API size_t sl_redactor_rule_count(const sl_redactor *r);

/** Whether hashes are keyed ("hmac:") rather than plain ("hash:"). */
SL_API bool sl_redactor_keyed(const sl_redactor *r);

/** A context for r, owned: sl_redact_ctx_free(). r is borrowed and must
 * outlive the context.
 * @return SL_OK, SL_ENOMEM, SL_EINVAL. */
SL_API sl_status sl_redact_ctx_new(const sl_redactor *r, sl_redact_ctx **out,
                                   sl_error *err);

/** Free a context. NULL is a no-op. */
SL_API void sl_redact_ctx_free(sl_redact_ctx *ctx);

/** Redact payload and append the result to out as compact JSON.
 * @param payload  borrowed, never changed; any JSON value (a scalar root is
 *                 written as is, detectors aside).
 * @param out      appended to; on failure restored to its old length.
 * @param audit    may be NULL; else one JSON object is appended:
 *                 {"mask":N,"hash":N,"drop":N,"detect":N,"fields":[
 *                 {"action":"mask","path":"a.b","rule":0}, ...]}, paths in
 *                 the path-pattern syntax, never a value; when detect > 0,
 *                 "detectors":{"jwt":N,...} (count per detector name)
 *                 comes before "fields", whose detector entries are
 *                 {"action":"detect","path":...,"detector":"jwt"}.
 * @param counts   may be NULL; set to this call's counts.
 * @return SL_OK, SL_EINVAL (a value JSON cannot hold, such as a number too
 *         large to hash canonically; err names its path), SL_ELIMIT,
 *         SL_ENOMEM, SL_ECRYPTO.
 * Thread safety: one context per thread. */
SL_API sl_status sl_redact_write(sl_redact_ctx *ctx, const sl_node *payload,
                                 sl_buf *out, sl_buf *audit,
                                 sl_redact_counts *counts, sl_error *err);

/** sl_redact_write for a payload of doc (doc borrowed): the same bytes,
 * audit and counts, faster when payload was read from compact JSON and
 * not changed since: what is not redacted is copied from the source text
 * in runs instead of being written node by node.
 * @return as sl_redact_write.
 * Thread safety: one context per thread; doc is only read. */
SL_API sl_status sl_redact_write_doc(sl_redact_ctx *ctx, const sl_doc *doc,
                                     const sl_node *payload, sl_buf *out,
                                     sl_buf *audit, sl_redact_counts *counts,
                                     sl_error *err);

/** Name of one detector bit ("aws_access_key", ...), as policies write it;
 * NULL for anything but a single known bit. */
SL_API const char *sl_redact_detector_name(unsigned bit);

/** Name of an action ("mask", "hash", "drop"). */
SL_API const char *sl_redact_action_name(sl_redact_action a);

#ifdef __cplusplus
}
#endif
#endif

/* src/redact/detect.c: value detectors: credentials found inside string
 * values (cloud and SaaS API keys, tokens, PEM private keys, Bearer / Basic
 * credentials, passwords in connection strings). Owns their patterns, the
 * confirm step that accepts or rejects each candidate and the span each
 * one masks; walk.c scans and rewrites.
 *
 * The one idea: every pattern of every enabled detector is one sl_patset
 * (SL_PAT_SPANS: Vectorscan with SOM_LEFTMOST) scanned once per string;
 * each pattern starts with its literal prefix (AKIA, ghp_, xoxb-, eyJ ...)
 * so the scan costs little on text without one. Every candidate span then
 * goes through a confirm step in C, which does what Vectorscan cannot:
 * widen the span over the rest of its token (a streaming engine may report
 * a token before its last byte), check both token boundaries (no letter or
 * digit either side, except the `n` of an escaped `\n` or `\t` on the
 * left, so credentials inside JSON-escaped text are still caught), check
 * exact lengths and character classes, and find the part to mask (only
 * the credential after `Bearer`, only the password of a connection
 * string, a PEM block through its END line). No guess by entropy: a
 * detector fires only on a format that says "credential". */
#include <sluice/redact.h>

#include <stdatomic.h>

#include "base/base.h"
#include "redact/private.h"

/* How a confirmed span is found in its match. */
typedef enum kind {
    K_TOKEN = 0,  /* the match, widened right over the token's alphabet */
    K_PEM = 1,    /* a PEM header: through the END line, base64 body */
    K_PUTTY = 2,  /* a PuTTY key file: through its Private-MAC line */
    K_WORD = 3,   /* scheme word + credential: the credential only */
    K_BASIC = 4,  /* as K_WORD, and the credential is base64 of "a:b" */
    K_CONN = 5,   /* scheme://user:password@host: the password only */
    K_AFTER_EQ = 6 /* name=value: the value only */
} kind;

enum {
    NEED_UPPER = 1,
    NEED_LOWER = 2,
    NEED_DIGIT = 4
};

typedef struct pattern {
    uint8_t det;      /* detector index: bit 1 << det */
    uint8_t kind;     /* enum kind */
    uint8_t need;     /* NEED_* classes the token must contain */
    uint8_t classes;  /* distinct classes (upper, lower, digit) it needs */
    bool caseless;
    uint16_t min_len; /* token length after widening; 0 = any */
    uint16_t max_len; /* 0 = any */
    const char *alphabet; /* widened over; NULL = no widening */
    const char *skip;     /* a match starting with this is another's */
    const char *regex;
} pattern;

static const char *const names[] = {
    "aws_access_key",  "jwt",           "bearer",
    "private_key",     "github_token",  "slack_token",
    "openai_key",      "basic_auth",    "gitlab_token",
    "slack_webhook",   "stripe_key",    "anthropic_key",
    "google_api_key",  "connection_string", "npm_token",
    "pypi_token",      "twilio_key",    "sendgrid_key",
    "shopify_token",   "digitalocean_token", "age_secret_key",
    "azure_storage_key",
};
_Static_assert(SL_ARRAY_LEN(names) == SL_DETECT_COUNT,
               "one name per detector bit");

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define B64URL ALNUM "_-"

/* Index order is detector order (bits), several patterns per detector. */
static const pattern patterns[] = {
    /* AWS access key ids: a 4-letter kind, 16 base32 characters */
    {0, K_TOKEN, 0, 0, false, 20, 20, ALNUM, NULL,
     "(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}"},
    /* JWT: base64url of '{"' twice, then a signature (may be empty) */
    {1, K_TOKEN, 0, 0, false, 0, 0, B64URL "=", NULL,
     "eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*"},
    /* Bearer <credential>: 16+ token characters with a digit and a letter */
    {2, K_WORD, NEED_DIGIT, 2, true, 0, 0, B64URL ".~+/=", NULL,
     "bearer[ \\t]+[A-Za-z0-9._~+/-]{16,}"},
    {3, K_PEM, 0, 0, false, 0, 0, NULL, NULL,
     "-----BEGIN[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----"},
    {3, K_PUTTY, 0, 0, false, 0, 0, NULL, NULL, "PuTTY-User-Key-File-[23]:"},
    {4, K_TOKEN, 0, 0, false, 40, 0, ALNUM, NULL, "gh[pousr]_[A-Za-z0-9]{36}"},
    {4, K_TOKEN, 0, 0, false, 0, 0, ALNUM "_", NULL,
     "github_pat_[A-Za-z0-9]{20,}_[A-Za-z0-9]{40,}"},
    {5, K_TOKEN, 0, 0, false, 0, 0, ALNUM "-", NULL,
     "xox[abposre](?:\\.xox[abposre])?-[0-9]+-[A-Za-z0-9-]{8,}"},
    {5, K_TOKEN, 0, 0, false, 0, 0, ALNUM "-", NULL,
     "xapp-[0-9]+-[A-Za-z0-9-]{20,}"},
    /* OpenAI: sk-, sk-proj-, sk-svcacct-, sk-admin- and 32+ characters of
     * upper, lower and digits (not sk-ant-: Anthropic's) */
    {6, K_TOKEN, 0, 3, false, 35, 0, B64URL, "sk-ant-",
     "sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}"},
    /* Authorization: Basic base64("user:password") */
    {7, K_BASIC, 0, 0, true, 0, 0, ALNUM "+/=", NULL,
     "authorization[ \\t]*[:=]?[ \\t\"']*basic[ \\t]+[A-Za-z0-9+/]{6,}"},
    {8, K_TOKEN, 0, 2, false, 0, 0, B64URL, NULL,
     "gl(?:pat|dt|rt|ptt|ft|soat|imt|cbt|oas)-[A-Za-z0-9_-]{20,}"},
    {9, K_TOKEN, 0, 0, false, 0, 0, B64URL "+/", NULL,
     "hooks\\.slack\\.com\\\\?/(?:services|workflows|triggers)\\\\?/"
     "(?:[A-Za-z0-9+_-]|\\\\?/){20,}"},
    {10, K_TOKEN, 0, 2, false, 0, 0, ALNUM, NULL,
     "(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,}"},
    {10, K_TOKEN, 0, 2, false, 0, 0, ALNUM, NULL, "whsec_[A-Za-z0-9]{32,}"},
    {11, K_TOKEN, 0, 3, false, 0, 0, B64URL, NULL,
     "sk-ant-[a-z]{2,10}[0-9]{2}-[A-Za-z0-9_-]{32,}"},
    {12, K_TOKEN, 0, 0, false, 39, 39, B64URL, NULL,
     "AIza[A-Za-z0-9_-]{35}"},
    /* scheme://user:password@host (also with JSON's escaped "\/"), from
     * the "://" on: the confirm step checks for a scheme */
    {13, K_CONN, 0, 0, false, 0, 0, NULL, NULL,
     "://[^\\s:/@\"'<>\\\\]*:[^\\s:/@\"'<>\\\\]{3,}@[A-Za-z0-9\\[]"},
    {13, K_CONN, 0, 0, false, 0, 0, NULL, NULL,
     ":\\\\/\\\\/[^\\s:/@\"'<>\\\\]*:[^\\s:/@\"'<>\\\\]{3,}@[A-Za-z0-9\\[]"},
    {14, K_TOKEN, 0, 2, false, 40, 40, ALNUM, NULL, "npm_[A-Za-z0-9]{36}"},
    {15, K_TOKEN, 0, 0, false, 0, 0, B64URL, NULL,
     "pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}"},
    {16, K_TOKEN, 0, 2, false, 34, 34, ALNUM, NULL, "SK[0-9a-fA-F]{32}"},
    {17, K_TOKEN, 0, 0, false, 69, 69, B64URL, NULL,
     "SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}"},
    {18, K_TOKEN, 0, 0, false, 38, 38, ALNUM, NULL,
     "shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"},
    {19, K_TOKEN, 0, 0, false, 71, 71, ALNUM, NULL,
     "do[opr]_v1_[a-f0-9]{64}"},
    {20, K_TOKEN, 0, 0, false, 74, 74, ALNUM, NULL,
     "AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"},
    {21, K_AFTER_EQ, 0, 0, false, 0, 0, NULL, NULL,
     "AccountKey=[A-Za-z0-9+/]{86}=="},
};

const char *sl__redact_detector_name(uint32_t id) {
    return id < SL_ARRAY_LEN(names) ? names[id] : "unknown";
}

unsigned sl__redact_detector_bit(const char *name, size_t len) {
    for (size_t i = 0; i < SL_ARRAY_LEN(names); i++) {
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0) {
            return 1u << i;
        }
    }
    if (len == 3 && memcmp(name, "all", 3) == 0) {
        return SL_DETECT_ALL;
    }
    return 0;
}

const char *sl_redact_detector_name(unsigned bit) {
    for (size_t i = 0; i < SL_ARRAY_LEN(names); i++) {
        if (bit == 1u << i) {
            return names[i];
        }
    }
    return NULL;
}

/* The default set, compiled by the first redactor that needs it and shared
 * by every later one for the life of the process: it never changes, and a
 * Vectorscan compile of it costs ~0.1 s (recorders, `serve` and the Python
 * package open default redactors freely). */
static _Atomic(sl_patset *) shared_default;

sl_status sl__redact_detect_compile(sl_redactor *r, sl_error *err) {
    bool shared = r->detect == SL_DETECT_DEFAULT;
    if (shared) {
        sl_patset *set = atomic_load(&shared_default);
        if (set) {
            r->detectors = set;
            r->detectors_shared = true;
            return SL_OK;
        }
    }
    sl_pat pats[SL_ARRAY_LEN(patterns)];
    size_t n = 0;
    for (size_t i = 0; i < SL_ARRAY_LEN(patterns); i++) {
        if (!(r->detect & (1u << patterns[i].det))) {
            continue;
        }
        sl_pat *p = &pats[n++];
        memset(p, 0, sizeof(*p));
        p->kind = SL_PAT_REGEX;
        p->flags = SL_PAT_SPANS | (patterns[i].caseless ? SL_PAT_CASELESS : 0);
        p->text = patterns[i].regex;
        p->len = strlen(patterns[i].regex);
        p->id = (uint32_t)i;
    }
    if (n == 0) {
        return SL_OK;
    }
    sl_patset *set = NULL;
    sl_status rc = sl_patset_compile(pats, n, &set, err);
    if (rc == SL_OK && shared) {
        sl_patset *old = NULL;
        if (!atomic_compare_exchange_strong(&shared_default, &old, set)) {
            sl_patset_free(set); /* another thread was first: use its set */
            set = old;
        }
        r->detectors_shared = true;
    }
    r->detectors = set;
    return rc;
}

/* ---- the confirm step ---- */

static bool is_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static bool is_hex(unsigned char c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static bool in(const char *alphabet, char c) {
    return c != '\0' && strchr(alphabet, c) != NULL;
}

static bool is_b64(unsigned char c) {
    return is_alnum(c) || c == '+' || c == '/' || c == '=';
}

/* Whether a token may start at s[at]: a token starting with a letter or
 * digit must not follow one, nor '_' or '-' (so base64url and identifiers
 * never start one in their middle), except the letter of an escape
 * sequence the text carries literally (`\n`, `\t`, `\r`, `\b`, `\f`,
 * `\uXXXX`: JSON-escaped JSON, logs). */
static bool left_ok(const char *s, size_t at) {
    if (at == 0 || !is_alnum((unsigned char)s[at])) {
        return true;
    }
    char c = s[at - 1];
    if (!is_alnum((unsigned char)c) && c != '_' && c != '-') {
        return true;
    }
    if (at >= 2 && s[at - 2] == '\\' && strchr("ntrbf", c)) {
        return true;
    }
    if (at >= 6 && s[at - 6] == '\\' && s[at - 5] == 'u') {
        for (size_t k = at - 4; k < at; k++) {
            if (!is_hex((unsigned char)s[k])) {
                return false;
            }
        }
        return true;
    }
    return false;
}

static const char *find(const char *s, size_t len, const char *needle) {
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= len; i++) {
        if (s[i] == needle[0] && memcmp(s + i, needle, nl) == 0) {
            return s + i;
        }
    }
    return NULL;
}

/* A PEM block from its header's end at t: through the END line (or the
 * end of the string when it is cut), if its body holds a run of 40 base64
 * characters: a real key, not a header quoted in documentation. */
static bool pem_end(const char *s, size_t len, size_t *t) {
    const char *end = find(s + *t, len - *t, "-----END");
    size_t body_end = end ? (size_t)(end - s) : len;
    size_t run = 0, best = 0;
    for (size_t i = *t; i < body_end; i++) {
        run = is_b64((unsigned char)s[i]) ? run + 1 : 0;
        best = run > best ? run : best;
    }
    if (best < 40) {
        return false;
    }
    if (!end) {
        *t = len;
        return true;
    }
    size_t e = body_end + 8;
    const char *close = find(s + e, len - e, "-----");
    *t = close ? (size_t)(close - s) + 5 : len;
    return true;
}

/* A PuTTY key file: through the hex of its Private-MAC line, else to the
 * end of the string. */
static bool putty_end(const char *s, size_t len, size_t *t) {
    const char *mac = find(s + *t, len - *t, "Private-MAC:");
    if (!mac) {
        *t = len;
        return true;
    }
    size_t k = (size_t)(mac - s) + 12;
    while (k < len && (s[k] == ' ' || s[k] == '\t')) {
        k++;
    }
    while (k < len && is_hex((unsigned char)s[k])) {
        k++;
    }
    *t = k;
    return true;
}

static int b64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Whether s[0, n) is base64 of printable text holding a ':' (user:pass). */
static bool basic_ok(const char *s, size_t n) {
    while (n > 0 && s[n - 1] == '=') {
        n--;
    }
    uint32_t acc = 0;
    int bits = 0;
    bool colon = false;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) {
            return false;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            unsigned char c = (unsigned char)(acc >> bits);
            if (c < 0x20 || c == 0x7f) {
                return false;
            }
            colon |= c == ':';
        }
    }
    return colon;
}

/* Passwords that only stand for one: documentation's "user:password@",
 * templates, and what a masker already wrote. */
static bool placeholder(const char *p, size_t n) {
    static const char *const words[] = {
        "password", "passwd", "pass", "pwd", "secret", "yourpassword",
        "your_password", "your-password", "mypassword", "redacted",
    };
    if (strchr("$<{[%*.", p[0])) {
        return true;
    }
    for (size_t i = 0; i < SL_ARRAY_LEN(words); i++) {
        size_t wl = strlen(words[i]);
        if (wl != n) {
            continue;
        }
        size_t k = 0;
        while (k < n && (p[k] | 0x20) == words[i][k]) {
            k++;
        }
        if (k == n) {
            return true;
        }
    }
    bool same = true; /* xxxx, 0000 */
    for (size_t k = 1; k < n; k++) {
        same &= p[k] == p[0];
    }
    return same;
}

static bool classes_ok(const pattern *p, const char *s, size_t from,
                       size_t to) {
    if (!p->need && !p->classes) {
        return true;
    }
    unsigned seen = 0;
    for (size_t i = from; i < to; i++) {
        unsigned char c = (unsigned char)s[i];
        seen |= c >= 'A' && c <= 'Z'   ? NEED_UPPER
                : c >= 'a' && c <= 'z' ? NEED_LOWER
                : c >= '0' && c <= '9' ? NEED_DIGIT
                                       : 0;
    }
    unsigned n = (unsigned)__builtin_popcount(seen);
    return (seen & p->need) == p->need && n >= p->classes;
}

bool sl__redact_detect_confirm(uint32_t id, const char *s, size_t len,
                               size_t *from, size_t *to, uint32_t *det) {
    if (id >= SL_ARRAY_LEN(patterns)) {
        return false;
    }
    const pattern *p = &patterns[id];
    size_t f = *from, t = *to > len ? len : *to;
    if (f >= t) {
        return false;
    }
    *det = p->det;
    if (p->skip && t - f >= strlen(p->skip) &&
        memcmp(s + f, p->skip, strlen(p->skip)) == 0) {
        return false;
    }
    if (p->kind != K_CONN && !left_ok(s, f)) {
        return false;
    }
    if (p->alphabet) {
        while (t < len && in(p->alphabet, s[t])) {
            t++;
        }
    }
    switch (p->kind) {
    case K_PEM:
        if (!pem_end(s, len, &t)) {
            return false;
        }
        break;
    case K_PUTTY:
        putty_end(s, len, &t);
        break;
    case K_CONN: {
        /* [f, t) is ://user:password@h after a scheme: mask the
         * password */
        size_t at = t - 2; /* the '@' before the host's first byte */
        if (f == 0 || !is_alnum((unsigned char)s[f - 1])) {
            return false;
        }
        const char *sl = find(s + f, at - f, "://");
        size_t u = sl ? (size_t)(sl - s) + 3 : f;
        if (!sl) {
            sl = find(s + f, at - f, ":\\/\\/");
            u = sl ? (size_t)(sl - s) + 5 : f;
        }
        const char *colon = memchr(s + u, ':', at - u);
        if (!colon || s[at] != '@') {
            return false;
        }
        size_t pw = (size_t)(colon - s) + 1;
        if (at - pw < 3 || placeholder(s + pw, at - pw)) {
            return false;
        }
        *from = pw;
        *to = at;
        return true;
    }
    default:
        break;
    }
    while (p->kind == K_TOKEN && t > f && s[t - 1] == '\\' &&
           (t == len || s[t] != '/')) {
        t--; /* the escape of what follows, not the token's */
    }
    if (t < len && is_alnum((unsigned char)s[t]) && p->kind != K_PEM &&
        p->kind != K_PUTTY) {
        return false; /* the token goes on: not this format */
    }
    if ((p->min_len && t - f < p->min_len) ||
        (p->max_len && t - f > p->max_len)) {
        return false;
    }
    if (p->kind == K_WORD || p->kind == K_BASIC) {
        /* keep "Authorization: Bearer ": mask the last word only */
        size_t k = t;
        while (k > f && s[k - 1] != ' ' && s[k - 1] != '\t') {
            k--;
        }
        f = k;
        if (p->kind == K_BASIC && !basic_ok(s + f, t - f)) {
            return false;
        }
    } else if (p->kind == K_AFTER_EQ) {
        const char *eq = memchr(s + f, '=', t - f);
        f = eq ? (size_t)(eq - s) + 1 : f;
    }
    if (!classes_ok(p, s, f, t)) {
        return false;
    }
    *from = f;
    *to = t;
    return true;
}

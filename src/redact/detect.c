/* src/redact/detect.c: value detectors: secrets found inside string values
 * (AWS access key ids, JWTs, Bearer credentials, PEM private-key blocks,
 * GitHub, Slack and OpenAI-style tokens). Owns their patterns and the span
 * each one masks; walk.c scans and rewrites.
 *
 * The one idea: all enabled detectors are one sl_patset scanned once per
 * string with SL_PAT_SPANS. A regex engine that reports matches as it
 * streams may report a token before its last character, so every span is
 * then widened over the rest of its token (the detector's alphabet), and a
 * PEM header over its whole block up to the END line: a secret is masked
 * whole or not at all. Overlapping spans are merged before rewriting. */
#include <sluice/redact.h>

#include "base/base.h"
#include "redact/private.h"

typedef struct detector {
    const char *name;
    const char *regex;
    unsigned flags;
    const char *alphabet; /* bytes a span is widened over; "" = none */
} detector;

#define TOKEN_CHARS \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* Index i has bit 1 << i in sl_redact_detector. */
static const detector detectors[] = {
    {"aws_access_key", "(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}", 0,
     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"},
    {"jwt", "eyJ[A-Za-z0-9_-]+\\.eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*", 0,
     TOKEN_CHARS "_-."},
    {"bearer", "bearer[ \\t]+[A-Za-z0-9._~+/=-]{8,}", SL_PAT_CASELESS,
     TOKEN_CHARS "._~+/=-"},
    {"private_key", "-----BEGIN[ A-Z0-9]*PRIVATE KEY( BLOCK)?-----", 0, ""},
    {"github_token",
     "(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22})", 0,
     TOKEN_CHARS "_"},
    {"slack_token", "xox[abposr]-[A-Za-z0-9-]{10}", 0, TOKEN_CHARS "-"},
    {"openai_key", "sk-(?:proj-|ant-|svcacct-)?[A-Za-z0-9_-]{20}", 0,
     TOKEN_CHARS "_-"},
};
_Static_assert(SL_ARRAY_LEN(detectors) == 7, "one detector per bit");

const char *sl__redact_detector_name(uint32_t id) {
    return id < SL_ARRAY_LEN(detectors) ? detectors[id].name : "unknown";
}

unsigned sl__redact_detector_bit(const char *name, size_t len) {
    for (size_t i = 0; i < SL_ARRAY_LEN(detectors); i++) {
        if (strlen(detectors[i].name) == len &&
            memcmp(detectors[i].name, name, len) == 0) {
            return 1u << i;
        }
    }
    if (len == 3 && memcmp(name, "all", 3) == 0) {
        return SL_DETECT_ALL;
    }
    return 0;
}

sl_status sl__redact_detect_compile(sl_redactor *r, sl_error *err) {
    sl_pat pats[SL_ARRAY_LEN(detectors)];
    size_t n = 0;
    for (size_t i = 0; i < SL_ARRAY_LEN(detectors); i++) {
        if (!(r->detect & (1u << i))) {
            continue;
        }
        sl_pat *p = &pats[n++];
        memset(p, 0, sizeof(*p));
        p->kind = SL_PAT_REGEX;
        p->flags = detectors[i].flags | SL_PAT_SPANS;
        p->text = detectors[i].regex;
        p->len = strlen(detectors[i].regex);
        p->id = (uint32_t)i;
    }
    if (n == 0) {
        return SL_OK;
    }
    return sl_patset_compile(pats, n, &r->detectors, err);
}

static bool in(const char *alphabet, char c) {
    return c != '\0' && strchr(alphabet, c) != NULL;
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

void sl__redact_detect_extend(uint32_t id, const char *s, size_t len,
                              size_t *from, size_t *to) {
    if (id >= SL_ARRAY_LEN(detectors)) {
        return;
    }
    size_t f = *from, t = *to > len ? len : *to;
    if (id == 3) { /* private key: through the END line, else to the end */
        const char *end = find(s + t, len - t, "-----END");
        if (!end) {
            t = len;
        } else {
            size_t e = (size_t)(end - s) + 8;
            const char *close = find(s + e, len - e, "-----");
            t = close ? (size_t)(close - s) + 5 : len;
        }
    } else {
        while (t < len && in(detectors[id].alphabet, s[t])) {
            t++;
        }
        while (f > 0 && id != 2 && in(detectors[id].alphabet, s[f - 1])) {
            f--;
        }
    }
    if (id == 2) { /* keep the word "Bearer": mask the credential only */
        size_t k = f + 6;
        while (k < t && (s[k] == ' ' || s[k] == '\t')) {
            k++;
        }
        if (k < t) {
            f = k;
        }
    }
    *from = f;
    *to = t;
}

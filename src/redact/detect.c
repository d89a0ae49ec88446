/* src/redact/detect.c: value detectors: credentials found inside string
 * values (cloud and SaaS API keys, tokens, PEM private keys, Bearer / Basic
 * credentials, passwords in connection strings). Owns their patterns, the
 * confirm step that accepts or rejects each candidate and the span each
 * one masks; walk.c scans and rewrites.
 *
 * The one idea: the literal prefixes of every enabled detector (AKIA,
 * ghp_, xoxb-, eyJ, sk-, "://" ...) are one sl_patset (SL_PAT_SPANS),
 * scanned once per string, and everything after a prefix is checked in C
 * by a confirm step driven by the table below: the body's bytes and
 * length, the token's boundaries (no letter or digit, '_' or '-' before
 * it, except the `n` of a literal `\n` or `\t`, so credentials inside
 * JSON-escaped text are still caught; nothing alphanumeric after it),
 * exact lengths, character classes, and the part to mask (only the
 * credential after `Bearer`, only the password of a connection string, a
 * PEM block through its END line). Literal-only patterns keep the
 * Vectorscan compile small (~15 ms) and its scan a literal search; a SIMD
 * gate before it skips the strings no detector can match. No guess by
 * entropy: a detector fires only on a credential's own format. */
#include <sluice/redact.h>

#include <stdatomic.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define GATE_AVX2 1
#endif

#include "base/base.h"
#include "redact/private.h"

/* How a candidate is checked after its prefix, and what it masks. */
typedef enum kind {
    K_TOKEN = 0,   /* prefix + body: the token, widened over its alphabet */
    K_JWT = 1,     /* eyJ<b64url>.eyJ<b64url>.<b64url>* */
    K_WORD = 2,    /* "bearer" + blanks + credential: the credential only */
    K_BASIC = 3,   /* "authorization" [:=] "basic" + base64("user:pass") */
    K_PEM = 4,     /* "-----BEGIN" ... "PRIVATE KEY-----" through its END */
    K_PUTTY = 5,   /* a PuTTY key file: through its Private-MAC line */
    K_CONN = 6,    /* "://" user:password@host: the password only */
    K_AFTER = 7,   /* name=value: the value (the body) only */
    K_SENDGRID = 8 /* SG.<22>.<43> */
} kind;

enum {
    NEED_UPPER = 1,
    NEED_LOWER = 2,
    NEED_DIGIT = 4
};

typedef struct pattern {
    uint8_t det;        /* detector index: bit 1 << det */
    uint8_t kind;       /* enum kind */
    uint8_t need;       /* NEED_* classes the token must contain */
    uint8_t classes;    /* distinct classes (upper, lower, digit) it needs */
    bool caseless;      /* the prefix */
    uint16_t body_min;  /* bytes of body class right after the prefix */
    uint16_t min_len;   /* of the whole token after widening; 0 = any */
    uint16_t max_len;   /* 0 = any */
    const char *body;   /* the body's bytes, also what the token is widened
                           over; '\\' only before '/' (JSON's "\/") */
    const char *first;  /* the body's first byte; NULL = any body byte */
    const char *skip;   /* a match starting with this is another's */
    const char *prefix; /* Vectorscan regex: the literal prefix only */
} pattern;

static const char *const names[] = {
    "aws_access_key", "jwt",
    "bearer",         "private_key",
    "github_token",   "slack_token",
    "openai_key",     "basic_auth",
    "gitlab_token",   "slack_webhook",
    "stripe_key",     "anthropic_key",
    "google_api_key", "connection_string",
    "npm_token",      "pypi_token",
    "twilio_key",     "sendgrid_key",
    "shopify_token",  "digitalocean_token",
    "age_secret_key", "azure_storage_key",
};
_Static_assert(SL_ARRAY_LEN(names) == SL_DETECT_COUNT,
               "one name per detector bit");

#define ALNUM  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define B64URL ALNUM "_-"
#define HEXL   "0123456789abcdefABCDEF"
#define DIGITS "0123456789"

/* Vectorscan finds only the literal prefixes (cheap to compile, one
 * literal-matcher pass to scan); what follows each is checked in C. */
static const pattern patterns[] = {
    /* AWS access key ids: a 4-letter kind, 16 base32 characters */
    {0, K_TOKEN, 0, 0, false, 16, 20, 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
     NULL, NULL, "A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA"},
    /* JWT: base64url of '{"' twice, then a signature (may be empty) */
    {1, K_JWT, 0, 0, false, 0, 0, 0, B64URL "=", NULL, NULL, "eyJ"},
    /* Bearer <credential>: 16+ token bytes with a digit and a letter */
    {2, K_WORD, NEED_DIGIT, 2, true, 16, 0, 0, B64URL ".~+/=", NULL, NULL,
     "bearer[ \t]"},
    {3, K_PEM, 0, 0, false, 0, 0, 0, NULL, NULL, NULL, "-----BEGIN "},
    {3, K_PUTTY, 0, 0, false, 0, 0, 0, NULL, NULL, NULL,
     "PuTTY-User-Key-File-[23]:"},
    {4, K_TOKEN, 0, 0, false, 36, 40, 0, ALNUM, NULL, NULL, "gh[pousr]_"},
    {4, K_TOKEN, 0, 0, false, 61, 0, 0, ALNUM "_", NULL, NULL, "github_pat_"},
    {5, K_TOKEN, 0, 0, false, 12, 0, 0, ALNUM "-", DIGITS, NULL,
     "xox[abposre]-|xox[abposre]\\.xox[abposre]-"},
    {5, K_TOKEN, 0, 0, false, 22, 0, 0, ALNUM "-", DIGITS, NULL, "xapp-"},
    /* OpenAI: sk-, sk-proj-, sk-svcacct-, sk-admin- and 32+ characters of
     * upper, lower and digits (not sk-ant-: Anthropic's) */
    {6, K_TOKEN, 0, 3, false, 32, 0, 0, B64URL, NULL, "sk-ant-", "sk-"},
    /* Authorization: Basic base64("user:password") */
    {7, K_BASIC, 0, 0, true, 6, 0, 0, ALNUM "+/=", NULL, NULL, "authorization"},
    {8, K_TOKEN, 0, 2, false, 20, 0, 0, B64URL, NULL, NULL,
     "gl(?:pat|dt|rt|ptt|ft|soat|imt|cbt|oas)-"},
    {9, K_TOKEN, 0, 0, false, 20, 0, 0, B64URL "+/\\", NULL, NULL,
     "hooks\\.slack\\.com\\\\?/(?:services|workflows|triggers)\\\\?/"},
    {10, K_TOKEN, 0, 2, false, 20, 0, 0, ALNUM, NULL, NULL,
     "(?:sk|rk)_(?:live|test)_"},
    {10, K_TOKEN, 0, 2, false, 32, 0, 0, ALNUM, NULL, NULL, "whsec_"},
    {11, K_TOKEN, 0, 3, false, 40, 0, 0, B64URL, NULL, NULL, "sk-ant-"},
    {12, K_TOKEN, 0, 0, false, 35, 39, 39, B64URL, NULL, NULL, "AIza"},
    /* scheme://user:password@host, also with JSON's escaped "\/" */
    {13, K_CONN, 0, 0, false, 0, 0, 0, NULL, NULL, NULL, "://|:\\\\/\\\\/"},
    {14, K_TOKEN, 0, 2, false, 36, 40, 40, ALNUM, NULL, NULL, "npm_"},
    {15, K_TOKEN, 0, 0, false, 50, 0, 0, B64URL, NULL, NULL,
     "pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)"},
    {16, K_TOKEN, 0, 2, false, 32, 34, 34, HEXL, NULL, NULL, "SK"},
    {17, K_SENDGRID, 0, 0, false, 66, 69, 69, B64URL ".", NULL, NULL, "SG\\."},
    {18, K_TOKEN, 0, 0, false, 32, 38, 38, HEXL, NULL, NULL,
     "shp(?:at|ca|pa|ss)_"},
    {19, K_TOKEN, 0, 0, false, 64, 71, 71, HEXL, NULL, NULL, "do[opr]_v1_"},
    {20, K_TOKEN, 0, 0, false, 58, 74, 74, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
     NULL, NULL, "AGE-SECRET-KEY-1"},
    {21, K_AFTER, 0, 0, false, 88, 0, 0, ALNUM "+/=", NULL, NULL,
     "AccountKey="},
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
 * Vectorscan compile of it costs ~15 ms (recorders, `serve` and the Python
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
        p->text = patterns[i].prefix;
        p->len = strlen(patterns[i].prefix);
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

static bool is_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
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

/* ---- the gate ---- */

/* What every detector's match holds, checked before Vectorscan runs:
 *  - the byte '@' (a connection string's password), or the word
 *    "authorization" (caseless: a Basic credential, which may be short);
 *    or
 *  - a run of 16 bytes of the token class G = [A-Za-z0-9+/=._~\\-], every
 *    key, token and base64 body being one (JWT headers and Slack tokens
 *    through their minimum lengths), and in the string an upper-case
 *    letter, '_' or '-' (every format but Bearer's has one: prefixes such
 *    as ghp_, sk-, AKIA, eyJ, mixed-case bodies) or the word "bearer"
 *    followed by a blank (its prefix is "bearer[ \t]").
 * Prose, ids, hex, timestamps and plain URLs fail it, so most strings
 * skip hs_scan and its fixed cost. One pass over the bytes, 32 a step
 * with AVX2: each byte's classes are two nibble-table lookups (pshufb),
 * the tables below; the same tables classify a byte at a time where the
 * CPU has no AVX2, so both paths agree by construction. */
enum {
    GATE_MIN = 10, /* no detector matches fewer bytes: "a://:pwd@h" */
    GATE_RUN = 16
};

/* Classes as rectangles: (bit, set of low nibbles, set of high nibbles);
 * a byte has the bit when both its nibbles are in the sets, so
 * class(c) = lo[c & 15] & hi[c >> 4] (bytes >= 0x80: none). Table 1,
 * bits 0-4 = G, bits 5-7 = the "special" bytes: */
#define CLASS1(X, n)                                   \
    (X(n, 0x01, 0xFFFE, 0x0050)   /* A-O a-o */        \
     | X(n, 0x02, 0x97FF, 0x0020) /* P-Z \ _ */        \
     | X(n, 0x04, 0x47FF, 0x0080) /* p-z ~ */          \
     | X(n, 0x08, 0x23FF, 0x0008) /* 0-9 = */          \
     | X(n, 0x10, 0xE800, 0x0004) /* + - . / */        \
     | X(n, 0x20, 0xFFFE, 0x0010) /* special: A-O */   \
     | X(n, 0x40, 0x87FF, 0x0020) /* special: P-Z _ */ \
     | X(n, 0x80, 0x2000, 0x0004) /* special: - */)
/* Table 2: bit 7 = 'z' or 'Z', bit 6 = '@', bit 5 = ' ', bit 4 = '\t'. */
#define CLASS2(X, n)                                           \
    (X(n, 0x80, 0x0400, 0x00A0) | X(n, 0x40, 0x0001, 0x0010) | \
     X(n, 0x20, 0x0001, 0x0004) | X(n, 0x10, 0x0200, 0x0001))
#define LO_OF(n, bit, lo, hi) ((((lo) >> (n)) & 1) ? (bit) : 0)
#define HI_OF(n, bit, lo, hi) ((((hi) >> (n)) & 1) ? (bit) : 0)
#define TABLE16(C, X)                                                          \
    {                                                                          \
        C(X, 0), C(X, 1), C(X, 2), C(X, 3), C(X, 4), C(X, 5), C(X, 6),         \
            C(X, 7), C(X, 8), C(X, 9), C(X, 10), C(X, 11), C(X, 12), C(X, 13), \
            C(X, 14), C(X, 15)                                                 \
    }

static const uint8_t lo1[16] = TABLE16(CLASS1, LO_OF);
static const uint8_t hi1[16] = TABLE16(CLASS1, HI_OF);
static const uint8_t lo2[16] = TABLE16(CLASS2, LO_OF);
static const uint8_t hi2[16] = TABLE16(CLASS2, HI_OF);

enum {
    C1_G = 0x1F,
    C1_SPECIAL = 0xE0,
    C2_Z = 0x80,
    C2_AT = 0x40,
    C2_BLANK = 0x30
};

enum {
    GF_SPECIAL = 1,
    GF_AT = 2,
    GF_BLANK = 4
};

typedef struct gate_state {
    uint32_t prev;  /* G bits of the 16 bytes before the next ones */
    bool run;       /* a run of GATE_RUN bytes of G was seen */
    unsigned flags; /* GF_* */
} gate_state;

/* Whether the 'z' at s[z] is the one of "authorization" (caseless). */
static bool authorization_at(const char *s, size_t len, size_t z) {
    static const char word[] = "authorization";
    if (z < 7 || len - z < 6) {
        return false;
    }
    for (size_t k = 0; k < 13; k++) {
        if ((s[z - 7 + k] | 0x20) != word[k]) {
            return false;
        }
    }
    return true;
}

/* Take in n (1..32) bytes of s from base, as bitmaps: g (in G) and z ('z'
 * or 'Z'). True when "authorization" is in them. */
static inline bool gate_step(gate_state *st, const char *s, size_t len,
                             size_t base, uint32_t g, uint32_t z, unsigned n) {
    if (z) {
        for (; z; z &= z - 1) {
            if (authorization_at(s, len, base + (unsigned)__builtin_ctz(z))) {
                return true;
            }
        }
    }
    /* the 16 bytes before and these: bit i set when i .. i+15 all are G */
    _Static_assert(GATE_RUN == 16, "four shifts: runs of 16");
    uint64_t w = (uint64_t)g << 16 | st->prev;
    st->prev = (uint32_t)(w >> n) & 0xffff;
    w &= w >> 1;
    w &= w >> 2;
    w &= w >> 4;
    w &= w >> 8;
    st->run |= w != 0;
    return false;
}

/* After the last byte: '@', a run with a special byte, or a run and the
 * word "bearer" before a blank. */
static bool gate_finish(const gate_state *st, const char *s, size_t len) {
    if ((st->flags & GF_AT) || (st->run && (st->flags & GF_SPECIAL))) {
        return true;
    }
    return st->run && (st->flags & GF_BLANK) &&
           (find(s, len, "earer") || find(s, len, "EARER"));
}

static unsigned flags_of(unsigned c1, unsigned c2) {
    return ((c1 & C1_SPECIAL) ? GF_SPECIAL : 0) | ((c2 & C2_AT) ? GF_AT : 0) |
           ((c2 & C2_BLANK) ? GF_BLANK : 0);
}

/* A byte at a time: where the CPU has no AVX2. */
bool sl__redact_detect_gate_bytes(const char *s, size_t len) {
    if (len < GATE_MIN) {
        return false;
    }
    gate_state st = {0, false, 0};
    unsigned any1 = 0, any2 = 0;
    for (size_t i = 0; i < len; i += 32) {
        unsigned n = len - i < 32 ? (unsigned)(len - i) : 32;
        uint32_t g = 0, z = 0;
        for (unsigned k = 0; k < n; k++) {
            unsigned char b = (unsigned char)s[i + k];
            unsigned c1 = lo1[b & 15] & hi1[b >> 4];
            unsigned c2 = lo2[b & 15] & hi2[b >> 4];
            g |= (uint32_t)((c1 & C1_G) != 0) << k;
            z |= (uint32_t)((c2 & C2_Z) != 0) << k;
            any1 |= c1;
            any2 |= c2;
        }
        if (gate_step(&st, s, len, i, g, z, n)) {
            return true;
        }
    }
    st.flags = flags_of(any1, any2);
    return gate_finish(&st, s, len);
}

#if defined(GATE_AVX2)
#define AVX2 __attribute__((target("avx2"), always_inline))

typedef struct gate_vec {
    __m256i lo1, hi1, lo2, hi2; /* the tables, in both lanes */
    __m256i any1, any2;         /* the classes seen, OR-ed */
} gate_vec;

/* 32 bytes: the two lookups per table; the G and 'z' bitmaps. */
AVX2 static inline void classify32(gate_vec *t, __m256i v, uint32_t *g,
                                   uint32_t *z) {
    __m256i nib = _mm256_set1_epi8(0x0f);
    __m256i lo = _mm256_and_si256(v, nib);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
    __m256i c1 = _mm256_and_si256(_mm256_shuffle_epi8(t->lo1, lo),
                                  _mm256_shuffle_epi8(t->hi1, hi));
    __m256i c2 = _mm256_and_si256(_mm256_shuffle_epi8(t->lo2, lo),
                                  _mm256_shuffle_epi8(t->hi2, hi));
    t->any1 = _mm256_or_si256(t->any1, c1);
    t->any2 = _mm256_or_si256(t->any2, c2);
    *g = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
        _mm256_and_si256(c1, _mm256_set1_epi8(C1_G)), _mm256_setzero_si256()));
    *z = (uint32_t)_mm256_movemask_epi8(c2); /* C2_Z is the sign bit */
}

AVX2 static inline __m256i load32(const char *p) {
    return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

AVX2 static inline __m256i table(const uint8_t *t) {
    return _mm256_broadcastsi128_si256(
        _mm_loadu_si128((const __m128i *)(const void *)t));
}

/* Which of the bits in mask some byte of v has. */
AVX2 static inline unsigned seen(__m256i v, int mask) {
    __m256i m = _mm256_and_si256(v, _mm256_set1_epi8((char)mask));
    return ~(uint32_t)_mm256_movemask_epi8(
               _mm256_cmpeq_epi8(m, _mm256_setzero_si256())) != 0;
}

/* GATE_MIN bytes or more. */
__attribute__((target("avx2"))) static bool gate_avx2(const char *s,
                                                      size_t len) {
    gate_vec t = {table(lo1),
                  table(hi1),
                  table(lo2),
                  table(hi2),
                  _mm256_setzero_si256(),
                  _mm256_setzero_si256()};
    gate_state st = {0, false, 0};
    uint32_t g, z;
    if (len < 32) {
        /* the first and the last 16 bytes (8 under 16), overlapping */
        unsigned half = len < 16 ? 8 : 16, sh = (unsigned)len - half;
        __m128i a, b;
        if (half == 8) {
            a = _mm_loadl_epi64((const __m128i *)(const void *)s);
            b = _mm_loadl_epi64((const __m128i *)(const void *)(s + sh));
        } else {
            a = _mm_loadu_si128((const __m128i *)(const void *)s);
            b = _mm_loadu_si128((const __m128i *)(const void *)(s + sh));
        }
        classify32(&t, _mm256_setr_m128i(a, b), &g, &z);
        uint32_t low = (1u << half) - 1;
        g = (g & low) | ((g >> 16) & low) << sh;
        z = (z & low) | ((z >> 16) & low) << sh;
        if (gate_step(&st, s, len, 0, g, z, (unsigned)len)) {
            return true;
        }
    } else {
        size_t i = 0;
        for (; i + 32 <= len; i += 32) {
            classify32(&t, load32(s + i), &g, &z);
            if (gate_step(&st, s, len, i, g, z, 32)) {
                return true;
            }
        }
        if (i < len) { /* the last 32 bytes, of which n are new */
            unsigned n = (unsigned)(len - i);
            classify32(&t, load32(s + len - 32), &g, &z);
            if (gate_step(&st, s, len, i, g >> (32 - n), z >> (32 - n), n)) {
                return true;
            }
        }
    }
    if (seen(t.any2, C2_AT)) {
        return true;
    }
    if (!st.run) {
        return false;
    }
    st.flags = (seen(t.any1, C1_SPECIAL) ? GF_SPECIAL : 0) |
               (seen(t.any2, C2_BLANK) ? GF_BLANK : 0);
    return gate_finish(&st, s, len);
}
#endif

bool sl__redact_detect_gate(const char *s, size_t len) {
    if (len < GATE_MIN) {
        return false;
    }
#if defined(GATE_AVX2)
    static _Atomic int avx2 = -1; /* every thread finds the same answer */
    int has = atomic_load_explicit(&avx2, memory_order_relaxed);
    if (has < 0) {
        has = __builtin_cpu_supports("avx2") ? 1 : 0;
        atomic_store_explicit(&avx2, has, memory_order_relaxed);
    }
    if (has) {
        return gate_avx2(s, len);
    }
#endif
    return sl__redact_detect_gate_bytes(s, len);
}

/* ---- the confirm step ---- */

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

/* After "-----BEGIN " at *t: the rest of a private-key header
 * ("[ A-Z0-9_-]*PRIVATE KEY( BLOCK)?-----"), then through the END line (or
 * the end of the string when it is cut), if the body holds a run of 40
 * base64 characters: a real key, not a header quoted in documentation. */
static bool pem_end(const char *s, size_t len, size_t *t) {
    size_t h = *t;
    while (h < len && h - *t < 64 &&
           ((s[h] >= 'A' && s[h] <= 'Z') || (s[h] >= '0' && s[h] <= '9') ||
            s[h] == ' ' || s[h] == '_')) {
        h++;
    }
    size_t n = h - *t;
    const char *hd = s + *t;
    bool key = (n >= 11 && memcmp(hd + n - 11, "PRIVATE KEY", 11) == 0) ||
               (n >= 17 && memcmp(hd + n - 17, "PRIVATE KEY BLOCK", 17) == 0);
    if (!key || len - h < 5 || memcmp(s + h, "-----", 5) != 0) {
        return false;
    }
    *t = h + 5;
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
static void putty_end(const char *s, size_t len, size_t *t) {
    const char *mac = find(s + *t, len - *t, "Private-MAC:");
    if (!mac) {
        *t = len;
        return;
    }
    size_t k = (size_t)(mac - s) + 12;
    while (k < len && (s[k] == ' ' || s[k] == '\t')) {
        k++;
    }
    while (k < len && is_hex((unsigned char)s[k])) {
        k++;
    }
    *t = k;
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
        "password",   "passwd",       "pass",          "pwd",
        "secret",     "yourpassword", "your_password", "your-password",
        "mypassword", "redacted",
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

/* Bytes of cls from s[at] on; a '\' counts only before a '/' (JSON's
 * escaped slash), so a token stops before any other escape. */
static size_t run_of(const char *s, size_t len, size_t at, const char *cls) {
    size_t k = at;
    while (k < len && in(cls, s[k]) &&
           (s[k] != '\\' || (k + 1 < len && s[k + 1] == '/'))) {
        k++;
    }
    return k - at;
}

static size_t blanks(const char *s, size_t len, size_t at) {
    size_t k = at;
    while (k < len && (s[k] == ' ' || s[k] == '\t')) {
        k++;
    }
    return k - at;
}

/* JWT after "eyJ" at t: <14+>.eyJ<8+>.<any>, all base64url. */
static bool jwt_end(const char *s, size_t len, size_t *t) {
    size_t k = *t + run_of(s, len, *t, B64URL);
    if (k - *t < 14 || len - k < 4 || memcmp(s + k, ".eyJ", 4) != 0) {
        return false;
    }
    size_t q = k + 4;
    k = q + run_of(s, len, q, B64URL);
    if (k - q < 8 || k >= len || s[k] != '.') {
        return false;
    }
    *t = k + 1;
    return true;
}

/* After "authorization" at t: [ \t]* [:=]? [ \t"']* "basic" [ \t]+, the
 * credential's start in *c. */
static bool basic_start(const char *s, size_t len, size_t t, size_t *c) {
    size_t k = t + blanks(s, len, t);
    if (k < len && (s[k] == ':' || s[k] == '=')) {
        k++;
    }
    while (k < len && strchr(" \t\"'", s[k]) && s[k] != '\0') {
        k++;
    }
    if (len - k < 6) {
        return false;
    }
    for (size_t i = 0; i < 5; i++) {
        if ((s[k + i] | 0x20) != "basic"[i]) {
            return false;
        }
    }
    k += 5;
    size_t b = blanks(s, len, k);
    *c = k + b;
    return b > 0;
}

/* After "://" (or ":\/\/") at [f, t): user ':' password '@' host, with a
 * scheme before; the password in [*pf, *pt). */
static bool conn_password(const char *s, size_t len, size_t f, size_t t,
                          size_t *pf, size_t *pt) {
    static const char stop[] = " \t\r\n\f\v:/@\"'<>\\";
    if (f == 0 || !is_alnum((unsigned char)s[f - 1])) {
        return false;
    }
    size_t k = t;
    while (k < len && !in(stop, s[k]) && k - t < 256) {
        k++;
    }
    if (k >= len || s[k] != ':') {
        return false;
    }
    size_t p = ++k;
    while (k < len && !in(stop, s[k]) && k - p < 256) {
        k++;
    }
    if (k + 1 >= len || s[k] != '@' || k - p < 3 ||
        !(is_alnum((unsigned char)s[k + 1]) || s[k + 1] == '[') ||
        placeholder(s + p, k - p)) {
        return false;
    }
    *pf = p;
    *pt = k;
    return true;
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
    size_t skip = p->skip ? strlen(p->skip) : 0;
    if (skip && len - f >= skip && memcmp(s + f, p->skip, skip) == 0) {
        return false;
    }
    if (!left_ok(s, f)) {
        return false;
    }
    size_t mask = f; /* where the masked part starts */
    switch (p->kind) {
    case K_PEM:
        if (!pem_end(s, len, &t)) {
            return false;
        }
        *from = f;
        *to = t;
        return true;
    case K_PUTTY:
        putty_end(s, len, &t);
        *from = f;
        *to = t;
        return true;
    case K_CONN:
        return conn_password(s, len, f, t, from, to);
    case K_JWT:
        if (!jwt_end(s, len, &t)) {
            return false;
        }
        break;
    case K_WORD:
        t += blanks(s, len, t);
        mask = t;
        break;
    case K_BASIC:
        if (!basic_start(s, len, t, &t)) {
            return false;
        }
        mask = t;
        break;
    case K_AFTER:
        mask = t;
        break;
    default:
        break;
    }
    /* the body after the prefix, then the rest of the token */
    size_t body = t;
    if (p->first && (t >= len || !in(p->first, s[t]))) {
        return false;
    }
    t += run_of(s, len, t, p->body);
    if (t - body < p->body_min && p->kind != K_JWT) {
        return false;
    }
    if (t < len && is_alnum((unsigned char)s[t])) {
        return false; /* the token goes on: not this format */
    }
    if ((p->min_len && t - f < p->min_len) ||
        (p->max_len && t - f > p->max_len)) {
        return false;
    }
    if (p->kind == K_SENDGRID && (s[f + 25] != '.' || s[f + 2] != '.')) {
        return false; /* SG.<22>.<43> */
    }
    if (p->kind == K_AFTER && memcmp(s + t - 2, "==", 2) != 0) {
        return false;
    }
    if (p->kind == K_BASIC && !basic_ok(s + mask, t - mask)) {
        return false;
    }
    if (!classes_ok(p, s, mask, t)) {
        return false;
    }
    *from = mask;
    *to = t;
    return true;
}

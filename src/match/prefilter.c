/* src/match/prefilter.c: a pattern set's prefilter: for each Vectorscan
 * pattern, a literal every match must contain (found by reading the
 * lowered regex text), and a test that rejects values containing none of
 * them before Vectorscan is called. Leaves out the scan itself (patset.c)
 * and exact / prefix / suffix patterns (littrie.c).
 *
 * The one idea: hs_scan has a fixed cost of 20 to 50 ns whatever the
 * value, which dominates on the short values of telemetry fields and is
 * paid once per field even when nothing matches. A required literal is a
 * necessary condition: no occurrence of it, no match. Up to its first
 * SL_GRAM_MAX bytes go into a gram set, per gram length, apart for literals
 * that must start the value (`^lit`). A value whose grams all miss cannot
 * match any filtered pattern, so the scan is skipped; any hit scans as
 * before, so results never change, only the cost of a miss.
 *
 * Reading a regex is conservative: only what is certainly a literal byte
 * in every match counts. Top-level alternation, inline options and
 * verbs ((?i), (*UTF8)), \Q..\E, back-references or anything unexpected
 * give no literal, and the pattern is simply scanned every time. */
#include <sluice/match.h>

#include "base/base.h"
#include "base/codec.h"
#include "match/private.h"

struct sl__prefilter {
    sl__gramset g[2][SL_GRAM_MAX]; /* [anchored][length - 1] */
    uint64_t *mem;                 /* every array of g, owned */
    size_t words;
};

static bool is_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

/* Index just past the ']' closing the class opened at re[i] == '[', or 0
 * when it does not close. */
static size_t skip_class(const char *re, size_t n, size_t i) {
    size_t j = i + 1;
    if (j < n && re[j] == '^') {
        j++;
    }
    if (j < n && re[j] == ']') {
        j++; /* a leading ']' is a member */
    }
    while (j < n) {
        if (re[j] == '\\') {
            j += 2;
            continue;
        }
        if (re[j] == '[' && j + 1 < n &&
            (re[j + 1] == ':' || re[j + 1] == '.' || re[j + 1] == '=')) {
            /* [:alpha:] and friends: up to the matching ":]" */
            char d = re[j + 1];
            size_t k = j + 2;
            while (k + 1 < n && !(re[k] == d && re[k + 1] == ']')) {
                k++;
            }
            if (k + 1 >= n) {
                return 0;
            }
            j = k + 2;
            continue;
        }
        if (re[j] == ']') {
            return j + 1;
        }
        j++;
    }
    return 0;
}

/* Whether the pattern can be read at all: no top-level '|', groups only
 * plain or (?:, no verbs, no \Q, no back-reference or octal escape,
 * brackets and parentheses balanced. */
static bool readable(const char *re, size_t n) {
    int depth = 0;
    for (size_t i = 0; i < n;) {
        char c = re[i];
        if (c == '\\') {
            if (i + 1 >= n) {
                return false;
            }
            char d = re[i + 1];
            if ((d >= '0' && d <= '9') || d == 'Q' || d == 'E' || d == 'g' ||
                d == 'k') {
                return false;
            }
            i += 2;
        } else if (c == '[') {
            size_t j = skip_class(re, n, i);
            if (j == 0) {
                return false;
            }
            i = j;
        } else if (c == '(') {
            if (i + 1 < n &&
                (re[i + 1] == '*' ||
                 (re[i + 1] == '?' && (i + 2 >= n || re[i + 2] != ':')))) {
                return false;
            }
            depth++;
            i++;
        } else if (c == ')') {
            if (--depth < 0) {
                return false;
            }
            i++;
        } else if (c == '|' && depth == 0) {
            return false;
        } else {
            i++;
        }
    }
    return depth == 0;
}

/* Index just past the group opened at re[i] == '(' (readable() held). */
static size_t skip_group(const char *re, size_t n, size_t i) {
    int depth = 0;
    while (i < n) {
        char c = re[i];
        if (c == '\\') {
            i += 2;
        } else if (c == '[') {
            i = skip_class(re, n, i);
            if (i == 0) {
                return n;
            }
        } else {
            depth += c == '(';
            depth -= c == ')';
            i++;
            if (depth == 0) {
                return i;
            }
        }
    }
    return n;
}

/* A quantifier at re[i]: sets *min0 when it allows zero repetitions and
 * returns the index past it (and its lazy / possessive mark), or i when
 * there is none. A '{' that is not a well-formed {n}, {n,} or {n,m} counts
 * as a quantifier allowing zero, skipped up to its '}' (or the end): the
 * bytes inside are never taken as literals. */
static size_t quantifier(const char *re, size_t n, size_t i, bool *min0) {
    *min0 = false;
    if (i >= n) {
        return i;
    }
    char c = re[i];
    size_t j = i + 1;
    if (c == '*' || c == '?') {
        *min0 = true;
    } else if (c == '{') {
        unsigned long lo = 0;
        bool digits = false;
        while (j < n && re[j] >= '0' && re[j] <= '9') {
            lo = lo * 10 + (unsigned long)(re[j] - '0');
            lo = lo > 100000 ? 100000 : lo;
            digits = true;
            j++;
        }
        if (j < n && re[j] == ',') {
            j++;
            while (j < n && re[j] >= '0' && re[j] <= '9') {
                j++;
            }
        }
        if (!digits || j >= n || re[j] != '}') {
            *min0 = true;
            while (j < n && re[j] != '}') {
                j++;
            }
        }
        *min0 = *min0 || lo == 0;
        j = j < n ? j + 1 : n;
    } else if (c != '+') {
        return i;
    }
    if (j < n && (re[j] == '?' || re[j] == '+')) {
        j++;
    }
    return j;
}

size_t sl__match_required(const char *re, size_t n, bool *anchored, char *out,
                          size_t cap) {
    *anchored = false;
    if (!re || !readable(re, n)) {
        return 0;
    }
    bool lead = n > 0 && re[0] == '^';
    size_t i = lead ? 1 : 0, best = 0, run = 0, run_start = i;
    bool best_anch = false;
    int best_score = 0;
    char buf[SL_GRAM_MAX * 16];
    for (;;) {
        int lit = -1;
        size_t next = i + 1;
        bool done = i >= n;
        if (!done) {
            unsigned char c = (unsigned char)re[i];
            if (c == '\\') {
                unsigned char d = (unsigned char)re[i + 1];
                next = i + 2;
                if (d == 'x') {
                    int h = i + 3 < n ? sl__hexval(re[i + 2]) : -1;
                    int l = i + 3 < n ? sl__hexval(re[i + 3]) : -1;
                    if (h >= 0 && l >= 0) {
                        lit = h * 16 + l;
                        next = i + 4;
                    } else if (i + 2 < n && re[i + 2] == '{') {
                        while (next < n && re[next] != '}') {
                            next++;
                        }
                        next = next < n ? next + 1 : n;
                    } else {
                        return 0; /* \x with one digit: not worth reading */
                    }
                } else if (d < 0x80 && !is_alnum(d)) {
                    lit = d;
                } else if (d == 'p' || d == 'P' || d == 'o' || d == 'N') {
                    if (i + 2 < n && re[i + 2] == '{') {
                        while (next < n && re[next] != '}') {
                            next++;
                        }
                        next = next < n ? next + 1 : n;
                    } else if (d == 'p' || d == 'P') {
                        next = i + 3; /* \pL */
                    }
                } else if (d == 'c') {
                    next = i + 3; /* \cX */
                }
                /* \d \w \s \b \z \n \t ...: one item, not a literal */
            } else if (c == '[') {
                next = skip_class(re, n, i);
            } else if (c == '(') {
                next = skip_group(re, n, i);
            } else if (c == '*' || c == '+' || c == '?' || c == '{' ||
                       c == ')' || c == '|') {
                return 0; /* a quantifier with nothing before it */
            } else if (c != '.' && c != '^' && c != '$' && c != ']' &&
                       c != '}') {
                lit = c;
            }
            if (next > n) {
                return 0;
            }
        }
        bool min0 = false;
        size_t after = done ? n : quantifier(re, n, next, &min0);
        bool quantified = after != next;
        bool keep = lit >= 0 && !min0;
        if (keep) {
            if (run < sizeof(buf)) {
                buf[run] = (char)lit;
            }
            run++;
        }
        if (done || !keep || quantified) {
            /* the run ends: score it (longer is better up to a gram,
             * anchored breaks ties) */
            size_t len = run < sizeof(buf) ? run : sizeof(buf);
            bool anch = lead && run_start == 1 && len > 0;
            int score = (int)(len < SL_GRAM_MAX ? len : SL_GRAM_MAX) * 2 +
                        (anch ? 1 : 0);
            if (len > 0 &&
                (score > best_score || (score == best_score && len > best))) {
                best_score = score;
                best = len;
                best_anch = anch;
                memcpy(out, buf, len < cap ? len : cap);
            }
            run = 0;
            run_start = SIZE_MAX; /* only the first run can be anchored */
        }
        if (done) {
            break;
        }
        i = after;
        if (run == 0 && run_start == SIZE_MAX) {
            run_start = i;
        }
    }
    *anchored = best_anch;
    return best;
}

void sl__prefilter_free(sl__prefilter *pf) {
    if (!pf) {
        return;
    }
    sl__free(pf->mem, pf->words * sizeof(uint64_t));
    sl__free(pf, sizeof(*pf));
}

sl_status sl__prefilter_build(const sl__req *reqs, size_t n,
                              sl__prefilter **out) {
    size_t count[2][SL_GRAM_MAX] = {{0}};
    for (size_t i = 0; i < n; i++) {
        if (reqs[i].len == 0 || reqs[i].len > SL_GRAM_MAX) {
            return SL_EINVAL;
        }
        count[reqs[i].anchored][reqs[i].len - 1]++;
    }
    sl__prefilter *pf = sl__calloc(1, sizeof(*pf));
    if (!pf) {
        return SL_ENOMEM;
    }
    /* one block: each used set's bits, then its key slots (two per word) */
    for (int a = 0; a < 2; a++) {
        for (int q = 0; q < SL_GRAM_MAX; q++) {
            if (count[a][q] > 0) {
                pf->words += SL_GRAM_WORDS + sl__gramset_slots(count[a][q]) / 2;
            }
        }
    }
    pf->words = pf->words ? pf->words : 1;
    pf->mem = sl__alloc(pf->words * sizeof(uint64_t));
    if (!pf->mem) {
        sl__free(pf, sizeof(*pf));
        return SL_ENOMEM;
    }
    size_t w = 0;
    for (int a = 0; a < 2; a++) {
        for (int q = 0; q < SL_GRAM_MAX; q++) {
            size_t c = count[a][q];
            if (c > 0) {
                uint64_t *bits = pf->mem + w;
                w += SL_GRAM_WORDS;
                sl__gramset_init(&pf->g[a][q], c, (unsigned)q + 1, bits,
                                 (uint32_t *)(void *)(pf->mem + w));
                w += sl__gramset_slots(c) / 2;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        const sl__req *r = &reqs[i];
        sl__gramset_add(&pf->g[r->anchored][r->len - 1], r->lit);
    }
    *out = pf;
    return SL_OK;
}

/* Whether a gram of g (q bytes) occurs anywhere in u[0, len). */
static inline bool any_gram(const sl__gramset *g, const unsigned char *u,
                            size_t len, unsigned q) {
    for (size_t p = 0; p + q <= len; p++) {
        if (sl__gramset_has(g, u + p, q)) {
            return true;
        }
    }
    return false;
}

bool sl__prefilter_may_match(const sl__prefilter *pf, const char *s,
                             size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    for (unsigned q = 1; q <= SL_GRAM_MAX; q++) {
        const sl__gramset *a = &pf->g[1][q - 1];
        if (a->bits && len >= q && sl__gramset_has(a, u, q)) {
            return true;
        }
    }
    /* constant lengths, so each loop gets its own specialised body */
    if (pf->g[0][3].bits && any_gram(&pf->g[0][3], u, len, 4)) {
        return true;
    }
    if (pf->g[0][2].bits && any_gram(&pf->g[0][2], u, len, 3)) {
        return true;
    }
    if (pf->g[0][1].bits && any_gram(&pf->g[0][1], u, len, 2)) {
        return true;
    }
    return pf->g[0][0].bits && any_gram(&pf->g[0][0], u, len, 1);
}

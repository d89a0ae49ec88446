/* src/filter/selector.c: the trace-filter selector grammar
 * `<kind>:[<match>:]<pattern>` and the path helpers selectors and scope
 * identity share. Matching itself is left to the pattern sets (match.h):
 * here a selector only becomes an sl_pat.
 *
 * The one idea: parsing follows upstream's `splitn(3, ':')` exactly
 * (reference/trace-filters-upstream.md §1.2), so colons after the second
 * one belong to the pattern and a pattern with a colon must name its match
 * type; the error strings are upstream's, verbatim. */
#include <sluice/filter.h>

#include <stdio.h>

#include "base/base.h"
#include "filter/private.h"

static const char *const kind_names[SL__SEL_KIND_COUNT] = {
    "pkg", "file", "obj", "arg", "local", "global", "ret", "attr"};
static const char *const match_names[3] = {"glob", "regex", "literal"};

void sl__filter_squote(char *dst, size_t cap, const char *s, size_t n) {
    size_t cut = n;
    bool more = false;
    if (cut > SL_QUOTE_MAX) {
        cut = SL_QUOTE_MAX;
        /* back up to a UTF-8 boundary so the cut never splits a character */
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) {
            cut--;
        }
        more = true;
    }
    snprintf(dst, cap, "'%.*s%s'", (int)cut, s, more ? "..." : "");
}

static bool seg_eq(const char *s, size_t n, const char *lit) {
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

sl_status sl__filter_selector_parse(sl_arena *a, const char *raw, size_t len,
                                    unsigned allowed, sl__selector *sel,
                                    char *msg, size_t cap) {
    if (len == 0) {
        snprintf(msg, cap, "selector string is empty");
        return SL_ESCHEMA;
    }
    const char *c1 = memchr(raw, ':', len);
    if (!c1) {
        snprintf(msg, cap, "selector missing pattern");
        return SL_ESCHEMA;
    }
    size_t klen = (size_t)(c1 - raw);
    int kind = -1;
    for (int k = 0; k < SL__SEL_KIND_COUNT; k++) {
        if (seg_eq(raw, klen, kind_names[k])) {
            kind = k;
        }
    }
    char q[64];
    if (kind < 0) {
        sl__filter_squote(q, sizeof(q), raw, klen);
        snprintf(msg, cap, "unsupported selector kind %s", q);
        return SL_ESCHEMA;
    }
    if (!(allowed & (1u << kind))) {
        snprintf(msg, cap, "selector kind '%s' is not allowed in this context",
                 kind_names[kind]);
        return SL_ESCHEMA;
    }
    const char *rest = c1 + 1;
    size_t rlen = len - klen - 1;
    const char *c2 = memchr(rest, ':', rlen);
    int match = SL__MATCH_GLOB;
    const char *pat = rest;
    size_t plen = rlen;
    if (c2) {
        size_t mlen = (size_t)(c2 - rest);
        if (mlen == 0) {
            snprintf(msg, cap, "selector match type cannot be empty");
            return SL_ESCHEMA;
        }
        match = -1;
        for (int m = 0; m < 3; m++) {
            if (seg_eq(rest, mlen, match_names[m])) {
                match = m;
            }
        }
        if (match < 0) {
            sl__filter_squote(q, sizeof(q), rest, mlen);
            snprintf(msg, cap, "unsupported selector match type %s", q);
            return SL_ESCHEMA;
        }
        pat = c2 + 1;
        plen = rlen - mlen - 1;
    }
    if (plen == 0) {
        snprintf(msg, cap, "selector pattern cannot be empty");
        return SL_ESCHEMA;
    }
    char *p = sl__arena_strndup(a, pat, plen);
    size_t rawcap = strlen(kind_names[kind]) + 10 + plen;
    char *r = sl__arena_alloc(a, rawcap);
    if (!p || !r) {
        return SL_ENOMEM;
    }
    snprintf(r, rawcap, "%s:%s:%s", kind_names[kind], match_names[match], p);
    sel->kind = (uint8_t)kind;
    sel->match = (uint8_t)match;
    sel->pat = p;
    sel->pat_len = plen;
    sel->raw = r;
    return SL_OK;
}

void sl__filter_selector_pat(const sl__selector *sel, uint32_t id,
                             sl_pat *out) {
    memset(out, 0, sizeof(*out));
    /* upstream accepts patterns that match "" (glob `*`, regex `.*`) */
    out->flags = SL_PAT_ALLOWEMPTY;
    switch (sel->match) {
    case SL__MATCH_REGEX:
        out->kind = SL_PAT_REGEX;
        break;
    case SL__MATCH_LITERAL:
        out->kind = SL_PAT_EXACT;
        break;
    default:
        out->kind = SL_PAT_GLOB;
        out->flags |= SL_PAT_GLOB_PATH;
        break;
    }
    out->text = sel->pat;
    out->len = sel->pat_len;
    out->id = id;
    out->where = sel->where;
}

sl_status sl__filter_selector_check(const sl__selector *sel, char *msg,
                                    size_t cap) {
    if (sel->match == SL__MATCH_LITERAL) {
        return SL_OK;
    }
    sl_pat p;
    sl__filter_selector_pat(sel, 0, &p);
    sl_error e = {0};
    sl_status rc = sl_pat_check(&p, &e);
    if (rc == SL_OK || rc == SL_ENOMEM) {
        return rc;
    }
    /* keep the engine's reason, drop its own "invalid regex "<p>": " */
    const char *why = strstr(e.msg, "\": ");
    why = why ? why + 3 : e.msg;
    char q[64];
    sl__filter_squote(q, sizeof(q), sel->pat, sel->pat_len);
    snprintf(msg, cap, "invalid %s pattern %s: %s",
             sel->match == SL__MATCH_REGEX ? "regex" : "glob", q, why);
    return rc == SL_ELIMIT ? SL_ELIMIT : SL_EPATTERN;
}

bool sl__filter_norm_path(const char *p, size_t n, bool strict, sl_buf *out) {
    size_t base = out->len;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != '/') {
            j++;
        }
        size_t cl = j - i;
        if (cl == 0 || (cl == 1 && p[i] == '.')) {
            /* root, empty and "." components vanish */
        } else if (cl == 2 && p[i] == '.' && p[i + 1] == '.') {
            if (out->len == base) {
                if (strict) {
                    return false;
                }
            } else {
                size_t k = out->len;
                while (k > base && out->ptr[k - 1] != '/') {
                    k--;
                }
                out->len = k > base ? k - 1 : base;
            }
        } else {
            if (out->len > base) {
                sl__buf_putc(out, '/');
            }
            sl__buf_append(out, p + i, cl);
        }
        i = j + 1;
    }
    if (out->ptr && out->cap > out->len) {
        out->ptr[out->len] = '\0';
    }
    return true;
}

bool sl__filter_strip_prefix(const char *path, const char *prefix,
                             const char **rest) {
    /* Compare component by component, ignoring repeated '/' and "."
     * components as Rust's Path does. */
    const char *a = path, *b = prefix;
    for (;;) {
        bool a_root = *a == '/', b_root = *b == '/';
        if (a == path && b == prefix && a_root != b_root && *b) {
            return false; /* absolute vs relative */
        }
        while (*a == '/' || (a[0] == '.' && (a[1] == '/' || !a[1]) &&
                             (a == path || a[-1] == '/'))) {
            a++;
        }
        while (*b == '/' || (b[0] == '.' && (b[1] == '/' || !b[1]) &&
                             (b == prefix || b[-1] == '/'))) {
            b++;
        }
        if (!*b) {
            *rest = a;
            return true;
        }
        if (!*a) {
            return false;
        }
        size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
        if (la != lb || memcmp(a, b, la) != 0) {
            return false;
        }
        a += la;
        b += lb;
    }
}

/* A word-at-a-time hash (multiply and fold) for names and cache keys: a
 * byte-wise FNV loop would cost more than the lookups it serves. */
uint64_t sl__filter_hash(const char *p, size_t len) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    if (len > 0) {
        memcpy(&w, p, len);
    }
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 29);
}

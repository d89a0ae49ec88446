/* src/redact/path.c: path patterns. Owns their syntax and matching; the
 * walk (walk.c) keeps the stack of keys from the root that they match.
 *
 * The one idea: a path is a list of keys, not a string. Joining keys with
 * '.' (as v0 does) makes the key "a.b" and the nesting a -> b the same
 * path; keeping segments apart and unescaping "\." in the pattern makes
 * them different. A pattern is root-anchored: its segments must cover the
 * whole path, "*" standing for one key and "**" for any number (zero
 * included). Without "**" that is one comparison per segment; with it, a
 * glob table over segments x keys (64 x 512 at most), never backtracking.
 * List elements add no segment. Segments compare ASCII-case-insensitively.
 * "\*" is a literal star key. */
#include <sluice/redact.h>

#include "base/base.h"
#include "redact/private.h"

sl_status sl__redact_path_compile(sl_redactor *r, const char *text, size_t len,
                                  rd_path *out, const sl_pos *pos,
                                  const char *what, sl_error *err) {
    char q[64];
    if (len == 0) {
        return sl__error(err, SL_EPATTERN, pos, "%s: empty path pattern", what);
    }
    /* count segments first: one more than the unescaped dots */
    size_t nseg = 1;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\\') {
            i++;
        } else if (text[i] == '.') {
            nseg++;
        }
    }
    if (nseg > SL__REDACT_MAX_SEGS) {
        sl__quote(q, sizeof(q), text, len);
        return sl__error(err, SL_ELIMIT, pos,
                         "%s: path %s has more than %d segments", what, q,
                         SL__REDACT_MAX_SEGS);
    }
    rd_seg *segs = sl__arena_calloc(&r->arena, nseg * sizeof(*segs));
    char *buf = sl__arena_alloc(&r->arena, len + 1);
    if (!segs || !buf) {
        return sl__nomem(err);
    }
    size_t n = 0, bl = 0, start = 0;
    bool escaped_star = false;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '.') {
            rd_seg *s = &segs[n++];
            s->text = buf + start;
            s->len = (uint32_t)(bl - start);
            if (s->len == 0) {
                sl__quote(q, sizeof(q), text, len);
                return sl__error(err, SL_EPATTERN, pos,
                                 "%s: path %s has an empty segment", what, q);
            }
            if (!escaped_star && s->len == 1 && s->text[0] == '*') {
                s->kind = RD_SEG_ONE;
            } else if (!escaped_star && s->len == 2 && s->text[0] == '*' &&
                       s->text[1] == '*') {
                s->kind = RD_SEG_ANY;
            } else {
                s->kind = RD_SEG_LIT;
            }
            start = bl;
            escaped_star = false;
            continue;
        }
        if (text[i] == '\\') {
            if (i + 1 >= len) {
                sl__quote(q, sizeof(q), text, len);
                return sl__error(err, SL_EPATTERN, pos,
                                 "%s: path %s ends with a lone backslash", what,
                                 q);
            }
            i++;
            escaped_star |= text[i] == '*';
        }
        buf[bl++] = text[i];
    }
    out->segs = segs;
    out->n = (uint32_t)n;
    out->min_depth = 0;
    out->has_any = false;
    for (size_t i = 0; i < n; i++) {
        if (segs[i].kind == RD_SEG_ANY) {
            out->has_any = true;
        } else {
            out->min_depth++;
        }
    }
    return SL_OK;
}

/* ASCII case-insensitive equality (keys may hold NUL bytes, so no
 * strncasecmp). */
static bool lit_match(const rd_seg *s, sl_str key) {
    return sl__ascii_ieq(s->text, s->len, key.ptr, key.len);
}

/* Patterns with "**": the classic glob table, one row per pattern segment
 * over the key positions, O(segments x keys) with no backtracking blow-up.
 * reach[j] = the segments so far can cover exactly keys[0..j). */
static bool match_any(const rd_path *p, const sl_str *keys, size_t nk) {
    bool a[SL__REDACT_MAX_KEYS + 2], b[SL__REDACT_MAX_KEYS + 2];
    bool *reach = a, *next = b;
    if (nk > SL__REDACT_MAX_KEYS) {
        return true; /* cannot happen (walk.c bounds the depth): fail safe */
    }
    memset(reach, 0, (nk + 1) * sizeof(bool));
    reach[0] = true;
    for (uint32_t s = 0; s < p->n; s++) {
        const rd_seg *seg = &p->segs[s];
        memset(next, 0, (nk + 1) * sizeof(bool));
        bool any = false;
        for (size_t j = 0; j <= nk; j++) {
            if (seg->kind == RD_SEG_ANY) {
                any |= reach[j];
                next[j] = any;
            } else if (j > 0 && reach[j - 1] &&
                       (seg->kind == RD_SEG_ONE ||
                        lit_match(seg, keys[j - 1]))) {
                next[j] = true;
            }
        }
        bool *t = reach;
        reach = next;
        next = t;
    }
    return reach[nk];
}

bool sl__redact_path_match(const rd_path *p, const sl_str *keys, size_t n) {
    if (n == 0 || n < p->min_depth || (!p->has_any && n != p->n)) {
        return false;
    }
    /* cheap reject on the last segment, which is nearly always literal */
    const rd_seg *last = &p->segs[p->n - 1];
    if (last->kind == RD_SEG_LIT && !lit_match(last, keys[n - 1])) {
        return false;
    }
    if (p->has_any) {
        return match_any(p, keys, n);
    }
    for (size_t i = 0; i < n; i++) {
        if (p->segs[i].kind == RD_SEG_LIT && !lit_match(&p->segs[i], keys[i])) {
            return false;
        }
    }
    return true;
}

/* src/match/lower.c: turn one sl_pat into Vectorscan regex text and flags,
 * and word the error every rejected pattern gets. Leaves out compiling
 * (patset.c).
 *
 * The one idea: every kind but regex is a literal or a glob, so it is
 * escaped byte by byte (\xHH for every byte that is not a letter or digit:
 * Vectorscan accepts it for bytes >= 0x80 and under HS_FLAG_CASELESS) and
 * anchored with ^ and \z. \z and not $: Vectorscan's $ also matches before
 * a final "\n" (PCRE), and "exact" means the whole value. User regexes keep
 * their own ^ and $ untouched. */
#include <sluice/match.h>

#include <stdio.h>

#include <hs/hs.h>

#include "base/base.h"
#include "match/private.h"

const char *sl__match_kind_name(sl_pat_kind kind) {
    switch (kind) {
    case SL_PAT_EXACT:
        return "exact";
    case SL_PAT_PREFIX:
        return "prefix";
    case SL_PAT_SUFFIX:
        return "suffix";
    case SL_PAT_CONTAINS:
        return "contains";
    case SL_PAT_REGEX:
        return "regex";
    case SL_PAT_GLOB:
        return "glob";
    }
    return "pattern";
}

sl_status sl__match_pattern_error(sl_error *err, const sl_pat *p,
                                  const char *why) {
    if (!err) {
        return SL_EPATTERN;
    }
    const char *word = sl__match_kind_name(p->kind);
    const char *text = p->text ? p->text : "";
    size_t n = p->len;
    /* the pattern in full when it fits beside the reason, else cut */
    size_t fixed = strlen("invalid  \"\": ") + strlen(word) + strlen(why);
    size_t room =
        sizeof(err->msg) - 1 > fixed + 3 ? sizeof(err->msg) - 1 - fixed - 3 : 0;
    const char *ell = "";
    if (n > room) {
        n = room;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80) {
            n--;
        }
        ell = "...";
    }
    /* control bytes would break the one-line message: show them as '?' */
    char quoted[sizeof(err->msg)];
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        quoted[i] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    quoted[n] = '\0';
    sl__error(err, SL_EPATTERN, &p->where, "invalid %s \"%s%s\": %s", word,
              quoted, ell, why);
    return SL_EPATTERN;
}

static sl_status put_escaped(sl_buf *out, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    sl_status rc = sl__buf_reserve(out, n * 4 + 8);
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        unsigned char b = (unsigned char)s[i];
        if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
            (b >= '0' && b <= '9')) {
            rc = sl__buf_putc(out, (char)b);
        } else {
            char e[4] = {'\\', 'x', hex[b >> 4], hex[b & 15]};
            rc = sl__buf_append(out, e, 4);
        }
    }
    return rc;
}

sl_status sl__match_lower(const sl_pat *p, sl_buf *out, unsigned *hs_flags,
                          sl_error *err) {
    if (p->len > SL_PAT_MAX_LEN) {
        sl__match_pattern_error(err, p, "pattern too long");
        if (err) {
            err->code = SL_ELIMIT;
        }
        return SL_ELIMIT;
    }
    if (!p->text && p->len > 0) {
        return sl__error(err, SL_EINVAL, &p->where, "pattern has no text");
    }
    const char *text = p->text ? p->text : "";
    unsigned f = 0;
    if (p->flags & SL_PAT_CASELESS) {
        f |= HS_FLAG_CASELESS;
    }
    if (p->flags & SL_PAT_ALLOWEMPTY) {
        f |= HS_FLAG_ALLOWEMPTY;
    }
    f |= (p->flags & SL_PAT_SPANS) ? HS_FLAG_SOM_LEFTMOST : HS_FLAG_SINGLEMATCH;
    size_t start = out->len;
    sl_status rc = SL_OK;
    switch (p->kind) {
    case SL_PAT_EXACT:
    case SL_PAT_PREFIX:
        rc = sl__buf_putc(out, '^');
        if (rc == SL_OK) {
            rc = put_escaped(out, text, p->len);
        }
        if (rc == SL_OK && p->kind == SL_PAT_EXACT) {
            rc = sl__buf_append(out, "\\z", 2);
        }
        break;
    case SL_PAT_SUFFIX:
        rc = put_escaped(out, text, p->len);
        if (rc == SL_OK) {
            rc = sl__buf_append(out, "\\z", 2);
        }
        break;
    case SL_PAT_CONTAINS:
        rc = put_escaped(out, text, p->len);
        break;
    case SL_PAT_REGEX:
        if (memchr(text, '\0', p->len)) {
            return sl__match_pattern_error(err, p,
                                           "pattern contains a NUL byte");
        }
        rc = sl__buf_append(out, text, p->len);
        break;
    case SL_PAT_GLOB: {
        const char *why = NULL;
        char whybuf[64];
        rc = sl__glob_translate(text, p->len, p->flags, out, &why, whybuf,
                                sizeof(whybuf));
        if (rc == SL_ENOMEM) {
            return sl__nomem(err);
        }
        if (rc != SL_OK) {
            sl__match_pattern_error(err, p, why);
            if (err) {
                err->code = rc;
            }
            return rc;
        }
        break;
    }
    default:
        return sl__error(err, SL_EINVAL, &p->where, "unknown pattern kind %d",
                         (int)p->kind);
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(out, '\0'); /* hs_compile_multi wants C strings */
    }
    if (rc != SL_OK) {
        if (out->ptr) {
            out->len = start;
        }
        out->failed = 0;
        return rc == SL_ENOMEM
                   ? sl__nomem(err)
                   : sl__error(err, rc, &p->where, "pattern too long");
    }
    *hs_flags = f;
    return SL_OK;
}

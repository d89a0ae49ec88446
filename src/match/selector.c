/* src/match/selector.c: the match-type part of the selector dialect shared
 * by trace filters and redaction keys: `glob:`, `regex:` or `literal:`
 * before the pattern, or nothing (the caller's default). Leaves out the
 * selector kinds (`pkg:`, `local:` ...), which belong to the filter module.
 *
 * The one idea, from the reference parser (splitn(3, ':')): once a colon is
 * present, the text before it must be a match type, so a pattern that
 * contains ':' has to state its type (`glob:a:b`); everything after that
 * first colon is the pattern, colons included. */
#include <sluice/match.h>

#include "base/base.h"
#include "match/private.h"

sl_status sl_pat_parse(const char *text, size_t len, sl_pat_kind def,
                       sl_pat *out, sl_error *err) {
    if (!out || (!text && len > 0)) {
        return sl__error(err, SL_EINVAL, NULL, "no selector or no output");
    }
    const sl_pos *where = &out->where;
    const char *colon = len ? memchr(text, ':', len) : NULL;
    sl_pat_kind kind = def;
    const char *pat = text;
    size_t plen = len;
    if (colon) {
        size_t tlen = (size_t)(colon - text);
        if (tlen == 0) {
            return sl__error(err, SL_EPATTERN, where,
                             "selector match type cannot be empty");
        }
        if (tlen == 4 && memcmp(text, "glob", 4) == 0) {
            kind = SL_PAT_GLOB;
        } else if (tlen == 5 && memcmp(text, "regex", 5) == 0) {
            kind = SL_PAT_REGEX;
        } else if (tlen == 7 && memcmp(text, "literal", 7) == 0) {
            kind = SL_PAT_EXACT;
        } else {
            int shown = tlen > SL_QUOTE_MAX ? SL_QUOTE_MAX : (int)tlen;
            return sl__error(err, SL_EPATTERN, where,
                             "unsupported selector match type '%.*s%s'", shown,
                             text, tlen > SL_QUOTE_MAX ? "..." : "");
        }
        pat = colon + 1;
        plen = len - tlen - 1;
    }
    if (plen == 0) {
        return sl__error(err, SL_EPATTERN, where,
                         "selector pattern cannot be empty");
    }
    out->kind = kind;
    out->text = pat;
    out->len = plen;
    return SL_OK;
}

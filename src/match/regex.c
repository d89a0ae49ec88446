/* src/match/regex.c: regex replace and search over PCRE2 (8-bit, UTF,
 * JIT when the platform has it), with Rust regex crate semantics for
 * Regex::replace_all templates. Leaves out pattern sets (patset.c):
 * Vectorscan cannot capture groups, PCRE2 can.
 *
 * The one idea: a replace is a loop of pcre2_match calls that must walk
 * exactly like Rust's iterator: non-overlapping matches, and an empty match
 * that ends where the previous match ended is skipped by moving one UTF-8
 * character on ("a*" on "baaac" -> [0,0] [1,4] [5,5]). Compile options give
 * Rust's meaning to the syntax PCRE2 shares with it: UTF + UCP (\d, \w
 * Unicode-aware), DOLLAR_ENDONLY ($ is the end of the text, not before a
 * final "\n"), MATCH_INVALID_UTF (payload values are not always UTF-8).
 *
 * Match data: each regex keeps a few pcre2_match_data in atomic slots.
 * A call takes one with an atomic exchange and puts it back after, so
 * single-threaded use never allocates per record and concurrent callers
 * never share one; a caller that finds every slot taken (more threads than
 * slots) allocates its own for that call. No thread-locals, no locks.
 *
 * All PCRE2 memory (code, contexts, match data, heap frames) goes through
 * the sl__alloc hook via a general context; PCRE2's free has no size, so
 * each block carries its size in a 16-byte header. JIT code pages are
 * mmap'ed by PCRE2 itself. */
#include <sluice/match.h>

#include <stdatomic.h>
#include <stdio.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "base/base.h"
#include "match/private.h"

enum {
    MD_SLOTS = 4,
    HDR = 16
};

struct sl_regex {
    pcre2_general_context *gctx;
    pcre2_match_context *mctx;
    pcre2_code *code;
    uint32_t ncap; /* capture groups, not counting group 0 */
    bool jit;
    _Atomic(pcre2_match_data *) md[MD_SLOTS];
};

static void *pc_alloc(size_t size, void *data) {
    SL_UNUSED(data);
    size_t total = 0;
    if (__builtin_add_overflow(size, (size_t)HDR, &total)) {
        return NULL;
    }
    char *p = sl__alloc(total);
    if (!p) {
        return NULL;
    }
    memcpy(p, &size, sizeof(size));
    return p + HDR;
}

static void pc_free(void *ptr, void *data) {
    SL_UNUSED(data);
    if (!ptr) {
        return;
    }
    char *p = (char *)ptr - HDR;
    size_t size;
    memcpy(&size, p, sizeof(size));
    sl__free(p, size + HDR);
}

void sl_regex_free(sl_regex *re) {
    if (!re) {
        return;
    }
    for (int i = 0; i < MD_SLOTS; i++) {
        pcre2_match_data_free(atomic_load(&re->md[i]));
    }
    pcre2_code_free(re->code);
    pcre2_match_context_free(re->mctx);
    pcre2_general_context_free(re->gctx);
    sl__free(re, sizeof(*re));
}

sl_status sl_regex_compile(const char *pat, size_t len, unsigned flags,
                           sl_regex **out, sl_error *err) {
    if (!out || (!pat && len > 0)) {
        return sl__error(err, SL_EINVAL, NULL, "no pattern or no output");
    }
    if (len > SL_PAT_MAX_LEN) {
        return sl__error(err, SL_ELIMIT, NULL, "regex too long (%zu bytes)",
                         len);
    }
    sl_regex *re = sl__calloc(1, sizeof(*re));
    if (!re) {
        return sl__nomem(err);
    }
    pcre2_compile_context *cctx = NULL;
    sl_status rc = SL_OK;
    re->gctx = pcre2_general_context_create(pc_alloc, pc_free, NULL);
    if (re->gctx) {
        cctx = pcre2_compile_context_create(re->gctx);
        re->mctx = pcre2_match_context_create(re->gctx);
    }
    if (!re->gctx || !cctx || !re->mctx) {
        rc = sl__nomem(err);
        goto done;
    }
    /* Rust's regex is linear-time; PCRE2 backtracks. A match limit turns
     * catastrophic patterns on hostile values into SL_ELIMIT, not a stall */
    pcre2_set_match_limit(re->mctx, SL_REGEX_MATCH_LIMIT);
    uint32_t opts =
        PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_MATCH_INVALID_UTF;
    if (flags & SL_PAT_CASELESS) {
        opts |= PCRE2_CASELESS;
    }
    int ec = 0;
    PCRE2_SIZE eoff = 0;
    re->code = pcre2_compile((PCRE2_SPTR)(pat ? pat : ""), len, opts, &ec,
                             &eoff, cctx);
    if (!re->code) {
        if (ec == PCRE2_ERROR_NOMEMORY || ec == PCRE2_ERROR_HEAP_FAILED) {
            rc = sl__nomem(err);
            goto done;
        }
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0) {
            memcpy(msg, "unknown error", sizeof("unknown error"));
        }
        char why[200];
        snprintf(why, sizeof(why), "%s at offset %zu", (const char *)msg,
                 (size_t)eoff);
        sl_pat p = {.kind = SL_PAT_REGEX, .text = pat, .len = len};
        rc = sl__match_pattern_error(err, &p, why);
        goto done;
    }
    /* JIT is an optimisation: without it (no support, no memory) the
     * interpreter gives the same results */
    re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &re->ncap);
    for (int i = 0; i < MD_SLOTS; i++) {
        atomic_init(&re->md[i], NULL);
    }
    pcre2_match_data *md =
        pcre2_match_data_create_from_pattern(re->code, re->gctx);
    if (!md) {
        rc = sl__nomem(err);
        goto done;
    }
    atomic_store(&re->md[0], md);
done:
    pcre2_compile_context_free(cctx);
    if (rc != SL_OK) {
        sl_regex_free(re);
        return rc;
    }
    *out = re;
    return SL_OK;
}

/* Take a match data block from the regex's slots, or allocate one. */
static pcre2_match_data *md_take(sl_regex *re) {
    for (int i = 0; i < MD_SLOTS; i++) {
        pcre2_match_data *md = atomic_exchange(&re->md[i], NULL);
        if (md) {
            return md;
        }
    }
    return pcre2_match_data_create_from_pattern(re->code, re->gctx);
}

static void md_give(sl_regex *re, pcre2_match_data *md) {
    for (int i = 0; i < MD_SLOTS; i++) {
        pcre2_match_data *expect = NULL;
        if (atomic_compare_exchange_strong(&re->md[i], &expect, md)) {
            return;
        }
    }
    pcre2_match_data_free(md);
}

/* One search from start; returns the pcre2_match result (> 0 on a match,
 * PCRE2_ERROR_NOMATCH, or another error). */
static int search_at(const sl_regex *re, pcre2_match_data *md, const char *s,
                     size_t len, size_t start) {
    if (re->jit) {
        return pcre2_jit_match(re->code, (PCRE2_SPTR)s, len, start, 0, md,
                               re->mctx);
    }
    return pcre2_match(re->code, (PCRE2_SPTR)s, len, start, 0, md, re->mctx);
}

bool sl_regex_search(const sl_regex *re, const char *s, size_t len) {
    if (!re || (!s && len > 0)) {
        return false;
    }
    /* the slots are the only mutable part, and they are atomic */
    sl_regex *mre = (sl_regex *)re;
    pcre2_match_data *md = md_take(mre);
    if (!md) {
        return false;
    }
    int rc = search_at(re, md, s ? s : "", len, 0);
    md_give(mre, md);
    return rc > 0;
}

static bool cap_letter(unsigned char b) {
    return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') ||
           (b >= 'A' && b <= 'Z') || b == '_';
}

/* Rust's usize::from_str: optional '+', then one or more digits, no
 * overflow. */
static bool parse_index(const char *p, size_t n, size_t *out) {
    if (n > 0 && p[0] == '+') {
        p++;
        n--;
    }
    if (n == 0) {
        return false;
    }
    size_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' ||
            __builtin_mul_overflow(v, (size_t)10, &v) ||
            __builtin_add_overflow(v, (size_t)(p[i] - '0'), &v)) {
            return false;
        }
    }
    *out = v;
    return true;
}

typedef struct out_ctx {
    sl_buf *out;
    size_t start;
} out_ctx;

static sl_status emit(out_ctx *o, const char *p, size_t n) {
    if (n == 0) {
        return SL_OK;
    }
    if (o->out->len - o->start + n > SL_REGEX_MAX_OUT) {
        return SL_ELIMIT;
    }
    return sl__buf_append(o->out, p, n);
}

/* Append group `name` (a number or a group name, n bytes) of the match. */
static sl_status emit_group(const sl_regex *re, pcre2_match_data *md,
                            const char *s, const char *name, size_t n,
                            out_ctx *o) {
    size_t g = 0;
    if (!parse_index(name, n, &g)) {
        char buf[64];
        if (n == 0 || n >= sizeof(buf)) {
            return SL_OK; /* no such group: "" */
        }
        memcpy(buf, name, n);
        buf[n] = '\0';
        int num = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)buf);
        if (num < 0) {
            return SL_OK;
        }
        g = (size_t)num;
    }
    if (g > re->ncap) {
        return SL_OK;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    if (g >= pcre2_get_ovector_count(md) || ov[2 * g] == PCRE2_UNSET) {
        return SL_OK; /* did not take part */
    }
    return emit(o, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
}

/* Expand tmpl for the current match, as regex::Captures::expand. */
static sl_status expand(const sl_regex *re, pcre2_match_data *md, const char *s,
                        const char *t, size_t tn, out_ctx *o) {
    sl_status rc = SL_OK;
    while (tn > 0 && rc == SL_OK) {
        const char *d = memchr(t, '$', tn);
        if (!d) {
            break;
        }
        rc = emit(o, t, (size_t)(d - t));
        tn -= (size_t)(d - t);
        t = d;
        if (rc != SL_OK) {
            break;
        }
        if (tn >= 2 && t[1] == '$') {
            rc = emit(o, "$", 1);
            t += 2;
            tn -= 2;
            continue;
        }
        /* find_cap_ref */
        size_t end = 0;
        const char *name = NULL;
        size_t nlen = 0;
        if (tn > 1 && t[1] == '{') {
            size_t i = 2;
            while (i < tn && t[i] != '}') {
                i++;
            }
            if (i < tn && sl__utf8_valid_prefix(t + 2, i - 2) == i - 2) {
                name = t + 2;
                nlen = i - 2;
                end = i + 1;
            }
        } else if (tn > 1) {
            size_t i = 1;
            while (i < tn && cap_letter((unsigned char)t[i])) {
                i++;
            }
            if (i > 1) {
                name = t + 1;
                nlen = i - 1;
                end = i;
            }
        }
        if (!name) { /* not a reference: a literal '$' */
            rc = emit(o, "$", 1);
            t++;
            tn--;
            continue;
        }
        rc = emit_group(re, md, s, name, nlen, o);
        t += end;
        tn -= end;
    }
    if (rc == SL_OK) {
        rc = emit(o, t, tn);
    }
    return rc;
}

/* The byte after the UTF-8 character at s[i] (at least i + 1). */
static size_t next_char(const char *s, size_t len, size_t i) {
    i++;
    while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80) {
        i++;
    }
    return i;
}

sl_status sl_regex_replace(const sl_regex *re, const char *s, size_t len,
                           const char *tmpl, size_t tlen, sl_buf *out,
                           size_t *count, sl_error *err) {
    if (!re || !out || (!s && len > 0) || (!tmpl && tlen > 0)) {
        return sl__error(err, SL_EINVAL, NULL, "missing regex or argument");
    }
    s = s ? s : "";
    tmpl = tmpl ? tmpl : "";
    sl_regex *mre = (sl_regex *)re;
    pcre2_match_data *md = md_take(mre);
    if (!md) {
        return sl__nomem(err);
    }
    out_ctx o = {out, out->len};
    size_t n = 0, pos = 0, copied = 0;
    bool have_last = false;
    size_t last_end = 0;
    sl_status rc = SL_OK;
    while (pos <= len) {
        int mr = search_at(re, md, s, len, pos);
        if (mr == PCRE2_ERROR_NOMATCH) {
            break;
        }
        if (mr < 0) {
            rc = mr == PCRE2_ERROR_NOMEMORY ? SL_ENOMEM : SL_ELIMIT;
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (ms > me) { /* \K in a lookahead can do this: treat as empty */
            ms = me;
        }
        if (ms == me && have_last && me == last_end) {
            if (pos >= len) {
                break;
            }
            pos = next_char(s, len, pos);
            continue;
        }
        rc = emit(&o, s + copied, ms - copied);
        if (rc == SL_OK) {
            rc = expand(re, md, s, tmpl, tlen, &o);
        }
        if (rc != SL_OK) {
            break;
        }
        n++;
        copied = me;
        last_end = me;
        have_last = true;
        pos = me;
    }
    if (rc == SL_OK) {
        rc = emit(&o, s + copied, len - copied);
    }
    md_give(mre, md);
    if (rc != SL_OK) {
        if (out->ptr) {
            out->len = o.start;
            out->ptr[o.start] = '\0';
        }
        out->failed = 0;
        if (rc == SL_ENOMEM) {
            return sl__nomem(err);
        }
        return sl__error(err, rc, NULL,
                         "regex replace exceeded a limit (output size, "
                         "match or depth limit)");
    }
    if (count) {
        *count = n;
    }
    return SL_OK;
}

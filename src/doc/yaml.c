/* src/doc/yaml.c: the YAML reader, over libfyaml's event parser, into the
 * same doc tree as JSON and TOML. It owns the YAML 1.2 core schema for
 * plain scalars, anchors and aliases, and the mapping of libfyaml's
 * diagnostics to sl_error; tokenising and YAML syntax are libfyaml's.
 *
 * The one idea: events, not libfyaml's document tree. Each event becomes a
 * node at once (positions from the event's start mark, a byte offset into
 * doc->text), containers are open frames on an explicit stack, and libfyaml
 * never prints: its diagnostics are collected and the first error becomes
 * the sl_error. An alias is a deep copy of its anchor's finished node (so a
 * later change to one does not show through the other); every copied node
 * counts against a budget, so an alias bomb ("billion laughs") fails with
 * SL_ELIMIT after a bounded amount of work.
 *
 * Left out on purpose: more than one document per file (an error), complex
 * (non-scalar) mapping keys (an error), YAML 1.1 merge keys ("<<" is an
 * ordinary key), and custom tags (ignored; "!!str" and the non-specific "!"
 * make a plain scalar a string). libfyaml allocates with malloc, outside
 * the allocator hook. */
#include <sluice/doc.h>

#include <libfyaml.h>

#include "base/base.h"
#include "doc/private.h"

enum {
    MAX_ALIAS_NODES = 1000000, /* nodes all aliases together may copy */
    MAX_ANCHORS = 100000,
    YAML_MAX_DEPTH = 10000 /* alias copies recurse: keep the C stack safe */
};

typedef struct anchor {
    const char *name; /* arena copy */
    size_t nlen;
    sl_node node;   /* the finished node (struct copy) */
    uint32_t count; /* nodes in its subtree */
    bool done;
} anchor;

typedef struct frame {
    sl_node *c;      /* the open container */
    const char *key; /* mappings: the pending key, or NULL */
    uint32_t klen;
    uint32_t key_off;
    uint32_t anchor;   /* index + 1 of the anchor naming it, or 0 */
    uint64_t nodes_at; /* node counter when it opened */
} frame;

typedef struct yparser {
    sl_doc *doc;
    sl_error *err;
    frame *frames;
    size_t nframes, frames_cap;
    anchor *anchors;
    size_t nanchors, anchors_cap;
    uint64_t nodes;   /* nodes created, alias copies included */
    uint64_t aliased; /* nodes created by alias copies */
    uint32_t max_depth;
    sl_node root;
    bool have_root;
    int docs;
} yparser;

static sl_status at_mark(yparser *ps, sl_status code, struct fy_event *ev,
                         const char *msg) {
    const struct fy_mark *m = ev ? fy_event_start_mark(ev) : NULL;
    size_t off = m ? m->input_pos : 0;
    return sl__doc_error(ps->doc, ps->err, code, off, "%s", msg);
}

/* Text of a token: borrowed from doc->text when libfyaml points into it,
 * else copied into the arena (tokens die with their event). */
static const char *token_text(yparser *ps, struct fy_token *t, size_t *len) {
    size_t n = 0;
    const char *s = t ? fy_token_get_text(t, &n) : NULL;
    if (!s) {
        *len = 0;
        return "";
    }
    *len = n;
    const char *base = ps->doc->text;
    if (base && s >= base && s + n <= base + ps->doc->text_len) {
        return s;
    }
    return sl__arena_strndup(&ps->doc->arena, s, n);
}

/* A single-quoted scalar's value, decoded from its source span (quotes
 * included) into the arena. libfyaml 0.7.12 mis-decodes runs of '' (it
 * drops text, and leaks a buffer from five on), so sluice does this one
 * style itself: '' is a quote; at a line break, trailing white space is
 * dropped, leading white space of the next line skipped, and one break
 * becomes a space while n breaks become n - 1 newlines (YAML 1.2 7.3.2). */
static const char *single_quoted(yparser *ps, const char *src, size_t n,
                                 size_t *len) {
    char *out = sl__arena_alloc(&ps->doc->arena, n + 1);
    if (!out) {
        return NULL;
    }
    size_t k = 0, line_start = 0, i = 0;
    while (i < n) {
        char c = src[i];
        if (c == '\'' && i + 1 < n && src[i + 1] == '\'') {
            out[k++] = '\'';
            i += 2;
        } else if (c == '\n' || c == '\r') {
            while (k > line_start &&
                   (out[k - 1] == ' ' || out[k - 1] == '\t')) {
                k--;
            }
            size_t breaks = 0;
            while (i < n) {
                if (src[i] == '\r' && i + 1 < n && src[i + 1] == '\n') {
                    i += 2;
                    breaks++;
                } else if (src[i] == '\n' || src[i] == '\r') {
                    i++;
                    breaks++;
                } else if (src[i] == ' ' || src[i] == '\t') {
                    i++;
                } else {
                    break;
                }
            }
            if (breaks == 1) {
                out[k++] = ' ';
            } else {
                for (size_t b = 1; b < breaks; b++) {
                    out[k++] = '\n';
                }
            }
            line_start = k;
        } else {
            out[k++] = c;
            i++;
        }
    }
    out[k] = '\0';
    *len = k;
    return out;
}

/* libfyaml 0.7.12 corrupts its state (a crash or double free in
 * fy_parser_destroy) when it reports a tab error inside the content of an
 * explicit key ("? y:\t:", "? ::\t>", "? ::\t?x", found by fuzz_yaml;
 * inputs in fuzz/regressions/yaml). Such text is refused before libfyaml
 * sees it: a document that has an explicit key indicator (a line whose
 * first token is "?") and a tab followed by an indicator that can start
 * block structure: '?', ':', '|' or '>' (whatever follows) or '-' then
 * white space ("\t-1" stays allowed). Both are rare in configuration, and
 * the tab forms are invalid YAML in block context anyway. Returns the
 * offset of the tab, or SIZE_MAX. */
static size_t tab_before_indicator(const char *t, size_t n) {
    bool explicit_key = false;
    size_t tab = SIZE_MAX;
    bool line_start = true;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (line_start) {
            size_t j = i;
            while (j < n && (t[j] == ' ' || t[j] == '-')) {
                j++;
            }
            if (j + 1 <= n && t[j] == '?' &&
                (j + 1 == n || t[j + 1] == ' ' || t[j + 1] == '\t' ||
                 t[j + 1] == '\n' || t[j + 1] == '\r')) {
                explicit_key = true;
            }
            line_start = false;
        }
        if (c == '\n') {
            line_start = true;
        } else if (c == '\t' && tab == SIZE_MAX) {
            size_t j = i;
            while (j < n && (t[j] == ' ' || t[j] == '\t')) {
                j++;
            }
            bool ws_next = j + 1 >= n || t[j + 1] == ' ' || t[j + 1] == '\t' ||
                           t[j + 1] == '\n' || t[j + 1] == '\r';
            if (j < n &&
                (memchr("?:|>", t[j], 4) || (t[j] == '-' && ws_next))) {
                tab = i;
            }
        }
        if (explicit_key && tab != SIZE_MAX) {
            return tab;
        }
    }
    return SIZE_MAX;
}

/* ---- YAML 1.2 core schema ---- */

static bool all_in(const char *s, size_t n, const char *set) {
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!strchr(set, s[i])) {
            return false;
        }
    }
    return true;
}

static bool is_one_of(const char *s, size_t n, const char *const *words) {
    for (size_t i = 0; words[i]; i++) {
        if (strlen(words[i]) == n && memcmp(s, words[i], n) == 0) {
            return true;
        }
    }
    return false;
}

static bool core_int(const char *s, size_t n) {
    if (n > 2 && s[0] == '0' && s[1] == 'o') {
        return all_in(s + 2, n - 2, "01234567");
    }
    if (n > 2 && s[0] == '0' && s[1] == 'x') {
        return all_in(s + 2, n - 2, "0123456789abcdefABCDEF");
    }
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        s++;
        n--;
    }
    return all_in(s, n, "0123456789");
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool core_float(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) {
        i++;
    }
    size_t d0 = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        i++;
    }
    bool int_digits = i > d0;
    bool frac_digits = false;
    if (i < n && s[i] == '.') {
        i++;
        size_t f0 = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        frac_digits = i > f0;
    }
    if (!int_digits && !frac_digits) {
        return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+')) {
            i++;
        }
        size_t e0 = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        if (i == e0) {
            return false;
        }
    }
    return i == n;
}

static void plain_scalar(sl_node *n, const char *s, size_t len, uint32_t off) {
    static const char *const nulls[] = {"~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    static const char *const infs[] = {".inf",  ".Inf",  ".INF",  "+.inf",
                                       "+.Inf", "+.INF", "-.inf", "-.Inf",
                                       "-.INF", NULL};
    static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
    if (len == 0 || is_one_of(s, len, nulls)) {
        sl__node_init_scalar(n, SL_NODE_NULL, "null", 4, off);
    } else if (is_one_of(s, len, trues)) {
        sl__node_init_scalar(n, SL_NODE_BOOL, "true", 4, off);
    } else if (is_one_of(s, len, falses)) {
        sl__node_init_scalar(n, SL_NODE_BOOL, "false", 5, off);
    } else if (core_int(s, len)) {
        sl__node_init_scalar(n, SL_NODE_INT, s, (uint32_t)len, off);
    } else if (core_float(s, len)) {
        sl__node_init_scalar(n, SL_NODE_FLOAT, s, (uint32_t)len, off);
    } else if (is_one_of(s, len, infs) || is_one_of(s, len, nans)) {
        sl__node_init_scalar(n, SL_NODE_FLOAT, s, (uint32_t)len, off);
        n->flags = SL__NF_TOML_SPECIAL; /* no JSON form (json_write.c) */
    } else {
        sl__node_init_scalar(n, SL_NODE_STRING, s, (uint32_t)len, off);
    }
}

/* A scalar tagged "!!str" (or the non-specific "!") stays a string. */
static bool tagged_string(struct fy_token *tag) {
    if (!tag) {
        return false;
    }
    size_t n = 0;
    const char *t = fy_token_get_text(tag, &n);
    if (!t) {
        return false;
    }
    return (n == 1 && t[0] == '!') || (n == 5 && memcmp(t, "!!str", 5) == 0) ||
           (n == 21 && memcmp(t, "tag:yaml.org,2002:str", 21) == 0);
}

/* ---- building ---- */

/* The slot for the next value: the root, an element, or a member whose
 * key is pending. */
static sl_status next_slot(yparser *ps, struct fy_event *ev, sl_node **out) {
    if (ps->nframes == 0) {
        if (ps->have_root) {
            return at_mark(ps, SL_EPARSE, ev, "more than one root value");
        }
        ps->have_root = true;
        *out = &ps->root;
        return SL_OK;
    }
    frame *f = &ps->frames[ps->nframes - 1];
    sl_node *slot = NULL;
    if (f->c->kind == SL_NODE_OBJECT) {
        slot = sl__node_push(ps->doc, f->c, f->key, f->klen, f->key_off);
        f->key = NULL;
    } else {
        slot = sl__node_push(ps->doc, f->c, NULL, 0, SL__NO_OFF);
    }
    if (!slot) {
        return sl__nomem(ps->err);
    }
    *out = slot;
    return SL_OK;
}

/* In a mapping waiting for a key? Then a scalar is that key. */
static bool wants_key(const yparser *ps) {
    if (ps->nframes == 0) {
        return false;
    }
    const frame *f = &ps->frames[ps->nframes - 1];
    return f->c->kind == SL_NODE_OBJECT && !f->key;
}

static sl_status set_key(yparser *ps, const char *s, size_t len, uint32_t off) {
    frame *f = &ps->frames[ps->nframes - 1];
    if (len >= SL__NO_OFF) {
        return sl__error(ps->err, SL_ELIMIT, NULL, "yaml key too long");
    }
    f->key = s;
    f->klen = (uint32_t)len;
    f->key_off = off;
    return SL_OK;
}

static sl_status add_anchor(yparser *ps, struct fy_event *ev,
                            struct fy_token *tok, uint32_t *index) {
    *index = 0;
    if (!tok) {
        return SL_OK;
    }
    if (ps->nanchors >= MAX_ANCHORS) {
        return at_mark(ps, SL_ELIMIT, ev, "more than 100000 anchors");
    }
    if (ps->nanchors == ps->anchors_cap) {
        size_t cap = ps->anchors_cap ? ps->anchors_cap * 2 : 16;
        anchor *a = sl__realloc(ps->anchors, ps->anchors_cap * sizeof(anchor),
                                cap * sizeof(anchor));
        if (!a) {
            return sl__nomem(ps->err);
        }
        ps->anchors = a;
        ps->anchors_cap = cap;
    }
    size_t n = 0;
    const char *name = token_text(ps, tok, &n);
    if (!name) {
        return sl__nomem(ps->err);
    }
    anchor *a = &ps->anchors[ps->nanchors++];
    memset(a, 0, sizeof(*a));
    a->name = name;
    a->nlen = n;
    *index = (uint32_t)ps->nanchors;
    return SL_OK;
}

static void finish_anchor(yparser *ps, uint32_t index, const sl_node *n,
                          uint64_t nodes_at) {
    if (index == 0) {
        return;
    }
    anchor *a = &ps->anchors[index - 1];
    a->node = *n;
    uint64_t count = ps->nodes - nodes_at;
    a->count = count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
    a->done = true;
}

/* Deep copy inside one doc: scalar text is shared (it never changes in
 * place), container arrays are new, positions are kept. */
static sl_status copy_tree(yparser *ps, sl_node *dst, const sl_node *src,
                           uint32_t depth) {
    *dst = *src;
    if (src->kind != SL_NODE_ARRAY && src->kind != SL_NODE_OBJECT) {
        return SL_OK;
    }
    if (depth > YAML_MAX_DEPTH) {
        return sl__error(ps->err, SL_ELIMIT, NULL,
                         "yaml alias nested too "
                         "deeply");
    }
    size_t esize =
        src->kind == SL_NODE_OBJECT ? sizeof(sl__member) : sizeof(sl_node);
    dst->aux = src->len;
    if (src->len == 0) {
        dst->u.items = NULL;
        return SL_OK;
    }
    void *arr = sl__arena_alloc(&ps->doc->arena, (size_t)src->len * esize);
    if (!arr) {
        return sl__nomem(ps->err);
    }
    memcpy(arr,
           src->kind == SL_NODE_OBJECT ? (const void *)src->u.members
                                       : (const void *)src->u.items,
           (size_t)src->len * esize);
    if (src->kind == SL_NODE_OBJECT) {
        dst->u.members = arr;
        for (uint32_t i = 0; i < src->len; i++) {
            sl__member *m = &dst->u.members[i];
            sl_status rc = copy_tree(ps, &m->val, &m->val, depth + 1);
            if (rc != SL_OK) {
                return rc;
            }
        }
    } else {
        dst->u.items = arr;
        for (uint32_t i = 0; i < src->len; i++) {
            sl_status rc =
                copy_tree(ps, &dst->u.items[i], &dst->u.items[i], depth + 1);
            if (rc != SL_OK) {
                return rc;
            }
        }
    }
    return SL_OK;
}

static sl_status on_alias(yparser *ps, struct fy_event *ev) {
    size_t n = 0;
    const char *name = NULL;
    struct fy_token *tok = ev->alias.anchor;
    if (tok) {
        name = fy_token_get_text(tok, &n);
    }
    anchor *a = NULL;
    for (size_t i = ps->nanchors; name && i > 0; i--) {
        anchor *c = &ps->anchors[i - 1];
        if (c->nlen == n && memcmp(c->name, name, n) == 0) {
            a = c;
            break;
        }
    }
    if (!a) {
        return at_mark(ps, SL_EPARSE, ev, "alias to an unknown anchor");
    }
    if (!a->done) {
        return at_mark(ps, SL_EPARSE, ev, "alias refers to its own ancestor");
    }
    ps->aliased += a->count;
    ps->nodes += a->count;
    if (ps->aliased > MAX_ALIAS_NODES) {
        return at_mark(ps, SL_ELIMIT, ev,
                       "aliases expand to more than 1000000 nodes");
    }
    if (wants_key(ps)) {
        if (a->node.kind == SL_NODE_ARRAY || a->node.kind == SL_NODE_OBJECT) {
            return at_mark(ps, SL_EPARSE, ev, "mapping keys must be scalars");
        }
        sl_str s = sl_node_str(&a->node);
        return set_key(ps, s.ptr, s.len, a->node.off);
    }
    sl_node *slot = NULL;
    sl_status rc = next_slot(ps, ev, &slot);
    if (rc != SL_OK) {
        return rc;
    }
    sl_node copy;
    rc = copy_tree(ps, &copy, &a->node, 0);
    if (rc == SL_OK) {
        *slot = copy;
    }
    return rc;
}

static sl_status on_scalar(yparser *ps, struct fy_event *ev) {
    const struct fy_mark *m = fy_event_start_mark(ev);
    uint32_t off = m ? (uint32_t)m->input_pos : SL__NO_OFF;
    size_t len = 0;
    const char *s = NULL;
    /* a quoted scalar's marks span its text without the quotes */
    const struct fy_mark *end = fy_event_end_mark(ev);
    const char *t = ps->doc->text;
    enum fy_scalar_style style =
        ev->scalar.value ? fy_token_scalar_style(ev->scalar.value) : FYSS_PLAIN;
    bool quoted = style == FYSS_SINGLE_QUOTED || style == FYSS_DOUBLE_QUOTED;
    char q = style == FYSS_SINGLE_QUOTED ? '\'' : '"';
    bool span = quoted && m && end && t && m->input_pos > 0 &&
                end->input_pos >= m->input_pos &&
                end->input_pos < ps->doc->text_len &&
                t[m->input_pos - 1] == q && t[end->input_pos] == q;
    if (span) {
        off = (uint32_t)m->input_pos - 1; /* the opening quote */
    }
    if (span && style == FYSS_SINGLE_QUOTED) {
        s = single_quoted(ps, t + m->input_pos, end->input_pos - m->input_pos,
                          &len);
    } else {
        s = token_text(ps, ev->scalar.value, &len);
    }
    if (!s) {
        return sl__nomem(ps->err);
    }
    if (len >= SL__NO_OFF) {
        return at_mark(ps, SL_ELIMIT, ev, "yaml scalar too long");
    }
    uint32_t aidx = 0;
    uint64_t at = ps->nodes;
    sl_status rc = add_anchor(ps, ev, ev->scalar.anchor, &aidx);
    if (rc != SL_OK) {
        return rc;
    }
    ps->nodes++;
    sl_node n;
    /* an empty value ("key:") has no token at all: a plain null */
    bool plain = !ev->scalar.value || style == FYSS_PLAIN;
    if (plain && !tagged_string(ev->scalar.tag)) {
        plain_scalar(&n, s, len, off);
    } else {
        sl__node_init_scalar(&n, SL_NODE_STRING, s, (uint32_t)len, off);
    }
    finish_anchor(ps, aidx, &n, at);
    if (wants_key(ps)) {
        return set_key(ps, s, len, off);
    }
    sl_node *slot = NULL;
    rc = next_slot(ps, ev, &slot);
    if (rc == SL_OK) {
        *slot = n;
    }
    return rc;
}

static sl_status on_start(yparser *ps, struct fy_event *ev, bool mapping) {
    if (wants_key(ps)) {
        return at_mark(ps, SL_EPARSE, ev, "mapping keys must be scalars");
    }
    if (ps->nframes >= ps->max_depth) {
        char msg[64];
        snprintf(msg, sizeof(msg), "nesting deeper than %u levels",
                 (unsigned)ps->max_depth);
        return at_mark(ps, SL_ELIMIT, ev, msg);
    }
    struct fy_token *anchor_tok =
        mapping ? ev->mapping_start.anchor : ev->sequence_start.anchor;
    uint32_t aidx = 0;
    uint64_t at = ps->nodes;
    sl_status rc = add_anchor(ps, ev, anchor_tok, &aidx);
    if (rc != SL_OK) {
        return rc;
    }
    sl_node *slot = NULL;
    rc = next_slot(ps, ev, &slot);
    if (rc != SL_OK) {
        return rc;
    }
    ps->nodes++;
    const struct fy_mark *m = fy_event_start_mark(ev);
    memset(slot, 0, sizeof(*slot));
    slot->kind = mapping ? SL_NODE_OBJECT : SL_NODE_ARRAY;
    slot->off = m ? (uint32_t)m->input_pos : SL__NO_OFF;
    if (ps->nframes == ps->frames_cap) {
        size_t cap = ps->frames_cap ? ps->frames_cap * 2 : 16;
        frame *f = sl__realloc(ps->frames, ps->frames_cap * sizeof(frame),
                               cap * sizeof(frame));
        if (!f) {
            return sl__nomem(ps->err);
        }
        ps->frames = f;
        ps->frames_cap = cap;
    }
    frame *f = &ps->frames[ps->nframes++];
    memset(f, 0, sizeof(*f));
    f->c = slot;
    f->anchor = aidx;
    f->nodes_at = at;
    return SL_OK;
}

static void on_end(yparser *ps) {
    if (ps->nframes == 0) {
        return;
    }
    frame *f = &ps->frames[--ps->nframes];
    finish_anchor(ps, f->anchor, f->c, f->nodes_at);
}

/* ---- libfyaml's diagnostics ---- */

static void quiet(struct fy_diag *diag, void *user, const char *buf,
                  size_t len) {
    SL_UNUSED(diag);
    SL_UNUSED(user);
    SL_UNUSED(buf);
    SL_UNUSED(len);
}

static sl_status syntax_error(yparser *ps, struct fy_diag *diag) {
    void *it = NULL;
    struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
    while (e && e->type < FYET_ERROR) {
        e = fy_diag_errors_iterate(diag, &it);
    }
    sl_pos pos = {ps->doc->file, 0, 0};
    const char *msg = "invalid yaml";
    if (e) {
        pos.line = e->line > 0 ? (uint32_t)e->line : 0; /* 1-based */
        pos.col = e->column > 0 ? (uint32_t)e->column : 0;
        if (e->msg && e->msg[0]) {
            msg = e->msg;
        }
    }
    return sl__error(ps->err, SL_EPARSE, &pos, "%s", msg);
}

sl_status sl__yaml_parse(sl_doc *doc, uint32_t max_depth, sl_error *err) {
    yparser ps = {0};
    ps.doc = doc;
    ps.err = err;
    ps.max_depth = max_depth ? max_depth : SL_MAX_DEPTH;
    if (ps.max_depth > YAML_MAX_DEPTH) {
        ps.max_depth = YAML_MAX_DEPTH;
    }
    doc->root = NULL;
    size_t valid = sl__utf8_valid_prefix(doc->text, doc->text_len);
    if (valid != doc->text_len) {
        return sl__doc_error(doc, err, SL_EUTF8, valid, "invalid utf-8");
    }
    /* YAML text is printable (1.2 section 5.1): C0 controls but tab and
     * line breaks, and DEL, are errors. Checked here because libfyaml
     * 0.7.12 crashes in fy_parser_destroy on some input with NUL bytes
     * (fuzz/regressions/yaml/crash-64ae...). */
    for (size_t i = 0; i < doc->text_len; i++) {
        unsigned char c = (unsigned char)doc->text[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
            return sl__doc_error(doc, err, SL_EPARSE, i,
                                 "control character 0x%02x in yaml text", c);
        }
    }
    size_t bad_tab = tab_before_indicator(doc->text, doc->text_len);
    if (bad_tab != SIZE_MAX) {
        return sl__doc_error(doc, err, SL_EPARSE, bad_tab,
                             "tab before a block indicator in a document "
                             "with explicit keys");
    }
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = quiet;
    dcfg.colorize = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (!diag) {
        return sl__nomem(err);
    }
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg cfg = {0};
    cfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_DEFAULT_VERSION_1_2 |
                FYPCF_ALLOW_DUPLICATE_KEYS | FYPCF_JSON_NONE;
    cfg.diag = diag;
    struct fy_parser *fyp = fy_parser_create(&cfg);
    sl_status rc = SL_OK;
    if (!fyp || fy_parser_set_string(fyp, doc->text ? doc->text : "",
                                     doc->text_len) != 0) {
        rc = sl__nomem(err);
        goto done;
    }
    for (;;) {
        struct fy_event *ev = fy_parser_parse(fyp);
        if (!ev) {
            break;
        }
        switch (ev->type) {
        case FYET_DOCUMENT_START:
            if (++ps.docs > 1) {
                rc = at_mark(&ps, SL_EPARSE, ev,
                             "more than one yaml document in one file");
            }
            break;
        case FYET_MAPPING_START:
            rc = on_start(&ps, ev, true);
            break;
        case FYET_SEQUENCE_START:
            rc = on_start(&ps, ev, false);
            break;
        case FYET_MAPPING_END:
        case FYET_SEQUENCE_END:
            on_end(&ps);
            break;
        case FYET_SCALAR:
            rc = on_scalar(&ps, ev);
            break;
        case FYET_ALIAS:
            rc = on_alias(&ps, ev);
            break;
        default:
            break;
        }
        fy_parser_event_free(fyp, ev);
        if (rc != SL_OK) {
            goto done;
        }
    }
    if (fy_parser_get_stream_error(fyp)) {
        rc = syntax_error(&ps, diag);
        goto done;
    }
    sl_node *root = sl__arena_alloc(&doc->arena, sizeof(sl_node));
    if (!root) {
        rc = sl__nomem(err);
        goto done;
    }
    if (ps.have_root) {
        *root = ps.root;
    } else {
        /* a stream with no document: an empty file is null */
        sl__node_init_scalar(root, SL_NODE_NULL, "null", 4, 0);
    }
    doc->root = root;
done:
    if (fyp) {
        fy_parser_destroy(fyp);
    }
    fy_diag_destroy(diag);
    sl__free(ps.frames, ps.frames_cap * sizeof(frame));
    sl__free(ps.anchors, ps.anchors_cap * sizeof(anchor));
    return rc;
}

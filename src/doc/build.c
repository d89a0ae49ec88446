/* src/doc/build.c: the builder interface for codecs outside src/doc (see
 * build.h): a tree without JSON source text whose containers remember a
 * span of the codec's input. */
#include "doc/build.h"

#include "doc/private.h"

sl_status sl__doc_build_begin(sl_doc *doc, const char *file, sl_node **root,
                              sl_error *err) {
    if (!doc || !root) {
        return sl__error(err, SL_EINVAL, NULL, "no document");
    }
    sl__arena_reset(&doc->arena);
    doc->loc_text = NULL;
    doc->root = NULL;
    doc->file = NULL;
    doc->text = NULL; /* no JSON source: nothing is copied as such */
    doc->text_len = 0;
    if (file) {
        doc->file = sl__arena_strndup(&doc->arena, file, strlen(file));
        if (!doc->file) {
            return sl__nomem(err);
        }
    }
    sl_node *r = sl__arena_calloc(&doc->arena, sizeof(*r));
    if (!r) {
        return sl__nomem(err);
    }
    sl__doc_build_container(r, SL_NODE_OBJECT, SL__NO_OFF, NULL);
    doc->root = r;
    *root = r;
    return SL_OK;
}

sl_node *sl__doc_build_push(sl_doc *doc, sl_node *c, const char *key,
                            uint32_t klen) {
    if (c->len < c->aux) {
        /* room (a decoder reserves it): the new nodes written whole, as
         * sl__node_push writes them, without its growth and call */
        sl_node *v;
        if (c->kind == SL_NODE_OBJECT) {
            sl__member *m = &c->u.members[c->len++];
            m->key = (sl_node){.kind = SL_NODE_STRING,
                               .flags = SL__NF_PLAIN,
                               .off = SL__NO_OFF,
                               .len = klen,
                               .u.s = key};
            v = &m->val;
        } else {
            v = &c->u.items[c->len++];
        }
        *v = (sl_node){
            .kind = SL_NODE_NULL, .off = SL__NO_OFF, .len = 4, .u.s = "null"};
        return v;
    }
    sl_node *v = sl__node_push(doc, c, key, klen, SL__NO_OFF);
    if (v && c->kind == SL_NODE_OBJECT) {
        c->u.members[c->len - 1].key.flags = SL__NF_PLAIN;
    }
    return v;
}

bool sl__doc_text_plain(const char *s, size_t n) {
#ifdef SL_SWAR
    if (n >= 8) {
        uint64_t acc = 0, w;
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&w, s + i, 8);
            acc |= sl__json_special(w);
        }
        memcpy(&w, s + n - 8, 8); /* the last word, overlapping */
        return !(acc | sl__json_special(w));
    }
#endif
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
            return false;
        }
    }
    return true;
}

void sl__doc_build_plain(sl_node *n) {
    if (n->kind == SL_NODE_STRING) {
        n->flags |= SL__NF_PLAIN;
    }
}

void sl__doc_build_scalar(sl_node *n, sl_node_kind kind, const char *s,
                          uint32_t len) {
    sl__node_init_scalar(n, kind, s, len, SL__NO_OFF);
}

void sl__doc_build_container(sl_node *n, sl_node_kind kind, uint32_t off,
                             const char *end) {
    memset(n, 0, sizeof(*n));
    n->kind = (uint8_t)kind;
    n->off = off;
    n->raw = off == SL__NO_OFF ? NULL : end;
}

sl_status sl__doc_build_reserve(sl_doc *doc, sl_node *c, uint32_t cap) {
    if (c->len != 0 || cap <= c->aux) {
        return SL_OK;
    }
    return sl__node_reserve(doc, c, cap) ? SL_OK : SL_ENOMEM;
}

void sl__doc_build_span(sl_node *n, uint32_t off, const char *end) {
    n->off = off;
    n->raw = off == SL__NO_OFF ? NULL : end;
}

void *sl__doc_build_alloc(sl_doc *doc, size_t size) {
    return sl__arena_alloc(&doc->arena, size);
}

bool sl__doc_node_span(const sl_node *n, uint32_t *off, const char **end) {
    if (!n || (n->kind != SL_NODE_ARRAY && n->kind != SL_NODE_OBJECT) ||
        n->off == SL__NO_OFF || !n->raw || (n->flags & SL__NF_COMPACT)) {
        return false; /* COMPACT: a JSON container, its raw is JSON text */
    }
    *off = n->off;
    *end = n->raw;
    return true;
}

/* python/src/tracer/delta.c: the changed-values mode (values="changed").
 * Every Step still stands for the frame's full scope snapshot, but only
 * what changed since the same frame's last snapshot is written, as edit
 * operations on it, closed by a Delta event naming the frame:
 *
 *   {"Value":...}   the next entry, new or changed (replaces the next old
 *                   entry, or is inserted after {"Add":1}, or appended
 *                   when no old entry is left)
 *   {"Keep":N}      the next N old entries, unchanged
 *   {"Skip":N}      the next N old entries are gone
 *   {"Add":1}       the next Value is inserted before the next old entry
 *   {"Delta":{"frame":F,"keep":N[,"fresh":true]}}  the snapshot of frame
 *                   F ends with N more old entries; fresh: F had none
 *
 * Type and VariableName events stay where the full trace has them (just
 * before the Value that needs them), so sluice.trace.expand rebuilds the
 * full trace byte for byte. A frame's first Step after its Call or resume
 * is fresh (written whole), so every frame is self-contained; a Step of a
 * frame that is not on top of its thread's stack (one running before
 * recording started) is written whole, without a Delta.
 *
 * What counts as changed is exact: a rebinding (the slot's or the dict's
 * object is another one), and any change of what the encoder would write
 * for the same object. Each value kept carries a fingerprint of every
 * object the encoder reads, within its depth and item limits: the object
 * pointers (held, so none can be freed and its address reused) and the
 * sizes of containers, and for an object printed by object.__repr__ its
 * type's version tag and qualname (a tuple of immutable things is just
 * itself). Equal fingerprints mean equal encodings. A value whose
 * encoding runs str() of something else is encoded again at every Step
 * (as the full trace does, so str()'s side effects stay the same) and
 * compared with its last encoding. A namespace dict unchanged since the
 * frame's last Step (its version) is not walked: only its entries with
 * fingerprints or str() are checked. */
#include "tracer.h"

#include <string.h>

/* ---- snapshots ---- */

enum {
    HOW_BYTES, /* encoded again each time, compared with enc */
    HOW_FP     /* compared by fingerprint (one word: the object itself) */
};

typedef struct tr_fent {
    PyObject *key;   /* strong: the variable's name */
    PyObject *value; /* strong; NULL when dropped or redacted */
    uintptr_t *fp;   /* HOW_FP with more than one word: held words */
    Py_ssize_t nfp;
    char *enc; /* HOW_BYTES: the value's last encoding */
    size_t enc_len;
    Py_ssize_t pos; /* namespace entries: the dict position after it */
    int32_t vid;
    uint8_t act, kind, how;
} tr_fent;

/* A namespace section of a snapshot: entries [start, start + n). */
#define TR_CIDX 8
typedef struct tr_sect {
    PyObject *dict, *skip; /* borrowed; only compared */
    uint64_t ver, skipver;
    Py_ssize_t start, n;
    Py_ssize_t nvis;   /* entries with an event */
    Py_ssize_t checks; /* entries whose value must be looked at again */
    /* where they are (ncidx < 0: more than TR_CIDX): index cidx[k] in the
     * section, after gapvis[k] entries with an event that are not looked
     * at since the one before; tailvis such entries after the last */
    int ncidx;
    int32_t cidx[8], gapvis[8], tailvis;
    uint64_t red, drop;
    int kind, valid;
} tr_sect;

typedef struct tr_fstate {
    PyFrameObject *frame; /* borrowed; only compared */
    int32_t id;
    int fresh;
    tr_fent *e; /* the last snapshot */
    Py_ssize_t n, cap;
    Py_ssize_t nvis; /* its entries with an event */
    tr_fent *ne;     /* the one being written */
    Py_ssize_t nn, ncap;
    tr_sect sect[2], nsect[2];
} tr_fstate;

typedef struct tr_fstack {
    tr_fstate **st;
    int n, cap;
    tr_fstate **pool; /* popped, kept for reuse */
    int npool, cappool;
    tr_fp fp; /* scratch fingerprint */
} tr_fstack;

static void fent_release(tr_fent *e) {
    if (!e->key) {
        return; /* moved */
    }
    tr_fp_drop(e->fp, e->nfp);
    PyMem_RawFree(e->enc);
    Py_XDECREF(e->value);
    Py_DECREF(e->key);
    memset(e, 0, sizeof(*e));
}

static void state_clear(tr_fstate *st) {
    for (Py_ssize_t i = 0; i < st->n; i++) {
        fent_release(&st->e[i]);
    }
    for (Py_ssize_t i = 0; i < st->nn; i++) {
        fent_release(&st->ne[i]);
    }
    st->n = st->nn = st->nvis = 0;
    memset(st->sect, 0, sizeof(st->sect));
    memset(st->nsect, 0, sizeof(st->nsect));
}

static void state_free(tr_fstate *st) {
    state_clear(st);
    PyMem_RawFree(st->e);
    PyMem_RawFree(st->ne);
    PyMem_RawFree(st);
}

static tr_fstack *stack_of(tr_scratch *x) {
    if (!x->frames) {
        x->frames = PyMem_RawCalloc(1, sizeof(tr_fstack));
    }
    return x->frames;
}

static int32_t id_take(tr_session *s) {
    if (s->nfree_ids > 0) {
        return s->free_ids[--s->nfree_ids];
    }
    return s->next_id++;
}

static void id_give(tr_session *s, int32_t id) {
    if (s->nfree_ids == s->cap_ids) {
        size_t cap = s->cap_ids ? s->cap_ids * 2 : 64;
        int32_t *p = PyMem_RawRealloc(s->free_ids, sizeof(*p) * cap);
        if (!p) {
            return; /* the id is not reused */
        }
        s->free_ids = p;
        s->cap_ids = cap;
    }
    s->free_ids[s->nfree_ids++] = id;
}

void tr_delta_push(tr_session *s, PyFrameObject *f) {
    tr_fstack *k = tr_tls ? stack_of(tr_tls) : NULL;
    if (!k) {
        return;
    }
    if (k->n == k->cap) {
        int cap = k->cap ? k->cap * 2 : 32;
        tr_fstate **p = PyMem_RawRealloc(k->st, sizeof(*p) * (size_t)cap);
        if (!p) {
            return; /* its Steps are written whole; pop finds it gone */
        }
        k->st = p;
        k->cap = cap;
    }
    tr_fstate *st = k->npool > 0 ? k->pool[--k->npool]
                                 : PyMem_RawCalloc(1, sizeof(tr_fstate));
    if (!st) {
        return;
    }
    st->frame = f;
    st->id = id_take(s);
    st->fresh = 1;
    k->st[k->n++] = st;
}

void tr_delta_pop(tr_session *s) {
    tr_fstack *k = tr_tls ? tr_tls->frames : NULL;
    if (!k || k->n == 0) {
        return;
    }
    tr_fstate *st = k->st[--k->n];
    state_clear(st); /* may run __del__: st is off the stack by now */
    id_give(s, st->id);
    if (k->npool == k->cappool) {
        int cap = k->cappool ? k->cappool * 2 : 32;
        tr_fstate **p = PyMem_RawRealloc(k->pool, sizeof(*p) * (size_t)cap);
        if (!p) {
            state_free(st);
            return;
        }
        k->pool = p;
        k->cappool = cap;
    }
    k->pool[k->npool++] = st;
}

void tr_delta_free_thread(tr_session *s, tr_scratch *x) {
    (void)s;
    tr_fstack *k = x->frames;
    if (!k) {
        return;
    }
    x->frames = NULL;
    for (int i = 0; i < k->n; i++) {
        state_free(k->st[i]);
    }
    for (int i = 0; i < k->npool; i++) {
        state_free(k->pool[i]);
    }
    PyMem_RawFree(k->st);
    PyMem_RawFree(k->pool);
    PyMem_RawFree(k->fp.w);
    PyMem_RawFree(k);
}

void tr_delta_free(tr_session *s) {
    PyMem_RawFree(s->free_ids);
    s->free_ids = NULL;
    s->nfree_ids = s->cap_ids = 0;
}

/* ---- writing one snapshot ---- */

/* While every entry met is the old entry at the same place (the common
 * case: no name bound, unbound, added or removed), the old snapshot is
 * updated in place; the first difference copies what came before into
 * the new snapshot, which is built from there on. */
typedef struct tr_dw {
    tr_session *s;
    tr_fstate *st;
    tr_fstack *k;
    Py_ssize_t j;        /* next old entry */
    Py_ssize_t vis_left; /* old entries with an event, from j on */
    uint64_t keep;       /* old entries kept, not yet written */
    Py_ssize_t nvis;     /* entries with an event in the new snapshot */
    int inplace;
    int oom;
} tr_dw;

static void op(tr_session *s, const char *name, size_t len, uint64_t n) {
    tr_event_begin(s);
    tr_buf_put(&s->buf, name, len);
    tr_buf_i64(&s->buf, (long long)n);
    TR_LIT(&s->buf, "}");
    tr_event_end(s);
}
#define OP(s, lit, n) op((s), (lit), sizeof(lit) - 1, (n))

static void flush_keep(tr_dw *d) {
    if (d->keep > 0) {
        OP(d->s, "{\"Keep\":", d->keep);
        d->keep = 0;
    }
}

static int visible(const tr_fent *e) {
    return e->act != SL_FILTER_DROP;
}

/* Room for one more entry in the new snapshot. */
static int room(tr_dw *d, Py_ssize_t more) {
    tr_fstate *st = d->st;
    if (st->nn + more <= st->ncap) {
        return 0;
    }
    Py_ssize_t cap = st->ncap ? st->ncap : 32;
    while (cap < st->nn + more) {
        cap *= 2;
    }
    tr_fent *p = PyMem_RawRealloc(st->ne, sizeof(*p) * (size_t)cap);
    if (!p) {
        d->oom = 1;
        return -1;
    }
    st->ne = p;
    st->ncap = cap;
    return 0;
}

/* Leave in-place updating: the entries before j start the new snapshot. */
static void to_copy(tr_dw *d) {
    tr_fstate *st = d->st;
    d->inplace = 0;
    st->nn = 0;
    if (room(d, d->j) != 0) {
        for (Py_ssize_t i = 0; i < d->j; i++) {
            fent_release(&st->e[i]); /* lost: the next Step is fresh */
        }
        return;
    }
    memcpy(st->ne, st->e, sizeof(tr_fent) * (size_t)d->j);
    for (Py_ssize_t i = 0; i < d->j; i++) {
        st->e[i].key = NULL; /* moved */
    }
    st->nn = d->j;
}

/* Where the next entry goes in the new snapshot. */
static Py_ssize_t here(const tr_dw *d) {
    return d->inplace ? d->j : d->st->nn;
}

/* The old entry for key (of kind), skipping the old entries before it
 * (written as a Skip); NULL: key is new here. */
static tr_fent *match(tr_dw *d, PyObject *key, int kind) {
    tr_fstate *st = d->st;
    if (d->j < st->n && st->e[d->j].key == key && st->e[d->j].kind == kind) {
        tr_fent *e = &st->e[d->j++];
        d->vis_left -= visible(e);
        return e;
    }
    if (d->inplace) {
        to_copy(d);
    }
    Py_ssize_t m = d->j;
    while (m < st->n && !(st->e[m].key == key && st->e[m].kind == kind)) {
        m++;
    }
    if (m == st->n) {
        return NULL;
    }
    uint64_t gone = 0;
    for (Py_ssize_t i = d->j; i < m; i++) {
        gone += (uint64_t)visible(&st->e[i]);
        fent_release(&st->e[i]);
    }
    if (gone > 0) {
        flush_keep(d);
        OP(d->s, "{\"Skip\":", gone);
    }
    d->vis_left -= (Py_ssize_t)gone;
    d->j = m;
    tr_fent *e = &st->e[d->j++];
    d->vis_left -= visible(e);
    return e;
}

/* Put e (moved) in the new snapshot when it is being built. */
static void place(tr_dw *d, tr_fent *e) {
    if (room(d, 1) != 0) {
        fent_release(e);
        return;
    }
    d->st->ne[d->st->nn++] = *e;
}

static void drop_value(tr_fent *e) {
    tr_fp_drop(e->fp, e->nfp);
    PyMem_RawFree(e->enc);
    Py_CLEAR(e->value);
    e->fp = NULL;
    e->enc = NULL;
    e->nfp = 0;
    e->enc_len = 0;
}

/* Keep v's fingerprint (in d->k->fp) in e, holding its objects. */
static void keep_fp(tr_dw *d, tr_fent *e) {
    tr_fp *fp = &d->k->fp;
    e->how = HOW_FP;
    e->nfp = fp->n;
    if (fp->n <= 1) {
        return; /* the object itself: e->value */
    }
    e->fp = tr_fp_hold(fp);
    if (!e->fp) {
        e->how = HOW_BYTES; /* no copy: never equal, written each time */
        e->nfp = 0;
        e->enc_len = (size_t)-1;
        return;
    }
}

static int same_fp(tr_dw *d, const tr_fent *old, PyObject *v) {
    if (old->nfp == 1 || old->value != v) {
        return old->value == v; /* the first word is the object itself */
    }
    int quick = tr_fp_quick(d->s, v, old->fp, old->nfp);
    if (quick >= 0) {
        return quick;
    }
    tr_fp *fp = &d->k->fp;
    return tr_fingerprint(d->s, fp, v) == 0 && fp->n == old->nfp &&
           memcmp(fp->w, old->fp, sizeof(uintptr_t) * (size_t)fp->n) == 0;
}

/* An entry whose value is looked at again at each Step. */
static int checked(const tr_fent *e) {
    return e->act == SL_FILTER_ALLOW && !(e->how == HOW_FP && e->nfp == 1);
}

/* One entry of the snapshot, in the full trace's order: key bound to v
 * (borrowed), recorded under act as kind. The action of a name never
 * changes within a frame (its code's plan), so an old entry has act. */
static void entry(tr_dw *d, PyObject *key, PyObject *v, int act, int kind,
                  int32_t *vid_cache, Py_ssize_t pos, tr_tally *t) {
    tr_session *s = d->s;
    tr_fent *old = d->st->fresh ? NULL : match(d, key, kind);
    int changed = 1, encoded = 0;
    Py_INCREF(v);
    d->nvis += act != SL_FILTER_DROP;
    if (act == SL_FILTER_DROP) {
        t->drop++;
        changed = 0; /* never an event */
    } else if (act == SL_FILTER_REDACT) {
        t->red++;
        changed = !old; /* always the same marker */
    } else if (old && old->how == HOW_FP) {
        changed = !same_fp(d, old, v);
    } else if (old) {
        /* str() runs again, as in the full trace; a Type or
         * VariableName event it writes must follow the Keep before it */
        flush_keep(d);
        tr_value_into(s, v, act);
        encoded = 1;
        changed = tr_tls->vbuf.failed || tr_tls->vbuf.len != old->enc_len ||
                  memcmp(tr_tls->vbuf.p, old->enc, old->enc_len) != 0;
    }
    if (!changed) {
        if (old) {
            d->keep += (uint64_t)visible(old);
            old->pos = pos;
            if (!d->inplace) {
                tr_fent moved = *old;
                old->key = NULL;
                place(d, &moved);
            }
        } else {
            /* a new dropped name: no event, but its place is kept */
            tr_fent cur = {.key = Py_NewRef(key),
                           .vid = -1,
                           .act = (uint8_t)act,
                           .kind = (uint8_t)kind,
                           .pos = pos};
            place(d, &cur);
        }
        Py_DECREF(v);
        return;
    }
    flush_keep(d);
    if (!old && d->vis_left > 0) {
        OP(s, "{\"Add\":", 1);
    }
    tr_fent cur = {.act = (uint8_t)act, .kind = (uint8_t)kind, .pos = pos};
    int32_t vid = old ? old->vid : (vid_cache ? *vid_cache : -1);
    if (act == SL_FILTER_REDACT) {
        vid = tr_record(s, key, vid, v, act, t);
        t->red--; /* counted above */
        cur.how = HOW_FP;
    } else if (!encoded && tr_fingerprint(s, &d->k->fp, v) == 0 &&
               d->k->fp.n <= TR_KEEP_WORDS) {
        /* the encoding runs no user code: the fingerprint stays true */
        vid = tr_record(s, key, vid, v, act, t);
        cur.value = Py_NewRef(v);
        keep_fp(d, &cur);
    } else {
        if (!encoded) {
            tr_value_into(s, v, act);
        }
        if (vid < 0) {
            vid = tr_var_id(s, key);
        }
        tr_emit_value(s, vid, &tr_tls->vbuf);
        cur.how = HOW_BYTES;
        cur.value = Py_NewRef(v);
        cur.enc = tr_tls->vbuf.failed || tr_tls->vbuf.len > TR_KEEP_BYTES
                      ? NULL
                      : PyMem_RawMalloc(tr_tls->vbuf.len + 1);
        if (cur.enc) {
            memcpy(cur.enc, tr_tls->vbuf.p, tr_tls->vbuf.len);
            cur.enc_len = tr_tls->vbuf.len;
        } else {
            cur.enc_len = (size_t)-1; /* never equal: written each time */
        }
    }
    cur.vid = vid;
    if (vid_cache && !s->no_reuse) {
        *vid_cache = vid;
    }
    if (old) {
        drop_value(old);
        cur.key = old->key; /* its reference */
        if (d->inplace) {
            *old = cur;
        } else {
            old->key = NULL;
            place(d, &cur);
        }
    } else {
        cur.key = Py_NewRef(key);
        place(d, &cur);
    }
    Py_DECREF(v);
}

/* name (of kind) bound to v, when it is the next old entry, with the same
 * object and the same record (no event, nothing run): counted as kept
 * without entry()'s work. 0: entry() decides. */
static int unchanged(tr_dw *d, PyObject *name, PyObject *v, int kind,
                     tr_tally *t) {
    tr_fstate *st = d->st;
    if (!d->inplace || d->j >= st->n) {
        return 0;
    }
    tr_fent *e = &st->e[d->j];
    if (e->key != name || e->kind != kind) {
        return 0;
    }
    if (e->act == SL_FILTER_ALLOW &&
        !(e->how == HOW_FP && e->value == v &&
          (e->nfp == 1 || tr_fp_quick(d->s, v, e->fp, e->nfp) == 1))) {
        return 0;
    }
    int vis = visible(e);
    d->j++;
    d->vis_left -= vis;
    d->keep += (uint64_t)vis;
    d->nvis += vis;
    t->drop += e->act == SL_FILTER_DROP;
    t->red += e->act == SL_FILTER_REDACT;
    return 1;
}

/* The counts of section ns from its entries. */
static void sect_sum(tr_dw *d, tr_sect *ns) {
    const tr_fent *e = (d->inplace ? d->st->e : d->st->ne) + ns->start;
    int32_t gap = 0;
    ns->n = here(d) - ns->start;
    ns->nvis = ns->checks = 0;
    ns->red = ns->drop = 0;
    ns->ncidx = 0;
    for (Py_ssize_t i = 0; i < ns->n; i++) {
        ns->nvis += visible(&e[i]);
        ns->checks += checked(&e[i]);
        ns->red += e[i].act == SL_FILTER_REDACT;
        ns->drop += e[i].act == SL_FILTER_DROP;
        if (!checked(&e[i])) {
            gap += visible(&e[i]);
        } else if (ns->ncidx >= 0 && ns->ncidx < TR_CIDX && i <= INT32_MAX) {
            ns->cidx[ns->ncidx] = (int32_t)i;
            ns->gapvis[ns->ncidx++] = gap;
            gap = 0;
        } else {
            ns->ncidx = -1;
        }
    }
    ns->tailvis = gap;
}

/* A namespace dict's names (section k of the snapshot), as
 * snapshot_namespace walks them. */
static void namespace(tr_dw *d, tr_code *ci, PyObject *map, PyObject *skip,
                      sl_filter_kind kind, int k) {
    tr_session *s = d->s;
    tr_fstate *st = d->st;
    tr_tally t = {0, 0};
    tr_sect *ns = &st->nsect[k];
    const tr_sect *os = &st->sect[k];
    memset(ns, 0, sizeof(*ns));
    ns->start = here(d);
    ns->kind = (int)kind;
    /* a mapping that is not a dict is walked as a copy, never replayed */
    PyObject *owned = PyDict_Check(map) ? NULL : tr_as_dict(map);
    if (!PyDict_Check(map)) {
        if (!owned) {
            return;
        }
        map = owned;
    }
    Py_ssize_t pos = 0;
    uint64_t ver = owned ? 0 : tr_dict_watch(map);
    uint64_t skipver = skip && PyDict_Check(skip) ? tr_dict_watch(skip) : 0;
    ns->dict = owned ? NULL : map;
    ns->skip = skip;
    ns->ver = ver;
    ns->skipver = skipver;
    if (!st->fresh && !s->no_reuse && os->valid && os->dict == map &&
        os->skip == skip && os->kind == (int)kind && ver != 0 &&
        os->ver == ver && os->skipver == skipver && d->j == os->start) {
        /* the dict is as it was: so are its names and what they are bound
         * to; only values that may have changed in place are looked at */
        if (d->inplace && os->checks == 0) {
            d->j += os->n;
            d->vis_left -= os->nvis;
            d->keep += (uint64_t)os->nvis;
            d->nvis += os->nvis;
            t.red = os->red;
            t.drop = os->drop;
            *ns = *os;
            tr_count(s, kind, &t);
            return;
        }
        Py_ssize_t end = os->start + os->n, checks = 0;
        /* in place, the entries not looked at are passed over at once */
        int k = 0, jump = d->inplace && os->ncidx >= 0;
        if (jump) {
            t.red = os->red; /* entries looked at are allowed ones */
            t.drop = os->drop;
        }
        while (d->j < end) {
            if (jump) {
                int last = k == os->ncidx;
                int32_t gap = last ? os->tailvis : os->gapvis[k];
                d->j = last ? end : os->start + os->cidx[k];
                d->vis_left -= gap;
                d->keep += (uint64_t)gap;
                d->nvis += gap;
                k++;
                if (last) {
                    break;
                }
            }
            tr_fent *e = &st->e[d->j];
            pos = e->pos;
            if (d->inplace && !checked(e)) {
                d->j++;
                d->vis_left -= visible(e);
                d->keep += (uint64_t)visible(e);
                d->nvis += visible(e);
                t.red += e->act == SL_FILTER_REDACT;
                t.drop += e->act == SL_FILTER_DROP;
                continue;
            }
            if (e->value && unchanged(d, e->key, e->value, (int)kind, &t)) {
                checks++; /* an allowed value, still to be looked at */
                continue;
            }
            int slow = e->how == HOW_BYTES && e->act == SL_FILTER_ALLOW;
            PyObject *name = Py_NewRef(e->key);
            PyObject *value = Py_NewRef(e->value ? e->value : Py_None);
            entry(d, name, value, e->act, (int)kind, NULL, pos, &t);
            Py_DECREF(value);
            Py_DECREF(name);
            checks += d->inplace && checked(e); /* e: updated in place */
            if (slow && tr_dict_version(map) != ver) {
                break; /* str() changed the dict: walk on from pos */
            }
        }
        if (jump && d->j < end) {
            /* walked on from pos: count only the entries passed */
            t.red = t.drop = 0;
            for (Py_ssize_t i = os->start; i < d->j; i++) {
                t.red += st->e[i].act == SL_FILTER_REDACT;
                t.drop += st->e[i].act == SL_FILTER_DROP;
            }
        }
        if (tr_dict_version(map) == ver) {
            if (d->inplace) {
                *ns = *os; /* the same names, so the same counts */
                ns->checks = checks;
            } else {
                sect_sum(d, ns);
            }
            ns->valid = 1;
            tr_count(s, kind, &t);
            return;
        }
    }
    PyObject *name, *value;
    while (PyDict_Next(map, &pos, &name, &value)) {
        if (tr_ns_hidden(name, skip)) {
            continue;
        }
        int act;
        if (!st->fresh && d->j < st->n && st->e[d->j].key == name &&
            st->e[d->j].kind == (int)kind) {
            act = st->e[d->j].act; /* the same name: the same action */
        } else {
            act = tr_ns_action(s, ci, name, kind);
        }
        if (act == TR_LOCAL_NAME) {
            continue;
        }
        Py_INCREF(name);
        entry(d, name, value, act, (int)kind, NULL, pos, &t);
        Py_DECREF(name);
    }
    PyErr_Clear();
    sect_sum(d, ns);
    ns->valid =
        ver != 0 && tr_dict_version(map) == ver &&
        (!skip || !PyDict_Check(skip) || tr_dict_version(skip) == skipver);
    tr_count(s, kind, &t);
    Py_XDECREF(owned);
}

int tr_delta_line(tr_session *s, tr_code *ci, PyFrameObject *f,
                  PyObject *globals) {
    tr_fstack *k = tr_tls->frames;
    if (!f || !k || k->n == 0 || k->st[k->n - 1]->frame != f) {
        return 0;
    }
    tr_fstate *st = k->st[k->n - 1];
    tr_dw d = {.s = s,
               .st = st,
               .k = k,
               .inplace = !st->fresh,
               .vis_left = st->fresh ? 0 : st->nvis};
    st->nn = 0;
    if (ci->optimized) {
        tr_tally t = {0, 0};
        Py_ssize_t nn = PyTuple_GET_SIZE(ci->names);
        PyObject **slots = tr_frame_slots(ci, f);
        for (Py_ssize_t i = 0; i < nn; i++) {
            PyObject *name = PyTuple_GET_ITEM(ci->names, i);
            PyObject *v = slots ? Py_XNewRef(tr_slot_get(ci, slots, i))
                                : tr_local_value(ci, f, i);
            if (!v) {
                continue; /* unbound */
            }
            if (!unchanged(&d, name, v, SL_FILTER_LOCAL, &t)) {
                entry(&d, name, v, ci->local_plan[i], SL_FILTER_LOCAL,
                      &ci->local_vid[i], 0, &t);
            }
            Py_DECREF(v);
        }
        tr_count(s, SL_FILTER_LOCAL, &t);
        if (globals) {
            namespace(&d, ci, globals, NULL, SL_FILTER_GLOBAL, 0);
        }
    } else {
        PyObject *locals = tr_frame_namespace(f);
        if (locals) {
            namespace(&d, ci, locals, NULL, SL_FILTER_LOCAL, 0);
            if (globals && globals != locals) {
                namespace(&d, ci, globals, locals, SL_FILTER_GLOBAL, 1);
            }
        }
        Py_XDECREF(locals);
    }
    /* the old entries not met again are gone */
    for (Py_ssize_t i = d.j; i < st->n; i++) {
        fent_release(&st->e[i]);
    }
    tr_event_begin(s);
    TR_LIT(&s->buf, "{\"Delta\":{\"frame\":");
    tr_buf_i64(&s->buf, st->id);
    TR_LIT(&s->buf, ",\"keep\":");
    tr_buf_i64(&s->buf, (long long)d.keep);
    if (st->fresh) {
        TR_LIT(&s->buf, ",\"fresh\":true");
    }
    TR_LIT(&s->buf, "}}");
    tr_event_end(s);
    if (d.inplace) {
        st->n = d.j;
    } else {
        /* the new snapshot is the old one now */
        tr_fent *e = st->e;
        Py_ssize_t cap = st->cap;
        st->e = st->ne;
        st->n = st->nn;
        st->cap = st->ncap;
        st->ne = e;
        st->ncap = cap;
    }
    st->nn = 0;
    st->nvis = d.nvis;
    memcpy(st->sect, st->nsect, sizeof(st->sect));
    st->fresh = d.oom; /* entries lost: the next Step starts over */
    return 1;
}

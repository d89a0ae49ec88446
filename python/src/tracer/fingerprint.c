/* python/src/tracer/fingerprint.c: what the value encoder (encode.c) would
 * read of a value, as a list of words, for the changed-values mode
 * (delta.c) to tell whether a value's record could have changed without
 * encoding it. The walk follows the encoder step by step within its
 * limits: None, bools, ints, strs, floats, bytes and complex numbers are
 * their own pointer (immutable, printed without user code); tuples, lists
 * and dicts are their pointer, their size and the words of the elements
 * the encoder keeps (a container on its own path, or past the depth
 * limit, is only its pointer: the encoder writes a marker); modules,
 * functions and classes whose record the session caches are their
 * pointer; an object printed by object.__repr__ is its pointer, its type,
 * the type's version tag and qualname. A tuple of immutable things is
 * just its pointer. Anything else (whose str() may change, or run user
 * code) has no fingerprint. A fingerprint is flat when every kept element
 * of its container took one word: tr_fp_quick then checks the container
 * in place (its size and element pointers) instead of walking it again,
 * for both the changed-values mode and full mode's reused records. */
#include "tracer.h"

static void fp_put(tr_fp *fp, uintptr_t w) {
    if (fp->n == fp->cap) {
        Py_ssize_t cap = fp->cap ? fp->cap * 2 : 64;
        uintptr_t *p = PyMem_RawRealloc(fp->w, sizeof(*p) * (size_t)cap);
        if (!p) {
            fp->failed = 1;
            return;
        }
        fp->w = p;
        fp->cap = cap;
    }
    fp->w[fp->n++] = w;
}

#define FP_OBJ(fp, o) fp_put((fp), (uintptr_t)(o))
#define FP_NUM(fp, x) fp_put((fp), ((uintptr_t)(x) << 1) | 1u)

typedef struct fp_walk {
    tr_session *s;
    tr_fp *fp;
    int mutable; /* a list, dict or object.__repr__ object was met */
    PyObject *path[64];
    int npath;
} fp_walk;

static int fp_on_path(const fp_walk *w, PyObject *v) {
    for (int i = 0; i < w->npath; i++) {
        if (w->path[i] == v) {
            return 1;
        }
    }
    return 0;
}

/* What the encoder reads of v (encode.c's enc, step by step), or -1 when
 * it would run str() of something whose text may change. */
static int fp_of(fp_walk *w, PyObject *v, int depth) {
    tr_fp *fp = w->fp;
    if (fp->n > TR_KEEP_WORDS) {
        return -1; /* too large to keep: encoded each time */
    }
    if (v == Py_None || v == Py_True || v == Py_False || PyUnicode_Check(v) ||
        PyLong_CheckExact(v) || PyFloat_CheckExact(v) ||
        PyBytes_CheckExact(v) || PyComplex_CheckExact(v)) {
        FP_OBJ(fp, v); /* immutable, and printed without user code */
        return 0;
    }
    int is_tuple = PyTuple_Check(v);
    int is_list = !is_tuple && PyList_Check(v);
    int is_dict = !is_tuple && !is_list && PyDict_Check(v);
    if (!is_tuple && !is_list && !is_dict) {
        if (tr_stable_kept(w->s, v)) {
            FP_OBJ(fp, v);
            return 0;
        }
        if (!PyLong_Check(v) && tr_default_repr(v)) {
            PyTypeObject *t = Py_TYPE(v);
            w->mutable = 1; /* its type may change */
            FP_OBJ(fp, v);
            FP_OBJ(fp, t);
            FP_NUM(fp, tr_type_tag(t));
            FP_OBJ(fp, tr_type_qual(t));
            return 0;
        }
        return -1;
    }
    FP_OBJ(fp, v);
    if (fp_on_path(w, v) || depth >= w->s->lim.depth ||
        w->npath >= (int)(sizeof(w->path) / sizeof(w->path[0]))) {
        return 0; /* "<recursion>" or "<depth limit>": the pointers say */
    }
    w->path[w->npath++] = v;
    int rc = 0, outer = w->mutable;
    Py_ssize_t at = fp->n; /* after v */
    w->mutable = !is_tuple;
    if (is_dict) {
        Py_ssize_t n = PyDict_GET_SIZE(v), pos = 0, got = 0;
        Py_ssize_t keep = n < w->s->lim.items ? n : w->s->lim.items;
        PyObject *k, *x;
        FP_NUM(fp, n);
        while (rc == 0 && got < keep && PyDict_Next(v, &pos, &k, &x)) {
            rc = fp_of(w, k, depth + 1);
            if (rc == 0) {
                rc = fp_of(w, x, depth + 1);
            }
            got++;
        }
    } else {
        Py_ssize_t n = is_tuple ? PyTuple_GET_SIZE(v) : PyList_GET_SIZE(v);
        Py_ssize_t keep = n < w->s->lim.items ? n : w->s->lim.items;
        FP_NUM(fp, n);
        for (Py_ssize_t i = 0; rc == 0 && i < keep; i++) {
            rc = fp_of(
                w, is_tuple ? PyTuple_GET_ITEM(v, i) : PyList_GET_ITEM(v, i),
                depth + 1);
        }
    }
    w->npath--;
    if (rc == 0 && !w->mutable && PyTuple_CheckExact(v)) {
        /* a tuple of immutable things, all printed without user code:
         * its encoding is fixed for as long as it lives (it is held) */
        fp->n = at;
    }
    w->mutable |= outer;
    return rc;
}

int tr_fingerprint(tr_session *s, tr_fp *fp, PyObject *v) {
    fp_walk w; /* path[] is written before it is read: not cleared */
    w.s = s;
    w.fp = fp;
    w.npath = 0;
    w.mutable = 0;
    fp->n = 0;
    fp->failed = 0;
    int rc = fp_of(&w, v, 0);
    return rc == 0 && !fp->failed ? 0 : -1;
}

int tr_fp_quick(tr_session *s, PyObject *v, const uintptr_t *w, Py_ssize_t n) {
    if (n < 2 || w[0] != (uintptr_t)v) {
        return -1;
    }
    int is_tuple = PyTuple_Check(v);
    int is_list = !is_tuple && PyList_Check(v);
    int is_dict = !is_tuple && !is_list && PyDict_Check(v);
    if (!is_tuple && !is_list && !is_dict) {
        /* object.__repr__: its pointer, type, the type's tag, qualname */
        if (n != 4 || PyLong_Check(v) || w[1] != (uintptr_t)Py_TYPE(v)) {
            return -1;
        }
        PyTypeObject *t = Py_TYPE(v);
        return w[2] == ((((uintptr_t)tr_type_tag(t)) << 1) | 1u) &&
               w[3] == (uintptr_t)tr_type_qual(t);
    }
    if (!(w[1] & 1u)) {
        return -1; /* no size word: a marker or a fixed tuple */
    }
    Py_ssize_t size = (Py_ssize_t)(w[1] >> 1);
    Py_ssize_t keep = size < s->lim.items ? size : s->lim.items;
    if (n != 2 + (is_dict ? 2 * keep : keep)) {
        return -1; /* an element took more than its own pointer */
    }
    /* each kept element is one word, its own pointer, which decides its
     * record: the same pointers in the same places are the same record */
    if (is_tuple) {
        return 1; /* immutable, and held */
    }
    if (is_list) {
        return PyList_GET_SIZE(v) == size &&
               memcmp(((PyListObject *)v)->ob_item, w + 2,
                      sizeof(PyObject *) * (size_t)keep) == 0;
    }
    if (PyDict_GET_SIZE(v) != size) {
        return 0;
    }
    Py_ssize_t pos = 0, i = 0;
    PyObject *k, *x;
    while (i < keep && PyDict_Next(v, &pos, &k, &x)) {
        if (w[2 + 2 * i] != (uintptr_t)k || w[3 + 2 * i] != (uintptr_t)x) {
            return 0;
        }
        i++;
    }
    return i == keep;
}

uintptr_t *tr_fp_hold(const tr_fp *fp) {
    uintptr_t *w = PyMem_RawMalloc(sizeof(uintptr_t) * (size_t)fp->n + 1);
    if (!w) {
        return NULL;
    }
    memcpy(w, fp->w, sizeof(uintptr_t) * (size_t)fp->n);
    for (Py_ssize_t i = 0; i < fp->n; i++) {
        if (!(w[i] & 1u)) {
            Py_XINCREF((PyObject *)w[i]);
        }
    }
    return w;
}

void tr_fp_drop(uintptr_t *w, Py_ssize_t n) {
    for (Py_ssize_t i = 0; w && i < n; i++) {
        if (!(w[i] & 1u)) {
            Py_XDECREF((PyObject *)w[i]);
        }
    }
    PyMem_RawFree(w);
}

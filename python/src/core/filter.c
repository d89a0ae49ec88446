/* python/src/core/filter.c: sluice._core.Filter, a trace-filter chain over
 * <sluice/filter.h>. Sources are added under a lock until ready(); after
 * that the chain is immutable and classify / decide / explain run with
 * the GIL released, each call on a pooled per-thread filter context. */
#include "core.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    PyObject_HEAD sl_filter *f;
    pthread_mutex_t mu; /* guards building and `sealed` */
    bool sealed;
    slpy_pool pool;
} FilterObject;

static void *ctx_new(void *owner, sl_error *err) {
    FilterObject *self = owner;
    sl_filter_ctx *c = NULL;
    sl_status rc = sl_filter_ctx_new(self->f, &c, err);
    if (rc != SL_OK) {
        err->code = rc;
        return NULL;
    }
    return c;
}

static void ctx_free(void *p) {
    sl_filter_ctx_free(p);
}

static PyObject *filter_new(PyTypeObject *t, PyObject *a, PyObject *k) {
    (void)a;
    (void)k;
    FilterObject *self = (FilterObject *)t->tp_alloc(t, 0);
    if (!self) {
        return NULL;
    }
    self->f = sl_filter_new();
    if (!self->f) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    pthread_mutex_init(&self->mu, NULL);
    slpy_pool_init(&self->pool, self, ctx_new, ctx_free);
    return (PyObject *)self;
}

static void filter_dealloc(PyObject *o) {
    FilterObject *self = (FilterObject *)o;
    if (self->f) {
        slpy_pool_clear(&self->pool);
        sl_filter_free(self->f);
        pthread_mutex_destroy(&self->mu);
    }
    Py_TYPE(o)->tp_free(o);
}

enum op {
    OP_BUILTIN,
    OP_PATHS,
    OP_TEXT,
    OP_ENV,
    OP_DISCOVER,
    OP_READY
};

/* One building step, under the lock, without the GIL. */
static PyObject *build(FilterObject *self, enum op op, const char *a,
                       const char *b, Py_ssize_t blen) {
    sl_error err = {0};
    sl_status rc = SL_OK;
    bool found = false, late = false;
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&self->mu);
    if (self->sealed) {
        late = true;
    } else {
        switch (op) {
        case OP_BUILTIN:
            rc = sl_filter_add_builtin(self->f, a, &err);
            break;
        case OP_PATHS:
            rc = sl_filter_add_paths(self->f, a, &err);
            break;
        case OP_TEXT:
            rc = sl_filter_add_text(self->f, a, b, (size_t)blen, &err);
            break;
        case OP_ENV:
            rc = sl_filter_add_env(self->f, &err);
            break;
        case OP_DISCOVER:
            rc = sl_filter_discover(self->f, a, &found, &err);
            break;
        case OP_READY:
            rc = sl_filter_ready(self->f, &err);
            self->sealed = rc == SL_OK;
            break;
        }
    }
    pthread_mutex_unlock(&self->mu);
    Py_END_ALLOW_THREADS if (late) {
        return slpy_raise(SL_ESTATE,
                          &(sl_error){.code = SL_ESTATE,
                                      .msg = "the filter chain is ready "
                                             "and can no longer change"});
    }
    if (rc != SL_OK) {
        return slpy_raise(rc, &err);
    }
    if (op == OP_DISCOVER) {
        return PyBool_FromLong(found);
    }
    Py_RETURN_NONE;
}

static PyObject *f_add_builtin(PyObject *o, PyObject *args) {
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name)) {
        return NULL;
    }
    return build((FilterObject *)o, OP_BUILTIN, name, NULL, 0);
}

static PyObject *f_add_paths(PyObject *o, PyObject *args) {
    PyObject *p;
    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &p)) {
        return NULL;
    }
    PyObject *r =
        build((FilterObject *)o, OP_PATHS, PyBytes_AS_STRING(p), NULL, 0);
    Py_DECREF(p);
    return r;
}

static PyObject *f_add_text(PyObject *o, PyObject *args) {
    const char *label, *text;
    Py_ssize_t len;
    if (!PyArg_ParseTuple(args, "ss#", &label, &text, &len)) {
        return NULL;
    }
    return build((FilterObject *)o, OP_TEXT, label, text, len);
}

static PyObject *f_add_env(PyObject *o, PyObject *unused) {
    (void)unused;
    return build((FilterObject *)o, OP_ENV, NULL, NULL, 0);
}

static PyObject *f_discover(PyObject *o, PyObject *args) {
    PyObject *p = NULL;
    if (!PyArg_ParseTuple(args, "|O&", PyUnicode_FSConverter, &p)) {
        return NULL;
    }
    PyObject *r = build((FilterObject *)o, OP_DISCOVER,
                        p ? PyBytes_AS_STRING(p) : NULL, NULL, 0);
    Py_XDECREF(p);
    return r;
}

static PyObject *f_ready(PyObject *o, PyObject *unused) {
    (void)unused;
    return build((FilterObject *)o, OP_READY, NULL, NULL, 0);
}

static int check_sealed(FilterObject *self) {
    bool s;
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&self->mu);
    s = self->sealed;
    pthread_mutex_unlock(&self->mu);
    Py_END_ALLOW_THREADS if (!s) {
        slpy_raise(SL_ESTATE,
                   &(sl_error){.code = SL_ESTATE, .msg = "call ready() first"});
        return -1;
    }
    return 0;
}

/* classify(filename, qualname=None, module=None) -> (exec, value_default) */
static PyObject *f_classify(PyObject *o, PyObject *args) {
    FilterObject *self = (FilterObject *)o;
    const char *file, *qual = NULL, *mod = NULL;
    if (!PyArg_ParseTuple(args, "s|zz", &file, &qual, &mod) ||
        check_sealed(self) < 0) {
        return NULL;
    }
    sl_error err = {0};
    sl_status rc;
    sl_filter_exec ex = SL_FILTER_TRACE;
    sl_filter_action def = SL_FILTER_ALLOW;
    Py_BEGIN_ALLOW_THREADS sl_filter_ctx *c = slpy_pool_get(&self->pool, &err);
    if (!c) {
        rc = err.code ? err.code : SL_ENOMEM;
    } else {
        const sl_filter_scope *s = NULL;
        rc = sl_filter_classify(c, file, qual, mod, &s, &err);
        if (rc == SL_OK) {
            ex = sl_filter_scope_exec(s);
            def = sl_filter_scope_value_default(s);
        }
        slpy_pool_put(&self->pool, c);
    }
    Py_END_ALLOW_THREADS if (rc != SL_OK) {
        return slpy_raise(rc, &err);
    }
    return Py_BuildValue("(ss)", ex == SL_FILTER_SKIP ? "skip" : "trace",
                         sl_filter_action_name(def));
}

static int kind_of(const char *s, sl_filter_kind *k) {
    if (sl_filter_kind_parse(s, strlen(s), k) != SL_OK) {
        PyErr_Format(PyExc_ValueError,
                     "kind must be arg, local, global, ret or attr, not %s", s);
        return -1;
    }
    return 0;
}

/* decide(filename, qualname, module, kind, name) -> "allow" | "redact" |
 * "drop"; counted in the filter's stats. */
static PyObject *f_decide(PyObject *o, PyObject *args) {
    FilterObject *self = (FilterObject *)o;
    const char *file, *qual, *mod, *kind, *name;
    Py_ssize_t nlen;
    if (!PyArg_ParseTuple(args, "szzss#", &file, &qual, &mod, &kind, &name,
                          &nlen) ||
        check_sealed(self) < 0) {
        return NULL;
    }
    sl_filter_kind k;
    if (kind_of(kind, &k) < 0) {
        return NULL;
    }
    sl_error err = {0};
    sl_status rc;
    sl_filter_action a = SL_FILTER_REDACT;
    Py_BEGIN_ALLOW_THREADS sl_filter_ctx *c = slpy_pool_get(&self->pool, &err);
    if (!c) {
        rc = err.code ? err.code : SL_ENOMEM;
    } else {
        const sl_filter_scope *s = NULL;
        rc = sl_filter_classify(c, file, qual, mod, &s, &err);
        if (rc == SL_OK) {
            a = sl_filter_decide(c, s, k, name, (size_t)nlen);
        }
        slpy_pool_put(&self->pool, c);
    }
    Py_END_ALLOW_THREADS if (rc != SL_OK) {
        return slpy_raise(rc, &err);
    }
    return PyUnicode_FromString(sl_filter_action_name(a));
}

/* explain(filename, qualname, module, [(kind, name), ...]) -> JSON bytes */
static PyObject *f_explain(PyObject *o, PyObject *args) {
    FilterObject *self = (FilterObject *)o;
    const char *file, *qual, *mod;
    PyObject *vals;
    if (!PyArg_ParseTuple(args, "szzO", &file, &qual, &mod, &vals) ||
        check_sealed(self) < 0) {
        return NULL;
    }
    PyObject *seq = PySequence_Fast(vals, "values must be a sequence");
    if (!seq) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    sl_filter_kind *kinds = calloc((size_t)n + 1, sizeof(*kinds));
    sl_str *names = calloc((size_t)n + 1, sizeof(*names));
    PyObject *res = NULL;
    if (!kinds || !names) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *k, *nm;
        Py_ssize_t nl;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "ss#", &k, &nm,
                              &nl) ||
            kind_of(k, &kinds[i]) < 0) {
            goto done;
        }
        names[i] = (sl_str){nm, (size_t)nl};
    }
    sl_error err = {0};
    sl_status rc;
    sl_buf out = {0};
    Py_BEGIN_ALLOW_THREADS sl_filter_ctx *c = slpy_pool_get(&self->pool, &err);
    if (!c) {
        rc = err.code ? err.code : SL_ENOMEM;
    } else {
        rc = sl_filter_explain(c, file, qual, mod, kinds, names, (size_t)n,
                               &out, &err);
        slpy_pool_put(&self->pool, c);
    }
    Py_END_ALLOW_THREADS if (rc != SL_OK) {
        slpy_raise(rc, &err);
    }
    else {
        res = PyBytes_FromStringAndSize(out.ptr ? out.ptr : "",
                                        (Py_ssize_t)out.len);
    }
    sl_buf_free(&out);
done:
    free(kinds);
    free(names);
    Py_DECREF(seq);
    return res;
}

static PyObject *write_json(FilterObject *self, bool meta) {
    if (check_sealed(self) < 0) {
        return NULL;
    }
    sl_error err = {0};
    sl_buf out = {0};
    sl_status rc;
    Py_BEGIN_ALLOW_THREADS rc =
        meta ? sl_filter_write_metadata(self->f, &out, &err)
             : sl_filter_write_chain(self->f, &out, &err);
    Py_END_ALLOW_THREADS PyObject *res =
        rc == SL_OK ? PyBytes_FromStringAndSize(out.ptr ? out.ptr : "",
                                                (Py_ssize_t)out.len)
                    : slpy_raise(rc, &err);
    sl_buf_free(&out);
    return res;
}

static PyObject *f_chain(PyObject *o, PyObject *unused) {
    (void)unused;
    return write_json((FilterObject *)o, false);
}

static PyObject *f_metadata(PyObject *o, PyObject *unused) {
    (void)unused;
    return write_json((FilterObject *)o, true);
}

static PyMethodDef filter_methods[] = {
    {"add_builtin", f_add_builtin, METH_VARARGS, "append a built-in source"},
    {"add_paths", f_add_paths, METH_VARARGS, "append files ('::' list)"},
    {"add_text", f_add_text, METH_VARARGS, "append inline TOML"},
    {"add_env", f_add_env, METH_NOARGS, "append CODETRACER_TRACE_FILTER"},
    {"discover", f_discover, METH_VARARGS,
     "append .codetracer/trace-filter.toml found from program"},
    {"ready", f_ready, METH_NOARGS, "seal the chain"},
    {"classify", f_classify, METH_VARARGS,
     "classify(filename, qualname, module) -> (exec, value_default)"},
    {"decide", f_decide, METH_VARARGS,
     "decide(filename, qualname, module, kind, name) -> action"},
    {"explain", f_explain, METH_VARARGS,
     "explain(filename, qualname, module, values) -> JSON bytes"},
    {"chain", f_chain, METH_NOARGS, "the composed chain as JSON bytes"},
    {"metadata", f_metadata, METH_NOARGS, "trace_filter metadata JSON"},
    {NULL, NULL, 0, NULL},
};

PyTypeObject slpy_FilterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sluice._core.Filter",
    .tp_basicsize = sizeof(FilterObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A trace-filter chain (immutable and thread-safe once ready).",
    .tp_new = filter_new,
    .tp_dealloc = filter_dealloc,
    .tp_methods = filter_methods,
};

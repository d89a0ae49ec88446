/* python/src/core/module.c: the sluice._core module: error conversion,
 * the scratch pool, and module initialisation. */
#include "core.h"

#include <stdlib.h>
#include <string.h>

static PyObject *make_error; /* sluice.errors._make */

int slpy_errors_init(void) {
    PyObject *m = PyImport_ImportModule("sluice.errors");
    if (!m) {
        return -1;
    }
    make_error = PyObject_GetAttrString(m, "_make");
    Py_DECREF(m);
    return make_error ? 0 : -1;
}

/* The short code name of a status, as sluice.errors maps them. */
static const char *code_name(sl_status rc) {
    switch (rc) {
    case SL_ENOMEM:
        return "ENOMEM";
    case SL_EINVAL:
        return "EINVAL";
    case SL_EPARSE:
        return "EPARSE";
    case SL_ESCHEMA:
        return "ESCHEMA";
    case SL_EPATTERN:
        return "EPATTERN";
    case SL_ELIMIT:
        return "ELIMIT";
    case SL_EIO:
        return "EIO";
    case SL_EUTF8:
        return "EUTF8";
    case SL_ENOTFOUND:
        return "ENOTFOUND";
    case SL_ESTATE:
        return "ESTATE";
    case SL_EDB:
        return "EDB";
    case SL_ECRYPTO:
        return "ECRYPTO";
    default:
        return "EUNKNOWN";
    }
}

PyObject *slpy_raise(sl_status rc, const sl_error *e) {
    if (rc == SL_ENOMEM) {
        return PyErr_NoMemory();
    }
    const char *msg = e && e->msg[0] ? e->msg : sl_status_str(rc);
    PyObject *exc = PyObject_CallFunction(
        make_error, "ssIIs", code_name(rc), e && e->file[0] ? e->file : "",
        e ? (unsigned)e->line : 0u, e ? (unsigned)e->col : 0u, msg);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

void slpy_pool_init(slpy_pool *p, void *owner,
                    void *(*make)(void *owner, sl_error *err),
                    void (*destroy)(void *item)) {
    memset(p, 0, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    p->make = make;
    p->destroy = destroy;
    p->owner = owner;
}

void *slpy_pool_get(slpy_pool *p, sl_error *err) {
    void *it = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->n) {
        it = p->items[--p->n];
    }
    pthread_mutex_unlock(&p->mu);
    return it ? it : p->make(p->owner, err);
}

void slpy_pool_put(slpy_pool *p, void *item) {
    pthread_mutex_lock(&p->mu);
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4;
        void **n = realloc(p->items, cap * sizeof(*n));
        if (!n) {
            pthread_mutex_unlock(&p->mu);
            p->destroy(item);
            return;
        }
        p->items = n;
        p->cap = cap;
    }
    p->items[p->n++] = item;
    pthread_mutex_unlock(&p->mu);
}

void slpy_pool_clear(slpy_pool *p) {
    for (size_t i = 0; i < p->n; i++) {
        p->destroy(p->items[i]);
    }
    free(p->items);
    p->items = NULL;
    p->n = p->cap = 0;
    pthread_mutex_destroy(&p->mu);
}

PyObject *slpy_fspath(PyObject *o) {
    PyObject *b = NULL;
    if (!PyUnicode_FSConverter(o, &b)) {
        return NULL;
    }
    return b;
}

static PyObject *core_version(PyObject *self, PyObject *args) {
    (void)self;
    (void)args;
    uint32_t v = sl_version();
    return PyUnicode_FromFormat("%u.%u.%u", (unsigned)(v >> 16),
                                (unsigned)((v >> 8) & 0xff),
                                (unsigned)(v & 0xff));
}

static PyMethodDef core_methods[] = {
    {"library_version", core_version, METH_NOARGS,
     "The linked libsluice's version (major.minor.patch)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    "sluice._core",
    "libsluice engines: redaction, telemetry policies, trace filters and "
    "the run recorder.",
    -1,
    core_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__core(void) {
    PyTypeObject *types[] = {&slpy_RedactorType, &slpy_PoliciesType,
                             &slpy_FilterType, &slpy_RecorderType};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (PyType_Ready(types[i]) < 0) {
            return NULL;
        }
    }
    if (slpy_errors_init() < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&core_module);
    if (!m) {
        return NULL;
    }
    const char *names[] = {"Redactor", "Policies", "Filter", "Recorder"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        Py_INCREF(types[i]);
        if (PyModule_AddObject(m, names[i], (PyObject *)types[i]) < 0) {
            Py_DECREF(types[i]);
            Py_DECREF(m);
            return NULL;
        }
    }
    return m;
}

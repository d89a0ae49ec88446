/* python/src/core/recorder.c: sluice._core.Recorder, the SQLite run
 * recorder (<sluice/store.h>). Every payload is redacted in C by the
 * recorder's policy before SQLite sees it. One call at a time per
 * recorder (a mutex taken with the GIL released). */
#include "core.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    PyObject_HEAD sl_recorder *rec;
    PyObject *policy; /* the Redactor object, kept alive; or NULL */
    pthread_mutex_t mu;
} RecorderObject;

/* Recorder(db_path, policy=None): policy is a sluice._core.Redactor or
 * None for the default SAFE policy. */
static int recorder_init(PyObject *o, PyObject *args, PyObject *kw) {
    RecorderObject *self = (RecorderObject *)o;
    static char *kwlist[] = {"db_path", "policy", NULL};
    PyObject *path, *policy = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|O", kwlist,
                                     PyUnicode_FSConverter, &path, &policy)) {
        return -1;
    }
    if (self->rec) {
        Py_DECREF(path);
        PyErr_SetString(PyExc_RuntimeError, "Recorder is already open");
        return -1;
    }
    const sl_redactor *r = NULL;
    if (policy != Py_None && !(r = slpy_redactor_get(policy))) {
        Py_DECREF(path);
        PyErr_SetString(PyExc_TypeError,
                        "policy must be a sluice._core.Redactor or None");
        return -1;
    }
    sl_error err = {0};
    sl_status rc;
    sl_recorder *rec = NULL;
    Py_BEGIN_ALLOW_THREADS rc =
        sl_recorder_open(PyBytes_AS_STRING(path), r, &rec, &err);
    Py_END_ALLOW_THREADS Py_DECREF(path);
    if (rc != SL_OK) {
        slpy_raise(rc, &err);
        return -1;
    }
    self->rec = rec;
    if (policy != Py_None) {
        Py_INCREF(policy);
        self->policy = policy;
    }
    return 0;
}

static PyObject *recorder_new(PyTypeObject *t, PyObject *a, PyObject *k) {
    (void)a;
    (void)k;
    RecorderObject *self = (RecorderObject *)t->tp_alloc(t, 0);
    if (self) {
        pthread_mutex_init(&self->mu, NULL);
    }
    return (PyObject *)self;
}

static void recorder_dealloc(PyObject *o) {
    RecorderObject *self = (RecorderObject *)o;
    sl_recorder_close(self->rec);
    pthread_mutex_destroy(&self->mu);
    Py_CLEAR(self->policy);
    Py_TYPE(o)->tp_free(o);
}

/* Fill err for a closed recorder (called under the lock). */
static sl_status closed(sl_error *err) {
    *err = (sl_error){.code = SL_ESTATE};
    snprintf(err->msg, sizeof(err->msg), "the recorder is closed");
    return SL_ESTATE;
}

static PyObject *r_start_run(PyObject *o, PyObject *args) {
    RecorderObject *self = (RecorderObject *)o;
    const char *entry;
    if (!PyArg_ParseTuple(args, "s", &entry)) {
        return NULL;
    }
    char id[SL_RUN_ID_LEN + 1];
    sl_error err = {0};
    sl_status rc;
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&self->mu);
    rc = self->rec ? sl_recorder_start_run(self->rec, entry, id, &err)
                   : closed(&err);
    pthread_mutex_unlock(&self->mu);
    Py_END_ALLOW_THREADS if (rc != SL_OK) {
        return slpy_raise(rc, &err);
    }
    return PyUnicode_FromString(id);
}

/* log_event(run_id, type, payload_json) -> seq */
static PyObject *r_log_event(PyObject *o, PyObject *args) {
    RecorderObject *self = (RecorderObject *)o;
    const char *run, *type;
    Py_buffer in;
    if (!PyArg_ParseTuple(args, "ssy*", &run, &type, &in)) {
        return NULL;
    }
    sl_error err = {0};
    sl_status rc;
    int64_t seq = 0;
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&self->mu);
    rc = self->rec ? sl_recorder_log_event(self->rec, run, type, in.buf,
                                           (size_t)in.len, &seq, &err)
                   : closed(&err);
    pthread_mutex_unlock(&self->mu);
    Py_END_ALLOW_THREADS PyBuffer_Release(&in);
    if (rc != SL_OK) {
        return slpy_raise(rc, &err);
    }
    return PyLong_FromLongLong((long long)seq);
}

static PyObject *r_end_run(PyObject *o, PyObject *args) {
    RecorderObject *self = (RecorderObject *)o;
    const char *run, *status;
    if (!PyArg_ParseTuple(args, "ss", &run, &status)) {
        return NULL;
    }
    sl_error err = {0};
    sl_status rc;
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&self->mu);
    rc = self->rec ? sl_recorder_end_run(self->rec, run, status, &err)
                   : closed(&err);
    pthread_mutex_unlock(&self->mu);
    Py_END_ALLOW_THREADS if (rc != SL_OK) {
        return slpy_raise(rc, &err);
    }
    Py_RETURN_NONE;
}

/* Lines are gathered into one buffer, NUL-separated (JSON text holds no
 * raw NUL), then split into a list with the GIL held. */
static int gather(const char *line, size_t len, void *ctx) {
    sl_buf *b = ctx;
    return sl_buf_append(b, line, len) != SL_OK ||
           sl_buf_append(b, "\0", 1) != SL_OK;
}

static PyObject *lines_of(const sl_buf *b) {
    PyObject *list = PyList_New(0);
    size_t at = 0;
    while (list && at < b->len) {
        size_t n = strlen(b->ptr + at);
        PyObject *s = PyBytes_FromStringAndSize(b->ptr + at, (Py_ssize_t)n);
        if (!s || PyList_Append(list, s) < 0) {
            Py_XDECREF(s);
            Py_CLEAR(list);
            break;
        }
        Py_DECREF(s);
        at += n + 1;
    }
    return list;
}

/* list_runs() -> [bytes], show_run(run_id) -> [bytes]: the JSON lines
 * `sluice runs list` / `sluice runs show` print. */
static PyObject *listing(RecorderObject *self, const char *run) {
    sl_error err = {0};
    sl_status rc;
    sl_buf b = {0};
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&self->mu);
    if (!self->rec) {
        rc = closed(&err);
    } else if (run) {
        rc = sl_recorder_show_run(self->rec, run, gather, &b, &err);
    } else {
        rc = sl_recorder_list_runs(self->rec, gather, &b, &err);
    }
    pthread_mutex_unlock(&self->mu);
    Py_END_ALLOW_THREADS if (rc == SL_OK && b.failed) {
        rc = SL_ENOMEM;
    }
    PyObject *res = rc == SL_OK ? lines_of(&b) : slpy_raise(rc, &err);
    sl_buf_free(&b);
    return res;
}

static PyObject *r_list_runs(PyObject *o, PyObject *unused) {
    (void)unused;
    return listing((RecorderObject *)o, NULL);
}

static PyObject *r_show_run(PyObject *o, PyObject *args) {
    const char *run;
    if (!PyArg_ParseTuple(args, "s", &run)) {
        return NULL;
    }
    return listing((RecorderObject *)o, run);
}

static PyObject *r_close(PyObject *o, PyObject *unused) {
    (void)unused;
    RecorderObject *self = (RecorderObject *)o;
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(
        &self->mu); /* after any call in flight */
    sl_recorder_close(self->rec);
    self->rec = NULL;
    pthread_mutex_unlock(&self->mu);
    Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

static PyMethodDef recorder_methods[] = {
    {"start_run", r_start_run, METH_VARARGS, "start_run(entrypoint) -> id"},
    {"log_event", r_log_event, METH_VARARGS,
     "log_event(run_id, type, payload_json) -> seq"},
    {"end_run", r_end_run, METH_VARARGS, "end_run(run_id, status)"},
    {"list_runs", r_list_runs, METH_NOARGS, "runs as JSON lines (bytes)"},
    {"show_run", r_show_run, METH_VARARGS, "events as JSON lines (bytes)"},
    {"close", r_close, METH_NOARGS, "close the database"},
    {NULL, NULL, 0, NULL},
};

PyTypeObject slpy_RecorderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sluice._core.Recorder",
    .tp_basicsize = sizeof(RecorderObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The SQLite run recorder (redacts in C before storing).",
    .tp_new = recorder_new,
    .tp_init = recorder_init,
    .tp_dealloc = recorder_dealloc,
    .tp_methods = recorder_methods,
};

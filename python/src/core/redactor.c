/* python/src/core/redactor.c: sluice._core.Redactor, a compiled redaction
 * policy (immutable, shared by threads) with a pool of per-call scratch
 * (context, document, buffers). Redacts JSON text with the GIL released. */
#include "core.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    PyObject_HEAD sl_redactor *r;
    slpy_pool pool;
} RedactorObject;

typedef struct {
    sl_redact_ctx *ctx;
    sl_doc *doc;
    sl_buf out, audit;
} scratch;

static void scratch_free(void *p) {
    scratch *s = p;
    if (!s) {
        return;
    }
    sl_redact_ctx_free(s->ctx);
    sl_doc_free(s->doc);
    sl_buf_free(&s->out);
    sl_buf_free(&s->audit);
    free(s);
}

static void *scratch_new(void *owner, sl_error *err) {
    RedactorObject *self = owner;
    scratch *s = calloc(1, sizeof(*s));
    if (!s || !(s->doc = sl_doc_new())) {
        free(s);
        err->code = SL_ENOMEM;
        return NULL;
    }
    sl_status rc = sl_redact_ctx_new(self->r, &s->ctx, err);
    if (rc != SL_OK) {
        err->code = rc;
        scratch_free(s);
        return NULL;
    }
    return s;
}

const sl_redactor *slpy_redactor_get(PyObject *o) {
    if (!PyObject_TypeCheck(o, &slpy_RedactorType)) {
        return NULL;
    }
    return ((RedactorObject *)o)->r;
}

static int parse_format(const char *f, sl_format *out) {
    if (!f || strcmp(f, "json") == 0) {
        *out = SL_FORMAT_JSON;
    } else if (strcmp(f, "toml") == 0) {
        *out = SL_FORMAT_TOML;
    } else if (strcmp(f, "yaml") == 0) {
        *out = SL_FORMAT_YAML;
    } else {
        PyErr_Format(PyExc_ValueError,
                     "format must be \"json\", \"toml\" or \"yaml\", not %s",
                     f);
        return -1;
    }
    return 0;
}

static int redactor_init(PyObject *o, PyObject *args, PyObject *kw) {
    RedactorObject *self = (RedactorObject *)o;
    static char *kwlist[] = {"path", "text",     "format",
                             "name", "base_dir", NULL};
    PyObject *path = Py_None;
    const char *text = NULL, *fmt = NULL, *name = "<policy>", *base = NULL;
    Py_ssize_t tlen = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|Oz#zsz", kwlist, &path, &text,
                                     &tlen, &fmt, &name, &base)) {
        return -1;
    }
    if (self->r) {
        PyErr_SetString(PyExc_RuntimeError, "Redactor is already initialised");
        return -1;
    }
    sl_format f;
    if (parse_format(fmt, &f) < 0) {
        return -1;
    }
    PyObject *pb = NULL;
    if (path != Py_None && !(pb = slpy_fspath(path))) {
        return -1;
    }
    sl_error err = {0};
    sl_status rc = SL_OK;
    sl_redactor *r = NULL;
    const char *p = pb ? PyBytes_AS_STRING(pb) : NULL;
    Py_BEGIN_ALLOW_THREADS if (p) {
        rc = sl_redactor_load(p, &r, &err);
    }
    else if (text) {
        sl_doc *doc = sl_doc_new();
        rc = doc ? sl_doc_load(doc, text, (size_t)tlen, f, name, NULL, &err)
                 : SL_ENOMEM;
        if (rc == SL_OK) {
            rc = sl_redactor_load_doc(doc, base, &r, &err);
        }
        sl_doc_free(doc);
    }
    else {
        rc = sl_redactor_default(&r, &err);
    }
    Py_END_ALLOW_THREADS Py_XDECREF(pb);
    if (rc != SL_OK) {
        slpy_raise(rc, &err);
        return -1;
    }
    self->r = r;
    slpy_pool_init(&self->pool, self, scratch_new, scratch_free);
    return 0;
}

static void redactor_dealloc(PyObject *o) {
    RedactorObject *self = (RedactorObject *)o;
    if (self->r) {
        slpy_pool_clear(&self->pool);
        sl_redactor_free(self->r);
    }
    Py_TYPE(o)->tp_free(o);
}

/* redact(data, audit=False, stream=False) -> (bytes, audit bytes | None,
 * (masked, hashed, dropped, detected)). One JSON value, or with stream a
 * whitespace-separated stream of values written one compact line each, as
 * `sluice redact` writes them. */
static PyObject *redactor_redact(PyObject *o, PyObject *args, PyObject *kw) {
    RedactorObject *self = (RedactorObject *)o;
    static char *kwlist[] = {"data", "audit", "stream", NULL};
    Py_buffer in;
    int want_audit = 0, stream = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "y*|pp", kwlist, &in,
                                     &want_audit, &stream)) {
        return NULL;
    }
    if (!self->r) {
        PyBuffer_Release(&in);
        PyErr_SetString(PyExc_RuntimeError, "Redactor is not initialised");
        return NULL;
    }
    sl_error err = {0};
    sl_status rc = SL_OK;
    sl_redact_counts total = {0};
    scratch *s;
    const sl_doc_opts opts = {.borrow = true};
    Py_BEGIN_ALLOW_THREADS s = slpy_pool_get(&self->pool, &err);
    if (!s) {
        rc = err.code ? err.code : SL_ENOMEM;
    } else {
        s->out.len = s->audit.len = 0;
        s->out.failed = s->audit.failed = 0;
        size_t off = 0;
        for (;;) {
            if (stream) {
                rc = sl_doc_load_next(s->doc, in.buf, (size_t)in.len, &off,
                                      "<input>", &opts, &err);
                if (rc == SL_ENOTFOUND) {
                    rc = SL_OK;
                    break;
                }
            } else {
                rc = sl_doc_load(s->doc, in.buf, (size_t)in.len, SL_FORMAT_JSON,
                                 "<input>", &opts, &err);
            }
            if (rc != SL_OK) {
                break;
            }
            sl_redact_counts c = {0};
            rc = sl_redact_write_doc(s->ctx, s->doc, sl_doc_root(s->doc),
                                     &s->out, want_audit ? &s->audit : NULL, &c,
                                     &err);
            if (rc == SL_OK && stream) {
                rc = sl_buf_append(&s->out, "\n", 1);
                if (rc == SL_OK && want_audit) {
                    rc = sl_buf_append(&s->audit, "\n", 1);
                }
            }
            if (rc != SL_OK) {
                break;
            }
            total.masked += c.masked;
            total.hashed += c.hashed;
            total.dropped += c.dropped;
            total.detected += c.detected;
            if (!stream) {
                break;
            }
        }
    }
    Py_END_ALLOW_THREADS Py_ssize_t in_len = in.len;
    PyBuffer_Release(&in);
    PyObject *res = NULL;
    if (rc != SL_OK) {
        slpy_raise(rc, &err);
    } else {
        PyObject *out = PyBytes_FromStringAndSize(s->out.ptr ? s->out.ptr : "",
                                                  (Py_ssize_t)s->out.len);
        PyObject *aud = Py_None;
        Py_INCREF(aud);
        if (want_audit) {
            Py_DECREF(aud);
            aud = PyBytes_FromStringAndSize(s->audit.ptr ? s->audit.ptr : "",
                                            (Py_ssize_t)s->audit.len);
        }
        if (out && aud) {
            res = Py_BuildValue("(NN(KKKK))", out, aud,
                                (unsigned long long)total.masked,
                                (unsigned long long)total.hashed,
                                (unsigned long long)total.dropped,
                                (unsigned long long)total.detected);
        } else {
            Py_XDECREF(out);
            Py_XDECREF(aud);
        }
    }
    if (s) {
        Py_BEGIN_ALLOW_THREADS
            /* scratch grown by a large input is not kept idle in the pool */
            if (in_len > SLPY_KEEP_INPUT) {
            scratch_free(s);
        }
        else {
            slpy_pool_put(&self->pool, s);
        }
        Py_END_ALLOW_THREADS
    }
    return res;
}

static PyObject *redactor_rule_count(PyObject *o, void *c) {
    (void)c;
    RedactorObject *self = (RedactorObject *)o;
    return PyLong_FromSize_t(self->r ? sl_redactor_rule_count(self->r) : 0);
}

static PyObject *redactor_keyed(PyObject *o, void *c) {
    (void)c;
    RedactorObject *self = (RedactorObject *)o;
    return PyBool_FromLong(self->r && sl_redactor_keyed(self->r));
}

static PyMethodDef redactor_methods[] = {
    {"redact", (PyCFunction)(void (*)(void))redactor_redact,
     METH_VARARGS | METH_KEYWORDS,
     "redact(data, audit=False, stream=False) -> (bytes, audit, counts)"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef redactor_getset[] = {
    {"rule_count", redactor_rule_count, NULL, "number of rules", NULL},
    {"keyed", redactor_keyed, NULL, "hashes are HMAC", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject slpy_RedactorType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sluice._core.Redactor",
    .tp_basicsize = sizeof(RedactorObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A compiled redaction policy (immutable; thread-safe).",
    .tp_new = PyType_GenericNew,
    .tp_init = redactor_init,
    .tp_dealloc = redactor_dealloc,
    .tp_methods = redactor_methods,
    .tp_getset = redactor_getset,
};

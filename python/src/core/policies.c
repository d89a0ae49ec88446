/* python/src/core/policies.c: sluice._core.Policies, a compiled telemetry
 * policy set (immutable snapshot with atomic counters) with a pool of
 * per-call scratch (evaluation context, OTLP batch, output buffer).
 * Applies policies to OTLP/JSON with the GIL released, as `sluice apply`. */
#include "core.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    PyObject_HEAD sl_policy_set *set;
    slpy_pool pool;
} PoliciesObject;

typedef struct {
    sl_policy_ctx *ctx;
    sl_otlp *o;
    sl_buf out;
    sl_buf notes; /* messages of records dropped by a failed transform */
} scratch;

static void scratch_free(void *p) {
    scratch *s = p;
    if (!s) {
        return;
    }
    sl_policy_ctx_free(s->ctx);
    sl_otlp_free(s->o);
    sl_buf_free(&s->out);
    sl_buf_free(&s->notes);
    free(s);
}

static void *scratch_new(void *owner, sl_error *err) {
    PoliciesObject *self = owner;
    scratch *s = calloc(1, sizeof(*s));
    if (!s || !(s->o = sl_otlp_new())) {
        free(s);
        err->code = SL_ENOMEM;
        return NULL;
    }
    sl_status rc = sl_policy_ctx_new(self->set, &s->ctx, err);
    if (rc != SL_OK) {
        err->code = rc;
        scratch_free(s);
        return NULL;
    }
    /* JSON in, JSON out: load only what the policies read, as apply does */
    sl_policy_lazy_load(self->set, s->o, true);
    return s;
}

typedef struct {
    PyObject *path;   /* bytes, or NULL for text */
    PyObject *name;   /* bytes */
    const char *text; /* borrowed from the argument tuple */
    Py_ssize_t len;
    sl_format fmt;
} source;

static int fmt_of(const char *f, sl_format *out) {
    if (strcmp(f, "json") == 0) {
        *out = SL_FORMAT_JSON;
    } else if (strcmp(f, "toml") == 0) {
        *out = SL_FORMAT_TOML;
    } else if (strcmp(f, "yaml") == 0) {
        *out = SL_FORMAT_YAML;
    } else {
        PyErr_Format(PyExc_ValueError, "unknown format %s", f);
        return -1;
    }
    return 0;
}

/* Policies(sources): each source is a path, or a tuple (name, text,
 * format) with format "json", "toml" or "yaml". */
static int policies_init(PyObject *o, PyObject *args, PyObject *kw) {
    PoliciesObject *self = (PoliciesObject *)o;
    static char *kwlist[] = {"sources", NULL};
    PyObject *seq_arg;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O", kwlist, &seq_arg)) {
        return -1;
    }
    if (self->set) {
        PyErr_SetString(PyExc_RuntimeError, "Policies is already initialised");
        return -1;
    }
    PyObject *seq = PySequence_Fast(seq_arg, "sources must be a sequence");
    if (!seq) {
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n == 0) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "no policy sources given");
        return -1;
    }
    source *src = calloc((size_t)n, sizeof(*src));
    sl_doc **docs = calloc((size_t)n, sizeof(*docs));
    int ret = -1;
    if (!src || !docs) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *it = PySequence_Fast_GET_ITEM(seq, i);
        if (PyTuple_Check(it)) {
            PyObject *name;
            const char *f;
            if (!PyArg_ParseTuple(it, "O&s#s", PyUnicode_FSConverter, &name,
                                  &src[i].text, &src[i].len, &f)) {
                goto done;
            }
            src[i].name = name;
            if (fmt_of(f, &src[i].fmt) < 0) {
                goto done;
            }
        } else if (!(src[i].path = slpy_fspath(it))) {
            goto done;
        }
    }
    sl_error err = {0};
    sl_status rc = SL_OK;
    sl_policy_set *set = NULL;
    Py_BEGIN_ALLOW_THREADS for (Py_ssize_t i = 0; i < n && rc == SL_OK; i++) {
        if (src[i].path) {
            rc = sl_doc_parse_file(PyBytes_AS_STRING(src[i].path),
                                   SL_FORMAT_AUTO, NULL, &docs[i], &err);
        } else {
            docs[i] = sl_doc_new();
            rc = docs[i]
                     ? sl_doc_load(docs[i], src[i].text, (size_t)src[i].len,
                                   src[i].fmt, PyBytes_AS_STRING(src[i].name),
                                   NULL, &err)
                     : SL_ENOMEM;
        }
    }
    if (rc == SL_OK) {
        rc = sl_policy_load((const sl_doc *const *)docs, (size_t)n, NULL, &set,
                            &err);
    }
    Py_END_ALLOW_THREADS if (rc != SL_OK) {
        slpy_raise(rc, &err);
        goto done;
    }
    self->set = set;
    slpy_pool_init(&self->pool, self, scratch_new, scratch_free);
    ret = 0;
done:
    for (Py_ssize_t i = 0; src && i < n; i++) {
        Py_XDECREF(src[i].path);
        Py_XDECREF(src[i].name);
        if (docs) {
            sl_doc_free(docs[i]);
        }
    }
    free(src);
    free(docs);
    Py_DECREF(seq);
    return ret;
}

static void policies_dealloc(PyObject *o) {
    PoliciesObject *self = (PoliciesObject *)o;
    if (self->set) {
        slpy_pool_clear(&self->pool);
        sl_policy_set_free(self->set);
    }
    Py_TYPE(o)->tp_free(o);
}

static int ready(PoliciesObject *self) {
    if (!self->set) {
        PyErr_SetString(PyExc_RuntimeError, "Policies is not initialised");
        return -1;
    }
    return 0;
}

/* Append "line N: message\n" for a record dropped by a failed transform. */
static void note(sl_buf *b, size_t value, const sl_error *e) {
    char tmp[320];
    int k = snprintf(tmp, sizeof(tmp), "value %zu: %s\n", value, e->msg);
    if (k > 0) {
        sl_buf_append(b, tmp,
                      (size_t)k < sizeof(tmp) ? (size_t)k : sizeof(tmp) - 1);
    }
}

/* apply(data, stream=False) -> (bytes, records_in, records_out, notes).
 * One OTLP/JSON request, or with stream a stream of them written one
 * compact line each, as `sluice apply` writes them. notes lists records
 * dropped because a transform could not finish. */
static PyObject *policies_apply(PyObject *o, PyObject *args, PyObject *kw) {
    PoliciesObject *self = (PoliciesObject *)o;
    static char *kwlist[] = {"data", "stream", NULL};
    Py_buffer in;
    int stream = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "y*|p", kwlist, &in, &stream)) {
        return NULL;
    }
    if (ready(self) < 0) {
        PyBuffer_Release(&in);
        return NULL;
    }
    sl_error err = {0};
    sl_status rc = SL_OK;
    scratch *s;
    unsigned long long rin = 0, rout = 0;
    Py_BEGIN_ALLOW_THREADS s = slpy_pool_get(&self->pool, &err);
    if (!s) {
        rc = err.code ? err.code : SL_ENOMEM;
    } else {
        s->out.len = s->notes.len = 0;
        s->out.failed = s->notes.failed = 0;
        size_t off = 0, value = 0;
        for (;;) {
            rc = sl_otlp_load(s->o, in.buf, (size_t)in.len,
                              stream ? &off : NULL, "<input>", &err);
            if (stream && rc == SL_ENOTFOUND) {
                rc = SL_OK;
                break;
            }
            if (rc != SL_OK) {
                break;
            }
            value++;
            size_t n = sl_otlp_count(s->o);
            rin += n;
            for (size_t i = 0; i < n; i++) {
                sl_policy_result res;
                sl_error e = {0};
                if (sl_policy_eval(s->ctx, s->o, i, SL_POLICY_APPLY, &res,
                                   &e) != SL_OK) {
                    note(&s->notes, value, &e);
                    continue;
                }
                rout += res.keep;
            }
            rc = sl_otlp_write(s->o, &s->out, &err);
            if (rc == SL_OK && stream) {
                rc = sl_buf_append(&s->out, "\n", 1);
            }
            if (rc != SL_OK || !stream) {
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
        PyObject *notes =
            PyUnicode_DecodeUTF8(s->notes.ptr ? s->notes.ptr : "",
                                 (Py_ssize_t)s->notes.len, "replace");
        PyObject *lines = notes ? PyUnicode_Splitlines(notes, 0) : NULL;
        Py_XDECREF(notes);
        if (lines) {
            res = Py_BuildValue("(y#KKN)", s->out.ptr ? s->out.ptr : "",
                                (Py_ssize_t)s->out.len, rin, rout, lines);
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

static const char *signal_name(sl_signal s) {
    switch (s) {
    case SL_SIGNAL_LOG:
        return "log";
    case SL_SIGNAL_METRIC:
        return "metric";
    case SL_SIGNAL_TRACE:
        return "trace";
    default:
        return "none";
    }
}

/* stats() -> [(id, signal, hits, misses, kept, dropped, sampled_out,
 * rate_limited, transformed, transform_failed)], every valid policy in id
 * order. */
static PyObject *policies_stats(PyObject *o, PyObject *unused) {
    (void)unused;
    PoliciesObject *self = (PoliciesObject *)o;
    if (ready(self) < 0) {
        return NULL;
    }
    size_t n = sl_policy_count(self->set);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        sl_policy_stats st;
        sl_policy_stats_get(self->set, i, &st);
        PyObject *t = Py_BuildValue(
            "(ssKKKKKKKK)", sl_policy_id(self->set, i),
            signal_name(sl_policy_signal(self->set, i)),
            (unsigned long long)st.hits, (unsigned long long)st.misses,
            (unsigned long long)st.kept, (unsigned long long)st.dropped,
            (unsigned long long)st.sampled_out,
            (unsigned long long)st.rate_limited,
            (unsigned long long)st.transformed,
            (unsigned long long)st.transform_failed);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    return list;
}

static PyObject *reset_stats(PyObject *o, PyObject *unused) {
    (void)unused;
    PoliciesObject *self = (PoliciesObject *)o;
    if (ready(self) < 0) {
        return NULL;
    }
    sl_policy_stats_reset(self->set);
    Py_RETURN_NONE;
}

static PyObject *
error_list(PoliciesObject *self, size_t (*count)(const sl_policy_set *),
           const sl_error *(*get)(const sl_policy_set *, size_t)) {
    if (ready(self) < 0) {
        return NULL;
    }
    size_t n = count(self->set);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        const sl_error *e = get(self->set, i);
        PyObject *t = Py_BuildValue("(sIIs)", e->file, (unsigned)e->line,
                                    (unsigned)e->col, e->msg);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    return list;
}

static PyObject *policies_problems(PyObject *o, PyObject *unused) {
    (void)unused;
    return error_list((PoliciesObject *)o, sl_policy_problem_count,
                      sl_policy_problem);
}

static PyObject *policies_warnings(PyObject *o, PyObject *unused) {
    (void)unused;
    return error_list((PoliciesObject *)o, sl_policy_warning_count,
                      sl_policy_warning);
}

static PyMethodDef policies_methods[] = {
    {"apply", (PyCFunction)(void (*)(void))policies_apply,
     METH_VARARGS | METH_KEYWORDS,
     "apply(data, stream=False) -> (bytes, records_in, records_out, notes)"},
    {"stats", policies_stats, METH_NOARGS, "per-policy counters"},
    {"reset_stats", reset_stats, METH_NOARGS, "zero every counter"},
    {"problems", policies_problems, METH_NOARGS,
     "rejected policies: [(file, line, col, message)]"},
    {"warnings", policies_warnings, METH_NOARGS,
     "warnings: [(file, line, col, message)]"},
    {NULL, NULL, 0, NULL},
};

PyTypeObject slpy_PoliciesType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sluice._core.Policies",
    .tp_basicsize = sizeof(PoliciesObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A compiled telemetry policy set (thread-safe).",
    .tp_new = PyType_GenericNew,
    .tp_init = policies_init,
    .tp_dealloc = policies_dealloc,
    .tp_methods = policies_methods,
};

/* python/src/tracer/module.c: the sluice._tracer extension module. Session
 * builds a filter chain in the order the caller gives (sluice.trace puts
 * builtin-default first, then framework builtins, the discovered project
 * filter, CODETRACER_TRACE_FILTER and explicit files), and records between
 * start() and stop(); FilterError carries file, line and column of a bad
 * filter file. The metadata and path files are written by sluice.trace
 * from what stop() returns. */
#include "tracer.h"

#include <string.h>

tr_session *tr_active;
static uint64_t next_gen = 1;
static PyObject *FilterError;

static PyObject *filter_error(const sl_error *err) {
    char msg[600];
    sl_error_format(err, msg, sizeof(msg));
    PyObject *type =
        err->code == SL_ENOTFOUND ? PyExc_FileNotFoundError : FilterError;
    PyObject *e = PyObject_CallFunction(type, "s", msg);
    if (!e) {
        return NULL;
    }
    PyObject *file = err->file[0] ? PyUnicode_DecodeFSDefault(err->file)
                                  : Py_NewRef(Py_None);
    PyObject *attrs[4] = {file, PyLong_FromLong((long)err->line),
                          PyLong_FromLong((long)err->col),
                          PyUnicode_FromString(err->msg)};
    static const char *const keys[4] = {"file", "line", "col", "message"};
    for (int i = 0; i < 4; i++) {
        if (!attrs[i] || PyObject_SetAttrString(e, keys[i], attrs[i]) != 0) {
            PyErr_Clear();
        }
        Py_XDECREF(attrs[i]);
    }
    PyErr_SetObject(type, e);
    Py_DECREF(e);
    return NULL;
}

/* ---- Session ---- */

static int add_step(tr_session *s, PyObject *step) {
    const char *op = NULL, *arg = NULL;
    if (!PyArg_ParseTuple(step, "sz", &op, &arg)) {
        return -1;
    }
    sl_error err = {0};
    sl_status rc = SL_EINVAL;
    if (strcmp(op, "builtin") == 0 && arg) {
        rc = sl_filter_add_builtin(s->filter, arg, &err);
    } else if (strcmp(op, "paths") == 0 && arg) {
        rc = sl_filter_add_paths(s->filter, arg, &err);
    } else if (strcmp(op, "env") == 0) {
        rc = sl_filter_add_env(s->filter, &err);
    } else if (strcmp(op, "discover") == 0) {
        rc = sl_filter_discover(s->filter, arg, NULL, &err);
    } else {
        PyErr_Format(PyExc_ValueError, "unknown chain step %s", op);
        return -1;
    }
    if (rc != SL_OK) {
        filter_error(&err);
        return -1;
    }
    return 0;
}

static int session_init(tr_session *s, PyObject *args, PyObject *kw) {
    static char *names[] = {"trace_dir",     "program", "chain",
                            "skip_prefixes", "depth",   "items",
                            "text",          "values",  NULL};
    PyObject *dir = NULL, *program = NULL, *chain = NULL, *skip = NULL;
    int depth = 4;
    Py_ssize_t items = 64, text = 4096;
    const char *values = "full";
    if (!PyArg_ParseTupleAndKeywords(args, kw, "UUO|Oinns", names, &dir,
                                     &program, &chain, &skip, &depth, &items,
                                     &text, &values)) {
        return -1;
    }
    if (strcmp(values, "full") != 0 && strcmp(values, "changed") != 0) {
        PyErr_Format(PyExc_ValueError,
                     "values must be \"full\" or \"changed\", not \"%s\"",
                     values);
        return -1;
    }
    s->changed = strcmp(values, "changed") == 0;
    if (s->filter) {
        PyErr_SetString(PyExc_RuntimeError, "session already initialised");
        return -1;
    }
    if (depth < 0 || items < 0 || text < 0) {
        PyErr_SetString(PyExc_ValueError, "limits must not be negative");
        return -1;
    }
    s->lim.depth = depth;
    s->lim.items = items;
    s->lim.text = text;
    const char *no_reuse = getenv("SLUICE_TRACE_NO_REUSE");
    s->no_reuse = no_reuse && *no_reuse && strcmp(no_reuse, "0") != 0;
    s->trace_dir = Py_NewRef(dir);
    s->program = Py_NewRef(program);
    s->skip_prefixes =
        skip && skip != Py_None ? PySequence_Tuple(skip) : PyTuple_New(0);
    s->paths = PyDict_New();
    s->path_list = PyList_New(0);
    s->funcs = PyDict_New();
    s->vars = PyDict_New();
    s->stable = PyDict_New();
    s->filter = sl_filter_new();
    if (!s->skip_prefixes || !s->paths || !s->path_list || !s->funcs ||
        !s->vars || !s->stable || !s->filter) {
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        return -1;
    }
    PyObject *seq = PySequence_Fast(chain, "chain must be a sequence");
    if (!seq) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        if (add_step(s, PySequence_Fast_GET_ITEM(seq, i)) != 0) {
            Py_DECREF(seq);
            return -1;
        }
    }
    Py_DECREF(seq);
    sl_error err = {0};
    if (sl_filter_ready(s->filter, &err) != SL_OK ||
        sl_filter_ctx_new(s->filter, &s->fctx, &err) != SL_OK) {
        filter_error(&err);
        return -1;
    }
    for (int i = 0; i < TR_TYPE_COUNT; i++) {
        s->types[i] = -1;
    }
    s->gen = next_gen++;
    return 0;
}

static void session_dealloc(tr_session *s) {
    if (s->out) {
        fclose(s->out);
    }
    sl_filter_ctx_free(s->fctx);
    sl_filter_free(s->filter);
    tr_vcache_free(s);
    tr_scratch_free_all(s);
    tr_delta_free(s);
    tr_buf_free(&s->buf);
    Py_XDECREF(s->paths);
    Py_XDECREF(s->path_list);
    Py_XDECREF(s->funcs);
    Py_XDECREF(s->vars);
    Py_XDECREF(s->stable);
    Py_XDECREF(s->trace_dir);
    Py_XDECREF(s->program);
    Py_XDECREF(s->skip_prefixes);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyObject *session_start(tr_session *s, PyObject *unused) {
    (void)unused;
    if (!s->filter || s->state != 0) {
        PyErr_SetString(PyExc_RuntimeError,
                        "a session records once: make a new one");
        return NULL;
    }
    if (tr_active) {
        PyErr_SetString(PyExc_RuntimeError, "another session is recording");
        return NULL;
    }
    if (tr_code_extra_init() != 0 || tr_writer_open(s) != 0) {
        return NULL;
    }
    /* upstream's start(): the program's path, <toplevel>, its Call, None */
    int32_t pid = tr_path_id(s, s->program);
    PyObject *top = PyUnicode_FromString("<toplevel>");
    if (!top) {
        return NULL;
    }
    int32_t fid = tr_func_id(s, top, pid, 1);
    Py_DECREF(top);
    tr_emit_call(s, fid, NULL);
    tr_type_id(s, TR_T_NONE);
    tr_thread_reset(s);
    tr_active = s;
    Py_INCREF(s);
    s->state = 1;
    if (tr_hooks_install(s) != 0) {
        tr_active = NULL;
        Py_DECREF(s);
        s->state = 2;
        tr_writer_close(s);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *session_stop(tr_session *s, PyObject *args) {
    PyObject *code = Py_None;
    if (!PyArg_ParseTuple(args, "|O", &code)) {
        return NULL;
    }
    if (s->state != 1) {
        PyErr_SetString(PyExc_RuntimeError, "session is not recording");
        return NULL;
    }
    tr_hooks_remove(s);
    tr_active = NULL;
    s->state = 2;
    if (!tr_scratch_of(s)) {
        Py_DECREF(s);
        return PyErr_NoMemory();
    }
    /* frames still running (other threads, or the caller's own) get a
     * Return each, so Calls and Returns stay balanced */
    for (; s->open_calls > 0; s->open_calls--) {
        tr_tls->vbuf.len = 0;
        tr_encode_marker(s, &tr_tls->vbuf, TR_T_UNFINISHED, "<unfinished>");
        tr_emit_return(s, &tr_tls->vbuf);
    }
    tr_tls->vbuf.len = 0;
    tr_tls->nseen = 0;
    if (code == Py_None) {
        PyObject *exit = PyUnicode_FromString("<exit>");
        if (exit) {
            tr_encode(s, &tr_tls->vbuf, exit);
            Py_DECREF(exit);
        }
    } else {
        tr_encode(s, &tr_tls->vbuf, code);
    }
    tr_emit_return(s, &tr_tls->vbuf);
    tr_writer_close(s);
    tr_vcache_free(s);
    Py_CLEAR(s->stable); /* let go of the modules, functions, classes */
    int failed = s->buf.failed || tr_tls->vbuf.failed || tr_tls->abuf.failed;
    tr_scratch_free_all(s);
    tr_delta_free(s);
    tr_dict_unwatch_all();
    sl_buf meta = {0};
    sl_error err = {0};
    if (sl_filter_write_metadata(s->filter, &meta, &err) != SL_OK) {
        sl_buf_free(&meta);
        Py_DECREF(s);
        return filter_error(&err);
    }
    PyObject *r = Py_BuildValue(
        "{sOss#sKsKsisi}", "paths", s->path_list, "trace_filter", meta.ptr,
        (Py_ssize_t)meta.len, "events", (unsigned long long)s->events, "bytes",
        (unsigned long long)s->bytes, "io_error", s->io_failed, "out_of_memory",
        failed);
    sl_buf_free(&meta);
    Py_DECREF(s); /* tr_active's reference */
    return r;
}

static PyObject *session_recording(tr_session *s, void *unused) {
    (void)unused;
    return PyBool_FromLong(s->state == 1);
}

static PyMethodDef session_methods[] = {
    {"start", (PyCFunction)session_start, METH_NOARGS,
     "start(): install the hooks and record"},
    {"stop", (PyCFunction)session_stop, METH_VARARGS,
     "stop(exit_code=None) -> dict: remove the hooks, close trace.json"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef session_getset[] = {
    {"recording", (getter)session_recording, NULL, "recording now", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject SessionType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sluice._tracer.Session",
    .tp_basicsize = sizeof(tr_session),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)session_init,
    .tp_dealloc = (destructor)session_dealloc,
    .tp_methods = session_methods,
    .tp_getset = session_getset,
    .tp_doc = "Session(trace_dir, program, chain, skip_prefixes=(), depth=4, "
              "items=64, text=4096, values='full')",
};

static PyObject *active(PyObject *m, PyObject *unused) {
    (void)m;
    (void)unused;
    return Py_NewRef(tr_active ? (PyObject *)tr_active : Py_None);
}

static PyObject *dict_watching(PyObject *m, PyObject *unused) {
    (void)m;
    (void)unused;
    return tr_dict_watching();
}

static PyObject *slots_state(PyObject *m, PyObject *unused) {
    (void)m;
    (void)unused;
    return tr_slots_state();
}

static PyMethodDef module_methods[] = {
    {"_thread_hook", (PyCFunction)(void (*)(void))tr_thread_hook, METH_FASTCALL,
     "threading.settrace hook: installs the C hook"},
    {"active", active, METH_NOARGS, "the recording Session, or None"},
    {"_dict_watching", dict_watching, METH_NOARGS,
     "(watcher id or -1, dicts watched now, dicts unwatched by the last "
     "stop): tests"},
    {"_slots", slots_state, METH_NOARGS,
     "(locals read from frame slots directly, why): tests"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "sluice._tracer",
    "The execution recorder's C core (see sluice.trace).",
    -1,
    module_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__tracer(void) {
    if (PyType_Ready(&SessionType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (!m) {
        return NULL;
    }
    tr_slots_init(); /* runs its probe: the module is not yet visible */
    FilterError = PyErr_NewExceptionWithDoc(
        "sluice._tracer.FilterError",
        "A trace filter file is invalid; .file, .line, .col, .message say "
        "where and what.",
        PyExc_ValueError, NULL);
    if (!FilterError || PyModule_AddObjectRef(m, "FilterError", FilterError) ||
        PyModule_AddObjectRef(m, "Session", (PyObject *)&SessionType) ||
        PyModule_AddIntConstant(m, "MONITORING",
                                PY_VERSION_HEX >= 0x030C0000)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

/* python/src/tracer/monitoring.c: the Python 3.12+ backend over
 * sys.monitoring (PEP 669). C callbacks for PY_START, PY_RESUME,
 * PY_THROW, PY_RETURN, PY_YIELD, PY_UNWIND and LINE, for every thread at
 * once. A skipped code object answers DISABLE from every event that can
 * be disabled, LINE included, so after its first events it costs nothing;
 * restart_events() at start re-arms locations a previous session
 * disabled. sys.settrace / sys.setprofile users are unaffected. */
#include "tracer.h"

#if PY_VERSION_HEX >= 0x030C0000

static PyObject *mon;     /* sys.monitoring */
static PyObject *disable; /* sys.monitoring.DISABLE */
static int tool = -1;

/* The frame running co (borrowed from the thread's stack), or NULL. */
static PyFrameObject *frame_of(PyObject *co) {
    PyFrameObject *f = PyEval_GetFrame();
    for (int i = 0; f && i < 4; i++) {
        PyCodeObject *c = PyFrame_GetCode(f);
        Py_DECREF(c); /* the frame keeps its code */
        if ((PyObject *)c == co) {
            return f;
        }
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_XDECREF(back); /* borrowed from the stack */
        f = back;
    }
    return NULL;
}

static tr_code *gate(PyObject *const *args, Py_ssize_t n, int need_frame,
                     PyFrameObject **fp) {
    tr_session *s = tr_active;
    if (!s || n < 1 || !PyCode_Check(args[0])) {
        return NULL;
    }
    PyFrameObject *f = need_frame ? frame_of(args[0]) : NULL;
    if (fp) {
        *fp = f;
    }
    return tr_code_of(s, (PyCodeObject *)args[0], f);
}

#define SKIPPED(ci) (!(ci) || (ci)->skip)

static PyObject *on_start(PyObject *m, PyObject *const *a, Py_ssize_t n) {
    (void)m;
    PyFrameObject *f = NULL;
    tr_code *ci = gate(a, n, 1, &f);
    if (SKIPPED(ci)) {
        return Py_NewRef(tr_active ? disable : Py_None);
    }
    tr_on_start(tr_active, ci, f);
    Py_RETURN_NONE;
}

static PyObject *on_resume(PyObject *m, PyObject *const *a, Py_ssize_t n) {
    (void)m;
    PyFrameObject *f = NULL;
    tr_code *ci = gate(a, n, 1, &f);
    if (SKIPPED(ci)) {
        return Py_NewRef(tr_active ? disable : Py_None);
    }
    tr_on_resume(tr_active, ci, f);
    Py_RETURN_NONE;
}

static PyObject *on_throw(PyObject *m, PyObject *const *a, Py_ssize_t n) {
    (void)m;
    PyFrameObject *f = NULL;
    tr_code *ci = gate(a, n, 1, &f);
    if (!SKIPPED(ci) && n >= 3) {
        tr_on_throw(tr_active, ci, f, a[2]);
    }
    Py_RETURN_NONE; /* PY_THROW cannot be disabled */
}

static PyObject *on_return(PyObject *m, PyObject *const *a, Py_ssize_t n) {
    (void)m;
    tr_code *ci = gate(a, n, 0, NULL);
    if (SKIPPED(ci)) {
        return Py_NewRef(tr_active ? disable : Py_None);
    }
    tr_on_return(tr_active, ci, n >= 3 ? a[2] : NULL, TR_RET_RETURN);
    Py_RETURN_NONE;
}

static PyObject *on_yield(PyObject *m, PyObject *const *a, Py_ssize_t n) {
    (void)m;
    tr_code *ci = gate(a, n, 0, NULL);
    if (SKIPPED(ci)) {
        return Py_NewRef(tr_active ? disable : Py_None);
    }
    tr_on_return(tr_active, ci, n >= 3 ? a[2] : NULL, TR_RET_YIELD);
    Py_RETURN_NONE;
}

static PyObject *on_unwind(PyObject *m, PyObject *const *a, Py_ssize_t n) {
    (void)m;
    tr_code *ci = gate(a, n, 0, NULL);
    if (!SKIPPED(ci)) {
        tr_on_return(tr_active, ci, n >= 3 ? a[2] : NULL, TR_RET_UNWIND);
    }
    Py_RETURN_NONE; /* PY_UNWIND cannot be disabled */
}

static PyObject *on_line(PyObject *m, PyObject *const *a, Py_ssize_t n) {
    (void)m;
    PyFrameObject *f = NULL;
    tr_code *ci = gate(a, n, 1, &f);
    if (SKIPPED(ci)) {
        return Py_NewRef(tr_active ? disable : Py_None);
    }
    if (f && n >= 2) {
        int line = (int)PyLong_AsLong(a[1]);
        if (line == -1 && PyErr_Occurred()) {
            PyErr_Clear();
        } else {
            tr_on_line(tr_active, ci, f, line);
        }
    }
    Py_RETURN_NONE;
}

static PyMethodDef CALLBACKS[] = {
    {"PY_START", (PyCFunction)(void (*)(void))on_start, METH_FASTCALL, NULL},
    {"PY_RESUME", (PyCFunction)(void (*)(void))on_resume, METH_FASTCALL, NULL},
    {"PY_THROW", (PyCFunction)(void (*)(void))on_throw, METH_FASTCALL, NULL},
    {"PY_RETURN", (PyCFunction)(void (*)(void))on_return, METH_FASTCALL, NULL},
    {"PY_YIELD", (PyCFunction)(void (*)(void))on_yield, METH_FASTCALL, NULL},
    {"PY_UNWIND", (PyCFunction)(void (*)(void))on_unwind, METH_FASTCALL, NULL},
    {"LINE", (PyCFunction)(void (*)(void))on_line, METH_FASTCALL, NULL},
};
#define NCALLBACKS (sizeof(CALLBACKS) / sizeof(CALLBACKS[0]))

static long event_bit(PyObject *events, const char *name) {
    PyObject *v = PyObject_GetAttrString(events, name);
    long bit = v ? PyLong_AsLong(v) : -1;
    Py_XDECREF(v);
    return bit;
}

int tr_hooks_install(tr_session *s) {
    (void)s;
    if (!mon) {
        PyObject *sys = PyImport_ImportModule("sys");
        mon = sys ? PyObject_GetAttrString(sys, "monitoring") : NULL;
        Py_XDECREF(sys);
        disable = mon ? PyObject_GetAttrString(mon, "DISABLE") : NULL;
        if (!mon || !disable) {
            return -1;
        }
    }
    /* the first free tool id from 4 down (0 debugger, 1 coverage, 2
     * profiler and 5 optimizer are the conventional ones) */
    static const int ids[] = {4, 3, 5};
    tool = -1;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        PyObject *r =
            PyObject_CallMethod(mon, "use_tool_id", "is", ids[i], "sluice");
        if (r) {
            Py_DECREF(r);
            tool = ids[i];
            break;
        }
        PyErr_Clear();
    }
    if (tool < 0) {
        PyErr_SetString(PyExc_RuntimeError,
                        "sys.monitoring: no free tool id (3, 4, 5 in use)");
        return -1;
    }
    PyObject *events = PyObject_GetAttrString(mon, "events");
    if (!events) {
        return -1;
    }
    long mask = 0;
    for (size_t i = 0; i < NCALLBACKS; i++) {
        long bit = event_bit(events, CALLBACKS[i].ml_name);
        PyObject *fn = bit >= 0 ? PyCFunction_New(&CALLBACKS[i], NULL) : NULL;
        PyObject *r = fn ? PyObject_CallMethod(mon, "register_callback", "ilO",
                                               tool, bit, fn)
                         : NULL;
        Py_XDECREF(fn);
        if (!r) {
            Py_DECREF(events);
            return -1;
        }
        Py_DECREF(r);
        mask |= bit;
    }
    Py_DECREF(events);
    PyObject *r = PyObject_CallMethod(mon, "restart_events", NULL);
    Py_XDECREF(r);
    r = r ? PyObject_CallMethod(mon, "set_events", "il", tool, mask) : NULL;
    if (!r) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

void tr_hooks_remove(tr_session *s) {
    (void)s;
    if (tool < 0 || !mon) {
        return;
    }
    PyObject *r = PyObject_CallMethod(mon, "set_events", "ii", tool, 0);
    Py_XDECREF(r);
    PyObject *events = PyObject_GetAttrString(mon, "events");
    for (size_t i = 0; events && i < NCALLBACKS; i++) {
        long bit = event_bit(events, CALLBACKS[i].ml_name);
        r = PyObject_CallMethod(mon, "register_callback", "ilO", tool, bit,
                                Py_None);
        Py_XDECREF(r);
    }
    Py_XDECREF(events);
    r = PyObject_CallMethod(mon, "free_tool_id", "i", tool);
    Py_XDECREF(r);
    PyErr_Clear();
    tool = -1;
}

PyObject *tr_thread_hook(PyObject *self, PyObject *const *args, Py_ssize_t n) {
    (void)self;
    (void)args;
    (void)n;
    Py_RETURN_NONE; /* sys.monitoring covers every thread already */
}

#endif

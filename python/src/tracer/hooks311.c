/* python/src/tracer/hooks311.c: the Python 3.11 backend. One C trace
 * function (PyEval_SetTrace, no Python-level tracer) receives call, line,
 * return and exception events. A skipped frame gets no line events at all
 * (its f_trace_lines is cleared at its call event, the C equivalent of "no
 * local trace function"); its return and exception events cost one
 * tag compare. New threads install the hook through threading.settrace
 * (tr_thread_hook swaps itself for the C function on the thread's first
 * event); threads that were already running when recording started are not
 * traced, as with sys.settrace. */
#include "tracer.h"

#if PY_VERSION_HEX < 0x030C0000

#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#include <opcode.h>
#undef Py_BUILD_CORE

static _Thread_local PyObject *tl_exc; /* the exception now unwinding */

static int call_kind(tr_code *ci, PyFrameObject *f) {
    /* 0 start, 1 resume, 2 throw (3.11 fires "call" at RESUME: oparg 0
     * starts a frame, others resume it; a throw enters elsewhere) */
    if (!ci->generator || !ci->bytecode) {
        return 0;
    }
    int lasti = PyFrame_GetLasti(f);
    Py_ssize_t n = PyBytes_GET_SIZE(ci->bytecode);
    if (lasti < 0 || lasti + 1 >= n) {
        return 0;
    }
    const unsigned char *c =
        (const unsigned char *)PyBytes_AS_STRING(ci->bytecode);
    if (c[lasti] == RESUME) {
        return c[lasti + 1] == 0 ? 0 : 1;
    }
    return 2;
}

static int yielded(tr_code *ci, PyFrameObject *f) {
    if (!ci->generator || !ci->bytecode) {
        return 0;
    }
    int lasti = PyFrame_GetLasti(f);
    return lasti >= 0 && lasti < PyBytes_GET_SIZE(ci->bytecode) &&
           (unsigned char)PyBytes_AS_STRING(ci->bytecode)[lasti] ==
               YIELD_VALUE;
}

static int trace_fn(PyObject *obj, PyFrameObject *f, int what, PyObject *arg) {
    tr_session *s = tr_active;
    if (!s || (PyObject *)s != obj) {
        PyEval_SetTrace(NULL, NULL); /* a stopped session: leave quietly */
        return 0;
    }
    PyCodeObject *co = f->f_frame->f_code;
    tr_code *ci = tr_code_of(s, co, f);
    if (!ci || ci->skip) {
        if (what == PyTrace_CALL) {
            f->f_trace_lines = 0;
        }
        return 0;
    }
    switch (what) {
    case PyTrace_CALL:
        switch (call_kind(ci, f)) {
        case 0:
            tr_on_start(s, ci, f);
            break;
        case 1:
            tr_on_resume(s, ci);
            break;
        default:
            tr_on_throw(s, ci, NULL); /* 3.11 hides the thrown exception */
        }
        break;
    case PyTrace_LINE:
        tr_on_line(s, ci, f, PyFrame_GetLineNumber(f));
        break;
    case PyTrace_EXCEPTION:
        if (arg && PyTuple_Check(arg) && PyTuple_GET_SIZE(arg) >= 2) {
            Py_XSETREF(tl_exc, Py_NewRef(PyTuple_GET_ITEM(arg, 1)));
        }
        break;
    case PyTrace_RETURN:
        if (!arg) {
            PyObject *exc = tl_exc;
            tl_exc = NULL;
            tr_on_return(s, ci, exc, TR_RET_UNWIND);
            Py_XDECREF(exc);
        } else {
            tr_on_return(s, ci, arg, yielded(ci, f) ? TR_RET_YIELD
                                                    : TR_RET_RETURN);
        }
        break;
    default:
        break;
    }
    return 0;
}

int tr_hooks_install(tr_session *s) {
    PyEval_SetTrace(trace_fn, (PyObject *)s);
    return 0;
}

void tr_hooks_remove(tr_session *s) {
    (void)s;
    PyEval_SetTrace(NULL, NULL);
    Py_CLEAR(tl_exc);
}

PyObject *tr_thread_hook(PyObject *self, PyObject *const *args,
                         Py_ssize_t n) {
    (void)self;
    (void)args;
    (void)n;
    if (tr_active) {
        PyEval_SetTrace(trace_fn, (PyObject *)tr_active);
    } else {
        PyEval_SetTrace(NULL, NULL);
    }
    Py_RETURN_NONE;
}

#endif

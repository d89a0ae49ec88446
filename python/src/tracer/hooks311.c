/* python/src/tracer/hooks311.c: the Python 3.11 backend, two C hooks (no
 * Python-level tracer). While traced code runs, the C trace function
 * (PyEval_SetTrace) receives call, line, return and exception events. When
 * a traced frame calls skipped code, the thread switches to the C profile
 * hook (PyEval_SetProfile: calls and returns only, so the interpreter stops
 * computing line events for every instruction of the skipped code) until
 * that skipped frame returns; skipped code calling back into traced code
 * switches back for the callee. Each switch is pushed on a per-thread
 * stack of barrier frames. New threads install the hook through
 * threading.settrace (tr_thread_hook swaps itself for the C function on the
 * thread's first event); threads already running when recording started
 * are not traced, as with sys.settrace. */
#include "tracer.h"

#if PY_VERSION_HEX < 0x030C0000

#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#include <opcode.h>
#undef Py_BUILD_CORE

static _Thread_local PyObject *tl_exc; /* the exception now unwinding */

/* Barrier frames: mode[i] runs inside frame[i] until it returns. */
enum { MODE_TRACE, MODE_PROFILE };
#define TR_BARRIERS 512
static _Thread_local uint64_t tl_bgen;
static _Thread_local int tl_nbar;
static _Thread_local PyFrameObject *tl_bframe[TR_BARRIERS];
static _Thread_local unsigned char tl_bmode[TR_BARRIERS];

static int trace_fn(PyObject *obj, PyFrameObject *f, int what, PyObject *arg);
static int profile_fn(PyObject *obj, PyFrameObject *f, int what,
                      PyObject *arg);

static void set_mode(tr_session *s, int mode) {
    if (mode == MODE_PROFILE) {
        PyEval_SetTrace(NULL, NULL);
        PyEval_SetProfile(profile_fn, (PyObject *)s);
    } else {
        PyEval_SetProfile(NULL, NULL);
        PyEval_SetTrace(trace_fn, (PyObject *)s);
    }
    PyErr_Clear(); /* an audit hook refusing: the mode stays as it was */
}

static int barriers(tr_session *s) {
    if (tl_bgen != s->gen) {
        tl_bgen = s->gen;
        tl_nbar = 0;
    }
    return tl_nbar;
}

/* Enter frame f in mode; 0 when the stack is full (stay as we are). */
static int push(tr_session *s, PyFrameObject *f, int mode) {
    if (barriers(s) >= TR_BARRIERS) {
        return 0;
    }
    tl_bframe[tl_nbar] = f;
    tl_bmode[tl_nbar] = (unsigned char)mode;
    tl_nbar++;
    set_mode(s, mode);
    return 1;
}

/* f returns: leave its mode if it is the innermost barrier. */
static void pop_if(tr_session *s, PyFrameObject *f) {
    if (barriers(s) > 0 && tl_bframe[tl_nbar - 1] == f) {
        tl_nbar--;
        set_mode(s, tl_nbar > 0 ? tl_bmode[tl_nbar - 1] : MODE_TRACE);
    }
}

static void stop_here(void) {
    PyEval_SetTrace(NULL, NULL); /* a stopped session: leave quietly */
    PyEval_SetProfile(NULL, NULL);
    PyErr_Clear();
}

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

static void on_call(tr_session *s, tr_code *ci, PyFrameObject *f) {
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
}

/* Profile mode: only skipped code runs here; watch for the barrier's
 * return and for calls into traced code. */
static int profile_fn(PyObject *obj, PyFrameObject *f, int what,
                      PyObject *arg) {
    (void)arg;
    tr_session *s = tr_active;
    if (!s || (PyObject *)s != obj) {
        stop_here();
        return 0;
    }
    if (what == PyTrace_RETURN) {
        pop_if(s, f);
        return 0;
    }
    if (what != PyTrace_CALL) {
        return 0; /* C calls */
    }
    tr_code *ci = tr_code_of(s, f->f_frame->f_code, f);
    if (!ci || ci->skip) {
        return 0;
    }
    on_call(s, ci, f);
    if (!push(s, f, MODE_TRACE)) {
        f->f_trace_lines = 0; /* too deep: its lines go unrecorded */
    }
    return 0;
}

static int trace_fn(PyObject *obj, PyFrameObject *f, int what, PyObject *arg) {
    tr_session *s = tr_active;
    if (!s || (PyObject *)s != obj) {
        stop_here();
        return 0;
    }
    PyCodeObject *co = f->f_frame->f_code;
    tr_code *ci = tr_code_of(s, co, f);
    if (!ci || ci->skip) {
        if (what == PyTrace_CALL) {
            f->f_trace_lines = 0;
            push(s, f, MODE_PROFILE);
        } else if (what == PyTrace_RETURN) {
            pop_if(s, f);
        }
        return 0;
    }
    switch (what) {
    case PyTrace_CALL:
        on_call(s, ci, f);
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
        pop_if(s, f);
        break;
    default:
        break;
    }
    return 0;
}

int tr_hooks_install(tr_session *s) {
    barriers(s);
    PyEval_SetTrace(trace_fn, (PyObject *)s);
    return PyErr_Occurred() ? -1 : 0;
}

void tr_hooks_remove(tr_session *s) {
    (void)s;
    PyEval_SetTrace(NULL, NULL);
    PyEval_SetProfile(NULL, NULL);
    PyErr_Clear();
    tl_nbar = 0;
    Py_CLEAR(tl_exc);
}

PyObject *tr_thread_hook(PyObject *self, PyObject *const *args,
                         Py_ssize_t n) {
    (void)self;
    (void)args;
    (void)n;
    if (tr_active) {
        barriers(tr_active);
        PyEval_SetTrace(trace_fn, (PyObject *)tr_active);
    } else {
        PyEval_SetTrace(NULL, NULL);
    }
    PyErr_Clear();
    Py_RETURN_NONE;
}

#endif

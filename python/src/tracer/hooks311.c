/* python/src/tracer/hooks311.c: the Python 3.11 backend, a C trace
 * function (no Python-level tracer) switched per frame by a PEP 523 frame
 * evaluation function. Every Python frame a recording thread evaluates
 * (call, generator resume or throw) passes through eval_frame, which looks
 * the code object up once (its tr_code) and runs the frame with the trace
 * function on (traced code: call, line, return and exception events) or
 * with no trace or profile function at all (skipped code), restoring the
 * caller's setting when the frame returns or yields. Skipped code thus
 * runs as untraced code does, specialised instructions included (3.11
 * runs unspecialised instructions for as long as any trace or profile
 * function is set), and traced code it calls back (sort keys, json
 * defaults) is traced again. New threads install the trace function
 * through threading.settrace (tr_thread_hook swaps itself for the C
 * function on the thread's first event) and then join; threads already
 * running when recording started are not traced, as with sys.settrace. */
#include "tracer.h"

#if PY_VERSION_HEX < 0x030C0000

#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#include <opcode.h>
#undef Py_BUILD_CORE

static _Thread_local PyObject *tl_exc; /* the exception now unwinding */

/* Threads recording for session generation tl_gen, and their mode. */
enum {
    MODE_OFF,
    MODE_TRACE
};
static _Thread_local uint64_t tl_gen;
static _Thread_local int tl_mode;
static _PyFrameEvalFunction prev_eval; /* evaluates frames for us */

static int trace_fn(PyObject *obj, PyFrameObject *f, int what, PyObject *arg);

static void set_mode(tr_session *s, int mode) {
    tl_mode = mode;
    if (mode == MODE_TRACE) {
        PyEval_SetTrace(trace_fn, (PyObject *)s);
    } else {
        PyEval_SetTrace(NULL, NULL);
    }
    PyErr_Clear(); /* an audit hook refusing: the mode stays as it was */
}

/* Switch this thread to mode around one frame's evaluation; the pending
 * exception (a generator's throw, or the frame's own) is kept aside. */
static void switch_mode(tr_session *s, int mode) {
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    set_mode(s, mode);
    PyErr_Restore(t, v, tb);
}

static PyObject *eval_frame(PyThreadState *ts, _PyInterpreterFrame *fr,
                            int throwflag) {
    tr_session *s = tr_active;
    if (!s || tl_gen != s->gen || ts->tracing) {
        /* not a recording thread, or str() run by the recorder */
        return prev_eval(ts, fr, throwflag);
    }
    tr_code *ci = tr_code_in(s, fr->f_code, fr->f_globals);
    int want = (!ci || ci->skip) ? MODE_OFF : MODE_TRACE;
    int had = tl_mode;
    if (want == had) {
        return prev_eval(ts, fr, throwflag);
    }
    uint64_t gen = s->gen;
    switch_mode(s, want);
    PyObject *r = prev_eval(ts, fr, throwflag);
    if (tr_active == s && s->gen == gen && tl_gen == gen) {
        switch_mode(s, had);
    }
    return r;
}

static void stop_here(void) {
    PyEval_SetTrace(NULL, NULL); /* a stopped session: leave quietly */
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
           (unsigned char)PyBytes_AS_STRING(ci->bytecode)[lasti] == YIELD_VALUE;
}

static void on_call(tr_session *s, tr_code *ci, PyFrameObject *f) {
    switch (call_kind(ci, f)) {
    case 0:
        tr_on_start(s, ci, f);
        break;
    case 1:
        tr_on_resume(s, ci, f);
        break;
    default:
        tr_on_throw(s, ci, f, NULL); /* 3.11 hides the thrown exception */
    }
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
        /* a frame running since before (the recorder's caller, a new
         * thread's bootstrap): no lines from it */
        f->f_trace_lines = 0;
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
            tr_on_return(s, ci, arg,
                         yielded(ci, f) ? TR_RET_YIELD : TR_RET_RETURN);
        }
        break;
    default:
        break;
    }
    return 0;
}

int tr_hooks_install(tr_session *s) {
    PyInterpreterState *interp = PyInterpreterState_Get();
    _PyFrameEvalFunction cur = _PyInterpreterState_GetEvalFrameFunc(interp);
    if (cur != eval_frame) { /* chained: a debugger's may be there */
        prev_eval = cur;
        _PyInterpreterState_SetEvalFrameFunc(interp, eval_frame);
    }
    tl_gen = s->gen;
    set_mode(s, MODE_TRACE);
    return 0;
}

void tr_hooks_remove(tr_session *s) {
    (void)s;
    PyEval_SetTrace(NULL, NULL);
    PyErr_Clear();
    tl_gen = 0;
    Py_CLEAR(tl_exc);
    /* frames already in eval_frame return through it (it then leaves the
     * mode alone); new ones no longer come */
    PyInterpreterState *interp = PyInterpreterState_Get();
    if (_PyInterpreterState_GetEvalFrameFunc(interp) == eval_frame) {
        _PyInterpreterState_SetEvalFrameFunc(interp, prev_eval);
    }
}

PyObject *tr_thread_hook(PyObject *self, PyObject *const *args, Py_ssize_t n) {
    (void)self;
    (void)args;
    (void)n;
    if (tr_active) {
        tl_gen = tr_active->gen;
        set_mode(tr_active, MODE_TRACE);
    } else {
        PyEval_SetTrace(NULL, NULL);
        PyErr_Clear();
    }
    Py_RETURN_NONE;
}

#endif

/* python/src/tracer/slots.c: a frame's local variables, read straight from
 * its fast-locals slots (the interpreter frame's localsplus array, cells
 * and free variables dereferenced) instead of one name lookup each
 * (PyFrame_GetVar on 3.12+, the f_locals mapping on 3.11). The slots'
 * layout is CPython's internal one (internal/pycore_frame.h), so the
 * direct read is used only when, checked once at import: the running
 * interpreter is the major.minor version this file was compiled for, and
 * a self-test on a known frame (arguments, *args, **kwargs, a cell, a
 * free variable, an unbound name) reads every slot the same both ways.
 * Otherwise (or with SLUICE_TRACE_NO_SLOTS=1 in the environment) every
 * read goes by name. A code object's names are read from slots only when
 * they are its localsplus names in slot order (tr_code.slots). */
#include "tracer.h"

#define Py_BUILD_CORE 1
#include <internal/pycore_code.h>
#include <internal/pycore_frame.h>
#undef Py_BUILD_CORE

_Static_assert(TR_FAST_DEREF == (CO_FAST_CELL | CO_FAST_FREE),
               "cell and free slot kinds");

int tr_slots_direct;
static const char *why = "not checked";

#if PY_VERSION_HEX >= 0x030D0000
#define FRAME_CODE(fr) _PyFrame_GetCode(fr)
#else
#define FRAME_CODE(fr) ((fr)->f_code)
#endif

/* The value of names[i] of f by name (new reference), or NULL. */
static PyObject *by_name(PyFrameObject *f, PyObject *name) {
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *v = PyFrame_GetVar(f, name);
#else
    PyObject *locals = PyFrame_GetLocals(f);
    PyObject *v = locals ? PyObject_GetItem(locals, name) : NULL;
    Py_XDECREF(locals);
#endif
    if (!v) {
        PyErr_Clear();
    }
    return v;
}

/* f's slots, whatever the guard says (the self-test reads them). */
static PyObject **raw_slots(PyFrameObject *f, PyCodeObject *co) {
    _PyInterpreterFrame *fr = f ? f->f_frame : NULL;
    if (!fr || (PyObject *)FRAME_CODE(fr) != (PyObject *)co ||
        _PyFrame_IsIncomplete(fr)) {
        return NULL;
    }
    return _PyFrame_GetLocalsArray(fr);
}

PyObject **tr_frame_slots(tr_code *ci, PyFrameObject *f) {
    if (!tr_slots_direct || !ci->slots || !f) {
        return NULL;
    }
    _PyInterpreterFrame *fr = f->f_frame;
    if (!fr || _PyFrame_IsIncomplete(fr) ||
        FRAME_CODE(fr)->co_nlocalsplus != PyTuple_GET_SIZE(ci->names)) {
        return NULL; /* cells not made yet, or not this code's frame */
    }
    return _PyFrame_GetLocalsArray(fr);
}

PyObject *tr_local_value(tr_code *ci, PyFrameObject *f, Py_ssize_t i) {
    PyObject **slots = tr_frame_slots(ci, f);
    if (slots) {
        return Py_XNewRef(tr_slot_get(ci, slots, i));
    }
    return by_name(f, PyTuple_GET_ITEM(ci->names, i));
}

void tr_slots_plan(tr_code *ci, PyCodeObject *co) {
    ci->slots = 0;
    ci->kind = NULL;
    PyObject *names = co->co_localsplusnames;
    PyObject *kinds = co->co_localspluskinds;
    Py_ssize_t n = PyTuple_GET_SIZE(ci->names);
    if (!PyTuple_Check(names) || !PyBytes_Check(kinds) ||
        PyTuple_GET_SIZE(names) != n || PyBytes_GET_SIZE(kinds) != n ||
        co->co_nlocalsplus != n) {
        return;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyTuple_GET_ITEM(names, i) != PyTuple_GET_ITEM(ci->names, i)) {
            return;
        }
    }
    Py_XSETREF(ci->kinds, Py_NewRef(kinds));
    ci->kind = (const uint8_t *)PyBytes_AS_STRING(kinds);
    ci->slots = 1;
}

/* ---- the self-test ---- */

static const char probe_src[] = "def probe(check, a, b=2, *args, **kw):\n"
                                "    c = [a]\n"
                                "    d = None\n"
                                "    def inner(x):\n"
                                "        y = (c, a, x)\n"
                                "        return y and check(5)\n"
                                "    e = 'e'\n"
                                "    del d\n"
                                "    return check(8) and inner(5)\n"
                                "ok = probe(check, 'a', 3, 4, k=5)\n";

/* Every slot of the caller's frame reads the same directly and by name,
 * and as many are bound as the probe says (arg). */
static PyObject *check(PyObject *self, PyObject *arg) {
    (void)self;
    Py_ssize_t want = PyLong_Check(arg) ? PyLong_AsSsize_t(arg) : -1;
    PyFrameObject *f = PyEval_GetFrame(); /* borrowed: the probe's */
    PyCodeObject *co = f ? PyFrame_GetCode(f) : NULL;
    if (!co) {
        PyErr_Clear();
        Py_RETURN_FALSE;
    }
    PyObject **slots = raw_slots(f, co);
    int ok = slots != NULL && PyBytes_Check(co->co_localspluskinds);
    Py_ssize_t bound = 0;
    for (int i = 0; ok && i < co->co_nlocalsplus; i++) {
        PyObject *v = slots[i];
        uint8_t kind = (uint8_t)PyBytes_AS_STRING(co->co_localspluskinds)[i];
        if (v && (kind & TR_FAST_DEREF) && PyCell_Check(v)) {
            v = PyCell_GET(v);
        }
        PyObject *named =
            by_name(f, PyTuple_GET_ITEM(co->co_localsplusnames, i));
        ok = v == named;
        bound += v != NULL;
        Py_XDECREF(named);
    }
    ok = ok && bound == want;
    Py_DECREF(co);
    return PyBool_FromLong(ok);
}

static PyMethodDef check_def = {"check", check, METH_O, NULL};

static int self_test(void) {
    PyObject *g = PyDict_New();
    PyObject *fn = PyCFunction_New(&check_def, NULL);
    PyObject *r = NULL;
    if (g && fn && PyDict_SetItemString(g, "check", fn) == 0 &&
        PyDict_SetItemString(g, "__builtins__", PyEval_GetBuiltins()) == 0) {
        r = PyRun_String(probe_src, Py_file_input, g, g);
    }
    int ok = r && PyDict_GetItemString(g, "ok") == Py_True;
    PyErr_Clear();
    Py_XDECREF(r);
    Py_XDECREF(fn);
    Py_XDECREF(g);
    return ok;
}

void tr_slots_init(void) {
    const char *off = getenv("SLUICE_TRACE_NO_SLOTS");
    tr_slots_direct = 0;
    if (off && *off && strcmp(off, "0") != 0) {
        why = "SLUICE_TRACE_NO_SLOTS is set";
    } else if ((Py_Version >> 16) != (PY_VERSION_HEX >> 16)) {
        why = "compiled for another Python version";
    } else if (!self_test()) {
        why = "self-test failed";
    } else {
        why = "direct";
        tr_slots_direct = 1;
    }
}

PyObject *tr_slots_state(void) {
    return Py_BuildValue("(Os)", tr_slots_direct ? Py_True : Py_False, why);
}

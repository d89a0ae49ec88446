/* python/src/tracer/encode.c: Python values as codetracer ValueRecords
 * (reference §2.4): None, exact bool, int within i64, str, tuple, list and
 * dict are expanded; anything else is Raw str(obj), or Error "<unrepr>"
 * when str() raises (RecursionError included). No user code runs for the
 * expanded kinds; str() runs once per recorded non-builtin value, never
 * repr(); an exact float's text is formatted here, as float.__repr__
 * formats it. Limits: containers deeper than lim.depth become Error
 * "<depth limit>", only lim.items elements are kept (then one Error
 * "<N more>"), texts are cut at lim.text bytes (ending in "…"), and a
 * container met again on its own encoding path is Error "<recursion>". */
#include "tracer.h"

#include <string.h>

void tr_encode_marker(tr_session *s, tr_buf *b, tr_type t, const char *msg) {
    tr_type_id(s, t);
    TR_LIT(b, "{\"kind\":\"Error\",\"msg\":");
    tr_buf_jstr(b, msg, strlen(msg), 0);
    tr_type_tail(s, b, t);
}

static void put_text(tr_session *s, tr_buf *b, PyObject *str) {
    Py_ssize_t n = 0;
    const char *u = PyUnicode_AsUTF8AndSize(str, &n);
    if (u) {
        tr_buf_jstr(b, u, (size_t)n, (size_t)s->lim.text);
        return;
    }
    PyErr_Clear();
    PyObject *bytes = PyUnicode_AsEncodedString(str, "utf-8", "replace");
    if (!bytes) {
        PyErr_Clear();
        tr_buf_jstr(b, "?", 1, 0);
        return;
    }
    tr_buf_jstr(b, PyBytes_AS_STRING(bytes), (size_t)PyBytes_GET_SIZE(bytes),
                (size_t)s->lim.text);
    Py_DECREF(bytes);
}

static void enc(tr_session *s, tr_buf *b, PyObject *v, int depth);

static void more_marker(tr_session *s, tr_buf *b, Py_ssize_t more) {
    char msg[48];
    snprintf(msg, sizeof(msg), "<%zd more>", more);
    tr_encode_marker(s, b, TR_T_LIMIT, msg);
}

static int on_path(PyObject *v) {
    for (int i = 0; i < tr_tls->nseen; i++) {
        if (tr_tls->seen[i] == v) {
            return 1;
        }
    }
    return 0;
}

static void enc_items(tr_session *s, tr_buf *b, PyObject *seq, int depth,
                      int is_tuple) {
    Py_ssize_t i = 0;
    for (;; i++) {
        /* re-read the size: str() of an element may change a list */
        Py_ssize_t n = is_tuple ? PyTuple_GET_SIZE(seq) : PyList_GET_SIZE(seq);
        if (i >= n) {
            break;
        }
        if (i > 0) {
            tr_buf_put(b, ",", 1);
        }
        if (i >= s->lim.items) {
            more_marker(s, b, n - i);
            break;
        }
        PyObject *item =
            is_tuple ? PyTuple_GET_ITEM(seq, i) : PyList_GET_ITEM(seq, i);
        Py_INCREF(item);
        enc(s, b, item, depth + 1);
        Py_DECREF(item);
    }
}

static void enc_dict(tr_session *s, tr_buf *b, PyObject *d, int depth) {
    tr_type_id(s, TR_T_DICT);
    tr_type_id(s, TR_T_TUPLE);
    tr_type_id(s, TR_T_STRING);
    TR_LIT(b, "{\"kind\":\"Sequence\",\"elements\":[");
    /* a snapshot of the pairs kept (str() of one may change d), with
     * references, in place of PyDict_Items' list of tuples */
    Py_ssize_t n = PyDict_GET_SIZE(d);
    Py_ssize_t keep = n < s->lim.items ? n : s->lim.items;
    PyObject *small[32], **kv = small;
    if (keep > 16) {
        kv = PyMem_RawMalloc(sizeof(PyObject *) * 2 * (size_t)keep);
        if (!kv) {
            keep = n = 0;
            kv = small;
        }
    }
    Py_ssize_t pos = 0, got = 0;
    PyObject *k, *v;
    while (got < keep && PyDict_Next(d, &pos, &k, &v)) {
        kv[2 * got] = Py_NewRef(k);
        kv[2 * got + 1] = Py_NewRef(v);
        got++;
    }
    for (Py_ssize_t i = 0; i < got; i++) {
        if (i > 0) {
            tr_buf_put(b, ",", 1);
        }
        TR_LIT(b, "{\"kind\":\"Tuple\",\"elements\":[");
        enc(s, b, kv[2 * i], depth + 1);
        tr_buf_put(b, ",", 1);
        enc(s, b, kv[2 * i + 1], depth + 1);
        TR_LIT(b, "]");
        tr_type_tail(s, b, TR_T_TUPLE);
    }
    if (n > got) {
        if (got > 0) {
            tr_buf_put(b, ",", 1);
        }
        more_marker(s, b, n - got);
    }
    for (Py_ssize_t i = 0; i < 2 * got; i++) {
        Py_DECREF(kv[i]);
    }
    if (kv != small) {
        PyMem_RawFree(kv);
    }
    TR_LIT(b, "],\"is_slice\":false");
    tr_type_tail(s, b, TR_T_DICT);
}

#define TR_STABLE_MAX 20000

/* Modules, plain functions, builtin functions and classes of metaclass
 * type print the same text for as long as they live: their encoded record
 * is kept (with a reference, until stop) so a namespace snapshot does not
 * format them again at every line. */
static int stable(PyObject *v) {
    return PyModule_CheckExact(v) || PyFunction_Check(v) ||
           PyCFunction_Check(v) || Py_IS_TYPE(v, &PyType_Type);
}

int tr_stable_kept(tr_session *s, PyObject *v) {
    return s->stable && stable(v) && PyDict_GET_SIZE(s->stable) < TR_STABLE_MAX;
}

static void enc_raw(tr_session *s, tr_buf *b, PyObject *v) {
    int keep = s->stable && stable(v);
    if (keep) {
        PyObject *hit = PyDict_GetItemWithError(s->stable, v);
        if (hit) {
            tr_buf_put(b, PyBytes_AS_STRING(hit),
                       (size_t)PyBytes_GET_SIZE(hit));
            return;
        }
        PyErr_Clear();
    }
    size_t start = b->len;
    PyObject *str = PyObject_Str(v);
    if (!str) {
        PyErr_Clear();
        tr_encode_marker(s, b, TR_T_OBJECT, "<unrepr>");
        return;
    }
    tr_type_id(s, TR_T_OBJECT);
    TR_LIT(b, "{\"kind\":\"Raw\",\"r\":");
    put_text(s, b, str);
    Py_DECREF(str);
    tr_type_tail(s, b, TR_T_OBJECT);
    if (keep && !b->failed && PyDict_GET_SIZE(s->stable) < TR_STABLE_MAX) {
        PyObject *rec = PyBytes_FromStringAndSize(b->p + start,
                                                  (Py_ssize_t)(b->len - start));
        if (!rec || PyDict_SetItem(s->stable, v, rec) != 0) {
            PyErr_Clear();
        }
        Py_XDECREF(rec);
    }
}

/* An exact float: Raw str(v), formatted as float.__repr__ does (the
 * shortest text that reads back as v), without a str object. */
static void enc_float(tr_session *s, tr_buf *b, PyObject *v) {
    char *text = PyOS_double_to_string(PyFloat_AS_DOUBLE(v), 'r', 0,
                                       Py_DTSF_ADD_DOT_0, NULL);
    if (!text) {
        PyErr_Clear();
        enc_raw(s, b, v);
        return;
    }
    tr_type_id(s, TR_T_OBJECT);
    TR_LIT(b, "{\"kind\":\"Raw\",\"r\":");
    tr_buf_jstr(b, text, strlen(text), (size_t)s->lim.text);
    PyMem_Free(text);
    tr_type_tail(s, b, TR_T_OBJECT);
}

static void enc(tr_session *s, tr_buf *b, PyObject *v, int depth) {
    if (v == Py_None) {
        tr_type_id(s, TR_T_NONE);
        TR_LIT(b, "{\"kind\":\"None\"");
        tr_type_tail(s, b, TR_T_NONE);
        return;
    }
    if (v == Py_True || v == Py_False) {
        tr_type_id(s, TR_T_BOOL);
        if (v == Py_True) {
            TR_LIT(b, "{\"kind\":\"Bool\",\"b\":true");
        } else {
            TR_LIT(b, "{\"kind\":\"Bool\",\"b\":false");
        }
        tr_type_tail(s, b, TR_T_BOOL);
        return;
    }
    if (PyLong_Check(v)) {
        int overflow = 0;
        long long i = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow == 0 && !(i == -1 && PyErr_Occurred())) {
            tr_type_id(s, TR_T_INT);
            TR_LIT(b, "{\"kind\":\"Int\",\"i\":");
            tr_buf_i64(b, i);
            tr_type_tail(s, b, TR_T_INT);
            return;
        }
        PyErr_Clear();
        enc_raw(s, b, v);
        return;
    }
    if (PyFloat_CheckExact(v)) {
        enc_float(s, b, v);
        return;
    }
    if (PyUnicode_Check(v)) {
        tr_type_id(s, TR_T_STRING);
        TR_LIT(b, "{\"kind\":\"String\",\"text\":");
        put_text(s, b, v);
        tr_type_tail(s, b, TR_T_STRING);
        return;
    }
    int is_tuple = PyTuple_Check(v);
    int is_list = !is_tuple && PyList_Check(v);
    int is_dict = !is_tuple && !is_list && PyDict_Check(v);
    if (!is_tuple && !is_list && !is_dict) {
        enc_raw(s, b, v);
        return;
    }
    if (on_path(v)) {
        tr_encode_marker(s, b, TR_T_RECURSION, "<recursion>");
        return;
    }
    if (depth >= s->lim.depth ||
        tr_tls->nseen >=
            (int)(sizeof(tr_tls->seen) / sizeof(tr_tls->seen[0]))) {
        tr_encode_marker(s, b, TR_T_LIMIT, "<depth limit>");
        return;
    }
    tr_tls->seen[tr_tls->nseen++] = v;
    if (is_dict) {
        enc_dict(s, b, v, depth);
    } else if (is_tuple) {
        TR_LIT(b, "{\"kind\":\"Tuple\",\"elements\":[");
        enc_items(s, b, v, depth, 1);
        TR_LIT(b, "]");
        tr_type_tail(s, b, TR_T_TUPLE);
    } else {
        TR_LIT(b, "{\"kind\":\"Sequence\",\"elements\":[");
        enc_items(s, b, v, depth, 0);
        TR_LIT(b, "],\"is_slice\":false");
        tr_type_tail(s, b, TR_T_LIST);
    }
    tr_tls->nseen--;
}

void tr_encode(tr_session *s, tr_buf *b, PyObject *v) {
    enc(s, b, v, 0);
}

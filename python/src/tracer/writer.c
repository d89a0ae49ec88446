/* python/src/tracer/writer.c: codetracer's trace.json event stream. Events
 * are compact JSON objects appended to one buffer and written to
 * <trace_dir>/trace.json whenever the buffer passes 1 MiB, so memory stays
 * bounded and a crash leaves every flushed event on disk (the array is
 * closed at stop). Paths, functions, variable names and types are interned
 * as the format wants: each gets its registering event the first time it
 * is used, and its id is the count of such events before it. */
#include "tracer.h"

#include <errno.h>
#include <string.h>

/* ---- buffer ---- */

static int grow(tr_buf *b, size_t more) {
    if (b->failed) {
        return -1;
    }
    if (b->len + more <= b->cap) {
        return 0;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more) {
        if (cap > ((size_t)1 << 40)) {
            b->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = PyMem_RawRealloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void tr_buf_grow_put(tr_buf *b, const char *s, size_t n) {
    if (n == 0 || grow(b, n) != 0 || b->failed) {
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

void tr_buf_puts(tr_buf *b, const char *s) {
    tr_buf_put(b, s, strlen(s));
}

void tr_buf_i64_any(tr_buf *b, long long v) {
    static const char pairs[201] = "00010203040506070809"
                                   "10111213141516171819"
                                   "20212223242526272829"
                                   "30313233343536373839"
                                   "40414243444546474849"
                                   "50515253545556575859"
                                   "60616263646566676869"
                                   "70717273747576777879"
                                   "80818283848586878889"
                                   "90919293949596979899";
    char tmp[24];
    char *e = tmp + sizeof(tmp), *p = e;
    unsigned long long u =
        v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    while (u >= 100) {
        unsigned d = (unsigned)(u % 100);
        u /= 100;
        p -= 2;
        memcpy(p, pairs + 2 * d, 2);
    }
    if (u >= 10) {
        p -= 2;
        memcpy(p, pairs + 2 * u, 2);
    } else {
        *--p = (char)('0' + u);
    }
    if (v < 0) {
        *--p = '-';
    }
    tr_buf_put(b, p, (size_t)(e - p));
}

void tr_buf_free(tr_buf *b) {
    PyMem_RawFree(b->p);
    memset(b, 0, sizeof(*b));
}

void tr_buf_jstr(tr_buf *b, const char *s, size_t n, size_t max) {
    int cut = 0;
    if (max > 0 && n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
            n--; /* do not split a UTF-8 sequence */
        }
        cut = 1;
    }
    if (grow(b, n + 2) != 0) {
        return;
    }
    b->p[b->len++] = '"';
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        tr_buf_put(b, s + run, i - run);
        run = i + 1;
        char esc[8];
        switch (c) {
        case '"':
            tr_buf_put(b, "\\\"", 2);
            break;
        case '\\':
            tr_buf_put(b, "\\\\", 2);
            break;
        case '\n':
            tr_buf_put(b, "\\n", 2);
            break;
        case '\r':
            tr_buf_put(b, "\\r", 2);
            break;
        case '\t':
            tr_buf_put(b, "\\t", 2);
            break;
        case '\b':
            tr_buf_put(b, "\\b", 2);
            break;
        case '\f':
            tr_buf_put(b, "\\f", 2);
            break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            tr_buf_put(b, esc, 6);
        }
    }
    tr_buf_put(b, s + run, n - run);
    if (cut) {
        TR_LIT(b, "\xe2\x80\xa6"); /* … */
    }
    tr_buf_put(b, "\"", 1);
}

/* ---- the stream ---- */

static void flush(tr_session *s) {
    if (!s->out || s->buf.len == 0) {
        return;
    }
    if (fwrite(s->buf.p, 1, s->buf.len, s->out) != s->buf.len) {
        s->io_failed = errno ? errno : EIO;
    }
    s->bytes += s->buf.len;
    s->buf.len = 0;
}

int tr_writer_open(tr_session *s) {
    PyObject *path = PyUnicode_FromFormat("%U/trace.json", s->trace_dir);
    if (!path) {
        return -1;
    }
    PyObject *enc = PyUnicode_EncodeFSDefault(path);
    Py_DECREF(path);
    if (!enc) {
        return -1;
    }
    s->out = fopen(PyBytes_AS_STRING(enc), "wb");
    if (!s->out) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, enc);
        Py_DECREF(enc);
        return -1;
    }
    Py_DECREF(enc);
    setvbuf(s->out, NULL, _IONBF, 0); /* our buffer is the only one: what
                                         was flushed survives a crash */
    s->first = 1;
    tr_buf_put(&s->buf, "[", 1);
    return 0;
}

void tr_writer_close(tr_session *s) {
    if (!s->out) {
        return;
    }
    tr_buf_put(&s->buf, "\n]\n", 3);
    flush(s);
    if (fclose(s->out) != 0 && !s->io_failed) {
        s->io_failed = errno ? errno : EIO;
    }
    s->out = NULL;
}

void tr_flush(tr_session *s) {
    flush(s);
}

/* ---- interning ---- */

static const struct {
    int kind;
    const char *lang;
} TYPES[TR_TYPE_COUNT] = {
    [TR_T_NONE] = {30, "None"},
    [TR_T_BOOL] = {12, "Bool"},
    [TR_T_INT] = {7, "Int"},
    [TR_T_STRING] = {9, "String"},
    [TR_T_TUPLE] = {27, "Tuple"},
    [TR_T_LIST] = {0, "List"},
    [TR_T_DICT] = {0, "Dict"},
    [TR_T_OBJECT] = {16, "Object"},
    [TR_T_REDACTED] = {16, "Redacted"},
    [TR_T_DROPPED] = {16, "Dropped"},
    [TR_T_RECURSION] = {15, "Recursion"},
    [TR_T_LIMIT] = {31, "NonExpanded"},
    [TR_T_UNFINISHED] = {16, "Unfinished"},
};

int32_t tr_type_register(tr_session *s, tr_type t) {
    tr_event_begin(s);
    TR_LIT(&s->buf, "{\"Type\":{\"kind\":");
    tr_buf_i64(&s->buf, TYPES[t].kind);
    TR_LIT(&s->buf, ",\"lang_type\":");
    tr_buf_jstr(&s->buf, TYPES[t].lang, strlen(TYPES[t].lang), 0);
    TR_LIT(&s->buf, ",\"specific_info\":{\"kind\":\"None\"}}}");
    tr_event_end(s);
    s->types[t] = s->ntypes++;
    int n = snprintf(s->tails[t], sizeof(s->tails[t]), ",\"type_id\":%d}",
                     (int)s->types[t]);
    s->tail_len[t] = (uint8_t)n;
    return s->types[t];
}

static void put_pystr(tr_buf *b, PyObject *str, size_t max) {
    Py_ssize_t n = 0;
    const char *u = PyUnicode_AsUTF8AndSize(str, &n);
    if (u) {
        tr_buf_jstr(b, u, (size_t)n, max);
        return;
    }
    PyErr_Clear(); /* lone surrogates: replaced, as a lossy UTF-8 reader */
    PyObject *bytes = PyUnicode_AsEncodedString(str, "utf-8", "replace");
    if (!bytes) {
        PyErr_Clear();
        tr_buf_jstr(b, "?", 1, 0);
        return;
    }
    tr_buf_jstr(b, PyBytes_AS_STRING(bytes), (size_t)PyBytes_GET_SIZE(bytes),
                max);
    Py_DECREF(bytes);
}

/* Look key up in dict; on a miss store next and return -2 (caller emits
 * the event). -1 on error (out of memory: the event is still emitted, so
 * the ids stay right; the name is only not remembered). */
static Py_ssize_t lookup(PyObject *dict, PyObject *key, Py_ssize_t next) {
    PyObject *id = PyDict_GetItemWithError(dict, key);
    if (id) {
        return PyLong_AsSsize_t(id);
    }
    PyErr_Clear();
    PyObject *v = PyLong_FromSsize_t(next);
    if (!v || PyDict_SetItem(dict, key, v) != 0) {
        PyErr_Clear();
    }
    Py_XDECREF(v);
    return -2;
}

int32_t tr_path_id(tr_session *s, PyObject *path) {
    Py_ssize_t n = PyList_GET_SIZE(s->path_list);
    Py_ssize_t id = lookup(s->paths, path, n);
    if (id >= 0) {
        return (int32_t)id;
    }
    if (PyList_Append(s->path_list, path) != 0) {
        PyErr_Clear();
    }
    tr_event_begin(s);
    TR_LIT(&s->buf, "{\"Path\":");
    put_pystr(&s->buf, path, 0);
    TR_LIT(&s->buf, "}");
    tr_event_end(s);
    return (int32_t)n;
}

int32_t tr_var_peek(tr_session *s, PyObject *name) {
    PyObject *id = PyDict_GetItemWithError(s->vars, name);
    if (!id) {
        PyErr_Clear();
        return -1;
    }
    return (int32_t)PyLong_AsLong(id);
}

int32_t tr_var_id(tr_session *s, PyObject *name) {
    Py_ssize_t n = PyDict_GET_SIZE(s->vars);
    Py_ssize_t id = lookup(s->vars, name, n);
    if (id >= 0) {
        return (int32_t)id;
    }
    tr_event_begin(s);
    TR_LIT(&s->buf, "{\"VariableName\":");
    put_pystr(&s->buf, name, 0);
    TR_LIT(&s->buf, "}");
    tr_event_end(s);
    return (int32_t)n;
}

/* Functions are keyed by (name, path, line), not by name alone as in
 * upstream's writer, so two functions with one qualname in different files
 * keep their own locations. */
int32_t tr_func_id(tr_session *s, PyObject *name, int32_t path_id,
                   int32_t line) {
    PyObject *key = Py_BuildValue("(Oii)", name, (int)path_id, (int)line);
    Py_ssize_t id = -2;
    if (key) {
        id = lookup(s->funcs, key, s->nfuncs);
        Py_DECREF(key);
    } else {
        PyErr_Clear();
    }
    if (id >= 0) {
        return (int32_t)id;
    }
    tr_event_begin(s);
    TR_LIT(&s->buf, "{\"Function\":{\"path_id\":");
    tr_buf_i64(&s->buf, path_id);
    TR_LIT(&s->buf, ",\"line\":");
    tr_buf_i64(&s->buf, line);
    TR_LIT(&s->buf, ",\"name\":");
    put_pystr(&s->buf, name, 0);
    TR_LIT(&s->buf, "}}");
    tr_event_end(s);
    return (int32_t)s->nfuncs++;
}

/* ---- events ---- */

void tr_emit_step(tr_session *s, int32_t path_id, int line) {
    tr_event_begin(s);
    TR_LIT(&s->buf, "{\"Step\":{\"path_id\":");
    tr_buf_i64(&s->buf, path_id);
    TR_LIT(&s->buf, ",\"line\":");
    tr_buf_i64(&s->buf, line);
    TR_LIT(&s->buf, "}}");
    tr_event_end(s);
}

void tr_emit_value(tr_session *s, int32_t var_id, const tr_buf *value) {
    tr_event_begin(s);
    TR_LIT(&s->buf, "{\"Value\":{\"variable_id\":");
    tr_buf_i64(&s->buf, var_id);
    TR_LIT(&s->buf, ",\"value\":");
    tr_buf_put(&s->buf, value->p, value->len);
    TR_LIT(&s->buf, "}}");
    tr_event_end(s);
}

void tr_emit_call(tr_session *s, int32_t func_id, const tr_buf *args) {
    tr_event_begin(s);
    TR_LIT(&s->buf, "{\"Call\":{\"function_id\":");
    tr_buf_i64(&s->buf, func_id);
    TR_LIT(&s->buf, ",\"args\":[");
    if (args) {
        tr_buf_put(&s->buf, args->p, args->len);
    }
    TR_LIT(&s->buf, "]}}");
    tr_event_end(s);
}

void tr_emit_return(tr_session *s, const tr_buf *value) {
    tr_event_begin(s);
    TR_LIT(&s->buf, "{\"Return\":{\"return_value\":");
    tr_buf_put(&s->buf, value->p, value->len);
    TR_LIT(&s->buf, "}}");
    tr_event_end(s);
}

/* ---- reusing Value events of immutable values ---- */

static int scalar(PyObject *v) {
    return v == Py_None || v == Py_True || v == Py_False ||
           PyUnicode_CheckExact(v) || PyLong_CheckExact(v) ||
           PyFloat_CheckExact(v);
}

/* A small exact tuple of scalars (or of such tuples, two levels): as
 * immutable as its elements. */
static int frozen_tuple(PyObject *v, int levels) {
    if (!PyTuple_CheckExact(v) || PyTuple_GET_SIZE(v) > 16) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(v); i++) {
        PyObject *x = PyTuple_GET_ITEM(v, i);
        if (!scalar(x) && !(levels > 1 && frozen_tuple(x, levels - 1))) {
            return 0;
        }
    }
    return 1;
}

static int cacheable(PyObject *v) {
    return scalar(v) || PyModule_CheckExact(v) || PyFunction_Check(v) ||
           PyCFunction_Check(v) || Py_IS_TYPE(v, &PyType_Type) ||
           frozen_tuple(v, 2);
}

/* Full mode: v is a list, tuple or dict whose fingerprint (in
 * tr_tls->fp) is flat and small, so its record can be reused while
 * tr_fp_quick finds it unchanged. The changed-values mode checks values
 * itself (delta.c). */
#define TR_FLAT_WORDS 256
static int flat_container(tr_session *s, PyObject *v) {
    if (s->changed || s->no_reuse || !tr_tls ||
        !(PyList_Check(v) || PyDict_Check(v) || PyTuple_Check(v))) {
        return 0;
    }
    tr_fp *fp = &tr_tls->fp;
    return tr_fingerprint(s, fp, v) == 0 && fp->n <= TR_FLAT_WORDS &&
           tr_fp_quick(s, v, fp->w, fp->n) >= 0;
}

/* The version tag of t when it is valid, else 0. */
unsigned int tr_type_tag(PyTypeObject *t) {
#if PY_VERSION_HEX < 0x030C0000
    if (!(t->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG)) {
        return 0;
    }
#endif
    return t->tp_version_tag;
}

PyObject *tr_type_qual(PyTypeObject *t) {
    return (t->tp_flags & Py_TPFLAGS_HEAPTYPE)
               ? ((PyHeapTypeObject *)t)->ht_qualname
               : NULL;
}

/* Objects whose str() is object.__repr__'s "<module.Qualname object at
 * 0x...>": the text depends only on the object's address, its type, the
 * type's __module__ (assigning it, or a __str__ or __repr__, changes the
 * type's version tag) and qualname (compared by identity). */
int tr_default_repr(PyObject *v) {
    PyTypeObject *t = Py_TYPE(v);
    return t->tp_str == PyBaseObject_Type.tp_str &&
           t->tp_repr == PyBaseObject_Type.tp_repr && tr_type_tag(t) != 0;
}

const char *tr_fixed_event(tr_session *s, int32_t vid, PyObject *v,
                           size_t *len) {
    if (vid < 0 || (size_t)vid >= s->nvcache) {
        return NULL;
    }
    tr_vcache *e = &s->vcache[vid];
    if (e->obj != v || !e->event || e->type || e->fp) {
        return NULL; /* not cached, or a str() that may change */
    }
    *len = e->len;
    return e->event;
}

int tr_emit_cached_value(tr_session *s, int32_t var_id, PyObject *v) {
    if (var_id < 0 || (size_t)var_id >= s->nvcache) {
        return 0;
    }
    tr_vcache *e = &s->vcache[var_id];
    if (e->obj != v || !e->event) {
        return 0;
    }
    if (e->fp && tr_fp_quick(s, v, e->fp, e->nfp) != 1) {
        return 0; /* changed in place */
    }
    if (e->type && (Py_TYPE(v) != e->type || tr_type_tag(e->type) != e->tag ||
                    tr_type_qual(e->type) != e->qual)) {
        return 0;
    }
    tr_event_begin(s);
    tr_buf_put(&s->buf, e->event, e->len);
    tr_event_end(s);
    return 1;
}

void tr_emit_value_keep(tr_session *s, int32_t var_id, const tr_buf *value,
                        PyObject *v) {
    tr_event_begin(s);
    size_t start = s->buf.len;
    TR_LIT(&s->buf, "{\"Value\":{\"variable_id\":");
    tr_buf_i64(&s->buf, var_id);
    TR_LIT(&s->buf, ",\"value\":");
    tr_buf_put(&s->buf, value->p, value->len);
    TR_LIT(&s->buf, "}}");
    int immutable = v && cacheable(v);
    int flat = v && !immutable && var_id >= 0 && flat_container(s, v);
    if (v && var_id >= 0 && (immutable || flat || tr_default_repr(v)) &&
        !s->buf.failed && s->buf.len - start < 4096) {
        if ((size_t)var_id >= s->nvcache) {
            size_t n = s->nvcache ? s->nvcache : 64;
            while (n <= (size_t)var_id) {
                n *= 2;
            }
            tr_vcache *c = PyMem_RawRealloc(s->vcache, n * sizeof(*c));
            if (c) {
                memset(c + s->nvcache, 0, (n - s->nvcache) * sizeof(*c));
                s->vcache = c;
                s->nvcache = n;
            }
        }
        if ((size_t)var_id < s->nvcache) {
            tr_vcache *e = &s->vcache[var_id];
            size_t len = s->buf.len - start;
            char *ev =
                len <= e->cap ? e->event : PyMem_RawRealloc(e->event, len);
            uintptr_t *fp = flat ? tr_fp_hold(&tr_tls->fp) : NULL;
            tr_fp_drop(e->fp, e->nfp);
            e->fp = NULL;
            e->nfp = 0;
            if (ev && (!flat || fp)) {
                memcpy(ev, s->buf.p + start, len);
                e->cap = len > e->cap ? len : e->cap;
                e->event = ev;
                e->len = len;
                Py_XSETREF(e->obj, Py_NewRef(v));
                e->fp = fp;
                e->nfp = fp ? tr_tls->fp.n : 0;
                int typed = !immutable && !flat;
                e->type = typed ? Py_TYPE(v) : NULL;
                e->tag = typed ? tr_type_tag(Py_TYPE(v)) : 0;
                Py_XSETREF(e->qual,
                           typed ? Py_XNewRef(tr_type_qual(e->type)) : NULL);
            } else {
                if (ev) {
                    e->event = ev;
                    e->cap = len > e->cap ? len : e->cap;
                }
                tr_fp_drop(fp, flat ? tr_tls->fp.n : 0);
                Py_CLEAR(e->obj); /* nothing kept for this variable */
            }
        }
    }
    tr_event_end(s);
}

void tr_vcache_free(tr_session *s) {
    for (size_t i = 0; i < s->nvcache; i++) {
        Py_XDECREF(s->vcache[i].obj);
        Py_XDECREF(s->vcache[i].qual);
        tr_fp_drop(s->vcache[i].fp, s->vcache[i].nfp);
        PyMem_RawFree(s->vcache[i].event);
    }
    PyMem_RawFree(s->vcache);
    s->vcache = NULL;
    s->nvcache = 0;
}

/* ---- per-thread scratch ---- */

_Thread_local tr_scratch *tr_tls;
static _Thread_local uint64_t tls_gen;

tr_scratch *tr_scratch_of(tr_session *s) {
    if (tr_tls && tls_gen == s->gen) {
        return tr_tls;
    }
    tr_scratch *x = PyMem_RawCalloc(1, sizeof(*x));
    if (!x) {
        return NULL;
    }
    x->next = s->scratches;
    s->scratches = x;
    tr_tls = x;
    tls_gen = s->gen;
    return x;
}

void tr_scratch_free_all(tr_session *s) {
    while (s->scratches) {
        tr_scratch *x = s->scratches;
        s->scratches = x->next;
        tr_delta_free_thread(s, x);
        tr_buf_free(&x->vbuf);
        tr_buf_free(&x->abuf);
        PyMem_RawFree(x->fp.w);
        PyMem_RawFree(x);
    }
    tr_tls = NULL; /* other threads' pointers are fenced by their gen */
    tls_gen = 0;
}

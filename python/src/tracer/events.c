/* python/src/tracer/events.c: what the recorder writes for each interpreter
 * event (reference §2.5), the same for both hook backends. Each code
 * object is resolved once per session: its tr_code (kept in the code
 * object's extra slot, tagged with the session's generation) holds the
 * scope decision, the interned path and function, and decision vectors
 * for its argument and local slots, so a warm event reads one byte per
 * value. Skipped code (filters, synthetic `<...>` file names, the
 * recorder's own files) is marked once and then costs a tag compare.
 * Calls and Returns are balanced per thread: a Return is written only for
 * a frame whose Call was (frames already running at start are not). */
#include "tracer.h"

#include <string.h>

#if PY_VERSION_HEX >= 0x030C0000
#define TR_SAVE_EXC()    PyObject *saved_exc_ = PyErr_GetRaisedException()
#define TR_RESTORE_EXC() PyErr_SetRaisedException(saved_exc_)
#define TR_GET_EXTRA     PyUnstable_Code_GetExtra
#define TR_SET_EXTRA     PyUnstable_Code_SetExtra
#define TR_REQ_EXTRA     PyUnstable_Eval_RequestCodeExtraIndex
#else
#define TR_SAVE_EXC()                          \
    PyObject *saved_t_, *saved_v_, *saved_tb_; \
    PyErr_Fetch(&saved_t_, &saved_v_, &saved_tb_)
#define TR_RESTORE_EXC() PyErr_Restore(saved_t_, saved_v_, saved_tb_)
#define TR_GET_EXTRA     _PyCode_GetExtra
#define TR_SET_EXTRA     _PyCode_SetExtra
#define TR_REQ_EXTRA     _PyEval_RequestCodeExtraIndex
#endif

static Py_ssize_t extra_index = -1;

static void code_clear(tr_code *ci) {
    Py_CLEAR(ci->name);
    Py_CLEAR(ci->names);
    Py_CLEAR(ci->bytecode);
    Py_CLEAR(ci->kinds);
    ci->kind = NULL;
    ci->slots = 0;
    Py_CLEAR(ci->gplan);
    PyMem_RawFree(ci->local_plan);
    PyMem_RawFree(ci->arg_idx);
    PyMem_RawFree(ci->arg_plan);
    PyMem_RawFree(ci->local_vid);
    tr_nsplan_free(ci->ns);
    ci->ns = NULL;
    ci->local_vid = NULL;
    ci->local_plan = NULL;
    ci->arg_idx = NULL;
    ci->arg_plan = NULL;
    ci->nargs = 0;
    ci->gen = 0;
    ci->scope = NULL;
}

static void code_free(void *p) {
    if (p) {
        code_clear(p);
        PyMem_RawFree(p);
    }
}

int tr_code_extra_init(void) {
    if (extra_index < 0) {
        extra_index = TR_REQ_EXTRA(code_free);
    }
    if (extra_index < 0) {
        PyErr_SetString(PyExc_RuntimeError, "no code object extra slot left");
        return -1;
    }
    return 0;
}

/* ---- per-thread call depth ---- */

static _Thread_local uint64_t tl_gen;
static _Thread_local int64_t tl_depth;

static int64_t *depth_of(tr_session *s) {
    if (tl_gen != s->gen) {
        tl_gen = s->gen;
        tl_depth = 0;
    }
    return &tl_depth;
}

void tr_thread_reset(tr_session *s) {
    (void)s;
    tl_gen = 0;
    tl_depth = 0;
}

/* ---- resolution ---- */

static int synthetic(PyObject *filename) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(filename), a = 0, z = n;
    while (a < z && Py_UNICODE_ISSPACE(PyUnicode_READ_CHAR(filename, a))) {
        a++;
    }
    while (z > a && Py_UNICODE_ISSPACE(PyUnicode_READ_CHAR(filename, z - 1))) {
        z--;
    }
    return z - a >= 2 && PyUnicode_READ_CHAR(filename, a) == '<' &&
           PyUnicode_READ_CHAR(filename, z - 1) == '>';
}

static int recorder_file(tr_session *s, PyObject *filename) {
    Py_ssize_t n = s->skip_prefixes ? PyTuple_GET_SIZE(s->skip_prefixes) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t r =
            PyUnicode_Tailmatch(filename, PyTuple_GET_ITEM(s->skip_prefixes, i),
                                0, PY_SSIZE_T_MAX, -1);
        if (r == 1) {
            return 1;
        }
        if (r < 0) {
            PyErr_Clear();
        }
    }
    return 0;
}

/* The __name__ of a frame's globals g (borrowed), or NULL. */
static PyObject *module_hint(PyObject *g) {
    if (!g) {
        return NULL;
    }
    static PyObject *key;
    if (!key) {
        key = PyUnicode_InternFromString("__name__");
    }
    PyObject *name =
        key && PyDict_Check(g) ? PyDict_GetItemWithError(g, key) : NULL;
    if (!name) {
        PyErr_Clear();
        return NULL;
    }
    return PyUnicode_Check(name) ? name : NULL;
}

/* The JSON string value of "key" in a flat object written by libsluice
 * (no Python code runs: another thread may not record meanwhile), or
 * NULL. */
static PyObject *json_field(const char *j, size_t n, const char *key) {
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    const char *end = j + n;
    const char *p = strstr(j, pat);
    if (!p) {
        return NULL;
    }
    p += strlen(pat);
    tr_buf out = {0};
    while (p < end && *p != '"') {
        if (*p != '\\') {
            tr_buf_put(&out, p++, 1);
            continue;
        }
        if (++p >= end) {
            break;
        }
        char c = *p++;
        const char *simple = strchr("\"\\/bfnrt", c);
        if (simple && c != 'u') {
            static const char map[] = "\"\\/\b\f\n\r\t";
            tr_buf_put(&out, &map[simple - "\"\\/bfnrt"], 1);
            continue;
        }
        if (c != 'u' || end - p < 4) {
            break;
        }
        unsigned cp = 0;
        for (int i = 0; i < 4; i++, p++) {
            char h = *p;
            cp = cp * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
        }
        if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' &&
            p[1] == 'u') {
            unsigned lo = 0;
            for (int i = 2; i < 6; i++) {
                char h = p[i];
                lo = lo * 16 +
                     (unsigned)(h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        }
        char u[4];
        int k = 0;
        if (cp < 0x80) {
            u[k++] = (char)cp;
        } else if (cp < 0x800) {
            u[k++] = (char)(0xC0 | (cp >> 6));
            u[k++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            u[k++] = (char)(0xE0 | (cp >> 12));
            u[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[k++] = (char)(0x80 | (cp & 0x3F));
        } else {
            u[k++] = (char)(0xF0 | (cp >> 18));
            u[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            u[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[k++] = (char)(0x80 | (cp & 0x3F));
        }
        tr_buf_put(&out, u, (size_t)k);
    }
    PyObject *r = NULL;
    if (p < end && *p == '"' && !out.failed) {
        r = PyUnicode_DecodeUTF8(out.p ? out.p : "", (Py_ssize_t)out.len,
                                 "replace");
    }
    tr_buf_free(&out);
    if (!r) {
        PyErr_Clear();
    }
    return r;
}

/* The scope's object name (module.qualname), from the engine's own
 * explain: once per traced code object. */
static PyObject *object_name(tr_session *s, const char *file, const char *qual,
                             const char *hint) {
    sl_buf out = {0};
    sl_error err = {0};
    PyObject *name = NULL;
    if (sl_filter_explain(s->fctx, file, qual, hint, NULL, NULL, 0, &out,
                          &err) == SL_OK &&
        out.len > 0) {
        name = json_field(out.ptr, out.len, "object");
    }
    sl_buf_free(&out);
    if (!name) {
        name = PyUnicode_FromString(qual ? qual : "<return>");
        if (!name) {
            PyErr_Clear();
        }
    }
    return name;
}

#if PY_VERSION_HEX >= 0x030C0000
static PyObject *unique_names(PyCodeObject *co) {
    PyObject *parts[3] = {PyCode_GetVarnames(co), PyCode_GetCellvars(co),
                          PyCode_GetFreevars(co)};
    PyObject *out = PyList_New(0);
    for (int k = 0; k < 3 && out; k++) {
        if (!parts[k]) {
            Py_CLEAR(out);
            break;
        }
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(parts[k]); i++) {
            PyObject *n = PyTuple_GET_ITEM(parts[k], i);
            int has = PySequence_Contains(out, n);
            if (has < 0 || (has == 0 && PyList_Append(out, n) != 0)) {
                Py_CLEAR(out);
                break;
            }
        }
    }
    for (int k = 0; k < 3; k++) {
        Py_XDECREF(parts[k]);
    }
    PyObject *t = out ? PyList_AsTuple(out) : NULL;
    Py_XDECREF(out);
    return t;
}
#endif

static int plan(tr_session *s, tr_code *ci, sl_filter_kind kind,
                PyObject *const *names, Py_ssize_t n, uint8_t *acts) {
    if (n == 0) {
        return 0;
    }
    sl_str *v = PyMem_RawMalloc(sizeof(sl_str) * (size_t)n);
    if (!v) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len = 0;
        const char *u = PyUnicode_AsUTF8AndSize(names[i], &len);
        if (!u) {
            PyErr_Clear();
            u = "";
            len = 0;
        }
        v[i].ptr = u;
        v[i].len = (size_t)len;
    }
    sl_error err = {0};
    sl_status rc =
        sl_filter_plan(s->fctx, ci->scope, kind, v, (size_t)n, acts, &err);
    PyMem_RawFree(v);
    if (rc != SL_OK) {
        memset(acts, SL_FILTER_REDACT, (size_t)n); /* fail closed */
    }
    return 0;
}

static int fill(tr_session *s, tr_code *ci, PyCodeObject *co,
                PyObject *globals) {
    ci->gen = s->gen; /* nothing below runs Python code */
    ci->func_id = -1;
    ci->def_line = co->co_firstlineno;
    ci->optimized = (co->co_flags & CO_OPTIMIZED) != 0;
    ci->generator =
        (co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR |
                         CO_ITERABLE_COROUTINE)) != 0;
    PyObject *filename = co->co_filename;
    if (!filename || !PyUnicode_Check(filename) || synthetic(filename) ||
        recorder_file(s, filename)) {
        ci->skip = 1;
        return 0;
    }
    const char *file = PyUnicode_AsUTF8(filename);
    const char *qual = PyUnicode_AsUTF8(co->co_qualname);
    PyObject *hint_o = module_hint(globals);
    const char *hint = hint_o ? PyUnicode_AsUTF8(hint_o) : NULL;
    if (!file || !qual) {
        PyErr_Clear();
        ci->skip = 1; /* fail closed: an unreadable scope is not traced */
        return 0;
    }
    PyErr_Clear();
    sl_error err = {0};
    const sl_filter_scope *scope = NULL;
    if (sl_filter_classify(s->fctx, file, qual, hint, &scope, &err) != SL_OK ||
        sl_filter_scope_exec(scope) == SL_FILTER_SKIP) {
        ci->skip = 1; /* resolution failures fail closed, unlike upstream */
        return 0;
    }
    ci->skip = 0;
    ci->scope = scope;
    ci->path_id = tr_path_id(s, filename);
    if (PyUnicode_CompareWithASCIIString(co->co_name, "<module>") == 0) {
        ci->name = hint_o ? PyUnicode_FromFormat("<%U>", hint_o)
                          : PyUnicode_FromString("<module>");
    } else {
        ci->name = Py_NewRef(co->co_qualname);
    }
#if PY_VERSION_HEX < 0x030C0000
    ci->names = Py_NewRef(co->co_localsplusnames);
#else
    ci->names = unique_names(co);
#endif
    if (ci->names) {
        tr_slots_plan(ci, co); /* read from the frame's slots when they are */
    }
    ci->gplan = PyDict_New();
    if (!ci->name || !ci->names || !ci->gplan) {
        PyErr_Clear();
        code_clear(ci);
        ci->gen = s->gen;
        ci->skip = 1;
        return 0;
    }
    Py_ssize_t nn = PyTuple_GET_SIZE(ci->names);
    ci->local_plan = PyMem_RawMalloc((size_t)nn + 1);
    ci->local_vid = PyMem_RawMalloc(sizeof(int32_t) * ((size_t)nn + 1));
    /* upstream's order: positional, *args, keyword-only, **kwargs */
    int flags = co->co_flags;
    Py_ssize_t npos = co->co_argcount, nkw = co->co_kwonlyargcount;
    Py_ssize_t na = npos + nkw + ((flags & CO_VARARGS) ? 1 : 0) +
                    ((flags & CO_VARKEYWORDS) ? 1 : 0);
    if (na > nn) {
        na = nn;
    }
    ci->arg_idx = PyMem_RawMalloc(sizeof(Py_ssize_t) * ((size_t)na + 1));
    ci->arg_plan = PyMem_RawMalloc((size_t)na + 1);
    if (!ci->local_plan || !ci->local_vid || !ci->arg_idx || !ci->arg_plan) {
        code_clear(ci);
        ci->gen = s->gen;
        ci->skip = 1;
        return 0;
    }
    for (Py_ssize_t i = 0; i < nn; i++) {
        ci->local_vid[i] = -1;
    }
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < npos && k < na; i++) {
        ci->arg_idx[k++] = i;
    }
    if ((flags & CO_VARARGS) && k < na) {
        ci->arg_idx[k++] = npos + nkw;
    }
    for (Py_ssize_t i = 0; i < nkw && k < na; i++) {
        ci->arg_idx[k++] = npos + i;
    }
    if ((flags & CO_VARKEYWORDS) && k < na) {
        ci->arg_idx[k++] = npos + nkw + ((flags & CO_VARARGS) ? 1 : 0);
    }
    ci->nargs = k;
    PyObject **argnames = PyMem_RawMalloc(sizeof(PyObject *) * ((size_t)k + 1));
    if (!argnames) {
        code_clear(ci);
        ci->gen = s->gen;
        ci->skip = 1;
        return 0;
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        argnames[i] = PyTuple_GET_ITEM(ci->names, ci->arg_idx[i]);
    }
    plan(s, ci, SL_FILTER_ARG, argnames, k, ci->arg_plan);
    PyMem_RawFree(argnames);
    plan(s, ci, SL_FILTER_LOCAL, &PyTuple_GET_ITEM(ci->names, 0), nn,
         ci->local_plan);
    PyObject *ret_names[3] = {object_name(s, file, qual, hint),
                              PyUnicode_FromString("<yield>"),
                              PyUnicode_FromString("<unwind>")};
    if (ret_names[0] && ret_names[1] && ret_names[2]) {
        plan(s, ci, SL_FILTER_RET, ret_names, 3, ci->ret_act);
    } else {
        PyErr_Clear();
        memset(ci->ret_act, SL_FILTER_REDACT, sizeof(ci->ret_act));
    }
    for (int i = 0; i < 3; i++) {
        Py_XDECREF(ret_names[i]);
    }
#if PY_VERSION_HEX < 0x030C0000
    if (ci->generator) {
        ci->bytecode = PyCode_GetCode(co);
        PyErr_Clear();
    }
#endif
    return 0;
}

tr_code *tr_code_of(tr_session *s, PyCodeObject *co, PyFrameObject *f) {
    void *extra = NULL;
    if (TR_GET_EXTRA((PyObject *)co, extra_index, &extra) != 0) {
        PyErr_Clear();
        return NULL;
    }
    tr_code *ci = extra;
    if (ci && ci->gen == s->gen) {
        return ci;
    }
    PyObject *g = f ? PyFrame_GetGlobals(f) : NULL;
    if (f && !g) {
        PyErr_Clear();
    }
    ci = tr_code_in(s, co, g);
    Py_XDECREF(g); /* the frame keeps its globals alive */
    return ci;
}

tr_code *tr_code_in(tr_session *s, PyCodeObject *co, PyObject *globals) {
    void *extra = NULL;
    if (TR_GET_EXTRA((PyObject *)co, extra_index, &extra) != 0) {
        PyErr_Clear();
        return NULL;
    }
    tr_code *ci = extra;
    if (ci && ci->gen == s->gen) {
        return ci;
    }
    TR_SAVE_EXC();
    if (!ci) {
        ci = PyMem_RawCalloc(1, sizeof(*ci));
        if (!ci || TR_SET_EXTRA((PyObject *)co, extra_index, ci) != 0) {
            PyErr_Clear();
            PyMem_RawFree(ci);
            TR_RESTORE_EXC();
            return NULL;
        }
    } else {
        code_clear(ci);
    }
    fill(s, ci, co, globals);
    TR_RESTORE_EXC();
    return ci;
}

/* ---- values ---- */

/* Encode one value under action act into tr_tls->vbuf (cleared first); 0 when
 * the value is dropped. */
int tr_value_into(tr_session *s, PyObject *v, int act) {
    tr_tls->vbuf.len = 0;
    tr_tls->nseen = 0;
    if (act == SL_FILTER_DROP) {
        return 0;
    }
    if (act == SL_FILTER_REDACT) {
        tr_encode_marker(s, &tr_tls->vbuf, TR_T_REDACTED, "<redacted>");
    } else {
        tr_encode(s, &tr_tls->vbuf, v);
    }
    return 1;
}

/* One Value event for name (whose variable id is vid, or -1 when not
 * known yet); returns the id (-1: dropped). */
int32_t tr_record(tr_session *s, PyObject *name, int32_t vid, PyObject *v,
                  int act, tr_tally *t) {
    if (act == SL_FILTER_DROP) {
        t->drop++;
        return -1;
    }
    if (act == SL_FILTER_REDACT) {
        t->red++;
        tr_value_into(s, v, act);
        if (vid < 0) {
            vid = tr_var_id(s, name);
        }
        tr_emit_value(s, vid, &tr_tls->vbuf);
        return vid;
    }
    /* allowed: the same immutable object as last time is the same event */
    int32_t known = vid >= 0 ? vid : tr_var_peek(s, name);
    if (tr_emit_cached_value(s, known, v)) {
        return known;
    }
    tr_value_into(s, v, act);
    if (vid < 0) {
        vid = tr_var_id(s, name);
    }
    tr_emit_value_keep(s, vid, &tr_tls->vbuf, v);
    return vid;
}

void tr_count(tr_session *s, sl_filter_kind kind, const tr_tally *t) {
    if (t->red) {
        sl_filter_count_n(s->fctx, kind, SL_FILTER_REDACT, t->red);
    }
    if (t->drop) {
        sl_filter_count_n(s->fctx, kind, SL_FILTER_DROP, t->drop);
    }
}

PyObject *tr_as_dict(PyObject *map) {
    if (PyDict_Check(map)) {
        return Py_NewRef(map);
    }
    PyObject *d = PyDict_New();
    if (!d || PyDict_Update(d, map) != 0) {
        PyErr_Clear();
        Py_XDECREF(d);
        return NULL;
    }
    return d;
}

/* A module or class body's namespace (new reference), or NULL. */
PyObject *tr_frame_namespace(PyFrameObject *f) {
    PyObject *l = PyFrame_GetLocals(f);
    if (!l) {
        PyErr_Clear();
    }
    return l;
}

/* ---- events ---- */

static int32_t func_of(tr_session *s, tr_code *ci) {
    if (ci->func_id < 0) {
        ci->func_id = tr_func_id(s, ci->name, ci->path_id, ci->def_line);
    }
    return ci->func_id;
}

static void enter(tr_session *s, PyFrameObject *f) {
    (*depth_of(s))++;
    s->open_calls++;
    if (s->changed) {
        tr_delta_push(s, f);
    }
}

void tr_on_start(tr_session *s, tr_code *ci, PyFrameObject *f) {
    if (!tr_scratch_of(s)) {
        return; /* out of memory: this event is lost */
    }
    TR_SAVE_EXC();
    int32_t fid = func_of(s, ci);
    tr_tls->abuf.len = 0;
    tr_tally t = {0, 0};
    int n = 0;
    for (Py_ssize_t k = 0; f && k < ci->nargs; k++) {
        PyObject *name = PyTuple_GET_ITEM(ci->names, ci->arg_idx[k]);
        int act = ci->arg_plan[k];
        if (act == SL_FILTER_DROP) {
            t.drop++;
            continue;
        }
        PyObject *v = tr_local_value(ci, f, ci->arg_idx[k]);
        if (!v) {
            continue;
        }
        if (act == SL_FILTER_REDACT) {
            t.red++;
        }
        tr_value_into(s, v, act);
        Py_DECREF(v);
        int32_t vid = tr_var_id(s, name);
        tr_emit_value(s, vid, &tr_tls->vbuf);
        if (n++ > 0) {
            tr_buf_put(&tr_tls->abuf, ",", 1);
        }
        TR_LIT(&tr_tls->abuf, "{\"variable_id\":");
        tr_buf_i64(&tr_tls->abuf, vid);
        TR_LIT(&tr_tls->abuf, ",\"value\":");
        tr_buf_put(&tr_tls->abuf, tr_tls->vbuf.p, tr_tls->vbuf.len);
        TR_LIT(&tr_tls->abuf, "}");
    }
    tr_count(s, SL_FILTER_ARG, &t);
    tr_emit_step(s, ci->path_id, ci->def_line);
    tr_emit_call(s, fid, &tr_tls->abuf);
    enter(s, f);
    TR_RESTORE_EXC();
}

void tr_on_resume(tr_session *s, tr_code *ci, PyFrameObject *f) {
    if (!tr_scratch_of(s)) {
        return; /* out of memory: this event is lost */
    }
    TR_SAVE_EXC();
    int32_t fid = func_of(s, ci);
    tr_emit_step(s, ci->path_id, ci->def_line);
    tr_emit_call(s, fid, NULL);
    enter(s, f);
    TR_RESTORE_EXC();
}

void tr_on_throw(tr_session *s, tr_code *ci, PyFrameObject *f, PyObject *exc) {
    if (!tr_scratch_of(s)) {
        return; /* out of memory: this event is lost */
    }
    TR_SAVE_EXC();
    int32_t fid = func_of(s, ci);
    tr_tls->abuf.len = 0;
    if (exc) {
        static PyObject *name;
        if (!name) {
            name = PyUnicode_InternFromString("exception");
        }
        const char *u = "exception";
        int act =
            sl_filter_decide(s->fctx, ci->scope, SL_FILTER_ARG, u, strlen(u));
        if (name && tr_value_into(s, exc, act)) {
            int32_t vid = tr_var_id(s, name);
            tr_emit_value(s, vid, &tr_tls->vbuf);
            TR_LIT(&tr_tls->abuf, "{\"variable_id\":");
            tr_buf_i64(&tr_tls->abuf, vid);
            TR_LIT(&tr_tls->abuf, ",\"value\":");
            tr_buf_put(&tr_tls->abuf, tr_tls->vbuf.p, tr_tls->vbuf.len);
            TR_LIT(&tr_tls->abuf, "}");
        }
    }
    tr_emit_step(s, ci->path_id, ci->def_line);
    tr_emit_call(s, fid, &tr_tls->abuf);
    enter(s, f);
    TR_RESTORE_EXC();
}

/* The action for a namespace name, from the code's cache (one plan call
 * the first time a name is met). */
int tr_ns_action(tr_session *s, tr_code *ci, PyObject *name,
                 sl_filter_kind kind) {
    PyObject *hit = PyDict_GetItemWithError(ci->gplan, name);
    if (hit) {
        long packed = PyLong_AS_LONG(hit); /* kind * 16 + action */
        if (packed / 16 == (long)kind) {
            return (int)(packed % 16);
        }
    }
    PyErr_Clear();
    int act = SL_FILTER_REDACT; /* fail closed */
    if (kind == SL_FILTER_GLOBAL && ci->optimized) {
        int has = PySequence_Contains(ci->names, name);
        if (has != 0) {
            PyErr_Clear();
            act = TR_LOCAL_NAME;
        }
    }
    if (act != TR_LOCAL_NAME) {
        uint8_t a = SL_FILTER_REDACT;
        plan(s, ci, kind, &name, 1, &a);
        act = a;
    }
    PyObject *v = hit ? NULL : PyLong_FromLong((long)kind * 16 + act);
    if (v && PyDict_SetItem(ci->gplan, name, v) != 0) {
        PyErr_Clear();
    }
    Py_XDECREF(v);
    return act;
}

int tr_ns_hidden(PyObject *name, PyObject *skip) {
    static PyObject *builtins_name;
    if (!builtins_name) {
        builtins_name = PyUnicode_InternFromString("__builtins__");
    }
    if (!PyUnicode_Check(name) || name == builtins_name ||
        (PyUnicode_GET_LENGTH(name) == 12 &&
         PyUnicode_Compare(name, builtins_name) == 0)) {
        return 1;
    }
    return skip && PyDict_Check(skip) && PyDict_Contains(skip, name) == 1;
}

/* Every name of a namespace dict (globals, or a module or class body's
 * locals), but __builtins__ and names in skip. */
static void snapshot_namespace(tr_session *s, tr_code *ci, PyObject *map,
                               PyObject *skip, sl_filter_kind kind) {
    tr_tally t = {0, 0};
    if (!PyDict_Check(map)) {
        PyObject *d = tr_as_dict(map);
        if (d) {
            snapshot_namespace(s, ci, d, skip, kind);
            Py_DECREF(d);
        }
        return;
    }
    Py_ssize_t pos = 0;
    PyObject *name, *value;
    tr_nsplan *p = NULL;
    if (!s->no_reuse && !skip && !(ci->ns && ci->ns->busy)) {
        p = ci->ns;
        if (p && p->valid && p->dict == map && p->kind == (int)kind &&
            tr_dict_version(map) == p->version) {
            /* unchanged since the last line: replay it */
            p->busy = 1;
            Py_ssize_t i = 0;
            while (i < p->n && tr_dict_version(map) == p->version) {
                tr_nsent *e = &p->e[i];
                if (e->run && !s->first) {
                    /* fixed events in a row: one copy */
                    if (e->run_len > 0) {
                        tr_buf_put(&s->buf, p->blob.p + e->off, e->run_len);
                    }
                    s->events += e->run_events;
                    t.drop += e->run_drops;
                    tr_event_end(s);
                    i += e->run;
                    pos = p->e[i - 1].pos;
                    continue;
                }
                i++;
                Py_INCREF(e->name);
                Py_INCREF(e->value);
                tr_record(s, e->name, e->vid, e->value, e->act, &t);
                Py_DECREF(e->value);
                Py_DECREF(e->name);
                pos = e->pos;
            }
            p->busy = 0;
            if (i == p->n) {
                tr_count(s, kind, &t);
                return;
            }
            p->valid = 0; /* changed by str(): walk on from pos */
            p = NULL;
        } else {
            p = tr_nsplan_begin(ci, map, (int)kind);
            if (p) {
                p->busy = 1;
            }
        }
    }
    while (PyDict_Next(map, &pos, &name, &value)) {
        if (tr_ns_hidden(name, skip)) {
            continue;
        }
        int act = tr_ns_action(s, ci, name, kind);
        if (act == TR_LOCAL_NAME) {
            continue;
        }
        /* str() of a value may run user code that changes the dict */
        Py_INCREF(name);
        Py_INCREF(value);
        int32_t vid = tr_record(s, name, -1, value, act, &t);
        if (p) {
            size_t len = 0;
            const char *ev = act == SL_FILTER_ALLOW
                                 ? tr_fixed_event(s, vid, value, &len)
                                 : NULL;
            tr_nsplan_add(p, name, value, pos, vid, act, ev, len);
        }
        Py_DECREF(value);
        Py_DECREF(name);
    }
    PyErr_Clear();
    if (p) {
        p->busy = 0;
        if (tr_dict_version(map) != p->version) {
            p->valid = 0; /* changed while walked */
        }
        tr_nsplan_end(p);
    }
    tr_count(s, kind, &t);
}

void tr_on_line(tr_session *s, tr_code *ci, PyFrameObject *f, int line) {
    if (!tr_scratch_of(s)) {
        return; /* out of memory: this event is lost */
    }
    TR_SAVE_EXC();
    tr_emit_step(s, ci->path_id, line);
    PyObject *globals = PyFrame_GetGlobals(f);
    if (!globals) {
        PyErr_Clear();
    }
    if (s->changed && tr_delta_line(s, ci, f, globals)) {
        /* written as what changed since this frame's last Step */
    } else if (ci->optimized) {
        tr_tally t = {0, 0};
        Py_ssize_t nn = PyTuple_GET_SIZE(ci->names);
        PyObject **slots = tr_frame_slots(ci, f);
        for (Py_ssize_t i = 0; i < nn; i++) {
            PyObject *v = slots ? Py_XNewRef(tr_slot_get(ci, slots, i))
                                : tr_local_value(ci, f, i);
            if (!v) {
                continue; /* unbound */
            }
            int32_t vid = tr_record(s, PyTuple_GET_ITEM(ci->names, i),
                                    ci->local_vid[i], v, ci->local_plan[i], &t);
            if (!s->no_reuse) {
                ci->local_vid[i] = vid;
            }
            Py_DECREF(v);
        }
        tr_count(s, SL_FILTER_LOCAL, &t);
        if (globals) {
            snapshot_namespace(s, ci, globals, NULL, SL_FILTER_GLOBAL);
        }
    } else {
        /* module and class bodies: the namespace's names are locals */
        PyObject *locals = tr_frame_namespace(f);
        if (locals) {
            snapshot_namespace(s, ci, locals, NULL, SL_FILTER_LOCAL);
            if (globals && globals != locals) {
                snapshot_namespace(s, ci, globals, locals, SL_FILTER_GLOBAL);
            }
        }
        Py_XDECREF(locals);
    }
    Py_XDECREF(globals);
    TR_RESTORE_EXC();
}

void tr_on_return(tr_session *s, tr_code *ci, PyObject *value, int how) {
    int64_t *depth = depth_of(s);
    if (*depth <= 0) {
        return; /* the frame was running before the session started */
    }
    if (!tr_scratch_of(s)) {
        return; /* out of memory: this event is lost */
    }
    TR_SAVE_EXC();
    int act = ci->ret_act[how];
    sl_filter_count(s->fctx, SL_FILTER_RET, (sl_filter_action)act);
    tr_tls->vbuf.len = 0;
    tr_tls->nseen = 0;
    if (act == SL_FILTER_DROP) {
        tr_encode_marker(s, &tr_tls->vbuf, TR_T_DROPPED, "<dropped>");
    } else {
        tr_value_into(s, value ? value : Py_None, act);
    }
    tr_emit_return(s, &tr_tls->vbuf);
    (*depth)--;
    s->open_calls--;
    if (s->changed) {
        tr_delta_pop(s);
    }
    TR_RESTORE_EXC();
}

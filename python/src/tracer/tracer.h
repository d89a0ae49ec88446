/* python/src/tracer/tracer.h: the execution recorder behind sluice.trace,
 * shared by its files. A session owns one filter chain (libsluice's
 * sl_filter), the trace event stream (trace.json, written as it grows) and
 * the interning tables of codetracer's JSON format; the hook backends
 * (hooks311.c: PyEval_SetTrace on 3.11; monitoring.c: sys.monitoring on
 * 3.12+) turn interpreter events into the backend-neutral tr_on_* calls of
 * events.c. Everything runs under the GIL: one session at a time, one
 * writer, events of all threads in one stream. */
#ifndef SLUICE_PY_TRACER_H
#define SLUICE_PY_TRACER_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sluice/filter.h>

/* ---- output buffer ---- */

typedef struct tr_buf {
    char *p;
    size_t len, cap;
    int failed; /* sticky: out of memory */
} tr_buf;

void tr_buf_grow_put(tr_buf *b, const char *s, size_t n);
static inline void tr_buf_put(tr_buf *b, const char *s, size_t n) {
    if (b->len + n <= b->cap && !b->failed) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
    } else {
        tr_buf_grow_put(b, s, n);
    }
}
void tr_buf_puts(tr_buf *b, const char *s);
#define TR_LIT(b, lit) tr_buf_put((b), (lit), sizeof(lit) - 1)
void tr_buf_i64_any(tr_buf *b, long long v);
/* v in decimal; ids, lines and counts are mostly one or two digits */
static inline void tr_buf_i64(tr_buf *b, long long v) {
    if (v >= 0 && v < 100 && b->len + 2 <= b->cap && !b->failed) {
        if (v >= 10) {
            b->p[b->len++] = (char)('0' + v / 10);
        }
        b->p[b->len++] = (char)('0' + v % 10);
        return;
    }
    tr_buf_i64_any(b, v);
}
/* A JSON string literal of n UTF-8 bytes, cut at max bytes (0: no cut)
 * on a character boundary with "…" appended when cut. */
void tr_buf_jstr(tr_buf *b, const char *s, size_t n, size_t max);
void tr_buf_free(tr_buf *b);

/* A value's fingerprint (fingerprint.c): words, see there. */
typedef struct tr_fp {
    uintptr_t *w;
    Py_ssize_t n, cap;
    int failed;
} tr_fp;

/* ---- types of the format (interned by lang_type) ---- */

typedef enum tr_type {
    TR_T_NONE,
    TR_T_BOOL,
    TR_T_INT,
    TR_T_STRING,
    TR_T_TUPLE,
    TR_T_LIST,
    TR_T_DICT,
    TR_T_OBJECT,
    TR_T_REDACTED,
    TR_T_DROPPED,
    TR_T_RECURSION,
    TR_T_LIMIT,
    TR_T_UNFINISHED,
    TR_TYPE_COUNT
} tr_type;

/* ---- per code object (kept in the code object's extra slot) ---- */

enum {
    TR_RET_RETURN,
    TR_RET_YIELD,
    TR_RET_UNWIND
};
enum {
    TR_LOCAL_NAME = 7
};

typedef struct tr_code {
    uint64_t gen;       /* session that filled it; 0 = empty */
    uint8_t skip;       /* skipped scope (or synthetic / recorder code) */
    uint8_t optimized;  /* CO_OPTIMIZED: locals live in slots */
    uint8_t generator;  /* generator, coroutine or async generator */
    uint8_t ret_act[3]; /* sl_filter_action per TR_RET_* */
    uint8_t slots;      /* names are the frame's slots, in order (slots.c) */
    int32_t path_id;
    int32_t func_id;              /* -1 until the first Call */
    int32_t def_line;             /* co_firstlineno */
    const sl_filter_scope *scope; /* borrowed from the session's filter */
    PyObject *name;               /* function name for the Function event */
    PyObject *names;     /* tuple: varnames + cellvars + freevars, unique */
    uint8_t *local_plan; /* sl_filter_action per names[i] (local kind) */
    Py_ssize_t nargs;
    Py_ssize_t *arg_idx;  /* index into names, upstream's argument order */
    uint8_t *arg_plan;    /* sl_filter_action per argument */
    PyObject *bytecode;   /* co_code, generators on 3.11 only */
    PyObject *kinds;      /* co_localspluskinds, when slots */
    const uint8_t *kind;  /* its bytes */
    PyObject *gplan;      /* dict name -> action for namespace names
                             (globals; module and class bodies' locals);
                             TR_LOCAL_NAME for a global shadowed by a local */
    int32_t *local_vid;   /* variable id per names[i], -1 until recorded */
    struct tr_nsplan *ns; /* the last namespace snapshot (nsplan.c) */
} tr_code;

/* ---- namespace snapshots replayed (nsplan.c) ---- */

/* A namespace dict's snapshot as the recorder last walked it: the names it
 * recorded, in dict order, with the action, variable id and value of each
 * and the dict position after it. While the dict is unchanged (its
 * version: ma_version_tag on 3.11, a dict watcher's epoch on 3.12+) the
 * next line replays it instead of walking the dict, asking the filter plan
 * and interning names again; the events written are the same. Names and
 * values are borrowed: an unchanged dict still holds them, and replay
 * checks the version before each one (str() of a value may change the
 * dict: the walk then goes on from the position reached, as before). */
typedef struct tr_nsent {
    PyObject *name, *value; /* borrowed from the dict */
    Py_ssize_t pos;         /* PyDict_Next position after this entry */
    int32_t vid;            /* -1 when dropped */
    uint8_t act;
    uint8_t fixed; /* its event is fixed (an immutable value, or none:
                      dropped): bytes [off, off + len) of the blob */
    uint32_t run;  /* fixed entries from here on (0: not fixed) */
    uint32_t run_events, run_drops;
    size_t off, len, run_len;
} tr_nsent;

typedef struct tr_nsplan {
    PyObject *dict; /* borrowed; only compared */
    uint64_t version;
    int kind;  /* sl_filter_kind the names were recorded as */
    int valid; /* complete, and the dict did not change while walked */
    int busy;  /* being replayed or walked: str() of a value may let
                  another thread reach the same code; it walks alone */
    Py_ssize_t n, cap;
    tr_nsent *e;
    tr_buf blob; /* fixed entries' events, each with its ",\n" */
} tr_nsplan;

/* ---- the session ---- */

typedef struct tr_limits {
    int depth;        /* containers nested deeper are not expanded */
    Py_ssize_t items; /* elements kept per container */
    Py_ssize_t text;  /* bytes kept per string or str() text */
} tr_limits;

/* The last Value event written for a variable id, reused while the
 * variable holds the same immutable object (allowed values only). */
typedef struct tr_vcache {
    PyObject *obj; /* strong */
    char *event;
    size_t len;
    /* obj printed by object.__repr__: valid while these stay */
    PyTypeObject *type; /* NULL: obj is immutable */
    unsigned int tag;   /* the type's version tag */
    PyObject *qual;     /* strong: the heap type's qualname */
    /* full mode: obj is a flat list, tuple or dict (tr_fp_quick) whose
     * record is event while it keeps this fingerprint (held words) */
    uintptr_t *fp;
    Py_ssize_t nfp;
    size_t cap; /* event's room */
} tr_vcache;

typedef struct tr_session {
    PyObject_HEAD uint64_t gen;
    int state; /* 0 new, 1 recording, 2 stopped */
    sl_filter *filter;
    sl_filter_ctx *fctx;
    FILE *out;  /* trace.json */
    tr_buf buf; /* events not yet written */
    int first;  /* no event written yet */
    int io_failed;
    uint64_t events;
    uint64_t bytes;
    PyObject *paths;     /* dict path -> id */
    PyObject *path_list; /* list of paths, by id */
    PyObject *funcs;     /* dict (name, path_id, line) -> id */
    PyObject *vars;      /* dict name -> id */
    Py_ssize_t nfuncs;
    int32_t types[TR_TYPE_COUNT];
    int32_t ntypes;
    char tails[TR_TYPE_COUNT][24]; /* ,"type_id":N} of each registered */
    uint8_t tail_len[TR_TYPE_COUNT];
    PyObject *trace_dir;     /* str */
    PyObject *program;       /* str */
    PyObject *skip_prefixes; /* tuple of str: recorder's own files */
    PyObject *stable;        /* dict: module, function, class -> its encoded
                                Raw record (their str() never changes) */
    int64_t open_calls;      /* Calls not yet returned, all threads */
    tr_limits lim;
    tr_vcache *vcache; /* by variable id */
    size_t nvcache;
    struct tr_scratch *scratches; /* every thread's, freed at stop */
    int no_reuse;      /* SLUICE_TRACE_NO_REUSE: no per-line caches (tests) */
    int changed;       /* values="changed": Steps carry only what changed
                          (delta.c) */
    int32_t *free_ids; /* frame ids released, for reuse (delta.c) */
    size_t nfree_ids, cap_ids;
    int32_t next_id;
} tr_session;

/* Per-thread scratch space: str() of a value runs Python code, during which
 * another thread may record, so nothing half-written lives in the session;
 * each event reaches the session's buffer whole. */
typedef struct tr_scratch {
    tr_buf vbuf;        /* the value being encoded */
    tr_buf abuf;        /* a Call's arguments */
    tr_fp fp;           /* a value's fingerprint (full mode's cache) */
    PyObject *seen[64]; /* containers on the encoding path */
    int nseen;
    struct tr_fstack *frames; /* changed mode: this thread's frames */
    struct tr_scratch *next;
} tr_scratch;

extern _Thread_local tr_scratch *tr_tls; /* this thread's, after
                                            tr_scratch_of() */
tr_scratch *tr_scratch_of(tr_session *s);
void tr_scratch_free_all(tr_session *s);

extern tr_session *tr_active; /* the recording session, or NULL */

/* events.c: backend-neutral handlers; each saves and restores the
 * exception state and never raises */
tr_code *tr_code_of(tr_session *s, PyCodeObject *co, PyFrameObject *f);
/* the same for a frame whose globals (borrowed, or NULL) are known */
tr_code *tr_code_in(tr_session *s, PyCodeObject *co, PyObject *globals);
void tr_on_start(tr_session *s, tr_code *ci, PyFrameObject *f);
void tr_on_resume(tr_session *s, tr_code *ci, PyFrameObject *f);
void tr_on_throw(tr_session *s, tr_code *ci, PyFrameObject *f, PyObject *exc);
void tr_on_line(tr_session *s, tr_code *ci, PyFrameObject *f, int line);
void tr_on_return(tr_session *s, tr_code *ci, PyObject *value, int how);
int tr_code_extra_init(void);
void tr_thread_reset(tr_session *s);

/* events.c, shared with delta.c */
typedef struct tr_tally {
    uint64_t red, drop;
} tr_tally;
/* Encode v under act into tr_tls->vbuf (cleared first); 0 when dropped. */
int tr_value_into(tr_session *s, PyObject *v, int act);
/* One Value event for name (variable id vid, or -1 when not known yet);
 * returns the id (-1: dropped). */
int32_t tr_record(tr_session *s, PyObject *name, int32_t vid, PyObject *v,
                  int act, tr_tally *t);
void tr_count(tr_session *s, sl_filter_kind kind, const tr_tally *t);
/* A name a namespace snapshot leaves out (not a str, __builtins__, or in
 * skip). */
int tr_ns_hidden(PyObject *name, PyObject *skip);
/* The action for a namespace name (TR_LOCAL_NAME: a global a local
 * shadows, not recorded). */
int tr_ns_action(tr_session *s, tr_code *ci, PyObject *name,
                 sl_filter_kind kind);
/* A module or class body's namespace (new reference), or NULL. */
PyObject *tr_frame_namespace(PyFrameObject *f);
/* map itself when it is a dict, else a dict copy of the mapping (a
 * namespace a class body's __prepare__ made); new reference, or NULL when
 * it cannot be copied. */
PyObject *tr_as_dict(PyObject *map);

/* slots.c: local variables read from the frame's slots */
extern int tr_slots_direct; /* the guard and self-test passed */
/* Decide once at import whether slots are read directly. */
void tr_slots_init(void);
/* (direct, why) for tests. */
PyObject *tr_slots_state(void);
/* Set ci->slots (and kinds) when ci's names are co's slots in order. */
void tr_slots_plan(tr_code *ci, PyCodeObject *co);
/* f's slot array when ci's locals are read from it, else NULL (read them
 * by name: tr_local_value). */
PyObject **tr_frame_slots(tr_code *ci, PyFrameObject *f);
/* Slot kinds whose slot holds a cell (CO_FAST_CELL | CO_FAST_FREE, the
 * same in 3.11 to 3.13; slots.c checks). */
#define TR_FAST_DEREF 0xC0
/* The value in slot i of slots (tr_frame_slots), borrowed; NULL: unbound. */
static inline PyObject *tr_slot_get(const tr_code *ci, PyObject **slots,
                                    Py_ssize_t i) {
    PyObject *v = slots[i];
    if (v && (ci->kind[i] & TR_FAST_DEREF) && PyCell_Check(v)) {
        v = PyCell_GET(v);
    }
    return v;
}
/* The value of local slot i (names[i]) of frame f (new reference), or
 * NULL when unbound: from the slots, else by name. */
PyObject *tr_local_value(tr_code *ci, PyFrameObject *f, Py_ssize_t i);

/* fingerprint.c: what the encoder reads of a value (see there). Words: an
 * even word is an object pointer (held while stored, may be 0), an odd
 * word a number ((n << 1) | 1). */
/* A value whose fingerprint or encoding is larger is not kept by the
 * changed-values mode: it is encoded and written at every Step, as in the
 * full trace (memory and time per entry stay bounded whatever the
 * limits). */
#define TR_KEEP_WORDS 4096
#define TR_KEEP_BYTES 65536
/* The fingerprint of v into fp (emptied first); -1: none (its encoding
 * runs str() of something whose text may change, or it is larger than
 * TR_KEEP_WORDS). */
int tr_fingerprint(tr_session *s, tr_fp *fp, PyObject *v);
/* Whether v still has the fingerprint w[0..n) taken of it (w[0] is v),
 * told without a walk when that fingerprint is flat: a list, tuple or dict
 * each of whose kept elements took one word (its own pointer, which
 * decides its record; compared in place, a list's as one memcmp), or an
 * object printed by object.__repr__. 1: the same; 0: not; -1: not flat
 * (walk and compare). */
int tr_fp_quick(tr_session *s, PyObject *v, const uintptr_t *w, Py_ssize_t n);
/* A copy of fp's words, holding the objects among them (NULL: out of
 * memory); tr_fp_drop releases them and frees it. */
uintptr_t *tr_fp_hold(const tr_fp *fp);
void tr_fp_drop(uintptr_t *w, Py_ssize_t n);

/* delta.c: the changed-values mode. Each recording thread keeps a stack
 * of the frames whose Call it wrote, each with its last snapshot; a Step
 * of the frame on top writes only what changed since, as edit operations
 * on that snapshot (sluice.trace.expand rebuilds the full one). */
void tr_delta_push(tr_session *s, PyFrameObject *f);
void tr_delta_pop(tr_session *s);
/* Write frame f's snapshot as a delta when f is the frame on top of this
 * thread's stack; 0 when it is not (the caller writes it in full). */
int tr_delta_line(tr_session *s, tr_code *ci, PyFrameObject *f,
                  PyObject *globals);
void tr_delta_free_thread(tr_session *s, tr_scratch *x);
void tr_delta_free(tr_session *s);

/* nsplan.c */
/* Make changes to dict d seen and return its version (0: they cannot be
 * seen, never replay). */
uint64_t tr_dict_watch(PyObject *d);
/* The version of a dict tr_dict_watch was given. */
#if PY_VERSION_HEX >= 0x030C0000
extern uint64_t tr_dict_epoch;
#define tr_dict_version(d) ((void)(d), tr_dict_epoch)
#else
#define tr_dict_version(d) (((PyDictObject *)(d))->ma_version_tag)
#endif
/* ci's plan, emptied, for walking dict d as kind (NULL: out of memory). */
tr_nsplan *tr_nsplan_begin(tr_code *ci, PyObject *d, int kind);
/* Append one walked name (the plan turns invalid when out of memory);
 * event/len: the Value event just written when it is fixed, else NULL. */
void tr_nsplan_add(tr_nsplan *p, PyObject *name, PyObject *value,
                   Py_ssize_t pos, int32_t vid, int act, const char *event,
                   size_t len);
/* The walk is over: join fixed entries into runs. */
void tr_nsplan_end(tr_nsplan *p);
/* The event of a fixed value recorded under vid (its cache entry), or
 * NULL. */
const char *tr_fixed_event(tr_session *s, int32_t vid, PyObject *v,
                           size_t *len);
void tr_nsplan_free(tr_nsplan *p);
/* Stop watching: every dict tr_dict_watch was given is unwatched and the
 * watcher freed (3.12+; nothing on 3.11). */
void tr_dict_unwatch_all(void);
/* (watcher id or -1, dicts watched now, dicts the last unwatch_all
 * unwatched), for tests. */
PyObject *tr_dict_watching(void);

/* writer.c: the event stream and interning */
int tr_writer_open(tr_session *s);
void tr_writer_close(tr_session *s);
/* Events are written whole between these: a separator before, and a
 * write of the buffer to trace.json once it passes TR_FLUSH_AT after. */
#define TR_FLUSH_AT (1u << 20)
void tr_flush(tr_session *s);
static inline void tr_event_begin(tr_session *s) {
    if (s->first) {
        tr_buf_put(&s->buf, "\n", 1);
        s->first = 0;
    } else {
        tr_buf_put(&s->buf, ",\n", 2);
    }
    s->events++;
}
static inline void tr_event_end(tr_session *s) {
    if (s->buf.len >= TR_FLUSH_AT) {
        tr_flush(s);
    }
}
int32_t tr_type_register(tr_session *s, tr_type t);
static inline int32_t tr_type_id(tr_session *s, tr_type t) {
    return s->types[t] >= 0 ? s->types[t] : tr_type_register(s, t);
}
/* A value record's end: ,"type_id":N} for type t (registered first). */
static inline void tr_type_tail(tr_session *s, tr_buf *b, tr_type t) {
    if (s->types[t] < 0) {
        tr_type_register(s, t);
    }
    tr_buf_put(b, s->tails[t], s->tail_len[t]);
}
int32_t tr_path_id(tr_session *s, PyObject *path);
int32_t tr_var_id(tr_session *s, PyObject *name);
int32_t tr_var_peek(tr_session *s, PyObject *name); /* -1: not yet */
int tr_emit_cached_value(tr_session *s, int32_t var_id, PyObject *v);
void tr_emit_value_keep(tr_session *s, int32_t var_id, const tr_buf *value,
                        PyObject *v);
void tr_vcache_free(tr_session *s);
int32_t tr_func_id(tr_session *s, PyObject *name, int32_t path_id,
                   int32_t line);
void tr_emit_step(tr_session *s, int32_t path_id, int line);
void tr_emit_value(tr_session *s, int32_t var_id, const tr_buf *value);
void tr_emit_call(tr_session *s, int32_t func_id, const tr_buf *args);
void tr_emit_return(tr_session *s, const tr_buf *value);

/* encode.c: values into s->vbuf */
void tr_encode(tr_session *s, tr_buf *b, PyObject *v);
void tr_encode_marker(tr_session *s, tr_buf *b, tr_type t, const char *msg);
/* v is a module, function or class whose encoded record the session
 * keeps (its str() is not asked again): true while the cache has room. */
int tr_stable_kept(tr_session *s, PyObject *v);
/* v's str() is object.__repr__'s, fixed by its address, its type, the
 * type's version tag and qualname (writer.c). */
int tr_default_repr(PyObject *v);
unsigned int tr_type_tag(PyTypeObject *t);
PyObject *tr_type_qual(PyTypeObject *t);

/* hooks: install / remove for the running interpreter */
int tr_hooks_install(tr_session *s);
void tr_hooks_remove(tr_session *s);
PyObject *tr_thread_hook(PyObject *self, PyObject *const *args, Py_ssize_t n);

#endif

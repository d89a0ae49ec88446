/* python/src/tracer/nsplan.c: replayable namespace snapshots (tr_nsplan,
 * see tracer.h) and the dict versions that say when one may be replayed.
 * Python 3.11 gives every dict a ma_version_tag, fresh at creation and
 * changed by every change; 3.12+ deprecate it, so there a dict watcher
 * (PyDict_Watch) bumps one epoch whenever any watched dict changes or is
 * freed. A plan belongs to its code object's tr_code and holds no
 * references. */
#include "tracer.h"

#include <sluice/filter.h>

#if PY_VERSION_HEX >= 0x030C0000
static int watcher = -1; /* -2: none could be had */
uint64_t tr_dict_epoch = 1;

static int on_change(PyDict_WatchEvent ev, PyObject *d, PyObject *key,
                     PyObject *value) {
    (void)ev;
    (void)d;
    (void)key;
    (void)value;
    tr_dict_epoch++;
    return 0;
}

uint64_t tr_dict_watch(PyObject *d) {
    if (watcher == -1) {
        watcher = PyDict_AddWatcher(on_change); /* kept for the process */
        if (watcher < 0) {
            PyErr_Clear();
            watcher = -2;
        }
    }
    if (watcher < 0 || PyDict_Watch(watcher, d) != 0) {
        PyErr_Clear();
        return 0;
    }
    return tr_dict_epoch;
}
#else
uint64_t tr_dict_watch(PyObject *d) {
    return tr_dict_version(d);
}
#endif

tr_nsplan *tr_nsplan_begin(tr_code *ci, PyObject *d, int kind) {
    tr_nsplan *p = ci->ns;
    if (!p) {
        p = PyMem_RawCalloc(1, sizeof(*p));
        if (!p) {
            return NULL;
        }
        ci->ns = p;
    }
    p->n = 0;
    p->blob.len = 0;
    p->blob.failed = 0;
    p->dict = d;
    p->version = tr_dict_watch(d);
    p->kind = kind;
    p->valid = p->version != 0;
    return p;
}

void tr_nsplan_add(tr_nsplan *p, PyObject *name, PyObject *value,
                   Py_ssize_t pos, int32_t vid, int act, const char *event,
                   size_t len) {
    if (!p->valid) {
        return;
    }
    if (p->n == p->cap) {
        Py_ssize_t cap = p->cap ? p->cap * 2 : 32;
        tr_nsent *e = PyMem_RawRealloc(p->e, sizeof(*e) * (size_t)cap);
        if (!e) {
            p->valid = 0;
            return;
        }
        p->e = e;
        p->cap = cap;
    }
    int fixed = act == SL_FILTER_DROP || (act == SL_FILTER_ALLOW && event);
    size_t off = p->blob.len;
    if (event && fixed) {
        TR_LIT(&p->blob, ",\n");
        tr_buf_put(&p->blob, event, len);
        if (p->blob.failed) {
            p->valid = 0;
            return;
        }
    }
    p->e[p->n++] = (tr_nsent){.name = name,
                              .value = value,
                              .pos = pos,
                              .vid = vid,
                              .act = (uint8_t)act,
                              .fixed = (uint8_t)fixed,
                              .off = off,
                              .len = p->blob.len - off};
}

void tr_nsplan_end(tr_nsplan *p) {
    if (!p->valid) {
        return;
    }
    for (Py_ssize_t i = p->n - 1; i >= 0; i--) {
        tr_nsent *e = &p->e[i], *next = i + 1 < p->n ? &p->e[i + 1] : NULL;
        if (!e->fixed) {
            e->run = 0;
            continue;
        }
        int dropped = e->act == SL_FILTER_DROP;
        e->run = 1;
        e->run_len = e->len;
        e->run_events = dropped ? 0 : 1;
        e->run_drops = dropped ? 1 : 0;
        if (next && next->run) {
            e->run += next->run;
            e->run_len += next->run_len;
            e->run_events += next->run_events;
            e->run_drops += next->run_drops;
        }
    }
}

void tr_nsplan_free(tr_nsplan *p) {
    if (p) {
        PyMem_RawFree(p->e);
        tr_buf_free(&p->blob);
        PyMem_RawFree(p);
    }
}

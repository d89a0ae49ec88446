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

/* The dicts watched now: an open-addressing set of pointers (TOMB marks a
 * removed one), so that stop can unwatch each and free the watcher; a
 * dict freed meanwhile leaves it (the watcher hears of it). */
#define TOMB ((PyObject *)1)
static PyObject **wset;
static size_t wcap, wlive, wused, wlast_unwatched;

static size_t wslot(PyObject *d) {
    return (size_t)(((uintptr_t)d >> 4) * (uintptr_t)0x9E3779B97F4A7C15u);
}

/* The slot of d, or of the empty one where it would go. */
static size_t wfind(PyObject *d, int *found) {
    size_t i = wslot(d) & (wcap - 1), tomb = (size_t)-1;
    for (;;) {
        PyObject *x = wset[i];
        if (x == d) {
            *found = 1;
            return i;
        }
        if (!x) {
            *found = 0;
            return tomb != (size_t)-1 ? tomb : i;
        }
        if (x == TOMB && tomb == (size_t)-1) {
            tomb = i;
        }
        i = (i + 1) & (wcap - 1);
    }
}

static int wgrow(void) {
    size_t cap = wcap ? wcap * 2 : 64;
    while (wlive * 2 >= cap) {
        cap *= 2;
    }
    PyObject **old = wset;
    size_t oldcap = wcap;
    wset = PyMem_RawCalloc(cap, sizeof(*wset));
    if (!wset) {
        wset = old;
        return -1;
    }
    wcap = cap;
    wused = wlive;
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i] && old[i] != TOMB) {
            int found;
            wset[wfind(old[i], &found)] = old[i];
        }
    }
    PyMem_RawFree(old);
    return 0;
}

static int on_change(PyDict_WatchEvent ev, PyObject *d, PyObject *key,
                     PyObject *value) {
    (void)key;
    (void)value;
    tr_dict_epoch++;
    if (ev == PyDict_EVENT_DEALLOCATED && wcap) {
        int found;
        size_t i = wfind(d, &found);
        if (found) {
            wset[i] = TOMB;
            wlive--;
        }
    }
    return 0;
}

uint64_t tr_dict_watch(PyObject *d) {
    if (watcher == -1) {
        watcher = PyDict_AddWatcher(on_change); /* until stop */
        if (watcher < 0) {
            PyErr_Clear();
            watcher = -2;
        }
    }
    if (watcher < 0) {
        return 0;
    }
    int found = 0;
    if ((wused + 1) * 2 > wcap && wgrow() != 0) {
        return 0;
    }
    size_t i = wfind(d, &found);
    if (found) {
        return tr_dict_epoch;
    }
    if (PyDict_Watch(watcher, d) != 0) {
        PyErr_Clear();
        return 0;
    }
    if (!wset[i]) {
        wused++;
    }
    wset[i] = d;
    wlive++;
    return tr_dict_epoch;
}

void tr_dict_unwatch_all(void) {
    size_t n = 0;
    for (size_t i = 0; i < wcap; i++) {
        if (wset[i] && wset[i] != TOMB && watcher >= 0) {
            if (PyDict_Unwatch(watcher, wset[i]) == 0) {
                n++;
            } else {
                PyErr_Clear();
            }
        }
    }
    PyMem_RawFree(wset);
    wset = NULL;
    wcap = wlive = wused = 0;
    wlast_unwatched = n;
    if (watcher >= 0 && PyDict_ClearWatcher(watcher) != 0) {
        PyErr_Clear();
    }
    watcher = -1;    /* the next session asks for one again */
    tr_dict_epoch++; /* no plan made before outlives this */
}

PyObject *tr_dict_watching(void) {
    return Py_BuildValue("(inn)", watcher >= 0 ? watcher : -1,
                         (Py_ssize_t)wlive, (Py_ssize_t)wlast_unwatched);
}
#else
uint64_t tr_dict_watch(PyObject *d) {
    return tr_dict_version(d);
}

void tr_dict_unwatch_all(void) {
}

PyObject *tr_dict_watching(void) {
    return Py_BuildValue("(inn)", -1, (Py_ssize_t)0, (Py_ssize_t)0);
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

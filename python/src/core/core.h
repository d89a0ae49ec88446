/* python/src/core/core.h: what the parts of the sluice._core extension
 * share: error conversion (sl_error -> sluice.Error subclasses), a pool of
 * per-call scratch objects (so an immutable compiled object can be used by
 * any number of threads with the GIL released), and the type objects. */
#ifndef SLUICE_PY_CORE_H
#define SLUICE_PY_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

#include <sluice/sluice.h>

/* Raise the sluice.Error subclass for rc, carrying e's file, line, column
 * and message. Returns NULL so callers can `return slpy_raise(...)`. */
PyObject *slpy_raise(sl_status rc, const sl_error *e);

/* Set up error conversion (imports sluice.errors). 0 or -1 with an
 * exception. */
int slpy_errors_init(void);

/* A stack of idle scratch objects of one kind, guarded by a mutex that is
 * only ever taken with the GIL released (no lock-order cycle with the
 * GIL). get() pops one or makes a new one; put() pushes it back. */
typedef struct slpy_pool {
    pthread_mutex_t mu;
    void **items;
    size_t n, cap;
    void *(*make)(void *owner, sl_error *err);
    void (*destroy)(void *item);
    void *owner;
} slpy_pool;

void slpy_pool_init(slpy_pool *p, void *owner,
                    void *(*make)(void *owner, sl_error *err),
                    void (*destroy)(void *item));
/* Call without the GIL. NULL with err set when making one failed. */
void *slpy_pool_get(slpy_pool *p, sl_error *err);
/* Inputs larger than this (bytes) leave their scratch to be freed rather
 * than pooled, so one huge call does not pin its memory for good. */
enum {
    SLPY_KEEP_INPUT = 4 << 20
};

/* Call without the GIL. Destroys the item if it cannot be kept. */
void slpy_pool_put(slpy_pool *p, void *item);
/* Destroy every idle item (no call may be in flight). */
void slpy_pool_clear(slpy_pool *p);

/* A file system path argument (str, bytes or os.PathLike) as a new bytes
 * object, or NULL with an exception. */
PyObject *slpy_fspath(PyObject *o);

extern PyTypeObject slpy_RedactorType;
extern PyTypeObject slpy_PoliciesType;
extern PyTypeObject slpy_FilterType;
extern PyTypeObject slpy_RecorderType;

/* The compiled redactor of a Redactor object (borrowed). */
const sl_redactor *slpy_redactor_get(PyObject *o);

#endif

/* src/base/workq.h: an ordered work queue. N worker threads take jobs in
 * the order they were submitted, any worker any job, and the owner
 * collects finished jobs in that same order: parallel work, sequential
 * results. Owns the threads and the queue; leaves out what a job is (an
 * opaque pointer, owned by the caller throughout) and what a worker holds
 * (an opaque pointer per thread, e.g. a policy context and a batch,
 * allocated once, best on that thread (sl__workq_each), and handed to
 * every job that thread runs).
 *
 * Used by `sluice apply --threads N` (chunks of the input); meant for any
 * front end that evaluates one immutable snapshot from N threads, each
 * with its own scratch: the owner swaps what the workers hold only while
 * no job is pending (collect them all first), so a worker never sees a
 * half-swapped state and needs no lock of its own.
 *
 * Threads start with every signal blocked but those a fault of their own
 * raises (SIGBUS, SIGSEGV, SIGFPE, SIGILL), so a process's handlers
 * (SIGHUP for a reload, SIGINT) run on the owner's thread and a fault's
 * handler runs on the thread that faulted. */
#ifndef SL_BASE_WORKQ_H
#define SL_BASE_WORKQ_H

#include <sluice/common.h>

#include <stddef.h>

typedef struct sl__workq sl__workq;

/* Run one job on one worker's state. Called on a worker thread; must not
 * touch another job or the queue. */
typedef void (*sl__workq_fn)(void *worker, void *job);

/* Start nworkers threads (1 to 256), thread i running fn(workers[i], job)
 * for each job it takes; at most depth jobs (>= 1) may be pending (submitted
 * and not yet collected).
 * @param workers  nworkers pointers, copied; what they point to is
 *                 borrowed until sl__workq_free.
 * @return SL_OK, SL_EINVAL, SL_ENOMEM (memory or threads). */
sl_status sl__workq_new(size_t nworkers, void *const *workers, sl__workq_fn fn,
                        size_t depth, sl__workq **out, sl_error *err);

/* Queue a job (borrowed until collected). SL_ELIMIT when depth jobs are
 * pending: collect one first. Owner's thread only. */
sl_status sl__workq_submit(sl__workq *q, void *job);

/* Wait for the oldest pending job to finish and return it; NULL when none
 * is pending. Everything the worker wrote while running the job is
 * visible to the caller on return. Owner's thread only. */
void *sl__workq_collect(sl__workq *q);

/* Run fn(workers[i], arg) once on every worker's own thread and wait for
 * all of them; owner's thread only, and only while no job is pending
 * (SL_EINVAL otherwise). For making and swapping what a worker holds: the
 * memory a thread allocates comes from its own allocator arena (glibc's
 * per-thread arenas), so the per-record state of two workers never shares
 * a cache line, as it does when one thread allocates both one after the
 * other. Everything fn wrote is visible to the caller on return. */
sl_status sl__workq_each(sl__workq *q, sl__workq_fn fn, void *arg);

/* Jobs submitted and not yet collected. */
size_t sl__workq_pending(const sl__workq *q);

/* Jobs the queue can hold (depth). */
size_t sl__workq_depth(const sl__workq *q);

/* Finish the pending jobs (they are not returned), stop and join the
 * threads, free the queue. NULL is a no-op. */
void sl__workq_free(sl__workq *q);

#endif

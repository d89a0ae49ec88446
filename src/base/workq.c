/* src/base/workq.c: the ordered work queue (workq.h). One mutex, two
 * condition variables, a ring of depth slots.
 *
 * The one idea: the ring holds jobs in submission order with three
 * cursors, head (oldest not collected) <= take (next for a worker) <= tail
 * (next free). Workers take from `take` in order but finish in any order,
 * each marking its slot done; the owner collects at `head` only once that
 * slot is done. Jobs are large (a chunk of input, milliseconds of work),
 * so one lock for everything costs nothing measurable and keeps the
 * hand-over obviously correct (also under ThreadSanitizer). */
#include "base/workq.h"

#include <pthread.h>
#include <signal.h>

#include "base/base.h"

typedef struct slot {
    void *job;
    bool done;
} slot;

typedef struct worker {
    sl__workq *q;
    void *state;
    pthread_t thread;
    uint64_t each_seen; /* the last sl__workq_each this worker ran */
} worker;

struct sl__workq {
    pthread_mutex_t lock;
    pthread_cond_t work; /* a job was queued, or stop */
    pthread_cond_t done; /* a job finished */
    slot *ring;
    size_t depth;
    size_t head, take, tail; /* monotonic counters; index = n % depth */
    bool stop;
    sl__workq_fn fn;
    /* sl__workq_each: every worker runs each_fn once per each_gen */
    sl__workq_fn each_fn;
    void *each_arg;
    uint64_t each_gen;
    size_t each_left;
    worker *workers;
    size_t nworkers, started;
};

static void *run(void *arg) {
    worker *w = arg;
    sl__workq *q = w->q;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->stop && q->take == q->tail && w->each_seen == q->each_gen) {
            pthread_cond_wait(&q->work, &q->lock);
        }
        if (w->each_seen != q->each_gen) {
            w->each_seen = q->each_gen;
            pthread_mutex_unlock(&q->lock);
            q->each_fn(w->state, q->each_arg);
            pthread_mutex_lock(&q->lock);
            q->each_left--;
            pthread_cond_broadcast(&q->done);
            continue;
        }
        if (q->take == q->tail) {
            break; /* stopping, and nothing left to do */
        }
        slot *s = &q->ring[q->take % q->depth];
        q->take++;
        pthread_mutex_unlock(&q->lock);
        q->fn(w->state, s->job);
        pthread_mutex_lock(&q->lock);
        s->done = true;
        pthread_cond_broadcast(&q->done);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

sl_status sl__workq_new(size_t nworkers, void *const *workers, sl__workq_fn fn,
                        size_t depth, sl__workq **out, sl_error *err) {
    if (!out || !fn || !workers || nworkers == 0 || nworkers > 256 ||
        depth == 0) {
        return sl__error(err, SL_EINVAL, NULL, "bad work queue arguments");
    }
    sl__workq *q = sl__calloc(1, sizeof(*q));
    if (!q) {
        return sl__nomem(err);
    }
    q->ring = sl__calloc(depth, sizeof(*q->ring));
    q->workers = sl__calloc(nworkers, sizeof(*q->workers));
    if (!q->ring || !q->workers) {
        sl__free(q->ring, depth * sizeof(*q->ring));
        sl__free(q->workers, nworkers * sizeof(*q->workers));
        sl__free(q, sizeof(*q));
        return sl__nomem(err);
    }
    q->depth = depth;
    q->fn = fn;
    q->nworkers = nworkers;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->done, NULL);
    /* workers inherit the mask: signals go to the owner's thread. Not
     * the ones a worker's own fault raises: a blocked SIGBUS or SIGSEGV
     * from a fault kills the process without running its handler (e.g.
     * the guard of a mapped input that shrank, cli/input_map.h) */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (size_t i = 0; i < nworkers; i++) {
        q->workers[i].q = q;
        q->workers[i].state = workers[i];
        if (pthread_create(&q->workers[i].thread, NULL, run, &q->workers[i]) !=
            0) {
            break;
        }
        q->started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (q->started < nworkers) {
        sl__workq_free(q);
        return sl__error(err, SL_ENOMEM, NULL, "cannot start %zu threads",
                         nworkers);
    }
    *out = q;
    return SL_OK;
}

sl_status sl__workq_submit(sl__workq *q, void *job) {
    pthread_mutex_lock(&q->lock);
    if (q->tail - q->head == q->depth) {
        pthread_mutex_unlock(&q->lock);
        return SL_ELIMIT;
    }
    slot *s = &q->ring[q->tail % q->depth];
    s->job = job;
    s->done = false;
    q->tail++;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->lock);
    return SL_OK;
}

void *sl__workq_collect(sl__workq *q) {
    pthread_mutex_lock(&q->lock);
    if (q->head == q->tail) {
        pthread_mutex_unlock(&q->lock);
        return NULL;
    }
    slot *s = &q->ring[q->head % q->depth];
    while (!s->done) {
        pthread_cond_wait(&q->done, &q->lock);
    }
    void *job = s->job;
    q->head++;
    pthread_mutex_unlock(&q->lock);
    return job;
}

sl_status sl__workq_each(sl__workq *q, sl__workq_fn fn, void *arg) {
    pthread_mutex_lock(&q->lock);
    if (q->head != q->tail || !fn) {
        pthread_mutex_unlock(&q->lock);
        return SL_EINVAL;
    }
    q->each_fn = fn;
    q->each_arg = arg;
    q->each_left = q->started;
    q->each_gen++;
    pthread_cond_broadcast(&q->work);
    while (q->each_left > 0) {
        pthread_cond_wait(&q->done, &q->lock);
    }
    pthread_mutex_unlock(&q->lock);
    return SL_OK;
}

size_t sl__workq_pending(const sl__workq *q) {
    /* only the owner changes head and tail: no lock needed to read them */
    return q->tail - q->head;
}

size_t sl__workq_depth(const sl__workq *q) {
    return q->depth;
}

void sl__workq_free(sl__workq *q) {
    if (!q) {
        return;
    }
    while (sl__workq_collect(q)) {
    }
    pthread_mutex_lock(&q->lock);
    q->stop = true;
    pthread_cond_broadcast(&q->work);
    pthread_mutex_unlock(&q->lock);
    for (size_t i = 0; i < q->started; i++) {
        pthread_join(q->workers[i].thread, NULL);
    }
    pthread_cond_destroy(&q->done);
    pthread_cond_destroy(&q->work);
    pthread_mutex_destroy(&q->lock);
    sl__free(q->ring, q->depth * sizeof(*q->ring));
    sl__free(q->workers, q->nworkers * sizeof(*q->workers));
    sl__free(q, sizeof(*q));
}

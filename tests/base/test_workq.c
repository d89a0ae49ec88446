/* tests/base/test_workq.c: the ordered work queue: jobs finish in any
 * order but are collected in submission order, each worker runs with its
 * own state, the depth bounds what is pending, freeing with jobs pending
 * runs them and joins, and sl__workq_each runs once on every worker's own
 * thread. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "base/base.h"
#include "base/workq.h"

typedef struct job {
    unsigned id, sleep_us;
    int ran_on; /* worker index */
    unsigned value;
} job;

typedef struct wstate {
    int index;
    unsigned runs; /* only this worker's thread writes it */
} wstate;

static void work(void *worker, void *jp) {
    wstate *w = worker;
    job *j = jp;
    struct timespec ts = {0, (long)j->sleep_us * 1000};
    nanosleep(&ts, NULL);
    j->value = j->id * 3 + 1;
    j->ran_on = w->index;
    w->runs++;
}

Test(workq, collects_in_submission_order) {
    enum {
        N = 200,
        WORKERS = 4,
        DEPTH = 9
    };
    wstate ws[WORKERS];
    void *wp[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        ws[i] = (wstate){.index = i};
        wp[i] = &ws[i];
    }
    sl__workq *q = NULL;
    sl_error err = {0};
    cr_assert_eq(sl__workq_new(WORKERS, wp, work, DEPTH, &q, &err), SL_OK, "%s",
                 err.msg);
    static job jobs[N];
    unsigned next = 0, got = 0;
    while (got < N) {
        while (next < N && sl__workq_pending(q) < DEPTH) {
            /* later jobs are often quicker: they finish out of order */
            jobs[next] = (job){.id = next, .sleep_us = (N - next) % 7 * 150};
            cr_assert_eq(sl__workq_submit(q, &jobs[next]), SL_OK);
            next++;
        }
        job *j = sl__workq_collect(q);
        cr_assert_not_null(j);
        cr_assert_eq(j->id, got, "collected %u, expected %u", j->id, got);
        cr_assert_eq(j->value, j->id * 3 + 1);
        got++;
    }
    cr_assert_null(sl__workq_collect(q), "nothing pending");
    sl__workq_free(q);
    unsigned runs = 0;
    for (int i = 0; i < WORKERS; i++) {
        runs += ws[i].runs;
    }
    cr_assert_eq(runs, N);
    for (unsigned i = 0; i < N; i++) {
        cr_assert_eq(ws[jobs[i].ran_on].index, jobs[i].ran_on);
    }
}

Test(workq, depth_bounds_the_pending_jobs) {
    wstate ws = {0};
    void *wp = &ws;
    sl__workq *q = NULL;
    cr_assert_eq(sl__workq_new(1, &wp, work, 2, &q, NULL), SL_OK);
    job a = {.id = 1, .sleep_us = 2000}, b = {.id = 2}, c = {.id = 3};
    cr_assert_eq(sl__workq_submit(q, &a), SL_OK);
    cr_assert_eq(sl__workq_submit(q, &b), SL_OK);
    cr_assert_eq(sl__workq_submit(q, &c), SL_ELIMIT);
    cr_assert_eq(sl__workq_pending(q), 2);
    cr_assert_eq(sl__workq_depth(q), 2);
    cr_assert_eq(sl__workq_collect(q), &a);
    cr_assert_eq(sl__workq_submit(q, &c), SL_OK);
    cr_assert_eq(sl__workq_collect(q), &b);
    cr_assert_eq(sl__workq_collect(q), &c);
    cr_assert_eq(c.value, 10);
    sl__workq_free(q);
}

Test(workq, free_runs_pending_jobs_and_joins) {
    wstate ws[2] = {{.index = 0}, {.index = 1}};
    void *wp[2] = {&ws[0], &ws[1]};
    sl__workq *q = NULL;
    cr_assert_eq(sl__workq_new(2, wp, work, 4, &q, NULL), SL_OK);
    job j[4];
    for (unsigned i = 0; i < 4; i++) {
        j[i] = (job){.id = i, .sleep_us = 500};
        cr_assert_eq(sl__workq_submit(q, &j[i]), SL_OK);
    }
    sl__workq_free(q);
    for (unsigned i = 0; i < 4; i++) {
        cr_assert_eq(j[i].value, i * 3 + 1);
    }
    cr_assert_eq(ws[0].runs + ws[1].runs, 4);
    sl__workq_free(NULL);
}

Test(workq, bad_arguments) {
    void *wp = NULL;
    sl__workq *q = NULL;
    sl_error err = {0};
    cr_assert_eq(sl__workq_new(0, &wp, work, 1, &q, &err), SL_EINVAL);
    cr_assert_eq(sl__workq_new(1, &wp, work, 0, &q, &err), SL_EINVAL);
    cr_assert_eq(sl__workq_new(1, &wp, NULL, 1, &q, &err), SL_EINVAL);
    cr_assert_null(q);
}

typedef struct each_state {
    pthread_t self; /* the thread each_fn ran on */
    unsigned calls;
    unsigned arg;
} each_state;

static void each_fn(void *worker, void *arg) {
    each_state *w = worker;
    w->self = pthread_self();
    w->calls++;
    w->arg = *(unsigned *)arg;
}

static void each_job(void *worker, void *jp) {
    each_state *w = worker;
    job *j = jp;
    /* a job runs on the thread each_fn ran on for this worker */
    j->ran_on = pthread_equal(w->self, pthread_self()) ? 1 : 0;
    struct timespec ts = {0, (long)j->sleep_us * 1000};
    nanosleep(&ts, NULL);
}

Test(workq, each_runs_once_on_every_workers_own_thread) {
    enum {
        WORKERS = 3
    };
    each_state ws[WORKERS] = {0};
    void *wp[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        wp[i] = &ws[i];
    }
    sl__workq *q = NULL;
    cr_assert_eq(sl__workq_new(WORKERS, wp, each_job, 4, &q, NULL), SL_OK);
    unsigned arg = 7;
    cr_assert_eq(sl__workq_each(q, each_fn, &arg), SL_OK);
    for (int i = 0; i < WORKERS; i++) {
        cr_assert_eq(ws[i].calls, 1, "worker %d ran it %u times", i,
                     ws[i].calls);
        cr_assert_eq(ws[i].arg, 7);
        cr_assert(!pthread_equal(ws[i].self, pthread_self()),
                  "worker %d ran it on the owner's thread", i);
        for (int k = 0; k < i; k++) {
            cr_assert(!pthread_equal(ws[i].self, ws[k].self),
                      "workers %d and %d share a thread", k, i);
        }
    }
    /* jobs run on the same threads */
    job j[6];
    for (unsigned i = 0; i < 6; i++) {
        j[i] = (job){.id = i, .sleep_us = 300, .ran_on = -1};
        cr_assert_eq(
            sl__workq_submit(q, &j[i]) == SL_OK ||
                (sl__workq_collect(q) && sl__workq_submit(q, &j[i]) == SL_OK),
            1);
    }
    /* not while a job is pending */
    arg = 8;
    cr_assert_eq(sl__workq_each(q, each_fn, &arg), SL_EINVAL);
    while (sl__workq_collect(q)) {
    }
    for (unsigned i = 0; i < 6; i++) {
        cr_assert_eq(j[i].ran_on, 1, "job %u ran on its worker's thread", i);
    }
    /* again once idle: every worker once more */
    cr_assert_eq(sl__workq_each(q, each_fn, &arg), SL_OK);
    for (int i = 0; i < WORKERS; i++) {
        cr_assert_eq(ws[i].calls, 2);
        cr_assert_eq(ws[i].arg, 8);
    }
    sl__workq_free(q);
}

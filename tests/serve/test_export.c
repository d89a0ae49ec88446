/* tests/serve/test_export.c: the exporter thread (src/serve/export.c) with
 * the on-disk queue and --output: a stop delivers everything pushed before
 * it, also a push that lands while the thread reads the queue and finds it
 * empty (the SIGTERM race: the workers' last batch, their join and the
 * stop all between that read and the thread's next look at the stop). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "serve/export.h"

typedef struct fixture {
    char dir[256]; /* the queue directory */
    char out[300]; /* --output */
    sl__serve *srv;
} fixture;

static void fixture_open(fixture *f) {
    snprintf(f->dir, sizeof(f->dir), "/tmp/sluice-export-XXXXXX");
    cr_assert_not_null(mkdtemp(f->dir));
    snprintf(f->out, sizeof(f->out), "%s.out", f->dir);
    f->srv = calloc(1, sizeof(*f->srv));
    cr_assert_not_null(f->srv);
    f->srv->opts.output = f->out;
    f->srv->opts.queue_dir = f->dir;
    f->srv->opts.queue_bytes = 1u << 20;
    f->srv->opts.drain_timeout_ms = 10000;
}

static void fixture_close(fixture *f) {
    DIR *d = opendir(f->dir);
    if (d) {
        for (struct dirent *de = readdir(d); de; de = readdir(d)) {
            if (de->d_name[0] != '.') {
                char p[600];
                snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
                unlink(p);
            }
        }
        closedir(d);
    }
    rmdir(f->dir);
    unlink(f->out);
    free(f->srv);
}

static size_t count_lines(const char *path) {
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "%s", path);
    size_t n = 0;
    for (int c = fgetc(fp); c != EOF; c = fgetc(fp)) {
        n += c == '\n';
    }
    fclose(fp);
    return n;
}

static void push_line(sl__serve_export *ex, int i) {
    char line[64];
    int n = snprintf(line, sizeof(line), "{\"request\":%d}\n", i);
    cr_assert_eq(
        sl__serve_export_push(ex, SL_SIGNAL_LOG, line, (size_t)n, 1, NULL),
        SL_OK);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The race, made wide: on the first empty read after `armed`, the hook
 * (on the exporter thread, between its read and its next look) pushes
 * LATE requests, lets the stopper thread call sl__serve_export_stop, and
 * waits long enough for the stop to be recorded before it returns. */
enum {
    LATE = 5
};

typedef struct race {
    sl__serve_export *ex;
    atomic_bool armed;
    atomic_bool pushed;   /* the hook's pushes are done */
    atomic_bool stopping; /* the stopper is about to call stop */
} race;

static void push_then_wait_for_stop(void *arg) {
    race *r = arg;
    if (!atomic_exchange(&r->armed, false)) {
        return;
    }
    for (int i = 0; i < LATE; i++) {
        push_line(r->ex, 100 + i);
    }
    atomic_store(&r->pushed, true);
    while (!atomic_load(&r->stopping)) {
        sleep_ms(1);
    }
    sleep_ms(300); /* the stop takes ex->mu and sets its flag meanwhile */
}

static void *stopper(void *arg) {
    race *r = arg;
    while (!atomic_load(&r->pushed)) {
        sleep_ms(1);
    }
    atomic_store(&r->stopping, true);
    sl__serve_export_stop(r->ex);
    return NULL;
}

Test(export, a_push_during_an_empty_read_of_the_disk_queue_survives_the_stop) {
    fixture f;
    fixture_open(&f);
    sl__serve_export *ex = sl__serve_export_start(f.srv);
    cr_assert_not_null(ex);
    race r = {.ex = ex};
    atomic_init(&r.armed, false);
    atomic_init(&r.pushed, false);
    atomic_init(&r.stopping, false);
    sl__serve_export_on_empty(ex, push_then_wait_for_stop, &r);
    atomic_store(&r.armed, true);
    /* wakes the thread: it delivers this one, then reads the queue empty */
    push_line(ex, 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, stopper, &r), 0);
    pthread_join(t, NULL); /* returns once the exporter is stopped */
    cr_assert(atomic_load(&r.pushed), "the hook never ran");
    cr_assert_eq(count_lines(f.out), 1 + LATE,
                 "every request pushed before the stop is in --output");
    /* and nothing stays behind for the next start */
    sl__serve_export *again = sl__serve_export_start(f.srv);
    cr_assert_not_null(again);
    cr_assert_eq(atomic_load(&f.srv->m.spool_replayed), 0);
    sl__serve_export_stop(again);
    cr_assert_eq(count_lines(f.out), 1 + LATE, "nothing delivered twice");
    fixture_close(&f);
}

Test(export, a_stop_right_after_pushes_delivers_them_all_both_queues) {
    for (int disk = 0; disk < 2; disk++) {
        fixture f;
        fixture_open(&f);
        if (!disk) {
            f.srv->opts.queue_dir = NULL;
        }
        sl__serve_export *ex = sl__serve_export_start(f.srv);
        cr_assert_not_null(ex);
        for (int i = 0; i < 200; i++) {
            push_line(ex, i);
        }
        sl__serve_export_stop(ex);
        cr_assert_eq(count_lines(f.out), 200, "%s queue",
                     disk ? "disk" : "memory");
        fixture_close(&f);
    }
}

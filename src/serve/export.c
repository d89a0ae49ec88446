/* src/serve/export.c: the export queue and its thread (see export.h).
 * One thread keeps the output's order (requests leave in the order they
 * were acknowledged) and makes retries simple: the head of the queue stays
 * until it is delivered, so nothing acknowledged is dropped while the
 * target is down; the queue fills and receivers push back instead. */
#include "serve/export.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "serve/sender.h"
#include "serve/log.h"

typedef struct item {
    struct item *next;
    sl_signal sig;
    size_t len, records;
    char data[];
} item;

struct sl__serve_export {
    sl__serve *srv;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    item *head, *tail;
    size_t bytes; /* queued data bytes */
    bool stopping;
    uint64_t stop_deadline_ms;
    FILE *out;          /* --output */
    bool out_is_stdout;
    size_t out_size;    /* bytes in the current output file */
    sl__serve_sender *fwd; /* --forward, --forward-grpc */
    unsigned backoff_ms;
};

static void item_free(item *it) {
    sl__free(it, sizeof(*it) + it->len);
}

bool sl__serve_export_admit(const sl__serve_export *ex) {
    return atomic_load_explicit(&ex->srv->m.queue_bytes,
                                memory_order_relaxed) <
           ex->srv->opts.queue_bytes;
}

sl_status sl__serve_export_push(sl__serve_export *ex, sl_signal sig,
                                const char *data, size_t len, size_t records) {
    if (ex->fwd && records == 0) {
        return SL_OK; /* nothing kept: nothing to forward */
    }
    item *it = sl__alloc(sizeof(*it) + len);
    if (!it) {
        return SL_ENOMEM;
    }
    it->next = NULL;
    it->sig = sig;
    it->len = len;
    it->records = records;
    memcpy(it->data, data, len);
    pthread_mutex_lock(&ex->mu);
    if (ex->tail) {
        ex->tail->next = it;
    } else {
        ex->head = it;
    }
    ex->tail = it;
    ex->bytes += len;
    atomic_fetch_add(&ex->srv->m.queue_bytes, len);
    atomic_fetch_add(&ex->srv->m.queue_items, 1);
    pthread_cond_signal(&ex->cv);
    pthread_mutex_unlock(&ex->mu);
    return SL_OK;
}

/* Rename FILE to FILE.1 (replacing it) and start a new FILE. */
static void rotate(sl__serve_export *ex) {
    const char *path = ex->srv->opts.output;
    fclose(ex->out);
    char old[4096];
    snprintf(old, sizeof(old), "%s.1", path);
    if (rename(path, old) != 0) {
        sl__serve_log(SL_SERVE_WARN, "output: cannot rotate %s: %s", path,
                      strerror(errno));
    }
    ex->out = fopen(path, "ab");
    ex->out_size = 0;
    if (!ex->out) {
        sl__serve_log(SL_SERVE_ERROR, "output: cannot reopen %s: %s", path,
                      strerror(errno));
    }
}

/* Write one request's line. false when the output failed (retried). */
static bool write_output(sl__serve_export *ex, const item *it) {
    size_t rot = ex->srv->opts.rotate_bytes;
    if (!ex->out_is_stdout && rot > 0 && ex->out_size > 0 &&
        ex->out_size + it->len > rot) {
        fflush(ex->out);
        rotate(ex);
    }
    if (!ex->out || fwrite(it->data, 1, it->len, ex->out) != it->len) {
        return false;
    }
    ex->out_size += it->len;
    return true;
}

static uint64_t deliver(sl__serve_export *ex, const item *it, bool *done) {
    sl__serve_metrics *m = &ex->srv->m;
    if (!ex->fwd) {
        *done = write_output(ex, it);
        if (!*done) {
            atomic_fetch_add(&m->export_failures, 1);
            return 1000;
        }
        return 0;
    }
    unsigned retry_after = 0;
    int status = 0;
    atomic_fetch_add(&m->export_requests, 1);
    sl__forward_result r = sl__serve_sender_send(ex->fwd, it->sig, it->data,
                                                 it->len, &retry_after,
                                                 &status);
    if (r == SL_FORWARD_OK) {
        ex->backoff_ms = 0;
        *done = true;
        return 0;
    }
    atomic_fetch_add(&m->export_failures, 1);
    if (r == SL_FORWARD_PERMANENT) {
        /* the target refuses this request for good: never silent */
        atomic_fetch_add(&m->export_dropped, 1);
        sl__serve_log(SL_SERVE_ERROR,
                      "forward: target answered %d, dropping one request of "
                      "%zu record(s)",
                      status, it->records);
        *done = true;
        return 0;
    }
    ex->backoff_ms = ex->backoff_ms ? ex->backoff_ms * 2 : 100;
    if (ex->backoff_ms > 5000) {
        ex->backoff_ms = 5000;
    }
    uint64_t wait = retry_after ? retry_after : ex->backoff_ms;
    sl__serve_log(SL_SERVE_WARN,
                  "forward: delivery failed (status %d), retrying in %llu ms",
                  status, (unsigned long long)wait);
    atomic_fetch_add(&m->export_retries, 1);
    *done = false;
    return wait;
}

static void deadline_in(struct timespec *ts, uint64_t ms) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *run(void *arg) {
    sl__serve_export *ex = arg;
    sl__serve_metrics *m = &ex->srv->m;
    pthread_mutex_lock(&ex->mu);
    for (;;) {
        while (!ex->head && !ex->stopping) {
            if (ex->out) {
                fflush(ex->out); /* idle: everything written is visible */
            }
            struct timespec ts;
            deadline_in(&ts, 1000);
            pthread_cond_timedwait(&ex->cv, &ex->mu, &ts);
        }
        if (!ex->head) {
            break; /* stopping and drained */
        }
        if (ex->stopping && sl__serve_now_ms() > ex->stop_deadline_ms) {
            break;
        }
        item *it = ex->head;
        pthread_mutex_unlock(&ex->mu);
        bool done = false;
        uint64_t wait = deliver(ex, it, &done);
        pthread_mutex_lock(&ex->mu);
        if (done) {
            ex->head = it->next;
            if (!ex->head) {
                ex->tail = NULL;
            }
            ex->bytes -= it->len;
            atomic_fetch_sub(&m->queue_bytes, it->len);
            atomic_fetch_sub(&m->queue_items, 1);
            item_free(it);
            continue;
        }
        if (ex->stopping) {
            uint64_t now = sl__serve_now_ms();
            if (now >= ex->stop_deadline_ms) {
                break;
            }
            if (now + wait > ex->stop_deadline_ms) {
                wait = ex->stop_deadline_ms - now;
            }
        }
        struct timespec ts;
        deadline_in(&ts, wait);
        /* woken early only by stop: then the deadline is re-checked */
        pthread_cond_timedwait(&ex->cv, &ex->mu, &ts);
    }
    size_t lost = 0, lost_records = 0;
    for (item *it = ex->head; it; it = it->next) {
        lost++;
        lost_records += it->records;
    }
    pthread_mutex_unlock(&ex->mu);
    if (lost) {
        sl__serve_log(SL_SERVE_ERROR,
                      "export: drain timeout: %zu request(s), %zu record(s) "
                      "not delivered",
                      lost, lost_records);
    }
    return NULL;
}

sl__serve_export *sl__serve_export_start(sl__serve *srv) {
    sl__serve_export *ex = sl__calloc(1, sizeof(*ex));
    if (!ex) {
        sl__serve_log(SL_SERVE_ERROR, "export: out of memory");
        return NULL;
    }
    ex->srv = srv;
    const sl__serve_opts *o = &srv->opts;
    if (o->forward || o->forward_grpc) {
        sl_error err = {0};
        ex->fwd = sl__serve_sender_new(o, &err);
        if (!ex->fwd) {
            sl__serve_log(SL_SERVE_ERROR, "--forward%s %s: %s",
                          o->forward_grpc ? "-grpc" : "",
                          o->forward_grpc ? o->forward_grpc : o->forward,
                          err.msg);
            sl__free(ex, sizeof(*ex));
            return NULL;
        }
    } else if (!o->output || strcmp(o->output, "-") == 0) {
        ex->out = stdout;
        ex->out_is_stdout = true;
    } else {
        ex->out = fopen(o->output, "ab");
        if (!ex->out) {
            sl__serve_log(SL_SERVE_ERROR, "--output %s: %s", o->output,
                          strerror(errno));
            sl__free(ex, sizeof(*ex));
            return NULL;
        }
        long pos = ftell(ex->out);
        ex->out_size = pos > 0 ? (size_t)pos : 0;
    }
    pthread_mutex_init(&ex->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ex->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&ex->thread, NULL, run, ex) != 0) {
        sl__serve_log(SL_SERVE_ERROR, "export: cannot start thread");
        if (ex->out && !ex->out_is_stdout) {
            fclose(ex->out);
        }
        sl__serve_sender_free(ex->fwd);
        pthread_cond_destroy(&ex->cv);
        pthread_mutex_destroy(&ex->mu);
        sl__free(ex, sizeof(*ex));
        return NULL;
    }
    return ex;
}

void sl__serve_export_stop(sl__serve_export *ex) {
    if (!ex) {
        return;
    }
    pthread_mutex_lock(&ex->mu);
    ex->stopping = true;
    ex->stop_deadline_ms =
        sl__serve_now_ms() + ex->srv->opts.drain_timeout_ms;
    pthread_cond_signal(&ex->cv);
    pthread_mutex_unlock(&ex->mu);
    pthread_join(ex->thread, NULL);
    while (ex->head) {
        item *it = ex->head;
        ex->head = it->next;
        item_free(it);
    }
    if (ex->out) {
        if (fflush(ex->out) != 0) {
            sl__serve_log(SL_SERVE_ERROR, "output: write failed");
        }
        if (!ex->out_is_stdout) {
            fclose(ex->out);
        }
    }
    sl__serve_sender_free(ex->fwd);
    pthread_cond_destroy(&ex->cv);
    pthread_mutex_destroy(&ex->mu);
    sl__free(ex, sizeof(*ex));
}

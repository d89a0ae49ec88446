/* src/serve/export.c: the export queue and its thread (see export.h).
 * One thread keeps the output's order (requests leave in the order they
 * were acknowledged) and makes retries simple: the head of the queue stays
 * until it is delivered, so nothing acknowledged is dropped while the
 * target is down; the queue fills and receivers push back instead.
 * The queue lives in memory (a list of items) or, with --queue-dir, in the
 * spool (spool.h); this file only decides where the bytes are, deliver()
 * does not know. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "serve/export.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "serve/log.h"
#include "serve/sender.h"
#include "serve/spool.h"

typedef struct item {
    struct item *next;
    sl_signal sig;
    size_t len, records;
    const char *data; /* memory queue: the bytes after the item */
} item;

struct sl__serve_export {
    sl__serve *srv;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    item *head, *tail;
    size_t bytes;     /* queued data bytes */
    sl__spool *spool; /* --queue-dir: the queue is on disk, head is NULL */
    uint64_t pushed;  /* pushes so far: no wake-up is lost */
    bool stopping;
    uint64_t stop_deadline_ms;
    FILE *out; /* --output */
    bool out_is_stdout;
    size_t out_size;       /* bytes in the current output file */
    sl__serve_sender *fwd; /* --forward, --forward-grpc */
    unsigned backoff_ms;
    void (*on_empty)(void *); /* tests: see sl__serve_export_on_empty */
    void *on_empty_arg;
};

static void item_free(item *it) {
    sl__free(it, sizeof(*it) + it->len);
}

/* Copy the spool's counters to /metrics. Under ex->mu, so that the last
 * copy made is of the latest counts (a worker's older read cannot land
 * after the exporter's newer one). Called without ex->mu held. */
static void spool_publish(sl__serve_export *ex) {
    pthread_mutex_lock(&ex->mu);
    sl__spool_stats st;
    sl__spool_stats_get(ex->spool, &st);
    sl__serve_metrics *m = &ex->srv->m;
    atomic_store(&m->queue_bytes, st.pending_bytes);
    atomic_store(&m->queue_items, st.pending_entries);
    atomic_store(&m->spool_disk_bytes, st.disk_bytes);
    atomic_store(&m->spool_replayed, st.replayed);
    atomic_store(&m->spool_torn, st.torn);
    atomic_store(&m->spool_appends, st.appends);
    atomic_store(&m->spool_syncs, st.syncs);
    pthread_mutex_unlock(&ex->mu);
}

bool sl__serve_export_admit(const sl__serve_export *ex) {
    if (ex->spool) {
        return sl__spool_has_room(ex->spool);
    }
    return atomic_load_explicit(&ex->srv->m.queue_bytes, memory_order_relaxed) <
           ex->srv->opts.queue_bytes;
}

sl_status sl__serve_export_push(sl__serve_export *ex, sl_signal sig,
                                const char *data, size_t len, size_t records,
                                uint64_t *commit) {
    if (ex->fwd && records == 0) {
        return SL_OK; /* nothing kept: nothing to forward */
    }
    if (ex->spool) {
        sl_error err = {0};
        uint32_t n = records > UINT32_MAX ? UINT32_MAX : (uint32_t)records;
        uint64_t gen = 0;
        sl_status rc =
            sl__spool_write(ex->spool, sig, n, data, len, &gen, &err);
        if (rc == SL_OK && commit) {
            *commit = gen > *commit ? gen : *commit;
        } else if (rc == SL_OK) {
            rc = sl__spool_commit(ex->spool, gen, &err);
        }
        if (rc != SL_OK) {
            sl__serve_log(SL_SERVE_ERROR, "queue: %s", err.msg);
            return rc;
        }
        spool_publish(ex);
        pthread_mutex_lock(&ex->mu);
        ex->pushed++;
        pthread_cond_signal(&ex->cv);
        pthread_mutex_unlock(&ex->mu);
        return SL_OK;
    }
    item *it = sl__alloc(sizeof(*it) + len);
    if (!it) {
        return SL_ENOMEM;
    }
    it->next = NULL;
    it->sig = sig;
    it->len = len;
    it->records = records;
    it->data = (const char *)(it + 1);
    memcpy(it + 1, data, len);
    pthread_mutex_lock(&ex->mu);
    if (ex->tail) {
        ex->tail->next = it;
    } else {
        ex->head = it;
    }
    ex->tail = it;
    ex->pushed++;
    ex->bytes += len;
    atomic_fetch_add(&ex->srv->m.queue_bytes, len);
    atomic_fetch_add(&ex->srv->m.queue_items, 1);
    pthread_cond_signal(&ex->cv);
    pthread_mutex_unlock(&ex->mu);
    return SL_OK;
}

sl_status sl__serve_export_commit(sl__serve_export *ex, uint64_t commit) {
    if (!ex->spool || commit == 0) {
        return SL_OK;
    }
    sl_error err = {0};
    sl_status rc = sl__spool_commit(ex->spool, commit, &err);
    if (rc != SL_OK) {
        sl__serve_log(SL_SERVE_ERROR, "queue: %s", err.msg);
    }
    spool_publish(ex);
    return rc;
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
    sl__forward_result r = sl__serve_sender_send(
        ex->fwd, it->sig, it->data, it->len, &retry_after, &status);
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

/* The oldest request: the memory queue's head, or the spool's oldest entry
 * described by *tmp (its bytes borrowed until the next peek or ack).
 * Called with ex->mu held; the spool is read without it. */
static item *next_item(sl__serve_export *ex, item *tmp) {
    if (!ex->spool) {
        return ex->head;
    }
    void (*hook)(void *) = ex->on_empty;
    void *hook_arg = ex->on_empty_arg;
    pthread_mutex_unlock(&ex->mu);
    sl__spool_entry e;
    sl_error err = {0};
    sl_status rc = sl__spool_peek(ex->spool, &e, &err);
    spool_publish(ex); /* a skipped corrupt entry changes the counts */
    if (rc == SL_ENOTFOUND && hook) {
        hook(hook_arg);
    }
    pthread_mutex_lock(&ex->mu);
    if (rc != SL_OK) {
        if (rc != SL_ENOTFOUND) {
            sl__serve_log(SL_SERVE_ERROR, "queue: %s", err.msg);
        }
        return NULL;
    }
    *tmp = (item){NULL, e.sig, e.len, e.records, e.data};
    return tmp;
}

/* The delivered spool entry leaves the queue directory. --output is
 * flushed first: an acked entry is in the output file. false: retry. */
static bool spool_done(sl__serve_export *ex) {
    if (ex->out && fflush(ex->out) != 0) {
        sl__serve_log(SL_SERVE_ERROR, "output: write failed");
        return false;
    }
    sl_error err = {0};
    if (sl__spool_ack(ex->spool, &err) != SL_OK) {
        /* delivered; the cursor did not move: at worst delivered again */
        sl__serve_log(SL_SERVE_ERROR, "queue: %s", err.msg);
    }
    spool_publish(ex);
    return true;
}

static void *run(void *arg) {
    sl__serve_export *ex = arg;
    sl__serve_metrics *m = &ex->srv->m;
    pthread_mutex_lock(&ex->mu);
    for (;;) {
        item tmp;
        item *it = NULL;
        for (;;) {
            uint64_t gen = ex->pushed;
            it = next_item(ex, &tmp);
            if (it) {
                break;
            }
            /* the spool is read without ex->mu: a push (and then the stop
             * that follows the workers' join) can land while it is read,
             * so an empty read counts only when nothing was pushed during
             * it, also when stopping */
            if (ex->pushed != gen) {
                continue;
            }
            if (ex->stopping) {
                break;
            }
            if (ex->out) {
                /* idle: everything written is visible. Not under ex->mu:
                 * a slow disk would stall every worker's push; out is
                 * this thread's alone. A push or a stop during it is
                 * seen below. */
                pthread_mutex_unlock(&ex->mu);
                fflush(ex->out);
                pthread_mutex_lock(&ex->mu);
                if (ex->pushed != gen || ex->stopping) {
                    continue; /* its signal came while unlocked */
                }
            }
            struct timespec ts;
            deadline_in(&ts, 1000);
            pthread_cond_timedwait(&ex->cv, &ex->mu, &ts);
        }
        if (!it) {
            break; /* stopping and drained */
        }
        if (ex->stopping && sl__serve_now_ms() > ex->stop_deadline_ms) {
            break;
        }
        pthread_mutex_unlock(&ex->mu);
        bool done = false;
        uint64_t wait = deliver(ex, it, &done);
        if (done && ex->spool && !spool_done(ex)) {
            done = false;
            wait = 1000;
        }
        pthread_mutex_lock(&ex->mu);
        if (done && ex->spool) {
            continue;
        }
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
    if (ex->spool) {
        sl__spool_stats st;
        sl__spool_stats_get(ex->spool, &st);
        if (st.pending_entries) {
            sl__serve_log(SL_SERVE_WARN,
                          "export: drain timeout: %llu request(s) stay in "
                          "the queue directory for the next start",
                          (unsigned long long)st.pending_entries);
        }
    }
    if (lost) {
        sl__serve_log(SL_SERVE_ERROR,
                      "export: drain timeout: %zu request(s), %zu record(s) "
                      "not delivered",
                      lost, lost_records);
    }
    return NULL;
}

/* --queue-dir: open the spool (replay what a previous run left). */
static bool spool_start(sl__serve_export *ex) {
    const sl__serve_opts *o = &ex->srv->opts;
    sl__spool_opts so = {.dir = o->queue_dir,
                         .max_bytes = o->queue_bytes,
                         .fsync = (sl__spool_fsync)o->queue_fsync};
    sl_error err = {0};
    if (sl__spool_open(&so, &ex->spool, &err) != SL_OK) {
        sl__serve_log(SL_SERVE_ERROR, "--queue-dir %s", err.msg);
        return false;
    }
    spool_publish(ex);
    sl__serve_metrics *m = &ex->srv->m;
    sl__serve_log(SL_SERVE_INFO,
                  "queue: %s: %llu request(s) to replay, %llu torn "
                  "entr(ies) skipped",
                  o->queue_dir,
                  (unsigned long long)atomic_load(&m->spool_replayed),
                  (unsigned long long)atomic_load(&m->spool_torn));
    return true;
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
    if (o->queue_dir && !spool_start(ex)) {
        goto fail;
    }
    if (pthread_create(&ex->thread, NULL, run, ex) != 0) {
        sl__serve_log(SL_SERVE_ERROR, "export: cannot start thread");
        goto fail;
    }
    pthread_setname_np(ex->thread, "sl-export"); /* best effort */
    return ex;
fail:
    if (ex->out && !ex->out_is_stdout) {
        fclose(ex->out);
    }
    sl__spool_close(ex->spool);
    sl__serve_sender_free(ex->fwd);
    pthread_cond_destroy(&ex->cv);
    pthread_mutex_destroy(&ex->mu);
    sl__free(ex, sizeof(*ex));
    return NULL;
}

void sl__serve_export_on_empty(sl__serve_export *ex, void (*fn)(void *),
                               void *arg) {
    pthread_mutex_lock(&ex->mu);
    ex->on_empty = fn;
    ex->on_empty_arg = arg;
    pthread_mutex_unlock(&ex->mu);
}

void sl__serve_export_stop(sl__serve_export *ex) {
    if (!ex) {
        return;
    }
    pthread_mutex_lock(&ex->mu);
    ex->stopping = true;
    ex->stop_deadline_ms = sl__serve_now_ms() + ex->srv->opts.drain_timeout_ms;
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
    sl__spool_close(ex->spool); /* what is left stays for the next start */
    sl__serve_sender_free(ex->fwd);
    pthread_cond_destroy(&ex->cv);
    pthread_mutex_destroy(&ex->mu);
    sl__free(ex, sizeof(*ex));
}

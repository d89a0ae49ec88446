/* src/serve/provider_http.c: the periodic HTTP policy sync of `sluice
 * serve` (provider_http.h). The sync and the rebuild it may cause run under
 * srv->build_mu, the lock every snapshot rebuild takes (file reloads too),
 * so the provider's document never changes under a rebuild and the
 * snapshot always holds the files and the provider's latest policies. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "serve/provider_http.h"

#include <errno.h>
#include <time.h>

#include "base/base.h"
#include "serve/log.h"
#include "serve/serve.h"
#include "serve/sync.h"

enum {
    DEFAULT_INTERVAL_S = 60
};

struct sl__serve_provider {
    sl__serve *srv;
    sl__sync *sync;
    pthread_t thread;
    bool started, stop;
    pthread_mutex_t mu; /* stop */
    pthread_cond_t cv;
};

sl__serve_provider *sl__serve_provider_new(sl__serve *srv, const char *url,
                                           sl_error *err) {
    sl__serve_provider *p = sl__calloc(1, sizeof(*p));
    if (!p) {
        sl__nomem(err);
        return NULL;
    }
    p->srv = srv;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    bool changed = false;
    sl__serve_client_opts co = {.ca_file = srv->opts.policy_ca,
                                .proto = srv->opts.policy_proto,
                                .gzip = srv->opts.policy_compress ==
                                        SL_SERVE_COMPRESS_GZIP};
    p->sync = sl__sync_new(url, &co, err);
    if (!p->sync || sl__sync_run(p->sync, NULL, &changed, err) != SL_OK) {
        sl__serve_provider_free(p);
        return NULL;
    }
    sl__serve_log(SL_SERVE_INFO, "policy provider %s: first sync done", url);
    return p;
}

const sl_doc *sl__serve_provider_doc(const sl__serve_provider *p) {
    return sl__sync_doc(p->sync);
}

void sl__serve_provider_compiled(sl__serve_provider *p,
                                 const sl_policy_set *set) {
    if (sl__sync_compiled(p->sync, set) != SL_OK) {
        sl__serve_log(SL_SERVE_WARN, "policy provider: out of memory noting "
                                     "compile errors; not reported");
    }
}

/* Wait s seconds or until stopped; true when stopped. */
static bool wait_or_stop(sl__serve_provider *p, uint32_t s) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)s;
    pthread_mutex_lock(&p->mu);
    while (!p->stop &&
           pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT) {
    }
    bool stop = p->stop;
    pthread_mutex_unlock(&p->mu);
    return stop;
}

static void *run(void *arg) {
    sl__serve_provider *p = arg;
    sl__serve *srv = p->srv;
    for (;;) {
        uint32_t s = sl__sync_interval(p->sync);
        if (wait_or_stop(p, s == 0 ? DEFAULT_INTERVAL_S : s)) {
            return NULL;
        }
        pthread_mutex_lock(&srv->build_mu);
        sl__serve_snap *cur = sl__serve_snap_acquire(srv);
        sl_error err = {0};
        bool changed = false;
        sl_status rc = sl__sync_run(p->sync, cur->set, &changed, &err);
        sl__serve_snap_release(srv, cur);
        if (rc != SL_OK) {
            char where[768];
            sl_error_format(&err, where, sizeof(where));
            atomic_fetch_add(&srv->m.sync_failed, 1);
            sl__serve_log(SL_SERVE_ERROR,
                          "policy sync failed, keeping the previous "
                          "policies: %s",
                          where);
        } else {
            atomic_fetch_add(&srv->m.sync_ok, 1);
            if (changed) {
                sl__serve_log(SL_SERVE_INFO,
                              "policy provider sent new policies: reloading");
                sl__serve_rebuild_locked(srv);
            }
        }
        pthread_mutex_unlock(&srv->build_mu);
    }
}

bool sl__serve_provider_start(sl__serve_provider *p) {
    p->started = pthread_create(&p->thread, NULL, run, p) == 0;
    if (p->started) {
        pthread_setname_np(p->thread, "sl-sync"); /* best effort */
    }
    return p->started;
}

void sl__serve_provider_free(sl__serve_provider *p) {
    if (!p) {
        return;
    }
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->stop = true;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
    }
    sl__sync_free(p->sync);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    sl__free(p, sizeof(*p));
}

/* src/serve/serve.c: start, reload, drain (see serve.h), and the shared
 * snapshot: one compiled policy set used by every worker, replaced as a
 * whole on reload. Workers notice a new generation between requests, make
 * a context for it and let the old snapshot go; the last holder frees it,
 * so a reload never waits for requests and no request sees half a swap.
 * Signals are blocked in every thread and read by the main thread from a
 * signalfd: no work in signal handlers. The same loop watches the policy
 * files' folders with inotify (a file written and closed, or renamed into
 * place, as editors and config managers do) and reloads 200 ms after the
 * last change, as SIGHUP would. */
#include "serve/serve.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "serve/export.h"
#include "serve/log.h"
#include "serve/net.h"
#include "serve/provider_http.h"

const uint64_t sl__serve_lat_bounds_us[SL_SERVE_NBUCKETS] = {
    100,   250,   500,   1000,   2500,   5000,
    10000, 25000, 50000, 100000, 250000, 1000000};

uint64_t sl__serve_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t sl__serve_now_ms(void) {
    return sl__serve_now_us() / 1000u;
}

sl__serve_snap *sl__serve_snap_acquire(sl__serve *srv) {
    pthread_mutex_lock(&srv->snap_mu);
    sl__serve_snap *s = srv->snap;
    s->refs++;
    pthread_mutex_unlock(&srv->snap_mu);
    return s;
}

void sl__serve_snap_release(sl__serve *srv, sl__serve_snap *s) {
    pthread_mutex_lock(&srv->snap_mu);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&srv->snap_mu);
    if (last) {
        sl_policy_set_free(s->set);
        sl__free(s, sizeof(*s));
    }
}

bool sl__serve_snap_publish(sl__serve *srv, sl_policy_set *set) {
    sl__serve_snap *s = sl__calloc(1, sizeof(*s));
    if (!s) {
        return false;
    }
    s->set = set;
    s->refs = 1; /* the server's, while current */
    pthread_mutex_lock(&srv->snap_mu);
    sl__serve_snap *old = srv->snap;
    s->gen = old ? old->gen + 1 : 1;
    srv->snap = s;
    atomic_store_explicit(&srv->snap_gen, s->gen, memory_order_release);
    pthread_mutex_unlock(&srv->snap_mu);
    if (old) {
        sl__serve_snap_release(srv, old);
    }
    return true;
}

void sl__serve_opts_defaults(sl__serve_opts *o) {
    if (!o->http) {
        o->http = "127.0.0.1:4318";
    }
    if (!o->grpc) {
        o->grpc = "127.0.0.1:4317";
    }
    if (!o->admin) {
        o->admin = "127.0.0.1:8888";
    }
    if (o->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o->threads = n > 0 ? (unsigned)n : 1;
    }
    if (o->threads > SL_SERVE_MAX_THREADS) {
        o->threads = SL_SERVE_MAX_THREADS;
    }
    if (o->max_body == 0) {
        o->max_body = 20u << 20;
    }
    if (o->max_decompressed == 0) {
        o->max_decompressed = 64u << 20;
    }
    if (o->max_header == 0) {
        o->max_header = 16u << 10;
    }
    if (o->max_conns == 0) {
        o->max_conns = 4096;
    }
    if (o->max_inflight == 0) {
        o->max_inflight = 512u << 20;
    }
    if (o->idle_timeout_ms == 0) {
        o->idle_timeout_ms = 60000;
    }
    if (o->read_timeout_ms == 0) {
        o->read_timeout_ms = 15000;
    }
    if (o->queue_bytes == 0) {
        o->queue_bytes = 64u << 20;
    }
    if (o->drain_timeout_ms == 0) {
        o->drain_timeout_ms = 10000;
    }
}

static void log_problems(const sl_policy_set *set) {
    for (size_t i = 0; i < sl_policy_problem_count(set); i++) {
        char line[768];
        sl_error_format(sl_policy_problem(set, i), line, sizeof(line));
        sl__serve_log(SL_SERVE_WARN, "policy problem: %s", line);
    }
    for (size_t i = 0; i < sl_policy_warning_count(set); i++) {
        char line[768];
        sl_error_format(sl_policy_warning(set, i), line, sizeof(line));
        sl__serve_log(SL_SERVE_WARN, "policy warning: %s", line);
    }
}

/* inotify on the folders of the policy files (a file's own watch would be
 * lost when an editor renames a new file over it). */
typedef struct watch {
    int fd;
    int wd[SL_SERVE_MAX_POLICY_FILES];
    const char *base[SL_SERVE_MAX_POLICY_FILES];
} watch;

static void watch_start(watch *w, const sl__serve_opts *o) {
    w->fd = o->no_watch ? -1 : inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        if (!o->no_watch) {
            sl__serve_log(SL_SERVE_WARN,
                          "cannot watch the policy files: %s (SIGHUP still "
                          "reloads)",
                          strerror(errno));
        }
        return;
    }
    for (size_t i = 0; i < o->npolicies; i++) {
        const char *path = o->policies[i];
        const char *slash = strrchr(path, '/');
        char dir[4096];
        if (slash) {
            size_t n = (size_t)(slash - path);
            snprintf(dir, sizeof(dir), "%.*s", (int)(n ? n : 1), path);
        } else {
            snprintf(dir, sizeof(dir), ".");
        }
        w->base[i] = slash ? slash + 1 : path;
        w->wd[i] = inotify_add_watch(w->fd, dir,
                                     IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
        if (w->wd[i] < 0) {
            sl__serve_log(SL_SERVE_WARN,
                          "cannot watch %s: %s (SIGHUP still "
                          "reloads)",
                          dir, strerror(errno));
        }
    }
}

/* Drain the inotify queue; true when a policy file changed. */
static bool watch_changed(const watch *w, const sl__serve_opts *o) {
    bool hit = false;
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof(buf));
        if (n <= 0) {
            return hit;
        }
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            for (size_t i = 0; ev->len && i < o->npolicies; i++) {
                if (ev->wd == w->wd[i] && strcmp(ev->name, w->base[i]) == 0) {
                    hit = true;
                }
            }
            p += sizeof(*ev) + ev->len;
        }
    }
}

/* Compile the policy files and the provider's policies (files first)
 * into a new set, a reload of prev (NULL at start). */
static sl_status build(sl__serve *srv, const sl_policy_set *prev,
                       sl_policy_set **out, sl_error *err) {
    sl_doc *docs[SL_SERVE_MAX_POLICY_FILES] = {0};
    const sl_doc *all[SL_SERVE_MAX_POLICY_FILES + 1];
    size_t n = 0;
    sl_status rc = SL_OK;
    for (; n < srv->opts.npolicies && rc == SL_OK; n++) {
        rc = sl_doc_parse_file(srv->opts.policies[n], SL_FORMAT_AUTO, NULL,
                               &docs[n], err);
        all[n] = docs[n];
    }
    const sl_doc *pd =
        srv->provider ? sl__serve_provider_doc(srv->provider) : NULL;
    if (rc == SL_OK && pd) {
        all[n++] = pd;
    }
    if (rc == SL_OK) {
        sl_policy_opts popts = {0};
        popts.regex_cache = srv->opts.regex_cache;
        rc = sl_policy_reload(prev, all, n, &popts, out, err);
    }
    if (rc == SL_OK && srv->provider) {
        sl__serve_provider_compiled(srv->provider, *out);
    }
    for (size_t i = 0; i < SL_SERVE_MAX_POLICY_FILES; i++) {
        sl_doc_free(docs[i]);
    }
    return rc;
}

void sl__serve_rebuild_locked(sl__serve *srv) {
    sl__serve_snap *cur = sl__serve_snap_acquire(srv);
    sl_error err = {0};
    sl_policy_set *next = NULL;
    sl_status rc = build(srv, cur->set, &next, &err);
    sl__serve_snap_release(srv, cur);
    if (rc == SL_OK && !sl__serve_snap_publish(srv, next)) {
        rc = sl__nomem(&err);
        sl_policy_set_free(next);
    }
    if (rc != SL_OK) {
        if (!err.msg[0]) {
            snprintf(err.msg, sizeof(err.msg), "%s", sl_status_str(rc));
        }
        char where[768];
        sl_error_format(&err, where, sizeof(where));
        atomic_fetch_add(&srv->m.reload_failed, 1);
        sl__serve_log(SL_SERVE_ERROR,
                      "policy reload failed, keeping the previous policies: "
                      "%s",
                      where);
        return;
    }
    log_problems(next);
    atomic_fetch_add(&srv->m.reload_ok, 1);
    sl__serve_log(SL_SERVE_INFO, "policies reloaded: %zu valid, %zu problem(s)",
                  sl_policy_count(next), sl_policy_problem_count(next));
}

static void reload(sl__serve *srv) {
    pthread_mutex_lock(&srv->build_mu);
    sl__serve_rebuild_locked(srv);
    pthread_mutex_unlock(&srv->build_mu);
}

int sl__serve_run(const sl__serve_opts *opts) {
    sl__serve *srv = sl__calloc(1, sizeof(*srv));
    if (!srv) {
        sl__serve_log(SL_SERVE_ERROR, "out of memory");
        return 1;
    }
    srv->opts = *opts;
    sl__serve_opts_defaults(&srv->opts);
    pthread_mutex_init(&srv->snap_mu, NULL);
    pthread_mutex_init(&srv->build_mu, NULL);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigset_t old_mask;
    pthread_sigmask(SIG_BLOCK, &sigs, &old_mask); /* every thread inherits */
    struct sigaction ign = {0}, old_pipe;
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_pipe);
    int status = 1;
    int sfd = -1;
    watch wt;
    memset(&wt, 0, sizeof(wt));
    wt.fd = -1;
    sl__serve_net *net = NULL;
    sl_error err = {0};
    sl_policy_set *set = NULL;
    sl_status rc = SL_OK;
    if (srv->opts.policy_server) {
        srv->provider =
            sl__serve_provider_new(srv, srv->opts.policy_server, &err);
        rc = srv->provider ? SL_OK : SL_EIO;
    }
    if (rc == SL_OK) {
        rc = build(srv, NULL, &set, &err);
    }
    if (rc != SL_OK) {
        if (!err.msg[0]) {
            snprintf(err.msg, sizeof(err.msg), "%s", sl_status_str(rc));
        }
        char where[768];
        sl_error_format(&err, where, sizeof(where));
        sl__serve_log(SL_SERVE_ERROR, "cannot load policies: %s", where);
        goto done;
    }
    log_problems(set);
    if (!sl__serve_snap_publish(srv, set)) {
        sl_policy_set_free(set);
        sl__serve_log(SL_SERVE_ERROR, "out of memory");
        goto done;
    }
    srv->ex = sl__serve_export_start(srv);
    if (!srv->ex) {
        goto done;
    }
    char addrs[3][SL_SERVE_ADDR_LEN];
    net = sl__serve_net_new(srv, addrs);
    if (!net || !sl__serve_net_start(net)) {
        goto done;
    }
    /* watching starts before the ready line: a change made as soon as
     * the line is seen is not missed */
    sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
    watch_start(&wt, &srv->opts);
    if (srv->provider && !sl__serve_provider_start(srv->provider)) {
        sl__serve_log(SL_SERVE_ERROR, "cannot start the policy sync thread");
        goto done;
    }
    atomic_store(&srv->ready, true);
    sl__serve_log(SL_SERVE_INFO,
                  "serving: %zu policies, %u worker thread(s), output %s",
                  sl_policy_count(set), srv->opts.threads,
                  srv->opts.forward        ? srv->opts.forward
                  : srv->opts.forward_grpc ? srv->opts.forward_grpc
                  : srv->opts.output       ? srv->opts.output
                                           : "-");
    fprintf(stderr, "sluice serve: ready http=%s grpc=%s admin=%s\n", addrs[0],
            addrs[1], addrs[2]);
    fflush(stderr);
    uint64_t reload_at = 0; /* a file changed: reload then */
    for (;;) {
        struct pollfd pf[2] = {{sfd, POLLIN, 0}, {wt.fd, POLLIN, 0}};
        int timeout = -1;
        if (reload_at) {
            uint64_t now = sl__serve_now_ms();
            timeout = reload_at > now ? (int)(reload_at - now) : 0;
        }
        int n = poll(pf, 2, sfd < 0 ? 1000 : timeout);
        int sig = 0;
        if (sfd < 0) {
            struct timespec ts = {0, 0};
            sig = sigtimedwait(&sigs, NULL, &ts);
        } else if (n > 0 && (pf[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                sig = (int)si.ssi_signo;
            }
        }
        if (n > 0 && wt.fd >= 0 && (pf[1].revents & POLLIN) &&
            watch_changed(&wt, &srv->opts)) {
            reload_at = sl__serve_now_ms() + 200; /* let writers finish */
        }
        if (sig == SIGHUP) {
            sl__serve_net_reload_tls(net);
            reload(srv);
            reload_at = 0;
        } else if (sig == SIGTERM || sig == SIGINT) {
            sl__serve_log(SL_SERVE_INFO, "%s: draining",
                          sig == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
        if (reload_at && sl__serve_now_ms() >= reload_at) {
            reload_at = 0;
            sl__serve_log(SL_SERVE_INFO, "policy file changed: reloading");
            reload(srv);
        }
    }
    status = 0;
done:
    if (sfd >= 0) {
        close(sfd);
    }
    if (wt.fd >= 0) {
        close(wt.fd);
    }
    sl__serve_provider_free(srv->provider); /* no sync during the drain */
    srv->provider = NULL;
    atomic_store(&srv->draining, true);
    if (net) {
        sl__serve_net_drain(net); /* in-flight requests finish first */
    }
    sl__serve_export_stop(srv->ex); /* then the queue drains */
    sl__serve_net_free(net);
    if (srv->snap) {
        sl__serve_snap_release(srv, srv->snap);
    }
    if (status == 0) {
        sl__serve_log(SL_SERVE_INFO, "stopped");
    }
    pthread_mutex_destroy(&srv->snap_mu);
    pthread_mutex_destroy(&srv->build_mu);
    sl__free(srv, sizeof(*srv));
    sigaction(SIGPIPE, &old_pipe, NULL);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    return status;
}

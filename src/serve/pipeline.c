/* src/serve/pipeline.c: one export request through the engine (see
 * pipeline.h). The steps are those of `sluice apply` for one value
 * (load, sl_policy_eval with SL_POLICY_APPLY per record, sl_otlp_write and
 * a newline), so --output holds exactly what apply writes. JSON bodies
 * load lazily, as apply loads them: only the fields the snapshot's
 * policies read become nodes, untouched requests are written back as
 * their source bytes. */
#include "serve/pipeline.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "serve/export.h"
#include "serve/log.h"

/* A lazy load pays only when the output is JSON: a protobuf write needs
 * the whole tree, which a lazy batch would then build a second time. */
static void set_lazy(sl__serve_pipe *p) {
    const sl__serve_opts *opts = &p->srv->opts;
    bool json_out = !opts->forward_proto && !opts->forward_grpc;
    sl_policy_lazy_load(p->snap->set, p->o, json_out);
}

sl_status sl__serve_pipe_init(sl__serve_pipe *p, sl__serve *srv) {
    memset(p, 0, sizeof(*p));
    p->srv = srv;
    p->o = sl_otlp_new();
    if (!p->o) {
        return SL_ENOMEM;
    }
    p->snap = sl__serve_snap_acquire(srv);
    sl_status rc = sl_policy_ctx_new(p->snap->set, &p->ctx, NULL);
    if (rc != SL_OK) {
        sl__serve_pipe_free(p);
        return rc;
    }
    set_lazy(p);
    return SL_OK;
}

void sl__serve_pipe_free(sl__serve_pipe *p) {
    sl_policy_ctx_free(p->ctx);
    if (p->snap) {
        sl__serve_snap_release(p->srv, p->snap);
    }
    sl_otlp_free(p->o);
    sl__buf_free(&p->plain);
    sl__buf_free(&p->kept);
    sl__buf_free(&p->reply);
    memset(p, 0, sizeof(*p));
}

/* Between requests: move to the current snapshot if a reload published
 * one, and set the batch to build what the new policies read. On failure
 * (out of memory) keep the old one and try next time. */
static void refresh(sl__serve_pipe *p) {
    uint64_t gen =
        atomic_load_explicit(&p->srv->snap_gen, memory_order_acquire);
    if (gen == p->snap->gen) {
        return;
    }
    sl__serve_snap *s = sl__serve_snap_acquire(p->srv);
    sl_policy_ctx *ctx = NULL;
    if (sl_policy_ctx_new(s->set, &ctx, NULL) != SL_OK) {
        sl__serve_snap_release(p->srv, s);
        return;
    }
    sl_policy_ctx_free(p->ctx);
    sl__serve_snap_release(p->srv, p->snap);
    p->snap = s;
    p->ctx = ctx;
    set_lazy(p);
}

static const char *const signal_key[] = {"resourceLogs", "resourceMetrics",
                                         "resourceSpans"};

static void set_msg(sl__serve_outcome *out, int http, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_msg(sl__serve_outcome *out, int http, const char *fmt, ...) {
    out->http = http;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->msg, sizeof(out->msg), fmt, ap);
    va_end(ap);
}

void sl__serve_pipe_run(sl__serve_pipe *p, sl_signal sig, bool proto,
                        sl__serve_enc enc, const char *body, size_t len,
                        sl__serve_outcome *out) {
    sl__serve *srv = p->srv;
    sl__serve_metrics *m = &srv->m;
    memset(out, 0, sizeof(*out));
    out->http = 200;
    atomic_fetch_add(&m->requests[sig], 1);
    if (srv->ex && !sl__serve_export_admit(srv->ex)) {
        atomic_fetch_add(&m->rejected_backpressure, 1);
        out->retry_after_s = 1;
        set_msg(out, 503, "export queue is full, retry later");
        return;
    }
    sl_error err = {0};
    if (enc == SL_SERVE_ENC_UNKNOWN) {
        set_msg(out, 415, "unsupported content encoding");
        return;
    }
    if (enc != SL_SERVE_ENC_IDENTITY) {
        p->plain.len = 0;
        p->plain.failed = 0;
        sl_status rc = sl__serve_decompress(
            enc, body, len, srv->opts.max_decompressed, &p->plain, &err);
        if (rc != SL_OK) {
            set_msg(out,
                    rc == SL_ELIMIT   ? 413
                    : rc == SL_ENOMEM ? 503
                                      : 400,
                    "%s", err.msg);
            return;
        }
        body = p->plain.ptr;
        len = p->plain.len;
    }
    /* before the load, so a lazy JSON load builds what the policies that
     * will run read (a batch loaded for other reads is still right: it
     * loads in full when a policy reads a field it did not build) */
    refresh(p);
    sl_status lrc;
    if (proto) {
        lrc = sl_otlp_load_proto(p->o, sig, body, len, "body", &err);
    } else {
        lrc = sl_otlp_load(p->o, body, len, NULL, "body", &err);
    }
    if (lrc != SL_OK) {
        if (!err.msg[0]) {
            snprintf(err.msg, sizeof(err.msg), "%s", sl_status_str(lrc));
        }
        char where[400];
        sl_error_format(&err, where, sizeof(where));
        set_msg(out, lrc == SL_ENOMEM ? 503 : 400, "%s", where);
        return;
    }
    sl_signal got = sl_otlp_signal(p->o);
    if (got != sig && got != SL_SIGNAL_NONE) {
        set_msg(out, 400, "expected %s in a request to this path, got %s",
                signal_key[sig], signal_key[got]);
        return;
    }
    size_t n = sl_otlp_count(p->o);
    uint64_t kept = 0, dropped = 0, sampled = 0, limited = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        sl_policy_result res;
        sl_status rc =
            sl_policy_eval(p->ctx, p->o, i, SL_POLICY_APPLY, &res, &err);
        if (rc != SL_OK) {
            failed++; /* the engine dropped it: never written half done */
            continue;
        }
        kept += res.keep;
        dropped += res.decision == SL_DECISION_DROP;
        sampled += res.decision == SL_DECISION_SAMPLE_DROP;
        limited += res.decision == SL_DECISION_RATE_DENY;
    }
    p->kept.len = 0;
    p->kept.failed = 0;
    sl_status rc;
    if (srv->opts.forward_proto || srv->opts.forward_grpc) {
        rc = sl_otlp_write_proto(p->o, &p->kept, &err); /* no newline */
    } else {
        rc = sl_otlp_write(p->o, &p->kept, &err);
        if (rc == SL_OK) {
            rc = sl__buf_putc(&p->kept, '\n');
        }
    }
    if (rc == SL_OK && srv->ex) {
        rc = sl__serve_export_push(srv->ex, sig, p->kept.ptr, p->kept.len, kept,
                                   &p->commit);
    }
    if (rc != SL_OK) {
        /* nothing acknowledged: the client retries the whole request */
        set_msg(out, 503, "cannot queue the request: %s", sl_status_str(rc));
        out->retry_after_s = 1;
        return;
    }
    atomic_fetch_add(&m->records_in[sig], n);
    atomic_fetch_add(&m->records_out[sig], kept);
    atomic_fetch_add(&m->dropped[sig], dropped);
    atomic_fetch_add(&m->sampled[sig], sampled);
    atomic_fetch_add(&m->rate_limited[sig], limited);
    atomic_fetch_add(&m->failed[sig], failed);
    if (failed > 0) {
        out->rejected = failed;
        set_msg(out, 200,
                "%llu record(s) dropped: a transform could not finish (%s)",
                (unsigned long long)failed, err.msg);
    }
}

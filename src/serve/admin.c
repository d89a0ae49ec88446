/* src/serve/admin.c: /metrics in the Prometheus text format (0.0.4) and
 * /readyz. Counters are read with relaxed loads: each is exact, the set is
 * not a transaction. Per-policy counters come from the current snapshot
 * (sl_policy_stats_get), which carries them across reloads by id. */
#include "serve/admin.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

static const char *const sig_names[SL_SERVE_NSIG] = {"logs", "metrics",
                                                     "traces"};

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static sl_status family(sl_buf *b, const char *name, const char *type,
                        const char *help) {
    return sl__buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                          type);
}

static sl_status per_signal(sl_buf *b, const char *name, const char *help,
                            _Atomic uint64_t *v) {
    sl_status rc = family(b, name, "counter", help);
    for (int s = 0; s < SL_SERVE_NSIG && rc == SL_OK; s++) {
        rc = sl__buf_printf(b, "%s{signal=\"%s\"} %" PRIu64 "\n", name,
                            sig_names[s], LOAD(v[s]));
    }
    return rc;
}

static sl_status scalar(sl_buf *b, const char *name, const char *type,
                        const char *help, uint64_t v) {
    sl_status rc = family(b, name, type, help);
    return rc == SL_OK ? sl__buf_printf(b, "%s %" PRIu64 "\n", name, v) : rc;
}

/* A label value: backslash, quote and newline escaped. */
static sl_status label(sl_buf *b, const char *s) {
    sl_status rc = SL_OK;
    for (; *s && rc == SL_OK; s++) {
        if (*s == '\\' || *s == '"') {
            rc = sl__buf_putc(b, '\\');
            if (rc == SL_OK) {
                rc = sl__buf_putc(b, *s);
            }
        } else if (*s == '\n') {
            rc = sl__buf_append(b, "\\n", 2);
        } else {
            rc = sl__buf_putc(b, *s);
        }
    }
    return rc;
}

/* Per transform stage of each policy: operations that changed a kept
 * record (hit) or selected nothing (miss); series only once counted. */
static sl_status stages(const sl_policy_set *set, sl_buf *b) {
    static const char *const names[SL_STAGE_COUNT] = {"remove", "redact",
                                                      "rename", "add"};
    static const char fam[] = "sluice_policy_transform_stage_total";
    sl_status rc = family(b, fam, "counter",
                          "transform operations per stage on kept records, "
                          "by result");
    for (size_t i = 0; i < sl_policy_count(set) && rc == SL_OK; i++) {
        sl_policy_stage_stats st;
        sl_policy_stage_stats_get(set, i, &st);
        for (int k = 0; k < SL_STAGE_COUNT * 2 && rc == SL_OK; k++) {
            uint64_t v = k % 2 ? st.misses[k / 2] : st.hits[k / 2];
            if (v == 0) {
                continue;
            }
            rc = sl__buf_printf(b, "%s{policy=\"", fam);
            rc = rc == SL_OK ? label(b, sl_policy_id(set, i)) : rc;
            rc = rc == SL_OK
                     ? sl__buf_printf(b,
                                      "\",stage=\"%s\",result=\"%s\"} "
                                      "%" PRIu64 "\n",
                                      names[k / 2], k % 2 ? "miss" : "hit", v)
                     : rc;
        }
    }
    return rc;
}

/* sluice_request_duration_seconds per signal: export requests from their
 * first byte read to their answer made. */
static sl_status latency(const sl__serve_metrics *m, sl_buf *b) {
    static const char fam[] = "sluice_request_duration_seconds";
    sl_status rc = family(b, fam, "histogram",
                          "export requests, from the first byte read to the "
                          "answer made");
    for (int s = 0; s < SL_SERVE_NSIG && rc == SL_OK; s++) {
        uint64_t cum = 0;
        for (int i = 0; i <= SL_SERVE_NBUCKETS && rc == SL_OK; i++) {
            cum += LOAD(m->lat_bucket[s][i]);
            char le[32] = "+Inf";
            if (i < SL_SERVE_NBUCKETS) {
                snprintf(le, sizeof(le), "%g",
                         (double)sl__serve_lat_bounds_us[i] / 1e6);
            }
            rc = sl__buf_printf(
                b, "%s_bucket{signal=\"%s\",le=\"%s\"} %" PRIu64 "\n", fam,
                sig_names[s], le, cum);
        }
        if (rc == SL_OK) {
            rc = sl__buf_printf(b,
                                "%s_sum{signal=\"%s\"} %.6f\n"
                                "%s_count{signal=\"%s\"} %" PRIu64 "\n",
                                fam, sig_names[s],
                                (double)LOAD(m->lat_sum_us[s]) / 1e6, fam,
                                sig_names[s], LOAD(m->lat_count[s]));
        }
    }
    return rc;
}

/* How the workers share the connections (net.c gives each new one to the
 * worker with the fewest). */
static sl_status workers(sl__serve *srv, sl_buf *b) {
    static const char fam[] = "sluice_worker_connections";
    sl_status rc = family(b, fam, "gauge",
                          "client connections held by each worker thread");
    for (unsigned i = 0;
         i < srv->opts.threads && i < SL_SERVE_MAX_THREADS && rc == SL_OK;
         i++) {
        rc = sl__buf_printf(b, "%s{worker=\"%u\"} %" PRIu64 "\n", fam, i,
                            LOAD(srv->m.worker_conns[i]));
    }
    return rc;
}

static sl_status policies(sl__serve *srv, sl_buf *b) {
    static const struct {
        const char *name, *help;
        size_t off;
    } fields[] = {
        {"sluice_policy_hits_total", "records a policy matched",
         offsetof(sl_policy_stats, hits)},
        {"sluice_policy_misses_total",
         "records a policy matched but another won and dropped",
         offsetof(sl_policy_stats, misses)},
        {"sluice_policy_kept_total", "records a policy won and kept",
         offsetof(sl_policy_stats, kept)},
        {"sluice_policy_dropped_total", "records a policy won and dropped",
         offsetof(sl_policy_stats, dropped)},
        {"sluice_policy_sampled_out_total",
         "records a policy won and sampled out",
         offsetof(sl_policy_stats, sampled_out)},
        {"sluice_policy_rate_limited_total",
         "records a policy won and rate-limited",
         offsetof(sl_policy_stats, rate_limited)},
        {"sluice_policy_transformed_total",
         "transform operations applied to kept records",
         offsetof(sl_policy_stats, transformed)},
        {"sluice_policy_transform_failed_total",
         "records dropped because a transform could not finish",
         offsetof(sl_policy_stats, transform_failed)},
    };
    sl__serve_snap *s = sl__serve_snap_acquire(srv);
    size_t n = sl_policy_count(s->set);
    sl_status rc = SL_OK;
    for (size_t f = 0; f < SL_ARRAY_LEN(fields) && rc == SL_OK; f++) {
        rc = family(b, fields[f].name, "counter", fields[f].help);
        for (size_t i = 0; i < n && rc == SL_OK; i++) {
            sl_policy_stats st;
            sl_policy_stats_get(s->set, i, &st);
            uint64_t v = 0;
            memcpy(&v, (const char *)&st + fields[f].off, sizeof(v));
            sl_signal sig = sl_policy_signal(s->set, i);
            rc = sl__buf_printf(b, "%s{policy=\"", fields[f].name);
            if (rc == SL_OK) {
                rc = label(b, sl_policy_id(s->set, i));
            }
            if (rc == SL_OK) {
                rc = sl__buf_printf(
                    b, "\",signal=\"%s\"} %" PRIu64 "\n",
                    (int)sig < SL_SERVE_NSIG ? sig_names[sig] : "none", v);
            }
        }
    }
    if (rc == SL_OK) {
        rc = stages(s->set, b);
    }
    if (rc == SL_OK) {
        rc = scalar(b, "sluice_policies", "gauge",
                    "valid policies in the current snapshot", n);
    }
    if (rc == SL_OK) {
        rc = scalar(b, "sluice_policy_problems", "gauge",
                    "problems found loading the current snapshot",
                    sl_policy_problem_count(s->set));
    }
    sl__serve_snap_release(srv, s);
    return rc;
}

sl_status sl__serve_admin_metrics(sl__serve *srv, sl_buf *b) {
    sl__serve_metrics *m = &srv->m;
    sl_status rc = per_signal(b, "sluice_requests_total",
                              "export requests received", m->requests);
    if (rc == SL_OK) {
        rc = per_signal(b, "sluice_records_in_total",
                        "records in accepted requests", m->records_in);
    }
    if (rc == SL_OK) {
        rc = per_signal(b, "sluice_records_out_total",
                        "records kept and exported", m->records_out);
    }
    if (rc == SL_OK) {
        rc = per_signal(b, "sluice_records_dropped_total",
                        "records dropped by a policy", m->dropped);
    }
    if (rc == SL_OK) {
        rc = per_signal(b, "sluice_records_sampled_out_total",
                        "records dropped by probability sampling", m->sampled);
    }
    if (rc == SL_OK) {
        rc = per_signal(b, "sluice_records_rate_limited_total",
                        "records dropped by a rate limit", m->rate_limited);
    }
    if (rc == SL_OK) {
        rc = per_signal(b, "sluice_records_rejected_total",
                        "records rejected because a transform failed",
                        m->failed);
    }
    if (rc == SL_OK) {
        rc = family(b, "sluice_responses_total", "counter",
                    "HTTP responses by status class");
    }
    static const char *const cls[6] = {"other", "1xx", "2xx",
                                       "3xx",   "4xx", "5xx"};
    for (int i = 0; i < 6 && rc == SL_OK; i++) {
        rc = sl__buf_printf(
            b, "sluice_responses_total{class=\"%s\"} %" PRIu64 "\n", cls[i],
            LOAD(m->status[i]));
    }
    struct {
        const char *name, *type, *help;
        uint64_t v;
    } s[] = {
        {"sluice_backpressure_rejections_total", "counter",
         "requests answered 503 because the export queue was full",
         LOAD(m->rejected_backpressure)},
        {"sluice_queue_bytes", "gauge", "bytes waiting in the export queue",
         LOAD(m->queue_bytes)},
        {"sluice_queue_depth", "gauge", "requests waiting in the export queue",
         LOAD(m->queue_items)},
        {"sluice_queue_capacity_bytes", "gauge", "export queue bound",
         srv->opts.queue_bytes},
        {"sluice_spool_disk_bytes", "gauge",
         "bytes of queue segment files on disk (--queue-dir)",
         LOAD(m->spool_disk_bytes)},
        {"sluice_spool_replayed_total", "counter",
         "queued requests found on disk at start (--queue-dir)",
         LOAD(m->spool_replayed)},
        {"sluice_spool_torn_total", "counter",
         "torn or corrupt queue entries skipped, never delivered (logged)",
         LOAD(m->spool_torn)},
        {"sluice_spool_appends_total", "counter",
         "requests written to the queue directory", LOAD(m->spool_appends)},
        {"sluice_spool_syncs_total", "counter",
         "fdatasync calls of the queue directory (group commit)",
         LOAD(m->spool_syncs)},
        {"sluice_export_requests_total", "counter", "forward attempts made",
         LOAD(m->export_requests)},
        {"sluice_export_failures_total", "counter",
         "export attempts that failed", LOAD(m->export_failures)},
        {"sluice_export_retries_total", "counter", "export retries scheduled",
         LOAD(m->export_retries)},
        {"sluice_export_dropped_total", "counter",
         "requests the forward target refused for good (logged)",
         LOAD(m->export_dropped)},
        {"sluice_reload_success_total", "counter",
         "policy reloads that succeeded", LOAD(m->reload_ok)},
        {"sluice_reload_failure_total", "counter",
         "policy reloads that failed (old snapshot kept)",
         LOAD(m->reload_failed)},
        {"sluice_policy_sync_success_total", "counter",
         "policy provider syncs answered (--policy-server)", LOAD(m->sync_ok)},
        {"sluice_policy_sync_failure_total", "counter",
         "policy provider syncs that failed (old snapshot kept)",
         LOAD(m->sync_failed)},
        {"sluice_connections_open", "gauge", "open client connections",
         LOAD(m->conns_open)},
        {"sluice_connections_total", "counter", "client connections accepted",
         LOAD(m->conns_total)},
        {"sluice_connections_refused_total", "counter",
         "connections closed at once: over the connection limit",
         LOAD(m->conns_refused)},
        {"sluice_inflight_bytes", "gauge",
         "memory held by connection input buffers and TLS sessions (a fixed "
         "charge each)",
         LOAD(m->inflight_bytes)},
        {"sluice_tls_memory_refusals_total", "counter",
         "TLS connections closed at accept: their session would pass "
         "--max-inflight",
         LOAD(m->tls_refused_memory)},
        {"sluice_memory_rejections_total", "counter",
         "requests answered 503 because input buffers hit --max-inflight",
         LOAD(m->rejected_memory)},
        {"sluice_timeouts_total", "counter",
         "connections closed by the idle or read timeout", LOAD(m->timeouts)},
        {"sluice_tls_handshake_failures_total", "counter",
         "TLS connections refused: failed or timed-out handshakes, "
         "cleartext sent to a TLS port",
         LOAD(m->tls_failed)},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(s) && rc == SL_OK; i++) {
        rc = scalar(b, s[i].name, s[i].type, s[i].help, s[i].v);
    }
    if (rc == SL_OK) {
        rc = latency(m, b);
    }
    if (rc == SL_OK) {
        rc = workers(srv, b);
    }
    if (rc == SL_OK) {
        rc = policies(srv, b);
    }
    return rc;
}

sl_status sl__serve_admin_ready(sl__serve *srv, sl_buf *out) {
    bool ready = atomic_load(&srv->ready) && !atomic_load(&srv->draining);
    return sl__buf_printf(out,
                          "{\"ready\":%s,\"protobuf\":true,\"grpc\":true,"
                          "\"h2c\":true}\n",
                          ready ? "true" : "false");
}

/* src/serve/private.h: what every file of the gateway shares: the server
 * (options, metrics, policy snapshot, exporter, listeners) and the build
 * switches. The gateway is a front end like the CLI: it wires libsluice's
 * modules together over sockets and owns no policy logic. Names are
 * sl__serve_*: nothing here is part of the library's API. */
#ifndef SL_SERVE_PRIVATE_H
#define SL_SERVE_PRIVATE_H

#include <sluice/sluice.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum {
    SL_SERVE_MAX_POLICY_FILES = 64,
    SL_SERVE_MAX_THREADS = 64,
    SL_SERVE_NSIG = 3,     /* log, metric, trace */
    SL_SERVE_NBUCKETS = 12 /* latency histogram */
};

/* What the command line (or, later, --config) sets; zero = default. */
typedef struct sl__serve_opts {
    const char *policies[SL_SERVE_MAX_POLICY_FILES];
    size_t npolicies;
    const char *http, *grpc, *admin; /* HOST:PORT */
    const char *output;              /* FILE or "-" */
    const char *forward;             /* http://HOST:PORT[/prefix] */
    const char *forward_grpc;        /* HOST:PORT (OTLP/gRPC) */
    const char *policy_server;       /* http://HOST:PORT/v1/policy/sync or
                                        grpc://HOST:PORT */
    unsigned threads;
    size_t max_body;           /* compressed body bytes: 413 above */
    size_t max_decompressed;   /* after gzip / zstd: 413 above */
    size_t max_header;         /* request line + headers: 431 above */
    unsigned max_conns;        /* open client connections, all listeners */
    size_t max_inflight;       /* input buffers of all connections: 503 above */
    unsigned idle_timeout_ms;  /* keep-alive connection without a request */
    unsigned read_timeout_ms;  /* one whole request, first byte to last */
    size_t queue_bytes;        /* export queue bound: 503 above */
    unsigned drain_timeout_ms; /* SIGTERM: in-flight and queue */
    size_t rotate_bytes;       /* --output rotation size, 0 = never */
    bool no_watch;             /* no inotify: reload on SIGHUP only */
    bool forward_proto;        /* --forward as protobuf (needs the codec) */
    bool policy_proto;         /* --policy-server over HTTP in protobuf */
    const char *queue_dir;     /* on-disk export queue, NULL = in memory */
    unsigned queue_fsync;      /* sl__spool_fsync; 0 = batch */
    /* TLS on the OTLP/HTTP and gRPC listeners: PEM files; client_ca set =
     * a client certificate is required and verified (mutual TLS) */
    const char *tls_cert, *tls_key, *tls_client_ca;
    /* TLS on the admin listener: its own PEM files, or (admin_tls_same)
     * the receivers' context, client CA included */
    const char *admin_tls_cert, *admin_tls_key;
    bool admin_tls_same;
    const char *policy_ca; /* --policy-server https / grpcs: NULL = system */
    /* compiled Vectorscan databases kept here (sl_policy_opts.regex_cache):
     * a restart or reload with the same patterns loads them; NULL = none */
    const char *regex_cache;
    const char *forward_ca;    /* --forward https / gRPC TLS: NULL = system */
    bool forward_insecure;     /* no certificate check (tests, labs) */
    bool forward_grpc_tls;     /* --forward-grpc over TLS */
    unsigned forward_compress; /* sl__serve_compress; 0 = gzip */
    unsigned policy_compress;  /* sl__serve_compress; 0 = none */
} sl__serve_opts;

/* Request bodies the gateway sends (exporters, policy sync). */
typedef enum sl__serve_compress {
    SL_SERVE_COMPRESS_DEFAULT = 0,
    SL_SERVE_COMPRESS_GZIP = 1,
    SL_SERVE_COMPRESS_NONE = 2
} sl__serve_compress;

/* Counters shown on /metrics: relaxed atomics, any thread. */
typedef struct sl__serve_metrics {
    _Atomic uint64_t requests[SL_SERVE_NSIG];
    _Atomic uint64_t records_in[SL_SERVE_NSIG], records_out[SL_SERVE_NSIG];
    _Atomic uint64_t dropped[SL_SERVE_NSIG], sampled[SL_SERVE_NSIG];
    _Atomic uint64_t rate_limited[SL_SERVE_NSIG], failed[SL_SERVE_NSIG];
    _Atomic uint64_t status[6]; /* responses by class: 1xx..5xx, [0] other */
    _Atomic uint64_t rejected_backpressure;
    _Atomic uint64_t bytes_in;
    _Atomic uint64_t conns_open, conns_total, conns_refused;
    _Atomic uint64_t timeouts;
    _Atomic uint64_t tls_failed; /* handshakes refused or broken */
    _Atomic uint64_t inflight_bytes, rejected_memory;
    _Atomic uint64_t tls_refused_memory; /* sessions over --max-inflight */
    _Atomic uint64_t reload_ok, reload_failed;
    _Atomic uint64_t sync_ok, sync_failed; /* --policy-server syncs */
    _Atomic uint64_t export_requests, export_failures, export_retries;
    _Atomic uint64_t export_dropped; /* permanent failures (logged) */
    _Atomic uint64_t queue_bytes, queue_items;
    /* --queue-dir: copied from the spool's counters after each change */
    _Atomic uint64_t spool_disk_bytes, spool_replayed, spool_torn;
    _Atomic uint64_t spool_appends, spool_syncs;
    /* export requests per signal, from the request's first byte read to
     * its answer made (sluice_request_duration_seconds) */
    _Atomic uint64_t lat_bucket[SL_SERVE_NSIG][SL_SERVE_NBUCKETS + 1];
    _Atomic uint64_t lat_sum_us[SL_SERVE_NSIG], lat_count[SL_SERVE_NSIG];
    /* connections each worker holds or was handed (net.c balances new
     * connections on it) */
    _Atomic uint64_t worker_conns[SL_SERVE_MAX_THREADS];
} sl__serve_metrics;

/* One compiled policy set, shared by every worker; freed when the last
 * holder lets go (workers between requests, the server while current). */
typedef struct sl__serve_snap {
    sl_policy_set *set;
    unsigned refs; /* under sl__serve.snap_mu */
    uint64_t gen;
} sl__serve_snap;

typedef struct sl__serve_export sl__serve_export;
typedef struct sl__serve_provider sl__serve_provider;

typedef struct sl__serve {
    sl__serve_opts opts;
    sl__serve_metrics m;
    pthread_mutex_t snap_mu;
    sl__serve_snap *snap;
    _Atomic uint64_t snap_gen;
    sl__serve_export *ex;
    /* every snapshot rebuild (file reload, provider sync) holds build_mu */
    pthread_mutex_t build_mu;
    sl__serve_provider *provider; /* --policy-server, or NULL */
    atomic_bool draining;         /* SIGTERM: stop accepting, finish, exit */
    atomic_bool ready;
} sl__serve;

/* Latency histogram bounds, in microseconds (the last bucket is +Inf). */
extern const uint64_t sl__serve_lat_bounds_us[SL_SERVE_NBUCKETS];

/* Snapshots: take a reference to the current one / give one back. */
sl__serve_snap *sl__serve_snap_acquire(sl__serve *srv);
void sl__serve_snap_release(sl__serve *srv, sl__serve_snap *s);
/* Make set the current snapshot (owned from now on). false on ENOMEM
 * (set is then freed by the caller). */
bool sl__serve_snap_publish(sl__serve *srv, sl_policy_set *set);

/* Milliseconds / microseconds of CLOCK_MONOTONIC. */
uint64_t sl__serve_now_ms(void);
uint64_t sl__serve_now_us(void);

#endif

/* bench/bench_otlp.c: throughput of the OTLP/JSON model on a generated
 * file of realistic log requests (JSON lines, ~100 MB by default, written
 * to /tmp once and reused): load + validate + index, write back, and the
 * two together with a quarter of the records dropped (the `sluice apply`
 * path minus policy evaluation). Then the same requests as protobuf
 * (encoded once from the JSON, untimed): decode, re-encode untouched,
 * decode + drop a quarter + encode, and the conversions both ways.
 * Prints MB/s of each format's own bytes and ns per record per phase, per
 * core (CPU time), best of three.
 *
 * Usage: bench_otlp [MB] [FILE]   (release build: make release) */
#include <sluice/otlp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support/read_file.h"

/* CPU time of this (single-threaded) process: the machine is shared, so
 * wall time would measure the neighbours; CPU time is one core's work. */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *const services[] = {"checkout", "cart", "frontend",
                                       "payments", "auth"};
static const char *const sev[] = {"DEBUG", "INFO", "INFO",
                                  "INFO",  "WARN", "ERROR"};
static const int sevnum[] = {5, 9, 9, 9, 13, 17};
static const char *const routes[] = {"/api/users/{id}", "/api/cart", "/health",
                                     "/api/checkout",
                                     "/api/products/{sku}/reviews"};
/* A log message of one of five shapes (literal formats, so -Wformat=2
 * checks them). */
static void message(char *buf, size_t cap) {
    unsigned a = (unsigned)(rnd() % 100000), b = (unsigned)(rnd() % 1000);
    switch (rnd() % 5) {
    case 0:
        snprintf(buf, cap,
                 "GET /api/users/%u 200 OK in %u ms (cache hit, eu-west-1)", a,
                 b);
        break;
    case 1:
        snprintf(buf, cap,
                 "user %u logged in from 10.0.%u.17 with token eyJhbGciOiJI.x",
                 a, b);
        break;
    case 2:
        snprintf(buf, cap,
                 "payment declined for order %u: issuer code %u, retrying", a,
                 b);
        break;
    case 3:
        snprintf(buf, cap, "health check ok: db=up cache=up depth %u lag %u ms",
                 a, b);
        break;
    default:
        snprintf(buf, cap,
                 "slow query on orders (%u rows, %u ms): SELECT * FROM orders",
                 a, b);
        break;
    }
}

/* One request line: one resource, one scope, `n` log records. */
static void gen_line(FILE *f, int n) {
    const char *svc = services[rnd() % 5];
    fprintf(f,
            "{\"resourceLogs\":[{\"resource\":{\"attributes\":["
            "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"%s\"}},"
            "{\"key\":\"service.version\",\"value\":{\"stringValue\":"
            "\"1.%u.%u\"}},"
            "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"ip-10-0-%u-"
            "%u.ec2.internal\"}},"
            "{\"key\":\"k8s.pod.name\",\"value\":{\"stringValue\":\"%s-"
            "7d9f8b6c4-%05u\"}}],\"droppedAttributesCount\":0},"
            "\"scopeLogs\":[{\"scope\":{\"name\":\"io.opentelemetry.%s\","
            "\"version\":\"2.4.0\"},\"logRecords\":[",
            svc, (unsigned)(rnd() % 9), (unsigned)(rnd() % 20),
            (unsigned)(rnd() % 255), (unsigned)(rnd() % 255), svc,
            (unsigned)(rnd() % 99999), svc);
    for (int i = 0; i < n; i++) {
        int s = (int)(rnd() % 6);
        char body[256];
        message(body, sizeof(body));
        fprintf(f,
                "%s{\"timeUnixNano\":\"17%017llu\",\"observedTimeUnixNano\":"
                "\"17%017llu\",\"severityNumber\":%d,\"severityText\":\"%s\","
                "\"body\":{\"stringValue\":\"%s\"},\"attributes\":["
                "{\"key\":\"http.method\",\"value\":{\"stringValue\":\"%s\"}},"
                "{\"key\":\"http.route\",\"value\":{\"stringValue\":\"%s\"}},"
                "{\"key\":\"http.status_code\",\"value\":{\"intValue\":\"%u\"}"
                "},{\"key\":\"user.id\",\"value\":{\"stringValue\":\"u-%u\"}},"
                "{\"key\":\"retry\",\"value\":{\"boolValue\":%s}}],"
                "\"droppedAttributesCount\":0,\"flags\":1,"
                "\"traceId\":\"%016llx%016llx\",\"spanId\":\"%016llx\"}",
                i ? "," : "",
                (unsigned long long)(rnd() % 100000000000000000ull),
                (unsigned long long)(rnd() % 100000000000000000ull), sevnum[s],
                sev[s], body, rnd() % 3 ? "GET" : "POST", routes[rnd() % 5],
                (unsigned)(200 + rnd() % 4 * 100), (unsigned)(rnd() % 1000000),
                rnd() % 2 ? "true" : "false", (unsigned long long)rnd(),
                (unsigned long long)rnd(), (unsigned long long)rnd());
    }
    fprintf(f, "]}]}]}\n");
}

/* The protobuf phases: every request of text encoded once into one
 * buffer (offsets kept), then timed. */
static void bench_proto(const char *text, size_t len, const char *path,
                        size_t records) {
    sl_otlp *o = sl_otlp_new();
    sl_buf pbuf = {0}, out = {0};
    sl_error err;
    size_t *offs = NULL, nreq = 0, cap = 0, off = 0;
    while (sl_otlp_load(o, text, len, &off, path, &err) == SL_OK) {
        if (nreq + 1 >= cap) {
            cap = cap ? cap * 2 : 1024;
            offs = realloc(offs, cap * sizeof(*offs));
        }
        offs[nreq++] = pbuf.len;
        sl_otlp_write_proto(o, &pbuf, &err);
    }
    offs[nreq] = pbuf.len;
    double pmb = (double)pbuf.len / 1e6, jmb = (double)len / 1e6;
    double best[6] = {1e9, 1e9, 1e9, 1e9, 1e9, 1e9};
    size_t outb[6] = {0};
    for (int rep = 0; rep < 3; rep++) {
        double t[6] = {0};
        size_t ob[6] = {0};
        for (size_t r = 0; r < nreq; r++) {
            const char *p = pbuf.ptr + offs[r];
            size_t n = offs[r + 1] - offs[r];
            double t0 = now();
            if (sl_otlp_load_proto(o, SL_SIGNAL_LOG, p, n, "b.pb", &err) !=
                SL_OK) {
                fprintf(stderr, "bench_otlp: %s\n", err.msg);
                exit(1);
            }
            double t1 = now();
            t[0] += t1 - t0; /* decode */
            out.len = 0;
            sl_otlp_write_proto(o, &out, &err);
            double t2 = now();
            t[1] += t2 - t1; /* encode untouched (a copy) */
            ob[1] += out.len;
            out.len = 0;
            sl_otlp_write(o, &out, &err);
            t[3] += now() - t2; /* protobuf -> JSON */
            ob[3] += out.len;
            double t3 = now();
            sl_otlp_load_proto(o, SL_SIGNAL_LOG, p, n, "b.pb", &err);
            size_t k = sl_otlp_count(o);
            for (size_t i = 0; i < k; i += 4) {
                sl_otlp_drop(o, i);
            }
            out.len = 0;
            sl_otlp_write_proto(o, &out, &err);
            t[2] += now() - t3; /* decode + drop 1/4 + encode */
            ob[2] += out.len;
        }
        /* JSON -> protobuf: load JSON, encode from the tree */
        off = 0;
        double t4 = now();
        while (sl_otlp_load(o, text, len, &off, path, &err) == SL_OK) {
            out.len = 0;
            sl_otlp_write_proto(o, &out, &err);
            ob[4] += out.len;
        }
        t[4] = now() - t4;
        for (int k = 0; k < 5; k++) {
            if (t[k] < best[k]) {
                best[k] = t[k];
                outb[k] = ob[k];
            }
        }
    }
    double rec = (double)records;
    printf("  protobuf: %.1f MB for the same %zu requests (%.0f%% of JSON)\n",
           pmb, nreq, 100.0 * pmb / jmb);
    printf("  proto decode+index    %8.0f MB/s  (%.0f ns/record)\n",
           pmb / best[0], best[0] * 1e9 / rec);
    printf("  proto encode untouched%8.0f MB/s  (%.0f ns/record, a copy)\n",
           pmb / best[1], best[1] * 1e9 / rec);
    printf("  proto decode+drop 1/4+encode %5.0f MB/s  (%.0f ns/record, %.1f "
           "MB out)\n",
           pmb / best[2], best[2] * 1e9 / rec, (double)outb[2] / 1e6);
    printf("  proto -> JSON write   %8.0f MB/s of JSON out  (%.0f "
           "ns/record)\n",
           (double)outb[3] / 1e6 / best[3], best[3] * 1e9 / rec);
    printf("  JSON load -> proto    %8.0f MB/s of JSON in  (%.0f ns/record)\n",
           jmb / best[4], best[4] * 1e9 / rec);
    free(offs);
    sl_buf_free(&pbuf);
    sl_buf_free(&out);
    sl_otlp_free(o);
}

int main(int argc, char **argv) {
    long mb = argc > 1 ? atol(argv[1]) : 100;
    const char *path = argc > 2 ? argv[2] : "/tmp/sluice-bench-otlp-logs.jsonl";
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text || len < (size_t)mb * 1000000 * 9 / 10) {
        free(text);
        FILE *f = fopen(path, "wb");
        if (!f) {
            fprintf(stderr, "bench_otlp: cannot write %s\n", path);
            return 1;
        }
        while (ftell(f) < mb * 1000000) {
            gen_line(f, 20);
        }
        fclose(f);
        text = read_file(path, &len);
        if (!text) {
            return 1;
        }
    }
    double mbytes = (double)len / 1e6;
    sl_otlp *o = sl_otlp_new();
    sl_buf out = {0};
    sl_error err;
    size_t records = 0, docs = 0, outbytes = 0;
    double best_parse = 1e9, best_load = 1e9, best_write = 1e9, best_all = 1e9;
    sl_doc *doc = sl_doc_new();
    for (int rep = 0; rep < 3; rep++) {
        /* the JSON reader alone, for reference */
        double tp = now();
        size_t poff = 0;
        while (sl_doc_load_next(doc, text, len, &poff, path, NULL, &err) ==
               SL_OK) {
        }
        tp = now() - tp;
        if (tp < best_parse) {
            best_parse = tp;
        }
        /* load + index only */
        double t0 = now();
        size_t off = 0;
        records = docs = 0;
        for (;;) {
            sl_status rc = sl_otlp_load(o, text, len, &off, path, &err);
            if (rc == SL_ENOTFOUND) {
                break;
            }
            if (rc != SL_OK) {
                fprintf(stderr, "%s:%u:%u: %s\n", err.file, err.line, err.col,
                        err.msg);
                return 1;
            }
            records += sl_otlp_count(o);
            docs++;
        }
        double t1 = now();
        /* write alone (nothing dropped), timed around each write */
        off = 0;
        double tw = 0;
        for (;;) {
            if (sl_otlp_load(o, text, len, &off, path, &err) != SL_OK) {
                break;
            }
            out.len = 0;
            double t2 = now();
            sl_otlp_write(o, &out, &err);
            tw += now() - t2;
        }
        /* load + drop a quarter + write: the apply path without policies */
        off = 0;
        outbytes = 0;
        double t4 = now();
        for (;;) {
            if (sl_otlp_load(o, text, len, &off, path, &err) != SL_OK) {
                break;
            }
            size_t n = sl_otlp_count(o);
            for (size_t i = 0; i < n; i += 4) {
                sl_otlp_drop(o, i);
            }
            out.len = 0;
            sl_otlp_write(o, &out, &err);
            outbytes += out.len;
        }
        double t5 = now();
        if (t1 - t0 < best_load) {
            best_load = t1 - t0;
        }
        if (tw < best_write) {
            best_write = tw;
        }
        if (t5 - t4 < best_all) {
            best_all = t5 - t4;
        }
    }
    /* field access on the last request: what a policy pays per read */
    {
        size_t off0 = 0;
        sl_otlp_load(o, text, len, &off0, path, &err);
        size_t n = sl_otlp_count(o);
        static const sl_str user = {"user.id", 7}, svc = {"service.name", 12};
        const sl_field fields[] = {
            {SL_FIELD_LOG_BODY, NULL, 0},
            {SL_FIELD_LOG_SEVERITY_TEXT, NULL, 0},
            {SL_FIELD_ATTR, &user, 1},
            {SL_FIELD_RESOURCE_ATTR, &svc, 1},
        };
        const char *names[] = {"body", "severity_text", "attribute user.id",
                               "resource attribute service.name"};
        for (size_t k = 0; k < 4; k++) {
            double t0 = now();
            size_t hits = 0;
            for (int rep = 0; rep < 20000; rep++) {
                for (size_t i = 0; i < n; i++) {
                    sl_str v;
                    hits += sl_otlp_get(o, i, &fields[k], &v);
                }
            }
            double t = now() - t0;
            printf("  get %-32s %5.1f ns (%zu hits)\n", names[k],
                   t * 1e9 / (20000.0 * (double)n), hits);
        }
    }
    bench_proto(text, len, path, records);
    printf("otlp bench: %s: %.1f MB, %zu requests, %zu log records\n", path,
           mbytes, docs, records);
    printf("  JSON parse only       %8.0f MB/s\n", mbytes / best_parse);
    printf("  load+validate+index   %8.0f MB/s  (%.0f ns/record)\n",
           mbytes / best_load, best_load * 1e9 / (double)records);
    printf("  write (all kept)      %8.0f MB/s\n", mbytes / best_write);
    printf("  load+drop 1/4+write   %8.0f MB/s  (%.1f MB out)\n",
           mbytes / best_all, (double)outbytes / 1e6);
    sl_buf_free(&out);
    sl_doc_free(doc);
    sl_otlp_free(o);
    free(text);
    return 0;
}

/* bench/serve_loadgen.c: an HTTP/1.1 load generator for `sluice serve`
 * (make bench) that does not hide queueing: open loop at a fixed rate,
 * latency measured from each request's scheduled send time.
 *
 *   serve_loadgen --url http://HOST:PORT/PATH --body FILE
 *                 [--type CONTENT-TYPE] [--conns N] [--duration S]
 *                 [--rate REQ_PER_S [--arrivals even|poisson]]
 *                 [--requests N]
 *
 * Without --rate: closed loop (each connection sends its next request as
 * soon as the previous answer is in), for the peak; --requests N stops
 * after N requests (closed loop: a fixed amount of work, for callgrind). With
 * --rate: arrival times are scheduled in advance, evenly spaced (or Poisson)
 * over the whole run, not in bursts per connection; an arrival is sent by the
 * next idle keep-alive connection in turn, and if none is idle it waits in a
 * queue and its wait counts in its latency (no coordinated omission, as wrk2).
 * One thread, epoll, pre-built request bytes (headers + body), HTTP/1.1
 * keep-alive, responses framed by Content-Length.
 * Prints one JSON object: requests scheduled / completed, 2xx and other
 * statuses, socket errors, elapsed seconds, requests/s, latency
 * percentiles in ms, and the largest send lag behind schedule. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

typedef struct conn {
    int fd;
    bool busy;
    uint64_t
        sched_ns; /* the request's scheduled (open) or send (closed) time */
    size_t sent;  /* bytes of the request written */
    char in[8192];
    size_t in_len;
    size_t need; /* total response bytes once the head is parsed, 0 = unknown */
} conn;

typedef struct run {
    const char *req; /* head + body */
    size_t req_len;
    struct sockaddr_in addr;
    int ep;
    conn *conns;
    int nconns;
    uint64_t *lat_ns;
    size_t nlat, cap_lat;
    uint64_t ok, other, errors;
    uint64_t max_lag_ns;
} run;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "serve_loadgen: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void usage(void) {
    fprintf(stderr,
            "usage: serve_loadgen --url http://HOST:PORT/PATH --body FILE "
            "[--type T] [--conns N] [--duration S] [--rate R "
            "[--arrivals even|poisson]] [--requests N]\n");
    exit(2);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        die(path);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        die(path);
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void conn_open(run *r, conn *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        die("socket");
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&r->addr, sizeof(r->addr)) != 0 &&
        errno != EINPROGRESS) {
        die("connect");
    }
    c->busy = false;
    c->in_len = c->need = c->sent = 0;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET,
                             .data.ptr = c};
    if (epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        die("epoll_ctl");
    }
}

static void conn_reset(run *r, conn *c) {
    r->errors++;
    close(c->fd); /* removes it from the epoll set */
    conn_open(r, c);
}

static void record(run *r, uint64_t lat) {
    if (r->nlat == r->cap_lat) {
        r->cap_lat = r->cap_lat ? r->cap_lat * 2 : 4096;
        r->lat_ns = realloc(r->lat_ns, r->cap_lat * sizeof(uint64_t));
        if (!r->lat_ns) {
            die("out of memory");
        }
    }
    r->lat_ns[r->nlat++] = lat;
}

/* Write what is left of the request; false on a socket error. */
static bool conn_write(run *r, conn *c) {
    while (c->sent < r->req_len) {
        ssize_t w =
            send(c->fd, r->req + c->sent, r->req_len - c->sent, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            return true;
        }
        if (w <= 0) {
            return false;
        }
        c->sent += (size_t)w;
    }
    return true;
}

static void conn_start(run *r, conn *c, uint64_t sched) {
    c->busy = true;
    c->sched_ns = sched;
    c->sent = 0;
    c->in_len = c->need = 0;
    uint64_t now = now_ns();
    if (now > sched && now - sched > r->max_lag_ns) {
        r->max_lag_ns = now - sched;
    }
    if (!conn_write(r, c)) {
        conn_reset(r, c);
    }
}

/* Find the end of the response head and its Content-Length. */
static void parse_head(conn *c) {
    c->in[c->in_len < sizeof(c->in) ? c->in_len : sizeof(c->in) - 1] = '\0';
    char *end = strstr(c->in, "\r\n\r\n");
    if (!end) {
        return;
    }
    size_t body = 0;
    for (char *p = c->in; p < end; p++) {
        if ((*p == 'C' || *p == 'c') &&
            strncasecmp(p, "content-length:", 15) == 0) {
            body = strtoul(p + 15, NULL, 10);
        }
    }
    c->need = (size_t)(end + 4 - c->in) + body;
}

/* Read the response; true when one finished (c is idle again). */
static bool conn_read(run *r, conn *c) {
    for (;;) {
        char tmp[65536];
        char *dst = c->need == 0 ? c->in + c->in_len : tmp;
        size_t room =
            c->need == 0 ? sizeof(c->in) - 1 - c->in_len : sizeof(tmp);
        ssize_t n = recv(c->fd, dst, room, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return false;
        }
        if (n <= 0) {
            if (c->busy) {
                conn_reset(r, c);
            }
            return false;
        }
        size_t got = (size_t)n;
        if (c->need == 0) {
            c->in_len += got;
            parse_head(c);
            if (c->need == 0 && c->in_len >= sizeof(c->in) - 1) {
                conn_reset(r, c); /* head too long */
                return false;
            }
        } else {
            c->in_len += got;
        }
        if (c->need && c->in_len >= c->need) {
            int status = (int)strtol(c->in + 9, NULL, 10);
            if (status >= 200 && status < 300) {
                r->ok++;
            } else {
                r->other++;
            }
            record(r, now_ns() - c->sched_ns);
            c->busy = false;
            c->in_len = c->need = 0;
            return true;
        }
    }
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const run *r, double p) {
    if (r->nlat == 0) {
        return 0;
    }
    size_t i = (size_t)(p / 100.0 * (double)r->nlat);
    if (i >= r->nlat) {
        i = r->nlat - 1;
    }
    return (double)r->lat_ns[i] / 1e6;
}

int main(int argc, char **argv) {
    const char *url = NULL, *body_path = NULL, *type = "application/json";
    const char *arrivals = "even";
    int nconns = 8;
    double duration = 5, rate = 0;
    long max_requests = 0; /* closed loop: 0 = until --duration */
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            usage();
        }
        if (strcmp(argv[i], "--url") == 0) {
            url = v;
        } else if (strcmp(argv[i], "--body") == 0) {
            body_path = v;
        } else if (strcmp(argv[i], "--type") == 0) {
            type = v;
        } else if (strcmp(argv[i], "--conns") == 0) {
            nconns = (int)strtol(v, NULL, 10);
        } else if (strcmp(argv[i], "--duration") == 0) {
            duration = strtod(v, NULL);
        } else if (strcmp(argv[i], "--rate") == 0) {
            rate = strtod(v, NULL);
        } else if (strcmp(argv[i], "--requests") == 0) {
            max_requests = strtol(v, NULL, 10);
            duration = 86400; /* the count ends the run */
        } else if (strcmp(argv[i], "--arrivals") == 0) {
            arrivals = v;
        } else {
            usage();
        }
        i++;
    }
    bool poisson = strcmp(arrivals, "poisson") == 0;
    if (!url || !body_path || nconns < 1 || nconns > 4096 || duration <= 0 ||
        rate < 0 || (!poisson && strcmp(arrivals, "even") != 0)) {
        usage();
    }
    char host[64];
    unsigned port = 0;
    char path[1024] = "/";
    if (sscanf(url, "http://%63[^:]:%u%1023s", host, &port, path) < 2) {
        usage();
    }
    run r = {0};
    r.addr.sin_family = AF_INET;
    r.addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &r.addr.sin_addr) != 1) {
        fprintf(stderr, "serve_loadgen: HOST must be an IPv4 address\n");
        return 2;
    }
    size_t blen = 0;
    char *body = read_file(body_path, &blen);
    char head[2048];
    int hl = snprintf(head, sizeof(head),
                      "POST %s HTTP/1.1\r\nHost: %s:%u\r\nContent-Type: %s\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      path, host, port, type, blen);
    char *req = malloc((size_t)hl + blen);
    if (!req) {
        die("out of memory");
    }
    memcpy(req, head, (size_t)hl);
    memcpy(req + hl, body, blen);
    free(body);
    r.req = req;
    r.req_len = (size_t)hl + blen;
    r.ep = epoll_create1(EPOLL_CLOEXEC);
    r.nconns = nconns;
    r.conns = calloc((size_t)nconns, sizeof(conn));
    if (r.ep < 0 || !r.conns) {
        die("setup");
    }
    for (int i = 0; i < nconns; i++) {
        conn_open(&r, &r.conns[i]);
    }
    uint64_t rng = 0x9E3779B97F4A7C15ull;  /* xorshift64: repeatable runs */
    uint64_t start = now_ns() + 50000000u; /* connections settle first */
    uint64_t stop = start + (uint64_t)(duration * 1e9);
    uint64_t next_arrival = start; /* open loop: the next scheduled send */
    int next_conn = 0; /* where the search for an idle connection starts */
    uint64_t scheduled = 0;
    /* arrivals due but not yet sent (every connection busy): FIFO of
     * scheduled times, oldest first */
    size_t qcap = 1 << 16, qhead = 0, qlen = 0;
    uint64_t *queue = malloc(qcap * sizeof(uint64_t));
    if (!queue) {
        die("out of memory");
    }
    /* open loop: a timer at the next arrival (epoll has ms resolution) */
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event tev = {.events = EPOLLIN, .data.ptr = NULL};
    if (tfd < 0 || epoll_ctl(r.ep, EPOLL_CTL_ADD, tfd, &tev) != 0) {
        die("timerfd");
    }
    struct timespec pause = {0, 50000000};
    nanosleep(&pause, NULL);
    for (;;) {
        uint64_t now = now_ns();
        if (rate > 0) {
            while (next_arrival <= now && next_arrival < stop) {
                if (qlen == qcap) {
                    uint64_t *nq = malloc(2 * qcap * sizeof(uint64_t));
                    if (!nq) {
                        die("out of memory");
                    }
                    for (size_t k = 0; k < qlen; k++) {
                        nq[k] = queue[(qhead + k) % qcap];
                    }
                    free(queue);
                    queue = nq;
                    qhead = 0;
                    qcap *= 2;
                }
                queue[(qhead + qlen++) % qcap] = next_arrival;
                scheduled++;
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                double u = (double)(rng >> 11) / 9007199254740992.0; /* [0,1) */
                double gap = poisson ? -log(1.0 - u) / rate : 1.0 / rate;
                next_arrival += (uint64_t)(gap * 1e9);
            }
        }
        /* hand work to idle connections, in turn from the one after the
         * last used: always taking the lowest-numbered idle connection
         * would load the server's workers unevenly at part load */
        for (int k = 0; k < nconns; k++) {
            int i = (next_conn + k) % nconns;
            conn *c = &r.conns[i];
            if (c->busy) {
                continue;
            }
            if (rate > 0 && qlen > 0) {
                uint64_t t = queue[qhead];
                qhead = (qhead + 1) % qcap;
                qlen--;
                conn_start(&r, c, t);
                next_conn = (i + 1) % nconns;
            } else if (rate == 0 && now < stop &&
                       (max_requests == 0 ||
                        scheduled < (uint64_t)max_requests)) {
                scheduled++;
                conn_start(&r, c, now_ns());
                next_conn = (i + 1) % nconns;
            }
        }
        bool busy = false;
        for (int i = 0; i < nconns && !busy; i++) {
            busy = r.conns[i].busy;
        }
        if ((now >= stop ||
             (max_requests > 0 && scheduled >= (uint64_t)max_requests)) &&
            !busy && qlen == 0) {
            break;
        }
        if (now >= stop + 30000000000ull) {
            break; /* the server stopped answering: report what we have */
        }
        int timeout_ms = 100;
        if (rate > 0 && next_arrival < stop) {
            struct itimerspec its = {
                .it_value = {(time_t)(next_arrival / 1000000000u),
                             (long)(next_arrival % 1000000000u)}};
            timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
        }
        struct epoll_event evs[256];
        int n = epoll_wait(r.ep, evs, 256, timeout_ms);
        if (n < 0 && errno != EINTR) {
            die("epoll_wait");
        }
        for (int k = 0; k < n; k++) {
            conn *c = evs[k].data.ptr;
            if (!c) {
                uint64_t ticks;
                if (read(tfd, &ticks, sizeof(ticks)) < 0) {
                    /* nothing to do: the loop re-reads the clock */
                }
                continue;
            }
            if (!c->busy) {
                char tmp[256];
                if (recv(c->fd, tmp, sizeof(tmp), MSG_PEEK) == 0) {
                    close(c->fd); /* closed by the server while idle */
                    conn_open(&r, c);
                }
                continue;
            }
            if (evs[k].events & EPOLLOUT) {
                if (!conn_write(&r, c)) {
                    conn_reset(&r, c);
                    continue;
                }
            }
            if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                conn_read(&r, c);
            }
        }
    }
    double elapsed = (double)(now_ns() - start) / 1e9;
    qsort(r.lat_ns, r.nlat, sizeof(uint64_t), cmp_u64);
    printf("{\"mode\":\"%s\",\"rate\":%.1f,\"arrivals\":\"%s\",\"conns\":%d,"
           "\"scheduled\":%llu,\"completed\":%zu,\"ok\":%llu,\"other\":%llu,"
           "\"errors\":%llu,\"unsent\":%zu,\"elapsed_s\":%.3f,\"rps\":%.1f,"
           "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,"
           "\"max_ms\":%.3f,\"max_send_lag_ms\":%.3f}\n",
           rate > 0 ? "open" : "closed", rate, arrivals, nconns,
           (unsigned long long)scheduled, r.nlat, (unsigned long long)r.ok,
           (unsigned long long)r.other, (unsigned long long)r.errors, qlen,
           elapsed, (double)r.nlat / elapsed, pct(&r, 50), pct(&r, 90),
           pct(&r, 99), pct(&r, 99.9), r.nlat ? pct(&r, 100) : 0,
           (double)r.max_lag_ns / 1e6);
    for (int i = 0; i < nconns; i++) {
        close(r.conns[i].fd);
    }
    close(tfd);
    close(r.ep);
    free(queue);
    free(r.lat_ns);
    free(r.conns);
    free(req);
    return r.nlat > 0 ? 0 : 1;
}

/* bench/bench_patset.c: cost of one sl_patset_scan for sets of 1, 10, 100,
 * 1,000 and 10,000 mixed patterns (a quarter each exact, caseless prefix,
 * contains, regex) over ~60-byte values, matching and not matching; plus
 * the compile time of each set and sl_regex_replace on the same values.
 * CPU time (the machine is shared), best of three runs, ns per scan.
 * Usage: bench_patset [--scans N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/match.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int count_hit(uint32_t id, size_t from, size_t to, void *ctx) {
    (void)id;
    (void)from;
    (void)to;
    (*(size_t *)ctx)++;
    return 0;
}

enum {
    NVALUES = 64,
    VLEN = 64
};

static void make_pattern(unsigned i, sl_pat *p, char *text) {
    switch (i % 4) {
    case 0:
        snprintf(text, 64,
                 "GET /api/v1/orders/%05u HTTP/1.1 host=shop.example.com", i);
        *p = (sl_pat){.kind = SL_PAT_EXACT};
        break;
    case 1:
        snprintf(text, 64, "/SVC/%05u/", i);
        *p = (sl_pat){.kind = SL_PAT_PREFIX, .flags = SL_PAT_CASELESS};
        break;
    case 2:
        snprintf(text, 64, "err%05ux", i);
        *p = (sl_pat){.kind = SL_PAT_CONTAINS};
        break;
    default:
        snprintf(text, 64, "user-%05u-(get|put)", i);
        *p = (sl_pat){.kind = SL_PAT_REGEX};
        break;
    }
    p->text = text;
    p->len = strlen(text);
    p->id = i;
}

/* A ~60-byte value that matches pattern i (match) or nothing (!match). */
static void make_value(unsigned i, int match, char *v) {
    if (!match) {
        snprintf(v, VLEN,
                 "POST /internal/batch/%07u status=200 took=%03ums ok=true", i,
                 i % 997);
        return;
    }
    switch (i % 4) {
    case 0:
        snprintf(v, VLEN,
                 "GET /api/v1/orders/%05u HTTP/1.1 host=shop.example.com", i);
        break;
    case 1:
        snprintf(v, VLEN,
                 "/svc/%05u/handler?trace=abcdef0123456789abcdef&span=42", i);
        break;
    case 2:
        snprintf(v, VLEN,
                 "worker 7 failed: err%05ux while writing chunk 42 of 99", i);
        break;
    default:
        snprintf(v, VLEN,
                 "audit user-%05u-put bucket=photos size=1234 region=eu", i);
        break;
    }
}

static void bench_set(unsigned n, long scans) {
    sl_pat *pats = calloc(n, sizeof(*pats));
    char *texts = calloc(n, 64);
    for (unsigned i = 0; i < n; i++) {
        make_pattern(i, &pats[i], texts + (size_t)i * 64);
    }
    sl_patset *set = NULL;
    sl_error err = {0};
    double t0 = now();
    if (sl_patset_compile(pats, n, &set, &err) != SL_OK) {
        fprintf(stderr, "bench_patset: %s\n", err.msg);
        exit(1);
    }
    double compile = now() - t0;
    sl_scratch *scr = NULL;
    if (sl_scratch_reserve(&scr, set) != SL_OK) {
        fprintf(stderr, "bench_patset: no scratch\n");
        exit(1);
    }
    for (int match = 1; match >= 0; match--) {
        static char values[NVALUES][VLEN];
        size_t lens[NVALUES];
        double bytes = 0;
        for (unsigned k = 0; k < NVALUES; k++) {
            /* spread over all four kinds and over the whole set */
            unsigned i = (unsigned)(((unsigned long)k * 7919u) % n);
            make_value(i, match, values[k]);
            lens[k] = strlen(values[k]);
            bytes += (double)lens[k];
        }
        double best = 1e30;
        size_t hits = 0;
        for (int run = 0; run < 3; run++) {
            hits = 0;
            double s0 = now();
            for (long r = 0; r < scans; r++) {
                unsigned k = (unsigned)(r % NVALUES);
                sl_patset_scan(set, values[k], lens[k], scr, count_hit, &hits);
            }
            double dt = now() - s0;
            if (dt < best) {
                best = dt;
            }
        }
        printf("patset %6u patterns  %-12s %8.1f ns/scan  (%.0f-byte "
               "values, %zu hits/run, compile %.3f s)\n",
               n, match ? "matching" : "non-matching", best * 1e9 / scans,
               bytes / NVALUES, hits, compile);
    }
    sl_scratch_free(scr);
    sl_patset_free(set);
    free(pats);
    free(texts);
}

static void bench_replace(long scans) {
    const char *re_text = "(?P<k>token|secret)=(\\S+)";
    sl_regex *re = NULL;
    sl_error err = {0};
    if (sl_regex_compile(re_text, strlen(re_text), 0, &re, &err) != SL_OK) {
        fprintf(stderr, "bench_patset: %s\n", err.msg);
        exit(1);
    }
    const char *vals[2] = {
        "GET /login?user=bob&token=abc123def456 HTTP/1.1 host=shop.io",
        "GET /login?user=bob&page=2&sort=asc HTTP/1.1 host=shop.example"};
    sl_buf out = {0};
    for (int v = 0; v < 2; v++) {
        size_t len = strlen(vals[v]);
        double best = 1e30;
        for (int run = 0; run < 3; run++) {
            double s0 = now();
            for (long r = 0; r < scans; r++) {
                out.len = 0;
                sl_regex_replace(re, vals[v], len, "$k=***", 6, &out, NULL,
                                 NULL);
            }
            double dt = now() - s0;
            if (dt < best) {
                best = dt;
            }
        }
        printf("regex replace          %-12s %8.1f ns/call  (%zu-byte "
               "value)\n",
               v == 0 ? "matching" : "non-matching", best * 1e9 / scans, len);
    }
    sl_buf_free(&out);
    sl_regex_free(re);
}

int main(int argc, char **argv) {
    long scans = 200000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--scans") == 0 && i + 1 < argc) {
            scans = strtol(argv[++i], NULL, 10);
        }
    }
    if (scans < 1) {
        scans = 1;
    }
    static const unsigned sizes[] = {1, 10, 100, 1000, 10000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        bench_set(sizes[i], scans);
    }
    bench_replace(scans);
    return 0;
}

/* tests/policy/test_threads.c: one compiled set evaluated from several
 * threads at once, each with its own context and batch (the design of
 * `apply --threads` and `serve`): a rate limit of N per window is N in
 * total across the threads, never N per thread, and the counters add up
 * to exactly what one thread counts, also when each thread holds its
 * counts back and publishes them after each batch (policy/defer.h). */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <sluice/sluice.h>

#include "policy/defer.h"

static _Atomic uint64_t shared_now = 1000;

static uint64_t shared_clock(void *ctx) {
    (void)ctx;
    return atomic_load(&shared_now);
}

static const char policies[] =
    "{\"policies\":["
    "{\"id\":\"rate\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
    "\"severity_text\",\"exact\":\"INFO\"}],\"keep\":\"7/s\"}},"
    "{\"id\":\"drop-debug\",\"name\":\"n\",\"log\":{\"match\":[{\"log_"
    "field\":\"severity_text\",\"exact\":\"DEBUG\"}],\"keep\":\"none\"}}"
    "]}";

/* A request of 50 records: 30 INFO, 20 DEBUG. */
static const char *request(void) {
    static _Thread_local char text[8192]; /* each thread writes its own */
    size_t n = (size_t)snprintf(
        text, sizeof(text),
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[");
    for (int i = 0; i < 50; i++) {
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "%s{\"severityText\":\"%s\",\"body\":"
                              "{\"stringValue\":\"r%d\"}}",
                              i ? "," : "", i % 5 < 3 ? "INFO" : "DEBUG", i);
    }
    snprintf(text + n, sizeof(text) - n, "]}]}]}");
    return text;
}

static sl_policy_set *load(void) {
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_assert_eq(sl_doc_load(doc, policies, strlen(policies), SL_FORMAT_JSON,
                             "p.json", NULL, &err),
                 SL_OK, "%s", err.msg);
    sl_policy_opts opts = {.clock = shared_clock};
    sl_policy_set *set = NULL;
    cr_assert_eq(
        sl_policy_load((const sl_doc *const *)&doc, 1, &opts, &set, &err),
        SL_OK, "%s", err.msg);
    sl_doc_free(doc);
    return set;
}

typedef struct worker {
    const sl_policy_set *set;
    int batches;
    bool defer;               /* hold counts back, publish after each batch */
    uint64_t kept_info, kept; /* records this thread let through */
} worker;

static void *evaluate(void *arg) {
    worker *w = arg;
    sl_policy_ctx *ctx = NULL;
    sl_otlp *o = sl_otlp_new();
    if (!o || sl_policy_ctx_new(w->set, &ctx, NULL) != SL_OK) {
        return "setup";
    }
    if (w->defer && sl__policy_ctx_defer_counts(ctx) != SL_OK) {
        return "defer";
    }
    const char *text = request();
    for (int b = 0; b < w->batches; b++) {
        if (sl_otlp_load(o, text, strlen(text), NULL, "in.json", NULL) !=
            SL_OK) {
            return "load";
        }
        for (size_t i = 0; i < sl_otlp_count(o); i++) {
            sl_policy_result r;
            if (sl_policy_eval(ctx, o, i, SL_POLICY_DECIDE, &r, NULL) !=
                SL_OK) {
                return "eval";
            }
            w->kept += r.keep;
            w->kept_info += r.keep && r.decision == SL_DECISION_RATE_ALLOW;
        }
        sl__policy_ctx_publish_counts(ctx);
    }
    sl_policy_ctx_free(ctx);
    sl_otlp_free(o);
    return NULL;
}

/* Run n threads of `batches` requests each; returns the records kept. */
static uint64_t run_threads_opt(const sl_policy_set *set, int n, int batches,
                                bool defer, uint64_t *kept_info) {
    pthread_t t[8];
    worker w[8];
    for (int i = 0; i < n; i++) {
        w[i] = (worker){.set = set, .batches = batches, .defer = defer};
        cr_assert_eq(pthread_create(&t[i], NULL, evaluate, &w[i]), 0);
    }
    uint64_t kept = 0;
    *kept_info = 0;
    for (int i = 0; i < n; i++) {
        void *failed = NULL;
        pthread_join(t[i], &failed);
        cr_assert_null(failed, "thread %d: %s", i, (char *)failed);
        kept += w[i].kept;
        *kept_info += w[i].kept_info;
    }
    return kept;
}

static uint64_t run_threads(const sl_policy_set *set, int n, int batches,
                            uint64_t *kept_info) {
    return run_threads_opt(set, n, batches, false, kept_info);
}

static sl_policy_stats stats(const sl_policy_set *set, const char *id) {
    sl_policy_stats st;
    sl_policy_stats_get(set, sl_policy_find(set, id), &st);
    return st;
}

Test(threads, rate_limit_is_shared_by_all_threads) {
    sl_policy_set *set = load();
    atomic_store(&shared_now, 1000);
    uint64_t info = 0;
    /* 4 threads x 40 requests x 30 INFO records, all in one window */
    uint64_t kept = run_threads(set, 4, 40, &info);
    cr_assert_eq(info, 7, "at most 7 per window in total, got %llu",
                 (unsigned long long)info);
    cr_assert_eq(kept, 7);
    sl_policy_stats st = stats(set, "rate");
    cr_assert_eq(st.hits, 4 * 40 * 30);
    cr_assert_eq(st.kept, 7);
    cr_assert_eq(st.rate_limited, 4 * 40 * 30 - 7);
    /* the next window: 7 more, again in total */
    atomic_store(&shared_now, 1000 + 1000000000ull);
    kept = run_threads(set, 4, 10, &info);
    cr_assert_eq(info, 7);
    cr_assert_eq(stats(set, "rate").kept, 14);
    sl_policy_set_free(set);
}

/* One thread over 200 batches and four over 50 each (held_back: each
 * context holds its counts back and publishes them at the end) keep the
 * same records and leave the same statistics. */
static void four_threads_count_as_one(bool held_back, uint64_t now) {
    sl_policy_set *one = load();
    sl_policy_set *four = load();
    atomic_store(&shared_now, now);
    uint64_t info = 0;
    uint64_t kept1 = run_threads(one, 1, 200, &info);
    uint64_t kept4 = run_threads_opt(four, 4, 50, held_back, &info);
    cr_assert_eq(kept1, kept4);
    const char *ids[] = {"rate", "drop-debug"};
    for (size_t k = 0; k < 2; k++) {
        sl_policy_stats a = stats(one, ids[k]), b = stats(four, ids[k]);
        cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0,
                     "%s: hits %llu/%llu dropped %llu/%llu", ids[k],
                     (unsigned long long)a.hits, (unsigned long long)b.hits,
                     (unsigned long long)a.dropped,
                     (unsigned long long)b.dropped);
    }
    cr_assert_eq(stats(four, "drop-debug").dropped, 200 * 20);
    sl_policy_set_free(one);
    sl_policy_set_free(four);
}

Test(threads, counters_add_up_to_the_single_thread_counts) {
    four_threads_count_as_one(false, 5000);
}

Test(threads, held_back_counts_add_up_to_the_single_thread_counts) {
    four_threads_count_as_one(true, 9000);
}

Test(threads, held_back_counts_show_only_once_published) {
    sl_policy_set *set = load();
    atomic_store(&shared_now, 12000);
    sl_policy_ctx *ctx = NULL;
    sl_otlp *o = sl_otlp_new();
    cr_assert_not_null(o);
    cr_assert_eq(sl_policy_ctx_new(set, &ctx, NULL), SL_OK);
    cr_assert_eq(sl__policy_ctx_defer_counts(ctx), SL_OK);
    const char *text = request();
    cr_assert_eq(sl_otlp_load(o, text, strlen(text), NULL, "in.json", NULL),
                 SL_OK);
    for (size_t i = 0; i < sl_otlp_count(o); i++) {
        cr_assert_eq(sl_policy_eval(ctx, o, i, SL_POLICY_DECIDE, NULL, NULL),
                     SL_OK);
    }
    cr_assert_eq(stats(set, "drop-debug").hits, 0, "held back");
    cr_assert_eq(stats(set, "rate").hits, 0, "held back");
    sl__policy_ctx_publish_counts(ctx);
    cr_assert_eq(stats(set, "drop-debug").hits, 20);
    cr_assert_eq(stats(set, "drop-debug").dropped, 20);
    cr_assert_eq(stats(set, "rate").hits, 30);
    cr_assert_eq(stats(set, "rate").kept, 7);
    cr_assert_eq(stats(set, "rate").rate_limited, 23);
    /* published once: a second publish adds nothing */
    sl__policy_ctx_publish_counts(ctx);
    cr_assert_eq(stats(set, "drop-debug").hits, 20);
    /* what is held at free is published by free */
    cr_assert_eq(sl_policy_eval(ctx, o, 3, SL_POLICY_DECIDE, NULL, NULL),
                 SL_OK); /* record 3: DEBUG */
    sl_policy_ctx_free(ctx);
    cr_assert_eq(stats(set, "drop-debug").dropped, 21);
    sl_otlp_free(o);
    sl_policy_set_free(set);
}

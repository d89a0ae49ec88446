/* tests/policy/test_reload.c: sl_policy_reload carries state over by
 * policy id: counters kept, rate windows kept (a changed limit starts a
 * fresh one), removed policies left out, new ones at zero; the old
 * snapshot keeps working and its counts land in the shared counters;
 * a failed reload changes nothing; allocation failures are reported
 * without leaks. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdlib.h>

#include "policy/private.h"

static uint64_t now;

static uint64_t test_clock(void *ctx) {
    (void)ctx;
    return now;
}

static const uint64_t SEC = 1000000000u;

static sl_doc *parse(const char *text) {
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_assert_not_null(doc);
    cr_assert_eq(sl_doc_load(doc, text, strlen(text), SL_FORMAT_JSON, "p.json",
                             NULL, &err),
                 SL_OK, "%s", err.msg);
    return doc;
}

/* Load text, or reload it over prev when prev is not NULL. */
static sl_policy_set *load(const sl_policy_set *prev, const char *text) {
    sl_doc *doc = parse(text);
    sl_policy_opts opts = {.clock = test_clock};
    sl_policy_set *set = NULL;
    sl_error err = {0};
    sl_status rc = sl_policy_reload(prev, (const sl_doc *const *)&doc, 1, &opts,
                                    &set, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.msg);
    cr_assert_eq(sl_policy_problem_count(set), 0, "%s",
                 sl_policy_problem(set, 0)->msg);
    sl_doc_free(doc);
    return set;
}

static sl_policy_stats stats(const sl_policy_set *set, const char *id) {
    size_t i = sl_policy_find(set, id);
    cr_assert_neq(i, SIZE_MAX, "no policy %s", id);
    sl_policy_stats st;
    sl_policy_stats_get(set, i, &st);
    return st;
}

#define LOG(sev) \
    "{\"severityText\":\"" sev "\",\"body\":{\"stringValue\":\"b\"}}"
#define LOGS(recs) \
    "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[" recs "]}]}]}"
#define POL(id, sev, keep)                                                  \
    "{\"id\":\"" id "\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":" \
    "\"severity_text\",\"exact\":\"" sev "\"}],\"keep\":\"" keep "\"}}"
#define SET(pols) "{\"policies\":[" pols "]}"

static sl_otlp *batch(const char *text) {
    sl_otlp *o = sl_otlp_new();
    sl_error err = {0};
    cr_assert_not_null(o);
    cr_assert_eq(sl_otlp_load(o, text, strlen(text), NULL, "in.json", &err),
                 SL_OK, "%s", err.msg);
    return o;
}

/* Evaluate record i through a fresh context of set; the decision. */
static sl_policy_decision eval(const sl_policy_set *set, sl_otlp *o, size_t i) {
    sl_policy_ctx *ctx = NULL;
    cr_assert_eq(sl_policy_ctx_new(set, &ctx, NULL), SL_OK);
    sl_policy_result r;
    cr_assert_eq(sl_policy_eval(ctx, o, i, SL_POLICY_DECIDE, &r, NULL), SL_OK);
    sl_policy_ctx_free(ctx);
    return r.decision;
}

Test(reload, counters_carried_by_id_removed_left_out_new_at_zero) {
    sl_otlp *o = batch(LOGS(LOG("DEBUG") "," LOG("INFO") "," LOG("WARN")));
    sl_policy_set *a =
        load(NULL,
             SET(POL("debug", "DEBUG", "none") "," POL("gone", "INFO", "all")));
    eval(a, o, 0);
    eval(a, o, 0);
    eval(a, o, 1);
    /* "debug" now matches WARN too and keeps all: the counters follow the
     * id, whatever the policy's body became */
    sl_policy_set *b = load(
        a, SET(POL("new", "INFO", "none") "," POL("debug", "WARN", "all")));
    cr_assert_eq(sl_policy_count(b), 2);
    cr_assert_eq(sl_policy_find(b, "gone"), SIZE_MAX);
    sl_policy_stats st = stats(b, "debug");
    cr_assert_eq(st.hits, 2);
    cr_assert_eq(st.dropped, 2);
    st = stats(b, "new");
    cr_assert_eq(st.hits + st.misses + st.kept + st.dropped, 0);
    cr_assert_eq(eval(b, o, 2), SL_DECISION_KEEP);
    cr_assert_eq(eval(b, o, 1), SL_DECISION_DROP);
    st = stats(b, "debug");
    cr_assert_eq(st.hits, 3);
    cr_assert_eq(st.dropped, 2);
    cr_assert_eq(st.kept, 1);
    cr_assert_eq(stats(b, "new").dropped, 1);
    /* the removed policy's counters stay readable through the old set */
    cr_assert_eq(stats(a, "gone").kept, 1);
    sl_policy_set_free(a);
    /* the new set owns what it carried: still there after the old is freed */
    cr_assert_eq(stats(b, "debug").hits, 3);
    sl_policy_set_free(b);
    sl_otlp_free(o);
}

Test(reload, old_snapshot_keeps_working_and_counts_into_the_new) {
    sl_otlp *o = batch(LOGS(LOG("DEBUG")));
    sl_policy_set *a = load(NULL, SET(POL("debug", "DEBUG", "none")));
    sl_policy_ctx *old_ctx = NULL;
    cr_assert_eq(sl_policy_ctx_new(a, &old_ctx, NULL), SL_OK);
    cr_assert_eq(sl_policy_eval(old_ctx, o, 0, 0, NULL, NULL), SL_OK);
    sl_policy_set *b = load(a, SET(POL("debug", "DEBUG", "none")));
    /* a thread still on the old snapshot finishes its work after the
     * reload: its count lands in the counter the new set reports */
    cr_assert_eq(sl_policy_eval(old_ctx, o, 0, 0, NULL, NULL), SL_OK);
    cr_assert_eq(stats(b, "debug").hits, 2);
    cr_assert_eq(stats(a, "debug").hits, 2);
    eval(b, o, 0);
    cr_assert_eq(stats(b, "debug").dropped, 3);
    sl_policy_ctx_free(old_ctx);
    sl_policy_set_free(a);
    sl_policy_set_free(b);
    sl_otlp_free(o);
}

Test(reload, rate_window_carried_when_the_limit_is_unchanged) {
    sl_otlp *o = batch(LOGS(LOG("ERROR")));
    sl_policy_set *a = load(NULL, SET(POL("storm", "ERROR", "2/5s")));
    now = 100 * SEC;
    cr_assert_eq(eval(a, o, 0), SL_DECISION_RATE_ALLOW);
    cr_assert_eq(eval(a, o, 0), SL_DECISION_RATE_ALLOW);
    sl_policy_set *b = load(a, SET(POL("storm", "ERROR", "2/5s")));
    sl_policy_set_free(a);
    now = 101 * SEC; /* same window: the reload must not let it burst */
    cr_assert_eq(eval(b, o, 0), SL_DECISION_RATE_DENY);
    now = 105 * SEC; /* the carried window ends where it would have */
    cr_assert_eq(eval(b, o, 0), SL_DECISION_RATE_ALLOW);
    sl_policy_stats st = stats(b, "storm");
    cr_assert_eq(st.kept, 3);
    cr_assert_eq(st.rate_limited, 1);
    sl_policy_set_free(b);
    sl_otlp_free(o);
}

Test(reload, changed_limit_starts_a_fresh_window_and_keeps_counters) {
    sl_otlp *o = batch(LOGS(LOG("ERROR")));
    sl_policy_set *a = load(NULL, SET(POL("storm", "ERROR", "1/5s")));
    now = 100 * SEC;
    cr_assert_eq(eval(a, o, 0), SL_DECISION_RATE_ALLOW);
    cr_assert_eq(eval(a, o, 0), SL_DECISION_RATE_DENY);
    /* 1/5s -> 1/10s: same limit, another window: fresh */
    sl_policy_set *b = load(a, SET(POL("storm", "ERROR", "1/10s")));
    sl_policy_set_free(a);
    now = 101 * SEC;
    cr_assert_eq(eval(b, o, 0), SL_DECISION_RATE_ALLOW);
    cr_assert_eq(eval(b, o, 0), SL_DECISION_RATE_DENY);
    /* 1/10s -> 3/10s: fresh again, three more */
    sl_policy_set *c = load(b, SET(POL("storm", "ERROR", "3/10s")));
    sl_policy_set_free(b);
    cr_assert_eq(eval(c, o, 0), SL_DECISION_RATE_ALLOW);
    cr_assert_eq(eval(c, o, 0), SL_DECISION_RATE_ALLOW);
    cr_assert_eq(eval(c, o, 0), SL_DECISION_RATE_ALLOW);
    cr_assert_eq(eval(c, o, 0), SL_DECISION_RATE_DENY);
    /* no longer rate-limited, then limited again: a fresh window */
    sl_policy_set *d = load(c, SET(POL("storm", "ERROR", "all")));
    sl_policy_set_free(c);
    sl_policy_set *e = load(d, SET(POL("storm", "ERROR", "3/10s")));
    sl_policy_set_free(d);
    cr_assert_eq(eval(e, o, 0), SL_DECISION_RATE_ALLOW);
    sl_policy_stats st = stats(e, "storm");
    cr_assert_eq(st.hits, 9);
    cr_assert_eq(st.kept, 6);
    cr_assert_eq(st.rate_limited, 3);
    sl_policy_set_free(e);
    sl_otlp_free(o);
}

Test(reload, another_clock_starts_a_fresh_window) {
    sl_otlp *o = batch(LOGS(LOG("ERROR")));
    sl_policy_set *a = load(NULL, SET(POL("storm", "ERROR", "1/5s")));
    now = 100 * SEC;
    cr_assert_eq(eval(a, o, 0), SL_DECISION_RATE_ALLOW);
    sl_doc *doc = parse(SET(POL("storm", "ERROR", "1/5s")));
    sl_policy_opts opts = {.clock = test_clock, .clock_ctx = &now};
    sl_policy_set *b = NULL;
    cr_assert_eq(
        sl_policy_reload(a, (const sl_doc *const *)&doc, 1, &opts, &b, NULL),
        SL_OK);
    sl_doc_free(doc);
    cr_assert_eq(eval(b, o, 0), SL_DECISION_RATE_ALLOW);
    cr_assert_eq(stats(b, "storm").kept, 2);
    sl_policy_set_free(a);
    sl_policy_set_free(b);
    sl_otlp_free(o);
}

Test(reload, failed_reload_changes_nothing) {
    sl_otlp *o = batch(LOGS(LOG("DEBUG")));
    sl_policy_set *a = load(NULL, SET(POL("debug", "DEBUG", "none")));
    eval(a, o, 0);
    sl_doc *doc = parse("{\"rules\":[]}");
    sl_policy_set *b = (sl_policy_set *)&b; /* must stay untouched */
    sl_policy_set *const sentinel = b;
    sl_error err = {0};
    cr_assert_eq(
        sl_policy_reload(a, (const sl_doc *const *)&doc, 1, NULL, &b, &err),
        SL_ESCHEMA);
    cr_assert_eq(b, sentinel);
    sl_doc_free(doc);
    cr_assert_eq(
        sl_policy_reload_files(a, (const char *const[]){"/nonexistent/p.json"},
                               1, NULL, &b, &err),
        SL_EIO, "%s", err.msg);
    cr_assert_eq(b, sentinel);
    cr_assert_eq(eval(a, o, 0), SL_DECISION_DROP);
    cr_assert_eq(stats(a, "debug").hits, 2);
    sl_policy_set_free(a);
    sl_otlp_free(o);
}

Test(reload, find_by_id) {
    sl_policy_set *a =
        load(NULL, SET(POL("b", "X", "all") "," POL("a", "X", "all") "," POL(
                       "ab", "X", "all")));
    cr_assert_eq(sl_policy_find(a, "a"), 0);
    cr_assert_eq(sl_policy_find(a, "ab"), 1);
    cr_assert_eq(sl_policy_find(a, "b"), 2);
    cr_assert_eq(sl_policy_find(a, "c"), SIZE_MAX);
    cr_assert_eq(sl_policy_find(a, ""), SIZE_MAX);
    cr_assert_eq(sl_policy_find(NULL, "a"), SIZE_MAX);
    cr_assert_eq(sl_policy_find(a, NULL), SIZE_MAX);
    sl_policy_set_free(a);
}

/* ---- threads on the old snapshot while the main thread swaps ---- */

enum {
    THREADS = 4,
    ROUNDS = 2000
};

typedef struct worker {
    sl_policy_set *_Atomic *current; /* published by the main thread */
    sl_otlp *o;
    int evaluated;
} worker;

/* Each round evaluates through a context of whatever set is published;
 * when it changes, the thread switches between records. */
static void *work(void *arg) {
    worker *w = arg;
    sl_policy_set *mine = NULL;
    sl_policy_ctx *ctx = NULL;
    for (int r = 0; r < ROUNDS; r++) {
        sl_policy_set *cur = atomic_load(w->current);
        if (cur != mine) {
            sl_policy_ctx_free(ctx);
            ctx = NULL;
            if (sl_policy_ctx_new(cur, &ctx, NULL) != SL_OK) {
                return NULL;
            }
            mine = cur;
        }
        if (sl_policy_eval(ctx, w->o, 0, 0, NULL, NULL) == SL_OK) {
            w->evaluated++;
        }
    }
    sl_policy_ctx_free(ctx);
    return NULL;
}

/* No count of a carried policy is lost while threads still evaluate
 * through the old snapshots: the totals equal the evaluations made. The
 * old sets are freed only after every thread is done with them. */
Test(reload, no_count_lost_while_threads_swap) {
    sl_policy_set *sets[6];
    sets[0] = load(NULL, SET(POL("debug", "DEBUG", "none")));
    sl_policy_set *_Atomic current = sets[0];
    worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){&current, batch(LOGS(LOG("DEBUG"))), 0};
        cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int k = 1; k < 6; k++) {
        sets[k] = load(sets[k - 1], SET(POL("debug", "DEBUG", "none")));
        atomic_store(&current, sets[k]);
    }
    int total = 0;
    for (int i = 0; i < THREADS; i++) {
        cr_assert_eq(pthread_join(t[i], NULL), 0);
        total += w[i].evaluated;
        sl_otlp_free(w[i].o);
    }
    cr_assert_eq(total, THREADS * ROUNDS);
    sl_policy_stats st = stats(sets[5], "debug");
    cr_assert_eq(st.hits, (uint64_t)total);
    cr_assert_eq(st.dropped, (uint64_t)total);
    for (int k = 0; k < 6; k++) {
        sl_policy_set_free(sets[k]);
    }
}

/* ---- allocation failures ---- */

static long fail_at = -1, allocs = 0;

static void *t_alloc(void *ctx, size_t n) {
    (void)ctx;
    if (fail_at >= 0 && allocs++ == fail_at) {
        return NULL;
    }
    return malloc(n);
}

static void *t_realloc(void *ctx, void *p, size_t o, size_t n) {
    (void)ctx;
    (void)o;
    if (fail_at >= 0 && allocs++ == fail_at) {
        return NULL;
    }
    return realloc(p, n);
}

static void t_free(void *ctx, void *p, size_t n) {
    (void)ctx;
    (void)n;
    free(p);
}

Test(reload, every_allocation_failure_leaves_the_old_set_intact) {
    sl_otlp *o = batch(LOGS(LOG("ERROR")));
    sl_policy_set *a = load(
        NULL, SET(POL("kept", "ERROR", "5/s") "," POL("gone", "INFO", "1/s")));
    now = 100 * SEC;
    eval(a, o, 0);
    sl_doc *doc = parse(SET(POL("kept", "ERROR", "5/s") "," POL(
        "changed", "INFO", "2/s") "," POL("new", "WARN", "none")));
    sl_policy_opts opts = {.clock = test_clock};
    sl_allocator al = {t_alloc, t_realloc, t_free, NULL};
    sl_set_allocator(&al);
    bool done = false;
    for (long n = 0; n < 10000 && !done; n++) {
        allocs = 0;
        fail_at = n;
        sl_policy_set *b = NULL;
        sl_error err = {0};
        sl_status rc = sl_policy_reload(a, (const sl_doc *const *)&doc, 1,
                                        &opts, &b, &err);
        fail_at = -1;
        if (rc == SL_OK) {
            done = allocs <= n;
            cr_assert_eq(stats(b, "kept").kept, 1);
            sl_policy_set_free(b);
        } else {
            cr_assert_eq(rc, SL_ENOMEM, "n=%ld: %s", n, err.msg);
            cr_assert_null(b);
        }
        /* the old set's blocks were never given up */
        cr_assert_eq(stats(a, "kept").kept, 1);
        cr_assert_eq(atomic_load(&a->stats[sl_policy_find(a, "kept")]->refs),
                     1);
    }
    sl_set_allocator(NULL);
    cr_assert(done);
    sl_doc_free(doc);
    sl_policy_set_free(a);
    sl_otlp_free(o);
}

/* tests/store/test_store.c: the run recorder: runs and events round trip,
 * per-run sequences, RFC 3339 timestamps, run ids, every error that must
 * store nothing (unknown or finished run, non-object payload, invalid JSON
 * or UTF-8, NaN/Infinity, bad type), ending runs, the property that no
 * planted secret ever reaches the database files (.db, -wal, -shm), and
 * out of memory (the N-th allocation, SQLite's included, fails) for open,
 * start_run, logging, end_run, list and show: SL_ENOMEM, no leak, whole
 * events and run endings only; logging JSON text (source copied around
 * what is redacted) stores what logging its node does. */
#include <criterion/criterion.h>

#include <sluice/sluice.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/base.h"

static char dir[64];
static char db[128];

static void setup(void) {
    snprintf(dir, sizeof(dir), "/tmp/sl_store_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(db, sizeof(db), "%s/runs.db", dir);
}

static void teardown(void) {
    char p[160];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", db, suffix[i]);
        remove(p);
    }
    rmdir(dir);
}

static sl_recorder *open_rec(const sl_redactor *r) {
    sl_recorder *rec = NULL;
    sl_error err = {0};
    cr_assert_eq(sl_recorder_open(db, r, &rec, &err), SL_OK, "%s", err.msg);
    return rec;
}

typedef struct lines {
    char text[8192];
    size_t n;
} lines;

static int collect(const char *line, size_t len, void *ctx) {
    lines *l = ctx;
    size_t used = strlen(l->text);
    cr_assert_lt(used + len + 2, sizeof(l->text));
    memcpy(l->text + used, line, len);
    l->text[used + len] = '\n';
    l->text[used + len + 1] = '\0';
    l->n++;
    return 0;
}

static void log_ok(sl_recorder *rec, const char *id, const char *type,
                   const char *json, int64_t want_seq) {
    int64_t seq = 0;
    sl_error err = {0};
    cr_assert_eq(
        sl_recorder_log_event(rec, id, type, json, strlen(json), &seq, &err),
        SL_OK, "%s", err.msg);
    cr_expect_eq(seq, want_seq);
}

static void log_fails(sl_recorder *rec, const char *id, const char *type,
                      const char *json, size_t len, sl_status want) {
    sl_error err = {0};
    sl_status rc = sl_recorder_log_event(rec, id, type, json, len, NULL, &err);
    cr_expect_eq(rc, want, "%s: got %d (%s)", json, rc, err.msg);
}

Test(recorder, run_and_events_round_trip, .init = setup, .fini = teardown) {
    sl_recorder *rec = open_rec(NULL);
    char id[SL_RUN_ID_LEN + 1];
    cr_assert_eq(sl_recorder_start_run(rec, "main.py", id, NULL), SL_OK);
    cr_expect_eq(strlen(id), 32);
    cr_expect_eq(strspn(id, "0123456789abcdef"), 32);
    log_ok(rec, id, "tool_call",
           "{\"tool\":\"http\",\"args\":{\"api_key\":\"sk-1\",\"n\":1.50}}", 1);
    log_ok(rec, id, "output", "{\"x\":1}", 2);
    lines l = {0};
    cr_assert_eq(sl_recorder_show_run(rec, id, collect, &l, NULL), SL_OK);
    cr_expect_eq(l.n, 2);
    cr_expect_not_null(strstr(l.text, "\"payload\":{\"tool\":\"http\",\"args\":"
                                      "{\"api_key\":\"[REDACTED]\",\"n\":"
                                      "1.50}}"),
                       "%s", l.text);
    cr_expect_not_null(strstr(l.text, "\"path\":\"args.api_key\""));
    cr_expect_null(strstr(l.text, "sk-1"));
    /* ts: 2026-11-23T17:44:00.058758Z */
    const char *ts = strstr(l.text, "\"ts\":\"") + 6;
    cr_expect_eq(strlen(ts) > 27 && ts[4] == '-' && ts[10] == 'T' &&
                     ts[19] == '.' && ts[26] == 'Z',
                 1, "%.30s", ts);
    lines runs = {0};
    cr_assert_eq(sl_recorder_list_runs(rec, collect, &runs, NULL), SL_OK);
    cr_expect_eq(runs.n, 1);
    cr_expect_not_null(strstr(runs.text, "\"status\":\"running\""));
    cr_expect_not_null(strstr(runs.text, "\"ended_at\":null,\"events\":2}"));
    cr_assert_eq(sl_recorder_end_run(rec, id, "success", NULL), SL_OK);
    sl_recorder_close(rec);
    /* reopen: the data is there */
    rec = open_rec(NULL);
    lines again = {0};
    cr_assert_eq(sl_recorder_list_runs(rec, collect, &again, NULL), SL_OK);
    cr_expect_not_null(strstr(again.text, "\"status\":\"success\""));
    cr_expect_null(strstr(again.text, "\"ended_at\":null"));
    sl_recorder_close(rec);
}

Test(recorder, errors_store_nothing, .init = setup, .fini = teardown) {
    sl_recorder *rec = open_rec(NULL);
    char id[SL_RUN_ID_LEN + 1];
    cr_assert_eq(sl_recorder_start_run(rec, "m", id, NULL), SL_OK);
    log_fails(rec, "0123456789abcdef0123456789abcdef", "t", "{}", 2,
              SL_ENOTFOUND);
    log_fails(rec, "not-a-run", "t", "{}", 2, SL_ENOTFOUND);
    log_fails(rec, id, "t", "[1]", 3, SL_ESCHEMA);
    log_fails(rec, id, "t", "\"s\"", 3, SL_ESCHEMA);
    log_fails(rec, id, "t", "{\"a\":", 5, SL_EPARSE);
    log_fails(rec, id, "t", "{\"a\":NaN}", 9, SL_EPARSE);
    log_fails(rec, id, "t", "{\"a\":Infinity}", 14, SL_EPARSE);
    log_fails(rec, id, "t", "{\"a\":\"\xff\"}", 9, SL_EUTF8);
    log_fails(rec, id, "", "{}", 2, SL_ESCHEMA);
    log_fails(rec, id, "bad\xff", "{}", 2, SL_ESCHEMA);
    log_ok(rec, id, "t", "{}", 1); /* nothing before took a sequence */
    cr_assert_eq(sl_recorder_end_run(rec, id, "failure", NULL), SL_OK);
    sl_error err = {0};
    cr_expect_eq(sl_recorder_log_event(rec, id, "t", "{}", 2, NULL, &err),
                 SL_ESTATE);
    cr_expect_eq(sl_recorder_end_run(rec, id, "success", &err), SL_ESTATE);
    cr_expect_eq(sl_recorder_end_run(rec, "0123456789abcdef0123456789abcdef",
                                     "success", &err),
                 SL_ENOTFOUND);
    cr_expect_eq(sl_recorder_end_run(rec, id, "done", &err), SL_EINVAL);
    lines l = {0};
    cr_assert_eq(sl_recorder_show_run(rec, id, collect, &l, NULL), SL_OK);
    cr_expect_eq(l.n, 1);
    cr_expect_eq(sl_recorder_show_run(rec, "0123456789abcdef0123456789abcdef",
                                      collect, &l, &err),
                 SL_ENOTFOUND);
    sl_recorder_close(rec);
}

Test(recorder, toml_infinity_is_refused, .init = setup, .fini = teardown) {
    sl_doc *doc = sl_doc_new();
    const char *t = "x = inf\n";
    sl_error err = {0};
    sl_status rc =
        sl_doc_load(doc, t, strlen(t), SL_FORMAT_TOML, "t.toml", NULL, &err);
    if (rc != SL_OK) {
        sl_doc_free(doc);
        cr_skip_test("TOML reader not available: %s", err.msg);
    }
    sl_recorder *rec = open_rec(NULL);
    char id[SL_RUN_ID_LEN + 1];
    cr_assert_eq(sl_recorder_start_run(rec, "m", id, NULL), SL_OK);
    cr_expect_eq(
        sl_recorder_log_node(rec, id, "t", sl_doc_root(doc), NULL, &err),
        SL_EINVAL, "%s", err.msg);
    lines l = {0};
    cr_assert_eq(sl_recorder_show_run(rec, id, collect, &l, NULL), SL_OK);
    cr_expect_eq(l.n, 0);
    sl_recorder_close(rec);
    sl_doc_free(doc);
}

Test(recorder, custom_policy_is_used, .init = setup, .fini = teardown) {
    sl_redact_rule rule = {0};
    rule.action = SL_REDACT_DROP;
    rule.key = (sl_str){"drop_me", 7};
    sl_redact_spec spec = {0};
    spec.rules = &rule;
    spec.n_rules = 1;
    sl_redactor *r = NULL;
    cr_assert_eq(sl_redactor_compile(&spec, &r, NULL), SL_OK);
    sl_recorder *rec = open_rec(r);
    char id[SL_RUN_ID_LEN + 1];
    cr_assert_eq(sl_recorder_start_run(rec, "m", id, NULL), SL_OK);
    log_ok(rec, id, "t", "{\"drop_me\":1,\"keep_me\":\"safe\"}", 1);
    lines l = {0};
    cr_assert_eq(sl_recorder_show_run(rec, id, collect, &l, NULL), SL_OK);
    cr_expect_not_null(strstr(l.text, "\"payload\":{\"keep_me\":\"safe\"}"),
                       "%s", l.text);
    sl_recorder_close(rec);
    sl_redactor_free(r);
}

/* log_event holds the payload's document and redacts it with
 * sl_redact_write_doc (unchanged source text copied in runs); log_node has
 * only the node and writes it node by node (sl_redact_write). Both must
 * store the same payload and audit, drops (first, middle, last, nested),
 * masks and detector hits included. */
/* The run id's two events, shown: their payloads and audits (from
 * ,"payload": to the line's end) must be the same bytes; the first one's
 * text (l keeps it) and length. */
static const char *two_events_stored_alike(sl_recorder *rec, const char *id,
                                           lines *l, size_t *alen) {
    cr_assert_eq(sl_recorder_show_run(rec, id, collect, l, NULL), SL_OK);
    cr_assert_eq(l->n, 2);
    const char *a = strstr(l->text, ",\"payload\":");
    cr_assert_not_null(a);
    const char *b = strstr(a + 1, ",\"payload\":");
    cr_assert_not_null(b);
    *alen = (size_t)(strchr(a, '\n') - a);
    size_t blen = (size_t)(strchr(b, '\n') - b);
    cr_expect(*alen == blen && memcmp(a, b, blen) == 0, "doc: %.*s\nnode: %.*s",
              (int)*alen, a, (int)blen, b);
    return a;
}

Test(recorder, log_event_stores_what_node_by_node_redaction_writes,
     .init = setup, .fini = teardown) {
    sl_redact_rule rules[2] = {{0}, {0}};
    rules[0].action = SL_REDACT_DROP;
    rules[0].key = (sl_str){"drop_me", 7};
    rules[1].action = SL_REDACT_MASK;
    rules[1].key = (sl_str){"mask_me", 7};
    sl_redact_spec spec = {0};
    spec.rules = rules;
    spec.n_rules = 2;
    spec.extends_default = true; /* default rules and detectors too */
    sl_redactor *r = NULL;
    cr_assert_eq(sl_redactor_compile(&spec, &r, NULL), SL_OK);
    sl_recorder *rec = open_rec(r);
    char id[SL_RUN_ID_LEN + 1];
    cr_assert_eq(sl_recorder_start_run(rec, "m", id, NULL), SL_OK);
    const char *json =
        "{\"drop_me\":1,\"keep\":\"caf\\u00e9 \\\"q\\\"\",\"api_key\":\"sk-1\","
        "\"msg\":\"t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl; ok\","
        "\"list\":[{\"drop_me\":[1,2]},{\"a\":1.50,\"mask_me\":{\"x\":null}},"
        "[],{}],\"nested\":{\"x\":true,\"drop_me\":\"y\"},\"drop_me\":false}";
    log_ok(rec, id, "t", json, 1);
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_assert_eq(
        sl_doc_load(doc, json, strlen(json), SL_FORMAT_JSON, "p", NULL, &err),
        SL_OK, "%s", err.msg);
    cr_assert_eq(
        sl_recorder_log_node(rec, id, "t", sl_doc_root(doc), NULL, &err), SL_OK,
        "%s", err.msg);
    lines l = {0};
    size_t alen;
    const char *a = two_events_stored_alike(rec, id, &l, &alen);
    /* the payload exercised every kind of change */
    cr_expect_not_null(strstr(a, "\"drop\":4,"), "%.*s", (int)alen, a);
    cr_expect_not_null(strstr(a, "\"mask\":2,"), "%.*s", (int)alen, a);
    cr_expect_not_null(strstr(a, "\"detect\":1,"), "%.*s", (int)alen, a);
    cr_expect_null(strstr(l.text, "sk-1"));
    cr_expect_null(strstr(l.text, "c2lnbmF0dXJl"));
    sl_recorder_close(rec);
    sl_redactor_free(r);
    sl_doc_free(doc);
}

Test(recorder, log_doc_node_of_a_nested_payload_stores_what_log_node_stores,
     .init = setup, .fini = teardown) {
    /* sluice record's shape: the payload is a member of a larger value */
    sl_redact_rule rule = {0};
    rule.action = SL_REDACT_DROP;
    rule.key = (sl_str){"drop_me", 7};
    sl_redact_spec spec = {0};
    spec.rules = &rule;
    spec.n_rules = 1;
    spec.extends_default = true;
    sl_redactor *r = NULL;
    cr_assert_eq(sl_redactor_compile(&spec, &r, NULL), SL_OK);
    sl_recorder *rec = open_rec(r);
    char id[SL_RUN_ID_LEN + 1];
    cr_assert_eq(sl_recorder_start_run(rec, "m", id, NULL), SL_OK);
    const char *json =
        "{\"type\":\"tool\",\"payload\":{\"drop_me\":1,\"password\":"
        "\"hunter2\","
        "\"q\":\"caf\\u00e9\",\"n\":[1,{\"drop_me\":2,\"k\":\"v\"}],"
        "\"drop_me\":3},\"after\":1}";
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_assert_eq(
        sl_doc_load(doc, json, strlen(json), SL_FORMAT_JSON, "p", NULL, &err),
        SL_OK, "%s", err.msg);
    const sl_node *payload = sl_node_get(sl_doc_root(doc), "payload");
    cr_assert_not_null(payload);
    cr_assert_eq(
        sl_recorder_log_doc_node(rec, id, "t", doc, payload, NULL, &err), SL_OK,
        "%s", err.msg);
    cr_assert_eq(sl_recorder_log_node(rec, id, "t", payload, NULL, &err), SL_OK,
                 "%s", err.msg);
    lines l = {0};
    size_t alen;
    const char *a = two_events_stored_alike(rec, id, &l, &alen);
    cr_expect_not_null(strstr(a, "\"drop\":3,"), "%.*s", (int)alen, a);
    cr_expect_null(strstr(l.text, "hunter2"));
    cr_expect_null(strstr(l.text, "after"));
    sl_recorder_close(rec);
    sl_redactor_free(r);
    sl_doc_free(doc);
}

/* ---- property: planted secrets never reach the files ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const char *const secret_keys[] = {
    "api_key", "apiKey",     "X-Auth-Token",  "password",      "client_secret",
    "token",   "sessionId",  "Cookie",        "authorization", "private_key",
    "jwt",     "passphrase", "refresh_token", "csrf"};
static const char *const plain_keys[] = {"data",       "url",    "items",
                                         "args",       "result", "meta",
                                         "max_tokens", "author", "list"};

/* Append a random value; secrets go under secret keys, and each planted
 * secret is remembered. */
static void gen(sl_buf *b, int depth, char secrets[][40], size_t *ns) {
    int kind = depth > 4 ? (int)(rnd() % 3) : (int)(rnd() % 5);
    if (kind == 0) {
        sl__buf_printf(b, "%llu", (unsigned long long)(rnd() % 100000));
    } else if (kind == 1) {
        sl__buf_printf(b, "\"plain-%llu\"", (unsigned long long)(rnd() % 1000));
    } else if (kind == 2) {
        sl__buf_append(b, "true", 4);
    } else if (kind == 3) {
        sl__buf_putc(b, '[');
        int n = (int)(rnd() % 4);
        for (int i = 0; i < n; i++) {
            if (i) {
                sl__buf_putc(b, ',');
            }
            gen(b, depth + 1, secrets, ns);
        }
        sl__buf_putc(b, ']');
    } else {
        sl__buf_putc(b, '{');
        int n = 1 + (int)(rnd() % 5);
        for (int i = 0; i < n; i++) {
            if (i) {
                sl__buf_putc(b, ',');
            }
            if (rnd() % 3 == 0 && *ns < 4000) {
                const char *k = secret_keys[rnd() % SL_ARRAY_LEN(secret_keys)];
                char *s = secrets[(*ns)++];
                snprintf(s, 40, "S3CR3T%016llxZ", (unsigned long long)rnd());
                if (rnd() % 4 == 0) { /* a secret object, replaced whole */
                    sl__buf_printf(b, "\"%s\":{\"inner\":\"%s\"}", k, s);
                } else {
                    sl__buf_printf(b, "\"%s\":\"%s\"", k, s);
                }
            } else {
                const char *k = plain_keys[rnd() % SL_ARRAY_LEN(plain_keys)];
                sl__buf_printf(b, "\"%s\":", k);
                gen(b, depth + 1, secrets, ns);
            }
        }
        sl__buf_putc(b, '}');
    }
}

static size_t count_in_file(const char *path, char secrets[][40], size_t ns) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        return 0;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)len + 1);
    cr_assert_eq(fread(data, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    size_t hits = 0;
    for (size_t i = 0; i < ns; i++) {
        size_t sl = strlen(secrets[i]);
        for (long p = 0; p + (long)sl <= len; p++) {
            if (data[p] == 'S' && memcmp(data + p, secrets[i], sl) == 0) {
                hits++;
                break;
            }
        }
    }
    free(data);
    return hits;
}

Test(property, planted_secrets_never_reach_the_database, .init = setup,
     .fini = teardown, .timeout = 120) {
    static char secrets[4000][40];
    size_t ns = 0;
    sl_recorder *rec = open_rec(NULL);
    char id[SL_RUN_ID_LEN + 1];
    cr_assert_eq(sl_recorder_start_run(rec, "prop", id, NULL), SL_OK);
    sl_buf b = {0};
    for (int i = 0; i < 300; i++) {
        b.len = 0;
        sl__buf_putc(&b, '{');
        int n = 1 + (int)(rnd() % 4);
        for (int k = 0; k < n; k++) {
            sl__buf_printf(&b, "%s\"f%d\":", k ? "," : "", k);
            gen(&b, 0, secrets, &ns);
        }
        sl__buf_putc(&b, '}');
        sl_error err = {0};
        cr_assert_eq(
            sl_recorder_log_event(rec, id, "step", b.ptr, b.len, NULL, &err),
            SL_OK, "%s: %s", err.msg, b.ptr);
    }
    cr_assert_gt(ns, 50, "planted only %zu secrets", ns);
    /* while open (WAL and shm in use) and after close */
    char p[160];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", db, suffix[i]);
        cr_expect_eq(count_in_file(p, secrets, ns), 0, "%s", p);
    }
    sl_recorder_close(rec);
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", db, suffix[i]);
        cr_expect_eq(count_in_file(p, secrets, ns), 0, "%s", p);
    }
    /* the control: the same secrets are found when stored unredacted */
    FILE *f = fopen(p, "wb");
    fputs(secrets[0], f);
    fclose(f);
    cr_expect_eq(count_in_file(p, secrets, ns), 1);
    remove(p);
    sl_buf_free(&b);
}

Test(recorder, refuses_files_that_are_not_recorder_databases, .init = setup,
     .fini = teardown) {
    FILE *f = fopen(db, "w");
    fputs("this is not sqlite, just text that is long enough to matter\n", f);
    fclose(f);
    sl_recorder *rec = NULL;
    sl_error err = {0};
    cr_expect_eq(sl_recorder_open(db, NULL, &rec, &err), SL_EDB);
    cr_expect_null(rec);
    cr_expect_str_eq(err.file, db);
    remove(db);
    /* an upstream-style runs table without sluice's columns */
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "sqlite3 %s 'CREATE TABLE runs(run_id TEXT PRIMARY KEY)' "
             "2>/dev/null",
             db);
    if (system(cmd) != 0) {
        return; /* no sqlite3 shell: the first half stands */
    }
    cr_expect_eq(sl_recorder_open(db, NULL, &rec, &err), SL_EDB);
    cr_expect_null(rec);
}

/* ---- out of memory: SQLite's allocations go through the hook too ---- */

static long oom_fail_at;
static long oom_calls;

static void *oom_alloc(void *ctx, size_t size) {
    SL_UNUSED(ctx);
    return ++oom_calls == oom_fail_at ? NULL : malloc(size);
}

static void *oom_realloc(void *ctx, void *p, size_t old_size, size_t size) {
    SL_UNUSED(ctx);
    SL_UNUSED(old_size);
    return ++oom_calls == oom_fail_at ? NULL : realloc(p, size);
}

static void oom_free(void *ctx, void *p, size_t size) {
    SL_UNUSED(ctx);
    SL_UNUSED(size);
    free(p);
}

static const sl_allocator oom_allocator = {oom_alloc, oom_realloc, oom_free,
                                           NULL};

enum {
    OOM_CAP = 4000
};

static int count_runs_line(const char *line, size_t len, void *ctx) {
    SL_UNUSED(line);
    SL_UNUSED(len);
    (*(int *)ctx)++;
    return 0;
}

Test(oom, open_and_start_run_fail_cleanly, .init = setup, .fini = teardown,
     .timeout = 120) {
    int runs_before = 0;
    for (oom_fail_at = 1;; oom_fail_at++) {
        cr_assert_lt(oom_fail_at, OOM_CAP, "no success after %d allocations",
                     OOM_CAP);
        oom_calls = 0;
        sl_error err = {0};
        sl_recorder *rec = NULL;
        char id[SL_RUN_ID_LEN + 1];
        sl_set_allocator(&oom_allocator);
        sl_status rc = sl_recorder_open(db, NULL, &rec, &err);
        if (rc == SL_OK) {
            rc = sl_recorder_start_run(rec, "oom.py", id, &err);
        }
        sl_recorder_close(rec);
        sl_set_allocator(NULL);
        if (rc != SL_OK) {
            cr_assert_eq(rc, SL_ENOMEM, "allocation %ld: status %d (%s)",
                         oom_fail_at, rc, err.msg);
            cr_assert_eq(err.code, SL_ENOMEM);
        } else {
            cr_assert_null(strstr(err.msg, "out of memory"));
        }
        /* with malloc back, the file opens and holds whole runs only */
        rec = open_rec(NULL);
        int runs = 0;
        cr_assert_eq(sl_recorder_list_runs(rec, count_runs_line, &runs, NULL),
                     SL_OK);
        cr_assert(runs == runs_before || runs == runs_before + 1,
                  "allocation %ld: %d runs after %d", oom_fail_at, runs,
                  runs_before);
        lines l = {{0}, 0};
        cr_assert_eq(sl_recorder_list_runs(rec, collect, &l, NULL), SL_OK);
        if (runs > 0) {
            cr_assert_not_null(strstr(l.text, "\"entrypoint\":\"oom.py\""));
        }
        runs_before = runs;
        sl_recorder_close(rec);
        /* SQLite tolerates some failures (a page cache bulk allocation,
         * a hash resize): go on until no allocation failed at all */
        if (rc == SL_OK && oom_calls < oom_fail_at) {
            cr_expect_gt(runs, 0);
            break;
        }
    }
    cr_log_info("open: no failure left at allocation %ld", oom_fail_at);
    /* SQLite's allocations went through the hook too */
    cr_expect_gt(oom_fail_at, 30);
}

/* The text of a show_run line from its "type" on: type, payload, audit
 * (what must match whole; event_id, seq and ts differ per event). */
typedef struct bodies {
    char want[16384]; /* empty: record the first line's body here */
    size_t want_len;
    long n;
    long whole;
} bodies;

static const char *find(const char *h, size_t hn, const char *n, size_t nn) {
    for (size_t i = 0; i + nn <= hn; i++) {
        if (memcmp(h + i, n, nn) == 0) {
            return h + i;
        }
    }
    return NULL;
}

static int check_body(const char *line, size_t len, void *ctx) {
    bodies *bd = ctx;
    const char *t = find(line, len, ",\"type\":", 8);
    cr_assert_not_null(t);
    size_t n = len - (size_t)(t - line);
    if (bd->want_len == 0) {
        cr_assert_lt(n, sizeof(bd->want));
        memcpy(bd->want, t, n);
        bd->want_len = n;
    }
    bd->n++;
    bd->whole += n == bd->want_len && memcmp(t, bd->want, n) == 0;
    return 0;
}

Test(oom, log_event_fails_cleanly_and_stores_all_or_nothing, .init = setup,
     .fini = teardown, .timeout = 120) {
    static char secrets[64][40];
    size_t ns = 0;
    sl_buf b = {0};
    /* over a page, so the row spills to overflow pages */
    sl__buf_printf(&b, "{\"pad\":\"");
    for (int i = 0; i < 600; i++) {
        sl__buf_printf(&b, "plain-%08d.", i);
    }
    sl__buf_printf(&b, "\",\"user\":\"ann\",\"api_key\":\"");
    snprintf(secrets[ns], 40, "S3CR3T%016llxZ", 0x1234abcdULL);
    sl__buf_printf(&b, "%s\",\"args\":[1,{\"password\":\"", secrets[ns++]);
    snprintf(secrets[ns], 40, "S3CR3T%016llxZ", 0x5678ef01ULL);
    sl__buf_printf(&b, "%s\"}],\"data\":{\"token\":{\"inner\":\"",
                   secrets[ns++]);
    snprintf(secrets[ns], 40, "S3CR3T%016llxZ", 0x9abc2345ULL);
    sl__buf_printf(&b, "%s\"}}}", secrets[ns++]);

    /* the reference: the same payload logged with malloc */
    sl_recorder *rec = open_rec(NULL);
    char id[SL_RUN_ID_LEN + 1];
    cr_assert_eq(sl_recorder_start_run(rec, "oom.py", id, NULL), SL_OK);
    log_ok(rec, id, "step", b.ptr, 1);
    static bodies bd;
    cr_assert_eq(sl_recorder_show_run(rec, id, check_body, &bd, NULL), SL_OK);
    cr_assert_eq(bd.whole, 1);
    cr_assert_null(find(bd.want, bd.want_len, "S3CR3T", 6));
    sl_recorder_close(rec);

    int64_t events = 1;
    for (oom_fail_at = 1;; oom_fail_at++) {
        cr_assert_lt(oom_fail_at, OOM_CAP, "no success after %d allocations",
                     OOM_CAP);
        rec = open_rec(NULL);
        oom_calls = 0;
        sl_error err = {0};
        int64_t seq = 0;
        sl_set_allocator(&oom_allocator);
        sl_status rc =
            sl_recorder_log_event(rec, id, "step", b.ptr, b.len, &seq, &err);
        sl_set_allocator(NULL);
        if (rc != SL_OK) {
            cr_assert_eq(rc, SL_ENOMEM, "allocation %ld: status %d (%s)",
                         oom_fail_at, rc, err.msg);
            cr_assert_eq(err.code, SL_ENOMEM);
        } else {
            cr_assert_eq(seq, events + 1);
        }
        /* the same connection still takes events once memory is back */
        if (oom_fail_at % 16 == 0) {
            log_ok(rec, id, "step", b.ptr, events + 1 + (rc == SL_OK));
            events++;
        }
        /* never an unredacted value in any file, open or closed */
        char p[160];
        static const char *const suffix[] = {"", "-wal", "-shm"};
        for (size_t i = 0; i < 3; i++) {
            snprintf(p, sizeof(p), "%s%s", db, suffix[i]);
            cr_assert_eq(count_in_file(p, secrets, ns), 0, "%s", p);
        }
        sl_recorder_close(rec);
        for (size_t i = 0; i < 3; i++) {
            snprintf(p, sizeof(p), "%s%s", db, suffix[i]);
            cr_assert_eq(count_in_file(p, secrets, ns), 0, "%s", p);
        }
        /* reopened: the event is there whole, or not at all */
        rec = open_rec(NULL);
        bd.n = 0;
        bd.whole = 0;
        cr_assert_eq(sl_recorder_show_run(rec, id, check_body, &bd, NULL),
                     SL_OK);
        cr_assert(bd.n == events || bd.n == events + 1,
                  "allocation %ld: %ld events after %lld", oom_fail_at, bd.n,
                  (long long)events);
        if (rc == SL_OK) {
            cr_assert_eq(bd.n, events + 1);
        }
        cr_assert_eq(bd.whole, bd.n, "allocation %ld: a partial event",
                     oom_fail_at);
        events = bd.n;
        sl_recorder_close(rec);
        /* SQLite tolerates some failures (a page cache bulk allocation,
         * a hash resize): go on until no allocation failed at all */
        if (rc == SL_OK && oom_calls < oom_fail_at) {
            break;
        }
    }
    cr_log_info("log: no failure left at allocation %ld", oom_fail_at);
    cr_expect_gt(oom_fail_at, 10);
    sl_buf_free(&b);
}

/* ---- a hook replaced while SQLite holds blocks ---- */

typedef struct counting {
    long live; /* blocks made and not yet freed */
    long made;
    long realloced;
} counting;

static void *count_alloc(void *ctx, size_t size) {
    counting *c = ctx;
    void *p = malloc(size);
    if (p) {
        c->live++;
        c->made++;
    }
    return p;
}

static void *count_realloc(void *ctx, void *p, size_t old_size, size_t size) {
    SL_UNUSED(old_size);
    counting *c = ctx;
    c->realloced++;
    return realloc(p, size);
}

static void count_free(void *ctx, void *p, size_t size) {
    SL_UNUSED(size);
    counting *c = ctx;
    c->live--;
    free(p);
}

Test(sqlite_memory, blocks_return_to_the_allocator_that_made_them,
     .init = setup, .fini = teardown) {
    /* the first open hands SQLite the bridge (and initialises it) */
    sl_recorder_close(open_rec(NULL));
    static counting ca, cb;
    sl_allocator a = {count_alloc, count_realloc, count_free, &ca};
    sl_allocator b = {count_alloc, count_realloc, count_free, &cb};
    sl_set_allocator(&a);
    char *p = sqlite3_malloc(100);
    cr_assert_not_null(p);
    cr_expect_eq(ca.made, 1, "SQLite bypassed the hook");
    cr_expect_eq((uintptr_t)p % 16, 0);
    cr_expect_geq(sqlite3_msize(p), 100); /* rounded up to 8 */
    memset(p, 'x', 100);
    p = sqlite3_realloc(p, 300); /* same hook: the maker's realloc */
    cr_assert_not_null(p);
    cr_expect_eq(ca.realloced, 1);
    cr_expect_geq(sqlite3_msize(p), 300);
    sl_set_allocator(&b);
    char *q = sqlite3_malloc(50);
    cr_assert_not_null(q);
    cr_expect_eq(cb.made, 1);
    p = sqlite3_realloc(p, 1000); /* the hook changed: moved to b */
    cr_assert_not_null(p);
    cr_expect_eq(ca.live, 0);
    cr_expect_eq(cb.live, 2);
    cr_expect_eq(p[0], 'x');
    cr_expect_eq(p[99], 'x');
    cr_expect_eq((uintptr_t)p % 16, 0);
    sl_set_allocator(NULL);
    sqlite3_free(p); /* freed by b, which made them, not by malloc */
    sqlite3_free(q);
    cr_expect_eq(cb.live, 0);
    /* a whole recorder opened under one hook and closed under another */
    ca.made = 0;
    sl_set_allocator(&a);
    sl_recorder *rec = open_rec(NULL);
    long after_open = ca.made;
    sl_set_allocator(&b);
    char id[SL_RUN_ID_LEN + 1];
    cr_assert_eq(sl_recorder_start_run(rec, "swap.py", id, NULL), SL_OK);
    for (int i = 0; i < 50; i++) {
        log_ok(rec, id, "step", "{\"token\":\"t\",\"n\":[1,2,3]}", i + 1);
    }
    sl_set_allocator(&a); /* sluice's own blocks go back to a */
    sl_recorder_close(rec);
    sl_set_allocator(NULL);
    cr_expect_gt(after_open, 30, "only %ld blocks", after_open);
    /* sluice's own buffers grown under b were freed through a (its blocks
     * carry no maker); SQLite's went back to their makers: none left */
    cr_expect_eq(ca.live + cb.live, 0, "%ld blocks not returned",
                 ca.live + cb.live);
}

static int count_lines(const char *line, size_t len, void *ctx) {
    SL_UNUSED(line);
    SL_UNUSED(len);
    (*(long *)ctx)++;
    return 0;
}

Test(oom, end_run_and_reading_fail_cleanly, .init = setup, .fini = teardown,
     .timeout = 120) {
    sl_recorder *rec = open_rec(NULL);
    char id[SL_RUN_ID_LEN + 1];
    cr_assert_eq(sl_recorder_start_run(rec, "oom.py", id, NULL), SL_OK);
    for (int i = 0; i < 5; i++) {
        log_ok(rec, id, "step", "{\"n\":1,\"token\":\"t\"}", i + 1);
    }
    sl_recorder_close(rec);
    long ends = 0;
    for (oom_fail_at = 1;; oom_fail_at++) {
        cr_assert_lt(oom_fail_at, OOM_CAP);
        rec = open_rec(NULL);
        oom_calls = 0;
        long runs = 0, events = 0;
        sl_error e1 = {0}, e2 = {0}, e3 = {0};
        sl_set_allocator(&oom_allocator);
        sl_status r1 = sl_recorder_list_runs(rec, count_lines, &runs, &e1);
        sl_status r2 = sl_recorder_show_run(rec, id, count_lines, &events, &e2);
        sl_status r3 = sl_recorder_end_run(rec, id, "success", &e3);
        sl_set_allocator(NULL);
        cr_assert(r1 == SL_OK || r1 == SL_ENOMEM, "list: %d (%s)", r1, e1.msg);
        cr_assert(r2 == SL_OK || r2 == SL_ENOMEM, "show: %d (%s)", r2, e2.msg);
        cr_assert(r3 == SL_OK || r3 == SL_ENOMEM, "end: %d (%s)", r3, e3.msg);
        if (r1 == SL_OK) {
            cr_assert_eq(runs, 1);
        }
        if (r2 == SL_OK) {
            cr_assert_eq(events, 5);
        }
        bool done = oom_calls < oom_fail_at;
        sl_recorder_close(rec);
        /* the run ended wholly (status and time) or not at all */
        rec = open_rec(NULL);
        lines l = {{0}, 0};
        cr_assert_eq(sl_recorder_list_runs(rec, collect, &l, NULL), SL_OK);
        bool ended = strstr(l.text, "\"status\":\"success\"") != NULL;
        cr_assert_eq(ended, strstr(l.text, "\"ended_at\":null") == NULL);
        if (r3 == SL_OK) {
            cr_assert(ended);
        }
        if (ended) {
            ends++;
            /* ended: put the run back to running for the next attempt */
            sl_recorder_close(rec);
            if (done) {
                break;
            }
            sqlite3 *h = NULL;
            cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
            cr_assert_eq(sqlite3_exec(h,
                                      "UPDATE runs SET status = 'running', "
                                      "ended_at = NULL",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
            sqlite3_close(h);
            continue;
        }
        sl_recorder_close(rec);
        cr_assert(!done, "no failure, yet the run did not end");
    }
    cr_log_info("read/end: no failure left at allocation %ld (%ld ends)",
                oom_fail_at, ends);
    cr_expect_gt(oom_fail_at, 10);
}

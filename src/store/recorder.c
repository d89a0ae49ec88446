/* src/store/recorder.c: the run recorder over SQLite. Owns the schema, the
 * prepared statements, run ids, timestamps and host facts; redaction is
 * src/redact's, reached through <sluice/redact.h>.
 *
 * The one idea: the storage boundary is one function. log_payload() redacts
 * into the recorder's own buffer with the policy fixed at open, checks the
 * result (an object, valid UTF-8, only JSON values), and only then opens a
 * write transaction that reads the run's next sequence number (the same
 * query proves the run exists and is still running) and inserts the event:
 * two B-tree pages written per event (the row and its (run_id, seq) index
 * entry), no counter row rewritten.
 * No statement anywhere binds a payload that did not come out of the
 * redactor, and each event commits alone, so a crash never leaves half an
 * event. WAL with synchronous=NORMAL: a commit is atomic and durable
 * against a process crash without an fsync per event. */
#include <sluice/store.h>

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/base.h"
#include "store/sqlite_mem.h"

#define SCHEMA_VERSION "sluice-recorder-1"

enum {
    MAX_TYPE = 256,
    MAX_ENTRYPOINT = 4096,
    MAX_PAYLOAD = 64 << 20 /* one redacted payload */
};

enum {
    ST_START,
    ST_NEXT_SEQ,
    ST_INSERT,
    ST_RUN_STATUS,
    ST_END,
    ST_LIST,
    ST_SHOW,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_COUNT
};

static const char *const sql_text[ST_COUNT] = {
    [ST_START] =
        "INSERT INTO runs(run_id, schema_version, entrypoint, started_at, "
        "status, host, platform, cwd, pid, sluice_version) VALUES "
        "(?1, '" SCHEMA_VERSION "', ?2, ?3, 'running', ?4, ?5, ?6, ?7, ?8)",
    [ST_NEXT_SEQ] = "SELECT (SELECT coalesce(max(seq), 0) + 1 FROM events "
                    "WHERE run_id = ?1) FROM runs WHERE run_id = ?1 AND "
                    "status = 'running'",
    [ST_INSERT] = "INSERT INTO events(run_id, seq, ts, type, payload, audit) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_RUN_STATUS] = "SELECT status FROM runs WHERE run_id = ?1",
    [ST_END] = "UPDATE runs SET status = ?2, ended_at = ?3 WHERE run_id = ?1 "
               "AND status = 'running'",
    [ST_LIST] = "SELECT run_id, entrypoint, status, started_at, ended_at, "
                "(SELECT count(*) FROM events e WHERE e.run_id = r.run_id) "
                "FROM runs r ORDER BY started_at, run_id",
    [ST_SHOW] = "SELECT event_id, seq, ts, type, payload, audit FROM events "
                "WHERE run_id = ?1 ORDER BY seq",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS runs ("
    " run_id TEXT PRIMARY KEY,"
    " schema_version TEXT NOT NULL,"
    " entrypoint TEXT NOT NULL,"
    " started_at TEXT NOT NULL,"
    " ended_at TEXT,"
    " status TEXT NOT NULL CHECK (status IN"
    "  ('running', 'success', 'failure', 'error', 'cancelled')),"
    " host TEXT NOT NULL,"
    " platform TEXT NOT NULL,"
    " cwd TEXT NOT NULL,"
    " pid INTEGER NOT NULL,"
    " sluice_version TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS events ("
    " event_id INTEGER PRIMARY KEY,"
    " run_id TEXT NOT NULL REFERENCES runs(run_id),"
    " seq INTEGER NOT NULL,"
    " ts TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " payload TEXT NOT NULL,"
    " audit TEXT NOT NULL,"
    " UNIQUE (run_id, seq));";

struct sl_recorder {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    sl_redactor *own_policy; /* the default, when none was given */
    sl_redact_ctx *ctx;
    sl_doc *doc;  /* for sl_recorder_log_event */
    sl_buf out;   /* the redacted payload */
    sl_buf audit; /* its audit summary */
    sl_buf line;  /* list/show output */
    char host[256];
    char platform[256];
    char cwd[4096];
};

/* SQLite running out of memory is sluice's SL_ENOMEM, anything else
 * SL_EDB. */
static sl_status db_code(int src) {
    return (src & 0xff) == SQLITE_NOMEM ? SL_ENOMEM : SL_EDB;
}

static sl_status db_error(sl_recorder *rec, sl_error *err, const char *what) {
    int src = rec->db ? sqlite3_errcode(rec->db) : SQLITE_ERROR;
    return sl__error(err, db_code(src), NULL, "%s: %s", what,
                     rec->db ? sqlite3_errmsg(rec->db) : "no database");
}

/* ---- facts ---- */

static void now_rfc3339(char out[40]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    unsigned year = (unsigned)(tm.tm_year + 1900) % 10000u;
    snprintf(out, 40, "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ", year,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u,
             (unsigned)(ts.tv_nsec / 1000) % 1000000u);
}

static sl_status random_id(char out[SL_RUN_ID_LEN + 1], sl_error *err) {
    uint8_t bytes[16];
    size_t got = 0;
    while (got < sizeof(bytes)) {
        ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sl__error(err, SL_EIO, NULL, "getrandom failed: %s",
                             strerror(errno));
        }
        got += (size_t)n;
    }
    sl__hex(bytes, sizeof(bytes), out);
    return SL_OK;
}

static void host_facts(sl_recorder *rec) {
    if (gethostname(rec->host, sizeof(rec->host)) != 0) {
        snprintf(rec->host, sizeof(rec->host), "unknown");
    }
    rec->host[sizeof(rec->host) - 1] = '\0';
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(rec->platform, sizeof(rec->platform), "%s %s %s", u.sysname,
                 u.release, u.machine);
    } else {
        snprintf(rec->platform, sizeof(rec->platform), "unknown");
    }
    if (!getcwd(rec->cwd, sizeof(rec->cwd))) {
        snprintf(rec->cwd, sizeof(rec->cwd), "unknown");
    }
}

static bool valid_run_id(const char *id) {
    if (!id || strlen(id) != SL_RUN_ID_LEN) {
        return false;
    }
    for (size_t i = 0; i < SL_RUN_ID_LEN; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

static bool valid_text(const char *s, size_t max) {
    if (!s) {
        return false;
    }
    size_t n = strnlen(s, max + 1);
    return n > 0 && n <= max && sl__utf8_valid_prefix(s, n) == n;
}

/* ---- open / close ---- */

sl_status sl_recorder_open(const char *db_path, const sl_redactor *policy,
                           sl_recorder **out, sl_error *err) {
    if (!db_path || !out) {
        return sl__error(err, SL_EINVAL, NULL, "no path or no output");
    }
    sl__store_sqlite_mem_setup();
    sl_recorder *rec = sl__calloc(1, sizeof(*rec));
    if (!rec) {
        return sl__nomem(err);
    }
    sl_status rc = SL_OK;
    if (!policy) {
        rc = sl_redactor_default(&rec->own_policy, err);
        policy = rec->own_policy;
    }
    if (rc == SL_OK) {
        rc = sl_redact_ctx_new(policy, &rec->ctx, err);
    }
    if (rc == SL_OK) {
        rec->doc = sl_doc_new();
        if (!rec->doc) {
            rc = sl__nomem(err);
        }
    }
    if (rc == SL_OK) {
        int src = sqlite3_open_v2(db_path, &rec->db,
                                  SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                      SQLITE_OPEN_NOMUTEX,
                                  NULL);
        if (src != SQLITE_OK) {
            sl_pos pos = {db_path, 0, 0};
            rc = sl__error(err, db_code(src), &pos, "cannot open database: %s",
                           rec->db ? sqlite3_errmsg(rec->db)
                                   : sqlite3_errstr(src));
        }
    }
    if (rc == SL_OK) {
        sqlite3_busy_timeout(rec->db, 5000);
        char *msg = NULL;
        int src = sqlite3_exec(rec->db,
                               "PRAGMA journal_mode=WAL;"
                               "PRAGMA synchronous=NORMAL;"
                               "PRAGMA foreign_keys=ON;",
                               NULL, NULL, &msg);
        if (src == SQLITE_OK) {
            src = sqlite3_exec(rec->db, schema, NULL, NULL, &msg);
        }
        if (src != SQLITE_OK) {
            sl_pos pos = {db_path, 0, 0};
            rc = sl__error(err, db_code(src), &pos,
                           "not a recorder database: %s",
                           msg ? msg : sqlite3_errstr(src));
        }
        sqlite3_free(msg);
    }
    for (int i = 0; rc == SL_OK && i < ST_COUNT; i++) {
        int src =
            sqlite3_prepare_v3(rec->db, sql_text[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &rec->st[i], NULL);
        if (src != SQLITE_OK) {
            sl_pos pos = {db_path, 0, 0};
            rc = sl__error(err, db_code(src), &pos,
                           "not a recorder database: %s",
                           sqlite3_errmsg(rec->db));
        }
    }
    if (rc != SL_OK) {
        sl_recorder_close(rec);
        return rc;
    }
    host_facts(rec);
    *out = rec;
    return SL_OK;
}

void sl_recorder_close(sl_recorder *rec) {
    if (!rec) {
        return;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(rec->st[i]);
    }
    sqlite3_close(rec->db);
    sl_redact_ctx_free(rec->ctx);
    sl_redactor_free(rec->own_policy);
    sl_doc_free(rec->doc);
    sl_buf_free(&rec->out);
    sl_buf_free(&rec->audit);
    sl_buf_free(&rec->line);
    sl__free(rec, sizeof(*rec));
}

/* ---- runs ---- */

sl_status sl_recorder_start_run(sl_recorder *rec, const char *entrypoint,
                                char run_id[SL_RUN_ID_LEN + 1], sl_error *err) {
    if (!rec || !run_id || !valid_text(entrypoint, MAX_ENTRYPOINT)) {
        return sl__error(err, SL_EINVAL, NULL,
                         "entrypoint must be non-empty utf-8 of at most %d "
                         "bytes",
                         MAX_ENTRYPOINT);
    }
    char id[SL_RUN_ID_LEN + 1];
    sl_status rc = random_id(id, err);
    if (rc != SL_OK) {
        return rc;
    }
    char ts[40];
    now_rfc3339(ts);
    sqlite3_stmt *s = rec->st[ST_START];
    sqlite3_bind_text(s, 1, id, SL_RUN_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, entrypoint, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, ts, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, rec->host, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, rec->platform, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, rec->cwd, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, (sqlite3_int64)getpid());
    sqlite3_bind_text(s, 8, SL_VERSION_STRING, -1, SQLITE_STATIC);
    int src = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (src != SQLITE_DONE) {
        return db_error(rec, err, "cannot start run");
    }
    memcpy(run_id, id, sizeof(id));
    return SL_OK;
}

/* Why a run cannot take events or end: unknown or finished. */
static sl_status run_state_error(sl_recorder *rec, const char *run_id,
                                 sl_error *err) {
    sqlite3_stmt *s = rec->st[ST_RUN_STATUS];
    sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
    int src = sqlite3_step(s);
    sl_status rc;
    if (src == SQLITE_ROW) {
        rc = sl__error(err, SL_ESTATE, NULL, "run %s is finished (%s)", run_id,
                       (const char *)sqlite3_column_text(s, 0));
    } else if (src == SQLITE_DONE) {
        rc = sl__error(err, SL_ENOTFOUND, NULL, "unknown run %s", run_id);
    } else {
        rc = db_error(rec, err, "cannot read run");
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

sl_status sl_recorder_end_run(sl_recorder *rec, const char *run_id,
                              const char *status, sl_error *err) {
    if (!rec) {
        return sl__error(err, SL_EINVAL, NULL, "no recorder");
    }
    static const char *const ok[] = {"success", "failure", "error",
                                     "cancelled"};
    bool good = false;
    for (size_t i = 0; status && i < SL_ARRAY_LEN(ok); i++) {
        good |= strcmp(status, ok[i]) == 0;
    }
    if (!good) {
        char q[64];
        sl__quote(q, sizeof(q), status ? status : "",
                  status ? strlen(status) : 0);
        return sl__error(err, SL_EINVAL, NULL,
                         "unknown status %s (success, failure, error or "
                         "cancelled)",
                         q);
    }
    if (!valid_run_id(run_id)) {
        return sl__error(err, SL_ENOTFOUND, NULL, "unknown run");
    }
    char ts[40];
    now_rfc3339(ts);
    sqlite3_stmt *s = rec->st[ST_END];
    sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, ts, -1, SQLITE_STATIC);
    int src = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (src != SQLITE_DONE) {
        return db_error(rec, err, "cannot end run");
    }
    if (sqlite3_changes(rec->db) == 0) {
        return run_state_error(rec, run_id, err);
    }
    return SL_OK;
}

/* ---- events: the storage boundary ---- */

static sl_status exec_st(sl_recorder *rec, int which) {
    int src = sqlite3_step(rec->st[which]);
    sqlite3_reset(rec->st[which]);
    return src == SQLITE_DONE ? SL_OK : SL_EDB;
}

/* Insert the redacted payload in rec->out (and its audit) as the next event
 * of run_id, in one transaction. */
static sl_status store_event(sl_recorder *rec, const char *run_id,
                             const char *type, int64_t *seq_out,
                             sl_error *err) {
    /* a ROLLBACK that itself ran out of memory left a transaction open */
    if (!sqlite3_get_autocommit(rec->db)) {
        exec_st(rec, ST_ROLLBACK);
    }
    if (exec_st(rec, ST_BEGIN) != SL_OK) {
        return db_error(rec, err, "cannot begin");
    }
    sqlite3_stmt *s = rec->st[ST_NEXT_SEQ];
    sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
    int src = sqlite3_step(s);
    int64_t seq = src == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    sl_status rc = SL_OK;
    if (src != SQLITE_ROW) {
        rc = src == SQLITE_DONE ? run_state_error(rec, run_id, err)
                                : db_error(rec, err, "cannot log event");
    }
    if (rc == SL_OK) {
        char ts[40];
        now_rfc3339(ts);
        s = rec->st[ST_INSERT];
        sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, seq);
        sqlite3_bind_text(s, 3, ts, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, type, -1, SQLITE_STATIC);
        /* the only payload ever bound: the redactor's output */
        sqlite3_bind_text(s, 5, rec->out.ptr, (int)rec->out.len, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, rec->audit.ptr, (int)rec->audit.len,
                          SQLITE_STATIC);
        src = sqlite3_step(s);
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        if (src != SQLITE_DONE) {
            rc = db_error(rec, err, "cannot log event");
        }
    }
    if (rc == SL_OK && exec_st(rec, ST_COMMIT) != SL_OK) {
        rc = db_error(rec, err, "cannot commit event");
    }
    if (rc != SL_OK) {
        /* nothing of the event stays (SQLite may already have rolled
         * back, e.g. after running out of memory) */
        if (!sqlite3_get_autocommit(rec->db)) {
            exec_st(rec, ST_ROLLBACK);
        }
        return rc;
    }
    if (seq_out) {
        *seq_out = seq;
    }
    return SL_OK;
}

/* Log payload, a node of doc (which may be NULL): given the document,
 * sl_redact_write_doc copies what it does not redact from the source text
 * (the same bytes as writing node by node, when read from compact JSON). */
static sl_status log_payload(sl_recorder *rec, const char *run_id,
                             const char *type, const sl_doc *doc,
                             const sl_node *payload, int64_t *seq,
                             sl_error *err) {
    if (!rec) {
        return sl__error(err, SL_EINVAL, NULL, "no recorder");
    }
    if (!valid_run_id(run_id)) {
        char q[64];
        sl__quote(q, sizeof(q), run_id ? run_id : "",
                  run_id ? strlen(run_id) : 0);
        return sl__error(err, SL_ENOTFOUND, NULL, "unknown run %s", q);
    }
    if (!valid_text(type, MAX_TYPE)) {
        return sl__error(err, SL_ESCHEMA, NULL,
                         "event type must be non-empty utf-8 of at most %d "
                         "bytes",
                         MAX_TYPE);
    }
    if (sl_node_kind_of(payload) != SL_NODE_OBJECT) {
        return sl__error(err, SL_ESCHEMA, NULL,
                         "payload must be an object, not %s",
                         sl_node_kind_name(sl_node_kind_of(payload)));
    }
    rec->out.len = 0;
    rec->audit.len = 0;
    sl_status rc = doc ? sl_redact_write_doc(rec->ctx, doc, payload, &rec->out,
                                             &rec->audit, NULL, err)
                       : sl_redact_write(rec->ctx, payload, &rec->out,
                                         &rec->audit, NULL, err);
    if (rc != SL_OK) {
        return rc;
    }
    if (rec->out.len > MAX_PAYLOAD) {
        return sl__error(err, SL_ELIMIT, NULL, "payload over 64 MiB");
    }
    /* trees built by hand may hold text the JSON reader would refuse */
    if (sl__utf8_valid_prefix(rec->out.ptr, rec->out.len) != rec->out.len) {
        return sl__error(err, SL_EUTF8, NULL, "payload is not valid utf-8");
    }
    return store_event(rec, run_id, type, seq, err);
}

sl_status sl_recorder_log_node(sl_recorder *rec, const char *run_id,
                               const char *type, const sl_node *payload,
                               int64_t *seq, sl_error *err) {
    return log_payload(rec, run_id, type, NULL, payload, seq, err);
}

sl_status sl_recorder_log_doc_node(sl_recorder *rec, const char *run_id,
                                   const char *type, const sl_doc *doc,
                                   const sl_node *payload, int64_t *seq,
                                   sl_error *err) {
    return log_payload(rec, run_id, type, doc, payload, seq, err);
}

sl_status sl_recorder_log_event(sl_recorder *rec, const char *run_id,
                                const char *type, const char *json, size_t len,
                                int64_t *seq, sl_error *err) {
    if (!rec || (!json && len)) {
        return sl__error(err, SL_EINVAL, NULL, "no recorder or no payload");
    }
    sl_doc_opts o = {0};
    o.borrow = true;
    sl_status rc = sl_doc_load(rec->doc, json ? json : "", len, SL_FORMAT_JSON,
                               "payload", &o, err);
    if (rc == SL_OK) {
        rc = log_payload(rec, run_id, type, rec->doc, sl_doc_root(rec->doc),
                         seq, err);
    }
    return rc;
}

/* ---- reading ---- */

static sl_status put_text_col(sl_buf *b, sqlite3_stmt *s, int col) {
    if (sqlite3_column_type(s, col) == SQLITE_NULL) {
        return sl__buf_append(b, "null", 4);
    }
    const char *t = (const char *)sqlite3_column_text(s, col);
    int n = sqlite3_column_bytes(s, col);
    return sl_json_write_string(b, t ? t : "", (size_t)n);
}

static sl_status put_raw_col(sl_buf *b, sqlite3_stmt *s, int col) {
    const char *t = (const char *)sqlite3_column_text(s, col);
    int n = sqlite3_column_bytes(s, col);
    return sl__buf_append(b, t ? t : "null", t ? (size_t)n : 4);
}

sl_status sl_recorder_list_runs(sl_recorder *rec, sl_line_fn fn, void *ctx,
                                sl_error *err) {
    if (!rec || !fn) {
        return sl__error(err, SL_EINVAL, NULL, "no recorder or no callback");
    }
    sqlite3_stmt *s = rec->st[ST_LIST];
    sl_status rc = SL_OK;
    int src;
    while ((src = sqlite3_step(s)) == SQLITE_ROW) {
        sl_buf *b = &rec->line;
        b->len = 0;
        rc = sl__buf_append(b, "{\"run_id\":", 10);
        static const char *const names[] = {
            "", ",\"entrypoint\":", ",\"status\":", ",\"started_at\":",
            ",\"ended_at\":"};
        for (int c = 0; c < 5 && rc == SL_OK; c++) {
            if (c > 0) {
                rc = sl__buf_append(b, names[c], strlen(names[c]));
            }
            if (rc == SL_OK) {
                rc = put_text_col(b, s, c);
            }
        }
        if (rc == SL_OK) {
            rc = sl__buf_printf(b, ",\"events\":%lld}",
                                (long long)sqlite3_column_int64(s, 5));
        }
        if (rc != SL_OK || fn(b->ptr, b->len, ctx) != 0) {
            break;
        }
    }
    if (rc == SL_OK && src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = db_error(rec, err, "cannot list runs");
    } else if (rc == SL_ENOMEM) {
        sl__nomem(err);
    }
    sqlite3_reset(s);
    return rc;
}

sl_status sl_recorder_show_run(sl_recorder *rec, const char *run_id,
                               sl_line_fn fn, void *ctx, sl_error *err) {
    if (!rec || !fn) {
        return sl__error(err, SL_EINVAL, NULL, "no recorder or no callback");
    }
    if (!valid_run_id(run_id)) {
        return sl__error(err, SL_ENOTFOUND, NULL, "unknown run");
    }
    /* SL_ESTATE here only says the run exists */
    sl_status rc = run_state_error(rec, run_id, err);
    if (rc != SL_ESTATE) {
        return rc;
    }
    if (err) {
        memset(err, 0, sizeof(*err));
    }
    rc = SL_OK;
    sqlite3_stmt *s = rec->st[ST_SHOW];
    sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
    int src;
    while ((src = sqlite3_step(s)) == SQLITE_ROW) {
        sl_buf *b = &rec->line;
        b->len = 0;
        rc = sl__buf_printf(b, "{\"event_id\":%lld,\"seq\":%lld,\"ts\":",
                            (long long)sqlite3_column_int64(s, 0),
                            (long long)sqlite3_column_int64(s, 1));
        if (rc == SL_OK) {
            rc = put_text_col(b, s, 2);
        }
        if (rc == SL_OK) {
            rc = sl__buf_append(b, ",\"type\":", 8);
        }
        if (rc == SL_OK) {
            rc = put_text_col(b, s, 3);
        }
        if (rc == SL_OK) {
            rc = sl__buf_append(b, ",\"payload\":", 11);
        }
        if (rc == SL_OK) {
            rc = put_raw_col(b, s, 4);
        }
        if (rc == SL_OK) {
            rc = sl__buf_append(b, ",\"audit\":", 9);
        }
        if (rc == SL_OK) {
            rc = put_raw_col(b, s, 5);
        }
        if (rc == SL_OK) {
            rc = sl__buf_putc(b, '}');
        }
        if (rc != SL_OK || fn(b->ptr, b->len, ctx) != 0) {
            break;
        }
    }
    if (rc == SL_OK && src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = db_error(rec, err, "cannot read events");
    } else if (rc == SL_ENOMEM) {
        sl__nomem(err);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

/* src/cli/apply_threads.c: `sluice apply --threads N`: the input is cut
 * into chunks at value boundaries, N workers (base/workq.h) evaluate the
 * chunks in parallel, each with its own batch and policy context made
 * once on its own thread, and the main thread writes each chunk's output,
 * messages and counts in input order. Nothing a worker writes per record
 * is shared: its state is in its thread's allocator arena, its counts are
 * held back until the job ends (policy/defer.h), its output and totals
 * are on its stack until then. Owns the chunking, the jobs and the reorder;
 * evaluating a value is sl_cli_apply_value's, shared with the
 * single-threaded loop, and parsing is value_stream's (in memory mode).
 *
 * The one idea: a chunk may only end where the single-threaded stream
 * would be between two values, and that is decided without parsing. The
 * main thread cuts just past a newline whose next line starts with '{' or
 * '[' and whose last non-blank byte before is not '[', ',' or ':'. Why
 * that is a boundary whatever the input: a value V that started before
 * the cut and has not ended at the newline (valid so far, or broken in a
 * way the parser has not seen yet) can go on at the '{' only where JSON
 * expects a value, i.e. after '[', ',' or ':' (a string cannot span
 * lines: a raw newline in one is an error on its own line). Anywhere else
 * the parser fails at the '{', column 1 of a later line, and the stream
 * resumes at that line's start (value_stream.c), which is the cut. So no
 * value crosses a cut, and a worker needs to see only the cut line's first
 * bytes (the "lookahead" copied after the chunk) to report V's error
 * exactly as the single-threaded run does. A chunk of JSON lines ends at
 * its last line; a pretty-printed request ends before the next request's
 * '{'. Where no such cut exists (a value larger than the chunk), the chunk
 * grows.
 *
 * Input that has no such cut for long (8 chunk sizes of garbage), and
 * input from a pipe that has nothing more to read for now, is cut at its
 * last newline instead, with no such guarantee: that chunk runs alone
 * (everything before it is written first, nothing after it starts), with
 * the stream told that more input follows; a value its parse cannot
 * finish inside the chunk is handed back, in front of the next chunk's
 * bytes. Before waiting on a pipe, everything complete is written and
 * flushed, as the single-threaded loop does.
 *
 * Line numbers: a worker counts lines from its chunk's start and the
 * chunk's newlines; the main thread adds the lines of the chunks before
 * when it prints, so no thread counts lines of another's chunk.
 *
 * Reload (SIGHUP): checked before each chunk is queued. The main thread
 * lets every queued chunk finish and be written, compiles the new set,
 * gives every worker a new context and frees the old ones and the old
 * set, then queues the chunk: every value before that chunk was
 * evaluated with the old policies, every value from it on with the new,
 * by every worker. The single-threaded loop switches before the next
 * value; here the switch waits for the values already read (at most the
 * queue: 2N+1 chunks). Counters and rate windows carry over by id as in
 * sl_policy_reload. */
#define _GNU_SOURCE /* memrchr */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "base/workq.h"
#include "cli/apply.h"
#include "cli/cli.h"
#include "cli/input_map.h"
#include "cli/value_stream.h"
#include "policy/defer.h"

enum {
    CHUNK_DEFAULT = 2 << 20, /* ~3,600 records of 583 bytes */
    /* a mapped file's chunks: a view of the map and its output together
     * stay in a core's cache (2 MiB chunks made the copies of the output
     * and the first reads of the input miss: measured, README) */
    CHUNK_MAPPED = 512 << 10,
    LOOKAHEAD_MAX = 256, /* the cut line's bytes a chunk gets to see */
    UNCERTAIN_AFTER = 8, /* chunk sizes without a cut: cut anyway */
    MAX_EVENTS = 256,    /* messages a job holds before it stops */
    WAIT_MS = 10         /* a pipe this idle: write what is done */
};

typedef enum chunk_end {
    END_FINAL,   /* the input ends here */
    END_CERTAIN, /* a cut as above: lookahead follows stop */
    END_MORE     /* any newline: more input follows, unseen */
} chunk_end;

/* A message of a job, printed in order when the job is written. */
typedef struct event {
    int kind;       /* 0: a bad value; else an sl_cli_fail */
    uint32_t vline; /* the value's line, from the chunk's start */
    sl_error err;   /* a bad value's line also counts from there */
} event;

typedef struct job {
    const char *name;
    const char *in;        /* the chunk, then the lookahead: buf, or the map */
    char *buf;             /* the chunk as read (input that is not mapped) */
    bool mapped;           /* in points into the map */
    const sl_cli_map *map; /* ... this one */
    size_t len, cap, stop;
    size_t start; /* the first value starts here: in[0] starts its line,
                     so columns count as in the whole input */
    chunk_end end;
    /* results */
    sl_buf out;
    sl_cli_totals t;
    event *ev;
    size_t nev, capev;
    size_t done_at; /* where the worker stopped (stop when finished) */
    uint32_t lines; /* newlines in in[0..done_at), when read (a mapped
                       input's are counted only when a message needs them) */
    bool more;      /* the value at done_at needs the bytes after stop */
    bool overrun;   /* a value crossed a certain cut: a bug, reported */
    bool fatal;     /* the stream could not go on: the input stops */
    bool nomem, ok;
} job;

/* What one worker thread holds, made once (and again on a reload) on
 * that thread (wstate_init, wstate_next). */
typedef struct wstate {
    sl_otlp *o;
    sl_policy_ctx *ctx;
    sl_policy_ctx *next; /* a reload's new context, until switched */
    bool nomem;
} wstate;

struct sl_cli_apply_par {
    sl_cli_policies *pol;
    sl__workq *q;
    size_t nthreads, chunk;
    size_t map_chunk; /* the same for a mapped input */
    wstate *ws;       /* nthreads + 1: the last is the main thread's */
    void **wptr;
    job *jobs;
    job **free_jobs;
    size_t njobs, nfree;
    char *carry; /* input read but not yet in a job */
    size_t carry_len, carry_cap;
    sl_cli_map map;    /* a regular file, mapped: chunks point into it, and */
    size_t pos;        /* the carry is map.ptr[pos..map.len) */
    size_t undecided;  /* the carry starts with this many bytes handed back
                          by a chunk that could not decide them: an
                          uncertain cut must come after them (progress) */
    size_t carry_skip; /* ... from its line's start: where the value is */
    /* the input being applied */
    uint32_t line_base; /* newlines before the next job to write; for a
                           mapped input, before map.ptr[lines_at] */
    size_t lines_at;
    bool ok, stopped;
    FILE *sink;
    sl_cli_totals *t;
};

/* ---- buffers ---- */

static bool reserve(char **p, size_t *cap, size_t need) {
    if (need <= *cap) {
        return true;
    }
    size_t n = *cap ? *cap : 4096;
    while (n < need) {
        n *= 2;
    }
    char *q = sl__realloc(*p, *cap, n);
    if (!q) {
        return false;
    }
    *p = q;
    *cap = n;
    return true;
}

/* ---- the worker side ---- */

/* Make w's batch and context for set: run on w's own thread, so their
 * memory (written per record) comes from that thread's arena and never
 * shares a cache line with another worker's (sl__workq_each). */
static void wstate_init(void *worker, void *set) {
    wstate *w = worker;
    w->o = sl_otlp_new();
    w->nomem = !w->o || sl_policy_ctx_new(set, &w->ctx, NULL) != SL_OK;
    if (!w->nomem) {
        sl_policy_lazy_load(set, w->o, true);
        /* counts are published at the end of each job (run_job): a
         * context that cannot hold them back counts straight through */
        (void)sl__policy_ctx_defer_counts(w->ctx);
    }
}

/* A reload's new context for w, made the same way; switched to by the
 * main thread once every worker has one. */
static void wstate_next(void *worker, void *set) {
    wstate *w = worker;
    w->next = NULL;
    w->nomem = sl_policy_ctx_new(set, &w->next, NULL) != SL_OK;
    if (!w->nomem) {
        (void)sl__policy_ctx_defer_counts(w->next);
    }
}

static sl_status otlp_loader(void *ud, const char *text, size_t len,
                             size_t *off, const char *file, sl_error *err) {
    return sl_otlp_load(ud, text, len, off, file, err);
}

static void add_event(job *j, int kind, uint32_t vline, const sl_error *err) {
    if (j->nev == j->capev) {
        size_t n = j->capev ? j->capev * 2 : 16;
        event *e = sl__realloc(j->ev, j->capev * sizeof(*e), n * sizeof(*e));
        if (!e) {
            j->nomem = true; /* reported as out of memory, input stops */
            return;
        }
        j->ev = e;
        j->capev = n;
    }
    event *e = &j->ev[j->nev++];
    e->kind = kind;
    e->vline = vline;
    e->err = *err;
}

typedef struct job_run {
    job *j;
    sl_cli_stream *s;
} job_run;

static void store_fail(void *ud, sl_cli_fail kind, sl_error *err) {
    job_run *r = ud;
    add_event(r->j, (int)kind, sl_cli_stream_value_line(r->s), err);
}

/* Run the stream over in[0..stop) (with the lookahead), evaluating and
 * writing every value into j->out and keeping every message. Stops early
 * after MAX_EVENTS messages (the caller runs the rest), at a value the
 * chunk cannot decide (END_MORE), or when out of memory. */
static void run_job(void *worker, void *jp) {
    wstate *w = worker;
    job *j = jp;
    /* What is written per value (the output, the counts) stays on this
     * thread's stack until the job ends: the jobs lie side by side in one
     * array, and two workers writing neighbours per record would share
     * cache lines. */
    sl_buf out = j->out;
    out.len = 0;
    out.failed = 0;
    sl_cli_totals t = {0};
    bool ok = true;
    j->nev = 0;
    j->more = j->overrun = j->nomem = j->fatal = false;
    /* The parser memoises where it last located a line, by text address
     * and offset, and forgets it when a parse starts before that offset.
     * Job buffers are reused with new bytes at the same address, and a
     * job may start past 0 (j->start): a parse at offset 0 first makes
     * it forget (an empty text ends at once). */
    size_t zero = 0;
    (void)sl_otlp_load(w->o, j->in, 0, &zero, j->name, NULL);
    sl_cli_stream s;
    sl_cli_stream_open_mem(&s, j->name, j->in, j->len, j->stop,
                           j->end == END_MORE, otlp_loader, w->o);
    s.off = j->start;
    job_run r = {j, &s};
    sl_error err;
    while (j->nev < MAX_EVENTS && !j->nomem) {
        sl__error_clear(&err);
        int got = sl_cli_stream_next(&s, &err);
        if (j->end == END_CERTAIN && s.off > j->stop) {
            j->overrun = true;
        }
        if (got == 0) {
            break;
        }
        if (got == SL_CLI_STREAM_MORE) {
            j->more = true;
            break;
        }
        if (got < 0) {
            if (!err.msg[0]) {
                snprintf(err.msg, sizeof(err.msg), "%s",
                         sl_status_str(err.code));
            }
            add_event(j, 0, sl_cli_stream_value_line(&s), &err);
            ok = false;
            t.bad_values++;
            if (got == -2) {
                j->fatal = true; /* the stream cannot go on */
                break;
            }
            continue;
        }
        ok = sl_cli_apply_value(w->ctx, w->o, &out, &t, store_fail, &r) && ok;
    }
    sl__policy_ctx_publish_counts(w->ctx); /* seen when collected */
    j->out = out;
    j->t = t;
    j->ok = ok;
    j->done_at = s.off < j->stop ? s.off : j->stop;
    j->lines = j->mapped ? 0 : sl_cli_count_lines(j->in, j->done_at);
    sl_cli_stream_close(&s);
    if (j->mapped && j->done_at >= j->stop && !j->more) {
        /* done with these pages: drop them here, in parallel, rather than
         * in one munmap on the main thread at the end (25-45 ms for 580
         * MB, measured); a page read again (a message's line count, the
         * previous chunk's lookahead) is faulted in again */
        sl_cli_map_release(j->map, j->in, j->stop);
    }
}

/* ---- the main thread: writing in order ---- */

static void print_event(sl_cli_apply_par *a, event *e, const char *name) {
    uint32_t vline = e->vline + a->line_base;
    if (e->kind == SL_CLI_FAIL_RECORD) {
        fprintf(stderr, "%s: line %u: %s\n", name, (unsigned)vline, e->err.msg);
        return;
    }
    if (e->kind == 0 && e->err.line) {
        e->err.line += a->line_base;
        sl_cli_stream_locate(&e->err, vline);
    }
    sl_cli_print_error(&e->err);
}

/* Where the line holding j->done_at starts: what is left of a job is
 * kept from there, so that columns stay those of the whole input. */
static size_t rest_line(const job *j) {
    size_t ls = j->done_at;
    while (ls > 0 && j->in[ls - 1] != '\n') {
        ls--;
    }
    return ls;
}

/* Start j again at the unfinished rest (for a run on the main thread). */
static void job_rest(job *j) {
    size_t ls = rest_line(j);
    j->in += ls;
    j->start = j->done_at - ls;
    j->len -= ls;
    j->stop -= ls;
}

/* Put the rest of j back in front of the carry: a value the chunk could
 * not decide goes on with the bytes after it. */
static bool carry_unread(sl_cli_apply_par *a, const job *j) {
    size_t ls = rest_line(j), n = j->stop - ls;
    if (a->map.ptr) {
        a->pos = (size_t)(j->in - a->map.ptr) + ls; /* == pos - n */
        a->undecided = n;
        a->carry_skip = j->done_at - ls;
        return true;
    }
    if (!reserve(&a->carry, &a->carry_cap, a->carry_len + n)) {
        return false;
    }
    memmove(a->carry + n, a->carry, a->carry_len);
    memcpy(a->carry, j->in + ls, n);
    a->carry_len += n;
    a->undecided = n;
    a->carry_skip = j->done_at - ls;
    return true;
}

static void stop_input(sl_cli_apply_par *a, const char *why);

/* The mapped input shrank under the workers (input_map.h): one error,
 * counted as a bad value, as the single-threaded stream reports it. */
static void truncated(sl_cli_apply_par *a, const char *name) {
    sl_error err = {0};
    sl_cli_map_truncation_error(&err, name);
    sl_cli_print_error(&err);
    a->t->bad_values++;
    stop_input(a, NULL);
}

static void stop_input(sl_cli_apply_par *a, const char *why) {
    if (!a->stopped && why) {
        fprintf(stderr, "sluice apply: %s\n", why);
    }
    a->stopped = true;
    a->ok = false;
}

/* Write a finished job: its messages, its output, its counts; run what it
 * left on the main thread, or hand an undecided value back to the carry.
 * After a fatal error the job is only released. */
static void retire(sl_cli_apply_par *a, job *j) {
    while (!a->stopped) {
        if (j->nev && a->map.ptr) {
            if (sl_cli_map_truncated(&a->map)) {
                truncated(a, j->name); /* not what zeroed pages parse as */
                break;
            }
            /* lines of a mapped input are counted here, only up to a job
             * that has something to say */
            size_t at = (size_t)(j->in - a->map.ptr);
            a->line_base +=
                sl_cli_count_lines(a->map.ptr + a->lines_at, at - a->lines_at);
            a->lines_at = at;
        }
        for (size_t i = 0; i < j->nev; i++) {
            print_event(a, &j->ev[i], j->name);
        }
        if (j->overrun) {
            stop_input(a, "internal error: a chunk boundary was not a value "
                          "boundary");
            break;
        }
        if (j->out.len &&
            fwrite(j->out.ptr, 1, j->out.len, a->sink) != j->out.len) {
            stop_input(a, "write failed");
            break;
        }
        j->t.bytes_out += j->out.len;
        sl_cli_totals_add(a->t, &j->t);
        a->ok = a->ok && j->ok;
        a->line_base += j->lines;
        if (j->nomem) {
            fprintf(stderr, "%s: out of memory\n", j->name);
        }
        if (j->nomem || j->fatal) {
            stop_input(a, NULL); /* what came before is written */
            break;
        }
        if (j->done_at >= j->stop) {
            break;
        }
        if (j->more) {
            /* END_MORE: nothing was queued after this job */
            if (!carry_unread(a, j)) {
                stop_input(a, "out of memory");
            }
            break;
        }
        job_rest(j); /* stopped after MAX_EVENTS messages */
        run_job(a->wptr[a->nthreads], j);
    }
    a->free_jobs[a->nfree++] = j;
}

static void drain(sl_cli_apply_par *a) {
    job *j;
    while ((j = sl__workq_collect(a->q))) {
        retire(a, j);
    }
}

/* ---- reload: every worker switches at one chunk boundary ---- */

static void reload(sl_cli_apply_par *a) {
    drain(a); /* the workers are idle from here on */
    sl_policy_set *next = NULL;
    sl_cli_apply_reload(a->pol, &next);
    if (!next) {
        return;
    }
    size_t n = a->nthreads + 1;
    bool ok = sl__workq_each(a->q, wstate_next, next) == SL_OK;
    wstate_next(&a->ws[a->nthreads], next);
    for (size_t i = 0; i < n; i++) {
        ok = ok && !a->ws[i].nomem;
    }
    for (size_t i = 0; i < n; i++) {
        wstate *w = &a->ws[i];
        if (ok) {
            sl_policy_ctx_free(w->ctx);
            w->ctx = w->next;
            sl_policy_lazy_load(next, w->o, true);
        } else {
            sl_policy_ctx_free(w->next);
        }
        w->next = NULL;
        w->nomem = false;
    }
    if (!ok) {
        sl_policy_set_free(next);
        fprintf(stderr, "sluice apply: policy reload failed, keeping the "
                        "previous policies: out of memory\n");
        return;
    }
    sl_policy_set_free(a->pol->set);
    a->pol->set = next;
}

/* ---- cutting ---- */

static bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The last cut in b[0..len) that is a value boundary (see the top of the
 * file), or 0. The cut's line must have begun: len > cut. */
static size_t certain_cut(const char *b, size_t len) {
    size_t end = len;
    const char *nl;
    while (end > 0 && (nl = memrchr(b, '\n', end))) {
        size_t cut = (size_t)(nl - b) + 1;
        end = (size_t)(nl - b);
        if (cut >= len || (b[cut] != '{' && b[cut] != '[')) {
            continue;
        }
        size_t p = cut;
        while (p > 0 && is_blank(b[p - 1])) {
            p--;
        }
        if (p == 0) {
            continue; /* nothing before it: no chunk */
        }
        char c = b[p - 1];
        if (c != '[' && c != ',' && c != ':') {
            return cut;
        }
    }
    return 0;
}

static size_t last_newline(const char *b, size_t len) {
    const char *nl = len ? memrchr(b, '\n', len) : NULL;
    return nl ? (size_t)(nl - b) + 1 : 0;
}

/* Would a read of fd wait? Only a pipe, socket or terminal can; a while
 * of silence counts as waiting. */
static bool input_idle(int fd, bool regular) {
    if (regular) {
        return false;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r;
    do {
        r = poll(&p, 1, WAIT_MS);
    } while (r < 0 && errno == EINTR);
    return r == 0;
}

static job *take_job(sl_cli_apply_par *a) {
    while (a->nfree == 0) {
        job *j = sl__workq_collect(a->q);
        if (!j) {
            return NULL; /* cannot happen: every job is free or queued */
        }
        retire(a, j);
    }
    return a->free_jobs[--a->nfree];
}

/* End j's values at cut; rest bytes of input follow it. After a certain
 * cut the chunk keeps the cut line's first bytes as lookahead. */
static void set_stop(job *j, size_t cut, size_t rest) {
    j->stop = cut;
    if (j->end == END_CERTAIN) {
        const char *nl = memchr(j->in + cut, '\n', rest);
        size_t la = nl ? (size_t)(nl - (j->in + cut)) + 1 : rest;
        j->len = cut + (la < LOOKAHEAD_MAX ? la : LOOKAHEAD_MAX);
    } else {
        j->len = cut;
    }
}

/* Read the next chunk of fd into j (after the carry). Returns false at a
 * read error (printed). */
static bool fill_job(sl_cli_apply_par *a, job *j, int fd, bool regular,
                     bool *eof, uint64_t *bytes) {
    j->len = 0;
    if (!reserve(&j->buf, &j->cap, a->chunk + LOOKAHEAD_MAX) ||
        !reserve(&j->buf, &j->cap, a->carry_len + LOOKAHEAD_MAX)) {
        stop_input(a, "out of memory");
        return false;
    }
    if (a->carry_len) {
        memcpy(j->buf, a->carry, a->carry_len);
        j->len = a->carry_len;
        a->carry_len = 0;
    }
    size_t undecided = a->undecided;
    j->start = a->carry_skip;
    a->undecided = a->carry_skip = 0;
    size_t cut = 0;
    for (;;) {
        if (*eof) {
            j->end = END_FINAL;
            cut = j->len;
            break;
        }
        if (j->len >= a->chunk) {
            if ((cut = certain_cut(j->buf, j->len)) > 0) {
                j->end = END_CERTAIN;
                break;
            }
            if (j->len >= a->chunk * UNCERTAIN_AFTER &&
                (cut = last_newline(j->buf, j->len)) > undecided) {
                j->end = END_MORE;
                break;
            }
        }
        if (input_idle(fd, regular)) {
            if ((cut = last_newline(j->buf, j->len)) > undecided) {
                j->end = END_MORE; /* do what is here; then wait */
                break;
            }
            drain(a);
            fflush(a->sink);
        }
        if (j->len + LOOKAHEAD_MAX >= j->cap) {
            if (j->cap >= (size_t)SL_MAX_INPUT) {
                sl_error err = {0};
                snprintf(err.file, sizeof(err.file), "%s", j->name);
                snprintf(err.msg, sizeof(err.msg), "one value over 1 GiB");
                sl_cli_print_error(&err);
                a->t->bad_values++; /* as the single-threaded stream */
                stop_input(a, NULL);
                return false;
            }
            if (!reserve(&j->buf, &j->cap, j->cap * 2)) {
                stop_input(a, "out of memory");
                return false;
            }
        }
        size_t want = j->cap - LOOKAHEAD_MAX - j->len;
        if (j->len < a->chunk && want > a->chunk - j->len) {
            want = a->chunk - j->len; /* chunks of about chunk bytes */
        }
        ssize_t n;
        do {
            n = read(fd, j->buf + j->len, want);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            sl_error err = {0};
            snprintf(err.file, sizeof(err.file), "%s", j->name);
            snprintf(err.msg, sizeof(err.msg), "read failed: %s",
                     strerror(errno));
            sl_cli_print_error(&err);
            a->t->bad_values++;
            stop_input(a, NULL);
            return false;
        }
        *eof = n == 0;
        j->len += (size_t)n;
        *bytes += (uint64_t)n;
    }
    /* the bytes after the cut start the next chunk */
    size_t rest = j->len - cut;
    if (!reserve(&a->carry, &a->carry_cap, rest)) {
        stop_input(a, "out of memory");
        return false;
    }
    if (rest) {
        memcpy(a->carry, j->buf + cut, rest);
    }
    a->carry_len = rest;
    j->in = j->buf;
    j->mapped = false;
    set_stop(j, cut, rest);
    return true;
}

/* The same for a mapped input: the chunk is a view of the map from pos,
 * cut by the same rules, and nothing is copied. The file is at most
 * SL_CLI_MAP_MAX bytes, so no chunk reaches the one-value limit. */
static void map_job(sl_cli_apply_par *a, job *j, uint64_t *bytes) {
    size_t undecided = a->undecided;
    j->start = a->carry_skip;
    a->undecided = a->carry_skip = 0;
    j->in = a->map.ptr + a->pos;
    j->mapped = true;
    j->map = &a->map;
    size_t avail = a->map.len - a->pos;
    size_t chunk = a->map_chunk;
    size_t len = chunk < avail ? chunk : avail, cut;
    for (;;) {
        if (len == avail) {
            j->end = END_FINAL;
            cut = len;
            break;
        }
        if ((cut = certain_cut(j->in, len)) > 0) {
            j->end = END_CERTAIN;
            break;
        }
        if (len >= chunk * UNCERTAIN_AFTER &&
            (cut = last_newline(j->in, len)) > undecided) {
            j->end = END_MORE;
            break;
        }
        len = len > avail / 2 ? avail : len * 2;
    }
    a->pos += cut;
    if (a->pos > *bytes) {
        *bytes = a->pos;
    }
    set_stop(j, cut, avail - cut);
}

bool sl_cli_apply_premap(const char *path, sl_cli_map *m) {
    m->ptr = NULL;
    if (strcmp(path, "-") == 0) {
        return false;
    }
    /* only a regular file: opening a FIFO, even to close it at once,
     * would let a waiting writer in with no reader left (SIGPIPE); and
     * O_NONBLOCK in case it became one since */
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        return false;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return false; /* reported when the input's turn comes */
    }
    if (!sl_cli_map_open(m, fd)) {
        close(fd);
        return false;
    }
    return true;
}

bool sl_cli_apply_par_input(sl_cli_apply_par *a, const char *path,
                            sl_cli_map *premapped, sl_cli_totals *t,
                            FILE *sink) {
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    if (premapped && premapped->ptr) {
        a->map = *premapped;
        *premapped = (sl_cli_map){.slot = -1, .fd = -1};
    }
    int fd = a->map.ptr ? a->map.fd
             : is_stdin ? 0
                        : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        return false;
    }
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    bool mapped = a->map.ptr || (!is_stdin && sl_cli_map_open(&a->map, fd));
    a->pos = 0;
    a->carry_len = 0;
    a->undecided = a->carry_skip = 0;
    a->line_base = 0;
    a->lines_at = 0;
    a->ok = true;
    a->stopped = false;
    a->sink = sink;
    a->t = t;
    bool eof = false;
    uint64_t bytes = 0;
    while (!a->stopped) {
        job *j = take_job(a);
        if (!j) {
            stop_input(a, "internal error: no free job");
            break;
        }
        j->name = name;
        if (mapped) {
            map_job(a, j, &bytes);
        } else if (!fill_job(a, j, fd, regular, &eof, &bytes)) {
            a->free_jobs[a->nfree++] = j;
            break;
        }
        if (j->end == END_FINAL && j->len == 0) {
            a->free_jobs[a->nfree++] = j;
            break;
        }
        if (sl_cli_reload_requested) {
            reload(a); /* between chunks: this one sees the new set */
        }
        if (sl__workq_submit(a->q, j) != SL_OK) {
            /* cannot happen (a free job means a free slot): run it here */
            run_job(a->wptr[a->nthreads], j);
            retire(a, j);
        }
        if (j->end != END_CERTAIN) {
            drain(a); /* nothing may start after it */
        }
        if (j->end == END_FINAL &&
            (mapped ? a->pos == a->map.len : a->carry_len == 0)) {
            break;
        }
    }
    drain(a);
    if (mapped && !a->stopped && sl_cli_map_truncated(&a->map)) {
        truncated(a, name);
    }
    t->bytes_in += bytes;
    if (mapped) {
        sl_cli_map_close(&a->map); /* closes fd */
    } else if (!is_stdin) {
        close(fd);
    }
    return a->ok;
}

/* ---- life ---- */

sl_cli_apply_par *sl_cli_apply_par_new(sl_cli_policies *p, size_t nthreads,
                                       size_t chunk) {
    sl_cli_apply_par *a = sl__calloc(1, sizeof(*a));
    if (!a) {
        fprintf(stderr, "sluice apply: out of memory\n");
        return NULL;
    }
    a->pol = p;
    a->nthreads = nthreads;
    a->chunk = chunk ? chunk : CHUNK_DEFAULT;
    a->map_chunk = chunk ? chunk : CHUNK_MAPPED;
    a->njobs = 2 * nthreads + 1;
    a->ws = sl__calloc(nthreads + 1, sizeof(*a->ws));
    a->wptr = sl__calloc(nthreads + 1, sizeof(*a->wptr));
    a->jobs = sl__calloc(a->njobs, sizeof(*a->jobs));
    a->free_jobs = sl__calloc(a->njobs, sizeof(*a->free_jobs));
    bool ok = a->ws && a->wptr && a->jobs && a->free_jobs;
    for (size_t i = 0; ok && i <= nthreads; i++) {
        a->wptr[i] = &a->ws[i];
    }
    for (size_t i = 0; ok && i < a->njobs; i++) {
        a->free_jobs[a->nfree++] = &a->jobs[i];
    }
    sl_error err = {0};
    if (ok && sl__workq_new(nthreads, a->wptr, run_job, a->njobs, &a->q,
                            &err) != SL_OK) {
        fprintf(stderr, "sluice apply: %s\n", err.msg);
        sl_cli_apply_par_free(a);
        return NULL;
    }
    if (ok) {
        /* each worker's state on its own thread; the main thread's here */
        ok = sl__workq_each(a->q, wstate_init, p->set) == SL_OK;
        wstate_init(&a->ws[nthreads], p->set);
        for (size_t i = 0; ok && i <= nthreads; i++) {
            ok = !a->ws[i].nomem;
        }
    }
    if (!ok) {
        fprintf(stderr, "sluice apply: out of memory\n");
        sl_cli_apply_par_free(a);
        return NULL;
    }
    return a;
}

void sl_cli_apply_par_free(sl_cli_apply_par *a) {
    if (!a) {
        return;
    }
    sl__workq_free(a->q); /* joins: nothing runs from here on */
    for (size_t i = 0; a->ws && i <= a->nthreads; i++) {
        sl_policy_ctx_free(a->ws[i].ctx);
        sl_otlp_free(a->ws[i].o);
    }
    for (size_t i = 0; a->jobs && i < a->njobs; i++) {
        job *j = &a->jobs[i];
        sl__free(j->buf, j->cap);
        sl_buf_free(&j->out);
        sl__free(j->ev, j->capev * sizeof(*j->ev));
    }
    sl__free(a->carry, a->carry_cap);
    sl__free(a->ws, (a->nthreads + 1) * sizeof(*a->ws));
    sl__free(a->wptr, (a->nthreads + 1) * sizeof(*a->wptr));
    sl__free(a->jobs, a->njobs * sizeof(*a->jobs));
    sl__free(a->free_jobs, a->njobs * sizeof(*a->free_jobs));
    sl__free(a, sizeof(*a));
}

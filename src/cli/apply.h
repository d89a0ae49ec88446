/* src/cli/apply.h: what `sluice apply`'s single-threaded loop
 * (cmd_apply.c) and its parallel pipeline (apply_threads.c) share: the run
 * totals, the policies in force with their reload, and the work done on
 * one input value (evaluate every record, write what is left), so both
 * paths produce the same bytes by running the same code. */
#ifndef SL_CLI_APPLY_H
#define SL_CLI_APPLY_H

#include <sluice/sluice.h>

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/input_map.h"

typedef struct sl_cli_totals {
    uint64_t values, bad_values, records_in, records_out;
    uint64_t bytes_in, bytes_out;
    unsigned signals; /* 1 << sl_signal seen */
} sl_cli_totals;

/* Add b's counts to a's. */
void sl_cli_totals_add(sl_cli_totals *a, const sl_cli_totals *b);

/* The policies in force: swapped as a whole by sl_cli_apply_reload. */
typedef struct sl_cli_policies {
    const char *const *paths;
    size_t n;
    sl_policy_set *set;
    const sl_policy_opts *opts; /* for loads and reloads; NULL: defaults */
} sl_cli_policies;

/* Set by SIGHUP (cmd_apply.c installs the handler), cleared by
 * sl_cli_apply_reload: the command's one mutable global, since a signal
 * handler can reach nothing else. */
extern volatile sig_atomic_t sl_cli_reload_requested;

/* Compile the files anew over p->set (carrying its counters and rate
 * windows). On success *next is the new set (owned) and the reload is
 * announced on stderr; the caller makes its contexts for it, frees the old
 * ones, then the old set. On failure the reason is printed, *next is
 * NULL and nothing changes. Clears sl_cli_reload_requested. */
void sl_cli_apply_reload(const sl_cli_policies *p, sl_policy_set **next);

/* How a value's failures are reported: record i's transform could not
 * finish (the record was dropped), or the value could not be written (none
 * of it was). err is filled; the callee prints or stores it. */
typedef enum sl_cli_fail {
    SL_CLI_FAIL_RECORD = 1,
    SL_CLI_FAIL_WRITE = 2
} sl_cli_fail;
typedef void (*sl_cli_fail_fn)(void *ud, sl_cli_fail kind, sl_error *err);

/* Evaluate every record of the loaded value o with SL_POLICY_APPLY and
 * append what is left to out as one compact line (out keeps what it held;
 * on a write failure nothing of this value is appended and
 * t->bad_values counts it). t counts the value, its records in and out.
 * Returns false when a record or the write failed (fail was called). */
bool sl_cli_apply_value(sl_policy_ctx *ctx, sl_otlp *o, sl_buf *out,
                        sl_cli_totals *t, sl_cli_fail_fn fail, void *ud);

/* The parallel pipeline (apply_threads.c). */
typedef struct sl_cli_apply_par sl_cli_apply_par;

/* Start nthreads workers (>= 2) over the policies p (borrowed: p->set may
 * change only through sl_cli_apply_par_reload). chunk: target bytes of
 * input per job, 0 = the default. NULL when out of memory or threads
 * (printed). */
sl_cli_apply_par *sl_cli_apply_par_new(sl_cli_policies *p, size_t nthreads,
                                       size_t chunk);

/* Map the input at path ahead of its turn, when it is a regular file
 * that can be mapped (input_map.h), so that it can be warmed while the
 * policies compile; false (m->ptr NULL, nothing reported) otherwise: the
 * input is then opened, and any error reported, when its turn comes. */
bool sl_cli_apply_premap(const char *path, sl_cli_map *m);

/* Apply to every value of one input, written to sink in input order, as
 * the single-threaded loop does. premapped: NULL, or path mapped by
 * sl_cli_apply_premap (taken over: zeroed here, unmapped at the end).
 * false on a read error, a malformed value or a failed record. */
bool sl_cli_apply_par_input(sl_cli_apply_par *a, const char *path,
                            sl_cli_map *premapped, sl_cli_totals *t,
                            FILE *sink);

void sl_cli_apply_par_free(sl_cli_apply_par *a);

#endif

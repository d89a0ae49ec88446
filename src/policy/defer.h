/* src/policy/defer.h: held-back policy counts, for an evaluating thread
 * that shares a set's counters with other threads. Each match adds to a
 * policy's atomic counters (sl__stats), and two threads adding to the same
 * policy's counters per record make their cache line travel between cores
 * on every record (drop DEBUG at 2 threads: every fifth record). A context
 * told to hold its counts back adds them to plain per-policy sums instead
 * and publishes them to the shared atomics when asked: the same totals,
 * visible later. Leaves out when to publish (the caller's unit of work). */
#ifndef SL_POLICY_DEFER_H
#define SL_POLICY_DEFER_H

#include <sluice/policy.h>

/* From now on, c's evaluations count into c until published. Once per
 * context; SL_OK or SL_ENOMEM (then c keeps counting straight through). */
sl_status sl__policy_ctx_defer_counts(sl_policy_ctx *c);

/* Add what c held back to its set's shared counters and forget it. Call
 * before anyone reads the counts it must include (the atomics are
 * relaxed: the reader needs its own happens-before with this thread, e.g.
 * a join or a queue hand-over); sl_policy_ctx_free calls it too. No-op
 * when not deferring. */
void sl__policy_ctx_publish_counts(sl_policy_ctx *c);

#endif

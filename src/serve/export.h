/* src/serve/export.h: where kept data goes: a bounded in-memory queue
 * drained by one exporter thread into --output (OTLP JSON lines, the
 * format `sluice apply` writes; flushed whenever the queue empties and at
 * least every second; rotated by size) or --forward (OTLP/HTTP, retried
 * with backoff). Receivers ask sl__serve_export_admit() before taking a
 * request: a full queue makes them answer 503 (backpressure) instead of
 * accepting and dropping. */
#ifndef SL_SERVE_EXPORT_H
#define SL_SERVE_EXPORT_H

#include "serve/private.h"

/* Start the exporter thread; NULL (logged) when the output cannot be
 * opened or the URL is wrong. */
sl__serve_export *sl__serve_export_start(sl__serve *srv);

/* Whether the queue has room for another request. */
bool sl__serve_export_admit(const sl__serve_export *ex);

/* Queue one request's kept data (copied). records: how many records it
 * holds (forwarding skips requests with none; --output writes every
 * request's line, as apply does). The queue's bound is soft: admission is
 * checked before a request is processed, so it can be passed by at most
 * one request per worker. commit: NULL, or where to raise the on-disk
 * queue's generation to commit (sl__serve_export_commit) before the
 * request is acknowledged: a worker commits once for all the requests of
 * one event batch (group commit). @return SL_OK, SL_ENOMEM or SL_EIO. */
sl_status sl__serve_export_push(sl__serve_export *ex, sl_signal sig,
                                const char *data, size_t len, size_t records,
                                uint64_t *commit);

/* Make everything pushed up to generation commit durable (the on-disk
 * queue's fsync mode); SL_OK at once for the memory queue. SL_EIO: those
 * requests must not be acknowledged. */
sl_status sl__serve_export_commit(sl__serve_export *ex, uint64_t commit);

/* Tests only: fn(arg) runs on the exporter thread each time a read of the
 * on-disk queue finds it empty, before the thread looks at pushes and the
 * stop again: the window in which a push or a stop can land unseen. NULL
 * removes it. */
void sl__serve_export_on_empty(sl__serve_export *ex, void (*fn)(void *),
                               void *arg);

/* Drain the queue (bounded by the drain timeout), stop the thread, close
 * the output and free. What cannot be delivered in time is logged with
 * its count. NULL is a no-op. */
void sl__serve_export_stop(sl__serve_export *ex);

#endif

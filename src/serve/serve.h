/* src/serve/serve.h: the gateway's entry point for `sluice serve`: load
 * the policies, start the exporter, listeners and workers, print the
 * ready line, then reload on SIGHUP and drain on SIGTERM / SIGINT. */
#ifndef SL_SERVE_SERVE_H
#define SL_SERVE_SERVE_H

#include "serve/private.h"

/* Fill the defaults of every unset option. */
void sl__serve_opts_defaults(sl__serve_opts *o);

/* Run until SIGTERM / SIGINT. @return the process exit status: 0 after a
 * clean drain, 1 when it could not start (policies, output, listeners). */
int sl__serve_run(const sl__serve_opts *opts);

/* Rebuild the snapshot from the policy files and the provider's policies
 * (files first: on a duplicate id the file's policy wins and the
 * provider's copy is rejected as a problem), carrying counters and rate
 * windows over by id, and publish it. A failure keeps the previous
 * snapshot; either way it is logged and counted (reload_ok /
 * reload_failed). Call with srv->build_mu held. */
void sl__serve_rebuild_locked(sl__serve *srv);

#endif

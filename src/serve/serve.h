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

#endif

/* src/serve/admin.h: the admin listener's pages: /metrics (Prometheus
 * text exposition), /healthz, /readyz. */
#ifndef SL_SERVE_ADMIN_H
#define SL_SERVE_ADMIN_H

#include "serve/private.h"

/* Append the Prometheus text of every gateway and per-policy counter. */
sl_status sl__serve_admin_metrics(sl__serve *srv, sl_buf *out);

/* Append /readyz's JSON: whether the server takes requests and what this
 * build supports ({"ready":true,"protobuf":false,...}). */
sl_status sl__serve_admin_ready(sl__serve *srv, sl_buf *out);

#endif

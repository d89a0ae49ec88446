/* include/sluice/otlp.h: the OTLP data model (logs, metrics, traces) over the JSON document tree, and field access for policies.
 * The API lands with its issue; until then this header is empty. */
#ifndef SLUICE_OTLP_H
#define SLUICE_OTLP_H

#include <sluice/common.h>
#include <sluice/doc.h>
#include <sluice/match.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif

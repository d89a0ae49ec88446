/* include/sluice/filter.h: trace filters: TOML filter files, selector chains, scope resolution, value decisions, counters.
 * The API lands with its issue; until then this header is empty. */
#ifndef SLUICE_FILTER_H
#define SLUICE_FILTER_H

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

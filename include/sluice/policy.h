/* include/sluice/policy.h: telemetry policies: load, compile into an immutable snapshot, evaluate, transform, sample, rate-limit, count.
 * The API lands with its issue; until then this header is empty. */
#ifndef SLUICE_POLICY_H
#define SLUICE_POLICY_H

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

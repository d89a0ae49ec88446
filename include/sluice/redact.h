/* include/sluice/redact.h: payload redaction: rules, the default SAFE policy, mask / hash / drop, audit summaries.
 * The API lands with its issue; until then this header is empty. */
#ifndef SLUICE_REDACT_H
#define SLUICE_REDACT_H

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

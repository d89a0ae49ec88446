/* include/sluice/store.h: the run recorder: SQLite storage that only ever binds redacted payloads.
 * The API lands with its issue; until then this header is empty. */
#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H

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

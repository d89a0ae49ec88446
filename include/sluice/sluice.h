/* include/sluice/sluice.h: the whole public API of libsluice. Each module
 * has its own header; this one includes them all. */
#ifndef SLUICE_SLUICE_H
#define SLUICE_SLUICE_H

#include <sluice/common.h>
#include <sluice/doc.h>
#include <sluice/filter.h>
#include <sluice/match.h>
#include <sluice/otlp.h>
#include <sluice/policy.h>
#include <sluice/redact.h>
#include <sluice/store.h>
#include <sluice/version.h>

#endif

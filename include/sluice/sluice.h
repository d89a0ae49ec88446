/* include/sluice/sluice.h: the whole public API of libsluice. Each module
 * has its own header; this one includes them all. */
#ifndef SLUICE_SLUICE_H
#define SLUICE_SLUICE_H

#include <sluice/common.h>
#include <sluice/doc.h>
#include <sluice/match.h>
#include <sluice/version.h>

#endif

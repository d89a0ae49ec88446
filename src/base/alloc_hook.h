/* src/base/alloc_hook.h: read access to the allocator hook in force, for
 * bridges that hand sluice's allocator to a third-party library (SQLite)
 * and must free each block with the allocator that made it. */
#ifndef SL_BASE_ALLOC_HOOK_H
#define SL_BASE_ALLOC_HOOK_H

#include <sluice/common.h>

/* Copy the hook in force now (never NULL fields) into *out. */
void sl__alloc_hook(sl_allocator *out);

#endif

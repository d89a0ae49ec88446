/* src/store/sqlite_mem.h: SQLite's memory through sluice's allocator hook
 * (see sqlite_mem.c). */
#ifndef SL_STORE_SQLITE_MEM_H
#define SL_STORE_SQLITE_MEM_H

/* Once per process, before SQLite initialises: hand SQLite the bridge to
 * sluice's allocator hook, unless SQLite is already initialised (then
 * sqlite3_config() returns SQLITE_MISUSE and SQLite keeps its allocator;
 * not an error). Thread-safe; never fails. */
void sl__store_sqlite_mem_setup(void);

#endif

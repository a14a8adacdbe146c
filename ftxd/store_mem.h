/*
 * store_mem.h - a storage backend in memory, for tests: the same
 * contract as store_posix (store.h), with no disk, so the command and
 * transfer modules can be tested alone, and a capacity that makes
 * STORE_NOSPACE easy to reach.
 */
#ifndef FTXD_STORE_MEM_H
#define FTXD_STORE_MEM_H

#include "store.h"

/* A fresh, empty store holding at most `capacity` bytes of files and
 * partials together (0: no limit). */
int store_mem_open(struct store **stp, uint64_t capacity, struct store_err *e);

#endif /* FTXD_STORE_MEM_H */

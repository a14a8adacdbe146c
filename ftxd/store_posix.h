/*
 * store_posix.h - the storage backend for a directory tree.
 *
 * Layout under the root directory:
 *	PATH			stored files and directories (the shared
 *				namespace): NAME, DIR/NAME, ...
 *	.ftx/NAME		each top file's cached hashes (see
 *store_posix.c) DIR/.ftx/NAME		DIR/NAME's: beside the file, so a
 *renamed directory carries its files' hashes along .ftx/.partial/KEY	partial
 *uploads, every user's .users/USER/		a user's own area, laid out the
 *same SECURITY: every access is relative to a directory descriptor and never
 * follows a symbolic link (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS
 * where the kernel has it, O_NOFOLLOW otherwise).
 */
#ifndef FTXD_STORE_POSIX_H
#define FTXD_STORE_POSIX_H

#include "store.h"

/* Open (creating if needed) the root and its metadata directories.  It
 * reads the process's umask, which changes it for an instant: call it
 * before any thread that creates files starts. */
int store_posix_open(struct store **stp, const char *root, struct store_err *e);

/*
 * Servers before 0.2 kept a user's area at ROOT/USER, inside the shared
 * namespace.  Move it to ROOT/.users/USER, unless that exists already.
 * Only until store_posix_migrated is called: from then on a directory
 * ROOT/USER is the shared namespace's, never a user's area.
 */
int store_posix_migrate_user(
    const struct store *root, const char *user, struct store_err *e);
/* 1 if the move of user areas is done (recorded in .ftx), else 0. */
int store_posix_is_migrated(const struct store *root);
int store_posix_migrated(const struct store *root, struct store_err *e);

#endif /* FTXD_STORE_POSIX_H */

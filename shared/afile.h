/*
 * afile.h - write a small file atomically.
 *
 * A reader of NAME sees the old file or the new one, never a part of
 * either, and a crash at any moment leaves one of the two.  The bytes go
 * to a temporary in the same directory, created with
 * O_CREAT|O_EXCL|O_NOFOLLOW (a file or symlink planted under its name is
 * never written through: another random name is tried), fsync'ed, then
 * renamed over NAME, and the directory is fsync'ed so the new name
 * survives a crash too.  On any failure the temporary is removed, and
 * errno is the cause.
 *
 * The temporary is NAME with a dot in front (unless it has one already)
 * and ".tmp-" and 12 random hex digits after: ".users.tmp-0123456789ab".
 * Hidden, so a directory that is served or listed never shows it.
 *
 * Everything works on a directory descriptor and a name of one
 * component (no '/'), so a caller that holds its directory open (a
 * store, a download directory) keeps symlinks in the path out; for a
 * plain path, afile_parent() opens the directory, or afile_put_path()
 * does it all.
 *
 * In one call:
 *
 *	afile_put(dirfd, "name", data, len, 0600, 0, err, errlen);
 *
 * or, to write in pieces or set the owner first:
 *
 *	struct afile a;
 *	if (afile_open(&a, dirfd, "name", 0600, 0, err, errlen) == -1)
 *		return -1;
 *	if (fchown(a.fd, uid, gid) == -1 || afile_write(&a, ...) == -1) {
 *		afile_abort(&a);
 *		return -1;
 *	}
 *	return afile_commit(&a, err, errlen);
 *
 * After a successful afile_open exactly one of afile_commit (which
 * releases the handle whether it succeeds or not) and afile_abort
 * follows.
 */
#ifndef FTX_AFILE_H
#define FTX_AFILE_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* Never replace NAME: fail with errno EEXIST if it exists (a dangling
 * symlink included), even if it appears while we write.  Uses
 * renameat2(RENAME_NOREPLACE), or link(2) where the file system lacks
 * it. */
#define AFILE_NOREPLACE 0x1
/* The file gets exactly `mode` (fchmod), not `mode` less the umask. */
#define AFILE_EXACT_MODE 0x2
/* No fsync of the file or the directory: for a cache or a hint whose
 * loss in a crash costs a recomputation, not a wrong answer.  Readers
 * still never see a partial file. */
#define AFILE_NOSYNC 0x4

struct afile {
	int fd; /* the temporary, open for writing (fchown, fstat...) */
	int dirfd; /* not owned */
	int flags;
	char name[NAME_MAX + 1];
	char tmp[NAME_MAX + 1];
};

/* Create the temporary for NAME in dirfd, an open directory (not
 * AT_FDCWD: it is fsync'ed), with `mode` as open(2) takes it (the umask
 * applied unless AFILE_EXACT_MODE). */
int afile_open(struct afile *a, int dirfd, const char *name, mode_t mode,
    int flags, char *err, size_t errlen);
/* Append n bytes (short writes and EINTR are retried). */
int afile_write(
    struct afile *a, const void *p, size_t n, char *err, size_t errlen);
/* fsync, close, rename over NAME (or link it, AFILE_NOREPLACE), fsync
 * the directory.  If only that last fsync fails, NAME is already the
 * new file and -1 says it may not survive a crash. */
int afile_commit(struct afile *a, char *err, size_t errlen);
/* Close and remove the temporary; NAME is untouched. */
void afile_abort(struct afile *a);

/* afile_open, afile_write, afile_commit. */
int afile_put(int dirfd, const char *name, const void *p, size_t n, mode_t mode,
    int flags, char *err, size_t errlen);

/* Open the directory of `path` ("." if it has no '/') for afile_*, and
 * copy its last component to base[baselen]: the descriptor, or -1. */
int afile_parent(
    const char *path, char *base, size_t baselen, char *err, size_t errlen);
/* afile_parent and afile_put. */
int afile_put_path(const char *path, const void *p, size_t n, mode_t mode,
    int flags, char *err, size_t errlen);

#endif /* FTX_AFILE_H */

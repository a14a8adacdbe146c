/*
 * beneath.c - open a path beneath a directory, never following a
 * symbolic link.  See beneath.h.
 */
#include "beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#include "ftx_limits.h"
#include "path.h"
#include "str.h"

/* Whether openat2 works here: probed once, on first use. */
enum { O2_UNKNOWN, O2_YES, O2_NO };
static atomic_int o2_state = O2_UNKNOWN;
static atomic_int forced_walk;

/* Words for errno e; ELOOP is ours, not "too many levels". */
static const char *
reason(int e)
{
	if (e == ELOOP)
		return "a symbolic link is in the way";
	if (e == EINVAL)
		return "invalid path";
	return strerror(e);
}

/* Fill err with "<what>: <reason>" for the current errno, which is
 * kept; returns -1. */
static int
failed(char *err, size_t errlen, const char *what)
{
	int e = errno;

	(void)str_err(err, errlen, "%s: %s", what, reason(e));
	errno = e;
	return -1;
}

/* The same for the walk, which knows the component that failed. */
static int
failed_at(char *err, size_t errlen, size_t at, size_t depth)
{
	int e = errno;

	(void)str_err(
	    err, errlen, "path component %zu of %zu: %s", at, depth, reason(e));
	errno = e;
	return -1;
}

/* A path of the wrong shape: path_shape_check's reason, EINVAL. */
static int
bad_shape(const char *path, char *err, size_t errlen)
{
	if (path_shape_check(path, err, errlen) == 0)
		return 0;
	errno = EINVAL;
	return -1;
}

/* Close fd unless it is the caller's dirfd, keeping errno. */
static void
drop(int fd, int dirfd)
{
	int saved = errno;

	if (fd != -1 && fd != dirfd)
		(void)close(fd);
	errno = saved;
}

void
beneath_force_walk(int on)
{
	atomic_store(&forced_walk, on != 0);
}

#ifdef SYS_openat2
static long
o2_call(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(unsigned int)(flags | O_CLOEXEC);
	/* openat2 refuses a mode it would not use. */
	if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE)
		how.mode = mode;
	/* SECURITY: the kernel keeps the walk beneath dirfd and refuses a
	 * symbolic link at any component, the last one included. */
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
	return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}
#endif

/*
 * 1 if openat2 is to be used.  ENOSYS: a kernel before 5.6.  EPERM: a
 * seccomp filter (an older systemd's @system-service) that does not know
 * the call.  Probed with a harmless call, so that an EPERM a real open
 * returns later is taken as the file's answer, not the filter's.
 */
static int
have_openat2(void)
{
#ifdef SYS_openat2
	int st = atomic_load(&o2_state), saved = errno;
	long fd;

	if (st == O2_UNKNOWN) {
		fd = o2_call(AT_FDCWD, ".", O_PATH | O_DIRECTORY, 0);
		if (fd >= 0)
			(void)close((int)fd);
		st = fd < 0 && (errno == ENOSYS || errno == EPERM) ? O2_NO
								   : O2_YES;
		atomic_store(&o2_state, st);
		errno = saved;
	}
	return st == O2_YES && !atomic_load(&forced_walk);
#else
	return 0;
#endif
}

int
beneath_uses_openat2(void)
{
	return have_openat2();
}

/*
 * openat2 on path, or -1 with errno.  ENOSYS from a real call (a filter
 * the probe did not meet) switches to the walk for good: *walk is set.
 */
static int
try_openat2(int dirfd, const char *path, int flags, mode_t mode, int *walk)
{
#ifdef SYS_openat2
	long fd = o2_call(dirfd, path, flags, mode);

	if (fd == -1 && errno == ENOSYS) {
		atomic_store(&o2_state, O2_NO);
		*walk = 1;
	}
	return (int)fd;
#else
	*walk = 1;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * SECURITY: one directory step of the walk.  O_PATH | O_NOFOLLOW opens
 * a link itself instead of its target, and fstat then tells a link
 * (ELOOP) and anything else that is no directory (ENOTDIR) from a
 * directory: the object classified is the one opened, so nothing can
 * be swapped in between.  With `create`, a missing directory is made
 * first; mkdirat never follows a link either.
 */
static int
walk_dir(int dirfd, const char *comp, int create, mode_t dmode)
{
	struct stat sb;
	int fd;

	fd = openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && create) {
		if (mkdirat(dirfd, comp, dmode) == -1 && errno != EEXIST)
			return -1;
		fd = openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd == -1)
		return -1;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (S_ISLNK(sb.st_mode)) {
		errno = ELOOP;
		goto fail;
	}
	if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		goto fail;
	}
	return fd;
fail:
	drop(fd, -1);
	return -1;
}

/*
 * Walk every component of `path` but the last from dirfd.  The
 * directory reached goes to *fdp (dirfd itself for a one-component
 * path; O_PATH otherwise).  On failure errno is set and *at is the
 * 1-based position of the component that failed.
 */
static int
walk_parent(
    int dirfd, const char *path, int create, mode_t dmode, int *fdp, size_t *at)
{
	char comp[FTX_NAME_MAX + 1];
	const char *cur = path;
	size_t k, depth = path_depth(path);
	int fd = dirfd, next;

	for (k = 1; k < depth; k++) {
		if (path_next(&cur, comp, sizeof(comp)) != 1) {
			errno = EINVAL;
			goto fail;
		}
		if ((next = walk_dir(fd, comp, create, dmode)) == -1)
			goto fail;
		drop(fd, dirfd);
		fd = next;
	}
	*fdp = fd;
	return 0;
fail:
	drop(fd, dirfd);
	*at = k;
	return -1;
}

/*
 * SECURITY: the last component of the walk: O_NOFOLLOW refuses a link
 * (ELOOP), except where open(2) answers otherwise for one: ENOTDIR with
 * O_DIRECTORY, and O_PATH, which opens the link itself.  Both are
 * turned into the refusal they are.
 */
static int
walk_leaf(int pfd, const char *leaf, int flags, mode_t mode)
{
	struct stat sb;
	int fd;

	fd = openat(pfd, leaf, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd == -1) {
		if (errno == ENOTDIR &&
		    fstatat(pfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(sb.st_mode))
			errno = ELOOP;
		return -1;
	}
	if ((flags & O_PATH) != 0) {
		if (fstat(fd, &sb) == -1)
			goto fail;
		if (S_ISLNK(sb.st_mode)) {
			errno = ELOOP;
			goto fail;
		}
	}
	return fd;
fail:
	drop(fd, -1);
	return -1;
}

int
beneath_open(int dirfd, const char *path, int flags, mode_t mode, char *err,
    size_t errlen)
{
	size_t at = 0, depth;
	int fd, pfd, walk = 0;

	if (bad_shape(path, err, errlen) == -1)
		return -1;
	/* Links are refused by RESOLVE_NO_SYMLINKS or by the walk, with
	 * ELOOP either way; a caller's O_NOFOLLOW would turn some of
	 * those refusals into ENOTDIR. */
	flags &= ~O_NOFOLLOW;
	depth = path_depth(path);
	if (have_openat2()) {
		fd = try_openat2(dirfd, path, flags, mode, &walk);
		if (!walk) {
			if (fd == -1)
				return failed(
				    err, errlen, "cannot open the path");
			return fd;
		}
	}
	if (walk_parent(dirfd, path, 0, 0, &pfd, &at) == -1)
		goto fail;
	at = depth;
	fd = walk_leaf(pfd, path_base(path), flags, mode);
	drop(pfd, dirfd);
	if (fd == -1)
		goto fail;
	return fd;
fail:
	return failed_at(err, errlen, at, depth);
}

/* The parent directory of path through openat2, O_RDONLY; -1 with errno
 * (*walk set if the walk must do it instead). */
static int
parent_openat2(int dirfd, const char *path, int *walk)
{
	char parent[FTX_RPATH_MAX + 1];

	if (path_parent(parent, sizeof(parent), path) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (parent[0] == '\0')
		return openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return try_openat2(dirfd, parent, O_RDONLY | O_DIRECTORY, 0, walk);
}

int
beneath_opendir_parent(int dirfd, const char *path, int create, mode_t dmode,
    const char **leaf, char *err, size_t errlen)
{
	size_t at = 0, depth;
	int fd, pfd, walk = 0;

	*leaf = NULL;
	if (bad_shape(path, err, errlen) == -1)
		return -1;
	depth = path_depth(path);
	if (have_openat2()) {
		fd = parent_openat2(dirfd, path, &walk);
		if (fd >= 0) {
			*leaf = path_base(path);
			return fd;
		}
		/* Directories to make: the walk makes them one by one. */
		if (!walk && !(create && errno == ENOENT))
			return failed(
			    err, errlen, "cannot open the path's directory");
	}
	if (walk_parent(dirfd, path, create, dmode, &pfd, &at) == -1)
		return failed_at(err, errlen, at, depth);
	/* A real descriptor, not O_PATH: fsync and fdopendir need one. */
	fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	drop(pfd, dirfd);
	if (fd == -1)
		return failed(err, errlen, "cannot open the path's directory");
	*leaf = path_base(path);
	return fd;
}

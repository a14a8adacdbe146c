/*
 * afile.c - write a small file atomically.  See afile.h.
 */
#include "afile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "str.h"

/* Random bytes in a temporary's name (12 hex digits). */
#define AFILE_RND_BYTES 6
/* Names tried before giving up: each is taken only if planted. */
#define AFILE_TRIES 8
/* ".tmp-" and the hex digits after the name. */
#define AFILE_SUFFIX_LEN (5 + 2 * AFILE_RND_BYTES)

/* The temporary's name for `name`: hidden, and cut short so that the
 * suffix always fits NAME_MAX (the random part keeps it unique). */
static int
tmp_name(char *out, size_t outlen, const char *name)
{
	unsigned char rnd[AFILE_RND_BYTES];
	char hex[2 * AFILE_RND_BYTES + 1];
	const char *dot = name[0] == '.' ? "" : ".";
	int keep = NAME_MAX - AFILE_SUFFIX_LEN - 1;
	ssize_t got = getrandom(rnd, sizeof(rnd), 0);

	if (got != (ssize_t)sizeof(rnd)) {
		if (got >= 0)
			errno =
			    EIO; /* a short read: not expected for 6 bytes */
		return -1;
	}
	str_hex(hex, rnd, sizeof(rnd));
	if (str_fmt(out, outlen, "%s%.*s.tmp-%s", dot, keep, name, hex) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Fail with errno kept, after the cleanup that may change it. */
static int
fail_errno(int e)
{
	errno = e;
	return -1;
}

int
afile_open(struct afile *a, int dirfd, const char *name, mode_t mode, int flags,
    char *err, size_t errlen)
{
	int i, e;

	a->fd = -1;
	a->dirfd = dirfd;
	a->flags = flags;
	a->tmp[0] = '\0';
	if (name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		str_err(err, errlen, "not a file name: \"%s\"", name);
		return fail_errno(EINVAL);
	}
	if (str_copy(a->name, sizeof(a->name), name) == -1) {
		str_err(err, errlen, "file name too long: %s", name);
		return fail_errno(ENAMETOOLONG);
	}
	for (i = 0; i < AFILE_TRIES; i++) {
		if (tmp_name(a->tmp, sizeof(a->tmp), name) == -1)
			break;
		/* SECURITY: O_EXCL|O_NOFOLLOW: a file, hard link or
		 * symlink planted under the temporary's name is never
		 * opened, let alone truncated or written through. */
		a->fd = openat(dirfd, a->tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
			O_NOCTTY,
		    mode);
		if (a->fd != -1 || errno != EEXIST)
			break;
	}
	if (a->fd == -1) {
		e = errno;
		a->tmp[0] = '\0';
		str_err(err, errlen, "cannot create a temporary for %s: %s",
		    name, strerror(e));
		return fail_errno(e);
	}
	/* The umask may only narrow a mode; EXACT makes it what was asked
	 * (for a file whose readers depend on it, like a group-readable
	 * users file). */
	if ((flags & AFILE_EXACT_MODE) != 0 && fchmod(a->fd, mode) == -1) {
		e = errno;
		afile_abort(a);
		str_err(err, errlen, "cannot set the mode of %s: %s", name,
		    strerror(e));
		return fail_errno(e);
	}
	return 0;
}

int
afile_write(struct afile *a, const void *p, size_t n, char *err, size_t errlen)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(a->fd, c, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return str_err(err, errlen, "cannot write %s: %s",
			    a->name, strerror(errno));
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Give the temporary its name: rename over it, or, with
 * AFILE_NOREPLACE, only if nothing has it.  0 or -1 with errno. */
static int
install(struct afile *a)
{
	if ((a->flags & AFILE_NOREPLACE) == 0)
		return renameat(a->dirfd, a->tmp, a->dirfd, a->name);
	if (renameat2(a->dirfd, a->tmp, a->dirfd, a->name, RENAME_NOREPLACE) ==
	    0)
		return 0;
	/* File systems without renameat2 flags get link(2), which never
	 * replaces either; the temporary then goes in afile_commit. */
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (linkat(a->dirfd, a->tmp, a->dirfd, a->name, 0) == -1)
		return -1;
	(void)unlinkat(a->dirfd, a->tmp, 0);
	return 0;
}

int
afile_commit(struct afile *a, char *err, size_t errlen)
{
	int sync = (a->flags & AFILE_NOSYNC) == 0, e, fd = a->fd;

	a->fd = -1;
	/* Durable before visible: a crash after the rename must not leave
	 * an empty or partial file under the name. */
	if (sync && fsync(fd) == -1) {
		e = errno;
		(void)close(fd);
		goto fail;
	}
	if (close(fd) == -1) {
		e = errno;
		goto fail;
	}
	if (install(a) == -1) {
		e = errno;
		if (e == EEXIST && (a->flags & AFILE_NOREPLACE) != 0) {
			(void)unlinkat(a->dirfd, a->tmp, 0);
			str_err(err, errlen, "%s already exists", a->name);
			return fail_errno(e);
		}
		goto fail;
	}
	/* The rename is durable only once the directory is on disk.  Some
	 * file systems cannot fsync a directory (EINVAL): nothing to do. */
	if (sync && fsync(a->dirfd) == -1 && errno != EINVAL) {
		e = errno;
		str_err(err, errlen,
		    "%s written, but its directory cannot be synced: %s",
		    a->name, strerror(e));
		return fail_errno(e);
	}
	return 0;
fail:
	(void)unlinkat(a->dirfd, a->tmp, 0);
	str_err(err, errlen, "cannot write %s: %s", a->name, strerror(e));
	return fail_errno(e);
}

void
afile_abort(struct afile *a)
{
	int e = errno;

	if (a->fd != -1)
		(void)close(a->fd);
	a->fd = -1;
	if (a->tmp[0] != '\0')
		(void)unlinkat(a->dirfd, a->tmp, 0);
	a->tmp[0] = '\0';
	errno = e;
}

int
afile_put(int dirfd, const char *name, const void *p, size_t n, mode_t mode,
    int flags, char *err, size_t errlen)
{
	struct afile a;

	if (afile_open(&a, dirfd, name, mode, flags, err, errlen) == -1)
		return -1;
	if (afile_write(&a, p, n, err, errlen) == -1) {
		afile_abort(&a);
		return -1;
	}
	return afile_commit(&a, err, errlen);
}

int
afile_parent(
    const char *path, char *base, size_t baselen, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, e;

	if (slash == NULL)
		(void)str_copy(dir, sizeof(dir), ".");
	else if (slash == path)
		(void)str_copy(dir, sizeof(dir), "/");
	else if (str_fmt(dir, sizeof(dir), "%.*s", (int)(slash - path), path) ==
	    -1) {
		str_err(err, errlen, "path too long: %s", path);
		return fail_errno(ENAMETOOLONG);
	}
	if (str_copy(base, baselen, slash != NULL ? slash + 1 : path) == -1 ||
	    base[0] == '\0') {
		str_err(err, errlen, "not a file name: %s", path);
		return fail_errno(base[0] == '\0' ? EISDIR : ENAMETOOLONG);
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		str_err(err, errlen, "%s: %s", dir, strerror(e));
		return fail_errno(e);
	}
	return fd;
}

int
afile_put_path(const char *path, const void *p, size_t n, mode_t mode,
    int flags, char *err, size_t errlen)
{
	char base[NAME_MAX + 1];
	int dfd, rc, e;

	if ((dfd = afile_parent(path, base, sizeof(base), err, errlen)) == -1)
		return -1;
	rc = afile_put(dfd, base, p, n, mode, flags, err, errlen);
	e = errno;
	(void)close(dfd);
	errno = e;
	return rc;
}

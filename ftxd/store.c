/*
 * store.c - the storage root.  See store.h.
 */
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#include "hash.h"
#include "proto.h"
#include "store.h"
#include "str.h"
#include "token.h"

#define TMP_PREFIX ".ftxtmp-"
#define META_DIR ".ftx"
#define META_TMP_PREFIX ".t-"
/* Under META_DIR; a dot name, so no sidecar of a stored file collides. */
#define PART_DIR ".partial"
#define META_MAX 256

/*
 * SECURITY: open `name` directly beneath `dirfd` without following any
 * symbolic link.  Names never contain '/', so O_NOFOLLOW alone already
 * confines us; openat2 makes the kernel enforce it as well.
 */
static int
open_beneath(int dirfd, const char *name, int flags, mode_t mode)
{
#ifdef SYS_openat2
	static atomic_int no_openat2;
	struct open_how how;
	long fd;

	if (!no_openat2) {
		memset(&how, 0, sizeof(how));
		how.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC);
		how.mode = (flags & O_CREAT) ? mode : 0;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
		fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
		/* ENOSYS: an old kernel.  EPERM: a seccomp filter (an older
		 * systemd's @system-service) that does not know openat2.
		 * Names are flat (no '/'), so openat with O_NOFOLLOW stays
		 * beneath the root as well. */
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return (int)fd;
		no_openat2 = 1;
	}
#endif
	return openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

/*
 * A directory stream of its own for `dirfd`.  Not dup(): a duplicate
 * shares the directory offset, so two workers listing at once would
 * interleave their readdir calls and each see part of the directory.
 */
static DIR *
open_dir(int dirfd)
{
	DIR *d;
	int fd;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

static void
remove_prefixed(int dirfd, const char *prefix)
{
	struct dirent *de;
	DIR *d;

	if ((d = open_dir(dirfd)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			(void)unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

/* Create (if missing) and open the directory `name` under `dirfd`,
 * without following a symbolic link; the descriptor, or -1. */
static int
subdir(int dirfd, const char *name, mode_t mode)
{
	if (mkdirat(dirfd, name, mode) == -1 && errno != EEXIST)
		return -1;
	return openat(
	    dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* The mode of committed files: what open(2) would give 0666 under the
 * umask we run with (systemd's UMask=, the shell's, 027 for --daemon).
 * umask(2) can only be read by setting it, hence "once, at start-up". */
static mode_t
file_mode(void)
{
	mode_t um = umask(0);

	(void)umask(um);
	return 0666 & ~um;
}

int
store_open(struct store *st, const char *root, char *err, size_t errlen)
{
	st->rootfd = st->metafd = st->partfd = -1;
	st->fmode = file_mode();
	if (mkdir(root, 0755) == -1 && errno != EEXIST)
		return str_err(err, errlen, "cannot create root %s: %s", root,
		    strerror(errno));
	st->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->rootfd == -1)
		return str_err(err, errlen, "cannot open root %s: %s", root,
		    strerror(errno));
	if ((st->metafd = subdir(st->rootfd, META_DIR, 0755)) == -1 ||
	    (st->partfd = subdir(st->metafd, PART_DIR, 0700)) == -1)
		goto fail;
	/* Temporaries left by a crashed server are never committable. */
	remove_prefixed(st->rootfd, TMP_PREFIX);
	remove_prefixed(st->metafd, META_TMP_PREFIX);
	return 0;
fail:
	str_err(err, errlen, "cannot use %s/%s: %s", root, META_DIR,
	    strerror(errno));
	store_close(st);
	return -1;
}

int
store_open_sub(const struct store *parent, const char *name, struct store *st,
    char *err, size_t errlen)
{
	st->rootfd = st->metafd = st->partfd = -1;
	st->fmode = parent->fmode;
	/* SECURITY: `name` passed users_name_check (no '/', no dots), and
	 * the directory is opened beneath the parent without following a
	 * symbolic link, so a link planted as ROOT/<user> leads nowhere. */
	if (mkdirat(parent->rootfd, name, 0700) == -1 && errno != EEXIST)
		return str_err(
		    err, errlen, "cannot create %s: %s", name, strerror(errno));
	st->rootfd =
	    open_beneath(parent->rootfd, name, O_RDONLY | O_DIRECTORY, 0);
	if (st->rootfd == -1)
		return str_err(
		    err, errlen, "cannot open %s: %s", name, strerror(errno));
	if ((st->metafd = subdir(st->rootfd, META_DIR, 0755)) == -1)
		goto fail;
	/* One partial-upload directory for every user: the expiry sweep
	 * covers users who never come back, and keys already name the
	 * uploader. */
	st->partfd = fcntl(parent->partfd, F_DUPFD_CLOEXEC, 0);
	if (st->partfd == -1)
		goto fail;
	return 0;
fail:
	str_err(err, errlen, "cannot use %s/%s: %s", name, META_DIR,
	    strerror(errno));
	store_close(st);
	return -1;
}

int
store_usage(const struct store *st, const char *except, uint64_t *bytes,
    char *err, size_t errlen)
{
	struct dirent *e;
	struct stat sb;
	DIR *d;

	*bytes = 0;
	if ((d = open_dir(st->rootfd)) == NULL)
		return str_err(err, errlen, "opendir: %s", strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' ||
		    (except != NULL && strcmp(e->d_name, except) == 0))
			continue;
		if (fstatat(st->rootfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
			0 &&
		    S_ISREG(sb.st_mode))
			*bytes += (uint64_t)sb.st_size;
	}
	closedir(d);
	return 0;
}

int
store_free_bytes(
    const struct store *st, uint64_t *bytes, char *err, size_t errlen)
{
	struct statvfs vfs;

	if (fstatvfs(st->rootfd, &vfs) == -1)
		return str_err(err, errlen, "statvfs: %s", strerror(errno));
	*bytes = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
	return 0;
}

void
store_close(struct store *st)
{
	if (st->rootfd != -1)
		close(st->rootfd);
	if (st->metafd != -1)
		close(st->metafd);
	if (st->partfd != -1)
		close(st->partfd);
	st->rootfd = st->metafd = st->partfd = -1;
}

int
store_open_read(const struct store *st, const char *name, int *fdp,
    struct stat *sb, char *err, size_t errlen)
{
	int fd, saved;

	/* SECURITY: O_NONBLOCK so that a FIFO or device placed in the root
	 * cannot block a worker in open(); only regular files are served. */
	fd = open_beneath(st->rootfd, name, O_RDONLY | O_NONBLOCK, 0);
	if (fd == -1) {
		saved = errno;
		/* A symlink (ELOOP) or anything beneath is "not there". */
		if (saved == ELOOP || saved == EXDEV || saved == ENOTDIR)
			saved = ENOENT;
		str_err(err, errlen, "%s",
		    saved == ENOENT ? "no such file" : strerror(saved));
		errno = saved;
		return -1;
	}
	if (fstat(fd, sb) == -1) {
		saved = errno;
		close(fd);
		str_err(err, errlen, "fstat: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	if (!S_ISREG(sb->st_mode)) {
		close(fd);
		errno = ENOENT;
		return str_err(err, errlen, "no such file");
	}
	if (fcntl(fd, F_SETFL, 0) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return str_err(err, errlen, "fcntl: %s", strerror(saved));
	}
	*fdp = fd;
	return 0;
}

/*
 * A sidecar is one line: "v1 <sha256><version>" or, once the MD5 is
 * known too, "v2 <sha256> <md5><version>", where <version> is what
 * meta_version formats.  v1 entries written by older servers stay valid:
 * they just lack the MD5.
 */
#define MD5_HEXLEN (2 * HASH_MD5_LEN)

/* The sidecar line's tail: what identifies the version. */
static int
meta_version(char *out, size_t n, const struct stat *sb)
{
	return str_fmt(out, n, " %" PRIu64 " %lld %ld %" PRIu64 "\n",
	    (uint64_t)sb->st_size, (long long)sb->st_mtim.tv_sec,
	    (long)sb->st_mtim.tv_nsec, (uint64_t)sb->st_ino);
}

/*
 * The cached hashes, if they were computed for exactly this file version.
 * Rather than parse numbers out of a file on disk, we format what the
 * line must say for this version and compare: anything else (a stale,
 * damaged or hostile sidecar) just means hashing again.  *has_md5 says
 * whether `md5` was filled (a v2 entry).
 */
static int
meta_read(const struct store *st, const char *name, const struct stat *sb,
    unsigned char *sha, unsigned char *md5, int *has_md5)
{
	char buf[META_MAX], want[META_MAX];
	size_t tail = 3 + HASH_SHA256_HEXLEN;
	ssize_t n;
	int fd, v2;

	*has_md5 = 0;
	if ((fd = open_beneath(st->metafd, name, O_RDONLY | O_NONBLOCK, 0)) ==
	    -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	v2 = strncmp(buf, "v2 ", 3) == 0;
	if (v2)
		tail += 1 + MD5_HEXLEN;
	if ((size_t)n < tail || (!v2 && strncmp(buf, "v1 ", 3) != 0) ||
	    (v2 && buf[3 + HASH_SHA256_HEXLEN] != ' ') ||
	    meta_version(want, sizeof(want), sb) == -1 ||
	    strcmp(buf + tail, want) != 0)
		return -1;
	if (v2 &&
	    str_unhex(md5, HASH_MD5_LEN, buf + 4 + HASH_SHA256_HEXLEN) == -1)
		return -1;
	if (str_unhex(sha, HASH_SHA256_LEN, buf + 3) == -1)
		return -1;
	*has_md5 = v2;
	return 0;
}

/* Record the hashes (md5 may be NULL); a failure only costs a re-hash
 * later. */
static void
meta_write(const struct store *st, const char *name, const struct stat *sb,
    const unsigned char *sha, const unsigned char *md5)
{
	char buf[META_MAX], hex[HASH_SHA256_HEXLEN + 1], tmp[STORE_TMPNAME_MAX];
	char mhex[MD5_HEXLEN + 1];
	struct token t;
	size_t len;
	int fd;

	if (token_new(&t, NULL, 0) == -1)
		return;
	str_hex(hex, t.b, 8);
	if (str_fmt(tmp, sizeof(tmp), "%s%s", META_TMP_PREFIX, hex) == -1)
		return;
	str_hex(hex, sha, HASH_SHA256_LEN);
	if (md5 != NULL)
		str_hex(mhex, md5, HASH_MD5_LEN);
	if ((md5 != NULL ? str_fmt(buf, sizeof(buf), "v2 %s %s", hex, mhex)
			 : str_fmt(buf, sizeof(buf), "v1 %s", hex)) == -1 ||
	    meta_version(buf + strlen(buf), sizeof(buf) - strlen(buf), sb) ==
		-1)
		return;
	fd = open_beneath(st->metafd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd == -1)
		return;
	len = strlen(buf);
	if (write(fd, buf, len) != (ssize_t)len) {
		close(fd);
		(void)unlinkat(st->metafd, tmp, 0);
		return;
	}
	close(fd);
	if (renameat(st->metafd, tmp, st->metafd, name) == -1)
		(void)unlinkat(st->metafd, tmp, 0);
}

int
store_cached(const struct store *st, const char *name, const struct stat *sb,
    unsigned char *sha, unsigned char *md5, int *has_md5)
{
	return meta_read(st, name, sb, sha, md5, has_md5);
}

int
store_sha256(const struct store *st, const char *name, int fd,
    const struct stat *sb, unsigned char *sha, char *err, size_t errlen)
{
	unsigned char md5[HASH_MD5_LEN];
	uint64_t n;
	int has_md5;

	if (meta_read(st, name, sb, sha, md5, &has_md5) == 0)
		return 0;
	/* A file copied into the root by hand: hash it on first need. */
	if (hash_fd(fd, HASH_SHA256, sha, &n, err, errlen) == -1)
		return -1;
	if (n != (uint64_t)sb->st_size)
		return str_err(err, errlen, "file changed while hashing");
	meta_write(st, name, sb, sha, NULL);
	return 0;
}

int
store_md5(const struct store *st, const char *name, int fd,
    const struct stat *sb, unsigned char *sha, unsigned char *md5, char *err,
    size_t errlen)
{
	uint64_t n;
	int has_md5, cached;

	cached = meta_read(st, name, sb, sha, md5, &has_md5) == 0;
	if (cached && has_md5)
		return 0;
	/* The SHA-256 of an upload is always cached: then only the MD5
	 * reads the file.  A file put in by hand pays for both. */
	if (!cached && store_sha256(st, name, fd, sb, sha, err, errlen) == -1)
		return -1;
	/* Computed once per file version, then cached beside the SHA-256:
	 * uploads do not compute it (it would cost them about a third of
	 * their throughput), so the first HASH ... md5 pays for it. */
	if (hash_fd(fd, HASH_MD5, md5, &n, err, errlen) == -1)
		return -1;
	if (n != (uint64_t)sb->st_size)
		return str_err(err, errlen, "file changed while hashing");
	meta_write(st, name, sb, sha, md5);
	return 0;
}

int
store_tmp_create(
    const struct store *st, char *tmpname, int *fdp, char *err, size_t errlen)
{
	char hex[17];
	struct token t;
	int fd;

	if (token_new(&t, err, errlen) == -1)
		return -1;
	str_hex(hex, t.b, 8);
	if (str_fmt(tmpname, STORE_TMPNAME_MAX, "%s%s", TMP_PREFIX, hex) == -1)
		return str_err(err, errlen, "temporary name too long");
	fd = open_beneath(
	    st->rootfd, tmpname, O_WRONLY | O_CREAT | O_EXCL, st->fmode);
	if (fd == -1)
		return str_err(err, errlen, "cannot create temporary: %s",
		    strerror(errno));
	*fdp = fd;
	return 0;
}

int
store_commit(const struct store *st, const char *tmpname, const char *name,
    int fd, const unsigned char *sha, char *err, size_t errlen)
{
	struct stat sb;

	/* Durable before visible: a crash after the rename must not expose
	 * a file whose bytes never reached the disk. */
	if (fsync(fd) == -1)
		return str_err(err, errlen, "fsync: %s", strerror(errno));
	if (fstat(fd, &sb) == -1)
		return str_err(err, errlen, "fstat: %s", strerror(errno));
	if (renameat(st->rootfd, tmpname, st->rootfd, name) == -1) {
		int saved = errno;

		str_err(err, errlen, "rename: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	(void)fsync(st->rootfd);
	meta_write(st, name, &sb, sha, NULL);
	return 0;
}

void
store_discard(const struct store *st, const char *tmpname)
{
	(void)unlinkat(st->rootfd, tmpname, 0);
}

void
store_partial_key(char *key, const char *owner, const char *name, uint64_t size)
{
	unsigned char d[HASH_SHA256_LEN], own[HASH_SHA256_LEN];
	struct hash_ctx *h;
	char num[32];

	/* SECURITY: the owner is part of the key, so one client can neither
	 * read the size of nor continue another client's upload. */
	(void)str_fmt(num, sizeof(num), "%" PRIu64, size);
	h = hash_new(HASH_SHA256, NULL, 0);
	if (h == NULL || hash_update(h, "ftx-partial-v1", 15) == -1 ||
	    hash_update(h, owner, strlen(owner) + 1) == -1 ||
	    hash_update(h, name, strlen(name) + 1) == -1 ||
	    hash_update(h, num, strlen(num)) == -1 || hash_final(h, d) == -1)
		abort(); /* OpenSSL cannot hash: nothing works anyway */
	hash_free(h);
	h = hash_new(HASH_SHA256, NULL, 0);
	if (h == NULL || hash_update(h, "ftx-partial-owner-v1", 21) == -1 ||
	    hash_update(h, owner, strlen(owner) + 1) == -1 ||
	    hash_final(h, own) == -1)
		abort();
	hash_free(h);
	str_hex(key, own, STORE_POWNER_HEX / 2);
	key[STORE_POWNER_HEX] = '-';
	str_hex(key + STORE_POWNER_HEX + 1, d, 16);
}

/* Whether `name` is a partial of the uploader that `key` names. */
static int
same_owner(const char *name, const char *key)
{
	return strlen(name) == STORE_PKEY_LEN - 1 &&
	    strncmp(name, key, STORE_POWNER_HEX + 1) == 0 &&
	    strcmp(name, key) != 0;
}

int
store_partial_usage(const struct store *st, const char *key, uint64_t *bytes,
    size_t *count, char *err, size_t errlen)
{
	struct dirent *de;
	struct stat sb;
	DIR *d;

	*bytes = 0;
	*count = 0;
	if ((d = open_dir(st->partfd)) == NULL)
		return str_err(err, errlen, "opendir: %s", strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!same_owner(de->d_name, key))
			continue;
		if (fstatat(st->partfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
			0 &&
		    S_ISREG(sb.st_mode)) {
			*bytes += (uint64_t)sb.st_size;
			(*count)++;
		}
	}
	closedir(d);
	return 0;
}

/* The oldest unlocked partial of key's uploader: unlinked, 1; none, 0. */
static int
trim_oldest(const struct store *st, const char *key)
{
	char oldest[STORE_PKEY_LEN] = "";
	struct timespec when = {0, 0};
	struct dirent *de;
	struct stat sb;
	int fd, rc = 0;
	DIR *d;

	if ((d = open_dir(st->partfd)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!same_owner(de->d_name, key) ||
		    fstatat(st->partfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
			-1 ||
		    !S_ISREG(sb.st_mode))
			continue;
		if (oldest[0] == '\0' || sb.st_mtim.tv_sec < when.tv_sec ||
		    (sb.st_mtim.tv_sec == when.tv_sec &&
			sb.st_mtim.tv_nsec < when.tv_nsec)) {
			when = sb.st_mtim;
			(void)str_copy(oldest, sizeof(oldest), de->d_name);
		}
	}
	closedir(d);
	if (oldest[0] == '\0')
		return 0;
	fd = open_beneath(st->partfd, oldest, O_RDONLY | O_NONBLOCK, 0);
	if (fd == -1)
		return 0;
	/* A partial being written is locked: its transfer keeps it. */
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	    unlinkat(st->partfd, oldest, 0) == 0)
		rc = 1;
	close(fd);
	return rc;
}

int
store_partial_trim(
    const struct store *st, const char *key, size_t keep, uint64_t keep_bytes)
{
	char err[FTX_ERRLEN];
	uint64_t bytes;
	size_t count;
	int n = 0;

	/* SECURITY: an uploader cannot fill the disk with broken-off
	 * uploads: beyond `keep`, the oldest goes.  Bounded: each round
	 * removes one, and a round that removes none (all locked) stops. */
	while (store_partial_usage(st, key, &bytes, &count, err, sizeof(err)) ==
		0 &&
	    (count > keep || bytes > keep_bytes) && trim_oldest(st, key) == 1)
		n++;
	return n;
}

int
store_partial_size(const struct store *st, const char *key, uint64_t *size,
    char *err, size_t errlen)
{
	struct stat sb;

	*size = 0;
	if (fstatat(st->partfd, key, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		return str_err(err, errlen, "stat: %s", strerror(errno));
	}
	if (S_ISREG(sb.st_mode))
		*size = (uint64_t)sb.st_size;
	return 0;
}

int
store_partial_open(const struct store *st, const char *key, uint64_t offset,
    int *fdp, char *err, size_t errlen)
{
	struct stat sb;
	int fd, saved;

	fd = open_beneath(st->partfd, key, O_RDWR | O_CREAT, 0600);
	if (fd == -1)
		return str_err(err, errlen, "cannot open partial upload: %s",
		    strerror(errno));
	/* SECURITY: one writer per partial, or two sessions of the same
	 * uploader would interleave their bytes. */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		saved = errno == EWOULDBLOCK ? EBUSY : errno;
		str_err(err, errlen, "%s",
		    saved == EBUSY ? "an upload of this file is in progress"
				   : strerror(saved));
		goto fail;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		saved = errno != 0 ? errno : EINVAL;
		str_err(err, errlen, "partial upload is not a file");
		goto fail;
	}
	if (offset > (uint64_t)sb.st_size) {
		saved = ERANGE;
		str_err(err, errlen,
		    "offset %" PRIu64 " beyond the %lld bytes kept", offset,
		    (long long)sb.st_size);
		goto fail;
	}
	if (ftruncate(fd, (off_t)offset) == -1) {
		saved = errno;
		str_err(err, errlen, "ftruncate: %s", strerror(saved));
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	errno = saved;
	return -1;
}

int
store_partial_commit(const struct store *st, const char *key, const char *name,
    int fd, const unsigned char *sha, char *err, size_t errlen)
{
	struct stat sb;
	int saved;

	/* Durable before visible, as store_commit. */
	if (fsync(fd) == -1)
		return str_err(err, errlen, "fsync: %s", strerror(errno));
	if (fstat(fd, &sb) == -1)
		return str_err(err, errlen, "fstat: %s", strerror(errno));
	/* Partials are private (0600) while they grow; the committed file
	 * gets the mode the umask asks for. */
	if (fchmod(fd, st->fmode) == -1)
		return str_err(err, errlen, "fchmod: %s", strerror(errno));
	if (renameat(st->partfd, key, st->rootfd, name) == -1) {
		saved = errno;
		str_err(err, errlen, "rename: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	(void)fsync(st->rootfd);
	(void)fsync(st->partfd);
	meta_write(st, name, &sb, sha, NULL);
	return 0;
}

void
store_partial_discard(const struct store *st, const char *key)
{
	(void)unlinkat(st->partfd, key, 0);
}

int
store_partial_expire(const struct store *st, long long ttl_s)
{
	struct dirent *de;
	struct stat sb;
	time_t now = time(NULL);
	int fd, n = 0;
	DIR *d;

	if ((d = open_dir(st->partfd)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = open_beneath(
		    st->partfd, de->d_name, O_RDONLY | O_NONBLOCK, 0);
		if (fd == -1)
			continue;
		/* A partial in use is locked: never pull it from under its
		 * transfer.  The lock is held while we unlink. */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &sb) == 0 &&
		    (long long)(now - sb.st_mtim.tv_sec) > ttl_s &&
		    unlinkat(st->partfd, de->d_name, 0) == 0)
			n++;
		close(fd);
	}
	closedir(d);
	return n;
}

int
store_stat_root(
    const struct store *st, struct stat *sb, char *err, size_t errlen)
{
	if (fstat(st->rootfd, sb) == -1)
		return str_err(err, errlen, "stat root: %s", strerror(errno));
	return 0;
}

int
store_list(const struct store *st, size_t max,
    int (*cb)(void *arg, const struct store_entry *e), void *arg, char *err,
    size_t errlen)
{
	unsigned char md5[HASH_MD5_LEN];
	struct store_entry e;
	struct dirent *de;
	struct stat sb;
	size_t count = 0;
	DIR *d;
	int rc = 0, has_md5;

	if ((d = open_dir(st->rootfd)) == NULL)
		return str_err(err, errlen, "opendir: %s", strerror(errno));
	while (count < max && (de = readdir(d)) != NULL) {
		/* Hidden names are ours; names a client could not ask for
		 * (control characters...) are not offered either. */
		if (proto_name_check(de->d_name, NULL, 0) == -1)
			continue;
		if (fstatat(st->rootfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
			-1 ||
		    !S_ISREG(sb.st_mode))
			continue;
		e.name = de->d_name;
		e.size = (uint64_t)sb.st_size;
		e.mtime = sb.st_mtim.tv_sec;
		e.has_sha =
		    meta_read(st, de->d_name, &sb, e.sha, md5, &has_md5) == 0;
		if (cb(arg, &e) == -1) {
			rc = str_err(err, errlen, "listing too large");
			break;
		}
		count++;
	}
	closedir(d);
	return rc;
}

int
store_delete(const struct store *st, const char *name, char *err, size_t errlen)
{
	struct stat sb;

	if (fstatat(st->rootfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(sb.st_mode)) {
		errno = ENOENT;
		return str_err(err, errlen, "no such file");
	}
	if (unlinkat(st->rootfd, name, 0) == -1) {
		int saved = errno;

		str_err(err, errlen, "%s", strerror(saved));
		errno = saved;
		return -1;
	}
	(void)unlinkat(st->metafd, name, 0);
	return 0;
}

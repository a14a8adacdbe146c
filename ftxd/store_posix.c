/*
 * store_posix.c - the storage backend for a directory tree.  See
 * store_posix.h for the layout and store.h for the contract.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "afile.h"
#include "beneath.h"
#include "hash.h"
#include "proto.h"
#include "store_impl.h"
#include "store_posix.h"
#include "str.h"

#define META_DIR ".ftx"
/* Temporaries of servers before 0.2: in the root, and in META_DIR. */
#define OLD_TMP_PREFIX ".ftxtmp-"
#define OLD_META_TMP_PREFIX ".t-"
/* Under META_DIR; a dot name, so no sidecar of a stored file collides. */
#define PART_DIR ".partial"
#define USERS_DIR ".users"
/* In the root's META_DIR: the user areas have left the namespace. */
#define MIGRATED ".users-moved"
#define META_MAX 256

struct pstore {
	struct store base; /* must be first */
	int rootfd;
	int metafd;
	int partfd; /* <root>/.ftx/.partial: interrupted uploads */
	int usersfd; /* <root>/.users, the root store only; else -1 */
	mode_t fmode; /* committed files: 0666 & ~umask */
};

struct pfile {
	struct store_file base; /* must be first */
	int fd;
	struct stat sb;
	char name[FTX_NAME_MAX + 1];
};

struct ppart {
	struct store_part base; /* must be first */
	int fd; /* holds the claim (flock) */
	int gone; /* committed or discarded */
	char key[STORE_PKEY_LEN];
};

static const struct store_ops posix_ops;

#define PST(st) ((const struct pstore *)(st))

/*
 * SECURITY: open `name` beneath `dirfd` without following any symbolic
 * link, through the one resolver (shared/beneath.c: openat2
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or a component walk with
 * O_NOFOLLOW where the kernel or a seccomp filter refuses openat2).
 */
static int
open_beneath(int dirfd, const char *name, int flags, mode_t mode)
{
	return beneath_open(dirfd, name, flags, mode, NULL, 0);
}

/* The store code for an errno. */
static enum store_code
code_of(int err)
{
	switch (err) {
	case ENOENT:
	case ELOOP:
	case ENOTDIR:
	case EXDEV:
		return STORE_NOTFOUND;
	case ENOSPC:
	case EDQUOT:
		return STORE_NOSPACE;
	case EISDIR:
	case ENOTEMPTY:
	case EEXIST:
		return STORE_TAKEN;
	default:
		return STORE_IO;
	}
}

/* Fill `e` from errno, with `what` failing; always -1. */
static int
sys_fail(struct store_err *e, const char *what)
{
	int saved = errno;

	return store_fail(e, code_of(saved), "%s: %s", what, strerror(saved));
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

/* A temporary a crashed server left: ours (afile's ".NAME.tmp-HEX")
 * or an older server's. */
static int
stale_temp(const char *name, const char *old_prefix)
{
	return strncmp(name, old_prefix, strlen(old_prefix)) == 0 ||
	    (name[0] == '.' && strstr(name, ".tmp-") != NULL);
}

/* Temporaries left by a crashed server are never committable. */
static void
remove_temps(int dirfd, const char *old_prefix)
{
	struct dirent *de;
	DIR *d;

	if ((d = open_dir(dirfd)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (stale_temp(de->d_name, old_prefix))
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

static struct pstore *
pstore_new(void)
{
	struct pstore *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->base.ops = &posix_ops;
	p->rootfd = p->metafd = p->partfd = p->usersfd = -1;
	return p;
}

static void
p_close(struct store *st)
{
	struct pstore *p = (struct pstore *)st;

	if (p->rootfd != -1)
		close(p->rootfd);
	if (p->metafd != -1)
		close(p->metafd);
	if (p->partfd != -1)
		close(p->partfd);
	if (p->usersfd != -1)
		close(p->usersfd);
	free(p);
}

int
store_posix_open(struct store **stp, const char *root, struct store_err *e)
{
	struct pstore *p;

	*stp = NULL;
	if ((p = pstore_new()) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	p->fmode = file_mode();
	if (mkdir(root, 0755) == -1 && errno != EEXIST) {
		sys_fail(e, "cannot create root");
		goto fail;
	}
	p->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->rootfd == -1) {
		sys_fail(e, "cannot open root");
		goto fail;
	}
	/* SECURITY: the users' areas are private (0700) and hidden (a
	 * dot name: no LIST shows it, no command can name it). */
	if ((p->metafd = subdir(p->rootfd, META_DIR, 0755)) == -1 ||
	    (p->partfd = subdir(p->metafd, PART_DIR, 0700)) == -1 ||
	    (p->usersfd = subdir(p->rootfd, USERS_DIR, 0700)) == -1) {
		sys_fail(e, "cannot set up the root's metadata");
		goto fail;
	}
	remove_temps(p->rootfd, OLD_TMP_PREFIX);
	remove_temps(p->metafd, OLD_META_TMP_PREFIX);
	*stp = &p->base;
	return 0;
fail:
	p_close(&p->base);
	return -1;
}

static int
p_open_sub(const struct store *parent, const char *user, struct store **stp,
    struct store_err *e)
{
	const struct pstore *pp = PST(parent);
	struct pstore *p;

	*stp = NULL;
	if (pp->usersfd == -1)
		return store_fail(e, STORE_IO, "not the root store");
	if ((p = pstore_new()) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	p->fmode = pp->fmode;
	/* SECURITY: `user` passed users_name_check (no '/', no dots), and
	 * the directory is opened beneath .users without following a
	 * symbolic link, so a link planted there leads nowhere. */
	if (mkdirat(pp->usersfd, user, 0700) == -1 && errno != EEXIST) {
		sys_fail(e, "cannot create the user's area");
		goto fail;
	}
	p->rootfd = open_beneath(pp->usersfd, user, O_RDONLY | O_DIRECTORY, 0);
	if (p->rootfd == -1 ||
	    (p->metafd = subdir(p->rootfd, META_DIR, 0755)) == -1) {
		sys_fail(e, "cannot open the user's area");
		goto fail;
	}
	/* One partial-upload directory for every user: the expiry sweep
	 * covers users who never come back, and keys already name the
	 * uploader. */
	if ((p->partfd = fcntl(pp->partfd, F_DUPFD_CLOEXEC, 0)) == -1) {
		sys_fail(e, "dup");
		goto fail;
	}
	*stp = &p->base;
	return 0;
fail:
	p_close(&p->base);
	return -1;
}

int
store_posix_is_migrated(const struct store *root)
{
	struct stat sb;

	return fstatat(PST(root)->metafd, MIGRATED, &sb, AT_SYMLINK_NOFOLLOW) ==
	    0;
}

int
store_posix_migrate_user(
    const struct store *root, const char *user, struct store_err *e)
{
	const struct pstore *p = PST(root);
	struct stat sb;

	if (store_posix_is_migrated(root))
		return 0;
	/* SECURITY: only a real directory moves (never a symlink), and
	 * never over an area that exists already. */
	if (fstatat(p->rootfd, user, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISDIR(sb.st_mode))
		return 0;
	if (fstatat(p->usersfd, user, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return store_fail(e, STORE_TAKEN,
		    "both %s and %s/%s exist: move one by hand", user,
		    USERS_DIR, user);
	if (renameat(p->rootfd, user, p->usersfd, user) == -1)
		return sys_fail(e, "cannot move the user's area");
	(void)fsync(p->usersfd);
	(void)fsync(p->rootfd);
	return 0;
}

int
store_posix_migrated(const struct store *root, struct store_err *e)
{
	int fd;

	fd =
	    open_beneath(PST(root)->metafd, MIGRATED, O_WRONLY | O_CREAT, 0644);
	if (fd == -1)
		return sys_fail(e, "cannot record the move of user areas");
	(void)fsync(fd);
	close(fd);
	(void)fsync(PST(root)->metafd);
	return 0;
}

static int
p_usage(const struct store *st, const char *except, uint64_t *bytes,
    struct store_err *e)
{
	const struct pstore *p = PST(st);
	struct dirent *de;
	struct stat sb;
	DIR *d;

	*bytes = 0;
	if ((d = open_dir(p->rootfd)) == NULL)
		return sys_fail(e, "opendir");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    (except != NULL && strcmp(de->d_name, except) == 0))
			continue;
		if (fstatat(p->rootfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
			0 &&
		    S_ISREG(sb.st_mode))
			*bytes += (uint64_t)sb.st_size;
	}
	closedir(d);
	return 0;
}

static int
p_free_bytes(const struct store *st, uint64_t *bytes, struct store_err *e)
{
	struct statvfs vfs;

	if (fstatvfs(PST(st)->rootfd, &vfs) == -1)
		return sys_fail(e, "statvfs");
	*bytes = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
	return 0;
}

static long long
ts_ms(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

/* A version string for a file or directory: size, mtime and inode (and
 * for a directory, whose entries change its ctime too, the ctime). */
static int
version_of(char *out, size_t n, const struct stat *sb, int with_ctime)
{
	return str_fmt(out, n,
	    "%" PRIu64 " %lld %ld %" PRIu64 " %" PRIu64 " %lld %ld",
	    (uint64_t)sb->st_size, (long long)sb->st_mtim.tv_sec,
	    (long)sb->st_mtim.tv_nsec, (uint64_t)sb->st_ino,
	    (uint64_t)sb->st_dev,
	    with_ctime ? (long long)sb->st_ctim.tv_sec : 0LL,
	    with_ctime ? (long)sb->st_ctim.tv_nsec : 0L);
}

static void
fill_stat(struct store_stat *out, const struct stat *sb, int dir)
{
	long long m = ts_ms(&sb->st_mtim), c = ts_ms(&sb->st_ctim);

	out->size = (uint64_t)sb->st_size;
	out->mtime = sb->st_mtim.tv_sec;
	(void)version_of(out->version, sizeof(out->version), sb, dir);
	out->changed_ms = m > c ? m : c;
}

static int
p_root_stat(const struct store *st, struct store_stat *out, struct store_err *e)
{
	struct stat sb;

	if (fstat(PST(st)->rootfd, &sb) == -1)
		return sys_fail(e, "stat root");
	fill_stat(out, &sb, 1);
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
meta_read(const struct pstore *p, const char *name, const struct stat *sb,
    unsigned char *sha, unsigned char *md5, int *has_md5)
{
	char buf[META_MAX], want[META_MAX];
	size_t tail = 3 + HASH_SHA256_HEXLEN;
	ssize_t n;
	int fd, v2;

	*has_md5 = 0;
	if ((fd = open_beneath(p->metafd, name, O_RDONLY | O_NONBLOCK, 0)) ==
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

/* Record the hashes (md5 may be NULL) atomically, without fsync: a
 * sidecar lost in a crash only costs a re-hash later. */
static void
meta_write(const struct pstore *p, const char *name, const struct stat *sb,
    const unsigned char *sha, const unsigned char *md5)
{
	char buf[META_MAX], hex[HASH_SHA256_HEXLEN + 1];
	char mhex[MD5_HEXLEN + 1];

	str_hex(hex, sha, HASH_SHA256_LEN);
	if (md5 != NULL)
		str_hex(mhex, md5, HASH_MD5_LEN);
	if ((md5 != NULL ? str_fmt(buf, sizeof(buf), "v2 %s %s", hex, mhex)
			 : str_fmt(buf, sizeof(buf), "v1 %s", hex)) == -1 ||
	    meta_version(buf + strlen(buf), sizeof(buf) - strlen(buf), sb) ==
		-1)
		return;
	(void)afile_put(
	    p->metafd, name, buf, strlen(buf), 0644, AFILE_NOSYNC, NULL, 0);
}

static int
p_meta_get(const struct store_file *f, unsigned char *sha, unsigned char *md5,
    int *has_md5)
{
	const struct pfile *pf = (const struct pfile *)f;

	return meta_read(PST(f->st), pf->name, &pf->sb, sha, md5, has_md5);
}

static void
p_meta_put(
    struct store_file *f, const unsigned char *sha, const unsigned char *md5)
{
	struct pfile *pf = (struct pfile *)f;
	struct stat now;

	/* Only while the name is still this file: a reader of a version
	 * since replaced would overwrite the new version's entry (costing
	 * it a re-hash), one since deleted would leave an orphan entry. */
	if (fstatat(PST(f->st)->rootfd, pf->name, &now, AT_SYMLINK_NOFOLLOW) ==
		-1 ||
	    now.st_ino != pf->sb.st_ino || now.st_dev != pf->sb.st_dev)
		return;
	meta_write(PST(f->st), pf->name, &pf->sb, sha, md5);
}

static int
p_read_open(const struct store *st, const char *name, struct store_file **fp,
    struct store_stat *out, struct store_err *e)
{
	struct pfile *pf;
	int fd;

	*fp = NULL;
	/* SECURITY: O_NONBLOCK so that a FIFO or device placed in the root
	 * cannot block a worker in open(); only regular files are served,
	 * and a symlink (ELOOP) or anything beneath is "not there". */
	fd = open_beneath(PST(st)->rootfd, name, O_RDONLY | O_NONBLOCK, 0);
	if (fd == -1) {
		if (code_of(errno) == STORE_NOTFOUND)
			return store_fail(e, STORE_NOTFOUND, "no such file");
		return sys_fail(e, "open");
	}
	if ((pf = calloc(1, sizeof(*pf))) == NULL) {
		close(fd);
		return store_fail(e, STORE_IO, "out of memory");
	}
	pf->base.st = st;
	pf->fd = fd;
	if (fstat(fd, &pf->sb) == -1) {
		sys_fail(e, "fstat");
		goto fail;
	}
	if (!S_ISREG(pf->sb.st_mode)) {
		store_fail(e, STORE_NOTFOUND, "no such file");
		goto fail;
	}
	if (fcntl(fd, F_SETFL, 0) == -1) {
		sys_fail(e, "fcntl");
		goto fail;
	}
	(void)str_copy(pf->name, sizeof(pf->name), name);
	pf->base.size = (uint64_t)pf->sb.st_size;
	fill_stat(out, &pf->sb, 0);
	*fp = &pf->base;
	return 0;
fail:
	close(fd);
	free(pf);
	return -1;
}

/* Up to n bytes at `off` of a file or partial (EINTR retried). */
static ssize_t
fd_read_at(int fd, void *buf, size_t n, uint64_t off, struct store_err *e)
{
	ssize_t r;

	do
		r = pread(fd, buf, n, (off_t)off);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return sys_fail(e, "read");
	return r;
}

static ssize_t
p_read_at(struct store_file *f, void *buf, size_t n, uint64_t off,
    struct store_err *e)
{
	return fd_read_at(((struct pfile *)f)->fd, buf, n, off, e);
}

static int
p_read_fd(const struct store_file *f)
{
	return ((const struct pfile *)f)->fd;
}

static void
p_read_close(struct store_file *f)
{
	close(((struct pfile *)f)->fd);
	free(f);
}

static int
p_partial_size(const struct store *st, const char *key, uint64_t *size,
    struct store_err *e)
{
	struct stat sb;

	*size = 0;
	if (fstatat(PST(st)->partfd, key, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		return sys_fail(e, "stat");
	}
	if (S_ISREG(sb.st_mode))
		*size = (uint64_t)sb.st_size;
	return 0;
}

/*
 * Whether `key` still names the partial `sb` describes.  A sweep
 * (p_partial_drop) or a discard may unlink a partial between another
 * transfer's open and its lock, which would leave that transfer writing
 * to a file no commit can reach.  Asked under the lock, the answer
 * holds while it is kept: only the lock's holder unlinks or renames a
 * partial.
 */
static int
still_named(int dirfd, const char *key, const struct stat *sb)
{
	struct stat now;

	return fstatat(dirfd, key, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    now.st_ino == sb->st_ino && now.st_dev == sb->st_dev;
}

static int
p_part_open(const struct store *st, const char *key, uint64_t offset,
    struct store_part **wp, struct store_err *e)
{
	struct ppart *w;
	struct stat sb;
	int fd, tries = 0;

	*wp = NULL;
again:
	fd = open_beneath(PST(st)->partfd, key, O_RDWR | O_CREAT, 0600);
	if (fd == -1)
		return sys_fail(e, "cannot open partial upload");
	/* SECURITY: one writer per partial, or two sessions of the same
	 * uploader would interleave their bytes. */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			store_fail(e, STORE_BUSY,
			    "an upload of this file is in progress");
		else
			sys_fail(e, "flock");
		goto fail;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		store_fail(e, STORE_IO, "partial upload is not a file");
		goto fail;
	}
	if (!still_named(PST(st)->partfd, key, &sb)) {
		/* Unlinked meanwhile: open what the name holds now. */
		close(fd);
		if (++tries < 3)
			goto again;
		return store_fail(e, STORE_BUSY, "partial upload is changing");
	}
	if (offset > (uint64_t)sb.st_size) {
		store_fail(e, STORE_RANGE,
		    "offset %" PRIu64 " beyond the %lld bytes kept", offset,
		    (long long)sb.st_size);
		/* An empty partial keeps nothing to resume (we may just have
		 * created it): not left behind.  Unlinked under the claim. */
		if (sb.st_size == 0)
			(void)unlinkat(PST(st)->partfd, key, 0);
		goto fail;
	}
	if (ftruncate(fd, (off_t)offset) == -1) {
		sys_fail(e, "ftruncate");
		goto fail;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		store_fail(e, STORE_IO, "out of memory");
		goto fail;
	}
	w->base.st = st;
	w->fd = fd;
	(void)str_copy(w->key, sizeof(w->key), key);
	*wp = &w->base;
	return 0;
fail:
	close(fd);
	return -1;
}

static int
p_part_write_at(struct store_part *wp, const void *buf, size_t n, uint64_t off,
    struct store_err *e)
{
	struct ppart *w = (struct ppart *)wp;
	const unsigned char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = pwrite(w->fd, p, n, (off_t)off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return sys_fail(e, "write");
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static ssize_t
p_part_read_at(struct store_part *wp, void *buf, size_t n, uint64_t off,
    struct store_err *e)
{
	return fd_read_at(((struct ppart *)wp)->fd, buf, n, off, e);
}

static int
p_part_commit(struct store_part *wp, const char *name, const unsigned char *sha,
    time_t mtime, unsigned flags, struct store_err *e)
{
	struct ppart *w = (struct ppart *)wp;
	const struct pstore *p = PST(wp->st);
	struct stat sb;

	(void)mtime;
	(void)flags;
	/* Durable before visible: a crash after the rename must not expose
	 * a file whose bytes never reached the disk. */
	if (fsync(w->fd) == -1)
		return sys_fail(e, "fsync");
	if (fstat(w->fd, &sb) == -1)
		return sys_fail(e, "fstat");
	/* Partials are private (0600) while they grow; the committed file
	 * gets the mode the umask asks for. */
	if (fchmod(w->fd, p->fmode) == -1)
		return sys_fail(e, "fchmod");
	if (renameat(p->partfd, w->key, p->rootfd, name) == -1) {
		if (code_of(errno) == STORE_TAKEN)
			return store_fail(
			    e, STORE_TAKEN, "name is taken by a directory");
		return sys_fail(e, "rename");
	}
	w->gone = 1;
	(void)fsync(p->rootfd);
	(void)fsync(p->partfd);
	meta_write(p, name, &sb, sha, NULL);
	return 0;
}

static void
p_part_close(struct store_part *wp, int keep)
{
	struct ppart *w = (struct ppart *)wp;

	/* Unlinked while we hold the claim, so no other transfer has it. */
	if (!keep && !w->gone)
		(void)unlinkat(PST(wp->st)->partfd, w->key, 0);
	close(w->fd); /* releases the claim */
	free(w);
}

static int
p_partial_scan(const struct store *st,
    int (*cb)(void *arg, const char *key, uint64_t size, long long mtime_ns),
    void *arg, struct store_err *e)
{
	const struct pstore *p = PST(st);
	struct dirent *de;
	struct stat sb;
	DIR *d;

	if ((d = open_dir(p->partfd)) == NULL)
		return sys_fail(e, "opendir");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(p->partfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
			-1 ||
		    !S_ISREG(sb.st_mode))
			continue;
		if (cb(arg, de->d_name, (uint64_t)sb.st_size,
			(long long)sb.st_mtim.tv_sec * 1000000000LL +
			    sb.st_mtim.tv_nsec) == -1)
			break;
	}
	closedir(d);
	return 0;
}

static int
p_partial_drop(const struct store *st, const char *key)
{
	const struct pstore *p = PST(st);
	struct stat sb;
	int fd, rc = 0;

	fd = open_beneath(p->partfd, key, O_RDONLY | O_NONBLOCK, 0);
	if (fd == -1)
		return 0;
	/* A partial in use is claimed (locked): never pull it from under
	 * its transfer.  The lock is held while we unlink, and the name
	 * must still be the file we locked: one discarded and made anew
	 * since our open belongs to a transfer. */
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &sb) == 0 &&
	    still_named(p->partfd, key, &sb) &&
	    unlinkat(p->partfd, key, 0) == 0)
		rc = 1;
	close(fd);
	return rc;
}

static int
p_list(const struct store *st, size_t max,
    int (*cb)(void *arg, const struct store_entry *e), void *arg,
    struct store_err *e)
{
	const struct pstore *p = PST(st);
	unsigned char md5[HASH_MD5_LEN];
	struct store_entry ent;
	struct dirent *de;
	struct stat sb;
	size_t count = 0;
	DIR *d;
	int rc = 0, has_md5;

	if ((d = open_dir(p->rootfd)) == NULL)
		return sys_fail(e, "opendir");
	while (count < max && (de = readdir(d)) != NULL) {
		/* Hidden names are ours; names a client could not ask for
		 * (control characters...) are not offered either. */
		if (proto_name_check(de->d_name, NULL, 0) == -1)
			continue;
		if (fstatat(p->rootfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
			-1 ||
		    !S_ISREG(sb.st_mode))
			continue;
		ent.name = de->d_name;
		ent.size = (uint64_t)sb.st_size;
		ent.mtime = sb.st_mtim.tv_sec;
		ent.has_sha =
		    meta_read(p, de->d_name, &sb, ent.sha, md5, &has_md5) == 0;
		if (cb(arg, &ent) == -1) {
			rc = store_fail(e, STORE_TOOMANY, "listing too large");
			break;
		}
		count++;
	}
	closedir(d);
	return rc;
}

static int
p_delete(const struct store *st, const char *name, struct store_err *e)
{
	const struct pstore *p = PST(st);
	struct stat sb;

	if (fstatat(p->rootfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(sb.st_mode))
		return store_fail(e, STORE_NOTFOUND, "no such file");
	if (unlinkat(p->rootfd, name, 0) == -1)
		return sys_fail(e, "unlink");
	(void)unlinkat(p->metafd, name, 0);
	return 0;
}

static const struct store_ops posix_ops = {
    .name = "posix",
    .open_sub = p_open_sub,
    .close = p_close,
    .usage = p_usage,
    .free_bytes = p_free_bytes,
    .root_stat = p_root_stat,
    .list = p_list,
    .del = p_delete,
    .read_open = p_read_open,
    .read_at = p_read_at,
    .read_fd = p_read_fd,
    .read_close = p_read_close,
    .meta_get = p_meta_get,
    .meta_put = p_meta_put,
    .partial_size = p_partial_size,
    .part_open = p_part_open,
    .part_write_at = p_part_write_at,
    .part_read_at = p_part_read_at,
    .part_commit = p_part_commit,
    .part_close = p_part_close,
    .partial_scan = p_partial_scan,
    .partial_drop = p_partial_drop,
};

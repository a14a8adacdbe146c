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
#include "path.h"
#include "proto.h"
#include "store_impl.h"
#include "store_posix.h"
#include "str.h"

/* In every directory: the sidecars of the files beside it (so a renamed
 * directory carries its files' cached hashes along); the root's also
 * holds PART_DIR and MIGRATED. */
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
	char name[FTX_RPATH_MAX + 1];
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

/* The store code for an errno.  A symbolic link on the way (ELOOP) is
 * "not there": it is never followed. */
static enum store_code
code_of(int err)
{
	switch (err) {
	case ENOENT:
	case ELOOP:
	case EXDEV:
		return STORE_NOTFOUND;
	case ENOTDIR:
		return STORE_NOTDIR;
	case ENOSPC:
	case EDQUOT:
		return STORE_NOSPACE;
	case EISDIR:
		return STORE_ISDIR;
	case ENOTEMPTY:
		return STORE_NOTEMPTY;
	case EEXIST:
		return STORE_EXISTS;
	default:
		return STORE_IO;
	}
}

/* Fill `e` from errno, with `what` failing; always -1, errno kept. */
static int
sys_fail(struct store_err *e, const char *what)
{
	int saved = errno;

	store_fail(e, code_of(saved), "%s: %s", what, strerror(saved));
	errno = saved;
	return -1;
}

/*
 * SECURITY: the directory holding `path`'s last component, reached
 * through the one resolver (shared/beneath.c): no component on the
 * way may be a symbolic link or leave the area.  With `create`,
 * missing directories are made (0777 under the umask, as mkdir -p).
 * The descriptor (the caller closes it) and *leaf, or -1 with `e`
 * filled and errno kept.
 */
static int
parent_of(const struct pstore *p, const char *path, int create,
    const char **leaf, struct store_err *e)
{
	char why[FTX_ERRLEN];
	int fd, saved;

	fd = beneath_opendir_parent(
	    p->rootfd, path, create, 0777, leaf, why, sizeof(why));
	if (fd == -1) {
		saved = errno;
		store_fail(e, code_of(saved), "%s", why);
		errno = saved;
	}
	return fd;
}

/* parent_of, making missing directories only when some are missing;
 * *made says whether any were (their entries then need a flush). */
static int
parent_make(const struct pstore *p, const char *path, const char **leaf,
    int *made, struct store_err *e)
{
	int fd;

	*made = 0;
	if ((fd = parent_of(p, path, 0, leaf, e)) != -1 || errno != ENOENT)
		return fd;
	*made = 1;
	return parent_of(p, path, 1, leaf, e);
}

/* The sidecar directory of the files in the directory `dirfd` (made if
 * missing, with `create`): a real directory, never a link; or -1. */
static int
meta_dir(int dirfd, int create)
{
	int fd;

	/* Opened first: it exists for all but a directory's first file,
	 * and a batch commits thousands of files. */
	fd = openat(
	    dirfd, META_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd != -1 || errno != ENOENT || !create)
		return fd;
	if (mkdirat(dirfd, META_DIR, 0755) == -1 && errno != EEXIST)
		return -1;
	return openat(
	    dirfd, META_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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
meta_read(int metafd, const char *name, const struct stat *sb,
    unsigned char *sha, unsigned char *md5, int *has_md5)
{
	char buf[META_MAX], want[META_MAX];
	size_t tail = 3 + HASH_SHA256_HEXLEN;
	ssize_t n;
	int fd, v2;

	*has_md5 = 0;
	if (metafd == -1)
		return -1;
	if ((fd = open_beneath(metafd, name, O_RDONLY | O_NONBLOCK, 0)) == -1)
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
meta_write(int metafd, const char *name, const struct stat *sb,
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
	    metafd, name, buf, strlen(buf), 0644, AFILE_NOSYNC, NULL, 0);
}

/* The cached hashes of the file `leaf` in the directory `dirfd`. */
static int
meta_read_in(int dirfd, const char *leaf, const struct stat *sb,
    unsigned char *sha, unsigned char *md5, int *has_md5)
{
	int mfd, rc;

	*has_md5 = 0;
	if ((mfd = meta_dir(dirfd, 0)) == -1)
		return -1;
	rc = meta_read(mfd, leaf, sb, sha, md5, has_md5);
	close(mfd);
	return rc;
}

static void
meta_write_in(int dirfd, const char *leaf, const struct stat *sb,
    const unsigned char *sha, const unsigned char *md5)
{
	int mfd;

	if ((mfd = meta_dir(dirfd, 1)) == -1)
		return;
	meta_write(mfd, leaf, sb, sha, md5);
	close(mfd);
}

/* Drop the sidecar of `leaf` in `dirfd`, if any. */
static void
meta_drop_in(int dirfd, const char *leaf)
{
	int mfd;

	if ((mfd = meta_dir(dirfd, 0)) == -1)
		return;
	(void)unlinkat(mfd, leaf, 0);
	close(mfd);
}

static int
p_meta_get(const struct store_file *f, unsigned char *sha, unsigned char *md5,
    int *has_md5)
{
	const struct pfile *pf = (const struct pfile *)f;
	const char *leaf;
	int pfd, rc;

	*has_md5 = 0;
	if ((pfd = parent_of(PST(f->st), pf->name, 0, &leaf, NULL)) == -1)
		return -1;
	rc = meta_read_in(pfd, leaf, &pf->sb, sha, md5, has_md5);
	close(pfd);
	return rc;
}

static void
p_meta_put(
    struct store_file *f, const unsigned char *sha, const unsigned char *md5)
{
	struct pfile *pf = (struct pfile *)f;
	const char *leaf;
	struct stat now;
	int pfd;

	if ((pfd = parent_of(PST(f->st), pf->name, 0, &leaf, NULL)) == -1)
		return;
	/* Only while the name is still this file: a reader of a version
	 * since replaced would overwrite the new version's entry (costing
	 * it a re-hash), one since deleted would leave an orphan entry. */
	if (fstatat(pfd, leaf, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    now.st_ino == pf->sb.st_ino && now.st_dev == pf->sb.st_dev)
		meta_write_in(pfd, leaf, &pf->sb, sha, md5);
	close(pfd);
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
	 * and a symlink (ELOOP) anywhere on the path is "not there". */
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
	if (S_ISDIR(pf->sb.st_mode)) {
		store_fail(e, STORE_ISDIR, "is a directory");
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

/* The modification time `mtime` (seconds) on the open file `fd`. */
static int
set_mtime(int fd, time_t mtime)
{
	struct timespec ts[2];

	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = mtime;
	ts[1].tv_nsec = 0;
	return futimens(fd, ts);
}

/* Make the new name durable: the directory holding it, and the
 * partials' (the old name), or, when directories were made on the way,
 * the file system (their entries are in directories we do not hold). */
static void
commit_sync(const struct pstore *p, int pfd, int made)
{
	if (made) {
		(void)syncfs(p->rootfd);
		return;
	}
	(void)fsync(pfd);
	(void)fsync(p->partfd);
}

static int
p_part_commit(struct store_part *wp, const char *name, const unsigned char *sha,
    time_t mtime, unsigned flags, struct store_err *e)
{
	struct ppart *w = (struct ppart *)wp;
	const struct pstore *p = PST(wp->st);
	const char *leaf;
	struct stat sb;
	int pfd, made, rc = -1;

	if ((pfd = parent_make(p, name, &leaf, &made, e)) == -1)
		return -1;
	/* Before the version is taken: the sidecar must match the time
	 * the file keeps. */
	if (mtime != (time_t)-1 && set_mtime(w->fd, mtime) == -1) {
		sys_fail(e, "futimens");
		goto out;
	}
	/* Durable before visible: a crash after the rename must not expose
	 * a file whose bytes never reached the disk (unless the caller
	 * flushed the whole store already). */
	if ((flags & STORE_COMMIT_FLUSHED) == 0 && fsync(w->fd) == -1) {
		sys_fail(e, "fsync");
		goto out;
	}
	if (fstat(w->fd, &sb) == -1) {
		sys_fail(e, "fstat");
		goto out;
	}
	/* Partials are private (0600) while they grow; the committed file
	 * gets the mode the umask asks for. */
	if (fchmod(w->fd, p->fmode) == -1) {
		sys_fail(e, "fchmod");
		goto out;
	}
	if (renameat(p->partfd, w->key, pfd, leaf) == -1) {
		if (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST)
			store_fail(
			    e, STORE_ISDIR, "name is taken by a directory");
		else
			sys_fail(e, "rename");
		goto out;
	}
	w->gone = 1;
	if ((flags & STORE_COMMIT_NOSYNC) == 0)
		commit_sync(p, pfd, made);
	meta_write_in(pfd, leaf, &sb, sha, NULL);
	rc = 0;
out:
	close(pfd);
	return rc;
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
		ent.has_sha = meta_read(p->metafd, de->d_name, &sb, ent.sha,
				  md5, &has_md5) == 0;
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
	const char *leaf;
	struct stat sb;
	int pfd, rc = -1;

	if ((pfd = parent_of(PST(st), name, 0, &leaf, e)) == -1)
		return -1;
	/* SECURITY: only a regular file is deleted: a link planted in the
	 * tree is "not there" (unlinking it would not follow it, but a
	 * client cannot name what it cannot see). */
	if (fstatat(pfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))) {
		store_fail(e, STORE_NOTFOUND, "no such file");
		goto out;
	}
	if (S_ISDIR(sb.st_mode)) {
		store_fail(e, STORE_ISDIR, "is a directory");
		goto out;
	}
	if (unlinkat(pfd, leaf, 0) == -1) {
		sys_fail(e, "unlink");
		goto out;
	}
	meta_drop_in(pfd, leaf);
	rc = 0;
out:
	close(pfd);
	return rc;
}

/* What a walk or a look-up shows of `sb` (named `leaf` in `dirfd`;
 * metafd its sidecars' directory, or -1): 0, or -1 for a link, a
 * special file or anything else that is not shown. */
static int
entry_of(struct store_entry *out, const struct stat *sb, int metafd,
    const char *leaf)
{
	unsigned char md5[HASH_MD5_LEN];
	int has_md5;

	out->is_dir = S_ISDIR(sb->st_mode);
	if (!out->is_dir && !S_ISREG(sb->st_mode))
		return -1;
	out->size = out->is_dir ? 0 : (uint64_t)sb->st_size;
	out->mtime = sb->st_mtim.tv_sec;
	out->has_sha = !out->is_dir &&
	    meta_read(metafd, leaf, sb, out->sha, md5, &has_md5) == 0;
	return 0;
}

static int
p_lookup(const struct store *st, const char *path, struct store_entry *out,
    struct store_err *e)
{
	const struct pstore *p = PST(st);
	const char *leaf;
	struct stat sb;
	int pfd, mfd, rc = -1;

	if (path[0] == '\0') {
		if (fstat(p->rootfd, &sb) == -1)
			return sys_fail(e, "stat");
		return entry_of(out, &sb, -1, "");
	}
	if ((pfd = parent_of(p, path, 0, &leaf, e)) == -1)
		return -1;
	if (fstatat(pfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		sys_fail(e, "stat");
		goto out;
	}
	mfd = S_ISREG(sb.st_mode) ? meta_dir(pfd, 0) : -1;
	/* SECURITY: a symbolic link is shown as nothing, never followed. */
	if (entry_of(out, &sb, mfd, leaf) == -1)
		store_fail(e, STORE_NOTFOUND, "no such file or directory");
	else
		rc = 0;
	if (mfd != -1)
		close(mfd);
out:
	close(pfd);
	return rc;
}

static int
p_mkdir(
    const struct store *st, const char *path, int parents, struct store_err *e)
{
	const struct pstore *p = PST(st);
	const char *leaf;
	struct stat sb;
	int pfd, made = 0, rc = -1;

	pfd = parents ? parent_make(p, path, &leaf, &made, e)
		      : parent_of(p, path, 0, &leaf, e);
	if (pfd == -1)
		return -1;
	if (mkdirat(pfd, leaf, 0777) == 0) {
		if (made)
			(void)syncfs(p->rootfd);
		else
			(void)fsync(pfd);
		rc = 0;
	} else if (errno != EEXIST) {
		sys_fail(e, "mkdir");
	} else if (!parents) {
		store_fail(e, STORE_EXISTS, "already exists");
	} else if (fstatat(pfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode)) {
		rc = 0;
	} else {
		store_fail(e, STORE_NOTDIR, "exists and is not a directory");
	}
	close(pfd);
	return rc;
}

/*
 * 0 if the directory `dfd` holds nothing but its sidecars' directory,
 * else -1 with `e` filled (STORE_NOTEMPTY).
 */
static int
only_meta(int dfd, struct store_err *e)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((d = open_dir(dfd)) == NULL)
		return sys_fail(e, "opendir");
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, META_DIR) == 0)
			continue;
		rc = store_fail(e, STORE_NOTEMPTY, "directory is not empty");
		break;
	}
	closedir(d);
	return rc;
}

/* Remove the sidecars' directory of `dfd` and what it holds (cached
 * hashes of files gone, afile temporaries): metadata, not content.  A
 * link planted as it is removed itself, never followed. */
static void
drop_meta_dir(int dfd)
{
	struct dirent *de;
	DIR *d;
	int mfd;

	if ((mfd = meta_dir(dfd, 0)) == -1) {
		(void)unlinkat(dfd, META_DIR, 0);
		return;
	}
	if ((d = fdopendir(mfd)) == NULL) {
		close(mfd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			(void)unlinkat(mfd, de->d_name, 0);
	closedir(d);
	(void)unlinkat(dfd, META_DIR, AT_REMOVEDIR);
}

static int
p_rmdir(const struct store *st, const char *path, struct store_err *e)
{
	const char *leaf;
	struct stat sb;
	int pfd, dfd = -1, rc = -1;

	if ((pfd = parent_of(PST(st), path, 0, &leaf, e)) == -1)
		return -1;
	/* SECURITY: the directory itself is opened without following a
	 * link: a link planted as `path` is "not there". */
	dfd =
	    openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1) {
		if (fstatat(pfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
		    S_ISLNK(sb.st_mode))
			store_fail(e, STORE_NOTFOUND, "no such directory");
		else
			store_fail(e, STORE_NOTDIR, "not a directory");
		goto out;
	}
	if (only_meta(dfd, e) == -1)
		goto out;
	drop_meta_dir(dfd);
	if (unlinkat(pfd, leaf, AT_REMOVEDIR) == -1) {
		/* A file arrived since we looked. */
		if (errno == EEXIST)
			errno = ENOTEMPTY;
		sys_fail(e, "rmdir");
		goto out;
	}
	(void)fsync(pfd);
	rc = 0;
out:
	if (dfd != -1)
		close(dfd);
	close(pfd);
	return rc;
}

/* renameat that never replaces `to`: renameat2 RENAME_NOREPLACE, or
 * where the file system lacks it (EINVAL) or a filter refuses it
 * (ENOSYS, EPERM), a look first (which a racing creator may beat). */
static int
rename_noreplace(int fd1, const char *from, int fd2, const char *to)
{
	struct stat sb;

	if (renameat2(fd1, from, fd2, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != EPERM)
		return -1;
	if (fstatat(fd2, to, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	return renameat(fd1, from, fd2, to);
}

/* renameat, where a directory `to` holding nothing but sidecars counts
 * as empty (as for rmdir): they go, and the rename is tried again. */
static int
rename_over(int fd1, const char *from, int fd2, const char *to)
{
	int dfd;

	if (renameat(fd1, from, fd2, to) == 0)
		return 0;
	if (errno != ENOTEMPTY && errno != EEXIST)
		return -1;
	dfd = openat(fd2, to, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1 || only_meta(dfd, NULL) == -1) {
		if (dfd != -1)
			close(dfd);
		errno = ENOTEMPTY;
		return -1;
	}
	drop_meta_dir(dfd);
	close(dfd);
	return renameat(fd1, from, fd2, to);
}

/* The sidecar of a renamed file follows it; without one, the target's
 * (of a file it replaced) goes.  Best effort: a stale sidecar does not
 * match its file's version and is ignored. */
static void
meta_move(int fpfd, const char *fleaf, int tpfd, const char *tleaf)
{
	int fm, tm;

	fm = meta_dir(fpfd, 0);
	if ((tm = meta_dir(tpfd, fm != -1)) == -1) {
		if (fm != -1) {
			(void)unlinkat(fm, fleaf, 0);
			close(fm);
		}
		return;
	}
	if (fm == -1 || renameat(fm, fleaf, tm, tleaf) == -1)
		(void)unlinkat(tm, tleaf, 0);
	if (fm != -1)
		close(fm);
	close(tm);
}

/* The store error of a failed rename(2). */
static int
rename_fail(struct store_err *e)
{
	/* EINVAL: a directory into itself, which the front end refuses
	 * already; should a race get one past it, the kernel's answer. */
	if (errno == EINVAL)
		return store_fail(
		    e, STORE_BADPATH, "cannot move a directory into itself");
	return sys_fail(e, "rename");
}

static int
p_rename(const struct store *st, const char *from, const char *to, int replace,
    struct store_err *e)
{
	const struct pstore *p = PST(st);
	const char *fleaf, *tleaf;
	struct stat sb;
	int fpfd, tpfd = -1, rc = -1;

	if ((fpfd = parent_of(p, from, 0, &fleaf, e)) == -1)
		return -1;
	if ((tpfd = parent_of(p, to, 0, &tleaf, e)) == -1)
		goto out;
	/* SECURITY: only files and directories move; a link planted in
	 * the tree is "not there".  Both ends were resolved beneath the
	 * area without following links, and rename(2) never follows the
	 * last component. */
	if (fstatat(fpfd, fleaf, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))) {
		store_fail(e, STORE_NOTFOUND, "no such file or directory");
		goto out;
	}
	if ((replace ? rename_over(fpfd, fleaf, tpfd, tleaf)
		     : rename_noreplace(fpfd, fleaf, tpfd, tleaf)) == -1) {
		rename_fail(e);
		goto out;
	}
	if (S_ISREG(sb.st_mode))
		meta_move(fpfd, fleaf, tpfd, tleaf);
	(void)fsync(tpfd);
	(void)fsync(fpfd);
	rc = 0;
out:
	if (tpfd != -1)
		close(tpfd);
	close(fpfd);
	return rc;
}

static int
p_flush(const struct store *st, struct store_err *e)
{
	if (syncfs(PST(st)->rootfd) == -1)
		return sys_fail(e, "syncfs");
	return 0;
}

/*
 * Walks: a pre-order depth-first descent holding one open directory
 * per level (at most FTX_RPATH_DEPTH_MAX), never the listing.
 */
struct wlevel {
	DIR *d;
	int metafd; /* its sidecars: -2 not opened yet, -1 none */
	size_t plen; /* the length of the path of what it holds */
};

struct pwalk {
	struct store_walk base; /* must be first */
	const struct pstore *p;
	int recursive;
	int all; /* store_usage: names the rules refuse count too */
	size_t top_depth, top_len; /* of the walk's start */
	size_t n; /* levels open */
	struct wlevel lv[FTX_RPATH_DEPTH_MAX];
	/* A walk of a file: its one entry, until given. */
	int single;
	struct store_entry one;
	char path[FTX_RPATH_MAX + 1];
};

static void
level_close(struct wlevel *l)
{
	if (l->metafd >= 0)
		close(l->metafd);
	closedir(l->d);
}

static void
p_walk_close(struct store_walk *wp)
{
	struct pwalk *w = (struct pwalk *)wp;

	while (w->n > 0)
		level_close(&w->lv[--w->n]);
	free(w);
}

/* Push the directory `fd` (taken) as the next level. */
static int
level_push(struct pwalk *w, int fd)
{
	struct wlevel *l = &w->lv[w->n];

	if ((l->d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	l->metafd = -2;
	l->plen = strlen(w->path);
	w->n++;
	return 0;
}

/* The walk of a file: its one entry, under its base name. */
static int
walk_single(struct pwalk *w, int pfd, const char *leaf, const struct stat *sb)
{
	int mfd = meta_dir(pfd, 0);

	(void)str_copy(w->path, sizeof(w->path), leaf);
	(void)entry_of(&w->one, sb, mfd, leaf);
	if (mfd != -1)
		close(mfd);
	w->one.name = w->path;
	w->single = 1;
	return 0;
}

/* Open the walk's start, a directory or a file, beneath the area. */
static int
walk_start(struct pwalk *w, const char *path, struct store_err *e)
{
	const char *leaf;
	struct stat sb;
	int pfd, fd, rc = -1;

	if (path[0] == '\0') {
		fd = openat(
		    w->p->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd == -1 || level_push(w, fd) == -1)
			return sys_fail(e, "opendir");
		return 0;
	}
	if ((pfd = parent_of(w->p, path, 0, &leaf, e)) == -1)
		return -1;
	if (fstatat(pfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		sys_fail(e, "stat");
		goto out;
	}
	if (S_ISREG(sb.st_mode)) {
		rc = walk_single(w, pfd, leaf, &sb);
		goto out;
	}
	/* SECURITY: a link is not walked (nor a FIFO opened). */
	if (!S_ISDIR(sb.st_mode)) {
		store_fail(e, STORE_NOTFOUND, "no such file or directory");
		goto out;
	}
	fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || level_push(w, fd) == -1) {
		sys_fail(e, "opendir");
		goto out;
	}
	rc = 0;
out:
	close(pfd);
	return rc;
}

static int
walk_open(const struct pstore *p, const char *path, int recursive, int all,
    struct pwalk **wp, struct store_err *e)
{
	struct pwalk *w;

	*wp = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		store_fail(e, STORE_IO, "out of memory");
		return -1;
	}
	w->base.st = &p->base;
	w->p = p;
	w->recursive = recursive;
	w->all = all;
	w->top_depth = path_depth(path);
	w->top_len = strlen(path);
	if (walk_start(w, path, e) == -1) {
		p_walk_close(&w->base);
		return -1;
	}
	*wp = w;
	return 0;
}

static int
p_walk_open(const struct store *st, const char *path, int recursive,
    struct store_walk **wp, struct store_err *e)
{
	struct pwalk *w;

	if (walk_open(PST(st), path, recursive, 0, &w, e) == -1)
		return -1;
	*wp = &w->base;
	return 0;
}

/*
 * `name` appended to the path of level l's entries: 0, or -1 if the
 * entry is left out, its path (from the area's top) being longer or
 * deeper than a path may be, so that no client could name it.
 */
static int
walk_append(struct pwalk *w, const struct wlevel *l, const char *name)
{
	size_t nl = strlen(name), need;

	need = l->plen + (l->plen > 0 ? 1 : 0) + nl;
	if (w->top_depth + w->n > FTX_RPATH_DEPTH_MAX ||
	    (w->top_len > 0 ? w->top_len + 1 : 0) + need > FTX_RPATH_MAX ||
	    need >= sizeof(w->path))
		return -1;
	if (l->plen > 0)
		w->path[l->plen] = '/';
	memcpy(w->path + need - nl, name, nl + 1);
	return 0;
}

/*
 * Whether the entry `name` is shown: never a dot name (ours: sidecars,
 * partials, users' areas, temporaries); nor, unless the walk counts
 * everything, a name the rules refuse, which no client could name.
 */
static int
walk_wanted(const struct pwalk *w, const char *name)
{
	if (name[0] == '.')
		return 0;
	return w->all || proto_name_check(name, NULL, 0) == 0;
}

/*
 * Go down into the directory `name` of level l, when the walk is
 * recursive and its entries are not too deep: 0 (1 if it went down),
 * -1 if the directory went away or turned into something else meanwhile
 * (the entry is skipped), -2 on an error (the walk fails: a listing
 * silently short would have a sync delete what it missed).
 */
static int
walk_down(struct pwalk *w, struct wlevel *l, const char *name)
{
	int fd;

	if (!w->recursive || w->top_depth + w->n >= FTX_RPATH_DEPTH_MAX ||
	    w->n >= FTX_RPATH_DEPTH_MAX)
		return 0;
	/* SECURITY: opened without following a link: one swapped in since
	 * the fstatat is refused, not walked. */
	fd = openat(
	    dirfd(l->d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT || errno == ELOOP || errno == ENOTDIR
		    ? -1
		    : -2;
	return level_push(w, fd) == -1 ? -2 : 1;
}

/* The next entry of level l: 1 (out filled), 0 (none shown: try the
 * next), -1 on an error. */
static int
walk_entry(struct pwalk *w, struct wlevel *l, const char *name,
    struct store_entry *out, struct store_err *e)
{
	struct stat sb;
	int r;

	if (!walk_wanted(w, name))
		return 0;
	if (fstatat(dirfd(l->d), name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : sys_fail(e, "stat");
	if ((!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode)) ||
	    walk_append(w, l, name) == -1)
		return 0;
	/* Hashes for a listing; store_usage needs sizes alone. */
	if (S_ISREG(sb.st_mode) && l->metafd == -2)
		l->metafd = w->all ? -1 : meta_dir(dirfd(l->d), 0);
	(void)entry_of(out, &sb, S_ISREG(sb.st_mode) ? l->metafd : -1, name);
	if (S_ISDIR(sb.st_mode)) {
		/* l may move no more (a fixed array), but look no further. */
		if ((r = walk_down(w, l, name)) == -1)
			return 0;
		if (r == -2)
			return sys_fail(e, "opendir");
	}
	out->name = w->path;
	return 1;
}

static int
p_walk_next(struct store_walk *wp, struct store_entry *out, struct store_err *e)
{
	struct pwalk *w = (struct pwalk *)wp;
	struct wlevel *l;
	struct dirent *de;
	int r;

	if (w->single) {
		w->single = 0;
		*out = w->one;
		return 1;
	}
	while (w->n > 0) {
		l = &w->lv[w->n - 1];
		w->path[l->plen] = '\0';
		errno = 0;
		if ((de = readdir(l->d)) == NULL) {
			/* A directory removed while we walk it ends. */
			if (errno != 0 && errno != ENOENT)
				return sys_fail(e, "readdir");
			level_close(l);
			w->n--;
			continue;
		}
		if ((r = walk_entry(w, l, de->d_name, out, e)) != 0)
			return r;
	}
	return 0;
}

static int
p_usage(const struct store *st, const char *except, uint64_t *bytes,
    struct store_err *e)
{
	struct store_entry ent;
	struct pwalk *w;
	int r;

	*bytes = 0;
	/* Every file counts, also under a name the rules refuse. */
	if (walk_open(PST(st), "", 1, 1, &w, e) == -1)
		return -1;
	while ((r = p_walk_next(&w->base, &ent, e)) == 1)
		if (!ent.is_dir &&
		    (except == NULL || strcmp(ent.name, except) != 0))
			*bytes += ent.size;
	p_walk_close(&w->base);
	return r;
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
    .lookup = p_lookup,
    .mkdir = p_mkdir,
    .rmdir = p_rmdir,
    .rename = p_rename,
    .walk_open = p_walk_open,
    .walk_next = p_walk_next,
    .walk_close = p_walk_close,
    .flush = p_flush,
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

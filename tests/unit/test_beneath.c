/*
 * test_beneath.c - unit tests for shared/beneath.c: opening paths
 * beneath a directory with symbolic links planted at every level.
 * Every test runs twice: with openat2 (skipped where the kernel or a
 * seccomp filter refuses it) and with the component walk forced.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "beneath.h"
#include "ftx_limits.h"
#include "str.h"

enum mode { MODE_OPENAT2, MODE_WALK };
static const enum mode mode_openat2 = MODE_OPENAT2;
static const enum mode mode_walk = MODE_WALK;

struct fx {
	char root[64]; /* root/d/e/f is a file "ok" */
	char out[64]; /* outside the root: out/secret */
	int rootfd;
	enum mode mode;
};

static void
put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* A path under the root (or outside it) as a string, in a buffer the
 * next call reuses. */
static const char *
at(const char *dir, const char *rel)
{
	static char buf[256];

	assert_int_equal(str_fmt(buf, sizeof(buf), "%s/%s", dir, rel), 0);
	return buf;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->mode = *(const enum mode *)*state;
	str_copy(f->root, sizeof(f->root), "/tmp/ftx-beneath-XXXXXX");
	str_copy(f->out, sizeof(f->out), "/tmp/ftx-beneath-out-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	assert_non_null(mkdtemp(f->out));
	assert_int_equal(mkdir(at(f->root, "d"), 0755), 0);
	assert_int_equal(mkdir(at(f->root, "d/e"), 0755), 0);
	put(at(f->root, "d/e/f"), "ok");
	put(at(f->root, "top"), "top");
	put(at(f->out, "secret"), "secret");
	f->rootfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->rootfd >= 0);
	beneath_force_walk(f->mode == MODE_WALK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	beneath_force_walk(0);
	close(f->rootfd);
	str_fmt(cmd, sizeof(cmd), "rm -rf '%s' '%s'", f->root, f->out);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The fixture, and the openat2 run skipped where openat2 is missing. */
static struct fx *
fx(void **state)
{
	struct fx *f = *state;

	if (f->mode == MODE_OPENAT2 && !beneath_uses_openat2())
		skip();
	assert_int_equal(beneath_uses_openat2(), f->mode == MODE_OPENAT2);
	return f;
}

/* beneath_open must fail with errno `want` and a reason. */
static void
refused(struct fx *f, const char *path, int flags, int want)
{
	char err[FTX_ERRLEN];
	int fd;

	err[0] = '\0';
	errno = 0;
	fd = beneath_open(f->rootfd, path, flags, 0600, err, sizeof(err));
	if (fd != -1) {
		close(fd);
		fail_msg("\"%s\" opened", path);
	}
	if (errno != want)
		fail_msg("\"%s\": errno %d (%s), want %d (%s)", path, errno,
		    strerror(errno), want, strerror(want));
	assert_true(err[0] != '\0');
}

static void
plant(const char *target, const char *link)
{
	assert_int_equal(symlink(target, link), 0);
}

static void
test_open_nested(void **state)
{
	struct fx *f = fx(state);
	char buf[8], err[FTX_ERRLEN];
	ssize_t n;
	int fd;

	fd = beneath_open(f->rootfd, "d/e/f", O_RDONLY, 0, err, sizeof(err));
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "ok", 2);
	/* O_CLOEXEC is always set. */
	assert_true((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	close(fd);
	fd = beneath_open(f->rootfd, "top", O_RDONLY, 0, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	fd = beneath_open(
	    f->rootfd, "d/e", O_RDONLY | O_DIRECTORY, 0, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	/* A caller's O_NOFOLLOW changes nothing. */
	fd = beneath_open(
	    f->rootfd, "d/e/f", O_RDONLY | O_NOFOLLOW, 0, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
}

/* root/a -> the outside directory: refused at the first level. */
static void
test_symlink_top(void **state)
{
	struct fx *f = fx(state);

	plant(f->out, at(f->root, "a"));
	refused(f, "a/secret", O_RDONLY, ELOOP);
	refused(f, "a", O_RDONLY | O_DIRECTORY, ELOOP);
	plant("/tmp", at(f->root, "tmp"));
	refused(f, "tmp", O_RDONLY, ELOOP);
}

/* root/d/up -> "..", root/d/e/b -> "..": refused in the middle, even
 * though they stay inside the root. */
static void
test_symlink_middle(void **state)
{
	struct fx *f = fx(state);

	plant("..", at(f->root, "d/up"));
	plant("..", at(f->root, "d/e/b"));
	refused(f, "d/up/d/e/f", O_RDONLY, ELOOP);
	refused(f, "d/up/top", O_RDONLY, ELOOP);
	refused(f, "d/e/b/e/f", O_RDONLY, ELOOP);
	refused(f, "d/e/b", O_RDONLY | O_DIRECTORY, ELOOP);
}

/* A link as the last component, to a file or a directory, out of the
 * root or into it: refused for every kind of open. */
static void
test_symlink_leaf(void **state)
{
	struct fx *f = fx(state);

	plant("/etc/passwd", at(f->root, "d/pw"));
	plant("/etc/passwd", at(f->root, "pw"));
	plant(f->out, at(f->root, "d/e/outdir"));
	plant("f", at(f->root, "d/e/inside"));
	refused(f, "d/pw", O_RDONLY, ELOOP);
	refused(f, "pw", O_RDONLY, ELOOP);
	refused(f, "d/pw", O_WRONLY | O_TRUNC, ELOOP);
	refused(f, "d/e/outdir", O_RDONLY | O_DIRECTORY, ELOOP);
	refused(f, "d/e/outdir", O_RDONLY, ELOOP);
	refused(f, "d/e/inside", O_RDONLY, ELOOP);
	refused(f, "d/e/inside", O_PATH, ELOOP);
	refused(f, "d/pw", O_PATH | O_NOFOLLOW, ELOOP);
	/* /etc/passwd is untouched by the O_TRUNC attempt. */
	assert_int_equal(access("/etc/passwd", F_OK), 0);
}

/* root/in -> "d" (a directory inside the root): still refused. */
static void
test_symlink_inside_root(void **state)
{
	struct fx *f = fx(state);
	char target[128];

	plant("d", at(f->root, "in"));
	str_copy(target, sizeof(target), at(f->root, "d"));
	plant(target, at(f->root, "abs"));
	refused(f, "in/e/f", O_RDONLY, ELOOP);
	refused(f, "abs/e/f", O_RDONLY, ELOOP);
	refused(f, "in", O_RDONLY | O_DIRECTORY, ELOOP);
}

/* O_CREAT through a linked parent, or onto a dangling leaf link, makes
 * nothing outside. */
static void
test_create_through_symlink(void **state)
{
	struct fx *f = fx(state);
	char target[128];

	plant(f->out, at(f->root, "a"));
	refused(f, "a/new", O_WRONLY | O_CREAT | O_EXCL, ELOOP);
	refused(f, "a/new", O_WRONLY | O_CREAT, ELOOP);
	assert_int_equal(access(at(f->out, "new"), F_OK), -1);
	str_copy(target, sizeof(target), at(f->out, "made"));
	plant(target, at(f->root, "d/dangling"));
	refused(f, "d/dangling", O_WRONLY | O_CREAT, ELOOP);
	refused(f, "d/dangling", O_WRONLY | O_CREAT | O_EXCL, EEXIST);
	assert_int_equal(access(target, F_OK), -1);
}

static void
test_missing_and_not_dir(void **state)
{
	struct fx *f = fx(state);

	refused(f, "nope/x", O_RDONLY, ENOENT);
	refused(f, "nope/x", O_WRONLY | O_CREAT, ENOENT);
	refused(f, "d/nope/x", O_RDONLY, ENOENT);
	refused(f, "d/e/nope", O_RDONLY, ENOENT);
	refused(f, "d/e/f/x", O_RDONLY, ENOTDIR);
	refused(f, "top/x", O_WRONLY | O_CREAT, ENOTDIR);
	refused(f, "d/e/f", O_RDONLY | O_DIRECTORY, ENOTDIR);
	refused(f, "d/e/f", O_WRONLY | O_CREAT | O_EXCL, EEXIST);
	assert_int_equal(access(at(f->root, "nope"), F_OK), -1);
}

/* Paths of the wrong shape never reach the file system. */
static void
test_bad_shape(void **state)
{
	struct fx *f = fx(state);
	const char *leaf = "x";
	char err[FTX_ERRLEN];

	refused(f, "..", O_RDONLY, EINVAL);
	refused(f, ".", O_RDONLY | O_DIRECTORY, EINVAL);
	refused(f, "../x", O_RDONLY, EINVAL);
	refused(f, "d/../top", O_RDONLY, EINVAL);
	refused(f, "d/./e/f", O_RDONLY, EINVAL);
	refused(f, "/etc/passwd", O_RDONLY, EINVAL);
	refused(f, "d//e/f", O_RDONLY, EINVAL);
	refused(f, "d/e/", O_RDONLY | O_DIRECTORY, EINVAL);
	refused(f, "", O_RDONLY, EINVAL);
	errno = 0;
	assert_int_equal(beneath_opendir_parent(f->rootfd, "d/../x", 1, 0700,
			     &leaf, err, sizeof(err)),
	    -1);
	assert_int_equal(errno, EINVAL);
	assert_null(leaf);
	assert_int_equal(access(at(f->root, "x"), F_OK), -1);
}

/* Creating a leaf beneath: the file lands where it should, with the
 * mode asked for. */
static void
test_create_leaf(void **state)
{
	struct fx *f = fx(state);
	char err[FTX_ERRLEN];
	struct stat sb;
	mode_t um = umask(022);
	int fd;

	fd = beneath_open(f->rootfd, "d/e/new", O_WRONLY | O_CREAT | O_EXCL,
	    0640, err, sizeof(err));
	(void)umask(um);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(at(f->root, "d/e/new"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
}

static void
test_opendir_parent(void **state)
{
	struct fx *f = fx(state);
	const char *leaf;
	char err[FTX_ERRLEN];
	struct stat a, b;
	int pfd;

	pfd = beneath_opendir_parent(
	    f->rootfd, "d/e/f", 0, 0, &leaf, err, sizeof(err));
	assert_true(pfd >= 0);
	assert_string_equal(leaf, "f");
	assert_int_equal(fstatat(pfd, leaf, &a, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(a.st_mode));
	/* A real descriptor: fsync works on it (O_PATH would not). */
	assert_int_equal(fsync(pfd), 0);
	close(pfd);
	/* One component: the root itself, reopened. */
	pfd = beneath_opendir_parent(
	    f->rootfd, "top", 0, 0, &leaf, err, sizeof(err));
	assert_true(pfd >= 0 && pfd != f->rootfd);
	assert_string_equal(leaf, "top");
	assert_int_equal(fstat(pfd, &a), 0);
	assert_int_equal(fstat(f->rootfd, &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(pfd);
	/* The leaf need not exist. */
	pfd = beneath_opendir_parent(
	    f->rootfd, "d/missing", 0, 0, &leaf, err, sizeof(err));
	assert_true(pfd >= 0);
	close(pfd);
	errno = 0;
	assert_int_equal(beneath_opendir_parent(
			     f->rootfd, "x/y/z", 0, 0, &leaf, err, sizeof(err)),
	    -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, strerror(ENOENT)));
	/* The walk knows which component was missing. */
	if (f->mode == MODE_WALK)
		assert_non_null(strstr(err, "path component 1 of 3"));
}

static void
test_opendir_parent_create(void **state)
{
	struct fx *f = fx(state);
	const char *leaf;
	char err[FTX_ERRLEN];
	struct stat sb;
	mode_t um = umask(0);
	int pfd, fd;

	pfd = beneath_opendir_parent(
	    f->rootfd, "x/y/z/leaf", 1, 0700, &leaf, err, sizeof(err));
	(void)umask(um);
	assert_true(pfd >= 0);
	assert_string_equal(leaf, "leaf");
	fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	assert_true(fd >= 0);
	close(fd);
	close(pfd);
	assert_int_equal(stat(at(f->root, "x/y/z/leaf"), &sb), 0);
	assert_int_equal(stat(at(f->root, "x/y"), &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0700);
	/* Existing directories are walked, not remade. */
	pfd = beneath_opendir_parent(
	    f->rootfd, "d/e/g/h", 1, 0755, &leaf, err, sizeof(err));
	assert_true(pfd >= 0);
	close(pfd);
	assert_int_equal(stat(at(f->root, "d/e/g"), &sb), 0);
}

/* Links on the way to a parent are refused, with or without creating,
 * and nothing is made outside. */
static void
test_opendir_parent_symlinks(void **state)
{
	struct fx *f = fx(state);
	const char *leaf;
	char err[FTX_ERRLEN];

	plant(f->out, at(f->root, "a"));
	plant("..", at(f->root, "d/up"));
	plant("e", at(f->root, "d/in"));
	errno = 0;
	assert_int_equal(beneath_opendir_parent(f->rootfd, "a/b/leaf", 1, 0700,
			     &leaf, err, sizeof(err)),
	    -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(access(at(f->out, "b"), F_OK), -1);
	errno = 0;
	assert_int_equal(beneath_opendir_parent(f->rootfd, "a/leaf", 0, 0,
			     &leaf, err, sizeof(err)),
	    -1);
	assert_int_equal(errno, ELOOP);
	errno = 0;
	assert_int_equal(beneath_opendir_parent(f->rootfd, "d/up/x/leaf", 1,
			     0700, &leaf, err, sizeof(err)),
	    -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(access(at(f->root, "x"), F_OK), -1);
	errno = 0;
	assert_int_equal(beneath_opendir_parent(f->rootfd, "d/in/leaf", 0, 0,
			     &leaf, err, sizeof(err)),
	    -1);
	assert_int_equal(errno, ELOOP);
	/* A file where a directory should be. */
	errno = 0;
	assert_int_equal(beneath_opendir_parent(f->rootfd, "d/e/f/leaf", 1,
			     0700, &leaf, err, sizeof(err)),
	    -1);
	assert_int_equal(errno, ENOTDIR);
}

/* FTX_RPATH_DEPTH_MAX directories deep opens; one more is refused
 * before any look-up. */
static void
test_deep(void **state)
{
	struct fx *f = fx(state);
	char path[2 * FTX_RPATH_DEPTH_MAX + 8], err[FTX_ERRLEN];
	const char *leaf;
	size_t i, o = 0;
	int pfd, fd;

	for (i = 0; i < FTX_RPATH_DEPTH_MAX; i++) {
		if (i > 0)
			path[o++] = '/';
		path[o++] = 'q';
	}
	path[o] = '\0';
	pfd = beneath_opendir_parent(
	    f->rootfd, path, 1, 0755, &leaf, err, sizeof(err));
	assert_true(pfd >= 0);
	assert_int_equal(mkdirat(pfd, leaf, 0755), 0);
	close(pfd);
	fd = beneath_open(
	    f->rootfd, path, O_RDONLY | O_DIRECTORY, 0, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	path[o++] = '/';
	path[o++] = 'q';
	path[o] = '\0';
	refused(f, path, O_RDONLY, EINVAL);
}

/* Each test twice, named after the way it opens. */
#define BOTH(t)                                                                \
	{#t " (openat2)", t, setup, teardown, (void *)&mode_openat2},          \
	{                                                                      \
#t " (walk)", t, setup, teardown, (void *)&mode_walk           \
	}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_open_nested),
	    BOTH(test_symlink_top),
	    BOTH(test_symlink_middle),
	    BOTH(test_symlink_leaf),
	    BOTH(test_symlink_inside_root),
	    BOTH(test_create_through_symlink),
	    BOTH(test_missing_and_not_dir),
	    BOTH(test_bad_shape),
	    BOTH(test_create_leaf),
	    BOTH(test_opendir_parent),
	    BOTH(test_opendir_parent_create),
	    BOTH(test_opendir_parent_symlinks),
	    BOTH(test_deep),
	};

	fprintf(stderr, "beneath: openat2 %s here\n",
	    beneath_uses_openat2() ? "works" : "is not available");
	return cmocka_run_group_tests(tests, NULL, NULL);
}

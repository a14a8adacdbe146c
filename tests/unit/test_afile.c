/*
 * test_afile.c - shared/afile.c: writing a small file atomically.
 *
 * Every test looks at the directory afterwards: the content and mode of
 * the file, and that no temporary is left, after a success or a failure.
 * The names of temporaries are random; test_planted_tmp makes the first
 * one predictable by standing in for getrandom(2), so it can plant a
 * symlink and a hard link there first.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "afile.h"
#include "ftx_limits.h"
#include "str.h"

/* getrandom(2) calls still to answer with zeros, and calls seen. */
static int zero_rnd;
static int rnd_calls;

/* Stands in for libc's: afile's temporary names come from here. */
ssize_t
getrandom(void *buf, size_t n, unsigned int flags)
{
	rnd_calls++;
	if (zero_rnd > 0) {
		zero_rnd--;
		memset(buf, 0, n);
		return (ssize_t)n;
	}
	return syscall(SYS_getrandom, buf, n, flags);
}

struct fx {
	char dir[64]; /* from mkdtemp, removed in teardown */
	char outside[64]; /* a victim file outside dir */
	int dfd;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fd;

	assert_non_null(f);
	assert_int_equal(
	    str_copy(f->dir, sizeof(f->dir), "/tmp/ftx-afile-XXXXXX"), 0);
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(
	    str_copy(f->outside, sizeof(f->outside), "/tmp/ftx-victim-XXXXXX"),
	    0);
	fd = mkstemp(f->outside);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "victim", 6), 6);
	close(fd);
	f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->dfd >= 0);
	zero_rnd = 0;
	*state = f;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		(void)chmod(path, 0700);
	return remove(path) == -1 ? -1 : 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	(void)chmod(f->dir, 0700);
	close(f->dfd);
	(void)nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	(void)unlink(f->outside);
	free(f);
	return 0;
}

/* Entries of the directory other than . and .., and how many of them
 * look like temporaries. */
static int
entries(const struct fx *f, int *tmps)
{
	DIR *d = opendir(f->dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	*tmps = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		if (strstr(e->d_name, ".tmp-") != NULL)
			(*tmps)++;
	}
	closedir(d);
	return n;
}

static void
assert_no_tmp(const struct fx *f)
{
	int tmps;

	(void)entries(f, &tmps);
	assert_int_equal(tmps, 0);
}

/* The content of dir/name, NUL-terminated, in buf[n]. */
static const char *
slurp(const struct fx *f, const char *name, char *buf, size_t n)
{
	ssize_t got;
	int fd = openat(f->dfd, name, O_RDONLY | O_NOFOLLOW);

	assert_true(fd >= 0);
	got = read(fd, buf, n - 1);
	assert_true(got >= 0);
	buf[got] = '\0';
	close(fd);
	return buf;
}

/* The file outside the directory still holds "victim". */
static void
assert_victim(const struct fx *f)
{
	char buf[16];
	ssize_t got;
	int fd = open(f->outside, O_RDONLY);

	assert_true(fd >= 0);
	got = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(got, 6);
	assert_memory_equal(buf, "victim", 6);
}

static mode_t
mode_of(const struct fx *f, const char *name)
{
	struct stat st;

	assert_int_equal(fstatat(f->dfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_mode;
}

static void
put_file(const struct fx *f, const char *name, const char *text)
{
	int fd = openat(f->dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
test_content_and_mode(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], buf[64];
	int tmps;

	/* The umask narrows a mode... */
	umask(027);
	assert_int_equal(
	    afile_put(f->dfd, "a", "hello\n", 6, 0666, 0, err, sizeof(err)), 0);
	assert_string_equal(slurp(f, "a", buf, sizeof(buf)), "hello\n");
	assert_int_equal(mode_of(f, "a") & 07777, 0640);
	/* ...unless the mode must be exact. */
	umask(077);
	assert_int_equal(afile_put(f->dfd, "b", "x", 1, 0640, AFILE_EXACT_MODE,
			     err, sizeof(err)),
	    0);
	assert_int_equal(mode_of(f, "b") & 07777, 0640);
	assert_true(S_ISREG(mode_of(f, "b")));
	umask(022);
	/* An empty file, and one without fsync. */
	assert_int_equal(
	    afile_put(f->dfd, "c", "", 0, 0600, 0, err, sizeof(err)), 0);
	assert_string_equal(slurp(f, "c", buf, sizeof(buf)), "");
	assert_int_equal(afile_put(f->dfd, "d", "nosync", 6, 0600, AFILE_NOSYNC,
			     err, sizeof(err)),
	    0);
	assert_string_equal(slurp(f, "d", buf, sizeof(buf)), "nosync");
	assert_int_equal(entries(f, &tmps), 4);
	assert_int_equal(tmps, 0);
}

static void
test_pieces_and_replace(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], buf[64];
	struct stat before, after;
	struct afile a;
	int old, tmps;

	put_file(f, "t", "old content");
	assert_int_equal(fstatat(f->dfd, "t", &before, 0), 0);
	old = openat(f->dfd, "t", O_RDONLY);
	assert_true(old >= 0);

	assert_int_equal(
	    afile_open(&a, f->dfd, "t", 0600, 0, err, sizeof(err)), 0);
	assert_int_equal(afile_write(&a, "new ", 4, err, sizeof(err)), 0);
	assert_int_equal(afile_write(&a, "content", 7, err, sizeof(err)), 0);
	/* Until the commit, readers see the old file, and the temporary
	 * is hidden. */
	assert_string_equal(slurp(f, "t", buf, sizeof(buf)), "old content");
	assert_int_equal(entries(f, &tmps), 2);
	assert_int_equal(tmps, 1);
	assert_int_equal(a.tmp[0], '.');
	assert_int_equal(afile_commit(&a, err, sizeof(err)), 0);

	/* Replaced by rename: a new inode under the name; whoever had the
	 * old one open still reads the old bytes whole. */
	assert_string_equal(slurp(f, "t", buf, sizeof(buf)), "new content");
	assert_int_equal(fstatat(f->dfd, "t", &after, 0), 0);
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(read(old, buf, sizeof(buf) - 1), 11);
	assert_memory_equal(buf, "old content", 11);
	close(old);
	assert_int_equal(entries(f, &tmps), 1);
	assert_int_equal(tmps, 0);

	/* Abort: the temporary goes, the file stays. */
	assert_int_equal(
	    afile_open(&a, f->dfd, "t", 0600, 0, err, sizeof(err)), 0);
	assert_int_equal(afile_write(&a, "junk", 4, err, sizeof(err)), 0);
	errno = ENOSPC;
	afile_abort(&a);
	assert_int_equal(errno, ENOSPC); /* the caller's cause is kept */
	assert_string_equal(slurp(f, "t", buf, sizeof(buf)), "new content");
	assert_int_equal(entries(f, &tmps), 1);
	assert_int_equal(tmps, 0);
}

static void
test_noreplace(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], buf[64];
	int tmps;

	assert_int_equal(afile_put(f->dfd, "k", "one", 3, 0600, AFILE_NOREPLACE,
			     err, sizeof(err)),
	    0);
	assert_string_equal(slurp(f, "k", buf, sizeof(buf)), "one");

	err[0] = '\0';
	errno = 0;
	assert_int_equal(afile_put(f->dfd, "k", "two", 3, 0600, AFILE_NOREPLACE,
			     err, sizeof(err)),
	    -1);
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(err, "already exists"));
	assert_string_equal(slurp(f, "k", buf, sizeof(buf)), "one");

	/* A dangling symlink counts as existing: not followed, not
	 * replaced. */
	assert_int_equal(symlinkat("/nonexistent/ftx-afile", f->dfd, "s"), 0);
	assert_int_equal(afile_put(f->dfd, "s", "two", 3, 0600, AFILE_NOREPLACE,
			     err, sizeof(err)),
	    -1);
	assert_int_equal(errno, EEXIST);
	assert_true(S_ISLNK(mode_of(f, "s")));
	assert_int_equal(entries(f, &tmps), 2);
	assert_int_equal(tmps, 0);

	/* Without the flag a symlink is replaced, not written through. */
	assert_int_equal(symlinkat(f->outside, f->dfd, "v"), 0);
	assert_int_equal(
	    afile_put(f->dfd, "v", "two", 3, 0600, 0, err, sizeof(err)), 0);
	assert_true(S_ISREG(mode_of(f, "v")));
	assert_string_equal(slurp(f, "v", buf, sizeof(buf)), "two");
	assert_victim(f);
	assert_no_tmp(f);
}

static void
test_failures_leave_nothing(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN];
	int tmps;

	/* A directory in the way: the rename fails, the temporary goes. */
	assert_int_equal(mkdirat(f->dfd, "d", 0700), 0);
	err[0] = '\0';
	errno = 0;
	assert_int_equal(
	    afile_put(f->dfd, "d", "x", 1, 0600, 0, err, sizeof(err)), -1);
	assert_int_equal(errno, EISDIR);
	assert_non_null(strstr(err, "d"));
	assert_true(S_ISDIR(mode_of(f, "d")));
	assert_int_equal(entries(f, &tmps), 1);
	assert_int_equal(tmps, 0);
	assert_int_equal(afile_put(f->dfd, "d", "x", 1, 0600, AFILE_NOREPLACE,
			     err, sizeof(err)),
	    -1);
	assert_int_equal(errno, EEXIST);
	assert_no_tmp(f);

	/* A directory we cannot write into (root can, so only as a user). */
	if (geteuid() != 0) {
		assert_int_equal(chmod(f->dir, 0500), 0);
		errno = 0;
		assert_int_equal(
		    afile_put(f->dfd, "x", "x", 1, 0600, 0, err, sizeof(err)),
		    -1);
		assert_int_equal(errno, EACCES);
		assert_non_null(strstr(err, "x"));
		assert_int_equal(chmod(f->dir, 0700), 0);
		assert_int_equal(entries(f, &tmps), 1);
		assert_int_equal(tmps, 0);
	}

	/* A descriptor that is not a directory. */
	assert_int_equal(
	    afile_put(-1, "x", "x", 1, 0600, 0, err, sizeof(err)), -1);
	assert_int_equal(errno, EBADF);
}

static void
test_planted_tmp(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], buf[64];
	const char *first = ".t.tmp-000000000000";
	int calls, tmps;

	/* A symlink where the first temporary would go: not followed
	 * (the victim outside is untouched), not removed, and another
	 * name is used. */
	assert_int_equal(symlinkat(f->outside, f->dfd, first), 0);
	zero_rnd = 1;
	calls = rnd_calls;
	assert_int_equal(
	    afile_put(f->dfd, "t", "mine", 4, 0600, 0, err, sizeof(err)), 0);
	assert_int_equal(rnd_calls - calls, 2); /* the stand-in was used */
	assert_string_equal(slurp(f, "t", buf, sizeof(buf)), "mine");
	assert_true(S_ISLNK(mode_of(f, first)));
	assert_int_equal(unlinkat(f->dfd, first, 0), 0);
	assert_victim(f);

	/* A hard link to the victim there (a root ftxd must not truncate
	 * it): the same. */
	assert_int_equal(linkat(AT_FDCWD, f->outside, f->dfd, first, 0), 0);
	zero_rnd = 1;
	assert_int_equal(
	    afile_put(f->dfd, "t", "again", 5, 0600, 0, err, sizeof(err)), 0);
	assert_string_equal(slurp(f, "t", buf, sizeof(buf)), "again");
	assert_string_equal(slurp(f, first, buf, sizeof(buf)), "victim");
	assert_int_equal(unlinkat(f->dfd, first, 0), 0);
	assert_victim(f);

	/* Every name taken: a failure, and nothing of ours left. */
	assert_int_equal(symlinkat(f->outside, f->dfd, first), 0);
	zero_rnd = 100;
	errno = 0;
	assert_int_equal(
	    afile_put(f->dfd, "t", "lost", 4, 0600, 0, err, sizeof(err)), -1);
	zero_rnd = 0;
	assert_int_equal(errno, EEXIST);
	assert_string_equal(slurp(f, "t", buf, sizeof(buf)), "again");
	assert_int_equal(entries(f, &tmps), 2);
	assert_int_equal(tmps, 1); /* the planted one */
	assert_victim(f);
}

static void
test_names(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], buf[64], name[NAME_MAX + 2];
	int tmps;

	assert_int_equal(
	    afile_put(f->dfd, "", "x", 1, 0600, 0, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(
	    afile_put(f->dfd, "a/b", "x", 1, 0600, 0, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(
	    afile_put(f->dfd, "..", "x", 1, 0600, 0, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	memset(name, 'n', NAME_MAX + 1);
	name[NAME_MAX + 1] = '\0';
	assert_int_equal(
	    afile_put(f->dfd, name, "x", 1, 0600, 0, err, sizeof(err)), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(entries(f, &tmps), 0);

	/* The longest name works: its temporary is cut to fit. */
	name[NAME_MAX] = '\0';
	assert_int_equal(
	    afile_put(f->dfd, name, "long", 4, 0600, 0, err, sizeof(err)), 0);
	assert_string_equal(slurp(f, name, buf, sizeof(buf)), "long");
	/* A hidden name stays hidden without a second dot. */
	assert_int_equal(
	    afile_put(f->dfd, ".h.info", "h", 1, 0600, 0, err, sizeof(err)), 0);
	assert_int_equal(entries(f, &tmps), 2);
	assert_int_equal(tmps, 0);
}

static void
test_paths(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], buf[64], path[128], base[NAME_MAX + 1], cwd[512];
	int dfd, tmps;

	assert_int_equal(str_fmt(path, sizeof(path), "%s/p", f->dir), 0);
	assert_int_equal(
	    afile_put_path(path, "abs", 3, 0600, 0, err, sizeof(err)), 0);
	assert_string_equal(slurp(f, "p", buf, sizeof(buf)), "abs");

	/* No '/': the current directory. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(
	    afile_put_path("q", "rel", 3, 0600, 0, err, sizeof(err)), 0);
	dfd = afile_parent("q", base, sizeof(base), err, sizeof(err));
	assert_true(dfd >= 0);
	assert_string_equal(base, "q");
	close(dfd);
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(slurp(f, "q", buf, sizeof(buf)), "rel");

	/* A path that names a directory, or a missing directory. */
	assert_int_equal(str_fmt(path, sizeof(path), "%s/", f->dir), 0);
	assert_int_equal(
	    afile_put_path(path, "x", 1, 0600, 0, err, sizeof(err)), -1);
	assert_int_equal(str_fmt(path, sizeof(path), "%s/no/x", f->dir), 0);
	errno = 0;
	assert_int_equal(
	    afile_put_path(path, "x", 1, 0600, 0, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "/no"));
	assert_int_equal(entries(f, &tmps), 2);
	assert_int_equal(tmps, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_content_and_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_pieces_and_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_noreplace, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_failures_leave_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_planted_tmp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

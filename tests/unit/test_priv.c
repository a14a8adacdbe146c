/*
 * test_priv.c - unit tests for the privilege drop (ftxd/priv.c).
 *
 * Dropping privileges cannot be undone, so every call that might succeed
 * runs in a forked child; the child reports each failed check by a
 * distinct exit status, which the parent turns into a message.  The drop
 * tests need root and are skipped with a message otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ftx_limits.h"
#include "priv.h"

/* The unprivileged account every Linux system has. */
#define DROP_USER "nobody"
/* A second ordinary account, to try a switch that must fail. */
#define OTHER_USER "daemon"
#define NO_SUCH_USER "ftx-no-such-user-4711"

static int
skip_unless_root(void)
{
	if (geteuid() == 0)
		return 0;
	print_message("  SKIPPED: not root, privilege drop not testable\n");
	return -1;
}

/* Run child() in a forked process; return its exit status (or 128 +
 * signal). */
static int
run_child(int (*child)(void *), void *arg)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(child(arg));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
test_is_root(void **state)
{
	assert_int_equal(priv_is_root(), getuid() == 0 || geteuid() == 0);
}

/* Bad names fail cleanly, before any id changes: the process keeps its
 * ids (so these run in the test process itself). */
static void
test_bad_user(void **state)
{
	char err[FTX_ERRLEN];
	uid_t uid = getuid(), euid = geteuid();

	err[0] = '\0';
	assert_int_equal(priv_drop(NO_SUCH_USER, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no such user"));
	assert_non_null(strstr(err, NO_SUCH_USER));
	err[0] = '\0';
	assert_int_equal(priv_drop("", err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	err[0] = '\0';
	assert_int_equal(priv_drop(NULL, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	/* A NULL error buffer is allowed. */
	assert_int_equal(priv_drop(NO_SUCH_USER, NULL, 0), -1);
	assert_int_equal(getuid(), uid);
	assert_int_equal(geteuid(), euid);
}

/* Dropping "to root" is refused, and leaves the child as it was. */
static int
child_root_target(void *arg)
{
	char err[FTX_ERRLEN];
	uid_t uid = getuid();

	(void)arg;
	err[0] = '\0';
	if (priv_drop("root", err, sizeof(err)) != -1)
		return 1;
	if (strstr(err, "uid 0") == NULL)
		return 2;
	if (getuid() != uid || geteuid() != uid)
		return 3;
	return 0;
}

static void
test_root_target(void **state)
{
	assert_int_equal(run_child(child_root_target, NULL), 0);
}

struct drop_files {
	char secret[256]; /* root-owned, mode 0600 */
	char open[256]; /* root-owned, mode 0644: the positive control */
};

static const char *const drop_why[] = {
    [1] = "priv_drop(nobody) failed",
    [2] = "real/effective/saved uid is not nobody's",
    [3] = "real/effective/saved gid is not nobody's",
    [4] = "setuid(0) succeeded after the drop",
    [5] = "seteuid(0) succeeded after the drop",
    [6] = "setgid(0)/setegid(0) succeeded after the drop",
    [7] = "group 0 is still among the supplementary groups",
    [8] = "the root-only 0600 file could be opened for reading",
    [9] = "the root-only 0600 file could be opened for writing",
    [10] = "a world-readable file could not be opened (the test is broken)",
    [11] = "switching on to another user succeeded without root",
    [12] = "priv_drop to the user we already are failed",
    [13] = "priv_is_root() still says root",
    [14] = "getpwnam(nobody) failed in the child",
    [15] = "setgroups() before the drop failed (the test is broken)",
    [16] = "no_new_privs is not set after the drop",
};

static int
child_drop(void *arg)
{
	const struct drop_files *f = arg;
	char err[FTX_ERRLEN];
	struct passwd *pw;
	uid_t ru, eu, su, uid;
	gid_t rg, eg, sg, gid, groups[256];
	int n, i, fd;

	pw = getpwnam(DROP_USER);
	if (pw == NULL)
		return 14;
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	/* Start like a root shell with supplementary groups (root's own
	 * and "adm"), so a drop that forgets them is caught below. */
	groups[0] = 0;
	groups[1] = 4;
	if (setgroups(2, groups) != 0)
		return 15;
	if (priv_drop(DROP_USER, err, sizeof(err)) != 0) {
		fprintf(stderr, "  priv_drop: %s\n", err);
		return 1;
	}
	if (getresuid(&ru, &eu, &su) != 0 || ru != uid || eu != uid ||
	    su != uid)
		return 2;
	if (getresgid(&rg, &eg, &sg) != 0 || rg != gid || eg != gid ||
	    sg != gid)
		return 3;
	if (setuid(0) != -1 || errno != EPERM)
		return 4;
	if (seteuid(0) != -1)
		return 5;
	if (setgid(0) != -1 || setegid(0) != -1)
		return 6;
	n = getgroups((int)(sizeof(groups) / sizeof(groups[0])), groups);
	for (i = 0; i < n; i++)
		if (groups[i] == 0 || groups[i] == 4)
			return 7;
	fd = open(f->secret, O_RDONLY);
	if (fd != -1 || errno != EACCES)
		return 8;
	fd = open(f->secret, O_WRONLY);
	if (fd != -1 || errno != EACCES)
		return 9;
	fd = open(f->open, O_RDONLY);
	if (fd == -1)
		return 10;
	close(fd);
	if (priv_drop(OTHER_USER, err, sizeof(err)) != -1)
		return 11;
	if (priv_drop(DROP_USER, err, sizeof(err)) != 0) {
		fprintf(stderr, "  priv_drop again: %s\n", err);
		return 12;
	}
	if (priv_is_root())
		return 13;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L) != 1)
		return 16;
	return 0;
}

/* Runs unprivileged too: a process already running as its --user (the
 * systemd User= case, or a test as an ordinary user) gets no_new_privs
 * from priv_drop.  As root, the child first becomes nobody by hand. */
static int
child_nnp(void *arg)
{
	char err[FTX_ERRLEN];
	struct passwd *pw;
	const char *name;

	(void)arg;
	if (geteuid() == 0) {
		if ((pw = getpwnam(DROP_USER)) == NULL)
			return 1;
		name = DROP_USER;
		if (setgroups(0, NULL) != 0 ||
		    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
			return 2;
	} else {
		if ((pw = getpwuid(getuid())) == NULL)
			return 1;
		name = pw->pw_name;
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L) != 0)
		return 3; /* already set: the test could not fail */
	if (priv_drop(name, err, sizeof(err)) != 0) {
		fprintf(stderr, "  priv_drop(%s): %s\n", name, err);
		/* An ordinary user in group 0, or a mismatched primary
		 * group: nothing to test here. */
		return 77;
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L) != 1)
		return 4;
	return 0;
}

static void
test_no_new_privs(void **state)
{
	int st;

	if (geteuid() == 0 && getpwnam(DROP_USER) == NULL) {
		print_message("  SKIPPED: no user %s here\n", DROP_USER);
		skip();
		return;
	}
	st = run_child(child_nnp, NULL);
	if (st == 77) {
		print_message("  SKIPPED: this user cannot be a --user\n");
		skip();
		return;
	}
	assert_int_equal(st, 0);
}

static int
make_file(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);

	if (fd == -1)
		return -1;
	if (write(fd, "secret\n", 7) != 7 || fchmod(fd, mode) == -1) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* As root: a child drops to nobody, cannot regain root by any set*id
 * call and cannot read or write a root-only 0600 file, while it can read
 * a world-readable file in the same directory. */
static void
test_drop_nobody(void **state)
{
	char dir[] = "/tmp/ftx-priv-XXXXXX";
	struct drop_files f;
	int st;

	if (skip_unless_root() == -1) {
		skip();
		return;
	}
	if (getpwnam(DROP_USER) == NULL) {
		print_message("  SKIPPED: no user %s here\n", DROP_USER);
		skip();
		return;
	}
	assert_non_null(mkdtemp(dir));
	/* The directory is searchable by all, so only the file's own mode
	 * stands between nobody and the secret. */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(snprintf(f.secret, sizeof(f.secret), "%s/secret",
			     dir) < (int)sizeof(f.secret),
	    1);
	assert_int_equal(snprintf(f.open, sizeof(f.open), "%s/open", dir) <
		(int)sizeof(f.open),
	    1);
	assert_int_equal(make_file(f.secret, 0600), 0);
	assert_int_equal(make_file(f.open, 0644), 0);

	st = run_child(child_drop, &f);

	unlink(f.secret);
	unlink(f.open);
	rmdir(dir);
	if (st != 0)
		fail_msg("child that dropped to %s: %s (status %d)", DROP_USER,
		    st > 0 &&
			    st <
				(int)(sizeof(drop_why) / sizeof(drop_why[0])) &&
			    drop_why[st] != NULL
			? drop_why[st]
			: "crashed",
		    st);
	/* The parent is untouched. */
	assert_int_equal(geteuid(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_is_root),
	    cmocka_unit_test(test_bad_user),
	    cmocka_unit_test(test_root_target),
	    cmocka_unit_test(test_drop_nobody),
	    cmocka_unit_test(test_no_new_privs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

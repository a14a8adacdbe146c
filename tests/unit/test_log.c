/*
 * test_log.c - unit tests for ftxd/log.c: the escaping of network text
 * in log lines, and the checked opening of log files (no symlink, hard
 * link, FIFO, foreign or group-writable file, no directory on the way
 * that someone else could redirect).  The ownership cases need root and
 * are skipped without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "str.h"

/* The owner the root-only cases hand files and directories to. */
#define OTHER_UID 65534

struct fx {
	char tmp[64]; /* from mkdtemp, removed in teardown */
	char path[256]; /* tmp/ftxd.log */
	char victim[256]; /* tmp/victim */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(
	    str_copy(f->tmp, sizeof(f->tmp), "/tmp/ftx-log-XXXXXX"), 0);
	assert_non_null(mkdtemp(f->tmp));
	assert_int_equal(
	    str_fmt(f->path, sizeof(f->path), "%s/ftxd.log", f->tmp), 0);
	assert_int_equal(
	    str_fmt(f->victim, sizeof(f->victim), "%s/victim", f->tmp), 0);
	log_set_service_user((uid_t)-1, (gid_t)-1);
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

	log_close();
	log_set_service_user((uid_t)-1, (gid_t)-1);
	(void)nftw(f->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* The whole of a small file, NUL-terminated, in a static buffer. */
static const char *
slurp(const char *path)
{
	static char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd != -1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

/* log_open must refuse `path` with a reason containing `why`. */
static void
refused(const char *path, const char *why)
{
	char err[CFG_ERRLEN] = "";

	if (log_open(path, err, sizeof(err)) != -1)
		fail_msg("%s was accepted (want: %s)", path, why);
	if (strstr(err, why) == NULL)
		fail_msg("%s: reason \"%s\" lacks \"%s\"", path, err, why);
}

static void
accepted(const char *path)
{
	char err[CFG_ERRLEN] = "";

	if (log_open(path, err, sizeof(err)) != 0)
		fail_msg("%s refused: %s", path, err);
}

/* ---- escaping ---- */

static void
test_esc(void **state)
{
	char out[LOG_ESC_SIZE(64)], small[8];

	(void)state;
	assert_string_equal(
	    log_esc(out, sizeof(out), "plain-name_1.txt"), "plain-name_1.txt");
	assert_string_equal(log_esc(out, sizeof(out), "a;b$(touch x)`id`"),
	    "a%3Bb%24%28touch%20x%29%60id%60");
	assert_string_equal(log_esc(out, sizeof(out), "q'\"\\|&<>*?!#~%"),
	    "q%27%22%5C%7C%26%3C%3E%2A%3F%21%23%7E%25");
	assert_string_equal(log_esc(out, sizeof(out), "tab\tnl\ncr\r\x7f"),
	    "tab%09nl%0Acr%0D%7F");
	/* C1 (U+009B), a raw 0x9b, bidi RLO, other UTF-8: all escaped. */
	assert_string_equal(
	    log_esc(out, sizeof(out), "\xc2\x9b\x9b\xe2\x80\xae\xc3\xa9"),
	    "%C2%9B%9B%E2%80%AE%C3%A9");
	/* Cut at a whole escape, always terminated. */
	assert_string_equal(log_esc(small, sizeof(small), "ab;cd"), "ab%3Bcd");
	assert_string_equal(log_esc(small, sizeof(small), "abcde;f"), "abcde");
	assert_string_equal(log_esc(small, 1, "abc"), "");
	assert_string_equal(log_esc(small, 0, "abc"), "");
}

/* Whatever a caller forgot to escape, no control or bidi character and
 * no malformed UTF-8 reaches a line; UTF-8 text stays readable. */
static void
test_line_cleaned(void **state)
{
	struct fx *f = *state;
	char err[CFG_ERRLEN], xpath[300];
	const char *got;
	size_t i;

	(void)state;
	accepted(f->path);
	log_set_format(CFG_LOG_TEXT);
	log_msg(
	    NULL, "event %s|", "\x1b[2J\xc2\x9b\xe2\x80\xae\xff\tr\xc3\xa9");
	got = slurp(f->path);
	assert_non_null(
	    strstr(got, " - event %1B[2J%C2%9B%E2%80%AE%FF%09r\xc3\xa9|\n"));
	for (i = 0; got[i] != '\0'; i++)
		if ((unsigned char)got[i] < 0x20 && got[i] != '\n')
			fail_msg("control byte 0x%02x in the log", got[i]);
	assert_int_equal(
	    str_fmt(xpath, sizeof(xpath), "%s/xferlog", f->tmp), 0);
	assert_int_equal(log_xfer_open(xpath, err, sizeof(err)), 0);
	log_xfer("Mon x /a\x1b\xc2\x85z b");
	assert_string_equal(slurp(xpath), "Mon x /a%1B%C2%85z b\n");
	log_set_format(CFG_LOG_JSON);
	log_msg("1.2.3.4:5", "json \xc2\x9b\"");
	log_set_format(CFG_LOG_TEXT);
	assert_non_null(strstr(slurp(f->path), "\"msg\":\"json %C2%9B\\\"\"}"));
}

/* ---- opening ---- */

static void
test_symlink_refused(void **state)
{
	struct fx *f = *state;

	write_file(f->victim, "precious\n", 0644);
	assert_int_equal(symlink(f->victim, f->path), 0);
	refused(f->path, "symbolic link");
	assert_string_equal(slurp(f->victim), "precious\n");
	/* A dangling one is not created through either. */
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(symlink("nowhere", f->path), 0);
	refused(f->path, "symbolic link");
	assert_int_equal(access(f->victim, F_OK), 0);
	{
		char gone[300];

		assert_int_equal(
		    str_fmt(gone, sizeof(gone), "%s/nowhere", f->tmp), 0);
		assert_int_equal(access(gone, F_OK), -1);
	}
}

/* A directory link whose target fills readlink's buffer may have been
 * cut short: it is refused, not followed as a shorter path. */
static void
test_long_link_refused(void **state)
{
	struct fx *f = *state;
	char target[PATH_MAX], link[300], path[320];
	size_t i;

	for (i = 0; i < sizeof(target) - 1; i++)
		target[i] = i % 2 == 0 ? 'a' : '/';
	target[sizeof(target) - 1] = '\0';
	assert_int_equal(str_fmt(link, sizeof(link), "%s/longlink", f->tmp), 0);
	assert_int_equal(str_fmt(path, sizeof(path), "%s/ftxd.log", link), 0);
	assert_int_equal(symlink(target, link), 0);
	refused(path, "target too long");
}

static void
test_hardlink_refused(void **state)
{
	struct fx *f = *state;

	write_file(f->victim, "precious\n", 0600);
	assert_int_equal(link(f->victim, f->path), 0);
	refused(f->path, "hard links");
	assert_string_equal(slurp(f->victim), "precious\n");
}

static void
test_odd_files_refused(void **state)
{
	struct fx *f = *state;

	int rd;

	/* A FIFO neither hangs start-up nor is written to: without a
	 * reader the open fails (O_NONBLOCK), with one it is refused. */
	assert_int_equal(mkfifo(f->path, 0600), 0);
	refused(f->path, "No such device");
	rd = open(f->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(rd != -1);
	refused(f->path, "not a regular file");
	close(rd);
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(mkdir(f->path, 0700), 0);
	refused(f->path, "Is a directory");
	assert_int_equal(rmdir(f->path), 0);
	write_file(f->path, "", 0660);
	refused(f->path, "writable by its group");
	assert_int_equal(chmod(f->path, 0602), 0);
	refused(f->path, "writable by everyone");
	assert_int_equal(chmod(f->path, 0640), 0);
	accepted(f->path);
}

static void
test_directories(void **state)
{
	struct fx *f = *state;
	char d[300], p[400], l[300];

	/* A world-writable directory on the way, or as the log's own,
	 * unless sticky. */
	assert_int_equal(str_fmt(d, sizeof(d), "%s/open", f->tmp), 0);
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(chmod(d, 0777), 0);
	assert_int_equal(str_fmt(p, sizeof(p), "%s/ftxd.log", d), 0);
	refused(p, "writable by everyone");
	assert_int_equal(
	    str_fmt(p, sizeof(p), "%s/open/sub/ftxd.log", f->tmp), 0);
	assert_int_equal(str_fmt(l, sizeof(l), "%s/sub", d), 0);
	assert_int_equal(mkdir(l, 0700), 0);
	refused(p, "writable by everyone");
	assert_int_equal(chmod(d, 01777), 0);
	accepted(p);
	/* A symlink in a directory of ours is followed, checking on; a
	 * relative one and ".." too. */
	assert_int_equal(str_fmt(l, sizeof(l), "%s/link", f->tmp), 0);
	assert_int_equal(symlink("open/./sub", l), 0);
	assert_int_equal(
	    str_fmt(p, sizeof(p), "%s/link/../sub/x.log", f->tmp), 0);
	accepted(p);
	assert_int_equal(str_fmt(p, sizeof(p), "%s/open/sub/x.log", f->tmp), 0);
	assert_int_equal(access(p, F_OK), 0);
	/* A loop ends. */
	assert_int_equal(str_fmt(l, sizeof(l), "%s/loop", f->tmp), 0);
	assert_int_equal(symlink("loop", l), 0);
	assert_int_equal(str_fmt(p, sizeof(p), "%s/loop/x.log", f->tmp), 0);
	refused(p, "too many symbolic links");
	/* A file where a directory should be; a missing directory. */
	write_file(f->victim, "", 0600);
	assert_int_equal(str_fmt(p, sizeof(p), "%s/victim/x.log", f->tmp), 0);
	refused(p, "not a directory");
	assert_int_equal(str_fmt(p, sizeof(p), "%s/none/x.log", f->tmp), 0);
	refused(p, "No such file");
	refused(f->tmp, "");
	assert_int_equal(str_fmt(p, sizeof(p), "%s/", f->tmp), 0);
	refused(p, "does not name a file");
}

/* A refused reopen (SIGHUP) keeps the old file. */
static void
test_reopen_refused_keeps_old(void **state)
{
	struct fx *f = *state;
	char old[300];

	accepted(f->path);
	assert_int_equal(str_fmt(old, sizeof(old), "%s.1", f->path), 0);
	assert_int_equal(rename(f->path, old), 0);
	write_file(f->victim, "precious\n", 0644);
	assert_int_equal(symlink(f->victim, f->path), 0);
	refused(f->path, "symbolic link");
	log_msg(NULL, "still here");
	assert_non_null(strstr(slurp(old), "still here"));
	assert_string_equal(slurp(f->victim), "precious\n");
}

/* As root: files and directories of another user are refused unless it
 * is the service user, and then only as the log's own directory. */
static void
test_owners(void **state)
{
	struct fx *f = *state;
	char d[300], p[400];

	if (geteuid() != 0) {
		skip();
		return;
	}
	write_file(f->path, "", 0640);
	assert_int_equal(chown(f->path, OTHER_UID, OTHER_UID), 0);
	refused(f->path, "belongs to uid 65534");
	log_set_service_user(OTHER_UID, OTHER_UID);
	accepted(f->path);
	log_set_service_user((uid_t)-1, (gid_t)-1);

	assert_int_equal(str_fmt(d, sizeof(d), "%s/svc", f->tmp), 0);
	assert_int_equal(mkdir(d, 0750), 0);
	assert_int_equal(chown(d, OTHER_UID, OTHER_UID), 0);
	assert_int_equal(str_fmt(p, sizeof(p), "%s/ftxd.log", d), 0);
	refused(p, "directory");
	log_set_service_user(OTHER_UID, OTHER_UID);
	accepted(p); /* the log's own directory may be the service user's */
	assert_int_equal(str_fmt(p, sizeof(p), "%s/sub", d), 0);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(str_fmt(p, sizeof(p), "%s/sub/ftxd.log", d), 0);
	refused(p, "belongs to uid 65534"); /* but nothing above it */
	/* A directory its group may write, that group being the service
	 * user's: refused above the log's own directory. */
	assert_int_equal(chown(d, 0, OTHER_UID), 0);
	assert_int_equal(chmod(d, 0770), 0);
	refused(p, "service user's group");
	log_set_service_user((uid_t)-1, (gid_t)-1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_esc),
	    cmocka_unit_test_setup_teardown(test_line_cleaned, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_symlink_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_hardlink_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_odd_files_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_directories, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_long_link_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_reopen_refused_keeps_old, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owners, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_prompt.c - shared/prompt.c: reading a password without echo.
 *
 * stdin is replaced by a pipe (PROMPT_STDIN: the first line, bounded)
 * and by the slave side of a pseudo-terminal, whose master shows what
 * the terminal echoed: nothing of the password, and echo back on
 * afterwards.  The signal path is t_users.sh's (a real process dies).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "prompt.h"

static int saved_stdin = -1;

static int
setup(void **state)
{
	(void)state;
	saved_stdin = dup(STDIN_FILENO);
	assert_true(saved_stdin >= 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(dup2(saved_stdin, STDIN_FILENO), STDIN_FILENO);
	close(saved_stdin);
	return 0;
}

/* stdin reads `text` (n bytes) and then EOF. */
static void
stdin_from(const char *text, size_t n)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], text, n), (ssize_t)n);
	close(p[1]);
	assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);
}

static int
all_zero(const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static void
test_stdin(void **state)
{
	char buf[9], err[128];
	size_t len = 99;

	(void)state;
	/* The first line only, spaces kept. */
	stdin_from(" s p \nsecond\n", 13);
	assert_int_equal(prompt_secret("pw: ", buf, sizeof(buf), &len,
			     PROMPT_STDIN, err, sizeof(err)),
	    0);
	assert_string_equal(buf, " s p ");
	assert_int_equal(len, 5);
	/* The last line needs no LF; exactly the room there is. */
	stdin_from("12345678", 8);
	assert_int_equal(prompt_secret("pw: ", buf, sizeof(buf), &len,
			     PROMPT_STDIN, err, sizeof(err)),
	    0);
	assert_string_equal(buf, "12345678");
	/* An empty line is the caller's to refuse. */
	stdin_from("\nx\n", 3);
	assert_int_equal(prompt_secret("pw: ", buf, sizeof(buf), &len,
			     PROMPT_STDIN, err, sizeof(err)),
	    0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
}

static void
test_stdin_refused(void **state)
{
	char buf[9], err[128];
	size_t len = 99;

	(void)state;
	/* One byte too long: refused, and nothing of it is left. */
	stdin_from("123456789\n", 10);
	err[0] = '\0';
	assert_int_equal(prompt_secret("pw: ", buf, sizeof(buf), &len,
			     PROMPT_STDIN, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "longer than 8 bytes"));
	assert_true(all_zero(buf, sizeof(buf)));
	assert_int_equal(len, 0);
	/* Nothing at all. */
	stdin_from("", 0);
	assert_int_equal(prompt_secret("pw: ", buf, sizeof(buf), &len,
			     PROMPT_STDIN, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "no password"));
	/* Not a terminal, and the caller wants one. */
	stdin_from("pw\n", 3);
	assert_int_equal(
	    prompt_secret("pw: ", buf, sizeof(buf), &len, 0, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "no terminal"));
	assert_true(all_zero(buf, sizeof(buf)));
	/* A closed stdin. */
	close(STDIN_FILENO);
	assert_int_equal(prompt_secret("pw: ", buf, sizeof(buf), &len,
			     PROMPT_STDIN, err, sizeof(err)),
	    -1);
}

struct typist {
	int master, slave;
	const char *text;
};

/* Type the text once echo is off: typed before, the terminal would
 * echo it, and TCSAFLUSH would throw it away. */
static void *
type_when_quiet(void *arg)
{
	struct typist *t = arg;
	struct timespec ms = {0, 1000000};
	struct termios tio;
	int i;

	for (i = 0; i < 10000; i++) {
		if (tcgetattr(t->slave, &tio) == 0 && (tio.c_lflag & ECHO) == 0)
			break;
		nanosleep(&ms, NULL);
	}
	if (write(t->master, t->text, strlen(t->text)) < 0)
		return NULL;
	return NULL;
}

/* What the terminal has written back, so far. */
static size_t
drain(int master, char *out, size_t n)
{
	struct pollfd p = {master, POLLIN, 0};
	size_t have = 0;
	ssize_t got;

	while (have + 1 < n && poll(&p, 1, 100) == 1) {
		got = read(master, out + have, n - 1 - have);
		if (got <= 0)
			break;
		have += (size_t)got;
	}
	out[have] = '\0';
	return have;
}

static void
test_terminal(void **state)
{
	char buf[64], err[128], echoed[256];
	struct typist t;
	struct termios tio;
	pthread_t th;
	size_t len;
	int m, s;

	(void)state;
	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m == -1 || grantpt(m) == -1 || unlockpt(m) == -1) {
		print_message("no pseudo-terminal: %s\n", strerror(errno));
		skip();
	}
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	assert_true(s >= 0);
	assert_int_equal(tcgetattr(s, &tio), 0);
	tio.c_lflag |= ECHO | ICANON;
	assert_int_equal(tcsetattr(s, TCSANOW, &tio), 0);
	assert_int_equal(dup2(s, STDIN_FILENO), STDIN_FILENO);

	t.master = m;
	t.slave = s;
	t.text = "tty-secret\n";
	assert_int_equal(pthread_create(&th, NULL, type_when_quiet, &t), 0);
	assert_int_equal(
	    prompt_secret("pw: ", buf, sizeof(buf), &len, 0, err, sizeof(err)),
	    0);
	pthread_join(th, NULL);
	assert_string_equal(buf, "tty-secret");
	/* Only the newline came back, and echo is on again. */
	(void)drain(m, echoed, sizeof(echoed));
	assert_null(strstr(echoed, "secret"));
	assert_int_equal(tcgetattr(s, &tio), 0);
	assert_true((tio.c_lflag & ECHO) != 0);

	/* Too long on a terminal: refused, wiped, echo back on. */
	t.text = "0123456789\n";
	assert_int_equal(pthread_create(&th, NULL, type_when_quiet, &t), 0);
	assert_int_equal(
	    prompt_secret("pw: ", buf, 5, &len, 0, err, sizeof(err)), -1);
	pthread_join(th, NULL);
	assert_non_null(strstr(err, "longer than 4 bytes"));
	assert_true(all_zero(buf, 5));
	(void)drain(m, echoed, sizeof(echoed));
	assert_null(strstr(echoed, "0123"));
	assert_int_equal(tcgetattr(s, &tio), 0);
	assert_true((tio.c_lflag & ECHO) != 0);
	close(s);
	close(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_stdin, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_stdin_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_terminal, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

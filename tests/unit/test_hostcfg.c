/*
 * test_hostcfg.c - unit tests for ftx/hostcfg.c: aliases, first value
 * wins, patterns, and hostile files (too big, long lines, unsafe
 * permissions, bad values).
 */
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

#include "hostcfg.h"

static char path[64];

/* Write `text` to a fresh 0600 file at `path`. */
static void
put(const char *text)
{
	FILE *f;

	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

static int
setup(void **state)
{
	int fd;

	(void)state;
	(void)snprintf(path, sizeof(path), "/tmp/test_hostcfg.XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		return -1;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void
test_alias(void **state)
{
	struct hostcfg h;
	char err[256];

	(void)state;
	put("# mine\n"
	    "Host box other\n"
	    "    HostName 127.0.0.7\n"
	    "    Port=6001\n"
	    "    User alice\n"
	    "    TLS yes\n"
	    "    PasswordFile \"/etc/ftx pass\"\n"
	    "Host b*\n"
	    "    Port 7000\n"
	    "    Retries 9\n"
	    "Host *\n"
	    "    Retries 1\n"
	    "    AcceptNew no\n");
	assert_int_equal(
	    hostcfg_lookup(path, 1, "box", &h, err, sizeof(err)), 1);
	assert_string_equal(h.hostname, "127.0.0.7");
	/* The first value wins, as in ssh_config. */
	assert_int_equal(h.port, 6001);
	assert_int_equal(h.retries, 9);
	assert_string_equal(h.user, "alice");
	assert_int_equal(h.tls, 1);
	assert_int_equal(h.accept_new, 0);
	assert_string_equal(h.pass_file, "/etc/ftx pass");
	assert_int_equal(
	    hostcfg_lookup(path, 1, "zeta", &h, err, sizeof(err)), 1);
	assert_string_equal(h.hostname, "");
	assert_int_equal(h.port, 0);
	assert_int_equal(h.retries, 1);
	assert_int_equal(h.tls, -1);
}

static void
test_negation_and_none(void **state)
{
	struct hostcfg h;
	char err[256];

	(void)state;
	put("Host *.lan !bad.lan\n  Port 6002\n");
	assert_int_equal(
	    hostcfg_lookup(path, 1, "a.lan", &h, err, sizeof(err)), 1);
	assert_int_equal(h.port, 6002);
	assert_int_equal(
	    hostcfg_lookup(path, 1, "bad.lan", &h, err, sizeof(err)), 0);
	assert_int_equal(h.port, 0);
	/* A missing file is no configuration, unless the user named it. */
	assert_int_equal(hostcfg_lookup("/nonexistent/ftx/config", 0, "a", &h,
			     err, sizeof(err)),
	    0);
	assert_int_equal(hostcfg_lookup("/nonexistent/ftx/config", 1, "a", &h,
			     err, sizeof(err)),
	    -1);
}

static void
test_bad_lines(void **state)
{
	static const char *bad[] = {
	    "Host box\n  Colour blue\n", /* unknown keyword */
	    "Host box\n  Port 0\n", "Host box\n  Port 65536\n",
	    "Host box\n  TLS maybe\n", "Host box\n  User Bad!Name\n",
	    "Host box\n  HostName evil host\n",
	    "Host box\n  HostName h:6000\n", /* the port has its own line */
	    "Host box\n  Retries 101\n", "Host box\n  Port\n",
	    /* A bad line in a block that does not apply is still an
	     * error: it would surprise the user later. */
	    "Host other\n  Port x\n"};
	struct hostcfg h;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(bad[i]);
		assert_int_equal(
		    hostcfg_lookup(path, 1, "box", &h, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "line"));
	}
}

static void
test_limits(void **state)
{
	struct hostcfg h;
	char err[256], *big;
	size_t i, n;

	(void)state;
	/* SECURITY: a line over FTX_CLIENT_CONFIG_LINE_MAX is refused. */
	big = test_malloc(FTX_CLIENT_CONFIG_MAX + 64);
	memcpy(big, "Host ", 5);
	memset(big + 5, 'a', FTX_CLIENT_CONFIG_LINE_MAX);
	memcpy(big + 5 + FTX_CLIENT_CONFIG_LINE_MAX, "\n", 2);
	put(big);
	assert_int_equal(
	    hostcfg_lookup(path, 1, "a", &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
	/* SECURITY: a file over FTX_CLIENT_CONFIG_MAX is refused, not cut. */
	for (n = 0; n + 16 < FTX_CLIENT_CONFIG_MAX + 32;)
		for (i = 0; i < 15; i++)
			big[n++] = i < 14 ? '#' : '\n';
	big[n] = '\0';
	put(big);
	assert_int_equal(
	    hostcfg_lookup(path, 1, "a", &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than"));
	/* SECURITY: at most FTX_CLIENT_CONFIG_HOSTS_MAX Host blocks. */
	for (n = 0, i = 0; i <= FTX_CLIENT_CONFIG_HOSTS_MAX; i++) {
		memcpy(big + n, "Host x\n", 7);
		n += 7;
	}
	big[n] = '\0';
	put(big);
	assert_int_equal(
	    hostcfg_lookup(path, 1, "a", &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many"));
	/* SECURITY: a NUL byte refuses the file rather than cutting it. */
	memcpy(big, "Port 1\n\0Host x\n", 16);
	{
		FILE *f;

		assert_non_null(f = fopen(path, "w"));
		assert_int_equal(fwrite(big, 1, 16, f), 16);
		assert_int_equal(fclose(f), 0);
	}
	assert_int_equal(
	    hostcfg_lookup(path, 1, "a", &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
	test_free(big);
}

static void
test_permissions(void **state)
{
	struct hostcfg h;
	char err[256];

	(void)state;
	put("Host box\n  Port 6001\n");
	/* SECURITY: a file others may write could send us anywhere. */
	assert_int_equal(chmod(path, 0622), 0);
	assert_int_equal(
	    hostcfg_lookup(path, 1, "box", &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writable"));
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(
	    hostcfg_lookup(path, 1, "box", &h, err, sizeof(err)), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_alias, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_negation_and_none, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

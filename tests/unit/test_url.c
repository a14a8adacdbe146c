/*
 * test_url.c - unit tests for ftx/url.c: host[:port] and ftx:// URLs,
 * hostile ones included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "url.h"

static void
test_hostport(void **state)
{
	char h[FTX_HOST_MAX + 1], err[128];
	int port;

	(void)state;
	assert_int_equal(
	    url_hostport("box", h, sizeof(h), &port, err, sizeof(err)), 0);
	assert_string_equal(h, "box");
	assert_int_equal(port, 0);
	assert_int_equal(url_hostport("127.0.0.1:6001", h, sizeof(h), &port,
			     err, sizeof(err)),
	    0);
	assert_string_equal(h, "127.0.0.1");
	assert_int_equal(port, 6001);
	assert_int_equal(
	    url_hostport("[::1]:5001", h, sizeof(h), &port, err, sizeof(err)),
	    0);
	assert_string_equal(h, "::1");
	assert_int_equal(port, 5001);
	/* A bare IPv6 address has no port. */
	assert_int_equal(
	    url_hostport("fe80::1", h, sizeof(h), &port, err, sizeof(err)), 0);
	assert_string_equal(h, "fe80::1");
	assert_int_equal(port, 0);
	assert_int_equal(
	    url_hostport("[::1]", h, sizeof(h), &port, err, sizeof(err)), 0);
	assert_int_equal(port, 0);
}

static void
test_hostport_bad(void **state)
{
	static const char *bad[] = {"", ":5001", "h:0", "h:65536", "h:", "h:5x",
	    "[::1", "[::1]x", "[]:1", "bad host", "h;rm", "a\x1b[31m",
	    "h:123456789"};
	char h[FTX_HOST_MAX + 1], err[128], big[FTX_HOST_MAX + 3];
	size_t i;
	int port;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    url_hostport(bad[i], h, sizeof(h), &port, err, sizeof(err)),
		    -1);
	/* FTX_HOST_MAX bytes fit; one more does not. */
	memset(big, 'a', FTX_HOST_MAX);
	big[FTX_HOST_MAX] = '\0';
	assert_int_equal(
	    url_hostport(big, h, sizeof(h), &port, err, sizeof(err)), 0);
	big[FTX_HOST_MAX] = 'a';
	big[FTX_HOST_MAX + 1] = '\0';
	assert_int_equal(
	    url_hostport(big, h, sizeof(h), &port, err, sizeof(err)), -1);
}

static void
test_url(void **state)
{
	struct url u;
	char err[128];

	(void)state;
	assert_true(url_is_url("ftx://h/x"));
	assert_true(url_is_url("FTXS://h"));
	assert_false(url_is_url("ftp://h/x"));
	assert_false(url_is_url("ftx:/h"));
	assert_int_equal(url_parse("ftx://alice@box:6001/a/my%20notes.txt", &u,
			     err, sizeof(err)),
	    0);
	assert_string_equal(u.user, "alice");
	assert_string_equal(u.host, "box");
	assert_int_equal(u.port, 6001);
	assert_int_equal(u.tls, 0);
	assert_string_equal(u.path, "a/my notes.txt");
	assert_int_equal(
	    url_parse("ftxs://[::1]/dir/", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.tls, 1);
	assert_string_equal(u.path, "dir/");
	assert_int_equal(url_parse("ftx://box", &u, err, sizeof(err)), 0);
	assert_string_equal(u.path, "");
}

static void
test_url_bad(void **state)
{
	static const char *bad[] = {"ftx://", "ftx:///x", "ftx://a:b@h/x",
	    "ftx://Bad!User@h/x", "ftx://h/%00x", "ftx://h/%zz", "ftx://h/%4",
	    "ftx://h:0/x", "http://h/x", "ftx://h h/x"};
	char err[128], *big;
	struct url u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(url_parse(bad[i], &u, err, sizeof(err)), -1);
	/* SECURITY: over FTX_URL_MAX, and a path over FTX_RPATH_MAX, are
	 * refused, not cut. */
	big = test_malloc(FTX_URL_MAX + 16);
	memcpy(big, "ftx://h/", 8);
	memset(big + 8, 'a', FTX_URL_MAX);
	big[FTX_URL_MAX + 8] = '\0';
	assert_int_equal(url_parse(big, &u, err, sizeof(err)), -1);
	big[8 + FTX_RPATH_MAX + 2] = '\0';
	assert_int_equal(url_parse(big, &u, err, sizeof(err)), -1);
	big[8 + FTX_RPATH_MAX] = '\0';
	assert_int_equal(url_parse(big, &u, err, sizeof(err)), 0);
	test_free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hostport),
	    cmocka_unit_test(test_hostport_bad),
	    cmocka_unit_test(test_url),
	    cmocka_unit_test(test_url_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

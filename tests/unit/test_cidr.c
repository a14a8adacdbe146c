/*
 * test_cidr.c - unit tests for shared/cidr.c, the address lists of
 * --proxy-from.  A wrong match would let anyone claim any client's
 * address (a false yes) or lock the balancer out (a false no), so the
 * edges are tested: prefixes, IPv4 seen as IPv4-mapped IPv6, the list's
 * bound and malformed entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "cidr.h"
#include "ftx_limits.h"
#include "str.h"

static struct sockaddr_storage
ip(const char *s)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(s, ':') != NULL) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, s, &a->sin6_addr), 1);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, s, &a->sin_addr), 1);
	}
	return ss;
}

static int
in(const struct cidr_list *l, const char *addr)
{
	struct sockaddr_storage ss = ip(addr);

	return cidr_match(l, &ss);
}

static void
test_match(void **state)
{
	struct cidr_list l;
	char err[FTX_ERRLEN];

	(void)state;
	assert_int_equal(cidr_parse_list(&l,
			     " 127.0.0.10 ,192.0.2.0/24,2001:db8::/32, "
			     "10.0.0.1/8",
			     err, sizeof(err)),
	    0);
	assert_int_equal(l.n, 4);
	assert_true(in(&l, "127.0.0.10"));
	assert_false(in(&l, "127.0.0.1"));
	assert_false(in(&l, "127.0.0.11"));
	assert_true(in(&l, "192.0.2.0"));
	assert_true(in(&l, "192.0.2.255"));
	assert_false(in(&l, "192.0.3.0"));
	/* Host bits in an entry are masked off. */
	assert_true(in(&l, "10.200.0.1"));
	assert_true(in(&l, "2001:db8:ffff::1"));
	assert_false(in(&l, "2001:db9::1"));
	/* A dual-stack listener's view of an IPv4 peer. */
	assert_true(in(&l, "::ffff:127.0.0.10"));
	assert_false(in(&l, "::ffff:127.0.0.1"));
	/* IPv4 entries do not match IPv6 that merely shares bits. */
	assert_false(in(&l, "::127.0.0.10"));
	assert_false(in(&l, "::1"));
}

static void
test_empty_and_all(void **state)
{
	struct cidr_list l;
	struct sockaddr_storage ss;
	char err[FTX_ERRLEN];

	(void)state;
	assert_int_equal(cidr_parse_list(&l, "", err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	assert_false(in(&l, "127.0.0.1"));
	assert_int_equal(cidr_parse_list(&l, "0.0.0.0/0", err, sizeof(err)), 0);
	assert_true(in(&l, "203.0.113.9"));
	assert_true(in(&l, "::ffff:1.2.3.4"));
	assert_false(in(&l, "2001:db8::1"));
	assert_int_equal(cidr_parse_list(&l, "::/0", err, sizeof(err)), 0);
	assert_true(in(&l, "2001:db8::1"));
	assert_true(in(&l, "1.2.3.4"));
	/* Not an IP peer at all. */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_false(cidr_match(&l, &ss));
}

static void
test_bad_lists(void **state)
{
	static const char *const bad[] = {"127.0.0.1,", ",127.0.0.1",
	    "127.0.0.1,,::1", " , ", "127.0.0.256", "127.1", "localhost",
	    "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/08", "::1/129",
	    "1.2.3.4/24/8", "1.2.3.4 5.6.7.8",
	    "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:1"};
	struct cidr_list l;
	char err[FTX_ERRLEN], many[1024] = "";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (cidr_parse_list(&l, bad[i], err, sizeof(err)) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		assert_true(err[0] != '\0');
	}
	/* FTX_PROXY_FROM_MAX entries, then one more. */
	for (i = 0; i < FTX_PROXY_FROM_MAX; i++)
		assert_int_equal(
		    str_fmt(many + strlen(many), sizeof(many) - strlen(many),
			"%s10.0.0.%zu", i > 0 ? "," : "", i),
		    0);
	assert_int_equal(cidr_parse_list(&l, many, err, sizeof(err)), 0);
	assert_int_equal(l.n, FTX_PROXY_FROM_MAX);
	(void)str_fmt(
	    many + strlen(many), sizeof(many) - strlen(many), ",10.0.1.1");
	assert_int_equal(cidr_parse_list(&l, many, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than"));
}

static void
test_str(void **state)
{
	struct cidr_list l, again;
	char err[FTX_ERRLEN], out[256];

	(void)state;
	assert_int_equal(
	    cidr_parse_list(
		&l, "127.0.0.10,10.1.2.3/16,::1,fe80::/10", err, sizeof(err)),
	    0);
	cidr_list_str(&l, out, sizeof(out));
	assert_string_equal(out, "127.0.0.10,10.1.0.0/16,::1,fe80::/10");
	/* Equal lists compare equal byte for byte (SIGHUP's memcmp). */
	assert_int_equal(cidr_parse_list(&again, out, err, sizeof(err)), 0);
	assert_memory_equal(&l, &again, sizeof(l));
	/* A buffer too small is still terminated. */
	cidr_list_str(&l, out, 8);
	assert_true(strlen(out) < 8);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_empty_and_all),
	    cmocka_unit_test(test_bad_lists),
	    cmocka_unit_test(test_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

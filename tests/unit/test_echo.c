/*
 * test_echo.c - unit tests for the UDP echo grammar (shared/echo.c):
 * requests and replies are told apart at every boundary, a reply is never
 * a request and never longer than it, and datagrams from well-known or
 * our own ports are not to be answered.  These checks keep two echo
 * services from being set answering each other (CVE-2024-2169).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "echo.h"
#include "ftx_limits.h"

static enum echo_kind
kind(const char *s, size_t n)
{
	return echo_udp_kind((const unsigned char *)s, n);
}

static void
test_kind_good(void **state)
{
	static const char req[] = "FTXE 0123456789abcdef payload";
	static const char rep[] = "FTXR 0123456789abcdef payload";
	size_t hdr = ECHO_UDP_HDR;

	(void)state;
	assert_int_equal(hdr, 5 + FTX_UDP_ID_HEX + 1);
	assert_int_equal(kind(req, strlen(req)), ECHO_REQUEST);
	assert_int_equal(kind(rep, strlen(rep)), ECHO_REPLY);
	/* Empty and binary payloads. */
	assert_int_equal(kind("FTXE 0123456789abcdef ", hdr), ECHO_REQUEST);
	assert_int_equal(kind("FTXR 0123456789abcdef ", hdr), ECHO_REPLY);
	assert_int_equal(
	    kind("FTXR ffffffffffffffff \0\xff\n", hdr + 3), ECHO_REPLY);
	/* A payload that itself looks like a request changes nothing. */
	assert_int_equal(
	    kind("FTXR 0000000000000000 FTXE 0000000000000000 ", 2 * hdr),
	    ECHO_REPLY);
}

static void
test_kind_bad(void **state)
{
	size_t hdr = ECHO_UDP_HDR;

	(void)state;
	assert_int_equal(kind("", 0), ECHO_BAD);
	assert_int_equal(kind("FTXR", 4), ECHO_BAD);
	assert_int_equal(kind("FTXR 0123456789abcdef", hdr - 1), ECHO_BAD);
	assert_int_equal(kind("FTXR 0123456789abcde x", hdr), ECHO_BAD);
	/* Other magics: only FTXE and FTXR, exactly. */
	assert_int_equal(kind("FTXF 0123456789abcdef x", hdr + 1), ECHO_BAD);
	assert_int_equal(kind("FTXS 0123456789abcdef x", hdr + 1), ECHO_BAD);
	assert_int_equal(kind("ftxr 0123456789abcdef x", hdr + 1), ECHO_BAD);
	assert_int_equal(kind("FTXR_0123456789abcdef x", hdr + 1), ECHO_BAD);
	assert_int_equal(kind("FTX  0123456789abcdef x", hdr + 1), ECHO_BAD);
	assert_int_equal(kind(" FTXR 0123456789abcdef", hdr), ECHO_BAD);
	/* Lowercase hex only, and the space after the id. */
	assert_int_equal(kind("FTXR 0123456789ABCDEF x", hdr + 1), ECHO_BAD);
	assert_int_equal(kind("FTXR 0123456789abcdeg x", hdr + 1), ECHO_BAD);
	assert_int_equal(kind("FTXR 0123456789abcde\0 x", hdr + 1), ECHO_BAD);
	assert_int_equal(kind("FTXR 0123456789abcdefXx", hdr + 1), ECHO_BAD);
	assert_int_equal(kind("FTXE 0123456789abcdefXx", hdr + 1), ECHO_BAD);
}

static void
test_kind_sizes(void **state)
{
	unsigned char *big;

	(void)state;
	big = malloc(FTX_UDP_MAX + 2);
	assert_non_null(big);
	memset(big, 'p', FTX_UDP_MAX + 2);
	memcpy(big, "FTXR 0123456789abcdef ", ECHO_UDP_HDR);
	assert_int_equal(echo_udp_kind(big, FTX_UDP_MAX), ECHO_REPLY);
	assert_int_equal(echo_udp_kind(big, FTX_UDP_MAX + 1), ECHO_BAD);
	big[3] = 'E';
	assert_int_equal(echo_udp_kind(big, FTX_UDP_MAX), ECHO_REQUEST);
	assert_int_equal(echo_udp_kind(big, FTX_UDP_MAX + 1), ECHO_BAD);
	free(big);
}

static void
test_header_and_id(void **state)
{
	unsigned char h[ECHO_UDP_HDR];

	(void)state;
	echo_udp_header(h, ECHO_REQUEST, 0xffULL);
	assert_memory_equal(h, "FTXE 00000000000000ff ", ECHO_UDP_HDR);
	assert_int_equal(echo_udp_kind(h, sizeof(h)), ECHO_REQUEST);
	assert_true(echo_udp_id(h) == 0xffULL);

	echo_udp_header(h, ECHO_REPLY, 0x0123456789abcdefULL);
	assert_memory_equal(h, "FTXR 0123456789abcdef ", ECHO_UDP_HDR);
	assert_int_equal(echo_udp_kind(h, sizeof(h)), ECHO_REPLY);
	assert_true(echo_udp_id(h) == 0x0123456789abcdefULL);

	echo_udp_header(h, ECHO_REQUEST, UINT64_MAX);
	assert_memory_equal(h, "FTXE ffffffffffffffff ", ECHO_UDP_HDR);
	assert_true(echo_udp_id(h) == UINT64_MAX);
}

/* A reply has the request's length, id and payload, and is not itself a
 * request: answering it again is impossible. */
static void
test_answer(void **state)
{
	static const char req[] = "FTXE 0123456789abcdef some payload";
	unsigned char buf[sizeof(req)];
	size_t n = sizeof(req) - 1;

	(void)state;
	memcpy(buf, req, sizeof(req));
	assert_int_equal(echo_udp_kind(buf, n), ECHO_REQUEST);
	echo_udp_answer(buf);
	assert_int_equal(echo_udp_kind(buf, n), ECHO_REPLY);
	assert_memory_equal(buf, "FTXR", 4);
	assert_memory_equal(buf + 4, req + 4, n - 4);
	assert_true(echo_udp_id(buf) == 0x0123456789abcdefULL);
	assert_int_equal(buf[n], '\0'); /* nothing written past the end */
}

static void
test_port_ok(void **state)
{
	(void)state;
	/* Well-known services (echo, chargen, DNS, NTP, ...) and 0. */
	assert_false(echo_udp_port_ok(0, 5001));
	assert_false(echo_udp_port_ok(7, 5001));
	assert_false(echo_udp_port_ok(19, 5001));
	assert_false(echo_udp_port_ok(53, 5001));
	assert_false(echo_udp_port_ok(123, 5001));
	assert_false(echo_udp_port_ok(FTX_UDP_MIN_SRC_PORT - 1, 5001));
	assert_true(echo_udp_port_ok(FTX_UDP_MIN_SRC_PORT, 5001));
	/* Our own port: another ftxd's echo. */
	assert_false(echo_udp_port_ok(5001, 5001));
	assert_true(echo_udp_port_ok(5002, 5001));
	assert_true(echo_udp_port_ok(65535, 5001));
	assert_false(echo_udp_port_ok(40000, 40000));
	/* Not ports at all. */
	assert_false(echo_udp_port_ok(-1, 5001));
	assert_false(echo_udp_port_ok(65536, 5001));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kind_good),
	    cmocka_unit_test(test_kind_bad),
	    cmocka_unit_test(test_kind_sizes),
	    cmocka_unit_test(test_header_and_id),
	    cmocka_unit_test(test_answer),
	    cmocka_unit_test(test_port_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_counters.c - the statistics lines (ftxd/counters.c): the exact
 * text STATS answers and SIGUSR1 logs (docs/PROTOCOL.md, Statistics),
 * the uptime in whole seconds, errors as the sum of failures, and the
 * refusal of a line that does not fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "counters.h"

static void
test_server_line(void **state)
{
	struct counters c = {1000, 7, 5, 2, 300, 4000, 3, 1};
	struct counters_now now = {62999, 4, 2, 1, 3};
	char line[512];

	(void)state;
	assert_int_equal(counters_line(&c, &now, line, sizeof(line)), 0);
	assert_string_equal(line,
	    "uptime=61 sessions=4 sessions_total=7 chat=2 xfers_running=1 "
	    "xfers_pending=3 xfers_ok=5 xfers_failed=2 bytes_in=300 "
	    "bytes_out=4000 refused=3 rejected=1 errors=6");
}

static void
test_big_numbers(void **state)
{
	struct counters c = {0, UINT64_MAX, 0, 0, UINT64_MAX, 0, 0, 0};
	struct counters_now now = {0, 0, 0, 0, 0};
	char line[512];

	(void)state;
	assert_int_equal(counters_line(&c, &now, line, sizeof(line)), 0);
	assert_non_null(strstr(line, "sessions_total=18446744073709551615 "));
	assert_non_null(strstr(line, "bytes_in=18446744073709551615 "));
}

static void
test_user_line(void **state)
{
	struct counters_user u = {2, 1, 10, 20};
	struct counters_now now = {5000, 2, 99, 1, 0};
	char line[512];

	(void)state;
	assert_int_equal(
	    counters_user_line(&u, 2000, &now, line, sizeof(line)), 0);
	/* No chat= and no server-wide figures for a user. */
	assert_string_equal(line,
	    "per_user=1 uptime=3 sessions=2 xfers_running=1 "
	    "xfers_pending=0 xfers_ok=2 xfers_failed=1 bytes_in=10 "
	    "bytes_out=20");
	/* An account with nothing counted yet. */
	assert_int_equal(
	    counters_user_line(NULL, 2000, &now, line, sizeof(line)), 0);
	assert_non_null(strstr(line,
	    " xfers_ok=0 xfers_failed=0 bytes_in=0 "
	    "bytes_out=0"));
}

static void
test_too_small(void **state)
{
	struct counters c = {0, 0, 0, 0, 0, 0, 0, 0};
	struct counters_now now = {0, 0, 0, 0, 0};
	char line[32];

	(void)state;
	assert_int_equal(counters_line(&c, &now, line, sizeof(line)), -1);
	assert_int_equal(
	    counters_user_line(NULL, 0, &now, line, sizeof(line)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_server_line),
	    cmocka_unit_test(test_big_numbers),
	    cmocka_unit_test(test_user_line),
	    cmocka_unit_test(test_too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

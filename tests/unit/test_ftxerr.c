/*
 * test_ftxerr.c - the one table of protocol error codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ftxerr.h"

/* Every code has a distinct name that parses back to it. */
static void
test_names_round_trip(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; i < FTXE_NCODES; i++) {
		const char *n = ftxerr_name((enum ftx_err)i);

		assert_non_null(n);
		assert_int_equal(ftxerr_parse(n), i);
		for (j = 0; j < i; j++)
			assert_string_not_equal(
			    n, ftxerr_name((enum ftx_err)j));
	}
	assert_int_equal(ftxerr_parse("NOSUCHCODE"), FTXE_NCODES);
	assert_int_equal(ftxerr_parse(""), FTXE_NCODES);
	assert_int_equal(ftxerr_parse("notfound"), FTXE_NCODES);
	/* A value outside the table never reaches the wire as garbage. */
	assert_string_equal(ftxerr_name(FTXE_NCODES), "INTERNAL");
	assert_string_equal(ftxerr_name((enum ftx_err) - 1), "INTERNAL");
}

/* What the client retries: exactly what broke or was busy. */
static void
test_transient(void **state)
{
	static const char *const yes[] = {
	    "SHORT", "TIMEOUT", "SHUTDOWN", "BUSY", "LIMIT", "INTEGRITY"};
	int i, n = 0;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(yes) / sizeof(yes[0]); k++)
		assert_true(ftxerr_transient(ftxerr_parse(yes[k])));
	for (i = 0; i < FTXE_NCODES; i++)
		n += ftxerr_transient((enum ftx_err)i);
	assert_int_equal(n, (int)(sizeof(yes) / sizeof(yes[0])));
	assert_false(ftxerr_transient(FTXE_NCODES));
	assert_false(ftxerr_transient(FTXE_QUOTA));
	assert_false(ftxerr_transient(FTXE_NOTFOUND));
}

static void
test_fatal_and_class(void **state)
{
	(void)state;
	assert_true(ftxerr_fatal(FTXE_FLOOD));
	assert_true(ftxerr_fatal(FTXE_LIMIT));
	assert_true(ftxerr_fatal(FTXE_TIMEOUT));
	assert_true(ftxerr_fatal(FTXE_SHUTDOWN));
	assert_false(ftxerr_fatal(FTXE_BUSY));
	assert_false(ftxerr_fatal(FTXE_NCODES));
	assert_int_equal(ftxerr_class(FTXE_INTEGRITY), FTXC_INTEGRITY);
	assert_int_equal(ftxerr_class(FTXE_AUTH), FTXC_LOGIN);
	assert_int_equal(ftxerr_class(FTXE_LOCKED), FTXC_LOGIN);
	assert_int_equal(ftxerr_class(FTXE_TLS), FTXC_TLS);
	assert_int_equal(ftxerr_class(FTXE_SHORT), FTXC_BROKE);
	assert_int_equal(ftxerr_class(FTXE_IO), FTXC_BROKE);
	assert_int_equal(ftxerr_class(FTXE_QUOTA), FTXC_REFUSED);
	assert_int_equal(ftxerr_class(FTXE_NCODES), FTXC_REFUSED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_round_trip),
	    cmocka_unit_test(test_transient),
	    cmocka_unit_test(test_fatal_and_class),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

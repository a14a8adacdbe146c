/*
 * test_flood.c - unit tests for chat flood control (ftxd/flood.c), with
 * a fake clock: never more than `rate` actions in any window, strikes
 * counted and reset, and a rate changed by SIGHUP neither overruns the
 * ring nor renews the budget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flood.h"
#include "ftx_limits.h"

#define WIN (FTX_CHAT_RATE_WINDOW_S * 1000LL)

static void
test_no_limit(void **state)
{
	struct flood f;
	int i;

	(void)state;
	memset(&f, 0, sizeof(f));
	for (i = 0; i < 10000; i++)
		assert_int_equal(flood_take(&f, 0, 5), 0);
	assert_null(f.sent);
	assert_int_equal(f.strikes, 0);
	flood_free(&f);
}

static void
test_window(void **state)
{
	struct flood f;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(flood_take(&f, 3, 0), 0);
	assert_int_equal(flood_take(&f, 3, 1), 0);
	assert_int_equal(flood_take(&f, 3, 2), 0);
	/* The fourth within the window is refused, a strike each time. */
	assert_int_equal(flood_take(&f, 3, 3), 1);
	assert_int_equal(f.strikes, 1);
	assert_int_equal(flood_take(&f, 3, WIN - 1), 1);
	assert_int_equal(f.strikes, 2);
	/* A window after the oldest, one more may go; strikes reset. */
	assert_int_equal(flood_take(&f, 3, WIN), 0);
	assert_int_equal(f.strikes, 0);
	assert_int_equal(flood_take(&f, 3, WIN), 1);
	assert_int_equal(flood_take(&f, 3, WIN + 1), 0);
	assert_int_equal(flood_take(&f, 3, WIN + 2), 0);
	assert_int_equal(flood_take(&f, 3, WIN + 3), 1);
	/* A clock that jumps back refuses rather than grants. */
	assert_int_equal(flood_take(&f, 3, 0), 1);
	flood_free(&f);
	assert_null(f.sent);
}

/* Whatever the timing, no window holds more than `rate` accepted
 * actions, and an action is refused only when it would make rate + 1. */
static void
test_sliding_exact(void **state)
{
	enum { N = 4000, RATE = 7 };
	static long long ok[N];
	struct flood f;
	long long t = 0;
	size_t nok = 0, i, in;
	unsigned int x = 12345;
	int rc;

	(void)state;
	memset(&f, 0, sizeof(f));
	for (i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		t += (long long)((x >> 16) % 4000); /* 0..4 s apart */
		/* How many accepted actions the window before t holds. */
		for (in = 0; in < RATE && in < nok; in++)
			if (t - ok[nok - 1 - in] >= WIN)
				break;
		rc = flood_take(&f, RATE, t);
		assert_int_equal(rc, in == RATE ? 1 : 0);
		if (rc == 0)
			ok[nok++] = t;
	}
	assert_true(nok > RATE);
	flood_free(&f);
}

static void
test_strikes(void **state)
{
	struct flood f;
	int i;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(flood_take(&f, 1, 100), 0);
	for (i = 1; i <= FTX_CHAT_STRIKES; i++) {
		assert_int_equal(flood_take(&f, 1, 100 + i), 1);
		assert_int_equal(f.strikes, i);
	}
	flood_free(&f);
	/* A freed budget starts over. */
	assert_int_equal(flood_take(&f, 1, 200), 0);
	assert_int_equal(f.strikes, 0);
	flood_free(&f);
}

/* --chat-rate changed by SIGHUP while a session holds a budget. */
static void
test_rate_change(void **state)
{
	struct flood f;
	int i;

	(void)state;
	memset(&f, 0, sizeof(f));
	/* Larger: the ring grows (a write past the old ring would show
	 * under ASan), and the two earlier actions still count. */
	assert_int_equal(flood_take(&f, 2, 0), 0);
	assert_int_equal(flood_take(&f, 2, 1), 0);
	assert_int_equal(flood_take(&f, 2, 2), 1);
	for (i = 0; i < 98; i++)
		assert_int_equal(flood_take(&f, 100, 10 + i), 0);
	assert_int_equal(flood_take(&f, 100, 200), 1);
	assert_int_equal(f.cap, 100);
	assert_int_equal(f.nsent, 100);
	/* The window moves past the first two only. */
	assert_int_equal(flood_take(&f, 100, WIN + 1), 0);
	assert_int_equal(flood_take(&f, 100, WIN + 1), 0);
	assert_int_equal(flood_take(&f, 100, WIN + 1), 1);

	/* Smaller: the most recent times are kept (107, WIN + 1 twice), so
	 * the budget is not renewed; the oldest kept one decides. */
	assert_int_equal(flood_take(&f, 3, WIN + 2), 1);
	assert_int_equal(f.nsent, 3);
	assert_int_equal(flood_take(&f, 3, WIN + 107), 0);
	assert_int_equal(flood_take(&f, 3, WIN + 107), 1);
	assert_int_equal(flood_take(&f, 3, 2 * WIN), 1);
	assert_int_equal(flood_take(&f, 3, 2 * WIN + 1), 0);
	assert_int_equal(flood_take(&f, 3, 2 * WIN + 1), 0);
	assert_int_equal(flood_take(&f, 3, 2 * WIN + 1), 1);
	flood_free(&f);

	/* From no limit to a limit. */
	assert_int_equal(flood_take(&f, 0, 0), 0);
	assert_int_equal(flood_take(&f, 1, 0), 0);
	assert_int_equal(flood_take(&f, 1, 1), 1);
	flood_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_limit),
	    cmocka_unit_test(test_window),
	    cmocka_unit_test(test_sliding_exact),
	    cmocka_unit_test(test_strikes),
	    cmocka_unit_test(test_rate_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_pace.c - unit tests for the minimum-rate watchdog (ftxd/pace.c),
 * driven by a fake millisecond clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ftx_limits.h"
#include "pace.h"

/* A steady sender above the minimum is never cut, however long. */
static void
test_steady_ok(void **state)
{
	struct pace p;
	long long t;

	(void)state;
	pace_init(&p, 1024, 30, 60, 0);
	for (t = 0; t <= 600 * 1000; t += 100) {
		pace_add(&p, 200, t); /* 2000 B/s */
		assert_int_equal(pace_check(&p, t), PACE_OK);
	}
}

/* Nothing is judged slow before a whole window has passed. */
static void
test_grace_first_window(void **state)
{
	struct pace p;

	(void)state;
	pace_init(&p, 1024, 30, 0, 5000);
	pace_add(&p, 1, 5000);
	assert_int_equal(pace_check(&p, 5000 + 29 * 1000), PACE_OK);
	assert_int_equal(pace_check(&p, 5000 + 30 * 1000), PACE_SLOW);
}

/* The attack: one byte every few seconds is cut after one
 * window, not kept alive by each byte. */
static void
test_drip_is_slow(void **state)
{
	struct pace p;
	long long t;
	int verdict = PACE_OK;

	(void)state;
	pace_init(&p, 1024, 30, 60, 0);
	for (t = 0; t <= 40 * 1000 && verdict == PACE_OK; t += 4000) {
		pace_add(&p, 1, t);
		verdict = pace_check(&p, t);
	}
	assert_int_equal(verdict, PACE_SLOW);
	assert_true(t <= 36 * 1000);
}

/* A fast burst long ago does not buy a slow drip now: the window slides. */
static void
test_old_burst_expires(void **state)
{
	struct pace p;
	long long t;

	(void)state;
	pace_init(&p, 1000, 10, 0, 0);
	pace_add(&p, 100 * 1000 * 1000, 500); /* 100 MB in the first second */
	for (t = 1000; t < 11 * 1000; t += 1000)
		assert_int_equal(pace_check(&p, t), PACE_OK);
	/* 12 s later the burst is out of the window and nothing came since. */
	assert_int_equal(pace_check(&p, 12 * 1000), PACE_SLOW);
	assert_int_equal(pace_window_bytes(&p, 12 * 1000), 0);
}

/* No byte for stall_s seconds is a stall, even with no minimum rate. */
static void
test_stall(void **state)
{
	struct pace p;

	(void)state;
	pace_init(&p, 0, 30, 5, 0);
	pace_add(&p, 10, 1000);
	assert_int_equal(pace_check(&p, 5999), PACE_OK);
	assert_int_equal(pace_check(&p, 6000), PACE_STALLED);
	pace_add(&p, 10, 6500);
	assert_int_equal(pace_check(&p, 7000), PACE_OK);
}

/* min_bps 0 and stall_s 0: never cut. */
static void
test_off(void **state)
{
	struct pace p;

	(void)state;
	pace_init(&p, 0, 30, 0, 0);
	assert_int_equal(pace_check(&p, 1000LL * 1000 * 1000), PACE_OK);
}

/* Exactly the minimum over the window passes (the doubt goes to the
 * client); just under it does not. */
static void
test_boundary(void **state)
{
	struct pace p;
	long long t;

	(void)state;
	pace_init(&p, 1000, 5, 0, 0);
	for (t = 0; t < 10 * 1000; t += 1000)
		pace_add(&p, 1000, t);
	assert_int_equal(pace_check(&p, 9999), PACE_OK);
	pace_init(&p, 1000, 5, 0, 0);
	for (t = 0; t < 10 * 1000; t += 1000)
		pace_add(&p, 799, t);
	assert_int_equal(pace_check(&p, 9999), PACE_SLOW);
}

/* Hostile parameters: windows are clamped, huge rates and byte counts
 * saturate instead of wrapping. */
static void
test_extremes(void **state)
{
	struct pace p;

	(void)state;
	pace_init(&p, UINT64_MAX, 1000000, 0, 0);
	assert_int_equal(p.window_s, FTX_MIN_RATE_WINDOW_MAX);
	pace_add(&p, SIZE_MAX, 10);
	pace_add(&p, SIZE_MAX, 20);
	assert_true(pace_window_bytes(&p, 30) >= (uint64_t)SIZE_MAX);
	assert_int_equal(
	    pace_check(&p, (long long)(FTX_MIN_RATE_WINDOW_MAX + 1) * 1000),
	    PACE_SLOW);
	pace_init(&p, 1, -5, -5, 0);
	assert_int_equal(p.window_s, 1);
	assert_int_equal(p.stall_s, 0);
	/* A clock that runs backwards neither crashes nor counts. */
	pace_add(&p, 5, 10000);
	pace_add(&p, 5, 2000);
	assert_int_equal(pace_check(&p, 10500), PACE_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_steady_ok),
	    cmocka_unit_test(test_grace_first_window),
	    cmocka_unit_test(test_drip_is_slow),
	    cmocka_unit_test(test_old_burst_expires),
	    cmocka_unit_test(test_stall),
	    cmocka_unit_test(test_off),
	    cmocka_unit_test(test_boundary),
	    cmocka_unit_test(test_extremes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

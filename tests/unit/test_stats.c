/*
 * test_stats.c - unit tests for ftx/stats.c.
 *
 * Every expected value below was worked out by hand from the definitions
 * in stats.h (numpy-style linear percentiles, population stddev); the
 * arithmetic is shown next to the less obvious ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "stats.h"

/* cmocka 1.1.5 has no assert_float_equal; this also names the value. */
#define assert_near(what, got, want, tol)                                      \
	check_near((what), (got), (want), (tol), __FILE__, __LINE__)

static void
check_near(const char *what, double got, double want, double tol,
    const char *file, int line)
{
	if (!(fabs(got - want) <= tol)) {
		print_error("%s:%d: %s = %.17g, expected %.17g (+-%g)\n", file,
		    line, what, got, want, tol);
		fail();
	}
}

/* Compare a buffer's bytes with a C string. */
static void
assert_buf_equal(const struct buf *b, const char *want)
{
	size_t n = strlen(want);

	if (b->len != n || memcmp(buf_head(b), want, n) != 0) {
		print_error("buffer is \"%.*s\"\nexpected  \"%s\"\n",
		    (int)b->len, b->len > 0 ? buf_head(b) : "", want);
		fail();
	}
}

/* Compute, expecting success, and check every field. */
static void
check_stats(double *v, size_t n, double min, double avg, double median,
    double p90, double p99, double max, double stddev)
{
	struct stats st;
	const double tol = 1e-9;

	assert_int_equal(stats_compute(v, n, &st), 0);
	assert_int_equal(st.n, n);
	assert_near("min", st.min, min, tol);
	assert_near("avg", st.avg, avg, tol);
	assert_near("median", st.median, median, tol);
	assert_near("p90", st.p90, p90, tol);
	assert_near("p99", st.p99, p99, tol);
	assert_near("max", st.max, max, tol);
	assert_near("stddev", st.stddev, stddev, tol);
	/* The sanity ordering the RTT integration test relies on. */
	assert_true(st.min <= st.median && st.median <= st.p90);
	assert_true(st.p90 <= st.p99 && st.p99 <= st.max);
	assert_true(st.min <= st.avg && st.avg <= st.max);
	/* And the input really is sorted afterwards. */
	for (size_t i = 1; i < n; i++)
		assert_true(v[i - 1] <= v[i]);
}

static void
test_one_sample(void **state)
{
	double v[] = {3.5};

	check_stats(v, 1, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 0.0);
}

static void
test_two_samples(void **state)
{
	/* rank(p90) = 0.9 * 1 -> 1 + 0.9 * 2 = 2.8; p99 -> 2.98.  Mean 2,
	 * deviations +-1: population stddev 1. */
	double v[] = {3.0, 1.0};

	check_stats(v, 2, 1.0, 2.0, 2.0, 2.8, 2.98, 3.0, 1.0);
}

static void
test_odd_unsorted(void **state)
{
	/* Sorted 1..5.  rank(p90) = 0.9 * 4 = 3.6 -> 4.6; rank(p99) = 3.96
	 * -> 4.96.  Squared deviations 4+1+0+1+4 = 10, /5 = 2. */
	double v[] = {5.0, 1.0, 4.0, 2.0, 3.0};

	check_stats(v, 5, 1.0, 3.0, 3.0, 4.6, 4.96, 5.0, sqrt(2.0));
	assert_true(v[0] == 1.0 && v[2] == 3.0 && v[4] == 5.0);
}

static void
test_even_unsorted(void **state)
{
	/* Sorted 10 20 30 40.  Median: rank 1.5 -> 25.  p90: rank 2.7 ->
	 * 30 + 0.7 * 10 = 37.  p99: rank 2.97 -> 39.7.  Mean 25, squared
	 * deviations 225+25+25+225 = 500, /4 = 125. */
	double v[] = {10.0, 40.0, 20.0, 30.0};

	check_stats(v, 4, 10.0, 25.0, 25.0, 37.0, 39.7, 40.0, sqrt(125.0));
}

static void
test_identical(void **state)
{
	double v[7];
	struct stats st;

	for (size_t i = 0; i < 7; i++)
		v[i] = 0.25;
	check_stats(v, 7, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.0);
	/* Exactly zero, not merely small: nothing to round. */
	assert_int_equal(stats_compute(v, 7, &st), 0);
	assert_true(st.stddev == 0.0);
	assert_true(st.avg == 0.25);
}

static void
test_known_stddev(void **state)
{
	/* The textbook set: mean 5, population variance 4, stddev 2.
	 * Median: rank 3.5 -> (4 + 5) / 2 = 4.5.  p90: rank 6.3 -> 7 + 0.3
	 * * 2 = 7.6.  p99: rank 6.93 -> 7 + 0.93 * 2 = 8.86. */
	double v[] = {9, 4, 2, 5, 4, 7, 4, 5};

	check_stats(v, 8, 2.0, 5.0, 4.5, 7.6, 8.86, 9.0, 2.0);
}

static void
test_one_to_hundred(void **state)
{
	/* 1..100 in a scrambled order (37 is coprime with 100).  Median:
	 * rank 49.5 -> 50.5.  p90: rank 89.1 -> 90.1.  p99: rank 98.01 ->
	 * 99.01.  Variance of 1..n is (n^2 - 1) / 12. */
	double v[100];

	for (size_t i = 0; i < 100; i++)
		v[i] = (double)((i * 37) % 100 + 1);
	check_stats(
	    v, 100, 1.0, 50.5, 50.5, 90.1, 99.01, 100.0, sqrt(9999.0 / 12.0));
}

static void
test_stable_with_offset(void **state)
{
	/* {4, 7, 13, 16} has mean 10 and variance (36+9+9+36)/4 = 22.5.
	 * Shifted by 1e9, sum(x^2) - n*mean^2 would lose every digit
	 * (x^2 ~ 1e18 > 2^53); a stable method keeps them. */
	double v[] = {1e9 + 16, 1e9 + 4, 1e9 + 13, 1e9 + 7};
	struct stats st;

	assert_int_equal(stats_compute(v, 4, &st), 0);
	assert_near("avg", st.avg, 1e9 + 10, 1e-6);
	assert_near("stddev", st.stddev, sqrt(22.5), 1e-6);
}

static void
test_rejects(void **state)
{
	double v[] = {3.0, NAN, 1.0};
	double w[] = {2.0, 1.0, INFINITY};
	double x[] = {1.0, -INFINITY};
	double big[] = {DBL_MAX, -DBL_MAX};
	struct stats st;

	memset(&st, 0xff, sizeof(st));
	assert_int_equal(stats_compute(v, 0, &st), -1);
	assert_int_equal(st.n, 0);
	assert_int_equal(stats_compute(NULL, 3, &st), -1);
	assert_int_equal(stats_compute(v, 3, NULL), -1);
	/* A bad sample is rejected before sorting: the input is as given. */
	assert_int_equal(stats_compute(v, 3, &st), -1);
	assert_true(v[0] == 3.0 && isnan(v[1]) && v[2] == 1.0);
	assert_int_equal(stats_compute(w, 3, &st), -1);
	assert_true(w[0] == 2.0 && w[1] == 1.0);
	assert_int_equal(stats_compute(x, 2, &st), -1);
	/* Finite samples whose spread overflows a double. */
	assert_int_equal(stats_compute(big, 2, &st), -1);
	/* The good prefix of v is still fine. */
	assert_int_equal(stats_compute(v, 1, &st), 0);
	assert_int_equal(st.n, 1);
}

static void
test_percentile_edges(void **state)
{
	const double s[] = {1.0, 2.0, 4.0, 8.0};

	assert_true(stats_percentile(s, 4, 0.0) == 1.0);
	assert_true(stats_percentile(s, 4, 100.0) == 8.0);
	/* Out of range and NaN clamp rather than read out of bounds. */
	assert_true(stats_percentile(s, 4, -5.0) == 1.0);
	assert_true(stats_percentile(s, 4, 150.0) == 8.0);
	assert_true(stats_percentile(s, 4, NAN) == 1.0);
	/* Exactly on a rank: rank(100/3 * 3 / 100) = 1 -> 2. */
	assert_near("p(1/3)", stats_percentile(s, 4, 100.0 / 3.0), 2.0, 1e-12);
	/* Between ranks: p50 -> rank 1.5 -> 3; p75 -> rank 2.25 -> 5. */
	assert_near("p50", stats_percentile(s, 4, 50.0), 3.0, 1e-12);
	assert_near("p75", stats_percentile(s, 4, 75.0), 5.0, 1e-12);
	/* n == 1: every percentile is the sample. */
	assert_true(stats_percentile(s + 3, 1, 0.0) == 8.0);
	assert_true(stats_percentile(s + 3, 1, 37.0) == 8.0);
	assert_true(stats_percentile(s + 3, 1, 100.0) == 8.0);
	/* No samples: NaN, not a read. */
	assert_true(isnan(stats_percentile(s, 0, 50.0)));
	assert_true(isnan(stats_percentile(NULL, 4, 50.0)));
}

static void
test_percentile_monotonic(void **state)
{
	double v[1000], prev, cur, rank, want;
	size_t lo;
	unsigned int seed = 12345;

	/* Pseudo-random samples (a fixed LCG, so failures reproduce). */
	for (size_t i = 0; i < 1000; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = (double)(seed >> 8) / 1000.0;
	}
	struct stats st;
	assert_int_equal(stats_compute(v, 1000, &st), 0);
	prev = -INFINITY;
	for (int k = 0; k <= 1000; k++) {
		double p = k / 10.0;

		cur = stats_percentile(v, 1000, p);
		assert_true(cur >= prev);
		assert_true(cur >= st.min && cur <= st.max);
		/* Against the plain textbook formula. */
		rank = p / 100.0 * 999.0;
		lo = (size_t)floor(rank);
		want = lo >= 999 ? v[999]
				 : v[lo] + (v[lo + 1] - v[lo]) * (rank - lo);
		assert_near("percentile", cur, want, 1e-6);
		prev = cur;
	}
}

/*
 * Parse a histogram: per line the number of '#', the count after the
 * bar, and the column of '|'.  Returns the number of lines.
 */
static int
parse_hist(
    const struct buf *b, int *bars, size_t *counts, int *pipes, int maxlines)
{
	char *text, *line, *save = NULL, *bar, *end;
	int n = 0;

	text = malloc(b->len + 1);
	assert_non_null(text);
	memcpy(text, buf_head(b), b->len);
	text[b->len] = '\0';
	assert_true(b->len > 0 && text[b->len - 1] == '\n');
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		assert_true(n < maxlines);
		assert_memory_equal(line, "  ", 2);
		bar = strchr(line, '|');
		assert_non_null(bar);
		pipes[n] = (int)(bar - line);
		bars[n] = (int)strspn(bar + 1, "#");
		counts[n] = strtoul(bar + 1 + strspn(bar + 1, "# "), &end, 10);
		assert_true(*end == '\0');
		n++;
	}
	free(text);
	return n;
}

static void
test_histogram_exact(void **state)
{
	/* 1..10 in 3 buckets: edges 1, 4, 7, 10.  [1,4) holds 1 2 3, [4,7)
	 * 4 5 6, [7,10] 7 8 9 10.  The biggest bucket (4) gets the full 20
	 * columns, 3/4 of 20 = 15.  "10.000" is one wider than the other
	 * upper edges, so they are padded. */
	double v[10], w[101];
	struct buf b;

	for (size_t i = 0; i < 10; i++)
		v[i] = (double)(i + 1);
	buf_init(&b, 4096);
	assert_int_equal(stats_histogram(v, 10, 3, 20, "ms", &b), 0);
	assert_buf_equal(&b,
	    "  1.000-4.000  ms |###############      3\n"
	    "  4.000-7.000  ms |###############      3\n"
	    "  7.000-10.000 ms |#################### 4\n");
	buf_free(&b);

	/* A lone sample next to 100 others would scale to 0.1 of a '#':
	 * it still gets one, so a tail is never invisible. */
	for (size_t i = 0; i < 100; i++)
		w[i] = 0.0;
	w[100] = 1.0;
	buf_init(&b, 4096);
	assert_int_equal(stats_histogram(w, 101, 2, 10, "ms", &b), 0);
	assert_buf_equal(&b,
	    "  0.000-0.500 ms |##########"
	    " 100\n"
	    "  0.500-1.000 ms |#         "
	    "   1\n");
	buf_free(&b);
}

static void
test_histogram_shape(void **state)
{
	double v[500];
	int bars[64], pipes[64], rows, maxbar;
	size_t counts[64], sum, maxcount;
	struct stats st;
	struct buf b;
	unsigned int seed = 99;

	/* A skewed, RTT-like distribution with a long tail. */
	for (size_t i = 0; i < 500; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = 0.030 + pow((double)(seed >> 16) / 65536.0, 4.0) * 2.0;
	}
	assert_int_equal(stats_compute(v, 500, &st), 0);
	buf_init(&b, 1 << 20);
	assert_int_equal(stats_histogram(v, 500, 10, 40, "ms", &b), 0);
	rows = parse_hist(&b, bars, counts, pipes, 64);
	assert_int_equal(rows, 10);
	sum = 0;
	maxbar = 0;
	maxcount = 0;
	for (int i = 0; i < rows; i++) {
		sum += counts[i];
		if (bars[i] > maxbar)
			maxbar = bars[i];
		if (counts[i] > maxcount)
			maxcount = counts[i];
		/* Aligned columns, bars within width, non-empty visible. */
		assert_int_equal(pipes[i], pipes[0]);
		assert_true(bars[i] <= 40);
		assert_true(counts[i] == 0 ? bars[i] == 0 : bars[i] >= 1);
	}
	assert_int_equal(sum, 500);
	assert_int_equal(maxbar, 40);
	for (int i = 0; i < rows; i++) {
		if (counts[i] == maxcount)
			assert_int_equal(bars[i], 40);
	}
	/* Skewed: the first bucket is the biggest. */
	assert_int_equal(counts[0], maxcount);
	buf_free(&b);

	/* One row per bucket even with more rows than samples. */
	buf_init(&b, 1 << 20);
	assert_int_equal(stats_histogram(v, 3, 8, 5, NULL, &b), 0);
	rows = parse_hist(&b, bars, counts, pipes, 64);
	assert_int_equal(rows, 8);
	sum = 0;
	for (int i = 0; i < rows; i++)
		sum += counts[i];
	assert_int_equal(sum, 3);
	/* No unit: nothing between the upper edge and the bar. */
	assert_null(memmem(buf_head(&b), b.len, "ms", 2));
	buf_free(&b);
}

static void
test_histogram_single_bucket(void **state)
{
	double v[] = {2.5, 2.5, 2.5, 2.5, 2.5};
	struct buf b;

	/* min == max: one bucket whatever rows says, full bar. */
	buf_init(&b, 4096);
	assert_int_equal(stats_histogram(v, 5, 10, 6, "us", &b), 0);
	assert_buf_equal(&b, "  2.500-2.500 us |###### 5\n");
	buf_free(&b);

	/* n == 1 likewise. */
	buf_init(&b, 4096);
	assert_int_equal(stats_histogram(v, 1, 4, 3, "ms", &b), 0);
	assert_buf_equal(&b, "  2.500-2.500 ms |### 1\n");
	buf_free(&b);
}

static void
test_histogram_bad(void **state)
{
	double v[] = {1.0, 2.0, 3.0};
	double unsorted[] = {2.0, 1.0, 3.0};
	double nan[] = {1.0, NAN};
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(buf_append(&b, "x", 1), 0);
	assert_int_equal(stats_histogram(v, 0, 3, 10, "ms", &b), -1);
	assert_int_equal(stats_histogram(NULL, 3, 3, 10, "ms", &b), -1);
	assert_int_equal(stats_histogram(v, 3, 0, 10, "ms", &b), -1);
	assert_int_equal(stats_histogram(v, 3, 3, 0, "ms", &b), -1);
	assert_int_equal(stats_histogram(v, 3, -1, 10, "ms", &b), -1);
	assert_int_equal(stats_histogram(unsorted, 3, 3, 10, "ms", &b), -1);
	assert_int_equal(stats_histogram(nan, 2, 3, 10, "ms", &b), -1);
	assert_int_equal(stats_histogram(v, 3, 3, 10, "ms", NULL), -1);
	/* Nothing appended by any failure. */
	assert_buf_equal(&b, "x");
	buf_free(&b);

	/* Over the buffer's cap: fails whole, leaves the buffer as it was. */
	buf_init(&b, 40);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_int_equal(stats_histogram(v, 3, 3, 10, "ms", &b), -1);
	assert_buf_equal(&b, "abc");
	/* One line fits. */
	assert_int_equal(stats_histogram(v, 3, 1, 4, NULL, &b), 0);
	assert_buf_equal(&b, "abc  1.000-3.000 |#### 3\n");
	buf_free(&b);
}

static void
test_json(void **state)
{
	/* The two-sample set: 1 and 3 (see test_two_samples). */
	double v[] = {3.0, 1.0};
	struct stats st;
	struct buf b;

	assert_int_equal(stats_compute(v, 2, &st), 0);
	buf_init(&b, 4096);
	assert_int_equal(buf_append(&b, "{", 1), 0);
	assert_int_equal(stats_json(&st, "ms", &b), 0);
	assert_buf_equal(&b,
	    "{\"n\":2,\"min_ms\":1.000,\"avg_ms\":2.000,"
	    "\"median_ms\":2.000,\"p90_ms\":2.800,"
	    "\"p99_ms\":2.980,\"max_ms\":3.000,"
	    "\"stddev_ms\":1.000");
	buf_free(&b);

	/* No unit, no suffix; rounding to 3 decimals. */
	st.n = 500;
	st.min = 0.0314;
	st.avg = 0.0316;
	st.median = 1.2345678;
	st.p90 = 2.0;
	st.p99 = 10.9999;
	st.max = 123.4564;
	st.stddev = 0.0004;
	buf_init(&b, 4096);
	assert_int_equal(stats_json(&st, NULL, &b), 0);
	assert_buf_equal(&b,
	    "\"n\":500,\"min\":0.031,\"avg\":0.032,"
	    "\"median\":1.235,\"p90\":2.000,"
	    "\"p99\":11.000,\"max\":123.456,"
	    "\"stddev\":0.000");
	buf_reset(&b);
	assert_int_equal(stats_json(&st, "", &b), 0);
	assert_true(
	    b.len > 0 && memcmp(buf_head(&b), "\"n\":500,\"min\":", 14) == 0);
	buf_free(&b);
}

static void
test_json_bad(void **state)
{
	double v[] = {1.0, 2.0};
	struct stats st;
	struct buf b;

	assert_int_equal(stats_compute(v, 2, &st), 0);
	buf_init(&b, 4096);
	/* A unit that would need escaping inside a JSON key. */
	assert_int_equal(stats_json(&st, "m\"s", &b), -1);
	assert_int_equal(stats_json(&st, "m s", &b), -1);
	assert_int_equal(stats_json(&st, "ms\\", &b), -1);
	assert_int_equal(stats_json(NULL, "ms", &b), -1);
	assert_int_equal(stats_json(&st, "ms", NULL), -1);
	/* JSON has no NaN or infinity. */
	st.p99 = NAN;
	assert_int_equal(stats_json(&st, "ms", &b), -1);
	st.p99 = INFINITY;
	assert_int_equal(stats_json(&st, "ms", &b), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);

	/* Over the cap: all or nothing. */
	assert_int_equal(stats_compute(v, 2, &st), 0);
	buf_init(&b, 50);
	assert_int_equal(buf_append(&b, "{", 1), 0);
	assert_int_equal(stats_json(&st, "ms", &b), -1);
	assert_buf_equal(&b, "{");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_sample),
	    cmocka_unit_test(test_two_samples),
	    cmocka_unit_test(test_odd_unsorted),
	    cmocka_unit_test(test_even_unsorted),
	    cmocka_unit_test(test_identical),
	    cmocka_unit_test(test_known_stddev),
	    cmocka_unit_test(test_one_to_hundred),
	    cmocka_unit_test(test_stable_with_offset),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_percentile_edges),
	    cmocka_unit_test(test_percentile_monotonic),
	    cmocka_unit_test(test_histogram_exact),
	    cmocka_unit_test(test_histogram_shape),
	    cmocka_unit_test(test_histogram_single_bucket),
	    cmocka_unit_test(test_histogram_bad),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_json_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

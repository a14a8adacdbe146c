/*
 * stats.c - summary statistics, a text histogram and JSON for samples
 * such as round-trip times.
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "str.h"

/*
 * Room for one number printed with "%.3f": DBL_MAX has 309 integer
 * digits, plus sign, point and 3 decimals.
 */
#define STATS_NUM_MAX 400

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	/* No NaN reaches here (stats_compute rejects them), so this is a
	 * total order and qsort is well defined. */
	return (x > y) - (x < y);
}

int
stats_compute(double *v, size_t n, struct stats *st)
{
	double mean = 0.0, m2 = 0.0, d;
	size_t i;

	if (st == NULL)
		return -1;
	memset(st, 0, sizeof(*st));
	if (v == NULL || n == 0)
		return -1;
	/*
	 * Welford's update: the running mean never sums all samples, so
	 * it cannot overflow where the naive sum would, and the squared
	 * deviations are accumulated without the catastrophic cancellation
	 * of sum(x^2) - n*mean^2.  It runs before sorting so that a bad
	 * sample leaves v untouched.
	 */
	for (i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			return -1;
		d = v[i] - mean;
		mean += d / (double)(i + 1);
		m2 += d * (v[i] - mean);
	}
	if (!isfinite(mean) || !isfinite(m2))
		return -1;
	qsort(v, n, sizeof(*v), cmp_double);
	st->n = n;
	st->min = v[0];
	st->max = v[n - 1];
	/* Rounding may put the running mean an ulp outside the samples'
	 * range; callers rightly expect min <= avg <= max. */
	st->avg = fmin(fmax(mean, st->min), st->max);
	st->median = stats_percentile(v, n, 50.0);
	st->p90 = stats_percentile(v, n, 90.0);
	st->p99 = stats_percentile(v, n, 99.0);
	st->stddev = sqrt(m2 / (double)n);
	return 0;
}

double
stats_percentile(const double *sorted, size_t n, double p)
{
	double rank, t, a, b, diff;
	size_t lo;

	if (sorted == NULL || n == 0)
		return NAN;
	/* Written so that NaN fails the first test and becomes 0. */
	if (!(p > 0.0))
		p = 0.0;
	if (p > 100.0)
		p = 100.0;
	rank = p / 100.0 * (double)(n - 1);
	/* rank >= 0, so truncation is floor. */
	lo = (size_t)rank;
	if (lo >= n - 1)
		return sorted[n - 1];
	t = rank - (double)lo;
	a = sorted[lo];
	b = sorted[lo + 1];
	diff = b - a;
	if (!isfinite(diff))
		return a * (1.0 - t) + b * t;
	/*
	 * numpy's lerp: interpolate from the nearer end, so that t == 0
	 * and t == 1 give a and b exactly and the result is monotonic in p.
	 */
	if (t >= 0.5)
		return b - diff * (1.0 - t);
	return a + diff * t;
}

/* Lower edge of bucket i of `rows` over [min, max]; edge(rows) == max. */
static double
bucket_edge(double min, double max, int i, int rows)
{
	double t, scaled;

	if (i <= 0)
		return min;
	if (i >= rows)
		return max;
	/* Multiply before dividing so that edges that are whole numbers
	 * come out exact (9 * 1 / 3 is 3, 9 * (1 / 3) need not be). */
	scaled = (max - min) * (double)i;
	if (isfinite(scaled))
		return min + scaled / (double)rows;
	/* A span beyond DBL_MAX still has representable edges. */
	t = (double)i / (double)rows;
	return min * (1.0 - t) + max * t;
}

static int
num_str(char *out, size_t size, double x, int *width)
{
	size_t len;

	if (str_fmt(out, size, "%.3f", x) == -1)
		return -1;
	len = strlen(out);
	if (width != NULL && (int)len > *width)
		*width = (int)len;
	return 0;
}

int
stats_histogram(const double *sorted, size_t n, int rows, int width,
    const char *unit, struct buf *out)
{
	char lo[STATS_NUM_MAX], hi[STATS_NUM_MAX], cnt[32];
	struct buf tmp;
	size_t *count = NULL, maxc = 0, i, j;
	double min, max, e;
	int r, wlo = 0, whi = 0, wc = 0, bar, rc = -1;
	char *p;

	buf_init(&tmp, 0);
	if (sorted == NULL || n == 0 || rows < 1 || width < 1 || out == NULL)
		return -1;
	if (unit == NULL)
		unit = "";
	/* The bucket sweep below relies on the order; check it rather than
	 * print a silently wrong histogram. */
	for (i = 0; i < n; i++) {
		if (!isfinite(sorted[i]))
			return -1;
		if (i > 0 && sorted[i] < sorted[i - 1])
			return -1;
	}
	min = sorted[0];
	max = sorted[n - 1];
	if (min == max)
		rows = 1;
	count = calloc((size_t)rows, sizeof(*count));
	if (count == NULL)
		return -1;

	/* One sweep over the sorted samples: bucket r is [edge(r),
	 * edge(r+1)), the last one also takes max itself.  Using the same
	 * edges we print keeps the counts consistent with the labels. */
	j = 0;
	for (r = 0; r < rows; r++) {
		e = r == rows - 1 ? INFINITY
				  : bucket_edge(min, max, r + 1, rows);
		while (j < n && sorted[j] < e) {
			count[r]++;
			j++;
		}
		if (count[r] > maxc)
			maxc = count[r];
	}

	/* Column widths, so that the bars line up. */
	for (r = 0; r < rows; r++) {
		if (num_str(lo, sizeof(lo), bucket_edge(min, max, r, rows),
			&wlo) == -1 ||
		    num_str(hi, sizeof(hi), bucket_edge(min, max, r + 1, rows),
			&whi) == -1)
			goto fail;
	}
	if (str_fmt(cnt, sizeof(cnt), "%zu", maxc) == -1)
		goto fail;
	wc = (int)strlen(cnt);

	/* Build the whole histogram aside and append it in one go, so a
	 * failure half way leaves `out` as it was. */
	buf_init(&tmp, out->max - out->len);
	for (r = 0; r < rows; r++) {
		if (num_str(lo, sizeof(lo), bucket_edge(min, max, r, rows),
			NULL) == -1 ||
		    num_str(hi, sizeof(hi), bucket_edge(min, max, r + 1, rows),
			NULL) == -1)
			goto fail;
		if (buf_printf(&tmp, "  %*s-%-*s%s%s |", wlo, lo, whi, hi,
			*unit != '\0' ? " " : "", unit) == -1)
			goto fail;
		/* maxc > 0: the samples all fall into some bucket. */
		bar = (int)((double)count[r] / (double)maxc * (double)width +
		    0.5);
		if (bar > width)
			bar = width;
		if (count[r] > 0 && bar == 0)
			bar = 1;
		if ((p = buf_reserve(&tmp, (size_t)width)) == NULL)
			goto fail;
		memset(p, '#', (size_t)bar);
		memset(p + bar, ' ', (size_t)(width - bar));
		buf_commit(&tmp, (size_t)width);
		if (buf_printf(&tmp, " %*zu\n", wc, count[r]) == -1)
			goto fail;
	}
	if (buf_append(out, buf_head(&tmp), tmp.len) == -1)
		goto fail;
	rc = 0;
fail:
	buf_free(&tmp);
	free(count);
	return rc;
}

/* A unit becomes part of JSON keys: allow only what needs no escaping. */
static int
unit_ok(const char *unit)
{
	const char *s;

	for (s = unit; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	}
	return 1;
}

int
stats_json(const struct stats *st, const char *unit, struct buf *out)
{
	static const char *keys[] = {
	    "min", "avg", "median", "p90", "p99", "max", "stddev"};
	double vals[sizeof(keys) / sizeof(keys[0])];
	char key[64];
	size_t i, start;

	if (st == NULL || out == NULL)
		return -1;
	vals[0] = st->min;
	vals[1] = st->avg;
	vals[2] = st->median;
	vals[3] = st->p90;
	vals[4] = st->p99;
	vals[5] = st->max;
	vals[6] = st->stddev;
	if (unit == NULL)
		unit = "";
	if (!unit_ok(unit))
		return -1;
	/* JSON has no NaN or infinity. */
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		if (!isfinite(vals[i]))
			return -1;
	}
	/* Through json.h like every other --json output; all or nothing. */
	start = out->len;
	if (json_kv_raw(out, "n", "%zu", st->n) == -1)
		goto fail;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		if (str_fmt(key, sizeof(key), "%s%s%s", keys[i],
			*unit != '\0' ? "_" : "", unit) == -1 ||
		    json_kv_raw(out, key, "%.3f", vals[i]) == -1)
			goto fail;
	}
	return 0;
fail:
	out->len = start;
	return -1;
}

/*
 * stats.h - summary statistics, a text histogram and JSON for samples
 * such as round-trip times.
 *
 * Numbers are printed with printf's "%.3f", so the process must keep the
 * "C" LC_NUMERIC locale (ftx never calls setlocale) for the JSON to stay
 * valid.
 */
#ifndef FTX_STATS_H
#define FTX_STATS_H

#include <stddef.h>

#include "buf.h"

struct stats {
	size_t n;
	double min, max, avg, median, p90, p99,
	    stddev; /* unit of the samples */
};

/*
 * Sort v[0..n) ascending in place and fill *st.  Percentiles by linear
 * interpolation between closest ranks (numpy's default: rank =
 * p/100*(n-1)).  stddev is the population standard deviation (divide by
 * n), computed in a numerically stable way (Welford).  Returns 0, or -1
 * if n == 0, an argument is NULL, a sample is NaN/inf or the result
 * overflows a double; on failure v is left untouched and *st zeroed.
 */
int stats_compute(double *v, size_t n, struct stats *st);

/*
 * The p-th percentile (0 <= p <= 100) of sorted[0..n), n > 0.  p outside
 * the range (or NaN) is clamped to it; NaN is returned if sorted is NULL
 * or n == 0.
 */
double stats_percentile(const double *sorted, size_t n, double p);

/*
 * Append a text histogram of sorted[0..n) to `out`: `rows` equal-width
 * buckets from min to max (one bucket if min == max), one line each:
 *	"  <lo>-<hi> <unit> |#####      count"
 * Buckets are [lo, hi) except the last, which is [lo, hi].  Bars are
 * scaled so the biggest bucket is `width` '#' characters (a non-empty
 * bucket always gets at least one), numbers have 3 decimals and the
 * columns are aligned.  `unit` may be NULL or "" for none.  Returns 0, or
 * -1 (nothing appended) if out of memory, over the buffer's cap, or on
 * bad arguments (n == 0, rows < 1, width < 1, input not sorted or not
 * finite).
 */
int stats_histogram(const double *sorted, size_t n, int rows, int width,
    const char *unit, struct buf *out);

/*
 * Append the stats as JSON object members (no braces) to `out`:
 *	"n":500,"min_ms":0.031,"avg_ms":...,"median_ms":...,"p90_ms":...,
 *	"p99_ms":...,"max_ms":...,"stddev_ms":...
 * Each key but n is suffixed with `_` + unit (no suffix if unit is NULL
 * or ""); values have 3 decimals.  Returns 0, or -1 (nothing appended)
 * if unit is not [A-Za-z0-9_]*, a value is not finite, or on cap/memory.
 */
int stats_json(const struct stats *st, const char *unit, struct buf *out);

#endif /* FTX_STATS_H */

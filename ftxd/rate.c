/*
 * rate.c - a token-bucket bandwidth limiter.  See rate.h.
 */
#include "rate.h"

#include <errno.h>
#include <time.h>

/* rate_wait() never sleeps longer than this in one call (a day): it keeps
 * the deadline inside time_t, and no sane request waits that long. */
#define RATE_SLEEP_MAX_S 86400.0

void
rate_init(struct rate *r, uint64_t bytes_per_s, double now_s)
{
	r->bps = bytes_per_s;
	r->burst = (double)bytes_per_s * FTX_RATE_BURST_MS / 1000.0;
	/* At very low rates the bucket must still hold a whole byte, or no
	 * request could ever go without a debt. */
	if (r->burst < 1.0)
		r->burst = 1.0;
	/* Start full: the first bucket's worth goes at once, like after any
	 * idle period. */
	r->tokens = r->burst;
	r->last = now_s;
}

double
rate_delay(struct rate *r, size_t n, double now_s)
{
	double elapsed;

	if (r->bps == 0)
		return 0.0;
	/* Refill for the time since the last call.  A clock that stands
	 * still or runs backwards (or a NaN) adds nothing and does not move
	 * `last` back, so it cannot mint tokens later either. */
	elapsed = now_s - r->last;
	if (elapsed > 0.0) {
		r->tokens += elapsed * (double)r->bps;
		/* SECURITY: an idle session banks at most one bucket, so
		 * after a pause it cannot burst above the limit. */
		if (r->tokens > r->burst)
			r->tokens = r->burst;
		r->last = now_s;
	}
	/* Charge the whole request, even beyond the bucket: the debt makes
	 * the caller wait in proportion and keeps the long-run rate exact. */
	r->tokens -= (double)n;
	if (r->tokens >= 0.0)
		return 0.0;
	return -r->tokens / (double)r->bps;
}

size_t
rate_chunk(const struct rate *r, size_t want)
{
	if (r->bps == 0)
		return want;
	/* Compare in double: burst may exceed SIZE_MAX on 32-bit hosts.
	 * burst >= 1, so the truncation below yields at least 1.  (No
	 * floor(): ftxd does not link libm.) */
	if ((double)want <= r->burst)
		return want;
	return (size_t)r->burst;
}

double
rate_now(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on Linux; 0 would only make the
	 * bucket refill nothing (wait longer), never less. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0.0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
rate_wait(struct rate *r, size_t n)
{
	struct timespec ts;
	double now, d;
	time_t whole;
	long nsec;
	int rc;

	if (r->bps == 0)
		return;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return;
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	d = rate_delay(r, n, now);
	if (!(d > 0.0))
		return;
	if (d > RATE_SLEEP_MAX_S)
		d = RATE_SLEEP_MAX_S;
	/* Sleep to an absolute deadline, so a signal (EINTR) restarts the
	 * sleep without stretching it. */
	whole = (time_t)d;
	nsec = ts.tv_nsec + (long)((d - (double)whole) * 1e9);
	ts.tv_sec += whole;
	if (nsec >= 1000000000L) {
		ts.tv_sec += 1;
		nsec -= 1000000000L;
	}
	ts.tv_nsec = nsec;
	do {
		rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	} while (rc == EINTR);
}

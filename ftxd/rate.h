/*
 * rate.h - a token-bucket bandwidth limiter (ftxd --max-rate BYTES/S).
 *
 * The bucket fills at `bps` bytes per second up to `burst` bytes
 * (FTX_RATE_BURST_MS worth).  Every transfer of n bytes is charged to it;
 * the charge may take the bucket below zero (a debt), and the caller then
 * waits until the debt is paid.  So a request larger than the bucket is
 * allowed and simply waits in proportion to its size, and the long-run
 * rate is exact: at most burst + bps * t bytes pass in any t seconds.
 *
 * Smoothness depends on the size of each request as well: a 256 KiB
 * write at 100 KB/s is 2.6 s of data in one lump.  Callers therefore cut
 * their I/O with rate_chunk(), which keeps every request within one
 * bucket (50 ms of data), and the rate is then even within 10% over any
 * 5 s window.  That also bounds each rate_wait() to about 50 ms, so a
 * worker notices a shutdown promptly.
 *
 * Usage in a worker (blocking sleeps are fine there):
 *
 *	rate_init(&r, max_rate, rate_now());
 *	for (;;) {
 *		n = rate_chunk(&r, sizeof(buf));
 *		got = recv(fd, buf, n, 0);      (or send)
 *		...
 *		rate_wait(&r, (size_t)got);     charge what really moved
 *	}
 *
 * Charging after the I/O (as above) or before it (rate_wait(n), then
 * send n) gives the same long-run rate.  Not thread-safe: one bucket per
 * session, used by the thread that moves that session's bytes.
 */
#ifndef FTX_RATE_H
#define FTX_RATE_H

#include <stddef.h>
#include <stdint.h>

#include "ftx_limits.h"

struct rate {
	uint64_t bps; /* bytes per second; 0 = unlimited */
	double tokens; /* bytes that may go now; negative = debt */
	double burst; /* bucket capacity in bytes */
	double last; /* clock (seconds) of the last refill */
};

/* Set up a full bucket for `bytes_per_s` (0 = unlimited) at time now_s. */
void rate_init(struct rate *r, uint64_t bytes_per_s, double now_s);

/*
 * Charge n bytes at time now_s and return how many seconds the caller
 * must wait before they may go (0 if at once).  The clock is the
 * caller's (tests pass a fake one); a clock that runs backwards refills
 * nothing.  Always >= 0 and finite, also for huge n.
 */
double rate_delay(struct rate *r, size_t n, double now_s);

/* The largest request (at most `want`, at least 1) that keeps the flow
 * smooth: one bucket's worth.  `want` itself when unlimited. */
size_t rate_chunk(const struct rate *r, size_t want);

/* rate_delay() on CLOCK_MONOTONIC, then sleep that long (restarted on
 * EINTR).  Returns at once when unlimited. */
void rate_wait(struct rate *r, size_t n);

/* CLOCK_MONOTONIC in seconds, the clock rate_wait() uses. */
double rate_now(void);

#endif /* FTX_RATE_H */

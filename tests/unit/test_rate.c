/*
 * test_rate.c - unit tests for the token-bucket limiter (ftxd/rate.c).
 *
 * Most tests drive rate_delay() with a fake clock: a simulated caller
 * moves bytes, waits exactly what the limiter says, and we record when
 * every byte went.  The promise is checked on that record: the
 * long-run rate within 1%, every 5 s window within 10%, and no window
 * above rate * length + one bucket.  A short real-clock test checks that
 * rate_wait() really sleeps, also when signals interrupt it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>
#include <signal.h>
#include <sys/time.h>

#include "ftx_limits.h"
#include "rate.h"

/* The worker's largest read or write (64 chunks of 4 KiB). */
#define IO_MAX (256 * 1024)
/* Simulated seconds for the window tests, and the window. */
#define SIM_S 60.0
#define WIN_S 5.0

/* When bytes went, as recorded by a simulation. */
struct event {
	double t;
	double n;
};

struct record {
	struct event *ev;
	size_t len, cap;
};

static void
record_add(struct record *rec, double t, double n)
{
	if (rec->len == rec->cap) {
		rec->cap = rec->cap ? rec->cap * 2 : 1024;
		rec->ev = realloc(rec->ev, rec->cap * sizeof(*rec->ev));
		assert_non_null(rec->ev);
	}
	rec->ev[rec->len].t = t;
	rec->ev[rec->len].n = n;
	rec->len++;
}

/* A small deterministic PRNG (xorshift64), so failures reproduce. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

enum sim_mode {
	PRE_CHARGE, /* rate_wait(n), then send n (a sender) */
	POST_CHARGE /* recv some bytes, then rate_wait(got) (a receiver) */
};

/*
 * Simulate a worker for `secs` fake seconds at `bps`.  Each I/O asks for
 * rate_chunk(IO_MAX) bytes (or IO_MAX when `ignore_chunk`), a receiver
 * gets a random part of it, and every I/O itself takes up to `io_us`
 * microseconds of fake time.
 */
static void
simulate(struct record *rec, uint64_t bps, enum sim_mode mode, int ignore_chunk,
    unsigned io_us, double secs, uint64_t seed)
{
	struct rate r;
	double t = 0.0, d;
	size_t n;

	memset(rec, 0, sizeof(*rec));
	rate_init(&r, bps, t);
	while (t < secs) {
		n = ignore_chunk ? IO_MAX : rate_chunk(&r, IO_MAX);
		assert_true(n >= 1 && n <= IO_MAX);
		if (mode == POST_CHARGE)
			n = 1 + (size_t)(rnd(&seed) % n);
		if (io_us > 0)
			t += (double)(rnd(&seed) % io_us) / 1e6;
		if (mode == PRE_CHARGE) {
			d = rate_delay(&r, n, t);
			assert_true(d >= 0.0 && isfinite(d));
			t += d;
			record_add(rec, t, (double)n);
		} else {
			record_add(rec, t, (double)n);
			d = rate_delay(&r, n, t);
			assert_true(d >= 0.0 && isfinite(d));
			t += d;
		}
	}
}

/* Bytes of `rec` in [s, s + w), moving the two cursors forward. */
static double
window_bytes(const struct record *rec, double s, double w, size_t *lo,
    size_t *hi, double *sum)
{
	while (*hi < rec->len && rec->ev[*hi].t < s + w)
		*sum += rec->ev[(*hi)++].n;
	while (*lo < *hi && rec->ev[*lo].t < s)
		*sum -= rec->ev[(*lo)++].n;
	return *sum;
}

/* Check every WIN_S window that lies inside [0, secs] against
 * bps * WIN_S: within `tol` (a fraction), and never above the strict
 * bound bps * WIN_S + burst + `slack` bytes. */
static void
check_windows(const struct record *rec, uint64_t bps, double secs, double tol,
    double slack)
{
	double want = (double)bps * WIN_S, burst, got, s, sum = 0.0;
	double worst = 0.0;
	size_t lo = 0, hi = 0, step;

	burst = (double)bps * FTX_RATE_BURST_MS / 1000.0;
	if (burst < 1.0)
		burst = 1.0;
	/* Window starts every 10 ms. */
	for (step = 0; (s = (double)step / 100) + WIN_S <= secs; step++) {
		got = window_bytes(rec, s, WIN_S, &lo, &hi, &sum);
		if (fabs(got - want) > worst * want)
			worst = fabs(got - want) / want;
		if (fabs(got - want) > tol * want)
			fail_msg("%llu B/s: window [%.2f, %.2f) moved %.0f "
				 "bytes, want %.0f +- %.0f%%",
			    (unsigned long long)bps, s, s + WIN_S, got, want,
			    tol * 100);
		if (got > want + burst + slack + 1e-6 * want)
			fail_msg("%llu B/s: window [%.2f, %.2f) moved %.0f "
				 "bytes, above rate*5s + burst %.0f",
			    (unsigned long long)bps, s, s + WIN_S, got,
			    want + burst + slack);
	}
	print_message("  %llu B/s: worst 5 s window off by %.3f%%\n",
	    (unsigned long long)bps, worst * 100);
}

/* Total rate over the whole record: bytes / time of the last event. */
static void
check_long_run(const struct record *rec, uint64_t bps, double tol)
{
	double total = 0.0, secs, got;
	size_t i;

	if (rec->len == 0 || rec->ev == NULL) {
		fail_msg("%llu B/s: nothing was sent", (unsigned long long)bps);
		return;
	}
	for (i = 0; i < rec->len; i++)
		total += rec->ev[i].n;
	secs = rec->ev[rec->len - 1].t;
	assert_true(secs > 0.0);
	got = total / secs;
	if (fabs(got - (double)bps) > tol * (double)bps)
		fail_msg("%llu B/s: long-run rate %.1f B/s is off by %.3f%%",
		    (unsigned long long)bps, got,
		    100 * fabs(got - (double)bps) / (double)bps);
}

static const uint64_t rates[] = {
    10,
    1000,
    123457,
    1000000,
    50ULL * 1000 * 1000,
    1000ULL * 1000 * 1000,
};
#define NRATES (sizeof(rates) / sizeof(rates[0]))

/* A sender that cuts its writes with rate_chunk(): the long run is exact
 * within 1% and every 5 s window within 10%, at every rate. */
static void
test_sender_smooth(void **state)
{
	struct record rec;
	size_t i;

	for (i = 0; i < NRATES; i++) {
		simulate(&rec, rates[i], PRE_CHARGE, 0, 0, SIM_S, 1 + i);
		check_long_run(&rec, rates[i], 0.01);
		/* Charged before it goes, every byte conforms: no window
		 * exceeds rate * 5 s + one bucket. */
		check_windows(&rec, rates[i], SIM_S, 0.10, 0.0);
		free(rec.ev);
	}
}

/* A receiver: random read sizes, I/O that takes time, and the charge
 * after the bytes arrived.  Same promises; a window may additionally
 * hold the one chunk that is not yet charged. */
static void
test_receiver_smooth(void **state)
{
	struct record rec;
	size_t i;
	struct rate r;

	for (i = 0; i < NRATES; i++) {
		rate_init(&r, rates[i], 0.0);
		simulate(&rec, rates[i], POST_CHARGE, 0, 100, SIM_S, 77 + i);
		check_long_run(&rec, rates[i], 0.01);
		check_windows(&rec, rates[i], SIM_S, 0.10,
		    (double)rate_chunk(&r, IO_MAX));
		free(rec.ev);
	}
}

/* A caller that ignores rate_chunk() and always moves 256 KiB, which is
 * far more than one bucket at 2 MB/s: it waits in proportion, and the
 * rate stays exact (the 5 s windows are still within 10% at this rate,
 * where 256 KiB is 2.6% of a window). */
static void
test_large_requests(void **state)
{
	struct record rec;
	uint64_t bps = 2000000;

	simulate(&rec, bps, PRE_CHARGE, 1, 0, SIM_S, 5);
	check_long_run(&rec, bps, 0.01);
	/* A request bigger than the bucket cannot conform to it, so the
	 * strict bound grows by that request. */
	check_windows(&rec, bps, SIM_S, 0.10, IO_MAX);
	free(rec.ev);

	/* One request 100 times the bucket waits 99 buckets' time. */
	{
		struct rate r;
		double burst, d;

		rate_init(&r, 1000000, 10.0);
		burst = r.burst;
		d = rate_delay(&r, (size_t)(100 * burst), 10.0);
		assert_true(fabs(d - 99 * burst / 1e6) < 1e-9);
	}
}

/* After a long idle period a session may send one bucket at once, no
 * more: the bucket does not bank idle time. */
static void
test_burst_bounded(void **state)
{
	static const uint64_t bps[] = {1, 10, 1000, 1000000, 1ULL << 40};
	struct rate r;
	size_t i;
	double t, free_bytes, want, chunk;

	for (i = 0; i < sizeof(bps) / sizeof(bps[0]); i++) {
		want = (double)bps[i] * FTX_RATE_BURST_MS / 1000.0;
		if (want < 1.0)
			want = 1.0;
		rate_init(&r, bps[i], 0.0);
		assert_true(fabs(r.burst - want) < 1e-9 * want);
		/* Idle for a day, then take as much as goes at once, in
		 * pieces of about 1/1000 of the bucket. */
		t = 86400.0;
		chunk = want / 1000 >= 1 ? want / 1000 : 1;
		free_bytes = 0.0;
		while (rate_delay(&r, (size_t)chunk, t) == 0.0) {
			free_bytes += (double)(size_t)chunk;
			assert_true(free_bytes <= want);
		}
		/* Everything in the bucket was usable, too. */
		assert_true(free_bytes >= want - 2 * chunk);
		/* And the next byte now has to wait. */
		assert_true(rate_delay(&r, 1, t) > 0.0);
	}
}

/* rate 0 means unlimited: never a wait, whatever the size. */
static void
test_unlimited(void **state)
{
	struct rate r;
	double t0;
	int i;

	rate_init(&r, 0, 5.0);
	for (i = 0; i < 1000; i++) {
		assert_true(rate_delay(&r, SIZE_MAX, 5.0) == 0.0);
		assert_true(rate_delay(&r, (size_t)i, 5.0) == 0.0);
	}
	assert_int_equal(rate_chunk(&r, IO_MAX), IO_MAX);
	assert_int_equal(rate_chunk(&r, SIZE_MAX), SIZE_MAX);
	/* rate_wait() must return at once. */
	t0 = rate_now();
	for (i = 0; i < 100000; i++)
		rate_wait(&r, SIZE_MAX);
	assert_true(rate_now() - t0 < 0.5);
}

/* rate_chunk(): one bucket, at least one byte, at most what was asked. */
static void
test_chunk(void **state)
{
	struct rate r;

	rate_init(&r, 100000, 0.0); /* bucket: 5000 bytes */
	assert_int_equal(rate_chunk(&r, IO_MAX), 5000);
	assert_int_equal(rate_chunk(&r, 100), 100);
	assert_int_equal(rate_chunk(&r, 0), 0);
	rate_init(&r, 1, 0.0); /* bucket rounded up to one byte */
	assert_int_equal(rate_chunk(&r, IO_MAX), 1);
	rate_init(&r, UINT64_MAX, 0.0);
	assert_int_equal(rate_chunk(&r, IO_MAX), IO_MAX);
	/* ... but a huge request is still cut to one (huge) bucket. */
	assert_int_equal(rate_chunk(&r, SIZE_MAX), (size_t)r.burst);
}

/* Extreme rates, sizes and clocks give finite, non-negative waits. */
static void
test_extremes(void **state)
{
	struct rate r;
	double d;

	/* The largest rate and the largest request. */
	rate_init(&r, UINT64_MAX, 0.0);
	d = rate_delay(&r, SIZE_MAX, 0.0);
	assert_true(isfinite(d) && d >= 0.0 && d < 2.0);
	d = rate_delay(&r, SIZE_MAX, 1e12);
	assert_true(isfinite(d) && d >= 0.0 && d < 2.0);

	/* One byte per second and a request of SIZE_MAX bytes: an
	 * astronomical but finite wait, not an overflow to 0 or inf. */
	rate_init(&r, 1, 0.0);
	d = rate_delay(&r, SIZE_MAX, 0.0);
	assert_true(isfinite(d) && d > 1e18);

	/* A clock that jumps far ahead refills one bucket only. */
	rate_init(&r, 1000, 0.0);
	(void)rate_delay(&r, 1000000, 0.0);
	assert_true(rate_delay(&r, 0, 1e15) == 0.0);
	assert_true(r.tokens <= r.burst);

	/* A clock that runs backwards refills nothing, and does not make
	 * the next forward step count twice. */
	rate_init(&r, 1000, 100.0);
	(void)rate_delay(&r, 50, 100.0); /* bucket now empty */
	d = rate_delay(&r, 10, 50.0);
	assert_true(fabs(d - 0.010) < 1e-9);
	d = rate_delay(&r, 0, 100.01); /* 10 bytes of refill pay the debt */
	assert_true(d == 0.0);
	assert_true(fabs(r.tokens) < 1e-6);
}

static volatile sig_atomic_t alarms;

static void
on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* The real clock: rate_wait() sleeps as long as the bucket says, also
 * while a timer interrupts it every 5 ms (EINTR restarts the sleep). */
static void
test_wait_real(void **state)
{
	struct sigaction sa, old;
	struct itimerval it, off;
	struct rate r;
	size_t sent = 0, total = 600000, n;
	double t0, elapsed, want;
	uint64_t bps = 2000000; /* bucket: 100000 bytes */

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: sleeps see EINTR */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	memset(&it, 0, sizeof(it));
	it.it_interval.tv_usec = 5000;
	it.it_value.tv_usec = 5000;
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);

	rate_init(&r, bps, rate_now());
	t0 = rate_now();
	while (sent < total) {
		n = rate_chunk(&r, IO_MAX);
		if (n > total - sent)
			n = total - sent;
		rate_wait(&r, n);
		sent += n;
	}
	elapsed = rate_now() - t0;

	memset(&off, 0, sizeof(off));
	assert_int_equal(setitimer(ITIMER_REAL, &off, NULL), 0);
	assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);

	/* The first bucket is free; the rest takes (total - burst) / bps. */
	want = (double)(total - 100000) / (double)bps;
	print_message("  rate_wait: %.3f s for %.3f s of data, %d signals\n",
	    elapsed, want, (int)alarms);
	/* Signals did interrupt the sleeps (about 50 are due; ThreadSanitizer
	 * delivers them late and merges them, so ask only for some). */
	assert_true(alarms >= 2);
	assert_true(elapsed >= want - 0.005);
	assert_true(elapsed < want + 1.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sender_smooth),
	    cmocka_unit_test(test_receiver_smooth),
	    cmocka_unit_test(test_large_requests),
	    cmocka_unit_test(test_burst_bounded),
	    cmocka_unit_test(test_unlimited),
	    cmocka_unit_test(test_chunk),
	    cmocka_unit_test(test_extremes),
	    cmocka_unit_test(test_wait_real),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

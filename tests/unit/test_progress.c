/*
 * test_progress.c - unit tests for ftx/progress.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "progress.h"
#include "str.h"

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

static void
test_rate(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(progress_rate(out, sizeof(out), 512.0), 0);
	assert_string_equal(out, "512 B/s");
	assert_int_equal(progress_rate(out, sizeof(out), 12.3 * MiB), 0);
	assert_string_equal(out, "12.3 MiB/s");
	assert_int_equal(progress_rate(out, sizeof(out), -1.0), 0);
	assert_string_equal(out, "--/s");
	assert_int_equal(progress_rate(out, 5, 12.3 * MiB), -1);
}

static void
test_bytes(void **state)
{
	static const struct {
		uint64_t v;
		const char *want;
	} cases[] = {
	    {0, "0 B"},
	    {1, "1 B"},
	    {1023, "1023 B"},
	    {1024, "1.0 KiB"},
	    {1536, "1.5 KiB"},
	    {4 * MiB + MiB / 2, "4.5 MiB"},
	    {10 * MiB, "10.0 MiB"},
	    {GiB + GiB / 5, "1.2 GiB"},
	    {1024 * GiB, "1.0 TiB"},
	    /* Just under a unit rounds up into it, not to "1024.0". */
	    {MiB - 1, "1.0 MiB"},
	    {GiB - 1, "1.0 GiB"},
	    {UINT64_MAX, "16.0 EiB"},
	};
	char out[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
		    progress_bytes(out, sizeof(out), cases[i].v), 0);
		assert_string_equal(out, cases[i].want);
	}
	/* Too small a buffer is an error, not an overflow. */
	assert_int_equal(progress_bytes(out, 4, 1023), -1);
	assert_int_equal(progress_bytes(out, 7, 1023), 0);
}

static void
test_eta(void **state)
{
	static const struct {
		double s;
		const char *want;
	} cases[] = {
	    {0, "0:00"},
	    {4, "0:04"},
	    {4.4, "0:04"},
	    {59.6, "1:00"},
	    {65, "1:05"},
	    {3599, "59:59"},
	    {3600, "1:00:00"},
	    {43200, "12:00:00"},
	    {360000, "100:00:00"},
	    {-1, "--:--"},
	    {-0.001, "--:--"},
	    {1e30, "--:--"},
	};
	char out[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(progress_eta(out, sizeof(out), cases[i].s), 0);
		assert_string_equal(out, cases[i].want);
	}
	assert_int_equal(progress_eta(out, sizeof(out), 0.0 / 0.0), 0);
	assert_string_equal(out, "--:--");
	assert_int_equal(progress_eta(out, sizeof(out), 1.0 / 0.0), 0);
	assert_string_equal(out, "--:--");
	assert_int_equal(progress_eta(out, 3, 65), -1);
}

/* Display columns of UTF-8 text. */
static size_t
cols(const char *s)
{
	size_t c = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			c++;
	return c;
}

static void
test_format_full(void **state)
{
	char out[512];

	assert_int_equal(progress_format(out, sizeof(out), "file.bin",
			     4 * MiB + MiB / 2, 10 * MiB, 12.3 * MiB, 200),
	    0);
	assert_true(cols(out) <= 200);
	assert_non_null(strstr(out, "file.bin"));
	assert_non_null(strstr(out, " 45% ["));
	assert_non_null(strstr(out, "4.5 MiB/10.0 MiB"));
	assert_non_null(strstr(out, "12.3 MiB/s"));
	/* 5.5 MiB left at 12.3 MiB/s: 0.45 s, rounds to 0:00. */
	assert_non_null(strstr(out, "ETA 0:00"));
	assert_null(strchr(out, '\n'));

	assert_int_equal(
	    progress_format(out, sizeof(out), "x", 0, 100 * MiB, MiB, 80), 0);
	assert_non_null(strstr(out, "  0% ["));
	assert_non_null(strstr(out, "ETA 1:40"));

	/* Unknown rate: no ETA yet. */
	assert_int_equal(
	    progress_format(out, sizeof(out), "x", 10, 100, -1.0, 80), 0);
	assert_non_null(strstr(out, "ETA --:--"));
	assert_non_null(strstr(out, " 10% "));
}

/* A stream of unknown length (put -): bytes and rate, no percentage. */
static void
test_format_unknown(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(
	    progress_format(out, sizeof(out), "d.tar", 4 * MiB + MiB / 2,
		PROGRESS_UNKNOWN, 12.3 * MiB, 80),
	    0);
	assert_string_equal(out, "d.tar  4.5 MiB  12.3 MiB/s");
	assert_int_equal(progress_format(out, sizeof(out), "d.tar", 10,
			     PROGRESS_UNKNOWN, -1.0, 80),
	    0);
	assert_string_equal(out, "d.tar  10 B  --/s");
	assert_null(strchr(out, '%'));
	/* Narrow: the label goes first, then the rate. */
	assert_int_equal(progress_format(out, sizeof(out), "a-long-label", MiB,
			     PROGRESS_UNKNOWN, MiB, 20),
	    0);
	assert_string_equal(out, "1.0 MiB  1.0 MiB/s");
	assert_int_equal(progress_format(out, sizeof(out), "a-long-label", MiB,
			     PROGRESS_UNKNOWN, MiB, 8),
	    0);
	assert_string_equal(out, "1.0 MiB");
	assert_true(cols(out) <= 8);
}

static void
test_format_bar(void **state)
{
	char out[512];
	const char *l, *r;

	/* Done: a full bar of '='. */
	assert_int_equal(
	    progress_format(out, sizeof(out), "a", 100, 100, 1.0, 80), 0);
	assert_non_null(strstr(out, "100% ["));
	l = strchr(out, '[');
	r = strchr(out, ']');
	assert_non_null(l);
	assert_non_null(r);
	for (l++; l < r; l++)
		assert_int_equal(*l, '=');
	/* Nothing done: an empty bar. */
	assert_int_equal(
	    progress_format(out, sizeof(out), "a", 0, 100, 1.0, 80), 0);
	l = strchr(out, '[');
	r = strchr(out, ']');
	for (l++; l < r; l++)
		assert_int_equal(*l, ' ');
	/* Half: an arrow head in the middle. */
	assert_int_equal(
	    progress_format(out, sizeof(out), "a", 50, 100, 1.0, 80), 0);
	assert_non_null(strstr(out, "=>"));
	/* Never 100% before the last byte. */
	assert_int_equal(
	    progress_format(out, sizeof(out), "a", 999999, 1000000, 1.0, 80),
	    0);
	assert_non_null(strstr(out, " 99% "));
	/* An empty file is complete at once. */
	assert_int_equal(
	    progress_format(out, sizeof(out), "a", 0, 0, -1, 80), 0);
	assert_non_null(strstr(out, "100%"));
	/* More done than announced does not overflow the bar. */
	assert_int_equal(
	    progress_format(out, sizeof(out), "a", 200, 100, 1.0, 80), 0);
	assert_non_null(strstr(out, "100%"));
	assert_true(cols(out) <= 80);
}

static void
test_format_widths(void **state)
{
	static const int widths[] = {
	    0, 1, 3, 4, 10, 20, 30, 40, 50, 60, 80, 120, 200};
	static const char *labels[] = {"", "a", "file.bin",
	    "a-rather-long-file-name-that-will-not-fit-anywhere.tar.gz",
	    "r\xc3\xa9sum\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac-long-long-long-name"
	    ".pdf"};
	static const uint64_t totals[] = {
	    0, 1, 4095, 10 * MiB, 1099511627776ULL, UINT64_MAX};
	char out[1024];
	size_t wi, li, ti;

	for (wi = 0; wi < sizeof(widths) / sizeof(widths[0]); wi++)
		for (li = 0; li < sizeof(labels) / sizeof(labels[0]); li++)
			for (ti = 0; ti < sizeof(totals) / sizeof(totals[0]);
			     ti++) {
				uint64_t t = totals[ti];

				assert_int_equal(
				    progress_format(out, sizeof(out),
					labels[li], t / 3, t, 123456789.0,
					widths[wi]),
				    0);
				if (cols(out) > (size_t)widths[wi])
					fail_msg("width %d: \"%s\" is %zu cols",
					    widths[wi], out, cols(out));
				/* A cut label never leaves half a UTF-8
				 * sequence behind. */
				assert_null(strstr(out, "\xc3 "));
			}
}

static void
test_format_shrinks(void **state)
{
	const char *label = "a-rather-long-file-name.tar.gz";
	char out[512];

	/* Wide: full label, bar and all figures. */
	assert_int_equal(progress_format(out, sizeof(out), label, 5 * MiB,
			     10 * MiB, MiB, 120),
	    0);
	assert_non_null(strstr(out, label));
	assert_non_null(strchr(out, '['));
	assert_non_null(strstr(out, "5.0 MiB/10.0 MiB"));
	/* 80 columns: the bar has shrunk to its minimum and the label is
	 * cut, marked with "...". */
	assert_int_equal(progress_format(out, sizeof(out), label, 5 * MiB,
			     10 * MiB, MiB, 80),
	    0);
	assert_true(cols(out) <= 80);
	assert_null(strstr(out, label));
	assert_non_null(strstr(out, "a-rather-long-file"));
	assert_non_null(strstr(out, "..."));
	assert_non_null(strstr(out, "[=>   ]"));
	assert_non_null(strstr(out, "5.0 MiB/10.0 MiB"));
	/* 60: the bar has shrunk, the label is cut but present. */
	assert_int_equal(progress_format(out, sizeof(out), label, 5 * MiB,
			     10 * MiB, MiB, 60),
	    0);
	assert_true(cols(out) <= 60);
	assert_non_null(strstr(out, "a-rat..."));
	assert_non_null(strstr(out, "50%"));
	/* 40 and 20: the percentage always survives. */
	assert_int_equal(progress_format(out, sizeof(out), label, 5 * MiB,
			     10 * MiB, MiB, 40),
	    0);
	assert_true(cols(out) <= 40);
	assert_non_null(strstr(out, "50%"));
	assert_int_equal(progress_format(out, sizeof(out), label, 5 * MiB,
			     10 * MiB, MiB, 20),
	    0);
	assert_true(cols(out) <= 20);
	assert_non_null(strstr(out, "50%"));
	assert_true(strlen(out) > 4);
}

static void
test_format_hostile_label(void **state)
{
	char out[512];

	/* Escape sequences in a name must not reach the terminal. */
	assert_int_equal(progress_format(out, sizeof(out),
			     "evil\x1b]0;pwned\x07\r\n", 1, 2, 1.0, 80),
	    0);
	assert_null(strchr(out, '\x1b'));
	assert_null(strchr(out, '\x07'));
	assert_null(strchr(out, '\r'));
	assert_null(strchr(out, '\n'));
	assert_non_null(strstr(out, "evil?]0;pwned???"));
	assert_int_equal(
	    progress_format(out, sizeof(out), NULL, 1, 2, 1.0, 80), 0);
}

static void
test_format_small_out(void **state)
{
	char out[512];

	assert_int_equal(progress_format(out, 0, "a", 1, 2, 1.0, 80), -1);
	assert_int_equal(progress_format(out, 10, "a", 1, 2, 1.0, 80), -1);
	assert_int_equal(progress_format(out, 10, "a", 1, 2, 1.0, 4), 0);
	assert_string_equal(out, " 50%");
}

/* Read everything currently in a non-blocking pipe. */
static size_t
drain(int fd, char *buf, size_t n)
{
	ssize_t r;
	size_t got = 0;

	while (got < n - 1) {
		r = read(fd, buf + got, n - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	return got;
}

static void
test_live(void **state)
{
	struct progress p;
	char buf[65536];
	double t0, el;
	int fds[2], i, redraws = 0;
	char *s;

	assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
	/* Not a terminal: 80 columns are assumed. */
	progress_begin(&p, fds[1], 1, "live.bin", 1000 * 1000);
	t0 = progress_now();
	/* About 0.5 s of rapid updates. */
	for (i = 0; i < 5000 && progress_now() - t0 < 0.5; i++) {
		progress_update(&p, (uint64_t)i * 100);
		usleep(100);
	}
	assert_true(p.done == (uint64_t)(i - 1) * 100);
	el = progress_now() - t0;
	drain(fds[0], buf, sizeof(buf));
	for (s = buf; (s = strchr(s, '\r')) != NULL; s++)
		redraws++;
	/* The first draw plus at most 10 a second (one spare for
	 * timer edges). */
	assert_true(redraws >= 2);
	if (redraws > 2 + (int)(el * 10))
		fail_msg("%d redraws in %.2f s", redraws, el);
	assert_non_null(strstr(buf, "live.bin"));
	assert_non_null(strstr(buf, "\033[K"));
	assert_true(progress_end(&p) >= el);
	drain(fds[0], buf, sizeof(buf));
	assert_string_equal(buf, "\r\033[K");
	close(fds[0]);
	close(fds[1]);
}

static void
test_live_rate(void **state)
{
	struct progress p;
	double t0, avg;
	int fds[2], i;

	assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
	progress_begin(&p, fds[1], 1, "r", 100 * MiB);
	assert_true(p.rate < 0);
	t0 = progress_now();
	/* 1 MiB every 50 ms (about 20 MiB/s) for at least 1.2 s. */
	for (i = 1; i <= 24; i++) {
		usleep(50 * 1000);
		progress_update(&p, (uint64_t)i * MiB);
	}
	/* Compare with what really happened, so a loaded machine whose
	 * sleeps overshoot does not fail the test. */
	avg = 24.0 * MiB / (progress_now() - t0);
	if (!(p.rate > 0.5 * avg && p.rate < 1.5 * avg))
		fail_msg("rate %.0f, average %.0f", p.rate, avg);
	progress_end(&p);
	close(fds[0]);
	close(fds[1]);
}

static void
test_disabled(void **state)
{
	struct progress p;
	char buf[256];
	int fds[2];

	assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
	progress_begin(&p, fds[1], 0, "quiet", 100);
	progress_update(&p, 50);
	assert_true(p.done == 50);
	assert_true(progress_end(&p) >= 0.0);
	assert_int_equal(drain(fds[0], buf, sizeof(buf)), 0);
	close(fds[0]);
	close(fds[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bytes),
	    cmocka_unit_test(test_rate),
	    cmocka_unit_test(test_eta),
	    cmocka_unit_test(test_format_full),
	    cmocka_unit_test(test_format_unknown),
	    cmocka_unit_test(test_format_bar),
	    cmocka_unit_test(test_format_widths),
	    cmocka_unit_test(test_format_shrinks),
	    cmocka_unit_test(test_format_hostile_label),
	    cmocka_unit_test(test_format_small_out),
	    cmocka_unit_test(test_live),
	    cmocka_unit_test(test_live_rate),
	    cmocka_unit_test(test_disabled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

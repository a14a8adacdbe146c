/*
 * test_hpipe.c - unit tests for shared/hpipe.c: the pipelined hash must
 * equal a one-shot SHA-256 of the same bytes, threaded or not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/rand.h>

#include "hash.h"
#include "hpipe.h"
#include "limits.h"

static void
oneshot(const unsigned char *p, size_t n, unsigned char *d)
{
	struct hash_ctx *h = hash_new(HASH_SHA256, NULL, 0);

	assert_non_null(h);
	assert_int_equal(hash_update(h, p, n), 0);
	assert_int_equal(hash_final(h, d), 0);
	hash_free(h);
}

static unsigned char *
random_data(size_t n)
{
	unsigned char *p = malloc(n > 0 ? n : 1);

	assert_non_null(p);
	if (n > 0)
		assert_int_equal(RAND_bytes(p, (int)n), 1);
	return p;
}

/*
 * Push `data` through a pipe.  `step` is how much goes into each buffer
 * (0 means "vary it"), so partial buffers are exercised too.  After each
 * submit the buffer is checked to still hold what was written: the caller
 * may read it until the next acquire.
 */
static void
run_pipe(const unsigned char *data, size_t n, size_t bufsize, int threaded,
    size_t step, unsigned char *digest)
{
	char err[FTX_ERRLEN];
	struct hpipe *p;
	unsigned char *b;
	size_t off = 0, k;
	unsigned seed = 7;

	p = hpipe_new(bufsize, threaded, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(hpipe_bufsize(p), bufsize);
	while (off < n) {
		if (step == 0) {
			seed = seed * 1103515245u + 12345u;
			k = 1 + (seed >> 8) % bufsize;
		} else {
			k = step;
		}
		if (k > n - off)
			k = n - off;
		b = hpipe_acquire(p);
		assert_non_null(b);
		memcpy(b, data + off, k);
		assert_int_equal(hpipe_submit(p, k), 0);
		assert_memory_equal(b, data + off, k);
		off += k;
	}
	assert_int_equal(hpipe_finish(p, digest), 0);
	hpipe_free(p);
}

static void
check_size(size_t n, size_t bufsize)
{
	unsigned char *data = random_data(n);
	unsigned char want[HASH_SHA256_LEN], got[HASH_SHA256_LEN];
	int threaded;

	oneshot(data, n, want);
	for (threaded = 0; threaded <= 1; threaded++) {
		memset(got, 0, sizeof(got));
		run_pipe(data, n, bufsize, threaded, bufsize, got);
		if (memcmp(got, want, sizeof(want)) != 0)
			fail_msg("size %zu bufsize %zu threaded %d: mismatch",
			    n, bufsize, threaded);
		memset(got, 0, sizeof(got));
		run_pipe(data, n, bufsize, threaded, 0, got);
		if (memcmp(got, want, sizeof(want)) != 0)
			fail_msg("size %zu bufsize %zu threaded %d varied: "
				 "mismatch",
			    n, bufsize, threaded);
	}
	free(data);
}

static void
test_sizes(void **state)
{
	static const size_t bufsizes[] = {4096, 64 * 4096, 1000};
	size_t i;

	for (i = 0; i < sizeof(bufsizes) / sizeof(bufsizes[0]); i++) {
		size_t bs = bufsizes[i];

		check_size(0, bs);
		check_size(1, bs);
		check_size(bs - 1, bs);
		check_size(bs, bs);
		check_size(bs + 1, bs);
		check_size(10 * bs + 7, bs);
		/* Many times round the ring. */
		check_size(5 * FTX_PIPE_BUFS * bs + 3, bs);
	}
}

static void
test_empty_submits(void **state)
{
	unsigned char want[HASH_SHA256_LEN], got[HASH_SHA256_LEN];
	struct hpipe *p;
	unsigned char *b;
	int threaded, i;

	oneshot((const unsigned char *)"abc", 3, want);
	for (threaded = 0; threaded <= 1; threaded++) {
		p = hpipe_new(16, threaded, NULL, 0);
		assert_non_null(p);
		/* Zero-length buffers around the data change nothing. */
		for (i = 0; i < 3 * FTX_PIPE_BUFS; i++) {
			assert_non_null(hpipe_acquire(p));
			assert_int_equal(hpipe_submit(p, 0), 0);
		}
		b = hpipe_acquire(p);
		assert_non_null(b);
		memcpy(b, "abc", 3);
		assert_int_equal(hpipe_submit(p, 3), 0);
		assert_non_null(hpipe_acquire(p));
		assert_int_equal(hpipe_submit(p, 0), 0);
		assert_int_equal(hpipe_finish(p, got), 0);
		assert_memory_equal(got, want, sizeof(want));
		hpipe_free(p);
	}
}

static void
test_misuse(void **state)
{
	unsigned char d[HASH_SHA256_LEN];
	char err[FTX_ERRLEN];
	struct hpipe *p;
	int threaded;

	err[0] = '\0';
	assert_null(hpipe_new(0, 1, err, sizeof(err)));
	assert_true(err[0] != '\0');
	/* bufsize * FTX_PIPE_BUFS would overflow size_t. */
	err[0] = '\0';
	assert_null(hpipe_new(SIZE_MAX / 2, 1, err, sizeof(err)));
	assert_true(err[0] != '\0');
	hpipe_free(NULL);

	for (threaded = 0; threaded <= 1; threaded++) {
		p = hpipe_new(64, threaded, NULL, 0);
		assert_non_null(p);
		/* Submit without acquire, and more than a buffer holds. */
		assert_int_equal(hpipe_submit(p, 1), -1);
		assert_non_null(hpipe_acquire(p));
		assert_int_equal(hpipe_submit(p, 65), -1);
		assert_int_equal(hpipe_finish(p, d), 0);
		/* The pipe is spent after finish. */
		assert_null(hpipe_acquire(p));
		assert_int_equal(hpipe_finish(p, d), -1);
		hpipe_free(p);
	}
}

static void
test_free_without_finish(void **state)
{
	size_t bs = 1024 * 1024;
	struct hpipe *p;
	unsigned char *b;
	int threaded, i, round;

	/* An aborted transfer: buffers still queued for the hasher when the
	 * pipe is freed.  Must neither hang nor crash (ASan/valgrind check
	 * the memory side). */
	for (round = 0; round < 20; round++) {
		for (threaded = 0; threaded <= 1; threaded++) {
			p = hpipe_new(bs, threaded, NULL, 0);
			assert_non_null(p);
			for (i = 0; i < round % (FTX_PIPE_BUFS + 2); i++) {
				b = hpipe_acquire(p);
				assert_non_null(b);
				memset(b, i, bs);
				assert_int_equal(hpipe_submit(p, bs), 0);
			}
			/* Sometimes with a buffer acquired but not
			 * submitted. */
			if (round & 1)
				assert_non_null(hpipe_acquire(p));
			hpipe_free(p);
		}
	}
	/* And a pipe never used at all. */
	p = hpipe_new(4096, 1, NULL, 0);
	assert_non_null(p);
	hpipe_free(p);
}

static void
test_alignment(void **state)
{
	struct hpipe *p;
	unsigned char *b;
	int i;

	p = hpipe_new(64 * 4096, 1, NULL, 0);
	assert_non_null(p);
	for (i = 0; i < 2 * FTX_PIPE_BUFS; i++) {
		b = hpipe_acquire(p);
		assert_non_null(b);
		assert_int_equal((uintptr_t)b % 4096, 0);
		assert_int_equal(hpipe_submit(p, 0), 0);
	}
	hpipe_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_empty_submits),
	    cmocka_unit_test(test_misuse),
	    cmocka_unit_test(test_free_without_finish),
	    cmocka_unit_test(test_alignment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_hpipe.c - unit tests for shared/hpipe.c: the pipelined hash must
 * equal a one-shot SHA-256 of the same bytes, threaded or not.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/rand.h>

#include "hash.h"
#include "hpipe.h"
#include "ftx_limits.h"

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

	p = hpipe_new(bufsize, threaded, NULL, err, sizeof(err));
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
		p = hpipe_new(16, threaded, NULL, NULL, 0);
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
	assert_null(hpipe_new(0, 1, NULL, err, sizeof(err)));
	assert_true(err[0] != '\0');
	/* bufsize * FTX_PIPE_BUFS would overflow size_t. */
	err[0] = '\0';
	assert_null(hpipe_new(SIZE_MAX / 2, 1, NULL, err, sizeof(err)));
	assert_true(err[0] != '\0');
	hpipe_free(NULL);

	for (threaded = 0; threaded <= 1; threaded++) {
		p = hpipe_new(64, threaded, NULL, NULL, 0);
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
			p = hpipe_new(bs, threaded, NULL, NULL, 0);
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
	p = hpipe_new(4096, 1, NULL, NULL, 0);
	assert_non_null(p);
	hpipe_free(p);
}

static void
test_alignment(void **state)
{
	struct hpipe *p;
	unsigned char *b;
	int i;

	p = hpipe_new(64 * 4096, 1, NULL, NULL, 0);
	assert_non_null(p);
	for (i = 0; i < 2 * FTX_PIPE_BUFS; i++) {
		b = hpipe_acquire(p);
		assert_non_null(b);
		assert_int_equal((uintptr_t)b % 4096, 0);
		assert_int_equal(hpipe_submit(p, 0), 0);
	}
	hpipe_free(p);
}

/* Push data through a pipe that also writes to `fd`; returns finish's
 * result.  Stops early (returning -1) if acquire or submit fails. */
static int
run_writer(int fd, const unsigned char *data, size_t n, size_t bufsize,
    int threaded, unsigned char *digest)
{
	struct hpipe_io io;
	struct hpipe *p;

	hpipe_io_fd(&io, &fd);
	p = hpipe_new(bufsize, threaded, &io, NULL, 0);
	unsigned char *b;
	size_t off = 0, k;
	int rc = 0;

	assert_non_null(p);
	while (off < n) {
		if ((b = hpipe_acquire(p)) == NULL) {
			rc = -1;
			break;
		}
		k = n - off < bufsize ? n - off : bufsize;
		memcpy(b, data + off, k);
		if (hpipe_submit(p, k) == -1) {
			rc = -1;
			break;
		}
		off += k;
	}
	if (rc == 0)
		rc = hpipe_finish(p, digest);
	hpipe_free(p);
	return rc;
}

/* The writer stage stores exactly the submitted bytes, in order. */
static void
test_writer_stores_stream(void **state)
{
	static const size_t sizes[] = {
	    0, 1, 4095, 4096, 4097, 10 * 4096 + 7, 100 * 4096 + 3};
	unsigned char want[32], got[32];
	char path[] = "/tmp/ftx-hpipe-XXXXXX";
	unsigned char *data, *back;
	size_t i;
	int threaded, fd;

	(void)state;
	for (threaded = 0; threaded < 2; threaded++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			data = random_data(sizes[i]);
			back = malloc(sizes[i] + 1);
			assert_non_null(back);
			fd = mkstemp(path);
			assert_true(fd >= 0);
			assert_int_equal(
			    run_writer(fd, data, sizes[i], 4096, threaded, got),
			    0);
			oneshot(data, sizes[i], want);
			assert_memory_equal(got, want, 32);
			assert_int_equal(
			    lseek(fd, 0, SEEK_END), (off_t)sizes[i]);
			assert_int_equal(pread(fd, back, sizes[i] + 1, 0),
			    (ssize_t)sizes[i]);
			assert_memory_equal(back, data, sizes[i]);
			close(fd);
			unlink(path);
			memcpy(path + strlen(path) - 6, "XXXXXX", 6);
			free(back);
			free(data);
		}
	}
}

/* A full disk surfaces as ENOSPC from the pipe, never as success. */
static void
test_writer_disk_full(void **state)
{
	unsigned char digest[32], *data;
	int threaded, fd;

	(void)state;
	data = random_data(64 * 4096);
	for (threaded = 0; threaded < 2; threaded++) {
		fd = open("/dev/full", O_WRONLY);
		if (fd == -1)
			skip();
		errno = 0;
		assert_int_equal(
		    run_writer(fd, data, 64 * 4096, 4096, threaded, digest),
		    -1);
		assert_int_equal(errno, ENOSPC);
		close(fd);
	}
	free(data);
}

/* The state of SHA-256 after the first n bytes of data. */
static void
state_after(const unsigned char *data, size_t n, unsigned char *st)
{
	struct hash_ctx *h = hash_new(HASH_SHA256, NULL, 0);

	assert_non_null(h);
	assert_int_equal(hash_update(h, data, n), 0);
	assert_int_equal(hash_state_save(h, st), 0);
	hash_free(h);
}

/*
 * A resume from a carried state: a pipe primed with the state of the
 * first n bytes and fed the rest finishes with the whole file's digest,
 * and its writer continues at offset n (the first n bytes are already
 * there, as a resumed upload's are), reading nothing.
 */
static void
test_prime_state(void **state)
{
	static const size_t cuts[] = {
	    0, 1, 63, 64, 65, 4095, 4096, 4097, 3 * 4096 + 5};
	const size_t total = 5 * 4096 + 77;
	unsigned char *data = random_data(total), *back;
	unsigned char want[32], got[32], st[HASH_STATE_LEN];
	char path[] = "/tmp/ftx-hpipe-XXXXXX", err[FTX_ERRLEN];
	struct hpipe_io io;
	struct hpipe *p;
	unsigned char *b;
	size_t i, off, k, n;
	int threaded, fd, sink;

	(void)state;
	oneshot(data, total, want);
	back = malloc(total + 1);
	assert_non_null(back);
	for (threaded = 0; threaded <= 1; threaded++)
		for (sink = 0; sink <= 1; sink++)
			for (i = 0; i <= sizeof(cuts) / sizeof(cuts[0]); i++) {
				n = i < sizeof(cuts) / sizeof(cuts[0]) ? cuts[i]
								       : total;
				fd = -1;
				if (sink) {
					memcpy(path + strlen(path) - 6,
					    "XXXXXX", 6);
					fd = mkstemp(path);
					assert_true(fd >= 0);
					unlink(path);
					/* The kept part, as a resume finds
					 * it. */
					assert_int_equal(
					    pwrite(fd, data, n, 0), (ssize_t)n);
					hpipe_io_fd(&io, &fd);
				}
				state_after(data, n, st);
				p = hpipe_new(4096, threaded, sink ? &io : NULL,
				    err, sizeof(err));
				assert_non_null(p);
				if (hpipe_prime_state(
					p, n, st, err, sizeof(err)) != 0)
					fail_msg("prime_state %zu: %s", n, err);
				for (off = n; off < total; off += k) {
					k = total - off < 1000 ? total - off
							       : 1000;
					b = hpipe_acquire(p);
					assert_non_null(b);
					memcpy(b, data + off, k);
					assert_int_equal(hpipe_submit(p, k), 0);
				}
				memset(got, 0, sizeof(got));
				assert_int_equal(hpipe_finish(p, got), 0);
				hpipe_free(p);
				if (memcmp(got, want, sizeof(want)) != 0)
					fail_msg("threaded %d sink %d cut "
						 "%zu: wrong digest",
					    threaded, sink, n);
				if (sink) {
					assert_int_equal(
					    pread(fd, back, total + 1, 0),
					    (ssize_t)total);
					assert_memory_equal(back, data, total);
					close(fd);
				}
			}
	free(back);
	free(data);
}

/* A state that is not one is refused before anything is hashed, and
 * leaves the pipe as new; priming after the first buffer is refused. */
static void
test_prime_state_refused(void **state)
{
	unsigned char *data = random_data(10000), want[32], got[32];
	unsigned char st[HASH_STATE_LEN], *b;
	char err[FTX_ERRLEN];
	struct hpipe *p;
	int threaded;

	(void)state;
	oneshot(data, 10000, want);
	for (threaded = 0; threaded <= 1; threaded++) {
		p = hpipe_new(4096, threaded, NULL, err, sizeof(err));
		assert_non_null(p);
		state_after(data, 100, st);
		st[43] = 64; /* num: a whole block pending */
		err[0] = '\0';
		assert_int_equal(
		    hpipe_prime_state(p, 100, st, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "SHA-256"));
		/* Still a fresh pipe: the whole file gives its digest. */
		b = hpipe_acquire(p);
		assert_non_null(b);
		memcpy(b, data, 4096);
		assert_int_equal(hpipe_submit(p, 4096), 0);
		/* Too late to prime now. */
		state_after(data, 4096, st);
		assert_int_equal(
		    hpipe_prime_state(p, 4096, st, err, sizeof(err)), -1);
		b = hpipe_acquire(p);
		assert_non_null(b);
		memcpy(b, data + 4096, 4096);
		assert_int_equal(hpipe_submit(p, 4096), 0);
		b = hpipe_acquire(p);
		assert_non_null(b);
		memcpy(b, data + 8192, 10000 - 8192);
		assert_int_equal(hpipe_submit(p, 10000 - 8192), 0);
		assert_int_equal(hpipe_finish(p, got), 0);
		assert_memory_equal(got, want, sizeof(want));
		hpipe_free(p);
	}
	free(data);
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
	    cmocka_unit_test(test_writer_stores_stream),
	    cmocka_unit_test(test_writer_disk_full),
	    cmocka_unit_test(test_prime_state),
	    cmocka_unit_test(test_prime_state_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

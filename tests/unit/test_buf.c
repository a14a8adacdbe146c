/*
 * test_buf.c - unit tests for shared/buf.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void
test_empty(void **state)
{
	struct buf b;

	buf_init(&b, 100);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	/* Freeing twice is harmless: buf_free leaves an empty buffer. */
	buf_free(&b);
	assert_null(b.data);
}

static void
test_append_consume(void **state)
{
	struct buf b;

	buf_init(&b, 1024);
	assert_int_equal(buf_append(&b, "hello ", 6), 0);
	assert_int_equal(buf_append(&b, "world", 5), 0);
	assert_int_equal(b.len, 11);
	assert_memory_equal(buf_head(&b), "hello world", 11);
	buf_consume(&b, 6);
	assert_int_equal(b.len, 5);
	assert_memory_equal(buf_head(&b), "world", 5);
	assert_int_equal(buf_append(&b, "!", 1), 0);
	assert_memory_equal(buf_head(&b), "world!", 6);
	buf_consume(&b, 6);
	assert_int_equal(b.len, 0);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append(&b, "x", 1), 0);
	assert_memory_equal(buf_head(&b), "x", 1);
	buf_free(&b);
}

static void
test_cap_enforced(void **state)
{
	struct buf b;
	char big[300];

	memset(big, 'a', sizeof(big));
	buf_init(&b, 10);
	assert_int_equal(buf_append(&b, big, 10), 0);
	assert_int_equal(b.len, 10);
	/* One byte over the cap: refused, nothing appended. */
	assert_int_equal(buf_append(&b, "b", 1), -1);
	assert_int_equal(b.len, 10);
	/* Consuming makes room again, and the cap counts held bytes. */
	buf_consume(&b, 4);
	assert_int_equal(buf_append(&b, "bcde", 4), 0);
	assert_int_equal(b.len, 10);
	assert_memory_equal(buf_head(&b), "aaaaaabcde", 10);
	assert_int_equal(buf_append(&b, "f", 1), -1);
	assert_true(b.cap >= b.len);
	buf_free(&b);

	/* An append bigger than the whole cap, and one that would wrap
	 * size_t, are refused without allocating. */
	buf_init(&b, 100);
	assert_int_equal(buf_append(&b, big, sizeof(big)), -1);
	assert_int_equal(buf_append(&b, "a", 1), 0);
	assert_null(buf_reserve(&b, SIZE_MAX));
	assert_null(buf_reserve(&b, SIZE_MAX - 1));
	assert_null(buf_reserve(&b, 100));
	assert_non_null(buf_reserve(&b, 99));
	assert_int_equal(b.len, 1);
	buf_free(&b);
}

static void
test_printf(void **state)
{
	struct buf b;
	char longs[2000];

	buf_init(&b, 4096);
	assert_int_equal(buf_printf(&b, "OK %d %s\n", 5002, "tok"), 0);
	assert_int_equal(b.len, strlen("OK 5002 tok\n"));
	assert_memory_equal(buf_head(&b), "OK 5002 tok\n", b.len);
	/* The NUL vsnprintf writes is not part of the contents. */
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_int_equal(b.len, strlen("OK 5002 tok\n"));
	/* Longer than the internal stack buffer. */
	memset(longs, 'z', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	assert_int_equal(buf_printf(&b, "[%s]", longs), 0);
	assert_int_equal(b.len, strlen("OK 5002 tok\n") + 2001);
	assert_int_equal(buf_head(&b)[b.len - 1], ']');
	buf_free(&b);
}

static void
test_printf_cap(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_printf(&b, "%s", "1234"), 0);
	/* Exactly filling the cap works (the NUL is not stored)... */
	assert_int_equal(buf_printf(&b, "%s", "5678"), 0);
	assert_int_equal(b.len, 8);
	assert_memory_equal(buf_head(&b), "12345678", 8);
	/* ...one more byte does not, and nothing is appended. */
	assert_int_equal(buf_printf(&b, "%d", 9), -1);
	assert_int_equal(b.len, 8);
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%s", "123456789"), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_reserve_commit(void **state)
{
	struct buf b;
	char *p;
	size_t i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < 1000; i++) {
		p = buf_reserve(&b, 100);
		assert_non_null(p);
		memset(p, (int)('a' + i % 26), 100);
		buf_commit(&b, 100);
		/* Consume a little to exercise compaction. */
		if (i % 3 == 0)
			buf_consume(&b, 50);
	}
	assert_int_equal(b.len, 1000 * 100 - 334 * 50);
	assert_true(b.len <= b.max);
	/* The last 100 bytes are the last batch. */
	for (i = 0; i < 100; i++)
		assert_int_equal(buf_head(&b)[b.len - 100 + i], 'a' + 999 % 26);
	/* A reserve with a partial commit. */
	buf_reset(&b);
	p = buf_reserve(&b, 4096);
	assert_non_null(p);
	memcpy(p, "abc", 3);
	buf_commit(&b, 3);
	assert_int_equal(b.len, 3);
	assert_memory_equal(buf_head(&b), "abc", 3);
	buf_free(&b);
}

static void
test_fifo_integrity(void **state)
{
	struct buf b;
	unsigned char in[64], out;
	uint32_t x = 12345;
	size_t produced = 0, consumed = 0, i, k;

	/* A queue used like a socket buffer: random appends and consumes
	 * must deliver bytes in order, whatever compaction does. */
	buf_init(&b, 4096);
	for (i = 0; i < 20000; i++) {
		x = x * 1103515245u + 12345u;
		k = (x >> 16) % sizeof(in);
		if ((x >> 8) & 1) {
			size_t j;

			for (j = 0; j < k; j++)
				in[j] = (unsigned char)(produced + j);
			if (buf_append(&b, in, k) == 0)
				produced += k;
		} else {
			if (k > b.len)
				k = b.len;
			for (size_t j = 0; j < k; j++) {
				out = (unsigned char)buf_head(&b)[j];
				assert_int_equal(
				    out, (unsigned char)(consumed + j));
			}
			buf_consume(&b, k);
			consumed += k;
		}
		assert_int_equal(b.len, produced - consumed);
		assert_true(b.len <= 4096);
	}
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_append_consume),
	    cmocka_unit_test(test_cap_enforced),
	    cmocka_unit_test(test_printf),
	    cmocka_unit_test(test_printf_cap),
	    cmocka_unit_test(test_reserve_commit),
	    cmocka_unit_test(test_fifo_integrity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

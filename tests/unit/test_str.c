/*
 * test_str.c - unit tests for shared/str.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "str.h"

static void
test_copy_fits(void **state)
{
	char dst[8];

	assert_int_equal(str_copy(dst, sizeof(dst), "abc"), 0);
	assert_string_equal(dst, "abc");
	/* Exactly size-1 bytes still fit with the NUL. */
	assert_int_equal(str_copy(dst, sizeof(dst), "1234567"), 0);
	assert_string_equal(dst, "1234567");
	assert_int_equal(str_copy(dst, sizeof(dst), ""), 0);
	assert_string_equal(dst, "");
}

static void
test_copy_truncates(void **state)
{
	char dst[8];

	memset(dst, 'x', sizeof(dst));
	assert_int_equal(str_copy(dst, sizeof(dst), "12345678"), -1);
	assert_string_equal(dst, "1234567");
	assert_int_equal(str_copy(dst, 1, "a"), -1);
	assert_string_equal(dst, "");
	/* size 0 must not write at all. */
	dst[0] = 'q';
	assert_int_equal(str_copy(dst, 0, "a"), -1);
	assert_int_equal(dst[0], 'q');
}

static void
test_fmt(void **state)
{
	char dst[8];

	assert_int_equal(str_fmt(dst, sizeof(dst), "%d-%s", 42, "ab"), 0);
	assert_string_equal(dst, "42-ab");
	assert_int_equal(str_fmt(dst, sizeof(dst), "%s", "1234567"), 0);
	assert_int_equal(str_fmt(dst, sizeof(dst), "%s", "12345678"), -1);
	assert_string_equal(dst, "1234567");
	assert_int_equal(str_fmt(dst, 0, "%s", "a"), -1);
}

static void
test_err(void **state)
{
	char err[16];

	assert_int_equal(str_err(err, sizeof(err), "bad %s %d", "x", 7), -1);
	assert_string_equal(err, "bad x 7");
	/* NULL and zero-length buffers are fine and still return -1. */
	assert_int_equal(str_err(NULL, 0, "x"), -1);
	assert_int_equal(str_err(err, 0, "x"), -1);
	/* A long message is truncated, not overflowed. */
	assert_int_equal(
	    str_err(err, sizeof(err), "%s", "a very long error message indeed"),
	    -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
}

static void
test_u64_valid(void **state)
{
	uint64_t v = 99;

	assert_int_equal(str_to_u64("0", UINT64_MAX, &v), 0);
	assert_true(v == 0);
	assert_int_equal(str_to_u64("1", UINT64_MAX, &v), 0);
	assert_true(v == 1);
	assert_int_equal(str_to_u64("4096", UINT64_MAX, &v), 0);
	assert_true(v == 4096);
	assert_int_equal(str_to_u64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(str_to_u64("1099511627776", 1ULL << 40, &v), 0);
	assert_true(v == (1ULL << 40));
}

static void
test_u64_invalid(void **state)
{
	static const char *bad[] = {"", "00", "01", "007", "+1", "-1", "-0",
	    " 1", "1 ", "1x", "x1", "0x10", "1e3", "1.0",
	    "18446744073709551616", /* UINT64_MAX + 1 */
	    "99999999999999999999", /* 20 digits, overflows */
	    "100000000000000000000", /* 21 digits */
	    "000000000000000000001"};
	uint64_t v = 12345;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (str_to_u64(bad[i], UINT64_MAX, &v) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		/* A failed parse leaves the output alone. */
		assert_true(v == 12345);
	}
	assert_int_equal(str_to_u64(NULL, UINT64_MAX, &v), -1);
}

static void
test_u64_max(void **state)
{
	uint64_t v;

	assert_int_equal(str_to_u64("10", 10, &v), 0);
	assert_true(v == 10);
	assert_int_equal(str_to_u64("11", 10, &v), -1);
	assert_int_equal(str_to_u64("0", 0, &v), 0);
	assert_int_equal(str_to_u64("1", 0, &v), -1);
	assert_int_equal(str_to_u64("1099511627777", 1ULL << 40, &v), -1);
}

static void
test_size_valid(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {{"0", 0}, {"1", 1}, {"512", 512}, {"512B", 512},
	    {"512b", 512}, {"1K", 1024}, {"1k", 1024}, {"1KB", 1024},
	    {"1KiB", 1024}, {"1kib", 1024}, {"3M", 3ULL << 20},
	    {"10G", 10ULL << 30}, {"10gB", 10ULL << 30}, {"10GiB", 10ULL << 30},
	    {"2T", 2ULL << 40}, {"0G", 0}, {"18446744073709551615", UINT64_MAX},
	    {"16777215T", 16777215ULL << 40}};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 12345;
		if (str_to_size(good[i].s, UINT64_MAX, &v) != 0)
			fail_msg("refused \"%s\"", good[i].s);
		if (v != good[i].v)
			fail_msg("\"%s\" gave %llu", good[i].s,
			    (unsigned long long)v);
	}
}

static void
test_size_invalid(void **state)
{
	static const char *bad[] = {"", "G", "B", "iB", "KiB", "01", "00K",
	    "-1", "+1", " 1", "1 ", "1 G", "1G ", "1.5G", "1e3", "0x10", "1P",
	    "1E", "1iB", "1Gi", "1GiBB", "1GBB", "1BB", "1KG", "1Gb2", "1ib",
	    "1g\n", "16777216T", /* 2^64: overflows */
	    "18446744073709551616", /* UINT64_MAX + 1 */
	    "100000000000000000000", /* 21 digits */
	    "99999999999999999999K"};
	uint64_t v = 12345;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (str_to_size(bad[i], UINT64_MAX, &v) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(v == 12345);
	}
	assert_int_equal(str_to_size(NULL, UINT64_MAX, &v), -1);
}

static void
test_size_max(void **state)
{
	uint64_t v = 0;

	assert_int_equal(str_to_size("1G", 1ULL << 30, &v), 0);
	assert_true(v == (1ULL << 30));
	assert_int_equal(str_to_size("1073741825", 1ULL << 30, &v), -1);
	assert_int_equal(str_to_size("1025M", 1ULL << 30, &v), -1);
	assert_int_equal(str_to_size("1048576K", 1ULL << 30, &v), 0);
	assert_int_equal(str_to_size("1048577K", 1ULL << 30, &v), -1);
	assert_int_equal(str_to_size("1K", 1023, &v), -1);
	assert_int_equal(str_to_size("0T", 0, &v), 0);
	assert_true(v == 0);
}

static void
test_hex_roundtrip(void **state)
{
	unsigned char in[256], back[256];
	char hex[513];
	size_t i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	str_hex(hex, in, sizeof(in));
	assert_int_equal(strlen(hex), 512);
	assert_memory_equal(hex, "000102030405060708090a0b0c0d0e0f", 32);
	assert_string_equal(hex + 480, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
	assert_int_equal(str_unhex(back, sizeof(back), hex), 0);
	assert_memory_equal(back, in, sizeof(in));
	str_hex(hex, in, 0);
	assert_string_equal(hex, "");
}

static void
test_unhex(void **state)
{
	unsigned char out[2] = {0x11, 0x22};

	assert_int_equal(str_unhex(out, 2, "ABcd"), 0);
	assert_int_equal(out[0], 0xab);
	assert_int_equal(out[1], 0xcd);
	out[0] = 0x11;
	assert_int_equal(str_unhex(out, 2, "abc"), -1); /* short */
	assert_int_equal(str_unhex(out, 2, "abcg"), -1); /* non-hex */
	assert_int_equal(str_unhex(out, 2, "ab c"), -1);
	assert_int_equal(str_unhex(out, 2, "-bcd"), -1);
	assert_int_equal(str_unhex(out, 2, ""), -1);
	/* Failures leave the output untouched. */
	assert_int_equal(out[0], 0x11);
	assert_int_equal(str_unhex(out, 0, ""), 0);
}

static void
test_add_size(void **state)
{
	size_t r = 7;

	assert_int_equal(str_add_size(1, 2, &r), 0);
	assert_true(r == 3);
	assert_int_equal(str_add_size(SIZE_MAX - 1, 1, &r), 0);
	assert_true(r == SIZE_MAX);
	assert_int_equal(str_add_size(SIZE_MAX, 0, &r), 0);
	r = 7;
	assert_int_equal(str_add_size(SIZE_MAX, 1, &r), -1);
	assert_int_equal(str_add_size(1, SIZE_MAX, &r), -1);
	assert_int_equal(
	    str_add_size(SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 1, &r), -1);
	assert_true(r == 7);
}

static void
test_mul_size(void **state)
{
	size_t r = 7;

	assert_int_equal(str_mul_size(0, SIZE_MAX, &r), 0);
	assert_true(r == 0);
	assert_int_equal(str_mul_size(SIZE_MAX, 0, &r), 0);
	assert_true(r == 0);
	assert_int_equal(str_mul_size(SIZE_MAX, 1, &r), 0);
	assert_true(r == SIZE_MAX);
	assert_int_equal(str_mul_size(1024, 1024, &r), 0);
	assert_true(r == 1048576);
	r = 7;
	assert_int_equal(str_mul_size(SIZE_MAX, 2, &r), -1);
	assert_int_equal(str_mul_size((SIZE_MAX >> 1) + 1, 2, &r), -1);
	assert_int_equal(str_mul_size(SIZE_MAX / 3 + 1, 3, &r), -1);
	assert_true(r == 7);
	assert_int_equal(str_mul_size(SIZE_MAX / 3, 3, &r), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copy_fits),
	    cmocka_unit_test(test_copy_truncates),
	    cmocka_unit_test(test_fmt),
	    cmocka_unit_test(test_err),
	    cmocka_unit_test(test_u64_valid),
	    cmocka_unit_test(test_u64_invalid),
	    cmocka_unit_test(test_u64_max),
	    cmocka_unit_test(test_size_valid),
	    cmocka_unit_test(test_size_invalid),
	    cmocka_unit_test(test_size_max),
	    cmocka_unit_test(test_hex_roundtrip),
	    cmocka_unit_test(test_unhex),
	    cmocka_unit_test(test_add_size),
	    cmocka_unit_test(test_mul_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

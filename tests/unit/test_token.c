/*
 * test_token.c - unit tests for shared/token.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ftx_limits.h"
#include "token.h"

#define NTOKENS 1000

static void
test_new_unique(void **state)
{
	static struct token t[NTOKENS];
	char err[FTX_ERRLEN];
	int i, j, zero;

	for (i = 0; i < NTOKENS; i++)
		assert_int_equal(token_new(&t[i], err, sizeof(err)), 0);
	/* 128 random bits: a collision among 1000 means a broken RNG. */
	for (i = 0; i < NTOKENS; i++)
		for (j = i + 1; j < NTOKENS; j++)
			assert_false(token_equal(&t[i], &t[j]));
	for (i = 0; i < NTOKENS; i++) {
		zero = 1;
		for (j = 0; j < FTX_TOKEN_BYTES; j++)
			if (t[i].b[j] != 0)
				zero = 0;
		assert_false(zero);
	}
}

static void
test_hex_format(void **state)
{
	struct token t;
	char hex[FTX_TOKEN_HEX + 1];
	size_t i;

	for (i = 0; i < FTX_TOKEN_BYTES; i++)
		t.b[i] = (unsigned char)(0xf0 + i);
	memset(hex, 'X', sizeof(hex));
	token_hex(&t, hex);
	assert_int_equal(strlen(hex), FTX_TOKEN_HEX);
	assert_string_equal(hex, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
	assert_int_equal(token_new(&t, NULL, 0), 0);
	token_hex(&t, hex);
	for (i = 0; i < FTX_TOKEN_HEX; i++)
		assert_non_null(strchr("0123456789abcdef", hex[i]));
}

static void
test_parse_roundtrip(void **state)
{
	struct token a, b;
	char hex[FTX_TOKEN_HEX + 1];
	int i;

	for (i = 0; i < 100; i++) {
		assert_int_equal(token_new(&a, NULL, 0), 0);
		token_hex(&a, hex);
		memset(&b, 0, sizeof(b));
		assert_int_equal(token_parse(&b, hex, strlen(hex)), 0);
		assert_true(token_equal(&a, &b));
		assert_memory_equal(a.b, b.b, sizeof(a.b));
	}
}

static void
test_parse_rejects(void **state)
{
	const char *good = "3f5a0c1e9b7d4a2c8e6f1b3d5a7c9e0f";
	char s[64];
	struct token t;

	assert_int_equal(token_parse(&t, good, 32), 0);
	/* Wrong lengths. */
	assert_int_equal(token_parse(&t, good, 31), -1);
	assert_int_equal(token_parse(&t, good, 0), -1);
	assert_int_equal(
	    token_parse(&t, "3f5a0c1e9b7d4a2c8e6f1b3d5a7c9e0f0", 33), -1);
	/* Non-hex characters, anywhere. */
	memcpy(s, good, 33);
	s[0] = 'g';
	assert_int_equal(token_parse(&t, s, 32), -1);
	memcpy(s, good, 33);
	s[31] = 'z';
	assert_int_equal(token_parse(&t, s, 32), -1);
	memcpy(s, good, 33);
	s[16] = ' ';
	assert_int_equal(token_parse(&t, s, 32), -1);
	memcpy(s, good, 33);
	s[31] = '\n';
	assert_int_equal(token_parse(&t, s, 32), -1);
	/* An embedded NUL inside the n bytes. */
	memcpy(s, good, 33);
	s[10] = '\0';
	assert_int_equal(token_parse(&t, s, 32), -1);
}

static void
test_equal(void **state)
{
	struct token a, b;
	size_t i;

	assert_int_equal(token_new(&a, NULL, 0), 0);
	b = a;
	assert_true(token_equal(&a, &b));
	/* A difference in any byte, even one bit, is detected. */
	for (i = 0; i < FTX_TOKEN_BYTES; i++) {
		b = a;
		b.b[i] ^= 0x01;
		assert_false(token_equal(&a, &b));
		b.b[i] ^= 0x81;
		assert_false(token_equal(&a, &b));
	}
}

static void
test_clear(void **state)
{
	struct token t, zero;
	size_t i;

	for (i = 0; i < FTX_TOKEN_BYTES; i++)
		t.b[i] = 0xaa;
	token_clear(&t);
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(t.b, zero.b, sizeof(t.b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_unique),
	    cmocka_unit_test(test_hex_format),
	    cmocka_unit_test(test_parse_roundtrip),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

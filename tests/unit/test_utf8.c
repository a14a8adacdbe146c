/*
 * test_utf8.c - unit tests for shared/utf8.c: the one UTF-8 decoder and
 * the text check that names and chat messages share.  Every boundary of
 * Unicode's well-formed byte sequences, every C1 control and every bidi
 * control, and their neighbours.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ftx_limits.h"
#include "utf8.h"

/* The UTF-8 encoding of cp into out (NUL-terminated); its length. */
static size_t
enc(unsigned long cp, char *out)
{
	size_t n;

	if (cp < 0x80) {
		out[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		out[0] = (char)(0xf0 | (cp >> 18));
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	out[n] = '\0';
	return n;
}

static void
test_next_boundaries(void **state)
{
	static const unsigned long good[] = {0x0, 0x7f, 0x80, 0x7ff, 0x800,
	    0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff};
	char b[8];
	unsigned long cp;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = enc(good[i], b);
		cp = 0xdead;
		assert_int_equal(utf8_next(b, n, &cp), n);
		assert_int_equal(cp, good[i]);
		/* Cut short by n: malformed. */
		if (n > 1)
			assert_int_equal(utf8_next(b, n - 1, &cp), 0);
	}
	/* Surrogates and values past Unicode, encoded the naive way. */
	for (i = 0xd800; i <= 0xdfff; i++) {
		n = enc(i, b);
		if (utf8_next(b, n, &cp) != 0)
			fail_msg("surrogate U+%04zX accepted", i);
	}
	assert_int_equal(utf8_next("\xed\xa0\x80", 3, &cp), 0);
	assert_int_equal(utf8_next("\xed\xbf\xbf", 3, &cp), 0);
	assert_int_equal(utf8_next("\xf4\x90\x80\x80", 4, &cp), 0);
	assert_int_equal(utf8_next("\xf7\xbf\xbf\xbf", 4, &cp), 0);
	/* Overlong forms of '/', NUL and U+07FF, U+FFFF. */
	assert_int_equal(utf8_next("\xc0\xaf", 2, &cp), 0);
	assert_int_equal(utf8_next("\xc0\x80", 2, &cp), 0);
	assert_int_equal(utf8_next("\xc1\xbf", 2, &cp), 0);
	assert_int_equal(utf8_next("\xe0\x9f\xbf", 3, &cp), 0);
	assert_int_equal(utf8_next("\xf0\x8f\xbf\xbf", 4, &cp), 0);
	/* Stray continuation bytes, 0xf8..0xff, a bad continuation. */
	for (i = 0x80; i <= 0xbf; i++) {
		b[0] = (char)i;
		assert_int_equal(utf8_next(b, 1, &cp), 0);
	}
	for (i = 0xf8; i <= 0xff; i++) {
		b[0] = (char)i;
		b[1] = b[2] = b[3] = (char)0x80;
		assert_int_equal(utf8_next(b, 4, &cp), 0);
	}
	assert_int_equal(utf8_next("\xc3(", 2, &cp), 0);
	assert_int_equal(utf8_next("\xe2\x82(", 3, &cp), 0);
}

static void
test_valid(void **state)
{
	(void)state;
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("plain ascii", 11));
	assert_true(utf8_valid("r\xc3\xa9sum\xc3\xa9", 8));
	assert_true(utf8_valid("\xf0\x9f\x98\x80", 4));
	assert_false(utf8_valid("\xf0\x9f\x98\x80", 3));
	assert_false(utf8_valid("ok\x80", 3));
	assert_false(utf8_valid("\x9b", 1));
	assert_false(utf8_valid("latin1 \xe9t\xe9", 10));
}

static void
test_classes(void **state)
{
	unsigned long cp;

	(void)state;
	for (cp = 0; cp < 0x20; cp++)
		assert_true(utf8_is_control(cp));
	for (cp = 0x20; cp < 0x7f; cp++)
		assert_false(utf8_is_control(cp));
	for (cp = 0x7f; cp <= 0x9f; cp++)
		assert_true(utf8_is_control(cp));
	assert_false(utf8_is_control(0xa0));
	assert_false(utf8_is_control(0x202e));
	for (cp = 0x2020; cp <= 0x2070; cp++)
		assert_int_equal(utf8_is_bidi(cp),
		    (cp >= 0x202a && cp <= 0x202e) ||
			(cp >= 0x2066 && cp <= 0x2069));
	assert_false(utf8_is_bidi(0x200e)); /* LRM: a mark, no override */
	assert_false(utf8_is_bidi(0x9b));
	/* What a screen or a log must not show as it is: all of the above
	 * and the invisible marks and separators, nothing printable. */
	assert_true(utf8_is_hidden(0x9b));
	assert_true(utf8_is_hidden(0x202e));
	assert_true(utf8_is_hidden(0x061c));
	assert_true(utf8_is_hidden(0x200e));
	assert_true(utf8_is_hidden(0x200f));
	assert_true(utf8_is_hidden(0x2028));
	assert_true(utf8_is_hidden(0x2029));
	assert_false(utf8_is_hidden('a'));
	assert_false(utf8_is_hidden(0xe9));
	assert_false(utf8_is_hidden(0x202f));
}

static void
test_check_text(void **state)
{
	char b[16], err[FTX_ERRLEN];
	unsigned long cp;
	size_t n;

	(void)state;
	assert_int_equal(
	    utf8_check_text("fine \xc3\xa9", 7, "name", err, sizeof(err)), 0);
	/* Every C1 control as UTF-8. */
	for (cp = 0x80; cp <= 0x9f; cp++) {
		n = enc(cp, b);
		err[0] = '\0';
		assert_int_equal(
		    utf8_check_text(b, n, "name", err, sizeof(err)), -1);
		assert_string_equal(err, "name contains a control character");
	}
	/* Every raw byte 0x80..0xff alone: not UTF-8. */
	for (cp = 0x80; cp <= 0xff; cp++) {
		b[0] = (char)cp;
		assert_int_equal(
		    utf8_check_text(b, 1, "message", err, sizeof(err)), -1);
		assert_string_equal(err, "message is not valid UTF-8");
	}
	n = enc(0x202e, b);
	assert_int_equal(utf8_check_text(b, n, "name", err, sizeof(err)), -1);
	assert_string_equal(
	    err, "name contains a bidirectional control character");
	/* The length is the caller's: a NUL inside counts as C0. */
	assert_int_equal(utf8_check_text("a\0b", 3, "x", err, sizeof(err)), -1);
	assert_int_equal(utf8_check_text("a\0b", 1, "x", NULL, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_next_boundaries),
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_classes),
	    cmocka_unit_test(test_check_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

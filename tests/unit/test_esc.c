/*
 * test_esc.c - unit tests for ftx/esc.c: text from the network made safe
 * to print.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "esc.h"
#include "ui.h"

/* Escape `in` into a buffer big enough for anything; the result. */
static const char *
esc(const char *in)
{
	static char out[ESC_SIZE(512)];

	assert_true(strlen(in) <= 512);
	assert_int_equal(esc_str(out, sizeof(out), in), 0);
	return out;
}

/* No byte of `s` is a control byte, DEL or >= 0x80 unless it is part
 * of printable UTF-8 we let through: here, the output must be ASCII. */
static void
assert_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		assert_true(
		    (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f);
}

static void
test_printable_unchanged(void **state)
{
	(void)state;
	assert_string_equal(esc(""), "");
	assert_string_equal(esc("report 2024.pdf"), "report 2024.pdf");
	/* Printable UTF-8 of every length travels as is. */
	assert_string_equal(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	assert_string_equal(
	    esc("\xe6\x97\xa5\xe6\x9c\xac"), "\xe6\x97\xa5\xe6\x9c\xac");
	/* U+00A0 and U+00FF: just past the C1 range. */
	assert_string_equal(esc("\xc2\xa0\xc3\xbf"), "\xc2\xa0\xc3\xbf");
	/* A zero-width joiner (emoji sequences) is not ours to hide. */
	assert_string_equal(esc("\xe2\x80\x8d"), "\xe2\x80\x8d");
}

static void
test_c0_and_del(void **state)
{
	(void)state;
	assert_string_equal(esc("\x1b[2Jboom"), "\\x1b[2Jboom");
	assert_string_equal(esc("a\tb\nc\rd"), "a\\x09b\\x0ac\\x0dd");
	assert_string_equal(esc("\x01\x7f"), "\\x01\\x7f");
	assert_string_equal(
	    esc("\x07title\x1b]0;pwned\x07"), "\\x07title\\x1b]0;pwned\\x07");
}

static void
test_c1(void **state)
{
	(void)state;
	/* U+009B (CSI) as UTF-8, and the ends of the C1 range. */
	assert_string_equal(esc("csi\xc2\x9b"
				"2J"),
	    "csi\\u009b2J");
	assert_string_equal(esc("\xc2\x80\xc2\x9f"), "\\u0080\\u009f");
	/* The raw byte 0x9b is not UTF-8: shown as a byte. */
	assert_string_equal(esc("raw\x9b"
				"2J"),
	    "raw\\x9b2J");
}

static void
test_invalid_utf8(void **state)
{
	(void)state;
	assert_string_equal(esc("bad\xff"), "bad\\xff");
	/* A cut-short sequence: each byte on its own. */
	assert_string_equal(esc("trunc\xe2\x82"), "trunc\\xe2\\x82");
	assert_string_equal(esc("\xe2\x82x"), "\\xe2\\x82x");
	/* Overlong '/', a surrogate, beyond U+10FFFF, a stray
	 * continuation byte, 0xc0/0xc1 and 0xf5 leads. */
	assert_string_equal(esc("\xc0\xaf"), "\\xc0\\xaf");
	assert_string_equal(esc("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
	assert_string_equal(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	assert_string_equal(esc("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	assert_string_equal(esc("\x80"), "\\x80");
	assert_string_equal(esc("\xf5\x80\x80\x80"), "\\xf5\\x80\\x80\\x80");
	/* A valid character right after an invalid byte survives. */
	assert_string_equal(esc("\xff\xc3\xa9"), "\\xff\xc3\xa9");
	/* The largest valid code point is printable as far as we know. */
	assert_string_equal(esc("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf");
}

static void
test_bidi(void **state)
{
	(void)state;
	/* "txt.exe" that would show as "exe.txt". */
	assert_string_equal(
	    esc("evil\xe2\x80\xaetxt.exe"), "evil\\u202etxt.exe");
	assert_string_equal(
	    esc("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad"),
	    "\\u202a\\u202b\\u202c\\u202d");
	assert_string_equal(
	    esc("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9"),
	    "\\u2066\\u2067\\u2068\\u2069");
	/* Marks and separators. */
	assert_string_equal(
	    esc("\xd8\x9c\xe2\x80\x8e\xe2\x80\x8f"), "\\u061c\\u200e\\u200f");
	assert_string_equal(esc("\xe2\x80\xa8\xe2\x80\xa9"), "\\u2028\\u2029");
	/* A neighbour stays: U+2027, a hyphenation point. */
	assert_string_equal(esc("\xe2\x80\xa7"), "\xe2\x80\xa7");
}

static void
test_truncation(void **state)
{
	char out[8];

	(void)state;
	/* Fits exactly: 7 bytes and the NUL. */
	assert_int_equal(esc_str(out, sizeof(out), "1234567"), 0);
	assert_string_equal(out, "1234567");
	assert_int_equal(esc_str(out, sizeof(out), "12345678"), -1);
	assert_string_equal(out, "1234567");
	/* An escape is never cut in half: "ab" + "\x1b" needs 7 bytes, the
	 * second "\x1b" does not fit. */
	assert_int_equal(esc_str(out, sizeof(out), "ab\x1b\x1b"), -1);
	assert_string_equal(out, "ab\\x1b");
	/* Nor a UTF-8 character. */
	assert_int_equal(esc_str(out, 4, "a\xe2\x82\xac"), -1);
	assert_string_equal(out, "a");
	assert_int_equal(esc_str(out, 1, "x"), -1);
	assert_string_equal(out, "");
	assert_int_equal(esc_str(out, 0, "x"), -1);
}

/* ESC_SIZE is enough for the worst case of every kind. */
static void
test_worst_case(void **state)
{
	char in[256 + 1], out[ESC_SIZE(256)];
	size_t i;

	(void)state;
	for (i = 0; i < 256; i++)
		in[i] = (char)(0x80 + i % 0x40); /* stray continuations */
	in[256] = '\0';
	assert_int_equal(esc_str(out, sizeof(out), in), 0);
	assert_int_equal(strlen(out), 4 * 256);
	assert_ascii(out);
	for (i = 0; i + 1 < 256; i += 2)
		memcpy(in + i, "\xc2\x85", 2); /* C1: 6 bytes for 2 */
	assert_int_equal(esc_str(out, sizeof(out), in), 0);
	assert_ascii(out);
	for (i = 1; i < 256; i++)
		in[i - 1] = (char)i; /* every byte value */
	in[255] = '\0';
	assert_int_equal(esc_str(out, sizeof(out), in), 0);
	assert_ascii(out);
}

static void
test_ui_safe(void **state)
{
	char buf[ESC_SIZE(16)];

	(void)state;
	assert_ptr_equal(ui_safe(buf, sizeof(buf), "a\xc2\x9b"), buf);
	assert_string_equal(buf, "a\\u009b");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_printable_unchanged),
	    cmocka_unit_test(test_c0_and_del),
	    cmocka_unit_test(test_c1),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_bidi),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_worst_case),
	    cmocka_unit_test(test_ui_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_json.c - unit tests for ftx/json.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "json.h"

/* The buffer's bytes as a C string (they never hold a NUL here). */
static const char *
text(struct buf *b)
{
	static char s[256];

	assert_true(b->len < sizeof(s));
	memcpy(s, buf_head(b), b->len);
	s[b->len] = '\0';
	return s;
}

static void
test_escapes(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 256);
	assert_int_equal(json_str(&b, "a\"b\\c\n\t\r\x01\x7f"), 0);
	assert_string_equal(text(&b), "\"a\\\"b\\\\c\\n\\t\\r\\u0001\\u007f\"");
	buf_reset(&b);
	/* Well-formed UTF-8 passes; a stray byte becomes U+FFFD. */
	assert_int_equal(json_str(&b, "caf\xc3\xa9 \xff!"), 0);
	assert_string_equal(text(&b), "\"caf\xc3\xa9 \\ufffd!\"");
	buf_free(&b);
}

static void
test_object(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 256);
	assert_int_equal(buf_append(&b, "{", 1), 0);
	assert_int_equal(json_kv_str(&b, "path", "x y"), 0);
	assert_int_equal(json_kv_raw(&b, "bytes", "%d", 12), 0);
	assert_int_equal(json_kv_raw(&b, "ok", "true"), 0);
	assert_int_equal(buf_append(&b, "}", 1), 0);
	assert_string_equal(
	    text(&b), "{\"path\":\"x y\",\"bytes\":12,\"ok\":true}");
	buf_free(&b);
}

static void
test_cap(void **state)
{
	struct buf b;

	(void)state;
	/* Bounded: a string that does not fit leaves the
	 * buffer exactly as it was. */
	buf_init(&b, 8);
	assert_int_equal(buf_append(&b, "{", 1), 0);
	assert_int_equal(json_kv_str(&b, "k", "\x01\x02\x03"), -1);
	assert_string_equal(text(&b), "{");
	assert_int_equal(json_str(&b, "toolongvalue"), -1);
	assert_string_equal(text(&b), "{");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_object),
	    cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

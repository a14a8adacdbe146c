/*
 * test_ops.c - unit tests for what ftx/ops.c prints for scripts: the
 * --json objects of ls/stat, hash and stats, and ls's size column
 * (bytes, or IEC units with -h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "ops.h"
#include "rpl.h"
#include "str.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define MD5 "098f6bcd4621d373cade4e832627b4f6"

/* The buffer's bytes as a C string (they never hold a NUL here). */
static const char *
text(struct buf *b)
{
	static char s[4096];

	assert_true(b->len < sizeof(s));
	memcpy(s, buf_head(b), b->len);
	s[b->len] = '\0';
	return s;
}

static void
test_entry_json(void **state)
{
	struct rpl_entry e;
	struct buf b;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.type = 'f';
	e.size = 1536;
	e.mtime = 1772000000;
	e.has_sha = 1;
	(void)str_copy(e.sha256, sizeof(e.sha256), SHA);
	buf_init(&b, 4096);
	/* A quote and a space in the path come out escaped and intact. */
	assert_int_equal(ops_entry_json(&b, &e, "a \"b\" c"), 0);
	assert_string_equal(text(&b),
	    "{\"path\":\"a \\\"b\\\" c\",\"type\":\"file\",\"size\":1536,"
	    "\"mtime\":1772000000,\"sha256\":\"" SHA "\"}");
	buf_reset(&b);
	/* A directory, and a file not hashed yet: null, not "". */
	e.type = 'd';
	e.size = 0;
	e.has_sha = 0;
	e.sha256[0] = '\0';
	e.mtime = -1;
	assert_int_equal(ops_entry_json(&b, &e, "dir/sub"), 0);
	assert_string_equal(text(&b),
	    "{\"path\":\"dir/sub\",\"type\":\"dir\",\"size\":0,"
	    "\"mtime\":-1,\"sha256\":null}");
	buf_free(&b);
}

static void
test_hash_json(void **state)
{
	struct rpl_hash h;
	struct buf b;

	(void)state;
	memset(&h, 0, sizeof(h));
	h.size = UINT64_MAX;
	(void)str_copy(h.sha256, sizeof(h.sha256), SHA);
	(void)str_copy(h.md5, sizeof(h.md5), MD5);
	h.has_md5 = 1;
	(void)str_copy(h.name, sizeof(h.name), "x y");
	buf_init(&b, 4096);
	assert_int_equal(ops_hash_json(&b, &h, 1), 0);
	assert_string_equal(text(&b),
	    "{\"path\":\"x y\",\"size\":18446744073709551615,"
	    "\"sha256\":\"" SHA "\",\"md5\":\"" MD5 "\"}");
	buf_reset(&b);
	/* MD5 not asked for: null even if the server sent one. */
	assert_int_equal(ops_hash_json(&b, &h, 0), 0);
	assert_string_equal(text(&b),
	    "{\"path\":\"x y\",\"size\":18446744073709551615,"
	    "\"sha256\":\"" SHA "\",\"md5\":null}");
	buf_free(&b);
}

static void
test_stats_json(void **state)
{
	struct rpl_stats st;
	char err[128];
	struct buf b;

	(void)state;
	/* Every field the server sends, unknown ones included, as numbers
	 * in the server's order. */
	assert_int_equal(rpl_stats("OK uptime=5 bytes_in=1048576 new_thing=7",
			     &st, err, sizeof(err)),
	    0);
	buf_init(&b, 4096);
	assert_int_equal(ops_stats_json(&b, &st), 0);
	assert_string_equal(
	    text(&b), "{\"uptime\":5,\"bytes_in\":1048576,\"new_thing\":7}");
	buf_reset(&b);
	st.n = 0;
	assert_int_equal(ops_stats_json(&b, &st), 0);
	assert_string_equal(text(&b), "{}");
	buf_free(&b);
}

static void
test_json_cap(void **state)
{
	struct rpl_entry e;
	struct rpl_stats st;
	char err[128];
	struct buf b;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.type = 'f';
	/* All or nothing: an object that does not fit leaves the buffer
	 * as it was, so a caller never prints half an object. */
	buf_init(&b, 40);
	assert_int_equal(buf_append(&b, "x", 1), 0);
	assert_int_equal(ops_entry_json(&b, &e, "some/long/path/name"), -1);
	assert_string_equal(text(&b), "x");
	assert_int_equal(
	    rpl_stats("OK a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=10", &st, err,
		sizeof(err)),
	    0);
	assert_int_equal(ops_stats_json(&b, &st), -1);
	assert_string_equal(text(&b), "x");
	buf_free(&b);
}

static void
test_size_text(void **state)
{
	char s[32];

	(void)state;
	/* Plain: the byte count.  Human: IEC, as everywhere in ftx. */
	assert_int_equal(ops_size_text(s, sizeof(s), 1536, 0), 0);
	assert_string_equal(s, "1536");
	assert_int_equal(ops_size_text(s, sizeof(s), 1536, 1), 0);
	assert_string_equal(s, "1.5 KiB");
	assert_int_equal(ops_size_text(s, sizeof(s), 512, 1), 0);
	assert_string_equal(s, "512 B");
	assert_int_equal(ops_size_text(s, sizeof(s), 1572864, 1), 0);
	assert_string_equal(s, "1.5 MiB");
	assert_int_equal(ops_size_text(s, sizeof(s), 0, 1), 0);
	assert_string_equal(s, "0 B");
	/* Too small a buffer is an error, not a cut figure. */
	assert_int_equal(ops_size_text(s, 4, 1572864, 1), -1);
	assert_int_equal(ops_size_text(s, 4, 12345, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_entry_json),
	    cmocka_unit_test(test_hash_json),
	    cmocka_unit_test(test_stats_json),
	    cmocka_unit_test(test_json_cap),
	    cmocka_unit_test(test_size_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

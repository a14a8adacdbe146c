/*
 * test_proto.c - unit tests for shared/proto.c: the control-line grammar,
 * including hostile lines, and the file-name check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ftx_limits.h"
#include "proto.h"
#include "str.h"

/* ---- proto_find_line ---- */

static void
test_find_line_basic(void **state)
{
	assert_int_equal(proto_find_line("", 0), 0);
	assert_int_equal(proto_find_line("NOOP", 4), 0);
	assert_int_equal(proto_find_line("NOOP\n", 5), 5);
	assert_int_equal(proto_find_line("NOOP\r\n", 6), 6);
	assert_int_equal(proto_find_line("\n", 1), 1);
	/* Only the first line is reported. */
	assert_int_equal(proto_find_line("A\nB\n", 4), 2);
	/* `len` bounds the search: a LF beyond it does not count. */
	assert_int_equal(proto_find_line("AB\n", 2), 0);
	/* NUL bytes do not stop the scan. */
	assert_int_equal(proto_find_line("A\0B\n", 4), 4);
}

/* A buffer of `len` bytes of 'a' with optional LF at index `lf`. */
static char *
mkline(size_t len, size_t lf)
{
	char *p = malloc(len + 1);

	assert_non_null(p);
	memset(p, 'a', len);
	if (lf < len)
		p[lf] = '\n';
	p[len] = '\0';
	return p;
}

static void
test_find_line_limits(void **state)
{
	char *p;

	/* 4095 bytes + LF = 4096 bytes: the longest legal line. */
	p = mkline(FTX_LINE_MAX, FTX_LINE_MAX - 1);
	assert_int_equal(proto_find_line(p, FTX_LINE_MAX), FTX_LINE_MAX);
	free(p);

	/* 4095 bytes, no LF yet: may still become legal. */
	p = mkline(FTX_LINE_MAX - 1, SIZE_MAX);
	assert_int_equal(proto_find_line(p, FTX_LINE_MAX - 1), 0);
	free(p);

	/* 4096 bytes, no LF: already too long. */
	p = mkline(FTX_LINE_MAX, SIZE_MAX);
	assert_int_equal(proto_find_line(p, FTX_LINE_MAX), -1);
	free(p);

	/* 4096 bytes + LF (4097 in all): too long, even though the LF is
	 * in the buffer. */
	p = mkline(FTX_LINE_MAX + 1, FTX_LINE_MAX);
	assert_int_equal(proto_find_line(p, FTX_LINE_MAX + 1), -1);
	free(p);

	/* A long tail after a legal line does not matter. */
	p = mkline(3 * FTX_LINE_MAX, 10);
	assert_int_equal(proto_find_line(p, 3 * FTX_LINE_MAX), 11);
	free(p);

	/* 64 KiB with no LF. */
	p = mkline(FTX_FLOOD_BYTES, SIZE_MAX);
	assert_int_equal(proto_find_line(p, FTX_FLOOD_BYTES), -1);
	free(p);
}

/* ---- proto_split ---- */

/* Split a copy of `s`; returns proto_split's result. */
static int
split(const char *s, char *copy, size_t n, struct proto_cmd *cmd, char *err)
{
	assert_int_equal(str_copy(copy, n, s), 0);
	err[0] = '\0';
	return proto_split(copy, cmd, err, FTX_ERRLEN);
}

static void
test_split_basic(void **state)
{
	char line[128], err[FTX_ERRLEN];
	struct proto_cmd c;

	assert_int_equal(split("NOOP\n", line, sizeof(line), &c, err), 0);
	assert_string_equal(c.verb, "NOOP");
	assert_int_equal(c.argc, 0);

	assert_int_equal(
	    split("upload a.txt 12\r\n", line, sizeof(line), &c, err), 0);
	assert_string_equal(c.verb, "UPLOAD");
	assert_int_equal(c.argc, 2);
	assert_string_equal(c.argv[0], "a.txt");
	assert_string_equal(c.argv[1], "12");

	/* Runs of spaces, leading and trailing spaces. */
	assert_int_equal(split("   DownLoad    b.bin   offset=0   \n", line,
			     sizeof(line), &c, err),
	    0);
	assert_string_equal(c.verb, "DOWNLOAD");
	assert_int_equal(c.argc, 2);
	assert_string_equal(c.argv[0], "b.bin");
	assert_string_equal(c.argv[1], "offset=0");

	/* Without any line ending. */
	assert_int_equal(split("LIST", line, sizeof(line), &c, err), 0);
	assert_string_equal(c.verb, "LIST");
	assert_int_equal(c.argc, 0);

	/* Arguments keep their case; only the verb is upper-cased. */
	assert_int_equal(
	    split("hash MyFile md5\n", line, sizeof(line), &c, err), 0);
	assert_string_equal(c.verb, "HASH");
	assert_string_equal(c.argv[0], "MyFile");
	assert_string_equal(c.argv[1], "md5");
}

static void
test_split_empty(void **state)
{
	static const char *empty[] = {
	    "", "\n", "\r\n", "   \n", " ", "    \r\n"};
	char line[64], err[FTX_ERRLEN];
	struct proto_cmd c;
	size_t i;

	for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		assert_int_equal(
		    split(empty[i], line, sizeof(line), &c, err), -1);
		assert_true(err[0] != '\0');
	}
}

static void
test_split_control_chars(void **state)
{
	char line[64], err[FTX_ERRLEN];
	struct proto_cmd c;
	int ch;

	/* Every control character except the final CR LF is rejected,
	 * wherever it appears. */
	for (ch = 1; ch < 0x20; ch++) {
		char s[32];

		assert_int_equal(
		    str_fmt(s, sizeof(s), "UPLOAD a%cb 1\n", ch), 0);
		if (split(s, line, sizeof(line), &c, err) != -1)
			fail_msg("control char 0x%02x accepted", ch);
		assert_true(err[0] != '\0');
		assert_int_equal(str_fmt(s, sizeof(s), "%cNOOP\n", ch), 0);
		assert_int_equal(split(s, line, sizeof(line), &c, err), -1);
	}
	assert_int_equal(split("UPLOAD a\x7f"
			       "b 1\n",
			     line, sizeof(line), &c, err),
	    -1);
	/* Tabs are not separators. */
	assert_int_equal(
	    split("UPLOAD\ta 1\n", line, sizeof(line), &c, err), -1);
	/* A bare CR in the middle, or two CRs at the end. */
	assert_int_equal(split("NO\rOP\n", line, sizeof(line), &c, err), -1);
	assert_int_equal(split("NOOP\r\r\n", line, sizeof(line), &c, err), -1);
	/* A LF that is not at the end. */
	assert_int_equal(
	    split("NOOP\nQUIT\n", line, sizeof(line), &c, err), -1);
	/* CR then nothing is just the line ending. */
	assert_int_equal(split("NOOP\r", line, sizeof(line), &c, err), 0);
	assert_string_equal(c.verb, "NOOP");
}

static void
test_split_percent(void **state)
{
	char line[128], err[FTX_ERRLEN];
	struct proto_cmd c;

	assert_int_equal(
	    split("UPLOAD my%20file.txt 5\n", line, sizeof(line), &c, err), 0);
	assert_string_equal(c.argv[0], "my file.txt");
	assert_int_equal(
	    split("UPLOAD 100%25%2f%2F 5\n", line, sizeof(line), &c, err), 0);
	assert_string_equal(c.argv[0], "100%//");
	/* Raw and encoded UTF-8 mean the same name. */
	assert_int_equal(split("HASH r\xc3\xa9sum\xc3\xa9.pdf\n", line,
			     sizeof(line), &c, err),
	    0);
	assert_string_equal(c.argv[0], "r\xc3\xa9sum\xc3\xa9.pdf");
	assert_int_equal(
	    split("HASH r%C3%A9sum%c3%a9.pdf\n", line, sizeof(line), &c, err),
	    0);
	assert_string_equal(c.argv[0], "r\xc3\xa9sum\xc3\xa9.pdf");
	/* An escape may produce a control character: that is the name
	 * check's business, not the grammar's. */
	assert_int_equal(split("HASH a%0Ab\n", line, sizeof(line), &c, err), 0);
	assert_string_equal(c.argv[0], "a\nb");
	/* Decoded verbs work too. */
	assert_int_equal(split("N%4fOP\n", line, sizeof(line), &c, err), 0);
	assert_string_equal(c.verb, "NOOP");
	/* A decoded space does not split tokens. */
	assert_int_equal(split("DELETE %20\n", line, sizeof(line), &c, err), 0);
	assert_int_equal(c.argc, 1);
	assert_string_equal(c.argv[0], " ");
}

static void
test_split_bad_escapes(void **state)
{
	static const char *bad[] = {"HASH a%00b\n", "HASH %00\n", "HASH a%zz\n",
	    "HASH a%4\n", "HASH a%\n", "HASH %\n", "HASH a%4 b\n",
	    "HASH a%g0\n", "HASH a%0g\n", "HASH %%41\n", "HASH a%-1\n",
	    "HASH a% 1\n", "%00\n", "NO%zzOP\n", "HASH ok %4\n"};
	char line[64], err[FTX_ERRLEN];
	struct proto_cmd c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (split(bad[i], line, sizeof(line), &c, err) != -1)
			fail_msg("accepted bad escape in \"%s\"", bad[i]);
		assert_true(err[0] != '\0');
	}
}

static void
test_split_args_limit(void **state)
{
	char line[256], err[FTX_ERRLEN], s[256];
	struct proto_cmd c;
	int i, n;

	/* FTX_MAX_ARGS arguments are fine... */
	assert_int_equal(str_copy(s, sizeof(s), "X"), 0);
	for (i = 0; i < FTX_MAX_ARGS; i++) {
		n = (int)strlen(s);
		assert_int_equal(
		    str_fmt(s + n, sizeof(s) - (size_t)n, " a%d", i), 0);
	}
	assert_int_equal(split(s, line, sizeof(line), &c, err), 0);
	assert_int_equal(c.argc, FTX_MAX_ARGS);
	for (i = 0; i < FTX_MAX_ARGS; i++) {
		char want[8];

		assert_int_equal(str_fmt(want, sizeof(want), "a%d", i), 0);
		assert_string_equal(c.argv[i], want);
	}
	/* ...one more is not, with or without trailing spaces. */
	n = (int)strlen(s);
	assert_int_equal(str_fmt(s + n, sizeof(s) - (size_t)n, " z"), 0);
	assert_int_equal(split(s, line, sizeof(line), &c, err), -1);
	assert_true(err[0] != '\0');
	n = (int)strlen(s);
	assert_int_equal(str_fmt(s + n, sizeof(s) - (size_t)n, "    \n"), 0);
	assert_int_equal(split(s, line, sizeof(line), &c, err), -1);
	/* Many more. */
	assert_int_equal(split("a b c d e f g h i j k l m n o p q r s t\n",
			     line, sizeof(line), &c, err),
	    -1);
}

static void
test_split_verb_length(void **state)
{
	char line[64], err[FTX_ERRLEN];
	struct proto_cmd c;

	/* 15 bytes fit verb[16]; 16 do not. */
	assert_int_equal(
	    split("abcdefghijklmno x\n", line, sizeof(line), &c, err), 0);
	assert_string_equal(c.verb, "ABCDEFGHIJKLMNO");
	assert_int_equal(
	    split("abcdefghijklmnop x\n", line, sizeof(line), &c, err), -1);
	assert_true(err[0] != '\0');
}

static void
test_split_max_line(void **state)
{
	char *line = malloc(FTX_LINE_MAX + 1), err[FTX_ERRLEN];
	struct proto_cmd c;

	/* The longest legal line: "HASH " + name + "\n" = 4096 bytes. */
	assert_non_null(line);
	memcpy(line, "HASH ", 5);
	memset(line + 5, 'n', FTX_LINE_MAX - 6);
	line[FTX_LINE_MAX - 1] = '\n';
	line[FTX_LINE_MAX] = '\0';
	assert_int_equal(proto_find_line(line, FTX_LINE_MAX), FTX_LINE_MAX);
	assert_int_equal(proto_split(line, &c, err, sizeof(err)), 0);
	assert_int_equal(c.argc, 1);
	assert_int_equal(strlen(c.argv[0]), FTX_LINE_MAX - 6);
	/* Long, but no longer a valid name. */
	assert_int_equal(proto_name_check(c.argv[0], err, sizeof(err)), -1);
	free(line);
}

/* ---- proto_name_check ---- */

static void
test_name_rejects(void **state)
{
	static const struct {
		const char *name;
		const char *reason; /* a substring of the reason */
	} bad[] = {
	    {"", "empty"},
	    {".", "."},
	    {"..", "."},
	    {".hidden", "starts with '.'"},
	    {".ftx-tmp-123", "starts with '.'"},
	    {"...", "."},
	    {"a/b", "'/'"},
	    {"/etc/passwd", "'/'"},
	    {"../etc/passwd", ""},
	    {"dir/", "'/'"},
	    {"a\\b", "'\\'"},
	    {"..\\..\\win.ini", ""},
	    {"a\nb", "control"},
	    {"a\rb", "control"},
	    {"\tname", "control"},
	    {"name\x1b[2J", "control"},
	    {"del\x7f", "control"},
	    {"\x01", "control"},
	    {"\x1f", "control"},
	};
	char err[FTX_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (proto_name_check(bad[i].name, err, sizeof(err)) != -1)
			fail_msg("name #%zu accepted", i);
		assert_true(err[0] != '\0');
		if (strstr(err, bad[i].reason) == NULL)
			fail_msg("name #%zu: reason \"%s\" lacks \"%s\"", i,
			    err, bad[i].reason);
	}
	assert_int_equal(proto_name_check(NULL, err, sizeof(err)), -1);
	/* A NULL err buffer is allowed. */
	assert_int_equal(proto_name_check("", NULL, 0), -1);
}

static void
test_name_length(void **state)
{
	char name[FTX_NAME_MAX + 2], err[FTX_ERRLEN];

	memset(name, 'a', sizeof(name));
	name[FTX_NAME_MAX] = '\0'; /* 255 bytes */
	assert_int_equal(proto_name_check(name, err, sizeof(err)), 0);
	name[FTX_NAME_MAX] = 'a';
	name[FTX_NAME_MAX + 1] = '\0'; /* 256 bytes */
	assert_int_equal(proto_name_check(name, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "255"));
	name[1] = '\0';
	assert_int_equal(proto_name_check(name, err, sizeof(err)), 0);
}

/* Names that reach terminals and logs: no C1 control (as UTF-8 or as a
 * raw byte), no malformed UTF-8, no bidi control. */
static void
test_name_hostile_utf8(void **state)
{
	static const struct {
		const char *name;
		const char *reason;
	} bad[] = {
	    {"csi\xc2\x9bJ", "control"}, /* U+009B, CSI */
	    {"\xc2\x80", "control"}, /* U+0080 */
	    {"nel\xc2\x85", "control"}, /* U+0085 */
	    {"\xc2\x9f", "control"}, /* U+009F */
	    {"raw\x9bJ", "UTF-8"}, /* a raw C1 byte */
	    {"\x80", "UTF-8"}, {"\x9f", "UTF-8"}, {"\x80\xff", "UTF-8"},
	    {"latin1 r\xe9sum\xe9", "UTF-8"},
	    {"over\xc0\xaflong", "UTF-8"}, /* '/' overlong */
	    {"\xc1\xbf", "UTF-8"}, {"\xe0\x80\xaf", "UTF-8"},
	    {"\xf0\x80\x80\xaf", "UTF-8"},
	    {"\xc0\x80", "UTF-8"}, /* overlong NUL */
	    {"surr\xed\xa0\x80", "UTF-8"}, /* U+D800 */
	    {"\xed\xbf\xbf", "UTF-8"}, /* U+DFFF */
	    {"\xf4\x90\x80\x80", "UTF-8"}, /* U+110000 */
	    {"\xf5\x80\x80\x80", "UTF-8"}, {"\xf8\x88\x80\x80\x80", "UTF-8"},
	    {"\xfe", "UTF-8"}, {"cut\xe2\x82", "UTF-8"}, /* truncated */
	    {"cut\xf0\x9f\x98", "UTF-8"}, {"\xc3", "UTF-8"},
	    {"lre\xe2\x80\xaa", "bidi"}, /* U+202A */
	    {"rle\xe2\x80\xab", "bidi"}, {"pdf\xe2\x80\xac", "bidi"},
	    {"lro\xe2\x80\xad", "bidi"},
	    {"invoice\xe2\x80\xaeXE.pdf", "bidi"}, /* U+202E, RLO */
	    {"lri\xe2\x81\xa6", "bidi"}, /* U+2066 */
	    {"rli\xe2\x81\xa7", "bidi"}, {"fsi\xe2\x81\xa8", "bidi"},
	    {"pdi\xe2\x81\xa9", "bidi"}, /* U+2069 */
	};
	char err[FTX_ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (proto_name_check(bad[i].name, err, sizeof(err)) != -1)
			fail_msg("hostile name #%zu accepted", i);
		if (strstr(err, bad[i].reason) == NULL)
			fail_msg("name #%zu: reason \"%s\" lacks \"%s\"", i,
			    err, bad[i].reason);
	}
}

static void
test_name_accepts(void **state)
{
	static const char *good[] = {"a", "a.txt", "my file.txt",
	    "r\xc3\xa9sum\xc3\xa9.pdf", "\xe6\x97\xa5\xe6\x9c\xac.bin", "a..b",
	    "a.", "name.", "-rf", "~", "100%", "a:b", "x y z",
	    "\xf0\x9f\x93\x81", "trailing ", " leading",
	    /* The neighbours of the refused ranges are fine: U+00A0, U+00FF,
	     * U+2029, U+202F, U+2065, U+206A, U+200E (a mark, not an
	     * override), U+FFFD, U+10FFFF. */
	    "nb\xc2\xa0sp", "\xc3\xbf", "\xe2\x80\xa9", "\xe2\x80\xaf",
	    "\xe2\x81\xa5", "\xe2\x81\xaa", "\xe2\x80\x8e", "\xef\xbf\xbd",
	    "\xf4\x8f\xbf\xbf"};
	char err[FTX_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (proto_name_check(good[i], err, sizeof(err)) != 0)
			fail_msg("rejected \"%s\": %s", good[i], err);
}

/* ---- proto_encode ---- */

static void
test_encode(void **state)
{
	char out[64];

	assert_int_equal(proto_encode(out, sizeof(out), "my file.txt"), 0);
	assert_string_equal(out, "my%20file.txt");
	assert_int_equal(proto_encode(out, sizeof(out), "100%"), 0);
	assert_string_equal(out, "100%25");
	assert_int_equal(proto_encode(out, sizeof(out), "a\x01\x7f\n"), 0);
	assert_string_equal(out, "a%01%7F%0A");
	/* UTF-8 and other printable bytes go raw. */
	assert_int_equal(proto_encode(out, sizeof(out), "r\xc3\xa9~!/"), 0);
	assert_string_equal(out, "r\xc3\xa9~!/");
	assert_int_equal(proto_encode(out, sizeof(out), ""), 0);
	assert_string_equal(out, "");
}

static void
test_encode_sizes(void **state)
{
	char out[8];

	/* "abc" needs 4 bytes, " " needs 4 ("%20" + NUL). */
	assert_int_equal(proto_encode(out, 4, "abc"), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(proto_encode(out, 3, "abc"), -1);
	assert_int_equal(proto_encode(out, 4, " "), 0);
	assert_string_equal(out, "%20");
	assert_int_equal(proto_encode(out, 3, " "), -1);
	assert_int_equal(proto_encode(out, 6, "a b"), 0);
	assert_int_equal(proto_encode(out, 5, "a b"), -1);
	/* A failed encode leaves an empty string, not half a name. */
	assert_string_equal(out, "");
	assert_int_equal(proto_encode(out, 1, ""), 0);
	assert_int_equal(proto_encode(out, 0, ""), -1);
}

static void
test_encode_roundtrip(void **state)
{
	char name[FTX_NAME_MAX + 1], enc[FTX_LINE_MAX], line[FTX_LINE_MAX + 16];
	char err[FTX_ERRLEN];
	struct proto_cmd c;
	unsigned seed = 1;
	int iter;
	size_t i, len;

	/* Random names of every byte value 1..255 survive encode, a trip
	 * through a control line, and split. */
	for (iter = 0; iter < 2000; iter++) {
		seed = seed * 1103515245u + 12345u;
		len = 1 + (seed >> 16) % FTX_NAME_MAX;
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			name[i] = (char)(1 + (seed >> 16) % 255);
		}
		name[len] = '\0';
		assert_int_equal(proto_encode(enc, sizeof(enc), name), 0);
		/* The encoding itself holds no space or control byte. */
		for (i = 0; enc[i] != '\0'; i++)
			assert_true(
			    (unsigned char)enc[i] > 0x20 && enc[i] != 0x7f);
		assert_int_equal(
		    str_fmt(line, sizeof(line), "HASH %s md5\r\n", enc), 0);
		assert_true(proto_find_line(line, strlen(line)) > 0);
		assert_int_equal(proto_split(line, &c, err, sizeof(err)), 0);
		assert_int_equal(c.argc, 2);
		assert_string_equal(c.argv[0], name);
		assert_string_equal(c.argv[1], "md5");
	}
}

/* ---- proto_param_u64, proto_kind ---- */

static void
test_param(void **state)
{
	uint64_t v = 77;

	assert_int_equal(proto_param_u64("offset=0", "offset", 100, &v), 1);
	assert_true(v == 0);
	assert_int_equal(proto_param_u64("offset=100", "offset", 100, &v), 1);
	assert_true(v == 100);
	assert_int_equal(proto_param_u64("offset=101", "offset", 100, &v), -1);
	assert_int_equal(proto_param_u64("offset=", "offset", 100, &v), -1);
	assert_int_equal(proto_param_u64("offset=-1", "offset", 100, &v), -1);
	assert_int_equal(proto_param_u64("offset=01", "offset", 100, &v), -1);
	assert_int_equal(proto_param_u64("offset=1x", "offset", 100, &v), -1);
	/* Other keys, and near-misses of the key, are "not this key". */
	assert_int_equal(proto_param_u64("size=1", "offset", 100, &v), 0);
	assert_int_equal(proto_param_u64("offsetx=1", "offset", 100, &v), 0);
	assert_int_equal(proto_param_u64("offset", "offset", 100, &v), 0);
	assert_int_equal(proto_param_u64("offse=1", "offset", 100, &v), 0);
	assert_int_equal(proto_param_u64("", "offset", 100, &v), 0);
	assert_true(v == 100);
}

static void
test_kind(void **state)
{
	assert_int_equal(proto_kind("OK"), PROTO_OK);
	assert_int_equal(proto_kind("OK 5002 abc"), PROTO_OK);
	assert_int_equal(proto_kind("OK\r\n"), PROTO_OK);
	assert_int_equal(proto_kind("DONE"), PROTO_DONE);
	assert_int_equal(proto_kind("DONE abc"), PROTO_DONE);
	assert_int_equal(proto_kind("ERROR SYNTAX x"), PROTO_ERROR);
	assert_int_equal(proto_kind("FILE 1 2 - a"), PROTO_DATA);
	assert_int_equal(proto_kind("HELP LIST"), PROTO_DATA);
	assert_int_equal(proto_kind("OKAY"), PROTO_PUSH);
	assert_int_equal(proto_kind("ok"), PROTO_PUSH);
	assert_int_equal(proto_kind(" OK"), PROTO_PUSH);
	assert_int_equal(proto_kind("DONEX"), PROTO_PUSH);
	assert_int_equal(proto_kind("ERRORS"), PROTO_PUSH);
	assert_int_equal(proto_kind("FILES"), PROTO_PUSH);
	assert_int_equal(proto_kind("MSG hi"), PROTO_PUSH);
	assert_int_equal(proto_kind(""), PROTO_PUSH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_find_line_basic),
	    cmocka_unit_test(test_find_line_limits),
	    cmocka_unit_test(test_split_basic),
	    cmocka_unit_test(test_split_empty),
	    cmocka_unit_test(test_split_control_chars),
	    cmocka_unit_test(test_split_percent),
	    cmocka_unit_test(test_split_bad_escapes),
	    cmocka_unit_test(test_split_args_limit),
	    cmocka_unit_test(test_split_verb_length),
	    cmocka_unit_test(test_split_max_line),
	    cmocka_unit_test(test_name_rejects),
	    cmocka_unit_test(test_name_length),
	    cmocka_unit_test(test_name_accepts),
	    cmocka_unit_test(test_name_hostile_utf8),
	    cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_encode_sizes),
	    cmocka_unit_test(test_encode_roundtrip),
	    cmocka_unit_test(test_param),
	    cmocka_unit_test(test_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

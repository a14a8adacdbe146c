/*
 * test_chat.c - unit tests for the chat grammar (shared/chat.c), the
 * free-text splitting of SAY/MSG/ECHO lines (shared/proto.c) and the UDP
 * echo request check (ftxd/udpecho.c).  These are the security checks
 * that keep terminal escapes and malformed UTF-8 out of everyone's
 * screen and keep the UDP echo from answering junk, so they are fed
 * hostile input at every boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "chat.h"
#include "ftx_limits.h"
#include "proto.h"
#include "str.h"
#include "udpecho.h"

/* A timestamp of the exact shape the server sends. */
#define TS "2026-11-21T09:30:00.125Z"

/* A NUL-terminated string of `len` copies of `c` (caller frees). */
static char *
repeat(char c, size_t len)
{
	char *p = malloc(len + 1);

	assert_non_null(p);
	memset(p, c, len);
	p[len] = '\0';
	return p;
}

/* ---- chat_nick_check ---- */

static void
test_nick_lengths(void **state)
{
	char err[FTX_ERRLEN];
	char *p;
	size_t len;

	/* Every length from 1 to the maximum is fine. */
	for (len = 1; len <= FTX_NICK_MAX; len++) {
		p = repeat('a', len);
		if (chat_nick_check(p, err, sizeof(err)) != 0)
			fail_msg("a nick of %zu bytes refused: %s", len, err);
		free(p);
	}
	/* One more is not, and says why. */
	p = repeat('a', FTX_NICK_MAX + 1);
	err[0] = '\0';
	assert_int_equal(chat_nick_check(p, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	free(p);
	p = repeat('Z', 4 * FTX_NICK_MAX);
	assert_int_equal(chat_nick_check(p, err, sizeof(err)), -1);
	free(p);

	err[0] = '\0';
	assert_int_equal(chat_nick_check("", err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	assert_int_equal(chat_nick_check(NULL, err, sizeof(err)), -1);
}

static void
test_nick_alphabet(void **state)
{
	static const char ok[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
	char err[FTX_ERRLEN], nick[4];
	int c;

	/* The whole alphabet, 32 bytes at a time. */
	assert_int_equal(chat_nick_check("abcdefghijklmnopqrstuvwxyzABCDEF",
			     err, sizeof(err)),
	    0);
	assert_int_equal(chat_nick_check("GHIJKLMNOPQRSTUVWXYZ0123456789-_",
			     err, sizeof(err)),
	    0);
	assert_int_equal(chat_nick_check("-", err, sizeof(err)), 0);
	assert_int_equal(chat_nick_check("_", err, sizeof(err)), 0);
	assert_int_equal(chat_nick_check("0", err, sizeof(err)), 0);

	/* Every other byte value is refused, alone and inside a nick. */
	for (c = 1; c < 256; c++) {
		int allowed = strchr(ok, c) != NULL;

		nick[0] = (char)c;
		nick[1] = '\0';
		if ((chat_nick_check(nick, err, sizeof(err)) == 0) != allowed)
			fail_msg("byte 0x%02x alone: wrong verdict", c);
		nick[0] = 'a';
		nick[1] = (char)c;
		nick[2] = 'b';
		nick[3] = '\0';
		if ((chat_nick_check(nick, err, sizeof(err)) == 0) != allowed)
			fail_msg("byte 0x%02x inside: wrong verdict", c);
	}
	/* Spaces would split the token; UTF-8 letters could impersonate. */
	assert_int_equal(chat_nick_check("al ice", err, sizeof(err)), -1);
	assert_int_equal(chat_nick_check(" alice", err, sizeof(err)), -1);
	assert_int_equal(chat_nick_check("alice ", err, sizeof(err)), -1);
	assert_int_equal(chat_nick_check("j\xc3\xb6rg", err, sizeof(err)), -1);
	/* Cyrillic 'a' in "alice". */
	assert_int_equal(chat_nick_check("\xd0\xb0lice", err, sizeof(err)), -1);
	assert_int_equal(chat_nick_check("a.b", err, sizeof(err)), -1);
	assert_int_equal(chat_nick_check("a%20b", err, sizeof(err)), -1);
	assert_int_equal(chat_nick_check("@alice", err, sizeof(err)), -1);
}

/* The check reads up to the NUL only: a NUL ends the nick (the protocol
 * cannot carry one, %00 is a syntax error), so the bytes after it do not
 * count towards the length or the alphabet. */
static void
test_nick_nul(void **state)
{
	char err[FTX_ERRLEN];
	char buf[FTX_NICK_MAX + 8];

	memset(buf, 'b', sizeof(buf));
	buf[3] = '\0';
	assert_int_equal(chat_nick_check(buf, err, sizeof(err)), 0);
	memcpy(buf, "ok\0 !bad", 8);
	assert_int_equal(chat_nick_check(buf, err, sizeof(err)), 0);
}

static void
test_nick_eq(void **state)
{
	assert_true(chat_nick_eq("alice", "alice"));
	assert_true(chat_nick_eq("Alice", "alice"));
	assert_true(chat_nick_eq("ALICE", "aLiCe"));
	assert_true(chat_nick_eq("a-B_9", "A-b_9"));
	assert_false(chat_nick_eq("alice", "alice2"));
	assert_false(chat_nick_eq("alice", "alic"));
	assert_false(chat_nick_eq("alice", "bob"));
	assert_false(chat_nick_eq("a-b", "a_b"));
	/* Case folding is ASCII only: '-' (0x2d) and '_' (0x5f) do not fold
	 * to anything, nor do digits. */
	assert_false(chat_nick_eq("a1", "a!"));
}

/* ---- chat_text_check ---- */

static int
text_ok(const char *s)
{
	char err[FTX_ERRLEN] = "";
	int r = chat_text_check(s, err, sizeof(err));

	if (r == -1 && err[0] == '\0')
		fail_msg("refused without a reason: %s", s);
	return r == 0;
}

static void
test_text_lengths(void **state)
{
	char *p;

	assert_false(text_ok(""));
	assert_false(text_ok(NULL));
	assert_true(text_ok("x"));
	assert_true(text_ok(" "));

	p = repeat('m', FTX_CHAT_TEXT_MAX);
	assert_true(text_ok(p));
	free(p);
	p = repeat('m', FTX_CHAT_TEXT_MAX + 1);
	assert_false(text_ok(p));
	free(p);

	/* The limit is in bytes, not characters: 341 three-byte euro
	 * signs (1023 bytes) plus one byte fit, one more euro does not. */
	p = malloc(FTX_CHAT_TEXT_MAX + 4);
	assert_non_null(p);
	for (size_t i = 0; i < 341; i++)
		memcpy(p + 3 * i, "\xe2\x82\xac", 3);
	p[1023] = 'e';
	p[1024] = '\0';
	assert_true(text_ok(p));
	memcpy(p + 1023, "\xe2\x82\xac", 3);
	p[1026] = '\0';
	assert_false(text_ok(p));
	free(p);
}

static void
test_text_utf8_valid(void **state)
{
	assert_true(text_ok("plain ASCII, with  inner   spaces "));
	assert_true(text_ok("\xc3\xa9t\xc3\xa9")); /* 2-byte: été */
	assert_true(text_ok("\xe2\x82\xac 5")); /* 3-byte: € */
	assert_true(text_ok("\xf0\x9f\x98\x80")); /* 4-byte: U+1F600 */
	assert_true(text_ok("\xc2\xa0")); /* U+00A0, just past C1 */
	assert_true(text_ok("\xdf\xbf")); /* U+07FF */
	assert_true(text_ok("\xe0\xa0\x80")); /* U+0800 */
	assert_true(text_ok("\xed\x9f\xbf")); /* U+D7FF */
	assert_true(text_ok("\xee\x80\x80")); /* U+E000 */
	assert_true(text_ok("\xef\xbf\xbd")); /* U+FFFD */
	assert_true(text_ok("\xf0\x90\x80\x80")); /* U+10000 */
	assert_true(text_ok("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
	assert_true(text_ok("~")); /* 0x7e, before DEL */
	assert_true(text_ok("a%00b %zz")); /* literal, not escapes */
}

static void
test_text_utf8_invalid(void **state)
{
	static const char *bad[] = {
	    "\x80", /* lone continuation byte */
	    "a\xbf", /* continuation after ASCII */
	    "\xc3", /* truncated 2-byte sequence */
	    "x\xe2\x82", /* truncated 3-byte sequence */
	    "\xf0\x9f\x98", /* truncated 4-byte sequence */
	    "\xc3(", /* bad continuation */
	    "\xe2(\xac", /* bad continuation in the middle */
	    "\xc0\xaf", /* overlong '/' */
	    "\xc1\xbf", /* overlong */
	    "\xe0\x80\xaf", /* overlong 3-byte '/' */
	    "\xe0\x9f\xbf", /* overlong U+07FF */
	    "\xf0\x80\x80\xaf", /* overlong 4-byte '/' */
	    "\xf0\x8f\xbf\xbf", /* overlong U+FFFF */
	    "\xed\xa0\x80", /* surrogate U+D800 */
	    "\xed\xbf\xbf", /* surrogate U+DFFF */
	    "\xf4\x90\x80\x80", /* U+110000, beyond Unicode */
	    "\xf7\xbf\xbf\xbf", /* U+1FFFFF */
	    "\xf8\x88\x80\x80\x80", /* 5-byte form */
	    "\xfc\x84\x80\x80\x80\x80", /* 6-byte form */
	    "\xfe", "\xff", "ok then \xff", /* a bad byte at the end */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (text_ok(bad[i]))
			fail_msg("invalid UTF-8 #%zu accepted", i);
	/* chat_utf8_valid agrees on the encoding errors (it does not care
	 * about control characters). */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (chat_utf8_valid(bad[i], strlen(bad[i])))
			fail_msg("chat_utf8_valid accepted #%zu", i);
	assert_true(chat_utf8_valid("", 0));
	assert_true(chat_utf8_valid("\x1b[31m", 5));
	assert_true(chat_utf8_valid("\xf0\x9f\x98\x80", 4));
	/* A sequence cut by the length is truncated even if more follows. */
	assert_false(chat_utf8_valid("\xf0\x9f\x98\x80", 3));
}

static void
test_text_controls(void **state)
{
	char s[8];
	int c;

	/* Every C0 control, at the start, middle and end. */
	for (c = 1; c < 0x20; c++) {
		s[0] = (char)c;
		s[1] = '\0';
		if (text_ok(s))
			fail_msg("C0 0x%02x accepted alone", c);
		s[0] = 'a';
		s[1] = (char)c;
		s[2] = 'b';
		s[3] = '\0';
		if (text_ok(s))
			fail_msg("C0 0x%02x accepted inside", c);
	}
	assert_false(text_ok("\t"));
	assert_false(text_ok("red \x1b[31m text"));
	assert_false(text_ok("line\r"));
	assert_false(text_ok("\x7f")); /* DEL */
	assert_false(text_ok("a\x7f"
			     "b"));
	/* Every C1 control, U+0080..U+009F, as UTF-8 (0xc2 0x80..0x9f):
	 * 0x9b is a one-byte CSI on some terminals. */
	for (c = 0x80; c <= 0x9f; c++) {
		s[0] = 'x';
		s[1] = (char)0xc2;
		s[2] = (char)c;
		s[3] = '\0';
		if (text_ok(s))
			fail_msg("C1 U+%04X accepted", c);
	}
	assert_false(text_ok("\xc2\x9b"
			     "31m"));
	/* The raw single byte 0x9b is not UTF-8 at all. */
	assert_false(text_ok("\x9b"
			     "31m"));
	/* Spaces are fine. */
	assert_true(text_ok("   "));
}

/* Bidi embeddings, overrides and isolates reorder the rest of a line
 * on screen ("Trojan Source"): refused anywhere in a message, with a
 * reason saying so; their neighbours and the plain marks stay fine. */
static void
test_text_bidi(void **state)
{
	static const unsigned long bidi[] = {0x202a, 0x202b, 0x202c, 0x202d,
	    0x202e, 0x2066, 0x2067, 0x2068, 0x2069};
	char s[16], err[FTX_ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bidi) / sizeof(bidi[0]); i++) {
		/* Three-byte UTF-8 of U+20xx, between two letters. */
		s[0] = 'a';
		s[1] = (char)0xe2;
		s[2] = (char)(0x80 | ((bidi[i] >> 6) & 0x3f));
		s[3] = (char)(0x80 | (bidi[i] & 0x3f));
		s[4] = 'b';
		s[5] = '\0';
		err[0] = '\0';
		if (chat_text_check(s, err, sizeof(err)) != -1)
			fail_msg("bidi U+%04lX accepted", bidi[i]);
		if (strstr(err, "bidi") == NULL)
			fail_msg("U+%04lX: reason \"%s\"", bidi[i], err);
		if (text_ok(s + 1))
			fail_msg("bidi U+%04lX accepted at the start", bidi[i]);
	}
	assert_false(text_ok("pay \xe2\x80\xaeRSU 4321 ot"));
	/* U+2029, U+202F, U+2065, U+206A and LRM U+200E are not refused. */
	assert_true(text_ok("\xe2\x80\xa9 \xe2\x80\xaf \xe2\x81\xa5 "
			    "\xe2\x81\xaa \xe2\x80\x8e"));
}

/* ---- chat_format_ts ---- */

/* 1 if `s` has the shape dddd-dd-ddTdd:dd:dd.dddZ. */
static int
ts_shape(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t i;

	if (strlen(s) != sizeof(shape) - 1)
		return 0;
	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9')
				    : s[i] != shape[i])
			return 0;
	}
	return 1;
}

static void
test_format_ts(void **state)
{
	char out[CHAT_TS_LEN];
	struct timespec ts;
	char small[CHAT_TS_LEN - 1];

	ts.tv_sec = 0;
	ts.tv_nsec = 0;
	assert_int_equal(chat_format_ts(out, sizeof(out), &ts), 0);
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");

	ts.tv_sec = 1795253400; /* 2026-11-21 09:30:00 UTC */
	ts.tv_nsec = 125000000;
	assert_int_equal(chat_format_ts(out, sizeof(out), &ts), 0);
	assert_string_equal(out, TS);
	assert_int_equal(strlen(out), CHAT_TS_LEN - 1);

	/* Milliseconds are truncated, never rounded up to 1000. */
	ts.tv_nsec = 999999999;
	assert_int_equal(chat_format_ts(out, sizeof(out), &ts), 0);
	assert_string_equal(out, "2026-11-21T09:30:00.999Z");
	ts.tv_nsec = 1000000 - 1;
	assert_int_equal(chat_format_ts(out, sizeof(out), &ts), 0);
	assert_string_equal(out, "2026-11-21T09:30:00.000Z");

	/* UTC regardless of the local time zone. */
	setenv("TZ", "America/New_York", 1);
	tzset();
	ts.tv_nsec = 7000000;
	assert_int_equal(chat_format_ts(out, sizeof(out), &ts), 0);
	assert_string_equal(out, "2026-11-21T09:30:00.007Z");
	unsetenv("TZ");
	tzset();

	/* The current time has the shape too. */
	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	assert_int_equal(chat_format_ts(out, sizeof(out), &ts), 0);
	assert_true(ts_shape(out));

	/* A buffer one byte short is refused, not overrun. */
	assert_int_equal(chat_format_ts(small, sizeof(small), &ts), -1);
}

/* ---- chat_parse_push ---- */

static int
parse(const char *line, struct chat_push *p)
{
	char err[FTX_ERRLEN] = "";
	int r = chat_parse_push(line, p, err, sizeof(err));

	if (r == -1 && err[0] == '\0')
		fail_msg("malformed push without a reason: %s", line);
	return r;
}

static void
test_parse_kinds(void **state)
{
	struct chat_push p;

	assert_int_equal(parse("MSG " TS " alice hello world", &p), 0);
	assert_int_equal(p.kind, CHAT_MSG);
	assert_string_equal(p.ts, TS);
	assert_string_equal(p.from, "alice");
	assert_string_equal(p.text, "hello world");

	/* Text keeps its inner and trailing spaces and stays literal. */
	assert_int_equal(parse("MSG " TS " Bob  two  spaces %41 ", &p), 0);
	assert_string_equal(p.from, "Bob");
	assert_string_equal(p.text, " two  spaces %41 ");

	assert_int_equal(
	    parse("PRIV " TS " alice bob psst \xe2\x82\xac", &p), 0);
	assert_int_equal(p.kind, CHAT_PRIV);
	assert_string_equal(p.from, "alice");
	assert_string_equal(p.to, "bob");
	assert_string_equal(p.text, "psst \xe2\x82\xac");

	assert_int_equal(parse("JOIN " TS " carol_2", &p), 0);
	assert_int_equal(p.kind, CHAT_JOIN);
	assert_string_equal(p.from, "carol_2");
	assert_string_equal(p.text, "");

	assert_int_equal(parse("LEFT " TS " dave slow", &p), 0);
	assert_int_equal(p.kind, CHAT_LEFT);
	assert_string_equal(p.from, "dave");
	assert_string_equal(p.text, "slow");

	assert_int_equal(parse("NOTICE " TS " the server stops at 10", &p), 0);
	assert_int_equal(p.kind, CHAT_NOTICE);
	assert_string_equal(p.text, "the server stops at 10");

	/* The longest legal MSG push: 32-byte nick, 1024-byte text. */
	{
		char *nick = repeat('n', FTX_NICK_MAX);
		char *text = repeat('t', FTX_CHAT_TEXT_MAX);
		char line[FTX_LINE_MAX];

		assert_int_equal(
		    str_fmt(line, sizeof(line), "MSG %s %s %s", TS, nick, text),
		    0);
		assert_int_equal(parse(line, &p), 0);
		assert_string_equal(p.from, nick);
		assert_string_equal(p.text, text);
		/* A text over the limit is refused even in a push. */
		assert_int_equal(str_fmt(line, sizeof(line), "MSG %s %s %sX",
				     TS, nick, text),
		    0);
		assert_int_equal(parse(line, &p), -1);
		free(nick);
		free(text);
	}
}

static void
test_parse_unknown(void **state)
{
	struct chat_push p;

	/* A kind this client does not know is to be ignored: 1. */
	assert_int_equal(parse("TOPIC " TS " alice new topic", &p), 1);
	assert_int_equal(parse("AWAY " TS " alice", &p), 1);
	assert_int_equal(parse("MSGX " TS " alice hi", &p), 1);
	assert_int_equal(parse("MS " TS " alice hi", &p), 1);
	/* Even if the rest would be garbage for a known kind. */
	assert_int_equal(parse("FUTURE \x1b[2J", &p), 1);
}

static void
test_parse_malformed(void **state)
{
	static const char *bad[] = {
	    /* Timestamps. */
	    "MSG alice hi",
	    "MSG 2026-11-21T09:30:00Z alice hi",
	    "MSG 2026-11-21T09:30:00.12Z alice hi",
	    "MSG 2026-11-21T09:30:00.1250Z alice hi",
	    "MSG 2026-11-21 09:30:00.125Z alice hi",
	    "MSG 2026-11-21t09:30:00.125Z alice hi",
	    "MSG 2026-11-21T09:30:00.125 alice hi",
	    "MSG 2026/11/21T09:30:00.125Z alice hi",
	    "MSG x026-11-21T09:30:00.125Z alice hi",
	    "JOIN " TS "X alice",
	    "JOIN",
	    "JOIN ",
	    "LEFT  " TS " alice quit", /* two spaces: empty timestamp */
	    /* Nicks. */
	    "MSG " TS " al!ce hi",
	    "MSG " TS " j\xc3\xb6rg hi",
	    "MSG " TS " 123456789012345678901234567890123 hi",
	    "JOIN " TS,
	    "JOIN " TS " ",
	    "JOIN " TS " a\x1b",
	    "PRIV " TS " alice b@b hi",
	    "PRIV " TS " alice",
	    "LEFT " TS " al.ice quit",
	    /* Text. */
	    "MSG " TS " alice",
	    "MSG " TS " alice ",
	    "MSG " TS " alice \x1b[31mred",
	    "MSG " TS " alice bell\x07",
	    "MSG " TS " alice del\x7f",
	    "MSG " TS " alice csi\xc2\x9b"
	    "2J",
	    "MSG " TS " alice bad\xff",
	    "MSG " TS " alice \xc0\xaf",
	    "MSG " TS " alice \xed\xa0\x80",
	    "PRIV " TS " alice bob \x80",
	    "PRIV " TS " alice bob",
	    "NOTICE " TS,
	    "NOTICE " TS " \x1b]0;pwned\x07",
	    "LEFT " TS " alice",
	    "LEFT " TS " alice bad\x01reason",
	    /* Trailing junk after a kind without text. */
	    "JOIN " TS " alice extra",
	    "JOIN " TS " alice\r\r",
	};
	struct chat_push p;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &p) != -1)
			fail_msg("malformed push #%zu accepted: %s", i, bad[i]);
}

static void
test_parse_cr(void **state)
{
	struct chat_push p;
	char *line;
	size_t len;

	assert_int_equal(parse("JOIN " TS " bob\r", &p), 0);
	assert_string_equal(p.from, "bob");
	assert_int_equal(parse("MSG " TS " bob hi there\r", &p), 0);
	assert_string_equal(p.text, "hi there");
	assert_int_equal(parse("LEFT " TS " bob quit\r", &p), 0);
	assert_string_equal(p.text, "quit");
	/* A CR anywhere but at the very end is a control character. */
	assert_int_equal(parse("MSG " TS " bob hi\rthere", &p), -1);

	/* A line longer than any push is refused, not truncated. */
	len = FTX_LINE_MAX + 100;
	line = repeat('x', len);
	memcpy(line, "MSG " TS " bob ", strlen("MSG " TS " bob "));
	assert_int_equal(parse(line, &p), -1);
	free(line);
}

/* ---- proto_split_text / proto_peek_verb ---- */

static int
split_text(
    const char *s, char *copy, size_t n, int nfixed, struct proto_cmd *cmd)
{
	char err[FTX_ERRLEN] = "";
	int r;

	assert_int_equal(str_copy(copy, n, s), 0);
	r = proto_split_text(copy, cmd, nfixed, err, sizeof(err));
	if (r == -1 && err[0] == '\0')
		fail_msg("refused without a reason: %s", s);
	return r;
}

static void
test_split_text_say(void **state)
{
	char line[256];
	struct proto_cmd c;

	assert_int_equal(
	    split_text("SAY hello world\r\n", line, sizeof(line), 0, &c), 0);
	assert_string_equal(c.verb, "SAY");
	assert_int_equal(c.argc, 1);
	assert_string_equal(c.argv[0], "hello world");

	/* Spaces after the verb separate; the rest is literal, with its
	 * inner and trailing spaces, and percent signs are not escapes
	 * (not even malformed ones or %00). */
	assert_int_equal(split_text("say    two  spaces %41 %zz %00 100%  \n",
			     line, sizeof(line), 0, &c),
	    0);
	assert_string_equal(c.verb, "SAY");
	assert_int_equal(c.argc, 1);
	assert_string_equal(c.argv[0], "two  spaces %41 %zz %00 100%  ");

	/* More words than FTX_MAX_ARGS are one text argument. */
	assert_int_equal(split_text("SAY a b c d e f g h i j k l m n o p\n",
			     line, sizeof(line), 0, &c),
	    0);
	assert_int_equal(c.argc, 1);
	assert_string_equal(c.argv[0], "a b c d e f g h i j k l m n o p");

	/* UTF-8 passes through raw. */
	assert_int_equal(
	    split_text("SAY \xe2\x82\xac\xc3\xa9\n", line, sizeof(line), 0, &c),
	    0);
	assert_string_equal(c.argv[0], "\xe2\x82\xac\xc3\xa9");

	/* No text at all: argc says so, the caller replies BADTEXT. */
	assert_int_equal(split_text("SAY\n", line, sizeof(line), 0, &c), 0);
	assert_int_equal(c.argc, 0);
	assert_int_equal(
	    split_text("SAY    \r\n", line, sizeof(line), 0, &c), 0);
	assert_int_equal(c.argc, 0);

	/* ECHO uses the same rule. */
	assert_int_equal(
	    split_text("ECHO  x%20y  \n", line, sizeof(line), 0, &c), 0);
	assert_string_equal(c.verb, "ECHO");
	assert_int_equal(c.argc, 1);
	assert_string_equal(c.argv[0], "x%20y  ");
}

static void
test_split_text_msg(void **state)
{
	char line[256];
	struct proto_cmd c;

	assert_int_equal(
	    split_text("MSG bob hi  there \n", line, sizeof(line), 1, &c), 0);
	assert_string_equal(c.verb, "MSG");
	assert_int_equal(c.argc, 2);
	assert_string_equal(c.argv[0], "bob");
	assert_string_equal(c.argv[1], "hi  there ");

	/* The nick is a token: percent-decoded, and runs of spaces around
	 * it separate.  The text is literal. */
	assert_int_equal(split_text("msg   b%6Fb   50%25 off%21\n", line,
			     sizeof(line), 1, &c),
	    0);
	assert_int_equal(c.argc, 2);
	assert_string_equal(c.argv[0], "bob");
	assert_string_equal(c.argv[1], "50%25 off%21");

	/* A malformed escape in the nick is a syntax error. */
	assert_int_equal(
	    split_text("MSG b%zz hi\n", line, sizeof(line), 1, &c), -1);
	assert_int_equal(
	    split_text("MSG b%00b hi\n", line, sizeof(line), 1, &c), -1);

	/* Missing text, missing nick. */
	assert_int_equal(split_text("MSG bob\n", line, sizeof(line), 1, &c), 0);
	assert_int_equal(c.argc, 1);
	assert_string_equal(c.argv[0], "bob");
	assert_int_equal(
	    split_text("MSG bob   \n", line, sizeof(line), 1, &c), 0);
	assert_int_equal(c.argc, 1);
	assert_int_equal(split_text("MSG\n", line, sizeof(line), 1, &c), 0);
	assert_int_equal(c.argc, 0);
}

static void
test_split_text_controls(void **state)
{
	char line[64], s[64];
	struct proto_cmd c;
	int ch;

	/* Control characters are refused in the literal text too, so no
	 * message can carry a terminal escape. */
	for (ch = 1; ch < 0x20; ch++) {
		assert_int_equal(
		    str_fmt(s, sizeof(s), "SAY red%c[31m text\n", ch), 0);
		if (split_text(s, line, sizeof(line), 0, &c) != -1)
			fail_msg("SAY with 0x%02x accepted", ch);
		assert_int_equal(
		    str_fmt(s, sizeof(s), "MSG bob x%cy\n", ch), 0);
		if (split_text(s, line, sizeof(line), 1, &c) != -1)
			fail_msg("MSG with 0x%02x accepted", ch);
	}
	assert_int_equal(
	    split_text("SAY del\x7f\n", line, sizeof(line), 0, &c), -1);
	assert_int_equal(
	    split_text("SAY a\rb\n", line, sizeof(line), 0, &c), -1);
	/* The final CR LF is the line ending, not text. */
	assert_int_equal(
	    split_text("SAY ab \r\n", line, sizeof(line), 0, &c), 0);
	assert_string_equal(c.argv[0], "ab ");
}

static void
test_peek_verb(void **state)
{
	char verb[16];

	assert_int_equal(proto_peek_verb("say hello", verb, sizeof(verb)), 0);
	assert_string_equal(verb, "SAY");
	assert_int_equal(
	    proto_peek_verb("   Msg bob hi", verb, sizeof(verb)), 0);
	assert_string_equal(verb, "MSG");
	assert_int_equal(proto_peek_verb("NOOP\r\n", verb, sizeof(verb)), 0);
	assert_string_equal(verb, "NOOP");
	assert_int_equal(proto_peek_verb("echo\n", verb, sizeof(verb)), 0);
	assert_string_equal(verb, "ECHO");
	/* Undecoded: the peek only picks the splitting rule. */
	assert_int_equal(proto_peek_verb("S%41Y x", verb, sizeof(verb)), 0);
	assert_string_equal(verb, "S%41Y");
	/* Empty line: an empty verb. */
	assert_int_equal(proto_peek_verb("", verb, sizeof(verb)), 0);
	assert_string_equal(verb, "");
	/* 15 bytes fit a 16-byte buffer, 16 do not. */
	assert_int_equal(
	    proto_peek_verb("ABCDEFGHIJKLMNO x", verb, sizeof(verb)), 0);
	assert_string_equal(verb, "ABCDEFGHIJKLMNO");
	assert_int_equal(
	    proto_peek_verb("ABCDEFGHIJKLMNOP x", verb, sizeof(verb)), -1);
	assert_int_equal(proto_peek_verb("SAY", verb, 3), -1);
	assert_int_equal(proto_peek_verb("SAY", verb, 4), 0);
	assert_string_equal(verb, "SAY");
	assert_int_equal(proto_peek_verb("x", verb, 0), -1);
}

/* ---- uecho_valid ---- */

static int
uvalid(const char *s, size_t n)
{
	return uecho_valid((const unsigned char *)s, n);
}

static void
test_uecho_valid(void **state)
{
	static const char good[] = "FTXE 0123456789abcdef payload";
	unsigned char *big;
	size_t hdr = 5 + FTX_UDP_ID_HEX + 1;

	assert_true(uvalid(good, strlen(good)));
	/* The payload may be empty, and may be any bytes. */
	assert_true(uvalid("FTXE 0123456789abcdef ", hdr));
	assert_true(uvalid("FTXE ffffffffffffffff \0\xff\n", hdr + 3));
	assert_true(uvalid("FTXE 0000000000000000 x", hdr + 1));

	/* Too short: no space after the id, or a shorter id. */
	assert_false(uvalid("", 0));
	assert_false(uvalid("FTXE", 4));
	assert_false(uvalid("FTXE 0123456789abcdef", hdr - 1));
	assert_false(uvalid("FTXE 0123456789abcde x", hdr));
	assert_false(uvalid(good, hdr - 1));

	/* Wrong magic. */
	assert_false(uvalid("FTXF 0123456789abcdef x", hdr + 1));
	assert_false(uvalid("ftxe 0123456789abcdef x", hdr + 1));
	assert_false(uvalid("FTXE_0123456789abcdef x", hdr + 1));
	assert_false(uvalid(" FTXE 0123456789abcdef", hdr));

	/* Only lowercase hex digits in the id. */
	assert_false(uvalid("FTXE 0123456789ABCDEF x", hdr + 1));
	assert_false(uvalid("FTXE 0123456789abcdeF x", hdr + 1));
	assert_false(uvalid("FTXE 0123456789abcdeg x", hdr + 1));
	assert_false(uvalid("FTXE 01234567 9abcdef x", hdr + 1));
	assert_false(uvalid("FTXE 0123456789abcde\0 x", hdr + 1));

	/* The space after the id is required. */
	assert_false(uvalid("FTXE 0123456789abcdefXpayload", hdr + 7));
	assert_false(uvalid("FTXE 0123456789abcdef0 payload", hdr + 8));

	/* FTX_UDP_MAX bytes in all are fine, one more is not. */
	big = malloc(FTX_UDP_MAX + 2);
	assert_non_null(big);
	memset(big, 'p', FTX_UDP_MAX + 2);
	memcpy(big, "FTXE 0123456789abcdef ", hdr);
	assert_true(uecho_valid(big, FTX_UDP_MAX));
	assert_false(uecho_valid(big, FTX_UDP_MAX + 1));
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nick_lengths),
	    cmocka_unit_test(test_nick_alphabet),
	    cmocka_unit_test(test_nick_nul),
	    cmocka_unit_test(test_nick_eq),
	    cmocka_unit_test(test_text_lengths),
	    cmocka_unit_test(test_text_utf8_valid),
	    cmocka_unit_test(test_text_utf8_invalid),
	    cmocka_unit_test(test_text_controls),
	    cmocka_unit_test(test_text_bidi),
	    cmocka_unit_test(test_format_ts),
	    cmocka_unit_test(test_parse_kinds),
	    cmocka_unit_test(test_parse_unknown),
	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_parse_cr),
	    cmocka_unit_test(test_split_text_say),
	    cmocka_unit_test(test_split_text_msg),
	    cmocka_unit_test(test_split_text_controls),
	    cmocka_unit_test(test_peek_verb),
	    cmocka_unit_test(test_uecho_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

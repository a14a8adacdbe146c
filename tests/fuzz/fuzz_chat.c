/*
 * fuzz_chat.c - libFuzzer target for the chat grammar (shared/chat.c).
 * See tests/fuzz/README.md.
 *
 * The input is checked as a whole by the UTF-8 validator and then cut at
 * LF into lines, each of which is tried as a nickname, as message text
 * and as a push line from the server (the client prints pushes, so this
 * is the parser a hostile server attacks).  Every answer is compared with
 * an independent reference written from docs/PROTOCOL.md and Unicode's
 * table of well-formed UTF-8 byte sequences, and every accepted push is
 * rebuilt and must give back the line it came from.  Any disagreement
 * aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat.h"
#include "ftx_limits.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			violated(#cond, __LINE__);                             \
	} while (0)

static void
violated(const char *what, int line)
{
	fprintf(stderr, "fuzz_chat.c:%d: invariant violated: %s\n", line, what);
	abort();
}

/* ---- reference implementations ---- */

/*
 * Length of the well-formed UTF-8 sequence at s[0..n), or 0: the Unicode
 * Standard's table 3-7, byte ranges spelled out (so no overlong form,
 * surrogate or code point above U+10FFFF can pass).  Its code point goes
 * to *cp.
 */
static size_t
ref_utf8(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned char b0 = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (b0 <= 0x7f) {
		*cp = b0;
		return 1;
	}
	if (b0 >= 0xc2 && b0 <= 0xdf) {
		len = 2;
	} else if (b0 >= 0xe0 && b0 <= 0xef) {
		len = 3;
		if (b0 == 0xe0)
			lo = 0xa0;
		if (b0 == 0xed)
			hi = 0x9f;
	} else if (b0 >= 0xf0 && b0 <= 0xf4) {
		len = 4;
		if (b0 == 0xf0)
			lo = 0x90;
		if (b0 == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	/* Only the second byte has a restricted range. */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	*cp = b0 & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
	for (i = 1; i < len; i++)
		*cp = *cp << 6 | (s[i] & 0x3f);
	return len;
}

static int
ref_utf8_valid(const unsigned char *s, size_t n)
{
	unsigned long cp;
	size_t k;

	while (n > 0) {
		if ((k = ref_utf8(s, n, &cp)) == 0)
			return 0;
		s += k;
		n -= k;
	}
	return 1;
}

static int
ref_text_ok(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), k;
	unsigned long cp;

	if (n < 1 || n > FTX_CHAT_TEXT_MAX)
		return 0;
	while (n > 0) {
		if ((k = ref_utf8(s, n, &cp)) == 0)
			return 0;
		/* C0, DEL and C1 drive terminals; bidi controls reorder. */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return 0;
		if ((cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return 0;
		s += k;
		n -= k;
	}
	return 1;
}

static int
ref_nick_ok(const char *nick)
{
	size_t n = strlen(nick), i;

	if (n < 1 || n > FTX_NICK_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
			nick[i]) == NULL)
			return 0;
	return 1;
}

static int
ref_nick_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
		char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;

		if (x != y)
			return 0;
		if (x == '\0')
			return 1;
	}
}

/* "2026-11-21T09:30:00.125Z": digits where the shape has 'd'. */
static int
ref_ts_ok(const char *ts, size_t n)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t i;

	if (n != sizeof(shape) - 1)
		return 0;
	for (i = 0; i < n; i++)
		if (shape[i] == 'd' ? !(ts[i] >= '0' && ts[i] <= '9')
				    : ts[i] != shape[i])
			return 0;
	return 1;
}

static const struct {
	const char *word;
	enum chat_kind kind;
	int nicks, text;
} ref_kinds[] = {
    {"MSG", CHAT_MSG, 1, 1},
    {"PRIV", CHAT_PRIV, 2, 1},
    {"JOIN", CHAT_JOIN, 1, 0},
    {"LEFT", CHAT_LEFT, 1, 1},
    {"NOTICE", CHAT_NOTICE, 0, 1},
};
#define NKINDS (sizeof(ref_kinds) / sizeof(ref_kinds[0]))

/* ---- checks ---- */

static void
check_nick(const char *s, const char *other)
{
	char err[FTX_ERRLEN];
	int rc;

	err[0] = '\0';
	rc = chat_nick_check(s, err, sizeof(err));
	CHECK(rc == 0 || rc == -1);
	CHECK((rc == 0) == ref_nick_ok(s));
	if (rc == -1)
		CHECK(err[0] != '\0');
	/* SECURITY: a nick that passes is a single printable token. */
	if (rc == 0)
		CHECK(strpbrk(s, " %\r\n\t\x1b") == NULL);
	CHECK(chat_nick_eq(s, s) == 1);
	CHECK(chat_nick_eq(s, other) == chat_nick_eq(other, s));
	CHECK(chat_nick_eq(s, other) == ref_nick_eq(s, other));
}

static void
check_text(const char *s)
{
	char err[FTX_ERRLEN];
	size_t i;
	int rc;

	err[0] = '\0';
	rc = chat_text_check(s, err, sizeof(err));
	CHECK(rc == 0 || rc == -1);
	CHECK((rc == 0) == ref_text_ok(s));
	if (rc == -1) {
		CHECK(err[0] != '\0');
		return;
	}
	/* SECURITY: no byte a terminal treats as a control reaches it
	 * raw (ESC, CR, LF, BEL, DEL, ...). */
	for (i = 0; s[i] != '\0'; i++)
		CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
	CHECK(chat_utf8_valid(s, strlen(s)) == 1);
}

/* Append s to out[*len] (out has room for FTX_LINE_MAX * 2). */
static void
append(char *out, size_t *len, const char *s)
{
	size_t n = strlen(s);

	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
}

/*
 * chat_parse_push against the grammar: fields separated by single
 * spaces, "<KIND> <ts> [<nick> [<nick>]] [<text>]", a trailing CR
 * ignored.  On success the push is rebuilt and must equal the line.
 */
static void
check_push(const char *line)
{
	static struct chat_push p; /* ~4 KiB: keep it off the stack */
	static char rebuilt[FTX_LINE_MAX * 2];
	char err[FTX_ERRLEN];
	size_t len = strlen(line), wl, rl = 0, k;
	int rc, known = -1;

	err[0] = '\0';
	rc = chat_parse_push(line, &p, err, sizeof(err));
	CHECK(rc == 0 || rc == 1 || rc == -1);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	wl = strcspn(line, " ");
	if (wl > len)
		wl = len;
	for (k = 0; k < NKINDS; k++)
		if (wl == strlen(ref_kinds[k].word) &&
		    memcmp(line, ref_kinds[k].word, wl) == 0)
			known = (int)k;
	if (len >= FTX_LINE_MAX) {
		/* Too long for any push: refused before anything else. */
		CHECK(rc == -1);
		return;
	}
	/* An unknown kind (a newer server's) is to be ignored, never an
	 * error that drops the connection, and never parsed. */
	CHECK((rc == 1) == (known == -1));
	if (rc == -1)
		CHECK(err[0] != '\0');
	if (rc != 0)
		return;

	CHECK(p.kind == ref_kinds[known].kind);
	CHECK(ref_ts_ok(p.ts, strlen(p.ts)));
	append(rebuilt, &rl, ref_kinds[known].word);
	append(rebuilt, &rl, " ");
	append(rebuilt, &rl, p.ts);
	if (ref_kinds[known].nicks >= 1) {
		CHECK(ref_nick_ok(p.from));
		append(rebuilt, &rl, " ");
		append(rebuilt, &rl, p.from);
	} else {
		CHECK(p.from[0] == '\0');
	}
	if (ref_kinds[known].nicks >= 2) {
		CHECK(ref_nick_ok(p.to));
		append(rebuilt, &rl, " ");
		append(rebuilt, &rl, p.to);
	} else {
		CHECK(p.to[0] == '\0');
	}
	if (ref_kinds[known].text) {
		/* SECURITY: the text the client will print is clean. */
		CHECK(ref_text_ok(p.text));
		append(rebuilt, &rl, " ");
		append(rebuilt, &rl, p.text);
	} else {
		CHECK(p.text[0] == '\0');
	}
	/* The parse lost and invented nothing.  Kinds without text
	 * tolerate one trailing space ("JOIN <ts> <nick> "). */
	if (!ref_kinds[known].text && len == rl + 1 && line[rl] == ' ')
		len = rl;
	CHECK(rl == len);
	CHECK(memcmp(rebuilt, line, len) == 0);
}

/* The decimal value of the n digits at s. */
static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* chat_format_ts for a time taken from the input: the exact shape, the
 * same instant back, and a push that carries it parses. */
static void
check_ts(const uint8_t *data, size_t size)
{
	/* 9999-12-31T23:59:59Z, the last second with 4 year digits. */
	const uint64_t last = 253402300799ULL;
	uint64_t a = 0, b = 0;
	struct timespec ts;
	struct tm tm;
	char out[CHAT_TS_LEN], small[CHAT_TS_LEN - 1], line[64];
	size_t i;

	for (i = 0; i < size && i < 8; i++)
		a = a << 8 | data[i];
	for (i = 8; i < size && i < 16; i++)
		b = b << 8 | data[i];
	ts.tv_sec = (time_t)(a % (last + 1));
	ts.tv_nsec = (long)(b % 1000000000ULL);
	CHECK(chat_format_ts(out, sizeof(out), &ts) == 0);
	CHECK(ref_ts_ok(out, strlen(out)));
	CHECK(chat_format_ts(small, sizeof(small), &ts) == -1);
	/* Read the fields back (their shape is checked above). */
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = digits(out, 4) - 1900;
	tm.tm_mon = digits(out + 5, 2) - 1;
	tm.tm_mday = digits(out + 8, 2);
	tm.tm_hour = digits(out + 11, 2);
	tm.tm_min = digits(out + 14, 2);
	tm.tm_sec = digits(out + 17, 2);
	CHECK(timegm(&tm) == ts.tv_sec);
	CHECK(digits(out + 20, 3) == ts.tv_nsec / 1000000L);
	CHECK(str_fmt(line, sizeof(line), "JOIN %s someone", out) == 0);
	{
		static struct chat_push p;

		CHECK(chat_parse_push(line, &p, NULL, 0) == 0);
		CHECK(strcmp(p.ts, out) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const char *prev = "";
	char *lines, *s, *nl;

	/* The validator on raw bytes (NUL included: it is U+0000). */
	CHECK(chat_utf8_valid(buf, size) == ref_utf8_valid(data, size));
	check_ts(data, size);

	lines = malloc(size + 1);
	if (lines == NULL)
		abort();
	memcpy(lines, data, size);
	lines[size] = '\0';
	/* Each line ends at its LF; an embedded NUL ends it early, as a
	 * C string. */
	for (s = lines; s < lines + size; s = nl + 1) {
		nl = memchr(s, '\n', (size_t)(lines + size - s));
		if (nl == NULL)
			nl = lines + size;
		*nl = '\0';
		check_nick(s, prev);
		check_text(s);
		check_push(s);
		prev = s;
	}
	free(lines);
	return 0;
}

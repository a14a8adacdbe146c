/*
 * chat.c - the chat grammar.  See chat.h and docs/PROTOCOL.md.
 */
#include "chat.h"

#include <string.h>
#include <strings.h>

#include "str.h"

int
chat_nick_check(const char *nick, char *err, size_t errlen)
{
	size_t i, len;

	if (nick == NULL || nick[0] == '\0')
		return str_err(err, errlen, "nickname is empty");
	len = strlen(nick);
	if (len > FTX_NICK_MAX)
		return str_err(
		    err, errlen, "nickname longer than %d bytes", FTX_NICK_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)nick[i];

		/* SECURITY: a closed alphabet keeps nicks printable, free of
		 * spaces (they are tokens) and unable to impersonate by
		 * look-alike Unicode. */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '_'))
			return str_err(err, errlen,
			    "nickname may contain only letters, digits, "
			    "'-' and '_'");
	}
	return 0;
}

int
chat_nick_eq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* Decode one UTF-8 sequence at s[0..n); its length, or 0 if malformed.
 * The code point goes to *cp. */
static size_t
utf8_next(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len, i;
	unsigned long c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0; /* a continuation byte or 0xf8..0xff */
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and values past Unicode. */
	if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

int
chat_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t k;

	while (n > 0) {
		if ((k = utf8_next(p, n, &cp)) == 0)
			return 0;
		p += k;
		n -= k;
	}
	return 1;
}

int
chat_text_check(const char *text, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n, k;
	unsigned long cp;

	if (text == NULL || text[0] == '\0')
		return str_err(err, errlen, "message is empty");
	n = strlen(text);
	if (n > FTX_CHAT_TEXT_MAX)
		return str_err(err, errlen, "message longer than %d bytes",
		    FTX_CHAT_TEXT_MAX);
	while (n > 0) {
		if ((k = utf8_next(p, n, &cp)) == 0)
			return str_err(
			    err, errlen, "message is not valid UTF-8");
		/* SECURITY: C0 and C1 controls and DEL would let a message
		 * drive the terminal of everyone who reads it. */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return str_err(err, errlen,
			    "message contains a control character");
		p += k;
		n -= k;
	}
	return 0;
}

int
chat_format_ts(char *out, size_t n, const struct timespec *ts)
{
	struct tm tm;
	char day[32];

	if (gmtime_r(&ts->tv_sec, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return -1;
	return str_fmt(out, n, "%s.%03ldZ", day, ts->tv_nsec / 1000000L);
}

/* Copy the next space-terminated token of *p into out[n]; advance *p
 * past it and one space.  -1 if missing or too long. */
static int
next_token(const char **p, char *out, size_t n)
{
	const char *s = *p, *e = strchr(s, ' ');
	size_t len = e != NULL ? (size_t)(e - s) : strlen(s);

	if (len == 0 || len >= n)
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	*p = e != NULL ? e + 1 : s + len;
	return 0;
}

/* 1 if ts has the exact shape chat_format_ts produces. */
static int
ts_valid(const char *ts)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t i;

	if (strlen(ts) != sizeof(shape) - 1)
		return 0;
	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? (ts[i] < '0' || ts[i] > '9')
				    : ts[i] != shape[i])
			return 0;
	}
	return 1;
}

static const struct {
	const char *word;
	enum chat_kind kind;
	int nicks; /* nick fields after the timestamp */
	int text; /* a text field follows */
} push_kinds[] = {
    {"MSG", CHAT_MSG, 1, 1},
    {"PRIV", CHAT_PRIV, 2, 1},
    {"JOIN", CHAT_JOIN, 1, 0},
    {"LEFT", CHAT_LEFT, 1, 1},
    {"NOTICE", CHAT_NOTICE, 0, 1},
};

int
chat_parse_push(const char *line, struct chat_push *p, char *err, size_t errlen)
{
	char word[16], copy[FTX_LINE_MAX], why[FTX_ERRLEN];
	const char *s = copy;
	size_t i, len = strlen(line);
	int k = -1;

	memset(p, 0, sizeof(*p));
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len >= sizeof(copy))
		return str_err(err, errlen, "push line too long");
	memcpy(copy, line, len);
	copy[len] = '\0';
	if (next_token(&s, word, sizeof(word)) == -1)
		return 1;
	for (i = 0; i < sizeof(push_kinds) / sizeof(push_kinds[0]); i++)
		if (strcmp(word, push_kinds[i].word) == 0)
			k = (int)i;
	if (k == -1)
		return 1; /* a later server's push: ignore it */
	p->kind = push_kinds[k].kind;
	if (next_token(&s, p->ts, sizeof(p->ts)) == -1 || !ts_valid(p->ts))
		return str_err(err, errlen, "bad timestamp in %s push", word);
	if (push_kinds[k].nicks >= 1 &&
	    (next_token(&s, p->from, sizeof(p->from)) == -1 ||
		chat_nick_check(p->from, why, sizeof(why)) == -1))
		return str_err(err, errlen, "bad nickname in %s push", word);
	if (push_kinds[k].nicks >= 2 &&
	    (next_token(&s, p->to, sizeof(p->to)) == -1 ||
		chat_nick_check(p->to, why, sizeof(why)) == -1))
		return str_err(err, errlen, "bad nickname in %s push", word);
	if (push_kinds[k].text) {
		if (str_copy(p->text, sizeof(p->text), s) == -1 ||
		    chat_text_check(p->text, why, sizeof(why)) == -1)
			return str_err(
			    err, errlen, "bad text in %s push: %s", word, why);
	} else if (*s != '\0') {
		return str_err(err, errlen, "trailing junk in %s push", word);
	}
	return 0;
}

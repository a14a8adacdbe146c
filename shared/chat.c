/*
 * chat.c - the chat grammar.  See chat.h and docs/PROTOCOL.md.
 */
#include "chat.h"

#include <string.h>
#include <strings.h>

#include "str.h"
#include "utf8.h"

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

int
chat_utf8_valid(const char *s, size_t n)
{
	return utf8_valid(s, n);
}

int
chat_text_check(const char *text, char *err, size_t errlen)
{
	size_t n;

	if (text == NULL || text[0] == '\0')
		return str_err(err, errlen, "message is empty");
	n = strlen(text);
	if (n > FTX_CHAT_TEXT_MAX)
		return str_err(err, errlen, "message longer than %d bytes",
		    FTX_CHAT_TEXT_MAX);
	/* SECURITY: C0 and C1 controls and DEL would let a message drive
	 * the terminal of everyone who reads it; bidi controls would make
	 * it display as something it is not. */
	return utf8_check_text(text, n, "message", err, errlen);
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

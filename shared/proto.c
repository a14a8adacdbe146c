/*
 * proto.c - the FTX/1 control-line grammar.  See docs/PROTOCOL.md.
 */
#include "proto.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "utf8.h"

ssize_t
proto_find_line(const char *buf, size_t len)
{
	size_t scan = len < FTX_LINE_MAX ? len : FTX_LINE_MAX;
	const char *lf;

	/* SECURITY: only the first FTX_LINE_MAX bytes may hold the LF; a
	 * peer cannot make a line longer by withholding it. */
	lf = memchr(buf, '\n', scan);
	if (lf != NULL)
		return (ssize_t)(lf - buf) + 1;
	if (len >= FTX_LINE_MAX)
		return -1;
	return 0;
}

/* Decode %XX escapes of the NUL-terminated token `s` in place. */
static int
decode_token(char *s, char *err, size_t errlen)
{
	char *r = s, *w = s;

	while (*r != '\0') {
		if (*r == '%') {
			unsigned char c;

			/* str_unhex stops at the first non-hex digit, so a
			 * truncated escape never reads past the NUL. */
			if (str_unhex(&c, 1, r + 1) == -1)
				return str_err(
				    err, errlen, "malformed %%-escape");
			/* SECURITY: %00 would truncate the token silently
			 * and let a name hide a suffix. */
			if (c == 0)
				return str_err(
				    err, errlen, "%%00 is not allowed");
			*w++ = (char)c;
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return 0;
}

/* Split `line`; with text_at > 0, token number `text_at` (the verb is
 * token 0) is the literal rest of the line (see proto_split_text). */
static int
split(char *line, struct proto_cmd *cmd, int text_at, char *err, size_t errlen)
{
	char *tok[FTX_MAX_ARGS + 1];
	size_t len, i;
	int ntok = 0, ndecode;
	char *p;

	memset(cmd, 0, sizeof(*cmd));
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	/* SECURITY: no raw control characters anywhere in the line; they
	 * would end up in names and in log lines. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f)
			return str_err(
			    err, errlen, "control character 0x%02x in line", c);
	}
	p = line;
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (ntok == FTX_MAX_ARGS + 1)
			return str_err(err, errlen,
			    "too many arguments (at most %d)", FTX_MAX_ARGS);
		tok[ntok++] = p;
		if (text_at > 0 && ntok == text_at + 1)
			break; /* the literal rest of the line */
		while (*p != ' ' && *p != '\0')
			p++;
		if (*p == ' ')
			*p++ = '\0';
	}
	if (ntok == 0)
		return str_err(err, errlen, "empty line");
	ndecode = text_at > 0 && ntok == text_at + 1 ? ntok - 1 : ntok;
	for (i = 0; i < (size_t)ndecode; i++)
		if (decode_token(tok[i], err, errlen) == -1)
			return -1;
	len = strlen(tok[0]);
	if (len >= sizeof(cmd->verb))
		return str_err(err, errlen, "command too long");
	for (i = 0; i < len; i++)
		cmd->verb[i] = (char)toupper((unsigned char)tok[0][i]);
	cmd->verb[len] = '\0';
	cmd->argc = ntok - 1;
	for (i = 1; i < (size_t)ntok; i++)
		cmd->argv[i - 1] = tok[i];
	return 0;
}

int
proto_split(char *line, struct proto_cmd *cmd, char *err, size_t errlen)
{
	return split(line, cmd, 0, err, errlen);
}

int
proto_split_text(
    char *line, struct proto_cmd *cmd, int nfixed, char *err, size_t errlen)
{
	if (nfixed < 0 || nfixed >= FTX_MAX_ARGS)
		abort(); /* a caller's table is wrong */
	return split(line, cmd, nfixed + 1, err, errlen);
}

int
proto_peek_verb(const char *line, char *verb, size_t n)
{
	size_t i = 0;

	while (*line == ' ')
		line++;
	for (; line[i] != ' ' && line[i] != '\0' && line[i] != '\r' &&
	     line[i] != '\n';
	     i++) {
		if (i + 1 >= n)
			return -1;
		verb[i] = (char)toupper((unsigned char)line[i]);
	}
	if (n == 0)
		return -1;
	verb[i] = '\0';
	return 0;
}

int
proto_name_check(const char *name, char *err, size_t errlen)
{
	size_t len, i;

	if (name == NULL || name[0] == '\0')
		return str_err(err, errlen, "name is empty");
	len = strlen(name);
	if (len > FTX_NAME_MAX)
		return str_err(
		    err, errlen, "name longer than %d bytes", FTX_NAME_MAX);
	/* SECURITY: "." and ".." would escape or alias the root, and
	 * other dot names are reserved for our temporaries and metadata. */
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return str_err(err, errlen, "name is '.' or '..'");
	if (name[0] == '.')
		return str_err(err, errlen, "name starts with '.'");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		/* SECURITY: a separator would leave the flat namespace. */
		if (c == '/')
			return str_err(err, errlen, "name contains '/'");
		if (c == '\\')
			return str_err(err, errlen, "name contains '\\'");
		if (c < 0x20 || c == 0x7f)
			return str_err(
			    err, errlen, "name contains a control character");
	}
	/* SECURITY: names are shown by clients and written to logs: only
	 * well-formed UTF-8 without C1 controls (U+0080..U+009F; U+009B is
	 * CSI to many terminals) or bidi controls, which would make a name
	 * display as another. */
	return utf8_check_text(name, len, "name", err, errlen);
}

void
proto_encode_name(char *out, const char *name)
{
	if (proto_encode(out, PROTO_ENC_NAME_MAX, name) == -1)
		abort(); /* paths are bounded, so this cannot happen */
}

int
proto_encode(char *out, size_t n, const char *in)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;

		if (c == '%' || c < 0x21 || c == 0x7f) {
			if (n < 4 || o > n - 4)
				goto fail;
			out[o++] = '%';
			out[o++] = digits[c >> 4];
			out[o++] = digits[c & 0x0f];
		} else {
			if (n < 2 || o > n - 2)
				goto fail;
			out[o++] = (char)c;
		}
	}
	if (n == 0)
		return -1;
	out[o] = '\0';
	return 0;
fail:
	/* Never leave a half-encoded, unterminated name behind. */
	if (n > 0)
		out[0] = '\0';
	return -1;
}

int
proto_param_u64(const char *arg, const char *key, uint64_t max, uint64_t *out)
{
	size_t klen = strlen(key);

	if (strncmp(arg, key, klen) != 0 || arg[klen] != '=')
		return 0;
	if (str_to_u64(arg + klen + 1, max, out) == -1)
		return -1;
	return 1;
}

/* 1 if `line` starts with the token `word` (followed by space or end). */
static int
first_token_is(const char *line, const char *word)
{
	size_t n = strlen(word);

	return strncmp(line, word, n) == 0 &&
	    (line[n] == ' ' || line[n] == '\0' || line[n] == '\r' ||
		line[n] == '\n');
}

enum proto_kind
proto_kind(const char *line)
{
	if (first_token_is(line, "OK"))
		return PROTO_OK;
	if (first_token_is(line, "DONE"))
		return PROTO_DONE;
	if (first_token_is(line, "ERROR"))
		return PROTO_ERROR;
	if (first_token_is(line, "FILE") || first_token_is(line, "HELP") ||
	    first_token_is(line, "NICK") || first_token_is(line, "ENTRY"))
		return PROTO_DATA;
	return PROTO_PUSH;
}

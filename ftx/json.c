/*
 * json.c - JSON strings and one-line objects for --json output.
 */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

/* Room for the escaped form of one byte ("\u001f"). */
#define JSON_ESC_MAX 6

/* The escaped form of one byte into o[JSON_ESC_MAX + 1]; its length. */
static size_t
esc_byte(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	const char *two = NULL;

	switch (c) {
	case '"':
		two = "\\\"";
		break;
	case '\\':
		two = "\\\\";
		break;
	case '\n':
		two = "\\n";
		break;
	case '\t':
		two = "\\t";
		break;
	case '\r':
		two = "\\r";
		break;
	default:
		break;
	}
	if (two != NULL) {
		o[0] = two[0];
		o[1] = two[1];
		return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		o[0] = '\\';
		o[1] = 'u';
		o[2] = '0';
		o[3] = '0';
		o[4] = hex[c >> 4];
		o[5] = hex[c & 0xf];
		return 6;
	}
	o[0] = (char)c;
	return 1;
}

int
json_str(struct buf *out, const char *s)
{
	size_t start = out->len, n = strlen(s), k;
	unsigned long cp;
	char e[JSON_ESC_MAX + 1];

	if (buf_append(out, "\"", 1) == -1)
		return -1;
	while (n > 0) {
		if ((unsigned char)*s < 0x80) {
			k = esc_byte(e, (unsigned char)*s);
			if (buf_append(out, e, k) == -1)
				goto fail;
			s++, n--;
			continue;
		}
		/* JSON is UTF-8: a byte that is not (a local name may be
		 * anything) becomes U+FFFD rather than a broken document. */
		if ((k = utf8_next(s, n, &cp)) == 0) {
			if (buf_append(out, "\\ufffd", 6) == -1)
				goto fail;
			s++, n--;
			continue;
		}
		if (buf_append(out, s, k) == -1)
			goto fail;
		s += k, n -= k;
	}
	if (buf_append(out, "\"", 1) == -1)
		goto fail;
	return 0;
fail:
	/* Nothing appended: the caller's object stays well-formed. */
	out->len = start;
	return -1;
}

/* The separator and the key; the length before them, for a rollback. */
static int
key(struct buf *out, const char *k, size_t *start)
{
	const char *h = buf_head(out);

	*start = out->len;
	if (out->len > 0 && h[out->len - 1] != '{' &&
	    buf_append(out, ",", 1) == -1)
		return -1;
	if (json_str(out, k) == -1 || buf_append(out, ":", 1) == -1) {
		out->len = *start;
		return -1;
	}
	return 0;
}

int
json_kv_str(struct buf *out, const char *k, const char *s)
{
	size_t start;

	if (key(out, k, &start) == -1)
		return -1;
	if (json_str(out, s) == -1) {
		out->len = start;
		return -1;
	}
	return 0;
}

int
json_kv_raw(struct buf *out, const char *k, const char *fmt, ...)
{
	va_list ap;
	size_t start;
	int r;

	if (key(out, k, &start) == -1)
		return -1;
	va_start(ap, fmt);
	r = buf_vprintf(out, fmt, ap);
	va_end(ap);
	if (r == -1)
		out->len = start;
	return r;
}

int
json_print(const struct buf *out)
{
	if (fwrite(buf_head(out), 1, out->len, stdout) != out->len ||
	    fputc('\n', stdout) == EOF || fflush(stdout) == EOF)
		return -1;
	return 0;
}

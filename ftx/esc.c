/*
 * esc.c - make text that came from the network safe to print.
 */
#include "esc.h"

#include <string.h>

#include "str.h"

/*
 * The length of the valid UTF-8 sequence at s (1 to 4) and its code
 * point; 0 if s does not start one (a stray continuation byte, an
 * overlong form, a surrogate, beyond U+10FFFF, or cut short).  s is
 * NUL-terminated, and NUL is never a continuation byte, so this never
 * reads past the end.
 */
static size_t
utf8_seq(const unsigned char *s, unsigned long *cp)
{
	unsigned long c, min;
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* 1 for a character that is invisible or acts on the terminal: C1
 * controls, bidi controls, line and paragraph separators (esc.h). */
static int
hidden(unsigned long cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
	    cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

int
esc_str(char *out, size_t n, const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	char unit[8];
	unsigned long cp;
	size_t o = 0, len, ulen;

	if (n == 0)
		return -1;
	while (*s != '\0') {
		len = utf8_seq(s, &cp);
		if (len == 0 || cp < 0x20 || cp == 0x7f) {
			/* A control byte, or a byte that is not UTF-8. */
			(void)str_fmt(unit, sizeof(unit), "\\x%02x", s[0]);
			len = 1;
		} else if (hidden(cp)) {
			(void)str_fmt(unit, sizeof(unit), "\\u%04lx", cp);
		} else {
			memcpy(unit, s, len);
			unit[len] = '\0';
		}
		ulen = strlen(unit);
		if (ulen >= n - o) {
			out[o] = '\0';
			return -1;
		}
		memcpy(out + o, unit, ulen);
		o += ulen;
		s += len;
	}
	out[o] = '\0';
	return 0;
}

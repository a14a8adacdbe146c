/*
 * utf8.c - UTF-8 decoding and the unsafe code points.  See utf8.h.
 */
#include "utf8.h"

#include "str.h"

size_t
utf8_next(const char *str, size_t n, unsigned long *cp)
{
	const unsigned char *s = (const unsigned char *)str;
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
utf8_valid(const char *s, size_t n)
{
	unsigned long cp;
	size_t k;

	while (n > 0) {
		if ((k = utf8_next(s, n, &cp)) == 0)
			return 0;
		s += k;
		n -= k;
	}
	return 1;
}

int
utf8_is_control(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

int
utf8_is_bidi(unsigned long cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

int
utf8_is_hidden(unsigned long cp)
{
	return utf8_is_control(cp) || utf8_is_bidi(cp) || cp == 0x061c ||
	    cp == 0x200e || cp == 0x200f || cp == 0x2028 || cp == 0x2029;
}

int
utf8_check_text(
    const char *s, size_t n, const char *what, char *err, size_t errlen)
{
	unsigned long cp;
	size_t k;

	while (n > 0) {
		if ((k = utf8_next(s, n, &cp)) == 0)
			return str_err(
			    err, errlen, "%s is not valid UTF-8", what);
		/* SECURITY: C0 and C1 controls and DEL would let the text
		 * drive the terminal of whoever reads it (U+009B is CSI);
		 * bidi controls would make it display as something else. */
		if (utf8_is_control(cp))
			return str_err(err, errlen,
			    "%s contains a control character", what);
		if (utf8_is_bidi(cp))
			return str_err(err, errlen,
			    "%s contains a bidirectional control character",
			    what);
		s += k;
		n -= k;
	}
	return 0;
}

/*
 * esc.c - make text that came from the network safe to print.
 */
#include "esc.h"

#include <string.h>

#include "str.h"
#include "utf8.h"

int
esc_str(char *out, size_t n, const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, left = strlen(in), len, ulen;
	char unit[8];
	unsigned long cp;

	if (n == 0)
		return -1;
	while (left > 0) {
		len = utf8_next((const char *)s, left, &cp);
		if (len == 0 || cp < 0x20 || cp == 0x7f) {
			/* A control byte, or a byte that is not UTF-8. */
			(void)str_fmt(unit, sizeof(unit), "\\x%02x", s[0]);
			len = 1;
		} else if (utf8_is_hidden(cp)) {
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
		left -= len;
	}
	out[o] = '\0';
	return 0;
}

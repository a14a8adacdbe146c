/*
 * str.c - bounded string helpers and the error convention.
 */
#include "str.h"

#include <stdio.h>
#include <string.h>

int
str_copy(char *dst, size_t size, const char *src)
{
	size_t n;

	if (size == 0)
		return -1;
	n = strlen(src);
	if (n >= size) {
		/* Keep a truncated, terminated copy so callers that ignore
		 * the error still see a valid string. */
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int
str_vfmt(char *dst, size_t size, const char *fmt, va_list ap)
{
	int r;

	if (size == 0)
		return -1;
	r = vsnprintf(dst, size, fmt, ap);
	if (r < 0) {
		dst[0] = '\0';
		return -1;
	}
	if ((size_t)r >= size)
		return -1;
	return 0;
}

int
str_fmt(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = str_vfmt(dst, size, fmt, ap);
	va_end(ap);
	return r;
}

int
str_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	/* A truncated error message is still better than none. */
	(void)str_vfmt(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int
str_to_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	/* SECURITY: strtoull accepts signs, spaces and hex prefixes and
	 * saturates silently, so numbers from the wire are parsed by hand. */
	if (s == NULL || s[0] == '\0')
		return -1;
	if (s[0] == '0' && s[1] != '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned d;

		if (i >= 20)
			return -1;
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int
str_to_size(const char *s, uint64_t max, uint64_t *out)
{
	char digits[21];
	const char *suf;
	uint64_t v, mult = 1;
	size_t n;

	if (s == NULL)
		return -1;
	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++)
		if (n >= sizeof(digits) - 1)
			return -1;
	if (n == 0)
		return -1;
	memcpy(digits, s, n);
	digits[n] = '\0';
	/* The digits follow the same strict rules as every other number. */
	if (str_to_u64(digits, UINT64_MAX, &v) == -1)
		return -1;
	suf = s + n;
	switch (*suf) {
	case 'k':
	case 'K':
		mult = 1ULL << 10;
		break;
	case 'm':
	case 'M':
		mult = 1ULL << 20;
		break;
	case 'g':
	case 'G':
		mult = 1ULL << 30;
		break;
	case 't':
	case 'T':
		mult = 1ULL << 40;
		break;
	}
	if (mult > 1) {
		suf++;
		if (*suf == 'i' || *suf == 'I') {
			suf++;
			if (*suf != 'b' && *suf != 'B')
				return -1;
		}
	}
	if (*suf == 'b' || *suf == 'B')
		suf++;
	if (*suf != '\0')
		return -1;
	if (v > max / mult)
		return -1;
	*out = v * mult;
	return 0;
}

void
str_hex(char *out, const unsigned char *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
str_unhex(unsigned char *out, size_t n, const char *hex)
{
	size_t i;

	/* Validate everything first so `out` is untouched on failure. */
	for (i = 0; i < 2 * n; i++)
		if (hexval(hex[i]) < 0)
			return -1;
	for (i = 0; i < n; i++)
		out[i] = (unsigned char)((unsigned)hexval(hex[2 * i]) << 4 |
		    (unsigned)hexval(hex[2 * i + 1]));
	return 0;
}

int
str_add_size(size_t a, size_t b, size_t *out)
{
	if (a > SIZE_MAX - b)
		return -1;
	*out = a + b;
	return 0;
}

int
str_mul_size(size_t a, size_t b, size_t *out)
{
	if (a != 0 && b > SIZE_MAX / a)
		return -1;
	*out = a * b;
	return 0;
}

/*
 * buf.c - a growable byte buffer with a hard cap.
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

/* Smallest allocation, so tiny appends do not realloc every time. */
#define BUF_MIN_ALLOC 256

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->off = 0;
	b->cap = 0;
	b->max = max;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->off = 0;
	b->cap = 0;
}

char *
buf_head(const struct buf *b)
{
	if (b->data == NULL)
		return NULL;
	return b->data + b->off;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->off = 0;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	b->len -= n;
	b->off += n;
	/* An empty buffer reclaims its whole allocation for free. */
	if (b->len == 0)
		b->off = 0;
}

char *
buf_reserve(struct buf *b, size_t n)
{
	size_t need, newcap;
	char *p;

	/* SECURITY: the hard cap is what keeps a peer from making us
	 * allocate without bound; check it before any arithmetic. */
	if (n > b->max || b->len > b->max - n)
		return NULL;
	need = b->len + n;
	/* Written as need > cap - off so that a huge `max` cannot make the
	 * sum wrap (off <= cap always holds). */
	if (b->off > 0 && need > b->cap - b->off) {
		/* Reclaim the consumed prefix before growing. */
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	if (b->data != NULL && need <= b->cap - b->off)
		return b->data + b->off + b->len;
	/* Here off == 0.  Grow geometrically, but never beyond max. */
	newcap = b->cap < BUF_MIN_ALLOC ? BUF_MIN_ALLOC : b->cap;
	while (newcap < need) {
		if (str_mul_size(newcap, 2, &newcap) == -1) {
			newcap = need;
			break;
		}
	}
	if (newcap > b->max)
		newcap = b->max > need ? b->max : need;
	if (newcap == 0)
		newcap = 1;
	p = realloc(b->data, newcap);
	if (p == NULL)
		return NULL;
	b->data = p;
	b->cap = newcap;
	return b->data + b->off + b->len;
}

void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	char *dst;

	if (n == 0)
		return 0;
	dst = buf_reserve(b, n);
	if (dst == NULL)
		return -1;
	memcpy(dst, p, n);
	buf_commit(b, n);
	return 0;
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	char small[512];
	va_list ap2;
	char *tmp = NULL;
	size_t n;
	int r, rc = -1;

	va_copy(ap2, ap);
	r = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (r < 0)
		return -1;
	n = (size_t)r;
	/* Check the cap before allocating for a long line. */
	if (n > b->max || b->len > b->max - n)
		return -1;
	if (n < sizeof(small))
		return buf_append(b, small, n);
	/* Rare: long text.  Format it again into a heap buffer (+1 for the
	 * NUL vsnprintf writes; n < SIZE_MAX because it fits an int). */
	tmp = malloc(n + 1);
	if (tmp == NULL)
		goto fail;
	if (vsnprintf(tmp, n + 1, fmt, ap) != r)
		goto fail;
	rc = buf_append(b, tmp, n);
fail:
	free(tmp);
	return rc;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

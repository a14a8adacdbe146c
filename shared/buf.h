/*
 * buf.h - a growable byte buffer with a hard cap.
 *
 * Used for per-connection input and output queues and for building
 * multi-line replies.  Appending past `max` fails instead of growing, so a
 * peer can never make us allocate without bound.
 */
#ifndef FTX_BUF_H
#define FTX_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len; /* bytes held, starting at data[off] */
	size_t off; /* consumed prefix, reclaimed lazily */
	size_t cap; /* bytes allocated */
	size_t max; /* hard cap on len */
};

/* Initialise an empty buffer that may hold up to `max` bytes. */
void buf_init(struct buf *b, size_t max);
/* Release memory; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);
/* Start of the unconsumed bytes. */
char *buf_head(const struct buf *b);
/* Append bytes; -1 (nothing appended) if the cap would be exceeded or
 * memory is short. */
int buf_append(struct buf *b, const void *p, size_t n);
/* Append formatted text; -1 on cap, memory or format error (nothing
 * appended). */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Drop `n` bytes from the front (n <= len). */
void buf_consume(struct buf *b, size_t n);
/* Drop everything. */
void buf_reset(struct buf *b);
/* Make room for `n` more bytes and return a pointer to the free space
 * (call buf_commit with how many were filled), or NULL on cap/memory. */
char *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);

#endif /* FTX_BUF_H */

/*
 * hpipe.h - hash a stream on a second thread while the caller does I/O.
 *
 * Both ends of a transfer must SHA-256 every byte while moving it.  On a
 * 2-core machine hashing is the bottleneck, so an I/O thread fills
 * buffers and a hashing thread consumes them.  Usage:
 *
 *	p = hpipe_new(bufsize, threaded, err, errlen);
 *	while (more) {
 *		b = hpipe_acquire(p);        fill b with n bytes
 *		hpipe_submit(p, n);          hashing of b starts
 *		... the caller may still read b (send/write it) ...
 *	}
 *	hpipe_finish(p, digest);
 *	hpipe_free(p);
 *
 * A buffer stays valid for reading until the next hpipe_acquire; the
 * pipe never hands out a buffer the hasher has not finished with.
 * With threaded == 0 the hashing happens inline in hpipe_submit.
 */
#ifndef FTX_HPIPE_H
#define FTX_HPIPE_H

#include <stddef.h>

struct hpipe;

struct hpipe *hpipe_new(size_t bufsize, int threaded, char *err,
    size_t errlen);
/* Next buffer to fill (bufsize bytes); NULL after a failure. */
unsigned char *hpipe_acquire(struct hpipe *p);
/* The buffer from the last acquire holds `len` bytes; 0 or -1. */
int hpipe_submit(struct hpipe *p, size_t len);
/* Wait for all submitted bytes and write the SHA-256 (32 bytes). */
int hpipe_finish(struct hpipe *p, unsigned char *digest);
/* Stop the hashing thread (if any) and release everything. */
void hpipe_free(struct hpipe *p);
size_t hpipe_bufsize(const struct hpipe *p);

#endif /* FTX_HPIPE_H */

/*
 * hpipe.h - hash (and optionally store) a stream on helper threads while
 * the caller does the network I/O.
 *
 * Both ends of a transfer must SHA-256 every byte while moving it, and
 * the receiving end must also write it to a file.  On a 2-core machine
 * neither the hashing nor "receive, then write" fits on one core next to
 * the other, so an I/O thread fills buffers and up to two helper threads
 * consume them in order: one hashes, one (if a sink is given)
 * writes.  Usage:
 *
 *	p = hpipe_new(bufsize, threaded, io, err, errlen);
 *	while (more) {
 *		b = hpipe_acquire(p);        fill b with n bytes
 *		hpipe_submit(p, n);          hashing (and writing) of b starts
 *		... the caller may still read b (e.g. send it) ...
 *	}
 *	hpipe_finish(p, digest);             waits for hashing and writing
 *	hpipe_free(p);
 *
 * A buffer stays valid for reading until the next hpipe_acquire; the pipe
 * never hands out a buffer a helper has not finished with.  With
 * threaded == 0 everything happens inline in hpipe_submit.
 *
 * Errors: hpipe_acquire returns NULL and hpipe_submit/hpipe_finish return
 * -1 once any stage has failed, with errno set to the write error (EIO
 * for a hashing failure), so the caller learns of a full disk early.
 */
#ifndef FTX_HPIPE_H
#define FTX_HPIPE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct hpipe;

/* Where the bytes go: a sink the writer stage calls in order. */
struct hpipe_io {
	/* Write all of b[0..len) at `off`; 0, or an errno value (the
	 * pipe fails with it). */
	int (*write_at)(void *arg, const void *b, size_t len, uint64_t off);
	/* Read up to len bytes at `off` (hpipe_prime only): how many, 0 at
	 * the end, -1 with errno. */
	ssize_t (*read_at)(void *arg, void *b, size_t len, uint64_t off);
	void *arg;
};

/* A sink on the descriptor *fdp (pwrite/pread); *fdp must outlive the
 * pipe. */
void hpipe_io_fd(struct hpipe_io *io, int *fdp);
/* `io` not NULL: also write every submitted byte through it, in order. */
struct hpipe *hpipe_new(size_t bufsize, int threaded, const struct hpipe_io *io,
    char *err, size_t errlen);
/*
 * Resume: hash the first n bytes (read through io->read_at) as if they
 * had been submitted, and make the writer continue at offset n.  Only
 * before the first hpipe_acquire.  0, or -1 with err filled.  Writes
 * always use explicit offsets, starting at 0 unless primed.
 */
int hpipe_prime(struct hpipe *p, uint64_t n, char *err, size_t errlen);
/* Resume from a carried hash state instead (hash_state_save of the
 * first n bytes): nothing is read.  Same rules as hpipe_prime. */
int hpipe_prime_state(struct hpipe *p, uint64_t n, const unsigned char *state,
    char *err, size_t errlen);
/* Next buffer to fill (bufsize bytes); NULL after a failure. */
unsigned char *hpipe_acquire(struct hpipe *p);
/* The buffer from the last acquire holds `len` bytes; 0 or -1. */
int hpipe_submit(struct hpipe *p, size_t len);
/* Wait for all submitted bytes, then write the SHA-256 (32 bytes). */
int hpipe_finish(struct hpipe *p, unsigned char *digest);
/* Stop the helper threads (if any) and release everything. */
void hpipe_free(struct hpipe *p);
size_t hpipe_bufsize(const struct hpipe *p);

#endif /* FTX_HPIPE_H */

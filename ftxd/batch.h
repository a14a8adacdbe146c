/*
 * batch.h - MPUT and MGET: many files over one data connection
 * (docs/PROTOCOL.md "Batches").
 *
 * A batch runs on a thread of the transfer lane, like a single
 * transfer; xfer.c owns the data connection and hands this module a
 * small I/O interface (its blocking receive and send, under the
 * watchdog and --max-rate), so the frames, the per-file verification
 * and the batched commits live here and nothing here knows sockets,
 * TLS or sessions.
 *
 * Every file of an MPUT is written to a partial while its SHA-256 is
 * computed, checked against the client's digest, and committed at the
 * batch's commit point with one store_flush before the renames and one
 * after: a file is reported OK only once it is durable and visible.
 */
#ifndef FTXD_BATCH_H
#define FTXD_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ftx_limits.h"
#include "ftxerr.h"

struct store;

/* The data connection, as the transfer sees it. */
struct batch_io {
	void *arg;
	/* Some bytes (1..n), 0 when the peer closed, -1 on an error (the
	 * caller has recorded why, e.g. its watchdog's TIMEOUT). */
	ssize_t (*recv)(void *arg, void *p, size_t n);
	/* All n bytes, or -1. */
	int (*send)(void *arg, const void *p, size_t n);
	/* The n bytes of `fd` from `off` straight to the peer (sendfile),
	 * 0 or -1; NULL when the connection cannot (TLS). */
	int (*send_fd)(void *arg, int fd, uint64_t off, uint64_t n);
};

struct batch_cfg {
	const struct store *st;
	const char *owner; /* names the uploader in partial keys */
	uint64_t quota; /* bytes; 0: none */
	uint64_t inflight; /* bytes of the user's uploads running at the
			    * start, counted against the quota */
	uint64_t min_free; /* --min-free; 0: none */
	size_t iosize; /* bytes per read and write */
};

/* How a batch ended: FTXE_OK after the client's "E", else the error
 * for the control connection.  files: committed (MPUT) or sent
 * (MGET); bytes: file bytes received or sent. */
struct batch_result {
	enum ftx_err err;
	char text[FTX_ERRLEN];
	uint64_t files, bytes;
};

void batch_put(const struct batch_cfg *c, const struct batch_io *io,
    struct batch_result *r);
void batch_get(const struct batch_cfg *c, const struct batch_io *io,
    struct batch_result *r);

#endif /* FTXD_BATCH_H */

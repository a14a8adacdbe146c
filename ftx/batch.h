/*
 * batch.h - many small files over one data connection: the client's
 * side of MPUT and MGET (docs/PROTOCOL.md, "Batches").
 *
 * One data connection, one token and one flush on the server for a
 * batch of files, instead of one each.  Every file still carries its
 * SHA-256 (the sender's, after its bytes) and the receiver checks it.
 *
 * MPUT: batch_put_file() sends frames ("F <size> <mtime> <path>",
 * bytes, digest), batch_put_commit() sends "C"; the caller commits at
 * most FTX_BATCH_FILES_MAX files at a time.  One committed batch may
 * wait for its results while the next is sent, which keeps the server
 * busy while it commits (docs/PROTOCOL.md "Batches": its result lines
 * are small enough for the socket buffers); batch_put_commit() first
 * reads the results of the batch before, batch_put_results() those of
 * the last.  MGET: batch_get_request() sends "G <path>" (the caller keeps
 * the window), batch_get_next() reads the next answer into a descriptor
 * the caller provides.  batch_end() sends "E" and reads the final line.
 *
 * Functions return an exit code (enum exitcode) and fill `err`.  After
 * a failure of the connection the batch is dead: only batch_free() is
 * left (the control session is dropped when its state is unknown).
 */
#ifndef FTX_BATCH_H
#define FTX_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "hash.h"
#include "rpl.h"

struct batch;

/* One file's result (MPUT) or answer (MGET). */
struct batch_item {
	char path[FTX_RPATH_MAX + 1];
	uint64_t size;
	int64_t mtime;
	int ok; /* verified (and, for MPUT, committed) */
	char sha[HASH_SHA256_HEXLEN + 1]; /* ours, when ok */
	char code[RPL_CODE_MAX]; /* when not ok: the server's code */
	char reason[FTX_ERRLEN];
};

/* MPUT or MGET (`put`), its OK, the data connection: EXITCODE_OK and *bp
 * (free it with batch_free). */
int batch_begin(
    struct ctl *c, int put, struct batch **bp, char *err, size_t errlen);

/* MPUT: send the file open at `fd` (its bytes up to the end, at most
 * FTX_BATCH_SMALL_MAX, read once and hashed) as `rpath` with `mtime`;
 * *size receives its size. */
int batch_put_file(struct batch *b, int fd, const char *rpath, int64_t mtime,
    uint64_t *size, char *err, size_t errlen);
/* Files sent since the last commit. */
size_t batch_pending(const struct batch *b);
/* 1 once the connection failed (only batch_free is left): a failure
 * with the batch alive was the one file's, locally. */
int batch_dead(const struct batch *b);
/* Read the results of the committed batch that waits for them (if any)
 * into items[] (*nitems of them), then send "C" for the files sent
 * since: they wait for their results in turn. */
int batch_put_commit(struct batch *b, struct batch_item *items, size_t *nitems,
    char *err, size_t errlen);
/* 1 when the waiting batch's results could be too large to leave unread
 * while more frames are sent: read them (batch_put_results) first. */
int batch_put_must_wait(const struct batch *b);
/* The results of the waiting batch, if any (*nitems 0 if none). */
int batch_put_results(struct batch *b, struct batch_item *items, size_t *nitems,
    char *err, size_t errlen);

/* MGET: ask for `rpath`. */
int batch_get_request(
    struct batch *b, const char *rpath, char *err, size_t errlen);
/* Where the next file's bytes go: a descriptor open for writing, or -1
 * with err (the batch then ends). */
typedef int (*batch_open_fn)(
    void *arg, const struct batch_item *it, char *err, size_t errlen);
/* Read the answer to the oldest request, which was for `expect`: the
 * file's bytes go to the descriptor `open` returns (and it->ok says
 * whether they verified), or it->code/reason hold the server's refusal.
 * *fd receives the descriptor (-1 for a refusal); the caller closes it. */
int batch_get_next(struct batch *b, const char *expect, batch_open_fn open,
    void *arg, struct batch_item *it, int *fd, char *err, size_t errlen);

/* "E" and the final "DONE <files> <bytes>"; *files and *bytes (may be
 * NULL) receive the server's counts. */
int batch_end(struct batch *b, uint64_t *files, uint64_t *bytes, char *err,
    size_t errlen);
void batch_free(struct batch *b);

#endif /* FTX_BATCH_H */

/*
 * batch.h - many small files over one data connection: the client's
 * side of MPUT and MGET (docs/PROTOCOL.md, "Batches").
 *
 * One data connection, one token and one flush on the server for a
 * batch of files, instead of one each.  Every file still carries its
 * SHA-256 (the sender's, after its bytes) and the receiver checks it.
 *
 * MPUT: batch_put_file() sends frames ("F <size> <mtime> <path>",
 * bytes, digest), batch_put_commit() sends "C" and reads one result per
 * file; the caller commits at most FTX_BATCH_FILES_MAX files at a time
 * and waits for the results before the next frames, as the protocol
 * asks.  MGET: batch_get_request() sends "G <path>" (the caller keeps
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
/* "C", then the results of the files sent since the last commit, in
 * order, into items[] (batch_pending() of them). */
int batch_put_commit(
    struct batch *b, struct batch_item *items, char *err, size_t errlen);

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

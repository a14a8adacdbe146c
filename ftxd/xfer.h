/*
 * xfer.h - the transfers that run on data connections.
 *
 * A transfer is created by UPLOAD/DOWNLOAD with a one-time token and
 * waits (PENDING) for a data connection that presents it: dconn.c
 * accepts data connections, reads their token and hands the matching
 * one over.  The transfer then runs on a thread of the workers' transfer
 * lane (RUNNING), which moves the bytes with blocking I/O that wakes
 * every second to check --data-timeout and --min-rate.
 * When the worker finishes, the loop writes the log and xferlog lines
 * and reports the result to the done callback the transfer was started
 * with; the caller (fileops.c) writes the DONE/ERROR line, so nothing
 * here speaks the control protocol.
 */
#ifndef FTXD_XFER_H
#define FTXD_XFER_H

#include <stddef.h>
#include <stdint.h>

#include "ftx_limits.h"
#include "ftxerr.h"
#include "hash.h"

struct ctx;
struct session;
struct store_file;
struct ustore;
struct xfer;

/* How a transfer ended: an ERROR code of the one table
 * (shared/ftxerr.h), FTXE_OK on success. */
struct xfer_result {
	enum ftx_err err;
	char text[FTX_ERRLEN]; /* the reason, when err != FTXE_OK */
	int upload;
	int batch; /* MPUT or MGET */
	uint64_t files; /* a batch's files committed or sent */
	uint64_t bytes; /* moved over the data connection */
	unsigned char sha[HASH_SHA256_LEN]; /* the file's, when FTXE_OK */
};

/* Called on the loop thread when a transfer of the session ends: after
 * it ran, when its token expired, or when a stop cancelled it (never
 * after xfer_session_gone).  s->xfer is NULL by then. */
typedef void xfer_done_fn(struct session *s, const struct xfer_result *r);

/* What UPLOAD and DOWNLOAD offer the client, or why they cannot. */
struct xfer_offer {
	int port; /* the data port to connect to */
	char token[FTX_TOKEN_HEX + 1]; /* secret: wipe it once sent */
	enum ftx_err err; /* FTXE_BUSY, FTXE_INTERNAL: not started */
	char why[FTX_ERRLEN];
};

/* The partial-upload key of this session's upload of name/size. */
void xfer_partial_key(
    const struct session *s, const char *name, uint64_t size, char *key);
/* 0 if the session may start another transfer under --max-transfers,
 * --max-transfers-per-ip and --max-transfers-per-user; else -1 and
 * `why` says which cap (for "ERROR BUSY <why>"). */
int xfer_admit(const struct session *s, char *why, size_t whylen);
/* Start a pending upload for the session: 0 and o->port, o->token set
 * (the caller sends them), or -1 and o->err, o->why say why not.
 * offset > 0 continues the session's partial upload (checked again when
 * the transfer runs).  *reserved (may be NULL): quota bytes the caller
 * already added to the user's in-flight count, which the transfer takes
 * over (*reserved becomes 0); otherwise it reserves `size` itself.
 * The stored file gets the modification time `mtime` (-1: the commit's).
 * `done` hears how the transfer ends. */
int xfer_upload(struct session *s, const char *name, uint64_t size,
    uint64_t offset, time_t mtime, uint64_t *reserved, xfer_done_fn *done,
    struct xfer_offer *o);
/* The size a streamed upload's partial key is made with: no real size
 * (above FTX_MAX_FILE_SIZE), so it never meets a resumable partial. */
#define XFER_STREAM_KEY UINT64_MAX
/* Start a pending streamed upload (UPLOAD <path> *, docs/PROTOCOL.md
 * "Streamed uploads"), which may receive at most `limit` bytes; under a
 * quota (`quota` > 0) the limit is the room the quota leaves, reserved
 * for the transfer now.  As xfer_upload. */
int xfer_upload_stream(struct session *s, const char *name, time_t mtime,
    uint64_t limit, uint64_t quota, xfer_done_fn *done, struct xfer_offer *o);
/* Start a pending download of an already opened file (takes `f`, also
 * on failure), sending bytes offset..size-1; as xfer_upload. */
int xfer_download(struct session *s, const char *name, struct store_file *f,
    uint64_t size, const unsigned char *sha, uint64_t offset,
    xfer_done_fn *done, struct xfer_offer *o);
/* Start a pending batch (docs/PROTOCOL.md "Batches"): MPUT when `put`,
 * else MGET; as xfer_upload.  The quota and --min-free are checked per
 * file while it runs. */
int xfer_batch(
    struct session *s, int put, xfer_done_fn *done, struct xfer_offer *o);
/* The owning session closed: its done callback is not called. */
void xfer_session_gone(struct xfer *x);
/* Timers: tokens that expired unused; now and then (FTX_PARTIAL_SWEEP_S)
 * a sweep of expired partial uploads on a worker. */
void xfer_tick(struct ctx *srv, long long now);
/* Graceful stop (after dconn_stop): cancel pending transfers; with
 * `force`, also cut running data connections. */
void xfer_stop(struct ctx *srv, int force);
/* Transfers currently running on workers. */
int xfer_running(const struct ctx *srv);
/* Transfers waiting for their data connection. */
int xfer_pending(const struct ctx *srv);
/* The same for the transfers of one user's storage (NULL: the root's). */
void xfer_count_user(
    const struct ctx *srv, const struct ustore *u, int *running, int *pending);

#endif /* FTXD_XFER_H */

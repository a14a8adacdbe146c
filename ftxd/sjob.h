/*
 * sjob.h - a control command's job: the work a command hands to the
 * control lane of the workers, and the way its answer comes back.
 *
 * A command that touches the disk or checks a password (fileops.c,
 * login.c) makes an sjob, parks it in the session (s->busy, so the
 * session reads no further command) and submits it.  work() runs on a
 * worker and builds the reply; back on the loop thread the job's
 * module is told first (back(), whether or not the session is still
 * there), then finish() or, without one, the built reply goes out, and
 * the session reads on.  A job may stay parked after finish() (a failed
 * LOGIN answered later, a LIST sent in pieces): it is then its module's
 * to free.
 */
#ifndef FTXD_SJOB_H
#define FTXD_SJOB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "ftx_limits.h"
#include "hash.h"
#include "store.h"
#include "worker.h"

struct ctx;
struct listing;
struct session;
struct ustore;

/* A command waiting for a worker.  One struct for every kind of job:
 * the fields past `reply` belong to the module that made it. */
struct sjob {
	struct job job; /* must be first */
	struct session *sess; /* NULL once the session has gone */
	struct ctx *srv;
	const struct store *st; /* the session's storage */
	struct ustore *ust; /* a reference that keeps `st` open */
	void (*work)(struct sjob *j); /* on a worker */
	void (*back)(struct sjob *j); /* on the loop, first, session or not */
	void (*finish)(struct sjob *j); /* on the loop, session alive */
	struct buf reply; /* built by work(), sent by default */
	struct sjob *qnext; /* LOGIN and LIST queues, delayed replies */
	/* fileops.c */
	char name[FTX_RPATH_MAX + 1]; /* a path */
	char name2[FTX_RPATH_MAX + 1]; /* MOVE: the target */
	int md5;
	uint64_t size, offset; /* UPLOAD, PARTIAL, DOWNLOAD offset= */
	time_t mtime; /* UPLOAD mtime=, or -1 */
	char pkey[STORE_PKEY_LEN]; /* the session's partial upload */
	uint64_t kept; /* bytes that partial holds */
	/* DOWNLOAD preparation and HASH. */
	struct store_file *file;
	struct store_stat sb;
	unsigned char sha[HASH_SHA256_LEN];
	unsigned char md5sum[HASH_MD5_LEN]; /* HASH ... md5 */
	struct sockaddr_storage peer; /* the session's, for the hash cap */
	int need_full; /* work() found a needed hash missing from the cache */
	int full; /* may read the whole file: holds a hash slot */
	struct sjob *hnext; /* the list of jobs holding a hash slot */
	/* UPLOAD: quota and free-space checks. */
	uint64_t quota, inflight, min_free;
	uint64_t reserved; /* counted in ust->inflight until released */
	int check_space;
	int refused; /* UPLOAD: work() queued an error reply */
	int stream; /* UPLOAD <path> *: the size is not known */
	uint64_t used; /* stream: the quota's usage work() found */
	/* LIST: the snapshot offered for reuse, the one to send, how much
	 * of it is queued, and whether it is being sent (kept on the loop
	 * in s->busy, not on a worker). */
	struct listing *cand, *snap;
	size_t sent;
	int streaming;
	struct sjob *followers; /* LISTs that take this job's snapshot */
	/* dirops.c: MKDIR parents=, MOVE replace=; LS: its walk, entries
	 * sent, whether pieces remain, and whether it waits on the loop
	 * (s->busy) for the output to drain. */
	int flag;
	int recursive;
	struct store_walk *walk;
	uint64_t count;
	int more;
	int parked;
	/* login.c; the secrets are wiped when the job is freed. */
	char user[FTX_USER_MAX + 1];
	char pass[FTX_PASS_MAX + 1];
	size_t passlen;
	int anon; /* LOGIN anonymous */
	int login; /* 1 ok, 0 refused, -1 error */
	struct store *ustore; /* opened by the worker for a good login */
	int adopted; /* ustore was handed to auth_attach */
	int checking; /* LOGIN: queued or running, not yet answered */
	long long reply_ms; /* a failed login is answered at this time */
};

/* A FIFO of jobs waiting on the loop thread for a slot (LOGIN, LIST),
 * linked through qnext. */
struct sjob_q {
	struct sjob *head, *tail;
};

/* A job for the session, with its storage referenced and a reply buffer
 * of at most reply_max bytes; NULL if memory is short.  `finish` may be
 * NULL (send the reply); `back` is NULL until the caller sets it. */
struct sjob *sjob_new(struct session *s, void (*work)(struct sjob *),
    void (*finish)(struct sjob *), size_t reply_max);
/* Free a job that is on no worker and in no queue: its file, snapshots,
 * storage reference, quota reservation and any secret. */
void sjob_free(struct sjob *j);
/* The session is going away: the job must not report back to it (one
 * being sent on the loop is freed at once). */
void sjob_detach(struct sjob *j);
/* A job taken from a queue goes to a worker: 0, or -1 when it was
 * dropped (its session left while it waited) or could not start (its
 * session is answered and resumed). */
int sjob_start_queued(struct sjob *j);
/* Format a line into the job's reply (on a worker); replies are
 * bounded, so failure means memory is short and says so instead. */
void sjob_reply(struct sjob *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The reply for a storage error about `path` ("" is the top, shown as
 * "."): "ERROR NOTFOUND no such <what>: <path>", else the code from the
 * one table (store_code_proto), the path and the store's reason. */
void sjob_reply_store(struct sjob *j, const char *path, const char *what,
    const struct store_err *e);
void sjob_q_push(struct sjob_q *q, struct sjob *j);
/* The oldest job, or NULL. */
struct sjob *sjob_q_pop(struct sjob_q *q);

#endif /* FTXD_SJOB_H */

/*
 * fileops.c - the file commands: UPLOAD, DOWNLOAD, PARTIAL, LIST,
 * DELETE and HASH.  See fileops.h.
 *
 * Each checks its arguments on the loop, then hands an sjob to a worker
 * for what touches the disk (the quota and free-space checks before an
 * upload's token, opening and hashing a download, a LIST snapshot); the
 * answer comes back in command order, and a transfer is offered from
 * there (xfer.c), its end reported back here as DONE or ERROR.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "buf.h"
#include "ctx.h"
#include "fileops.h"
#include "hash.h"
#include "listing.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "path.h"
#include "proto.h"
#include "session.h"
#include "sjob.h"
#include "store.h"
#include "str.h"
#include "worker.h"
#include "xfer.h"

/* Encoded names are at most three times the raw length. */

/* What a command hands its job (everything else is zero). */
struct sjob_args {
	const char *name;
	int md5;
	uint64_t size, offset;
	int check_space; /* UPLOAD: quota and --min-free */
	time_t mtime; /* UPLOAD mtime=, else -1 */
	int stream; /* UPLOAD <path> * */
};

static void job_back(struct sjob *j);

/* SECURITY: every path from the network passes this check
 * (shared/path.c: the name rules for every component, no "..", ".",
 * empty component, leading or trailing '/', bounded length and depth). */
static int
check_name(struct session *s, const char *name)
{
	char err[FTX_ERRLEN];

	if (path_check(name, err, sizeof(err)) == -1) {
		sess_reply(s, "ERROR BADNAME %s", err);
		return -1;
	}
	return 0;
}

/* The optional parameters from argv[idx] on: offset= (resume) and, where
 * `mtime` is not NULL, mtime= (seconds; -1 when absent).  0, or -1 with
 * the reply sent. */
static int
check_params(struct session *s, struct proto_cmd *c, int idx, uint64_t *off,
    time_t *mtime)
{
	uint64_t v;
	int i, rc;

	*off = 0;
	if (mtime != NULL)
		*mtime = (time_t)-1;
	for (i = idx; i < c->argc; i++) {
		rc = proto_param_u64(
		    c->argv[i], "offset", FTX_MAX_FILE_SIZE, off);
		if (rc == 0 && mtime != NULL) {
			rc = proto_param_u64(
			    c->argv[i], "mtime", FTX_MTIME_MAX, &v);
			if (rc == 1)
				*mtime = (time_t)v;
		}
		if (rc != 1) {
			sess_reply(s, "ERROR SYNTAX bad parameter");
			return -1;
		}
	}
	return 0;
}

static int
can_transfer(struct session *s)
{
	char why[FTX_ERRLEN];

	if (s->srv->stopping) {
		sess_reply(s, "ERROR SHUTDOWN server stopping");
		return 0;
	}
	if (s->xfer != NULL) {
		sess_reply(s, "ERROR BUSY a transfer is already in progress");
		return 0;
	}
	/* Early, before any disk work; xfer.c checks again when the
	 * transfer is created. */
	if (xfer_admit(s, why, sizeof(why)) == -1) {
		sess_reply(s, "ERROR BUSY %s", why);
		return 0;
	}
	return 1;
}

/* "<name> <size>" of UPLOAD and PARTIAL; 0 or -1 (replied). */
static int
check_name_size(struct session *s, struct proto_cmd *c, uint64_t *size)
{
	if (check_name(s, c->argv[0]) == -1)
		return -1;
	if (str_to_u64(c->argv[1], UINT64_MAX, size) == -1) {
		sess_reply(s, "ERROR SYNTAX bad size");
		return -1;
	}
	if (*size > FTX_MAX_FILE_SIZE) {
		sess_reply(s, "ERROR TOOBIG size above %llu bytes",
		    (unsigned long long)FTX_MAX_FILE_SIZE);
		return -1;
	}
	return 0;
}

/* --- jobs ------------------------------------------------------------ */

static void
submit(struct session *s, const struct sjob_args *a,
    void (*work)(struct sjob *), void (*finish)(struct sjob *))
{
	struct sjob *j;

	if ((j = sjob_new(s, work, finish, FTX_JOB_REPLY_MAX)) == NULL)
		goto fail;
	j->back = job_back;
	j->md5 = a->md5;
	j->size = a->size;
	j->offset = a->offset;
	j->mtime = a->mtime;
	j->stream = a->stream;
	if (a->check_space) {
		j->check_space = 1;
		j->quota = s->quota;
		j->min_free = s->srv->cfg.min_free;
		/* SECURITY: the upload's bytes are reserved here, on the loop
		 * thread, before its check runs on a worker: of two uploads
		 * checked at once, the later sees the earlier's reservation,
		 * so parallel uploads cannot all fit the same free quota. */
		if (s->ust != NULL) {
			j->inflight = s->ust->inflight;
			j->reserved = a->size;
			s->ust->inflight += a->size;
		}
	}
	if (a->name != NULL) {
		if (str_copy(j->name, sizeof(j->name), a->name) == -1)
			abort(); /* paths were checked against FTX_RPATH_MAX */
		xfer_partial_key(
		    s, a->name, a->stream ? XFER_STREAM_KEY : a->size, j->pkey);
	}
	if (worker_submit(&j->job) == -1) {
		sjob_free(j);
		goto fail;
	}
	s->busy = j;
	return;
fail:
	sess_reply(s, "ERROR INTERNAL out of resources");
}

/* --- transfers --------------------------------------------------------- */

/* " host=<public-host>" for OK replies, or "" without --public-host.
 * The value was checked to be host-name characters only, so it needs
 * no percent-encoding. */
static const char *
host_prefix(const struct ctx *srv)
{
	return srv->cfg.public_host[0] != '\0' ? " host=" : "";
}

/* How the session's transfer ended: DONE or ERROR, then the session
 * goes on (or, in a stop, closes once nothing else runs). */
static void
xfer_ended(struct session *s, const struct xfer_result *r)
{
	char hex[HASH_SHA256_HEXLEN + 1];

	if (r->err == FTXE_OK && r->batch) {
		sess_reply(s, "DONE %" PRIu64 " %" PRIu64, r->files, r->bytes);
	} else if (r->err == FTXE_OK) {
		str_hex(hex, r->sha, HASH_SHA256_LEN);
		sess_reply(s, "DONE %s", hex);
	} else {
		sess_reply(s, "ERROR %s %s", ftxerr_name(r->err), r->text);
	}
	/* Cancelled by the stop itself, which closes the session next
	 * (sess_stop_idle). */
	if (r->err == FTXE_SHUTDOWN)
		return;
	if (s->srv->stopping && s->busy == NULL)
		sess_close_after(s, NULL);
	else
		sess_resume(s);
}

/* Offer an upload: OK <port> <token>, or the ERROR why not. */
static void
start_upload(struct session *s, const char *name, uint64_t size,
    uint64_t offset, time_t mtime, uint64_t *reserved)
{
	struct xfer_offer o;

	if (xfer_upload(
		s, name, size, offset, mtime, reserved, xfer_ended, &o) == -1)
		sess_reply(s, "ERROR %s %s", ftxerr_name(o.err), o.why);
	else
		sess_reply(s, "OK %d %s%s%s", o.port, o.token,
		    host_prefix(s->srv), s->srv->cfg.public_host);
	explicit_bzero(o.token, sizeof(o.token));
}

/* Offer a streamed upload that may take `limit` bytes (`quota` > 0:
 * the limit is the room that quota leaves, reserved for it). */
static void
start_stream(struct session *s, const char *name, time_t mtime, uint64_t limit,
    uint64_t quota)
{
	struct xfer_offer o;

	if (xfer_upload_stream(s, name, mtime, limit, quota, xfer_ended, &o) ==
	    -1)
		sess_reply(s, "ERROR %s %s", ftxerr_name(o.err), o.why);
	else
		sess_reply(s, "OK %d %s%s%s", o.port, o.token,
		    host_prefix(s->srv), s->srv->cfg.public_host);
	explicit_bzero(o.token, sizeof(o.token));
}

/* Offer a download: OK <size> <port> <token> <sha256>, or the ERROR. */
static void
start_download(struct session *s, const char *name, struct store_file *f,
    uint64_t size, const unsigned char *sha, uint64_t offset)
{
	char shahex[HASH_SHA256_HEXLEN + 1];
	struct xfer_offer o;

	if (xfer_download(s, name, f, size, sha, offset, xfer_ended, &o) ==
	    -1) {
		sess_reply(s, "ERROR %s %s", ftxerr_name(o.err), o.why);
		return;
	}
	str_hex(shahex, sha, HASH_SHA256_LEN);
	sess_reply(s, "OK %" PRIu64 " %d %s %s%s%s", size, o.port, o.token,
	    shahex, host_prefix(s->srv), s->srv->cfg.public_host);
	explicit_bzero(o.token, sizeof(o.token));
}

static void partial_work(struct sjob *j);
static void upload_work(struct sjob *j);
static void upload_finish(struct sjob *j);

/* UPLOAD <path> * [mtime=S]: a streamed upload of unknown length
 * (docs/PROTOCOL.md "Streamed uploads").  It is never resumed, so
 * offset= is a syntax error. */
static void
upload_streamed(struct session *s, struct proto_cmd *c)
{
	struct sjob_args a = {c->argv[0], 0, 0, 0, 0, -1, 1};
	uint64_t off;
	int i;

	if (check_name(s, c->argv[0]) == -1)
		return;
	for (i = 2; i < c->argc; i++)
		if (strncmp(c->argv[i], "offset=", 7) == 0) {
			sess_reply(s,
			    "ERROR SYNTAX offset= cannot be used "
			    "with a streamed upload (size *)");
			return;
		}
	if (check_params(s, c, 2, &off, &a.mtime) == -1 || !can_transfer(s))
		return;
	if (s->quota == 0 && s->srv->cfg.min_free == 0) {
		start_stream(s, c->argv[0], a.mtime, FTX_MAX_FILE_SIZE, 0);
		return;
	}
	a.check_space = 1;
	submit(s, &a, upload_work, upload_finish);
}

void
fop_upload(struct session *s, struct proto_cmd *c)
{
	struct sjob_args a = {c->argv[0], 0, 0, 0, 0, -1, 0};
	uint64_t size, off;
	int space = s->quota > 0 || s->srv->cfg.min_free > 0;

	if (strcmp(c->argv[1], "*") == 0) {
		upload_streamed(s, c);
		return;
	}
	if (check_name_size(s, c, &size) == -1 ||
	    check_params(s, c, 2, &off, &a.mtime) == -1 || !can_transfer(s))
		return;
	if (off > size) {
		sess_reply(s, "ERROR RANGE offset beyond the size");
		return;
	}
	if (off == 0 && !space) {
		start_upload(s, c->argv[0], size, 0, a.mtime, NULL);
		return;
	}
	/* SECURITY: an offset past what we kept would leave a hole of
	 * zeros in the file, and quotas and --min-free are checked before
	 * any byte is accepted; look before offering a token. */
	a.size = size;
	a.offset = off;
	a.check_space = space;
	submit(s, &a, upload_work, upload_finish);
}

void
fop_partial(struct session *s, struct proto_cmd *c)
{
	struct sjob_args a = {c->argv[0], 0, 0, 0, 0, -1, 0};

	if (check_name_size(s, c, &a.size) == -1)
		return;
	submit(s, &a, partial_work, NULL);
}

/*
 * Jobs that read a whole file to hash it (a cache miss) hold one of a
 * few slots per user and per address (FTX_HASH_JOBS_MAX): without them,
 * a client could keep every worker and core busy hashing with a few
 * bytes per request.  The list belongs to the loop thread.
 */
static struct sjob *hashing;

static void
hash_release(struct sjob *j)
{
	struct sjob **pp;

	for (pp = &hashing; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == j) {
			*pp = j->hnext;
			break;
		}
	}
	j->hnext = NULL;
	j->full = 0;
}

/* A job came back from its worker (its back()), its session alive or
 * not: a hash slot it held is free. */
static void
job_back(struct sjob *j)
{
	if (j->full)
		hash_release(j);
}

/* SECURITY: CPU amplification.  A slot for a full-file hash, if the
 * user (when there are accounts) and the address have one free. */
static int
hash_acquire(struct sjob *j)
{
	int by_user = 0, by_addr = 0;
	struct sjob *k;

	for (k = hashing; k != NULL; k = k->hnext) {
		if (j->ust != NULL && k->ust == j->ust)
			by_user++;
		if (net_same_ip(&k->peer, &j->peer))
			by_addr++;
	}
	if (by_user >= FTX_HASH_JOBS_MAX || by_addr >= FTX_HASH_JOBS_MAX)
		return -1;
	j->full = 1;
	j->hnext = hashing;
	hashing = j;
	return 0;
}

/*
 * On the loop, when work() found a hash missing from the cache: run the
 * job again, now allowed to read the whole file, or answer ERROR BUSY at
 * once.  1 if the job was resubmitted or answered, 0 to carry on.
 */
static int
hash_gate(struct sjob *j)
{
	struct session *s = j->sess;

	if (!j->need_full)
		return 0;
	j->need_full = 0;
	if (hash_acquire(j) == -1) {
		sess_reply(s,
		    "ERROR BUSY too many hash computations running; "
		    "try again later");
		return 1;
	}
	buf_reset(&j->reply);
	if (worker_submit(&j->job) == -1) {
		hash_release(j);
		sess_reply(s, "ERROR INTERNAL out of resources");
		return 1;
	}
	s->busy = j; /* kept: sjob_done answers when it is back */
	return 1;
}

/*
 * Open the job's file and find its SHA-256 (and, for HASH ... md5, its
 * MD5): 0 when they are in j->sha (j->md5sum); 1 when one is not cached
 * and the job must come back with a hash slot (hash_gate); -1 when the
 * error reply is queued and j->fd is -1.
 */
static int
open_and_hash(struct sjob *j)
{
	struct store_err e;
	int has_md5 = 0;

	if (j->file == NULL &&
	    store_read_open(j->st, j->name, &j->file, &j->sb, &e) == -1) {
		sjob_reply_store(j, j->name, "file", &e);
		return -1;
	}
	if (!j->full) {
		if (store_cached(j->file, j->sha, j->md5sum, &has_md5) == 0 &&
		    (has_md5 || !j->md5))
			return 0;
		j->need_full = 1;
		return 1;
	}
	if (store_hash(j->file, j->sha, j->md5 ? j->md5sum : NULL, &e) == -1) {
		sjob_reply(j, "ERROR IO %s\n", e.msg);
		store_read_close(j->file);
		j->file = NULL;
		return -1;
	}
	return 0;
}

/* DOWNLOAD: open the file and find its hash before offering a token. */
static void
download_work(struct sjob *j)
{
	(void)open_and_hash(j);
}

static void
download_finish(struct sjob *j)
{
	if (j->srv->stopping) {
		/* The data listener is closed: a token would be useless. */
		sess_reply(j->sess, "ERROR SHUTDOWN server stopping");
		return;
	}
	if (hash_gate(j))
		return;
	if (j->file == NULL) {
		sess_reply_raw(j->sess, buf_head(&j->reply), j->reply.len);
		return;
	}
	if (j->offset > j->sb.size) {
		sess_reply(j->sess,
		    "ERROR RANGE offset beyond the file's %" PRIu64 " bytes",
		    j->sb.size);
		return;
	}
	start_download(
	    j->sess, j->name, j->file, j->sb.size, j->sha, j->offset);
	j->file = NULL; /* the transfer owns it now */
}

/* How much the session's partial keeps: 0, or -1 with the reply. */
static int
partial_kept(struct sjob *j)
{
	struct store_err e;

	if (store_partial_size(j->st, j->pkey, &j->kept, &e) == -1) {
		sjob_reply(j, "ERROR IO %s\n", e.msg);
		return -1;
	}
	return 0;
}

/* PARTIAL. */
static void
partial_work(struct sjob *j)
{
	if (partial_kept(j) == 0)
		sjob_reply(j, "OK %" PRIu64 "\n", j->kept);
}

/* SECURITY: refuse an upload that would break the user's quota or
 * leave less than --min-free on the disk, before any byte is written.
 * Both are checked again by nature at the end: ENOSPC fails the upload
 * cleanly (NOSPACE) and discards it. */
static int
space_check(struct sjob *j)
{
	uint64_t used, kept, avail, need = j->size - j->offset;
	struct store_err e;
	size_t nkept;

	if (j->quota > 0) {
		if (store_usage(j->st, j->name, &used, &e) == -1 ||
		    store_partial_usage(j->st, j->pkey, &kept, &nkept, &e) ==
			-1) {
			sjob_reply(j, "ERROR IO %s\n", e.msg);
			return -1;
		}
		/* The replaced file's bytes are not counted (`except`), nor
		 * this upload's own partial (it becomes the file); the
		 * user's other kept partials are.  Partials are a resume
		 * cache, not stored files: when only they stand in the way,
		 * the oldest make room. */
		if (used + j->inflight + j->size <= j->quota &&
		    used + kept + j->inflight + j->size > j->quota) {
			(void)store_partial_trim(j->st, j->pkey, SIZE_MAX,
			    j->quota - used - j->inflight - j->size);
			if (store_partial_usage(
				j->st, j->pkey, &kept, &nkept, &e) == -1) {
				sjob_reply(j, "ERROR IO %s\n", e.msg);
				return -1;
			}
		}
		used += kept;
		if (used + j->inflight + j->size > j->quota) {
			sjob_reply(j,
			    "ERROR QUOTA upload of %" PRIu64
			    " bytes would exceed the quota of %" PRIu64
			    " bytes (%" PRIu64 " used)\n",
			    j->size, j->quota, used + j->inflight);
			return -1;
		}
	}
	if (j->min_free > 0) {
		if (store_free_bytes(j->st, &avail, &e) == -1) {
			sjob_reply(j, "ERROR IO %s\n", e.msg);
			return -1;
		}
		if (avail < need || avail - need < j->min_free) {
			sjob_reply(j,
			    "ERROR NOSPACE upload of %" PRIu64
			    " bytes would leave less than %" PRIu64
			    " bytes free\n",
			    need, j->min_free);
			return -1;
		}
	}
	return 0;
}

/*
 * SECURITY: a streamed upload's size is not known before its bytes
 * arrive, so its room is measured instead: under a quota, what the
 * user's files (less the one replaced), kept partials and running
 * uploads leave (the transfer reserves it and may not pass it); with
 * --min-free, there must be more than that free now, and the writer
 * checks again before every block (xfer.c sink_write).
 */
static int
stream_space(struct sjob *j)
{
	uint64_t used, kept, avail;
	struct store_err e;
	size_t nkept;

	if (j->quota > 0) {
		if (store_usage(j->st, j->name, &used, &e) == -1 ||
		    store_partial_usage(j->st, j->pkey, &kept, &nkept, &e) ==
			-1) {
			sjob_reply(j, "ERROR IO %s\n", e.msg);
			return -1;
		}
		j->used = used + kept;
		if (j->used + j->inflight >= j->quota) {
			sjob_reply(j,
			    "ERROR QUOTA the quota of %" PRIu64
			    " bytes is used up (%" PRIu64 " used)\n",
			    j->quota, j->used + j->inflight);
			return -1;
		}
	}
	if (j->min_free > 0) {
		if (store_free_bytes(j->st, &avail, &e) == -1) {
			sjob_reply(j, "ERROR IO %s\n", e.msg);
			return -1;
		}
		if (avail <= j->min_free) {
			sjob_reply(j,
			    "ERROR NOSPACE less than %" PRIu64 " bytes free\n",
			    j->min_free);
			return -1;
		}
	}
	return 0;
}

/* The room a stream may fill under its quota, on the loop: what work()
 * found free, less what other uploads reserved since (nothing else
 * reserves between this and the transfer taking the reservation). */
static uint64_t
stream_room(const struct sjob *j)
{
	uint64_t now, taken;

	if (j->quota == 0)
		return FTX_MAX_FILE_SIZE;
	now = j->sess->ust != NULL ? j->sess->ust->inflight : 0;
	taken = j->used + (now > j->inflight ? now : j->inflight);
	if (taken >= j->quota)
		return 0;
	return j->quota - taken < FTX_MAX_FILE_SIZE ? j->quota - taken
						    : FTX_MAX_FILE_SIZE;
}

/* UPLOAD with offset= or with space limits: the checks before a token. */
static void
upload_work(struct sjob *j)
{
	if (j->stream) {
		if (stream_space(j) == -1)
			j->refused = 1;
		return;
	}
	if ((j->check_space && space_check(j) == -1) ||
	    (j->offset > 0 && partial_kept(j) == -1))
		j->refused = 1;
}

static void
upload_finish(struct sjob *j)
{
	if (j->refused) {
		sess_reply_raw(j->sess, buf_head(&j->reply), j->reply.len);
		return;
	}
	if (j->srv->stopping) {
		sess_reply(j->sess, "ERROR SHUTDOWN server stopping");
		return;
	}
	if (j->stream) {
		start_stream(
		    j->sess, j->name, j->mtime, stream_room(j), j->quota);
		return;
	}
	if (j->offset > j->kept) {
		sess_reply(j->sess,
		    "ERROR RANGE offset %" PRIu64 " beyond the %" PRIu64
		    " bytes kept",
		    j->offset, j->kept);
		return;
	}
	start_upload(
	    j->sess, j->name, j->size, j->offset, j->mtime, &j->reserved);
}

void
fop_download(struct session *s, struct proto_cmd *c)
{
	struct sjob_args a = {c->argv[0], 0, 0, 0, 0, -1, 0};

	if (check_name(s, c->argv[0]) == -1 ||
	    check_params(s, c, 1, &a.offset, NULL) == -1 || !can_transfer(s))
		return;
	submit(s, &a, download_work, download_finish);
}

/*
 * LIST.  A worker builds (or reuses) a snapshot of the FILE lines
 * (listing.c); the loop then sends "OK <n>" and the lines in pieces of
 * FTX_LIST_PIECE, each once the session's queue is below FTX_LIST_LOWAT
 * (fop_pump, called as the output drains), then DONE.  At most
 * FTX_LIST_JOBS snapshots are built at once; further LISTs wait here,
 * in order, and while the output budget is full a LIST that would need
 * a new snapshot waits too.  The queue belongs to the loop thread.
 */
static struct sjob_q list_q;
static int lists_running;

static void take_followers(struct sjob *j);
static void list_finish(struct sjob *j);

static void
list_start_next(struct ctx *srv)
{
	struct sjob *j;

	while (lists_running < FTX_LIST_JOBS && (j = list_q.head) != NULL) {
		if (j->sess != NULL) {
			listing_unref(j->cand);
			j->cand = listing_cached(j->st, loop_now_ms());
			/* SECURITY: a new snapshot only within the budget. */
			if (j->cand == NULL && sess_over_budget(&srv->sessions))
				return; /* retried by fop_tick */
		}
		(void)sjob_q_pop(&list_q);
		if (sjob_start_queued(j) == -1)
			continue;
		lists_running++;
		take_followers(j);
	}
}

/*
 * The LISTs of the same storage still waiting were all asked before
 * this job reads the directory, so its snapshot is a true answer to
 * them too: they leave the queue and share it.  (A LIST asked later
 * must not: it could miss a file committed before it was asked.)
 */
static void
take_followers(struct sjob *j)
{
	struct sjob **pp = &list_q.head, *k;

	list_q.tail = NULL;
	while ((k = *pp) != NULL) {
		if (k->st != j->st || k->sess == NULL) {
			list_q.tail = k;
			pp = &k->qnext;
			continue;
		}
		*pp = k->qnext;
		k->qnext = j->followers;
		j->followers = k;
	}
}

/* A follower gets its leader's snapshot (or error) as if its own job
 * had finished. */
static void
follow(struct sjob *lead, struct sjob *f)
{
	struct session *s = f->sess;

	if (s == NULL) {
		sjob_free(f);
		return;
	}
	if (lead->snap != NULL)
		f->snap = listing_ref(lead->snap);
	else if (buf_append(
		     &f->reply, buf_head(&lead->reply), lead->reply.len) == -1)
		(void)buf_printf(&f->reply, "ERROR INTERNAL out of memory\n");
	s->busy = NULL;
	list_finish(f);
	if (f->streaming)
		return; /* being sent: s->busy keeps it */
	sjob_free(f);
	if (s->srv->stopping && s->xfer == NULL)
		sess_close_after(s, "ERROR SHUTDOWN server stopping");
	else
		sess_resume(s);
}

static void
list_done(struct sjob *j)
{
	struct sjob *f;

	if (j->snap != NULL)
		listing_publish(j->st, j->snap, loop_now_ms());
	while ((f = j->followers) != NULL) {
		j->followers = f->qnext;
		f->qnext = NULL;
		follow(j, f);
	}
	lists_running--;
	list_start_next(j->srv);
}

static void
list_work(struct sjob *j)
{
	char err[FTX_ERRLEN];

	if ((j->snap = listing_get(j->st, j->cand, err, sizeof(err))) == NULL)
		sjob_reply(j, "ERROR IO %s\n", err);
	else if (j->snap == j->cand)
		j->cand = NULL; /* its reference moved to snap */
}

/* Queue pieces while the session's output is short; 1 when the whole
 * reply, DONE included, is queued. */
static int
list_pump(struct sjob *j)
{
	struct session *s = j->sess;
	size_t n;

	while (s->out.len < FTX_LIST_LOWAT && !s->closing) {
		n = listing_piece(j->snap, j->sent, FTX_LIST_PIECE);
		if (n == 0) {
			sess_reply(s, "DONE");
			return 1;
		}
		sess_reply_raw(s, listing_text(j->snap) + j->sent, n);
		j->sent += n;
	}
	return s->closing;
}

static void
list_finish(struct sjob *j)
{
	struct session *s = j->sess;

	if (j->snap == NULL) {
		sess_reply_raw(s, buf_head(&j->reply), j->reply.len);
		return;
	}
	listing_unref(j->cand); /* not current: a new one was built */
	j->cand = NULL;
	sess_reply(s, "OK %zu", listing_count(j->snap));
	if (list_pump(j) == 0) {
		j->streaming = 1;
		s->busy = j; /* kept until the last piece is queued */
	}
}

void
fop_pump(struct session *s)
{
	struct sjob *j = s->busy;

	if (j == NULL || !j->streaming || list_pump(j) == 0)
		return;
	s->busy = NULL;
	sjob_free(j);
	if (s->srv->stopping && s->xfer == NULL)
		sess_close_after(s, "ERROR SHUTDOWN server stopping");
}

size_t
fop_unsent(const struct session *s)
{
	const struct sjob *j = s->busy;

	return j != NULL && j->streaming ? listing_len(j->snap) - j->sent : 0;
}

size_t
fop_frees(const struct session *s)
{
	const struct sjob *j = s->busy;

	return j != NULL && j->streaming ? listing_frees(j->snap) : 0;
}

size_t
fop_held(void)
{
	return listing_bytes();
}

void
fop_tick(struct ctx *srv, long long now)
{
	listing_tick(now);
	list_start_next(srv); /* LISTs waiting for the budget */
}

void
fop_list(struct session *s, struct proto_cmd *c)
{
	struct sjob *j;

	(void)c;
	if ((j = sjob_new(s, list_work, list_finish, FTX_ERRLEN * 2)) == NULL) {
		sess_reply(s, "ERROR INTERNAL out of resources");
		return;
	}
	j->back = list_done;
	s->busy = j;
	sjob_q_push(&list_q, j);
	list_start_next(s->srv);
}

static void
delete_work(struct sjob *j)
{
	char enc[PROTO_ENC_NAME_MAX];
	struct store_err e;

	if (store_delete(j->st, j->name, &e) == -1) {
		sjob_reply_store(j, j->name, "file", &e);
		return;
	}
	log_msg(NULL, "delete name=%s", log_esc(enc, sizeof(enc), j->name));
	proto_encode_name(enc, j->name);
	sjob_reply(j, "OK deleted %s\n", enc);
}

void
fop_delete(struct session *s, struct proto_cmd *c)
{
	struct sjob_args a = {c->argv[0], 0, 0, 0, 0, -1, 0};

	if (check_name(s, c->argv[0]) == -1)
		return;
	submit(s, &a, delete_work, NULL);
}

static void
hash_work(struct sjob *j)
{
	char enc[PROTO_ENC_NAME_MAX];
	char hex[HASH_SHA256_HEXLEN + 1], md5hex[2 * HASH_MD5_LEN + 1];

	if (open_and_hash(j) != 0)
		return;
	str_copy(md5hex, sizeof(md5hex), "-");
	if (j->md5)
		str_hex(md5hex, j->md5sum, HASH_MD5_LEN);
	str_hex(hex, j->sha, HASH_SHA256_LEN);
	proto_encode_name(enc, j->name);
	sjob_reply(
	    j, "OK %" PRIu64 " %s %s %s\n", j->sb.size, hex, md5hex, enc);
}

static void
hash_finish(struct sjob *j)
{
	/* No whole-file hash is started once a stop has begun. */
	if (j->need_full && j->srv->stopping) {
		sess_reply(j->sess, "ERROR SHUTDOWN server stopping");
		return;
	}
	if (hash_gate(j))
		return;
	sess_reply_raw(j->sess, buf_head(&j->reply), j->reply.len);
}

void
fop_hash(struct session *s, struct proto_cmd *c)
{
	struct sjob_args a = {c->argv[0], 0, 0, 0, 0, -1, 0};

	if (check_name(s, c->argv[0]) == -1)
		return;
	if (c->argc == 2) {
		if (strcmp(c->argv[1], "md5") != 0) {
			sess_reply(s, "ERROR SYNTAX usage: HASH <path> [md5]");
			return;
		}
		a.md5 = 1;
	}
	submit(s, &a, hash_work, hash_finish);
}

/* MPUT and MGET: one data connection for many files (batch.c). */
static void
start_batch(struct session *s, int put)
{
	struct xfer_offer o;

	if (!can_transfer(s))
		return;
	if (xfer_batch(s, put, xfer_ended, &o) == -1)
		sess_reply(s, "ERROR %s %s", ftxerr_name(o.err), o.why);
	else
		sess_reply(s, "OK %d %s%s%s", o.port, o.token,
		    host_prefix(s->srv), s->srv->cfg.public_host);
	explicit_bzero(o.token, sizeof(o.token));
}

void
fop_mput(struct session *s, struct proto_cmd *c)
{
	(void)c;
	start_batch(s, 1);
}

void
fop_mget(struct session *s, struct proto_cmd *c)
{
	(void)c;
	start_batch(s, 0);
}

/*
 * xfer.c - transfers: pending until dconn.c hands over their data
 * connection, then run on the transfer lane.  See xfer.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "batch.h"
#include "ctx.h"
#include "dconn.h"
#include "dlist.h"
#include "hpipe.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "pace.h"
#include "proto.h"
#include "session.h"
#include "store.h"
#include "str.h"
#include "rate.h"
#include "tls.h"
#include "token.h"
#include "worker.h"
#include "xfer.h"

enum xstate { X_PENDING, X_RUNNING };

struct xfer {
	struct job job; /* must be first */
	struct ctx *srv;
	struct session *sess; /* NULL once the control session closed */
	xfer_done_fn *done; /* tells sess how it ended */
	const struct store *st; /* the session's storage */
	struct ustore *ust; /* keeps `st` open; counts the quota reserve */
	uint64_t reserved; /* upload bytes counted in ust->inflight */
	enum xstate state;
	int upload;
	int batch; /* MPUT (upload too) or MGET: many files, batch.c */
	int stream; /* UPLOAD <path> *: chunks of unknown total */
	uint64_t limit; /* stream: the bytes it may take */
	uint64_t quota, min_free; /* MPUT: checked per file; stream too */
	uint64_t inflight0; /* MPUT: the user's uploads running at its start */
	uint64_t files; /* MPUT: committed; MGET: sent */
	char owner[FTX_USER_MAX + 80]; /* names the uploader: partial keys */
	char name[FTX_RPATH_MAX + 1]; /* a path */
	uint64_t size; /* the whole file */
	uint64_t offset; /* resume: bytes before this are not sent */
	time_t mtime; /* upload: the stored file's, or -1 */
	char pkey[STORE_PKEY_LEN]; /* upload: its partial file */
	struct dconn_want want; /* token, control peer, TLS binding */
	char peerstr[64];
	struct store_file *file; /* download: the open file */
	struct store_part *part; /* upload: its partial, while running */
	struct store_err serr; /* upload: the writer's failure */
	int data_fd;
	struct tls *tls; /* the data connection's TLS, or NULL */
	struct rate rate; /* --max-rate */
	uint64_t max_rate;
	struct pace pace; /* --min-rate and --data-timeout */
	long long next_check_ms; /* the watchdog is asked at most 1/s */
	uint64_t min_rate;
	int min_rate_window;
	size_t max_partials; /* --max-partials */
	size_t iosize;
	int timeout;
	char user[FTX_USER_MAX + 1]; /* an account's name, else "" */
	unsigned char sha[HASH_SHA256_LEN];
	/* Results, written by the worker. */
	enum ftx_err code; /* FTXE_OK on success */
	char err[FTX_ERRLEN];
	uint64_t bytes;
	long long start_ms, end_ms;
	struct xfer *prev, *next;
};

static void xfer_run(struct job *job);
static void xfer_done(struct job *job);
static void xfer_claim(void *arg, int fd, struct tls *tls);

/* The account whose transfers count against --max-transfers-per-user:
 * a logged-in user; not anonymous users (one shared name: the per-IP
 * cap covers them) nor sessions of a server without accounts. */
static const char *
account_of(const struct session *s)
{
	if (s->user[0] == '\0' || strcmp(s->user, FTX_ANON_USER) == 0)
		return NULL;
	return s->user;
}

int
xfer_admit(const struct session *s, char *why, size_t whylen)
{
	const struct ctx *srv = s->srv;
	const char *user = account_of(s);
	const struct xfer *x;
	int all = 0, ip = 0, mine = 0;

	for (x = srv->xfers; x != NULL; x = x->next) {
		all++;
		ip += net_same_ip(&x->want.ctl_peer, &s->peer);
		mine += user != NULL && strcmp(x->user, user) == 0;
	}
	/* SECURITY: every transfer holds a thread of the transfer lane
	 * while it runs; the caps keep one address or one account from
	 * taking them all, and the total bounds the lane.  Refused at
	 * once, so a client is told instead of left waiting. */
	if (all >= srv->cfg.max_transfers)
		return str_err(why, whylen,
		    "server has %d transfers running; try again later", all);
	if (ip >= srv->cfg.max_transfers_per_ip)
		return str_err(why, whylen,
		    "%d transfers from your address already; try again later",
		    ip);
	if (user != NULL && mine >= srv->cfg.max_transfers_per_user)
		return str_err(why, whylen,
		    "%d transfers of user %s already; try again later", mine,
		    user);
	return 0;
}

static struct xfer *
xfer_new(struct session *s, int upload, const char *name, uint64_t size,
    uint64_t *reserved, xfer_done_fn *done)
{
	struct ctx *srv = s->srv;
	char err[FTX_ERRLEN];
	struct xfer *x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	if (token_new(&x->want.tok, err, sizeof(err)) == -1) {
		log_msg(s->peerstr, "token: %s", err);
		free(x);
		return NULL;
	}
	x->job.run = xfer_run;
	x->job.done = xfer_done;
	x->srv = srv;
	x->sess = s;
	x->done = done;
	x->state = X_PENDING;
	x->upload = upload;
	if (str_copy(x->name, sizeof(x->name), name) == -1)
		abort(); /* checked by path_check */
	x->size = size;
	x->want.issued_ms = loop_now_ms();
	x->want.ctl_peer = s->peer;
	str_copy(x->peerstr, sizeof(x->peerstr), s->peerstr);
	x->data_fd = -1;
	x->iosize = (size_t)srv->cfg.chunk * FTX_CHUNKS_PER_IO;
	x->timeout = srv->cfg.data_timeout;
	x->max_rate = srv->cfg.max_rate;
	x->min_rate = srv->cfg.min_rate;
	x->min_rate_window = srv->cfg.min_rate_window;
	x->max_partials = (size_t)srv->cfg.max_partials;
	if (account_of(s) != NULL)
		(void)str_copy(x->user, sizeof(x->user), s->user);
	x->st = auth_store(s);
	x->ust = auth_ref(s->ust);
	/* The quota reservation: taken over from the command that checked
	 * the quota, or made now. */
	if (upload && x->ust != NULL) {
		if (reserved != NULL && *reserved > 0) {
			x->reserved = *reserved;
			*reserved = 0;
		} else {
			x->reserved = size;
			x->ust->inflight += size;
		}
	}
	x->want.need_tls = s->tls_state == STLS_ON;
	memcpy(x->want.tls_id, s->tls_id, sizeof(x->want.tls_id));
	x->want.claim = xfer_claim;
	x->want.arg = x;
	DLIST_LINK(srv->xfers, x);
	dconn_await(srv, &x->want);
	s->xfer = x;
	return x;
}

static void
xfer_free(struct xfer *x)
{
	DLIST_UNLINK(x->srv->xfers, x);
	if (x->sess != NULL)
		x->sess->xfer = NULL;
	store_read_close(x->file);
	if (x->tls != NULL)
		tls_free(x->tls);
	if (x->data_fd != -1)
		close(x->data_fd);
	if (x->ust != NULL)
		x->ust->inflight -= x->reserved;
	auth_unref(x->srv, x->ust);
	dconn_cancel(x->srv, &x->want);
	token_clear(&x->want.tok);
	explicit_bzero(x->want.tls_id, sizeof(x->want.tls_id));
	free(x);
}

/* The uploader that partial keys name: the user; without accounts (and
 * for anonymous users, who share one name) the IP address. */
static void
owner_of(const struct session *s, char *owner, size_t n)
{
	char ip[64];

	net_ip_str(&s->peer, ip, sizeof(ip));
	if (s->user[0] == '\0')
		(void)str_copy(owner, n, ip);
	else if (strcmp(s->user, FTX_ANON_USER) == 0)
		(void)str_fmt(owner, n, "anonymous@%s", ip);
	else
		(void)str_fmt(owner, n, "user:%s", s->user);
}

void
xfer_partial_key(
    const struct session *s, const char *name, uint64_t size, char *key)
{
	char owner[FTX_USER_MAX + 80];

	owner_of(s, owner, sizeof(owner));
	store_partial_key(key, owner, name, size);
}

/* A transfer for the session, or NULL and o->err, o->why say why. */
static struct xfer *
offer(struct session *s, int upload, const char *name, uint64_t size,
    uint64_t *reserved, xfer_done_fn *done, struct xfer_offer *o)
{
	struct xfer *x;

	memset(o, 0, sizeof(*o));
	/* Checked again here, on the loop: between the command's check and
	 * now, other sessions' jobs may have started transfers. */
	if (xfer_admit(s, o->why, sizeof(o->why)) == -1) {
		o->err = FTXE_BUSY;
		return NULL;
	}
	if ((x = xfer_new(s, upload, name, size, reserved, done)) == NULL) {
		o->err = FTXE_INTERNAL;
		(void)str_copy(o->why, sizeof(o->why), "cannot start transfer");
		return NULL;
	}
	o->port = dconn_next_port(s->srv);
	token_hex(&x->want.tok, o->token);
	return x;
}

int
xfer_upload(struct session *s, const char *name, uint64_t size, uint64_t offset,
    time_t mtime, uint64_t *reserved, xfer_done_fn *done, struct xfer_offer *o)
{
	struct xfer *x;

	if ((x = offer(s, 1, name, size, reserved, done, o)) == NULL)
		return -1;
	x->offset = offset;
	x->mtime = mtime;
	xfer_partial_key(s, name, size, x->pkey);
	return 0;
}

int
xfer_upload_stream(struct session *s, const char *name, time_t mtime,
    uint64_t limit, uint64_t quota, xfer_done_fn *done, struct xfer_offer *o)
{
	uint64_t r = 0;
	struct xfer *x;

	/* The room is reserved here, on the loop, where the caller measured
	 * it; xfer_new takes the reservation over. */
	if (quota > 0 && s->ust != NULL && limit > 0) {
		r = limit;
		s->ust->inflight += r;
	}
	if ((x = offer(s, 1, name, 0, &r, done, o)) == NULL) {
		if (r > 0)
			s->ust->inflight -= r;
		return -1;
	}
	x->stream = 1;
	x->limit = limit;
	x->quota = quota;
	x->min_free = s->srv->cfg.min_free;
	x->mtime = mtime;
	xfer_partial_key(s, name, XFER_STREAM_KEY, x->pkey);
	return 0;
}

int
xfer_download(struct session *s, const char *name, struct store_file *f,
    uint64_t size, const unsigned char *sha, uint64_t offset,
    xfer_done_fn *done, struct xfer_offer *o)
{
	struct xfer *x;

	if ((x = offer(s, 0, name, size, NULL, done, o)) == NULL) {
		store_read_close(f);
		return -1;
	}
	x->file = f;
	x->offset = offset;
	memcpy(x->sha, sha, sizeof(x->sha));
	return 0;
}

int
xfer_batch(struct session *s, int put, xfer_done_fn *done, struct xfer_offer *o)
{
	const struct xfer *y;
	struct xfer *x;

	/* SECURITY: under a quota, one MPUT of a user at a time: each
	 * checks its files against the usage it saw at its start, so two
	 * at once could each fill the same free space. */
	for (y = s->srv->xfers; put && s->quota > 0 && y != NULL; y = y->next)
		if (y->batch && y->upload && y->ust == s->ust) {
			memset(o, 0, sizeof(*o));
			o->err = FTXE_BUSY;
			(void)str_copy(o->why, sizeof(o->why),
			    "one batch upload at a time under a quota");
			return -1;
		}
	if ((x = offer(s, put, "-", 0, NULL, done, o)) == NULL)
		return -1;
	x->batch = 1;
	x->quota = s->quota;
	/* Uploads running now are counted (their bytes are not on disk
	 * yet); ones that start later see this batch's partials. */
	x->inflight0 = s->ust != NULL ? s->ust->inflight : 0;
	x->min_free = s->srv->cfg.min_free;
	owner_of(s, x->owner, sizeof(x->owner));
	return 0;
}

void
xfer_session_gone(struct xfer *x)
{
	x->sess = NULL;
	if (x->state == X_PENDING)
		xfer_free(x);
	/* A running transfer finishes on its worker; xfer_done frees it. */
}

int
xfer_running(const struct ctx *srv)
{
	const struct xfer *x;
	int n = 0;

	for (x = srv->xfers; x != NULL; x = x->next)
		n += x->state == X_RUNNING;
	return n;
}

int
xfer_pending(const struct ctx *srv)
{
	const struct xfer *x;
	int n = 0;

	for (x = srv->xfers; x != NULL; x = x->next)
		n += x->state == X_PENDING;
	return n;
}

void
xfer_count_user(
    const struct ctx *srv, const struct ustore *u, int *running, int *pending)
{
	const struct xfer *x;

	*running = *pending = 0;
	for (x = srv->xfers; x != NULL; x = x->next) {
		if (x->ust != u)
			continue;
		*running += x->state == X_RUNNING;
		*pending += x->state == X_PENDING;
	}
}

/* --- worker side ------------------------------------------------------ */

static void fail(struct xfer *x, enum ftx_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
fail(struct xfer *x, enum ftx_err code, const char *fmt, ...)
{
	va_list ap;

	x->code = code;
	va_start(ap, fmt);
	(void)str_vfmt(x->err, sizeof(x->err), fmt, ap);
	va_end(ap);
}

/*
 * SECURITY: a transfer holds a thread, so it must keep moving: no byte
 * for --data-timeout seconds, or less than --min-rate bytes per second
 * over the last --min-rate-window seconds, ends it with TIMEOUT (an
 * upload keeps its partial for a resume).  Blocking calls wake every
 * FTX_XFER_SLICE_S, so a peer that sends nothing is seen as well.
 * Called with the bytes just moved (0 after a wake-up without any);
 * 0 to go on, -1 (errno ETIMEDOUT) with the failure recorded.
 */
static int
progress(struct xfer *x, size_t n)
{
	long long now = pace_now_ms();

	pace_add(&x->pace, n, now);
	if (now < x->next_check_ms)
		return 0;
	x->next_check_ms = now + 1000;
	switch (pace_check(&x->pace, now)) {
	case PACE_OK:
		return 0;
	case PACE_STALLED:
		fail(x, FTXE_TIMEOUT,
		    "data connection stalled: no data for %d s", x->timeout);
		break;
	case PACE_SLOW:
		fail(x, FTXE_TIMEOUT,
		    "transfer too slow: %" PRIu64 " bytes in %d s, below the "
		    "minimum of %" PRIu64 " bytes/s",
		    pace_window_bytes(&x->pace, now), x->min_rate_window,
		    x->min_rate);
		break;
	}
	errno = ETIMEDOUT;
	return -1;
}

/* (Re)start the watchdog's clock: from now on the peer must keep up. */
static void
watch_start(struct xfer *x)
{
	pace_init(&x->pace, x->min_rate, x->min_rate_window, x->timeout,
	    pace_now_ms());
	x->next_check_ms = 0;
}

/* A blocking call returned -1: 0 to call it again (interrupted, or the
 * slice ran out and the transfer may go on), -1 to give up. */
static int
again(struct xfer *x)
{
	if (errno == EINTR)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return progress(x, 0);
	return -1;
}

/* Receive exactly n bytes unless the peer stops: 0 when all came, else
 * -1 with errno from the failing recv (0 at EOF); *got counts bytes. */
static int
recv_full(struct xfer *x, unsigned char *p, size_t n, size_t *got)
{
	size_t want;
	ssize_t r;

	*got = 0;
	while (*got < n) {
		want = rate_chunk(&x->rate, n - *got);
		if (x->tls != NULL)
			r = tls_read(x->tls, p + *got, want);
		else
			r = recv(x->data_fd, p + *got, want, MSG_WAITALL);
		if (r == 0) {
			errno = 0;
			return -1;
		}
		if (r == -1) {
			if (again(x) == 0)
				continue;
			return -1;
		}
		*got += (size_t)r;
		rate_wait(&x->rate, (size_t)r);
		if (progress(x, (size_t)r) == -1)
			return -1;
	}
	return 0;
}

/* A hashing or writing stage failed: the store said why (x->serr),
 * else hashing did. */
static int
stage_fail(struct xfer *x)
{
	if (x->serr.code != STORE_OK)
		fail(x, store_code_err(x->serr.code), "cannot store upload: %s",
		    x->serr.msg);
	else
		fail(x, FTXE_IO, "cannot store upload: hashing failed");
	return -1;
}

/* hpipe's sink: the partial.  On the pipe's writer thread; the error
 * is read only after the pipe has failed or finished, which orders it. */
static int
sink_write(void *arg, const void *b, size_t len, uint64_t off)
{
	struct xfer *x = arg;
	uint64_t avail;

	/* SECURITY: a stream's size was not known when it was admitted,
	 * so --min-free is checked before every block it writes. */
	if (x->stream && x->min_free > 0) {
		if (store_free_bytes(x->st, &avail, &x->serr) == -1)
			return EIO;
		if (avail < len || avail - len < x->min_free) {
			(void)store_fail(&x->serr, STORE_NOSPACE,
			    "the upload would leave less than %" PRIu64
			    " bytes free",
			    x->min_free);
			return ENOSPC;
		}
	}
	if (store_part_write_at(x->part, b, len, off, &x->serr) == -1)
		return EIO;
	return 0;
}

static ssize_t
sink_read(void *arg, void *b, size_t len, uint64_t off)
{
	struct xfer *x = arg;
	ssize_t n;

	if ((n = store_part_read_at(x->part, b, len, off, &x->serr)) == -1)
		errno = EIO;
	return n;
}

static void
recv_fail(struct xfer *x)
{
	/* A wait that ran out never gets here: again() retries it or the
	 * watchdog (progress) has already recorded the TIMEOUT. */
	if (x->code != FTXE_OK)
		return;
	if (errno == EPROTO && x->tls != NULL)
		fail(x, FTXE_SHORT, "%s", tls_strerror(x->tls));
	else
		fail(x, FTXE_SHORT, "data connection closed early");
}

/* Stream the upload into the temporary: hpipe hashes and writes it on
 * two helper threads while this one receives. */
static int
upload_stream(struct xfer *x, struct hpipe *hp)
{
	uint64_t left = x->size - x->offset;
	unsigned char *b;
	size_t want, got;
	int saved;

	while (left > 0) {
		if ((b = hpipe_acquire(hp)) == NULL)
			return stage_fail(x);
		want = left < x->iosize ? (size_t)left : x->iosize;
		if (recv_full(x, b, want, &got) == -1) {
			/* Keep what did arrive: a resume starts after it. */
			saved = errno;
			if (got > 0 && hpipe_submit(hp, got) == 0)
				x->bytes += got;
			errno = saved;
			recv_fail(x);
			return -1;
		}
		if (hpipe_submit(hp, want) == -1)
			return stage_fail(x);
		left -= want;
		x->bytes += want;
	}
	return 0;
}

/* Open the partial and start the pipe, hashing what the partial keeps
 * before `offset` so the digest covers the whole file. */
static struct hpipe *
upload_open(struct xfer *x)
{
	struct hpipe_io io = {sink_write, sink_read, x};
	unsigned char state[HASH_STATE_LEN];
	char err[FTX_ERRLEN];
	struct hpipe *hp;
	struct store_err e;

	if (store_part_open(x->st, x->pkey, x->offset, &x->part, &e) == -1) {
		fail(x, store_code_err(e.code), "%s", e.msg);
		return NULL;
	}
	hp = hpipe_new(x->iosize,
	    x->stream || x->size - x->offset >= FTX_PIPE_THREAD_MIN, &io, err,
	    sizeof(err));
	if (hp == NULL) {
		fail(x, FTXE_INTERNAL, "%s", err);
		return NULL;
	}
	store_part_hint(x->part, x->name, x->stream ? NULL : x->sha, x->mtime);
	/* A resume continues the hash from the state the store carried
	 * (object storage cannot read back what it took), else from the
	 * kept bytes read again. */
	if (x->offset > 0 &&
	    (store_part_hash_state(x->part, state) == 0
		    ? hpipe_prime_state(hp, x->offset, state, err, sizeof(err))
		    : hpipe_prime(hp, x->offset, err, sizeof(err))) == -1) {
		fail(x, FTXE_IO, "cannot read the partial upload: %s", err);
		hpipe_free(hp);
		return NULL;
	}
	return hp;
}

static int
resumable(enum ftx_err code)
{
	return code == FTXE_SHORT || code == FTXE_TIMEOUT;
}

/*
 * An upload streams into its partial file.  What happens to the partial
 * depends on how the transfer ends: committed when verified; kept when
 * the connection broke (the client may resume); deleted otherwise.
 */
static void
upload_run(struct xfer *x)
{
	unsigned char theirs[HASH_SHA256_LEN];
	struct store_err e;
	struct hpipe *hp;
	size_t got;

	/* Failing to open (BUSY, RANGE) leaves the partial alone: another
	 * transfer may be using it. */
	if ((hp = upload_open(x)) == NULL) {
		store_part_close(x->part, 1);
		x->part = NULL;
		return;
	}
	/* Hashing a large kept partial (a resume) is our time, not the
	 * peer's: the watchdog starts when we are ready to receive. */
	watch_start(x);
	if (upload_stream(x, hp) == -1)
		goto out;
	if (recv_full(x, theirs, sizeof(theirs), &got) == -1) {
		recv_fail(x);
		goto out;
	}
	if (hpipe_finish(hp, x->sha) == -1) {
		stage_fail(x);
		goto out;
	}
	/* SECURITY: nothing is committed unless both hashes agree. */
	if (CRYPTO_memcmp(theirs, x->sha, sizeof(theirs)) != 0) {
		fail(x, FTXE_INTEGRITY, "sha256 mismatch: upload discarded");
		goto out;
	}
	if (store_part_commit(x->part, x->name, x->sha, x->mtime, 0, &e) ==
	    -1) {
		fail(x, store_code_err(e.code), "%s", e.msg);
		goto out;
	}
out:
	/* A kept partial gets every byte that arrived, in order. */
	if (x->code != FTXE_OK && resumable(x->code))
		(void)hpipe_finish(hp, theirs);
	hpipe_free(hp);
	/* Only a broken-off transfer is worth resuming; bad bytes (INTEGRITY),
	 * a failing disk (IO) or an uncommittable name are dropped. */
	store_part_close(x->part, x->code != FTXE_OK && resumable(x->code));
	x->part = NULL;
	/* A kept partial may push its uploader past --max-partials. */
	if (x->code != FTXE_OK && resumable(x->code))
		(void)store_partial_trim(
		    x->st, x->pkey, x->max_partials - 1, UINT64_MAX);
}

/* Big-endian integers of the stream framing. */
static uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
get_be64(const unsigned char *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/*
 * SECURITY: a chunk's length is checked before any of its bytes are
 * read: 1..FTX_STREAM_CHUNK_MAX (else SYNTAX), and the stream may not
 * pass its limit: FTX_MAX_FILE_SIZE (TOOBIG), or the room its quota
 * left (QUOTA).  0 to read the chunk, -1 with the failure recorded.
 */
static int
stream_admit(struct xfer *x, uint32_t len)
{
	if (len > FTX_STREAM_CHUNK_MAX) {
		fail(x, FTXE_SYNTAX,
		    "stream chunk of %" PRIu32 " bytes (at most %d): "
		    "upload discarded",
		    len, FTX_STREAM_CHUNK_MAX);
		return -1;
	}
	if (len <= x->limit - x->bytes)
		return 0;
	if (x->quota > 0 && x->limit < FTX_MAX_FILE_SIZE)
		fail(x, FTXE_QUOTA,
		    "upload would exceed the quota of %" PRIu64
		    " bytes: upload discarded",
		    x->quota);
	else
		fail(x, FTXE_TOOBIG,
		    "upload above %llu bytes: upload discarded",
		    (unsigned long long)FTX_MAX_FILE_SIZE);
	return -1;
}

/* One chunk of `len` bytes into the pipe's buffers, each filled up to
 * x->iosize before it is submitted; *b and *fill carry the buffer being
 * filled from chunk to chunk.  0, or -1 with the failure recorded. */
static int
stream_chunk(struct xfer *x, struct hpipe *hp, uint32_t len, unsigned char **b,
    size_t *fill)
{
	size_t n, got;

	while (len > 0) {
		if (*b == NULL && (*b = hpipe_acquire(hp)) == NULL)
			return stage_fail(x);
		n = x->iosize - *fill < len ? x->iosize - *fill : len;
		if (recv_full(x, *b + *fill, n, &got) == -1) {
			recv_fail(x);
			return -1;
		}
		*fill += n;
		len -= (uint32_t)n;
		x->bytes += n;
		if (*fill == x->iosize) {
			*b = NULL;
			*fill = 0;
			if (hpipe_submit(hp, x->iosize) == -1)
				return stage_fail(x);
		}
	}
	return 0;
}

/* Receive the chunks up to the end marker (length 0); `tail` then
 * holds the total and the digest that follow it.  0, or -1 with the
 * failure recorded. */
static int
stream_recv(struct xfer *x, struct hpipe *hp, unsigned char *tail)
{
	unsigned char hdr[4], *b = NULL;
	size_t fill = 0, got;
	uint32_t len;

	for (;;) {
		if (recv_full(x, hdr, sizeof(hdr), &got) == -1) {
			recv_fail(x);
			return -1;
		}
		if ((len = get_be32(hdr)) == 0)
			break;
		if (stream_admit(x, len) == -1 ||
		    stream_chunk(x, hp, len, &b, &fill) == -1)
			return -1;
	}
	if (fill > 0 && hpipe_submit(hp, fill) == -1)
		return stage_fail(x);
	if (recv_full(x, tail, 8 + HASH_SHA256_LEN, &got) == -1) {
		recv_fail(x);
		return -1;
	}
	return 0;
}

/*
 * A streamed upload: chunks until the end marker, then the total and
 * the SHA-256.  Its partial is never kept (a stream cannot be resumed:
 * a closed connection is not an end of file, and its size is not known
 * to key a partial by), so any failure deletes it; it is committed only
 * when the total and the digest agree with what arrived.
 */
static void
stream_run(struct xfer *x)
{
	unsigned char tail[8 + HASH_SHA256_LEN];
	struct store_err e;
	struct hpipe *hp;
	uint64_t total;

	if ((hp = upload_open(x)) == NULL) {
		store_part_close(x->part, 0);
		x->part = NULL;
		return;
	}
	watch_start(x);
	if (stream_recv(x, hp, tail) == -1)
		goto out;
	if (hpipe_finish(hp, x->sha) == -1) {
		stage_fail(x);
		goto out;
	}
	if ((total = get_be64(tail)) != x->bytes) {
		fail(x, FTXE_INTEGRITY,
		    "stream total %" PRIu64 " bytes, but %" PRIu64
		    " arrived: upload discarded",
		    total, x->bytes);
		goto out;
	}
	/* SECURITY: nothing is committed unless both hashes agree. */
	if (CRYPTO_memcmp(tail + 8, x->sha, HASH_SHA256_LEN) != 0) {
		fail(x, FTXE_INTEGRITY, "sha256 mismatch: upload discarded");
		goto out;
	}
	if (store_part_commit(x->part, x->name, x->sha, x->mtime, 0, &e) == -1)
		fail(x, store_code_err(e.code), "%s", e.msg);
out:
	hpipe_free(hp);
	store_part_close(x->part, 0);
	x->part = NULL;
}

/* The failure of a send (sendfile or TLS) in a download. */
static void
send_fail(struct xfer *x)
{
	if (x->code != FTXE_OK)
		return; /* the watchdog said why (see recv_fail) */
	if (errno == EPIPE || errno == ECONNRESET)
		fail(x, FTXE_SHORT, "data connection closed early");
	else if (errno == EPROTO && x->tls != NULL)
		fail(x, FTXE_SHORT, "%s", tls_strerror(x->tls));
	else
		fail(x, FTXE_IO, "send: %s", strerror(errno));
}

/* Plaintext: the kernel copies file pages to the socket (sendfile). */
static void
download_plain(struct xfer *x)
{
	off_t off = (off_t)x->offset;
	size_t want;
	ssize_t n;

	while ((uint64_t)off < x->size) {
		want = x->size - (uint64_t)off < x->iosize
		    ? (size_t)(x->size - (uint64_t)off)
		    : x->iosize;
		want = rate_chunk(&x->rate, want);
		n = sendfile(x->data_fd, store_read_fd(x->file), &off, want);
		if (n > 0) {
			rate_wait(&x->rate, (size_t)n);
			if (progress(x, (size_t)n) == 0)
				continue;
			send_fail(x);
			break;
		}
		if (n == -1 && again(x) == 0)
			continue;
		if (n == 0)
			fail(x, FTXE_IO, "file shrank while being sent");
		else
			send_fail(x);
		break;
	}
	x->bytes = (uint64_t)off - x->offset;
}

/* All of p[0..n) over the data connection (TLS or not), under the
 * watchdog; 0 or -1. */
static int
send_all(struct xfer *x, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = x->tls != NULL ? tls_write(x->tls, p, n)
				   : send(x->data_fd, p, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (again(x) == 0)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		if (progress(x, (size_t)w) == -1)
			return -1;
	}
	return 0;
}

/* TLS, or a backend without a descriptor: read and send in user space,
 * x->iosize at a time. */
static void
download_copy(struct xfer *x)
{
	uint64_t off = x->offset;
	struct store_err e;
	unsigned char *b;
	size_t want;
	ssize_t n;

	if ((b = malloc(x->iosize)) == NULL) {
		fail(x, FTXE_INTERNAL, "out of memory");
		return;
	}
	while (off < x->size) {
		want = x->size - off < x->iosize ? (size_t)(x->size - off)
						 : x->iosize;
		want = rate_chunk(&x->rate, want);
		n = store_read_at(x->file, b, want, off, &e);
		if (n <= 0) {
			if (n == 0)
				fail(
				    x, FTXE_IO, "file shrank while being sent");
			else
				fail(x, FTXE_IO, "%s", e.msg);
			break;
		}
		if (send_all(x, b, (size_t)n) == -1) {
			send_fail(x);
			break;
		}
		off += (uint64_t)n;
		rate_wait(&x->rate, (size_t)n);
	}
	free(b);
	x->bytes = off - x->offset;
	if (x->code == FTXE_OK && x->tls != NULL)
		tls_shutdown(x->tls);
}

static void
download_run(struct xfer *x)
{
	/* The sendfile fast path needs plaintext and a descriptor. */
	if (x->tls == NULL && store_read_fd(x->file) != -1)
		download_plain(x);
	else
		download_copy(x);
	(void)shutdown(x->data_fd, SHUT_WR);
}

/* batch.c's view of the data connection. */
static ssize_t
bio_recv(void *arg, void *p, size_t n)
{
	struct xfer *x = arg;
	ssize_t r;

	for (;;) {
		n = rate_chunk(&x->rate, n);
		if (x->tls != NULL)
			r = tls_read(x->tls, p, n);
		else
			r = recv(x->data_fd, p, n, 0);
		if (r > 0) {
			rate_wait(&x->rate, (size_t)r);
			return progress(x, (size_t)r) == -1 ? -1 : r;
		}
		if (r == 0 || again(x) == -1)
			return r;
	}
}

static int
bio_send(void *arg, const void *p, size_t n)
{
	struct xfer *x = arg;
	size_t k;

	while (n > 0) {
		k = rate_chunk(&x->rate, n);
		if (send_all(x, p, k) == -1)
			return -1;
		rate_wait(&x->rate, k);
		p = (const unsigned char *)p + k;
		n -= k;
	}
	return 0;
}

static int
bio_send_fd(void *arg, int fd, uint64_t off, uint64_t n)
{
	struct xfer *x = arg;
	off_t o = (off_t)off;
	size_t want;
	ssize_t w;

	while ((uint64_t)o < off + n) {
		want = off + n - (uint64_t)o < x->iosize
		    ? (size_t)(off + n - (uint64_t)o)
		    : x->iosize;
		want = rate_chunk(&x->rate, want);
		w = sendfile(x->data_fd, fd, &o, want);
		if (w > 0) {
			rate_wait(&x->rate, (size_t)w);
			if (progress(x, (size_t)w) == -1)
				return -1;
			continue;
		}
		if (w == -1 && again(x) == 0)
			continue;
		if (w == 0)
			errno = EIO; /* the file shrank */
		return -1;
	}
	return 0;
}

/* MPUT or MGET: batch.c runs the frames; the watchdog's verdict (in
 * x->code) wins over what the batch saw of it. */
static void
batch_run(struct xfer *x)
{
	struct batch_io io = {x, bio_recv, bio_send, NULL};
	struct batch_cfg c;
	struct batch_result r;

	memset(&c, 0, sizeof(c));
	c.st = x->st;
	c.owner = x->owner;
	c.quota = x->quota;
	c.inflight = x->inflight0;
	c.min_free = x->min_free;
	c.iosize = x->iosize;
	if (x->tls == NULL)
		io.send_fd = bio_send_fd;
	if (x->upload)
		batch_put(&c, &io, &r);
	else
		batch_get(&c, &io, &r);
	x->bytes = r.bytes;
	x->files = r.files;
	if (r.err != FTXE_OK && x->code == FTXE_OK)
		fail(x, r.err, "%s", r.text);
	else if (x->tls != NULL)
		tls_shutdown(x->tls);
	(void)shutdown(x->data_fd, SHUT_WR);
}

static void
xfer_run(struct job *job)
{
	struct xfer *x = (struct xfer *)job;

	x->start_ms = loop_now_ms();
	rate_init(&x->rate, x->max_rate, rate_now());
	watch_start(x);
	if (net_set_timeouts(x->data_fd, FTX_XFER_SLICE_S) == -1) {
		fail(x, FTXE_INTERNAL, "setsockopt: %s", strerror(errno));
	} else if (x->batch) {
		batch_run(x);
	} else if (x->stream) {
		stream_run(x);
	} else if (x->upload) {
		upload_run(x);
	} else {
		download_run(x);
	}
	x->end_ms = loop_now_ms();
}

/* --- loop side -------------------------------------------------------- */

/*
 * One xferlog(5) line: current-time transfer-time remote-host file-size
 * filename transfer-type special-action-flag direction access-mode
 * username service-name authentication-method authenticated-user-id
 * completion-status.  The file name is escaped by log_esc() under
 * "/" (the storage root), so it is one field without spaces.  Access is
 * "r" with the account's name (users_name_check: one word, no escaping
 * needed), else "a" (anonymous) with user "-": anonymous sessions and
 * servers without accounts.
 */
static void
xferlog_write(const struct xfer *x, const char *enc)
{
	char line[FTX_LINE_MAX], when[32], ip[64];
	time_t now = time(NULL);
	long long secs = (x->end_ms - x->start_ms + 500) / 1000;
	struct tm tm;

	if (!log_xfer_enabled())
		return;
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		return;
	net_ip_str(&x->want.ctl_peer, ip, sizeof(ip));
	if (str_fmt(line, sizeof(line),
		"%s %lld %s %" PRIu64 " /%s b _ %c %c %s ftx 0 * %c", when,
		secs < 0 ? 0 : secs, ip, x->bytes, enc, x->upload ? 'i' : 'o',
		x->user[0] != '\0' ? 'r' : 'a',
		x->user[0] != '\0' ? x->user : "-",
		x->code == FTXE_OK ? 'c' : 'i') == 0)
		log_xfer(line);
}

/* Counters for STATS, from a finished transfer. */
static void
count_xfer(struct ctx *srv, const struct xfer *x)
{
	if (x->code == FTXE_OK)
		srv->stats.xfers_ok++;
	else
		srv->stats.xfers_failed++;
	if (x->upload)
		srv->stats.bytes_in += x->bytes;
	else
		srv->stats.bytes_out += x->bytes;
	auth_count_xfer(x->ust, x->upload, x->code == FTXE_OK, x->bytes);
}

/*
 * The end of a transfer: free it, then tell its session (if it is still
 * there) through the done callback.  `code` and `text` override what
 * the transfer recorded (an expired token, a stop).
 */
static void
finish(struct xfer *x, enum ftx_err code, const char *text)
{
	struct session *s = x->sess;
	xfer_done_fn *done = x->done;
	struct xfer_result r;

	memset(&r, 0, sizeof(r));
	r.err = code;
	(void)str_copy(r.text, sizeof(r.text), text);
	r.upload = x->upload;
	r.batch = x->batch;
	r.files = x->files;
	r.bytes = x->bytes;
	memcpy(r.sha, x->sha, sizeof(r.sha));
	xfer_free(x);
	if (s != NULL)
		done(s, &r);
}

static void
xfer_done(struct job *job)
{
	struct xfer *x = (struct xfer *)job;
	char enc[PROTO_ENC_NAME_MAX], hex[HASH_SHA256_HEXLEN + 1];
	double secs = (double)(x->end_ms - x->start_ms) / 1000.0;

	(void)log_esc(enc, sizeof(enc), x->name);
	str_hex(hex, x->sha, HASH_SHA256_LEN);
	if (x->batch) {
		log_msg(x->peerstr,
		    "xfer %s files=%" PRIu64 " bytes=%" PRIu64
		    " secs=%.3f mibps=%.1f result=%s",
		    x->upload ? "mput" : "mget", x->files, x->bytes, secs,
		    secs > 0 ? (double)x->bytes / secs / (1024.0 * 1024.0)
			     : 0.0,
		    x->code == FTXE_OK ? "ok" : ftxerr_name(x->code));
		count_xfer(x->srv, x);
		finish(x, x->code, x->err);
		return;
	}
	log_msg(x->peerstr,
	    "xfer %s name=%s bytes=%" PRIu64 " secs=%.3f mibps=%.1f sha256=%s "
	    "result=%s",
	    x->upload ? "upload" : "download", enc, x->bytes, secs,
	    secs > 0 ? (double)x->bytes / secs / (1024.0 * 1024.0) : 0.0,
	    x->code == FTXE_OK ? hex : "-",
	    x->code == FTXE_OK ? "ok" : ftxerr_name(x->code));
	xferlog_write(x, enc);
	count_xfer(x->srv, x);
	finish(x, x->code, x->err);
}

/* The data connection presented the token (dconn.c): the transfer runs
 * on the transfer lane, with the socket blocking and its TLS session
 * (NULL for plaintext) continued by the worker. */
static void
xfer_claim(void *arg, int fd, struct tls *tls)
{
	struct xfer *x = arg;

	x->state = X_RUNNING;
	x->data_fd = fd;
	x->tls = tls;
	if (net_set_nonblock(x->data_fd, 0) == -1 ||
	    worker_submit_xfer(&x->job) == -1) {
		/* Report through the normal completion path. */
		x->code = FTXE_INTERNAL;
		str_copy(x->err, sizeof(x->err), "cannot start transfer");
		x->start_ms = x->end_ms = loop_now_ms();
		xfer_done(&x->job);
		return;
	}
	net_set_bufsizes(x->data_fd, FTX_SOCKBUF_BYTES);
}

/* Expiring partial uploads is disk work: a job, one at a time. */
struct sweep {
	struct job job; /* must be first */
	struct ctx *srv;
	long long ttl_s;
	int removed;
};

static int sweeping;
static long long last_sweep_ms;

static void
sweep_run(struct job *job)
{
	struct sweep *w = (struct sweep *)job;

	w->removed = store_partial_expire(w->srv->store, w->ttl_s);
}

static void
sweep_done(struct job *job)
{
	struct sweep *w = (struct sweep *)job;

	if (w->removed > 0)
		log_msg(NULL, "expired %d partial uploads older than %lld s",
		    w->removed, w->ttl_s);
	sweeping = 0;
	free(w);
}

static void
sweep_partials(struct ctx *srv, long long now)
{
	long long every = srv->cfg.partial_ttl < FTX_PARTIAL_SWEEP_S
	    ? srv->cfg.partial_ttl
	    : FTX_PARTIAL_SWEEP_S;
	struct sweep *w;

	if (sweeping || srv->stopping || now - last_sweep_ms < every * 1000LL)
		return;
	last_sweep_ms = now;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return;
	w->job.run = sweep_run;
	w->job.done = sweep_done;
	w->srv = srv;
	w->ttl_s = srv->cfg.partial_ttl;
	if (worker_submit(&w->job) == -1) {
		free(w);
		return;
	}
	sweeping = 1;
}

void
xfer_tick(struct ctx *srv, long long now)
{
	long long ttl = srv->cfg.token_ttl * 1000LL;
	char why[FTX_ERRLEN];
	struct xfer *x, *xn;

	for (x = srv->xfers; x != NULL; x = xn) {
		xn = x->next;
		if (x->state != X_PENDING || now - x->want.issued_ms <= ttl)
			continue;
		(void)str_fmt(why, sizeof(why),
		    "data connection not opened within %d s",
		    srv->cfg.token_ttl);
		finish(x, FTXE_TIMEOUT, why);
	}
	sweep_partials(srv, now);
}

void
xfer_stop(struct ctx *srv, int force)
{
	struct xfer *x, *xn;

	for (x = srv->xfers; x != NULL; x = xn) {
		xn = x->next;
		if (x->state == X_PENDING) {
			finish(x, FTXE_SHUTDOWN, "server stopping");
		} else if (force) {
			/* The worker owns the socket; shutdown(2) (not close)
			 * only makes its blocking call return, so there is no
			 * descriptor reuse race. */
			(void)shutdown(x->data_fd, SHUT_RDWR);
		}
	}
}

/*
 * hpipe.c - hash (and store) a stream on helper threads.  See hpipe.h.
 *
 * The buffers form a ring indexed by sequence number: buffer `s` lives in
 * slot s % nbufs.  The producer fills and submits buffers in order; each
 * stage (hash, and optionally write) consumes them in the same order and
 * counts how many it has finished.  Slot of sequence s may be refilled
 * once every stage has finished sequence s - nbufs.  All counters live
 * under one mutex; the work itself happens outside it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "hpipe.h"
#include "ftx_limits.h"
#include "str.h"

#define HPIPE_ALIGN 4096

enum { ST_HASH, ST_WRITE, ST_MAX };

struct stage {
	struct hpipe *p;
	int role;
	int started;
	pthread_t thread;
	uint64_t done; /* buffers finished; guarded by mu */
};

struct hpipe {
	size_t bufsize;
	size_t nbufs;
	int threaded;
	struct hpipe_io io; /* io.write_at NULL: hash only */
	uint64_t woff; /* the writer's next offset (writer thread only) */
	int nstages;
	unsigned char *mem; /* nbufs * bufsize bytes */
	size_t lens[FTX_PIPE_BUFS];
	struct hash_ctx *hash;

	/* Producer-only state. */
	int acquired; /* a buffer is out and not yet submitted */
	int finished; /* hpipe_finish ran; the pipe is spent */

	/* Shared state, guarded by mu. */
	pthread_mutex_t mu;
	pthread_cond_t work; /* stages wait: something submitted, or stop */
	pthread_cond_t done; /* producer waits: the slowest stage advanced */
	uint64_t submitted;
	uint64_t wake_at; /* producer sleeps until min_done() >= wake_at */
	int waiting; /* the producer is blocked on `done` */
	int stop;
	int err; /* errno of the first failure, 0 if none */
	struct stage st[ST_MAX];
};

/* Run one stage on one buffer; an errno value, 0 on success. */
static int
consume(struct hpipe *p, int role, const unsigned char *b, size_t len)
{
	if (role == ST_HASH)
		return hash_update(p->hash, b, len) == -1 ? EIO : 0;
	int rc;

	/* Explicit offsets, never a file position or O_APPEND: a resumed
	 * file continues exactly where its verified prefix ends. */
	if ((rc = p->io.write_at(p->io.arg, b, len, p->woff)) != 0)
		return rc;
	p->woff += len;
	return 0;
}

static int
fd_write_at(void *arg, const void *buf, size_t len, uint64_t off)
{
	const unsigned char *b = buf;
	int fd = *(int *)arg;
	ssize_t w;

	while (len > 0) {
		w = pwrite(fd, b, len, (off_t)off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return errno != 0 ? errno : EIO;
		if (w == 0)
			return EIO;
		b += w;
		len -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static ssize_t
fd_read_at(void *arg, void *buf, size_t len, uint64_t off)
{
	ssize_t r;

	do
		r = pread(*(int *)arg, buf, len, (off_t)off);
	while (r == -1 && errno == EINTR);
	return r;
}

void
hpipe_io_fd(struct hpipe_io *io, int *fdp)
{
	io->write_at = fd_write_at;
	io->read_at = fd_read_at;
	io->arg = fdp;
}

/* Called with mu held. */
static uint64_t
min_done(const struct hpipe *p)
{
	uint64_t m = p->st[0].done;
	int i;

	for (i = 1; i < p->nstages; i++)
		if (p->st[i].done < m)
			m = p->st[i].done;
	return m;
}

static void *
stage_main(void *arg)
{
	struct stage *st = arg;
	struct hpipe *p = st->p;
	uint64_t seq;
	size_t slot;
	int e, failed;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (st->done == p->submitted && !p->stop)
			pthread_cond_wait(&p->work, &p->mu);
		/* stop: the owner is tearing the pipe down (finish already
		 * drained it, or the transfer was aborted). */
		if (p->stop)
			break;
		seq = st->done;
		slot = (size_t)(seq % p->nbufs);
		failed = p->err != 0;
		pthread_mutex_unlock(&p->mu);

		/* After a failure buffers are only counted, so that the
		 * producer and the other stage are never left waiting. */
		e = failed ? 0
			   : consume(p, st->role, p->mem + slot * p->bufsize,
				 p->lens[slot]);

		pthread_mutex_lock(&p->mu);
		if (e != 0 && p->err == 0)
			p->err = e;
		st->done = seq + 1;
		/* Wake the producer only when it has asked for this much: a
		 * wake-up per buffer would cost a futex call each. */
		if (p->waiting && (min_done(p) >= p->wake_at || p->err != 0))
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int
start_stage(struct hpipe *p, int i, char *err, size_t errlen)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int r;

	if ((r = pthread_attr_init(&attr)) != 0)
		return str_err(
		    err, errlen, "pthread_attr_init: %s", strerror(r));
	(void)pthread_attr_setstacksize(&attr, FTX_WORKER_STACK);
	/* Helpers must never be picked to run a signal handler: signal
	 * handling belongs to the process's main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&p->st[i].thread, &attr, stage_main, &p->st[i]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r != 0)
		return str_err(err, errlen, "pthread_create: %s", strerror(r));
	p->st[i].started = 1;
	return 0;
}

static int
init_sync(struct hpipe *p)
{
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		return -1;
	if (pthread_cond_init(&p->work, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		return -1;
	}
	if (pthread_cond_init(&p->done, NULL) != 0) {
		pthread_cond_destroy(&p->work);
		pthread_mutex_destroy(&p->mu);
		return -1;
	}
	return 0;
}

struct hpipe *
hpipe_new(size_t bufsize, int threaded, const struct hpipe_io *io, char *err,
    size_t errlen)
{
	struct hpipe *p;
	size_t total;
	void *mem = NULL;
	int i, r;

	if (bufsize == 0) {
		str_err(err, errlen, "hpipe: zero buffer size");
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		str_err(err, errlen, "out of memory");
		return NULL;
	}
	if (init_sync(p) == -1) {
		free(p);
		str_err(err, errlen, "hpipe: cannot initialise locks");
		return NULL;
	}
	p->bufsize = bufsize;
	p->threaded = threaded != 0;
	if (io != NULL)
		p->io = *io;
	p->nstages = p->io.write_at != NULL ? 2 : 1;
	/* Inline work is done with a buffer when submit returns. */
	p->nbufs = p->threaded ? FTX_PIPE_BUFS : 1;
	for (i = 0; i < p->nstages; i++) {
		p->st[i].p = p;
		p->st[i].role = i;
	}
	/* From here on hpipe_free can clean up any partial state. */
	if (str_mul_size(bufsize, p->nbufs, &total) == -1) {
		str_err(err, errlen, "hpipe: buffer size too large");
		goto fail;
	}
	if ((r = posix_memalign(&mem, HPIPE_ALIGN, total)) != 0) {
		str_err(err, errlen, "hpipe: cannot allocate %zu bytes: %s",
		    total, strerror(r));
		goto fail;
	}
	p->mem = mem;
	if ((p->hash = hash_new(HASH_SHA256, err, errlen)) == NULL)
		goto fail;
	for (i = 0; p->threaded && i < p->nstages; i++)
		if (start_stage(p, i, err, errlen) == -1)
			goto fail;
	return p;
fail:
	hpipe_free(p);
	return NULL;
}

int
hpipe_prime(struct hpipe *p, uint64_t n, char *err, size_t errlen)
{
	unsigned char *b = p->mem; /* nothing is in flight yet */
	uint64_t off = 0;
	size_t want;
	ssize_t r;

	if (p->submitted != 0 || p->acquired || p->finished)
		return str_err(
		    err, errlen, "hpipe: prime after the first buffer");
	if (n > (uint64_t)INT64_MAX)
		return str_err(err, errlen, "hpipe: prefix too large");
	/* Before the first submit the stage threads are idle, and the mutex
	 * taken at that submit orders these updates before theirs. */
	while (off < n) {
		want = n - off < p->bufsize ? (size_t)(n - off) : p->bufsize;
		if (p->io.read_at == NULL)
			return str_err(err, errlen, "hpipe: nothing to read");
		r = p->io.read_at(p->io.arg, b, want, off);
		if (r == -1)
			return str_err(
			    err, errlen, "read: %s", strerror(errno));
		if (r == 0)
			return str_err(err, errlen,
			    "file shorter than %llu bytes",
			    (unsigned long long)n);
		if (hash_update(p->hash, b, (size_t)r) == -1)
			return str_err(err, errlen, "hash update failed");
		off += (uint64_t)r;
	}
	p->woff = n;
	return 0;
}

int
hpipe_prime_state(struct hpipe *p, uint64_t n, const unsigned char *state,
    char *err, size_t errlen)
{
	if (p->submitted != 0 || p->acquired || p->finished)
		return str_err(
		    err, errlen, "hpipe: prime after the first buffer");
	if (hash_state_load(p->hash, state) == -1)
		return str_err(err, errlen, "hpipe: not a SHA-256 state");
	p->woff = n;
	return 0;
}

size_t
hpipe_bufsize(const struct hpipe *p)
{
	return p->bufsize;
}

/* Called with mu held: sleep until every stage reached `target`. */
static void
wait_for(struct hpipe *p, uint64_t target)
{
	p->wake_at = target;
	p->waiting = 1;
	while (p->err == 0 && min_done(p) < target)
		pthread_cond_wait(&p->done, &p->mu);
	p->waiting = 0;
}

unsigned char *
hpipe_acquire(struct hpipe *p)
{
	uint64_t seq = p->submitted; /* only the producer changes it */
	int e;

	if (p->finished) {
		errno = EINVAL;
		return NULL;
	}
	if (p->threaded) {
		pthread_mutex_lock(&p->mu);
		/* The slot's previous user is seq - nbufs.  When we must
		 * wait, wait for half the ring, so that producer and stages
		 * hand over in batches rather than per buffer. */
		if (seq >= p->nbufs && min_done(p) < seq - p->nbufs + 1)
			wait_for(p, seq - p->nbufs / 2);
		e = p->err;
		pthread_mutex_unlock(&p->mu);
	} else {
		e = p->err;
	}
	if (e != 0) {
		errno = e;
		return NULL;
	}
	p->acquired = 1;
	return p->mem + (size_t)(seq % p->nbufs) * p->bufsize;
}

static int
submit_inline(struct hpipe *p, size_t slot, size_t len)
{
	const unsigned char *b = p->mem + slot * p->bufsize;
	int i, e = 0;

	for (i = 0; i < p->nstages && e == 0; i++)
		e = consume(p, i, b, len);
	if (e != 0) {
		p->err = e;
		errno = e;
		return -1;
	}
	p->submitted++;
	p->st[0].done = p->st[1].done = p->submitted;
	return 0;
}

int
hpipe_submit(struct hpipe *p, size_t len)
{
	size_t slot = (size_t)(p->submitted % p->nbufs);
	int e;

	if (!p->acquired || p->finished || len > p->bufsize) {
		errno = EINVAL;
		return -1;
	}
	p->acquired = 0;
	if (!p->threaded)
		return submit_inline(p, slot, len);
	pthread_mutex_lock(&p->mu);
	if ((e = p->err) == 0) {
		p->lens[slot] = len;
		p->submitted++;
		pthread_cond_broadcast(&p->work);
	}
	pthread_mutex_unlock(&p->mu);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

int
hpipe_finish(struct hpipe *p, unsigned char *digest)
{
	int e;

	if (p->finished) {
		errno = EINVAL;
		return -1;
	}
	p->finished = 1;
	p->acquired = 0;
	if (p->threaded) {
		pthread_mutex_lock(&p->mu);
		wait_for(p, p->submitted);
		e = p->err;
		pthread_mutex_unlock(&p->mu);
	} else {
		e = p->err;
	}
	if (e != 0) {
		errno = e;
		return -1;
	}
	/* Every stage is idle now, so the hash context is ours again. */
	if (hash_final(p->hash, digest) == -1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

void
hpipe_free(struct hpipe *p)
{
	int i;

	if (p == NULL)
		return;
	/* Safe whether or not finish ran: stages leave as soon as they see
	 * stop, dropping any unfinished buffers, and the joins guarantee
	 * they no longer touch the ring. */
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < ST_MAX; i++)
		if (p->st[i].started)
			pthread_join(p->st[i].thread, NULL);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	hash_free(p->hash);
	free(p->mem);
	free(p);
}

/*
 * hpipe.c - hash a stream on a second thread while the caller does I/O.
 *
 * The buffers form a ring indexed by sequence number: buffer `s` lives in
 * slot s % nbufs.  The producer (the caller) fills and submits buffers in
 * order; the hasher consumes them in the same order.  Two counters under
 * one mutex carry all the state: `submitted` (buffers handed to the
 * hasher) and `hashed` (buffers the hasher is done with).  Slot of
 * sequence s may be refilled once hashed > s - nbufs.
 */
#include "hpipe.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "limits.h"
#include "str.h"

/* Buffers are page aligned so O_DIRECT-style and splice paths stay cheap. */
#define HPIPE_ALIGN 4096

struct hpipe {
	size_t bufsize;
	size_t nbufs;
	int threaded;
	unsigned char *mem; /* nbufs * bufsize bytes */
	size_t lens[FTX_PIPE_BUFS];
	struct hash_ctx *hash;

	/* Producer-only state. */
	int acquired; /* a buffer is out and not yet submitted */
	int finished; /* hpipe_finish ran; the pipe is spent */

	/* Shared state, guarded by mu. */
	pthread_mutex_t mu;
	pthread_cond_t work; /* hasher waits: submitted > hashed or stop */
	pthread_cond_t done; /* producer waits: hashed advanced */
	uint64_t submitted;
	uint64_t hashed;
	uint64_t wake_at; /* producer sleeps until hashed >= wake_at */
	int waiting; /* the producer is blocked on `done` */
	int stop;
	int failed;
	int thread_started;
	pthread_t thread;
};

static void *
hasher_main(void *arg)
{
	struct hpipe *p = arg;
	uint64_t seq;
	size_t slot, len;
	int bad;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->hashed == p->submitted && !p->stop)
			pthread_cond_wait(&p->work, &p->mu);
		/* stop means the owner is tearing the pipe down (finish
		 * already drained it, or the transfer was aborted): leave
		 * without hashing what is left. */
		if (p->stop)
			break;
		seq = p->hashed;
		slot = (size_t)(seq % p->nbufs);
		len = p->lens[slot];
		pthread_mutex_unlock(&p->mu);

		/* Hash outside the lock: this is where the time goes. */
		bad = p->failed ||
		    hash_update(p->hash, p->mem + slot * p->bufsize, len) == -1;

		pthread_mutex_lock(&p->mu);
		if (bad)
			p->failed = 1;
		p->hashed = seq + 1;
		/* Wake the producer only when it has asked for this much:
		 * a wake-up per buffer would cost a futex call each. */
		if (p->waiting && (p->hashed >= p->wake_at || p->failed))
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int
start_thread(struct hpipe *p, char *err, size_t errlen)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int r;

	if ((r = pthread_attr_init(&attr)) != 0)
		return str_err(
		    err, errlen, "pthread_attr_init: %s", strerror(r));
	/* Hashing needs little stack; keep many concurrent transfers
	 * cheap in address space. */
	(void)pthread_attr_setstacksize(&attr, FTX_WORKER_STACK);
	/* The hasher must never be picked to run a signal handler: the
	 * process's signal handling belongs to its main loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&p->thread, &attr, hasher_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r != 0)
		return str_err(err, errlen, "pthread_create: %s", strerror(r));
	p->thread_started = 1;
	return 0;
}

struct hpipe *
hpipe_new(size_t bufsize, int threaded, char *err, size_t errlen)
{
	struct hpipe *p;
	size_t total;
	void *mem = NULL;
	int r;

	if (bufsize == 0) {
		str_err(err, errlen, "hpipe: zero buffer size");
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		str_err(err, errlen, "out of memory");
		return NULL;
	}
	p->bufsize = bufsize;
	p->threaded = threaded != 0;
	/* Inline hashing is done with a buffer by the time submit returns,
	 * so one buffer is enough. */
	p->nbufs = p->threaded ? FTX_PIPE_BUFS : 1;
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p);
		str_err(err, errlen, "pthread_mutex_init failed");
		return NULL;
	}
	if (pthread_cond_init(&p->work, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		free(p);
		str_err(err, errlen, "pthread_cond_init failed");
		return NULL;
	}
	if (pthread_cond_init(&p->done, NULL) != 0) {
		pthread_cond_destroy(&p->work);
		pthread_mutex_destroy(&p->mu);
		free(p);
		str_err(err, errlen, "pthread_cond_init failed");
		return NULL;
	}
	/* From here on hpipe_free can clean up any partial state. */
	if (str_mul_size(bufsize, p->nbufs, &total) == -1) {
		str_err(err, errlen, "hpipe: buffer size too large");
		goto fail;
	}
	r = posix_memalign(&mem, HPIPE_ALIGN, total);
	if (r != 0) {
		str_err(err, errlen, "hpipe: cannot allocate %zu bytes: %s",
		    total, strerror(r));
		goto fail;
	}
	p->mem = mem;
	p->hash = hash_new(HASH_SHA256, err, errlen);
	if (p->hash == NULL)
		goto fail;
	if (p->threaded && start_thread(p, err, errlen) == -1)
		goto fail;
	return p;
fail:
	hpipe_free(p);
	return NULL;
}

size_t
hpipe_bufsize(const struct hpipe *p)
{
	return p->bufsize;
}

unsigned char *
hpipe_acquire(struct hpipe *p)
{
	uint64_t seq;
	int failed;

	if (p->finished)
		return NULL;
	/* Only the producer changes `submitted`, so it may read it
	 * without the lock. */
	seq = p->submitted;
	if (p->threaded) {
		pthread_mutex_lock(&p->mu);
		/* Wait until the hasher has finished sequence
		 * seq - nbufs, the previous user of this slot.  When we
		 * must wait, wait for half the ring, so that producer and
		 * hasher hand over in batches rather than per buffer. */
		if (seq >= p->nbufs && p->hashed < seq - p->nbufs + 1) {
			p->wake_at = seq - p->nbufs + p->nbufs / 2;
			if (p->wake_at < seq - p->nbufs + 1)
				p->wake_at = seq - p->nbufs + 1;
			p->waiting = 1;
			while (!p->failed && p->hashed < p->wake_at)
				pthread_cond_wait(&p->done, &p->mu);
			p->waiting = 0;
		}
		failed = p->failed;
		pthread_mutex_unlock(&p->mu);
	} else {
		failed = p->failed;
	}
	if (failed)
		return NULL;
	p->acquired = 1;
	return p->mem + (size_t)(seq % p->nbufs) * p->bufsize;
}

int
hpipe_submit(struct hpipe *p, size_t len)
{
	size_t slot;

	if (!p->acquired || p->finished || len > p->bufsize)
		return -1;
	p->acquired = 0;
	slot = (size_t)(p->submitted % p->nbufs);
	if (!p->threaded) {
		if (p->failed)
			return -1;
		if (hash_update(p->hash, p->mem + slot * p->bufsize, len) ==
		    -1) {
			p->failed = 1;
			return -1;
		}
		p->submitted++;
		p->hashed++;
		return 0;
	}
	pthread_mutex_lock(&p->mu);
	if (p->failed) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	p->lens[slot] = len;
	p->submitted++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

int
hpipe_finish(struct hpipe *p, unsigned char *digest)
{
	int failed;

	if (p->finished)
		return -1;
	p->finished = 1;
	p->acquired = 0;
	if (p->threaded) {
		pthread_mutex_lock(&p->mu);
		p->wake_at = p->submitted;
		p->waiting = 1;
		while (p->hashed < p->submitted && !p->failed)
			pthread_cond_wait(&p->done, &p->mu);
		p->waiting = 0;
		failed = p->failed;
		pthread_mutex_unlock(&p->mu);
	} else {
		failed = p->failed;
	}
	/* The hasher is idle now (everything submitted is hashed), so the
	 * context is ours again. */
	if (failed || hash_final(p->hash, digest) == -1)
		return -1;
	return 0;
}

void
hpipe_free(struct hpipe *p)
{
	if (p == NULL)
		return;
	if (p->thread_started) {
		/* Safe whether or not finish ran: the hasher leaves as soon
		 * as it sees stop, dropping any unhashed buffers, and the
		 * join guarantees it no longer touches the ring. */
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_signal(&p->work);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
	}
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	hash_free(p->hash);
	free(p->mem);
	free(p);
}

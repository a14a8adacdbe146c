/*
 * loop.c - poll(2) event loop.  See loop.h.
 *
 * Registered descriptors live in a dense pollfd array (what poll wants)
 * with a parallel handler array, plus an fd -> index map.  Deleting moves
 * the last entry into the hole.  Ready events are copied out before any
 * callback runs and each carries the registration's generation, so a
 * callback that deletes (or closes and reuses) another descriptor can
 * never cause a stale event to be delivered to the wrong handler.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loop.h"
#include "str.h"

struct handler {
	loop_cb *cb;
	void *arg;
	unsigned long gen;
};

struct ready {
	int fd;
	short revents;
	unsigned long gen;
};

struct loop {
	struct pollfd *pfd;
	struct handler *h;
	struct ready *ready;
	size_t n, cap;
	int *idx; /* fd -> index in pfd, or -1 */
	size_t idxcap;
	unsigned long gen;
	int stop;
};

long long
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *
loop_new(char *err, size_t errlen)
{
	struct loop *l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		str_err(err, errlen, "out of memory");
		return NULL;
	}
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	free(l->pfd);
	free(l->h);
	free(l->ready);
	free(l->idx);
	free(l);
}

static int
grow_idx(struct loop *l, int fd)
{
	size_t ncap, i, bytes;
	int *p;

	if ((size_t)fd < l->idxcap)
		return 0;
	ncap = l->idxcap ? l->idxcap : 64;
	while (ncap <= (size_t)fd)
		ncap *= 2;
	if (str_mul_size(ncap, sizeof(*p), &bytes) == -1)
		return -1;
	if ((p = realloc(l->idx, bytes)) == NULL)
		return -1;
	for (i = l->idxcap; i < ncap; i++)
		p[i] = -1;
	l->idx = p;
	l->idxcap = ncap;
	return 0;
}

static int
grow_arrays(struct loop *l)
{
	size_t ncap = l->cap ? l->cap * 2 : 64, b1, b2, b3;
	void *p;

	if (str_mul_size(ncap, sizeof(*l->pfd), &b1) == -1 ||
	    str_mul_size(ncap, sizeof(*l->h), &b2) == -1 ||
	    str_mul_size(ncap, sizeof(*l->ready), &b3) == -1)
		return -1;
	if ((p = realloc(l->pfd, b1)) == NULL)
		return -1;
	l->pfd = p;
	if ((p = realloc(l->h, b2)) == NULL)
		return -1;
	l->h = p;
	if ((p = realloc(l->ready, b3)) == NULL)
		return -1;
	l->ready = p;
	l->cap = ncap;
	return 0;
}

int
loop_add(struct loop *l, int fd, short events, loop_cb *cb, void *arg)
{
	if (fd < 0 || grow_idx(l, fd) == -1)
		return -1;
	if (l->idx[fd] != -1)
		abort(); /* Registering an fd twice is a logic error. */
	if (l->n == l->cap && grow_arrays(l) == -1)
		return -1;
	l->pfd[l->n].fd = fd;
	l->pfd[l->n].events = events;
	l->pfd[l->n].revents = 0;
	l->h[l->n].cb = cb;
	l->h[l->n].arg = arg;
	l->h[l->n].gen = ++l->gen;
	l->idx[fd] = (int)l->n;
	l->n++;
	return 0;
}

void
loop_set_events(struct loop *l, int fd, short events)
{
	if (fd >= 0 && (size_t)fd < l->idxcap && l->idx[fd] != -1)
		l->pfd[l->idx[fd]].events = events;
}

void
loop_del(struct loop *l, int fd)
{
	size_t i, last;

	if (fd < 0 || (size_t)fd >= l->idxcap || l->idx[fd] == -1)
		return;
	i = (size_t)l->idx[fd];
	last = l->n - 1;
	if (i != last) {
		l->pfd[i] = l->pfd[last];
		l->h[i] = l->h[last];
		l->idx[l->pfd[i].fd] = (int)i;
	}
	l->idx[fd] = -1;
	l->n--;
}

void
loop_stop(struct loop *l)
{
	l->stop = 1;
}

static void
dispatch(struct loop *l)
{
	size_t i, nready = 0;
	int j;

	for (i = 0; i < l->n; i++) {
		if (l->pfd[i].revents == 0)
			continue;
		l->ready[nready].fd = l->pfd[i].fd;
		l->ready[nready].revents = l->pfd[i].revents;
		l->ready[nready].gen = l->h[i].gen;
		nready++;
	}
	for (i = 0; i < nready && !l->stop; i++) {
		j = l->idx[l->ready[i].fd];
		if (j == -1 || l->h[j].gen != l->ready[i].gen)
			continue; /* deleted by an earlier callback */
		l->h[j].cb(l, l->ready[i].fd, l->ready[i].revents, l->h[j].arg);
	}
}

int
loop_run(struct loop *l, int tick_ms, loop_tick_cb *tick, loop_tick_cb *before,
    void *arg)
{
	long long next = loop_now_ms() + tick_ms, now;
	int rc, wait;

	l->stop = 0;
	while (!l->stop) {
		if (before != NULL)
			before(l, arg);
		now = loop_now_ms();
		wait = next > now ? (int)(next - now) : 0;
		rc = poll(l->pfd, (nfds_t)l->n, wait);
		if (rc == -1 && errno != EINTR)
			return -1;
		if (rc > 0)
			dispatch(l);
		if (loop_now_ms() >= next && !l->stop) {
			next = loop_now_ms() + tick_ms;
			tick(l, arg);
		}
	}
	return 0;
}

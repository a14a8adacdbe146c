/*
 * loop.c - the event loop on epoll(7).  See loop.h.
 *
 * Handlers are kept in an array indexed by descriptor.  Each registration
 * gets a generation number, which travels in the epoll event next to the
 * descriptor, so an event for a descriptor that an earlier callback in
 * the same round deleted (or closed and reused) is recognised as stale
 * and dropped, never delivered to the wrong handler.
 *
 * Why epoll and not poll: an idle server may hold 10,000 control
 * sessions, and poll(2) walks every one of them on every wakeup, which
 * showed up as control round trips growing from 0.06 ms with no sessions
 * to 2.25 ms with 10,000 (bench/scale.sh).  epoll costs in proportion to
 * the descriptors that are ready.  Level-triggered, so callbacks need not
 * drain their descriptor in one go; the interest set is changed only when
 * a descriptor's events really change.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "str.h"

/* Events taken from the kernel per wakeup; the rest wait a round. */
#define LOOP_BATCH 1024

struct handler {
	loop_cb *cb;
	void *arg;
	uint32_t gen;
	short events;
	int used;
};

struct loop {
	int ep;
	struct handler *h; /* indexed by fd */
	size_t hcap;
	uint32_t gen;
	int stop;
	struct epoll_event ev[LOOP_BATCH];
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
	if ((l->ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		str_err(err, errlen, "epoll_create1: %s", strerror(errno));
		free(l);
		return NULL;
	}
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	close(l->ep);
	free(l->h);
	free(l);
}

static int
grow(struct loop *l, int fd)
{
	size_t ncap, bytes;
	struct handler *p;

	if ((size_t)fd < l->hcap)
		return 0;
	ncap = l->hcap ? l->hcap : 64;
	while (ncap <= (size_t)fd)
		if (str_mul_size(ncap, 2, &ncap) == -1)
			return -1;
	if (str_mul_size(ncap, sizeof(*p), &bytes) == -1)
		return -1;
	if ((p = realloc(l->h, bytes)) == NULL)
		return -1;
	memset(p + l->hcap, 0, (ncap - l->hcap) * sizeof(*p));
	l->h = p;
	l->hcap = ncap;
	return 0;
}

static uint32_t
to_epoll(short events)
{
	return (events & POLLIN ? EPOLLIN : 0U) |
	    (events & POLLOUT ? EPOLLOUT : 0U);
}

static short
from_epoll(uint32_t e)
{
	return (short)((e & EPOLLIN ? POLLIN : 0) |
	    (e & EPOLLOUT ? POLLOUT : 0) | (e & EPOLLERR ? POLLERR : 0) |
	    (e & EPOLLHUP ? POLLHUP : 0));
}

static int
ctl(struct loop *l, int op, int fd)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = to_epoll(l->h[fd].events);
	ev.data.u64 = (uint64_t)l->h[fd].gen << 32 | (uint32_t)fd;
	return epoll_ctl(l->ep, op, fd, &ev);
}

int
loop_add(struct loop *l, int fd, short events, loop_cb *cb, void *arg)
{
	if (fd < 0 || grow(l, fd) == -1)
		return -1;
	if (l->h[fd].used)
		abort(); /* Registering an fd twice is a logic error. */
	l->h[fd].cb = cb;
	l->h[fd].arg = arg;
	l->h[fd].gen = ++l->gen;
	l->h[fd].events = events;
	if (ctl(l, EPOLL_CTL_ADD, fd) == -1)
		return -1;
	l->h[fd].used = 1;
	return 0;
}

void
loop_set_events(struct loop *l, int fd, short events)
{
	if (fd < 0 || (size_t)fd >= l->hcap || !l->h[fd].used ||
	    l->h[fd].events == events)
		return;
	l->h[fd].events = events;
	/* Cannot fail for a registered descriptor short of ENOMEM, which
	 * leaves the old interest set: the session then just waits. */
	(void)ctl(l, EPOLL_CTL_MOD, fd);
}

void
loop_del(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->hcap || !l->h[fd].used)
		return;
	(void)epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
	l->h[fd].used = 0;
}

void
loop_stop(struct loop *l)
{
	l->stop = 1;
}

static void
dispatch(struct loop *l, int n)
{
	uint32_t gen;
	int i, fd;

	for (i = 0; i < n && !l->stop; i++) {
		fd = (int)(uint32_t)l->ev[i].data.u64;
		gen = (uint32_t)(l->ev[i].data.u64 >> 32);
		if ((size_t)fd >= l->hcap || !l->h[fd].used ||
		    l->h[fd].gen != gen)
			continue; /* deleted by an earlier callback */
		l->h[fd].cb(l, fd, from_epoll(l->ev[i].events), l->h[fd].arg);
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
		rc = epoll_wait(l->ep, l->ev, LOOP_BATCH, wait);
		if (rc == -1 && errno != EINTR)
			return -1;
		if (rc > 0)
			dispatch(l, rc);
		if (loop_now_ms() >= next && !l->stop) {
			next = loop_now_ms() + tick_ms;
			tick(l, arg);
		}
	}
	return 0;
}

/*
 * redisev.c - hiredis on loop.c.  See redisev.h.
 *
 * hiredis may free the context, and call our cleanup hook, from inside
 * redisAsyncHandleRead or redisAsyncHandleWrite (the server closed the
 * connection, a protocol error).  The adapter therefore outlives a
 * cleanup that happens during its own event callback: it is marked dead
 * and freed when the callback returns, never touched again before.
 */
#include <poll.h>
#include <stdlib.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "loop.h"
#include "redisev.h"

struct redisev {
	struct loop *l;
	redisAsyncContext *ac;
	int fd;
	short events; /* POLLIN, POLLOUT: what hiredis waits for */
	int in_cb; /* inside on_event */
	int dead; /* cleaned up: free when on_event returns */
};

static void
set_events(struct redisev *e, short events)
{
	if (e->dead || e->events == events)
		return;
	e->events = events;
	loop_set_events(e->l, e->fd, events);
}

static void
add_read(void *arg)
{
	struct redisev *e = arg;

	set_events(e, (short)(e->events | POLLIN));
}

static void
del_read(void *arg)
{
	struct redisev *e = arg;

	set_events(e, (short)(e->events & ~POLLIN));
}

static void
add_write(void *arg)
{
	struct redisev *e = arg;

	set_events(e, (short)(e->events | POLLOUT));
}

static void
del_write(void *arg)
{
	struct redisev *e = arg;

	set_events(e, (short)(e->events & ~POLLOUT));
}

/* hiredis is about to close the descriptor: off the loop first. */
static void
cleanup(void *arg)
{
	struct redisev *e = arg;

	loop_del(e->l, e->fd);
	e->dead = 1;
	if (!e->in_cb)
		free(e);
}

/*
 * Writes first (a connect completes on writability), then reads.  An
 * error or hang-up goes to the read side, where hiredis finds the
 * cause and disconnects; level-triggered epoll would otherwise report
 * it again forever.
 */
static void
on_event(struct loop *l, int fd, int revents, void *arg)
{
	struct redisev *e = arg;

	(void)l;
	(void)fd;
	e->in_cb = 1;
	if ((revents & POLLOUT) && (e->events & POLLOUT))
		redisAsyncHandleWrite(e->ac);
	if (!e->dead && (revents & (POLLIN | POLLERR | POLLHUP)))
		redisAsyncHandleRead(e->ac);
	e->in_cb = 0;
	if (e->dead)
		free(e);
}

int
redisev_attach(struct loop *l, redisAsyncContext *ac)
{
	struct redisev *e;

	if (ac->ev.data != NULL || ac->c.fd < 0)
		return -1;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->l = l;
	e->ac = ac;
	e->fd = ac->c.fd;
	if (loop_add(l, e->fd, 0, on_event, e) == -1) {
		free(e);
		return -1;
	}
	ac->ev.addRead = add_read;
	ac->ev.delRead = del_read;
	ac->ev.addWrite = add_write;
	ac->ev.delWrite = del_write;
	ac->ev.cleanup = cleanup;
	ac->ev.data = e;
	return 0;
}

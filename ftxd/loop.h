/*
 * loop.h - a tiny event loop in the style of Redis' ae.c (on epoll).
 *
 * The loop thread owns every registered descriptor.  Callbacks run on the
 * loop thread; a callback may add or delete any descriptor, including its
 * own.  A periodic tick, every `tick_ms` (ftxd's server asks for 250 ms),
 * drives all timers: a timeout fires at most one tick late, which is all
 * the precision ftx's timeouts need.
 */
#ifndef FTXD_LOOP_H
#define FTXD_LOOP_H

#include <stddef.h>

struct loop;
typedef void loop_cb(struct loop *l, int fd, int revents, void *arg);
typedef void loop_tick_cb(struct loop *l, void *arg);

struct loop *loop_new(char *err, size_t errlen);
void loop_free(struct loop *l);
/* Watch `fd` for `events` (poll(2)'s POLLIN/POLLOUT, translated to
 * epoll's); callbacks get POLLIN/POLLOUT/POLLERR/POLLHUP.  0 or -1. */
int loop_add(struct loop *l, int fd, short events, loop_cb *cb, void *arg);
/* Change the events watched for a registered fd. */
void loop_set_events(struct loop *l, int fd, short events);
/* Stop watching `fd` (does not close it).  Safe inside callbacks. */
void loop_del(struct loop *l, int fd);
/* Run until loop_stop(); `tick` runs every `tick_ms` milliseconds and
 * `before` (may be NULL) before every epoll_wait, so output produced by all
 * of one round's callbacks can be written in one go, as Redis does in
 * its beforeSleep. */
int loop_run(struct loop *l, int tick_ms, loop_tick_cb *tick,
    loop_tick_cb *before, void *arg);
void loop_stop(struct loop *l);
/* Monotonic time in milliseconds. */
long long loop_now_ms(void);

#endif /* FTXD_LOOP_H */

/*
 * redisev.h - hiredis' asynchronous API on ftxd's own event loop.
 *
 * hiredis 0.14 (Debian 12) has adapters for libevent, libev, ae and the
 * like, but none for a plain poll/epoll loop such as loop.c.  This is
 * one: hiredis' addRead/delRead/addWrite/delWrite hooks set the
 * descriptor's interest on the loop, the loop calls
 * redisAsyncHandleRead/Write when it is ready, and the cleanup hook
 * takes it off the loop before hiredis closes it.  Nothing here blocks:
 * connecting is redisAsyncConnect's non-blocking connect, completed
 * when the loop reports the socket writable.
 */
#ifndef FTXD_REDISEV_H
#define FTXD_REDISEV_H

struct loop;
struct redisAsyncContext;

/* Put a fresh context (from redisAsyncConnect, before any command or
 * connect callback is set) on the loop; 0, or -1 (the caller frees the
 * context). */
int redisev_attach(struct loop *l, struct redisAsyncContext *ac);

#endif /* FTXD_REDISEV_H */

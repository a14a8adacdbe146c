/*
 * session.h - control connections: bounded input, line framing, flood
 * control, buffered replies.
 */
#ifndef FTXD_SESSION_H
#define FTXD_SESSION_H

#include <sys/socket.h>

#include "server.h"

/* Take ownership of an accepted control connection; 0 or -1. */
int sess_new(struct server *srv, int fd, const struct sockaddr_storage *peer);
/* Queue one reply line (the LF is added). */
void sess_reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Queue raw bytes (already formatted lines). */
void sess_reply_raw(struct session *s, const char *p, size_t n);
/* Send a final line (may be NULL) and close once it is flushed. */
void sess_close_after(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Discard queued output and close at the next chance (not inside the
 * caller's iteration): for peers that do not read. */
void sess_drop(struct session *s);
/* Write every session's queued output; runs before each epoll_wait. */
void sess_flush_pending(struct server *srv);
/* Close now, releasing the session and detaching its jobs. */
void sess_free(struct session *s);
/* A job or transfer finished: process any lines that were held back. */
void sess_resume(struct session *s);
/* STARTTLS: after the caller queues its OK reply, the reply is flushed
 * in plaintext and the TLS handshake starts; input already buffered is
 * dropped.  0, or -1 with the reason (no certificate, already TLS). */
int sess_starttls(struct session *s, char *err, size_t errlen);
/* FTX_OUTPUT_BUDGET: 0 if queued output and LIST snapshots fit it,
 * possibly after closing sessions that do not read; 1 if they still do
 * not (new LIST snapshots must wait). */
int sess_over_budget(struct server *srv);
/* Timers: idle and send timeouts, stuck closes, the output budget. */
void sess_tick(struct server *srv, long long now);
/* Graceful stop: close sessions that have nothing running. */
void sess_stop_idle(struct server *srv);

#endif /* FTXD_SESSION_H */

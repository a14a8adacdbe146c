/*
 * dconn.h - data connections: the data listeners, accepting, telling TLS
 * from plaintext, reading the token line, and handing a connection whose
 * token matches to whoever waits for it.
 *
 * Something that offers a token (a pending transfer, xfer.c) fills in a
 * struct dconn_want and registers it with dconn_await().  The loop
 * accepts data connections and reads exactly the token line (the bytes
 * behind it stay in the socket); a connection whose token matches a
 * want, unexpired, from the want's control address and over the right
 * kind of TLS (or none) is given to the want's claim callback, which
 * owns the socket from then on.  Anything else is logged and closed, and
 * the wanted token stays valid.  Nothing here knows what a transfer is.
 */
#ifndef FTXD_DCONN_H
#define FTXD_DCONN_H

#include <stddef.h>
#include <sys/socket.h>

#include "ftx_limits.h"
#include "token.h"

struct ctx;
struct tls;

/* A connection presented the want's token: `fd` (still non-blocking,
 * no longer watched by the loop) and its TLS session (NULL for
 * plaintext) now belong to the callee.  Called on the loop thread, after
 * the want has left the table and its token was wiped. */
typedef void dconn_claim_fn(void *arg, int fd, struct tls *tls);

/* A token waiting for its data connection; embedded by its owner, which
 * fills in everything above `waiting` before dconn_await(). */
struct dconn_want {
	struct token tok; /* secret */
	long long issued_ms; /* for --token-ttl */
	struct sockaddr_storage ctl_peer; /* the control connection's */
	int need_tls; /* the control session is TLS */
	unsigned char tls_id[FTX_TLS_BIND_ID_BYTES]; /* its tickets' id */
	dconn_claim_fn *claim;
	void *arg;
	int waiting; /* in the table (dconn.c) */
	struct dconn_want *prev, *next;
};

/* Open the data listeners (one per port of --data-port N-M); 0 or -1. */
int dconn_listen(struct ctx *srv, char *err, size_t errlen);
/* Close the data listeners (idempotent). */
void dconn_unlisten(struct ctx *srv);
/* The data port to offer next: round-robin over the range. */
int dconn_next_port(struct ctx *srv);
/* Wait for a connection presenting w->tok. */
void dconn_await(struct ctx *srv, struct dconn_want *w);
/* Stop waiting (a no-op unless waiting): the token can no longer match. */
void dconn_cancel(struct ctx *srv, struct dconn_want *w);
/* Out of descriptors: stop watching every listener (control and data)
 * until the next tick, instead of spinning on a listener that stays
 * readable and flooding the log; `what` names the caller for the log. */
void dconn_pause_accepting(struct ctx *srv, const char *what);
/* Watch the listeners again (each tick; a no-op unless paused). */
void dconn_resume_accepting(struct ctx *srv);
/* Timers: data connections that never sent a token. */
void dconn_tick(struct ctx *srv, long long now);
/* Graceful stop: close the data listeners and every connection that has
 * not presented a token. */
void dconn_stop(struct ctx *srv);

#endif /* FTXD_DCONN_H */

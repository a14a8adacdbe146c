/*
 * ctx.h - the state the loop-thread modules above the session layer
 * share: the configuration, the root store, TLS, whether accounts are
 * on and a stop has begun, the counters, and each module's lists.
 *
 * One per server, embedded in struct server (server.h), which fills it
 * in; every session points to it (s->srv).  It is data only: a module
 * that reads it depends on no module that writes it, which is what
 * keeps the dependencies running one way (docs/ARCHITECTURE.md,
 * "Dependencies").  Everything here belongs to the loop thread.
 */
#ifndef FTXD_CTX_H
#define FTXD_CTX_H

#include <stddef.h>

#include "config.h"
#include "counters.h"
#include "ftx_limits.h"
#include "session.h"
#include "store.h"

struct auth;
struct dconn;
struct dconn_want;
struct loop;
struct pxgate;
struct room;
struct tls_ctx;
struct ustore;
struct xfer;

struct ctx {
	struct config cfg; /* SIGHUP replaces what may change */
	struct loop *loop;
	struct store *store; /* the root */
	struct tls_ctx *tls; /* NULL without --tls-cert */
	int stopping; /* a graceful stop has begun */
	struct counters stats;
	struct sess_set sessions; /* session.c */
	struct room *room; /* room.c */
	/* Accounts (auth.c). */
	int accounts; /* a users file exists: LOGIN required */
	char users_path[FTX_PATH_MAX];
	struct auth *auth; /* failed-login tracking */
	struct ustore *ustores; /* per-user storage in use */
	/* Listeners and data connections (dconn.c). */
	int ctl_fd; /* the control listener, paused with the data ones */
	int accept_paused; /* out of descriptors: listeners not watched */
	int *data_fds; /* one listener per port of --data-port N-M */
	int *data_ports; /* their bound ports */
	size_t ndata;
	size_t data_next; /* round-robin index into data_ports */
	struct dconn *dconns; /* data connections awaiting their token */
	size_t ndconns;
	struct dconn_want *wants; /* tokens awaiting their connection */
	/* Connections from --proxy-from awaiting their header (pxgate.c). */
	struct pxgate *pxgate;
	/* Transfers (xfer.c). */
	struct xfer *xfers; /* pending and running transfers */
};

#endif /* FTXD_CTX_H */

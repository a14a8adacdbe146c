/*
 * server.h - the daemon's shared state: configuration, sessions and
 * transfers.  Everything here is owned by the event-loop thread; worker
 * threads see only the job structures handed to them (see worker.h).
 */
#ifndef FTXD_SERVER_H
#define FTXD_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "limits.h"
#include "room.h"
#include "store.h"

struct loop;
struct sjob;
struct xfer;
struct dconn;
struct member;
struct uecho;

struct config {
	const char *root;
	const char *bind;
	const char *log;
	int port;
	int data_port;
	int workers;
	int max_clients;
	int max_per_ip;
	size_t chunk;
	int idle_timeout;
	int data_timeout;
	int token_ttl;
	int chat_rate; /* messages per window; 0 = no flood control */
	int log_chat; /* log message bodies */
	int udp_echo; /* answer UDP echo on the control port */
	int udp_rate; /* UDP replies per second per source */
};

/* One control connection. */
struct session {
	struct server *srv;
	int fd;
	struct sockaddr_storage peer;
	char peerstr[64];
	char in[FTX_LINE_MAX];
	size_t inlen;
	int discarding; /* dropping the rest of an overlong line */
	size_t discarded;
	int bad_lines;
	struct buf out;
	long long last_ms; /* last input, for the idle timeout */
	int eof; /* the peer will send nothing more */
	int closing; /* flush `out`, then close */
	long long closing_ms;
	struct sjob *busy; /* command waiting for a worker */
	struct xfer *xfer; /* transfer pending or running */
	struct member *chat; /* in the chat room, or NULL */
	int pending; /* on the server's pending-output list */
	struct session *prev, *next;
	struct session *pprev, *pnext; /* pending-output list */
};

struct server {
	struct config cfg;
	struct store store;
	struct loop *loop;
	int ctl_fd;
	int data_fd;
	int data_port; /* bound data port, advertised in OK replies */
	struct session *sessions;
	size_t nsessions;
	struct session *pending; /* sessions with output to write */
	struct room room;
	struct uecho *uecho; /* NULL with --no-udp-echo */
	struct xfer *xfers; /* pending and running transfers */
	struct dconn *dconns; /* data connections awaiting their token */
	size_t ndconns;
	int stopping;
	long long stop_ms;
	int sigfd[2];
};

/* Defaults for every option. */
void srv_defaults(struct config *cfg);
/* Bind, open the store, start workers; 0 or -1. */
int srv_init(struct server *srv, char *err, size_t errlen);
/* Serve until SIGINT/SIGTERM and a graceful stop; 0 or -1. */
int srv_run(struct server *srv);
void srv_free(struct server *srv);

#endif /* FTXD_SERVER_H */

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
#include "config.h"
#include "flood.h"
#include "ftx_limits.h"
#include "room.h"
#include "store.h"

struct loop;
struct sjob;
struct tls;
struct tls_ctx;
struct ustore;
struct xfer;
struct dconn;
struct member;
struct uecho;
struct auth;

/* A control connection's TLS: off, STARTTLS answered (the reply is
 * being flushed in plaintext), handshaking, up. */
enum sess_tls { STLS_OFF, STLS_STARTING, STLS_HANDSHAKE, STLS_ON };

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
	long long last_ms; /* last complete line, for the idle timeout */
	long long line_ms; /* when the unfinished line in `in` began */
	int eof; /* the peer will send nothing more */
	long long out_ms; /* `out` last moved (or began to wait) */
	int closing; /* flush `out`, then close */
	int dropped; /* sess_drop: close with a reset */
	long long closing_ms;
	struct sjob *busy; /* command waiting for a worker, or a LIST
			    * being sent */
	struct xfer *xfer; /* transfer pending or running */
	struct member *chat; /* in the chat room, or NULL */
	struct flood chat_flood; /* chat budget, kept across LEAVE (room.c) */
	int pending; /* on the server's pending-output list */
	/* TLS (STARTTLS). */
	struct tls *tls;
	int tls_state; /* enum sess_tls */
	long long tls_ms; /* when the handshake began */
	int tls_want_out; /* a TLS read must wait for writability */
	unsigned char tls_id[FTX_TLS_BIND_ID_BYTES]; /* in its tickets */
	/* Accounts: a session is authorised once logged in, or from the
	 * start when the server has no accounts. */
	int authed;
	int readonly; /* anonymous read-only */
	char user[FTX_USER_MAX + 1]; /* "" until LOGIN */
	uint64_t quota; /* bytes; 0 = none */
	struct ustore *ust; /* its storage; NULL: the whole root */
	struct session *prev, *next;
	struct session *pprev, *pnext; /* pending-output list */
};

/* Counters for STATS and SIGUSR1, all updated on the loop thread. */
struct srv_stats {
	long long start_ms; /* loop_now_ms() at start, for the uptime */
	uint64_t sessions_total; /* control connections accepted */
	uint64_t xfers_ok; /* transfers finished successfully */
	uint64_t xfers_failed; /* transfers that ran and failed */
	uint64_t bytes_in; /* upload bytes received, finished transfers */
	uint64_t bytes_out; /* download bytes sent, finished transfers */
	uint64_t refused; /* connections refused by the limits */
	uint64_t rejected; /* data connections without a valid token */
};

struct server {
	struct config cfg;
	/* How cfg was built, so SIGHUP can build it again. */
	const struct cfg_cli *cli;
	const char *cfg_path; /* the config file, or NULL */
	const char *base_dir; /* --daemon: relative paths are under it */
	struct store *store; /* the root */
	struct tls_ctx *tls; /* NULL without --tls-cert */
	int accounts; /* a users file exists: LOGIN required */
	char users_path[FTX_PATH_MAX];
	struct ustore *ustores; /* per-user storage in use */
	struct auth *auth; /* failed-login tracking, LOGIN queue */
	struct loop *loop;
	int ctl_fd;
	int *data_fds; /* one listener per port of --data-port N-M */
	int *data_ports; /* their bound ports */
	size_t ndata;
	size_t data_next; /* round-robin index into data_ports */
	struct srv_stats stats;
	struct session *sessions;
	size_t nsessions;
	struct session *pending; /* sessions with output to write */
	struct room room;
	struct uecho *uecho; /* NULL with --no-udp-echo */
	struct xfer *xfers; /* pending and running transfers */
	struct dconn *dconns; /* data connections awaiting their token */
	size_t ndconns;
	int stopping;
	int accept_paused; /* out of descriptors: listeners not watched */
	long long stop_ms;
	int sigfd[2];
};

/* Defaults for every option (cfg_defaults). */
void srv_defaults(struct config *cfg);
/* Bind, open the store, start workers; 0 or -1. */
int srv_init(struct server *srv, char *err, size_t errlen);
/* Serve until SIGINT/SIGTERM and a graceful stop; 0 or -1. */
int srv_run(struct server *srv);
void srv_free(struct server *srv);
/* SIGHUP: rebuild the configuration and apply what can change while
 * running; reopen the log files. */
void srv_reload(struct server *srv);
/* The one-line "key=value ..." summary for STATS and SIGUSR1. */
int srv_stats_line(const struct server *srv, char *out, size_t n);

#endif /* FTXD_SERVER_H */

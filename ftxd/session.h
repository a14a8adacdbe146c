/*
 * session.h - control connections: bounded input, line framing, buffered
 * replies, timeouts and the output budget.
 *
 * The session layer knows nothing of commands, transfers or the chat
 * room: it calls up through the hooks its owner gave it (struct
 * sess_hooks), so it depends only on the event loop and the shared
 * helpers, and tests/unit/test_session.c drives it over a socketpair
 * without a server.  The fields of struct session past the framing
 * state belong to the modules above (they say which); this module only
 * tests `busy`, `chat_wait` and `xfer` for NULL: a session whose owner
 * holds it is not read from and does not time out idle.
 */
#ifndef FTXD_SESSION_H
#define FTXD_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "flood.h"
#include "ftx_limits.h"

struct config;
struct ctx;
struct loop;
struct member;
struct room_wait;
struct session;
struct sjob;
struct tls;
struct tls_ctx;
struct ustore;
struct xfer;

/* A control connection's TLS: off, STARTTLS answered (the reply is
 * being flushed in plaintext), handshaking, up. */
enum sess_tls { STLS_OFF, STLS_STARTING, STLS_HANDSHAKE, STLS_ON };

/* What the owner does for the session layer; every hook is required.
 * They run on the loop thread, from the session's own callbacks. */
struct sess_hooks {
	/* A new session, before any line: greet it. */
	void (*on_open)(struct session *s);
	/* One complete line (NUL-terminated, LF included, no NUL inside);
	 * the line is wiped after the hook returns. */
	void (*on_line)(struct session *s, char *line);
	/* The session is busy and its output fell below FTX_LIST_LOWAT:
	 * queue more of what it is sending (a LIST). */
	void (*on_drain)(struct session *s);
	/* Bytes the owner still holds for the session beyond its queue,
	 * and what closing it would free of them (FTX_OUTPUT_BUDGET). */
	size_t (*unsent)(const struct session *s);
	size_t (*frees)(const struct session *s);
	/* Bytes the owner holds for all sessions together. */
	size_t (*held)(void);
	/* The session is being closed for `reason` ("timeout",
	 * "shutdown"): its last line follows. */
	void (*on_leave)(struct session *s, const char *reason);
	/* The session is being freed: let go of everything it refers to;
	 * jobs and transfers still running must not report back to it. */
	void (*on_close)(struct session *s);
};

/* All control connections of one server: the session layer's state. */
struct sess_set {
	struct loop *loop;
	struct tls_ctx *tls; /* STARTTLS; NULL: not offered */
	const struct config *cfg; /* idle and send timeouts, read each tick */
	const struct sess_hooks *hooks;
	struct ctx *ctx; /* handed to every session as s->srv */
	struct session *head; /* every session */
	struct session *pending; /* sessions with output to write */
	size_t n;
	size_t out_queued; /* bytes queued for all sessions */
};

/* One control connection. */
struct session {
	struct sess_set *set;
	/* The shared state of the modules above (ctx.h); never looked
	 * into here. */
	struct ctx *srv;
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
	int started; /* its first bytes are not a PROXY header */
	long long out_ms; /* `out` last moved (or began to wait) */
	int closing; /* flush `out`, then close */
	int dropped; /* sess_drop: close with a reset */
	long long closing_ms;
	struct sjob *busy; /* sjob.c: command waiting for a worker, or a
			    * LIST being sent (fileops.c) */
	struct xfer *xfer; /* xfer.c: transfer pending or running */
	struct member *chat; /* room.c: in the chat room, or NULL */
	struct room_wait *chat_wait; /* room.c: a chat command waits for
				      * the chat bus (held like busy) */
	struct flood chat_flood; /* room.c: chat budget, kept across LEAVE */
	int pending; /* on the set's pending-output list */
	/* TLS (STARTTLS). */
	struct tls *tls;
	int tls_state; /* enum sess_tls */
	long long tls_ms; /* when the handshake began */
	int tls_want_out; /* a TLS read must wait for writability */
	unsigned char tls_id[FTX_TLS_BIND_ID_BYTES]; /* in its tickets */
	/* Accounts (login.c, auth.c): a session is authorised once logged
	 * in, or from the start when the server has no accounts. */
	int authed;
	int readonly; /* anonymous read-only */
	char user[FTX_USER_MAX + 1]; /* "" until LOGIN */
	uint64_t quota; /* bytes; 0 = none */
	struct ustore *ust; /* its storage; NULL: the whole root */
	struct session *prev, *next;
	struct session *pprev, *pnext; /* pending-output list */
};

/* Take ownership of an accepted control connection (on_open greets it);
 * 0 or -1. */
int sess_new(struct sess_set *set, int fd, const struct sockaddr_storage *peer);
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
void sess_flush_pending(struct sess_set *set);
/* Close now, releasing the session (on_close detaches its jobs). */
void sess_free(struct session *s);
/* A job or transfer finished: process any lines that were held back. */
void sess_resume(struct session *s);
/* STARTTLS: after the caller queues its OK reply, the reply is flushed
 * in plaintext and the TLS handshake starts; input already buffered is
 * dropped.  0, or -1 with the reason (no certificate, already TLS). */
int sess_starttls(struct session *s, char *err, size_t errlen);
/* FTX_OUTPUT_BUDGET: 0 if queued output and what the owner holds (the
 * held hook: LIST snapshots) fit it, possibly after closing sessions
 * that do not read; 1 if they still do not (new snapshots must wait). */
int sess_over_budget(struct sess_set *set);
/* Timers: idle and send timeouts, stuck closes, the output budget. */
void sess_tick(struct sess_set *set, long long now);
/* Graceful stop: close sessions that have nothing running. */
void sess_stop_idle(struct sess_set *set);

#endif /* FTXD_SESSION_H */

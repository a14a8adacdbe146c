/*
 * session.c - control connections.  See session.h.
 *
 * Input is read into a fixed FTX_LINE_MAX buffer; a line that does not
 * fit is answered with ERROR TOOLONG and discarded up to its LF, and a
 * peer that keeps doing it is disconnected.  While a command waits for a
 * worker, or while too much output is queued, the session is not read at
 * all: the kernel's socket buffer, then TCP flow control, push back on
 * the peer instead of our memory.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "config.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "proto.h"
#include "proxy.h"
#include "session.h"
#include "str.h"
#include "tls.h"

/* A closing session that cannot flush its last line is dropped. */
#define SESS_CLOSE_GRACE_MS 5000

static void sess_io(struct loop *l, int fd, int revents, void *arg);
static void resume(struct session *s);

/* The owner holds the session: a job, a LIST being sent, or a chat
 * command waiting for the chat bus.  Its next line waits. */
static int
waiting(const struct session *s)
{
	return s->busy != NULL || s->chat_wait != NULL;
}

/* Keep out_queued in step after s->out changed from `before` bytes. */
static void
out_account(struct session *s, size_t before)
{
	s->set->out_queued = s->set->out_queued - before + s->out.len;
}

static void
update_events(struct session *s)
{
	short ev = 0;

	if (s->tls_state == STLS_HANDSHAKE) {
		loop_set_events(s->set->loop, s->fd, (short)tls_want(s->tls));
		return;
	}
	if (!s->closing && !s->eof && !waiting(s) &&
	    s->tls_state != STLS_STARTING && s->out.len < FTX_OUTBUF_SOFT)
		ev |= POLLIN;
	if (s->out.len > 0 || s->tls_want_out)
		ev |= POLLOUT;
	loop_set_events(s->set->loop, s->fd, ev);
}

/* recv(2) on the session, through TLS once it is up. */
static ssize_t
sess_recv(struct session *s, void *p, size_t n)
{
	ssize_t r;

	if (s->tls_state != STLS_ON)
		return recv(s->fd, p, n, 0);
	r = tls_read(s->tls, p, n);
	/* A TLS record may need a write before it can be read (a key
	 * update): wait for writability, then read again. */
	s->tls_want_out =
	    r == -1 && errno == EAGAIN && tls_want(s->tls) == POLLOUT;
	return r;
}

static ssize_t
sess_send(struct session *s, const void *p, size_t n)
{
	if (s->tls_state != STLS_ON)
		return send(s->fd, p, n, MSG_NOSIGNAL);
	return tls_write(s->tls, p, n);
}

int
sess_new(struct sess_set *set, int fd, const struct sockaddr_storage *peer)
{
	struct session *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->set = set;
	s->srv = set->ctx;
	s->fd = fd;
	s->peer = *peer;
	net_addr_str(peer, s->peerstr, sizeof(s->peerstr));
	buf_init(&s->out, FTX_OUTBUF_MAX);
	s->last_ms = s->line_ms = loop_now_ms();
	if (loop_add(set->loop, fd, POLLIN, sess_io, s) == -1) {
		free(s);
		return -1;
	}
	net_set_nodelay(fd);
	net_set_bufsizes(fd, FTX_CTL_SOCKBUF_BYTES);
	s->next = set->head;
	if (set->head != NULL)
		set->head->prev = s;
	set->head = s;
	set->n++;
	log_msg(s->peerstr, "connect sessions=%zu", set->n);
	set->hooks->on_open(s);
	return 0;
}

/* Put a session on the list sess_flush_pending() writes out. */
static void
mark_pending(struct session *s)
{
	struct sess_set *set = s->set;

	if (s->pending)
		return;
	s->pending = 1;
	s->pprev = NULL;
	s->pnext = set->pending;
	if (set->pending != NULL)
		set->pending->pprev = s;
	set->pending = s;
}

static void
unmark_pending(struct session *s)
{
	if (!s->pending)
		return;
	if (s->pprev != NULL)
		s->pprev->pnext = s->pnext;
	else
		s->set->pending = s->pnext;
	if (s->pnext != NULL)
		s->pnext->pprev = s->pprev;
	s->pending = 0;
	s->pprev = s->pnext = NULL;
}

/*
 * Closing a socket whose receive queue still holds data makes the kernel
 * send a reset instead of a FIN, and a reset can destroy our last reply
 * (ERROR FLOOD, ERROR TIMEOUT) before the peer reads it.  So send the
 * FIN first and discard what the peer had already sent.
 */
static void
close_gently(int fd)
{
	char junk[4096];
	int i;

	(void)shutdown(fd, SHUT_WR);
	/* Bounded: a peer that keeps sending gets its reset after all. */
	for (i = 0; i < 64; i++)
		if (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
			break;
	close(fd);
}

/* A peer that does not read: a FIN would wait behind the unread bytes
 * in the kernel's send buffer for minutes, so reset the connection and
 * let the kernel free the buffer now. */
static void
close_abort(int fd)
{
	struct linger lg = {1, 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

void
sess_free(struct session *s)
{
	struct sess_set *set = s->set;

	/* Outstanding work may still finish; it must not find us. */
	set->hooks->on_close(s);
	unmark_pending(s);
	log_msg(s->peerstr, "disconnect");
	loop_del(set->loop, s->fd);
	if (s->tls != NULL) {
		if (s->tls_state == STLS_ON)
			tls_shutdown(s->tls);
		tls_free(s->tls);
	}
	explicit_bzero(s->in, sizeof(s->in));
	if (s->dropped)
		close_abort(s->fd);
	else
		close_gently(s->fd);
	set->out_queued -= s->out.len;
	buf_free(&s->out);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		set->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	set->n--;
	free(s);
}

/* Try to send queued output now; -1 if the connection is dead. */
static void tls_begin(struct session *s);

static int
flush_out(struct session *s)
{
	ssize_t n;

	while (s->out.len > 0) {
		n = sess_send(s, buf_head(&s->out), s->out.len);
		if (n > 0) {
			buf_consume(&s->out, (size_t)n);
			s->set->out_queued -= (size_t)n;
			s->out_ms = loop_now_ms(); /* the peer reads */
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
	/* A LIST or a burst of chat grew the queue: give the memory back
	 * rather than keep it for every idle session (not between the
	 * pieces of a LIST still being sent, which would refill it). */
	if (s->out.cap > FTX_OUTBUF_KEEP && s->set->hooks->unsent(s) == 0)
		buf_free(&s->out);
	/* STARTTLS: its OK went out in plaintext; now the handshake. */
	if (s->tls_state == STLS_STARTING && !s->closing)
		tls_begin(s);
	return 0;
}

void
sess_reply_raw(struct session *s, const char *p, size_t n)
{
	size_t before = s->out.len;

	if (s->closing)
		return;
	if (before == 0)
		s->out_ms = loop_now_ms(); /* the wait for the peer starts */
	/* SECURITY: FTX_OUTBUF_MAX caps one session's queue; only a peer
	 * that does not read can reach it, and it is closed. */
	if (buf_append(&s->out, p, n) == -1) {
		log_msg(s->peerstr,
		    "output queue full (%zu bytes); "
		    "disconnecting",
		    before);
		sess_drop(s); /* freed after this round */
		return;
	}
	out_account(s, before);
	/* Written before the next poll, together with everything else
	 * this round of callbacks produced for the same peer. */
	mark_pending(s);
}

void
sess_drop(struct session *s)
{
	s->set->out_queued -= s->out.len;
	buf_reset(&s->out);
	s->dropped = 1;
	s->closing = 1;
	s->closing_ms = 0;
	mark_pending(s);
}

/*
 * sess_free() takes s off every list; the analyzer cannot follow that
 * through the list pointers and reports a use after free.
 * NOLINTBEGIN(clang-analyzer-unix.Malloc)
 */
void
sess_flush_pending(struct sess_set *set)
{
	struct session *s;

	while ((s = set->pending) != NULL) {
		unmark_pending(s);
		if (flush_out(s) == -1 || (s->closing && s->out.len == 0)) {
			sess_free(s);
			continue;
		}
		if (!s->closing)
			resume(s); /* input held back for output */
		else
			update_events(s);
	}
}
/* NOLINTEND(clang-analyzer-unix.Malloc) */

void
sess_reply(struct session *s, const char *fmt, ...)
{
	char line[FTX_LINE_MAX];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = str_vfmt(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (rc == -1)
		abort(); /* replies are built from bounded parts */
	rc = (int)strlen(line);
	line[rc++] = '\n';
	sess_reply_raw(s, line, (size_t)rc);
}

void
sess_close_after(struct session *s, const char *fmt, ...)
{
	char line[FTX_LINE_MAX];
	va_list ap;
	size_t n;

	if (s->closing)
		return;
	if (fmt != NULL) {
		va_start(ap, fmt);
		if (str_vfmt(line, sizeof(line) - 1, fmt, ap) == 0) {
			n = strlen(line);
			line[n++] = '\n';
			sess_reply_raw(s, line, n);
		}
		va_end(ap);
	}
	s->closing = 1;
	s->closing_ms = loop_now_ms();
	/* Freed by the next flush, not the next tick: a closed session
	 * must stop counting against --max-per-ip at once. */
	mark_pending(s);
	update_events(s);
}

/* SECURITY: overlong lines are refused and discarded; persistent
 * offenders are disconnected so they cannot pin our CPU. */
static int
overlong(struct session *s)
{
	s->bad_lines++;
	log_msg(s->peerstr, "overlong line (%d)", s->bad_lines);
	if (s->bad_lines >= FTX_MAX_BAD_LINES) {
		sess_close_after(s, "ERROR FLOOD too many overlong lines");
		return -1;
	}
	sess_reply(s, "ERROR TOOLONG line longer than %d bytes discarded",
	    FTX_LINE_MAX);
	s->discarding = 1;
	s->discarded = s->inlen;
	s->inlen = 0;
	return 0;
}

/* Drop input up to and including the next LF; 0 if found. */
static int
discard(struct session *s)
{
	char *lf = memchr(s->in, '\n', s->inlen);
	size_t n;

	if (lf == NULL) {
		s->discarded += s->inlen;
		s->inlen = 0;
		if (s->discarded > FTX_FLOOD_BYTES)
			sess_close_after(s, "ERROR FLOOD line far too long");
		return -1;
	}
	n = (size_t)(lf - s->in) + 1;
	memmove(s->in, s->in + n, s->inlen - n);
	s->inlen -= n;
	s->discarding = 0;
	s->line_ms = loop_now_ms();
	return 0;
}

/* Nothing makes the session wait: lines may be executed. */
static int
can_run(const struct session *s)
{
	return !s->closing && !waiting(s) && s->out.len < FTX_OUTBUF_SOFT &&
	    (s->tls_state == STLS_OFF || s->tls_state == STLS_ON);
}

/* Execute complete lines until input runs out or we must wait. */
static void
run_lines(struct session *s)
{
	char line[FTX_LINE_MAX + 1];
	ssize_t n;

	while (can_run(s) && s->inlen > 0) {
		if (s->discarding && discard(s) == -1)
			break;
		if ((n = proto_find_line(s->in, s->inlen)) == 0)
			break;
		if (n < 0) {
			if (overlong(s) == -1)
				break;
			continue;
		}
		memcpy(line, s->in, (size_t)n);
		line[n] = '\0';
		memmove(s->in, s->in + n, s->inlen - (size_t)n);
		s->inlen -= (size_t)n;
		explicit_bzero(s->in + s->inlen, (size_t)n);
		/* Only whole lines count as activity (slowloris). */
		s->last_ms = s->line_ms = loop_now_ms();
		/* SECURITY: a NUL would silently cut the line short for the
		 * string-based parser ("DELETE a\0junk" is not "DELETE a"). */
		if (memchr(line, '\0', (size_t)n) != NULL) {
			sess_reply(s, "ERROR SYNTAX NUL byte in line");
			continue;
		}
		s->set->hooks->on_line(s, line);
		/* SECURITY: a LOGIN line holds a password. */
		explicit_bzero(line, (size_t)n);
	}
}

/*
 * Read what the peer sent into the input buffer: 1 if bytes came (or
 * nothing is there yet), 0 at the end of the stream (s->eof set), -1 if
 * the connection failed.
 */
static int
take_input(struct session *s)
{
	ssize_t n;

	n = sess_recv(s, s->in + s->inlen, sizeof(s->in) - s->inlen);
	if (n == 0) {
		/* A peer that half-closed still gets the replies to what
		 * it sent; sess_resume closes once nothing is left. */
		s->eof = 1;
		return 0;
	}
	if (n == -1)
		return errno == EAGAIN || errno == EINTR || errno == EWOULDBLOCK
		    ? 1
		    : -1;
	if (s->inlen == 0 && !s->discarding)
		s->line_ms = loop_now_ms();
	s->inlen += (size_t)n;
	return 1;
}

static void
resume(struct session *s)
{
	/* A LIST in progress continues as its earlier pieces drain. */
	if (s->busy != NULL && !s->closing && s->out.len < FTX_LIST_LOWAT)
		s->set->hooks->on_drain(s);
	for (;;) {
		run_lines(s);
		/* Bytes TLS has already decrypted never make the socket
		 * readable again: take them now. */
		if (s->tls_state != STLS_ON || !can_run(s) || s->eof ||
		    s->inlen == sizeof(s->in) || tls_pending(s->tls) == 0)
			break;
		if (take_input(s) == -1) {
			sess_drop(s); /* freed after this round */
			return;
		}
	}
	if (s->eof && !s->closing && !waiting(s) && s->xfer == NULL)
		sess_close_after(s, NULL);
	if (!s->closing)
		update_events(s);
}

/* The work of a command (a job, a transfer) ended: idleness counts from
 * now, so a transfer longer than --idle-timeout is not taken for it. */
void
sess_resume(struct session *s)
{
	s->last_ms = loop_now_ms();
	resume(s);
}

/*
 * SECURITY: a PROXY header where none is expected (from an address not
 * in --proxy-from, whose header pxgate.c took before the session began,
 * or a second one) is refused: it would claim another client's address,
 * and its signature ends in "QUIT\n", which must not run as a command.
 * 1 if the session must wait for more bytes to tell, or was closed.
 */
static int
stray_proxy(struct session *s)
{
	int r = proxy_sig(s->in, s->inlen);

	if (r == -1 || (r == 0 && s->eof)) {
		s->started = 1;
		return 0;
	}
	if (r == 0)
		return 1;
	log_msg(s->peerstr,
	    "refused: PROXY header from an address not "
	    "trusted to send one");
	sess_close_after(s,
	    "ERROR PERM PROXY header not accepted from your "
	    "address");
	return 1;
}

static void
sess_read(struct session *s)
{
	if (s->inlen == sizeof(s->in))
		return; /* held back: a job or the output is pending */
	if (take_input(s) == -1) {
		sess_free(s);
		return;
	}
	if (!s->started && stray_proxy(s))
		return;
	resume(s);
}

/* --- STARTTLS -------------------------------------------------------- */

int
sess_starttls(struct session *s, char *err, size_t errlen)
{
	if (s->set->tls == NULL)
		return str_err(err, errlen, "not offered");
	if (s->tls_state != STLS_OFF)
		return str_err(err, errlen, "already active");
	if (RAND_bytes(s->tls_id, sizeof(s->tls_id)) != 1)
		return str_err(err, errlen, "no randomness");
	s->tls_ms = loop_now_ms();
	s->tls = tls_new(s->set->tls, s->fd, 1, NULL, err, errlen);
	if (s->tls == NULL)
		return -1;
	if (tls_set_bind_id(s->tls, s->tls_id) == -1) {
		tls_free(s->tls);
		s->tls = NULL;
		return str_err(err, errlen, "cannot bind the session");
	}
	/* The OK must go out in plaintext first: flush_out starts the
	 * handshake once the output queue is empty. */
	s->tls_state = STLS_STARTING;
	return 0;
}

/* The STARTTLS reply has been sent: hand the socket to TLS. */
static void
tls_begin(struct session *s)
{
	/* SECURITY: bytes that followed STARTTLS arrived in plaintext and
	 * could have been injected by anyone on the path (CVE-2011-0411):
	 * they are dropped, never executed as if they came over TLS. */
	if (s->inlen > 0 || s->discarding)
		log_msg(s->peerstr, "STARTTLS: dropped %zu pipelined bytes",
		    s->inlen);
	explicit_bzero(s->in, s->inlen);
	s->inlen = 0;
	s->discarding = 0;
	s->tls_state = STLS_HANDSHAKE;
	s->tls_ms = loop_now_ms();
	update_events(s);
}

static void
tls_step(struct session *s)
{
	char what[96];
	int r = tls_handshake(s->tls);

	if (r == 0) {
		update_events(s);
		return;
	}
	if (r == -1) {
		/* No reply is possible: the peer expects TLS records. */
		log_msg(s->peerstr, "TLS handshake failed: %s",
		    tls_strerror(s->tls));
		sess_free(s);
		return;
	}
	s->tls_state = STLS_ON;
	s->last_ms = s->line_ms = loop_now_ms();
	tls_describe(s->tls, what, sizeof(what));
	log_msg(s->peerstr, "tls %s", what);
	sess_resume(s);
}

static void
sess_io(struct loop *l, int fd, int revents, void *arg)
{
	struct session *s = arg;

	(void)l;
	(void)fd;
	/* poll reports these even when we asked for nothing: the peer is
	 * gone in both directions and there is nothing left to read. */
	if ((revents & POLLERR) ||
	    ((revents & POLLHUP) && !(revents & POLLIN))) {
		sess_free(s);
		return;
	}
	if (s->tls_state == STLS_HANDSHAKE) {
		tls_step(s);
		return;
	}
	if (revents & POLLOUT) {
		if (flush_out(s) == -1) {
			sess_free(s);
			return;
		}
		if (s->closing && s->out.len == 0) {
			sess_free(s);
			return;
		}
		if (s->tls_want_out) {
			s->tls_want_out = 0;
			revents |= POLLIN; /* retry the read that waited */
		}
		if (!s->closing)
			resume(s); /* output drained: read again */
		else
			update_events(s);
	}
	if ((revents & POLLIN) && !s->closing)
		sess_read(s);
}

/* SECURITY: 1 if the session is in the middle of a line (a slowloris
 * peer dribbling bytes keeps one open forever). */
static int
unfinished_line(const struct session *s)
{
	if (waiting(s))
		return 0; /* its lines wait for us, not the other way round */
	return s->discarding ||
	    (s->inlen > 0 && memchr(s->in, '\n', s->inlen) == NULL);
}

/* What the peer has not read yet: its queue and the rest of its LIST. */
static size_t
unsent(const struct session *s)
{
	return s->out.len + s->set->hooks->unsent(s);
}

/* 1 if the session's queued output has not moved for `limit_ms`, even
 * now: a loop that was busy for that long has not yet seen the peer's
 * window open, so one more send is tried before the peer is blamed. */
static int
stalled(struct session *s, long long now, long long limit_ms)
{
	if (s->closing || s->out.len == 0 || now - s->out_ms < limit_ms)
		return 0;
	if (flush_out(s) == -1)
		return 1; /* dead: let it go */
	if (now - s->out_ms < limit_ms) {
		mark_pending(s); /* it read: resume it (and its LIST) */
		return 0;
	}
	return s->out.len > 0;
}

/* The session that holds the most unsent output and has not read for
 * FTX_OUT_SHED_GRACE_MS, or NULL. */
static struct session *
worst_reader(struct sess_set *set, long long now)
{
	struct session *s, *worst = NULL;

	for (s = set->head; s != NULL; s = s->next) {
		if (!stalled(s, now, FTX_OUT_SHED_GRACE_MS))
			continue;
		if (worst == NULL || unsent(s) > unsent(worst))
			worst = s;
	}
	return worst;
}

/*
 * SECURITY: all queued output and LIST snapshots together stay within
 * FTX_OUTPUT_BUDGET.  Above it, the sessions that hold the most and do
 * not read are closed, largest first; reading sessions are never closed
 * for it (new LIST snapshots wait instead, see fileops.c).
 */
int
sess_over_budget(struct sess_set *set)
{
	long long now = loop_now_ms();
	size_t total = set->out_queued + set->hooks->held(), gone;
	struct session *s;

	while (total > FTX_OUTPUT_BUDGET) {
		if ((s = worst_reader(set, now)) == NULL)
			return 1;
		log_msg(s->peerstr,
		    "output budget full: closing a session that does not read "
		    "(%zu bytes unsent)",
		    unsent(s));
		gone = s->out.len + set->hooks->frees(s);
		sess_drop(s);
		total = total > gone ? total - gone : 0;
	}
	return 0;
}

void
sess_tick(struct sess_set *set, long long now)
{
	struct session *s, *next;
	long long idle_ms = (long long)set->cfg->idle_timeout * 1000;
	long long send_ms = (long long)set->cfg->send_timeout * 1000;

	for (s = set->head; s != NULL; s = next) {
		next = s->next;
		if (s->closing) {
			/* Also catches a session whose flush never ran. */
			if (flush_out(s) == -1 || s->out.len == 0 ||
			    now - s->closing_ms > SESS_CLOSE_GRACE_MS)
				sess_free(s);
			continue;
		}
		/* SECURITY: a handshake that never finishes holds a
		 * session like a slowloris line. */
		if ((s->tls_state == STLS_HANDSHAKE ||
			s->tls_state == STLS_STARTING) &&
		    now - s->tls_ms > FTX_TLS_HANDSHAKE_TIMEOUT_S * 1000LL) {
			log_msg(s->peerstr, "TLS handshake timeout");
			sess_free(s);
			continue;
		}
		/* SECURITY: output that has not moved for --send-timeout
		 * means a peer that stopped reading: it must not hold its
		 * queue (and its LIST) until the idle timeout. */
		if (stalled(s, now, send_ms)) {
			log_msg(s->peerstr, "send timeout: %zu bytes unsent",
			    unsent(s));
			sess_drop(s);
			continue;
		}
		if (unfinished_line(s) &&
		    now - s->line_ms > FTX_LINE_TIMEOUT_S * 1000LL) {
			log_msg(s->peerstr, "line timeout");
			set->hooks->on_leave(s, "timeout");
			sess_close_after(s,
			    "ERROR TIMEOUT line not finished within %d s",
			    FTX_LINE_TIMEOUT_S);
			continue;
		}
		if (!waiting(s) && s->xfer == NULL &&
		    now - s->last_ms > idle_ms) {
			log_msg(s->peerstr, "idle timeout");
			set->hooks->on_leave(s, "timeout");
			sess_close_after(s, "ERROR TIMEOUT idle for %d s",
			    set->cfg->idle_timeout);
		}
	}
	(void)sess_over_budget(set);
}

void
sess_stop_idle(struct sess_set *set)
{
	struct session *s, *next;

	for (s = set->head; s != NULL; s = next) {
		next = s->next;
		if (!waiting(s) && s->xfer == NULL) {
			set->hooks->on_leave(s, "shutdown");
			sess_close_after(s, "ERROR SHUTDOWN server stopping");
		}
	}
}

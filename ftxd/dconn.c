/*
 * dconn.c - data connections and the tokens they present.  See dconn.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ctx.h"
#include "dconn.h"
#include "dlist.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "str.h"
#include "tls.h"
#include "token.h"

/* A data connection that has not presented its token yet. */
struct dconn {
	struct ctx *srv;
	int fd;
	struct sockaddr_storage peer;
	char peerstr[64];
	long long accepted_ms;
	char hello[FTX_TOKEN_HEX + 1];
	size_t len;
	int plain; /* the first byte was not a TLS handshake */
	int handshaking;
	struct tls *tls;
	struct dconn *prev, *next;
};

/* --- the wanted tokens ------------------------------------------------- */

int
dconn_next_port(struct ctx *srv)
{
	int port = srv->data_ports[srv->data_next];

	srv->data_next = (srv->data_next + 1) % srv->ndata;
	return port;
}

void
dconn_await(struct ctx *srv, struct dconn_want *w)
{
	DLIST_LINK(srv->wants, w);
	w->waiting = 1;
}

void
dconn_cancel(struct ctx *srv, struct dconn_want *w)
{
	if (!w->waiting)
		return;
	DLIST_UNLINK(srv->wants, w);
	w->waiting = 0;
	w->prev = w->next = NULL;
}

/* --- data connections ------------------------------------------------- */

static void
dconn_free(struct ctx *srv, struct dconn *d, int close_fd)
{
	DLIST_UNLINK(srv->dconns, d);
	srv->ndconns--;
	loop_del(srv->loop, d->fd);
	if (d->tls != NULL)
		tls_free(d->tls);
	if (close_fd)
		close(d->fd);
	explicit_bzero(d->hello, sizeof(d->hello));
	free(d);
}

static void
reject(struct ctx *srv, struct dconn *d, const char *why)
{
	log_msg(d->peerstr, "data-reject reason=%s", why);
	srv->stats.rejected++;
	dconn_free(srv, d, 1);
}

/*
 * SECURITY: a data connection is bound to a transfer only by a token that
 * matches (in constant time), is unused, is unexpired and was issued to a
 * control connection from the same IP.  A failed attempt never consumes
 * or cancels the legitimate transfer's token.
 */
static struct dconn_want *
match(struct ctx *srv, const struct dconn *d, const struct token *t,
    const char **why)
{
	long long now = loop_now_ms(), ttl = srv->cfg.token_ttl * 1000LL;
	struct dconn_want *w;

	*why = "unknown token";
	for (w = srv->wants; w != NULL; w = w->next) {
		if (!token_equal(&w->tok, t))
			continue;
		if (now - w->issued_ms > ttl) {
			*why = "expired token";
			return NULL;
		}
		if (!net_same_ip(&w->ctl_peer, &d->peer)) {
			*why = "peer address differs from control connection";
			return NULL;
		}
		return w;
	}
	return NULL;
}

/* The token is used: it can never match again, and the connection
 * belongs to the want's owner. */
static void
hand_over(struct ctx *srv, struct dconn *d, struct dconn_want *w)
{
	struct tls *tls = d->tls; /* the owner continues the TLS session */
	int fd = d->fd;

	d->tls = NULL;
	dconn_cancel(srv, w);
	token_clear(&w->tok);
	dconn_free(srv, d, 0);
	w->claim(w->arg, fd, tls);
}

/*
 * SECURITY: the data connection of a TLS session must be TLS and must
 * have resumed that session's ticket (which carries the session's random
 * id): a token seen or guessed by someone else is useless without the
 * session's keys.  A plaintext session's data connection is plaintext.
 */
static const char *
tls_binding(const struct dconn *d, const struct dconn_want *w)
{
	unsigned char id[FTX_TLS_BIND_ID_BYTES];
	int same;

	if (!w->need_tls)
		return d->tls == NULL ? NULL
				      : "TLS data connection for a plaintext "
					"session";
	if (d->tls == NULL)
		return "plaintext data connection for a TLS session";
	if (tls_get_bind_id(d->tls, id) == -1)
		return "no TLS session reuse";
	same = CRYPTO_memcmp(id, w->tls_id, sizeof(id)) == 0;
	explicit_bzero(id, sizeof(id));
	return same ? NULL : "TLS session of another control connection";
}

/* Tell TLS from plaintext by the first byte (a TLS handshake record is
 * 0x16; a token is hex), and start the handshake.  1 when done, 0 to
 * wait, -1 after rejecting the connection. */
static int
dconn_classify(struct ctx *srv, struct dconn *d)
{
	char err[FTX_ERRLEN];
	unsigned char b;
	ssize_t n;

	n = recv(d->fd, &b, 1, MSG_PEEK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		reject(srv, d, "closed before sending a token");
		return -1;
	}
	if (b != 0x16) {
		d->plain = 1;
		return 1;
	}
	if (srv->tls == NULL) {
		reject(srv, d, "TLS data connection, but TLS is not offered");
		return -1;
	}
	if ((d->tls = tls_new(srv->tls, d->fd, 1, NULL, err, sizeof(err))) ==
	    NULL) {
		log_msg(d->peerstr, "tls: %s", err);
		reject(srv, d, "cannot start TLS");
		return -1;
	}
	tls_no_tickets(d->tls);
	tls_bulk(d->tls);
	d->handshaking = 1;
	return 1;
}

/* Read the token line; 1 when complete, 0 to wait, -1 if rejected. */
static int
dconn_hello(struct ctx *srv, struct dconn *d)
{
	ssize_t n;

	/* Read only the token line: file bytes that follow stay in the
	 * socket (or the TLS layer) for the worker.  Loop: bytes TLS has
	 * decrypted already do not make the socket readable again. */
	while (d->len < sizeof(d->hello)) {
		if (d->tls != NULL)
			n = tls_read(d->tls, d->hello + d->len,
			    sizeof(d->hello) - d->len);
		else
			n = recv(d->fd, d->hello + d->len,
			    sizeof(d->hello) - d->len, 0);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (d->tls != NULL)
				loop_set_events(
				    srv->loop, d->fd, (short)tls_want(d->tls));
			return 0;
		}
		if (n <= 0) {
			reject(srv, d, "closed before sending a token");
			return -1;
		}
		d->len += (size_t)n;
	}
	return 1;
}

static void
dconn_read(struct loop *l, int fd, int revents, void *arg)
{
	struct ctx *srv;
	struct dconn *d = arg;
	struct dconn_want *w;
	const char *why;
	struct token t;
	int r;

	(void)revents;
	(void)l;
	(void)fd;
	srv = d->srv;
	if (!d->plain && d->tls == NULL && dconn_classify(srv, d) < 1)
		return;
	if (d->handshaking) {
		if ((r = tls_handshake(d->tls)) == 0) {
			loop_set_events(
			    srv->loop, d->fd, (short)tls_want(d->tls));
			return;
		}
		if (r == -1) {
			log_msg(d->peerstr, "%s", tls_strerror(d->tls));
			reject(srv, d, "TLS handshake failed");
			return;
		}
		d->handshaking = 0;
		loop_set_events(srv->loop, d->fd, POLLIN);
	}
	if (dconn_hello(srv, d) < 1)
		return;
	if (d->hello[FTX_TOKEN_HEX] != '\n' ||
	    token_parse(&t, d->hello, FTX_TOKEN_HEX) == -1) {
		reject(srv, d, "malformed token");
		return;
	}
	w = match(srv, d, &t, &why);
	token_clear(&t);
	if (w == NULL) {
		reject(srv, d, why);
		return;
	}
	/* A refused binding leaves the token waiting for its owner. */
	if ((why = tls_binding(d, w)) != NULL) {
		reject(srv, d, why);
		return;
	}
	hand_over(srv, d, w);
}

/* Tokenless data connections from this peer's IP. */
static size_t
dconns_from(const struct ctx *srv, const struct sockaddr_storage *peer)
{
	const struct dconn *d;
	size_t n = 0;

	for (d = srv->dconns; d != NULL; d = d->next)
		n += net_same_ip(&d->peer, peer);
	return n;
}

/*
 * SECURITY: room for one more tokenless data connection.  Each IP gets at
 * most --max-per-ip of them (a client has at most one transfer per
 * session), and when the global cap is reached the oldest one goes: a
 * real client sends its token within milliseconds, so under a flood of
 * silent connections the newest is far likelier to be legitimate than
 * the oldest.  Returns 0 if the new connection may stay.
 */
static int
make_room(struct ctx *srv, const struct sockaddr_storage *peer)
{
	struct dconn *d, *oldest = NULL;

	if (dconns_from(srv, peer) >= (size_t)srv->cfg.max_per_ip)
		return -1;
	if (srv->ndconns < FTX_MAX_DCONNS)
		return 0;
	for (d = srv->dconns; d != NULL; d = d->next)
		if (oldest == NULL || d->accepted_ms <= oldest->accepted_ms)
			oldest = d;
	if (oldest != NULL) /* ndconns > 0, so always */
		reject(srv, oldest,
		    "evicted: too many data connections without a token");
	return 0;
}

/* --- listeners --------------------------------------------------------- */

void
dconn_pause_accepting(struct ctx *srv, const char *what)
{
	size_t i;

	if (!srv->accept_paused)
		log_msg(NULL, "%s: %s; not accepting for a moment", what,
		    strerror(errno));
	srv->accept_paused = 1;
	for (i = 0; i < srv->ndata; i++)
		if (srv->data_fds[i] != -1)
			loop_set_events(srv->loop, srv->data_fds[i], 0);
	if (srv->ctl_fd != -1)
		loop_set_events(srv->loop, srv->ctl_fd, 0);
}

void
dconn_resume_accepting(struct ctx *srv)
{
	size_t i;

	if (!srv->accept_paused)
		return;
	srv->accept_paused = 0;
	for (i = 0; i < srv->ndata; i++)
		if (srv->data_fds[i] != -1)
			loop_set_events(srv->loop, srv->data_fds[i], POLLIN);
	if (srv->ctl_fd != -1)
		loop_set_events(srv->loop, srv->ctl_fd, POLLIN);
}

static void
data_accept(struct loop *l, int lfd, int revents, void *arg)
{
	struct ctx *srv = arg;
	struct sockaddr_storage peer;
	struct dconn *d;
	int fd;

	(void)revents;
	while ((fd = net_accept(lfd, &peer)) != -1) {
		if (srv->stopping || make_room(srv, &peer) == -1 ||
		    (d = calloc(1, sizeof(*d))) == NULL) {
			close(fd);
			continue;
		}
		d->srv = srv;
		d->fd = fd;
		d->peer = peer;
		/* Batches (MPUT, MGET) send short lines between file bytes:
		 * without this, Nagle holds each until the peer's delayed
		 * ACK (40 ms a batch); bulk writes are large either way. */
		net_set_nodelay(fd);
		net_addr_str(&peer, d->peerstr, sizeof(d->peerstr));
		d->accepted_ms = loop_now_ms();
		if (loop_add(l, fd, POLLIN, dconn_read, d) == -1) {
			close(fd);
			free(d);
			continue;
		}
		DLIST_LINK(srv->dconns, d);
		srv->ndconns++;
	}
	if (errno == EMFILE || errno == ENFILE)
		dconn_pause_accepting(srv, "data accept");
}

int
dconn_listen(struct ctx *srv, char *err, size_t errlen)
{
	const struct cfg_ports *r = &srv->cfg.data_ports;
	size_t n = (size_t)(r->last - r->first) + 1, i;
	int fd;

	srv->data_fds = calloc(n, sizeof(*srv->data_fds));
	srv->data_ports = calloc(n, sizeof(*srv->data_ports));
	if (srv->data_fds == NULL || srv->data_ports == NULL)
		return str_err(err, errlen, "out of memory");
	for (i = 0; i < n; i++)
		srv->data_fds[i] = -1;
	srv->ndata = n;
	for (i = 0; i < n; i++) {
		fd = net_listen(srv->cfg.bind, r->first + (int)i,
		    FTX_LISTEN_BACKLOG, err, errlen);
		if (fd == -1)
			return net_busy_hint(err, errlen,
			    "choose other data ports with --data-port N or "
			    "N-M (0: any free port)");
		srv->data_fds[i] = fd;
		srv->data_ports[i] = net_local_port(fd);
		if (loop_add(srv->loop, fd, POLLIN, data_accept, srv) == -1)
			return str_err(
			    err, errlen, "cannot watch data listener");
	}
	return 0;
}

void
dconn_unlisten(struct ctx *srv)
{
	size_t i;

	for (i = 0; i < srv->ndata; i++) {
		if (srv->data_fds[i] == -1)
			continue;
		loop_del(srv->loop, srv->data_fds[i]);
		close(srv->data_fds[i]);
		srv->data_fds[i] = -1;
	}
}

void
dconn_tick(struct ctx *srv, long long now)
{
	long long hello = FTX_DATA_HELLO_TIMEOUT_S * 1000LL;
	struct dconn *d, *dn;

	for (d = srv->dconns; d != NULL; d = dn) {
		dn = d->next;
		if (now - d->accepted_ms > hello)
			reject(srv, d, "no token in time");
	}
}

/*
 * reject() unlinks the head each time; the analyzer cannot follow that
 * through the list pointers and reports a use after free.
 * NOLINTBEGIN(clang-analyzer-unix.Malloc)
 */
void
dconn_stop(struct ctx *srv)
{
	dconn_unlisten(srv);
	while (srv->dconns != NULL)
		reject(srv, srv->dconns, "server stopping");
}
/* NOLINTEND(clang-analyzer-unix.Malloc) */

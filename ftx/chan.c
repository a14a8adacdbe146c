/*
 * chan.c - one byte stream to the server, plain or TLS.  See chan.h.
 */
#include "chan.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "progress.h"
#include "str.h"
#include "tls.h"

void
chan_init(struct chan *ch, int fd)
{
	ch->fd = fd;
	ch->tls = NULL;
}

ssize_t
chan_read(struct chan *ch, void *buf, size_t n)
{
	if (ch->tls != NULL)
		return tls_read(ch->tls, buf, n);
	return recv(ch->fd, buf, n, MSG_DONTWAIT);
}

ssize_t
chan_write(struct chan *ch, const void *buf, size_t n)
{
	if (ch->tls != NULL)
		return tls_write(ch->tls, buf, n);
	/* MSG_NOSIGNAL: a vanished peer gives EPIPE, not SIGPIPE. */
	return send(ch->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

int
chan_write_all(struct chan *ch, const void *buf, size_t n, int timeout_s)
{
	const unsigned char *p = buf;
	struct pollfd pfd;
	ssize_t w;
	int r;

	while (n > 0) {
		w = chan_write(ch, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w == 0 ||
		    (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
			return -1;
		if (errno == EINTR)
			continue;
		pfd.fd = ch->fd;
		pfd.events = (short)chan_want(ch, POLLOUT);
		pfd.revents = 0;
		r = poll(&pfd, 1, timeout_s * 1000);
		if (r == -1 && errno != EINTR)
			return -1;
		if (r == 0) {
			/* The convention of SO_SNDTIMEO, which callers
			 * already report as "timed out". */
			errno = EAGAIN;
			return -1;
		}
	}
	return 0;
}

size_t
chan_pending(const struct chan *ch)
{
	return ch->tls != NULL ? tls_pending(ch->tls) : 0;
}

int
chan_want(const struct chan *ch, int dflt)
{
	return ch->tls != NULL ? tls_want(ch->tls) : dflt;
}

const char *
chan_strerror(const struct chan *ch, int e)
{
	if (ch->tls != NULL && e == EPROTO)
		return tls_strerror(ch->tls);
	if (e == EAGAIN || e == EWOULDBLOCK)
		return "timed out";
	return strerror(e);
}

/* Drive the handshake until it is done, fails, or the deadline passes. */
static int
handshake(struct chan *ch, int timeout_s, int *proto, char *err, size_t errlen)
{
	double deadline = progress_now() + timeout_s, left;
	struct pollfd pfd;
	int r;

	while ((r = tls_handshake(ch->tls)) == 0) {
		left = deadline - progress_now();
		if (left <= 0)
			return str_err(err, errlen, "TLS handshake timed out");
		pfd.fd = ch->fd;
		pfd.events = (short)tls_want(ch->tls);
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) == -1 &&
		    errno != EINTR)
			return str_err(
			    err, errlen, "poll: %s", strerror(errno));
	}
	if (r == 1)
		return 0;
	/* A reset or a closed connection is the network's doing (worth a
	 * retry); anything TLS itself refused is not. */
	*proto = errno != ECONNRESET && errno != EPIPE && errno != ETIMEDOUT;
	return str_err(err, errlen, "%s", tls_strerror(ch->tls));
}

int
chan_start_tls(struct chan *ch, struct tls_ctx *ctx, const char *host,
    const struct tls *resume, int timeout_s, int *proto, char *err,
    size_t errlen)
{
	*proto = 1;
	if (net_set_nonblock(ch->fd, 1) == -1)
		return str_err(err, errlen, "fcntl: %s", strerror(errno));
	if ((ch->tls = tls_new(ctx, ch->fd, 0, host, err, errlen)) == NULL)
		return -1;
	/* SECURITY: a data connection proves that it belongs to our
	 * control session by resuming that session; the server refuses
	 * one that does not, so without a ticket there is no point. */
	if (resume != NULL && tls_resume_from(ch->tls, resume) == -1)
		return str_err(err, errlen,
		    "no TLS session ticket from the server to resume on the "
		    "data connection");
	if (handshake(ch, timeout_s, proto, err, errlen) == -1)
		return -1;
	/* SECURITY: the resumed session is what authenticates the server
	 * on a data connection (its certificate is checked only on the
	 * control connection).  A full handshake here could be anyone's,
	 * so not a byte goes out on it. */
	if (resume != NULL && !tls_resumed(ch->tls))
		return str_err(err, errlen,
		    "the data connection did not resume the control "
		    "connection's TLS session");
	*proto = 0;
	return 0;
}

void
chan_shutdown(struct chan *ch)
{
	if (ch->fd == -1)
		return;
	if (ch->tls != NULL) {
		/* Blocking (bounded by SO_SNDTIMEO), so close_notify is
		 * not lost to a full socket buffer. */
		(void)net_set_nonblock(ch->fd, 0);
		tls_shutdown(ch->tls);
	}
	(void)shutdown(ch->fd, SHUT_WR);
}

void
chan_close(struct chan *ch)
{
	if (ch->tls != NULL)
		tls_free(ch->tls);
	ch->tls = NULL;
	if (ch->fd != -1)
		close(ch->fd);
	ch->fd = -1;
}

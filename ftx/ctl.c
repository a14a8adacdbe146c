/*
 * ctl.c - the client end of the control connection.
 */
#include "ctl.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "net.h"
#include "progress.h"
#include "proto.h"
#include "rpl.h"
#include "str.h"

void
ctl_init(struct ctl *c, const char *host, int port)
{
	memset(c, 0, sizeof(*c));
	c->host = host;
	c->port = port;
	c->fd = -1;
}

void
ctl_drop(struct ctl *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->inlen = 0;
}

/*
 * Read whatever the server sent into the input buffer, waiting at most
 * until `deadline` (and not at all once it has passed).  0 or -1.
 */
static int
fill(struct ctl *c, double deadline, char *err, size_t errlen)
{
	struct pollfd pfd;
	double left = deadline - progress_now();
	ssize_t n;
	int r;

	pfd.fd = c->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	r = poll(&pfd, 1, left > 0 ? (int)(left * 1000) + 1 : 0);
	if (r == -1 && errno != EINTR)
		return str_err(err, errlen, "poll: %s", strerror(errno));
	if (r == 0 && progress_now() >= deadline)
		return str_err(err, errlen, "timed out waiting for the server");
	if (r <= 0)
		return 0;
	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n == -1)
		return str_err(err, errlen, "connection to server lost: %s",
		    strerror(errno));
	if (n == 0)
		return str_err(err, errlen, "server closed the connection");
	c->inlen += (size_t)n;
	return 0;
}

/* Take one complete line off the input buffer into line[FTX_LINE_MAX]:
 * 1 if there was one, 0 if not yet, -1 for a bad line. */
static int
take_line(struct ctl *c, char *line, char *err, size_t errlen)
{
	ssize_t len;
	size_t n;

	/* SECURITY: the buffer holds FTX_LINE_MAX bytes, and a line that
	 * does not end within them is refused, so a server cannot make us
	 * buffer without bound. */
	len = proto_find_line(c->in, c->inlen);
	if (len < 0)
		return str_err(err, errlen, "reply line longer than %d bytes",
		    FTX_LINE_MAX);
	if (len == 0)
		return 0;
	n = (size_t)len - 1;
	if (n > 0 && c->in[n - 1] == '\r')
		n--;
	/* SECURITY: a NUL would silently truncate the line we check. */
	if (memchr(c->in, '\0', n) != NULL)
		return str_err(err, errlen, "NUL byte in a reply line");
	memcpy(line, c->in, n);
	line[n] = '\0';
	c->inlen -= (size_t)len;
	memmove(c->in, c->in + len, c->inlen);
	return 1;
}

static int
next_line(struct ctl *c, char *line, double deadline, char *err, size_t errlen)
{
	int r;

	while ((r = take_line(c, line, err, errlen)) == 0)
		if (fill(c, deadline, err, errlen) == -1)
			return -1;
	return r == 1 ? 0 : -1;
}

int
ctl_take(struct ctl *c, char *line, char *err, size_t errlen)
{
	int r;

	if (c->fd == -1)
		return str_err(err, errlen, "not connected");
	if ((r = take_line(c, line, err, errlen)) == -1)
		ctl_drop(c);
	return r;
}

int
ctl_fill(struct ctl *c, char *err, size_t errlen)
{
	ssize_t n;

	if (c->fd == -1)
		return str_err(err, errlen, "not connected");
	if (c->inlen == sizeof(c->in))
		return 0; /* take the buffered lines first */
	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n > 0) {
		c->inlen += (size_t)n;
		return 0;
	}
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n == 0)
		str_err(err, errlen, "server closed the connection");
	else
		str_err(err, errlen, "connection to server lost: %s",
		    strerror(errno));
	ctl_drop(c);
	return -1;
}

int
ctl_read(struct ctl *c, char *line, int timeout_s, char *err, size_t errlen)
{
	double deadline = progress_now() + timeout_s;

	if (c->fd == -1)
		return str_err(err, errlen, "not connected");
	for (;;) {
		if (next_line(c, line, deadline, err, errlen) == -1) {
			ctl_drop(c);
			return -1;
		}
		/* Later protocol versions push unsolicited lines (chat);
		 * they are never a reply, and this client ignores them.
		 * The deadline bounds how many we skip. */
		if (proto_kind(line) != PROTO_PUSH)
			return 0;
	}
}

/*
 * 1 if the server said something since our last command: an idle-timeout
 * or shutdown ERROR, or EOF.  Such a session is closed or out of step.
 */
static int
stale(struct ctl *c)
{
	char line[FTX_LINE_MAX];
	struct pollfd pfd;

	for (;;) {
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (c->inlen == 0 && poll(&pfd, 1, 0) == 0)
			return 0;
		if (next_line(c, line, progress_now(), NULL, 0) == -1)
			return 1;
		if (proto_kind(line) != PROTO_PUSH)
			return 1;
	}
}

int
ctl_open(struct ctl *c, char *err, size_t errlen)
{
	char line[FTX_LINE_MAX], why[FTX_ERRLEN];
	struct rpl_error e;
	double t0;

	ctl_drop(c);
	t0 = progress_now();
	c->fd =
	    net_connect(c->host, c->port, FTX_CONNECT_TIMEOUT_S, err, errlen);
	if (c->fd == -1)
		return EXITCODE_CONNECT;
	c->connect_ms = (progress_now() - t0) * 1000.0;
	net_set_nodelay(c->fd);
	/* Bound blocking writes too: a server that stops reading must not
	 * hang us forever. */
	(void)net_set_timeouts(c->fd, FTX_REPLY_TIMEOUT_S);
	/* Not ctl_read: whatever the first line is, it is the greeting. */
	if (next_line(c, line, progress_now() + FTX_CONNECT_TIMEOUT_S, why,
		sizeof(why)) == -1) {
		ctl_drop(c);
		str_err(err, errlen, "%s port %d: no greeting: %s", c->host,
		    c->port, why);
		return EXITCODE_CONNECT;
	}
	if (rpl_error(line, &e) == 0) {
		ctl_drop(c);
		str_err(err, errlen, "%s port %d refused the session: %s (%s)",
		    c->host, c->port, e.text, e.code);
		return EXITCODE_REFUSED;
	}
	if (rpl_greeting(line, why, sizeof(why)) == -1) {
		ctl_drop(c);
		str_err(err, errlen, "%s port %d: %s", c->host, c->port, why);
		return EXITCODE_CONNECT;
	}
	return EXITCODE_OK;
}

int
ctl_ensure(struct ctl *c, char *err, size_t errlen)
{
	if (c->fd != -1 && !stale(c))
		return EXITCODE_OK;
	return ctl_open(c, err, errlen);
}

int
ctl_send(struct ctl *c, const char *verb, const char *const *args, int nargs,
    char *err, size_t errlen)
{
	return ctl_send_text(c, verb, args, nargs, NULL, err, errlen);
}

int
ctl_send_text(struct ctl *c, const char *verb, const char *const *args,
    int nargs, const char *text, char *err, size_t errlen)
{
	char line[FTX_LINE_MAX + 1], enc[FTX_LINE_MAX];
	size_t len;
	int i;

	if (c->fd == -1)
		return str_err(err, errlen, "not connected");
	if (str_copy(line, sizeof(line), verb) == -1)
		return str_err(err, errlen, "command too long");
	for (i = 0; i < nargs; i++) {
		/* An empty argument would vanish between the spaces. */
		if (args[i][0] == '\0')
			return str_err(err, errlen, "empty argument");
		len = strlen(line);
		if (proto_encode(enc, sizeof(enc), args[i]) == -1 ||
		    str_fmt(line + len, sizeof(line) - len, " %s", enc) == -1)
			return str_err(err, errlen, "command too long");
	}
	if (text != NULL) {
		/* SECURITY: free text travels literally, so it must not be
		 * able to end the line early or smuggle a second command. */
		if (strpbrk(text, "\r\n") != NULL)
			return str_err(err, errlen, "line break in text");
		len = strlen(line);
		if (str_fmt(line + len, sizeof(line) - len, " %s", text) == -1)
			return str_err(err, errlen, "command too long");
	}
	/* The line including its LF must fit FTX_LINE_MAX. */
	len = strlen(line);
	if (len + 1 > FTX_LINE_MAX)
		return str_err(err, errlen, "command too long");
	line[len++] = '\n';
	if (net_write_all(c->fd, line, len) == -1) {
		str_err(
		    err, errlen, "cannot send to server: %s", strerror(errno));
		ctl_drop(c);
		return -1;
	}
	return 0;
}

int
ctl_refusal(struct ctl *c, const char *line, char *err, size_t errlen)
{
	struct rpl_error e;

	if (rpl_error(line, &e) == -1) {
		ctl_drop(c);
		str_err(err, errlen, "unexpected reply from server");
		return EXITCODE_FAIL;
	}
	if (rpl_error_fatal(e.code))
		ctl_drop(c);
	if (e.text[0] == '\0')
		str_err(err, errlen, "server error %s", e.code);
	else
		str_err(err, errlen, "%s (%s)", e.text, e.code);
	return rpl_error_exit(e.code);
}

int
ctl_request(struct ctl *c, const char *verb, const char *const *args, int nargs,
    char *line, char *err, size_t errlen)
{
	if (ctl_send(c, verb, args, nargs, err, errlen) == -1)
		return EXITCODE_FAIL;
	if (ctl_read(c, line, FTX_REPLY_TIMEOUT_S, err, errlen) == -1)
		return EXITCODE_FAIL;
	if (proto_kind(line) == PROTO_ERROR)
		return ctl_refusal(c, line, err, errlen);
	/* Every command's first reply is OK or ERROR; anything else means
	 * we are out of step with the server. */
	if (proto_kind(line) != PROTO_OK) {
		ctl_drop(c);
		str_err(err, errlen, "unexpected reply from server");
		return EXITCODE_FAIL;
	}
	return EXITCODE_OK;
}

void
ctl_close(struct ctl *c)
{
	char line[FTX_LINE_MAX];

	if (c->fd == -1)
		return;
	/* Best effort: the server logs a clean goodbye, and nothing we
	 * could learn from its answer changes our exit status. */
	if (ctl_send(c, "QUIT", NULL, 0, NULL, 0) == 0)
		(void)ctl_read(c, line, FTX_CONNECT_TIMEOUT_S, NULL, 0);
	ctl_drop(c);
}

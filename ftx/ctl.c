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
#include "pass.h"
#include "progress.h"
#include "proto.h"
#include "rpl.h"
#include "str.h"
#include "tls.h"
#include "trust.h"
#include "ui.h"

/* stale(): reads (each up to a buffer) before we call a session that
 * keeps talking unusable. */
#define CTL_STALE_ROUNDS 1024

void
ctl_init(struct ctl *c, const char *host, int port)
{
	memset(c, 0, sizeof(*c));
	c->host = host;
	c->port = port;
	chan_init(&c->ch, -1);
}

void
ctl_set_sec(struct ctl *c, const struct ctl_sec *sec)
{
	c->sec = sec;
}

void
ctl_drop(struct ctl *c)
{
	chan_close(&c->ch);
	c->inlen = 0;
	c->logged_in = 0;
	c->read_only = 0;
}

void
ctl_forget_pass(struct ctl *c)
{
	pass_free(c->pass);
	c->pass = NULL;
	c->have_pass = 0;
}

int
ctl_set_login(
    struct ctl *c, const char *user, const char *pass, char *err, size_t errlen)
{
	size_t n;

	ctl_drop(c);
	ctl_forget_pass(c);
	c->user[0] = '\0';
	if (user == NULL)
		return 0;
	if (!pass_user_ok(user))
		return str_err(err, errlen,
		    "invalid user name: 1 to %d of a-z, 0-9, _ and -, "
		    "starting with a letter or digit",
		    FTX_USER_MAX);
	(void)str_copy(c->user, sizeof(c->user), user);
	if (pass == NULL)
		return 0;
	n = strlen(pass);
	if (n == 0 || n > FTX_PASS_MAX)
		return str_err(
		    err, errlen, "a password is 1 to %d bytes", FTX_PASS_MAX);
	if ((c->pass = pass_alloc()) == NULL)
		return str_err(err, errlen, "out of memory");
	memcpy(c->pass, pass, n + 1);
	c->have_pass = 1;
	return 0;
}

void
ctl_free(struct ctl *c)
{
	ctl_drop(c);
	ctl_forget_pass(c);
	tls_ctx_free(c->own_ctx);
	c->own_ctx = NULL;
}

/* The TLS client context: the configured one, else one of our own,
 * made the first time a server offers TLS (plaintext-only use never
 * pays for it).  NULL with a reason in err. */
static struct tls_ctx *
tls_ctx_of(struct ctl *c, char *err, size_t errlen)
{
	if (c->sec->ctx != NULL)
		return c->sec->ctx;
	if (c->own_ctx == NULL)
		c->own_ctx = tls_client_ctx(c->sec->cacert, err, errlen);
	return c->own_ctx;
}

int
ctl_is_tls(const struct ctl *c)
{
	return c->ch.tls != NULL;
}

int
ctl_pending(const struct ctl *c)
{
	return chan_pending(&c->ch) > 0;
}

void
ctl_describe(const struct ctl *c, char *out, size_t n)
{
	if (c->ch.tls != NULL)
		tls_describe(c->ch.tls, out, n);
	else if (n > 0)
		out[0] = '\0';
}

/* One read into the input buffer: 0 (some bytes, or none ready yet), or
 * -1 at the end of the stream or on an error. */
static int
read_some(struct ctl *c, char *err, size_t errlen)
{
	ssize_t n;

	if (c->inlen == sizeof(c->in))
		return 0; /* take the buffered lines first */
	n = chan_read(&c->ch, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n > 0) {
		c->inlen += (size_t)n;
		return 0;
	}
	/* EAGAIN also when TLS read a record that carried no data (a
	 * session ticket, say). */
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n == -1)
		return str_err(err, errlen, "connection to server lost: %s",
		    chan_strerror(&c->ch, errno));
	return str_err(err, errlen, "server closed the connection");
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
	int r;

	/* Bytes TLS already holds do not make the socket readable. */
	if (chan_pending(&c->ch) == 0) {
		pfd.fd = c->ch.fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > 0 ? (int)(left * 1000) + 1 : 0);
		if (r == -1 && errno != EINTR)
			return str_err(
			    err, errlen, "poll: %s", strerror(errno));
		if (r == 0 && progress_now() >= deadline)
			return str_err(
			    err, errlen, "timed out waiting for the server");
		if (r <= 0)
			return 0;
	}
	return read_some(c, err, errlen);
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

	if (c->ch.fd == -1)
		return str_err(err, errlen, "not connected");
	if ((r = take_line(c, line, err, errlen)) == -1)
		ctl_drop(c);
	return r;
}

int
ctl_fill(struct ctl *c, char *err, size_t errlen)
{
	if (c->ch.fd == -1)
		return str_err(err, errlen, "not connected");
	if (read_some(c, err, errlen) == 0)
		return 0;
	ctl_drop(c);
	return -1;
}

int
ctl_read(struct ctl *c, char *line, int timeout_s, char *err, size_t errlen)
{
	double deadline = progress_now() + timeout_s;

	if (c->ch.fd == -1)
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

int
ctl_read_any(struct ctl *c, char *line, int timeout_s, char *err, size_t errlen)
{
	if (c->ch.fd == -1)
		return str_err(err, errlen, "not connected");
	if (next_line(c, line, progress_now() + timeout_s, err, errlen) == -1) {
		ctl_drop(c);
		return -1;
	}
	return 0;
}

int
ctl_has_folders(const struct ctl *c)
{
	return (c->caps & RPL_CAP_FOLDERS) != 0;
}

/*
 * 1 if the server said something since our last command: an idle-timeout
 * or shutdown ERROR, or EOF.  Such a session is closed or out of step.
 * A readable socket that yields nothing (TLS records without data, such
 * as a session ticket) is not a sign of anything.
 */
static int
stale(struct ctl *c)
{
	char line[FTX_LINE_MAX];
	struct pollfd pfd;
	int i, r;

	for (i = 0; i < CTL_STALE_ROUNDS; i++) {
		r = take_line(c, line, NULL, 0);
		if (r == -1)
			return 1;
		if (r == 1) {
			if (proto_kind(line) != PROTO_PUSH)
				return 1;
			continue;
		}
		if (chan_pending(&c->ch) == 0) {
			pfd.fd = c->ch.fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			r = poll(&pfd, 1, 0);
			if (r == 0)
				return 0;
			if (r == -1)
				return 1;
		}
		if (read_some(c, NULL, 0) == -1)
			return 1;
	}
	return 1;
}

/*
 * Send one command line: "VERB arg..." (each argument percent-encoded),
 * then " text" unencoded if text is not NULL.  `secret`: the line holds
 * a password, so every copy is wiped once it is sent.  0 or -1.
 */
static int
send_line(struct ctl *c, const char *verb, const char *const *args, int nargs,
    const char *text, int secret, char *err, size_t errlen)
{
	char line[FTX_LINE_MAX + 1], enc[FTX_LINE_MAX];
	size_t len;
	int i, rc = -1;

	if (c->ch.fd == -1)
		return str_err(err, errlen, "not connected");
	if (str_copy(line, sizeof(line), verb) == -1) {
		str_err(err, errlen, "command too long");
		goto out;
	}
	for (i = 0; i < nargs; i++) {
		/* An empty argument would vanish between the spaces. */
		if (args[i][0] == '\0') {
			str_err(err, errlen, "empty argument");
			goto out;
		}
		len = strlen(line);
		if (proto_encode(enc, sizeof(enc), args[i]) == -1 ||
		    str_fmt(line + len, sizeof(line) - len, " %s", enc) == -1) {
			str_err(err, errlen, "command too long");
			goto out;
		}
	}
	if (text != NULL) {
		/* SECURITY: free text travels literally, so it must not be
		 * able to end the line early or smuggle a second command. */
		if (strpbrk(text, "\r\n") != NULL) {
			str_err(err, errlen, "line break in text");
			goto out;
		}
		len = strlen(line);
		if (str_fmt(line + len, sizeof(line) - len, " %s", text) ==
		    -1) {
			str_err(err, errlen, "command too long");
			goto out;
		}
	}
	/* The line including its LF must fit FTX_LINE_MAX. */
	len = strlen(line);
	if (len + 1 > FTX_LINE_MAX) {
		str_err(err, errlen, "command too long");
		goto out;
	}
	line[len++] = '\n';
	if (chan_write_all(&c->ch, line, len, FTX_REPLY_TIMEOUT_S) == -1) {
		str_err(err, errlen, "cannot send to server: %s",
		    chan_strerror(&c->ch, errno));
		ctl_drop(c);
		goto out;
	}
	rc = 0;
out:
	/* SECURITY: no copy of a password outlives its sending. */
	if (secret) {
		explicit_bzero(line, sizeof(line));
		explicit_bzero(enc, sizeof(enc));
	}
	return rc;
}

/* The TLS certificate check, right after the handshake and before any
 * command: --insecure, --cacert, --pin, or the known_hosts file. */
static int
verify_server(struct ctl *c, char *err, size_t errlen)
{
	const struct ctl_sec *sec = c->sec;
	char fp[FTX_FP_LEN], key[TRUST_KEY_MAX], path[FTX_PATH_MAX];
	char why[FTX_ERRLEN];
	struct trust_policy pol;
	int changed;

	if (tls_peer_fingerprint(c->ch.tls, fp, sizeof(fp)) == -1)
		return str_err(err, errlen, "%s port %d sent no certificate",
		    c->host, c->port);
	if (sec->insecure) {
		if (!c->warned_insecure)
			ui_error("warning: --insecure: the certificate of %s "
				 "port %d (%s) is NOT verified; anyone on "
				 "the way can read and change this session",
			    c->host, c->port, fp);
		c->warned_insecure = 1;
		return 0;
	}
	if (sec->cacert != NULL) {
		/* The handshake already failed on a bad chain or name;
		 * this makes sure it was checked at all. */
		if (tls_peer_verified(c->ch.tls, why, sizeof(why)) == -1)
			return str_err(err, errlen, "%s port %d: %s", c->host,
			    c->port, why);
		if (sec->pin == NULL)
			return 0;
	}
	/* Trusted a moment ago (the file may not have taken it). */
	if (sec->pin == NULL && strcmp(fp, c->trusted_fp) == 0)
		return 0;
	memset(&pol, 0, sizeof(pol));
	pol.pin = sec->pin;
	pol.accept_new = sec->accept_new;
	pol.ask = isatty(STDIN_FILENO);
	pol.file = sec->known_hosts;
	if (pol.file == NULL && sec->pin == NULL) {
		if (trust_default_path(path, sizeof(path), err, errlen) == -1)
			return -1;
		pol.file = path;
	}
	if (trust_key(key, sizeof(key), c->host, c->port) == -1)
		return str_err(err, errlen,
		    "host name not usable as a known_hosts key: %s", c->host);
	if (trust_verify(&pol, key, fp, &changed, why, sizeof(why)) == -1)
		return str_err(err, errlen, "%s", why);
	(void)str_copy(c->trusted_fp, sizeof(c->trusted_fp), fp);
	return 0;
}

/* STARTTLS, the handshake and the certificate check.  An exit code. */
static int
start_tls(struct ctl *c, char *err, size_t errlen)
{
	char line[FTX_LINE_MAX], why[FTX_ERRLEN];
	struct tls_ctx *ctx;
	struct rpl_error e;
	int proto;

	if ((ctx = tls_ctx_of(c, why, sizeof(why))) == NULL) {
		str_err(err, errlen, "cannot set up TLS: %s", why);
		return EXITCODE_TLS;
	}
	if (send_line(c, "STARTTLS", NULL, 0, NULL, 0, why, sizeof(why)) ==
	    -1) {
		str_err(err, errlen, "%s port %d: %s", c->host, c->port, why);
		return EXITCODE_CONNECT;
	}
	if (next_line(c, line, progress_now() + FTX_REPLY_TIMEOUT_S, why,
		sizeof(why)) == -1) {
		str_err(err, errlen, "%s port %d: no answer to STARTTLS: %s",
		    c->host, c->port, why);
		return EXITCODE_CONNECT;
	}
	if (rpl_error(line, &e) == 0) {
		str_err(err, errlen, "%s port %d does not offer TLS: %s (%s)",
		    c->host, c->port, e.text, e.code);
		return EXITCODE_TLS;
	}
	if (proto_kind(line) != PROTO_OK) {
		str_err(err, errlen,
		    "%s port %d: unexpected answer to STARTTLS", c->host,
		    c->port);
		return EXITCODE_TLS;
	}
	/* SECURITY: bytes after the OK came in plaintext, from anyone on
	 * the path, and would otherwise be read as if they had come
	 * through TLS (the STARTTLS injection of CVE-2011-0411, seen from
	 * the client). */
	if (c->inlen != 0) {
		str_err(err, errlen,
		    "%s port %d sent plaintext after agreeing to STARTTLS",
		    c->host, c->port);
		return EXITCODE_TLS;
	}
	if (chan_start_tls(&c->ch, ctx, c->host, NULL,
		FTX_TLS_HANDSHAKE_TIMEOUT_S, &proto, why, sizeof(why)) == -1) {
		str_err(err, errlen, "%s port %d: %s", c->host, c->port, why);
		return proto ? EXITCODE_TLS : EXITCODE_CONNECT;
	}
	if (verify_server(c, err, errlen) == -1)
		return EXITCODE_TLS;
	return EXITCODE_OK;
}

/* The password for LOGIN: FTX_PASSWORD, the file, or a prompt. */
static int
get_pass(struct ctl *c, char *err, size_t errlen)
{
	char prompt[FTX_USER_MAX + FTX_HOST_MAX + 32], why[FTX_ERRLEN];
	int r;

	if (c->pass == NULL && (c->pass = pass_alloc()) == NULL) {
		str_err(err, errlen, "out of memory");
		return EXITCODE_FAIL;
	}
	r = pass_from_env(c->pass, why, sizeof(why));
	if (r == 0 && c->sec != NULL && c->sec->pass_file != NULL)
		r = pass_from_file(
			c->sec->pass_file, c->pass, why, sizeof(why)) == 0
		    ? 1
		    : -1;
	if (r == 0 && isatty(STDIN_FILENO)) {
		(void)str_fmt(prompt, sizeof(prompt),
		    "Password for %s@%s: ", c->user, c->host);
		if (pass_prompt(prompt, c->pass, why, sizeof(why)) == -1) {
			str_err(err, errlen, "%s", why);
			c->login_fail = CTL_LOGIN_NOPASS;
			return EXITCODE_LOGIN;
		}
		r = 1;
	}
	if (r == 0)
		(void)str_copy(why, sizeof(why),
		    "no password: set FTX_PASSWORD, use --password-file "
		    "FILE, or run on a terminal");
	if (r != 1) {
		c->login_fail = CTL_LOGIN_NOPASS;
		str_err(err, errlen, "login as %s: %s", c->user, why);
		return EXITCODE_USAGE;
	}
	c->have_pass = 1;
	return EXITCODE_OK;
}

/*
 * A password is about to go to a server without TLS: EXITCODE_OK (with a
 * warning) only if the user allowed that, else EXITCODE_TLS.  Checked
 * before the password is read from a terminal, so nothing is asked for
 * that will not be sent.
 */
static int
plain_pass_ok(struct ctl *c, char *err, size_t errlen)
{
	/* SECURITY: the greeting's "tls" is unauthenticated: whoever
	 * deletes it on the way must not be sent the password.  Without
	 * an explicit opt-in, no password outside TLS, ever. */
	if (c->sec == NULL || !c->sec->allow_plain_pass) {
		str_err(err, errlen,
		    "%s port %d offers no TLS: not sending the password of "
		    "%s in plaintext (use --allow-plaintext-password to send "
		    "it anyway)",
		    c->host, c->port, c->user);
		return EXITCODE_TLS;
	}
	if (!c->warned_plain)
		ui_error("warning: --allow-plaintext-password: sending the "
			 "password of %s without TLS: anyone on the way can "
			 "read it",
		    c->user);
	c->warned_plain = 1;
	return EXITCODE_OK;
}

/* LOGIN, if we have a user (and if the server needs one and we have
 * none, say so).  An exit code. */
static int
login(struct ctl *c, char *err, size_t errlen)
{
	char line[FTX_LINE_MAX], why[FTX_ERRLEN];
	const char *args[2];
	struct rpl_login l;
	struct rpl_error e;
	int anon, rc;

	if (c->user[0] == '\0') {
		if ((c->caps & RPL_CAP_LOGIN) == 0)
			return EXITCODE_OK;
		c->login_fail = CTL_LOGIN_NEEDED;
		str_err(err, errlen,
		    "%s port %d requires login: use --user NAME (or set "
		    "FTX_USER)%s",
		    c->host, c->port,
		    (c->caps & RPL_CAP_ANONYMOUS) != 0
			? "; --user anonymous is accepted"
			: "");
		return EXITCODE_LOGIN;
	}
	/* SECURITY: anonymous takes no password, and is never sent one: a
	 * FTX_PASSWORD meant for a real account must not leak to a login
	 * that does not check it. */
	anon = strcmp(c->user, FTX_ANON_USER) == 0;
	if (!anon && !ctl_is_tls(c) && (rc = plain_pass_ok(c, err, errlen)))
		return rc;
	if (!c->have_pass && !anon && (rc = get_pass(c, err, errlen)) != 0)
		return rc;
	args[0] = c->user;
	args[1] = c->pass;
	if (send_line(c, "LOGIN", args, anon ? 1 : 2, NULL, 1, why,
		sizeof(why)) == -1 ||
	    ctl_read(c, line, FTX_REPLY_TIMEOUT_S, why, sizeof(why)) == -1) {
		str_err(err, errlen, "login as %s: %s", c->user, why);
		return EXITCODE_CONNECT;
	}
	if (rpl_error(line, &e) == 0) {
		if (strcmp(e.code, "BUSY") == 0) {
			/* Too many LOGINs of this address at once: nothing
			 * was checked, so neither ask again nor call the
			 * password wrong. */
			c->login_fail = CTL_LOGIN_BUSY;
			str_err(err, errlen,
			    "login as %s: server busy: %s; try again in a "
			    "moment",
			    c->user, e.text);
			return EXITCODE_REFUSED;
		}
		c->login_fail = strcmp(e.code, "LOCKED") == 0
		    ? CTL_LOGIN_LOCKED
		    : CTL_LOGIN_DENIED;
		str_err(err, errlen, "login as %s failed: %s (%s)%s", c->user,
		    e.text, e.code,
		    strcmp(e.code, "TLS") == 0 ? "; use --tls" : "");
		return strcmp(e.code, "TLS") == 0 ? EXITCODE_TLS
						  : EXITCODE_LOGIN;
	}
	if (rpl_login(line, &l, why, sizeof(why)) == -1) {
		str_err(err, errlen, "login as %s: %s", c->user, why);
		return EXITCODE_FAIL;
	}
	c->logged_in = 1;
	c->read_only = l.read_only;
	return EXITCODE_OK;
}

/* Nobody listens there: the usual cause is a server that is not
 * running, or another port.  Say where to look (net_connect ends its
 * message with strerror, so the refusal shows in `err`). */
static void
refused_hint(const struct ctl *c, char *err, size_t errlen)
{
	size_t len;

	if (err == NULL || strstr(err, strerror(ECONNREFUSED)) == NULL)
		return;
	len = strlen(err);
	(void)str_fmt(err + len, errlen - len,
	    "; is ftxd running on %s port %d? (--port / FTX_PORT)", c->host,
	    c->port);
}

int
ctl_open(struct ctl *c, char *err, size_t errlen)
{
	char line[FTX_LINE_MAX], why[FTX_ERRLEN];
	struct rpl_error e;
	double t0;
	int fd, rc;

	ctl_drop(c);
	c->login_fail = CTL_LOGIN_OK;
	c->caps = 0;
	t0 = progress_now();
	fd = net_connect(c->host, c->port, FTX_CONNECT_TIMEOUT_S, err, errlen);
	if (fd == -1) {
		refused_hint(c, err, errlen);
		return EXITCODE_CONNECT;
	}
	chan_init(&c->ch, fd);
	c->connect_ms = (progress_now() - t0) * 1000.0;
	net_set_nodelay(fd);
	/* Bound blocking writes too: a server that stops reading must not
	 * hang us forever. */
	(void)net_set_timeouts(fd, FTX_REPLY_TIMEOUT_S);
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
	c->caps = rpl_greeting_caps(line);
	rc = EXITCODE_OK;
	/* SECURITY: TLS whenever the server offers it, not only when the
	 * user asked: with the same certificate checks, and no quiet
	 * fall-back to plaintext if STARTTLS then fails. */
	if (c->sec != NULL &&
	    (c->sec->tls ||
		(c->caps & (RPL_CAP_TLS | RPL_CAP_TLS_REQUIRED)) != 0))
		rc = start_tls(c, err, errlen);
	else if ((c->caps & RPL_CAP_TLS_REQUIRED) != 0) {
		str_err(err, errlen, "%s port %d requires TLS: use --tls",
		    c->host, c->port);
		rc = EXITCODE_TLS;
	}
	if (rc == EXITCODE_OK)
		rc = login(c, err, errlen);
	if (rc != EXITCODE_OK)
		ctl_drop(c);
	return rc;
}

int
ctl_ensure(struct ctl *c, char *err, size_t errlen)
{
	if (c->ch.fd != -1 && (c->user[0] == '\0' || c->logged_in) && !stale(c))
		return EXITCODE_OK;
	return ctl_open(c, err, errlen);
}

int
ctl_data_tls(struct ctl *c, struct chan *data, char *err, size_t errlen)
{
	int proto;

	if (!ctl_is_tls(c))
		return EXITCODE_OK;
	/* A TLS session has its context already. */
	if (chan_start_tls(data, tls_ctx_of(c, err, errlen), c->host, c->ch.tls,
		FTX_TLS_HANDSHAKE_TIMEOUT_S, &proto, err, errlen) == -1)
		return proto ? EXITCODE_TLS : EXITCODE_CONNECT;
	/* Bulk data: keep the record buffers instead of freeing them
	 * after every record. */
	tls_bulk(data->tls);
	return EXITCODE_OK;
}

int
ctl_send(struct ctl *c, const char *verb, const char *const *args, int nargs,
    char *err, size_t errlen)
{
	return send_line(c, verb, args, nargs, NULL, 0, err, errlen);
}

int
ctl_send_text(struct ctl *c, const char *verb, const char *const *args,
    int nargs, const char *text, char *err, size_t errlen)
{
	return send_line(c, verb, args, nargs, text, 0, err, errlen);
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

	if (c->ch.fd == -1)
		return;
	/* Best effort: the server logs a clean goodbye, and nothing we
	 * could learn from its answer changes our exit status. */
	if (ctl_send(c, "QUIT", NULL, 0, NULL, 0) == 0)
		(void)ctl_read(c, line, FTX_CONNECT_TIMEOUT_S, NULL, 0);
	ctl_drop(c);
}

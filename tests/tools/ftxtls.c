/*
 * ftxtls.c - a scriptable raw FTX/1 client with TLS, for the hostile TLS
 * and account tests.
 *
 * The real client `ftx` always resumes its control session on a data
 * connection, never pipelines bytes after STARTTLS and never offers an
 * old protocol version, so it cannot show what the server does when a
 * client (or an attacker holding a stolen token) does.  This tool runs
 * a small script given as arguments, one step per argument, and prints
 * a transcript, in the style of tests/tools/ftxraw.c:
 *
 *	ftxtls [-h HOST] -p PORT [-t READ_SECS] [-w WATCHDOG_SECS] STEP...
 *
 * Control connections (several may be open; the newest is current):
 *   ctl[@SRC]        open a control connection (source IP SRC) and read
 *                    the greeting
 *   use:N            make control connection N (from 0) current
 *   close            close the current control connection
 *   starttls[:ESC]   send "STARTTLS\n" followed by the bytes ESC (escaped
 *                    as for raw:) in one write, read the reply and, if it
 *                    is OK, run the TLS handshake; the result is the reply
 *                    and then "TLS-UP <version> <cipher> <fingerprint>"
 *                    or "TLS-FAILED <reason>"
 *   handshake        run the TLS handshake now (after a line:STARTTLS)
 *   tlsver:MIN:MAX   protocol versions (1.0 .. 1.3) offered by later
 *                    handshakes; default: what OpenSSL allows
 *   ciphers:LIST     TLS 1.2 cipher list (OpenSSL syntax) of later
 *                    handshakes
 *   line:TEXT        send TEXT + LF (through TLS once it is up) and read
 *                    one whole reply (OK <n> ... DONE for LIST, HELP, WHO)
 *   send:TEXT        send TEXT + LF, read nothing
 *   raw:ESC          send bytes; \n \r \t \\ \0 and \xHH are understood
 *   rawsock:ESC      send bytes on the socket itself, bypassing TLS
 *   login:USER:PASS  send LOGIN with both percent-encoded, read the reply
 *   read[:SECS], reply[:SECS], drain[:SECS]
 *                    read one line / one whole reply / lines until EOF
 *                    or timeout
 * Data connections (port and token from the last UPLOAD/DOWNLOAD OK):
 *   data[:MODE[:HELLO]][@SRC]
 *                    open a data connection.  MODE: resume (TLS resuming
 *                    the current control connection's newest session
 *                    ticket; the default on a TLS session), full (TLS
 *                    with a full handshake, no ticket offered), ctl=N
 *                    (TLS resuming control connection N's ticket), plain
 *                    (no TLS; the default on a plaintext session).  HELLO:
 *                    tok (default), bad (last digit changed) or none.
 *                    Result: "DATA-CONNECTED tls=resumed|full|off" or
 *                    "DATA-HANDSHAKE-FAILED <reason>"
 *   dprobe[:SECS]    wait up to SECS (default 2) for the server to act on
 *                    the data connection, consuming nothing: "DATA-CLOSED"
 *                    (rejected), "DATA-READABLE" (download bytes) or
 *                    "DATA-OPEN" (still waiting for us: an accepted upload)
 *   dsend:PATH[:N], dgen:N, ddigest[:bad]
 *                    send file bytes / N pseudo-random bytes / the SHA-256
 *                    of what was sent so far (or a wrong one)
 *   dframes:N        streamed upload (UPLOAD <path> *): later dsend and
 *                    dgen send chunks of at most N bytes, each behind its
 *                    4-byte big-endian length (0: unframed again)
 *   dend[:bad]       the end of a stream: length 0, the 8-byte total of
 *                    the bytes sent and their SHA-256 (or a wrong one)
 *   dskip:PATH:N     hash the next N bytes of PATH without sending them
 *                    (what a resumed upload delivered before)
 *   draw:ESC         send bytes (escaped as for raw:) on the data
 *                    connection's socket, bypassing TLS and the hash
 *   dshut            TLS close_notify (plaintext: half-close)
 *   dclose           close the data connection
 *   drecv[:PATH]     receive until the end: "DATA n=N sha=HEX end=EOF|
 *                    CLOSE_NOTIFY|RESET|TIMEOUT"
 * Whole transfers (MODE as for data:):
 *   put:PATH:NAME[:MODE]
 *                    UPLOAD the file as NAME: "PUT-OK sha=HEX",
 *                    "PUT-REFUSED <reply>" (no token issued) or
 *                    "PUT-FAILED <what>", followed by the control lines
 *   get:NAME:PATH[:MODE]
 *                    DOWNLOAD NAME to PATH, verified against the
 *                    announced SHA-256: "GET-OK n=N sha=HEX",
 *                    "GET-REFUSED <reply>" or "GET-FAILED <what>"
 * Checks and helpers:
 *   ok:RE / not:RE   the first line of the last result matches / does not
 *   has:RE / no:RE   some / no line of the last result matches RE
 *   sleep:SECS, note:TEXT
 *
 * Exit status: 0 all checks passed, 1 a check failed, 2 usage, 3 a step
 * could not run (no connection, no session ticket yet), 4 the watchdog
 * fired.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "hash.h"
#include "ftx_limits.h"
#include "net.h"
#include "str.h"

#define MAX_CONNS 64
#define CONN_BUF (80 * 1024)
#define MAX_LINES 100000
#define IO_BUF (64 * 1024)

/* A read's outcome besides a count: see io_read. */
#define IO_EOF 0
#define IO_TIMEOUT -2
#define IO_RESET -3
#define IO_NOTIFY -4 /* the peer's TLS close_notify */

struct ctl {
	int fd;
	SSL *ssl; /* NULL until STARTTLS */
	SSL_SESSION *ticket; /* the newest session ticket received */
	char *buf;
	size_t len;
};

struct dconn {
	int fd;
	SSL *ssl;
	struct hash_ctx *h;
	uint64_t sent;
	size_t frame; /* dframes: the chunk size, 0 unframed */
};

static const char *host = "127.0.0.1";
static int ctl_port = -1;
static int read_timeout_s = 10;

static struct ctl ctls[MAX_CONNS];
static int nctl;
static int cur_ctl_i = -1;
static struct dconn datas[MAX_CONNS];
static int ndata;
static int cur_data = -1;

/* What the last UPLOAD/DOWNLOAD OK reply told us. */
static int xfer_port = -1;
static char xfer_token[FTX_TOKEN_HEX + 1];
static char xfer_sha[2 * HASH_SHA256_LEN + 1];
static uint64_t xfer_size;

static SSL_CTX *ssl_ctx;
static int tls_min, tls_max; /* 0: OpenSSL's defaults */
static char tls12_ciphers[512]; /* "": OpenSSL's defaults */
static int ex_ctl = -1; /* SSL ex_data index: the struct ctl */

static char *lines[MAX_LINES];
static int nlines;
static int failures;
static uint64_t prng_state = 0x2545f4914f6cdd1dULL;

static void
watchdog(int sig)
{
	static const char msg[] = "# WATCHDOG: ftxtls ran too long\n";

	(void)sig;
	(void)!write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	_exit(4);
}

static void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	printf("# FATAL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(3);
}

/* --- results ------------------------------------------------------------ */

static void
result_clear(void)
{
	int i;

	for (i = 0; i < nlines; i++)
		free(lines[i]);
	nlines = 0;
}

static void
result_add(const char *s)
{
	char *p;

	if (nlines >= MAX_LINES)
		return;
	if ((p = strdup(s)) == NULL)
		die("%s", "out of memory");
	lines[nlines++] = p;
}

/* A one-line result of our own (not a line the server sent). */
static void result_set(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
result_set(const char *fmt, ...)
{
	char msg[FTX_ERRLEN + 256];
	va_list ap;

	va_start(ap, fmt);
	(void)str_vfmt(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	result_clear();
	result_add(msg);
	printf("# %s\n", msg);
}

/* Decode C-style escapes in place; returns the decoded length. */
static size_t
unescape_len(char *s)
{
	char *r = s, *w = s;

	while (*r != '\0') {
		if (*r != '\\' || r[1] == '\0') {
			*w++ = *r++;
			continue;
		}
		r++;
		switch (*r) {
		case 'n':
			*w++ = '\n';
			r++;
			break;
		case 'r':
			*w++ = '\r';
			r++;
			break;
		case 't':
			*w++ = '\t';
			r++;
			break;
		case '0':
			*w++ = '\0';
			r++;
			break;
		case 'x':
			if (isxdigit((unsigned char)r[1]) &&
			    isxdigit((unsigned char)r[2])) {
				char hx[3] = {r[1], r[2], '\0'};

				*w++ = (char)strtol(hx, NULL, 16);
				r += 3;
				break;
			}
			*w++ = *r++;
			break;
		default:
			*w++ = *r++;
			break;
		}
	}
	return (size_t)(w - s);
}

/* Percent-encode an argument the way every FTX/1 argument travels. */
static void
encode_arg(char *out, size_t n, const char *in)
{
	size_t k = 0;

	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;

		if (k + 4 > n)
			die("%s", "argument too long");
		if (c == '%' || c <= ' ' || c == 0x7f) {
			out[k++] = '%';
			out[k++] = "0123456789ABCDEF"[c >> 4];
			out[k++] = "0123456789ABCDEF"[c & 0xf];
		} else
			out[k++] = (char)c;
	}
	out[k] = '\0';
}

/* --- time ---------------------------------------------------------------- */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
ms_left(double deadline)
{
	double left = deadline - now_s();

	if (left <= 0)
		return 0;
	return left > 1e6 ? 1000000000 : (int)(left * 1000) + 1;
}

static double
arg_secs(const char *s, double dflt)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return dflt;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || v < 0 || v > 86400)
		die("bad number of seconds: %s", s);
	return v;
}

/* --- TLS ----------------------------------------------------------------- */

/* The first queued OpenSSL error, or `dflt`. */
static const char *
ssl_reason(const char *dflt)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return dflt;
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

/* Keep the newest ticket a control connection received: data
 * connections offer it (tls.h, tls_resume_from). */
static int
new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct ctl *c = SSL_get_ex_data(ssl, ex_ctl);

	if (c == NULL)
		return 0;
	if (c->ticket != NULL)
		SSL_SESSION_free(c->ticket);
	c->ticket = sess;
	printf("# control connection %d: session ticket received\n",
	    (int)(c - ctls));
	return 1; /* we keep the reference */
}

static int
version_of(const char *s)
{
	static const struct {
		const char *name;
		int v;
	} vs[] = {{"1.0", TLS1_VERSION}, {"1.1", TLS1_1_VERSION},
	    {"1.2", TLS1_2_VERSION}, {"1.3", TLS1_3_VERSION}, {"", 0}};
	size_t i;

	for (i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
		if (strcmp(s, vs[i].name) == 0)
			return vs[i].v;
	die("unknown TLS version: %s", s);
}

/*
 * The client context.  Nothing is verified: this is an attacker's and a
 * tester's tool; the peer's fingerprint is printed instead.  Offering an
 * old version needs security level 0, or OpenSSL 3 would not even send
 * the ClientHello the server is meant to refuse.
 */
static SSL_CTX *
client_ctx(void)
{
	if (ssl_ctx != NULL)
		return ssl_ctx;
	if ((ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("SSL_CTX_new: %s", ssl_reason("failed"));
	SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (tls12_ciphers[0] != '\0' &&
	    SSL_CTX_set_cipher_list(ssl_ctx, tls12_ciphers) != 1)
		die("cipher list: %s", ssl_reason("failed"));
	if (tls12_ciphers[0] == '\0' && tls_min != 0 &&
	    tls_min < TLS1_2_VERSION &&
	    SSL_CTX_set_cipher_list(ssl_ctx, "DEFAULT:@SECLEVEL=0") != 1)
		die("cipher list: %s", ssl_reason("failed"));
	if ((tls_min != 0 &&
		SSL_CTX_set_min_proto_version(ssl_ctx, tls_min) != 1) ||
	    (tls_max != 0 &&
		SSL_CTX_set_max_proto_version(ssl_ctx, tls_max) != 1))
		die("TLS versions: %s", ssl_reason("failed"));
	SSL_CTX_set_session_cache_mode(
	    ssl_ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ssl_ctx, new_session);
	return ssl_ctx;
}

static SSL *
ssl_for(int fd)
{
	SSL *ssl = SSL_new(client_ctx());

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1)
		die("SSL_new: %s", ssl_reason("failed"));
	SSL_set_connect_state(ssl);
	return ssl;
}

/* Wait for `ev` on fd until the deadline: 1 ready, 0 timeout. */
static int
wait_fd(int fd, short ev, double deadline)
{
	struct pollfd pfd = {.fd = fd, .events = ev};
	int r;

	for (;;) {
		r = poll(&pfd, 1, ms_left(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			die("poll: %s", strerror(errno));
		return r > 0;
	}
}

/* What an SSL_* call that returned r wants: POLLIN, POLLOUT, or 0 if it
 * failed for good (IO_EOF / IO_NOTIFY / IO_RESET in *why). */
static short
ssl_wants(SSL *ssl, int r, int *why)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return POLLIN;
	case SSL_ERROR_WANT_WRITE:
		return POLLOUT;
	case SSL_ERROR_ZERO_RETURN:
		*why = IO_NOTIFY;
		return 0;
	case SSL_ERROR_SYSCALL:
		*why = errno == 0 ? IO_EOF : IO_RESET;
		return 0;
	default:
		*why = IO_RESET;
		return 0;
	}
}

/* The handshake on a non-blocking socket: 0, or -1 with `err`. */
static int
handshake(int fd, SSL *ssl, double deadline, char *err, size_t errlen)
{
	int r, why = IO_RESET;
	short ev;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_do_handshake(ssl)) == 1)
			return 0;
		if ((ev = ssl_wants(ssl, r, &why)) == 0) {
			const char *e = ssl_reason(NULL);

			return str_err(err, errlen, "%s",
			    e != NULL ? e
				: why == IO_EOF
				? "the server closed the connection"
				: strerror(errno != 0 ? errno : ECONNRESET));
		}
		if (!wait_fd(fd, ev, deadline))
			return str_err(err, errlen, "timeout");
	}
}

/* Describe an established TLS connection: "TLSv1.3 <cipher> SHA256:..". */
static void
describe(SSL *ssl, char *out, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1] = "-";
	X509 *cert = SSL_get0_peer_certificate(ssl);
	unsigned int len = 0;

	if (cert != NULL && X509_digest(cert, EVP_sha256(), md, &len) == 1)
		str_hex(hex, md, len);
	(void)str_fmt(out, n, "%s %s SHA256:%s", SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl), hex);
}

/* --- I/O on a socket with or without TLS --------------------------------- */

/*
 * Read up to n bytes before the deadline: a count, IO_EOF, IO_NOTIFY,
 * IO_TIMEOUT or IO_RESET.
 */
static ssize_t
io_read(int fd, SSL *ssl, void *p, size_t n, double deadline)
{
	ssize_t r;
	int why = IO_RESET;
	short ev;

	for (;;) {
		if (ssl == NULL) {
			r = recv(fd, p, n, 0);
			if (r >= 0)
				return r;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return IO_RESET;
			ev = POLLIN;
		} else {
			ERR_clear_error();
			errno = 0;
			r = SSL_read(
			    ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
			if (r > 0)
				return r;
			if ((ev = ssl_wants(ssl, (int)r, &why)) == 0)
				return why;
		}
		if (!wait_fd(fd, ev, deadline))
			return IO_TIMEOUT;
	}
}

/* Like io_read, but consume nothing (MSG_PEEK / SSL_peek). */
static ssize_t
io_peek(int fd, SSL *ssl, double deadline)
{
	char b;
	ssize_t r;
	int why = IO_RESET;
	short ev;

	for (;;) {
		if (ssl == NULL) {
			r = recv(fd, &b, 1, MSG_PEEK);
			if (r >= 0)
				return r;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return IO_RESET;
			ev = POLLIN;
		} else {
			ERR_clear_error();
			errno = 0;
			r = SSL_peek(ssl, &b, 1);
			if (r > 0)
				return r;
			if ((ev = ssl_wants(ssl, (int)r, &why)) == 0)
				return why;
		}
		if (!wait_fd(fd, ev, deadline))
			return IO_TIMEOUT;
	}
}

/* Write all n bytes before the deadline: 0, or -1 with errno. */
static int
io_write(int fd, SSL *ssl, const void *p, size_t n, double deadline)
{
	const char *q = p;
	ssize_t r;
	int why;
	short ev;

	while (n > 0) {
		if (ssl == NULL) {
			r = send(fd, q, n, MSG_NOSIGNAL);
			if (r >= 0) {
				q += r;
				n -= (size_t)r;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -1;
			ev = POLLOUT;
		} else {
			int chunk = n > IO_BUF ? IO_BUF : (int)n;

			ERR_clear_error();
			errno = 0;
			r = SSL_write(ssl, q, chunk);
			if (r > 0) {
				q += r;
				n -= (size_t)r;
				continue;
			}
			if ((ev = ssl_wants(ssl, (int)r, &why)) == 0) {
				if (errno == 0)
					errno = EPIPE;
				return -1;
			}
		}
		if (!wait_fd(fd, ev, deadline)) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

/* Connect to host:port, optionally from source address `src`
 * (127.0.0.0/8 is all local, so 127.0.0.2 is a second client IP). */
static int
tcp_connect(int port, const char *src, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16];
	int fd = -1, rc;

	if (src == NULL) {
		fd = net_connect(host, port, 5, err, errlen);
		goto done;
	}
	(void)str_fmt(portstr, sizeof(portstr), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0)
		return str_err(err, errlen, "%s: %s", host, gai_strerror(rc));
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		struct sockaddr_storage ss;
		socklen_t sl = 0;

		memset(&ss, 0, sizeof(ss));
		if (ai->ai_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			if (inet_pton(AF_INET, src, &s4->sin_addr) != 1)
				continue;
			sl = sizeof(*s4);
		} else if (ai->ai_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			if (inet_pton(AF_INET6, src, &s6->sin6_addr) != 1)
				continue;
			sl = sizeof(*s6);
		} else {
			continue;
		}
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		if (bind(fd, (struct sockaddr *)&ss, sl) == 0 &&
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		(void)str_err(
		    err, errlen, "connect from %s: %s", src, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
done:
	if (fd != -1 && net_set_nonblock(fd, 1) == -1) {
		close(fd);
		return str_err(err, errlen, "nonblock: %s", strerror(errno));
	}
	return fd;
}

/* --- control connections --------------------------------------------- */

static struct ctl *
cur_ctl(void)
{
	if (cur_ctl_i < 0 || ctls[cur_ctl_i].fd == -1)
		die("%s", "no open control connection");
	return &ctls[cur_ctl_i];
}

/* Print what we send, shortened, with control bytes escaped. */
static void
show_sent(const char *tag, const char *p, size_t n)
{
	size_t i, shown = n < 120 ? n : 120;

	printf("%s ", tag);
	for (i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\n' && i == n - 1)
			break;
		if (c < 0x20 || c >= 0x7f || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	if (shown < n)
		printf("...(%zu bytes)", n);
	printf("\n");
}

/* Send on the current control connection, through TLS if it is up
 * (`bypass`: on the socket regardless). */
static void
ctl_send(const char *p, size_t n, int bypass)
{
	struct ctl *c = cur_ctl();
	SSL *ssl = bypass ? NULL : c->ssl;

	show_sent(ssl != NULL ? ">T" : ">", p, n);
	if (io_write(c->fd, ssl, p, n, now_s() + read_timeout_s) == -1)
		printf("# send failed: %s\n", strerror(errno));
}

static void
ctl_send_line(const char *text)
{
	size_t n = strlen(text);
	char *p = malloc(n + 1);

	if (p == NULL)
		die("%s", "out of memory");
	memcpy(p, text, n);
	p[n] = '\n';
	ctl_send(p, n + 1, 0);
	free(p);
}

/* One line (CR LF stripped) within the timeout: 1, or an IO_* code. */
static int
ctl_readline(struct ctl *c, double timeout_s, char *out, size_t outsz)
{
	double deadline = now_s() + timeout_s;

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		size_t n, take;
		ssize_t r;

		if (nl != NULL || c->len == CONN_BUF) {
			n = nl != NULL ? (size_t)(nl - c->buf) : c->len;
			take = n < outsz - 1 ? n : outsz - 1;
			memcpy(out, c->buf, take);
			out[take] = '\0';
			if (take > 0 && out[take - 1] == '\r')
				out[take - 1] = '\0';
			if (nl != NULL)
				n++;
			memmove(c->buf, c->buf + n, c->len - n);
			c->len -= n;
			return 1;
		}
		r = io_read(c->fd, c->ssl, c->buf + c->len, CONN_BUF - c->len,
		    deadline);
		if (r > 0) {
			c->len += (size_t)r;
			continue;
		}
		if (r != IO_TIMEOUT && c->len > 0) {
			/* A last line without LF still counts. */
			take = c->len < outsz - 1 ? c->len : outsz - 1;
			memcpy(out, c->buf, take);
			out[take] = '\0';
			c->len = 0;
			return 1;
		}
		return (int)r;
	}
}

/* Read one line into the result (appended or fresh); returns 1 or the
 * IO_* code. */
static int
read_one(double timeout_s, int append)
{
	static char line[CONN_BUF + 1];
	const char *what;
	double t0 = now_s();
	int r;

	r = ctl_readline(cur_ctl(), timeout_s, line, sizeof(line));
	if (!append)
		result_clear();
	switch (r) {
	case 1:
		printf("< %s\n# after %.2f s\n", line, now_s() - t0);
		result_add(line);
		return r;
	case IO_EOF:
	case IO_NOTIFY:
		what = "EOF";
		break;
	case IO_TIMEOUT:
		what = "TIMEOUT";
		break;
	default:
		what = "RESET";
		break;
	}
	/* How long the server took to end the wait (handshake timeouts). */
	printf("< %s\n# after %.2f s\n", what, now_s() - t0);
	result_add(what);
	return r;
}

/* "OK <digits>" heads a multi-line reply. */
static int
is_multi_head(const char *s)
{
	const char *p;

	if (strncmp(s, "OK ", 3) != 0 || s[3] == '\0')
		return 0;
	for (p = s + 3; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	return 1;
}

/*
 * Read a reply: one line, or "OK <n>", n lines and DONE.  `multi` is 1
 * if the command has a multi-line reply (LIST, HELP, WHO), 0 if not
 * (PARTIAL's "OK <bytes>" looks the same), -1 if unknown (a guess from
 * the first line).
 */
static void
read_reply(double timeout_s, int multi)
{
	long n, i;

	if (read_one(timeout_s, 0) != 1 || multi == 0 ||
	    !is_multi_head(lines[0]))
		return;
	n = strtol(lines[0] + 3, NULL, 10);
	for (i = 0; i <= n && nlines < MAX_LINES; i++) {
		if (read_one(timeout_s, 1) != 1)
			return;
		if (strncmp(lines[nlines - 1], "DONE", 4) == 0)
			return;
	}
}

/* Remember the port, token, size and SHA-256 of an UPLOAD or DOWNLOAD OK
 * reply. */
static void
note_transfer(const char *sent, const char *reply)
{
	char verb[16], w[6][160];
	int n;

	if (sscanf(sent, "%15s", verb) != 1)
		return;
	n = sscanf(reply, "%159s %159s %159s %159s %159s %159s", w[0], w[1],
	    w[2], w[3], w[4], w[5]);
	if (n < 1 || strcmp(w[0], "OK") != 0)
		return;
	if (strcasecmp(verb, "UPLOAD") == 0 && n >= 3) {
		xfer_port = atoi(w[1]);
		(void)str_copy(xfer_token, sizeof(xfer_token), w[2]);
	} else if (strcasecmp(verb, "DOWNLOAD") == 0 && n >= 5) {
		(void)str_to_u64(w[1], UINT64_MAX, &xfer_size);
		xfer_port = atoi(w[2]);
		(void)str_copy(xfer_token, sizeof(xfer_token), w[3]);
		(void)str_copy(xfer_sha, sizeof(xfer_sha), w[4]);
	}
}

/* Send a command line and read its reply, noting transfers. */
static void
command(const char *text)
{
	static const char *const multi[] = {"LIST", "HELP", "WHO"};
	char verb[16] = "";
	int m = 0;
	size_t i;

	(void)sscanf(text, "%15s", verb);
	for (i = 0; i < sizeof(multi) / sizeof(multi[0]); i++)
		if (strcasecmp(verb, multi[i]) == 0)
			m = 1;
	ctl_send_line(text);
	read_reply(read_timeout_s, m);
	if (nlines > 0)
		note_transfer(text, lines[0]);
}

static void
ctl_open(const char *src)
{
	char err[FTX_ERRLEN] = "";
	struct ctl *c;
	int fd;

	if (nctl == MAX_CONNS)
		die("%s", "too many control connections");
	if ((fd = tcp_connect(ctl_port, src, err, sizeof(err))) == -1) {
		result_set("CONNECT-FAILED %s", err);
		return;
	}
	c = &ctls[nctl];
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	if ((c->buf = malloc(CONN_BUF)) == NULL)
		die("%s", "out of memory");
	cur_ctl_i = nctl++;
	printf("# control connection %d\n", cur_ctl_i);
	read_one(read_timeout_s, 0);
}

static void
ctl_close(void)
{
	struct ctl *c = cur_ctl();

	printf("# close control connection %d\n", cur_ctl_i);
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	/* The newest connection still open becomes current. */
	for (cur_ctl_i = nctl - 1; cur_ctl_i >= 0; cur_ctl_i--)
		if (ctls[cur_ctl_i].fd != -1)
			break;
}

/* TLS on the current control connection, after the server's OK. */
static void
ctl_handshake(int append)
{
	struct ctl *c = cur_ctl();
	char err[FTX_ERRLEN], what[300];

	if (c->ssl != NULL)
		die("%s", "TLS is already up on this connection");
	c->ssl = ssl_for(c->fd);
	SSL_set_ex_data(c->ssl, ex_ctl, c);
	/* Bytes the server sent in plaintext after its OK would be read as
	 * TLS records now; there must be none. */
	if (c->len > 0)
		printf(
		    "# %zu plaintext bytes were buffered before TLS\n", c->len);
	if (!append)
		result_clear();
	if (handshake(c->fd, c->ssl, now_s() + read_timeout_s, err,
		sizeof(err)) == -1) {
		(void)str_fmt(what, sizeof(what), "TLS-FAILED %s", err);
		SSL_free(c->ssl);
		c->ssl = NULL;
	} else {
		char d[200];

		describe(c->ssl, d, sizeof(d));
		(void)str_fmt(what, sizeof(what), "TLS-UP %s", d);
	}
	printf("# %s\n", what);
	result_add(what);
}

/* STARTTLS, with `extra` bytes pipelined in the same write. */
static void
ctl_starttls(char *extra)
{
	static const char cmd[] = "STARTTLS\n";
	size_t n = extra != NULL ? unescape_len(extra) : 0;
	char *p = malloc(sizeof(cmd) + n);

	if (p == NULL)
		die("%s", "out of memory");
	memcpy(p, cmd, sizeof(cmd) - 1);
	if (n > 0)
		memcpy(p + sizeof(cmd) - 1, extra, n);
	ctl_send(p, sizeof(cmd) - 1 + n, 0);
	free(p);
	if (read_one(read_timeout_s, 0) != 1 || strncmp(lines[0], "OK", 2) != 0)
		return;
	ctl_handshake(1);
}

/* --- data connections ------------------------------------------------- */

static struct dconn *
cur_dconn(void)
{
	if (cur_data < 0 || datas[cur_data].fd == -1)
		die("%s", "no open data connection");
	return &datas[cur_data];
}

/*
 * Open a data connection in `mode` and send the hello.  0 when the hello
 * went out (result DATA-CONNECTED), -1 otherwise (result says why).
 */
static int
data_open(const char *mode, const char *hello_spec, const char *src)
{
	char err[FTX_ERRLEN] = "", hello[FTX_TOKEN_HEX + 2];
	struct ctl *c = cur_ctl();
	SSL_SESSION *resume = NULL, *copy = NULL;
	struct dconn *d;
	int use_tls, fd;

	if (xfer_port <= 0)
		die("%s", "no data port known: no UPLOAD/DOWNLOAD OK yet");
	if (ndata == MAX_CONNS)
		die("%s", "too many data connections");
	if (mode == NULL || *mode == '\0')
		mode = c->ssl != NULL ? "resume" : "plain";
	use_tls = strcmp(mode, "plain") != 0;
	if (strcmp(mode, "resume") == 0) {
		resume = c->ticket;
		if (resume == NULL)
			die("control connection %d has no session ticket",
			    cur_ctl_i);
	} else if (strncmp(mode, "ctl=", 4) == 0) {
		long n = strtol(mode + 4, NULL, 10);

		if (n < 0 || n >= nctl || ctls[n].ticket == NULL)
			die("control connection %s has no session ticket",
			    mode + 4);
		resume = ctls[n].ticket;
	} else if (strcmp(mode, "full") != 0 && strcmp(mode, "plain") != 0) {
		die("unknown data mode: %s", mode);
	}
	(void)str_fmt(hello, sizeof(hello), "%s\n", xfer_token);
	if (hello_spec != NULL && strcmp(hello_spec, "bad") == 0) {
		size_t n = strlen(xfer_token);

		if (n > 0)
			hello[n - 1] = hello[n - 1] == '0' ? '1' : '0';
	} else if (hello_spec != NULL && strcmp(hello_spec, "none") == 0) {
		hello[0] = '\0';
	} else if (hello_spec != NULL && strcmp(hello_spec, "tok") != 0) {
		die("unknown data hello: %s", hello_spec);
	}
	if ((fd = tcp_connect(xfer_port, src, err, sizeof(err))) == -1) {
		result_set("DATA-CONNECT-FAILED %s", err);
		return -1;
	}
	d = &datas[ndata];
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	if ((d->h = hash_new(HASH_SHA256, err, sizeof(err))) == NULL)
		die("%s", err);
	cur_data = ndata++;
	printf("# data connection %d to port %d, mode %s\n", cur_data,
	    xfer_port, mode);
	if (use_tls) {
		d->ssl = ssl_for(fd);
		/* A copy: with client caching on, OpenSSL marks a TLS 1.3
		 * session it resumed as used up, and a later data
		 * connection must be able to offer the same ticket again. */
		if (resume != NULL &&
		    ((copy = SSL_SESSION_dup(resume)) == NULL ||
			SSL_set_session(d->ssl, copy) != 1))
			die("SSL_set_session: %s", ssl_reason("failed"));
		SSL_SESSION_free(copy);
		if (handshake(fd, d->ssl, now_s() + read_timeout_s, err,
			sizeof(err)) == -1) {
			result_set("DATA-HANDSHAKE-FAILED %s", err);
			return -1;
		}
	}
	if (hello[0] != '\0') {
		printf("# data hello: %.*s\n", FTX_TOKEN_HEX, hello);
		if (io_write(fd, d->ssl, hello, strlen(hello),
			now_s() + read_timeout_s) == -1) {
			result_set("SENDFAIL hello err=%s", strerror(errno));
			return -1;
		}
	}
	result_set("DATA-CONNECTED tls=%s",
	    d->ssl == NULL		     ? "off"
		: SSL_session_reused(d->ssl) ? "resumed"
					     : "full");
	return 0;
}

/* Has the server acted on the data connection, without consuming? */
static void
data_probe(double secs)
{
	struct dconn *d = cur_dconn();
	double t0 = now_s();
	ssize_t r = io_peek(d->fd, d->ssl, t0 + secs);

	printf("# after %.2f s\n", now_s() - t0);
	if (r > 0)
		result_set("DATA-READABLE");
	else if (r == IO_TIMEOUT)
		result_set("DATA-OPEN");
	else
		result_set("DATA-CLOSED %s",
		    r == IO_NOTIFY    ? "close_notify"
			: r == IO_EOF ? "eof"
				      : "reset");
}

static void
put_be32(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
}

/* Send `len` bytes on the current data connection, hashed; framed in
 * chunks after dframes. */
static int
data_write(const void *p, size_t len)
{
	struct dconn *d = cur_dconn();
	const unsigned char *q = p;
	unsigned char head[4];
	size_t n;

	while (len > 0) {
		n = d->frame > 0 && len > d->frame ? d->frame : len;
		put_be32(head, (uint32_t)n);
		if (d->frame > 0 &&
		    io_write(
			d->fd, d->ssl, head, 4, now_s() + read_timeout_s) == -1)
			return -1;
		if (io_write(d->fd, d->ssl, q, n, now_s() + read_timeout_s) ==
		    -1)
			return -1;
		if (hash_update(d->h, q, n) == -1)
			die("%s", "hash_update failed");
		d->sent += n;
		q += n;
		len -= n;
	}
	return 0;
}

/* dend[:bad]: a stream's end marker, total and digest. */
static void
data_end(const char *how)
{
	unsigned char b[4 + 8 + HASH_MAX_LEN];
	struct dconn *d = cur_dconn();
	int i;

	put_be32(b, 0);
	for (i = 0; i < 8; i++)
		b[4 + i] = (unsigned char)(d->sent >> (56 - 8 * i));
	if (hash_final(d->h, b + 12) == -1)
		die("%s", "hash_final failed");
	if (how != NULL && strcmp(how, "bad") == 0)
		b[12 + HASH_SHA256_LEN - 1] ^= 0x01;
	else if (how != NULL)
		die("unknown end kind: %s", how);
	printf("# end of stream: total %llu\n", (unsigned long long)d->sent);
	if (io_write(d->fd, d->ssl, b, 12 + HASH_SHA256_LEN,
		now_s() + read_timeout_s) == -1) {
		result_set("SENDFAIL end err=%s", strerror(errno));
		return;
	}
	result_set("SENT end");
}

static int
report_send(uint64_t n, int failed)
{
	if (failed)
		result_set("SENDFAIL n=%llu err=%s", (unsigned long long)n,
		    strerror(errno));
	else
		result_set("SENT n=%llu", (unsigned long long)n);
	return failed ? -1 : 0;
}

/* Send the next `want` bytes of the file (all with UINT64_MAX). */
static int
data_send_fd(int fd, uint64_t want)
{
	static unsigned char iobuf[IO_BUF];
	uint64_t done = 0;

	while (done < want) {
		size_t n =
		    want - done < IO_BUF ? (size_t)(want - done) : IO_BUF;
		ssize_t r = read(fd, iobuf, n);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			die("read failed: %s", strerror(errno));
		if (r == 0)
			break;
		if (data_write(iobuf, (size_t)r) == -1)
			return report_send(done, 1);
		done += (uint64_t)r;
	}
	return report_send(done, 0);
}

/* Hash the next `want` bytes of the file without sending them: the
 * part a resumed upload has already delivered. */
static void
data_skip_fd(int fd, uint64_t want)
{
	static unsigned char iobuf[IO_BUF];
	struct dconn *d = cur_dconn();
	uint64_t done = 0;

	while (done < want) {
		size_t n =
		    want - done < IO_BUF ? (size_t)(want - done) : IO_BUF;
		ssize_t r = read(fd, iobuf, n);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			die("read failed: %s", strerror(errno));
		if (r == 0)
			break;
		if (hash_update(d->h, iobuf, (size_t)r) == -1)
			die("%s", "hash_update failed");
		done += (uint64_t)r;
	}
	result_set("SKIPPED n=%llu", (unsigned long long)done);
}

/* dsend:PATH[:N] and dskip:PATH:N; each path keeps its read position
 * across steps. */
static void
data_send_file(char *arg, int skip)
{
	static struct {
		char path[4096];
		int fd;
	} files[16];
	static int nfiles;
	char *colon = strrchr(arg, ':');
	uint64_t want = UINT64_MAX;
	int i;

	if (colon != NULL) {
		*colon = '\0';
		if (str_to_u64(colon + 1, UINT64_MAX, &want) == -1)
			die("bad byte count in dsend: %s", colon + 1);
	}
	for (i = 0; i < nfiles; i++)
		if (strcmp(files[i].path, arg) == 0)
			break;
	if (i == nfiles) {
		if (nfiles == 16)
			die("%s", "too many files for dsend");
		if (str_copy(files[i].path, sizeof(files[i].path), arg) == -1)
			die("path too long: %s", arg);
		if ((files[i].fd = open(arg, O_RDONLY | O_CLOEXEC)) == -1)
			die("cannot open %s", arg);
		nfiles++;
	}
	if (skip)
		data_skip_fd(files[i].fd, want);
	else
		(void)data_send_fd(files[i].fd, want);
}

static void
data_send_gen(const char *arg)
{
	static unsigned char iobuf[IO_BUF];
	uint64_t want, done = 0;

	if (str_to_u64(arg, UINT64_MAX, &want) == -1)
		die("bad byte count in dgen: %s", arg);
	while (done < want) {
		size_t n =
		    want - done < IO_BUF ? (size_t)(want - done) : IO_BUF;
		size_t i;

		/* xorshift64: cheap, and neither compressible nor zero. */
		for (i = 0; i < n; i++) {
			prng_state ^= prng_state << 13;
			prng_state ^= prng_state >> 7;
			prng_state ^= prng_state << 17;
			iobuf[i] = (unsigned char)prng_state;
		}
		if (data_write(iobuf, n) == -1) {
			(void)report_send(done, 1);
			return;
		}
		done += n;
	}
	(void)report_send(done, 0);
}

/* Send the SHA-256 of what was sent (unhashed itself); 0 or -1. */
static int
data_send_digest(const char *how)
{
	unsigned char dg[HASH_MAX_LEN];
	char hex[2 * HASH_MAX_LEN + 1];
	struct dconn *d = cur_dconn();

	if (hash_final(d->h, dg) == -1)
		die("%s", "hash_final failed");
	if (how != NULL && strcmp(how, "bad") == 0)
		dg[HASH_SHA256_LEN - 1] ^= 0x01;
	else if (how != NULL)
		die("unknown digest kind: %s", how);
	str_hex(hex, dg, HASH_SHA256_LEN);
	printf(
	    "# digest of %llu bytes: %s\n", (unsigned long long)d->sent, hex);
	if (io_write(d->fd, d->ssl, dg, HASH_SHA256_LEN,
		now_s() + read_timeout_s) == -1) {
		result_set("SENDFAIL digest err=%s", strerror(errno));
		return -1;
	}
	result_set("SENT digest");
	return 0;
}

/* An uploading client's end: close_notify (plaintext: FIN). */
static void
data_shut(void)
{
	struct dconn *d = cur_dconn();

	if (d->ssl != NULL) {
		ERR_clear_error();
		(void)SSL_shutdown(d->ssl);
		ERR_clear_error();
	} else if (shutdown(d->fd, SHUT_WR) == -1) {
		printf("# shutdown failed: %s\n", strerror(errno));
	}
}

static void
data_close(void)
{
	struct dconn *d = cur_dconn();

	if (d->ssl != NULL)
		SSL_free(d->ssl);
	d->ssl = NULL;
	close(d->fd);
	d->fd = -1;
	hash_free(d->h);
	d->h = NULL;
	printf("# closed data connection %d\n", cur_data);
}

/* Receive until the end; result "DATA n=N sha=HEX end=..."; the SHA-256
 * in `sha` if not NULL.  Returns the byte count. */
static uint64_t
data_recv(const char *path, char *sha, const char **endp)
{
	static unsigned char iobuf[IO_BUF];
	unsigned char dg[HASH_MAX_LEN];
	char hex[2 * HASH_MAX_LEN + 1], err[FTX_ERRLEN];
	struct dconn *d = cur_dconn();
	const char *end = "EOF";
	struct hash_ctx *h;
	uint64_t total = 0;
	int out = -1;

	if ((h = hash_new(HASH_SHA256, err, sizeof(err))) == NULL)
		die("%s", err);
	if (path != NULL && *path != '\0') {
		out =
		    open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out == -1)
			die("cannot create %s", path);
	}
	for (;;) {
		/* A stall is measured per read, not per transfer. */
		ssize_t r = io_read(d->fd, d->ssl, iobuf, sizeof(iobuf),
		    now_s() + read_timeout_s);

		if (r > 0) {
			if (hash_update(h, iobuf, (size_t)r) == -1)
				die("%s", "hash_update failed");
			if (out != -1 &&
			    net_write_all(out, iobuf, (size_t)r) == -1)
				die("write %s failed", path);
			total += (uint64_t)r;
			continue;
		}
		end = r == IO_NOTIFY  ? "CLOSE_NOTIFY"
		    : r == IO_EOF     ? "EOF"
		    : r == IO_TIMEOUT ? "TIMEOUT"
				      : "RESET";
		break;
	}
	if (hash_final(h, dg) == -1)
		die("%s", "hash_final failed");
	hash_free(h);
	if (out != -1)
		close(out);
	str_hex(hex, dg, HASH_SHA256_LEN);
	if (sha != NULL)
		memcpy(sha, hex, 2 * HASH_SHA256_LEN + 1);
	if (endp != NULL)
		*endp = end;
	result_set(
	    "DATA n=%llu sha=%s end=%s", (unsigned long long)total, hex, end);
	return total;
}

/* The first line of the last result, or "" (for a summary). */
static const char *
first_line(void)
{
	return nlines > 0 ? lines[0] : "";
}

/* put:PATH:NAME[:MODE] - a whole upload. */
static void
xfer_put(char *arg)
{
	char *name = strchr(arg, ':'), *mode, enc[4 * FTX_NAME_MAX + 1];
	char cmdline[sizeof(enc) + 64], reply[FTX_LINE_MAX], sha[65];
	struct stat st;
	int fd;

	if (name == NULL)
		die("%s", "put needs PATH:NAME");
	*name++ = '\0';
	if ((mode = strchr(name, ':')) != NULL)
		*mode++ = '\0';
	if ((fd = open(arg, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		die("cannot open %s", arg);
	encode_arg(enc, sizeof(enc), name);
	(void)str_fmt(cmdline, sizeof(cmdline), "UPLOAD %s %lld", enc,
	    (long long)st.st_size);
	xfer_port = -1;
	command(cmdline);
	if (strncmp(first_line(), "OK ", 3) != 0 || xfer_port <= 0) {
		(void)str_copy(reply, sizeof(reply), first_line());
		close(fd);
		result_set("PUT-REFUSED %s", reply);
		return;
	}
	if (data_open(mode, NULL, NULL) == -1) {
		(void)str_copy(reply, sizeof(reply), first_line());
		close(fd);
		result_set("PUT-FAILED %s", reply);
		return;
	}
	if (data_send_fd(fd, UINT64_MAX) == -1 ||
	    data_send_digest(NULL) == -1) {
		(void)str_copy(reply, sizeof(reply), first_line());
		close(fd);
		data_close();
		/* The server's verdict explains a refused send. */
		read_one(read_timeout_s, 0);
		result_set("PUT-FAILED %s; control: %s", reply, first_line());
		return;
	}
	close(fd);
	data_shut();
	data_close();
	read_one(read_timeout_s, 0);
	(void)str_copy(reply, sizeof(reply), first_line());
	if (sscanf(reply, "DONE %64s", sha) == 1)
		result_set("PUT-OK sha=%s", sha);
	else
		result_set("PUT-FAILED control: %s", reply);
}

/* get:NAME:PATH[:MODE] - a whole download, verified. */
static void
xfer_get(char *arg)
{
	char *path = strchr(arg, ':'), *mode, enc[4 * FTX_NAME_MAX + 1];
	char cmdline[sizeof(enc) + 64], reply[FTX_LINE_MAX], sha[65];
	const char *end = "";
	uint64_t n;

	if (path == NULL)
		die("%s", "get needs NAME:PATH");
	*path++ = '\0';
	if ((mode = strchr(path, ':')) != NULL)
		*mode++ = '\0';
	encode_arg(enc, sizeof(enc), arg);
	(void)str_fmt(cmdline, sizeof(cmdline), "DOWNLOAD %s", enc);
	xfer_port = -1;
	command(cmdline);
	if (strncmp(first_line(), "OK ", 3) != 0 || xfer_port <= 0) {
		(void)str_copy(reply, sizeof(reply), first_line());
		result_set("GET-REFUSED %s", reply);
		return;
	}
	if (data_open(mode, NULL, NULL) == -1) {
		(void)str_copy(reply, sizeof(reply), first_line());
		result_set("GET-FAILED %s", reply);
		return;
	}
	n = data_recv(path, sha, &end);
	data_close();
	if (n != xfer_size || strcmp(sha, xfer_sha) != 0) {
		result_set("GET-FAILED got n=%llu sha=%s end=%s, announced "
			   "n=%llu sha=%s",
		    (unsigned long long)n, sha, end,
		    (unsigned long long)xfer_size, xfer_sha);
		return;
	}
	read_one(read_timeout_s, 0);
	(void)str_copy(reply, sizeof(reply), first_line());
	if (strncmp(reply, "DONE", 4) != 0) {
		result_set("GET-FAILED control: %s", reply);
		return;
	}
	result_set(
	    "GET-OK n=%llu sha=%s end=%s", (unsigned long long)n, sha, end);
}

/* --- checks and the script ------------------------------------------- */

static void
check(const char *kind, const char *re)
{
	regex_t rx;
	int i, matched = 0, any, pass;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		die("bad regular expression: %s", re);
	any = strcmp(kind, "has") == 0 || strcmp(kind, "no") == 0;
	for (i = 0; i < (any ? nlines : (nlines > 0 ? 1 : 0)); i++)
		if (regexec(&rx, lines[i], 0, NULL, 0) == 0)
			matched = 1;
	regfree(&rx);
	pass = (strcmp(kind, "ok") == 0 || strcmp(kind, "has") == 0) ? matched
								     : !matched;
	if (pass) {
		printf("# check %s:/%s/ passed\n", kind, re);
		return;
	}
	failures++;
	printf("# CHECK FAILED: %s:/%s/ against:", kind, re);
	if (nlines == 0)
		printf(" (nothing)");
	for (i = 0; i < nlines && i < 10; i++)
		printf(" [%.200s]", lines[i]);
	printf("\n");
	fprintf(stderr, "ftxtls: check %s:/%s/ failed (last: %.200s)\n", kind,
	    re, nlines > 0 ? lines[0] : "(nothing)");
}

static void
login(char *arg)
{
	char *pass = strchr(arg, ':');
	char u[4 * FTX_USER_MAX + 64], p[4 * FTX_PASS_MAX + 64];
	char line[sizeof(u) + sizeof(p) + 16];

	if (pass == NULL)
		die("%s", "login needs USER:PASS");
	*pass++ = '\0';
	encode_arg(u, sizeof(u), arg);
	encode_arg(p, sizeof(p), pass);
	(void)str_fmt(line, sizeof(line), "LOGIN %s %s", u, p);
	/* The password is not printed: the transcript is a log too. */
	printf("# LOGIN %s <password>\n", u);
	if (io_write(cur_ctl()->fd, cur_ctl()->ssl, line, strlen(line),
		now_s() + read_timeout_s) == -1 ||
	    io_write(cur_ctl()->fd, cur_ctl()->ssl, "\n", 1,
		now_s() + read_timeout_s) == -1)
		printf("# send failed: %s\n", strerror(errno));
	explicit_bzero(p, sizeof(p));
	explicit_bzero(line, sizeof(line));
	read_reply(read_timeout_s, 0);
}

static void
set_versions(char *arg)
{
	char *max = strchr(arg != NULL ? arg : "", ':');

	if (arg == NULL || max == NULL)
		die("%s", "tlsver needs MIN:MAX");
	*max++ = '\0';
	tls_min = *arg != '\0' ? version_of(arg) : 0;
	tls_max = *max != '\0' ? version_of(max) : 0;
	/* Later handshakes use a context with the new settings. */
	if (ssl_ctx != NULL) {
		SSL_CTX_free(ssl_ctx);
		ssl_ctx = NULL;
	}
}

static void
run_step(char *step)
{
	char *arg, *at;
	const char *src = NULL;

	/* ctl@SRC and data...@SRC choose a source address. */
	if (strncmp(step, "ctl", 3) == 0 || strncmp(step, "data", 4) == 0) {
		if ((at = strchr(step, '@')) != NULL) {
			*at = '\0';
			src = at + 1;
		}
	}
	if ((arg = strchr(step, ':')) != NULL)
		*arg++ = '\0';
	if (strcmp(step, "ctl") == 0) {
		ctl_open(src);
	} else if (strcmp(step, "use") == 0 && arg != NULL) {
		long n = strtol(arg, NULL, 10);

		if (n < 0 || n >= nctl || ctls[n].fd == -1)
			die("no such control connection: %s", arg);
		cur_ctl_i = (int)n;
	} else if (strcmp(step, "close") == 0) {
		ctl_close();
	} else if (strcmp(step, "starttls") == 0) {
		ctl_starttls(arg);
	} else if (strcmp(step, "handshake") == 0) {
		ctl_handshake(0);
	} else if (strcmp(step, "tlsver") == 0) {
		set_versions(arg);
	} else if (strcmp(step, "ciphers") == 0 && arg != NULL) {
		if (str_copy(tls12_ciphers, sizeof(tls12_ciphers), arg) == -1)
			die("%s", "cipher list too long");
		if (ssl_ctx != NULL) {
			SSL_CTX_free(ssl_ctx);
			ssl_ctx = NULL;
		}
	} else if (strcmp(step, "line") == 0 && arg != NULL) {
		command(arg);
	} else if (strcmp(step, "send") == 0 && arg != NULL) {
		ctl_send_line(arg);
	} else if (strcmp(step, "raw") == 0 && arg != NULL) {
		ctl_send(arg, unescape_len(arg), 0);
	} else if (strcmp(step, "rawsock") == 0 && arg != NULL) {
		ctl_send(arg, unescape_len(arg), 1);
	} else if (strcmp(step, "login") == 0 && arg != NULL) {
		login(arg);
	} else if (strcmp(step, "read") == 0) {
		read_one(arg_secs(arg, read_timeout_s), 0);
	} else if (strcmp(step, "reply") == 0) {
		read_reply(arg_secs(arg, read_timeout_s), -1);
	} else if (strcmp(step, "drain") == 0) {
		double secs = arg_secs(arg, read_timeout_s);
		int i;

		for (i = 0; i < MAX_LINES; i++)
			if (read_one(secs, i > 0) != 1)
				break;
	} else if (strcmp(step, "data") == 0) {
		char *hello = arg != NULL ? strchr(arg, ':') : NULL;

		if (hello != NULL)
			*hello++ = '\0';
		(void)data_open(arg, hello, src);
	} else if (strcmp(step, "dprobe") == 0) {
		data_probe(arg_secs(arg, 2));
	} else if (strcmp(step, "dsend") == 0 && arg != NULL) {
		data_send_file(arg, 0);
	} else if (strcmp(step, "dskip") == 0 && arg != NULL) {
		data_send_file(arg, 1);
	} else if (strcmp(step, "dgen") == 0 && arg != NULL) {
		data_send_gen(arg);
	} else if (strcmp(step, "ddigest") == 0) {
		(void)data_send_digest(arg);
	} else if (strcmp(step, "dframes") == 0 && arg != NULL) {
		cur_dconn()->frame = (size_t)strtoul(arg, NULL, 10);
	} else if (strcmp(step, "dend") == 0) {
		data_end(arg);
	} else if (strcmp(step, "draw") == 0 && arg != NULL) {
		size_t n = unescape_len(arg);

		show_sent(">D", arg, n);
		if (io_write(cur_dconn()->fd, NULL, arg, n,
			now_s() + read_timeout_s) == -1)
			result_set("SENDFAIL raw err=%s", strerror(errno));
		else
			result_set("SENT raw n=%zu", n);
	} else if (strcmp(step, "dshut") == 0) {
		data_shut();
	} else if (strcmp(step, "dclose") == 0) {
		data_close();
	} else if (strcmp(step, "drecv") == 0) {
		(void)data_recv(arg, NULL, NULL);
	} else if (strcmp(step, "put") == 0 && arg != NULL) {
		xfer_put(arg);
	} else if (strcmp(step, "get") == 0 && arg != NULL) {
		xfer_get(arg);
	} else if ((strcmp(step, "ok") == 0 || strcmp(step, "not") == 0 ||
		       strcmp(step, "has") == 0 || strcmp(step, "no") == 0) &&
	    arg != NULL) {
		check(step, arg);
	} else if (strcmp(step, "sleep") == 0 && arg != NULL) {
		sleep_s(arg_secs(arg, 0));
	} else if (strcmp(step, "note") == 0 && arg != NULL) {
		printf("# note: %s\n", arg);
	} else {
		die("unknown step: %s", step);
	}
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ftxtls [-h HOST] -p PORT [-t READ_SECS] "
	    "[-w WATCHDOG_SECS] STEP...\n"
	    "(see the comment at the top of tests/tools/ftxtls.c)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	int opt, watchdog_s = 120, i;

	while ((opt = getopt(argc, argv, "h:p:t:w:")) != -1) {
		switch (opt) {
		case 'h':
			host = optarg;
			break;
		case 'p':
			ctl_port = atoi(optarg);
			break;
		case 't':
			read_timeout_s = atoi(optarg);
			break;
		case 'w':
			watchdog_s = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (ctl_port <= 0 || ctl_port > 65535 || read_timeout_s <= 0 ||
	    watchdog_s <= 0 || optind >= argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, watchdog);
	alarm((unsigned)watchdog_s);
	ex_ctl = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (ex_ctl < 0)
		die("%s", "SSL_get_ex_new_index failed");
	for (i = 0; i < MAX_CONNS; i++)
		ctls[i].fd = datas[i].fd = -1;
	for (i = optind; i < argc; i++)
		run_step(argv[i]);
	printf("# done, %d check(s) failed\n", failures);
	return failures > 0 ? 1 : 0;
}

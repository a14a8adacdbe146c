/*
 * tlsmitm.c - a man in the middle of STARTTLS, for the TLS tests.
 *
 *	tlsmitm LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT CERT KEY
 *
 * An attacker on the path between ftx and ftxd relays the plaintext part
 * of a session untouched, lets the STARTTLS exchange through, and then
 * answers the client's TLS handshake itself, with its own certificate
 * (CERT/KEY), while it runs a second TLS session to the real server.  If
 * the client accepts that certificate the attacker reads and changes
 * everything.  This proxy does exactly that, so a test can prove that ftx
 * refuses a certificate that does not match its --pin, its known_hosts
 * entry or its --cacert, and (with --insecure, as a control) that the
 * proxy itself works.
 *
 * It listens on 127.0.0.1:LISTEN_PORT (0 picks a free port), prints
 * "ready <port>" on stdout once listening, and serves one connection at
 * a time:
 *   1. connect to UPSTREAM_HOST:UPSTREAM_PORT and relay lines both ways
 *      (the greeting, commands and replies) until the client sends the
 *      line STARTTLS;
 *   2. forward it and the server's reply; on "OK ..." run a TLS server
 *      handshake with the client (presenting CERT) and then a TLS client
 *      handshake with the server (verifying nothing);
 *   3. relay the decrypted bytes between the two TLS sessions.
 * Lines are read no further than their LF, so the bytes that follow
 * STARTTLS (the client's ClientHello) stay in the socket for the TLS
 * layer.
 *
 * What happened goes to stderr, one line each, prefixed "tlsmitm: ".
 * The verdicts a test looks for:
 *	tlsmitm: client accepted our certificate
 *		(the client sent application data through the
 *		attacker's TLS session)
 *	tlsmitm: client aborted the handshake: <reason>
 *		(the handshake failed on the client's side, e.g. "tlsv1
 *		alert unknown ca", or the client closed the connection
 *		after the handshake without sending a byte: it checked the
 *		fingerprint and hung up)
 * and at the end of every connection
 *	tlsmitm: connection closed up=N down=N
 * with the application bytes relayed client to server and back.
 *
 * A connection idle for 30 s is dropped, and the proxy exits after 30 s
 * without any activity at all, so a forgotten instance does not linger.
 * SIGTERM and SIGINT end it.  Exit status: 0, 1 on a setup error, 2
 * usage.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ftx_limits.h"
#include "net.h"
#include "str.h"

/* A line (greeting, command, reply) is relayed in pieces of at most
 * this many bytes; the protocol's lines are at most 4096. */
#define MITM_LINE_BUF (64 * 1024)
/* One TLS record's worth of application data per direction. */
#define MITM_BUF (16 * 1024)
/* Drop a connection, or exit, after this long without activity. */
#define MITM_IDLE_S 30
#define MITM_CONNECT_TIMEOUT_S 5
/* Longest poll sleep, so signals and timeouts are noticed. */
#define MITM_TICK_MS 200

static volatile sig_atomic_t stop_signal;

static void
on_stop(int sig)
{
	stop_signal = sig;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
logf_(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	if (str_vfmt(line, sizeof(line), fmt, ap) == -1)
		line[sizeof(line) - 1] = '\0';
	va_end(ap);
	fprintf(stderr, "tlsmitm: %s\n", line);
	fflush(stderr);
}

static time_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tlsmitm LISTEN_PORT UPSTREAM_HOST "
	    "UPSTREAM_PORT CERT KEY\n");
	exit(2);
}

/* Why the last TLS operation failed, one line. */
static void
ssl_reason(SSL *ssl, int r, char *out, size_t n)
{
	int e = SSL_get_error(ssl, r);
	unsigned long code = ERR_peek_last_error();
	const char *why;

	if (e == SSL_ERROR_ZERO_RETURN) {
		str_copy(out, n, "the peer sent close_notify");
	} else if (e == SSL_ERROR_SSL && code != 0) {
		why = ERR_reason_error_string(code);
		if (why != NULL)
			str_copy(out, n, why);
		else
			ERR_error_string_n(code, out, n);
	} else if (e == SSL_ERROR_SYSCALL && errno != 0) {
		str_copy(out, n, strerror(errno));
	} else if (e == SSL_ERROR_SYSCALL) {
		str_copy(out, n, "the peer closed the connection");
	} else {
		(void)str_fmt(out, n, "SSL error %d", e);
	}
	ERR_clear_error();
}

/* ---------------------------------------------------------- plaintext */

/* A line being assembled from one socket. */
struct line {
	char buf[MITM_LINE_BUF];
	size_t len;
	int mid; /* the bytes so far continue an overlong line */
};

/*
 * Read from `fd` into `l`, but no further than the next LF: the bytes
 * after a STARTTLS line or its OK reply belong to the TLS handshake and
 * must stay in the socket.  Returns 1 when `l` holds a complete line (or
 * is full), 0 when more is needed, -1 on EOF or error.
 */
static int
read_line(int fd, struct line *l)
{
	size_t room = sizeof(l->buf) - l->len;
	char *nl;
	ssize_t r;

	r = recv(fd, l->buf + l->len, room, MSG_PEEK);
	if (r == -1 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (r <= 0)
		return -1;
	nl = memchr(l->buf + l->len, '\n', (size_t)r);
	if (nl != NULL)
		r = nl - (l->buf + l->len) + 1;
	/* Consume exactly what we keep. */
	r = recv(fd, l->buf + l->len, (size_t)r, 0);
	if (r <= 0)
		return -1;
	l->len += (size_t)r;
	return nl != NULL || l->len == sizeof(l->buf) ? 1 : 0;
}

/* The line's first token is `word` (case-insensitive), with nothing but
 * spaces and CR LF around it when `alone`. */
static int
line_is(const struct line *l, const char *word, int alone)
{
	size_t i = 0, n = l->len, wl = strlen(word);

	if (l->mid)
		return 0;
	while (n > 0 &&
	    (l->buf[n - 1] == '\n' || l->buf[n - 1] == '\r' ||
		l->buf[n - 1] == ' '))
		n--;
	while (i < n && l->buf[i] == ' ')
		i++;
	if (n - i < wl || strncasecmp(l->buf + i, word, wl) != 0)
		return 0;
	if (n - i == wl)
		return 1;
	return !alone && l->buf[i + wl] == ' ';
}

/* The line without its line end, for the log. */
static void
line_text(const struct line *l, char *out, size_t n)
{
	size_t len = l->len;

	while (len > 0 && (l->buf[len - 1] == '\n' || l->buf[len - 1] == '\r'))
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(out, l->buf, len);
	out[len] = '\0';
}

/* Pass a complete line on; the next line starts fresh. */
static int
forward(int to, struct line *l)
{
	int full = l->len > 0 && l->buf[l->len - 1] != '\n';

	if (net_write_all(to, l->buf, l->len) == -1)
		return -1;
	l->len = 0;
	l->mid = full;
	return 0;
}

/*
 * Phase 1: relay lines until STARTTLS has been answered with OK.
 * Returns 1 to go on with TLS, 0 when the connection is over.
 */
static int
relay_plain(int cfd, int ufd)
{
	static struct line cl, ul;
	struct pollfd p[2];
	char text[256];
	time_t last = now_s();
	int pending = 0, r;

	cl.len = ul.len = 0;
	cl.mid = ul.mid = 0;
	while (!stop_signal) {
		/* While STARTTLS waits for its reply the client is not
		 * read: what it sends next is its TLS handshake. */
		p[0].fd = cfd;
		p[0].events = pending ? 0 : POLLIN;
		p[1].fd = ufd;
		p[1].events = POLLIN;
		if (poll(p, 2, MITM_TICK_MS) == -1) {
			if (errno == EINTR)
				continue;
			logf_("poll: %s", strerror(errno));
			return 0;
		}
		if (now_s() - last >= MITM_IDLE_S) {
			logf_("idle for %d s before STARTTLS; dropping the "
			      "connection",
			    MITM_IDLE_S);
			return 0;
		}
		if (p[0].revents != 0) {
			last = now_s();
			r = read_line(cfd, &cl);
			if (r == -1) {
				logf_("client closed the connection before "
				      "STARTTLS");
				return 0;
			}
			if (r == 1) {
				int starttls = line_is(&cl, "STARTTLS", 1);

				if (forward(ufd, &cl) == -1) {
					logf_("write to upstream: %s",
					    strerror(errno));
					return 0;
				}
				if (starttls) {
					logf_("client sent STARTTLS");
					pending = 1;
				}
			}
		}
		if (p[1].revents != 0) {
			last = now_s();
			r = read_line(ufd, &ul);
			if (r == -1) {
				logf_("upstream closed the connection before "
				      "TLS");
				return 0;
			}
			if (r == 1) {
				int ok = line_is(&ul, "OK", 0);
				int error = line_is(&ul, "ERROR", 0);

				line_text(&ul, text, sizeof(text));
				if (forward(cfd, &ul) == -1) {
					logf_("write to client: %s",
					    strerror(errno));
					return 0;
				}
				if (pending && ok) {
					logf_("upstream answered STARTTLS: %s",
					    text);
					return 1;
				}
				if (pending && error) {
					logf_("upstream refused STARTTLS: %s",
					    text);
					pending = 0;
				}
			}
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- TLS */

/* Run a handshake on a non-blocking socket with a deadline; 0, or -1
 * with the reason in `why`. */
static int
handshake(SSL *ssl, int fd, char *why, size_t n)
{
	time_t deadline = now_s() + FTX_TLS_HANDSHAKE_TIMEOUT_S;
	struct pollfd p;
	int r, e;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		r = SSL_do_handshake(ssl);
		if (r == 1)
			return 0;
		e = SSL_get_error(ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			p.events = POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			p.events = POLLOUT;
		else {
			ssl_reason(ssl, r, why, n);
			return -1;
		}
		if (stop_signal) {
			str_copy(why, n, "interrupted");
			return -1;
		}
		if (now_s() >= deadline) {
			(void)str_fmt(why, n, "timed out after %d s",
			    FTX_TLS_HANDSHAKE_TIMEOUT_S);
			return -1;
		}
		p.fd = fd;
		if (poll(&p, 1, MITM_TICK_MS) == -1 && errno != EINTR) {
			(void)str_fmt(why, n, "poll: %s", strerror(errno));
			return -1;
		}
	}
}

/* One direction of the decrypted relay. */
struct half {
	SSL *src, *dst;
	unsigned char buf[MITM_BUF];
	size_t len, off;
	unsigned long long bytes;
	short src_ev, dst_ev; /* what the last retry waits for */
	int eof;
	char why[FTX_ERRLEN]; /* how the source ended */
};

static short
want_events(SSL *ssl, int r)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return POLLIN;
	case SSL_ERROR_WANT_WRITE:
		return POLLOUT;
	default:
		return 0;
	}
}

/* Move what can be moved without waiting; 1 if anything happened, 0 if
 * not, -1 when writing to the destination failed. */
static int
half_step(struct half *h)
{
	int r, moved = 0;
	short ev;

	h->src_ev = h->dst_ev = 0;
	if (h->len == 0 && !h->eof) {
		ERR_clear_error();
		errno = 0;
		r = SSL_read(h->src, h->buf, sizeof(h->buf));
		if (r > 0) {
			h->len = (size_t)r;
			h->off = 0;
			h->bytes += (unsigned long long)r;
			moved = 1;
		} else if ((ev = want_events(h->src, r)) != 0) {
			h->src_ev = ev;
		} else {
			ssl_reason(h->src, r, h->why, sizeof(h->why));
			h->eof = 1;
			/* Pass the end on, as the source did. */
			(void)SSL_shutdown(h->dst);
			moved = 1;
		}
	}
	if (h->len > 0) {
		ERR_clear_error();
		errno = 0;
		r = SSL_write(h->dst, h->buf + h->off, (int)(h->len - h->off));
		if (r > 0) {
			h->off += (size_t)r;
			if (h->off == h->len)
				h->len = h->off = 0;
			moved = 1;
		} else if ((ev = want_events(h->dst, r)) != 0) {
			h->dst_ev = ev;
		} else {
			ssl_reason(h->dst, r, h->why, sizeof(h->why));
			return -1;
		}
	}
	return moved;
}

/* Phase 3: relay decrypted bytes until both sides are done. */
static void
relay_tls(SSL *cssl, int cfd, SSL *ussl, int ufd)
{
	static struct half up, down;
	struct pollfd p[2];
	time_t last = now_s();
	int accepted = 0, r;

	memset(&up, 0, sizeof(up));
	memset(&down, 0, sizeof(down));
	up.src = down.dst = cssl;
	up.dst = down.src = ussl;
	/* The session is over when either side has ended and what it
	 * sent before has been passed on: a control connection has no
	 * use for a half-closed TLS session. */
	while (!stop_signal && !(up.eof && up.len == 0) &&
	    !(down.eof && down.len == 0)) {
		r = half_step(&up);
		if (up.bytes > 0 && !accepted) {
			logf_("client accepted our certificate");
			accepted = 1;
		}
		if (r == -1) {
			logf_("write to upstream: %s", up.why);
			break;
		}
		if (up.eof && up.len == 0 && !accepted) {
			logf_("client aborted the handshake: it closed the "
			      "connection without sending any data after "
			      "the TLS handshake (%s)",
			    up.why);
			break;
		}
		if (r == 1) {
			last = now_s();
			continue;
		}
		r = half_step(&down);
		if (r == -1) {
			logf_("write to client: %s", down.why);
			break;
		}
		if (r == 1) {
			last = now_s();
			continue;
		}
		/* Nothing moves: wait for a socket. */
		p[0].fd = cfd;
		p[0].events = (short)(up.src_ev | down.dst_ev);
		p[1].fd = ufd;
		p[1].events = (short)(down.src_ev | up.dst_ev);
		if (poll(p, 2, MITM_TICK_MS) == -1 && errno != EINTR) {
			logf_("poll: %s", strerror(errno));
			break;
		}
		if (now_s() - last >= MITM_IDLE_S) {
			logf_("idle for %d s; dropping the connection",
			    MITM_IDLE_S);
			break;
		}
	}
	if (up.eof && accepted)
		logf_("client ended the session: %s", up.why);
	if (down.eof)
		logf_("upstream ended the session: %s", down.why);
	logf_("connection closed up=%llu down=%llu", up.bytes, down.bytes);
}

/* --------------------------------------------------------- connection */

struct ctx {
	const char *host;
	int port;
	SSL_CTX *server; /* towards the client, with the attacker's cert */
	SSL_CTX *client; /* towards the real server, trusting anything */
};

static void
serve(const struct ctx *c, int cfd)
{
	char err[FTX_ERRLEN], why[FTX_ERRLEN];
	SSL *cssl = NULL, *ussl = NULL;
	struct in_addr a;
	int ufd;

	ufd = net_connect(
	    c->host, c->port, MITM_CONNECT_TIMEOUT_S, err, sizeof(err));
	if (ufd == -1) {
		logf_("cannot connect upstream: %s", err);
		return;
	}
	/* Plaintext writes are small lines: blocking, with a timeout. */
	if (net_set_nonblock(cfd, 0) == -1 ||
	    net_set_timeouts(cfd, MITM_IDLE_S) == -1 ||
	    net_set_timeouts(ufd, MITM_IDLE_S) == -1) {
		logf_("socket setup: %s", strerror(errno));
		goto out;
	}
	if (relay_plain(cfd, ufd) != 1)
		goto out;

	if (net_set_nonblock(cfd, 1) == -1 || net_set_nonblock(ufd, 1) == -1) {
		logf_("socket setup: %s", strerror(errno));
		goto out;
	}
	cssl = SSL_new(c->server);
	ussl = SSL_new(c->client);
	if (cssl == NULL || ussl == NULL || SSL_set_fd(cssl, cfd) != 1 ||
	    SSL_set_fd(ussl, ufd) != 1) {
		logf_("SSL_new failed");
		goto out;
	}
	SSL_set_accept_state(cssl);
	SSL_set_connect_state(ussl);
	/* SNI for a server that wants it; not for IP literals. */
	if (inet_pton(AF_INET, c->host, &a) != 1 &&
	    strchr(c->host, ':') == NULL)
		(void)SSL_set_tlsext_host_name(ussl, c->host);

	if (handshake(cssl, cfd, why, sizeof(why)) == -1) {
		logf_("client aborted the handshake: %s", why);
		goto out;
	}
	logf_("TLS handshake with the client done (%s %s), presenting our "
	      "certificate",
	    SSL_get_version(cssl), SSL_get_cipher_name(cssl));
	if (handshake(ussl, ufd, why, sizeof(why)) == -1) {
		logf_("TLS handshake with upstream failed: %s", why);
		goto out;
	}
	logf_("TLS handshake with upstream done (%s %s)", SSL_get_version(ussl),
	    SSL_get_cipher_name(ussl));
	relay_tls(cssl, cfd, ussl, ufd);
out:
	SSL_free(cssl);
	SSL_free(ussl);
	(void)close(ufd);
}

static SSL_CTX *
make_ctx(int server, const char *cert, const char *key)
{
	SSL_CTX *ctx =
	    SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
	if (!server) {
		/* The attacker does not care who the server is. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		char buf[FTX_ERRLEN];

		ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
		fprintf(stderr, "tlsmitm: %s / %s: %s\n", cert, key, buf);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int
main(int argc, char **argv)
{
	struct ctx c;
	struct sigaction sa;
	struct sockaddr_storage peer;
	struct pollfd p;
	char err[FTX_ERRLEN], addr[128];
	uint64_t v;
	time_t last;
	int lfd, cfd, lport;

	if (argc != 6)
		usage();
	if (str_to_u64(argv[1], 65535, &v) == -1)
		usage();
	lport = (int)v;
	c.host = argv[2];
	if (str_to_u64(argv[3], 65535, &v) == -1 || v == 0)
		usage();
	c.port = (int)v;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll returns EINTR and the loops see the flag. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	c.server = make_ctx(1, argv[4], argv[5]);
	c.client = make_ctx(0, NULL, NULL);
	if (c.server == NULL || c.client == NULL)
		return 1;
	lfd = net_listen("127.0.0.1", lport, 8, err, sizeof(err));
	if (lfd == -1) {
		fprintf(stderr, "tlsmitm: %s\n", err);
		return 1;
	}
	printf("ready %d\n", net_local_port(lfd));
	fflush(stdout);

	last = now_s();
	while (!stop_signal) {
		p.fd = lfd;
		p.events = POLLIN;
		if (poll(&p, 1, MITM_TICK_MS) == -1 && errno != EINTR) {
			logf_("poll: %s", strerror(errno));
			break;
		}
		if (now_s() - last >= MITM_IDLE_S) {
			logf_("no connection for %d s; exiting", MITM_IDLE_S);
			break;
		}
		if (!(p.revents & POLLIN))
			continue;
		cfd = net_accept(lfd, &peer);
		if (cfd == -1)
			continue;
		net_addr_str(&peer, addr, sizeof(addr));
		logf_("connection from %s", addr);
		serve(&c, cfd);
		(void)close(cfd);
		last = now_s();
	}
	(void)close(lfd);
	SSL_CTX_free(c.server);
	SSL_CTX_free(c.client);
	return 0;
}

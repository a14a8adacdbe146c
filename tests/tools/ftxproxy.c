/*
 * ftxproxy.c - a misbehaving TCP proxy on loopback for the fault tests.
 *
 * ftxd and ftx on one machine never see a dropped, stalled or corrupted
 * connection.  This proxy sits between them and produces exactly one
 * such fault at an exact byte offset, so a test can show that the client
 * retries and resumes, that a stalled peer times out, and that a flipped
 * bit is caught by the SHA-256 check and never committed.
 *
 *	ftxproxy --map LADDR:LPORT=HOST:PORT [--map ...] [OPTIONS]
 *	ftxproxy --listen [ADDR:]PORT --to HOST:PORT [OPTIONS]
 *
 * OPTIONS: [--fault-map K] [--dir up|down|both] [--faulty N]
 *	    [--cut-after BYTES | --stall-after BYTES] [--cut-after-ms MS]
 *	    [--flip-at BYTE] [--strip-tls] [--record FILE] [--rate BYTES/S]
 *	    [--once] [--lifetime S]
 *
 * Every map listens on LADDR:LPORT (--listen: ADDR defaults to 127.0.0.1;
 * PORT 0 picks a free port) and forwards each connection it accepts to
 * HOST:PORT, in both directions, including half-closes (EOF is passed on
 * as shutdown(SHUT_WR)) and resets (passed on as a reset).  ftx opens its
 * data connection to the control host on the port the server announces,
 * so to put the data connection behind the proxy a test runs ftxd on
 * 127.0.0.1 ports C and D and this proxy with
 *	--map 127.0.0.2:C=127.0.0.1:C --map 127.0.0.2:D=127.0.0.1:D
 * and points the client at 127.0.0.2.  Both proxied connections then come
 * from 127.0.0.1, so ftxd's same-IP check on data tokens holds.
 *
 * Faults apply to the map numbered --fault-map (from 0 in the order given,
 * default 0), and there only to its first --faulty connections (default
 * 1), so that a retry passes through cleanly.  "up" is client to server
 * (the accepted socket to the outgoing one), "down" server to client;
 * --dir (default both) selects the direction(s) the byte counts below
 * refer to.  Offsets count the raw stream from its first byte: on an
 * upload's data connection the first 33 bytes are the token line.
 *
 *   --cut-after BYTES   after BYTES in a selected direction, close both
 *                       sockets with a reset (SO_LINGER 0): a dropped
 *                       connection.  Bytes the kernel had not sent yet
 *                       are lost with it, so the peer gets at most BYTES.
 *   --stall-after BYTES after BYTES, forward nothing more in either
 *                       direction and read nothing more: a black hole.
 *                       The sockets stay open, also when one peer closes
 *                       (which the proxy does not pass on); the pair is
 *                       dropped when both peers have closed, or reset on
 *                       SIGUSR1 or at the end of the lifetime.
 *   --cut-after-ms MS   reset both sockets MS milliseconds after the
 *                       connection was accepted (a control connection
 *                       dropped in the middle of a transfer).
 *   --flip-at BYTE      flip the lowest bit of the byte at offset BYTE of
 *                       each selected direction.
 *   --strip-tls         a STARTTLS stripper: delete the capability words
 *                       "tls" and "tls-required" from the first line the
 *                       server sends (the greeting) on each faulty
 *                       connection, whatever --dir says.
 *                       STARTTLS itself still passes, so a client that
 *                       insists on TLS (ftx --tls) gets it.
 *   --record FILE       append every byte any client sends (the up
 *                       direction of every connection of every map, as
 *                       forwarded) to FILE: what an eavesdropper on the
 *                       path would have.
 *   --rate BYTES/S      forward at most about BYTES per second in each
 *                       direction of every connection of every map (a
 *                       64 KiB burst first); not a fault, so not limited
 *                       to --fault-map and --faulty.  With a slow data
 *                       map, --cut-after-ms can drop the control
 *                       connection in the middle of a transfer.
 *   --once              each map accepts one connection; the proxy exits
 *                       when they have all ended.
 *   --lifetime S        exit after S seconds (default 120).
 *
 * Output on stdout, one line each, flushed: "port N" for every map in
 * order once it listens, then "ready"; then one line per event:
 *	conn ID map K nth N accepted faulty=0|1
 *	conn ID cut|stall|flip up|down at N
 *	conn ID strip WORDS	(the words deleted from the greeting)
 *	conn ID cut at-ms MS
 *	conn ID reset peer-closed|release|error
 *	conn ID closed up=N down=N
 * where ID numbers all connections from 1, N (after "nth") numbers them
 * per map from 1, and up=/down= are the bytes forwarded.
 *
 * SIGUSR1 resets both sockets of every stalled pair.  A test that kills
 * a client during a stall uses it: a killed uploader's FIN stays queued
 * behind the bytes the proxy no longer reads, so without the signal the
 * server would only notice at its --data-timeout.  SIGTERM/SIGINT end
 * the proxy.  Exit status: 0, 1 a socket error at start, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ftx_limits.h"
#include "net.h"
#include "str.h"

#define PROXY_MAX_MAPS 8
#define PROXY_MAX_PAIRS 128
/* One read moves at most this much; it is also the --rate burst. */
#define PROXY_BUF (64 * 1024)
#define PROXY_DEFAULT_LIFETIME_S 120
#define PROXY_CONNECT_TIMEOUT_S 5
#define PROXY_ADDR_MAX 256
#define PROXY_BACKLOG 64
/* Longest poll sleep, so the lifetime and timers are checked. */
#define PROXY_TICK_MS 200
/* --strip-tls: a greeting longer than this is passed on untouched. */
#define PROXY_LINE_MAX FTX_LINE_MAX

enum fault { FAULT_NONE, FAULT_CUT, FAULT_STALL };

struct map {
	char laddr[PROXY_ADDR_MAX];
	int lport;
	char raddr[PROXY_ADDR_MAX];
	int rport;
	int lfd;
	uint64_t accepted;
};

/* One direction of a pair: bytes from fd[src] to fd[1 - src]. */
struct half {
	unsigned char buf[PROXY_BUF];
	size_t len, off; /* buffered bytes not yet written: off..len */
	uint64_t count; /* bytes read from the source: the stream offset */
	uint64_t sent; /* bytes written to the destination */
	int eof; /* the source said EOF */
	int shut; /* the destination got shutdown(SHUT_WR) */
	int flipped;
	/* --strip-tls, down: the greeting so far, held back until its LF */
	int strip; /* still to do */
	char line[PROXY_LINE_MAX];
	size_t linelen;
};

struct pair {
	uint64_t id, nth;
	int map;
	int faulty;
	int stalled;
	int fd[2]; /* 0: the accepted client, 1: the server */
	int gone[2]; /* stalled: this peer has closed */
	struct half h[2]; /* 0: up (client to server), 1: down */
	struct timespec t0;
};

struct opts {
	int fault_map;
	int dir_up, dir_down;
	uint64_t faulty;
	enum fault fault;
	uint64_t fault_at;
	uint64_t cut_ms; /* 0 = off */
	int flip;
	uint64_t flip_at;
	int strip_tls;
	int record_fd; /* --record, or -1 */
	uint64_t rate; /* 0 = unlimited */
	int once;
	uint64_t lifetime;
};

static struct map maps[PROXY_MAX_MAPS];
static int nmaps;
static struct pair *pairs[PROXY_MAX_PAIRS];
static uint64_t next_id = 1;
static struct opts o;

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t release_signal;

static void
on_stop(int sig)
{
	stop_signal = sig;
}

static void
on_release(int sig)
{
	(void)sig;
	release_signal = 1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ftxproxy (--listen [ADDR:]PORT --to HOST:PORT | "
	    "--map LADDR:LPORT=HOST:PORT ...)\n"
	    "    [--fault-map K] [--dir up|down|both] [--faulty N]\n"
	    "    [--cut-after BYTES | --stall-after BYTES]\n"
	    "    [--cut-after-ms MS] [--flip-at BYTE] [--strip-tls] "
	    "[--record FILE]\n"
	    "    [--rate BYTES/S] [--once] [--lifetime S]\n");
	exit(2);
}

static uint64_t
parse_num(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (str_to_u64(s, max, &v) == -1 || v < min) {
		fprintf(stderr,
		    "ftxproxy: --%s wants a number from %llu to %llu, not "
		    "\"%s\"\n",
		    opt, (unsigned long long)min, (unsigned long long)max, s);
		usage();
	}
	return v;
}

/*
 * "ADDR:PORT", "[V6]:PORT" or (when dflt is not NULL) "PORT" alone.
 * Splits at the last colon so that bracketed IPv6 literals work.
 */
static void
parse_hostport(
    const char *opt, const char *s, const char *dflt, char *addr, int *port)
{
	const char *colon = strrchr(s, ':');
	size_t n;

	if (colon == NULL) {
		if (dflt == NULL) {
			fprintf(
			    stderr, "ftxproxy: --%s wants HOST:PORT\n", opt);
			usage();
		}
		(void)str_copy(addr, PROXY_ADDR_MAX, dflt);
		*port = (int)parse_num(opt, s, 0, 65535);
		return;
	}
	n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= PROXY_ADDR_MAX) {
		fprintf(stderr, "ftxproxy: --%s: bad address\n", opt);
		usage();
	}
	memcpy(addr, s, n);
	addr[n] = '\0';
	*port = (int)parse_num(opt, colon + 1, 0, 65535);
}

static struct map *
new_map(void)
{
	struct map *m;

	if (nmaps == PROXY_MAX_MAPS) {
		fprintf(stderr, "ftxproxy: at most %d maps\n", PROXY_MAX_MAPS);
		usage();
	}
	m = &maps[nmaps++];
	memset(m, 0, sizeof(*m));
	m->lfd = -1;
	m->rport = -1;
	return m;
}

/* "LADDR:LPORT=HOST:PORT" */
static void
parse_map(const char *s)
{
	char left[PROXY_ADDR_MAX + 8];
	const char *eq = strchr(s, '=');
	struct map *m;

	if (eq == NULL || (size_t)(eq - s) >= sizeof(left)) {
		fprintf(
		    stderr, "ftxproxy: --map wants LADDR:LPORT=HOST:PORT\n");
		usage();
	}
	memcpy(left, s, (size_t)(eq - s));
	left[eq - s] = '\0';
	m = new_map();
	parse_hostport("map", left, NULL, m->laddr, &m->lport);
	parse_hostport("map", eq + 1, NULL, m->raddr, &m->rport);
}

static void
set_fault(enum fault f, const char *opt, const char *arg)
{
	if (o.fault != FAULT_NONE) {
		fprintf(stderr,
		    "ftxproxy: --cut-after and --stall-after "
		    "exclude each other\n");
		usage();
	}
	o.fault = f;
	o.fault_at = parse_num(opt, arg, 0, UINT64_MAX);
}

static double
elapsed_s(const struct timespec *t0)
{
	struct timespec now;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	    (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	(void)fflush(stdout);
}

static const char *
dir_name(int d)
{
	return d == 0 ? "up" : "down";
}

/* Faults and the rate limit apply to direction d of this pair. */
static int
selected(const struct pair *p, int d)
{
	if (!p->faulty)
		return 0;
	return d == 0 ? o.dir_up : o.dir_down;
}

/* Close a socket so that the peer sees a reset, not an orderly FIN. */
static void
close_rst(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (fd == -1)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void
pair_free(int i, int rst)
{
	struct pair *p = pairs[i];

	say("conn %llu closed up=%llu down=%llu", (unsigned long long)p->id,
	    (unsigned long long)p->h[0].sent, (unsigned long long)p->h[1].sent);
	if (rst) {
		close_rst(p->fd[0]);
		close_rst(p->fd[1]);
	} else {
		close(p->fd[0]);
		close(p->fd[1]);
	}
	free(p);
	pairs[i] = NULL;
}

static void
pair_reset(int i, const char *why)
{
	say("conn %llu reset %s", (unsigned long long)pairs[i]->id, why);
	pair_free(i, 1);
}

static void
accept_one(int mi)
{
	struct map *m = &maps[mi];
	struct sockaddr_storage peer;
	char err[FTX_ERRLEN];
	struct pair *p;
	int cfd, sfd, slot;

	cfd = net_accept(m->lfd, &peer);
	if (cfd == -1)
		return;
	for (slot = 0; slot < PROXY_MAX_PAIRS; slot++) {
		if (pairs[slot] == NULL)
			break;
	}
	if (slot == PROXY_MAX_PAIRS) {
		fprintf(stderr, "ftxproxy: too many connections\n");
		close_rst(cfd);
		return;
	}
	/* Loopback connects at once (or is refused at once), so a blocking
	 * connect with a short timeout does not hold up the other pairs. */
	sfd = net_connect(
	    m->raddr, m->rport, PROXY_CONNECT_TIMEOUT_S, err, sizeof(err));
	if (sfd == -1) {
		fprintf(stderr, "ftxproxy: %s\n", err);
		close_rst(cfd);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL || net_set_nonblock(sfd, 1) == -1 ||
	    net_set_nonblock(cfd, 1) == -1) {
		fprintf(stderr, "ftxproxy: out of memory or fcntl failed\n");
		free(p);
		close_rst(cfd);
		close_rst(sfd);
		return;
	}
	m->accepted++;
	p->id = next_id++;
	p->nth = m->accepted;
	p->map = mi;
	p->faulty = mi == o.fault_map && p->nth <= o.faulty;
	p->fd[0] = cfd;
	p->fd[1] = sfd;
	p->h[1].strip = p->faulty && o.strip_tls;
	(void)clock_gettime(CLOCK_MONOTONIC, &p->t0);
	pairs[slot] = p;
	say("conn %llu map %d nth %llu accepted faulty=%d",
	    (unsigned long long)p->id, mi, (unsigned long long)p->nth,
	    p->faulty);
	if (o.once) {
		close(m->lfd);
		m->lfd = -1;
	}
}

/* How many bytes direction d may read now (rate limit and fault point);
 * 0 means wait. */
static size_t
budget(const struct pair *p, int d)
{
	const struct half *h = &p->h[d];
	uint64_t room = PROXY_BUF, allowed;

	if (o.fault != FAULT_NONE && selected(p, d)) {
		if (h->count >= o.fault_at)
			return 0;
		if (o.fault_at - h->count < room)
			room = o.fault_at - h->count;
	}
	if (o.rate != 0) {
		allowed =
		    (uint64_t)((double)o.rate * elapsed_s(&p->t0)) + PROXY_BUF;
		if (allowed <= h->count)
			return 0;
		if (allowed - h->count < room)
			room = allowed - h->count;
	}
	return (size_t)room;
}

/* Milliseconds until the rate limit lets direction d read again. */
static int
rate_wait_ms(const struct pair *p, int d)
{
	double due;
	int ms;

	if (o.rate == 0 || p->h[d].count < PROXY_BUF)
		return PROXY_TICK_MS;
	due = (double)(p->h[d].count - PROXY_BUF + 1) / (double)o.rate -
	    elapsed_s(&p->t0);
	ms = (int)(due * 1000.0) + 1;
	if (ms < 1)
		ms = 1;
	return ms < PROXY_TICK_MS ? ms : PROXY_TICK_MS;
}

/* The fault point is reached and everything before it is written. */
static int
fault_due(const struct pair *p, int d)
{
	const struct half *h = &p->h[d];

	return o.fault != FAULT_NONE && selected(p, d) &&
	    h->count >= o.fault_at && h->off == h->len;
}

/* --record: what the client sent, appended as forwarded. */
static void
record(const unsigned char *b, size_t n)
{
	if (o.record_fd != -1 && net_write_all(o.record_fd, b, n) == -1)
		fprintf(stderr, "ftxproxy: --record: %s\n", strerror(errno));
}

/* The greeting in h->line without the words "tls" and "tls-required",
 * then LF and the n bytes after it, into h->buf. */
static void
strip_words(struct pair *p, struct half *h, const unsigned char *rest, size_t n)
{
	char out[PROXY_LINE_MAX + 2], gone[PROXY_LINE_MAX + 1];
	size_t len = h->linelen, o_len = 0, g_len = 0, i, w;
	int cr = len > 0 && h->line[len - 1] == '\r';

	if (cr)
		len--;
	for (i = 0; i < len; i = w) {
		for (w = i; w < len && h->line[w] != ' '; w++)
			;
		if ((w - i == 3 && memcmp(h->line + i, "tls", 3) == 0) ||
		    (w - i == 12 &&
			memcmp(h->line + i, "tls-required", 12) == 0)) {
			memcpy(gone + g_len, h->line + i, w - i);
			g_len += w - i;
			gone[g_len++] = ' ';
		} else {
			if (o_len > 0)
				out[o_len++] = ' ';
			memcpy(out + o_len, h->line + i, w - i);
			o_len += w - i;
		}
		while (w < len && h->line[w] == ' ')
			w++;
	}
	if (cr)
		out[o_len++] = '\r';
	out[o_len++] = '\n';
	gone[g_len > 0 ? g_len - 1 : 0] = '\0';
	say("conn %llu strip %s", (unsigned long long)p->id,
	    g_len > 0 ? gone : "nothing");
	/* The caller read at most PROXY_LINE_MAX bytes: both fit. */
	memmove(h->buf + o_len, rest, n);
	memcpy(h->buf, out, o_len);
	h->off = 0;
	h->len = o_len + n;
	h->strip = 0;
}

/* --strip-tls: hold back the bytes h->buf[off..len) just read until the
 * greeting's LF has come, then send the greeting rewritten. */
static void
strip_greeting(struct pair *p, struct half *h)
{
	unsigned char rest[PROXY_LINE_MAX];
	unsigned char *lf = memchr(h->buf, '\n', h->len);
	size_t take = lf != NULL ? (size_t)(lf - h->buf) : h->len;

	if (h->linelen + take > sizeof(h->line)) {
		/* Not a greeting we know: pass everything on as it was. */
		memmove(h->buf + h->linelen, h->buf, h->len);
		memcpy(h->buf, h->line, h->linelen);
		h->len += h->linelen;
		h->strip = 0;
		return;
	}
	memcpy(h->line + h->linelen, h->buf, take);
	h->linelen += take;
	if (lf == NULL) {
		h->len = 0; /* nothing to send yet */
		return;
	}
	memcpy(rest, lf + 1, h->len - take - 1);
	strip_words(p, h, rest, h->len - take - 1);
}

/*
 * Move what can move in direction d without blocking.  Returns 0, or -1
 * if the pair must be reset (a reset or error on either socket).
 */
static int
pump(struct pair *p, int d)
{
	struct half *h = &p->h[d];
	int src = p->fd[d], dst = p->fd[1 - d];
	size_t want;
	ssize_t n;
	uint64_t at;

	for (;;) {
		if (h->off < h->len) {
			n = send(dst, h->buf + h->off, h->len - h->off,
			    MSG_NOSIGNAL);
			if (n == -1) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return 0;
				if (errno == EINTR)
					continue;
				return -1;
			}
			h->off += (size_t)n;
			h->sent += (uint64_t)n;
			continue;
		}
		if (h->eof) {
			if (!h->shut) {
				(void)shutdown(dst, SHUT_WR);
				h->shut = 1;
			}
			return 0;
		}
		want = budget(p, d);
		if (want == 0)
			return 0;
		/* A held-back greeting and what follows it fit the buffer. */
		if (h->strip && want > PROXY_LINE_MAX)
			want = PROXY_LINE_MAX;
		n = recv(src, h->buf, want, 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			h->eof = 1;
			if (h->strip) {
				/* The held-back part of a greeting. */
				memcpy(h->buf, h->line, h->linelen);
				h->off = 0;
				h->len = h->linelen;
				h->strip = 0;
			}
			continue;
		}
		at = h->count;
		h->count += (uint64_t)n;
		h->off = 0;
		h->len = (size_t)n;
		if (o.flip && selected(p, d) && !h->flipped &&
		    o.flip_at >= at && o.flip_at < h->count) {
			h->buf[o.flip_at - at] ^= 0x01;
			h->flipped = 1;
			say("conn %llu flip %s at %llu",
			    (unsigned long long)p->id, dir_name(d),
			    (unsigned long long)o.flip_at);
		}
		if (d == 0)
			record(h->buf, h->len);
		if (h->strip)
			strip_greeting(p, h);
	}
}

/* Service pair i after poll; the pair may be freed. */
static void
service(int i, const short *rev)
{
	struct pair *p = pairs[i];
	int d, k;

	if (p->faulty && o.cut_ms != 0 &&
	    elapsed_s(&p->t0) * 1000.0 >= (double)o.cut_ms) {
		say("conn %llu cut at-ms %llu", (unsigned long long)p->id,
		    (unsigned long long)o.cut_ms);
		pair_free(i, 1);
		return;
	}
	if (p->stalled) {
		/* A black hole passes nothing on, not even a close. */
		for (k = 0; k < 2; k++) {
			if (rev[k] & (POLLRDHUP | POLLHUP | POLLERR))
				p->gone[k] = 1;
		}
		if (p->gone[0] && p->gone[1])
			pair_reset(i, "peer-closed");
		return;
	}
	for (d = 0; d < 2; d++) {
		if (pump(p, d) == -1) {
			pair_reset(i, "error");
			return;
		}
	}
	for (d = 0; d < 2; d++) {
		if (!fault_due(p, d))
			continue;
		switch (o.fault) {
		case FAULT_CUT:
			say("conn %llu cut %s at %llu",
			    (unsigned long long)p->id, dir_name(d),
			    (unsigned long long)p->h[d].count);
			pair_free(i, 1);
			return;
		case FAULT_STALL:
			p->stalled = 1;
			say("conn %llu stall %s at %llu",
			    (unsigned long long)p->id, dir_name(d),
			    (unsigned long long)p->h[d].count);
			return;
		case FAULT_NONE:
			break;
		}
	}
	if (p->h[0].shut && p->h[1].shut)
		pair_free(i, 0);
}

/* Poll events for pair p's socket k (0 client, 1 server). */
static short
events_for(const struct pair *p, int k)
{
	short ev = 0;
	int d;

	if (p->stalled)
		return p->gone[k] ? 0 : POLLRDHUP;
	for (d = 0; d < 2; d++) {
		const struct half *h = &p->h[d];

		/* Direction d reads fd[d] and writes fd[1 - d]. */
		if (h->off < h->len && k == 1 - d)
			ev |= POLLOUT;
		if (h->off == h->len && !h->eof && k == d && budget(p, d) > 0)
			ev |= POLLIN;
	}
	return ev;
}

static int
timeout_ms(double deadline_left_s)
{
	int ms = PROXY_TICK_MS, i, d, w;

	for (i = 0; i < PROXY_MAX_PAIRS; i++) {
		if (pairs[i] == NULL || pairs[i]->stalled)
			continue;
		for (d = 0; d < 2; d++) {
			w = rate_wait_ms(pairs[i], d);
			if (w < ms)
				ms = w;
		}
		if (pairs[i]->faulty && o.cut_ms != 0)
			ms = ms > 5 ? 5 : ms;
	}
	if (deadline_left_s * 1000.0 < ms)
		ms = (int)(deadline_left_s * 1000.0) + 1;
	return ms;
}

static int
live(void)
{
	int i;

	for (i = 0; i < nmaps; i++) {
		if (maps[i].lfd != -1)
			return 1;
	}
	for (i = 0; i < PROXY_MAX_PAIRS; i++) {
		if (pairs[i] != NULL)
			return 1;
	}
	return 0;
}

static void
run(void)
{
	struct pollfd pfd[PROXY_MAX_MAPS + 2 * PROXY_MAX_PAIRS];
	int slot_of[PROXY_MAX_PAIRS];
	struct timespec start;
	double left;
	nfds_t n;
	int i, k;

	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stop_signal && live()) {
		left = (double)o.lifetime - elapsed_s(&start);
		if (left <= 0)
			break;
		if (release_signal) {
			release_signal = 0;
			for (i = 0; i < PROXY_MAX_PAIRS; i++) {
				if (pairs[i] != NULL && pairs[i]->stalled)
					pair_reset(i, "release");
			}
		}
		n = 0;
		for (i = 0; i < nmaps; i++) {
			pfd[n].fd = maps[i].lfd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
		for (i = 0; i < PROXY_MAX_PAIRS; i++) {
			slot_of[i] = -1;
			if (pairs[i] == NULL)
				continue;
			slot_of[i] = (int)n;
			for (k = 0; k < 2; k++) {
				pfd[n].fd =
				    pairs[i]->gone[k] ? -1 : pairs[i]->fd[k];
				pfd[n].events = events_for(pairs[i], k);
				pfd[n].revents = 0;
				n++;
			}
		}
		if (poll(pfd, n, timeout_ms(left)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(
			    stderr, "ftxproxy: poll: %s\n", strerror(errno));
			return;
		}
		for (i = 0; i < PROXY_MAX_PAIRS; i++) {
			short rev[2];

			if (pairs[i] == NULL || slot_of[i] == -1)
				continue;
			rev[0] = pfd[slot_of[i]].revents;
			rev[1] = pfd[slot_of[i] + 1].revents;
			service(i, rev);
		}
		for (i = 0; i < nmaps; i++) {
			if (maps[i].lfd != -1 && (pfd[i].revents & POLLIN))
				accept_one(i);
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, 'L'},
	    {"to", required_argument, NULL, 'T'},
	    {"map", required_argument, NULL, 'M'},
	    {"fault-map", required_argument, NULL, 'F'},
	    {"dir", required_argument, NULL, 'd'},
	    {"faulty", required_argument, NULL, 'n'},
	    {"cut-after", required_argument, NULL, 'c'},
	    {"stall-after", required_argument, NULL, 's'},
	    {"cut-after-ms", required_argument, NULL, 'm'},
	    {"flip-at", required_argument, NULL, 'f'},
	    {"strip-tls", no_argument, NULL, 'S'},
	    {"record", required_argument, NULL, 'R'},
	    {"rate", required_argument, NULL, 'r'},
	    {"once", no_argument, NULL, 'o'},
	    {"lifetime", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	struct map *listen_map = NULL;
	struct sigaction sa;
	char err[FTX_ERRLEN];
	int opt, i, port;

	o.dir_up = o.dir_down = 1;
	o.faulty = 1;
	o.record_fd = -1;
	o.lifetime = PROXY_DEFAULT_LIFETIME_S;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'L':
			listen_map = new_map();
			parse_hostport("listen", optarg, FTX_DEFAULT_HOST,
			    listen_map->laddr, &listen_map->lport);
			break;
		case 'T':
			if (listen_map == NULL || listen_map->rport != -1) {
				fprintf(stderr,
				    "ftxproxy: --to follows --listen\n");
				usage();
			}
			parse_hostport("to", optarg, NULL, listen_map->raddr,
			    &listen_map->rport);
			break;
		case 'M':
			parse_map(optarg);
			break;
		case 'F':
			o.fault_map = (int)parse_num(
			    "fault-map", optarg, 0, PROXY_MAX_MAPS - 1);
			break;
		case 'd':
			if (strcmp(optarg, "up") == 0)
				o.dir_down = 0;
			else if (strcmp(optarg, "down") == 0)
				o.dir_up = 0;
			else if (strcmp(optarg, "both") != 0)
				usage();
			break;
		case 'n':
			o.faulty = parse_num("faulty", optarg, 0, UINT64_MAX);
			break;
		case 'c':
			set_fault(FAULT_CUT, "cut-after", optarg);
			break;
		case 's':
			set_fault(FAULT_STALL, "stall-after", optarg);
			break;
		case 'm':
			o.cut_ms = parse_num(
			    "cut-after-ms", optarg, 1, UINT64_MAX / 2);
			break;
		case 'f':
			o.flip = 1;
			o.flip_at = parse_num("flip-at", optarg, 0, UINT64_MAX);
			break;
		case 'r':
			o.rate = parse_num("rate", optarg, 1, UINT64_MAX / 2);
			break;
		case 'S':
			o.strip_tls = 1;
			break;
		case 'R':
			if (o.record_fd != -1)
				close(o.record_fd);
			o.record_fd = open(optarg,
			    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
			if (o.record_fd == -1) {
				fprintf(stderr, "ftxproxy: %s: %s\n", optarg,
				    strerror(errno));
				return 1;
			}
			break;
		case 'o':
			o.once = 1;
			break;
		case 'l':
			o.lifetime =
			    parse_num("lifetime", optarg, 1, FTX_MAX_TIMEOUT_S);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || nmaps == 0 || o.fault_map >= nmaps)
		usage();
	for (i = 0; i < nmaps; i++) {
		if (maps[i].rport == -1) {
			fprintf(stderr, "ftxproxy: --listen without --to\n");
			usage();
		}
	}

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		return 1;
	sa.sa_handler = on_release;
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		return 1;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return 1;

	for (i = 0; i < nmaps; i++) {
		maps[i].lfd = net_listen(maps[i].laddr, maps[i].lport,
		    PROXY_BACKLOG, err, sizeof(err));
		if (maps[i].lfd == -1) {
			fprintf(stderr, "ftxproxy: %s\n", err);
			return 1;
		}
		port = net_local_port(maps[i].lfd);
		if (port == -1) {
			fprintf(stderr, "ftxproxy: cannot read the port\n");
			return 1;
		}
		say("port %d", port);
	}
	say("ready");
	run();
	for (i = 0; i < PROXY_MAX_PAIRS; i++) {
		if (pairs[i] != NULL)
			pair_free(i, 1);
	}
	for (i = 0; i < nmaps; i++) {
		if (maps[i].lfd != -1)
			close(maps[i].lfd);
	}
	return 0;
}

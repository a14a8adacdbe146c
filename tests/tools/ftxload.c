/*
 * ftxload.c - a load generator for ftxd: many idle sessions, slowloris
 * peers, and many concurrent verified clients.
 *
 *	ftxload [-h HOST] -p PORT [OPTIONS] MODE ARGS...
 *
 * Modes:
 *   idle N        Open N control sessions (at most --window of them
 *                 connecting at once, so the server's accept queue never
 *                 overflows into SYN retransmits), read each greeting,
 *                 print "ready N" on stdout and hold them: for --hold S
 *                 seconds, or, without --hold, until stdin reaches EOF;
 *                 SIGTERM and SIGINT end the hold early.  --noop K sends
 *                 NOOP on every session once per K seconds (spread out
 *                 evenly) to stay under the server's idle timeout.  A
 *                 session the server closes while it is held is "lost".
 *   slowloris N   N control sessions that each send one byte of a line
 *                 that never ends every --interval S seconds (default 2),
 *                 and --data M connections to --data-port that never send
 *                 a token.  Runs until the server has closed all of them
 *                 or --deadline S (default 120) passes, and reports how
 *                 many the server closed and after how long (seconds from
 *                 the connection's establishment).
 *   ops C K       C client processes, each running K operations through
 *                 the real client (--ftx PATH) on files of its own under
 *                 --dir D: put, ls, hash, get, rm in turn, every one
 *                 verified (put and get check SHA-256 end to end inside
 *                 ftx; hash is compared with our own SHA-256 of the file;
 *                 get's result is compared byte for byte; ls must show
 *                 the file that exists and not the one just removed).
 *                 Latency is wall time of one `ftx` process, start to
 *                 exit, so it includes exec and connection setup.
 *
 * Results are key=value lines on stdout (see the report functions);
 * problems are explained on stderr.
 *
 * Exit status: 0 success; 1 a check failed (a session refused or lost,
 * a slow connection still open at the deadline, an operation failed);
 * 2 usage; 3 setup error (resolve, connect, fork, files); 4 the
 * RLIMIT_NOFILE hard limit is too low for the connections asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "hash.h"
#include "ftx_limits.h"
#include "str.h"

#define EXIT_CHECK 1
#define EXIT_USAGE 2
#define EXIT_SETUP 3
#define EXIT_RLIMIT 4

/* Descriptors we need besides the connections (stdio, epoll, slack). */
#define FD_RESERVE 64
/* Most connections one run may hold. */
#define MAX_CONNS 1000000
/* Bytes of each server line we keep; the rest is skipped (we only look
 * at the first tokens). */
#define LINE_KEEP 96
/* What a greeting from a server we can talk to begins with. */
#define GREETING "OK " FTX_PROTO_VERSION
/* Events taken from epoll at once. */
#define EVENTS_MAX 1024
/* NOOPs a session may have unanswered before we call it unresponsive. */
#define NOOP_BACKLOG 3
/* Sessions whose loss or refusal is described on stderr. */
#define DETAIL_MAX 5
/* ops mode: most clients, operations per client, file size. */
#define OPS_MAX_CLIENTS 4096
#define OPS_MAX_PER_CLIENT 1000000
#define OPS_MAX_SIZE (256 * 1024 * 1024)
/* ops mode: stdout we keep from one ftx run (an ls of a busy root). */
#define OPS_OUT_MAX (16 * 1024 * 1024)
#define PATH_LEN 4096

enum mode { M_IDLE, M_SLOW, M_OPS };

static struct {
	const char *host;
	int port;
	int data_port;
	size_t window;
	double hold; /* < 0: until stdin EOF */
	double noop; /* 0: never */
	double interval;
	size_t ndata;
	double deadline;
	const char *dir;
	const char *ftx;
	size_t max_size;
	double op_timeout;
} opt = {"127.0.0.1", -1, -1, 256, -1, 0, 2, 0, 120, NULL, NULL, 65536, 120};

static volatile sig_atomic_t stop_flag;

static void
on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ftxload [-h HOST] -p PORT [OPTIONS] MODE ARGS...\n"
	    "  idle N       hold N idle control sessions\n"
	    "               [--window W] [--hold S] [--noop K] "
	    "[--deadline S]\n"
	    "  slowloris N  N sessions dribbling a never-ending line\n"
	    "               [--interval S] [--data M --data-port PORT]\n"
	    "               [--window W] [--deadline S]\n"
	    "  ops C K      C clients x K verified operations with ftx\n"
	    "               --ftx PATH --dir D [--size MAXBYTES] "
	    "[--op-timeout S]\n"
	    "See the comment at the top of tests/tools/ftxload.c.\n");
	exit(EXIT_USAGE);
}

/* A count: decimal, 0..max. */
static size_t
parse_count(const char *what, const char *s, uint64_t max)
{
	uint64_t v;

	if (str_to_u64(s, max, &v) == -1) {
		fprintf(stderr, "ftxload: bad %s '%s' (0..%llu)\n", what, s,
		    (unsigned long long)max);
		usage();
	}
	return (size_t)v;
}

/* Seconds: a decimal number, 0 < s <= 1 day. */
static double
parse_secs(const char *what, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) ||
	    v > FTX_MAX_TIMEOUT_S) {
		fprintf(stderr, "ftxload: bad %s '%s' (seconds, 0 < s <= %d)\n",
		    what, s, FTX_MAX_TIMEOUT_S);
		usage();
	}
	return v;
}

/*
 * Raise the soft RLIMIT_NOFILE to the hard limit.  Returns 0, or -1 with
 * a message if even the hard limit cannot hold `need` descriptors.
 */
static int
raise_nofile(size_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		fprintf(stderr, "ftxload: getrlimit: %s\n", strerror(errno));
		return -1;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			fprintf(stderr, "ftxload: setrlimit: %s\n",
			    strerror(errno));
			return -1;
		}
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		fprintf(stderr,
		    "ftxload: RLIMIT_NOFILE hard limit is %llu, too low for "
		    "%zu descriptors; raise it (ulimit -Hn, LimitNOFILE=, "
		    "/etc/security/limits.conf)\n",
		    (unsigned long long)rl.rlim_max, need);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Percentiles and medians.                                            */
/* ------------------------------------------------------------------ */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile p (0..100] of v[0..n), sorted in place. */
static double
percentile(double *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

static double
median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	if (n % 2)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------------ */
/* idle and slowloris: many connections in one epoll loop.             */
/* ------------------------------------------------------------------ */

enum ckind { K_CTL, K_DATA };
enum cstate { S_NEW, S_CONNECTING, S_GREETING, S_OPEN, S_CLOSED };

struct conn {
	int fd;
	unsigned char kind;
	unsigned char state;
	unsigned char refused; /* the greeting was not OK FTX/1 */
	unsigned char timeout_msg; /* the server said ERROR TIMEOUT/FLOOD */
	unsigned char skipping; /* dropping the rest of a long line */
	unsigned short inlen;
	unsigned int noops; /* NOOPs awaiting their OK */
	unsigned long long sent; /* slowloris bytes sent */
	double t_up; /* connection established */
	double t_next; /* next NOOP or slow byte */
	double t_end; /* the server closed it */
	char in[LINE_KEEP];
	char last[LINE_KEEP]; /* the last complete line from the server */
};

struct swarm {
	enum mode mode;
	struct conn *c;
	size_t n, nctl;
	struct sockaddr_storage ctl_sa, data_sa;
	socklen_t ctl_salen, data_salen;
	int ep;
	size_t next_start; /* next connection to open */
	size_t inflight; /* connecting or awaiting the greeting */
	size_t up; /* established (control: greeting read) */
	size_t failed; /* could not connect */
	size_t refused; /* greeting was not OK FTX/1 */
	size_t closed; /* closed by the server after being up */
	size_t lost_details;
	int holding; /* idle: all are up and we hold them */
	double t_start, t_ready, next_due;
	unsigned long long noops_sent, noops_ok, unexpected;
	int stdin_watched;
};

static int
resolve(
    const char *host, int port, struct sockaddr_storage *sa, socklen_t *salen)
{
	struct addrinfo hints, *res;
	char ps[16];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (str_fmt(ps, sizeof(ps), "%d", port) == -1)
		return -1;
	if ((rc = getaddrinfo(host, ps, &hints, &res)) != 0) {
		fprintf(stderr, "ftxload: %s: %s\n", host, gai_strerror(rc));
		return -1;
	}
	if (res->ai_addrlen > sizeof(*sa)) {
		freeaddrinfo(res);
		return -1;
	}
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*salen = (socklen_t)res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Stop using a connection.  `rst` closes with an RST instead of a FIN,
 * so that tens of thousands of our closes leave no TIME_WAIT entries
 * behind to exhaust the ephemeral ports of the next run. */
static void
conn_close(struct conn *c, int rst)
{
	struct linger lg = {1, 0};

	if (c->fd == -1)
		return;
	if (rst)
		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c->fd); /* also removes it from the epoll set */
	c->fd = -1;
}

/* The server closed (or reset) a connection that was up. */
static void
server_closed(struct swarm *w, struct conn *c, double now, const char *why)
{
	conn_close(c, 0);
	c->state = S_CLOSED;
	c->t_end = now;
	w->closed++;
	if (w->mode == M_IDLE && w->lost_details < DETAIL_MAX) {
		w->lost_details++;
		fprintf(stderr,
		    "ftxload: session %zu lost after %.1f s (%s); last line "
		    "from the server: '%s'\n",
		    (size_t)(c - w->c), now - c->t_up, why, c->last);
	}
}

/* A connection that never came up. */
static void
setup_failed(struct swarm *w, struct conn *c, const char *why)
{
	if (w->failed + w->refused < DETAIL_MAX)
		fprintf(stderr, "ftxload: connection %zu: %s\n",
		    (size_t)(c - w->c), why);
	if (c->state == S_CONNECTING || c->state == S_GREETING)
		w->inflight--;
	conn_close(c, 1);
	c->state = S_CLOSED;
	if (c->refused)
		w->refused++;
	else
		w->failed++;
}

/* When connection i sends its first NOOP or slow byte: spread evenly
 * over one period so the server sees a steady trickle, not bursts. */
static double
first_due(const struct swarm *w, size_t i, double now)
{
	double period = w->mode == M_IDLE ? opt.noop : opt.interval;

	if (period <= 0)
		return INFINITY;
	return now + period * (double)(i + 1) / (double)(w->nctl + 1);
}

static void
became_up(struct swarm *w, struct conn *c, double now)
{
	c->state = S_OPEN;
	w->inflight--;
	w->up++;
	c->t_next =
	    c->kind == K_CTL ? first_due(w, (size_t)(c - w->c), now) : INFINITY;
	if (c->t_next < w->next_due)
		w->next_due = c->t_next;
}

static void
start_connect(struct swarm *w, struct conn *c)
{
	const struct sockaddr_storage *sa =
	    c->kind == K_CTL ? &w->ctl_sa : &w->data_sa;
	socklen_t salen = c->kind == K_CTL ? w->ctl_salen : w->data_salen;
	struct epoll_event ev;
	char why[128];
	int one = 1;

	c->fd = socket(
	    sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	c->state = S_CONNECTING;
	w->inflight++;
	if (c->fd == -1) {
		(void)str_fmt(why, sizeof(why), "socket: %s", strerror(errno));
		setup_failed(w, c, why);
		return;
	}
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)sa, salen) == -1 &&
	    errno != EINPROGRESS) {
		(void)str_fmt(why, sizeof(why), "connect: %s", strerror(errno));
		setup_failed(w, c, why);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT;
	ev.data.ptr = c;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		(void)str_fmt(
		    why, sizeof(why), "epoll_ctl: %s", strerror(errno));
		setup_failed(w, c, why);
	}
}

static void
start_more(struct swarm *w)
{
	while (w->next_start < w->n && w->inflight < opt.window)
		start_connect(w, &w->c[w->next_start++]);
}

static void
on_connected(struct swarm *w, struct conn *c, double now)
{
	struct epoll_event ev;
	socklen_t len = sizeof(int);
	char why[128];
	int err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		(void)str_fmt(why, sizeof(why), "connect: %s", strerror(err));
		setup_failed(w, c, why);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev) == -1) {
		(void)str_fmt(
		    why, sizeof(why), "epoll_ctl: %s", strerror(errno));
		setup_failed(w, c, why);
		return;
	}
	c->t_up = now;
	if (c->kind == K_CTL)
		c->state = S_GREETING;
	else
		became_up(w, c, now);
}

/* One complete line from the server on a control connection. */
static void
on_line(struct swarm *w, struct conn *c, double now)
{
	memcpy(c->last, c->in, (size_t)c->inlen + 1);
	if (c->state == S_GREETING) {
		if (strncmp(c->in, GREETING, sizeof(GREETING) - 1) == 0) {
			became_up(w, c, now);
		} else {
			char why[LINE_KEEP + 32];

			c->refused = 1;
			(void)str_fmt(why, sizeof(why), "greeting '%s'", c->in);
			setup_failed(w, c, why);
		}
		return;
	}
	if (strncmp(c->in, "ERROR TIMEOUT", 13) == 0 ||
	    strncmp(c->in, "ERROR FLOOD", 11) == 0) {
		c->timeout_msg = 1;
	} else if (strcmp(c->in, "OK") == 0 && c->noops > 0) {
		c->noops--;
		w->noops_ok++;
	} else {
		w->unexpected++;
	}
}

/* Read what the server sent; split lines on a control connection. */
static void
on_readable(struct swarm *w, struct conn *c, double now)
{
	char buf[4096];
	ssize_t n;
	size_t i;

	for (;;) {
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			if (c->state == S_GREETING)
				setup_failed(w, c,
				    n == 0 ? "closed before the greeting"
					   : "reset before the greeting");
			else
				server_closed(w, c, now,
				    n == 0 ? "EOF" : strerror(errno));
			return;
		}
		if (c->kind == K_DATA) {
			w->unexpected += (unsigned long long)n;
			continue;
		}
		for (i = 0; i < (size_t)n && c->state != S_CLOSED; i++) {
			if (buf[i] == '\n') {
				if (c->inlen > 0 && c->in[c->inlen - 1] == '\r')
					c->inlen--;
				c->in[c->inlen] = '\0';
				on_line(w, c, now);
				c->inlen = 0;
				c->skipping = 0;
			} else if (!c->skipping) {
				if ((size_t)c->inlen + 1 < sizeof(c->in))
					c->in[c->inlen++] = buf[i];
				else
					c->skipping = 1;
			}
		}
		if (c->state == S_CLOSED)
			return;
	}
}

/* Slowloris: the bytes of a line that never ends. */
static const char slow_text[] = "NOOP-never-ending-";

/* Time for a connection's NOOP or slow byte. */
static void
act(struct swarm *w, struct conn *c, double now)
{
	double period = w->mode == M_IDLE ? opt.noop : opt.interval;
	const char *p;
	size_t len;
	ssize_t n;

	if (w->mode == M_IDLE) {
		p = "NOOP\n";
		len = 5;
	} else {
		p = &slow_text[c->sent % (sizeof(slow_text) - 1)];
		len = 1;
	}
	n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		server_closed(w, c, now, strerror(errno));
		return;
	}
	if (n > 0) {
		c->sent += (unsigned long long)n;
		if (w->mode == M_IDLE) {
			c->noops++;
			w->noops_sent++;
		}
	}
	/* Keep the phase: a late wake-up does not shift later sends. */
	c->t_next += period;
	if (c->t_next <= now)
		c->t_next = now + period;
}

static void
run_timers(struct swarm *w, double now)
{
	double next = INFINITY;
	size_t i;

	if (now < w->next_due)
		return;
	for (i = 0; i < w->n; i++) {
		struct conn *c = &w->c[i];

		if (c->state != S_OPEN || c->kind != K_CTL)
			continue;
		if (w->mode == M_IDLE && !w->holding)
			continue; /* NOOPs start once everyone is up */
		if (c->t_next <= now)
			act(w, c, now);
		if (c->state == S_OPEN && c->t_next < next)
			next = c->t_next;
	}
	w->next_due = next;
}

static void
swarm_free(struct swarm *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		conn_close(&w->c[i], 1);
	free(w->c);
	if (w->ep != -1)
		close(w->ep);
}

static int
swarm_init(struct swarm *w, enum mode mode, size_t nctl, size_t ndata)
{
	size_t i;

	memset(w, 0, sizeof(*w));
	w->ep = -1;
	w->mode = mode;
	w->nctl = nctl;
	if (str_add_size(nctl, ndata, &w->n) == -1 || w->n > MAX_CONNS) {
		fprintf(stderr, "ftxload: too many connections\n");
		return EXIT_USAGE;
	}
	if (raise_nofile(w->n + FD_RESERVE) == -1)
		return EXIT_RLIMIT;
	if (resolve(opt.host, opt.port, &w->ctl_sa, &w->ctl_salen) == -1)
		return EXIT_SETUP;
	if (ndata > 0 &&
	    resolve(opt.host, opt.data_port, &w->data_sa, &w->data_salen) == -1)
		return EXIT_SETUP;
	if ((w->c = calloc(w->n > 0 ? w->n : 1, sizeof(*w->c))) == NULL) {
		fprintf(stderr, "ftxload: out of memory\n");
		return EXIT_SETUP;
	}
	for (i = 0; i < w->n; i++) {
		w->c[i].fd = -1;
		w->c[i].kind = i < nctl ? K_CTL : K_DATA;
	}
	if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		fprintf(
		    stderr, "ftxload: epoll_create1: %s\n", strerror(errno));
		return EXIT_SETUP;
	}
	w->next_due = INFINITY;
	w->t_start = now_s();
	return 0;
}

/* Idle mode: all connections are up; announce it and start holding. */
static void
begin_hold(struct swarm *w, double now)
{
	struct epoll_event ev;

	w->holding = 1;
	w->t_ready = now;
	printf("ready %zu\n", w->up);
	fflush(stdout);
	if (opt.hold < 0) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = NULL;
		/* A regular file or /dev/null cannot be watched: it is
		 * already at its end, as far as holding goes. */
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) == 0)
			w->stdin_watched = 1;
		else
			stop_flag = 1;
	}
	w->next_due = 0; /* NOOPs were held back until now */
}

/* Drain stdin; 1 at EOF. */
static int
stdin_eof(void)
{
	char buf[512];
	ssize_t n;

	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 0;
	return n <= 0;
}

/* The event loop shared by idle and slowloris; returns when there is
 * nothing left to do or a deadline passed. */
static void
swarm_run(struct swarm *w)
{
	struct epoll_event ev[EVENTS_MAX];
	double now, until;
	int i, n, ms;

	for (;;) {
		now = now_s();
		start_more(w);
		if (w->mode == M_IDLE && !w->holding && w->inflight == 0 &&
		    w->next_start == w->n) {
			if (w->up < w->n)
				return; /* some never came up: report */
			begin_hold(w, now);
		}
		if (stop_flag)
			return;
		run_timers(w, now);
		/* What ends the run: the setup deadline, the hold, or (for
		 * slowloris) the deadline and everything being closed. */
		if (w->mode == M_IDLE && w->holding) {
			until = opt.hold < 0 ? INFINITY : w->t_ready + opt.hold;
		} else {
			until = w->t_start + opt.deadline;
			if (w->mode == M_SLOW && w->next_start == w->n &&
			    w->inflight == 0 &&
			    w->closed + w->failed + w->refused == w->n)
				return;
		}
		if (now >= until)
			return;
		if (w->next_due < until)
			until = w->next_due;
		if (until == INFINITY)
			ms = -1;
		else if (until <= now)
			ms = 0;
		else
			ms = (int)ceil((until - now) * 1000);
		n = epoll_wait(w->ep, ev, EVENTS_MAX, ms);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "ftxload: epoll_wait: %s\n",
			    strerror(errno));
			return;
		}
		now = now_s();
		for (i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;

			if (c == NULL) {
				if (stdin_eof())
					stop_flag = 1;
				continue;
			}
			if (c->fd == -1)
				continue; /* closed earlier in this batch */
			if (c->state == S_CONNECTING)
				on_connected(w, c, now);
			else
				on_readable(w, c, now);
		}
	}
}

/* Close times of one kind of connection: min, median, max. */
static void
report_closes(const struct swarm *w, enum ckind kind, const char *label)
{
	size_t i, n = 0, total = 0, up = 0, msgs = 0;
	unsigned long long sent = 0;
	double *v, mn = 0, mx = 0;

	v = calloc(w->n > 0 ? w->n : 1, sizeof(*v));
	if (v == NULL) {
		fprintf(stderr, "ftxload: out of memory\n");
		return;
	}
	for (i = 0; i < w->n; i++) {
		const struct conn *c = &w->c[i];

		if (c->kind != kind)
			continue;
		total++;
		sent += c->sent;
		if (c->t_up > 0)
			up++;
		if (c->state != S_CLOSED || c->t_end == 0)
			continue;
		msgs += c->timeout_msg;
		v[n] = c->t_end - c->t_up;
		if (n == 0 || v[n] < mn)
			mn = v[n];
		if (n == 0 || v[n] > mx)
			mx = v[n];
		n++;
	}
	printf("slowloris %s n=%zu connected=%zu closed=%zu "
	       "timeout_replies=%zu min_s=%.2f median_s=%.2f max_s=%.2f "
	       "bytes_sent=%llu\n",
	    label, total, up, n, msgs, mn, median(v, n), mx, sent);
	free(v);
}

static int
mode_swarm(enum mode mode, size_t nctl)
{
	struct swarm w;
	double now;
	size_t still_open;
	int rc;

	rc = swarm_init(&w, mode, nctl, mode == M_SLOW ? opt.ndata : 0);
	if (rc != 0) {
		swarm_free(&w);
		return rc;
	}
	swarm_run(&w);
	now = now_s();
	rc = 0;
	if (mode == M_IDLE) {
		printf("idle sessions=%zu connected=%zu refused=%zu failed=%zu "
		       "lost=%zu setup_s=%.3f held_s=%.1f noops=%llu "
		       "noops_ok=%llu\n",
		    w.n, w.up, w.refused, w.failed, w.closed,
		    (w.holding ? w.t_ready : now) - w.t_start,
		    w.holding ? now - w.t_ready : 0.0, w.noops_sent,
		    w.noops_ok);
		if (!w.holding)
			fprintf(stderr,
			    "ftxload: only %zu of %zu sessions came up "
			    "(%zu refused, %zu failed, %zu still connecting)\n",
			    w.up, w.n, w.refused, w.failed, w.inflight);
		if (!w.holding || w.closed > 0)
			rc = EXIT_CHECK;
		if (w.noops_sent > w.noops_ok + NOOP_BACKLOG * w.n) {
			fprintf(stderr, "ftxload: NOOPs went unanswered\n");
			rc = EXIT_CHECK;
		}
	} else {
		report_closes(&w, K_CTL, "control");
		if (opt.ndata > 0)
			report_closes(&w, K_DATA, "data");
		still_open = w.n - w.closed - w.failed - w.refused;
		printf("slowloris elapsed_s=%.2f still_open=%zu refused=%zu "
		       "failed=%zu\n",
		    now - w.t_start, still_open, w.refused, w.failed);
		if (still_open > 0 || w.failed > 0 || w.refused > 0)
			rc = EXIT_CHECK;
		if (still_open > 0)
			fprintf(stderr,
			    "ftxload: %zu connections still open after "
			    "%.0f s\n",
			    still_open, opt.deadline);
	}
	fflush(stdout);
	swarm_free(&w);
	return rc;
}

/* ------------------------------------------------------------------ */
/* ops: C processes running the real client.                           */
/* ------------------------------------------------------------------ */

enum op { OP_PUT, OP_LS, OP_HASH, OP_GET, OP_RM, OP_N };
static const char *const op_name[OP_N] = {"put", "ls", "hash", "get", "rm"};

/* One finished operation, written by a worker to the parent over a
 * pipe (small enough to be written atomically). */
struct result {
	uint32_t us;
	uint16_t worker;
	uint8_t op;
	uint8_t ok;
};

struct worker {
	int id;
	int res_fd;
	char dir[PATH_LEN];
	char errpath[PATH_LEN];
	char src[PATH_LEN]; /* the current file, locally */
	char dl[PATH_LEN]; /* where get puts it */
	char name[64]; /* the current file's name on the server */
	char gone[64]; /* the file removed last, "" if none */
	unsigned char *data;
	size_t size;
	char sha[HASH_SHA256_HEXLEN + 1];
	struct buf out;
	int failures;
};

/* Everything in `path` (at most max bytes) into b; 0 or -1. */
static int
slurp(const char *path, struct buf *b, size_t max)
{
	char *p;
	ssize_t n;
	int fd;

	buf_reset(b);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	for (;;) {
		if (b->len >= max || (p = buf_reserve(b, 64 * 1024)) == NULL) {
			close(fd);
			return -1;
		}
		n = read(fd, p, 64 * 1024);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_commit(b, (size_t)n);
	}
	close(fd);
	return n == 0 ? 0 : -1;
}

/* The first line of the last ftx run's stderr, for failure messages. */
static void
first_err_line(const struct worker *wk, char *out, size_t n)
{
	struct buf b;
	char *lf;

	out[0] = '\0';
	buf_init(&b, 64 * 1024);
	if (slurp(wk->errpath, &b, 16 * 1024) == 0 && b.len > 0 &&
	    buf_append(&b, "", 1) == 0) {
		if ((lf = strchr(buf_head(&b), '\n')) != NULL)
			*lf = '\0';
		(void)str_copy(out, n, buf_head(&b));
	}
	buf_free(&b);
}

/*
 * Run `ftx --host H --port P --quiet ARGS...` with stdout captured in
 * wk->out and stderr in wk->errpath, bounded by --op-timeout.  Returns
 * the exit status (0..255), 256 + signal if it was killed, or -1 if it
 * could not run.
 */
static int
run_ftx(struct worker *wk, const char *const *args, size_t nargs)
{
	const char *argv[16];
	char port[16];
	struct pollfd pfd;
	double deadline;
	size_t i, argc = 0;
	ssize_t n;
	pid_t pid;
	int p[2], status, fd, timed_out = 0;
	char *dst;

	if (nargs + 7 > sizeof(argv) / sizeof(argv[0]) ||
	    str_fmt(port, sizeof(port), "%d", opt.port) == -1)
		return -1;
	argv[argc++] = opt.ftx;
	argv[argc++] = "--host";
	argv[argc++] = opt.host;
	argv[argc++] = "--port";
	argv[argc++] = port;
	argv[argc++] = "--quiet";
	for (i = 0; i < nargs; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	buf_reset(&wk->out);
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		fd = open(wk->errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
		if (fd == -1 || dup2(fd, STDERR_FILENO) == -1 ||
		    dup2(p[1], STDOUT_FILENO) == -1)
			_exit(126);
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd == -1 || dup2(fd, STDIN_FILENO) == -1)
			_exit(126);
		execv(opt.ftx, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	deadline = now_s() + opt.op_timeout;
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		double left = deadline - now_s();

		if (left <= 0) {
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		n = poll(&pfd, 1, (int)ceil(left * 1000));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		if ((dst = buf_reserve(&wk->out, 64 * 1024)) == NULL) {
			/* Over OPS_OUT_MAX: keep draining, drop the rest. */
			char sink[4096];

			n = read(p[0], sink, sizeof(sink));
		} else {
			n = read(p[0], dst, 64 * 1024);
			if (n > 0)
				buf_commit(&wk->out, (size_t)n);
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return -1;
	}
	if (timed_out)
		return 256 + SIGKILL;
	if (WIFSIGNALED(status))
		return 256 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static void
op_failed(struct worker *wk, enum op op, int rc, const char *why)
{
	char line[512];

	first_err_line(wk, line, sizeof(line));
	fprintf(stderr, "ftxload: client %d: %s %s: %s (ftx exit %d%s%s)\n",
	    wk->id, op_name[op], wk->name, why, rc, line[0] ? ": " : "", line);
	wk->failures++;
}

/* A fresh local file with random content and its SHA-256. */
static int
make_file(struct worker *wk, int cycle, char *err, size_t errlen)
{
	unsigned char digest[HASH_SHA256_LEN];
	struct hash_ctx *h;
	uint32_t r;
	size_t off;
	ssize_t n;
	int fd;

	if (str_fmt(wk->name, sizeof(wk->name), "ftxload-%ld-c%d-%d.bin",
		(long)getppid(), wk->id, cycle) == -1 ||
	    str_fmt(wk->src, sizeof(wk->src), "%s/src/%s", wk->dir, wk->name) ==
		-1 ||
	    str_fmt(wk->dl, sizeof(wk->dl), "%s/dl/%s", wk->dir, wk->name) ==
		-1)
		return str_err(err, errlen, "path too long");
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return str_err(err, errlen, "getrandom: %s", strerror(errno));
	wk->size = 1 + (size_t)r % opt.max_size;
	for (off = 0; off < wk->size; off += (size_t)n) {
		n = getrandom(wk->data + off, wk->size - off, 0);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			return str_err(
			    err, errlen, "getrandom: %s", strerror(errno));
	}
	if ((h = hash_new(HASH_SHA256, err, errlen)) == NULL)
		return -1;
	if (hash_update(h, wk->data, wk->size) == -1 ||
	    hash_final(h, digest) == -1) {
		hash_free(h);
		return str_err(err, errlen, "sha256 failed");
	}
	hash_free(h);
	str_hex(wk->sha, digest, sizeof(digest));
	fd = open(wk->src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return str_err(err, errlen, "%s: %s", wk->src, strerror(errno));
	if (write(fd, wk->data, wk->size) != (ssize_t)wk->size) {
		close(fd);
		return str_err(err, errlen, "%s: short write", wk->src);
	}
	if (close(fd) == -1)
		return str_err(err, errlen, "%s: %s", wk->src, strerror(errno));
	return 0;
}

/* 1 if some line of `out` has `name` as its last field (ls output). */
static int
listed(const struct buf *out, const char *name)
{
	const char *p = buf_head(out), *end = p + out->len, *lf, *sp;
	size_t nl = strlen(name);

	for (; p < end; p = lf + 1) {
		if ((lf = memchr(p, '\n', (size_t)(end - p))) == NULL)
			lf = end;
		for (sp = lf; sp > p && sp[-1] != ' '; sp--)
			;
		if ((size_t)(lf - sp) == nl && memcmp(sp, name, nl) == 0)
			return 1;
	}
	return 0;
}

/* Run one operation and check its result; 1 if it passed. */
static int
do_op(struct worker *wk, enum op op)
{
	const char *args[4];
	char dldir[PATH_LEN];
	struct buf got;
	int rc, ok = 0;

	switch (op) {
	case OP_PUT:
		args[0] = "put";
		args[1] = wk->src;
		if ((rc = run_ftx(wk, args, 2)) == 0)
			return 1;
		op_failed(wk, op, rc, "upload failed");
		return 0;
	case OP_LS:
		args[0] = "ls";
		if ((rc = run_ftx(wk, args, 1)) != 0) {
			op_failed(wk, op, rc, "ls failed");
		} else if (!listed(&wk->out, wk->name)) {
			op_failed(
			    wk, op, rc, "the uploaded file is not listed");
		} else if (wk->gone[0] != '\0' && listed(&wk->out, wk->gone)) {
			op_failed(wk, op, rc, "a removed file is still listed");
		} else {
			ok = 1;
		}
		return ok;
	case OP_HASH:
		args[0] = "hash";
		args[1] = wk->name;
		if ((rc = run_ftx(wk, args, 2)) != 0) {
			op_failed(wk, op, rc, "hash failed");
			return 0;
		}
		if (wk->out.len < HASH_SHA256_HEXLEN ||
		    memcmp(buf_head(&wk->out), wk->sha, HASH_SHA256_HEXLEN) !=
			0) {
			op_failed(wk, op, rc, "the server's SHA-256 differs");
			return 0;
		}
		return 1;
	case OP_GET:
		if (str_fmt(dldir, sizeof(dldir), "%s/dl", wk->dir) == -1)
			return 0;
		args[0] = "get";
		args[1] = wk->name;
		args[2] = "-o";
		args[3] = dldir;
		if ((rc = run_ftx(wk, args, 4)) != 0) {
			op_failed(wk, op, rc, "download failed");
			return 0;
		}
		buf_init(&got, OPS_MAX_SIZE + 1);
		if (slurp(wk->dl, &got, OPS_MAX_SIZE + 1) == -1)
			op_failed(wk, op, rc, "cannot read the download");
		else if (got.len != wk->size ||
		    memcmp(buf_head(&got), wk->data, wk->size) != 0)
			op_failed(wk, op, rc, "the download differs");
		else
			ok = 1;
		buf_free(&got);
		(void)unlink(wk->dl);
		return ok;
	case OP_RM:
		args[0] = "rm";
		args[1] = wk->name;
		if ((rc = run_ftx(wk, args, 2)) != 0) {
			op_failed(wk, op, rc, "rm failed");
			return 0;
		}
		(void)unlink(wk->src);
		(void)str_copy(wk->gone, sizeof(wk->gone), wk->name);
		return 1;
	case OP_N:
		break;
	}
	return 0;
}

static void
report_result(struct worker *wk, enum op op, double secs, int ok)
{
	struct result r;
	double us = secs * 1e6;

	memset(&r, 0, sizeof(r));
	r.us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	r.worker = (uint16_t)wk->id;
	r.op = (uint8_t)op;
	r.ok = (uint8_t)ok;
	/* Atomic: sizeof(r) < PIPE_BUF. */
	if (write(wk->res_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(EXIT_SETUP);
}

/* One client: K operations, cycling put, ls, hash, get, rm. */
static int
worker_main(int id, size_t k, int res_fd, int go_fd)
{
	struct worker wk;
	char err[FTX_ERRLEN], c;
	size_t j;
	enum op op;
	double t0;
	int ok, cycle = 0;

	memset(&wk, 0, sizeof(wk));
	wk.id = id;
	wk.res_fd = res_fd;
	buf_init(&wk.out, OPS_OUT_MAX);
	if (str_fmt(wk.dir, sizeof(wk.dir), "%s/c%d", opt.dir, id) == -1 ||
	    str_fmt(wk.errpath, sizeof(wk.errpath), "%s/stderr", wk.dir) ==
		-1 ||
	    (wk.data = malloc(opt.max_size)) == NULL) {
		fprintf(stderr, "ftxload: client %d: setup failed\n", id);
		return EXIT_SETUP;
	}
	/* Wait for the parent's go (EOF on the pipe) so that all clients
	 * start together and the clock does not time our forks. */
	while (read(go_fd, &c, 1) == -1 && errno == EINTR)
		;
	close(go_fd);
	for (j = 0; j < k; j++) {
		op = (enum op)(j % OP_N);
		if (op == OP_PUT &&
		    make_file(&wk, cycle++, err, sizeof(err)) == -1) {
			fprintf(stderr, "ftxload: client %d: %s\n", id, err);
			return EXIT_SETUP;
		}
		t0 = now_s();
		ok = do_op(&wk, op);
		report_result(&wk, op, now_s() - t0, ok);
	}
	/* A cycle cut short by K leaves a file behind: remove it (checked,
	 * but not timed). */
	if (k % OP_N != 0) {
		if (!do_op(&wk, OP_RM))
			report_result(&wk, OP_RM, 0, 0);
	}
	free(wk.data);
	buf_free(&wk.out);
	return wk.failures > 0 ? EXIT_CHECK : 0;
}

static int
mkdirs(const char *dir, int id)
{
	char path[PATH_LEN];

	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return -1;
	if (str_fmt(path, sizeof(path), "%s/c%d", dir, id) == -1 ||
	    (mkdir(path, 0755) == -1 && errno != EEXIST))
		return -1;
	if (str_fmt(path, sizeof(path), "%s/c%d/src", dir, id) == -1 ||
	    (mkdir(path, 0755) == -1 && errno != EEXIST))
		return -1;
	if (str_fmt(path, sizeof(path), "%s/c%d/dl", dir, id) == -1 ||
	    (mkdir(path, 0755) == -1 && errno != EEXIST))
		return -1;
	return 0;
}

/* Latencies of one command type, in seconds, grown as results come. */
struct lat {
	double *v;
	size_t n, cap;
	size_t fail;
};

static int
lat_add(struct lat *l, double secs)
{
	size_t ncap, bytes;
	double *p;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 256;
		if (str_mul_size(ncap, sizeof(*p), &bytes) == -1 ||
		    (p = realloc(l->v, bytes)) == NULL)
			return -1;
		l->v = p;
		l->cap = ncap;
	}
	l->v[l->n++] = secs;
	return 0;
}

static int
mode_ops(size_t clients, size_t k)
{
	struct lat lat[OP_N];
	struct result r;
	pid_t *pids;
	size_t i, total = 0, failures = 0, died = 0;
	double t0, secs;
	int res[2], go[2], status, rc = 0, o;
	ssize_t n;

	if (opt.ftx == NULL || opt.dir == NULL) {
		fprintf(stderr, "ftxload: ops needs --ftx PATH and --dir D\n");
		usage();
	}
	if (access(opt.ftx, X_OK) == -1) {
		fprintf(stderr, "ftxload: %s: %s\n", opt.ftx, strerror(errno));
		return EXIT_SETUP;
	}
	for (i = 0; i < clients; i++) {
		if (mkdirs(opt.dir, (int)i) == -1) {
			fprintf(stderr, "ftxload: cannot create %s/c%zu: %s\n",
			    opt.dir, i, strerror(errno));
			return EXIT_SETUP;
		}
	}
	memset(lat, 0, sizeof(lat));
	if ((pids = calloc(clients, sizeof(*pids))) == NULL ||
	    pipe2(res, O_CLOEXEC) == -1 || pipe2(go, O_CLOEXEC) == -1) {
		fprintf(stderr, "ftxload: setup: %s\n", strerror(errno));
		free(pids);
		return EXIT_SETUP;
	}
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < clients; i++) {
		if ((pids[i] = fork()) == -1) {
			fprintf(stderr, "ftxload: fork: %s\n", strerror(errno));
			rc = EXIT_SETUP;
			break;
		}
		if (pids[i] == 0) {
			close(res[0]);
			close(go[1]);
			_exit(worker_main((int)i, k, res[1], go[0]));
		}
	}
	close(res[1]);
	close(go[0]);
	t0 = now_s();
	close(go[1]); /* go */
	for (;;) {
		n = read(res[0], &r, sizeof(r));
		if (n == -1 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(r))
			break;
		if (r.op >= OP_N)
			continue;
		if (lat_add(&lat[r.op], r.us / 1e6) == -1) {
			fprintf(stderr, "ftxload: out of memory\n");
			rc = EXIT_SETUP;
		}
		if (!r.ok)
			lat[r.op].fail++;
	}
	secs = now_s() - t0;
	close(res[0]);
	for (i = 0; i < clients && pids[i] > 0; i++) {
		while (waitpid(pids[i], &status, 0) == -1 && errno == EINTR)
			;
		if (WIFSIGNALED(status) ||
		    (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
			WEXITSTATUS(status) != EXIT_CHECK))
			died++;
	}
	free(pids);
	for (o = 0; o < OP_N; o++) {
		total += lat[o].n;
		failures += lat[o].fail;
	}
	printf("ops clients=%zu per_client=%zu total=%zu failures=%zu "
	       "clients_died=%zu seconds=%.3f ops_per_s=%.1f\n",
	    clients, k, total, failures, died, secs,
	    secs > 0 ? (double)total / secs : 0.0);
	for (o = 0; o < OP_N; o++) {
		struct lat *l = &lat[o];

		printf("op=%s n=%zu failures=%zu p50_ms=%.2f p99_ms=%.2f "
		       "max_ms=%.2f\n",
		    op_name[o], l->n, l->fail, percentile(l->v, l->n, 50) * 1e3,
		    percentile(l->v, l->n, 99) * 1e3,
		    percentile(l->v, l->n, 100) * 1e3);
		free(l->v);
	}
	fflush(stdout);
	if (rc == 0 && (failures > 0 || died > 0 || total < clients * k))
		rc = EXIT_CHECK;
	return rc;
}

/* ------------------------------------------------------------------ */

enum {
	O_DATA_PORT = 256,
	O_WINDOW,
	O_HOLD,
	O_NOOP,
	O_INTERVAL,
	O_DATA,
	O_DEADLINE,
	O_DIR,
	O_FTX,
	O_SIZE,
	O_OP_TIMEOUT,
	O_HELP
};

static const struct option longopts[] = {{"host", required_argument, NULL, 'h'},
    {"port", required_argument, NULL, 'p'},
    {"data-port", required_argument, NULL, O_DATA_PORT},
    {"window", required_argument, NULL, O_WINDOW},
    {"hold", required_argument, NULL, O_HOLD},
    {"noop", required_argument, NULL, O_NOOP},
    {"interval", required_argument, NULL, O_INTERVAL},
    {"data", required_argument, NULL, O_DATA},
    {"deadline", required_argument, NULL, O_DEADLINE},
    {"dir", required_argument, NULL, O_DIR},
    {"ftx", required_argument, NULL, O_FTX},
    {"size", required_argument, NULL, O_SIZE},
    {"op-timeout", required_argument, NULL, O_OP_TIMEOUT},
    {"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};

int
main(int argc, char **argv)
{
	struct sigaction sa;
	const char *mode;
	size_t n, k;
	int c;

	while ((c = getopt_long(argc, argv, "h:p:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			opt.host = optarg;
			break;
		case 'p':
			opt.port = (int)parse_count("port", optarg, 65535);
			break;
		case O_DATA_PORT:
			opt.data_port =
			    (int)parse_count("data port", optarg, 65535);
			break;
		case O_WINDOW:
			opt.window = parse_count("window", optarg, MAX_CONNS);
			break;
		case O_HOLD:
			opt.hold = parse_secs("hold", optarg);
			break;
		case O_NOOP:
			opt.noop = parse_secs("noop", optarg);
			break;
		case O_INTERVAL:
			opt.interval = parse_secs("interval", optarg);
			break;
		case O_DATA:
			opt.ndata = parse_count("data", optarg, MAX_CONNS);
			break;
		case O_DEADLINE:
			opt.deadline = parse_secs("deadline", optarg);
			break;
		case O_DIR:
			opt.dir = optarg;
			break;
		case O_FTX:
			opt.ftx = optarg;
			break;
		case O_SIZE:
			opt.max_size =
			    parse_count("size", optarg, OPS_MAX_SIZE);
			break;
		case O_OP_TIMEOUT:
			opt.op_timeout = parse_secs("op-timeout", optarg);
			break;
		default:
			usage();
		}
	}
	if (opt.port <= 0 || optind >= argc || opt.window == 0 ||
	    opt.max_size == 0)
		usage();
	mode = argv[optind++];
	/* A server that resets us must show up as a closed connection. */
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: wake epoll_wait */
	sigaction(SIGINT, &sa, NULL);
	if (strcmp(mode, "idle") == 0 && argc - optind == 1) {
		n = parse_count("N", argv[optind], MAX_CONNS);
		return mode_swarm(M_IDLE, n);
	}
	if (strcmp(mode, "slowloris") == 0 && argc - optind == 1) {
		n = parse_count("N", argv[optind], MAX_CONNS);
		if (opt.ndata > 0 && opt.data_port <= 0) {
			fprintf(stderr, "ftxload: --data needs --data-port\n");
			usage();
		}
		return mode_swarm(M_SLOW, n);
	}
	if (strcmp(mode, "ops") == 0 && argc - optind == 2) {
		n = parse_count("C", argv[optind], OPS_MAX_CLIENTS);
		k = parse_count("K", argv[optind + 1], OPS_MAX_PER_CLIENT);
		if (n == 0 || k == 0)
			usage();
		return mode_ops(n, k);
	}
	usage();
}

/*
 * chatload.c - chat fan-out load generator for the ftx benchmark.
 *
 *   chatload [options] PORT
 *
 * Connects C clients to an ftxd control port, JOINs each with a distinct
 * nickname (c0-<pid>, c1-<pid>, ...), waits until every client has seen
 * all the joins (a NOOP round trip each), then lets S of them send M
 * public messages each with `SAY`.  Every client reads all the time and checks
 * each `MSG` push it gets: every sender's messages must arrive at every client
 * exactly once and in order (the sender gets its own copy too).  Each
 * message text carries the sender's CLOCK_MONOTONIC send time in ns;
 * sender and receivers are this one process, so the delivery latency is
 * receive time minus that stamp.
 *
 * Flow control.  ftxd disconnects a member with more than
 * FTX_CHAT_QUEUE_MAX bytes of unsent output (docs/PROTOCOL.md, "Chat"),
 * so a load generator that sends faster than it reads would measure the
 * slow-reader protection instead of the room.  Two windows bound what is
 * in flight: a sender has at most -o messages without their `OK`, and
 * all senders together have at most -w messages that the slowest client
 * has not received yet.  Every message in flight is queued once for
 * every client, so -w times the push size is the most any client can
 * have waiting for it; the default -w keeps that at a quarter of the
 * cap.  By Little's law the latency is about the window divided by the
 * message rate, so -w also chooses the point on the throughput/latency
 * curve that is measured; bench/run.sh states the one it uses.
 *
 * Pacing.  With -r the senders together send that many messages per
 * second (open loop), so the latency is measured at a known offered
 * load instead of at whatever queue the windows allow.
 *
 * Output: one line of key=value pairs on stdout (also when the run
 * fails), diagnostics on stderr.  Exit status 0 if every delivery arrived
 * in order, 1 if any is missing, duplicated or out of order or the run
 * failed, 2 for a usage error.  It is a benchmark tool, so it is built by
 * bench/run.sh and not by the Makefile.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../shared/ftx_limits.h"

#define DEF_CLIENTS 100
#define DEF_MSGS 100
#define DEF_OUTSTANDING 16
#define DEF_TEXT 64
#define DEF_TIMEOUT_S 120
/* More clients than this is not a chat room we claim to measure. */
#define MAX_CLIENTS 4096
/* Receive buffer per client: many pushes per recv(2). */
#define RBUF_SIZE (64 * 1024)
/* A run in which no client receives anything for this long has failed. */
#define STALL_S 10
/* How long we wait for the server to close after our QUITs. */
#define QUIT_WAIT_MS 5000
/* Events taken per epoll_pwait2(2). */
#define EV_BATCH 256
/* Longest epoll wait, so deadlines are checked when nothing happens. */
#define POLL_MS 100
/* Every latency sample is kept, in units of this many ns, so that the
 * percentiles are exact; a uint32_t then covers 429 s. */
#define LAT_UNIT_NS 100
/* The most samples we are willing to keep (1.6 GB). */
#define MAX_SAMPLES 400000000ULL
/* Length of "MSG <ts> " before the nick, ts as in docs/PROTOCOL.md. */
#define PUSH_HEAD 29

enum state {
	ST_CONNECTING,
	ST_GREETING, /* waiting for the server's greeting */
	ST_JOINING, /* JOIN sent, waiting for OK <nick> */
	ST_JOINED, /* in the room, waiting for the others */
	ST_SYNCING, /* NOOP sent: its OK comes after every earlier push */
	ST_READY, /* in the timed run */
};

struct client {
	int fd;
	int idx;
	enum state st;
	char *rbuf;
	size_t rlen;
	char *wbuf;
	size_t wlen, wcap;
	unsigned long long nmsg; /* MSG pushes received */
	uint32_t *next_seq; /* per sender: the seq expected next */
	unsigned int sent, acked; /* senders only */
	uint32_t ev; /* epoll events registered, 0: none */
};

struct opts {
	const char *host;
	int port;
	int clients, senders;
	unsigned int msgs, outstanding, window;
	size_t text;
	int timeout_s;
	double rate; /* messages per second in all; 0: as fast as we can */
};

static struct client *cl;
static int epfd = -1;
static struct pollfd *pfd;
static struct opts o;
static uint32_t *lat;
static unsigned long long nlat, expected, deliveries, misordered, total_sent;
static unsigned long long total_acked;
static unsigned long long lat_max_ns;
static long long t_first_send, t_last_delivery, t_last_rx, t_pace0;
static int failed;
/* The last send_round() had messages it could send but no window. */
static int send_blocked;
/* Our process ID in every nick, so that a run never collides with the
 * departing clients of the previous one. */
static unsigned int nick_tag;

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
fail(const char *fmt, ...)
{
	va_list ap;

	/* The first failure is the interesting one; the rest follow. */
	if (failed++ > 0)
		return;
	fputs("chatload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: chatload [-H host] [-c clients] [-s senders] [-m msgs]\n"
	    "                [-o outstanding] [-w window] [-b text-bytes]\n"
	    "                [-r msgs-per-s] [-t timeout-s] PORT\n"
	    "  -c  clients in the room (default %d)\n"
	    "  -s  how many of them send (default: all)\n"
	    "  -m  messages per sender (default %d)\n"
	    "  -o  messages per sender without their OK (default %d)\n"
	    "  -w  messages in flight in all (default 0: a quarter of\n"
	    "      the server's %d-byte slow-reader cap)\n"
	    "  -b  bytes of message text (default %d)\n"
	    "  -r  send this many messages per second in all, paced\n"
	    "      (default 0: as fast as the windows allow)\n"
	    "  -t  give up after this many seconds (default %d)\n",
	    DEF_CLIENTS, DEF_MSGS, DEF_OUTSTANDING, FTX_CHAT_QUEUE_MAX,
	    DEF_TEXT, DEF_TIMEOUT_S);
	exit(2);
}

/* A decimal number in [min, max], or a usage error. */
static long long
num(const char *s, long long min, long long max, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "chatload: bad %s '%s' (%lld..%lld)\n", what, s,
		    min, max);
		exit(2);
	}
	return v;
}

static void
parse_opts(int argc, char **argv)
{
	int ch;

	o.host = "127.0.0.1";
	o.clients = DEF_CLIENTS;
	o.senders = -1;
	o.msgs = DEF_MSGS;
	o.outstanding = DEF_OUTSTANDING;
	o.window = 0;
	o.text = DEF_TEXT;
	o.timeout_s = DEF_TIMEOUT_S;
	while ((ch = getopt(argc, argv, "H:c:s:m:o:w:b:r:t:")) != -1) {
		switch (ch) {
		case 'H':
			o.host = optarg;
			break;
		case 'c':
			o.clients = (int)num(optarg, 1, MAX_CLIENTS, "-c");
			break;
		case 's':
			o.senders = (int)num(optarg, 1, MAX_CLIENTS, "-s");
			break;
		case 'm':
			o.msgs = (unsigned int)num(optarg, 1, 10000000, "-m");
			break;
		case 'o':
			o.outstanding =
			    (unsigned int)num(optarg, 1, 4096, "-o");
			break;
		case 'w':
			o.window = (unsigned int)num(optarg, 0, 10000000, "-w");
			break;
		case 'b':
			/* The text must hold "<sender> <seq> <ns>". */
			o.text =
			    (size_t)num(optarg, 40, FTX_CHAT_TEXT_MAX, "-b");
			break;
		case 'r':
			o.rate = (double)num(optarg, 0, 100000000, "-r");
			break;
		case 't':
			o.timeout_s = (int)num(optarg, 1, 86400, "-t");
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	o.port = (int)num(argv[optind], 1, 65535, "PORT");
	if (o.senders == -1)
		o.senders = o.clients;
	if (o.senders > o.clients) {
		fprintf(stderr, "chatload: -s %d is more than -c %d\n",
		    o.senders, o.clients);
		exit(2);
	}
}

/* The longest MSG push one of our messages becomes, LF included. */
static size_t
push_len(void)
{
	/* c<idx>-<pid> <text>LF */
	return PUSH_HEAD + 1 + 4 + 1 + 10 + 1 + o.text + 1;
}

/* Raise the descriptor limit if the room needs more than the soft one. */
static int
want_fds(int n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)n + 16) {
		if (rl.rlim_max != RLIM_INFINITY &&
		    rl.rlim_max < (rlim_t)n + 16)
			return -1;
		rl.rlim_cur = (rlim_t)n + 16;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			return -1;
	}
	return 0;
}

static int
setup(void)
{
	size_t wcap;
	int i;

	if (want_fds(o.clients) == -1) {
		fprintf(stderr, "chatload: cannot have %d descriptors open\n",
		    o.clients);
		return -1;
	}
	/* Overflow-checked: clients * senders * msgs samples. */
	if (__builtin_mul_overflow((unsigned long long)o.senders,
		(unsigned long long)o.msgs, &expected) ||
	    __builtin_mul_overflow(
		expected, (unsigned long long)o.clients, &expected) ||
	    expected > MAX_SAMPLES) {
		fprintf(stderr, "chatload: more than %llu deliveries\n",
		    MAX_SAMPLES);
		return -1;
	}
	/* A sender's buffer holds a full burst of SAY lines. */
	wcap = (size_t)o.outstanding * (o.text + 8) + 256;
	if ((cl = calloc((size_t)o.clients, sizeof(*cl))) == NULL ||
	    (pfd = calloc((size_t)o.clients, sizeof(*pfd))) == NULL ||
	    (lat = malloc((size_t)expected * sizeof(*lat))) == NULL)
		goto nomem;
	for (i = 0; i < o.clients; i++) {
		cl[i].fd = -1;
		cl[i].idx = i;
		cl[i].wcap = wcap;
		if ((cl[i].rbuf = malloc(RBUF_SIZE)) == NULL ||
		    (cl[i].wbuf = malloc(wcap)) == NULL ||
		    (cl[i].next_seq = calloc(
			 (size_t)o.senders, sizeof(uint32_t))) == NULL)
			goto nomem;
	}
	return 0;
nomem:
	fprintf(stderr, "chatload: out of memory\n");
	return -1;
}

/* Keep a client's epoll interest in step with its state: writable
 * while connecting or while output is queued, readable otherwise. */
static int
sync_events(struct client *c)
{
	struct epoll_event ev;
	uint32_t want = c->st == ST_CONNECTING ? EPOLLOUT : EPOLLIN;

	if (c->wlen > 0)
		want |= EPOLLOUT;
	if (want == c->ev)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.u32 = (uint32_t)c->idx;
	if (epoll_ctl(epfd, c->ev == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd,
		&ev) == -1) {
		fail("client %d: epoll_ctl: %s", c->idx, strerror(errno));
		return -1;
	}
	c->ev = want;
	return 0;
}

/* Queue a line on a client; it is written by flush(). */
static int
queue_line(struct client *c, const char *line)
{
	size_t n = strlen(line);

	if (n + 1 > c->wcap - c->wlen) {
		fail("client %d: output buffer full", c->idx);
		return -1;
	}
	memcpy(c->wbuf + c->wlen, line, n);
	c->wbuf[c->wlen + n] = '\n';
	c->wlen += n + 1;
	return 0;
}

static int
flush(struct client *c)
{
	ssize_t n;

	while (c->wlen > 0) {
		n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL);
		if (n > 0) {
			memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
			c->wlen -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return sync_events(c);
		fail("client %d: send: %s", c->idx, strerror(errno));
		return -1;
	}
	return sync_events(c);
}

static int
start_connect(struct client *c, const struct sockaddr_in *sa)
{
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		fail("socket: %s", strerror(errno));
		return -1;
	}
	/* Like ftx: a chat line is sent when it is typed. */
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ==
	    -1) {
		fail("setsockopt: %s", strerror(errno));
		return -1;
	}
	if (connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) == -1 &&
	    errno != EINPROGRESS) {
		fail("connect: %s", strerror(errno));
		return -1;
	}
	c->st = ST_CONNECTING;
	return sync_events(c);
}

/* An unsigned decimal at *pp, followed by `term` or the end; the
 * pointer moves past it (and the terminator).  -1 if there is none. */
static int
take_num(const char **pp, const char *end, char term, unsigned long long *v)
{
	const char *p = *pp;
	unsigned long long x = 0;

	if (p >= end || *p < '0' || *p > '9')
		return -1;
	while (p < end && *p >= '0' && *p <= '9') {
		if (x > (ULLONG_MAX - 9) / 10)
			return -1;
		x = x * 10 + (unsigned long long)(*p - '0');
		p++;
	}
	if (p < end) {
		if (*p != term)
			return -1;
		p++;
	}
	*pp = p;
	*v = x;
	return 0;
}

/* One MSG push: MSG <ts> c<sender>-<tag> <sender> <seq> <ns> xxx... */
static void
on_msg(struct client *c, const char *line, size_t len, long long rx)
{
	const char *p = line + PUSH_HEAD, *end = line + len;
	unsigned long long nick, tag, sender, seq, sent_ns;
	uint32_t *next;
	long long d;

	if (len <= PUSH_HEAD || p[-1] != ' ' || *p++ != 'c' ||
	    take_num(&p, end, '-', &nick) == -1 ||
	    take_num(&p, end, ' ', &tag) == -1 ||
	    take_num(&p, end, ' ', &sender) == -1 ||
	    take_num(&p, end, ' ', &seq) == -1 ||
	    take_num(&p, end, ' ', &sent_ns) == -1 || nick != sender ||
	    tag != nick_tag || sender >= (unsigned long long)o.senders) {
		fail("client %d: unexpected push: %.*s", c->idx,
		    (int)(len > 120 ? 120 : len), line);
		return;
	}
	c->nmsg++;
	deliveries++;
	next = &c->next_seq[sender];
	if (seq != *next) {
		/* Counted, and the sequence resynchronised, so that one
		 * gap is not reported for every later message too. */
		if (misordered++ == 0)
			fprintf(stderr,
			    "chatload: client %d got seq %llu from c%llu, "
			    "expected %u\n",
			    c->idx, seq, sender, *next);
	}
	*next = (uint32_t)(seq + 1);
	d = rx - (long long)sent_ns;
	if (d < 0)
		d = 0;
	if ((unsigned long long)d > lat_max_ns)
		lat_max_ns = (unsigned long long)d;
	if (nlat < expected) {
		d /= LAT_UNIT_NS;
		lat[nlat++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
	}
	if (deliveries == expected)
		t_last_delivery = rx;
}

static int
starts(const char *line, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && memcmp(line, word, n) == 0 &&
	    (len == n || line[n] == ' ');
}

static void
on_line(struct client *c, const char *line, size_t len, long long rx)
{
	char buf[64];

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (starts(line, len, "MSG")) {
		if (c->st != ST_READY)
			fail("client %d: MSG before the run", c->idx);
		else
			on_msg(c, line, len, rx);
		return;
	}
	if (starts(line, len, "JOIN") || starts(line, len, "NOTICE") ||
	    starts(line, len, "PRIV"))
		return;
	if (starts(line, len, "ERROR") || starts(line, len, "LEFT")) {
		/* A LEFT during the run means someone was dropped (slow
		 * reader, flood control): deliveries will be missing. */
		fail("client %d: %.*s", c->idx, (int)(len > 200 ? 200 : len),
		    line);
		return;
	}
	if (!starts(line, len, "OK")) {
		fail("client %d: unexpected line: %.*s", c->idx,
		    (int)(len > 200 ? 200 : len), line);
		return;
	}
	switch (c->st) {
	case ST_GREETING:
		if (!starts(line, len, "OK FTX/1")) {
			fail("client %d: not an FTX/1 server: %.*s", c->idx,
			    (int)(len > 200 ? 200 : len), line);
			return;
		}
		snprintf(buf, sizeof(buf), "JOIN c%d-%u", c->idx, nick_tag);
		if (queue_line(c, buf) == 0)
			c->st = ST_JOINING;
		break;
	case ST_JOINING:
		c->st = ST_JOINED;
		break;
	case ST_SYNCING:
		c->st = ST_READY;
		break;
	case ST_READY:
		if (c->idx >= o.senders || c->acked >= c->sent) {
			fail("client %d: OK without a SAY", c->idx);
			return;
		}
		c->acked++;
		total_acked++;
		/* The server pushes a message to everyone, the sender
		 * included, before it answers the SAY. */
		if (c->next_seq[c->idx] < c->acked && misordered++ == 0)
			fprintf(stderr,
			    "chatload: client %d: OK for message %u before "
			    "its own copy\n",
			    c->idx, c->acked - 1);
		break;
	default:
		fail("client %d: unexpected OK", c->idx);
	}
}

/* Read what is there and handle every complete line. */
static int
on_readable(struct client *c)
{
	char *p, *lf, *end;
	size_t space;
	ssize_t n;
	long long rx;

	for (;;) {
		space = RBUF_SIZE - c->rlen;
		n = recv(c->fd, c->rbuf + c->rlen, space, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == -1) {
			fail("client %d: recv: %s", c->idx, strerror(errno));
			return -1;
		}
		if (n == 0) {
			fail("client %d: the server closed the connection",
			    c->idx);
			return -1;
		}
		/* One receive time for all the lines this call returned. */
		rx = now_ns();
		t_last_rx = rx;
		c->rlen += (size_t)n;
		p = c->rbuf;
		end = c->rbuf + c->rlen;
		while ((lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			on_line(c, p, (size_t)(lf - p), rx);
			p = lf + 1;
		}
		c->rlen = (size_t)(end - p);
		if (c->rlen == RBUF_SIZE) {
			fail("client %d: line longer than %d bytes", c->idx,
			    RBUF_SIZE);
			return -1;
		}
		memmove(c->rbuf, p, c->rlen);
		if ((size_t)n < space)
			return 0; /* the socket is drained */
	}
}

static int
on_connected(struct client *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0) {
		fail("client %d: connect: %s", c->idx,
		    strerror(err != 0 ? err : errno));
		return -1;
	}
	c->st = ST_GREETING;
	return sync_events(c);
}

/* The message text: "<sender> <seq> <ns> " padded with x to o.text. */
static int
queue_say(struct client *c, long long t)
{
	char line[FTX_CHAT_TEXT_MAX + 8];
	int n;

	n = snprintf(line, sizeof(line), "SAY %d %u %lld ", c->idx, c->sent, t);
	if (n < 0 || (size_t)n >= sizeof(line) || (size_t)n - 4 > o.text) {
		fail("message header does not fit in %zu bytes", o.text);
		return -1;
	}
	memset(line + n, 'x', o.text - ((size_t)n - 4));
	line[4 + o.text] = '\0';
	if (queue_line(c, line) == -1)
		return -1;
	c->sent++;
	total_sent++;
	return 0;
}

/* When message number k (counting all senders) is due, paced runs. */
static long long
due_ns(unsigned long long k)
{
	return t_pace0 + (long long)((double)k * 1e9 / o.rate);
}

/* Give senders their turn, starting at a rotating one so that the
 * global window is shared fairly.  In a paced run only the messages
 * that are due go out, each stamped with the time it was due rather
 * than the time we got round to it: a generator that falls behind
 * then shows as latency instead of silently offering less load. */
static int
send_round(int *rr)
{
	unsigned long long min_rx = ULLONG_MAX, budget, due;
	unsigned int k, n;
	int i, j;
	long long t = now_ns();

	for (i = 0; i < o.clients; i++)
		if (cl[i].nmsg < min_rx)
			min_rx = cl[i].nmsg;
	send_blocked = 1;
	if (total_sent - min_rx >= o.window)
		return 0;
	budget = o.window - (total_sent - min_rx);
	if (o.rate > 0) {
		/* How many messages, counting all senders, are due by now. */
		due = 0;
		if (t >= t_pace0)
			due = (unsigned long long)((double)(t - t_pace0) *
				  o.rate / 1e9) +
			    1;
		if (due <= total_sent) {
			send_blocked = 0; /* nothing due yet */
			return 0;
		}
		if (budget > due - total_sent)
			budget = due - total_sent;
	}
	for (j = 0; j < o.senders && budget > 0; j++) {
		struct client *c = &cl[(*rr + j) % o.senders];

		if (c->sent == o.msgs || c->wlen > 0 ||
		    c->sent - c->acked >= o.outstanding)
			continue;
		n = o.outstanding - (c->sent - c->acked);
		if (n > o.msgs - c->sent)
			n = o.msgs - c->sent;
		if (n > budget)
			n = (unsigned int)budget;
		if (t_first_send == 0)
			t_first_send = o.rate > 0 ? t_pace0 : t;
		for (k = 0; k < n; k++)
			if (queue_say(c, o.rate > 0 ? due_ns(total_sent) : t) ==
			    -1)
				return -1;
		budget -= n;
		if (flush(c) == -1)
			return -1;
	}
	/* Budget left over means every sender had a full window. */
	send_blocked = budget > 0;
	*rr = (*rr + 1) % o.senders;
	return 0;
}

/* How long epoll may sleep: until the next paced message is due, or not
 * at all if it is due already.  If the last round could not send for
 * want of window, only incoming data can open it, so we wait for that
 * (epoll returns as soon as any arrives). */
static long long
wait_ns(void)
{
	long long d;

	if (o.rate <= 0 || t_pace0 == 0 ||
	    total_sent >= (unsigned long long)o.senders * o.msgs)
		return POLL_MS * 1000000LL;
	d = due_ns(total_sent) - now_ns();
	if (d <= 0)
		return send_blocked ? POLL_MS * 1000000LL : 0;
	return d < POLL_MS * 1000000LL ? d : POLL_MS * 1000000LL;
}

static int
all_in(enum state st)
{
	int i;

	for (i = 0; i < o.clients; i++)
		if (cl[i].st != st)
			return 0;
	return 1;
}

static int
finished(void)
{
	return deliveries >= expected &&
	    total_acked == (unsigned long long)o.senders * o.msgs;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted samples, in ms. */
static double
pct_ms(double p)
{
	unsigned long long k;

	if (nlat == 0)
		return 0;
	k = (unsigned long long)(p / 100.0 * (double)nlat + 0.999999);
	if (k < 1)
		k = 1;
	if (k > nlat)
		k = nlat;
	return (double)lat[k - 1] * LAT_UNIT_NS / 1e6;
}

static double
cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
report(double cpu)
{
	double secs = 0, sum = 0;
	unsigned long long i, lost;
	unsigned int acked = 0;
	int k;

	if (t_first_send > 0 && t_last_delivery > t_first_send)
		secs = (double)(t_last_delivery - t_first_send) / 1e9;
	qsort(lat, (size_t)nlat, sizeof(*lat), cmp_u32);
	for (i = 0; i < nlat; i++)
		sum += lat[i];
	for (k = 0; k < o.senders; k++)
		acked += cl[k].acked;
	lost = expected > deliveries ? expected - deliveries : 0;
	printf("status=%s clients=%d senders=%d msgs_per_sender=%u "
	       "text_bytes=%zu outstanding=%u window=%u rate=%.0f sent=%llu "
	       "acked=%u "
	       "expected=%llu deliveries=%llu lost=%llu misordered=%llu "
	       "secs=%.6f dps=%.0f avg_ms=%.3f p50_ms=%.3f p90_ms=%.3f "
	       "p99_ms=%.3f max_ms=%.3f cpu_s=%.3f\n",
	    failed || lost || misordered ? "fail" : "ok", o.clients, o.senders,
	    o.msgs, o.text, o.outstanding, o.window, o.rate, total_sent, acked,
	    expected, deliveries, lost, misordered, secs,
	    secs > 0 ? (double)deliveries / secs : 0,
	    nlat ? sum / (double)nlat * LAT_UNIT_NS / 1e6 : 0, pct_ms(50),
	    pct_ms(90), pct_ms(99), (double)lat_max_ns / 1e6, cpu);
	fflush(stdout);
}

static int
run(void)
{
	struct epoll_event evs[EV_BATCH];
	struct sockaddr_in sa;
	struct timespec ts;
	long long deadline, t, wait;
	double cpu0 = 0;
	int i, rr = 0, n, synced = 0, joined = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)o.port);
	if (inet_pton(AF_INET, o.host, &sa.sin_addr) != 1) {
		fail("-H %s is not an IPv4 address", o.host);
		return -1;
	}
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		fail("epoll_create1: %s", strerror(errno));
		return -1;
	}
	deadline = now_ns() + (long long)o.timeout_s * 1000000000LL;
	for (i = 0; i < o.clients; i++)
		if (start_connect(&cl[i], &sa) == -1)
			return -1;
	while (!failed) {
		t = now_ns();
		if (t > deadline) {
			fail("timed out after %d s", o.timeout_s);
			break;
		}
		if (t_first_send > 0 &&
		    t - t_last_rx > STALL_S * 1000000000LL) {
			fail("nothing received for %d s", STALL_S);
			break;
		}
		/* Phase changes: everyone joined -> NOOP barrier -> run. */
		if (!joined && all_in(ST_JOINED)) {
			joined = 1;
			for (i = 0; i < o.clients; i++) {
				cl[i].st = ST_SYNCING;
				if (queue_line(&cl[i], "NOOP") == -1)
					return -1;
			}
		}
		if (joined && !synced && all_in(ST_READY)) {
			synced = 1;
			cpu0 = cpu_s();
			t_last_rx = t_pace0 = now_ns();
		}
		if (synced) {
			if (finished())
				break;
			if (send_round(&rr) == -1)
				break;
		}
		/* Lines queued by the handlers (JOIN, NOOP) go out now. */
		for (i = 0; i < o.clients; i++)
			if (cl[i].wlen > 0 && cl[i].st != ST_CONNECTING &&
			    flush(&cl[i]) == -1)
				return -1;
		wait = wait_ns();
		ts.tv_sec = (time_t)(wait / 1000000000LL);
		ts.tv_nsec = (long)(wait % 1000000000LL);
		n = epoll_pwait2(epfd, evs, EV_BATCH, &ts, NULL);
		if (n == -1 && errno != EINTR) {
			fail("epoll_pwait2: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n && !failed; i++) {
			struct client *c = &cl[evs[i].data.u32];

			if (c->st == ST_CONNECTING) {
				if (on_connected(c) == -1)
					break;
				continue;
			}
			if ((evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) &&
			    on_readable(c) == -1)
				break;
			if ((evs[i].events & EPOLLOUT) && flush(c) == -1)
				break;
		}
	}
	report(synced ? cpu_s() - cpu0 : 0);
	return failed ? -1 : 0;
}

/*
 * Leave the room the polite way: QUIT on every connection, then read
 * (and ignore) everything until the server closes.  When we exit, the
 * server has dropped our nicks, so the next run can reuse the room at
 * once.  Bounded by QUIT_WAIT_MS; failures here do not fail the run.
 */
static void
quit_all(void)
{
	char sink[RBUF_SIZE];
	long long deadline = now_ns() + QUIT_WAIT_MS * 1000000LL;
	int i, open_n = 0, rc;
	ssize_t n;

	for (i = 0; i < o.clients; i++) {
		struct client *c = &cl[i];

		if (c->fd == -1)
			continue;
		c->wlen = 0;
		if (c->st == ST_CONNECTING || queue_line(c, "QUIT") == -1 ||
		    flush(c) == -1 || c->wlen > 0) {
			close(c->fd);
			c->fd = -1;
			continue;
		}
		open_n++;
	}
	while (open_n > 0 && now_ns() < deadline) {
		for (i = 0; i < o.clients; i++) {
			pfd[i].fd = cl[i].fd; /* -1 is ignored by poll */
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		rc = poll(pfd, (nfds_t)o.clients, POLL_MS);
		if (rc == -1 && errno != EINTR)
			break;
		for (i = 0; rc > 0 && i < o.clients; i++) {
			if (pfd[i].revents == 0 || cl[i].fd == -1)
				continue;
			n = recv(cl[i].fd, sink, sizeof(sink), 0);
			if (n > 0 ||
			    (n == -1 && (errno == EINTR || errno == EAGAIN)))
				continue;
			close(cl[i].fd);
			cl[i].fd = -1;
			open_n--;
		}
	}
	for (i = 0; i < o.clients; i++)
		if (cl[i].fd != -1) {
			close(cl[i].fd);
			cl[i].fd = -1;
		}
}

int
main(int argc, char **argv)
{
	int rc;

	parse_opts(argc, argv);
	nick_tag = (unsigned int)getpid();
	if (o.window == 0) {
		o.window = (unsigned int)(FTX_CHAT_QUEUE_MAX / 4 / push_len());
		if (o.window < 1)
			o.window = 1;
	} else if ((unsigned long long)o.window * push_len() >
	    FTX_CHAT_QUEUE_MAX / 2) {
		fprintf(stderr,
		    "chatload: warning: -w %u may queue %zu bytes per client; "
		    "the server drops readers over %d\n",
		    o.window, (size_t)o.window * push_len(),
		    FTX_CHAT_QUEUE_MAX);
	}
	if (setup() == -1)
		return 1;
	rc = run();
	quit_all();
	if (epfd != -1)
		close(epfd);
	if (rc == -1 || deliveries != expected || misordered > 0)
		return 1;
	return 0;
}

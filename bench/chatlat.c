/*
 * chatlat.c - chat delivery latency between two members, for the chat
 * bus benchmark (bench/chatbus.sh).
 *
 *   chatlat [-n MSGS] [-g GAP_MS] SEND_HOST SEND_PORT RECV_HOST RECV_PORT
 *
 * Joins a sender on one ftxd (SEND_HOST:SEND_PORT) and a receiver on
 * another, or the same, then sends MSGS messages one at a time: each
 * `SAY` carries its CLOCK_MONOTONIC send time, and the next goes only
 * once the receiver has its `MSG` push (and GAP_MS later), so what is
 * measured is one message's trip through an idle room, not a queue.
 * Both members are this process, so receive time minus stamp is the
 * latency.  Servers must run with --chat-rate 0.
 *
 * Output: one line, "n=N p50_us=A p90_us=B p99_us=C max_us=D".  Exit
 * status 0, 1 on a failure (a timeout, an ERROR), 2 for a usage error.
 * Built by bench/chatbus.sh.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_MSGS 100000
#define TIMEOUT_MS 5000

struct conn {
	int fd;
	char buf[8192];
	size_t len;
};

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
dial(struct conn *c, const char *host, const char *port)
{
	struct addrinfo hints, *res;
	int one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	c->fd = socket(res->ai_family, SOCK_STREAM, 0);
	c->len = 0;
	if (c->fd == -1 || connect(c->fd, res->ai_addr, res->ai_addrlen) == -1) {
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

/* One line (without LF) into out, within TIMEOUT_MS; 0 or -1. */
static int
read_line(struct conn *c, char *out, size_t n)
{
	struct pollfd p = {c->fd, POLLIN, 0};
	char *lf;
	ssize_t r;
	size_t k;

	for (;;) {
		if ((lf = memchr(c->buf, '\n', c->len)) != NULL) {
			k = (size_t)(lf - c->buf);
			if (k >= n)
				return -1;
			memcpy(out, c->buf, k);
			out[k] = '\0';
			memmove(c->buf, lf + 1, c->len - k - 1);
			c->len -= k + 1;
			return 0;
		}
		if (c->len == sizeof(c->buf) || poll(&p, 1, TIMEOUT_MS) != 1 ||
		    (r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len)) <=
			0)
			return -1;
		c->len += (size_t)r;
	}
}

static int
send_line(struct conn *c, const char *line)
{
	char buf[512];
	int k = snprintf(buf, sizeof(buf), "%s\n", line);

	return k > 0 && (size_t)k < sizeof(buf) &&
		   write(c->fd, buf, (size_t)k) == k
	    ? 0
	    : -1;
}

/* Read lines until one starts with `prefix` (copied to out). */
static int
wait_for(struct conn *c, const char *prefix, char *out, size_t n)
{
	do {
		if (read_line(c, out, n) == -1)
			return -1;
		if (strncmp(out, "ERROR", 5) == 0) {
			fprintf(stderr, "chatlat: %s\n", out);
			return -1;
		}
	} while (strncmp(out, prefix, strlen(prefix)) != 0);
	return 0;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	struct conn s, r;
	char line[1024], nick[64], want[128];
	long long *lat, t0;
	int i, n = 2000, gap = 2, opt;
	const char *p;

	while ((opt = getopt(argc, argv, "n:g:")) != -1) {
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 'g')
			gap = atoi(optarg);
		else
			return 2;
	}
	if (argc - optind != 4 || n < 1 || n > MAX_MSGS || gap < 0) {
		fprintf(stderr, "usage: chatlat [-n MSGS] [-g GAP_MS] "
				"SEND_HOST SEND_PORT RECV_HOST RECV_PORT\n");
		return 2;
	}
	if ((lat = calloc((size_t)n, sizeof(*lat))) == NULL ||
	    dial(&s, argv[optind], argv[optind + 1]) == -1 ||
	    dial(&r, argv[optind + 2], argv[optind + 3]) == -1 ||
	    wait_for(&s, "OK", line, sizeof(line)) == -1 ||
	    wait_for(&r, "OK", line, sizeof(line)) == -1) {
		fprintf(stderr, "chatlat: cannot connect\n");
		return 1;
	}
	snprintf(nick, sizeof(nick), "lat-s-%d", (int)getpid());
	snprintf(line, sizeof(line), "JOIN %s", nick);
	if (send_line(&s, line) == -1 || wait_for(&s, "OK", line, sizeof(line)))
		return 1;
	snprintf(line, sizeof(line), "JOIN lat-r-%d", (int)getpid());
	if (send_line(&r, line) == -1 || wait_for(&r, "OK", line, sizeof(line)))
		return 1;
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		snprintf(line, sizeof(line), "SAY %d %lld", i, t0);
		if (send_line(&s, line) == -1)
			return 1;
		/* "MSG <ts> <nick> <i> <t0>": ours, this one. */
		snprintf(want, sizeof(want), " %s %d ", nick, i);
		do {
			if (wait_for(&r, "MSG ", line, sizeof(line)) == -1) {
				fprintf(stderr, "chatlat: message %d lost\n", i);
				return 1;
			}
		} while ((p = strstr(line, want)) == NULL);
		lat[i] = now_ns() - atoll(p + strlen(want));
		/* Drain the sender's side (its OK and its own echo). */
		while (s.len > 0 || poll(&(struct pollfd){s.fd, POLLIN, 0}, 1,
					0) == 1) {
			ssize_t k = read(s.fd, s.buf, sizeof(s.buf));

			s.len = 0;
			if (k <= 0)
				break;
		}
		if (gap > 0)
			usleep((useconds_t)gap * 1000);
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp_ll);
	printf("n=%d p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f\n", n,
	    lat[n / 2] / 1e3, lat[(long)n * 90 / 100] / 1e3,
	    lat[(long)n * 99 / 100] / 1e3, lat[n - 1] / 1e3);
	free(lat);
	return 0;
}

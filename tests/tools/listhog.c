/*
 * listhog.c - LIST readers for the output-memory tests: many peers that
 * ask for a LIST and never read it, or one that reads it slowly.
 *
 *	listhog [-h HOST] -p PORT [-B SRC] [-r RCVBUF] MODE ARGS...
 *
 * Modes:
 *   hog N     Open N control sessions (source address SRC if given),
 *             each with a receive buffer of RCVBUF bytes (default 4096),
 *             read the greeting, send LIST and never read again.  Prints
 *             "ready N" once every LIST is sent, then holds them until
 *             stdin reaches EOF (or --hold S seconds pass), and prints
 *             "closed=K open=M": K sessions the server closed (FIN or
 *             reset seen, without reading the unread data).  --spread MS
 *             waits MS milliseconds between sessions; --serial S waits
 *             (up to S seconds) until a session's reply has begun before
 *             opening the next, so no two LISTs wait in the server's
 *             queue together and share a snapshot, however slow it is.
 *   slow C MS One session that sends LIST and reads at most C bytes every
 *             MS milliseconds until DONE.  Checks the reply's shape:
 *             "OK <n>", exactly n FILE lines, "DONE"; writes each FILE
 *             line's name field to stdout and "lines=n" to stderr.
 *
 * Exit status: 0 success; 1 a check failed (a hog could not connect, the
 * slow reader's reply was malformed or cut); 2 usage; 3 setup error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host = "127.0.0.1";
static const char *src;
static int port, rcvbuf = 4096, hold_s = -1, spread_ms, serial_s;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: listhog [-h HOST] -p PORT [-B SRC] "
	    "[-r RCVBUF] [--hold S] [--spread MS] [--serial S] hog N | slow C "
	    "MS\n");
	exit(2);
}

/* A connected control socket with a small receive buffer; -1 on error. */
static int
dial(void)
{
	struct sockaddr_in a, b;
	int fd;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* Before connect, so the window we advertise is small from the
	 * start: the server's sends stall as soon as it is full. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (src != NULL) {
		memset(&b, 0, sizeof(b));
		b.sin_family = AF_INET;
		if (inet_pton(AF_INET, src, &b.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&b, sizeof(b)) == -1)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* Read one line (the greeting) byte by byte; 0 if it starts with OK. */
static int
greeting(int fd)
{
	char c, first[2];
	size_t n = 0;

	for (;;) {
		if (read(fd, &c, 1) != 1)
			return -1;
		if (n < 2)
			first[n] = c;
		n++;
		if (c == '\n')
			break;
	}
	return n > 2 && first[0] == 'O' && first[1] == 'K' ? 0 : -1;
}

static int
send_list(int fd)
{
	return write(fd, "LIST\n", 5) == 5 ? 0 : -1;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int
hog(int n)
{
	struct pollfd *p;
	int i, closed = 0;
	time_t end = hold_s >= 0 ? time(NULL) + hold_s : 0;
	char c;

	raise_nofile();
	if ((p = calloc((size_t)n + 1, sizeof(*p))) == NULL)
		return 3;
	for (i = 0; i < n; i++) {
		if ((p[i].fd = dial()) == -1 || greeting(p[i].fd) == -1 ||
		    send_list(p[i].fd) == -1) {
			fprintf(stderr, "listhog: session %d: %s\n", i,
			    strerror(errno));
			return 1;
		}
		p[i].events = POLLRDHUP;
		if (serial_s > 0) {
			struct pollfd one = {p[i].fd, POLLIN, 0};

			(void)poll(&one, 1, serial_s * 1000);
		}
		if (spread_ms > 0) {
			struct timespec ts = {spread_ms / 1000,
			    (long)(spread_ms % 1000) * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
	printf("ready %d\n", n);
	fflush(stdout);
	p[n].fd = hold_s >= 0 ? -1 : 0;
	p[n].events = POLLIN;
	while (!stop && (hold_s < 0 || time(NULL) < end)) {
		if (poll(p + n, 1, 200) == 1 && read(0, &c, 1) <= 0)
			break;
	}
	/* A FIN or reset from the server shows without reading the data
	 * still queued in front of it. */
	for (i = 0; i < n; i++)
		p[i].revents = 0;
	(void)poll(p, (nfds_t)n, 0);
	for (i = 0; i < n; i++)
		closed += (p[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
	printf("closed=%d open=%d\n", closed, n - closed);
	fflush(stdout);
	for (i = 0; i < n; i++)
		close(p[i].fd);
	free(p);
	return 0;
}

/* Split the bytes read into lines and check the reply's shape. */
struct reader {
	char line[8192];
	size_t len;
	long want, got; /* FILE lines announced, seen; want -1 before OK */
	int done;
};

static int
take_line(struct reader *r)
{
	char *name;

	r->line[r->len] = '\0';
	if (r->want < 0) {
		if (sscanf(r->line, "OK %ld", &r->want) != 1 || r->want < 0) {
			fprintf(
			    stderr, "listhog: bad first line: %s\n", r->line);
			return -1;
		}
		return 0;
	}
	if (r->got == r->want) {
		if (strcmp(r->line, "DONE") != 0) {
			fprintf(
			    stderr, "listhog: expected DONE: %s\n", r->line);
			return -1;
		}
		r->done = 1;
		return 0;
	}
	if (strncmp(r->line, "FILE ", 5) != 0 ||
	    (name = strrchr(r->line, ' ')) == NULL) {
		fprintf(stderr, "listhog: expected FILE: %s\n", r->line);
		return -1;
	}
	printf("%s\n", name + 1);
	r->got++;
	return 0;
}

static int
slow(int chunk, int ms)
{
	static struct reader r;
	static char buf[1 << 20];
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	ssize_t k, i;
	int fd;

	if (chunk <= 0 || (size_t)chunk > sizeof(buf))
		usage();
	if ((fd = dial()) == -1 || greeting(fd) == -1 || send_list(fd) == -1) {
		fprintf(stderr, "listhog: connect: %s\n", strerror(errno));
		return 1;
	}
	r.want = -1;
	while (!r.done) {
		nanosleep(&ts, NULL);
		if ((k = read(fd, buf, (size_t)chunk)) <= 0) {
			fprintf(stderr,
			    "listhog: connection ended after %ld "
			    "of %ld lines\n",
			    r.got, r.want);
			return 1;
		}
		for (i = 0; i < k && !r.done; i++) {
			if (buf[i] != '\n') {
				if (r.len + 1 >= sizeof(r.line))
					return 1;
				r.line[r.len++] = buf[i];
				continue;
			}
			if (take_line(&r) == -1)
				return 1;
			r.len = 0;
		}
	}
	fprintf(stderr, "lines=%ld\n", r.got);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"hold", required_argument, NULL, 'H'},
	    {"spread", required_argument, NULL, 'S'},
	    {"serial", required_argument, NULL, 'Q'}, {NULL, 0, NULL, 0}};
	int c;

	while ((c = getopt_long(argc, argv, "h:p:B:r:", lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			host = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'B':
			src = optarg;
			break;
		case 'r':
			rcvbuf = atoi(optarg);
			break;
		case 'H':
			hold_s = atoi(optarg);
			break;
		case 'S':
			spread_ms = atoi(optarg);
			break;
		case 'Q':
			serial_s = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (port <= 0 || optind >= argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	if (strcmp(argv[optind], "hog") == 0 && optind + 1 < argc)
		return hog(atoi(argv[optind + 1]));
	if (strcmp(argv[optind], "slow") == 0 && optind + 2 < argc)
		return slow(atoi(argv[optind + 1]), atoi(argv[optind + 2]));
	usage();
	return 2;
}

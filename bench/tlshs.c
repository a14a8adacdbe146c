/*
 * tlshs.c - cost of a TLS data-connection handshake, for the ftx benchmark.
 *
 *   tlshs [-n N] [-w W] [-s] CTLPORT DATAPORT
 *
 * Measures the handshake of a TLS data connection against an ftxd on
 * 127.0.0.1, both ways a client could make it, alternating between them
 * so that drift in machine load hits both alike:
 *
 *   full     a TLS handshake from scratch (certificate, signature, key
 *            exchange), as a client without the control session's ticket
 *            would do;
 *   resumed  a handshake that offers the control connection's ticket
 *            (tls_resume_from), as `ftx --tls` does for every transfer.
 *
 * A control connection is opened (untimed) for every resumed sample, as
 * `ftx --tls get FILE` does: greeting, STARTTLS, handshake and one reply
 * read over TLS (a NOOP's), so that the session ticket the server issues
 * after the handshake has arrived; it is closed after the sample.  With
 * -s all resumed samples share one control connection instead, as the
 * transfers of a session with several files do.  That relies on
 * tls_resume_from() offering a copy of the ticket's session: OpenSSL's
 * client marks a TLS 1.3 session as used up once a handshake has resumed
 * it (when the context caches client sessions), so without the copy the
 * second resumption would fail (and -s with it).
 *
 * Each sample is the time from connect(2) to the end of the client's
 * handshake (tls_handshake returning 1): TCP connect, creating the TLS
 * object and the whole TLS exchange.  The connection is then closed
 * with a close_notify and without a token; ftxd logs a `data-reject` for
 * it, which is fine here.  Connections are made one at a time and each
 * is closed before the next is opened, so the server's limit on
 * connections per address (--max-per-ip) is never approached.  W warm-up
 * handshakes of each kind are not counted.  A resumed handshake that was
 * not resumed, or a full one that was, fails the run.
 *
 * Output: one line of key=value pairs on stdout (microseconds, also when
 * the run fails), diagnostics on stderr.  Exit status 0 on success, 1 if
 * the run failed, 2 for a usage error.  It is a benchmark tool, so it is
 * built by bench/run.sh (with shared/tls.c and shared/str.c) and not by
 * the Makefile.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../shared/str.h"
#include "../shared/tls.h"

#define DEF_N 2000
#define DEF_WARMUP 20
/* More handshakes than this per kind is not a run we need. */
#define MAX_N 1000000
/* No single socket operation may take longer than this. */
#define IO_TIMEOUT_S 10
/* Longest control reply line we accept. */
#define LINE_MAX_BYTES 1024

enum { K_FULL, K_RESUMED, K_COUNT };
static const char *const kind_name[K_COUNT] = {"full", "resumed"};

struct stats {
	double p50, p99, mean, min;
};

static void
usage(void)
{
	fprintf(
	    stderr, "usage: tlshs [-n N] [-w WARMUP] [-s] CTLPORT DATAPORT\n");
	exit(2);
}

static int
parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static double
now_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* A blocking TCP socket to 127.0.0.1:port with send and receive
 * timeouts, so that a server that stops answering fails the run instead
 * of hanging it.  Returns the fd or -1. */
static int
connect_to(int port, char *err, size_t errlen)
{
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return str_err(err, errlen, "socket: %s", strerror(errno));
	/* Handshake messages are small and each side waits for the
	 * other's: no Nagle delay, as in ftx and ftxd. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1) {
		str_err(err, errlen, "setsockopt: %s", strerror(errno));
		goto fail;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		str_err(err, errlen, "connect to port %d: %s", port,
		    strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Read one plaintext line (without its LF) byte by byte: the only
 * plaintext lines are the greeting and the STARTTLS reply, and nothing
 * may be read past the latter, which is followed by the handshake. */
static int
read_line_plain(int fd, char *line, size_t n, char *err, size_t errlen)
{
	size_t len = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = recv(fd, &c, 1, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return str_err(
			    err, errlen, "recv: %s", strerror(errno));
		if (r == 0)
			return str_err(err, errlen, "the server closed");
		if (c == '\n')
			break;
		if (len + 1 >= n)
			return str_err(err, errlen, "reply line too long");
		line[len++] = c;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	return 0;
}

/* The same over TLS; reading is what receives the session ticket. */
static int
read_line_tls(struct tls *t, char *line, size_t n, char *err, size_t errlen)
{
	size_t len = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = tls_read(t, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return str_err(err, errlen, "%s", tls_strerror(t));
		if (r == 0)
			return str_err(err, errlen, "the server closed");
		if (c == '\n')
			break;
		if (len + 1 >= n)
			return str_err(err, errlen, "reply line too long");
		line[len++] = c;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	return 0;
}

static int
send_all(int fd, const char *s, char *err, size_t errlen)
{
	size_t n = strlen(s);
	ssize_t w;

	while (n > 0) {
		w = send(fd, s, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return str_err(
			    err, errlen, "send: %s", strerror(errno));
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A whole handshake on a blocking socket: 0 or -1.  tls_handshake
 * returns 0 there only when a socket timeout ran out. */
static int
handshake(struct tls *t, char *err, size_t errlen)
{
	int r = tls_handshake(t);

	if (r == 1)
		return 0;
	if (r == 0)
		return str_err(err, errlen, "TLS handshake timed out");
	return str_err(err, errlen, "%s", tls_strerror(t));
}

/*
 * The control connection: greeting, STARTTLS, handshake, NOOP.  On
 * success *fdp and *tp hold the socket and its TLS session, whose ticket
 * the data connections resume.
 */
static int
control_open(struct tls_ctx *ctx, int port, int *fdp, struct tls **tp,
    char *err, size_t errlen)
{
	char line[LINE_MAX_BYTES];
	struct tls *t = NULL;
	int fd;

	if ((fd = connect_to(port, err, errlen)) == -1)
		return -1;
	if (read_line_plain(fd, line, sizeof(line), err, errlen) == -1)
		goto fail;
	/* The greeting lists the capabilities after the version words. */
	if (strncmp(line, "OK FTX/1 ", 9) != 0 ||
	    strstr(line, " tls") == NULL) {
		str_err(err, errlen, "greeting without TLS: %s", line);
		goto fail;
	}
	if (send_all(fd, "STARTTLS\n", err, errlen) == -1 ||
	    read_line_plain(fd, line, sizeof(line), err, errlen) == -1)
		goto fail;
	if (strncmp(line, "OK", 2) != 0) {
		str_err(err, errlen, "STARTTLS refused: %s", line);
		goto fail;
	}
	if ((t = tls_new(ctx, fd, 0, NULL, err, errlen)) == NULL ||
	    handshake(t, err, errlen) == -1)
		goto fail;
	/* TLS 1.3 tickets arrive after the handshake: a reply read after
	 * it has been preceded by the ticket. */
	if (tls_write_all(t, "NOOP\n", 5) == -1) {
		str_err(err, errlen, "NOOP: %s", tls_strerror(t));
		goto fail;
	}
	if (read_line_tls(t, line, sizeof(line), err, errlen) == -1)
		goto fail;
	if (strncmp(line, "OK", 2) != 0) {
		str_err(err, errlen, "NOOP refused: %s", line);
		goto fail;
	}
	*fdp = fd;
	*tp = t;
	return 0;
fail:
	tls_free(t);
	close(fd);
	return -1;
}

/* QUIT and wait for its reply: ftxd frees a session that says QUIT at
 * once, but one that merely closes only at its next 250 ms tick, and
 * until then it counts against --max-per-ip. */
static void
control_close(int *fdp, struct tls **tp)
{
	char line[LINE_MAX_BYTES];

	if (*tp != NULL) {
		if (tls_write_all(*tp, "QUIT\n", 5) == 0)
			(void)read_line_tls(*tp, line, sizeof(line), NULL, 0);
		tls_shutdown(*tp);
		tls_free(*tp);
		*tp = NULL;
	}
	if (*fdp != -1)
		close(*fdp);
	*fdp = -1;
}

/*
 * One data connection: connect, handshake (resuming `ctl`'s ticket if
 * `resume`), close.  Stores the microseconds from connect to the end of
 * the handshake in *us.  The protocol string of the first connection is
 * kept in `desc` if it is not NULL.
 */
static int
one_handshake(struct tls_ctx *ctx, const struct tls *ctl, int port, int resume,
    double *us, char *desc, size_t descn, char *err, size_t errlen)
{
	struct tls *t = NULL;
	double t0, t1;
	int fd, rc = -1;

	t0 = now_us();
	if ((fd = connect_to(port, err, errlen)) == -1)
		return -1;
	if ((t = tls_new(ctx, fd, 0, NULL, err, errlen)) == NULL)
		goto out;
	if (resume && tls_resume_from(t, ctl) == -1) {
		str_err(err, errlen, "the control connection has no ticket");
		goto out;
	}
	if (handshake(t, err, errlen) == -1)
		goto out;
	t1 = now_us();
	/* The rows compare the two kinds, so each must be what it says. */
	if (tls_resumed(t) != resume) {
		str_err(err, errlen, "a %s handshake was %sresumed",
		    kind_name[resume ? K_RESUMED : K_FULL],
		    resume ? "not " : "");
		goto out;
	}
	if (desc != NULL)
		tls_describe(t, desc, descn);
	*us = t1 - t0;
	/* close_notify (untimed), as a well-behaved client sends it; the
	 * server then rejects the tokenless connection. */
	tls_shutdown(t);
	rc = 0;
out:
	tls_free(t);
	close(fd);
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Percentiles by the nearest-rank method on sorted samples. */
static double
pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static void
summarise(double *v, size_t n, struct stats *s)
{
	double sum = 0;
	size_t i;

	qsort(v, n, sizeof(*v), cmp_double);
	for (i = 0; i < n; i++)
		sum += v[i];
	s->p50 = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s->p99 = pct(v, n, 99);
	s->mean = sum / (double)n;
	s->min = v[0];
}

int
main(int argc, char **argv)
{
	char err[FTX_ERRLEN], desc[128] = "-";
	struct stats st[K_COUNT];
	struct tls_ctx *ctx = NULL;
	struct tls *ctl = NULL;
	double *samples[K_COUNT] = {NULL, NULL}, us, t0, secs = 0;
	long n = DEF_N, warm = DEF_WARMUP, cport, dport, i;
	int c, k, share = 0, ctlfd = -1, rc = 1;

	while ((c = getopt(argc, argv, "n:w:s")) != -1) {
		switch (c) {
		case 'n':
			if (parse_int(optarg, 1, MAX_N, &n) == -1)
				usage();
			break;
		case 'w':
			if (parse_int(optarg, 0, MAX_N, &warm) == -1)
				usage();
			break;
		case 's':
			share = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 ||
	    parse_int(argv[optind], 1, 65535, &cport) == -1 ||
	    parse_int(argv[optind + 1], 1, 65535, &dport) == -1)
		usage();
	err[0] = '\0';
	for (k = 0; k < K_COUNT; k++) {
		if ((samples[k] = calloc((size_t)n, sizeof(double))) == NULL) {
			str_err(err, sizeof(err), "out of memory");
			goto out;
		}
	}
	if ((ctx = tls_client_ctx(NULL, err, sizeof(err))) == NULL)
		goto out;
	if (share &&
	    control_open(ctx, (int)cport, &ctlfd, &ctl, err, sizeof(err)) == -1)
		goto out;
	t0 = now_us();
	for (i = -warm; i < n; i++) {
		/* Alternate, starting with a different kind every other
		 * pair, so neither kind always follows the other. */
		for (k = 0; k < K_COUNT; k++) {
			int kind = (i & 1) ? K_COUNT - 1 - k : k;
			int resume = kind == K_RESUMED;

			if (resume && !share &&
			    control_open(ctx, (int)cport, &ctlfd, &ctl, err,
				sizeof(err)) == -1)
				goto out;
			if (one_handshake(ctx, ctl, (int)dport, resume, &us,
				i == 0 && resume ? desc : NULL, sizeof(desc),
				err, sizeof(err)) == -1)
				goto out;
			if (resume && !share)
				control_close(&ctlfd, &ctl);
			if (i >= 0)
				samples[kind][i] = us;
		}
	}
	secs = (now_us() - t0) / 1e6;
	for (k = 0; k < K_COUNT; k++)
		summarise(samples[k], (size_t)n, &st[k]);
	rc = 0;
out:
	if (rc == 0) {
		/* "TLSv1.3 TLS_AES_128_GCM_SHA256": one key=value word. */
		for (char *p = desc; *p != '\0'; p++)
			if (*p == ' ')
				*p = '/';
		printf(
		    "status=ok n=%ld warmup=%ld shared_ctl=%d secs=%.3f tls=%s "
		    "full_p50_us=%.1f full_p99_us=%.1f full_mean_us=%.1f "
		    "full_min_us=%.1f resumed_p50_us=%.1f "
		    "resumed_p99_us=%.1f resumed_mean_us=%.1f "
		    "resumed_min_us=%.1f ratio_p50=%.3f\n",
		    n, warm, share, secs, desc, st[K_FULL].p50, st[K_FULL].p99,
		    st[K_FULL].mean, st[K_FULL].min, st[K_RESUMED].p50,
		    st[K_RESUMED].p99, st[K_RESUMED].mean, st[K_RESUMED].min,
		    st[K_RESUMED].p50 / st[K_FULL].p50);
	} else {
		printf("status=failed\n");
		fprintf(stderr, "tlshs: %s\n", err[0] != '\0' ? err : "failed");
	}
	control_close(&ctlfd, &ctl);
	tls_ctx_free(ctx);
	for (k = 0; k < K_COUNT; k++)
		free(samples[k]);
	return rc;
}

/*
 * tcpraw.c - raw TCP loopback baseline for the ftx benchmark.
 *
 * This is the "what can plain TCP do on this machine" row of
 * docs/BENCHMARKS.md: it pushes a file's bytes through one TCP connection
 * with large socket buffers and large read/write buffers, and neither
 * hashes nor stores anything, so it bounds what any transfer tool can
 * reach over loopback.
 *
 *   tcpraw loop FILE            sender thread + receiver in one process
 *   tcpraw recv PORT            receive one connection on 127.0.0.1:PORT
 *   tcpraw send HOST PORT FILE  send FILE to HOST:PORT
 *   tcpraw port                 print a currently free loopback TCP port
 *
 * recv and loop print "bytes=N secs=S mbps=R" (MB = 10^6 bytes) when the
 * sender's EOF arrives.  recv with PORT 0 first prints "port=N" so a
 * script can start the sender.  It is a benchmark tool, so it is built by
 * bench/run.sh and not by the Makefile.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Socket buffers: large enough that the window never limits loopback. */
#define RAW_SOCKBUF (4 * 1024 * 1024)
/* Bytes per read/write system call on either side. */
#define RAW_IOBUF (1024 * 1024)
/* A peer that makes no progress for this long is an error, not a hang. */
#define RAW_IO_TIMEOUT_S 30

struct sender {
	const char *host;
	const char *port;
	const char *path;
	int rc;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Big buffers and an I/O timeout on every socket we use.  The kernel caps
 * the buffer at net.core.[rw]mem_max, which is fine: we only want to rule
 * out a small default window as the bottleneck.
 */
static int
tune_socket(int fd)
{
	int sz = RAW_SOCKBUF;
	struct timeval tv = {.tv_sec = RAW_IO_TIMEOUT_S, .tv_usec = 0};

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1) {
		perror("tcpraw: setsockopt");
		return -1;
	}
	return 0;
}

static int
parse_port(const char *s, int allow_zero)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' ||
	    v < (allow_zero ? 0 : 1) || v > 65535) {
		fprintf(stderr, "tcpraw: bad port '%s'\n", s);
		return -1;
	}
	return (int)v;
}

/* Listen on 127.0.0.1:port (0 = ephemeral); returns the fd, sets *bound. */
static int
listen_loopback(int port, int *bound)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		perror("tcpraw: socket");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	/*
	 * Set the buffer before listen() so accepted sockets inherit it and
	 * the window scale is negotiated for it.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    tune_socket(fd) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 4) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1) {
		perror("tcpraw: bind/listen");
		goto fail;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
fail:
	close(fd);
	return -1;
}

static int
connect_to(const char *host, const char *port)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, rc, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "tcpraw: %s: %s\n", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		if (tune_socket(fd) == 0 &&
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		fprintf(stderr, "tcpraw: cannot connect to %s:%s: %s\n", host,
		    port, strerror(saved));
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			perror("tcpraw: write");
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read the file with plain read(2) and write it to the socket. */
static int
send_file(const char *host, const char *port, const char *path)
{
	char *buf = NULL;
	int fd = -1, sock = -1, rc = -1;

	buf = malloc(RAW_IOBUF);
	if (buf == NULL) {
		perror("tcpraw: malloc");
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		perror(path);
		goto out;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	sock = connect_to(host, port);
	if (sock == -1)
		goto out;
	for (;;) {
		ssize_t r = read(fd, buf, RAW_IOBUF);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			perror(path);
			goto out;
		}
		if (r == 0)
			break;
		if (write_all(sock, buf, (size_t)r) == -1)
			goto out;
	}
	/* A half-close tells the receiver it has everything. */
	if (shutdown(sock, SHUT_WR) == -1) {
		perror("tcpraw: shutdown");
		goto out;
	}
	rc = 0;
out:
	if (sock != -1)
		close(sock);
	if (fd != -1)
		close(fd);
	free(buf);
	return rc;
}

/*
 * Accept one connection and count its bytes until EOF; *accepted is the
 * time the connection was accepted.
 */
static int
recv_all(int lfd, unsigned long long *total, double *accepted)
{
	char *buf;
	int cfd, rc = -1;

	*total = 0;
	buf = malloc(RAW_IOBUF);
	if (buf == NULL) {
		perror("tcpraw: malloc");
		return -1;
	}
	do
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (cfd == -1 && errno == EINTR);
	if (cfd == -1) {
		perror("tcpraw: accept");
		goto out;
	}
	*accepted = now_s();
	/* SO_RCVTIMEO is not inherited on every kernel; set it again. */
	if (tune_socket(cfd) == -1)
		goto out;
	for (;;) {
		ssize_t r = read(cfd, buf, RAW_IOBUF);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			perror("tcpraw: read");
			goto out;
		}
		if (r == 0)
			break;
		*total += (unsigned long long)r;
	}
	rc = 0;
out:
	if (cfd != -1)
		close(cfd);
	free(buf);
	return rc;
}

static void
report(unsigned long long bytes, double secs)
{
	printf("bytes=%llu secs=%.6f mbps=%.1f\n", bytes, secs,
	    secs > 0 ? (double)bytes / secs / 1e6 : 0.0);
}

static void *
sender_main(void *arg)
{
	struct sender *s = arg;

	s->rc = send_file(s->host, s->port, s->path);
	return NULL;
}

static int
cmd_loop(const char *path)
{
	struct sender s;
	struct stat st;
	pthread_t tid;
	unsigned long long total;
	char portstr[16];
	double t0, accepted;
	int lfd, port, rc, recv_rc;

	if (stat(path, &st) == -1) {
		perror(path);
		return 1;
	}
	lfd = listen_loopback(0, &port);
	if (lfd == -1)
		return 1;
	rc = snprintf(portstr, sizeof(portstr), "%d", port);
	if (rc < 0 || (size_t)rc >= sizeof(portstr)) {
		close(lfd);
		return 1;
	}
	s.host = "127.0.0.1";
	s.port = portstr;
	s.path = path;
	s.rc = -1;
	t0 = now_s();
	rc = pthread_create(&tid, NULL, sender_main, &s);
	if (rc != 0) {
		fprintf(stderr, "tcpraw: pthread_create: %s\n", strerror(rc));
		close(lfd);
		return 1;
	}
	/*
	 * If the sender fails before connecting, accept() would wait; the
	 * listening socket's SO_RCVTIMEO bounds that wait.
	 */
	recv_rc = recv_all(lfd, &total, &accepted);
	pthread_join(tid, NULL);
	close(lfd);
	if (recv_rc == -1 || s.rc == -1)
		return 1;
	if ((unsigned long long)st.st_size != total) {
		fprintf(stderr, "tcpraw: sent %lld bytes, received %llu\n",
		    (long long)st.st_size, total);
		return 1;
	}
	report(total, now_s() - t0);
	return 0;
}

static int
cmd_recv(const char *portarg)
{
	unsigned long long total;
	double t0;
	int lfd, port;

	port = parse_port(portarg, 1);
	if (port == -1)
		return 1;
	lfd = listen_loopback(port, &port);
	if (lfd == -1)
		return 1;
	printf("port=%d\n", port);
	fflush(stdout);
	/* The clock starts at accept, so waiting for the sender is free. */
	if (recv_all(lfd, &total, &t0) == -1) {
		close(lfd);
		return 1;
	}
	report(total, now_s() - t0);
	close(lfd);
	return 0;
}

static int
cmd_port(void)
{
	int lfd, port;

	lfd = listen_loopback(0, &port);
	if (lfd == -1)
		return 1;
	close(lfd);
	printf("%d\n", port);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tcpraw loop FILE\n"
	    "       tcpraw recv PORT\n"
	    "       tcpraw send HOST PORT FILE\n"
	    "       tcpraw port\n");
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "loop") == 0)
		return cmd_loop(argv[2]);
	if (argc == 3 && strcmp(argv[1], "recv") == 0)
		return cmd_recv(argv[2]);
	if (argc == 5 && strcmp(argv[1], "send") == 0) {
		if (parse_port(argv[3], 0) == -1)
			return 2;
		return send_file(argv[2], argv[3], argv[4]) == 0 ? 0 : 1;
	}
	if (argc == 2 && strcmp(argv[1], "port") == 0)
		return cmd_port();
	usage();
	return 2;
}

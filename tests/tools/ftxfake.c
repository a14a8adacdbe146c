/*
 * ftxfake.c - a lying FTX/1 server for testing the client's checks.
 *
 * The real ftxd never sends a file whose bytes disagree with the hash it
 * announced, so it cannot show that `ftx get` rejects such a download.
 * This server serves one file for every DOWNLOAD and can be told to lie:
 *
 *	ftxfake -f FILE [-m MODE] [-r BYTES_PER_SEC] [-b ADDR] [-w SECS]
 *
 * MODE is one of
 *   good     send the file and its true SHA-256 (the control case)
 *   badsha   send the file but announce a wrong SHA-256
 *   corrupt  announce the true SHA-256 but flip one byte in transit
 *   short    announce the full size, send half, close, and claim DONE
 *   notftx   greet like an FTP server instead of an FTX/1 one
 *
 * -r throttles downloads to about that rate, so that a client's progress
 * display has time to update.
 *
 * It prints "listening control=ADDR:P data=ADDR:Q" once both ports are
 * bound, then serves control sessions one after another until killed or
 * until the watchdog (default 120 s) fires.  Every session and DOWNLOAD
 * is logged on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "ftx_limits.h"
#include "net.h"
#include "str.h"

#define IO_BUF (64 * 1024)

enum mode { MODE_GOOD, MODE_BADSHA, MODE_CORRUPT, MODE_SHORT, MODE_NOTFTX };

static enum mode mode = MODE_GOOD;
static const char *file_path;
static int file_fd = -1;
static uint64_t file_size;
static char file_sha[HASH_SHA256_HEXLEN + 1];
static int data_lfd = -1;
static int data_port;
static uint64_t rate_bps;

static void
watchdog(int sig)
{
	(void)sig;
	_exit(4);
}

/* Wait up to `ms` for `fd` to become readable; 1, 0 on timeout, -1. */
static int
wait_readable(int fd, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int r;

	do
		r = poll(&pfd, 1, ms);
	while (r == -1 && errno == EINTR);
	return r;
}

/* Read one LF-terminated line (LF and CR stripped); 0, or -1 on EOF. */
static int
read_line(int fd, char *out, size_t n)
{
	size_t len = 0;

	for (;;) {
		char c;
		ssize_t r;

		if (wait_readable(fd, 30000) != 1)
			return -1;
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (len + 1 < n)
			out[len++] = c;
	}
	if (len > 0 && out[len - 1] == '\r')
		len--;
	out[len] = '\0';
	return 0;
}

static int
reply(int fd, const char *text)
{
	char line[FTX_LINE_MAX];

	printf("S: %s\n", text);
	fflush(stdout);
	if (str_fmt(line, sizeof(line), "%s\n", text) == -1)
		return -1;
	return net_write_all(fd, line, strlen(line));
}

/* Sleep as long as `n` bytes take at the -r rate. */
static void
throttle(uint64_t n)
{
	struct timespec ts;
	uint64_t ns = n * 1000000000ULL / rate_bps;

	ts.tv_sec = (time_t)(ns / 1000000000ULL);
	ts.tv_nsec = (long)(ns % 1000000000ULL);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Accept the client's data connection and send (or mangle) the file. */
static int
serve_download(int cfd, const char *token)
{
	static unsigned char iobuf[IO_BUF];
	char hello[FTX_TOKEN_HEX + 2];
	uint64_t limit = file_size, off = 0;
	int dfd = -1, rc = -1;
	ssize_t r;

	if (mode == MODE_SHORT)
		limit = file_size / 2;
	if (wait_readable(data_lfd, 10000) != 1)
		goto fail;
	dfd = net_accept(data_lfd, NULL);
	if (dfd == -1 || net_set_nonblock(dfd, 0) == -1 ||
	    net_set_timeouts(dfd, 10) == -1)
		goto fail;
	r = net_read_full(dfd, hello, FTX_TOKEN_HEX + 1);
	if (r != FTX_TOKEN_HEX + 1 ||
	    memcmp(hello, token, FTX_TOKEN_HEX) != 0) {
		printf("# data hello did not carry our token\n");
		goto fail;
	}
	while (off < limit) {
		size_t n =
		    limit - off < IO_BUF ? (size_t)(limit - off) : IO_BUF;

		r = pread(file_fd, iobuf, n, (off_t)off);
		if (r <= 0)
			goto fail;
		/* Flip the middle byte of the file in transit. */
		if (mode == MODE_CORRUPT && file_size / 2 >= off &&
		    file_size / 2 < off + (uint64_t)r)
			iobuf[file_size / 2 - off] ^= 0x20;
		if (net_write_all(dfd, iobuf, (size_t)r) == -1)
			goto fail;
		off += (uint64_t)r;
		if (rate_bps > 0)
			throttle((uint64_t)r);
	}
	printf("# sent %llu of %llu bytes\n", (unsigned long long)off,
	    (unsigned long long)file_size);
	rc = 0;
fail:
	if (dfd != -1)
		close(dfd);
	(void)cfd;
	return rc;
}

static void
serve_session(int cfd)
{
	/* A fixed token is fine: this server exists to be lied to. */
	static const char token[] = "0123456789abcdef0123456789abcdef";
	char line[FTX_LINE_MAX], out[FTX_LINE_MAX], sha[HASH_SHA256_HEXLEN + 1];

	if (net_set_nonblock(cfd, 0) == -1)
		return;
	if (mode == MODE_NOTFTX) {
		/* Stay connected: the client must judge the greeting, not
		 * wait for us to hang up. */
		(void)reply(cfd, "220 ProFTPD Server ready.");
		(void)read_line(cfd, line, sizeof(line));
		return;
	}
	if (reply(cfd, "OK " FTX_PROTO_VERSION " ftxfake/0 ready") == -1)
		return;
	while (read_line(cfd, line, sizeof(line)) == 0) {
		printf("C: %s\n", line);
		if (strncmp(line, "DOWNLOAD ", 9) == 0 ||
		    strncmp(line, "download ", 9) == 0) {
			(void)str_copy(sha, sizeof(sha), file_sha);
			if (mode == MODE_BADSHA)
				sha[0] = sha[0] == '0' ? '1' : '0';
			if (str_fmt(out, sizeof(out), "OK %llu %d %s %s",
				(unsigned long long)file_size, data_port, token,
				sha) == -1 ||
			    reply(cfd, out) == -1)
				return;
			if (serve_download(cfd, token) == -1) {
				(void)reply(cfd,
				    "ERROR SHORT data connection "
				    "failed");
				continue;
			}
			/* The lie is complete: claim success. */
			if (str_fmt(out, sizeof(out), "DONE %s", sha) == -1 ||
			    reply(cfd, out) == -1)
				return;
		} else if (strncmp(line, "QUIT", 4) == 0) {
			(void)reply(cfd, "OK bye");
			return;
		} else if (strncmp(line, "NOOP", 4) == 0) {
			if (reply(cfd, "OK") == -1)
				return;
		} else {
			if (reply(cfd,
				"ERROR UNKNOWN not implemented by "
				"ftxfake") == -1)
				return;
		}
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ftxfake -f FILE [-m good|badsha|corrupt|"
	    "short|notftx] [-r BYTES_PER_SEC] [-b ADDR] [-w SECS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *bind_addr = "127.0.0.1";
	unsigned char digest[HASH_MAX_LEN];
	char err[FTX_ERRLEN];
	int opt, watchdog_s = 120, lfd;

	while ((opt = getopt(argc, argv, "f:m:r:b:w:")) != -1) {
		switch (opt) {
		case 'r':
			if (str_to_u64(optarg, 1ULL << 40, &rate_bps) == -1)
				usage();
			break;
		case 'f':
			file_path = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "good") == 0)
				mode = MODE_GOOD;
			else if (strcmp(optarg, "badsha") == 0)
				mode = MODE_BADSHA;
			else if (strcmp(optarg, "corrupt") == 0)
				mode = MODE_CORRUPT;
			else if (strcmp(optarg, "short") == 0)
				mode = MODE_SHORT;
			else if (strcmp(optarg, "notftx") == 0)
				mode = MODE_NOTFTX;
			else
				usage();
			break;
		case 'b':
			bind_addr = optarg;
			break;
		case 'w':
			watchdog_s = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (file_path == NULL || watchdog_s <= 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, watchdog);
	alarm((unsigned)watchdog_s);

	file_fd = open(file_path, O_RDONLY | O_CLOEXEC);
	if (file_fd == -1) {
		fprintf(stderr, "ftxfake: cannot open %s: %s\n", file_path,
		    strerror(errno));
		return 1;
	}
	if (hash_fd(file_fd, HASH_SHA256, digest, &file_size, err,
		sizeof(err)) == -1) {
		fprintf(stderr, "ftxfake: %s\n", err);
		return 1;
	}
	str_hex(file_sha, digest, HASH_SHA256_LEN);

	lfd = net_listen(bind_addr, 0, 16, err, sizeof(err));
	if (lfd == -1)
		goto fail;
	data_lfd = net_listen(bind_addr, 0, 16, err, sizeof(err));
	if (data_lfd == -1)
		goto fail;
	data_port = net_local_port(data_lfd);
	printf("listening control=%s:%d data=%s:%d\n", bind_addr,
	    net_local_port(lfd), bind_addr, data_port);
	fflush(stdout);
	for (;;) {
		int cfd;

		if (wait_readable(lfd, -1) != 1)
			continue;
		cfd = net_accept(lfd, NULL);
		if (cfd == -1)
			continue;
		printf("# session\n");
		serve_session(cfd);
		close(cfd);
		fflush(stdout);
	}
fail:
	fprintf(stderr, "ftxfake: %s\n", err);
	return 1;
}

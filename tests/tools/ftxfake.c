/*
 * ftxfake.c - a lying FTX/1 server for testing the client's checks.
 *
 * The real ftxd never sends a file whose bytes disagree with the hash it
 * announced, so it cannot show that `ftx get` rejects such a download.
 * This server serves one file for every DOWNLOAD and can be told to lie:
 *
 *	ftxfake -f FILE [-m MODE] [-r BYTES_PER_SEC] [-b ADDR] [-w SECS]
 *	        [-c CERT -k KEY] [-g WORDS] [-l MS] [-W FILE] [-n NAME]
 *	        [-e TEXT]
 *
 * MODE is one of
 *   good     send the file and its true SHA-256 (the control case)
 *   badsha   send the file but announce a wrong SHA-256
 *   corrupt  announce the true SHA-256 but flip one byte in transit
 *   short    announce the full size, send half, close, and claim DONE
 *   notftx   greet like an FTP server instead of an FTX/1 one
 * and, for the client's security checks (tests/integration/t_client_sec.sh):
 *   inject   answer STARTTLS with "OK begin TLS" and, in the same write,
 *            a plaintext line an attacker on the path could have added;
 *            then log how many bytes the client sends before it closes
 *   refusetls  answer STARTTLS with ERROR TLS (a stripping attacker),
 *            whatever the greeting said
 *   longline answer every command but QUIT with 64 KiB and no LF
 *   nul      answer every command but QUIT with a line holding a NUL
 *   noticket (needs -c/-k) TLS on the control connection issues no
 *            session ticket, so a data connection has nothing to resume
 *   fullhs   (needs -c/-k) data connections use other ticket keys, so
 *            the client's resumption fails and the handshake is a full
 *            one: the client must not send its token on it
 *   bigpartial  answer PARTIAL with one byte more than the file's size
 *   hostile  text for the terminal (tests/integration/t_client_esc.sh):
 *            LIST lists one file named NAME (-n, bytes as given), HASH
 *            answers for NAME, JOIN is followed by a chat message and a
 *            notice whose text is TEXT (-e), STATS has TEXT after its
 *            first field, and every other command gets
 *            "ERROR NOTFOUND TEXT"
 *
 * -r throttles downloads to about that rate, so that a client's progress
 * display has time to update.  -c/-k offer STARTTLS with that certificate
 * and key (the greeting says "tls"); data connections of a TLS session
 * are TLS too and the log says whether they resumed ("# data tls
 * resumed=1") and what came through them.  -g appends capability words
 * to the greeting (e.g. "tls tls-required" or "login anonymous").  LOGIN
 * is always accepted ("OK <user> logged in"; anonymous read-only), after
 * -l milliseconds, or (-W) once FILE exists (at most LOGIN_WAIT_S): a test
 * looks at the waiting client for as long as it needs, then creates
 * FILE.  The log shows the whole line, password included: that is what
 * the client tests look for.  LIST gets an empty listing, and
 * PARTIAL <name> <size> "OK <size/2>" (a server that kept half an upload;
 * UPLOAD itself is not implemented: the log shows what was asked).
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "ftx_limits.h"
#include "net.h"
#include "proto.h"
#include "str.h"
#include "tls.h"

#define IO_BUF (64 * 1024)
/* How long we watch what a client sends after an injected line. */
#define INJECT_WATCH_MS 3000
/* The bytes of a "longline" reply: far beyond any line limit. */
#define LONGLINE_BYTES (64 * 1024)
/* -W: the longest a LOGIN reply waits for its file. */
#define LOGIN_WAIT_S 30

enum mode {
	MODE_GOOD,
	MODE_BADSHA,
	MODE_CORRUPT,
	MODE_SHORT,
	MODE_NOTFTX,
	MODE_INJECT,
	MODE_REFUSETLS,
	MODE_LONGLINE,
	MODE_NUL,
	MODE_NOTICKET,
	MODE_FULLHS,
	MODE_BIGPARTIAL,
	MODE_HOSTILE
};

static const struct {
	const char *name;
	enum mode mode;
} modes[] = {
    {"good", MODE_GOOD},
    {"badsha", MODE_BADSHA},
    {"corrupt", MODE_CORRUPT},
    {"short", MODE_SHORT},
    {"notftx", MODE_NOTFTX},
    {"inject", MODE_INJECT},
    {"refusetls", MODE_REFUSETLS},
    {"longline", MODE_LONGLINE},
    {"nul", MODE_NUL},
    {"noticket", MODE_NOTICKET},
    {"fullhs", MODE_FULLHS},
    {"bigpartial", MODE_BIGPARTIAL},
    {"hostile", MODE_HOSTILE},
};

static enum mode mode = MODE_GOOD;
static const char *file_path;
static int file_fd = -1;
static uint64_t file_size;
static char file_sha[HASH_SHA256_HEXLEN + 1];
static int data_lfd = -1;
static int data_port;
static uint64_t rate_bps;
/* -c/-k: TLS for control connections, and for data connections (the
 * same context, so tickets resume, except in fullhs mode). */
static struct tls_ctx *ctl_ctx, *data_ctx;
/* The current session's TLS, once STARTTLS is done. */
static struct tls *ctl_tls;
static const char *greet_words;
static int login_delay_ms;
static const char *login_wait_file;
/* hostile: the name LIST and HASH show, the text of everything else */
static const char *hostile_name = "hostile";
static const char *hostile_text = "hostile";

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

/* One read from `fd`, through `t` if it is not NULL: a count, 0 at the
 * end, -1 (EAGAIN: a TLS record without data, try again). */
static ssize_t
conn_read(int fd, struct tls *t, void *buf, size_t n)
{
	if (t != NULL)
		return tls_read(t, buf, n);
	return read(fd, buf, n);
}

static int
conn_write(int fd, struct tls *t, const void *buf, size_t n)
{
	if (t != NULL)
		return tls_write_all(t, buf, n);
	return net_write_all(fd, buf, n);
}

/* Like wait_readable, but bytes TLS already holds count as readable. */
static int
conn_wait(int fd, struct tls *t, int ms)
{
	if (t != NULL && tls_pending(t) > 0)
		return 1;
	return wait_readable(fd, ms);
}

/* Read one LF-terminated line (LF and CR stripped); 0, or -1 on EOF. */
static int
read_line(int fd, char *out, size_t n)
{
	size_t len = 0;

	for (;;) {
		char c;
		ssize_t r;

		if (conn_wait(fd, ctl_tls, 30000) != 1)
			return -1;
		r = conn_read(fd, ctl_tls, &c, 1);
		if (r == -1 && (errno == EINTR || errno == EAGAIN))
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
	return conn_write(fd, ctl_tls, line, strlen(line));
}

/* Run the server side of a TLS handshake on blocking `fd`, bounded;
 * the connection, or NULL (logged). */
static struct tls *
tls_accept(struct tls_ctx *ctx, int fd, int tickets, const char *what)
{
	char err[FTX_ERRLEN];
	struct pollfd pfd;
	struct tls *t;
	int r, waited = 0;

	if ((t = tls_new(ctx, fd, 1, NULL, err, sizeof(err))) == NULL) {
		printf("# %s: %s\n", what, err);
		return NULL;
	}
	if (!tickets)
		tls_no_tickets(t);
	while ((r = tls_handshake(t)) == 0 &&
	    waited < FTX_TLS_HANDSHAKE_TIMEOUT_S * 1000) {
		pfd.fd = fd;
		pfd.events = (short)tls_want(t);
		pfd.revents = 0;
		if (poll(&pfd, 1, 100) == -1 && errno != EINTR)
			break;
		waited += 100;
	}
	if (r != 1) {
		printf("# %s: TLS handshake failed: %s\n", what,
		    r == 0 ? "timed out" : tls_strerror(t));
		tls_free(t);
		return NULL;
	}
	return t;
}

/* Read up to n bytes, until the end of the stream or `ms` without a
 * byte; the count. */
static size_t
read_for(int fd, struct tls *t, char *buf, size_t n, int ms)
{
	size_t have = 0;
	ssize_t r;

	while (have < n && conn_wait(fd, t, ms) == 1) {
		r = conn_read(fd, t, buf + have, n - have);
		if (r == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	return have;
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
	struct pollfd pfd[2];
	struct tls *dtls = NULL;
	int dfd = -1, rc = -1;
	size_t got;
	ssize_t r;

	if (mode == MODE_SHORT)
		limit = file_size / 2;
	/* A client that gives up on the transfer closes its control
	 * connection; no need to wait for a data connection then. */
	pfd[0].fd = data_lfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = cfd;
	pfd[1].events = POLLIN;
	pfd[0].revents = pfd[1].revents = 0;
	do
		r = poll(pfd, 2, 10000);
	while (r == -1 && errno == EINTR);
	if (r <= 0 || (pfd[0].revents & POLLIN) == 0) {
		printf("# no data connection\n");
		goto fail;
	}
	dfd = net_accept(data_lfd, NULL);
	if (dfd == -1 || net_set_nonblock(dfd, 0) == -1 ||
	    net_set_timeouts(dfd, 10) == -1)
		goto fail;
	printf("# data connection\n");
	fflush(stdout);
	if (ctl_tls != NULL) {
		unsigned char first;

		/* What opens the data connection: a ClientHello (0x16), or
		 * nothing at all from a client with no ticket to offer. */
		if (wait_readable(dfd, 3000) != 1 ||
		    recv(dfd, &first, 1, MSG_PEEK) != 1) {
			printf("# data: closed before any byte\n");
			goto fail;
		}
		printf("# data: first byte 0x%02x\n", first);
		dtls = tls_accept(data_ctx, dfd, 0, "data");
		if (dtls == NULL)
			goto fail;
		printf("# data tls resumed=%d\n", tls_resumed(dtls));
	}
	got = read_for(dfd, dtls, hello, FTX_TOKEN_HEX + 1, 3000);
	if (dtls != NULL)
		printf("# data: %zu bytes after the handshake\n", got);
	if (got != FTX_TOKEN_HEX + 1 ||
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
		if (conn_write(dfd, dtls, iobuf, (size_t)r) == -1)
			goto fail;
		off += (uint64_t)r;
		if (rate_bps > 0)
			throttle((uint64_t)r);
	}
	printf("# sent %llu of %llu bytes\n", (unsigned long long)off,
	    (unsigned long long)file_size);
	if (dtls != NULL)
		tls_shutdown(dtls);
	rc = 0;
fail:
	tls_free(dtls);
	if (dfd != -1)
		close(dfd);
	return rc;
}

/* "OK begin TLS" and, in the same segment, a line from "the path". */
static void
serve_inject(int cfd)
{
	static const char both[] = "OK begin TLS\nOK injected\n";
	char buf[4096];
	size_t got;

	printf("S: OK begin TLS\nS: OK injected\n");
	fflush(stdout);
	if (net_write_all(cfd, both, sizeof(both) - 1) == -1)
		return;
	got = read_for(cfd, NULL, buf, sizeof(buf), INJECT_WATCH_MS);
	printf("# after STARTTLS the client sent %zu bytes", got);
	if (got > 0)
		printf(" (first 0x%02x)", (unsigned char)buf[0]);
	printf("\n");
}

/* A reply no client may accept: 64 KiB without LF, or a NUL. */
static int
reply_hostile(int cfd)
{
	static char big[LONGLINE_BYTES];
	static const char nul[] = "OK 0\0 and more\nDONE\n";

	if (mode == MODE_NUL) {
		printf("S: OK 0<NUL> and more\nS: DONE\n");
		return conn_write(cfd, ctl_tls, nul, sizeof(nul) - 1);
	}
	memset(big, 'x', sizeof(big));
	memcpy(big, "OK ", 3);
	printf("S: OK xxx... (%d bytes, no LF)\n", LONGLINE_BYTES);
	return conn_write(cfd, ctl_tls, big, sizeof(big));
}

/* PARTIAL <name> <size>: half of it kept, or (bigpartial) more than the
 * whole file, which a client must not take as an offset. */
static int
serve_partial(int cfd, const char *line)
{
	const char *sp = strrchr(line, ' ');
	char out[64];
	uint64_t size;

	if (sp == NULL || str_to_u64(sp + 1, UINT64_MAX / 2, &size) == -1)
		return reply(cfd, "ERROR SYNTAX PARTIAL <name> <size>");
	if (str_fmt(out, sizeof(out), "OK %llu",
		(unsigned long long)(mode == MODE_BIGPARTIAL ? size + 1
							     : size / 2)) == -1)
		return -1;
	return reply(cfd, out);
}

/* LOGIN: anyone gets in; the log has the whole line. */
static int
serve_login(int cfd, const char *line)
{
	char user[FTX_LINE_MAX], out[FTX_LINE_MAX];
	struct timespec ts;
	size_t n;
	int tick;

	line += 6; /* "LOGIN " */
	n = strcspn(line, " ");
	if (n == 0 || n >= sizeof(user))
		return reply(cfd, "ERROR SYNTAX LOGIN <user> <password>");
	memcpy(user, line, n);
	user[n] = '\0';
	if (login_delay_ms > 0) {
		ts.tv_sec = login_delay_ms / 1000;
		ts.tv_nsec = (long)(login_delay_ms % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	for (tick = 0; login_wait_file != NULL &&
	     access(login_wait_file, F_OK) == -1 && tick < LOGIN_WAIT_S * 50;
	     tick++) {
		ts.tv_sec = 0;
		ts.tv_nsec = 20000000L; /* 20 ms */
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	if (strcmp(user, FTX_ANON_USER) == 0)
		return reply(cfd, "OK anonymous logged in read-only");
	if (str_fmt(out, sizeof(out), "OK %s logged in", user) == -1)
		return -1;
	return reply(cfd, out);
}

/* hostile: a reply with NAME or TEXT in it; 1 if `line` was one of
 * ours, 0 if not, -1 on a write error. */
static int
serve_hostile(int cfd, const char *line)
{
	char out[FTX_LINE_MAX], enc[FTX_LINE_MAX];

	/* Percent-encoded the way servers send names (PROTOCOL.md). */
	if (proto_encode(enc, sizeof(enc), hostile_name) == -1)
		return -1;
	if (strcmp(line, "LIST") == 0) {
		if (str_fmt(out, sizeof(out), "FILE %llu 0 - %s",
			(unsigned long long)file_size, enc) == -1)
			return -1;
		return reply(cfd, "OK 1") == -1 || reply(cfd, out) == -1 ||
			reply(cfd, "DONE") == -1
		    ? -1
		    : 1;
	}
	if (strncmp(line, "HASH ", 5) == 0) {
		if (str_fmt(out, sizeof(out), "OK %llu %s - %s",
			(unsigned long long)file_size, file_sha, enc) == -1)
			return -1;
		return reply(cfd, out) == -1 ? -1 : 1;
	}
	if (strncmp(line, "JOIN ", 5) == 0) {
		if (str_fmt(out, sizeof(out), "OK %s", line + 5) == -1 ||
		    reply(cfd, out) == -1 ||
		    str_fmt(out, sizeof(out),
			"MSG 2026-01-01T00:00:00.000Z mallory %s",
			hostile_text) == -1 ||
		    reply(cfd, out) == -1 ||
		    str_fmt(out, sizeof(out),
			"NOTICE 2026-01-01T00:00:00.000Z %s",
			hostile_text) == -1)
			return -1;
		return reply(cfd, out) == -1 ? -1 : 1;
	}
	if (strcmp(line, "STATS") == 0) {
		if (str_fmt(out, sizeof(out), "OK uptime=1 %s", hostile_text) ==
		    -1)
			return -1;
		return reply(cfd, out) == -1 ? -1 : 1;
	}
	if (strncmp(line, "QUIT", 4) == 0 || strcmp(line, "STARTTLS") == 0 ||
	    strncmp(line, "LOGIN ", 6) == 0)
		return 0;
	if (str_fmt(out, sizeof(out), "ERROR NOTFOUND %s", hostile_text) == -1)
		return -1;
	return reply(cfd, out) == -1 ? -1 : 1;
}

static void
serve_session(int cfd)
{
	/* A fixed token is fine: this server exists to be lied to. */
	static const char token[] = "0123456789abcdef0123456789abcdef";
	char line[FTX_LINE_MAX], out[FTX_LINE_MAX], sha[HASH_SHA256_HEXLEN + 1];
	char greeting[FTX_LINE_MAX];

	if (net_set_nonblock(cfd, 0) == -1 || net_set_timeouts(cfd, 10) == -1)
		return;
	if (mode == MODE_NOTFTX) {
		/* Stay connected: the client must judge the greeting, not
		 * wait for us to hang up. */
		(void)reply(cfd, "220 ProFTPD Server ready.");
		(void)read_line(cfd, line, sizeof(line));
		return;
	}
	if (str_fmt(greeting, sizeof(greeting),
		"OK " FTX_PROTO_VERSION " ftxfake/0 ready%s%s%s",
		ctl_ctx != NULL ? " tls" : "", greet_words != NULL ? " " : "",
		greet_words != NULL ? greet_words : "") == -1 ||
	    reply(cfd, greeting) == -1)
		return;
	while (read_line(cfd, line, sizeof(line)) == 0) {
		printf("C: %s\n", line);
		fflush(stdout);
		if ((mode == MODE_LONGLINE || mode == MODE_NUL) &&
		    strncmp(line, "QUIT", 4) != 0) {
			if (reply_hostile(cfd) == -1)
				return;
			continue;
		}
		if (mode == MODE_HOSTILE) {
			int r = serve_hostile(cfd, line);

			if (r == -1)
				return;
			if (r == 1)
				continue;
		}
		if (strcmp(line, "STARTTLS") == 0) {
			if (mode == MODE_INJECT) {
				serve_inject(cfd);
				return;
			}
			if (ctl_tls != NULL) {
				if (reply(cfd, "ERROR TLS already active") ==
				    -1)
					return;
				continue;
			}
			if (mode == MODE_REFUSETLS || ctl_ctx == NULL) {
				if (reply(cfd,
					"ERROR TLS not offered (no "
					"certificate configured)") == -1)
					return;
				continue;
			}
			if (reply(cfd, "OK begin TLS") == -1)
				return;
			ctl_tls = tls_accept(
			    ctl_ctx, cfd, mode != MODE_NOTICKET, "control");
			if (ctl_tls == NULL)
				return;
			printf("# control tls up\n");
			continue;
		}
		if (strncmp(line, "LOGIN ", 6) == 0) {
			if (serve_login(cfd, line) == -1)
				return;
			continue;
		}
		if (strncmp(line, "PARTIAL ", 8) == 0) {
			if (serve_partial(cfd, line) == -1)
				return;
			continue;
		}
		if (strcmp(line, "LIST") == 0) {
			if (reply(cfd, "OK 0") == -1 ||
			    reply(cfd, "DONE") == -1)
				return;
			continue;
		}
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
	    "usage: ftxfake -f FILE [-m good|badsha|corrupt|short|notftx|"
	    "inject|refusetls|\n"
	    "               longline|nul|noticket|fullhs|bigpartial|hostile]\n"
	    "               [-r BYTES_PER_SEC] [-b ADDR] [-w SECS]\n"
	    "               [-c CERT -k KEY] [-g WORDS] [-l MS] [-W FILE]\n"
	    "               [-n NAME] [-e TEXT]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *bind_addr = "127.0.0.1";
	unsigned char digest[HASH_MAX_LEN];
	char err[FTX_ERRLEN];
	const char *cert = NULL, *key = NULL;
	uint64_t ms;
	size_t i;
	int opt, watchdog_s = 120, lfd;

	while ((opt = getopt(argc, argv, "f:m:r:b:w:c:k:g:l:W:n:e:")) != -1) {
		switch (opt) {
		case 'W':
			login_wait_file = optarg;
			break;
		case 'n':
			hostile_name = optarg;
			break;
		case 'e':
			hostile_text = optarg;
			break;
		case 'r':
			if (str_to_u64(optarg, 1ULL << 40, &rate_bps) == -1)
				usage();
			break;
		case 'f':
			file_path = optarg;
			break;
		case 'm':
			for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
				if (strcmp(optarg, modes[i].name) == 0)
					break;
			if (i == sizeof(modes) / sizeof(modes[0]))
				usage();
			mode = modes[i].mode;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'g':
			greet_words = optarg;
			break;
		case 'l':
			if (str_to_u64(optarg, 60000, &ms) == -1)
				usage();
			login_delay_ms = (int)ms;
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
	if (file_path == NULL || watchdog_s <= 0 ||
	    (cert == NULL) != (key == NULL) ||
	    ((mode == MODE_NOTICKET || mode == MODE_FULLHS) && cert == NULL))
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
	if (cert != NULL) {
		ctl_ctx = tls_server_ctx(cert, key, err, sizeof(err));
		if (ctl_ctx == NULL)
			goto fail;
		data_ctx = ctl_ctx;
		/* Another context has other ticket keys: the client's
		 * ticket cannot be decrypted, the handshake is a full one. */
		if (mode == MODE_FULLHS &&
		    (data_ctx = tls_server_ctx(cert, key, err, sizeof(err))) ==
			NULL)
			goto fail;
	}

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
		fflush(stdout);
		serve_session(cfd);
		if (ctl_tls != NULL)
			tls_shutdown(ctl_tls);
		tls_free(ctl_tls);
		ctl_tls = NULL;
		printf("# session end\n");
		close(cfd);
		fflush(stdout);
	}
fail:
	fprintf(stderr, "ftxfake: %s\n", err);
	return 1;
}

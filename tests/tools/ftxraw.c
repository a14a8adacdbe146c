/*
 * ftxraw.c - a scriptable raw FTX/1 client for the hostile integration
 * tests.
 *
 * The real client `ftx` only ever speaks correct protocol, so it cannot
 * test what the server does with a wrong token, a wrong digest, a peer
 * that stalls half way or a flood of overlong lines.  This tool runs a
 * small script given as arguments, one step per argument, and prints a
 * transcript:
 *
 *	ftxraw [-h HOST] -p PORT [-t READ_SECS] [-w WATCHDOG_SECS] STEP...
 *
 * Control steps:
 *   ctl[@SRC]        open a control connection (source IP SRC) and read
 *                    the greeting; it becomes the current connection
 *   close            close the current control connection (the one opened
 *                    before it becomes current again)
 *   line:TEXT        send TEXT + LF and read one whole reply
 *   send:TEXT        send TEXT + LF, read nothing
 *   raw:ESCAPED      send bytes; \n \r \t \\ \0 and \xHH are understood
 *   rep:N:ESCAPED    send ESCAPED (as for raw:) N times, e.g. overlong lines
 *   csend:PATH       send the bytes of file PATH on the control connection
 *   read[:SECS]      read one line
 *   reply[:SECS]     read one whole reply (OK <n> ... DONE)
 *   ls[:SECS]        read an LS stream: "OK -" (unless the last result
 *                    is that head, as after line:LS ...), ENTRY lines,
 *                    then "DONE <n>" or ERROR (or just an ERROR), all
 *                    printed; the result is the head, every line read,
 *                    then "ENTRIES <k>" (the count of ENTRY lines)
 *   lsq[:EVERY:MS]   the same, quietly (for huge listings): prints and
 *                    keeps only the first line, "ENTRIES <k>" and the
 *                    last; pauses MS ms after every EVERY lines (a slow
 *                    reader)
 *   drain[:SECS]     read lines until EOF or timeout
 * Data steps (port and token come from the last UPLOAD/DOWNLOAD OK reply):
 *   data[:SPEC][@SRC] open a data connection and send a hello; SPEC is
 *                    tok (default), bad (last digit changed), upper,
 *                    none (send nothing), short (16 digits) or hex:TEXT
 *   dpart:A:B        send bytes A..B-1 of the proper hello (token + LF) on
 *                    the current data connection: a hello in pieces
 *   draw:ESCAPED     send bytes (as for raw:) on the current data connection
 *   dhost:HOST       later data connections go to HOST (dhost: = back to
 *                    the control host)
 *   dsel:N           make the N-th data connection (from 0) current
 *   dsend:PATH[:N]   send the next N bytes of PATH (default: the rest)
 *   dgen:N           send N pseudo-random bytes
 *   ddigest[:bad]    send the SHA-256 of the bytes sent so far on this
 *                    data connection (or a wrong one)
 *   dframes:N        streamed upload (UPLOAD <path> *): from now on dsend
 *                    and dgen wrap what they send on this connection in
 *                    chunks of at most N bytes, each behind its 4-byte
 *                    big-endian length (dframes:0: unframed again)
 *   dlen:N           send a bare 4-byte big-endian length N, unhashed (a
 *                    chunk head without its bytes; 0 begins the end)
 *   dend[:bad|:total=N] the end of a stream: length 0, the 8-byte
 *                    big-endian total (the bytes sent, or N) and the
 *                    SHA-256 of the bytes sent (or a wrong one)
 *   dshut, dclose    half-close / close the current data connection
 *   drecv[:PATH]     receive until EOF, optionally saving to PATH
 * Checks and helpers:
 *   ok:RE / not:RE   the first line of the last result matches / does not
 *                    match the extended regular expression RE
 *   has:RE / no:RE   some / no line of the last result matches RE
 *   sleep:SECS, stall, waitfile:PATH, touch:PATH, note:TEXT
 *
 * The "last result" of a read is the line(s) read, or EOF, TIMEOUT or
 * RESET; of a data step it is "DATA-CONNECTED", "SENT n=N",
 * "SENDFAIL n=N ..." or "DATA n=N sha=HEX end=EOF|RESET|TIMEOUT".
 *
 * Exit status: 0 all checks passed, 1 a check failed, 2 usage, 3 a step
 * could not run (no connection), 4 the watchdog fired.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
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
#include "str.h"

#define MAX_CONNS 256
#define CONN_BUF (80 * 1024)
#define MAX_LINES 200000
#define IO_BUF (64 * 1024)

struct conn {
	int fd;
	char *buf;
	size_t len;
};

static const char *host = "127.0.0.1";
/* Where data connections go: HOST unless a dhost: step says otherwise. */
static const char *data_host;
static int ctl_port = -1;
static int read_timeout_s = 10;

static struct conn ctls[MAX_CONNS];
static int nctl;
/* Each data connection hashes what we send on it, for ddigest. */
struct dconn {
	int fd;
	struct hash_ctx *h;
	uint64_t sent;
	size_t frame; /* dframes: the chunk size, 0 unframed */
};
static struct dconn datas[MAX_CONNS];
static int ndata;
static int cur_data = -1;

/* What the last UPLOAD/DOWNLOAD OK reply told us. */
static int xfer_port = -1;
static char xfer_token[FTX_TOKEN_HEX + 1];

/* The last result, for ok:/has: checks. */
static char *lines[MAX_LINES];
static int nlines;

static uint64_t prng_state = 0x9e3779b97f4a7c15ULL;

/* Files being sent with dsend, each with its own read position. */
#define MAX_FILES 16
struct sfile {
	char path[4096];
	int fd;
};
static struct sfile sfiles[MAX_FILES];
static int nsfiles;

static int failures;

static void
watchdog(int sig)
{
	static const char msg[] = "# WATCHDOG: ftxraw ran too long\n";

	(void)sig;
	(void)!write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	_exit(4);
}

static void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	printf("# FATAL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(3);
}

static void
result_clear(void)
{
	int i;

	for (i = 0; i < nlines; i++)
		free(lines[i]);
	nlines = 0;
}

static void
result_add(const char *s)
{
	char *p;

	if (nlines >= MAX_LINES)
		return;
	p = strdup(s);
	if (p == NULL)
		die("%s", "out of memory");
	lines[nlines++] = p;
}

static void
result_set(const char *s)
{
	result_clear();
	result_add(s);
	printf("# %s\n", s);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Print what we send, shortened: overlong lines would drown the log. */
static void
show_sent(const char *p, size_t n)
{
	size_t i, shown = n < 120 ? n : 120;

	printf("> ");
	for (i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\n' && i == n - 1)
			break;
		if (c < 0x20 || c == 0x7f || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	if (shown < n)
		printf("...(%zu bytes)", n);
	printf("\n");
}

/*
 * Connect to host:port, optionally from source address `src`.  The test
 * machine's whole 127.0.0.0/8 is local, so binding 127.0.0.2 gives a
 * second client IP without any network set-up.
 */
static int
raw_connect(const char *to, int port, const char *src, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16];
	int fd = -1, rc;

	if (src == NULL)
		return net_connect(to, port, 5, err, errlen);
	if (str_fmt(portstr, sizeof(portstr), "%d", port) == -1)
		return str_err(err, errlen, "bad port");
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(to, portstr, &hints, &res);
	if (rc != 0)
		return str_err(err, errlen, "%s: %s", to, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct sockaddr_storage ss;
		socklen_t sl;

		memset(&ss, 0, sizeof(ss));
		if (ai->ai_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			if (inet_pton(AF_INET, src, &s4->sin_addr) != 1)
				continue;
			sl = sizeof(*s4);
		} else if (ai->ai_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			if (inet_pton(AF_INET6, src, &s6->sin6_addr) != 1)
				continue;
			sl = sizeof(*s6);
		} else {
			continue;
		}
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		if (bind(fd, (struct sockaddr *)&ss, sl) == 0 &&
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		(void)str_err(
		    err, errlen, "connect from %s: %s", src, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1 && err != NULL && err[0] == '\0')
		(void)str_err(err, errlen, "no address of family of %s", src);
	return fd;
}

static struct conn *
cur_ctl(void)
{
	if (nctl == 0)
		die("%s", "no control connection");
	return &ctls[nctl - 1];
}

/*
 * Read one line from `c` within `timeout_s`.  Returns 1 with the line
 * (CR LF stripped) in `out`, 0 on EOF, -2 on timeout, -3 on a reset or
 * other error.  A line longer than our buffer is returned in pieces.
 */
static int
conn_readline(struct conn *c, double timeout_s, char *out, size_t outsz)
{
	double deadline = now_s() + timeout_s;

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		size_t n, take;
		struct pollfd pfd;
		ssize_t r;
		int ms;

		if (nl != NULL || c->len == CONN_BUF) {
			n = nl != NULL ? (size_t)(nl - c->buf) : c->len;
			take = n < outsz - 1 ? n : outsz - 1;
			memcpy(out, c->buf, take);
			out[take] = '\0';
			if (take > 0 && out[take - 1] == '\r')
				out[take - 1] = '\0';
			if (nl != NULL)
				n++;
			memmove(c->buf, c->buf + n, c->len - n);
			c->len -= n;
			return 1;
		}
		ms = (int)((deadline - now_s()) * 1000);
		if (ms <= 0)
			return -2;
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, ms);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -3;
		if (r == 0)
			return -2;
		r = read(c->fd, c->buf + c->len, CONN_BUF - c->len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -3;
		if (r == 0) {
			if (c->len > 0) {
				/* A final line without LF still counts. */
				take = c->len < outsz - 1 ? c->len : outsz - 1;
				memcpy(out, c->buf, take);
				out[take] = '\0';
				c->len = 0;
				return 1;
			}
			return 0;
		}
		c->len += (size_t)r;
	}
}

/* Read one line into the result set; returns conn_readline's code. */
static int
read_one(double timeout_s, int append)
{
	static char line[CONN_BUF + 1];
	int r;

	r = conn_readline(cur_ctl(), timeout_s, line, sizeof(line));
	if (!append)
		result_clear();
	switch (r) {
	case 1:
		printf("< %s\n", line);
		result_add(line);
		break;
	case 0:
		printf("< EOF\n");
		result_add("EOF");
		break;
	case -2:
		printf("< TIMEOUT\n");
		result_add("TIMEOUT");
		break;
	default:
		printf("< RESET (%s)\n", strerror(errno));
		result_add("RESET");
		break;
	}
	return r;
}

/* 1 if `s` is "OK <digits>": the head of a multi-line reply. */
static int
is_multi_head(const char *s, long *n)
{
	const char *p;

	if (strncmp(s, "OK ", 3) != 0 || s[3] == '\0')
		return 0;
	for (p = s + 3; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	*n = strtol(s + 3, NULL, 10);
	return 1;
}

/* Remember the port and token of an UPLOAD or DOWNLOAD OK reply. */
static void
note_transfer(const char *sent, const char *reply)
{
	char verb[16], w[6][160];
	int n, i;

	if (sscanf(sent, "%15s", verb) != 1)
		return;
	for (i = 0; verb[i] != '\0'; i++)
		verb[i] = (char)toupper((unsigned char)verb[i]);
	n = sscanf(reply, "%159s %159s %159s %159s %159s %159s", w[0], w[1],
	    w[2], w[3], w[4], w[5]);
	if (n < 1 || strcmp(w[0], "OK") != 0)
		return;
	if (strcmp(verb, "UPLOAD") == 0 && n >= 3) {
		xfer_port = atoi(w[1]);
		(void)str_copy(xfer_token, sizeof(xfer_token), w[2]);
	} else if (strcmp(verb, "DOWNLOAD") == 0 && n >= 4) {
		xfer_port = atoi(w[2]);
		(void)str_copy(xfer_token, sizeof(xfer_token), w[3]);
	}
}

static void
read_reply(double timeout_s)
{
	long n, i;

	if (read_one(timeout_s, 0) != 1)
		return;
	if (!is_multi_head(lines[0], &n))
		return;
	/* n data lines, then DONE; stop early on anything unexpected. */
	for (i = 0; i <= n && nlines < MAX_LINES; i++) {
		if (read_one(timeout_s, 1) != 1)
			return;
		if (strncmp(lines[nlines - 1], "DONE", 4) == 0)
			return;
	}
}

/*
 * An LS stream: the head ("OK -" or an ERROR), ENTRY lines, the end
 * ("DONE <n>" or ERROR).  `quiet` keeps only the head, the count and the
 * end; every `every` lines it sleeps `ms` ms.
 */
static void
read_ls(double timeout_s, int quiet, long every, long ms)
{
	static char line[CONN_BUF + 1];
	char count[64];
	long k = 0, n = 0;
	int r;

	/* After "line:LS ..." the head is read already. */
	if (nlines != 1 || strcmp(lines[0], "OK -") != 0) {
		if (read_one(timeout_s, 0) != 1 ||
		    strcmp(lines[0], "OK -") != 0)
			return;
	}
	for (;;) {
		r = conn_readline(cur_ctl(), timeout_s, line, sizeof(line));
		if (r != 1) {
			(void)str_copy(line, sizeof(line),
			    r == 0	  ? "EOF"
				: r == -2 ? "TIMEOUT"
					  : "RESET");
		}
		if (!quiet || r != 1 || strncmp(line, "ENTRY ", 6) != 0) {
			printf("< %s\n", line);
			result_add(line);
		}
		if (r != 1 || strncmp(line, "ENTRY ", 6) != 0)
			break;
		k++;
		if (every > 0 && ++n % every == 0)
			sleep_s((double)ms / 1000.0);
	}
	(void)str_fmt(count, sizeof(count), "ENTRIES %ld", k);
	printf("# %s\n", count);
	result_add(count);
}

static void
ctl_send(const char *p, size_t n)
{
	show_sent(p, n);
	if (net_write_all(cur_ctl()->fd, p, n) == -1)
		printf("# send failed: %s\n", strerror(errno));
}

static void
ctl_send_line(const char *text)
{
	size_t n = strlen(text);
	char *p = malloc(n + 1);

	if (p == NULL)
		die("%s", "out of memory");
	memcpy(p, text, n);
	p[n] = '\n';
	ctl_send(p, n + 1);
	free(p);
}

/* Send a whole file on the control connection (binary garbage tests). */
static void
ctl_send_file(const char *path)
{
	static char iobuf[IO_BUF];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd == -1)
		die("cannot open %s", path);
	while ((r = read(fd, iobuf, sizeof(iobuf))) > 0)
		ctl_send(iobuf, (size_t)r);
	close(fd);
}

/* Decode C-style escapes in place; returns the decoded length. */
static size_t
unescape(char *s)
{
	char *r = s, *w = s;

	while (*r != '\0') {
		if (*r != '\\' || r[1] == '\0') {
			*w++ = *r++;
			continue;
		}
		r++;
		switch (*r) {
		case 'n':
			*w++ = '\n';
			r++;
			break;
		case 'r':
			*w++ = '\r';
			r++;
			break;
		case 't':
			*w++ = '\t';
			r++;
			break;
		case '0':
			*w++ = '\0';
			r++;
			break;
		case 'x':
			if (isxdigit((unsigned char)r[1]) &&
			    isxdigit((unsigned char)r[2])) {
				char hx[3] = {r[1], r[2], '\0'};

				*w++ = (char)strtol(hx, NULL, 16);
				r += 3;
				break;
			}
			*w++ = *r++;
			break;
		default:
			*w++ = *r++;
			break;
		}
	}
	return (size_t)(w - s);
}

static void
ctl_open(const char *src)
{
	char err[FTX_ERRLEN] = "";
	struct conn *c;
	int fd;

	if (nctl == MAX_CONNS)
		die("%s", "too many control connections");
	fd = raw_connect(host, ctl_port, src, err, sizeof(err));
	if (fd == -1) {
		result_set("CONNECT-FAILED");
		printf("# %s\n", err);
		return;
	}
	c = &ctls[nctl++];
	c->fd = fd;
	c->len = 0;
	c->buf = malloc(CONN_BUF);
	if (c->buf == NULL)
		die("%s", "out of memory");
	read_one(read_timeout_s, 0);
}

static void
ctl_close(void)
{
	struct conn *c = cur_ctl();

	printf("# close control connection %d\n", nctl - 1);
	close(c->fd);
	free(c->buf);
	c->buf = NULL;
	nctl--;
}

static int
cur_data_fd(void)
{
	if (cur_data < 0 || datas[cur_data].fd == -1)
		die("%s", "no open data connection");
	return datas[cur_data].fd;
}

/* Open a data connection and send the hello described by `spec`. */
static void
data_open(const char *spec, const char *src)
{
	char err[FTX_ERRLEN] = "", hello[FTX_LINE_MAX];
	int fd;

	if (xfer_port <= 0)
		die("%s", "no data port known: no UPLOAD/DOWNLOAD OK yet");
	if (ndata == MAX_CONNS)
		die("%s", "too many data connections");
	hello[0] = '\0';
	if (spec == NULL || strcmp(spec, "tok") == 0) {
		(void)str_fmt(hello, sizeof(hello), "%s\n", xfer_token);
	} else if (strcmp(spec, "bad") == 0) {
		size_t n = strlen(xfer_token);

		(void)str_fmt(hello, sizeof(hello), "%s\n", xfer_token);
		/* One digit off, and the last one: a server that compares a
		 * prefix only would accept it. */
		if (n > 0)
			hello[n - 1] = hello[n - 1] == '0' ? '1' : '0';
	} else if (strcmp(spec, "upper") == 0) {
		size_t i;

		(void)str_fmt(hello, sizeof(hello), "%s\n", xfer_token);
		for (i = 0; hello[i] != '\0'; i++)
			hello[i] = (char)toupper((unsigned char)hello[i]);
	} else if (strcmp(spec, "short") == 0) {
		(void)str_fmt(hello, sizeof(hello), "%.16s\n", xfer_token);
	} else if (strncmp(spec, "hex:", 4) == 0) {
		(void)str_fmt(hello, sizeof(hello), "%s\n", spec + 4);
	} else if (strcmp(spec, "none") != 0) {
		die("unknown data hello spec: %s", spec);
	}
	fd = raw_connect(data_host != NULL ? data_host : host, xfer_port, src,
	    err, sizeof(err));
	if (fd == -1) {
		result_set("DATA-CONNECT-FAILED");
		printf("# %s\n", err);
		return;
	}
	datas[ndata].fd = fd;
	datas[ndata].h = hash_new(HASH_SHA256, err, sizeof(err));
	if (datas[ndata].h == NULL)
		die("%s", err);
	datas[ndata].sent = 0;
	datas[ndata].frame = 0;
	cur_data = ndata++;
	printf("# data connection %d to port %d%s%s\n", cur_data, xfer_port,
	    src != NULL ? " from " : "", src != NULL ? src : "");
	if (hello[0] != '\0') {
		printf("# data hello: ");
		fwrite(hello, 1, strlen(hello) - 1, stdout);
		printf("\n");
		if (net_write_all(fd, hello, strlen(hello)) == -1) {
			result_set("SENDFAIL n=0 hello");
			return;
		}
	}
	result_set("DATA-CONNECTED");
}

/* Send part of the proper hello, or arbitrary bytes, unhashed. */
static void
data_send_raw(const char *p, size_t n)
{
	if (net_write_all(cur_data_fd(), p, n) == -1) {
		result_set("SENDFAIL hello");
		return;
	}
	printf("# sent %zu raw data bytes\n", n);
	result_set("SENT raw");
}

static void
data_send_hello_part(const char *arg)
{
	char hello[FTX_TOKEN_HEX + 2];
	unsigned long a, b;
	char *end;

	(void)str_fmt(hello, sizeof(hello), "%s\n", xfer_token);
	a = strtoul(arg, &end, 10);
	if (*end != ':')
		die("dpart needs A:B, got %s", arg);
	b = strtoul(end + 1, &end, 10);
	if (*end != '\0' || a > b || b > strlen(hello))
		die("bad dpart range %s", arg);
	data_send_raw(hello + a, b - a);
}

static void
report_send(uint64_t n, int failed)
{
	char msg[128];

	if (failed)
		(void)str_fmt(msg, sizeof(msg), "SENDFAIL n=%llu err=%s",
		    (unsigned long long)n, strerror(errno));
	else
		(void)str_fmt(
		    msg, sizeof(msg), "SENT n=%llu", (unsigned long long)n);
	result_set(msg);
}

static void
put_be32(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
}

/* Send `len` bytes from `p` on the current data connection, hashed;
 * framed in chunks after dframes. */
static int
data_write(const void *p, size_t len)
{
	struct dconn *d = &datas[cur_data];
	const unsigned char *q = p;
	unsigned char head[4];
	size_t n;

	while (len > 0) {
		n = d->frame > 0 && len > d->frame ? d->frame : len;
		if (d->frame > 0) {
			put_be32(head, (uint32_t)n);
			if (net_write_all(cur_data_fd(), head, 4) == -1)
				return -1;
		}
		if (net_write_all(cur_data_fd(), q, n) == -1)
			return -1;
		if (hash_update(d->h, q, n) == -1)
			die("%s", "hash_update failed");
		d->sent += n;
		q += n;
		len -= n;
	}
	return 0;
}

/* dframes:N */
static void
data_frames(const char *arg)
{
	uint64_t n;

	if (str_to_u64(arg, UINT32_MAX, &n) == -1)
		die("bad chunk size in dframes: %s", arg);
	(void)cur_data_fd();
	datas[cur_data].frame = (size_t)n;
	printf("# data connection %d: chunks of %llu bytes\n", cur_data,
	    (unsigned long long)n);
}

/* dlen:N, a bare chunk length. */
static void
data_len(const char *arg)
{
	unsigned char head[4];
	uint64_t n;

	if (str_to_u64(arg, UINT32_MAX, &n) == -1)
		die("bad length in dlen: %s", arg);
	put_be32(head, (uint32_t)n);
	if (net_write_all(cur_data_fd(), head, 4) == -1) {
		result_set("SENDFAIL len");
		return;
	}
	printf("# sent chunk length %llu\n", (unsigned long long)n);
	result_set("SENT len");
}

/* dend[:bad|:total=N]: the end marker, total and digest of a stream. */
static void
data_end(const char *how)
{
	unsigned char b[4 + 8 + HASH_MAX_LEN];
	char hex[2 * HASH_MAX_LEN + 1];
	int i, bad = 0, fd = cur_data_fd();
	uint64_t total = datas[cur_data].sent;

	if (how != NULL && strcmp(how, "bad") == 0)
		bad = 1;
	else if (how != NULL && strncmp(how, "total=", 6) == 0) {
		if (str_to_u64(how + 6, UINT64_MAX, &total) == -1)
			die("bad total in dend: %s", how);
	} else if (how != NULL)
		die("unknown end kind: %s", how);
	put_be32(b, 0);
	for (i = 0; i < 8; i++)
		b[4 + i] = (unsigned char)(total >> (56 - 8 * i));
	if (hash_final(datas[cur_data].h, b + 12) == -1)
		die("%s", "hash_final failed");
	if (bad)
		b[12 + HASH_SHA256_LEN - 1] ^= 0x01;
	str_hex(hex, b + 12, HASH_SHA256_LEN);
	printf("# end of stream: total %llu, digest %s\n",
	    (unsigned long long)total, hex);
	if (net_write_all(fd, b, 12 + HASH_SHA256_LEN) == -1) {
		result_set("SENDFAIL end");
		return;
	}
	result_set("SENT end");
}

static void
data_send_file(char *arg)
{
	static unsigned char iobuf[IO_BUF];
	char *colon = strrchr(arg, ':');
	uint64_t want = UINT64_MAX, done = 0;
	struct sfile *f;
	int i;

	if (colon != NULL) {
		*colon = '\0';
		if (str_to_u64(colon + 1, UINT64_MAX, &want) == -1)
			die("bad byte count in dsend: %s", colon + 1);
	}
	for (i = 0; i < nsfiles; i++)
		if (strcmp(sfiles[i].path, arg) == 0)
			break;
	if (i == nsfiles) {
		if (nsfiles == MAX_FILES)
			die("%s", "too many files for dsend");
		sfiles[i].fd = open(arg, O_RDONLY | O_CLOEXEC);
		if (sfiles[i].fd == -1)
			die("cannot open %s", arg);
		if (str_copy(sfiles[i].path, sizeof(sfiles[i].path), arg) == -1)
			die("path too long: %s", arg);
		nsfiles++;
	}
	f = &sfiles[i];
	while (done < want) {
		size_t n =
		    want - done < IO_BUF ? (size_t)(want - done) : IO_BUF;
		ssize_t r = read(f->fd, iobuf, n);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			die("read %s failed", f->path);
		if (r == 0)
			break;
		if (data_write(iobuf, (size_t)r) == -1) {
			report_send(done, 1);
			return;
		}
		done += (uint64_t)r;
	}
	report_send(done, 0);
}

static void
data_send_gen(const char *arg)
{
	static unsigned char iobuf[IO_BUF];
	uint64_t want, done = 0;

	if (str_to_u64(arg, UINT64_MAX, &want) == -1)
		die("bad byte count in dgen: %s", arg);
	while (done < want) {
		size_t n =
		    want - done < IO_BUF ? (size_t)(want - done) : IO_BUF;
		size_t i;

		/* xorshift64: cheap, and not compressible or all-zero. */
		for (i = 0; i < n; i++) {
			prng_state ^= prng_state << 13;
			prng_state ^= prng_state >> 7;
			prng_state ^= prng_state << 17;
			iobuf[i] = (unsigned char)prng_state;
		}
		if (data_write(iobuf, n) == -1) {
			report_send(done, 1);
			return;
		}
		done += n;
	}
	report_send(done, 0);
}

static void
data_send_digest(const char *how)
{
	unsigned char d[HASH_MAX_LEN];
	char hex[2 * HASH_MAX_LEN + 1], msg[128];
	int fd = cur_data_fd();

	if (hash_final(datas[cur_data].h, d) == -1)
		die("%s", "hash_final failed");
	if (how != NULL && strcmp(how, "bad") == 0)
		d[HASH_SHA256_LEN - 1] ^= 0x01;
	else if (how != NULL)
		die("unknown digest kind: %s", how);
	str_hex(hex, d, HASH_SHA256_LEN);
	printf("# digest of %llu bytes: %s\n",
	    (unsigned long long)datas[cur_data].sent, hex);
	if (net_write_all(fd, d, HASH_SHA256_LEN) == -1) {
		(void)str_fmt(msg, sizeof(msg), "SENDFAIL digest err=%s",
		    strerror(errno));
		result_set(msg);
		return;
	}
	result_set("SENT digest");
}

static void
data_recv(const char *path)
{
	static unsigned char iobuf[IO_BUF];
	unsigned char d[HASH_MAX_LEN];
	char hex[2 * HASH_MAX_LEN + 1], msg[256];
	const char *end = "EOF";
	struct hash_ctx *h;
	uint64_t total = 0;
	int fd = cur_data_fd(), out = -1;
	char err[FTX_ERRLEN];

	h = hash_new(HASH_SHA256, err, sizeof(err));
	if (h == NULL)
		die("%s", err);
	if (path != NULL) {
		out =
		    open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out == -1)
			die("cannot create %s", path);
	}
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t r;
		int pr = poll(&pfd, 1, read_timeout_s * 1000);

		if (pr == -1 && errno == EINTR)
			continue;
		if (pr == 0) {
			end = "TIMEOUT";
			break;
		}
		r = read(fd, iobuf, sizeof(iobuf));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			end = "RESET";
			break;
		}
		if (r == 0)
			break;
		if (hash_update(h, iobuf, (size_t)r) == -1)
			die("%s", "hash_update failed");
		if (out != -1 && net_write_all(out, iobuf, (size_t)r) == -1)
			die("write %s failed", path);
		total += (uint64_t)r;
	}
	if (hash_final(h, d) == -1)
		die("%s", "hash_final failed");
	hash_free(h);
	if (out != -1)
		close(out);
	str_hex(hex, d, HASH_SHA256_LEN);
	(void)str_fmt(msg, sizeof(msg), "DATA n=%llu sha=%s end=%s",
	    (unsigned long long)total, hex, end);
	result_set(msg);
}

/* ok:, not:, has:, no: checks against the last result. */
static void
check(const char *kind, const char *re)
{
	regex_t rx;
	int i, matched = 0, any, pass;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		die("bad regular expression: %s", re);
	any = strcmp(kind, "has") == 0 || strcmp(kind, "no") == 0;
	for (i = 0; i < (any ? nlines : (nlines > 0 ? 1 : 0)); i++)
		if (regexec(&rx, lines[i], 0, NULL, 0) == 0)
			matched = 1;
	regfree(&rx);
	if (strcmp(kind, "ok") == 0 || strcmp(kind, "has") == 0)
		pass = matched;
	else
		pass = !matched;
	if (pass) {
		printf("# check %s:/%s/ passed\n", kind, re);
		return;
	}
	failures++;
	printf("# CHECK FAILED: %s:/%s/ against:", kind, re);
	if (nlines == 0)
		printf(" (nothing)");
	for (i = 0; i < nlines && i < 10; i++)
		printf(" [%.200s]", lines[i]);
	if (nlines > 10)
		printf(" ... (%d lines)", nlines);
	printf("\n");
	fprintf(stderr, "ftxraw: check %s:/%s/ failed (last: %.200s)\n", kind,
	    re, nlines > 0 ? lines[0] : "(nothing)");
}

static double
arg_secs(const char *s, double dflt)
{
	char *end;
	double v;

	if (s == NULL)
		return dflt;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || v < 0 || v > 86400)
		die("bad number of seconds: %s", s);
	return v;
}

static void
wait_file(const char *path)
{
	struct stat st;

	/* Bounded by the watchdog. */
	while (stat(path, &st) == -1)
		sleep_s(0.02);
}

static void
touch_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd == -1)
		die("cannot create %s", path);
	close(fd);
}

static void
run_step(char *step)
{
	char *arg, *at;
	const char *src = NULL;
	long nrep;

	/* ctl@SRC and data...@SRC choose a source address; split it off
	 * first, since an IPv6 source contains ':'. */
	if (strncmp(step, "ctl", 3) == 0 || strncmp(step, "data", 4) == 0) {
		at = strchr(step, '@');
		if (at != NULL) {
			*at = '\0';
			src = at + 1;
		}
	}
	arg = strchr(step, ':');
	if (arg != NULL)
		*arg++ = '\0';
	if (strcmp(step, "ctl") == 0) {
		ctl_open(src);
	} else if (strcmp(step, "close") == 0) {
		ctl_close();
	} else if (strcmp(step, "line") == 0 && arg != NULL) {
		ctl_send_line(arg);
		read_reply(read_timeout_s);
		if (nlines > 0)
			note_transfer(arg, lines[0]);
	} else if (strcmp(step, "send") == 0 && arg != NULL) {
		ctl_send_line(arg);
	} else if (strcmp(step, "raw") == 0 && arg != NULL) {
		ctl_send(arg, unescape(arg));
	} else if (strcmp(step, "rep") == 0 && arg != NULL) {
		char *text = strchr(arg, ':'), *p;
		size_t tl, total;

		if (text == NULL)
			die("%s", "rep needs N:TEXT");
		*text++ = '\0';
		nrep = strtol(arg, NULL, 10);
		tl = unescape(text);
		if (nrep <= 0 || nrep > 16 * 1024 * 1024 || tl == 0 ||
		    str_mul_size(tl, (size_t)nrep, &total) == -1)
			die("bad repeat count: %s", arg);
		p = malloc(total);
		if (p == NULL)
			die("%s", "out of memory");
		for (long i = 0; i < nrep; i++)
			memcpy(p + (size_t)i * tl, text, tl);
		ctl_send(p, total);
		free(p);
	} else if (strcmp(step, "csend") == 0 && arg != NULL) {
		ctl_send_file(arg);
	} else if (strcmp(step, "read") == 0) {
		read_one(arg_secs(arg, read_timeout_s), 0);
	} else if (strcmp(step, "reply") == 0) {
		read_reply(arg_secs(arg, read_timeout_s));
	} else if (strcmp(step, "ls") == 0) {
		read_ls(arg_secs(arg, read_timeout_s), 0, 0, 0);
	} else if (strcmp(step, "lsq") == 0) {
		long every = 0, ms = 0;

		if (arg != NULL && sscanf(arg, "%ld:%ld", &every, &ms) != 2)
			die("lsq needs EVERY:MS, got %s", arg);
		read_ls(read_timeout_s, 1, every, ms);
	} else if (strcmp(step, "drain") == 0) {
		double secs = arg_secs(arg, read_timeout_s);
		int first = 1;

		for (int i = 0; i < MAX_LINES; i++) {
			if (read_one(secs, !first) != 1)
				break;
			first = 0;
		}
	} else if (strcmp(step, "data") == 0) {
		data_open(arg, src);
	} else if (strcmp(step, "dpart") == 0 && arg != NULL) {
		data_send_hello_part(arg);
	} else if (strcmp(step, "draw") == 0 && arg != NULL) {
		data_send_raw(arg, unescape(arg));
	} else if (strcmp(step, "dhost") == 0) {
		data_host = arg != NULL && arg[0] != '\0' ? arg : NULL;
	} else if (strcmp(step, "dsel") == 0 && arg != NULL) {
		long n = strtol(arg, NULL, 10);

		if (n < 0 || n >= ndata)
			die("no such data connection: %s", arg);
		cur_data = (int)n;
	} else if (strcmp(step, "dsend") == 0 && arg != NULL) {
		data_send_file(arg);
	} else if (strcmp(step, "dgen") == 0 && arg != NULL) {
		data_send_gen(arg);
	} else if (strcmp(step, "ddigest") == 0) {
		data_send_digest(arg);
	} else if (strcmp(step, "dframes") == 0 && arg != NULL) {
		data_frames(arg);
	} else if (strcmp(step, "dlen") == 0 && arg != NULL) {
		data_len(arg);
	} else if (strcmp(step, "dend") == 0) {
		data_end(arg);
	} else if (strcmp(step, "dshut") == 0) {
		if (shutdown(cur_data_fd(), SHUT_WR) == -1)
			printf("# shutdown failed: %s\n", strerror(errno));
	} else if (strcmp(step, "dclose") == 0) {
		close(cur_data_fd());
		datas[cur_data].fd = -1;
		printf("# closed data connection %d\n", cur_data);
	} else if (strcmp(step, "drecv") == 0) {
		data_recv(arg);
	} else if ((strcmp(step, "ok") == 0 || strcmp(step, "not") == 0 ||
		       strcmp(step, "has") == 0 || strcmp(step, "no") == 0) &&
	    arg != NULL) {
		check(step, arg);
	} else if (strcmp(step, "sleep") == 0 && arg != NULL) {
		sleep_s(arg_secs(arg, 0));
	} else if (strcmp(step, "stall") == 0) {
		printf("# stalling until killed\n");
		fflush(stdout);
		for (;;)
			pause();
	} else if (strcmp(step, "waitfile") == 0 && arg != NULL) {
		wait_file(arg);
	} else if (strcmp(step, "touch") == 0 && arg != NULL) {
		touch_file(arg);
	} else if (strcmp(step, "note") == 0 && arg != NULL) {
		printf("# note: %s\n", arg);
	} else {
		die("unknown step: %s", step);
	}
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ftxraw [-h HOST] -p PORT [-t READ_SECS] "
	    "[-w WATCHDOG_SECS] STEP...\n"
	    "(see the comment at the top of tests/tools/ftxraw.c)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	int opt, watchdog_s = 120, i;

	while ((opt = getopt(argc, argv, "h:p:t:w:")) != -1) {
		switch (opt) {
		case 'h':
			host = optarg;
			break;
		case 'p':
			ctl_port = atoi(optarg);
			break;
		case 't':
			read_timeout_s = atoi(optarg);
			break;
		case 'w':
			watchdog_s = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (ctl_port <= 0 || ctl_port > 65535 || read_timeout_s <= 0 ||
	    watchdog_s <= 0 || optind >= argc)
		usage();
	/* A peer that closes on us must show up as SENDFAIL, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, watchdog);
	alarm((unsigned)watchdog_s);
	for (i = 0; i < MAX_CONNS; i++)
		datas[i].fd = -1;
	for (i = optind; i < argc; i++)
		run_step(argv[i]);
	printf("# done, %d check(s) failed\n", failures);
	return failures > 0 ? 1 : 0;
}

/*
 * ftxbatch.c - a scriptable MPUT/MGET client for the batch integration
 * tests (tests/integration/t_batch.sh).
 *
 * The real client only sends well-formed frames.  This tool speaks the
 * frames of docs/PROTOCOL.md "Batches" step by step, well-formed or
 * hostile, and prints what comes back, so a test can check each line:
 *
 *	ftxbatch [-h HOST] -p PORT [-t READ_SECS] [-w WATCHDOG_SECS] STEP...
 *
 * Control connection (opened before the first step, greeting read):
 *   line:TEXT             send TEXT + LF, print the reply line
 *   mput, mget            send MPUT/MGET; on "OK <port> <token>" open the
 *                         data connection and send the token (plaintext)
 *   final[:SECS]          read one control line (a batch's DONE/ERROR)
 * MPUT frames (PATH is sent as given: percent-encode it yourself):
 *   put:LOCAL:MTIME:PATH    F frame with LOCAL's bytes and their SHA-256
 *                           (MTIME "-" for none)
 *   badsum:LOCAL:MTIME:PATH the same with a wrong digest
 *   cut:LOCAL:MTIME:PATH    the header and half the bytes, then close
 *                           the data connection
 *   putlist:FILE:PER        for each line "LOCAL<TAB>MTIME<TAB>PATH" of
 *                           FILE a put, with a commit after every PER
 *   many:N:PREFIX           N frames of empty files PREFIX0.. (no C)
 *   long:N                  a header line of N bytes 'x' and LF
 *   hdr:ESCAPED             raw bytes (\n \t \\ \xHH) on the data conn.
 *   commit                  send C, print result lines until "C <ok> <err>"
 *   end                     send E, then read the data connection to EOF
 * MGET requests:
 *   get:PATH[:SAVE]         send G PATH, read the answer (F frame or ERR)
 *   getlist:FILE:OUTDIR     G for each line of FILE, at most 64 unanswered,
 *                           each file saved under OUTDIR/<path>
 * Other: dclose (close the data connection), sleep:SECS.
 *
 * Output: "CTL <line>" for control lines, "RES <line>" for result lines
 * of the data connection (MPUT: OK/ERR/C; MGET: ERR), "GOT <path> <size>
 * <mtime> <sha of the bytes> match|MISMATCH" for an MGET frame (match:
 * the trailer equals the SHA-256 of the bytes), "DATA-EOF"/"DATA-RESET"
 * when the data connection ends, "# ..." notes.  Exit status: 0, 2
 * usage, 3 a step could not run, 4 the watchdog fired.  It checks
 * nothing itself: the test greps the transcript.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#include "ftx_limits.h"
#include "hash.h"
#include "net.h"
#include "str.h"

#define CONN_BUF (64 * 1024)
#define IO_BUF (64 * 1024)
#define WINDOW FTX_BATCH_FILES_MAX

struct conn {
	int fd;
	unsigned char buf[CONN_BUF];
	size_t len;
};

static const char *host = "127.0.0.1";
static int port = -1;
static int read_timeout_s = 10;
static struct conn ctl = {-1, {0}, 0};
static struct conn dat = {-1, {0}, 0};

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
watchdog(int sig)
{
	static const char msg[] = "# WATCHDOG: ftxbatch ran too long\n";

	(void)sig;
	(void)!write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	_exit(4);
}

/* More bytes into c's buffer within the read timeout: 1, 0 at EOF, -1
 * on a reset, -2 on a timeout. */
static int
conn_fill(struct conn *c)
{
	struct pollfd pfd;
	ssize_t r;
	int pr;

	if (c->len == sizeof(c->buf))
		return 1;
	for (;;) {
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		pr = poll(&pfd, 1, read_timeout_s * 1000);
		if (pr == -1 && errno == EINTR)
			continue;
		if (pr == 0)
			return -2;
		r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			return 0;
		c->len += (size_t)r;
		return 1;
	}
}

/* One line (without LF) into out: 1, or conn_fill's 0/-1/-2.  An
 * overlong line is cut at the buffer's size. */
static int
conn_line(struct conn *c, char *out, size_t outsz)
{
	unsigned char *nl;
	size_t n, take;
	int rc;

	for (;;) {
		nl = memchr(c->buf, '\n', c->len);
		if (nl != NULL || c->len == sizeof(c->buf)) {
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
		if ((rc = conn_fill(c)) != 1)
			return rc;
	}
}

/* Exactly n bytes (buffered ones first): 1, or conn_fill's 0/-1/-2. */
static int
conn_bytes(struct conn *c, void *p, size_t n)
{
	unsigned char *o = p;
	size_t k;
	int rc;

	while (n > 0) {
		if (c->len == 0 && (rc = conn_fill(c)) != 1)
			return rc;
		k = c->len < n ? c->len : n;
		memcpy(o, c->buf, k);
		memmove(c->buf, c->buf + k, c->len - k);
		c->len -= k;
		o += k;
		n -= k;
	}
	return 1;
}

static const char *
end_name(int rc)
{
	return rc == 0 ? "EOF" : rc == -2 ? "TIMEOUT" : "RESET";
}

/* Print one control line; 1 if one was read. */
static int
ctl_read(void)
{
	static char line[FTX_LINE_MAX + 1];
	int rc;

	if (ctl.fd == -1)
		die("%s", "no control connection");
	if ((rc = conn_line(&ctl, line, sizeof(line))) != 1) {
		printf("CTL %s\n", end_name(rc));
		return 0;
	}
	printf("CTL %s\n", line);
	return 1;
}

static void
ctl_send(const char *text)
{
	char line[FTX_LINE_MAX + 2];

	if (str_fmt(line, sizeof(line), "%s\n", text) == -1)
		die("%s", "control line too long");
	if (net_write_all(ctl.fd, line, strlen(line)) == -1)
		printf("# control send failed: %s\n", strerror(errno));
}

static void
data_need(void)
{
	if (dat.fd == -1)
		die("%s", "no data connection");
}

/* Bytes on the data connection; 0, or -1 (printed) when the peer is
 * gone. */
static int
data_send(const void *p, size_t n)
{
	data_need();
	if (net_write_all(dat.fd, p, n) == -1) {
		printf("# data send failed: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void
data_close(void)
{
	if (dat.fd != -1)
		close(dat.fd);
	dat.fd = -1;
	dat.len = 0;
	printf("# data connection closed\n");
}

/* MPUT or MGET: the OK reply's port and token open the data connection. */
static void
batch_start(const char *verb)
{
	char line[FTX_LINE_MAX + 1], tok[FTX_TOKEN_HEX + 2], err[FTX_ERRLEN];
	int dport, rc;

	ctl_send(verb);
	if ((rc = conn_line(&ctl, line, sizeof(line))) != 1) {
		printf("CTL %s\n", end_name(rc));
		return;
	}
	printf("CTL %s\n", line);
	if (sscanf(line, "OK %d %33s", &dport, tok) != 2)
		return;
	if (strlen(tok) != FTX_TOKEN_HEX)
		die("bad token in: %s", line);
	if ((dat.fd = net_connect(host, dport, 5, err, sizeof(err))) == -1)
		die("data connection: %s", err);
	dat.len = 0;
	(void)str_fmt(tok + FTX_TOKEN_HEX, 2, "\n");
	if (data_send(tok, strlen(tok)) == -1)
		return;
	printf("# data connection open\n");
}

/* "LOCAL:MTIME:PATH" split in place. */
static void
split3(char *arg, char **local, char **mtime, char **path)
{
	char *a, *b;

	if ((a = strchr(arg, ':')) == NULL || (b = strchr(a + 1, ':')) == NULL)
		die("need LOCAL:MTIME:PATH, got %s", arg);
	*a = '\0';
	*b = '\0';
	*local = arg;
	*mtime = a + 1;
	*path = b + 1;
}

/*
 * One F frame: the header, LOCAL's bytes (only the first half for
 * `cut`, after which the data connection closes) and the digest (wrong
 * for `bad`).  0, or -1 when the peer went away.
 */
static int
send_frame(
    const char *local, const char *mtime, const char *path, int bad, int cut)
{
	static unsigned char iobuf[IO_BUF];
	unsigned char d[HASH_MAX_LEN];
	char hdr[FTX_LINE_MAX + 2], err[FTX_ERRLEN];
	struct hash_ctx *h;
	struct stat sb;
	uint64_t size, sent = 0, stop;
	ssize_t r;
	int fd, rc = -1;

	if ((fd = open(local, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1)
		die("cannot open %s: %s", local, strerror(errno));
	size = (uint64_t)sb.st_size;
	stop = cut ? size / 2 : size;
	if ((h = hash_new(HASH_SHA256, err, sizeof(err))) == NULL)
		die("%s", err);
	if (str_fmt(hdr, sizeof(hdr), "F %llu %s %s\n",
		(unsigned long long)size, mtime, path) == -1)
		die("%s", "frame header too long");
	if (data_send(hdr, strlen(hdr)) == -1)
		goto out;
	while (sent < stop) {
		size_t want =
		    stop - sent < IO_BUF ? (size_t)(stop - sent) : IO_BUF;

		if ((r = read(fd, iobuf, want)) <= 0)
			die("read %s failed", local);
		if (hash_update(h, iobuf, (size_t)r) == -1)
			die("%s", "hash_update failed");
		if (data_send(iobuf, (size_t)r) == -1)
			goto out;
		sent += (uint64_t)r;
	}
	if (cut) {
		printf("# cut after %llu of %llu bytes of %s\n",
		    (unsigned long long)sent, (unsigned long long)size, path);
		data_close();
		rc = 0;
		goto out;
	}
	if (hash_final(h, d) == -1)
		die("%s", "hash_final failed");
	if (bad)
		d[0] ^= 0x01;
	if (data_send(d, HASH_SHA256_LEN) == -1)
		goto out;
	rc = 0;
out:
	hash_free(h);
	close(fd);
	return rc;
}

/* C: print the batch's result lines up to "C <ok> <err>". */
static void
commit(void)
{
	char line[FTX_LINE_MAX + 1];
	int rc;

	if (data_send("C\n", 2) == -1)
		return;
	for (;;) {
		if ((rc = conn_line(&dat, line, sizeof(line))) != 1) {
			printf("DATA-%s\n", end_name(rc));
			return;
		}
		printf("RES %s\n", line);
		if (line[0] == 'C' && line[1] == ' ')
			return;
	}
}

/* E: then whatever the data connection still carries, up to its end. */
static void
end_batch(void)
{
	char line[FTX_LINE_MAX + 1];
	int rc;

	if (data_send("E\n", 2) == -1)
		return;
	while ((rc = conn_line(&dat, line, sizeof(line))) == 1)
		printf("RES %s\n", line);
	printf("DATA-%s\n", end_name(rc));
	data_close();
}

static void
put_list(char *arg)
{
	char line[8192], *local, *mtime, *path, *colon;
	uint64_t per, n = 0;
	FILE *fp;

	if ((colon = strrchr(arg, ':')) == NULL ||
	    str_to_u64(colon + 1, WINDOW, &per) == -1 || per == 0)
		die("need FILE:PER (1..%d), got %s", WINDOW, arg);
	*colon = '\0';
	if ((fp = fopen(arg, "r")) == NULL)
		die("cannot open %s", arg);
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		local = line;
		if ((mtime = strchr(local, '\t')) == NULL ||
		    (path = strchr(mtime + 1, '\t')) == NULL)
			die("bad list line: %s", line);
		*mtime++ = '\0';
		*path++ = '\0';
		if (send_frame(local, mtime, path, 0, 0) == -1)
			break;
		if (++n % per == 0)
			commit();
	}
	fclose(fp);
	if (n % per != 0)
		commit();
}

static void
many(char *arg)
{
	static const unsigned char empty_sha[HASH_SHA256_LEN] = {0xe3, 0xb0,
	    0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99,
	    0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
	    0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
	char hdr[FTX_LINE_MAX], *colon;
	uint64_t n, i;

	if ((colon = strchr(arg, ':')) == NULL)
		die("need N:PREFIX, got %s", arg);
	*colon = '\0';
	if (str_to_u64(arg, 100000, &n) == -1)
		die("bad count %s", arg);
	for (i = 0; i < n; i++) {
		if (str_fmt(hdr, sizeof(hdr), "F 0 - %s%llu\n", colon + 1,
			(unsigned long long)i) == -1)
			die("%s", "prefix too long");
		if (data_send(hdr, strlen(hdr)) == -1 ||
		    data_send(empty_sha, sizeof(empty_sha)) == -1)
			return;
	}
	printf("# sent %llu empty frames\n", (unsigned long long)n);
}

static void
long_line(const char *arg)
{
	uint64_t n;
	char *p;

	if (str_to_u64(arg, 1 << 20, &n) == -1)
		die("bad length %s", arg);
	if ((p = malloc((size_t)n + 1)) == NULL)
		die("%s", "out of memory");
	memset(p, 'x', (size_t)n);
	p[n] = '\n';
	(void)data_send(p, (size_t)n + 1);
	free(p);
	printf("# sent a %llu-byte header line\n", (unsigned long long)n);
}

/* Decode \n \t \\ \xHH in place; the decoded length. */
static size_t
unescape(char *s)
{
	char *r = s, *w = s, hx[3];

	while (*r != '\0') {
		if (*r != '\\' || r[1] == '\0') {
			*w++ = *r++;
			continue;
		}
		r++;
		if (*r == 'n') {
			*w++ = '\n';
			r++;
		} else if (*r == 't') {
			*w++ = '\t';
			r++;
		} else if (*r == 'x' && r[1] != '\0' && r[2] != '\0') {
			hx[0] = r[1];
			hx[1] = r[2];
			hx[2] = '\0';
			*w++ = (char)strtol(hx, NULL, 16);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	return (size_t)(w - s);
}

/* Percent-decode a path from a frame header into out. */
static void
decode(char *out, size_t n, const char *in)
{
	char hx[3];
	size_t o = 0;

	while (*in != '\0' && o + 1 < n) {
		if (in[0] == '%' && in[1] != '\0' && in[2] != '\0') {
			hx[0] = in[1];
			hx[1] = in[2];
			hx[2] = '\0';
			out[o++] = (char)strtol(hx, NULL, 16);
			in += 3;
		} else {
			out[o++] = *in++;
		}
	}
	out[o] = '\0';
}

/* Create OUTDIR/<path> (parents too) for a received file; -1 for a
 * path we would not write (a hostile server). */
static int
open_save(const char *outdir, const char *enc)
{
	char rel[FTX_LINE_MAX], full[8192], *p;

	decode(rel, sizeof(rel), enc);
	if (rel[0] == '/' || strstr(rel, "..") != NULL)
		return -1;
	if (str_fmt(full, sizeof(full), "%s/%s", outdir, rel) == -1)
		return -1;
	for (p = full + strlen(outdir) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		(void)mkdir(full, 0755);
		*p = '/';
	}
	return open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

/*
 * One answer to a G request: an F frame (bytes hashed, saved to `save`
 * or under `outdir`, checked against the trailer) or an ERR line.  0,
 * or -1 when the data connection ended.
 */
static int
get_answer(const char *save, const char *outdir)
{
	static unsigned char iobuf[IO_BUF];
	unsigned char d[HASH_MAX_LEN], trailer[HASH_SHA256_LEN];
	char line[FTX_LINE_MAX + 1], path[FTX_LINE_MAX], hex[65], err[64];
	unsigned long long size, left;
	long long mtime;
	struct hash_ctx *h;
	int rc, out = -1;
	size_t want;

	if ((rc = conn_line(&dat, line, sizeof(line))) != 1) {
		printf("DATA-%s\n", end_name(rc));
		return -1;
	}
	if (sscanf(line, "F %llu %lld %4095s", &size, &mtime, path) != 3) {
		printf("RES %s\n", line);
		return 0;
	}
	if (save != NULL)
		out =
		    open(save, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	else if (outdir != NULL)
		out = open_save(outdir, path);
	if ((h = hash_new(HASH_SHA256, err, sizeof(err))) == NULL)
		die("%s", err);
	for (left = size; left > 0; left -= want) {
		want = left < IO_BUF ? (size_t)left : IO_BUF;
		if ((rc = conn_bytes(&dat, iobuf, want)) != 1)
			break;
		if (hash_update(h, iobuf, want) == -1)
			die("%s", "hash_update failed");
		if (out != -1 && net_write_all(out, iobuf, want) == -1)
			die("%s", "write failed");
	}
	if (out != -1)
		close(out);
	if (left == 0)
		rc = conn_bytes(&dat, trailer, sizeof(trailer));
	if (rc != 1) {
		hash_free(h);
		printf(
		    "# cut in the frame of %s\nDATA-%s\n", path, end_name(rc));
		return -1;
	}
	if (hash_final(h, d) == -1)
		die("%s", "hash_final failed");
	hash_free(h);
	str_hex(hex, d, HASH_SHA256_LEN);
	printf("GOT %s %llu %lld %s %s\n", path, size, mtime, hex,
	    memcmp(d, trailer, sizeof(trailer)) == 0 ? "match" : "MISMATCH");
	return 0;
}

static void
get_one(char *arg)
{
	char line[FTX_LINE_MAX + 2], *save = strchr(arg, ':');

	if (save != NULL)
		*save++ = '\0';
	if (str_fmt(line, sizeof(line), "G %s\n", arg) == -1)
		die("%s", "path too long");
	if (data_send(line, strlen(line)) == -1)
		return;
	(void)get_answer(save, NULL);
}

/* Requests from FILE, at most WINDOW unanswered, as a client must. */
static void
get_list(char *arg)
{
	char path[8192], line[FTX_LINE_MAX + 2], *colon = strrchr(arg, ':');
	size_t sent = 0, got = 0;
	FILE *fp;
	int more = 1;

	if (colon == NULL)
		die("need FILE:OUTDIR, got %s", arg);
	*colon = '\0';
	if ((fp = fopen(arg, "r")) == NULL)
		die("cannot open %s", arg);
	while (more || got < sent) {
		while (more && sent - got < WINDOW) {
			if (fgets(path, sizeof(path), fp) == NULL) {
				more = 0;
				break;
			}
			path[strcspn(path, "\n")] = '\0';
			if (str_fmt(line, sizeof(line), "G %s\n", path) == -1)
				die("%s", "path too long");
			if (data_send(line, strlen(line)) == -1)
				goto out;
			sent++;
		}
		if (got < sent) {
			if (get_answer(NULL, colon + 1) == -1)
				goto out;
			got++;
		}
	}
out:
	printf("# %zu requests, %zu answers\n", sent, got);
	fclose(fp);
}

static void
run_step(char *step)
{
	char *arg, *local, *mtime, *path;

	if ((arg = strchr(step, ':')) != NULL)
		*arg++ = '\0';
	if (strcmp(step, "line") == 0 && arg != NULL) {
		ctl_send(arg);
		(void)ctl_read();
	} else if (strcmp(step, "mput") == 0) {
		batch_start("MPUT");
	} else if (strcmp(step, "mget") == 0) {
		batch_start("MGET");
	} else if (strcmp(step, "final") == 0) {
		if (arg != NULL)
			read_timeout_s = atoi(arg);
		(void)ctl_read();
	} else if ((strcmp(step, "put") == 0 || strcmp(step, "badsum") == 0 ||
		       strcmp(step, "cut") == 0) &&
	    arg != NULL) {
		split3(arg, &local, &mtime, &path);
		(void)send_frame(
		    local, mtime, path, step[0] == 'b', step[0] == 'c');
	} else if (strcmp(step, "putlist") == 0 && arg != NULL) {
		put_list(arg);
	} else if (strcmp(step, "many") == 0 && arg != NULL) {
		many(arg);
	} else if (strcmp(step, "long") == 0 && arg != NULL) {
		long_line(arg);
	} else if (strcmp(step, "hdr") == 0 && arg != NULL) {
		(void)data_send(arg, unescape(arg));
	} else if (strcmp(step, "commit") == 0) {
		commit();
	} else if (strcmp(step, "end") == 0) {
		end_batch();
	} else if (strcmp(step, "get") == 0 && arg != NULL) {
		get_one(arg);
	} else if (strcmp(step, "getlist") == 0 && arg != NULL) {
		get_list(arg);
	} else if (strcmp(step, "dclose") == 0) {
		data_close();
	} else if (strcmp(step, "sleep") == 0 && arg != NULL) {
		struct timespec ts = {atoi(arg), 0};

		nanosleep(&ts, NULL);
	} else {
		die("unknown step: %s", step);
	}
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ftxbatch [-h HOST] -p PORT [-t READ_SECS] "
	    "[-w WATCHDOG_SECS] STEP...\n"
	    "(see the comment at the top of "
	    "tests/tools/ftxbatch.c)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	char err[FTX_ERRLEN];
	int opt, watchdog_s = 60, i;

	while ((opt = getopt(argc, argv, "h:p:t:w:")) != -1) {
		switch (opt) {
		case 'h':
			host = optarg;
			break;
		case 'p':
			port = atoi(optarg);
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
	if (port <= 0 || port > 65535 || read_timeout_s <= 0 ||
	    watchdog_s <= 0 || optind >= argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, watchdog);
	alarm((unsigned)watchdog_s);
	if ((ctl.fd = net_connect(host, port, 5, err, sizeof(err))) == -1)
		die("connect: %s", err);
	(void)ctl_read();
	for (i = optind; i < argc; i++)
		run_step(argv[i]);
	printf("# done\n");
	return 0;
}

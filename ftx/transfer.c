/*
 * transfer.c - verified uploads and downloads over a data connection.
 *
 * The sequence for both directions is the one in docs/PROTOCOL.md:
 * command on the control connection, "OK ... <port> <token>", a data
 * connection to the same host (or, with --data-host, another) presenting
 * the token, the bytes (hashed as
 * they stream), and the final "DONE <sha256>" or "ERROR" on the control
 * connection.  Once the server has handed out a token, any failure on our
 * side drops the control session: the server then discards the transfer
 * and we never have to guess where the session stands.
 */
#include "transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"
#include "hash.h"
#include "hpipe.h"
#include "limits.h"
#include "net.h"
#include "progress.h"
#include "proto.h"
#include "rpl.h"
#include "str.h"

#ifndef FTX_SOCKBUF_BYTES
/* Kernel buffers asked for on data connections (requested for limits.h). */
#define FTX_SOCKBUF_BYTES (4 * 1024 * 1024)
#endif

/* One read or write system call moves this much. */
#define XFER_BUFSIZE ((size_t)FTX_DEFAULT_CHUNK * FTX_CHUNKS_PER_IO)
/* Longest download directory we accept (PATH_MAX on Linux). */
#define TRANSFER_PATH_MAX 4096
/* ".ftx-part-" and 16 hex digits */
#define XFER_TMPNAME_MAX 32

/* One transfer in progress. */
struct xfer {
	struct ctl *c;
	const struct ui *u;
	const char *name;
	const char *dir; /* download directory, for messages */
	uint64_t size;
	int fd; /* the local file */
	int dfd; /* the data connection */
	struct hpipe *hp;
	struct progress pg;
	int bar_on;
	int netfail; /* the data connection broke, not the local side */
	double t0;
	char tmp[XFER_TMPNAME_MAX]; /* download temporary, "" if none */
	char sha[HASH_SHA256_HEXLEN + 1]; /* what we hashed */
};

/*
 * The download temporary that a fatal signal must not leave behind.  The
 * handler only reads these, and only after tmp_active says they are set.
 */
static volatile sig_atomic_t tmp_active;
static int tmp_dirfd = -1;
static char tmp_name[XFER_TMPNAME_MAX];

static void
on_signal(int sig)
{
	int saved = errno;

	if (tmp_active)
		(void)unlinkat(tmp_dirfd, tmp_name, 0);
	/* Die of the same signal, so our parent sees what happened. */
	signal(sig, SIG_DFL);
	raise(sig);
	errno = saved;
}

void
transfer_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, NULL);
}

int
transfer_open_dir(const char *dir, int *dirfd, char *err, size_t errlen)
{
	char path[TRANSFER_PATH_MAX];
	size_t i;

	if (str_copy(path, sizeof(path), dir) == -1)
		return str_err(err, errlen, "directory name too long: %s", dir);
	/* Like mkdir -p: create each missing component in turn. */
	for (i = 1; path[i] != '\0'; i++) {
		if (path[i] != '/')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return str_err(err, errlen, "cannot create %s: %s",
			    path, strerror(errno));
		path[i] = '/';
	}
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return str_err(
		    err, errlen, "cannot create %s: %s", path, strerror(errno));
	*dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd == -1)
		return str_err(err, errlen, "cannot open directory %s: %s",
		    path, strerror(errno));
	return 0;
}

const char *
transfer_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

static void
xfer_init(struct xfer *x, struct ctl *c, const struct ui *u, const char *name)
{
	memset(x, 0, sizeof(*x));
	x->c = c;
	x->u = u;
	x->name = name;
	x->fd = -1;
	x->dfd = -1;
	x->t0 = progress_now();
}

static void
bar_begin(struct xfer *x)
{
	progress_begin(&x->pg, STDERR_FILENO, x->u->bar, x->name, x->size);
	x->bar_on = 1;
}

/* Clear the bar before anything else is printed. */
static void
bar_end(struct xfer *x)
{
	if (x->bar_on)
		(void)progress_end(&x->pg);
	x->bar_on = 0;
}

static void
xfer_cleanup(struct xfer *x)
{
	bar_end(x);
	hpipe_free(x->hp);
	x->hp = NULL;
	if (x->dfd != -1)
		close(x->dfd);
	if (x->fd != -1)
		close(x->fd);
	x->dfd = x->fd = -1;
}

/* SO_RCVTIMEO/SO_SNDTIMEO expiry shows up as EAGAIN. */
static const char *
io_reason(int e)
{
	if (e == EAGAIN || e == EWOULDBLOCK)
		return "timed out";
	return strerror(e);
}

/* `wfd` >= 0: hpipe also writes what we receive to that file. */
static int
pipe_start(struct xfer *x, int wfd, char *why, size_t n)
{
	/* Below FTX_PIPE_THREAD_MIN a thread costs more than it saves. */
	x->hp = hpipe_new(
	    XFER_BUFSIZE, x->size >= FTX_PIPE_THREAD_MIN, wfd, why, n);
	return x->hp == NULL ? -1 : 0;
}

/* A pipe stage failed: writing the download (errno) or hashing (EIO). */
static int
stage_error(struct xfer *x, char *why, size_t n)
{
	if (x->dir != NULL && errno != EIO)
		return str_err(
		    why, n, "cannot write to %s: %s", x->dir, strerror(errno));
	return str_err(why, n, "SHA-256 computation failed");
}

static int
pipe_digest(struct xfer *x, unsigned char *digest, char *why, size_t n)
{
	if (hpipe_finish(x->hp, digest) == -1)
		return stage_error(x, why, n);
	str_hex(x->sha, digest, HASH_SHA256_LEN);
	return 0;
}

/* ftx --data-host: NULL = the control host. */
static const char *data_host_spec;

void
transfer_data_host(const char *spec)
{
	data_host_spec = spec;
}

/*
 * The host for a data connection.  By default it is the control host,
 * as in docs/PROTOCOL.md: behind NAT the address the server knows for
 * itself is often not the one we reach it by (FTP's passive-mode trap),
 * and following a server-chosen address would let a server point our
 * connection anywhere.  The advertised host is used only when asked for.
 */
static const char *
data_host(const struct xfer *x, const char *advertised)
{
	if (data_host_spec == NULL || strcmp(data_host_spec, "control") == 0)
		return x->c->host;
	if (strcmp(data_host_spec, "advertised") == 0)
		return advertised[0] != '\0' ? advertised : x->c->host;
	return data_host_spec;
}

/* Open the data connection and present the token. */
static int
data_open(struct xfer *x, const char *host, int port, const char *token,
    char *why, size_t n)
{
	char hello[FTX_TOKEN_HEX + 2];

	x->dfd = net_connect(host, port, FTX_CONNECT_TIMEOUT_S, why, n);
	if (x->dfd == -1)
		return -1;
	net_set_bufsizes(x->dfd, FTX_SOCKBUF_BYTES);
	/* A stalled server must not hang us forever. */
	if (net_set_timeouts(x->dfd, FTX_DEFAULT_DATA_TIMEOUT_S) == -1)
		return str_err(why, n, "data connection: %s", strerror(errno));
	if (str_fmt(hello, sizeof(hello), "%s\n", token) == -1 ||
	    net_write_all(x->dfd, hello, strlen(hello)) == -1)
		return str_err(
		    why, n, "cannot send the data token: %s", io_reason(errno));
	return 0;
}

/*
 * The data connection broke.  The server usually says why on the control
 * connection (ERROR TIMEOUT, SHUTDOWN, ...), which beats our "connection
 * reset"; without such a line the session is dropped.
 */
static int
data_failed(struct xfer *x, char *why, size_t n)
{
	char line[FTX_LINE_MAX];

	if (x->dfd != -1)
		close(x->dfd);
	x->dfd = -1;
	if (x->netfail &&
	    ctl_read(x->c, line, FTX_CONNECT_TIMEOUT_S, NULL, 0) == 0 &&
	    proto_kind(line) == PROTO_ERROR)
		return ctl_refusal(x->c, line, why, n);
	ctl_drop(x->c);
	return EXITCODE_FAIL;
}

/* The server's answer made no sense: we cannot know its state. */
static int
protocol_error(struct xfer *x)
{
	ctl_drop(x->c);
	return EXITCODE_FAIL;
}

/* Read the transfer's final control line: "DONE <sha256>" or ERROR. */
static int
final_line(struct xfer *x, char *sha, char *why, size_t n)
{
	char line[FTX_LINE_MAX];

	if (ctl_read(x->c, line, FTX_REPLY_TIMEOUT_S, why, n) == -1)
		return EXITCODE_FAIL;
	if (proto_kind(line) == PROTO_ERROR)
		return ctl_refusal(x->c, line, why, n);
	if (rpl_done_sha(line, sha, why, n) == -1)
		return protocol_error(x);
	return EXITCODE_OK;
}

/* ---- upload ---- */

static int
put_open(struct xfer *x, const char *path, char *why, size_t n)
{
	struct stat sb;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is
	 * refused below anyway, and regular files ignore the flag. */
	x->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (x->fd == -1)
		return str_err(why, n, "cannot open: %s", strerror(errno));
	if (fstat(x->fd, &sb) == -1)
		return str_err(why, n, "cannot stat: %s", strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return str_err(why, n, "not a regular file");
	x->size = (uint64_t)sb.st_size;
	return 0;
}

/* A short read in pump(): from the local file (upload) or the data
 * connection (download). */
static int
short_read(
    struct xfer *x, int upload, ssize_t got, uint64_t done, char *why, size_t n)
{
	if (upload && got == -1)
		return str_err(why, n, "read error: %s", strerror(errno));
	if (upload)
		return str_err(why, n, "file shrank while being sent");
	x->netfail = 1;
	if (got == -1)
		return str_err(why, n, "data connection: %s", io_reason(errno));
	return str_err(why, n,
	    "data connection closed after %" PRIu64 " of %" PRIu64 " bytes",
	    done + (uint64_t)got, x->size);
}

/*
 * Move x->size bytes through the pipe.  Upload: read the file, then send
 * each buffer while it is being hashed.  Download: receive from the data
 * connection; hpipe hashes and writes it on its helper threads.
 */
static int
pump(struct xfer *x, int upload, char *why, size_t n)
{
	int src = upload ? x->fd : x->dfd;
	uint64_t done = 0;
	unsigned char *b;
	size_t want;
	ssize_t got;

	while (done < x->size) {
		if ((b = hpipe_acquire(x->hp)) == NULL)
			return stage_error(x, why, n);
		want = x->size - done < XFER_BUFSIZE ? (size_t)(x->size - done)
						     : XFER_BUFSIZE;
		got = net_read_full(src, b, want);
		if (got != (ssize_t)want)
			return short_read(x, upload, got, done, why, n);
		if (hpipe_submit(x->hp, want) == -1)
			return stage_error(x, why, n);
		if (upload && net_write_all(x->dfd, b, want) == -1) {
			x->netfail = 1;
			return str_err(
			    why, n, "data connection: %s", io_reason(errno));
		}
		done += want;
		progress_update(&x->pg, done);
	}
	return 0;
}

/* After the content: check the file did not grow, send the digest. */
static int
put_digest(struct xfer *x, char *why, size_t n)
{
	unsigned char digest[HASH_SHA256_LEN];
	struct stat sb;

	if (fstat(x->fd, &sb) == -1)
		return str_err(why, n, "cannot stat: %s", strerror(errno));
	if ((uint64_t)sb.st_size != x->size)
		return str_err(why, n, "file changed size while being sent");
	if (pipe_digest(x, digest, why, n) == -1)
		return -1;
	if (net_write_all(x->dfd, digest, sizeof(digest)) == -1) {
		x->netfail = 1;
		return str_err(why, n, "data connection: %s", io_reason(errno));
	}
	/* Half-close: the server sees EOF right after the digest. */
	(void)shutdown(x->dfd, SHUT_WR);
	close(x->dfd);
	x->dfd = -1;
	return 0;
}

static int
put_finish(struct xfer *x, char *why, size_t n)
{
	char sha[HASH_SHA256_HEXLEN + 1];
	int rc;

	rc = final_line(x, sha, why, n);
	bar_end(x);
	if (rc != EXITCODE_OK)
		return rc;
	if (strcmp(sha, x->sha) != 0) {
		str_err(
		    why, n, "sent sha256 %s, server stored %s", x->sha, sha);
		return EXITCODE_INTEGRITY;
	}
	ui_summary(
	    x->u, "uploaded", x->name, x->size, progress_now() - x->t0, x->sha);
	return EXITCODE_OK;
}

static int
put_run(struct xfer *x, char *why, size_t n)
{
	struct rpl_upload up;
	char line[FTX_LINE_MAX], sizestr[24];
	const char *args[2];
	int rc;

	if (str_fmt(sizestr, sizeof(sizestr), "%" PRIu64, x->size) == -1) {
		str_err(why, n, "file too large");
		return EXITCODE_FAIL;
	}
	args[0] = x->name;
	args[1] = sizestr;
	rc = ctl_request(x->c, "UPLOAD", args, 2, line, why, n);
	if (rc != EXITCODE_OK)
		return rc;
	if (rpl_upload(line, &up, why, n) == -1)
		return protocol_error(x);
	if (pipe_start(x, -1, why, n) == -1) {
		ctl_drop(x->c);
		return EXITCODE_FAIL;
	}
	if (data_open(x, data_host(x, up.host), up.port, up.token, why, n) ==
	    -1) {
		ctl_drop(x->c);
		return x->dfd == -1 ? EXITCODE_CONNECT : EXITCODE_FAIL;
	}
	bar_begin(x);
	if (pump(x, 1, why, n) == -1 || put_digest(x, why, n) == -1)
		return data_failed(x, why, n);
	return put_finish(x, why, n);
}

int
transfer_put(struct ctl *c, const struct ui *u, const char *path,
    const char *name, char *err, size_t errlen)
{
	char why[FTX_ERRLEN] = "";
	struct xfer x;
	int rc = EXITCODE_FAIL;

	xfer_init(&x, c, u, name);
	if (put_open(&x, path, why, sizeof(why)) == 0)
		rc = put_run(&x, why, sizeof(why));
	xfer_cleanup(&x);
	if (rc == EXITCODE_INTEGRITY)
		str_err(err, errlen, "integrity failure: %s: %s", name, why);
	else if (rc != EXITCODE_OK)
		str_err(err, errlen, "put %s: %s", path, why);
	return rc;
}

/* ---- download ---- */

/* A hidden, unique temporary next to the target, so rename is atomic. */
static int
get_tmp_create(struct xfer *x, int dirfd, char *why, size_t n)
{
	unsigned char rnd[8];
	char hex[sizeof(rnd) * 2 + 1];
	int tries;

	for (tries = 0; tries < 8; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return str_err(
			    why, n, "getrandom: %s", strerror(errno));
		str_hex(hex, rnd, sizeof(rnd));
		if (str_fmt(x->tmp, sizeof(x->tmp), ".ftx-part-%s", hex) == -1)
			return str_err(why, n, "temporary name too long");
		x->fd = openat(dirfd, x->tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (x->fd != -1)
			break;
		x->tmp[0] = '\0';
		if (errno != EEXIST)
			return str_err(why, n,
			    "cannot create a temporary in %s: %s", x->dir,
			    strerror(errno));
	}
	if (x->fd == -1)
		return str_err(
		    why, n, "cannot create a temporary in %s", x->dir);
	tmp_active = 0;
	tmp_dirfd = dirfd;
	(void)str_copy(tmp_name, sizeof(tmp_name), x->tmp);
	tmp_active = 1;
	return 0;
}

/* Both the announced hash and the server's DONE must match ours. */
static int
get_verify(struct xfer *x, const struct rpl_download *d, char *why, size_t n)
{
	unsigned char digest[HASH_SHA256_LEN];
	char done_sha[HASH_SHA256_HEXLEN + 1];
	int rc;

	if (pipe_digest(x, digest, why, n) == -1) {
		ctl_drop(x->c);
		return EXITCODE_FAIL;
	}
	rc = final_line(x, done_sha, why, n);
	bar_end(x);
	if (rc != EXITCODE_OK)
		return rc;
	if (strcmp(x->sha, d->sha256) != 0) {
		str_err(why, n,
		    "expected sha256 %s, got %s; download discarded", d->sha256,
		    x->sha);
		return EXITCODE_INTEGRITY;
	}
	if (strcmp(done_sha, d->sha256) != 0) {
		str_err(why, n,
		    "server announced sha256 %s but finished with %s; "
		    "download discarded",
		    d->sha256, done_sha);
		return EXITCODE_INTEGRITY;
	}
	return EXITCODE_OK;
}

static int
get_run(struct xfer *x, char *why, size_t n)
{
	struct rpl_download d;
	char line[FTX_LINE_MAX];
	int rc;

	rc = ctl_request(x->c, "DOWNLOAD", &x->name, 1, line, why, n);
	if (rc != EXITCODE_OK)
		return rc;
	if (rpl_download(line, &d, why, n) == -1)
		return protocol_error(x);
	x->size = d.size;
	if (pipe_start(x, x->fd, why, n) == -1) {
		ctl_drop(x->c);
		return EXITCODE_FAIL;
	}
	if (data_open(x, data_host(x, d.host), d.port, d.token, why, n) == -1) {
		ctl_drop(x->c);
		return x->dfd == -1 ? EXITCODE_CONNECT : EXITCODE_FAIL;
	}
	bar_begin(x);
	if (pump(x, 0, why, n) == -1)
		return data_failed(x, why, n);
	close(x->dfd);
	x->dfd = -1;
	return get_verify(x, &d, why, n);
}

/* Make the verified temporary durable, then give it its name. */
static int
get_commit(struct xfer *x, int dirfd, char *why, size_t n)
{
	if (fsync(x->fd) == -1)
		return str_err(
		    why, n, "fsync in %s: %s", x->dir, strerror(errno));
	if (close(x->fd) == -1) {
		x->fd = -1;
		return str_err(why, n, "close: %s", strerror(errno));
	}
	x->fd = -1;
	if (renameat(dirfd, x->tmp, dirfd, x->name) == -1)
		return str_err(why, n, "cannot rename into %s: %s", x->dir,
		    strerror(errno));
	tmp_active = 0;
	x->tmp[0] = '\0';
	/* Best effort: persist the rename itself. */
	(void)fsync(dirfd);
	return 0;
}

int
transfer_get(struct ctl *c, const struct ui *u, const char *name, int dirfd,
    const char *dir, char *err, size_t errlen)
{
	char why[FTX_ERRLEN] = "";
	struct xfer x;
	int rc = EXITCODE_FAIL;

	xfer_init(&x, c, u, name);
	x.dir = dir;
	if (get_tmp_create(&x, dirfd, why, sizeof(why)) == 0) {
		rc = get_run(&x, why, sizeof(why));
		if (rc == EXITCODE_OK &&
		    get_commit(&x, dirfd, why, sizeof(why)) == -1)
			rc = EXITCODE_FAIL;
	}
	xfer_cleanup(&x);
	if (x.tmp[0] != '\0') {
		/* SECURITY: never leave unverified bytes behind. */
		(void)unlinkat(dirfd, x.tmp, 0);
		tmp_active = 0;
	}
	if (rc == EXITCODE_OK)
		ui_summary(u, "downloaded", name, x.size, progress_now() - x.t0,
		    x.sha);
	else if (rc == EXITCODE_INTEGRITY)
		str_err(err, errlen, "integrity failure: %s: %s", name, why);
	else
		str_err(err, errlen, "get %s: %s", name, why);
	return rc;
}

/*
 * transfer.c - verified, resumable uploads and downloads.
 *
 * The sequence for both directions is the one in docs/PROTOCOL.md:
 * command on the control connection, "OK ... <port> <token>", a data
 * connection to the same host (or, with --data-host, another) presenting
 * the token, the bytes (hashed as they stream), and the final
 * "DONE <sha256>" or "ERROR" on the control connection.  Once the server
 * has handed out a token, any failure on our side drops the control
 * session: the server then ends the transfer and we never have to guess
 * where the session stands.
 *
 * Every transfer runs as a series of attempts.  An attempt that fails
 * for a reason that may go away (the network, a server restart, a
 * corrupted stream) marks itself transient; the retry loop then waits,
 * reconnects and starts the next attempt, which resumes where the last
 * one stopped (see "Resuming" in docs/PROTOCOL.md).
 */
#include "transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "afile.h"
#include "chan.h"
#include "ctl.h"
#include "esc.h"
#include "exitcode.h"
#include "hash.h"
#include "ftxerr.h"
#include "hpipe.h"
#include "ftx_limits.h"
#include "net.h"
#include "path.h"
#include "progress.h"
#include "proto.h"
#include "rpl.h"
#include "str.h"

/* One read or write system call moves this much. */
#define XFER_BUFSIZE ((size_t)FTX_DEFAULT_CHUNK * FTX_CHUNKS_PER_IO)
/* Longest download directory we accept (PATH_MAX on Linux). */
#define TRANSFER_PATH_MAX 4096
/* Bytes of SHA-256(name) in a partial's file name. */
#define PART_HASH_BYTES 16
/* Attempts at opening and locking a partial that others replace. */
#define PART_OPEN_TRIES 8
/* A streamed upload's chunks (docs/PROTOCOL.md, "Streamed uploads"):
 * one hpipe buffer each, within the server's limit. */
_Static_assert(
    XFER_BUFSIZE <= FTX_STREAM_CHUNK_MAX, "a stream chunk is one buffer");
/* The stream's end: a zero length, the total (8 bytes) and the
 * SHA-256 (32 bytes), all big-endian. */
#define STREAM_END_LEN (4 + 8 + HASH_SHA256_LEN)
/* "Standard input/output" stand for the local file in messages. */
#define STDOUT_NAME "standard output"

/* What the local end of a transfer is. */
enum xkind {
	XK_FILE, /* a regular file (upload) or a partial (download) */
	XK_STDIN, /* put -: a stream of unknown length */
	XK_STDOUT /* get -o -: written as it arrives */
};

/* One transfer in progress. */
struct xfer {
	struct ctl *c;
	const struct ui *u;
	const char *name; /* the remote path */
	const char *lname; /* download: the local name in dirfd */
	const char *lpath; /* the local file as given, for results */
	enum xkind kind;
	int flags; /* TRANSFER_* */
	int64_t mtime; /* with has_mtime: UPLOAD mtime=, or set on commit */
	int has_mtime;
	const char *dir; /* download directory, for messages */
	int dirfd; /* download directory */
	uint64_t size;
	uint64_t off; /* this attempt starts at this byte */
	int fd; /* the local file (upload) or the partial (download) */
	struct chan dch; /* the data connection */
	struct hpipe *hp;
	struct progress pg;
	int bar_on;
	int netfail; /* the data connection broke, not the local side */
	int early; /* upload: exit code of the server's early final line */
	int transient; /* this attempt's failure is worth a retry */
	int local_errno; /* download: the write error (ENOSPC...), or 0 */
	int nospace_early; /* the free-space check refused before writing */
	uint64_t moved; /* bytes moved in this run, all attempts */
	uint64_t reach; /* the furthest byte this run reached */
	int resumed; /* the last attempt continued a partial */
	const char *skipped; /* why nothing moved ("exists", "same") */
	double t0;
	/* Download: the partial and its info file ("" if none).  `keep`:
	 * the partial is the resumable one, kept after a failure; else a
	 * private temporary removed after one. */
	char part[TRANSFER_PART_MAX];
	char info[TRANSFER_PART_MAX];
	int keep;
	char want_sha[HASH_SHA256_HEXLEN + 1]; /* resume: the partial's */
	char sha[HASH_SHA256_HEXLEN + 1]; /* what we hashed */
	/* Download: the final line, if it came while bytes were still on
	 * their way (two connections, no order between them). */
	int have_done;
	char done_line[FTX_LINE_MAX];
	uint64_t done_bytes; /* received before the current buffer */
};

/*
 * A download temporary that a fatal signal must not leave behind.  The
 * handler only reads these, and only after tmp_active says they are set.
 * Resumable partials are not registered here: they are kept on purpose.
 */
static volatile sig_atomic_t tmp_active;
static int tmp_dirfd = -1;
static char tmp_name[TRANSFER_PART_MAX];

/*
 * Where the transfer in progress stands, for the line a signal prints:
 * sig_left is a TRANSFER_LEFT_* value while bytes move (0 otherwise).
 * The byte counts are written by the transferring thread only; a torn
 * read would at worst print a wrong figure (aligned 64-bit stores are
 * single instructions on every platform we build on).
 */
static volatile sig_atomic_t sig_left;
static volatile sig_atomic_t sig_bar;
static volatile sig_atomic_t sig_upfd = -1; /* an upload's data socket */
static volatile uint64_t sig_done;
static volatile uint64_t sig_total;

/* Async-signal-safe appenders for transfer_left_text. */
static void
sa_str(char *out, size_t n, size_t *len, const char *s)
{
	while (*s != '\0' && *len + 1 < n)
		out[(*len)++] = *s++;
	out[*len] = '\0';
}

static void
sa_u64(char *out, size_t n, size_t *len, uint64_t v)
{
	char d[24];
	size_t i = sizeof(d) - 1;

	d[i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && i > 0);
	sa_str(out, n, len, d + i);
}

/* "512 B", "203.0 MiB": IEC units with one decimal (truncated). */
static void
sa_bytes(char *out, size_t n, size_t *len, uint64_t v)
{
	static const char *const units[] = {
	    "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	uint64_t div = 1024, whole, t;
	int u = 0;
	char tenth[2] = {0, 0};

	if (v < 1024) {
		sa_u64(out, n, len, v);
		sa_str(out, n, len, " B");
		return;
	}
	while (u < 5 && v / div >= 1024) {
		div *= 1024;
		u++;
	}
	/* Rounded to one decimal, as progress_bytes does (no overflow:
	 * div is at most 2^60). */
	for (;;) {
		whole = v / div;
		t = ((v % div) * 10 + div / 2) / div;
		if (t == 10) {
			whole++;
			t = 0;
		}
		/* 1023.96 KiB rounds to 1024.0: say 1.0 MiB instead. */
		if (whole < 1024 || u == 5)
			break;
		div *= 1024;
		u++;
	}
	sa_u64(out, n, len, whole);
	tenth[0] = (char)('0' + t);
	sa_str(out, n, len, ".");
	sa_str(out, n, len, tenth);
	sa_str(out, n, len, " ");
	sa_str(out, n, len, units[u]);
}

void
transfer_left_text(char *out, size_t n, const char *verb, int kind,
    uint64_t done, uint64_t total)
{
	size_t len = 0;
	uint64_t pc;

	if (n == 0)
		return;
	out[0] = '\0';
	sa_str(out, n, &len, verb);
	if (total == UINT64_MAX) {
		sa_str(out, n, &len, " after ");
		sa_bytes(out, n, &len, done);
	} else {
		if (done > total)
			done = total;
		/* done * 100 must not overflow (sizes near 2^64). */
		if (total == 0)
			pc = 100;
		else if (done <= UINT64_MAX / 100)
			pc = done * 100 / total;
		else
			pc = done / (total / 100);
		/* Never claim 100% before the end. */
		if (pc > 100)
			pc = 100;
		if (pc == 100 && done < total)
			pc = 99;
		sa_str(out, n, &len, " at ");
		sa_u64(out, n, &len, pc);
		sa_str(out, n, &len, "% (");
		sa_bytes(out, n, &len, done);
		sa_str(out, n, &len, " of ");
		sa_bytes(out, n, &len, total);
		sa_str(out, n, &len, ")");
	}
	switch (kind) {
	case TRANSFER_LEFT_RESUME:
		sa_str(out, n, &len, "; run the same command again to resume");
		break;
	case TRANSFER_LEFT_STDIN:
		sa_str(out, n, &len,
		    "; standard input cannot be read again: nothing was "
		    "stored, run the whole pipeline again");
		break;
	case TRANSFER_LEFT_STDOUT:
		sa_str(out, n, &len, "; the output is incomplete");
		break;
	default:
		sa_str(out, n, &len, "; nothing was kept");
		break;
	}
}

/* write(2) from a signal handler: nothing to do if it fails. */
static void
sa_write(const char *s, size_t len)
{
	ssize_t w = write(STDERR_FILENO, s, len);

	(void)w;
}

static void
on_signal(int sig)
{
	struct linger lg = {1, 0};
	char line[256];
	size_t len;
	uint64_t done;
	int saved = errno, q;

	if (tmp_active)
		(void)unlinkat(tmp_dirfd, tmp_name, 0);
	if (sig_left != 0) {
		done = sig_done;
		/* An upload: what is still in our socket's queue has not
		 * reached the server, and must not (a reset, not a close
		 * that would deliver it): the server sees the end at once
		 * and frees the partial for the next run.  Linux syscalls,
		 * safe here though POSIX does not list them. */
		if (sig_upfd != -1) {
			if (ioctl(sig_upfd, SIOCOUTQ, &q) == 0 && q > 0 &&
			    (uint64_t)q <= done)
				done -= (uint64_t)q;
			(void)setsockopt(
			    sig_upfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		/* Clear the bar, then say where we stopped. */
		if (sig_bar)
			sa_write("\r\033[K", 4);
		len = 0;
		sa_str(line, sizeof(line), &len, "ftx: ");
		transfer_left_text(line + len, sizeof(line) - len - 1,
		    "interrupted", sig_left, done, sig_total);
		len = strlen(line);
		line[len++] = '\n';
		sa_write(line, len);
	}
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

/* ---- pure helpers ---- */

uint64_t
transfer_backoff_ms(int retry, uint64_t base_ms)
{
	uint64_t ms = base_ms;
	int i;

	/* Doubling stops at the cap, so this cannot overflow. */
	for (i = 1; i < retry && ms < FTX_RETRY_CAP_MS; i++)
		ms *= 2;
	return ms < FTX_RETRY_CAP_MS ? ms : FTX_RETRY_CAP_MS;
}

int
transfer_transient_code(const char *code)
{
	/* The transfer broke (SHORT, TIMEOUT), the server is stopping or
	 * full (SHUTDOWN, LIMIT), another session still holds our partial
	 * (BUSY), or the bytes were damaged on the way (INTEGRITY): the one
	 * table (shared/ftxerr.c) says which.  Anything else is about the
	 * request itself and would fail again. */
	return ftxerr_transient(ftxerr_parse(code));
}

int
transfer_part_name(char *out, size_t n, const char *name)
{
	unsigned char digest[HASH_SHA256_LEN];
	char hex[PART_HASH_BYTES * 2 + 1];
	struct hash_ctx *h;
	int rc;

	/* A hash, not the name itself: names are up to 255 bytes, and the
	 * prefix and suffix would not fit NAME_MAX next to them. */
	if ((h = hash_new(HASH_SHA256, NULL, 0)) == NULL)
		return -1;
	rc = hash_update(h, name, strlen(name));
	if (rc == 0)
		rc = hash_final(h, digest);
	hash_free(h);
	if (rc == -1)
		return -1;
	str_hex(hex, digest, PART_HASH_BYTES);
	return str_fmt(out, n, ".ftx-part-%s", hex);
}

int
transfer_info_format(
    char *out, size_t n, const char *sha256, uint64_t size, const char *name)
{
	char enc[FTX_RPATH_MAX * 3 + 1];

	if (!rpl_is_hex(sha256, HASH_SHA256_HEXLEN) ||
	    proto_encode(enc, sizeof(enc), name) == -1)
		return -1;
	return str_fmt(out, n, "v1 %s %" PRIu64 " %s\n", sha256, size, enc);
}

int
transfer_info_parse(
    const char *text, const char *name, char *sha256, uint64_t *size)
{
	char sha[HASH_SHA256_HEXLEN + 1], num[24], want[TRANSFER_INFO_MAX];
	const char *p, *sp;
	uint64_t v;

	if (strncmp(text, "v1 ", 3) != 0)
		return -1;
	p = text + 3;
	if (strlen(p) < HASH_SHA256_HEXLEN + 1 || p[HASH_SHA256_HEXLEN] != ' ')
		return -1;
	memcpy(sha, p, HASH_SHA256_HEXLEN);
	sha[HASH_SHA256_HEXLEN] = '\0';
	p += HASH_SHA256_HEXLEN + 1;
	if ((sp = strchr(p, ' ')) == NULL || (size_t)(sp - p) >= sizeof(num))
		return -1;
	memcpy(num, p, (size_t)(sp - p));
	num[sp - p] = '\0';
	/* A size must fit off_t for the local file. */
	if (str_to_u64(num, INT64_MAX, &v) == -1)
		return -1;
	/* The rest must be exactly our name and a newline: anything else
	 * (another name with a colliding hash, a truncated write, junk)
	 * means the partial is not known to belong to this file. */
	if (transfer_info_format(want, sizeof(want), sha, v, name) == -1 ||
	    strcmp(text, want) != 0)
		return -1;
	memcpy(sha256, sha, sizeof(sha));
	*size = v;
	return 0;
}

/* ---- attempts and retries ---- */

/* ftx --retries. */
static int max_retries = FTX_RETRIES_DEFAULT;

void
transfer_retries(int n)
{
	max_retries = n < 0 ? 0 : n > FTX_RETRIES_MAX ? FTX_RETRIES_MAX : n;
}

/* The first retry's wait: FTX_RETRY_BASE_MS, or the environment's. */
static uint64_t
retry_base_ms(void)
{
	const char *env = getenv("FTX_RETRY_BASE_MS");
	uint64_t v;

	if (env != NULL && str_to_u64(env, FTX_RETRY_CAP_MS, &v) == 0)
		return v;
	return FTX_RETRY_BASE_MS;
}

/* Say why we retry, then wait for the backoff (a signal ends us). */
static void
retry_wait(const char *what, const char *why, int retry)
{
	uint64_t ms = transfer_backoff_ms(retry, retry_base_ms());
	struct timespec ts;

	ui_error("%s: %s; retry %d/%d in %g s", what, why, retry, max_retries,
	    (double)ms / 1000.0);
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Exit codes of a failed connect that a later attempt may not get. */
static int
connect_transient(int rc)
{
	/* REFUSED here is a greeting of "ERROR LIMIT": the server is
	 * full for now. */
	return rc == EXITCODE_CONNECT || rc == EXITCODE_REFUSED;
}

int
transfer_connect(struct ctl *c, const char *what, char *err, size_t errlen)
{
	int retry, rc;

	for (retry = 0;; retry++) {
		rc = ctl_ensure(c, err, errlen);
		if (rc == EXITCODE_OK || !connect_transient(rc) ||
		    retry >= max_retries)
			return rc;
		retry_wait(what, err, retry + 1);
	}
}

static void
xfer_init(struct xfer *x, struct ctl *c, const struct ui *u, const char *name)
{
	memset(x, 0, sizeof(*x));
	x->c = c;
	x->u = u;
	x->name = name;
	x->fd = -1;
	chan_init(&x->dch, -1);
	x->dirfd = -1;
	x->t0 = progress_now();
}

/* What a signal during this transfer would leave behind. */
static int
left_kind(const struct xfer *x)
{
	if (x->kind == XK_STDIN)
		return TRANSFER_LEFT_STDIN;
	if (x->kind == XK_STDOUT)
		return TRANSFER_LEFT_STDOUT;
	/* An upload's partial is the server's; a download's is resumable
	 * unless another ftx held it and we write a private temporary. */
	if (x->dir != NULL && !x->keep)
		return TRANSFER_LEFT_NOTHING;
	return TRANSFER_LEFT_RESUME;
}

/* The bar starts where the transfer resumes, so that the percentage
 * shows the whole file and the rate only this run's bytes.  A stream
 * from stdin has no known size: bytes and rate, no percentage. */
static void
bar_begin(struct xfer *x)
{
	char safe[ESC_SIZE(FTX_NAME_MAX)];
	uint64_t total = x->kind == XK_STDIN ? PROGRESS_UNKNOWN : x->size;

	progress_begin(&x->pg, STDERR_FILENO, 0,
	    ui_safe(safe, sizeof(safe), x->name), total);
	x->pg.done = x->off;
	x->pg.b_rate = x->off;
	x->pg.enabled = x->u->bar;
	x->pg.t_last = 0; /* draw now */
	progress_update(&x->pg, x->off);
	x->bar_on = 1;
	sig_done = x->off;
	sig_total = x->kind == XK_STDIN ? UINT64_MAX : x->size;
	sig_bar = x->u->bar;
	sig_upfd = x->dir == NULL ? x->dch.fd : -1;
	sig_left = left_kind(x);
}

/* Bytes up to `done` have moved: the bar, and what a signal says. */
static void
bar_update(struct xfer *x, uint64_t done)
{
	progress_update(&x->pg, done);
	sig_done = done;
	if (done > x->reach)
		x->reach = done;
}

/* Clear the bar before anything else is printed. */
static void
bar_end(struct xfer *x)
{
	sig_left = 0;
	sig_upfd = -1;
	if (x->bar_on)
		(void)progress_end(&x->pg);
	x->bar_on = 0;
}

/* What one attempt leaves behind, released before the next. */
static void
attempt_cleanup(struct xfer *x)
{
	bar_end(x);
	hpipe_free(x->hp);
	x->hp = NULL;
	chan_close(&x->dch);
	x->have_done = 0;
}

/*
 * Run attempts until one succeeds, fails for good, or the retries are
 * used up; the last attempt's exit code.  Every attempt after the first
 * resumes.
 */
static int
with_retries(struct xfer *x,
    int (*attempt)(struct xfer *x, int resume, char *why, size_t n), char *why,
    size_t n)
{
	int retry, rc, fresh = 0;

	for (retry = 0;; retry++) {
		x->transient = 0;
		x->netfail = 0;
		x->early = EXITCODE_OK;
		x->off = 0;
		rc = attempt(x,
		    (x->flags & TRANSFER_NO_RESUME) == 0 || retry > 0, why, n);
		attempt_cleanup(x);
		x->resumed = x->off > 0;
		if (rc == EXITCODE_OK || !x->transient)
			return rc;
		/* Standard input cannot be read twice, nor standard output
		 * taken back: after the first byte, a failure is final. */
		if (x->kind != XK_FILE && x->moved > 0)
			return rc;
		/* A resumed transfer whose whole-file digest failed: the
		 * partial did not belong to this file after all (changed
		 * locally, or damaged).  Both sides dropped it; one fresh
		 * start is owed, whatever --retries says. */
		if (rc == EXITCODE_INTEGRITY && x->off > 0 && !fresh) {
			fresh = 1;
			retry--;
			ui_error("%s: %s; starting again from 0", x->name, why);
			continue;
		}
		if (retry >= max_retries)
			return rc;
		retry_wait(x->name, why, retry + 1);
	}
}

/* Make sure there is a session; a failure to get one is transient. */
static int
attempt_connect(struct xfer *x, char *why, size_t n)
{
	int rc = ctl_ensure(x->c, why, n);

	if (rc != EXITCODE_OK)
		x->transient = connect_transient(rc);
	return rc;
}

/*
 * The server's reasons quote the name percent-encoded, as on the wire
 * ("no such file: with%20space"); the user typed it plain.  Put it back
 * in `why` for display only (ui_error still escapes the whole line).
 */
static void
plain_name(char *why, size_t n, const char *name)
{
	char enc[FTX_RPATH_MAX * 3 + 1];
	size_t el, nl;
	char *p;

	if (why == NULL || proto_encode(enc, sizeof(enc), name) == -1 ||
	    strcmp(enc, name) == 0)
		return;
	el = strlen(enc);
	nl = strlen(name);
	/* The plain name is shorter: replacing in place always fits. */
	for (p = strstr(why, enc); p != NULL; p = strstr(p + nl, enc)) {
		memmove(p + nl, p + el, strlen(p + el) + 1);
		memcpy(p, name, nl);
	}
	(void)n;
}

/* An ERROR line: its exit code and reason, and whether it is worth a
 * retry.  *code (may be NULL) receives the code. */
static int
refusal(struct xfer *x, const char *line, char *code, char *why, size_t n)
{
	struct rpl_error e;
	int rc;

	if (rpl_error(line, &e) == 0) {
		x->transient = transfer_transient_code(e.code);
		if (code != NULL)
			(void)str_copy(code, RPL_CODE_MAX, e.code);
	}
	rc = ctl_refusal(x->c, line, why, n);
	plain_name(why, n, x->name);
	return rc;
}

/*
 * ctl_request, and remember whether a failure is worth a retry: a lost
 * connection is, an ERROR is if its code says so, and a reply we do not
 * understand is not.  *code (may be NULL) receives an ERROR's code, ""
 * for other failures.
 */
static int
request(struct xfer *x, const char *verb, const char *const *args, int nargs,
    char *line, char *code, char *why, size_t n)
{
	int rc;

	if (code != NULL)
		code[0] = '\0';
	if (ctl_send(x->c, verb, args, nargs, why, n) == -1) {
		x->transient = 1;
		return EXITCODE_FAIL;
	}
	if (ctl_read(x->c, line, FTX_REPLY_TIMEOUT_S, why, n) == -1) {
		x->transient = 1;
		return EXITCODE_FAIL;
	}
	if (proto_kind(line) == PROTO_ERROR)
		return refusal(x, line, code, why, n);
	rc = EXITCODE_OK;
	/* Every command's first reply is OK or ERROR; anything else means
	 * we are out of step with the server. */
	if (proto_kind(line) != PROTO_OK) {
		ctl_drop(x->c);
		str_err(why, n, "unexpected reply from server");
		rc = EXITCODE_FAIL;
	}
	return rc;
}

/* SO_RCVTIMEO/SO_SNDTIMEO expiry shows up as EAGAIN. */
static const char *
io_reason(int e)
{
	if (e == EAGAIN || e == EWOULDBLOCK)
		return "timed out";
	return strerror(e);
}

/* `write` 1: hpipe also writes what we receive to x->fd (from x->off
 * on, after hashing the x->off bytes before it). */
static int
pipe_start(struct xfer *x, int write, char *why, size_t n)
{
	struct hpipe_io io;

	hpipe_io_fd(&io, &x->fd);
	if (!write)
		io.write_at = NULL; /* x->fd is only read, to prime */
	/* Below FTX_PIPE_THREAD_MIN a thread costs more than it saves. */
	x->hp = hpipe_new(
	    XFER_BUFSIZE, x->size - x->off >= FTX_PIPE_THREAD_MIN, &io, why, n);
	if (x->hp == NULL)
		return -1;
	/* Resume: hash the bytes we already have (the local file's prefix
	 * for an upload, the partial for a download), so that the digest
	 * at the end covers the whole file. */
	if (x->off > 0 && hpipe_prime(x->hp, x->off, why, n) == -1)
		return -1;
	return 0;
}

/* A pipe stage failed: writing the download (errno) or hashing (EIO). */
static int
stage_error(struct xfer *x, char *why, size_t n)
{
	if (x->dir != NULL && errno != EIO) {
		x->local_errno = errno;
		return str_err(
		    why, n, "cannot write to %s: %s", x->dir, strerror(errno));
	}
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
data_host(struct ctl *c, const char *advertised)
{
	if (data_host_spec == NULL || strcmp(data_host_spec, "control") == 0)
		return c->host;
	if (strcmp(data_host_spec, "advertised") == 0)
		return advertised[0] != '\0' ? advertised : c->host;
	return data_host_spec;
}

int
transfer_data_open(struct ctl *c, const char *advertised, int port,
    const char *token, struct chan *ch, int *transient, char *why, size_t n)
{
	char hello[FTX_TOKEN_HEX + 2], tlswhy[FTX_ERRLEN];
	int fd, rc = EXITCODE_FAIL;

	*transient = 1;
	chan_init(ch, -1);
	fd = net_connect(
	    data_host(c, advertised), port, FTX_CONNECT_TIMEOUT_S, why, n);
	if (fd == -1) {
		rc = EXITCODE_CONNECT;
		goto fail;
	}
	chan_init(ch, fd);
	net_set_bufsizes(fd, FTX_SOCKBUF_BYTES);
	/* A stalled server must not hang us forever. */
	if (net_set_timeouts(fd, FTX_DEFAULT_DATA_TIMEOUT_S) == -1) {
		str_err(why, n, "data connection: %s", strerror(errno));
		goto fail;
	}
	/* SECURITY: with TLS the token travels only inside a session that
	 * resumed our control session's, i.e. to the server we checked.
	 * No Nagle then: the token would wait for the ACK of our last
	 * handshake message (a delayed ACK, 40 ms).  Bulk writes are whole
	 * TLS records anyway. */
	if (ctl_is_tls(c))
		net_set_nodelay(fd);
	rc = ctl_data_tls(c, ch, tlswhy, sizeof(tlswhy));
	if (rc != EXITCODE_OK) {
		str_err(why, n, "data connection: %s", tlswhy);
		*transient = rc == EXITCODE_CONNECT;
		goto fail;
	}
	rc = EXITCODE_FAIL;
	if (str_fmt(hello, sizeof(hello), "%s\n", token) == -1 ||
	    chan_write_all(
		ch, hello, strlen(hello), FTX_DEFAULT_DATA_TIMEOUT_S) == -1) {
		str_err(why, n, "cannot send the data token: %s",
		    chan_strerror(ch, errno));
		goto fail;
	}
	*transient = 0;
	return EXITCODE_OK;
fail:
	chan_close(ch);
	ctl_drop(c);
	return rc;
}

/* Open the data connection (TLS, resuming the control session, if that
 * is TLS) and present the token.  On failure the session is dropped
 * (the server holds a token for us) and the exit code returned; the
 * failure is transient unless TLS itself failed. */
static int
data_open(struct xfer *x, const char *advertised, int port, const char *token,
    char *why, size_t n)
{
	return transfer_data_open(
	    x->c, advertised, port, token, &x->dch, &x->transient, why, n);
}

/*
 * The data connection broke, or the local side failed.  For a broken
 * connection the server usually says why on the control connection
 * (ERROR SHORT, TIMEOUT, SHUTDOWN, ...), which beats our "connection
 * reset"; without such a line the session is dropped.  A broken
 * connection is transient; a local failure (disk full, unreadable file)
 * is not.
 */
static int
data_failed(struct xfer *x, char *why, size_t n)
{
	unsigned char digest[HASH_SHA256_LEN];
	char line[FTX_LINE_MAX];

	/* The signal handler's descriptor goes first (bar_end), so a
	 * Ctrl-C now never touches a closed or reused one. */
	bar_end(x);
	chan_close(&x->dch);
	/* The server already said why (see data_send). */
	if (x->early != EXITCODE_OK)
		return x->early;
	/* A download's bytes up to the break are good ones: let the writer
	 * finish them, so the next attempt has less to fetch. */
	if (x->netfail && x->dir != NULL && x->hp != NULL)
		(void)hpipe_finish(x->hp, digest);
	/* (Unless its final line came already: a DONE while bytes were
	 * still on the way, and then the data connection broke.) */
	if (x->netfail && !x->have_done &&
	    ctl_read(x->c, line, FTX_CONNECT_TIMEOUT_S, NULL, 0) == 0 &&
	    proto_kind(line) == PROTO_ERROR) {
		/* Its code decides: SHORT or TIMEOUT will be retried, a
		 * full disk (IO) will not. */
		return refusal(x, line, NULL, why, n);
	}
	x->transient = x->netfail;
	ctl_drop(x->c);
	return EXITCODE_FAIL;
}

/* The server's answer made no sense: we cannot know its state, and
 * asking again would not make it sensible. */
static int
protocol_error(struct xfer *x)
{
	ctl_drop(x->c);
	x->transient = 0;
	return EXITCODE_FAIL;
}

/* Read the transfer's final control line: "DONE <sha256>" or ERROR. */
static int
final_line(struct xfer *x, char *sha, char *why, size_t n)
{
	char line[FTX_LINE_MAX];

	if (x->have_done)
		(void)str_copy(line, sizeof(line), x->done_line);
	else if (ctl_read(x->c, line, FTX_REPLY_TIMEOUT_S, why, n) == -1) {
		x->transient = 1;
		return EXITCODE_FAIL;
	}
	if (proto_kind(line) == PROTO_ERROR)
		return refusal(x, line, NULL, why, n);
	if (rpl_done_sha(line, sha, why, n) == -1)
		return protocol_error(x);
	return EXITCODE_OK;
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
 * The control connection became readable during a transfer: the server
 * gave up on it (ERROR TIMEOUT, SHUTDOWN, IO, ...) or closed the
 * session; or, downloading, it sent DONE before the last bytes reached
 * us, which is kept for final_line().  Pushes are skipped.  0 to go on,
 * or -1 with x->early set to the exit code (the final line is consumed).
 */
static int
ctl_spoke(struct xfer *x, int upload, char *why, size_t n)
{
	char line[FTX_LINE_MAX];
	int r;

	if (ctl_fill(x->c, why, n) == -1) {
		x->transient = 1;
		x->early = EXITCODE_FAIL;
		return -1;
	}
	while ((r = ctl_take(x->c, line, why, n)) == 1) {
		if (proto_kind(line) == PROTO_PUSH)
			continue;
		if (proto_kind(line) == PROTO_ERROR) {
			x->early = refusal(x, line, NULL, why, n);
			return -1;
		}
		if (!upload && !x->have_done &&
		    proto_kind(line) == PROTO_DONE) {
			(void)str_copy(
			    x->done_line, sizeof(x->done_line), line);
			x->have_done = 1;
			continue;
		}
		str_err(
		    why, n, "unexpected reply from server during a transfer");
		break;
	}
	if (r == 0)
		return 0;
	x->early = protocol_error(x);
	return -1;
}

/*
 * Send all of b on the data connection.  A peer that takes nothing for
 * the data timeout fails the transfer once that time has passed (a
 * blocking send with SO_SNDTIMEO could wait twice as long after a
 * partial write), and a server that ends the transfer early says so on
 * the control connection, which we watch meanwhile.  0, or -1 with `why`.
 */
static int
data_send(struct xfer *x, const void *b, size_t len, char *why, size_t n)
{
	const unsigned char *p = b;
	struct pollfd pfd[2];
	ssize_t w;
	int r;

	while (len > 0) {
		w = chan_write(&x->dch, p, len);
		if (w > 0) {
			p += w;
			len -= (size_t)w;
			continue;
		}
		if (w == 0 ||
		    (errno != EINTR && errno != EAGAIN &&
			errno != EWOULDBLOCK)) {
			x->netfail = 1;
			return str_err(why, n, "data connection: %s",
			    w == 0 ? "closed" : chan_strerror(&x->dch, errno));
		}
		if (errno == EINTR)
			continue;
		/* What TLS holds of the control connection, poll will
		 * not report. */
		if (ctl_pending(x->c)) {
			if (ctl_spoke(x, 1, why, n) == -1)
				return -1;
			continue;
		}
		pfd[0].fd = x->dch.fd;
		pfd[0].events = (short)chan_want(&x->dch, POLLOUT);
		pfd[1].fd = x->c->ch.fd;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		r = poll(pfd, x->c->ch.fd != -1 ? 2 : 1,
		    FTX_DEFAULT_DATA_TIMEOUT_S * 1000);
		if (r == -1 && errno == EINTR)
			continue;
		x->netfail = 1;
		if (r == -1)
			return str_err(why, n, "poll: %s", strerror(errno));
		if (r == 0)
			return str_err(why, n, "data connection: timed out");
		if (pfd[1].revents != 0 && ctl_spoke(x, 1, why, n) == -1)
			return -1;
		x->netfail = 0;
	}
	return 0;
}

/*
 * Receive exactly len bytes of a download, watching the control
 * connection as data_send does, so a server that gives up on a stalled
 * transfer ends it at once rather than after our own data timeout.
 * 0, or -1 with `why`; *got says how many bytes did arrive.
 */
static int
data_recv(struct xfer *x, unsigned char *b, size_t len, size_t *got, char *why,
    size_t n)
{
	struct pollfd pfd[2];
	ssize_t r;
	int pr, watch;

	*got = 0;
	while (*got < len) {
		r = chan_read(&x->dch, b + *got, len - *got);
		if (r > 0) {
			*got += (size_t)r;
			continue;
		}
		if (r == 0 ||
		    (errno != EINTR && errno != EAGAIN &&
			errno != EWOULDBLOCK)) {
			x->netfail = 1;
			return r == 0 ? str_err(why, n,
					    "data connection closed after "
					    "%" PRIu64 " of %" PRIu64 " bytes",
					    x->done_bytes + *got, x->size)
				      : str_err(why, n, "data connection: %s",
					    chan_strerror(&x->dch, errno));
		}
		if (errno == EINTR)
			continue;
		watch = x->c->ch.fd != -1 && !x->have_done;
		if (watch && ctl_pending(x->c)) {
			if (ctl_spoke(x, 0, why, n) == -1)
				return -1;
			continue;
		}
		pfd[0].fd = x->dch.fd;
		pfd[0].events = (short)chan_want(&x->dch, POLLIN);
		pfd[1].fd = x->c->ch.fd;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		pr =
		    poll(pfd, watch ? 2 : 1, FTX_DEFAULT_DATA_TIMEOUT_S * 1000);
		if (pr == -1 && errno == EINTR)
			continue;
		if (pr <= 0) {
			x->netfail = 1;
			return pr == 0
			    ? str_err(why, n, "data connection: timed out")
			    : str_err(why, n, "poll: %s", strerror(errno));
		}
		if (watch && pfd[1].revents != 0 &&
		    ctl_spoke(x, 0, why, n) == -1)
			return -1;
	}
	return 0;
}

/*
 * Move bytes x->off..x->size-1 through the pipe.  Upload: read the file
 * (positioned at x->off), then send each buffer while it is being
 * hashed.  Download: receive from the data connection; hpipe hashes and
 * writes it (at explicit offsets from x->off) on its helper threads.
 */
static int
pump(struct xfer *x, int upload, char *why, size_t n)
{
	uint64_t done = x->off;
	unsigned char *b;
	size_t want, rgot;
	ssize_t got;

	while (done < x->size) {
		if ((b = hpipe_acquire(x->hp)) == NULL)
			return stage_error(x, why, n);
		want = x->size - done < XFER_BUFSIZE ? (size_t)(x->size - done)
						     : XFER_BUFSIZE;
		if (!upload) {
			x->done_bytes = done;
			if (data_recv(x, b, want, &rgot, why, n) == -1) {
				/* Keep what arrived: a resume starts after it.
				 */
				if (rgot > 0 && hpipe_submit(x->hp, rgot) == 0)
					x->moved += rgot;
				return -1;
			}
			got = (ssize_t)want;
		} else {
			got = net_read_full(x->fd, b, want);
		}
		if (got != (ssize_t)want)
			return short_read(x, upload, got, done, why, n);
		if (hpipe_submit(x->hp, want) == -1)
			return stage_error(x, why, n);
		if (upload && data_send(x, b, want, why, n) == -1)
			return -1;
		done += want;
		x->moved += want;
		bar_update(x, done);
	}
	return 0;
}

/* Tell the user (stderr, not with --quiet) where a resumed transfer
 * starts. */
static void
resume_notice(const struct xfer *x, const char *what)
{
	char safe[ESC_SIZE(FTX_NAME_MAX)], at[128];

	if (x->off == 0 || x->u->quiet)
		return;
	transfer_left_text(at, sizeof(at), "", 0, x->off, x->size);
	/* Only the figures: " at 45% (1.2 MiB of 3.0 MiB)". */
	at[strcspn(at, ";")] = '\0';
	fprintf(stderr, "resuming %s of %s%s\n", what,
	    ui_safe(safe, sizeof(safe), x->name), at);
}

/* "offset=N" for a resumed command. */
static void
offset_arg(char *out, size_t n, uint64_t off)
{
	(void)str_fmt(out, n, "offset=%" PRIu64, off);
}

/* ---- upload ---- */

static int
put_open(struct xfer *x, const char *path, char *why, size_t n)
{
	struct stat sb;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is
	 * refused below anyway, and regular files ignore the flag. */
	if (x->fd == -1)
		x->fd =
		    open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (x->fd == -1)
		return str_err(why, n, "cannot open: %s", strerror(errno));
	if (fstat(x->fd, &sb) == -1)
		return str_err(why, n, "cannot stat: %s", strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return str_err(why, n, "not a regular file");
	x->size = (uint64_t)sb.st_size;
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
	if (data_send(x, digest, sizeof(digest), why, n) == -1)
		return -1;
	/* close_notify (TLS) and a half-close: the server sees the end
	 * right after the digest.  The socket stays open until the final
	 * line has come, so nothing the server may still send us (TLS
	 * session tickets) turns our close into a reset of the digest. */
	chan_shutdown(&x->dch);
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
	return EXITCODE_OK;
}

/* The outcome of a put or get that did not fail: --json or a line. */
static void
report(const struct xfer *x, const char *op)
{
	struct ui_result r;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.path = x->name;
	r.local = x->lpath;
	r.bytes = x->size;
	r.moved = x->moved;
	r.secs = progress_now() - x->t0;
	r.sha256 = x->sha[0] != '\0' ? x->sha : NULL;
	r.resumed = x->resumed;
	r.skipped = x->skipped;
	ui_result(x->u, &r);
}

/* After a failure worth a retry, with none left: where it stopped and
 * whether the same command continues it, appended to `err`. */
static void
gave_up(const struct xfer *x, int rc, char *err, size_t errlen)
{
	char text[256];
	size_t len = strlen(err);

	if (rc == EXITCODE_OK || rc == EXITCODE_INTEGRITY || !x->transient ||
	    x->reach == 0)
		return;
	transfer_left_text(text, sizeof(text), "gave up", left_kind(x),
	    x->reach, x->kind == XK_STDIN ? UINT64_MAX : x->size);
	(void)str_fmt(err + len, errlen - len, "; %s", text);
}

/*
 * The destination's SHA-256 and size (HASH), for --no-clobber and
 * --skip-same: *found 0 if there is no such file.
 */
static int
remote_hash(struct xfer *x, struct rpl_hash *h, int *found, char *why, size_t n)
{
	char line[FTX_LINE_MAX], code[RPL_CODE_MAX];
	int rc;

	*found = 0;
	if ((rc = transfer_connect(x->c, x->name, why, n)) != EXITCODE_OK)
		return rc;
	rc = request(x, "HASH", &x->name, 1, line, code, why, n);
	if (rc == EXITCODE_REFUSED && strcmp(code, "NOTFOUND") == 0)
		return EXITCODE_OK;
	if (rc != EXITCODE_OK)
		return rc;
	if (rpl_hash(line, h, why, n) == -1)
		return protocol_error(x);
	*found = 1;
	return EXITCODE_OK;
}

/* --skip-same: 1 if the local file behind `fd` (`size` bytes) is the
 * one `h` describes, 0 if not, -1 with `why` if it cannot be read. */
static int
same_file(struct xfer *x, int fd, uint64_t size, const struct rpl_hash *h,
    char *why, size_t n)
{
	unsigned char digest[HASH_SHA256_LEN];
	char hex[HASH_SHA256_HEXLEN + 1];
	uint64_t got;

	if (h->size != size)
		return 0;
	if (hash_fd(fd, HASH_SHA256, digest, &got, why, n) == -1)
		return -1;
	str_hex(hex, digest, sizeof(digest));
	if (got != size || strcmp(hex, h->sha256) != 0)
		return 0;
	memcpy(x->sha, hex, sizeof(hex));
	return 1;
}

/* put --no-clobber / --skip-same: set x->skipped if the server's file
 * stays.  (Checked before the upload; a file created on the server in
 * between is replaced, as UPLOAD always does.) */
static int
put_skip(struct xfer *x, char *why, size_t n)
{
	struct rpl_hash h;
	int rc, found, same;

	if ((x->flags & (TRANSFER_NO_CLOBBER | TRANSFER_SKIP_SAME)) == 0)
		return EXITCODE_OK;
	rc = remote_hash(x, &h, &found, why, n);
	if (rc != EXITCODE_OK || !found)
		return rc;
	if ((x->flags & TRANSFER_NO_CLOBBER) != 0) {
		x->skipped = "exists";
		return EXITCODE_OK;
	}
	if (x->kind != XK_FILE)
		return EXITCODE_OK;
	if ((same = same_file(x, x->fd, x->size, &h, why, n)) == -1)
		return EXITCODE_FAIL;
	if (same)
		x->skipped = "same";
	return EXITCODE_OK;
}

/*
 * Resume: how much of this upload the server kept for us (PARTIAL), into
 * x->off.  A server without PARTIAL (ERROR UNKNOWN) keeps nothing.
 */
static int
put_partial(struct xfer *x, const char *sizestr, char *why, size_t n)
{
	const char *args[2] = {x->name, sizestr};
	char line[FTX_LINE_MAX], code[RPL_CODE_MAX];
	uint64_t have;
	int rc;

	rc = request(x, "PARTIAL", args, 2, line, code, why, n);
	if (rc == EXITCODE_REFUSED &&
	    (strcmp(code, "UNKNOWN") == 0 || strcmp(code, "UNSUPPORTED") == 0))
		return EXITCODE_OK;
	if (rc != EXITCODE_OK)
		return rc;
	if (rpl_count(line, INT64_MAX, &have, why, n) == -1)
		return protocol_error(x);
	/* SECURITY: never trust the server's number as an offset into our
	 * file beyond its end; more than we have means start over. */
	if (have <= x->size)
		x->off = have;
	return EXITCODE_OK;
}

/* UPLOAD's arguments in args[0..3] (path, size, offset=, mtime=): how
 * many to send, with mtime= moved next to the size when there is no
 * offset=. */
static int
upload_args(const struct xfer *x, const char **args)
{
	const char *mt = args[3];
	int k = x->off > 0 ? 3 : 2;

	if (!x->has_mtime)
		return k;
	args[k] = mt;
	args[3] = mt;
	return k + 1;
}

/* UPLOAD (with offset= when resuming) and its reply.  A server that no
 * longer has what PARTIAL said (ERROR RANGE) gets the whole file. */
static int
put_request(struct xfer *x, const char *sizestr, struct rpl_upload *up,
    char *why, size_t n)
{
	char line[FTX_LINE_MAX], code[RPL_CODE_MAX], offstr[32], mt[32];
	const char *args[4] = {x->name, sizestr, offstr, mt};
	int rc;

	offset_arg(offstr, sizeof(offstr), x->off);
	(void)str_fmt(mt, sizeof(mt), "mtime=%" PRId64, x->mtime);
	if (pipe_start(x, 0, why, n) == -1)
		return EXITCODE_FAIL;
	rc = request(
	    x, "UPLOAD", args, upload_args(x, args), line, code, why, n);
	if (rc == EXITCODE_REFUSED && x->off > 0 &&
	    strcmp(code, "RANGE") == 0) {
		x->off = 0;
		hpipe_free(x->hp);
		x->hp = NULL;
		if (pipe_start(x, 0, why, n) == -1)
			return EXITCODE_FAIL;
		rc = request(x, "UPLOAD", args, upload_args(x, args), line,
		    code, why, n);
	}
	if (rc != EXITCODE_OK)
		return rc;
	if (rpl_upload(line, up, why, n) == -1)
		return protocol_error(x);
	return EXITCODE_OK;
}

static int
put_attempt(struct xfer *x, int resume, char *why, size_t n)
{
	struct rpl_upload up;
	char sizestr[24];
	int rc;

	if ((rc = attempt_connect(x, why, n)) != EXITCODE_OK)
		return rc;
	if (str_fmt(sizestr, sizeof(sizestr), "%" PRIu64, x->size) == -1) {
		str_err(why, n, "file too large");
		return EXITCODE_FAIL;
	}
	if (resume && (rc = put_partial(x, sizestr, why, n)) != EXITCODE_OK)
		return rc;
	/* The pipe (and the hash of the prefix the server has) is ready
	 * before UPLOAD, so the token cannot expire while we hash. */
	if ((rc = put_request(x, sizestr, &up, why, n)) != EXITCODE_OK)
		return rc;
	if (lseek(x->fd, (off_t)x->off, SEEK_SET) == -1) {
		str_err(why, n, "cannot seek: %s", strerror(errno));
		ctl_drop(x->c);
		return EXITCODE_FAIL;
	}
	rc = data_open(x, up.host, up.port, up.token, why, n);
	if (rc != EXITCODE_OK)
		return rc;
	resume_notice(x, "upload");
	bar_begin(x);
	if (pump(x, 1, why, n) == -1 || put_digest(x, why, n) == -1)
		return data_failed(x, why, n);
	rc = put_finish(x, why, n);
	/* A digest mismatch is damage on the way: the server discards
	 * its partial, and the retry starts from 0. */
	if (rc == EXITCODE_INTEGRITY)
		x->transient = 1;
	return rc;
}

/* An upload, with the tree's settings (`t` may be NULL). */
static int
put_file(struct ctl *c, const struct ui *u, const char *path, const char *name,
    int flags, const struct transfer_tree *t, char *err, size_t errlen)
{
	char why[FTX_ERRLEN] = "";
	struct xfer x;
	int rc = EXITCODE_FAIL;

	xfer_init(&x, c, u, name);
	x.flags = flags;
	x.lpath = path;
	if (t != NULL && t->has_mtime) {
		x.has_mtime = 1;
		x.mtime = t->mtime;
	}
	if (t != NULL && t->has_fd)
		x.fd = t->fd;
	if (put_open(&x, path, why, sizeof(why)) == 0 &&
	    (rc = put_skip(&x, why, sizeof(why))) == EXITCODE_OK &&
	    x.skipped == NULL)
		rc = with_retries(&x, put_attempt, why, sizeof(why));
	attempt_cleanup(&x);
	if (x.fd != -1)
		close(x.fd);
	if (rc == EXITCODE_OK)
		report(&x, "put");
	else if (rc == EXITCODE_INTEGRITY)
		str_err(err, errlen, "integrity failure: %s: %s", name, why);
	else
		str_err(err, errlen, "put %s: %s", path, why);
	gave_up(&x, rc, err, errlen);
	return rc;
}

/* ---- upload from standard input (put -) ---- */

static void
be_put(unsigned char *p, uint64_t v, int bytes)
{
	int i;

	for (i = bytes - 1; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

/* One read from stdin (what a pipe has, up to `len`): bytes, 0 at the
 * end, -1 with errno. */
static ssize_t
stdin_read(unsigned char *b, size_t len)
{
	struct pollfd pfd;
	ssize_t r;

	for (;;) {
		r = read(STDIN_FILENO, b, len);
		if (r >= 0 ||
		    (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
			return r;
		if (errno == EINTR)
			continue;
		/* A non-blocking stdin (inherited): wait for it. */
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, -1);
	}
}

/*
 * Send stdin as chunks (a 4-byte length, the bytes), hashing them on
 * the way, then the end (length 0, total, SHA-256).  Memory is one
 * hpipe ring whatever the stream's length.
 */
static int
stream_pump(struct xfer *x, char *why, size_t n)
{
	unsigned char *b, hdr[4], end[STREAM_END_LEN], digest[HASH_SHA256_LEN];
	ssize_t got;

	for (;;) {
		if ((b = hpipe_acquire(x->hp)) == NULL)
			return stage_error(x, why, n);
		if ((got = stdin_read(b, XFER_BUFSIZE)) == -1)
			return str_err(why, n, "cannot read standard input: %s",
			    strerror(errno));
		if (got == 0)
			break;
		/* The server's limit: going on would only be cut off
		 * later, after sending up to a terabyte for nothing. */
		if (x->size + (uint64_t)got > FTX_MAX_FILE_SIZE)
			return str_err(why, n,
			    "standard input is larger than the %llu-byte limit",
			    (unsigned long long)FTX_MAX_FILE_SIZE);
		x->size += (uint64_t)got;
		x->moved += (uint64_t)got;
		if (hpipe_submit(x->hp, (size_t)got) == -1)
			return stage_error(x, why, n);
		be_put(hdr, (uint64_t)got, 4);
		if (data_send(x, hdr, sizeof(hdr), why, n) == -1 ||
		    data_send(x, b, (size_t)got, why, n) == -1)
			return -1;
		bar_update(x, x->size);
	}
	if (pipe_digest(x, digest, why, n) == -1)
		return -1;
	be_put(end, 0, 4);
	be_put(end + 4, x->size, 8);
	memcpy(end + 12, digest, sizeof(digest));
	if (data_send(x, end, sizeof(end), why, n) == -1)
		return -1;
	/* As put_digest: the server sees the end at once. */
	chan_shutdown(&x->dch);
	return 0;
}

static int
stdin_attempt(struct xfer *x, int resume, char *why, size_t n)
{
	char line[FTX_LINE_MAX];
	const char *args[2] = {x->name, "*"};
	struct rpl_upload up;
	int rc;

	(void)resume; /* a stream never resumes */
	if ((rc = attempt_connect(x, why, n)) != EXITCODE_OK)
		return rc;
	if ((x->c->caps & RPL_CAP_STREAM) == 0) {
		str_err(why, n,
		    "the server is too old for uploads from standard input "
		    "(no streamed uploads before ftxd 0.4)");
		return EXITCODE_REFUSED;
	}
	x->hp = hpipe_new(XFER_BUFSIZE, 1, NULL, why, n);
	if (x->hp == NULL)
		return EXITCODE_FAIL;
	if ((rc = request(x, "UPLOAD", args, 2, line, NULL, why, n)) !=
	    EXITCODE_OK)
		return rc;
	if (rpl_upload(line, &up, why, n) == -1)
		return protocol_error(x);
	if ((rc = data_open(x, up.host, up.port, up.token, why, n)) !=
	    EXITCODE_OK)
		return rc;
	bar_begin(x);
	if (stream_pump(x, why, n) == -1)
		return data_failed(x, why, n);
	return put_finish(x, why, n);
}

int
transfer_put_stdin(struct ctl *c, const struct ui *u, const char *name,
    int flags, char *err, size_t errlen)
{
	char why[FTX_ERRLEN] = "";
	struct xfer x;
	int rc;

	xfer_init(&x, c, u, name);
	x.kind = XK_STDIN;
	x.flags = flags;
	x.lpath = "-";
	if ((rc = put_skip(&x, why, sizeof(why))) == EXITCODE_OK &&
	    x.skipped == NULL)
		rc = with_retries(&x, stdin_attempt, why, sizeof(why));
	attempt_cleanup(&x);
	if (rc == EXITCODE_OK) {
		report(&x, "put");
		return rc;
	}
	if (rc == EXITCODE_INTEGRITY)
		str_err(err, errlen, "integrity failure: %s: %s", name, why);
	else
		str_err(err, errlen, "put - (as %s): %s", name, why);
	/* Whatever the failure, nothing was stored (docs/PROTOCOL.md). */
	if (x.moved > 0) {
		size_t len = strlen(err);
		char text[256];

		transfer_left_text(text, sizeof(text), "stopped",
		    TRANSFER_LEFT_STDIN, x.moved, UINT64_MAX);
		(void)str_fmt(err + len, errlen - len, "; %s", text);
	}
	return rc;
}

int
transfer_put_opt(struct ctl *c, const struct ui *u, const char *path,
    const char *name, int flags, char *err, size_t errlen)
{
	return put_file(c, u, path, name, flags, NULL, err, errlen);
}

int
transfer_put_tree(struct ctl *c, const struct ui *u, const char *path,
    const char *rpath, const struct transfer_tree *t, int flags, char *err,
    size_t errlen)
{
	return put_file(c, u, path, rpath, flags, t, err, errlen);
}

int
transfer_put(struct ctl *c, const struct ui *u, const char *path,
    const char *name, char *err, size_t errlen)
{
	return transfer_put_opt(c, u, path, name, 0, err, errlen);
}

/* ---- download ---- */

/* A private, unique temporary for when another ftx holds the partial:
 * never resumed, removed after a failure or a fatal signal. */
static int
get_tmp_create(struct xfer *x, char *why, size_t n)
{
	unsigned char rnd[8];
	char hex[sizeof(rnd) * 2 + 1];
	int tries;

	for (tries = 0; tries < PART_OPEN_TRIES; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return str_err(
			    why, n, "getrandom: %s", strerror(errno));
		str_hex(hex, rnd, sizeof(rnd));
		if (str_fmt(x->part, sizeof(x->part), ".ftx-tmp-%s", hex) == -1)
			return str_err(why, n, "temporary name too long");
		/* Known to the signal handler before it exists: a Ctrl-C
		 * between the create and the registration would leave it
		 * behind (as in tree.c's down_open). */
		tmp_active = 0;
		tmp_dirfd = x->dirfd;
		(void)str_copy(tmp_name, sizeof(tmp_name), x->part);
		tmp_active = 1;
		x->fd = openat(x->dirfd, x->part,
		    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (x->fd != -1)
			break;
		tmp_active = 0;
		x->part[0] = '\0';
		if (errno != EEXIST)
			return str_err(why, n,
			    "cannot create a temporary in %s: %s", x->dir,
			    strerror(errno));
	}
	if (x->fd == -1)
		return str_err(
		    why, n, "cannot create a temporary in %s", x->dir);
	x->keep = 0;
	return 0;
}

/*
 * Open (or create) this name's partial and lock it: 1 if it is ours, 0
 * if another ftx holds it, -1 on error.  The lock (flock, released when
 * we exit however we exit) keeps two clients from writing one partial;
 * the inode check afterwards catches a partial that its previous owner
 * removed between our open and our lock.
 */
static int
part_lock(struct xfer *x, char *why, size_t n)
{
	struct stat sb, now;
	int tries;

	for (tries = 0; tries < PART_OPEN_TRIES; tries++) {
		/* SECURITY: O_NOFOLLOW, and regular files only: a planted
		 * symlink or FIFO must not redirect or block our writes. */
		x->fd = openat(x->dirfd, x->part,
		    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		    0644);
		if (x->fd == -1)
			return str_err(why, n, "cannot open %s in %s: %s",
			    x->part, x->dir, strerror(errno));
		if (fstat(x->fd, &sb) == -1) {
			str_err(why, n, "cannot stat %s: %s", x->part,
			    strerror(errno));
			goto refused;
		}
		if (!S_ISREG(sb.st_mode)) {
			str_err(why, n, "%s in %s is not a regular file",
			    x->part, x->dir);
			goto refused;
		}
		if (flock(x->fd, LOCK_EX | LOCK_NB) == -1) {
			if (errno != EWOULDBLOCK) {
				str_err(why, n, "cannot lock %s: %s", x->part,
				    strerror(errno));
				goto refused;
			}
			close(x->fd);
			x->fd = -1;
			return 0;
		}
		if (fstatat(x->dirfd, x->part, &now, AT_SYMLINK_NOFOLLOW) ==
			0 &&
		    now.st_dev == sb.st_dev && now.st_ino == sb.st_ino)
			return 1;
		close(x->fd);
		x->fd = -1;
	}
	return str_err(why, n, "cannot lock %s in %s", x->part, x->dir);
refused:
	/* Not ours: get_leave() must not delete it either. */
	close(x->fd);
	x->fd = -1;
	return -1;
}

/* The download's local file: the resumable partial if we can have it,
 * else a private temporary. */
static int
get_open(struct xfer *x, char *why, size_t n)
{
	int r;

	if (transfer_part_name(x->part, sizeof(x->part), x->name) == -1 ||
	    str_fmt(x->info, sizeof(x->info), "%s.info", x->part) == -1)
		return str_err(why, n, "cannot name the partial file");
	if ((r = part_lock(x, why, n)) == -1)
		return -1;
	if (r == 1) {
		x->keep = 1;
		return 0;
	}
	x->info[0] = '\0';
	return get_tmp_create(x, why, n);
}

/* Empty the partial and forget what it belonged to: its bytes are gone
 * before its info is, so a partial never has bytes without info. */
static int
part_reset(struct xfer *x, char *why, size_t n)
{
	if (ftruncate(x->fd, 0) == -1)
		return str_err(why, n, "cannot truncate %s in %s: %s", x->part,
		    x->dir, strerror(errno));
	if (x->info[0] != '\0' && unlinkat(x->dirfd, x->info, 0) == -1 &&
	    errno != ENOENT)
		return str_err(why, n, "cannot remove %s in %s: %s", x->info,
		    x->dir, strerror(errno));
	return 0;
}

/* Read and check the partial's info; 0 with sha256[65] and *size, or -1
 * if there is none or it is not this name's. */
static int
info_read(struct xfer *x, char *sha256, uint64_t *size)
{
	char text[TRANSFER_INFO_MAX + 1];
	ssize_t got;
	int fd;

	fd = openat(
	    x->dirfd, x->info, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1)
		return -1;
	/* SECURITY: bounded; a longer file is not one of ours. */
	got = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	if (got <= 0 || (size_t)got >= sizeof(text) - 1)
		return -1;
	text[got] = '\0';
	if (strlen(text) != (size_t)got)
		return -1;
	return transfer_info_parse(text, x->name, sha256, size);
}

/* Record what the partial belongs to, atomically (afile: a temporary,
 * renamed), before its first byte arrives.  AFILE_NOSYNC: the info is a
 * hint that a crash may lose (the next attempt then starts from 0), and
 * the data token is already ticking. */
static int
info_write(
    struct xfer *x, const char *sha256, uint64_t size, char *why, size_t n)
{
	char text[TRANSFER_INFO_MAX], e[FTX_ERRLEN];

	if (transfer_info_format(text, sizeof(text), sha256, size, x->name) ==
	    -1)
		return str_err(why, n, "cannot format the partial's info");
	if (afile_put(x->dirfd, x->info, text, strlen(text), 0644, AFILE_NOSYNC,
		e, sizeof(e)) == -1)
		return str_err(why, n, "in %s: %s", x->dir, e);
	return 0;
}

/*
 * Resume: decide where this attempt starts (x->off, with x->size and
 * x->want_sha of the file the partial belongs to).  The partial is used
 * only if its info is this name's, it is not longer than the file, and
 * HASH says the server's file is still the one it was started from;
 * otherwise it is emptied and we start from 0.
 */
static int
get_resume_point(struct xfer *x, char *why, size_t n)
{
	char line[FTX_LINE_MAX], code[RPL_CODE_MAX];
	char isha[HASH_SHA256_HEXLEN + 1];
	struct rpl_hash h;
	struct stat sb;
	uint64_t isize;
	int rc;

	if (fstat(x->fd, &sb) == -1) {
		str_err(why, n, "cannot stat %s: %s", x->part, strerror(errno));
		return EXITCODE_FAIL;
	}
	if (sb.st_size == 0 || info_read(x, isha, &isize) == -1 ||
	    (uint64_t)sb.st_size > isize)
		return EXITCODE_OK;
	rc = request(x, "HASH", &x->name, 1, line, code, why, n);
	/* A server without HASH cannot tell us; start over. */
	if (rc == EXITCODE_REFUSED && strcmp(code, "UNKNOWN") == 0)
		return EXITCODE_OK;
	if (rc != EXITCODE_OK)
		return rc;
	if (rpl_hash(line, &h, why, n) == -1)
		return protocol_error(x);
	if (strcmp(h.name, x->name) != 0) {
		str_err(why, n, "server answered for another file");
		return protocol_error(x);
	}
	if (h.size != isize || strcmp(h.sha256, isha) != 0) {
		ui_error("%s: the file changed on the server since the partial "
			 "download began; starting again from 0",
		    x->name);
		return EXITCODE_OK;
	}
	x->off = (uint64_t)sb.st_size;
	x->size = isize;
	memcpy(x->want_sha, isha, sizeof(isha));
	return EXITCODE_OK;
}

/*
 * DOWNLOAD (with offset= when resuming) and its reply.  ERROR RANGE
 * (the server has less than our partial) means start from 0.  A resumed
 * download whose OK line announces another file than the one we checked
 * (it changed in between) is abandoned: the bytes after our offset would
 * not continue our prefix.
 */
static int
get_request(struct xfer *x, struct rpl_download *d, char *why, size_t n)
{
	char line[FTX_LINE_MAX], code[RPL_CODE_MAX], offstr[32];
	const char *args[2] = {x->name, offstr};
	int rc;

	offset_arg(offstr, sizeof(offstr), x->off);
	rc = request(
	    x, "DOWNLOAD", args, x->off > 0 ? 2 : 1, line, code, why, n);
	if (rc == EXITCODE_REFUSED && x->off > 0 &&
	    strcmp(code, "RANGE") == 0) {
		x->off = 0;
		hpipe_free(x->hp);
		x->hp = NULL;
		if (part_reset(x, why, n) == -1)
			return EXITCODE_FAIL;
		rc = request(x, "DOWNLOAD", args, 1, line, code, why, n);
	}
	if (rc != EXITCODE_OK)
		return rc;
	if (rpl_download(line, d, why, n) == -1)
		return protocol_error(x);
	if (x->off > 0 &&
	    (d->size != x->size || strcmp(d->sha256, x->want_sha) != 0)) {
		ctl_drop(x->c);
		str_err(
		    why, n, "the file changed on the server while resuming");
		x->transient = 1;
		if (part_reset(x, why, n) == -1)
			x->transient = 0;
		return EXITCODE_FAIL;
	}
	return EXITCODE_OK;
}

/* Both the announced hash and the server's DONE must match ours. */
static int
get_verify(struct xfer *x, const struct rpl_download *d, char *why, size_t n)
{
	unsigned char digest[HASH_SHA256_LEN];
	char done_sha[HASH_SHA256_HEXLEN + 1];
	const char *tail;
	int rc;

	if (pipe_digest(x, digest, why, n) == -1) {
		ctl_drop(x->c);
		return EXITCODE_FAIL;
	}
	rc = final_line(x, done_sha, why, n);
	bar_end(x);
	if (rc != EXITCODE_OK)
		return rc;
	/* On stdout the bytes are gone already: say so. */
	tail = x->kind == XK_STDOUT ? "the bytes written to standard output "
				      "are damaged: discard them"
				    : "download discarded";
	if (strcmp(x->sha, d->sha256) != 0) {
		str_err(why, n, "expected sha256 %s, got %s; %s", d->sha256,
		    x->sha, tail);
		return EXITCODE_INTEGRITY;
	}
	if (strcmp(done_sha, d->sha256) != 0) {
		str_err(why, n,
		    "server announced sha256 %s but finished with %s; %s",
		    d->sha256, done_sha, tail);
		return EXITCODE_INTEGRITY;
	}
	return EXITCODE_OK;
}

static int committed(struct xfer *x);

/*
 * --no-clobber: a file that appeared under the name while we downloaded
 * stays; the rename must not replace it (RENAME_NOREPLACE, or a hard
 * link where the file system lacks it).  Our verified copy is dropped.
 */
static int
commit_noclobber(struct xfer *x, char *why, size_t n)
{
	if (renameat2(
		x->dirfd, x->part, x->dirfd, x->lname, RENAME_NOREPLACE) == 0)
		return committed(x);
	if (errno == EINVAL || errno == ENOSYS) {
		if (linkat(x->dirfd, x->part, x->dirfd, x->lname, 0) == 0) {
			(void)unlinkat(x->dirfd, x->part, 0);
			return committed(x);
		}
	}
	if (errno != EEXIST)
		return str_err(why, n, "cannot rename into %s: %s", x->dir,
		    strerror(errno));
	(void)unlinkat(x->dirfd, x->part, 0);
	x->skipped = "exists";
	return committed(x);
}

/* Make the verified partial durable (with the server's mtime, for a
 * tree), then give it its name. */
static int
get_commit(struct xfer *x, char *why, size_t n)
{
	struct timespec ts[2];

	if (x->has_mtime) {
		ts[0].tv_sec = 0;
		ts[0].tv_nsec = UTIME_OMIT;
		ts[1].tv_sec = (time_t)x->mtime;
		ts[1].tv_nsec = 0;
		if (futimens(x->fd, ts) == -1)
			return str_err(why, n, "cannot set the mtime in %s: %s",
			    x->dir, strerror(errno));
	}
	if (fsync(x->fd) == -1)
		return str_err(
		    why, n, "fsync in %s: %s", x->dir, strerror(errno));
	if ((x->flags & TRANSFER_NO_CLOBBER) != 0)
		return commit_noclobber(x, why, n);
	if (renameat(x->dirfd, x->part, x->dirfd, x->lname) == -1)
		return str_err(why, n, "cannot rename into %s: %s", x->dir,
		    strerror(errno));
	return committed(x);
}

/* The partial has its final name now (or is gone). */
static int
committed(struct xfer *x)
{
	tmp_active = 0;
	x->part[0] = '\0';
	/* The partial is gone, so its info describes nothing. */
	if (x->info[0] != '\0')
		(void)unlinkat(x->dirfd, x->info, 0);
	x->info[0] = '\0';
	/* Best effort: persist the rename itself. */
	(void)fsync(x->dirfd);
	return 0;
}

/*
 * Refuse a download the directory has no room for, before writing a
 * byte: a full disk helps nobody, and the user learns how much is
 * missing.  A file system that reports nothing useful is not judged.
 */
static int
space_check(struct xfer *x, char *why, size_t n)
{
	char need[32], have[32];
	struct statvfs vs;
	uint64_t avail, want = x->size - x->off;

	if (fstatvfs(x->dirfd, &vs) == -1 || vs.f_blocks == 0 ||
	    vs.f_frsize == 0)
		return 0;
	avail = (uint64_t)vs.f_bavail * (uint64_t)vs.f_frsize;
	if (avail >= want)
		return 0;
	x->local_errno = ENOSPC;
	x->nospace_early = 1;
	(void)progress_bytes(need, sizeof(need), want);
	(void)progress_bytes(have, sizeof(have), avail);
	return str_err(why, n, "not enough space in %s: %s needed, %s free",
	    x->dir, need, have);
}

static int
get_attempt(struct xfer *x, int resume, char *why, size_t n)
{
	struct rpl_download d;
	int rc;

	if ((rc = attempt_connect(x, why, n)) != EXITCODE_OK)
		return rc;
	if (resume && x->keep &&
	    (rc = get_resume_point(x, why, n)) != EXITCODE_OK)
		return rc;
	if (x->off == 0 && part_reset(x, why, n) == -1)
		return EXITCODE_FAIL;
	/* Resuming: hash our prefix before DOWNLOAD, so the token cannot
	 * expire while we do. */
	if (x->off > 0 && pipe_start(x, 1, why, n) == -1)
		return EXITCODE_FAIL;
	if ((rc = get_request(x, &d, why, n)) != EXITCODE_OK)
		return rc;
	if (x->off == 0)
		x->size = d.size;
	if (space_check(x, why, n) == -1) {
		ctl_drop(x->c);
		return EXITCODE_FAIL;
	}
	if (x->off == 0 &&
	    ((x->keep && info_write(x, d.sha256, d.size, why, n) == -1) ||
		pipe_start(x, 1, why, n) == -1)) {
		ctl_drop(x->c);
		return EXITCODE_FAIL;
	}
	rc = data_open(x, d.host, d.port, d.token, why, n);
	if (rc != EXITCODE_OK)
		return rc;
	resume_notice(x, "download");
	bar_begin(x);
	if (pump(x, 0, why, n) == -1)
		return data_failed(x, why, n);
	chan_close(&x->dch);
	rc = get_verify(x, &d, why, n);
	if (rc == EXITCODE_INTEGRITY) {
		/* SECURITY: the bytes are bad; none of them may be resumed
		 * from.  The retry starts from 0. */
		x->transient = part_reset(x, why, n) == 0;
		return rc;
	}
	if (rc == EXITCODE_OK && get_commit(x, why, n) == -1)
		return EXITCODE_FAIL;
	return rc;
}

/*
 * After a failure: a resumable partial with bytes in it stays (hidden,
 * never under the final name) for the same `get` to resume; an empty
 * one, or a private temporary, goes.  So does one that filled the disk
 * (ENOSPC, EDQUOT): a full disk is worse than a lost partial.  What
 * happened to it is appended to `err`.
 */
static void
get_leave(struct xfer *x, char *err, size_t errlen)
{
	char human[32];
	size_t len = strlen(err);
	struct stat sb;
	int full = x->local_errno == ENOSPC || x->local_errno == EDQUOT;

	/* Only a file we opened and locked is ours to delete. */
	if (x->part[0] == '\0' || x->fd == -1)
		return;
	if (fstat(x->fd, &sb) == -1)
		sb.st_size = 0;
	(void)progress_bytes(human, sizeof(human), (uint64_t)sb.st_size);
	if (x->keep && sb.st_size > 0 && (!full || x->nospace_early)) {
		if (full)
			(void)str_fmt(err + len, errlen - len,
			    "; the partial download %s/%s (%s) is kept: free "
			    "space and run the same command again to resume",
			    x->dir, x->part, human);
		return;
	}
	(void)unlinkat(x->dirfd, x->part, 0);
	tmp_active = 0;
	if (x->keep && x->info[0] != '\0')
		(void)unlinkat(x->dirfd, x->info, 0);
	if (full && sb.st_size > 0)
		(void)str_fmt(err + len, errlen - len,
		    "; removed the partial download (%s) to free the space",
		    human);
}

/* get --no-clobber / --skip-same: set x->skipped if the local file
 * stays (before any partial is created). */
static int
get_skip(struct xfer *x, char *why, size_t n)
{
	struct rpl_hash h;
	struct stat sb;
	int rc, found, fd, same;

	if ((x->flags & (TRANSFER_NO_CLOBBER | TRANSFER_SKIP_SAME)) == 0)
		return EXITCODE_OK;
	if (fstatat(x->dirfd, x->lname, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return EXITCODE_OK;
		str_err(why, n, "cannot stat %s in %s: %s", x->lname, x->dir,
		    strerror(errno));
		return EXITCODE_FAIL;
	}
	if ((x->flags & TRANSFER_NO_CLOBBER) != 0) {
		x->skipped = "exists";
		return EXITCODE_OK;
	}
	if (!S_ISREG(sb.st_mode))
		return EXITCODE_OK;
	rc = remote_hash(x, &h, &found, why, n);
	/* No such file: the download itself says so. */
	if (rc != EXITCODE_OK || !found)
		return rc;
	fd = openat(
	    x->dirfd, x->lname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1) {
		str_err(why, n, "cannot open %s in %s: %s", x->lname, x->dir,
		    strerror(errno));
		return EXITCODE_FAIL;
	}
	same = same_file(x, fd, (uint64_t)sb.st_size, &h, why, n);
	close(fd);
	if (same == -1)
		return EXITCODE_FAIL;
	if (same) {
		x->skipped = "same";
		x->size = h.size;
	}
	return EXITCODE_OK;
}

/* A download, with the tree's settings (`t` may be NULL). */
static int
get_file(struct ctl *c, const struct ui *u, const char *name, int dirfd,
    const char *dir, int flags, const struct transfer_tree *t, char *err,
    size_t errlen)
{
	char why[FTX_ERRLEN] = "", lpath[FTX_PATH_MAX];
	struct xfer x;
	int rc = EXITCODE_FAIL;

	xfer_init(&x, c, u, name);
	x.flags = flags;
	x.dir = dir;
	x.dirfd = dirfd;
	x.lname = t != NULL && t->lname != NULL ? t->lname : path_base(name);
	if (str_fmt(lpath, sizeof(lpath), "%s/%s", dir, x.lname) == -1)
		(void)str_copy(lpath, sizeof(lpath), x.lname);
	x.lpath = lpath;
	if (t != NULL && t->has_mtime) {
		x.has_mtime = 1;
		x.mtime = t->mtime;
	}
	if ((rc = get_skip(&x, why, sizeof(why))) == EXITCODE_OK &&
	    x.skipped == NULL) {
		rc = EXITCODE_FAIL;
		if (get_open(&x, why, sizeof(why)) == 0)
			rc = with_retries(&x, get_attempt, why, sizeof(why));
	}
	attempt_cleanup(&x);
	if (rc == EXITCODE_OK)
		report(&x, "get");
	else if (rc == EXITCODE_INTEGRITY)
		str_err(err, errlen, "integrity failure: %s: %s", name, why);
	else
		str_err(err, errlen, "get %s: %s", name, why);
	if (rc != EXITCODE_OK) {
		gave_up(&x, rc, err, errlen);
		get_leave(&x, err, errlen);
	}
	/* Closing drops our lock on the partial. */
	if (x.fd != -1)
		close(x.fd);
	return rc;
}

/* ---- download to standard output (get -o -) ---- */

/* hpipe's writer stage: stdout, in order (a pipe has no offsets). */
static int
stdout_write(void *arg, const void *b, size_t len, uint64_t off)
{
	(void)arg;
	(void)off;
	return net_write_all(STDOUT_FILENO, b, len) == -1 ? errno : 0;
}

static int
out_attempt(struct xfer *x, int resume, char *why, size_t n)
{
	struct hpipe_io io;
	struct rpl_download d;
	int rc;

	(void)resume; /* what went out cannot be taken back */
	if ((rc = attempt_connect(x, why, n)) != EXITCODE_OK)
		return rc;
	if ((rc = get_request(x, &d, why, n)) != EXITCODE_OK)
		return rc;
	x->size = d.size;
	memset(&io, 0, sizeof(io));
	io.write_at = stdout_write;
	x->hp = hpipe_new(
	    XFER_BUFSIZE, x->size >= FTX_PIPE_THREAD_MIN, &io, why, n);
	if (x->hp == NULL) {
		ctl_drop(x->c);
		return EXITCODE_FAIL;
	}
	if ((rc = data_open(x, d.host, d.port, d.token, why, n)) != EXITCODE_OK)
		return rc;
	bar_begin(x);
	if (pump(x, 0, why, n) == -1)
		return data_failed(x, why, n);
	chan_close(&x->dch);
	return get_verify(x, &d, why, n);
}

int
transfer_get_stdout(struct ctl *c, const struct ui *u, const char *name,
    char *err, size_t errlen)
{
	char why[FTX_ERRLEN] = "";
	struct xfer x;
	int rc;

	xfer_init(&x, c, u, name);
	x.kind = XK_STDOUT;
	x.dir = STDOUT_NAME; /* for "cannot write to ..." */
	x.lpath = "-";
	rc = with_retries(&x, out_attempt, why, sizeof(why));
	attempt_cleanup(&x);
	if (rc == EXITCODE_OK)
		report(&x, "get");
	else if (rc == EXITCODE_INTEGRITY)
		str_err(err, errlen, "integrity failure: %s: %s", name, why);
	else
		str_err(err, errlen, "get %s: %s", name, why);
	if (rc != EXITCODE_OK && x.moved > 0) {
		size_t len = strlen(err);
		char text[256];

		if (rc != EXITCODE_INTEGRITY) {
			transfer_left_text(text, sizeof(text), "stopped",
			    TRANSFER_LEFT_STDOUT, x.moved, x.size);
			(void)str_fmt(err + len, errlen - len, "; %s", text);
		}
	}
	return rc;
}

int
transfer_get_opt(struct ctl *c, const struct ui *u, const char *name, int dirfd,
    const char *dir, int flags, char *err, size_t errlen)
{
	return get_file(c, u, name, dirfd, dir, flags, NULL, err, errlen);
}

int
transfer_get_tree(struct ctl *c, const struct ui *u, const char *rpath,
    int dirfd, const char *dir, const struct transfer_tree *t, int flags,
    char *err, size_t errlen)
{
	return get_file(c, u, rpath, dirfd, dir, flags, t, err, errlen);
}

int
transfer_get(struct ctl *c, const struct ui *u, const char *name, int dirfd,
    const char *dir, char *err, size_t errlen)
{
	return transfer_get_opt(c, u, name, dirfd, dir, 0, err, errlen);
}

/*
 * batch.c - the client's side of MPUT and MGET (see batch.h).
 *
 * The data connection is read through a small buffer of our own, since
 * frames mix lines and raw bytes; every line from the server is bounded
 * (FTX_LINE_MAX), split and checked like a control reply, and a path in
 * an answer must be the one we asked for or sent, in order.
 */
#include "batch.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "exitcode.h"
#include "ftx_limits.h"
#include "net.h"
#include "path.h"
#include "proto.h"
#include "rpl.h"
#include "str.h"
#include "transfer.h"

/* Bytes read from the data connection at a time. */
#define BATCH_INBUF (256 * 1024)
/* Room for a frame's header before its bytes in the send buffer. */
#define BATCH_HDR_MAX FTX_LINE_MAX

struct batch {
	struct ctl *c;
	struct chan ch;
	int put;
	int dead; /* the connection failed: nothing more to do */
	unsigned char *in;
	size_t ioff, ilen;
	unsigned char *out; /* MPUT: header room, file bytes, digest */
	struct hash_ctx *h;
	/* MPUT: the paths sent, in order, in two generations of
	 * FTX_BATCH_FILES_MAX: the batch being sent (`cur`) and the one
	 * committed whose results are not read yet (if `waiting`). */
	char (*sent)[FTX_RPATH_MAX + 1];
	char (*sent_sha)[HASH_SHA256_HEXLEN + 1];
	size_t nsent; /* in the batch being sent */
	size_t nwait; /* in the batch waiting for its results */
	size_t wait_bytes; /* the most its result lines can take */
	size_t cur_bytes;
	int cur, waiting;
};

/* Index of the i-th file of generation g. */
#define GEN(g, i) ((size_t)(g)*FTX_BATCH_FILES_MAX + (i))

/* The connection failed or the server said something we cannot follow:
 * the control session's state is unknown. */
static int
dead(struct batch *b, int rc)
{
	b->dead = 1;
	chan_close(&b->ch);
	ctl_drop(b->c);
	return rc;
}

/* The data connection broke: the server usually says why on the control
 * connection (ERROR SHORT, TIMEOUT, QUOTA ...), which beats our
 * "connection reset". */
static int
broke(struct batch *b, char *err, size_t errlen)
{
	char line[FTX_LINE_MAX];

	chan_close(&b->ch);
	b->dead = 1;
	if (ctl_read(b->c, line, FTX_CONNECT_TIMEOUT_S, NULL, 0) == 0 &&
	    proto_kind(line) == PROTO_ERROR)
		return ctl_refusal(b->c, line, err, errlen);
	ctl_drop(b->c);
	return EXITCODE_FAIL;
}

/* Wait until the data connection can be read; 0, or -1 with err. */
static int
wait_in(struct batch *b, int timeout_s, char *err, size_t errlen)
{
	struct pollfd pfd;
	int r;

	if (chan_pending(&b->ch) > 0)
		return 0;
	pfd.fd = b->ch.fd;
	pfd.events = (short)chan_want(&b->ch, POLLIN);
	pfd.revents = 0;
	do
		r = poll(&pfd, 1, timeout_s * 1000);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return str_err(err, errlen, "data connection: timed out");
	if (r == -1)
		return str_err(err, errlen, "poll: %s", strerror(errno));
	return 0;
}

/* More bytes into the input buffer; 0, or -1 with err (EOF included). */
static int
fill(struct batch *b, int timeout_s, char *err, size_t errlen)
{
	ssize_t r;

	if (b->ioff > 0) {
		memmove(b->in, b->in + b->ioff, b->ilen - b->ioff);
		b->ilen -= b->ioff;
		b->ioff = 0;
	}
	for (;;) {
		r = chan_read(&b->ch, b->in + b->ilen, BATCH_INBUF - b->ilen);
		if (r > 0) {
			b->ilen += (size_t)r;
			return 0;
		}
		if (r == 0)
			return str_err(err, errlen, "data connection closed");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return str_err(err, errlen, "data connection: %s",
			    chan_strerror(&b->ch, errno));
		if (wait_in(b, timeout_s, err, errlen) == -1)
			return -1;
	}
}

/* The next LF-terminated line (without it) into line[FTX_LINE_MAX]. */
static int
read_line(struct batch *b, char *line, int timeout_s, char *err, size_t errlen)
{
	unsigned char *nl;
	size_t len;

	for (;;) {
		nl = memchr(b->in + b->ioff, '\n', b->ilen - b->ioff);
		if (nl != NULL)
			break;
		/* SECURITY: a line is bounded like a control line. */
		if (b->ilen - b->ioff >= FTX_LINE_MAX)
			return str_err(
			    err, errlen, "line from server too long");
		if (fill(b, timeout_s, err, errlen) == -1)
			return -1;
	}
	len = (size_t)(nl - (b->in + b->ioff));
	if (len >= FTX_LINE_MAX)
		return str_err(err, errlen, "line from server too long");
	memcpy(line, b->in + b->ioff, len);
	line[len] = '\0';
	b->ioff += len + 1;
	if (len > 0 && line[len - 1] == '\r')
		line[len - 1] = '\0';
	if (strlen(line) != len && strlen(line) + 1 != len)
		return str_err(err, errlen, "NUL byte in a line from server");
	return 0;
}

/* Exactly n raw bytes: into dst, or (dst NULL) to `fd` and the hash. */
static int
read_bytes(struct batch *b, unsigned char *dst, int fd, uint64_t n, char *err,
    size_t errlen, int *local)
{
	size_t k;

	while (n > 0) {
		if (b->ioff == b->ilen) {
			b->ioff = b->ilen = 0;
			if (fill(b, FTX_DEFAULT_DATA_TIMEOUT_S, err, errlen) ==
			    -1)
				return -1;
		}
		k = b->ilen - b->ioff;
		if ((uint64_t)k > n)
			k = (size_t)n;
		if (dst != NULL) {
			memcpy(dst, b->in + b->ioff, k);
			dst += k;
		} else {
			if (hash_update(b->h, b->in + b->ioff, k) == -1) {
				*local = 1;
				return str_err(err, errlen, "SHA-256 failed");
			}
			if (net_write_all(fd, b->in + b->ioff, k) == -1) {
				*local = 1;
				return str_err(err, errlen, "cannot write: %s",
				    strerror(errno));
			}
		}
		b->ioff += k;
		n -= k;
	}
	return 0;
}

static int
send_all(struct batch *b, const void *p, size_t n, char *err, size_t errlen)
{
	if (chan_write_all(&b->ch, p, n, FTX_DEFAULT_DATA_TIMEOUT_S) == -1)
		return str_err(err, errlen, "data connection: %s",
		    errno == EAGAIN ? "timed out"
				    : chan_strerror(&b->ch, errno));
	return 0;
}

int
batch_begin(struct ctl *c, int put, struct batch **bp, char *err, size_t errlen)
{
	char line[FTX_LINE_MAX];
	struct rpl_upload up;
	struct batch *b;
	int rc, transient;

	*bp = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return str_err(err, errlen, "out of memory"), EXITCODE_FAIL;
	b->c = c;
	b->put = put;
	chan_init(&b->ch, -1);
	b->in = malloc(BATCH_INBUF);
	b->h = hash_new(HASH_SHA256, NULL, 0);
	if (put) {
		b->out = malloc(
		    BATCH_HDR_MAX + FTX_BATCH_SMALL_MAX + 1 + HASH_SHA256_LEN);
		b->sent = calloc(2 * FTX_BATCH_FILES_MAX, sizeof(*b->sent));
		b->sent_sha =
		    calloc(2 * FTX_BATCH_FILES_MAX, sizeof(*b->sent_sha));
	}
	if (b->in == NULL || b->h == NULL ||
	    (put &&
		(b->out == NULL || b->sent == NULL || b->sent_sha == NULL))) {
		batch_free(b);
		str_err(err, errlen, "out of memory");
		return EXITCODE_FAIL;
	}
	rc = ctl_request(c, put ? "MPUT" : "MGET", NULL, 0, line, err, errlen);
	if (rc == EXITCODE_OK && rpl_upload(line, &up, err, errlen) == -1) {
		ctl_drop(c);
		rc = EXITCODE_FAIL;
	}
	if (rc == EXITCODE_OK)
		rc = transfer_data_open(c, up.host, up.port, up.token, &b->ch,
		    &transient, err, errlen);
	if (rc != EXITCODE_OK) {
		batch_free(b);
		return rc;
	}
	/* Frames are whole writes; a commit point must not wait for the
	 * ACK of the last one. */
	net_set_nodelay(b->ch.fd);
	*bp = b;
	return EXITCODE_OK;
}

size_t
batch_pending(const struct batch *b)
{
	return b->nsent;
}

int
batch_dead(const struct batch *b)
{
	return b->dead;
}

/* The file's bytes into b->out after the header room; *len. */
static int
read_small(struct batch *b, int fd, size_t *len, char *err, size_t errlen)
{
	unsigned char *p = b->out + BATCH_HDR_MAX;
	size_t got = 0;
	ssize_t r;

	/* Read to the end, one byte past the limit: the bytes we send are
	 * the bytes we hashed, whatever the file does meanwhile. */
	for (;;) {
		r = read(fd, p + got, FTX_BATCH_SMALL_MAX + 1 - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return str_err(
			    err, errlen, "read error: %s", strerror(errno));
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > FTX_BATCH_SMALL_MAX)
			return str_err(
			    err, errlen, "file grew while being sent");
	}
	*len = got;
	return 0;
}

int
batch_put_file(struct batch *b, int fd, const char *rpath, int64_t mtime,
    uint64_t *size, char *err, size_t errlen)
{
	char hdr[BATCH_HDR_MAX], enc[FTX_RPATH_MAX * 3 + 1];
	unsigned char digest[HASH_SHA256_LEN];
	size_t len = 0, hl;

	if (b->dead || b->nsent >= FTX_BATCH_FILES_MAX)
		return str_err(err, errlen, "batch is full or closed"),
		       EXITCODE_FAIL;
	/* A local failure before the frame's first byte leaves the batch
	 * as it was. */
	if (read_small(b, fd, &len, err, errlen) == -1)
		return EXITCODE_FAIL;
	if (proto_encode(enc, sizeof(enc), rpath) == -1 ||
	    str_fmt(hdr, sizeof(hdr), "F %zu %" PRId64 " %s\n", len, mtime,
		enc) == -1)
		return str_err(err, errlen, "path too long"), EXITCODE_FAIL;
	if (hash_update(b->h, b->out + BATCH_HDR_MAX, len) == -1 ||
	    hash_final(b->h, digest) == -1)
		return str_err(err, errlen, "SHA-256 failed"), EXITCODE_FAIL;
	/* One write per frame: header, bytes and digest side by side. */
	hl = strlen(hdr);
	memcpy(b->out + BATCH_HDR_MAX - hl, hdr, hl);
	memcpy(b->out + BATCH_HDR_MAX + len, digest, sizeof(digest));
	if (send_all(b, b->out + BATCH_HDR_MAX - hl, hl + len + sizeof(digest),
		err, errlen) == -1)
		return broke(b, err, errlen);
	(void)str_copy(
	    b->sent[GEN(b->cur, b->nsent)], sizeof(b->sent[0]), rpath);
	str_hex(b->sent_sha[GEN(b->cur, b->nsent)], digest, sizeof(digest));
	b->nsent++;
	/* Its result line at worst: "ERR <code> <path, encoded> <reason>". */
	b->cur_bytes += 32 + 3 * strlen(rpath) + FTX_ERRLEN;
	*size = len;
	return EXITCODE_OK;
}

/* "ERR <CODE> <path> <reason>" into *it; -1 if it is not one. */
static int
parse_err(char *line, struct batch_item *it, char *err, size_t errlen)
{
	struct proto_cmd cmd;

	if (proto_split_text(line, &cmd, 2, err, errlen) == -1)
		return -1;
	if (strcmp(cmd.verb, "ERR") != 0 || cmd.argc < 2)
		return str_err(err, errlen, "malformed ERR line from server");
	if (str_copy(it->code, sizeof(it->code), cmd.argv[0]) == -1 ||
	    str_copy(it->path, sizeof(it->path), cmd.argv[1]) == -1)
		return str_err(err, errlen, "malformed ERR line from server");
	(void)str_copy(
	    it->reason, sizeof(it->reason), cmd.argc > 2 ? cmd.argv[2] : "");
	it->ok = 0;
	return 0;
}

/* One MPUT result for the file sent as sent[i]; *srv_ok: the server
 * counts it as committed.  0, -1 (the connection) or -2 (the line). */
static int
put_result(struct batch *b, size_t i, struct batch_item *it, int *srv_ok,
    char *err, size_t errlen)
{
	char line[FTX_LINE_MAX];
	struct proto_cmd cmd;

	memset(it, 0, sizeof(*it));
	*srv_ok = 0;
	if (read_line(b, line, FTX_REPLY_TIMEOUT_S, err, errlen) == -1)
		return -1;
	if (strncmp(line, "ERR ", 4) == 0) {
		if (parse_err(line, it, err, errlen) == -1)
			return -2;
	} else {
		if (proto_split(line, &cmd, err, errlen) == -1)
			return -2;
		if (strcmp(cmd.verb, "OK") != 0 || cmd.argc != 2 ||
		    !rpl_is_hex(cmd.argv[0], HASH_SHA256_HEXLEN) ||
		    str_copy(it->path, sizeof(it->path), cmd.argv[1]) == -1) {
			str_err(
			    err, errlen, "malformed batch result from server");
			return -2;
		}
		*srv_ok = 1;
		/* SECURITY: the server stored what we hashed, or it is an
		 * integrity failure, not a success. */
		it->ok = strcmp(cmd.argv[0], b->sent_sha[i]) == 0;
		if (!it->ok) {
			(void)str_copy(it->code, sizeof(it->code), "INTEGRITY");
			(void)str_fmt(it->reason, sizeof(it->reason),
			    "sent sha256 %s, server stored %s", b->sent_sha[i],
			    cmd.argv[0]);
		}
	}
	if (strcmp(it->path, b->sent[i]) != 0) {
		str_err(err, errlen, "batch result out of order");
		return -2;
	}
	if (it->ok)
		memcpy(it->sha, b->sent_sha[i], sizeof(it->sha));
	return 0;
}

/* Read the results of the waiting batch into items[]. */
static int
read_results(struct batch *b, struct batch_item *items, size_t *nitems,
    char *err, size_t errlen)
{
	char line[FTX_LINE_MAX];
	struct proto_cmd cmd;
	uint64_t nok, nerr, want_ok = 0;
	size_t i, n = b->nwait, g = (size_t)(b->cur ^ 1);
	int r, srv_ok;

	b->waiting = 0;
	for (i = 0; i < n; i++) {
		r = put_result(b, GEN(g, i), &items[i], &srv_ok, err, errlen);
		if (r == -1)
			return broke(b, err, errlen);
		if (r == -2)
			return dead(b, EXITCODE_FAIL);
		want_ok += (uint64_t)srv_ok;
	}
	if (read_line(b, line, FTX_REPLY_TIMEOUT_S, err, errlen) == -1)
		return broke(b, err, errlen);
	if (proto_split(line, &cmd, err, errlen) == -1 ||
	    strcmp(cmd.verb, "C") != 0 || cmd.argc != 2 ||
	    str_to_u64(cmd.argv[0], n, &nok) == -1 ||
	    str_to_u64(cmd.argv[1], n, &nerr) == -1 || nok + nerr != n ||
	    nok != want_ok) {
		str_err(err, errlen, "malformed batch commit from server");
		return dead(b, EXITCODE_FAIL);
	}
	*nitems = n;
	return EXITCODE_OK;
}

int
batch_put_commit(struct batch *b, struct batch_item *items, size_t *nitems,
    char *err, size_t errlen)
{
	int rc;

	*nitems = 0;
	if (b->dead)
		return str_err(err, errlen, "batch closed"), EXITCODE_FAIL;
	/* At most one batch waits for its results: the older first. */
	if (b->waiting &&
	    (rc = read_results(b, items, nitems, err, errlen)) != EXITCODE_OK)
		return rc;
	if (b->nsent == 0)
		return EXITCODE_OK;
	if (send_all(b, "C\n", 2, err, errlen) == -1)
		return broke(b, err, errlen);
	b->waiting = 1;
	b->nwait = b->nsent;
	b->wait_bytes = b->cur_bytes;
	b->cur ^= 1;
	b->nsent = 0;
	b->cur_bytes = 0;
	return EXITCODE_OK;
}

int
batch_put_must_wait(const struct batch *b)
{
	return b->waiting && b->wait_bytes > FTX_BATCH_UNREAD_MAX;
}

int
batch_put_results(struct batch *b, struct batch_item *items, size_t *nitems,
    char *err, size_t errlen)
{
	*nitems = 0;
	if (b->dead)
		return str_err(err, errlen, "batch closed"), EXITCODE_FAIL;
	if (!b->waiting)
		return EXITCODE_OK;
	return read_results(b, items, nitems, err, errlen);
}

int
batch_get_request(struct batch *b, const char *rpath, char *err, size_t errlen)
{
	char line[FTX_LINE_MAX], enc[FTX_RPATH_MAX * 3 + 1];

	if (b->dead)
		return str_err(err, errlen, "batch closed"), EXITCODE_FAIL;
	if (proto_encode(enc, sizeof(enc), rpath) == -1 ||
	    str_fmt(line, sizeof(line), "G %s\n", enc) == -1)
		return str_err(err, errlen, "path too long"), EXITCODE_FAIL;
	if (send_all(b, line, strlen(line), err, errlen) == -1)
		return broke(b, err, errlen);
	return EXITCODE_OK;
}

/* "F <size> <mtime> <path>" into *it. */
static int
parse_frame(char *line, struct batch_item *it, char *err, size_t errlen)
{
	struct proto_cmd cmd;
	uint64_t v;

	if (proto_split(line, &cmd, err, errlen) == -1)
		return -1;
	if (strcmp(cmd.verb, "F") != 0 || cmd.argc != 3)
		return str_err(
		    err, errlen, "malformed batch frame from server");
	/* SECURITY: a size bounds what we write; a path must be ours. */
	if (str_to_u64(cmd.argv[0], FTX_MAX_FILE_SIZE, &it->size) == -1)
		return str_err(err, errlen, "bad size from server");
	if (cmd.argv[1][0] == '-') {
		if (str_to_u64(cmd.argv[1] + 1, INT64_MAX, &v) == -1)
			return str_err(err, errlen, "bad mtime from server");
		it->mtime = -(int64_t)v;
	} else {
		if (str_to_u64(cmd.argv[1], INT64_MAX, &v) == -1)
			return str_err(err, errlen, "bad mtime from server");
		it->mtime = (int64_t)v;
	}
	if (str_copy(it->path, sizeof(it->path), cmd.argv[2]) == -1)
		return str_err(err, errlen, "bad path from server");
	it->ok = 1;
	return 0;
}

/* The bytes and digest of a frame: to fd, hashed, compared. */
static int
get_body(
    struct batch *b, struct batch_item *it, int fd, char *err, size_t errlen)
{
	unsigned char digest[HASH_SHA256_LEN], theirs[HASH_SHA256_LEN];
	int local = 0;

	if (read_bytes(b, NULL, fd, it->size, err, errlen, &local) == -1 ||
	    read_bytes(b, theirs, -1, sizeof(theirs), err, errlen, &local) ==
		-1)
		return local ? dead(b, EXITCODE_FAIL) : broke(b, err, errlen);
	if (hash_final(b->h, digest) == -1) {
		str_err(err, errlen, "SHA-256 failed");
		return dead(b, EXITCODE_FAIL);
	}
	str_hex(it->sha, digest, sizeof(digest));
	/* SECURITY: only bytes whose digest matches are accepted. */
	if (memcmp(digest, theirs, sizeof(digest)) != 0) {
		it->ok = 0;
		(void)str_copy(it->code, sizeof(it->code), "INTEGRITY");
		(void)str_copy(it->reason, sizeof(it->reason),
		    "the bytes do not match the server's sha256");
	}
	return EXITCODE_OK;
}

int
batch_get_next(struct batch *b, const char *expect, batch_open_fn open,
    void *arg, struct batch_item *it, int *fd, char *err, size_t errlen)
{
	char line[FTX_LINE_MAX];
	int rc;

	*fd = -1;
	memset(it, 0, sizeof(*it));
	if (b->dead)
		return str_err(err, errlen, "batch closed"), EXITCODE_FAIL;
	if (read_line(b, line, FTX_REPLY_TIMEOUT_S, err, errlen) == -1)
		return broke(b, err, errlen);
	if (strncmp(line, "ERR ", 4) == 0) {
		if (parse_err(line, it, err, errlen) == -1)
			return dead(b, EXITCODE_FAIL);
	} else if (parse_frame(line, it, err, errlen) == -1) {
		return dead(b, EXITCODE_FAIL);
	}
	if (strcmp(it->path, expect) != 0) {
		str_err(err, errlen, "batch answer out of order");
		return dead(b, EXITCODE_FAIL);
	}
	if (!it->ok)
		return EXITCODE_OK;
	if ((*fd = open(arg, it, err, errlen)) == -1)
		return dead(b, EXITCODE_FAIL);
	rc = get_body(b, it, *fd, err, errlen);
	return rc;
}

int
batch_end(
    struct batch *b, uint64_t *files, uint64_t *bytes, char *err, size_t errlen)
{
	char line[FTX_LINE_MAX];
	struct proto_cmd cmd;
	uint64_t f, n;

	if (b->dead)
		return str_err(err, errlen, "batch closed"), EXITCODE_FAIL;
	if (send_all(b, "E\n", 2, err, errlen) == -1)
		return broke(b, err, errlen);
	chan_shutdown(&b->ch);
	if (ctl_read(b->c, line, FTX_REPLY_TIMEOUT_S, err, errlen) == -1)
		return dead(b, EXITCODE_FAIL);
	chan_close(&b->ch);
	if (proto_kind(line) == PROTO_ERROR)
		return ctl_refusal(b->c, line, err, errlen);
	if (proto_split(line, &cmd, err, errlen) == -1 ||
	    strcmp(cmd.verb, "DONE") != 0 || cmd.argc != 2 ||
	    str_to_u64(cmd.argv[0], UINT64_MAX, &f) == -1 ||
	    str_to_u64(cmd.argv[1], UINT64_MAX, &n) == -1) {
		str_err(err, errlen, "malformed end of batch from server");
		return dead(b, EXITCODE_FAIL);
	}
	if (files != NULL)
		*files = f;
	if (bytes != NULL)
		*bytes = n;
	return EXITCODE_OK;
}

void
batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	chan_close(&b->ch);
	hash_free(b->h);
	free(b->in);
	free(b->out);
	free(b->sent);
	free(b->sent_sha);
	free(b);
}

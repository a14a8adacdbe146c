/*
 * batch.c - MPUT and MGET frames over one data connection.  See batch.h
 * and docs/PROTOCOL.md "Batches".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "batch.h"
#include "buf.h"
#include "hash.h"
#include "path.h"
#include "proto.h"
#include "store.h"
#include "str.h"

/* Buffered reading of frames: header lines, then raw bytes. */
struct rd {
	const struct batch_io *io;
	unsigned char buf[FTX_BATCH_LINE_MAX + 1];
	size_t off, len;
	int eof; /* the peer closed */
};

/* One file of an MPUT batch, verified and waiting for the commit. */
struct pending {
	struct store_part *part;
	char path[FTX_RPATH_MAX + 1];
	unsigned char sha[HASH_SHA256_LEN];
	time_t mtime;
	uint64_t size;
	enum ftx_err err; /* set when the commit failed */
	char why[FTX_ERRLEN];
};

struct bput {
	const struct batch_cfg *c;
	const struct batch_io *io;
	struct batch_result *r;
	struct rd rd;
	struct hash_ctx *h;
	unsigned char *iobuf;
	struct pending *pend; /* FTX_BATCH_FILES_MAX */
	size_t npend;
	/* Lines for refused files, sent with the batch's results. */
	struct pending refused[FTX_BATCH_FILES_MAX];
	size_t order[FTX_BATCH_FILES_MAX]; /* 0..: pend, |FLAG_REFUSED */
	size_t nframes, nrefused;
	struct buf out; /* a commit's result lines */
	uint64_t used; /* quota: the area's bytes at the start, plus ours */
};

#define FLAG_REFUSED ((size_t)1 << (sizeof(size_t) * 8 - 1))

static int fail(struct batch_result *r, enum ftx_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct batch_result *r, enum ftx_err code, const char *fmt, ...)
{
	va_list ap;

	if (r->err == FTXE_OK) {
		r->err = code;
		va_start(ap, fmt);
		(void)str_vfmt(r->text, sizeof(r->text), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Fill the reader's buffer: 1 more bytes, 0 at the end, -1 an error. */
static int
rd_fill(struct rd *d)
{
	ssize_t n;

	if (d->off > 0) {
		memmove(d->buf, d->buf + d->off, d->len - d->off);
		d->len -= d->off;
		d->off = 0;
	}
	if (d->len == FTX_BATCH_LINE_MAX)
		return 1; /* full: the caller sees no LF */
	n = d->io->recv(
	    d->io->arg, d->buf + d->len, FTX_BATCH_LINE_MAX - d->len);
	if (n <= 0) {
		d->eof = n == 0;
		return (int)n;
	}
	d->len += (size_t)n;
	return 1;
}

/*
 * The next header line, NUL-terminated without its LF, into line[]
 * (FTX_BATCH_LINE_MAX + 1 bytes).  1, 0 when the peer closed between
 * frames, -1 (r filled) on an error, a cut or an overlong line.
 */
static int
rd_line(struct rd *d, char *line, struct batch_result *r)
{
	unsigned char *lf;
	size_t n;
	int rc;

	for (;;) {
		lf = memchr(d->buf + d->off, '\n', d->len - d->off);
		if (lf != NULL)
			break;
		/* SECURITY: a header line is bounded like a control line. */
		if (d->len - d->off >= FTX_BATCH_LINE_MAX)
			return fail(r, FTXE_SYNTAX,
			    "batch frame header over %d bytes",
			    FTX_BATCH_LINE_MAX);
		if ((rc = rd_fill(d)) <= 0) {
			if (rc == 0 && d->len == d->off)
				return 0;
			return fail(r, FTXE_SHORT,
			    "data connection closed in a frame header");
		}
	}
	n = (size_t)(lf - (d->buf + d->off));
	memcpy(line, d->buf + d->off, n);
	line[n] = '\0';
	d->off += n + 1;
	return 1;
}

/* Exactly n bytes into p (buffered ones first); 0 or -1 (r filled). */
static int
rd_bytes(struct rd *d, void *p, size_t n, struct batch_result *r)
{
	unsigned char *o = p;
	size_t k;
	ssize_t got;

	k = d->len - d->off < n ? d->len - d->off : n;
	memcpy(o, d->buf + d->off, k);
	d->off += k;
	while (k < n) {
		if ((got = d->io->recv(d->io->arg, o + k, n - k)) <= 0)
			return fail(r, FTXE_SHORT,
			    "data connection closed in a file's bytes");
		k += (size_t)got;
	}
	return 0;
}

static int send_line(const struct batch_io *io, struct batch_result *r,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
send_line(
    const struct batch_io *io, struct batch_result *r, const char *fmt, ...)
{
	char line[FTX_BATCH_LINE_MAX];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = str_vfmt(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (rc == -1)
		abort(); /* every line we send is bounded below the max */
	if (io->send(io->arg, line, strlen(line)) == -1)
		return fail(r, FTXE_SHORT, "data connection closed");
	return 0;
}

/* "F <size> <mtime> <path>": 0 with the fields, -1 (r filled). */
static int
parse_f(char *line, uint64_t *size, time_t *mtime, const char **path,
    struct batch_result *r)
{
	char err[FTX_ERRLEN];
	struct proto_cmd c;
	uint64_t v;

	if (proto_split(line, &c, err, sizeof(err)) == -1)
		return fail(r, FTXE_SYNTAX, "batch frame: %s", err);
	if (strcmp(c.verb, "F") != 0 || c.argc != 3)
		return fail(r, FTXE_SYNTAX, "batch frame: expected F, C or E");
	if (str_to_u64(c.argv[0], FTX_MAX_FILE_SIZE, size) == -1)
		return fail(r, FTXE_SYNTAX, "batch frame: bad size");
	*mtime = (time_t)-1;
	if (strcmp(c.argv[1], "-") != 0) {
		if (str_to_u64(c.argv[1], FTX_MTIME_MAX, &v) == -1)
			return fail(r, FTXE_SYNTAX, "batch frame: bad mtime");
		*mtime = (time_t)v;
	}
	*path = c.argv[2];
	return 0;
}

/* --- MPUT ------------------------------------------------------------ */

/* Read and drop a refused file's bytes and digest (the stream stays in
 * step). */
static int
skip_file(struct bput *b, uint64_t size)
{
	size_t want;

	size += HASH_SHA256_LEN;
	while (size > 0) {
		want = size < b->c->iosize ? (size_t)size : b->c->iosize;
		if (rd_bytes(&b->rd, b->iobuf, want, b->r) == -1)
			return -1;
		size -= want;
	}
	return 0;
}

/* Note a refused file for the results: code and reason. */
static void
refuse(struct bput *b, const char *path, enum ftx_err code, const char *why)
{
	struct pending *p = &b->refused[b->nrefused];

	(void)str_copy(p->path, sizeof(p->path), path);
	p->err = code;
	(void)str_copy(p->why, sizeof(p->why), why);
	b->order[b->nframes++] = b->nrefused++ | FLAG_REFUSED;
}

/* SECURITY: the quota and --min-free, per file, before its bytes are
 * written.  0, or -1 with the refusal in err/why. */
static int
room_for(struct bput *b, uint64_t size, enum ftx_err *err, char *why)
{
	uint64_t avail;
	struct store_err e;

	if (b->c->quota > 0 &&
	    (b->used > b->c->quota || size > b->c->quota - b->used)) {
		*err = FTXE_QUOTA;
		(void)str_fmt(why, FTX_ERRLEN,
		    "file of %" PRIu64
		    " bytes would exceed the quota of %" PRIu64 " bytes",
		    size, b->c->quota);
		return -1;
	}
	if (b->c->min_free > 0) {
		if (store_free_bytes(b->c->st, &avail, &e) == -1) {
			*err = FTXE_IO;
			(void)str_copy(why, FTX_ERRLEN, e.msg);
			return -1;
		}
		if (avail < size || avail - size < b->c->min_free) {
			*err = FTXE_NOSPACE;
			(void)str_fmt(why, FTX_ERRLEN,
			    "file would leave less than %" PRIu64 " bytes free",
			    b->c->min_free);
			return -1;
		}
	}
	return 0;
}

/* Receive the file's bytes into its partial, hashing them; then its
 * digest.  0 when they agree, 1 when they do not (the file alone
 * fails), -1 when the batch must end (r filled). */
static int
recv_file(struct bput *b, struct pending *p)
{
	unsigned char theirs[HASH_SHA256_LEN];
	uint64_t off = 0;
	/* STORE_OK until a write fails: a failed hash_update leaves it so. */
	struct store_err e = {STORE_OK, ""};
	size_t want;
	int werr = 0;

	while (off < p->size) {
		want = p->size - off < b->c->iosize ? (size_t)(p->size - off)
						    : b->c->iosize;
		if (rd_bytes(&b->rd, b->iobuf, want, b->r) == -1)
			return -1;
		if (!werr &&
		    (hash_update(b->h, b->iobuf, want) == -1 ||
			store_part_write_at(p->part, b->iobuf, want, off, &e) ==
			    -1)) {
			werr = 1; /* keep reading: the stream stays in step */
			p->err = e.code != STORE_OK ? store_code_err(e.code)
						    : FTXE_IO;
			(void)str_copy(p->why, sizeof(p->why),
			    e.code != STORE_OK ? e.msg : "hashing failed");
		}
		off += want;
		b->r->bytes += want;
	}
	if (rd_bytes(&b->rd, theirs, sizeof(theirs), b->r) == -1)
		return -1;
	if (hash_final(b->h, p->sha) == -1 && !werr) {
		werr = 1;
		p->err = FTXE_IO;
		(void)str_copy(p->why, sizeof(p->why), "hashing failed");
	}
	if (werr)
		return 1;
	/* SECURITY: nothing is committed unless both hashes agree. */
	if (CRYPTO_memcmp(theirs, p->sha, sizeof(theirs)) != 0) {
		p->err = FTXE_INTEGRITY;
		(void)str_copy(
		    p->why, sizeof(p->why), "sha256 mismatch: file discarded");
		return 1;
	}
	return 0;
}

/* One "F" frame: the file joins the batch, or is refused alone.  0, or
 * -1 when the batch must end. */
static int
put_file(struct bput *b, char *line)
{
	char why[FTX_ERRLEN], key[STORE_PKEY_LEN];
	struct pending *p;
	enum ftx_err code;
	struct store_err e;
	const char *path = NULL;
	int rc;

	/* SECURITY: the frame count bounds the open partials, and the
	 * arrays they are kept in: checked before anything is stored. */
	if (b->nframes == FTX_BATCH_FILES_MAX)
		return fail(b->r, FTXE_SYNTAX,
		    "more than %d files without a commit point",
		    FTX_BATCH_FILES_MAX);
	p = &b->pend[b->npend];
	if (parse_f(line, &p->size, &p->mtime, &path, b->r) == -1)
		return -1;
	/* SECURITY: every path passes the one path check. */
	if (path_check(path, why, sizeof(why)) == -1) {
		refuse(b, "-", FTXE_BADNAME, why);
		return skip_file(b, p->size);
	}
	if (room_for(b, p->size, &code, why) == -1) {
		refuse(b, path, code, why);
		return skip_file(b, p->size);
	}
	store_partial_key(key, b->c->owner, path, p->size);
	if (store_part_open(b->c->st, key, 0, &p->part, &e) == -1) {
		refuse(b, path, store_code_err(e.code), e.msg);
		return skip_file(b, p->size);
	}
	store_part_hint(p->part, path, NULL, p->mtime);
	(void)str_copy(p->path, sizeof(p->path), path);
	p->err = FTXE_OK;
	if ((rc = recv_file(b, p)) != 0) {
		store_part_close(p->part, 0);
		p->part = NULL;
		if (rc == -1)
			return -1;
		refuse(b, p->path, p->err, p->why);
		return 0;
	}
	b->used += p->size;
	b->order[b->nframes++] = b->npend++;
	return 0;
}

/* The commit point: one flush for the bytes, the renames, one flush for
 * the names; then the results, in frame order, and "C <ok> <err>". */
static int
commit(struct bput *b)
{
	char enc[PROTO_ENC_NAME_MAX], hex[HASH_SHA256_HEXLEN + 1];
	struct store_err e;
	size_t i, ok = 0;
	struct pending *p;
	int flushed, rc;

	flushed = b->npend == 0 || store_flush(b->c->st, &e) == 0;
	for (i = 0; i < b->npend; i++) {
		p = &b->pend[i];
		if (!flushed) {
			p->err = FTXE_IO;
			(void)str_copy(p->why, sizeof(p->why), e.msg);
		} else if (store_part_commit(p->part, p->path, p->sha, p->mtime,
			       STORE_COMMIT_FLUSHED | STORE_COMMIT_NOSYNC,
			       &e) == -1) {
			p->err = store_code_err(e.code);
			(void)str_copy(p->why, sizeof(p->why), e.msg);
		}
		store_part_close(p->part, 0);
		p->part = NULL;
	}
	/* The renames are durable before any file is reported. */
	if (b->npend > 0 && flushed && store_flush(b->c->st, &e) == -1)
		for (i = 0; i < b->npend; i++)
			if (b->pend[i].err == FTXE_OK) {
				b->pend[i].err = FTXE_IO;
				(void)str_copy(b->pend[i].why,
				    sizeof(b->pend[i].why), e.msg);
			}
	/* One write for the batch's results: the client waits for all of
	 * them, and line-by-line writes would each cost a segment. */
	buf_reset(&b->out);
	for (i = 0; i < b->nframes; i++) {
		p = b->order[i] & FLAG_REFUSED
		    ? &b->refused[b->order[i] & ~FLAG_REFUSED]
		    : &b->pend[b->order[i]];
		proto_encode_name(enc, p->path);
		if (p->err == FTXE_OK) {
			ok++;
			str_hex(hex, p->sha, HASH_SHA256_LEN);
			rc = buf_printf(&b->out, "OK %s %s\n", hex, enc);
		} else {
			rc = buf_printf(&b->out, "ERR %s %s %s\n",
			    ftxerr_name(p->err), enc, p->why);
		}
		if (rc == -1)
			return fail(b->r, FTXE_INTERNAL, "out of memory");
	}
	b->r->files += ok;
	if (buf_printf(&b->out, "C %zu %zu\n", ok, b->nframes - ok) == -1)
		return fail(b->r, FTXE_INTERNAL, "out of memory");
	if (b->io->send(b->io->arg, buf_head(&b->out), b->out.len) == -1)
		return fail(b->r, FTXE_SHORT, "data connection closed");
	b->npend = b->nframes = b->nrefused = 0;
	return 0;
}

/* Discard what an ended batch had not committed. */
static void
drop_pending(struct bput *b)
{
	size_t i;

	for (i = 0; i < b->npend; i++)
		store_part_close(b->pend[i].part, 0);
	b->npend = 0;
}

static int
put_loop(struct bput *b)
{
	char line[FTX_BATCH_LINE_MAX + 1];
	int rc;

	for (;;) {
		if ((rc = rd_line(&b->rd, line, b->r)) <= 0) {
			if (rc == 0)
				fail(b->r, FTXE_SHORT,
				    "data connection closed before E");
			return -1;
		}
		if (strcmp(line, "C") == 0 || strcmp(line, "E") == 0) {
			/* E after a C has no results to send (PROTOCOL.md):
			 * only frames sent since are committed and reported. */
			if ((line[0] == 'C' || b->nframes > 0) &&
			    commit(b) == -1)
				return -1;
			if (line[0] == 'E')
				return 0;
		} else if (put_file(b, line) == -1) {
			return -1;
		}
	}
}

static int
used_at_start(const struct batch_cfg *c, uint64_t *used, struct store_err *e)
{
	char key[STORE_PKEY_LEN];
	uint64_t kept;
	size_t n;

	/* A key of this uploader that names no partial: its usage is all
	 * of the uploader's partials. */
	store_partial_key(key, c->owner, "-", 0);
	if (store_usage(c->st, NULL, used, e) == -1 ||
	    store_partial_usage(c->st, key, &kept, &n, e) == -1)
		return -1;
	*used += kept + c->inflight;
	return 0;
}

void
batch_put(const struct batch_cfg *c, const struct batch_io *io,
    struct batch_result *r)
{
	char err[FTX_ERRLEN];
	struct store_err e;
	struct bput *b;

	memset(r, 0, sizeof(*r));
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->pend = calloc(FTX_BATCH_FILES_MAX, sizeof(*b->pend))) == NULL ||
	    (b->iobuf = malloc(c->iosize)) == NULL) {
		fail(r, FTXE_INTERNAL, "out of memory");
		goto out;
	}
	b->c = c;
	b->io = io;
	b->r = r;
	b->rd.io = io;
	/* A result line is at most a header line long. */
	buf_init(
	    &b->out, (size_t)FTX_BATCH_FILES_MAX * FTX_BATCH_LINE_MAX + 64);
	if ((b->h = hash_new(HASH_SHA256, err, sizeof(err))) == NULL) {
		fail(r, FTXE_INTERNAL, "%s", err);
		goto out;
	}
	/* The quota counts the area once, at the start (stored files, the
	 * uploader's kept partials, its uploads running), plus what this
	 * batch adds (replaced files' old bytes too: conservative). */
	if (c->quota > 0 && used_at_start(c, &b->used, &e) == -1) {
		fail(r, FTXE_IO, "%s", e.msg);
		goto out;
	}
	(void)put_loop(b);
	drop_pending(b);
out:
	if (b != NULL) {
		buf_free(&b->out);
		hash_free(b->h);
		free(b->iobuf);
		free(b->pend);
		free(b);
	}
}

/* --- MGET ------------------------------------------------------------ */

/* Send the file's bytes, hashing them unless `sha` is cached; 0, or -1
 * when the batch must end (r filled). */
static int
send_file(const struct batch_cfg *c, const struct batch_io *io,
    struct store_file *f, uint64_t size, struct hash_ctx *h, int hashing,
    unsigned char *buf, struct batch_result *r)
{
	struct store_err e;
	uint64_t off = 0;
	size_t want;
	ssize_t n;

	if (!hashing && io->send_fd != NULL && store_read_fd(f) != -1) {
		if (io->send_fd(io->arg, store_read_fd(f), 0, size) == -1)
			return fail(r, FTXE_SHORT, "data connection closed");
		r->bytes += size;
		return 0;
	}
	while (off < size) {
		want =
		    size - off < c->iosize ? (size_t)(size - off) : c->iosize;
		if ((n = store_read_at(f, buf, want, off, &e)) <= 0)
			return fail(r, FTXE_IO, "%s",
			    n == 0 ? "file shrank while being sent" : e.msg);
		if (hashing && hash_update(h, buf, (size_t)n) == -1)
			return fail(r, FTXE_IO, "hashing failed");
		if (io->send(io->arg, buf, (size_t)n) == -1)
			return fail(r, FTXE_SHORT, "data connection closed");
		off += (uint64_t)n;
		r->bytes += (uint64_t)n;
	}
	return 0;
}

/* One "G <path>" request: the file's frame, or an ERR line. */
static int
get_file(const struct batch_cfg *c, const struct batch_io *io, char *line,
    struct hash_ctx *h, unsigned char *buf, struct batch_result *r)
{
	char why[FTX_ERRLEN], enc[PROTO_ENC_NAME_MAX];
	unsigned char sha[HASH_SHA256_LEN], md5[HASH_MD5_LEN];
	struct store_file *f = NULL;
	struct store_stat sb;
	struct store_err e;
	struct proto_cmd cmd;
	int hashing, has_md5, rc = -1;

	if (proto_split(line, &cmd, why, sizeof(why)) == -1)
		return fail(r, FTXE_SYNTAX, "batch request: %s", why);
	if (strcmp(cmd.verb, "G") != 0 || cmd.argc != 1)
		return fail(r, FTXE_SYNTAX, "batch request: expected G or E");
	/* SECURITY: every path passes the one path check. */
	if (path_check(cmd.argv[0], why, sizeof(why)) == -1)
		return send_line(io, r, "ERR BADNAME - %s\n", why);
	proto_encode_name(enc, cmd.argv[0]);
	if (store_read_open(c->st, cmd.argv[0], &f, &sb, &e) == -1)
		return send_line(io, r, "ERR %s %s %s\n",
		    store_code_proto(e.code), enc,
		    e.code == STORE_NOTFOUND ? "no such file" : e.msg);
	hashing = store_cached(f, sha, md5, &has_md5) == -1;
	if (send_line(io, r, "F %" PRIu64 " %lld %s\n", sb.size,
		(long long)sb.mtime, enc) == -1 ||
	    send_file(c, io, f, sb.size, h, hashing, buf, r) == -1)
		goto out;
	if (hashing && hash_final(h, sha) == -1) {
		fail(r, FTXE_IO, "hashing failed");
		goto out;
	}
	if (io->send(io->arg, sha, sizeof(sha)) == -1) {
		fail(r, FTXE_SHORT, "data connection closed");
		goto out;
	}
	r->files++;
	rc = 0;
out:
	store_read_close(f);
	return rc;
}

void
batch_get(const struct batch_cfg *c, const struct batch_io *io,
    struct batch_result *r)
{
	char line[FTX_BATCH_LINE_MAX + 1], err[FTX_ERRLEN];
	struct hash_ctx *h = NULL;
	unsigned char *buf = NULL;
	struct rd *d;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (buf = malloc(c->iosize)) == NULL) {
		fail(r, FTXE_INTERNAL, "out of memory");
		goto out;
	}
	d->io = io;
	if ((h = hash_new(HASH_SHA256, err, sizeof(err))) == NULL) {
		fail(r, FTXE_INTERNAL, "%s", err);
		goto out;
	}
	for (;;) {
		if ((rc = rd_line(d, line, r)) <= 0) {
			if (rc == 0)
				fail(r, FTXE_SHORT,
				    "data connection closed before E");
			break;
		}
		if (strcmp(line, "E") == 0)
			break;
		if (get_file(c, io, line, h, buf, r) == -1)
			break;
	}
out:
	hash_free(h);
	free(buf);
	free(d);
}

/*
 * store.c - the storage interface's front end: dispatch to the backend,
 * and what every backend shares (hashing on demand, partial-upload keys
 * and their bookkeeping, the error table).  See store.h.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "path.h"
#include "store_impl.h"
#include "str.h"

/* Reads while hashing a stored file: large enough that the syscalls do
 * not show next to SHA-256. */
#define HASH_READ (256 * 1024)

/* SECURITY: one table from storage errors to the protocol's codes
 * (shared/ftxerr.h), so a new error cannot reach a client as something
 * it is not. */
static const enum ftx_err proto_codes[] = {
    [STORE_OK] = FTXE_OK,
    [STORE_NOTFOUND] = FTXE_NOTFOUND,
    [STORE_BUSY] = FTXE_BUSY,
    [STORE_RANGE] = FTXE_RANGE,
    [STORE_NOSPACE] = FTXE_NOSPACE,
    [STORE_TAKEN] = FTXE_BADNAME,
    [STORE_CHANGED] = FTXE_IO,
    [STORE_TOOMANY] = FTXE_IO,
    [STORE_BADPATH] = FTXE_BADNAME,
    [STORE_EXISTS] = FTXE_EXISTS,
    [STORE_NOTEMPTY] = FTXE_NOTEMPTY,
    [STORE_NOTDIR] = FTXE_NOTDIR,
    [STORE_ISDIR] = FTXE_ISDIR,
    [STORE_IO] = FTXE_IO,
};

enum ftx_err
store_code_err(enum store_code code)
{
	if ((size_t)code >= sizeof(proto_codes) / sizeof(proto_codes[0]))
		return FTXE_IO;
	return proto_codes[code];
}

const char *
store_code_proto(enum store_code code)
{
	return ftxerr_name(store_code_err(code));
}

int
store_fail(struct store_err *e, enum store_code code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	if (vsnprintf(e->msg, sizeof(e->msg), fmt, ap) < 0)
		e->msg[0] = '\0';
	va_end(ap);
	return -1;
}

int
store_open_sub(const struct store *parent, const char *user, struct store **stp,
    struct store_err *e)
{
	return parent->ops->open_sub(parent, user, stp, e);
}

void
store_close(struct store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

int
store_usage(const struct store *st, const char *except, uint64_t *bytes,
    struct store_err *e)
{
	return st->ops->usage(st, except, bytes, e);
}

int
store_free_bytes(const struct store *st, uint64_t *bytes, struct store_err *e)
{
	return st->ops->free_bytes(st, bytes, e);
}

int
store_root_stat(
    const struct store *st, struct store_stat *sb, struct store_err *e)
{
	return st->ops->root_stat(st, sb, e);
}

int
store_list(const struct store *st, size_t max,
    int (*cb)(void *arg, const struct store_entry *e), void *arg,
    struct store_err *e)
{
	return st->ops->list(st, max, cb, arg, e);
}

/*
 * SECURITY: every path a backend sees passed the one path check
 * (shared/path.c: components that pass proto_name_check, no '.', '..'
 * or empty component, bounded length and depth), so it names nothing
 * but the namespace, one way; the backend resolves it without following
 * links (store_posix.c).
 */
static int
path_ok(const char *path, struct store_err *e)
{
	char why[FTX_ERRLEN];

	if (path_check(path, why, sizeof(why)) == -1)
		return store_fail(e, STORE_BADPATH, "%s", why);
	return 0;
}

/* path_ok, or "": the top, where an operation takes it. */
static int
path_or_top_ok(const char *path, struct store_err *e)
{
	if (path != NULL && path[0] == '\0')
		return 0;
	return path_ok(path, e);
}

int
store_lookup(const struct store *st, const char *path, struct store_entry *out,
    struct store_err *e)
{
	memset(out, 0, sizeof(*out));
	if (path_or_top_ok(path, e) == -1)
		return -1;
	if (st->ops->lookup(st, path, out, e) == -1)
		return -1;
	out->name = path;
	return 0;
}

int
store_mkdir(
    const struct store *st, const char *path, int parents, struct store_err *e)
{
	if (path_ok(path, e) == -1)
		return -1;
	return st->ops->mkdir(st, path, parents, e);
}

int
store_rmdir(const struct store *st, const char *path, struct store_err *e)
{
	if (path_ok(path, e) == -1)
		return -1;
	return st->ops->rmdir(st, path, e);
}

/* Whether `path` is `dir` or below it. */
static int
path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

/*
 * SECURITY: everything a directory holds must still have a valid path
 * once it is moved to `to`: at most FTX_RPATH_MAX bytes and
 * FTX_RPATH_DEPTH_MAX components.  Otherwise a MOVE into a deep
 * directory would push files out of every walk (LS, and the usage a
 * quota counts) while they stay on the disk.  0, or -1 (BADPATH).
 */
static int
fits_at(const struct store *st, const char *from, const char *to,
    struct store_err *e)
{
	size_t tolen = strlen(to), todepth = path_depth(to), len, depth;
	struct store_walk *w;
	struct store_entry ent;
	int rc;

	if (st->ops->lookup(st, from, &ent, e) == -1)
		return -1;
	if (!ent.is_dir)
		return 0;
	if (st->ops->walk_open(st, from, 1, &w, e) == -1)
		return -1;
	while ((rc = st->ops->walk_next(w, &ent, e)) == 1) {
		len = tolen + 1 + strlen(ent.name);
		depth = todepth + path_depth(ent.name);
		if (len > FTX_RPATH_MAX || depth > FTX_RPATH_DEPTH_MAX) {
			rc = store_fail(e, STORE_BADPATH,
			    "moved there, %s would be too long or too deep",
			    ent.name);
			break;
		}
	}
	st->ops->walk_close(w);
	return rc == -1 ? -1 : 0;
}

int
store_rename(const struct store *st, const char *from, const char *to,
    int replace, struct store_err *e)
{
	struct store_entry ent;

	if (path_ok(from, e) == -1 || path_ok(to, e) == -1)
		return -1;
	/* rename(2) of a name onto itself does nothing: so do we, once the
	 * name is known to be there. */
	if (strcmp(from, to) == 0)
		return st->ops->lookup(st, from, &ent, e);
	/* SECURITY: a directory moved below itself would leave the tree
	 * (the kernel refuses it too, EINVAL; the memory backend relies on
	 * this check). */
	if (path_within(to, from)) {
		if (st->ops->lookup(st, from, &ent, e) == -1)
			return -1;
		if (!ent.is_dir)
			return store_fail(e, STORE_NOTDIR,
			    "a component of the target is a file");
		return store_fail(
		    e, STORE_BADPATH, "cannot move a directory into itself");
	}
	if (fits_at(st, from, to, e) == -1)
		return -1;
	return st->ops->rename(st, from, to, replace, e);
}

int
store_walk_open(const struct store *st, const char *path, int recursive,
    struct store_walk **wp, struct store_err *e)
{
	*wp = NULL;
	if (path_or_top_ok(path, e) == -1)
		return -1;
	return st->ops->walk_open(st, path, recursive, wp, e);
}

int
store_walk_next(
    struct store_walk *w, struct store_entry *out, struct store_err *e)
{
	memset(out, 0, sizeof(*out));
	return w->st->ops->walk_next(w, out, e);
}

void
store_walk_close(struct store_walk *w)
{
	if (w != NULL)
		w->st->ops->walk_close(w);
}

int
store_flush(const struct store *st, struct store_err *e)
{
	return st->ops->flush(st, e);
}

int
store_delete(const struct store *st, const char *name, struct store_err *e)
{
	if (path_ok(name, e) == -1)
		return -1;
	return st->ops->del(st, name, e);
}

int
store_read_open(const struct store *st, const char *name,
    struct store_file **fp, struct store_stat *sb, struct store_err *e)
{
	*fp = NULL;
	if (path_ok(name, e) == -1)
		return -1;
	return st->ops->read_open(st, name, fp, sb, e);
}

ssize_t
store_read_at(struct store_file *f, void *buf, size_t n, uint64_t off,
    struct store_err *e)
{
	return f->st->ops->read_at(f, buf, n, off, e);
}

int
store_read_fd(const struct store_file *f)
{
	if (f->st->ops->read_fd == NULL)
		return -1;
	return f->st->ops->read_fd(f);
}

void
store_read_close(struct store_file *f)
{
	if (f != NULL)
		f->st->ops->read_close(f);
}

int
store_cached(const struct store_file *f, unsigned char *sha, unsigned char *md5,
    int *has_md5)
{
	return f->st->ops->meta_get(f, sha, md5, has_md5);
}

/* Read the whole file once, feeding each hash asked for; the file must
 * still have the size it was opened with. */
static int
hash_file(struct store_file *f, unsigned char *sha, unsigned char *md5,
    uint64_t size, struct store_err *e)
{
	struct hash_ctx *hs = NULL, *hm = NULL;
	char err[FTX_ERRLEN];
	unsigned char *b;
	uint64_t off = 0;
	ssize_t n;
	int rc = -1;

	if ((b = malloc(HASH_READ)) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	if ((sha != NULL &&
		(hs = hash_new(HASH_SHA256, err, sizeof(err))) == NULL) ||
	    (md5 != NULL &&
		(hm = hash_new(HASH_MD5, err, sizeof(err))) == NULL)) {
		store_fail(e, STORE_IO, "%s", err);
		goto out;
	}
	while ((n = store_read_at(f, b, HASH_READ, off, e)) > 0) {
		if ((hs != NULL && hash_update(hs, b, (size_t)n) == -1) ||
		    (hm != NULL && hash_update(hm, b, (size_t)n) == -1)) {
			store_fail(e, STORE_IO, "hash failed");
			goto out;
		}
		off += (uint64_t)n;
	}
	if (n == -1)
		goto out;
	if (off != size) {
		store_fail(e, STORE_CHANGED, "file changed while hashing");
		goto out;
	}
	if ((hs != NULL && hash_final(hs, sha) == -1) ||
	    (hm != NULL && hash_final(hm, md5) == -1)) {
		store_fail(e, STORE_IO, "hash failed");
		goto out;
	}
	rc = 0;
out:
	hash_free(hs);
	hash_free(hm);
	free(b);
	return rc;
}

int
store_hash(struct store_file *f, unsigned char *sha, unsigned char *md5,
    struct store_err *e)
{
	unsigned char cmd5[HASH_MD5_LEN];
	int has_md5, cached;

	cached = store_cached(f, sha, cmd5, &has_md5) == 0;
	if (cached && (md5 == NULL || has_md5)) {
		if (md5 != NULL)
			memcpy(md5, cmd5, sizeof(cmd5));
		return 0;
	}
	/* A file put in by hand pays for the SHA-256 on first need; an
	 * upload's is always cached, so a first HASH ... md5 reads the file
	 * for the MD5 alone (uploads do not compute it: it would cost them
	 * about a third of their throughput).  Both are then cached. */
	if (hash_file(f, cached ? NULL : sha, md5, f->size, e) == -1)
		return -1;
	f->st->ops->meta_put(f, sha, md5);
	return 0;
}

void
store_partial_key(char *key, const char *owner, const char *name, uint64_t size)
{
	unsigned char d[HASH_SHA256_LEN], own[HASH_SHA256_LEN];
	struct hash_ctx *h;
	char num[32];

	/* SECURITY: the owner is part of the key, so one client can neither
	 * read the size of nor continue another client's upload. */
	(void)str_fmt(num, sizeof(num), "%" PRIu64, size);
	h = hash_new(HASH_SHA256, NULL, 0);
	if (h == NULL || hash_update(h, "ftx-partial-v1", 15) == -1 ||
	    hash_update(h, owner, strlen(owner) + 1) == -1 ||
	    hash_update(h, name, strlen(name) + 1) == -1 ||
	    hash_update(h, num, strlen(num)) == -1 || hash_final(h, d) == -1)
		abort(); /* OpenSSL cannot hash: nothing works anyway */
	hash_free(h);
	h = hash_new(HASH_SHA256, NULL, 0);
	if (h == NULL || hash_update(h, "ftx-partial-owner-v1", 21) == -1 ||
	    hash_update(h, owner, strlen(owner) + 1) == -1 ||
	    hash_final(h, own) == -1)
		abort();
	hash_free(h);
	str_hex(key, own, STORE_POWNER_HEX / 2);
	key[STORE_POWNER_HEX] = '-';
	str_hex(key + STORE_POWNER_HEX + 1, d, 16);
}

int
store_partial_size(const struct store *st, const char *key, uint64_t *size,
    struct store_err *e)
{
	return st->ops->partial_size(st, key, size, e);
}

int
store_part_open(const struct store *st, const char *key, uint64_t offset,
    struct store_part **wp, struct store_err *e)
{
	return st->ops->part_open(st, key, offset, wp, e);
}

int
store_part_write_at(struct store_part *w, const void *buf, size_t n,
    uint64_t off, struct store_err *e)
{
	return w->st->ops->part_write_at(w, buf, n, off, e);
}

ssize_t
store_part_read_at(struct store_part *w, void *buf, size_t n, uint64_t off,
    struct store_err *e)
{
	return w->st->ops->part_read_at(w, buf, n, off, e);
}

int
store_part_commit(struct store_part *w, const char *name,
    const unsigned char *sha, time_t mtime, unsigned flags, struct store_err *e)
{
	if (path_ok(name, e) == -1)
		return -1;
	return w->st->ops->part_commit(w, name, sha, mtime, flags, e);
}

void
store_part_hint(struct store_part *w, const char *name,
    const unsigned char *sha, time_t mtime)
{
	if (w->st->ops->part_hint != NULL)
		w->st->ops->part_hint(w, name, sha, mtime);
}

int
store_part_hash_state(struct store_part *w, unsigned char *state)
{
	if (w->st->ops->part_hash_state == NULL)
		return -1;
	return w->st->ops->part_hash_state(w, state);
}

void
store_part_close(struct store_part *w, int keep)
{
	if (w != NULL)
		w->st->ops->part_close(w, keep);
}

/* Whether the partial `name` belongs to key's uploader (and is not
 * `key` itself). */
static int
same_owner(const char *name, const char *key)
{
	return strlen(name) == STORE_PKEY_LEN - 1 &&
	    strncmp(name, key, STORE_POWNER_HEX + 1) == 0 &&
	    strcmp(name, key) != 0;
}

/* One uploader's partials, gathered in one scan. */
struct owned {
	const char *key;
	uint64_t bytes;
	size_t count;
	/* store_partial_trim: the partials, to delete oldest first. */
	struct owned_one {
		char key[STORE_PKEY_LEN];
		uint64_t size;
		long long mtime_ns;
	} * v;
	size_t cap;
	int oom;
};

static int
owned_add(void *arg, const char *key, uint64_t size, long long mtime_ns)
{
	struct owned *o = arg;
	struct owned_one *nv;

	if (!same_owner(key, o->key))
		return 0;
	o->bytes += size;
	if (o->cap == (size_t)-1)
		goto counted; /* counting only */
	if (o->oom)
		goto counted;
	if (o->count == o->cap) {
		size_t cap = o->cap == 0 ? 16 : o->cap * 2;

		/* Past the bound (or out of memory) the rest are counted
		 * but not candidates: a later trim gets them. */
		if (cap > FTX_PARTIALS_SCAN_MAX ||
		    (nv = realloc(o->v, cap * sizeof(*nv))) == NULL) {
			o->oom = 1;
			goto counted;
		}
		o->v = nv;
		o->cap = cap;
	}
	(void)str_copy(o->v[o->count].key, STORE_PKEY_LEN, key);
	o->v[o->count].size = size;
	o->v[o->count].mtime_ns = mtime_ns;
counted:
	o->count++;
	return 0;
}

int
store_partial_usage(const struct store *st, const char *key, uint64_t *bytes,
    size_t *count, struct store_err *e)
{
	struct owned o = {key, 0, 0, NULL, (size_t)-1, 0};

	*bytes = 0;
	*count = 0;
	if (st->ops->partial_scan(st, owned_add, &o, e) == -1)
		return -1;
	*bytes = o.bytes;
	*count = o.count;
	return 0;
}

static int
by_age(const void *a, const void *b)
{
	const struct owned_one *x = a, *y = b;

	return (x->mtime_ns > y->mtime_ns) - (x->mtime_ns < y->mtime_ns);
}

int
store_partial_trim(
    const struct store *st, const char *key, size_t keep, uint64_t keep_bytes)
{
	struct owned o = {key, 0, 0, NULL, 0, 0};
	size_t i, nv;
	int n = 0;

	/* SECURITY: an uploader cannot fill the disk with broken-off
	 * uploads: beyond `keep`, the oldest go.  One scan, then deletions
	 * oldest first; a partial a transfer claims is skipped. */
	if (st->ops->partial_scan(st, owned_add, &o, NULL) == -1) {
		free(o.v);
		return 0;
	}
	nv = o.oom ? o.cap : o.count;
	if (nv > 1) /* none gathered: o.v is NULL, which qsort may not get */
		qsort(o.v, nv, sizeof(*o.v), by_age);
	for (i = 0;
	     i < nv && (o.count - (size_t)n > keep || o.bytes > keep_bytes);
	     i++) {
		if (st->ops->partial_drop(st, o.v[i].key) != 1)
			continue;
		o.bytes -= o.v[i].size;
		n++;
	}
	free(o.v);
	return n;
}

struct expiry {
	long long cutoff_ns;
	const struct store *st;
	int n;
};

static int
expire_one(void *arg, const char *key, uint64_t size, long long mtime_ns)
{
	struct expiry *x = arg;

	(void)size;
	if (mtime_ns < x->cutoff_ns &&
	    x->st->ops->partial_drop(x->st, key) == 1)
		x->n++;
	return 0;
}

int
store_partial_expire(const struct store *st, long long ttl_s)
{
	struct expiry x = {0, st, 0};
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	x.cutoff_ns =
	    ((long long)now.tv_sec - ttl_s) * 1000000000LL + now.tv_nsec;
	if (st->ops->partial_scan(st, expire_one, &x, NULL) == -1)
		return 0;
	return x.n;
}

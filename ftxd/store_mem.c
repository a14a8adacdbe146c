/*
 * store_mem.c - the in-memory storage backend.  See store_mem.h.
 *
 * One "world" holds everything a root store and its users' areas share
 * (the partials, the capacity, a lock); each store is a namespace of
 * files in it.  A reader gets its own copy of the file, so a commit or
 * delete after the open does not change what it reads, as with a
 * descriptor on POSIX.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_impl.h"
#include "store_mem.h"
#include "str.h"

struct mblob {
	char name[FTX_NAME_MAX + 1]; /* or a partial's key */
	unsigned char *data;
	uint64_t size;
	long long mtime_ns;
	uint64_t version; /* the world's counter when last changed */
	int has_sha, has_md5;
	unsigned char sha[HASH_SHA256_LEN];
	unsigned char md5[HASH_MD5_LEN];
	int claimed; /* a partial being written */
	struct mblob *next;
};

struct mworld {
	pthread_mutex_t mu;
	int refs; /* stores open on it */
	uint64_t capacity, used, counter;
	struct mblob *partials;
	struct mstore *root;
	struct mstore *users; /* the users' areas */
};

struct mstore {
	struct store base; /* must be first */
	struct mworld *w;
	int is_root;
	char user[FTX_USER_MAX + 1];
	struct mblob *files;
	long long changed_ms;
	uint64_t version;
	struct mstore *unext; /* in the world's list of user areas */
};

struct mfile {
	struct store_file base; /* must be first */
	struct mstore *ms;
	char name[FTX_NAME_MAX + 1];
	uint64_t version;
	unsigned char *data;
};

struct mpart {
	struct store_part base; /* must be first */
	struct mblob *b;
	int gone;
};

static const struct store_ops mem_ops;

#define MST(st) ((struct mstore *)(st))

static long long
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static struct mblob *
find(struct mblob *b, const char *name)
{
	for (; b != NULL; b = b->next)
		if (strcmp(b->name, name) == 0)
			return b;
	return NULL;
}

static void
unlink_blob(struct mblob **head, struct mblob *b)
{
	struct mblob **pp;

	for (pp = head; *pp != NULL; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			return;
		}
}

static void
free_blob(struct mworld *w, struct mblob *b)
{
	w->used -= b->size;
	free(b->data);
	free(b);
}

static void
touched(struct mstore *ms)
{
	ms->version = ++ms->w->counter;
	ms->changed_ms = now_ns() / 1000000;
}

static struct mstore *
mstore_new(struct mworld *w)
{
	struct mstore *ms;

	if ((ms = calloc(1, sizeof(*ms))) == NULL)
		return NULL;
	ms->base.ops = &mem_ops;
	ms->w = w;
	w->refs++;
	touched(ms);
	return ms;
}

int
store_mem_open(struct store **stp, uint64_t capacity, struct store_err *e)
{
	struct mworld *w;
	struct mstore *ms;

	*stp = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		free(w);
		return store_fail(e, STORE_IO, "pthread_mutex_init failed");
	}
	w->capacity = capacity;
	if ((ms = mstore_new(w)) == NULL) {
		pthread_mutex_destroy(&w->mu);
		free(w);
		return store_fail(e, STORE_IO, "out of memory");
	}
	ms->is_root = 1;
	w->root = ms;
	*stp = &ms->base;
	return 0;
}

static int
m_open_sub(const struct store *parent, const char *user, struct store **stp,
    struct store_err *e)
{
	struct mworld *w = MST(parent)->w;
	struct mstore *ms;
	int rc = 0;

	*stp = NULL;
	if (!MST(parent)->is_root)
		return store_fail(e, STORE_IO, "not the root store");
	pthread_mutex_lock(&w->mu);
	for (ms = w->users; ms != NULL; ms = ms->unext)
		if (strcmp(ms->user, user) == 0)
			break;
	if (ms == NULL) {
		if ((ms = mstore_new(w)) == NULL) {
			rc = store_fail(e, STORE_IO, "out of memory");
			goto out;
		}
		(void)str_copy(ms->user, sizeof(ms->user), user);
		ms->unext = w->users;
		w->users = ms;
	} else
		w->refs++;
	*stp = &ms->base;
out:
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static void
free_files(struct mworld *w, struct mblob *b)
{
	struct mblob *n;

	for (; b != NULL; b = n) {
		n = b->next;
		free_blob(w, b);
	}
}

/* Stores stay until the last one of their world closes: a user's area
 * reopened finds its files again, as a directory on disk would. */
static void
m_close(struct store *st)
{
	struct mworld *w = MST(st)->w;
	struct mstore *u, *n;
	int last;

	pthread_mutex_lock(&w->mu);
	last = --w->refs == 0;
	pthread_mutex_unlock(&w->mu);
	if (!last)
		return;
	for (u = w->users; u != NULL; u = n) {
		n = u->unext;
		free_files(w, u->files);
		free(u);
	}
	free_files(w, w->root->files);
	free(w->root);
	free_files(w, w->partials);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

static int
m_usage(const struct store *st, const char *except, uint64_t *bytes,
    struct store_err *e)
{
	struct mblob *b;

	(void)e;
	*bytes = 0;
	pthread_mutex_lock(&MST(st)->w->mu);
	for (b = MST(st)->files; b != NULL; b = b->next)
		if (except == NULL || strcmp(b->name, except) != 0)
			*bytes += b->size;
	pthread_mutex_unlock(&MST(st)->w->mu);
	return 0;
}

static int
m_free_bytes(const struct store *st, uint64_t *bytes, struct store_err *e)
{
	struct mworld *w = MST(st)->w;

	(void)e;
	pthread_mutex_lock(&w->mu);
	*bytes = w->capacity == 0 ? UINT64_MAX / 2 : w->capacity - w->used;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

static int
m_root_stat(const struct store *st, struct store_stat *sb, struct store_err *e)
{
	struct mstore *ms = MST(st);

	(void)e;
	pthread_mutex_lock(&ms->w->mu);
	memset(sb, 0, sizeof(*sb));
	(void)str_fmt(sb->version, sizeof(sb->version), "mem %p %" PRIu64,
	    (void *)ms, ms->version);
	sb->changed_ms = ms->changed_ms;
	pthread_mutex_unlock(&ms->w->mu);
	return 0;
}

static int
m_list(const struct store *st, size_t max,
    int (*cb)(void *arg, const struct store_entry *e), void *arg,
    struct store_err *e)
{
	struct mstore *ms = MST(st);
	struct store_entry ent;
	struct mblob *b;
	size_t count = 0;
	int rc = 0;

	/* The callback runs under the lock: it must not call the store. */
	pthread_mutex_lock(&ms->w->mu);
	for (b = ms->files; b != NULL && count < max; b = b->next, count++) {
		ent.name = b->name;
		ent.size = b->size;
		ent.mtime = (time_t)(b->mtime_ns / 1000000000LL);
		ent.has_sha = b->has_sha;
		memcpy(ent.sha, b->sha, sizeof(ent.sha));
		if (cb(arg, &ent) == -1) {
			rc = store_fail(e, STORE_TOOMANY, "listing too large");
			break;
		}
	}
	pthread_mutex_unlock(&ms->w->mu);
	return rc;
}

static int
m_delete(const struct store *st, const char *name, struct store_err *e)
{
	struct mstore *ms = MST(st);
	struct mblob *b;
	int rc = 0;

	pthread_mutex_lock(&ms->w->mu);
	if ((b = find(ms->files, name)) == NULL) {
		rc = store_fail(e, STORE_NOTFOUND, "no such file");
	} else {
		unlink_blob(&ms->files, b);
		free_blob(ms->w, b);
		touched(ms);
	}
	pthread_mutex_unlock(&ms->w->mu);
	return rc;
}

static int
m_read_open(const struct store *st, const char *name, struct store_file **fp,
    struct store_stat *sb, struct store_err *e)
{
	struct mstore *ms = MST(st);
	struct mfile *f;
	struct mblob *b;

	*fp = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	pthread_mutex_lock(&ms->w->mu);
	if ((b = find(ms->files, name)) == NULL) {
		pthread_mutex_unlock(&ms->w->mu);
		free(f);
		return store_fail(e, STORE_NOTFOUND, "no such file");
	}
	if (b->size > 0 && (f->data = malloc((size_t)b->size)) == NULL) {
		pthread_mutex_unlock(&ms->w->mu);
		free(f);
		return store_fail(e, STORE_IO, "out of memory");
	}
	if (b->size > 0)
		memcpy(f->data, b->data, (size_t)b->size);
	f->base.st = st;
	f->base.size = b->size;
	f->ms = ms;
	f->version = b->version;
	(void)str_copy(f->name, sizeof(f->name), name);
	sb->size = b->size;
	sb->mtime = (time_t)(b->mtime_ns / 1000000000LL);
	(void)str_fmt(sb->version, sizeof(sb->version), "%" PRIu64, b->version);
	sb->changed_ms = b->mtime_ns / 1000000;
	pthread_mutex_unlock(&ms->w->mu);
	*fp = &f->base;
	return 0;
}

static ssize_t
m_read_at(struct store_file *fp, void *buf, size_t n, uint64_t off,
    struct store_err *e)
{
	struct mfile *f = (struct mfile *)fp;

	(void)e;
	if (off >= fp->size)
		return 0;
	if (n > fp->size - off)
		n = (size_t)(fp->size - off);
	memcpy(buf, f->data + off, n);
	return (ssize_t)n;
}

static void
m_read_close(struct store_file *fp)
{
	free(((struct mfile *)fp)->data);
	free(fp);
}

/* The file this reader opened, if it is still that version. */
static struct mblob *
same_version(struct mfile *f)
{
	struct mblob *b = find(f->ms->files, f->name);

	return b != NULL && b->version == f->version ? b : NULL;
}

static int
m_meta_get(const struct store_file *fp, unsigned char *sha, unsigned char *md5,
    int *has_md5)
{
	struct mfile *f = (struct mfile *)fp;
	struct mblob *b;
	int rc = -1;

	*has_md5 = 0;
	pthread_mutex_lock(&f->ms->w->mu);
	if ((b = same_version(f)) != NULL && b->has_sha) {
		memcpy(sha, b->sha, sizeof(b->sha));
		if (b->has_md5)
			memcpy(md5, b->md5, sizeof(b->md5));
		*has_md5 = b->has_md5;
		rc = 0;
	}
	pthread_mutex_unlock(&f->ms->w->mu);
	return rc;
}

static void
m_meta_put(
    struct store_file *fp, const unsigned char *sha, const unsigned char *md5)
{
	struct mfile *f = (struct mfile *)fp;
	struct mblob *b;

	pthread_mutex_lock(&f->ms->w->mu);
	if ((b = same_version(f)) != NULL) {
		memcpy(b->sha, sha, sizeof(b->sha));
		b->has_sha = 1;
		if (md5 != NULL)
			memcpy(b->md5, md5, sizeof(b->md5));
		b->has_md5 = md5 != NULL;
	}
	pthread_mutex_unlock(&f->ms->w->mu);
}

static int
m_partial_size(const struct store *st, const char *key, uint64_t *size,
    struct store_err *e)
{
	struct mworld *w = MST(st)->w;
	struct mblob *b;

	(void)e;
	pthread_mutex_lock(&w->mu);
	b = find(w->partials, key);
	*size = b != NULL ? b->size : 0;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

static int
m_part_open(const struct store *st, const char *key, uint64_t offset,
    struct store_part **wp, struct store_err *e)
{
	struct mworld *w = MST(st)->w;
	struct mpart *p;
	struct mblob *b;
	int rc = 0;

	*wp = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	pthread_mutex_lock(&w->mu);
	if ((b = find(w->partials, key)) == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL) {
			rc = store_fail(e, STORE_IO, "out of memory");
			goto out;
		}
		(void)str_copy(b->name, sizeof(b->name), key);
		b->mtime_ns = now_ns();
		b->next = w->partials;
		w->partials = b;
	}
	if (b->claimed) {
		rc = store_fail(
		    e, STORE_BUSY, "an upload of this file is in progress");
		goto out;
	}
	if (offset > b->size) {
		rc = store_fail(e, STORE_RANGE,
		    "offset %" PRIu64 " beyond the %" PRIu64 " bytes kept",
		    offset, b->size);
		/* An empty partial keeps nothing to resume: not left. */
		if (b->size == 0) {
			unlink_blob(&w->partials, b);
			free_blob(w, b);
		}
		goto out;
	}
	w->used -= b->size - offset;
	b->size = offset;
	b->claimed = 1;
	p->base.st = st;
	p->b = b;
	*wp = &p->base;
out:
	pthread_mutex_unlock(&w->mu);
	if (*wp == NULL)
		free(p);
	return rc;
}

static int
m_part_write_at(struct store_part *wp, const void *buf, size_t n, uint64_t off,
    struct store_err *e)
{
	struct mworld *w = MST(wp->st)->w;
	struct mblob *b = ((struct mpart *)wp)->b;
	uint64_t end, grow;
	unsigned char *nd;
	int rc = 0;

	if (off > UINT64_MAX - n || (end = off + n) > SIZE_MAX)
		return store_fail(e, STORE_RANGE, "offset out of range");
	pthread_mutex_lock(&w->mu);
	grow = end > b->size ? end - b->size : 0;
	if (w->capacity > 0 && w->used + grow > w->capacity) {
		rc = store_fail(e, STORE_NOSPACE, "write: No space left");
		goto out;
	}
	if (grow > 0) {
		if ((nd = realloc(b->data, (size_t)end)) == NULL) {
			rc = store_fail(e, STORE_IO, "out of memory");
			goto out;
		}
		memset(nd + b->size, 0, (size_t)grow);
		b->data = nd;
		b->size = end;
		w->used += grow;
	}
	memcpy(b->data + off, buf, n);
	b->mtime_ns = now_ns();
out:
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static ssize_t
m_part_read_at(struct store_part *wp, void *buf, size_t n, uint64_t off,
    struct store_err *e)
{
	struct mworld *w = MST(wp->st)->w;
	struct mblob *b = ((struct mpart *)wp)->b;

	(void)e;
	pthread_mutex_lock(&w->mu);
	if (off >= b->size)
		n = 0;
	else if (n > b->size - off)
		n = (size_t)(b->size - off);
	if (n > 0)
		memcpy(buf, b->data + off, n);
	pthread_mutex_unlock(&w->mu);
	return (ssize_t)n;
}

static int
m_part_commit(struct store_part *wp, const char *name, const unsigned char *sha,
    time_t mtime, unsigned flags, struct store_err *e)
{
	struct mstore *ms = MST(wp->st);
	struct mpart *p = (struct mpart *)wp;
	struct mblob *b = p->b, *old;

	(void)e;
	pthread_mutex_lock(&ms->w->mu);
	unlink_blob(&ms->w->partials, b);
	if ((old = find(ms->files, name)) != NULL) {
		unlink_blob(&ms->files, old);
		free_blob(ms->w, old);
	}
	(void)str_copy(b->name, sizeof(b->name), name);
	b->claimed = 0;
	b->version = ++ms->w->counter;
	memcpy(b->sha, sha, sizeof(b->sha));
	b->has_sha = 1;
	b->has_md5 = 0;
	b->next = ms->files;
	ms->files = b;
	touched(ms);
	p->gone = 1;
	pthread_mutex_unlock(&ms->w->mu);
	return 0;
}

static void
m_part_close(struct store_part *wp, int keep)
{
	struct mworld *w = MST(wp->st)->w;
	struct mpart *p = (struct mpart *)wp;

	pthread_mutex_lock(&w->mu);
	if (!p->gone) {
		if (keep) {
			p->b->claimed = 0;
		} else {
			unlink_blob(&w->partials, p->b);
			free_blob(w, p->b);
		}
	}
	pthread_mutex_unlock(&w->mu);
	free(p);
}

static int
m_partial_scan(const struct store *st,
    int (*cb)(void *arg, const char *key, uint64_t size, long long mtime_ns),
    void *arg, struct store_err *e)
{
	struct mworld *w = MST(st)->w;
	char(*keys)[STORE_PKEY_LEN] = NULL;
	uint64_t *sizes = NULL;
	long long *times = NULL;
	struct mblob *b;
	size_t n = 0, i;

	/* Copied out first: the callback may drop partials. */
	pthread_mutex_lock(&w->mu);
	for (b = w->partials; b != NULL; b = b->next)
		n++;
	if (n > 0 &&
	    ((keys = calloc(n, sizeof(*keys))) == NULL ||
		(sizes = calloc(n, sizeof(*sizes))) == NULL ||
		(times = calloc(n, sizeof(*times))) == NULL)) {
		pthread_mutex_unlock(&w->mu);
		free(keys);
		free(sizes);
		return store_fail(e, STORE_IO, "out of memory");
	}
	for (b = w->partials, i = 0; b != NULL; b = b->next, i++) {
		(void)str_copy(keys[i], STORE_PKEY_LEN, b->name);
		sizes[i] = b->size;
		times[i] = b->mtime_ns;
	}
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < n; i++)
		if (cb(arg, keys[i], sizes[i], times[i]) == -1)
			break;
	free(keys);
	free(sizes);
	free(times);
	return 0;
}

static int
m_partial_drop(const struct store *st, const char *key)
{
	struct mworld *w = MST(st)->w;
	struct mblob *b;
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	if ((b = find(w->partials, key)) != NULL && !b->claimed) {
		unlink_blob(&w->partials, b);
		free_blob(w, b);
		rc = 1;
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static const struct store_ops mem_ops = {
    .name = "mem",
    .open_sub = m_open_sub,
    .close = m_close,
    .usage = m_usage,
    .free_bytes = m_free_bytes,
    .root_stat = m_root_stat,
    .list = m_list,
    .del = m_delete,
    .read_open = m_read_open,
    .read_at = m_read_at,
    .read_fd = NULL,
    .read_close = m_read_close,
    .meta_get = m_meta_get,
    .meta_put = m_meta_put,
    .partial_size = m_partial_size,
    .part_open = m_part_open,
    .part_write_at = m_part_write_at,
    .part_read_at = m_part_read_at,
    .part_commit = m_part_commit,
    .part_close = m_part_close,
    .partial_scan = m_partial_scan,
    .partial_drop = m_partial_drop,
};

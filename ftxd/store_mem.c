/*
 * store_mem.c - the in-memory storage backend.  See store_mem.h.
 *
 * One "world" holds everything a root store and its users' areas share
 * (the partials, the capacity, a lock); each store is a namespace of
 * files in it.  A reader gets its own copy of the file, so a commit or
 * delete after the open does not change what it reads, as with a
 * descriptor on POSIX.  Directories are entries of their own, keyed by
 * their path like files; a path's parents must be directories.
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
	char name[FTX_RPATH_MAX + 1]; /* a path, or a partial's key */
	int is_dir;
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
	char name[FTX_RPATH_MAX + 1];
	uint64_t version;
	unsigned char *data;
};

struct mpart {
	struct store_part base; /* must be first */
	struct mblob *b;
	int gone;
};

/* A walk resumes after the last key it gave, in path order: entries
 * added or removed between calls are seen or not, never twice. */
struct mwalk {
	struct store_walk base; /* must be first */
	struct mstore *ms;
	char start[FTX_RPATH_MAX + 1];
	size_t slen;
	int recursive;
	int single; /* a walk of a file: `one` until given */
	struct store_entry one;
	char last[FTX_RPATH_MAX + 1]; /* "" before the first */
	char out[FTX_RPATH_MAX + 1];
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

/* Path order: '/' before any other byte, so that a directory's
 * entries follow it at once (pre-order, each subtree together). */
static int
path_cmp(const char *a, const char *b)
{
	unsigned char x, y;

	for (;; a++, b++) {
		x = (unsigned char)*a;
		y = (unsigned char)*b;
		if (x != y)
			break;
		if (x == '\0')
			return 0;
	}
	if (x == '\0' || y == '\0')
		return x == '\0' ? -1 : 1;
	if (x == '/' || y == '/')
		return x == '/' ? -1 : 1;
	return x < y ? -1 : 1;
}

/* Whether `path` lies below the directory `dir` ("" the top) and,
 * unless `deep`, directly in it. */
static int
below(const char *path, const char *dir, size_t dlen, int deep)
{
	const char *rest = path;

	if (dlen > 0) {
		if (strncmp(path, dir, dlen) != 0 || path[dlen] != '/')
			return 0;
		rest = path + dlen + 1;
	}
	return deep || strchr(rest, '/') == NULL;
}

static struct mblob *
blob_new(struct mstore *ms, const char *name, int is_dir)
{
	struct mblob *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	(void)str_copy(b->name, sizeof(b->name), name);
	b->is_dir = is_dir;
	b->mtime_ns = now_ns();
	b->version = ++ms->w->counter;
	b->next = ms->files;
	ms->files = b;
	return b;
}

/*
 * Every parent of `path` is a directory: 0; else -1 with STORE_NOTFOUND
 * (one is missing; with `create` it is made instead) or STORE_NOTDIR
 * (one is a file).  Under the lock.
 */
static int
parents_ok(struct mstore *ms, const char *path, int create, struct store_err *e)
{
	char pre[FTX_RPATH_MAX + 1];
	const char *slash;
	struct mblob *b;
	size_t n;

	for (slash = strchr(path, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		n = (size_t)(slash - path);
		memcpy(pre, path, n);
		pre[n] = '\0';
		if ((b = find(ms->files, pre)) == NULL) {
			if (!create)
				return store_fail(
				    e, STORE_NOTFOUND, "no such directory");
			if (blob_new(ms, pre, 1) == NULL)
				return store_fail(e, STORE_IO, "out of memory");
		} else if (!b->is_dir) {
			return store_fail(e, STORE_NOTDIR,
			    "a component of the path is a file");
		}
	}
	return 0;
}

/* The file `path`, or NULL with `e` filled.  Under the lock. */
static struct mblob *
find_file(struct mstore *ms, const char *path, struct store_err *e)
{
	struct mblob *b;

	if (parents_ok(ms, path, 0, e) == -1)
		return NULL;
	if ((b = find(ms->files, path)) == NULL) {
		store_fail(e, STORE_NOTFOUND, "no such file");
		return NULL;
	}
	if (b->is_dir) {
		store_fail(e, STORE_ISDIR, "is a directory");
		return NULL;
	}
	return b;
}

/* Whether anything lies below the directory `path`.  Under the lock. */
static int
has_children(struct mstore *ms, const char *path)
{
	struct mblob *b;

	for (b = ms->files; b != NULL; b = b->next)
		if (below(b->name, path, strlen(path), 1))
			return 1;
	return 0;
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
		if (!b->is_dir &&
		    (except == NULL || strcmp(b->name, except) != 0))
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
	for (b = ms->files; b != NULL && count < max; b = b->next) {
		/* The flat LIST: files of the top only. */
		if (b->is_dir || strchr(b->name, '/') != NULL)
			continue;
		count++;
		ent.name = b->name;
		ent.is_dir = 0;
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
	if ((b = find_file(ms, name, e)) == NULL) {
		rc = -1;
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
	if ((b = find_file(ms, name, e)) == NULL) {
		pthread_mutex_unlock(&ms->w->mu);
		free(f);
		return -1;
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
	int rc = -1;

	(void)flags;
	pthread_mutex_lock(&ms->w->mu);
	if (parents_ok(ms, name, 1, e) == -1)
		goto out;
	if ((old = find(ms->files, name)) != NULL && old->is_dir) {
		store_fail(e, STORE_ISDIR, "name is taken by a directory");
		goto out;
	}
	if (old != NULL) {
		unlink_blob(&ms->files, old);
		free_blob(ms->w, old);
	}
	unlink_blob(&ms->w->partials, b);
	(void)str_copy(b->name, sizeof(b->name), name);
	b->claimed = 0;
	b->version = ++ms->w->counter;
	if (mtime != (time_t)-1)
		b->mtime_ns = (long long)mtime * 1000000000LL;
	memcpy(b->sha, sha, sizeof(b->sha));
	b->has_sha = 1;
	b->has_md5 = 0;
	b->next = ms->files;
	ms->files = b;
	touched(ms);
	p->gone = 1;
	rc = 0;
out:
	pthread_mutex_unlock(&ms->w->mu);
	return rc;
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

static void
entry_fill(struct store_entry *out, const struct mblob *b)
{
	out->is_dir = b->is_dir;
	out->size = b->is_dir ? 0 : b->size;
	out->mtime = (time_t)(b->mtime_ns / 1000000000LL);
	out->has_sha = !b->is_dir && b->has_sha;
	memcpy(out->sha, b->sha, sizeof(out->sha));
}

static int
m_lookup(const struct store *st, const char *path, struct store_entry *out,
    struct store_err *e)
{
	struct mstore *ms = MST(st);
	struct mblob *b;
	int rc = 0;

	pthread_mutex_lock(&ms->w->mu);
	if (path[0] == '\0') {
		out->is_dir = 1;
		out->mtime = (time_t)(ms->changed_ms / 1000);
	} else if (parents_ok(ms, path, 0, e) == -1) {
		rc = -1;
	} else if ((b = find(ms->files, path)) == NULL) {
		rc = store_fail(e, STORE_NOTFOUND, "no such file or directory");
	} else {
		entry_fill(out, b);
	}
	pthread_mutex_unlock(&ms->w->mu);
	return rc;
}

static int
m_mkdir(
    const struct store *st, const char *path, int parents, struct store_err *e)
{
	struct mstore *ms = MST(st);
	struct mblob *b;
	int rc = 0;

	pthread_mutex_lock(&ms->w->mu);
	if (parents_ok(ms, path, parents, e) == -1) {
		rc = -1;
	} else if ((b = find(ms->files, path)) != NULL) {
		if (!parents)
			rc = store_fail(e, STORE_EXISTS, "already exists");
		else if (!b->is_dir)
			rc = store_fail(
			    e, STORE_NOTDIR, "exists and is not a directory");
	} else if (blob_new(ms, path, 1) == NULL) {
		rc = store_fail(e, STORE_IO, "out of memory");
	} else {
		touched(ms);
	}
	pthread_mutex_unlock(&ms->w->mu);
	return rc;
}

static int
m_rmdir(const struct store *st, const char *path, struct store_err *e)
{
	struct mstore *ms = MST(st);
	struct mblob *b;
	int rc = 0;

	pthread_mutex_lock(&ms->w->mu);
	if (parents_ok(ms, path, 0, e) == -1) {
		rc = -1;
	} else if ((b = find(ms->files, path)) == NULL) {
		rc = store_fail(e, STORE_NOTFOUND, "no such directory");
	} else if (!b->is_dir) {
		rc = store_fail(e, STORE_NOTDIR, "not a directory");
	} else if (has_children(ms, path)) {
		rc = store_fail(e, STORE_NOTEMPTY, "directory is not empty");
	} else {
		unlink_blob(&ms->files, b);
		free_blob(ms->w, b);
		touched(ms);
	}
	pthread_mutex_unlock(&ms->w->mu);
	return rc;
}

/* Whether `to` may be replaced by `from` (rename(2)'s rules): 0, or -1
 * with `e` filled.  Under the lock. */
static int
replaceable(struct mstore *ms, const struct mblob *from, const struct mblob *to,
    int replace, struct store_err *e)
{
	if (!replace)
		return store_fail(e, STORE_EXISTS, "the target exists");
	if (!from->is_dir && to->is_dir)
		return store_fail(e, STORE_ISDIR, "the target is a directory");
	if (from->is_dir && !to->is_dir)
		return store_fail(e, STORE_NOTDIR, "the target is a file");
	if (to->is_dir && has_children(ms, to->name))
		return store_fail(
		    e, STORE_NOTEMPTY, "the target directory is not empty");
	return 0;
}

/* Every path below `from` still a path once moved to `to`; memory
 * cannot hold what a path cannot name.  Under the lock. */
static int
movable(
    struct mstore *ms, const char *from, const char *to, struct store_err *e)
{
	size_t fl = strlen(from), tl = strlen(to), depth;
	struct mblob *b;
	const char *c;

	for (b = ms->files; b != NULL; b = b->next) {
		if (!below(b->name, from, fl, 1))
			continue;
		for (depth = 1, c = to; *c != '\0'; c++)
			depth += *c == '/';
		for (c = b->name + fl; *c != '\0'; c++)
			depth += *c == '/';
		if (strlen(b->name) - fl + tl > FTX_RPATH_MAX ||
		    depth > FTX_RPATH_DEPTH_MAX)
			return store_fail(e, STORE_BADPATH,
			    "a path below would be too long or too deep");
	}
	return 0;
}

/* Rename `from` and what lies below it to `to`.  Under the lock. */
static void
move_tree(struct mstore *ms, struct mblob *from, const char *to)
{
	char old[FTX_RPATH_MAX + 1], tmp[FTX_RPATH_MAX + 1];
	size_t fl;
	struct mblob *b;

	(void)str_copy(old, sizeof(old), from->name);
	fl = strlen(old);
	for (b = ms->files; b != NULL; b = b->next) {
		if (!below(b->name, old, fl, 1))
			continue;
		if (str_fmt(tmp, sizeof(tmp), "%s%s", to, b->name + fl) == 0)
			(void)str_copy(b->name, sizeof(b->name), tmp);
	}
	(void)str_copy(from->name, sizeof(from->name), to);
}

static int
m_rename(const struct store *st, const char *from, const char *to, int replace,
    struct store_err *e)
{
	struct mstore *ms = MST(st);
	struct mblob *fb, *tb;
	int rc = -1;

	pthread_mutex_lock(&ms->w->mu);
	if (parents_ok(ms, from, 0, e) == -1 || parents_ok(ms, to, 0, e) == -1)
		goto out;
	if ((fb = find(ms->files, from)) == NULL) {
		store_fail(e, STORE_NOTFOUND, "no such file or directory");
		goto out;
	}
	if ((tb = find(ms->files, to)) != NULL &&
	    replaceable(ms, fb, tb, replace, e) == -1)
		goto out;
	if (fb->is_dir && movable(ms, from, to, e) == -1)
		goto out;
	if (tb != NULL) {
		unlink_blob(&ms->files, tb);
		free_blob(ms->w, tb);
	}
	move_tree(ms, fb, to);
	touched(ms);
	rc = 0;
out:
	pthread_mutex_unlock(&ms->w->mu);
	return rc;
}

static int
m_walk_open(const struct store *st, const char *path, int recursive,
    struct store_walk **wp, struct store_err *e)
{
	struct mstore *ms = MST(st);
	struct mwalk *w;
	struct mblob *b = NULL;
	int rc = -1;

	*wp = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	w->base.st = st;
	w->ms = ms;
	w->recursive = recursive;
	(void)str_copy(w->start, sizeof(w->start), path);
	w->slen = strlen(path);
	pthread_mutex_lock(&ms->w->mu);
	if (path[0] != '\0' && parents_ok(ms, path, 0, e) == -1)
		goto out;
	if (path[0] != '\0' && (b = find(ms->files, path)) == NULL) {
		store_fail(e, STORE_NOTFOUND, "no such file or directory");
		goto out;
	}
	if (b != NULL && !b->is_dir) {
		const char *slash = strrchr(path, '/');

		(void)str_copy(
		    w->out, sizeof(w->out), slash != NULL ? slash + 1 : path);
		entry_fill(&w->one, b);
		w->one.name = w->out;
		w->single = 1;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&ms->w->mu);
	if (rc == -1)
		free(w);
	else
		*wp = &w->base;
	return rc;
}

static int
m_walk_next(struct store_walk *wp, struct store_entry *out, struct store_err *e)
{
	struct mwalk *w = (struct mwalk *)wp;
	struct mblob *b, *best = NULL;

	(void)e;
	if (w->single) {
		w->single = 0;
		*out = w->one;
		return 1;
	}
	if (w->one.name != NULL)
		return 0; /* a walk of a file, given */
	pthread_mutex_lock(&w->ms->w->mu);
	for (b = w->ms->files; b != NULL; b = b->next) {
		if (!below(b->name, w->start, w->slen, w->recursive) ||
		    (w->last[0] != '\0' && path_cmp(b->name, w->last) <= 0))
			continue;
		if (best == NULL || path_cmp(b->name, best->name) < 0)
			best = b;
	}
	if (best != NULL) {
		(void)str_copy(w->last, sizeof(w->last), best->name);
		(void)str_copy(w->out, sizeof(w->out),
		    best->name + (w->slen > 0 ? w->slen + 1 : 0));
		entry_fill(out, best);
		out->name = w->out;
	}
	pthread_mutex_unlock(&w->ms->w->mu);
	return best != NULL;
}

static void
m_walk_close(struct store_walk *w)
{
	free(w);
}

static int
m_flush(const struct store *st, struct store_err *e)
{
	(void)st;
	(void)e;
	return 0;
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
    .lookup = m_lookup,
    .mkdir = m_mkdir,
    .rmdir = m_rmdir,
    .rename = m_rename,
    .walk_open = m_walk_open,
    .walk_next = m_walk_next,
    .walk_close = m_walk_close,
    .flush = m_flush,
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

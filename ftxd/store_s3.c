/*
 * store_s3.c - the S3 storage backend.  See store_s3.h for the layout.
 *
 * A "world" holds what the root store and every user's area share: the
 * client, the bucket's prefix and the claims on partial uploads (one
 * transfer per partial on this node; across nodes the balancer's
 * failover moves a transfer, it does not run it twice).  Every
 * operation is a few requests; nothing is cached but the claims, so
 * several nodes see one namespace.
 *
 * Object stores have no directories: a directory exists while a marker
 * "DIR/" or any key below it does.  This backend keeps the namespace a
 * tree as the POSIX one is: a name is never both a file and a
 * directory, a commit makes the markers of missing parents, and rmdir
 * removes a marker only when nothing is below it.  What S3 cannot do in
 * one step is move a directory: a MOVE of one copies every object and
 * then deletes the old ones (docs/SCALING.md says so).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "hash.h"
#include "path.h"
#include "proto.h"
#include "store_impl.h"
#include "store_s3.h"
#include "str.h"

/* The longest key: the prefix, a user's area, a path. */
#define KEY_MAX (2 * FTX_RPATH_MAX + FTX_USER_MAX + 64)
#define PART_DIR ".ftx/partial/"

struct claim {
	char key[STORE_PKEY_LEN];
	struct claim *next;
};

struct sworld {
	struct s3 *s3;
	char prefix[KEY_MAX]; /* "" or "PREFIX/" */
	pthread_mutex_t mu;
	int refs;
	struct claim *claims;
	uint64_t counter;
};

struct sstore {
	struct store base; /* must be first */
	struct sworld *w;
	char area[KEY_MAX]; /* this area's key prefix */
};

struct sfile {
	struct store_file base; /* must be first */
	struct sworld *w;
	char key[KEY_MAX];
	struct s3_head h;
	/* The stream (s_read_at): bytes [roff, roff + rlen) are in the
	 * ring from rhead; the GET began at `start`.  mu guards the ring
	 * and the flags; the stream thread fills, readers drain. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	int running, stop, done, rc, restarts, overflow;
	uint64_t got; /* bytes the stream has received */
	unsigned char *ring;
	size_t rhead, rlen;
	uint64_t start, roff;
	struct s3_res res;
};

struct sentry {
	char *key; /* relative to the walk's base */
	int is_prefix;
	uint64_t size;
	time_t mtime;
};

/* A walk: a page of the listing at a time; a recursive walk keeps the
 * directories it has given (the key order keeps each one's keys
 * together, so a stack of depth O(path) suffices). */
struct swalk {
	struct store_walk base; /* must be first */
	struct sstore *ss;
	char base_key[KEY_MAX];
	int recursive, single, done;
	struct store_entry one;
	char onename[FTX_NAME_MAX + 1];
	struct sentry *page;
	size_t n, i;
	char token[1024];
	char given[FTX_RPATH_MAX + 2]; /* the innermost directory given */
	char pend[FTX_RPATH_MAX + 1]; /* the entry being expanded */
	char out[FTX_RPATH_MAX + 1];
};

static const struct store_ops s3_ops;

#define SST(st) ((struct sstore *)(st))

static int
res_err(struct store_err *e, const struct s3_res *r, const char *what)
{
	enum store_code c = STORE_IO;

	if (r->status == 404)
		c = STORE_NOTFOUND;
	else if (r->status == 412)
		c = STORE_CHANGED;
	else if (strcmp(r->code, "EntityTooLarge") == 0 ||
	    strcmp(r->code, "QuotaExceeded") == 0)
		c = STORE_NOSPACE;
	return store_fail(e, c, "%s: %s", what, r->msg);
}

static int
key_of(char *out, const struct sstore *ss, const char *path, const char *tail)
{
	return str_fmt(out, KEY_MAX, "%s%s%s", ss->area, path, tail);
}

/* PREFIX/.ftx/partial/KEY/NAME ("" for the directory). */
static int
part_key(char *out, const struct sworld *w, const char *pkey, const char *name)
{
	return str_fmt(
	    out, KEY_MAX, "%s" PART_DIR "%s/%s", w->prefix, pkey, name);
}

/* HEAD, and the tags of an object that has some: a multipart upload's
 * SHA-256 (assemble()), an MD5 computed later (s_meta_put). */
static int
head_meta(
    struct sworld *w, const char *key, struct s3_head *h, struct s3_res *r)
{
	struct s3_res tr;

	if (s3_head(w->s3, key, h, r) == -1)
		return -1;
	if (h->tags > 0)
		(void)s3_tags_get(w->s3, key, h->etag, &h->meta, &tr);
	return 0;
}

/*
 * What is at `path`: 1 a file (h filled if not NULL), 2 a directory,
 * 0 nothing, -1 an error.  "" is the top, always a directory.
 */
static int probe(struct sstore *ss, const char *path, struct s3_head *h,
    struct store_err *e);

struct first {
	int found;
};

static int
first_cb(void *arg, const struct s3_item *it)
{
	struct first *f = arg;

	(void)it;
	f->found = 1;
	return 0;
}

/* Nothing is at `path`: 0, or NOTDIR when a component above it is a
 * file (as a POSIX lookup would say). */
static int
file_above(struct sstore *ss, const char *path, struct store_err *e)
{
	char key[KEY_MAX];
	const char *p;
	struct s3_head h;
	struct s3_res r;

	for (p = strchr(path, '/'); p != NULL; p = strchr(p + 1, '/')) {
		if (str_fmt(key, sizeof(key), "%s%.*s", ss->area,
			(int)(p - path), path) == -1)
			return store_fail(e, STORE_BADPATH, "path too long");
		if (s3_head(ss->w->s3, key, &h, &r) == 0)
			return store_fail(e, STORE_NOTDIR, "%.*s is a file",
			    (int)(p - path), path);
		if (r.status != 404)
			return res_err(e, &r, "s3");
	}
	return 0;
}

static int
probe(
    struct sstore *ss, const char *path, struct s3_head *h, struct store_err *e)
{
	char key[KEY_MAX], next[1024];
	struct first f = {0};
	struct s3_head hh;
	struct s3_res r;

	if (path[0] == '\0')
		return 2;
	if (key_of(key, ss, path, "") == -1)
		return store_fail(e, STORE_BADPATH, "path too long");
	if ((h != NULL ? head_meta(ss->w, key, h, &r)
		       : s3_head(ss->w->s3, key, &hh, &r)) == 0)
		return 1;
	if (r.status != 404)
		return res_err(e, &r, "s3");
	(void)key_of(key, ss, path, "/");
	if (s3_list(ss->w->s3, key, 0, "", 1, first_cb, &f, next, sizeof(next),
		&r) == -1)
		return res_err(e, &r, "s3");
	if (f.found)
		return 2;
	return file_above(ss, path, e);
}

static long long
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static struct sstore *
sstore_new(struct sworld *w, const char *area)
{
	struct sstore *ss;

	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return NULL;
	ss->base.ops = &s3_ops;
	ss->w = w;
	if (str_copy(ss->area, sizeof(ss->area), area) == -1) {
		free(ss);
		return NULL;
	}
	return ss;
}

int
store_s3_open(struct store **stp, const struct s3_conf *conf,
    const char *prefix, struct store_err *e)
{
	char err[FTX_ERRLEN];
	struct sworld *w;
	struct sstore *ss;
	struct s3_res r;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	if (str_fmt(w->prefix, sizeof(w->prefix), "%s%s", prefix,
		prefix[0] != '\0' ? "/" : "") == -1) {
		free(w);
		return store_fail(e, STORE_BADPATH, "s3: prefix too long");
	}
	if (s3_open(&w->s3, conf, err, sizeof(err)) == -1) {
		free(w);
		return store_fail(e, STORE_IO, "%s", err);
	}
	pthread_mutex_init(&w->mu, NULL);
	if (s3_check(w->s3, &r) == -1) {
		s3_close(w->s3);
		pthread_mutex_destroy(&w->mu);
		free(w);
		if (r.status == 404)
			return store_fail(e, STORE_IO,
			    "s3: no bucket %s at %s (ftxd does not create "
			    "buckets)",
			    conf->bucket, conf->endpoint);
		return store_fail(e, STORE_IO, "s3: %s", r.msg);
	}
	if ((ss = sstore_new(w, w->prefix)) == NULL) {
		s3_close(w->s3);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return store_fail(e, STORE_IO, "out of memory");
	}
	w->refs = 1;
	*stp = &ss->base;
	return 0;
}

static int
s_open_sub(const struct store *parent, const char *user, struct store **stp,
    struct store_err *e)
{
	struct sstore *p = SST(parent), *ss;
	char area[KEY_MAX];
	char why[FTX_ERRLEN];

	*stp = NULL;
	/* SECURITY: areas are not nested: a user's area has none. */
	if (strcmp(p->area, p->w->prefix) != 0)
		return store_fail(e, STORE_BADPATH, "areas are not nested");
	/* SECURITY: a user's name is one valid name component, so the
	 * area is a prefix of its own, below .users. */
	if (proto_name_check(user, why, sizeof(why)) == -1)
		return store_fail(e, STORE_BADPATH, "%s", why);
	if (str_fmt(area, sizeof(area), "%s.users/%s/", p->w->prefix, user) ==
	    -1)
		return store_fail(e, STORE_BADPATH, "user name too long");
	if ((ss = sstore_new(p->w, area)) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	pthread_mutex_lock(&p->w->mu);
	p->w->refs++;
	pthread_mutex_unlock(&p->w->mu);
	*stp = &ss->base;
	return 0;
}

static void
s_close(struct store *st)
{
	struct sstore *ss = SST(st);
	struct sworld *w = ss->w;
	int last;

	pthread_mutex_lock(&w->mu);
	last = --w->refs == 0;
	pthread_mutex_unlock(&w->mu);
	free(ss);
	if (!last)
		return;
	s3_close(w->s3);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/*
 * Every page of a listing of `prefix`, each item given with its key
 * relative to the prefix.  Items whose relative key has a component
 * starting with '.' (metadata, users' areas) are left out.
 */
struct lsarg {
	size_t plen;
	int (*cb)(void *arg, const struct s3_item *it, const char *rel);
	void *arg;
};

static int
ls_one(void *arg, const struct s3_item *it)
{
	struct lsarg *a = arg;
	const char *rel = it->key + a->plen;

	if (strlen(it->key) < a->plen || rel[0] == '.' ||
	    strstr(rel, "/.") != NULL)
		return 0;
	return a->cb(a->arg, it, rel);
}

static int
ls_all(struct sworld *w, const char *prefix, int delim,
    int (*cb)(void *arg, const struct s3_item *it, const char *rel), void *arg,
    struct store_err *e)
{
	char token[1024], next[1024];
	struct lsarg a = {strlen(prefix), cb, arg};
	struct s3_res r;

	token[0] = '\0';
	do {
		if (s3_list(w->s3, prefix, delim, token, FTX_S3_LIST_PAGE,
			ls_one, &a, next, sizeof(next), &r) == -1) {
			if (r.status == 0 && strcmp(r.msg, "stopped") == 0)
				return store_fail(
				    e, STORE_TOOMANY, "listing stopped");
			return res_err(e, &r, "s3 listing");
		}
		(void)str_copy(token, sizeof(token), next);
	} while (token[0] != '\0');
	return 0;
}

struct usage {
	const char *except;
	uint64_t bytes;
};

static int
usage_cb(void *arg, const struct s3_item *it, const char *rel)
{
	struct usage *u = arg;
	size_t n = strlen(rel);

	if (n == 0 || rel[n - 1] == '/')
		return 0;
	if (u->except != NULL && strcmp(rel, u->except) == 0)
		return 0;
	u->bytes += it->size;
	return 0;
}

static int
s_usage(const struct store *st, const char *except, uint64_t *bytes,
    struct store_err *e)
{
	struct usage u = {except, 0};

	if (ls_all(SST(st)->w, SST(st)->area, 0, usage_cb, &u, e) == -1)
		return -1;
	*bytes = u.bytes;
	return 0;
}

static int
s_free_bytes(const struct store *st, uint64_t *bytes, struct store_err *e)
{
	(void)st;
	(void)e;
	/* An object store does not run out; a quota is what bounds a
	 * user.  Half of the range, so a caller's sums cannot wrap. */
	*bytes = UINT64_MAX / 2;
	return 0;
}

static int
s_root_stat(const struct store *st, struct store_stat *sb, struct store_err *e)
{
	struct sworld *w = SST(st)->w;
	uint64_t n;

	(void)e;
	/* Another node may change the namespace at any time, and nothing
	 * tells us: every LIST is a fresh one (a version never seen twice,
	 * changed now, so never shared). */
	pthread_mutex_lock(&w->mu);
	n = ++w->counter;
	pthread_mutex_unlock(&w->mu);
	memset(sb, 0, sizeof(*sb));
	(void)str_fmt(sb->version, sizeof(sb->version), "s3 %p %" PRIu64,
	    (const void *)st, n);
	sb->changed_ms = now_ns() / 1000000;
	sb->mtime = time(NULL);
	return 0;
}

struct flat {
	size_t max, n;
	int (*cb)(void *arg, const struct store_entry *e);
	void *arg;
};

static int
flat_cb(void *arg, const struct s3_item *it, const char *rel)
{
	struct flat *f = arg;
	struct store_entry ent;

	if (it->is_prefix || proto_name_check(rel, NULL, 0) == -1)
		return 0;
	if (f->n >= f->max)
		return 0;
	memset(&ent, 0, sizeof(ent));
	ent.name = rel;
	ent.size = it->size;
	ent.mtime = it->mtime;
	f->n++;
	return f->cb(f->arg, &ent);
}

static int
s_list(const struct store *st, size_t max,
    int (*cb)(void *arg, const struct store_entry *e), void *arg,
    struct store_err *e)
{
	struct flat f = {max, 0, cb, arg};

	return ls_all(SST(st)->w, SST(st)->area, 1, flat_cb, &f, e);
}

static int
s_del(const struct store *st, const char *name, struct store_err *e)
{
	struct sstore *ss = SST(st);
	char key[KEY_MAX];
	struct s3_res r;
	int k;

	if ((k = probe(ss, name, NULL, e)) == -1)
		return -1;
	if (k == 0)
		return store_fail(e, STORE_NOTFOUND, "no such file");
	if (k == 2)
		return store_fail(e, STORE_ISDIR, "a directory");
	(void)key_of(key, ss, name, "");
	if (s3_delete(ss->w->s3, key, &r) == -1)
		return res_err(e, &r, "s3 delete");
	return 0;
}

static void
head_entry(struct store_entry *out, const struct s3_head *h)
{
	out->is_dir = 0;
	out->size = h->size;
	out->mtime = h->meta.mtime >= 0 ? (time_t)h->meta.mtime : h->mtime;
	out->has_sha = h->meta.has_sha;
	if (h->meta.has_sha)
		memcpy(out->sha, h->meta.sha, HASH_SHA256_LEN);
}

static int
s_lookup(const struct store *st, const char *path, struct store_entry *out,
    struct store_err *e)
{
	struct s3_head h;
	int k;

	if ((k = probe(SST(st), path, &h, e)) == -1)
		return -1;
	if (k == 0)
		return store_fail(
		    e, STORE_NOTFOUND, "no such file or directory");
	if (k == 2) {
		out->is_dir = 1;
		return 0;
	}
	head_entry(out, &h);
	return 0;
}

static int
put_marker(struct sstore *ss, const char *path, struct store_err *e)
{
	char key[KEY_MAX];
	struct s3_res r;

	if (key_of(key, ss, path, "/") == -1)
		return store_fail(e, STORE_BADPATH, "path too long");
	if (s3_put(ss->w->s3, key, "", 0, NULL, NULL, &r) == -1)
		return res_err(e, &r, "s3 mkdir");
	return 0;
}

/* Make sure every parent of `path` is a directory, making markers for
 * the missing ones (`make`), or failing NOTFOUND for them. */
static int
parents(struct sstore *ss, const char *path, int make, struct store_err *e)
{
	char dir[FTX_RPATH_MAX + 1];
	const char *p;
	size_t n;
	int k;

	for (p = strchr(path, '/'); p != NULL; p = strchr(p + 1, '/')) {
		n = (size_t)(p - path);
		memcpy(dir, path, n);
		dir[n] = '\0';
		if ((k = probe(ss, dir, NULL, e)) == -1)
			return -1;
		if (k == 1)
			return store_fail(e, STORE_NOTDIR, "%s is a file", dir);
		if (k == 0) {
			if (!make)
				return store_fail(
				    e, STORE_NOTFOUND, "no directory %s", dir);
			if (put_marker(ss, dir, e) == -1)
				return -1;
		}
	}
	return 0;
}

static int
s_mkdir(const struct store *st, const char *path, int mkparents,
    struct store_err *e)
{
	struct sstore *ss = SST(st);
	int k;

	if (parents(ss, path, mkparents, e) == -1)
		return -1;
	if ((k = probe(ss, path, NULL, e)) == -1)
		return -1;
	if (k == 1)
		return store_fail(e, mkparents ? STORE_NOTDIR : STORE_EXISTS,
		    "a file has that name");
	if (k == 2)
		return mkparents ? 0 : store_fail(e, STORE_EXISTS, "it exists");
	return put_marker(ss, path, e);
}

struct below {
	const char *marker;
	int other;
};

static int
below_cb(void *arg, const struct s3_item *it)
{
	struct below *b = arg;

	if (strcmp(it->key, b->marker) != 0)
		b->other = 1;
	return 0;
}

static int
s_rmdir(const struct store *st, const char *path, struct store_err *e)
{
	struct sstore *ss = SST(st);
	char key[KEY_MAX], next[1024];
	struct below b = {key, 0};
	struct s3_res r;
	int k;

	if ((k = probe(ss, path, NULL, e)) == -1)
		return -1;
	if (k == 0)
		return store_fail(e, STORE_NOTFOUND, "no such directory");
	if (k == 1)
		return store_fail(e, STORE_NOTDIR, "not a directory");
	(void)key_of(key, ss, path, "/");
	if (s3_list(ss->w->s3, key, 0, "", 2, below_cb, &b, next, sizeof(next),
		&r) == -1)
		return res_err(e, &r, "s3 listing");
	if (b.other)
		return store_fail(e, STORE_NOTEMPTY, "directory not empty");
	if (s3_delete(ss->w->s3, key, &r) == -1)
		return res_err(e, &r, "s3 rmdir");
	return 0;
}

/* Move one object: copy, then delete the old. */
static int
move_key(
    struct sworld *w, const char *from, const char *to, struct store_err *e)
{
	struct s3_res r;

	if (s3_copy(w->s3, from, to, NULL, &r) == -1)
		return res_err(e, &r, "s3 copy");
	if (s3_delete(w->s3, from, &r) == -1)
		return res_err(e, &r, "s3 delete");
	return 0;
}

struct mv {
	struct sworld *w;
	const char *to; /* key prefix, ending in '/' */
	size_t flen;
	const char *from;
	struct store_err *e;
};

static int
mv_cb(void *arg, const struct s3_item *it)
{
	struct mv *m = arg;
	char to[KEY_MAX];

	if (str_fmt(to, sizeof(to), "%s%s", m->to, it->key + m->flen) == -1) {
		(void)store_fail(m->e, STORE_BADPATH, "path too long");
		return -1;
	}
	return move_key(m->w, it->key, to, m->e);
}

/* A directory: every object below it, a page at a time (the listing
 * restarts, as the moved keys are gone from it). */
static int
move_dir(
    struct sstore *ss, const char *from, const char *to, struct store_err *e)
{
	char fk[KEY_MAX], tk[KEY_MAX], next[1024];
	struct mv m = {ss->w, tk, 0, fk, e};
	struct first f;
	struct s3_res r;
	int rounds;

	(void)key_of(fk, ss, from, "/");
	if (key_of(tk, ss, to, "/") == -1)
		return store_fail(e, STORE_BADPATH, "path too long");
	m.flen = strlen(fk);
	for (rounds = 0; rounds < 1000000; rounds++) {
		f.found = 0;
		if (s3_list(ss->w->s3, fk, 0, "", 1, first_cb, &f, next,
			sizeof(next), &r) == -1)
			return res_err(e, &r, "s3 listing");
		if (!f.found)
			return 0;
		if (s3_list(ss->w->s3, fk, 0, "", FTX_S3_LIST_PAGE, mv_cb, &m,
			next, sizeof(next), &r) == -1)
			return e->code != STORE_OK ? -1
						   : res_err(e, &r, "s3 move");
	}
	return store_fail(e, STORE_IO, "s3: a directory too large to move");
}

static int
s_rename(const struct store *st, const char *from, const char *to, int replace,
    struct store_err *e)
{
	struct sstore *ss = SST(st);
	char fk[KEY_MAX], tk[KEY_MAX], parent[FTX_RPATH_MAX + 1];
	struct s3_head h;
	int kf, kt, kp;

	e->code = STORE_OK;
	if ((kf = probe(ss, from, &h, e)) == -1)
		return -1;
	if (kf == 0)
		return store_fail(
		    e, STORE_NOTFOUND, "no such file or directory");
	if (path_parent(parent, sizeof(parent), to) == 0 && parent[0] != '\0') {
		if ((kp = probe(ss, parent, NULL, e)) == -1)
			return -1;
		if (kp == 0)
			return store_fail(
			    e, STORE_NOTFOUND, "no directory %s", parent);
		if (kp == 1)
			return store_fail(
			    e, STORE_NOTDIR, "%s is a file", parent);
	}
	if ((kt = probe(ss, to, NULL, e)) == -1)
		return -1;
	if (kt != 0 && !replace)
		return store_fail(e, STORE_EXISTS, "the target exists");
	if (kf == 1) {
		if (kt == 2)
			return store_fail(e, STORE_ISDIR, "a directory");
		(void)key_of(fk, ss, from, "");
		(void)key_of(tk, ss, to, "");
		/* One copy is at most 5 GiB in S3. */
		if (h.size > 5ULL * 1024 * 1024 * 1024)
			return store_fail(e, STORE_IO,
			    "s3: a file over 5 GiB cannot be renamed here");
		return move_key(ss->w, fk, tk, e);
	}
	if (kt == 1)
		return store_fail(e, STORE_NOTDIR, "the target is a file");
	if (kt == 2) {
		/* Replacing an empty directory: drop its marker. */
		if (s_rmdir(st, to, e) == -1)
			return -1;
	}
	return move_dir(ss, from, to, e);
}

/* ---- walks ---- */

static void
page_free(struct swalk *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->page[i].key);
	free(w->page);
	w->page = NULL;
	w->n = w->i = 0;
}

static int
page_add(void *arg, const struct s3_item *it, const char *rel)
{
	struct swalk *w = arg;
	struct sentry *se = &w->page[w->n];

	if (w->n >= FTX_S3_LIST_PAGE || rel[0] == '\0')
		return 0;
	if ((se->key = strdup(rel)) == NULL)
		return -1;
	se->is_prefix = it->is_prefix;
	se->size = it->size;
	se->mtime = it->mtime;
	w->n++;
	return 0;
}

static int
page_cb(void *arg, const struct s3_item *it)
{
	struct swalk *w = arg;
	size_t plen = strlen(w->base_key);
	const char *rel = it->key + plen;

	if (strlen(it->key) < plen || rel[0] == '.' ||
	    strstr(rel, "/.") != NULL)
		return 0;
	return page_add(w, it, rel);
}

static int
page_next(struct swalk *w, struct store_err *e)
{
	char next[1024];
	struct s3_res r;

	page_free(w);
	if (w->done)
		return 0;
	if ((w->page = calloc(FTX_S3_LIST_PAGE, sizeof(*w->page))) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	if (s3_list(w->ss->w->s3, w->base_key, !w->recursive, w->token,
		FTX_S3_LIST_PAGE, page_cb, w, next, sizeof(next), &r) == -1)
		return res_err(e, &r, "s3 listing");
	(void)str_copy(w->token, sizeof(w->token), next);
	if (next[0] == '\0')
		w->done = 1;
	return 0;
}

static int
s_walk_open(const struct store *st, const char *path, int recursive,
    struct store_walk **wp, struct store_err *e)
{
	struct sstore *ss = SST(st);
	struct swalk *w;
	struct s3_head h;
	int k;

	if ((k = probe(ss, path, &h, e)) == -1)
		return -1;
	if (k == 0)
		return store_fail(
		    e, STORE_NOTFOUND, "no such file or directory");
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	w->base.st = st;
	w->ss = ss;
	w->recursive = recursive;
	if (k == 1) {
		w->single = 1;
		(void)str_copy(w->onename, sizeof(w->onename), path_base(path));
		head_entry(&w->one, &h);
		w->one.name = w->onename;
	} else
		(void)key_of(w->base_key, ss, path, path[0] != '\0' ? "/" : "");
	*wp = &w->base;
	return 0;
}

/* A file's entry: its metadata (mtime, SHA-256) is in its HEAD. */
static int
file_entry(struct swalk *w, const char *rel, struct store_entry *out,
    struct store_err *e)
{
	char key[KEY_MAX];
	struct s3_head h;
	struct s3_res r;

	if (str_fmt(key, sizeof(key), "%s%s", w->base_key, rel) == -1)
		return store_fail(e, STORE_BADPATH, "path too long");
	if (head_meta(w->ss->w, key, &h, &r) == -1)
		return r.status == 404 ? 0 : res_err(e, &r, "s3");
	(void)str_copy(w->out, sizeof(w->out), rel);
	head_entry(out, &h);
	out->name = w->out;
	return 1;
}

/* The next directory of a recursive walk that `rel` (a key relative to
 * the base) lies in and that was not given yet, into w->out: 1, or 0
 * if every one has been. */
static int
next_dir(struct swalk *w, const char *rel)
{
	const char *p;
	size_t n, glen;

	for (p = strchr(rel, '/'); p != NULL; p = strchr(p + 1, '/')) {
		n = (size_t)(p - rel);
		glen = strlen(w->given);
		/* Given already: `given` starts with rel[0..n] + '/'. */
		if (glen > n && strncmp(w->given, rel, n) == 0 &&
		    w->given[n] == '/')
			continue;
		if (n >= sizeof(w->out))
			return 0;
		memcpy(w->out, rel, n);
		w->out[n] = '\0';
		(void)str_fmt(w->given, sizeof(w->given), "%s/", w->out);
		return 1;
	}
	return 0;
}

static int
s_walk_next(struct store_walk *wp, struct store_entry *out, struct store_err *e)
{
	struct swalk *w = (struct swalk *)wp;
	struct sentry *se;
	size_t n;
	int k;

	memset(out, 0, sizeof(*out));
	if (w->single) {
		if (w->single == 2)
			return 0;
		w->single = 2;
		*out = w->one;
		return 1;
	}
	for (;;) {
		if (w->i >= w->n) {
			if (w->done)
				return 0;
			if (page_next(w, e) == -1)
				return -1;
			continue;
		}
		se = &w->page[w->i];
		/* SECURITY: only keys that make valid paths, no deeper than
		 * the limit, are part of the namespace. */
		n = strlen(se->key);
		if (n > FTX_RPATH_MAX + 1 ||
		    path_depth(se->key) > FTX_RPATH_DEPTH_MAX) {
			w->i++;
			continue;
		}
		if (w->recursive && next_dir(w, se->key)) {
			if (path_check(w->out, NULL, 0) == -1)
				w->i++;
			else {
				out->is_dir = 1;
				out->name = w->out;
				return 1;
			}
			continue;
		}
		w->i++;
		if (se->key[n - 1] == '/') {
			/* A directory: a common prefix, or a marker. */
			if (w->recursive || n - 1 >= sizeof(w->out))
				continue;
			memcpy(w->out, se->key, n - 1);
			w->out[n - 1] = '\0';
			if (path_check(w->out, NULL, 0) == -1)
				continue;
			out->is_dir = 1;
			out->name = w->out;
			return 1;
		}
		if (path_check(se->key, NULL, 0) == -1)
			continue;
		if ((k = file_entry(w, se->key, out, e)) != 0)
			return k;
	}
}

static void
s_walk_close(struct store_walk *wp)
{
	struct swalk *w = (struct swalk *)wp;

	page_free(w);
	free(w);
}

static int
s_flush(const struct store *st, struct store_err *e)
{
	(void)st;
	(void)e;
	/* An object is durable when the store answers the PUT. */
	return 0;
}

/* ---- reading ---- */

static int
s_read_open(const struct store *st, const char *name, struct store_file **fp,
    struct store_stat *sb, struct store_err *e)
{
	struct sstore *ss = SST(st);
	struct sfile *f;
	int k;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	if ((k = probe(ss, name, &f->h, e)) != 1) {
		free(f);
		if (k == 0)
			return store_fail(e, STORE_NOTFOUND, "no such file");
		if (k == 2)
			return store_fail(e, STORE_ISDIR, "a directory");
		return -1;
	}
	(void)key_of(f->key, ss, name, "");
	f->base.st = st;
	f->base.size = f->h.size;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->w = ss->w;
	memset(sb, 0, sizeof(*sb));
	sb->size = f->h.size;
	sb->mtime = f->h.meta.mtime >= 0 ? (time_t)f->h.meta.mtime : f->h.mtime;
	(void)str_fmt(sb->version, sizeof(sb->version), "%" PRIu64 " %s",
	    f->h.size, f->h.etag);
	*fp = &f->base;
	return 0;
}

/*
 * Reads are one streaming GET from the offset asked to the end, on a
 * thread of its own, into a ring of FTX_S3_PART bytes: one request per
 * download, as curl would make, the store's bytes arriving while the
 * last ones are sent.  A full ring holds the stream back (the client
 * sets the pace); a read elsewhere than where the stream is starts a
 * new one there.  The GET names the version opened (If-Match), so a
 * file replaced meanwhile fails CHANGED instead of mixing two versions.
 */
static int
ring_sink(void *arg, const void *src, size_t n)
{
	struct sfile *f = arg;
	const unsigned char *b = src;
	size_t c, tail;

	pthread_mutex_lock(&f->mu);
	/* SECURITY: a store that sends more than the object holds is
	 * lying about something: the download fails. */
	if (n > f->h.size - f->start - f->got) {
		f->overflow = 1;
		pthread_mutex_unlock(&f->mu);
		return -1;
	}
	f->got += n;
	while (n > 0) {
		while (f->rlen == FTX_S3_PART && !f->stop)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop) {
			pthread_mutex_unlock(&f->mu);
			return -1;
		}
		tail = (f->rhead + f->rlen) % FTX_S3_PART;
		c = FTX_S3_PART - f->rlen;
		if (c > FTX_S3_PART - tail)
			c = FTX_S3_PART - tail;
		if (c > n)
			c = n;
		memcpy(f->ring + tail, b, c);
		f->rlen += c;
		b += c;
		n -= c;
		pthread_cond_broadcast(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static void *
stream_run(void *arg)
{
	struct sfile *f = arg;
	struct s3_res r;
	int rc;

	rc = s3_get_stream(
	    f->w->s3, f->key, f->start, f->h.etag, ring_sink, f, &r);
	pthread_mutex_lock(&f->mu);
	f->done = 1;
	f->rc = rc;
	f->res = r;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

static void
stream_stop(struct sfile *f)
{
	if (!f->running)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->th, NULL);
	f->running = 0;
}

static int
stream_start(struct sfile *f, uint64_t off, struct store_err *e)
{
	stream_stop(f);
	if (f->ring == NULL && (f->ring = malloc(FTX_S3_PART)) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	f->start = f->roff = off;
	f->rhead = f->rlen = 0;
	f->got = 0;
	f->done = f->stop = f->rc = f->overflow = 0;
	if (pthread_create(&f->th, NULL, stream_run, f) != 0)
		return store_fail(e, STORE_IO, "cannot start a thread");
	f->running = 1;
	return 0;
}

static ssize_t
s_read_at(struct store_file *fp, void *buf, size_t n, uint64_t off,
    struct store_err *e)
{
	struct sfile *f = (struct sfile *)fp;
	int broke;
	size_t c;

	if (off >= f->h.size || n == 0)
		return 0;
	if (!f->running || off != f->roff) {
		if (stream_start(f, off, e) == -1)
			return -1;
	}
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (f->rlen == 0 && !f->done)
			pthread_cond_wait(&f->cv, &f->mu);
		/* A stream that broke where it was is started again there,
		 * a few times: a store may close a long-lived connection.
		 * An answer that is an error (412 for a replaced file, a
		 * 500) is the store's word: it fails the read. */
		broke = f->rlen == 0 && f->rc == -1 && !f->overflow &&
		    (f->res.status == 0 ||
			(f->res.status >= 200 && f->res.status <= 299)) &&
		    f->restarts < 3;
		if (!broke)
			break;
		pthread_mutex_unlock(&f->mu);
		f->restarts++;
		if (stream_start(f, off, e) == -1)
			return -1;
		pthread_mutex_lock(&f->mu);
	}
	if (f->rlen == 0) {
		pthread_mutex_unlock(&f->mu);
		if (f->rc == -1)
			return res_err(e, &f->res, "s3 read");
		return 0;
	}
	c = f->rlen < n ? f->rlen : n;
	if (c > FTX_S3_PART - f->rhead)
		c = FTX_S3_PART - f->rhead;
	/* The last bytes are given only once the GET has ended as it
	 * should: an answer longer than the object fails here. */
	while (f->roff + c == f->h.size && !f->done)
		pthread_cond_wait(&f->cv, &f->mu);
	if (f->overflow) {
		pthread_mutex_unlock(&f->mu);
		return store_fail(e, STORE_IO,
		    "s3 read: the store sent more than the object holds");
	}
	memcpy(buf, f->ring + f->rhead, c);
	f->rhead = (f->rhead + c) % FTX_S3_PART;
	f->rlen -= c;
	f->roff += c;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return (ssize_t)c;
}

static void
s_read_close(struct store_file *fp)
{
	struct sfile *f = (struct sfile *)fp;

	stream_stop(f);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f->ring);
	free(f);
}

static int
s_meta_get(const struct store_file *fp, unsigned char *sha, unsigned char *md5,
    int *has_md5)
{
	const struct sfile *f = (const struct sfile *)fp;

	if (!f->h.meta.has_sha)
		return -1;
	memcpy(sha, f->h.meta.sha, HASH_SHA256_LEN);
	if (has_md5 != NULL)
		*has_md5 = f->h.meta.has_md5;
	if (md5 != NULL && f->h.meta.has_md5)
		memcpy(md5, f->h.meta.md5, HASH_MD5_LEN);
	return 0;
}

/* Cache an MD5 (or a SHA-256 computed now) as tags bound to the version
 * read: tagging does not copy the object, nor change its ETag. */
static void
s_meta_put(
    struct store_file *fp, const unsigned char *sha, const unsigned char *md5)
{
	struct sfile *f = (struct sfile *)fp;
	struct s3_meta m = f->h.meta;
	struct s3_res r;

	if (m.has_sha && memcmp(m.sha, sha, HASH_SHA256_LEN) == 0 &&
	    (md5 == NULL || m.has_md5))
		return;
	m.has_sha = 1;
	memcpy(m.sha, sha, HASH_SHA256_LEN);
	if (md5 != NULL) {
		m.has_md5 = 1;
		memcpy(m.md5, md5, HASH_MD5_LEN);
	}
	if (s3_tags_put(f->w->s3, f->key, f->h.etag, &m, &r) == 0)
		f->h.meta = m;
}

/* ---- partial uploads ----
 *
 * A partial is written where its file will be: a multipart upload of
 * the final object (its name comes with store_part_hint), one part per
 * FTX_S3_PART bytes.  The parts cannot be read back, so after each one
 * the partial's record is stored: PREFIX/.ftx/partial/KEY/state-OFFSET
 * (OFFSET, in hex, is the bytes in the parts) holding the upload's id,
 * target, the parts' ETags and the SHA-256 state after them.  A cut
 * stores the bytes past the last part as PREFIX/.ftx/partial/KEY/tail.
 * A resume on any node reads both, and continues the upload and the
 * hash (store_part_hash_state) without reading a byte again.  Files of
 * one piece never start a multipart upload: one PUT at the commit.
 */

#define STATE_MAGIC "ftx-s3-partial 1"

struct spart;

/* A part in flight. */
struct slot {
	struct spart *p;
	pthread_t th;
	int busy, joinable, rc;
	unsigned char *b;
	size_t len;
	int partno;
	uint64_t end; /* the upload's kept bytes once it has landed */
	unsigned char state[HASH_STATE_LEN]; /* the hash after it */
	struct store_err err;
};

struct spart {
	struct store_part base; /* must be first */
	struct sstore *ss;
	char key[STORE_PKEY_LEN];
	char target[KEY_MAX]; /* the multipart upload's key */
	char uid[512]; /* "" until the first part */
	char (*etags)[FTX_S3_ETAG_MAX];
	int nparts;
	uint64_t state_off; /* the bytes in the stored parts */
	int has_state; /* a state-OFFSET object exists */
	int has_tail; /* a tail object exists (a resume read it) */
	long long mtime; /* hinted, -1 if none */
	struct hash_ctx *hc; /* every byte written, in order */
	unsigned char *b; /* the bytes past the parts (from boff) */
	size_t blen;
	uint64_t boff; /* state_off, plus the part in flight */
	int committed;
	/* Parts in flight, each uploaded on its own thread while the next
	 * fills (FTX_S3_INFLIGHT more buffers of FTX_S3_PART bytes). */
	struct slot slots[FTX_S3_INFLIGHT];
	int next; /* the slot to fill next: the oldest in flight */
	int handed; /* parts given to slots: nparts and those in flight */
	int failed; /* a part failed: this upload cannot complete */
};

/* What is kept of partial `key`, from a listing of its objects. */
struct kept {
	size_t plen;
	int has_state, has_tail;
	uint64_t state_off, tail;
	time_t mtime;
};

static int
kept_cb(void *arg, const struct s3_item *it)
{
	struct kept *k = arg;
	const char *name = it->key + k->plen;
	char *end;
	unsigned long long off;

	if (strcmp(name, "tail") == 0) {
		k->has_tail = 1;
		k->tail = it->size;
	} else if (strncmp(name, "state-", 6) == 0 && strlen(name) == 22 &&
	    strspn(name + 6, "0123456789abcdef") == 16) {
		errno = 0;
		off = strtoull(name + 6, &end, 16);
		if (errno != 0 || *end != '\0')
			return 0;
		/* Two records only if a crash fell between writing the
		 * new one and deleting the old: the newer is right. */
		if (!k->has_state || off > k->state_off)
			k->state_off = off;
		k->has_state = 1;
	} else
		return 0;
	if (it->mtime > k->mtime)
		k->mtime = it->mtime;
	return 0;
}

static int
kept_get(struct sworld *w, const char *key, struct kept *k, struct store_err *e)
{
	char prefix[KEY_MAX], next[1024];
	struct s3_res r;

	memset(k, 0, sizeof(*k));
	(void)part_key(prefix, w, key, "");
	k->plen = strlen(prefix);
	/* A partial has at most three objects: one page. */
	if (s3_list(w->s3, prefix, 0, "", 16, kept_cb, k, next, sizeof(next),
		&r) == -1)
		return res_err(e, &r, "s3 listing");
	return 0;
}

static int
s_partial_size(const struct store *st, const char *key, uint64_t *size,
    struct store_err *e)
{
	struct kept k;

	if (kept_get(SST(st)->w, key, &k, e) == -1)
		return -1;
	*size = k.state_off + k.tail;
	return 0;
}

static int
claim(struct sworld *w, const char *key)
{
	struct claim *c;

	pthread_mutex_lock(&w->mu);
	for (c = w->claims; c != NULL; c = c->next)
		if (strcmp(c->key, key) == 0) {
			pthread_mutex_unlock(&w->mu);
			return 0;
		}
	if ((c = calloc(1, sizeof(*c))) != NULL) {
		(void)str_copy(c->key, sizeof(c->key), key);
		c->next = w->claims;
		w->claims = c;
	}
	pthread_mutex_unlock(&w->mu);
	return c != NULL ? 1 : -1;
}

static void
unclaim(struct sworld *w, const char *key)
{
	struct claim **pp, *c;

	pthread_mutex_lock(&w->mu);
	for (pp = &w->claims; (c = *pp) != NULL; pp = &c->next)
		if (strcmp(c->key, key) == 0) {
			*pp = c->next;
			free(c);
			break;
		}
	pthread_mutex_unlock(&w->mu);
}

static int
state_name(char *out, const struct sworld *w, const char *key, uint64_t off)
{
	char name[32];

	(void)str_fmt(name, sizeof(name), "state-%016" PRIx64, off);
	return part_key(out, w, key, name);
}

/* The record: magic, target, upload id, hash state, parts' ETags. */
static int
state_text(struct spart *p, const unsigned char *st, struct buf *t)
{
	char hex[2 * HASH_STATE_LEN + 1];
	int i;

	str_hex(hex, st, HASH_STATE_LEN);
	if (buf_printf(t, "%s\n%s\n%s\n%s\n", STATE_MAGIC, p->target, p->uid,
		hex) == -1)
		return -1;
	for (i = 0; i < p->nparts; i++)
		if (buf_printf(t, "%s\n", p->etags[i]) == -1)
			return -1;
	return 0;
}

/* Store the record for the parts so far, then drop the older one. */
static int
state_put(struct spart *p, const unsigned char *st, uint64_t old, int had,
    struct store_err *e)
{
	struct sworld *w = p->ss->w;
	char k[KEY_MAX];
	struct s3_res r;
	struct buf t;

	buf_init(&t,
	    (size_t)FTX_S3_PARTS_MAX * (FTX_S3_ETAG_MAX + 1) + KEY_MAX + 2048);
	if (state_text(p, st, &t) == -1) {
		buf_free(&t);
		return store_fail(e, STORE_IO, "cannot record the upload");
	}
	(void)state_name(k, w, p->key, p->state_off);
	if (s3_put(w->s3, k, buf_head(&t), t.len, NULL, NULL, &r) == -1) {
		buf_free(&t);
		return res_err(e, &r, "s3 write");
	}
	buf_free(&t);
	if (had && old != p->state_off) {
		(void)state_name(k, w, p->key, old);
		(void)s3_delete(w->s3, k, &r);
	}
	p->has_state = 1;
	return 0;
}

/* One line of the record, NUL-terminated in place; NULL at the end. */
static char *
line_next(char **cur)
{
	char *l = *cur, *nl;

	if (l == NULL || *l == '\0')
		return NULL;
	if ((nl = strchr(l, '\n')) == NULL)
		return NULL;
	*nl = '\0';
	*cur = nl + 1;
	return l;
}

/* Read the record at `off` into p: target, upload id, ETags, hash. */
static int
state_load(struct spart *p, uint64_t off, struct store_err *e)
{
	struct sworld *w = p->ss->w;
	unsigned char st[HASH_STATE_LEN];
	size_t cap = (size_t)FTX_S3_PARTS_MAX * (FTX_S3_ETAG_MAX + 1) +
	    KEY_MAX + 2048,
	       got;
	char k[KEY_MAX], *text, *cur, *l;
	struct s3_res r;
	int rc = -1, i;

	if ((text = malloc(cap + 1)) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	(void)state_name(k, w, p->key, off);
	if (s3_get(w->s3, k, 0, cap, NULL, text, &got, &r) == -1) {
		res_err(e, &r, "s3 read");
		goto out;
	}
	text[got] = '\0';
	cur = text;
	/* SECURITY: the record is checked as any input: its magic, the
	 * target inside our prefix, the state one SHA-256 can be in, and
	 * one part per FTX_S3_PART bytes. */
	if ((l = line_next(&cur)) == NULL || strcmp(l, STATE_MAGIC) != 0 ||
	    (l = line_next(&cur)) == NULL ||
	    strncmp(l, w->prefix, strlen(w->prefix)) != 0 ||
	    str_copy(p->target, sizeof(p->target), l) == -1 ||
	    (l = line_next(&cur)) == NULL ||
	    str_copy(p->uid, sizeof(p->uid), l) == -1 ||
	    (l = line_next(&cur)) == NULL || strlen(l) != 2 * HASH_STATE_LEN ||
	    str_unhex(st, sizeof(st), l) == -1 ||
	    hash_state_load(p->hc, st) == -1)
		goto bad;
	for (i = 0; (l = line_next(&cur)) != NULL; i++) {
		if (i >= FTX_S3_PARTS_MAX ||
		    str_copy(p->etags[i], sizeof(p->etags[i]), l) == -1)
			goto bad;
	}
	if ((uint64_t)i * FTX_S3_PART != off || (i > 0) != (p->uid[0] != '\0'))
		goto bad;
	p->nparts = p->handed = i;
	p->state_off = off;
	p->has_state = 1;
	rc = 0;
	goto out;
bad:
	store_fail(e, STORE_RANGE, "the partial's record is damaged");
out:
	free(text);
	return rc;
}

/* Delete every object of partial `key` and abort its upload. */
static int
partial_wipe(struct sworld *w, const char *key, struct store_err *e)
{
	struct spart tmp;
	struct kept k;
	char o[KEY_MAX];
	struct s3_res r;

	if (kept_get(w, key, &k, e) == -1)
		return -1;
	if (k.has_state) {
		memset(&tmp, 0, sizeof(tmp));
		tmp.ss = NULL;
		(void)str_copy(tmp.key, sizeof(tmp.key), key);
		if ((tmp.etags = calloc(
			 FTX_S3_PARTS_MAX, sizeof(*tmp.etags))) != NULL &&
		    (tmp.hc = hash_new(HASH_SHA256, NULL, 0)) != NULL) {
			struct sstore fake;

			memset(&fake, 0, sizeof(fake));
			fake.w = w;
			tmp.ss = &fake;
			if (state_load(&tmp, k.state_off, e) == 0 &&
			    tmp.uid[0] != '\0')
				(void)s3_mp_abort(
				    w->s3, tmp.target, tmp.uid, &r);
		}
		hash_free(tmp.hc);
		free(tmp.etags);
		(void)state_name(o, w, key, k.state_off);
		if (s3_delete(w->s3, o, &r) == -1)
			return res_err(e, &r, "s3 delete");
	}
	if (k.has_tail) {
		(void)part_key(o, w, key, "tail");
		if (s3_delete(w->s3, o, &r) == -1)
			return res_err(e, &r, "s3 delete");
	}
	return 0;
}

/*
 * Open a partial keeping `offset` bytes: the parts stay, the tail's
 * first bytes come back into the buffer, the hash continues from the
 * record.  A resume cannot cut into the stored parts (STORE_RANGE);
 * ftxd resumes at what store_partial_size said, past them.
 */
static int
part_load(struct spart *p, uint64_t offset, struct store_err *e)
{
	struct sworld *w = p->ss->w;
	char k[KEY_MAX];
	struct kept kp;
	struct s3_res r;
	size_t got, want;

	if (kept_get(w, p->key, &kp, e) == -1)
		return -1;
	if (offset == 0)
		return kp.has_state || kp.has_tail ? partial_wipe(w, p->key, e)
						   : 0;
	if (offset > kp.state_off + kp.tail)
		return store_fail(e, STORE_RANGE, "only %" PRIu64 " bytes kept",
		    kp.state_off + kp.tail);
	if (offset < kp.state_off)
		return store_fail(e, STORE_RANGE,
		    "a resume from %" PRIu64 " would cut a stored part",
		    offset);
	/* SECURITY: the tail is read into a buffer of FTX_S3_PART bytes;
	 * one larger is none this backend wrote. */
	if (offset - kp.state_off > FTX_S3_PART)
		return store_fail(
		    e, STORE_RANGE, "the partial's tail is larger than a part");
	if (kp.has_state && state_load(p, kp.state_off, e) == -1)
		return -1;
	if (offset == kp.state_off && kp.has_tail) {
		/* Nothing of the tail is kept. */
		(void)part_key(k, w, p->key, "tail");
		if (s3_delete(w->s3, k, &r) == -1)
			return res_err(e, &r, "s3 delete");
	}
	p->boff = p->state_off;
	want = (size_t)(offset - kp.state_off);
	if (want > 0) {
		(void)part_key(k, w, p->key, "tail");
		if (s3_get(w->s3, k, 0, want, NULL, p->b, &got, &r) == -1)
			return res_err(e, &r, "s3 read");
		if (got != want)
			return store_fail(e, STORE_RANGE, "the tail shrank");
		p->blen = want;
		p->has_tail = 1;
		/* Cut back: the tail keeps exactly what was asked for, as
		 * the kept size must say from now on. */
		if (want < kp.tail &&
		    s3_put(w->s3, k, p->b, want, NULL, NULL, &r) == -1)
			return res_err(e, &r, "s3 write");
		if (hash_update(p->hc, p->b, want) == -1)
			return store_fail(e, STORE_IO, "hashing failed");
	}
	return 0;
}

static void
spart_free(struct spart *p)
{
	int i;

	hash_free(p->hc);
	free(p->etags);
	for (i = 0; i < FTX_S3_INFLIGHT; i++)
		free(p->slots[i].b);
	free(p->b);
	free(p);
}

static int
s_part_open(const struct store *st, const char *key, uint64_t offset,
    struct store_part **wp, struct store_err *e)
{
	struct sstore *ss = SST(st);
	struct spart *p;
	int c;

	*wp = NULL;
	if ((c = claim(ss->w, key)) != 1)
		return store_fail(e, c == 0 ? STORE_BUSY : STORE_IO,
		    c == 0 ? "another transfer holds this upload"
			   : "out of memory");
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->b = malloc(FTX_S3_PART)) == NULL ||
	    (p->etags = calloc(FTX_S3_PARTS_MAX, sizeof(*p->etags))) == NULL ||
	    (p->hc = hash_new(HASH_SHA256, NULL, 0)) == NULL) {
		if (p != NULL)
			spart_free(p);
		unclaim(ss->w, key);
		return store_fail(e, STORE_IO, "out of memory");
	}
	p->base.st = st;
	p->ss = ss;
	p->mtime = -1;
	(void)str_copy(p->key, sizeof(p->key), key);
	/* Without a hint the upload goes beside the record; the commit
	 * then copies it to its name. */
	(void)part_key(p->target, ss->w, key, "data");
	if (part_load(p, offset, e) == -1) {
		unclaim(ss->w, key);
		spart_free(p);
		return -1;
	}
	*wp = &p->base;
	return 0;
}

static void
s_part_hint(struct store_part *wp, const char *name, const unsigned char *sha,
    time_t mtime)
{
	struct spart *p = (struct spart *)wp;

	(void)sha;
	p->mtime = mtime == (time_t)-1 ? -1 : (long long)mtime;
	/* An upload begun already keeps its target. */
	if (p->uid[0] == '\0' && path_check(name, NULL, 0) == 0)
		(void)key_of(p->target, p->ss, name, "");
}

static int
s_part_hash_state(struct store_part *wp, unsigned char *state)
{
	return hash_state_save(((struct spart *)wp)->hc, state);
}

/* One part on its own thread: the upload alone (records are written in
 * order, by the writer, as parts land). */
static void *
part_run(void *arg)
{
	struct slot *sl = arg;
	struct spart *p = sl->p;
	struct s3_res r;

	sl->rc = 0;
	if (s3_mp_put(p->ss->w->s3, p->target, p->uid, sl->partno, sl->b,
		sl->len, NULL, p->etags[sl->partno - 1], sizeof(p->etags[0]),
		&r) == -1) {
		res_err(&sl->err, &r, "s3 write");
		sl->rc = -1;
	}
	return NULL;
}

/* The oldest part in flight has landed: wait for it, count it and store
 * the record that says so (in order: parts land in any order). */
static int
part_land(struct spart *p, struct slot *sl, struct store_err *e)
{
	struct sworld *w = p->ss->w;
	uint64_t old = p->state_off;
	struct s3_res r;
	char k[KEY_MAX];

	if (sl->joinable)
		pthread_join(sl->th, NULL);
	sl->busy = 0;
	if (sl->rc == -1) {
		*e = sl->err;
		p->failed = 1;
		return -1;
	}
	if (p->failed)
		return store_fail(e, STORE_IO, "s3: an earlier part failed");
	p->nparts = sl->partno;
	p->state_off = sl->end;
	if (state_put(p, sl->state, old, p->has_state, e) == -1) {
		p->failed = 1;
		return -1;
	}
	/* A tail a resume read back is in a recorded part now: gone, or
	 * it would be counted again. */
	if (p->has_tail) {
		(void)part_key(k, w, p->key, "tail");
		if (s3_delete(w->s3, k, &r) == 0)
			p->has_tail = 0;
	}
	return 0;
}

/* Wait for every part in flight, oldest first. */
static int
part_wait(struct spart *p, struct store_err *e)
{
	int i, rc = 0;

	for (i = 0; i < FTX_S3_INFLIGHT; i++) {
		struct slot *sl = &p->slots[(p->next + i) % FTX_S3_INFLIGHT];

		if (sl->busy && part_land(p, sl, e) == -1)
			rc = -1;
	}
	return rc == -1 || p->failed ? -1 : 0;
}

/*
 * The buffer is full: it becomes a part in flight, in the next slot
 * (waiting for that slot's earlier part if it is still going).  Up to
 * FTX_S3_INFLIGHT parts go at once while the next fills: the store
 * takes parts in parallel, and the client's connection keeps moving.
 */
static int
part_flush(struct spart *p, struct store_err *e)
{
	struct slot *sl = &p->slots[p->next];
	struct sworld *w = p->ss->w;
	struct s3_meta m;
	struct s3_res r;
	unsigned char *t;

	if (sl->busy && part_land(p, sl, e) == -1)
		return -1;
	if (p->handed >= FTX_S3_PARTS_MAX)
		return store_fail(e, STORE_NOSPACE,
		    "s3: a file over %d parts of %d bytes", FTX_S3_PARTS_MAX,
		    FTX_S3_PART);
	if (sl->b == NULL && (sl->b = malloc(FTX_S3_PART)) == NULL)
		return store_fail(e, STORE_IO, "out of memory");
	if (p->uid[0] == '\0') {
		memset(&m, 0, sizeof(m));
		m.mtime = p->mtime;
		if (s3_mp_begin(
			w->s3, p->target, &m, p->uid, sizeof(p->uid), &r) == -1)
			return res_err(e, &r, "s3 multipart");
	}
	if (hash_state_save(p->hc, sl->state) == -1)
		return store_fail(e, STORE_IO, "hashing failed");
	t = sl->b;
	sl->b = p->b;
	p->b = t;
	sl->len = p->blen;
	sl->partno = ++p->handed;
	p->boff += p->blen;
	sl->end = p->boff;
	p->blen = 0;
	sl->p = p;
	p->next = (p->next + 1) % FTX_S3_INFLIGHT;
	sl->busy = 1;
	sl->joinable = pthread_create(&sl->th, NULL, part_run, sl) == 0;
	/* No thread: upload it here; it lands in its turn. */
	if (!sl->joinable)
		(void)part_run(sl);
	return 0;
}

static int
s_part_write_at(struct store_part *wp, const void *buf, size_t n, uint64_t off,
    struct store_err *e)
{
	struct spart *p = (struct spart *)wp;
	const unsigned char *b = buf;
	size_t take;

	/* Uploads are written in order: the parts are sequential. */
	if (off != p->boff + p->blen)
		return store_fail(e, STORE_IO,
		    "s3: a write out of order (at %" PRIu64 ")", off);
	while (n > 0) {
		take = FTX_S3_PART - p->blen;
		if (take > n)
			take = n;
		/* The record's hash state must be that of the parts
		 * alone: hash up to the end of this part, no further. */
		if (hash_update(p->hc, b, take) == -1)
			return store_fail(e, STORE_IO, "hashing failed");
		memcpy(p->b + p->blen, b, take);
		p->blen += take;
		b += take;
		n -= take;
		if (p->blen == FTX_S3_PART && part_flush(p, e) == -1)
			return -1;
	}
	return 0;
}

static ssize_t
s_part_read_at(struct store_part *wp, void *buf, size_t n, uint64_t off,
    struct store_err *e)
{
	struct spart *p = (struct spart *)wp;

	/* Only the buffer can be read: store_part_hash_state stands in
	 * for reading the parts. */
	if (off < p->boff)
		return store_fail(
		    e, STORE_IO, "s3: the stored parts cannot be read back");
	if (off >= p->boff + p->blen)
		return 0;
	if (n > p->boff + p->blen - off)
		n = (size_t)(p->boff + p->blen - off);
	memcpy(buf, p->b + (off - p->boff), n);
	return (ssize_t)n;
}

/*
 * Make the object: one PUT of a file that is all in the buffer, else
 * the last part and CompleteMultipartUpload, which the store makes
 * visible in one step; its SHA-256 goes into tags bound to the ETag
 * the completion answered (a multipart upload's metadata is fixed
 * before the hash is known).  The body's hash on the wire is the
 * store's own of the bytes (p->hc), so the store checks what arrived;
 * the caller's SHA-256 (verified by the transfer) is what is recorded.
 */
static int
assemble(struct spart *p, const char *key, const struct s3_meta *m,
    struct store_err *e)
{
	struct sworld *w = p->ss->w;
	unsigned char own[HASH_SHA256_LEN];
	char etag[FTX_S3_ETAG_MAX];
	struct s3_res r;

	if (part_wait(p, e) == -1)
		return -1;
	if (p->uid[0] == '\0') {
		if (hash_final(p->hc, own) == -1)
			return store_fail(e, STORE_IO, "hashing failed");
		if (s3_put(w->s3, key, p->b, p->blen, own, m, &r) == -1)
			return res_err(e, &r, "s3 write");
		return 0;
	}
	if (p->blen > 0) {
		if (s3_mp_put(w->s3, p->target, p->uid, p->nparts + 1, p->b,
			p->blen, NULL, p->etags[p->nparts], sizeof(p->etags[0]),
			&r) == -1)
			return res_err(e, &r, "s3 write");
		p->nparts++;
		p->handed++;
		p->blen = 0;
	}
	if (s3_mp_end(w->s3, p->target, p->uid, p->etags, p->nparts, etag,
		sizeof(etag), &r) == -1)
		return res_err(e, &r, "s3 multipart");
	p->uid[0] = '\0';
	if (strcmp(p->target, key) != 0) {
		/* Committed under another name than hinted: the copy
		 * takes the metadata, as a PUT would. */
		if (s3_copy(w->s3, p->target, key, m, &r) == -1)
			return res_err(e, &r, "s3 copy");
		(void)s3_delete(w->s3, p->target, &r);
		return 0;
	}
	/* Visible already: a failed tagging costs a re-hash, no more. */
	(void)s3_tags_put(w->s3, key, etag, m, &r);
	return 0;
}

static int
s_part_commit(struct store_part *wp, const char *name, const unsigned char *sha,
    time_t mtime, unsigned flags, struct store_err *e)
{
	struct spart *p = (struct spart *)wp;
	struct sstore *ss = p->ss;
	struct s3_meta m;
	char key[KEY_MAX];
	struct s3_res r;
	int k;

	(void)flags;
	if (parents(ss, name, 1, e) == -1)
		return -1;
	if ((k = probe(ss, name, NULL, e)) == -1)
		return -1;
	if (k == 2)
		return store_fail(e, STORE_ISDIR, "a directory has that name");
	if (key_of(key, ss, name, "") == -1)
		return store_fail(e, STORE_BADPATH, "path too long");
	memset(&m, 0, sizeof(m));
	m.has_sha = 1;
	memcpy(m.sha, sha, HASH_SHA256_LEN);
	m.mtime =
	    mtime == (time_t)-1 ? (long long)time(NULL) : (long long)mtime;
	if (assemble(p, key, &m, e) == -1)
		return -1;
	p->committed = 1;
	/* The record and tail are history now (the upload is complete, no
	 * abort); a failure to delete them leaves them to the sweep. */
	if (p->has_state) {
		(void)state_name(key, ss->w, p->key, p->state_off);
		(void)s3_delete(ss->w->s3, key, &r);
	}
	if (p->has_tail) {
		(void)part_key(key, ss->w, p->key, "tail");
		(void)s3_delete(ss->w->s3, key, &r);
	}
	return 0;
}

static void
s_part_close(struct store_part *wp, int keep)
{
	struct spart *p = (struct spart *)wp;
	struct sworld *w = p->ss->w;
	struct store_err e;
	struct s3_res r;
	char k[KEY_MAX];
	int landed;

	/* The part in flight lands (or fails) first: its record is what a
	 * resume starts from. */
	landed = part_wait(p, &e) == 0;
	if (!p->committed && !keep)
		(void)partial_wipe(w, p->key, &e);
	else if (!p->committed) {
		(void)part_key(k, w, p->key, "tail");
		/* What arrived past the parts stays, for a resume from
		 * any node; only if it starts where the record ends (a
		 * part that failed in flight leaves a gap: then the
		 * resume starts at the record). */
		if (landed && p->blen > 0 && p->boff == p->state_off)
			(void)s3_put(w->s3, k, p->b, p->blen, NULL, NULL, &r);
		else if (p->has_tail)
			(void)s3_delete(w->s3, k, &r);
	}
	unclaim(w, p->key);
	spart_free(p);
}

struct scan {
	struct sworld *w;
	size_t plen;
	char cur[STORE_PKEY_LEN];
	uint64_t size;
	long long mtime_ns;
	int (*cb)(void *, const char *, uint64_t, long long);
	void *arg;
	int stop;
};

static int
scan_flush(struct scan *s)
{
	if (s->cur[0] == '\0' || s->stop)
		return 0;
	if (s->cb(s->arg, s->cur, s->size, s->mtime_ns) == -1)
		s->stop = 1;
	s->cur[0] = '\0';
	return 0;
}

static int
scan_cb(void *arg, const struct s3_item *it)
{
	struct scan *s = arg;
	const char *rel = it->key + s->plen, *slash = strchr(rel, '/');
	char key[STORE_PKEY_LEN];
	size_t n;

	if (s->stop || slash == NULL)
		return 0;
	n = (size_t)(slash - rel);
	if (n + 1 != STORE_PKEY_LEN)
		return 0;
	memcpy(key, rel, n);
	key[n] = '\0';
	if (strcmp(key, s->cur) != 0) {
		scan_flush(s);
		memcpy(s->cur, key, sizeof(key));
		s->size = 0;
		s->mtime_ns = 0;
	}
	/* A partial weighs its parts (the record's name says how many
	 * bytes) and its tail. */
	if (strncmp(slash + 1, "state-", 6) == 0)
		s->size += strtoull(slash + 7, NULL, 16);
	else if (strcmp(slash + 1, "tail") == 0)
		s->size += it->size;
	if (it->mtime_ms * 1000000LL > s->mtime_ns)
		s->mtime_ns = it->mtime_ms * 1000000LL;
	return 0;
}

static int
s_partial_scan(const struct store *st,
    int (*cb)(void *arg, const char *key, uint64_t size, long long mtime_ns),
    void *arg, struct store_err *e)
{
	struct sworld *w = SST(st)->w;
	char prefix[KEY_MAX], token[1024], next[1024];
	struct scan s;
	struct s3_res r;

	memset(&s, 0, sizeof(s));
	(void)str_fmt(prefix, sizeof(prefix), "%s" PART_DIR, w->prefix);
	s.w = w;
	s.plen = strlen(prefix);
	s.cb = cb;
	s.arg = arg;
	token[0] = '\0';
	do {
		if (s3_list(w->s3, prefix, 0, token, FTX_S3_LIST_PAGE, scan_cb,
			&s, next, sizeof(next), &r) == -1)
			return res_err(e, &r, "s3 listing");
		(void)str_copy(token, sizeof(token), next);
	} while (token[0] != '\0' && !s.stop);
	scan_flush(&s);
	return 0;
}

static int
s_partial_drop(const struct store *st, const char *key)
{
	struct sworld *w = SST(st)->w;
	struct store_err e;
	int rc;

	if (claim(w, key) != 1)
		return 0;
	rc = partial_wipe(w, key, &e) == 0;
	unclaim(w, key);
	return rc;
}

static const struct store_ops s3_ops = {
    .name = "s3",
    .open_sub = s_open_sub,
    .close = s_close,
    .usage = s_usage,
    .free_bytes = s_free_bytes,
    .root_stat = s_root_stat,
    .list = s_list,
    .del = s_del,
    .lookup = s_lookup,
    .mkdir = s_mkdir,
    .rmdir = s_rmdir,
    .rename = s_rename,
    .walk_open = s_walk_open,
    .walk_next = s_walk_next,
    .walk_close = s_walk_close,
    .flush = s_flush,
    .read_open = s_read_open,
    .read_at = s_read_at,
    .read_fd = NULL,
    .read_close = s_read_close,
    .meta_get = s_meta_get,
    .meta_put = s_meta_put,
    .partial_size = s_partial_size,
    .part_open = s_part_open,
    .part_write_at = s_part_write_at,
    .part_read_at = s_part_read_at,
    .part_commit = s_part_commit,
    .part_close = s_part_close,
    .part_hint = s_part_hint,
    .part_hash_state = s_part_hash_state,
    .partial_scan = s_partial_scan,
    .partial_drop = s_partial_drop,
};

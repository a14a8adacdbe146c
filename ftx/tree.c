/*
 * tree.c - whole trees: ftx put -r, get -r and sync (see tree.h).
 *
 * Local paths below the tree's top are resolved with beneath.h, never
 * following a symbolic link (unless -L on the sending side), so a link
 * planted in a destination tree cannot send a download elsewhere.
 */
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "beneath.h"
#include "esc.h"
#include "exitcode.h"
#include "ftx_limits.h"
#include "hcache.h"
#include "json.h"
#include "ops.h"
#include "path.h"
#include "progress.h"
#include "proto.h"
#include "rpl.h"
#include "str.h"
#include "transfer.h"

/* ---- lists ---- */

int
tree_add(struct tree_list *l, const char *path, char type, uint64_t size,
    int64_t mtime, const char *sha)
{
	struct tree_ent *nv, *e;
	size_t nc;

	/* SECURITY: a tree of any size (a server's LS) is bounded here. */
	if (l->n >= FTX_TREE_ENTRIES_MAX)
		return -1;
	if (l->n == l->cap) {
		nc = l->cap == 0 ? 256 : l->cap * 2;
		if (nc > SIZE_MAX / sizeof(*nv) ||
		    (nv = realloc(l->v, nc * sizeof(*nv))) == NULL)
			return -1;
		l->v = nv;
		l->cap = nc;
	}
	e = &l->v[l->n];
	memset(e, 0, sizeof(*e));
	if ((e->path = strdup(path)) == NULL)
		return -1;
	e->type = type;
	e->size = size;
	e->mtime = mtime;
	if (sha != NULL && rpl_is_hex(sha, HASH_SHA256_HEXLEN)) {
		memcpy(e->sha, sha, HASH_SHA256_HEXLEN + 1);
		e->has_sha = 1;
	}
	l->n++;
	return 0;
}

static int
by_path(const void *a, const void *b)
{
	return strcmp(((const struct tree_ent *)a)->path,
	    ((const struct tree_ent *)b)->path);
}

void
tree_sort(struct tree_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), by_path);
}

void
tree_list_free(struct tree_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- the local walk ---- */

/* A directory on the way down, for -L's loop check. */
struct walk_up {
	dev_t dev;
	ino_t ino;
	const struct walk_up *parent;
};

struct walk {
	int follow, notices;
	const char *rprefix;
	struct tree_list *l;
	int nomem;
};

static void
skip_notice(const struct walk *w, const char *rel, const char *why)
{
	char safe[ESC_SIZE(FTX_RPATH_MAX)];

	if (w->notices)
		ui_error(
		    "skipped %s: %s", ui_safe(safe, sizeof(safe), rel), why);
}

static int
on_the_way(const struct walk_up *up, const struct stat *sb)
{
	for (; up != NULL; up = up->parent)
		if (up->dev == sb->st_dev && up->ino == sb->st_ino)
			return 1;
	return 0;
}

static int walk_dir(
    struct walk *w, int dfd, const char *rel, const struct walk_up *up);

/* One directory entry: checked, added, and descended into. */
static void
walk_one(struct walk *w, int dfd, const char *rel, const char *name,
    const struct walk_up *up)
{
	char path[FTX_RPATH_MAX + 1], rpath[FTX_RPATH_MAX + 1];
	char why[FTX_ERRLEN];
	struct tree_ent *e;
	struct walk_up me;
	struct stat sb;
	int sub;

	if (rel[0] == '\0'
		? str_copy(path, sizeof(path), name) == -1
		: str_fmt(path, sizeof(path), "%s/%s", rel, name) == -1) {
		skip_notice(w, name, "path too long");
		return;
	}
	/* SECURITY: what the server would refuse is not sent (and a name
	 * we could not show safely is shown escaped). */
	if (proto_name_check(name, why, sizeof(why)) == -1) {
		skip_notice(w, path, why);
		return;
	}
	if (path_join(rpath, sizeof(rpath), w->rprefix, path, why,
		sizeof(why)) == -1) {
		skip_notice(w, path, why);
		return;
	}
	if (fstatat(dfd, name, &sb, w->follow ? 0 : AT_SYMLINK_NOFOLLOW) ==
	    -1) {
		/* Gone since readdir is no loss; with -L, ENOENT is a link
		 * to nothing, and what it named cannot be told. */
		if (errno != ENOENT || w->follow)
			w->l->errors++;
		skip_notice(w, path, strerror(errno));
		return;
	}
	if (S_ISLNK(sb.st_mode)) {
		skip_notice(w, path, "symbolic link (-L follows links)");
		return;
	}
	if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)) {
		skip_notice(w, path, "not a regular file or directory");
		return;
	}
	if (S_ISDIR(sb.st_mode) && on_the_way(up, &sb)) {
		skip_notice(w, path, "link to a directory above it (a loop)");
		return;
	}
	if (tree_add(w->l, path, S_ISDIR(sb.st_mode) ? 'd' : 'f',
		S_ISDIR(sb.st_mode) ? 0 : (uint64_t)sb.st_size,
		(int64_t)sb.st_mtim.tv_sec, NULL) == -1) {
		w->nomem = 1;
		return;
	}
	e = &w->l->v[w->l->n - 1];
	e->has_stat = 1;
	e->dev = (uint64_t)sb.st_dev;
	e->ino = (uint64_t)sb.st_ino;
	e->mtime_ns =
	    (int64_t)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
	if (!S_ISDIR(sb.st_mode))
		return;
	sub = openat(dfd, name,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC | (w->follow ? 0 : O_NOFOLLOW));
	if (sub == -1) {
		if (errno != ENOENT || w->follow)
			w->l->errors++;
		skip_notice(w, path, strerror(errno));
		return;
	}
	me.dev = sb.st_dev;
	me.ino = sb.st_ino;
	me.parent = up;
	if (walk_dir(w, sub, path, &me) == -1) {
		w->l->errors++;
		skip_notice(w, path, strerror(errno));
	}
}

/* Walk the directory open at dfd (closed here); -1 with errno when it
 * could not be read to its end. */
static int
walk_dir(struct walk *w, int dfd, const char *rel, const struct walk_up *up)
{
	struct dirent *de;
	DIR *d;
	int e;

	if ((d = fdopendir(dfd)) == NULL) {
		e = errno;
		close(dfd);
		errno = e;
		return -1;
	}
	for (;;) {
		errno = 0;
		if (w->nomem || (de = readdir(d)) == NULL)
			break;
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		walk_one(w, dirfd(d), rel, de->d_name, up);
	}
	/* NULL with errno set: the rest of the directory is unknown. */
	e = w->nomem ? 0 : errno;
	closedir(d);
	errno = e;
	return e != 0 ? -1 : 0;
}

int
tree_walk(const char *root, int follow, int notices, const char *rprefix,
    struct tree_list *l, char *err, size_t errlen)
{
	struct walk w = {follow, notices, rprefix, l, 0};
	struct walk_up top;
	struct stat sb;
	int fd;

	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &sb) == -1) {
		str_err(err, errlen, "cannot open directory %s: %s", root,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	top.dev = sb.st_dev;
	top.ino = sb.st_ino;
	top.parent = NULL;
	if (walk_dir(&w, fd, "", &top) == -1)
		return str_err(err, errlen, "cannot read directory %s: %s",
		    root, strerror(errno));
	if (w.nomem)
		return str_err(err, errlen,
		    "%s: out of memory or more than %d entries", root,
		    FTX_TREE_ENTRIES_MAX);
	tree_sort(l);
	return 0;
}

/* ---- the server's tree ---- */

/* ops_entry_fn: one entry of the listing into the list. */
static int
ls_add(void *arg, const struct rpl_entry *e)
{
	return tree_add(arg, e->path, e->type, e->size, e->mtime,
	    e->has_sha ? e->sha256 : NULL);
}

/* ctl_refusal's "reason (CODE)": only a missing directory is not an
 * error for a tree that goes there. */
static int
is_notfound(int rc, const char *err)
{
	static const char nf[] = "(NOTFOUND)";
	size_t n = strlen(err);

	return rc == EXITCODE_REFUSED && n >= sizeof(nf) - 1 &&
	    strcmp(err + n - (sizeof(nf) - 1), nf) == 0;
}

int
tree_ls(struct ctl *c, const char *rpath, struct tree_list *l, int *notfound,
    char *err, size_t errlen)
{
	int rc;

	*notfound = 0;
	rc = ops_ls_stream(c, rpath, 1, ls_add, l, err, errlen);
	if (rc == EXITCODE_OK) {
		tree_sort(l);
		return rc;
	}
	*notfound = is_notfound(rc, err);
	if (l->n >= FTX_TREE_ENTRIES_MAX)
		str_err(err, errlen, "%s: more than %d entries", rpath,
		    FTX_TREE_ENTRIES_MAX);
	/* A listing cut short is no tree: nothing half of it is kept. */
	tree_list_free(l);
	return rc;
}

/* ---- the plan ---- */

static int
push(struct tree_ent ***v, size_t *n, struct tree_ent *e)
{
	struct tree_ent **nv;

	/* The capacity is the next power of two: grow when n is one. */
	if ((*n & (*n - 1)) == 0) {
		size_t nc = *n == 0 ? 1 : *n * 2;

		if (nc > SIZE_MAX / sizeof(struct tree_ent *) ||
		    (nv = realloc(*v, nc * sizeof(struct tree_ent *))) == NULL)
			return -1;
		*v = nv;
	}
	(*v)[(*n)++] = e;
	return 0;
}

/* A source entry the destination lacks (or has as the other type). */
static int
plan_new(struct tree_plan *p, struct tree_ent *s)
{
	if (s->type == 'd')
		return push(&p->mkdir, &p->nmkdir, s);
	p->send_bytes += s->size;
	return push(&p->send, &p->nsend, s);
}

/* A file on both sides: the same content is skipped. */
static int
plan_both(struct tree_plan *p, struct tree_ent *s, struct tree_ent *d,
    int flags, tree_sha_fn sha, void *arg, char *err, size_t errlen)
{
	if ((flags & TREE_COMPARE) == 0 || s->size != d->size)
		return plan_new(p, s);
	if ((!s->has_sha && sha(arg, s, 1, err, errlen) == -1) ||
	    (!d->has_sha && sha(arg, d, 0, err, errlen) == -1))
		return -1;
	if (strcmp(s->sha, d->sha) == 0) {
		p->nskip++;
		return 0;
	}
	return plan_new(p, s);
}

/* Deepest first: a path sorts after every path it begins with, so the
 * reverse order puts what a directory holds before the directory. */
static int
by_path_desc(const void *a, const void *b)
{
	return strcmp((*(struct tree_ent *const *)b)->path,
	    (*(struct tree_ent *const *)a)->path);
}

int
tree_plan(const struct tree_list *src, const struct tree_list *dst, int flags,
    tree_sha_fn sha, void *arg, struct tree_plan *p, char *err, size_t errlen)
{
	size_t i = 0, j = 0;
	int cmp, r = 0, del = (flags & TREE_DELETE) != 0;

	memset(p, 0, sizeof(*p));
	/* A source that could not be read whole would have its missing
	 * entries deleted: --delete waits for a clean walk (as rsync's
	 * does after an I/O error). */
	if (del && src->errors > 0) {
		del = 0;
		p->nheld = src->errors;
	}
	while (r == 0 && (i < src->n || j < dst->n)) {
		if (i == src->n)
			cmp = 1;
		else if (j == dst->n)
			cmp = -1;
		else
			cmp = strcmp(src->v[i].path, dst->v[j].path);
		if (cmp < 0) {
			r = plan_new(p, &src->v[i++]);
		} else if (cmp > 0) {
			if (del)
				r = push(&p->del, &p->ndel, &dst->v[j]);
			j++;
		} else if (src->v[i].type != dst->v[j].type) {
			/* Without --delete the other type stays, and the
			 * file (or what the directory holds) is not sent. */
			if (!del)
				p->nconflict++;
			else if ((r = push(&p->del, &p->ndel, &dst->v[j])) == 0)
				r = plan_new(p, &src->v[i]);
			i++;
			j++;
		} else {
			if (src->v[i].type == 'f')
				r = plan_both(p, &src->v[i], &dst->v[j], flags,
				    sha, arg, err, errlen);
			i++;
			j++;
		}
	}
	if (r == -1) {
		if (err != NULL && err[0] == '\0')
			str_err(err, errlen, "out of memory");
		tree_plan_free(p);
		return -1;
	}
	if (p->ndel > 1)
		qsort(p->del, p->ndel, sizeof(struct tree_ent *), by_path_desc);
	return 0;
}

void
tree_plan_free(struct tree_plan *p)
{
	free(p->mkdir);
	free(p->send);
	free(p->del);
	memset(p, 0, sizeof(*p));
}

/* ---- running it ---- */

struct run {
	struct ctl *c;
	const struct ui *u;
	struct ui xui; /* for single-file transfers: no summary lines */
	const struct tree_opts *o;
	struct tree_stats *st;
	char *err;
	size_t errlen;
	int first; /* the first failure's exit code */
	struct hcache *hc;
	int rootfd; /* the local top, -1 when it does not exist */
	char rroot[FTX_RPATH_MAX + 1]; /* "" for the top */
	struct progress pg;
	uint64_t files_total, files_done, bytes_done;
};

/* A failure of one item: printed, the first one's code remembered. */
static void fail(struct run *r, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct run *r, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)str_vfmt(r->err, r->errlen, fmt, ap);
	va_end(ap);
	progress_clear(&r->pg);
	ui_error("%s", r->err);
	if (r->first == EXITCODE_OK)
		r->first = rc;
	r->st->failed++;
}

static const char *
safe(char *buf, size_t n, const char *s)
{
	return ui_safe(buf, n, s);
}

/* The remote path of a tree entry. */
static int
rpath_of(const struct run *r, const char *rel, char *out, size_t n)
{
	return path_join(out, n, r->rroot, rel, NULL, 0);
}

static void
step(struct run *r, const char *rel, uint64_t bytes)
{
	r->bytes_done += bytes;
	progress_tree_label(&r->pg, r->files_done, r->files_total, rel);
	progress_update(&r->pg, r->bytes_done);
}

/* The SHA-256 of a local file (rel below the top), from the cache or
 * by reading it. */
static int
local_sha(struct run *r, struct tree_ent *e, char *err, size_t errlen)
{
	unsigned char d[HASH_SHA256_LEN];
	struct stat sb;
	uint64_t size;
	int fd;

	/* The walk's stat is enough to ask the cache: an unchanged tree is
	 * not even opened. */
	if (e->has_stat) {
		memset(&sb, 0, sizeof(sb));
		sb.st_dev = (dev_t)e->dev;
		sb.st_ino = (ino_t)e->ino;
		sb.st_size = (off_t)e->size;
		sb.st_mtim.tv_sec = (time_t)(e->mtime_ns / 1000000000LL);
		sb.st_mtim.tv_nsec = (long)(e->mtime_ns % 1000000000LL);
		if (hcache_get(r->hc, &sb, e->sha)) {
			e->has_sha = 1;
			return 0;
		}
	}
	fd = r->o->follow
	    ? openat(r->rootfd, e->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
	    : beneath_open(
		  r->rootfd, e->path, O_RDONLY | O_NONBLOCK, 0, err, errlen);
	if (fd == -1)
		return str_err(err, errlen, "cannot open %s: %s", e->path,
		    strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return str_err(err, errlen, "%s: not a regular file", e->path);
	}
	if (!hcache_get(r->hc, &sb, e->sha)) {
		if (hash_fd(fd, HASH_SHA256, d, &size, err, errlen) == -1) {
			close(fd);
			return -1;
		}
		str_hex(e->sha, d, sizeof(d));
		/* Changed while we read: the digest describes no state
		 * the cache could name. */
		if (size == (uint64_t)sb.st_size &&
		    hcache_put(r->hc, &sb, e->sha, time(NULL)) == -1) {
			close(fd);
			return str_err(err, errlen, "out of memory");
		}
	}
	close(fd);
	e->has_sha = 1;
	return 0;
}

/* tree_sha_fn: the local side reads, the server's side asks HASH. */
static int
plan_sha(void *arg, struct tree_ent *e, int src, char *err, size_t errlen)
{
	struct run *r = arg;
	char rp[FTX_RPATH_MAX + 1];

	if (src == r->o->up)
		return local_sha(r, e, err, errlen);
	if (rpath_of(r, e->path, rp, sizeof(rp)) == -1)
		return str_err(err, errlen, "%s: path too long", e->path);
	if (ops_hash_get(r->c, rp, 0, e->sha, NULL, err, errlen) != EXITCODE_OK)
		return -1;
	e->has_sha = 1;
	return 0;
}

static void
dry(const struct run *r, const char *what, const char *rel)
{
	char s[ESC_SIZE(FTX_RPATH_MAX)];

	printf("%s %s\n", what, safe(s, sizeof(s), rel));
}

/* ---- upload ---- */

static int
remote_simple(struct run *r, const char *verb, const char *rp, int parents)
{
	const char *args[2] = {rp, "parents=1"};
	char line[FTX_LINE_MAX];

	return ctl_request(
	    r->c, verb, args, parents ? 2 : 1, line, r->err, r->errlen);
}

static void
up_delete(struct run *r, const struct tree_plan *p)
{
	char rp[FTX_RPATH_MAX + 1], s[ESC_SIZE(FTX_RPATH_MAX)];
	size_t i;
	int rc;

	for (i = 0; i < p->ndel; i++) {
		if (r->o->dry_run) {
			dry(r, "delete", p->del[i]->path);
			continue;
		}
		if (rpath_of(r, p->del[i]->path, rp, sizeof(rp)) == -1)
			continue;
		rc = remote_simple(
		    r, p->del[i]->type == 'd' ? "RMDIR" : "DELETE", rp, 0);
		if (rc != EXITCODE_OK)
			fail(r, rc, "delete %s: %s", safe(s, sizeof(s), rp),
			    r->err);
		else
			r->st->deleted++;
	}
}

static int
up_mkdirs(struct run *r, const struct tree_plan *p)
{
	char rp[FTX_RPATH_MAX + 1], s[ESC_SIZE(FTX_RPATH_MAX)];
	size_t i;
	int rc;

	if (r->rroot[0] != '\0' && !r->o->dry_run) {
		rc = remote_simple(r, "MKDIR", r->rroot, 1);
		if (rc != EXITCODE_OK) {
			fail(r, rc, "mkdir %s: %s",
			    safe(s, sizeof(s), r->rroot), r->err);
			return -1;
		}
	}
	for (i = 0; i < p->nmkdir; i++) {
		if (r->o->dry_run) {
			dry(r, "mkdir", p->mkdir[i]->path);
			continue;
		}
		if (rpath_of(r, p->mkdir[i]->path, rp, sizeof(rp)) == -1)
			continue;
		rc = remote_simple(r, "MKDIR", rp, 1);
		if (rc != EXITCODE_OK)
			fail(r, rc, "mkdir %s: %s", safe(s, sizeof(s), rp),
			    r->err);
	}
	return 0;
}

/* Open a local file of the tree for reading. */
static int
open_local(struct run *r, const char *rel, char *why, size_t n)
{
	int fd;

	if (r->o->follow)
		fd = openat(r->rootfd, rel,
		    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	else
		fd = beneath_open(r->rootfd, rel,
		    O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, why, n);
	if (fd == -1)
		(void)str_fmt(why, n, "cannot open: %s", strerror(errno));
	return fd;
}

/* The results of one MPUT commit.  A file sent whole and unchanged
 * (its size as fstat said before the read) leaves its digest in the
 * hash cache, so the next sync of the tree need not read it again. */
static void
put_results(struct run *r, struct tree_ent **files, const struct stat *sbs,
    size_t n, const struct batch_item *it)
{
	char s[ESC_SIZE(FTX_RPATH_MAX)];
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < n; i++) {
		r->files_done++;
		if (it[i].ok) {
			r->st->sent++;
			r->st->bytes += files[i]->size;
			if (r->hc != NULL &&
			    (uint64_t)sbs[i].st_size == files[i]->size)
				(void)hcache_put(
				    r->hc, &sbs[i], it[i].sha, now);
			continue;
		}
		if (strcmp(it[i].code, "BUSY") == 0)
			r->st->busy++;
		fail(r, rpl_error_exit(it[i].code), "put %s: %s (%s)",
		    safe(s, sizeof(s), it[i].path), it[i].reason, it[i].code);
	}
}

/*
 * Send small[*next..n) in one MPUT until done or the connection fails;
 * *next moves past every file whose batch was committed (or that failed
 * alone).  An exit code: not OK when the batch died.
 */
static int
up_batch(struct run *r, struct tree_ent **small, size_t n, size_t *next,
    struct batch_item *items)
{
	char rp[FTX_RPATH_MAX + 1], why[FTX_ERRLEN], s[ESC_SIZE(FTX_RPATH_MAX)];
	/* Two batches: the one being sent (g) and the one committed whose
	 * results are not read yet (g ^ 1, nw files, ending at file endw). */
	struct tree_ent *inb[2][FTX_BATCH_FILES_MAX];
	struct stat sbs[2][FTX_BATCH_FILES_MAX];
	struct batch *b;
	uint64_t sz, pend_bytes = 0;
	size_t k = 0, i = *next, nw = 0, endw = 0, got;
	int rc, fd, g = 0;

	if ((rc = batch_begin(r->c, 1, &b, r->err, r->errlen)) != EXITCODE_OK)
		return rc;
	while (i < n || k > 0 || nw > 0) {
		if (i < n && k < FTX_BATCH_FILES_MAX &&
		    pend_bytes < FTX_BATCH_BYTES_MAX) {
			struct tree_ent *e = small[i++];

			step(r, e->path, 0);
			if (rpath_of(r, e->path, rp, sizeof(rp)) == -1 ||
			    (fd = open_local(r, e->path, why, sizeof(why))) ==
				-1) {
				r->files_done++;
				fail(r, EXITCODE_FAIL, "put %s: %s",
				    safe(s, sizeof(s), e->path), why);
				continue;
			}
			if (fstat(fd, &sbs[g][k]) == -1)
				sbs[g][k].st_size = -1; /* not cached */
			rc = batch_put_file(
			    b, fd, rp, e->mtime, &sz, why, sizeof(why));
			close(fd);
			if (rc != EXITCODE_OK && !batch_dead(b)) {
				/* A local failure: the batch goes on (a
				 * dropped connection is retried instead). */
				r->files_done++;
				fail(r, rc, "put %s: %s",
				    safe(s, sizeof(s), e->path), why);
				rc = EXITCODE_OK;
				continue;
			}
			if (rc != EXITCODE_OK) {
				(void)str_copy(r->err, r->errlen, why);
				break;
			}
			e->size = sz;
			inb[g][k++] = e;
			pend_bytes += sz;
			step(r, e->path, sz);
			continue;
		}
		/* Commit this batch (reading the results of the one before);
		 * or, with nothing left to send, read the last results. */
		if (k > 0)
			rc =
			    batch_put_commit(b, items, &got, r->err, r->errlen);
		else
			rc = batch_put_results(
			    b, items, &got, r->err, r->errlen);
		if (rc != EXITCODE_OK)
			break;
		if (got > 0) {
			put_results(r, inb[g ^ 1], sbs[g ^ 1], got, items);
			*next = endw;
		}
		nw = 0;
		if (k > 0) {
			nw = k;
			endw = i;
			g ^= 1;
		}
		k = 0;
		pend_bytes = 0;
		/* Results too large to leave unread: read them now. */
		if (batch_put_must_wait(b)) {
			rc = batch_put_results(
			    b, items, &got, r->err, r->errlen);
			if (rc != EXITCODE_OK)
				break;
			put_results(r, inb[g ^ 1], sbs[g ^ 1], got, items);
			*next = endw;
			nw = 0;
		}
	}
	if (rc == EXITCODE_OK)
		rc = batch_end(b, NULL, NULL, r->err, r->errlen);
	batch_free(b);
	return rc;
}

/* Small files in batches, with retries like a single transfer's: a
 * batch that died is sent again from its first uncommitted file. */
static void
up_small(struct run *r, struct tree_ent **small, size_t n)
{
	struct batch_item *items;
	size_t next = 0, done_before;
	int rc, tries = 0;

	if (n == 0)
		return;
	if ((items = calloc(FTX_BATCH_FILES_MAX, sizeof(*items))) == NULL) {
		fail(r, EXITCODE_FAIL, "out of memory");
		return;
	}
	while (next < n) {
		done_before = r->files_done;
		rc = up_batch(r, small, n, &next, items);
		if (rc == EXITCODE_OK)
			break;
		/* Files of the lost batch are counted again. */
		r->files_done = done_before;
		if (++tries > FTX_RETRIES_DEFAULT ||
		    transfer_connect(r->c, "batch", r->err, r->errlen) !=
			EXITCODE_OK) {
			fail(r, rc, "batch upload: %s", r->err);
			r->st->failed += n - next;
			break;
		}
		progress_clear(&r->pg);
		ui_error("batch upload: %s; retry %d", r->err, tries);
	}
	free(items);
}

static void
up_large(struct run *r, struct tree_ent *e, const char *local)
{
	char path[FTX_PATH_MAX + FTX_RPATH_MAX + 2], rp[FTX_RPATH_MAX + 1];
	char s[ESC_SIZE(FTX_RPATH_MAX)], why[FTX_ERRLEN];
	struct transfer_tree t = {e->mtime, 1, NULL, 1, -1};
	int rc;

	step(r, e->path, 0);
	if (str_fmt(path, sizeof(path), "%s/%s", local, e->path) == -1 ||
	    rpath_of(r, e->path, rp, sizeof(rp)) == -1) {
		fail(r, EXITCODE_FAIL, "put %s: path too long",
		    safe(s, sizeof(s), e->path));
		return;
	}
	/* SECURITY: opened as the batches' files are, beneath the top and
	 * not through a link swapped in since the walk (unless -L). */
	if ((t.fd = open_local(r, e->path, why, sizeof(why))) == -1) {
		r->files_done++;
		fail(r, EXITCODE_FAIL, "put %s: %s",
		    safe(s, sizeof(s), e->path), why);
		return;
	}
	progress_clear(&r->pg);
	rc = transfer_put_tree(
	    r->c, &r->xui, path, rp, &t, TRANSFER_RESUME, r->err, r->errlen);
	r->files_done++;
	if (rc != EXITCODE_OK) {
		fail(r, rc, "%s", r->err);
		return;
	}
	r->st->sent++;
	r->st->bytes += e->size;
	step(r, e->path, e->size);
}

/* Split the files to send into small (batched) and large ones. */
static int
split_sizes(const struct tree_plan *p, struct tree_ent ***small, size_t *ns)
{
	size_t i;

	*ns = 0;
	*small = calloc(p->nsend > 0 ? p->nsend : 1, sizeof(struct tree_ent *));
	if (*small == NULL)
		return -1;
	for (i = 0; i < p->nsend; i++)
		if (p->send[i]->size <= FTX_BATCH_SMALL_MAX)
			(*small)[(*ns)++] = p->send[i];
	return 0;
}

/* ---- download ---- */

/* A received file waiting for its batch's syncfs and rename. */
struct pend {
	int dirfd;
	char tmp[32];
	char leaf[FTX_NAME_MAX + 1];
	struct tree_ent *e;
};

/*
 * Temporaries a fatal signal must not leave behind: the handler reads
 * sig_pend[0..sig_npend) (set before the count grows) and chains to the
 * handler that was there before (transfer.c's, which removes its own).
 */
static struct {
	int dirfd;
	char tmp[32];
} sig_pend[FTX_BATCH_FILES_MAX + 1];
static volatile sig_atomic_t sig_npend;
static struct sigaction sig_old[3];
static const int sig_list[3] = {SIGINT, SIGTERM, SIGHUP};

static void
on_signal(int sig)
{
	sig_atomic_t i;
	size_t k;

	for (i = 0; i < sig_npend; i++)
		(void)unlinkat(sig_pend[i].dirfd, sig_pend[i].tmp, 0);
	for (k = 0; k < 3; k++) {
		if (sig_list[k] != sig)
			continue;
		if (sig_old[k].sa_handler != SIG_DFL &&
		    sig_old[k].sa_handler != SIG_IGN) {
			sig_old[k].sa_handler(sig);
			return;
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
signals(int on)
{
	struct sigaction sa;
	size_t k;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (k = 0; k < 3; k++) {
		if (on)
			(void)sigaction(sig_list[k], &sa, &sig_old[k]);
		else
			(void)sigaction(sig_list[k], &sig_old[k], NULL);
	}
	sig_npend = 0;
}

struct down {
	struct run *r;
	struct pend *pend;
	size_t npend;
};

/* The directory that will hold `rel` (made if missing), beneath the
 * top; *leaf points into rel. */
static int
local_parent(
    struct run *r, const char *rel, const char **leaf, char *why, size_t n)
{
	return beneath_opendir_parent(r->rootfd, rel, 1, 0755, leaf, why, n);
}

/* batch_open_fn: a temporary beside the file's final name. */
static int
down_open(void *arg, const struct batch_item *it, char *err, size_t errlen)
{
	struct down *d = arg;
	struct pend *p = &d->pend[d->npend];
	unsigned char rnd[8];
	const char *leaf;
	int fd;

	(void)it;
	if ((p->dirfd = local_parent(d->r, p->e->path, &leaf, err, errlen)) ==
	    -1)
		return -1;
	(void)str_copy(p->leaf, sizeof(p->leaf), leaf);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		goto fail;
	str_hex(p->tmp, rnd, sizeof(rnd));
	memmove(p->tmp + 9, p->tmp, 17);
	memcpy(p->tmp, ".ftx-tmp-", 9);
	sig_pend[d->npend].dirfd = p->dirfd;
	memcpy(sig_pend[d->npend].tmp, p->tmp, sizeof(p->tmp));
	/* Known to the signal handler before it exists: a Ctrl-C between
	 * the create and the count would leave it behind. */
	sig_npend = (sig_atomic_t)(d->npend + 1);
	fd = openat(p->dirfd, p->tmp,
	    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1) {
		sig_npend = (sig_atomic_t)d->npend;
		goto fail;
	}
	return fd;
fail:
	str_err(err, errlen, "cannot create a temporary for %s: %s", p->e->path,
	    strerror(errno));
	close(p->dirfd);
	return -1;
}

/* The batch's files: flushed once (syncfs), renamed into place, and the
 * renames flushed; then counted. */
static void
down_flush(struct down *d)
{
	struct run *r = d->r;
	char s[ESC_SIZE(FTX_RPATH_MAX)];
	size_t i;

	if (d->npend > 0 && syncfs(r->rootfd) == -1)
		ui_error("syncfs: %s", strerror(errno));
	for (i = 0; i < d->npend; i++) {
		struct pend *p = &d->pend[i];

		if (renameat(p->dirfd, p->tmp, p->dirfd, p->leaf) == -1) {
			fail(r, EXITCODE_FAIL, "get %s: cannot rename: %s",
			    safe(s, sizeof(s), p->e->path), strerror(errno));
			(void)unlinkat(p->dirfd, p->tmp, 0);
		} else {
			r->st->sent++;
			r->st->bytes += p->e->size;
		}
	}
	if (d->npend > 0 && syncfs(r->rootfd) == -1)
		ui_error("syncfs: %s", strerror(errno));
	sig_npend = 0;
	for (i = 0; i < d->npend; i++)
		close(d->pend[i].dirfd);
	d->npend = 0;
}

/* The received file: its mtime, then it waits for the flush. */
static void
down_received(struct down *d, struct tree_ent *e, struct batch_item *it, int fd)
{
	struct run *r = d->r;
	struct pend *p = &d->pend[d->npend];
	char s[ESC_SIZE(FTX_RPATH_MAX)];
	struct timespec ts[2] = {{0, UTIME_OMIT}, {0, 0}};

	r->files_done++;
	if (fd == -1) {
		fail(r, rpl_error_exit(it->code), "get %s: %s (%s)",
		    safe(s, sizeof(s), e->path), it->reason, it->code);
		return;
	}
	ts[1].tv_sec = (time_t)it->mtime;
	e->size = it->size;
	if (!it->ok || futimens(fd, ts) == -1) {
		if (it->ok)
			fail(r, EXITCODE_FAIL, "get %s: cannot set mtime: %s",
			    safe(s, sizeof(s), e->path), strerror(errno));
		else
			fail(r, EXITCODE_INTEGRITY, "integrity failure: %s: %s",
			    safe(s, sizeof(s), e->path), it->reason);
		close(fd);
		(void)unlinkat(p->dirfd, p->tmp, 0);
		close(p->dirfd);
		sig_npend = (sig_atomic_t)d->npend;
		return;
	}
	close(fd);
	d->npend++;
	step(r, e->path, it->size);
	if (d->npend == FTX_BATCH_FILES_MAX)
		down_flush(d);
}

/* The connection broke inside a file's bytes: its temporary goes (the
 * file is asked for again) and the signal handler forgets it. */
static void
down_abandon(struct down *d, int fd)
{
	struct pend *p = &d->pend[d->npend];

	close(fd);
	sig_npend = (sig_atomic_t)d->npend;
	(void)unlinkat(p->dirfd, p->tmp, 0);
	close(p->dirfd);
}

/*
 * Fetch small[*next..n) over one MGET, keeping at most
 * FTX_BATCH_FILES_MAX requests (and FTX_BATCH_REQ_BYTES of them)
 * unanswered.  *next moves past every answered file.
 */
static int
down_batch(struct run *r, struct down *d, struct tree_ent **small, size_t n,
    size_t *next)
{
	char rp[FTX_RPATH_MAX + 1];
	size_t reqlen[FTX_BATCH_FILES_MAX];
	struct batch_item it;
	size_t asked = *next, out = 0, outbytes = 0;
	struct batch *b;
	int rc, fd;

	if ((rc = batch_begin(r->c, 0, &b, r->err, r->errlen)) != EXITCODE_OK)
		return rc;
	while (*next < n) {
		while (asked < n && out < FTX_BATCH_FILES_MAX &&
		    outbytes < FTX_BATCH_REQ_BYTES) {
			if (rpath_of(r, small[asked]->path, rp, sizeof(rp)) ==
			    -1)
				(void)str_copy(rp, sizeof(rp), "?");
			rc = batch_get_request(b, rp, r->err, r->errlen);
			if (rc != EXITCODE_OK)
				goto out;
			reqlen[asked % FTX_BATCH_FILES_MAX] = strlen(rp) + 3;
			outbytes += strlen(rp) + 3;
			asked++;
			out++;
		}
		(void)rpath_of(r, small[*next]->path, rp, sizeof(rp));
		step(r, small[*next]->path, 0);
		d->pend[d->npend].e = small[*next];
		rc = batch_get_next(
		    b, rp, down_open, d, &it, &fd, r->err, r->errlen);
		if (rc != EXITCODE_OK) {
			if (fd != -1)
				down_abandon(d, fd);
			goto out;
		}
		down_received(d, small[*next], &it, fd);
		outbytes -= reqlen[*next % FTX_BATCH_FILES_MAX];
		out--;
		(*next)++;
	}
	rc = batch_end(b, NULL, NULL, r->err, r->errlen);
out:
	batch_free(b);
	return rc;
}

static void
down_small(struct run *r, struct tree_ent **small, size_t n)
{
	struct down d;
	size_t next = 0, done_before;
	int rc, tries = 0;

	if (n == 0)
		return;
	memset(&d, 0, sizeof(d));
	d.r = r;
	if ((d.pend = calloc(FTX_BATCH_FILES_MAX, sizeof(*d.pend))) == NULL) {
		fail(r, EXITCODE_FAIL, "out of memory");
		return;
	}
	signals(1);
	while (next < n) {
		done_before = next;
		rc = down_batch(r, &d, small, n, &next);
		if (rc == EXITCODE_OK)
			break;
		/* What arrived verified is kept; the rest is asked again
		 * (a file that broke mid-way starts over). */
		if (next == done_before)
			tries++;
		if (tries > FTX_RETRIES_DEFAULT ||
		    transfer_connect(r->c, "batch", r->err, r->errlen) !=
			EXITCODE_OK) {
			fail(r, rc, "batch download: %s", r->err);
			r->st->failed += n - next;
			break;
		}
		progress_clear(&r->pg);
		ui_error("batch download: %s; retrying", r->err);
	}
	down_flush(&d);
	signals(0);
	free(d.pend);
}

static void
down_large(struct run *r, struct tree_ent *e)
{
	char rp[FTX_RPATH_MAX + 1], s[ESC_SIZE(FTX_RPATH_MAX)];
	struct transfer_tree t = {e->mtime, 1, NULL, 0, -1};
	const char *leaf;
	int dfd, rc;

	step(r, e->path, 0);
	if (rpath_of(r, e->path, rp, sizeof(rp)) == -1 ||
	    (dfd = local_parent(r, e->path, &leaf, r->err, r->errlen)) == -1) {
		r->files_done++;
		fail(r, EXITCODE_FAIL, "get %s: %s",
		    safe(s, sizeof(s), e->path), r->err);
		return;
	}
	t.lname = leaf;
	progress_clear(&r->pg);
	rc = transfer_get_tree(r->c, &r->xui, rp, dfd, r->o->local, &t,
	    TRANSFER_RESUME, r->err, r->errlen);
	close(dfd);
	r->files_done++;
	if (rc != EXITCODE_OK) {
		fail(r, rc, "%s", r->err);
		return;
	}
	r->st->sent++;
	r->st->bytes += e->size;
	step(r, e->path, e->size);
}

static void
down_delete(struct run *r, const struct tree_plan *p)
{
	char why[FTX_ERRLEN], s[ESC_SIZE(FTX_RPATH_MAX)];
	const char *leaf;
	size_t i;
	int dfd;

	why[0] = '\0';
	for (i = 0; i < p->ndel; i++) {
		if (r->o->dry_run) {
			dry(r, "delete", p->del[i]->path);
			continue;
		}
		dfd = beneath_opendir_parent(
		    r->rootfd, p->del[i]->path, 0, 0, &leaf, why, sizeof(why));
		if (dfd != -1 &&
		    unlinkat(dfd, leaf,
			p->del[i]->type == 'd' ? AT_REMOVEDIR : 0) == -1)
			(void)str_copy(why, sizeof(why), strerror(errno));
		else if (dfd != -1)
			r->st->deleted++;
		if (dfd == -1 || why[0] != '\0')
			fail(r, EXITCODE_FAIL, "delete %s: %s",
			    safe(s, sizeof(s), p->del[i]->path), why);
		if (dfd != -1)
			close(dfd);
		why[0] = '\0';
	}
}

static void
down_mkdirs(struct run *r, const struct tree_plan *p)
{
	char why[FTX_ERRLEN], s[ESC_SIZE(FTX_RPATH_MAX)];
	const char *leaf;
	struct stat sb;
	size_t i;
	int dfd;

	for (i = 0; i < p->nmkdir; i++) {
		if (r->o->dry_run) {
			dry(r, "mkdir", p->mkdir[i]->path);
			continue;
		}
		dfd =
		    local_parent(r, p->mkdir[i]->path, &leaf, why, sizeof(why));
		if (dfd == -1) {
			fail(r, EXITCODE_FAIL, "mkdir %s: %s",
			    safe(s, sizeof(s), p->mkdir[i]->path), why);
			continue;
		}
		/* SECURITY: an existing name must be a real directory. */
		if (mkdirat(dfd, leaf, 0755) == -1 &&
		    (errno != EEXIST ||
			fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
			!S_ISDIR(sb.st_mode)))
			fail(r, EXITCODE_FAIL, "mkdir %s: %s",
			    safe(s, sizeof(s), p->mkdir[i]->path),
			    errno == EEXIST ? "exists and is not a directory"
					    : strerror(errno));
		close(dfd);
	}
}

/* The plan's files, either way: small ones in batches, then large ones
 * one at a time, resumably; a dry run only says what it would send. */
static void
move_files(struct run *r, const struct tree_plan *p,
    void (*small_fn)(struct run *, struct tree_ent **, size_t),
    void (*large_fn)(struct run *, struct tree_ent *))
{
	struct tree_ent **small;
	size_t i, ns;

	if (r->o->dry_run) {
		for (i = 0; i < p->nsend; i++)
			dry(r, "send", p->send[i]->path);
		return;
	}
	if (split_sizes(p, &small, &ns) == -1) {
		fail(r, EXITCODE_FAIL, "out of memory");
		return;
	}
	small_fn(r, small, ns);
	free(small);
	for (i = 0; i < p->nsend; i++)
		if (p->send[i]->size > FTX_BATCH_SMALL_MAX)
			large_fn(r, p->send[i]);
}

/* up_large's shape for move_files: the local top is the run's. */
static void
up_large_run(struct run *r, struct tree_ent *e)
{
	up_large(r, e, r->o->local);
}

/* ---- the whole run ---- */

/*
 * The server's top must be a directory: LS of a file lists that one
 * file, and a sync --delete would take it for a tree that holds nothing
 * else.  Missing is fine for an upload (the tree makes it).
 */
static int
remote_root(struct run *r)
{
	char s[ESC_SIZE(FTX_RPATH_MAX)];
	struct rpl_entry e;
	int rc;

	if (r->rroot[0] == '\0')
		return EXITCODE_OK;
	rc = ops_stat_get(r->c, r->rroot, &e, r->err, r->errlen);
	if (rc == EXITCODE_OK && e.type != 'd') {
		str_err(r->err, r->errlen, "%s is not a directory",
		    safe(s, sizeof(s), r->rroot));
		return EXITCODE_REFUSED;
	}
	if (rc != EXITCODE_OK && r->o->up && is_notfound(rc, r->err))
		return EXITCODE_OK;
	return rc;
}

/* The two lists: source and destination. */
static int
lists(struct run *r, struct tree_list *src, struct tree_list *dst)
{
	struct tree_list *remote = r->o->up ? dst : src;
	struct tree_list *local = r->o->up ? src : dst;
	int rc, notfound;

	if ((rc = remote_root(r)) != EXITCODE_OK)
		return rc;

	if (r->o->up &&
	    tree_walk(r->o->local, r->o->follow, 1, r->rroot, local, r->err,
		r->errlen) == -1)
		return EXITCODE_FAIL;
	if (!r->o->up || (r->o->flags & TREE_COMPARE) != 0) {
		rc = tree_ls(r->c, r->rroot[0] != '\0' ? r->rroot : ".", remote,
		    &notfound, r->err, r->errlen);
		/* Sending to a directory that is not there yet. */
		if (rc != EXITCODE_OK && !(r->o->up && notfound))
			return rc;
	}
	if (!r->o->up && r->rootfd != -1 && (r->o->flags & TREE_COMPARE) != 0 &&
	    tree_walk(r->o->local, 0, 0, "", local, r->err, r->errlen) == -1)
		return EXITCODE_FAIL;
	return EXITCODE_OK;
}

/* The local top: the source must exist; a destination is made (unless
 * this is a dry run, which then compares against nothing). */
static int
open_root(struct run *r)
{
	if (r->o->up || r->o->dry_run) {
		r->rootfd =
		    open(r->o->local, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (r->rootfd == -1 && (r->o->up || errno != ENOENT))
			return str_err(r->err, r->errlen,
			    "cannot open directory %s: %s", r->o->local,
			    strerror(errno));
		return 0;
	}
	return transfer_open_dir(r->o->local, &r->rootfd, r->err, r->errlen);
}

static int
prepare(struct run *r)
{
	char why[FTX_ERRLEN];

	if (strcmp(r->o->remote, ".") == 0)
		r->rroot[0] = '\0';
	else if (path_check(r->o->remote, why, sizeof(why)) == -1 ||
	    str_copy(r->rroot, sizeof(r->rroot), r->o->remote) == -1)
		return str_err(r->err, r->errlen, "bad remote path %s: %s",
		    r->o->remote, why);
	if (r->o->hcache != NULL) {
		r->hc = hcache_load(r->o->hcache, r->err, r->errlen);
		if (r->hc == NULL)
			return -1;
	}
	return open_root(r);
}

static int
work(struct run *r)
{
	struct tree_list src = {NULL, 0, 0, 0}, dst = {NULL, 0, 0, 0};
	struct tree_plan p;
	char why[FTX_ERRLEN];
	int rc;

	if ((rc = lists(r, &src, &dst)) != EXITCODE_OK)
		goto out;
	why[0] = '\0';
	if (tree_plan(&src, &dst, r->o->flags, plan_sha, r, &p, why,
		sizeof(why)) == -1) {
		(void)str_copy(r->err, r->errlen, why);
		rc = EXITCODE_FAIL;
		goto out;
	}
	r->st->skipped = p.nskip;
	r->files_total = p.nsend;
	if (p.nconflict > 0)
		fail(r, EXITCODE_FAIL,
		    "%zu entries are a file on one side and a directory on "
		    "the other; left alone (--delete replaces them)",
		    p.nconflict);
	if (p.nheld > 0)
		fail(r, EXITCODE_FAIL,
		    "not deleting: %zu local entries could not be read",
		    p.nheld);
	progress_begin(&r->pg, STDERR_FILENO, r->u->bar && !r->o->dry_run, "",
	    p.send_bytes);
	if (r->o->up) {
		up_delete(r, &p);
		if (up_mkdirs(r, &p) == 0)
			move_files(r, &p, up_small, up_large_run);
	} else {
		down_delete(r, &p);
		down_mkdirs(r, &p);
		move_files(r, &p, down_small, down_large);
	}
	(void)progress_end(&r->pg);
	tree_plan_free(&p);
	rc = r->first;
out:
	tree_list_free(&src);
	tree_list_free(&dst);
	return rc;
}

int
tree_run(struct ctl *c, const struct ui *u, const struct tree_opts *o,
    struct tree_stats *st, char *err, size_t errlen)
{
	struct run r;
	char e2[FTX_ERRLEN];
	double t0 = progress_now();
	int rc;

	memset(&r, 0, sizeof(r));
	memset(st, 0, sizeof(*st));
	r.c = c;
	r.u = u;
	r.xui = *u;
	r.xui.quiet = 1;
	r.o = o;
	r.st = st;
	r.err = err;
	r.errlen = errlen;
	r.rootfd = -1;
	r.first = EXITCODE_OK;
	rc = transfer_connect(c, o->remote, err, errlen);
	if (rc == EXITCODE_OK)
		rc = ops_need_folders(c, err, errlen);
	if (rc == EXITCODE_OK && prepare(&r) == -1)
		rc = EXITCODE_FAIL;
	if (rc == EXITCODE_OK)
		rc = work(&r);
	/* Failures of single files were printed as they happened; one
	 * that stopped everything is printed here. */
	if (rc != EXITCODE_OK && r.first == EXITCODE_OK)
		ui_error("%s", err);
	if (r.hc != NULL && !o->dry_run &&
	    hcache_save(r.hc, e2, sizeof(e2)) == -1)
		ui_error("hash cache: %s", e2);
	st->seconds = progress_now() - t0;
	hcache_free(r.hc);
	if (r.rootfd != -1)
		close(r.rootfd);
	return rc;
}

/* The --json summary, one object (json.h): counts, bytes, seconds and
 * the rate in bytes per second, never formatted units. */
static void
summary_json(const struct tree_stats *st, double rate)
{
	struct buf b;

	buf_init(&b, 1024);
	if (buf_append(&b, "{", 1) == -1 ||
	    json_kv_raw(&b, "files_sent", "%" PRIu64, st->sent) == -1 ||
	    json_kv_raw(&b, "files_skipped", "%" PRIu64, st->skipped) == -1 ||
	    json_kv_raw(&b, "files_deleted", "%" PRIu64, st->deleted) == -1 ||
	    json_kv_raw(&b, "files_failed", "%" PRIu64, st->failed) == -1 ||
	    json_kv_raw(&b, "bytes", "%" PRIu64, st->bytes) == -1 ||
	    json_kv_raw(&b, "seconds", "%.3f", st->seconds) == -1 ||
	    json_kv_raw(&b, "bytes_per_second", "%.0f", rate) == -1 ||
	    buf_append(&b, "}", 1) == -1 || json_print(&b) == -1)
		ui_error("cannot write the summary");
	buf_free(&b);
}

void
tree_summary(
    const struct ui *u, const struct tree_opts *o, const struct tree_stats *st)
{
	char human[32], rate[32];
	double secs = st->seconds > 1e-6 ? st->seconds : 1e-6;
	double bps = (double)st->bytes / secs;

	if (o->json) {
		summary_json(st, bps);
		return;
	}
	if (o->dry_run)
		return;
	if (progress_bytes(human, sizeof(human), st->bytes) == -1)
		human[0] = '\0';
	/* The one unit system (IEC, as the progress bar): MiB/s. */
	if (progress_rate(rate, sizeof(rate), bps) == -1)
		rate[0] = '\0';
	ui_say(u,
	    "%s %" PRIu64 " files (%s) in %.2f s (%s), %" PRIu64
	    " unchanged, %" PRIu64 " deleted%s\n",
	    o->up ? "sent" : "received", st->sent, human, st->seconds, rate,
	    st->skipped, st->deleted, st->failed > 0 ? ", some failed" : "");
}

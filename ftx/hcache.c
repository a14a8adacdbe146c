/*
 * hcache.c - the client's cache of local files' SHA-256 (see hcache.h).
 *
 * In memory: an array of entries and an open-addressing index over it
 * (power-of-two slots, linear probing, at most half full).  On disk:
 *
 *	ftx-hashes v1
 *	<dev> <inode> <size> <mtime-ns> <sha256>
 *	...
 */
#include "hcache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "afile.h"
#include "ftx_limits.h"
#include "rpl.h"
#include "str.h"

#define HCACHE_MAGIC "ftx-hashes v1\n"
/* One line: four numbers of at most 20 digits (and a sign), a digest. */
#define HCACHE_LINE_MAX (4 * 22 + HASH_SHA256_HEXLEN + 2)

struct hc_entry {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
	char sha[HASH_SHA256_HEXLEN + 1];
	int used; /* looked up or stored in this run */
};

struct hcache {
	char path[FTX_PATH_MAX];
	struct hc_entry *v;
	size_t n, cap;
	uint32_t *slot; /* entry index + 1, 0 = empty */
	size_t nslot;
	int dirty; /* a digest was stored since the load */
};

int
hcache_default_path(char *out, size_t n)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	/* The XDG rule: a relative XDG_CACHE_HOME is ignored. */
	if (x != NULL && x[0] == '/')
		return str_fmt(out, n, "%s/ftx/hashes", x);
	if (home != NULL && home[0] == '/')
		return str_fmt(out, n, "%s/.cache/ftx/hashes", home);
	return -1;
}

static int64_t
mtime_ns(const struct stat *sb)
{
	return (int64_t)sb->st_mtim.tv_sec * 1000000000LL +
	    (int64_t)sb->st_mtim.tv_nsec;
}

static uint64_t
mix(uint64_t h, uint64_t v)
{
	/* splitmix64's finaliser over a running sum: cheap and well
	 * spread for inode numbers that differ in their low bits. */
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	return h;
}

static uint64_t
key_hash(const struct hc_entry *e)
{
	return mix(
	    mix(mix(mix(0, e->dev), e->ino), e->size), (uint64_t)e->mtime_ns);
}

static int
key_eq(const struct hc_entry *a, const struct hc_entry *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns;
}

/* The slot holding `k`, or the empty slot where it would go. */
static size_t
find_slot(const struct hcache *h, const struct hc_entry *k)
{
	size_t i = (size_t)key_hash(k) & (h->nslot - 1);

	while (h->slot[i] != 0 && !key_eq(&h->v[h->slot[i] - 1], k))
		i = (i + 1) & (h->nslot - 1);
	return i;
}

/* Keep the index at most half full. */
static int
grow_index(struct hcache *h)
{
	size_t ns = h->nslot == 0 ? 1024 : h->nslot * 2, i;
	uint32_t *s;

	if (h->n + 1 <= h->nslot / 2)
		return 0;
	if (ns > SIZE_MAX / sizeof(*s) || ns > UINT32_MAX)
		return -1;
	if ((s = calloc(ns, sizeof(*s))) == NULL)
		return -1;
	free(h->slot);
	h->slot = s;
	h->nslot = ns;
	for (i = 0; i < h->n; i++)
		h->slot[find_slot(h, &h->v[i])] = (uint32_t)(i + 1);
	return 0;
}

/* Add or replace an entry; 0 or -1 (out of memory). */
static int
insert(struct hcache *h, const struct hc_entry *e)
{
	struct hc_entry *nv;
	size_t i, nc;

	if (grow_index(h) == -1)
		return -1;
	i = find_slot(h, e);
	if (h->slot[i] != 0) {
		h->v[h->slot[i] - 1] = *e;
		return 0;
	}
	if (h->n == h->cap) {
		nc = h->cap == 0 ? 256 : h->cap * 2;
		if (nc > SIZE_MAX / sizeof(*nv) ||
		    (nv = realloc(h->v, nc * sizeof(*nv))) == NULL)
			return -1;
		h->v = nv;
		h->cap = nc;
	}
	h->v[h->n] = *e;
	h->slot[i] = (uint32_t)(++h->n);
	return 0;
}

/* A signed decimal (mtimes before 1970 are negative). */
static int
parse_i64(const char *s, int64_t *out)
{
	uint64_t v;

	if (s[0] == '-') {
		if (str_to_u64(s + 1, (uint64_t)INT64_MAX, &v) == -1 || v == 0)
			return -1;
		*out = -(int64_t)v;
		return 0;
	}
	if (str_to_u64(s, (uint64_t)INT64_MAX, &v) == -1)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* One line (NUL-terminated, no LF) into *e; 0 or -1. */
static int
parse_line(char *line, struct hc_entry *e)
{
	char *tok[5], *save = NULL, *t;
	int i = 0;

	for (t = strtok_r(line, " ", &save); t != NULL && i < 5;
	     t = strtok_r(NULL, " ", &save))
		tok[i++] = t;
	if (i != 5 || t != NULL)
		return -1;
	memset(e, 0, sizeof(*e));
	if (str_to_u64(tok[0], UINT64_MAX, &e->dev) == -1 ||
	    str_to_u64(tok[1], UINT64_MAX, &e->ino) == -1 ||
	    str_to_u64(tok[2], UINT64_MAX, &e->size) == -1 ||
	    parse_i64(tok[3], &e->mtime_ns) == -1 ||
	    !rpl_is_hex(tok[4], HASH_SHA256_HEXLEN))
		return -1;
	memcpy(e->sha, tok[4], HASH_SHA256_HEXLEN + 1);
	return 0;
}

/* Parse the whole file; -1 at the first bad line (the caller then
 * forgets everything read). */
static int
parse_all(struct hcache *h, char *text, size_t len)
{
	struct hc_entry e;
	char *p, *nl;

	if (len < sizeof(HCACHE_MAGIC) - 1 ||
	    memcmp(text, HCACHE_MAGIC, sizeof(HCACHE_MAGIC) - 1) != 0)
		return -1;
	p = text + sizeof(HCACHE_MAGIC) - 1;
	while (p < text + len) {
		/* A file cut short (no final LF) is a bad one too. */
		if ((nl = memchr(p, '\n', (size_t)(text + len - p))) == NULL ||
		    nl - p > HCACHE_LINE_MAX)
			return -1;
		*nl = '\0';
		if (strlen(p) != (size_t)(nl - p) || parse_line(p, &e) == -1 ||
		    h->n >= FTX_HCACHE_MAX || insert(h, &e) == -1)
			return -1;
		p = nl + 1;
	}
	return 0;
}

/* Read the file into a NUL-terminated buffer; NULL if there is none or
 * it is not a plain file of a sane size. */
static char *
read_file(const char *path, size_t *len)
{
	struct stat sb;
	char *buf = NULL;
	ssize_t got;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1)
		return NULL;
	/* SECURITY: bounded; a cache larger than it can be is not ours. */
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > FTX_HCACHE_BYTES_MAX)
		goto fail;
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		goto fail;
	got = pread(fd, buf, (size_t)sb.st_size, 0);
	if (got != (ssize_t)sb.st_size)
		goto fail;
	buf[got] = '\0';
	*len = (size_t)got;
	close(fd);
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

static void
forget_all(struct hcache *h)
{
	h->n = 0;
	if (h->slot != NULL)
		memset(h->slot, 0, h->nslot * sizeof(*h->slot));
}

struct hcache *
hcache_load(const char *path, char *err, size_t errlen)
{
	struct hcache *h;
	size_t len;
	char *text;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		str_err(err, errlen, "out of memory");
		return NULL;
	}
	if (str_copy(h->path, sizeof(h->path), path) == -1) {
		str_err(err, errlen, "hash cache path too long");
		free(h);
		return NULL;
	}
	if ((text = read_file(path, &len)) == NULL)
		return h;
	/* SECURITY: a cache we cannot parse in full may be damaged
	 * anywhere: none of it is trusted. */
	if (parse_all(h, text, len) == -1)
		forget_all(h);
	free(text);
	return h;
}

static void
key_of(struct hc_entry *k, const struct stat *sb)
{
	memset(k, 0, sizeof(*k));
	k->dev = (uint64_t)sb->st_dev;
	k->ino = (uint64_t)sb->st_ino;
	k->size = (uint64_t)sb->st_size;
	k->mtime_ns = mtime_ns(sb);
}

int
hcache_get(struct hcache *h, const struct stat *sb, char *sha)
{
	struct hc_entry k;
	size_t i;

	if (h == NULL || h->nslot == 0)
		return 0;
	key_of(&k, sb);
	i = find_slot(h, &k);
	if (h->slot[i] == 0)
		return 0;
	h->v[h->slot[i] - 1].used = 1;
	memcpy(sha, h->v[h->slot[i] - 1].sha, HASH_SHA256_HEXLEN + 1);
	return 1;
}

int
hcache_put(struct hcache *h, const struct stat *sb, const char *sha, time_t now)
{
	struct hc_entry e;

	if (h == NULL || !rpl_is_hex(sha, HASH_SHA256_HEXLEN))
		return 0;
	/* SECURITY: see "racy" in hcache.h: a write in the same second
	 * (or a clock running behind the file's) may follow unseen. */
	if (sb->st_mtim.tv_sec >= now - 1)
		return 0;
	key_of(&e, sb);
	memcpy(e.sha, sha, sizeof(e.sha));
	e.used = 1;
	if (insert(h, &e) == -1)
		return -1;
	h->dirty = 1;
	return 0;
}

size_t
hcache_count(const struct hcache *h)
{
	return h == NULL ? 0 : h->n;
}

/* mkdir -p of the cache's directory, private. */
static int
make_parents(const char *path, char *err, size_t errlen)
{
	char dir[FTX_PATH_MAX];
	size_t i;

	if (str_copy(dir, sizeof(dir), path) == -1)
		return str_err(err, errlen, "hash cache path too long");
	for (i = 1; dir[i] != '\0'; i++) {
		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return str_err(err, errlen, "cannot create %s: %s", dir,
			    strerror(errno));
		dir[i] = '/';
	}
	return 0;
}

/* Append the lines of the entries with used == `used`, until `left`
 * runs out. */
static int
emit(struct hcache *h, FILE *f, int used, size_t *left)
{
	const struct hc_entry *e;
	size_t i;

	for (i = 0; i<h->n && * left> 0; i++) {
		e = &h->v[i];
		if (e->used != used)
			continue;
		if (fprintf(f,
			"%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %s\n",
			e->dev, e->ino, e->size, e->mtime_ns, e->sha) < 0)
			return -1;
		(*left)--;
	}
	return 0;
}

int
hcache_save(struct hcache *h, char *err, size_t errlen)
{
	size_t len = 0, left = FTX_HCACHE_MAX;
	char *text = NULL;
	FILE *f;
	int rc = -1;

	/* Nothing learnt: the file on disk already says it all (only the
	 * order of old entries, used when the cache overflows, would
	 * change; not worth rewriting every entry after each sync). */
	if (h == NULL || !h->dirty)
		return 0;
	if (make_parents(h->path, err, errlen) == -1)
		return -1;
	if ((f = open_memstream(&text, &len)) == NULL)
		return str_err(err, errlen, "out of memory");
	/* The entries of this run first: they are what the next run of
	 * the same sync will ask for. */
	if (fputs(HCACHE_MAGIC, f) == EOF || emit(h, f, 1, &left) == -1 ||
	    emit(h, f, 0, &left) == -1) {
		fclose(f);
		str_err(err, errlen, "out of memory");
		goto out;
	}
	if (fclose(f) != 0) {
		str_err(err, errlen, "out of memory");
		goto out;
	}
	rc =
	    afile_put_path(h->path, text, len, 0600, AFILE_NOSYNC, err, errlen);
out:
	free(text);
	return rc;
}

void
hcache_free(struct hcache *h)
{
	if (h == NULL)
		return;
	free(h->v);
	free(h->slot);
	free(h);
}

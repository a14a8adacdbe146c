/*
 * gentree.c - the tree of small files for bench/tree.sh (issue 13).
 *
 *   gentree gen DIR SEED FILES         create the tree under DIR (new)
 *   gentree change DIR SEED FILES VER  rewrite the 1% "changed" files
 *
 * The tree depends only on SEED and FILES: FILES/50 directories (at
 * least one: DIR itself), a fifth of them at the top and the others one
 * or two levels below (three deep in all), and FILES
 * files spread over them, sized from 100 B to 1 MiB with a log-uniform
 * spread squashed towards the small end (size = 100 B * 10486^(u^2.5) for
 * a uniform u), so that most files are small and a few large ones carry
 * most of the bytes: 10,000 files come to about 500 MB.  The contents are
 * pseudo-random (incompressible) bytes from the seed, the file and a
 * version number: version 0 is the tree as generated.
 *
 * "change" rewrites FILES/100 files (at least one), picked from the seed,
 * with the contents of version VER (same sizes, different bytes; VER 0
 * puts the originals back) and sets their mtime to the tree's time plus
 * VER days, so that tools that compare sizes and times see them as
 * changed.  Every file and directory of the tree has the same fixed mtime
 * (2020-09-13), so a tree generated twice is the same tree.
 *
 * gen prints "files=N dirs=D bytes=B"; change prints one relative path
 * per changed file, then "changed=N bytes=B" on stderr.  A benchmark
 * tool, built by bench/run.sh and bench/tree.sh, not by the Makefile.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GT_MIN_SIZE 100.0
#define GT_MAX_SIZE (1024.0 * 1024.0)
/* The skew towards small files: 1 is plain log-uniform (about 1.1 GB
 * for 10,000 files), 2.5 gives about 500 MB. */
#define GT_SKEW 2.5
#define GT_FILES_PER_DIR 50
#define GT_CHANGE_PER 100
#define GT_MAX_DEPTH 3
#define GT_MAX_FILES 1000000
/* 2020-09-13T12:26:40Z: the mtime of every file of version 0. */
#define GT_MTIME 1600000000
#define GT_DAY 86400
#define GT_BUF (256 * 1024)

struct gdir {
	char path[64]; /* relative to the top, "" for the top itself */
	int depth;
};

struct gfile {
	char path[96];
	uint64_t size;
};

struct gtree {
	struct gdir *dirs;
	struct gfile *files;
	size_t ndirs;
	size_t nfiles;
};

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z;

	z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A uniform double in [0, 1) from the top 53 bits. */
static double
unit(uint64_t *s)
{
	return (double)(splitmix(s) >> 11) / 9007199254740992.0;
}

static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Lay out the tree: directories first (each one's parent comes before it,
 * so creating them in order works), then files. */
static int
layout(struct gtree *t, uint64_t seed, size_t nfiles)
{
	uint64_t s = seed;
	size_t i, j, p, ntop;
	int n, k, want;
	double u;

	t->nfiles = nfiles;
	t->ndirs = nfiles / GT_FILES_PER_DIR;
	if (t->ndirs == 0)
		t->ndirs = 1;
	t->dirs = calloc(t->ndirs, sizeof(*t->dirs));
	t->files = calloc(nfiles, sizeof(*t->files));
	if (t->dirs == NULL || t->files == NULL)
		return -1;
	ntop = t->ndirs / 5;
	if (ntop == 0)
		ntop = 1;
	for (i = 1; i < t->ndirs; i++) {
		/* The first fifth sit at the top; of the rest, 60% one level
		 * down and 40% two (three deep in all).  The parent is any
		 * earlier directory of the level above, tried a bounded
		 * number of times, else a top-level one. */
		p = 0;
		if (i > ntop) {
			want = splitmix(&s) % 10 < 6 ? 1 : 2;
			p = 1 + (size_t)(splitmix(&s) % ntop);
			for (k = 0; k < 64; k++) {
				j = 1 + (size_t)(splitmix(&s) % (i - 1));
				if (t->dirs[j].depth == want) {
					p = j;
					break;
				}
			}
		}
		n = snprintf(t->dirs[i].path, sizeof(t->dirs[i].path),
		    "%s%sd%03zu", t->dirs[p].path, p == 0 ? "" : "/", i);
		if (n < 0 || (size_t)n >= sizeof(t->dirs[i].path))
			return -1;
		t->dirs[i].depth = t->dirs[p].depth + 1;
	}
	for (i = 0; i < nfiles; i++) {
		p = (size_t)(splitmix(&s) % t->ndirs);
		u = pow(unit(&s), GT_SKEW);
		t->files[i].size =
		    (uint64_t)(GT_MIN_SIZE * pow(GT_MAX_SIZE / GT_MIN_SIZE, u));
		n = snprintf(t->files[i].path, sizeof(t->files[i].path),
		    "%s%sf%06zu.bin", t->dirs[p].path, p == 0 ? "" : "/", i);
		if (n < 0 || (size_t)n >= sizeof(t->files[i].path))
			return -1;
	}
	return 0;
}

static int
set_mtime(const char *path, time_t t)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = t;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	return utimensat(AT_FDCWD, path, ts, 0);
}

/* Write file i of the tree with the contents of version ver. */
static int
write_file(const char *top, const struct gfile *f, uint64_t seed, size_t i,
    uint64_t ver)
{
	static uint64_t buf[GT_BUF / 8];
	char path[PATH_MAX];
	uint64_t s, left;
	size_t chunk, k;
	ssize_t w;
	int fd, n;

	n = snprintf(path, sizeof(path), "%s/%s", top, f->path);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	s = seed ^ (0x5851f42d4c957f2dULL * (i + 1)) ^
	    (0x14057b7ef767814fULL * (ver + 1));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		goto fail;
	for (left = f->size; left > 0; left -= chunk) {
		chunk = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		for (k = 0; k < (chunk + 7) / 8; k++)
			buf[k] = splitmix(&s);
		w = write(fd, buf, chunk);
		if (w < 0 || (size_t)w != chunk)
			goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return set_mtime(path, (time_t)(GT_MTIME + ver * GT_DAY));
fail:
	fprintf(stderr, "gentree: %s: %s\n", path, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

static int
gen(const char *top, const struct gtree *t, uint64_t seed)
{
	char path[PATH_MAX];
	uint64_t total = 0;
	size_t i;
	int n;

	if (mkdir(top, 0755) == -1 && errno != EEXIST) {
		fprintf(stderr, "gentree: %s: %s\n", top, strerror(errno));
		return -1;
	}
	for (i = 1; i < t->ndirs; i++) {
		n = snprintf(path, sizeof(path), "%s/%s", top, t->dirs[i].path);
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    mkdir(path, 0755) == -1) {
			fprintf(stderr, "gentree: mkdir %s failed\n", path);
			return -1;
		}
	}
	for (i = 0; i < t->nfiles; i++) {
		if (write_file(top, &t->files[i], seed, i, 0) == -1)
			return -1;
		total += t->files[i].size;
	}
	/* In reverse creation order, children before parents: a
	 * directory's time is set after everything inside it is written. */
	for (i = t->ndirs; i-- > 0;) {
		n = snprintf(path, sizeof(path), "%s/%s", top, t->dirs[i].path);
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    set_mtime(path, GT_MTIME) == -1) {
			fprintf(stderr, "gentree: utimes %s failed\n", path);
			return -1;
		}
	}
	printf("files=%zu dirs=%zu bytes=%" PRIu64 "\n", t->nfiles, t->ndirs,
	    total);
	return 0;
}

/* The changed files: nfiles/100 distinct indexes from the seed, in a
 * fixed order (a partial Fisher-Yates shuffle). */
static int
change(const char *top, const struct gtree *t, uint64_t seed, uint64_t ver)
{
	size_t *idx, n, i, j, tmp;
	uint64_t s = seed ^ 0xc4ceb9fe1a85ec53ULL, total = 0;
	int rc = -1;

	n = t->nfiles / GT_CHANGE_PER;
	if (n == 0)
		n = 1;
	if ((idx = calloc(t->nfiles, sizeof(*idx))) == NULL)
		return -1;
	for (i = 0; i < t->nfiles; i++)
		idx[i] = i;
	/* i < nfiles too: n <= nfiles, but say so (no division by zero). */
	for (i = 0; i < n && i < t->nfiles; i++) {
		j = i + (size_t)(splitmix(&s) % (t->nfiles - i));
		tmp = idx[i];
		idx[i] = idx[j];
		idx[j] = tmp;
		if (write_file(top, &t->files[idx[i]], seed, idx[i], ver) == -1)
			goto out;
		total += t->files[idx[i]].size;
		printf("%s\n", t->files[idx[i]].path);
	}
	fprintf(stderr, "changed=%zu bytes=%" PRIu64 "\n", n, total);
	rc = 0;
out:
	free(idx);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: gentree gen DIR SEED FILES\n"
	    "       gentree change DIR SEED FILES VERSION\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct gtree t = {0};
	uint64_t seed, nfiles, ver = 0;
	int rc;

	if (argc < 5)
		usage();
	if (parse_u64(argv[3], UINT64_MAX, &seed) == -1 ||
	    parse_u64(argv[4], GT_MAX_FILES, &nfiles) == -1 || nfiles == 0)
		usage();
	if (strcmp(argv[1], "gen") == 0 && argc == 5)
		;
	else if (strcmp(argv[1], "change") == 0 && argc == 6) {
		if (parse_u64(argv[5], 100000, &ver) == -1)
			usage();
	} else
		usage();
	if (layout(&t, seed, (size_t)nfiles) == -1) {
		fprintf(stderr, "gentree: cannot lay out the tree\n");
		rc = -1;
	} else if (argv[1][0] == 'g')
		rc = gen(argv[2], &t, seed);
	else
		rc = change(argv[2], &t, seed, ver);
	if (fflush(stdout) == EOF)
		rc = -1;
	free(t.dirs);
	free(t.files);
	return rc == 0 ? 0 : 1;
}

/*
 * test_store_posix.c - what the directory-tree backend (ftxd/
 * store_posix.c) adds to the contract test_store.c checks: the layout
 * on disk, things planted in the tree (symbolic links, directories,
 * FIFOs, hostile sidecars), the hash sidecar's formats, file modes, the
 * users' areas under ROOT/.users and the move of old ROOT/USER areas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "beneath.h"
#include "ftx_limits.h"
#include "hash.h"
#include "store.h"
#include "store_posix.h"
#include "str.h"

struct fx {
	char root[64];
	char out[64]; /* a directory outside the root, for links to aim at */
	struct store *st;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_err e;

	assert_non_null(f);
	assert_int_equal(
	    str_copy(f->root, sizeof(f->root), "/tmp/ftx-sposix-XXXXXX"), 0);
	assert_non_null(mkdtemp(f->root));
	assert_int_equal(
	    str_copy(f->out, sizeof(f->out), "/tmp/ftx-outside-XXXXXX"), 0);
	assert_non_null(mkdtemp(f->out));
	assert_int_equal(store_posix_open(&f->st, f->root, &e), 0);
	*state = f;
	return 0;
}

static void
rm_rf(const char *dir)
{
	char cmd[128];

	assert_int_equal(str_fmt(cmd, sizeof(cmd), "rm -rf '%s'", dir), 0);
	assert_int_equal(system(cmd), 0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	rm_rf(f->root);
	rm_rf(f->out);
	free(f);
	return 0;
}

/* ROOT/rel (or OUT/rel). */
static const char *
at(const char *dir, const char *rel)
{
	static char paths[4][512];
	static int i;
	char *p = paths[i++ % 4];

	assert_int_equal(str_fmt(p, sizeof(paths[0]), "%s/%s", dir, rel), 0);
	return p;
}

static void
put(const char *path, const char *s)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(s, fp);
	assert_int_equal(fclose(fp), 0);
}

static int
exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static mode_t
mode_of(const char *path)
{
	struct stat sb;

	assert_int_equal(lstat(path, &sb), 0);
	return sb.st_mode;
}

static void
tick(void)
{
	struct timespec ts = {0, 20 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

static void
digest(enum hash_alg alg, const char *s, unsigned char *out)
{
	struct hash_ctx *h = hash_new(alg, NULL, 0);

	assert_non_null(h);
	assert_int_equal(hash_update(h, s, strlen(s)), 0);
	assert_int_equal(hash_final(h, out), 0);
	hash_free(h);
}

static void
upload(const struct store *st, const char *name, const char *s)
{
	unsigned char sha[HASH_SHA256_LEN];
	char key[STORE_PKEY_LEN];
	struct store_part *w;
	struct store_err e;

	digest(HASH_SHA256, s, sha);
	store_partial_key(key, "uploader", name, strlen(s));
	assert_int_equal(store_part_open(st, key, 0, &w, &e), 0);
	assert_int_equal(store_part_write_at(w, s, strlen(s), 0, &e), 0);
	assert_int_equal(store_part_commit(w, name, sha, (time_t)-1, 0, &e), 0);
	store_part_close(w, 0);
}

static void
assert_notfound(const struct store *st, const char *name)
{
	struct store_file *rf;
	struct store_stat sb;
	struct store_err e;

	assert_int_equal(store_read_open(st, name, &rf, &sb, &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);
}

static void
read_all(const struct store *st, const char *name, char *buf, size_t cap)
{
	struct store_file *rf;
	struct store_stat sb;
	struct store_err e;
	ssize_t n;

	assert_int_equal(store_read_open(st, name, &rf, &sb, &e), 0);
	n = store_read_at(rf, buf, cap - 1, 0, &e);
	assert_int_equal(n, sb.size);
	buf[n] = '\0';
	store_read_close(rf);
}

struct names {
	size_t n;
	char v[16][64];
};

static int
collect(void *arg, const struct store_entry *ent)
{
	struct names *l = arg;

	assert_true(l->n < 16);
	assert_int_equal(str_copy(l->v[l->n++], sizeof(l->v[0]), ent->name), 0);
	return 0;
}

static void
listing(const struct store *st, struct names *l)
{
	struct store_err e;

	memset(l, 0, sizeof(*l));
	assert_int_equal(store_list(st, 100, collect, l, &e), 0);
}

/* Whether a hashed file's cache answers, and with what. */
static int
cached(
    const struct store *st, const char *name, unsigned char *sha, int *has_md5)
{
	unsigned char md5[HASH_MD5_LEN];
	struct store_file *rf;
	struct store_stat sb;
	struct store_err e;
	int rc;

	assert_int_equal(store_read_open(st, name, &rf, &sb, &e), 0);
	rc = store_cached(rf, sha, md5, has_md5);
	store_read_close(rf);
	return rc;
}

static void
hash_now(const struct store *st, const char *name, unsigned char *sha,
    unsigned char *md5)
{
	struct store_file *rf;
	struct store_stat sb;
	struct store_err e;

	assert_int_equal(store_read_open(st, name, &rf, &sb, &e), 0);
	assert_int_equal(store_hash(rf, sha, md5, &e), 0);
	store_read_close(rf);
}

/* No temporary of the sidecar writer left behind in `meta`. */
static void
assert_no_temporaries(const char *meta)
{
	struct dirent *de;
	DIR *d = opendir(meta);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		assert_int_not_equal(strncmp(de->d_name, ".t-", 3), 0);
	closedir(d);
}

static void
test_planted_not_files(void **state)
{
	struct fx *f = *state;
	struct store_err e;
	struct names l;
	uint64_t n;

	upload(f->st, "real", "the real file");
	put(at(f->out, "secret"), "outside the root");
	assert_int_equal(symlink("real", at(f->root, "in")), 0);
	assert_int_equal(symlink(at(f->out, "secret"), at(f->root, "out")), 0);
	assert_int_equal(symlink(f->out, at(f->root, "outdir")), 0);
	assert_int_equal(mkdir(at(f->root, "dir"), 0755), 0);
	put(at(f->root, "dir/inner"), "x");
	assert_int_equal(mkfifo(at(f->root, "fifo"), 0644), 0);

	/* A FIFO without a writer would block a plain open(): the alarm
	 * turns a hang into a failure. */
	alarm(10);
	assert_notfound(f->st, "in");
	assert_notfound(f->st, "out");
	assert_notfound(f->st, "outdir");
	assert_notfound(f->st, "outdir/secret");
	assert_notfound(f->st, "fifo");
	{
		struct store_file *rf;
		struct store_stat sb;

		assert_int_equal(
		    store_read_open(f->st, "dir", &rf, &sb, &e), -1);
		assert_int_equal(e.code, STORE_ISDIR);
	}
	alarm(0);

	listing(f->st, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "real");
	/* The file in the directory counts; nothing behind a link. */
	assert_int_equal(store_usage(f->st, NULL, &n, &e), 0);
	assert_int_equal(n, 14);
	/* Nothing planted can be deleted, nor what it points at. */
	assert_int_equal(store_delete(f->st, "in", &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);
	assert_int_equal(store_delete(f->st, "out", &e), -1);
	assert_int_equal(store_delete(f->st, "dir", &e), -1);
	assert_int_equal(store_delete(f->st, "fifo", &e), -1);
	assert_true(S_ISLNK(mode_of(at(f->root, "in"))));
	assert_true(S_ISLNK(mode_of(at(f->root, "out"))));
	assert_true(exists(at(f->out, "secret")));
	assert_true(exists(at(f->root, "real")));
	assert_true(exists(at(f->root, "dir/inner")));
}

static void
test_commit_over_directory(void **state)
{
	struct fx *f = *state;
	unsigned char sha[HASH_SHA256_LEN];
	char key[STORE_PKEY_LEN];
	struct store_part *w;
	struct store_err e;
	uint64_t n;

	assert_int_equal(mkdir(at(f->root, "d"), 0755), 0);
	assert_int_equal(mkdir(at(f->root, "full"), 0755), 0);
	put(at(f->root, "full/x"), "x");
	digest(HASH_SHA256, "data", sha);
	store_partial_key(key, "me", "d", 4);
	assert_int_equal(store_part_open(f->st, key, 0, &w, &e), 0);
	assert_int_equal(store_part_write_at(w, "data", 4, 0, &e), 0);
	assert_int_equal(store_part_commit(w, "d", sha, (time_t)-1, 0, &e), -1);
	assert_int_equal(e.code, STORE_ISDIR);
	assert_int_equal(
	    store_part_commit(w, "full", sha, (time_t)-1, 0, &e), -1);
	assert_int_equal(e.code, STORE_ISDIR);
	assert_string_equal(store_code_proto(e.code), "ISDIR");
	/* Still a partial: discarding it removes it. */
	assert_int_equal(store_partial_size(f->st, key, &n, &e), 0);
	assert_int_equal(n, 4);
	store_part_close(w, 0);
	assert_int_equal(store_partial_size(f->st, key, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_true(S_ISDIR(mode_of(at(f->root, "d"))));
	assert_true(exists(at(f->root, "full/x")));
	assert_false(exists(at(f->root, ".ftx/d")));
}

static void
test_hidden_and_bad_names_not_listed(void **state)
{
	struct fx *f = *state;
	struct names l;

	put(at(f->root, ".hidden"), "h");
	put(at(f->root, "bad\001name"), "b");
	put(at(f->root, "esc\033[2J"), "b");
	put(at(f->root, "del\177"), "b");
	put(at(f->root, "c1\302\233x"), "b"); /* U+009B, a CSI */
	put(at(f->root, "broken\377utf8"), "b");
	put(at(f->root, "back\\slash"), "b");
	put(at(f->root, "shown"), "s");
	put(at(f->root, "caf\303\251"), "s"); /* UTF-8 is fine */
	listing(f->st, &l);
	assert_int_equal(l.n, 2);
	assert_true(
	    strcmp(l.v[0], "shown") == 0 || strcmp(l.v[1], "shown") == 0);
	assert_true(strcmp(l.v[0], "caf\303\251") == 0 ||
	    strcmp(l.v[1], "caf\303\251") == 0);
}

/* A sidecar line as an older server (v1), or anyone, would write. */
static void
put_sidecar(const struct fx *f, const char *name, const char *head)
{
	char line[512];
	struct stat sb;

	assert_int_equal(stat(at(f->root, name), &sb), 0);
	assert_int_equal(
	    str_fmt(line, sizeof(line), "%s %llu %lld %ld %llu\n", head,
		(unsigned long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
		(long)sb.st_mtim.tv_nsec, (unsigned long long)sb.st_ino),
	    0);
	(void)unlink(at(f->root, at(".ftx", name)));
	put(at(f->root, at(".ftx", name)), line);
}

static void
test_sidecar_v1_still_read(void **state)
{
	struct fx *f = *state;
	unsigned char sha[HASH_SHA256_LEN], wsha[HASH_SHA256_LEN];
	unsigned char md5[HASH_MD5_LEN], wmd5[HASH_MD5_LEN];
	char head[128], hex[HASH_SHA256_HEXLEN + 1];
	int has_md5 = -1;

	put(at(f->root, "old.bin"), "legacy");
	digest(HASH_SHA256, "legacy", wsha);
	digest(HASH_MD5, "legacy", wmd5);
	/* A file put in by hand has nothing cached. */
	assert_int_equal(cached(f->st, "old.bin", sha, &has_md5), -1);
	str_hex(hex, wsha, sizeof(wsha));
	assert_int_equal(str_fmt(head, sizeof(head), "v1 %s", hex), 0);
	put_sidecar(f, "old.bin", head);
	/* An older server's entry is valid: it just lacks the MD5. */
	assert_int_equal(cached(f->st, "old.bin", sha, &has_md5), 0);
	assert_int_equal(has_md5, 0);
	assert_memory_equal(sha, wsha, sizeof(sha));
	/* Asked for, the MD5 is computed and cached next to it (v2). */
	hash_now(f->st, "old.bin", sha, md5);
	assert_memory_equal(md5, wmd5, sizeof(md5));
	assert_int_equal(cached(f->st, "old.bin", sha, &has_md5), 0);
	assert_int_equal(has_md5, 1);
	assert_memory_equal(sha, wsha, sizeof(sha));
	assert_no_temporaries(at(f->root, ".ftx"));
}

/* A damaged or hostile sidecar: not used, and a re-hash replaces it. */
static void
check_rehash(const struct fx *f, const char *name, const char *content)
{
	unsigned char sha[HASH_SHA256_LEN], want[HASH_SHA256_LEN];
	int has_md5;

	digest(HASH_SHA256, content, want);
	alarm(10); /* a FIFO sidecar must not block */
	assert_int_equal(cached(f->st, name, sha, &has_md5), -1);
	hash_now(f->st, name, sha, NULL);
	alarm(0);
	assert_memory_equal(sha, want, sizeof(sha));
	assert_no_temporaries(at(f->root, ".ftx"));
}

static void
test_sidecar_damaged_means_rehash(void **state)
{
	struct fx *f = *state;
	unsigned char sha[HASH_SHA256_LEN], md5[HASH_MD5_LEN];
	char head[256], hex[HASH_SHA256_HEXLEN + 1], mhex[2 * HASH_MD5_LEN + 1];
	char line[512];
	int has_md5;

	put(at(f->root, "f"), "content");
	digest(HASH_SHA256, "content", sha);
	digest(HASH_MD5, "content", md5);
	str_hex(hex, sha, sizeof(sha));
	str_hex(mhex, md5, sizeof(md5));

	/* A bad hex digit in the MD5, a short MD5, an unknown version, a
	 * short SHA-256, a stale version line, garbage, an empty file. */
	assert_int_equal(
	    str_fmt(head, sizeof(head), "v2 %s %.31sz", hex, mhex), 0);
	put_sidecar(f, "f", head);
	check_rehash(f, "f", "content");
	assert_int_equal(
	    str_fmt(head, sizeof(head), "v2 %s %.31s", hex, mhex), 0);
	put_sidecar(f, "f", head);
	check_rehash(f, "f", "content");
	assert_int_equal(str_fmt(head, sizeof(head), "v3 %s", hex), 0);
	put_sidecar(f, "f", head);
	check_rehash(f, "f", "content");
	assert_int_equal(str_fmt(head, sizeof(head), "v1 %.63s", hex), 0);
	put_sidecar(f, "f", head);
	check_rehash(f, "f", "content");
	assert_int_equal(
	    str_fmt(line, sizeof(line), "v1 %s 7 1 2 3\n", hex), 0);
	put(at(f->root, ".ftx/f"), line);
	check_rehash(f, "f", "content");
	put(at(f->root, ".ftx/f"), "\377\377garbage");
	check_rehash(f, "f", "content");
	put(at(f->root, ".ftx/f"), "");
	check_rehash(f, "f", "content");
	/* Overlong: a valid line padded past what is read. */
	memset(head, 'a', 200);
	head[200] = '\0';
	assert_int_equal(str_fmt(line, sizeof(line), "v1 %s%s", hex, head), 0);
	put_sidecar(f, "f", line);
	check_rehash(f, "f", "content");

	/* A valid line reached through a symbolic link is not used. */
	assert_int_equal(str_fmt(head, sizeof(head), "v1 %s", hex), 0);
	put_sidecar(f, "f", head);
	assert_int_equal(cached(f->st, "f", sha, &has_md5), 0);
	assert_int_equal(
	    rename(at(f->root, ".ftx/f"), at(f->out, "sidecar")), 0);
	assert_int_equal(
	    symlink(at(f->out, "sidecar"), at(f->root, ".ftx/f")), 0);
	check_rehash(f, "f", "content");
	/* A FIFO or a directory in its place. */
	assert_int_equal(unlink(at(f->root, ".ftx/f")), 0);
	assert_int_equal(mkfifo(at(f->root, ".ftx/f"), 0644), 0);
	alarm(10);
	assert_int_equal(cached(f->st, "f", sha, &has_md5), -1);
	alarm(0);
	assert_int_equal(unlink(at(f->root, ".ftx/f")), 0);
	assert_int_equal(mkdir(at(f->root, ".ftx/f"), 0755), 0);
	/* (A directory cannot be replaced by the cache's rename: it stays,
	 * and every request hashes; but no temporary is left behind.) */
	check_rehash(f, "f", "content");
	assert_true(S_ISDIR(mode_of(at(f->root, ".ftx/f"))));
}

static void
test_changed_file_invalidates(void **state)
{
	struct fx *f = *state;
	unsigned char sha[HASH_SHA256_LEN], want[HASH_SHA256_LEN];
	struct timespec ts[2];
	struct stat sb;
	int fd, has_md5;

	upload(f->st, "c", "aaaa");
	assert_int_equal(cached(f->st, "c", sha, &has_md5), 0);
	/* Rewritten in place, same size: a new mtime. */
	tick();
	fd = open(at(f->root, "c"), O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "bbbb", 4, 0), 4);
	close(fd);
	assert_int_equal(cached(f->st, "c", sha, &has_md5), -1);
	hash_now(f->st, "c", sha, NULL);
	digest(HASH_SHA256, "bbbb", want);
	assert_memory_equal(sha, want, sizeof(sha));
	assert_int_equal(cached(f->st, "c", sha, &has_md5), 0);

	/* Replaced by another file of the same size and mtime: a new
	 * inode. */
	assert_int_equal(stat(at(f->root, "c"), &sb), 0);
	put(at(f->root, "c.new"), "cccc");
	ts[0] = sb.st_atim;
	ts[1] = sb.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, at(f->root, "c.new"), ts, 0), 0);
	assert_int_equal(rename(at(f->root, "c.new"), at(f->root, "c")), 0);
	assert_int_equal(cached(f->st, "c", sha, &has_md5), -1);
	hash_now(f->st, "c", sha, NULL);
	digest(HASH_SHA256, "cccc", want);
	assert_memory_equal(sha, want, sizeof(sha));

	/* What the cache cannot see (by design, as make(1)): the same
	 * inode, size and mtime with other bytes. */
	assert_int_equal(stat(at(f->root, "c"), &sb), 0);
	fd = open(at(f->root, "c"), O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "dddd", 4, 0), 4);
	close(fd);
	ts[0] = sb.st_atim;
	ts[1] = sb.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, at(f->root, "c"), ts, 0), 0);
	assert_int_equal(cached(f->st, "c", sha, &has_md5), 0);
	assert_memory_equal(sha, want, sizeof(sha));
}

static void
test_stale_reader_leaves_no_sidecar(void **state)
{
	struct fx *f = *state;
	unsigned char sha[HASH_SHA256_LEN], want[HASH_SHA256_LEN];
	struct store_file *rf;
	struct store_stat sb;
	struct store_err e;

	put(at(f->root, "gone"), "bytes");
	assert_int_equal(store_read_open(f->st, "gone", &rf, &sb, &e), 0);
	assert_int_equal(store_delete(f->st, "gone", &e), 0);
	/* The reader still reads (and hashes) what it opened ... */
	assert_int_equal(store_hash(rf, sha, NULL, &e), 0);
	digest(HASH_SHA256, "bytes", want);
	assert_memory_equal(sha, want, sizeof(sha));
	store_read_close(rf);
	/* ... without caching it for a file no longer there. */
	assert_false(exists(at(f->root, ".ftx/gone")));
}

static void
test_stale_temporaries_removed(void **state)
{
	struct fx *f = *state;
	char key[STORE_PKEY_LEN];
	struct store_part *w;
	struct store_err e;
	uint64_t n;

	upload(f->st, "keep", "k");
	put(at(f->root, ".ftx/.t-deadbeef"), "half a sidecar");
	put(at(f->root, ".ftx/.t-"), "");
	store_partial_key(key, "me", "resumable", 100);
	assert_int_equal(store_part_open(f->st, key, 0, &w, &e), 0);
	assert_int_equal(store_part_write_at(w, "abc", 3, 0, &e), 0);
	store_part_close(w, 1);
	store_close(f->st);
	assert_int_equal(store_posix_open(&f->st, f->root, &e), 0);
	assert_false(exists(at(f->root, ".ftx/.t-deadbeef")));
	assert_false(exists(at(f->root, ".ftx/.t-")));
	/* Sidecars and partials survive a restart. */
	assert_true(exists(at(f->root, ".ftx/keep")));
	assert_int_equal(store_partial_size(f->st, key, &n, &e), 0);
	assert_int_equal(n, 3);
}

/* Committed files get 0666 minus the umask of store_posix_open's
 * caller; partials stay private while they grow. */
static void
check_modes(mode_t um, mode_t want)
{
	char root[64], key[STORE_PKEY_LEN];
	unsigned char sha[HASH_SHA256_LEN];
	struct store_part *w;
	struct store_err e;
	struct store *st;
	mode_t old;

	assert_int_equal(
	    str_copy(root, sizeof(root), "/tmp/ftx-smode-XXXXXX"), 0);
	assert_non_null(mkdtemp(root));
	old = umask(um);
	assert_int_equal(store_posix_open(&st, root, &e), 0);
	umask(old); /* read once, at the open */
	assert_int_equal(mode_of(at(root, ".ftx/.partial")) & 07777, 0700);
	assert_int_equal(mode_of(at(root, ".users")) & 07777, 0700);
	store_partial_key(key, "me", "p.bin", 2);
	assert_int_equal(store_part_open(st, key, 0, &w, &e), 0);
	assert_int_equal(store_part_write_at(w, "hi", 2, 0, &e), 0);
	assert_int_equal(
	    mode_of(at(root, at(".ftx/.partial", key))) & 07777, 0600);
	digest(HASH_SHA256, "hi", sha);
	assert_int_equal(
	    store_part_commit(w, "p.bin", sha, (time_t)-1, 0, &e), 0);
	store_part_close(w, 0);
	assert_int_equal(mode_of(at(root, "p.bin")) & 07777, want);
	store_close(st);
	rm_rf(root);
}

static void
test_modes_follow_umask(void **state)
{
	(void)state;
	check_modes(022, 0644);
	check_modes(027, 0640);
	check_modes(077, 0600);
	check_modes(002, 0664);
	check_modes(0, 0666);
}

static void
test_users_area(void **state)
{
	struct fx *f = *state;
	struct store *alice;
	struct store_err e;

	assert_int_equal(store_open_sub(f->st, "alice", &alice, &e), 0);
	assert_true(S_ISDIR(mode_of(at(f->root, ".users/alice"))));
	assert_int_equal(mode_of(at(f->root, ".users/alice")) & 07777, 0700);
	upload(alice, "mine", "alice's");
	assert_true(S_ISREG(mode_of(at(f->root, ".users/alice/mine"))));
	assert_true(S_ISREG(mode_of(at(f->root, ".users/alice/.ftx/mine"))));
	/* Not in the shared namespace, and no old-style ROOT/alice. */
	assert_false(exists(at(f->root, "mine")));
	assert_false(exists(at(f->root, "alice")));
	/* Its partials are the root's. */
	assert_no_temporaries(at(f->root, ".users/alice/.ftx"));
	assert_false(exists(at(f->root, ".users/alice/.ftx/.partial")));
	store_close(alice);
}

static void
test_users_area_symlink_refused(void **state)
{
	struct fx *f = *state;
	struct store *bob = NULL;
	struct store_err e;

	assert_int_equal(symlink(f->out, at(f->root, ".users/bob")), 0);
	assert_int_equal(store_open_sub(f->st, "bob", &bob, &e), -1);
	assert_null(bob);
	assert_false(exists(at(f->out, ".ftx")));
	/* Nor one that stays inside the root. */
	assert_int_equal(mkdir(at(f->root, "shared"), 0755), 0);
	assert_int_equal(symlink("../shared", at(f->root, ".users/eve")), 0);
	assert_int_equal(store_open_sub(f->st, "eve", &bob, &e), -1);
	assert_false(exists(at(f->root, "shared/.ftx")));
	/* A file where the area should be. */
	put(at(f->root, ".users/file"), "x");
	assert_int_equal(store_open_sub(f->st, "file", &bob, &e), -1);
	assert_true(S_ISLNK(mode_of(at(f->root, ".users/bob"))));
}

static void
test_planted_metadata_links(void **state)
{
	struct fx *f = *state;
	char key[STORE_PKEY_LEN], buf[64];
	struct store_part *w = NULL;
	struct store *st = NULL;
	struct store_err e;
	uint64_t n;

	/* A partial planted as a link: not opened, not truncated. */
	put(at(f->out, "victim"), "do not truncate");
	store_partial_key(key, "me", "x", 100);
	assert_int_equal(symlink(at(f->out, "victim"),
			     at(f->root, at(".ftx/.partial", key))),
	    0);
	assert_int_equal(store_partial_size(f->st, key, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_part_open(f->st, key, 0, &w, &e), -1);
	assert_null(w);
	assert_int_equal(
	    store_partial_usage(f->st, key, &n, &(size_t){0}, &e), 0);
	assert_int_equal(store_partial_expire(f->st, 0), 0);
	assert_int_equal(store_partial_trim(f->st, key, 0, 0), 0);
	{
		FILE *fp = fopen(at(f->out, "victim"), "r");

		assert_non_null(fp);
		assert_non_null(fgets(buf, sizeof(buf), fp));
		fclose(fp);
		assert_string_equal(buf, "do not truncate");
	}

	/* A root whose metadata or users' directory is a link does not
	 * open. */
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(rename(at(f->root, ".users"), at(f->out, "users")), 0);
	assert_int_equal(
	    symlink(at(f->out, "users"), at(f->root, ".users")), 0);
	assert_int_equal(store_posix_open(&st, f->root, &e), -1);
	assert_null(st);
	assert_int_equal(unlink(at(f->root, ".users")), 0);
	assert_int_equal(rename(at(f->root, ".ftx"), at(f->out, "ftx")), 0);
	assert_int_equal(symlink(at(f->out, "ftx"), at(f->root, ".ftx")), 0);
	assert_int_equal(store_posix_open(&st, f->root, &e), -1);
	assert_int_equal(unlink(at(f->root, ".ftx")), 0);
	assert_int_equal(store_posix_open(&f->st, f->root, &e), 0);
}

static void
test_migrate_user(void **state)
{
	struct fx *f = *state;
	unsigned char sha[HASH_SHA256_LEN], want[HASH_SHA256_LEN];
	struct store *carol;
	struct store_err e;
	struct names l;
	char buf[64];
	int has_md5;

	/* An old server's area, with a file and its cached hash. */
	assert_int_equal(mkdir(at(f->root, "carol"), 0700), 0);
	assert_int_equal(mkdir(at(f->root, "carol/.ftx"), 0755), 0);
	put(at(f->root, "carol/f.txt"), "carol's");
	assert_int_equal(store_posix_is_migrated(f->st), 0);
	assert_int_equal(store_posix_migrate_user(f->st, "carol", &e), 0);
	assert_false(exists(at(f->root, "carol")));
	assert_true(S_ISREG(mode_of(at(f->root, ".users/carol/f.txt"))));
	assert_int_equal(store_open_sub(f->st, "carol", &carol, &e), 0);
	read_all(carol, "f.txt", buf, sizeof(buf));
	assert_string_equal(buf, "carol's");
	hash_now(carol, "f.txt", sha, NULL);
	digest(HASH_SHA256, "carol's", want);
	assert_memory_equal(sha, want, sizeof(sha));
	assert_int_equal(cached(carol, "f.txt", sha, &has_md5), 0);
	store_close(carol);
	listing(f->st, &l);
	assert_int_equal(l.n, 0);
	/* Done once: again, nothing to move, and no error. */
	assert_int_equal(store_posix_migrate_user(f->st, "carol", &e), 0);
	assert_true(exists(at(f->root, ".users/carol/f.txt")));
	/* No old area: nothing happens. */
	assert_int_equal(store_posix_migrate_user(f->st, "frank", &e), 0);
	assert_false(exists(at(f->root, ".users/frank")));
	/* A shared file of a user's name is no area. */
	put(at(f->root, "gina"), "a file");
	assert_int_equal(store_posix_migrate_user(f->st, "gina", &e), 0);
	assert_true(S_ISREG(mode_of(at(f->root, "gina"))));
	assert_false(exists(at(f->root, ".users/gina")));
}

static void
test_migrate_never_moves_a_link(void **state)
{
	struct fx *f = *state;
	struct store_err e;

	put(at(f->out, "x"), "elsewhere");
	assert_int_equal(symlink(f->out, at(f->root, "dave")), 0);
	(void)store_posix_migrate_user(f->st, "dave", &e);
	assert_true(S_ISLNK(mode_of(at(f->root, "dave"))));
	assert_false(exists(at(f->root, ".users/dave")));
	assert_true(exists(at(f->out, "x")));
}

static void
test_migrate_both_exist(void **state)
{
	struct fx *f = *state;
	struct store_err e;

	assert_int_equal(mkdir(at(f->root, "erin"), 0700), 0);
	put(at(f->root, "erin/old"), "old");
	assert_int_equal(mkdir(at(f->root, ".users/erin"), 0700), 0);
	put(at(f->root, ".users/erin/new"), "new");
	assert_int_equal(store_posix_migrate_user(f->st, "erin", &e), -1);
	assert_int_equal(e.code, STORE_TAKEN);
	assert_true(exists(at(f->root, "erin/old")));
	assert_true(exists(at(f->root, ".users/erin/new")));
	assert_false(exists(at(f->root, ".users/erin/old")));
	/* Even a link in the new place keeps the old area where it is. */
	assert_int_equal(mkdir(at(f->root, "ivan"), 0700), 0);
	assert_int_equal(symlink(f->out, at(f->root, ".users/ivan")), 0);
	assert_int_equal(store_posix_migrate_user(f->st, "ivan", &e), -1);
	assert_int_equal(e.code, STORE_TAKEN);
	assert_true(S_ISDIR(mode_of(at(f->root, "ivan"))));
}

static void
test_migrated_is_final(void **state)
{
	struct fx *f = *state;
	struct store_err e;

	assert_int_equal(store_posix_is_migrated(f->st), 0);
	assert_int_equal(store_posix_migrated(f->st, &e), 0);
	assert_int_equal(store_posix_is_migrated(f->st), 1);
	/* From now on ROOT/hank is the shared namespace's. */
	assert_int_equal(mkdir(at(f->root, "hank"), 0755), 0);
	put(at(f->root, "hank/f"), "f");
	assert_int_equal(store_posix_migrate_user(f->st, "hank", &e), 0);
	assert_true(exists(at(f->root, "hank/f")));
	assert_false(exists(at(f->root, ".users/hank")));
	/* Recorded on disk: it holds across a restart, and again is
	 * harmless. */
	store_close(f->st);
	assert_int_equal(store_posix_open(&f->st, f->root, &e), 0);
	assert_int_equal(store_posix_is_migrated(f->st), 1);
	assert_int_equal(store_posix_migrated(f->st, &e), 0);
	assert_int_equal(store_posix_migrate_user(f->st, "hank", &e), 0);
	assert_true(exists(at(f->root, "hank/f")));
}

static void
test_open_creates_root(void **state)
{
	struct fx *f = *state;
	struct store *st;
	struct store_err e;
	char root[128];

	assert_int_equal(
	    str_copy(root, sizeof(root), at(f->out, "new-root")), 0);
	assert_int_equal(store_posix_open(&st, root, &e), 0);
	assert_true(S_ISDIR(mode_of(at(root, ".ftx/.partial"))));
	assert_true(S_ISDIR(mode_of(at(root, ".users"))));
	store_close(st);
	/* A file where the root should be. */
	put(at(f->out, "not-a-dir"), "x");
	st = (struct store *)1;
	assert_int_equal(
	    store_posix_open(&st, at(f->out, "not-a-dir"), &e), -1);
	assert_null(st);
}

/*
 * Folders on disk.
 */

/* Walk `path` into `l` (paths); the store code of a failure, or 0. */
static int
walk(const struct store *st, const char *path, struct names *l)
{
	struct store_entry ent;
	struct store_walk *w;
	struct store_err e;
	int r;

	memset(l, 0, sizeof(*l));
	if (store_walk_open(st, path, 1, &w, &e) == -1)
		return e.code;
	while ((r = store_walk_next(w, &ent, &e)) == 1) {
		assert_true(l->n < 16);
		assert_int_equal(
		    str_copy(l->v[l->n++], sizeof(l->v[0]), ent.name), 0);
	}
	assert_int_equal(r, 0);
	store_walk_close(w);
	return 0;
}

static int
has_name(const struct names *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return 1;
	return 0;
}

static int
lookup_code(const struct store *st, const char *path)
{
	struct store_entry ent;
	struct store_err e;

	if (store_lookup(st, path, &ent, &e) == 0)
		return STORE_OK;
	return e.code;
}

/* The sidecar of a file lives beside it: a/b/.ftx/c for a/b/c. */
static void
test_sidecar_beside_file(void **state)
{
	struct fx *f = *state;
	unsigned char sha[HASH_SHA256_LEN], want[HASH_SHA256_LEN];
	struct store_err e;
	int has_md5;

	upload(f->st, "top", "t");
	upload(f->st, "a/b/c", "deep");
	assert_true(S_ISREG(mode_of(at(f->root, ".ftx/top"))));
	assert_true(S_ISREG(mode_of(at(f->root, "a/b/.ftx/c"))));
	assert_false(exists(at(f->root, ".ftx/c")));
	digest(HASH_SHA256, "deep", want);
	assert_int_equal(cached(f->st, "a/b/c", sha, &has_md5), 0);
	assert_memory_equal(sha, want, sizeof(sha));
	/* A file renamed takes its sidecar along: still cached. */
	assert_int_equal(store_rename(f->st, "a/b/c", "a/moved", 0, &e), 0);
	assert_false(exists(at(f->root, "a/b/.ftx/c")));
	assert_true(exists(at(f->root, "a/.ftx/moved")));
	assert_int_equal(cached(f->st, "a/moved", sha, &has_md5), 0);
	assert_memory_equal(sha, want, sizeof(sha));
	assert_int_equal(store_rename(f->st, "a/moved", "up", 0, &e), 0);
	assert_true(exists(at(f->root, ".ftx/up")));
	assert_int_equal(cached(f->st, "up", sha, &has_md5), 0);
	/* A file replacing another: the replaced one's sidecar goes. */
	put(at(f->root, "plain"), "by hand, never hashed");
	upload(f->st, "victim", "v");
	assert_int_equal(store_rename(f->st, "plain", "victim", 1, &e), 0);
	assert_false(exists(at(f->root, ".ftx/victim")));
	assert_int_equal(cached(f->st, "victim", sha, &has_md5), -1);
	/* A directory renamed carries its files' sidecars. */
	upload(f->st, "d/e/x", "x");
	assert_int_equal(store_rename(f->st, "d", "g", 0, &e), 0);
	assert_true(exists(at(f->root, "g/e/.ftx/x")));
	digest(HASH_SHA256, "x", want);
	assert_int_equal(cached(f->st, "g/e/x", sha, &has_md5), 0);
	assert_memory_equal(sha, want, sizeof(sha));
	/* Deleting a file deletes its sidecar. */
	assert_int_equal(store_delete(f->st, "g/e/x", &e), 0);
	assert_false(exists(at(f->root, "g/e/.ftx/x")));
	/* A directory holding only sidecars is empty. */
	put(at(f->root, "g/e/.ftx/stale"), "v1 junk");
	assert_int_equal(store_rmdir(f->st, "g/e", &e), 0);
	assert_false(exists(at(f->root, "g/e")));
	/* But not one holding a hidden file. */
	put(at(f->root, "g/.hidden"), "h");
	assert_int_equal(store_rmdir(f->st, "g", &e), -1);
	assert_int_equal(e.code, STORE_NOTEMPTY);
}

static void
test_commit_mtime_and_modes(void **state)
{
	struct fx *f = *state;
	unsigned char sha[HASH_SHA256_LEN];
	char key[STORE_PKEY_LEN];
	struct store_part *w;
	struct store_err e;
	struct stat sb;
	int has_md5;

	digest(HASH_SHA256, "old", sha);
	store_partial_key(key, "me", "p/q/r", 3);
	assert_int_equal(store_part_open(f->st, key, 0, &w, &e), 0);
	assert_int_equal(store_part_write_at(w, "old", 3, 0, &e), 0);
	assert_int_equal(
	    store_part_commit(w, "p/q/r", sha, (time_t)1234567890, 0, &e), 0);
	store_part_close(w, 0);
	assert_int_equal(lstat(at(f->root, "p/q/r"), &sb), 0);
	assert_int_equal(sb.st_mtime, 1234567890);
	assert_true(S_ISDIR(mode_of(at(f->root, "p/q"))));
	/* The sidecar was made for the mtime kept: valid. */
	assert_int_equal(cached(f->st, "p/q/r", sha, &has_md5), 0);
	/* A symbolic link on the way is not followed, nor replaced. */
	assert_int_equal(symlink(f->out, at(f->root, "p/link")), 0);
	store_partial_key(key, "me", "p/link/x", 3);
	assert_int_equal(store_part_open(f->st, key, 0, &w, &e), 0);
	assert_int_equal(store_part_write_at(w, "old", 3, 0, &e), 0);
	assert_int_equal(
	    store_part_commit(w, "p/link/x", sha, (time_t)-1, 0, &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);
	assert_int_equal(
	    store_part_commit(w, "p/link/y/x", sha, (time_t)-1, 0, &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);
	store_part_close(w, 0);
	assert_false(exists(at(f->out, "x")));
	assert_false(exists(at(f->out, "y")));
	assert_true(S_ISLNK(mode_of(at(f->root, "p/link"))));
}

/*
 * Links planted in the tree: one pointing outside it, one into another
 * user's area.  Nothing reaches through them, by any operation.
 */
static void
check_links_refused(const struct fx *f, const struct store *alice)
{
	struct store_walk *w = NULL;
	struct store_err e;
	struct names l;
	uint64_t n;

	assert_notfound(alice, "d/out/secret");
	assert_notfound(alice, "d/sec");
	assert_notfound(alice, "d/bob/bobs");
	assert_notfound(alice, "d/bobs");
	assert_int_equal(lookup_code(alice, "d/out"), STORE_NOTFOUND);
	assert_int_equal(lookup_code(alice, "d/out/secret"), STORE_NOTFOUND);
	assert_int_equal(lookup_code(alice, "d/bob/bobs"), STORE_NOTFOUND);
	assert_int_equal(walk(alice, "d", &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "real");
	assert_int_equal(walk(alice, "", &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(walk(alice, "d/out", &l), STORE_NOTFOUND);
	assert_int_equal(walk(alice, "d/bob", &l), STORE_NOTFOUND);
	assert_int_equal(walk(alice, "d/sec", &l), STORE_NOTFOUND);
	assert_int_equal(store_walk_open(alice, "d/bob/x", 1, &w, &e), -1);
	assert_null(w);
	assert_int_equal(store_delete(alice, "d/out/secret", &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);
	assert_int_equal(store_delete(alice, "d/bob/bobs", &e), -1);
	assert_int_equal(store_delete(alice, "d/sec", &e), -1);
	assert_int_equal(store_rename(alice, "d/sec", "stolen", 0, &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);
	assert_int_equal(store_rename(alice, "d/bob/bobs", "x", 0, &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);
	assert_int_equal(store_rename(alice, "d/real", "d/bob/x", 0, &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);
	assert_int_equal(store_rename(alice, "d/real", "d/out/x", 1, &e), -1);
	assert_int_equal(store_mkdir(alice, "d/out/new", 0, &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);
	assert_int_equal(store_mkdir(alice, "d/bob/new/deeper", 1, &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);
	assert_int_equal(store_rmdir(alice, "d/bob", &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);
	assert_int_equal(store_rmdir(alice, "d/out/sub", &e), -1);
	assert_int_equal(store_usage(alice, NULL, &n, &e), 0);
	assert_int_equal(n, 4);
	/* Nothing changed on the other side. */
	assert_true(exists(at(f->out, "secret")));
	assert_true(exists(at(f->out, "sub")));
	assert_false(exists(at(f->out, "x")));
	assert_false(exists(at(f->out, "new")));
	assert_true(exists(at(f->root, ".users/bob/bobs")));
	assert_false(exists(at(f->root, ".users/bob/x")));
	assert_false(exists(at(f->root, ".users/bob/new")));
	assert_true(S_ISLNK(mode_of(at(f->root, ".users/alice/d/sec"))));
	assert_true(exists(at(f->root, ".users/alice/d/real")));
}

static void
test_links_in_tree_refused(void **state)
{
	struct fx *f = *state;
	struct store *alice, *bob;
	struct store_err e;

	assert_int_equal(store_open_sub(f->st, "alice", &alice, &e), 0);
	assert_int_equal(store_open_sub(f->st, "bob", &bob, &e), 0);
	upload(bob, "bobs", "bob's secret");
	upload(alice, "d/real", "real");
	put(at(f->out, "secret"), "outside");
	assert_int_equal(mkdir(at(f->out, "sub"), 0755), 0);
	assert_int_equal(symlink(f->out, at(f->root, ".users/alice/d/out")), 0);
	assert_int_equal(
	    symlink(at(f->out, "secret"), at(f->root, ".users/alice/d/sec")),
	    0);
	assert_int_equal(
	    symlink("../../bob", at(f->root, ".users/alice/d/bob")), 0);
	assert_int_equal(
	    symlink("../../bob/bobs", at(f->root, ".users/alice/d/bobs")), 0);
	check_links_refused(f, alice);
	/* The same without openat2: the component walk. */
	beneath_force_walk(1);
	check_links_refused(f, alice);
	beneath_force_walk(0);
	store_close(alice);
	store_close(bob);
}

/* Dot names, links, FIFOs and names the rules refuse: not walked. */
static void
test_walk_skips_planted(void **state)
{
	struct fx *f = *state;
	struct names l;

	upload(f->st, "d/real", "r");
	put(at(f->root, "d/.hidden"), "h");
	put(at(f->root, "d/bad\001name"), "b");
	assert_int_equal(mkdir(at(f->root, "d/.hdir"), 0755), 0);
	put(at(f->root, "d/.hdir/inside"), "i");
	assert_int_equal(symlink("real", at(f->root, "d/link")), 0);
	assert_int_equal(symlink(f->root, at(f->root, "d/loop")), 0);
	assert_int_equal(mkfifo(at(f->root, "d/fifo"), 0644), 0);
	assert_int_equal(walk(f->st, "", &l), 0);
	assert_int_equal(l.n, 2);
	assert_true(has_name(&l, "d"));
	assert_true(has_name(&l, "d/real"));
	/* A user area's top: its .ftx is not shown; the root's .users
	 * neither. */
	assert_int_equal(walk(f->st, "d", &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "real");
	assert_int_equal(lookup_code(f->st, "d/fifo"), STORE_NOTFOUND);
	assert_int_equal(lookup_code(f->st, "d/link"), STORE_NOTFOUND);
}

/* A tree deeper than a path may be, made by hand: a walk goes down to
 * FTX_RPATH_DEPTH_MAX components and no further. */
static void
test_walk_depth_limit(void **state)
{
	struct fx *f = *state;
	char rel[256] = "";
	struct store_entry ent;
	struct store_walk *w;
	struct store_err e;
	size_t depth, deepest = 0, count = 0, k;
	const char *c;
	uint64_t n;
	int r;

	for (depth = 1; depth <= 40; depth++) {
		assert_int_equal(
		    str_fmt(rel + strlen(rel), sizeof(rel) - strlen(rel), "%sd",
			depth > 1 ? "/" : ""),
		    0);
		assert_int_equal(mkdir(at(f->root, rel), 0755), 0);
		put(at(f->root, at(rel, "f")), "1");
	}
	assert_int_equal(store_walk_open(f->st, "", 1, &w, &e), 0);
	while ((r = store_walk_next(w, &ent, &e)) == 1) {
		for (k = 1, c = ent.name; *c != '\0'; c++)
			k += *c == '/';
		if (k > deepest)
			deepest = k;
		count++;
	}
	assert_int_equal(r, 0);
	store_walk_close(w);
	assert_int_equal(deepest, FTX_RPATH_DEPTH_MAX);
	/* d (1) .. d^32 (32), and the files d/f (2) .. d^31/f (32). */
	assert_int_equal(count, 2 * FTX_RPATH_DEPTH_MAX - 1);
	/* What a walk cannot see, a quota does not count either. */
	assert_int_equal(store_usage(f->st, NULL, &n, &e), 0);
	assert_int_equal(n, FTX_RPATH_DEPTH_MAX - 1);
	/* Nor can a path reach it. */
	rel[2 * 33 - 1] = '\0';
	assert_int_equal(lookup_code(f->st, rel), STORE_BADPATH);
	rel[2 * 32 - 1] = '\0';
	assert_int_equal(lookup_code(f->st, rel), STORE_OK);
	/* A walk from deep down counts depth from the top too. */
	rel[2 * 31 - 1] = '\0';
	assert_int_equal(store_walk_open(f->st, rel, 1, &w, &e), 0);
	count = 0;
	while ((r = store_walk_next(w, &ent, &e)) == 1)
		count++;
	assert_int_equal(r, 0);
	store_walk_close(w);
	assert_int_equal(count, 2); /* d (32) and f (32) */
}

/* A directory removed while a walk is inside it: skipped, no error. */
static void
test_walk_dir_removed(void **state)
{
	struct fx *f = *state;
	struct store_entry ent;
	struct store_walk *w;
	struct store_err e;
	size_t count = 0;
	int r;

	upload(f->st, "a/x", "x");
	upload(f->st, "b/y", "y");
	assert_int_equal(store_walk_open(f->st, "", 1, &w, &e), 0);
	assert_int_equal(store_walk_next(w, &ent, &e), 1);
	assert_true(ent.is_dir);
	/* Whichever came first: empty it and remove it under the walk. */
	rm_rf(at(f->root, ent.name));
	while ((r = store_walk_next(w, &ent, &e)) == 1)
		count++;
	assert_int_equal(r, 0);
	store_walk_close(w);
	assert_int_equal(count, 2);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_planted_not_files),
	    T(test_commit_over_directory),
	    T(test_hidden_and_bad_names_not_listed),
	    T(test_sidecar_v1_still_read),
	    T(test_sidecar_damaged_means_rehash),
	    T(test_changed_file_invalidates),
	    T(test_stale_reader_leaves_no_sidecar),
	    T(test_stale_temporaries_removed),
	    cmocka_unit_test(test_modes_follow_umask),
	    T(test_users_area),
	    T(test_users_area_symlink_refused),
	    T(test_planted_metadata_links),
	    T(test_migrate_user),
	    T(test_migrate_never_moves_a_link),
	    T(test_migrate_both_exist),
	    T(test_migrated_is_final),
	    T(test_open_creates_root),
	    T(test_sidecar_beside_file),
	    T(test_commit_mtime_and_modes),
	    T(test_links_in_tree_refused),
	    T(test_walk_skips_planted),
	    T(test_walk_depth_limit),
	    T(test_walk_dir_removed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

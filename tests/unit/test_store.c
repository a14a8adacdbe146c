/*
 * test_store.c - the storage interface's contract (ftxd/store.h), run
 * against both backends: the same test functions, one cmocka group per
 * backend (a directory tree in a fresh temporary directory, and memory).
 * What only one backend has is tested apart: the in-memory capacity
 * here, the POSIX layout and hostile trees in test_store_posix.c.
 *
 * A third group runs the contract on the S3 backend when the
 * environment names a store (tests/integration/t_cluster.sh does, with
 * a throwaway radosgw): FTX_TEST_S3_ENDPOINT, FTX_TEST_S3_BUCKET,
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; each test gets a prefix
 * of its own.  Without them the group is not run, and says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ftx_limits.h"
#include "hash.h"
#include "store.h"
#include "store_mem.h"
#include "store_posix.h"
#include "store_s3.h"
#include "str.h"

enum backend { B_POSIX, B_MEM, B_S3 };

struct fx {
	enum backend kind;
	char root[64]; /* B_POSIX */
	struct store *st;
};

/* A call that fails with `want` (needs a `struct store_err e`). */
#define FAILS(call, want)                                                      \
	do {                                                                   \
		e.code = STORE_OK;                                             \
		assert_int_equal((call), -1);                                  \
		assert_int_equal(e.code, (want));                              \
	} while (0)

static int
setup_posix(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_err e;

	assert_non_null(f);
	f->kind = B_POSIX;
	assert_int_equal(
	    str_copy(f->root, sizeof(f->root), "/tmp/ftx-store-XXXXXX"), 0);
	assert_non_null(mkdtemp(f->root));
	assert_int_equal(store_posix_open(&f->st, f->root, &e), 0);
	*state = f;
	return 0;
}

static int
setup_mem(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_err e;

	assert_non_null(f);
	f->kind = B_MEM;
	assert_int_equal(store_mem_open(&f->st, 0, &e), 0);
	*state = f;
	return 0;
}

static int
setup_s3(void **state)
{
	static int serial;
	struct fx *f = calloc(1, sizeof(*f));
	struct s3_conf c;
	struct store_err e;
	char prefix[64], err[FTX_ERRLEN];

	assert_non_null(f);
	f->kind = B_S3;
	memset(&c, 0, sizeof(c));
	assert_int_equal(str_copy(c.endpoint, sizeof(c.endpoint),
			     getenv("FTX_TEST_S3_ENDPOINT")),
	    0);
	assert_int_equal(
	    str_copy(c.bucket, sizeof(c.bucket), getenv("FTX_TEST_S3_BUCKET")),
	    0);
	assert_int_equal(str_copy(c.region, sizeof(c.region), "us-east-1"), 0);
	assert_int_equal(s3_credentials(NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(str_fmt(prefix, sizeof(prefix), "unit-%ld-%ld-%d",
			     (long)getpid(), (long)time(NULL), ++serial),
	    0);
	if (store_s3_open(&f->st, &c, prefix, &e) == -1)
		fail_msg("store_s3_open: %s", e.msg);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(f->st);
	if (f->kind == B_POSIX) {
		assert_int_equal(
		    str_fmt(cmd, sizeof(cmd), "rm -rf '%s'", f->root), 0);
		assert_int_equal(system(cmd), 0);
	}
	free(f);
	return 0;
}

/* Long enough for a directory's or file's timestamp to move on: the
 * kernel stamps them from a clock that ticks every few milliseconds, and
 * the partials' ages are compared by those stamps. */
static void
tick(void)
{
	struct timespec ts = {0, 20 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

static void
digest(enum hash_alg alg, const void *p, size_t n, unsigned char *out)
{
	struct hash_ctx *h = hash_new(alg, NULL, 0);

	assert_non_null(h);
	assert_int_equal(hash_update(h, p, n), 0);
	assert_int_equal(hash_final(h, out), 0);
	hash_free(h);
}

/* Leave a partial of `len` bytes (a repeated byte) for `key`, unclaimed. */
static void
make_partial(const struct store *st, const char *key, size_t len)
{
	struct store_part *w;
	struct store_err e;
	unsigned char b[256];

	assert_true(len <= sizeof(b));
	memset(b, 'p', len);
	assert_int_equal(store_part_open(st, key, 0, &w, &e), 0);
	if (len > 0)
		assert_int_equal(store_part_write_at(w, b, len, 0, &e), 0);
	store_part_close(w, 1);
}

static uint64_t
psize(const struct store *st, const char *key)
{
	struct store_err e;
	uint64_t n = 99999;

	assert_int_equal(store_partial_size(st, key, &n, &e), 0);
	return n;
}

/* Upload `s` as `name` the way a transfer does: a partial, then a
 * commit with the SHA-256 the transfer computed. */
static void
upload_sha(const struct store *st, const char *name, const char *s,
    const unsigned char *sha)
{
	char key[STORE_PKEY_LEN];
	struct store_part *w;
	struct store_err e;
	size_t n = strlen(s);

	store_partial_key(key, "uploader", name, n);
	assert_int_equal(store_part_open(st, key, 0, &w, &e), 0);
	if (n > 0)
		assert_int_equal(store_part_write_at(w, s, n, 0, &e), 0);
	assert_int_equal(store_part_commit(w, name, sha, (time_t)-1, 0, &e), 0);
	store_part_close(w, 0); /* committed: nothing left to delete */
	assert_int_equal(psize(st, key), 0);
}

static void
upload(const struct store *st, const char *name, const char *s)
{
	unsigned char sha[HASH_SHA256_LEN];

	digest(HASH_SHA256, s, strlen(s), sha);
	upload_sha(st, name, s, sha);
}

/* The whole contents of `name`, NUL-terminated. */
static void
read_all(const struct store *st, const char *name, char *buf, size_t cap)
{
	struct store_file *f;
	struct store_stat sb;
	struct store_err e;
	size_t off = 0;
	ssize_t n;

	assert_int_equal(store_read_open(st, name, &f, &sb, &e), 0);
	while ((n = store_read_at(f, buf + off, cap - 1 - off, off, &e)) > 0)
		off += (size_t)n;
	assert_int_equal(n, 0);
	assert_int_equal(off, sb.size);
	buf[off] = '\0';
	store_read_close(f);
}

static void
assert_notfound(const struct store *st, const char *name)
{
	struct store_file *f = (struct store_file *)1;
	struct store_stat sb;
	struct store_err e;

	assert_int_equal(store_read_open(st, name, &f, &sb, &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);
	assert_null(f);
}

struct listing {
	size_t n;
	char names[16][32];
	uint64_t sizes[16];
	int has_sha[16];
	unsigned char shas[16][HASH_SHA256_LEN];
	int fail_at; /* the callback refuses entry number fail_at (1-based) */
};

static int
collect(void *arg, const struct store_entry *ent)
{
	struct listing *l = arg;

	if (l->fail_at > 0 && l->n + 1 == (size_t)l->fail_at)
		return -1;
	assert_true(l->n < 16);
	assert_int_equal(
	    str_copy(l->names[l->n], sizeof(l->names[0]), ent->name), 0);
	l->sizes[l->n] = ent->size;
	l->has_sha[l->n] = ent->has_sha;
	memcpy(l->shas[l->n], ent->sha, HASH_SHA256_LEN);
	l->n++;
	return 0;
}

static size_t
list_count(const struct store *st)
{
	struct listing l = {0};
	struct store_err e;

	assert_int_equal(store_list(st, 1000, collect, &l, &e), 0);
	return l.n;
}

/* The index of `name` in a listing, or -1. */
static int
listed(const struct listing *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->names[i], name) == 0)
			return (int)i;
	return -1;
}

/* Make a partial look `secs` old, where the backend allows it: the
 * directory tree takes any mtime; memory stamps partials with the
 * clock alone, so there this returns 0 and the caller skips. */
static int
age_partial(const struct fx *f, const char *key, time_t secs)
{
	struct timespec ts[2];
	char path[256];

	if (f->kind != B_POSIX)
		return 0;
	assert_int_equal(
	    str_fmt(path, sizeof(path), "%s/.ftx/.partial/%s", f->root, key),
	    0);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - secs;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
	return 1;
}

static void
test_missing_is_notfound(void **state)
{
	struct fx *f = *state;

	assert_notfound(f->st, "nope");
	assert_int_equal(list_count(f->st), 0);
}

/* Hostile paths never reach a backend: the one path check refuses
 * them (BADPATH). */
static void
test_bad_paths_refused(void **state)
{
	static const char *const bad[] = {"", ".", "..", "a/../b", "a//b",
	    "/abs", "abs/", ".hidden", "a/.b", "a/..", "x\001y", "bad\xff"};
	unsigned char sha[HASH_SHA256_LEN] = {0};
	struct fx *f = *state;
	struct store_part *w;
	struct store_file *r;
	struct store_stat sb;
	struct store_err e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.code = STORE_OK;
		assert_int_equal(
		    store_read_open(f->st, bad[i], &r, &sb, &e), -1);
		assert_null(r);
		assert_int_equal(e.code, STORE_BADPATH);
		e.code = STORE_OK;
		assert_int_equal(store_delete(f->st, bad[i], &e), -1);
		assert_int_equal(e.code, STORE_BADPATH);
		assert_int_equal(store_part_open(f->st,
				     "0123456789abcdef-"
				     "0123456789abcdef0123456789abcdef",
				     0, &w, &e),
		    0);
		assert_int_equal(store_part_write_at(w, "x", 1, 0, &e), 0);
		e.code = STORE_OK;
		assert_int_equal(
		    store_part_commit(w, bad[i], sha, (time_t)-1, 0, &e), -1);
		assert_int_equal(e.code, STORE_BADPATH);
		assert_string_equal(store_code_proto(e.code), "BADNAME");
		store_part_close(w, 0);
	}
	assert_int_equal(list_count(f->st), 0);
}

static void
test_commit_then_read(void **state)
{
	struct fx *f = *state;
	static const char data[] = "hello world\n";
	unsigned char sha[HASH_SHA256_LEN], got[HASH_SHA256_LEN];
	unsigned char md5[HASH_MD5_LEN];
	char key[STORE_PKEY_LEN], buf[64];
	struct store_part *w;
	struct store_file *rf;
	struct store_stat sb;
	struct store_err e;
	int has_md5 = -1;

	digest(HASH_SHA256, data, 12, sha);
	store_partial_key(key, "me", "a.txt", 12);
	assert_int_equal(store_part_open(f->st, key, 0, &w, &e), 0);
	/* Written out of order, as parallel streams would; object storage
	 * takes the bytes in order only (its parts are sequential), and
	 * says so. */
	if (f->kind == B_S3) {
		FAILS(store_part_write_at(w, data + 6, 6, 6, &e), STORE_IO);
		assert_int_equal(store_part_write_at(w, data, 6, 0, &e), 0);
		assert_int_equal(store_part_write_at(w, data + 6, 6, 6, &e), 0);
	} else {
		assert_int_equal(store_part_write_at(w, data + 6, 6, 6, &e), 0);
		assert_int_equal(store_part_write_at(w, data, 6, 0, &e), 0);
	}
	/* Not visible before the commit. */
	assert_notfound(f->st, "a.txt");
	assert_int_equal(list_count(f->st), 0);
	assert_int_equal(
	    store_part_commit(w, "a.txt", sha, (time_t)-1, 0, &e), 0);
	store_part_close(w, 0);

	assert_int_equal(store_read_open(f->st, "a.txt", &rf, &sb, &e), 0);
	assert_int_equal(sb.size, 12);
	assert_true(sb.version[0] != '\0');
	assert_int_equal(store_read_at(rf, buf, sizeof(buf), 0, &e), 12);
	assert_memory_equal(buf, data, 12);
	assert_int_equal(store_read_at(rf, buf, 5, 6, &e), 5);
	assert_memory_equal(buf, "world", 5);
	assert_int_equal(store_read_at(rf, buf, sizeof(buf), 12, &e), 0);
	assert_int_equal(store_read_at(rf, buf, sizeof(buf), 1000, &e), 0);
	/* The sendfile fast path is the directory tree's alone. */
	if (f->kind == B_POSIX) {
		assert_true(store_read_fd(rf) >= 0);
		assert_int_equal(pread(store_read_fd(rf), buf, 12, 0), 12);
		assert_memory_equal(buf, data, 12);
	} else
		assert_int_equal(store_read_fd(rf), -1);
	/* The commit cached the SHA-256 alone: uploads skip the MD5. */
	memset(got, 0, sizeof(got));
	assert_int_equal(store_cached(rf, got, md5, &has_md5), 0);
	assert_int_equal(has_md5, 0);
	assert_memory_equal(got, sha, sizeof(sha));
	memset(got, 0, sizeof(got));
	assert_int_equal(store_hash(rf, got, NULL, &e), 0);
	assert_memory_equal(got, sha, sizeof(sha));
	store_read_close(rf);
}

static void
test_commit_records_callers_sha(void **state)
{
	struct fx *f = *state;
	unsigned char fake[HASH_SHA256_LEN], got[HASH_SHA256_LEN];
	unsigned char md5[HASH_MD5_LEN];
	struct store_file *rf;
	struct store_stat sb;
	struct store_err e;
	int has_md5;

	/* The transfer verified the bytes; the store trusts its SHA-256
	 * and does not read the file again to check it. */
	memset(fake, 0xab, sizeof(fake));
	upload_sha(f->st, "t.bin", "trusted", fake);
	assert_int_equal(store_read_open(f->st, "t.bin", &rf, &sb, &e), 0);
	assert_int_equal(store_cached(rf, got, md5, &has_md5), 0);
	assert_memory_equal(got, fake, sizeof(fake));
	assert_int_equal(store_hash(rf, got, NULL, &e), 0);
	assert_memory_equal(got, fake, sizeof(fake));
	store_read_close(rf);
}

static void
test_md5_on_demand(void **state)
{
	struct fx *f = *state;
	static const char data[] = "hello md5";
	unsigned char sha[HASH_SHA256_LEN], wsha[HASH_SHA256_LEN];
	unsigned char md5[HASH_MD5_LEN], wmd5[HASH_MD5_LEN];
	struct store_file *rf;
	struct store_stat sb;
	struct store_err e;
	int has_md5 = -1;

	digest(HASH_SHA256, data, strlen(data), wsha);
	digest(HASH_MD5, data, strlen(data), wmd5);
	upload(f->st, "m.bin", data);
	assert_int_equal(store_read_open(f->st, "m.bin", &rf, &sb, &e), 0);
	assert_int_equal(store_cached(rf, sha, md5, &has_md5), 0);
	assert_int_equal(has_md5, 0);
	assert_int_equal(store_hash(rf, sha, md5, &e), 0);
	assert_memory_equal(sha, wsha, sizeof(sha));
	assert_memory_equal(md5, wmd5, sizeof(md5));
	store_read_close(rf);
	/* Both are cached now, for every later reader. */
	memset(sha, 0, sizeof(sha));
	memset(md5, 0, sizeof(md5));
	assert_int_equal(store_read_open(f->st, "m.bin", &rf, &sb, &e), 0);
	assert_int_equal(store_cached(rf, sha, md5, &has_md5), 0);
	assert_int_equal(has_md5, 1);
	assert_memory_equal(sha, wsha, sizeof(sha));
	assert_memory_equal(md5, wmd5, sizeof(md5));
	/* A SHA-256-only request keeps the MD5 cached. */
	assert_int_equal(store_hash(rf, sha, NULL, &e), 0);
	assert_int_equal(store_cached(rf, sha, md5, &has_md5), 0);
	assert_int_equal(has_md5, 1);
	store_read_close(rf);
}

static void
test_empty_file(void **state)
{
	struct fx *f = *state;
	unsigned char sha[HASH_SHA256_LEN], want[HASH_SHA256_LEN];
	unsigned char md5[HASH_MD5_LEN], wmd5[HASH_MD5_LEN];
	struct store_file *rf;
	struct store_stat sb;
	struct store_err e;
	char buf[8];

	digest(HASH_SHA256, "", 0, want);
	digest(HASH_MD5, "", 0, wmd5);
	upload(f->st, "empty", "");
	assert_int_equal(store_read_open(f->st, "empty", &rf, &sb, &e), 0);
	assert_int_equal(sb.size, 0);
	assert_int_equal(store_read_at(rf, buf, sizeof(buf), 0, &e), 0);
	assert_int_equal(store_hash(rf, sha, md5, &e), 0);
	assert_memory_equal(sha, want, sizeof(sha));
	assert_memory_equal(md5, wmd5, sizeof(md5));
	store_read_close(rf);
}

static void
test_reader_keeps_old_version(void **state)
{
	struct fx *f = *state;
	unsigned char sha[HASH_SHA256_LEN], wold[HASH_SHA256_LEN];
	unsigned char wnew[HASH_SHA256_LEN], md5[HASH_MD5_LEN];
	struct store_stat sb, sb2;
	struct store_file *old, *nf;
	struct store_err e;
	char buf[64];
	ssize_t n;
	int has_md5;

	digest(HASH_SHA256, "old bytes", 9, wold);
	digest(HASH_SHA256, "NEW BYTES!!", 11, wnew);
	upload(f->st, "f", "old bytes");
	assert_int_equal(store_read_open(f->st, "f", &old, &sb, &e), 0);
	upload(f->st, "f", "NEW BYTES!!");
	n = store_read_at(old, buf, sizeof(buf), 0, &e);
	if (f->kind == B_S3) {
		/* Object storage without versioning keeps no old version:
		 * a reader of a replaced object is told CHANGED, never
		 * given the new bytes as the old file's. */
		assert_int_equal(n, -1);
		assert_int_equal(e.code, STORE_CHANGED);
		store_read_close(old);
		assert_int_equal(store_read_open(f->st, "f", &nf, &sb2, &e), 0);
		assert_int_equal(sb2.size, 11);
		assert_string_not_equal(sb.version, sb2.version);
		store_read_close(nf);
		return;
	}
	assert_int_equal(n, 9);
	assert_memory_equal(buf, "old bytes", 9);
	/* The new version's cache is not the old reader's. */
	assert_int_equal(store_cached(old, sha, md5, &has_md5), -1);
	assert_int_equal(store_hash(old, sha, NULL, &e), 0);
	assert_memory_equal(sha, wold, sizeof(sha));
	/* ... and hashing the old version leaves the new one's cached. */
	assert_int_equal(store_read_open(f->st, "f", &nf, &sb2, &e), 0);
	assert_int_equal(sb2.size, 11);
	assert_string_not_equal(sb.version, sb2.version);
	assert_int_equal(store_cached(nf, sha, md5, &has_md5), 0);
	assert_memory_equal(sha, wnew, sizeof(sha));
	store_read_close(nf);
	store_read_close(old);
	read_all(f->st, "f", buf, sizeof(buf));
	assert_string_equal(buf, "NEW BYTES!!");
}

static void
test_resume(void **state)
{
	struct fx *f = *state;
	char key[STORE_PKEY_LEN], buf[32];
	struct store_part *w, *w2;
	struct store_err e;

	store_partial_key(key, "alice", "big", 100);
	assert_int_equal(strlen(key), STORE_PKEY_LEN - 1);
	assert_int_equal(psize(f->st, key), 0);
	assert_int_equal(store_part_open(f->st, key, 0, &w, &e), 0);
	assert_int_equal(store_part_write_at(w, "0123456789", 10, 0, &e), 0);
	store_part_close(w, 1);
	assert_int_equal(psize(f->st, key), 10);

	/* Beyond what is kept: refused, and what is kept stays. */
	w = (struct store_part *)1;
	assert_int_equal(store_part_open(f->st, key, 11, &w, &e), -1);
	assert_int_equal(e.code, STORE_RANGE);
	assert_null(w);
	assert_int_equal(psize(f->st, key), 10);

	/* A resume of an upload nothing was kept of: refused, and no empty
	 * partial is left behind (the owner's partials are still one). */
	{
		char k2[STORE_PKEY_LEN], k3[STORE_PKEY_LEN];
		uint64_t bytes;
		size_t count;

		store_partial_key(k2, "alice", "never-started", 100);
		assert_int_equal(store_part_open(f->st, k2, 5, &w, &e), -1);
		assert_int_equal(e.code, STORE_RANGE);
		/* Usage leaves out the key asked with: ask with a third. */
		store_partial_key(k3, "alice", "other", 1);
		assert_int_equal(
		    store_partial_usage(f->st, k3, &bytes, &count, &e), 0);
		assert_int_equal(count, 1);
		assert_int_equal(bytes, 10);
	}

	/* All that is kept. */
	assert_int_equal(store_part_open(f->st, key, 10, &w, &e), 0);
	assert_int_equal(store_part_read_at(w, buf, sizeof(buf), 0, &e), 10);
	assert_memory_equal(buf, "0123456789", 10);
	store_part_close(w, 1);

	/* Part of it: exactly that many bytes stay. */
	assert_int_equal(store_part_open(f->st, key, 6, &w, &e), 0);
	assert_int_equal(store_part_read_at(w, buf, sizeof(buf), 0, &e), 6);
	assert_memory_equal(buf, "012345", 6);
	assert_int_equal(store_part_read_at(w, buf, sizeof(buf), 6, &e), 0);
	assert_int_equal(psize(f->st, key), 6);

	/* One transfer at a time; the one that holds it is unharmed. */
	w2 = (struct store_part *)1;
	assert_int_equal(store_part_open(f->st, key, 0, &w2, &e), -1);
	assert_int_equal(e.code, STORE_BUSY);
	assert_null(w2);
	assert_int_equal(psize(f->st, key), 6);
	assert_int_equal(store_part_write_at(w, "ab", 2, 6, &e), 0);
	assert_int_equal(store_part_read_at(w, buf, sizeof(buf), 0, &e), 8);
	assert_memory_equal(buf, "012345ab", 8);

	/* Discarded. */
	store_part_close(w, 0);
	assert_int_equal(psize(f->st, key), 0);
	/* And free again: a new upload starts from nothing. */
	assert_int_equal(store_part_open(f->st, key, 0, &w, &e), 0);
	assert_int_equal(store_part_read_at(w, buf, sizeof(buf), 0, &e), 0);
	store_part_close(w, 0);
}

static void
test_partial_key(void **state)
{
	char a[STORE_PKEY_LEN], b[STORE_PKEY_LEN], c[STORE_PKEY_LEN];
	char d[STORE_PKEY_LEN], a2[STORE_PKEY_LEN];
	size_t i;

	(void)state;
	store_partial_key(a, "alice", "x", 1);
	store_partial_key(a2, "alice", "x", 1);
	store_partial_key(b, "alice", "x", 2);
	store_partial_key(c, "alice", "y", 1);
	store_partial_key(d, "bob", "x", 1);
	assert_string_equal(a, a2);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	/* The owner's part is shared by one uploader's keys alone. */
	assert_memory_equal(a, b, STORE_POWNER_HEX + 1);
	assert_memory_equal(a, c, STORE_POWNER_HEX + 1);
	assert_memory_not_equal(a, d, STORE_POWNER_HEX);
	assert_int_equal(a[STORE_POWNER_HEX], '-');
	assert_int_equal(strlen(a), STORE_PKEY_LEN - 1);
	for (i = 0; i < STORE_PKEY_LEN - 1; i++)
		if (i != STORE_POWNER_HEX)
			assert_non_null(strchr("0123456789abcdef", a[i]));
	/* Names are NUL-separated from the owner: no ambiguity. */
	store_partial_key(a, "ab", "c", 1);
	store_partial_key(b, "a", "bc", 1);
	assert_string_not_equal(a + STORE_POWNER_HEX, b + STORE_POWNER_HEX);
}

static void
test_partial_usage(void **state)
{
	struct fx *f = *state;
	char ka1[STORE_PKEY_LEN], ka2[STORE_PKEY_LEN], ka3[STORE_PKEY_LEN];
	char kb1[STORE_PKEY_LEN], kb2[STORE_PKEY_LEN];
	struct store_err e;
	uint64_t bytes;
	size_t count;

	store_partial_key(ka1, "alice", "a", 1000);
	store_partial_key(ka2, "alice", "b", 1000);
	store_partial_key(ka3, "alice", "c", 1000);
	store_partial_key(kb1, "bob", "a", 1000);
	store_partial_key(kb2, "bob", "b", 1000);
	make_partial(f->st, ka1, 5);
	make_partial(f->st, ka2, 7);
	make_partial(f->st, kb1, 100);
	/* Committed files are no partials. */
	upload(f->st, "done", "0123456789");

	assert_int_equal(
	    store_partial_usage(f->st, ka3, &bytes, &count, &e), 0);
	assert_int_equal(bytes, 12);
	assert_int_equal(count, 2);
	/* Never the key itself: it is the upload being weighed. */
	assert_int_equal(
	    store_partial_usage(f->st, ka1, &bytes, &count, &e), 0);
	assert_int_equal(bytes, 7);
	assert_int_equal(count, 1);
	assert_int_equal(
	    store_partial_usage(f->st, kb2, &bytes, &count, &e), 0);
	assert_int_equal(bytes, 100);
	assert_int_equal(count, 1);
	assert_int_equal(
	    store_partial_usage(f->st, kb1, &bytes, &count, &e), 0);
	assert_int_equal(bytes, 0);
	assert_int_equal(count, 0);
}

static void
test_partial_trim(void **state)
{
	struct fx *f = *state;
	char self[STORE_PKEY_LEN], k[4][STORE_PKEY_LEN], kb[STORE_PKEY_LEN];
	char name[8];
	struct store_part *held;
	struct store_err e;
	int i;

	/* Oldest first: the key itself and another uploader's, then four
	 * of alice's; k[2] is being written. */
	store_partial_key(self, "alice", "self", 1000);
	store_partial_key(kb, "bob", "b", 1000);
	/* Nothing to trim. */
	assert_int_equal(store_partial_trim(f->st, self, 0, 0), 0);
	make_partial(f->st, self, 10);
	assert_int_equal(store_partial_trim(f->st, self, 0, 0), 0);
	make_partial(f->st, kb, 10);
	for (i = 0; i < 4; i++) {
		tick();
		assert_int_equal(str_fmt(name, sizeof(name), "k%d", i), 0);
		store_partial_key(k[i], "alice", name, 1000);
		make_partial(f->st, k[i], 10);
	}
	assert_int_equal(store_part_open(f->st, k[2], 10, &held, &e), 0);

	/* Down to one other: k0, k1 go, k2 is held, so k3 goes too. */
	assert_int_equal(store_partial_trim(f->st, self, 1, UINT64_MAX), 3);
	assert_int_equal(psize(f->st, k[0]), 0);
	assert_int_equal(psize(f->st, k[1]), 0);
	assert_int_equal(psize(f->st, k[2]), 10);
	assert_int_equal(psize(f->st, k[3]), 0);
	assert_int_equal(psize(f->st, self), 10);
	assert_int_equal(psize(f->st, kb), 10);
	/* Nothing left that may go. */
	assert_int_equal(store_partial_trim(f->st, self, 0, 0), 0);
	assert_int_equal(psize(f->st, k[2]), 10);
	assert_int_equal(psize(f->st, self), 10);
	store_part_close(held, 1);

	/* By bytes: k0..k2 (30 bytes, k2 the oldest now) down to 15. */
	for (i = 0; i < 2; i++) {
		tick();
		make_partial(f->st, k[i], 10);
	}
	assert_int_equal(store_partial_trim(f->st, self, 100, 15), 2);
	assert_int_equal(psize(f->st, k[2]), 0);
	assert_int_equal(psize(f->st, k[0]), 0);
	assert_int_equal(psize(f->st, k[1]), 10);
	/* Within both bounds: nothing goes. */
	assert_int_equal(store_partial_trim(f->st, self, 1, 10), 0);
	assert_int_equal(psize(f->st, k[1]), 10);
	assert_int_equal(psize(f->st, self), 10);
	assert_int_equal(psize(f->st, kb), 10);
}

static void
test_partial_expire(void **state)
{
	struct fx *f = *state;
	char kold[STORE_PKEY_LEN], knew[STORE_PKEY_LEN], kheld[STORE_PKEY_LEN];
	struct store_part *held;
	struct store_err e;

	store_partial_key(kold, "alice", "old", 1000);
	store_partial_key(knew, "bob", "new", 1000);
	store_partial_key(kheld, "carol", "held", 1000);
	make_partial(f->st, kold, 3);
	make_partial(f->st, knew, 3);
	make_partial(f->st, kheld, 3);
	assert_int_equal(store_part_open(f->st, kheld, 3, &held, &e), 0);
	/* Nothing is an hour old. */
	assert_int_equal(store_partial_expire(f->st, 3600), 0);
	assert_int_equal(psize(f->st, kold), 3);
	/* Memory stamps partials with the clock alone: the aged cases run
	 * on the directory tree only. */
	if (age_partial(f, kold, 7200) && age_partial(f, kheld, 7200)) {
		assert_int_equal(store_partial_expire(f->st, 3600), 1);
		assert_int_equal(psize(f->st, kold), 0);
		assert_int_equal(psize(f->st, knew), 3);
		assert_int_equal(psize(f->st, kheld), 3);
	}
	/* A ttl of 0: everything written before now, but never one that
	 * is being written. */
	tick();
	assert_int_equal(
	    store_partial_expire(f->st, 0), f->kind == B_POSIX ? 1 : 2);
	assert_int_equal(psize(f->st, kold), 0);
	assert_int_equal(psize(f->st, knew), 0);
	assert_int_equal(psize(f->st, kheld), 3);
	store_part_close(held, 1);
	tick();
	assert_int_equal(store_partial_expire(f->st, 0), 1);
	assert_int_equal(psize(f->st, kheld), 0);
}

struct sweeper {
	const struct store *st;
	atomic_int stop;
};

static void *
sweep(void *arg)
{
	struct sweeper *s = arg;

	while (!atomic_load(&s->stop)) {
		(void)store_partial_expire(s->st, 0);
		sched_yield(); /* valgrind runs one thread at a time */
	}
	return NULL;
}

static long long
mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A sweep running while a transfer claims its partial: the claim wins
 * or reports BUSY, and a claimed partial is the one its key names (a
 * partial unlinked between the open and the lock would take the
 * transfer's bytes to a file no commit can reach). */
static void
test_claim_races_sweep(void **state)
{
	struct fx *f = *state;
	struct sweeper s = {f->st, 0};
	char key[STORE_PKEY_LEN];
	struct store_part *w;
	struct store_err e;
	long long start = mono_ms();
	pthread_t t;
	int i, claims = 0, lost = 0, other = 0;
	uint64_t n;

	/* No assertion while the sweeper runs: a failing one would leave
	 * it running on a store the teardown frees. */
	store_partial_key(key, "me", "raced", 2);
	assert_int_equal(pthread_create(&t, NULL, sweep, &s), 0);
	/* A second, and at least 100 claims unless that takes 20 s. */
	for (i = 0; (mono_ms() < start + 1000 || claims < 100) &&
	     mono_ms() < start + 20000;
	     i++) {
		if (store_part_open(f->st, key, 0, &w, &e) == -1) {
			other += e.code != STORE_BUSY;
			continue;
		}
		/* Object storage stores a partial's bytes with its next
		 * part or its close: while claimed, the byte is not kept
		 * yet, and nothing else may be. */
		if (store_part_write_at(w, "a", 1, 0, &e) == -1 ||
		    store_partial_size(f->st, key, &n, &e) == -1)
			other++;
		else if (n != (f->kind == B_S3 ? 0 : 1))
			lost++;
		store_part_close(w, i % 2);
		claims++;
	}
	atomic_store(&s.stop, 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(lost, 0);
	assert_int_equal(other, 0);
	assert_true(claims > 0);
}

static void
test_list(void **state)
{
	struct fx *f = *state;
	unsigned char sha[HASH_SHA256_LEN];
	char key[STORE_PKEY_LEN];
	struct listing l = {0};
	struct store_err e;
	int i;

	upload(f->st, "a", "1");
	upload(f->st, "b", "22");
	upload(f->st, "c", "333");
	/* A partial is no file. */
	store_partial_key(key, "me", "d", 10);
	make_partial(f->st, key, 4);
	assert_int_equal(store_list(f->st, 100, collect, &l, &e), 0);
	assert_int_equal(l.n, 3);
	assert_true((i = listed(&l, "c")) >= 0);
	assert_int_equal(l.sizes[i], 3);
	/* Object storage lists no metadata: a flat LIST of it has no
	 * hashes (LS, through a walk, has them). */
	if (f->kind != B_S3) {
		assert_true(l.has_sha[i]);
		digest(HASH_SHA256, "333", 3, sha);
		assert_memory_equal(l.shas[i], sha, sizeof(sha));
	}
	assert_true((i = listed(&l, "a")) >= 0);
	assert_int_equal(l.sizes[i], 1);
	assert_true(listed(&l, "b") >= 0);
	assert_int_equal(listed(&l, "d"), -1);

	/* At most `max`, the rest left out, and still a success. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_list(f->st, 2, collect, &l, &e), 0);
	assert_int_equal(l.n, 2);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_list(f->st, 0, collect, &l, &e), 0);
	assert_int_equal(l.n, 0);
	/* A callback's refusal fails the listing. */
	memset(&l, 0, sizeof(l));
	l.fail_at = 2;
	assert_int_equal(store_list(f->st, 100, collect, &l, &e), -1);
	assert_int_equal(e.code, STORE_TOOMANY);
	assert_int_equal(l.n, 1);
}

static void
test_delete(void **state)
{
	struct fx *f = *state;
	unsigned char sha[HASH_SHA256_LEN], want[HASH_SHA256_LEN];
	unsigned char md5[HASH_MD5_LEN];
	struct store_file *rf;
	struct store_stat sb;
	struct store_err e;
	int has_md5;

	upload(f->st, "x", "first");
	assert_int_equal(store_delete(f->st, "x", &e), 0);
	assert_notfound(f->st, "x");
	assert_int_equal(list_count(f->st), 0);
	assert_int_equal(store_delete(f->st, "x", &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);
	assert_int_equal(store_delete(f->st, "never", &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);
	/* The name is free again, with nothing of the old file cached. */
	upload(f->st, "x", "again");
	digest(HASH_SHA256, "again", 5, want);
	assert_int_equal(store_read_open(f->st, "x", &rf, &sb, &e), 0);
	assert_int_equal(store_cached(rf, sha, md5, &has_md5), 0);
	assert_memory_equal(sha, want, sizeof(sha));
	store_read_close(rf);
}

static void
test_usage(void **state)
{
	struct fx *f = *state;
	char key[STORE_PKEY_LEN];
	struct store_err e;
	uint64_t n, free_b;

	assert_int_equal(store_usage(f->st, NULL, &n, &e), 0);
	assert_int_equal(n, 0);
	upload(f->st, "a", "0123456789");
	upload(f->st, "b", "01234567890123456789");
	upload(f->st, "c", "012345678901234567890123456789");
	store_partial_key(key, "me", "d", 100);
	make_partial(f->st, key, 50);
	assert_int_equal(store_usage(f->st, NULL, &n, &e), 0);
	assert_int_equal(n, 60);
	/* `except`: the file an upload would replace. */
	assert_int_equal(store_usage(f->st, "b", &n, &e), 0);
	assert_int_equal(n, 40);
	assert_int_equal(store_usage(f->st, "nope", &n, &e), 0);
	assert_int_equal(n, 60);
	upload(f->st, "a", "0");
	assert_int_equal(store_usage(f->st, NULL, &n, &e), 0);
	assert_int_equal(n, 51);
	assert_int_equal(store_free_bytes(f->st, &free_b, &e), 0);
	assert_true(free_b > 0);
}

static void
test_sub_namespaces(void **state)
{
	struct fx *f = *state;
	struct store *alice, *bob, *again, *nested;
	char key[STORE_PKEY_LEN], buf[32];
	struct store_part *w, *w2;
	struct store_err e;
	uint64_t n;

	assert_int_equal(store_open_sub(f->st, "alice", &alice, &e), 0);
	assert_int_equal(store_open_sub(f->st, "bob", &bob, &e), 0);
	upload(alice, "mine", "alice's");
	upload(f->st, "shared", "everyone's");
	/* A user's name is no name in the shared namespace. */
	upload(f->st, "alice", "a file called alice");

	assert_int_equal(list_count(alice), 1);
	assert_int_equal(list_count(bob), 0);
	assert_int_equal(list_count(f->st), 2);
	assert_notfound(f->st, "mine");
	assert_notfound(bob, "mine");
	assert_notfound(alice, "shared");
	read_all(alice, "mine", buf, sizeof(buf));
	assert_string_equal(buf, "alice's");
	read_all(f->st, "alice", buf, sizeof(buf));
	assert_string_equal(buf, "a file called alice");
	assert_int_equal(store_usage(alice, NULL, &n, &e), 0);
	assert_int_equal(n, 7);
	assert_int_equal(store_usage(f->st, NULL, &n, &e), 0);
	assert_int_equal(n, 10 + 19);
	assert_int_equal(store_delete(bob, "mine", &e), -1);
	assert_int_equal(e.code, STORE_NOTFOUND);

	/* Partials are shared: keys name the uploader. */
	store_partial_key(key, "alice", "up", 100);
	assert_int_equal(store_part_open(alice, key, 0, &w, &e), 0);
	assert_int_equal(store_part_write_at(w, "abc", 3, 0, &e), 0);
	assert_int_equal(store_part_open(f->st, key, 0, &w2, &e), -1);
	assert_int_equal(e.code, STORE_BUSY);
	store_part_close(w, 1);
	assert_int_equal(psize(f->st, key), 3);
	assert_int_equal(psize(bob, key), 3);
	/* A resume in another area commits there. */
	assert_int_equal(store_part_open(bob, key, 3, &w, &e), 0);
	assert_int_equal(store_part_write_at(w, "def", 3, 3, &e), 0);
	assert_int_equal(store_part_commit(w, "up", (unsigned char[32]){0},
			     (time_t)-1, 0, &e),
	    0);
	store_part_close(w, 1);
	assert_int_equal(psize(alice, key), 0);
	read_all(bob, "up", buf, sizeof(buf));
	assert_string_equal(buf, "abcdef");
	assert_notfound(alice, "up");

	/* Areas are not nested. */
	nested = (struct store *)1;
	assert_int_equal(store_open_sub(alice, "carol", &nested, &e), -1);
	assert_null(nested);
	/* Reopened, an area has its files. */
	store_close(alice);
	assert_int_equal(store_open_sub(f->st, "alice", &again, &e), 0);
	read_all(again, "mine", buf, sizeof(buf));
	assert_string_equal(buf, "alice's");
	store_close(again);
	store_close(bob);
}

static void
test_root_stat_version(void **state)
{
	struct fx *f = *state;
	struct store_stat s0, s1, s2, s3;
	struct store *alice;
	struct store_err e;

	assert_int_equal(store_root_stat(f->st, &s0, &e), 0);
	assert_int_equal(store_root_stat(f->st, &s1, &e), 0);
	/* Another node may change a bucket unseen: its version is never
	 * the same twice, so no listing is ever shared. */
	if (f->kind == B_S3)
		assert_string_not_equal(s0.version, s1.version);
	else
		assert_string_equal(s0.version, s1.version);
	assert_true(s0.changed_ms > 0);
	tick();
	upload(f->st, "v", "1");
	assert_int_equal(store_root_stat(f->st, &s1, &e), 0);
	assert_string_not_equal(s0.version, s1.version);
	assert_true(s1.changed_ms >= s0.changed_ms);
	tick();
	upload(f->st, "v", "2"); /* the same name and size, replaced */
	assert_int_equal(store_root_stat(f->st, &s2, &e), 0);
	assert_string_not_equal(s1.version, s2.version);
	tick();
	assert_int_equal(store_delete(f->st, "v", &e), 0);
	assert_int_equal(store_root_stat(f->st, &s3, &e), 0);
	assert_string_not_equal(s2.version, s3.version);
	assert_true(s3.changed_ms >= s2.changed_ms);

	/* A user's area has a version of its own. */
	assert_int_equal(store_open_sub(f->st, "alice", &alice, &e), 0);
	assert_int_equal(store_root_stat(alice, &s0, &e), 0);
	assert_int_equal(store_root_stat(f->st, &s1, &e), 0);
	tick();
	upload(alice, "w", "1");
	assert_int_equal(store_root_stat(alice, &s2, &e), 0);
	assert_string_not_equal(s0.version, s2.version);
	assert_int_equal(store_root_stat(f->st, &s2, &e), 0);
	if (f->kind != B_S3)
		assert_string_equal(s1.version, s2.version);
	store_close(alice);
}

/*
 * Folders.
 */

static void
assert_dir(const struct store *st, const char *path)
{
	struct store_entry ent;
	struct store_err e;

	assert_int_equal(store_lookup(st, path, &ent, &e), 0);
	assert_true(ent.is_dir);
	assert_int_equal(ent.size, 0);
	assert_string_equal(ent.name, path);
}

static void
assert_file(const struct store *st, const char *path, const char *content)
{
	unsigned char sha[HASH_SHA256_LEN];
	struct store_entry ent;
	struct store_err e;
	char buf[256];

	assert_int_equal(store_lookup(st, path, &ent, &e), 0);
	assert_false(ent.is_dir);
	assert_int_equal(ent.size, strlen(content));
	read_all(st, path, buf, sizeof(buf));
	assert_string_equal(buf, content);
	/* The hash the upload cached is still known (it followed a
	 * rename). */
	digest(HASH_SHA256, content, strlen(content), sha);
	assert_true(ent.has_sha);
	assert_memory_equal(ent.sha, sha, sizeof(sha));
}

static void
assert_absent(const struct store *st, const char *path)
{
	struct store_entry ent;
	struct store_err e;

	FAILS(store_lookup(st, path, &ent, &e), STORE_NOTFOUND);
}

static void
test_mkdir(void **state)
{
	struct fx *f = *state;
	struct store_err e;

	assert_int_equal(store_mkdir(f->st, "a", 0, &e), 0);
	assert_dir(f->st, "a");
	FAILS(store_mkdir(f->st, "a", 0, &e), STORE_EXISTS);
	assert_string_equal(store_code_proto(e.code), "EXISTS");
	assert_int_equal(store_mkdir(f->st, "a", 1, &e), 0);
	FAILS(store_mkdir(f->st, "x/y", 0, &e), STORE_NOTFOUND);
	assert_absent(f->st, "x");
	assert_int_equal(store_mkdir(f->st, "x/y/z", 1, &e), 0);
	assert_dir(f->st, "x");
	assert_dir(f->st, "x/y");
	assert_dir(f->st, "x/y/z");
	assert_int_equal(store_mkdir(f->st, "x/y/z", 1, &e), 0);
	assert_int_equal(store_mkdir(f->st, "x/y/w", 0, &e), 0);
	upload(f->st, "file", "f");
	upload(f->st, "x/y/file", "f");
	FAILS(store_mkdir(f->st, "file/g", 0, &e), STORE_NOTDIR);
	FAILS(store_mkdir(f->st, "file/g", 1, &e), STORE_NOTDIR);
	FAILS(store_mkdir(f->st, "x/y/file/g/h", 1, &e), STORE_NOTDIR);
	FAILS(store_mkdir(f->st, "file", 1, &e), STORE_NOTDIR);
	FAILS(store_mkdir(f->st, "file", 0, &e), STORE_EXISTS);
	FAILS(store_mkdir(f->st, "", 1, &e), STORE_BADPATH);
	FAILS(store_mkdir(f->st, "a/../b", 1, &e), STORE_BADPATH);
	assert_file(f->st, "file", "f");
	/* A directory is no file: LIST leaves it out. */
	assert_int_equal(list_count(f->st), 1);
}

static void
test_rmdir(void **state)
{
	struct fx *f = *state;
	struct store_err e;

	assert_int_equal(store_mkdir(f->st, "d", 0, &e), 0);
	assert_int_equal(store_rmdir(f->st, "d", &e), 0);
	assert_absent(f->st, "d");
	FAILS(store_rmdir(f->st, "d", &e), STORE_NOTFOUND);
	FAILS(store_rmdir(f->st, "no/d", &e), STORE_NOTFOUND);
	assert_int_equal(store_mkdir(f->st, "d/e", 1, &e), 0);
	upload(f->st, "d/e/f", "x");
	FAILS(store_rmdir(f->st, "d", &e), STORE_NOTEMPTY);
	assert_string_equal(store_code_proto(e.code), "NOTEMPTY");
	FAILS(store_rmdir(f->st, "d/e", &e), STORE_NOTEMPTY);
	FAILS(store_rmdir(f->st, "d/e/f", &e), STORE_NOTDIR);
	FAILS(store_rmdir(f->st, "d/e/f/g", &e), STORE_NOTDIR);
	FAILS(store_rmdir(f->st, "", &e), STORE_BADPATH);
	assert_file(f->st, "d/e/f", "x");
	/* Emptied (its cached hashes stay behind on POSIX): empty. */
	assert_int_equal(store_delete(f->st, "d/e/f", &e), 0);
	assert_int_equal(store_rmdir(f->st, "d/e", &e), 0);
	assert_int_equal(store_rmdir(f->st, "d", &e), 0);
	assert_absent(f->st, "d");
}

static void
test_delete_paths(void **state)
{
	struct fx *f = *state;
	struct store_err e;

	upload(f->st, "d/e/f", "x");
	FAILS(store_delete(f->st, "d/e", &e), STORE_ISDIR);
	assert_string_equal(store_code_proto(e.code), "ISDIR");
	FAILS(store_delete(f->st, "d/e/f/g", &e), STORE_NOTDIR);
	FAILS(store_delete(f->st, "d/x/f", &e), STORE_NOTFOUND);
	{
		struct store_file *r;
		struct store_stat sb;

		FAILS(store_read_open(f->st, "d", &r, &sb, &e), STORE_ISDIR);
		assert_null(r);
		FAILS(store_read_open(f->st, "d/e/f/g", &r, &sb, &e),
		    STORE_NOTDIR);
	}
	assert_int_equal(store_delete(f->st, "d/e/f", &e), 0);
	assert_absent(f->st, "d/e/f");
	assert_dir(f->st, "d/e");
}

static void
test_rename_file(void **state)
{
	struct fx *f = *state;
	struct store_err e;

	upload(f->st, "a", "alpha");
	assert_int_equal(store_rename(f->st, "a", "b", 0, &e), 0);
	assert_absent(f->st, "a");
	assert_file(f->st, "b", "alpha");
	upload(f->st, "c", "gamma");
	FAILS(store_rename(f->st, "b", "c", 0, &e), STORE_EXISTS);
	assert_file(f->st, "b", "alpha");
	assert_file(f->st, "c", "gamma");
	assert_int_equal(store_rename(f->st, "b", "c", 1, &e), 0);
	assert_absent(f->st, "b");
	assert_file(f->st, "c", "alpha");
	/* Onto itself: nothing happens, with or without replace. */
	assert_int_equal(store_rename(f->st, "c", "c", 0, &e), 0);
	assert_int_equal(store_rename(f->st, "c", "c", 1, &e), 0);
	assert_file(f->st, "c", "alpha");
	FAILS(store_rename(f->st, "nope", "nope", 0, &e), STORE_NOTFOUND);
	FAILS(store_rename(f->st, "nope", "x", 0, &e), STORE_NOTFOUND);
	/* The target's parent must exist; it is not made. */
	FAILS(store_rename(f->st, "c", "no/c", 0, &e), STORE_NOTFOUND);
	FAILS(store_rename(f->st, "c", "c/x", 0, &e), STORE_NOTDIR);
	assert_int_equal(store_mkdir(f->st, "d", 0, &e), 0);
	assert_int_equal(store_rename(f->st, "c", "d/c", 0, &e), 0);
	assert_file(f->st, "d/c", "alpha");
	assert_int_equal(store_rename(f->st, "d/c", "top", 0, &e), 0);
	assert_file(f->st, "top", "alpha");
	/* A file does not replace a directory. */
	FAILS(store_rename(f->st, "top", "d", 1, &e), STORE_ISDIR);
	FAILS(store_rename(f->st, "top", "", 0, &e), STORE_BADPATH);
	FAILS(store_rename(f->st, "", "x", 0, &e), STORE_BADPATH);
}

/* SECURITY: a MOVE must not push what a directory holds past the path
 * limits (out of every walk, and of the usage a quota counts). */
static void
test_rename_too_deep(void **state)
{
	struct fx *f = *state;
	struct store_err e;
	char deep[FTX_RPATH_MAX + 1] = "";
	int i;

	for (i = 0; i < FTX_RPATH_DEPTH_MAX - 2; i++)
		assert_int_equal(
		    str_fmt(deep + strlen(deep), sizeof(deep) - strlen(deep),
			"%sd", i > 0 ? "/" : ""),
		    0);
	assert_int_equal(store_mkdir(f->st, deep, 1, &e), 0);
	upload(f->st, "a/b/c", "three deep");
	/* deep/a/b/c would be 33 components. */
	assert_int_equal(
	    str_fmt(deep + strlen(deep), sizeof(deep) - strlen(deep), "/a"), 0);
	FAILS(store_rename(f->st, "a", deep, 0, &e), STORE_BADPATH);
	assert_file(f->st, "a/b/c", "three deep");
	/* One level less fits. */
	upload(f->st, "x/y", "two deep");
	assert_int_equal(store_rename(f->st, "x", deep, 0, &e), 0);
}

static void
test_rename_dir(void **state)
{
	struct fx *f = *state;
	struct store_err e;

	upload(f->st, "d/e/f", "deep");
	upload(f->st, "d/g", "shallow");
	assert_int_equal(store_rename(f->st, "d", "h", 0, &e), 0);
	assert_absent(f->st, "d");
	assert_file(f->st, "h/e/f", "deep");
	assert_file(f->st, "h/g", "shallow");
	/* Into itself or below itself: refused, nothing moves. */
	FAILS(store_rename(f->st, "h", "h/x", 0, &e), STORE_BADPATH);
	FAILS(store_rename(f->st, "h", "h/e/x", 1, &e), STORE_BADPATH);
	FAILS(store_rename(f->st, "h/e", "h/e/f/x", 0, &e), STORE_BADPATH);
	assert_file(f->st, "h/e/f", "deep");
	/* "h2" is not below "h". */
	assert_int_equal(store_rename(f->st, "h", "h2", 0, &e), 0);
	assert_int_equal(store_rename(f->st, "h2", "h", 0, &e), 0);
	/* Replacing: a directory replaces an empty directory only. */
	assert_int_equal(store_mkdir(f->st, "empty", 0, &e), 0);
	assert_int_equal(store_mkdir(f->st, "full", 0, &e), 0);
	upload(f->st, "full/x", "x");
	upload(f->st, "file", "file");
	FAILS(store_rename(f->st, "h", "empty", 0, &e), STORE_EXISTS);
	FAILS(store_rename(f->st, "h", "full", 1, &e), STORE_NOTEMPTY);
	FAILS(store_rename(f->st, "h", "file", 1, &e), STORE_NOTDIR);
	assert_string_equal(store_code_proto(e.code), "NOTDIR");
	assert_int_equal(store_rename(f->st, "h", "empty", 1, &e), 0);
	assert_absent(f->st, "h");
	assert_file(f->st, "empty/e/f", "deep");
	/* A directory down into another and back up. */
	assert_int_equal(store_rename(f->st, "empty", "full/in", 0, &e), 0);
	assert_file(f->st, "full/in/e/f", "deep");
	assert_int_equal(store_rename(f->st, "full/in/e", "e", 0, &e), 0);
	assert_file(f->st, "e/f", "deep");
	/* A directory emptied of its files replaces as empty. */
	assert_int_equal(store_delete(f->st, "e/f", &e), 0);
	assert_int_equal(store_rename(f->st, "full/in", "e", 1, &e), 0);
	assert_file(f->st, "e/g", "shallow");
}

static void
test_commit_paths(void **state)
{
	struct fx *f = *state;
	unsigned char sha[HASH_SHA256_LEN];
	char key[STORE_PKEY_LEN];
	struct store_entry ent;
	struct store_part *w;
	struct store_err e;

	/* Parents are made, the mtime asked for is kept. */
	digest(HASH_SHA256, "data", 4, sha);
	store_partial_key(key, "me", "a/b/c", 4);
	assert_int_equal(store_part_open(f->st, key, 0, &w, &e), 0);
	assert_int_equal(store_part_write_at(w, "data", 4, 0, &e), 0);
	assert_int_equal(
	    store_part_commit(w, "a/b/c", sha, (time_t)1000000000, 0, &e), 0);
	store_part_close(w, 0);
	assert_dir(f->st, "a");
	assert_dir(f->st, "a/b");
	assert_file(f->st, "a/b/c", "data");
	assert_int_equal(store_lookup(f->st, "a/b/c", &ent, &e), 0);
	assert_int_equal(ent.mtime, 1000000000);
	/* A directory holds the name; a file is on the way. */
	assert_int_equal(store_part_open(f->st, key, 0, &w, &e), 0);
	assert_int_equal(store_part_write_at(w, "data", 4, 0, &e), 0);
	FAILS(store_part_commit(w, "a/b", sha, (time_t)-1, 0, &e), STORE_ISDIR);
	FAILS(store_part_commit(w, "a/b/c/d", sha, (time_t)-1, 0, &e),
	    STORE_NOTDIR);
	/* The flags: flushed by the caller, made durable later. */
	assert_int_equal(store_flush(f->st, &e), 0);
	assert_int_equal(store_part_commit(w, "a/x", sha, (time_t)-1,
			     STORE_COMMIT_FLUSHED | STORE_COMMIT_NOSYNC, &e),
	    0);
	assert_int_equal(store_flush(f->st, &e), 0);
	store_part_close(w, 0);
	assert_file(f->st, "a/x", "data");
	assert_int_equal(store_lookup(f->st, "a/x", &ent, &e), 0);
	assert_true(ent.mtime > 1000000000);
}

static void
test_lookup(void **state)
{
	struct fx *f = *state;
	struct store_entry ent;
	struct store_err e;

	assert_dir(f->st, "");
	upload(f->st, "d/f", "12345");
	assert_dir(f->st, "d");
	assert_int_equal(store_lookup(f->st, "d/f", &ent, &e), 0);
	assert_string_equal(ent.name, "d/f");
	assert_false(ent.is_dir);
	assert_int_equal(ent.size, 5);
	assert_true(ent.mtime > 0);
	assert_true(ent.has_sha);
	assert_absent(f->st, "d/g");
	assert_absent(f->st, "nope/g");
	FAILS(store_lookup(f->st, "d/f/g", &ent, &e), STORE_NOTDIR);
	FAILS(store_lookup(f->st, "d/", &ent, &e), STORE_BADPATH);
}

/* A whole walk into `l` (paths), checking that every directory comes
 * before what it holds. */
struct walked {
	size_t n;
	char paths[32][64];
	int is_dir[32];
	int has_sha[32];
};

static int
walk_all(
    const struct store *st, const char *path, int recursive, struct walked *out)
{
	struct store_entry ent;
	struct store_walk *w;
	struct store_err e;
	size_t i, len;
	int r;

	memset(out, 0, sizeof(*out));
	if (store_walk_open(st, path, recursive, &w, &e) == -1)
		return e.code;
	while ((r = store_walk_next(w, &ent, &e)) == 1) {
		assert_true(out->n < 32);
		assert_int_equal(str_copy(out->paths[out->n],
				     sizeof(out->paths[0]), ent.name),
		    0);
		out->is_dir[out->n] = ent.is_dir;
		out->has_sha[out->n] = ent.has_sha;
		if (ent.is_dir)
			assert_int_equal(ent.size, 0);
		/* Pre-order: the parent of each entry came first. */
		len = strlen(ent.name);
		while (len > 0 && ent.name[len - 1] != '/')
			len--;
		if (len > 0) {
			for (i = 0; i < out->n; i++)
				if (strncmp(out->paths[i], ent.name, len - 1) ==
					0 &&
				    out->paths[i][len - 1] == '\0')
					break;
			assert_true(i < out->n);
			assert_true(out->is_dir[i]);
		}
		out->n++;
	}
	assert_int_equal(r, 0);
	store_walk_close(w);
	return 0;
}

static int
walked_at(const struct walked *w, const char *path)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (strcmp(w->paths[i], path) == 0)
			return (int)i;
	return -1;
}

static void
test_walk(void **state)
{
	struct fx *f = *state;
	struct store_err e;
	struct walked w;

	upload(f->st, "f1", "1");
	upload(f->st, "d/x", "x");
	upload(f->st, "d/e/y", "y");
	upload(f->st, "d/e/z", "z");
	assert_int_equal(store_mkdir(f->st, "empty", 0, &e), 0);
	assert_int_equal(store_mkdir(f->st, "d b", 0, &e), 0);

	assert_int_equal(walk_all(f->st, "", 0, &w), 0);
	assert_int_equal(w.n, 4);
	assert_true(walked_at(&w, "f1") >= 0);
	assert_true(w.has_sha[walked_at(&w, "f1")]);
	assert_true(w.is_dir[walked_at(&w, "d")]);
	assert_true(w.is_dir[walked_at(&w, "empty")]);
	assert_true(w.is_dir[walked_at(&w, "d b")]);

	assert_int_equal(walk_all(f->st, "", 1, &w), 0);
	assert_int_equal(w.n, 8);
	assert_true(walked_at(&w, "d/e/y") > walked_at(&w, "d/e"));
	assert_true(walked_at(&w, "d/e") > walked_at(&w, "d"));
	assert_true(w.has_sha[walked_at(&w, "d/e/z")]);
	assert_false(w.is_dir[walked_at(&w, "d/x")]);

	/* Below the start, paths are relative to it. */
	assert_int_equal(walk_all(f->st, "d", 1, &w), 0);
	assert_int_equal(w.n, 4);
	assert_true(walked_at(&w, "e/y") > walked_at(&w, "e"));
	assert_true(walked_at(&w, "x") >= 0);
	assert_int_equal(walk_all(f->st, "d/e", 0, &w), 0);
	assert_int_equal(w.n, 2);
	/* A file: itself, under its base name. */
	assert_int_equal(walk_all(f->st, "d/e/y", 1, &w), 0);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.paths[0], "y");
	assert_false(w.is_dir[0]);
	assert_true(w.has_sha[0]);
	assert_int_equal(walk_all(f->st, "empty", 1, &w), 0);
	assert_int_equal(w.n, 0);
	assert_int_equal(walk_all(f->st, "nope", 1, &w), STORE_NOTFOUND);
	assert_int_equal(walk_all(f->st, "f1/x", 1, &w), STORE_NOTDIR);
	assert_int_equal(walk_all(f->st, "d/", 1, &w), STORE_BADPATH);
}

/* Entries removed or added between calls: never one twice, and what
 * is left is still found. */
static void
test_walk_changes(void **state)
{
	struct fx *f = *state;
	struct store_entry ent;
	struct store_walk *w;
	struct store_err e;
	char seen[8][16];
	size_t n = 0, i, j;
	int r;

	upload(f->st, "a", "a");
	upload(f->st, "b", "b");
	upload(f->st, "c", "c");
	upload(f->st, "d", "d");
	assert_int_equal(store_walk_open(f->st, "", 1, &w, &e), 0);
	assert_int_equal(store_walk_next(w, &ent, &e), 1);
	assert_int_equal(str_copy(seen[n++], sizeof(seen[0]), ent.name), 0);
	/* One not yet seen goes, a new one comes. */
	assert_int_equal(
	    store_delete(f->st, strcmp(ent.name, "c") == 0 ? "b" : "c", &e), 0);
	upload(f->st, "e", "e");
	while ((r = store_walk_next(w, &ent, &e)) == 1) {
		assert_true(n < 8);
		assert_int_equal(
		    str_copy(seen[n++], sizeof(seen[0]), ent.name), 0);
	}
	assert_int_equal(r, 0);
	store_walk_close(w);
	assert_true(n >= 3 && n <= 5);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			assert_string_not_equal(seen[i], seen[j]);
}

static void
test_usage_nested(void **state)
{
	struct fx *f = *state;
	struct store_err e;
	uint64_t n;

	upload(f->st, "a", "0123456789");
	upload(f->st, "d/b", "01234567890123456789");
	upload(f->st, "d/e/c", "012345678901234567890123456789");
	assert_int_equal(store_mkdir(f->st, "d/empty", 0, &e), 0);
	assert_int_equal(store_usage(f->st, NULL, &n, &e), 0);
	assert_int_equal(n, 60);
	assert_int_equal(store_usage(f->st, "d/e/c", &n, &e), 0);
	assert_int_equal(n, 30);
	assert_int_equal(store_usage(f->st, "c", &n, &e), 0);
	assert_int_equal(n, 60);
	assert_int_equal(store_rename(f->st, "d", "x", 0, &e), 0);
	assert_int_equal(store_usage(f->st, NULL, &n, &e), 0);
	assert_int_equal(n, 60);
}

/* Paths beyond the limits never reach a backend. */
static void
test_deep_paths_refused(void **state)
{
	struct fx *f = *state;
	struct store_entry ent;
	struct store_walk *w;
	struct store_err e;
	char *deep;
	size_t i;

	/* 1,000 components. */
	assert_non_null(deep = malloc(2000));
	for (i = 0; i < 1000; i++) {
		deep[2 * i] = 'a';
		deep[2 * i + 1] = '/';
	}
	deep[1999] = '\0';
	FAILS(store_lookup(f->st, deep, &ent, &e), STORE_BADPATH);
	FAILS(store_mkdir(f->st, deep, 1, &e), STORE_BADPATH);
	FAILS(store_walk_open(f->st, deep, 1, &w, &e), STORE_BADPATH);
	assert_null(w);
	FAILS(store_rename(f->st, "a", deep, 0, &e), STORE_BADPATH);
	/* 33 components: one too many. */
	deep[2 * 33 - 1] = '\0';
	FAILS(store_mkdir(f->st, deep, 1, &e), STORE_BADPATH);
	/* 32: the deepest path there is. */
	deep[2 * 32 - 1] = '\0';
	assert_int_equal(store_mkdir(f->st, deep, 1, &e), 0);
	assert_dir(f->st, deep);
	free(deep);
	assert_absent(f->st, "b");
}

static void
test_code_proto(void **state)
{
	(void)state;
	assert_string_equal(store_code_proto(STORE_NOTFOUND), "NOTFOUND");
	assert_string_equal(store_code_proto(STORE_BUSY), "BUSY");
	assert_string_equal(store_code_proto(STORE_RANGE), "RANGE");
	assert_string_equal(store_code_proto(STORE_NOSPACE), "NOSPACE");
	assert_string_equal(store_code_proto(STORE_TAKEN), "BADNAME");
	assert_string_equal(store_code_proto(STORE_BADPATH), "BADNAME");
	assert_string_equal(store_code_proto(STORE_EXISTS), "EXISTS");
	assert_string_equal(store_code_proto(STORE_NOTEMPTY), "NOTEMPTY");
	assert_string_equal(store_code_proto(STORE_NOTDIR), "NOTDIR");
	assert_string_equal(store_code_proto(STORE_ISDIR), "ISDIR");
	assert_string_equal(store_code_proto(STORE_CHANGED), "IO");
	assert_string_equal(store_code_proto(STORE_TOOMANY), "IO");
	assert_string_equal(store_code_proto(STORE_IO), "IO");
	assert_string_equal(
	    store_code_proto((enum store_code)(STORE_IO + 1)), "IO");
	assert_string_equal(store_code_proto((enum store_code)1000), "IO");
	assert_string_equal(store_code_proto((enum store_code) - 1), "IO");
}

static void
test_store_fail(void **state)
{
	struct store_err e;

	(void)state;
	assert_int_equal(store_fail(&e, STORE_BUSY, "x %d", 42), -1);
	assert_int_equal(e.code, STORE_BUSY);
	assert_string_equal(e.msg, "x 42");
	assert_int_equal(store_fail(NULL, STORE_IO, "ignored"), -1);
}

/* The in-memory backend's capacity: files and partials together. */
static void
test_mem_nospace(void **state)
{
	char k1[STORE_PKEY_LEN], k2[STORE_PKEY_LEN], b[100];
	struct store_part *w;
	struct store_err e;
	struct store *st;
	uint64_t free_b;

	(void)state;
	memset(b, 'x', sizeof(b));
	assert_int_equal(store_mem_open(&st, 100, &e), 0);
	assert_int_equal(store_free_bytes(st, &free_b, &e), 0);
	assert_int_equal(free_b, 100);
	store_partial_key(k1, "me", "one", 60);
	store_partial_key(k2, "me", "two", 60);
	assert_int_equal(store_part_open(st, k1, 0, &w, &e), 0);
	assert_int_equal(store_part_write_at(w, b, 60, 0, &e), 0);
	assert_int_equal(store_part_commit(w, "one", (unsigned char[32]){0},
			     (time_t)-1, 0, &e),
	    0);
	store_part_close(w, 0);
	assert_int_equal(store_free_bytes(st, &free_b, &e), 0);
	assert_int_equal(free_b, 40);

	assert_int_equal(store_part_open(st, k2, 0, &w, &e), 0);
	assert_int_equal(store_part_write_at(w, b, 40, 0, &e), 0);
	assert_int_equal(store_part_write_at(w, b, 1, 40, &e), -1);
	assert_int_equal(e.code, STORE_NOSPACE);
	assert_string_equal(store_code_proto(e.code), "NOSPACE");
	/* Rewriting what is there takes no more room. */
	assert_int_equal(store_part_write_at(w, b, 40, 0, &e), 0);
	store_part_close(w, 1);
	/* Truncated on a resume: room again. */
	assert_int_equal(store_part_open(st, k2, 30, &w, &e), 0);
	assert_int_equal(store_part_write_at(w, b, 10, 30, &e), 0);
	assert_int_equal(store_part_write_at(w, b, 1, 40, &e), -1);
	assert_int_equal(e.code, STORE_NOSPACE);
	store_part_close(w, 0);
	/* A deleted file gives its room back. */
	assert_int_equal(store_delete(st, "one", &e), 0);
	assert_int_equal(store_free_bytes(st, &free_b, &e), 0);
	assert_int_equal(free_b, 100);
	store_close(st);
}

#define CONTRACT_TESTS(SETUP)                                                  \
	cmocka_unit_test_setup_teardown(                                       \
	    test_missing_is_notfound, SETUP, teardown),                        \
	    cmocka_unit_test_setup_teardown(                                   \
		test_bad_paths_refused, SETUP, teardown),                      \
	    cmocka_unit_test_setup_teardown(                                   \
		test_commit_then_read, SETUP, teardown),                       \
	    cmocka_unit_test_setup_teardown(                                   \
		test_commit_records_callers_sha, SETUP, teardown),             \
	    cmocka_unit_test_setup_teardown(                                   \
		test_md5_on_demand, SETUP, teardown),                          \
	    cmocka_unit_test_setup_teardown(test_empty_file, SETUP, teardown), \
	    cmocka_unit_test_setup_teardown(                                   \
		test_reader_keeps_old_version, SETUP, teardown),               \
	    cmocka_unit_test_setup_teardown(test_resume, SETUP, teardown),     \
	    cmocka_unit_test_setup_teardown(                                   \
		test_partial_usage, SETUP, teardown),                          \
	    cmocka_unit_test_setup_teardown(                                   \
		test_partial_trim, SETUP, teardown),                           \
	    cmocka_unit_test_setup_teardown(                                   \
		test_partial_expire, SETUP, teardown),                         \
	    cmocka_unit_test_setup_teardown(                                   \
		test_claim_races_sweep, SETUP, teardown),                      \
	    cmocka_unit_test_setup_teardown(test_list, SETUP, teardown),       \
	    cmocka_unit_test_setup_teardown(test_delete, SETUP, teardown),     \
	    cmocka_unit_test_setup_teardown(test_usage, SETUP, teardown),      \
	    cmocka_unit_test_setup_teardown(                                   \
		test_sub_namespaces, SETUP, teardown),                         \
	    cmocka_unit_test_setup_teardown(                                   \
		test_root_stat_version, SETUP, teardown),                      \
	    cmocka_unit_test_setup_teardown(test_mkdir, SETUP, teardown),      \
	    cmocka_unit_test_setup_teardown(test_rmdir, SETUP, teardown),      \
	    cmocka_unit_test_setup_teardown(                                   \
		test_delete_paths, SETUP, teardown),                           \
	    cmocka_unit_test_setup_teardown(                                   \
		test_rename_file, SETUP, teardown),                            \
	    cmocka_unit_test_setup_teardown(test_rename_dir, SETUP, teardown), \
	    cmocka_unit_test_setup_teardown(                                   \
		test_rename_too_deep, SETUP, teardown),                        \
	    cmocka_unit_test_setup_teardown(                                   \
		test_commit_paths, SETUP, teardown),                           \
	    cmocka_unit_test_setup_teardown(test_lookup, SETUP, teardown),     \
	    cmocka_unit_test_setup_teardown(test_walk, SETUP, teardown),       \
	    cmocka_unit_test_setup_teardown(                                   \
		test_walk_changes, SETUP, teardown),                           \
	    cmocka_unit_test_setup_teardown(                                   \
		test_usage_nested, SETUP, teardown),                           \
	    cmocka_unit_test_setup_teardown(                                   \
		test_deep_paths_refused, SETUP, teardown)

int
main(void)
{
	const struct CMUnitTest posix[] = {CONTRACT_TESTS(setup_posix)};
	const struct CMUnitTest mem[] = {
	    CONTRACT_TESTS(setup_mem),
	    cmocka_unit_test(test_mem_nospace),
	};
	const struct CMUnitTest common[] = {
	    cmocka_unit_test(test_partial_key),
	    cmocka_unit_test(test_code_proto),
	    cmocka_unit_test(test_store_fail),
	};
	int rc = 0;

	rc |= cmocka_run_group_tests_name("store_posix", posix, NULL, NULL);
	rc |= cmocka_run_group_tests_name("store_mem", mem, NULL, NULL);
	rc |= cmocka_run_group_tests_name("store", common, NULL, NULL);
	if (getenv("FTX_TEST_S3_ENDPOINT") != NULL &&
	    getenv("FTX_TEST_S3_BUCKET") != NULL) {
		const struct CMUnitTest s3[] = {CONTRACT_TESTS(setup_s3)};

		rc |= cmocka_run_group_tests_name("store_s3", s3, NULL, NULL);
	} else
		printf("store_s3: not run (no FTX_TEST_S3_ENDPOINT; "
		       "t_cluster.sh runs it against radosgw)\n");
	return rc != 0;
}

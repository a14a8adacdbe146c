/*
 * test_hcache.c - ftx/hcache.c: the client's cache of local files'
 * SHA-256.
 *
 * A cache may only ever save work, never give a wrong answer: a file
 * whose size, mtime or inode changed is a miss, a damaged cache file is
 * ignored as a whole, and a digest taken within the file's own second
 * is not kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ftx_limits.h"
#include "hcache.h"
#include "str.h"

static char dir[64];
static char path[128];

static const char sha_a[] =
    "0000000000000000000000000000000000000000000000000000000000000001";
static const char sha_b[] =
    "abababababababababababababababababababababababababababababababab";

static int
setup(void **state)
{
	(void)state;
	(void)str_copy(dir, sizeof(dir), "/tmp/test_hcache.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	(void)str_fmt(path, sizeof(path), "%s/sub/ftx/hashes", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	(void)str_fmt(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A stat of an old file: dev 1, inode `ino`, `size` bytes. */
static struct stat
st(uint64_t ino, off_t size, time_t mtime, long ns)
{
	struct stat sb;

	memset(&sb, 0, sizeof(sb));
	sb.st_dev = 1;
	sb.st_ino = (ino_t)ino;
	sb.st_size = size;
	sb.st_mtim.tv_sec = mtime;
	sb.st_mtim.tv_nsec = ns;
	return sb;
}

static void
write_file(const char *text)
{
	char sub[128];
	FILE *f;

	(void)str_fmt(sub, sizeof(sub), "%s/sub", dir);
	(void)mkdir(sub, 0700);
	(void)str_fmt(sub, sizeof(sub), "%s/sub/ftx", dir);
	(void)mkdir(sub, 0700);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Stored, saved, loaded again: the same answers; any change is a miss. */
static void
test_roundtrip(void **state)
{
	struct stat a = st(10, 5, 1000000, 7), b = st(11, 0, -5, 0), x;
	time_t now = time(NULL);
	struct hcache *h;
	char sha[HASH_SHA256_HEXLEN + 1];

	(void)state;
	h = hcache_load(path, NULL, 0);
	assert_non_null(h);
	assert_int_equal(hcache_count(h), 0);
	assert_int_equal(hcache_put(h, &a, sha_a, now), 0);
	assert_int_equal(hcache_put(h, &b, sha_b, now), 0);
	assert_int_equal(hcache_save(h, NULL, 0), 0);
	hcache_free(h);

	h = hcache_load(path, NULL, 0);
	assert_non_null(h);
	assert_int_equal(hcache_count(h), 2);
	assert_int_equal(hcache_get(h, &a, sha), 1);
	assert_string_equal(sha, sha_a);
	assert_int_equal(hcache_get(h, &b, sha), 1);
	assert_string_equal(sha, sha_b);
	/* Stale: another size, mtime (to the nanosecond), inode, device. */
	x = a;
	x.st_size = 6;
	assert_int_equal(hcache_get(h, &x, sha), 0);
	x = a;
	x.st_mtim.tv_nsec = 8;
	assert_int_equal(hcache_get(h, &x, sha), 0);
	x = a;
	x.st_ino = 12;
	assert_int_equal(hcache_get(h, &x, sha), 0);
	x = a;
	x.st_dev = 2;
	assert_int_equal(hcache_get(h, &x, sha), 0);
	/* A new digest replaces the old one. */
	assert_int_equal(hcache_put(h, &a, sha_b, now), 0);
	assert_int_equal(hcache_get(h, &a, sha), 1);
	assert_string_equal(sha, sha_b);
	assert_int_equal(hcache_count(h), 2);
	hcache_free(h);
}

/* A file modified in the last second may change again unseen. */
static void
test_racy(void **state)
{
	time_t now = time(NULL);
	struct stat a = st(10, 5, now, 0), b = st(11, 5, now - 1, 0);
	char sha[HASH_SHA256_HEXLEN + 1];
	struct hcache *h;

	(void)state;
	h = hcache_load(path, NULL, 0);
	assert_non_null(h);
	assert_int_equal(hcache_put(h, &a, sha_a, now), 0);
	assert_int_equal(hcache_put(h, &b, sha_a, now), 0);
	assert_int_equal(hcache_get(h, &a, sha), 0);
	assert_int_equal(hcache_get(h, &b, sha), 0);
	/* Not a digest: nothing stored. */
	b = st(12, 5, 100, 0);
	assert_int_equal(hcache_put(h, &b, "xyz", now), 0);
	assert_int_equal(hcache_get(h, &b, sha), 0);
	hcache_free(h);
}

/* Damage anywhere: nothing of the file is trusted. */
static void
test_corrupt(void **state)
{
	static const char *bad[] = {
	    "ftx-hashes v1\n1 10 5 1000000000000007 "
	    "0000000000000000000000000000000000000000000000000000000000000001"
	    "\ngarbage\n",
	    "ftx-hashes v1\n1 10 5 1000000000000007 "
	    "00000000000000000000000000000000000000000000000000000000000001\n",
	    "ftx-hashes v1\n1 10 5 1000000000000007 "
	    "0000000000000000000000000000000000000000000000000000000000000001",
	    "ftx-hashes v2\n1 10 5 1000000000000007 "
	    "0000000000000000000000000000000000000000000000000000000000000001"
	    "\n",
	    "ftx-hashes v1\n1 10 -5 1000000000000007 "
	    "0000000000000000000000000000000000000000000000000000000000000001"
	    "\n",
	    "ftx-hashes v1\n1 10 5 1000000000000007 "
	    "0000000000000000000000000000000000000000000000000000000000000001 x"
	    "\n",
	    "",
	};
	struct stat a = st(10, 5, 1000000, 7);
	char sha[HASH_SHA256_HEXLEN + 1];
	struct hcache *h;
	size_t i;

	(void)state;
	/* The good line alone is read. */
	write_file("ftx-hashes v1\n1 10 5 1000000000000007 "
		   "0000000000000000000000000000000000000000000000000000000000"
		   "000001\n");
	h = hcache_load(path, NULL, 0);
	assert_non_null(h);
	assert_int_equal(hcache_get(h, &a, sha), 1);
	hcache_free(h);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(bad[i]);
		h = hcache_load(path, NULL, 0);
		assert_non_null(h);
		assert_int_equal(hcache_count(h), 0);
		assert_int_equal(hcache_get(h, &a, sha), 0);
		/* ... and a save replaces it with a good one. */
		assert_int_equal(hcache_put(h, &a, sha_b, time(NULL)), 0);
		assert_int_equal(hcache_save(h, NULL, 0), 0);
		hcache_free(h);
		h = hcache_load(path, NULL, 0);
		assert_int_equal(hcache_get(h, &a, sha), 1);
		assert_string_equal(sha, sha_b);
		hcache_free(h);
	}
}

/* Many entries: the index grows and every one is found. */
static void
test_many(void **state)
{
	char sha[HASH_SHA256_HEXLEN + 1];
	struct hcache *h;
	struct stat a;
	uint64_t i;

	(void)state;
	h = hcache_load(path, NULL, 0);
	assert_non_null(h);
	for (i = 0; i < 5000; i++) {
		a = st(i, (off_t)i, 1000, 0);
		assert_int_equal(hcache_put(h, &a, sha_a, time(NULL)), 0);
	}
	assert_int_equal(hcache_count(h), 5000);
	assert_int_equal(hcache_save(h, NULL, 0), 0);
	hcache_free(h);
	h = hcache_load(path, NULL, 0);
	assert_int_equal(hcache_count(h), 5000);
	for (i = 0; i < 5000; i++) {
		a = st(i, (off_t)i, 1000, 0);
		assert_int_equal(hcache_get(h, &a, sha), 1);
	}
	hcache_free(h);
}

static void
test_default_path(void **state)
{
	char out[256];

	(void)state;
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	assert_int_equal(hcache_default_path(out, sizeof(out)), 0);
	assert_string_equal(out, "/x/cache/ftx/hashes");
	/* A relative one is ignored, as the XDG rules say. */
	setenv("XDG_CACHE_HOME", "rel", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(hcache_default_path(out, sizeof(out)), 0);
	assert_string_equal(out, "/home/u/.cache/ftx/hashes");
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	assert_int_equal(hcache_default_path(out, sizeof(out)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_racy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many, setup, teardown),
	    cmocka_unit_test(test_default_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

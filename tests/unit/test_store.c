/*
 * test_store.c - the storage root: atomic commit, hash cache, symlink and
 * temporary handling.
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
#include <unistd.h>

#include <cmocka.h>

#include "hash.h"
#include "ftx_limits.h"
#include "store.h"
#include "str.h"

struct fx {
	char root[64];
	struct store st;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[FTX_ERRLEN];

	assert_non_null(f);
	str_copy(f->root, sizeof(f->root), "/tmp/ftx-store-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	assert_int_equal(store_open(&f->st, f->root, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(&f->st);
	str_fmt(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
write_file(const struct fx *f, const char *name, const char *content)
{
	char path[256];
	FILE *fp;

	str_fmt(path, sizeof(path), "%s/%s", f->root, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(content, fp);
	assert_int_equal(fclose(fp), 0);
}

static int
count_entry(void *arg, const struct store_entry *e)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static int
list_count(const struct fx *f)
{
	char err[FTX_ERRLEN];
	int n = 0;

	assert_int_equal(
	    store_list(&f->st, 1000, count_entry, &n, err, sizeof(err)), 0);
	return n;
}

static void
sha_of(const char *s, unsigned char *out)
{
	struct hash_ctx *h = hash_new(HASH_SHA256, NULL, 0);

	assert_non_null(h);
	assert_int_equal(hash_update(h, s, strlen(s)), 0);
	assert_int_equal(hash_final(h, out), 0);
	hash_free(h);
}

static void
test_commit_is_atomic(void **state)
{
	struct fx *f = *state;
	unsigned char sha[32], got[32];
	char tmp[STORE_TMPNAME_MAX], err[FTX_ERRLEN];
	struct stat sb;
	int fd, rfd;

	assert_int_equal(
	    store_tmp_create(&f->st, tmp, &fd, err, sizeof(err)), 0);
	assert_int_equal(tmp[0], '.');
	assert_int_equal(write(fd, "hello world\n", 12), 12);
	/* Before the commit nothing is visible. */
	assert_int_equal(list_count(f), 0);
	assert_int_equal(
	    store_open_read(&f->st, "a.txt", &rfd, &sb, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	sha_of("hello world\n", sha);
	assert_int_equal(
	    store_commit(&f->st, tmp, "a.txt", fd, sha, err, sizeof(err)), 0);
	close(fd);
	assert_int_equal(list_count(f), 1);
	assert_int_equal(
	    store_open_read(&f->st, "a.txt", &rfd, &sb, err, sizeof(err)), 0);
	assert_int_equal(sb.st_size, 12);
	assert_int_equal(
	    store_sha256(&f->st, "a.txt", rfd, &sb, got, err, sizeof(err)), 0);
	assert_memory_equal(got, sha, 32);
	close(rfd);
}

static void
test_cache_invalidated_on_change(void **state)
{
	struct fx *f = *state;
	unsigned char sha[32], want[32];
	char err[FTX_ERRLEN];
	struct stat sb;
	int fd;

	write_file(f, "hand.bin", "abc");
	assert_int_equal(
	    store_open_read(&f->st, "hand.bin", &fd, &sb, err, sizeof(err)), 0);
	/* Hashed on first need, then cached. */
	assert_int_equal(
	    store_sha256(&f->st, "hand.bin", fd, &sb, sha, err, sizeof(err)),
	    0);
	sha_of("abc", want);
	assert_memory_equal(sha, want, 32);
	close(fd);
	/* Rewritten by hand with another size: the cache must not be used. */
	write_file(f, "hand.bin", "abcd");
	assert_int_equal(
	    store_open_read(&f->st, "hand.bin", &fd, &sb, err, sizeof(err)), 0);
	assert_int_equal(
	    store_sha256(&f->st, "hand.bin", fd, &sb, sha, err, sizeof(err)),
	    0);
	sha_of("abcd", want);
	assert_memory_equal(sha, want, 32);
	close(fd);
}

static void
test_symlinks_and_dirs_refused(void **state)
{
	struct fx *f = *state;
	char path[256], err[FTX_ERRLEN];
	struct stat sb;
	int fd;

	str_fmt(path, sizeof(path), "%s/evil", f->root);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	str_fmt(path, sizeof(path), "%s/sub", f->root);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(
	    store_open_read(&f->st, "evil", &fd, &sb, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(
	    store_open_read(&f->st, "sub", &fd, &sb, err, sizeof(err)), -1);
	assert_int_equal(store_delete(&f->st, "evil", err, sizeof(err)), -1);
	assert_int_equal(list_count(f), 0);
	/* The link target is untouched. */
	assert_int_equal(access("/etc/passwd", F_OK), 0);
}

static void
test_delete(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN];

	write_file(f, "x", "1");
	assert_int_equal(list_count(f), 1);
	assert_int_equal(store_delete(&f->st, "x", err, sizeof(err)), 0);
	assert_int_equal(list_count(f), 0);
	assert_int_equal(store_delete(&f->st, "x", err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_stale_temporaries_removed(void **state)
{
	struct fx *f = *state;
	char path[256], err[FTX_ERRLEN];

	write_file(f, ".ftxtmp-deadbeef", "partial");
	write_file(f, "keep", "k");
	store_close(&f->st);
	assert_int_equal(store_open(&f->st, f->root, err, sizeof(err)), 0);
	str_fmt(path, sizeof(path), "%s/.ftxtmp-deadbeef", f->root);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(list_count(f), 1);
}

static void
test_hidden_not_listed(void **state)
{
	struct fx *f = *state;

	write_file(f, ".hidden", "h");
	write_file(f, "shown", "s");
	assert_int_equal(list_count(f), 1);
}

static void
test_list_cap(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], name[16];
	int i, n = 0;

	for (i = 0; i < 10; i++) {
		str_fmt(name, sizeof(name), "f%d", i);
		write_file(f, name, "z");
	}
	assert_int_equal(
	    store_list(&f->st, 4, count_entry, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 4);
}

static void
md5_of(const char *s, unsigned char *out)
{
	struct hash_ctx *h = hash_new(HASH_MD5, NULL, 0);

	assert_non_null(h);
	assert_int_equal(hash_update(h, s, strlen(s)), 0);
	assert_int_equal(hash_final(h, out), 0);
	hash_free(h);
}

/* Replace a file's bytes in place (same inode), keeping its mtime: the
 * cache cannot notice, so what store_* return shows where it came from. */
static void
overwrite_same_version(const struct fx *f, const char *name, const char *s)
{
	struct timespec ts[2];
	char path[256];
	struct stat sb;
	int fd;

	str_fmt(path, sizeof(path), "%s/%s", f->root, name);
	assert_int_equal(stat(path, &sb), 0);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, s, strlen(s), 0), (ssize_t)strlen(s));
	close(fd);
	ts[0] = sb.st_atim;
	ts[1] = sb.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void
test_md5_cached(void **state)
{
	struct fx *f = *state;
	unsigned char sha[32], md5[16], want_sha[32], want_md5[16];
	char err[FTX_ERRLEN];
	struct stat sb;
	int fd, has_md5 = -1;

	write_file(f, "m.bin", "hello md5");
	sha_of("hello md5", want_sha);
	md5_of("hello md5", want_md5);
	assert_int_equal(
	    store_open_read(&f->st, "m.bin", &fd, &sb, err, sizeof(err)), 0);
	/* Nothing cached for a file copied in by hand. */
	assert_int_equal(
	    store_cached(&f->st, "m.bin", &sb, sha, md5, &has_md5), -1);
	/* The SHA-256 alone is cached without an MD5. */
	assert_int_equal(
	    store_sha256(&f->st, "m.bin", fd, &sb, sha, err, sizeof(err)), 0);
	assert_int_equal(
	    store_cached(&f->st, "m.bin", &sb, sha, md5, &has_md5), 0);
	assert_int_equal(has_md5, 0);
	assert_memory_equal(sha, want_sha, 32);
	/* The first MD5 request computes it and caches both. */
	assert_int_equal(
	    store_md5(&f->st, "m.bin", fd, &sb, sha, md5, err, sizeof(err)), 0);
	assert_memory_equal(md5, want_md5, 16);
	assert_memory_equal(sha, want_sha, 32);
	close(fd);
	memset(md5, 0, sizeof(md5));
	memset(sha, 0, sizeof(sha));
	assert_int_equal(
	    store_cached(&f->st, "m.bin", &sb, sha, md5, &has_md5), 0);
	assert_int_equal(has_md5, 1);
	assert_memory_equal(md5, want_md5, 16);
	assert_memory_equal(sha, want_sha, 32);
	/* Later requests come from the cache, not the file: changed bytes
	 * with the same size, mtime and inode go unnoticed. */
	overwrite_same_version(f, "m.bin", "HELLO MD5");
	assert_int_equal(
	    store_open_read(&f->st, "m.bin", &fd, &sb, err, sizeof(err)), 0);
	assert_int_equal(
	    store_md5(&f->st, "m.bin", fd, &sb, sha, md5, err, sizeof(err)), 0);
	assert_memory_equal(md5, want_md5, 16);
	close(fd);
	/* A new version (another size) is hashed again, MD5 included. */
	write_file(f, "m.bin", "hello md5!");
	assert_int_equal(
	    store_open_read(&f->st, "m.bin", &fd, &sb, err, sizeof(err)), 0);
	assert_int_equal(
	    store_cached(&f->st, "m.bin", &sb, sha, md5, &has_md5), -1);
	assert_int_equal(
	    store_md5(&f->st, "m.bin", fd, &sb, sha, md5, err, sizeof(err)), 0);
	md5_of("hello md5!", want_md5);
	sha_of("hello md5!", want_sha);
	assert_memory_equal(md5, want_md5, 16);
	assert_memory_equal(sha, want_sha, 32);
	close(fd);
}

/* Write a sidecar by hand, as an older server (v1) or an attacker would. */
static void
write_sidecar(const struct fx *f, const char *name, const char *ver,
    const char *hashes, const struct stat *sb)
{
	char path[256], line[512];
	FILE *fp;

	str_fmt(path, sizeof(path), "%s/.ftx/%s", f->root, name);
	str_fmt(line, sizeof(line), "%s %s %lld %lld %ld %llu\n", ver, hashes,
	    (long long)sb->st_size, (long long)sb->st_mtim.tv_sec,
	    (long)sb->st_mtim.tv_nsec, (unsigned long long)sb->st_ino);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(line, fp);
	assert_int_equal(fclose(fp), 0);
}

static void
test_old_cache_entries_readable(void **state)
{
	struct fx *f = *state;
	unsigned char sha[32], md5[16], want_sha[32], want_md5[16];
	char err[FTX_ERRLEN], hex[65], mhex[33], both[128];
	struct stat sb;
	int fd, has_md5 = -1;

	write_file(f, "old.bin", "legacy");
	sha_of("legacy", want_sha);
	md5_of("legacy", want_md5);
	assert_int_equal(
	    store_open_read(&f->st, "old.bin", &fd, &sb, err, sizeof(err)), 0);
	str_hex(hex, want_sha, 32);
	write_sidecar(f, "old.bin", "v1", hex, &sb);
	/* A v1 entry (an older server's) is valid: it just lacks the MD5. */
	assert_int_equal(
	    store_cached(&f->st, "old.bin", &sb, sha, md5, &has_md5), 0);
	assert_int_equal(has_md5, 0);
	assert_memory_equal(sha, want_sha, 32);
	assert_int_equal(
	    store_md5(&f->st, "old.bin", fd, &sb, sha, md5, err, sizeof(err)),
	    0);
	assert_memory_equal(md5, want_md5, 16);
	assert_int_equal(
	    store_cached(&f->st, "old.bin", &sb, sha, md5, &has_md5), 0);
	assert_int_equal(has_md5, 1);
	/* Damaged v2 entries are ignored, never half-used. */
	str_hex(mhex, want_md5, 16);
	str_fmt(both, sizeof(both), "%s %.31sz", hex, mhex);
	write_sidecar(f, "old.bin", "v2", both, &sb);
	assert_int_equal(
	    store_cached(&f->st, "old.bin", &sb, sha, md5, &has_md5), -1);
	str_fmt(both, sizeof(both), "%s %.31s", hex, mhex);
	write_sidecar(f, "old.bin", "v2", both, &sb);
	assert_int_equal(
	    store_cached(&f->st, "old.bin", &sb, sha, md5, &has_md5), -1);
	write_sidecar(f, "old.bin", "v3", hex, &sb);
	assert_int_equal(
	    store_cached(&f->st, "old.bin", &sb, sha, md5, &has_md5), -1);
	assert_int_equal(has_md5, 0);
	close(fd);
}

/* Committed files get 0666 minus the umask the process runs with. */
static void
check_commit_mode(mode_t um, mode_t want)
{
	char root[64], err[FTX_ERRLEN], key[STORE_PKEY_LEN], path[128];
	char cmd[128];
	unsigned char sha[32];
	struct store st;
	struct stat sb;
	mode_t old;
	int fd;

	str_copy(root, sizeof(root), "/tmp/ftx-mode-XXXXXX");
	assert_non_null(mkdtemp(root));
	old = umask(um);
	assert_int_equal(store_open(&st, root, err, sizeof(err)), 0);
	umask(old); /* store_open read it; later changes do not count */
	store_partial_key(key, "me", "p.bin", 2);
	assert_int_equal(
	    store_partial_open(&st, key, 0, &fd, err, sizeof(err)), 0);
	assert_int_equal(write(fd, "hi", 2), 2);
	sha_of("hi", sha);
	assert_int_equal(
	    store_partial_commit(&st, key, "p.bin", fd, sha, err, sizeof(err)),
	    0);
	close(fd);
	str_fmt(path, sizeof(path), "%s/p.bin", root);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, want);
	store_close(&st);
	str_fmt(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void
test_commit_mode_follows_umask(void **state)
{
	(void)state;
	check_commit_mode(022, 0644);
	check_commit_mode(027, 0640);
	check_commit_mode(077, 0600);
	check_commit_mode(002, 0664);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_commit_is_atomic, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_cache_invalidated_on_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_symlinks_and_dirs_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_stale_temporaries_removed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_hidden_not_listed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_md5_cached, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_old_cache_entries_readable, setup, teardown),
	    cmocka_unit_test(test_commit_mode_follows_umask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

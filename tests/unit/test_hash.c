/*
 * test_hash.c - unit tests for shared/hash.c (known-answer vectors).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hash.h"
#include "ftx_limits.h"
#include "str.h"

struct kat {
	const char *msg;
	const char *sha256;
	const char *md5;
};

static const struct kat kats[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"d41d8cd98f00b204e9800998ecf8427e"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	"900150983cd24fb0d6963f7d28e17f72"},
    {"hello world\n",
	"a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447",
	"6f5902ac237024bdd0c176cb93063dc4"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	"8215ef0796a20bcaaae116d3876c664a"},
};

static void
digest_hex(enum hash_alg alg, const void *p, size_t n, char *hex)
{
	unsigned char d[HASH_MAX_LEN];
	struct hash_ctx *h;
	char err[FTX_ERRLEN];

	h = hash_new(alg, err, sizeof(err));
	assert_non_null(h);
	assert_int_equal(hash_update(h, p, n), 0);
	assert_int_equal(hash_final(h, d), 0);
	str_hex(hex, d, hash_len(alg));
	hash_free(h);
}

static void
test_lengths(void **state)
{
	assert_int_equal(hash_len(HASH_SHA256), 32);
	assert_int_equal(hash_len(HASH_MD5), 16);
}

static void
test_kat_sha256(void **state)
{
	char hex[2 * HASH_MAX_LEN + 1];
	size_t i;

	for (i = 0; i < sizeof(kats) / sizeof(kats[0]); i++) {
		digest_hex(HASH_SHA256, kats[i].msg, strlen(kats[i].msg), hex);
		assert_string_equal(hex, kats[i].sha256);
	}
}

static void
test_kat_md5(void **state)
{
	char hex[2 * HASH_MAX_LEN + 1];
	size_t i;

	for (i = 0; i < sizeof(kats) / sizeof(kats[0]); i++) {
		digest_hex(HASH_MD5, kats[i].msg, strlen(kats[i].msg), hex);
		assert_string_equal(hex, kats[i].md5);
	}
}

static void
test_million_a(void **state)
{
	unsigned char d[HASH_SHA256_LEN];
	char hex[HASH_SHA256_HEXLEN + 1], block[1000];
	struct hash_ctx *h;
	int i;

	/* FIPS 180-2 vector: one million 'a', fed in 1000-byte pieces. */
	memset(block, 'a', sizeof(block));
	h = hash_new(HASH_SHA256, NULL, 0);
	assert_non_null(h);
	for (i = 0; i < 1000; i++)
		assert_int_equal(hash_update(h, block, sizeof(block)), 0);
	assert_int_equal(hash_final(h, d), 0);
	str_hex(hex, d, sizeof(d));
	assert_string_equal(hex,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	hash_free(h);
}

static void
test_incremental_and_reuse(void **state)
{
	const char *msg = kats[2].msg;
	unsigned char d[HASH_SHA256_LEN];
	char hex[HASH_SHA256_HEXLEN + 1];
	struct hash_ctx *h;
	size_t i;

	h = hash_new(HASH_SHA256, NULL, 0);
	assert_non_null(h);
	/* Byte by byte, with empty updates in between. */
	for (i = 0; i < strlen(msg); i++) {
		assert_int_equal(hash_update(h, msg + i, 1), 0);
		assert_int_equal(hash_update(h, msg, 0), 0);
	}
	assert_int_equal(hash_final(h, d), 0);
	str_hex(hex, d, sizeof(d));
	assert_string_equal(hex, kats[2].sha256);
	/* hash_final resets: the same context hashes the next message. */
	assert_int_equal(hash_update(h, "abc", 3), 0);
	assert_int_equal(hash_final(h, d), 0);
	str_hex(hex, d, sizeof(d));
	assert_string_equal(hex, kats[1].sha256);
	assert_int_equal(hash_final(h, d), 0);
	str_hex(hex, d, sizeof(d));
	assert_string_equal(hex, kats[0].sha256);
	hash_free(h);
	hash_free(NULL);
}

static int
tmpfile_with(const void *p, size_t n)
{
	char path[] = "/tmp/ftx-test-hash-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	if (n > 0)
		assert_int_equal(write(fd, p, n), (ssize_t)n);
	return fd;
}

static void
test_hash_fd_small(void **state)
{
	unsigned char d[HASH_MAX_LEN];
	char hex[2 * HASH_MAX_LEN + 1], err[FTX_ERRLEN];
	uint64_t size = 99;
	int fd;

	fd = tmpfile_with(kats[2].msg, strlen(kats[2].msg));
	assert_int_equal(
	    hash_fd(fd, HASH_SHA256, d, &size, err, sizeof(err)), 0);
	str_hex(hex, d, HASH_SHA256_LEN);
	assert_string_equal(hex, kats[2].sha256);
	assert_true(size == 12);
	assert_int_equal(hash_fd(fd, HASH_MD5, d, &size, err, sizeof(err)), 0);
	str_hex(hex, d, HASH_MD5_LEN);
	assert_string_equal(hex, kats[2].md5);
	/* pread: the file offset is untouched (still at the end). */
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 12);
	close(fd);

	fd = tmpfile_with(NULL, 0);
	assert_int_equal(
	    hash_fd(fd, HASH_SHA256, d, &size, err, sizeof(err)), 0);
	str_hex(hex, d, HASH_SHA256_LEN);
	assert_string_equal(hex, kats[0].sha256);
	assert_true(size == 0);
	close(fd);
}

static void
test_hash_fd_large(void **state)
{
	/* Bigger than the 256 KiB read block, and not a multiple of it. */
	size_t n = 3 * 256 * 1024 + 12345, i;
	unsigned char *data = malloc(n), d1[HASH_SHA256_LEN],
		      d2[HASH_SHA256_LEN];
	struct hash_ctx *h;
	uint64_t size = 0;
	int fd;

	assert_non_null(data);
	for (i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 7 + (i >> 9));
	fd = tmpfile_with(data, n);
	assert_int_equal(lseek(fd, 5, SEEK_SET), 5);
	assert_int_equal(hash_fd(fd, HASH_SHA256, d1, &size, NULL, 0), 0);
	assert_true(size == n);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 5);
	h = hash_new(HASH_SHA256, NULL, 0);
	assert_non_null(h);
	assert_int_equal(hash_update(h, data, n), 0);
	assert_int_equal(hash_final(h, d2), 0);
	assert_memory_equal(d1, d2, sizeof(d1));
	hash_free(h);
	close(fd);
	free(data);
}

static void
test_hash_fd_errors(void **state)
{
	unsigned char d[HASH_MAX_LEN];
	char err[FTX_ERRLEN];
	uint64_t size;
	int p[2];

	err[0] = '\0';
	assert_int_equal(
	    hash_fd(-1, HASH_SHA256, d, &size, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	/* A pipe cannot be pread. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(
	    hash_fd(p[0], HASH_SHA256, d, &size, err, sizeof(err)), -1);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_kat_sha256),
	    cmocka_unit_test(test_kat_md5),
	    cmocka_unit_test(test_million_a),
	    cmocka_unit_test(test_incremental_and_reuse),
	    cmocka_unit_test(test_hash_fd_small),
	    cmocka_unit_test(test_hash_fd_large),
	    cmocka_unit_test(test_hash_fd_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

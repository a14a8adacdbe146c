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

/* ---- hash_state_save / hash_state_load ---- */

/* "abcd...zabc...": a message whose every offset holds a known byte. */
static unsigned char *
alpha(size_t n)
{
	unsigned char *p = malloc(n > 0 ? n : 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)('a' + i % 26);
	return p;
}

static void
oneshot_sha(const unsigned char *p, size_t n, unsigned char *d)
{
	struct hash_ctx *h = hash_new(HASH_SHA256, NULL, 0);

	assert_non_null(h);
	assert_int_equal(hash_update(h, p, n), 0);
	assert_int_equal(hash_final(h, d), 0);
	hash_free(h);
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Save after `cut` bytes, load into a fresh context, hash the rest
 * there: the digest is the one-shot digest of the whole. */
static void
test_state_resume(void **state)
{
	static const size_t cuts[] = {
	    0, 1, 55, 56, 63, 64, 65, 127, 128, 4096, 1048576 + 7};
	const size_t total = 2 * 1048576 + 13;
	unsigned char *msg = alpha(total), want[HASH_SHA256_LEN];
	unsigned char got[HASH_SHA256_LEN], st[HASH_STATE_LEN];
	unsigned char st2[HASH_STATE_LEN];
	struct hash_ctx *a, *b;
	size_t i;

	(void)state;
	oneshot_sha(msg, total, want);
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		a = hash_new(HASH_SHA256, NULL, 0);
		b = hash_new(HASH_SHA256, NULL, 0);
		assert_non_null(a);
		assert_non_null(b);
		/* In two uneven pieces, so the block buffer is in use. */
		assert_int_equal(hash_update(a, msg, cuts[i] / 3), 0);
		assert_int_equal(
		    hash_update(a, msg + cuts[i] / 3, cuts[i] - cuts[i] / 3),
		    0);
		memset(st, 0xee, sizeof(st));
		assert_int_equal(hash_state_save(a, st), 0);
		/* The layout is ours, big-endian: bits hashed (low word) and
		 * bytes pending, the same on any machine. */
		assert_int_equal(be32(st + 32), (uint32_t)(cuts[i] * 8));
		assert_int_equal(be32(st + 36), 0);
		assert_int_equal(be32(st + 40), cuts[i] % 64);
		/* b has hashed something else first: load replaces it. */
		assert_int_equal(hash_update(b, "garbage", 7), 0);
		assert_int_equal(hash_state_load(b, st), 0);
		/* Saving the loaded state gives the same bytes back. */
		assert_int_equal(hash_state_save(b, st2), 0);
		assert_memory_equal(st, st2, HASH_STATE_LEN);
		assert_int_equal(
		    hash_update(b, msg + cuts[i], total - cuts[i]), 0);
		assert_int_equal(hash_final(b, got), 0);
		if (memcmp(got, want, sizeof(want)) != 0)
			fail_msg("resumed at %zu: wrong digest", cuts[i]);
		/* The saved-from context is untouched by the save. */
		assert_int_equal(
		    hash_update(a, msg + cuts[i], total - cuts[i]), 0);
		assert_int_equal(hash_final(a, got), 0);
		assert_memory_equal(got, want, sizeof(want));
		hash_free(a);
		hash_free(b);
	}
	free(msg);
}

/* Against a published vector, not only against ourselves: one million
 * 'a' with the state carried to a new context after every 1000. */
static void
test_state_chain_million_a(void **state)
{
	unsigned char d[HASH_SHA256_LEN], st[HASH_STATE_LEN];
	char hex[HASH_SHA256_HEXLEN + 1], block[1000];
	struct hash_ctx *h, *n;
	int i;

	(void)state;
	memset(block, 'a', sizeof(block));
	h = hash_new(HASH_SHA256, NULL, 0);
	assert_non_null(h);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(hash_update(h, block, sizeof(block)), 0);
		assert_int_equal(hash_state_save(h, st), 0);
		hash_free(h);
		h = hash_new(HASH_SHA256, NULL, 0);
		assert_non_null(h);
		assert_int_equal(hash_state_load(h, st), 0);
	}
	assert_int_equal(hash_final(h, d), 0);
	str_hex(hex, d, sizeof(d));
	assert_string_equal(hex,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* The empty state resumes to the digest of "abc". */
	n = hash_new(HASH_SHA256, NULL, 0);
	assert_non_null(n);
	assert_int_equal(hash_state_save(n, st), 0);
	assert_int_equal(hash_state_load(h, st), 0);
	assert_int_equal(hash_update(h, "abc", 3), 0);
	assert_int_equal(hash_final(h, d), 0);
	str_hex(hex, d, sizeof(d));
	assert_string_equal(hex, kats[1].sha256);
	hash_free(n);
	hash_free(h);
}

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* States no SHA-256 can be in are refused, and leave the context as it
 * was; an MD5 context has no state to give or take. */
static void
test_state_hostile(void **state)
{
	static const struct {
		uint32_t nl, num;
		int ok;
	} cases[] = {
	    {0, 0, 1},
	    {65 * 8, 1, 1},
	    {63 * 8, 63, 1},
	    {64 * 8, 0, 1},
	    {64 * 8, 64, 0}, /* a full block is never pending */
	    {0, 64, 0},
	    {0, 0xffffffffu, 0},
	    {0, 0x80000000u, 0},
	    {10 * 8, 11, 0}, /* num disagrees with the count */
	    {10 * 8, 9, 0},
	    {100 * 8, 100, 0},
	    {100 * 8, 36, 1},
	    {0xfffffff8u, 63, 1}, /* the low word's largest byte count */
	    {0xfffffff8u, 62, 0},
	};
	unsigned char st[HASH_STATE_LEN], good[HASH_STATE_LEN];
	unsigned char d[HASH_SHA256_LEN], want[HASH_SHA256_LEN];
	unsigned char *msg = alpha(100);
	struct hash_ctx *h, *m;
	size_t i;

	(void)state;
	h = hash_new(HASH_SHA256, NULL, 0);
	assert_non_null(h);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(hash_state_save(h, st), 0);
		put_be32(st + 32, cases[i].nl);
		put_be32(st + 36, 0);
		put_be32(st + 40, cases[i].num);
		if (hash_state_load(h, st) != (cases[i].ok ? 0 : -1))
			fail_msg("case %zu (Nl %u, num %u)", i, cases[i].nl,
			    cases[i].num);
	}
	/* A refused load leaves the context where it was: hash 60 bytes,
	 * try a bad state, hash the other 40: the digest of all 100. */
	oneshot_sha(msg, 100, want);
	assert_int_equal(hash_final(h, d), 0);
	assert_int_equal(hash_update(h, msg, 60), 0);
	assert_int_equal(hash_state_save(h, good), 0);
	memcpy(st, good, sizeof(st));
	put_be32(st + 40, 61);
	assert_int_equal(hash_state_load(h, st), -1);
	assert_int_equal(hash_update(h, msg + 60, 40), 0);
	assert_int_equal(hash_final(h, d), 0);
	assert_memory_equal(d, want, sizeof(d));
	/* Over 512 MiB the bit count carries into the high word: such a
	 * state (Nh 1) is one SHA-256 can be in. */
	memcpy(st, good, sizeof(st));
	put_be32(st + 36, 1);
	assert_int_equal(hash_state_load(h, st), 0);
	/* MD5 refuses both ways. */
	m = hash_new(HASH_MD5, NULL, 0);
	assert_non_null(m);
	assert_int_equal(hash_state_save(m, st), -1);
	assert_int_equal(hash_state_load(m, good), -1);
	/* ...and still hashes as MD5 after refusing. */
	assert_int_equal(hash_update(m, "abc", 3), 0);
	assert_int_equal(hash_final(m, d), 0);
	{
		char hex[2 * HASH_MD5_LEN + 1];

		str_hex(hex, d, HASH_MD5_LEN);
		assert_string_equal(hex, kats[1].md5);
	}
	hash_free(m);
	hash_free(h);
	free(msg);
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
	    cmocka_unit_test(test_state_resume),
	    cmocka_unit_test(test_state_chain_million_a),
	    cmocka_unit_test(test_state_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_users.c - unit tests for ftxd/users.c: names, hashes (known answer
 * vectors for both KDFs, salts, the dummy for unknown users), the users
 * file's parser and its refusals, and the atomic, locked edits.
 *
 * Every scrypt call with the real parameters costs ~100 ms and 32 MiB,
 * so only a handful are made; the file tests use fixed hash strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ftx_limits.h"
#include "str.h"
#include "users.h"

/* Known answers, computed independently with Python's hashlib:
 * scrypt("correct horse", salt 00..0f, N=16, r=8, p=1, 32 bytes) and
 * pbkdf2_hmac("sha256", "battery staple", salt 64..77, 1000, 32). */
#define KAT_SCRYPT_PASS "correct horse"
#define KAT_SCRYPT                                                             \
	"scrypt$4$8$1$000102030405060708090a0b0c0d0e0f$"                       \
	"43b11c1f5ef93ff91c53b244d87454faa4d1aeafc14ba51b09160f741682e72f"
#define KAT_PBKDF2_PASS "battery staple"
#define KAT_PBKDF2                                                             \
	"pbkdf2-sha256$1000$6465666768696a6b6c6d6e6f7071727374757677$"         \
	"1eda611b5f70b3629abe3598f18453848e193e5a0f4c53929c69f484bfa350ec"

static char tmpdir[256];
static int counter;

/* A fresh path inside the test directory. */
static void
tpath(char *out, size_t n, const char *base)
{
	assert_int_equal(
	    str_fmt(out, n, "%s/%s.%d", tmpdir, base, ++counter), 0);
}

static void
write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
write_str(const char *path, const char *text)
{
	write_file(path, text, strlen(text), 0600);
}

/* The whole file as a string (small files only). */
static char *
slurp(const char *path)
{
	static char buf[1 << 16];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

/* Entries of the test directory whose names contain `part`. */
static int
count_entries(const char *part)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, part) != NULL)
			n++;
	closedir(d);
	return n;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
setup(void **state)
{
	(void)str_copy(tmpdir, sizeof(tmpdir), "/tmp/ftx-test-users.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' &&
			    (e->d_name[1] == '\0' ||
				(e->d_name[1] == '.' && e->d_name[2] == '\0')))
				continue;
			if (str_fmt(p, sizeof(p), "%s/%s", tmpdir, e->d_name) ==
				0 &&
			    unlink(p) == -1)
				(void)rmdir(p);
		}
		closedir(d);
	}
	(void)rmdir(tmpdir);
	return 0;
}

/* ---- names -------------------------------------------------------------- */

static void
test_name_check(void **state)
{
	static const char *good[] = {"a", "0", "alice", "a-b_c", "0day", "x-",
	    "y_", "anonymous", "abcdefghijklmnopqrstuvwxyz012345"};
	static const char *bad[] = {"", "-a", "_a", "A", "Alice", "a.b", ".",
	    "..", "../x", "a/b", "/", "a b", " a", "a ", "a:b", "a\tb", "a\n",
	    "a\r", "caf\xc3\xa9", "a\x7f", "a%2f", "a*", "a$", "a\\b",
	    "abcdefghijklmnopqrstuvwxyz0123456"};
	char err[FTX_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (users_name_check(good[i], err, sizeof(err)) != 0)
			fail_msg("refused '%s': %s", good[i], err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (users_name_check(bad[i], err, sizeof(err)) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(users_name_check(NULL, err, sizeof(err)), -1);
}

/* User names reach logs and directory names: C1 controls (as UTF-8 and
 * raw), malformed UTF-8 and bidi controls are refused like any byte
 * outside [a-z0-9_-]; so is every byte >= 0x80, anywhere. */
static void
test_name_hostile_utf8(void **state)
{
	static const char *bad[] = {"a\xc2\x9b", "\xc2\x85nel", "a\x9b", "\x80",
	    "bob\xff", "\xc0\xaf", "a\xc0\x80", "\xed\xa0\x80",
	    "\xf4\x90\x80\x80", "cut\xe2\x82", "a\xe2\x80\xae", "\xe2\x81\xa6x",
	    "ev\xe2\x80\xaelie"};
	char err[FTX_ERRLEN], name[8];
	size_t i;
	int c;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (users_name_check(bad[i], err, sizeof(err)) != -1)
			fail_msg("hostile user name #%zu accepted", i);
		assert_true(err[0] != '\0');
	}
	for (c = 0x80; c <= 0xff; c++) {
		name[0] = 'a';
		name[1] = (char)c;
		name[2] = 'b';
		name[3] = '\0';
		if (users_name_check(name, NULL, 0) != -1)
			fail_msg("byte 0x%02x accepted in a user name", c);
	}
}

static void
test_default_path(void **state)
{
	char root[512], link[512], out[FTX_PATH_MAX], want[512];
	char err[FTX_ERRLEN], *real;

	/* An existing root: the file is next to it, absolute. */
	tpath(root, sizeof(root), "root");
	assert_int_equal(mkdir(root, 0700), 0);
	real = realpath(tmpdir, NULL);
	assert_non_null(real);
	assert_int_equal(
	    users_default_path(root, out, sizeof(out), err, sizeof(err)), 0);
	assert_int_equal(str_fmt(want, sizeof(want), "%s/ftxd.users", real), 0);
	assert_string_equal(out, want);
	/* Trailing slashes and "/." do not move it into the root. */
	assert_int_equal(str_fmt(link, sizeof(link), "%s/./", root), 0);
	assert_int_equal(
	    users_default_path(link, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, want);
	/* A symlinked root: next to where it points, as <root>/.. is. */
	tpath(link, sizeof(link), "link");
	assert_int_equal(symlink(root, link), 0);
	assert_int_equal(
	    users_default_path(link, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, want);
	free(real);

	/* A root that does not exist yet: taken as written. */
	assert_int_equal(users_default_path("/nonexistent-ftx/a/files//", out,
			     sizeof(out), err, sizeof(err)),
	    0);
	assert_string_equal(out, "/nonexistent-ftx/a/ftxd.users");
	assert_int_equal(users_default_path("nonexistent-ftx-files", out,
			     sizeof(out), err, sizeof(err)),
	    0);
	assert_string_equal(out, "./ftxd.users");
	assert_int_equal(users_default_path("/nonexistent-ftx", out,
			     sizeof(out), err, sizeof(err)),
	    0);
	assert_string_equal(out, "/ftxd.users");
	/* No parent to put it in. */
	assert_int_equal(
	    users_default_path("/", out, sizeof(out), err, sizeof(err)), -1);
	assert_int_equal(users_default_path("/nonexistent-ftx/..", out,
			     sizeof(out), err, sizeof(err)),
	    -1);
	/* Too small an output buffer. */
	assert_int_equal(
	    users_default_path(root, out, 8, err, sizeof(err)), -1);
}

/* ---- hashes ------------------------------------------------------------- */

static void
test_kat(void **state)
{
	struct user_rec rec;
	char err[FTX_ERRLEN];

	memset(&rec, 0, sizeof(rec));
	assert_int_equal(str_copy(rec.hash, sizeof(rec.hash), KAT_SCRYPT), 0);
	assert_int_equal(users_verify(&rec, KAT_SCRYPT_PASS,
			     strlen(KAT_SCRYPT_PASS), err, sizeof(err)),
	    1);
	assert_int_equal(
	    users_verify(&rec, "correct horsf", 13, err, sizeof(err)), 0);
	/* A prefix of the password is a different password. */
	assert_int_equal(
	    users_verify(&rec, KAT_SCRYPT_PASS, 12, err, sizeof(err)), 0);
	/* One digit of the stored key changed. */
	rec.hash[strlen(rec.hash) - 1] =
	    rec.hash[strlen(rec.hash) - 1] == '0' ? '1' : '0';
	assert_int_equal(users_verify(&rec, KAT_SCRYPT_PASS,
			     strlen(KAT_SCRYPT_PASS), err, sizeof(err)),
	    0);

	assert_int_equal(str_copy(rec.hash, sizeof(rec.hash), KAT_PBKDF2), 0);
	assert_int_equal(users_verify(&rec, KAT_PBKDF2_PASS,
			     strlen(KAT_PBKDF2_PASS), err, sizeof(err)),
	    1);
	assert_int_equal(users_verify(&rec, KAT_SCRYPT_PASS,
			     strlen(KAT_SCRYPT_PASS), err, sizeof(err)),
	    0);
	/* Out-of-range passwords never match (and do not crash). */
	assert_int_equal(users_verify(&rec, "", 0, err, sizeof(err)), 0);
}

static void
test_hash_check(void **state)
{
	static const char *bad[] = {"", "scrypt", "scrypt$", "plain", "hunter2",
	    "md5$1$00$00",
	    /* log2 N 0 and 31, r 0 and 33, p 0 and 17 */
	    "scrypt$0$8$1$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f",
	    "scrypt$31$8$1$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f",
	    "scrypt$15$0$1$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f",
	    "scrypt$15$33$1$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f",
	    "scrypt$15$8$0$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f",
	    "scrypt$15$8$17$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f",
	    /* salt 15 bytes, salt odd length, key 15 bytes, non-hex */
	    "scrypt$15$8$1$0102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f",
	    "scrypt$15$8$1$000102030405060708090a0b0c0d0e0f0$"
	    "000102030405060708090a0b0c0d0e0f",
	    "scrypt$15$8$1$000102030405060708090a0b0c0d0e0f$"
	    "0102030405060708090a0b0c0d0e0f",
	    "scrypt$15$8$1$000102030405060708090a0b0c0d0e0g$"
	    "000102030405060708090a0b0c0d0e0f",
	    /* fields: missing, extra, empty, signs, leading zeros */
	    "scrypt$15$8$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f",
	    "scrypt$15$8$1$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f$",
	    "scrypt$15$8$1$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f$00",
	    "scrypt$$8$1$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f",
	    "scrypt$+15$8$1$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f",
	    "scrypt$015$8$1$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f",
	    "SCRYPT$15$8$1$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f",
	    /* pbkdf2: 999 iterations, too many, no salt */
	    "pbkdf2-sha256$999$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f",
	    "pbkdf2-sha256$10000001$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f",
	    "pbkdf2-sha256$1000$$000102030405060708090a0b0c0d0e0f",
	    "pbkdf2-sha1$1000$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f"};
	char err[FTX_ERRLEN], big[1024];
	struct user_rec rec;
	size_t i;

	assert_int_equal(users_hash_check(KAT_SCRYPT, err, sizeof(err)), 0);
	assert_int_equal(users_hash_check(KAT_PBKDF2, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (users_hash_check(bad[i], err, sizeof(err)) != -1)
			fail_msg("accepted '%s'", bad[i]);
		/* SECURITY: the message never quotes the field (it might
		 * be a pasted password). */
		if (strlen(bad[i]) > 20 && strstr(err, bad[i]) != NULL)
			fail_msg("error quotes the hash: %s", err);
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(users_hash_check(big, err, sizeof(err)), -1);
	/* users_verify refuses a malformed hash with an error. */
	memset(&rec, 0, sizeof(rec));
	(void)str_copy(rec.hash, sizeof(rec.hash), "hunter2");
	assert_int_equal(
	    users_verify(&rec, "hunter2", 7, err, sizeof(err)), -1);
}

static void
test_scrypt_maxmem(void **state)
{
	struct user_rec rec;
	char err[FTX_ERRLEN];
	double t0;

	/* N = 2^24 with r = 8 wants 16 GiB: refused by FTX_SCRYPT_MAXMEM
	 * before any memory is touched. */
	memset(&rec, 0, sizeof(rec));
	(void)str_copy(rec.hash, sizeof(rec.hash),
	    "scrypt$24$8$1$000102030405060708090a0b0c0d0e0f$"
	    "000102030405060708090a0b0c0d0e0f");
	t0 = now_s();
	err[0] = '\0';
	assert_int_equal(users_verify(&rec, "x", 1, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	assert_true(now_s() - t0 < 2.0);
}

/* The real parameters: a handful of ~100 ms calls. */
static void
test_hash_verify(void **state)
{
	static const char pw[] = "Tr0ub4dor&3 s3cret";
	char h1[USERS_HASH_MAX], h2[USERS_HASH_MAX], err[FTX_ERRLEN];
	char prefix[64];
	struct user_rec rec;
	double t0, t_real, t_dummy;

	assert_int_equal(
	    users_hash(pw, strlen(pw), h1, sizeof(h1), err, sizeof(err)), 0);
	assert_int_equal(
	    users_hash(pw, strlen(pw), h2, sizeof(h2), err, sizeof(err)), 0);
	/* Self-describing with the configured parameters. */
	assert_int_equal(str_fmt(prefix, sizeof(prefix), "scrypt$%d$%d$%d$",
			     FTX_SCRYPT_LOG2_N, FTX_SCRYPT_R, FTX_SCRYPT_P),
	    0);
	assert_memory_equal(h1, prefix, strlen(prefix));
	assert_int_equal(strlen(h1),
	    strlen(prefix) + 2 * FTX_SALT_BYTES + 1 + 2 * FTX_PWHASH_BYTES);
	assert_int_equal(users_hash_check(h1, err, sizeof(err)), 0);
	/* The password is not in it, in any case. */
	assert_null(strstr(h1, pw));
	assert_null(strstr(h1, "s3cret"));
	assert_null(strstr(h1, "S3CRET"));
	/* Same password, different salts and so different hashes. */
	assert_memory_not_equal(
	    h1 + strlen(prefix), h2 + strlen(prefix), 2 * FTX_SALT_BYTES);
	assert_string_not_equal(h1, h2);

	memset(&rec, 0, sizeof(rec));
	(void)str_copy(rec.hash, sizeof(rec.hash), h1);
	t0 = now_s();
	assert_int_equal(
	    users_verify(&rec, pw, strlen(pw), err, sizeof(err)), 1);
	t_real = now_s() - t0;
	assert_int_equal(
	    users_verify(&rec, pw, strlen(pw) - 1, err, sizeof(err)), 0);
	(void)str_copy(rec.hash, sizeof(rec.hash), h2);
	assert_int_equal(
	    users_verify(&rec, pw, strlen(pw), err, sizeof(err)), 1);

	/* An unknown user: 0, after the same work (a loose bound, as the
	 * machine may be busy; no work at all would be ~1000x faster). */
	t0 = now_s();
	assert_int_equal(
	    users_verify(NULL, pw, strlen(pw), err, sizeof(err)), 0);
	t_dummy = now_s() - t0;
	if (t_dummy < t_real / 5)
		fail_msg("unknown user took %.3f s, a real check %.3f s",
		    t_dummy, t_real);

	/* Refused passwords. */
	assert_int_equal(
	    users_hash("", 0, h1, sizeof(h1), err, sizeof(err)), -1);
	assert_int_equal(
	    users_hash(pw, FTX_PASS_MAX + 1, h1, sizeof(h1), err, sizeof(err)),
	    -1);
	assert_int_equal(
	    users_hash(pw, strlen(pw), h1, 20, err, sizeof(err)), -1);
}

/* ---- the file ----------------------------------------------------------- */

static void
test_find(void **state)
{
	char path[512], err[FTX_PATH_MAX + FTX_ERRLEN];
	struct user_rec rec;
	char text[2048];

	tpath(path, sizeof(path), "users");
	assert_int_equal(str_fmt(text, sizeof(text),
			     "# accounts\n"
			     "\n"
			     "   \t\n"
			     "  # indented comment\n"
			     "alice:0:%s\n"
			     "bob:10737418240:%s\n"
			     "c_-9:1:%s",
			     KAT_SCRYPT, KAT_PBKDF2, KAT_SCRYPT),
	    0);
	write_str(path, text);
	memset(&rec, 0, sizeof(rec));
	assert_int_equal(users_find(path, "alice", &rec, err, sizeof(err)), 1);
	assert_string_equal(rec.name, "alice");
	assert_true(rec.quota == 0);
	assert_string_equal(rec.hash, KAT_SCRYPT);
	assert_int_equal(users_find(path, "bob", &rec, err, sizeof(err)), 1);
	assert_true(rec.quota == 10737418240ULL);
	assert_string_equal(rec.hash, KAT_PBKDF2);
	/* The last line has no newline and still counts. */
	assert_int_equal(users_find(path, "c_-9", &rec, err, sizeof(err)), 1);
	assert_true(rec.quota == 1);
	assert_int_equal(users_find(path, "carol", &rec, err, sizeof(err)), 0);
	assert_int_equal(users_find(path, "Alice", &rec, err, sizeof(err)), 0);
	assert_int_equal(users_find(path, "", &rec, err, sizeof(err)), 0);
	assert_int_equal(
	    users_find(path, "alice:0", &rec, err, sizeof(err)), 0);

	/* No file: -1 with ENOENT (accounts off). */
	tpath(path, sizeof(path), "missing");
	errno = 0;
	assert_int_equal(users_find(path, "alice", &rec, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
}

/* `text` as a users file must be refused with an error that contains
 * `want` (and the file name). */
static void
expect_bad(const char *text, size_t len, const char *want)
{
	char path[512], err[FTX_PATH_MAX + FTX_ERRLEN], full[600];
	struct user_rec rec;

	tpath(path, sizeof(path), "bad");
	write_file(path, text, len, 0600);
	err[0] = '\0';
	if (users_find(path, "alice", &rec, err, sizeof(err)) != -1)
		fail_msg("accepted a file with: %s", want);
	assert_int_equal(str_fmt(full, sizeof(full), "%s%s", path, want), 0);
	if (strstr(err, full) == NULL)
		fail_msg("error '%s' lacks '%s'", err, full);
	/* users_list and the edits refuse it too, and leave it alone. */
	assert_int_equal(users_list(path, NULL, NULL, err, sizeof(err)), -1);
	assert_int_equal(
	    users_set_quota(path, "alice", 5, err, sizeof(err)), -1);
	assert_int_equal(
	    users_add(path, "zed", 0, KAT_SCRYPT, err, sizeof(err)), -1);
	if (len < 60000 && memchr(text, '\0', len) == NULL) {
		assert_int_equal(strlen(slurp(path)), len);
		assert_memory_equal(slurp(path), text, len);
	}
}

static void
test_malformed(void **state)
{
	static char big[FTX_USERS_LINE_MAX + 16];
	char text[2048];
	char *many;
	size_t i, n;

	expect_bad("alice:0\n", 8, ":1: expected name:quota:hash");
	expect_bad("#ok\nalice\n", 10, ":2: expected name:quota:hash");
	assert_int_equal(
	    str_fmt(text, sizeof(text), "\n\nAlice:0:%s\n", KAT_SCRYPT), 0);
	expect_bad(text, strlen(text), ":3: a user name has only");
	assert_int_equal(
	    str_fmt(text, sizeof(text), "../x:0:%s\n", KAT_SCRYPT), 0);
	expect_bad(text, strlen(text), ":1: a user name has only");
	assert_int_equal(
	    str_fmt(text, sizeof(text), " alice:0:%s\n", KAT_SCRYPT), 0);
	expect_bad(text, strlen(text), ":1: ");
	assert_int_equal(str_fmt(text, sizeof(text), ":0:%s\n", KAT_SCRYPT), 0);
	expect_bad(text, strlen(text), ":1: empty user name");
	assert_int_equal(
	    str_fmt(text, sizeof(text), "anonymous:0:%s\n", KAT_SCRYPT), 0);
	expect_bad(text, strlen(text), ":1: the name 'anonymous' is reserved");
	assert_int_equal(
	    str_fmt(text, sizeof(text), "alice:-1:%s\n", KAT_SCRYPT), 0);
	expect_bad(text, strlen(text), ":1: bad quota");
	assert_int_equal(
	    str_fmt(text, sizeof(text), "alice:10G:%s\n", KAT_SCRYPT), 0);
	expect_bad(text, strlen(text), ":1: bad quota");
	assert_int_equal(
	    str_fmt(text, sizeof(text), "alice::%s\n", KAT_SCRYPT), 0);
	expect_bad(text, strlen(text), ":1: bad quota");
	/* Above FTX_SIZE_ARG_MAX. */
	assert_int_equal(
	    str_fmt(text, sizeof(text), "alice:%llu:%s\n",
		(unsigned long long)FTX_SIZE_ARG_MAX + 1, KAT_SCRYPT),
	    0);
	expect_bad(text, strlen(text), ":1: bad quota");
	assert_int_equal(
	    str_fmt(text, sizeof(text), "alice:0:%s:x\n", KAT_SCRYPT), 0);
	expect_bad(text, strlen(text), ":1: bad scrypt hash");
	/* A pasted password instead of a hash: refused, never quoted. */
	expect_bad("alice:0:hunter2\n", 16, ":1: unknown password hash type");
	expect_bad("alice:0:\n", 9, ":1: unknown password hash type");
	/* Windows line ends. */
	assert_int_equal(
	    str_fmt(text, sizeof(text), "alice:0:%s\r\n", KAT_SCRYPT), 0);
	expect_bad(text, strlen(text), ":1: bad scrypt hash");
	/* Duplicates, also far apart. */
	assert_int_equal(str_fmt(text, sizeof(text),
			     "alice:0:%s\nbob:0:%s\n#x\nalice:1:%s\n",
			     KAT_SCRYPT, KAT_SCRYPT, KAT_PBKDF2),
	    0);
	expect_bad(
	    text, strlen(text), ":4: duplicate user 'alice' (also on line 1)");
	/* A NUL byte. */
	expect_bad("#a\n#b\0c\n", 8, ":2: NUL byte");

	/* Line length: FTX_USERS_LINE_MAX bytes with the newline is fine,
	 * one more is not. */
	memset(big, '#', sizeof(big));
	big[FTX_USERS_LINE_MAX - 1] = '\n';
	{
		char path[512], err[FTX_PATH_MAX + FTX_ERRLEN];
		struct user_rec rec;

		tpath(path, sizeof(path), "longok");
		write_file(path, big, FTX_USERS_LINE_MAX, 0600);
		assert_int_equal(
		    users_find(path, "alice", &rec, err, sizeof(err)), 0);
	}
	big[FTX_USERS_LINE_MAX - 1] = '#';
	big[FTX_USERS_LINE_MAX] = '\n';
	assert_int_equal(
	    str_fmt(text, sizeof(text), ":1: line longer than %d bytes",
		FTX_USERS_LINE_MAX - 1),
	    0);
	expect_bad(big, FTX_USERS_LINE_MAX + 1, text);
	/* The same without any newline at all. */
	expect_bad(big, FTX_USERS_LINE_MAX, text);

	/* FTX_USERS_MAX lines are fine, one more is not. */
	n = (size_t)FTX_USERS_MAX + 1;
	many = malloc(2 * n);
	assert_non_null(many);
	for (i = 0; i < n; i++) {
		many[2 * i] = '#';
		many[2 * i + 1] = '\n';
	}
	{
		char path[512], err[FTX_PATH_MAX + FTX_ERRLEN];
		struct user_rec rec;

		tpath(path, sizeof(path), "manyok");
		write_file(path, many, 2 * (n - 1), 0600);
		assert_int_equal(
		    users_find(path, "alice", &rec, err, sizeof(err)), 0);
		assert_int_equal(
		    users_list(path, NULL, NULL, err, sizeof(err)), 0);
		/* Full: no room for another account. */
		assert_int_equal(
		    users_add(path, "alice", 0, KAT_SCRYPT, err, sizeof(err)),
		    -1);
		assert_non_null(strstr(err, "full"));
	}
	assert_int_equal(
	    str_fmt(text, sizeof(text), ": more than %d lines", FTX_USERS_MAX),
	    0);
	expect_bad(many, 2 * n, text);
	free(many);
}

/* users_find on `path` fails (not ENOENT) with `want` in the message. */
static void
expect_refused(const char *path, const char *want)
{
	char err[FTX_PATH_MAX + FTX_ERRLEN];
	struct user_rec rec;

	err[0] = '\0';
	errno = 0;
	if (users_find(path, "alice", &rec, err, sizeof(err)) != -1)
		fail_msg("accepted %s (%s)", path, want);
	assert_int_not_equal(errno, ENOENT);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' lacks '%s'", err, want);
	/* Edits refuse it too. */
	assert_int_equal(
	    users_add(path, "zed", 0, KAT_SCRYPT, err, sizeof(err)), -1);
}

static void
test_permissions(void **state)
{
	char path[512], link[512], text[512], err[FTX_PATH_MAX + FTX_ERRLEN];
	struct user_rec rec;
	struct stat st;
	pid_t pid;
	int status;

	assert_int_equal(
	    str_fmt(text, sizeof(text), "alice:0:%s\n", KAT_SCRYPT), 0);
	tpath(path, sizeof(path), "perm");
	write_file(path, text, strlen(text), 0600);
	assert_int_equal(users_find(path, "alice", &rec, err, sizeof(err)), 1);
	/* Group-read is fine (root:ftx 0640 deployments). */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(users_find(path, "alice", &rec, err, sizeof(err)), 1);
	assert_int_equal(chmod(path, 0620), 0);
	expect_refused(path, "writable by group or others");
	assert_int_equal(chmod(path, 0602), 0);
	expect_refused(path, "writable by group or others");
	assert_int_equal(chmod(path, 0666), 0);
	expect_refused(path, "writable by group or others");
	/* The refused file was not rewritten or re-moded. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0666);

	/* A symlink to a good file. */
	assert_int_equal(chmod(path, 0600), 0);
	tpath(link, sizeof(link), "symlink");
	assert_int_equal(symlink(path, link), 0);
	expect_refused(link, "symbolic link");
	/* A directory, a FIFO (must not block), a device. */
	tpath(link, sizeof(link), "dir");
	assert_int_equal(mkdir(link, 0700), 0);
	expect_refused(link, "not a regular file");
	tpath(link, sizeof(link), "fifo");
	assert_int_equal(mkfifo(link, 0600), 0);
	expect_refused(link, "not a regular file");
	/* (Only looked up: an edit would create /dev/null.lock.) */
	assert_int_equal(
	    users_find("/dev/null", "alice", &rec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));

	/* Owned by someone else (needs root to arrange). */
	if (geteuid() == 0) {
		tpath(link, sizeof(link), "other");
		write_file(link, text, strlen(text), 0600);
		assert_int_equal(chown(link, 65534, 65534), 0);
		expect_refused(link, "owned by uid 65534");
		/* ... but that user may use their own file. */
		assert_int_equal(chmod(tmpdir, 0711), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (setgid(65534) == -1 || setuid(65534) == -1)
				_exit(3);
			_exit(users_find(
				  link, "alice", &rec, err, sizeof(err)) == 1
				? 0
				: 1);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_int_equal(chmod(tmpdir, 0700), 0);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

/* ---- edits -------------------------------------------------------------- */

struct listed {
	char names[8][FTX_USER_MAX + 1];
	uint64_t quota[8];
	int n;
};

static int
collect(void *arg, const struct user_rec *rec)
{
	struct listed *l = arg;

	if (l->n == 8)
		return -1;
	(void)str_copy(l->names[l->n], sizeof(l->names[0]), rec->name);
	l->quota[l->n++] = rec->quota;
	return 0;
}

static void
test_edits(void **state)
{
	char path[512], err[FTX_PATH_MAX + FTX_ERRLEN], lock[600];
	char want[2048];
	struct user_rec rec;
	struct listed l;
	struct stat st;
	mode_t old;

	tpath(path, sizeof(path), "edit");
	/* Created 0600 whatever the umask. */
	old = umask(0);
	assert_int_equal(
	    users_add(path, "alice", 0, KAT_SCRYPT, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	(void)str_fmt(lock, sizeof(lock), "%s.lock", path);
	assert_int_equal(lstat(lock, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 077, 0);
	assert_int_equal(
	    users_add(path, "bob", 1ULL << 30, KAT_PBKDF2, err, sizeof(err)),
	    0);
	(void)str_fmt(want, sizeof(want), "alice:0:%s\nbob:1073741824:%s\n",
	    KAT_SCRYPT, KAT_PBKDF2);
	assert_string_equal(slurp(path), want);

	/* Refusals leave the file as it was. */
	assert_int_equal(
	    users_add(path, "alice", 5, KAT_PBKDF2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "already exists"));
	assert_int_equal(
	    users_add(path, "anonymous", 0, KAT_SCRYPT, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "reserved"));
	assert_int_equal(
	    users_add(path, "Carol", 0, KAT_SCRYPT, err, sizeof(err)), -1);
	assert_int_equal(
	    users_add(path, "../x", 0, KAT_SCRYPT, err, sizeof(err)), -1);
	assert_int_equal(
	    users_add(path, "carol", 0, "hunter2", err, sizeof(err)), -1);
	assert_int_equal(
	    users_add(path, "carol", 0, NULL, err, sizeof(err)), -1);
	assert_int_equal(users_add(path, "carol", FTX_SIZE_ARG_MAX + 1,
			     KAT_SCRYPT, err, sizeof(err)),
	    -1);
	assert_int_equal(users_del(path, "carol", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no user 'carol'"));
	assert_int_equal(
	    users_set_quota(path, "carol", 1, err, sizeof(err)), -1);
	assert_int_equal(
	    users_set_hash(path, "carol", KAT_SCRYPT, err, sizeof(err)), -1);
	assert_int_equal(
	    users_set_hash(path, "alice", "scrypt$1", err, sizeof(err)), -1);
	assert_string_equal(slurp(path), want);

	/* Comments and blank lines survive edits, in place. */
	(void)str_fmt(want, sizeof(want),
	    "# the accounts\nalice:0:%s\n\n# bob below\nbob:1073741824:%s",
	    KAT_SCRYPT, KAT_PBKDF2);
	write_str(path, want);
	assert_int_equal(
	    users_set_quota(path, "alice", 4096, err, sizeof(err)), 0);
	assert_int_equal(
	    users_set_hash(path, "bob", KAT_SCRYPT, err, sizeof(err)), 0);
	assert_int_equal(
	    users_add(path, "carol", 7, KAT_PBKDF2, err, sizeof(err)), 0);
	(void)str_fmt(want, sizeof(want),
	    "# the accounts\nalice:4096:%s\n\n# bob below\n"
	    "bob:1073741824:%s\ncarol:7:%s\n",
	    KAT_SCRYPT, KAT_SCRYPT, KAT_PBKDF2);
	assert_string_equal(slurp(path), want);
	assert_int_equal(users_find(path, "bob", &rec, err, sizeof(err)), 1);
	assert_string_equal(rec.hash, KAT_SCRYPT);
	assert_true(rec.quota == 1ULL << 30);

	memset(&l, 0, sizeof(l));
	assert_int_equal(users_list(path, collect, &l, err, sizeof(err)), 3);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.names[0], "alice");
	assert_string_equal(l.names[1], "bob");
	assert_string_equal(l.names[2], "carol");
	assert_true(l.quota[0] == 4096 && l.quota[2] == 7);

	assert_int_equal(users_del(path, "bob", err, sizeof(err)), 0);
	assert_int_equal(users_find(path, "bob", &rec, err, sizeof(err)), 0);
	(void)str_fmt(want, sizeof(want),
	    "# the accounts\nalice:4096:%s\n\n# bob below\ncarol:7:%s\n",
	    KAT_SCRYPT, KAT_PBKDF2);
	assert_string_equal(slurp(path), want);
	assert_int_equal(
	    users_set_quota(path, "carol", 0, err, sizeof(err)), 0);
	assert_int_equal(users_find(path, "carol", &rec, err, sizeof(err)), 1);
	assert_true(rec.quota == 0);
	assert_int_equal(users_del(path, "alice", err, sizeof(err)), 0);
	assert_int_equal(users_del(path, "carol", err, sizeof(err)), 0);
	assert_string_equal(slurp(path), "# the accounts\n\n# bob below\n");
	memset(&l, 0, sizeof(l));
	assert_int_equal(users_list(path, collect, &l, err, sizeof(err)), 0);

	/* The mode was 0600 throughout; no temporaries are left. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(".tmp-"), 0);

	/* No file: del/quota/passwd fail, list fails, add creates. */
	tpath(path, sizeof(path), "none");
	assert_int_equal(users_del(path, "alice", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not exist"));
	assert_int_equal(users_list(path, collect, &l, err, sizeof(err)), -1);
	/* A directory that does not exist. */
	(void)str_fmt(path, sizeof(path), "%s/no/such/dir/users", tmpdir);
	assert_int_equal(
	    users_add(path, "alice", 0, KAT_SCRYPT, err, sizeof(err)), -1);
}

static void
test_owner_kept(void **state)
{
	char path[512], err[FTX_PATH_MAX + FTX_ERRLEN], text[512];
	struct stat st;

	if (geteuid() != 0) {
		print_message("skipped: needs root to chown\n");
		return;
	}
	/* root:nogroup 0640, the deployment for an unprivileged server:
	 * root's edits keep the group and its read bit. */
	tpath(path, sizeof(path), "owner");
	assert_int_equal(
	    str_fmt(text, sizeof(text), "alice:0:%s\n", KAT_SCRYPT), 0);
	write_file(path, text, strlen(text), 0640);
	assert_int_equal(chown(path, 0, 65534), 0);
	assert_int_equal(
	    users_add(path, "bob", 0, KAT_SCRYPT, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(st.st_mode & 07777, 0640);
}

/* Concurrent edits from several processes: the lock must serialise the
 * read-modify-write, so no account is lost. */
#define RACE_PROCS 6
#define RACE_ADDS 10

static void
test_concurrent_edits(void **state)
{
	char path[512], err[FTX_PATH_MAX + FTX_ERRLEN], name[32];
	struct user_rec rec;
	pid_t pids[RACE_PROCS];
	int i, k, status;

	tpath(path, sizeof(path), "race");
	for (i = 0; i < RACE_PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			for (k = 0; k < RACE_ADDS; k++) {
				(void)str_fmt(
				    name, sizeof(name), "u%d-%d", i, k);
				if (users_add(path, name, 0, KAT_SCRYPT, err,
					sizeof(err)) == -1)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (i = 0; i < RACE_PROCS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(users_list(path, NULL, NULL, err, sizeof(err)),
	    RACE_PROCS * RACE_ADDS);
	for (i = 0; i < RACE_PROCS; i++)
		for (k = 0; k < RACE_ADDS; k++) {
			(void)str_fmt(name, sizeof(name), "u%d-%d", i, k);
			if (users_find(path, name, &rec, err, sizeof(err)) != 1)
				fail_msg("lost %s: %s", name, err);
		}
	assert_int_equal(count_entries(".tmp-"), 0);
}

/* Readers on threads while the file is rewritten: every lookup sees a
 * whole file (the old one or the new one). */
struct reader_arg {
	const char *path;
	int failures;
};

static void *
reader(void *p)
{
	struct reader_arg *a = p;
	char err[FTX_PATH_MAX + FTX_ERRLEN];
	struct user_rec rec;
	int i;

	for (i = 0; i < 300; i++)
		if (users_find(a->path, "stable", &rec, err, sizeof(err)) !=
			1 ||
		    strcmp(rec.hash, KAT_PBKDF2) != 0)
			a->failures++;
	return NULL;
}

static void
test_readers_during_edits(void **state)
{
	char path[512], err[FTX_PATH_MAX + FTX_ERRLEN], name[32];
	struct reader_arg a[3];
	pthread_t t[3];
	int i;

	tpath(path, sizeof(path), "readers");
	assert_int_equal(
	    users_add(path, "stable", 0, KAT_PBKDF2, err, sizeof(err)), 0);
	for (i = 0; i < 3; i++) {
		a[i].path = path;
		a[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, reader, &a[i]), 0);
	}
	for (i = 0; i < 100; i++) {
		(void)str_fmt(name, sizeof(name), "n%d", i);
		assert_int_equal(
		    users_add(path, name, 0, KAT_SCRYPT, err, sizeof(err)), 0);
		if (i % 2 == 0)
			assert_int_equal(
			    users_del(path, name, err, sizeof(err)), 0);
	}
	for (i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(a[i].failures, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_check),
	    cmocka_unit_test(test_name_hostile_utf8),
	    cmocka_unit_test(test_default_path),
	    cmocka_unit_test(test_kat),
	    cmocka_unit_test(test_hash_check),
	    cmocka_unit_test(test_scrypt_maxmem),
	    cmocka_unit_test(test_hash_verify),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_permissions),
	    cmocka_unit_test(test_edits),
	    cmocka_unit_test(test_owner_kept),
	    cmocka_unit_test(test_concurrent_edits),
	    cmocka_unit_test(test_readers_during_edits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_s3.c - the parts of ftxd/s3.c that need no store: the s3:// URL
 * of --store (good forms, and names S3 would refuse or that would reach
 * outside the bucket) and the credentials (an AWS-style file of mode
 * 0600 only, or the environment).  The requests themselves are tested
 * against a store: t_s3hostile (a fake that misbehaves) and t_cluster.
 */
#include <errno.h>
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

#include "ftx_limits.h"
#include "s3.h"
#include "str.h"

/* ---- s3_url_parse ---- */

static int
parse(const char *url, char *bucket, char *prefix, char *err)
{
	return s3_url_parse(
	    url, bucket, 64, prefix, FTX_RPATH_MAX, err, FTX_ERRLEN);
}

static void
test_url_good(void **state)
{
	static const struct {
		const char *url, *bucket, *prefix;
	} ok[] = {
	    {"s3://bucket", "bucket", ""},
	    {"s3://bucket/", "bucket", ""},
	    {"s3://bucket///", "bucket", ""},
	    {"s3://my-bucket.v2/ftx", "my-bucket.v2", "ftx"},
	    {"s3://b0b/ftx/", "b0b", "ftx"},
	    {"s3://abc/a/b/c//", "abc", "a/b/c"},
	    {"s3://abc//lead", "abc", "lead"},
	    {"s3://012/x", "012", "x"},
	};
	char bucket[64], prefix[FTX_RPATH_MAX], err[FTX_ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(bucket, 'X', sizeof(bucket));
		memset(prefix, 'X', sizeof(prefix));
		err[0] = '\0';
		if (parse(ok[i].url, bucket, prefix, err) != 0)
			fail_msg("%s refused: %s", ok[i].url, err);
		assert_string_equal(bucket, ok[i].bucket);
		assert_string_equal(prefix, ok[i].prefix);
	}
}

static void
test_url_bucket_lengths(void **state)
{
	char url[128], name[80], bucket[64], prefix[FTX_RPATH_MAX];
	char err[FTX_ERRLEN];
	size_t n;

	(void)state;
	/* S3 allows 3 to 63 characters: check both edges and one past. */
	for (n = 1; n <= 66; n++) {
		memset(name, 'a', n);
		name[n] = '\0';
		assert_int_equal(
		    str_fmt(url, sizeof(url), "s3://%s/p", name), 0);
		err[0] = '\0';
		if (n >= 3 && n <= 63) {
			assert_int_equal(parse(url, bucket, prefix, err), 0);
			assert_string_equal(bucket, name);
			assert_string_equal(prefix, "p");
		} else {
			assert_int_equal(parse(url, bucket, prefix, err), -1);
			assert_non_null(strstr(err, "bucket"));
		}
	}
	/* A bucket buffer too small for a valid name is an error, never a
	 * cut name. */
	assert_int_equal(s3_url_parse("s3://abcdefgh", bucket, 8, prefix,
			     sizeof(prefix), err, sizeof(err)),
	    -1);
	assert_int_equal(s3_url_parse("s3://abcdefg", bucket, 8, prefix,
			     sizeof(prefix), err, sizeof(err)),
	    0);
	assert_string_equal(bucket, "abcdefg");
}

static void
test_url_hostile(void **state)
{
	static const char *const bad[] = {
	    "",
	    "bucket",
	    "bucket/prefix",
	    "s3:/bucket",
	    "s3:bucket",
	    "S3://bucket",
	    "http://127.0.0.1/bucket",
	    "file:///etc/passwd",
	    " s3://bucket",
	    "s3://",
	    "s3:///",
	    "s3:///prefix",
	    "s3://ab",
	    "s3://ab/long-prefix",
	    "s3://Bucket",
	    "s3://BUCKET/x",
	    "s3://bu_cket",
	    "s3://buc ket",
	    "s3://bucket?x=1",
	    "s3://bucket#frag",
	    "s3://bucket%2fother",
	    "s3://bucket\\other",
	    "s3://user:pw@bucket",
	    "s3://host:9000",
	    "s3://b\xc3\xa4ucket",
	    "s3://bucket\n",
	    "s3://bucket/..",
	    "s3://bucket/../other",
	    "s3://bucket/a/../../other/x",
	    "s3://bucket/./x",
	    "s3://bucket/a/.",
	    "s3://bucket/a//b",
	};
	char bucket[64], prefix[FTX_RPATH_MAX], err[FTX_ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(bad[i], bucket, prefix, err) != -1)
			fail_msg("accepted \"%s\" (bucket %s, prefix %s)",
			    bad[i], bucket, prefix);
		assert_true(err[0] != '\0');
	}
}

static void
test_url_long_prefix(void **state)
{
	char url[FTX_RPATH_MAX + 64], bucket[64], prefix[32];
	char err[FTX_ERRLEN];

	(void)state;
	/* Fits exactly: 31 characters and the NUL. */
	memset(url, 0, sizeof(url));
	memcpy(url, "s3://bucket/", 12);
	memset(url + 12, 'p', 31);
	assert_int_equal(s3_url_parse(url, bucket, sizeof(bucket), prefix,
			     sizeof(prefix), err, sizeof(err)),
	    0);
	assert_int_equal(strlen(prefix), 31);
	/* One more: refused, not cut. */
	url[12 + 31] = 'p';
	err[0] = '\0';
	assert_int_equal(s3_url_parse(url, bucket, sizeof(bucket), prefix,
			     sizeof(prefix), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "prefix too long"));
	/* Trailing slashes do not count against it... */
	memset(url + 12, 'p', 31);
	memcpy(url + 12 + 31, "/", 2);
	assert_int_equal(s3_url_parse(url, bucket, sizeof(bucket), prefix,
			     sizeof(prefix), err, sizeof(err)),
	    -1);
	/* ...but a very long one is refused whole, never overruns. */
	memset(url + 12, 'q', FTX_RPATH_MAX + 40);
	url[12 + FTX_RPATH_MAX + 40] = '\0';
	assert_int_equal(s3_url_parse(url, bucket, sizeof(bucket), prefix,
			     sizeof(prefix), err, sizeof(err)),
	    -1);
}

/* ---- s3_credentials ---- */

struct fx {
	char dir[64];
	char path[128];
	char *env_a, *env_s; /* saved environment */
};

static char *
dup_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL ? strdup(v) : NULL;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	str_copy(f->dir, sizeof(f->dir), "/tmp/ftx-s3-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(
	    str_fmt(f->path, sizeof(f->path), "%s/credentials", f->dir), 0);
	f->env_a = dup_env("AWS_ACCESS_KEY_ID");
	f->env_s = dup_env("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char sub[160];

	unlink(f->path);
	(void)str_fmt(sub, sizeof(sub), "%s/sub", f->dir);
	rmdir(sub);
	rmdir(f->dir);
	if (f->env_a != NULL)
		setenv("AWS_ACCESS_KEY_ID", f->env_a, 1);
	else
		unsetenv("AWS_ACCESS_KEY_ID");
	if (f->env_s != NULL)
		setenv("AWS_SECRET_ACCESS_KEY", f->env_s, 1);
	else
		unsetenv("AWS_SECRET_ACCESS_KEY");
	free(f->env_a);
	free(f->env_s);
	free(f);
	return 0;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp;

	unlink(path);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int
creds(const char *path, struct s3_conf *c, char *err)
{
	memset(c, 'Z', sizeof(*c));
	err[0] = '\0';
	return s3_credentials(path, c, err, FTX_ERRLEN);
}

static void
test_cred_file_forms(void **state)
{
	struct fx *f = *state;
	static const char *const forms[] = {
	    "aws_access_key_id = AKIDEXAMPLE\n"
	    "aws_secret_access_key = "
	    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n",
	    /* [default], CRLF, tabs, spaces around '=' and at the ends. */
	    "[default]\r\n"
	    "  aws_access_key_id \t=\t AKIDEXAMPLE  \r\n"
	    "\taws_secret_access_key=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	    " \t\r\n",
	    /* Other keys, comments and blank lines are ignored. */
	    "# a comment\n\n[default]\nregion = eu-west-1\n"
	    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n"
	    "aws_session_token=\n"
	    "aws_access_key_id=AKIDEXAMPLE",
	};
	char err[FTX_ERRLEN];
	struct s3_conf c;
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		write_file(f->path, forms[i], 0600);
		if (creds(f->path, &c, err) != 0)
			fail_msg("form %zu refused: %s", i, err);
		assert_string_equal(c.access, "AKIDEXAMPLE");
		assert_string_equal(
		    c.secret, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
	}
	/* Owner-only modes other than 0600 are fine too. */
	assert_int_equal(chmod(f->path, 0400), 0);
	assert_int_equal(creds(f->path, &c, err), 0);
	/* A file, when given, wins over the environment. */
	setenv("AWS_ACCESS_KEY_ID", "ENVAK", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ENVSK", 1);
	assert_int_equal(creds(f->path, &c, err), 0);
	assert_string_equal(c.access, "AKIDEXAMPLE");
}

static void
test_cred_file_modes(void **state)
{
	struct fx *f = *state;
	static const mode_t bad[] = {0644, 0640, 0604, 0660, 0606, 0777, 0601};
	char err[FTX_ERRLEN], sub[160];
	struct s3_conf c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(f->path,
		    "aws_access_key_id = AK\naws_secret_access_key = SK\n",
		    bad[i]);
		assert_int_equal(creds(f->path, &c, err), -1);
		assert_non_null(strstr(err, "0600"));
		/* Nothing of a refused file is kept. */
		assert_string_equal(c.access, "");
		assert_string_equal(c.secret, "");
	}
	/* A directory (even of mode 0700) is not a credentials file. */
	assert_int_equal(str_fmt(sub, sizeof(sub), "%s/sub", f->dir), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(creds(sub, &c, err), -1);
	assert_true(err[0] != '\0');
	/* A file that is not there names itself. */
	assert_int_equal(creds("/nonexistent/ftx-s3-credentials", &c, err), -1);
	assert_non_null(strstr(err, "/nonexistent/ftx-s3-credentials"));
}

static void
test_cred_file_missing_keys(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
	    "",
	    "[default]\n",
	    "aws_access_key_id = AK\n",
	    "aws_secret_access_key = SK\n",
	    "aws_access_key_id =\naws_secret_access_key = SK\n",
	    "aws_access_key_id = AK\naws_secret_access_key =   \r\n",
	    /* Names must match whole. */
	    "aws_access_key_idx = AK\naws_secret_access_key = SK\n",
	    "AWS_ACCESS_KEY_ID = AK\naws_secret_access_key = SK\n",
	    "aws_access_key_id AK\naws_secret_access_key SK\n",
	};
	char err[FTX_ERRLEN];
	struct s3_conf c;
	size_t i;

	/* The environment is not a fallback for a file given. */
	setenv("AWS_ACCESS_KEY_ID", "ENVAK", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ENVSK", 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(f->path, bad[i], 0600);
		if (creds(f->path, &c, err) != -1)
			fail_msg("form %zu accepted (%s)", i, c.access);
		assert_non_null(strstr(err, "aws_access_key_id"));
	}
}

static void
test_cred_file_long_values(void **state)
{
	struct fx *f = *state;
	char text[2048], val[FTX_S3_KEY_MAX + 2], err[FTX_ERRLEN];
	struct s3_conf c;

	/* The longest value that fits (FTX_S3_KEY_MAX - 1) is kept whole. */
	memset(val, 'k', FTX_S3_KEY_MAX - 1);
	val[FTX_S3_KEY_MAX - 1] = '\0';
	assert_int_equal(str_fmt(text, sizeof(text),
			     "aws_access_key_id = AK\n"
			     "aws_secret_access_key = %s\n",
			     val),
	    0);
	write_file(f->path, text, 0600);
	assert_int_equal(creds(f->path, &c, err), 0);
	assert_string_equal(c.secret, val);
	/* One more: refused, never cut to a wrong secret. */
	memset(val, 'k', FTX_S3_KEY_MAX);
	val[FTX_S3_KEY_MAX] = '\0';
	assert_int_equal(str_fmt(text, sizeof(text),
			     "aws_access_key_id = AK\n"
			     "aws_secret_access_key = %s\n",
			     val),
	    0);
	write_file(f->path, text, 0600);
	assert_int_equal(creds(f->path, &c, err), -1);
	assert_string_equal(c.secret, "");
	/* A line longer than the reader's buffer (600 characters) is
	 * refused, and its remainder is not taken for a line. */
	memset(text, 0, sizeof(text));
	memcpy(text, "aws_access_key_id = ", 20);
	memset(text + 20, 'A', 600);
	memcpy(text + 620, "\naws_secret_access_key = SK\n", 29);
	write_file(f->path, text, 0600);
	assert_int_equal(creds(f->path, &c, err), -1);
	/* A file of many lines (a large shared-credentials file with
	 * other profiles' keys first) is read to the end. */
	{
		FILE *fp;
		int i;

		unlink(f->path);
		fp = fopen(f->path, "w");
		assert_non_null(fp);
		for (i = 0; i < 2000; i++)
			fprintf(fp, "# profile line %d\nregion = r%d\n", i, i);
		fprintf(fp,
		    "aws_access_key_id = AK2\n"
		    "aws_secret_access_key = SK2\n");
		assert_int_equal(fclose(fp), 0);
		assert_int_equal(chmod(f->path, 0600), 0);
		assert_int_equal(creds(f->path, &c, err), 0);
		assert_string_equal(c.access, "AK2");
		assert_string_equal(c.secret, "SK2");
	}
}

static void
test_cred_env(void **state)
{
	char err[FTX_ERRLEN], val[FTX_S3_KEY_MAX + 2];
	struct s3_conf c;

	(void)state;
	/* Neither set: refused, and the message says what to do. */
	assert_int_equal(creds(NULL, &c, err), -1);
	assert_non_null(strstr(err, "AWS_ACCESS_KEY_ID"));
	assert_non_null(strstr(err, "--s3-credentials"));
	setenv("AWS_ACCESS_KEY_ID", "ENVAK", 1);
	assert_int_equal(creds(NULL, &c, err), -1);
	setenv("AWS_SECRET_ACCESS_KEY", "", 1);
	assert_int_equal(creds(NULL, &c, err), -1);
	setenv("AWS_SECRET_ACCESS_KEY", "ENV/SK+x=", 1);
	assert_int_equal(creds(NULL, &c, err), 0);
	assert_string_equal(c.access, "ENVAK");
	assert_string_equal(c.secret, "ENV/SK+x=");
	setenv("AWS_ACCESS_KEY_ID", "", 1);
	assert_int_equal(creds(NULL, &c, err), -1);
	/* Over-long values are refused, not cut. */
	memset(val, 'e', FTX_S3_KEY_MAX - 1);
	val[FTX_S3_KEY_MAX - 1] = '\0';
	setenv("AWS_ACCESS_KEY_ID", val, 1);
	assert_int_equal(creds(NULL, &c, err), 0);
	assert_string_equal(c.access, val);
	memset(val, 'e', FTX_S3_KEY_MAX);
	val[FTX_S3_KEY_MAX] = '\0';
	setenv("AWS_ACCESS_KEY_ID", val, 1);
	assert_int_equal(creds(NULL, &c, err), -1);
	assert_non_null(strstr(err, "too long"));
	setenv("AWS_ACCESS_KEY_ID", "ENVAK", 1);
	setenv("AWS_SECRET_ACCESS_KEY", val, 1);
	assert_int_equal(creds(NULL, &c, err), -1);
	/* Secrets never appear in the message. */
	assert_null(strstr(err, "eeee"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_good),
	    cmocka_unit_test(test_url_bucket_lengths),
	    cmocka_unit_test(test_url_hostile),
	    cmocka_unit_test(test_url_long_prefix),
	    cmocka_unit_test_setup_teardown(
		test_cred_file_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_cred_file_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_cred_file_missing_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_cred_file_long_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cred_env, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

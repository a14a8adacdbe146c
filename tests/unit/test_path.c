/*
 * test_path.c - unit tests for shared/path.c: the path check with
 * hostile paths, its limits, and the helpers (iteration, parent and
 * base, join, key).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ftx_limits.h"
#include "path.h"
#include "proto.h"
#include "str.h"

/* Assert that path_check refuses p with a reason containing `why`. */
static void
refused(const char *p, const char *why)
{
	char err[FTX_ERRLEN];

	err[0] = '\0';
	if (path_check(p, err, sizeof(err)) != -1)
		fail_msg("path \"%s\" accepted", p);
	if (strstr(err, why) == NULL)
		fail_msg(
		    "path \"%s\": reason \"%s\" lacks \"%s\"", p, err, why);
}

static void
accepted(const char *p)
{
	char err[FTX_ERRLEN];

	err[0] = '\0';
	if (path_check(p, err, sizeof(err)) != 0)
		fail_msg("path \"%s\" refused: %s", p, err);
}

/* n components of `len` bytes of 'a'..'z' (by position) joined by '/'
 * into a new string. */
static char *
mkpath(size_t n, size_t len)
{
	char *p = malloc(n * (len + 1) + 1);
	size_t i, o = 0;

	assert_non_null(p);
	for (i = 0; i < n; i++) {
		if (i > 0)
			p[o++] = '/';
		memset(p + o, 'a' + (int)(i % 26), len);
		o += len;
	}
	p[o] = '\0';
	return p;
}

static void
test_accepts(void **state)
{
	(void)state;
	accepted("a");
	accepted("a/b");
	accepted("a/b/c");
	accepted("photos/2024/beach.jpg");
	accepted("my file/with spaces");
	accepted("a..b/c.");
	accepted("dir/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac");
	/* The literal bytes "%2e%2e": a legal name, not a dot-dot. */
	accepted("%2e%2e");
	accepted("%2e%2e/x");
	accepted("a/%2E%2E/b");
	accepted("a/%2f/b");
	assert_int_equal(path_depth(""), 0);
	assert_int_equal(path_depth("a"), 1);
	assert_int_equal(path_depth("a/b/c"), 3);
}

static void
test_dot_components(void **state)
{
	(void)state;
	refused("..", "'.' or '..'");
	refused(".", "'.' or '..'");
	refused("../a", "component 1 of 2 is '.' or '..'");
	refused("a/..", "component 2 of 2 is '.' or '..'");
	refused("a/../b", "component 2 of 3 is '.' or '..'");
	refused("a/./b", "component 2 of 3 is '.' or '..'");
	refused("./a", "component 1 of 2");
	refused("a/.", "component 2 of 2");
	refused("a/b/../../..", "component 3 of 5");
	/* Other dot names are reserved for the server, at any depth. */
	refused(".ftx", "starts with '.'");
	refused("a/.ftx/b", "component 2 of 3: name starts with '.'");
	refused("a/...", "component 2 of 2: name starts with '.'");
}

/* "%2e%2e" on the wire is ".." once decoded: refused.  "%252e%252e" is
 * the literal name "%2e%2e": accepted. */
static void
test_percent_decoded(void **state)
{
	static const struct {
		const char *line;
		int ok;
	} cases[] = {
	    {"DOWNLOAD %2e%2e", 0},
	    {"DOWNLOAD %2E%2E/etc/passwd", 0},
	    {"DOWNLOAD a/%2e%2e/b", 0},
	    {"DOWNLOAD a/%2e/b", 0},
	    {"DOWNLOAD %2fabs", 0},
	    {"DOWNLOAD a%2f%2fb", 0},
	    {"DOWNLOAD a%2f", 0},
	    {"DOWNLOAD a%5cb", 0},
	    {"DOWNLOAD a/b%1bc", 0},
	    {"DOWNLOAD %252e%252e", 1},
	    {"DOWNLOAD a/%252e%252e/b", 1},
	    {"DOWNLOAD a%2fb", 1},
	};
	struct proto_cmd cmd;
	char line[64], err[FTX_ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
		    str_copy(line, sizeof(line), cases[i].line), 0);
		assert_int_equal(proto_split(line, &cmd, err, sizeof(err)), 0);
		assert_int_equal(cmd.argc, 1);
		if ((path_check(cmd.argv[0], err, sizeof(err)) == 0) !=
		    cases[i].ok)
			fail_msg("\"%s\": expected %s", cases[i].line,
			    cases[i].ok ? "accepted" : "refused");
	}
	assert_string_equal(cmd.argv[0], "a/b");
}

static void
test_slashes(void **state)
{
	(void)state;
	refused("/abs", "starts with '/'");
	refused("/", "starts with '/'");
	refused("//", "starts with '/'");
	refused("/a/b", "starts with '/'");
	refused("abs/", "ends with '/'");
	refused("a/b/", "ends with '/'");
	refused("a//b", "component 2 of 3 is empty");
	refused("a/b//c", "component 3 of 4 is empty");
	refused("a///b", "component 2 of 4 is empty");
}

static void
test_empty(void **state)
{
	char err[FTX_ERRLEN];

	(void)state;
	assert_int_equal(path_check("", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(path_check(NULL, err, sizeof(err)), -1);
	assert_int_equal(path_shape_check("", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "path is empty"));
	assert_int_equal(path_shape_check(NULL, err, sizeof(err)), -1);
	/* err may be NULL. */
	assert_int_equal(path_check("a//b", NULL, 0), -1);
	assert_int_equal(path_shape_check("..", NULL, 0), -1);
}

/* FTX_RPATH_MAX: exactly the limit passes, one more byte does not. */
static void
test_length_limit(void **state)
{
	char p[FTX_RPATH_MAX + 2];
	size_t i;

	(void)state;
	/* Components of 200 bytes, the last one shorter to fit. */
	for (i = 0; i < FTX_RPATH_MAX; i++)
		p[i] = (i + 1) % 201 == 0 ? '/' : 'x';
	p[FTX_RPATH_MAX] = '\0';
	assert_true(p[FTX_RPATH_MAX - 1] != '/');
	accepted(p);
	p[FTX_RPATH_MAX] = 'y';
	p[FTX_RPATH_MAX + 1] = '\0';
	refused(p, "longer than");
	assert_int_equal(path_shape_check(p, NULL, 0), -1);
	/* A plain name that long: the name check's own words. */
	memset(p, 'n', FTX_RPATH_MAX + 1);
	refused(p, "name longer than 255");
}

/* FTX_RPATH_DEPTH_MAX: as many components as allowed pass, one more
 * does not, even though the path is short. */
static void
test_depth_limit(void **state)
{
	char *p;

	(void)state;
	p = mkpath(FTX_RPATH_DEPTH_MAX, 1);
	accepted(p);
	assert_int_equal(path_depth(p), FTX_RPATH_DEPTH_MAX);
	free(p);
	p = mkpath(FTX_RPATH_DEPTH_MAX + 1, 1);
	refused(p, "more than 32 components");
	assert_int_equal(path_shape_check(p, NULL, 0), -1);
	free(p);
	p = mkpath(500, 0); /* 499 slashes */
	refused(p, "starts with '/'");
	free(p);
}

/* FTX_NAME_MAX per component, first, middle and last. */
static void
test_component_length(void **state)
{
	char p[3 * (FTX_NAME_MAX + 2) + 1];
	char *q;

	(void)state;
	q = mkpath(3, FTX_NAME_MAX);
	accepted(q);
	free(q);
	str_fmt(p, sizeof(p), "a/%0*d/c", FTX_NAME_MAX + 1, 0);
	refused(p, "component 2 of 3: name longer than 255 bytes");
	assert_int_equal(path_shape_check(p, NULL, 0), -1);
	str_fmt(p, sizeof(p), "%0*d/b", FTX_NAME_MAX + 1, 0);
	refused(p, "component 1 of 2: name longer than 255");
	str_fmt(p, sizeof(p), "a/%0*d", FTX_NAME_MAX + 1, 0);
	refused(p, "component 2 of 2: name longer than 255");
}

/* Every rule of proto_name_check, in a component that is not the
 * first: the reason names the component by position, and never echoes
 * its bytes. */
static void
test_hostile_components(void **state)
{
	static const struct {
		const char *p;
		const char *why;
	} bad[] = {
	    {"a/b\x01"
	     "c/d",
		"component 2 of 3: name contains a control"},
	    {"a/\x1b[2J/d", "component 2 of 3: name contains a control"},
	    {"a/b\x7f/d", "component 2 of 3: name contains a control"},
	    {"a/b\tc", "component 2 of 2: name contains a control"},
	    {"a/b\nc/d", "component 2 of 3: name contains a control"},
	    {"a/b\\c/d", "component 2 of 3: name contains '\\'"},
	    {"a/..\\x", "component 2 of 2: name starts with '.'"},
	    {"a/x\\..\\y", "component 2 of 2: name contains '\\'"},
	    {"a/\xff/d", "component 2 of 3: name is not valid UTF-8"},
	    {"a/over\xc0\xaflong/d", "component 2 of 3: name is not valid"},
	    {"a/cut\xe2\x82/d", "component 2 of 3: name is not valid"},
	    {"a/surr\xed\xa0\x80/d", "component 2 of 3: name is not valid"},
	    {"a/raw\x9b/d", "component 2 of 3: name is not valid"},
	    {"a/csi\xc2\x9bJ/d", "component 2 of 3: name contains a control"},
	    {"a/b/invoice\xe2\x80\xaeXE.pdf", "component 3 of 3: name"},
	    {"a/\xe2\x81\xa6x/d", "component 2 of 3: name"},
	};
	char err[FTX_ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (path_check(bad[i].p, err, sizeof(err)) != -1)
			fail_msg("hostile path #%zu accepted", i);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("path #%zu: reason \"%s\" lacks \"%s\"", i,
			    err, bad[i].why);
		/* No byte of the path reaches the reason. */
		if (strchr(err, '\x1b') != NULL || strchr(err, '\xff') != NULL)
			fail_msg("path #%zu: reason echoes the path", i);
		/* The shape alone is fine: it is the names that are bad. */
		if (path_shape_check(bad[i].p, NULL, 0) != 0)
			fail_msg("path #%zu: shape refused", i);
	}
}

/* A plain name is a one-component path: the same verdict and reason as
 * proto_name_check. */
static void
test_plain_name_is_path(void **state)
{
	static const char *const names[] = {"a", "file.txt", "%2e%2e", "..",
	    ".", ".hidden", "", "a\\b", "a\x01", "\xff", "csi\xc2\x9b",
	    "caf\xc3\xa9", "rlo\xe2\x80\xae", "a b", "-", "~"};
	char e1[FTX_ERRLEN], e2[FTX_ERRLEN], longname[FTX_NAME_MAX + 2];
	size_t i;
	int r1, r2;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		e1[0] = e2[0] = '\0';
		r1 = path_check(names[i], e1, sizeof(e1));
		r2 = proto_name_check(names[i], e2, sizeof(e2));
		if (r1 != r2 || strcmp(e1, e2) != 0)
			fail_msg("name #%zu: path_check %d \"%s\", "
				 "proto_name_check %d \"%s\"",
			    i, r1, e1, r2, e2);
	}
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(path_check(longname, NULL, 0), -1);
	longname[FTX_NAME_MAX] = '\0';
	assert_int_equal(path_check(longname, NULL, 0), 0);
}

/* The structure without the name rules: what the store's own metadata
 * paths need. */
static void
test_shape_check(void **state)
{
	char err[FTX_ERRLEN];

	(void)state;
	assert_int_equal(path_shape_check(".ftx/.partial/k", err, 64), 0);
	assert_int_equal(path_shape_check(".t-1", err, sizeof(err)), 0);
	assert_int_equal(path_shape_check("a\\b/c", err, sizeof(err)), 0);
	assert_int_equal(path_shape_check("..", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'.' or '..'"));
	assert_int_equal(path_shape_check("a/./b", err, sizeof(err)), -1);
	assert_int_equal(path_shape_check("a//b", err, sizeof(err)), -1);
	assert_int_equal(path_shape_check("/a", err, sizeof(err)), -1);
	assert_int_equal(path_shape_check("a/", err, sizeof(err)), -1);
}

static void
test_next(void **state)
{
	const char *cur = "ab/c/def";
	char comp[FTX_NAME_MAX + 1], small[3];

	(void)state;
	assert_int_equal(path_next(&cur, comp, sizeof(comp)), 1);
	assert_string_equal(comp, "ab");
	assert_int_equal(path_next(&cur, comp, sizeof(comp)), 1);
	assert_string_equal(comp, "c");
	/* Too small: -1, and *cur stays where it was. */
	assert_int_equal(path_next(&cur, small, sizeof(small)), -1);
	assert_string_equal(cur, "def");
	assert_int_equal(path_next(&cur, small, 0), -1);
	assert_int_equal(path_next(&cur, comp, sizeof(comp)), 1);
	assert_string_equal(comp, "def");
	assert_int_equal(path_next(&cur, comp, sizeof(comp)), 0);
	assert_int_equal(path_next(&cur, comp, sizeof(comp)), 0);
	cur = "";
	assert_int_equal(path_next(&cur, comp, sizeof(comp)), 0);
	/* Exactly fitting. */
	cur = "ab";
	assert_int_equal(path_next(&cur, small, sizeof(small)), 1);
	assert_string_equal(small, "ab");
}

static void
test_base_parent(void **state)
{
	char out[FTX_RPATH_MAX + 1], small[3];

	(void)state;
	assert_string_equal(path_base("a"), "a");
	assert_string_equal(path_base("a/b"), "b");
	assert_string_equal(path_base("a/b/cde"), "cde");
	assert_int_equal(path_parent(out, sizeof(out), "a/b/c"), 0);
	assert_string_equal(out, "a/b");
	assert_int_equal(path_parent(out, sizeof(out), "a"), 0);
	assert_string_equal(out, "");
	assert_int_equal(path_parent(out, sizeof(out), ""), -1);
	assert_int_equal(path_parent(small, sizeof(small), "ab/c"), 0);
	assert_string_equal(small, "ab");
	assert_int_equal(path_parent(small, sizeof(small), "abc/d"), -1);
	assert_string_equal(small, "");
	assert_int_equal(path_parent(small, 0, "a"), -1);
}

static void
test_join(void **state)
{
	char out[FTX_RPATH_MAX + 1], small[4], err[FTX_ERRLEN];
	char *deep, *big;

	(void)state;
	assert_int_equal(path_join(out, sizeof(out), "", "a", err, 64), 0);
	assert_string_equal(out, "a");
	assert_int_equal(path_join(out, sizeof(out), "a/b", "c", err, 64), 0);
	assert_string_equal(out, "a/b/c");
	assert_int_equal(path_join(out, sizeof(out), "a", "b/c", err, 64), 0);
	assert_string_equal(out, "a/b/c");
	/* The result is checked: no way to make a bad path by joining. */
	assert_int_equal(path_join(out, sizeof(out), "a", "..", err, 64), -1);
	assert_string_equal(out, "");
	assert_int_equal(path_join(out, sizeof(out), "a", "../b", err, 64), -1);
	assert_int_equal(path_join(out, sizeof(out), "a/", "b", err, 64), -1);
	assert_int_equal(path_join(out, sizeof(out), "a", "/b", err, 64), -1);
	assert_int_equal(path_join(out, sizeof(out), "a", "", err, 64), -1);
	assert_int_equal(path_join(out, sizeof(out), "", "", err, 64), -1);
	assert_int_equal(path_join(out, sizeof(out), "", "/", err, 64), -1);
	assert_int_equal(path_join(out, sizeof(out), "a", ".x", err, 64), -1);
	assert_int_equal(path_join(out, sizeof(out), NULL, "a", err, 64), -1);
	/* Too deep, too long, too small a buffer. */
	deep = mkpath(FTX_RPATH_DEPTH_MAX, 1);
	assert_int_equal(path_join(out, sizeof(out), deep, "x", err, 64), -1);
	assert_non_null(strstr(err, "more than 32 components"));
	free(deep);
	big = mkpath(4, 240); /* 963 bytes */
	big[FTX_RPATH_MAX - 2] = '\0'; /* 958 bytes, ends in a name */
	assert_int_equal(
	    path_join(out, sizeof(out), big, "x", err, sizeof(err)), 0);
	assert_int_equal(strlen(out), FTX_RPATH_MAX);
	assert_int_equal(path_join(out, sizeof(out), big, "xy", err, 64), -1);
	assert_non_null(strstr(err, "longer than"));
	free(big);
	assert_int_equal(
	    path_join(small, sizeof(small), "a", "bc", err, 64), -1);
	assert_string_equal(small, "");
	assert_int_equal(path_join(small, sizeof(small), "a", "b", err, 64), 0);
	assert_string_equal(small, "a/b");
}

/* join(parent(p), base(p)) == p. */
static void
test_join_roundtrip(void **state)
{
	static const char *const paths[] = {
	    "a", "a/b", "x/y/z", "%2e%2e/caf\xc3\xa9", "d/e/f/g/h"};
	char parent[FTX_RPATH_MAX + 1], out[FTX_RPATH_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(
		    path_parent(parent, sizeof(parent), paths[i]), 0);
		assert_int_equal(path_join(out, sizeof(out), parent,
				     path_base(paths[i]), NULL, 0),
		    0);
		assert_string_equal(out, paths[i]);
	}
}

static void
test_key(void **state)
{
	char key[FTX_RPATH_MAX + 1], small[4], err[FTX_ERRLEN];

	(void)state;
	assert_int_equal(path_key(key, sizeof(key), "a/b/c", err, 64), 0);
	assert_string_equal(key, "a/b/c");
	assert_int_equal(path_key(key, sizeof(key), "name", err, 64), 0);
	assert_string_equal(key, "name");
	assert_int_equal(path_key(key, sizeof(key), "a//b", err, 64), -1);
	assert_string_equal(key, "");
	assert_int_equal(path_key(key, sizeof(key), "a/../b", err, 64), -1);
	assert_int_equal(path_key(key, sizeof(key), ".ftx/x", err, 64), -1);
	assert_int_equal(path_key(small, sizeof(small), "abcd", err, 64), -1);
	assert_non_null(strstr(err, "does not fit"));
	assert_string_equal(small, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts),
	    cmocka_unit_test(test_dot_components),
	    cmocka_unit_test(test_percent_decoded),
	    cmocka_unit_test(test_slashes),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_length_limit),
	    cmocka_unit_test(test_depth_limit),
	    cmocka_unit_test(test_component_length),
	    cmocka_unit_test(test_hostile_components),
	    cmocka_unit_test(test_plain_name_is_path),
	    cmocka_unit_test(test_shape_check),
	    cmocka_unit_test(test_next),
	    cmocka_unit_test(test_base_parent),
	    cmocka_unit_test(test_join),
	    cmocka_unit_test(test_join_roundtrip),
	    cmocka_unit_test(test_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

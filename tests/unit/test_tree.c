/*
 * test_tree.c - ftx/tree.c: the local walk and the plan of a tree
 * transfer (what to send, skip and delete), without a server.
 */
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

#include "ftx_limits.h"
#include "str.h"
#include "tree.h"

static const char sha1[] =
    "1111111111111111111111111111111111111111111111111111111111111111";
static const char sha2[] =
    "2222222222222222222222222222222222222222222222222222222222222222";

/* tree_sha_fn for tests: a file named "*same*" hashes to sha1 on both
 * sides, anything else to sha1 at the source and sha2 at the
 * destination; every call is counted. */
static int sha_calls;

static int
fake_sha(void *arg, struct tree_ent *e, int src, char *err, size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	sha_calls++;
	memcpy(e->sha, strstr(e->path, "same") != NULL || src ? sha1 : sha2,
	    HASH_SHA256_HEXLEN + 1);
	e->has_sha = 1;
	return 0;
}

static void
add(struct tree_list *l, const char *path, char type, uint64_t size,
    const char *sha)
{
	assert_int_equal(tree_add(l, path, type, size, 0, sha), 0);
}

static int
has(struct tree_ent **v, size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i]->path, path) == 0)
			return 1;
	return 0;
}

static void
lists(struct tree_list *src, struct tree_list *dst)
{
	memset(src, 0, sizeof(*src));
	memset(dst, 0, sizeof(*dst));
	add(src, "a", 'd', 0, NULL);
	add(src, "a/same.txt", 'f', 5, NULL);
	add(src, "a/changed.txt", 'f', 5, NULL);
	add(src, "a/grown.txt", 'f', 6, NULL);
	add(src, "a/new.txt", 'f', 1, NULL);
	add(src, "empty", 'd', 0, NULL);
	add(src, "known", 'f', 3, sha1);
	add(src, "x", 'f', 2, NULL); /* a directory at the destination */
	add(dst, "a", 'd', 0, NULL);
	add(dst, "a/same.txt", 'f', 5, NULL);
	add(dst, "a/changed.txt", 'f', 5, NULL);
	add(dst, "a/grown.txt", 'f', 5, NULL);
	add(dst, "a/gone.txt", 'f', 5, NULL);
	add(dst, "gone", 'd', 0, NULL);
	add(dst, "gone/deep", 'd', 0, NULL);
	add(dst, "gone/deep/f", 'f', 1, NULL);
	add(dst, "known", 'f', 3, sha1);
	add(dst, "x", 'd', 0, NULL);
	add(dst, "x/y", 'f', 1, NULL);
	tree_sort(src);
	tree_sort(dst);
}

/* sync without --delete: only changed content is sent, sizes first. */
static void
test_plan_compare(void **state)
{
	struct tree_list src, dst;
	struct tree_plan p;

	(void)state;
	lists(&src, &dst);
	sha_calls = 0;
	assert_int_equal(
	    tree_plan(&src, &dst, TREE_COMPARE, fake_sha, NULL, &p, NULL, 0),
	    0);
	assert_int_equal(p.nsend, 3);
	assert_true(has(p.send, p.nsend, "a/changed.txt"));
	assert_true(has(p.send, p.nsend, "a/grown.txt"));
	assert_true(has(p.send, p.nsend, "a/new.txt"));
	assert_int_equal(p.nskip, 2); /* same.txt, known */
	assert_int_equal(p.nmkdir, 1);
	assert_string_equal(p.mkdir[0]->path, "empty");
	assert_int_equal(p.ndel, 0);
	assert_int_equal(p.nconflict, 1); /* x */
	assert_int_equal(p.send_bytes, 5 + 6 + 1);
	/* Only same-size pairs without a known digest were hashed. */
	assert_int_equal(sha_calls, 4);
	tree_plan_free(&p);
	tree_list_free(&src);
	tree_list_free(&dst);
}

/* --delete: what the source lacks goes, deepest first; a directory
 * where the source has a file is replaced. */
static void
test_plan_delete(void **state)
{
	static const char *order[] = {
	    "x/y", "x", "gone/deep/f", "gone/deep", "gone", "a/gone.txt"};
	struct tree_list src, dst;
	struct tree_plan p;
	size_t i;

	(void)state;
	lists(&src, &dst);
	assert_int_equal(tree_plan(&src, &dst, TREE_COMPARE | TREE_DELETE,
			     fake_sha, NULL, &p, NULL, 0),
	    0);
	assert_int_equal(p.ndel, 6);
	for (i = 0; i < p.ndel; i++)
		assert_string_equal(p.del[i]->path, order[i]);
	assert_true(has(p.send, p.nsend, "x"));
	assert_int_equal(p.nsend, 4);
	assert_int_equal(p.nconflict, 0);
	tree_plan_free(&p);
	tree_list_free(&src);
	tree_list_free(&dst);
}

/* A source the walk could not read whole deletes nothing, even with
 * --delete: what it missed would look removed. */
static void
test_plan_held(void **state)
{
	struct tree_list src, dst;
	struct tree_plan p;

	(void)state;
	lists(&src, &dst);
	src.errors = 2;
	assert_int_equal(tree_plan(&src, &dst, TREE_COMPARE | TREE_DELETE,
			     fake_sha, NULL, &p, NULL, 0),
	    0);
	assert_int_equal(p.ndel, 0);
	assert_int_equal(p.nheld, 2);
	assert_int_equal(p.nsend, 3); /* the changes are still sent */
	assert_int_equal(p.nconflict, 1); /* x is left alone */
	tree_plan_free(&p);
	tree_list_free(&src);
	tree_list_free(&dst);
}

/* put -r: everything is sent, nothing compared or deleted. */
static void
test_plan_copy(void **state)
{
	struct tree_list src, dst = {NULL, 0, 0, 0};
	struct tree_plan p;

	(void)state;
	lists(&src, &dst);
	tree_list_free(&dst);
	sha_calls = 0;
	assert_int_equal(
	    tree_plan(&src, &dst, 0, fake_sha, NULL, &p, NULL, 0), 0);
	assert_int_equal(p.nsend, 6);
	assert_int_equal(p.nmkdir, 2);
	assert_string_equal(p.mkdir[0]->path, "a"); /* parents first */
	assert_int_equal(sha_calls, 0);
	tree_plan_free(&p);
	tree_list_free(&src);
}

static void
mk(const char *root, const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	(void)str_fmt(p, sizeof(p), "%s/%s", root, rel);
	if (text == NULL) {
		assert_int_equal(mkdir(p, 0755), 0);
		return;
	}
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
find(const struct tree_list *l, const char *path, char type)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].path, path) == 0)
			return l->v[i].type == type;
	return 0;
}

/* The walk: files, empty directories, spaced and UTF-8 names; links
 * skipped unless followed, a loop skipped even then; dot names and
 * FIFOs skipped. */
static void
test_walk(void **state)
{
	char root[64] = "/tmp/test_tree.XXXXXX", p[512], cmd[128];
	char pre[FTX_RPATH_MAX + 1];
	size_t i;
	struct tree_list l = {NULL, 0, 0, 0};

	(void)state;
	assert_non_null(mkdtemp(root));
	mk(root, "d", NULL);
	mk(root, "d/empty", NULL);
	mk(root, "d/a b \xc3\xa9.txt", "x");
	mk(root, "top", "");
	mk(root, ".hidden", "h");
	(void)str_fmt(p, sizeof(p), "%s/d/link", root);
	assert_int_equal(symlink("../top", p), 0);
	(void)str_fmt(p, sizeof(p), "%s/d/loop", root);
	assert_int_equal(symlink("..", p), 0);
	(void)str_fmt(p, sizeof(p), "%s/fifo", root);
	assert_int_equal(mkfifo(p, 0600), 0);

	assert_int_equal(tree_walk(root, 0, 0, "", &l, NULL, 0), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.errors, 0);
	assert_true(find(&l, "d", 'd'));
	assert_true(find(&l, "d/empty", 'd'));
	assert_true(find(&l, "d/a b \xc3\xa9.txt", 'f'));
	assert_true(find(&l, "top", 'f'));
	/* Sorted, parents first. */
	assert_string_equal(l.v[0].path, "d");
	tree_list_free(&l);

	assert_int_equal(tree_walk(root, 1, 0, "", &l, NULL, 0), 0);
	assert_true(find(&l, "d/link", 'f'));
	assert_false(find(&l, "d/loop", 'd'));
	assert_int_equal(l.n, 5);
	assert_int_equal(l.errors, 0);
	tree_list_free(&l);

	/* With -L a link to nothing cannot be read: a walk error (without
	 * -L it is a link, skipped). */
	(void)str_fmt(p, sizeof(p), "%s/d/dangling", root);
	assert_int_equal(symlink("nothing-there", p), 0);
	assert_int_equal(tree_walk(root, 1, 0, "", &l, NULL, 0), 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.errors, 1);
	tree_list_free(&l);
	assert_int_equal(tree_walk(root, 0, 0, "", &l, NULL, 0), 0);
	assert_int_equal(l.errors, 0);
	tree_list_free(&l);
	assert_int_equal(unlink(p), 0);

	/* A remote prefix that leaves no room: everything below it is
	 * skipped, the walk itself succeeds. */
	for (i = 0; i < FTX_RPATH_MAX - 1; i++)
		pre[i] = i % 100 == 99 ? '/' : 'a';
	pre[FTX_RPATH_MAX - 1] = '\0';
	assert_int_equal(tree_walk(root, 0, 0, pre, &l, NULL, 0), 0);
	assert_int_equal(l.n, 0);
	tree_list_free(&l);

	assert_int_equal(
	    tree_walk("/nonexistent/x", 0, 0, "", &l, cmd, sizeof(cmd)), -1);
	(void)str_fmt(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_compare),
	    cmocka_unit_test(test_plan_delete),
	    cmocka_unit_test(test_plan_held),
	    cmocka_unit_test(test_plan_copy),
	    cmocka_unit_test(test_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

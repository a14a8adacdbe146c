/*
 * test_listing.c - LIST snapshots: exact lines and count, pieces of
 * whole lines, reuse only while the directory is unchanged, sharing only
 * once it has settled, the byte count the output budget sees.
 */
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
#include "listing.h"
#include "store_posix.h"
#include "str.h"

struct fx {
	char root[64];
	struct store *st;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_err se;

	assert_non_null(f);
	str_copy(f->root, sizeof(f->root), "/tmp/ftx-listing-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	assert_int_equal(store_posix_open(&f->st, f->root, &se), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(f->st);
	str_fmt(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
touch(const struct fx *f, const char *name)
{
	char path[512];
	FILE *fp;

	str_fmt(path, sizeof(path), "%s/%s", f->root, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("x", fp);
	fclose(fp);
}

/* Let the root settle: its last change more than FTX_LIST_SETTLE_MS
 * ago (ctime cannot be set back, so wait it out). */
static void
age_root(const struct fx *f)
{
	long ms = FTX_LIST_SETTLE_MS + 100;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void
test_lines_and_pieces(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], name[32];
	struct listing *l;
	size_t off = 0, n, lines = 0, i;
	const char *t;
	int k;

	for (k = 0; k < 50; k++) {
		str_fmt(name, sizeof(name), "file %02d", k);
		touch(f, name);
	}
	touch(f, ".hidden");
	l = listing_get(f->st, NULL, err, sizeof(err));
	assert_non_null(l);
	listing_publish(f->st, l, 0);
	assert_int_equal(listing_count(l), 50);
	assert_int_equal(listing_bytes(), listing_len(l));
	/* Not NUL-terminated: exactly the bytes of the lines. */
	assert_non_null(memmem(listing_text(l), listing_len(l), " file%2000\n",
	    strlen(" file%2000\n")));
	assert_null(memmem(listing_text(l), listing_len(l), "hidden", 6));
	/* Pieces of at most 100 bytes, each made of whole lines, cover the
	 * text exactly once. */
	t = listing_text(l);
	while ((n = listing_piece(l, off, 100)) > 0) {
		assert_true(n <= 100);
		assert_int_equal(t[off + n - 1], '\n');
		for (i = 0; i < n; i++)
			lines += t[off + i] == '\n';
		off += n;
	}
	assert_int_equal(off, listing_len(l));
	assert_int_equal(lines, 50);
	/* A piece smaller than one line still moves a whole line. */
	n = listing_piece(l, 0, 5);
	assert_int_equal(t[n - 1], '\n');
	assert_null(memchr(t, '\n', n - 1));
	assert_int_equal(listing_frees(l), listing_len(l));
	listing_unref(l);
	assert_int_equal(listing_bytes(), 0);
}

static void
test_reuse_only_if_unchanged(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN];
	struct listing *a, *b, *c;

	touch(f, "one");
	a = listing_get(f->st, NULL, err, sizeof(err));
	assert_non_null(a);
	/* Nothing changed: the candidate is the answer. */
	b = listing_get(f->st, a, err, sizeof(err));
	assert_ptr_equal(a, b);
	/* A new file changes the directory: a new snapshot that has it. */
	touch(f, "two");
	c = listing_get(f->st, a, err, sizeof(err));
	assert_non_null(c);
	assert_ptr_not_equal(a, c);
	assert_int_equal(listing_count(a), 1);
	assert_int_equal(listing_count(c), 2);
	listing_unref(a);
	listing_unref(c);
}

static void
test_share_only_settled(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN];
	struct listing *a, *b;

	/* Just changed: not shared with other sessions. */
	touch(f, "fresh");
	a = listing_get(f->st, NULL, err, sizeof(err));
	listing_publish(f->st, a, 1000);
	assert_null(listing_cached(f->st, 1000));
	listing_unref(a);
	/* Settled: shared for FTX_LIST_SHARE_MS, then dropped. */
	age_root(f);
	a = listing_get(f->st, NULL, err, sizeof(err));
	listing_publish(f->st, a, 1000);
	b = listing_cached(f->st, 1000 + FTX_LIST_SHARE_MS - 1);
	assert_ptr_equal(a, b);
	assert_int_equal(listing_frees(a), 0); /* others hold it */
	listing_unref(b);
	assert_null(listing_cached(f->st, 1000 + FTX_LIST_SHARE_MS));
	listing_tick(1000 + FTX_LIST_SHARE_MS);
	assert_int_equal(listing_frees(a), listing_len(a));
	listing_unref(a);
	assert_int_equal(listing_bytes(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_lines_and_pieces, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_reuse_only_if_unchanged, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_share_only_settled, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

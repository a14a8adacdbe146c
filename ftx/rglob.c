/*
 * rglob.c - remote globs matched against the server's LS.
 */
#include "rglob.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "ftx_limits.h"
#include "ops.h"
#include "path.h"
#include "str.h"

/* One match, kept until the listing has ended. */
struct match {
	struct match *next;
	struct rpl_entry e;
};

/* What the listing callback collects. */
struct collect {
	const char *dir; /* the directory part; "" for the top */
	const char *base; /* the pattern's last component */
	enum rglob_want want;
	struct match *head, **tail;
	size_t n;
	int too_many;
	char why[FTX_ERRLEN];
};

int
rglob_is_pattern(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

int
rglob_check(const char *pattern, char *err, size_t errlen)
{
	const char *base, *glob;

	if (path_check(pattern, err, errlen) == -1)
		return -1;
	base = path_base(pattern);
	glob = strpbrk(pattern, "*?[");
	if (glob != NULL && glob < base)
		return str_err(
		    err, errlen, "glob characters only in the last component");
	return 0;
}

static int
collect_entry(void *arg, const struct rpl_entry *e)
{
	struct collect *co = arg;
	struct match *m;

	if (co->want == RGLOB_FILES && e->type != 'f')
		return 0;
	/* A name may hold '*', '?' or '[' itself (and no '\\' to escape
	 * them with): the pattern matches that name literally too. */
	if (fnmatch(co->base, e->path, FNM_PATHNAME | FNM_PERIOD) != 0 &&
	    strcmp(co->base, e->path) != 0)
		return 0;
	if (co->n == FTX_GLOB_MATCHES_MAX) {
		co->too_many = 1;
		return -1;
	}
	if ((m = malloc(sizeof(*m))) == NULL) {
		(void)str_copy(co->why, sizeof(co->why), "out of memory");
		return -1;
	}
	m->next = NULL;
	m->e = *e;
	/* Joining re-checks the whole path: never longer or deeper than
	 * a path may be. */
	if (path_join(m->e.path, sizeof(m->e.path), co->dir, e->path, co->why,
		sizeof(co->why)) == -1) {
		free(m);
		return -1;
	}
	*co->tail = m;
	co->tail = &m->next;
	co->n++;
	return 0;
}

static void
matches_free(struct match *m)
{
	struct match *next;

	for (; m != NULL; m = next) {
		next = m->next;
		free(m);
	}
}

int
rglob_expand(struct ctl *c, const char *pattern, enum rglob_want want,
    rglob_fn cb, void *arg, char *err, size_t errlen)
{
	char dir[FTX_RPATH_MAX + 1];
	struct collect co;
	struct match *m;
	int rc;

	memset(&co, 0, sizeof(co));
	if (path_parent(dir, sizeof(dir), pattern) == -1) {
		str_err(err, errlen, "bad pattern: %s", pattern);
		return EXITCODE_USAGE;
	}
	co.dir = dir;
	co.base = path_base(pattern);
	co.want = want;
	co.tail = &co.head;
	rc = ops_ls_stream(
	    c, dir[0] != '\0' ? dir : ".", 0, collect_entry, &co, err, errlen);
	if (co.too_many) {
		str_err(err, errlen, "more than %d matches: %s",
		    FTX_GLOB_MATCHES_MAX, pattern);
		rc = EXITCODE_USAGE;
	} else if (co.why[0] != '\0') {
		str_err(err, errlen, "%s: %s", pattern, co.why);
		rc = EXITCODE_FAIL;
	} else if (rc == EXITCODE_OK && co.n == 0) {
		str_err(err, errlen, "no match: %s", pattern);
		rc = EXITCODE_REFUSED;
	}
	for (m = co.head; rc == EXITCODE_OK && m != NULL; m = m->next)
		if (cb(arg, &m->e) == -1) {
			(void)str_copy(err, errlen, "");
			rc = EXITCODE_FAIL;
		}
	matches_free(co.head);
	return rc;
}

/*
 * rglob.h - remote globs: a pattern such as logs/a*.gz matched against
 * the server's LS.
 *
 * Only the last component of a pattern may hold glob characters (*, ?
 * and [...]); the directory part is a plain path.  The pattern is
 * matched with fnmatch(3) (FNM_PATHNAME | FNM_PERIOD) against the names
 * of one non-recursive LS of the directory part; a name equal to the
 * pattern matches too, so a file named "x[1]" is reached even though a
 * name has no '\\' to escape with.  Nothing ever reaches a dot name (the
 * server does not list them).
 */
#ifndef FTX_RGLOB_H
#define FTX_RGLOB_H

#include <stddef.h>

#include "ctl.h"
#include "rpl.h"

/* Which entries a glob expands to. */
enum rglob_want {
	RGLOB_ANY, /* files and directories (ls, rm) */
	RGLOB_FILES /* files only (get, hash) */
};

/* Called once per match, after the listing has ended (so it may use
 * the session); e->path is the full path (directory part joined).
 * Return 0 to go on, -1 to stop. */
typedef int (*rglob_fn)(void *arg, const struct rpl_entry *e);

/* 1 if `s` holds a glob character ('*', '?' or '['). */
int rglob_is_pattern(const char *s);
/* A pattern the client accepts: a valid path (path_check) with glob
 * characters in the last component only.  0, or -1 with a reason. */
int rglob_check(const char *pattern, char *err, size_t errlen);
/*
 * List the directory part, collect the entries that match (at most
 * FTX_GLOB_MATCHES_MAX), in the server's order, then call `cb` for each.
 * Exit code: EXITCODE_OK; EXITCODE_REFUSED and "no match: PATTERN"
 * when nothing matched; the listing's failure; EXITCODE_FAIL when `cb`
 * stopped (err then is "", the callback has said why).  The caller has
 * checked the pattern (rglob_check) and that the server has folders.
 */
int rglob_expand(struct ctl *c, const char *pattern, enum rglob_want want,
    rglob_fn cb, void *arg, char *err, size_t errlen);

#endif /* FTX_RGLOB_H */

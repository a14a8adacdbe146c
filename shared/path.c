/*
 * path.c - paths in the store's namespace.  See path.h.
 */
#include "path.h"

#include <string.h>

#include "proto.h"
#include "str.h"

/* The number of '/' in p[0..len). */
static size_t
count_slashes(const char *p, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (p[i] == '/')
			n++;
	return n;
}

/*
 * Check component k of `total`, p[0..n), n >= 1: the shape rules, and
 * with `names` proto_name_check's.
 */
static int
check_component(const char *p, size_t n, size_t k, size_t total, int names,
    char *err, size_t errlen)
{
	char comp[FTX_NAME_MAX + 1], why[FTX_ERRLEN];

	if (n > FTX_NAME_MAX)
		return str_err(err, errlen,
		    "path component %zu of %zu: name longer than %d bytes", k,
		    total, FTX_NAME_MAX);
	memcpy(comp, p, n);
	comp[n] = '\0';
	/* SECURITY: "." and ".." would alias or leave the directory the
	 * path is resolved in; they are refused, never resolved. */
	if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)
		return str_err(err, errlen,
		    "path component %zu of %zu is '.' or '..'", k, total);
	if (names && proto_name_check(comp, why, sizeof(why)) == -1)
		return str_err(err, errlen, "path component %zu of %zu: %s", k,
		    total, why);
	return 0;
}

static int
check(const char *p, int names, char *err, size_t errlen)
{
	size_t len, total, k, start, end;

	if (p == NULL || p[0] == '\0')
		return str_err(err, errlen, "path is empty");
	len = strnlen(p, FTX_RPATH_MAX + 1);
	if (len > FTX_RPATH_MAX)
		return str_err(
		    err, errlen, "path longer than %d bytes", FTX_RPATH_MAX);
	/* SECURITY: one spelling per path: a leading '/' would make it
	 * absolute, a trailing one or "//" a second name for the same
	 * file. */
	if (p[0] == '/')
		return str_err(err, errlen, "path starts with '/'");
	if (p[len - 1] == '/')
		return str_err(err, errlen, "path ends with '/'");
	total = count_slashes(p, len) + 1;
	if (total > FTX_RPATH_DEPTH_MAX)
		return str_err(err, errlen, "path has more than %d components",
		    FTX_RPATH_DEPTH_MAX);
	for (k = 1, start = 0; start < len; k++, start = end + 1) {
		for (end = start; end < len && p[end] != '/'; end++)
			;
		if (end == start)
			return str_err(err, errlen,
			    "path component %zu of %zu is empty ('//')", k,
			    total);
		if (check_component(p + start, end - start, k, total, names,
			err, errlen) == -1)
			return -1;
	}
	return 0;
}

int
path_shape_check(const char *p, char *err, size_t errlen)
{
	return check(p, 0, err, errlen);
}

int
path_check(const char *p, char *err, size_t errlen)
{
	/* A plain name gets the name check's own verdict and words, so
	 * today's replies do not change. */
	if (p == NULL || strchr(p, '/') == NULL)
		return proto_name_check(p, err, errlen);
	return check(p, 1, err, errlen);
}

size_t
path_depth(const char *p)
{
	if (p[0] == '\0')
		return 0;
	return count_slashes(p, strlen(p)) + 1;
}

int
path_next(const char **cur, char *comp, size_t compsz)
{
	const char *s = *cur, *slash;
	size_t n;

	if (*s == '\0')
		return 0;
	slash = strchr(s, '/');
	n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (n >= compsz)
		return -1;
	memcpy(comp, s, n);
	comp[n] = '\0';
	*cur = slash != NULL ? slash + 1 : s + n;
	return 1;
}

const char *
path_base(const char *p)
{
	const char *slash = strrchr(p, '/');

	return slash != NULL ? slash + 1 : p;
}

int
path_parent(char *out, size_t outsz, const char *p)
{
	const char *slash;
	size_t n;

	if (outsz > 0)
		out[0] = '\0';
	if (p[0] == '\0')
		return -1;
	slash = strrchr(p, '/');
	n = slash != NULL ? (size_t)(slash - p) : 0;
	if (n >= outsz)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int
path_join(char *out, size_t outsz, const char *dir, const char *name, char *err,
    size_t errlen)
{
	size_t dl, nl, total;

	if (outsz > 0)
		out[0] = '\0';
	if (dir == NULL || name == NULL)
		return str_err(err, errlen, "path is empty");
	/* Each at most FTX_RPATH_MAX + 1, so the sum cannot overflow. */
	dl = strnlen(dir, FTX_RPATH_MAX + 1);
	nl = strnlen(name, FTX_RPATH_MAX + 1);
	total = dl + (dl > 0 ? 1 : 0) + nl;
	if (total > FTX_RPATH_MAX)
		return str_err(
		    err, errlen, "path longer than %d bytes", FTX_RPATH_MAX);
	if (total >= outsz)
		return str_err(err, errlen, "path does not fit its buffer");
	memcpy(out, dir, dl);
	if (dl > 0)
		out[dl] = '/';
	memcpy(out + total - nl, name, nl);
	out[total] = '\0';
	if (path_check(out, err, errlen) == -1) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int
path_key(char *out, size_t outsz, const char *p, char *err, size_t errlen)
{
	if (outsz > 0)
		out[0] = '\0';
	if (path_check(p, err, errlen) == -1)
		return -1;
	if (str_copy(out, outsz, p) == -1) {
		if (outsz > 0)
			out[0] = '\0';
		return str_err(err, errlen, "key does not fit its buffer");
	}
	return 0;
}

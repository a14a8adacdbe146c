/*
 * fuzz_path.c - libFuzzer target for the path type (shared/path.c).
 * See tests/fuzz/README.md.
 *
 * The input is cut at its first NUL: the bytes before it are a path as
 * a client would name it (after percent-decoding), the bytes after it
 * (to the next NUL) a second path to join to it.  path_check and
 * path_shape_check are compared with a naive reference written from
 * shared/path.h, and the invariants are asserted directly: an accepted
 * path is within the length and depth limits, has no empty, "." or
 * ".." component and no leading or trailing '/', and every component
 * passes proto_name_check; a string without '/' gets proto_name_check's
 * verdict and words; a reason never carries a byte of the path; the
 * components rebuild the path; join(parent, base) == path; the key is
 * the path; join gives exactly the checked concatenation.  Output
 * buffers are allocated at their exact size so an overrun of one byte
 * is caught.  A violation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftx_limits.h"
#include "path.h"
#include "proto.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			violated(#cond, __LINE__);                             \
	} while (0)

static void
violated(const char *what, int line)
{
	fprintf(stderr, "fuzz_path.c:%d: invariant violated: %s\n", line, what);
	abort();
}

static void *
xmalloc(size_t n)
{
	void *p = calloc(n > 0 ? n : 1, 1);

	if (p == NULL)
		abort();
	return p;
}

/* A NUL-terminated copy of s[0..n). */
static char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ---- the reference (deliberately naive) ---- */

/*
 * path.h's rule: 1..FTX_RPATH_MAX bytes, no leading or trailing '/', at
 * most FTX_RPATH_DEPTH_MAX components, each 1..FTX_NAME_MAX bytes, not
 * "." or "..", and with `names` each passing proto_name_check.
 */
static int
ref_check(const char *p, int names)
{
	size_t len = strlen(p), start, end, depth = 1, i;
	char *comp;
	int ok = 1;

	if (len == 0 || p[0] == '/' || p[len - 1] == '/')
		return 0;
	for (i = 0; i < len; i++)
		if (p[i] == '/')
			depth++;
	if (depth > FTX_RPATH_DEPTH_MAX)
		return 0;
	/* One component: the name rule alone (FTX_NAME_MAX is the
	 * tighter length); more: the total length as well. */
	if (depth > 1 && len > FTX_RPATH_MAX)
		return 0;
	for (start = 0; ok && start <= len; start = end + 1) {
		for (end = start; end < len && p[end] != '/'; end++)
			;
		comp = xstrndup(p + start, end - start);
		if (comp[0] == '\0' || strlen(comp) > FTX_NAME_MAX ||
		    strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)
			ok = 0;
		if (ok && names && proto_name_check(comp, NULL, 0) != 0)
			ok = 0;
		free(comp);
	}
	return ok;
}

/* SECURITY: a reason is printable ASCII: it never carries a byte of the
 * path (a control, an escape sequence, bad UTF-8) to a log or a peer. */
static void
check_reason(const char *err)
{
	size_t i;

	CHECK(err[0] != '\0');
	for (i = 0; err[i] != '\0'; i++)
		CHECK(err[i] >= 0x20 && err[i] < 0x7f);
}

/* The invariants of an accepted path, spelled out once more. */
static void
check_accepted_shape(const char *p)
{
	size_t len = strlen(p), start, end, depth = 0;
	char *comp;

	CHECK(len >= 1 && len <= FTX_RPATH_MAX);
	CHECK(p[0] != '/' && p[len - 1] != '/');
	CHECK(strstr(p, "//") == NULL);
	for (start = 0; start <= len; start = end + 1) {
		for (end = start; end < len && p[end] != '/'; end++)
			;
		comp = xstrndup(p + start, end - start);
		CHECK(comp[0] != '\0');
		CHECK(strcmp(comp, ".") != 0 && strcmp(comp, "..") != 0);
		CHECK(proto_name_check(comp, NULL, 0) == 0);
		free(comp);
		depth++;
	}
	CHECK(depth <= FTX_RPATH_DEPTH_MAX);
	CHECK(path_depth(p) == depth);
}

/* path_next over exact-size buffers rebuilds p. */
static void
check_iterate(const char *p)
{
	const char *cur = p, *slash;
	char *rebuilt = xmalloc(strlen(p) + 1), *comp;
	size_t n, o = 0, count = 0;
	int rc;

	for (;;) {
		slash = strchr(cur, '/');
		n = slash != NULL ? (size_t)(slash - cur) : strlen(cur);
		if (n > 0) {
			comp = xmalloc(n);
			CHECK(path_next(&cur, comp, n) == -1);
			free(comp);
		}
		comp = xmalloc(n + 1);
		rc = path_next(&cur, comp, n + 1);
		if (rc == 0) {
			CHECK(n == 0);
			free(comp);
			break;
		}
		CHECK(rc == 1);
		CHECK(strlen(comp) == n && n <= FTX_NAME_MAX);
		if (count > 0)
			rebuilt[o++] = '/';
		memcpy(rebuilt + o, comp, n);
		o += n;
		free(comp);
		count++;
	}
	rebuilt[o] = '\0';
	CHECK(strcmp(rebuilt, p) == 0);
	CHECK(count == path_depth(p));
	free(rebuilt);
}

/* parent and base, join(parent, base) == p, key == p. */
static void
check_helpers(const char *p)
{
	size_t len = strlen(p), plen;
	const char *base = path_base(p);
	char *parent, *out, err[FTX_ERRLEN];

	CHECK(base >= p && base < p + len);
	CHECK(strchr(base, '/') == NULL);
	plen = base == p ? 0 : (size_t)(base - p) - 1;
	parent = xmalloc(plen + 1);
	CHECK(path_parent(parent, plen + 1, p) == 0);
	CHECK(strlen(parent) == plen && memcmp(parent, p, plen) == 0);
	if (plen > 0) {
		char *small = xmalloc(plen);

		CHECK(path_parent(small, plen, p) == -1);
		free(small);
	}
	out = xmalloc(len + 1);
	CHECK(path_join(out, len + 1, parent, base, err, sizeof(err)) == 0);
	CHECK(strcmp(out, p) == 0);
	memset(out, 'x', len + 1);
	CHECK(path_key(out, len + 1, p, err, sizeof(err)) == 0);
	CHECK(strcmp(out, p) == 0);
	CHECK(path_key(out, len, p, err, sizeof(err)) == -1);
	free(out);
	free(parent);
}

static void
check_path(const char *p)
{
	char err[FTX_ERRLEN], err2[FTX_ERRLEN];
	int rc, shape, want;

	err[0] = '\0';
	rc = path_check(p, err, sizeof(err));
	CHECK(rc == 0 || rc == -1);
	want = ref_check(p, 1);
	CHECK((rc == 0) == want);
	err2[0] = '\0';
	shape = path_shape_check(p, err2, sizeof(err2));
	CHECK((shape == 0) == ref_check(p, 0));
	/* SECURITY: the name rules only ever narrow the shape. */
	if (rc == 0)
		CHECK(shape == 0);
	else
		check_reason(err);
	if (shape != 0)
		check_reason(err2);
	/* A plain name is a one-component path. */
	if (strchr(p, '/') == NULL) {
		char e3[FTX_ERRLEN];

		e3[0] = '\0';
		CHECK(proto_name_check(p, e3, sizeof(e3)) == rc);
		CHECK(strcmp(e3, err) == 0);
	}
	if (rc != 0)
		return;
	check_accepted_shape(p);
	check_iterate(p);
	check_helpers(p);
}

/* path_join(dir, name) is exactly the checked concatenation. */
static void
check_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	size_t total = dl + (dl > 0 ? 1 : 0) + nl;
	char *cat = xmalloc(total + 1), *out, err[FTX_ERRLEN];
	int want, rc;

	memcpy(cat, dir, dl);
	if (dl > 0)
		cat[dl] = '/';
	memcpy(cat + total - nl, name, nl);
	cat[total] = '\0';
	want = ref_check(cat, 1) && total <= FTX_RPATH_MAX;
	out = xmalloc(total + 1);
	err[0] = '\0';
	rc = path_join(out, total + 1, dir, name, err, sizeof(err));
	CHECK((rc == 0) == want);
	if (rc == 0) {
		CHECK(strcmp(out, cat) == 0);
		check_accepted_shape(out);
	} else {
		CHECK(out[0] == '\0');
		check_reason(err);
	}
	free(out);
	/* One byte short never fits and never overruns. */
	out = xmalloc(total);
	CHECK(path_join(out, total, dir, name, err, sizeof(err)) == -1);
	free(out);
	free(cat);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const char *nul = memchr(buf, '\0', size), *rest;
	size_t n1 = nul != NULL ? (size_t)(nul - buf) : size, n2;
	char *a, *b;

	a = xstrndup(buf, n1);
	check_path(a);
	if (nul != NULL) {
		rest = nul + 1;
		n2 = size - n1 - 1;
		nul = memchr(rest, '\0', n2);
		if (nul != NULL)
			n2 = (size_t)(nul - rest);
		b = xstrndup(rest, n2);
		check_path(b);
		check_join(a, b);
		check_join(b, a);
		check_join("", b);
		free(b);
	}
	free(a);
	return 0;
}

/*
 * path.h - paths in the store's namespace: names joined by '/'.
 *
 * A path is relative and has exactly one spelling: 1..FTX_RPATH_MAX
 * bytes, at most FTX_RPATH_DEPTH_MAX components separated by single
 * '/', no leading or trailing '/', no empty, "." or ".." component.  A
 * path that is not in this form is refused, never rewritten: "a//b",
 * "./a" or "a/../b" would otherwise be second names for one file (two
 * keys in a hash cache, two objects in a bucket), and "a/../b" is only
 * harmless if "a" is what the rewriter thinks it is.  A plain name is a
 * one-component path, so today's protocol stays valid.
 *
 * Two levels of check.  path_shape_check is the structure alone: what
 * resolution beneath a directory needs (shared/beneath.h), so the
 * store can reach its own dot-named metadata.  path_check adds the name
 * rules of proto_name_check to every component: what a client may name.
 *
 * Pure functions, no I/O and no allocation.  The helpers below take
 * checked paths; on other strings they stay inside their buffers but
 * their answers mean nothing.
 */
#ifndef FTX_PATH_H
#define FTX_PATH_H

#include <stddef.h>

#include "ftx_limits.h"

/*
 * SECURITY: the structure of a path: 1..FTX_RPATH_MAX bytes, no leading
 * or trailing '/', no empty, "." or ".." component, each component at
 * most FTX_NAME_MAX bytes, at most FTX_RPATH_DEPTH_MAX components.  Any
 * other byte is allowed (the name rules are path_check's).  Returns 0,
 * or -1 with a reason that names the bad component by its position
 * (never its bytes, which may be anything).
 */
int path_shape_check(const char *p, char *err, size_t errlen);

/*
 * SECURITY: the single path check: path_shape_check, and every
 * component passes proto_name_check (well-formed UTF-8, no leading
 * '.', no '\\', no C0/C1 or bidi control).  For a string without '/'
 * the verdict is proto_name_check's, and so is the reason.  Returns 0,
 * or -1 with a reason ("path component 2 of 3: name starts with '.'").
 */
int path_check(const char *p, char *err, size_t errlen);

/* The number of components of a checked path ("" has none). */
size_t path_depth(const char *p);

/*
 * Iterate over the components of a checked path: *cur starts at the
 * path; each call copies the next component into comp[compsz], NUL
 * terminated, and moves *cur past it.  Returns 1, 0 at the end, or -1
 * if the component does not fit (*cur is not moved).  A buffer of
 * FTX_NAME_MAX + 1 bytes always fits.
 */
int path_next(const char **cur, char *comp, size_t compsz);

/* The last component of a checked path: a pointer into p. */
const char *path_base(const char *p);

/*
 * The parent of a checked path into out[outsz]: "a/b" for "a/b/c", ""
 * for a one-component path.  Returns 0, or -1 if p is empty or out is
 * too small.
 */
int path_parent(char *out, size_t outsz, const char *p);

/*
 * `dir` (a path, or "" for the top) and `name` (a path) joined into
 * out[outsz].  The result is checked with path_check, so joining can
 * never make a path that is too long, too deep or not canonical.
 * Returns 0, or -1 with a reason (out is then "").
 */
int path_join(char *out, size_t outsz, const char *dir, const char *name,
    char *err, size_t errlen);

/*
 * The one mapping from a path to a storage backend's key, into
 * out[outsz]: the path is checked with path_check, and its key is the
 * path itself.  For the POSIX backend that is what beneath_open
 * resolves component by component under the user's directory; for an
 * object store (S3) a key is any UTF-8 of up to 1024 bytes in which
 * '/' is the delimiter that listing by prefix understands, so folders
 * come for free.  The canonical form is what makes the identity safe:
 * one file, one spelling, one key.  A backend adds its own prefix (a
 * user's area) outside this function.  Returns 0, or -1 with a reason.
 */
int path_key(char *out, size_t outsz, const char *p, char *err, size_t errlen);

#endif /* FTX_PATH_H */

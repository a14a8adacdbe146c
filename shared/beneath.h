/*
 * beneath.h - open a path beneath a directory descriptor, never
 * following a symbolic link.
 *
 * SECURITY: the one way a path from the namespace (shared/path.h)
 * becomes a descriptor.  The path must have the canonical shape
 * (path_shape_check: relative, no "." or ".." component), and no
 * component, the last included, may be a symbolic link: a link planted
 * anywhere in the tree, even one that points back inside it, is refused
 * (ELOOP), never followed.  The kernel enforces it with openat2(2)
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where it has that call; where it
 * does not (ENOSYS before Linux 5.6, EPERM from a seccomp filter that
 * does not know it) the path is walked one component at a time, each
 * directory opened with O_NOFOLLOW and checked to be a directory, the
 * last one opened with O_NOFOLLOW.
 *
 * Errors keep errno for the caller to map: EINVAL (a path of the wrong
 * shape), ENOENT, ENOTDIR (a component that is not a directory), ELOOP
 * (a symbolic link), and whatever open(2) says about the last
 * component (EEXIST, EISDIR, EACCES, ...).  The error text never quotes
 * the path (its bytes may be anything); the walk names the component
 * that failed by its position.
 */
#ifndef FTX_BENEATH_H
#define FTX_BENEATH_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Open `path` beneath `dirfd` with open(2) `flags` (O_CLOEXEC and the
 * refusal of symbolic links are added; O_NOFOLLOW need not be given)
 * and, with O_CREAT, `mode`.  Returns the descriptor, or -1 with errno
 * and a reason.
 */
int beneath_open(int dirfd, const char *path, int flags, mode_t mode, char *err,
    size_t errlen);

/*
 * Open the directory that holds the last component of `path` (dirfd
 * itself, reopened, for a one-component path) for mkdirat, renameat,
 * unlinkat, openat or fsync relative to it, and point *leaf at that
 * last component inside `path`.  With `create`, missing directories on
 * the way are made with mode `dmode` (they are then walked like the
 * others: one that turns out to be a link is still refused).  Returns
 * an O_RDONLY | O_DIRECTORY descriptor the caller closes, or -1 with
 * errno and a reason.
 */
int beneath_opendir_parent(int dirfd, const char *path, int create,
    mode_t dmode, const char **leaf, char *err, size_t errlen);

/* For tests: 1 forces the component walk even where openat2 works, 0
 * goes back to choosing.  Not for production code. */
void beneath_force_walk(int on);

/* 1 if calls would use openat2 (the kernel has it and it is not
 * forced off), else 0.  Tests use it to say which path they covered. */
int beneath_uses_openat2(void);

#endif /* FTX_BENEATH_H */

/*
 * hcache.h - the client's cache of local files' SHA-256 (ftx sync).
 *
 * `ftx sync` compares files by SHA-256; hashing an unchanged tree on
 * every run would read every byte.  The cache remembers a file's digest
 * under what identifies its contents cheaply: device, inode, size and
 * modification time in nanoseconds.  A file whose any of these changed
 * is a miss and is hashed again.
 *
 * It lives in $XDG_CACHE_HOME/ftx/hashes (else ~/.cache/ftx/hashes), one
 * line a file after a version line, written atomically (afile.h) and
 * without fsync: losing it costs a rehash.  A cache that cannot be read
 * or does not parse is ignored as a whole (never trusted for a wrong
 * answer), and it holds at most FTX_HCACHE_MAX entries, the ones used
 * last kept first.
 *
 * SECURITY: a file modified within the same clock tick as its hash was
 * taken could change again without changing its mtime ("racy" entries,
 * as git calls them): such a digest is not stored.
 */
#ifndef FTX_HCACHE_H
#define FTX_HCACHE_H

#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "hash.h"

struct hcache;

/* The default file into out[n]: 0, or -1 without XDG_CACHE_HOME and
 * HOME (the caller then runs without a cache). */
int hcache_default_path(char *out, size_t n);
/* Load the cache at `path` (missing or bad: an empty cache).  NULL only
 * when out of memory or the path is too long. */
struct hcache *hcache_load(const char *path, char *err, size_t errlen);
/* 1 and sha[65] if `sb` (dev, inode, size, mtime) is known, else 0. */
int hcache_get(struct hcache *h, const struct stat *sb, char *sha);
/* Remember `sha` (64 hex digits) for `sb`; `now` decides whether the
 * mtime is too recent to be trusted (then nothing is stored).  0, or -1
 * when out of memory. */
int hcache_put(
    struct hcache *h, const struct stat *sb, const char *sha, time_t now);
/* Entries held. */
size_t hcache_count(const struct hcache *h);
/* Write the cache back (making its directory, mode 0700); 0 or -1. */
int hcache_save(struct hcache *h, char *err, size_t errlen);
void hcache_free(struct hcache *h);

#endif /* FTX_HCACHE_H */

/*
 * store.h - the storage root: the only code that touches stored files.
 *
 * A flat namespace of regular files directly under one root directory,
 * addressed by names that passed proto_name_check().  SECURITY: every
 * access is relative to the root's directory descriptor and never
 * follows a symbolic link (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS
 * where the kernel has it, O_NOFOLLOW otherwise).
 *
 * Uploads go to a hidden temporary (".ftxtmp-<hex>") that is renamed over
 * the final name only once complete and verified, so readers see either
 * the old or the new file, never a partial one.  Each file's SHA-256 (and
 * MD5, once asked for) is cached in "<root>/.ftx/<name>" together with the
 * size, mtime and inode it was computed for; a cache entry that no longer
 * matches is ignored.
 *
 * All functions may block on the disk: call them from worker threads.
 * On failure they return -1, fill `err`, and leave errno describing the
 * cause (ENOENT for a missing file).
 */
#ifndef FTXD_STORE_H
#define FTXD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "hash.h"

#define STORE_TMPNAME_MAX 32

/* Partial uploads are named by a key: 16 hex digits naming the
 * uploader, '-', 32 hex digits naming the upload, NUL. */
#define STORE_POWNER_HEX 16
#define STORE_PKEY_LEN (STORE_POWNER_HEX + 1 + 32 + 1)

struct store {
	int rootfd;
	int metafd;
	int partfd; /* <root>/.ftx/.partial: interrupted uploads */
	mode_t fmode; /* committed files: 0666 & ~umask (store_open) */
};

struct store_entry {
	const char *name;
	uint64_t size;
	time_t mtime;
	int has_sha;
	unsigned char sha[HASH_SHA256_LEN];
};

/* Open (creating if needed) the root and remove stale temporaries.  It
 * reads the process's umask, which changes it for an instant: call it
 * before any thread that creates files starts. */
int store_open(struct store *st, const char *root, char *err, size_t errlen);
void store_close(struct store *st);
/* A user's storage: the directory `name` under the parent's root
 * (created 0700 if missing), with its own hash cache and the parent's
 * partial-upload directory. */
int store_open_sub(const struct store *parent, const char *name,
    struct store *st, char *err, size_t errlen);
/* Bytes in the stored files, leaving out `except` (may be NULL): what
 * a quota counts. */
int store_usage(const struct store *st, const char *except, uint64_t *bytes,
    char *err, size_t errlen);
/* Bytes available to us on the root's file system. */
int store_free_bytes(
    const struct store *st, uint64_t *bytes, char *err, size_t errlen);

/* Open a stored regular file for reading. */
int store_open_read(const struct store *st, const char *name, int *fdp,
    struct stat *sb, char *err, size_t errlen);
/* The file's SHA-256 from the cache, or computed now (and cached). */
int store_sha256(const struct store *st, const char *name, int fd,
    const struct stat *sb, unsigned char *sha, char *err, size_t errlen);

/* The cached hashes of this version of the file, without reading it:
 * 0 with sha filled (and md5, if *has_md5), or -1 if nothing valid is
 * cached. */
int store_cached(const struct store *st, const char *name,
    const struct stat *sb, unsigned char *sha, unsigned char *md5,
    int *has_md5);
/* The file's SHA-256 and MD5 from the cache, or computed now (and cached
 * together). */
int store_md5(const struct store *st, const char *name, int fd,
    const struct stat *sb, unsigned char *sha, unsigned char *md5, char *err,
    size_t errlen);

/* Create a fresh temporary; its name goes to tmpname[STORE_TMPNAME_MAX]. */
int store_tmp_create(
    const struct store *st, char *tmpname, int *fdp, char *err, size_t errlen);
/* fsync the temporary, rename it to `name`, record its hash. */
int store_commit(const struct store *st, const char *tmpname, const char *name,
    int fd, const unsigned char *sha, char *err, size_t errlen);
/* Remove a temporary (best effort). */
void store_discard(const struct store *st, const char *tmpname);

/*
 * Partial uploads (resume, docs/PROTOCOL.md "Resuming").  An upload is
 * written to <root>/.ftx/.partial/<key>, where the key is a hash of the
 * uploader, the name and the total size, so only the same uploader of
 * the same file can find it again (its first part hashes the uploader
 * alone, so an uploader's partials can be counted and capped); it is renamed
 * into place only when complete and verified, and otherwise kept for a later
 * resume.
 */
void store_partial_key(
    char *key, const char *owner, const char *name, uint64_t size);
/* Bytes kept for `key` (0 if none). */
int store_partial_size(const struct store *st, const char *key, uint64_t *size,
    char *err, size_t errlen);
/* Open (creating) the partial for writing and lock it; keep the first
 * `offset` bytes and drop the rest.  errno EBUSY if another transfer
 * holds it, ERANGE if fewer than `offset` bytes are kept. */
int store_partial_open(const struct store *st, const char *key, uint64_t offset,
    int *fdp, char *err, size_t errlen);
/* fsync, rename the partial to `name`, record its hash. */
int store_partial_commit(const struct store *st, const char *key,
    const char *name, int fd, const unsigned char *sha, char *err,
    size_t errlen);
void store_partial_discard(const struct store *st, const char *key);
/* Bytes and count of the partials of key's uploader, leaving out `key`
 * itself: what the uploader's kept partials weigh against a quota. */
int store_partial_usage(const struct store *st, const char *key,
    uint64_t *bytes, size_t *count, char *err, size_t errlen);
/* Delete the oldest unlocked partials of key's uploader (never `key`
 * itself) until at most `keep` others remain, holding at most
 * `keep_bytes` together; how many were deleted. */
int store_partial_trim(
    const struct store *st, const char *key, size_t keep, uint64_t keep_bytes);
/* Delete unlocked partials not written for `ttl_s` seconds; how many. */
int store_partial_expire(const struct store *st, long long ttl_s);

/* The root directory's own status: LIST compares its time stamps to
 * tell whether a listing is still current. */
int store_stat_root(
    const struct store *st, struct stat *sb, char *err, size_t errlen);
/* Call `cb` for each regular file (at most `max`); 0 or -1. */
int store_list(const struct store *st, size_t max,
    int (*cb)(void *arg, const struct store_entry *e), void *arg, char *err,
    size_t errlen);
/* Delete a stored regular file and its cached hash. */
int store_delete(
    const struct store *st, const char *name, char *err, size_t errlen);

#endif /* FTXD_STORE_H */

/*
 * store.h - the storage interface: the only way the daemon touches
 * stored files.
 *
 * A store is a tree of directories and regular files addressed by paths
 * (shared/path.h; every one is checked here with path_check before a
 * backend sees it; "" names the area's top, where an operation says
 * so), plus what
 * a transfer needs around them: a hash cache, partial uploads that can
 * be resumed, and the bytes a quota counts.  What is behind it is a
 * backend chosen at start-up (store_posix.h: a directory tree; store_mem.h:
 * memory, for tests), reached through the operations table in
 * store_impl.h, in the manner of Redis' aeApi backends.  Callers see
 * opaque handles only: no descriptor, struct stat or errno leaves this
 * interface, except the optional descriptor of the sendfile fast path.
 *
 * Uploads are written to a partial (store_part_open), which becomes the
 * stored file only when complete and verified (store_part_commit): a
 * reader sees the old file or the new one, never part of one.  A partial
 * that is not committed is kept for a resume or discarded.
 *
 * Errors: every function returns 0 (or a count) on success and -1 on
 * failure, with `e` filled: a code a caller can decide on and a message
 * it can show (store_code_proto maps the code to the protocol's).
 *
 * All functions may block on the disk: call them from worker threads,
 * except store_partial_key and store_code_proto.
 *
 * Object storage (store_s3.h) keeps this contract with five
 * differences, each a fact of S3 and each tested (test_store.c runs one
 * contract on every backend): a partial takes its bytes in order
 * (STORE_IO otherwise) and stores them with each part or at its close,
 * so store_partial_size does not count a claimed partial's buffered
 * bytes; a reader of a file replaced after the open gets
 * STORE_CHANGED, not the old bytes (no versioning is assumed); the
 * flat store_list carries no SHA-256 (walks and lookups do); and
 * store_root_stat never gives one version twice (another node may
 * change the namespace unseen).
 */
#ifndef FTXD_STORE_H
#define FTXD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "ftx_limits.h"
#include "ftxerr.h"
#include "hash.h"

/* Partial uploads are named by a key: 16 hex digits naming the
 * uploader, '-', 32 hex digits naming the upload, NUL. */
#define STORE_POWNER_HEX 16
#define STORE_PKEY_LEN (STORE_POWNER_HEX + 1 + 32 + 1)
/* An opaque version string: equal strings mean the same contents. */
#define STORE_VERSION_MAX 96

enum store_code {
	STORE_OK = 0,
	STORE_NOTFOUND, /* no such file (or not a regular file) */
	STORE_BUSY, /* another transfer holds the partial */
	STORE_RANGE, /* an offset beyond what is kept */
	STORE_NOSPACE, /* disk (or backend) full */
	STORE_TAKEN, /* the name is taken by something not a file */
	STORE_CHANGED, /* the file changed while we read it */
	STORE_TOOMANY, /* a listing over its bound */
	STORE_BADPATH, /* not a path this store takes (shared/path.h) */
	STORE_EXISTS, /* the target exists (mkdir, rename) */
	STORE_NOTEMPTY, /* rmdir of a directory that is not empty */
	STORE_NOTDIR, /* a directory was expected; or a component is a file */
	STORE_ISDIR, /* a file was expected; the path is a directory */
	STORE_IO /* anything else */
};

struct store_err {
	enum store_code code;
	char msg[FTX_ERRLEN];
};

/* What a caller may know of a stored file (or, for the root, of the
 * namespace as a whole). */
struct store_stat {
	uint64_t size;
	time_t mtime;
	/* Changes whenever the contents may have: the hash cache and LIST
	 * snapshots are valid only for the version they were made for. */
	char version[STORE_VERSION_MAX];
	/* When the namespace last changed (store_root_stat only), in ms of
	 * the real-time clock: LIST shares a snapshot only once it has
	 * settled. */
	long long changed_ms;
};

/* One entry of a listing or a walk, or what store_lookup found. */
struct store_entry {
	/* store_list: the name; a walk: the path below the walk's start
	 * (a walk of a file: its base name); store_lookup: the path asked
	 * for.  Valid until the next call on the same walk. */
	const char *name;
	int is_dir;
	uint64_t size; /* 0 for a directory */
	time_t mtime;
	int has_sha;
	unsigned char sha[HASH_SHA256_LEN];
};

struct store; /* an open store (a user's area or the root) */
struct store_file; /* a stored file open for reading */
struct store_part; /* a partial upload open for writing */

/* A user's own area: private to the user, absent from the parent's
 * namespace, sharing the parent's partial uploads (keys name the
 * uploader). */
int store_open_sub(const struct store *parent, const char *user,
    struct store **stp, struct store_err *e);
void store_close(struct store *st);

/* Bytes in the stored files, in every directory, leaving out `except`
 * (a path; may be NULL): what a quota counts. */
int store_usage(const struct store *st, const char *except, uint64_t *bytes,
    struct store_err *e);
/* Bytes the backend can still take. */
int store_free_bytes(
    const struct store *st, uint64_t *bytes, struct store_err *e);
/* The namespace's version: LIST compares it to tell whether a listing
 * is still current. */
int store_root_stat(
    const struct store *st, struct store_stat *sb, struct store_err *e);
/* Call `cb` for each stored file of the top directory (the flat LIST of
 * older clients), at most `max` of them (any further are left out); a
 * callback returning -1 fails it (STORE_TOOMANY). */
int store_list(const struct store *st, size_t max,
    int (*cb)(void *arg, const struct store_entry *e), void *arg,
    struct store_err *e);
/* Delete a stored file and its cached hashes (STORE_ISDIR for a
 * directory). */
int store_delete(const struct store *st, const char *name, struct store_err *e);

/*
 * Folders.  Paths are checked with path_check; a component that is a
 * symbolic link or not a directory is never followed (STORE_NOTDIR, or
 * STORE_NOTFOUND for a link), so nothing outside the area is reached.
 */
/* What `path` is ("" for the top: a directory): type, size, mtime, and
 * the SHA-256 of a file when the cache has it.  out->name is `path`. */
int store_lookup(const struct store *st, const char *path,
    struct store_entry *out, struct store_err *e);
/* Make the directory `path`.  Without `parents`: STORE_EXISTS if it
 * exists, STORE_NOTFOUND if its parent does not.  With `parents`
 * (mkdir -p): missing parents are made and an existing directory is
 * success.  STORE_NOTDIR if a component, or `path` itself, is a file. */
int store_mkdir(
    const struct store *st, const char *path, int parents, struct store_err *e);
/* Remove the empty directory `path` (never ""): STORE_NOTEMPTY,
 * STORE_NOTFOUND, STORE_NOTDIR.  Metadata the store keeps inside it
 * (cached hashes of files long gone) does not make it non-empty. */
int store_rmdir(const struct store *st, const char *path, struct store_err *e);
/*
 * Rename `from` to `to` in one atomic step; a directory moves with
 * everything in it, cached hashes follow their files.  `to`'s parent
 * must exist (STORE_NOTFOUND).  STORE_EXISTS if `to` exists and not
 * `replace`; with `replace` a file replaces a file and a directory an
 * empty directory (STORE_ISDIR, STORE_NOTDIR, STORE_NOTEMPTY
 * otherwise).  STORE_BADPATH for a directory into itself or below
 * itself, and for "" on either side.  Renaming a path onto itself is
 * success.
 */
int store_rename(const struct store *st, const char *from, const char *to,
    int replace, struct store_err *e);

/*
 * Walks: a listing streamed in pieces, holding O(depth) state, never the
 * whole listing.  store_walk_open(path "" or a directory) lists what is
 * in it, every level below too when `recursive` (pre-order: a directory
 * comes before what it holds); a file path gives that one file.  Dot
 * names, symbolic links, special files and names that break the name
 * rules are left out; so is anything deeper than FTX_RPATH_DEPTH_MAX
 * components from the top.  Entries come in the backend's order.  A
 * walk is used by one thread at a time (a session's jobs run one after
 * another).  Entries added or removed meanwhile may or may not be seen,
 * never twice.
 */
struct store_walk;
int store_walk_open(const struct store *st, const char *path, int recursive,
    struct store_walk **wp, struct store_err *e);
/* 1 with `out` filled, 0 at the end, -1 on an error. */
int store_walk_next(
    struct store_walk *w, struct store_entry *out, struct store_err *e);
void store_walk_close(struct store_walk *w);

/* Make everything written to the store so far durable (POSIX: one
 * syncfs(2) for the file system): batched commits pay one flush per
 * batch instead of one per file and directory. */
int store_flush(const struct store *st, struct store_err *e);

/* Open a stored file for reading; sb describes the version opened. */
int store_read_open(const struct store *st, const char *name,
    struct store_file **fp, struct store_stat *sb, struct store_err *e);
/* Up to n bytes at `off`: how many (0 at the end), or -1. */
ssize_t store_read_at(struct store_file *f, void *buf, size_t n, uint64_t off,
    struct store_err *e);
/* A descriptor for sendfile(2), or -1 when the backend has none; valid
 * until store_read_close. */
int store_read_fd(const struct store_file *f);
void store_read_close(struct store_file *f);
/* The cached hashes of this version, without reading it: 0 with sha
 * filled (and md5, if *has_md5), or -1 if nothing valid is cached. */
int store_cached(const struct store_file *f, unsigned char *sha,
    unsigned char *md5, int *has_md5);
/* The SHA-256 (and MD5 when `md5` is not NULL) from the cache, or
 * computed now by reading the file, and cached. */
int store_hash(struct store_file *f, unsigned char *sha, unsigned char *md5,
    struct store_err *e);

/*
 * Partial uploads (resume, docs/PROTOCOL.md "Resuming").  A key is a
 * hash of the uploader, the name and the total size, so only the same
 * uploader of the same file can find it again; its first part hashes the
 * uploader alone, so an uploader's partials can be counted and capped.
 */
void store_partial_key(
    char *key, const char *owner, const char *name, uint64_t size);
/* Bytes kept for `key` (0 if none). */
int store_partial_size(const struct store *st, const char *key, uint64_t *size,
    struct store_err *e);
/* Open (creating) the partial for writing, claimed for this transfer
 * alone, keeping its first `offset` bytes.  STORE_BUSY if another
 * transfer holds it, STORE_RANGE if fewer than `offset` bytes are kept. */
int store_part_open(const struct store *st, const char *key, uint64_t offset,
    struct store_part **wp, struct store_err *e);
/* Write n bytes at `off` (all of them, or -1). */
int store_part_write_at(struct store_part *w, const void *buf, size_t n,
    uint64_t off, struct store_err *e);
/* Read kept bytes back (to hash them on a resume); as store_read_at. */
ssize_t store_part_read_at(struct store_part *w, void *buf, size_t n,
    uint64_t off, struct store_err *e);
/* store_part_commit's flags. */
/* The bytes were made durable by store_flush already: no flush here. */
#define STORE_COMMIT_FLUSHED 0x1
/* The caller calls store_flush afterwards: the rename need not be made
 * durable here (the file is visible at once, durable after the flush). */
#define STORE_COMMIT_NOSYNC 0x2
/* Make the partial durable and then visible as `name` (missing parent
 * directories are made), its SHA-256 cached and its modification time
 * `mtime` (or the time of the commit if mtime is -1).  STORE_ISDIR if a
 * directory holds the name, STORE_NOTDIR if a parent component is a
 * file, STORE_TAKEN if something else does. */
int store_part_commit(struct store_part *w, const char *name,
    const unsigned char *sha, time_t mtime, unsigned flags,
    struct store_err *e);
/* What the partial is for, when the caller knows it before the bytes:
 * the name it will be committed as, the SHA-256 the uploader claims
 * (NULL if unknown) and the mtime.  A backend may use it to write the
 * bytes where they will stay (S3: a multipart upload of the final
 * object); committing under another name still works. */
void store_part_hint(struct store_part *w, const char *name,
    const unsigned char *sha, time_t mtime);
/* The SHA-256 state (hash_state_save) after the bytes kept when the
 * partial was opened, when the backend keeps one: 0, or -1 (then hash
 * the kept bytes with store_part_read_at). */
int store_part_hash_state(struct store_part *w, unsigned char *state);
/* Release the claim; `keep` 0 deletes the partial (a committed one is
 * gone already). */
void store_part_close(struct store_part *w, int keep);
/* Bytes and count of the partials of key's uploader, leaving out `key`
 * itself: what the uploader's kept partials weigh against a quota. */
int store_partial_usage(const struct store *st, const char *key,
    uint64_t *bytes, size_t *count, struct store_err *e);
/* Delete the oldest unclaimed partials of key's uploader (never `key`
 * itself) until at most `keep` others remain, holding at most
 * `keep_bytes` together; how many were deleted. */
int store_partial_trim(
    const struct store *st, const char *key, size_t keep, uint64_t keep_bytes);
/* Delete unclaimed partials not written for `ttl_s` seconds; how many. */
int store_partial_expire(const struct store *st, long long ttl_s);

/* The protocol's error code for a storage error (shared/ftxerr.h),
 * and its name ("NOTFOUND", ...). */
enum ftx_err store_code_err(enum store_code code);
const char *store_code_proto(enum store_code code);
/* Fill `e` (a printf format); always -1, for `return store_fail(...)`. */
int store_fail(struct store_err *e, enum store_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* FTXD_STORE_H */

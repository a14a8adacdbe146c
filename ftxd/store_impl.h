/*
 * store_impl.h - what a storage backend implements.  Only store.c and
 * the backends (store_posix.c, store_mem.c) include this; everyone else
 * sees the opaque handles of store.h.
 *
 * A backend's own structures begin with the common part below, so the
 * front end (store.c) can find the operations of any handle.  Every
 * operation has the contract of the store.h function of the same name;
 * none may be NULL except read_fd (no sendfile fast path), part_hint
 * and part_hash_state.
 */
#ifndef FTXD_STORE_IMPL_H
#define FTXD_STORE_IMPL_H

#include "store.h"

struct store_ops;

struct store {
	const struct store_ops *ops;
};

struct store_file {
	const struct store *st;
	uint64_t size; /* of the version opened */
};

struct store_part {
	const struct store *st;
};

struct store_walk {
	const struct store *st;
};

struct store_ops {
	const char *name;
	int (*open_sub)(const struct store *parent, const char *user,
	    struct store **stp, struct store_err *e);
	void (*close)(struct store *st);
	int (*usage)(const struct store *st, const char *except,
	    uint64_t *bytes, struct store_err *e);
	int (*free_bytes)(
	    const struct store *st, uint64_t *bytes, struct store_err *e);
	int (*root_stat)(
	    const struct store *st, struct store_stat *sb, struct store_err *e);
	int (*list)(const struct store *st, size_t max,
	    int (*cb)(void *arg, const struct store_entry *e), void *arg,
	    struct store_err *e);
	int (*del)(
	    const struct store *st, const char *name, struct store_err *e);

	/* Folders: paths passed path_check (lookup and walk_open may get
	 * "", the top); rename never gets equal paths nor a directory
	 * into itself (the front end answers those). */
	int (*lookup)(const struct store *st, const char *path,
	    struct store_entry *out, struct store_err *e);
	int (*mkdir)(const struct store *st, const char *path, int parents,
	    struct store_err *e);
	int (*rmdir)(
	    const struct store *st, const char *path, struct store_err *e);
	int (*rename)(const struct store *st, const char *from, const char *to,
	    int replace, struct store_err *e);
	int (*walk_open)(const struct store *st, const char *path,
	    int recursive, struct store_walk **wp, struct store_err *e);
	int (*walk_next)(
	    struct store_walk *w, struct store_entry *out, struct store_err *e);
	void (*walk_close)(struct store_walk *w);
	int (*flush)(const struct store *st, struct store_err *e);

	int (*read_open)(const struct store *st, const char *name,
	    struct store_file **fp, struct store_stat *sb, struct store_err *e);
	ssize_t (*read_at)(struct store_file *f, void *buf, size_t n,
	    uint64_t off, struct store_err *e);
	int (*read_fd)(const struct store_file *f);
	void (*read_close)(struct store_file *f);
	/* The hash cache of the file `f` opened: get, put (md5 may be
	 * NULL).  A failed put only costs a re-hash later. */
	int (*meta_get)(const struct store_file *f, unsigned char *sha,
	    unsigned char *md5, int *has_md5);
	void (*meta_put)(struct store_file *f, const unsigned char *sha,
	    const unsigned char *md5);

	int (*partial_size)(const struct store *st, const char *key,
	    uint64_t *size, struct store_err *e);
	int (*part_open)(const struct store *st, const char *key,
	    uint64_t offset, struct store_part **wp, struct store_err *e);
	int (*part_write_at)(struct store_part *w, const void *buf, size_t n,
	    uint64_t off, struct store_err *e);
	ssize_t (*part_read_at)(struct store_part *w, void *buf, size_t n,
	    uint64_t off, struct store_err *e);
	int (*part_commit)(struct store_part *w, const char *name,
	    const unsigned char *sha, time_t mtime, unsigned flags,
	    struct store_err *e);
	void (*part_close)(struct store_part *w, int keep);
	/* Optional (NULL: no such help). */
	void (*part_hint)(struct store_part *w, const char *name,
	    const unsigned char *sha, time_t mtime);
	int (*part_hash_state)(struct store_part *w, unsigned char *state);
	/* Call `cb` for every partial: its key, size and last write (ns
	 * of the real-time clock); a callback returning -1 stops the scan
	 * (which still succeeds). */
	int (*partial_scan)(const struct store *st,
	    int (*cb)(
		void *arg, const char *key, uint64_t size, long long mtime_ns),
	    void *arg, struct store_err *e);
	/* Delete the partial `key` unless a transfer claims it: 1 deleted,
	 * 0 not. */
	int (*partial_drop)(const struct store *st, const char *key);
};

#endif /* FTXD_STORE_IMPL_H */

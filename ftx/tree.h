/*
 * tree.h - whole trees: ftx put -r, get -r and sync.
 *
 * A tree transfer is a list on each side, a plan, and the work:
 *
 *  1. The source and the destination as sorted lists of entries (path
 *     relative to the tree's top, type, size, mtime, SHA-256 when
 *     known): the local side by a walk (tree_walk: opendir and fstatat,
 *     symbolic links skipped unless followed, special files and names
 *     the protocol refuses skipped with a notice), the server's by
 *     `LS <path> recursive=1` (tree_ls, over ops_ls_stream).
 *  2. The plan (tree_plan, pure): directories to make, files to send
 *     (for sync only those whose SHA-256 differs: sizes first, then
 *     digests from the hash cache or the server), and with --delete the
 *     destination's entries the source lacks, deepest first.
 *  3. The work (tree_run): deletions, directories, then the files:
 *     small ones (at most FTX_BATCH_SMALL_MAX) in batches over one data
 *     connection (batch.h), large ones through the resumable single-file
 *     path (transfer.h).  Downloads are written to temporaries beside
 *     their final names, verified, given their mtime, flushed once per
 *     batch with syncfs(2) and renamed into place.
 */
#ifndef FTX_TREE_H
#define FTX_TREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl.h"
#include "hash.h"
#include "ui.h"

/* One file or directory of a tree. */
struct tree_ent {
	char *path; /* below the tree's top: "a/b.txt" */
	char type; /* 'f' or 'd' */
	uint64_t size;
	int64_t mtime; /* seconds since the epoch */
	int has_sha;
	char sha[HASH_SHA256_HEXLEN + 1];
	/* A local file: what the hash cache keys on. */
	int has_stat;
	uint64_t dev, ino;
	int64_t mtime_ns;
};

/* A tree: entries sorted by path (strcmp) once complete. */
struct tree_list {
	struct tree_ent *v;
	size_t n, cap;
	/* Entries a local walk found but could not read (a failed stat,
	 * a directory that would not open or list): the list is not the
	 * whole tree, so --delete must not trust it. */
	size_t errors;
};

/* Add an entry (the path is copied); 0, or -1 when out of memory or
 * past FTX_TREE_ENTRIES_MAX. */
int tree_add(struct tree_list *l, const char *path, char type, uint64_t size,
    int64_t mtime, const char *sha);
/* Sort by path. */
void tree_sort(struct tree_list *l);
void tree_list_free(struct tree_list *l);

/* Walk the local directory `root` into `l` (sorted).  `follow`: follow
 * symbolic links (-L; a link that leads back up the tree is skipped);
 * `notices`: say on stderr what is skipped and why.  `rprefix` is the
 * remote path the tree goes to ("" for the top): an entry whose remote
 * path would be too long or too deep is skipped too.  0, or -1 with
 * err (the top cannot be read); l->errors counts what could not be read
 * below the top (a name gone before its stat, without -L, is not). */
int tree_walk(const char *root, int follow, int notices, const char *rprefix,
    struct tree_list *l, char *err, size_t errlen);

/* `LS rpath recursive=1` into `l` (sorted).  An exit code; a missing
 * directory is EXITCODE_REFUSED with *notfound set. */
int tree_ls(struct ctl *c, const char *rpath, struct tree_list *l,
    int *notfound, char *err, size_t errlen);

/* The plan's flags. */
#define TREE_COMPARE 0x1 /* skip files whose content is there already */
#define TREE_DELETE 0x2 /* delete what the source does not have */

/* Fill e->sha (and has_sha) of a source (`src` 1) or destination file;
 * 0, or -1 with err (the plan then fails). */
typedef int (*tree_sha_fn)(
    void *arg, struct tree_ent *e, int src, char *err, size_t errlen);

struct tree_plan {
	struct tree_ent **mkdir; /* source directories to make, in order */
	size_t nmkdir;
	struct tree_ent **send; /* source files to transfer */
	size_t nsend;
	struct tree_ent **del; /* destination entries, deepest first */
	size_t ndel;
	size_t nskip; /* files already there */
	size_t nconflict; /* a file on one side, a directory on the other,
			     without TREE_DELETE: reported, not touched */
	size_t nheld; /* TREE_DELETE held back: src->errors */
	uint64_t send_bytes;
};

/* Compare two sorted lists.  `sha` is called only for files present on
 * both sides with equal sizes (TREE_COMPARE).  A source with read
 * errors (src->errors) deletes nothing, TREE_DELETE or not: p->nheld
 * says so.  0, or -1 with err. */
int tree_plan(const struct tree_list *src, const struct tree_list *dst,
    int flags, tree_sha_fn sha, void *arg, struct tree_plan *p, char *err,
    size_t errlen);
void tree_plan_free(struct tree_plan *p);

/* What tree_run does. */
struct tree_opts {
	int up; /* 1: local -> server, 0: server -> local */
	const char *local; /* the local directory */
	const char *remote; /* the server's directory; "." is the top */
	int follow; /* -L */
	int flags; /* TREE_COMPARE, TREE_DELETE */
	int dry_run; /* print "send PATH", "delete PATH"; change nothing */
	int json; /* one JSON summary object on stdout */
	const char *hcache; /* the hash cache file, or NULL for none */
};

/* What was done. */
struct tree_stats {
	uint64_t sent, skipped, deleted, failed;
	uint64_t busy; /* of the failed: BUSY (another transfer had the
			  file; worth running again) */
	uint64_t bytes; /* file bytes transferred */
	double seconds;
};

/* The whole tree transfer; an exit code (the first failure's), err
 * holding the last failure's message (already printed). */
int tree_run(struct ctl *c, const struct ui *u, const struct tree_opts *o,
    struct tree_stats *st, char *err, size_t errlen);
/* The summary: one JSON object, or one line for people. */
void tree_summary(
    const struct ui *u, const struct tree_opts *o, const struct tree_stats *st);
#endif /* FTX_TREE_H */

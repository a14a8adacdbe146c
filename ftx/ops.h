/*
 * ops.h - the non-transfer commands: ls, rm, hash, stats.
 *
 * Each returns an exit code (enum exitcode) and fills `err` with one line
 * for "ftx: <err>".  Names are already checked with proto_name_check.
 */
#ifndef FTX_OPS_H
#define FTX_OPS_H

#include <stddef.h>

#include "ctl.h"
#include "rpl.h"
#include "ui.h"

/*
 * Called for each entry of an LS reply as it arrives; e->path is below
 * the listed directory and has passed path_check.  Return 0 to go on,
 * -1 to stop: the rest of the listing is then abandoned with the
 * session (ctl_drop; the next command reconnects).
 */
typedef int (*ops_entry_fn)(void *arg, const struct rpl_entry *e);

/*
 * LS <path> [recursive=1] ("." is the top), streamed: `cb` sees every
 * entry as it arrives and nothing is kept, so a listing of any size
 * takes constant memory.  Checks that DONE's count is the number of
 * entries seen.  The exit code: EXITCODE_OK, the refusal's (ERROR
 * before or instead of DONE), EXITCODE_FAIL for a lost connection or a
 * lying server, or when `cb` stopped the listing (err says "stopped").
 * The caller checks ops_need_folders first.
 */
int ops_ls_stream(struct ctl *c, const char *path, int recursive,
    ops_entry_fn cb, void *arg, char *err, size_t errlen);

/* EXITCODE_OK if the session's server has folders, else
 * EXITCODE_REFUSED and "server does not support folders (it is older
 * than ftxd 0.3)".  The session must be open (ctl_ensure). */
int ops_need_folders(const struct ctl *c, char *err, size_t errlen);

/* Print size, local mtime and name of every file (sha256 with `lng`). */
int ops_ls(
    struct ctl *c, const struct ui *u, int lng, char *err, size_t errlen);
/* Delete one file; "deleted NAME" unless --quiet. */
int ops_rm(struct ctl *c, const struct ui *u, const char *name, char *err,
    size_t errlen);
/* Ask the server for a file's hashes (MD5 too with `md5`).  *sha256 and
 * *md5 (may be NULL) receive 65 / 33 bytes. */
int ops_hash_get(struct ctl *c, const char *name, int md5, char *sha256,
    char *md5hex, char *err, size_t errlen);
/* Print "<sha256>  <name>" (and "<md5>  <name>"), sha256sum -c style. */
int ops_hash(struct ctl *c, const struct ui *u, const char *name, int md5,
    char *err, size_t errlen);
/* Ask for the server's STATS and print them one per line, readably
 * (with `raw`, the key=value pairs as sent). */
int ops_stats(
    struct ctl *c, const struct ui *u, int raw, char *err, size_t errlen);

/* --- folders (the caller checks ops_need_folders) --- */

/* Print one entry: size ("-" for a directory), local mtime, SHA-256
 * with `lng` ("-" if not known yet), `path` ('/' after a directory). */
void ops_entry_print(const struct rpl_entry *e, const char *path, int lng);
/* `ftx ls [-R] PATH`: the entries below `path` ("." the top) as they
 * arrive, relative to it. */
int ops_ls_path(struct ctl *c, const struct ui *u, const char *path,
    int recursive, int lng, char *err, size_t errlen);
/* MKDIR (parents=1 with `parents`); "created PATH/" unless --quiet. */
int ops_mkdir(struct ctl *c, const struct ui *u, const char *path, int parents,
    char *err, size_t errlen);
/* RMDIR of an empty directory; "removed PATH/". */
int ops_rmdir(struct ctl *c, const struct ui *u, const char *path, char *err,
    size_t errlen);
/* MOVE (replace=1 with `force`); "moved FROM -> TO". */
int ops_mv(struct ctl *c, const struct ui *u, const char *from, const char *to,
    int force, char *err, size_t errlen);
/* STAT into *e, checked to answer for `path`. */
int ops_stat_get(struct ctl *c, const char *path, struct rpl_entry *e,
    char *err, size_t errlen);
/* `ftx stat PATH`: the entry printed as `ls --long` prints it. */
int ops_stat(struct ctl *c, const struct ui *u, const char *path, char *err,
    size_t errlen);
/*
 * `ftx rm -r PATH`: a file is deleted; a directory's files are deleted
 * as recursive listings find them (FTX_RMTREE_BATCH a round, so memory
 * stays bounded whatever the tree's size), then its directories,
 * deepest first, and the directory itself.  "deleted PATH/ (N files)".
 */
int ops_rm_tree(struct ctl *c, const struct ui *u, const char *path, char *err,
    size_t errlen);

#endif /* FTX_OPS_H */

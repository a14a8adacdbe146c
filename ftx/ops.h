/*
 * ops.h - the non-transfer commands: ls, rm, hash, stats.
 *
 * Each returns an exit code (enum exitcode) and fills `err` with one line
 * for "ftx: <err>".  Names are already checked with proto_name_check.
 */
#ifndef FTX_OPS_H
#define FTX_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ctl.h"
#include "rpl.h"
#include "ui.h"

/*
 * What ls, stat, hash and stats print, OR-ed (0: the plain text).
 * OPS_LONG is 1, so a caller's old "long" flag (0 or 1) still reads
 * right.  With OPS_JSON every entry, file or reply is one JSON object
 * on a line of stdout (json.h): raw numbers (bytes, seconds since the
 * epoch), never the formatted units, so OPS_HUMAN does not apply.
 */
#define OPS_LONG 0x1 /* ls: the SHA-256 too */
#define OPS_HUMAN 0x2 /* sizes as "1.5 MiB" (progress_bytes) */
#define OPS_JSON 0x4 /* JSON Lines instead of the text */
#define OPS_NAMES 0x8 /* ls -1: the paths only, '/' after a directory */
#define OPS_MD5 0x8 /* hash: the MD5 too */
#define OPS_RAW 0x10 /* stats: the key=value pairs as sent */

/*
 * The JSON objects (appended to `out`, no newline; 0, or -1 with
 * nothing appended on the buffer's cap or memory):
 *	{"path":P,"type":"file"|"dir","size":N,"mtime":S,"sha256":H|null}
 *	{"path":P,"size":N,"sha256":H,"md5":H|null}	(md5 with `md5`)
 *	{"KEY":N,...}	every STATS field as the server sent it
 */
int ops_entry_json(
    struct buf *out, const struct rpl_entry *e, const char *path);
int ops_hash_json(struct buf *out, const struct rpl_hash *h, int md5);
int ops_stats_json(struct buf *out, const struct rpl_stats *st);
/* A size as ls prints it: "1536", or "1.5 KiB" with `human`; 0 or -1. */
int ops_size_text(char *out, size_t n, uint64_t v, int human);

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

/* Print size, local mtime and name of every file (the SHA-256 with
 * OPS_LONG; `flags` as above). */
int ops_ls(
    struct ctl *c, const struct ui *u, int flags, char *err, size_t errlen);
/* Delete one file; "deleted NAME" unless --quiet. */
int ops_rm(struct ctl *c, const struct ui *u, const char *name, char *err,
    size_t errlen);
/* Ask the server for a file's hashes (MD5 too with `md5`).  *sha256 and
 * *md5 (may be NULL) receive 65 / 33 bytes. */
int ops_hash_get(struct ctl *c, const char *name, int md5, char *sha256,
    char *md5hex, char *err, size_t errlen);
/* Print "<sha256>  <name>" (and "<md5>  <name>" with OPS_MD5),
 * sha256sum -c style, or the JSON object with OPS_JSON. */
int ops_hash(struct ctl *c, const struct ui *u, const char *name, int flags,
    char *err, size_t errlen);
/* Ask for the server's STATS and print them one per line, readably
 * (OPS_RAW: the key=value pairs as sent; OPS_JSON: one object). */
int ops_stats(
    struct ctl *c, const struct ui *u, int flags, char *err, size_t errlen);

/* --- folders (the caller checks ops_need_folders) --- */

/* Print one entry: size ("-" for a directory), local mtime, SHA-256
 * with OPS_LONG ("-" if not known yet), `path` ('/' after a directory);
 * or its JSON object with OPS_JSON.  0, or -1 (cap or write error). */
int ops_entry_print(const struct rpl_entry *e, const char *path, int flags);
/* `ftx ls [-R] PATH`: the entries below `path` ("." the top) as they
 * arrive, relative to it. */
int ops_ls_path(struct ctl *c, const struct ui *u, const char *path,
    int recursive, int flags, char *err, size_t errlen);
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
/* `ftx stat PATH`: the entry printed as `ls --long` prints it (or its
 * JSON object with OPS_JSON). */
int ops_stat(struct ctl *c, const struct ui *u, const char *path, int flags,
    char *err, size_t errlen);
/*
 * `ftx rm -r PATH`: a file is deleted; a directory's files are deleted
 * as recursive listings find them (FTX_RMTREE_BATCH a round, so memory
 * stays bounded whatever the tree's size), then its directories,
 * deepest first, and the directory itself.  "deleted PATH/ (N files)".
 */
int ops_rm_tree(struct ctl *c, const struct ui *u, const char *path, char *err,
    size_t errlen);

#endif /* FTX_OPS_H */

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
#include "ui.h"

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

#endif /* FTX_OPS_H */

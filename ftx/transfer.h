/*
 * transfer.h - verified, resumable uploads and downloads.
 *
 * Both directions hash every byte with SHA-256 while it streams (on a
 * second thread for large files, see hpipe.h), so nothing is read twice.
 * A download goes to a hidden partial file in the target directory and
 * is renamed over the final name only after its hash matched; an
 * existing local file of that name is never touched before that.
 *
 * Resuming (docs/PROTOCOL.md, "Resuming") is the default, as with lftp
 * and `curl -C -`; TRANSFER_NO_RESUME starts over:
 *   - A download's partial has a name derived from the file name,
 *     ".ftx-part-<32 hex>", and an info file ".ftx-part-<32 hex>.info"
 *     recording the server's SHA-256 and size it belongs to.  An
 *     interrupted download keeps both, so the same `ftx get` again (and
 *     every automatic retry) asks only for the missing bytes, after
 *     checking with HASH that the file did not change on the server.
 *     Bytes that failed verification are discarded.
 *   - An upload asks the server how much it kept (PARTIAL) and sends
 *     the rest; the final digest always covers the whole file.
 *   - Transient failures (a lost or refused connection, a dropped data
 *     connection, ERROR SHORT/TIMEOUT/SHUTDOWN/BUSY/LIMIT, an integrity
 *     failure) are retried transfer_retries() times with exponential
 *     backoff, each retry reported on stderr.
 *
 * Each transfer function returns an exit code (enum exitcode) and fills
 * `err` with one line for "ftx: <err>".
 */
#ifndef FTX_TRANSFER_H
#define FTX_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "hash.h"
#include "ftx_limits.h"
#include "ui.h"

/* transfer_put_opt/transfer_get_opt flags.  Resuming is the default:
 * TRANSFER_RESUME is still accepted (put/get --resume) and changes
 * nothing; TRANSFER_NO_RESUME (--no-resume) starts the first attempt
 * over.  TRANSFER_NO_CLOBBER (--no-clobber) leaves an existing
 * destination alone; TRANSFER_SKIP_SAME (--skip-same) skips a file whose
 * destination has the same SHA-256.  Either reports "skipped". */
#define TRANSFER_RESUME 1
#define TRANSFER_NO_RESUME 2
#define TRANSFER_NO_CLOBBER 4
#define TRANSFER_SKIP_SAME 8

/* ".ftx-part-" + 32 hex digits + ".info" + NUL, rounded up. */
#define TRANSFER_PART_MAX 64
/* One info line: "v1 <sha256> <size> <percent-encoded name>\n". */
#define TRANSFER_INFO_MAX                                                      \
	(3 + HASH_SHA256_HEXLEN + 1 + 20 + 1 + FTX_RPATH_MAX * 3 + 2)

/* Keep (rather than remove) a download's partial if SIGINT, SIGTERM or
 * SIGHUP ends us, so it can be resumed; a non-resumable temporary is
 * removed.  During a transfer the signal also prints where it stopped
 * and what to do ("interrupted at 67% (203.0 MiB of 300.0 MiB); run the
 * same command again to resume"); then we die of it (exit 130, 143). */
void transfer_signals(void);
/*
 * Where data connections go: NULL or "control" (the default) means the
 * host of the control connection; "advertised" means the host= the
 * server advertises with --public-host (the control host if it sends
 * none); anything else is a host name or address to use.  `spec` must
 * outlive the transfers.
 */
void transfer_data_host(const char *spec);
/* Automatic retries after a transient failure (ftx --retries N). */
void transfer_retries(int n);
/* Connect (or keep the session), retrying like a transfer would. */
int transfer_connect(struct ctl *c, const char *what, char *err, size_t errlen);
/* Create `dir` (and its parents, mode 0755) if missing and open it. */
int transfer_open_dir(const char *dir, int *dirfd, char *err, size_t errlen);
/* The part of `path` after its last '/': the name a file is stored
 * under by default. */
const char *transfer_basename(const char *path);
/* Upload the regular file at `path` under `name` (already checked). */
int transfer_put(struct ctl *c, const struct ui *u, const char *path,
    const char *name, char *err, size_t errlen);
int transfer_put_opt(struct ctl *c, const struct ui *u, const char *path,
    const char *name, int flags, char *err, size_t errlen);
/*
 * put - --as NAME: upload standard input under `name`, streamed (size
 * unknown; the server's `stream` capability, docs/PROTOCOL.md).  Bytes
 * read from stdin cannot be read again: once one was, a failure is
 * final.  Only TRANSFER_NO_CLOBBER applies.
 */
int transfer_put_stdin(struct ctl *c, const struct ui *u, const char *name,
    int flags, char *err, size_t errlen);
/*
 * get NAME -o -: the file's bytes on standard output, hashed as they go.
 * They are written before the digest can be checked: a mismatch is
 * EXITCODE_INTEGRITY with a message saying the output is damaged.
 */
int transfer_get_stdout(struct ctl *c, const struct ui *u, const char *name,
    char *err, size_t errlen);
/* Download `name` (a path, already checked) to `dir`/its last component; `dir`
 * is only used in messages, `dirfd` for every file operation. */
int transfer_get(struct ctl *c, const struct ui *u, const char *name, int dirfd,
    const char *dir, char *err, size_t errlen);
int transfer_get_opt(struct ctl *c, const struct ui *u, const char *name,
    int dirfd, const char *dir, int flags, char *err, size_t errlen);

/*
 * A file of a tree (put -r, get -r, sync): its modification time
 * travels with it (UPLOAD mtime=; set on the downloaded file before it
 * gets its name), and a download lands under `lname` in its directory
 * (NULL: the remote path's last component).  An upload with `has_fd`
 * reads `fd` (the caller opened it beneath the tree, without following
 * a link; the transfer closes it) instead of opening `path`, which is
 * then only named in messages.
 */
struct transfer_tree {
	int64_t mtime;
	int has_mtime;
	const char *lname;
	int has_fd;
	int fd;
};
int transfer_put_tree(struct ctl *c, const struct ui *u, const char *path,
    const char *rpath, const struct transfer_tree *t, int flags, char *err,
    size_t errlen);
int transfer_get_tree(struct ctl *c, const struct ui *u, const char *rpath,
    int dirfd, const char *dir, const struct transfer_tree *t, int flags,
    char *err, size_t errlen);
/*
 * Open a data connection for a token the server handed out (`advertised`
 * is its host=, or ""), TLS as the control session, and present the
 * token: EXITCODE_OK, or an exit code with the session dropped and
 * *transient saying whether a retry may succeed.  For batches (batch.c).
 */
int transfer_data_open(struct ctl *c, const char *advertised, int port,
    const char *token, struct chan *ch, int *transient, char *why, size_t n);

/* ---- pure helpers, exported for tests/unit/test_client.c ---- */

/* Milliseconds to wait before retry number `retry` (1, 2, ...): base,
 * 2 base, 4 base, ..., never more than FTX_RETRY_CAP_MS. */
uint64_t transfer_backoff_ms(int retry, uint64_t base_ms);
/* 1 if a server ERROR code is worth a retry (the transfer broke, not
 * the request). */
int transfer_transient_code(const char *code);
/* The partial's file name for `name` into out[TRANSFER_PART_MAX]:
 * ".ftx-part-" and the first 16 bytes of SHA-256(name) in hex. */
int transfer_part_name(char *out, size_t n, const char *name);
/* The info file's one line for a partial of `name` (size, sha256). */
int transfer_info_format(
    char *out, size_t n, const char *sha256, uint64_t size, const char *name);
/*
 * The line an interruption prints, into out[n] (async-signal-safe: no
 * stdio, no locale): `verb` ("interrupted", "gave up"), then where the
 * transfer stood and what to do.  `kind` is a TRANSFER_LEFT_* value;
 * `total` is UINT64_MAX when unknown (stdin).
 */
#define TRANSFER_LEFT_RESUME 1 /* the same command again resumes */
#define TRANSFER_LEFT_STDIN 2 /* a stream from stdin: nothing stored */
#define TRANSFER_LEFT_STDOUT 3 /* stdout: the output is incomplete */
#define TRANSFER_LEFT_NOTHING 4 /* a private temporary, removed */
void transfer_left_text(char *out, size_t n, const char *verb, int kind,
    uint64_t done, uint64_t total);
/* Parse an info file's contents: 0 with sha256[65] and *size if it is
 * exactly the line transfer_info_format writes for `name`, else -1. */
int transfer_info_parse(
    const char *text, const char *name, char *sha256, uint64_t *size);

#endif /* FTX_TRANSFER_H */

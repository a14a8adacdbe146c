/*
 * transfer.h - verified uploads and downloads over a data connection.
 *
 * Both directions hash every byte with SHA-256 while it streams (on a
 * second thread for large files, see hpipe.h), so nothing is read twice.
 * A download goes to a hidden temporary in the target directory and is
 * renamed over the final name only after its hash matched; otherwise the
 * temporary is removed and an existing local file is left untouched.
 *
 * Each function returns an exit code (enum exitcode) and fills `err`
 * with one line for "ftx: <err>".
 */
#ifndef FTX_TRANSFER_H
#define FTX_TRANSFER_H

#include <stddef.h>

#include "ctl.h"
#include "ui.h"

/* Remove a download's temporary if SIGINT/SIGTERM/SIGHUP ends us. */
void transfer_signals(void);
/*
 * Where data connections go: NULL or "control" (the default) means the
 * host of the control connection; "advertised" means the host= the
 * server advertises with --public-host (the control host if it sends
 * none); anything else is a host name or address to use.  `spec` must
 * outlive the transfers.
 */
void transfer_data_host(const char *spec);
/* Create `dir` (and its parents, mode 0755) if missing and open it. */
int transfer_open_dir(const char *dir, int *dirfd, char *err, size_t errlen);
/* The part of `path` after its last '/': the name a file is stored
 * under by default. */
const char *transfer_basename(const char *path);
/* Upload the regular file at `path` under `name` (already checked). */
int transfer_put(struct ctl *c, const struct ui *u, const char *path,
    const char *name, char *err, size_t errlen);
/* Download `name` (already checked) to `dir`/`name`; `dir` is only used
 * in messages, `dirfd` for every file operation. */
int transfer_get(struct ctl *c, const struct ui *u, const char *name, int dirfd,
    const char *dir, char *err, size_t errlen);

#endif /* FTX_TRANSFER_H */

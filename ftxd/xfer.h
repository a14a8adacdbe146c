/*
 * xfer.h - data connections and the transfers that run on them.
 *
 * A transfer is created by UPLOAD/DOWNLOAD with a one-time token and
 * waits (PENDING) for a data connection that presents it.  The loop
 * accepts data connections, reads their token and matches it; the
 * matched connection is handed to a thread of the workers' transfer lane
 * (RUNNING), which moves the bytes with blocking I/O that wakes every
 * second to check --data-timeout and --min-rate.
 * When the worker finishes, the loop replies DONE/ERROR on the control
 * connection.
 */
#ifndef FTXD_XFER_H
#define FTXD_XFER_H

#include <stdint.h>

#include "hash.h"
#include "server.h"

/* Open the data listeners (one per port of --data-port N-M); 0 or -1. */
int xfer_listen(struct server *srv, char *err, size_t errlen);
/* Close the data listeners (idempotent). */
void xfer_unlisten(struct server *srv);
/* The partial-upload key of this session's upload of name/size. */
void xfer_partial_key(
    const struct session *s, const char *name, uint64_t size, char *key);
/* 0 if the session may start another transfer under --max-transfers,
 * --max-transfers-per-ip and --max-transfers-per-user; else -1 and
 * `why` says which cap (for "ERROR BUSY <why>"). */
int xfer_admit(const struct session *s, char *why, size_t whylen);
/* Start a pending upload for the session; replies OK or ERROR itself.
 * offset > 0 continues the session's partial upload (checked again when
 * the transfer runs).  *reserved (may be NULL): quota bytes the caller
 * already added to the user's in-flight count, which the transfer takes
 * over (*reserved becomes 0); otherwise it reserves `size` itself. */
void xfer_upload(struct session *s, const char *name, uint64_t size,
    uint64_t offset, uint64_t *reserved);
/* Start a pending download of an already opened file (takes `f`),
 * sending bytes offset..size-1. */
void xfer_download(struct session *s, const char *name, struct store_file *f,
    uint64_t size, const unsigned char *sha, uint64_t offset);
/* The owning session closed. */
void xfer_session_gone(struct xfer *x);
/* Out of descriptors: stop watching every listener (control and data)
 * until the next tick, instead of spinning on a listener that stays
 * readable and flooding the log; `what` names the caller for the log. */
void xfer_pause_accepting(struct server *srv, const char *what);
/* Watch the listeners again (each tick; a no-op unless paused). */
void xfer_resume_accepting(struct server *srv);
/* Timers: token expiry, data connections that never sent a token. */
void xfer_tick(struct server *srv, long long now);
/* Graceful stop: close the listener, cancel pending transfers; with
 * `force`, also cut running data connections. */
void xfer_stop(struct server *srv, int force);
/* Transfers currently running on workers. */
int xfer_running(const struct server *srv);
/* Transfers waiting for their data connection. */
int xfer_pending(const struct server *srv);
/* The same for the transfers of one user's storage (NULL: the root's). */
void xfer_count_user(const struct server *srv, const struct ustore *u,
    int *running, int *pending);

#endif /* FTXD_XFER_H */

/*
 * auth.h - accounts on the server side: who may log in, the lockout of
 * addresses that keep failing, and each user's storage.
 *
 * Accounts are on when the users file exists (--users, default
 * ROOT/../ftxd.users), or when it cannot be looked at (fail closed).
 * The check is sticky: once on, accounts stay on for the life of the
 * process, so deleting the file never opens the server to everyone, and
 * sessions that had not logged in must then log in.  The file is read by a
 * worker for every LOGIN (users.h), so `ftxd user add` takes effect at once.
 *
 * A logged-in user's storage is ROOT/<user> (ROOT/anonymous for
 * --anonymous); sessions of the same user share one open store, counted
 * by references.  Everything here runs on the loop thread except
 * auth_verify(), which runs on a worker.
 */
#ifndef FTXD_AUTH_H
#define FTXD_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ftx_limits.h"
#include "store.h"

struct config;
struct counters_user;
struct ctx;
struct session;

/* One user's open storage. */
struct ustore {
	char name[FTX_USER_MAX + 1];
	struct store *store;
	int refs;
	uint64_t inflight; /* bytes of uploads running: quota reserve */
	struct counters_user *counts; /* outlives the store; NULL: not kept */
	struct ustore *next;
};

/* Resolve the users file and whether accounts are on; 0 or -1.  Only
 * a users file that does not exist (ENOENT) means "no accounts": any
 * other error finding it stops the start (err names file and error). */
int auth_init(struct ctx *srv, char *err, size_t errlen);
/* Before start-up, as the starting user: an explicit --users FILE must
 * exist; 0 or -1 (err says why). */
int auth_users_given(const struct config *cfg, char *err, size_t errlen);
void auth_free(struct ctx *srv);
/* Look at the users file again (at every connection, LOGIN, SIGHUP and
 * from auth_tick): accounts turn on when it appears.  0, or -1 if it
 * cannot be looked at (not ENOENT): accounts are then on too, and
 * LOGIN must be refused until it can.  Logged when the state changes. */
int auth_recheck(struct ctx *srv);
/* Loop tick: auth_recheck every FTX_USERS_RECHECK_MS. */
void auth_tick(struct ctx *srv, long long now);

/* SECURITY: lockout.  1 if the address is locked out (and *left_s says
 * for how long), else 0. */
int auth_locked(
    struct ctx *srv, const struct sockaddr_storage *peer, long long *left_s);
/* SECURITY: lockout per account name.  1 if password logins for `name`
 * are locked for this peer (not one that logged in to it before), and
 * *left_s says for how long; else 0. */
int auth_account_locked(struct ctx *srv, const char *name,
    const struct sockaddr_storage *peer, long long *left_s);
/* Count a failed password login for `name` against the address and the
 * name; logs when either becomes locked out. */
void auth_failed(
    struct ctx *srv, const struct sockaddr_storage *peer, const char *name);
/* A successful login to account `name` (NULL: anonymous, which changes
 * nothing) forgives the address only the failures for that same name
 * just before it, and remembers the address as good for the name. */
void auth_succeeded(
    struct ctx *srv, const struct sockaddr_storage *peer, const char *name);

/* Worker thread: check name and password against the users file and
 * open the user's storage.  1 and *st / *quota filled if the login is
 * good, 0 if not (wrong password or no such user: the same work is done
 * either way), -1 on an error (err says which). */
int auth_verify(const char *users_path, const struct store *root,
    const char *name, const char *pass, size_t passlen, struct store **st,
    uint64_t *quota, char *err, size_t errlen);
/* Worker thread: open the anonymous area. */
int auth_open_anonymous(
    const struct store *root, struct store **st, char *err, size_t errlen);

/* Loop thread: adopt a store opened by a worker for `name` (closing it
 * if that user's store is already open) and give the session a
 * reference; -1 if out of memory (the store is closed). */
int auth_attach(struct session *s, const char *name, struct store *st);
/* The storage a session works in. */
const struct store *auth_store(const struct session *s);
/* A transfer of the user's (u may be NULL: no accounts) finished. */
void auth_count_xfer(struct ustore *u, int upload, int ok, uint64_t bytes);
/* Reference counting for jobs and transfers that outlive a command. */
struct ustore *auth_ref(struct ustore *u);
void auth_unref(struct ctx *srv, struct ustore *u);

#endif /* FTXD_AUTH_H */

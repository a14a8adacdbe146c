/*
 * auth.h - accounts on the server side: who may log in, the lockout of
 * addresses that keep failing, and each user's storage.
 *
 * Accounts are on when the users file exists (--users, default
 * ROOT/../ftxd.users).  The check is sticky: once seen, accounts stay on
 * for the life of the process, so deleting the file never opens the
 * server to everyone.  The file is read by a worker for every LOGIN
 * (users.h), so `ftxd user add` takes effect at once.
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

#include "server.h"
#include "store.h"

/* One account's transfer counters since the server started: what STATS
 * shows a user when there are accounts. */
struct ucounts {
	uint64_t xfers_ok, xfers_failed, bytes_in, bytes_out;
};

/* One user's open storage. */
struct ustore {
	char name[FTX_USER_MAX + 1];
	struct store store;
	int refs;
	uint64_t inflight; /* bytes of uploads running: quota reserve */
	struct ucounts *counts; /* outlives the store; NULL: not kept */
	struct ustore *next;
};

/* Resolve the users file and whether accounts are on; 0 or -1. */
int auth_init(struct server *srv, char *err, size_t errlen);
void auth_free(struct server *srv);
/* Accounts turn on when the users file appears (checked per connection;
 * a stat of one path). */
void auth_recheck(struct server *srv);

/* SECURITY: lockout.  1 if the address is locked out (and *left_s says
 * for how long), else 0. */
int auth_locked(
    struct server *srv, const struct sockaddr_storage *peer, long long *left_s);
/* Count a failed login; logs when the address becomes locked out. */
void auth_failed(struct server *srv, const struct sockaddr_storage *peer);
/* A successful login forgives the address's earlier failures. */
void auth_succeeded(struct server *srv, const struct sockaddr_storage *peer);

/* Worker thread: check name and password against the users file and
 * open the user's storage.  1 and *st / *quota filled if the login is
 * good, 0 if not (wrong password or no such user: the same work is done
 * either way), -1 on an error (err says which). */
int auth_verify(const char *users_path, const struct store *root,
    const char *name, const char *pass, size_t passlen, struct store *st,
    uint64_t *quota, char *err, size_t errlen);
/* Worker thread: open the anonymous area. */
int auth_open_anonymous(
    const struct store *root, struct store *st, char *err, size_t errlen);

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
void auth_unref(struct server *srv, struct ustore *u);

#endif /* FTXD_AUTH_H */

/*
 * auth.c - accounts on the server side.  See auth.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "str.h"
#include "users.h"

/* One address with failed logins. */
struct strike {
	struct sockaddr_storage ip;
	long long first_ms; /* the first failure of the current window */
	long long last_ms;
	long long locked_until_ms;
	int fails;
	int used;
};

/* An account's counters, kept after its last session has gone so that
 * `ftx stats` (a connection of its own) sees them.  One entry per account
 * that logged in: bounded by the users file, not by what clients send. */
struct ucount {
	char name[FTX_USER_MAX + 1];
	struct ucounts c;
	struct ucount *next;
};

struct auth {
	struct strike strikes[FTX_LOGIN_TRACK_MAX];
	struct ucount *counts;
	size_t ncounts;
};

int
auth_init(struct server *srv, char *err, size_t errlen)
{
	if (srv->cfg.users[0] != '\0') {
		if (str_copy(srv->users_path, sizeof(srv->users_path),
			srv->cfg.users) == -1)
			return str_err(err, errlen, "--users: path too long");
	} else if (users_default_path(srv->cfg.root, srv->users_path,
		       sizeof(srv->users_path), err, errlen) == -1) {
		return -1; /* the same file `ftxd user` edits */
	}
	if ((srv->auth = calloc(1, sizeof(*srv->auth))) == NULL)
		return str_err(err, errlen, "out of memory");
	auth_recheck(srv);
	/* Fail at start, not at the first LOGIN: after --user the file
	 * must still be readable (chown/chmod it for that user). */
	if (srv->accounts && access(srv->users_path, R_OK) == -1)
		return str_err(err, errlen,
		    "users file %s is not readable%s: %s", srv->users_path,
		    srv->cfg.run_user[0] != '\0' ? " after dropping to --user"
						 : "",
		    strerror(errno));
	return 0;
}

void
auth_free(struct server *srv)
{
	struct ustore *u;
	struct ucount *c;

	while ((u = srv->ustores) != NULL) {
		srv->ustores = u->next;
		store_close(&u->store);
		free(u);
	}
	while (srv->auth != NULL && (c = srv->auth->counts) != NULL) {
		srv->auth->counts = c->next;
		free(c);
	}
	free(srv->auth);
	srv->auth = NULL;
}

void
auth_recheck(struct server *srv)
{
	struct stat sb;

	if (srv->accounts || stat(srv->users_path, &sb) == -1)
		return;
	srv->accounts = 1;
	log_msg(NULL, "accounts on: users file %s", srv->users_path);
}

/* Which entry to reuse when the table is full: an idle one (the one
 * idle longest) before any that is locked out. */
static int
evict_before(const struct strike *a, const struct strike *b, long long now)
{
	int alock = a->locked_until_ms > now, block = b->locked_until_ms > now;

	if (alock != block)
		return !alock;
	return alock ? a->locked_until_ms < b->locked_until_ms
		     : a->last_ms < b->last_ms;
}

static struct strike *
find_strike(struct auth *a, const struct sockaddr_storage *peer, int create)
{
	struct strike *k, *victim = NULL;
	long long now = loop_now_ms();
	size_t i;

	for (i = 0; i < FTX_LOGIN_TRACK_MAX; i++) {
		k = &a->strikes[i];
		if (k->used && net_same_ip(&k->ip, peer))
			return k;
		if (victim != NULL && !victim->used)
			continue; /* a free entry beats any used one */
		if (victim == NULL || !k->used || evict_before(k, victim, now))
			victim = k;
	}
	if (!create || victim == NULL)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->ip = *peer;
	victim->used = 1;
	return victim;
}

int
auth_locked(
    struct server *srv, const struct sockaddr_storage *peer, long long *left_s)
{
	struct strike *k = find_strike(srv->auth, peer, 0);
	long long now = loop_now_ms();

	if (k == NULL || k->locked_until_ms <= now)
		return 0;
	*left_s = (k->locked_until_ms - now + 999) / 1000;
	return 1;
}

void
auth_failed(struct server *srv, const struct sockaddr_storage *peer)
{
	struct strike *k = find_strike(srv->auth, peer, 1);
	long long now = loop_now_ms();
	char ip[64];

	if (k == NULL)
		return;
	if (k->fails == 0 ||
	    now - k->first_ms > srv->cfg.login_window * 1000LL) {
		k->first_ms = now;
		k->fails = 0;
	}
	k->fails++;
	k->last_ms = now;
	/* SECURITY: anti-hammering; the address is refused for the lockout
	 * time, right password or not. */
	if (k->fails >= srv->cfg.login_max_fails) {
		k->locked_until_ms = now + srv->cfg.login_lockout * 1000LL;
		k->fails = 0;
		net_ip_str(peer, ip, sizeof(ip));
		log_msg(NULL,
		    "lockout ip=%s after %d failed logins within %d s; "
		    "refused for %d s",
		    ip, srv->cfg.login_max_fails, srv->cfg.login_window,
		    srv->cfg.login_lockout);
	}
}

void
auth_succeeded(struct server *srv, const struct sockaddr_storage *peer)
{
	struct strike *k = find_strike(srv->auth, peer, 0);

	if (k != NULL && k->locked_until_ms <= loop_now_ms())
		memset(k, 0, sizeof(*k));
}

int
auth_verify(const char *users_path, const struct store *root, const char *name,
    const char *pass, size_t passlen, struct store *st, uint64_t *quota,
    char *err, size_t errlen)
{
	struct user_rec rec;
	char why[FTX_ERRLEN];
	int found = 0, ok;

	memset(&rec, 0, sizeof(rec));
	/* An invalid name cannot be in the file; it still costs a KDF run
	 * so that timing does not tell names apart. */
	if (users_name_check(name, why, sizeof(why)) == 0) {
		found = users_find(users_path, name, &rec, err, errlen);
		if (found == -1)
			return -1;
	}
	ok = users_verify(found ? &rec : NULL, pass, passlen, err, errlen);
	*quota = rec.quota;
	explicit_bzero(&rec, sizeof(rec));
	if (ok != 1)
		return ok;
	if (store_open_sub(root, name, st, err, errlen) == -1)
		return -1;
	return 1;
}

int
auth_open_anonymous(
    const struct store *root, struct store *st, char *err, size_t errlen)
{
	return store_open_sub(root, FTX_ANON_USER, st, err, errlen);
}

/* The account's counters, created at its first login; NULL when memory
 * is short or more accounts logged in than a users file may hold. */
static struct ucounts *
counts_for(struct auth *a, const char *name)
{
	struct ucount *c;

	for (c = a->counts; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return &c->c;
	if (a->ncounts > FTX_USERS_MAX || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	(void)str_copy(c->name, sizeof(c->name), name);
	c->next = a->counts;
	a->counts = c;
	a->ncounts++;
	return &c->c;
}

void
auth_count_xfer(struct ustore *u, int upload, int ok, uint64_t bytes)
{
	struct ucounts *c = u != NULL ? u->counts : NULL;

	if (c == NULL)
		return;
	if (ok)
		c->xfers_ok++;
	else
		c->xfers_failed++;
	if (upload)
		c->bytes_in += bytes;
	else
		c->bytes_out += bytes;
}

int
auth_attach(struct session *s, const char *name, struct store *st)
{
	struct server *srv = s->srv;
	struct ustore *u;

	for (u = srv->ustores; u != NULL; u = u->next)
		if (strcmp(u->name, name) == 0)
			break;
	if (u != NULL) {
		store_close(st); /* another session opened it first */
	} else if ((u = calloc(1, sizeof(*u))) != NULL) {
		(void)str_copy(u->name, sizeof(u->name), name);
		u->store = *st;
		u->counts = counts_for(srv->auth, name);
		u->next = srv->ustores;
		srv->ustores = u;
	} else {
		store_close(st);
		return -1;
	}
	s->ust = auth_ref(u);
	return 0;
}

const struct store *
auth_store(const struct session *s)
{
	return s->ust != NULL ? &s->ust->store : &s->srv->store;
}

struct ustore *
auth_ref(struct ustore *u)
{
	if (u != NULL)
		u->refs++;
	return u;
}

void
auth_unref(struct server *srv, struct ustore *u)
{
	struct ustore **pp;

	if (u == NULL || --u->refs > 0)
		return;
	for (pp = &srv->ustores; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	}
	store_close(&u->store);
	free(u);
}

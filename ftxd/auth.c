/*
 * auth.c - accounts on the server side.  See auth.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "counters.h"
#include "ctx.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "session.h"
#include "str.h"
#include "users.h"

/* Failures within one window and the lockout they caused. */
struct count {
	long long first_ms; /* the first failure of the current window */
	long long last_ms;
	long long locked_until_ms;
	int fails;
	int used;
};

/* One address with failed logins. */
struct strike {
	struct count c;
	struct sockaddr_storage ip;
	/* The name its latest failures were for, and how many in a row:
	 * the most a login to that name may forgive. */
	char run_user[FTX_USER_MAX + 1];
	int run_fails;
};

/* One account name with failed logins, or with addresses that logged in
 * to it. */
struct acct {
	struct count c;
	char name[FTX_USER_MAX + 1];
	struct sockaddr_storage good[FTX_LOGIN_GOOD_IPS];
	int ngood, good_next;
};

/* An account's counters, kept after its last session has gone so that
 * `ftx stats` (a connection of its own) sees them.  One entry per account
 * that logged in: bounded by the users file, not by what clients send. */
struct ucount {
	char name[FTX_USER_MAX + 1];
	struct counters_user c;
	struct ucount *next;
};

struct auth {
	struct strike strikes[FTX_LOGIN_TRACK_MAX];
	struct acct accts[FTX_LOGIN_ACCOUNT_TRACK_MAX];
	int users_errno; /* the users file cannot be looked at: why */
	long long recheck_ms;
	struct ucount *counts;
	size_t ncounts;
};

/* stat() the users file: 1 it exists, 0 it does not (ENOENT), -1 any
 * other error (errno says which). */
static int
users_probe(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

int
auth_users_given(const struct config *cfg, char *err, size_t errlen)
{
	/* SECURITY: a users file named explicitly but missing is a typo or
	 * a missing mount, never "run without accounts". */
	if (cfg->users[0] != '\0' && users_probe(cfg->users) != 1)
		return str_err(err, errlen,
		    "--users %s: %s (an explicitly given users file must "
		    "exist)",
		    cfg->users, strerror(errno));
	return 0;
}

int
auth_init(struct ctx *srv, char *err, size_t errlen)
{
	int e;

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
	/* SECURITY: only ENOENT means "no accounts"; EACCES (a 0700
	 * directory after --user), ELOOP, EIO... stop the start instead
	 * of silently serving everyone. */
	if (users_probe(srv->users_path) == -1) {
		e = errno;
		return str_err(err, errlen,
		    "users file %s cannot be looked at%s: %s", srv->users_path,
		    srv->cfg.run_user[0] != '\0' ? " after dropping to --user"
						 : "",
		    strerror(e));
	}
	(void)auth_recheck(srv);
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
auth_free(struct ctx *srv)
{
	struct ustore *u;
	struct ucount *c;

	while ((u = srv->ustores) != NULL) {
		srv->ustores = u->next;
		store_close(u->store);
		free(u);
	}
	while (srv->auth != NULL && (c = srv->auth->counts) != NULL) {
		srv->auth->counts = c->next;
		free(c);
	}
	free(srv->auth);
	srv->auth = NULL;
}

/* Accounts go on: sessions that have not logged in must now do so. */
static void
accounts_on(struct ctx *srv, const char *why)
{
	struct session *s;

	srv->accounts = 1;
	for (s = srv->sessions.head; s != NULL; s = s->next)
		if (s->user[0] == '\0')
			s->authed = 0;
	log_msg(NULL, "accounts on: users file %s%s", srv->users_path, why);
}

int
auth_recheck(struct ctx *srv)
{
	struct auth *a = srv->auth;
	int e, r = users_probe(srv->users_path);

	e = errno;
	if (r == -1) {
		/* SECURITY: a users file that cannot be looked at may
		 * exist: accounts on (sessions without a login lose
		 * access), LOGIN refused, logged once per new error. */
		if (!srv->accounts)
			accounts_on(srv, " cannot be looked at");
		if (a->users_errno != e)
			log_msg(NULL,
			    "users file %s cannot be looked at: %s; logins "
			    "refused until it can",
			    srv->users_path, strerror(e));
		a->users_errno = e;
		return -1;
	}
	if (a->users_errno != 0) {
		log_msg(NULL, "users file %s can be looked at again%s",
		    srv->users_path, r == 0 ? " (it does not exist)" : "");
		a->users_errno = 0;
	}
	if (r == 1 && !srv->accounts)
		accounts_on(srv, "");
	return 0;
}

void
auth_tick(struct ctx *srv, long long now)
{
	if (srv->auth == NULL || now < srv->auth->recheck_ms)
		return;
	srv->auth->recheck_ms = now + FTX_USERS_RECHECK_MS;
	(void)auth_recheck(srv);
}

/* Which entry to reuse when a table is full: an idle one (the one idle
 * longest) before any that is locked out. */
static int
evict_before(const struct count *a, const struct count *b, long long now)
{
	int alock = a->locked_until_ms > now, block = b->locked_until_ms > now;

	if (alock != block)
		return !alock;
	return alock ? a->locked_until_ms < b->locked_until_ms
		     : a->last_ms < b->last_ms;
}

/* Whether `k` is a better entry to reuse than `victim` so far. */
static int
better_victim(const struct count *k, const struct count *victim, long long now)
{
	if (victim == NULL || !k->used)
		return victim == NULL || victim->used;
	return victim->used && evict_before(k, victim, now);
}

static struct strike *
find_strike(struct auth *a, const struct sockaddr_storage *peer, int create)
{
	struct strike *k, *victim = NULL;
	long long now = loop_now_ms();
	size_t i;

	for (i = 0; i < FTX_LOGIN_TRACK_MAX; i++) {
		k = &a->strikes[i];
		if (k->c.used && net_same_ip(&k->ip, peer))
			return k;
		if (better_victim(
			&k->c, victim != NULL ? &victim->c : NULL, now))
			victim = k;
	}
	if (!create || victim == NULL)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->ip = *peer;
	victim->c.used = 1;
	return victim;
}

/* The entry for an account name; NULL for a name that can be no
 * account (invalid ones are not tracked: they reveal nothing). */
static struct acct *
find_acct(struct auth *a, const char *name, int create)
{
	struct acct *k, *victim = NULL;
	long long now = loop_now_ms();
	char why[FTX_ERRLEN];
	size_t i;

	if (name == NULL || users_name_check(name, why, sizeof(why)) == -1)
		return NULL;
	for (i = 0; i < FTX_LOGIN_ACCOUNT_TRACK_MAX; i++) {
		k = &a->accts[i];
		if (k->c.used && strcmp(k->name, name) == 0)
			return k;
		if (better_victim(
			&k->c, victim != NULL ? &victim->c : NULL, now))
			victim = k;
	}
	if (!create || victim == NULL)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	(void)str_copy(victim->name, sizeof(victim->name), name);
	victim->c.used = 1;
	return victim;
}

static int
count_locked(const struct count *c, long long now, long long *left_s)
{
	if (c->locked_until_ms <= now)
		return 0;
	*left_s = (c->locked_until_ms - now + 999) / 1000;
	return 1;
}

/* One more failure; 1 if it locks the entry out now. */
static int
count_fail(struct count *c, int max, const struct config *cfg, long long now)
{
	if (c->fails == 0 || now - c->first_ms > cfg->login_window * 1000LL) {
		c->first_ms = now;
		c->fails = 0;
	}
	c->fails++;
	c->last_ms = now;
	if (max <= 0 || c->fails < max)
		return 0;
	c->locked_until_ms = now + cfg->login_lockout * 1000LL;
	c->fails = 0;
	return 1;
}

int
auth_locked(
    struct ctx *srv, const struct sockaddr_storage *peer, long long *left_s)
{
	struct strike *k = find_strike(srv->auth, peer, 0);

	return k != NULL && count_locked(&k->c, loop_now_ms(), left_s);
}

static int
good_ip(const struct acct *k, const struct sockaddr_storage *peer)
{
	int i;

	for (i = 0; i < k->ngood; i++)
		if (net_same_ip(&k->good[i], peer))
			return 1;
	return 0;
}

int
auth_account_locked(struct ctx *srv, const char *name,
    const struct sockaddr_storage *peer, long long *left_s)
{
	struct acct *k = find_acct(srv->auth, name, 0);

	/* SECURITY: an account under attack from many addresses is locked
	 * for password logins, except from addresses that logged in to it
	 * before (those still have their own per-address lockout). */
	return k != NULL && !good_ip(k, peer) &&
	    count_locked(&k->c, loop_now_ms(), left_s);
}

void
auth_failed(
    struct ctx *srv, const struct sockaddr_storage *peer, const char *name)
{
	struct strike *k = find_strike(srv->auth, peer, 1);
	struct acct *ac = find_acct(srv->auth, name, 1);
	const struct config *cfg = &srv->cfg;
	long long now = loop_now_ms();
	char ip[64], enc[LOG_ESC_SIZE(FTX_USER_MAX)];

	if (k != NULL) {
		if (name == NULL || strcmp(k->run_user, name) != 0) {
			(void)str_copy(k->run_user, sizeof(k->run_user),
			    name != NULL ? name : "");
			k->run_fails = 0;
		}
		k->run_fails++;
	}
	/* SECURITY: anti-hammering; the address is refused for the lockout
	 * time, right password or not. */
	if (k != NULL && count_fail(&k->c, cfg->login_max_fails, cfg, now)) {
		k->run_fails = 0;
		net_ip_str(peer, ip, sizeof(ip));
		log_msg(NULL,
		    "lockout ip=%s after %d failed logins within %d s; "
		    "refused for %d s",
		    ip, cfg->login_max_fails, cfg->login_window,
		    cfg->login_lockout);
	}
	/* SECURITY: failures count per account name too, from any
	 * address: a guesser spread over many addresses locks the name. */
	if (ac != NULL &&
	    count_fail(&ac->c, cfg->login_account_max_fails, cfg, now))
		log_msg(NULL,
		    "lockout user=%s after %d failed logins within %d s; "
		    "password logins refused for %d s except from %d "
		    "address(es) that logged in to it before",
		    log_esc(enc, sizeof(enc), ac->name),
		    cfg->login_account_max_fails, cfg->login_window,
		    cfg->login_lockout, ac->ngood);
}

void
auth_succeeded(
    struct ctx *srv, const struct sockaddr_storage *peer, const char *name)
{
	struct strike *k;
	struct acct *ac;

	if (name == NULL)
		return; /* anonymous: proves nothing, forgives nothing */
	/* SECURITY: a login forgives only the failures for the same name
	 * just before it; neither an anonymous login nor one to another
	 * account resets the count. */
	k = find_strike(srv->auth, peer, 0);
	if (k != NULL && strcmp(k->run_user, name) == 0) {
		k->c.fails -=
		    k->run_fails < k->c.fails ? k->run_fails : k->c.fails;
		k->run_fails = 0;
	}
	if ((ac = find_acct(srv->auth, name, 1)) == NULL)
		return;
	ac->c.last_ms = loop_now_ms();
	if (good_ip(ac, peer))
		return;
	ac->good[ac->good_next] = *peer;
	ac->good_next = (ac->good_next + 1) % FTX_LOGIN_GOOD_IPS;
	if (ac->ngood < FTX_LOGIN_GOOD_IPS)
		ac->ngood++;
}

int
auth_verify(const char *users_path, const struct store *root, const char *name,
    const char *pass, size_t passlen, struct store **st, uint64_t *quota,
    char *err, size_t errlen)
{
	struct store_err e;
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
	/* The log says whose area could not be opened (a planted link, a
	 * bad mode): the reason alone does not tell the operator. */
	if (store_open_sub(root, name, st, &e) == -1)
		return str_err(err, errlen, "area of %s: %s", name, e.msg);
	return 1;
}

int
auth_open_anonymous(
    const struct store *root, struct store **st, char *err, size_t errlen)
{
	struct store_err e;

	if (store_open_sub(root, FTX_ANON_USER, st, &e) == -1)
		return str_err(
		    err, errlen, "area of %s: %s", FTX_ANON_USER, e.msg);
	return 0;
}

/* The account's counters, created at its first login; NULL when memory
 * is short or more accounts logged in than a users file may hold. */
static struct counters_user *
counts_for(struct auth *a, const char *name)
{
	struct ucount *c;

	for (c = a->counts; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return &c->c;
	if (a->ncounts >= FTX_USERS_MAX || (c = calloc(1, sizeof(*c))) == NULL)
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
	struct counters_user *c = u != NULL ? u->counts : NULL;

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
	struct ctx *srv = s->srv;
	struct ustore *u;

	for (u = srv->ustores; u != NULL; u = u->next)
		if (strcmp(u->name, name) == 0)
			break;
	if (u != NULL) {
		store_close(st); /* another session opened it first */
	} else if ((u = calloc(1, sizeof(*u))) != NULL) {
		(void)str_copy(u->name, sizeof(u->name), name);
		u->store = st;
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
	return s->ust != NULL ? s->ust->store : s->srv->store;
}

struct ustore *
auth_ref(struct ustore *u)
{
	if (u != NULL)
		u->refs++;
	return u;
}

void
auth_unref(struct ctx *srv, struct ustore *u)
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
	store_close(u->store);
	free(u);
}

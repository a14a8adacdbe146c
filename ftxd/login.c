/*
 * login.c - LOGIN.  See login.h.
 *
 * A LOGIN passes its preconditions on the loop (accounts on, not
 * logged in yet, TLS, the lockouts, the per-address cap), waits in a
 * queue for one of FTX_AUTH_CONCURRENT password checks, is checked on a
 * worker and answered on the loop: at once when it succeeds, after a
 * delay when it fails.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "buf.h"
#include "ctx.h"
#include "log.h"
#include "login.h"
#include "loop.h"
#include "net.h"
#include "proto.h"
#include "session.h"
#include "sjob.h"
#include "str.h"

/* Encoded names are at most three times the raw length. */

/*
 * Password checks cost FTX_SCRYPT memory and CPU each, so at most
 * FTX_AUTH_CONCURRENT run at once; further LOGINs wait here, in order.
 * Failed logins are answered after FTX_LOGIN_FAIL_DELAY_MS from the
 * `delayed` list, without holding a worker.  Both lists belong to the
 * loop thread.
 */
static struct sjob_q login_q;
static struct sjob *delayed;
static int logins_running;

static void login_work(struct sjob *j);
static void login_finish(struct sjob *j);

/*
 * SECURITY: the lockout of the address, and of the account name for a
 * password login, checked when a LOGIN arrives, and again when it
 * leaves the queue and when its result comes back: LOGINs sent at once
 * from many sessions must not all be checked (and the right one let in)
 * after the address or the name was locked out.  Right password or
 * wrong, the reply is the same ERROR LOCKED, at once.  1 if refused
 * (reply sent), else 0.
 */
static int
login_locked(struct session *s, int anon, const char *user)
{
	long long left;

	if (auth_locked(s->srv, &s->peer, &left)) {
		sess_reply(s,
		    "ERROR LOCKED too many failed logins; try again in %lld s",
		    left);
		return 1;
	}
	if (!anon && auth_account_locked(s->srv, user, &s->peer, &left)) {
		sess_reply(s,
		    "ERROR LOCKED too many failed logins for this account; "
		    "try again in %lld s",
		    left);
		return 1;
	}
	return 0;
}

/* login_locked for a LOGIN queued or checked. */
static int
login_refuse_locked(struct sjob *j)
{
	char enc[PROTO_ENC_NAME_MAX];

	if (!login_locked(j->sess, j->anon, j->user))
		return 0;
	log_msg(j->sess->peerstr, "login user=%s refused: locked out",
	    log_esc(enc, sizeof(enc), j->user[0] != '\0' ? j->user : "-"));
	return 1;
}

/* A queued LOGIN refused before its check: the session goes on. */
static void
login_answered(struct sjob *j)
{
	struct session *s = j->sess;

	s->busy = NULL;
	sess_resume(s);
	sjob_free(j);
}

/* LOGINs of this address queued or being checked. */
static int
login_inflight(const struct session *me)
{
	const struct session *s;
	int n = 0;

	for (s = me->srv->sessions.head; s != NULL; s = s->next)
		n += s->busy != NULL && s->busy->work == login_work &&
		    s->busy->checking && net_same_ip(&s->peer, &me->peer);
	return n;
}

static void
login_start_next(void)
{
	struct sjob *j;

	while (logins_running < FTX_AUTH_CONCURRENT &&
	    (j = sjob_q_pop(&login_q)) != NULL) {
		if (j->sess != NULL && login_refuse_locked(j)) {
			login_answered(j);
			continue;
		}
		if (sjob_start_queued(j) == -1)
			continue;
		logins_running++;
	}
}

/* A check came back (the job's back()): its slot goes to the next. */
static void
login_back(struct sjob *j)
{
	(void)j;
	logins_running--;
	login_start_next();
}

static void
login_work(struct sjob *j)
{
	char err[FTX_ERRLEN];

	if (j->anon)
		j->login = auth_open_anonymous(
			       j->srv->store, &j->ustore, err, sizeof(err)) == 0
		    ? 1
		    : -1;
	else
		j->login = auth_verify(j->srv->users_path, j->srv->store,
		    j->user, j->pass, j->passlen, &j->ustore, &j->quota, err,
		    sizeof(err));
	explicit_bzero(j->pass, sizeof(j->pass));
	if (j->login == -1)
		sjob_reply(j, "ERROR INTERNAL %s\n", err);
}

static void
login_ok(struct session *s, struct sjob *j)
{
	const char *mode = "";
	char enc[LOG_ESC_SIZE(sizeof(s->user))];

	j->adopted = 1; /* auth_attach keeps or closes it */
	if (auth_attach(s, j->anon ? FTX_ANON_USER : j->user, j->ustore) ==
	    -1) {
		sess_reply(s, "ERROR INTERNAL out of memory");
		return;
	}
	(void)str_copy(
	    s->user, sizeof(s->user), j->anon ? FTX_ANON_USER : j->user);
	s->authed = 1;
	s->quota = j->anon ? 0 : j->quota;
	if (j->anon) {
		s->readonly = s->srv->cfg.anonymous != CFG_ANON_RW;
		mode = s->readonly ? " read-only" : " read-write";
	}
	auth_succeeded(s->srv, &s->peer, j->anon ? NULL : j->user);
	log_msg(s->peerstr, "login user=%s ok%s",
	    log_esc(enc, sizeof(enc), s->user), mode);
	sess_reply(s, "OK %s logged in%s", s->user, mode);
}

static void
login_finish(struct sjob *j)
{
	struct session *s = j->sess;
	char enc[PROTO_ENC_NAME_MAX];

	j->checking = 0;
	if (j->login != -1 && login_refuse_locked(j))
		return; /* sjob.c frees it; an opened store is closed */
	if (j->login == 1) {
		login_ok(s, j);
		return;
	}
	if (j->login == -1) {
		/* The reply holds the reason and its LF. */
		log_msg(s->peerstr, "login error: %.*s",
		    (int)(j->reply.len > 0 ? j->reply.len - 1 : 0),
		    buf_head(&j->reply));
		sess_reply(s,
		    "ERROR INTERNAL login failed on the server: see "
		    "its log");
		return;
	}
	log_msg(s->peerstr, "login user=%s failed",
	    log_esc(enc, sizeof(enc),
		strlen(j->user) <= FTX_NAME_MAX ? j->user : "-"));
	auth_failed(s->srv, &s->peer, j->user);
	/* SECURITY: a failed login is answered after a delay, so guessing
	 * is slow even within the lockout limit; the session waits. */
	s->busy = j;
	j->reply_ms = loop_now_ms() + FTX_LOGIN_FAIL_DELAY_MS;
	j->qnext = delayed;
	delayed = j;
}

void
login_tick(struct ctx *srv, long long now)
{
	struct sjob **pp = &delayed, *j;
	struct session *s;

	while ((j = *pp) != NULL) {
		if (j->sess != NULL && now < j->reply_ms) {
			pp = &j->qnext;
			continue;
		}
		*pp = j->qnext;
		s = j->sess;
		if (s != NULL) {
			s->busy = NULL;
			sess_reply(s, "ERROR AUTH login incorrect");
			if (srv->stopping)
				sess_close_after(
				    s, "ERROR SHUTDOWN server stopping");
			else
				sess_resume(s);
		}
		sjob_free(j);
	}
}

/* LOGIN's preconditions; 0 if the password may be checked. */
static int
login_allowed(struct session *s, int anon, const char *user)
{
	/* Looked at again here: a LOGIN is when it matters. */
	if (auth_recheck(s->srv) == -1) {
		sess_reply(s,
		    "ERROR INTERNAL login failed on the server: see its log");
		return -1;
	}
	if (!s->srv->accounts) {
		sess_reply(s, "ERROR AUTH no accounts on this server");
		return -1;
	}
	if (s->user[0] != '\0') {
		sess_reply(s, "ERROR BUSY already logged in");
		return -1;
	}
	/* SECURITY: a password never crosses in plaintext unless the
	 * operator said so. */
	if (s->tls_state != STLS_ON && !s->srv->cfg.allow_plaintext_login) {
		sess_reply(s, "ERROR TLS login needs TLS: send STARTTLS first");
		return -1;
	}
	if (login_locked(s, anon, user))
		return -1;
	/* SECURITY: at most FTX_LOGIN_INFLIGHT_PER_IP LOGINs of one address
	 * wait for or undergo a check; more are refused at once, so one
	 * address holds few places in the queue and a legitimate LOGIN
	 * from elsewhere waits behind at most that many of its. */
	if (login_inflight(s) >= FTX_LOGIN_INFLIGHT_PER_IP) {
		sess_reply(s,
		    "ERROR BUSY too many logins in progress from your "
		    "address; try again");
		return -1;
	}
	return 0;
}

void
login_cmd(struct session *s, struct proto_cmd *c)
{
	const char *pass = c->argc > 1 ? c->argv[1] : "";
	size_t passlen = strlen(pass);
	int anon = s->srv->cfg.anonymous != CFG_ANON_OFF &&
	    strcmp(c->argv[0], FTX_ANON_USER) == 0;
	struct sjob *j;

	if (login_allowed(s, anon, c->argv[0]) == -1)
		return;
	if ((j = sjob_new(s, login_work, login_finish, FTX_ERRLEN * 2)) ==
	    NULL) {
		sess_reply(s, "ERROR INTERNAL out of resources");
		return;
	}
	j->back = login_back;
	j->anon = anon;
	/* Overlong names and passwords are checked like wrong ones: the
	 * reply must not tell them apart. */
	if (str_copy(j->user, sizeof(j->user), c->argv[0]) == -1)
		j->user[0] = '\0';
	if (passlen <= FTX_PASS_MAX) {
		memcpy(j->pass, pass, passlen);
		j->passlen = passlen;
	}
	s->busy = j;
	j->checking = 1;
	sjob_q_push(&login_q, j);
	login_start_next();
}

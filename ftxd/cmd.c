/*
 * cmd.c - control commands.  See cmd.h and docs/PROTOCOL.md.
 *
 * Every line goes through cmd_dispatch(): split, look the verb up in
 * cmd_table, check the argument count and authorisation, then call the
 * handler.  The file commands are in fileops.c and LOGIN in login.c;
 * those that touch the disk or check a password hand an `sjob` (sjob.c)
 * to a worker and mark the session busy, so replies always come back in
 * command order.  The small commands (HELP, chat, ECHO, STATS,
 * STARTTLS...) are answered here, on the loop.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "chat.h"
#include "cmd.h"
#include "counters.h"
#include "ctx.h"
#include "dirops.h"
#include "fileops.h"
#include "log.h"
#include "login.h"
#include "loop.h"
#include "proto.h"
#include "room.h"
#include "session.h"
#include "sjob.h"
#include "str.h"
#include "xfer.h"

/* Encoded names are at most three times the raw length. */

/* What cmd_dispatch logs of a command. */
enum cmd_log {
	LOG_NONE, /* nothing: chatty (ECHO) or logged by its module (chat) */
	LOG_VERB, /* the verb */
	LOG_ARG /* the verb and its first argument */
};

/* What the gate checks for a command (flags). */
enum cmd_gate {
	G_AUTH = 1, /* needs a logged-in session when accounts are on */
	G_PRETLS = 2, /* allowed before TLS under --require-tls */
	G_WRITE = 4 /* changes files: refused to read-only anonymous */
};

struct cmd_def {
	const char *verb;
	int gate; /* enum cmd_gate flags */
	int min_args;
	int max_args;
	int text_at; /* >= 0: argv[text_at] is free text (proto_split_text) */
	enum cmd_log log;
	void (*handler)(struct session *s, struct proto_cmd *c);
	const char *usage;
};

static void cmd_help(struct session *, struct proto_cmd *);
static void cmd_noop(struct session *, struct proto_cmd *);
static void cmd_quit(struct session *, struct proto_cmd *);
static void cmd_join(struct session *, struct proto_cmd *);
static void cmd_leave(struct session *, struct proto_cmd *);
static void cmd_say(struct session *, struct proto_cmd *);
static void cmd_msg(struct session *, struct proto_cmd *);
static void cmd_who(struct session *, struct proto_cmd *);
static void cmd_whoami(struct session *, struct proto_cmd *);
static void cmd_time(struct session *, struct proto_cmd *);
static void cmd_echo(struct session *, struct proto_cmd *);
static void cmd_stats(struct session *, struct proto_cmd *);
static void cmd_starttls(struct session *, struct proto_cmd *);

/* The single gate: every command is looked up here, its argument count
 * and authorisation checked, before its handler runs. */
static const struct cmd_def cmd_table[] = {
    {"UPLOAD", G_AUTH | G_WRITE, 2, 4, -1, LOG_ARG, fop_upload,
	"UPLOAD <path> <size>|* [offset=N] [mtime=S]"},
    {"DOWNLOAD", G_AUTH, 1, 2, -1, LOG_ARG, fop_download,
	"DOWNLOAD <path> [offset=N]"},
    {"LIST", G_AUTH, 0, 0, -1, LOG_VERB, fop_list, "LIST"},
    {"DELETE", G_AUTH | G_WRITE, 1, 1, -1, LOG_ARG, fop_delete,
	"DELETE <path>"},
    {"HASH", G_AUTH, 1, 2, -1, LOG_ARG, fop_hash, "HASH <path> [md5]"},
    {"MKDIR", G_AUTH | G_WRITE, 1, 2, -1, LOG_ARG, dop_mkdir,
	"MKDIR <path> [parents=1]"},
    {"RMDIR", G_AUTH | G_WRITE, 1, 1, -1, LOG_ARG, dop_rmdir, "RMDIR <path>"},
    {"MOVE", G_AUTH | G_WRITE, 2, 3, -1, LOG_ARG, dop_move,
	"MOVE <from> <to> [replace=1]"},
    {"STAT", G_AUTH, 1, 1, -1, LOG_ARG, dop_stat, "STAT <path>"},
    {"LS", G_AUTH, 1, 2, -1, LOG_ARG, dop_ls, "LS <path> [recursive=1]"},
    {"MPUT", G_AUTH | G_WRITE, 0, 0, -1, LOG_VERB, fop_mput, "MPUT"},
    {"MGET", G_AUTH, 0, 0, -1, LOG_VERB, fop_mget, "MGET"},
    {"HELP", 0, 0, 0, -1, LOG_VERB, cmd_help, "HELP"},
    {"NOOP", 0, 0, 0, -1, LOG_NONE, cmd_noop, "NOOP"},
    {"QUIT", G_PRETLS, 0, 0, -1, LOG_VERB, cmd_quit, "QUIT"},
    {"STARTTLS", G_PRETLS, 0, 0, -1, LOG_VERB, cmd_starttls, "STARTTLS"},
    {"LOGIN", 0, 1, 2, -1, LOG_NONE, login_cmd, "LOGIN <user> [password]"},
    {"JOIN", G_AUTH, 0, 1, -1, LOG_NONE, cmd_join, "JOIN [nick]"},
    {"LEAVE", G_AUTH, 0, 0, -1, LOG_NONE, cmd_leave, "LEAVE"},
    {"SAY", G_AUTH, 1, 1, 0, LOG_NONE, cmd_say, "SAY <text>"},
    {"MSG", G_AUTH, 2, 2, 1, LOG_NONE, cmd_msg, "MSG <nick> <text>"},
    {"WHO", G_AUTH, 0, 0, -1, LOG_VERB, cmd_who, "WHO"},
    {"WHOAMI", G_AUTH, 0, 0, -1, LOG_VERB, cmd_whoami, "WHOAMI"},
    {"TIME", G_AUTH, 0, 0, -1, LOG_VERB, cmd_time, "TIME"},
    {"ECHO", G_AUTH, 1, 1, 0, LOG_NONE, cmd_echo, "ECHO <payload>"},
    {"STATS", G_AUTH, 0, 0, -1, LOG_VERB, cmd_stats, "STATS"},
    {"PARTIAL", G_AUTH | G_WRITE, 2, 2, -1, LOG_ARG, fop_partial,
	"PARTIAL <path> <size>"},
};
#define NCMDS (sizeof(cmd_table) / sizeof(cmd_table[0]))

/*
 * SECURITY: the one gate every command passes, in this order: TLS first
 * under --require-tls (so not even a user name crosses in plaintext),
 * then login when the server has accounts, then write permission.
 * Replies 0 if the command may run, else -1 (refusal sent).
 */
static int
gate(struct session *s, const struct cmd_def *d)
{
	if (s->srv->cfg.require_tls && s->tls_state != STLS_ON &&
	    !(d->gate & G_PRETLS)) {
		sess_reply(s, "ERROR TLS TLS required: send STARTTLS first");
		return -1;
	}
	if ((d->gate & G_AUTH) && !s->authed) {
		sess_reply(s, "ERROR AUTH login required");
		return -1;
	}
	if ((d->gate & G_WRITE) && s->readonly) {
		sess_reply(s, "ERROR PERM anonymous access is read-only");
		return -1;
	}
	return 0;
}

static const struct cmd_def *
lookup(const char *verb)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmd_table[i].verb, verb) == 0)
			return &cmd_table[i];
	return NULL;
}

void
cmd_dispatch(struct session *s, char *line)
{
	struct proto_cmd c;
	char err[FTX_ERRLEN], enc[PROTO_ENC_NAME_MAX], verb[sizeof(c.verb)];
	const struct cmd_def *d = NULL;
	int rc;

	/* Free-text verbs are split differently, so the verb is looked at
	 * (undecoded) before the line is split. */
	if (proto_peek_verb(line, verb, sizeof(verb)) == 0)
		d = lookup(verb);
	if (d != NULL && d->text_at >= 0)
		rc = proto_split_text(line, &c, d->text_at, err, sizeof(err));
	else
		rc = proto_split(line, &c, err, sizeof(err));
	if (rc == -1) {
		sess_reply(s, "ERROR SYNTAX %s", err);
		return;
	}
	d = lookup(c.verb);
	if (d != NULL && d->text_at >= 0 && strcmp(verb, c.verb) != 0) {
		sess_reply(
		    s, "ERROR SYNTAX %s must not be percent-encoded", d->verb);
		return;
	}
	if (d == NULL) {
		proto_encode_name(enc, c.verb);
		sess_reply(s, "ERROR UNKNOWN unknown command: %s", enc);
		return;
	}
	if (c.argc < d->min_args || c.argc > d->max_args) {
		sess_reply(s, "ERROR SYNTAX usage: %s", d->usage);
		return;
	}
	if (gate(s, d) == -1)
		return;
	/* SECURITY: chat text never reaches the log from here; the room
	 * decides what it logs (bodies only with --log-chat). */
	if (d->log == LOG_ARG && c.argc > 0 &&
	    strlen(c.argv[0]) <= FTX_RPATH_MAX) {
		log_msg(s->peerstr, "cmd %s %s", c.verb,
		    log_esc(enc, sizeof(enc), c.argv[0]));
	} else if (d->log != LOG_NONE) {
		log_msg(s->peerstr, "cmd %s", c.verb);
	}
	d->handler(s, &c);
}

static void
cmd_help(struct session *s, struct proto_cmd *c)
{
	size_t i;

	(void)c;
	sess_reply(s, "OK %zu", NCMDS);
	for (i = 0; i < NCMDS; i++)
		sess_reply(s, "HELP %s", cmd_table[i].usage);
	sess_reply(s, "DONE");
}

static void
cmd_noop(struct session *s, struct proto_cmd *c)
{
	(void)c;
	sess_reply(s, "OK");
}

static void
cmd_quit(struct session *s, struct proto_cmd *c)
{
	(void)c;
	room_leave(s, "quit");
	sess_close_after(s, "OK bye");
}

/* --- chat and echo ------------------------------------------------------ */

/* A logged-in user's nick defaults to the user name, and with
 * --chat-nick-is-user must be it. */
static void
cmd_join(struct session *s, struct proto_cmd *c)
{
	const char *nick = c->argc > 0 ? c->argv[0] : s->user;

	if (nick[0] == '\0') {
		sess_reply(s, "ERROR SYNTAX usage: JOIN <nick>");
		return;
	}
	if (s->srv->cfg.chat_nick_is_user && s->user[0] != '\0' &&
	    strcmp(nick, s->user) != 0) {
		sess_reply(s, "ERROR PERM your nick must be your user name");
		return;
	}
	room_join(s, nick);
}

static void
cmd_leave(struct session *s, struct proto_cmd *c)
{
	(void)c;
	room_leave_cmd(s);
}

static void
cmd_say(struct session *s, struct proto_cmd *c)
{
	room_say(s, c->argv[0]);
}

static void
cmd_msg(struct session *s, struct proto_cmd *c)
{
	room_msg(s, c->argv[0], c->argv[1]);
}

static void
cmd_who(struct session *s, struct proto_cmd *c)
{
	(void)c;
	room_who(s);
}

static void
cmd_whoami(struct session *s, struct proto_cmd *c)
{
	const char *nick = room_nick(s);

	(void)c;
	sess_reply(s, "OK %s %s %s", nick != NULL ? nick : "-", s->peerstr,
	    s->user[0] != '\0' ? s->user : "-");
}

static void
cmd_time(struct session *s, struct proto_cmd *c)
{
	char ts[CHAT_TS_LEN];
	struct timespec now;

	(void)c;
	clock_gettime(CLOCK_REALTIME, &now);
	if (chat_format_ts(ts, sizeof(ts), &now) == -1) {
		sess_reply(s, "ERROR INTERNAL clock");
		return;
	}
	sess_reply(s, "OK %s %lld", ts, (long long)now.tv_sec);
}

/* The payload is at most FTX_ECHO_MAX bytes because its line fit, so
 * the reply fits one line too (the check is belt and braces). */
static void
cmd_echo(struct session *s, struct proto_cmd *c)
{
	size_t n = strlen(c->argv[0]);
	char line[FTX_LINE_MAX];

	if (n > FTX_ECHO_MAX) {
		sess_reply(s, "ERROR SYNTAX payload too long");
		return;
	}
	line[0] = 'O';
	line[1] = 'K';
	line[2] = ' ';
	memcpy(line + 3, c->argv[0], n);
	line[n + 3] = '\n';
	sess_reply_raw(s, line, n + 4);
}

/* --- server statistics -------------------------------------------------- */

/* STATS for one account: uptime and what this user's own sessions and
 * transfers did (docs/PROTOCOL.md, Statistics). */
static int
stats_user_line(const struct session *s, char *out, size_t n)
{
	struct counters_now now = {loop_now_ms(), 0, 0, 0, 0};
	const struct session *k;

	for (k = s->srv->sessions.head; k != NULL; k = k->next)
		now.sessions += k->ust == s->ust;
	xfer_count_user(s->srv, s->ust, &now.xfers_running, &now.xfers_pending);
	return counters_user_line(s->ust != NULL ? s->ust->counts : NULL,
	    s->srv->stats.start_ms, &now, out, n);
}

int
cmd_stats_line(const struct ctx *srv, char *out, size_t n)
{
	struct counters_now now;

	now.now_ms = loop_now_ms();
	now.sessions = srv->sessions.n;
	now.chat = srv->room->n;
	now.xfers_running = xfer_running(srv);
	now.xfers_pending = xfer_pending(srv);
	return counters_line(&srv->stats, &now, out, n);
}

/* One line of key=value pairs (docs/PROTOCOL.md, STATS); the server-wide
 * line is the same text SIGUSR1 writes to the log. */
static void
cmd_stats(struct session *s, struct proto_cmd *c)
{
	char line[512];
	int rc;

	(void)c;
	/* SECURITY: with accounts, a user (anonymous included) sees only
	 * their own account's activity: who else is connected and how much
	 * they move is the operator's business (SIGUSR1, the log).  The
	 * single-user server without accounts shows the whole server. */
	if (s->srv->accounts)
		rc = stats_user_line(s, line, sizeof(line));
	else
		rc = cmd_stats_line(s->srv, line, sizeof(line));
	if (rc == -1) {
		sess_reply(s, "ERROR INTERNAL statistics do not fit a line");
		return;
	}
	sess_reply(s, "OK %s", line);
}

/* --- STARTTLS ---------------------------------------------------------- */

static void
cmd_starttls(struct session *s, struct proto_cmd *c)
{
	char err[FTX_ERRLEN];

	(void)c;
	if (s->xfer != NULL) {
		sess_reply(s, "ERROR BUSY a transfer is in progress");
		return;
	}
	if (s->srv->tls == NULL) {
		sess_reply(
		    s, "ERROR TLS not offered (no certificate configured)");
		return;
	}
	if (sess_starttls(s, err, sizeof(err)) == -1) {
		sess_reply(s, "ERROR TLS %s", err);
		return;
	}
	sess_reply(s, "OK begin TLS");
}

void
cmd_tick(struct ctx *srv, long long now)
{
	fop_tick(srv, now);
	login_tick(srv, now);
}

/* --- the session layer's hooks ----------------------------------------- */

/* The session's output drained: the next piece of a LIST or an LS. */
static void
cmd_drain(struct session *s)
{
	fop_pump(s);
	dop_pump(s);
}

/* A new control connection: the greeting, with the capabilities after
 * "ready" (docs/PROTOCOL.md). */
static void
cmd_open(struct session *s)
{
	const struct ctx *srv = s->srv;

	/* Without accounts every session may do everything at once. */
	s->authed = !srv->accounts;
	sess_reply(s, "OK %s ftxd/%s ready%s%s%s%s folders stream",
	    FTX_PROTO_VERSION, FTX_VERSION, srv->tls != NULL ? " tls" : "",
	    srv->cfg.require_tls ? " tls-required" : "",
	    srv->accounts ? " login" : "",
	    srv->accounts && srv->cfg.anonymous != CFG_ANON_OFF ? " anonymous"
								: "");
}

/* The session is being freed: leave the room (announced), let go of
 * its storage, and detach its job and transfer, which may still
 * finish. */
static void
cmd_close(struct session *s)
{
	room_gone(s);
	auth_unref(s->srv, s->ust);
	s->ust = NULL;
	if (s->busy != NULL)
		sjob_detach(s->busy);
	if (s->xfer != NULL)
		xfer_session_gone(s->xfer);
}

const struct sess_hooks cmd_hooks = {
    .on_open = cmd_open,
    .on_line = cmd_dispatch,
    .on_drain = cmd_drain,
    .unsent = fop_unsent,
    .frees = fop_frees,
    .held = fop_held,
    .on_leave = room_leave,
    .on_close = cmd_close,
};

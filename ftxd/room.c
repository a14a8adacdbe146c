/*
 * room.c - the chat room.  See room.h and docs/PROTOCOL.md, "Chat".
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat.h"
#include "chatbus.h"
#include "ctx.h"
#include "flood.h"
#include "log.h"
#include "loop.h"
#include "room.h"
#include "session.h"
#include "str.h"

/*
 * NOLINTBEGIN(clang-analyzer-unix.Malloc): the analyzer cannot follow
 * members being unlinked before they are freed (it assumes the next
 * r->head may still be the freed member) and reports uses after free
 * that cannot happen.  This file's list handling runs under ASan in the
 * chat integration tests (make asan) instead.
 */

struct member {
	struct session *sess;
	char nick[FTX_NICK_MAX + 1];
	int slow; /* over the output cap: to be disconnected */
	int pending; /* JOIN waits for the bus to claim the nick */
	struct member *prev, *next_m;
};

/* A chat command waiting for the bus (s->chat_wait): the session reads
 * no further line until it is answered. */
struct room_wait {
	struct session *sess; /* NULL once the session has gone */
	struct room *r;
	struct member *m; /* JOIN: the member waiting for its nick */
	char ts[CHAT_TS_LEN]; /* MSG: the message, for the sender's echo */
	char to[FTX_NICK_MAX + 1];
	char text[FTX_CHAT_TEXT_MAX + 1];
};

static const char bus_lost[] =
    "chat bus lost; messages are not delivered across nodes until it is "
    "back";

/* MSG <ts> <nick> <text>: the longest push, plus its LF. */
#define PUSH_MAX (16 + CHAT_TS_LEN + 2 * FTX_NICK_MAX + FTX_CHAT_TEXT_MAX)

void
room_init(struct room *r)
{
	memset(r, 0, sizeof(*r));
}

const char *
room_nick(const struct session *s)
{
	return s->chat != NULL ? s->chat->nick : NULL;
}

static void
now_ts(char *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (chat_format_ts(ts, CHAT_TS_LEN, &now) == -1)
		abort(); /* the format is fixed-size */
}

/* Build one push line, LF included; its length.  Parts are bounded by
 * the checks that admitted them, so overflow is an internal error. */
static size_t push_fmt(char *line, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static size_t
push_fmt(char *line, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	if (str_vfmt(line, PUSH_MAX - 1, fmt, ap) == -1)
		abort();
	va_end(ap);
	n = strlen(line);
	line[n++] = '\n';
	return n;
}

/* SECURITY: the one place pushes are queued: a member that does not
 * read is marked slow (and dropped by reap_slow) instead. */
static void
deliver(struct member *m, const char *line, size_t n)
{
	struct session *t = m->sess;

	if (m->slow || m->pending || t->closing)
		return;
	if (t->out.len + n > FTX_CHAT_QUEUE_MAX) {
		m->slow = 1;
		t->srv->room->nslow++;
		return;
	}
	sess_reply_raw(t, line, n);
}

static void
unlink_member(struct room *r, struct member *m)
{
	if (m->prev != NULL)
		m->prev->next_m = m->next_m;
	else
		r->head = m->next_m;
	if (m->next_m != NULL)
		m->next_m->prev = m->prev;
	else
		r->tail = m->prev;
	if (!m->pending)
		r->n--;
}

static void reap_slow(struct room *r);

static void
broadcast(struct room *r, const char *line, size_t n)
{
	struct member *m;

	for (m = r->head; m != NULL; m = m->next_m)
		deliver(m, line, n);
	reap_slow(r);
}

/*
 * A room push (MSG, JOIN, LEFT) from this node: out through the bus
 * while it is up, and shown to our members only when it comes back
 * (room_bus_push), so every node shows Redis' order; straight to our
 * members otherwise.
 */
static void
send_room(struct room *r, char *line, size_t n)
{
	int rc;

	if (r->bus != NULL && chatbus_up(r->bus)) {
		line[n - 1] = '\0'; /* the bus takes the line without its LF */
		rc = chatbus_publish(r->bus, line);
		line[n - 1] = '\n';
		if (rc == 0)
			return;
	}
	broadcast(r, line, n);
}

/* Remove a member and tell the rest of the room. */
static void
depart(struct room *r, struct member *m, const char *reason)
{
	char line[PUSH_MAX], ts[CHAT_TS_LEN];
	struct session *s = m->sess;
	size_t n;

	unlink_member(r, m);
	if (m->slow)
		r->nslow--;
	s->chat = NULL;
	log_msg(s->peerstr, "chat left nick=%s reason=%s members=%zu", m->nick,
	    reason, r->n);
	if (r->bus != NULL)
		chatbus_release(r->bus, m->nick);
	now_ts(ts);
	n = push_fmt(line, "LEFT %s %s %s", ts, m->nick, reason);
	free(m);
	send_room(r, line, n);
}

/* Disconnect every member marked slow.  Announcing one departure can
 * make another member slow, so this repeats until none is left; the
 * flag keeps the nested broadcast from recursing. */
static void
reap_slow(struct room *r)
{
	struct member *m;

	/* Every broadcast ends here: without slow members (the usual case)
	 * it must not walk the room a second time. */
	if (r->reaping || r->nslow == 0)
		return;
	r->reaping = 1;
	for (;;) {
		for (m = r->head; m != NULL && !m->slow; m = m->next_m)
			;
		if (m == NULL)
			break;
		log_msg(m->sess->peerstr,
		    "chat: more than %d bytes unsent; disconnecting",
		    FTX_CHAT_QUEUE_MAX);
		sess_drop(m->sess);
		depart(r, m, "slow");
	}
	r->reaping = 0;
}

void
room_leave(struct session *s, const char *reason)
{
	if (s->chat != NULL)
		depart(s->srv->room, s->chat, reason);
}

/*
 * SECURITY: flood control.  A session may take `--chat-rate` chat actions
 * (SAY, MSG, JOIN, LEAVE) in any FTX_CHAT_RATE_WINDOW_S seconds, from one
 * budget kept in the session (flood.c), so leaving and rejoining does
 * not renew it; the excess is refused, and FTX_CHAT_STRIKES refusals in a
 * row disconnect.  `nick` is for the log.  Returns 0 if the action may
 * go (and records it), -1 if refused (replied).
 */
static int
rate_ok(struct session *s, const char *nick)
{
	int rate = s->srv->cfg.chat_rate;

	switch (flood_take(&s->chat_flood, rate, loop_now_ms())) {
	case 0:
		return 0;
	case -1:
		sess_reply(s, "ERROR INTERNAL out of memory");
		return -1;
	}
	if (s->chat_flood.strikes >= FTX_CHAT_STRIKES) {
		log_msg(s->peerstr, "chat flood nick=%s; disconnecting", nick);
		room_leave(s, "flood");
		sess_close_after(s, "ERROR FLOOD too many messages");
		return -1;
	}
	sess_reply(s, "ERROR RATE more than %d messages in %d s", rate,
	    FTX_CHAT_RATE_WINDOW_S);
	return -1;
}

void
room_leave_cmd(struct session *s)
{
	if (s->chat == NULL) {
		sess_reply(s, "ERROR NOTJOINED not in the room");
		return;
	}
	if (rate_ok(s, s->chat->nick) == -1)
		return;
	sess_reply(s, "OK");
	room_leave(s, "leave");
}

/* The session goes while a command waits for the bus: the answer,
 * when it comes, finds no session; a member waiting for its nick goes
 * now, and its claim is released behind it. */
static void
wait_gone(struct session *s)
{
	struct room_wait *w = s->chat_wait;
	struct member *m;

	if (w == NULL)
		return;
	s->chat_wait = NULL;
	w->sess = NULL;
	if ((m = w->m) != NULL) {
		w->m = NULL;
		unlink_member(w->r, m);
		if (w->r->bus != NULL)
			chatbus_release(w->r->bus, m->nick);
		free(m);
	}
}

void
room_gone(struct session *s)
{
	wait_gone(s);
	room_leave(s, "disconnect");
	flood_free(&s->chat_flood);
}

/* The member with that nick, or NULL; `waiting`: members waiting for
 * the bus to claim their nick count too. */
static struct member *
find(struct room *r, const char *nick, int waiting)
{
	struct member *m;

	for (m = r->head; m != NULL; m = m->next_m)
		if ((waiting || !m->pending) && chat_nick_eq(m->nick, nick))
			return m;
	return NULL;
}

static struct room_wait *
wait_new(struct session *s)
{
	struct room_wait *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->sess = s;
	w->r = s->srv->room;
	return w;
}

/* The answer came: the session reads on. */
static void
wait_done(struct room_wait *w)
{
	struct session *s = w->sess;

	free(w);
	if (s != NULL) {
		s->chat_wait = NULL;
		sess_resume(s);
	}
}

/* The nick is ours: the member is in, and everyone is told. */
static void
joined(struct session *s, struct member *m)
{
	char line[PUSH_MAX], ts[CHAT_TS_LEN];
	struct room *r = s->srv->room;

	m->pending = 0;
	r->n++;
	s->chat = m;
	log_msg(s->peerstr, "chat join nick=%s members=%zu", m->nick, r->n);
	sess_reply(s, "OK %s", m->nick);
	now_ts(ts);
	if (r->bus != NULL && !chatbus_up(r->bus))
		sess_reply(s, "NOTICE %s %s", ts, bus_lost);
	send_room(r, line, push_fmt(line, "JOIN %s %s", ts, m->nick));
}

/* The bus answered a JOIN's claim.  Down: the node's room alone (the
 * bus claims the nick when it is back). */
static void
claim_done(void *arg, int result, const char *name)
{
	struct room_wait *w = arg;
	struct member *m = w->m;

	(void)name;
	if (w->sess != NULL && m != NULL) {
		w->m = NULL;
		if (result == CHATBUS_REFUSED) {
			unlink_member(w->r, m);
			sess_reply(w->sess,
			    "ERROR NICKTAKEN nickname in use: %s", m->nick);
			free(m);
		} else {
			joined(w->sess, m);
		}
	}
	wait_done(w);
}

void
room_join(struct session *s, const char *nick)
{
	char err[FTX_ERRLEN];
	struct room *r = s->srv->room;
	struct room_wait *w;
	struct member *m;

	if (s->chat != NULL) {
		sess_reply(
		    s, "ERROR JOINED already in the room as %s", s->chat->nick);
		return;
	}
	if (chat_nick_check(nick, err, sizeof(err)) == -1) {
		sess_reply(s, "ERROR BADNICK %s", err);
		return;
	}
	if (find(r, nick, 1) != NULL) {
		sess_reply(s, "ERROR NICKTAKEN nickname in use: %s", nick);
		return;
	}
	if (rate_ok(s, nick) == -1)
		return;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		sess_reply(s, "ERROR INTERNAL out of memory");
		return;
	}
	m->sess = s;
	if (str_copy(m->nick, sizeof(m->nick), nick) == -1)
		abort(); /* checked above */
	m->pending = 1; /* not counted, not shown, until joined() */
	m->prev = r->tail;
	if (r->tail != NULL)
		r->tail->next_m = m;
	else
		r->head = m;
	r->tail = m;
	if (r->bus != NULL && chatbus_up(r->bus) && (w = wait_new(s)) != NULL) {
		w->m = m;
		if (chatbus_claim(r->bus, nick, claim_done, w) == 0) {
			s->chat_wait = w;
			return;
		}
		free(w);
	} else if (r->bus != NULL) {
		(void)chatbus_claim(r->bus, nick, NULL, NULL);
	}
	joined(s, m);
}

/* Common checks for SAY and MSG; 0 if the message may be sent. */
static int
can_send(struct session *s, const char *text)
{
	char err[FTX_ERRLEN];

	if (s->chat == NULL) {
		sess_reply(s, "ERROR NOTJOINED join the room first");
		return -1;
	}
	if (text == NULL || chat_text_check(text, err, sizeof(err)) == -1) {
		sess_reply(s, "ERROR BADTEXT %s",
		    text == NULL ? "message is empty" : err);
		return -1;
	}
	return rate_ok(s, s->chat->nick);
}

static void
log_message(struct session *s, const char *to, const char *text)
{
	char enc[LOG_ESC_SIZE(FTX_CHAT_TEXT_MAX)];

	if (s->srv->cfg.log_chat)
		log_msg(s->peerstr, "chat %s nick=%s%s%s text=%s",
		    to ? "msg" : "say", s->chat->nick, to ? " to=" : "",
		    to ? to : "", log_esc(enc, sizeof(enc), text));
	else
		log_msg(s->peerstr, "chat %s nick=%s%s%s bytes=%zu",
		    to ? "msg" : "say", s->chat->nick, to ? " to=" : "",
		    to ? to : "", strlen(text));
}

void
room_say(struct session *s, const char *text)
{
	char line[PUSH_MAX], ts[CHAT_TS_LEN];
	struct room *r = s->srv->room;

	if (can_send(s, text) == -1)
		return;
	log_message(s, NULL, text);
	now_ts(ts);
	send_room(
	    r, line, push_fmt(line, "MSG %s %s %s", ts, s->chat->nick, text));
	/* The sender may have been dropped as slow by its own message. */
	if (!s->closing)
		sess_reply(s, "OK");
}

/* The bus answered a private message to another node's member: the
 * sender's echo and OK, or no such nick. */
static void
priv_done(void *arg, int result, const char *name)
{
	char line[PUSH_MAX];
	struct room_wait *w = arg;
	struct session *s = w->sess;

	if (s != NULL && result == CHATBUS_OK) {
		if (s->chat != NULL) {
			deliver(s->chat, line,
			    push_fmt(line, "PRIV %s %s %s %s", w->ts,
				s->chat->nick, name, w->text));
			reap_slow(w->r);
		}
		if (!s->closing)
			sess_reply(s, "OK");
	} else if (s != NULL) {
		sess_reply(s, "ERROR NOSUCHNICK no such nickname%s: %s",
		    result == CHATBUS_FAILED ? " here (chat bus down)" : "",
		    w->to);
	}
	wait_done(w);
}

/* To a member of another node, through the bus; 0 if it went (the
 * session waits for priv_done), -1 if the bus is down. */
static int
msg_remote(struct session *s, const char *to, const char *text, const char *ts)
{
	char line[PUSH_MAX];
	struct room *r = s->srv->room;
	struct room_wait *w;
	size_t n;

	if (r->bus == NULL || !chatbus_up(r->bus) || (w = wait_new(s)) == NULL)
		return -1;
	(void)str_copy(w->ts, sizeof(w->ts), ts);
	(void)str_copy(w->text, sizeof(w->text), text);
	(void)str_copy(w->to, sizeof(w->to), to);
	n = push_fmt(line, "PRIV %s %s %s %s", ts, s->chat->nick, to, text);
	line[n - 1] = '\0';
	if (chatbus_priv(r->bus, to, line, priv_done, w) == -1) {
		free(w);
		return -1;
	}
	s->chat_wait = w;
	return 0;
}

void
room_msg(struct session *s, const char *to, const char *text)
{
	char line[PUSH_MAX], ts[CHAT_TS_LEN], err[FTX_ERRLEN];
	struct room *r = s->srv->room;
	struct member *t;
	size_t n;

	if (chat_nick_check(to, err, sizeof(err)) == -1) {
		sess_reply(s, "ERROR BADNICK %s", err);
		return;
	}
	if (can_send(s, text) == -1)
		return;
	now_ts(ts);
	if ((t = find(r, to, 0)) == NULL) {
		log_message(s, to, text);
		if (msg_remote(s, to, text, ts) == -1)
			sess_reply(s, "ERROR NOSUCHNICK no such nickname%s: %s",
			    r->bus != NULL ? " here (chat bus down)" : "", to);
		return;
	}
	log_message(s, t->nick, text);
	n = push_fmt(
	    line, "PRIV %s %s %s %s", ts, s->chat->nick, t->nick, text);
	deliver(t, line, n);
	if (t != s->chat)
		deliver(s->chat, line, n);
	reap_slow(r);
	if (!s->closing)
		sess_reply(s, "OK");
}

/* Members in joining order: "OK <n>", "NICK <nick>" each, "DONE". */
static void
who_local(struct session *s)
{
	struct room *r = s->srv->room;
	struct member *m;

	sess_reply(s, "OK %zu", r->n);
	for (m = r->head; m != NULL; m = m->next_m)
		if (!m->pending)
			sess_reply(s, "NICK %s", m->nick);
	sess_reply(s, "DONE");
}

/* Every node's members, from the bus; this node's if it went down. */
static void
who_done(void *arg, int result, const char *const *nicks, size_t n)
{
	struct room_wait *w = arg;
	struct session *s = w->sess;
	size_t i;

	if (s != NULL && result != CHATBUS_OK) {
		who_local(s);
	} else if (s != NULL) {
		sess_reply(s, "OK %zu", n);
		for (i = 0; i < n; i++)
			sess_reply(s, "NICK %s", nicks[i]);
		sess_reply(s, "DONE");
	}
	wait_done(w);
}

void
room_who(struct session *s)
{
	struct room *r = s->srv->room;
	struct room_wait *w;

	if (r->bus != NULL && chatbus_up(r->bus) && (w = wait_new(s)) != NULL) {
		if (chatbus_who(r->bus, who_done, w) == 0) {
			s->chat_wait = w;
			return;
		}
		free(w);
	}
	who_local(s);
}

void
room_notice(struct room *r, const char *text)
{
	char line[PUSH_MAX], ts[CHAT_TS_LEN];

	now_ts(ts);
	broadcast(r, line, push_fmt(line, "NOTICE %s %s", ts, text));
}

/* --- the bus's hooks ------------------------------------------------------ */

/* A room push from the bus (checked by chatwire_decode): to every
 * member of this node. */
static void
bus_push(void *arg, const struct chat_push *p)
{
	char line[PUSH_MAX];
	struct room *r = arg;
	size_t n;

	switch (p->kind) {
	case CHAT_MSG:
		n = push_fmt(line, "MSG %s %s %s", p->ts, p->from, p->text);
		break;
	case CHAT_JOIN:
		n = push_fmt(line, "JOIN %s %s", p->ts, p->from);
		break;
	case CHAT_LEFT:
		n = push_fmt(line, "LEFT %s %s %s", p->ts, p->from, p->text);
		break;
	default:
		return;
	}
	broadcast(r, line, n);
}

/* A private message from another node for one of our members. */
static void
bus_priv(void *arg, const struct chat_push *p)
{
	char line[PUSH_MAX];
	struct room *r = arg;
	struct member *t;

	if ((t = find(r, p->to, 0)) == NULL)
		return; /* gone meanwhile: at most once */
	deliver(t, line,
	    push_fmt(
		line, "PRIV %s %s %s %s", p->ts, p->from, t->nick, p->text));
	reap_slow(r);
}

static void
bus_state(void *arg, int up)
{
	room_notice(arg, up ? "chat bus back" : bus_lost);
}

/* Another node holds the nick now (claimed while we were cut off): the
 * member leaves, and is told why. */
static void
bus_lost_nick(void *arg, const char *nick)
{
	char ts[CHAT_TS_LEN];
	struct room *r = arg;
	struct member *m;
	struct session *s;

	if ((m = find(r, nick, 0)) == NULL)
		return;
	s = m->sess;
	depart(r, m, "conflict");
	now_ts(ts);
	sess_reply(s,
	    "NOTICE %s nickname %s is in use on another node; you have left "
	    "the room",
	    ts, nick);
}

static const struct chatbus_hooks bus_hooks = {
    .push = bus_push,
    .priv = bus_priv,
    .state = bus_state,
    .lost_nick = bus_lost_nick,
};

int
room_bus_open(struct room *r, struct loop *l, const char *url,
    const char *node_id, char *err, size_t errlen)
{
	return chatbus_new(
	    &r->bus, l, url, node_id, &bus_hooks, r, err, errlen);
}

void
room_tick(struct room *r, long long now)
{
	chatbus_tick(r->bus, now);
}

/* At exit: no one is left to tell, so members go without a LEFT; their
 * nicks are released first, which closing the bus sends. */
void
room_free(struct room *r)
{
	struct chatbus *b = r->bus;
	struct member *m;

	for (m = r->head; m != NULL && b != NULL; m = m->next_m)
		chatbus_release(b, m->nick);
	r->bus = NULL; /* answers failed by closing it stay local */
	chatbus_free(b);
	while ((m = r->head) != NULL) {
		unlink_member(r, m);
		m->sess->chat = NULL;
		free(m);
	}
}

/* NOLINTEND(clang-analyzer-unix.Malloc) */

/*
 * room.c - the chat room.  See room.h and docs/PROTOCOL.md, "Chat".
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat.h"
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
	struct member *prev, *next_m;
};

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

	if (m->slow || t->closing)
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
	now_ts(ts);
	n = push_fmt(line, "LEFT %s %s %s", ts, m->nick, reason);
	free(m);
	broadcast(r, line, n);
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

void
room_gone(struct session *s)
{
	room_leave(s, "disconnect");
	flood_free(&s->chat_flood);
}

static struct member *
find(struct room *r, const char *nick)
{
	struct member *m;

	for (m = r->head; m != NULL; m = m->next_m)
		if (chat_nick_eq(m->nick, nick))
			return m;
	return NULL;
}

void
room_join(struct session *s, const char *nick)
{
	char err[FTX_ERRLEN], line[PUSH_MAX], ts[CHAT_TS_LEN];
	struct room *r = s->srv->room;
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
	if (find(r, nick) != NULL) {
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
	m->prev = r->tail;
	if (r->tail != NULL)
		r->tail->next_m = m;
	else
		r->head = m;
	r->tail = m;
	r->n++;
	s->chat = m;
	log_msg(s->peerstr, "chat join nick=%s members=%zu", nick, r->n);
	sess_reply(s, "OK %s", nick);
	now_ts(ts);
	broadcast(r, line, push_fmt(line, "JOIN %s %s", ts, nick));
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
	broadcast(
	    r, line, push_fmt(line, "MSG %s %s %s", ts, s->chat->nick, text));
	/* The sender may have been dropped as slow by its own message. */
	if (!s->closing)
		sess_reply(s, "OK");
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
	if ((t = find(r, to)) == NULL) {
		sess_reply(s, "ERROR NOSUCHNICK no such nickname: %s", to);
		return;
	}
	log_message(s, t->nick, text);
	now_ts(ts);
	n = push_fmt(
	    line, "PRIV %s %s %s %s", ts, s->chat->nick, t->nick, text);
	deliver(t, line, n);
	if (t != s->chat)
		deliver(s->chat, line, n);
	reap_slow(r);
	if (!s->closing)
		sess_reply(s, "OK");
}

void
room_who(struct session *s)
{
	struct room *r = s->srv->room;
	struct member *m;

	sess_reply(s, "OK %zu", r->n);
	for (m = r->head; m != NULL; m = m->next_m)
		sess_reply(s, "NICK %s", m->nick);
	sess_reply(s, "DONE");
}

void
room_notice(struct room *r, const char *text)
{
	char line[PUSH_MAX], ts[CHAT_TS_LEN];

	now_ts(ts);
	broadcast(r, line, push_fmt(line, "NOTICE %s %s", ts, text));
}

/* At exit: no one is left to tell, so members go without a LEFT. */
void
room_free(struct room *r)
{
	struct member *m;

	while ((m = r->head) != NULL) {
		unlink_member(r, m);
		m->sess->chat = NULL;
		free(m);
	}
}

/* NOLINTEND(clang-analyzer-unix.Malloc) */

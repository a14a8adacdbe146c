/*
 * room.h - the chat room: one per server, over control connections.
 *
 * Members are kept in joining order.  Every push goes through one
 * delivery function that enforces the slow-reader cap: a member with more
 * than FTX_CHAT_QUEUE_MAX bytes of unsent output is disconnected instead
 * of queued to, so a client that stops reading never holds up the room or
 * grows our memory.  The room functions send their own replies.
 */
#ifndef FTXD_ROOM_H
#define FTXD_ROOM_H

#include <stddef.h>

struct session;
struct member;

struct room {
	struct member *head, *tail; /* in joining order */
	size_t n;
	size_t nslow; /* members marked slow, not yet dropped */
	int reaping; /* inside reap_slow() */
};

void room_init(struct room *r);
/* JOIN: validate the nick, refuse duplicates, announce. */
void room_join(struct session *s, const char *nick);
/* Leave with a reason ("leave", "quit", "timeout", ...), announced to the
 * others exactly once; a no-op for a session not in the room. */
void room_leave(struct session *s, const char *reason);
/* LEAVE: room_leave plus the reply. */
void room_leave_cmd(struct session *s);
/* The session is closing: leave ("disconnect") and free its flood
 * budget. */
void room_gone(struct session *s);
void room_say(struct session *s, const char *text);
void room_msg(struct session *s, const char *to, const char *text);
void room_who(struct session *s);
/* The session's nick, or NULL if it is not in the room. */
const char *room_nick(const struct session *s);
/* A NOTICE to everyone in the room. */
void room_notice(struct room *r, const char *text);
/* The room's members have left (shutdown); frees nothing else. */
void room_free(struct room *r);

#endif /* FTXD_ROOM_H */

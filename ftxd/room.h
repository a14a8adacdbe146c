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

struct chatbus;
struct loop;
struct member;
struct session;

struct room {
	struct member *head, *tail; /* in joining order, waiting ones too */
	size_t n; /* members (not those waiting for their nick) */
	size_t nslow; /* members marked slow, not yet dropped */
	int reaping; /* inside reap_slow() */
	/* --chat-redis: the room of every node (chatbus.h), or NULL. */
	struct chatbus *bus;
};

void room_init(struct room *r);
/*
 * --chat-redis URL: from now on the room spans every node on that
 * Redis (chatbus.h).  While the bus is up, room pushes go out through
 * it and members see them only as it echoes them (one order on every
 * node); a JOIN, an @nick to a member of another node and /who wait
 * for Redis (the session reads no further line meanwhile).  While it is
 * down, the room is this node's alone, and members are told.  0, or -1
 * with a reason.
 */
int room_bus_open(struct room *r, struct loop *l, const char *url,
    const char *node_id, char *err, size_t errlen);
/* Timers of the bus (each loop tick). */
void room_tick(struct room *r, long long now);
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
/* The room's members have left (shutdown): their nicks are released
 * and the bus closed; frees nothing else. */
void room_free(struct room *r);

#endif /* FTXD_ROOM_H */

/*
 * chatwire.h - what the chat bus (chatbus.c) puts on Redis and takes
 * from it, as pure functions (no I/O), so tests/unit/test_chatwire.c can
 * feed them hostile input: the --chat-redis URL, node ids, Redis key and
 * channel names, and the framing of a chat push on the bus.
 *
 * A message on the bus is "ftx1 <node> <push>": a version tag, the id of
 * the node that published it and one push line exactly as a client
 * receives it (docs/PROTOCOL.md, "Chat"), without its LF.  Whoever can
 * PUBLISH to the Redis server can put anything there, so a received
 * message is checked like a line from a client before a member sees it.
 */
#ifndef FTXD_CHATWIRE_H
#define FTXD_CHATWIRE_H

#include <stddef.h>

#include "chat.h"
#include "ftx_limits.h"

/* The longest push line: PRIV <ts> <from> <to> <text>. */
#define CHATWIRE_PUSH_MAX                                                      \
	(16 + CHAT_TS_LEN + 2 * FTX_NICK_MAX + FTX_CHAT_TEXT_MAX)
/* The longest message on the bus, without a NUL. */
#define CHATWIRE_MAX (5 + FTX_NODE_ID_MAX + 1 + CHATWIRE_PUSH_MAX)
/* Key and channel names: a prefix and a nick or node id. */
#define CHATWIRE_NAME_MAX 64

/* Where the messages of a channel go, which decides the kinds allowed:
 * the room channel carries MSG, JOIN and LEFT, a node's own channel
 * PRIV. */
enum chatwire_chan { CHATWIRE_ROOM, CHATWIRE_NODE };

struct chatwire_url {
	char host[FTX_HOST_MAX + 1]; /* without brackets */
	int port;
	int db;
};

/* redis://HOST[:PORT][/DB] (HOST a name, an IPv4 address or [IPv6]);
 * port 6379 and database 0 by default.  SECURITY: no credentials, query
 * or anything after the database.  0, or -1 with a reason. */
int chatwire_parse_url(
    const char *url, struct chatwire_url *u, char *err, size_t errlen);

/* SECURITY: the node id check (FTX_NODE_ID_MAX).  0, or -1 with a
 * reason. */
int chatwire_node_check(const char *id, char *err, size_t errlen);

/* Names on Redis: "ftx:nick:<nick in lower case>" (the claim of a
 * nick), "ftx:node:<id>" (a node's private-message channel). */
int chatwire_nick_key(char *out, size_t n, const char *nick);
int chatwire_node_chan(char *out, size_t n, const char *node);
#define CHATWIRE_ROOM_CHAN "ftx:room"
#define CHATWIRE_WHO_KEY "ftx:who"

/* "ftx1 <node> <push>" into out; 0, or -1 if it does not fit. */
int chatwire_encode(char *out, size_t n, const char *node, const char *push);

/*
 * SECURITY: take one message from channel `chan` as hostile input: at
 * most CHATWIRE_MAX bytes, no NUL, CR or LF, the version tag, a valid
 * node id, a push that chat_parse_push accepts (nicks, text and
 * timestamp checked as a client would), of a kind the channel carries,
 * and a LEFT reason from the known list.  Fills `node` (FTX_NODE_ID_MAX
 * + 1 bytes) and `p`; 0, or -1 with a reason.
 */
int chatwire_decode(const char *msg, size_t len, enum chatwire_chan chan,
    char *node, struct chat_push *p, char *err, size_t errlen);

/* 1 if `reason` is one a LEFT push may carry. */
int chatwire_reason_ok(const char *reason);

#endif /* FTXD_CHATWIRE_H */

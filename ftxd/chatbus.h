/*
 * chatbus.h - the chat room across nodes, over Redis (--chat-redis).
 *
 * The room (room.c) publishes every room push (MSG, JOIN, LEFT) on one
 * Redis channel and shows its members only what comes back on its
 * subscription, so every node shows the one order Redis saw.  A node
 * has its own channel for private messages; a member's nick is claimed
 * in Redis (SET-if-absent with a TTL, refreshed by a heartbeat), which
 * makes it unique across nodes and frees it within FTX_CHATBUS_TTL_S of
 * its node dying; /who reads every node's members from Redis.
 *
 * Two connections (commands, and the subscription, which may carry
 * nothing else), both on the loop through redisev.c; nothing blocks.
 * When either breaks the bus is down: the owner is told, requests in
 * flight fail, and the bus reconnects with a doubling backoff,
 * resubscribes and claims its nicks again.  Pub/sub is at-most-once:
 * what was published while a node was away is not replayed to it.
 *
 * The room knows only this header: hiredis stays inside chatbus.c and
 * redisev.c.  Everything runs on the loop thread.
 */
#ifndef FTXD_CHATBUS_H
#define FTXD_CHATBUS_H

#include <stddef.h>

#include "ftx_limits.h"

struct chat_push;
struct chatbus;
struct loop;

/* What the bus hands up to its owner; every hook is required. */
struct chatbus_hooks {
	/* A checked room push (MSG, JOIN, LEFT) from any node, this one
	 * included, in the bus's order. */
	void (*push)(void *arg, const struct chat_push *p);
	/* A checked private message for a member of this node. */
	void (*priv)(void *arg, const struct chat_push *p);
	/* The bus was lost (0) or is back (1). */
	void (*state)(void *arg, int up);
	/* A nick this node had is claimed by another node (found by the
	 * heartbeat or when claiming again after the bus came back): its
	 * member must leave. */
	void (*lost_nick)(void *arg, const char *nick);
};

/* How a request ended. */
enum { CHATBUS_FAILED = -1, CHATBUS_REFUSED = 0, CHATBUS_OK = 1 };

/* Claim: `name` is NULL.  Private message: the target's nick as it
 * joined (CHATBUS_OK only). */
typedef void chatbus_done_fn(void *arg, int result, const char *name);
/* /who: the members of every node in joining order (CHATBUS_OK), `n`
 * of them, at most FTX_CHATBUS_WHO_MAX. */
typedef void chatbus_who_fn(
    void *arg, int result, const char *const *nicks, size_t n);

/* Parse `url`, resolve its host (now, at start-up: later connects use
 * the numeric address), take `node_id` or make a random one, and start
 * connecting.  0, or -1 with a reason. */
int chatbus_new(struct chatbus **bp, struct loop *l, const char *url,
    const char *node_id, const struct chatbus_hooks *h, void *arg, char *err,
    size_t errlen);
/* Flush what is queued (nick releases at shutdown) and close; requests
 * in flight fail first. */
void chatbus_free(struct chatbus *b);
/* 1 if connected and subscribed. */
int chatbus_up(const struct chatbus *b);
const char *chatbus_node(const struct chatbus *b);

/* Publish a room push line (no LF); 0, or -1 if the bus is down. */
int chatbus_publish(struct chatbus *b, const char *push);
/* Claim a nick for this node; 0 (fn is called once), or -1 if the bus
 * is down: the nick is then claimed when it is back. */
int chatbus_claim(
    struct chatbus *b, const char *nick, chatbus_done_fn *fn, void *arg);
/* The member has left: release its nick, if still this node's. */
void chatbus_release(struct chatbus *b, const char *nick);
/* A private push line (PRIV ...) for the node holding `to`; 0 (fn is
 * called: CHATBUS_REFUSED for no such nick), or -1 if down. */
int chatbus_priv(struct chatbus *b, const char *to, const char *push,
    chatbus_done_fn *fn, void *arg);
/* Every node's members; 0 (fn is called), or -1 if down. */
int chatbus_who(struct chatbus *b, chatbus_who_fn *fn, void *arg);
/* Timers (each loop tick): heartbeat, timeouts, reconnecting. */
void chatbus_tick(struct chatbus *b, long long now);

#endif /* FTXD_CHATBUS_H */

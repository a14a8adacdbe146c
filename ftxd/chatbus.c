/*
 * chatbus.c - the chat room across nodes, over Redis.  See chatbus.h.
 *
 * Redis holds, per member, "ftx:nick:<nick in lower case>" = "<node>
 * <nick>" with a TTL, and the sorted set "ftx:who" of nicks by the time
 * they joined (Redis' clock).  Small Lua scripts make each step one
 * atomic round trip: claiming (set if absent or already ours, then
 * refresh the TTL), releasing (delete only if still ours), a private
 * message (look the nick up and publish on its node's channel) and /who
 * (list the set, dropping names whose claim has expired or moved).
 *
 * Every command's reply comes back to on_reply with a struct breq that
 * says what it was for.  Callbacks from hiredis never tear a
 * connection down themselves: they set `failed`, and the next tick
 * frees both contexts (which fails the requests in flight) and
 * schedules the reconnect.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/rand.h>

#include "chat.h"
#include "chatbus.h"
#include "chatwire.h"
#include "log.h"
#include "loop.h"
#include "redisev.h"
#include "str.h"

enum bus_state { BUS_DOWN, BUS_CONNECTING, BUS_UP };

/* What a command was for. */
enum breq_kind {
	RQ_PUBLISH,
	RQ_SELECT,
	RQ_CLAIM, /* a JOIN waiting for it */
	RQ_RECLAIM, /* after the bus came back, or the heartbeat */
	RQ_RELEASE,
	RQ_PRIV,
	RQ_WHO
};

struct breq {
	struct chatbus *b;
	enum breq_kind kind;
	chatbus_done_fn *done;
	chatbus_who_fn *who;
	void *arg;
	char nick[FTX_NICK_MAX + 1];
};

struct chatbus {
	struct loop *loop;
	const struct chatbus_hooks *h;
	void *arg;
	char addr[INET6_ADDRSTRLEN]; /* the host, resolved at start-up */
	int port, db;
	char node[FTX_NODE_ID_MAX + 1];
	char node_chan[CHATWIRE_NAME_MAX];
	redisAsyncContext *cmd, *sub;
	enum bus_state state;
	int failed; /* a connection broke: tear down at the next tick */
	int freeing; /* chatbus_free: no more requests */
	int was_lost; /* down since start or since it was up: say "back" */
	int nsubs; /* subscriptions confirmed */
	long long next_try_ms, backoff_ms, connect_ms, beat_ms;
	size_t outstanding; /* commands without their reply yet */
	long long wait_ms; /* since the last reply, while outstanding */
	/* Nicks this node holds (or will claim when the bus is back). */
	char (*nicks)[FTX_NICK_MAX + 1];
	size_t nnicks, capnicks;
	unsigned long dropped; /* bad messages since the last log line */
	long long drop_log_ms;
};

/* KEYS: the nick's key, ftx:who; ARGV: "<node> <nick>", TTL, nick. */
static const char claim_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v and v ~= ARGV[1] then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])\n"
    "local t = redis.call('TIME')\n"
    "redis.call('ZADD', KEYS[2], 'NX', t[1] * 1000000 + t[2], ARGV[3])\n"
    "return 1\n";
/* KEYS: the nick's key, ftx:who; ARGV: "<node> <nick>", nick. */
static const char release_lua[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[2])\n"
    "return 1\n";
/* KEYS: the nick's key; ARGV: the message.  {receivers, nick}. */
static const char priv_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then return {0, ''} end\n"
    "local sp = string.find(v, ' ', 1, true)\n"
    "if not sp then return {0, ''} end\n"
    "local n = redis.call('PUBLISH', 'ftx:node:' .. string.sub(v, 1, sp - "
    "1), ARGV[1])\n"
    "return {n, string.sub(v, sp + 1)}\n";
/* KEYS: ftx:who; ARGV: the most names to return. */
static const char who_lua[] =
    "local out = {}\n"
    "for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do\n"
    "  local v = redis.call('GET', 'ftx:nick:' .. string.lower(m))\n"
    "  local sp = v and string.find(v, ' ', 1, true)\n"
    "  if sp and string.sub(v, sp + 1) == m then\n"
    "    if #out < tonumber(ARGV[1]) then out[#out + 1] = m end\n"
    "  else\n"
    "    redis.call('ZREM', KEYS[1], m)\n"
    "  end\n"
    "end\n"
    "return out\n";

int
chatbus_up(const struct chatbus *b)
{
	return b != NULL && b->state == BUS_UP && !b->failed && !b->freeing;
}

const char *
chatbus_node(const struct chatbus *b)
{
	return b->node;
}

/* --- the nicks this node holds ------------------------------------------ */

static ssize_t
nick_index(const struct chatbus *b, const char *nick)
{
	size_t i;

	for (i = 0; i < b->nnicks; i++)
		if (chat_nick_eq(b->nicks[i], nick))
			return (ssize_t)i;
	return -1;
}

static int
nick_add(struct chatbus *b, const char *nick)
{
	size_t ncap, bytes;
	void *p;

	if (nick_index(b, nick) != -1)
		return 0;
	if (b->nnicks == b->capnicks) {
		ncap = b->capnicks ? b->capnicks : 16;
		if (str_mul_size(ncap, 2, &ncap) == -1 ||
		    str_mul_size(ncap, sizeof(*b->nicks), &bytes) == -1 ||
		    (p = realloc(b->nicks, bytes)) == NULL)
			return -1;
		b->nicks = p;
		b->capnicks = ncap;
	}
	if (str_copy(b->nicks[b->nnicks], sizeof(b->nicks[0]), nick) == -1)
		return -1;
	b->nnicks++;
	return 0;
}

/* 1 if the nick was held. */
static int
nick_remove(struct chatbus *b, const char *nick)
{
	ssize_t i = nick_index(b, nick);

	if (i == -1)
		return 0;
	memmove(b->nicks[i], b->nicks[i + 1],
	    (b->nnicks - (size_t)i - 1) * sizeof(b->nicks[0]));
	b->nnicks--;
	return 1;
}

/* --- commands ------------------------------------------------------------ */

static void on_reply(redisAsyncContext *ac, void *r, void *privdata);

/* Send argv on the command connection; 0, or -1 (nothing sent). */
static int
send_cmd(struct chatbus *b, struct breq *rq, int argc, const char **argv)
{
	size_t lens[8];
	int i;

	if (b->cmd == NULL || argc > 8)
		return -1;
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if (redisAsyncCommandArgv(b->cmd, on_reply, rq, argc, argv, lens) !=
	    REDIS_OK)
		return -1;
	if (b->outstanding++ == 0)
		b->wait_ms = loop_now_ms();
	return 0;
}

static struct breq *
breq_new(struct chatbus *b, enum breq_kind kind, const char *nick)
{
	struct breq *rq;

	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return NULL;
	rq->b = b;
	rq->kind = kind;
	if (nick != NULL && str_copy(rq->nick, sizeof(rq->nick), nick) == -1) {
		free(rq);
		return NULL;
	}
	return rq;
}

/* Send a request made by breq_new; frees it if it could not go. */
static int
submit(struct chatbus *b, struct breq *rq, int argc, const char **argv)
{
	if (rq == NULL)
		return -1;
	if (send_cmd(b, rq, argc, argv) == -1) {
		free(rq);
		return -1;
	}
	return 0;
}

/* "<node> <nick>": the value of a nick's claim. */
static int
claim_value(const struct chatbus *b, const char *nick, char *out, size_t n)
{
	return str_fmt(out, n, "%s %s", b->node, nick);
}

static int
send_claim(struct chatbus *b, enum breq_kind kind, const char *nick,
    chatbus_done_fn *fn, void *arg)
{
	char key[CHATWIRE_NAME_MAX], val[FTX_NODE_ID_MAX + FTX_NICK_MAX + 2];
	char ttl[16];
	const char *argv[8];
	struct breq *rq;

	if (chatwire_nick_key(key, sizeof(key), nick) == -1 ||
	    claim_value(b, nick, val, sizeof(val)) == -1 ||
	    str_fmt(ttl, sizeof(ttl), "%d", FTX_CHATBUS_TTL_S) == -1 ||
	    (rq = breq_new(b, kind, nick)) == NULL)
		return -1;
	rq->done = fn;
	rq->arg = arg;
	argv[0] = "EVAL";
	argv[1] = claim_lua;
	argv[2] = "2";
	argv[3] = key;
	argv[4] = CHATWIRE_WHO_KEY;
	argv[5] = val;
	argv[6] = ttl;
	argv[7] = nick;
	return submit(b, rq, 8, argv);
}

int
chatbus_publish(struct chatbus *b, const char *push)
{
	char msg[CHATWIRE_MAX + 1];
	const char *argv[3] = {"PUBLISH", CHATWIRE_ROOM_CHAN, msg};

	if (!chatbus_up(b) ||
	    chatwire_encode(msg, sizeof(msg), b->node, push) == -1)
		return -1;
	return submit(b, breq_new(b, RQ_PUBLISH, NULL), 3, argv);
}

int
chatbus_claim(
    struct chatbus *b, const char *nick, chatbus_done_fn *fn, void *arg)
{
	if (nick_add(b, nick) == -1)
		return -1;
	if (!chatbus_up(b))
		return -1; /* claimed when the bus is back */
	/* Without a callback, a claim is the heartbeat's kind. */
	return send_claim(b, fn != NULL ? RQ_CLAIM : RQ_RECLAIM, nick, fn, arg);
}

void
chatbus_release(struct chatbus *b, const char *nick)
{
	char key[CHATWIRE_NAME_MAX], val[FTX_NODE_ID_MAX + FTX_NICK_MAX + 2];
	const char *argv[7] = {
	    "EVAL", release_lua, "2", key, CHATWIRE_WHO_KEY, val, nick};

	if (!nick_remove(b, nick) || !chatbus_up(b))
		return; /* an unreleased claim expires with its TTL */
	if (chatwire_nick_key(key, sizeof(key), nick) == -1 ||
	    claim_value(b, nick, val, sizeof(val)) == -1)
		return;
	(void)submit(b, breq_new(b, RQ_RELEASE, nick), 7, argv);
}

int
chatbus_priv(struct chatbus *b, const char *to, const char *push,
    chatbus_done_fn *fn, void *arg)
{
	char key[CHATWIRE_NAME_MAX], msg[CHATWIRE_MAX + 1];
	const char *argv[5] = {"EVAL", priv_lua, "1", key, msg};
	struct breq *rq;

	if (!chatbus_up(b) || chatwire_nick_key(key, sizeof(key), to) == -1 ||
	    chatwire_encode(msg, sizeof(msg), b->node, push) == -1 ||
	    (rq = breq_new(b, RQ_PRIV, to)) == NULL)
		return -1;
	rq->done = fn;
	rq->arg = arg;
	return submit(b, rq, 5, argv);
}

int
chatbus_who(struct chatbus *b, chatbus_who_fn *fn, void *arg)
{
	char max[16];
	const char *argv[5] = {"EVAL", who_lua, "1", CHATWIRE_WHO_KEY, max};
	struct breq *rq;

	if (!chatbus_up(b) ||
	    str_fmt(max, sizeof(max), "%d", FTX_CHATBUS_WHO_MAX) == -1 ||
	    (rq = breq_new(b, RQ_WHO, NULL)) == NULL)
		return -1;
	rq->who = fn;
	rq->arg = arg;
	return submit(b, rq, 5, argv);
}

/* --- replies ------------------------------------------------------------- */

/* The integer a script returned, or -1 for anything else. */
static long long
reply_int(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
}

/* PRIV's {receivers, nick}: the nick (checked) if anyone received. */
static const char *
priv_target(const redisReply *r)
{
	const redisReply *nick;
	char why[FTX_ERRLEN];

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    reply_int(r->element[0]) < 1)
		return NULL;
	nick = r->element[1];
	if (nick->type != REDIS_REPLY_STRING ||
	    strlen(nick->str) != nick->len ||
	    chat_nick_check(nick->str, why, sizeof(why)) == -1)
		return NULL;
	return nick->str;
}

/* SECURITY: /who from the bus: at most FTX_CHATBUS_WHO_MAX names, each
 * a valid nick; anything else is left out. */
static void
who_done(struct breq *rq, const redisReply *r)
{
	const char **nicks = NULL;
	char why[FTX_ERRLEN];
	size_t i, n = 0;
	const redisReply *e;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		rq->who(rq->arg, CHATBUS_FAILED, NULL, 0);
		return;
	}
	if (r->elements > 0 &&
	    (nicks = calloc(r->elements < FTX_CHATBUS_WHO_MAX
		     ? r->elements
		     : FTX_CHATBUS_WHO_MAX,
		 sizeof(*nicks))) == NULL) {
		rq->who(rq->arg, CHATBUS_FAILED, NULL, 0);
		return;
	}
	for (i = 0; i < r->elements && n < FTX_CHATBUS_WHO_MAX; i++) {
		e = r->element[i];
		if (e->type == REDIS_REPLY_STRING && strlen(e->str) == e->len &&
		    chat_nick_check(e->str, why, sizeof(why)) == 0)
			nicks[n++] = e->str;
	}
	rq->who(rq->arg, CHATBUS_OK, nicks, n);
	free(nicks);
}

/* A claim's answer: 1 ours, 0 another node's. */
static void
claim_done(struct chatbus *b, struct breq *rq, const redisReply *r)
{
	long long v = reply_int(r);

	if (v == 0)
		(void)nick_remove(b, rq->nick);
	if (rq->kind == RQ_CLAIM) {
		rq->done(rq->arg,
		    v == 1	 ? CHATBUS_OK
			: v == 0 ? CHATBUS_REFUSED
				 : CHATBUS_FAILED,
		    NULL);
		return;
	}
	if (v == 0) {
		log_msg(
		    NULL, "chat bus: nick %s is now another node's", rq->nick);
		b->h->lost_nick(b->arg, rq->nick);
	}
}

static void
on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct breq *rq = privdata;
	struct chatbus *b = rq->b;
	const redisReply *r = reply;

	(void)ac;
	if (b->outstanding > 0)
		b->outstanding--;
	b->wait_ms = loop_now_ms();
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		log_msg(NULL, "chat bus: redis: %.200s", r->str);
		b->failed = 1;
		r = NULL;
	}
	switch (rq->kind) {
	case RQ_SELECT:
		if (r == NULL || r->type != REDIS_REPLY_STATUS)
			b->failed = 1;
		break;
	case RQ_CLAIM:
	case RQ_RECLAIM:
		claim_done(b, rq, r);
		break;
	case RQ_PRIV: {
		const char *nick = priv_target(r);

		rq->done(rq->arg,
		    r == NULL	       ? CHATBUS_FAILED
			: nick == NULL ? CHATBUS_REFUSED
				       : CHATBUS_OK,
		    nick);
		break;
	}
	case RQ_WHO:
		who_done(rq, r);
		break;
	case RQ_PUBLISH:
	case RQ_RELEASE:
		break;
	}
	free(rq);
}

/* --- the subscription ---------------------------------------------------- */

/* SECURITY: a bad message is dropped and counted, and logged at most
 * once a minute, so a hostile publisher cannot flood the log. */
static void
dropped(struct chatbus *b, const char *why)
{
	long long now = loop_now_ms();

	b->dropped++;
	if (now - b->drop_log_ms < 60000)
		return;
	log_msg(NULL, "chat bus: %lu bad messages dropped (last: %s)",
	    b->dropped, why);
	b->dropped = 0;
	b->drop_log_ms = now;
}

static void
deliver(struct chatbus *b, const redisReply *chan, const redisReply *msg)
{
	char node[FTX_NODE_ID_MAX + 1], err[FTX_ERRLEN];
	struct chat_push p;
	enum chatwire_chan c;

	if (chan->type != REDIS_REPLY_STRING || msg->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(chan->str, CHATWIRE_ROOM_CHAN) == 0)
		c = CHATWIRE_ROOM;
	else if (strcmp(chan->str, b->node_chan) == 0)
		c = CHATWIRE_NODE;
	else
		return;
	if (chatwire_decode(
		msg->str, msg->len, c, node, &p, err, sizeof(err)) == -1) {
		dropped(b, err);
		return;
	}
	if (c == CHATWIRE_ROOM)
		b->h->push(b->arg, &p);
	else
		b->h->priv(b->arg, &p);
}

static void bus_up(struct chatbus *b);

static void
on_sub(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct chatbus *b = privdata;
	const redisReply *r = reply, *kind;

	(void)ac;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    b->freeing)
		return;
	kind = r->element[0];
	if (kind->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(kind->str, "message") == 0)
		deliver(b, r->element[1], r->element[2]);
	else if (strcmp(kind->str, "subscribe") == 0 && ++b->nsubs == 2)
		bus_up(b);
}

/* Connected and subscribed: claim our nicks again, and say so. */
static void
bus_up(struct chatbus *b)
{
	size_t i;

	b->state = BUS_UP;
	b->backoff_ms = FTX_CHATBUS_BACKOFF_MIN_MS;
	b->beat_ms = loop_now_ms() + FTX_CHATBUS_BEAT_S * 1000LL;
	log_msg(NULL, "chat bus: up (redis %s:%d, node %s, %zu nicks)", b->addr,
	    b->port, b->node, b->nnicks);
	for (i = 0; i < b->nnicks; i++)
		(void)send_claim(b, RQ_RECLAIM, b->nicks[i], NULL, NULL);
	if (b->was_lost) {
		b->was_lost = 0;
		b->h->state(b->arg, 1);
	}
}

/* --- connecting ---------------------------------------------------------- */

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct chatbus *b = ac->data;
	char db[16];
	const char *argv[2] = {"SELECT", db};

	if (status != REDIS_OK) {
		/* hiredis frees the context after this returns. */
		log_msg(NULL, "chat bus: cannot connect to redis %s:%d: %s",
		    b->addr, b->port, ac->errstr);
		if (ac == b->cmd)
			b->cmd = NULL;
		else if (ac == b->sub)
			b->sub = NULL;
		b->failed = 1;
		return;
	}
	redisEnableKeepAlive((redisContext *)&ac->c);
	if (ac == b->sub) {
		if (redisAsyncCommand(b->sub, on_sub, b, "SUBSCRIBE %s %s",
			CHATWIRE_ROOM_CHAN, b->node_chan) != REDIS_OK)
			b->failed = 1;
	} else if (b->db != 0 &&
	    (str_fmt(db, sizeof(db), "%d", b->db) == -1 ||
		submit(b, breq_new(b, RQ_SELECT, NULL), 2, argv) == -1)) {
		b->failed = 1;
	}
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct chatbus *b = ac->data;

	(void)status;
	if (ac == b->cmd)
		b->cmd = NULL;
	else if (ac == b->sub)
		b->sub = NULL;
	if (!b->freeing && b->state != BUS_DOWN) {
		log_msg(NULL, "chat bus: lost redis %s:%d: %s", b->addr,
		    b->port, ac->err ? ac->errstr : "closed");
		b->failed = 1;
	}
}

static redisAsyncContext *
connect_one(struct chatbus *b)
{
	redisAsyncContext *ac;

	ac = redisAsyncConnect(b->addr, b->port);
	if (ac == NULL)
		return NULL;
	if (ac->err || redisev_attach(b->loop, ac) == -1) {
		log_msg(NULL, "chat bus: cannot connect to redis %s:%d: %s",
		    b->addr, b->port, ac->err ? ac->errstr : "event loop");
		redisAsyncFree(ac);
		return NULL;
	}
	ac->data = b;
	(void)redisAsyncSetConnectCallback(ac, on_connect);
	(void)redisAsyncSetDisconnectCallback(ac, on_disconnect);
	return ac;
}

static void
start_connect(struct chatbus *b, long long now)
{
	b->state = BUS_CONNECTING;
	b->connect_ms = now;
	b->nsubs = 0;
	b->outstanding = 0;
	if ((b->cmd = connect_one(b)) == NULL ||
	    (b->sub = connect_one(b)) == NULL)
		b->failed = 1;
}

/* Free both connections: requests in flight fail (their callbacks run
 * now, with the bus already down, so the room falls back to local). */
static void
close_both(struct chatbus *b)
{
	redisAsyncContext *ac;

	if ((ac = b->cmd) != NULL) {
		b->cmd = NULL;
		redisAsyncFree(ac);
	}
	if ((ac = b->sub) != NULL) {
		b->sub = NULL;
		redisAsyncFree(ac);
	}
}

static void
teardown(struct chatbus *b, long long now)
{
	int was_up = b->state == BUS_UP;

	b->state = BUS_DOWN;
	close_both(b);
	b->failed = 0;
	b->outstanding = 0;
	b->next_try_ms = now + b->backoff_ms;
	if (b->backoff_ms < FTX_CHATBUS_BACKOFF_MAX_MS / 2)
		b->backoff_ms *= 2;
	else
		b->backoff_ms = FTX_CHATBUS_BACKOFF_MAX_MS;
	if (was_up || !b->was_lost) {
		b->was_lost = 1;
		b->h->state(b->arg, 0);
	}
}

void
chatbus_tick(struct chatbus *b, long long now)
{
	if (b == NULL || b->freeing)
		return;
	if (b->state == BUS_CONNECTING &&
	    now - b->connect_ms > FTX_CHATBUS_TIMEOUT_MS) {
		log_msg(NULL, "chat bus: redis %s:%d: not ready within %d ms",
		    b->addr, b->port, FTX_CHATBUS_TIMEOUT_MS);
		b->failed = 1;
	}
	if (b->state != BUS_DOWN && b->outstanding > 0 &&
	    now - b->wait_ms > FTX_CHATBUS_TIMEOUT_MS) {
		log_msg(NULL, "chat bus: redis %s:%d: no reply within %d ms",
		    b->addr, b->port, FTX_CHATBUS_TIMEOUT_MS);
		b->failed = 1;
	}
	if (b->failed)
		teardown(b, now);
	if (b->state == BUS_DOWN && now >= b->next_try_ms)
		start_connect(b, now);
	if (b->state == BUS_UP && now >= b->beat_ms) {
		size_t i;

		b->beat_ms = now + FTX_CHATBUS_BEAT_S * 1000LL;
		for (i = 0; i < b->nnicks; i++)
			(void)send_claim(
			    b, RQ_RECLAIM, b->nicks[i], NULL, NULL);
	}
}

/* --- life ---------------------------------------------------------------- */

/* Resolve the host once, now: hiredis would call getaddrinfo on every
 * connect, which may block the loop on DNS. */
static int
resolve(struct chatbus *b, const char *host, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	const void *a;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0)
		return str_err(err, errlen, "--chat-redis: %s: %s", host,
		    gai_strerror(rc));
	if (res->ai_family == AF_INET6)
		a = &((struct sockaddr_in6 *)(void *)res->ai_addr)->sin6_addr;
	else
		a = &((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr;
	rc = inet_ntop(res->ai_family, a, b->addr, sizeof(b->addr)) == NULL;
	freeaddrinfo(res);
	return rc ? str_err(err, errlen, "--chat-redis: %s: bad address", host)
		  : 0;
}

static int
set_node(struct chatbus *b, const char *node_id, char *err, size_t errlen)
{
	unsigned char raw[6];

	if (node_id != NULL && node_id[0] != '\0') {
		if (chatwire_node_check(node_id, err, errlen) == -1)
			return -1;
		(void)str_copy(b->node, sizeof(b->node), node_id);
	} else {
		if (RAND_bytes(raw, sizeof(raw)) != 1)
			return str_err(err, errlen, "no random node id");
		str_hex(b->node, raw, sizeof(raw));
	}
	if (chatwire_node_chan(b->node_chan, sizeof(b->node_chan), b->node) ==
	    -1)
		return str_err(err, errlen, "node id too long");
	return 0;
}

int
chatbus_new(struct chatbus **bp, struct loop *l, const char *url,
    const char *node_id, const struct chatbus_hooks *h, void *arg, char *err,
    size_t errlen)
{
	struct chatwire_url u;
	char why[FTX_ERRLEN];
	struct chatbus *b;

	*bp = NULL;
	if (chatwire_parse_url(url, &u, why, sizeof(why)) == -1)
		return str_err(err, errlen, "--chat-redis: %s", why);
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return str_err(err, errlen, "out of memory");
	b->loop = l;
	b->h = h;
	b->arg = arg;
	b->port = u.port;
	b->db = u.db;
	b->backoff_ms = FTX_CHATBUS_BACKOFF_MIN_MS;
	if (resolve(b, u.host, err, errlen) == -1 ||
	    set_node(b, node_id, err, errlen) == -1) {
		free(b);
		return -1;
	}
	log_msg(NULL, "chat bus: redis %s:%d db %d, node %s", b->addr, b->port,
	    b->db, b->node);
	start_connect(b, loop_now_ms());
	*bp = b;
	return 0;
}

void
chatbus_free(struct chatbus *b)
{
	if (b == NULL)
		return;
	/* The last releases (members leaving at shutdown) still go out:
	 * the socket is connected and local, so one write takes them. */
	if (b->cmd != NULL && (b->cmd->c.flags & REDIS_CONNECTED))
		redisAsyncHandleWrite(b->cmd);
	b->freeing = 1;
	b->state = BUS_DOWN;
	close_both(b);
	free(b->nicks);
	free(b);
}

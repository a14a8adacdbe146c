/*
 * udpecho.c - UDP echo.  See udpecho.h.
 *
 * SECURITY: a UDP service answers addresses nobody verified, so it must
 * not become a tool against third parties.  A reply is the request with
 * another magic (FTXR for FTXE), never larger (no amplification); only
 * well-formed requests are answered (no reflecting other protocols'
 * traffic), never replies and never datagrams from well-known service
 * ports or our own port (no loop with another echo service, CVE-2024-2169);
 * and replies are rate-limited per source address and overall (token
 * buckets).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "echo.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "str.h"
#include "token.h"
#include "udpecho.h"

/* Datagrams handled per wakeup, so one flood cannot starve the loop. */
#define BATCH 256
/* Slots probed for a source before the oldest is evicted. */
#define PROBE 4

struct bucket {
	unsigned char ip[16]; /* IPv4 as IPv4-mapped IPv6 */
	long long milli; /* tokens x 1000 */
	long long last_ms;
	int used;
};

struct uecho {
	struct loop *loop;
	const struct config *cfg; /* --udp-rate, read at every datagram */
	int fd;
	int port; /* ours: datagrams from it are another ftxd's */
	uint64_t seed; /* keys the slot hash, so sources cannot aim */
	struct bucket src[FTX_UDP_SOURCES];
	struct bucket all; /* the global limit */
	unsigned long answered, limited, malformed, replies, badport;
	long long report_ms;
};

int
uecho_valid(const unsigned char *buf, size_t n)
{
	return echo_udp_kind(buf, n) == ECHO_REQUEST;
}

static int
src_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

/* SECURITY: 1 if the datagram is to be answered; otherwise counted as
 * dropped.  Replies are never answered, so one spoofed request makes at
 * most one reply, not an endless exchange with another echo service. */
static int
answerable(struct uecho *u, const unsigned char *buf, size_t n,
    const struct sockaddr_storage *ss)
{
	if (!echo_udp_port_ok(src_port(ss), u->port)) {
		u->badport++;
		return 0;
	}
	switch (echo_udp_kind(buf, n)) {
	case ECHO_REQUEST:
		return 1;
	case ECHO_REPLY:
		u->replies++;
		return 0;
	default:
		u->malformed++;
		return 0;
	}
}

static void
addr_key(const struct sockaddr_storage *ss, unsigned char ip[16])
{
	static const unsigned char mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (ss->ss_family == AF_INET) {
		memcpy(ip, mapped, 12);
		memcpy(ip + 12,
		    &((const struct sockaddr_in *)ss)->sin_addr.s_addr, 4);
	} else {
		memcpy(ip, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	}
}

static uint64_t
slot_hash(uint64_t seed, const unsigned char ip[16])
{
	uint64_t h = seed ^ 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ ip[i]) * 0x100000001b3ULL;
	/* A final mix so all bits of the key reach the low bits. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* Take one token from `b` (refilled at `rate` per second, holding at
 * most `rate`); 1 if there was one. */
static int
take(struct bucket *b, long long rate, long long now)
{
	long long cap = rate * 1000;

	if (!b->used) {
		b->used = 1;
		b->milli = cap;
	} else if (now > b->last_ms) {
		b->milli += (now - b->last_ms) * rate;
		if (b->milli > cap)
			b->milli = cap;
	}
	b->last_ms = now;
	if (b->milli < 1000)
		return 0;
	b->milli -= 1000;
	return 1;
}

/* The bucket for a source: its own, a free slot, or the stalest one. */
static struct bucket *
source(struct uecho *u, const struct sockaddr_storage *ss)
{
	unsigned char ip[16];
	struct bucket *b, *old = NULL;
	size_t i, k;

	addr_key(ss, ip);
	k = (size_t)(slot_hash(u->seed, ip) % FTX_UDP_SOURCES);
	for (i = 0; i < PROBE; i++) {
		b = &u->src[(k + i) % FTX_UDP_SOURCES];
		if (b->used && memcmp(b->ip, ip, 16) == 0)
			return b;
		if (!b->used || old == NULL || b->last_ms < old->last_ms)
			old = b;
	}
	/* Evicting gives the evicted source a full bucket when it comes
	 * back: churn can make the limit laxer, never stricter. */
	memset(old, 0, sizeof(*old));
	memcpy(old->ip, ip, 16);
	return old;
}

static void
on_datagram(struct loop *l, int fd, int revents, void *arg)
{
	struct uecho *u = arg;
	unsigned char buf[FTX_UDP_MAX + 1];
	struct sockaddr_storage ss;
	socklen_t sl;
	long long now = loop_now_ms();
	ssize_t n;
	int i;

	(void)l;
	(void)revents;
	for (i = 0; i < BATCH; i++) {
		sl = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC,
		    (struct sockaddr *)&ss, &sl);
		if (n == -1)
			break; /* EAGAIN, or an ICMP error for an old reply */
		if (!answerable(u, buf, (size_t)n, &ss))
			continue;
		if (!take(source(u, &ss), u->cfg->udp_rate, now) ||
		    !take(&u->all, FTX_UDP_GLOBAL_RATE, now)) {
			u->limited++;
			continue;
		}
		/* SECURITY: the reply is the request with the magic
		 * FTXR: as long, never longer, and never a request. */
		echo_udp_answer(buf);
		if (sendto(fd, buf, (size_t)n, MSG_DONTWAIT,
			(struct sockaddr *)&ss, sl) == (ssize_t)n)
			u->answered++;
	}
}

struct uecho *
uecho_open(struct loop *l, const struct config *cfg, int port, char *err,
    size_t errlen)
{
	struct uecho *u;
	struct token t;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		str_err(err, errlen, "out of memory");
		return NULL;
	}
	u->loop = l;
	u->cfg = cfg;
	if (token_new(&t, err, errlen) == -1)
		goto fail;
	memcpy(&u->seed, t.b, sizeof(u->seed));
	token_clear(&t);
	u->fd = net_udp_bind(cfg->bind, port, err, errlen);
	if (u->fd == -1) {
		(void)net_busy_hint(err, errlen,
		    "the UDP echo takes the control port's number: choose "
		    "another with --port N, or turn it off with "
		    "--no-udp-echo");
		goto fail;
	}
	if (loop_add(l, u->fd, POLLIN, on_datagram, u) == -1) {
		str_err(err, errlen, "cannot watch the UDP socket");
		close(u->fd);
		goto fail;
	}
	u->port = port;
	u->report_ms = loop_now_ms();
	return u;
fail:
	free(u);
	return NULL;
}

void
uecho_tick(struct uecho *u, long long now_ms)
{
	if (u == NULL || now_ms - u->report_ms < 1000)
		return;
	if (u->limited > 0 || u->malformed > 0 || u->replies > 0 ||
	    u->badport > 0)
		log_msg(NULL,
		    "udp echo: answered=%lu rate-limited=%lu malformed=%lu "
		    "replies=%lu bad-port=%lu",
		    u->answered, u->limited, u->malformed, u->replies,
		    u->badport);
	u->answered = u->limited = u->malformed = u->replies = u->badport = 0;
	u->report_ms = now_ms;
}

void
uecho_close(struct uecho *u)
{
	if (u == NULL)
		return;
	loop_del(u->loop, u->fd);
	close(u->fd);
	free(u);
}

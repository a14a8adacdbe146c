/*
 * udpliar.c - a deliberately misbehaving UDP echo responder for the
 * `ftx rtt --udp` tests.
 *
 * The real ftxd answers every well-formed echo datagram faithfully, so it
 * cannot show that the client counts lost, mismatched, corrupted, late and
 * duplicated replies correctly.  This responder can be told to lie:
 *
 *	udpliar [--bind ADDR] [--port N] [--drop K] [--mismatch K]
 *	    [--corrupt K] [--verbatim K] [--dup K] [--delay K:MS]
 *	    [--lifetime S]
 *
 * It binds a UDP socket to ADDR (default 127.0.0.1) and port N (default 0,
 * an ephemeral port), prints "port <N>" on stdout and flushes it, so that
 * a test can read which port to use.  Well-formed requests
 * ("FTXE <16 lowercase hex id> <payload>", at most FTX_UDP_MAX bytes, as
 * in docs/PROTOCOL.md) are numbered from 1; anything else (replies
 * included) is ignored and not numbered.  The right reply is the request
 * with the magic "FTXR".  For request number i the first matching rule
 * applies:
 *
 *   --drop K       i % K == 0: no reply
 *   --mismatch K   i % K == 0: reply with every hex digit of the id
 *                  changed (d -> d+1 mod 16), payload kept
 *   --corrupt K    i % K == 0: same id, one payload bit flipped (an empty
 *                  payload gets one extra byte instead)
 *   --verbatim K   i % K == 0: the request itself sent back ("FTXE", as
 *                  an echo service that would loop with another does)
 *   --delay K:MS   i % K == 0: the right reply, after MS milliseconds
 *   --dup K        i % K == 0: the right reply, twice
 *   otherwise      the right reply
 *
 * --delay simply sleeps: requests that arrive meanwhile wait in the
 * socket's receive queue and are answered afterwards, in order.  That is
 * enough because `ftx rtt --udp` is sequential: with MS above its
 * --timeout-ms it gives up on the request, goes on with the next one and
 * later sees the delayed reply arrive late.
 *
 * It exits 0 after --lifetime seconds (default 60) or on SIGTERM/SIGINT,
 * printing on stderr
 *	requests=N dropped=N mismatched=N corrupted=N verbatim=N delayed=N
 *	    duplicated=N malformed=N
 * (one line).  Exit status 2 is a usage error, 1 a socket error.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "echo.h"
#include "ftx_limits.h"
#include "net.h"
#include "str.h"

#define LIAR_HDR ECHO_UDP_HDR
/* Receive buffer: any UDP datagram fits, so an oversized request is seen
 * whole and rejected rather than silently truncated to a valid one. */
#define LIAR_RECV_MAX 65536
/* Longest --delay: tests have timeouts of a few seconds. */
#define LIAR_DELAY_MAX_MS 60000
#define LIAR_DEFAULT_LIFETIME_S 60

static volatile sig_atomic_t stop_signal;

struct rules {
	uint64_t drop, mismatch, corrupt, verbatim, delay, dup; /* 0 = off */
	uint64_t delay_ms;
};

struct counts {
	uint64_t requests, dropped, mismatched, corrupted, verbatim, delayed;
	uint64_t duplicated;
	uint64_t malformed;
};

static void
on_signal(int sig)
{
	stop_signal = sig;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: udpliar [--bind ADDR] [--port N] [--drop K] "
	    "[--mismatch K]\n"
	    "               [--corrupt K] [--verbatim K] [--dup K] "
	    "[--delay K:MS]\n"
	    "               [--lifetime S]\n");
	exit(2);
}

static uint64_t
parse_num(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (str_to_u64(s, max, &v) == -1 || v < min) {
		fprintf(stderr,
		    "udpliar: --%s wants a number from %llu to %llu, not "
		    "\"%s\"\n",
		    opt, (unsigned long long)min, (unsigned long long)max, s);
		usage();
	}
	return v;
}

/* "K:MS" for --delay. */
static void
parse_delay(const char *s, struct rules *r)
{
	char k[32];
	const char *colon = strchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(k)) {
		fprintf(stderr, "udpliar: --delay wants K:MS, not \"%s\"\n", s);
		usage();
	}
	memcpy(k, s, (size_t)(colon - s));
	k[colon - s] = '\0';
	r->delay = parse_num("delay", k, 1, UINT64_MAX);
	r->delay_ms = parse_num("delay", colon + 1, 0, LIAR_DELAY_MAX_MS);
}

/* A request as docs/PROTOCOL.md defines it; the payload may be empty. */
static int
well_formed(const char *d, size_t n)
{
	return echo_udp_kind((const unsigned char *)d, n) == ECHO_REQUEST;
}

static int
rule_hits(uint64_t k, uint64_t i)
{
	return k != 0 && i % k == 0;
}

/* Milliseconds left until `deadline` (CLOCK_MONOTONIC), at least 0. */
static long long
ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return 0;
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

/*
 * Wait up to `ms` for the socket to be readable (fd >= 0) or just sleep
 * (fd < 0), with SIGTERM/SIGINT unblocked only inside ppoll so that a
 * signal can never slip in between checking stop_signal and waiting.
 * Returns ppoll's result (-1 with EINTR on a signal).
 */
static int
wait_for(int fd, long long ms, const sigset_t *waitmask)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN, .revents = 0};
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	return ppoll(&pfd, fd >= 0 ? 1 : 0, &ts, waitmask);
}

static void
send_reply(int fd, const char *d, size_t n, const struct sockaddr_storage *to,
    socklen_t tolen)
{
	/* A reply that cannot be sent (full socket buffer) is simply lost,
	 * which is what UDP promises anyway; the client counts it. */
	if (sendto(fd, d, n, 0, (const struct sockaddr *)to, tolen) == -1)
		fprintf(stderr, "udpliar: sendto: %s\n", strerror(errno));
}

/*
 * Answer request number `c->requests` (already counted) according to the
 * rules.  `d` has room for one extra byte (an empty payload's corruption).
 */
static void
answer(int fd, char *d, size_t n, const struct sockaddr_storage *from,
    socklen_t fromlen, const struct rules *r, struct counts *c,
    const sigset_t *waitmask)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t i = c->requests;
	size_t k;

	if (rule_hits(r->drop, i)) {
		c->dropped++;
		return;
	}
	/* The right reply, which the rules below may spoil. */
	echo_udp_answer((unsigned char *)d);
	if (rule_hits(r->mismatch, i)) {
		/* Every digit changes, so the id differs in every position
		 * and stays well-formed lowercase hex. */
		for (k = 5; k < 5 + FTX_UDP_ID_HEX; k++) {
			const char *p = strchr(hex, d[k]);

			d[k] = hex[(p - hex + 1) % 16];
		}
		c->mismatched++;
		send_reply(fd, d, n, from, fromlen);
		return;
	}
	if (rule_hits(r->corrupt, i)) {
		if (n > LIAR_HDR)
			d[LIAR_HDR + (n - LIAR_HDR) / 2] ^= 0x01;
		else
			d[n++] = 'X';
		c->corrupted++;
		send_reply(fd, d, n, from, fromlen);
		return;
	}
	if (rule_hits(r->verbatim, i)) {
		d[3] = 'E'; /* "FTXR" back to "FTXE": the request again */
		c->verbatim++;
		send_reply(fd, d, n, from, fromlen);
		return;
	}
	if (rule_hits(r->delay, i)) {
		c->delayed++;
		/* A signal during the sleep ends it; main() then stops. */
		if (wait_for(-1, (long long)r->delay_ms, waitmask) == -1 &&
		    errno == EINTR)
			return;
		send_reply(fd, d, n, from, fromlen);
		return;
	}
	if (rule_hits(r->dup, i)) {
		c->duplicated++;
		send_reply(fd, d, n, from, fromlen);
		send_reply(fd, d, n, from, fromlen);
		return;
	}
	send_reply(fd, d, n, from, fromlen);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"bind", required_argument, NULL, 'b'},
	    {"port", required_argument, NULL, 'p'},
	    {"drop", required_argument, NULL, 'D'},
	    {"mismatch", required_argument, NULL, 'm'},
	    {"corrupt", required_argument, NULL, 'c'},
	    {"verbatim", required_argument, NULL, 'v'},
	    {"dup", required_argument, NULL, 'u'},
	    {"delay", required_argument, NULL, 'd'},
	    {"lifetime", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	static char pkt[LIAR_RECV_MAX + 1];
	const char *bind_addr = FTX_DEFAULT_HOST;
	struct rules r = {0, 0, 0, 0, 0, 0, 0};
	struct counts c = {0, 0, 0, 0, 0, 0, 0, 0};
	struct sockaddr_storage from;
	struct timespec deadline;
	struct sigaction sa;
	sigset_t block, waitmask;
	char err[FTX_ERRLEN];
	uint64_t port = 0, lifetime = LIAR_DEFAULT_LIFETIME_S;
	socklen_t fromlen;
	ssize_t got;
	long long left;
	int opt, fd, lport, w;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			bind_addr = optarg;
			break;
		case 'p':
			port = parse_num("port", optarg, 0, 65535);
			break;
		case 'D':
			r.drop = parse_num("drop", optarg, 1, UINT64_MAX);
			break;
		case 'm':
			r.mismatch =
			    parse_num("mismatch", optarg, 1, UINT64_MAX);
			break;
		case 'c':
			r.corrupt = parse_num("corrupt", optarg, 1, UINT64_MAX);
			break;
		case 'v':
			r.verbatim =
			    parse_num("verbatim", optarg, 1, UINT64_MAX);
			break;
		case 'u':
			r.dup = parse_num("dup", optarg, 1, UINT64_MAX);
			break;
		case 'd':
			parse_delay(optarg, &r);
			break;
		case 'l':
			lifetime =
			    parse_num("lifetime", optarg, 1, FTX_MAX_TIMEOUT_S);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	/* Signals are blocked except while waiting in ppoll (see
	 * wait_for), and the handler only sets a flag. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigprocmask(SIG_BLOCK, &block, &waitmask) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1) {
		fprintf(stderr, "udpliar: signals: %s\n", strerror(errno));
		return 1;
	}
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);

	fd = net_udp_bind(bind_addr, (int)port, err, sizeof(err));
	if (fd == -1) {
		fprintf(stderr, "udpliar: %s\n", err);
		return 1;
	}
	lport = net_local_port(fd);
	if (lport == -1) {
		fprintf(stderr, "udpliar: cannot read the bound port\n");
		close(fd);
		return 1;
	}
	printf("port %d\n", lport);
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "udpliar: stdout: %s\n", strerror(errno));
		close(fd);
		return 1;
	}

	if (clock_gettime(CLOCK_MONOTONIC, &deadline) == -1) {
		fprintf(stderr, "udpliar: clock: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	deadline.tv_sec += (time_t)lifetime;
	while (!stop_signal && (left = ms_left(&deadline)) > 0) {
		w = wait_for(fd, left, &waitmask);
		if (w == -1 && errno != EINTR) {
			fprintf(
			    stderr, "udpliar: ppoll: %s\n", strerror(errno));
			break;
		}
		if (w <= 0)
			continue;
		/* Drain what is queued; the socket is non-blocking. */
		while (!stop_signal) {
			fromlen = sizeof(from);
			got = recvfrom(fd, pkt, LIAR_RECV_MAX, MSG_TRUNC,
			    (struct sockaddr *)&from, &fromlen);
			if (got == -1)
				break;
			if (!well_formed(pkt, (size_t)got)) {
				c.malformed++;
				continue;
			}
			c.requests++;
			answer(fd, pkt, (size_t)got, &from, fromlen, &r, &c,
			    &waitmask);
		}
	}
	close(fd);
	fprintf(stderr,
	    "requests=%llu dropped=%llu mismatched=%llu corrupted=%llu "
	    "verbatim=%llu delayed=%llu duplicated=%llu malformed=%llu\n",
	    (unsigned long long)c.requests, (unsigned long long)c.dropped,
	    (unsigned long long)c.mismatched, (unsigned long long)c.corrupted,
	    (unsigned long long)c.verbatim, (unsigned long long)c.delayed,
	    (unsigned long long)c.duplicated, (unsigned long long)c.malformed);
	return 0;
}

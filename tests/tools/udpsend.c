/*
 * udpsend.c - send one UDP datagram from a chosen source address and
 * port, for the UDP echo loop tests (t_udploop.sh).
 *
 *	udpsend [--spoof] --from ADDR:PORT --to ADDR:PORT --data TEXT
 *	    [--wait MS]
 *
 * IPv4 only.  Without --spoof the datagram is sent from a socket bound to
 * ADDR:PORT (PORT 0: an ephemeral one), and for --wait milliseconds
 * (default 0) every datagram that comes back to it is reported:
 *
 *	sent N bytes from ADDR:PORT
 *	reply N MAGIC          (one line each; MAGIC: its first 4 bytes)
 *	replies=N
 *
 * With --spoof the datagram is built by hand, IP header included, and
 * sent on a raw socket, so its source can be a port another process holds
 * (an echo server's own port, to start a loop between two servers) or a
 * well-known port; nothing can come back to us, so --wait does not apply.
 *
 * Exit status: 0 sent, 1 a socket error, 2 usage, 77 not permitted (the
 * raw socket, or binding a port below 1024, needs root): the test skips.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ftx_limits.h"
#include "str.h"

/* Longest --wait: tests wait well under a second. */
#define SEND_WAIT_MAX_MS 10000
/* Receive buffer: any UDP datagram fits. */
#define SEND_RECV_MAX 65536
#define EXIT_SKIP 77

static void
usage(void)
{
	fprintf(stderr,
	    "usage: udpsend [--spoof] --from ADDR:PORT --to ADDR:PORT "
	    "--data TEXT [--wait MS]\n");
	exit(2);
}

/* "A.B.C.D:PORT" into *sa. */
static void
parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	uint64_t port;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		usage();
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 ||
	    str_to_u64(colon + 1, 65535, &port) == -1) {
		fprintf(stderr, "udpsend: not ADDR:PORT: \"%s\"\n", s);
		usage();
	}
	sa->sin_port = htons((uint16_t)port);
}

/* The ones' complement sum of the 16-bit words of p[0..n), added to sum. */
static uint32_t
csum_add(uint32_t sum, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n % 2 == 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

/* UDP checksum over the IPv4 pseudo header, the UDP header and data. */
static uint16_t
udp_csum(const struct sockaddr_in *src, const struct sockaddr_in *dst,
    const unsigned char *udp, size_t n)
{
	unsigned char pseudo[12];
	uint32_t sum;

	memcpy(pseudo, &src->sin_addr, 4);
	memcpy(pseudo + 4, &dst->sin_addr, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_UDP;
	pseudo[10] = (unsigned char)(n >> 8);
	pseudo[11] = (unsigned char)n;
	sum = csum_add(csum_add(0, pseudo, sizeof(pseudo)), udp, n);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	return (uint16_t)(sum == 0 ? 0xffff : sum);
}

/* Send data from src to dst on a raw socket (IP header ours). */
static int
spoof(const struct sockaddr_in *src, const struct sockaddr_in *dst,
    const char *data, size_t n)
{
	static unsigned char
	    pkt[sizeof(struct iphdr) + sizeof(struct udphdr) + FTX_UDP_MAX];
	struct iphdr *ip = (struct iphdr *)pkt;
	struct udphdr *uh = (struct udphdr *)(pkt + sizeof(*ip));
	size_t ulen = sizeof(*uh) + n;
	int fd;

	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd == -1) {
		fprintf(stderr, "udpsend: raw socket: %s\n", strerror(errno));
		return errno == EPERM || errno == EACCES ? EXIT_SKIP : 1;
	}
	memset(pkt, 0, sizeof(*ip) + sizeof(*uh));
	ip->version = 4;
	ip->ihl = sizeof(*ip) / 4;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + ulen));
	ip->saddr = src->sin_addr.s_addr;
	ip->daddr = dst->sin_addr.s_addr;
	/* The kernel fills in the IP checksum (and the id, left 0). */
	uh->source = src->sin_port;
	uh->dest = dst->sin_port;
	uh->len = htons((uint16_t)ulen);
	memcpy(pkt + sizeof(*ip) + sizeof(*uh), data, n);
	uh->check = htons(udp_csum(src, dst, (unsigned char *)uh, ulen));
	if (sendto(fd, pkt, sizeof(*ip) + ulen, 0, (const struct sockaddr *)dst,
		sizeof(*dst)) == -1) {
		fprintf(stderr, "udpsend: raw sendto: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	printf("sent %zu bytes from %s:%u (spoofed)\n", n,
	    inet_ntoa(src->sin_addr), ntohs(src->sin_port));
	return 0;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Report every datagram that arrives on fd within wait_ms. */
static void
collect(int fd, long long wait_ms)
{
	static char buf[SEND_RECV_MAX];
	long long until = now_ms() + wait_ms, left;
	struct pollfd pfd;
	unsigned long replies = 0;
	ssize_t got;

	while ((left = until - now_ms()) > 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (got < 0)
			continue; /* an ICMP error: nobody listens */
		replies++;
		printf("reply %zd %.4s\n", got, got >= 4 ? buf : "????");
	}
	printf("replies=%lu\n", replies);
}

/* Send data from a socket bound to src, then collect what comes back. */
static int
bound(const struct sockaddr_in *src, const struct sockaddr_in *dst,
    const char *data, size_t n, long long wait_ms)
{
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	int fd;

	memset(&me, 0, sizeof(me));

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		fprintf(stderr, "udpsend: socket: %s\n", strerror(errno));
		return 1;
	}
	if (bind(fd, (const struct sockaddr *)src, sizeof(*src)) == -1) {
		int e = errno;

		fprintf(stderr, "udpsend: bind: %s\n", strerror(e));
		close(fd);
		return e == EACCES || e == EPERM ? EXIT_SKIP : 1;
	}
	if (sendto(fd, data, n, 0, (const struct sockaddr *)dst,
		sizeof(*dst)) == -1) {
		fprintf(stderr, "udpsend: sendto: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	if (getsockname(fd, (struct sockaddr *)&me, &ml) == -1)
		me = *src;
	printf("sent %zu bytes from %s:%u\n", n, inet_ntoa(me.sin_addr),
	    ntohs(me.sin_port));
	collect(fd, wait_ms);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"spoof", no_argument, NULL, 's'},
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {"data", required_argument, NULL, 'd'},
	    {"wait", required_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	struct sockaddr_in src, dst;
	const char *data = NULL;
	uint64_t wait_ms = 0;
	int opt, raw = 0, have_src = 0, have_dst = 0, rc;

	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			raw = 1;
			break;
		case 'f':
			parse_addr(optarg, &src);
			have_src = 1;
			break;
		case 't':
			parse_addr(optarg, &dst);
			have_dst = 1;
			break;
		case 'd':
			data = optarg;
			break;
		case 'w':
			if (str_to_u64(optarg, SEND_WAIT_MAX_MS, &wait_ms) ==
			    -1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !have_src || !have_dst || data == NULL ||
	    strlen(data) > FTX_UDP_MAX)
		usage();
	rc = raw ? spoof(&src, &dst, data, strlen(data))
		 : bound(&src, &dst, data, strlen(data), (long long)wait_ms);
	if (fflush(stdout) == EOF)
		return 1;
	return rc;
}

/*
 * proxy.h - the PROXY protocol version 2 header: what HAProxy's
 * send-proxy-v2 and an AWS NLB with proxy_protocol_v2 put before the
 * first byte of every connection they forward, so that the server
 * behind them learns the client's address (docs/PROTOCOL.md, "PROXY
 * protocol").
 *
 * Pure: no I/O, no allocation, nothing kept between calls.  The caller
 * reads bytes and asks again until the parse is complete; it never
 * needs to read past the header, so what follows (a control line, a
 * data token, a TLS handshake) stays in the socket for its owner.
 *
 * Only what a TCP server needs is accepted: version 2, the LOCAL
 * command (a balancer's own connection, such as a health check: the
 * connection's real addresses stand) or the PROXY command over TCP on
 * IPv4 or IPv6.  AF_UNIX, UDP, an unspecified family with PROXY, other
 * versions and commands, a length past FTX_PROXY_HDR_MAX and TLVs that
 * do not exactly fill the header are errors.  TLVs are skipped.
 */
#ifndef FTX_PROXY_H
#define FTX_PROXY_H

#include <stddef.h>
#include <sys/socket.h>

/* The 12-byte signature, then version and command, family and
 * transport, and the 16-bit length of what follows. */
#define PROXY_SIG_LEN 12
#define PROXY_FIXED_LEN 16

enum proxy_rc { PROXY_ERR = -1, PROXY_NEED_MORE = 0, PROXY_OK = 1 };

struct proxy_hdr {
	int local; /* LOCAL: src and dst are not set */
	struct sockaddr_storage src; /* the client */
	struct sockaddr_storage dst; /* where it connected (the balancer) */
	size_t len; /* bytes the header took, TLVs included */
};

/* 1 if p[0..n) begins with the whole signature, 0 if it is shorter than
 * the signature and a prefix of it (n == 0 included), -1 if not. */
int proxy_sig(const void *p, size_t n);

/*
 * Parse the header at the start of p[0..n):
 *   PROXY_OK         *h is filled; h->len bytes were the header;
 *   PROXY_NEED_MORE  *need is how many bytes in all (from p[0]) the
 *                    next call needs: 16, then the whole header, never
 *                    more than FTX_PROXY_HDR_MAX;
 *   PROXY_ERR        `err` says why.
 * Everything that can already be judged from a short p is: a wrong
 * signature byte fails at once, not after 16 bytes.
 */
int proxy_parse(const void *p, size_t n, struct proxy_hdr *h, size_t *need,
    char *err, size_t errlen);

#endif /* FTX_PROXY_H */

/*
 * cidr.h - lists of IP addresses and networks ("127.0.0.10",
 * "10.0.0.0/8", "2001:db8::/32"), and whether a peer is in one: the
 * balancers ftxd trusts to send PROXY headers (--proxy-from).
 *
 * IPv4 is kept as IPv4-mapped IPv6, so an IPv4 peer seen by a
 * dual-stack listener (::ffff:a.b.c.d) matches the IPv4 entries, as
 * net_same_ip() compares them.  A list is plain data: two lists with the
 * same entries compare equal with memcmp once zeroed (SIGHUP compares
 * settings that way).
 */
#ifndef FTX_CIDR_H
#define FTX_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

#include "ftx_limits.h"

struct cidr {
	unsigned char addr[16]; /* masked to the prefix */
	int bits; /* prefix length, 0..128 */
};

struct cidr_list {
	struct cidr net[FTX_PROXY_FROM_MAX];
	size_t n;
};

/* Parse "ADDR[/BITS][,ADDR[/BITS]...]" (blanks around entries allowed;
 * "" is the empty list) into `l`, which is zeroed first; 0, or -1 with
 * the reason. */
int cidr_parse_list(
    struct cidr_list *l, const char *s, char *err, size_t errlen);
/* 1 if `peer` (AF_INET or AF_INET6) is in one of the list's networks. */
int cidr_match(const struct cidr_list *l, const struct sockaddr_storage *peer);
/* The list as "a,b/24,...", for the log; always terminates `out`. */
void cidr_list_str(const struct cidr_list *l, char *out, size_t n);

#endif /* FTX_CIDR_H */

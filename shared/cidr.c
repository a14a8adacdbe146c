/*
 * cidr.c - address and network lists.  See cidr.h.
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "str.h"

/* IPv4 a.b.c.d as ::ffff:a.b.c.d. */
static void
map4(unsigned char out[16], const void *v4)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

static int
is_mapped(const unsigned char a[16])
{
	static const unsigned char pre[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(a, pre, sizeof(pre)) == 0;
}

static void
mask(unsigned char a[16], int bits)
{
	int i;

	for (i = 0; i < 16; i++, bits -= 8) {
		if (bits >= 8)
			continue;
		a[i] &= bits <= 0 ? 0 : (unsigned char)(0xff << (8 - bits));
	}
}

/* One entry, NUL-terminated, blanks already trimmed; 0 or -1. */
static int
parse_one(struct cidr *c, char *s, char *err, size_t errlen)
{
	char *slash = strchr(s, '/');
	unsigned char v4[4];
	uint64_t bits = 0;
	int v6;

	if (slash != NULL)
		*slash = '\0';
	v6 = strchr(s, ':') != NULL;
	if (v6 ? inet_pton(AF_INET6, s, c->addr) != 1
	       : inet_pton(AF_INET, s, v4) != 1)
		return str_err(
		    err, errlen, "'%.64s' is not an IPv4 or IPv6 address", s);
	if (!v6)
		map4(c->addr, v4);
	c->bits = 128;
	if (slash != NULL) {
		if (str_to_u64(slash + 1, v6 ? 128 : 32, &bits) == -1)
			return str_err(err, errlen,
			    "bad prefix length '/%.8s' (0 to %d)", slash + 1,
			    v6 ? 128 : 32);
		c->bits = (int)bits + (v6 ? 0 : 96);
	}
	mask(c->addr, c->bits);
	return 0;
}

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

int
cidr_parse_list(struct cidr_list *l, const char *s, char *err, size_t errlen)
{
	char item[64];
	const char *p = s, *end;
	size_t n;

	memset(l, 0, sizeof(*l));
	while (*p != '\0') {
		while (is_blank(*p))
			p++;
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		while (n > 0 && is_blank(p[n - 1]))
			n--;
		if (n == 0)
			return str_err(err, errlen, "empty entry in the list");
		if (n >= sizeof(item))
			return str_err(err, errlen,
			    "entry longer than %zu bytes", sizeof(item) - 1);
		/* SECURITY: the list is bounded (FTX_PROXY_FROM_MAX). */
		if (l->n == FTX_PROXY_FROM_MAX)
			return str_err(err, errlen, "more than %d entries",
			    FTX_PROXY_FROM_MAX);
		memcpy(item, p, n);
		item[n] = '\0';
		if (parse_one(&l->net[l->n], item, err, errlen) == -1)
			return -1;
		l->n++;
		if (end == NULL)
			break;
		p = end + 1;
		if (*p == '\0')
			return str_err(err, errlen, "empty entry in the list");
	}
	return 0;
}

int
cidr_match(const struct cidr_list *l, const struct sockaddr_storage *peer)
{
	unsigned char a[16], m[16];
	size_t i;

	if (peer->ss_family == AF_INET)
		map4(a, &((const struct sockaddr_in *)peer)->sin_addr);
	else if (peer->ss_family == AF_INET6)
		memcpy(a, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
	else
		return 0;
	for (i = 0; i < l->n; i++) {
		memcpy(m, a, sizeof(m));
		mask(m, l->net[i].bits);
		if (memcmp(m, l->net[i].addr, sizeof(m)) == 0)
			return 1;
	}
	return 0;
}

void
cidr_list_str(const struct cidr_list *l, char *out, size_t n)
{
	char ip[INET6_ADDRSTRLEN], one[INET6_ADDRSTRLEN + 8];
	size_t i, len;
	int v4;

	out[0] = '\0';
	for (i = 0; i < l->n; i++) {
		v4 = is_mapped(l->net[i].addr) && l->net[i].bits >= 96;
		if (v4)
			(void)inet_ntop(
			    AF_INET, l->net[i].addr + 12, ip, sizeof(ip));
		else
			(void)inet_ntop(
			    AF_INET6, l->net[i].addr, ip, sizeof(ip));
		if (l->net[i].bits == 128)
			(void)str_copy(one, sizeof(one), ip);
		else
			(void)str_fmt(one, sizeof(one), "%s/%d", ip,
			    l->net[i].bits - (v4 ? 96 : 0));
		len = strlen(out);
		if (str_fmt(out + len, n - len, "%s%s", i > 0 ? "," : "",
			one) == -1)
			return; /* cut short: it is only for the log */
	}
}

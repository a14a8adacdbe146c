/*
 * proxy.c - the PROXY protocol version 2 header.  See proxy.h.
 */
#include "proxy.h"

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "ftx_limits.h"
#include "str.h"

/* The spec's signature: CR LF CR LF NUL CR LF "QUIT" LF, chosen so that
 * a line-based server that does not expect it sees a QUIT. */
static const unsigned char sig[PROXY_SIG_LEN] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* The 13th byte: version 2 in the high nibble, the command below. */
#define VER2 0x20
#define CMD_LOCAL 0x0
#define CMD_PROXY 0x1
/* The 14th byte: family in the high nibble, transport below. */
#define FAM_TCP4 0x11
#define FAM_TCP6 0x21
/* Address blocks: two addresses, then two 16-bit ports. */
#define TCP4_LEN (2 * 4 + 2 * 2)
#define TCP6_LEN (2 * 16 + 2 * 2)
/* A TLV: type, 16-bit length, value. */
#define TLV_HEAD 3

_Static_assert(FTX_PROXY_HDR_MAX >= PROXY_FIXED_LEN + TCP6_LEN,
    "FTX_PROXY_HDR_MAX below an IPv6 header");
_Static_assert(FTX_PROXY_HDR_MAX <= PROXY_FIXED_LEN + 0xffff,
    "FTX_PROXY_HDR_MAX past what the length field can say");

int
proxy_sig(const void *p, size_t n)
{
	if (n >= PROXY_SIG_LEN)
		return memcmp(p, sig, PROXY_SIG_LEN) == 0 ? 1 : -1;
	return memcmp(p, sig, n) == 0 ? 0 : -1;
}

static unsigned
be16(const unsigned char *b)
{
	return (unsigned)b[0] << 8 | b[1];
}

/* The fixed part, as far as it has arrived; 0 or -1.  SECURITY: only
 * version 2, LOCAL or PROXY over TCP4/TCP6, and a length within
 * FTX_PROXY_HDR_MAX pass, each judged as soon as its byte arrives. */
static int
check_fixed(const unsigned char *b, size_t n, char *err, size_t errlen)
{
	if (proxy_sig(b, n) == -1)
		return str_err(err, errlen, "no PROXY v2 signature");
	if (n > 12 && (b[12] & 0xf0) != VER2)
		return str_err(err, errlen, "PROXY version %u, not 2",
		    (unsigned)(b[12] >> 4));
	if (n > 12 && (b[12] & 0x0f) != CMD_LOCAL &&
	    (b[12] & 0x0f) != CMD_PROXY)
		return str_err(err, errlen, "unknown PROXY command %u",
		    (unsigned)(b[12] & 0x0f));
	/* A LOCAL header's family is to be ignored (health checks). */
	if (n > 13 && (b[12] & 0x0f) == CMD_PROXY && b[13] != FAM_TCP4 &&
	    b[13] != FAM_TCP6) {
		if ((b[13] >> 4) == 3)
			return str_err(err, errlen, "PROXY for AF_UNIX");
		if ((b[13] & 0x0f) != 1)
			return str_err(err, errlen,
			    "PROXY for a non-TCP "
			    "transport");
		return str_err(err, errlen, "PROXY for address family %u",
		    (unsigned)(b[13] >> 4));
	}
	if (n >= PROXY_FIXED_LEN &&
	    PROXY_FIXED_LEN + be16(b + 14) > FTX_PROXY_HDR_MAX)
		return str_err(err, errlen,
		    "PROXY header of %u bytes (at most %d)",
		    PROXY_FIXED_LEN + be16(b + 14), FTX_PROXY_HDR_MAX);
	return 0;
}

/* TLVs in b[0..n) must fill it exactly; their values are skipped. */
static int
skip_tlvs(const unsigned char *b, size_t n, char *err, size_t errlen)
{
	size_t off = 0, vlen;

	while (off < n) {
		if (n - off < TLV_HEAD)
			return str_err(err, errlen, "truncated PROXY TLV");
		vlen = be16(b + off + 1);
		if (vlen > n - off - TLV_HEAD)
			return str_err(
			    err, errlen, "PROXY TLV past the header");
		off += TLV_HEAD + vlen;
	}
	return 0;
}

static void
put_tcp4(const unsigned char *a, struct proxy_hdr *h)
{
	struct sockaddr_in *s = (struct sockaddr_in *)&h->src;
	struct sockaddr_in *d = (struct sockaddr_in *)&h->dst;

	s->sin_family = d->sin_family = AF_INET;
	memcpy(&s->sin_addr, a, 4);
	memcpy(&d->sin_addr, a + 4, 4);
	/* Both are in network order, on the wire and in sin_port. */
	memcpy(&s->sin_port, a + 8, 2);
	memcpy(&d->sin_port, a + 10, 2);
}

static void
put_tcp6(const unsigned char *a, struct proxy_hdr *h)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&h->src;
	struct sockaddr_in6 *d = (struct sockaddr_in6 *)&h->dst;

	s->sin6_family = d->sin6_family = AF_INET6;
	memcpy(&s->sin6_addr, a, 16);
	memcpy(&d->sin6_addr, a + 16, 16);
	memcpy(&s->sin6_port, a + 32, 2);
	memcpy(&d->sin6_port, a + 34, 2);
}

int
proxy_parse(const void *p, size_t n, struct proxy_hdr *h, size_t *need,
    char *err, size_t errlen)
{
	const unsigned char *b = p;
	size_t total, alen;

	*need = PROXY_FIXED_LEN;
	if (check_fixed(b, n, err, errlen) == -1)
		return PROXY_ERR;
	if (n < PROXY_FIXED_LEN)
		return PROXY_NEED_MORE;
	total = PROXY_FIXED_LEN + be16(b + 14);
	*need = total;
	if (n < total)
		return PROXY_NEED_MORE;
	memset(h, 0, sizeof(*h));
	h->len = total;
	if ((b[12] & 0x0f) == CMD_LOCAL) {
		h->local = 1;
		return PROXY_OK;
	}
	alen = b[13] == FAM_TCP4 ? TCP4_LEN : TCP6_LEN;
	if (total - PROXY_FIXED_LEN < alen) {
		(void)str_err(err, errlen,
		    "PROXY address block of %zu bytes (needs %zu)",
		    total - PROXY_FIXED_LEN, alen);
		return PROXY_ERR;
	}
	if (skip_tlvs(b + PROXY_FIXED_LEN + alen,
		total - PROXY_FIXED_LEN - alen, err, errlen) == -1)
		return PROXY_ERR;
	if (alen == TCP4_LEN)
		put_tcp4(b + PROXY_FIXED_LEN, h);
	else
		put_tcp6(b + PROXY_FIXED_LEN, h);
	return PROXY_OK;
}

/*
 * test_proxy.c - unit tests for shared/proxy.c, the PROXY protocol v2
 * parser.  Its input comes from the network: only a trusted balancer's
 * connection is parsed, but a misconfigured or compromised one, or a
 * client that reached the port directly, may send anything.  So every
 * malformed header must fail cleanly, never read past what it was given
 * or past FTX_PROXY_HDR_MAX, and never yield an address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "ftx_limits.h"
#include "proxy.h"

static const unsigned char SIG[12] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* A header: signature, version/command, family, length, then `body`. */
static size_t
mk(unsigned char *out, unsigned vc, unsigned fam, size_t len, const void *body,
    size_t blen)
{
	memcpy(out, SIG, sizeof(SIG));
	out[12] = (unsigned char)vc;
	out[13] = (unsigned char)fam;
	out[14] = (unsigned char)(len >> 8);
	out[15] = (unsigned char)len;
	if (blen > 0)
		memcpy(out + 16, body, blen);
	return 16 + blen;
}

/* 192.0.2.7:40000 -> 198.51.100.1:5001 */
static const unsigned char TCP4[12] = {
    192, 0, 2, 7, 198, 51, 100, 1, 0x9c, 0x40, 0x13, 0x89};

static int
parse(const unsigned char *b, size_t n, struct proxy_hdr *h, size_t *need)
{
	char err[FTX_ERRLEN];

	return proxy_parse(b, n, h, need, err, sizeof(err));
}

static void
expect_err(const unsigned char *b, size_t n, const char *why)
{
	char err[FTX_ERRLEN] = "";
	struct proxy_hdr h;
	size_t need = 0;

	assert_int_equal(
	    proxy_parse(b, n, &h, &need, err, sizeof(err)), PROXY_ERR);
	assert_non_null(strstr(err, why));
	assert_true(need <= FTX_PROXY_HDR_MAX);
}

static void
test_sig(void **state)
{
	unsigned char b[16];

	(void)state;
	assert_int_equal(proxy_sig(SIG, 0), 0);
	assert_int_equal(proxy_sig(SIG, 5), 0);
	assert_int_equal(proxy_sig(SIG, 12), 1);
	memcpy(b, SIG, 12);
	b[12] = 'x';
	assert_int_equal(proxy_sig(b, 13), 1);
	assert_int_equal(proxy_sig("\r\nX", 3), -1);
	assert_int_equal(proxy_sig("PROXY TCP4 ", 11), -1);
	/* "\r\n" alone could be either: it is a prefix. */
	assert_int_equal(proxy_sig("\r\n", 2), 0);
	b[11] = 'X';
	assert_int_equal(proxy_sig(b, 12), -1);
}

static void
test_tcp4(void **state)
{
	unsigned char b[64];
	const struct sockaddr_in *s, *d;
	struct proxy_hdr h;
	size_t n, need;
	char ip[INET_ADDRSTRLEN];

	(void)state;
	n = mk(b, 0x21, 0x11, 12, TCP4, 12);
	/* Bytes after the header are the stream's, not the header's. */
	memcpy(b + n, "NOOP\n", 5);
	assert_int_equal(parse(b, n + 5, &h, &need), PROXY_OK);
	assert_int_equal(h.len, 28);
	assert_int_equal(h.local, 0);
	s = (const struct sockaddr_in *)&h.src;
	d = (const struct sockaddr_in *)&h.dst;
	assert_int_equal(s->sin_family, AF_INET);
	assert_string_equal(
	    inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip)), "192.0.2.7");
	assert_int_equal(ntohs(s->sin_port), 40000);
	assert_string_equal(
	    inet_ntop(AF_INET, &d->sin_addr, ip, sizeof(ip)), "198.51.100.1");
	assert_int_equal(ntohs(d->sin_port), 5001);
}

static void
test_tcp6(void **state)
{
	unsigned char b[64], body[36];
	const struct sockaddr_in6 *s;
	struct proxy_hdr h;
	size_t n, need;
	char ip[INET6_ADDRSTRLEN];

	(void)state;
	memset(body, 0, sizeof(body));
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", body), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", body + 16), 1);
	body[32] = 0x04;
	body[33] = 0xd2; /* 1234 */
	body[34] = 0x13;
	body[35] = 0x89;
	n = mk(b, 0x21, 0x21, 36, body, 36);
	assert_int_equal(parse(b, n, &h, &need), PROXY_OK);
	assert_int_equal(h.len, 52);
	s = (const struct sockaddr_in6 *)&h.src;
	assert_int_equal(s->sin6_family, AF_INET6);
	assert_string_equal(
	    inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip)), "2001:db8::5");
	assert_int_equal(ntohs(s->sin6_port), 1234);
}

/* Fed a byte at a time, the parser asks for exactly the header and
 * never for a byte past it. */
static void
test_incremental(void **state)
{
	unsigned char b[64];
	struct proxy_hdr h;
	size_t n, i, need;

	(void)state;
	n = mk(b, 0x21, 0x11, 12, TCP4, 12);
	for (i = 0; i < n; i++) {
		assert_int_equal(parse(b, i, &h, &need), PROXY_NEED_MORE);
		assert_int_equal(need, i < 16 ? 16 : n);
		assert_true(need > i);
	}
	assert_int_equal(parse(b, n, &h, &need), PROXY_OK);
}

/* LOCAL (health checks): the connection's own addresses stand, whatever
 * the family and block say; the block and its TLVs are skipped. */
static void
test_local(void **state)
{
	unsigned char b[64], junk[20];
	struct proxy_hdr h;
	size_t n, need;

	(void)state;
	n = mk(b, 0x20, 0x00, 0, NULL, 0);
	assert_int_equal(parse(b, n, &h, &need), PROXY_OK);
	assert_int_equal(h.local, 1);
	assert_int_equal(h.len, 16);
	memset(junk, 0xee, sizeof(junk));
	n = mk(b, 0x20, 0x31, sizeof(junk), junk, sizeof(junk));
	assert_int_equal(parse(b, n, &h, &need), PROXY_OK);
	assert_int_equal(h.local, 1);
	assert_int_equal(h.len, 36);
}

static void
test_bad_signature(void **state)
{
	unsigned char b[64];
	size_t n;

	(void)state;
	n = mk(b, 0x21, 0x11, 12, TCP4, 12);
	b[0] = 'P';
	/* Judged from the first byte, without waiting for 16. */
	expect_err(b, 1, "signature");
	b[0] = 0x0d;
	b[11] = 'x';
	expect_err(b, 12, "signature");
	expect_err(b, n, "signature");
	/* The text form (version 1) is not accepted. */
	expect_err((const unsigned char *)"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
	    32, "signature");
}

static void
test_bad_version_command(void **state)
{
	unsigned char b[64];

	(void)state;
	(void)mk(b, 0x11, 0x11, 12, TCP4, 12);
	expect_err(b, 13, "version 1");
	(void)mk(b, 0x31, 0x11, 12, TCP4, 12);
	expect_err(b, 28, "version 3");
	(void)mk(b, 0x22, 0x11, 12, TCP4, 12);
	expect_err(b, 13, "command 2");
	(void)mk(b, 0x2f, 0x11, 12, TCP4, 12);
	expect_err(b, 28, "command 15");
}

static void
test_bad_family(void **state)
{
	unsigned char b[300], body[216];

	(void)state;
	memset(body, 'u', sizeof(body));
	(void)mk(b, 0x21, 0x31, 216, body, 216);
	expect_err(b, 232, "AF_UNIX");
	(void)mk(b, 0x21, 0x32, 216, body, 216);
	expect_err(b, 14, "AF_UNIX");
	(void)mk(b, 0x21, 0x12, 12, TCP4, 12);
	expect_err(b, 28, "non-TCP");
	(void)mk(b, 0x21, 0x10, 12, TCP4, 12);
	expect_err(b, 28, "non-TCP");
	/* PROXY with an unspecified family would leave us the balancer's
	 * address: refused, not taken. */
	(void)mk(b, 0x21, 0x00, 0, NULL, 0);
	expect_err(b, 16, "non-TCP");
	(void)mk(b, 0x21, 0x01, 0, NULL, 0);
	expect_err(b, 16, "family 0");
	(void)mk(b, 0x21, 0x41, 12, TCP4, 12);
	expect_err(b, 28, "family 4");
}

static void
test_short_block(void **state)
{
	unsigned char b[64];

	(void)state;
	(void)mk(b, 0x21, 0x11, 11, TCP4, 11);
	expect_err(b, 27, "address block of 11");
	(void)mk(b, 0x21, 0x11, 0, NULL, 0);
	expect_err(b, 16, "address block of 0");
	/* An IPv4-sized block under the IPv6 family. */
	(void)mk(b, 0x21, 0x21, 12, TCP4, 12);
	expect_err(b, 28, "address block of 12 bytes (needs 36)");
}

/* The length field says up to 65535; we take FTX_PROXY_HDR_MAX in all,
 * and say no as soon as the fixed part has arrived. */
static void
test_length_limit(void **state)
{
	static unsigned char b[16 + 0xffff];
	unsigned char tlv[FTX_PROXY_HDR_MAX];
	struct proxy_hdr h;
	size_t n, need, pad;

	(void)state;
	(void)mk(b, 0x21, 0x11, 0xffff, NULL, 0);
	expect_err(b, 16, "65551 bytes");
	/* Exactly the limit: the address block and one padding TLV. */
	pad = FTX_PROXY_HDR_MAX - 16 - 12 - 3;
	memcpy(tlv, TCP4, 12);
	tlv[12] = 0x04; /* PP2_TYPE_NOOP */
	tlv[13] = (unsigned char)(pad >> 8);
	tlv[14] = (unsigned char)pad;
	memset(tlv + 15, 0, pad);
	n = mk(b, 0x21, 0x11, FTX_PROXY_HDR_MAX - 16, tlv, 12 + 3 + pad);
	assert_int_equal(n, FTX_PROXY_HDR_MAX);
	assert_int_equal(parse(b, 16, &h, &need), PROXY_NEED_MORE);
	assert_int_equal(need, FTX_PROXY_HDR_MAX);
	assert_int_equal(parse(b, n, &h, &need), PROXY_OK);
	assert_int_equal(h.len, FTX_PROXY_HDR_MAX);
	/* One byte more. */
	(void)mk(b, 0x21, 0x11, FTX_PROXY_HDR_MAX - 16 + 1, NULL, 0);
	expect_err(b, 16, "at most");
	/* Even a LOCAL header. */
	(void)mk(b, 0x20, 0x00, FTX_PROXY_HDR_MAX, NULL, 0);
	expect_err(b, 16, "at most");
}

static void
test_tlvs(void **state)
{
	unsigned char b[128], body[64];
	struct proxy_hdr h;
	size_t n, need;

	(void)state;
	memcpy(body, TCP4, 12);
	/* Two TLVs: ALPN "ftx", an empty one. */
	memcpy(body + 12,
	    "\x01\x00\x03"
	    "ftx"
	    "\xea\x00\x00",
	    9);
	n = mk(b, 0x21, 0x11, 21, body, 21);
	assert_int_equal(parse(b, n, &h, &need), PROXY_OK);
	assert_int_equal(h.len, 37);
	/* A TLV head cut short (one, two bytes left). */
	n = mk(b, 0x21, 0x11, 13, body, 13);
	expect_err(b, n, "truncated PROXY TLV");
	n = mk(b, 0x21, 0x11, 14, body, 14);
	expect_err(b, n, "truncated PROXY TLV");
	/* A TLV claiming more than the header holds. */
	memcpy(body + 12,
	    "\x01\xff\xff"
	    "ftx",
	    6);
	n = mk(b, 0x21, 0x11, 18, body, 18);
	expect_err(b, n, "past the header");
	memcpy(body + 12,
	    "\x01\x00\x04"
	    "ftx",
	    6);
	n = mk(b, 0x21, 0x11, 18, body, 18);
	expect_err(b, n, "past the header");
}

/* Every version/command and family/transport byte: only the four
 * accepted forms parse; nothing else does, and nothing crashes. */
static void
test_every_byte_pair(void **state)
{
	unsigned char b[64], body[36];
	struct proxy_hdr h;
	size_t need;
	unsigned vc, fam;
	int r, ok;

	(void)state;
	memset(body, 7, sizeof(body));
	for (vc = 0; vc < 256; vc++) {
		for (fam = 0; fam < 256; fam++) {
			(void)mk(b, vc, fam, 36, body, 36);
			r = parse(b, 52, &h, &need);
			ok = vc == 0x20 ||
			    (vc == 0x21 && (fam == 0x11 || fam == 0x21));
			/* TCP4 with a 36-byte block: 24 bytes of TLVs of
			 * type 7, length 0x0707: past the header. */
			if (vc == 0x21 && fam == 0x11)
				ok = 0;
			assert_int_equal(r, ok ? PROXY_OK : PROXY_ERR);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sig),
	    cmocka_unit_test(test_tcp4),
	    cmocka_unit_test(test_tcp6),
	    cmocka_unit_test(test_incremental),
	    cmocka_unit_test(test_local),
	    cmocka_unit_test(test_bad_signature),
	    cmocka_unit_test(test_bad_version_command),
	    cmocka_unit_test(test_bad_family),
	    cmocka_unit_test(test_short_block),
	    cmocka_unit_test(test_length_limit),
	    cmocka_unit_test(test_tlvs),
	    cmocka_unit_test(test_every_byte_pair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

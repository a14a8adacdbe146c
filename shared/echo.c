/*
 * echo.c - the UDP echo grammar.  See echo.h and docs/PROTOCOL.md.
 */
#include "echo.h"

#include <string.h>

static int
lower_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

enum echo_kind
echo_udp_kind(const unsigned char *buf, size_t n)
{
	enum echo_kind kind;
	size_t i;

	if (n < ECHO_UDP_HDR || n > FTX_UDP_MAX)
		return ECHO_BAD;
	if (memcmp(buf, "FTXE ", 5) == 0)
		kind = ECHO_REQUEST;
	else if (memcmp(buf, "FTXR ", 5) == 0)
		kind = ECHO_REPLY;
	else
		return ECHO_BAD;
	/* (The analyzer does not know recvfrom filled buf[0..n).) */
	if (buf[ECHO_UDP_HDR - 1] !=
	    ' ') /* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult) */
		return ECHO_BAD;
	for (i = 5; i < ECHO_UDP_HDR - 1; i++)
		if (!lower_hex(buf[i]))
			return ECHO_BAD;
	return kind;
}

uint64_t
echo_udp_id(const unsigned char *buf)
{
	uint64_t id = 0;
	size_t i;

	for (i = 5; i < ECHO_UDP_HDR - 1; i++)
		id = (id << 4) |
		    (uint64_t)(buf[i] <= '9' ? buf[i] - '0'
					     : buf[i] - 'a' + 10);
	return id;
}

void
echo_udp_header(unsigned char *out, enum echo_kind kind, uint64_t id)
{
	static const char hex[] = "0123456789abcdef";
	static const unsigned char req[5] = {'F', 'T', 'X', 'E', ' '};
	static const unsigned char rep[5] = {'F', 'T', 'X', 'R', ' '};
	size_t i;

	memcpy(out, kind == ECHO_REPLY ? rep : req, sizeof(req));
	for (i = ECHO_UDP_HDR - 2; i >= 5; i--) {
		out[i] = (unsigned char)hex[id & 0xf];
		id >>= 4;
	}
	out[ECHO_UDP_HDR - 1] = ' ';
}

void
echo_udp_answer(unsigned char *buf)
{
	buf[3] = 'R';
}

int
echo_udp_port_ok(int src_port, int own_port)
{
	return src_port >= FTX_UDP_MIN_SRC_PORT && src_port <= 65535 &&
	    src_port != own_port;
}

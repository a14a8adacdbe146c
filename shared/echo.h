/*
 * echo.h - the UDP echo grammar shared by ftxd, ftx and the test tools
 * (docs/PROTOCOL.md, "Echo").  Pure functions, no I/O, so
 * tests/unit/test_echo.c can feed them hostile input.
 *
 * A request is "FTXE <id> <payload>" and its reply "FTXR <id> <payload>":
 * the same length, id and payload, another magic.  SECURITY: because a
 * reply can never be taken for a request, two echo services cannot be
 * set answering each other forever by one spoofed datagram (the "Loop
 * DoS" class, CVE-2024-2169).
 */
#ifndef FTX_ECHO_H
#define FTX_ECHO_H

#include <stddef.h>
#include <stdint.h>

#include "ftx_limits.h"

/* "FTXE " + 16 hex digits + " ": the payload starts here. */
#define ECHO_UDP_HDR (5 + FTX_UDP_ID_HEX + 1)

enum echo_kind {
	ECHO_BAD, /* neither: dropped */
	ECHO_REQUEST, /* FTXE: answered */
	ECHO_REPLY /* FTXR: read by clients, never answered */
};

/* SECURITY: the single datagram check: what buf[0..n) is, by its magic,
 * an id of FTX_UDP_ID_HEX lowercase hex digits, a space, and at most
 * FTX_UDP_MAX bytes in all. */
enum echo_kind echo_udp_kind(const unsigned char *buf, size_t n);

/* The id of a datagram echo_udp_kind() accepted. */
uint64_t echo_udp_id(const unsigned char *buf);

/* Write the header of a request or a reply with this id (ECHO_UDP_HDR
 * bytes, no NUL) to out. */
void echo_udp_header(unsigned char *out, enum echo_kind kind, uint64_t id);

/* Turn an accepted request into its reply in place: the same bytes but
 * the magic, so never longer. */
void echo_udp_answer(unsigned char *buf);

/* SECURITY: 1 if a datagram from this source port may be answered: not
 * from a well-known service port (< FTX_UDP_MIN_SRC_PORT: echo, chargen,
 * DNS, NTP... answer anything and would answer us back) and not from
 * our own port number (another ftx echo service). */
int echo_udp_port_ok(int src_port, int own_port);

#endif /* FTX_ECHO_H */

/*
 * udpecho.h - UDP echo on the control port number (docs/PROTOCOL.md,
 * "Echo").  The loop thread owns the socket; a datagram is answered in
 * the callback that reads it.
 */
#ifndef FTXD_UDPECHO_H
#define FTXD_UDPECHO_H

#include <stddef.h>

struct server;

/* Bind UDP on the control address and port and start answering; 0 or
 * -1. */
int uecho_open(struct server *srv, int port, char *err, size_t errlen);
/* Once a second at most: log what was dropped since the last report. */
void uecho_tick(struct server *srv, long long now_ms);
void uecho_close(struct server *srv);

/* SECURITY: 1 if buf[0..n) is a well-formed request (the only kind we
 * answer); exposed for tests. */
int uecho_valid(const unsigned char *buf, size_t n);

#endif /* FTXD_UDPECHO_H */

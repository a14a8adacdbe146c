/*
 * udpecho.h - UDP echo on the control port number (docs/PROTOCOL.md,
 * "Echo").  The loop thread owns the socket; a datagram is answered in
 * the callback that reads it.
 */
#ifndef FTXD_UDPECHO_H
#define FTXD_UDPECHO_H

#include <stddef.h>

struct config;
struct loop;
struct uecho;

/* Bind UDP on the control address (cfg->bind) and `port` and start
 * answering; NULL on failure (err says why).  `cfg` is read while
 * running (--udp-rate may change on SIGHUP). */
struct uecho *uecho_open(struct loop *l, const struct config *cfg, int port,
    char *err, size_t errlen);
/* Once a second at most: log what was dropped since the last report. */
void uecho_tick(struct uecho *u, long long now_ms);
/* Stop answering and free `u` (NULL is fine). */
void uecho_close(struct uecho *u);

/* SECURITY: 1 if buf[0..n) is a well-formed request (the only kind we
 * answer); exposed for tests. */
int uecho_valid(const unsigned char *buf, size_t n);

#endif /* FTXD_UDPECHO_H */

/*
 * pxgate.h - connections from trusted balancers, held until their PROXY
 * v2 header has told us whose they are.
 *
 * A connection accepted from an address in --proxy-from (control or
 * data) is given to the gate before anything else happens to it.  The
 * gate reads exactly the header (shared/proxy.h), through the event
 * loop, never blocking it, and never a byte past the header: the
 * control line, token or TLS handshake that follows stays in the socket.
 * Then it hands the connection back with the client's address (the
 * balancer's own for a LOCAL header, such as a health check), and the
 * caller admits it as if the client had connected directly: per-IP
 * caps, the login lockout, the same-address check of data connections
 * and the logs all see the client.  A connection whose header is
 * missing, wrong or late (FTX_PROXY_TIMEOUT_S) is logged and closed;
 * at most FTX_PROXY_WAIT_MAX wait at once.
 *
 * Depends on the loop and the log only; whoever owns the listeners
 * (server.c, dconn.c) decides who is trusted and what admission means.
 */
#ifndef FTXD_PXGATE_H
#define FTXD_PXGATE_H

#include <stddef.h>
#include <sys/socket.h>

struct loop;
struct pxgate;

/* The header arrived: `fd` (non-blocking, no longer watched) belongs to
 * the callee, and `peer` is the client's address.  On the loop thread. */
typedef void pxgate_fn(void *arg, int fd, const struct sockaddr_storage *peer);

/* A gate on loop `l`; NULL if out of memory. */
struct pxgate *pxgate_new(struct loop *l);
/* Close every waiting connection and free the gate (NULL is fine). */
void pxgate_free(struct pxgate *g);
/* Take `fd`, accepted from the trusted `peer`, until its header comes
 * (then `done`) or it fails (then it is logged and closed).  `what`
 * ("control", "data"; a string constant) is for the log. */
void pxgate_hold(struct pxgate *g, int fd, const struct sockaddr_storage *peer,
    const char *what, pxgate_fn *done, void *arg);
/* Timers: close connections whose header is late. */
void pxgate_tick(struct pxgate *g, long long now);
/* Graceful stop: close every waiting connection. */
void pxgate_stop(struct pxgate *g);
/* Connections waiting now. */
size_t pxgate_waiting(const struct pxgate *g);

#endif /* FTXD_PXGATE_H */

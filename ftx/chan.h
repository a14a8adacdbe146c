/*
 * chan.h - one byte stream to the server: a plain TCP socket, or TLS
 * over it (see shared/tls.h).
 *
 * The control connection and the data connections read and write
 * through a struct chan, so that everything above (lines, transfers,
 * the chat's poll loop) is the same with and without TLS.  The calls
 * never block on a read: chan_read() returns -1 with EAGAIN when
 * nothing is ready, and the caller polls the socket for chan_want().
 *
 * One trap TLS adds: bytes the TLS layer has already decrypted and
 * buffered do not make the socket readable again.  Anyone who poll()s
 * a channel must check chan_pending() first.
 */
#ifndef FTX_CHAN_H
#define FTX_CHAN_H

#include <stddef.h>
#include <sys/types.h>

struct tls;
struct tls_ctx;

struct chan {
	int fd; /* -1 when closed */
	struct tls *tls; /* NULL for plain TCP */
};

void chan_init(struct chan *ch, int fd);
/* Like recv(2) with MSG_DONTWAIT: a count, 0 at the end of the stream,
 * -1 with errno (EAGAIN: poll for chan_want(ch, POLLIN) and retry). */
ssize_t chan_read(struct chan *ch, void *buf, size_t n);
/* Like send(2) with MSG_DONTWAIT | MSG_NOSIGNAL. */
ssize_t chan_write(struct chan *ch, const void *buf, size_t n);
/* Write all n bytes, waiting at most timeout_s for each bit of
 * progress; 0, or -1 with errno (EAGAIN when it timed out). */
int chan_write_all(struct chan *ch, const void *buf, size_t n, int timeout_s);
/* Decrypted bytes waiting inside the TLS layer (0 for plain TCP). */
size_t chan_pending(const struct chan *ch);
/* What to poll for after an EAGAIN: TLS may need to read in order to
 * write, or the reverse; `dflt` (POLLIN or POLLOUT) for plain TCP. */
int chan_want(const struct chan *ch, int dflt);
/* The text for a failure with this errno (TLS errors have their own). */
const char *chan_strerror(const struct chan *ch, int e);
/*
 * Run a TLS client handshake over ch->fd (which becomes non-blocking)
 * within timeout_s.  `host` is sent as SNI (and checked against the
 * certificate when `ctx` has a CA file).  With `resume` (a data
 * connection), the handshake must resume the session of that control
 * connection's TLS.  0, or -1 with err; *proto is set to 1 when the
 * failure is a TLS one (bad certificate, protocol error) rather than
 * the network's.
 */
int chan_start_tls(struct chan *ch, struct tls_ctx *ctx, const char *host,
    const struct tls *resume, int timeout_s, int *proto, char *err,
    size_t errlen);
/* End the stream cleanly: TLS close_notify, then a TCP half-close. */
void chan_shutdown(struct chan *ch);
/* Free the TLS state and close the socket. */
void chan_close(struct chan *ch);

#endif /* FTX_CHAN_H */

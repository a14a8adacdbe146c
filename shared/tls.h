/*
 * tls.h - TLS for both channels (OpenSSL 3 libssl), for ftxd and ftx.
 *
 * One policy for every connection: TLS 1.2 at least, 1.3 preferred, no
 * compression, no renegotiation, AEAD ciphers with forward secrecy only.
 *
 * The control connection upgrades with STARTTLS (docs/PROTOCOL.md).  A
 * data connection of a TLS session is TLS too and must resume the control
 * connection's TLS session: the server puts a random per-session id into
 * the session tickets it issues on the control connection and accepts a
 * data connection only if its handshake resumed a ticket carrying the
 * same id.  A stolen token alone is therefore useless.
 *
 * I/O functions work on blocking and non-blocking sockets alike and keep
 * the recv(2)/send(2) conventions: a count, 0 at the end of the stream,
 * or -1 with errno set (EAGAIN when the operation must be retried once
 * the socket is ready for tls_want(); EAGAIN is also what a blocking
 * socket's SO_RCVTIMEO/SO_SNDTIMEO produces).  Errors from the TLS layer
 * itself set errno to EPROTO; tls_strerror() has the text.
 */
#ifndef FTX_TLS_H
#define FTX_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "ftx_limits.h"

struct tls_ctx;
struct tls;

/* A server context from PEM files (the key must match the cert). */
struct tls_ctx *tls_server_ctx(
    const char *certfile, const char *keyfile, char *err, size_t errlen);
/*
 * A client context.  With `cafile` the server's chain is verified
 * against it (and the host name against the certificate); without it
 * nothing is verified by OpenSSL and the caller must check the peer's
 * fingerprint (trust on first use, --pin) or accept the risk (--insecure).
 */
struct tls_ctx *tls_client_ctx(const char *cafile, char *err, size_t errlen);
void tls_ctx_free(struct tls_ctx *ctx);

/* A connection over `fd` (not owned: tls_free does not close it).
 * `host` (client only, may be NULL) is sent as SNI and checked against
 * the certificate when the context has a CA file. */
struct tls *tls_new(struct tls_ctx *ctx, int fd, int server, const char *host,
    char *err, size_t errlen);
void tls_free(struct tls *t);

/* Advance the handshake: 1 done, 0 must wait (see tls_want), -1 failed
 * (tls_strerror). */
int tls_handshake(struct tls *t);
/* POLLIN or POLLOUT: what the last EAGAIN / 0 from tls_handshake waits
 * for. */
int tls_want(const struct tls *t);

ssize_t tls_read(struct tls *t, void *buf, size_t n);
ssize_t tls_write(struct tls *t, const void *buf, size_t n);
/* Write all n bytes (blocking sockets); 0 or -1 with errno. */
int tls_write_all(struct tls *t, const void *buf, size_t n);
/* Bytes already decrypted and buffered inside the TLS layer: they will
 * not make the socket readable again. */
size_t tls_pending(const struct tls *t);
/* This connection moves bulk data: keep its record buffers allocated
 * (idle control connections release theirs, to save memory). */
void tls_bulk(struct tls *t);
/* Send close_notify (best effort; does not wait for the peer's). */
void tls_shutdown(struct tls *t);
/* The reason for the last failure on `t`, one line. */
const char *tls_strerror(const struct tls *t);

/* "TLSv1.3 TLS_AES_128_GCM_SHA256" for logs and `ftx --verbose`. */
void tls_describe(const struct tls *t, char *out, size_t n);

/* --- session binding (server) --- */

/* Tickets issued on this (control) connection carry `id`; call before
 * the handshake. */
int tls_set_bind_id(struct tls *t, const unsigned char *id);
/* Issue no session tickets on this (data) connection. */
void tls_no_tickets(struct tls *t);
/* After the handshake: 0 and the id if the handshake resumed a session
 * from a ticket that carries one, else -1. */
int tls_get_bind_id(const struct tls *t, unsigned char *id);

/* --- session resumption (client) --- */

/* Offer the newest session ticket `ctl` has received, so the server can
 * tie this connection to `ctl`'s session; 0, or -1 if there is none
 * yet. */
int tls_resume_from(struct tls *t, const struct tls *ctl);
/* After the handshake: 1 if the session was resumed. */
int tls_resumed(const struct tls *t);

/* --- certificates --- */

/* The peer certificate's fingerprint, "SHA256:<64 lowercase hex>" (the
 * SHA-256 of its DER form, as `openssl x509 -fingerprint -sha256`). */
int tls_peer_fingerprint(const struct tls *t, char *fp, size_t n);
/* The same for a PEM certificate file. */
int tls_file_fingerprint(
    const char *certfile, char *fp, size_t n, char *err, size_t errlen);
/* Normalise a fingerprint as a user may type it ("SHA256:ab..",
 * "AB:CD:..", with or without the prefix) to the form above; 0 or -1. */
int tls_fingerprint_parse(const char *in, char *fp, size_t n);
/* The chain was verified against the context's CA file (and host). */
int tls_peer_verified(const struct tls *t, char *err, size_t errlen);

#endif /* FTX_TLS_H */

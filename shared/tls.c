/*
 * tls.c - TLS for both channels.  See tls.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "str.h"
#include "tls.h"

/* SECURITY: AEAD ciphers with forward secrecy only.  TLS 1.3 prefers
 * AES-128-GCM: as strong as needed and the fastest with AES-NI. */
#define TLS13_SUITES                                                           \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"                       \
	"TLS_CHACHA20_POLY1305_SHA256"
#define TLS12_CIPHERS                                                          \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"           \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"           \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_GROUPS "X25519:P-256:P-384"
/* Tickets stay valid as long as TLS 1.3 allows (RFC 8446, 4.6.1): a
 * data connection resumes its control session's ticket, and a control
 * session may live for days. */
#define TLS_TICKET_LIFETIME_S (7 * 24 * 3600)

struct tls_ctx {
	SSL_CTX *ctx;
	int server;
	int verify; /* client: a CA file was given */
};

struct tls {
	SSL *ssl;
	struct tls_ctx *ctx;
	int want; /* POLLIN or POLLOUT */
	int done; /* handshake finished */
	int broken; /* a fatal error: no close_notify */
	int has_bind;
	unsigned char bind[FTX_TLS_BIND_ID_BYTES];
	SSL_SESSION *latest; /* client: the newest ticket received */
	char errbuf[FTX_ERRLEN];
};

/* The first queued OpenSSL error as text (and the queue emptied). */
static void
ssl_errtext(char *out, size_t n, const char *what)
{
	char buf[200];
	unsigned long e = ERR_get_error();

	if (e == 0) {
		(void)str_fmt(out, n, "%s failed", what);
		return;
	}
	ERR_error_string_n(e, buf, sizeof(buf));
	(void)str_fmt(out, n, "%s: %s", what, buf);
	ERR_clear_error();
}

/* Settings shared by both ends. */
static int
ctx_policy(SSL_CTX *c, char *err, size_t errlen)
{
	/* SECURITY: TLS 1.2 at least; no compression (CRIME), no
	 * renegotiation; a peer that vanishes without close_notify is an
	 * end of stream, as every transfer is length-delimited and hashed. */
	if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(c, TLS13_SUITES) != 1 ||
	    SSL_CTX_set_cipher_list(c, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set1_groups_list(c, TLS_GROUPS) != 1) {
		ssl_errtext(err, errlen, "TLS policy");
		return -1;
	}
	SSL_CTX_set_options(c,
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
		SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Our output buffers may move between retries of a write (they
	 * grow), and a write may complete in parts. */
	SSL_CTX_set_mode(c,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
		SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	return 0;
}

/* Server: a ticket issued on a control connection carries its id. */
static int
ticket_gen(SSL *ssl, void *arg)
{
	struct tls *t = SSL_get_app_data(ssl);
	SSL_SESSION *sess = SSL_get0_session(ssl);

	(void)arg;
	if (t == NULL || !t->has_bind || sess == NULL)
		return 1;
	return SSL_SESSION_set1_ticket_appdata(sess, t->bind, sizeof(t->bind));
}

/* Server: OpenSSL's default decisions; the id travels in the session. */
static SSL_TICKET_RETURN
ticket_dec(SSL *ssl, SSL_SESSION *sess, const unsigned char *keyname,
    size_t keynamelen, SSL_TICKET_STATUS status, void *arg)
{
	(void)ssl;
	(void)sess;
	(void)keyname;
	(void)keynamelen;
	(void)arg;
	switch (status) {
	case SSL_TICKET_SUCCESS:
		return SSL_TICKET_RETURN_USE;
	case SSL_TICKET_SUCCESS_RENEW:
		return SSL_TICKET_RETURN_USE_RENEW;
	case SSL_TICKET_EMPTY:
	case SSL_TICKET_NO_DECRYPT:
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	default:
		return SSL_TICKET_RETURN_ABORT;
	}
}

struct tls_ctx *
tls_server_ctx(
    const char *certfile, const char *keyfile, char *err, size_t errlen)
{
	static const unsigned char sid[] = "ftxd";
	struct tls_ctx *t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		str_err(err, errlen, "out of memory");
		return NULL;
	}
	t->server = 1;
	ERR_clear_error();
	if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		ssl_errtext(err, errlen, "SSL_CTX_new");
		goto fail;
	}
	if (ctx_policy(t->ctx, err, errlen) == -1)
		goto fail;
	if (SSL_CTX_use_certificate_chain_file(t->ctx, certfile) != 1) {
		ssl_errtext(err, errlen, certfile);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(t->ctx, keyfile, SSL_FILETYPE_PEM) !=
	    1) {
		ssl_errtext(err, errlen, keyfile);
		goto fail;
	}
	if (SSL_CTX_check_private_key(t->ctx) != 1) {
		ssl_errtext(
		    err, errlen, "the key does not match the certificate");
		goto fail;
	}
	SSL_CTX_set_options(t->ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Stateless tickets only: no server-side cache to bound or share. */
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_timeout(t->ctx, TLS_TICKET_LIFETIME_S);
	if (SSL_CTX_set_session_id_context(t->ctx, sid, sizeof(sid) - 1) != 1 ||
	    SSL_CTX_set_num_tickets(t->ctx, 1) != 1 ||
	    SSL_CTX_set_session_ticket_cb(
		t->ctx, ticket_gen, ticket_dec, NULL) != 1) {
		ssl_errtext(err, errlen, "TLS session tickets");
		goto fail;
	}
	return t;
fail:
	tls_ctx_free(t);
	return NULL;
}

/* Client: keep the newest ticket for the data connections. */
static int
ticket_new(SSL *ssl, SSL_SESSION *sess)
{
	struct tls *t = SSL_get_app_data(ssl);

	if (t == NULL)
		return 0;
	if (t->latest != NULL)
		SSL_SESSION_free(t->latest);
	t->latest = sess;
	return 1; /* we keep the reference */
}

struct tls_ctx *
tls_client_ctx(const char *cafile, char *err, size_t errlen)
{
	struct tls_ctx *t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		str_err(err, errlen, "out of memory");
		return NULL;
	}
	ERR_clear_error();
	if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ssl_errtext(err, errlen, "SSL_CTX_new");
		goto fail;
	}
	if (ctx_policy(t->ctx, err, errlen) == -1)
		goto fail;
	if (cafile != NULL) {
		if (SSL_CTX_load_verify_locations(t->ctx, cafile, NULL) != 1) {
			ssl_errtext(err, errlen, cafile);
			goto fail;
		}
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
		t->verify = 1;
	} else {
		/* The caller checks the fingerprint (tls.h). */
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
	}
	SSL_CTX_set_session_cache_mode(
	    t->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(t->ctx, ticket_new);
	return t;
fail:
	tls_ctx_free(t);
	return NULL;
}

void
tls_ctx_free(struct tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ctx);
	free(ctx);
}

/* Client with a CA file: the certificate must name `host`. */
static int
expect_host(SSL *ssl, const char *host)
{
	X509_VERIFY_PARAM *p = SSL_get0_param(ssl);
	unsigned char addr[16];

	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(p, host) == 1 ? 0 : -1;
	return SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

struct tls *
tls_new(struct tls_ctx *ctx, int fd, int server, const char *host, char *err,
    size_t errlen)
{
	struct tls *t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		str_err(err, errlen, "out of memory");
		return NULL;
	}
	t->ctx = ctx;
	ERR_clear_error();
	if ((t->ssl = SSL_new(ctx->ctx)) == NULL ||
	    SSL_set_fd(t->ssl, fd) != 1) {
		ssl_errtext(err, errlen, "SSL_new");
		goto fail;
	}
	SSL_set_app_data(t->ssl, t);
	if (server) {
		SSL_set_accept_state(t->ssl);
	} else {
		SSL_set_connect_state(t->ssl);
		/* SNI only for names (RFC 6066 forbids IP literals). */
		if (host != NULL &&
		    strspn(host, "0123456789.:") != strlen(host) &&
		    SSL_set_tlsext_host_name(t->ssl, host) != 1) {
			ssl_errtext(err, errlen, "SNI");
			goto fail;
		}
		if (ctx->verify && host != NULL &&
		    expect_host(t->ssl, host) == -1) {
			ssl_errtext(err, errlen, "host name check");
			goto fail;
		}
	}
	return t;
fail:
	tls_free(t);
	return NULL;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	if (t->latest != NULL)
		SSL_SESSION_free(t->latest);
	SSL_free(t->ssl);
	explicit_bzero(t, sizeof(*t));
	free(t);
}

/*
 * Map a failed SSL_* call to the recv/send conventions: -1 with errno
 * EAGAIN (and t->want) when it must be retried, 0 for the end of the
 * stream, else -1 with errno and t->errbuf describing the failure.
 */
static int
failed(struct tls *t, int r, const char *what)
{
	int saved = errno;

	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		t->want = POLLIN;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		t->want = POLLOUT;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		t->broken = 1;
		if (ERR_peek_error() != 0) {
			ssl_errtext(t->errbuf, sizeof(t->errbuf), what);
			errno = EPROTO;
			return -1;
		}
		if (saved == 0)
			saved = ECONNRESET;
		(void)str_fmt(t->errbuf, sizeof(t->errbuf), "%s: %s", what,
		    strerror(saved));
		errno = saved;
		return -1;
	default:
		t->broken = 1;
		ssl_errtext(t->errbuf, sizeof(t->errbuf), what);
		errno = EPROTO;
		return -1;
	}
}

int
tls_handshake(struct tls *t)
{
	long v;
	int r;

	if (t->done)
		return 1;
	ERR_clear_error();
	errno = 0;
	if ((r = SSL_do_handshake(t->ssl)) == 1) {
		t->done = 1;
		return 1;
	}
	if (failed(t, r, "TLS handshake") == -1 && errno == EAGAIN)
		return 0;
	t->broken = 1;
	/* A verification failure says more than "certificate verify
	 * failed". */
	v = SSL_get_verify_result(t->ssl);
	if (t->ctx->verify && v != X509_V_OK)
		(void)str_fmt(t->errbuf, sizeof(t->errbuf),
		    "TLS handshake: certificate verification failed: %s",
		    X509_verify_cert_error_string(v));
	else if (t->errbuf[0] == '\0')
		str_copy(t->errbuf, sizeof(t->errbuf),
		    "TLS handshake: the peer closed the connection");
	return -1;
}

int
tls_want(const struct tls *t)
{
	return t->want != 0 ? t->want : POLLIN;
}

static int
clamp(size_t n)
{
	/* SSL_read and SSL_write take an int. */
	return n > 0x40000000 ? 0x40000000 : (int)n;
}

ssize_t
tls_read(struct tls *t, void *buf, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	ERR_clear_error();
	errno = 0;
	if ((r = SSL_read(t->ssl, buf, clamp(n))) > 0)
		return r;
	return failed(t, r, "TLS read");
}

ssize_t
tls_write(struct tls *t, const void *buf, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	ERR_clear_error();
	errno = 0;
	if ((r = SSL_write(t->ssl, buf, clamp(n))) > 0)
		return r;
	if (failed(t, r, "TLS write") == 0) {
		/* The peer's close_notify: nothing more can be sent. */
		errno = EPIPE;
	}
	return -1;
}

int
tls_write_all(struct tls *t, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	ssize_t w;

	while (n > 0) {
		if ((w = tls_write(t, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

size_t
tls_pending(const struct tls *t)
{
	int n = SSL_pending(t->ssl);

	return n > 0 ? (size_t)n : 0;
}

void
tls_bulk(struct tls *t)
{
	/* No read-ahead: it would hold whole records that tls_pending()
	 * cannot see, and a poll(2) on the socket would then wait for
	 * bytes that already arrived. */
	SSL_clear_mode(t->ssl, SSL_MODE_RELEASE_BUFFERS);
}

void
tls_shutdown(struct tls *t)
{
	if (!t->done || t->broken)
		return;
	ERR_clear_error();
	(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
}

const char *
tls_strerror(const struct tls *t)
{
	return t->errbuf[0] != '\0' ? t->errbuf : "TLS error";
}

void
tls_describe(const struct tls *t, char *out, size_t n)
{
	(void)str_fmt(out, n, "%s %s", SSL_get_version(t->ssl),
	    SSL_get_cipher_name(t->ssl));
}

int
tls_set_bind_id(struct tls *t, const unsigned char *id)
{
	memcpy(t->bind, id, sizeof(t->bind));
	t->has_bind = 1;
	return 0;
}

void
tls_no_tickets(struct tls *t)
{
	(void)SSL_set_num_tickets(t->ssl, 0);
}

/* SECURITY: only a handshake that resumed a session from one of our
 * tickets carries an id; a full handshake has none. */
int
tls_get_bind_id(const struct tls *t, unsigned char *id)
{
	SSL_SESSION *sess = SSL_get0_session(t->ssl);
	void *data = NULL;
	size_t len = 0;

	if (!t->done || !SSL_session_reused(t->ssl) || sess == NULL)
		return -1;
	if (SSL_SESSION_get0_ticket_appdata(sess, &data, &len) != 1 ||
	    data == NULL || len != FTX_TLS_BIND_ID_BYTES)
		return -1;
	memcpy(id, data, len);
	return 0;
}

int
tls_resume_from(struct tls *t, const struct tls *ctl)
{
	SSL_SESSION *copy;
	int rc;

	if (ctl->latest == NULL)
		return -1;
	/* A copy: after a TLS 1.3 resumption OpenSSL marks the session it
	 * used as not resumable, and the control connection's ticket must
	 * serve every transfer of the session. */
	if ((copy = SSL_SESSION_dup(ctl->latest)) == NULL)
		return -1;
	rc = SSL_set_session(t->ssl, copy) == 1 ? 0 : -1;
	SSL_SESSION_free(copy); /* SSL_set_session took a reference */
	return rc;
}

int
tls_resumed(const struct tls *t)
{
	return SSL_session_reused(t->ssl) == 1;
}

static int
fingerprint(X509 *cert, char *fp, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int len = 0;

	if (X509_digest(cert, EVP_sha256(), md, &len) != 1 || len != 32)
		return -1;
	str_hex(hex, md, len);
	return str_fmt(fp, n, "SHA256:%s", hex);
}

int
tls_peer_fingerprint(const struct tls *t, char *fp, size_t n)
{
	X509 *cert = SSL_get0_peer_certificate(t->ssl);

	if (cert == NULL)
		return -1;
	return fingerprint(cert, fp, n);
}

int
tls_file_fingerprint(
    const char *certfile, char *fp, size_t n, char *err, size_t errlen)
{
	X509 *cert;
	FILE *f;
	int rc;

	if ((f = fopen(certfile, "re")) == NULL)
		return str_err(
		    err, errlen, "%s: %s", certfile, strerror(errno));
	ERR_clear_error();
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (cert == NULL) {
		ssl_errtext(err, errlen, certfile);
		return -1;
	}
	rc = fingerprint(cert, fp, n);
	X509_free(cert);
	if (rc == -1)
		return str_err(err, errlen, "%s: cannot hash", certfile);
	return 0;
}

int
tls_fingerprint_parse(const char *in, char *fp, size_t n)
{
	char hex[65];
	size_t k = 0;
	const char *p = in;

	if (strncasecmp(p, "SHA256:", 7) == 0)
		p += 7;
	for (; *p != '\0'; p++) {
		if (*p == ':')
			continue;
		if (k == 64 || strchr("0123456789abcdefABCDEF", *p) == NULL)
			return -1;
		hex[k++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	}
	if (k != 64)
		return -1;
	hex[k] = '\0';
	return str_fmt(fp, n, "SHA256:%s", hex);
}

int
tls_peer_verified(const struct tls *t, char *err, size_t errlen)
{
	long v;

	if (!t->ctx->verify)
		return str_err(err, errlen, "no CA file to verify against");
	if (SSL_get0_peer_certificate(t->ssl) == NULL)
		return str_err(err, errlen, "the server sent no certificate");
	if ((v = SSL_get_verify_result(t->ssl)) != X509_V_OK)
		return str_err(err, errlen,
		    "certificate verification failed: %s",
		    X509_verify_cert_error_string(v));
	return 0;
}

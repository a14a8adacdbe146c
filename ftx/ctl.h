/*
 * ctl.h - the client end of the control connection.
 *
 * One struct ctl is one session with a server: connect and check the
 * greeting, send commands (arguments are percent-encoded here), and read
 * reply lines with a timeout into a bounded buffer.  A connection whose
 * state we no longer know (a broken transfer, a protocol error) is
 * dropped, and ctl_ensure() opens a fresh one before the next command,
 * so one failed file never poisons the next.
 *
 * Functions named like commands return an exit code (enum exitcode,
 * EXITCODE_OK on success) and fill `err`; the line-level ones return 0
 * or -1 and fill `err`, per the house convention.
 */
#ifndef FTX_CTL_H
#define FTX_CTL_H

#include <stddef.h>

#include "chan.h"
#include "ftx_limits.h"

struct tls_ctx;

/*
 * How sessions are secured and who logs in (ftx --tls, --cacert, --pin,
 * --accept-new, --insecure, --known-hosts, --password-file,
 * --allow-plaintext-password).  When the greeting offers TLS, or `tls`
 * insists, ctl_open sends STARTTLS right after the greeting and checks
 * the server's certificate before any other command, LOGIN in
 * particular.  A password is never sent outside TLS unless
 * `allow_plain_pass` says so.
 */
struct ctl_sec {
	int tls; /* STARTTLS even if the greeting does not offer it */
	/* the client context (tls_client_ctx), or NULL: made when a
	 * greeting first offers TLS */
	struct tls_ctx *ctx;
	const char *cacert; /* verify the chain and host name (else TOFU) */
	const char *pin; /* normalised "SHA256:..." to compare, or NULL */
	int accept_new; /* store an unknown server's fingerprint */
	int insecure; /* no verification at all (warned about) */
	const char *known_hosts; /* the TOFU file, or NULL for the default */
	const char *pass_file; /* --password-file, or NULL */
	int allow_plain_pass; /* a password may go to a server without TLS */
};

/* Why the last ctl_open returned EXITCODE_LOGIN. */
enum ctl_login_fail {
	CTL_LOGIN_OK,
	CTL_LOGIN_NEEDED, /* the server wants a login and we have no user */
	CTL_LOGIN_DENIED, /* ERROR AUTH: wrong name or password */
	CTL_LOGIN_LOCKED, /* ERROR LOCKED: too many failures */
	CTL_LOGIN_BUSY, /* ERROR BUSY: the server is checking other logins
			   of this address; not the password's fault */
	CTL_LOGIN_NOPASS /* no password and no terminal to ask on */
};

struct ctl {
	const char *host; /* as the user gave it; data connections reuse it */
	int port;
	struct chan ch; /* ch.fd is -1 when not connected */
	double connect_ms; /* the last TCP connect (handshake) took this */
	char in[FTX_LINE_MAX];
	size_t inlen;
	const struct ctl_sec *sec; /* NULL: plain TCP, as before issue 4 */
	unsigned caps; /* the last greeting's RPL_CAP_* bits */
	char user[FTX_USER_MAX + 1]; /* log in as this after the greeting */
	char *pass; /* its password (pass.h memory), NULL until needed */
	int have_pass;
	int logged_in; /* the current session is logged in */
	int read_only; /* ... read-only (anonymous) */
	enum ctl_login_fail login_fail;
	char trusted_fp[FTX_FP_LEN]; /* accepted earlier in this process */
	struct tls_ctx
	    *own_ctx; /* made for a greeting's offer (sec->ctx NULL) */
	int warned_insecure, warned_plain;
};

void ctl_init(struct ctl *c, const char *host, int port);
/* Use TLS / certificate checks as `sec` says (it must outlive c). */
void ctl_set_sec(struct ctl *c, const struct ctl_sec *sec);
/* Log in as `user` on every new session (NULL: nobody), with `pass`
 * (NULL: FTX_PASSWORD, --password-file or a prompt when needed).  Drops
 * the current session, so the next command logs in afresh.  0, or -1
 * for an invalid user name or no memory for the password. */
int ctl_set_login(struct ctl *c, const char *user, const char *pass, char *err,
    size_t errlen);
/* Forget the password (wiped), e.g. after the server refused it. */
void ctl_forget_pass(struct ctl *c);
/* Release everything (the password wiped); the session is dropped. */
void ctl_free(struct ctl *c);
/* Connect (dropping any old session), check the greeting, then STARTTLS
 * (when offered or configured) and the certificate, then LOGIN, as
 * configured.  Exit code: EXITCODE_CONNECT, EXITCODE_REFUSED for an
 * "ERROR LIMIT" greeting, EXITCODE_TLS when TLS fails, the server is not
 * trusted, or a password would have to be sent without TLS,
 * EXITCODE_LOGIN when login fails or is needed (see c->login_fail),
 * EXITCODE_USAGE when there is no password and no way to ask. */
int ctl_open(struct ctl *c, char *err, size_t errlen);
/* 1 if the session runs over TLS. */
int ctl_is_tls(const struct ctl *c);
/* Bytes decrypted and waiting inside TLS: poll() does not see them, so
 * callers polling the socket check this first. */
int ctl_pending(const struct ctl *c);
/* Run TLS on a new data connection of this session (when it is a TLS
 * one), resuming the control session.  EXITCODE_OK; EXITCODE_TLS if
 * TLS failed or did not resume the session (never retried);
 * EXITCODE_CONNECT if the network failed. */
int ctl_data_tls(struct ctl *c, struct chan *data, char *err, size_t errlen);
/* "TLSv1.3 TLS_AES_128_GCM_SHA256", or "" without TLS. */
void ctl_describe(const struct ctl *c, char *out, size_t n);
/* Reuse the session if it is still usable, else ctl_open(). */
int ctl_ensure(struct ctl *c, char *err, size_t errlen);
/* Send "VERB arg..." with each argument percent-encoded; 0 or -1. */
int ctl_send(struct ctl *c, const char *verb, const char *const *args,
    int nargs, char *err, size_t errlen);
/* Like ctl_send, then " text" unencoded (the free text of SAY, MSG and
 * ECHO); text must not contain CR or LF. */
int ctl_send_text(struct ctl *c, const char *verb, const char *const *args,
    int nargs, const char *text, char *err, size_t errlen);
/* Without waiting: move one complete buffered line into line[FTX_LINE_MAX].
 * 1 if there was one, 0 if not, -1 for a bad line (session dropped). */
int ctl_take(struct ctl *c, char *line, char *err, size_t errlen);
/* One read into the buffer, for when poll says the socket is readable;
 * 0, or -1 on EOF or error (session dropped). */
int ctl_fill(struct ctl *c, char *err, size_t errlen);
/* Read the next reply line (without CR LF) into line[FTX_LINE_MAX],
 * skipping unsolicited lines; 0 or -1 (the session is then dropped). */
int ctl_read(
    struct ctl *c, char *line, int timeout_s, char *err, size_t errlen);
/* Like ctl_read, but unsolicited lines are returned too: for multi-line
 * replies whose data lines proto_kind does not know (ENTRY), where the
 * caller tells data from pushes itself. */
int ctl_read_any(
    struct ctl *c, char *line, int timeout_s, char *err, size_t errlen);
/* 1 if the current session's greeting said "folders" (paths, MKDIR,
 * RMDIR, MOVE, STAT, LS: ftxd 0.3 and later). */
int ctl_has_folders(const struct ctl *c);
/* Send a command and read its first reply line into line[FTX_LINE_MAX];
 * EXITCODE_OK means it is an OK line.  An ERROR reply becomes its exit
 * code and reason (see ctl_refusal). */
int ctl_request(struct ctl *c, const char *verb, const char *const *args,
    int nargs, char *line, char *err, size_t errlen);
/* Exit code and "reason (CODE)" for an ERROR line; drops the session if
 * the server closes it after that code. */
int ctl_refusal(struct ctl *c, const char *line, char *err, size_t errlen);
/* Close without QUIT: the session's state is unknown. */
void ctl_drop(struct ctl *c);
/* QUIT and close (best effort). */
void ctl_close(struct ctl *c);

#endif /* FTX_CTL_H */

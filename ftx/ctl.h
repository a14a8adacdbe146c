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

#include "limits.h"

struct ctl {
	const char *host; /* as the user gave it; data connections reuse it */
	int port;
	int fd; /* -1 when not connected */
	double connect_ms; /* the last TCP connect (handshake) took this */
	char in[FTX_LINE_MAX];
	size_t inlen;
};

void ctl_init(struct ctl *c, const char *host, int port);
/* Connect (dropping any old session) and check the greeting.  Exit code:
 * EXITCODE_CONNECT, or EXITCODE_REFUSED for an "ERROR LIMIT" greeting. */
int ctl_open(struct ctl *c, char *err, size_t errlen);
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

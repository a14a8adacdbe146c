/*
 * cmd.h - the command table: the single gate every control command passes.
 */
#ifndef FTXD_CMD_H
#define FTXD_CMD_H

#include "server.h"

struct sjob;

/* Parse one complete line (NUL-terminated, LF included) and run it. */
void cmd_dispatch(struct session *s, char *line);
/* Timers: failed LOGINs are answered after a delay. */
void cmd_tick(struct server *srv, long long now);
/* A LIST being sent: queue its next piece (the output has drained). */
void cmd_pump(struct session *s);
/* Bytes of the session's LIST not queued yet, and what closing the
 * session would free of its snapshot. */
size_t cmd_unsent(const struct session *s);
size_t cmd_frees(const struct session *s);
/* The session is going away; its job must not report back to it. */
void cmd_detach(struct sjob *j);

#endif /* FTXD_CMD_H */

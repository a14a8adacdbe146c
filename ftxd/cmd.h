/*
 * cmd.h - the command table: the single gate every control command passes.
 *
 * The command layer is the session layer's owner: it greets sessions,
 * runs their lines, sends LISTs as their output drains (fileops.c) and
 * lets go of their jobs, transfers and chat membership when they close,
 * all through cmd_hooks.  It and the modules of its commands (fileops.c,
 * login.c) alone turn what the modules below report (a transfer's
 * result, a worker's answer) into reply lines.
 */
#ifndef FTXD_CMD_H
#define FTXD_CMD_H

#include <stddef.h>

struct ctx;
struct session;
struct sess_hooks;

/* The hooks the server gives its sessions (sess_set.hooks). */
extern const struct sess_hooks cmd_hooks;

/* Parse one complete line (NUL-terminated, LF included) and run it
 * (cmd_hooks.on_line). */
void cmd_dispatch(struct session *s, char *line);
/* Timers: failed LOGINs are answered after a delay; LISTs waiting for
 * the output budget. */
void cmd_tick(struct ctx *srv, long long now);
/* The server-wide statistics line (STATS without accounts, SIGUSR1):
 * 0, or -1 if it does not fit `n`. */
int cmd_stats_line(const struct ctx *srv, char *out, size_t n);

#endif /* FTXD_CMD_H */

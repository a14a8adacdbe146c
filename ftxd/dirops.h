/*
 * dirops.h - the folder commands of the command layer: MKDIR, RMDIR,
 * MOVE, STAT and LS (docs/PROTOCOL.md "Folders").
 *
 * Their handlers (cmd.c's table has checked the argument count and the
 * gate), and the hook that sends the next piece of an LS as the
 * session's output drains.
 */
#ifndef FTXD_DIROPS_H
#define FTXD_DIROPS_H

struct proto_cmd;
struct session;

void dop_mkdir(struct session *s, struct proto_cmd *c);
void dop_rmdir(struct session *s, struct proto_cmd *c);
void dop_move(struct session *s, struct proto_cmd *c);
void dop_stat(struct session *s, struct proto_cmd *c);
void dop_ls(struct session *s, struct proto_cmd *c);

/* An LS waiting for its output to drain: read its next piece
 * (sess_hooks.on_drain, with fop_pump). */
void dop_pump(struct session *s);

#endif /* FTXD_DIROPS_H */

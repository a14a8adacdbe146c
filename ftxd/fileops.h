/*
 * fileops.h - the file commands of the command layer: UPLOAD, DOWNLOAD,
 * PARTIAL, LIST, DELETE and HASH.
 *
 * Their handlers (cmd.c's table has checked the argument count and the
 * gate), the hooks that send a LIST in pieces as the session's output
 * drains, and the timer of LISTs waiting for the output budget.  What
 * they keep on the loop thread: the hash slots (FTX_HASH_JOBS_MAX per
 * user and per address) and the LIST queue (FTX_LIST_JOBS at once).
 */
#ifndef FTXD_FILEOPS_H
#define FTXD_FILEOPS_H

#include <stddef.h>

struct ctx;
struct proto_cmd;
struct session;

void fop_upload(struct session *s, struct proto_cmd *c);
void fop_download(struct session *s, struct proto_cmd *c);
void fop_partial(struct session *s, struct proto_cmd *c);
void fop_list(struct session *s, struct proto_cmd *c);
void fop_delete(struct session *s, struct proto_cmd *c);
void fop_hash(struct session *s, struct proto_cmd *c);
void fop_mput(struct session *s, struct proto_cmd *c);
void fop_mget(struct session *s, struct proto_cmd *c);

/* A LIST being sent: queue its next pieces (sess_hooks.on_drain). */
void fop_pump(struct session *s);
/* Bytes of the session's LIST not queued yet, and what closing the
 * session would free of its snapshot (sess_hooks.unsent, .frees). */
size_t fop_unsent(const struct session *s);
size_t fop_frees(const struct session *s);
/* All LIST snapshots, which count against FTX_OUTPUT_BUDGET with the
 * sessions' queues (sess_hooks.held). */
size_t fop_held(void);
/* Timers: expired snapshots; LISTs waiting for the output budget. */
void fop_tick(struct ctx *srv, long long now);

#endif /* FTXD_FILEOPS_H */

/*
 * server.h - the daemon: start-up, signals, the timers and the graceful
 * stop, and the wiring of the modules below it (the top of the
 * dependency order, docs/ARCHITECTURE.md).  Everything here is owned by
 * the event-loop thread.
 */
#ifndef FTXD_SERVER_H
#define FTXD_SERVER_H

#include "ctx.h"
#include "room.h"

struct cfg_cli;
struct uecho;

struct server {
	struct ctx ctx; /* what the modules below share */
	/* How ctx.cfg was built, so SIGHUP can build it again. */
	const struct cfg_cli *cli;
	const char *cfg_path; /* the config file, or NULL */
	const char *base_dir; /* --daemon: relative paths are under it */
	struct room room; /* ctx.room */
	struct uecho *uecho; /* NULL with --no-udp-echo */
	long long stop_ms;
	int sigfd[2];
};

/* Bind, open the store, start workers; 0 or -1. */
int srv_init(struct server *srv, char *err, size_t errlen);
/* Serve until SIGINT/SIGTERM and a graceful stop; 0 or -1. */
int srv_run(struct server *srv);
void srv_free(struct server *srv);
/* SIGHUP: rebuild the configuration and apply what can change while
 * running; reopen the log files. */
void srv_reload(struct server *srv);

#endif /* FTXD_SERVER_H */

/*
 * server.c - start-up, the control listener, timers and graceful stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "auth.h"
#include "cidr.h"
#include "cmd.h"
#include "config.h"
#include "dconn.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "priv.h"
#include "pxgate.h"
#include "room.h"
#include "s3.h"
#include "server.h"
#include "session.h"
#include "store.h"
#include "store_posix.h"
#include "store_s3.h"
#include "users.h"
#include "str.h"
#include "tls.h"
#include "udpecho.h"
#include "worker.h"
#include "xfer.h"

/* After the grace period, cut transfers get this long to report. */
#define STOP_EXTRA_S 5

static int sig_wfd = -1;

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	/* If the pipe is full, enough signals are pending to wake the
	 * loop; a lost SIGHUP or SIGUSR1 then merges with a queued one. */
	if (write(sig_wfd, &c, 1) == -1)
		errno = saved;
	errno = saved;
}

static size_t
count_ip(const struct server *srv, const struct sockaddr_storage *peer)
{
	const struct session *s;
	size_t n = 0;

	for (s = srv->ctx.sessions.head; s != NULL; s = s->next)
		n += net_same_ip(&s->peer, peer);
	return n;
}

/* SECURITY: refuse connections over the global and per-IP caps, and
 * from addresses locked out for failed logins. */
static void
refuse_code(struct server *srv, int fd, const struct sockaddr_storage *peer,
    const char *code, const char *why)
{
	char line[128], addr[64];

	net_addr_str(peer, addr, sizeof(addr));
	log_msg(addr, "refused: %s", why);
	srv->ctx.stats.refused++;
	/* Best effort: the socket is fresh, so its buffer has room. */
	if (str_fmt(line, sizeof(line), "ERROR %s %s\n", code, why) == 0 &&
	    send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		log_msg(addr, "refusal not sent: %s", strerror(errno));
	close(fd);
}

static void
refuse(struct server *srv, int fd, const struct sockaddr_storage *peer,
    const char *why)
{
	refuse_code(srv, fd, peer, "LIMIT", why);
}

/* 1 if the peer is locked out (refused here), else 0. */
static int
locked_out(struct server *srv, int fd, const struct sockaddr_storage *peer)
{
	char why[96];
	long long left;

	if (!srv->ctx.accounts || !auth_locked(&srv->ctx, peer, &left))
		return 0;
	(void)str_fmt(why, sizeof(why),
	    "too many failed logins; try again in %lld s", left);
	refuse_code(srv, fd, peer, "LOCKED", why);
	return 1;
}

/* A control connection from `peer`, the client (behind a balancer: the
 * address its PROXY header named): a session, or refused. */
static void
ctl_admit(struct server *srv, int fd, const struct sockaddr_storage *peer)
{
	auth_recheck(&srv->ctx);
	if (locked_out(srv, fd, peer))
		return;
	if (srv->ctx.sessions.n >= (size_t)srv->ctx.cfg.max_clients)
		refuse(srv, fd, peer, "too many connections");
	else if (count_ip(srv, peer) >= (size_t)srv->ctx.cfg.max_per_ip)
		refuse(srv, fd, peer, "too many connections from your address");
	else if (sess_new(&srv->ctx.sessions, fd, peer) == -1)
		refuse(srv, fd, peer, "server out of resources");
	else
		srv->ctx.stats.sessions_total++;
}

static void
ctl_proxied(void *arg, int fd, const struct sockaddr_storage *peer)
{
	ctl_admit(arg, fd, peer);
}

static void
ctl_accept(struct loop *l, int lfd, int revents, void *arg)
{
	struct server *srv = arg;
	struct sockaddr_storage peer;
	int fd;

	(void)l;
	(void)revents;
	while ((fd = net_accept(lfd, &peer)) != -1) {
		/* SECURITY: a trusted balancer's connection is admitted only
		 * once its PROXY header names the client (pxgate.c). */
		if (cidr_match(&srv->ctx.cfg.proxy_from, &peer))
			pxgate_hold(srv->ctx.pxgate, fd, &peer, "control",
			    ctl_proxied, srv);
		else
			ctl_admit(srv, fd, &peer);
	}
	if (errno == EMFILE || errno == ENFILE)
		dconn_pause_accepting(&srv->ctx, "accept");
}

static void
on_worker(struct loop *l, int fd, int revents, void *arg)
{
	(void)l;
	(void)fd;
	(void)revents;
	(void)arg;
	worker_drain();
}

static void
begin_stop(struct server *srv)
{
	if (srv->ctx.stopping)
		return;
	srv->ctx.stopping = 1;
	srv->stop_ms = loop_now_ms();
	log_msg(NULL, "shutdown: stopping, %d transfers running",
	    xfer_running(&srv->ctx));
	if (srv->ctx.ctl_fd != -1) {
		loop_del(srv->ctx.loop, srv->ctx.ctl_fd);
		close(srv->ctx.ctl_fd);
		srv->ctx.ctl_fd = -1;
	}
	uecho_close(srv->uecho);
	srv->uecho = NULL;
	pxgate_stop(srv->ctx.pxgate);
	dconn_stop(&srv->ctx);
	xfer_stop(&srv->ctx, 0);
	sess_stop_idle(&srv->ctx.sessions);
}

static void
log_stats(const struct server *srv)
{
	char line[512];

	if (cmd_stats_line(&srv->ctx, line, sizeof(line)) == 0)
		log_msg(NULL, "stats %s", line);
}

/* Signals arrive here, on the loop thread, as bytes on the self-pipe:
 * the handlers themselves do nothing that is not async-signal-safe. */
static void
on_sigpipe(struct loop *l, int fd, int revents, void *arg)
{
	unsigned char c[16];
	int hup = 0, usr1 = 0, stop = 0;
	ssize_t n, i;

	(void)l;
	(void)revents;
	while ((n = read(fd, c, sizeof(c))) > 0) {
		for (i = 0; i < n; i++) {
			if (c[i] == SIGHUP)
				hup = 1;
			else if (c[i] == SIGUSR1)
				usr1 = 1;
			else
				stop = 1;
		}
	}
	/* Several signals of one kind in a burst do the work once. */
	if (hup && !stop)
		srv_reload(arg);
	if (usr1)
		log_stats(arg);
	if (stop)
		begin_stop(arg);
}

static void
tick(struct loop *l, void *arg)
{
	struct server *srv = arg;
	struct ctx *c = &srv->ctx;
	long long now = loop_now_ms();

	if (!c->stopping)
		dconn_resume_accepting(c);
	dconn_tick(c, now);
	pxgate_tick(c->pxgate, now);
	xfer_tick(c, now);
	sess_tick(&c->sessions, now);
	cmd_tick(c, now);
	auth_tick(c, now);
	uecho_tick(srv->uecho, now);
	room_tick(&srv->room, now);
	if (!c->stopping)
		return;
	if (now - srv->stop_ms > FTX_SHUTDOWN_GRACE_S * 1000LL)
		xfer_stop(c, 1);
	if (c->sessions.head == NULL && xfer_running(c) == 0 &&
	    worker_pending() == 0)
		loop_stop(l);
	/* A job stuck in the disk (hashing a huge file, a hung NFS root)
	 * must not keep us alive forever. */
	if (now - srv->stop_ms >
	    (FTX_SHUTDOWN_GRACE_S + STOP_EXTRA_S) * 1000LL) {
		log_msg(NULL, "shutdown: abandoning %d unfinished jobs",
		    worker_pending());
		loop_stop(l);
	}
}

static int
setup_signals(struct server *srv, char *err, size_t errlen)
{
	struct sigaction sa;

	if (pipe2(srv->sigfd, O_NONBLOCK | O_CLOEXEC) == -1)
		return str_err(err, errlen, "pipe: %s", strerror(errno));
	sig_wfd = srv->sigfd[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigaction(SIGUSR1, &sa, NULL) == -1)
		return str_err(err, errlen, "sigaction: %s", strerror(errno));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	return loop_add(srv->ctx.loop, srv->sigfd[0], POLLIN, on_sigpipe, srv);
}

/*
 * Every session, transfer and waiting data connection is a descriptor:
 * ask for as many as the hard limit allows (the soft default of 1024
 * equals the default --max-clients), and say so if that is still too
 * few for the configured limits.
 */
static void
raise_nofile(const struct server *srv)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	/* A session, its data connection and its transfer's file. */
	want = (rlim_t)srv->ctx.cfg.max_clients * 3 + 64;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		log_msg(NULL,
		    "warning: open-file limit %llu is below the %llu that "
		    "--max-clients %d may need (raise it with ulimit -n or "
		    "LimitNOFILE=)",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)want,
		    srv->ctx.cfg.max_clients);
}

/* TLS and the root check: what must be settled before anything else. */
static int
security_init(struct server *srv, char *err, size_t errlen)
{
	const struct config *c = &srv->ctx.cfg;

	/* SECURITY: a network daemon does not serve as root by accident. */
	if (priv_is_root() && c->run_user[0] == '\0' && !c->allow_root)
		return str_err(err, errlen,
		    "refusing to serve as root: give --user NAME to drop "
		    "privileges after binding, or --allow-root");
	if (c->run_user[0] != '\0' && !priv_is_root())
		return str_err(err, errlen,
		    "--user %s: only root can switch users", c->run_user);
	if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0'))
		return str_err(
		    err, errlen, "--tls-cert and --tls-key go together");
	if (c->require_tls && c->tls_cert[0] == '\0')
		return str_err(err, errlen, "--require-tls needs --tls-cert");
	/* Loaded now: the key file is typically readable by root only. */
	if (c->tls_cert[0] != '\0' &&
	    (srv->ctx.tls = tls_server_ctx(
		 c->tls_cert, c->tls_key, err, errlen)) == NULL)
		return -1;
	return 0;
}

/* The listening line: tests and scripts read the bound ports from it;
 * the first data port stays in data=, a range is added after it. */
static void
log_listening(const struct server *srv)
{
	const char *lb, *rb;
	char range[32] = "";

	lb = strchr(srv->ctx.cfg.bind, ':') != NULL ? "[" : "";
	rb = *lb != '\0' ? "]" : "";
	if (srv->ctx.ndata > 1)
		(void)str_fmt(range, sizeof(range), " data-ports=%d-%d",
		    srv->ctx.data_ports[0],
		    srv->ctx.data_ports[srv->ctx.ndata - 1]);
	log_msg(NULL,
	    "ftxd %s listening control=%s%s%s:%d data=%s%s%s:%d%s udp-echo=%s "
	    "tls=%s%s accounts=%s anonymous=%s root=%s",
	    FTX_VERSION, lb, srv->ctx.cfg.bind, rb,
	    net_local_port(srv->ctx.ctl_fd), lb, srv->ctx.cfg.bind, rb,
	    srv->ctx.data_ports[0], range, srv->uecho != NULL ? "on" : "off",
	    srv->ctx.tls != NULL ? "on" : "off",
	    srv->ctx.cfg.require_tls ? ",required" : "",
	    srv->ctx.accounts ? "on" : "off",
	    cfg_anon_name(srv->ctx.cfg.anonymous), srv->ctx.cfg.root);
}

/* A server anyone on the network may use, said once at start: a
 * non-loopback address with neither TLS (files and tokens in clear)
 * nor accounts (no password at all). */
static void
warn_open(const struct server *srv)
{
	if (net_is_loopback(srv->ctx.ctl_fd) || srv->ctx.tls != NULL ||
	    srv->ctx.accounts)
		return;
	log_msg(NULL,
	    "warning: serving %s without TLS or accounts: anyone who can "
	    "reach port %d can read, replace and delete the files in %s; "
	    "see --tls-cert and --users (docs/DEPLOY.md), or --bind "
	    "127.0.0.1 for this machine only",
	    srv->ctx.cfg.bind, net_local_port(srv->ctx.ctl_fd),
	    srv->ctx.cfg.root);
}

/* Behind a balancer: whom we trust for PROXY headers, what port we
 * announce.  Said once at start-up, so a wrong list is seen early. */
static void
log_balancer(const struct server *srv)
{
	const struct config *c = &srv->ctx.cfg;
	char nets[512];

	if (c->proxy_from.n > 0) {
		cidr_list_str(&c->proxy_from, nets, sizeof(nets));
		log_msg(NULL,
		    "PROXY headers required from %s (refused from "
		    "anyone else)",
		    nets);
	}
	if (c->public_data_port != 0)
		log_msg(NULL, "announcing data port %d", c->public_data_port);
}

/* The modules' shared state: sessions answer to the command layer
 * (cmd_hooks), which reaches everything else through the context. */
static void
wire(struct server *srv)
{
	struct ctx *c = &srv->ctx;

	c->sessions.loop = c->loop;
	c->sessions.tls = c->tls;
	c->sessions.cfg = &c->cfg;
	c->sessions.hooks = &cmd_hooks;
	c->sessions.ctx = c;
	room_init(&srv->room);
	c->room = &srv->room;
}

static int
migrate_one(void *arg, const struct user_rec *rec)
{
	struct ctx *c = arg;
	struct store_err e;

	if (store_posix_migrate_user(c->store, rec->name, &e) == -1) {
		log_msg(
		    NULL, "user area of %s not moved: %s", rec->name, e.msg);
		return -1;
	}
	return 0;
}

/*
 * Servers before 0.2 kept users' areas at ROOT/USER, in the shared
 * namespace; they now live in ROOT/.users.  Moved once, at the first
 * start with accounts (or anonymous access), then recorded: from then
 * on a directory ROOT/USER is the shared namespace's own.
 */
static int
migrate_areas(struct ctx *c, char *err, size_t errlen)
{
	struct user_rec anon;
	struct store_err e;
	char why[FTX_ERRLEN];

	/* Object storage came after the move: nothing there to move. */
	if (c->cfg.store[0] != '\0' || store_posix_is_migrated(c->store) ||
	    (!c->accounts && c->cfg.anonymous == 0))
		return 0;
	memset(&anon, 0, sizeof(anon));
	(void)str_copy(anon.name, sizeof(anon.name), FTX_ANON_USER);
	if ((c->accounts &&
		users_list(c->users_path, migrate_one, c, why, sizeof(why)) ==
		    -1) ||
	    migrate_one(c, &anon) == -1)
		return str_err(err, errlen,
		    "cannot move users' areas into %s/.users (see the log)",
		    c->cfg.root);
	if (store_posix_migrated(c->store, &e) == -1)
		return str_err(err, errlen, "%s", e.msg);
	log_msg(NULL, "users' areas are in %s/.users", c->cfg.root);
	return 0;
}

/*
 * --store s3://...: the client's settings.  Read before privileges are
 * dropped, as the credentials file may be root's alone; the caller
 * wipes `sc` once the store has its own copy.
 */
static int
s3_settings(const struct config *cfg, struct s3_conf *sc, char *prefix,
    size_t plen, char *err, size_t errlen)
{
	memset(sc, 0, sizeof(*sc));
	if (s3_url_parse(cfg->store, sc->bucket, sizeof(sc->bucket), prefix,
		plen, err, errlen) == -1)
		return -1;
	(void)str_copy(sc->region, sizeof(sc->region), cfg->s3_region);
	if (cfg->s3_endpoint[0] != '\0')
		(void)str_copy(
		    sc->endpoint, sizeof(sc->endpoint), cfg->s3_endpoint);
	else if (str_fmt(sc->endpoint, sizeof(sc->endpoint),
		     "https://s3.%s.amazonaws.com", cfg->s3_region) == -1)
		return str_err(err, errlen, "--s3-region too long");
	return s3_credentials(
	    cfg->s3_credentials[0] != '\0' ? cfg->s3_credentials : NULL, sc,
	    err, errlen);
}

static int
open_store(struct ctx *c, struct s3_conf *sc, const char *prefix, char *err,
    size_t errlen)
{
	struct store_err e;

	if (c->cfg.store[0] == '\0') {
		if (store_posix_open(&c->store, c->cfg.root, &e) == -1)
			return str_err(
			    err, errlen, "root %s: %s", c->cfg.root, e.msg);
		return 0;
	}
	if (store_s3_open(&c->store, sc, prefix, &e) == -1)
		return str_err(err, errlen, "%s", e.msg);
	log_msg(NULL, "files are in %s at %s", c->cfg.store, sc->endpoint);
	return 0;
}

int
srv_init(struct server *srv, char *err, size_t errlen)
{
	struct ctx *c = &srv->ctx;
	char s3prefix[FTX_PATH_MAX];
	struct s3_conf sc;
	int rc;

	c->ctl_fd = -1;
	srv->sigfd[0] = srv->sigfd[1] = -1;
	c->stats.start_ms = loop_now_ms();
	raise_nofile(srv);
	if (security_init(srv, err, errlen) == -1)
		return -1;
	memset(&sc, 0, sizeof(sc));
	s3prefix[0] = '\0';
	if (c->cfg.store[0] != '\0' &&
	    s3_settings(
		&c->cfg, &sc, s3prefix, sizeof(s3prefix), err, errlen) == -1)
		return -1;
	if ((c->loop = loop_new(err, errlen)) == NULL)
		return -1;
	wire(srv);
	if ((c->pxgate = pxgate_new(c->loop)) == NULL)
		return str_err(err, errlen, "out of memory");
	if (setup_signals(srv, err, errlen) == -1)
		return -1;
	c->ctl_fd = net_listen(
	    c->cfg.bind, c->cfg.port, FTX_LISTEN_BACKLOG, err, errlen);
	if (c->ctl_fd == -1)
		return net_busy_hint(err, errlen,
		    "is another server running there? choose another "
		    "control port with --port N (0: any free port)");
	if (loop_add(c->loop, c->ctl_fd, POLLIN, ctl_accept, srv) == -1)
		return str_err(err, errlen, "cannot watch listener");
	if (c->cfg.udp_echo &&
	    (srv->uecho = uecho_open(c->loop, &c->cfg,
		 net_local_port(c->ctl_fd), err, errlen)) == NULL)
		return -1;
	if (dconn_listen(c, err, errlen) == -1)
		return -1;
	/* SECURITY: the ports are bound; from here on we need no
	 * privilege, so drop it before touching any stored file or
	 * starting a thread. */
	if (c->cfg.run_user[0] != '\0') {
		if (priv_drop(c->cfg.run_user, err, errlen) == -1)
			return -1;
		log_msg(NULL, "running as user %s", c->cfg.run_user);
	}
	rc = open_store(c, &sc, s3prefix, err, errlen);
	explicit_bzero(&sc, sizeof(sc));
	if (rc == -1)
		return -1;
	if (auth_init(c, err, errlen) == -1 ||
	    migrate_areas(c, err, errlen) == -1)
		return -1;
	if (worker_start(c->cfg.workers < FTX_MIN_WORKERS ? c->cfg.workers
							  : FTX_MIN_WORKERS,
		c->cfg.workers, c->cfg.max_transfers, err, errlen) == -1)
		return -1;
	if (loop_add(c->loop, worker_fd(), POLLIN, on_worker, NULL) == -1)
		return str_err(err, errlen, "cannot watch workers");
	if (c->cfg.chat_redis[0] != '\0' &&
	    room_bus_open(&srv->room, c->loop, c->cfg.chat_redis,
		c->cfg.node_id, err, errlen) == -1)
		return -1;
	log_listening(srv);
	warn_open(srv);
	log_balancer(srv);
	return 0;
}

static void
before_poll(struct loop *l, void *arg)
{
	struct server *srv = arg;

	(void)l;
	sess_flush_pending(&srv->ctx.sessions);
}

int
srv_run(struct server *srv)
{
	if (loop_run(srv->ctx.loop, FTX_TICK_MS, tick, before_poll, srv) ==
	    -1) {
		log_msg(NULL, "epoll_wait: %s", strerror(errno));
		return -1;
	}
	/* Abandoned jobs may still be blocked; exiting ends them. */
	if (worker_pending() == 0)
		worker_stop();
	log_msg(NULL, "shutdown: done");
	return 0;
}

void
srv_free(struct server *srv)
{
	room_free(&srv->room);
	while (srv->ctx.sessions.head != NULL)
		sess_free(srv->ctx.sessions.head);
	uecho_close(srv->uecho);
	srv->uecho = NULL;
	if (srv->ctx.ctl_fd != -1)
		close(srv->ctx.ctl_fd);
	dconn_unlisten(&srv->ctx);
	pxgate_free(srv->ctx.pxgate);
	srv->ctx.pxgate = NULL;
	free(srv->ctx.data_fds);
	free(srv->ctx.data_ports);
	srv->ctx.data_fds = srv->ctx.data_ports = NULL;
	if (srv->sigfd[0] != -1) {
		close(srv->sigfd[0]);
		close(srv->sigfd[1]);
	}
	loop_free(srv->ctx.loop);
	auth_free(&srv->ctx);
	store_close(srv->ctx.store);
	srv->ctx.store = NULL;
	tls_ctx_free(srv->ctx.tls);
	srv->ctx.tls = NULL;
}

/* Point the logs at the configured files again (logrotate renamed
 * them, or the paths changed); a failure keeps the old descriptor. */
static void
reopen_logs(struct server *srv)
{
	char err[CFG_ERRLEN];

	if (log_open(srv->ctx.cfg.log, err, sizeof(err)) == -1)
		log_msg(
		    NULL, "reload: %s (still logging to the old file)", err);
	log_set_format(srv->ctx.cfg.log_format);
	if (log_xfer_open(srv->ctx.cfg.xferlog, err, sizeof(err)) == -1)
		log_msg(NULL, "reload: %s (xferlog unchanged)", err);
}

void
srv_reload(struct server *srv)
{
	char err[CFG_ERRLEN], applied[512] = "", *p;
	const struct cfg_opt *o;
	struct config *nc;
	size_t i, n;

	/* struct config is large (paths); keep it off the stack. */
	if ((nc = malloc(sizeof(*nc))) == NULL) {
		log_msg(NULL, "reload: out of memory");
		reopen_logs(srv);
		return;
	}
	if (srv->cli == NULL) {
		*nc = srv->ctx
			  .cfg; /* no command line known: nothing to re-read */
	} else if (cfg_build(nc, srv->cli, srv->cfg_path, err, sizeof(err)) ==
		-1 ||
	    (srv->base_dir != NULL &&
		cfg_absolute_paths(nc, srv->base_dir, err, sizeof(err)) ==
		    -1)) {
		/* SECURITY: a broken file must not half-apply. */
		log_msg(NULL, "reload: %s; keeping the old settings", err);
		free(nc);
		reopen_logs(srv);
		return;
	}
	o = cfg_options(&n);
	for (i = 0; i < n; i++) {
		char *cur = (char *)&srv->ctx.cfg + o[i].off;
		const char *next = (const char *)nc + o[i].off;

		if (memcmp(cur, next, o[i].size) == 0)
			continue;
		if (!o[i].reload) {
			log_msg(NULL,
			    "reload: %s changed; it takes effect on restart",
			    o[i].name);
			continue;
		}
		memcpy(cur, next, o[i].size);
		p = applied + strlen(applied);
		(void)str_fmt(p, sizeof(applied) - (size_t)(p - applied),
		    "%s%s", applied[0] != '\0' ? "," : "", o[i].name);
	}
	free(nc);
	reopen_logs(srv);
	log_msg(NULL, "reload: config=%s changed=%s",
	    srv->cfg_path != NULL ? srv->cfg_path : "-",
	    applied[0] != '\0' ? applied : "-");
	(void)auth_recheck(&srv->ctx); /* logs if the users file went away */
}

/*
 * server.c - start-up, the control listener, timers and graceful stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "net.h"
#include "server.h"
#include "session.h"
#include "room.h"
#include "str.h"
#include "udpecho.h"
#include "worker.h"
#include "xfer.h"

#define TICK_MS 250
/* After the grace period, cut transfers get this long to report. */
#define STOP_EXTRA_S 5
/* Workers kept alive when idle. */
#define MIN_WORKERS 4

static int sig_wfd = -1;

void
srv_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->root = FTX_DEFAULT_ROOT;
	cfg->bind = FTX_DEFAULT_BIND;
	cfg->log = NULL;
	cfg->port = FTX_DEFAULT_PORT;
	cfg->data_port = FTX_DEFAULT_DATA_PORT;
	cfg->workers = FTX_DEFAULT_WORKERS;
	cfg->max_clients = FTX_DEFAULT_MAX_CLIENTS;
	cfg->max_per_ip = FTX_DEFAULT_MAX_PER_IP;
	cfg->chunk = FTX_DEFAULT_CHUNK;
	cfg->idle_timeout = FTX_DEFAULT_IDLE_TIMEOUT_S;
	cfg->data_timeout = FTX_DEFAULT_DATA_TIMEOUT_S;
	cfg->token_ttl = FTX_TOKEN_TTL_S;
	cfg->chat_rate = FTX_CHAT_RATE_DEFAULT;
	cfg->udp_echo = 1;
	cfg->udp_rate = FTX_UDP_RATE_DEFAULT;
}

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	/* If the pipe is full a stop is already pending. */
	if (write(sig_wfd, &c, 1) == -1)
		errno = saved;
	errno = saved;
}

static size_t
count_ip(const struct server *srv, const struct sockaddr_storage *peer)
{
	const struct session *s;
	size_t n = 0;

	for (s = srv->sessions; s != NULL; s = s->next)
		n += net_same_ip(&s->peer, peer);
	return n;
}

/* SECURITY: refuse connections over the global and per-IP caps. */
static void
refuse(int fd, const struct sockaddr_storage *peer, const char *why)
{
	char line[128], addr[64];

	net_addr_str(peer, addr, sizeof(addr));
	log_msg(addr, "refused: %s", why);
	/* Best effort: the socket is fresh, so its buffer has room. */
	if (str_fmt(line, sizeof(line), "ERROR LIMIT %s\n", why) == 0 &&
	    send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		log_msg(addr, "refusal not sent: %s", strerror(errno));
	close(fd);
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
		if (srv->nsessions >= (size_t)srv->cfg.max_clients)
			refuse(fd, &peer, "too many connections");
		else if (count_ip(srv, &peer) >= (size_t)srv->cfg.max_per_ip)
			refuse(fd, &peer,
			    "too many connections from your address");
		else if (sess_new(srv, fd, &peer) == -1)
			refuse(fd, &peer, "server out of resources");
	}
	if (errno == EMFILE || errno == ENFILE)
		log_msg(NULL, "accept: %s", strerror(errno));
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
	if (srv->stopping)
		return;
	srv->stopping = 1;
	srv->stop_ms = loop_now_ms();
	log_msg(NULL, "shutdown: stopping, %d transfers running",
	    xfer_running(srv));
	if (srv->ctl_fd != -1) {
		loop_del(srv->loop, srv->ctl_fd);
		close(srv->ctl_fd);
		srv->ctl_fd = -1;
	}
	uecho_close(srv);
	xfer_stop(srv, 0);
	sess_stop_idle(srv);
}

static void
on_sigpipe(struct loop *l, int fd, int revents, void *arg)
{
	unsigned char c[16];

	(void)l;
	(void)revents;
	while (read(fd, c, sizeof(c)) > 0)
		;
	begin_stop(arg);
}

static void
tick(struct loop *l, void *arg)
{
	struct server *srv = arg;
	long long now = loop_now_ms();

	xfer_tick(srv, now);
	sess_tick(srv, now);
	uecho_tick(srv, now);
	if (!srv->stopping)
		return;
	if (now - srv->stop_ms > FTX_SHUTDOWN_GRACE_S * 1000LL)
		xfer_stop(srv, 1);
	if (srv->sessions == NULL && xfer_running(srv) == 0 &&
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
	    sigaction(SIGTERM, &sa, NULL) == -1)
		return str_err(err, errlen, "sigaction: %s", strerror(errno));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	return loop_add(srv->loop, srv->sigfd[0], POLLIN, on_sigpipe, srv);
}

int
srv_init(struct server *srv, char *err, size_t errlen)
{
	const char *lb, *rb;

	srv->ctl_fd = srv->data_fd = -1;
	srv->sigfd[0] = srv->sigfd[1] = -1;
	if (store_open(&srv->store, srv->cfg.root, err, errlen) == -1)
		return -1;
	if ((srv->loop = loop_new(err, errlen)) == NULL)
		return -1;
	if (setup_signals(srv, err, errlen) == -1)
		return -1;
	srv->ctl_fd =
	    net_listen(srv->cfg.bind, srv->cfg.port, 512, err, errlen);
	if (srv->ctl_fd == -1)
		return -1;
	if (loop_add(srv->loop, srv->ctl_fd, POLLIN, ctl_accept, srv) == -1)
		return str_err(err, errlen, "cannot watch listener");
	room_init(&srv->room);
	if (srv->cfg.udp_echo &&
	    uecho_open(srv, net_local_port(srv->ctl_fd), err, errlen) == -1)
		return -1;
	if (xfer_listen(srv, err, errlen) == -1)
		return -1;
	if (worker_start(
		srv->cfg.workers < MIN_WORKERS ? srv->cfg.workers : MIN_WORKERS,
		srv->cfg.workers, err, errlen) == -1)
		return -1;
	if (loop_add(srv->loop, worker_fd(), POLLIN, on_worker, NULL) == -1)
		return str_err(err, errlen, "cannot watch workers");
	/* Tests and scripts read the bound ports from this line. */
	lb = strchr(srv->cfg.bind, ':') != NULL ? "[" : "";
	rb = *lb != '\0' ? "]" : "";
	log_msg(NULL,
	    "ftxd %s listening control=%s%s%s:%d data=%s%s%s:%d udp-echo=%s "
	    "root=%s",
	    FTX_VERSION, lb, srv->cfg.bind, rb, net_local_port(srv->ctl_fd), lb,
	    srv->cfg.bind, rb, srv->data_port,
	    srv->uecho != NULL ? "on" : "off", srv->cfg.root);
	return 0;
}

static void
before_poll(struct loop *l, void *arg)
{
	(void)l;
	sess_flush_pending(arg);
}

int
srv_run(struct server *srv)
{
	if (loop_run(srv->loop, TICK_MS, tick, before_poll, srv) == -1) {
		log_msg(NULL, "poll: %s", strerror(errno));
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
	room_free(srv);
	while (srv->sessions != NULL)
		sess_free(srv->sessions);
	uecho_close(srv);
	if (srv->ctl_fd != -1)
		close(srv->ctl_fd);
	if (srv->data_fd != -1)
		close(srv->data_fd);
	if (srv->sigfd[0] != -1) {
		close(srv->sigfd[0]);
		close(srv->sigfd[1]);
	}
	loop_free(srv->loop);
	store_close(&srv->store);
}

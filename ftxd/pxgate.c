/*
 * pxgate.c - trusted connections awaiting their PROXY header.  See
 * pxgate.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dlist.h"
#include "ftx_limits.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "proxy.h"
#include "pxgate.h"
#include "str.h"

struct pxwait {
	struct pxgate *g;
	int fd;
	struct sockaddr_storage peer; /* the balancer */
	char peerstr[64];
	const char *what;
	pxgate_fn *done;
	void *arg;
	long long accepted_ms;
	unsigned char buf[FTX_PROXY_HDR_MAX];
	size_t len;
	struct pxwait *prev, *next;
};

struct pxgate {
	struct loop *loop;
	struct pxwait *head;
	size_t n;
};

struct pxgate *
pxgate_new(struct loop *l)
{
	struct pxgate *g = calloc(1, sizeof(*g));

	if (g != NULL)
		g->loop = l;
	return g;
}

static void
drop(struct pxwait *w)
{
	struct pxgate *g = w->g;

	DLIST_UNLINK(g->head, w);
	g->n--;
	loop_del(g->loop, w->fd);
	free(w);
}

/* SECURITY: a trusted connection without a valid PROXY header is never
 * admitted, and never with the balancer's address instead. */
static void
refuse(struct pxwait *w, const char *why)
{
	log_msg(w->peerstr, "proxy-reject %s reason=%s", w->what, why);
	close(w->fd);
	drop(w);
}

/* The header is complete: give the connection to its owner. */
static void
admit(struct pxwait *w, const struct proxy_hdr *h)
{
	struct sockaddr_storage peer = h->local ? w->peer : h->src;
	pxgate_fn *done = w->done;
	void *arg = w->arg;
	char real[64];
	int fd = w->fd;

	if (!h->local) {
		net_addr_str(&peer, real, sizeof(real));
		log_msg(real, "proxied %s via %s", w->what, w->peerstr);
	}
	drop(w);
	done(arg, fd, &peer);
}

static void
px_read(struct loop *l, int fd, int revents, void *arg)
{
	struct pxwait *w = arg;
	char err[FTX_ERRLEN];
	struct proxy_hdr h;
	size_t need;
	ssize_t n;
	int r;

	(void)l;
	(void)revents;
	/* Read no further than the header: what follows is the owner's. */
	while ((r = proxy_parse(w->buf, w->len, &h, &need, err, sizeof(err))) ==
	    PROXY_NEED_MORE) {
		n = recv(fd, w->buf + w->len, need - w->len, 0);
		if (n == -1 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0) {
			refuse(w,
			    n == 0 ? "closed before its PROXY header"
				   : strerror(errno));
			return;
		}
		w->len += (size_t)n;
	}
	if (r == PROXY_ERR)
		refuse(w, err);
	else
		admit(w, &h);
}

void
pxgate_hold(struct pxgate *g, int fd, const struct sockaddr_storage *peer,
    const char *what, pxgate_fn *done, void *arg)
{
	char addr[64];
	struct pxwait *w;

	net_addr_str(peer, addr, sizeof(addr));
	/* SECURITY: waiting connections are bounded (FTX_PROXY_WAIT_MAX). */
	if (g->n >= FTX_PROXY_WAIT_MAX || (w = calloc(1, sizeof(*w))) == NULL) {
		log_msg(addr, "proxy-reject %s reason=%s", what,
		    "too many connections waiting for their PROXY header");
		close(fd);
		return;
	}
	w->g = g;
	w->fd = fd;
	w->peer = *peer;
	(void)str_copy(w->peerstr, sizeof(w->peerstr), addr);
	w->what = what;
	w->done = done;
	w->arg = arg;
	w->accepted_ms = loop_now_ms();
	if (loop_add(g->loop, fd, POLLIN, px_read, w) == -1) {
		log_msg(addr, "proxy-reject %s reason=%s", what,
		    "cannot watch the connection");
		close(fd);
		free(w);
		return;
	}
	DLIST_LINK(g->head, w);
	g->n++;
}

/*
 * refuse() unlinks the connection each time; the analyzer cannot follow
 * that through the list pointers and reports a use after free.
 * NOLINTBEGIN(clang-analyzer-unix.Malloc)
 */
void
pxgate_tick(struct pxgate *g, long long now)
{
	struct pxwait *w, *next;

	for (w = g->head; w != NULL; w = next) {
		next = w->next;
		if (now - w->accepted_ms > FTX_PROXY_TIMEOUT_S * 1000LL)
			refuse(w, "no PROXY header in time");
	}
}

void
pxgate_stop(struct pxgate *g)
{
	while (g != NULL && g->head != NULL)
		refuse(g->head, "server stopping");
}
/* NOLINTEND(clang-analyzer-unix.Malloc) */

void
pxgate_free(struct pxgate *g)
{
	pxgate_stop(g);
	free(g);
}

size_t
pxgate_waiting(const struct pxgate *g)
{
	return g->n;
}

/*
 * net.c - every socket system call ftx makes, wrapped once.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "ftx_limits.h"
#include "str.h"

int
net_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	if (fcntl(fd, F_SETFL, fl) == -1)
		return -1;
	return 0;
}

static int
resolve_type(const char *host, int port, int passive, int socktype,
    struct addrinfo **res, char *err, size_t errlen)
{
	struct addrinfo hints;
	char portstr[16];
	int r;

	if (port < 0 || port > 65535)
		return str_err(err, errlen, "bad port %d", port);
	if (str_fmt(portstr, sizeof(portstr), "%d", port) == -1)
		return str_err(err, errlen, "bad port %d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_protocol = socktype == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	r = getaddrinfo(host, portstr, &hints, res);
	if (r != 0)
		return str_err(err, errlen, "cannot resolve %s: %s",
		    host ? host : "*", gai_strerror(r));
	return 0;
}

static int
resolve(const char *host, int port, int passive, struct addrinfo **res,
    char *err, size_t errlen)
{
	return resolve_type(host, port, passive, SOCK_STREAM, res, err, errlen);
}

/* Bind a TCP listener (backlog > 0) or a UDP socket (backlog 0). */
static int
bind_any(const char *addr, int port, int backlog, char *err, size_t errlen)
{
	struct addrinfo *res = NULL, *ai;
	int fd = -1, one = 1, zero = 0, saved = 0;
	int type = backlog > 0 ? SOCK_STREAM : SOCK_DGRAM;

	if (resolve_type(addr, port, 1, type, &res, err, errlen) == -1)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		/* Restarting the daemon must not wait out TIME_WAIT.  (Not
		 * for UDP, where it would let another socket share the
		 * port and see our datagrams.) */
		if (type == SOCK_STREAM &&
		    setsockopt(
			fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
			goto next;
		/* "::" should take IPv4 clients too (as mapped addresses);
		 * other IPv6 literals are unaffected by this option. */
		if (ai->ai_family == AF_INET6 &&
		    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
			sizeof(zero)) == -1)
			goto next;
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
			goto next;
		if (backlog > 0 && listen(fd, backlog) == -1)
			goto next;
		freeaddrinfo(res);
		return fd;
	next:
		saved = errno;
		close(fd);
	}
	freeaddrinfo(res);
	(void)str_err(err, errlen, "cannot listen on %s %s port %d: %s",
	    addr ? addr : "*", backlog > 0 ? "TCP" : "UDP", port,
	    strerror(saved ? saved : EINVAL));
	errno = saved ? saved : EINVAL; /* for net_busy_hint */
	return -1;
}

int
net_busy_hint(char *err, size_t errlen, const char *hint)
{
	char msg[FTX_ERRLEN];

	if (errno == EADDRINUSE && str_copy(msg, sizeof(msg), err) == 0)
		(void)str_fmt(err, errlen, "%s; %s", msg, hint);
	return -1;
}

int
net_is_loopback(int fd)
{
	struct sockaddr_storage ss;
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET) {
		memcpy(&s4, &ss, sizeof(s4));
		return (ntohl(s4.sin_addr.s_addr) >> 24) == 127;
	}
	if (ss.ss_family != AF_INET6)
		return 0;
	memcpy(&s6, &ss, sizeof(s6));
	if (IN6_IS_ADDR_LOOPBACK(&s6.sin6_addr))
		return 1;
	return IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr) &&
	    s6.sin6_addr.s6_addr[12] == 127;
}

int
net_listen(const char *addr, int port, int backlog, char *err, size_t errlen)
{
	if (backlog <= 0)
		backlog = 1;
	return bind_any(addr, port, backlog, err, errlen);
}

int
net_udp_bind(const char *addr, int port, char *err, size_t errlen)
{
	return bind_any(addr, port, 0, err, errlen);
}

int
net_udp_connect(const char *host, int port, char *err, size_t errlen)
{
	struct addrinfo *res = NULL, *ai;
	int fd = -1, saved = EINVAL;

	if (resolve_type(host, port, 0, SOCK_DGRAM, &res, err, errlen) == -1)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		/* Connected: the kernel drops datagrams from anyone else. */
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		return str_err(err, errlen, "cannot reach %s UDP port %d: %s",
		    host, port, strerror(saved));
	return fd;
}

int
net_accept(int lfd, struct sockaddr_storage *peer)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd;

	do {
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
	} while (fd == -1 && errno == EINTR);
	if (fd == -1)
		return -1;
	if (peer != NULL) {
		memset(peer, 0, sizeof(*peer));
		memcpy(peer, &ss, sl < sizeof(ss) ? sl : sizeof(ss));
	}
	return fd;
}

/* Non-blocking connect to one address, bounded by `timeout_ms`. */
static int
connect_one(const struct addrinfo *ai, int timeout_ms, int *errp)
{
	struct pollfd pfd;
	socklen_t sl;
	int fd, r, soerr = 0;

	fd = socket(ai->ai_family,
	    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1) {
		*errp = errno;
		return -1;
	}
	r = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (r == -1 && errno != EINPROGRESS && errno != EINTR) {
		*errp = errno;
		goto fail;
	}
	if (r == -1) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		do {
			r = poll(&pfd, 1, timeout_ms);
		} while (r == -1 && errno == EINTR);
		if (r == -1) {
			*errp = errno;
			goto fail;
		}
		if (r == 0) {
			*errp = ETIMEDOUT;
			goto fail;
		}
		sl = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1) {
			*errp = errno;
			goto fail;
		}
		if (soerr != 0) {
			*errp = soerr;
			goto fail;
		}
	}
	if (net_set_nonblock(fd, 0) == -1) {
		*errp = errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int
net_connect(const char *host, int port, int timeout_s, char *err, size_t errlen)
{
	struct addrinfo *res = NULL, *ai;
	int fd = -1, saved = EINVAL, timeout_ms;

	if (resolve(host, port, 0, &res, err, errlen) == -1)
		return -1;
	/* Each address gets the full timeout; there are rarely more than
	 * two (IPv6 and IPv4 of one name). */
	if (timeout_s <= 0)
		timeout_ms = -1;
	else if (timeout_s > FTX_MAX_TIMEOUT_S)
		timeout_ms = FTX_MAX_TIMEOUT_S * 1000;
	else
		timeout_ms = timeout_s * 1000;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = connect_one(ai, timeout_ms, &saved);
		if (fd != -1)
			break;
	}
	freeaddrinfo(res);
	if (fd == -1)
		return str_err(err, errlen, "cannot connect to %s port %d: %s",
		    host, port, strerror(saved));
	return fd;
}

int
net_set_timeouts(int fd, int seconds)
{
	struct timeval tv;

	tv.tv_sec = seconds > 0 ? seconds : 0;
	tv.tv_usec = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		return -1;
	return 0;
}

void
net_set_bufsizes(int fd, int bytes)
{
	/* Best effort: the kernel clamps to its limits, and a failure only
	 * costs throughput. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

void
net_set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int
net_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

/* 1 and the embedded IPv4 address if `a6` is IPv4-mapped. */
static int
mapped_v4(const struct in6_addr *a6, struct in_addr *a4)
{
	if (!IN6_IS_ADDR_V4MAPPED(a6))
		return 0;
	memcpy(&a4->s_addr, &a6->s6_addr[12], 4);
	return 1;
}

void
net_ip_str(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char tmp[INET6_ADDRSTRLEN];
	struct in_addr a4;

	if (n == 0)
		return;
	tmp[0] = '\0';
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		if (inet_ntop(AF_INET, &s4->sin_addr, tmp, sizeof(tmp)) == NULL)
			tmp[0] = '\0';
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		if (mapped_v4(&s6->sin6_addr, &a4)) {
			if (inet_ntop(AF_INET, &a4, tmp, sizeof(tmp)) == NULL)
				tmp[0] = '\0';
		} else if (inet_ntop(AF_INET6, &s6->sin6_addr, tmp,
			       sizeof(tmp)) == NULL) {
			tmp[0] = '\0';
		}
	}
	if (tmp[0] == '\0')
		(void)str_copy(tmp, sizeof(tmp), "?");
	(void)str_copy(out, n, tmp);
}

void
net_addr_str(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char ip[INET6_ADDRSTRLEN];
	int port = 0, v6 = 0;

	if (n == 0)
		return;
	net_ip_str(ss, ip, sizeof(ip));
	if (ss->ss_family == AF_INET) {
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
		/* Mapped addresses were printed as IPv4 above. */
		v6 = strchr(ip, ':') != NULL;
	}
	/* On truncation str_fmt leaves a terminated prefix, which is
	 * good enough for a log line. */
	(void)str_fmt(out, n, v6 ? "[%s]:%d" : "%s:%d", ip, port);
}

int
net_same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	struct in_addr a4, b4;
	int ha = 0, hb = 0;

	if (a->ss_family == AF_INET6 && b->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

		/* Link-local addresses are only the same with the scope. */
		return memcmp(&x->sin6_addr, &y->sin6_addr,
			   sizeof(x->sin6_addr)) == 0 &&
		    x->sin6_scope_id == y->sin6_scope_id;
	}
	/* SECURITY: a dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d,
	 * a plain one as a.b.c.d; both must compare equal, and nothing
	 * else may. */
	if (a->ss_family == AF_INET) {
		a4 = ((const struct sockaddr_in *)a)->sin_addr;
		ha = 1;
	} else if (a->ss_family == AF_INET6) {
		ha = mapped_v4(
		    &((const struct sockaddr_in6 *)a)->sin6_addr, &a4);
	}
	if (b->ss_family == AF_INET) {
		b4 = ((const struct sockaddr_in *)b)->sin_addr;
		hb = 1;
	} else if (b->ss_family == AF_INET6) {
		hb = mapped_v4(
		    &((const struct sockaddr_in6 *)b)->sin6_addr, &b4);
	}
	if (!ha || !hb)
		return 0;
	return a4.s_addr == b4.s_addr;
}

int
net_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	int use_send = 1;
	ssize_t w;

	while (n > 0) {
		if (use_send) {
			/* MSG_NOSIGNAL: a vanished peer must give EPIPE,
			 * not kill the process with SIGPIPE. */
			w = send(fd, p, n, MSG_NOSIGNAL);
			if (w == -1 && errno == ENOTSOCK) {
				use_send = 0;
				continue;
			}
		} else {
			w = write(fd, p, n);
		}
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t
net_read_full(int fd, void *buf, size_t n)
{
	char *p = buf;
	size_t got = 0;
	ssize_t r;

	/* The count must fit the return type (SIZE_MAX / 2 is SSIZE_MAX
	 * on Linux). */
	if (n > SIZE_MAX / 2) {
		errno = EINVAL;
		return -1;
	}
	while (got < n) {
		r = read(fd, p + got, n - got);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

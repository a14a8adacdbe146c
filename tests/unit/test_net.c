/*
 * test_net.c - unit tests for shared/net.c, on loopback only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ftx_limits.h"
#include "net.h"

static void
v4(struct sockaddr_storage *ss, const char *ip, int port)
{
	struct sockaddr_in *s = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin_family = AF_INET;
	s->sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &s->sin_addr), 1);
}

static void
v6(struct sockaddr_storage *ss, const char *ip, int port)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET6, ip, &s->sin6_addr), 1);
}

static void
test_same_ip(void **state)
{
	struct sockaddr_storage a, b;

	v4(&a, "127.0.0.1", 1000);
	v4(&b, "127.0.0.1", 2000);
	/* Ports do not matter. */
	assert_int_equal(net_same_ip(&a, &b), 1);
	v4(&b, "127.0.0.2", 1000);
	assert_int_equal(net_same_ip(&a, &b), 0);
	/* IPv4-mapped IPv6 equals IPv4, both ways round. */
	v6(&b, "::ffff:127.0.0.1", 5);
	assert_int_equal(net_same_ip(&a, &b), 1);
	assert_int_equal(net_same_ip(&b, &a), 1);
	v6(&b, "::ffff:127.0.0.2", 5);
	assert_int_equal(net_same_ip(&a, &b), 0);
	/* IPv4-compatible (deprecated) and ::1 are not 127.0.0.1. */
	v6(&b, "::127.0.0.1", 5);
	assert_int_equal(net_same_ip(&a, &b), 0);
	v6(&b, "::1", 5);
	assert_int_equal(net_same_ip(&a, &b), 0);
	assert_int_equal(net_same_ip(&b, &a), 0);
	/* IPv6 against IPv6. */
	v6(&a, "::1", 1);
	assert_int_equal(net_same_ip(&a, &b), 1);
	v6(&a, "2001:db8::1", 1);
	v6(&b, "2001:db8::2", 1);
	assert_int_equal(net_same_ip(&a, &b), 0);
	v6(&a, "::ffff:10.0.0.1", 1);
	v6(&b, "::ffff:10.0.0.1", 2);
	assert_int_equal(net_same_ip(&a, &b), 1);
	/* An unknown family never matches. */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.ss_family = AF_UNIX;
	b.ss_family = AF_UNIX;
	assert_int_equal(net_same_ip(&a, &b), 0);
}

static void
test_addr_str(void **state)
{
	struct sockaddr_storage ss;
	char out[64];

	v4(&ss, "1.2.3.4", 5);
	net_addr_str(&ss, out, sizeof(out));
	assert_string_equal(out, "1.2.3.4:5");
	net_ip_str(&ss, out, sizeof(out));
	assert_string_equal(out, "1.2.3.4");
	v6(&ss, "::1", 5001);
	net_addr_str(&ss, out, sizeof(out));
	assert_string_equal(out, "[::1]:5001");
	net_ip_str(&ss, out, sizeof(out));
	assert_string_equal(out, "::1");
	v6(&ss, "::ffff:192.168.1.9", 80);
	net_addr_str(&ss, out, sizeof(out));
	assert_string_equal(out, "192.168.1.9:80");
	net_ip_str(&ss, out, sizeof(out));
	assert_string_equal(out, "192.168.1.9");
	/* A small buffer is still terminated. */
	v4(&ss, "255.255.255.255", 65535);
	memset(out, 'x', sizeof(out));
	net_addr_str(&ss, out, 8);
	assert_int_equal(strlen(out), 7);
	memset(out, 'x', sizeof(out));
	net_ip_str(&ss, out, 4);
	assert_int_equal(strlen(out), 3);
}

static void
test_listen_connect_v4(void **state)
{
	struct sockaddr_storage peer, local;
	char err[FTX_ERRLEN], buf[16], addr[64];
	socklen_t sl = sizeof(local);
	struct pollfd pfd;
	int lfd, cfd, sfd, port, fl;

	lfd = net_listen("127.0.0.1", 0, 16, err, sizeof(err));
	assert_true(lfd >= 0);
	port = net_local_port(lfd);
	assert_true(port > 0 && port <= 65535);
	/* Non-blocking and close-on-exec. */
	fl = fcntl(lfd, F_GETFL);
	assert_true(fl & O_NONBLOCK);
	assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
	/* Nothing pending yet. */
	assert_int_equal(net_accept(lfd, &peer), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);

	cfd = net_connect("127.0.0.1", port, 5, err, sizeof(err));
	assert_true(cfd >= 0);
	/* The connected fd is blocking and close-on-exec. */
	assert_false(fcntl(cfd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(cfd, F_GETFD) & FD_CLOEXEC);
	net_set_nodelay(cfd);
	net_set_bufsizes(cfd, 1 << 20);
	assert_int_equal(net_set_timeouts(cfd, 5), 0);

	pfd.fd = lfd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	sfd = net_accept(lfd, &peer);
	assert_true(sfd >= 0);
	assert_true(fcntl(sfd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(sfd, F_GETFD) & FD_CLOEXEC);
	/* The peer is our client socket. */
	assert_int_equal(getsockname(cfd, (struct sockaddr *)&local, &sl), 0);
	assert_int_equal(net_same_ip(&peer, &local), 1);
	net_ip_str(&peer, addr, sizeof(addr));
	assert_string_equal(addr, "127.0.0.1");
	net_addr_str(&peer, addr, sizeof(addr));
	assert_non_null(strstr(addr, "127.0.0.1:"));

	/* Data both ways. */
	assert_int_equal(net_write_all(cfd, "hello", 5), 0);
	assert_int_equal(net_set_nonblock(sfd, 0), 0);
	assert_false(fcntl(sfd, F_GETFL) & O_NONBLOCK);
	assert_int_equal(net_read_full(sfd, buf, 5), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(net_write_all(sfd, "world!", 6), 0);
	shutdown(sfd, SHUT_WR);
	/* read_full returns short on EOF. */
	assert_int_equal(net_read_full(cfd, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "world!", 6);
	assert_int_equal(net_read_full(cfd, buf, sizeof(buf)), 0);
	close(sfd);
	close(cfd);
	close(lfd);
}

static void
test_listen_v6(void **state)
{
	struct sockaddr_storage peer;
	char err[FTX_ERRLEN], addr[64];
	struct pollfd pfd;
	int lfd, cfd, sfd, port;

	lfd = net_listen("::1", 0, 16, err, sizeof(err));
	if (lfd == -1)
		skip(); /* no IPv6 on this host */
	port = net_local_port(lfd);
	assert_true(port > 0);
	cfd = net_connect("::1", port, 5, err, sizeof(err));
	assert_true(cfd >= 0);
	pfd.fd = lfd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	sfd = net_accept(lfd, &peer);
	assert_true(sfd >= 0);
	net_addr_str(&peer, addr, sizeof(addr));
	assert_non_null(strstr(addr, "[::1]:"));
	close(sfd);
	close(cfd);
	close(lfd);
}

static void
test_dual_stack(void **state)
{
	struct sockaddr_storage peer, v4lo;
	char err[FTX_ERRLEN], ip[64];
	struct pollfd pfd;
	int lfd, cfd, sfd, port;

	/* "::" takes IPv4 clients too, seen as ::ffff:127.0.0.1. */
	lfd = net_listen("::", 0, 16, err, sizeof(err));
	if (lfd == -1)
		skip();
	port = net_local_port(lfd);
	cfd = net_connect("127.0.0.1", port, 5, err, sizeof(err));
	assert_true(cfd >= 0);
	pfd.fd = lfd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	sfd = net_accept(lfd, &peer);
	assert_true(sfd >= 0);
	assert_int_equal(peer.ss_family, AF_INET6);
	net_ip_str(&peer, ip, sizeof(ip));
	assert_string_equal(ip, "127.0.0.1");
	v4(&v4lo, "127.0.0.1", 0);
	assert_int_equal(net_same_ip(&peer, &v4lo), 1);
	close(sfd);
	close(cfd);
	close(lfd);
}

static void
test_errors(void **state)
{
	char err[FTX_ERRLEN];
	int lfd, port, fd;

	/* A port nobody listens on: take an ephemeral one and close it. */
	lfd = net_listen("127.0.0.1", 0, 1, err, sizeof(err));
	assert_true(lfd >= 0);
	port = net_local_port(lfd);
	close(lfd);
	err[0] = '\0';
	assert_int_equal(
	    net_connect("127.0.0.1", port, 2, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');

	/* Bad ports and addresses. */
	assert_int_equal(
	    net_listen("127.0.0.1", 70000, 1, err, sizeof(err)), -1);
	assert_int_equal(net_listen("127.0.0.1", -1, 1, err, sizeof(err)), -1);
	assert_int_equal(net_listen("300.1.1.1", 0, 1, err, sizeof(err)), -1);
	assert_int_equal(net_connect("127.0.0.1", 0, 1, err, sizeof(err)), -1);

	/* Two listeners on one port: the second fails with a reason. */
	lfd = net_listen("127.0.0.1", 0, 1, err, sizeof(err));
	assert_true(lfd >= 0);
	port = net_local_port(lfd);
	err[0] = '\0';
	fd = net_listen("127.0.0.1", port, 1, err, sizeof(err));
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err, "in use"));
	close(lfd);
	assert_int_equal(net_local_port(-1), -1);
}

struct writer {
	int fd;
	const char *buf;
	size_t n;
	int rc;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	w->rc = net_write_all(w->fd, w->buf, w->n);
	close(w->fd);
	return NULL;
}

static void
test_write_all_pipe(void **state)
{
	static char buf[300000], back[300000];
	struct writer w;
	pthread_t th;
	int fds[2];
	size_t i;

	/* net_write_all falls back to write() for non-sockets, and copes
	 * with short writes (a pipe holds less than 300 KB). */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 31);
	assert_int_equal(pipe(fds), 0);
	w.fd = fds[1];
	w.buf = buf;
	w.n = sizeof(buf);
	w.rc = 1;
	assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
	assert_int_equal(
	    net_read_full(fds[0], back, sizeof(back)), (ssize_t)sizeof(back));
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.rc, 0);
	assert_memory_equal(buf, back, sizeof(buf));
	/* The writer closed its end: EOF now. */
	assert_int_equal(net_read_full(fds[0], back, 1), 0);
	close(fds[0]);
}

static void
test_write_closed_peer(void **state)
{
	char err[FTX_ERRLEN], big[65536];
	struct pollfd pfd;
	struct sockaddr_storage peer;
	int lfd, cfd, sfd, port, i, r = 0;

	/* Writing to a socket whose peer has gone must fail with EPIPE
	 * or ECONNRESET, not kill us with SIGPIPE. */
	memset(big, 'x', sizeof(big));
	lfd = net_listen("127.0.0.1", 0, 1, err, sizeof(err));
	assert_true(lfd >= 0);
	port = net_local_port(lfd);
	cfd = net_connect("127.0.0.1", port, 5, err, sizeof(err));
	assert_true(cfd >= 0);
	pfd.fd = lfd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	sfd = net_accept(lfd, &peer);
	assert_true(sfd >= 0);
	close(sfd);
	for (i = 0; i < 100 && r == 0; i++)
		r = net_write_all(cfd, big, sizeof(big));
	assert_int_equal(r, -1);
	assert_true(errno == EPIPE || errno == ECONNRESET);
	close(cfd);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_ip),
	    cmocka_unit_test(test_addr_str),
	    cmocka_unit_test(test_listen_connect_v4),
	    cmocka_unit_test(test_listen_v6),
	    cmocka_unit_test(test_dual_stack),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_write_all_pipe),
	    cmocka_unit_test(test_write_closed_peer),
	};

	/* SIGPIPE stays at its default: a missing MSG_NOSIGNAL would kill
	 * this test. */
	signal(SIGPIPE, SIG_DFL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

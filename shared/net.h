/*
 * net.h - every socket system call ftx makes, wrapped once.
 */
#ifndef FTX_NET_H
#define FTX_NET_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Bind and listen on addr:port (IPv4 or IPv6 literal, or a host name).
 * Returns a non-blocking, close-on-exec fd or -1. */
int net_listen(
    const char *addr, int port, int backlog, char *err, size_t errlen);
/* Bind a UDP socket to addr:port; a non-blocking, close-on-exec fd or
 * -1.  Both leave errno as bind(2) (or listen, socket) left it. */
int net_udp_bind(const char *addr, int port, char *err, size_t errlen);
/* After a failed net_listen or net_udp_bind: if the port was in use
 * (EADDRINUSE), append "; <hint>" to `err`.  Always -1. */
int net_busy_hint(char *err, size_t errlen, const char *hint);
/* 1 if the socket is bound to a loopback address (127.0.0.0/8, ::1, or
 * IPv4-mapped 127.x); 0 for any other, the wildcards included. */
int net_is_loopback(int fd);
/* A blocking UDP socket connected to host:port; fd or -1. */
int net_udp_connect(const char *host, int port, char *err, size_t errlen);
/* Accept one connection as a non-blocking, close-on-exec fd; -1 with
 * errno set (EAGAIN when none is pending). */
int net_accept(int lfd, struct sockaddr_storage *peer);
/* Connect to host:port with a timeout; returns a blocking fd or -1. */
int net_connect(
    const char *host, int port, int timeout_s, char *err, size_t errlen);
int net_set_nonblock(int fd, int on);
/* Send and receive timeouts for a blocking socket (0 = none). */
int net_set_timeouts(int fd, int seconds);
/* Ask for large kernel socket buffers (best effort). */
void net_set_bufsizes(int fd, int bytes);
/* TCP_NODELAY on (control connections are request/reply). */
void net_set_nodelay(int fd);
/* Local port a socket is bound to, or -1. */
int net_local_port(int fd);
/* "1.2.3.4:5" or "[::1]:5".  Always terminates `out`. */
void net_addr_str(const struct sockaddr_storage *ss, char *out, size_t n);
/* The IP alone, IPv4-mapped IPv6 shown as IPv4. */
void net_ip_str(const struct sockaddr_storage *ss, char *out, size_t n);
/* 1 if both addresses are the same IP (IPv4-mapped IPv6 == IPv4). */
int net_same_ip(
    const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* Write all of buf (retrying on EINTR / short writes); 0 or -1. */
int net_write_all(int fd, const void *buf, size_t n);
/* Read until n bytes or EOF; returns bytes read (< n on EOF) or -1. */
ssize_t net_read_full(int fd, void *buf, size_t n);

#endif /* FTX_NET_H */

/*
 * url.h - how a user names a server: "host", "host:port",
 * "[v6addr]:port", and ftx://[user@]host[:port]/path URLs.
 *
 * Pure parsing, no I/O: the result is checked text (a host of letters,
 * digits, '.', '-', '_' or a bracketed IPv6 address, a port 1..65535,
 * a user name as ftxd allows it, a percent-decoded path) that main.c
 * puts into its settings.  The path is checked (path_check) by the
 * command that uses it, like a path typed without a URL.
 */
#ifndef FTX_URL_H
#define FTX_URL_H

#include <stddef.h>

#include "ftx_limits.h"

struct url {
	char host[FTX_HOST_MAX + 1]; /* brackets removed */
	int port; /* 0: not given */
	char user[FTX_USER_MAX + 1]; /* "": not given */
	int tls; /* 1 for ftxs:// */
	/* Percent-decoded, without the leading '/'; "" is the top.  A
	 * trailing '/' is kept: "dir/" means "into dir". */
	char path[FTX_RPATH_MAX + 2];
};

/* 1 if `s` starts with "ftx://" or "ftxs://" (any case). */
int url_is_url(const char *s);

/* Parse an ftx:// or ftxs:// URL; 0, or -1 with the reason in err. */
int url_parse(const char *s, struct url *u, char *err, size_t errlen);

/*
 * Split what --host was given: "h", "h:port", "[v6]", "[v6]:port" or a
 * bare IPv6 address (two or more colons, no brackets: no port).  host
 * gets the name without brackets, *port the port or 0.  0 or -1 (err).
 */
int url_hostport(const char *s, char *host, size_t hostlen, int *port,
    char *err, size_t errlen);

#endif /* FTX_URL_H */

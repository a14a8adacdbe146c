/*
 * url.c - host[:port] and ftx:// URLs as users type them.
 */
#include "url.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "pass.h"
#include "str.h"

/* A host name's bytes: what DNS names and IPv4 addresses use. */
static int
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

/* An IPv6 address's bytes (and '%' for a zone, "fe80::1%lo"). */
static int
v6_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F') || c == ':' || c == '.' || c == '%' ||
	    host_char(c);
}

/* SECURITY: a host is checked byte by byte before it reaches the
 * resolver, a log or a known_hosts line. */
static int
check_host(const char *h, size_t n, int v6, char *err, size_t errlen)
{
	size_t i;

	if (n == 0)
		return str_err(err, errlen, "empty host name");
	if (n > FTX_HOST_MAX)
		return str_err(err, errlen, "host name too long");
	for (i = 0; i < n; i++)
		if (!(v6 ? v6_char(h[i]) : host_char(h[i])))
			return str_err(
			    err, errlen, "invalid character in host name");
	return 0;
}

static int
parse_port(const char *s, size_t n, int *port, char *err, size_t errlen)
{
	char buf[8];
	uint64_t v;

	if (n == 0 || n >= sizeof(buf))
		return str_err(err, errlen, "bad port");
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (str_to_u64(buf, 65535, &v) == -1 || v == 0)
		return str_err(err, errlen, "bad port '%s' (1 to 65535)", buf);
	*port = (int)v;
	return 0;
}

/* host[:port] within s[0..n). */
static int
hostport(const char *s, size_t n, char *host, size_t hostlen, int *port,
    char *err, size_t errlen)
{
	const char *colon, *end = s + n;
	size_t hn;
	int v6 = 0;

	*port = 0;
	if (n > 0 && s[0] == '[') {
		if ((colon = memchr(s, ']', n)) == NULL)
			return str_err(err, errlen,
			    "missing ']' after an "
			    "IPv6 address");
		hn = (size_t)(colon - s - 1);
		s++;
		v6 = 1;
		colon++;
		if (colon < end && *colon != ':')
			return str_err(
			    err, errlen, "expected ':port' after ']'");
	} else {
		colon = memchr(s, ':', n);
		/* Two colons or more: a bare IPv6 address, no port. */
		if (colon != NULL &&
		    memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL) {
			colon = NULL;
			v6 = 1;
		}
		hn = colon != NULL ? (size_t)(colon - s) : n;
	}
	if (check_host(s, hn, v6, err, errlen) == -1)
		return -1;
	if (hn >= hostlen)
		return str_err(err, errlen, "host name too long");
	memcpy(host, s, hn);
	host[hn] = '\0';
	if (colon != NULL && colon < end)
		return parse_port(
		    colon + 1, (size_t)(end - colon - 1), port, err, errlen);
	return 0;
}

int
url_hostport(const char *s, char *host, size_t hostlen, int *port, char *err,
    size_t errlen)
{
	return hostport(s, strlen(s), host, hostlen, port, err, errlen);
}

int
url_is_url(const char *s)
{
	return strncasecmp(s, "ftx://", 6) == 0 ||
	    strncasecmp(s, "ftxs://", 7) == 0;
}

/* Percent-decode s into out[n]. */
static int
decode(const char *s, char *out, size_t n, char *err, size_t errlen)
{
	unsigned char c;
	size_t w = 0;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c == '%') {
			if (str_unhex(&c, 1, s + 1) == -1)
				return str_err(err, errlen,
				    "malformed %%-escape in the URL");
			/* SECURITY: %00 would cut the path short unseen. */
			if (c == 0)
				return str_err(err, errlen, "%%00 in the URL");
			s += 2;
		}
		if (w + 1 >= n)
			return str_err(err, errlen, "path in the URL too long");
		out[w++] = (char)c;
	}
	out[w] = '\0';
	return 0;
}

int
url_parse(const char *s, struct url *u, char *err, size_t errlen)
{
	const char *auth, *at, *slash;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (strlen(s) > FTX_URL_MAX)
		return str_err(err, errlen, "URL too long");
	if (strncasecmp(s, "ftxs://", 7) == 0) {
		u->tls = 1;
		auth = s + 7;
	} else if (strncasecmp(s, "ftx://", 6) == 0) {
		auth = s + 6;
	} else {
		return str_err(err, errlen, "not an ftx:// URL");
	}
	slash = strchr(auth, '/');
	n = slash != NULL ? (size_t)(slash - auth) : strlen(auth);
	if ((at = memchr(auth, '@', n)) != NULL) {
		if ((size_t)(at - auth) > FTX_USER_MAX)
			return str_err(err, errlen, "user name too long");
		memcpy(u->user, auth, (size_t)(at - auth));
		u->user[at - auth] = '\0';
		/* SECURITY: a password never goes in a URL (it would show
		 * in ps and shell history); the user name is checked. */
		if (strchr(u->user, ':') != NULL)
			return str_err(err, errlen,
			    "no password in URLs: use --password-file or "
			    "FTX_PASSWORD");
		if (!pass_user_ok(u->user))
			return str_err(err, errlen,
			    "invalid user name in "
			    "the URL");
		n -= (size_t)(at - auth) + 1;
		auth = at + 1;
	}
	if (hostport(
		auth, n, u->host, sizeof(u->host), &u->port, err, errlen) == -1)
		return -1;
	if (slash == NULL)
		return 0;
	return decode(slash + 1, u->path, sizeof(u->path), err, errlen);
}

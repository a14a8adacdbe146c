/*
 * chatwire.c - the chat bus's names and framing.  See chatwire.h.
 */
#include <ctype.h>
#include <string.h>

#include "chatwire.h"
#include "str.h"

#define TAG "ftx1 "
#define DEFAULT_PORT 6379

/* What a LEFT push may say (docs/PROTOCOL.md, "Chat"). */
static const char *const reasons[] = {"leave", "quit", "disconnect", "timeout",
    "slow", "flood", "shutdown", "conflict"};

int
chatwire_reason_ok(const char *reason)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reason, reasons[i]) == 0)
			return 1;
	return 0;
}

int
chatwire_node_check(const char *id, char *err, size_t errlen)
{
	size_t i, n = strlen(id);

	/* SECURITY: node ids become Redis names: bounded, one charset. */
	if (n == 0 || n > FTX_NODE_ID_MAX)
		return str_err(err, errlen, "node id must be 1 to %d bytes",
		    FTX_NODE_ID_MAX);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-' &&
		    id[i] != '_')
			return str_err(err, errlen,
			    "node id may hold only letters, digits, '-' and "
			    "'_'");
	return 0;
}

/* The host part: [v6] or up to ':' or '/'; *pp moves past it. */
static int
url_host(const char **pp, struct chatwire_url *u, char *err, size_t errlen)
{
	const char *p = *pp, *end;
	size_t n, i;

	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL)
			return str_err(err, errlen, "unclosed '[' in the host");
		p++;
		n = (size_t)(end - p);
		*pp = end + 1;
	} else {
		n = strcspn(p, ":/");
		*pp = p + n;
	}
	if (n == 0 || n > FTX_HOST_MAX)
		return str_err(err, errlen, "the host must be 1 to %d bytes",
		    FTX_HOST_MAX);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '.' &&
		    p[i] != '-' && p[i] != ':')
			return str_err(err, errlen,
			    "the host may hold only letters, digits, '.', "
			    "'-' and ':'");
	memcpy(u->host, p, n);
	u->host[n] = '\0';
	return 0;
}

/* Digits up to '/' or the end, as a number no greater than max. */
static int
url_num(const char **pp, uint64_t max, int *out)
{
	char digits[8];
	size_t n = strcspn(*pp, "/");
	uint64_t v;

	if (n == 0 || n >= sizeof(digits))
		return -1;
	memcpy(digits, *pp, n);
	digits[n] = '\0';
	if (str_to_u64(digits, max, &v) == -1)
		return -1;
	*out = (int)v;
	*pp += n;
	return 0;
}

int
chatwire_parse_url(
    const char *url, struct chatwire_url *u, char *err, size_t errlen)
{
	const char *p = url;

	memset(u, 0, sizeof(*u));
	u->port = DEFAULT_PORT;
	if (strlen(url) > FTX_CHATBUS_URL_MAX)
		return str_err(err, errlen, "URL longer than %d bytes",
		    FTX_CHATBUS_URL_MAX);
	if (strncmp(p, "redis://", 8) != 0)
		return str_err(err, errlen, "URL must start with redis://");
	p += 8;
	/* SECURITY: a password would sit on the command line and in ps. */
	if (strchr(p, '@') != NULL)
		return str_err(
		    err, errlen, "credentials in the URL are not supported");
	if (url_host(&p, u, err, errlen) == -1)
		return -1;
	if (*p == ':') {
		p++;
		if (url_num(&p, 65535, &u->port) == -1 || u->port == 0)
			return str_err(err, errlen, "bad port (1 to 65535)");
	}
	if (*p == '/' && p[1] != '\0') {
		p++;
		if (url_num(&p, FTX_CHATBUS_DB_MAX, &u->db) == -1)
			return str_err(err, errlen, "bad database (0 to %d)",
			    FTX_CHATBUS_DB_MAX);
	} else if (*p == '/') {
		p++;
	}
	if (*p != '\0')
		return str_err(
		    err, errlen, "unexpected '%.16s' after the database", p);
	return 0;
}

int
chatwire_nick_key(char *out, size_t n, const char *nick)
{
	size_t i, len;

	if (str_fmt(out, n, "ftx:nick:%s", nick) == -1)
		return -1;
	/* Nicks are unique without regard to case (chat_nick_eq). */
	len = strlen(out);
	for (i = 9; i < len; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return 0;
}

int
chatwire_node_chan(char *out, size_t n, const char *node)
{
	return str_fmt(out, n, "ftx:node:%s", node);
}

int
chatwire_encode(char *out, size_t n, const char *node, const char *push)
{
	return str_fmt(out, n, TAG "%s %s", node, push);
}

/* The kinds each channel carries. */
static int
kind_ok(enum chatwire_chan chan, enum chat_kind k)
{
	if (chan == CHATWIRE_NODE)
		return k == CHAT_PRIV;
	return k == CHAT_MSG || k == CHAT_JOIN || k == CHAT_LEFT;
}

int
chatwire_decode(const char *msg, size_t len, enum chatwire_chan chan,
    char *node, struct chat_push *p, char *err, size_t errlen)
{
	char copy[CHATWIRE_MAX + 1];
	const char *s;
	size_t n;
	int rc;

	/* SECURITY: a bus message is checked like a client's line. */
	if (len == 0 || len > CHATWIRE_MAX)
		return str_err(err, errlen, "message of %zu bytes", len);
	if (memchr(msg, '\0', len) != NULL || memchr(msg, '\n', len) != NULL ||
	    memchr(msg, '\r', len) != NULL)
		return str_err(err, errlen, "NUL, CR or LF in a message");
	memcpy(copy, msg, len);
	copy[len] = '\0';
	if (strncmp(copy, TAG, sizeof(TAG) - 1) != 0)
		return str_err(err, errlen, "not an ftx1 message");
	s = copy + sizeof(TAG) - 1;
	n = strcspn(s, " ");
	if (n == 0 || n > FTX_NODE_ID_MAX || s[n] != ' ')
		return str_err(err, errlen, "bad node id");
	memcpy(node, s, n);
	node[n] = '\0';
	if (chatwire_node_check(node, err, errlen) == -1)
		return -1;
	rc = chat_parse_push(s + n + 1, p, err, errlen);
	if (rc == 1)
		return str_err(err, errlen, "unknown push kind");
	if (rc == -1)
		return -1;
	if (!kind_ok(chan, p->kind))
		return str_err(err, errlen, "push kind not carried on %s",
		    chan == CHATWIRE_NODE ? "a node channel" : "the room");
	if (p->kind == CHAT_LEFT && !chatwire_reason_ok(p->text))
		return str_err(err, errlen, "unknown LEFT reason");
	return 0;
}

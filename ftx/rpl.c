/*
 * rpl.c - parse and validate the server's reply lines (client side).
 */
#include "ftxerr.h"
#include "rpl.h"

#include <string.h>

#include "chat.h"
#include "exitcode.h"
#include "path.h"
#include "proto.h"
#include "str.h"

/* A reply line split into its tokens (percent-decoded by proto_split). */
struct split {
	char buf[FTX_LINE_MAX + 1];
	struct proto_cmd cmd;
};

/*
 * Split `line`, check that its first token is `verb` and that it has at
 * least `nfixed` arguments.  Later protocol versions may append optional
 * "key=value" parameters, so those are tolerated; any other extra field
 * means we misunderstand the server and must not guess.
 */
static int
split(const char *line, const char *verb, int nfixed, struct split *s,
    char *err, size_t errlen)
{
	int i;

	char why[FTX_ERRLEN];

	if (str_copy(s->buf, sizeof(s->buf), line) == -1)
		return str_err(err, errlen, "reply line too long");
	if (proto_split(s->buf, &s->cmd, why, sizeof(why)) == -1)
		return str_err(
		    err, errlen, "malformed reply from server: %s", why);
	if (strcmp(s->cmd.verb, verb) != 0)
		return str_err(err, errlen,
		    "unexpected reply from server (expected %s)", verb);
	if (s->cmd.argc < nfixed)
		return str_err(err, errlen,
		    "malformed %s reply from server: %d fields, expected %d",
		    verb, s->cmd.argc, nfixed);
	for (i = nfixed; i < s->cmd.argc; i++)
		if (strchr(s->cmd.argv[i], '=') == NULL)
			return str_err(err, errlen,
			    "malformed %s reply from server: extra fields",
			    verb);
	return 0;
}

int
rpl_is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

static int
parse_hex(const char *s, size_t n, char *out, const char *what, char *err,
    size_t errlen)
{
	if (!rpl_is_hex(s, n))
		return str_err(err, errlen, "bad %s from server", what);
	memcpy(out, s, n + 1);
	return 0;
}

static int
parse_port(const char *s, int *port, char *err, size_t errlen)
{
	uint64_t v;

	if (str_to_u64(s, 65535, &v) == -1 || v == 0)
		return str_err(err, errlen, "bad data port from server");
	*port = (int)v;
	return 0;
}

static int
parse_size(const char *s, uint64_t *size, char *err, size_t errlen)
{
	/* A size must fit off_t for the local file. */
	if (str_to_u64(s, INT64_MAX, size) == -1)
		return str_err(err, errlen, "bad size from server");
	return 0;
}

/* SECURITY: a name from the server is shown on the terminal and may
 * become a local path, so it must pass the same check as ours. */
static int
parse_name(const char *s, char *out, char *err, size_t errlen)
{
	char why[FTX_ERRLEN];

	if (proto_name_check(s, why, sizeof(why)) == -1)
		return str_err(
		    err, errlen, "bad file name from server: %s", why);
	return str_copy(out, FTX_NAME_MAX + 1, s);
}

int
rpl_greeting(const char *line, char *err, size_t errlen)
{
	static const char want[] = "OK " FTX_PROTO_VERSION;
	size_t n = sizeof(want) - 1;

	/* The rest of the greeting is free text (server name, version):
	 * only its first two tokens are the contract. */
	if (strncmp(line, want, n) != 0 || (line[n] != ' ' && line[n] != '\0'))
		return str_err(
		    err, errlen, "not an %s server", FTX_PROTO_VERSION);
	return 0;
}

/* The next space-separated word of *p into w[n] (truncated words are
 * refused by the caller through their length); 0 at the end. */
static int
word(const char **p, char *w, size_t n, size_t *len)
{
	const char *s = *p, *e;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return 0;
	for (e = s; *e != '\0' && *e != ' '; e++)
		;
	*len = (size_t)(e - s);
	if (n > 0) {
		size_t k = *len < n - 1 ? *len : n - 1;

		memcpy(w, s, k);
		w[k] = '\0';
	}
	*p = e;
	return 1;
}

unsigned
rpl_greeting_caps(const char *line)
{
	static const struct {
		const char *word;
		unsigned bit;
	} caps[] = {
	    {"tls", RPL_CAP_TLS},
	    {"tls-required", RPL_CAP_TLS_REQUIRED},
	    {"login", RPL_CAP_LOGIN},
	    {"anonymous", RPL_CAP_ANONYMOUS},
	    {"folders", RPL_CAP_FOLDERS},
	    {"stream", RPL_CAP_STREAM},
	};
	const char *p = line;
	char w[32];
	unsigned mask = 0;
	size_t i, len;

	if (rpl_greeting(line, NULL, 0) == -1)
		return 0;
	p += 3 + strlen(FTX_PROTO_VERSION);
	while (word(&p, w, sizeof(w), &len)) {
		if (len >= sizeof(w))
			continue;
		for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
			if (strcmp(w, caps[i].word) == 0)
				mask |= caps[i].bit;
	}
	return mask;
}

static int
user_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > FTX_USER_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') ||
			(i > 0 && (s[i] == '_' || s[i] == '-'))))
			return 0;
	return 1;
}

int
rpl_login(const char *line, struct rpl_login *l, char *err, size_t errlen)
{
	struct split s;
	int i;

	/* "OK <user> logged in", and for anonymous its mode. */
	if (split(line, "OK", 4, &s, NULL, 0) == -1 &&
	    split(line, "OK", 3, &s, err, errlen) == -1)
		return -1;
	/* SECURITY: the name is shown on the terminal. */
	if (!user_ok(s.cmd.argv[0]) || strcmp(s.cmd.argv[1], "logged") != 0 ||
	    strcmp(s.cmd.argv[2], "in") != 0)
		return str_err(
		    err, errlen, "malformed LOGIN reply from server");
	(void)str_copy(l->user, sizeof(l->user), s.cmd.argv[0]);
	l->read_only = 0;
	for (i = 3; i < s.cmd.argc; i++) {
		if (strcmp(s.cmd.argv[i], "read-only") == 0)
			l->read_only = 1;
		else if (strcmp(s.cmd.argv[i], "read-write") != 0)
			return str_err(
			    err, errlen, "malformed LOGIN reply from server");
	}
	return 0;
}

int
rpl_whoami(const char *line, struct rpl_whoami *w, char *err, size_t errlen)
{
	struct split s;
	const char *nick, *peer, *user = "-";

	/* Servers before issue 4 send no user field. */
	if (split(line, "OK", 3, &s, NULL, 0) == -1 &&
	    split(line, "OK", 2, &s, err, errlen) == -1)
		return -1;
	nick = s.cmd.argv[0];
	peer = s.cmd.argv[1];
	if (s.cmd.argc >= 3)
		user = s.cmd.argv[2];
	/* SECURITY: everything here goes to the terminal. */
	if (strcmp(nick, "-") != 0 && chat_nick_check(nick, NULL, 0) == -1)
		return str_err(err, errlen, "bad nick in WHOAMI reply");
	if (strlen(peer) >= sizeof(w->peer) ||
	    strspn(peer, "0123456789abcdefABCDEF.:[]") != strlen(peer))
		return str_err(err, errlen, "bad address in WHOAMI reply");
	if (strcmp(user, "-") != 0 && !user_ok(user))
		return str_err(err, errlen, "bad user in WHOAMI reply");
	(void)str_copy(w->nick, sizeof(w->nick), nick);
	(void)str_copy(w->peer, sizeof(w->peer), peer);
	(void)str_copy(
	    w->user, sizeof(w->user), strcmp(user, "-") == 0 ? "" : user);
	return 0;
}

static int
is_code_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int
rpl_error(const char *line, struct rpl_error *e)
{
	size_t n = 0, i;
	const char *p;

	if (strncmp(line, "ERROR", 5) != 0 ||
	    (line[5] != ' ' && line[5] != '\0' && line[5] != '\r'))
		return -1;
	for (p = line + 5; *p == ' '; p++)
		;
	while (n < RPL_CODE_MAX && is_code_char(p[n]))
		n++;
	if (n == 0 || n == RPL_CODE_MAX || (p[n] != ' ' && p[n] != '\0')) {
		/* No recognisable code: keep the whole rest as the reason. */
		(void)str_copy(e->code, sizeof(e->code), "?");
	} else {
		memcpy(e->code, p, n);
		e->code[n] = '\0';
		p += n;
	}
	while (*p == ' ')
		p++;
	(void)str_copy(e->text, sizeof(e->text), p);
	n = strlen(e->text);
	if (n > 0 && e->text[n - 1] == '\r')
		e->text[--n] = '\0';
	/* SECURITY: the reason goes to the user's terminal; no escape
	 * sequences from the server. */
	for (i = 0; i < n; i++)
		if ((unsigned char)e->text[i] < 0x20 ||
		    (unsigned char)e->text[i] == 0x7f)
			e->text[i] = '?';
	return 0;
}

/* What a code means to us comes from the one table (shared/ftxerr.c). */
int
rpl_error_exit(const char *code)
{
	switch (ftxerr_class(ftxerr_parse(code))) {
	case FTXC_INTEGRITY:
		return EXITCODE_INTEGRITY;
	case FTXC_LOGIN: /* login failed or is needed */
		return EXITCODE_LOGIN;
	case FTXC_TLS: /* the server wants TLS first */
		return EXITCODE_TLS;
	case FTXC_BROKE: /* the transfer broke, not the request */
		return EXITCODE_FAIL;
	default:
		return EXITCODE_REFUSED;
	}
}

int
rpl_error_fatal(const char *code)
{
	return ftxerr_fatal(ftxerr_parse(code));
}

int
rpl_is_host(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > FTX_HOST_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
			s[i] == '-' || s[i] == ':' || s[i] == '_'))
			return 0;
	return 1;
}

/*
 * The optional "host=<host>" parameter after a transfer reply's fixed
 * fields (other parameters are for later versions and ignored).
 * SECURITY: the host decides where our data connection goes, so it must
 * look like a host name or address; whether it is used at all is the
 * user's choice (ftx --data-host advertised).
 */
static int
parse_host_param(
    const struct split *s, int nfixed, char *host, char *err, size_t errlen)
{
	int i;

	host[0] = '\0';
	for (i = nfixed; i < s->cmd.argc; i++) {
		if (strncmp(s->cmd.argv[i], "host=", 5) != 0)
			continue;
		if (!rpl_is_host(s->cmd.argv[i] + 5))
			return str_err(
			    err, errlen, "bad data host from server");
		memcpy(
		    host, s->cmd.argv[i] + 5, strlen(s->cmd.argv[i] + 5) + 1);
	}
	return 0;
}

int
rpl_upload(const char *line, struct rpl_upload *u, char *err, size_t errlen)
{
	struct split s;

	if (split(line, "OK", 2, &s, err, errlen) == -1)
		return -1;
	if (parse_port(s.cmd.argv[0], &u->port, err, errlen) == -1 ||
	    parse_host_param(&s, 2, u->host, err, errlen) == -1)
		return -1;
	return parse_hex(
	    s.cmd.argv[1], FTX_TOKEN_HEX, u->token, "token", err, errlen);
}

int
rpl_download(const char *line, struct rpl_download *d, char *err, size_t errlen)
{
	struct split s;

	if (split(line, "OK", 4, &s, err, errlen) == -1)
		return -1;
	if (parse_size(s.cmd.argv[0], &d->size, err, errlen) == -1 ||
	    parse_port(s.cmd.argv[1], &d->port, err, errlen) == -1 ||
	    parse_host_param(&s, 4, d->host, err, errlen) == -1 ||
	    parse_hex(s.cmd.argv[2], FTX_TOKEN_HEX, d->token, "token", err,
		errlen) == -1)
		return -1;
	return parse_hex(s.cmd.argv[3], HASH_SHA256_HEXLEN, d->sha256, "sha256",
	    err, errlen);
}

int
rpl_file(const char *line, struct rpl_file *f, char *err, size_t errlen)
{
	struct split s;
	uint64_t mtime;

	if (split(line, "FILE", 4, &s, err, errlen) == -1)
		return -1;
	if (parse_size(s.cmd.argv[0], &f->size, err, errlen) == -1)
		return -1;
	if (str_to_u64(s.cmd.argv[1], INT64_MAX, &mtime) == -1)
		return str_err(err, errlen, "bad mtime from server");
	f->mtime = (int64_t)mtime;
	f->has_sha = strcmp(s.cmd.argv[2], "-") != 0;
	f->sha256[0] = '\0';
	if (f->has_sha &&
	    parse_hex(s.cmd.argv[2], HASH_SHA256_HEXLEN, f->sha256, "sha256",
		err, errlen) == -1)
		return -1;
	return parse_name(s.cmd.argv[3], f->name, err, errlen);
}

/* SECURITY: a path from the server is printed and may become a local
 * path (get -r), so it must pass the one path check: no control bytes,
 * no "..", no absolute path, bounded length and depth. */
static int
parse_path(const char *s, char *out, char *err, size_t errlen)
{
	char why[FTX_ERRLEN];

	if (path_check(s, why, sizeof(why)) == -1)
		return str_err(
		    err, errlen, "bad file name from server: %s", why);
	return str_copy(out, FTX_RPATH_MAX + 1, s);
}

/* The five fields ENTRY and STAT's OK share, after the verb. */
static int
parse_entry(const char *line, const char *verb, struct rpl_entry *e, int top_ok,
    char *err, size_t errlen)
{
	struct split s;
	uint64_t mtime;

	if (split(line, verb, 5, &s, err, errlen) == -1)
		return -1;
	if (strcmp(s.cmd.argv[0], "f") != 0 && strcmp(s.cmd.argv[0], "d") != 0)
		return str_err(err, errlen, "bad entry type from server");
	e->type = s.cmd.argv[0][0];
	if (parse_size(s.cmd.argv[1], &e->size, err, errlen) == -1)
		return -1;
	if (str_to_u64(s.cmd.argv[2], INT64_MAX, &mtime) == -1)
		return str_err(err, errlen, "bad mtime from server");
	e->mtime = (int64_t)mtime;
	e->has_sha = strcmp(s.cmd.argv[3], "-") != 0;
	e->sha256[0] = '\0';
	if (e->has_sha &&
	    parse_hex(s.cmd.argv[3], HASH_SHA256_HEXLEN, e->sha256, "sha256",
		err, errlen) == -1)
		return -1;
	/* STAT . answers for the top of the area, a directory. */
	if (top_ok && e->type == 'd' && strcmp(s.cmd.argv[4], ".") == 0)
		return str_copy(e->path, sizeof(e->path), ".");
	return parse_path(s.cmd.argv[4], e->path, err, errlen);
}

int
rpl_entry(const char *line, struct rpl_entry *e, char *err, size_t errlen)
{
	return parse_entry(line, "ENTRY", e, 0, err, errlen);
}

int
rpl_stat(const char *line, struct rpl_entry *e, char *err, size_t errlen)
{
	return parse_entry(line, "OK", e, 1, err, errlen);
}

int
rpl_done_count(const char *line, uint64_t *n, char *err, size_t errlen)
{
	struct split s;

	if (split(line, "DONE", 1, &s, err, errlen) == -1)
		return -1;
	if (str_to_u64(s.cmd.argv[0], UINT64_MAX, n) == -1)
		return str_err(err, errlen, "bad entry count from server");
	return 0;
}

int
rpl_hash(const char *line, struct rpl_hash *h, char *err, size_t errlen)
{
	struct split s;

	if (split(line, "OK", 4, &s, err, errlen) == -1)
		return -1;
	if (parse_size(s.cmd.argv[0], &h->size, err, errlen) == -1 ||
	    parse_hex(s.cmd.argv[1], HASH_SHA256_HEXLEN, h->sha256, "sha256",
		err, errlen) == -1)
		return -1;
	h->has_md5 = strcmp(s.cmd.argv[2], "-") != 0;
	h->md5[0] = '\0';
	if (h->has_md5 &&
	    parse_hex(s.cmd.argv[2], RPL_MD5_HEXLEN, h->md5, "md5", err,
		errlen) == -1)
		return -1;
	return parse_path(s.cmd.argv[3], h->name, err, errlen);
}

/* A STATS key: 1..RPL_STAT_KEY_MAX of [a-z0-9_]. */
static int
stat_key_ok(const char *k, size_t n)
{
	size_t i;

	if (n == 0 || n > RPL_STAT_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
			(k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return 0;
	return 1;
}

/*
 * "OK k=v k=v ...".  Split here rather than with proto_split, which
 * stops at FTX_MAX_ARGS arguments: a STATS reply has more fields, and
 * its keys and values never need percent-encoding.
 */
int
rpl_stats(const char *line, struct rpl_stats *st, char *err, size_t errlen)
{
	char buf[FTX_LINE_MAX + 1], *p, *tok, *eq;
	size_t n;

	st->n = 0;
	if (str_copy(buf, sizeof(buf), line) == -1)
		return str_err(err, errlen, "reply line too long");
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	if (strncmp(buf, "OK", 2) != 0 || (buf[2] != ' ' && buf[2] != '\0'))
		return str_err(
		    err, errlen, "unexpected reply from server (expected OK)");
	for (p = buf + 2; *p != '\0';) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		tok = p;
		while (*p != ' ' && *p != '\0')
			p++;
		if (*p == ' ')
			*p++ = '\0';
		eq = strchr(tok, '=');
		if (eq == NULL || !stat_key_ok(tok, (size_t)(eq - tok)))
			return str_err(err, errlen, "malformed STATS field");
		if (st->n == FTX_STATS_MAX_FIELDS)
			return str_err(err, errlen, "too many STATS fields");
		memcpy(st->v[st->n].key, tok, (size_t)(eq - tok));
		st->v[st->n].key[eq - tok] = '\0';
		if (str_to_u64(eq + 1, UINT64_MAX, &st->v[st->n].val) == -1)
			return str_err(err, errlen, "bad STATS value for %s",
			    st->v[st->n].key);
		st->n++;
	}
	return 0;
}

int
rpl_stats_get(const struct rpl_stats *st, const char *key, uint64_t *val)
{
	size_t i;

	for (i = 0; i < st->n; i++) {
		if (strcmp(st->v[i].key, key) == 0) {
			*val = st->v[i].val;
			return 0;
		}
	}
	return -1;
}

int
rpl_count(const char *line, uint64_t max, uint64_t *n, char *err, size_t errlen)
{
	struct split s;

	if (split(line, "OK", 1, &s, err, errlen) == -1)
		return -1;
	if (str_to_u64(s.cmd.argv[0], max, n) == -1)
		return str_err(err, errlen, "bad entry count from server");
	return 0;
}

int
rpl_done_sha(const char *line, char *sha256, char *err, size_t errlen)
{
	struct split s;

	if (split(line, "DONE", 1, &s, err, errlen) == -1)
		return -1;
	return parse_hex(
	    s.cmd.argv[0], HASH_SHA256_HEXLEN, sha256, "sha256", err, errlen);
}

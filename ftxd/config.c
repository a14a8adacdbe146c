/*
 * config.c - the option table, the command line and the configuration
 * file.  See config.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "str.h"

#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)

/* getopt_long values: option i is OPT_BASE + i, its "--no-" spelling
 * NEG_BASE + i; the three command-line-only options come after. */
#define OPT_BASE 1000
#define NEG_BASE 3000
enum { META_CONFIG = 5000, META_HELP, META_VERSION, META_GENCERT };

/*
 * THE option table.  Order is the order of --help.  `reload` marks what
 * SIGHUP changes in a running server (limits and log settings); the
 * rest (addresses, ports, root, workers, process options) needs a
 * restart, because sockets and threads already exist.
 */
static const struct cfg_opt opts[] = {
    {"root", CFG_PATH, FIELD(root), 0, 0, 0, 0, NULL, "DIR",
	"storage root, created if missing", NULL},
    {"store", CFG_STR, FIELD(store), 0, 0, 1, 0, NULL, "s3://BUCKET[/PREFIX]",
	"keep the files in S3-compatible object storage (--root then keeps "
	"only local state)",
	NULL},
    {"s3-endpoint", CFG_STR, FIELD(s3_endpoint), 0, 0, 1, 0, NULL, "URL",
	"the object store, e.g. http://127.0.0.1:7480 (default: AWS S3 in "
	"--s3-region)",
	NULL},
    {"s3-region", CFG_STR, FIELD(s3_region), 0, 0, 0, 0, NULL, "REGION",
	"the object store's region, for signing", NULL},
    {"s3-credentials", CFG_PATH, FIELD(s3_credentials), 0, 0, 1, 0, NULL,
	"FILE",
	"the store's access key and secret, AWS credentials-file lines, mode "
	"0600 (default: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
	NULL},
    {"bind", CFG_STR, FIELD(bind), 0, 0, 0, 0, NULL, "ADDR",
	"address to listen on, IPv4 or IPv6", NULL},
    {"port", CFG_INT, FIELD(port), 0, 65535, 0, 0, NULL, "N",
	"control port; 0 picks a free one", NULL},
    {"data-port", CFG_PORTS, FIELD(data_ports), 0, 65535, 0, 0, NULL, "N[-M]",
	"data port, or a range N-M to listen on all of them", NULL},
    {"public-host", CFG_HOST, FIELD(public_host), 0, 0, 1, 1, NULL, "HOST",
	"advertise HOST for data connections (behind NAT); clients use it only "
	"if asked",
	NULL},
    {"public-data-port", CFG_INT, FIELD(public_data_port), 0, 65535, 0, 1, NULL,
	"N",
	"announce data port N in replies instead of the bound one (a "
	"balancer's port for this node); 0 = the bound port",
	NULL},
    {"proxy-from", CFG_NETS, FIELD(proxy_from), 0, 0, 1, 1, NULL,
	"ADDR[/BITS][,...]",
	"balancers trusted to send a PROXY v2 header (required from them, "
	"refused from anyone else)",
	NULL},
    {"workers", CFG_INT, FIELD(workers), 1, FTX_MAX_WORKERS, 0, 0, NULL, "N",
	"most worker threads", NULL},
    {"max-clients", CFG_INT, FIELD(max_clients), 1, FTX_MAX_CONN_LIMIT, 0, 1,
	NULL, "N", "most control connections", NULL},
    {"max-per-ip", CFG_INT, FIELD(max_per_ip), 1, FTX_MAX_CONN_LIMIT, 0, 1,
	NULL, "N", "most control connections per IP", NULL},
    {"chunk-size", CFG_INT, FIELD(chunk), FTX_MIN_CHUNK, FTX_MAX_CHUNK, 0, 0,
	NULL, "N", "I/O chunk in bytes", NULL},
    {"idle-timeout", CFG_INT, FIELD(idle_timeout), 1, FTX_MAX_TIMEOUT_S, 0, 1,
	NULL, "S", "close idle sessions after S s", NULL},
    {"send-timeout", CFG_INT, FIELD(send_timeout), 1, FTX_MAX_TIMEOUT_S, 0, 1,
	NULL, "S", "close sessions that read none of their replies for S s",
	NULL},
    {"data-timeout", CFG_INT, FIELD(data_timeout), 1, FTX_MAX_TIMEOUT_S, 0, 1,
	NULL, "S", "fail stalled transfers after S s", NULL},
    {"token-ttl", CFG_INT, FIELD(token_ttl), 1, FTX_MAX_TIMEOUT_S, 0, 1, NULL,
	"S", "data token lifetime in s", NULL},
    {"partial-ttl", CFG_INT, FIELD(partial_ttl), 1, FTX_MAX_PARTIAL_TTL_S, 0, 1,
	NULL, "S", "delete interrupted uploads after S s without progress",
	NULL},
    {"log", CFG_PATH, FIELD(log), 0, 0, 1, 1, NULL, "FILE",
	"append the log to FILE (default stderr)", NULL},
    {"log-format", CFG_FORMAT, FIELD(log_format), 0, 0, 0, 1, NULL, "text|json",
	"log lines as text or one JSON object each", NULL},
    {"xferlog", CFG_PATH, FIELD(xferlog), 0, 0, 1, 1, NULL, "FILE",
	"one xferlog(5) line per finished transfer", NULL},
    {"chat-rate", CFG_INT, FIELD(chat_rate), 0, FTX_CHAT_RATE_MAX, 0, 1, NULL,
	"N",
	"chat actions (SAY, MSG, JOIN, LEAVE) per session per 10 s; 0 = no "
	"limit",
	NULL},
    {"log-chat", CFG_BOOL, FIELD(log_chat), 0, 0, 0, 1, NULL, NULL,
	"log chat message bodies (default: sizes only)", NULL},
    {"chat-redis", CFG_STR, FIELD(chat_redis), 0, 0, 1, 0, NULL,
	"redis://HOST[:PORT][/DB]",
	"one chat room across every node on this Redis", NULL},
    {"node-id", CFG_STR, FIELD(node_id), 0, 0, 1, 0, NULL, "ID",
	"this node's name on the chat bus (default: random)", NULL},
    {"udp-echo", CFG_BOOL, FIELD(udp_echo), 0, 0, 0, 0, "no-udp-echo", NULL,
	"answer UDP echo on the control port (default)",
	"do not answer UDP echo"},
    {"udp-rate", CFG_INT, FIELD(udp_rate), 1, FTX_UDP_RATE_MAX, 0, 1, NULL, "N",
	"UDP echo replies per second per source", NULL},
    {"daemon", CFG_BOOL, FIELD(daemon), 0, 0, 0, 0, NULL, NULL,
	"detach into the background", NULL},
    {"pidfile", CFG_PATH, FIELD(pidfile), 0, 0, 1, 0, NULL, "FILE",
	"write the pid to FILE; refuse to start if it is alive", NULL},
    {"tls-cert", CFG_PATH, FIELD(tls_cert), 0, 0, 1, 0, NULL, "FILE",
	"TLS certificate (PEM, chain allowed); enables STARTTLS", NULL},
    {"tls-key", CFG_PATH, FIELD(tls_key), 0, 0, 1, 0, NULL, "FILE",
	"TLS private key (PEM) for --tls-cert", NULL},
    {"require-tls", CFG_BOOL, FIELD(require_tls), 0, 0, 0, 1, NULL, NULL,
	"refuse every command but STARTTLS and QUIT until TLS is up", NULL},
    {"users", CFG_PATH, FIELD(users), 0, 0, 1, 0, NULL, "FILE",
	"accounts file (default ROOT/../ftxd.users); if it exists, every "
	"session must log in and sees only ROOT/USER",
	NULL},
    {"anonymous", CFG_ANON, FIELD(anonymous), 0, 0, 0, 1, NULL,
	"off|read-only|read-write",
	"with accounts, let LOGIN anonymous use the shared area "
	"ROOT/anonymous",
	NULL},
    {"allow-plaintext-login", CFG_BOOL, FIELD(allow_plaintext_login), 0, 0, 0,
	1, NULL, NULL, "accept passwords on a session without TLS", NULL},
    {"chat-nick-is-user", CFG_BOOL, FIELD(chat_nick_is_user), 0, 0, 0, 1, NULL,
	NULL, "a logged-in user's chat nick must be the user name", NULL},
    {"login-max-fails", CFG_INT, FIELD(login_max_fails), 1, 1000, 0, 1, NULL,
	"N", "failed logins from one IP within --login-window that lock it out",
	NULL},
    {"login-window", CFG_INT, FIELD(login_window), 1, FTX_MAX_TIMEOUT_S, 0, 1,
	NULL, "S", "seconds over which failed logins are counted", NULL},
    {"login-lockout", CFG_INT, FIELD(login_lockout), 1, FTX_MAX_TIMEOUT_S, 0, 1,
	NULL, "S", "seconds a locked-out IP is refused", NULL},
    {"login-account-max-fails", CFG_INT, FIELD(login_account_max_fails), 0,
	100000, 0, 1, NULL, "N",
	"failed logins for one account, from any IP, within --login-window "
	"that lock its password logins for --login-lockout, except from IPs "
	"that logged in to it before; 0 = off",
	NULL},
    {"min-free", CFG_SIZE, FIELD(min_free), 0, 0, 0, 1, NULL, "SIZE",
	"refuse uploads that would leave less free disk space (e.g. 1G)", NULL},
    {"max-rate", CFG_SIZE, FIELD(max_rate), 0, 0, 0, 1, NULL, "SIZE",
	"bytes per second per transfer, e.g. 10M; 0 = no limit", NULL},
    {"min-rate", CFG_SIZE, FIELD(min_rate), 0, 0, 0, 1, NULL, "SIZE",
	"end a transfer slower than SIZE bytes/s over --min-rate-window with "
	"ERROR TIMEOUT; 0 = off",
	NULL},
    {"min-rate-window", CFG_INT, FIELD(min_rate_window), 1,
	FTX_MIN_RATE_WINDOW_MAX, 0, 1, NULL, "S",
	"seconds --min-rate is averaged over", NULL},
    {"max-transfers", CFG_INT, FIELD(max_transfers), 1, FTX_MAX_TRANSFERS_LIMIT,
	0, 0, NULL, "N",
	"most transfers at once (each has a thread); more get ERROR BUSY",
	NULL},
    {"max-transfers-per-ip", CFG_INT, FIELD(max_transfers_per_ip), 1,
	FTX_MAX_TRANSFERS_LIMIT, 0, 1, NULL, "N",
	"most transfers at once from one IP address", NULL},
    {"max-transfers-per-user", CFG_INT, FIELD(max_transfers_per_user), 1,
	FTX_MAX_TRANSFERS_LIMIT, 0, 1, NULL, "N",
	"most transfers at once of one account", NULL},
    {"max-partials", CFG_INT, FIELD(max_partials), 1, FTX_MAX_PARTIALS_LIMIT, 0,
	1, NULL, "N",
	"interrupted uploads kept per uploader; the oldest goes first", NULL},
    {"user", CFG_STR, FIELD(run_user), 0, 0, 1, 0, NULL, "NAME",
	"started as root: bind the ports, then run as NAME", NULL},
    {"allow-root", CFG_BOOL, FIELD(allow_root), 0, 0, 0, 0, NULL, NULL,
	"serve as root without --user (not recommended)", NULL},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

const struct cfg_opt *
cfg_options(size_t *n)
{
	*n = NOPTS;
	return opts;
}

const struct cfg_opt *
cfg_find(const char *name)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

void
cfg_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	(void)str_copy(c->root, sizeof(c->root), FTX_DEFAULT_ROOT);
	(void)str_copy(c->bind, sizeof(c->bind), FTX_DEFAULT_BIND);
	(void)str_copy(c->s3_region, sizeof(c->s3_region), "us-east-1");
	c->log_format = CFG_LOG_TEXT;
	c->port = FTX_DEFAULT_PORT;
	c->data_ports.first = c->data_ports.last = FTX_DEFAULT_DATA_PORT;
	c->workers = FTX_DEFAULT_WORKERS;
	c->max_clients = FTX_DEFAULT_MAX_CLIENTS;
	c->max_per_ip = FTX_DEFAULT_MAX_PER_IP;
	c->chunk = FTX_DEFAULT_CHUNK;
	c->idle_timeout = FTX_DEFAULT_IDLE_TIMEOUT_S;
	c->send_timeout = FTX_DEFAULT_SEND_TIMEOUT_S;
	c->data_timeout = FTX_DEFAULT_DATA_TIMEOUT_S;
	c->token_ttl = FTX_TOKEN_TTL_S;
	c->partial_ttl = FTX_DEFAULT_PARTIAL_TTL_S;
	c->chat_rate = FTX_CHAT_RATE_DEFAULT;
	c->udp_echo = 1;
	c->udp_rate = FTX_UDP_RATE_DEFAULT;
	c->login_max_fails = FTX_LOGIN_MAX_FAILS;
	c->login_window = FTX_LOGIN_WINDOW_S;
	c->login_lockout = FTX_LOGIN_LOCKOUT_S;
	c->min_rate = FTX_DEFAULT_MIN_RATE;
	c->min_rate_window = FTX_DEFAULT_MIN_RATE_WINDOW_S;
	c->max_transfers = FTX_DEFAULT_MAX_TRANSFERS;
	c->max_transfers_per_ip = FTX_DEFAULT_MAX_TRANSFERS_PER_IP;
	c->max_transfers_per_user = FTX_DEFAULT_MAX_TRANSFERS_PER_USER;
	c->max_partials = FTX_DEFAULT_MAX_PARTIALS;
	c->login_account_max_fails = FTX_LOGIN_ACCOUNT_MAX_FAILS;
}

const char *
cfg_log_format_name(int f)
{
	return f == CFG_LOG_JSON ? "json" : "text";
}

/* --- setters: the one validation for file and command line ----------- */

/* A value quoted in a message: at most 64 bytes of it. */
static const char *
shown(const char *val, char *buf, size_t n)
{
	if (str_copy(buf, n, val) == -1 && n > 4)
		memcpy(buf + n - 4, "...", 4);
	return buf;
}

static int
set_int(int *dst, const struct cfg_opt *o, const char *val, char *err,
    size_t errlen)
{
	char b[68];
	uint64_t v;

	if (str_to_u64(val, (uint64_t)o->max, &v) == -1 || v < (uint64_t)o->min)
		return str_err(err, errlen,
		    "expected a number from %lld to %lld, got '%s'", o->min,
		    o->max, shown(val, b, sizeof(b)));
	*dst = (int)v;
	return 0;
}

static int
set_bool(int *dst, const char *val, char *err, size_t errlen)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	char b[68];
	size_t i;

	if (val == NULL) {
		*dst = 1; /* a flag on the command line */
		return 0;
	}
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(val, yes[i]) == 0) {
			*dst = 1;
			return 0;
		}
		if (strcasecmp(val, no[i]) == 0) {
			*dst = 0;
			return 0;
		}
	}
	return str_err(err, errlen, "expected yes or no, got '%s'",
	    shown(val, b, sizeof(b)));
}

/* One port number of a range: 1..65535 (0 only alone, see set_ports). */
static int
port_num(const char *s, size_t n, int *out)
{
	char b[8];
	uint64_t v;

	if (n == 0 || n >= sizeof(b))
		return -1;
	memcpy(b, s, n);
	b[n] = '\0';
	if (str_to_u64(b, 65535, &v) == -1)
		return -1;
	*out = (int)v;
	return 0;
}

static int
set_ports(struct cfg_ports *dst, const char *val, char *err, size_t errlen)
{
	const char *dash = strchr(val, '-');
	struct cfg_ports p;
	char b[68];

	if (dash == NULL) {
		if (port_num(val, strlen(val), &p.first) == -1)
			goto bad;
		p.last = p.first;
	} else {
		if (port_num(val, (size_t)(dash - val), &p.first) == -1 ||
		    port_num(dash + 1, strlen(dash + 1), &p.last) == -1)
			goto bad;
		/* 0 means "any free port", which cannot be a range end. */
		if (p.first == 0 || p.last < p.first)
			goto bad;
		if (p.last - p.first + 1 > FTX_DATA_PORTS_MAX)
			return str_err(err, errlen,
			    "range '%s' has more than %d ports",
			    shown(val, b, sizeof(b)), FTX_DATA_PORTS_MAX);
	}
	*dst = p;
	return 0;
bad:
	return str_err(err, errlen,
	    "expected a port (0 to 65535) or a range N-M (1 <= N <= M), "
	    "got '%s'",
	    shown(val, b, sizeof(b)));
}

static int
is_host_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == ':' ||
	    ch == '_';
}

static int
set_str(char *dst, const struct cfg_opt *o, const char *val, char *err,
    size_t errlen)
{
	char b[68];
	size_t i, n = strlen(val);

	if (n == 0 && !o->empty_ok)
		return str_err(err, errlen, "must not be empty");
	if (n >= o->size)
		return str_err(
		    err, errlen, "longer than %zu bytes", o->size - 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)val[i];

		/* SECURITY: a public host goes into protocol replies, so it
		 * is restricted to what host names and IP literals use. */
		if (o->kind == CFG_HOST && !is_host_char(ch))
			return str_err(err, errlen,
			    "'%s' is not a host name or IP address",
			    shown(val, b, sizeof(b)));
		/* Control characters would forge log lines. */
		if (ch < 0x20 || ch == 0x7f)
			return str_err(
			    err, errlen, "control character in value");
		if (o->kind == CFG_STR && ch == ' ')
			return str_err(err, errlen, "space in value");
	}
	/* Zero the whole field: SIGHUP compares fields with memcmp. */
	memset(dst, 0, o->size);
	memcpy(dst, val, n + 1);
	return 0;
}

static int
set_format(int *dst, const char *val, char *err, size_t errlen)
{
	char b[68];

	if (strcmp(val, "text") == 0)
		*dst = CFG_LOG_TEXT;
	else if (strcmp(val, "json") == 0)
		*dst = CFG_LOG_JSON;
	else
		return str_err(err, errlen, "expected text or json, got '%s'",
		    shown(val, b, sizeof(b)));
	return 0;
}

static int
set_size(uint64_t *dst, const char *val, char *err, size_t errlen)
{
	char b[68];

	if (str_to_size(val, FTX_SIZE_ARG_MAX, dst) == -1)
		return str_err(err, errlen,
		    "expected a size such as 512K, 10M or 1G, got '%s'",
		    shown(val, b, sizeof(b)));
	return 0;
}

static int
set_anon(int *dst, const char *val, char *err, size_t errlen)
{
	char b[68];

	if (strcmp(val, "off") == 0 || strcmp(val, "no") == 0)
		*dst = CFG_ANON_OFF;
	else if (strcmp(val, "read-only") == 0)
		*dst = CFG_ANON_RO;
	else if (strcmp(val, "read-write") == 0)
		*dst = CFG_ANON_RW;
	else
		return str_err(err, errlen,
		    "expected off, read-only or read-write, got '%s'",
		    shown(val, b, sizeof(b)));
	return 0;
}

const char *
cfg_anon_name(int a)
{
	return a == CFG_ANON_RO ? "read-only"
	    : a == CFG_ANON_RW	? "read-write"
				: "off";
}

int
cfg_set(struct config *c, const struct cfg_opt *o, const char *val, char *err,
    size_t errlen)
{
	void *field = (char *)c + o->off;

	if (val == NULL && o->kind != CFG_BOOL)
		return str_err(err, errlen, "needs a value");
	switch (o->kind) {
	case CFG_INT:
		return set_int(field, o, val, err, errlen);
	case CFG_BOOL:
		return set_bool(field, val, err, errlen);
	case CFG_PORTS:
		return set_ports(field, val, err, errlen);
	case CFG_FORMAT:
		return set_format(field, val, err, errlen);
	case CFG_SIZE:
		return set_size(field, val, err, errlen);
	case CFG_ANON:
		return set_anon(field, val, err, errlen);
	case CFG_NETS:
		return cidr_parse_list(field, val, err, errlen);
	case CFG_STR:
	case CFG_HOST:
	case CFG_PATH:
		return set_str(field, o, val, err, errlen);
	}
	return str_err(err, errlen, "internal error: bad option kind");
}

/* --- the INI parser ---------------------------------------------------- */

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Trim blanks at both ends of [s, s+n) in place; the new start. */
static char *
trim(char *s)
{
	size_t n;

	while (is_blank(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* One line (without its LF); 0 or -1 with the reason (no prefix). */
static int
parse_line(char *line, cfg_cb *cb, void *arg, char *err, size_t errlen)
{
	char *p, *eq, *key, *val;
	size_t n;

	for (p = line; *p != '\0'; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t' && *p != '\r') ||
		    *p == 0x7f)
			return str_err(
			    err, errlen, "control character in line");
	p = trim(line);
	if (*p == '\0' || *p == '#' || *p == ';')
		return 0;
	if (*p == '[') {
		n = strlen(p);
		if (n < 2 || p[n - 1] != ']')
			return str_err(
			    err, errlen, "unterminated section header");
		p[n - 1] = '\0';
		p = trim(p + 1);
		if (strcmp(p, "ftxd") != 0)
			return str_err(err, errlen,
			    "unknown section '[%.64s]' (only [ftxd] is "
			    "allowed)",
			    p);
		return 0;
	}
	if ((eq = strchr(p, '=')) == NULL)
		return str_err(err, errlen, "expected 'key = value'");
	*eq = '\0';
	key = trim(p);
	val = trim(eq + 1);
	if (*key == '\0')
		return str_err(err, errlen, "missing key before '='");
	/* One pair of double quotes keeps spaces at a value's ends. */
	n = strlen(val);
	if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
		val[n - 1] = '\0';
		val++;
	}
	return cb(arg, key, val, err, errlen);
}

int
cfg_parse_stream(
    FILE *f, const char *fname, cfg_cb *cb, void *arg, char *err, size_t errlen)
{
	char line[FTX_CONFIG_LINE_MAX] = "", why[CFG_ERRLEN];
	size_t len;
	int ch, lineno = 0, toolong;

	for (;;) {
		len = 0;
		toolong = 0;
		lineno++;
		while ((ch = getc(f)) != EOF && ch != '\n') {
			if (ch == '\0')
				return str_err(err, errlen, "%s:%d: NUL byte",
				    fname, lineno);
			/* The LF counts towards the limit, like on the
			 * wire. */
			if (len < sizeof(line) - 1)
				line[len++] = (char)ch;
			else
				toolong = 1;
		}
		if (ferror(f))
			return str_err(err, errlen, "%s:%d: read error: %s",
			    fname, lineno, strerror(errno));
		if (ch == EOF && len == 0)
			return 0;
		/* SECURITY: a line is bounded; no guessing at what a
		 * truncated value would have meant. */
		if (toolong)
			return str_err(err, errlen,
			    "%s:%d: line longer than %d bytes", fname, lineno,
			    FTX_CONFIG_LINE_MAX - 1);
		line[len] = '\0';
		if (parse_line(line, cb, arg, why, sizeof(why)) == -1)
			return str_err(
			    err, errlen, "%s:%d: %s", fname, lineno, why);
		if (ch == EOF)
			return 0;
	}
}

int
cfg_parse_string(const char *text, const char *fname, cfg_cb *cb, void *arg,
    char *err, size_t errlen)
{
	FILE *f;
	int rc;

	if (text[0] == '\0')
		return 0;
	/* The cast is safe: the stream is opened read-only. */
	if ((f = fmemopen((char *)text, strlen(text), "r")) == NULL)
		return str_err(err, errlen, "%s: %s", fname, strerror(errno));
	rc = cfg_parse_stream(f, fname, cb, arg, err, errlen);
	fclose(f);
	return rc;
}

/* The callback that applies a file's settings through the table. */
static int
apply_key(void *arg, const char *key, const char *val, char *err, size_t errlen)
{
	const struct cfg_opt *o = cfg_find(key);
	char why[FTX_ERRLEN];

	if (o == NULL)
		return str_err(err, errlen, "unknown key '%.64s'", key);
	if (cfg_set(arg, o, val, why, sizeof(why)) == -1)
		return str_err(
		    err, errlen, "bad value for '%s': %s", o->name, why);
	return 0;
}

int
cfg_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f;
	int rc;

	if ((f = fopen(path, "re")) == NULL)
		return str_err(err, errlen, "cannot open config file %s: %s",
		    path, strerror(errno));
	rc = cfg_parse_stream(f, path, apply_key, c, err, errlen);
	fclose(f);
	return rc;
}

/* --- the command line ---------------------------------------------------- */

int
cfg_cli_parse(
    struct cfg_cli *cli, int argc, char **argv, char *err, size_t errlen)
{
	struct option *lo;
	size_t i, k = 0;
	int ch, rc = -1;

	memset(cli, 0, sizeof(*cli));
	/* Each option takes at least one argument, so argc bounds both. */
	lo = calloc(2 * NOPTS + 5, sizeof(*lo));
	cli->args = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*cli->args));
	if (lo == NULL || cli->args == NULL) {
		str_err(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < NOPTS; i++) {
		lo[k].name = opts[i].name;
		/* Flags may be given a value ("--log-chat=no") so that the
		 * command line can turn off what the file turned on. */
		lo[k].has_arg = opts[i].kind == CFG_BOOL ? optional_argument
							 : required_argument;
		lo[k++].val = OPT_BASE + (int)i;
		if (opts[i].neg != NULL) {
			lo[k].name = opts[i].neg;
			lo[k].has_arg = no_argument;
			lo[k++].val = NEG_BASE + (int)i;
		}
	}
	lo[k++] =
	    (struct option){"config", required_argument, NULL, META_CONFIG};
	lo[k++] = (struct option){"help", no_argument, NULL, META_HELP};
	lo[k++] = (struct option){"version", no_argument, NULL, META_VERSION};
	lo[k++] =
	    (struct option){"gen-cert", required_argument, NULL, META_GENCERT};
	optind = 0; /* GNU: start over (unit tests parse repeatedly) */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		if (ch == META_CONFIG) {
			cli->config = optarg;
		} else if (ch == META_HELP) {
			cli->help = 1;
		} else if (ch == META_VERSION) {
			cli->version = 1;
		} else if (ch == META_GENCERT) {
			cli->gen_cert = optarg;
		} else if (ch >= OPT_BASE && ch < OPT_BASE + (int)NOPTS) {
			cli->args[cli->n].opt = &opts[ch - OPT_BASE];
			cli->args[cli->n++].val = optarg;
		} else if (ch >= NEG_BASE && ch < NEG_BASE + (int)NOPTS) {
			cli->args[cli->n].opt = &opts[ch - NEG_BASE];
			cli->args[cli->n++].neg = 1;
		} else if (ch == ':') {
			str_err(err, errlen, "option '%s' needs a value",
			    argv[optind - 1]);
			goto out;
		} else {
			str_err(err, errlen, "unknown or ambiguous option '%s'",
			    argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc) {
		str_err(err, errlen, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	rc = 0;
out:
	free(lo);
	if (rc == -1)
		cfg_cli_free(cli);
	return rc;
}

void
cfg_cli_free(struct cfg_cli *cli)
{
	free(cli->args);
	cli->args = NULL;
	cli->n = 0;
}

const char *
cfg_default_path(const struct cfg_cli *cli)
{
	const char *p = getenv("FTXD_CONFIG");

	if (cli->config != NULL)
		return cli->config;
	if (p == NULL)
		p = FTX_DEFAULT_CONFIG;
	if (p[0] == '\0' || access(p, F_OK) == -1)
		return NULL;
	return p;
}

int
cfg_build(struct config *c, const struct cfg_cli *cli, const char *path,
    char *err, size_t errlen)
{
	char why[FTX_ERRLEN];
	size_t i;
	int rc;

	cfg_defaults(c);
	if (path != NULL && cfg_load_file(c, path, err, errlen) == -1)
		return -1;
	for (i = 0; i < cli->n; i++) {
		const struct cfg_arg *a = &cli->args[i];

		if (a->neg)
			rc = cfg_set(c, a->opt, "no", why, sizeof(why));
		else
			rc = cfg_set(c, a->opt, a->val, why, sizeof(why));
		if (rc == -1)
			return str_err(
			    err, errlen, "--%s: %s", a->opt->name, why);
	}
	/* A transfer throttled below the minimum would always be cut. */
	if (c->max_rate > 0 && c->min_rate > c->max_rate)
		return str_err(err, errlen,
		    "--min-rate %" PRIu64 " is above --max-rate %" PRIu64,
		    c->min_rate, c->max_rate);
	if (c->store[0] != '\0' && strncmp(c->store, "s3://", 5) != 0)
		return str_err(err, errlen,
		    "--store %s: only s3://BUCKET[/PREFIX] is known (a "
		    "directory is --root)",
		    c->store);
	/* SECURITY: an endpoint is http or https and nothing else
	 * libcurl could speak (the client also refuses other schemes). */
	if (c->s3_endpoint[0] != '\0' &&
	    strncmp(c->s3_endpoint, "http://", 7) != 0 &&
	    strncmp(c->s3_endpoint, "https://", 8) != 0)
		return str_err(err, errlen,
		    "--s3-endpoint %s: give http://HOST[:PORT] or "
		    "https://HOST[:PORT]",
		    c->s3_endpoint);
	return 0;
}

int
cfg_absolute_paths(struct config *c, const char *base, char *err, size_t errlen)
{
	char abs[FTX_PATH_MAX];
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		char *p = (char *)c + opts[i].off;

		if (opts[i].kind != CFG_PATH || p[0] == '\0' || p[0] == '/')
			continue;
		if (str_fmt(abs, sizeof(abs), "%s/%s", base, p) == -1 ||
		    strlen(abs) >= opts[i].size)
			return str_err(err, errlen,
			    "--%s: path too long once made absolute",
			    opts[i].name);
		memset(p, 0, opts[i].size);
		memcpy(p, abs, strlen(abs));
	}
	return 0;
}

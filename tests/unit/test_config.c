/*
 * test_config.c - ftxd's option table, configuration file parser and
 * command line (ftxd/config.c): every key, comments and whitespace,
 * booleans, precedence, and errors that name the file and the line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "ftx_limits.h"
#include "str.h"

/* A temporary directory per test, for config files. */
struct fx {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	str_copy(f->dir, sizeof(f->dir), "/tmp/ftx-config-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(
	    str_fmt(f->path, sizeof(f->path), "%s/ftxd.conf", f->dir), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	(void)unlink(f->path);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static void
write_file(const char *path, const char *text, size_t n)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/* Load `text` as a config file; returns cfg_load_file's result. */
static int
load(struct fx *f, struct config *c, const char *text, char *err, size_t n)
{
	write_file(f->path, text, strlen(text));
	cfg_defaults(c);
	return cfg_load_file(c, f->path, err, n);
}

/* Load `text`, expect failure with exactly "<path>:<line>: <msg>". */
static void
load_fails(struct fx *f, const char *text, int line, const char *msg)
{
	char err[CFG_ERRLEN], want[CFG_ERRLEN];
	struct config c;

	memset(err, 0, sizeof(err));
	assert_int_equal(load(f, &c, text, err, sizeof(err)), -1);
	assert_int_equal(
	    str_fmt(want, sizeof(want), "%s:%d: %s", f->path, line, msg), 0);
	assert_string_equal(err, want);
}

/* Load `text`, expect failure at `line` with a message starting with
 * `prefix` (for messages that quote long values). */
static void
load_fails_prefix(struct fx *f, const char *text, int line, const char *prefix)
{
	char err[CFG_ERRLEN], want[CFG_ERRLEN];
	struct config c;

	assert_int_equal(load(f, &c, text, err, sizeof(err)), -1);
	assert_int_equal(
	    str_fmt(want, sizeof(want), "%s:%d: %s", f->path, line, prefix), 0);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got '%s', want a message starting '%s'", err, want);
}

/* --- the table and the defaults ---------------------------------------- */

static void
test_defaults(void **state)
{
	struct config c;

	(void)state;
	cfg_defaults(&c);
	assert_string_equal(c.root, FTX_DEFAULT_ROOT);
	assert_string_equal(c.bind, FTX_DEFAULT_BIND);
	assert_string_equal(c.log, "");
	assert_string_equal(c.xferlog, "");
	assert_string_equal(c.pidfile, "");
	assert_string_equal(c.public_host, "");
	assert_int_equal(c.log_format, CFG_LOG_TEXT);
	assert_int_equal(c.port, FTX_DEFAULT_PORT);
	assert_int_equal(c.data_ports.first, FTX_DEFAULT_DATA_PORT);
	assert_int_equal(c.data_ports.last, FTX_DEFAULT_DATA_PORT);
	assert_int_equal(c.workers, FTX_DEFAULT_WORKERS);
	assert_int_equal(c.max_clients, FTX_DEFAULT_MAX_CLIENTS);
	assert_int_equal(c.max_per_ip, FTX_DEFAULT_MAX_PER_IP);
	assert_int_equal(c.chunk, FTX_DEFAULT_CHUNK);
	assert_int_equal(c.idle_timeout, FTX_DEFAULT_IDLE_TIMEOUT_S);
	assert_int_equal(c.data_timeout, FTX_DEFAULT_DATA_TIMEOUT_S);
	assert_int_equal(c.token_ttl, FTX_TOKEN_TTL_S);
	assert_int_equal(c.chat_rate, FTX_CHAT_RATE_DEFAULT);
	assert_int_equal(c.log_chat, 0);
	assert_int_equal(c.udp_echo, 1);
	assert_int_equal(c.udp_rate, FTX_UDP_RATE_DEFAULT);
	assert_int_equal(c.daemon, 0);
}

/* Every key set to a value that is not its default. */
static const char every_key[] = "root = /srv/ftx\n"
				"store = s3://ftx-files/prod\n"
				"s3-endpoint = http://127.0.0.1:7480\n"
				"s3-region = eu-west-1\n"
				"s3-credentials = /etc/ftxd/s3\n"
				"bind = ::1\n"
				"port = 6001\n"
				"data-port = 6002-6010\n"
				"public-host = ftx.example.org\n"
				"public-data-port = 7002\n"
				"proxy-from = 127.0.0.10, 10.1.0.0/16 ,::1\n"
				"workers = 7\n"
				"max-clients = 99\n"
				"max-per-ip = 3\n"
				"chunk-size = 65536\n"
				"idle-timeout = 42\n"
				"send-timeout = 45\n"
				"data-timeout = 43\n"
				"token-ttl = 44\n"
				"partial-ttl = 3600\n"
				"log = /var/log/ftxd/ftxd.log\n"
				"log-format = json\n"
				"xferlog = /var/log/ftxd/xferlog\n"
				"chat-rate = 0\n"
				"log-chat = yes\n"
				"chat-redis = redis://127.0.0.1:6380/2\n"
				"node-id = node-a\n"
				"udp-echo = no\n"
				"udp-rate = 5\n"
				"daemon = yes\n"
				"pidfile = /run/ftxd.pid\n"
				"tls-cert = /etc/ftxd/ftxd.crt\n"
				"tls-key = /etc/ftxd/ftxd.key\n"
				"require-tls = yes\n"
				"users = /etc/ftxd/users\n"
				"anonymous = read-only\n"
				"allow-plaintext-login = on\n"
				"chat-nick-is-user = true\n"
				"login-max-fails = 7\n"
				"login-window = 120\n"
				"login-lockout = 60\n"
				"login-account-max-fails = 9\n"
				"min-free = 1G\n"
				"max-rate = 512K\n"
				"min-rate = 2K\n"
				"min-rate-window = 12\n"
				"max-transfers = 33\n"
				"max-transfers-per-ip = 5\n"
				"max-transfers-per-user = 6\n"
				"max-partials = 7\n"
				"user = ftx\n"
				"allow-root = no\n";

static void
test_every_key(void **state)
{
	struct fx *f = *state;
	const struct cfg_opt *o;
	char err[CFG_ERRLEN], key[64];
	struct config c;
	size_t i, n;

	/* A new option must be added to every_key (and so tested). */
	o = cfg_options(&n);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(
		    str_fmt(key, sizeof(key), "\n%s = ", o[i].name), 0);
		if (strncmp(every_key, key + 1, strlen(key + 1)) != 0 &&
		    strstr(every_key, key) == NULL)
			fail_msg("key '%s' is not in every_key", o[i].name);
		assert_ptr_equal(cfg_find(o[i].name), &o[i]);
	}
	assert_null(cfg_find("no-udp-echo"));
	assert_null(cfg_find("config"));
	assert_null(cfg_find("help"));
	assert_null(cfg_find("Port"));

	assert_int_equal(load(f, &c, every_key, err, sizeof(err)), 0);
	assert_string_equal(c.root, "/srv/ftx");
	assert_string_equal(c.store, "s3://ftx-files/prod");
	assert_string_equal(c.s3_endpoint, "http://127.0.0.1:7480");
	assert_string_equal(c.s3_region, "eu-west-1");
	assert_string_equal(c.s3_credentials, "/etc/ftxd/s3");
	assert_string_equal(c.bind, "::1");
	assert_int_equal(c.port, 6001);
	assert_int_equal(c.data_ports.first, 6002);
	assert_int_equal(c.data_ports.last, 6010);
	assert_string_equal(c.public_host, "ftx.example.org");
	assert_int_equal(c.public_data_port, 7002);
	assert_int_equal(c.proxy_from.n, 3);
	assert_int_equal(c.proxy_from.net[1].bits, 96 + 16);
	assert_int_equal(c.workers, 7);
	assert_int_equal(c.max_clients, 99);
	assert_int_equal(c.max_per_ip, 3);
	assert_int_equal(c.chunk, 65536);
	assert_int_equal(c.idle_timeout, 42);
	assert_int_equal(c.send_timeout, 45);
	assert_int_equal(c.data_timeout, 43);
	assert_int_equal(c.token_ttl, 44);
	assert_int_equal(c.partial_ttl, 3600);
	assert_string_equal(c.log, "/var/log/ftxd/ftxd.log");
	assert_int_equal(c.log_format, CFG_LOG_JSON);
	assert_string_equal(c.xferlog, "/var/log/ftxd/xferlog");
	assert_int_equal(c.chat_rate, 0);
	assert_int_equal(c.log_chat, 1);
	assert_string_equal(c.chat_redis, "redis://127.0.0.1:6380/2");
	assert_string_equal(c.node_id, "node-a");
	assert_int_equal(c.udp_echo, 0);
	assert_int_equal(c.udp_rate, 5);
	assert_int_equal(c.daemon, 1);
	assert_string_equal(c.pidfile, "/run/ftxd.pid");
	assert_string_equal(c.tls_cert, "/etc/ftxd/ftxd.crt");
	assert_string_equal(c.tls_key, "/etc/ftxd/ftxd.key");
	assert_int_equal(c.require_tls, 1);
	assert_string_equal(c.users, "/etc/ftxd/users");
	assert_int_equal(c.anonymous, CFG_ANON_RO);
	assert_int_equal(c.allow_plaintext_login, 1);
	assert_int_equal(c.chat_nick_is_user, 1);
	assert_int_equal(c.login_max_fails, 7);
	assert_int_equal(c.login_window, 120);
	assert_int_equal(c.login_lockout, 60);
	assert_int_equal(c.login_account_max_fails, 9);
	assert_true(c.min_free == 1024ULL * 1024 * 1024);
	assert_true(c.max_rate == 512ULL * 1024);
	assert_true(c.min_rate == 2048);
	assert_int_equal(c.min_rate_window, 12);
	assert_int_equal(c.max_transfers, 33);
	assert_int_equal(c.max_transfers_per_ip, 5);
	assert_int_equal(c.max_transfers_per_user, 6);
	assert_int_equal(c.max_partials, 7);
	assert_string_equal(c.run_user, "ftx");
	assert_int_equal(c.allow_root, 0);
}

/* Reloadable: the limits and the log settings; not sockets or threads. */
static void
test_reload_flags(void **state)
{
	static const char *const reload[] = {"public-host", "public-data-port",
	    "proxy-from", "max-clients", "max-per-ip", "idle-timeout",
	    "send-timeout", "data-timeout", "token-ttl", "partial-ttl", "log",
	    "log-format", "xferlog", "chat-rate", "log-chat", "udp-rate",
	    "require-tls", "anonymous", "allow-plaintext-login",
	    "chat-nick-is-user", "login-max-fails", "login-window",
	    "login-lockout", "login-account-max-fails", "min-free", "max-rate",
	    "min-rate", "min-rate-window", "max-transfers-per-ip",
	    "max-transfers-per-user", "max-partials"};
	static const char *const restart[] = {"root", "bind", "port",
	    "data-port", "workers", "chunk-size", "udp-echo", "daemon",
	    "pidfile", "tls-cert", "tls-key", "users", "user", "allow-root",
	    "max-transfers", "chat-redis", "node-id"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(reload) / sizeof(reload[0]); i++) {
		assert_non_null(cfg_find(reload[i]));
		assert_int_equal(cfg_find(reload[i])->reload, 1);
	}
	for (i = 0; i < sizeof(restart) / sizeof(restart[0]); i++) {
		assert_non_null(cfg_find(restart[i]));
		assert_int_equal(cfg_find(restart[i])->reload, 0);
	}
}

/* --- syntax ----------------------------------------------------------------
 */

static void
test_comments_whitespace(void **state)
{
	struct fx *f = *state;
	char err[CFG_ERRLEN];
	struct config c;

	assert_int_equal(load(f, &c,
			     "# a comment\n"
			     "; another = comment\n"
			     "\n"
			     "   \t  \n"
			     "  # indented comment\n"
			     "[ftxd]\n"
			     "  [ ftxd ]  \n"
			     "port=7001\n"
			     "\tmax-per-ip\t=\t9\t\n"
			     "idle-timeout   =   77   \r\n"
			     "root = /srv/with#hash;and;semicolons\n"
			     "log = \"  spaced name  \"\n"
			     "xferlog = /tmp/a=b\n"
			     "token-ttl = 5\n"
			     "token-ttl = 6\n"
			     "udp-rate = 8",
			     err, sizeof(err)),
	    0);
	assert_int_equal(c.port, 7001);
	assert_int_equal(c.max_per_ip, 9);
	assert_int_equal(c.idle_timeout, 77);
	/* No trailing comments: '#' and ';' inside a value are kept. */
	assert_string_equal(c.root, "/srv/with#hash;and;semicolons");
	assert_string_equal(c.log, "  spaced name  ");
	assert_string_equal(c.xferlog, "/tmp/a=b");
	/* The last occurrence of a key wins. */
	assert_int_equal(c.token_ttl, 6);
	/* A last line without LF counts. */
	assert_int_equal(c.udp_rate, 8);
	/* An empty file and a file of comments leave the defaults. */
	assert_int_equal(load(f, &c, "", err, sizeof(err)), 0);
	assert_int_equal(c.port, FTX_DEFAULT_PORT);
	assert_int_equal(
	    load(f, &c, "# only\n\n; comments\n", err, sizeof(err)), 0);
	assert_int_equal(c.port, FTX_DEFAULT_PORT);
	/* Optional strings may be set empty, meaning "off". */
	assert_int_equal(
	    load(f, &c, "log = x\nlog =\nxferlog = \"\"\n", err, sizeof(err)),
	    0);
	assert_string_equal(c.log, "");
	assert_string_equal(c.xferlog, "");
}

static void
test_booleans(void **state)
{
	static const char *const yes[] = {
	    "yes", "true", "on", "1", "YES", "True", "On"};
	static const char *const no[] = {
	    "no", "false", "off", "0", "NO", "False", "oFF"};
	struct fx *f = *state;
	char err[CFG_ERRLEN], text[128];
	struct config c;
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		assert_int_equal(
		    str_fmt(text, sizeof(text),
			"log-chat = %s\nudp-echo = %s\n", yes[i], no[i]),
		    0);
		assert_int_equal(load(f, &c, text, err, sizeof(err)), 0);
		assert_int_equal(c.log_chat, 1);
		assert_int_equal(c.udp_echo, 0);
		assert_int_equal(
		    str_fmt(text, sizeof(text),
			"log-chat = %s\nudp-echo = %s\n", no[i], yes[i]),
		    0);
		assert_int_equal(load(f, &c, text, err, sizeof(err)), 0);
		assert_int_equal(c.log_chat, 0);
		assert_int_equal(c.udp_echo, 1);
	}
	load_fails(f, "daemon = yes\nlog-chat = maybe\n", 2,
	    "bad value for 'log-chat': expected yes or no, got 'maybe'");
	load_fails(f, "log-chat =\n", 1,
	    "bad value for 'log-chat': expected yes or no, got ''");
	load_fails(f, "udp-echo = 2\n", 1,
	    "bad value for 'udp-echo': expected yes or no, got '2'");
}

/* --- errors name the file and the line --------------------------------- */

static void
test_unknown_key(void **state)
{
	struct fx *f = *state;

	load_fails(f, "# ftxd.conf\n\n\n\n\n\n\n\n\n\n\nprot = 5001\n", 12,
	    "unknown key 'prot'");
	load_fails(f, "port = 1\n--port = 2\n", 2, "unknown key '--port'");
	load_fails(f, "no-udp-echo = yes\n", 1, "unknown key 'no-udp-echo'");
	load_fails(f, "config = /etc/other.conf\n", 1, "unknown key 'config'");
	load_fails(f, "max_clients = 5\n", 1, "unknown key 'max_clients'");
	load_fails(f, "Port = 5\n", 1, "unknown key 'Port'");
}

static void
test_syntax_errors(void **state)
{
	struct fx *f = *state;

	load_fails(f, "port 5001\n", 1, "expected 'key = value'");
	load_fails(f, "port = 1\n= 5\n", 2, "missing key before '='");
	load_fails(f, "[ftxd]\n[server]\n", 2,
	    "unknown section '[server]' (only [ftxd] is allowed)");
	load_fails(f, "[ftxd\n", 1, "unterminated section header");
	load_fails(
	    f, "port = 1\nroot = /a\x1b[2Jb\n", 2, "control character in line");
	write_file(((struct fx *)*state)->path, "port = 1\nro\0ot = x\n", 19);
	{
		char err[CFG_ERRLEN], want[CFG_ERRLEN];
		struct config c;

		cfg_defaults(&c);
		assert_int_equal(
		    cfg_load_file(&c, f->path, err, sizeof(err)), -1);
		assert_int_equal(
		    str_fmt(want, sizeof(want), "%s:2: NUL byte", f->path), 0);
		assert_string_equal(err, want);
	}
}

static void
test_bad_values(void **state)
{
	struct fx *f = *state;

	load_fails(f, "port = 65536\n", 1,
	    "bad value for 'port': expected a number from 0 to 65535, got "
	    "'65536'");
	load_fails(f, "\nport = -1\n", 2,
	    "bad value for 'port': expected a number from 0 to 65535, got "
	    "'-1'");
	load_fails(f, "port = 50O1\n", 1,
	    "bad value for 'port': expected a number from 0 to 65535, got "
	    "'50O1'");
	load_fails(f, "port = 05001\n", 1,
	    "bad value for 'port': expected a number from 0 to 65535, got "
	    "'05001'");
	load_fails(f, "port = 1 2\n", 1,
	    "bad value for 'port': expected a number from 0 to 65535, got "
	    "'1 2'");
	load_fails(f, "port =\n", 1,
	    "bad value for 'port': expected a number from 0 to 65535, got ''");
	load_fails(f, "workers = 0\n", 1,
	    "bad value for 'workers': expected a number from 1 to 1024, got "
	    "'0'");
	load_fails(f, "chunk-size = 511\n", 1,
	    "bad value for 'chunk-size': expected a number from 512 to "
	    "1048576, got '511'");
	load_fails(f, "idle-timeout = 86401\n", 1,
	    "bad value for 'idle-timeout': expected a number from 1 to 86400, "
	    "got '86401'");
	load_fails(f, "max-clients = 99999999999999999999999\n", 1,
	    "bad value for 'max-clients': expected a number from 1 to "
	    "1000000, got '99999999999999999999999'");
	load_fails(f, "anonymous = yes\n", 1,
	    "bad value for 'anonymous': expected off, read-only or read-write, "
	    "got 'yes'");
	load_fails(f, "min-free = 1X\n", 1,
	    "bad value for 'min-free': expected a size such as 512K, 10M or "
	    "1G, "
	    "got '1X'");
	load_fails(f, "max-rate = -1\n", 1,
	    "bad value for 'max-rate': expected a size such as 512K, 10M or "
	    "1G, "
	    "got '-1'");
	load_fails(f, "max-rate = 99999999999T\n", 1,
	    "bad value for 'max-rate': expected a size such as 512K, 10M or "
	    "1G, "
	    "got '99999999999T'");
	load_fails(f, "login-max-fails = 0\n", 1,
	    "bad value for 'login-max-fails': expected a number from 1 to "
	    "1000, "
	    "got '0'");
	load_fails(f, "min-rate-window = 0\n", 1,
	    "bad value for 'min-rate-window': expected a number from 1 to "
	    "600, got '0'");
	load_fails(f, "min-rate-window = 601\n", 1,
	    "bad value for 'min-rate-window': expected a number from 1 to "
	    "600, got '601'");
	load_fails(f, "max-transfers = 0\n", 1,
	    "bad value for 'max-transfers': expected a number from 1 to "
	    "4096, got '0'");
	load_fails(f, "max-transfers-per-ip = 4097\n", 1,
	    "bad value for 'max-transfers-per-ip': expected a number from 1 "
	    "to 4096, got '4097'");
	load_fails(f, "max-transfers-per-user = -1\n", 1,
	    "bad value for 'max-transfers-per-user': expected a number from "
	    "1 to 4096, got '-1'");
	load_fails(f, "max-partials = 10001\n", 1,
	    "bad value for 'max-partials': expected a number from 1 to "
	    "10000, got '10001'");
	load_fails(f, "min-rate = 1Q\n", 1,
	    "bad value for 'min-rate': expected a size such as 512K, 10M or "
	    "1G, got '1Q'");
	load_fails(
	    f, "user = a b\n", 1, "bad value for 'user': space in value");
	load_fails(f, "log-format = xml\n", 1,
	    "bad value for 'log-format': expected text or json, got 'xml'");
	load_fails(f, "log-format = JSON\n", 1,
	    "bad value for 'log-format': expected text or json, got 'JSON'");
	load_fails(f, "root =\n", 1, "bad value for 'root': must not be empty");
	load_fails(f, "bind = 0.0.0.0 ::\n", 1,
	    "bad value for 'bind': space in value");
	load_fails(f, "public-host = evil.example/x\n", 1,
	    "bad value for 'public-host': 'evil.example/x' is not a host name "
	    "or IP address");
	load_fails(f, "public-host = a%20b\n", 1,
	    "bad value for 'public-host': 'a%20b' is not a host name or IP "
	    "address");
	load_fails(f, "public-data-port = 65536\n", 1,
	    "bad value for 'public-data-port': expected a number from 0 to "
	    "65535, got '65536'");
	load_fails(f, "proxy-from = 127.0.0.300\n", 1,
	    "bad value for 'proxy-from': '127.0.0.300' is not an IPv4 or IPv6 "
	    "address");
	load_fails(f, "proxy-from = 10.0.0.0/33\n", 1,
	    "bad value for 'proxy-from': bad prefix length '/33' (0 to 32)");
	load_fails(f, "proxy-from = 127.0.0.1,,127.0.0.2\n", 1,
	    "bad value for 'proxy-from': empty entry in the list");
	load_fails(f, "proxy-from = balancer.example\n", 1,
	    "bad value for 'proxy-from': 'balancer.example' is not an IPv4 or "
	    "IPv6 address");
	load_fails(f, "log = \"\t\"\n", 1,
	    "bad value for 'log': control character in value");
}

static void
test_port_ranges(void **state)
{
	struct fx *f = *state;
	char err[CFG_ERRLEN];
	struct config c;

	assert_int_equal(load(f, &c, "data-port = 0\n", err, sizeof(err)), 0);
	assert_int_equal(c.data_ports.first, 0);
	assert_int_equal(c.data_ports.last, 0);
	assert_int_equal(
	    load(f, &c, "data-port = 5002-5002\n", err, sizeof(err)), 0);
	assert_int_equal(c.data_ports.first, 5002);
	assert_int_equal(c.data_ports.last, 5002);
	assert_int_equal(
	    load(f, &c, "data-port = 1-1024\n", err, sizeof(err)), 0);
	assert_int_equal(
	    c.data_ports.last - c.data_ports.first + 1, FTX_DATA_PORTS_MAX);
	load_fails(f, "data-port = 1-1025\n", 1,
	    "bad value for 'data-port': range '1-1025' has more than 1024 "
	    "ports");
	load_fails_prefix(f, "data-port = 5010-5002\n", 1,
	    "bad value for 'data-port': expected a port");
	load_fails_prefix(
	    f, "data-port = 0-5\n", 1, "bad value for 'data-port': expected");
	load_fails_prefix(
	    f, "data-port = 5002-\n", 1, "bad value for 'data-port': expected");
	load_fails_prefix(
	    f, "data-port = -5002\n", 1, "bad value for 'data-port': expected");
	load_fails_prefix(f, "data-port = 5002-5003-5004\n", 1,
	    "bad value for 'data-port': expected");
	load_fails_prefix(f, "data-port = 5002-65536\n", 1,
	    "bad value for 'data-port': expected");
	load_fails_prefix(
	    f, "data-port = 5002 -5003\n", 1, "bad value for 'data-port'");
}

static void
test_overlong(void **state)
{
	struct fx *f = *state;
	char err[CFG_ERRLEN], want[64];
	size_t n = FTX_CONFIG_LINE_MAX + 100;
	struct config c;
	char *text = malloc(n + 64);

	assert_non_null(text);
	/* A line of exactly FTX_CONFIG_LINE_MAX bytes with its LF is
	 * fine (as a comment); one byte more is an error. */
	memset(text, '#', FTX_CONFIG_LINE_MAX - 1);
	memcpy(text + FTX_CONFIG_LINE_MAX - 1, "\nport = 1\n", 11);
	assert_int_equal(load(f, &c, text, err, sizeof(err)), 0);
	assert_int_equal(c.port, 1);
	memset(text, '#', FTX_CONFIG_LINE_MAX);
	memcpy(text + FTX_CONFIG_LINE_MAX, "\nport = 1\n", 11);
	assert_int_equal(
	    str_fmt(want, sizeof(want), "line longer than %d bytes",
		FTX_CONFIG_LINE_MAX - 1),
	    0);
	load_fails(f, text, 1, want);
	/* Also far longer, and after good lines. */
	memcpy(text, "port = 2\n", 9);
	memset(text + 9, 'x', n);
	text[9 + n] = '\0';
	load_fails(f, text, 2, want);
	free(text);
}

/* --- files ------------------------------------------------------------------
 */

static void
test_missing_file(void **state)
{
	struct fx *f = *state;
	char err[CFG_ERRLEN], want[CFG_ERRLEN];
	struct config c;

	cfg_defaults(&c);
	assert_int_equal(cfg_load_file(&c, f->path, err, sizeof(err)), -1);
	assert_int_equal(
	    str_fmt(want, sizeof(want), "cannot open config file %s: %s",
		f->path, strerror(ENOENT)),
	    0);
	assert_string_equal(err, want);
	/* A directory is not a config file either. */
	assert_int_equal(cfg_load_file(&c, f->dir, err, sizeof(err)), -1);
}

/* A callback that records what the parser hands it. */
struct rec {
	char seen[512];
	int calls;
	int fail_at; /* fail on this call (1-based), 0 = never */
};

static int
record(void *arg, const char *key, const char *val, char *err, size_t errlen)
{
	struct rec *r = arg;
	size_t n = strlen(r->seen);

	r->calls++;
	if (r->calls == r->fail_at)
		return str_err(err, errlen, "refused %s", key);
	assert_int_equal(
	    str_fmt(r->seen + n, sizeof(r->seen) - n, "[%s|%s]", key, val), 0);
	return 0;
}

static void
test_parse_string_callback(void **state)
{
	char err[CFG_ERRLEN];
	struct rec r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(cfg_parse_string("a=1\n# c\n  b  =  two words  \n"
					  "c =\n[ftxd]\nd = \"q\"\n",
			     "mem", record, &r, err, sizeof(err)),
	    0);
	/* Keys are not looked up here: the callback decides. */
	assert_string_equal(r.seen, "[a|1][b|two words][c|][d|q]");
	assert_int_equal(r.calls, 4);
	/* A callback failure stops the parse and gets file:line. */
	memset(&r, 0, sizeof(r));
	r.fail_at = 2;
	assert_int_equal(cfg_parse_string("a=1\n\nb=2\nc=3\n", "mem", record,
			     &r, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "mem:3: refused b");
	assert_int_equal(r.calls, 2);
	memset(&r, 0, sizeof(r));
	assert_int_equal(
	    cfg_parse_string("", "mem", record, &r, err, sizeof(err)), 0);
	assert_int_equal(r.calls, 0);
}

/* --- the command line and precedence ------------------------------------ */

/* cfg_cli_parse on a NULL-terminated list of arguments. */
static int
cli(struct cfg_cli *out, char *err, size_t n, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = "ftxd";
	va_start(ap, n);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return cfg_cli_parse(out, argc, argv, err, n);
}

static void
test_cli_overrides_file(void **state)
{
	struct fx *f = *state;
	char err[CFG_ERRLEN];
	struct cfg_cli cl;
	struct config c;

	write_file(f->path,
	    "port = 1000\nmax-per-ip = 5\nlog-chat = yes\nudp-echo = no\n"
	    "daemon = yes\nroot = /from/file\n",
	    strlen("port = 1000\nmax-per-ip = 5\nlog-chat = yes\nudp-echo = "
		   "no\ndaemon = yes\nroot = /from/file\n"));
	/* --config last: the command line still wins over the file. */
	assert_int_equal(
	    cli(&cl, err, sizeof(err), "--port", "2000", "--log-chat=no",
		"--udp-echo", "--daemon=off", "--config", f->path, NULL),
	    0);
	assert_string_equal(cl.config, f->path);
	assert_int_equal(cfg_build(&c, &cl, cl.config, err, sizeof(err)), 0);
	assert_int_equal(c.port, 2000);
	assert_int_equal(c.log_chat, 0);
	assert_int_equal(c.udp_echo, 1);
	assert_int_equal(c.daemon, 0);
	/* What the command line does not set comes from the file. */
	assert_int_equal(c.max_per_ip, 5);
	assert_string_equal(c.root, "/from/file");
	cfg_cli_free(&cl);

	/* Repeated options: the last wins; --no-udp-echo after the file. */
	assert_int_equal(
	    cli(&cl, err, sizeof(err), "--config", f->path, "--max-per-ip", "6",
		"--max-per-ip=7", "--no-udp-echo", "--log-chat", NULL),
	    0);
	assert_int_equal(cfg_build(&c, &cl, cl.config, err, sizeof(err)), 0);
	assert_int_equal(c.max_per_ip, 7);
	assert_int_equal(c.udp_echo, 0);
	assert_int_equal(c.log_chat, 1);
	assert_int_equal(c.port, 1000);
	cfg_cli_free(&cl);

	/* Without a file: defaults plus the command line. */
	assert_int_equal(
	    cli(&cl, err, sizeof(err), "--data-port", "5002-5004", NULL), 0);
	assert_null(cl.config);
	assert_int_equal(cfg_build(&c, &cl, NULL, err, sizeof(err)), 0);
	assert_int_equal(c.data_ports.first, 5002);
	assert_int_equal(c.data_ports.last, 5004);
	assert_int_equal(c.port, FTX_DEFAULT_PORT);
	cfg_cli_free(&cl);
}

static void
test_cli_errors(void **state)
{
	struct fx *f = *state;
	char err[CFG_ERRLEN], want[CFG_ERRLEN];
	struct cfg_cli cl;
	struct config c;

	assert_int_equal(cli(&cl, err, sizeof(err), "--prot", "1", NULL), -1);
	assert_string_equal(err, "unknown or ambiguous option '--prot'");
	assert_int_equal(cli(&cl, err, sizeof(err), "--port", NULL), -1);
	assert_string_equal(err, "option '--port' needs a value");
	assert_int_equal(cli(&cl, err, sizeof(err), "stray", NULL), -1);
	assert_string_equal(err, "unexpected argument 'stray'");
	assert_int_equal(
	    cli(&cl, err, sizeof(err), "--no-udp-echo=yes", NULL), -1);
	/* Bad values are found by cfg_build, named by option. */
	assert_int_equal(cli(&cl, err, sizeof(err), "--port", "x", NULL), 0);
	assert_int_equal(cfg_build(&c, &cl, NULL, err, sizeof(err)), -1);
	assert_string_equal(
	    err, "--port: expected a number from 0 to 65535, got 'x'");
	cfg_cli_free(&cl);
	assert_int_equal(
	    cli(&cl, err, sizeof(err), "--log-chat=maybe", NULL), 0);
	assert_int_equal(cfg_build(&c, &cl, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "--log-chat: expected yes or no, got 'maybe'");
	cfg_cli_free(&cl);
	/* A minimum rate above the maximum would cut every transfer. */
	assert_int_equal(cli(&cl, err, sizeof(err), "--max-rate", "10K",
			     "--min-rate", "20K", NULL),
	    0);
	assert_int_equal(cfg_build(&c, &cl, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "--min-rate 20480 is above --max-rate 10240");
	cfg_cli_free(&cl);
	/* --store takes object storage only; an endpoint is http(s). */
	assert_int_equal(
	    cli(&cl, err, sizeof(err), "--store", "/srv", NULL), 0);
	assert_int_equal(cfg_build(&c, &cl, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "only s3://BUCKET[/PREFIX]"));
	cfg_cli_free(&cl);
	assert_int_equal(cli(&cl, err, sizeof(err), "--s3-endpoint",
			     "file:///etc/passwd", NULL),
	    0);
	assert_int_equal(cfg_build(&c, &cl, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "give http://HOST[:PORT]"));
	cfg_cli_free(&cl);
	/* A bad file is reported before the command line is applied. */
	write_file(f->path, "port = 1\nbogus = 2\n", 19);
	assert_int_equal(
	    cli(&cl, err, sizeof(err), "--config", f->path, NULL), 0);
	assert_int_equal(cfg_build(&c, &cl, cl.config, err, sizeof(err)), -1);
	assert_int_equal(
	    str_fmt(want, sizeof(want), "%s:2: unknown key 'bogus'", f->path),
	    0);
	assert_string_equal(err, want);
	cfg_cli_free(&cl);
	/* --help and --version are noted, not acted on. */
	assert_int_equal(cli(&cl, err, sizeof(err), "--help", NULL), 0);
	assert_int_equal(cl.help, 1);
	cfg_cli_free(&cl);
	assert_int_equal(cli(&cl, err, sizeof(err), "--version", NULL), 0);
	assert_int_equal(cl.version, 1);
	cfg_cli_free(&cl);
}

static void
test_default_path(void **state)
{
	struct fx *f = *state;
	char err[CFG_ERRLEN];
	struct cfg_cli cl;

	assert_int_equal(cli(&cl, err, sizeof(err), NULL), 0);
	/* $FTXD_CONFIG replaces /etc/ftxd.conf; used only if present. */
	assert_int_equal(setenv("FTXD_CONFIG", f->path, 1), 0);
	assert_null(cfg_default_path(&cl));
	write_file(f->path, "port = 1\n", 9);
	assert_string_equal(cfg_default_path(&cl), f->path);
	/* Empty: no default file at all. */
	assert_int_equal(setenv("FTXD_CONFIG", "", 1), 0);
	assert_null(cfg_default_path(&cl));
	cfg_cli_free(&cl);
	/* --config always wins, even if the file is missing. */
	assert_int_equal(
	    cli(&cl, err, sizeof(err), "--config", "/nonexistent.conf", NULL),
	    0);
	assert_string_equal(cfg_default_path(&cl), "/nonexistent.conf");
	cfg_cli_free(&cl);
	assert_int_equal(unsetenv("FTXD_CONFIG"), 0);
}

static void
test_absolute_paths(void **state)
{
	char err[CFG_ERRLEN];
	struct config c;
	size_t i;

	(void)state;
	cfg_defaults(&c);
	str_copy(c.log, sizeof(c.log), "logs/ftxd.log");
	str_copy(c.pidfile, sizeof(c.pidfile), "/run/ftxd.pid");
	assert_int_equal(
	    cfg_absolute_paths(&c, "/home/u", err, sizeof(err)), 0);
	assert_string_equal(c.root, "/home/u/" FTX_DEFAULT_ROOT);
	assert_string_equal(c.log, "/home/u/logs/ftxd.log");
	assert_string_equal(c.pidfile, "/run/ftxd.pid");
	assert_string_equal(c.xferlog, "");
	/* Too long once absolute: an error, not a truncated path. */
	for (i = 0; i < sizeof(c.root) - 2; i++)
		c.root[i] = 'a';
	c.root[i] = '\0';
	assert_int_equal(cfg_absolute_paths(&c, "/x", err, sizeof(err)), -1);
	assert_string_equal(err, "--root: path too long once made absolute");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
	    cmocka_unit_test(test_reload_flags),
	    cmocka_unit_test_setup_teardown(
		test_comments_whitespace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_booleans, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_syntax_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_port_ranges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overlong, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
	    cmocka_unit_test(test_parse_string_callback),
	    cmocka_unit_test_setup_teardown(
		test_cli_overrides_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cli_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_default_path, setup, teardown),
	    cmocka_unit_test(test_absolute_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

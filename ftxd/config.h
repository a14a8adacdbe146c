/*
 * config.h - ftxd's settings: the one option table, the command line and
 * the configuration file.
 *
 * Every setting is one row of a single table (name, kind, bounds,
 * whether SIGHUP reloads it, help text).  The command line (getopt_long)
 * and the INI-style configuration file both go through that table, so
 * every option is automatically a config key and both are validated by
 * the same setter.  The file format:
 *
 *	# comment            (also "; comment"; whole lines only)
 *	[ftxd]               (an optional section header, the only one)
 *	root = /srv/ftx      (key = long option name without "--")
 *	log-chat = yes       (flags take yes/no/true/false/on/off/1/0)
 *
 * Spaces and tabs around keys and values are ignored, and one pair of
 * double quotes around a value is removed.  Errors name the file and the
 * line: "/etc/ftxd.conf:12: unknown key 'prot'".
 *
 * Precedence: built-in defaults, then the file, then the command line
 * (regardless of where --config appears on it).  cfg_build() applies all
 * three, so SIGHUP can rebuild the settings the same way.
 */
#ifndef FTXD_CONFIG_H
#define FTXD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cidr.h"
#include "ftx_limits.h"

/* Error buffers for configuration messages: a path and a line number
 * come before the reason. */
#define CFG_ERRLEN (FTX_PATH_MAX + FTX_ERRLEN)

enum cfg_log_format { CFG_LOG_TEXT, CFG_LOG_JSON };
/* --anonymous: no anonymous login, or a shared read-only or read-write
 * area. */
enum cfg_anon { CFG_ANON_OFF, CFG_ANON_RO, CFG_ANON_RW };

/* A data port, or a range of them (first == last for one port). */
struct cfg_ports {
	int first;
	int last;
};

struct config {
	char root[FTX_PATH_MAX];
	/* "" = files under root; "s3://BUCKET[/PREFIX]" = object storage
	 * (store_s3.h), root then keeping only local state. */
	char store[FTX_PATH_MAX];
	char s3_endpoint[FTX_S3_URL_MAX]; /* "" = AWS's for s3_region */
	char s3_region[64];
	char s3_credentials[FTX_PATH_MAX]; /* "" = the environment */
	char bind[FTX_HOST_MAX + 1];
	char log[FTX_PATH_MAX]; /* "" = stderr */
	char xferlog[FTX_PATH_MAX]; /* "" = none */
	char pidfile[FTX_PATH_MAX]; /* "" = none */
	char public_host[FTX_HOST_MAX + 1]; /* "" = not advertised */
	int public_data_port; /* announced in OK replies; 0 = the bound one */
	/* Balancers whose connections start with a PROXY v2 header
	 * (pxgate.c); empty = none. */
	struct cidr_list proxy_from;
	int log_format; /* enum cfg_log_format */
	int port;
	struct cfg_ports data_ports;
	int workers;
	int max_clients;
	int max_per_ip;
	int chunk;
	int idle_timeout;
	int send_timeout; /* close a session whose output has not moved */
	int data_timeout;
	int token_ttl;
	int partial_ttl; /* seconds an interrupted upload is kept */
	int chat_rate; /* messages per window; 0 = no flood control */
	int log_chat; /* log message bodies */
	char chat_redis[FTX_CHATBUS_URL_MAX + 1]; /* "" = this node's room */
	char node_id[FTX_NODE_ID_MAX + 1]; /* "" = random at start */
	int udp_echo; /* answer UDP echo on the control port */
	int udp_rate; /* UDP replies per second per source */
	int daemon; /* detach (--daemon) */
	/* Security (docs/SECURITY.md). */
	char tls_cert[FTX_PATH_MAX]; /* "" = no TLS */
	char tls_key[FTX_PATH_MAX];
	int require_tls; /* nothing but STARTTLS and QUIT before TLS */
	char users[FTX_PATH_MAX]; /* "" = <root>/../ftxd.users */
	int anonymous; /* enum cfg_anon */
	int allow_plaintext_login;
	int chat_nick_is_user;
	int login_max_fails;
	int login_window; /* seconds */
	int login_lockout; /* seconds */
	int login_account_max_fails; /* per account name; 0 = off */
	uint64_t min_free; /* bytes; 0 = no guard */
	uint64_t max_rate; /* bytes per second per transfer; 0 = no limit */
	uint64_t min_rate; /* bytes per second a transfer must keep; 0 = off */
	int min_rate_window; /* seconds min_rate is averaged over */
	int max_transfers; /* pending and running, in all */
	int max_transfers_per_ip;
	int max_transfers_per_user;
	int max_partials; /* interrupted uploads kept per uploader */
	char run_user[FTX_USER_MAX + 1]; /* --user: drop privileges to it */
	int allow_root;
};

enum cfg_kind {
	CFG_STR, /* an address to bind (no spaces or control characters) */
	CFG_HOST, /* a host name or IP literal, restricted characters */
	CFG_PATH, /* a file or directory */
	CFG_INT,
	CFG_BOOL,
	CFG_PORTS, /* N or N-M */
	CFG_FORMAT, /* text|json */
	CFG_SIZE, /* bytes, with an optional K/M/G/T suffix */
	CFG_ANON, /* off|read-only|read-write */
	CFG_NETS /* ADDR[/BITS][,...]: a struct cidr_list */
};

/* One row of the option table. */
struct cfg_opt {
	const char *name; /* long option and config key */
	enum cfg_kind kind;
	size_t off; /* the field in struct config */
	size_t size; /* its size */
	long long min, max; /* CFG_INT bounds */
	int empty_ok; /* strings: "" is allowed (and means "off") */
	int reload; /* SIGHUP applies a changed value */
	const char *neg; /* CFG_BOOL: a "--no-..." command-line spelling */
	const char *arg; /* help: the value's placeholder */
	const char *help; /* help: one line */
	const char *neg_help;
};

/* The table; *n receives its length. */
const struct cfg_opt *cfg_options(size_t *n);
/* The row for a key, or NULL. */
const struct cfg_opt *cfg_find(const char *name);

/* Built-in defaults for every setting. */
void cfg_defaults(struct config *c);
/* Validate `val` and store it (val NULL: a flag given without a value,
 * meaning yes).  On failure `err` says why, without a prefix. */
int cfg_set(struct config *c, const struct cfg_opt *o, const char *val,
    char *err, size_t errlen);

/*
 * The INI parser.  cfg_parse_* call `cb` once per "key = value" line in
 * order; a callback failure stops the parse.  Every error (syntax,
 * overlong line, or the callback's) is returned as "FILE:LINE: reason".
 * `fname` is used only in messages.
 */
typedef int cfg_cb(
    void *arg, const char *key, const char *val, char *err, size_t errlen);
int cfg_parse_string(const char *text, const char *fname, cfg_cb *cb, void *arg,
    char *err, size_t errlen);
int cfg_parse_stream(FILE *f, const char *fname, cfg_cb *cb, void *arg,
    char *err, size_t errlen);
/* Apply a file to `c` through the option table; 0 or -1. */
int cfg_load_file(struct config *c, const char *path, char *err, size_t errlen);

/* The command line, collected by cfg_cli_parse and applied (after the
 * file) by cfg_build. */
struct cfg_arg {
	const struct cfg_opt *opt;
	const char *val; /* NULL: a flag without "=value" */
	int neg; /* given as --no-NAME */
};

struct cfg_cli {
	struct cfg_arg *args;
	size_t n;
	const char *config; /* --config FILE, or NULL */
	const char *gen_cert; /* --gen-cert DIR, or NULL */
	int help;
	int version;
};

/* Parse argv with getopt_long; only the option names and the presence
 * of values are checked here (values are checked by cfg_build).  0, or
 * -1 with a reason for a usage error. */
int cfg_cli_parse(
    struct cfg_cli *cli, int argc, char **argv, char *err, size_t errlen);
void cfg_cli_free(struct cfg_cli *cli);
/* The file to read: --config, else $FTXD_CONFIG / FTX_DEFAULT_CONFIG if
 * it exists, else NULL. */
const char *cfg_default_path(const struct cfg_cli *cli);
/* Defaults, then the file `path` (may be NULL), then the command line.
 * Errors: "FILE:LINE: ..." or "--opt: ...". */
int cfg_build(struct config *c, const struct cfg_cli *cli, const char *path,
    char *err, size_t errlen);
/* Make relative paths (root, log, xferlog, pidfile) absolute under
 * `base`, for --daemon, which changes to "/"; 0 or -1. */
int cfg_absolute_paths(
    struct config *c, const char *base, char *err, size_t errlen);
/* "off", "read-only" or "read-write". */
const char *cfg_anon_name(int a);
/* "text" or "json". */
const char *cfg_log_format_name(int f);

#endif /* FTXD_CONFIG_H */

/*
 * main.c - ftx, the command-line client: options, dispatch, exit codes.
 *
 *	ftx [--host H] [--port N] [--data-host H] [--retries N] [--quiet]
 *	    [--tls] [--cacert F] [--pin FP] [--accept-new] [--insecure]
 *	    [--known-hosts F] [--user NAME] [--password-file F]
 *	    [--allow-plaintext-password] COMMAND ...
 *
 * Global options come before the command; each command parses its own.
 * With several files every one is tried, and the exit code is the first
 * failure's; command-line mistakes stop everything before any network
 * traffic.
 */
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "exitcode.h"
#include "ftx_limits.h"
#include "hcache.h"
#include "hostcfg.h"
#include "menu.h"
#include "ops.h"
#include "pass.h"
#include "path.h"
#include "proto.h"
#include "rglob.h"
#include "rtt.h"
#include "str.h"
#include "talk.h"
#include "tls.h"
#include "transfer.h"
#include "tree.h"
#include "ui.h"
#include "url.h"

/*
 * Settings as one source gives them (the command line, a URL, the
 * environment); NULL or -1 where it says nothing.  resolve() merges
 * them with the configuration file: command line (and URL) first, then
 * the file's entry for the host, then the environment, then defaults.
 * The file beats the environment because it speaks of this host; the
 * environment is a default for every host.
 */
struct src {
	const char *host; /* "h", "h:port", "[v6]:port", or an alias */
	const char *port_str;
	const char *data_host;
	const char *retries_str;
	const char *cacert;
	const char *pin_str;
	const char *known_hosts;
	const char *user;
	const char *pass_file;
	const char *tls_str; /* FTX_TLS: "0" or "1" */
	const char *plain_str; /* FTX_ALLOW_PLAINTEXT_PASSWORD */
	int tls, accept_new, insecure, allow_plain, quiet; /* 1 or 0 */
};

/* The merged settings main works with. */
struct globals {
	char host[FTX_HOST_MAX + 1];
	int port;
	const char *data_host;
	int retries;
	const char *cacert, *pin_str, *known_hosts, *pass_file;
	char user[FTX_USER_MAX + 1];
	int tls, accept_new, insecure, allow_plain, quiet;
	char pin[FTX_FP_LEN]; /* --pin normalised */
	struct hostcfg cfg; /* what the config file said (its strings) */
};

struct app {
	struct ctl ctl;
	struct ui ui;
	const char *pass_file; /* --password-file, for `ftx login NAME` */
	struct src cli; /* the command line (and URLs) */
	struct src env; /* the environment */
	struct globals g; /* merged by app_setup */
	struct ctl_sec sec;
	int ready; /* app_setup has run */
	int inited; /* ctl_init has run: close and free at the end */
	char url_host[FTX_HOST_MAX + 16]; /* "[host]:port" of a URL */
	char url_user[FTX_USER_MAX + 1]; /* its user */
	char url_opt[FTX_URL_MAX + 1]; /* an option's URL, then its path */
	int url_seen; /* a URL named the server */
	int url_port; /* ... and its port */
};

/* One option of a command: a flag, or one taking a value. */
struct opt {
	const char *lng; /* "--as" */
	const char *shrt; /* "-o", or NULL */
	const char **val; /* where the value goes; NULL for a flag */
	int *flag; /* set to 1 for a flag */
};

/* A command's operands (non-option arguments). */
struct operands {
	const char **v;
	int n;
	unsigned char *url; /* url[i]: v[i] came from an ftx:// URL */
};

/* parse_args printed the command's help: exit 0. */
#define HELPED 256

static void help_general(void);
static void help_command(const char *name);
static int check_security(const struct globals *g);
static int global_opt(int argc, char **argv, int *i, struct src *cli);
static int app_setup(struct app *a);

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* One line on stderr, and the exit code for command-line mistakes. */
static int
usage_error(const char *fmt, ...)
{
	char msg[FTX_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	(void)str_vfmt(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ui_error("%s (see 'ftx --help')", msg);
	return EXITCODE_USAGE;
}

/*
 * If argv[*i] is the option `name`, as "--name V" or "--name=V", store V
 * and return 1; 0 if it is another option; -1 if the value is missing.
 */
static int
opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=' && name[1] == '-') {
		*val = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

/* Match argv[*i] against one option: 1 matched, 0 not, -1 no value. */
static int
opt_match(int argc, char **argv, int *i, const struct opt *o)
{
	int r;

	if (o->val == NULL) {
		if (strcmp(argv[*i], o->lng) != 0 &&
		    (o->shrt == NULL || strcmp(argv[*i], o->shrt) != 0))
			return 0;
		*o->flag = 1;
		return 1;
	}
	r = opt_value(argc, argv, i, o->lng, o->val);
	if (r == 0 && o->shrt != NULL)
		r = opt_value(argc, argv, i, o->shrt, o->val);
	return r;
}

/* A URL operand: the server it names becomes the session's (all URLs
 * of one command must name the same one), and the operand its path,
 * decoded in place ("" is the top, "."); 0 or EXITCODE_USAGE. */
static int
url_operand(struct app *a, const char *cmd, char *arg)
{
	char err[FTX_ERRLEN], host[FTX_HOST_MAX + 16];
	struct url u;

	if (url_parse(arg, &u, err, sizeof(err)) == -1)
		return usage_error("%s: bad URL '%s': %s", cmd, arg, err);
	if (str_fmt(host, sizeof(host), "[%s]:%d", u.host,
		u.port != 0 ? u.port : FTX_DEFAULT_PORT) == -1)
		return usage_error("%s: bad URL '%s'", cmd, arg);
	if (u.port == 0 && strchr(u.host, ':') == NULL)
		(void)str_copy(host, sizeof(host), u.host);
	/* One session per command: a second server is a mistake. */
	if (a->url_seen && strcmp(host, a->url_host) != 0)
		return usage_error(
		    "%s: all URLs of one command must name the same server",
		    cmd);
	if (u.user[0] != '\0' && a->cli.user != NULL &&
	    strcmp(a->cli.user, u.user) != 0)
		return usage_error("%s: the URL's user %s is not --user %s",
		    cmd, u.user, a->cli.user);
	(void)str_copy(a->url_host, sizeof(a->url_host), host);
	a->url_seen = 1;
	a->url_port |= u.port != 0;
	if (a->cli.host != NULL && a->cli.host != a->url_host)
		return usage_error(
		    "%s: give the server as --host or in a URL, not both", cmd);
	a->cli.host = a->url_host;
	if (u.user[0] != '\0') {
		(void)str_copy(a->url_user, sizeof(a->url_user), u.user);
		a->cli.user = a->url_user;
	}
	a->cli.tls |= u.tls;
	/* The decoded path is never longer than the URL it came from. */
	(void)str_copy(arg, strlen(arg) + 1, u.path[0] != '\0' ? u.path : ".");
	return 0;
}

/* `-h` means "help" unless the command has its own -h (ls -h). */
static int
wants_help(const char *arg, const struct opt *opts)
{
	const struct opt *o;

	if (strcmp(arg, "--help") == 0)
		return 1;
	if (strcmp(arg, "-h") != 0)
		return 0;
	for (o = opts; o != NULL && o->lng != NULL; o++)
		if (o->shrt != NULL && strcmp(o->shrt, "-h") == 0)
			return 0;
	return 1;
}

/*
 * Split a command's arguments into its options, the global options
 * (anywhere on the line, as git and curl take them), and operands; "--"
 * ends the options.  URL operands name the server (url_operand).  Then
 * the settings are merged and the session set up (app_setup).  Returns
 * 0, HELPED after printing the command's help, or an exit code after
 * printing why.
 */
static int
parse_args(struct app *a, const char *cmd, int argc, char **argv,
    const struct opt *opts, struct operands *ops)
{
	int i, r, only_operands = 0;
	const struct opt *o;

	for (i = 0; i < argc; i++) {
		if (only_operands || argv[i][0] != '-' ||
		    strcmp(argv[i], "-") == 0) {
			if (url_is_url(argv[i])) {
				if ((r = url_operand(a, cmd, argv[i])) != 0)
					return r;
				ops->url[ops->n] = 1;
			}
			ops->v[ops->n++] = argv[i];
			continue;
		}
		if (strcmp(argv[i], "--") == 0) {
			only_operands = 1;
			continue;
		}
		if (wants_help(argv[i], opts)) {
			help_command(cmd);
			return HELPED;
		}
		for (r = 0, o = opts; o != NULL && o->lng != NULL; o++)
			if ((r = opt_match(argc, argv, &i, o)) != 0)
				break;
		if (r == 0 && (r = global_opt(argc, argv, &i, &a->cli)) == -1)
			return EXITCODE_USAGE;
		if (r == -1)
			return usage_error(
			    "%s: %s needs a value", cmd, argv[i]);
		if (r == 0)
			return usage_error(
			    "%s: unknown option '%s' (see 'ftx help %s')", cmd,
			    argv[i], cmd);
	}
	/* An option that takes a remote path takes a URL too (decoded
	 * into a->url_opt, which then holds the path). */
	for (o = opts; o != NULL && o->lng != NULL; o++) {
		if (o->val == NULL || *o->val == NULL ||
		    strcmp(o->lng, "--as") != 0 || !url_is_url(*o->val))
			continue;
		if (str_copy(a->url_opt, sizeof(a->url_opt), *o->val) == -1)
			return usage_error("%s: URL too long", cmd);
		if ((r = url_operand(a, cmd, a->url_opt)) != 0)
			return r;
		*o->val = a->url_opt;
	}
	return app_setup(a);
}

/* Print a failure and remember the first one's exit code. */
static void
note(int rc, const char *err, int *first)
{
	if (rc == EXITCODE_OK)
		return;
	ui_error("%s", err);
	if (*first == EXITCODE_OK)
		*first = rc;
}

/* Connect (or reconnect) before the next item; the code, printed. */
static int
connect_for_item(struct app *a, int *first)
{
	char err[FTX_ERRLEN];
	int rc;

	rc = ctl_ensure(&a->ctl, err, sizeof(err));
	note(rc, err, first);
	return rc;
}

/* A remote path a user typed: "." (the top) or a checked path, with
 * trailing slashes taken off; 0, or EXITCODE_USAGE. */
static int
user_rpath(const char *cmd, const char *in, char *out, size_t n)
{
	char why[FTX_ERRLEN];
	size_t len;

	if (str_copy(out, n, in[0] != '\0' ? in : ".") == -1)
		return usage_error("%s: path too long", cmd);
	len = strlen(out);
	while (len > 1 && out[len - 1] == '/')
		out[--len] = '\0';
	if (strcmp(out, ".") == 0 || strcmp(out, "/") == 0) {
		(void)str_copy(out, n, ".");
		return 0;
	}
	/* SECURITY: checked before any network traffic, as names are. */
	if (path_check(out, why, sizeof(why)) == -1)
		return usage_error("%s: invalid path '%s': %s", cmd, in, why);
	return 0;
}

/* The last component of a local directory as the user wrote it
 * ("photos/" and "a/photos" give "photos"), into out[n]; the current
 * directory's own name for ".". */
static int
local_base(const char *dir, char *out, size_t n)
{
	char tmp[FTX_PATH_MAX], *real = NULL;
	size_t len;
	int rc;

	if (str_copy(tmp, sizeof(tmp), dir) == -1)
		return -1;
	len = strlen(tmp);
	while (len > 1 && tmp[len - 1] == '/')
		tmp[--len] = '\0';
	if (strcmp(transfer_basename(tmp), ".") != 0 &&
	    strcmp(transfer_basename(tmp), "..") != 0 &&
	    transfer_basename(tmp)[0] != '\0')
		return str_copy(out, n, transfer_basename(tmp));
	if ((real = realpath(dir, NULL)) == NULL)
		return -1;
	rc = str_copy(out, n, transfer_basename(real));
	free(real);
	return rc;
}

/* Run a tree transfer and print its summary. */
static int
run_tree(struct app *a, struct tree_opts *o)
{
	struct tree_stats st;
	char err[FTX_ERRLEN], cache[FTX_PATH_MAX];
	unsigned wait_ms;
	int rc, attempt;

	if ((o->flags & TREE_COMPARE) != 0 &&
	    hcache_default_path(cache, sizeof(cache)) == 0)
		o->hcache = cache;
	for (attempt = 0;; attempt++) {
		rc = tree_run(&a->ctl, &a->ui, o, &st, err, sizeof(err));
		/* Files another transfer still held (a run cut a moment
		 * ago, still closing on the server) are worth a re-run,
		 * which skips what arrived; anything else is not. */
		if (rc == EXITCODE_OK || st.busy == 0 || st.busy != st.failed ||
		    o->dry_run || attempt >= a->g.retries)
			break;
		wait_ms = 500U << (attempt < 4 ? attempt : 4);
		ui_error("%" PRIu64 " files busy on the server; running "
			 "again in %.1f s (%d of %d)",
		    st.busy, wait_ms / 1000.0, attempt + 1, a->g.retries);
		(void)usleep(wait_ms * 1000U);
	}
	o->hcache = NULL; /* `cache` ends here */
	if (rc == EXITCODE_OK || st.sent + st.skipped + st.deleted > 0 ||
	    o->json)
		tree_summary(&a->ui, o, &st);
	return rc;
}

/* put -r LOCALDIR [REMOTE] */
static int
put_tree(struct app *a, const struct operands *ops, const char *as, int follow,
    int json)
{
	char base[FTX_NAME_MAX + 1], rp[FTX_RPATH_MAX + 1];
	struct tree_opts o;
	int rc;

	if (ops->n < 1 || ops->n > 2 || (as != NULL && ops->n != 1))
		return usage_error("put -r: give LOCALDIR and at most one "
				   "REMOTE (or --as REMOTE)");
	if (ops->url[0])
		return usage_error("put -r: LOCALDIR is local; a URL goes "
				   "second (where the tree goes)");
	if (as == NULL && ops->n == 2)
		as = ops->v[1];
	if (as == NULL) {
		if (local_base(ops->v[0], base, sizeof(base)) == -1)
			return usage_error("put -r: cannot name %s", ops->v[0]);
		as = base;
	}
	if ((rc = user_rpath("put -r", as, rp, sizeof(rp))) != 0)
		return rc;
	memset(&o, 0, sizeof(o));
	o.up = 1;
	o.local = ops->v[0];
	o.remote = rp;
	o.follow = follow;
	o.json = json;
	/* A re-run (after an interruption) skips what arrived complete. */
	o.flags = TREE_COMPARE;
	return run_tree(a, &o);
}

/* put/get's per-file options, as TRANSFER_* flags. */
struct xfer_opts {
	int resume; /* --resume: the default, accepted for old scripts */
	int no_resume;
	int no_clobber;
	int skip_same;
};

static int
xfer_flags(const struct xfer_opts *x)
{
	return (x->no_resume ? TRANSFER_NO_RESUME : 0) |
	    (x->no_clobber ? TRANSFER_NO_CLOBBER : 0) |
	    (x->skip_same ? TRANSFER_SKIP_SAME : 0);
}

/* -r compares by SHA-256 and resumes by itself: the single-file
 * options would promise what it does not do. */
static int
xfer_opts_tree(const char *cmd, const struct xfer_opts *x)
{
	if (x->no_resume || x->no_clobber || x->skip_same)
		return usage_error("%s -r: --no-resume, --no-clobber and "
				   "--skip-same are for single files (-r "
				   "skips files whose SHA-256 matches)",
		    cmd);
	return 0;
}

/* put - --as NAME: standard input, streamed. */
static int
put_stdin(struct app *a, const struct operands *ops, const char *as,
    const struct xfer_opts *x)
{
	char err[FTX_ERRLEN], why[FTX_ERRLEN];
	int rc;

	if (ops->n != 1)
		return usage_error("put: '-' (standard input) must be the "
				   "only FILE");
	if (as == NULL)
		return usage_error("put -: give the name to store it under "
				   "with --as NAME");
	/* SECURITY: checked before any network traffic, as names are. */
	if (path_check(as, why, sizeof(why)) == -1)
		return usage_error("put: invalid name '%s': %s", as, why);
	if (x->skip_same)
		return usage_error("put -: --skip-same cannot hash standard "
				   "input before sending it");
	rc = transfer_put_stdin(
	    &a->ctl, &a->ui, as, xfer_flags(x), err, sizeof(err));
	if (rc != EXITCODE_OK)
		ui_error("%s", err);
	return rc;
}

/*
 * put FILE... URL: the last operand, a URL, is where the files go: a
 * path ending in '/' (or the top) is a directory, into[n] gets it and
 * each file keeps its base name; else it is the one FILE's new name
 * (*as).  0 or EXITCODE_USAGE.
 */
static int
put_dest(struct operands *ops, const char **as, char *into, size_t n)
{
	const char *d;
	size_t len;
	int i;

	into[0] = '\0';
	for (i = 0; i + 1 < ops->n; i++)
		if (ops->url[i])
			return usage_error("put: only the last operand may "
					   "be a URL (where the files go)");
	if (ops->n == 1 && ops->url[0])
		return usage_error("put: a URL says where files go: give the "
				   "local FILE too (ftx put FILE URL)");
	if (ops->n < 2 || !ops->url[ops->n - 1])
		return 0;
	if (*as != NULL)
		return usage_error("put: give --as or a destination URL, not "
				   "both");
	d = ops->v[--ops->n];
	len = strlen(d);
	if (strcmp(d, ".") == 0)
		return 0;
	if (d[len - 1] != '/') {
		if (ops->n != 1)
			return usage_error("put: several files go into a "
					   "directory: end the URL with '/'");
		*as = d;
		return 0;
	}
	if (len >= n)
		return usage_error("put: destination too long");
	memcpy(into, d, len - 1);
	into[len - 1] = '\0';
	return 0;
}

/* Where FILE is stored: --as, or into/basename, or its base name. */
static const char *
put_name(
    const char *as, const char *into, const char *file, char *buf, size_t n)
{
	if (as != NULL)
		return as;
	if (into[0] == '\0' ||
	    str_fmt(buf, n, "%s/%s", into, transfer_basename(file)) == -1)
		return transfer_basename(file);
	return buf;
}

static int
cmd_put(struct app *a, int argc, char **argv, struct operands *ops)
{
	const char *as = NULL, *name;
	struct xfer_opts x = {0, 0, 0, 0};
	int rec = 0, follow = 0, json = 0;
	const struct opt opts[] = {{"--as", NULL, &as, NULL},
	    {"--resume", NULL, NULL, &x.resume},
	    {"--no-resume", NULL, NULL, &x.no_resume},
	    {"--no-clobber", NULL, NULL, &x.no_clobber},
	    {"--skip-same", NULL, NULL, &x.skip_same},
	    {"--recursive", "-r", NULL, &rec}, {"-L", NULL, NULL, &follow},
	    {"--json", NULL, NULL, &json}, {NULL, NULL, NULL, NULL}};
	char err[FTX_ERRLEN], why[FTX_ERRLEN], into[FTX_RPATH_MAX + 2];
	char nbuf[FTX_RPATH_MAX + FTX_NAME_MAX + 2];
	int i, rc, first = EXITCODE_OK;

	if ((rc = parse_args(a, "put", argc, argv, opts, ops)) != 0)
		return rc;
	if (!rec && (rc = put_dest(ops, &as, into, sizeof(into))) != 0)
		return rc;
	if (rec) {
		if ((rc = xfer_opts_tree("put", &x)) != 0)
			return rc;
		return put_tree(a, ops, as, follow, json);
	}
	if (ops->n == 0)
		return usage_error("put: no FILE given");
	a->ui.json = json;
	for (i = 0; i < ops->n; i++)
		if (strcmp(ops->v[i], "-") == 0)
			return put_stdin(a, ops, as, &x);
	if (as != NULL && ops->n != 1)
		return usage_error("put: --as needs exactly one FILE");
	for (i = 0; i < ops->n; i++) {
		name = put_name(as, into, ops->v[i], nbuf, sizeof(nbuf));
		if (path_check(name, why, sizeof(why)) == -1)
			return usage_error("put: %s cannot be stored as "
					   "'%s': %s",
			    ops->v[i], name, why);
	}
	/* transfer_put_opt connects (and retries connecting) itself; a
	 * server we cannot reach fails every further file the same way. */
	for (i = 0; i < ops->n; i++) {
		name = put_name(as, into, ops->v[i], nbuf, sizeof(nbuf));
		rc = transfer_put_opt(&a->ctl, &a->ui, ops->v[i], name,
		    xfer_flags(&x), err, sizeof(err));
		note(rc, err, &first);
		if (rc == EXITCODE_CONNECT)
			break;
	}
	return first;
}

/* get -r REMOTE [LOCAL] */
static int
get_tree(struct app *a, const struct operands *ops, const char *dir, int json)
{
	char rp[FTX_RPATH_MAX + 1], local[FTX_PATH_MAX];
	struct tree_opts o;
	int rc;

	if (ops->n < 1 || ops->n > 2)
		return usage_error("get -r: give REMOTE and at most one LOCAL");
	if ((rc = user_rpath("get -r", ops->v[0], rp, sizeof(rp))) != 0)
		return rc;
	if (ops->n == 2)
		rc = str_copy(local, sizeof(local), ops->v[1]);
	else if (strcmp(rp, ".") == 0)
		rc = str_copy(local, sizeof(local), dir);
	else
		rc = str_fmt(local, sizeof(local), "%s/%s", dir, path_base(rp));
	if (rc == -1 || local[0] == '\0')
		return usage_error("get -r: bad local directory");
	memset(&o, 0, sizeof(o));
	o.local = local;
	o.remote = rp;
	o.json = json;
	o.flags = TREE_COMPARE; /* as put -r */
	return run_tree(a, &o);
}

/* SECURITY: every remote path or pattern is checked here, before any
 * network traffic (path_check; a pattern's glob characters only in its
 * last component; "." the top where a directory is meant). */
static int
check_paths(
    const char *cmd, const struct operands *ops, int dot_ok, int glob_ok)
{
	char why[FTX_ERRLEN];
	int i;

	for (i = 0; i < ops->n; i++) {
		if (dot_ok && strcmp(ops->v[i], ".") == 0)
			continue;
		if (path_check(ops->v[i], why, sizeof(why)) == -1)
			return usage_error(
			    "%s: invalid name '%s': %s", cmd, ops->v[i], why);
		if (glob_ok && rglob_is_pattern(ops->v[i]) &&
		    rglob_check(ops->v[i], why, sizeof(why)) == -1)
			return usage_error("%s: invalid pattern '%s': %s", cmd,
			    ops->v[i], why);
	}
	return 0;
}

/* Connect, and insist on a server with folders; the code, printed. */
static int
connect_folders(struct app *a, int *first)
{
	char err[FTX_ERRLEN];
	int rc;

	if ((rc = connect_for_item(a, first)) != EXITCODE_OK)
		return rc;
	rc = ops_need_folders(&a->ctl, err, sizeof(err));
	note(rc, err, first);
	return rc;
}

/* A glob's own failure (no match, the listing); its callbacks print
 * theirs and leave err empty. */
static void
note_glob(int rc, const char *err, int *first)
{
	if (rc != EXITCODE_OK && err[0] == '\0') {
		if (*first == EXITCODE_OK)
			*first = rc;
		return;
	}
	note(rc, err, first);
}

/* What a glob's callbacks need. */
struct glob_run {
	struct app *a;
	int *first;
	int flag; /* rm: -r; get: TRANSFER_* flags */
	int dirfd; /* get: the download directory */
	const char *dir;
};

static int
get_match(void *arg, const struct rpl_entry *e)
{
	struct glob_run *g = arg;
	char err[FTX_ERRLEN];
	int rc;

	rc = transfer_get_opt(&g->a->ctl, &g->a->ui, e->path, g->dirfd, g->dir,
	    g->flag, err, sizeof(err));
	note(rc, err, g->first);
	return rc == EXITCODE_CONNECT ? -1 : 0;
}

/* get 'PATTERN': every matching file; the last code. */
static int
get_glob(struct app *a, const char *pattern, int dirfd, const char *dir,
    int flags, int *first)
{
	struct glob_run g = {a, first, flags, dirfd, dir};
	char err[FTX_ERRLEN];
	int rc;

	if ((rc = connect_folders(a, first)) != EXITCODE_OK)
		return rc;
	rc = rglob_expand(
	    &a->ctl, pattern, RGLOB_FILES, get_match, &g, err, sizeof(err));
	note_glob(rc, err, first);
	return rc;
}

/* get PATH -o -: the file's bytes on stdout, and nothing else there. */
static int
get_stdout(struct app *a, const struct operands *ops, int rec, int json,
    const struct xfer_opts *x)
{
	char err[FTX_ERRLEN];
	int rc;

	if (rec)
		return usage_error("get -r: a tree cannot go to standard "
				   "output (-o -)");
	if (ops->n != 1 || rglob_is_pattern(ops->v[0]))
		return usage_error("get -o -: give exactly one PATH (no "
				   "pattern) for standard output");
	if (json)
		return usage_error("get -o -: --json would mix with the data "
				   "on standard output");
	if (x->no_clobber || x->skip_same)
		return usage_error("get -o -: --no-clobber and --skip-same "
				   "need a local file");
	if ((rc = check_paths("get", ops, 0, 0)) != 0)
		return rc;
	rc = transfer_get_stdout(&a->ctl, &a->ui, ops->v[0], err, sizeof(err));
	if (rc != EXITCODE_OK)
		ui_error("%s", err);
	return rc;
}

static int
cmd_get(struct app *a, int argc, char **argv, struct operands *ops)
{
	const char *dir = FTX_DEFAULT_DOWNLOAD_DIR;
	struct xfer_opts x = {0, 0, 0, 0};
	int rec = 0, json = 0;
	const struct opt opts[] = {{"--output", "-o", &dir, NULL},
	    {"--resume", NULL, NULL, &x.resume},
	    {"--no-resume", NULL, NULL, &x.no_resume},
	    {"--no-clobber", NULL, NULL, &x.no_clobber},
	    {"--skip-same", NULL, NULL, &x.skip_same},
	    {"--recursive", "-r", NULL, &rec}, {"--json", NULL, NULL, &json},
	    {NULL, NULL, NULL, NULL}};
	char err[FTX_ERRLEN];
	int i, rc, dirfd, first = EXITCODE_OK;

	if ((rc = parse_args(a, "get", argc, argv, opts, ops)) != 0)
		return rc;
	if (dir[0] == '\0')
		return usage_error("get: empty directory name");
	/* "-o -" is standard output, not a directory named "-" (write
	 * "-o ./-" for that). */
	if (strcmp(dir, "-") == 0)
		return get_stdout(a, ops, rec, json, &x);
	if (rec) {
		if ((rc = xfer_opts_tree("get", &x)) != 0)
			return rc;
		return get_tree(a, ops, dir, json);
	}
	if (ops->n == 0)
		return usage_error("get: no PATH given");
	if ((rc = check_paths("get", ops, 0, 1)) != 0)
		return rc;
	a->ui.json = json;
	/* Connect before creating DIR, so an unreachable server leaves
	 * nothing behind. */
	rc = transfer_connect(&a->ctl, ops->v[0], err, sizeof(err));
	note(rc, err, &first);
	if (rc != EXITCODE_OK)
		return first;
	if (transfer_open_dir(dir, &dirfd, err, sizeof(err)) == -1) {
		ui_error("%s", err);
		return EXITCODE_FAIL;
	}
	/* Remote globs first: each pattern's files (rglob.h). */
	for (i = 0; i < ops->n; i++)
		if (rglob_is_pattern(ops->v[i]) &&
		    get_glob(a, ops->v[i], dirfd, dir, xfer_flags(&x),
			&first) == EXITCODE_CONNECT)
			break;
	for (i = 0; i < ops->n; i++) {
		if (rglob_is_pattern(ops->v[i]))
			continue;
		rc = transfer_get_opt(&a->ctl, &a->ui, ops->v[i], dirfd, dir,
		    xfer_flags(&x), err, sizeof(err));
		note(rc, err, &first);
		if (rc == EXITCODE_CONNECT)
			break;
	}
	close(dirfd);
	return first;
}

/* 1 if operand i of sync is the remote side: ":PATH" or a URL. */
static int
sync_remote(const struct operands *ops, int i)
{
	return ops->url[i] || ops->v[i][0] == ':';
}

/* sync SRC DST: one of them ":PATH" or a URL. */
static int
cmd_sync(struct app *a, int argc, char **argv, struct operands *ops)
{
	int del = 0, dry = 0, json = 0, follow = 0, rc;
	const struct opt opts[] = {{"--delete", NULL, NULL, &del},
	    {"--dry-run", "-n", NULL, &dry}, {"--json", NULL, NULL, &json},
	    {"-L", NULL, NULL, &follow}, {NULL, NULL, NULL, NULL}};
	char rp[FTX_RPATH_MAX + 1];
	struct tree_opts o;
	const char *remote, *local;

	if ((rc = parse_args(a, "sync", argc, argv, opts, ops)) != 0)
		return rc;
	if (ops->n != 2)
		return usage_error("sync: give SRC and DST");
	if (sync_remote(ops, 0) == sync_remote(ops, 1))
		return usage_error("sync: exactly one of SRC and DST must be "
				   "remote, written ':PATH' or as a URL");
	memset(&o, 0, sizeof(o));
	o.up = sync_remote(ops, 1);
	remote = o.up ? ops->v[1] : ops->v[0];
	if (remote[0] == ':' && !ops->url[o.up ? 1 : 0])
		remote++;
	local = o.up ? ops->v[0] : ops->v[1];
	if (local[0] == '\0')
		return usage_error("sync: empty local directory");
	if ((rc = user_rpath("sync", remote, rp, sizeof(rp))) != 0)
		return rc;
	if (follow && !o.up)
		return usage_error("sync: -L is for a local source");
	o.local = local;
	o.remote = rp;
	o.follow = follow;
	o.flags = TREE_COMPARE | (del ? TREE_DELETE : 0);
	o.dry_run = dry;
	o.json = json;
	return run_tree(a, &o);
}

static int
ls_match(void *arg, const struct rpl_entry *e)
{
	const int *flags = arg;

	return ops_entry_print(e, e->path, *flags);
}

static int
cmd_ls(struct app *a, int argc, char **argv, struct operands *ops)
{
	int lng = 0, rec = 0, human = 0, json = 0, one = 0, rc;
	int first = EXITCODE_OK;
	const struct opt opts[] = {{"--long", "-l", NULL, &lng},
	    {"--names", "-1", NULL, &one}, {"--recursive", "-R", NULL, &rec},
	    {"--human-readable", "-h", NULL, &human},
	    {"--json", NULL, NULL, &json}, {NULL, NULL, NULL, NULL}};
	char err[FTX_ERRLEN];
	int flags;

	if ((rc = parse_args(a, "ls", argc, argv, opts, ops)) != 0 ||
	    (rc = check_paths("ls", ops, 1, 1)) != 0)
		return rc;
	if (ops->n > 1)
		return usage_error("ls takes at most one PATH");
	flags = (lng ? OPS_LONG : 0) | (human ? OPS_HUMAN : 0) |
	    (json ? OPS_JSON : 0) | (one ? OPS_NAMES : 0);
	if (connect_for_item(a, &first) != EXITCODE_OK)
		return first;
	/* A server without folders still lists its files (LIST). */
	if (ops->n == 0 && !rec && !ctl_has_folders(&a->ctl))
		rc = ops_ls(&a->ctl, &a->ui, flags, err, sizeof(err));
	else if ((rc = ops_need_folders(&a->ctl, err, sizeof(err))) != 0)
		;
	else if (ops->n == 1 && rglob_is_pattern(ops->v[0])) {
		rc = rglob_expand(&a->ctl, ops->v[0], RGLOB_ANY, ls_match,
		    &flags, err, sizeof(err));
		fflush(stdout);
	} else
		rc = ops_ls_path(&a->ctl, &a->ui, ops->n == 1 ? ops->v[0] : ".",
		    rec, flags, err, sizeof(err));
	note(rc, err, &first);
	return first;
}

static int
rm_match(void *arg, const struct rpl_entry *e)
{
	struct glob_run *g = arg;
	char err[FTX_ERRLEN];
	int rc;

	if (e->type == 'd' && !g->flag) {
		str_err(err, sizeof(err), "rm %s: is a directory (use rm -r)",
		    e->path);
		rc = EXITCODE_REFUSED;
	} else if (e->type == 'd')
		rc = ops_rm_tree(
		    &g->a->ctl, &g->a->ui, e->path, err, sizeof(err));
	else
		rc = ops_rm(&g->a->ctl, &g->a->ui, e->path, err, sizeof(err));
	note(rc, err, g->first);
	return rc == EXITCODE_CONNECT ? -1 : 0;
}

/* rm of one operand: a glob, a tree (-r) or a file. */
static void
rm_one(struct app *a, const char *path, int rec, int *first)
{
	struct glob_run g = {a, first, rec, -1, NULL};
	char err[FTX_ERRLEN];
	int rc, glob = rglob_is_pattern(path);

	if ((glob || rec) && connect_folders(a, first) != EXITCODE_OK)
		return;
	if (glob) {
		rc = rglob_expand(
		    &a->ctl, path, RGLOB_ANY, rm_match, &g, err, sizeof(err));
		note_glob(rc, err, first);
		return;
	}
	if (rec)
		rc = ops_rm_tree(&a->ctl, &a->ui, path, err, sizeof(err));
	else
		rc = ops_rm(&a->ctl, &a->ui, path, err, sizeof(err));
	note(rc, err, first);
}

static int
cmd_rm(struct app *a, int argc, char **argv, struct operands *ops)
{
	int rec = 0, i, rc, first = EXITCODE_OK;
	const struct opt opts[] = {
	    {"--recursive", "-r", NULL, &rec}, {NULL, NULL, NULL, NULL}};

	if ((rc = parse_args(a, "rm", argc, argv, opts, ops)) != 0)
		return rc;
	if (ops->n == 0)
		return usage_error("rm: no PATH given");
	if ((rc = check_paths("rm", ops, 0, 1)) != 0)
		return rc;
	for (i = 0; i < ops->n; i++) {
		if (connect_for_item(a, &first) != EXITCODE_OK)
			break;
		rm_one(a, ops->v[i], rec, &first);
	}
	return first;
}

static int
cmd_mkdir(struct app *a, int argc, char **argv, struct operands *ops)
{
	int parents = 0, i, rc, first = EXITCODE_OK;
	const struct opt opts[] = {
	    {"--parents", "-p", NULL, &parents}, {NULL, NULL, NULL, NULL}};
	char err[FTX_ERRLEN];

	if ((rc = parse_args(a, "mkdir", argc, argv, opts, ops)) != 0)
		return rc;
	if (ops->n == 0)
		return usage_error("mkdir: no PATH given");
	if ((rc = check_paths("mkdir", ops, 0, 0)) != 0)
		return rc;
	for (i = 0; i < ops->n; i++) {
		if (connect_folders(a, &first) != EXITCODE_OK)
			break;
		rc = ops_mkdir(
		    &a->ctl, &a->ui, ops->v[i], parents, err, sizeof(err));
		note(rc, err, &first);
	}
	return first;
}

static int
cmd_rmdir(struct app *a, int argc, char **argv, struct operands *ops)
{
	int i, rc, first = EXITCODE_OK;
	char err[FTX_ERRLEN];

	if ((rc = parse_args(a, "rmdir", argc, argv, NULL, ops)) != 0)
		return rc;
	if (ops->n == 0)
		return usage_error("rmdir: no PATH given");
	if ((rc = check_paths("rmdir", ops, 0, 0)) != 0)
		return rc;
	for (i = 0; i < ops->n; i++) {
		if (connect_folders(a, &first) != EXITCODE_OK)
			break;
		rc = ops_rmdir(&a->ctl, &a->ui, ops->v[i], err, sizeof(err));
		note(rc, err, &first);
	}
	return first;
}

static int
cmd_mv(struct app *a, int argc, char **argv, struct operands *ops)
{
	int force = 0, rc, first = EXITCODE_OK;
	const struct opt opts[] = {
	    {"--force", "-f", NULL, &force}, {NULL, NULL, NULL, NULL}};
	char err[FTX_ERRLEN];

	if ((rc = parse_args(a, "mv", argc, argv, opts, ops)) != 0)
		return rc;
	if (ops->n != 2)
		return usage_error("mv needs FROM and TO");
	if ((rc = check_paths("mv", ops, 0, 0)) != 0)
		return rc;
	if (connect_folders(a, &first) != EXITCODE_OK)
		return first;
	rc = ops_mv(
	    &a->ctl, &a->ui, ops->v[0], ops->v[1], force, err, sizeof(err));
	note(rc, err, &first);
	return first;
}

static int
cmd_stat(struct app *a, int argc, char **argv, struct operands *ops)
{
	int json = 0, i, rc, first = EXITCODE_OK;
	const struct opt opts[] = {
	    {"--json", NULL, NULL, &json}, {NULL, NULL, NULL, NULL}};
	char err[FTX_ERRLEN];

	if ((rc = parse_args(a, "stat", argc, argv, opts, ops)) != 0)
		return rc;
	if (ops->n == 0)
		return usage_error("stat: no PATH given");
	if ((rc = check_paths("stat", ops, 1, 0)) != 0)
		return rc;
	for (i = 0; i < ops->n; i++) {
		if (connect_folders(a, &first) != EXITCODE_OK)
			break;
		rc = ops_stat(&a->ctl, &a->ui, ops->v[i], json ? OPS_JSON : 0,
		    err, sizeof(err));
		note(rc, err, &first);
	}
	return first;
}

static int
hash_match(void *arg, const struct rpl_entry *e)
{
	struct glob_run *g = arg;
	char err[FTX_ERRLEN];
	int rc;

	rc =
	    ops_hash(&g->a->ctl, &g->a->ui, e->path, g->flag, err, sizeof(err));
	note(rc, err, g->first);
	return rc == EXITCODE_CONNECT ? -1 : 0;
}

static int
cmd_hash(struct app *a, int argc, char **argv, struct operands *ops)
{
	int md5 = 0, json = 0, i, rc, first = EXITCODE_OK;
	const struct opt opts[] = {{"--md5", NULL, NULL, &md5},
	    {"--json", NULL, NULL, &json}, {NULL, NULL, NULL, NULL}};
	struct glob_run g = {a, &first, 0, -1, NULL};
	char err[FTX_ERRLEN];

	if ((rc = parse_args(a, "hash", argc, argv, opts, ops)) != 0)
		return rc;
	if (ops->n == 0)
		return usage_error("hash: no NAME given");
	if ((rc = check_paths("hash", ops, 0, 1)) != 0)
		return rc;
	/* hash_match takes the OPS_* flags in g.flag. */
	g.flag = (md5 ? OPS_MD5 : 0) | (json ? OPS_JSON : 0);
	for (i = 0; i < ops->n; i++) {
		if (connect_for_item(a, &first) != EXITCODE_OK)
			break;
		if (!rglob_is_pattern(ops->v[i])) {
			rc = ops_hash(&a->ctl, &a->ui, ops->v[i], g.flag, err,
			    sizeof(err));
			note(rc, err, &first);
			continue;
		}
		if (connect_folders(a, &first) != EXITCODE_OK)
			continue;
		rc = rglob_expand(&a->ctl, ops->v[i], RGLOB_FILES, hash_match,
		    &g, err, sizeof(err));
		note_glob(rc, err, &first);
	}
	return first;
}

static int
cmd_chat(struct app *a, int argc, char **argv, struct operands *ops)
{
	const char *nick = NULL;
	const struct opt opts[] = {
	    {"--nick", NULL, &nick, NULL}, {NULL, NULL, NULL, NULL}};
	char err[FTX_ERRLEN];
	int rc, first = EXITCODE_OK;

	if ((rc = parse_args(a, "chat", argc, argv, opts, ops)) != 0)
		return rc;
	if (ops->n != 0)
		return usage_error("chat takes no operands (use --nick NAME)");
	if (connect_for_item(a, &first) != EXITCODE_OK)
		return first;
	rc = talk_run(&a->ctl, nick, err, sizeof(err));
	note(rc, err, &first);
	return first;
}

/* A number option of rtt within [min, max], or a usage error (-1). */
static int
rtt_num(const char *name, const char *val, long min, long max, long *out)
{
	uint64_t v;

	if (val == NULL)
		return 0;
	if (str_to_u64(val, (uint64_t)max, &v) == -1 || (long)v < min) {
		usage_error(
		    "rtt: %s must be a number from %ld to %ld", name, min, max);
		return -1;
	}
	*out = (long)v;
	return 0;
}

static int
cmd_rtt(struct app *a, int argc, char **argv, struct operands *ops)
{
	const char *n = NULL, *size = NULL, *iv = NULL, *to = NULL, *wu = NULL;
	struct rtt_opts o;
	const struct opt opts[] = {
	    {"-n", NULL, &n, NULL},
	    {"--size", NULL, &size, NULL},
	    {"--interval", NULL, &iv, NULL},
	    {"--timeout-ms", NULL, &to, NULL},
	    {"--warmup", NULL, &wu, NULL},
	    {"--udp", NULL, NULL, &o.udp},
	    {"--json", NULL, NULL, &o.json},
	    {NULL, NULL, NULL, NULL},
	};
	char err[FTX_ERRLEN];
	long sz = FTX_RTT_DEFAULT_SIZE;
	int rc, first = EXITCODE_OK;

	rtt_defaults(&o);
	if ((rc = parse_args(a, "rtt", argc, argv, opts, ops)) != 0)
		return rc;
	if (ops->n != 0)
		return usage_error("rtt takes no operands");
	if (rtt_num("-n", n, 1, FTX_RTT_MAX_N, &o.n) == -1 ||
	    rtt_num("--size", size, 1, (long)rtt_max_size(o.udp), &sz) == -1 ||
	    rtt_num("--interval", iv, 0, 60000, &o.interval_ms) == -1 ||
	    rtt_num("--timeout-ms", to, 1, 60000, &o.timeout_ms) == -1 ||
	    rtt_num("--warmup", wu, 0, 1000, &o.warmup) == -1)
		return EXITCODE_USAGE;
	o.size = (size_t)sz;
	if (!o.udp && connect_for_item(a, &first) != EXITCODE_OK)
		return first;
	rc = rtt_run(&a->ctl, &a->ui, &o, err, sizeof(err));
	note(rc, err, &first);
	return first;
}

static int
cmd_stats(struct app *a, int argc, char **argv, struct operands *ops)
{
	int raw = 0, json = 0, rc, first = EXITCODE_OK;
	const struct opt opts[] = {{"--raw", NULL, NULL, &raw},
	    {"--json", NULL, NULL, &json}, {NULL, NULL, NULL, NULL}};
	char err[FTX_ERRLEN];

	if ((rc = parse_args(a, "stats", argc, argv, opts, ops)) != 0)
		return rc;
	if (ops->n != 0)
		return usage_error("stats takes no arguments");
	/* --json is the machine form; --raw stays for older scripts. */
	if (raw && json)
		return usage_error(
		    "stats: --raw and --json exclude each other");
	if (connect_for_item(a, &first) != EXITCODE_OK)
		return first;
	rc = ops_stats(&a->ctl, &a->ui,
	    (raw ? OPS_RAW : 0) | (json ? OPS_JSON : 0), err, sizeof(err));
	note(rc, err, &first);
	return first;
}

/*
 * Set up logging in as `user`: the password from FTX_PASSWORD or the
 * password file now, so that a missing or unusable one is a usage error
 * before any network traffic; else it is asked for on the terminal
 * after the server has been checked.  0 or EXITCODE_USAGE.
 */
static int
setup_login(struct app *a, const char *user, const char *pass_file)
{
	char err[FTX_ERRLEN], *pw;
	int r = 0, rc;

	if (!pass_user_ok(user))
		return usage_error("invalid user name '%s': 1 to %d of a-z, "
				   "0-9, _ and -, starting with a letter or "
				   "digit",
		    user, FTX_USER_MAX);
	/* Anonymous logs in without a password (see login() in ctl.c). */
	if (strcmp(user, FTX_ANON_USER) == 0) {
		if (ctl_set_login(&a->ctl, user, NULL, err, sizeof(err)) == -1)
			return usage_error("%s", err);
		return 0;
	}
	if ((pw = pass_alloc()) == NULL) {
		ui_error("out of memory");
		return EXITCODE_FAIL;
	}
	r = pass_from_env(pw, err, sizeof(err));
	if (r == 0 && pass_file != NULL)
		r = pass_from_file(pass_file, pw, err, sizeof(err)) == 0 ? 1
									 : -1;
	if (r == 0 && !isatty(STDIN_FILENO)) {
		(void)str_copy(err, sizeof(err),
		    "no password: set FTX_PASSWORD, use --password-file FILE, "
		    "or run on a terminal");
		r = -1;
	}
	rc = 0;
	if (r == -1)
		rc = usage_error("login as %s: %s", user, err);
	else if (ctl_set_login(
		     &a->ctl, user, r == 1 ? pw : NULL, err, sizeof(err)) == -1)
		rc = usage_error("%s", err);
	pass_free(pw);
	return rc;
}

static int
cmd_login(struct app *a, int argc, char **argv, struct operands *ops)
{
	int rc, first = EXITCODE_OK;

	if ((rc = parse_args(a, "login", argc, argv, NULL, ops)) != 0)
		return rc;
	if (ops->n > 1)
		return usage_error("login takes at most one user name");
	if (ops->n == 1 && (rc = setup_login(a, ops->v[0], a->pass_file)) != 0)
		return rc;
	if (a->ctl.user[0] == '\0')
		return usage_error("login: no user name (give one, or use "
				   "--user NAME or FTX_USER)");
	if (connect_for_item(a, &first) != EXITCODE_OK)
		return first;
	printf("logged in as %s%s\n", a->ctl.user,
	    a->ctl.read_only ? " (read-only)" : "");
	return EXITCODE_OK;
}

static int
cmd_menu(struct app *a, int argc, char **argv, struct operands *ops)
{
	int rc;

	if ((rc = parse_args(a, "menu", argc, argv, NULL, ops)) != 0)
		return rc;
	if (ops->n != 0)
		return usage_error("menu takes no arguments");
	return menu_run(&a->ctl, &a->ui);
}

/*
 * Every command: its name, what `ftx help` lists, and what `ftx help
 * CMD` / `ftx CMD --help` prints.  The one table dispatch goes through.
 */
struct command {
	const char *name;
	int (*run)(struct app *a, int argc, char **argv, struct operands *ops);
	const char *synopsis; /* one or more "usage:" lines, no "ftx " */
	const char *summary; /* one line for the command list */
	const char *help; /* the options, one per line or two */
};

static int cmd_put(struct app *, int, char **, struct operands *);
static int cmd_get(struct app *, int, char **, struct operands *);
static int cmd_sync(struct app *, int, char **, struct operands *);
static int cmd_ls(struct app *, int, char **, struct operands *);
static int cmd_rm(struct app *, int, char **, struct operands *);
static int cmd_mkdir(struct app *, int, char **, struct operands *);
static int cmd_rmdir(struct app *, int, char **, struct operands *);
static int cmd_mv(struct app *, int, char **, struct operands *);
static int cmd_stat(struct app *, int, char **, struct operands *);
static int cmd_hash(struct app *, int, char **, struct operands *);
static int cmd_chat(struct app *, int, char **, struct operands *);
static int cmd_rtt(struct app *, int, char **, struct operands *);
static int cmd_stats(struct app *, int, char **, struct operands *);
static int cmd_login(struct app *, int, char **, struct operands *);
static int cmd_menu(struct app *, int, char **, struct operands *);
static int cmd_help(struct app *, int, char **, struct operands *);

static const struct command commands[] = {
    {"put", cmd_put,
	"put [options] FILE... [--as PATH | URL]\n"
	"put - --as PATH\n"
	"put -r [-L] [--json] LOCALDIR [REMOTE]",
	"upload files (or a tree with -r, or standard input with -)",
	"Upload each FILE under its base name (or PATH). Every upload is\n"
	"verified by SHA-256 and committed atomically; an interrupted one\n"
	"continues where it stopped when the same command runs again.\n"
	"\n"
	"  --as PATH      store a single FILE as PATH (a URL works too)\n"
	"  -              read standard input (needs --as): streamed, of any\n"
	"                 length, still verified and atomic\n"
	"  --no-resume    start over instead of continuing what the server\n"
	"                 kept from an interrupted upload\n"
	"  --resume       continue an interrupted upload (the default)\n"
	"  --no-clobber   leave a file the server already has alone\n"
	"  --skip-same    skip a file the server has with the same SHA-256\n"
	"  --json         one JSON object per file on stdout\n"
	"  -r, --recursive\n"
	"                 upload the tree LOCALDIR to REMOTE (default: its\n"
	"                 base name); files the server has are skipped\n"
	"  -L             with -r: follow symbolic links\n"
	"A last operand ftx://HOST[:PORT]/PATH names the server and the\n"
	"destination (a PATH ending in '/' is a directory).\n"},
    {"get", cmd_get,
	"get [options] PATH... [-o DIR]\n"
	"get PATH -o -\n"
	"get -r [--json] REMOTE [LOCAL]",
	"download files (or a tree with -r, or to standard output)",
	"Download each PATH (a remote glob such as 'logs/*.gz' works) into\n"
	"DIR. A local file is replaced only by a verified download; an\n"
	"interrupted one continues when the same command runs again (the\n"
	"partial waits in DIR as .ftx-part-*).\n"
	"\n"
	"  -o, --output DIR\n"
	"                 where files go (default " FTX_DEFAULT_DOWNLOAD_DIR
	");\n"
	"                 '-' writes the one PATH to standard output\n"
	"  --no-resume    throw away a partial download and start over\n"
	"  --resume       continue a partial download (the default)\n"
	"  --no-clobber   leave an existing local file alone\n"
	"  --skip-same    skip a file whose local copy has the same SHA-256\n"
	"  --json         one JSON object per file on stdout\n"
	"  -r, --recursive\n"
	"                 download the tree REMOTE to LOCAL (default:\n"
	"                 DIR/its base name)\n"
	"PATH may be a URL: ftx://[USER@]HOST[:PORT]/PATH.\n"},
    {"sync", cmd_sync, "sync [--delete] [--dry-run] [--json] [-L] SRC DST",
	"make DST like SRC, sending only what differs",
	"One side is remote, written ':PATH' (':' alone is the top) or as\n"
	"a URL; files whose SHA-256 matches are not sent.\n"
	"\n"
	"  --delete       remove from DST what SRC lacks\n"
	"  -n, --dry-run  print \"send PATH\" / \"delete PATH\", change "
	"nothing\n"
	"  --json         one JSON summary on stdout\n"
	"  -L             follow symbolic links in a local SRC\n"},
    {"ls", cmd_ls, "ls [-R] [-l] [-h] [-1] [--json] [PATH]", "list a directory",
	"List PATH (default: the top): size, modification time, path, '/'\n"
	"after a directory. PATH may be a glob ('logs/*.gz') or a URL.\n"
	"\n"
	"  -R, --recursive\n"
	"                 the whole tree below PATH\n"
	"  -l, --long     add the SHA-256\n"
	"  -h, --human-readable\n"
	"                 sizes in KiB, MiB, GiB\n"
	"  -1, --names    the paths only, one per line ('/' after a\n"
	"                 directory), as shell completion wants them\n"
	"  --json         one JSON object per entry on stdout\n"},
    {"rm", cmd_rm, "rm [-r] PATH...", "delete files (-r: directories too)",
	"  -r, --recursive\n"
	"                 delete directories with all they hold\n"},
    {"mkdir", cmd_mkdir, "mkdir [-p] PATH...", "make directories",
	"  -p, --parents  make missing parents; an existing directory is "
	"fine\n"},
    {"rmdir", cmd_rmdir, "rmdir PATH...", "remove empty directories", ""},
    {"mv", cmd_mv, "mv [--force] FROM TO", "move or rename",
	"  -f, --force    replace an existing TO\n"},
    {"stat", cmd_stat, "stat [--json] PATH...",
	"type, size, time and SHA-256 of paths",
	"  --json         one JSON object per path on stdout\n"},
    {"hash", cmd_hash, "hash [--md5] [--json] PATH...",
	"print the server's SHA-256, as sha256sum does",
	"Prints \"<hex>  <path>\" lines that sha256sum -c checks.\n"
	"\n"
	"  --md5          the MD5 too (a second line per file)\n"
	"  --json         one JSON object per file on stdout\n"},
    {"chat", cmd_chat, "chat [--nick NAME]", "join the chat room",
	"Type to talk to everyone, @nick text to one person; /who /whoami\n"
	"/time /help /quit. From a pipe every line is sent, under --nick or\n"
	"$USER.\n"
	"\n"
	"  --nick NAME    the nickname (default: asked on a terminal)\n"},
    {"rtt", cmd_rtt,
	"rtt [-n N] [--size BYTES] [--interval MS] [--warmup N] [--udp]\n"
	"    [--timeout-ms MS] [--json]",
	"measure round-trip times to the server",
	"  -n N           timed round trips (default 500)\n"
	"  --size BYTES   payload size (default 32)\n"
	"  --interval MS  pause between round trips (default 0)\n"
	"  --warmup N     untimed round trips first (default 5)\n"
	"  --udp          UDP echo instead of TCP\n"
	"  --timeout-ms MS\n"
	"                 UDP: wait this long for a reply (default 1000)\n"
	"  --json         one JSON object on stdout\n"},
    {"stats", cmd_stats, "stats [--json | --raw]", "server statistics",
	"Uptime, sessions, transfers and bytes.\n"
	"\n"
	"  --json         one JSON object on stdout\n"
	"  --raw          the server's key=value pairs, one per line\n"},
    {"login", cmd_login, "login [NAME]", "check a user name and password",
	"Log in as NAME (default: --user) and print \"logged in as NAME\".\n"},
    {"menu", cmd_menu, "menu",
	"the interactive menu (the default on a terminal)", ""},
    {"help", cmd_help, "help [COMMAND]", "this help, or a command's", ""},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *
command_find(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* Each line of `text` after `prefix` (the first) or `indent`. */
static void
print_lines(const char *text, const char *prefix, const char *indent)
{
	const char *nl;
	int first = 1;

	for (; *text != '\0'; text = *nl != '\0' ? nl + 1 : nl) {
		nl = strchr(text, '\n');
		if (nl == NULL)
			nl = text + strlen(text);
		printf("%s%.*s\n", first ? prefix : indent, (int)(nl - text),
		    text);
		first = 0;
	}
}

static const char global_help[] =
    "Options (anywhere on the line, before or after the command):\n"
    "  -H, --host H   the server: a name, an address, H:PORT, [v6]:PORT,\n"
    "                 or an alias from the configuration file (default\n"
    "                 $FTX_HOST, else " FTX_DEFAULT_HOST ")\n"
    "  -p, --port N   control port (default $FTX_PORT, else 5001)\n"
    "  -u, --user NAME\n"
    "                 log in as NAME (default $FTX_USER); the password is\n"
    "                 $FTX_PASSWORD, else the first line of\n"
    "                 --password-file, else asked on the terminal\n"
    "  --password-file FILE\n"
    "                 read the password from FILE (mode 0600 or stricter)\n"
    "  --data-host H  where data connections go: control (the default),\n"
    "                 advertised (the server's --public-host), or H\n"
    "  --retries N    reconnect and resume after a transient failure up\n"
    "                 to N times (default $FTX_RETRIES, else 3)\n"
    "  -q, --quiet    print nothing but errors and requested results\n"
    "  -h, --help     this help (after a command: that command's)\n"
    "  -V, --version  show the version\n"
    "Security options:\n"
    "  --tls          insist on TLS (STARTTLS), data connections too\n"
    "                 (also $FTX_TLS=1; used anyway when offered)\n"
    "  --cacert FILE  trust a certificate chain leading to a CA in FILE\n"
    "  --pin SHA256:HEX\n"
    "                 trust only a certificate with this fingerprint\n"
    "  --accept-new   trust and store a server seen for the first time\n"
    "  --insecure     verify nothing (warned about on every run)\n"
    "  --known-hosts FILE\n"
    "                 trusted fingerprints (default $FTX_KNOWN_HOSTS,\n"
    "                 else ~/.config/ftx/known_hosts)\n"
    "  --allow-plaintext-password\n"
    "                 send a password to a server without TLS\n"
    "Configuration: host aliases in ~/.config/ftx/config ($FTX_CONFIG),\n"
    "as in ssh_config: Host, HostName, Port, User, TLS, Pin, CACert,\n"
    "KnownHosts, PasswordFile, Retries, DataHost, AcceptNew. The command\n"
    "line wins over the file, the file over the environment.\n"
    "Exit codes: 0 success, 1 failure, 2 usage, 3 cannot connect,\n"
    "4 refused by the server, 5 integrity failure, 6 TLS or trust,\n"
    "7 login, 130 interrupted. See ftx(1).\n";

static void
help_general(void)
{
	size_t i;

	printf("usage: ftx [options] COMMAND [ARGS...]\n"
	       "       ftx [options] COMMAND ftx://[USER@]HOST[:PORT]/PATH\n"
	       "\n"
	       "Verified file transfer with an ftxd server: every transfer "
	       "is\nchecked end to end with SHA-256.\n\nCommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		printf("  %-8s %s\n", commands[i].name, commands[i].summary);
	printf("\n'ftx help COMMAND' or 'ftx COMMAND --help' shows a "
	       "command's options.\n\n%s",
	    global_help);
}

/* `ftx help CMD`, `ftx CMD --help`: on stdout, for `| less`. */
static void
help_command(const char *name)
{
	const struct command *c = command_find(name);

	if (c == NULL)
		return;
	print_lines(c->synopsis, "usage: ftx ", "       ftx ");
	printf("\n%s\n", c->summary);
	if (c->help[0] != '\0') {
		printf("\n");
		fputs(c->help, stdout);
	}
	printf("\nGlobal options (-H HOST, --port, --user, --tls, ...) work "
	       "here too: see 'ftx --help'.\n");
}

static int
cmd_help(struct app *a, int argc, char **argv, struct operands *ops)
{
	int i;

	(void)a;
	(void)ops;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			help_command("help");
			return EXITCODE_OK;
		}
		if (strcmp(argv[i], "--commands") == 0) {
			/* For shell completion: the names, one per line. */
			for (size_t k = 0; k < NCOMMANDS; k++)
				printf("%s\n", commands[k].name);
			return EXITCODE_OK;
		}
	}
	if (argc == 0) {
		help_general();
		return EXITCODE_OK;
	}
	if (argc > 1 || command_find(argv[0]) == NULL)
		return usage_error("help: no such command '%s'", argv[0]);
	help_command(argv[0]);
	return EXITCODE_OK;
}

static int
dispatch(struct app *a, int argc, char **argv)
{
	const struct command *c;
	struct operands ops = {NULL, 0, NULL};
	int rc;

	if ((c = command_find(argv[0])) == NULL)
		return usage_error("unknown command '%s'", argv[0]);
	/* There are never more operands than arguments. */
	ops.v = calloc((size_t)argc, sizeof(*ops.v));
	ops.url = calloc((size_t)argc, 1);
	if (ops.v == NULL || ops.url == NULL) {
		free(ops.v);
		free(ops.url);
		ui_error("out of memory");
		return EXITCODE_FAIL;
	}
	rc = c->run(a, argc - 1, argv + 1, &ops);
	free(ops.v);
	free(ops.url);
	return rc == HELPED ? EXITCODE_OK : rc;
}

static void
src_from_env(struct src *e)
{
	static const struct {
		const char *var;
		size_t off;
	} vars[] = {
	    {"FTX_HOST", offsetof(struct src, host)},
	    {"FTX_PORT", offsetof(struct src, port_str)},
	    {"FTX_RETRIES", offsetof(struct src, retries_str)},
	    {"FTX_TLS", offsetof(struct src, tls_str)},
	    {"FTX_ALLOW_PLAINTEXT_PASSWORD", offsetof(struct src, plain_str)},
	    {"FTX_KNOWN_HOSTS", offsetof(struct src, known_hosts)},
	    {"FTX_USER", offsetof(struct src, user)},
	};
	const char *v;
	size_t i;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if ((v = getenv(vars[i].var)) != NULL && v[0] != '\0')
			memcpy((char *)e + vars[i].off, &v, sizeof(v));
}

/* The global options, accepted before or after the command. */
static const struct gopt {
	const char *lng, *shrt;
	size_t off; /* of the value (const char *) or flag (int) in src */
	int has_value;
} gopts[] = {
    {"--host", "-H", offsetof(struct src, host), 1},
    {"--port", "-p", offsetof(struct src, port_str), 1},
    {"--data-host", NULL, offsetof(struct src, data_host), 1},
    {"--retries", NULL, offsetof(struct src, retries_str), 1},
    {"--cacert", NULL, offsetof(struct src, cacert), 1},
    {"--pin", NULL, offsetof(struct src, pin_str), 1},
    {"--known-hosts", NULL, offsetof(struct src, known_hosts), 1},
    {"--user", "-u", offsetof(struct src, user), 1},
    {"--password-file", NULL, offsetof(struct src, pass_file), 1},
    {"--quiet", "-q", offsetof(struct src, quiet), 0},
    {"--tls", NULL, offsetof(struct src, tls), 0},
    {"--accept-new", NULL, offsetof(struct src, accept_new), 0},
    {"--insecure", NULL, offsetof(struct src, insecure), 0},
    {"--allow-plaintext-password", NULL, offsetof(struct src, allow_plain), 0},
};

/*
 * If argv[*i] is a global option, take it into *cli: 1, 0 if it is not
 * one, -1 after a usage error (a missing value).
 */
static int
global_opt(int argc, char **argv, int *i, struct src *cli)
{
	const struct gopt *o;
	const char *v;
	size_t k;
	int r;

	for (k = 0; k < sizeof(gopts) / sizeof(gopts[0]); k++) {
		o = &gopts[k];
		if (!o->has_value) {
			if (strcmp(argv[*i], o->lng) != 0 &&
			    (o->shrt == NULL || strcmp(argv[*i], o->shrt) != 0))
				continue;
			*(int *)(void *)((char *)cli + o->off) = 1;
			/* --accept-new and --insecure imply TLS. */
			if (strcmp(o->lng, "--tls") != 0 &&
			    (o->off == offsetof(struct src, accept_new) ||
				o->off == offsetof(struct src, insecure)))
				cli->tls = 1;
			return 1;
		}
		r = opt_value(argc, argv, i, o->lng, &v);
		if (r == 0 && o->shrt != NULL)
			r = opt_value(argc, argv, i, o->shrt, &v);
		if (r == 1) {
			memcpy((char *)cli + o->off, &v, sizeof(v));
			return 1;
		}
		if (r == -1) {
			usage_error("%s needs a value", argv[*i]);
			return -1;
		}
	}
	return 0;
}

static int
is_flag(const char *arg, const char *lng, const char *shrt)
{
	return strcmp(arg, lng) == 0 || strcmp(arg, shrt) == 0;
}

/* The options before the command.  Returns the index of the command,
 * -1 for a clean exit (--help, --version), or -2 after a usage error. */
static int
parse_global(int argc, char **argv, struct src *cli)
{
	int i, r;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0)
			return i + 1;
		if (is_flag(argv[i], "--help", "-h")) {
			help_general();
			return -1;
		}
		if (is_flag(argv[i], "--version", "-V")) {
			printf("ftx %s (protocol %s)\n", FTX_VERSION,
			    FTX_PROTO_VERSION);
			return -1;
		}
		if ((r = global_opt(argc, argv, &i, cli)) == 1)
			continue;
		if (r == 0)
			usage_error("unknown option '%s'", argv[i]);
		return -2;
	}
	return i;
}

/* "0" or "1" from the environment into *out (only if still unset). */
static int
env_bool(const char *val, const char *var, int *out)
{
	if (val == NULL)
		return 0;
	if (strcmp(val, "1") != 0 && strcmp(val, "0") != 0)
		return usage_error("%s must be 0 or 1", var);
	if (*out == -1)
		*out = val[0] == '1';
	return 0;
}

/* The first of the strings that is set (the config's "" is unset). */
static const char *
pick(const char *cli, const char *cfg, const char *env)
{
	if (cli != NULL)
		return cli;
	if (cfg != NULL && cfg[0] != '\0')
		return cfg;
	return env;
}

/*
 * Where to connect: the host as given (command line or URL, else
 * FTX_HOST, else the default), split from a ":port", then looked up in
 * the configuration file (an alias gives its HostName and the rest).
 * 0 or EXITCODE_USAGE.
 */
static int
resolve_host(struct globals *g, const struct src *cli, const struct src *env,
    int *given_port)
{
	char path[FTX_PATH_MAX], err[FTX_ERRLEN], name[FTX_HOST_MAX + 1];
	const char *h = cli->host != NULL ? cli->host : env->host;
	int must, r;

	*given_port = 0;
	if (h == NULL)
		h = FTX_DEFAULT_HOST;
	if (h[0] == '\0')
		return usage_error("empty host name");
	if (url_hostport(h, name, sizeof(name), given_port, err, sizeof(err)) ==
	    -1)
		return usage_error("bad host '%s': %s", h, err);
	r = 0;
	if (hostcfg_path(path, sizeof(path), &must) == 0 &&
	    (r = hostcfg_lookup(path, must, name, &g->cfg, err, sizeof(err))) ==
		-1)
		return usage_error("%s", err);
	if (r == 0)
		memset(&g->cfg, 0, sizeof(g->cfg)), g->cfg.tls = -1,
						    g->cfg.accept_new = -1,
						    g->cfg.retries = -1;
	(void)str_copy(g->host, sizeof(g->host),
	    g->cfg.hostname[0] != '\0' ? g->cfg.hostname : name);
	return 0;
}

/* A number setting; 0 or EXITCODE_USAGE. */
static int
number(const char *s, const char *what, uint64_t min, uint64_t max, int *out)
{
	uint64_t v;

	if (str_to_u64(s, max, &v) == -1 || v < min)
		return usage_error("bad %s '%s' (%" PRIu64 " to %" PRIu64 ")",
		    what, s, min, max);
	*out = (int)v;
	return 0;
}

/* Port and retries: command line, config, environment, default. */
static int
resolve_numbers(struct globals *g, const struct src *cli, const struct src *env,
    int given_port)
{
	g->port = FTX_DEFAULT_PORT;
	if (cli->port_str != NULL) {
		if (number(cli->port_str, "port", 1, 65535, &g->port) != 0)
			return EXITCODE_USAGE;
	} else if (given_port != 0)
		g->port = given_port;
	else if (g->cfg.port > 0)
		g->port = g->cfg.port;
	else if (env->port_str != NULL &&
	    number(env->port_str, "port in FTX_PORT", 1, 65535, &g->port) != 0)
		return EXITCODE_USAGE;
	g->retries = FTX_RETRIES_DEFAULT;
	if (cli->retries_str != NULL)
		return number(cli->retries_str, "retry count", 0,
		    FTX_RETRIES_MAX, &g->retries);
	if (g->cfg.retries >= 0)
		g->retries = g->cfg.retries;
	else if (env->retries_str != NULL)
		return number(env->retries_str, "retry count in FTX_RETRIES", 0,
		    FTX_RETRIES_MAX, &g->retries);
	return 0;
}

/* The TLS and login settings; 0 or EXITCODE_USAGE. */
static int
resolve_security(
    struct globals *g, const struct src *cli, const struct src *env)
{
	const char *user;
	int tls = cli->tls ? 1 : g->cfg.tls;

	if (env_bool(env->tls_str, "FTX_TLS", &tls) != 0)
		return EXITCODE_USAGE;
	g->tls = tls == 1;
	g->allow_plain = cli->allow_plain ? 1 : -1;
	if (env_bool(env->plain_str, "FTX_ALLOW_PLAINTEXT_PASSWORD",
		&g->allow_plain) != 0)
		return EXITCODE_USAGE;
	g->allow_plain = g->allow_plain == 1;
	g->accept_new = cli->accept_new || g->cfg.accept_new == 1;
	g->insecure = cli->insecure;
	g->quiet = cli->quiet;
	g->cacert = pick(cli->cacert, g->cfg.cacert, NULL);
	g->pin_str = pick(cli->pin_str, g->cfg.pin, NULL);
	g->known_hosts =
	    pick(cli->known_hosts, g->cfg.known_hosts, env->known_hosts);
	g->pass_file = pick(cli->pass_file, g->cfg.pass_file, NULL);
	g->data_host = pick(cli->data_host, g->cfg.data_host, NULL);
	user = pick(cli->user, g->cfg.user, env->user);
	if (user != NULL && str_copy(g->user, sizeof(g->user), user) == -1)
		return usage_error("user name too long");
	if (g->pin_str != NULL &&
	    tls_fingerprint_parse(g->pin_str, g->pin, sizeof(g->pin)) == -1)
		return usage_error("bad --pin '%s': expected SHA256: and 64 "
				   "hex digits",
		    g->pin_str);
	return check_security(g);
}

/* Checks on the merged TLS settings; 0 or EXITCODE_USAGE. */
static int
check_security(const struct globals *g)
{
	if (g->cacert != NULL && g->cacert[0] == '\0')
		return usage_error("empty --cacert");
	if (g->known_hosts != NULL && g->known_hosts[0] == '\0')
		return usage_error("empty --known-hosts");
	if (g->pass_file != NULL && g->pass_file[0] == '\0')
		return usage_error("empty --password-file");
	if (g->data_host != NULL && g->data_host[0] == '\0')
		return usage_error("empty --data-host");
	/* SECURITY: "verify nothing" and "verify this" together would
	 * leave the user guessing which one won. */
	if (g->insecure &&
	    (g->cacert != NULL || g->pin_str != NULL || g->accept_new))
		return usage_error("--insecure cannot be combined with "
				   "--cacert, --pin or --accept-new");
	return 0;
}

/* The TLS client context with --tls (a CA file is loaded here, before
 * any network traffic; without --tls, ctl makes one when a server offers
 * TLS).  0 or EXITCODE_USAGE. */
static int
setup_tls(struct globals *g, struct ctl_sec *sec)
{
	char err[FTX_ERRLEN];

	/* Asking for a check implies the TLS it checks. */
	if (g->cacert != NULL || g->pin_str != NULL)
		g->tls = 1;
	memset(sec, 0, sizeof(*sec));
	sec->tls = g->tls;
	sec->cacert = g->cacert;
	sec->pin = g->pin_str != NULL ? g->pin : NULL;
	sec->accept_new = g->accept_new;
	sec->insecure = g->insecure;
	sec->known_hosts = g->known_hosts;
	sec->pass_file = g->pass_file;
	sec->allow_plain_pass = g->allow_plain;
	if (!g->tls)
		return 0;
	sec->ctx = tls_client_ctx(g->cacert, err, sizeof(err));
	if (sec->ctx == NULL)
		return usage_error("cannot set up TLS: %s", err);
	return 0;
}

/*
 * Everything the command line, URLs, the configuration file and the
 * environment say, merged and checked, then the session set up (no
 * network traffic yet).  Called once, by parse_args (a command's
 * options may hold global ones) or by main for the menu.  0 or an exit
 * code.
 */
static int
app_setup(struct app *a)
{
	struct globals *g = &a->g;
	int given_port, rc;

	if (a->ready)
		return 0;
	a->ready = 1;
	/* SECURITY: a URL names the server; an option naming another one,
	 * wherever it stands on the line, is a mistake, not an override:
	 * the files would go to (or come from) a server the URL does not
	 * name. */
	if (a->url_seen &&
	    (a->cli.host != a->url_host ||
		(a->url_port && a->cli.port_str != NULL) ||
		(a->url_user[0] != '\0' &&
		    strcmp(a->cli.user, a->url_user) != 0)))
		return usage_error("give the server as a URL or with "
				   "--host/--port/--user, not both");
	memset(g, 0, sizeof(*g));
	if ((rc = resolve_host(g, &a->cli, &a->env, &given_port)) != 0 ||
	    (rc = resolve_numbers(g, &a->cli, &a->env, given_port)) != 0 ||
	    (rc = resolve_security(g, &a->cli, &a->env)) != 0 ||
	    (rc = setup_tls(g, &a->sec)) != 0)
		return rc;
	ctl_init(&a->ctl, g->host, g->port);
	ctl_set_sec(&a->ctl, &a->sec);
	a->inited = 1;
	a->pass_file = g->pass_file;
	if (g->user[0] != '\0' &&
	    (rc = setup_login(a, g->user, g->pass_file)) != 0)
		return rc;
	transfer_data_host(g->data_host);
	transfer_retries(g->retries);
	ui_init(&a->ui, g->quiet);
	return 0;
}

int
main(int argc, char **argv)
{
	struct app a;
	int i, rc;

	/* A vanished peer must be an error we report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	transfer_signals();
	memset(&a, 0, sizeof(a));
	src_from_env(&a.env);
	i = parse_global(argc, argv, &a.cli);
	if (i < 0)
		return i == -1 ? EXITCODE_OK : EXITCODE_USAGE;
	if (i < argc)
		rc = dispatch(&a, argc - i, argv + i);
	else if (!isatty(STDIN_FILENO))
		rc = usage_error("no command given");
	else if ((rc = app_setup(&a)) == 0)
		rc = menu_run(&a.ctl, &a.ui);
	if (a.inited) {
		ctl_close(&a.ctl);
		ctl_free(&a.ctl);
	}
	tls_ctx_free(a.sec.ctx);
	return rc;
}

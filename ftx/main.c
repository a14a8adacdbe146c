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
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "exitcode.h"
#include "ftx_limits.h"
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
#include "hcache.h"
#include "ui.h"

struct app {
	struct ctl ctl;
	struct ui ui;
	const char *pass_file; /* --password-file, for `ftx login NAME` */
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
};

static const char help_text[] =
    "usage: ftx [--host H] [--port N] [--data-host H] [--retries N] "
    "[--quiet]\n"
    "           [--tls] [--cacert FILE | --pin SHA256:HEX | --accept-new |\n"
    "           --insecure] [--known-hosts FILE] [--user NAME]\n"
    "           [--password-file FILE] [--allow-plaintext-password]\n"
    "           COMMAND [ARGS...]\n"
    "\n"
    "Verified file transfer with an ftxd server: every transfer is\n"
    "checked end to end with SHA-256.\n"
    "\n"
    "Commands:\n"
    "  put FILE... [--as PATH] [--resume]\n"
    "                           upload files, stored under their base name\n"
    "                           (or PATH, for a single FILE); --resume\n"
    "                           sends only what the server does not have\n"
    "                           from an interrupted upload\n"
    "  put -r [-L] [--json] LOCALDIR [REMOTE]\n"
    "                           upload a tree to REMOTE (default: the\n"
    "                           base name of LOCALDIR; --as REMOTE too);\n"
    "                           -L follows symbolic links; files the\n"
    "                           server has (same SHA-256) are skipped,\n"
    "                           so a re-run finishes a cut one\n"
    "  get PATH... [-o DIR] [--resume]\n"
    "                           download files into DIR (default\n"
    "                           " FTX_DEFAULT_DOWNLOAD_DIR "); an existing "
    "file is\n"
    "                           replaced only by a verified download;\n"
    "                           --resume continues an interrupted one\n"
    "                           (kept in DIR as a hidden .ftx-part-*\n"
    "                           file) if the server's file is unchanged\n"
    "  get -r [--json] REMOTE [LOCAL]\n"
    "                           download a tree to LOCAL (default:\n"
    "                           DIR/the base name of REMOTE)\n"
    "  sync [--delete] [--dry-run] [--json] [-L] SRC DST\n"
    "                           make DST like SRC, sending only files whose\n"
    "                           SHA-256 differs; one side is remote,\n"
    "                           written ':PATH' (':' alone: the top);\n"
    "                           --delete removes what SRC lacks, --dry-run\n"
    "                           prints \"send PATH\" / \"delete PATH\"\n"
    "  ls [-R] [--long] [PATH]  list a directory (default: the top) as the\n"
    "                           server sends it: size, modification time,\n"
    "                           path, '/' after a directory; -R the whole\n"
    "                           tree below it; --long adds the SHA-256\n"
    "  rm [-r] PATH...          delete files; -r directories with all they\n"
    "                           hold\n"
    "  mkdir [-p] PATH...       make directories (-p: with their parents;\n"
    "                           an existing one is fine)\n"
    "  rmdir PATH...            remove empty directories\n"
    "  mv [--force] FROM TO     move or rename a file or directory; an\n"
    "                           existing TO is replaced only with --force\n"
    "  stat PATH...             type, size, time and SHA-256 of paths\n"
    "  hash [--md5] NAME...     print the server's SHA-256 (and MD5) as\n"
    "                           \"<hex>  <name>\" lines for sha256sum -c\n"
    "  (get, rm, ls and hash take remote globs in the last component,\n"
    "  quoted for the shell: 'logs/*.gz', matched on the server's list)\n"
    "  chat [--nick NAME]       join the chat room: type to talk to\n"
    "                           everyone, @nick text to one person,\n"
    "                           /who /whoami /time /help /quit\n"
    "  rtt [options]            measure round-trip times to the server:\n"
    "      -n N                 timed round trips (default 500)\n"
    "      --size BYTES         payload size (default 32)\n"
    "      --interval MS        pause between round trips (default 0)\n"
    "      --warmup N           untimed round trips first (default 5)\n"
    "      --udp                use UDP echo instead of TCP\n"
    "      --timeout-ms MS      UDP: wait this long for a reply\n"
    "                           (default 1000)\n"
    "      --json               print one JSON object\n"
    "  stats [--raw]            server statistics: uptime, sessions,\n"
    "                           transfers, bytes (--raw: key=value lines)\n"
    "  login [NAME]             log in as NAME (default: --user) to check\n"
    "                           the password; prints \"logged in as NAME\"\n"
    "  menu                     interactive menu (the default when no\n"
    "                           command is given on a terminal)\n"
    "\n"
    "Options:\n"
    "  --host H       server host (default $FTX_HOST, else " FTX_DEFAULT_HOST
    ")\n"
    "  --port N       control port (default $FTX_PORT, else 5001)\n"
    "  --data-host H  where data connections go: control (the default:\n"
    "                 the control host), advertised (the server's\n"
    "                 --public-host), or the host H\n"
    "  --retries N    after a transient failure (lost or refused\n"
    "                 connection, dropped data connection, server\n"
    "                 timeout, shutdown or busy, integrity failure)\n"
    "                 reconnect and resume a put or get up to N times,\n"
    "                 waiting 0.5 s, 1 s, 2 s, ... (at most 10 s) in\n"
    "                 between (default $FTX_RETRIES, else 3; 0: never;\n"
    "                 $FTX_RETRY_BASE_MS sets the first wait); the\n"
    "                 exit code is the last attempt's\n"
    "  -q, --quiet    print nothing but errors and requested results\n"
    "  -h, --help     show this help\n"
    "  -V, --version  show the version\n"
    "\n"
    "Security options (before the command):\n"
    "  (TLS is used whenever the server offers it, with the same checks;\n"
    "  these options insist on it or say how to trust the server)\n"
    "  --tls          upgrade the session to TLS (STARTTLS) before any\n"
    "                 other command, data connections too, even if the\n"
    "                 server does not offer it; refuse to go on without\n"
    "                 it (also $FTX_TLS=1)\n"
    "  --cacert FILE  trust the server if its certificate chain leads to\n"
    "                 a CA in FILE and names the host (implies --tls)\n"
    "  --pin SHA256:HEX\n"
    "                 trust only a certificate with this fingerprint;\n"
    "                 nothing is stored (implies --tls)\n"
    "  --accept-new   trust a server seen for the first time without\n"
    "                 asking, and store its fingerprint (implies --tls)\n"
    "  --insecure     do not verify the server at all (a warning every\n"
    "                 run; implies --tls)\n"
    "  --known-hosts FILE\n"
    "                 fingerprints of trusted servers (default\n"
    "                 $FTX_KNOWN_HOSTS, else ~/.config/ftx/known_hosts);\n"
    "                 without --cacert or --pin a new server's is shown\n"
    "                 and asked about on a terminal, and a changed one\n"
    "                 is refused with a warning\n"
    "  --user NAME    log in as NAME (default $FTX_USER); the password is\n"
    "                 $FTX_PASSWORD, else the first line of\n"
    "                 --password-file, else asked on the terminal\n"
    "  --password-file FILE\n"
    "                 read the password from FILE (mode 0600 or stricter)\n"
    "  --allow-plaintext-password\n"
    "                 send the password to a server that offers no TLS\n"
    "                 (trusted networks only; also\n"
    "                 $FTX_ALLOW_PLAINTEXT_PASSWORD=1); without it ftx\n"
    "                 refuses with exit 6 before sending it\n"
    "\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  other failure (local I/O error, lost connection, aborted "
    "transfer)\n"
    "  2  usage error (bad arguments or an invalid file name)\n"
    "  3  cannot connect to the server (or it is not an FTX/1 server)\n"
    "  4  the server refused the request (e.g. no such file)\n"
    "  5  integrity failure: a SHA-256 did not match, nothing was kept\n"
    "  6  TLS failed or the server is not trusted (changed or unknown\n"
    "     certificate, wrong CA, no TLS offered: also when a password\n"
    "     would have to be sent without TLS)\n"
    "  7  login failed or is required (ERROR AUTH or LOCKED)\n";

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

/*
 * Split a command's arguments into options (anywhere, until "--") and
 * operands.  Returns 0, or EXITCODE_USAGE after printing why.
 */
static int
parse_args(const char *cmd, int argc, char **argv, const struct opt *opts,
    struct operands *ops)
{
	int i, r, only_operands = 0;
	const struct opt *o;

	for (i = 0; i < argc; i++) {
		if (only_operands || argv[i][0] != '-' ||
		    strcmp(argv[i], "-") == 0) {
			ops->v[ops->n++] = argv[i];
			continue;
		}
		if (strcmp(argv[i], "--") == 0) {
			only_operands = 1;
			continue;
		}
		for (r = 0, o = opts; o != NULL && o->lng != NULL; o++)
			if ((r = opt_match(argc, argv, &i, o)) != 0)
				break;
		if (r == -1)
			return usage_error(
			    "%s: %s needs a value", cmd, argv[i]);
		if (r == 0)
			return usage_error(
			    "%s: unknown option '%s'", cmd, argv[i]);
	}
	return 0;
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
	int rc;

	if ((o->flags & TREE_COMPARE) != 0 &&
	    hcache_default_path(cache, sizeof(cache)) == 0)
		o->hcache = cache;
	rc = tree_run(&a->ctl, &a->ui, o, &st, err, sizeof(err));
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
	char err[FTX_ERRLEN], why[FTX_ERRLEN];
	int i, rc, first = EXITCODE_OK;

	if ((rc = parse_args("put", argc, argv, opts, ops)) != 0)
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
		name = as != NULL ? as : transfer_basename(ops->v[i]);
		if (path_check(name, why, sizeof(why)) == -1)
			return usage_error("put: %s cannot be stored as "
					   "'%s': %s",
			    ops->v[i], name, why);
	}
	/* transfer_put_opt connects (and retries connecting) itself; a
	 * server we cannot reach fails every further file the same way. */
	for (i = 0; i < ops->n; i++) {
		name = as != NULL ? as : transfer_basename(ops->v[i]);
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

	if ((rc = parse_args("get", argc, argv, opts, ops)) != 0)
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
		    get_glob(a, ops->v[i], dirfd, dir, xfer_flags(&x), &first) ==
			EXITCODE_CONNECT)
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

/* sync SRC DST: one of them ":PATH". */
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

	if ((rc = parse_args("sync", argc, argv, opts, ops)) != 0)
		return rc;
	if (ops->n != 2)
		return usage_error("sync: give SRC and DST");
	if ((ops->v[0][0] == ':') == (ops->v[1][0] == ':'))
		return usage_error("sync: exactly one of SRC and DST must be "
				   "remote, written ':PATH'");
	memset(&o, 0, sizeof(o));
	o.up = ops->v[1][0] == ':';
	remote = (o.up ? ops->v[1] : ops->v[0]) + 1;
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
	const int *lng = arg;

	ops_entry_print(e, e->path, *lng);
	return 0;
}

static int
cmd_ls(struct app *a, int argc, char **argv, struct operands *ops)
{
	int lng = 0, rec = 0, rc, first = EXITCODE_OK;
	const struct opt opts[] = {{"--long", "-l", NULL, &lng},
	    {"--recursive", "-R", NULL, &rec}, {NULL, NULL, NULL, NULL}};
	char err[FTX_ERRLEN];

	if ((rc = parse_args("ls", argc, argv, opts, ops)) != 0 ||
	    (rc = check_paths("ls", ops, 1, 1)) != 0)
		return rc;
	if (ops->n > 1)
		return usage_error("ls takes at most one PATH");
	if (connect_for_item(a, &first) != EXITCODE_OK)
		return first;
	/* A server without folders still lists its files (LIST). */
	if (ops->n == 0 && !rec && !ctl_has_folders(&a->ctl))
		rc = ops_ls(&a->ctl, &a->ui, lng, err, sizeof(err));
	else if ((rc = ops_need_folders(&a->ctl, err, sizeof(err))) != 0)
		;
	else if (ops->n == 1 && rglob_is_pattern(ops->v[0])) {
		rc = rglob_expand(&a->ctl, ops->v[0], RGLOB_ANY, ls_match, &lng,
		    err, sizeof(err));
		fflush(stdout);
	} else
		rc = ops_ls_path(&a->ctl, &a->ui, ops->n == 1 ? ops->v[0] : ".",
		    rec, lng, err, sizeof(err));
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

	if ((rc = parse_args("rm", argc, argv, opts, ops)) != 0)
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

	if ((rc = parse_args("mkdir", argc, argv, opts, ops)) != 0)
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

	if ((rc = parse_args("rmdir", argc, argv, NULL, ops)) != 0)
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

	if ((rc = parse_args("mv", argc, argv, opts, ops)) != 0)
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
	int i, rc, first = EXITCODE_OK;
	char err[FTX_ERRLEN];

	if ((rc = parse_args("stat", argc, argv, NULL, ops)) != 0)
		return rc;
	if (ops->n == 0)
		return usage_error("stat: no PATH given");
	if ((rc = check_paths("stat", ops, 1, 0)) != 0)
		return rc;
	for (i = 0; i < ops->n; i++) {
		if (connect_folders(a, &first) != EXITCODE_OK)
			break;
		rc = ops_stat(&a->ctl, &a->ui, ops->v[i], err, sizeof(err));
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
	int md5 = 0, i, rc, first = EXITCODE_OK;
	const struct opt opts[] = {
	    {"--md5", NULL, NULL, &md5}, {NULL, NULL, NULL, NULL}};
	struct glob_run g = {a, &first, 0, -1, NULL};
	char err[FTX_ERRLEN];

	if ((rc = parse_args("hash", argc, argv, opts, ops)) != 0)
		return rc;
	if (ops->n == 0)
		return usage_error("hash: no NAME given");
	if ((rc = check_paths("hash", ops, 0, 1)) != 0)
		return rc;
	g.flag = md5;
	for (i = 0; i < ops->n; i++) {
		if (connect_for_item(a, &first) != EXITCODE_OK)
			break;
		if (!rglob_is_pattern(ops->v[i])) {
			rc = ops_hash(
			    &a->ctl, &a->ui, ops->v[i], md5, err, sizeof(err));
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

	if ((rc = parse_args("chat", argc, argv, opts, ops)) != 0)
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
	if ((rc = parse_args("rtt", argc, argv, opts, ops)) != 0)
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
	int raw = 0, rc, first = EXITCODE_OK;
	const struct opt opts[] = {
	    {"--raw", NULL, NULL, &raw}, {NULL, NULL, NULL, NULL}};
	char err[FTX_ERRLEN];

	if ((rc = parse_args("stats", argc, argv, opts, ops)) != 0)
		return rc;
	if (ops->n != 0)
		return usage_error("stats takes no arguments");
	if (connect_for_item(a, &first) != EXITCODE_OK)
		return first;
	rc = ops_stats(&a->ctl, &a->ui, raw, err, sizeof(err));
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

	if ((rc = parse_args("login", argc, argv, NULL, ops)) != 0)
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

	if ((rc = parse_args("menu", argc, argv, NULL, ops)) != 0)
		return rc;
	if (ops->n != 0)
		return usage_error("menu takes no arguments");
	return menu_run(&a->ctl, &a->ui);
}

static const struct command {
	const char *name;
	int (*run)(struct app *a, int argc, char **argv, struct operands *ops);
} commands[] = {
    {"put", cmd_put},
    {"get", cmd_get},
    {"sync", cmd_sync},
    {"ls", cmd_ls},
    {"rm", cmd_rm},
    {"mkdir", cmd_mkdir},
    {"rmdir", cmd_rmdir},
    {"mv", cmd_mv},
    {"stat", cmd_stat},
    {"hash", cmd_hash},
    {"chat", cmd_chat},
    {"rtt", cmd_rtt},
    {"stats", cmd_stats},
    {"login", cmd_login},
    {"menu", cmd_menu},
};

static int
dispatch(struct app *a, int argc, char **argv)
{
	struct operands ops = {NULL, 0};
	size_t i;
	int rc;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		return usage_error("unknown command '%s'", argv[0]);
	/* There are never more operands than arguments. */
	ops.v = calloc((size_t)argc, sizeof(*ops.v));
	if (ops.v == NULL) {
		ui_error("out of memory");
		return EXITCODE_FAIL;
	}
	rc = commands[i].run(a, argc - 1, argv + 1, &ops);
	free(ops.v);
	return rc;
}

/* Global settings: the environment's defaults, then the options. */
struct globals {
	const char *host;
	const char *port_str; /* NULL: FTX_DEFAULT_PORT */
	const char *port_src; /* for messages: "" or " in FTX_PORT" */
	const char *data_host; /* --data-host, or NULL */
	const char *retries_str; /* NULL: FTX_RETRIES_DEFAULT */
	const char *retries_src; /* for messages: "" or " in FTX_RETRIES" */
	const char *tls_env; /* FTX_TLS, or NULL */
	const char *plain_env; /* FTX_ALLOW_PLAINTEXT_PASSWORD, or NULL */
	const char *cacert; /* --cacert */
	const char *pin_str; /* --pin as given */
	const char *known_hosts; /* --known-hosts or FTX_KNOWN_HOSTS */
	const char *user; /* --user or FTX_USER */
	const char *pass_file; /* --password-file */
	int port;
	int retries;
	int quiet;
	int tls, accept_new, insecure;
	int allow_plain; /* --allow-plaintext-password */
	char pin[FTX_FP_LEN]; /* --pin normalised */
};

static void
globals_from_env(struct globals *g)
{
	const char *env;

	memset(g, 0, sizeof(*g));
	g->host = FTX_DEFAULT_HOST;
	g->port = FTX_DEFAULT_PORT;
	g->port_src = "";
	g->retries = FTX_RETRIES_DEFAULT;
	g->retries_src = "";
	if ((env = getenv("FTX_RETRIES")) != NULL && env[0] != '\0') {
		g->retries_str = env;
		g->retries_src = " in FTX_RETRIES";
	}
	if ((env = getenv("FTX_HOST")) != NULL && env[0] != '\0')
		g->host = env;
	if ((env = getenv("FTX_TLS")) != NULL && env[0] != '\0')
		g->tls_env = env;
	env = getenv("FTX_ALLOW_PLAINTEXT_PASSWORD");
	if (env != NULL && env[0] != '\0')
		g->plain_env = env;
	if ((env = getenv("FTX_KNOWN_HOSTS")) != NULL && env[0] != '\0')
		g->known_hosts = env;
	if ((env = getenv("FTX_USER")) != NULL && env[0] != '\0')
		g->user = env;
	if ((env = getenv("FTX_PORT")) != NULL && env[0] != '\0') {
		g->port_str = env;
		g->port_src = " in FTX_PORT";
	}
}

static int
is_flag(const char *arg, const char *lng, const char *shrt)
{
	return strcmp(arg, lng) == 0 || strcmp(arg, shrt) == 0;
}

/* Global options.  Returns the index of the command, -1 for a clean
 * exit (--help, --version), or -2 after a usage error. */
static int
parse_global(int argc, char **argv, struct globals *g)
{
	int i, r;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0)
			return i + 1;
		if (is_flag(argv[i], "--help", "-h")) {
			fputs(help_text, stdout);
			return -1;
		}
		if (is_flag(argv[i], "--version", "-V")) {
			printf("ftx %s (protocol %s)\n", FTX_VERSION,
			    FTX_PROTO_VERSION);
			return -1;
		}
		if (is_flag(argv[i], "--quiet", "-q")) {
			g->quiet = 1;
			continue;
		}
		if (strcmp(argv[i], "--allow-plaintext-password") == 0) {
			g->allow_plain = 1;
			continue;
		}
		if (strcmp(argv[i], "--tls") == 0 ||
		    strcmp(argv[i], "--accept-new") == 0 ||
		    strcmp(argv[i], "--insecure") == 0) {
			g->tls = 1;
			g->accept_new |= strcmp(argv[i], "--accept-new") == 0;
			g->insecure |= strcmp(argv[i], "--insecure") == 0;
			continue;
		}
		r = opt_value(argc, argv, &i, "--host", &g->host);
		if (r == 0)
			r = opt_value(
			    argc, argv, &i, "--data-host", &g->data_host);
		if (r == 0 &&
		    (r = opt_value(argc, argv, &i, "--port", &g->port_str)) ==
			1)
			g->port_src = "";
		if (r == 0 &&
		    (r = opt_value(
			 argc, argv, &i, "--retries", &g->retries_str)) == 1)
			g->retries_src = "";
		if (r == 0)
			r = opt_value(argc, argv, &i, "--cacert", &g->cacert);
		if (r == 0)
			r = opt_value(argc, argv, &i, "--pin", &g->pin_str);
		if (r == 0)
			r = opt_value(
			    argc, argv, &i, "--known-hosts", &g->known_hosts);
		if (r == 0)
			r = opt_value(argc, argv, &i, "--user", &g->user);
		if (r == 0)
			r = opt_value(
			    argc, argv, &i, "--password-file", &g->pass_file);
		if (r == 0)
			usage_error("unknown option '%s'", argv[i]);
		if (r == -1)
			usage_error("%s needs a value", argv[i]);
		if (r != 1)
			return -2;
	}
	return i;
}

/* The TLS and login settings; 0 or EXITCODE_USAGE. */
static int
check_security(struct globals *g)
{
	if (g->tls_env != NULL) {
		if (strcmp(g->tls_env, "1") == 0)
			g->tls = 1;
		else if (strcmp(g->tls_env, "0") != 0)
			return usage_error("FTX_TLS must be 0 or 1");
	}
	/* The option wins over the environment, as everywhere. */
	if (g->plain_env != NULL && !g->allow_plain) {
		if (strcmp(g->plain_env, "1") == 0)
			g->allow_plain = 1;
		else if (strcmp(g->plain_env, "0") != 0)
			return usage_error(
			    "FTX_ALLOW_PLAINTEXT_PASSWORD must be 0 or 1");
	}
	if (g->pin_str != NULL &&
	    tls_fingerprint_parse(g->pin_str, g->pin, sizeof(g->pin)) == -1)
		return usage_error("bad --pin '%s': expected SHA256: and 64 "
				   "hex digits",
		    g->pin_str);
	if (g->cacert != NULL && g->cacert[0] == '\0')
		return usage_error("empty --cacert");
	if (g->known_hosts != NULL && g->known_hosts[0] == '\0')
		return usage_error("empty --known-hosts");
	if (g->pass_file != NULL && g->pass_file[0] == '\0')
		return usage_error("empty --password-file");
	/* SECURITY: "verify nothing" and "verify this" together would
	 * leave the user guessing which one won. */
	if (g->insecure &&
	    (g->cacert != NULL || g->pin_str != NULL || g->accept_new))
		return usage_error("--insecure cannot be combined with "
				   "--cacert, --pin or --accept-new");
	/* Asking for a check implies the TLS it checks. */
	if (g->cacert != NULL || g->pin_str != NULL)
		g->tls = 1;
	return 0;
}

/* Check what parse_global collected; 0 or EXITCODE_USAGE. */
static int
check_globals(struct globals *g)
{
	uint64_t v;

	if (g->host[0] == '\0')
		return usage_error("empty host name");
	if (g->data_host != NULL && g->data_host[0] == '\0')
		return usage_error("empty --data-host");
	if (g->retries_str != NULL) {
		if (str_to_u64(g->retries_str, FTX_RETRIES_MAX, &v) == -1)
			return usage_error("bad retry count '%s'%s (0 to %d)",
			    g->retries_str, g->retries_src, FTX_RETRIES_MAX);
		g->retries = (int)v;
	}
	if (g->port_str != NULL) {
		if (str_to_u64(g->port_str, 65535, &v) == -1 || v == 0)
			return usage_error(
			    "bad port '%s'%s", g->port_str, g->port_src);
		g->port = (int)v;
	}
	return check_security(g);
}

/* The TLS client context with --tls (a CA file is loaded here, before
 * any network traffic; without --tls, ctl makes one when a server offers
 * TLS).  0 or EXITCODE_USAGE. */
static int
setup_tls(const struct globals *g, struct ctl_sec *sec)
{
	char err[FTX_ERRLEN];

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

int
main(int argc, char **argv)
{
	struct globals g;
	struct ctl_sec sec;
	struct app a;
	int i, rc;

	/* A vanished peer must be an error we report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	transfer_signals();
	globals_from_env(&g);
	i = parse_global(argc, argv, &g);
	if (i < 0)
		return i == -1 ? EXITCODE_OK : EXITCODE_USAGE;
	if (check_globals(&g) != 0 || setup_tls(&g, &sec) != 0)
		return EXITCODE_USAGE;
	memset(&a, 0, sizeof(a));
	ctl_init(&a.ctl, g.host, g.port);
	ctl_set_sec(&a.ctl, &sec);
	a.pass_file = g.pass_file;
	if (g.user != NULL && (rc = setup_login(&a, g.user, g.pass_file)) != 0)
		goto out;
	transfer_data_host(g.data_host);
	transfer_retries(g.retries);
	ui_init(&a.ui, g.quiet);
	if (i < argc)
		rc = dispatch(&a, argc - i, argv + i);
	else if (isatty(STDIN_FILENO))
		rc = menu_run(&a.ctl, &a.ui);
	else
		rc = usage_error("no command given");
	ctl_close(&a.ctl);
out:
	ctl_free(&a.ctl);
	tls_ctx_free(sec.ctx);
	return rc;
}

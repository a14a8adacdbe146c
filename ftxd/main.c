/*
 * main.c - ftxd start-up: command line and configuration file, --daemon,
 * --pidfile, the logs.
 *
 * Exit status: 0 after a graceful stop (or --help/--version), 1 when the
 * server cannot start or fails, 2 for a usage or configuration error.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "afile.h"
#include "auth.h"
#include "certgen.h"
#include "config.h"
#include "ftx_limits.h"
#include "log.h"
#include "server.h"
#include "str.h"
#include "usercmd.h"

/* Help columns: options, then their text. */
#define HELP_INDENT 22
#define HELP_WIDTH 78

/* Print "  LEFT  text..." with the text wrapped under HELP_INDENT. */
static void
help_line(FILE *f, const char *left, const char *text)
{
	int col, len;
	const char *p = text, *sp;

	col = fprintf(f, "  %s", left);
	if (col >= HELP_INDENT) {
		fputc('\n', f);
		col = 0;
	}
	for (; col < HELP_INDENT; col++)
		fputc(' ', f);
	while (*p != '\0') {
		/* Take words while they fit; a too-long word goes alone. */
		len = 0;
		while (p[len] != '\0') {
			sp = strchr(p + len + 1, ' ');
			if (sp == NULL)
				sp = p + strlen(p);
			if (col + (int)(sp - p) > HELP_WIDTH && len > 0)
				break;
			len = (int)(sp - p);
		}
		fprintf(f, "%.*s\n", len, p);
		p += len;
		while (*p == ' ')
			p++;
		if (*p != '\0')
			fprintf(f, "%*s", HELP_INDENT, "");
		col = HELP_INDENT;
	}
}

/* The built-in default of an option, for --help ("" if none to show). */
static void
default_text(
    const struct config *d, const struct cfg_opt *o, char *out, size_t n)
{
	const char *field = (const char *)d + o->off;
	uint64_t u;
	int v;

	out[0] = '\0';
	switch (o->kind) {
	case CFG_INT:
		memcpy(&v, field, sizeof(v));
		(void)str_fmt(
		    out, n, " (%lld to %lld, default %d)", o->min, o->max, v);
		break;
	case CFG_PORTS:
		(void)str_fmt(out, n, " (default %d)", d->data_ports.first);
		break;
	case CFG_FORMAT:
		(void)str_fmt(out, n, " (default %s)",
		    cfg_log_format_name(d->log_format));
		break;
	case CFG_SIZE:
		memcpy(&u, field, sizeof(u));
		(void)str_fmt(out, n, " (default %llu)", (unsigned long long)u);
		break;
	case CFG_ANON:
		(void)str_fmt(
		    out, n, " (default %s)", cfg_anon_name(d->anonymous));
		break;
	case CFG_STR:
	case CFG_HOST:
	case CFG_PATH:
		if (field[0] != '\0')
			(void)str_fmt(out, n, " (default %s)", field);
		break;
	case CFG_BOOL:
		break;
	}
}

static void
usage(FILE *f)
{
	char left[64], text[256], def[FTX_PATH_MAX + 16];
	const struct cfg_opt *o;
	struct config d;
	size_t i, n;

	cfg_defaults(&d);
	fprintf(f,
	    "usage: ftxd [options]\n"
	    "       ftxd --gen-cert DIR\n"
	    "       ftxd user add|del|passwd|quota|list ... (see 'ftxd user "
	    "--help')\n"
	    "\n"
	    "Serve files over the FTX/1 protocol: commands on the control "
	    "port,\n"
	    "file bytes on one-time data connections, SHA-256 verified.\n"
	    "\n");
	help_line(f, "--config FILE",
	    "read settings from FILE, keys named like the options below "
	    "(default " FTX_DEFAULT_CONFIG " if it exists)");
	o = cfg_options(&n);
	for (i = 0; i < n; i++) {
		if (o[i].arg != NULL)
			(void)str_fmt(
			    left, sizeof(left), "--%s %s", o[i].name, o[i].arg);
		else
			(void)str_fmt(left, sizeof(left), "--%s", o[i].name);
		default_text(&d, &o[i], def, sizeof(def));
		(void)str_fmt(text, sizeof(text), "%s%s", o[i].help, def);
		help_line(f, left, text);
		if (o[i].neg != NULL) {
			(void)str_fmt(left, sizeof(left), "--%s", o[i].neg);
			help_line(f, left, o[i].neg_help);
		}
	}
	help_line(f, "--gen-cert DIR",
	    "create DIR/ftxd.key and a self-signed DIR/ftxd.crt for "
	    "--tls-cert/--tls-key, print its SHA-256 fingerprint, and exit");
	help_line(f, "--help", "show this help");
	help_line(f, "--version", "show the version");
	fprintf(f,
	    "\n"
	    "Command-line options override the configuration file; flags "
	    "also take\n"
	    "=yes or =no (--log-chat=no).  SIGINT/SIGTERM stop accepting, "
	    "let running\n"
	    "transfers finish for up to %d s, and exit 0.  SIGHUP reloads "
	    "the limits\n"
	    "and log settings and reopens the logs; SIGUSR1 logs "
	    "statistics.\n"
	    "See ftxd(8) and docs/PROTOCOL.md.\n",
	    FTX_SHUTDOWN_GRACE_S);
}

/* --- pid file ------------------------------------------------------------- */

/*
 * Is `pid` a live ftxd?  kill(pid, 0) says whether some process has the
 * number; /proc/PID/stat then says whether it is an ftxd (a pid file left
 * by a crash may name a reused pid) and not a zombie.  Without /proc we
 * cannot tell, and assume it is ours: refusing to start is the safe error.
 */
static int
ftxd_alive(pid_t pid)
{
	char path[64], buf[512], *open_paren, *close_paren;
	ssize_t n;
	int fd;

	if (kill(pid, 0) == -1 && errno == ESRCH)
		return 0;
	if (str_fmt(path, sizeof(path), "/proc/%ld/stat", (long)pid) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	/* "PID (COMM) STATE ...": COMM may itself contain ')'. */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (open_paren == NULL || close_paren == NULL || close_paren[1] != ' ')
		return 1;
	if (close_paren[2] == 'Z' || close_paren[2] == 'X')
		return 0;
	*close_paren = '\0';
	return strncmp(open_paren + 1, "ftxd", 4) == 0;
}

/* The pid of the live ftxd named by the pid file, 0 if there is none
 * (no file, garbage, a dead or foreign process), or -1 with `err`. */
static pid_t
pid_running(const char *path, char *err, size_t errlen)
{
	char buf[32];
	uint64_t v;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		return str_err(err, errlen, "cannot read pid file %s: %s", path,
		    strerror(errno));
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return str_err(err, errlen, "cannot read pid file %s: %s", path,
		    strerror(errno));
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (str_to_u64(buf, INT32_MAX, &v) == -1 || v == 0 ||
	    (pid_t)v == getpid())
		return 0;
	return ftxd_alive((pid_t)v) ? (pid_t)v : 0;
}

/* Refuse to start if the pid file names a running ftxd; 0 or -1. */
static int
pid_check(const char *path, char *err, size_t errlen)
{
	pid_t pid = pid_running(path, err, errlen);

	if (pid == -1)
		return -1;
	if (pid > 0)
		return str_err(err, errlen,
		    "pid file %s: ftxd is already running as pid %ld", path,
		    (long)pid);
	return 0;
}

/*
 * Write our pid through afile (readers never see a partial pid): first
 * without replacing anything, so the write fails if another ftxd wrote
 * the file since our check; then, over a stale file (or where the file
 * system has no way to refuse a replacement), replacing it.
 */
static int
pid_write(const char *path, char *err, size_t errlen)
{
	char base[NAME_MAX + 1], line[32], why[FTX_ERRLEN];
	int dfd, rc = -1;

	if (str_fmt(line, sizeof(line), "%ld\n", (long)getpid()) == -1)
		return str_err(err, errlen, "pid too long");
	if ((dfd = afile_parent(path, base, sizeof(base), why, sizeof(why))) ==
	    -1)
		return str_err(err, errlen, "pid file %s: %s", path, why);
	/* SECURITY: afile creates its temporary with O_EXCL|O_NOFOLLOW,
	 * never O_TRUNC: we may be root, and a hard link or symlink
	 * planted under the temporary's name would otherwise let us
	 * truncate or write its target. */
	if (afile_put(dfd, base, line, strlen(line), 0644, AFILE_NOREPLACE, why,
		sizeof(why)) == 0) {
		rc = 0;
		goto out;
	}
	if (errno == EEXIST && pid_check(path, err, errlen) == -1)
		goto out;
	if (afile_put(dfd, base, line, strlen(line), 0644, 0, why,
		sizeof(why)) == -1) {
		str_err(err, errlen, "cannot write pid file %s: %s", path, why);
		goto out;
	}
	rc = 0;
out:
	(void)close(dfd);
	return rc;
}

/* Remove the pid file if it is still ours. */
static void
pid_remove(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (strtol(buf, NULL, 10) == (long)getpid())
		(void)unlink(path);
}

/* --- daemon -----------------------------------------------------------------
 */

static void
die_errno(const char *what)
{
	fprintf(stderr, "ftxd: %s: %s\n", what, strerror(errno));
	_exit(1);
}

/*
 * Detach.  The original process waits on a pipe until the daemon says it
 * is serving (exit 0) or dies before that (exit 1; the daemon's error is
 * already on stderr), so `ftxd --daemon && ...` means what it says.
 * Fork twice: the first child calls setsid() to leave the terminal's
 * session, and the second, not a session leader, can never acquire a
 * controlling terminal again by opening one (a log on a tty, say).
 * Returns the pipe's write end in the daemon.
 */
static int
daemonize(void)
{
	int pfd[2], null;
	pid_t pid;
	ssize_t n;
	char c = 1;

	if (pipe2(pfd, O_CLOEXEC) == -1)
		die_errno("pipe");
	fflush(NULL);
	if ((pid = fork()) == -1)
		die_errno("fork");
	if (pid > 0) {
		close(pfd[1]);
		while ((n = read(pfd[0], &c, 1)) == -1 && errno == EINTR)
			;
		(void)waitpid(pid, NULL, 0); /* the first child */
		_exit(n == 1 && c == 0 ? 0 : 1);
	}
	close(pfd[0]);
	if (setsid() == -1)
		die_errno("setsid");
	if ((pid = fork()) == -1)
		die_errno("fork");
	if (pid > 0)
		_exit(0);
	/* Do not pin a mount point; paths were made absolute before. */
	if (chdir("/") == -1)
		die_errno("chdir /");
	umask(FTX_DAEMON_UMASK);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		die_errno("/dev/null");
	if (dup2(null, STDIN_FILENO) == -1)
		die_errno("dup2");
	close(null);
	return pfd[1];
}

/* Serving: stdout and stderr go to /dev/null, the waiting parent exits
 * 0. */
static void
daemon_ready(int fd)
{
	char c = 0;
	int null;

	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		(void)dup2(null, STDOUT_FILENO);
		(void)dup2(null, STDERR_FILENO);
		close(null);
	}
	if (write(fd, &c, 1) != 1)
		log_msg(NULL, "daemon: cannot notify the parent: %s",
		    strerror(errno));
	close(fd);
}

/* --- main -------------------------------------------------------------------
 */

/* --gen-cert DIR: a key and a self-signed certificate for first use. */
static int
gen_cert(const char *dir)
{
	char err[FTX_ERRLEN], fp[FTX_FP_LEN];

	if (certgen_write(dir, NULL, fp, sizeof(fp), err, sizeof(err)) == -1) {
		fprintf(stderr, "ftxd: %s\n", err);
		return 1;
	}
	printf("wrote %s/ftxd.key and %s/ftxd.crt\n"
	       "fingerprint %s\n"
	       "start the server with: ftxd --tls-cert %s/ftxd.crt "
	       "--tls-key %s/ftxd.key\n"
	       "clients can pin it with: ftx --tls --pin %s ...\n",
	    dir, dir, fp, dir, dir, fp);
	return 0;
}

static void
fatal(int code, const char *err)
{
	fprintf(stderr, "ftxd: %s\n", err);
	exit(code);
}

/* A failure once the log is open, said once per place: on stderr
 * (the terminal, or the daemon's waiting parent), and as a log line
 * only when the log is a file; a log on stderr would repeat it. */
static void
start_fail(const struct config *c, const char *err)
{
	if (c->log[0] != '\0')
		log_msg(NULL, "fatal: %s", err);
	fprintf(stderr, "ftxd: %s\n", err);
}

/* The logs are opened as root, before the drop to --user: tell log.c
 * which user may own them (an unknown user fails in priv_drop later). */
static void
log_trust_run_user(const char *user)
{
	struct passwd *pw;

	if (user[0] != '\0' && (pw = getpwnam(user)) != NULL)
		log_set_service_user(pw->pw_uid, pw->pw_gid);
}

int
main(int argc, char **argv)
{
	/* Static: the server state is large, and it and the command line
	 * live as long as the process (exit paths need not free them). */
	static char cwd[FTX_PATH_MAX], cfgabs[FTX_PATH_MAX];
	static struct server srv;
	static struct cfg_cli cli;
	char err[CFG_ERRLEN];
	const char *path;
	int rc, notify = -1;

	/* Account management is a subcommand of its own. */
	if (argc > 1 && strcmp(argv[1], "user") == 0)
		return usercmd_main(argc - 1, argv + 1);
	if (cfg_cli_parse(&cli, argc, argv, err, sizeof(err)) == -1) {
		fprintf(stderr, "ftxd: %s (see 'ftxd --help')\n", err);
		return 2;
	}
	if (cli.help) {
		usage(stdout);
		return 0;
	}
	if (cli.version) {
		printf(
		    "ftxd %s (protocol %s)\n", FTX_VERSION, FTX_PROTO_VERSION);
		return 0;
	}
	if (cli.gen_cert != NULL)
		return gen_cert(cli.gen_cert);
	path = cfg_default_path(&cli);
	if (cfg_build(&srv.ctx.cfg, &cli, path, err, sizeof(err)) == -1)
		fatal(2, err);
	srv.cli = &cli;
	srv.cfg_path = path;
	/* As the starting user, before detaching: the error reaches the
	 * terminal, and exit 2 says "fix the configuration". */
	if (auth_users_given(&srv.ctx.cfg, err, sizeof(err)) == -1)
		fatal(2, err);
	if (srv.ctx.cfg.daemon) {
		/* The daemon runs in "/": make every path absolute first,
		 * the config file's too, for SIGHUP. */
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			fatal(1, "cannot find the current directory");
		if (cfg_absolute_paths(&srv.ctx.cfg, cwd, err, sizeof(err)) ==
		    -1)
			fatal(2, err);
		if (path != NULL && path[0] != '/') {
			if (str_fmt(cfgabs, sizeof(cfgabs), "%s/%s", cwd,
				path) == -1)
				fatal(2, "config file path too long");
			srv.cfg_path = cfgabs;
		}
		srv.base_dir = cwd;
		if (srv.ctx.cfg.log[0] == '\0')
			fprintf(stderr,
			    "ftxd: warning: --daemon without --log: "
			    "the log goes to /dev/null\n");
	}
	/* Checked before detaching, so the error reaches the terminal. */
	if (srv.ctx.cfg.pidfile[0] != '\0' &&
	    pid_check(srv.ctx.cfg.pidfile, err, sizeof(err)) == -1)
		fatal(1, err);
	if (srv.ctx.cfg.daemon)
		notify = daemonize();
	log_trust_run_user(srv.ctx.cfg.run_user);
	if (log_open(srv.ctx.cfg.log, err, sizeof(err)) == -1 ||
	    log_xfer_open(srv.ctx.cfg.xferlog, err, sizeof(err)) == -1)
		fatal(1, err);
	log_set_format(srv.ctx.cfg.log_format);
	if (path != NULL)
		log_msg(NULL, "config file %s", srv.cfg_path);
	/* Written before srv_init, which may drop root: the pidfile's
	 * directory (/run) is usually root's. */
	if (srv.ctx.cfg.pidfile[0] != '\0' &&
	    pid_write(srv.ctx.cfg.pidfile, err, sizeof(err)) == -1) {
		start_fail(&srv.ctx.cfg, err);
		cfg_cli_free(&cli);
		return 1;
	}
	if (srv_init(&srv, err, sizeof(err)) == -1) {
		start_fail(&srv.ctx.cfg, err);
		if (srv.ctx.cfg.pidfile[0] != '\0')
			pid_remove(srv.ctx.cfg.pidfile);
		srv_free(&srv);
		cfg_cli_free(&cli);
		return 1;
	}
	if (notify != -1)
		daemon_ready(notify);
	rc = srv_run(&srv);
	if (srv.ctx.cfg.pidfile[0] != '\0')
		pid_remove(srv.ctx.cfg.pidfile);
	srv_free(&srv);
	log_close();
	cfg_cli_free(&cli);
	return rc == 0 ? 0 : 1;
}

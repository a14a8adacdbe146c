/*
 * usercmd.c - `ftxd user ...`: manage the users file from the shell.
 * See usercmd.h for the commands, users.h for the file.
 */
#include "usercmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ftx_limits.h"
#include "prompt.h"
#include "str.h"
#include "users.h"

#define EXIT_USAGE 2

/* Column width of names in `list`. */
#define LIST_NAME_WIDTH 16

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ftxd user add NAME [--quota SIZE]\n"
	    "       ftxd user del NAME\n"
	    "       ftxd user passwd NAME\n"
	    "       ftxd user quota NAME SIZE|none\n"
	    "       ftxd user list\n"
	    "options:\n"
	    "  --users FILE   the users file (default: `users` in the "
	    "config file,\n"
	    "                 else ftxd.users next to the root directory)\n"
	    "  --root DIR     the server's root (default: `root` in the "
	    "config file,\n"
	    "                 else %s)\n"
	    "  --config FILE  the ftxd configuration file to read them from\n"
	    "  --quota SIZE   bytes, or with a K, M, G or T suffix (10G); "
	    "none or 0: no quota\n"
	    "Names are 1 to %d characters of a-z, 0-9, '_' and '-', "
	    "starting with a-z\nor 0-9; '%s' is reserved.  The password is "
	    "asked twice on a terminal,\nelse read from the first line of "
	    "stdin.  Deleting a user keeps their files.\n",
	    FTX_DEFAULT_ROOT, FTX_USER_MAX, FTX_ANON_USER);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr; returns the failure exit status. */
static int
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("ftxd user: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* "none", or the size in the largest unit that is exact ("10G"). */
static void
fmt_size(char *out, size_t outlen, uint64_t v)
{
	static const char units[] = "TGMK";
	int shift = 40;
	size_t i;

	if (v == 0) {
		(void)str_copy(out, outlen, "none");
		return;
	}
	for (i = 0; units[i] != '\0'; i++, shift -= 10) {
		if (v % (1ULL << shift) == 0) {
			(void)str_fmt(out, outlen, "%llu%c",
			    (unsigned long long)(v >> shift), units[i]);
			return;
		}
	}
	(void)str_fmt(out, outlen, "%llu", (unsigned long long)v);
}

/* SIZE or "none" (0 means none too). */
static int
parse_quota(const char *s, uint64_t *q)
{
	if (strcmp(s, "none") == 0) {
		*q = 0;
		return 0;
	}
	return str_to_size(s, FTX_SIZE_ARG_MAX, q);
}

/* ---- reading a password ------------------------------------------------- */

/*
 * The new password of `name` into buf[FTX_PASS_MAX + 1]: asked twice
 * without echo on a terminal, else the first line of stdin.
 */
static int
get_password(const char *name, char *buf, size_t *len, char *err, size_t errlen)
{
	char again[FTX_PASS_MAX + 1], prompt[FTX_USER_MAX + 64];
	size_t alen = 0;
	int rc = -1;

	if (!isatty(STDIN_FILENO)) {
		if (prompt_secret(NULL, buf, FTX_PASS_MAX + 1, len,
			PROMPT_STDIN, err, errlen) == -1)
			return -1;
	} else {
		(void)str_fmt(
		    prompt, sizeof(prompt), "New password for %s: ", name);
		if (prompt_secret(prompt, buf, FTX_PASS_MAX + 1, len, 0, err,
			errlen) == -1)
			goto done;
		if (*len > 0 &&
		    prompt_secret("Retype the password: ", again, sizeof(again),
			&alen, 0, err, errlen) == -1)
			goto done;
		if (*len > 0 &&
		    (alen != *len || memcmp(buf, again, alen) != 0)) {
			(void)str_err(err, errlen, "the passwords differ");
			goto done;
		}
	}
	if (*len == 0) {
		(void)str_err(err, errlen, "empty password refused");
		goto done;
	}
	/* The client and LOGIN treat passwords as strings. */
	if (memchr(buf, '\0', *len) != NULL) {
		(void)str_err(err, errlen, "password contains a NUL byte");
		goto done;
	}
	rc = 0;
done:
	explicit_bzero(again, sizeof(again));
	if (rc == -1)
		explicit_bzero(buf, FTX_PASS_MAX + 1);
	return rc;
}

/* Ask for a password and hash it into hash[USERS_HASH_MAX]. */
static int
new_hash(const char *name, char *hash, char *err, size_t errlen)
{
	char pass[FTX_PASS_MAX + 1];
	size_t len = 0;
	int rc;

	rc = get_password(name, pass, &len, err, errlen);
	if (rc == 0)
		rc = users_hash(pass, len, hash, USERS_HASH_MAX, err, errlen);
	/* SECURITY: the password is gone from memory once hashed. */
	explicit_bzero(pass, sizeof(pass));
	return rc;
}

/* ---- the commands ------------------------------------------------------- */

struct ucmd {
	const char *users; /* the users file */
	const char *root;
	uint64_t quota;
	int have_quota;
};

/* A name for add/del/passwd/quota: EXIT_USAGE if invalid. */
static int
check_name(const char *name)
{
	char why[FTX_ERRLEN];

	if (users_name_check(name, why, sizeof(why)) == -1) {
		(void)fail("bad user name: %s", why);
		return EXIT_USAGE;
	}
	if (strcmp(name, FTX_ANON_USER) == 0) {
		(void)fail(
		    "the name '%s' is reserved for --anonymous", FTX_ANON_USER);
		return EXIT_USAGE;
	}
	return 0;
}

/* 1 exists, 0 not, -1 error (reported).  A missing file: 0. */
static int
exists(const struct ucmd *u, const char *name)
{
	struct user_rec rec;
	char err[CFG_ERRLEN];
	int rc;

	memset(&rec, 0, sizeof(rec));
	rc = users_find(u->users, name, &rec, err, sizeof(err));
	if (rc == -1 && errno == ENOENT)
		return 0;
	if (rc == -1)
		(void)fail("%s", err);
	return rc;
}

static int
cmd_add(const struct ucmd *u, const char *name)
{
	char hash[USERS_HASH_MAX], err[CFG_ERRLEN], q[32];
	int rc;

	if ((rc = check_name(name)) != 0)
		return rc;
	/* Before asking for a password (users_add checks again under the
	 * lock). */
	rc = exists(u, name);
	if (rc == 1)
		return fail("user '%s' already exists in %s", name, u->users);
	if (rc == -1)
		return 1;
	if (new_hash(name, hash, err, sizeof(err)) == -1)
		return fail("%s", err);
	rc = users_add(u->users, name, u->quota, hash, err, sizeof(err));
	explicit_bzero(hash, sizeof(hash));
	if (rc == -1)
		return fail("%s", err);
	fmt_size(q, sizeof(q), u->quota);
	printf("added user %s to %s (quota: %s); their files go to %s/%s/\n",
	    name, u->users, q, u->root, name);
	return 0;
}

static int
cmd_del(const struct ucmd *u, const char *name)
{
	char err[CFG_ERRLEN];
	int rc;

	if ((rc = check_name(name)) != 0)
		return rc;
	if (users_del(u->users, name, err, sizeof(err)) == -1)
		return fail("%s", err);
	printf("deleted user %s from %s; their files in %s/%s/ were NOT "
	       "deleted\n",
	    name, u->users, u->root, name);
	return 0;
}

static int
cmd_passwd(const struct ucmd *u, const char *name)
{
	char hash[USERS_HASH_MAX], err[CFG_ERRLEN];
	int rc;

	if ((rc = check_name(name)) != 0)
		return rc;
	rc = exists(u, name);
	if (rc == 0)
		return fail("no user '%s' in %s", name, u->users);
	if (rc == -1)
		return 1;
	if (new_hash(name, hash, err, sizeof(err)) == -1)
		return fail("%s", err);
	rc = users_set_hash(u->users, name, hash, err, sizeof(err));
	explicit_bzero(hash, sizeof(hash));
	if (rc == -1)
		return fail("%s", err);
	printf("changed the password of %s in %s\n", name, u->users);
	return 0;
}

static int
cmd_quota(const struct ucmd *u, const char *name, const char *size)
{
	char err[CFG_ERRLEN], q[32];
	uint64_t quota;
	int rc;

	if ((rc = check_name(name)) != 0)
		return rc;
	if (parse_quota(size, &quota) == -1) {
		(void)fail(
		    "bad quota '%s': bytes, a size like 10G, or none", size);
		return EXIT_USAGE;
	}
	if (users_set_quota(u->users, name, quota, err, sizeof(err)) == -1)
		return fail("%s", err);
	fmt_size(q, sizeof(q), quota);
	printf("set the quota of %s to %s in %s\n", name, q, u->users);
	return 0;
}

static int
print_user(void *arg, const struct user_rec *rec)
{
	char q[32];

	/* Never the hash: it is as good as the password to an offline
	 * guesser. */
	fmt_size(q, sizeof(q), rec->quota);
	printf("%-*s %s\n", LIST_NAME_WIDTH, rec->name, q);
	return 0;
}

static int
cmd_list(const struct ucmd *u)
{
	char err[CFG_ERRLEN];
	int n;

	if ((n = users_list(u->users, print_user, NULL, err, sizeof(err))) ==
	    -1)
		return fail("%s", err);
	if (n == 0)
		fprintf(stderr, "ftxd user: no accounts in %s\n", u->users);
	return 0;
}

/* ---- the command line --------------------------------------------------- */

enum { OPT_USERS = 1, OPT_ROOT, OPT_CONFIG, OPT_QUOTA };

int
usercmd_main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"users", required_argument, NULL, OPT_USERS},
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"quota", required_argument, NULL, OPT_QUOTA},
	    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *opt_users = NULL, *opt_root = NULL, *opt_quota = NULL;
	struct cfg_cli cli;
	struct config *c = NULL;
	struct ucmd u;
	char users[FTX_PATH_MAX], err[CFG_ERRLEN];
	const char *cmd, *cfgpath;
	int ch, nargs, want, rc = EXIT_USAGE;

	memset(&cli, 0, sizeof(cli));
	memset(&u, 0, sizeof(u));
	/* Our own getopt pass over the words after "user" (0 makes glibc
	 * start afresh even if main() used getopt before). */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (ch) {
		case OPT_USERS:
			opt_users = optarg;
			break;
		case OPT_ROOT:
			opt_root = optarg;
			break;
		case OPT_CONFIG:
			cli.config = optarg;
			break;
		case OPT_QUOTA:
			opt_quota = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			(void)fail("%s needs a value", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		default:
			if (optopt != 0)
				(void)fail("unknown option -%c", optopt);
			else
				(void)fail(
				    "unknown option %s", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	nargs = argc - optind - 1;
	if (strcmp(cmd, "add") == 0 || strcmp(cmd, "del") == 0 ||
	    strcmp(cmd, "passwd") == 0)
		want = 1;
	else if (strcmp(cmd, "quota") == 0)
		want = 2;
	else if (strcmp(cmd, "list") == 0)
		want = 0;
	else {
		(void)fail("unknown command '%s'", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (nargs != want) {
		(void)fail("'%s' takes %d argument%s", cmd, want,
		    want == 1 ? "" : "s");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (opt_quota != NULL && strcmp(cmd, "add") != 0) {
		(void)fail("--quota is for 'add' (use 'quota NAME SIZE')");
		return EXIT_USAGE;
	}
	if (opt_quota != NULL && parse_quota(opt_quota, &u.quota) == -1) {
		(void)fail("bad --quota '%s': bytes, a size like 10G, or none",
		    opt_quota);
		return EXIT_USAGE;
	}

	/* root and users as the server would see them: the configuration
	 * file, then our options. */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return fail("out of memory");
	cfg_defaults(c);
	cfgpath = cfg_default_path(&cli);
	if (cfgpath != NULL &&
	    cfg_load_file(c, cfgpath, err, sizeof(err)) == -1) {
		(void)fail("%s", err);
		goto done;
	}
	u.root = opt_root != NULL ? opt_root : c->root;
	if (opt_users != NULL)
		u.users = opt_users;
	else if (c->users[0] != '\0')
		u.users = c->users;
	else if (users_default_path(
		     u.root, users, sizeof(users), err, sizeof(err)) == -1) {
		(void)fail("%s", err);
		goto done;
	} else
		u.users = users;
	if (u.users[0] == '\0') {
		(void)fail("--users needs a file name");
		goto done;
	}

	if (strcmp(cmd, "add") == 0)
		rc = cmd_add(&u, argv[optind + 1]);
	else if (strcmp(cmd, "del") == 0)
		rc = cmd_del(&u, argv[optind + 1]);
	else if (strcmp(cmd, "passwd") == 0)
		rc = cmd_passwd(&u, argv[optind + 1]);
	else if (strcmp(cmd, "quota") == 0)
		rc = cmd_quota(&u, argv[optind + 1], argv[optind + 2]);
	else
		rc = cmd_list(&u);
	if (fflush(stdout) == EOF && rc == 0)
		rc = fail("cannot write the output: %s", strerror(errno));
done:
	free(c);
	return rc;
}

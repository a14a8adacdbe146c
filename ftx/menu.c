/*
 * menu.c - the interactive numbered menu.
 *
 * The menu is a table: adding an item is one line in `items` and one
 * function.
 */
#include "menu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "esc.h"
#include "exitcode.h"
#include "hash.h"
#include "ftx_limits.h"
#include "lineed.h"
#include "ops.h"
#include "pass.h"
#include "path.h"
#include "proto.h"
#include "rpl.h"
#include "rtt.h"
#include "str.h"
#include "talk.h"
#include "transfer.h"

/* Columns the item list may use before it wraps. */
#define MENU_WIDTH 79
/* Attempts at logging in before the menu gives up. */
#define MENU_LOGIN_TRIES 3

struct menu {
	struct ctl *c;
	const struct ui *u;
	int eof; /* stdin ended: leave after the current item */
	int tty; /* stdin and stdout are a terminal: line editing, Tab */
	char dldir[PATH_MAX]; /* where downloads go (item 8 changes it) */
};

struct menu_item {
	const char *key;
	const char *label;
	/* Returns an exit code and fills err; NULL means "quit". */
	int (*run)(struct menu *m, char *err, size_t errlen);
};

static int do_upload(struct menu *m, char *err, size_t errlen);
static int do_download(struct menu *m, char *err, size_t errlen);
static int do_list(struct menu *m, char *err, size_t errlen);
static int do_delete(struct menu *m, char *err, size_t errlen);
static int do_verify(struct menu *m, char *err, size_t errlen);
static int do_chat(struct menu *m, char *err, size_t errlen);
static int do_rtt(struct menu *m, char *err, size_t errlen);
static int do_folder(struct menu *m, char *err, size_t errlen);
static void say_where(const struct menu *m, const char *name);

static const struct menu_item items[] = {
    {"1", "Upload", do_upload},
    {"2", "Download", do_download},
    {"3", "List", do_list},
    {"4", "Delete", do_delete},
    {"5", "Verify (hash)", do_verify},
    {"6", "Chat", do_chat},
    {"7", "RTT test", do_rtt},
    {"8", "Download folder", do_folder},
    {"0", "Quit", NULL},
};

/* A terminal echoes what the user types; from a pipe (scripted use) we
 * do it, so the transcript reads like a session. */
static void
echo(const char *answer)
{
	if (!isatty(STDIN_FILENO))
		printf("%s\n", answer);
}

/*
 * Print `prompt` and read one line into out[n] without its line end.
 * Returns 1, or 0 at end of input.  A line that does not fit is
 * discarded with a message and the question is asked again.
 */
static int
ask(struct menu *m, const char *prompt, char *out, size_t n)
{
	size_t len;
	int ch;

	for (;;) {
		fputs(prompt, stdout);
		fflush(stdout);
		if (fgets(out, (int)n, stdin) == NULL) {
			m->eof = 1;
			putchar('\n');
			return 0;
		}
		len = strlen(out);
		if (len > 0 && out[len - 1] == '\n') {
			out[--len] = '\0';
			if (len > 0 && out[len - 1] == '\r')
				out[--len] = '\0';
			echo(out);
			return 1;
		}
		if (feof(stdin)) {
			echo(out); /* a last line without LF */
			return 1;
		}
		while ((ch = getchar()) != EOF && ch != '\n')
			;
		ui_error("input too long (at most %zu bytes)", n - 2);
	}
}

/*
 * Ask for a local path: on a terminal with line editing and Tab
 * completing local names, from a pipe as ask() does; a leading ~ or
 * ~user is expanded.  `empty_ok`: an empty answer is returned as it is.
 * 1, or 0 at end of input.
 */
static int
ask_path(struct menu *m, const char *prompt, int empty_ok, char *out, size_t n)
{
	char line[LED_MAX + 1], why[FTX_ERRLEN];
	int r;

	for (;;) {
		if (m->tty) {
			fflush(stdout);
			r = led_read(STDIN_FILENO, prompt, led_complete_path,
			    line, why, sizeof(why));
			if (r == -1) {
				/* Not a terminal after all: the plain way. */
				ui_error("%s", why);
				m->tty = 0;
				continue;
			}
			if (r == 0) {
				m->eof = 1;
				putchar('\n');
				return 0;
			}
		} else if (!ask(m, prompt, line, sizeof(line))) {
			return 0;
		}
		if (line[0] == '\0' && !empty_ok)
			continue;
		if (led_tilde(line, out, n, why, sizeof(why)) == 0)
			return 1;
		ui_error("%s", why);
	}
}

/* Ask until the answer is non-empty; 0 at end of input. */
static int
ask_nonempty(struct menu *m, const char *prompt, char *out, size_t n)
{
	while (ask(m, prompt, out, n))
		if (out[0] != '\0')
			return 1;
	return 0;
}

/* Ask until the answer is a valid remote name: a path ("a/b.txt") on a
 * server with folders, a plain name on an older one; 0 at end of
 * input. */
static int
ask_name(struct menu *m, const char *prompt, char *out, size_t n)
{
	char why[FTX_ERRLEN];
	int r;

	while (ask_nonempty(m, prompt, out, n)) {
		/* SECURITY: the name may become a local path. */
		if (ctl_has_folders(m->c))
			r = path_check(out, why, sizeof(why));
		else
			r = proto_name_check(out, why, sizeof(why));
		if (r == 0)
			return 1;
		ui_error("invalid name: %s", why);
	}
	return 0;
}

static int
do_upload(struct menu *m, char *err, size_t errlen)
{
	char path[FTX_LINE_MAX], as[FTX_RPATH_MAX + 2], why[FTX_ERRLEN];
	const char *name;

	if (!ask_path(m, "File to upload: ", 0, path, sizeof(path)))
		return EXITCODE_OK;
	name = transfer_basename(path);
	/* With folders it may go anywhere in the area; empty: its name. */
	if (ctl_has_folders(m->c)) {
		if (!ask(m, "Store as (empty: its name): ", as, sizeof(as)))
			return EXITCODE_OK;
		if (as[0] != '\0')
			name = as;
		if (path_check(name, why, sizeof(why)) == -1) {
			str_err(err, errlen, "cannot upload %s as '%s': %s",
			    path, name, why);
			return EXITCODE_USAGE;
		}
	} else if (proto_name_check(name, why, sizeof(why)) == -1) {
		str_err(err, errlen, "cannot upload %s as '%s': %s", path, name,
		    why);
		return EXITCODE_USAGE;
	}
	return transfer_put(m->c, m->u, path, name, err, errlen);
}

static int
do_download(struct menu *m, char *err, size_t errlen)
{
	char name[FTX_RPATH_MAX + 2];
	int dirfd, rc;

	if (!ask_name(m, "Name to download: ", name, sizeof(name)))
		return EXITCODE_OK;
	if (transfer_open_dir(m->dldir, &dirfd, err, errlen) == -1)
		return EXITCODE_FAIL;
	rc = transfer_get(m->c, m->u, name, dirfd, m->dldir, err, errlen);
	close(dirfd);
	if (rc == EXITCODE_OK)
		say_where(m, name);
	return rc;
}

/* After a download: the full path of the file, so it can be found. */
static void
say_where(const struct menu *m, const char *name)
{
	char abs[PATH_MAX], full[PATH_MAX + FTX_RPATH_MAX + 2];
	char safe[ESC_SIZE(sizeof(full))];

	if (realpath(m->dldir, abs) == NULL ||
	    str_fmt(full, sizeof(full), "%s/%s", abs, path_base(name)) == -1)
		return;
	/* Escaped like any other text we print (the name passed
	 * path_check; the folder is the user's own choice). */
	(void)ui_safe(safe, sizeof(safe), full);
	printf("saved to %s\n", safe);
	fflush(stdout);
}

/* Where downloads go: the current folder is the default answer; a new
 * one is created (like mkdir -p) and remembered as a full path. */
static int
do_folder(struct menu *m, char *err, size_t errlen)
{
	char prompt[PATH_MAX + 32], dir[PATH_MAX], abs[PATH_MAX];
	char safe[ESC_SIZE(PATH_MAX)];
	int dirfd;

	(void)ui_safe(safe, sizeof(safe), m->dldir);
	(void)str_fmt(prompt, sizeof(prompt), "Download folder [%s]: ", safe);
	if (!ask_path(m, prompt, 1, dir, sizeof(dir)))
		return EXITCODE_OK;
	if (dir[0] == '\0')
		return EXITCODE_OK; /* keep the current one */
	if (transfer_open_dir(dir, &dirfd, err, errlen) == -1)
		return EXITCODE_FAIL;
	close(dirfd);
	if (realpath(dir, abs) == NULL ||
	    str_copy(m->dldir, sizeof(m->dldir), abs) == -1) {
		(void)str_err(err, errlen, "%s: %s", dir, strerror(errno));
		return EXITCODE_FAIL;
	}
	(void)ui_safe(safe, sizeof(safe), m->dldir);
	printf("downloads go to %s\n", safe);
	return EXITCODE_OK;
}

/* The top of the area; with folders, directories too ('/' after). */
static int
do_list(struct menu *m, char *err, size_t errlen)
{
	if (ctl_has_folders(m->c))
		return ops_ls_path(m->c, m->u, ".", 0, 0, err, errlen);
	return ops_ls(m->c, m->u, 0, err, errlen);
}

static int
do_delete(struct menu *m, char *err, size_t errlen)
{
	char name[FTX_RPATH_MAX + 2];

	if (!ask_name(m, "Name to delete: ", name, sizeof(name)))
		return EXITCODE_OK;
	return ops_rm(m->c, m->u, name, err, errlen);
}

/* Compare with our downloaded copy, if there is one. */
static void
verify_local(const struct menu *m, const char *name, const char *sha)
{
	unsigned char digest[HASH_SHA256_LEN];
	char path[PATH_MAX + FTX_RPATH_MAX + 2], hex[HASH_SHA256_HEXLEN + 1];
	char why[FTX_ERRLEN];
	uint64_t size;
	int fd;

	/* A download lands under its base name. */
	if (str_fmt(path, sizeof(path), "%s/%s", m->dldir, path_base(name)) ==
	    -1)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		if (errno != ENOENT)
			ui_error("%s: %s", path, strerror(errno));
		return;
	}
	if (hash_fd(fd, HASH_SHA256, digest, &size, why, sizeof(why)) == -1) {
		ui_error("%s: %s", path, why);
	} else {
		str_hex(hex, digest, sizeof(digest));
		printf("local copy %s %s\n", path,
		    strcmp(hex, sha) == 0 ? "matches" : "DIFFERS");
	}
	close(fd);
}

static int
do_verify(struct menu *m, char *err, size_t errlen)
{
	char name[FTX_RPATH_MAX + 2], sha[HASH_SHA256_HEXLEN + 1];
	char md5[RPL_MD5_HEXLEN + 1], why[FTX_ERRLEN];
	char safe[ESC_SIZE(FTX_RPATH_MAX + 1)];
	int rc;

	if (!ask_name(m, "Name to verify: ", name, sizeof(name)))
		return EXITCODE_OK;
	rc = ops_hash_get(m->c, name, 1, sha, md5, why, sizeof(why));
	if (rc != EXITCODE_OK) {
		str_err(err, errlen, "verify %s: %s", name, why);
		return rc;
	}
	(void)ui_safe(safe, sizeof(safe), name);
	printf("sha256 %s  %s\nmd5    %s  %s\n", sha, safe, md5, safe);
	verify_local(m, name, sha);
	fflush(stdout);
	return EXITCODE_OK;
}

/* The chat asks for the nickname itself and returns here on /quit. */
static int
do_chat(struct menu *m, char *err, size_t errlen)
{
	fflush(stdout); /* talk writes with write(2) */
	return talk_run(m->c, NULL, err, errlen);
}

static int
do_rtt(struct menu *m, char *err, size_t errlen)
{
	char ans[32];
	struct rtt_opts o;
	uint64_t v;

	rtt_defaults(&o);
	for (;;) {
		if (!ask(m, "Round trips [500]: ", ans, sizeof(ans)))
			return EXITCODE_OK;
		if (ans[0] == '\0')
			break;
		if (str_to_u64(ans, FTX_RTT_MAX_N, &v) == 0 && v > 0) {
			o.n = (long)v;
			break;
		}
		ui_error("enter a number from 1 to %d", FTX_RTT_MAX_N);
	}
	for (;;) {
		if (!ask(m, "TCP or UDP [tcp]: ", ans, sizeof(ans)))
			return EXITCODE_OK;
		if (ans[0] == '\0' || strcasecmp(ans, "tcp") == 0)
			break;
		if (strcasecmp(ans, "udp") == 0) {
			o.udp = 1;
			break;
		}
		ui_error("answer tcp or udp");
	}
	fflush(stdout);
	return rtt_run(m->c, m->u, &o, err, errlen);
}

/* The items on as few lines as fit 80 columns, like the prototype:
 * "1) Upload  2) Download  ...  0) Quit". */
static void
show_items(void)
{
	size_t i, col = 0, w;

	putchar('\n');
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		w = strlen(items[i].key) + 2 + strlen(items[i].label);
		if (col > 0 && col + 2 + w > MENU_WIDTH) {
			putchar('\n');
			col = 0;
		}
		printf("%s%s) %s", col > 0 ? "  " : "", items[i].key,
		    items[i].label);
		col += (col > 0 ? 2 : 0) + w;
	}
	putchar('\n');
}

/* The item whose key is `choice` (surrounding spaces ignored). */
static const struct menu_item *
find_item(char *choice)
{
	size_t i, len;

	while (*choice == ' ')
		choice++;
	len = strlen(choice);
	while (len > 0 && choice[len - 1] == ' ')
		choice[--len] = '\0';
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++)
		if (strcmp(choice, items[i].key) == 0)
			return &items[i];
	return NULL;
}

/*
 * The server wants a login: ask for the user name (kept after a wrong
 * password: then only the password is asked again, by ctl_open on the
 * terminal).  1, or 0 at the end of input.
 */
static int
ask_login(struct menu *m)
{
	char user[FTX_USER_MAX + 2], err[FTX_ERRLEN];

	if (m->c->login_fail == CTL_LOGIN_DENIED && m->c->user[0] != '\0') {
		ctl_forget_pass(m->c);
		return 1;
	}
	printf("%s port %d requires login%s.\n", m->c->host, m->c->port,
	    (m->c->caps & RPL_CAP_ANONYMOUS) != 0
		? " (user anonymous is accepted)"
		: "");
	for (;;) {
		if (!ask_nonempty(m, "User name: ", user, sizeof(user)))
			return 0;
		if (ctl_set_login(m->c, user, NULL, err, sizeof(err)) == 0)
			return 1;
		ui_error("%s", err);
	}
}

/* Connect (or keep the session), logging in first if the server wants
 * that and we have no user yet.  An exit code; err is filled on
 * failure. */
static int
menu_connect(struct menu *m, char *err, size_t errlen)
{
	int tries, rc;

	for (tries = 0;; tries++) {
		rc = ctl_ensure(m->c, err, errlen);
		if (rc != EXITCODE_LOGIN || tries >= MENU_LOGIN_TRIES ||
		    (m->c->login_fail != CTL_LOGIN_NEEDED &&
			m->c->login_fail != CTL_LOGIN_DENIED))
			return rc;
		if (m->c->login_fail == CTL_LOGIN_DENIED)
			ui_error("%s", err);
		if (!ask_login(m))
			return rc;
	}
}

/* ./client_downloads as a full path, so the folder prompt shows where
 * it is before it exists. */
static void
default_dir(char *out, size_t n)
{
	char cwd[PATH_MAX];
	const char *d = FTX_DEFAULT_DOWNLOAD_DIR;

	if (strncmp(d, "./", 2) == 0 && getcwd(cwd, sizeof(cwd)) != NULL &&
	    str_fmt(out, n, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, d + 2) ==
		0)
		return;
	(void)str_copy(out, n, d);
}

int
menu_run(struct ctl *c, const struct ui *u)
{
	struct menu m;
	const struct menu_item *it;
	char choice[64], err[FTX_ERRLEN], tls[128];
	int rc;

	memset(&m, 0, sizeof(m));
	m.c = c;
	m.u = u;
	m.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	default_dir(m.dldir, sizeof(m.dldir));
	/* The chat item reads stdin with read(2); stdio must not have
	 * swallowed the lines meant for it. */
	if (!isatty(STDIN_FILENO))
		(void)setvbuf(stdin, NULL, _IONBF, 0);
	rc = menu_connect(&m, err, sizeof(err));
	if (rc != EXITCODE_OK) {
		ui_error("%s", err);
		return rc;
	}
	ctl_describe(c, tls, sizeof(tls));
	printf("ftx %s: connected to %s port %d%s%s%s%s\n", FTX_VERSION,
	    c->host, c->port, tls[0] != '\0' ? " with " : "", tls,
	    c->logged_in ? " as " : "", c->logged_in ? c->user : "");
	while (!m.eof) {
		show_items();
		if (!ask(&m, "Choice: ", choice, sizeof(choice)))
			break;
		it = find_item(choice);
		if (it == NULL) {
			if (choice[0] != '\0')
				ui_error("no such choice: %s", choice);
			continue;
		}
		if (it->run == NULL)
			break;
		/* The server may have closed an idle session meanwhile. */
		rc = menu_connect(&m, err, sizeof(err));
		if (rc == EXITCODE_OK)
			rc = it->run(&m, err, sizeof(err));
		if (rc != EXITCODE_OK)
			ui_error("%s", err);
		/* ERROR AUTH from a server that did not announce logins:
		 * ask now, and log in on the next item. */
		if (rc == EXITCODE_LOGIN && !c->logged_in &&
		    c->user[0] == '\0' && !ask_login(&m))
			break;
	}
	return EXITCODE_OK;
}

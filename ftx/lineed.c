/*
 * lineed.c - the chat prompt's line editor.  See lineed.h.
 */
#include "lineed.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esc.h"
#include "net.h"
#include "str.h"

/* A second Tab lists at most this many candidates, of at most this many
 * bytes in all; past that it says how many there are. */
#define LED_LIST_MAX 200
#define LED_LIST_BYTES 8192
/* Columns a listing may use. */
#define LED_LIST_WIDTH 79

/* Terminal output is best effort: a closed terminal ends the session
 * through stdin anyway. */
static void
out(const char *s, size_t n)
{
	(void)net_write_all(STDOUT_FILENO, s, n);
}

static void
outs(const char *s)
{
	out(s, strlen(s));
}

static void
redraw(struct led *e)
{
	/* CR, erase to end of line, prompt, the line so far. */
	outs("\r\033[K");
	outs(e->prompt);
	out(e->buf, e->len);
}

int
led_start(struct led *e, int fd, const char *prompt, char *err, size_t errlen)
{
	struct termios t;

	memset(e, 0, sizeof(*e));
	e->fd = fd;
	if (str_copy(e->prompt, sizeof(e->prompt), prompt) == -1)
		return str_err(err, errlen, "prompt too long");
	if (tcgetattr(fd, &e->saved) == -1)
		return str_err(err, errlen, "tcgetattr: %s", strerror(errno));
	t = e->saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t) == -1)
		return str_err(err, errlen, "tcsetattr: %s", strerror(errno));
	e->active = 1;
	redraw(e);
	return 0;
}

void
led_stop(struct led *e)
{
	if (!e->active)
		return;
	outs("\r\033[K");
	(void)tcsetattr(e->fd, TCSANOW, &e->saved);
	e->active = 0;
}

/* Remove the last character, UTF-8 continuation bytes included. */
static void
backspace(struct led *e)
{
	while (e->len > 0 && ((unsigned char)e->buf[e->len - 1] & 0xc0) == 0x80)
		e->len--;
	if (e->len > 0)
		e->len--;
}

static void
kill_word(struct led *e)
{
	while (e->len > 0 && e->buf[e->len - 1] == ' ')
		e->len--;
	while (e->len > 0 && e->buf[e->len - 1] != ' ')
		e->len--;
}

/* Swallow escape sequences byte by byte; 1 if `c` was part of one. */
static int
in_escape(struct led *e, unsigned char c)
{
	if (e->esc == 0) {
		if (c != 0x1b)
			return 0;
		e->esc = 1;
	} else if (e->esc == 1) {
		e->esc = (c == '[' || c == 'O') ? 2 : 0;
	} else if (c >= 0x40 && c <= 0x7e) {
		e->esc = 0; /* the final byte of a CSI sequence */
	}
	return 1;
}

enum led_result
led_feed(struct led *e, const char *in, size_t n, size_t *used, char *line)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (in_escape(e, c))
			continue;
		if (c == '\t' && e->complete != NULL) {
			e->tabs++;
			e->complete(e);
			redraw(e);
			continue;
		}
		e->tabs = 0;
		if (c == '\r' || c == '\n') {
			memcpy(line, e->buf, e->len);
			line[e->len] = '\0';
			e->len = 0;
			outs("\r\033[K");
			*used = i + 1;
			return LED_LINE;
		}
		if (c == 0x04 && e->len == 0) {
			*used = i + 1;
			return LED_EOF;
		}
		if (c == 0x7f || c == 0x08)
			backspace(e);
		else if (c == 0x15)
			e->len = 0;
		else if (c == 0x17)
			kill_word(e);
		else if (c >= 0x20 && e->len < LED_MAX)
			e->buf[e->len++] = (char)c;
		else
			outs("\a"); /* full, or a control key we do not use */
		redraw(e);
	}
	*used = n;
	return LED_MORE;
}

void
led_print(struct led *e, const char *text)
{
	if (e->active)
		outs("\r\033[K");
	outs(text);
	outs("\n");
	if (e->active)
		redraw(e);
}

/* Ctrl-C while led_read has the terminal: restore it, then let the
 * signal do what it would have done. */
static volatile sig_atomic_t read_interrupted;

static void
on_int(int sig)
{
	(void)sig;
	read_interrupted = 1;
}

int
led_read(int fd, const char *prompt, led_complete_fn *complete, char *line,
    char *err, size_t errlen)
{
	struct sigaction sa, old;
	struct led e;
	enum led_result r = LED_MORE;
	size_t used;
	ssize_t n;
	char c;

	if (led_start(&e, fd, prompt, err, errlen) == -1)
		return -1;
	e.complete = complete;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_int; /* no SA_RESTART: read must return */
	sigemptyset(&sa.sa_mask);
	read_interrupted = 0;
	(void)sigaction(SIGINT, &sa, &old);
	/* A byte at a time: nothing after the line is taken from stdin. */
	while (r == LED_MORE) {
		n = read(fd, &c, 1);
		if (n == -1 && errno == EINTR && !read_interrupted)
			continue;
		if (n <= 0) {
			r = LED_EOF;
			break;
		}
		r = led_feed(&e, &c, 1, &used, line);
	}
	if (r == LED_LINE) {
		/* Leave what was typed on the screen, as a terminal does. */
		outs(e.prompt);
		outs(line);
		outs("\n");
	}
	led_stop(&e);
	(void)sigaction(SIGINT, &old, NULL);
	if (read_interrupted) {
		outs("\n");
		(void)raise(SIGINT);
	}
	return r == LED_LINE ? 1 : 0;
}

int
led_tilde(const char *in, char *out, size_t n, char *err, size_t errlen)
{
	char user[LOGIN_NAME_MAX + 1];
	const char *home, *rest;
	struct passwd *pw;
	size_t ulen;

	if (in[0] != '~') {
		if (str_copy(out, n, in) == -1)
			return str_err(err, errlen, "path too long");
		return 0;
	}
	rest = strchr(in, '/');
	if (rest == NULL)
		rest = in + strlen(in);
	ulen = (size_t)(rest - in - 1);
	if (ulen == 0) {
		home = getenv("HOME");
		if ((home == NULL || home[0] == '\0') &&
		    (pw = getpwuid(getuid())) != NULL)
			home = pw->pw_dir;
		if (home == NULL || home[0] == '\0')
			return str_err(err, errlen, "no home directory for ~");
	} else {
		if (ulen >= sizeof(user))
			return str_err(err, errlen, "no such user: %s", in + 1);
		memcpy(user, in + 1, ulen);
		user[ulen] = '\0';
		if ((pw = getpwnam(user)) == NULL)
			return str_err(err, errlen, "no such user: %s", user);
		home = pw->pw_dir;
	}
	if (str_fmt(out, n, "%s%s", home, rest) == -1)
		return str_err(err, errlen, "path too long");
	return 0;
}

/* Candidates of one completion: their longest common prefix, and their
 * names (as many as fit) for a listing. */
struct cands {
	char common[NAME_MAX + 1];
	size_t n; /* matches */
	const char *name[LED_LIST_MAX];
	size_t listed;
	char store[LED_LIST_BYTES];
	size_t used;
};

static void
cands_add(struct cands *k, const char *name)
{
	size_t i, len = strlen(name);

	if (k->n++ == 0) {
		(void)str_copy(k->common, sizeof(k->common), name);
	} else {
		for (i = 0; k->common[i] != '\0' && k->common[i] == name[i];
		     i++)
			;
		k->common[i] = '\0';
	}
	if (k->listed < LED_LIST_MAX && len < sizeof(k->store) - k->used) {
		memcpy(k->store + k->used, name, len + 1);
		k->name[k->listed++] = k->store + k->used;
		k->used += len + 1;
	}
}

/* SECURITY: a local file name goes onto the terminal as it is typed: one
 * that esc_str would change (control or bidi characters) is never a
 * candidate. */
static int
printable_name(const char *name)
{
	char safe[ESC_SIZE(NAME_MAX + 1)];

	return esc_str(safe, sizeof(safe), name) == 0 &&
	    strcmp(safe, name) == 0;
}

/* Entries of directory `dir` that start with `base` (dot files only when
 * `base` starts with a dot). */
static int
scan(const char *dir, const char *base, struct cands *k)
{
	struct dirent *de;
	size_t blen = strlen(base);
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strncmp(de->d_name, base, blen) != 0 ||
		    (de->d_name[0] == '.' && base[0] != '.') ||
		    !printable_name(de->d_name))
			continue;
		cands_add(k, de->d_name);
	}
	(void)closedir(d);
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The candidates in columns, above the prompt. */
static void
list_cands(struct led *e, struct cands *k)
{
	char row[LED_LIST_WIDTH + 1];
	size_t i, w = 0, len, col = 0, cols;

	qsort(k->name, k->listed, sizeof(k->name[0]), cmp_names);
	for (i = 0; i < k->listed; i++)
		if ((len = strlen(k->name[i])) > w)
			w = len;
	w += 2;
	cols = w < LED_LIST_WIDTH ? LED_LIST_WIDTH / w : 1;
	row[0] = '\0';
	for (i = 0; i < k->listed; i++) {
		len = strlen(row);
		(void)str_fmt(row + len, sizeof(row) - len, "%-*s",
		    col + 1 < cols && i + 1 < k->listed ? (int)w : 0,
		    k->name[i]);
		if (++col == cols || i + 1 == k->listed) {
			led_print(e, row);
			row[0] = '\0';
			col = 0;
		}
	}
	if (k->listed < k->n) {
		(void)str_fmt(row, sizeof(row), "(%zu more)", k->n - k->listed);
		led_print(e, row);
	}
}

/* Insert `s` at the end of the line; 0, or -1 if it does not fit. */
static int
append(struct led *e, const char *s)
{
	size_t n = strlen(s);

	if (n > LED_MAX - e->len)
		return -1;
	memcpy(e->buf + e->len, s, n);
	e->len += n;
	return 0;
}

void
led_complete_path(struct led *e)
{
	char text[LED_MAX + 1], dir[LED_MAX + 1], base[LED_MAX + 1];
	char full[PATH_MAX], why[128];
	struct cands *k;
	struct stat st;
	char *slash;

	memcpy(text, e->buf, e->len);
	text[e->len] = '\0';
	if ((k = calloc(1, sizeof(*k))) == NULL)
		goto bell;
	/* "~" or "~user" alone: its directory, as a shell does. */
	if (text[0] == '~' && strchr(text, '/') == NULL) {
		if (led_tilde(text, dir, sizeof(dir), why, sizeof(why)) == 0 &&
		    stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
		    append(e, "/") == 0)
			goto out;
		goto bell;
	}
	slash = strrchr(text, '/');
	(void)str_copy(base, sizeof(base), slash != NULL ? slash + 1 : text);
	if (slash != NULL)
		slash[1] = '\0'; /* text is now the directory part */
	if (led_tilde(slash != NULL ? text : ".", dir, sizeof(dir), why,
		sizeof(why)) == -1 ||
	    scan(dir, base, k) == -1 || k->n == 0)
		goto bell;
	if (strlen(k->common) > strlen(base)) {
		if (append(e, k->common + strlen(base)) == -1)
			goto bell;
		if (k->n > 1) {
			e->tabs = 1; /* the next Tab lists, as in a shell */
			goto bell;
		}
	} else if (k->n > 1) {
		if (e->tabs < 2)
			goto bell;
		list_cands(e, k);
		goto out;
	}
	/* One match: a directory gets its '/', so the next Tab goes on. */
	if (k->n == 1 &&
	    str_fmt(full, sizeof(full), "%s/%s", dir, k->common) == 0 &&
	    stat(full, &st) == 0 && S_ISDIR(st.st_mode))
		(void)append(e, "/");
	e->tabs = 0;
	goto out;
bell:
	outs("\a");
out:
	free(k);
}

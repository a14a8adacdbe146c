/*
 * log.c - event log and xferlog.  See log.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ftx_limits.h"
#include "log.h"
#include "str.h"
#include "utf8.h"

#define LOG_LINE_MAX 2048
/* A JSON line: the text escaped (at most 6 bytes per byte, but lines
 * are cut to this) and the field names around it. */
#define LOG_JSON_MAX (2 * LOG_LINE_MAX)

/*
 * A log destination.  `fd` is what writers use (any thread, so it is
 * atomic); `own` is the one descriptor number we opened, kept for the
 * life of the process once it exists so that reopening can dup3() over
 * it; `dflt` is where the log goes without a file (stderr, or nowhere).
 */
struct logfile {
	atomic_int fd;
	int own;
	int dflt;
};

static struct logfile evlog = {STDERR_FILENO, -1, STDERR_FILENO};
static struct logfile xlog = {-1, -1, -1};
static atomic_int log_format = CFG_LOG_TEXT;

/* The service user (--user), the one owner besides root and ourselves
 * that a log file and its own directory may have; -1: none. */
static uid_t svc_uid = (uid_t)-1;
static gid_t svc_gid = (gid_t)-1;

void
log_set_service_user(uid_t uid, gid_t gid)
{
	svc_uid = uid;
	svc_gid = gid;
}

static int
trusted_owner(uid_t uid, int svc_ok)
{
	return uid == 0 || uid == geteuid() ||
	    (svc_ok && svc_uid != (uid_t)-1 && uid == svc_uid);
}

/*
 * SECURITY: a directory on the way to a log file must not let anyone
 * but root (or whoever runs ftxd) swap what lies below it: owned by root
 * or us, not writable by others unless sticky (/tmp), not writable by
 * the service user's group.  The log's own directory (`is_parent`) may
 * belong to the service user, who rotates the logs: what it plants
 * there is refused by file_ok().
 */
static int
dir_ok(int fd, const char *shown, int is_parent, char *err, size_t errlen)
{
	struct stat st;
	int sticky;

	if (fstat(fd, &st) == -1)
		return str_err(
		    err, errlen, "cannot stat %s: %s", shown, strerror(errno));
	sticky = (st.st_mode & S_ISVTX) != 0;
	if (!trusted_owner(st.st_uid, is_parent))
		return str_err(err, errlen,
		    "directory %s belongs to uid %lu, not to root%s", shown,
		    (unsigned long)st.st_uid,
		    is_parent ? ", ftxd's user or the service user"
			      : " or ftxd's user");
	if ((st.st_mode & S_IWOTH) && !sticky)
		return str_err(
		    err, errlen, "directory %s is writable by everyone", shown);
	if (!is_parent && (st.st_mode & S_IWGRP) && !sticky &&
	    svc_gid != (gid_t)-1 && st.st_gid == svc_gid)
		return str_err(err, errlen,
		    "directory %s is writable by the service user's group",
		    shown);
	return 0;
}

/*
 * Open (O_PATH) the directory that holds the log file `path` and copy
 * the file's name to base[basen].  The path is resolved from "/" one
 * component at a time, symbolic links by hand (at most
 * FTX_LOG_LINKS_MAX), so every directory is checked by dir_ok() before
 * we look into it: nothing on the way can be redirected by a user.
 */
static int
open_log_dir(
    const char *path, char *base, size_t basen, char *err, size_t errlen)
{
	char todo[PATH_MAX], tmp[PATH_MAX], lnk[PATH_MAX], comp[NAME_MAX + 1];
	char shown[PATH_MAX] = "";
	const char *slash = strrchr(path, '/'), *p;
	int dfd = -1, nfd, checked = 0, links = 0;
	size_t len;
	ssize_t r;
	struct stat st;

	p = slash != NULL ? slash + 1 : path;
	if (p[0] == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0 ||
	    str_copy(base, basen, p) == -1)
		return str_err(err, errlen, "%s does not name a file", path);
	len = slash != NULL ? (size_t)(slash - path) : 0;
	if (path[0] == '/') {
		if (str_fmt(todo, sizeof(todo), "%.*s", (int)len, path) == -1)
			return str_err(err, errlen, "path too long");
	} else {
		if (getcwd(tmp, sizeof(tmp)) == NULL)
			return str_err(err, errlen,
			    "cannot find the current directory: %s",
			    strerror(errno));
		if (str_fmt(todo, sizeof(todo), "%s/%.*s", tmp, (int)len,
			path) == -1)
			return str_err(err, errlen, "path too long");
	}
	p = todo;
	for (;;) {
		if (dfd == -1) {
			/* The start, or an absolute link: from the top. */
			dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (dfd == -1)
				return str_err(err, errlen, "cannot open /: %s",
				    strerror(errno));
			shown[0] = '\0';
			checked = 0;
		}
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, "/");
		if (len > NAME_MAX)
			goto toolong;
		memcpy(comp, p, len);
		comp[len] = '\0';
		p += len;
		if (strcmp(comp, ".") == 0)
			continue;
		if (!checked &&
		    dir_ok(dfd, shown[0] != '\0' ? shown : "/", 0, err,
			errlen) == -1)
			goto fail;
		checked = 1;
		nfd = openat(dfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (nfd == -1 || fstat(nfd, &st) == -1) {
			(void)str_err(err, errlen, "cannot open %s/%s: %s",
			    shown, comp, strerror(errno));
			if (nfd != -1)
				close(nfd);
			goto fail;
		}
		if (S_ISLNK(st.st_mode)) {
			/* Its directory passed dir_ok, so the link is
			 * root's (or ours): follow it, checking on. */
			close(nfd);
			r = readlinkat(dfd, comp, lnk, sizeof(lnk) - 1);
			/* SECURITY: a target that fills the buffer may have
			 * been cut: never follow a shortened path. */
			if (r >= (ssize_t)sizeof(lnk) - 1) {
				(void)str_err(err, errlen,
				    "cannot follow %s/%s: target too long",
				    shown, comp);
				goto fail;
			}
			if (++links > FTX_LOG_LINKS_MAX || r <= 0) {
				(void)str_err(err, errlen,
				    "cannot follow %s/%s: %s", shown, comp,
				    r <= 0 ? strerror(errno)
					   : "too many symbolic links");
				goto fail;
			}
			lnk[r] = '\0';
			if (str_fmt(tmp, sizeof(tmp), "%s/%s", lnk, p) == -1)
				goto toolong;
			memcpy(todo, tmp, strlen(tmp) + 1);
			p = todo;
			if (lnk[0] == '/') {
				close(dfd);
				dfd = -1;
			}
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(nfd);
			(void)str_err(err, errlen, "%s/%s is not a directory",
			    shown, comp);
			goto fail;
		}
		close(dfd);
		dfd = nfd;
		checked = 0;
		len = strlen(shown);
		(void)str_fmt(shown + len, sizeof(shown) - len, "/%s", comp);
	}
	if (dir_ok(dfd, shown[0] != '\0' ? shown : "/", 1, err, errlen) == -1)
		goto fail;
	return dfd;
toolong:
	(void)str_err(err, errlen, "path too long");
fail:
	if (dfd != -1)
		close(dfd);
	return -1;
}

/*
 * SECURITY: what we append to must be a plain file of our own: a
 * regular file (no FIFO to hang on, no device), with one link (not a
 * hard link to another file), owned by root, ftxd's user or the service
 * user, and not writable by group or others (we create it 0640).
 */
static int
file_ok(int fd, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return str_err(err, errlen, "cannot stat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return str_err(err, errlen, "not a regular file");
	if (st.st_nlink != 1)
		return str_err(err, errlen, "it has %lu hard links",
		    (unsigned long)st.st_nlink);
	if (!trusted_owner(st.st_uid, 1))
		return str_err(err, errlen,
		    "it belongs to uid %lu, not to root, ftxd's user or the "
		    "service user",
		    (unsigned long)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return str_err(err, errlen, "it is writable by %s",
		    (st.st_mode & S_IWOTH) ? "everyone" : "its group");
	return 0;
}

/* Open a log file for appending, safely (see open_log_dir, file_ok);
 * the descriptor, or -1 with the reason. */
static int
open_log_file(const char *path, const char *what, char *err, size_t errlen)
{
	char base[NAME_MAX + 1], why[CFG_ERRLEN];
	int dfd, fd, fl;

	if ((dfd = open_log_dir(path, base, sizeof(base), why, sizeof(why))) ==
	    -1)
		return str_err(
		    err, errlen, "refusing %s %s: %s", what, path, why);
	/* SECURITY: O_NOFOLLOW: a symlink planted as the log file is
	 * refused, never followed by root; O_NONBLOCK: a FIFO cannot
	 * hang start-up (file_ok refuses it). */
	fd = openat(dfd, base,
	    O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
		O_NONBLOCK,
	    0640);
	close(dfd);
	if (fd == -1)
		return str_err(err, errlen, "%s %s %s: %s",
		    errno == ELOOP ? "refusing" : "cannot open", what, path,
		    errno == ELOOP ? "it is a symbolic link" : strerror(errno));
	if (file_ok(fd, why, sizeof(why)) == -1) {
		close(fd);
		return str_err(
		    err, errlen, "refusing %s %s: %s", what, path, why);
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		(void)str_err(err, errlen, "cannot open %s %s: %s", what, path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
lf_open(struct logfile *l, const char *path, const char *what, char *err,
    size_t errlen)
{
	int fd;

	if (path == NULL || path[0] == '\0') {
		/* Writers may still hold our number: park it on /dev/null
		 * (or stderr) rather than closing it. */
		if (l->own != -1) {
			fd = l->dflt != -1 ? dup(l->dflt)
					   : open("/dev/null", O_WRONLY);
			if (fd == -1 || dup3(fd, l->own, O_CLOEXEC) == -1) {
				if (fd != -1)
					close(fd);
				return str_err(err, errlen,
				    "cannot switch %s off: %s", what,
				    strerror(errno));
			}
			close(fd);
		}
		atomic_store(&l->fd, l->dflt);
		return 0;
	}
	if ((fd = open_log_file(path, what, err, errlen)) == -1)
		return -1;
	if (l->own == -1) {
		l->own = fd;
	} else {
		if (dup3(fd, l->own, O_CLOEXEC) == -1) {
			close(fd);
			return str_err(err, errlen, "cannot reopen %s %s: %s",
			    what, path, strerror(errno));
		}
		close(fd);
	}
	atomic_store(&l->fd, l->own);
	return 0;
}

static void
lf_close(struct logfile *l)
{
	atomic_store(&l->fd, l->dflt);
	if (l->own != -1)
		close(l->own);
	l->own = -1;
}

int
log_open(const char *path, char *err, size_t errlen)
{
	return lf_open(&evlog, path, "log", err, errlen);
}

void
log_set_format(int format)
{
	atomic_store(&log_format, format);
}

int
log_xfer_open(const char *path, char *err, size_t errlen)
{
	return lf_open(&xlog, path, "xferlog", err, errlen);
}

int
log_xfer_enabled(void)
{
	return atomic_load(&xlog.fd) != -1;
}

void
log_close(void)
{
	lf_close(&evlog);
	lf_close(&xlog);
}

/* Logging must never fail the caller; a short write loses a line. */
static void
put(struct logfile *l, const char *p, size_t n)
{
	int fd = atomic_load(&l->fd);

	if (fd != -1 && write(fd, p, n) < 0)
		return;
}

/* Bytes a network string keeps in a log: printable ASCII that means
 * nothing to a shell, a log parser or a terminal. */
static int
esc_keep(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("-_.,:+=@/", c) != NULL;
}

const char *
log_esc(char *out, size_t n, const char *in)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t o = 0;

	if (n == 0)
		return "";
	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;

		/* SECURITY: every other byte becomes %XX: no control or
		 * non-ASCII byte, space, quote, ';', '$', '`' or '%' of a
		 * name (or any network text) reaches a log verbatim. */
		if (c != '\0' && esc_keep(c)) {
			if (o + 1 >= n)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= n)
				break;
			out[o++] = '%';
			out[o++] = digits[c >> 4];
			out[o++] = digits[c & 0x0f];
		}
	}
	out[o] = '\0';
	return out;
}

/*
 * SECURITY: the last line of defence for text we did not escape (error
 * texts, paths): copy `in` into out[cap] with every C0/C1 control, DEL,
 * bidi control and byte of malformed UTF-8 as %XX, so none reaches a
 * log file or a terminal that shows it.  Cut at a whole character.
 */
static void
clean(char *out, size_t cap, const char *in)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t n = strlen(in), i = 0, o = 0, k;
	unsigned long cp;

	while (i < n) {
		k = utf8_next(in + i, n - i, &cp);
		if (k > 0 && !utf8_is_hidden(cp)) {
			if (o + k >= cap)
				break;
			memcpy(out + o, in + i, k);
			o += k;
			i += k;
			continue;
		}
		/* A bad sequence: escape its first byte, resync after it. */
		k = k > 0 ? k : 1;
		if (o + 3 * k >= cap)
			break;
		for (; k > 0; k--, i++) {
			out[o++] = '%';
			out[o++] = digits[(unsigned char)in[i] >> 4];
			out[o++] = digits[(unsigned char)in[i] & 0x0f];
		}
	}
	out[o] = '\0';
}

void
log_xfer(const char *line)
{
	char buf[LOG_LINE_MAX];
	size_t n;

	clean(buf, sizeof(buf) - 1, line);
	n = strlen(buf);
	buf[n++] = '\n';
	put(&xlog, buf, n);
}

/* Append one escaped byte sequence if it fits; 0 or -1. */
static int
jput(char *out, size_t cap, size_t *len, const char *p, size_t n)
{
	if (*len + n > cap)
		return -1;
	memcpy(out + *len, p, n);
	*len += n;
	return 0;
}

/* The length of a UTF-8 sequence starting at s (n bytes available) if
 * it is well-formed, else 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned long cp;

	return utf8_next((const char *)s, n, &cp);
}

/*
 * Append `s` as the inside of a JSON string: quotes, backslashes and
 * control characters escaped, well-formed UTF-8 kept, any other byte
 * replaced by U+FFFD (JSON text must be UTF-8).  Stops before a sequence
 * that does not fit, so a cut line is still valid JSON.
 */
static void
json_str(char *out, size_t cap, size_t *len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k;
	char esc[8];

	while (i < n) {
		if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			k = 2;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			(void)str_fmt(esc, sizeof(esc), "\\u%04x", p[i]);
			k = 6;
		} else if (p[i] < 0x80) {
			esc[0] = (char)p[i];
			k = 1;
		} else if ((k = utf8_len(p + i, n - i)) > 0) {
			if (jput(out, cap, len, s + i, k) == -1)
				return;
			i += k;
			continue;
		} else {
			memcpy(esc, "\\ufffd", 7);
			k = 6;
		}
		if (jput(out, cap, len, esc, k) == -1)
			return;
		i++;
	}
}

static void
write_json(const char *ts, const char *peer, const char *msg)
{
	char line[LOG_JSON_MAX], event[32] = "";
	/* Room kept for the closing "}\n" after the last field. */
	size_t len = 0, cap = sizeof(line) - 3, n;

	/* The event is the leading word: "xfer", "connect", "shutdown". */
	for (n = 0; n < sizeof(event) - 1; n++)
		if (!((msg[n] >= 'a' && msg[n] <= 'z') ||
			(msg[n] >= 'A' && msg[n] <= 'Z') ||
			(msg[n] >= '0' && msg[n] <= '9') || msg[n] == '-' ||
			msg[n] == '_'))
			break;
	memcpy(event, msg, n);
	event[n] = '\0';
	(void)jput(line, cap, &len, "{\"time\":\"", 9);
	json_str(line, cap, &len, ts);
	if (peer == NULL) {
		(void)jput(line, cap, &len, "\",\"peer\":null", 13);
	} else {
		(void)jput(line, cap, &len, "\",\"peer\":\"", 10);
		json_str(line, cap, &len, peer);
		(void)jput(line, cap, &len, "\"", 1);
	}
	(void)jput(line, cap, &len, ",\"event\":\"", 10);
	json_str(line, cap, &len, event);
	(void)jput(line, cap, &len, "\",\"msg\":\"", 9);
	/* The message is last, so only it is ever cut short. */
	json_str(line, cap - 1, &len, msg);
	line[len++] = '"';
	line[len++] = '}';
	line[len++] = '\n';
	put(&evlog, line, len);
}

void
log_msg(const char *peer, const char *fmt, ...)
{
	char raw[LOG_LINE_MAX], line[LOG_LINE_MAX], ts[32];
	/* Zeroed: clang-analyzer cannot follow strlen() over what clean()
	 * wrote and reports the bytes past it as garbage. */
	char msg[LOG_LINE_MAX] = "";
	struct timespec now;
	struct tm tm;
	va_list ap;
	size_t len;
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	if (str_fmt(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000L) == -1)
		return; /* cannot happen: the fields are bounded */
	va_start(ap, fmt);
	/* A message that does not fit is truncated, never dropped. */
	(void)vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	clean(msg, sizeof(msg), raw);
	if (atomic_load(&log_format) == CFG_LOG_JSON) {
		write_json(ts, peer, msg);
		return;
	}
	n = snprintf(
	    line, sizeof(line), "%s %s %s", ts, peer != NULL ? peer : "-", msg);
	if (n < 0)
		return;
	len = strnlen(line, sizeof(line) - 2);
	line[len++] = '\n';
	put(&evlog, line, len);
}

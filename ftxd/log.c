/*
 * log.c - event log and xferlog.  See log.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chat.h"
#include "config.h"
#include "log.h"
#include "str.h"

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
	fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd == -1)
		return str_err(err, errlen, "cannot open %s %s: %s", what, path,
		    strerror(errno));
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

void
log_xfer(const char *line)
{
	char buf[LOG_LINE_MAX];
	size_t n = strnlen(line, sizeof(buf) - 1);

	memcpy(buf, line, n);
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
	size_t want;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		want = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		want = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		want = 4;
	else
		return 0;
	if (want > n || !chat_utf8_valid((const char *)s, want))
		return 0;
	return want;
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
	char line[LOG_LINE_MAX], ts[32];
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
	if (atomic_load(&log_format) == CFG_LOG_JSON) {
		va_start(ap, fmt);
		/* A message that does not fit is truncated, never dropped. */
		(void)vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		write_json(ts, peer, line);
		return;
	}
	n = snprintf(
	    line, sizeof(line), "%s %s ", ts, peer != NULL ? peer : "-");
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return; /* cannot happen: the prefix is bounded */
	va_start(ap, fmt);
	(void)vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	len = strnlen(line, sizeof(line) - 2);
	line[len++] = '\n';
	put(&evlog, line, len);
}

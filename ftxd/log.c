/*
 * log.c - event log.  See log.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "str.h"

#define LOG_LINE_MAX 2048

static int log_fd = STDERR_FILENO;

int
log_open(const char *path, char *err, size_t errlen)
{
	int fd;

	if (path == NULL) {
		log_fd = STDERR_FILENO;
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return str_err(err, errlen, "cannot open log %s: %s", path,
		    strerror(errno));
	log_fd = fd;
	return 0;
}

void
log_close(void)
{
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
}

void
log_msg(const char *peer, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t len;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000L, peer != NULL ? peer : "-");
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return; /* cannot happen: the prefix is bounded */
	va_start(ap, fmt);
	/* A line that does not fit is truncated, never dropped. */
	(void)vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	len = strnlen(line, sizeof(line) - 2);
	line[len++] = '\n';
	/* Logging must never fail the caller; a short write loses a line. */
	if (write(log_fd, line, len) < 0)
		return;
}

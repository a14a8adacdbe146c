/*
 * log.h - one line per event, to stderr or a file, from any thread; and
 * the xferlog(5) transfer log.
 *
 * Text format: "<ISO-8601 UTC time> <peer-or-'-'> <event text>\n".
 * JSON format (--log-format json): one object per line,
 *	{"time":"...","peer":"1.2.3.4:5" or null,"event":"xfer","msg":"..."}
 * where "event" is the first word of the text and "msg" the whole text.
 * Each line is written with a single write(2) on an O_APPEND descriptor,
 * so lines from worker threads never interleave.
 *
 * Reopening (SIGHUP, for logrotate) never closes a descriptor another
 * thread may be writing to: the new file is dup3()'d over the number the
 * writers use, so a line goes to the old file or the new one, never to
 * a closed or reused descriptor.
 */
#ifndef FTXD_LOG_H
#define FTXD_LOG_H

#include <stddef.h>

/* Log to `path` (appending, created 0640), or to stderr if NULL or "".
 * Calling it again reopens (the same or another file). */
int log_open(const char *path, char *err, size_t errlen);
/* enum cfg_log_format: CFG_LOG_TEXT or CFG_LOG_JSON. */
void log_set_format(int format);
/* The xferlog: `path`, or none if NULL or ""; may be called again. */
int log_xfer_open(const char *path, char *err, size_t errlen);
/* 1 if an xferlog is open. */
int log_xfer_enabled(void);
/* Append one line (the LF is added) to the xferlog, if open. */
void log_xfer(const char *line);
void log_close(void);
/* `peer` may be NULL for server-wide events. */
void log_msg(const char *peer, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* FTXD_LOG_H */

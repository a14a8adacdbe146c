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
 *
 * SECURITY: ftxd may open its logs as root, in a directory the service
 * user (--user) owns.  A log file is therefore opened only through a
 * checked path: every directory from "/" down is resolved one component
 * at a time and must belong to root or ftxd's user (the log's own
 * directory may belong to the service user), not be writable by others
 * unless sticky; the file itself is opened with O_NOFOLLOW and kept only
 * if it is a regular file with one link, of one of those owners, not
 * writable by group or others.  Anything else is refused, at start-up
 * and on SIGHUP alike (docs/SECURITY.md, "Log files").
 *
 * Every string that came from the network goes into a line through
 * log_esc(); log_msg() and log_xfer() additionally escape any control
 * character, bidi control or malformed UTF-8 left in a line.
 */
#ifndef FTXD_LOG_H
#define FTXD_LOG_H

#include <stddef.h>
#include <sys/types.h>

/* Room for log_esc() of an n-byte string: each byte may become "%XX". */
#define LOG_ESC_SIZE(n) (3 * (n) + 1)

/* The service user (--user NAME): a log file and its own directory may
 * belong to it, besides root and the user ftxd runs as.  Call before
 * log_open(); without it only those two are trusted. */
void log_set_service_user(uid_t uid, gid_t gid);
/* Log to `path` (appending, created 0640), or to stderr if NULL or "".
 * Calling it again reopens (the same or another file).  The path and
 * the file are checked as above; a refusal leaves the old file open. */
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
/*
 * SECURITY: the one escaping of network-derived text (file names, user
 * names, chat text, anything a peer sent) for a log line: ASCII letters,
 * digits and "-_.,:+=@/" are kept, every other byte becomes %XX (as on
 * the wire, so a name stays one word and can be decoded).  Writes at
 * most n bytes (LOG_ESC_SIZE(strlen(in)) always suffice; less cuts at a
 * whole escape) and returns out, to be used as a printf argument.
 */
const char *log_esc(char *out, size_t n, const char *in);
/* `peer` may be NULL for server-wide events. */
void log_msg(const char *peer, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* FTXD_LOG_H */

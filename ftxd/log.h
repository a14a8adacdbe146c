/*
 * log.h - one line per event, to stderr or a file, from any thread.
 *
 * Format: "<ISO-8601 UTC time> <peer-or-'-'> <event text>\n".  Each line
 * is written with a single write(2) on an O_APPEND descriptor, so lines
 * from worker threads never interleave.
 */
#ifndef FTXD_LOG_H
#define FTXD_LOG_H

#include <stddef.h>

/* Log to `path` (appending, created 0640), or to stderr if NULL. */
int log_open(const char *path, char *err, size_t errlen);
void log_close(void);
/* `peer` may be NULL for server-wide events. */
void log_msg(const char *peer, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* FTXD_LOG_H */

/*
 * json.h - the one place ftx writes JSON strings.
 *
 * Every --json output (put/get summaries, ls, hash, stats, tree
 * summaries, rtt) is one object per line on stdout; the numbers are
 * printed with the usual formats, and every string goes through
 * json_str, so a name from the server cannot break the object (or a
 * terminal: controls come out as \u escapes).
 */
#ifndef FTX_JSON_H
#define FTX_JSON_H

#include "buf.h"

/* Append `s` to `out` as a quoted JSON string: the quote, the
 * backslash and every byte below 0x20 or DEL escaped, a byte that is
 * not part of well-formed UTF-8 as \ufffd, the rest as it is.  0, or
 * -1 (nothing appended) on the buffer's cap or memory. */
int json_str(struct buf *out, const char *s);

/* Append "\"key\":" then `s` as json_str does, after a ',' unless
 * `out` is empty or ends in '{'.  0 or -1 (nothing appended). */
int json_kv_str(struct buf *out, const char *key, const char *s);

/* As json_kv_str with a number printed with `fmt` ("%" PRIu64, "%.3f")
 * or a literal (true, false, null). */
int json_kv_raw(struct buf *out, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Print `out` and a newline on stdout, flushed; 0 or -1 (write error). */
int json_print(const struct buf *out);

#endif /* FTX_JSON_H */

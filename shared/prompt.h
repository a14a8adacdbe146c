/*
 * prompt.h - ask for a secret (a password) without echo.
 *
 * Used by `ftx` (the login password) and `ftxd user` (a new password).
 * The line is read from stdin with read(2), one byte at a time, so no
 * stdio buffer keeps a copy, and on a terminal with echo off (the Enter
 * still moves to a new line).  The terminal is restored on every path,
 * a fatal signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) included: the
 * handler restores it and the process then dies of the same signal.  A
 * signal the process was started ignoring (nohup) stays ignored.
 * SIGTSTP is left alone: stopped with echo restored, we would go on
 * reading with echo on after `fg`; the shell restores the terminal for
 * itself while we are stopped.
 *
 * One prompt at a time (the handler's state is static): for
 * single-threaded callers.
 */
#ifndef FTX_PROMPT_H
#define FTX_PROMPT_H

#include <stddef.h>

/* Not a terminal: read the first line of stdin, without a prompt (so
 * `printf '%s\n' "$pw" | ftxd user add NAME` works).  Without it, no
 * terminal is an error. */
#define PROMPT_STDIN 0x1

/*
 * Print `prompt` on stderr and read one line into buf[bufsize]: at most
 * bufsize - 1 bytes, NUL-terminated, without its LF; *len is its length
 * (0 for an empty line: the caller decides).  The last line may lack
 * its LF.  -1 with err, and buf wiped, if there is no terminal (without
 * PROMPT_STDIN), nothing to read, a read error, or a longer line.
 */
int prompt_secret(const char *prompt, char *buf, size_t bufsize, size_t *len,
    int flags, char *err, size_t errlen);

#endif /* FTX_PROMPT_H */

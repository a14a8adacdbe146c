/*
 * prompt.c - ask for a secret without echo.  See prompt.h.
 */
#include "prompt.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "str.h"

/* The terminal settings to put back if a signal ends us while echo is
 * off, for the handler. */
static struct termios saved_tio;
static volatile sig_atomic_t tio_changed;

static const int tty_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NSIGS (sizeof(tty_signals) / sizeof(tty_signals[0]))

static void
on_signal(int sig)
{
	/* Async-signal-safe only: put the terminal back, then die of the
	 * same signal (it is delivered once this handler returns). */
	if (tio_changed)
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	tio_changed = 0;
	if (write(STDERR_FILENO, "\n", 1) == -1) {
		/* Nothing to do: we are about to die anyway. */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * One line from stdin, byte by byte, into buf[bufsize].  0 with *len, or
 * -1 with the reason.
 */
static int
read_line(char *buf, size_t bufsize, size_t *len, char *err, size_t errlen)
{
	size_t n = 0;
	ssize_t got;
	char c;
	int rc = 0;

	for (;;) {
		got = read(STDIN_FILENO, &c, 1);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			rc = str_err(err, errlen,
			    "cannot read the password: %s", strerror(errno));
			break;
		}
		if (got == 0) {
			if (n == 0)
				rc = str_err(err, errlen, "no password given");
			break;
		}
		if (c == '\n')
			break;
		/* SECURITY: bounded, like LOGIN's argument; the rest of an
		 * overlong line is not read (a terminal's is flushed). */
		if (n + 1 >= bufsize) {
			rc = str_err(err, errlen,
			    "password longer than %zu bytes", bufsize - 1);
			break;
		}
		buf[n++] = c;
	}
	explicit_bzero(&c, sizeof(c));
	buf[n] = '\0';
	*len = n;
	return rc;
}

/* Echo off (the newline still shows, so what follows starts on its own
 * line), the prompt, the line, and the terminal back as it was. */
static int
read_noecho(const char *prompt, char *buf, size_t bufsize, size_t *len,
    char *err, size_t errlen)
{
	struct sigaction sa, old[NSIGS];
	struct termios tio;
	size_t i;
	int rc;

	if (tcgetattr(STDIN_FILENO, &tio) == -1)
		return str_err(err, errlen, "cannot read terminal settings: %s",
		    strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	saved_tio = tio;
	for (i = 0; i < NSIGS; i++) {
		(void)sigaction(tty_signals[i], NULL, &old[i]);
		/* A signal we were started ignoring (nohup) stays ignored. */
		if (old[i].sa_handler != SIG_IGN)
			(void)sigaction(tty_signals[i], &sa, NULL);
	}
	tio.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	tio.c_lflag |= ECHONL;
	tio_changed = 1;
	/* The prompt comes after echo is off: what is typed once it shows
	 * is neither echoed nor flushed by TCSAFLUSH. */
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio) == -1) {
		tio_changed = 0;
		rc = str_err(
		    err, errlen, "cannot turn off echo: %s", strerror(errno));
	} else {
		fputs(prompt, stderr);
		fflush(stderr);
		rc = read_line(buf, bufsize, len, err, errlen);
	}
	if (tio_changed)
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	tio_changed = 0;
	for (i = 0; i < NSIGS; i++)
		(void)sigaction(tty_signals[i], &old[i], NULL);
	return rc;
}

int
prompt_secret(const char *prompt, char *buf, size_t bufsize, size_t *len,
    int flags, char *err, size_t errlen)
{
	int rc;

	*len = 0;
	if (bufsize == 0)
		return str_err(err, errlen, "no room for a password");
	if (isatty(STDIN_FILENO))
		rc = read_noecho(prompt, buf, bufsize, len, err, errlen);
	else if ((flags & PROMPT_STDIN) != 0)
		rc = read_line(buf, bufsize, len, err, errlen);
	else
		rc = str_err(err, errlen, "no terminal to ask for a password");
	/* SECURITY: a refused password leaves no copy behind. */
	if (rc == -1) {
		explicit_bzero(buf, bufsize);
		*len = 0;
	}
	return rc;
}

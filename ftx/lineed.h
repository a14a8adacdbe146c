/*
 * lineed.h - a minimal line editor for the chat prompt.
 *
 * The terminal's own line editing (canonical mode) keeps the half-typed
 * line where we cannot see it, so a message arriving mid-line would be
 * printed into it.  Instead the terminal goes to non-canonical mode
 * without echo, and this module keeps the line, echoes it, and can redraw
 * it under any text printed above (led_print).  Keys: printable text and
 * UTF-8, Backspace, Ctrl-U (kill line), Ctrl-W (kill word), Enter, and
 * Ctrl-D on an empty line (end of input); other escape sequences (arrow
 * keys) are ignored.  Ctrl-C still raises SIGINT.
 *
 * The menu's prompts use it too (led_read), with Tab calling a completion
 * hook: led_complete_path completes the line as a local path, the way a
 * shell does (the longest common prefix; a second Tab lists the
 * candidates).  led_tilde expands a leading ~ or ~user.
 */
#ifndef FTX_LINEED_H
#define FTX_LINEED_H

#include <stddef.h>
#include <termios.h>

#include "ftx_limits.h"

/* Longest line we let the user type: a private message at its limit. */
#define LED_MAX (FTX_CHAT_TEXT_MAX + FTX_NICK_MAX + 2)

struct led;
/* Called on Tab with the line in e->buf[e->len]; edits it in place. */
typedef void led_complete_fn(struct led *e);

struct led {
	int fd; /* the terminal (stdin) */
	led_complete_fn *complete; /* NULL: Tab rings the bell */
	int tabs; /* Tabs in a row, for listing on the second */
	int active; /* raw mode on */
	struct termios saved;
	char prompt[64];
	char buf[LED_MAX + 1];
	size_t len;
	int esc; /* inside an escape sequence: 0 none, 1 after ESC, 2 CSI */
};

enum led_result { LED_MORE, LED_LINE, LED_EOF };

/* Put terminal `fd` in raw mode and show the prompt; 0 or -1. */
int led_start(
    struct led *e, int fd, const char *prompt, char *err, size_t errlen);
/* Restore the terminal (idempotent). */
void led_stop(struct led *e);
/* Feed typed bytes.  On LED_LINE the finished line is copied to
 * line[LED_MAX + 1] and *used says how many bytes of `in` were consumed
 * (feed the rest again). */
enum led_result led_feed(
    struct led *e, const char *in, size_t n, size_t *used, char *line);
/* Print one line of output above the prompt without garbling it. */
void led_print(struct led *e, const char *text);

/*
 * Ask for one line on terminal `fd` with editing and Tab calling
 * `complete` (may be NULL); the terminal is restored before returning,
 * and Ctrl-C restores it before the signal takes its usual course.
 * Returns 1 with the line in line[LED_MAX + 1], 0 at end of input
 * (Ctrl-D on an empty line), -1 with err filled.
 */
int led_read(int fd, const char *prompt, led_complete_fn *complete, char *line,
    char *err, size_t errlen);
/* A completion hook: the line is a local path (~ expanded for lookup). */
void led_complete_path(struct led *e);
/* `in` with a leading "~" or "~user" (alone or before '/') replaced by
 * that home directory, into out[n]; other text is copied as is.  0, or
 * -1 with err filled (unknown user, no $HOME, too long). */
int led_tilde(const char *in, char *out, size_t n, char *err, size_t errlen);

#endif /* FTX_LINEED_H */

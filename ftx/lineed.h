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
 */
#ifndef FTX_LINEED_H
#define FTX_LINEED_H

#include <stddef.h>
#include <termios.h>

#include "ftx_limits.h"

/* Longest line we let the user type: a private message at its limit. */
#define LED_MAX (FTX_CHAT_TEXT_MAX + FTX_NICK_MAX + 2)

struct led {
	int fd; /* the terminal (stdin) */
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

#endif /* FTX_LINEED_H */

/*
 * lineed.c - the chat prompt's line editor.  See lineed.h.
 */
#include "lineed.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "str.h"

/* Terminal output is best effort: a closed terminal ends the session
 * through stdin anyway. */
static void
out(const char *s, size_t n)
{
	(void)net_write_all(STDOUT_FILENO, s, n);
}

static void
outs(const char *s)
{
	out(s, strlen(s));
}

static void
redraw(struct led *e)
{
	/* CR, erase to end of line, prompt, the line so far. */
	outs("\r\033[K");
	outs(e->prompt);
	out(e->buf, e->len);
}

int
led_start(struct led *e, int fd, const char *prompt, char *err, size_t errlen)
{
	struct termios t;

	memset(e, 0, sizeof(*e));
	e->fd = fd;
	if (str_copy(e->prompt, sizeof(e->prompt), prompt) == -1)
		return str_err(err, errlen, "prompt too long");
	if (tcgetattr(fd, &e->saved) == -1)
		return str_err(err, errlen, "tcgetattr: %s", strerror(errno));
	t = e->saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t) == -1)
		return str_err(err, errlen, "tcsetattr: %s", strerror(errno));
	e->active = 1;
	redraw(e);
	return 0;
}

void
led_stop(struct led *e)
{
	if (!e->active)
		return;
	outs("\r\033[K");
	(void)tcsetattr(e->fd, TCSANOW, &e->saved);
	e->active = 0;
}

/* Remove the last character, UTF-8 continuation bytes included. */
static void
backspace(struct led *e)
{
	while (e->len > 0 && ((unsigned char)e->buf[e->len - 1] & 0xc0) == 0x80)
		e->len--;
	if (e->len > 0)
		e->len--;
}

static void
kill_word(struct led *e)
{
	while (e->len > 0 && e->buf[e->len - 1] == ' ')
		e->len--;
	while (e->len > 0 && e->buf[e->len - 1] != ' ')
		e->len--;
}

/* Swallow escape sequences byte by byte; 1 if `c` was part of one. */
static int
in_escape(struct led *e, unsigned char c)
{
	if (e->esc == 0) {
		if (c != 0x1b)
			return 0;
		e->esc = 1;
	} else if (e->esc == 1) {
		e->esc = (c == '[' || c == 'O') ? 2 : 0;
	} else if (c >= 0x40 && c <= 0x7e) {
		e->esc = 0; /* the final byte of a CSI sequence */
	}
	return 1;
}

enum led_result
led_feed(struct led *e, const char *in, size_t n, size_t *used, char *line)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (in_escape(e, c))
			continue;
		if (c == '\r' || c == '\n') {
			memcpy(line, e->buf, e->len);
			line[e->len] = '\0';
			e->len = 0;
			outs("\r\033[K");
			*used = i + 1;
			return LED_LINE;
		}
		if (c == 0x04 && e->len == 0) {
			*used = i + 1;
			return LED_EOF;
		}
		if (c == 0x7f || c == 0x08)
			backspace(e);
		else if (c == 0x15)
			e->len = 0;
		else if (c == 0x17)
			kill_word(e);
		else if (c >= 0x20 && e->len < LED_MAX)
			e->buf[e->len++] = (char)c;
		else
			outs("\a"); /* full, or a control key we do not use */
		redraw(e);
	}
	*used = n;
	return LED_MORE;
}

void
led_print(struct led *e, const char *text)
{
	if (e->active)
		outs("\r\033[K");
	outs(text);
	outs("\n");
	if (e->active)
		redraw(e);
}

/*
 * ui.c - what the user sees: error lines, transfer summaries, progress.
 */
#include "ui.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "esc.h"
#include "ftx_limits.h"
#include "progress.h"
#include "str.h"

void
ui_init(struct ui *u, int quiet)
{
	u->quiet = quiet;
	u->bar = !quiet && isatty(STDERR_FILENO);
}

void
ui_error(const char *fmt, ...)
{
	char msg[FTX_LINE_MAX], safe[ESC_SIZE(FTX_LINE_MAX)];
	va_list ap;

	va_start(ap, fmt);
	(void)str_vfmt(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* SECURITY: error lines quote the server (reasons, names) and
	 * are escaped as a whole, whatever their parts came from. */
	(void)esc_str(safe, sizeof(safe), msg);
	/* Results already printed must appear before the error. */
	fflush(stdout);
	fprintf(stderr, "ftx: %s\n", safe);
}

const char *
ui_safe(char *buf, size_t n, const char *s)
{
	(void)esc_str(buf, n, s);
	return buf;
}

void
ui_say(const struct ui *u, const char *fmt, ...)
{
	va_list ap;

	if (u->quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

void
ui_summary(const struct ui *u, const char *verb, const char *name,
    uint64_t bytes, double secs, const char *sha256hex)
{
	char human[32], safe[ESC_SIZE(FTX_NAME_MAX)];

	if (progress_bytes(human, sizeof(human), bytes) == -1)
		human[0] = '\0';
	/* A tiny transfer can finish within the clock's resolution. */
	if (secs < 1e-6)
		secs = 1e-6;
	/* MB/s in powers of ten, like network speeds are quoted. */
	ui_say(u, "%s %s: %s in %.2f s (%.1f MB/s), verified sha256 %s\n", verb,
	    ui_safe(safe, sizeof(safe), name), human, secs,
	    (double)bytes / secs / 1e6, sha256hex);
}

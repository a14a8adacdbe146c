/*
 * ui.h - what the user sees: error lines, transfer summaries, progress.
 *
 * Errors are one line on stderr starting with "ftx: ".  Results (ls,
 * hash) go to stdout whatever --quiet says; chatter (summaries, "deleted
 * NAME") only without --quiet.
 */
#ifndef FTX_UI_H
#define FTX_UI_H

#include <stddef.h>
#include <stdint.h>

struct ui {
	int quiet; /* --quiet: nothing but errors and requested results */
	int bar; /* live progress bar on stderr */
};

/* Decide once: a bar only on a terminal and without --quiet. */
void ui_init(struct ui *u, int quiet);
/* "ftx: <message>" on stderr, the whole line escaped (esc.h). */
void ui_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* `s` escaped (esc.h) into buf[n], for printing text from the network:
 * returns buf (cut short if it does not fit; ESC_SIZE(strlen(s)) does). */
const char *ui_safe(char *buf, size_t n, const char *s);
/* Chatter on stdout, suppressed by --quiet. */
void ui_say(const struct ui *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "uploaded NAME: 1.0 MiB in 0.12 s (8.3 MB/s), verified sha256 HEX" */
void ui_summary(const struct ui *u, const char *verb, const char *name,
    uint64_t bytes, double secs, const char *sha256hex);

#endif /* FTX_UI_H */

/*
 * ui.h - what the user sees: error lines, transfer summaries, progress.
 *
 * stdout carries only data (get -o -) and results scripts parse (ls,
 * hash, --json objects); everything else -- errors, summaries, notices,
 * progress -- goes to stderr.  Errors are one line starting with "ftx: ".
 * Results go to stdout whatever --quiet says; chatter (summaries,
 * "deleted NAME") only without --quiet.
 */
#ifndef FTX_UI_H
#define FTX_UI_H

#include <stddef.h>
#include <stdint.h>

struct ui {
	int quiet; /* --quiet: nothing but errors and requested results */
	int bar; /* live progress bar on stderr */
	int json; /* put/get --json: one JSON object per file on stdout */
};

/* One file of a put or get, for ui_result. */
struct ui_result {
	const char *op; /* "put" or "get" */
	const char *path; /* the remote path */
	const char *local; /* the local file; "-" for stdin or stdout */
	uint64_t bytes; /* the file's size */
	uint64_t moved; /* bytes that crossed the network in this run */
	double secs;
	const char *sha256; /* hex; NULL when skipped without hashing */
	int resumed; /* continued from an earlier partial */
	const char *skipped; /* NULL, or why nothing moved: "exists", "same" */
};

/* Decide once: a bar only on a terminal and without --quiet. */
void ui_init(struct ui *u, int quiet);
/* "ftx: <message>" on stderr, the whole line escaped (esc.h). */
void ui_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* `s` escaped (esc.h) into buf[n], for printing text from the network:
 * returns buf (cut short if it does not fit; ESC_SIZE(strlen(s)) does). */
const char *ui_safe(char *buf, size_t n, const char *s);
/* Chatter on stderr, suppressed by --quiet. */
void ui_say(const struct ui *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "uploaded NAME: 1.0 MiB in 0.12 s (8.3 MiB/s), verified sha256 HEX" */
void ui_summary(const struct ui *u, const char *verb, const char *name,
    uint64_t bytes, double secs, const char *sha256hex);
/*
 * A put's or get's outcome: with --json one object on stdout (keys in
 * docs/ftx.1: op, path, local, bytes, bytes_this_run, seconds,
 * bytes_per_second, sha256, resumed, skipped), else a summary line on
 * stderr ("skipped NAME: exists" for a skipped file).  The rate counts
 * only the bytes moved in this run.
 */
void ui_result(const struct ui *u, const struct ui_result *r);

#endif /* FTX_UI_H */

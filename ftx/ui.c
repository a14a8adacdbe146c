/*
 * ui.c - what the user sees: error lines, transfer summaries, progress.
 */
#include "ui.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "esc.h"
#include "ftx_limits.h"
#include "json.h"
#include "progress.h"
#include "str.h"

/* One JSON result line: the escaped path twice (path, local) and a few
 * numbers; a path is at most FTX_RPATH_MAX bytes, each up to 6 escaped. */
#define UI_JSON_MAX (4 * FTX_RPATH_MAX * 6 + 512)

void
ui_init(struct ui *u, int quiet)
{
	u->quiet = quiet;
	u->bar = !quiet && isatty(STDERR_FILENO);
	u->json = 0;
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
	/* Chatter goes to stderr: stdout is for data and results a
	 * script parses, and a summary there would end up in a pipe. */
	fflush(stdout);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

/* "1.0 MiB in 0.12 s (8.3 MiB/s" for `moved` bytes in `secs`. */
static void
rate_text(char *out, size_t n, uint64_t bytes, uint64_t moved, double secs)
{
	char human[32], rate[32];

	/* A tiny transfer can finish within the clock's resolution. */
	if (secs < 1e-6)
		secs = 1e-6;
	if (progress_bytes(human, sizeof(human), bytes) == -1)
		human[0] = '\0';
	/* IEC units everywhere (docs/ftx.1, UNITS): MiB/s, as the bar. */
	if (progress_rate(rate, sizeof(rate), (double)moved / secs) == -1)
		rate[0] = '\0';
	(void)str_fmt(out, n, "%s in %.2f s (%s", human, secs, rate);
}

void
ui_summary(const struct ui *u, const char *verb, const char *name,
    uint64_t bytes, double secs, const char *sha256hex)
{
	char safe[ESC_SIZE(FTX_NAME_MAX)], rt[128];

	rate_text(rt, sizeof(rt), bytes, bytes, secs);
	ui_say(u, "%s %s: %s), verified sha256 %s\n", verb,
	    ui_safe(safe, sizeof(safe), name), rt, sha256hex);
}

/* The --json object of a result, on stdout (keys: docs/ftx.1). */
static void
result_json(const struct ui_result *r)
{
	struct buf b;
	double secs = r->secs > 1e-6 ? r->secs : 1e-6;
	uint64_t bps = r->moved > 0 ? (uint64_t)((double)r->moved / secs) : 0;
	int bad;

	buf_init(&b, UI_JSON_MAX);
	bad = buf_printf(&b, "{") == -1 || json_kv_str(&b, "op", r->op) == -1 ||
	    json_kv_str(&b, "path", r->path) == -1 ||
	    json_kv_str(&b, "local", r->local) == -1 ||
	    json_kv_raw(&b, "bytes", "%" PRIu64, r->bytes) == -1 ||
	    json_kv_raw(&b, "bytes_this_run", "%" PRIu64, r->moved) == -1 ||
	    json_kv_raw(&b, "seconds", "%.3f", r->secs) == -1 ||
	    json_kv_raw(&b, "bytes_per_second", "%" PRIu64, bps) == -1 ||
	    (r->sha256 != NULL ? json_kv_str(&b, "sha256", r->sha256)
			       : json_kv_raw(&b, "sha256", "null")) == -1 ||
	    json_kv_raw(&b, "resumed", "%s", r->resumed ? "true" : "false") ==
		-1 ||
	    (r->skipped != NULL ? json_kv_str(&b, "skipped", r->skipped)
				: json_kv_raw(&b, "skipped", "null")) == -1 ||
	    buf_printf(&b, "}") == -1;
	if (bad || json_print(&b) == -1)
		ui_error("cannot print the JSON result for %s", r->path);
	buf_free(&b);
}

void
ui_result(const struct ui *u, const struct ui_result *r)
{
	char safe[ESC_SIZE(FTX_NAME_MAX)], rt[128], run[64], h[32];
	int get = strcmp(r->op, "get") == 0;

	if (u->json) {
		result_json(r);
		return;
	}
	ui_safe(safe, sizeof(safe), r->path);
	if (r->skipped != NULL) {
		ui_say(u, "skipped %s: %s\n", safe,
		    strcmp(r->skipped, "same") == 0 ? "same SHA-256"
						    : r->skipped);
		return;
	}
	rate_text(rt, sizeof(rt), r->bytes, r->moved, r->secs);
	run[0] = '\0';
	if (r->resumed && progress_bytes(h, sizeof(h), r->moved) == 0)
		(void)str_fmt(run, sizeof(run), "; resumed, %s this run", h);
	ui_say(u, "%s %s%s: %s%s), verified sha256 %s\n",
	    get ? "downloaded" : "uploaded", safe,
	    strcmp(r->local, "-") != 0 ? ""
		: get		       ? " to standard output"
				       : " from standard input",
	    rt, run, r->sha256 != NULL ? r->sha256 : "-");
}

/*
 * progress.c - transfer progress bars and human-readable figures.
 */
#include "progress.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "str.h"

/* Redraw at most this often (seconds): 10 times a second. */
#define PROGRESS_REDRAW_S 0.1
/* The transfer rate is measured over windows of about this length. */
#define PROGRESS_RATE_WINDOW_S 1.0
/* Before the first window closes, show a provisional rate after this. */
#define PROGRESS_RATE_EARLY_S 0.3
/* Width of the bar's inside, in columns. */
#define PROGRESS_BAR_MIN 5
#define PROGRESS_BAR_MAX 50
/* A shortened label keeps at least this many columns. */
#define PROGRESS_LABEL_MIN 8
/* Terminal width when the fd is not a terminal. */
#define PROGRESS_DEFAULT_WIDTH 80

int
progress_bytes(char *out, size_t n, uint64_t v)
{
	static const char *units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double d;
	int u = -1;

	if (v < 1024)
		return str_fmt(out, n, "%llu B", (unsigned long long)v);
	d = (double)v;
	while (d >= 1024.0 && u < 5) {
		d /= 1024.0;
		u++;
	}
	/* 1023.96 KiB would print as "1024.0 KiB": promote it instead. */
	if (d >= 1023.95 && u < 5) {
		d /= 1024.0;
		u++;
	}
	return str_fmt(out, n, "%.1f %s", d, units[u]);
}

int
progress_rate(char *out, size_t n, double bytes_per_s)
{
	char b[32];

	if (!(bytes_per_s >= 0.0) || isinf(bytes_per_s))
		return str_copy(out, n, "--/s");
	if (progress_bytes(b, sizeof(b),
		bytes_per_s > 1.8e19 ? UINT64_MAX : (uint64_t)bytes_per_s) ==
	    -1)
		return -1;
	return str_fmt(out, n, "%s/s", b);
}

int
progress_eta(char *out, size_t n, double secs)
{
	unsigned long long s, h;

	/* Unknown, or so far away that it means nothing (> ~11 years). */
	if (!(secs >= 0.0) || secs > 1e9 || isinf(secs))
		return str_copy(out, n, "--:--");
	s = (unsigned long long)(secs + 0.5);
	h = s / 3600;
	if (h > 0)
		return str_fmt(out, n, "%llu:%02u:%02u", h,
		    (unsigned)(s / 60 % 60), (unsigned)(s % 60));
	return str_fmt(
	    out, n, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
}

/* Display columns of a UTF-8 string: continuation bytes take none. */
static size_t
str_cols(const char *s)
{
	size_t c = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			c++;
	return c;
}

/* Byte length of the first `cols` columns of `s` (never splits a
 * UTF-8 sequence). */
static size_t
cols_prefix(const char *s, size_t cols)
{
	size_t i = 0, c = 0;

	while (s[i] != '\0') {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (c == cols)
				break;
			c++;
		}
		i++;
	}
	return i;
}

/* A bounded appender: records overflow instead of writing past `n`. */
struct out {
	char *p;
	size_t n;
	size_t len;
	int over;
};

static void
out_mem(struct out *o, const char *s, size_t len)
{
	if (o->over || len >= o->n - o->len) {
		o->over = 1;
		return;
	}
	memcpy(o->p + o->len, s, len);
	o->len += len;
	o->p[o->len] = '\0';
}

static void
out_str(struct out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void
out_chars(struct out *o, char c, size_t k)
{
	while (k-- > 0 && !o->over)
		out_mem(o, &c, 1);
}

/* The label, made safe for a terminal and cut to `cols` columns. */
static void
out_label(struct out *o, const char *label, size_t cols)
{
	size_t full = str_cols(label), take, i;
	int cut = full > cols;

	/* Cut labels end in "..." so the user can tell. */
	take = cut ? cols_prefix(label, cols > 3 ? cols - 3 : cols)
		   : strlen(label);
	for (i = 0; i < take && !o->over; i++) {
		char c = label[i];

		/* SECURITY: a file name from the server must not be able to
		 * send escape sequences to the user's terminal. */
		if ((unsigned char)c < 0x20 || c == 0x7f)
			c = '?';
		out_mem(o, &c, 1);
	}
	if (cut && cols > 3)
		out_str(o, "...");
}

static void
out_bar(struct out *o, uint64_t done, uint64_t total, size_t inner)
{
	size_t fill;

	if (total == 0 || done >= total)
		fill = inner;
	else
		fill = (size_t)((double)done / (double)total * (double)inner);
	if (fill > inner)
		fill = inner;
	out_str(o, "[");
	if (fill == inner) {
		out_chars(o, '=', inner);
	} else if (fill > 0) {
		out_chars(o, '=', fill - 1);
		out_str(o, ">");
		out_chars(o, ' ', inner - fill);
	} else {
		out_chars(o, ' ', inner);
	}
	out_str(o, "]");
}

/* progress_format for a total not known: "label  4.5 MiB  12.3 MiB/s",
 * the label cut (then dropped) to fit. */
static int
format_open(char *out, size_t n, const char *label, uint64_t done, double rate,
    size_t w)
{
	char sdone[24], srate[32], stats[64];
	struct out o = {out, n, 0, 0};
	size_t sl, lcols = str_cols(label);

	if (progress_bytes(sdone, sizeof(sdone), done) == -1)
		return -1;
	if (rate >= 0.0 && !isinf(rate) && rate < 1.8e19) {
		if (progress_bytes(srate, sizeof(srate) - 2, (uint64_t)rate) ==
		    -1)
			return -1;
		(void)str_fmt(srate + strlen(srate), 3, "/s");
	} else {
		(void)str_copy(srate, sizeof(srate), "--/s");
	}
	(void)str_fmt(stats, sizeof(stats), "%s  %s", sdone, srate);
	/* Too narrow for both: the bytes alone. */
	if (strlen(stats) > w)
		(void)str_copy(stats, sizeof(stats), sdone);
	sl = strlen(stats);
	if (lcols > 0 && sl + 2 + PROGRESS_LABEL_MIN <= w) {
		out_label(&o, label, lcols < w - sl - 2 ? lcols : w - sl - 2);
		out_str(&o, "  ");
	}
	if (sl <= w)
		out_str(&o, stats);
	return o.over ? -1 : 0;
}

int
progress_format(char *out, size_t n, const char *label, uint64_t done,
    uint64_t total, double rate, int width)
{
	char pct[8], sdone[24], stotal[24], srate[32], seta[32];
	char stats[4][128];
	struct out o = {out, n, 0, 0};
	size_t w, lcols, fixed, i, label_min;
	unsigned pc;
	int pass;

	if (n == 0)
		return -1;
	out[0] = '\0';
	w = width > 0 ? (size_t)width : 0;
	if (label == NULL)
		label = "";
	lcols = str_cols(label);
	label_min = lcols < PROGRESS_LABEL_MIN ? lcols : PROGRESS_LABEL_MIN;
	if (total == PROGRESS_UNKNOWN)
		return format_open(out, n, label, done, rate, w);

	if (total == 0 || done >= total) {
		pc = 100;
	} else {
		pc = (unsigned)((double)done * 100.0 / (double)total);
		/* Never claim 100% before the last byte. */
		if (pc > 99)
			pc = 99;
	}
	(void)str_fmt(pct, sizeof(pct), "%3u%%", pc);
	if (progress_bytes(sdone, sizeof(sdone), done) == -1 ||
	    progress_bytes(stotal, sizeof(stotal), total) == -1)
		return -1;
	if (progress_rate(srate, sizeof(srate), rate) == -1)
		return -1;
	if (done >= total)
		(void)progress_eta(seta, sizeof(seta), 0.0);
	else if (rate > 0.0)
		(void)progress_eta(
		    seta, sizeof(seta), (double)(total - done) / rate);
	else
		(void)progress_eta(seta, sizeof(seta), -1.0);

	/* From most to least complete; the first that fits wins. */
	(void)str_fmt(stats[0], sizeof(stats[0]), "%s/%s  %s  ETA %s", sdone,
	    stotal, srate, seta);
	(void)str_fmt(stats[1], sizeof(stats[1]), "%s  ETA %s", srate, seta);
	(void)str_fmt(stats[2], sizeof(stats[2]), "%s", srate);
	stats[3][0] = '\0';

	/* First pass: keep the label (cut if need be) and drop figures
	 * from the right.  Second pass: drop the label too. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < 4; i++) {
			size_t sl = strlen(stats[i]);
			size_t withlab, rem;

			/* pct, then " stats" when there are any. */
			fixed = strlen(pct) + (sl > 0 ? 1 + sl : 0);
			if (fixed > w)
				continue;
			if (pass == 1) {
				out_str(&o, pct);
				goto stats;
			}
			withlab = lcols > 0 ? lcols + 2 : 0;
			/* 1: full label, a bar of BAR_MIN..BAR_MAX. */
			if (fixed + withlab + 1 + PROGRESS_BAR_MIN + 2 <= w) {
				rem = w - fixed - withlab - 1 - 2;
				if (rem > PROGRESS_BAR_MAX)
					rem = PROGRESS_BAR_MAX;
				if (lcols > 0) {
					out_label(&o, label, lcols);
					out_str(&o, "  ");
				}
				out_str(&o, pct);
				out_str(&o, " ");
				out_bar(&o, done, total, rem);
				goto stats;
			}
			/* 2: shortened label, smallest bar. */
			if (lcols > PROGRESS_LABEL_MIN &&
			    fixed + PROGRESS_LABEL_MIN + 2 + 1 +
				    PROGRESS_BAR_MIN + 2 <=
				w) {
				rem = w - fixed - 2 - 1 - PROGRESS_BAR_MIN - 2;
				out_label(&o, label, rem);
				out_str(&o, "  ");
				out_str(&o, pct);
				out_str(&o, " ");
				out_bar(&o, done, total, PROGRESS_BAR_MIN);
				goto stats;
			}
			/* 3: no bar; the label as long as it may be. */
			if (lcols > 0 && fixed + 2 + label_min <= w) {
				rem = w - fixed - 2;
				out_label(&o, label, lcols < rem ? lcols : rem);
				out_str(&o, "  ");
				out_str(&o, pct);
				goto stats;
			}
		}
	}
	/* Not even the percentage fits: show what does. */
	if (w > 0)
		out_mem(&o, pct, w < strlen(pct) ? w : strlen(pct));
	return o.over ? -1 : 0;
stats:
	if (stats[i][0] != '\0') {
		out_str(&o, " ");
		out_str(&o, stats[i]);
	}
	return o.over ? -1 : 0;
}

double
progress_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0.0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
term_width(int fd)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return PROGRESS_DEFAULT_WIDTH;
}

/* Best-effort write: a progress bar is never worth failing over. */
static void
write_quiet(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void
draw(struct progress *p, double now)
{
	char line[1024], outl[1100];
	double rate = p->rate;
	int width;

	/* Before the first full window, show a provisional rate. */
	if (rate < 0.0 && now - p->t_rate >= PROGRESS_RATE_EARLY_S &&
	    p->done >= p->b_rate)
		rate = (double)(p->done - p->b_rate) / (now - p->t_rate);
	/* One column short of the width: writing the last column makes
	 * some terminals wrap. */
	width = term_width(p->fd) - 1;
	if (width > (int)sizeof(line) - 1)
		width = (int)sizeof(line) - 1;
	if (progress_format(line, sizeof(line), p->label, p->done, p->total,
		rate, width) == -1)
		return;
	if (str_fmt(outl, sizeof(outl), "\r%s\033[K", line) == -1)
		return;
	write_quiet(p->fd, outl, strlen(outl));
	p->t_last = now;
}

void
progress_begin(
    struct progress *p, int fd, int enabled, const char *label, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->enabled = enabled;
	p->fd = fd;
	/* A long label is cut here and again to fit the terminal. */
	(void)str_copy(p->label, sizeof(p->label), label ? label : "");
	p->total = total;
	p->t_start = progress_now();
	p->t_rate = p->t_start;
	p->b_rate = 0;
	p->rate = -1.0;
	if (p->enabled)
		draw(p, p->t_start);
}

void
progress_update(struct progress *p, uint64_t done)
{
	double now, dt, inst;

	p->done = done;
	if (!p->enabled)
		return;
	now = progress_now();
	dt = now - p->t_rate;
	if (dt >= PROGRESS_RATE_WINDOW_S && done >= p->b_rate) {
		inst = (double)(done - p->b_rate) / dt;
		/* Exponential smoothing: steady, but follows real
		 * changes within a few seconds. */
		p->rate = p->rate < 0.0 ? inst : 0.5 * p->rate + 0.5 * inst;
		p->t_rate = now;
		p->b_rate = done;
	}
	if (now - p->t_last < PROGRESS_REDRAW_S)
		return;
	draw(p, now);
}

double
progress_end(struct progress *p)
{
	double now = progress_now();

	if (p->enabled)
		write_quiet(p->fd, "\r\033[K", 4);
	return now - p->t_start;
}

void
progress_tree_label(struct progress *p, uint64_t files_done,
    uint64_t files_total, const char *current)
{
	char head[48];
	size_t hl, room, take;

	if (str_fmt(head, sizeof(head), "%llu/%llu ",
		(unsigned long long)files_done,
		(unsigned long long)files_total) == -1)
		head[0] = '\0';
	hl = strlen(head);
	memcpy(p->label, head, hl + 1);
	room = sizeof(p->label) - 1 - hl;
	take = strlen(current);
	if (take > room) {
		/* Back up to the start of a UTF-8 sequence. */
		take = room;
		while (
		    take > 0 && ((unsigned char)current[take] & 0xc0) == 0x80)
			take--;
	}
	memcpy(p->label + hl, current, take);
	p->label[hl + take] = '\0';
}

void
progress_clear(struct progress *p)
{
	if (p->enabled)
		write_quiet(p->fd, "\r\033[K", 4);
	p->t_last = 0;
}

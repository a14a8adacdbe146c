/*
 * progress.h - transfer progress bars and human-readable figures.
 */
#ifndef FTX_PROGRESS_H
#define FTX_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

/* "0 B", "1023 B", "1.0 KiB", "4.5 MiB", "1.2 GiB" ... ; 0 or -1. */
int progress_bytes(char *out, size_t n, uint64_t v);
/* A rate in the same units: "512 B/s", "12.3 MiB/s", "--/s" when not
 * known (negative, NaN or infinite); 0 or -1. */
int progress_rate(char *out, size_t n, double bytes_per_s);
/* "1:05", "12:00:00", "--:--" for unknown (secs < 0). */
int progress_eta(char *out, size_t n, double secs);

/* A total that is not known (a stream from stdin): the line shows the
 * bytes so far and the rate, no percentage, bar or ETA. */
#define PROGRESS_UNKNOWN UINT64_MAX

/*
 * Format one progress line of at most `width` columns (no newline):
 *	"label  45% [=======>      ] 4.5 MiB/10.0 MiB  12.3 MiB/s  ETA 0:04"
 *	"label  4.5 MiB  12.3 MiB/s"          (total PROGRESS_UNKNOWN)
 * The bar shrinks first, then the label, to fit `width`.  rate < 0 means
 * "not known yet".  Returns 0, or -1 if `out` is too small.
 */
int progress_format(char *out, size_t n, const char *label, uint64_t done,
    uint64_t total, double rate, int width);

/* Live progress on a terminal, redrawn at most 10 times a second. */
struct progress {
	int enabled;
	int fd;
	char label[64];
	uint64_t total;
	uint64_t done;
	double t_start;
	double t_last; /* last redraw */
	double t_rate; /* start of the current rate window */
	uint64_t b_rate; /* bytes at t_rate */
	double rate; /* smoothed bytes/s, < 0 when unknown */
};

/* Monotonic seconds. */
double progress_now(void);
void progress_begin(
    struct progress *p, int fd, int enabled, const char *label, uint64_t total);
void progress_update(struct progress *p, uint64_t done);
/* Clear the bar line; returns elapsed seconds. */
double progress_end(struct progress *p);

/*
 * A tree's progress (put -r, get -r, sync): the label becomes
 * "<files done>/<files total> <current file>" (the file name cut at a
 * character boundary to fit the label), and the bar counts the bytes of
 * the whole tree.  Shown at the next redraw (at most 10 a second).
 */
void progress_tree_label(struct progress *p, uint64_t files_done,
    uint64_t files_total, const char *current);
/* Clear the line without ending (another bar is drawn meanwhile). */
void progress_clear(struct progress *p);

#endif /* FTX_PROGRESS_H */

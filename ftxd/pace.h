/*
 * pace.h - a minimum-rate watchdog for one data connection.
 *
 * A thread that moves a transfer's bytes reports every byte it moved
 * (pace_add) and asks, whenever it wakes, whether the transfer is still
 * worth its thread (pace_check).  A transfer fails the check when no byte
 * has moved for `stall_s` seconds, or when, once it has run for a whole
 * window, fewer than min_bps * window_s bytes moved in the last window_s
 * seconds.  The window slides in one-second slots, so a burst long ago
 * does not buy a slow drip now.
 *
 * The clock is the caller's, in milliseconds (tests pass a fake one).
 * Not thread-safe: one watchdog per transfer, used by the thread that
 * moves its bytes.
 */
#ifndef FTX_PACE_H
#define FTX_PACE_H

#include <stddef.h>
#include <stdint.h>

#include "ftx_limits.h"

enum pace_verdict {
	PACE_OK = 0,
	PACE_STALLED, /* no byte for stall_s seconds */
	PACE_SLOW /* below min_bps over the last window */
};

struct pace {
	uint64_t min_bps; /* 0 = no minimum rate */
	int window_s; /* 1..FTX_MIN_RATE_WINDOW_MAX */
	int stall_s; /* 0 = no stall limit */
	long long start_ms, last_byte_ms;
	/* Bytes moved in second `slot_sec[i]`, slot sec % (window_s + 1). */
	uint64_t slot[FTX_MIN_RATE_WINDOW_MAX + 1];
	long long slot_sec[FTX_MIN_RATE_WINDOW_MAX + 1];
};

/* Start watching at now_ms; window_s is clamped to 1..FTX_MIN_RATE_WINDOW_MAX.
 */
void pace_init(struct pace *p, uint64_t min_bps, int window_s, int stall_s,
    long long now_ms);
/* n bytes moved at now_ms. */
void pace_add(struct pace *p, size_t n, long long now_ms);
/* Whether the transfer may go on at now_ms. */
enum pace_verdict pace_check(const struct pace *p, long long now_ms);
/* Bytes moved within the last window (for messages). */
uint64_t pace_window_bytes(const struct pace *p, long long now_ms);
/* A monotonic clock in milliseconds. */
long long pace_now_ms(void);

#endif /* FTX_PACE_H */

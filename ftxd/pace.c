/*
 * pace.c - minimum-rate watchdog.  See pace.h.
 */
#include <string.h>
#include <time.h>

#include "pace.h"

void
pace_init(struct pace *p, uint64_t min_bps, int window_s, int stall_s,
    long long now_ms)
{
	int i;

	memset(p, 0, sizeof(*p));
	if (window_s < 1)
		window_s = 1;
	if (window_s > FTX_MIN_RATE_WINDOW_MAX)
		window_s = FTX_MIN_RATE_WINDOW_MAX;
	p->min_bps = min_bps;
	p->window_s = window_s;
	p->stall_s = stall_s < 0 ? 0 : stall_s;
	p->start_ms = p->last_byte_ms = now_ms;
	/* No second has been counted yet: -1 never equals a real second. */
	for (i = 0; i <= FTX_MIN_RATE_WINDOW_MAX; i++)
		p->slot_sec[i] = -1;
}

void
pace_add(struct pace *p, size_t n, long long now_ms)
{
	long long sec;
	int i;

	if (n == 0)
		return;
	/* A clock that ran backwards counts the bytes as of the latest
	 * time seen, so they cannot overwrite a newer second's slot. */
	if (now_ms < p->last_byte_ms)
		now_ms = p->last_byte_ms;
	sec = now_ms / 1000;
	i = (int)(sec % (p->window_s + 1));
	if (p->slot_sec[i] != sec) {
		p->slot_sec[i] = sec;
		p->slot[i] = 0;
	}
	/* Saturate: a window's worth of bytes cannot overflow 64 bits in
	 * practice, but the check is free. */
	p->slot[i] = p->slot[i] > UINT64_MAX - n ? UINT64_MAX : p->slot[i] + n;
	p->last_byte_ms = now_ms;
}

uint64_t
pace_window_bytes(const struct pace *p, long long now_ms)
{
	long long sec = now_ms / 1000, oldest = sec - p->window_s;
	uint64_t sum = 0;
	int i;

	/* The current second is under way, so window_s + 1 slots cover at
	 * least window_s whole seconds: the doubt goes to the client. */
	for (i = 0; i <= p->window_s; i++) {
		if (p->slot_sec[i] < oldest || p->slot_sec[i] > sec)
			continue;
		sum = sum > UINT64_MAX - p->slot[i] ? UINT64_MAX
						    : sum + p->slot[i];
	}
	return sum;
}

enum pace_verdict
pace_check(const struct pace *p, long long now_ms)
{
	uint64_t need;

	if (p->stall_s > 0 &&
	    now_ms - p->last_byte_ms >= (long long)p->stall_s * 1000)
		return PACE_STALLED;
	if (p->min_bps == 0 ||
	    now_ms - p->start_ms < (long long)p->window_s * 1000)
		return PACE_OK;
	/* min_bps is at most a 64-bit size and window_s at most 600:
	 * saturate rather than wrap. */
	need = p->min_bps > UINT64_MAX / (uint64_t)p->window_s
	    ? UINT64_MAX
	    : p->min_bps * (uint64_t)p->window_s;
	return pace_window_bytes(p, now_ms) < need ? PACE_SLOW : PACE_OK;
}

long long
pace_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

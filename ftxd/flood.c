/*
 * flood.c - chat flood control.  See flood.h.
 */
#include "flood.h"

#include <stdlib.h>

#include "ftx_limits.h"

/* A ring of `rate` slots holding the most recent times in order. */
static int
resize(struct flood *f, int rate)
{
	long long *ring;
	int keep, j;

	if ((ring = calloc((size_t)rate, sizeof(*ring))) == NULL)
		return -1;
	keep = f->nsent < rate ? f->nsent : rate;
	/* The j-th most recent goes to ring[keep - 1 - j]: oldest first. */
	for (j = 0; j < keep; j++)
		ring[keep - 1 - j] =
		    f->sent[(f->next - 1 - j + f->cap) % f->cap];
	free(f->sent);
	f->sent = ring;
	f->cap = rate;
	f->nsent = keep;
	f->next = keep % rate;
	return 0;
}

int
flood_take(struct flood *f, int rate, long long now_ms)
{
	if (rate <= 0) {
		f->strikes = 0;
		return 0;
	}
	if (f->cap != rate && resize(f, rate) == -1)
		return -1;
	/* SECURITY: the oldest of the last `rate` actions decides. */
	if (f->nsent == rate &&
	    now_ms - f->sent[f->next] < FTX_CHAT_RATE_WINDOW_S * 1000LL) {
		f->strikes++;
		return 1;
	}
	f->strikes = 0;
	f->sent[f->next] = now_ms;
	f->next = (f->next + 1) % rate;
	if (f->nsent < rate)
		f->nsent++;
	return 0;
}

void
flood_free(struct flood *f)
{
	free(f->sent);
	f->sent = NULL;
	f->cap = f->nsent = f->next = f->strikes = 0;
}

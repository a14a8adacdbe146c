/*
 * counters.c - statistics lines.  See counters.h.
 */
#include <inttypes.h>

#include "counters.h"
#include "str.h"

int
counters_line(const struct counters *c, const struct counters_now *now,
    char *out, size_t n)
{
	uint64_t errors = c->xfers_failed + c->refused + c->rejected;

	return str_fmt(out, n,
	    "uptime=%lld sessions=%zu sessions_total=%" PRIu64 " chat=%zu "
	    "xfers_running=%d xfers_pending=%d xfers_ok=%" PRIu64
	    " xfers_failed=%" PRIu64 " bytes_in=%" PRIu64 " bytes_out=%" PRIu64
	    " refused=%" PRIu64 " rejected=%" PRIu64 " errors=%" PRIu64,
	    (now->now_ms - c->start_ms) / 1000, now->sessions,
	    c->sessions_total, now->chat, now->xfers_running,
	    now->xfers_pending, c->xfers_ok, c->xfers_failed, c->bytes_in,
	    c->bytes_out, c->refused, c->rejected, errors);
}

int
counters_user_line(const struct counters_user *c, long long start_ms,
    const struct counters_now *now, char *out, size_t n)
{
	static const struct counters_user none;

	if (c == NULL)
		c = &none;
	return str_fmt(out, n,
	    "per_user=1 uptime=%lld sessions=%zu xfers_running=%d "
	    "xfers_pending=%d xfers_ok=%" PRIu64 " xfers_failed=%" PRIu64
	    " bytes_in=%" PRIu64 " bytes_out=%" PRIu64,
	    (now->now_ms - start_ms) / 1000, now->sessions, now->xfers_running,
	    now->xfers_pending, c->xfers_ok, c->xfers_failed, c->bytes_in,
	    c->bytes_out);
}

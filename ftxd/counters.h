/*
 * counters.h - the statistics STATS answers and SIGUSR1 logs: counters
 * kept since start-up, for the whole server and for each account, and
 * the one line of key=value pairs they are shown as (docs/PROTOCOL.md,
 * Statistics).
 *
 * Pure data and formatting: the counters are updated where things
 * happen (server.c, dconn.c, xfer.c, auth.c), on the loop thread; what is true
 * only now (sessions, transfers) is gathered by the caller, so this
 * module depends on no other and tests/unit/test_counters.c drives it
 * alone.
 */
#ifndef FTXD_COUNTERS_H
#define FTXD_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

/* The server's counters. */
struct counters {
	long long start_ms; /* loop_now_ms() at start, for the uptime */
	uint64_t sessions_total; /* control connections accepted */
	uint64_t xfers_ok; /* transfers finished successfully */
	uint64_t xfers_failed; /* transfers that ran and failed */
	uint64_t bytes_in; /* upload bytes received, finished transfers */
	uint64_t bytes_out; /* download bytes sent, finished transfers */
	uint64_t refused; /* connections refused by the limits */
	uint64_t rejected; /* data connections without a valid token */
};

/* One account's transfer counters since the server started: what STATS
 * shows a user when there are accounts. */
struct counters_user {
	uint64_t xfers_ok, xfers_failed, bytes_in, bytes_out;
};

/* What the counters do not hold: the state at the time of the line. */
struct counters_now {
	long long now_ms; /* loop_now_ms() */
	size_t sessions; /* control connections (of the user, for a user) */
	size_t chat; /* members of the room (server line only) */
	int xfers_running, xfers_pending;
};

/* The server-wide line (STATS without accounts, SIGUSR1); 0 or -1 if it
 * does not fit `n`. */
int counters_line(const struct counters *c, const struct counters_now *now,
    char *out, size_t n);
/* One account's line: the server's uptime (from `start_ms`) and the
 * account's own activity; `c` may be NULL (nothing counted yet). */
int counters_user_line(const struct counters_user *c, long long start_ms,
    const struct counters_now *now, char *out, size_t n);

#endif /* FTXD_COUNTERS_H */

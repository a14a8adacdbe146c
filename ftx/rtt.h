/*
 * rtt.h - `ftx rtt`: round-trip times to an ftxd, over TCP (the ECHO
 * command on the control connection) or UDP (the echo datagrams of
 * docs/PROTOCOL.md, "Echo").
 *
 * Round trips are sequential: the next request leaves only after the
 * previous reply (or, for UDP, its timeout).  Times come from
 * CLOCK_MONOTONIC; the first `warmup` round trips are excluded from the
 * statistics and reported as such.
 */
#ifndef FTX_RTT_H
#define FTX_RTT_H

#include <stddef.h>

#include "ctl.h"
#include "ui.h"

struct rtt_opts {
	long n; /* timed round trips */
	long warmup; /* untimed round trips first */
	size_t size; /* payload bytes */
	long interval_ms; /* pause between round trips */
	long timeout_ms; /* UDP: a reply later than this is lost (or late) */
	int udp;
	int json; /* one JSON object on stdout instead of the report */
};

/* UDP counts, for the report and tests. */
struct rtt_udp {
	long sent, ok, lost, late, dup, mismatched;
};

void rtt_defaults(struct rtt_opts *o);
/* Largest payload for the chosen transport. */
size_t rtt_max_size(int udp);
/* Run and print the report.  `c` names the server (it is connected for
 * TCP).  Returns an exit code. */
int rtt_run(struct ctl *c, const struct ui *u, const struct rtt_opts *o,
    char *err, size_t errlen);

#endif /* FTX_RTT_H */

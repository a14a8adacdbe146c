/*
 * flood.h - chat flood control: a sliding window of the times of a
 * session's last chat actions (docs/PROTOCOL.md, "Chat").  Pure, no I/O,
 * the clock is the caller's, so tests/unit/test_flood.c can drive it.
 *
 * SECURITY: every chat action that reaches other members (SAY, MSG, JOIN,
 * LEAVE; a nick change is a LEAVE and a JOIN) takes from one budget of
 * `--chat-rate` actions in any FTX_CHAT_RATE_WINDOW_S seconds.  It
 * belongs to the session, not to its membership, so leaving and
 * rejoining does not renew it.
 */
#ifndef FTXD_FLOOD_H
#define FTXD_FLOOD_H

/* All zero is an empty budget; flood_free() releases it. */
struct flood {
	long long *sent; /* ring: the times (ms) of the last `cap` actions */
	int cap, nsent, next; /* sent[next] is the oldest once full */
	int strikes; /* refusals in a row */
};

/*
 * One action at now_ms under a limit of `rate` actions per window (0 =
 * no limit): 0 if it may go (recorded, strikes reset), 1 if refused (a
 * strike counted: the caller disconnects at FTX_CHAT_STRIKES), -1 out of
 * memory.  A changed rate (SIGHUP) resizes the ring and keeps the most
 * recent times, so a reload neither overruns the ring nor renews the
 * budget.
 */
int flood_take(struct flood *f, int rate, long long now_ms);
void flood_free(struct flood *f);

#endif /* FTXD_FLOOD_H */

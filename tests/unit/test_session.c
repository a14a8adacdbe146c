/*
 * test_session.c - the session layer alone: line framing (LF and CRLF,
 * partial lines across reads, pipelined lines, NUL bytes, overlong lines
 * and the disconnect after FTX_MAX_BAD_LINES of them or FTX_FLOOD_BYTES
 * without an LF), lines held while the owner is busy, the end of the
 * stream, the timeouts and the graceful stop, all driven over a
 * socketpair through the hooks (struct sess_hooks), without a server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "ftx_limits.h"
#include "loop.h"
#include "net.h"
#include "session.h"
#include "str.h"

#define MAX_LINES 16

/* What the hooks saw; they take no argument, so the fixture is global. */
struct fx {
	struct config cfg;
	struct sess_set set;
	int peer; /* the test's end of the socketpair */
	struct session *s; /* NULL once freed */
	char lines[MAX_LINES][FTX_LINE_MAX + 1];
	int nlines;
	int opened, closed, drained;
	char leave[32]; /* the last on_leave reason */
	size_t held; /* what the held hook reports */
	char got[1 << 17]; /* what the peer read */
	size_t gotlen;
	int peer_eof;
};

static struct fx *F;

static void
h_open(struct session *s)
{
	F->opened++;
	sess_reply(s, "HELLO");
}

static void
h_line(struct session *s, char *line)
{
	(void)s;
	assert_true(F->nlines < MAX_LINES);
	str_copy(F->lines[F->nlines++], sizeof(F->lines[0]), line);
}

static void
h_drain(struct session *s)
{
	(void)s;
	F->drained++;
}

static size_t
h_unsent(const struct session *s)
{
	(void)s;
	return 0;
}

static size_t
h_held(void)
{
	return F->held;
}

static void
h_leave(struct session *s, const char *reason)
{
	(void)s;
	str_copy(F->leave, sizeof(F->leave), reason);
}

static void
h_close(struct session *s)
{
	assert_ptr_equal(s, F->s);
	F->closed++;
	F->s = NULL;
}

static const struct sess_hooks hooks = {
    .on_open = h_open,
    .on_line = h_line,
    .on_drain = h_drain,
    .unsent = h_unsent,
    .frees = h_unsent,
    .held = h_held,
    .on_leave = h_leave,
    .on_close = h_close,
};

static int
setup(void **state)
{
	struct sockaddr_in *in;
	struct sockaddr_storage peer;
	char err[FTX_ERRLEN];
	int sv[2];

	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	cfg_defaults(&F->cfg);
	F->set.loop = loop_new(err, sizeof(err));
	assert_non_null(F->set.loop);
	F->set.cfg = &F->cfg;
	F->set.hooks = &hooks;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(net_set_nonblock(sv[0], 1), 0);
	assert_int_equal(net_set_nonblock(sv[1], 1), 0);
	F->peer = sv[1];
	memset(&peer, 0, sizeof(peer));
	in = (struct sockaddr_in *)&peer;
	in->sin_family = AF_INET;
	in->sin_port = htons(4242);
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(sess_new(&F->set, sv[0], &peer), 0);
	F->s = F->set.head;
	assert_non_null(F->s);
	*state = F;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (F->s != NULL)
		sess_free(F->s);
	assert_int_equal(F->set.n, 0);
	assert_int_equal(F->set.out_queued, 0);
	close(F->peer);
	loop_free(F->set.loop);
	free(F);
	F = NULL;
	return 0;
}

static void
stop_tick(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

static void
flush(struct loop *l, void *arg)
{
	(void)l;
	(void)arg;
	sess_flush_pending(&F->set);
}

/* Take what the peer has been sent so far. */
static void
drain_peer(void)
{
	ssize_t n;

	for (;;) {
		n = recv(F->peer, F->got + F->gotlen,
		    sizeof(F->got) - 1 - F->gotlen, 0);
		if (n == 0)
			F->peer_eof = 1;
		if (n <= 0)
			break;
		F->gotlen += (size_t)n;
	}
	F->got[F->gotlen] = '\0';
}

/* One round of the loop (what the session can read now, at most 20 ms),
 * then its output flushed to the peer. */
static void
spin(void)
{
	assert_int_equal(loop_run(F->set.loop, 20, stop_tick, flush, NULL), 0);
	sess_flush_pending(&F->set);
	drain_peer();
}

static void
send_peer(const void *p, size_t n)
{
	assert_int_equal(send(F->peer, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void
send_str(const char *p)
{
	send_peer(p, strlen(p));
}

/* The peer's input from the greeting on, as text. */
static const char *
replies(void)
{
	static const char hello[] = "HELLO\n";

	assert_true(F->gotlen >= sizeof(hello) - 1);
	assert_memory_equal(F->got, hello, sizeof(hello) - 1);
	return F->got + sizeof(hello) - 1;
}

/* ---- framing ---- */

static void
test_greeting(void **state)
{
	(void)state;
	spin();
	assert_int_equal(F->opened, 1);
	assert_string_equal(replies(), "");
	assert_int_equal(F->set.n, 1);
}

static void
test_lf_and_crlf(void **state)
{
	(void)state;
	send_str("NOOP\nLIST\r\n");
	spin();
	assert_int_equal(F->nlines, 2);
	/* The raw line, LF included: the CR is the parser's business. */
	assert_string_equal(F->lines[0], "NOOP\n");
	assert_string_equal(F->lines[1], "LIST\r\n");
}

static void
test_partial_lines(void **state)
{
	(void)state;
	send_str("HE");
	spin();
	send_str("LP");
	spin();
	assert_int_equal(F->nlines, 0);
	send_str("\nWH");
	spin();
	assert_int_equal(F->nlines, 1);
	assert_string_equal(F->lines[0], "HELP\n");
	send_str("O\n");
	spin();
	assert_int_equal(F->nlines, 2);
	assert_string_equal(F->lines[1], "WHO\n");
}

static void
test_pipelined(void **state)
{
	int i;

	(void)state;
	send_str("a\nbb\nccc\n");
	spin();
	assert_int_equal(F->nlines, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(strlen(F->lines[i]), (size_t)i + 2);
}

/* SECURITY: a NUL would cut the line short for the parser; the line is
 * refused whole and the next one still runs. */
static void
test_nul_byte(void **state)
{
	(void)state;
	send_peer("DELETE a\0junk\nNOOP\n", 19);
	spin();
	assert_int_equal(F->nlines, 1);
	assert_string_equal(F->lines[0], "NOOP\n");
	assert_string_equal(replies(), "ERROR SYNTAX NUL byte in line\n");
}

/* A password never stays in the input buffer after its line ran. */
static void
test_line_wiped(void **state)
{
	(void)state;
	send_str("LOGIN u s3cr3t\nNO");
	spin();
	assert_int_equal(F->nlines, 1);
	assert_null(memmem(F->s->in, sizeof(F->s->in), "s3cr3t", 6));
	assert_int_equal(F->s->inlen, 2);
}

/* Bytes up to FTX_LINE_MAX without an LF: ERROR TOOLONG, the rest of
 * that line is dropped, the next line runs. */
static void
test_overlong(void **state)
{
	char *big = malloc(FTX_LINE_MAX + 100);

	(void)state;
	assert_non_null(big);
	memset(big, 'x', FTX_LINE_MAX + 100);
	send_peer(big, FTX_LINE_MAX + 100);
	spin();
	send_str("tail of the long line\nNOOP\n");
	spin();
	assert_int_equal(F->nlines, 1);
	assert_string_equal(F->lines[0], "NOOP\n");
	assert_string_equal(
	    replies(), "ERROR TOOLONG line longer than 4096 bytes discarded\n");
	assert_int_equal(F->s->bad_lines, 1);
	free(big);
}

/* A line of exactly FTX_LINE_MAX bytes, LF included, is a line. */
static void
test_longest_line(void **state)
{
	char *line = malloc(FTX_LINE_MAX);

	(void)state;
	assert_non_null(line);
	memset(line, 'y', FTX_LINE_MAX - 1);
	line[FTX_LINE_MAX - 1] = '\n';
	send_peer(line, FTX_LINE_MAX);
	spin();
	assert_int_equal(F->nlines, 1);
	assert_int_equal(strlen(F->lines[0]), FTX_LINE_MAX);
	assert_string_equal(replies(), "");
	free(line);
}

/* SECURITY: FTX_MAX_BAD_LINES overlong lines in a session disconnect. */
static void
test_bad_lines_disconnect(void **state)
{
	char *big = malloc(FTX_LINE_MAX + 1);
	int i;

	(void)state;
	assert_non_null(big);
	memset(big, 'z', FTX_LINE_MAX);
	big[FTX_LINE_MAX] = '\n';
	for (i = 0; i < FTX_MAX_BAD_LINES && F->s != NULL; i++) {
		send_peer(big, FTX_LINE_MAX + 1);
		spin();
	}
	spin();
	assert_null(F->s);
	assert_int_equal(F->closed, 1);
	assert_true(F->peer_eof);
	assert_non_null(
	    strstr(replies(), "ERROR FLOOD too many overlong lines\n"));
	assert_int_equal(F->nlines, 0);
	free(big);
}

/* SECURITY: FTX_FLOOD_BYTES of one line without an LF disconnect. */
static void
test_far_too_long(void **state)
{
	char chunk[4096];
	size_t sent = 0;
	int i;

	(void)state;
	memset(chunk, 'q', sizeof(chunk));
	for (i = 0; i < 200 && F->s != NULL &&
	     sent <= FTX_FLOOD_BYTES + 2 * FTX_LINE_MAX;
	     i++) {
		if (send(F->peer, chunk, sizeof(chunk), MSG_NOSIGNAL) > 0)
			sent += sizeof(chunk);
		spin();
	}
	spin();
	assert_null(F->s);
	assert_string_equal(replies(),
	    "ERROR TOOLONG line longer than 4096 bytes discarded\n"
	    "ERROR FLOOD line far too long\n");
	assert_true(F->peer_eof);
}

/* ---- the owner holds the session ---- */

static void
test_busy_holds_lines(void **state)
{
	int dummy;

	(void)state;
	F->s->busy = (struct sjob *)(void *)&dummy;
	send_str("ONE\nTWO\n");
	spin();
	/* Not even read: the socket buffer pushes back on the peer. */
	assert_int_equal(F->nlines, 0);
	assert_int_equal(F->s->inlen, 0);
	/* Busy with output drained: the owner is asked for more. */
	sess_resume(F->s);
	assert_true(F->drained > 0);
	F->s->busy = NULL;
	sess_resume(F->s);
	spin();
	assert_int_equal(F->nlines, 2);
	assert_string_equal(F->lines[1], "TWO\n");
}

/* A peer that half-closed gets the replies to what it sent, then the
 * session closes. */
static void
test_eof(void **state)
{
	(void)state;
	send_str("LAST\n");
	assert_int_equal(shutdown(F->peer, SHUT_WR), 0);
	spin();
	spin();
	assert_int_equal(F->nlines, 1);
	assert_null(F->s);
	assert_true(F->peer_eof);
}

static void
test_close_after(void **state)
{
	(void)state;
	sess_close_after(F->s, "OK bye");
	sess_reply(F->s, "not sent: closing");
	spin();
	assert_null(F->s);
	assert_string_equal(replies(), "OK bye\n");
	assert_true(F->peer_eof);
}

/* ---- timers ---- */

static void
test_idle_timeout(void **state)
{
	(void)state;
	F->cfg.idle_timeout = 7;
	sess_tick(&F->set, F->s->last_ms + 6000);
	assert_string_equal(F->leave, "");
	sess_tick(&F->set, F->s->last_ms + 7001);
	assert_string_equal(F->leave, "timeout");
	spin();
	assert_null(F->s);
	assert_string_equal(replies(), "ERROR TIMEOUT idle for 7 s\n");
}

/* SECURITY: a line dribbled byte by byte (slowloris) times out. */
static void
test_line_timeout(void **state)
{
	(void)state;
	send_str("NOO");
	spin();
	sess_tick(&F->set, F->s->line_ms + FTX_LINE_TIMEOUT_S * 1000LL + 1);
	assert_string_equal(F->leave, "timeout");
	spin();
	assert_null(F->s);
	assert_string_equal(
	    replies(), "ERROR TIMEOUT line not finished within 30 s\n");
}

/* Busy sessions do not time out idle; the stop leaves them running. */
static void
test_stop_idle(void **state)
{
	int dummy;

	(void)state;
	F->s->busy = (struct sjob *)(void *)&dummy;
	sess_tick(&F->set, F->s->last_ms + 1000LL * F->cfg.idle_timeout + 1);
	sess_stop_idle(&F->set);
	assert_string_equal(F->leave, "");
	assert_non_null(F->s);
	F->s->busy = NULL;
	sess_stop_idle(&F->set);
	assert_string_equal(F->leave, "shutdown");
	spin();
	assert_null(F->s);
	assert_string_equal(replies(), "ERROR SHUTDOWN server stopping\n");
}

/* What the owner holds counts against FTX_OUTPUT_BUDGET; a session that
 * reads is never closed for it. */
static void
test_budget(void **state)
{
	(void)state;
	spin();
	assert_int_equal(sess_over_budget(&F->set), 0);
	F->held = FTX_OUTPUT_BUDGET + 1;
	assert_int_equal(sess_over_budget(&F->set), 1);
	assert_non_null(F->s);
	assert_int_equal(F->s->closing, 0);
}

/* A session's output queue is capped: a peer that never reads is
 * dropped, not allowed to grow our memory. */
static void
test_output_cap(void **state)
{
	char line[1024];
	int i;

	(void)state;
	memset(line, 'o', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (i = 0; i < FTX_OUTBUF_MAX / (int)sizeof(line) + 2; i++)
		sess_reply_raw(F->s, line, sizeof(line));
	assert_true(F->s->dropped);
	assert_int_equal(F->s->out.len, 0);
	sess_flush_pending(&F->set);
	assert_null(F->s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_greeting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lf_and_crlf, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_partial_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_line_wiped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overlong, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_longest_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_bad_lines_disconnect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_far_too_long, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_busy_holds_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_after, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_line_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_idle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_output_cap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_gate.c - the command gate (cmd.c's table): unknown verbs, wrong
 * argument counts, percent-encoded text verbs, and the three checks in
 * their order (TLS under --require-tls, then login when there are
 * accounts, then write permission), plus the greeting's capabilities.
 * A real session of the session layer over a socketpair, with the
 * command layer as its owner (cmd_hooks) and a context of its own: no
 * server, no listener, no worker (every command used here is answered
 * on the loop, or refused before it would reach a worker).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "cmd.h"
#include "config.h"
#include "ctx.h"
#include "ftx_limits.h"
#include "loop.h"
#include "net.h"
#include "room.h"
#include "session.h"
#include "store_mem.h"
#include "str.h"

struct fx {
	struct ctx ctx;
	struct room room;
	int peer;
	struct session *s;
	char got[1 << 16];
	size_t gotlen;
};

static struct fx *F;

/* The fixture's context: defaults, no TLS, a store in memory, no accounts
 * (a users file that does not exist) until a test turns them on. */
static int
setup(void **state)
{
	char err[FTX_ERRLEN];
	struct store_err se;

	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	cfg_defaults(&F->ctx.cfg);
	F->ctx.loop = loop_new(err, sizeof(err));
	assert_non_null(F->ctx.loop);
	/* The in-memory backend: the gate never needs a disk. */
	assert_int_equal(store_mem_open(&F->ctx.store, 0, &se), 0);
	F->ctx.ctl_fd = -1;
	str_copy(F->ctx.cfg.users, sizeof(F->ctx.cfg.users),
	    "/nonexistent-ftx-test-dir/ftxd.users");
	assert_int_equal(auth_init(&F->ctx, err, sizeof(err)), 0);
	assert_int_equal(F->ctx.accounts, 0);
	room_init(&F->room);
	F->ctx.room = &F->room;
	F->ctx.sessions.loop = F->ctx.loop;
	F->ctx.sessions.cfg = &F->ctx.cfg;
	F->ctx.sessions.hooks = &cmd_hooks;
	F->ctx.sessions.ctx = &F->ctx;
	*state = F;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	while (F->ctx.sessions.head != NULL)
		sess_free(F->ctx.sessions.head);
	room_free(&F->room);
	auth_free(&F->ctx);
	if (F->peer > 0)
		close(F->peer);
	loop_free(F->ctx.loop);
	store_close(F->ctx.store);
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
	sess_flush_pending(&F->ctx.sessions);
}

/* One round of the loop, the session's output flushed and read. */
static void
spin(void)
{
	ssize_t n;

	assert_int_equal(loop_run(F->ctx.loop, 20, stop_tick, flush, NULL), 0);
	sess_flush_pending(&F->ctx.sessions);
	while ((n = recv(F->peer, F->got + F->gotlen,
		    sizeof(F->got) - 1 - F->gotlen, 0)) > 0)
		F->gotlen += (size_t)n;
	F->got[F->gotlen] = '\0';
}

/* Connect a session (after the test set the context up) and read its
 * greeting. */
static const char *
connect_session(void)
{
	struct sockaddr_storage peer;
	struct sockaddr_in *in = (struct sockaddr_in *)&peer;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(net_set_nonblock(sv[0], 1), 0);
	assert_int_equal(net_set_nonblock(sv[1], 1), 0);
	F->peer = sv[1];
	memset(&peer, 0, sizeof(peer));
	in->sin_family = AF_INET;
	in->sin_port = htons(4242);
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(sess_new(&F->ctx.sessions, sv[0], &peer), 0);
	F->s = F->ctx.sessions.head;
	spin();
	return F->got;
}

/* Send one line; its reply (the first line of what came back). */
static const char *
ask(const char *line)
{
	static char reply[FTX_LINE_MAX];
	char *lf;

	F->gotlen = 0;
	assert_int_equal(send(F->peer, line, strlen(line), MSG_NOSIGNAL),
	    (ssize_t)strlen(line));
	spin();
	str_copy(reply, sizeof(reply), F->got);
	if ((lf = strchr(reply, '\n')) != NULL)
		*lf = '\0';
	return reply;
}

/* Run one line through the table directly (cmd_hooks.on_line), for
 * session states a socketpair cannot reach (TLS up); its reply. */
static const char *
dispatch(const char *line)
{
	char buf[FTX_LINE_MAX + 1];
	int tls = F->s->tls_state;
	const char *r;

	str_copy(buf, sizeof(buf), line);
	cmd_dispatch(F->s, buf);
	/* Flushing resumes the session, which must not look for TLS. */
	F->s->tls_state = STLS_OFF;
	r = ask("");
	F->s->tls_state = tls;
	return r;
}

/* ---- the greeting ---- */

static void
test_greeting(void **state)
{
	(void)state;
	assert_string_equal(connect_session(),
	    "OK FTX/1 ftxd/" FTX_VERSION " ready folders stream\n");
	assert_int_equal(F->s->authed, 1);
}

static void
test_greeting_accounts(void **state)
{
	(void)state;
	F->ctx.accounts = 1;
	F->ctx.cfg.anonymous = CFG_ANON_RO;
	F->ctx.cfg.require_tls = 1;
	assert_string_equal(connect_session(),
	    "OK FTX/1 ftxd/" FTX_VERSION " ready tls-required login "
	    "anonymous folders stream\n");
	assert_int_equal(F->s->authed, 0);
}

/* ---- the table ---- */

static void
test_unknown_verb(void **state)
{
	(void)state;
	connect_session();
	assert_string_equal(
	    ask("FROB x\n"), "ERROR UNKNOWN unknown command: FROB");
	/* The verb is echoed encoded: it came from the network. */
	assert_string_equal(
	    ask("FR%0AOB\n"), "ERROR UNKNOWN unknown command: FR%0AOB");
	/* Verbs are case-insensitive (docs/PROTOCOL.md). */
	assert_string_equal(ask("noop\n"), "OK");
}

static void
test_arg_counts(void **state)
{
	(void)state;
	connect_session();
	assert_string_equal(ask("NOOP x\n"), "ERROR SYNTAX usage: NOOP");
	assert_string_equal(
	    ask("DELETE\n"), "ERROR SYNTAX usage: DELETE <path>");
	assert_string_equal(ask("UPLOAD a 1 offset=0 mtime=1 x\n"),
	    "ERROR SYNTAX usage: UPLOAD <path> <size>|* [offset=N] [mtime=S]");
	assert_string_equal(
	    ask("MKDIR\n"), "ERROR SYNTAX usage: MKDIR <path> [parents=1]");
	assert_string_equal(ask("MOVE a b replace=1 x\n"),
	    "ERROR SYNTAX usage: MOVE <from> <to> [replace=1]");
	assert_string_equal(ask("MPUT x\n"), "ERROR SYNTAX usage: MPUT");
	assert_string_equal(
	    ask("MSG bob\n"), "ERROR SYNTAX usage: MSG <nick> <text>");
	assert_string_equal(ask("NOOP\n"), "OK");
}

/* UPLOAD <path> *: a stream is never resumed, so offset= is refused
 * (before any disk work), and only a lone '*' means a stream. */
static void
test_stream_syntax(void **state)
{
	(void)state;
	connect_session();
	assert_string_equal(ask("UPLOAD a * offset=0\n"),
	    "ERROR SYNTAX offset= cannot be used with a streamed upload "
	    "(size *)");
	assert_string_equal(ask("UPLOAD a * mtime=1 offset=7\n"),
	    "ERROR SYNTAX offset= cannot be used with a streamed upload "
	    "(size *)");
	assert_string_equal(
	    ask("UPLOAD a * bogus=1\n"), "ERROR SYNTAX bad parameter");
	assert_string_equal(ask("UPLOAD a *1\n"), "ERROR SYNTAX bad size");
	assert_string_equal(ask("UPLOAD a **\n"), "ERROR SYNTAX bad size");
	assert_string_equal(ask("NOOP\n"), "OK");
}

/* Free-text verbs are recognised undecoded only. */
static void
test_encoded_text_verb(void **state)
{
	(void)state;
	connect_session();
	assert_string_equal(ask("SA%59 hello\n"),
	    "ERROR SYNTAX SAY must not be percent-encoded");
	assert_string_equal(ask("ECHO a b  c\n"), "OK a b  c");
}

/* Arguments are counted before the gate: a refusal never depends on
 * who asks. */
static void
test_syntax_before_gate(void **state)
{
	(void)state;
	F->ctx.accounts = 1;
	connect_session();
	assert_string_equal(
	    ask("DELETE\n"), "ERROR SYNTAX usage: DELETE <path>");
}

/* ---- the gate ---- */

/* SECURITY: under --require-tls nothing but QUIT and STARTTLS runs in
 * plaintext, not even LOGIN, and TLS is checked before login. */
static void
test_tls_required(void **state)
{
	(void)state;
	F->ctx.accounts = 1;
	F->ctx.cfg.require_tls = 1;
	connect_session();
	assert_string_equal(
	    ask("LIST\n"), "ERROR TLS TLS required: send STARTTLS first");
	assert_string_equal(ask("LOGIN bob pw\n"),
	    "ERROR TLS TLS required: send STARTTLS first");
	assert_string_equal(
	    ask("HELP\n"), "ERROR TLS TLS required: send STARTTLS first");
	assert_string_equal(
	    ask("UPLOAD a 1\n"), "ERROR TLS TLS required: send STARTTLS first");
	/* Allowed before TLS: the gate lets it through (no certificate
	 * here, so the command itself refuses). */
	assert_string_equal(ask("STARTTLS\n"),
	    "ERROR TLS not offered (no certificate configured)");
	assert_string_equal(ask("QUIT\n"), "OK bye");
}

/* SECURITY: with accounts, a session that has not logged in may only
 * ask for help, ping, log in, start TLS or quit. */
static void
test_login_required(void **state)
{
	static const char *const gated[] = {"LIST\n", "DOWNLOAD a\n",
	    "DELETE a\n", "HASH a\n", "UPLOAD a 1\n", "PARTIAL a 1\n", "JOIN\n",
	    "LEAVE\n", "SAY hi\n", "MSG bob hi\n", "WHO\n", "WHOAMI\n",
	    "TIME\n", "ECHO x\n", "STATS\n", "MKDIR a\n", "RMDIR a\n",
	    "MOVE a b\n", "STAT a\n", "LS .\n", "MPUT\n", "MGET\n"};
	size_t i;

	(void)state;
	F->ctx.accounts = 1;
	connect_session();
	for (i = 0; i < sizeof(gated) / sizeof(gated[0]); i++)
		assert_string_equal(ask(gated[i]), "ERROR AUTH login required");
	assert_string_equal(ask("NOOP\n"), "OK");
	assert_string_equal(ask("HELP\n"), "OK 27");
	/* LOGIN passes the gate; without TLS the command refuses it. */
	assert_string_equal(ask("LOGIN bob pw\n"),
	    "ERROR TLS login needs TLS: send STARTTLS first");
}

/* SECURITY: read-only anonymous sessions cannot change files. */
static void
test_read_only(void **state)
{
	(void)state;
	F->ctx.accounts = 1;
	connect_session();
	F->s->authed = 1;
	F->s->readonly = 1;
	str_copy(F->s->user, sizeof(F->s->user), FTX_ANON_USER);
	assert_string_equal(
	    ask("UPLOAD a 1\n"), "ERROR PERM anonymous access is read-only");
	assert_string_equal(
	    ask("DELETE a\n"), "ERROR PERM anonymous access is read-only");
	assert_string_equal(
	    ask("PARTIAL a 1\n"), "ERROR PERM anonymous access is read-only");
	assert_string_equal(
	    ask("MKDIR a\n"), "ERROR PERM anonymous access is read-only");
	assert_string_equal(
	    ask("RMDIR a\n"), "ERROR PERM anonymous access is read-only");
	assert_string_equal(
	    ask("MOVE a b\n"), "ERROR PERM anonymous access is read-only");
	assert_string_equal(
	    ask("MPUT\n"), "ERROR PERM anonymous access is read-only");
	/* Reading passes the gate (the handler then checks its arguments). */
	assert_string_equal(
	    ask("HASH a md6\n"), "ERROR SYNTAX usage: HASH <path> [md5]");
	assert_string_equal(ask("WHOAMI\n"), "OK - 127.0.0.1:4242 anonymous");
}

/* The order of the checks: TLS, then login, then write permission. */
static void
test_gate_order(void **state)
{
	(void)state;
	F->ctx.accounts = 1;
	F->ctx.cfg.require_tls = 1;
	connect_session();
	F->s->readonly = 1;
	assert_string_equal(
	    ask("DELETE a\n"), "ERROR TLS TLS required: send STARTTLS first");
	/* As if the handshake had finished; the session itself must not
	 * run in this state (it has no TLS), so the lines go straight to
	 * the table. */
	F->s->tls_state = STLS_ON;
	assert_string_equal(
	    dispatch("DELETE a\n"), "ERROR AUTH login required");
	F->s->authed = 1;
	assert_string_equal(
	    dispatch("DELETE a\n"), "ERROR PERM anonymous access is read-only");
	F->s->tls_state = STLS_OFF; /* it has no TLS to shut down */
}

/* Without accounts STATS shows the whole server (counters.c). */
static void
test_stats(void **state)
{
	const char *r;

	(void)state;
	F->ctx.stats.start_ms = loop_now_ms();
	F->ctx.stats.sessions_total = 1;
	connect_session();
	r = ask("STATS\n");
	assert_string_equal(r,
	    "OK uptime=0 sessions=1 sessions_total=1 chat=0 "
	    "xfers_running=0 xfers_pending=0 xfers_ok=0 xfers_failed=0 "
	    "bytes_in=0 bytes_out=0 refused=0 rejected=0 errors=0");
}

/* Closing a session takes it out of the room (cmd_hooks.on_close). */
static void
test_close_leaves_room(void **state)
{
	(void)state;
	connect_session();
	assert_string_equal(ask("JOIN ann\n"), "OK ann");
	assert_int_equal(F->room.n, 1);
	sess_free(F->s);
	assert_int_equal(F->room.n, 0);
	assert_null(F->ctx.sessions.head);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_greeting, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_greeting_accounts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_verb, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_arg_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_stream_syntax, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_encoded_text_verb, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_syntax_before_gate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_required, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_login_required, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gate_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_close_leaves_room, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

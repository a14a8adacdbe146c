/*
 * test_chatwire.c - unit tests for the chat bus's names and framing
 * (ftxd/chatwire.c): the --chat-redis URL, node ids, and messages from
 * the bus taken as hostile input (anyone who can PUBLISH on the Redis
 * server can put anything there): oversized, NUL/CR/LF, a wrong tag,
 * bad node ids, nicks, timestamps, text (escape sequences, bidi
 * controls, invalid UTF-8), kinds a channel does not carry, and LEFT
 * reasons that are not ours.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatwire.h"
#include "ftx_limits.h"

#define TS "2026-11-21T09:30:00.125Z"

static void
test_url(void **state)
{
	struct chatwire_url u;
	char err[FTX_ERRLEN];

	(void)state;
	assert_int_equal(chatwire_parse_url(
			     "redis://127.0.0.1:6380/3", &u, err, sizeof(err)),
	    0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 3);
	assert_int_equal(
	    chatwire_parse_url("redis://cache.local", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "cache.local");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	assert_int_equal(
	    chatwire_parse_url("redis://[::1]:7000/", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 7000);
	assert_int_equal(
	    chatwire_parse_url("redis://h/65535", &u, err, sizeof(err)), 0);
	assert_int_equal(u.db, FTX_CHATBUS_DB_MAX);
}

static void
test_url_hostile(void **state)
{
	static const char *const bad[] = {
	    "",
	    "http://127.0.0.1",
	    "redis://",
	    "redis://:6379",
	    "redis://user:pw@127.0.0.1:6379",
	    "redis://:pw@127.0.0.1",
	    "redis://127.0.0.1:0",
	    "redis://127.0.0.1:65536",
	    "redis://127.0.0.1:-1",
	    "redis://127.0.0.1:6379x",
	    "redis://127.0.0.1/65536", /* FTX_CHATBUS_DB_MAX + 1 */
	    "redis://127.0.0.1/01",
	    "redis://127.0.0.1/1/2",
	    "redis://127.0.0.1/1?x=1",
	    "redis://[::1",
	    "redis://ho st",
	    "redis://h\x1b[31m",
	};
	char url[FTX_CHATBUS_URL_MAX + 16], err[FTX_ERRLEN];
	struct chatwire_url u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (chatwire_parse_url(bad[i], &u, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
	}
	/* Credentials are refused as such, not as a bad port. */
	assert_int_equal(chatwire_parse_url("redis://u:pw@127.0.0.1:6379", &u,
			     err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "credentials"));
	/* SECURITY: FTX_CHATBUS_URL_MAX. */
	memset(url, 'a', sizeof(url) - 1);
	url[sizeof(url) - 1] = '\0';
	memcpy(url, "redis://", 8);
	assert_int_equal(chatwire_parse_url(url, &u, err, sizeof(err)), -1);
	/* A host longer than FTX_HOST_MAX within the URL limit. */
	url[8 + FTX_HOST_MAX + 1] = '\0';
	assert_int_equal(chatwire_parse_url(url, &u, err, sizeof(err)), -1);
	url[8 + FTX_HOST_MAX] = '\0';
	assert_int_equal(chatwire_parse_url(url, &u, err, sizeof(err)), 0);
}

static void
test_node(void **state)
{
	char id[FTX_NODE_ID_MAX + 2], err[FTX_ERRLEN];

	(void)state;
	assert_int_equal(chatwire_node_check("n1", err, sizeof(err)), 0);
	assert_int_equal(chatwire_node_check("a-b_C9", err, sizeof(err)), 0);
	assert_int_equal(chatwire_node_check("", err, sizeof(err)), -1);
	assert_int_equal(chatwire_node_check("a b", err, sizeof(err)), -1);
	assert_int_equal(chatwire_node_check("a:b", err, sizeof(err)), -1);
	assert_int_equal(chatwire_node_check("a*", err, sizeof(err)), -1);
	/* SECURITY: FTX_NODE_ID_MAX. */
	memset(id, 'n', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	assert_int_equal(chatwire_node_check(id, err, sizeof(err)), -1);
	id[FTX_NODE_ID_MAX] = '\0';
	assert_int_equal(chatwire_node_check(id, err, sizeof(err)), 0);
}

static void
test_names(void **state)
{
	char out[CHATWIRE_NAME_MAX];

	(void)state;
	assert_int_equal(chatwire_nick_key(out, sizeof(out), "Alice_9"), 0);
	assert_string_equal(out, "ftx:nick:alice_9");
	assert_int_equal(chatwire_node_chan(out, sizeof(out), "n1"), 0);
	assert_string_equal(out, "ftx:node:n1");
	assert_int_equal(chatwire_nick_key(out, 12, "Alice_9"), -1);
}

/* decode(msg, chan): the result, with `p` and `node` filled. */
static struct chat_push p;
static char node[FTX_NODE_ID_MAX + 1];

static int
decode(const char *msg, enum chatwire_chan chan)
{
	char err[FTX_ERRLEN];

	return chatwire_decode(
	    msg, strlen(msg), chan, node, &p, err, sizeof(err));
}

static void
test_round_trip(void **state)
{
	char msg[CHATWIRE_MAX + 1], text[FTX_CHAT_TEXT_MAX + 1];
	char push[CHATWIRE_PUSH_MAX + 1];

	(void)state;
	assert_int_equal(
	    chatwire_encode(msg, sizeof(msg), "n1", "MSG " TS " alice hi"), 0);
	assert_string_equal(msg, "ftx1 n1 MSG " TS " alice hi");
	assert_int_equal(decode(msg, CHATWIRE_ROOM), 0);
	assert_string_equal(node, "n1");
	assert_int_equal(p.kind, CHAT_MSG);
	assert_string_equal(p.from, "alice");
	assert_string_equal(p.text, "hi");
	assert_int_equal(decode("ftx1 n2 JOIN " TS " Bob", CHATWIRE_ROOM), 0);
	assert_int_equal(p.kind, CHAT_JOIN);
	assert_int_equal(
	    decode("ftx1 n2 LEFT " TS " Bob conflict", CHATWIRE_ROOM), 0);
	assert_int_equal(
	    decode("ftx1 n2 PRIV " TS " Bob alice psst", CHATWIRE_NODE), 0);
	assert_string_equal(p.to, "alice");
	/* The longest message fits: the longest nicks, node and text. */
	memset(text, 'x', FTX_CHAT_TEXT_MAX);
	text[FTX_CHAT_TEXT_MAX] = '\0';
	snprintf(push, sizeof(push), "PRIV " TS " %s %s %s",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", text);
	assert_int_equal(chatwire_encode(msg, sizeof(msg),
			     "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", push),
	    0);
	assert_int_equal(decode(msg, CHATWIRE_NODE), 0);
	assert_string_equal(p.text, text);
}

static void
test_hostile(void **state)
{
	static const struct {
		const char *msg;
		enum chatwire_chan chan;
	} bad[] = {
	    {"ftx2 n1 MSG " TS " alice hi", CHATWIRE_ROOM},
	    {"MSG " TS " alice hi", CHATWIRE_ROOM},
	    {"ftx1  MSG " TS " alice hi", CHATWIRE_ROOM},
	    {"ftx1 n:1 MSG " TS " alice hi", CHATWIRE_ROOM},
	    {"ftx1 n1", CHATWIRE_ROOM},
	    {"ftx1 n1 ", CHATWIRE_ROOM},
	    {"ftx1 n1 HELLO " TS " alice hi", CHATWIRE_ROOM},
	    {"ftx1 n1 MSG 2026-11-21 alice hi", CHATWIRE_ROOM},
	    {"ftx1 n1 MSG " TS " al/ce hi", CHATWIRE_ROOM},
	    {"ftx1 n1 MSG " TS " alice", CHATWIRE_ROOM},
	    {"ftx1 n1 MSG " TS " alice \x1b[2Jgone", CHATWIRE_ROOM},
	    {"ftx1 n1 MSG " TS " alice \xc2\x9b"
	     "31m",
		CHATWIRE_ROOM},
	    {"ftx1 n1 MSG " TS " alice \xe2\x80\xae"
	     "evil",
		CHATWIRE_ROOM},
	    {"ftx1 n1 MSG " TS " alice \xc0\xaf", CHATWIRE_ROOM},
	    {"ftx1 n1 MSG " TS " alice \xff", CHATWIRE_ROOM},
	    {"ftx1 n1 JOIN " TS " alice extra", CHATWIRE_ROOM},
	    {"ftx1 n1 LEFT " TS " alice banned-by-admin", CHATWIRE_ROOM},
	    /* Kinds a channel does not carry: a forged server NOTICE, a
	     * PRIV broadcast to the room, room pushes on a node's
	     * channel. */
	    {"ftx1 n1 NOTICE " TS " server restarting", CHATWIRE_ROOM},
	    {"ftx1 n1 PRIV " TS " alice bob hi", CHATWIRE_ROOM},
	    {"ftx1 n1 MSG " TS " alice hi", CHATWIRE_NODE},
	    {"ftx1 n1 NOTICE " TS " hi", CHATWIRE_NODE},
	};
	char msg[CHATWIRE_MAX + 64], err[FTX_ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (decode(bad[i].msg, bad[i].chan) != -1)
			fail_msg("accepted: %s", bad[i].msg);
	/* NUL, CR and LF anywhere, counted by length, not by strlen. */
	assert_int_equal(chatwire_decode("ftx1 n1 MSG " TS " a hi\0x",
			     sizeof("ftx1 n1 MSG " TS " a hi\0x") - 1,
			     CHATWIRE_ROOM, node, &p, err, sizeof(err)),
	    -1);
	assert_int_equal(
	    decode("ftx1 n1 MSG " TS " a hi\r", CHATWIRE_ROOM), -1);
	assert_int_equal(
	    decode("ftx1 n1 MSG " TS " a hi\nMSG " TS " b x", CHATWIRE_ROOM),
	    -1);
	assert_int_equal(
	    chatwire_decode("", 0, CHATWIRE_ROOM, node, &p, err, sizeof(err)),
	    -1);
	/* SECURITY: CHATWIRE_MAX (and FTX_CHAT_TEXT_MAX inside it). */
	memset(msg, 'x', sizeof(msg));
	memcpy(
	    msg, "ftx1 n1 MSG " TS " a ", sizeof("ftx1 n1 MSG " TS " a ") - 1);
	assert_int_equal(chatwire_decode(msg, CHATWIRE_MAX + 1, CHATWIRE_ROOM,
			     node, &p, err, sizeof(err)),
	    -1);
	assert_int_equal(
	    chatwire_decode(msg,
		sizeof("ftx1 n1 MSG " TS " a ") - 1 + FTX_CHAT_TEXT_MAX + 1,
		CHATWIRE_ROOM, node, &p, err, sizeof(err)),
	    -1);
	assert_int_equal(
	    chatwire_decode(msg,
		sizeof("ftx1 n1 MSG " TS " a ") - 1 + FTX_CHAT_TEXT_MAX,
		CHATWIRE_ROOM, node, &p, err, sizeof(err)),
	    0);
}

static void
test_reasons(void **state)
{
	(void)state;
	assert_true(chatwire_reason_ok("leave"));
	assert_true(chatwire_reason_ok("conflict"));
	assert_true(chatwire_reason_ok("shutdown"));
	assert_false(chatwire_reason_ok("Leave"));
	assert_false(chatwire_reason_ok(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url),
	    cmocka_unit_test(test_url_hostile),
	    cmocka_unit_test(test_node),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

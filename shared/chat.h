/*
 * chat.h - the chat grammar shared by ftxd and ftx: nicknames, message
 * text, timestamps and the push lines the server sends (docs/PROTOCOL.md,
 * "Chat").  Pure functions, no I/O, so tests/unit/test_chat.c can feed
 * them hostile input.
 */
#ifndef FTX_CHAT_H
#define FTX_CHAT_H

#include <stddef.h>
#include <time.h>

#include "ftx_limits.h"

/* "2026-11-21T09:30:00.125Z" plus NUL. */
#define CHAT_TS_LEN 25

/* SECURITY: the single nickname check: 1..FTX_NICK_MAX bytes of ASCII
 * letters, digits, '-' and '_'.  0, or -1 with a reason. */
int chat_nick_check(const char *nick, char *err, size_t errlen);

/* 1 if two nicknames are the same person (ASCII case-insensitive). */
int chat_nick_eq(const char *a, const char *b);

/*
 * SECURITY: the single message-text check: 1..FTX_CHAT_TEXT_MAX bytes of
 * well-formed UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF) without control characters, C0 or C1 (U+0080..U+009F, which
 * some terminals obey as escape sequences), or bidirectional controls
 * (U+202A..U+202E, U+2066..U+2069): utf8_check_text.  0, or -1 with a
 * reason.
 */
int chat_text_check(const char *text, char *err, size_t errlen);

/* 1 if s[0..n) is well-formed UTF-8: utf8_valid (utf8.h), the one
 * decoder, under its older name. */
int chat_utf8_valid(const char *s, size_t n);

/* Format a wall-clock time as a UTC timestamp; 0 or -1. */
int chat_format_ts(char *out, size_t n, const struct timespec *ts);

enum chat_kind {
	CHAT_MSG, /* MSG <ts> <nick> <text> */
	CHAT_PRIV, /* PRIV <ts> <from> <to> <text> */
	CHAT_JOIN, /* JOIN <ts> <nick> */
	CHAT_LEFT, /* LEFT <ts> <nick> <reason> */
	CHAT_NOTICE /* NOTICE <ts> <text> */
};

struct chat_push {
	enum chat_kind kind;
	char ts[CHAT_TS_LEN];
	char from[FTX_NICK_MAX + 1]; /* MSG, PRIV, JOIN, LEFT */
	char to[FTX_NICK_MAX + 1]; /* PRIV */
	char text[FTX_LINE_MAX]; /* MSG, PRIV, NOTICE text; LEFT reason */
};

/*
 * Parse a push line (without its LF; a CR is ignored).  SECURITY: the
 * client prints these, so every field is checked as the server must have
 * sent it: nicks by chat_nick_check, text by chat_text_check (no escape
 * sequence reaches the terminal), the timestamp by its exact shape.
 * Returns 0, 1 for a push kind this client does not know (to be ignored),
 * or -1 with a reason for a malformed line.
 */
int chat_parse_push(
    const char *line, struct chat_push *p, char *err, size_t errlen);

#endif /* FTX_CHAT_H */

/*
 * utf8.h - the one UTF-8 decoder, and the code points no name or
 * message may carry.  Used by the name check (proto.c), the chat text
 * check (chat.c) and the server's log escaping (ftxd/log.c), so they
 * agree on what "valid" and "unsafe" mean.  Pure functions, no I/O.
 */
#ifndef FTX_UTF8_H
#define FTX_UTF8_H

#include <stddef.h>

/*
 * Decode one UTF-8 sequence at s[0..n) (n >= 1): its length (1..4) with
 * the code point in *cp, or 0 if it is malformed: a stray continuation
 * byte, 0xf8..0xff, an overlong form, a UTF-16 surrogate, a value above
 * U+10FFFF, or a sequence cut short by n.
 */
size_t utf8_next(const char *s, size_t n, unsigned long *cp);

/* 1 if s[0..n) is well-formed UTF-8 (see utf8_next), else 0. */
int utf8_valid(const char *s, size_t n);

/* 1 if cp is a control character: C0 (< U+0020), DEL or C1
 * (U+0080..U+009F, which many terminals obey as escape sequences). */
int utf8_is_control(unsigned long cp);

/* 1 if cp is a bidirectional embedding, override or isolate
 * (U+202A..U+202E, U+2066..U+2069): it reorders what follows it on
 * screen, so a name could display as another ("Trojan Source"). */
int utf8_is_bidi(unsigned long cp);

/* 1 if cp should never reach a screen or a log as it is: a control, a
 * bidi control, or an invisible character that still moves text (the
 * bidi marks U+061C, U+200E, U+200F; the separators U+2028, U+2029).
 * Names may hold the marks; what shows them escapes them. */
int utf8_is_hidden(unsigned long cp);

/*
 * SECURITY: the one check for text that reaches a screen or a log
 * (names, chat messages): s[0..n) is well-formed UTF-8 without control
 * characters (C0, DEL, C1) or bidirectional controls.  0, or -1 with a
 * reason that starts with `what` ("name", "message").
 */
int utf8_check_text(
    const char *s, size_t n, const char *what, char *err, size_t errlen);

#endif /* FTX_UTF8_H */

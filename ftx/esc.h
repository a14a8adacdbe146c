/*
 * esc.h - make text that came from the network safe to print.
 *
 * SECURITY: a name, an error reason or any other text a server sent is
 * shown on the user's terminal.  Raw, a byte 0x1b or 0x9b (or U+009B)
 * starts an escape sequence that can rewrite the screen or the window
 * title, and a bidi override (U+202E) makes "txt.exe" look like
 * "exe.txt".  Everything ftx prints that came from the network passes
 * through esc_str() first, which shows such characters visibly, in one
 * scheme (documented in docs/ftx.1, ESCAPED OUTPUT):
 *
 *	\xHH	a C0 control byte or DEL (0x00-0x1f, 0x7f), and every byte
 *		that is not part of valid UTF-8 (e.g. a raw 0x9b)
 *	\uHHHH	a valid UTF-8 character that is invisible or acts on the
 *		terminal: C1 controls U+0080-U+009F, the bidi controls
 *		U+061C, U+200E, U+200F, U+202A-U+202E and U+2066-U+2069,
 *		and the separators U+2028, U+2029
 *
 * Everything else, printable UTF-8 included, is copied unchanged.  A
 * backslash is not escaped: file names cannot contain one (see
 * proto_name_check), so in a name these sequences are unambiguous.
 */
#ifndef FTX_ESC_H
#define FTX_ESC_H

#include <stddef.h>

/* The most bytes esc_str writes for `n` input bytes, NUL included: an
 * escape is at most 4 bytes per input byte ("\xHH"; "\u0080" stands for
 * 2 bytes, "\u202e" for 3). */
#define ESC_SIZE(n) (4 * (n) + 1)

/* Escape `in` into out[n] (n > 0).  0; or -1 if it did not fit, when
 * out holds the escaped start of `in`, cut at a whole character or
 * escape, never inside one. */
int esc_str(char *out, size_t n, const char *in);

#endif /* FTX_ESC_H */

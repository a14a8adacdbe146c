/*
 * proto.h - the FTX/1 control-line grammar, shared by ftxd and ftx.
 *
 * See docs/PROTOCOL.md.  A line is at most FTX_LINE_MAX bytes including
 * its LF (a CR before the LF is ignored).  Tokens are separated by runs of
 * spaces; each token is percent-decoded (%XX, either case), so a name with
 * spaces travels as "my%20file.txt".  Bytes >= 0x80 (UTF-8) may travel
 * raw (names must be well-formed UTF-8, see proto_name_check).  Raw control
 * characters, %00 and malformed escapes make the line invalid.
 */
#ifndef FTX_PROTO_H
#define FTX_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ftx_limits.h"

/*
 * Look for a complete line at the start of buf[0..len).  Returns its
 * length including the LF (> 0), 0 if no LF yet and the line may still
 * fit, or -1 if FTX_LINE_MAX bytes arrived without an LF (the line is too
 * long).
 */
ssize_t proto_find_line(const char *buf, size_t len);

struct proto_cmd {
	char verb[16]; /* upper-cased first token */
	int argc; /* arguments after the verb */
	char *argv[FTX_MAX_ARGS];
};

/*
 * Split a line (with or without its CR LF) in place into a verb and
 * percent-decoded arguments.  `line` must be NUL-terminated and writable;
 * `cmd->argv` point into it.  Returns 0, or -1 with a reason (empty line,
 * control character, bad escape, too many tokens, verb too long).
 */
int proto_split(char *line, struct proto_cmd *cmd, char *err, size_t errlen);

/*
 * Like proto_split, for verbs that end in free text (SAY, MSG, ECHO): the
 * first `nfixed` arguments are split and decoded as usual, and everything
 * after the spaces that follow them becomes argv[nfixed], literally (not
 * percent-decoded, inner and trailing spaces kept).  argc is nfixed + 1,
 * or less if the line ends early.
 */
int proto_split_text(
    char *line, struct proto_cmd *cmd, int nfixed, char *err, size_t errlen);

/* Copy the upper-cased first token of `line`, undecoded, into verb[n];
 * 0, or -1 if it does not fit.  Used to pick the splitting rule. */
int proto_peek_verb(const char *line, char *verb, size_t n);

/*
 * SECURITY: the single file-name check.  A name is 1..FTX_NAME_MAX bytes
 * of well-formed UTF-8, not "." or "..", does not start with '.', and
 * contains no '/', '\\', NUL, control character (C0, DEL, C1 U+0080..
 * U+009F) or bidi control (U+202A..U+202E, U+2066..U+2069): see
 * utf8_check_text.  Returns 0 or -1 + reason.
 */
int proto_name_check(const char *name, char *err, size_t errlen);

/*
 * Percent-encode `in` for a control line: '%', space and every byte
 * < 0x21 or == 0x7f become %XX; everything else is copied.  Returns 0, or
 * -1 if `out` (size `n`) is too small.
 */
int proto_encode(char *out, size_t n, const char *in);
/* A name or path (at most FTX_RPATH_MAX bytes) percent-encoded for a
 * reply line: every byte may become three. */
#define PROTO_ENC_NAME_MAX (FTX_RPATH_MAX * 3 + 1)
void proto_encode_name(char *out, const char *name);

/*
 * Parse an optional "key=value" argument with a decimal value (e.g.
 * "offset=0").  Returns 1 and stores the value if `arg` is that key with a
 * valid value <= max, 0 if `arg` is another key, -1 if the value is bad.
 */
int proto_param_u64(
    const char *arg, const char *key, uint64_t max, uint64_t *out);

/* Reply classes, decided by the first token of a line. */
enum proto_kind {
	PROTO_OK, /* "OK ..."    command accepted / result */
	PROTO_DONE, /* "DONE ..."  multi-line reply or transfer finished */
	PROTO_ERROR, /* "ERROR <CODE> <text>" */
	PROTO_DATA, /* "FILE"/"HELP"/"NICK"/"ENTRY" lines inside a reply */
	PROTO_PUSH /* anything else: an unsolicited push (chat) */
};
enum proto_kind proto_kind(const char *line);

#endif /* FTX_PROTO_H */

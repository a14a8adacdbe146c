/*
 * fuzz_proto.c - libFuzzer target for the FTX/1 control-line grammar
 * (shared/proto.c).  See tests/fuzz/README.md.
 *
 * The input is a stream of bytes as a peer would send it.  It is cut
 * into lines with proto_find_line(), as the server does, and every line
 * goes through every parsing function.  A crash or sanitizer report is a
 * bug, but so is a wrong answer: each function is compared with a small,
 * independent reference implementation written from docs/PROTOCOL.md,
 * and the security invariants are asserted directly (argv stays inside
 * the line, argc <= FTX_MAX_ARGS, a name that passes the check cannot
 * leave the root, decode(encode(x)) == x).  A violation aborts, which
 * libFuzzer reports as a crash with the input that caused it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftx_limits.h"
#include "proto.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			violated(#cond, __LINE__);                             \
	} while (0)

static void
violated(const char *what, int line)
{
	fprintf(
	    stderr, "fuzz_proto.c:%d: invariant violated: %s\n", line, what);
	abort();
}

static void *
xmalloc(size_t n)
{
	/* Zeroed, so a reference bug cannot read garbage; still exact in
	 * size, so AddressSanitizer sees a write one byte past it. */
	void *p = calloc(n > 0 ? n : 1, 1);

	if (p == NULL)
		abort();
	return p;
}

static char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xmalloc(n);

	memcpy(p, s, n);
	return p;
}

/* ---- reference implementations (deliberately naive) ---- */

static int
ref_is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * Length of the well-formed UTF-8 sequence at s[0..n), or 0: the Unicode
 * Standard's table 3-7, byte ranges spelled out (no overlong form,
 * surrogate or code point above U+10FFFF passes).  Code point to *cp.
 */
static size_t
ref_utf8(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned char b0 = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (b0 <= 0x7f) {
		*cp = b0;
		return 1;
	}
	if (b0 >= 0xc2 && b0 <= 0xdf) {
		len = 2;
	} else if (b0 >= 0xe0 && b0 <= 0xef) {
		len = 3;
		lo = b0 == 0xe0 ? 0xa0 : 0x80;
		hi = b0 == 0xed ? 0x9f : 0xbf;
	} else if (b0 >= 0xf0 && b0 <= 0xf4) {
		len = 4;
		lo = b0 == 0xf0 ? 0x90 : 0x80;
		hi = b0 == 0xf4 ? 0x8f : 0xbf;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	*cp = b0 & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
	for (i = 1; i < len; i++)
		*cp = *cp << 6 | (s[i] & 0x3f);
	return len;
}

/* A name's characters as PROTOCOL.md states them: UTF-8, no C1 control,
 * no bidi control (C0 and DEL are checked byte by byte). */
static int
ref_name_chars_ok(const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t n = strlen(name), k;
	unsigned long cp;

	while (n > 0) {
		if ((k = ref_utf8(s, n, &cp)) == 0)
			return 0;
		if ((cp >= 0x80 && cp <= 0x9f) ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return 0;
		s += k;
		n -= k;
	}
	return 1;
}

static int
ref_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char
ref_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Percent-decode s[0..n) into a new string; NULL if malformed or %00. */
static char *
ref_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n) {
				free(out);
				return NULL;
			}
			hi = ref_hex(s[i + 1]);
			lo = ref_hex(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* What the reference split produced. */
struct ref_cmd {
	int ok;
	char verb[64];
	int argc;
	char *argv[FTX_MAX_ARGS + 2];
};

static void
ref_free(struct ref_cmd *r)
{
	int i;

	for (i = 0; i < r->argc; i++)
		free(r->argv[i]);
	r->argc = 0;
}

/* Length of `line` without one trailing LF and then one trailing CR. */
static size_t
ref_strip(const char *line)
{
	size_t len = strlen(line);

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	return len;
}

/*
 * The grammar of docs/PROTOCOL.md: tokens are runs of non-spaces, all
 * percent-decoded; with text_at > 0 the token number text_at (verb = 0)
 * and everything after it is taken literally.
 */
static void
ref_split(const char *line, int text_at, struct ref_cmd *r)
{
	size_t len = ref_strip(line), i = 0, start;
	int ntok = 0;
	char *tok;

	memset(r, 0, sizeof(*r));
	for (start = 0; start < len; start++)
		if (ref_is_ctl((unsigned char)line[start]))
			return;
	for (;;) {
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		if (ntok == FTX_MAX_ARGS + 1)
			goto fail;
		start = i;
		if (text_at > 0 && ntok == text_at) {
			/* The literal rest, trailing spaces included. */
			tok = xmalloc(len - start + 1);
			memcpy(tok, line + start, len - start);
			tok[len - start] = '\0';
			i = len;
		} else {
			while (i < len && line[i] != ' ')
				i++;
			tok = ref_decode(line + start, i - start);
			if (tok == NULL)
				goto fail;
		}
		if (ntok == 0) {
			size_t k, vl = strlen(tok);

			if (vl >= 16) {
				free(tok);
				goto fail;
			}
			for (k = 0; k <= vl; k++)
				r->verb[k] = ref_upper(tok[k]);
			free(tok);
		} else {
			r->argv[r->argc++] = tok;
		}
		ntok++;
	}
	if (ntok == 0)
		return;
	r->ok = 1;
	return;
fail:
	ref_free(r);
}

/* ---- checks ---- */

/* proto_find_line against a plain scan for the first LF. */
static ssize_t
check_find_line(const char *buf, size_t len)
{
	size_t scan = len < FTX_LINE_MAX ? len : FTX_LINE_MAX, i;
	ssize_t got = proto_find_line(buf, len), want;

	for (i = 0; i < scan && buf[i] != '\n'; i++)
		;
	if (i < scan)
		want = (ssize_t)i + 1;
	else if (len >= FTX_LINE_MAX)
		want = -1;
	else
		want = 0;
	CHECK(got == want);
	/* SECURITY: a line never exceeds the limit. */
	CHECK(got <= FTX_LINE_MAX);
	return got;
}

/* proto_peek_verb for every small output size, into an exact-size heap
 * buffer so AddressSanitizer sees any write past it. */
static void
check_peek_verb(const char *line)
{
	static const size_t sizes[] = {0, 1, 2, 3, 8, 15, 16, 17, 64};
	const char *p = line;
	size_t toklen = 0, k, i;
	char *verb;
	int rc;

	while (*p == ' ')
		p++;
	while (p[toklen] != ' ' && p[toklen] != '\0' && p[toklen] != '\r' &&
	    p[toklen] != '\n')
		toklen++;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];

		verb = xmalloc(n);
		rc = proto_peek_verb(line, verb, n);
		CHECK(rc == 0 || rc == -1);
		CHECK(rc == ((n == 0 || toklen >= n) ? -1 : 0));
		if (rc == 0) {
			CHECK(strlen(verb) == toklen);
			for (i = 0; i < toklen; i++)
				CHECK(verb[i] == ref_upper(p[i]));
		}
		free(verb);
	}
}

/* Every argv[i] lies inside buf[0..size) with its NUL, in order and
 * without overlap. */
static void
check_inside(const char *buf, size_t size, const struct proto_cmd *cmd)
{
	const char *prev_end = buf;
	int i;

	CHECK(cmd->argc >= 0 && cmd->argc <= FTX_MAX_ARGS);
	CHECK(strlen(cmd->verb) < sizeof(cmd->verb));
	CHECK(cmd->verb[0] != '\0');
	for (i = 0; i < cmd->argc; i++) {
		const char *a = cmd->argv[i];

		CHECK(a != NULL);
		CHECK(a >= prev_end && a < buf + size);
		CHECK(memchr(a, '\0', (size_t)(buf + size - a)) != NULL);
		CHECK(a[0] != '\0');
		prev_end = a + strlen(a) + 1;
	}
	for (; i < FTX_MAX_ARGS; i++)
		CHECK(cmd->argv[i] == NULL);
}

static void
check_same(const struct proto_cmd *cmd, const struct ref_cmd *ref)
{
	int i;

	CHECK(strcmp(cmd->verb, ref->verb) == 0);
	CHECK(cmd->argc == ref->argc);
	for (i = 0; i < cmd->argc; i++)
		CHECK(strcmp(cmd->argv[i], ref->argv[i]) == 0);
}

/* proto_encode(s) into exact-size buffers: it fits in exactly the
 * predicted size, fails one byte short, emits only safe bytes and
 * well-formed escapes, and decodes back to s.  Returns the encoding
 * (caller frees). */
static char *
check_encode(const char *s)
{
	size_t need = 0, i, slen = strlen(s);
	char *out, *small, *line;
	struct proto_cmd cmd;
	char err[FTX_ERRLEN];

	for (i = 0; i < slen; i++) {
		unsigned char c = (unsigned char)s[i];

		need += c == '%' || c < 0x21 || c == 0x7f ? 3 : 1;
	}
	out = xmalloc(need + 1);
	CHECK(proto_encode(out, need + 1, s) == 0);
	CHECK(strlen(out) == need);
	for (i = 0; i < need; i++) {
		unsigned char c = (unsigned char)out[i];

		/* SECURITY: nothing that ends a token or a line, or that a
		 * terminal would obey, travels raw. */
		CHECK(c >= 0x21 && c != 0x7f);
		if (c == '%') {
			CHECK(i + 2 < need);
			CHECK(ref_hex(out[i + 1]) >= 0 &&
			    ref_hex(out[i + 2]) >= 0);
		}
	}
	/* One byte short must fail and leave an empty string. */
	small = xmalloc(need);
	if (need > 0) {
		small[0] = 'X';
		CHECK(proto_encode(small, need, s) == -1);
		CHECK(small[0] == '\0');
	}
	free(small);
	CHECK(proto_encode(NULL, 0, s) == -1);

	/* decode(encode(s)) == s, through the real splitter. */
	if (slen > 0) {
		line = xmalloc(need + 3);
		memcpy(line, "X ", 2);
		memcpy(line + 2, out, need + 1);
		CHECK(proto_split(line, &cmd, err, sizeof(err)) == 0);
		CHECK(cmd.argc == 1);
		CHECK(strcmp(cmd.argv[0], s) == 0);
		free(line);
	}
	return out;
}

/* Rebuild a line from a parsed command (every field encoded, the text
 * field of a text verb literal) and check it parses to the same thing. */
static void
check_reencode(const struct proto_cmd *cmd, int nfixed)
{
	size_t cap = 64, len = 0, add, i;
	char *line = xmalloc(cap), *enc;
	struct proto_cmd again;
	char err[FTX_ERRLEN];
	int k, rc;

	for (k = -1; k < cmd->argc; k++) {
		const char *field = k < 0 ? cmd->verb : cmd->argv[k];
		int literal = nfixed >= 0 && k == nfixed;

		enc = literal ? xstrdup(field) : check_encode(field);
		add = strlen(enc) + 2;
		while (len + add >= cap) {
			char *bigger;

			cap *= 2;
			bigger = realloc(line, cap);
			if (bigger == NULL)
				abort();
			line = bigger;
		}
		if (k >= 0)
			line[len++] = ' ';
		for (i = 0; enc[i] != '\0'; i++)
			line[len++] = enc[i];
		line[len] = '\0';
		free(enc);
	}
	rc = nfixed >= 0
	    ? proto_split_text(line, &again, nfixed, err, sizeof(err))
	    : proto_split(line, &again, err, sizeof(err));
	CHECK(rc == 0);
	CHECK(strcmp(again.verb, cmd->verb) == 0);
	CHECK(again.argc == cmd->argc);
	for (k = 0; k < cmd->argc; k++)
		CHECK(strcmp(again.argv[k], cmd->argv[k]) == 0);
	free(line);
}

/* SECURITY: the name check, against the rule in docs/PROTOCOL.md. */
static void
check_name(const char *name)
{
	char err[FTX_ERRLEN];
	size_t len = strlen(name), i;
	int want = 1, rc;

	if (len < 1 || len > FTX_NAME_MAX || name[0] == '.')
		want = 0; /* covers "." and ".." */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c == '\\' || ref_is_ctl(c))
			want = 0;
	}
	if (!ref_name_chars_ok(name))
		want = 0;
	err[0] = '\0';
	rc = proto_name_check(name, err, sizeof(err));
	CHECK(rc == 0 || rc == -1);
	CHECK((rc == 0) == want);
	if (rc == 0) {
		/* Spelled out once more, as the issue states it. */
		CHECK(strchr(name, '/') == NULL);
		CHECK(strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
	} else {
		CHECK(err[0] != '\0');
	}
}

/* proto_param_u64 against a digit-by-digit parse. */
static void
check_param(const char *arg)
{
	static const char *const keys[] = {"offset", "o", ""};
	const uint64_t maxes[] = {
	    UINT64_MAX, FTX_MAX_FILE_SIZE, 0, 1000, (uint64_t)strlen(arg)};
	size_t k, m;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		size_t kl = strlen(keys[k]);
		int prefix = strncmp(arg, keys[k], kl) == 0 && arg[kl] == '=';
		const char *v = arg + kl + 1;
		size_t vl = prefix ? strlen(v) : 0, i;
		int canon =
		    prefix && vl >= 1 && vl <= 20 && !(v[0] == '0' && vl > 1);
		unsigned __int128 val = 0;

		for (i = 0; canon && i < vl; i++) {
			if (v[i] < '0' || v[i] > '9')
				canon = 0;
			else
				val = val * 10 + (unsigned)(v[i] - '0');
		}
		for (m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
			uint64_t out = 0xdeadbeef;
			int rc = proto_param_u64(arg, keys[k], maxes[m], &out);

			if (!prefix) {
				CHECK(rc == 0);
			} else if (canon && val <= maxes[m]) {
				CHECK(rc == 1);
				CHECK(out == (uint64_t)val);
			} else {
				CHECK(rc == -1);
			}
		}
	}
}

/* proto_kind against the first token, taken as the client does. */
static void
check_kind(const char *line)
{
	size_t n = strcspn(line, " \r\n");
	enum proto_kind want = PROTO_PUSH;

#define TOKEN_IS(w) (n == strlen(w) && strncmp(line, w, n) == 0)
	if (TOKEN_IS("OK"))
		want = PROTO_OK;
	else if (TOKEN_IS("DONE"))
		want = PROTO_DONE;
	else if (TOKEN_IS("ERROR"))
		want = PROTO_ERROR;
	else if (TOKEN_IS("FILE") || TOKEN_IS("HELP") || TOKEN_IS("NICK") ||
	    TOKEN_IS("ENTRY"))
		want = PROTO_DATA;
#undef TOKEN_IS
	CHECK(proto_kind(line) == want);
}

/* All checks on one line (a NUL-terminated copy of it). */
static void
check_line(const char *line)
{
	size_t size = strlen(line) + 1, slen = ref_strip(line), i;
	struct proto_cmd cmd, tcmd;
	struct ref_cmd ref;
	char err[FTX_ERRLEN], *copy, *tcopy, *enc;
	int rc, nfixed, split_ok, has_ctl = 0;

	check_peek_verb(line);
	check_kind(line);
	check_name(line);
	check_param(line);
	enc = check_encode(line);
	free(enc);
	for (i = 0; i < slen; i++)
		if (ref_is_ctl((unsigned char)line[i]))
			has_ctl = 1;

	/* proto_split. */
	copy = xstrdup(line);
	err[0] = '\0';
	rc = proto_split(copy, &cmd, err, sizeof(err));
	CHECK(rc == 0 || rc == -1);
	ref_split(line, 0, &ref);
	CHECK((rc == 0) == ref.ok);
	split_ok = rc == 0;
	if (rc == 0) {
		/* SECURITY: a line with a raw control character never
		 * parses. */
		CHECK(!has_ctl);
		check_inside(copy, size, &cmd);
		check_same(&cmd, &ref);
		check_reencode(&cmd, -1);
		for (i = 0; i < (size_t)cmd.argc; i++) {
			check_name(cmd.argv[i]);
			check_param(cmd.argv[i]);
		}
		/* The verb the server dispatches on is the one peeked, when
		 * it needed no decoding. */
		{
			char peek[16];

			if (strchr(line, '%') == NULL &&
			    proto_peek_verb(line, peek, sizeof(peek)) == 0)
				CHECK(strcmp(peek, cmd.verb) == 0);
		}
	} else {
		CHECK(err[0] != '\0');
	}
	ref_free(&ref);

	/* proto_split_text, for every text verb shape in use. */
	for (nfixed = 0; nfixed <= 2; nfixed++) {
		tcopy = xstrdup(line);
		err[0] = '\0';
		rc = proto_split_text(tcopy, &tcmd, nfixed, err, sizeof(err));
		CHECK(rc == 0 || rc == -1);
		ref_split(line, nfixed + 1, &ref);
		CHECK((rc == 0) == ref.ok);
		if (rc == 0) {
			CHECK(!has_ctl);
			CHECK(tcmd.argc <= nfixed + 1);
			check_inside(tcopy, size, &tcmd);
			check_same(&tcmd, &ref);
			if (tcmd.argc == nfixed + 1) {
				const char *t = tcmd.argv[nfixed];

				/* The text is the literal tail of the line,
				 * untouched, and starts with no space. */
				CHECK(t[0] != ' ');
				CHECK(t + strlen(t) == tcopy + slen);
				CHECK(memcmp(t, line + (t - tcopy),
					  strlen(t)) == 0);
			}
			check_reencode(&tcmd, nfixed);
			/* Whatever proto_split accepts, split_text accepts
			 * with the same verb and fixed arguments. */
			if (split_ok) {
				CHECK(strcmp(tcmd.verb, cmd.verb) == 0);
				CHECK(tcmd.argc ==
				    (cmd.argc < nfixed + 1 ? cmd.argc
							   : nfixed + 1));
				for (i = 0; i < (size_t)nfixed &&
				     i < (size_t)tcmd.argc;
				     i++)
					CHECK(strcmp(tcmd.argv[i],
						  cmd.argv[i]) == 0);
			}
		} else {
			CHECK(err[0] != '\0');
			CHECK(!split_ok);
		}
		ref_free(&ref);
		free(tcopy);
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t off = 0, len;
	ssize_t k;
	char *line;

	/* Cut the stream into lines as the server's reader does. */
	while (off < size) {
		k = check_find_line(buf + off, size - off);
		if (k > 0)
			len = (size_t)k;
		else if (k == 0)
			len = size - off; /* the unfinished last line */
		else
			len = FTX_LINE_MAX; /* too long: check a prefix */
		line = xmalloc(len + 1);
		memcpy(line, buf + off, len);
		line[len] = '\0';
		check_line(line);
		free(line);
		off += len;
	}
	return 0;
}

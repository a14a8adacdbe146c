/*
 * trust.h - which TLS server certificates the client trusts, without a
 * CA: trust on first use, like ssh's known_hosts.
 *
 * The known_hosts file (default ~/.config/ftx/known_hosts) has one
 * entry per line,
 *
 *	<host>:<port> SHA256:<64 lowercase hex>
 *
 * where <host> is the name or address as the user gave it, in lower
 * case, and an IPv6 address is written in brackets ("[::1]:5001").
 * Blank lines and lines starting with '#' are comments.  Lines that do
 * not parse are ignored (and counted, so the caller can warn); they are
 * kept as they are when the file is rewritten.  If a host has several
 * entries, a certificate matching any of them is trusted.
 *
 * The file is rewritten atomically (a temporary in the same directory,
 * fsync, rename), created with mode 0600 in a directory created with
 * mode 0700.  SECURITY: a file or directory that others may write is
 * refused, since whoever can write it decides whom we trust.
 *
 * The parsing functions are pure, for tests/unit/test_trust.c.
 */
#ifndef FTX_TRUST_H
#define FTX_TRUST_H

#include <stddef.h>

#include "ftx_limits.h"

/* "[" host "]:" port, NUL. */
#define TRUST_KEY_MAX (FTX_HOST_MAX + 2 + 1 + 5 + 1)

enum trust_status {
	TRUST_UNKNOWN, /* no entry for this host */
	TRUST_MATCH, /* an entry has this fingerprint */
	TRUST_CHANGED /* entries exist, none with this fingerprint */
};

struct trust_result {
	enum trust_status status;
	/* TRUST_CHANGED: the first entry's fingerprint and line number. */
	char stored[FTX_FP_LEN];
	unsigned long line;
	unsigned long entries; /* well-formed entries in the file */
	unsigned long bad; /* lines that are neither entries nor comments */
};

/* What to do when a server is not known yet (ftx's options). */
struct trust_policy {
	const char *file; /* the known_hosts file */
	const char *pin; /* --pin, normalised, or NULL */
	int accept_new; /* --accept-new: store an unknown server's */
	int ask; /* ask yes/no on the terminal (stdin and stderr) */
};

/* The key of `host` and `port`: "host:port", the host in lower case
 * and an IPv6 address in brackets.  0, or -1 for a host name with
 * characters that have no place in a host name. */
int trust_key(char *out, size_t n, const char *host, int port);
/*
 * Parse one line (without its LF; `len` bytes, not NUL-terminated).
 * 1 for an entry (key and normalised fingerprint stored), 0 for a blank
 * line or a comment, -1 for anything else, including a line longer
 * than FTX_KNOWN_HOSTS_LINE_MAX.
 */
int trust_parse_line(
    const char *line, size_t len, char *key, size_t keyn, char *fp, size_t fpn);
/* Look `key` and `fp` (normalised) up in a file's contents.  0, or -1
 * if there are more than FTX_KNOWN_HOSTS_MAX entries. */
int trust_scan(const char *text, size_t len, const char *key, const char *fp,
    struct trust_result *r, char *err, size_t errlen);
/* The file's contents with every entry for `key` replaced by one line
 * "<key> <fp>" at the end, into a malloc'd *out of *outlen bytes. */
int trust_replace(const char *text, size_t len, const char *key, const char *fp,
    char **out, size_t *outlen, char *err, size_t errlen);

/* ~/.config/ftx/known_hosts (from $HOME, else the password database). */
int trust_default_path(char *out, size_t n, char *err, size_t errlen);
/* Read the file and look `key`/`fp` up; a missing file is empty. */
int trust_check(const char *path, const char *key, const char *fp,
    struct trust_result *r, char *err, size_t errlen);
/* Store (or replace) the entry for `key`, creating the file and its
 * directory if need be. */
int trust_add(const char *path, const char *key, const char *fp, char *err,
    size_t errlen);
/* The loud multi-line warning for a changed fingerprint, into out. */
int trust_changed_text(char *out, size_t n, const char *key,
    const char *presented, const char *path, const struct trust_result *r);

/*
 * The whole decision for a server presenting `fp`: 0 if it is trusted
 * (known, pinned, or accepted now and stored), -1 if not, with the
 * reason in err.  A changed fingerprint prints the warning on stderr
 * and sets *changed.
 */
int trust_verify(const struct trust_policy *p, const char *key, const char *fp,
    int *changed, char *err, size_t errlen);

#endif /* FTX_TRUST_H */

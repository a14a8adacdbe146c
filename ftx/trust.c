/*
 * trust.c - trust on first use for TLS server certificates.  See trust.h.
 */
#include "trust.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "afile.h"
#include "str.h"
#include "tls.h"

/* SECURITY: the largest known_hosts file we read: every entry at the
 * longest line, so a hostile or corrupted file cannot make us allocate
 * without bound. */
#define TRUST_FILE_MAX                                                         \
	((size_t)FTX_KNOWN_HOSTS_MAX * (FTX_KNOWN_HOSTS_LINE_MAX + 1))
/* Waiting for another ftx that is updating the same file: attempts and
 * the pause between them (5 s in all). */
#define TRUST_LOCK_TRIES 50
#define TRUST_LOCK_PAUSE_MS 100
/* A yes/no answer, and how often we ask before giving up. */
#define TRUST_ANSWER_MAX 128
#define TRUST_ASK_TRIES 3

/* ---- pure parsing ---- */

static int
host_char(char c)
{
	/* Names, IPv4 and IPv6 addresses, and an IPv6 zone ("%eth0"). */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
	    c == ':' || c == '%';
}

int
trust_key(char *out, size_t n, const char *host, int port)
{
	char low[FTX_HOST_MAX + 1];
	size_t i, len = strlen(host);

	if (len == 0 || len > FTX_HOST_MAX || port < 1 || port > 65535)
		return -1;
	/* SECURITY: the key ends up in a file we parse again and on the
	 * terminal; only host-name characters belong in it. */
	for (i = 0; i < len; i++) {
		if (!host_char(host[i]))
			return -1;
		low[i] = (char)tolower((unsigned char)host[i]);
	}
	low[len] = '\0';
	if (strchr(low, ':') != NULL)
		return str_fmt(out, n, "[%s]:%d", low, port);
	return str_fmt(out, n, "%s:%d", low, port);
}

/* Parse a key as written in the file back into its canonical form. */
static int
parse_key(const char *tok, char *key, size_t keyn)
{
	char host[FTX_HOST_MAX + 3];
	const char *colon, *h = tok;
	uint64_t port;
	size_t hlen;

	if ((colon = strrchr(tok, ':')) == NULL || colon == tok)
		return -1;
	if (str_to_u64(colon + 1, 65535, &port) == -1 || port == 0)
		return -1;
	hlen = (size_t)(colon - tok);
	if (tok[0] == '[') {
		/* "[v6]:port": the brackets are required around an address
		 * with colons, and only there. */
		if (hlen < 3 || tok[hlen - 1] != ']')
			return -1;
		h = tok + 1;
		hlen -= 2;
		if (memchr(h, ':', hlen) == NULL)
			return -1;
	} else if (memchr(tok, ':', hlen) != NULL) {
		return -1;
	}
	if (hlen == 0 || hlen > FTX_HOST_MAX)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return trust_key(key, keyn, host, (int)port);
}

int
trust_parse_line(
    const char *line, size_t len, char *key, size_t keyn, char *fp, size_t fpn)
{
	char buf[FTX_KNOWN_HOSTS_LINE_MAX + 1], *p, *sp, *end;

	/* SECURITY: bounded, and a NUL would hide the rest of the line. */
	if (len > FTX_KNOWN_HOSTS_LINE_MAX || memchr(line, '\0', len) != NULL)
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	/* Tolerate a file edited with CR LF line ends, and blanks around
	 * the fields. */
	end = buf + len;
	while (
	    end > buf && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	for (p = buf; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '\0' || *p == '#')
		return 0;
	if ((sp = strpbrk(p, " \t")) == NULL)
		return -1;
	*sp++ = '\0';
	while (*sp == ' ' || *sp == '\t')
		sp++;
	/* Exactly two fields. */
	if (strpbrk(sp, " \t") != NULL)
		return -1;
	if (parse_key(p, key, keyn) == -1 ||
	    tls_fingerprint_parse(sp, fp, fpn) == -1)
		return -1;
	return 1;
}

/* The next line of text[0..len) from *off: its start and length
 * (without the LF); *off moves past the LF.  0 at the end. */
static int
next_line(const char *text, size_t len, size_t *off, const char **line,
    size_t *linelen)
{
	const char *lf;

	if (*off >= len)
		return 0;
	*line = text + *off;
	lf = memchr(*line, '\n', len - *off);
	*linelen = lf != NULL ? (size_t)(lf - *line) : len - *off;
	*off += *linelen + (lf != NULL ? 1 : 0);
	return 1;
}

int
trust_scan(const char *text, size_t len, const char *key, const char *fp,
    struct trust_result *r, char *err, size_t errlen)
{
	char k[TRUST_KEY_MAX], f[FTX_FP_LEN];
	unsigned long lineno = 0;
	size_t off = 0, ll;
	const char *line;
	int have = 0, match = 0, pr;

	memset(r, 0, sizeof(*r));
	while (next_line(text, len, &off, &line, &ll)) {
		lineno++;
		pr = trust_parse_line(line, ll, k, sizeof(k), f, sizeof(f));
		if (pr == -1)
			r->bad++;
		if (pr != 1)
			continue;
		if (++r->entries > FTX_KNOWN_HOSTS_MAX)
			return str_err(err, errlen, "more than %d entries",
			    FTX_KNOWN_HOSTS_MAX);
		if (strcmp(k, key) != 0)
			continue;
		if (strcmp(f, fp) == 0)
			match = 1;
		if (!have) {
			(void)str_copy(r->stored, sizeof(r->stored), f);
			r->line = lineno;
			have = 1;
		}
	}
	r->status = match ? TRUST_MATCH : have ? TRUST_CHANGED : TRUST_UNKNOWN;
	return 0;
}

int
trust_replace(const char *text, size_t len, const char *key, const char *fp,
    char **out, size_t *outlen, char *err, size_t errlen)
{
	char k[TRUST_KEY_MAX], f[FTX_FP_LEN],
	    entry[TRUST_KEY_MAX + FTX_FP_LEN + 2];
	unsigned long kept = 0;
	size_t off = 0, ll, used = 0, cap, elen;
	const char *line;
	char *b;
	int pr;

	if (str_fmt(entry, sizeof(entry), "%s %s\n", key, fp) == -1)
		return str_err(err, errlen, "entry too long");
	elen = strlen(entry);
	/* The old text, a LF it may lack at its end, and the entry. */
	if (str_add_size(len, elen + 1, &cap) == -1 ||
	    (b = malloc(cap)) == NULL)
		return str_err(err, errlen, "out of memory");
	while (next_line(text, len, &off, &line, &ll)) {
		pr = trust_parse_line(line, ll, k, sizeof(k), f, sizeof(f));
		if (pr == 1 && strcmp(k, key) == 0)
			continue;
		if (pr == 1 && ++kept >= FTX_KNOWN_HOSTS_MAX) {
			free(b);
			return str_err(err, errlen, "more than %d entries",
			    FTX_KNOWN_HOSTS_MAX);
		}
		/* Everything else stays as it was, comments and lines we
		 * do not understand included. */
		memcpy(b + used, line, ll);
		used += ll;
		b[used++] = '\n';
	}
	memcpy(b + used, entry, elen);
	used += elen;
	*out = b;
	*outlen = used;
	return 0;
}

static int fmt_append(char *out, size_t n, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fmt_append(char *out, size_t n, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = str_vfmt(out + *used, n - *used, fmt, ap);
	va_end(ap);
	if (rc == -1)
		return -1;
	*used += strlen(out + *used);
	return 0;
}

int
trust_changed_text(char *out, size_t n, const char *key, const char *presented,
    const char *path, const struct trust_result *r)
{
	static const char bar[] =
	    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@";
	size_t used = 0;

	if (n == 0)
		return -1;
	out[0] = '\0';
	if (fmt_append(out, n, &used,
		"%s\n@    WARNING: SERVER CERTIFICATE HAS CHANGED!"
		"              @\n%s\n",
		bar, bar) == -1 ||
	    fmt_append(out, n, &used,
		"IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n"
		"Someone could be eavesdropping on you right now "
		"(man-in-the-middle attack)!\n"
		"It is also possible that the server's certificate has "
		"just been replaced.\n") == -1 ||
	    fmt_append(out, n, &used,
		"The TLS certificate fingerprint the server %s sent is\n"
		"    %s\n"
		"but %s (line %lu) says it is\n"
		"    %s\n",
		key, presented, path, r->line, r->stored) == -1 ||
	    fmt_append(out, n, &used,
		"If you are sure the new certificate is genuine, remove the "
		"entry for %s\nfrom %s and connect again.\n"
		"Connection refused: the server's certificate has changed.\n",
		key, path) == -1)
		return -1;
	return 0;
}

/* ---- files ---- */

int
trust_default_path(char *out, size_t n, char *err, size_t errlen)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home == NULL || home[0] != '/') {
		pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : NULL;
	}
	if (home == NULL || home[0] != '/')
		return str_err(err, errlen,
		    "no home directory for the known_hosts file (set HOME or "
		    "use --known-hosts FILE)");
	if (str_fmt(out, n, "%s/.config/ftx/known_hosts", home) == -1)
		return str_err(err, errlen, "home directory name too long");
	return 0;
}

/*
 * Read the whole file into a malloc'd *text (NUL-terminated for
 * safety, not for use): 0, 1 if it does not exist (*text NULL), -1.
 */
/*
 * SECURITY: whoever can write the directory can delete or replace the
 * file, and a deleted file makes every server "new" again (--accept-new
 * would then trust a man in the middle).  Refuse a directory that others
 * may write unless the sticky bit stops them from touching our file;
 * like the file, it must be ours or root's.
 */
static int
dir_safe(const char *path, char *err, size_t errlen)
{
	char dir[FTX_PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat sb;

	if (slash == NULL)
		(void)str_copy(dir, sizeof(dir), ".");
	else if (slash == path)
		(void)str_copy(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return str_err(err, errlen, "%s: path too long", path);
	else
		(void)str_fmt(
		    dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &sb) == -1)
		return errno == ENOENT
		    ? 0 /* created 0700 when the first entry is stored */
		    : str_err(err, errlen, "%s: %s", dir, strerror(errno));
	if (((sb.st_mode & 022) != 0 && (sb.st_mode & S_ISVTX) == 0) ||
	    (sb.st_uid != getuid() && sb.st_uid != 0))
		return str_err(err, errlen,
		    "%s may be changed by others: refusing to trust the "
		    "known hosts in it (chmod go-w it)",
		    dir);
	return 0;
}

static int
read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	struct stat sb;
	ssize_t got;
	char *b = NULL;
	size_t have = 0;
	int fd;

	*text = NULL;
	*len = 0;
	if (dir_safe(path, err, errlen) == -1)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1 && errno == ENOENT)
		return 1;
	if (fd == -1)
		return str_err(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) == -1) {
		str_err(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		str_err(err, errlen, "%s is not a regular file", path);
		goto fail;
	}
	/* SECURITY: whoever can write this file decides which servers we
	 * trust; like ssh's StrictModes, refuse it if that is not only us
	 * (or root). */
	if ((sb.st_mode & 022) != 0 ||
	    (sb.st_uid != getuid() && sb.st_uid != 0)) {
		str_err(err, errlen,
		    "%s may be written by others: refusing to trust it "
		    "(chmod 600 it)",
		    path);
		goto fail;
	}
	if ((uint64_t)sb.st_size > TRUST_FILE_MAX) {
		str_err(err, errlen, "%s is too large (more than %zu bytes)",
		    path, TRUST_FILE_MAX);
		goto fail;
	}
	if ((b = malloc((size_t)sb.st_size + 1)) == NULL) {
		str_err(err, errlen, "out of memory");
		goto fail;
	}
	/* Read what fstat promised; a file that grows meanwhile is read
	 * as it was. */
	while (have < (size_t)sb.st_size) {
		got = read(fd, b + have, (size_t)sb.st_size - have);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			str_err(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		have += (size_t)got;
	}
	b[have] = '\0';
	close(fd);
	*text = b;
	*len = have;
	return 0;
fail:
	free(b);
	close(fd);
	return -1;
}

int
trust_check(const char *path, const char *key, const char *fp,
    struct trust_result *r, char *err, size_t errlen)
{
	char why[FTX_ERRLEN];
	size_t len;
	char *text;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = read_file(path, &text, &len, err, errlen)) == -1)
		return -1;
	if (rc == 1)
		return 0; /* no file: nobody is known */
	rc = trust_scan(text, len, key, fp, r, why, sizeof(why));
	free(text);
	if (rc == -1)
		return str_err(err, errlen, "%s: %s", path, why);
	return 0;
}

/* Create every missing directory of `path`'s parent with mode 0700, and
 * open the parent.  -1 with err. */
static int
open_parent(const char *path, char *err, size_t errlen)
{
	char dir[FTX_PATH_MAX];
	char *slash;
	size_t i;
	int fd;

	if (str_copy(dir, sizeof(dir), path) == -1)
		return str_err(err, errlen, "path too long: %s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)str_copy(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	/* Like mkdir -p, private: the directory holds our trust. */
	for (i = 1; dir[i] != '\0'; i++) {
		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return str_err(err, errlen, "cannot create %s: %s", dir,
			    strerror(errno));
		dir[i] = '/';
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return str_err(
		    err, errlen, "cannot create %s: %s", dir, strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return str_err(
		    err, errlen, "cannot open %s: %s", dir, strerror(errno));
	return fd;
}

/* Serialise updates by several ftx at once (each reads, changes and
 * renames the whole file): a lock on the directory, bounded wait. */
static int
lock_dir(int dfd, const char *path, char *err, size_t errlen)
{
	struct timespec ts = {0, TRUST_LOCK_PAUSE_MS * 1000000L};
	int i;

	for (i = 0; i < TRUST_LOCK_TRIES; i++) {
		if (flock(dfd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return str_err(err, errlen,
			    "cannot lock the directory "
			    "of %s: %s",
			    path, strerror(errno));
		(void)nanosleep(&ts, NULL);
	}
	return str_err(
	    err, errlen, "another ftx keeps %s locked; try again", path);
}

/* Write `text` over `path` (in the directory dfd) through afile: a
 * fresh temporary, fsync'ed, renamed over it, durably.  0600. */
static int
write_atomic(int dfd, const char *path, const char *text, size_t len, char *err,
    size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char why[FTX_ERRLEN];

	if (afile_put(dfd, slash != NULL ? slash + 1 : path, text, len, 0600,
		AFILE_EXACT_MODE, why, sizeof(why)) == -1)
		return str_err(err, errlen, "cannot replace %s: %s", path, why);
	return 0;
}

int
trust_add(
    const char *path, const char *key, const char *fp, char *err, size_t errlen)
{
	char real[FTX_PATH_MAX], *text = NULL, *out = NULL;
	const char *target = path;
	size_t len = 0, outlen = 0;
	struct stat sb;
	int dfd, rc = -1;

	/* A symlinked file (a dotfile manager's) is updated where it
	 * points, not replaced by a regular file. */
	if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		if (realpath(path, real) == NULL)
			return str_err(
			    err, errlen, "%s: %s", path, strerror(errno));
		target = real;
	}
	if ((dfd = open_parent(target, err, errlen)) == -1)
		return -1;
	if (lock_dir(dfd, target, err, errlen) == -1)
		goto out;
	if (read_file(target, &text, &len, err, errlen) == -1)
		goto out;
	if (trust_replace(text != NULL ? text : "", len, key, fp, &out, &outlen,
		err, errlen) == -1)
		goto out;
	rc = write_atomic(dfd, target, out, outlen, err, errlen);
out:
	free(text);
	free(out);
	close(dfd); /* and the lock with it */
	return rc;
}

/* ---- the decision ---- */

/*
 * Ask on the terminal whether to trust an unknown server: 1 yes, 0 no
 * (or end of input).  Typing the fingerprint itself also means yes.
 */
static int
ask(const char *key, const char *fp)
{
	char ans[TRUST_ANSWER_MAX], norm[FTX_FP_LEN];
	size_t len;
	ssize_t r;
	int tries;
	char ch;

	fprintf(stderr,
	    "The authenticity of the ftx server %s can't be established.\n"
	    "Its TLS certificate fingerprint is %s.\n"
	    "Compare it with the one the server's administrator gave you\n"
	    "(ftxd --gen-cert prints it).\n",
	    key, fp);
	for (tries = 0; tries < TRUST_ASK_TRIES; tries++) {
		fputs(tries == 0 ? "Are you sure you want to trust it and "
				   "continue connecting (yes/no)? "
				 : "Please type 'yes', 'no' or the "
				   "fingerprint: ",
		    stderr);
		fflush(stderr);
		/* read(2), a byte at a time: nothing after the answer's
		 * line is taken from whoever reads stdin next. */
		len = 0;
		for (;;) {
			r = read(STDIN_FILENO, &ch, 1);
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0)
				return 0;
			if (ch == '\n')
				break;
			if (len < sizeof(ans) - 1)
				ans[len++] = ch;
		}
		ans[len] = '\0';
		if (len > 0 && ans[len - 1] == '\r')
			ans[--len] = '\0';
		if (strcmp(ans, "yes") == 0)
			return 1;
		if (strcmp(ans, "no") == 0)
			return 0;
		if (tls_fingerprint_parse(ans, norm, sizeof(norm)) == 0)
			return strcmp(norm, fp) == 0;
	}
	return 0;
}

/* Accepted: store it; failing to is not fatal for this connection. */
static void
store(const struct trust_policy *p, const char *key, const char *fp)
{
	char why[FTX_ERRLEN];

	if (trust_add(p->file, key, fp, why, sizeof(why)) == -1)
		fprintf(stderr,
		    "ftx: warning: cannot store the certificate of %s: %s\n",
		    key, why);
	else
		fprintf(stderr,
		    "ftx: added the certificate fingerprint of %s (%s) to "
		    "%s\n",
		    key, fp, p->file);
}

int
trust_verify(const struct trust_policy *p, const char *key, const char *fp,
    int *changed, char *err, size_t errlen)
{
	char warn[2048];
	struct trust_result r;

	*changed = 0;
	/* --pin is the whole truth: compared, nothing stored or read. */
	if (p->pin != NULL) {
		if (strcmp(fp, p->pin) == 0)
			return 0;
		return str_err(err, errlen,
		    "the server's certificate fingerprint %s does not match "
		    "--pin %s",
		    fp, p->pin);
	}
	if (trust_check(p->file, key, fp, &r, err, errlen) == -1)
		return -1;
	if (r.bad > 0)
		fprintf(stderr,
		    "ftx: warning: %s: %lu malformed line%s "
		    "ignored\n",
		    p->file, r.bad, r.bad == 1 ? "" : "s");
	if (r.status == TRUST_MATCH)
		return 0;
	if (r.status == TRUST_CHANGED) {
		*changed = 1;
		if (trust_changed_text(
			warn, sizeof(warn), key, fp, p->file, &r) == 0)
			fputs(warn, stderr);
		return str_err(err, errlen,
		    "the TLS certificate of %s has CHANGED (see the warning "
		    "above)",
		    key);
	}
	if (p->accept_new || (p->ask && ask(key, fp))) {
		store(p, key, fp);
		return 0;
	}
	if (p->ask)
		return str_err(
		    err, errlen, "the server's certificate was not accepted");
	return str_err(err, errlen,
	    "the TLS certificate of %s is not known (fingerprint %s); "
	    "check it, then use --accept-new or --pin %s, or --cacert FILE",
	    key, fp, fp);
}

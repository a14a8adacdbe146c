/*
 * hostcfg.c - host aliases from ~/.config/ftx/config (see hostcfg.h).
 */
#include "hostcfg.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pass.h"
#include "str.h"
#include "url.h"

int
hostcfg_path(char *out, size_t n, int *must_exist)
{
	const char *env = getenv("FTX_CONFIG"), *x, *home;

	*must_exist = 0;
	if (env != NULL) {
		if (env[0] == '\0')
			return -1;
		*must_exist = 1;
		return str_copy(out, n, env);
	}
	x = getenv("XDG_CONFIG_HOME");
	home = getenv("HOME");
	/* The XDG rule: a relative XDG_CONFIG_HOME is ignored. */
	if (x != NULL && x[0] == '/')
		return str_fmt(out, n, "%s/ftx/config", x);
	if (home != NULL && home[0] == '/')
		return str_fmt(out, n, "%s/.config/ftx/config", home);
	return -1;
}

/* The state of one pass over the file. */
struct parse {
	const char *path;
	const char *name; /* what the user typed */
	struct hostcfg *h;
	int line; /* number, for messages */
	int on; /* the current block applies */
	int hits; /* lines that applied */
	int hosts; /* Host lines seen */
	char *err;
	size_t errlen;
};

static int
bad(struct parse *p, const char *why, const char *val)
{
	return str_err(p->err, p->errlen, "%s line %d: %s%s%s", p->path,
	    p->line, why, val != NULL ? ": " : "", val != NULL ? val : "");
}

/* "Host p1 p2 ...": the block applies if a pattern matches and no
 * "!pattern" does. */
static void
host_line(struct parse *p, char *pats)
{
	char *save = NULL, *w;
	int yes = 0;

	for (w = strtok_r(pats, " \t", &save); w != NULL;
	     w = strtok_r(NULL, " \t", &save)) {
		if (w[0] == '!') {
			if (fnmatch(w + 1, p->name, 0) == 0) {
				p->on = 0;
				return;
			}
		} else if (fnmatch(w, p->name, 0) == 0) {
			yes = 1;
		}
	}
	p->on = yes;
}

static int
yes_no(struct parse *p, const char *v, int *out)
{
	int b;

	if (strcasecmp(v, "yes") == 0)
		b = 1;
	else if (strcasecmp(v, "no") == 0)
		b = 0;
	else
		return bad(p, "expected yes or no", v);
	if (*out == -1)
		*out = b;
	return 0;
}

/* A path value, with a leading "~/" meaning the home directory. */
static int
path_val(struct parse *p, const char *v, char *out, size_t n)
{
	const char *home = getenv("HOME");

	if (out[0] != '\0')
		return 0; /* an earlier value wins */
	if (strncmp(v, "~/", 2) == 0) {
		if (home == NULL || home[0] != '/')
			return bad(p, "~ but no HOME", v);
		if (str_fmt(out, n, "%s/%s", home, v + 2) == -1)
			return bad(p, "path too long", NULL);
		return 0;
	}
	if (str_copy(out, n, v) == -1)
		return bad(p, "path too long", NULL);
	return 0;
}

/* A number in [min, max] into *out unless an earlier value is there
 * (*out != unset). */
static int
num_val(struct parse *p, const char *v, uint64_t min, uint64_t max, int *out,
    int unset)
{
	uint64_t n;

	if (str_to_u64(v, max, &n) == -1 || n < min)
		return bad(p, "bad number", v);
	if (*out == unset)
		*out = (int)n;
	return 0;
}

/* A host value: checked as --host is, without a port. */
static int
host_val(struct parse *p, const char *v, char *out, size_t n)
{
	char why[128];
	int port;

	if (out[0] != '\0')
		return 0;
	if (url_hostport(v, out, n, &port, why, sizeof(why)) == -1)
		return bad(p, why, v);
	if (port != 0) {
		out[0] = '\0';
		return bad(p, "a port goes on its own Port line", v);
	}
	return 0;
}

/* One "Key Value" line of a block that applies. */
static int
setting(struct parse *p, const char *k, const char *v)
{
	struct hostcfg *h = p->h;

	if (strcasecmp(k, "HostName") == 0)
		return host_val(p, v, h->hostname, sizeof(h->hostname));
	if (strcasecmp(k, "Port") == 0)
		return num_val(p, v, 1, 65535, &h->port, 0);
	if (strcasecmp(k, "Retries") == 0)
		return num_val(p, v, 0, FTX_RETRIES_MAX, &h->retries, -1);
	if (strcasecmp(k, "TLS") == 0)
		return yes_no(p, v, &h->tls);
	if (strcasecmp(k, "AcceptNew") == 0)
		return yes_no(p, v, &h->accept_new);
	if (strcasecmp(k, "User") == 0) {
		if (!pass_user_ok(v))
			return bad(p, "invalid user name", v);
		if (h->user[0] == '\0')
			(void)str_copy(h->user, sizeof(h->user), v);
		return 0;
	}
	if (strcasecmp(k, "Pin") == 0) {
		if (h->pin[0] == '\0' &&
		    str_copy(h->pin, sizeof(h->pin), v) == -1)
			return bad(p, "bad pin", v);
		return 0;
	}
	if (strcasecmp(k, "CACert") == 0)
		return path_val(p, v, h->cacert, sizeof(h->cacert));
	if (strcasecmp(k, "KnownHosts") == 0)
		return path_val(p, v, h->known_hosts, sizeof(h->known_hosts));
	if (strcasecmp(k, "PasswordFile") == 0)
		return path_val(p, v, h->pass_file, sizeof(h->pass_file));
	if (strcasecmp(k, "DataHost") == 0)
		return host_val(p, v, h->data_host, sizeof(h->data_host));
	return bad(p, "unknown keyword", k);
}

/* Split "Key Value", "Key=Value" or "Key = Value"; a value in double
 * quotes loses them.  0, or -1 for a key without a value. */
static int
split(char *s, char **k, char **v)
{
	size_t n;

	*k = s;
	s += strcspn(s, " \t=");
	if (*s == '\0')
		return -1;
	*s++ = '\0';
	s += strspn(s, " \t");
	if (*s == '=')
		s++;
	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s[n - 1] = '\0';
		s++;
	}
	*v = s;
	return **v != '\0' ? 0 : -1;
}

static int
one_line(struct parse *p, char *s)
{
	char *k, *v;

	s += strspn(s, " \t");
	if (*s == '\0' || *s == '#')
		return 0;
	if (split(s, &k, &v) == -1)
		return bad(p, "keyword without a value", s);
	if (strcasecmp(k, "Host") == 0) {
		if (++p->hosts > FTX_CLIENT_CONFIG_HOSTS_MAX)
			return bad(p, "too many Host blocks", NULL);
		host_line(p, v);
		return 0;
	}
	if (!p->on) {
		/* Still checked: a mistake shows on every run, not only
		 * when the broken block is used. */
		struct hostcfg scratch;
		struct hostcfg *real = p->h;
		int rc;

		memset(&scratch, 0, sizeof(scratch));
		scratch.tls = scratch.accept_new = scratch.retries = -1;
		p->h = &scratch;
		rc = setting(p, k, v);
		p->h = real;
		return rc;
	}
	p->hits++;
	return setting(p, k, v);
}

/* Read the whole file (at most FTX_CLIENT_CONFIG_MAX bytes) into a
 * NUL-terminated buffer; 1, 0 when it does not exist, -1 (err). */
static int
slurp(const char *path, int must_exist, char **out, char *err, size_t errlen)
{
	struct stat sb;
	size_t len = 0;
	ssize_t r;
	char *b = NULL;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return str_err(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		str_err(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	/* SECURITY: the file says which server to trust and where the
	 * password is; one that others could write is refused, as
	 * ssh refuses such a config. */
	if ((sb.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    (sb.st_uid != getuid() && sb.st_uid != 0)) {
		str_err(err, errlen,
		    "%s: writable by others or not yours: refused (chmod "
		    "go-w)",
		    path);
		goto fail;
	}
	/* SECURITY: bounded, and a larger file is refused, not cut. */
	if (sb.st_size > FTX_CLIENT_CONFIG_MAX) {
		str_err(err, errlen, "%s: larger than %d bytes", path,
		    FTX_CLIENT_CONFIG_MAX);
		goto fail;
	}
	if ((b = malloc(FTX_CLIENT_CONFIG_MAX + 2)) == NULL) {
		str_err(err, errlen, "out of memory");
		goto fail;
	}
	while (len <= FTX_CLIENT_CONFIG_MAX &&
	    (r = read(fd, b + len, FTX_CLIENT_CONFIG_MAX + 1 - len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			str_err(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		len += (size_t)r;
	}
	if (len > FTX_CLIENT_CONFIG_MAX) {
		str_err(err, errlen, "%s: larger than %d bytes", path,
		    FTX_CLIENT_CONFIG_MAX);
		goto fail;
	}
	b[len] = '\0';
	close(fd);
	*out = b;
	return 1;
fail:
	free(b);
	close(fd);
	return -1;
}

int
hostcfg_lookup(const char *path, int must_exist, const char *name,
    struct hostcfg *h, char *err, size_t errlen)
{
	struct parse p;
	char *buf = NULL, *s, *nl;
	int r;

	memset(h, 0, sizeof(*h));
	h->tls = h->accept_new = h->retries = -1;
	if ((r = slurp(path, must_exist, &buf, err, errlen)) <= 0 ||
	    buf == NULL)
		return r == 1 ? 0 : r;
	memset(&p, 0, sizeof(p));
	p.path = path;
	p.name = name;
	p.h = h;
	p.on = 1; /* lines before the first Host apply to all */
	p.err = err;
	p.errlen = errlen;
	r = 0;
	for (s = buf; r == 0 && *s != '\0'; s = nl) {
		p.line++;
		if ((nl = strchr(s, '\n')) != NULL)
			*nl++ = '\0';
		else
			nl = s + strlen(s);
		/* SECURITY: every line is bounded, like the file. */
		if (strlen(s) > FTX_CLIENT_CONFIG_LINE_MAX) {
			r = bad(&p, "line too long", NULL);
			break;
		}
		if (s[0] != '\0' && s[strlen(s) - 1] == '\r')
			s[strlen(s) - 1] = '\0'; /* written on Windows */
		r = one_line(&p, s);
	}
	free(buf);
	if (r == -1) {
		memset(h, 0, sizeof(*h));
		h->tls = h->accept_new = h->retries = -1;
		return -1;
	}
	return p.hits > 0 ? 1 : 0;
}

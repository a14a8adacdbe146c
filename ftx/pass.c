/*
 * pass.c - user names and passwords on the client.  See pass.h.
 */
#include "pass.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prompt.h"
#include "str.h"

/* The secret page: PASS_BUF bytes rounded up to whole pages. */
static size_t
secret_size(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t p = pg > 0 ? (size_t)pg : 4096;

	return (PASS_BUF + p - 1) / p * p;
}

char *
pass_alloc(void)
{
	size_t n = secret_size();
	void *p;

	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* SECURITY: best effort: never swapped out (RLIMIT_MEMLOCK may
	 * forbid it) and never in a core dump. */
	(void)mlock(p, n);
	(void)madvise(p, n, MADV_DONTDUMP);
	return p;
}

void
pass_free(char *p)
{
	size_t n = secret_size();

	if (p == NULL)
		return;
	explicit_bzero(p, n);
	(void)munlock(p, n);
	(void)munmap(p, n);
}

int
pass_user_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > FTX_USER_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '-')))
			return 0;
	}
	return 1;
}

/* Copy a candidate password into buf after checking it. */
static int
take(char *buf, const char *p, size_t n, const char *what, char *err,
    size_t errlen)
{
	if (n == 0)
		return str_err(err, errlen, "%s: empty password", what);
	if (n > FTX_PASS_MAX)
		return str_err(err, errlen, "%s: password longer than %d bytes",
		    what, FTX_PASS_MAX);
	if (memchr(p, '\0', n) != NULL)
		return str_err(
		    err, errlen, "%s: NUL byte in the password", what);
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 0;
}

int
pass_first_line(
    const char *text, size_t len, char *buf, char *err, size_t errlen)
{
	const char *lf = memchr(text, '\n', len);
	size_t n = lf != NULL ? (size_t)(lf - text) : len;

	/* A file written on Windows ends its line with CR LF; a CR at
	 * the end cannot have been typed at a prompt either. */
	if (n > 0 && text[n - 1] == '\r')
		n--;
	return take(buf, text, n, "password file", err, errlen);
}

int
pass_from_env(char *buf, char *err, size_t errlen)
{
	char *v = getenv("FTX_PASSWORD");
	int rc;

	if (v == NULL)
		return 0;
	rc = take(buf, v, strlen(v), "FTX_PASSWORD", err, errlen);
	/* SECURITY: wipe the environment's copy (still visible in
	 * /proc/PID/environ otherwise) and forget the variable. */
	explicit_bzero(v, strlen(v));
	(void)unsetenv("FTX_PASSWORD");
	return rc == 0 ? 1 : -1;
}

int
pass_from_file(const char *path, char *buf, char *err, size_t errlen)
{
	/* The first line and its LF, and one more byte to tell that the
	 * line is too long. */
	char text[PASS_BUF + 2];
	struct stat sb;
	size_t have = 0;
	ssize_t got = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return str_err(
		    err, errlen, "password file %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return str_err(err, errlen,
		    "password file %s is not a regular file", path);
	}
	/* SECURITY: a password others can read is no secret. */
	if ((sb.st_mode & 077) != 0) {
		close(fd);
		return str_err(err, errlen,
		    "password file %s is accessible by others (mode %03o): "
		    "chmod 600 %s",
		    path, (unsigned)(sb.st_mode & 0777), path);
	}
	while (have < sizeof(text)) {
		got = read(fd, text + have, sizeof(text) - have);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		have += (size_t)got;
		if (memchr(text, '\n', have) != NULL)
			break;
	}
	close(fd);
	if (got == -1) {
		explicit_bzero(text, sizeof(text));
		return str_err(
		    err, errlen, "password file %s: %s", path, strerror(errno));
	}
	rc = pass_first_line(text, have, buf, err, errlen);
	explicit_bzero(text, sizeof(text));
	return rc;
}

int
pass_prompt(const char *prompt, char *buf, char *err, size_t errlen)
{
	size_t len;

	if (prompt_secret(prompt, buf, PASS_BUF, &len, 0, err, errlen) == -1)
		return -1;
	if (len == 0)
		return str_err(err, errlen, "empty password");
	return 0;
}

/*
 * priv.c - dropping root privileges for good.  See priv.h.
 */
#include "priv.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "str.h"

/* getpwnam_r() buffer: start at sysconf's hint (or this), double on
 * ERANGE, give up beyond the cap.  These size a lookup buffer, they are
 * not limits a user or peer can reach. */
#define PRIV_PWBUF_START 16384
#define PRIV_PWBUF_CAP (1024 * 1024)
/* Supplementary groups when sysconf(_SC_NGROUPS_MAX) has no answer
 * (the Linux maximum). */
#define PRIV_NGROUPS_FALLBACK 65536

int
priv_is_root(void)
{
	return getuid() == 0 || geteuid() == 0;
}

/* Look `user` up into *pw; the strings live in *bufp (caller frees). */
static int
lookup(
    const char *user, struct passwd *pw, char **bufp, char *err, size_t errlen)
{
	struct passwd *res = NULL;
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = hint > 0 && hint <= PRIV_PWBUF_CAP ? (size_t)hint
							 : PRIV_PWBUF_START;
	char *buf = NULL;
	int rc;

	for (;;) {
		buf = malloc(size);
		if (buf == NULL)
			return str_err(err, errlen, "out of memory");
		rc = getpwnam_r(user, pw, buf, size, &res);
		if (rc != ERANGE)
			break;
		free(buf);
		buf = NULL;
		if (size >= PRIV_PWBUF_CAP)
			return str_err(err, errlen,
			    "user %s: passwd entry too large", user);
		size *= 2;
	}
	if (rc != 0) {
		free(buf);
		return str_err(err, errlen, "cannot look up user %s: %s", user,
		    strerror(rc));
	}
	if (res == NULL) {
		free(buf);
		return str_err(err, errlen, "no such user: %s", user);
	}
	*bufp = buf;
	return 0;
}

/* The groups `pw` belongs to (primary first) into a new array. */
static int
user_groups(
    const struct passwd *pw, gid_t **out, int *nout, char *err, size_t errlen)
{
	long max = sysconf(_SC_NGROUPS_MAX);
	gid_t *groups;
	int n;

	if (max <= 0 || max > PRIV_NGROUPS_FALLBACK)
		max = PRIV_NGROUPS_FALLBACK;
	/* getgrouplist() adds the primary group: room for one more. */
	groups = calloc((size_t)max + 1, sizeof(*groups));
	if (groups == NULL)
		return str_err(err, errlen, "out of memory");
	n = (int)max + 1;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1) {
		free(groups);
		return str_err(
		    err, errlen, "user %s is in too many groups", pw->pw_name);
	}
	*out = groups;
	*nout = n;
	return 0;
}

static int
has_gid(const gid_t *list, int n, gid_t g)
{
	int i;

	for (i = 0; i < n; i++)
		if (list[i] == g)
			return 1;
	return 0;
}

/* SECURITY: no capability may survive the switch; with one (say
 * CAP_SETUID kept by PR_SET_KEEPCAPS or a file capability) the process
 * could become root again. */
static int
no_capabilities(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	int i;

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0;
	if (syscall(SYS_capget, &hdr, data) == -1)
		return str_err(err, errlen, "capget: %s", strerror(errno));
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective != 0 || data[i].permitted != 0 ||
		    data[i].inheritable != 0)
			return str_err(err, errlen,
			    "capabilities remain after the switch");
	return 0;
}

/*
 * SECURITY: check that the switch to uid/gid stuck.  `groups` (n) is
 * the exact supplementary list expected, or NULL when we did not set it.
 */
static int
verify(
    uid_t uid, gid_t gid, const gid_t *groups, int n, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	gid_t *have = NULL;
	int nhave, i;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		return str_err(
		    err, errlen, "getres[ug]id: %s", strerror(errno));
	if (ru != uid || eu != uid || su != uid)
		return str_err(err, errlen, "uid did not change");
	if (rg != gid || eg != gid || sg != gid)
		return str_err(err, errlen, "gid did not change");

	nhave = getgroups(0, NULL);
	if (nhave < 0)
		return str_err(err, errlen, "getgroups: %s", strerror(errno));
	if (nhave > 0) {
		have = calloc((size_t)nhave, sizeof(*have));
		if (have == NULL)
			return str_err(err, errlen, "out of memory");
		nhave = getgroups(nhave, have);
		if (nhave < 0) {
			free(have);
			return str_err(
			    err, errlen, "getgroups: %s", strerror(errno));
		}
	}
	for (i = 0; i < nhave; i++) {
		/* SECURITY: group 0 reads root's group-readable files. */
		if (have[i] == 0 ||
		    (groups != NULL && !has_gid(groups, n, have[i]))) {
			free(have);
			return str_err(
			    err, errlen, "supplementary groups did not change");
		}
	}
	free(have);

	if (no_capabilities(err, errlen) == -1)
		return -1;
	/* SECURITY: the real test: root must be out of reach.  Each call
	 * must fail; if one succeeds the process is root again, and the
	 * caller exits on our -1. */
	if (setuid(0) == 0 || seteuid(0) == 0)
		return str_err(
		    err, errlen, "could regain uid 0 after the switch");
	if (setgid(0) == 0 || setegid(0) == 0)
		return str_err(
		    err, errlen, "could regain gid 0 after the switch");
	return 0;
}

/*
 * SECURITY: after the drop, no execve() may gain privilege again through
 * a set-uid binary or file capabilities.  ftxd runs no program, so this
 * only limits what an attacker who takes the process over could do.
 * Checked like the drop itself.  Works unprivileged.
 */
static int
no_new_privs(char *err, size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) == -1)
		return str_err(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(errno));
	if (prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L) != 1)
		return str_err(err, errlen, "no_new_privs did not stick");
	return 0;
}

int
priv_drop(const char *user, char *err, size_t errlen)
{
	struct passwd pw;
	char *buf = NULL;
	gid_t *groups = NULL;
	int ngroups = 0, ret = -1;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	memset(&pw, 0, sizeof(pw));
	if (user == NULL || user[0] == '\0')
		return str_err(err, errlen, "no user name given");
	if (lookup(user, &pw, &buf, err, errlen) == -1)
		return -1;
	/* SECURITY: dropping "to root" would be no drop at all. */
	if (pw.pw_uid == 0) {
		str_err(
		    err, errlen, "refusing to run as %s: it has uid 0", user);
		goto out;
	}
	if (pw.pw_gid == 0) {
		str_err(err, errlen,
		    "refusing to run as %s: its primary group is 0", user);
		goto out;
	}
	if (user_groups(&pw, &groups, &ngroups, err, errlen) == -1)
		goto out;
	if (has_gid(groups, ngroups, 0)) {
		str_err(err, errlen,
		    "refusing to run as %s: it is a member of group 0", user);
		goto out;
	}

	if (geteuid() != 0) {
		/* Not root: nothing can be dropped, which is fine only if we
		 * already are that user. */
		if (getresuid(&ru, &eu, &su) == -1 ||
		    getresgid(&rg, &eg, &sg) == -1 || ru != pw.pw_uid ||
		    eu != pw.pw_uid || su != pw.pw_uid || rg != pw.pw_gid ||
		    eg != pw.pw_gid || sg != pw.pw_gid) {
			str_err(err, errlen,
			    "must be started as root to switch to user %s",
			    user);
			goto out;
		}
		ret = verify(pw.pw_uid, pw.pw_gid, NULL, 0, err, errlen);
		if (ret == 0)
			ret = no_new_privs(err, errlen);
		goto out;
	}

	/* Capabilities must not be kept across the uid change. */
	if (prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) == -1) {
		str_err(
		    err, errlen, "prctl(PR_SET_KEEPCAPS): %s", strerror(errno));
		goto out;
	}
	/* Groups first, uid last: after setresuid() we could no longer
	 * change our groups.  The set-res forms change the saved ids too,
	 * so nothing to switch back to remains. */
	if (setgroups((size_t)ngroups, groups) == -1) {
		str_err(err, errlen, "setgroups: %s", strerror(errno));
		goto out;
	}
	if (setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) == -1) {
		str_err(err, errlen, "setresgid(%lu): %s",
		    (unsigned long)pw.pw_gid, strerror(errno));
		goto out;
	}
	if (setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) == -1) {
		str_err(err, errlen, "setresuid(%lu): %s",
		    (unsigned long)pw.pw_uid, strerror(errno));
		goto out;
	}
	ret = verify(pw.pw_uid, pw.pw_gid, groups, ngroups, err, errlen);
	if (ret == 0)
		ret = no_new_privs(err, errlen);
out:
	free(groups);
	free(buf);
	return ret;
}

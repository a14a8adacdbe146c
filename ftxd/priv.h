/*
 * priv.h - dropping root privileges (ftxd --user NAME).
 *
 * ftxd started as root binds its ports, then calls priv_drop() before it
 * serves anything.  Call it before any thread is created: glibc applies
 * set*id() to every thread, but a process that is still single-threaded
 * has no window in which one thread runs as root and another does not.
 */
#ifndef FTXD_PRIV_H
#define FTXD_PRIV_H

#include <stddef.h>

/*
 * SECURITY: switch the process for good to `user`: its supplementary
 * groups, then its primary group, then its uid (real, effective and
 * saved), and then verify that it stuck: every id matches, no capability
 * is left, and regaining root (setuid(0), seteuid(0), setgid(0)) fails;
 * then it sets PR_SET_NO_NEW_PRIVS (no execve can gain privilege) and
 * checks that too.  Refuses a target with uid 0 or group 0 (primary or
 * supplementary). Fails closed: returns 0 only if all of that holds, else -1
 * with a reason, and the caller must exit (the ids may be half-changed). Called
 * by a non-root process, it succeeds only if the process already runs as
 * exactly that user and group.
 */
int priv_drop(const char *user, char *err, size_t errlen);

/* 1 if the process runs as root (real or effective uid 0), else 0. */
int priv_is_root(void);

#endif /* FTXD_PRIV_H */

/*
 * pass.h - user names and passwords on the client.
 *
 * A password comes from FTX_PASSWORD, else the first line of
 * --password-file, else a prompt on the terminal with echo off.  It is
 * kept in a page of its own (locked in memory where the system allows,
 * left out of core dumps) for as long as the process may need to log in
 * again (a reconnect after a lost session), and wiped with
 * explicit_bzero when it is forgotten.  Copies made to send it are
 * wiped by their users right after sending.  Nothing here ever prints a
 * password.
 */
#ifndef FTX_PASS_H
#define FTX_PASS_H

#include <stddef.h>

#include "ftx_limits.h"

/* Bytes of a password buffer: the password, a NUL. */
#define PASS_BUF (FTX_PASS_MAX + 1)

/* A password buffer of PASS_BUF bytes in secret memory, or NULL. */
char *pass_alloc(void);
/* Wipe and release (NULL is fine). */
void pass_free(char *p);

/* 1 if `name` is a valid user name (limits.h: FTX_USER_MAX bytes of
 * [a-z0-9_-], starting with a letter or digit). */
int pass_user_ok(const char *name);
/* The first line of a password file's contents (without LF or CR LF)
 * into buf[PASS_BUF]: 0, or -1 if it is empty or too long. */
int pass_first_line(
    const char *text, size_t len, char *buf, char *err, size_t errlen);
/* FTX_PASSWORD into buf[PASS_BUF], then removed from the environment:
 * 1 if it was set, 0 if not, -1 if it is unusable. */
int pass_from_env(char *buf, char *err, size_t errlen);
/* The first line of `path`.  SECURITY: refused if others may read the
 * file (as ssh does with private keys). */
int pass_from_file(const char *path, char *buf, char *err, size_t errlen);
/* Prompt on stderr and read a line from the terminal on stdin with echo
 * off (shared/prompt.c: restored on every path, a signal included).  -1
 * if stdin is not a terminal or the line is empty or too long. */
int pass_prompt(const char *prompt, char *buf, char *err, size_t errlen);

#endif /* FTX_PASS_H */

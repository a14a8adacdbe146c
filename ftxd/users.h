/*
 * users.h - the accounts store: the users file, password hashes, and the
 * edits `ftxd user` makes.
 *
 * The users file (default <root>/../ftxd.users, see users_default_path)
 * holds one account per line:
 *
 *	# comment             (whole lines; blank lines are ignored too)
 *	alice:0:scrypt$15$8$1$<salt hex>$<hash hex>
 *	bob:10737418240:pbkdf2-sha256$600000$<salt hex>$<hash hex>
 *
 * that is name:quota_bytes:hash, where a quota of 0 means none.  Names
 * follow users_name_check, and "anonymous" (FTX_ANON_USER) is reserved.
 * Hash strings are self-describing so parameters can change later: new
 * ones are scrypt with FTX_SCRYPT_* parameters; PBKDF2-HMAC-SHA256 is
 * accepted too, for an operator who prefers it.  Any malformed line makes
 * the whole file unusable, with an error naming "path:line".
 *
 * The file is read afresh on every lookup (so an account added while
 * ftxd runs can log in at once) and is bounded: at most FTX_USERS_MAX
 * lines of at most FTX_USERS_LINE_MAX bytes each including the newline.
 * It must be a regular file (not a symlink), owned by the current user or
 * root, and not writable by group or others; anything else is refused.
 * Group-read is allowed: with `ftxd --user ftx`, a file of root:ftx mode
 * 0640 lets root edit it and the unprivileged server read it (or the file
 * is ftx's own, mode 0600, edited with `sudo -u ftx ftxd user ...`).
 *
 * Every edit takes an exclusive flock(2) on "<path>.lock", writes the new
 * contents to "<path>.tmp-XXXXXX" (mode 0600), fsyncs it, renames it over
 * the file and fsyncs the directory, so readers see the old file or the
 * new one, never a half-written one, and concurrent edits do not lose
 * each other's changes.  Comments and blank lines are kept.  When root
 * edits the file, the new one keeps the old one's owner and group (and
 * group-read bit).
 *
 * Every function here is thread-safe (no static state).
 */
#ifndef FTXD_USERS_H
#define FTXD_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "ftx_limits.h"

/* Salt and derived-key sizes (bytes) a hash string may have, and room
 * for the longest string with its NUL (pbkdf2-sha256$ITER$<128 hex>$<128
 * hex> is 280 bytes; an account line still fits FTX_USERS_LINE_MAX). */
#define USERS_SALT_MIN 16
#define USERS_SALT_MAX 64
#define USERS_KEY_MIN 16
#define USERS_KEY_MAX 64
#define USERS_HASH_MAX 320
/* SECURITY: what a hash string in the file may ask for, so a hand-edited
 * line cannot make every login take hours (scrypt memory is capped by
 * FTX_SCRYPT_MAXMEM too).  PBKDF2 below 1000 iterations is refused, as
 * OpenSSL's SP 800-132 checks would. */
#define USERS_SCRYPT_LOG2N_MAX 30
#define USERS_SCRYPT_R_MAX 32
#define USERS_SCRYPT_P_MAX 16
#define USERS_PBKDF2_ITER_MIN 1000
#define USERS_PBKDF2_ITER_MAX 10000000

struct user_rec {
	char name[FTX_USER_MAX + 1];
	uint64_t quota; /* bytes, 0 = none */
	char hash[USERS_HASH_MAX];
};

/* 0 if `name` is 1..FTX_USER_MAX bytes of [a-z0-9_-] starting with
 * [a-z0-9]; -1 with the reason otherwise.  (Names become directories
 * under the root.)  Does not refuse the reserved FTX_ANON_USER. */
int users_name_check(const char *name, char *err, size_t errlen);

/* The default users file for a root: "ftxd.users" next to the root
 * directory (its parent), so the file is never inside what ftxd serves.
 * An existing root is resolved with realpath(3) first; a root that does
 * not exist yet is taken lexically.  Fails for a root of "/". */
int users_default_path(
    const char *root, char *out, size_t outlen, char *err, size_t errlen);

/*
 * Look `name` up in the users file `path`.  Returns 1 and fills *out if
 * found, 0 if there is no such user, -1 on error (errno is ENOENT if the
 * file does not exist, which means accounts are off).  The whole file is
 * checked, so a file with a bad line fails for every name.
 */
int users_find(const char *path, const char *name, struct user_rec *out,
    char *err, size_t errlen);

/*
 * Check a password against rec->hash: 1 match, 0 mismatch, -1 error.
 * With rec NULL (no such user) the same scrypt work is done on a dummy
 * and 0 returned, so an unknown user takes as long as a wrong password.
 * The comparison is constant-time and derived keys are wiped.
 */
int users_verify(const struct user_rec *rec, const char *pass, size_t passlen,
    char *err, size_t errlen);

/* A new salted scrypt hash string of a 1..FTX_PASS_MAX byte password in
 * `out` (USERS_HASH_MAX bytes is enough); 0 or -1. */
int users_hash(const char *pass, size_t passlen, char *out, size_t outlen,
    char *err, size_t errlen);

/* 0 if `hash` is a well-formed hash string this module can verify. */
int users_hash_check(const char *hash, char *err, size_t errlen);

/*
 * Edits (see the top of this file for how they are made safe).  `hash`
 * is a string from users_hash.  users_add creates the file (mode 0600)
 * if it does not exist and fails if the user exists or the name is
 * invalid or reserved; the others fail if there is no such user.
 */
int users_add(const char *path, const char *name, uint64_t quota,
    const char *hash, char *err, size_t errlen);
int users_del(const char *path, const char *name, char *err, size_t errlen);
int users_set_hash(const char *path, const char *name, const char *hash,
    char *err, size_t errlen);
int users_set_quota(const char *path, const char *name, uint64_t quota,
    char *err, size_t errlen);

/* Call `fn` (if not NULL) for every account in file order; fn returns 0
 * to go on or -1 to stop (users_list then returns -1).  Returns the number
 * of accounts, or -1 (also when the file does not exist). */
typedef int users_each_fn(void *arg, const struct user_rec *rec);
int users_list(
    const char *path, users_each_fn *fn, void *arg, char *err, size_t errlen);

#endif /* FTXD_USERS_H */

/*
 * users.c - the accounts store: the users file, password hashes, and the
 * edits `ftxd user` makes.  See users.h for the file format and the rules.
 */
#include "users.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "afile.h"
#include "str.h"

/* The file name users_default_path puts next to the root. */
#define USERS_FILE_NAME "ftxd.users"

/* ---- hash strings ------------------------------------------------------- */

enum hash_kind { HASH_SCRYPT, HASH_PBKDF2 };

/* A parsed hash string. */
struct pwhash {
	enum hash_kind kind;
	uint64_t log2n; /* scrypt */
	uint64_t r;
	uint64_t p;
	uint64_t iter; /* pbkdf2 */
	unsigned char salt[USERS_SALT_MAX];
	size_t saltlen;
	unsigned char key[USERS_KEY_MAX];
	size_t keylen;
};

/* Decode a hex field of USERS_*_MIN..MAX bytes. */
static int
hex_field(
    const char *hex, size_t min, size_t max, unsigned char *out, size_t *outlen)
{
	size_t n = strlen(hex);

	if (n % 2 != 0 || n / 2 < min || n / 2 > max)
		return -1;
	if (str_unhex(out, n / 2, hex) == -1)
		return -1;
	*outlen = n / 2;
	return 0;
}

/*
 * Parse "scrypt$LOG2N$R$P$SALT$KEY" or "pbkdf2-sha256$ITER$SALT$KEY".
 * SECURITY: the bounds keep a hand-edited file from asking for hours of
 * work or gigabytes of memory per login (scrypt is capped again by
 * FTX_SCRYPT_MAXMEM), and error messages never quote the field, in case
 * an operator pasted a password there.
 */
static int
hash_parse(const char *s, struct pwhash *h, char *err, size_t errlen)
{
	char copy[USERS_HASH_MAX];
	char *f[7];
	size_t nf = 0;
	char *p;

	memset(h, 0, sizeof(*h));
	if (str_copy(copy, sizeof(copy), s) == -1)
		return str_err(err, errlen, "password hash too long");
	f[nf++] = copy;
	for (p = copy; *p != '\0'; p++) {
		if (*p != '$')
			continue;
		if (nf == sizeof(f) / sizeof(f[0]))
			return str_err(err, errlen, "bad password hash");
		*p = '\0';
		f[nf++] = p + 1;
	}
	if (strcmp(f[0], "scrypt") == 0) {
		h->kind = HASH_SCRYPT;
		if (nf != 6 ||
		    str_to_u64(f[1], USERS_SCRYPT_LOG2N_MAX, &h->log2n) == -1 ||
		    h->log2n < 1 ||
		    str_to_u64(f[2], USERS_SCRYPT_R_MAX, &h->r) == -1 ||
		    h->r < 1 ||
		    str_to_u64(f[3], USERS_SCRYPT_P_MAX, &h->p) == -1 ||
		    h->p < 1 ||
		    hex_field(f[4], USERS_SALT_MIN, USERS_SALT_MAX, h->salt,
			&h->saltlen) == -1 ||
		    hex_field(f[5], USERS_KEY_MIN, USERS_KEY_MAX, h->key,
			&h->keylen) == -1)
			return str_err(err, errlen,
			    "bad scrypt hash (want scrypt$LOG2N$R$P$SALT$KEY)");
		return 0;
	}
	if (strcmp(f[0], "pbkdf2-sha256") == 0) {
		h->kind = HASH_PBKDF2;
		if (nf != 4 ||
		    str_to_u64(f[1], USERS_PBKDF2_ITER_MAX, &h->iter) == -1 ||
		    h->iter < USERS_PBKDF2_ITER_MIN ||
		    hex_field(f[2], USERS_SALT_MIN, USERS_SALT_MAX, h->salt,
			&h->saltlen) == -1 ||
		    hex_field(f[3], USERS_KEY_MIN, USERS_KEY_MAX, h->key,
			&h->keylen) == -1)
			return str_err(err, errlen,
			    "bad pbkdf2-sha256 hash (want "
			    "pbkdf2-sha256$ITER$SALT$KEY, ITER %d..%d)",
			    USERS_PBKDF2_ITER_MIN, USERS_PBKDF2_ITER_MAX);
		return 0;
	}
	return str_err(err, errlen,
	    "unknown password hash type (want scrypt$... or "
	    "pbkdf2-sha256$...)");
}

int
users_hash_check(const char *hash, char *err, size_t errlen)
{
	struct pwhash h;

	return hash_parse(hash, &h, err, errlen);
}

/* The text of OpenSSL's latest error (and an empty queue afterwards, as
 * this runs on worker threads that other code shares). */
static int
ossl_err(char *err, size_t errlen, const char *what)
{
	char buf[160];
	unsigned long e = ERR_get_error();

	if (e == 0)
		(void)str_copy(buf, sizeof(buf), "unknown error");
	else
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return str_err(err, errlen, "%s: %s", what, buf);
}

/* Run the hash's KDF over the password into out[outlen]. */
static int
derive(const struct pwhash *h, const char *pass, size_t passlen,
    unsigned char *out, size_t outlen, char *err, size_t errlen)
{
	OSSL_PARAM params[8], *p = params;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	char digest[] = "SHA256";
	uint64_t n, maxmem = FTX_SCRYPT_MAXMEM;
	uint32_t r, par;
	int rc = -1;

	/* The parameters point into *h and pass, so they must be const-cast;
	 * OpenSSL only reads them. */
	*p++ = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_PASSWORD, (void *)pass, passlen);
	*p++ = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_SALT, (void *)h->salt, h->saltlen);
	if (h->kind == HASH_SCRYPT) {
		n = 1ULL << h->log2n;
		r = (uint32_t)h->r;
		par = (uint32_t)h->p;
		*p++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
		*p++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
		*p++ =
		    OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &par);
		*p++ = OSSL_PARAM_construct_uint64(
		    OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
		kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	} else {
		n = h->iter;
		*p++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &n);
		*p++ = OSSL_PARAM_construct_utf8_string(
		    OSSL_KDF_PARAM_DIGEST, digest, 0);
		kdf = EVP_KDF_fetch(NULL, "PBKDF2", NULL);
	}
	*p = OSSL_PARAM_construct_end();
	if (kdf == NULL) {
		(void)ossl_err(err, errlen, "password KDF unavailable");
		goto fail;
	}
	if ((ctx = EVP_KDF_CTX_new(kdf)) == NULL) {
		(void)ossl_err(err, errlen, "password KDF");
		goto fail;
	}
	if (EVP_KDF_derive(ctx, out, outlen, params) != 1) {
		(void)ossl_err(err, errlen, "password KDF failed");
		goto fail;
	}
	rc = 0;
fail:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

/* The parameters of new hashes (scrypt, FTX_SCRYPT_*), salt unset. */
static void
new_params(struct pwhash *h)
{
	memset(h, 0, sizeof(*h));
	h->kind = HASH_SCRYPT;
	h->log2n = FTX_SCRYPT_LOG2_N;
	h->r = FTX_SCRYPT_R;
	h->p = FTX_SCRYPT_P;
	h->saltlen = FTX_SALT_BYTES;
	h->keylen = FTX_PWHASH_BYTES;
}

int
users_hash(const char *pass, size_t passlen, char *out, size_t outlen,
    char *err, size_t errlen)
{
	struct pwhash h;
	char salthex[2 * USERS_SALT_MAX + 1], keyhex[2 * USERS_KEY_MAX + 1];
	int rc = -1;

	if (passlen == 0 || passlen > FTX_PASS_MAX)
		return str_err(
		    err, errlen, "a password is 1 to %d bytes", FTX_PASS_MAX);
	new_params(&h);
	/* SECURITY: a random salt per hash, so equal passwords get
	 * different hashes and precomputed tables are useless. */
	if (RAND_bytes(h.salt, (int)h.saltlen) != 1) {
		(void)ossl_err(err, errlen, "no random salt");
		goto fail;
	}
	if (derive(&h, pass, passlen, h.key, h.keylen, err, errlen) == -1)
		goto fail;
	str_hex(salthex, h.salt, h.saltlen);
	str_hex(keyhex, h.key, h.keylen);
	if (str_fmt(out, outlen, "scrypt$%d$%d$%d$%s$%s", FTX_SCRYPT_LOG2_N,
		FTX_SCRYPT_R, FTX_SCRYPT_P, salthex, keyhex) == -1) {
		(void)str_err(err, errlen, "password hash buffer too small");
		goto fail;
	}
	rc = 0;
fail:
	explicit_bzero(&h, sizeof(h));
	explicit_bzero(keyhex, sizeof(keyhex));
	if (rc == -1 && outlen > 0)
		explicit_bzero(out, outlen);
	return rc;
}

int
users_verify(const struct user_rec *rec, const char *pass, size_t passlen,
    char *err, size_t errlen)
{
	struct pwhash h;
	unsigned char key[USERS_KEY_MAX];
	int rc = -1;

	memset(&h, 0, sizeof(h));
	if (rec != NULL) {
		if (hash_parse(rec->hash, &h, err, errlen) == -1)
			return -1;
	} else {
		/* SECURITY: an unknown user costs the same scrypt work as a
		 * known one (with the parameters of new hashes), so timing
		 * does not tell which user names exist. */
		new_params(&h);
	}
	/* A password no hash can match still costs the full work. */
	if (passlen == 0 || passlen > FTX_PASS_MAX) {
		rec = NULL;
		pass = "";
		passlen = 0;
	}
	if (derive(&h, pass, passlen, key, h.keylen, err, errlen) == -1)
		goto done;
	/* SECURITY: constant-time comparison of the derived key. */
	if (rec != NULL && CRYPTO_memcmp(key, h.key, h.keylen) == 0)
		rc = 1;
	else
		rc = 0;
done:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(&h, sizeof(h));
	return rc;
}

/* ---- names and paths ---------------------------------------------------- */

int
users_name_check(const char *name, char *err, size_t errlen)
{
	size_t i;

	/* SECURITY: names become directories under the root, so no '/',
	 * no dots (no "." or ".."), no leading '-' (option confusion), no
	 * upper case (case-insensitive file systems), no ':' (the file's
	 * separator); ASCII only, so no C1 control, malformed UTF-8 or
	 * bidi control reaches a log, a terminal or a directory name. */
	if (name == NULL || name[0] == '\0')
		return str_err(err, errlen, "empty user name");
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= FTX_USER_MAX)
			return str_err(err, errlen,
			    "user name longer than %d bytes", FTX_USER_MAX);
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if ((c == '_' || c == '-') && i > 0)
			continue;
		if (i == 0 && (c == '_' || c == '-'))
			return str_err(
			    err, errlen, "a user name starts with a-z or 0-9");
		return str_err(
		    err, errlen, "a user name has only a-z, 0-9, '_' and '-'");
	}
	return 0;
}

int
users_default_path(
    const char *root, char *out, size_t outlen, char *err, size_t errlen)
{
	char base[FTX_PATH_MAX];
	char *real, *slash, *last;
	size_t n;
	int rc;

	/* SECURITY: the users file must never be inside the served tree,
	 * where a client could download the hashes.  "<root>/.." taken
	 * literally is the parent of where a symlinked root points, which is
	 * what realpath gives us; a root that does not exist yet cannot be a
	 * symlink, so its name is taken as written. */
	real = realpath(root, NULL);
	if (real == NULL && errno != ENOENT)
		return str_err(
		    err, errlen, "root %s: %s", root, strerror(errno));
	rc = str_copy(base, sizeof(base), real != NULL ? real : root);
	free(real);
	if (rc == -1)
		return str_err(err, errlen, "root path too long");
	n = strlen(base);
	while (n > 1 && base[n - 1] == '/')
		base[--n] = '\0';
	slash = strrchr(base, '/');
	last = slash != NULL ? slash + 1 : base;
	if (strcmp(base, "/") == 0 || last[0] == '\0' ||
	    strcmp(last, ".") == 0 || strcmp(last, "..") == 0)
		return str_err(err, errlen,
		    "cannot put the users file next to root %s: use --users",
		    root);
	if (slash == NULL)
		rc = str_fmt(out, outlen, "./%s", USERS_FILE_NAME);
	else if (slash == base)
		rc = str_fmt(out, outlen, "/%s", USERS_FILE_NAME);
	else {
		*slash = '\0';
		rc = str_fmt(out, outlen, "%s/%s", base, USERS_FILE_NAME);
	}
	if (rc == -1)
		return str_err(err, errlen, "users file path too long");
	return 0;
}

/* ---- reading the file --------------------------------------------------- */

/*
 * Open the users file for reading and check it.  SECURITY: a users file
 * decides who may log in, so only a regular file (no symlink, FIFO or
 * device) that nobody but its owner can write, owned by us or by root,
 * is trusted (like sshd's StrictModes).  errno survives for the caller
 * (ENOENT: accounts are off).
 */
static int
open_checked(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd, e;

	fd = open(
	    path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		if (e == ELOOP)
			(void)str_err(err, errlen,
			    "users file %s is a symbolic link; refusing it",
			    path);
		else
			(void)str_err(err, errlen, "users file %s: %s", path,
			    strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, st) == -1) {
		e = errno;
		(void)str_err(
		    err, errlen, "users file %s: %s", path, strerror(e));
		goto fail;
	}
	e = EPERM;
	if (!S_ISREG(st->st_mode)) {
		(void)str_err(err, errlen,
		    "users file %s is not a regular file; refusing it", path);
		goto fail;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		(void)str_err(err, errlen,
		    "users file %s is writable by group or others; refusing "
		    "it (chmod 600 it)",
		    path);
		goto fail;
	}
	if (st->st_uid != geteuid() && st->st_uid != 0) {
		(void)str_err(err, errlen,
		    "users file %s is owned by uid %u, not by us or root; "
		    "refusing it",
		    path, (unsigned)st->st_uid);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	errno = e;
	return -1;
}

/* A line reader over a file descriptor with a fixed buffer, so reading
 * a hostile file is bounded in memory. */
struct lreader {
	int fd;
	size_t pos, len;
	char buf[4096];
};

enum { LR_EOF = 0, LR_LINE = 1, LR_ERR = -1, LR_LONG = -2, LR_NUL = -3 };

/* The next line, without its LF, NUL-terminated in line[FTX_USERS_LINE_MAX]
 * (a line with its LF is at most FTX_USERS_LINE_MAX bytes). */
static int
lr_next(struct lreader *r, char *line)
{
	size_t n = 0;
	ssize_t got;
	char c;

	for (;;) {
		if (r->pos == r->len) {
			got = read(r->fd, r->buf, sizeof(r->buf));
			if (got == -1 && errno == EINTR)
				continue;
			if (got == -1)
				return LR_ERR;
			if (got == 0) {
				line[n] = '\0';
				/* A last line without its LF still counts. */
				return n > 0 ? LR_LINE : LR_EOF;
			}
			r->pos = 0;
			r->len = (size_t)got;
		}
		c = r->buf[r->pos++];
		if (c == '\n') {
			line[n] = '\0';
			return LR_LINE;
		}
		if (c == '\0')
			return LR_NUL;
		if (n == FTX_USERS_LINE_MAX - 1)
			return LR_LONG;
		line[n++] = c;
	}
}

/*
 * Parse one line: 1 for an account (in *rec), 0 for a comment or a blank
 * line, -1 with the reason if malformed.  `line` is modified.
 */
static int
parse_line(char *line, struct user_rec *rec, char *why, size_t whylen)
{
	char *q, *h, *s;

	for (s = line; *s == ' ' || *s == '\t'; s++)
		;
	if (*s == '\0' || *s == '#')
		return 0;
	if ((q = strchr(line, ':')) == NULL || (h = strchr(q + 1, ':')) == NULL)
		return str_err(why, whylen, "expected name:quota:hash");
	*q++ = '\0';
	*h++ = '\0';
	if (users_name_check(line, why, whylen) == -1)
		return -1;
	/* SECURITY: the anonymous area is shared; an account of that name
	 * would own it. */
	if (strcmp(line, FTX_ANON_USER) == 0)
		return str_err(
		    why, whylen, "the name '%s' is reserved", FTX_ANON_USER);
	if (str_to_u64(q, FTX_SIZE_ARG_MAX, &rec->quota) == -1)
		return str_err(why, whylen,
		    "bad quota for user '%s' (decimal bytes, 0 for none)",
		    line);
	if (users_hash_check(h, why, whylen) == -1)
		return -1;
	(void)str_copy(rec->name, sizeof(rec->name), line);
	(void)str_copy(rec->hash, sizeof(rec->hash), h);
	return 1;
}

/* Called for every line of a file: the line (after parse_line modified
 * it, so only `raw` is the original text), its number, and the account
 * or NULL.  0 continues, -1 stops the scan (the callback sets err). */
typedef int scan_fn(void *arg, size_t lineno, const char *raw,
    const struct user_rec *rec, char *err, size_t errlen);

/*
 * Read and check a users file, calling `fn` per line.  Returns 0, or -1
 * (errno ENOENT if the file does not exist).  *st receives the file's
 * status.
 */
static int
scan(const char *path, struct stat *st, scan_fn *fn, void *arg, char *err,
    size_t errlen)
{
	struct lreader r;
	char line[FTX_USERS_LINE_MAX], raw[FTX_USERS_LINE_MAX];
	char why[FTX_ERRLEN];
	struct user_rec rec;
	size_t lineno = 0;
	int rc = -1, k, e = EINVAL;

	memset(&r, 0, sizeof(r));
	if ((r.fd = open_checked(path, st, err, errlen)) == -1)
		return -1;
	for (;;) {
		k = lr_next(&r, line);
		if (k == LR_EOF)
			break;
		lineno++;
		if (k == LR_ERR) {
			e = errno;
			(void)str_err(
			    err, errlen, "%s: %s", path, strerror(errno));
			goto done;
		}
		if (lineno > FTX_USERS_MAX) {
			(void)str_err(err, errlen,
			    "%s: more than %d lines; refusing it", path,
			    FTX_USERS_MAX);
			goto done;
		}
		if (k == LR_LONG) {
			(void)str_err(err, errlen,
			    "%s:%zu: line longer than %d bytes", path, lineno,
			    FTX_USERS_LINE_MAX - 1);
			goto done;
		}
		if (k == LR_NUL) {
			(void)str_err(err, errlen, "%s:%zu: NUL byte in line",
			    path, lineno);
			goto done;
		}
		(void)str_copy(raw, sizeof(raw), line);
		k = parse_line(line, &rec, why, sizeof(why));
		if (k == -1) {
			(void)str_err(
			    err, errlen, "%s:%zu: %s", path, lineno, why);
			goto done;
		}
		if (fn(arg, lineno, raw, k == 1 ? &rec : NULL, err, errlen) ==
		    -1)
			goto done;
	}
	rc = 0;
done:
	close(r.fd);
	explicit_bzero(&r, sizeof(r));
	if (rc == -1)
		errno = e;
	return rc;
}

struct find_arg {
	const char *path;
	const char *name;
	struct user_rec *out;
	size_t line; /* where it was found, 0 = not yet */
};

static int
find_cb(void *arg, size_t lineno, const char *raw, const struct user_rec *rec,
    char *err, size_t errlen)
{
	struct find_arg *a = arg;

	if (rec == NULL || strcmp(rec->name, a->name) != 0)
		return 0;
	/* SECURITY: with two lines for one name, which password counts
	 * would be an accident of the code; refuse instead. */
	if (a->line != 0)
		return str_err(err, errlen,
		    "%s:%zu: duplicate user '%s' (also on line %zu)", a->path,
		    lineno, rec->name, a->line);
	*a->out = *rec;
	a->line = lineno;
	return 0;
}

int
users_find(const char *path, const char *name, struct user_rec *out, char *err,
    size_t errlen)
{
	struct find_arg a = {path, name, out, 0};
	struct stat st;

	if (scan(path, &st, find_cb, &a, err, errlen) == -1)
		return -1;
	return a.line != 0 ? 1 : 0;
}

/* ---- editing ------------------------------------------------------------ */

/* A users file in memory: every line verbatim, and the account name of
 * the account lines, so an edit keeps comments and order. */
struct uline {
	char *text;
	char name[FTX_USER_MAX + 1]; /* "" for comments and blank lines */
	size_t lineno;
};

struct ufile {
	const char *path;
	struct uline *v;
	size_t n, cap;
	int exists;
	struct stat st;
};

static void
ufile_free(struct ufile *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->v[i].text);
	free(f->v);
	f->v = NULL;
	f->n = f->cap = 0;
}

/* Append a line (copied). */
static int
ufile_push(struct ufile *f, const char *text, const char *name, size_t lineno,
    char *err, size_t errlen)
{
	struct uline *nv;
	size_t ncap, bytes;

	if (f->n == f->cap) {
		ncap = f->cap == 0 ? 64 : f->cap * 2;
		if (str_mul_size(ncap, sizeof(*nv), &bytes) == -1 ||
		    (nv = realloc(f->v, bytes)) == NULL)
			return str_err(err, errlen, "out of memory");
		f->v = nv;
		f->cap = ncap;
	}
	if ((f->v[f->n].text = strdup(text)) == NULL)
		return str_err(err, errlen, "out of memory");
	(void)str_copy(f->v[f->n].name, sizeof(f->v[f->n].name), name);
	f->v[f->n].lineno = lineno;
	f->n++;
	return 0;
}

static int
load_cb(void *arg, size_t lineno, const char *raw, const struct user_rec *rec,
    char *err, size_t errlen)
{
	struct ufile *f = arg;

	return ufile_push(
	    f, raw, rec != NULL ? rec->name : "", lineno, err, errlen);
}

static int
cmp_uline_name(const void *a, const void *b)
{
	const struct uline *x = *(const struct uline *const *)a;
	const struct uline *y = *(const struct uline *const *)b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->lineno < y->lineno ? -1 : x->lineno > y->lineno;
}

/* Refuse a file with two lines for one account (sorted, so 10,000
 * accounts cost no quadratic time). */
static int
check_duplicates(const struct ufile *f, char *err, size_t errlen)
{
	const struct uline **idx;
	size_t i, k = 0;
	int rc = 0;

	if (f->n == 0)
		return 0;
	if ((idx = calloc(f->n, sizeof(const struct uline *))) == NULL)
		return str_err(err, errlen, "out of memory");
	for (i = 0; i < f->n; i++)
		if (f->v[i].name[0] != '\0')
			idx[k++] = &f->v[i];
	qsort(idx, k, sizeof(const struct uline *), cmp_uline_name);
	for (i = 1; i < k; i++) {
		if (strcmp(idx[i - 1]->name, idx[i]->name) == 0) {
			rc = str_err(err, errlen,
			    "%s:%zu: duplicate user '%s' (also on line %zu)",
			    f->path, idx[i]->lineno, idx[i]->name,
			    idx[i - 1]->lineno);
			break;
		}
	}
	free(idx);
	return rc;
}

/* Load the whole file; with `missing_ok` a file that does not exist is
 * an empty one (f->exists 0). */
static int
ufile_load(
    const char *path, struct ufile *f, int missing_ok, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	f->path = path;
	if (scan(path, &f->st, load_cb, f, err, errlen) == -1) {
		ufile_free(f);
		if (missing_ok && errno == ENOENT)
			return 0;
		return -1;
	}
	f->exists = 1;
	if (check_duplicates(f, err, errlen) == -1) {
		ufile_free(f);
		return -1;
	}
	return 0;
}

/* The index of `name`'s line, or -1. */
static long
ufile_index(const struct ufile *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->v[i].name[0] != '\0' && strcmp(f->v[i].name, name) == 0)
			return (long)i;
	return -1;
}

/*
 * Replace the file with f's lines through afile (a temporary next to
 * it, fsync, rename over the file, fsync the directory): 0600, and the
 * old file's group and owner when root edits it.  SECURITY: a crash at
 * any point leaves the old file or the new one, never a half-written
 * one.
 */
static int
ufile_write(const struct ufile *f, char *err, size_t errlen)
{
	char base[NAME_MAX + 1], why[FTX_ERRLEN];
	struct afile a;
	struct stat nst;
	mode_t mode;
	size_t i;
	int dfd, rc = -1;

	if ((dfd = afile_parent(
		 f->path, base, sizeof(base), why, sizeof(why))) == -1)
		return str_err(err, errlen, "users file %s: %s", f->path, why);
	/* 0600, or 0640 if the old file was group-readable: a users file
	 * of root:ftx mode 0640 is how root keeps it editable while the
	 * unprivileged server (ftxd --user ftx) can read it. */
	mode = S_IRUSR | S_IWUSR;
	if (f->exists)
		mode |= f->st.st_mode & S_IRGRP;
	if (afile_open(&a, dfd, base, mode, AFILE_EXACT_MODE, why,
		sizeof(why)) == -1) {
		(void)str_err(err, errlen, "users file %s: %s", f->path, why);
		goto out;
	}
	if (fstat(a.fd, &nst) == -1) {
		(void)str_err(err, errlen, "%s: %s", f->path, strerror(errno));
		goto drop;
	}
	if (f->exists && geteuid() == 0 &&
	    (nst.st_uid != f->st.st_uid || nst.st_gid != f->st.st_gid) &&
	    fchown(a.fd, f->st.st_uid, f->st.st_gid) == -1) {
		(void)str_err(err, errlen, "%s: cannot keep the owner: %s",
		    f->path, strerror(errno));
		goto drop;
	}
	for (i = 0; i < f->n; i++) {
		if (afile_write(&a, f->v[i].text, strlen(f->v[i].text), why,
			sizeof(why)) == -1 ||
		    afile_write(&a, "\n", 1, why, sizeof(why)) == -1) {
			(void)str_err(err, errlen, "%s: %s", f->path, why);
			goto drop;
		}
	}
	if (afile_commit(&a, why, sizeof(why)) == -1)
		(void)str_err(err, errlen, "users file %s: %s", f->path, why);
	else
		rc = 0;
	goto out;
drop:
	afile_abort(&a);
out:
	(void)close(dfd);
	return rc;
}

/* Take the edit lock "<path>.lock" (created 0600 if missing); the fd,
 * or -1.  Closing the fd releases it. */
static int
lock_users(const char *path, char *err, size_t errlen)
{
	char lk[FTX_PATH_MAX + 8];
	struct stat st;
	int fd;

	if (str_fmt(lk, sizeof(lk), "%s.lock", path) == -1)
		return str_err(err, errlen, "users file path too long");
	/* SECURITY: O_NOFOLLOW, so a planted symlink cannot make us create
	 * or lock some other file. */
	fd = open(lk, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
	    S_IRUSR | S_IWUSR);
	if (fd == -1)
		return str_err(err, errlen, "cannot open lock file %s: %s", lk,
		    strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return str_err(
		    err, errlen, "lock file %s is not a regular file", lk);
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			(void)str_err(err, errlen, "cannot lock %s: %s", lk,
			    strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

enum edit_op { EDIT_ADD, EDIT_DEL, EDIT_HASH, EDIT_QUOTA };

/* Format an account line. */
static char *
format_line(const char *name, uint64_t quota, const char *hash, char *err,
    size_t errlen)
{
	char line[FTX_USERS_LINE_MAX];
	char *s;

	if (str_fmt(line, sizeof(line), "%s:%llu:%s", name,
		(unsigned long long)quota, hash) == -1) {
		(void)str_err(err, errlen, "account line too long");
		return NULL;
	}
	if ((s = strdup(line)) == NULL)
		(void)str_err(err, errlen, "out of memory");
	return s;
}

/* One locked read-modify-write of the users file. */
static int
edit(const char *path, enum edit_op op, const char *name, uint64_t quota,
    const char *hash, char *err, size_t errlen)
{
	struct ufile f;
	struct user_rec rec;
	char why[FTX_ERRLEN], *nl = NULL;
	long i;
	int lfd, rc = -1;

	if (users_name_check(name, why, sizeof(why)) == -1)
		return str_err(err, errlen, "%s", why);
	if (strcmp(name, FTX_ANON_USER) == 0)
		return str_err(err, errlen,
		    "the name '%s' is reserved for --anonymous", FTX_ANON_USER);
	if (hash != NULL && users_hash_check(hash, err, errlen) == -1)
		return -1;
	if (quota > FTX_SIZE_ARG_MAX)
		return str_err(err, errlen, "quota above %llu bytes",
		    (unsigned long long)FTX_SIZE_ARG_MAX);
	if ((lfd = lock_users(path, err, errlen)) == -1)
		return -1;
	if (ufile_load(path, &f, 1, err, errlen) == -1)
		goto unlock;
	i = ufile_index(&f, name);
	if (op == EDIT_ADD && i >= 0) {
		(void)str_err(
		    err, errlen, "user '%s' already exists in %s", name, path);
		goto fail;
	}
	if (op != EDIT_ADD && i < 0) {
		(void)str_err(err, errlen, "no user '%s' in %s%s", name, path,
		    f.exists ? "" : " (the file does not exist)");
		goto fail;
	}
	switch (op) {
	case EDIT_ADD:
		if (f.n >= FTX_USERS_MAX) {
			(void)str_err(err, errlen, "%s is full (%d lines)",
			    path, FTX_USERS_MAX);
			goto fail;
		}
		if ((nl = format_line(name, quota, hash, err, errlen)) ==
			NULL ||
		    ufile_push(&f, nl, name, 0, err, errlen) == -1)
			goto fail;
		break;
	case EDIT_DEL:
		free(f.v[i].text);
		memmove(&f.v[i], &f.v[i + 1],
		    (f.n - (size_t)i - 1) * sizeof(f.v[0]));
		f.n--;
		break;
	case EDIT_HASH:
	case EDIT_QUOTA:
		/* The line passed parse_line when loaded, so this cannot
		 * fail; check anyway. */
		if (parse_line(f.v[i].text, &rec, why, sizeof(why)) != 1) {
			(void)str_err(err, errlen, "%s: %s", path, why);
			goto fail;
		}
		if (op == EDIT_HASH)
			(void)str_copy(rec.hash, sizeof(rec.hash), hash);
		else
			rec.quota = quota;
		if ((nl = format_line(
			 rec.name, rec.quota, rec.hash, err, errlen)) == NULL)
			goto fail;
		free(f.v[i].text);
		f.v[i].text = nl;
		nl = NULL;
		break;
	}
	if (ufile_write(&f, err, errlen) == -1)
		goto fail;
	rc = 0;
fail:
	ufile_free(&f);
unlock:
	free(nl);
	close(lfd);
	return rc;
}

int
users_add(const char *path, const char *name, uint64_t quota, const char *hash,
    char *err, size_t errlen)
{
	if (hash == NULL)
		return str_err(err, errlen, "no password hash");
	return edit(path, EDIT_ADD, name, quota, hash, err, errlen);
}

int
users_del(const char *path, const char *name, char *err, size_t errlen)
{
	return edit(path, EDIT_DEL, name, 0, NULL, err, errlen);
}

int
users_set_hash(const char *path, const char *name, const char *hash, char *err,
    size_t errlen)
{
	if (hash == NULL)
		return str_err(err, errlen, "no password hash");
	return edit(path, EDIT_HASH, name, 0, hash, err, errlen);
}

int
users_set_quota(const char *path, const char *name, uint64_t quota, char *err,
    size_t errlen)
{
	return edit(path, EDIT_QUOTA, name, quota, NULL, err, errlen);
}

int
users_list(
    const char *path, users_each_fn *fn, void *arg, char *err, size_t errlen)
{
	struct ufile f;
	struct user_rec rec;
	char line[FTX_USERS_LINE_MAX], why[FTX_ERRLEN];
	size_t i;
	int n = 0, rc = -1;

	/* A missing file is an error here (unlike for users_add): listing
	 * nothing would hide a mistyped path. */
	if (ufile_load(path, &f, 0, err, errlen) == -1)
		return -1;
	for (i = 0; i < f.n; i++) {
		if (f.v[i].name[0] == '\0')
			continue;
		/* Loaded lines passed parse_line already. */
		if (str_copy(line, sizeof(line), f.v[i].text) == -1 ||
		    parse_line(line, &rec, why, sizeof(why)) != 1) {
			(void)str_err(err, errlen, "%s:%zu: %s", path,
			    f.v[i].lineno, why);
			goto done;
		}
		if (fn != NULL && fn(arg, &rec) == -1)
			goto done;
		n++;
	}
	rc = n;
done:
	ufile_free(&f);
	return rc;
}

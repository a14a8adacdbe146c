/*
 * rpl.h - parse and validate the server's reply lines (client side).
 *
 * SECURITY: the client never trusts the server.  Every field of every
 * reply is checked here before it is used: numbers with str_to_u64 and a
 * bound, tokens and digests as exact-length lowercase hex, ports in
 * 1..65535, and names with proto_name_check (a name from the server ends
 * up on the terminal and may end up in a path).  These functions are pure
 * (no I/O), so tests/unit/test_client.c exercises them with hostile lines.
 *
 * `line` is one reply line without its LF (a trailing CR is ignored).
 * Each parser returns 0, or -1 with a reason in `err`.
 */
#ifndef FTX_RPL_H
#define FTX_RPL_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "ftx_limits.h"

#define RPL_CODE_MAX 16
#define RPL_MD5_HEXLEN (HASH_MD5_LEN * 2)

/* "ERROR <CODE> <reason>" */
struct rpl_error {
	char code[RPL_CODE_MAX]; /* "NOTFOUND"; "?" if the server sent none */
	char text[FTX_LINE_MAX]; /* the reason, possibly empty */
};

/* "OK <data-port> <token> [host=<host>]" in answer to UPLOAD */
struct rpl_upload {
	int port;
	char token[FTX_TOKEN_HEX + 1];
	char host[FTX_HOST_MAX + 1]; /* the advertised data host, or "" */
};

/* "OK <size> <data-port> <token> <sha256> [host=<host>]" in answer to
 * DOWNLOAD */
struct rpl_download {
	uint64_t size;
	int port;
	char token[FTX_TOKEN_HEX + 1];
	char sha256[HASH_SHA256_HEXLEN + 1];
	char host[FTX_HOST_MAX + 1]; /* the advertised data host, or "" */
};

#define RPL_STAT_KEY_MAX 32

/* "OK key=value ..." in answer to STATS: names and unsigned numbers */
struct rpl_stats {
	struct {
		char key[RPL_STAT_KEY_MAX + 1];
		uint64_t val;
	} v[FTX_STATS_MAX_FIELDS];
	size_t n;
};

/* "FILE <size> <mtime> <sha256-or-"-"> <name>" inside a LIST reply */
struct rpl_file {
	uint64_t size;
	int64_t mtime;
	int has_sha;
	char sha256[HASH_SHA256_HEXLEN + 1]; /* "" when the server sent "-" */
	char name[FTX_NAME_MAX + 1];
};

/* "ENTRY <type> <size> <mtime> <sha256-or-"-"> <path>" inside an LS
 * reply, and "OK <type> ..." with the same fields in answer to STAT */
struct rpl_entry {
	char type; /* 'f' (file) or 'd' (directory) */
	uint64_t size;
	int64_t mtime;
	int has_sha;
	char sha256[HASH_SHA256_HEXLEN + 1]; /* "" when the server sent "-" */
	char path[FTX_RPATH_MAX + 1]; /* decoded, passed path_check */
};

/* "OK <size> <sha256> <md5-or-"-"> <name>" in answer to HASH */
struct rpl_hash {
	uint64_t size;
	char sha256[HASH_SHA256_HEXLEN + 1];
	int has_md5;
	char md5[RPL_MD5_HEXLEN + 1]; /* "" when the server sent "-" */
	char name[FTX_RPATH_MAX + 1]; /* a path (folders) */
};

/* The greeting must be "OK FTX/1 ...". */
int rpl_greeting(const char *line, char *err, size_t errlen);

/* Capability words a greeting may end with (docs/PROTOCOL.md). */
#define RPL_CAP_TLS 0x1 /* "tls": STARTTLS is offered */
#define RPL_CAP_TLS_REQUIRED 0x2 /* "tls-required" */
#define RPL_CAP_LOGIN 0x4 /* "login": accounts are on */
#define RPL_CAP_ANONYMOUS 0x8 /* "anonymous": LOGIN anonymous works */
#define RPL_CAP_FOLDERS 0x10 /* "folders": paths, MKDIR, LS... (ftxd 0.3) */
#define RPL_CAP_STREAM 0x20 /* "stream": UPLOAD <path> * (ftxd 0.4) */
/* The capabilities a greeting announces, as RPL_CAP_* bits; words we do
 * not know are ignored.  (Unauthenticated: a hint, never a reason to
 * relax a check.) */
unsigned rpl_greeting_caps(const char *line);

/* "OK <user> logged in [read-only|read-write]" in answer to LOGIN */
struct rpl_login {
	char user[FTX_USER_MAX + 1];
	int read_only;
};
int rpl_login(const char *line, struct rpl_login *l, char *err, size_t errlen);
/* "OK <nick|-> <peer> [<user|->]" in answer to WHOAMI; user is "" when
 * the server sent none or "-". */
struct rpl_whoami {
	char nick[FTX_NICK_MAX + 1];
	char peer[FTX_HOST_MAX + 8];
	char user[FTX_USER_MAX + 1];
};
int rpl_whoami(
    const char *line, struct rpl_whoami *w, char *err, size_t errlen);
/* Split an ERROR line; -1 if `line` is not one. */
int rpl_error(const char *line, struct rpl_error *e);
/* The exit code (enum exitcode) an ERROR code maps to. */
int rpl_error_exit(const char *code);
/* 1 if the server closes the session after this ERROR code. */
int rpl_error_fatal(const char *code);
int rpl_upload(
    const char *line, struct rpl_upload *u, char *err, size_t errlen);
int rpl_download(
    const char *line, struct rpl_download *d, char *err, size_t errlen);
int rpl_file(const char *line, struct rpl_file *f, char *err, size_t errlen);
int rpl_hash(const char *line, struct rpl_hash *h, char *err, size_t errlen);
/* An ENTRY line of an LS reply. */
int rpl_entry(const char *line, struct rpl_entry *e, char *err, size_t errlen);
/* The OK line answering STAT. */
int rpl_stat(const char *line, struct rpl_entry *e, char *err, size_t errlen);
/* "DONE <n>" ending an LS reply. */
int rpl_done_count(const char *line, uint64_t *n, char *err, size_t errlen);
/* STATS: at most FTX_STATS_MAX_FIELDS fields of [a-z0-9_]+=<decimal>. */
int rpl_stats(const char *line, struct rpl_stats *st, char *err, size_t errlen);
/* A STATS field by name; 0 and *val, or -1 if absent. */
int rpl_stats_get(const struct rpl_stats *st, const char *key, uint64_t *val);
/* 1 if `s` is 1..FTX_HOST_MAX bytes of host-name characters
 * ([A-Za-z0-9.:_-]): safe to connect to and to print. */
int rpl_is_host(const char *s);
/* "OK <n>" opening a multi-line reply, n <= max. */
int rpl_count(
    const char *line, uint64_t max, uint64_t *n, char *err, size_t errlen);
/* "DONE <sha256>" ending a transfer. */
int rpl_done_sha(const char *line, char *sha256, char *err, size_t errlen);
/* 1 if `s` is exactly `n` lowercase hex digits. */
int rpl_is_hex(const char *s, size_t n);

#endif /* FTX_RPL_H */

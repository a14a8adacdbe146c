/*
 * s3.h - a small client for S3-compatible object storage (the requests
 * store_s3.c needs, and nothing else), over libcurl.
 *
 * Requests are signed with AWS Signature Version 4 (libcurl's
 * CURLOPT_AWS_SIGV4) with path-style addressing: ENDPOINT/BUCKET/KEY.
 * Every request carries x-amz-content-sha256 with the real SHA-256 of
 * its body, so the store itself refuses a body changed on the way.
 *
 * All functions block on the network: call them from worker threads.
 * They are safe to call from several threads at once on one `struct
 * s3` (connections are shared under a lock).  Each returns 0 on success
 * or -1 with `r` filled: the HTTP status (0 when the store could not be
 * reached at all), the store's error code ("NoSuchKey", ...) and a
 * message fit for a log or a client.  Secrets are never part of one.
 */
#ifndef FTXD_S3_H
#define FTXD_S3_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ftx_limits.h"
#include "hash.h"

struct s3_conf {
	char endpoint[FTX_S3_URL_MAX]; /* http[s]://host[:port], no path */
	char region[64];
	char bucket[64];
	char access[FTX_S3_KEY_MAX];
	char secret[FTX_S3_KEY_MAX];
};

struct s3_res {
	long status; /* HTTP status; 0: no answer */
	char code[64]; /* the store's <Code>, or "" */
	char msg[FTX_ERRLEN];
};

/* What ftxd keeps with an object (x-amz-meta-ftx-*). */
struct s3_meta {
	int has_sha;
	unsigned char sha[HASH_SHA256_LEN];
	long long mtime; /* seconds; -1: none */
	int has_md5; /* tags only */
	unsigned char md5[HASH_MD5_LEN];
};

struct s3_head {
	uint64_t size;
	time_t mtime; /* the store's Last-Modified */
	char etag[FTX_S3_ETAG_MAX];
	int tags; /* x-amz-tagging-count */
	struct s3_meta meta;
};

/* One entry of a listing: an object, or (is_prefix) a common prefix. */
struct s3_item {
	const char *key;
	int is_prefix;
	uint64_t size;
	time_t mtime;
	long long mtime_ms; /* the same, to the millisecond if told */
};

struct s3;

/* The client; `c` is copied (and wiped from the copy at s3_close). */
int s3_open(struct s3 **sp, const struct s3_conf *c, char *err, size_t errlen);
void s3_close(struct s3 *s);

/* A signed request for the bucket: does it exist and take our keys? */
int s3_check(struct s3 *s, struct s3_res *r);
/* HEAD: 0 with `h` filled; r->status 404 when there is no such key. */
int s3_head(struct s3 *s, const char *key, struct s3_head *h, struct s3_res *r);
/* GET `len` bytes at `off` into buf (fewer at the end: *got).  With
 * `etag`, only of that version (else r->status 412). */
int s3_get(struct s3 *s, const char *key, uint64_t off, size_t len,
    const char *etag, void *buf, size_t *got, struct s3_res *r);
/* PUT `n` bytes whose SHA-256 is `sha`, with `meta` (may be NULL). */
int s3_put(struct s3 *s, const char *key, const void *buf, size_t n,
    const unsigned char *sha, const struct s3_meta *meta, struct s3_res *r);
int s3_delete(struct s3 *s, const char *key, struct s3_res *r);
/* Server-side copy (at most 5 GiB); `meta` NULL keeps the source's. */
int s3_copy(struct s3 *s, const char *from, const char *to,
    const struct s3_meta *meta, struct s3_res *r);
/*
 * One page (at most `max` entries) of ListObjectsV2 of `prefix`; with
 * `delim` the keys below the next '/' are folded into common prefixes.
 * `token` continues a listing ("" to start); `next` gets the token of
 * the next page ("" when this was the last).  `cb` returning -1 stops
 * (and fails with r->status 0, "stopped").
 */
int s3_list(struct s3 *s, const char *prefix, int delim, const char *token,
    int max, int (*cb)(void *arg, const struct s3_item *it), void *arg,
    char *next, size_t nextlen, struct s3_res *r);

/* Multipart uploads: begin (the object gets `meta`), add a part copied
 * from another object, complete with the parts' ETags in order, abort. */
int s3_mp_begin(struct s3 *s, const char *key, const struct s3_meta *meta,
    char *uid, size_t uidlen, struct s3_res *r);
int s3_mp_copy(struct s3 *s, const char *key, const char *uid, int partno,
    const char *src, char *etag, size_t etaglen, struct s3_res *r);
/* Add part `partno` of `n` bytes (SHA-256 `sha`, or NULL to compute). */
int s3_mp_put(struct s3 *s, const char *key, const char *uid, int partno,
    const void *buf, size_t n, const unsigned char *sha, char *etag,
    size_t etaglen, struct s3_res *r);
int s3_mp_end(struct s3 *s, const char *key, const char *uid,
    char (*etags)[FTX_S3_ETAG_MAX], int n, char *etag, size_t etaglen,
    struct s3_res *r);
int s3_mp_abort(
    struct s3 *s, const char *key, const char *uid, struct s3_res *r);
/* The multipart uploads under `prefix` begun before `before` (seconds):
 * cb(arg, key, uid).  One page; for sweeping uploads a crash left. */
int s3_mp_stale(struct s3 *s, const char *prefix, time_t before,
    int (*cb)(void *arg, const char *key, const char *uid), void *arg,
    struct s3_res *r);

/*
 * An object's tags ftx-sha256, ftx-md5 and ftx-mtime, bound to the
 * version `etag` they describe (tag ftx-etag): set, replacing any; and
 * read into `m` only if they describe `etag` (the object as opened).
 * Tags can be set on an object without copying it, unlike its metadata,
 * but not conditionally: the binding keeps the hashes of one version
 * from being taken for another's.
 */
int s3_tags_put(struct s3 *s, const char *key, const char *etag,
    const struct s3_meta *m, struct s3_res *r);
int s3_tags_get(struct s3 *s, const char *key, const char *etag,
    struct s3_meta *m, struct s3_res *r);

/* Parse "s3://BUCKET[/PREFIX]" into bucket and prefix (without a
 * leading or trailing '/'); 0, or -1 with err. */
int s3_url_parse(const char *url, char *bucket, size_t blen, char *prefix,
    size_t plen, char *err, size_t errlen);
/* Read ACCESS and SECRET from an AWS-style credentials file
 * (aws_access_key_id = ..., aws_secret_access_key = ...), refused when
 * others may read it, else from AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY.  `path` NULL: the environment only. */
int s3_credentials(
    const char *path, struct s3_conf *c, char *err, size_t errlen);

#endif /* FTXD_S3_H */

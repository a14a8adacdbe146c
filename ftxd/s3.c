/*
 * s3.c - a small S3 client over libcurl.  See s3.h.
 *
 * Each request is one curl easy handle; the handles share one
 * connection cache (a CURLSH under a mutex), so workers reuse the
 * store's keep-alive connections.  libcurl signs with SigV4 but takes
 * the payload hash from our x-amz-content-sha256 header, and signs the
 * URL as given: we encode keys and build sorted query strings ourselves.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "s3.h"
#include "str.h"

/* SHA-256 of nothing: the payload hash of GET, HEAD and DELETE. */
static const char EMPTY_SHA[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct s3 {
	struct s3_conf c;
	char sigv4[128]; /* "aws:amz:REGION:s3" */
	CURLSH *share;
	pthread_mutex_t mu[CURL_LOCK_DATA_LAST];
};

/* One request and what came back. */
struct req {
	const char *method;
	const char *key; /* NULL: the bucket */
	const char *query; /* canonical (sorted, encoded), or NULL */
	struct curl_slist *hdrs;
	const void *body;
	size_t blen, bpos;
	char bsha[HASH_SHA256_LEN * 2 + 1];
	/* GET data goes to out (at most outcap); anything else, and every
	 * error body, to xml. */
	void *out;
	size_t outcap, outlen;
	int overflow;
	CURL *curl; /* the handle, for the status while the body comes */
	struct buf xml;
	struct s3_head h;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void
share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *arg)
{
	struct s3 *s = arg;

	(void)h;
	(void)a;
	pthread_mutex_lock(&s->mu[d]);
}

static void
share_unlock(CURL *h, curl_lock_data d, void *arg)
{
	struct s3 *s = arg;

	(void)h;
	pthread_mutex_unlock(&s->mu[d]);
}

int
s3_open(struct s3 **sp, const struct s3_conf *c, char *err, size_t errlen)
{
	struct s3 *s;
	int i;

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return str_err(err, errlen, "s3: libcurl: %s",
		    curl_easy_strerror(global_rc));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return str_err(err, errlen, "s3: out of memory");
	s->c = *c;
	if (str_fmt(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", c->region) ==
	    -1)
		goto fail;
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&s->mu[i], NULL);
	if ((s->share = curl_share_init()) == NULL)
		goto fail;
	curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(s->share, CURLSHOPT_USERDATA, s);
	curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	*sp = s;
	return 0;
fail:
	explicit_bzero(s, sizeof(*s));
	free(s);
	return str_err(err, errlen, "s3: cannot set up the client");
}

void
s3_close(struct s3 *s)
{
	int i;

	if (s == NULL)
		return;
	curl_share_cleanup(s->share);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&s->mu[i]);
	explicit_bzero(&s->c, sizeof(s->c));
	free(s);
}

/* S3's URI encoding: everything but A-Z a-z 0-9 - _ . ~ (and '/' in a
 * key's path) as %XX. */
static int
uri_enc(struct buf *b, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char ch;

	for (; *s != '\0'; s++) {
		ch = (unsigned char)*s;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~' || (keep_slash && ch == '/')) {
			if (buf_append(b, s, 1) == -1)
				return -1;
		} else if (buf_printf(
			       b, "%%%c%c", hex[ch >> 4], hex[ch & 15]) == -1)
			return -1;
	}
	return 0;
}

/* The text of the first <tag>...</tag> in [p, end), entities decoded;
 * returns a pointer past it, or NULL if there is none (or it does not
 * fit `out`). */
static const char *
xml_get(
    const char *p, const char *end, const char *tag, char *out, size_t outlen)
{
	char open[64], close[64];
	const char *a, *z;
	size_t o = 0;

	if (str_fmt(open, sizeof(open), "<%s>", tag) == -1 ||
	    str_fmt(close, sizeof(close), "</%s>", tag) == -1)
		return NULL;
	if ((a = memmem(p, (size_t)(end - p), open, strlen(open))) == NULL)
		return NULL;
	a += strlen(open);
	if ((z = memmem(a, (size_t)(end - a), close, strlen(close))) == NULL)
		return NULL;
	while (a < z) {
		char ch = *a++;
		if (ch == '&') {
			static const struct {
				const char *e;
				char c;
			} ents[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'},
			    {"quot;", '"'}, {"apos;", '\''}};
			size_t i;
			for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
				size_t n = strlen(ents[i].e);
				if ((size_t)(z - a) >= n &&
				    memcmp(a, ents[i].e, n) == 0) {
					ch = ents[i].c;
					a += n;
					break;
				}
			}
			/* SECURITY: a numeric reference (or any other)
			 * is not decoded: the name it makes fails the
			 * name rules and is left out. */
		}
		if (o + 1 >= outlen)
			return NULL;
		out[o++] = ch;
	}
	out[o] = '\0';
	return z + strlen(close);
}

static int res_fail(struct s3_res *r, long status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
res_fail(struct s3_res *r, long status, const char *fmt, ...)
{
	va_list ap;

	r->status = status;
	va_start(ap, fmt);
	if (str_vfmt(r->msg, sizeof(r->msg), fmt, ap) == -1)
		r->msg[0] = '\0';
	va_end(ap);
	return -1;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct req *q = arg;
	size_t len = size * n;
	long status = 0;

	/* An error's body is the store's XML, wherever data was to go. */
	curl_easy_getinfo(q->curl, CURLINFO_RESPONSE_CODE, &status);
	if (q->out != NULL && status >= 200 && status <= 299) {
		if (len > q->outcap - q->outlen) {
			/* A store that sends more than the range asked. */
			q->overflow = 1;
			return 0;
		}
		memcpy((char *)q->out + q->outlen, p, len);
		q->outlen += len;
		return len;
	}
	/* SECURITY: what a store says is kept up to FTX_S3_XML_MAX. */
	if (buf_append(&q->xml, p, len) == -1)
		return 0;
	return len;
}

static size_t
on_send(char *p, size_t size, size_t n, void *arg)
{
	struct req *q = arg;
	size_t want = size * n, left = q->blen - q->bpos;

	if (want > left)
		want = left;
	memcpy(p, (const char *)q->body + q->bpos, want);
	q->bpos += want;
	return want;
}

/* The value of header `name` in the raw header line, or NULL. */
static const char *
hdr_value(
    const char *line, size_t n, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name), o = 0;
	const char *v;

	if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return NULL;
	v = line + nl + 1;
	while (v < line + n && (*v == ' ' || *v == '\t'))
		v++;
	while (v < line + n && *v != '\r' && *v != '\n' && o + 1 < outlen)
		out[o++] = *v++;
	out[o] = '\0';
	return out;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct req *q = arg;
	size_t len = size * n;
	char v[256];
	struct tm tm;
	uint64_t u;

	if (hdr_value(p, len, "ETag", v, sizeof(v)) != NULL)
		(void)str_copy(q->h.etag, sizeof(q->h.etag), v);
	else if (hdr_value(p, len, "Content-Length", v, sizeof(v)) != NULL)
		(void)str_to_u64(v, UINT64_MAX, &q->h.size);
	else if (hdr_value(p, len, "x-amz-tagging-count", v, sizeof(v)) != NULL)
		q->h.tags = str_to_u64(v, 1000, &u) == 0 ? (int)u : 0;
	else if (hdr_value(p, len, "x-amz-meta-ftx-sha256", v, sizeof(v)) !=
	    NULL)
		q->h.meta.has_sha = strlen(v) == 2 * HASH_SHA256_LEN &&
		    str_unhex(q->h.meta.sha, HASH_SHA256_LEN, v) == 0;
	else if (hdr_value(p, len, "x-amz-meta-ftx-mtime", v, sizeof(v)) !=
	    NULL) {
		uint64_t t;
		if (str_to_u64(v, (uint64_t)INT64_MAX, &t) == 0)
			q->h.meta.mtime = (long long)t;
	} else if (hdr_value(p, len, "Last-Modified", v, sizeof(v)) != NULL) {
		memset(&tm, 0, sizeof(tm));
		if (strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm) != NULL)
			q->h.mtime = timegm(&tm);
	}
	return len;
}

static void
meta_headers(struct curl_slist **h, const struct s3_meta *m)
{
	char line[128], hex[HASH_SHA256_LEN * 2 + 1];

	if (m == NULL)
		return;
	if (m->has_sha) {
		str_hex(hex, m->sha, HASH_SHA256_LEN);
		(void)str_fmt(
		    line, sizeof(line), "x-amz-meta-ftx-sha256: %s", hex);
		*h = curl_slist_append(*h, line);
	}
	if (m->mtime >= 0) {
		(void)str_fmt(
		    line, sizeof(line), "x-amz-meta-ftx-mtime: %lld", m->mtime);
		*h = curl_slist_append(*h, line);
	}
}

/* The store's <Code> and <Message> into r, for a failed request. */
static int
fail_from_body(struct s3_res *r, struct req *q, long status)
{
	const char *x = buf_head(&q->xml), *end = x + q->xml.len;
	char msg[FTX_ERRLEN];

	r->code[0] = '\0';
	msg[0] = '\0';
	if (q->xml.len > 0) {
		(void)xml_get(x, end, "Code", r->code, sizeof(r->code));
		(void)xml_get(x, end, "Message", msg, sizeof(msg));
	}
	if (status == 404 && r->code[0] == '\0')
		(void)str_copy(r->code, sizeof(r->code), "NoSuchKey");
	if (status == 403)
		return res_fail(r, status,
		    "the store refused our credentials (403 %s)%s%s",
		    r->code[0] ? r->code : "Forbidden", msg[0] ? ": " : "",
		    msg);
	return res_fail(r, status, "%s %s: %ld %s%s%s", q->method,
	    q->key != NULL ? "object" : "bucket", status, r->code,
	    msg[0] ? ": " : "", msg);
}

/* Run `q`: 0 on a 2xx answer, else -1 with r filled. */
static int
perform(struct s3 *s, struct req *q, struct s3_res *r)
{
	char hdr[128], errbuf[CURL_ERROR_SIZE];
	struct buf url;
	CURL *h = NULL;
	CURLcode cc;
	long status = 0;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	buf_init(&url, 4 * FTX_RPATH_MAX + FTX_S3_URL_MAX + 256);
	if (buf_printf(&url, "%s/", s->c.endpoint) == -1 ||
	    uri_enc(&url, s->c.bucket, 0) == -1 ||
	    (q->key != NULL &&
		(buf_append(&url, "/", 1) == -1 ||
		    uri_enc(&url, q->key, 1) == -1)) ||
	    (q->query != NULL && buf_printf(&url, "?%s", q->query) == -1) ||
	    buf_append(&url, "", 1) == -1) {
		res_fail(r, 0, "a key too long for a URL");
		goto out;
	}
	(void)str_fmt(hdr, sizeof(hdr), "x-amz-content-sha256: %s",
	    q->body != NULL ? q->bsha : EMPTY_SHA);
	q->hdrs = curl_slist_append(q->hdrs, hdr);
	if ((h = curl_easy_init()) == NULL || q->hdrs == NULL) {
		res_fail(r, 0, "out of memory");
		goto out;
	}
	errbuf[0] = '\0';
	q->curl = h;
	curl_easy_setopt(h, CURLOPT_URL, buf_head(&url));
	curl_easy_setopt(h, CURLOPT_SHARE, s->share);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	/* SECURITY: only the endpoint's scheme; no redirects. */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, s->c.access);
	curl_easy_setopt(h, CURLOPT_PASSWORD, s->c.secret);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)FTX_S3_CONNECT_S);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)FTX_S3_STALL_S);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, q);
	if (strcmp(q->method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(q->method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_send);
		curl_easy_setopt(h, CURLOPT_READDATA, q);
		curl_easy_setopt(
		    h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->blen);
	} else if (strcmp(q->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS,
		    q->body != NULL ? (const char *)q->body : "");
		curl_easy_setopt(
		    h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->blen);
	} else if (strcmp(q->method, "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, q->hdrs);
	q->h.meta.mtime = -1;
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (q->overflow) {
		res_fail(r, 0, "the store sent more than was asked for");
		goto out;
	}
	if (cc != CURLE_OK) {
		res_fail(r, status, "cannot reach the store at %s: %s",
		    s->c.endpoint, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	if (status < 200 || status > 299) {
		fail_from_body(r, q, status);
		goto out;
	}
	r->status = status;
	rc = 0;
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	curl_slist_free_all(q->hdrs);
	q->hdrs = NULL;
	buf_free(&url);
	return rc;
}

static void
req_init(struct req *q, const char *method, const char *key)
{
	memset(q, 0, sizeof(*q));
	q->method = method;
	q->key = key;
	buf_init(&q->xml, FTX_S3_XML_MAX);
}

static int
set_body(struct req *q, const void *body, size_t n, const unsigned char *sha)
{
	unsigned char d[HASH_SHA256_LEN];
	struct hash_ctx *hc;

	q->body = body;
	q->blen = n;
	if (sha == NULL) {
		if ((hc = hash_new(HASH_SHA256, NULL, 0)) == NULL)
			return -1;
		if (hash_update(hc, body, n) == -1 || hash_final(hc, d) == -1) {
			hash_free(hc);
			return -1;
		}
		hash_free(hc);
		sha = d;
	}
	str_hex(q->bsha, sha, HASH_SHA256_LEN);
	return 0;
}

int
s3_check(struct s3 *s, struct s3_res *r)
{
	struct req q;
	int rc;

	req_init(&q, "GET", NULL);
	q.query = "list-type=2&max-keys=1";
	rc = perform(s, &q, r);
	buf_free(&q.xml);
	return rc;
}

int
s3_head(struct s3 *s, const char *key, struct s3_head *h, struct s3_res *r)
{
	struct req q;
	int rc;

	req_init(&q, "HEAD", key);
	rc = perform(s, &q, r);
	if (rc == 0)
		*h = q.h;
	buf_free(&q.xml);
	return rc;
}

int
s3_get(struct s3 *s, const char *key, uint64_t off, size_t len,
    const char *etag, void *buf, size_t *got, struct s3_res *r)
{
	char line[FTX_S3_ETAG_MAX + 32];
	struct req q;
	int rc;

	*got = 0;
	if (len == 0)
		return 0;
	req_init(&q, "GET", key);
	q.out = buf;
	q.outcap = len;
	(void)str_fmt(line, sizeof(line), "Range: bytes=%llu-%llu",
	    (unsigned long long)off, (unsigned long long)(off + len - 1));
	q.hdrs = curl_slist_append(q.hdrs, line);
	if (etag != NULL && etag[0] != '\0') {
		(void)str_fmt(line, sizeof(line), "If-Match: %s", etag);
		q.hdrs = curl_slist_append(q.hdrs, line);
	}
	rc = perform(s, &q, r);
	*got = q.outlen;
	buf_free(&q.xml);
	/* A range from the end on: no bytes (S3 says 416). */
	if (rc == -1 && r->status == 416) {
		*got = 0;
		return 0;
	}
	return rc;
}

int
s3_put(struct s3 *s, const char *key, const void *buf, size_t n,
    const unsigned char *sha, const struct s3_meta *meta, struct s3_res *r)
{
	struct req q;
	int rc;

	req_init(&q, "PUT", key);
	if (set_body(&q, buf != NULL ? buf : "", n, sha) == -1)
		return res_fail(r, 0, "cannot hash the body");
	meta_headers(&q.hdrs, meta);
	rc = perform(s, &q, r);
	buf_free(&q.xml);
	return rc;
}

int
s3_delete(struct s3 *s, const char *key, struct s3_res *r)
{
	struct req q;
	int rc;

	req_init(&q, "DELETE", key);
	rc = perform(s, &q, r);
	buf_free(&q.xml);
	/* Deleting what is not there is done. */
	if (rc == -1 && r->status == 404)
		rc = 0;
	return rc;
}

/* "x-amz-copy-source: /BUCKET/KEY", encoded. */
static struct curl_slist *
copy_source(struct s3 *s, struct curl_slist *h, const char *src)
{
	struct buf b;

	buf_init(&b, 4 * FTX_RPATH_MAX + 256);
	if (buf_printf(&b, "x-amz-copy-source: /") == -1 ||
	    uri_enc(&b, s->c.bucket, 0) == -1 || buf_append(&b, "/", 1) == -1 ||
	    uri_enc(&b, src, 1) == -1 || buf_append(&b, "", 1) == -1) {
		buf_free(&b);
		return h;
	}
	h = curl_slist_append(h, buf_head(&b));
	buf_free(&b);
	return h;
}

/* A copy answers 200 with an <Error> body when it fails late. */
static int
copy_failed(struct req *q, struct s3_res *r)
{
	const char *x = buf_head(&q->xml);

	if (q->xml.len == 0 || memmem(x, q->xml.len, "<Error>", 7) == NULL)
		return 0;
	return fail_from_body(r, q, 500);
}

int
s3_copy(struct s3 *s, const char *from, const char *to,
    const struct s3_meta *meta, struct s3_res *r)
{
	struct req q;
	int rc;

	req_init(&q, "PUT", to);
	if (set_body(&q, "", 0, NULL) == -1)
		return res_fail(r, 0, "cannot hash the body");
	q.hdrs = copy_source(s, q.hdrs, from);
	if (meta != NULL) {
		q.hdrs = curl_slist_append(
		    q.hdrs, "x-amz-metadata-directive: REPLACE");
		meta_headers(&q.hdrs, meta);
	}
	rc = perform(s, &q, r);
	if (rc == 0 && copy_failed(&q, r) == -1)
		rc = -1;
	buf_free(&q.xml);
	return rc;
}

static int
list_parse(struct req *q, int (*cb)(void *, const struct s3_item *), void *arg,
    char *next, size_t nextlen, struct s3_res *r)
{
	const char *p = buf_head(&q->xml), *end = p + q->xml.len, *a, *z;
	char key[4 * FTX_RPATH_MAX + 64], num[32], trunc[16], date[64];
	struct s3_item it;
	const char *frac;
	struct tm tm;
	int pfx;

	next[0] = '\0';
	if (xml_get(p, end, "IsTruncated", trunc, sizeof(trunc)) != NULL &&
	    strcmp(trunc, "true") == 0 &&
	    xml_get(p, end, "NextContinuationToken", next, nextlen) == NULL)
		return res_fail(r, 0, "a truncated listing without a token");
	for (;;) {
		/* Objects and common prefixes, whichever comes first. */
		const char *c = memmem(p, (size_t)(end - p), "<Contents>", 10);
		const char *cp =
		    memmem(p, (size_t)(end - p), "<CommonPrefixes>", 16);
		if (c == NULL && cp == NULL)
			break;
		pfx = c == NULL || (cp != NULL && cp < c);
		a = pfx ? cp : c;
		z = memmem(a, (size_t)(end - a),
		    pfx ? "</CommonPrefixes>" : "</Contents>", pfx ? 17 : 11);
		if (z == NULL)
			return res_fail(r, 0, "a listing cut short");
		memset(&it, 0, sizeof(it));
		it.is_prefix = pfx;
		if (xml_get(a, z, pfx ? "Prefix" : "Key", key, sizeof(key)) ==
		    NULL)
			goto next;
		it.key = key;
		if (!pfx) {
			if (xml_get(a, z, "Size", num, sizeof(num)) != NULL)
				(void)str_to_u64(num, UINT64_MAX, &it.size);
			memset(&tm, 0, sizeof(tm));
			if (xml_get(a, z, "LastModified", date, sizeof(date)) !=
				NULL &&
			    (frac = strptime(date, "%Y-%m-%dT%H:%M:%S", &tm)) !=
				NULL) {
				it.mtime = timegm(&tm);
				it.mtime_ms = (long long)it.mtime * 1000;
				/* ".431Z": radosgw tells milliseconds. */
				if (frac[0] == '.' && frac[1] >= '0' &&
				    frac[1] <= '9' && frac[2] >= '0' &&
				    frac[2] <= '9' && frac[3] >= '0' &&
				    frac[3] <= '9')
					it.mtime_ms += (frac[1] - '0') * 100 +
					    (frac[2] - '0') * 10 +
					    (frac[3] - '0');
			}
		}
		if (cb(arg, &it) == -1)
			return res_fail(r, 0, "stopped");
	next:
		p = z + 1;
	}
	return 0;
}

int
s3_list(struct s3 *s, const char *prefix, int delim, const char *token, int max,
    int (*cb)(void *arg, const struct s3_item *it), void *arg, char *next,
    size_t nextlen, struct s3_res *r)
{
	struct buf qs;
	struct req q;
	int rc = -1;

	/* Sorted by name, as SigV4's canonical query wants. */
	buf_init(&qs, 8 * FTX_RPATH_MAX + 1024);
	if ((token[0] != '\0' &&
		(buf_printf(&qs, "continuation-token=") == -1 ||
		    uri_enc(&qs, token, 0) == -1 ||
		    buf_append(&qs, "&", 1) == -1)) ||
	    (delim && buf_printf(&qs, "delimiter=%%2F&") == -1) ||
	    buf_printf(&qs, "list-type=2&max-keys=%d&prefix=", max) == -1 ||
	    uri_enc(&qs, prefix, 0) == -1 || buf_append(&qs, "", 1) == -1) {
		buf_free(&qs);
		return res_fail(r, 0, "a listing query too long");
	}
	req_init(&q, "GET", NULL);
	q.query = buf_head(&qs);
	if (perform(s, &q, r) == 0)
		rc = list_parse(&q, cb, arg, next, nextlen, r);
	buf_free(&q.xml);
	buf_free(&qs);
	return rc;
}

int
s3_mp_begin(struct s3 *s, const char *key, const struct s3_meta *meta,
    char *uid, size_t uidlen, struct s3_res *r)
{
	const char *x;
	struct req q;
	int rc;

	req_init(&q, "POST", key);
	q.query = "uploads=";
	if (set_body(&q, "", 0, NULL) == -1)
		return res_fail(r, 0, "cannot hash the body");
	meta_headers(&q.hdrs, meta);
	rc = perform(s, &q, r);
	x = buf_head(&q.xml);
	if (rc == 0 &&
	    xml_get(x, x + q.xml.len, "UploadId", uid, uidlen) == NULL)
		rc = res_fail(r, 0, "no UploadId in the store's answer");
	buf_free(&q.xml);
	return rc;
}

/* "partNumber=N&uploadId=UID" or "uploadId=UID". */
static int
mp_query(struct buf *qs, int partno, const char *uid)
{
	if (partno > 0 && buf_printf(qs, "partNumber=%d&", partno) == -1)
		return -1;
	if (buf_printf(qs, "uploadId=") == -1 || uri_enc(qs, uid, 0) == -1 ||
	    buf_append(qs, "", 1) == -1)
		return -1;
	return 0;
}

int
s3_mp_copy(struct s3 *s, const char *key, const char *uid, int partno,
    const char *src, char *etag, size_t etaglen, struct s3_res *r)
{
	const char *x;
	struct buf qs;
	struct req q;
	int rc = -1;

	buf_init(&qs, 1024);
	req_init(&q, "PUT", key);
	if (mp_query(&qs, partno, uid) == -1 ||
	    set_body(&q, "", 0, NULL) == -1) {
		res_fail(r, 0, "an upload id too long");
		goto out;
	}
	q.query = buf_head(&qs);
	q.hdrs = copy_source(s, q.hdrs, src);
	if (perform(s, &q, r) == -1 || copy_failed(&q, r) == -1)
		goto out;
	x = buf_head(&q.xml);
	if (xml_get(x, x + q.xml.len, "ETag", etag, etaglen) == NULL) {
		res_fail(r, 0, "no ETag for a copied part");
		goto out;
	}
	rc = 0;
out:
	buf_free(&q.xml);
	buf_free(&qs);
	return rc;
}

int
s3_mp_put(struct s3 *s, const char *key, const char *uid, int partno,
    const void *buf, size_t n, const unsigned char *sha, char *etag,
    size_t etaglen, struct s3_res *r)
{
	struct buf qs;
	struct req q;
	int rc = -1;

	buf_init(&qs, 1024);
	req_init(&q, "PUT", key);
	if (mp_query(&qs, partno, uid) == -1 ||
	    set_body(&q, buf, n, sha) == -1) {
		res_fail(r, 0, "an upload id too long");
		goto out;
	}
	q.query = buf_head(&qs);
	if (perform(s, &q, r) == -1)
		goto out;
	if (q.h.etag[0] == '\0' || str_copy(etag, etaglen, q.h.etag) == -1) {
		res_fail(r, 0, "no ETag for a part");
		goto out;
	}
	rc = 0;
out:
	buf_free(&q.xml);
	buf_free(&qs);
	return rc;
}

int
s3_mp_end(struct s3 *s, const char *key, const char *uid,
    char (*etags)[FTX_S3_ETAG_MAX], int n, char *etag, size_t etaglen,
    struct s3_res *r)
{
	struct buf qs, body;
	struct req q;
	int i, rc = -1;

	buf_init(&qs, 1024);
	buf_init(&body, (size_t)n * (FTX_S3_ETAG_MAX + 96) + 128);
	req_init(&q, "POST", key);
	if (mp_query(&qs, 0, uid) == -1 ||
	    buf_printf(&body, "<CompleteMultipartUpload>") == -1)
		goto nomem;
	for (i = 0; i < n; i++)
		if (buf_printf(&body,
			"<Part><PartNumber>%d</PartNumber><ETag>%s</ETag>"
			"</Part>",
			i + 1, etags[i]) == -1)
			goto nomem;
	if (buf_printf(&body, "</CompleteMultipartUpload>") == -1 ||
	    set_body(&q, buf_head(&body), body.len, NULL) == -1)
		goto nomem;
	q.query = buf_head(&qs);
	q.hdrs = curl_slist_append(q.hdrs, "Content-Type: application/xml");
	rc = perform(s, &q, r);
	/* Completion can fail after a 200, in the body. */
	if (rc == 0 && copy_failed(&q, r) == -1)
		rc = -1;
	etag[0] = '\0';
	if (rc == 0 &&
	    xml_get(buf_head(&q.xml), buf_head(&q.xml) + q.xml.len, "ETag",
		etag, etaglen) == NULL)
		rc = res_fail(r, 0, "no ETag for the completed object");
	goto out;
nomem:
	res_fail(r, 0, "out of memory");
out:
	buf_free(&q.xml);
	buf_free(&qs);
	buf_free(&body);
	return rc;
}

int
s3_mp_abort(struct s3 *s, const char *key, const char *uid, struct s3_res *r)
{
	struct buf qs;
	struct req q;
	int rc = -1;

	buf_init(&qs, 1024);
	req_init(&q, "DELETE", key);
	if (mp_query(&qs, 0, uid) == 0) {
		q.query = buf_head(&qs);
		rc = perform(s, &q, r);
		if (rc == -1 && r->status == 404)
			rc = 0;
	} else
		res_fail(r, 0, "an upload id too long");
	buf_free(&q.xml);
	buf_free(&qs);
	return rc;
}

int
s3_mp_stale(struct s3 *s, const char *prefix, time_t before,
    int (*cb)(void *arg, const char *key, const char *uid), void *arg,
    struct s3_res *r)
{
	char key[4 * FTX_RPATH_MAX + 64], uid[512], date[64];
	const char *p, *end, *a, *z;
	struct buf qs;
	struct req q;
	struct tm tm;
	int rc = -1;

	buf_init(&qs, 4 * FTX_RPATH_MAX + 64);
	req_init(&q, "GET", NULL);
	if (buf_printf(&qs, "prefix=") == -1 || uri_enc(&qs, prefix, 0) == -1 ||
	    buf_printf(&qs, "&uploads=") == -1 ||
	    buf_append(&qs, "", 1) == -1) {
		res_fail(r, 0, "a prefix too long");
		goto out;
	}
	q.query = buf_head(&qs);
	if (perform(s, &q, r) == -1)
		goto out;
	p = buf_head(&q.xml);
	end = p + q.xml.len;
	while ((a = memmem(p, (size_t)(end - p), "<Upload>", 8)) != NULL &&
	    (z = memmem(a, (size_t)(end - a), "</Upload>", 9)) != NULL) {
		memset(&tm, 0, sizeof(tm));
		if (xml_get(a, z, "Key", key, sizeof(key)) != NULL &&
		    xml_get(a, z, "UploadId", uid, sizeof(uid)) != NULL &&
		    xml_get(a, z, "Initiated", date, sizeof(date)) != NULL &&
		    strptime(date, "%Y-%m-%dT%H:%M:%S", &tm) != NULL &&
		    timegm(&tm) < before && cb(arg, key, uid) == -1)
			break;
		p = z + 1;
	}
	rc = 0;
out:
	buf_free(&q.xml);
	buf_free(&qs);
	return rc;
}

/* An ETag as a tag value: S3 allows no quotes there. */
static void
etag_bare(char *out, size_t n, const char *etag)
{
	size_t o = 0;

	for (; *etag != '\0' && o + 1 < n; etag++)
		if (*etag != '"')
			out[o++] = *etag;
	out[o] = '\0';
}

int
s3_tags_put(struct s3 *s, const char *key, const char *etag,
    const struct s3_meta *m, struct s3_res *r)
{
	char hex[HASH_SHA256_LEN * 2 + 1], bare[FTX_S3_ETAG_MAX];
	struct buf body;
	struct req q;
	int rc = -1;

	buf_init(&body, 1024);
	req_init(&q, "PUT", key);
	q.query = "tagging=";
	etag_bare(bare, sizeof(bare), etag);
	if (buf_printf(&body,
		"<Tagging><TagSet><Tag><Key>ftx-etag</Key><Value>%s</Value>"
		"</Tag>",
		bare) == -1)
		goto nomem;
	if (m->has_sha) {
		str_hex(hex, m->sha, HASH_SHA256_LEN);
		if (buf_printf(&body,
			"<Tag><Key>ftx-sha256</Key><Value>%s</Value></Tag>",
			hex) == -1)
			goto nomem;
	}
	if (m->has_md5) {
		str_hex(hex, m->md5, HASH_MD5_LEN);
		if (buf_printf(&body,
			"<Tag><Key>ftx-md5</Key><Value>%s</Value></Tag>",
			hex) == -1)
			goto nomem;
	}
	if (m->mtime >= 0 &&
	    buf_printf(&body,
		"<Tag><Key>ftx-mtime</Key><Value>%lld</Value></Tag>",
		m->mtime) == -1)
		goto nomem;
	if (buf_printf(&body, "</TagSet></Tagging>") == -1 ||
	    set_body(&q, buf_head(&body), body.len, NULL) == -1)
		goto nomem;
	q.hdrs = curl_slist_append(q.hdrs, "Content-Type: application/xml");
	rc = perform(s, &q, r);
	goto out;
nomem:
	res_fail(r, 0, "out of memory");
out:
	buf_free(&q.xml);
	buf_free(&body);
	return rc;
}

int
s3_tags_get(struct s3 *s, const char *key, const char *etag, struct s3_meta *m,
    struct s3_res *r)
{
	const char *p, *end, *a, *z;
	char k[64], v[128], bare[FTX_S3_ETAG_MAX];
	struct s3_meta t;
	int bound = 0;
	struct req q;
	uint64_t u;

	req_init(&q, "GET", key);
	q.query = "tagging=";
	if (perform(s, &q, r) == -1) {
		buf_free(&q.xml);
		return -1;
	}
	memset(&t, 0, sizeof(t));
	t.mtime = -1;
	etag_bare(bare, sizeof(bare), etag);
	p = buf_head(&q.xml);
	end = p + q.xml.len;
	while ((a = memmem(p, (size_t)(end - p), "<Tag>", 5)) != NULL &&
	    (z = memmem(a, (size_t)(end - a), "</Tag>", 6)) != NULL) {
		if (xml_get(a, z, "Key", k, sizeof(k)) != NULL &&
		    xml_get(a, z, "Value", v, sizeof(v)) != NULL) {
			if (strcmp(k, "ftx-etag") == 0)
				bound = strcmp(v, bare) == 0;
			else if (strcmp(k, "ftx-sha256") == 0)
				t.has_sha = strlen(v) == 2 * HASH_SHA256_LEN &&
				    str_unhex(t.sha, HASH_SHA256_LEN, v) == 0;
			else if (strcmp(k, "ftx-md5") == 0)
				t.has_md5 = strlen(v) == 2 * HASH_MD5_LEN &&
				    str_unhex(t.md5, HASH_MD5_LEN, v) == 0;
			else if (strcmp(k, "ftx-mtime") == 0 &&
			    str_to_u64(v, (uint64_t)INT64_MAX, &u) == 0)
				t.mtime = (long long)u;
		}
		p = z + 6;
	}
	buf_free(&q.xml);
	/* SECURITY: hashes tagged for another version of the object (it
	 * was replaced between a hash and its tagging) are not this one's. */
	if (!bound)
		return 0;
	if (t.has_sha) {
		m->has_sha = 1;
		memcpy(m->sha, t.sha, sizeof(t.sha));
	}
	if (t.has_md5) {
		m->has_md5 = 1;
		memcpy(m->md5, t.md5, sizeof(t.md5));
	}
	if (t.mtime >= 0)
		m->mtime = t.mtime;
	return 0;
}

int
s3_url_parse(const char *url, char *bucket, size_t blen, char *prefix,
    size_t plen, char *err, size_t errlen)
{
	const char *b, *slash;
	size_t n;

	if (strncmp(url, "s3://", 5) != 0)
		return str_err(err, errlen, "not an s3:// URL: %s", url);
	b = url + 5;
	slash = strchr(b, '/');
	n = slash != NULL ? (size_t)(slash - b) : strlen(b);
	/* SECURITY: a bucket name as S3 allows it: 3..63 of [a-z0-9.-]. */
	if (n < 3 || n > 63 || n >= blen ||
	    strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") < n)
		return str_err(err, errlen,
		    "bad bucket name in %s (3 to 63 of a-z 0-9 . -)", url);
	memcpy(bucket, b, n);
	bucket[n] = '\0';
	prefix[0] = '\0';
	if (slash == NULL)
		return 0;
	while (*slash == '/')
		slash++;
	if (str_copy(prefix, plen, slash) == -1)
		return str_err(err, errlen, "prefix too long in %s", url);
	n = strlen(prefix);
	while (n > 0 && prefix[n - 1] == '/')
		prefix[--n] = '\0';
	return 0;
}

/* One "name = value" line of a credentials file. */
static void
cred_line(char *line, struct s3_conf *c)
{
	char *eq = strchr(line, '='), *k = line, *v, *end;

	if (eq == NULL)
		return;
	*eq = '\0';
	v = eq + 1;
	while (*k == ' ' || *k == '\t')
		k++;
	for (end = eq; end > k && (end[-1] == ' ' || end[-1] == '\t');)
		*--end = '\0';
	while (*v == ' ' || *v == '\t')
		v++;
	end = v + strlen(v);
	while (end > v &&
	    (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
		end[-1] == '\r'))
		*--end = '\0';
	if (strcmp(k, "aws_access_key_id") == 0)
		(void)str_copy(c->access, sizeof(c->access), v);
	else if (strcmp(k, "aws_secret_access_key") == 0)
		(void)str_copy(c->secret, sizeof(c->secret), v);
}

int
s3_credentials(const char *path, struct s3_conf *c, char *err, size_t errlen)
{
	const char *a, *sk;
	char line[512];
	struct stat sb;
	FILE *fp;

	c->access[0] = c->secret[0] = '\0';
	if (path == NULL) {
		a = getenv("AWS_ACCESS_KEY_ID");
		sk = getenv("AWS_SECRET_ACCESS_KEY");
		if (a == NULL || sk == NULL || a[0] == '\0' || sk[0] == '\0')
			return str_err(err, errlen,
			    "s3: no credentials: give --s3-credentials FILE "
			    "or set AWS_ACCESS_KEY_ID and "
			    "AWS_SECRET_ACCESS_KEY");
		if (str_copy(c->access, sizeof(c->access), a) == -1 ||
		    str_copy(c->secret, sizeof(c->secret), sk) == -1)
			return str_err(err, errlen, "s3: credentials too long");
		return 0;
	}
	if ((fp = fopen(path, "re")) == NULL)
		return str_err(
		    err, errlen, "s3: %s: %s", path, strerror(errno));
	/* SECURITY: a secret others can read is a secret no more. */
	if (fstat(fileno(fp), &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & 077) != 0) {
		fclose(fp);
		return str_err(err, errlen,
		    "s3: %s: not a regular file of mode 0600 (chmod 600 it)",
		    path);
	}
	while (fgets(line, sizeof(line), fp) != NULL)
		cred_line(line, c);
	explicit_bzero(line, sizeof(line));
	fclose(fp);
	if (c->access[0] == '\0' || c->secret[0] == '\0')
		return str_err(err, errlen,
		    "s3: %s: needs aws_access_key_id and "
		    "aws_secret_access_key",
		    path);
	return 0;
}

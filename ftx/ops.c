/*
 * ops.c - the non-transfer commands: ls, rm, hash, stats.
 */
#include "ops.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esc.h"
#include "exitcode.h"
#include "ftx_limits.h"
#include "json.h"
#include "path.h"
#include "progress.h"
#include "proto.h"
#include "rpl.h"
#include "str.h"

/*
 * Room for one JSON object of ours: a path whose every byte is escaped
 * to six ("\u001f", "\ufffd"), or every STATS field, and the rest.
 */
#define OPS_JSON_MAX                                                           \
	(6 * FTX_RPATH_MAX + 6 * (RPL_STAT_KEY_MAX + 32) * FTX_STATS_MAX_FIELDS)

/* The entries of one LIST reply. */
struct listing {
	struct rpl_file *v;
	size_t n;
};

/* The server's answer made no sense: we cannot know its state. */
static int
protocol_error(struct ctl *c)
{
	ctl_drop(c);
	return EXITCODE_FAIL;
}

/* "OK <n>", n FILE lines, "DONE"; every line checked. */
static int
ls_read(struct ctl *c, struct listing *l, char *why, size_t n)
{
	char line[FTX_LINE_MAX];
	uint64_t count, i;
	int rc;

	rc = ctl_request(c, "LIST", NULL, 0, line, why, n);
	if (rc != EXITCODE_OK)
		return rc;
	/* SECURITY: the count bounds our allocation, so it is capped. */
	if (rpl_count(line, FTX_MAX_LIST_ENTRIES, &count, why, n) == -1)
		return protocol_error(c);
	l->v = calloc(count > 0 ? (size_t)count : 1, sizeof(*l->v));
	if (l->v == NULL) {
		str_err(why, n, "out of memory");
		return protocol_error(c);
	}
	for (i = 0; i < count; i++) {
		if (ctl_read(c, line, FTX_REPLY_TIMEOUT_S, why, n) == -1)
			return EXITCODE_FAIL;
		if (rpl_file(line, &l->v[l->n], why, n) == -1)
			return protocol_error(c);
		l->n++;
	}
	if (ctl_read(c, line, FTX_REPLY_TIMEOUT_S, why, n) == -1)
		return EXITCODE_FAIL;
	if (proto_kind(line) != PROTO_DONE) {
		str_err(why, n, "LIST reply does not end with DONE");
		return protocol_error(c);
	}
	return EXITCODE_OK;
}

/* --- LS, streamed ------------------------------------------------------ */

int
ops_need_folders(const struct ctl *c, char *err, size_t errlen)
{
	if (ctl_has_folders(c))
		return EXITCODE_OK;
	str_err(err, errlen,
	    "server does not support folders (it is older than ftxd 0.3)");
	return EXITCODE_REFUSED;
}

/* 1 if `line`'s first token is `word`. */
static int
first_word(const char *line, const char *word)
{
	size_t n = strlen(word);

	return strncmp(line, word, n) == 0 &&
	    (line[n] == ' ' || line[n] == '\0');
}

/* DONE <n> must count exactly the ENTRY lines we saw. */
static int
ls_done(
    struct ctl *c, const char *line, uint64_t seen, char *err, size_t errlen)
{
	uint64_t n;

	if (rpl_done_count(line, &n, err, errlen) == -1)
		return protocol_error(c);
	if (n != seen) {
		str_err(err, errlen,
		    "LS reply counts %" PRIu64 " entries, sent %" PRIu64, n,
		    seen);
		return protocol_error(c);
	}
	return EXITCODE_OK;
}

int
ops_ls_stream(struct ctl *c, const char *path, int recursive, ops_entry_fn cb,
    void *arg, char *err, size_t errlen)
{
	const char *args[2] = {path, "recursive=1"};
	char line[FTX_LINE_MAX];
	struct rpl_entry e;
	uint64_t seen = 0;
	int rc;

	rc = ctl_request(c, "LS", args, recursive ? 2 : 1, line, err, errlen);
	if (rc != EXITCODE_OK)
		return rc;
	if (strcmp(line, "OK -") != 0) {
		str_err(err, errlen, "LS reply does not start with OK -");
		return protocol_error(c);
	}
	for (;;) {
		if (ctl_read_any(c, line, FTX_REPLY_TIMEOUT_S, err, errlen) ==
		    -1)
			return EXITCODE_FAIL;
		if (first_word(line, "ENTRY")) {
			/* SECURITY: every entry passes rpl_entry's checks
			 * (path_check on the decoded path) before `cb`. */
			if (rpl_entry(line, &e, err, errlen) == -1)
				return protocol_error(c);
			seen++;
			if (cb(arg, &e) == -1) {
				str_err(err, errlen, "listing stopped");
				return protocol_error(c);
			}
			continue;
		}
		switch (proto_kind(line)) {
		case PROTO_DONE:
			return ls_done(c, line, seen, err, errlen);
		case PROTO_ERROR:
			return ctl_refusal(c, line, err, errlen);
		case PROTO_PUSH:
			continue; /* chat: not part of the reply */
		default:
			str_err(err, errlen, "unexpected line in LS reply");
			return protocol_error(c);
		}
	}
}

/* Files copied into the server's root by hand have no hash yet. */
static int
ls_fill_hashes(struct ctl *c, struct listing *l, char *why, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < l->n; i++) {
		if (l->v[i].has_sha)
			continue;
		rc = ops_hash_get(
		    c, l->v[i].name, 0, l->v[i].sha256, NULL, why, n);
		if (rc != EXITCODE_OK)
			return rc;
		l->v[i].has_sha = 1;
	}
	return EXITCODE_OK;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct rpl_file *)a)->name,
	    ((const struct rpl_file *)b)->name);
}

static void
fmt_time(int64_t mtime, char *out, size_t n)
{
	time_t t = (time_t)mtime;
	struct tm tm;

	/* No time known (a folder on object storage): a dash, in the
	 * column's width, rather than 1970. */
	if (mtime == 0) {
		(void)str_copy(out, n, "               -");
		return;
	}
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(out, n, "%Y-%m-%d %H:%M", &tm) == 0)
		(void)str_copy(out, n, "--- bad time ---");
}

/* A LIST line as the entry LS would have sent for it. */
static void
file_entry(const struct rpl_file *f, struct rpl_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->type = 'f';
	e->size = f->size;
	e->mtime = f->mtime;
	e->has_sha = f->has_sha;
	(void)str_copy(e->sha256, sizeof(e->sha256), f->sha256);
	(void)str_copy(e->path, sizeof(e->path), f->name);
}

/* One object on its own line of stdout; 0 or -1. */
static int
print_json(struct buf *b)
{
	int rc = json_print(b);

	buf_reset(b);
	return rc;
}

static int
ls_print_json(const struct listing *l)
{
	struct rpl_entry e;
	struct buf b;
	size_t i;
	int rc = 0;

	buf_init(&b, OPS_JSON_MAX);
	for (i = 0; i < l->n && rc == 0; i++) {
		file_entry(&l->v[i], &e);
		if (ops_entry_json(&b, &e, e.path) == -1 ||
		    print_json(&b) == -1)
			rc = -1;
	}
	buf_free(&b);
	return rc;
}

static int
ls_print(const struct listing *l, int flags)
{
	char num[24], when[32], name[ESC_SIZE(FTX_NAME_MAX)];
	int lng = (flags & OPS_LONG) != 0;
	size_t i, w = 1;

	if (flags & OPS_JSON)
		return ls_print_json(l);
	for (i = 0; (flags & OPS_NAMES) && i < l->n; i++)
		printf("%s\n", ui_safe(name, sizeof(name), l->v[i].name));
	if (flags & OPS_NAMES)
		return fflush(stdout) == EOF ? -1 : 0;
	/* Right-align sizes in a column as wide as the largest one. */
	for (i = 0; i < l->n; i++)
		if (ops_size_text(num, sizeof(num), l->v[i].size,
			flags & OPS_HUMAN) == 0 &&
		    strlen(num) > w)
			w = strlen(num);
	for (i = 0; i < l->n; i++) {
		fmt_time(l->v[i].mtime, when, sizeof(when));
		if (ops_size_text(num, sizeof(num), l->v[i].size,
			flags & OPS_HUMAN) == -1)
			(void)str_copy(num, sizeof(num), "?");
		/* SECURITY: names come from the server: escaped (esc.h). */
		printf("%*s  %s  %s%s%s\n", (int)w, num, when,
		    lng ? l->v[i].sha256 : "", lng ? "  " : "",
		    ui_safe(name, sizeof(name), l->v[i].name));
	}
	return fflush(stdout) == EOF ? -1 : 0;
}

int
ops_ls(struct ctl *c, const struct ui *u, int flags, char *err, size_t errlen)
{
	struct listing l = {NULL, 0};
	char why[FTX_ERRLEN];
	int rc;

	rc = ls_read(c, &l, why, sizeof(why));
	if (rc == EXITCODE_OK && (flags & OPS_LONG))
		rc = ls_fill_hashes(c, &l, why, sizeof(why));
	if (rc != EXITCODE_OK) {
		str_err(err, errlen, "ls: %s", why);
		goto out;
	}
	qsort(l.v, l.n, sizeof(*l.v), by_name);
	if (ls_print(&l, flags) == -1) {
		str_err(err, errlen, "ls: cannot write the listing");
		rc = EXITCODE_FAIL;
	} else if (l.n == 0 && !u->quiet && !(flags & OPS_JSON)) {
		/* On stderr, so `ftx ls | wc -l` still counts 0. */
		fprintf(stderr, "(no files)\n");
	}
out:
	free(l.v);
	return rc;
}

int
ops_rm(struct ctl *c, const struct ui *u, const char *name, char *err,
    size_t errlen)
{
	char line[FTX_LINE_MAX], why[FTX_ERRLEN];
	char safe[ESC_SIZE(FTX_RPATH_MAX)];
	struct rpl_error e;
	int rc;

	rc = ctl_request(c, "DELETE", &name, 1, line, why, sizeof(why));
	if (rc != EXITCODE_OK) {
		/* The ERROR line is still in `line`. */
		if (rpl_error(line, &e) == 0 && strcmp(e.code, "ISDIR") == 0)
			str_err(err, errlen,
			    "rm %s: is a directory (use rm -r)", name);
		else
			str_err(err, errlen, "rm %s: %s", name, why);
		return rc;
	}
	ui_say(u, "deleted %s\n", ui_safe(safe, sizeof(safe), name));
	return EXITCODE_OK;
}

/* HASH, the reply checked to answer for `name` (with an MD5 if asked). */
static int
hash_req(struct ctl *c, const char *name, int md5, struct rpl_hash *h,
    char *err, size_t errlen)
{
	const char *args[2] = {name, "md5"};
	char line[FTX_LINE_MAX];
	int rc;

	rc = ctl_request(c, "HASH", args, md5 ? 2 : 1, line, err, errlen);
	if (rc != EXITCODE_OK)
		return rc;
	if (rpl_hash(line, h, err, errlen) == -1)
		return protocol_error(c);
	/* The reply names its file; it must be the one we asked about. */
	if (strcmp(h->name, name) != 0) {
		str_err(err, errlen, "server answered for another file");
		return protocol_error(c);
	}
	if (md5 && !h->has_md5) {
		str_err(err, errlen, "server sent no MD5");
		return EXITCODE_FAIL;
	}
	return EXITCODE_OK;
}

int
ops_hash_get(struct ctl *c, const char *name, int md5, char *sha256,
    char *md5hex, char *err, size_t errlen)
{
	struct rpl_hash h;
	int rc;

	if ((rc = hash_req(c, name, md5, &h, err, errlen)) != EXITCODE_OK)
		return rc;
	memcpy(sha256, h.sha256, sizeof(h.sha256));
	if (md5hex != NULL)
		memcpy(md5hex, h.md5, sizeof(h.md5));
	return EXITCODE_OK;
}

int
ops_hash_json(struct buf *out, const struct rpl_hash *h, int md5)
{
	size_t start = out->len;

	if (buf_append(out, "{", 1) == -1 ||
	    json_kv_str(out, "path", h->name) == -1 ||
	    json_kv_raw(out, "size", "%" PRIu64, h->size) == -1 ||
	    json_kv_str(out, "sha256", h->sha256) == -1 ||
	    (md5 && h->has_md5 ? json_kv_str(out, "md5", h->md5)
			       : json_kv_raw(out, "md5", "null")) == -1 ||
	    buf_append(out, "}", 1) == -1) {
		out->len = start;
		return -1;
	}
	return 0;
}

/* The text form: two spaces, as sha256sum -c and md5sum -c read. */
static int
hash_print(const struct rpl_hash *h, int flags)
{
	char safe[ESC_SIZE(FTX_RPATH_MAX)];
	struct buf b;
	int rc;

	if (flags & OPS_JSON) {
		buf_init(&b, OPS_JSON_MAX);
		rc = ops_hash_json(&b, h, flags & OPS_MD5) == -1 ||
			print_json(&b) == -1
		    ? -1
		    : 0;
		buf_free(&b);
		return rc;
	}
	/* The name is the one the server confirmed: escaped (esc.h). */
	(void)ui_safe(safe, sizeof(safe), h->name);
	printf("%s  %s\n", h->sha256, safe);
	if (flags & OPS_MD5)
		printf("%s  %s\n", h->md5, safe);
	return fflush(stdout) == EOF ? -1 : 0;
}

int
ops_hash(struct ctl *c, const struct ui *u, const char *name, int flags,
    char *err, size_t errlen)
{
	char why[FTX_ERRLEN];
	struct rpl_hash h;
	int rc;

	(void)u;
	rc = hash_req(c, name, flags & OPS_MD5, &h, why, sizeof(why));
	if (rc != EXITCODE_OK) {
		str_err(err, errlen, "hash %s: %s", name, why);
		return rc;
	}
	if (hash_print(&h, flags) == -1) {
		str_err(err, errlen, "hash %s: cannot write the result", name);
		return EXITCODE_FAIL;
	}
	return EXITCODE_OK;
}

/* --- stats ------------------------------------------------------------- */

/* The fields ops_stats knows how to present; others are shown as sent. */
static const char *const known_stats[] = {"per_user", "uptime", "sessions",
    "sessions_total", "chat", "xfers_running", "xfers_pending", "xfers_ok",
    "xfers_failed", "bytes_in", "bytes_out", "refused", "rejected", "errors"};

static uint64_t
stat_of(const struct rpl_stats *st, const char *key)
{
	uint64_t v = 0;

	(void)rpl_stats_get(st, key, &v);
	return v;
}

static int
is_known_stat(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(known_stats) / sizeof(known_stats[0]); i++)
		if (strcmp(known_stats[i], key) == 0)
			return 1;
	return 0;
}

static void
print_bytes(const char *label, uint64_t v)
{
	char h[32];

	if (progress_bytes(h, sizeof(h), v) == -1)
		(void)str_copy(h, sizeof(h), "?");
	printf("%-14s%s (%" PRIu64 " bytes)\n", label, h, v);
}

/* A server with accounts shows a user only their own account's figures
 * (per_user=1): no server-wide lines then. */
static void
stats_print_scope(const struct rpl_stats *st)
{
	if (stat_of(st, "per_user") == 1) {
		printf("%-14s%s\n", "scope", "your account only");
		printf("%-14s%" PRIu64 " now\n", "sessions",
		    stat_of(st, "sessions"));
		return;
	}
	printf("%-14s%" PRIu64 " now, %" PRIu64 " since start\n", "sessions",
	    stat_of(st, "sessions"), stat_of(st, "sessions_total"));
	printf("%-14s%" PRIu64 "\n", "chat members", stat_of(st, "chat"));
}

static void
stats_print(const struct rpl_stats *st)
{
	uint64_t up = stat_of(st, "uptime");
	int server_wide = stat_of(st, "per_user") != 1;
	size_t i;

	printf("%-14s%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64
	       " (%" PRIu64 " s)\n",
	    "uptime", up / 86400, up / 3600 % 24, up / 60 % 60, up % 60, up);
	stats_print_scope(st);
	printf("%-14s%" PRIu64 " running, %" PRIu64 " waiting, %" PRIu64
	       " done, %" PRIu64 " failed\n",
	    "transfers", stat_of(st, "xfers_running"),
	    stat_of(st, "xfers_pending"), stat_of(st, "xfers_ok"),
	    stat_of(st, "xfers_failed"));
	print_bytes("bytes in", stat_of(st, "bytes_in"));
	print_bytes("bytes out", stat_of(st, "bytes_out"));
	if (server_wide) {
		printf("%-14s%" PRIu64 " connections refused, %" PRIu64
		       " data connections rejected\n",
		    "refusals", stat_of(st, "refused"),
		    stat_of(st, "rejected"));
		printf("%-14s%" PRIu64 "\n", "errors", stat_of(st, "errors"));
	}
	/* Fields from a newer server, as they came. */
	for (i = 0; i < st->n; i++)
		if (!is_known_stat(st->v[i].key))
			printf(
			    "%-14s%" PRIu64 "\n", st->v[i].key, st->v[i].val);
}

int
ops_stats_json(struct buf *out, const struct rpl_stats *st)
{
	size_t start = out->len, i;

	if (buf_append(out, "{", 1) == -1)
		return -1;
	/* Every field, known or not: the keys are [a-z0-9_]+ (rpl_stats)
	 * and the values numbers. */
	for (i = 0; i < st->n; i++)
		if (json_kv_raw(out, st->v[i].key, "%" PRIu64, st->v[i].val) ==
		    -1)
			goto fail;
	if (buf_append(out, "}", 1) == -1)
		goto fail;
	return 0;
fail:
	out->len = start;
	return -1;
}

static int
stats_out(const struct rpl_stats *st, int flags)
{
	struct buf b;
	size_t i;
	int rc;

	if (flags & OPS_JSON) {
		buf_init(&b, OPS_JSON_MAX);
		rc = ops_stats_json(&b, st) == -1 || print_json(&b) == -1 ? -1
									  : 0;
		buf_free(&b);
		return rc;
	}
	/* --raw stays for the scripts written before --json. */
	if (flags & OPS_RAW) {
		for (i = 0; i < st->n; i++)
			printf("%s=%" PRIu64 "\n", st->v[i].key, st->v[i].val);
	} else {
		stats_print(st);
	}
	return fflush(stdout) == EOF ? -1 : 0;
}

int
ops_stats(
    struct ctl *c, const struct ui *u, int flags, char *err, size_t errlen)
{
	char line[FTX_LINE_MAX], why[FTX_ERRLEN];
	struct rpl_stats st;
	int rc;

	(void)u;
	rc = ctl_request(c, "STATS", NULL, 0, line, why, sizeof(why));
	if (rc != EXITCODE_OK) {
		str_err(err, errlen, "stats: %s", why);
		return rc;
	}
	if (rpl_stats(line, &st, why, sizeof(why)) == -1) {
		str_err(err, errlen, "stats: %s", why);
		return protocol_error(c);
	}
	if (stats_out(&st, flags) == -1) {
		str_err(err, errlen, "stats: cannot write the statistics");
		return EXITCODE_FAIL;
	}
	return EXITCODE_OK;
}

/* --- folders ----------------------------------------------------------- */

int
ops_size_text(char *out, size_t n, uint64_t v, int human)
{
	if (human)
		return progress_bytes(out, n, v);
	return str_fmt(out, n, "%" PRIu64, v);
}

int
ops_entry_json(struct buf *out, const struct rpl_entry *e, const char *path)
{
	size_t start = out->len;

	if (buf_append(out, "{", 1) == -1 ||
	    json_kv_str(out, "path", path) == -1 ||
	    json_kv_str(out, "type", e->type == 'd' ? "dir" : "file") == -1 ||
	    json_kv_raw(out, "size", "%" PRIu64, e->size) == -1 ||
	    json_kv_raw(out, "mtime", "%" PRId64, e->mtime) == -1 ||
	    (e->has_sha ? json_kv_str(out, "sha256", e->sha256)
			: json_kv_raw(out, "sha256", "null")) == -1 ||
	    buf_append(out, "}", 1) == -1) {
		out->len = start;
		return -1;
	}
	return 0;
}

static int
entry_print_json(const struct rpl_entry *e, const char *path)
{
	struct buf b;
	int rc;

	buf_init(&b, OPS_JSON_MAX);
	rc = ops_entry_json(&b, e, path) == -1 || print_json(&b) == -1 ? -1 : 0;
	buf_free(&b);
	return rc;
}

/* One entry as `ftx ls` and `ftx stat` print it: size (or "-" for a
 * directory), local modification time, the SHA-256 with OPS_LONG ("-"
 * when the server has not hashed the file yet), and the path, a
 * directory's with a trailing '/' as `ls -F` shows it. */
int
ops_entry_print(const struct rpl_entry *e, const char *path, int flags)
{
	char num[24], when[32], safe[ESC_SIZE(FTX_RPATH_MAX)];
	int lng = (flags & OPS_LONG) != 0;

	if (flags & OPS_JSON)
		return entry_print_json(e, path);
	if (flags & OPS_NAMES)
		return printf("%s%s\n", ui_safe(safe, sizeof(safe), path),
			   e->type == 'd' ? "/" : "") < 0
		    ? -1
		    : 0;
	if (e->type == 'd')
		(void)str_copy(num, sizeof(num), "-");
	else if (ops_size_text(num, sizeof(num), e->size, flags & OPS_HUMAN) ==
	    -1)
		(void)str_copy(num, sizeof(num), "?");
	fmt_time(e->mtime, when, sizeof(when));
	/* SECURITY: paths come from the server: checked (rpl_entry) and
	 * escaped (esc.h) all the same. */
	if (printf("%12s  %s  %s%s%s%s\n", num, when,
		lng ? (e->has_sha ? e->sha256 : "-") : "", lng ? "  " : "",
		ui_safe(safe, sizeof(safe), path),
		e->type == 'd' ? "/" : "") < 0)
		return -1;
	return 0;
}

/* What ops_ls_path's callback needs. */
struct ls_print {
	int flags;
	uint64_t n;
};

static int
ls_print_entry(void *arg, const struct rpl_entry *e)
{
	struct ls_print *lp = arg;

	if (ops_entry_print(e, e->path, lp->flags) == -1)
		return -1;
	lp->n++;
	return 0;
}

int
ops_ls_path(struct ctl *c, const struct ui *u, const char *path, int recursive,
    int flags, char *err, size_t errlen)
{
	struct ls_print lp = {flags, 0};
	char why[FTX_ERRLEN];
	int rc;

	rc = ops_ls_stream(
	    c, path, recursive, ls_print_entry, &lp, why, sizeof(why));
	fflush(stdout);
	if (rc != EXITCODE_OK) {
		str_err(err, errlen, "ls %s: %s", path, why);
		return rc;
	}
	/* On stderr, so `ftx ls | wc -l` still counts 0. */
	if (lp.n == 0 && !u->quiet && !(flags & OPS_JSON))
		fprintf(stderr, "(no files)\n");
	return EXITCODE_OK;
}

/* A one-line request whose OK we only report: "VERB args...". */
static int
simple(struct ctl *c, const char *verb, const char *const *args, int nargs,
    char *err, size_t errlen)
{
	char line[FTX_LINE_MAX];

	return ctl_request(c, verb, args, nargs, line, err, errlen);
}

int
ops_mkdir(struct ctl *c, const struct ui *u, const char *path, int parents,
    char *err, size_t errlen)
{
	const char *args[2] = {path, "parents=1"};
	char why[FTX_ERRLEN], safe[ESC_SIZE(FTX_RPATH_MAX)];
	int rc;

	rc = simple(c, "MKDIR", args, parents ? 2 : 1, why, sizeof(why));
	if (rc != EXITCODE_OK) {
		str_err(err, errlen, "mkdir %s: %s", path, why);
		return rc;
	}
	ui_say(u, "created %s/\n", ui_safe(safe, sizeof(safe), path));
	return EXITCODE_OK;
}

int
ops_rmdir(struct ctl *c, const struct ui *u, const char *path, char *err,
    size_t errlen)
{
	char why[FTX_ERRLEN], safe[ESC_SIZE(FTX_RPATH_MAX)];
	int rc;

	rc = simple(c, "RMDIR", &path, 1, why, sizeof(why));
	if (rc != EXITCODE_OK) {
		str_err(err, errlen, "rmdir %s: %s", path, why);
		return rc;
	}
	ui_say(u, "removed %s/\n", ui_safe(safe, sizeof(safe), path));
	return EXITCODE_OK;
}

int
ops_mv(struct ctl *c, const struct ui *u, const char *from, const char *to,
    int force, char *err, size_t errlen)
{
	const char *args[3] = {from, to, "replace=1"};
	char why[FTX_ERRLEN], a[ESC_SIZE(FTX_RPATH_MAX)];
	char b[ESC_SIZE(FTX_RPATH_MAX)];
	int rc;

	rc = simple(c, "MOVE", args, force ? 3 : 2, why, sizeof(why));
	if (rc != EXITCODE_OK) {
		str_err(err, errlen, "mv %s %s: %s%s", from, to, why,
		    strstr(why, "(EXISTS)") != NULL && !force
			? " (use --force to replace it)"
			: "");
		return rc;
	}
	ui_say(u, "moved %s -> %s\n", ui_safe(a, sizeof(a), from),
	    ui_safe(b, sizeof(b), to));
	return EXITCODE_OK;
}

int
ops_stat_get(struct ctl *c, const char *path, struct rpl_entry *e, char *err,
    size_t errlen)
{
	char line[FTX_LINE_MAX];
	int rc;

	rc = ctl_request(c, "STAT", &path, 1, line, err, errlen);
	if (rc != EXITCODE_OK)
		return rc;
	if (rpl_stat(line, e, err, errlen) == -1)
		return protocol_error(c);
	/* The reply names its path; it must be the one we asked about. */
	if (strcmp(e->path, path) != 0) {
		str_err(err, errlen, "server answered for another path");
		return protocol_error(c);
	}
	return EXITCODE_OK;
}

int
ops_stat(struct ctl *c, const struct ui *u, const char *path, int flags,
    char *err, size_t errlen)
{
	struct rpl_entry e;
	char why[FTX_ERRLEN];
	int rc;

	(void)u;
	rc = ops_stat_get(c, path, &e, why, sizeof(why));
	if (rc != EXITCODE_OK) {
		str_err(err, errlen, "stat %s: %s", path, why);
		return rc;
	}
	if (ops_entry_print(&e, e.path, flags | OPS_LONG) == -1 ||
	    fflush(stdout) == EOF) {
		str_err(err, errlen, "stat %s: cannot write the result", path);
		return EXITCODE_FAIL;
	}
	return EXITCODE_OK;
}

/* --- rm -r ------------------------------------------------------------- */

/* A directory to remove once its files are gone; newest first. */
struct rmdir_node {
	struct rmdir_node *next;
	char path[];
};

/*
 * One round of rm -r: the files of one recursive listing, at most
 * FTX_RMTREE_BATCH (a larger tree is listed again once these are
 * deleted), and, in a round that reaches the end of the listing, every
 * directory.
 */
struct rmtree {
	const char *top;
	char *files[FTX_RMTREE_BATCH];
	size_t nfiles;
	struct rmdir_node *dirs;
	size_t ndirs;
	int full; /* the batch is full: the listing was abandoned */
	char why[FTX_ERRLEN];
};

static void
rmtree_clear(struct rmtree *t)
{
	struct rmdir_node *d, *next;
	size_t i;

	for (i = 0; i < t->nfiles; i++)
		free(t->files[i]);
	t->nfiles = 0;
	for (d = t->dirs; d != NULL; d = next) {
		next = d->next;
		free(d);
	}
	t->dirs = NULL;
	t->ndirs = 0;
	t->full = 0;
}

static int
rmtree_entry(void *arg, const struct rpl_entry *e)
{
	struct rmtree *t = arg;
	char path[FTX_RPATH_MAX + 1];
	struct rmdir_node *d;
	size_t len;

	if (path_join(path, sizeof(path), t->top, e->path, t->why,
		sizeof(t->why)) == -1)
		return -1;
	if (e->type == 'f') {
		if (t->nfiles == FTX_RMTREE_BATCH) {
			t->full = 1;
			return -1;
		}
		if ((t->files[t->nfiles] = strdup(path)) == NULL)
			goto nomem;
		t->nfiles++;
		return 0;
	}
	if (t->ndirs == FTX_RMTREE_DIRS_MAX) {
		str_err(t->why, sizeof(t->why),
		    "more than %d directories in one tree",
		    FTX_RMTREE_DIRS_MAX);
		return -1;
	}
	len = strlen(path) + 1;
	if ((d = malloc(sizeof(*d) + len)) == NULL)
		goto nomem;
	memcpy(d->path, path, len);
	/* Depth first, a directory before what it holds: prepending puts
	 * every directory after its subdirectories. */
	d->next = t->dirs;
	t->dirs = d;
	t->ndirs++;
	return 0;
nomem:
	(void)str_copy(t->why, sizeof(t->why), "out of memory");
	return -1;
}

/* DELETE one file quietly; the exit code, err "PATH: why". */
static int
delete_one(struct ctl *c, const char *path, char *err, size_t errlen)
{
	char why[FTX_ERRLEN];
	int rc;

	rc = simple(c, "DELETE", &path, 1, why, sizeof(why));
	if (rc != EXITCODE_OK)
		str_err(err, errlen, "%s: %s", path, why);
	return rc;
}

/* Delete the round's files, then (at the end) its directories. */
static int
rmtree_apply(
    struct ctl *c, struct rmtree *t, int last, char *err, size_t errlen)
{
	struct rmdir_node *d;
	size_t i;
	int rc;

	for (i = 0; i < t->nfiles; i++)
		if ((rc = delete_one(c, t->files[i], err, errlen)) !=
		    EXITCODE_OK)
			return rc;
	for (d = t->dirs; last && d != NULL; d = d->next) {
		const char *p = d->path;

		if ((rc = simple(c, "RMDIR", &p, 1, err, errlen)) !=
		    EXITCODE_OK)
			return rc;
	}
	return EXITCODE_OK;
}

/* List, delete, and again until a listing ends with no more than a
 * batch of files; then the directories, deepest first, and `top`. */
static int
rmtree_run(
    struct ctl *c, struct rmtree *t, uint64_t *files, char *err, size_t errlen)
{
	const char *top = t->top;
	int rc;

	for (;;) {
		rmtree_clear(t);
		rc = ops_ls_stream(c, top, 1, rmtree_entry, t, err, errlen);
		if (t->why[0] != '\0') {
			(void)str_copy(err, errlen, t->why);
			return EXITCODE_FAIL;
		}
		if (rc != EXITCODE_OK && !t->full)
			return rc;
		/* An abandoned listing took the session with it. */
		if (t->full && (rc = ctl_ensure(c, err, errlen)) != EXITCODE_OK)
			return rc;
		rc = rmtree_apply(c, t, !t->full, err, errlen);
		if (rc != EXITCODE_OK)
			return rc;
		*files += t->nfiles;
		if (!t->full)
			return simple(c, "RMDIR", &top, 1, err, errlen);
	}
}

int
ops_rm_tree(struct ctl *c, const struct ui *u, const char *path, char *err,
    size_t errlen)
{
	char why[FTX_ERRLEN], safe[ESC_SIZE(FTX_RPATH_MAX)];
	struct rpl_entry e;
	struct rmtree *t;
	uint64_t files = 0;
	int rc;

	rc = ops_stat_get(c, path, &e, why, sizeof(why));
	if (rc == EXITCODE_OK && e.type == 'f')
		return ops_rm(c, u, path, err, errlen);
	if (rc != EXITCODE_OK) {
		str_err(err, errlen, "rm %s: %s", path, why);
		return rc;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		str_err(err, errlen, "rm %s: out of memory", path);
		return EXITCODE_FAIL;
	}
	t->top = path;
	rc = rmtree_run(c, t, &files, why, sizeof(why));
	rmtree_clear(t);
	free(t);
	if (rc != EXITCODE_OK) {
		str_err(err, errlen, "rm -r %s: %s", path, why);
		return rc;
	}
	ui_say(u, "deleted %s/ (%" PRIu64 " file%s)\n",
	    ui_safe(safe, sizeof(safe), path), files, files == 1 ? "" : "s");
	return EXITCODE_OK;
}

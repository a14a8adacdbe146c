/*
 * listing.c - LIST reply snapshots.  See listing.h.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "ftx_limits.h"
#include "hash.h"
#include "listing.h"
#include "proto.h"
#include "str.h"

/* Encoded names are at most three times the raw length. */

struct listing {
	int refs; /* loop thread only */
	int accounted; /* counted in `held` (set by listing_publish) */
	int shareable; /* the directory had settled when it was built */
	long long built_ms; /* loop_now_ms() when published */
	/* The directory it lists, as it was: reused only if unchanged. */
	char version[STORE_VERSION_MAX];
	size_t n; /* FILE lines */
	size_t len;
	char *text; /* the FILE lines, each ending in LF */
};

/* Recent shareable listings, by store; loop thread only. */
static struct {
	const struct store *st;
	struct listing *l;
} cache[FTX_LIST_CACHE];
static size_t held; /* bytes of accounted listings */

static int
same_dir(const struct listing *l, const struct store_stat *sb)
{
	return strcmp(l->version, sb->version) == 0;
}

static int
settled(const struct store_stat *sb)
{
	struct timespec now;
	long long now_ms;

	clock_gettime(CLOCK_REALTIME, &now);
	now_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	return now_ms - sb->changed_ms >= FTX_LIST_SETTLE_MS;
}

struct build {
	struct buf text;
	size_t n;
};

static int
add_line(void *arg, const struct store_entry *e)
{
	char enc[PROTO_ENC_NAME_MAX], hex[HASH_SHA256_HEXLEN + 1];
	struct build *b = arg;

	proto_encode_name(enc, e->name);
	if (e->has_sha)
		str_hex(hex, e->sha, HASH_SHA256_LEN);
	else
		str_copy(hex, sizeof(hex), "-");
	if (buf_printf(&b->text, "FILE %" PRIu64 " %lld %s %s\n", e->size,
		(long long)e->mtime, hex, enc) == -1)
		return -1;
	b->n++;
	return 0;
}

static struct listing *
build(const struct store *st, const struct store_stat *before, char *err,
    size_t errlen)
{
	struct build b = {{0}, 0};
	struct store_stat after;
	struct store_err e;
	struct listing *l;
	char *p;

	buf_init(&b.text, FTX_LIST_TEXT_MAX);
	if (store_list(st, FTX_MAX_LIST_ENTRIES, add_line, &b, &e) == -1) {
		str_err(err, errlen, "%s", e.msg);
		goto fail;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		str_err(err, errlen, "out of memory");
		goto fail;
	}
	l->refs = 1;
	l->n = b.n;
	l->len = b.text.len;
	/* Keep exactly the bytes: the buffer grew by doubling. */
	l->text = b.text.data;
	if (l->len > 0 && (p = realloc(l->text, l->len)) != NULL)
		l->text = p;
	(void)str_copy(l->version, sizeof(l->version), before->version);
	/* Shared only if nothing changed while we read and the
	 * directory's time stamps can tell any later change apart. */
	l->shareable = settled(before) &&
	    store_root_stat(st, &after, &e) == 0 && same_dir(l, &after);
	return l;
fail:
	buf_free(&b.text);
	return NULL;
}

struct listing *
listing_get(
    const struct store *st, struct listing *cand, char *err, size_t errlen)
{
	struct store_stat sb;
	struct store_err e;

	if (store_root_stat(st, &sb, &e) == -1) {
		str_err(err, errlen, "%s", e.msg);
		return NULL;
	}
	if (cand != NULL && same_dir(cand, &sb))
		return cand;
	return build(st, &sb, err, errlen);
}

struct listing *
listing_cached(const struct store *st, long long now_ms)
{
	size_t i;

	for (i = 0; i < FTX_LIST_CACHE; i++) {
		if (cache[i].l == NULL || cache[i].st != st ||
		    now_ms - cache[i].l->built_ms >= FTX_LIST_SHARE_MS)
			continue;
		cache[i].l->refs++;
		return cache[i].l;
	}
	return NULL;
}

void
listing_publish(const struct store *st, struct listing *l, long long now_ms)
{
	size_t i, slot = 0;

	if (l->accounted)
		return; /* a cached listing reused */
	l->accounted = 1;
	l->built_ms = now_ms;
	held += l->len;
	if (!l->shareable)
		return;
	/* The store's slot, else a free one, else the oldest. */
	for (i = 0; i < FTX_LIST_CACHE; i++) {
		if (cache[i].l != NULL && cache[i].st == st) {
			slot = i;
			break;
		}
		if (cache[i].l == NULL ||
		    (cache[slot].l != NULL &&
			cache[i].l->built_ms < cache[slot].l->built_ms))
			slot = i;
	}
	if (cache[slot].l != NULL)
		listing_unref(cache[slot].l);
	cache[slot].st = st;
	cache[slot].l = l;
	l->refs++;
}

struct listing *
listing_ref(struct listing *l)
{
	l->refs++;
	return l;
}

void
listing_unref(struct listing *l)
{
	if (l == NULL || --l->refs > 0)
		return;
	if (l->accounted)
		held -= l->len;
	free(l->text);
	free(l);
}

void
listing_tick(long long now_ms)
{
	size_t i;

	for (i = 0; i < FTX_LIST_CACHE; i++) {
		if (cache[i].l != NULL &&
		    now_ms - cache[i].l->built_ms >= FTX_LIST_SHARE_MS) {
			listing_unref(cache[i].l);
			cache[i].l = NULL;
			cache[i].st = NULL;
		}
	}
}

size_t
listing_count(const struct listing *l)
{
	return l->n;
}

size_t
listing_len(const struct listing *l)
{
	return l->len;
}

const char *
listing_text(const struct listing *l)
{
	return l->text;
}

size_t
listing_piece(const struct listing *l, size_t off, size_t max)
{
	const char *end, *lf;
	size_t left;

	if (off >= l->len)
		return 0;
	left = l->len - off;
	if (left <= max)
		return left;
	/* The last LF within max; a line longer than max goes whole. */
	end = l->text + off;
	lf = memrchr(end, '\n', max);
	if (lf == NULL)
		lf = memchr(end + max, '\n', left - max);
	return (size_t)(lf - end) + 1;
}

size_t
listing_frees(const struct listing *l)
{
	return l != NULL && l->refs == 1 && l->accounted ? l->len : 0;
}

size_t
listing_bytes(void)
{
	return held;
}

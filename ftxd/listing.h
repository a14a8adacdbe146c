/*
 * listing.h - LIST replies: a snapshot of the directory's FILE lines,
 * built on a worker, sent in pieces as the client reads, and shared by
 * the sessions that list the same unchanged directory at about the same
 * time.
 *
 * Why a snapshot: the reply starts with the number of FILE lines that
 * follow ("OK <n>", docs/PROTOCOL.md), so the set of names is fixed
 * before the first line is sent; a file deleted while a client reads
 * still has to be listed, with the size it had.  What is bounded per
 * session is the queued output (FTX_LIST_LOWAT plus one piece); the
 * snapshots themselves count against FTX_OUTPUT_BUDGET, and sharing
 * makes the many LISTs of one directory cost one snapshot.
 *
 * Reference counts are changed on the loop thread only.  A worker reads
 * a candidate's immutable key and may build a new listing (refs 1);
 * the loop then adopts it (listing_publish) before anything else sees it.
 */
#ifndef FTXD_LISTING_H
#define FTXD_LISTING_H

#include <stddef.h>

#include "store.h"

struct listing;

/* Worker: `cand` (may be NULL) if the directory is unchanged since it
 * was built, else a new snapshot; NULL (err set) on failure. */
struct listing *listing_get(
    const struct store *st, struct listing *cand, char *err, size_t errlen);

/* Loop: a reference to a recent shareable listing of `st`, or NULL. */
struct listing *listing_cached(const struct store *st, long long now_ms);
/* Loop: account for a listing a worker returned, and cache it for
 * other sessions when it may be shared. */
void listing_publish(
    const struct store *st, struct listing *l, long long now_ms);
struct listing *listing_ref(struct listing *l);
void listing_unref(struct listing *l); /* NULL is fine */
/* Loop: drop cache entries too old to share. */
void listing_tick(long long now_ms);

/* FILE lines in the listing, and their bytes. */
size_t listing_count(const struct listing *l);
size_t listing_len(const struct listing *l);
const char *listing_text(const struct listing *l);
/* Bytes from `off` that make whole lines, at most `max` (at least one
 * line); 0 at the end. */
size_t listing_piece(const struct listing *l, size_t off, size_t max);
/* The bytes this listing frees when `l`'s holder lets it go: all of
 * them if it is the only holder, else 0. */
size_t listing_frees(const struct listing *l);
/* Bytes held by all listings (what FTX_OUTPUT_BUDGET counts). */
size_t listing_bytes(void);

#endif /* FTXD_LISTING_H */

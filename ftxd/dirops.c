/*
 * dirops.c - the folder commands: MKDIR, RMDIR, MOVE, STAT and LS.
 * See dirops.h and docs/PROTOCOL.md "Folders".
 *
 * Like the file commands (fileops.c) each checks its paths on the loop
 * and hands an sjob to a worker for the disk.  LS is the one that runs
 * more than once: each run reads at most one piece of the walk
 * (FTX_LS_PIECE_ENTRIES entries or FTX_LIST_PIECE bytes), the loop sends
 * it, and the job goes back to a worker for the next piece only once
 * the session's output has drained below FTX_LIST_LOWAT.  A listing of
 * any size so holds one piece and the walk's O(depth) state.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ctx.h"
#include "dirops.h"
#include "hash.h"
#include "log.h"
#include "path.h"
#include "proto.h"
#include "session.h"
#include "sjob.h"
#include "store.h"
#include "str.h"
#include "worker.h"

/* What NOTFOUND names. */
#define DIRENT "file or directory"

/* What a folder command hands its job. */
struct dop_args {
	const char *path;
	const char *path2; /* MOVE: the target */
	int flag; /* MKDIR parents=1, MOVE replace=1, LS recursive=1 */
};

/*
 * SECURITY: every path from the network passes path_check (the name
 * rules for each component; no "", ".", "..", leading or trailing '/';
 * bounded length and depth).  `top_ok`: "." names the area's top, for
 * commands that take a directory; it becomes "".
 */
static int
check_path(struct session *s, const char *in, int top_ok, const char **out)
{
	char err[FTX_ERRLEN];

	if (top_ok && strcmp(in, ".") == 0) {
		*out = "";
		return 0;
	}
	if (path_check(in, err, sizeof(err)) == -1) {
		sess_reply(s, "ERROR BADNAME %s", err);
		return -1;
	}
	*out = in;
	return 0;
}

/* The optional "key=1" flag at argv[idx]: 0 or 1 in *flag, or -1 with
 * the reply sent. */
static int
check_flag(
    struct session *s, struct proto_cmd *c, int idx, const char *key, int *flag)
{
	uint64_t v = 0;

	*flag = 0;
	if (c->argc <= idx)
		return 0;
	if (proto_param_u64(c->argv[idx], key, 1, &v) != 1) {
		sess_reply(s, "ERROR SYNTAX bad parameter (%s=0 or 1)", key);
		return -1;
	}
	*flag = (int)v;
	return 0;
}

static void
submit(struct session *s, const struct dop_args *a, void (*work)(struct sjob *),
    void (*finish)(struct sjob *))
{
	struct sjob *j;

	if ((j = sjob_new(s, work, finish, FTX_JOB_REPLY_MAX)) == NULL)
		goto fail;
	j->flag = a->flag;
	/* Checked against FTX_RPATH_MAX, so they fit. */
	if (str_copy(j->name, sizeof(j->name), a->path) == -1 ||
	    (a->path2 != NULL &&
		str_copy(j->name2, sizeof(j->name2), a->path2) == -1))
		abort();
	if (worker_submit(&j->job) == -1) {
		sjob_free(j);
		goto fail;
	}
	s->busy = j;
	return;
fail:
	sess_reply(s, "ERROR INTERNAL out of resources");
}

/* --- MKDIR, RMDIR, MOVE, STAT ------------------------------------------ */

static void
mkdir_work(struct sjob *j)
{
	char enc[PROTO_ENC_NAME_MAX];
	struct store_err e;

	if (store_mkdir(j->st, j->name, j->flag, &e) == -1) {
		sjob_reply_store(j, j->name, DIRENT, &e);
		return;
	}
	log_msg(NULL, "mkdir path=%s", log_esc(enc, sizeof(enc), j->name));
	proto_encode_name(enc, j->name);
	sjob_reply(j, "OK created %s\n", enc);
}

void
dop_mkdir(struct session *s, struct proto_cmd *c)
{
	struct dop_args a = {NULL, NULL, 0};

	if (check_path(s, c->argv[0], 0, &a.path) == -1 ||
	    check_flag(s, c, 1, "parents", &a.flag) == -1)
		return;
	submit(s, &a, mkdir_work, NULL);
}

static void
rmdir_work(struct sjob *j)
{
	char enc[PROTO_ENC_NAME_MAX];
	struct store_err e;

	if (store_rmdir(j->st, j->name, &e) == -1) {
		sjob_reply_store(j, j->name, DIRENT, &e);
		return;
	}
	log_msg(NULL, "rmdir path=%s", log_esc(enc, sizeof(enc), j->name));
	proto_encode_name(enc, j->name);
	sjob_reply(j, "OK removed %s\n", enc);
}

void
dop_rmdir(struct session *s, struct proto_cmd *c)
{
	struct dop_args a = {NULL, NULL, 0};

	if (check_path(s, c->argv[0], 0, &a.path) == -1)
		return;
	submit(s, &a, rmdir_work, NULL);
}

static void
move_work(struct sjob *j)
{
	char enc[PROTO_ENC_NAME_MAX], enc2[PROTO_ENC_NAME_MAX];
	char parent[FTX_RPATH_MAX + 1];
	struct store_entry en;
	struct store_err e, e2;

	if (store_rename(j->st, j->name, j->name2, j->flag, &e) == -1) {
		/* NOTFOUND: name the source if it is missing, else the
		 * target's parent. */
		if (e.code == STORE_NOTFOUND &&
		    store_lookup(j->st, j->name, &en, &e2) == 0 &&
		    path_parent(parent, sizeof(parent), j->name2) == 0)
			sjob_reply_store(j, parent, DIRENT, &e);
		else
			sjob_reply_store(j, j->name, DIRENT, &e);
		return;
	}
	log_msg(NULL, "move from=%s to=%s", log_esc(enc, sizeof(enc), j->name),
	    log_esc(enc2, sizeof(enc2), j->name2));
	proto_encode_name(enc, j->name);
	proto_encode_name(enc2, j->name2);
	sjob_reply(j, "OK moved %s %s\n", enc, enc2);
}

void
dop_move(struct session *s, struct proto_cmd *c)
{
	struct dop_args a = {NULL, NULL, 0};

	if (check_path(s, c->argv[0], 0, &a.path) == -1 ||
	    check_path(s, c->argv[1], 0, &a.path2) == -1 ||
	    check_flag(s, c, 2, "replace", &a.flag) == -1)
		return;
	submit(s, &a, move_work, NULL);
}

/* "<type> <size> <mtime> <sha-or-"-"> <encoded path>", no LF. */
static int
entry_text(struct buf *b, const struct store_entry *en, const char *path)
{
	char enc[PROTO_ENC_NAME_MAX], hex[HASH_SHA256_HEXLEN + 1];

	if (en->has_sha)
		str_hex(hex, en->sha, HASH_SHA256_LEN);
	else
		(void)str_copy(hex, sizeof(hex), "-");
	proto_encode_name(enc, path);
	return buf_printf(b, "%c %" PRIu64 " %lld %s %s",
	    en->is_dir ? 'd' : 'f', en->is_dir ? 0 : en->size,
	    (long long)en->mtime, hex, enc);
}

static void
stat_work(struct sjob *j)
{
	struct store_entry en;
	struct store_err e;

	if (store_lookup(j->st, j->name, &en, &e) == -1) {
		sjob_reply_store(j, j->name, DIRENT, &e);
		return;
	}
	if (buf_printf(&j->reply, "OK ") == -1 ||
	    entry_text(&j->reply, &en, j->name[0] != '\0' ? j->name : ".") ==
		-1 ||
	    buf_printf(&j->reply, "\n") == -1) {
		buf_reset(&j->reply);
		sjob_reply(j, "ERROR INTERNAL out of memory\n");
	}
}

void
dop_stat(struct session *s, struct proto_cmd *c)
{
	struct dop_args a = {NULL, NULL, 0};

	if (check_path(s, c->argv[0], 1, &a.path) == -1)
		return;
	submit(s, &a, stat_work, NULL);
}

/* --- LS ------------------------------------------------------------------ */

/* One piece of the walk into j->reply: "OK -" first, then ENTRY lines,
 * and at the end "DONE <n>" (or an ERROR line) with j->flag cleared. */
static void
ls_work(struct sjob *j)
{
	struct store_entry en;
	struct store_err e;
	size_t n;
	int rc;

	if (j->walk == NULL) {
		if (store_walk_open(
			j->st, j->name, j->recursive, &j->walk, &e) == -1) {
			sjob_reply_store(j, j->name, DIRENT, &e);
			j->more = 0;
			return;
		}
		sjob_reply(j, "OK -\n");
	}
	for (n = 0; n < FTX_LS_PIECE_ENTRIES && j->reply.len < FTX_LIST_PIECE;
	     n++) {
		if ((rc = store_walk_next(j->walk, &en, &e)) == 1) {
			if (buf_printf(&j->reply, "ENTRY ") == -1 ||
			    entry_text(&j->reply, &en, en.name) == -1 ||
			    buf_printf(&j->reply, "\n") == -1)
				abort(); /* FTX_LIST_PIECE + a line fits */
			j->count++;
			continue;
		}
		if (rc == 0)
			sjob_reply(j, "DONE %" PRIu64 "\n", j->count);
		else
			sjob_reply(j, "ERROR %s %s\n", store_code_proto(e.code),
			    e.msg);
		store_walk_close(j->walk);
		j->walk = NULL;
		j->more = 0;
		return;
	}
}

static void
ls_finish(struct sjob *j)
{
	struct session *s = j->sess;

	sess_reply_raw(s, buf_head(&j->reply), j->reply.len);
	if (!j->more || s->closing)
		return;
	/* More to come: the next piece at once if the output is short,
	 * else park the job (on no worker) until it drains (dop_pump).
	 * Not through dop_pump: on failure the job is sjob_done's to
	 * free, and the listing ends with an error line. */
	buf_reset(&j->reply);
	if (s->out.len >= FTX_LIST_LOWAT)
		j->parked = 1;
	else if (worker_submit(&j->job) == -1) {
		sess_close_after(s, "ERROR INTERNAL out of resources");
		return;
	}
	s->busy = j;
}

void
dop_pump(struct session *s)
{
	struct sjob *j = s->busy;

	if (j == NULL || !j->parked || s->closing ||
	    s->out.len >= FTX_LIST_LOWAT)
		return;
	j->parked = 0;
	buf_reset(&j->reply);
	if (worker_submit(&j->job) == -1) {
		s->busy = NULL;
		sjob_free(j);
		sess_close_after(s, "ERROR INTERNAL out of resources");
	}
}

void
dop_ls(struct session *s, struct proto_cmd *c)
{
	struct dop_args a = {NULL, NULL, 0};
	struct sjob *j;

	if (check_path(s, c->argv[0], 1, &a.path) == -1 ||
	    check_flag(s, c, 1, "recursive", &a.flag) == -1)
		return;
	if ((j = sjob_new(s, ls_work, ls_finish, FTX_JOB_REPLY_MAX)) == NULL) {
		sess_reply(s, "ERROR INTERNAL out of resources");
		return;
	}
	(void)str_copy(j->name, sizeof(j->name), a.path);
	j->recursive = a.flag;
	j->more = 1;
	if (worker_submit(&j->job) == -1) {
		sjob_free(j);
		sess_reply(s, "ERROR INTERNAL out of resources");
		return;
	}
	s->busy = j;
}

/*
 * sjob.c - control commands' jobs.  See sjob.h.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "buf.h"
#include "ctx.h"
#include "listing.h"
#include "proto.h"
#include "session.h"
#include "sjob.h"
#include "store.h"
#include "worker.h"

static void
sjob_run(struct job *job)
{
	struct sjob *j = (struct sjob *)job;

	j->work(j);
}

void
sjob_free(struct sjob *j)
{
	if (j->ust != NULL)
		j->ust->inflight -= j->reserved; /* refused, or never ran */
	store_read_close(j->file);
	if (j->walk != NULL)
		store_walk_close(j->walk);
	buf_free(&j->reply);
	listing_unref(j->cand);
	listing_unref(j->snap);
	auth_unref(j->srv, j->ust);
	/* A good login whose session left before it finished. */
	if (j->login == 1 && !j->adopted)
		store_close(j->ustore);
	/* SECURITY: a LOGIN job held a password. */
	explicit_bzero(j, sizeof(*j));
	free(j);
}

static void
sjob_done(struct job *job)
{
	struct sjob *j = (struct sjob *)job;
	struct session *s = j->sess;

	/* Its module frees what the job held there (a LOGIN, LIST or hash
	 * slot), whether or not s is alive. */
	if (j->back != NULL)
		j->back(j);
	if (s == NULL) {
		sjob_free(j);
		return;
	}
	s->busy = NULL;
	if (j->finish != NULL) {
		/* finish() may park the job in s->busy again, which
		 * cppcheck cannot see through the function pointer. */
		/* cppcheck-suppress nullPointerRedundantCheck */
		j->finish(j);
		if (s->busy == j)
			return; /* kept: it answers later (a failed LOGIN,
				 * the rest of a LIST) */
	} else {
		sess_reply_raw(s, buf_head(&j->reply), j->reply.len);
	}
	sjob_free(j);
	if (s->srv->stopping && s->xfer == NULL)
		sess_close_after(s, "ERROR SHUTDOWN server stopping");
	else
		sess_resume(s);
}

void
sjob_detach(struct sjob *j)
{
	if (j->streaming || j->parked) {
		sjob_free(j); /* on no worker and in no queue */
		return;
	}
	j->sess = NULL;
}

struct sjob *
sjob_new(struct session *s, void (*work)(struct sjob *),
    void (*finish)(struct sjob *), size_t reply_max)
{
	struct sjob *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->job.run = sjob_run;
	j->job.done = sjob_done;
	j->sess = s;
	j->srv = s->srv;
	j->work = work;
	j->finish = finish;
	j->peer = s->peer;
	j->st = auth_store(s);
	j->ust = auth_ref(s->ust);
	buf_init(&j->reply, reply_max);
	return j;
}

void
sjob_q_push(struct sjob_q *q, struct sjob *j)
{
	j->qnext = NULL;
	if (q->tail != NULL)
		q->tail->qnext = j;
	else
		q->head = j;
	q->tail = j;
}

struct sjob *
sjob_q_pop(struct sjob_q *q)
{
	struct sjob *j = q->head;

	if (j != NULL) {
		q->head = j->qnext;
		if (q->head == NULL)
			q->tail = NULL;
		j->qnext = NULL;
	}
	return j;
}

int
sjob_start_queued(struct sjob *j)
{
	if (j->sess == NULL) {
		sjob_free(j);
		return -1;
	}
	if (worker_submit(&j->job) == -1) {
		j->sess->busy = NULL;
		sess_reply(j->sess, "ERROR INTERNAL out of resources");
		sess_resume(j->sess);
		sjob_free(j);
		return -1;
	}
	return 0;
}

void
sjob_reply(struct sjob *j, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(&j->reply, fmt, ap);
	va_end(ap);
	if (rc == -1) {
		buf_reset(&j->reply);
		(void)buf_printf(&j->reply, "ERROR INTERNAL out of memory\n");
	}
}

void
sjob_reply_store(struct sjob *j, const char *path, const char *what,
    const struct store_err *e)
{
	char enc[PROTO_ENC_NAME_MAX];

	proto_encode_name(enc, path[0] != '\0' ? path : ".");
	if (e->code == STORE_NOTFOUND)
		sjob_reply(j, "ERROR NOTFOUND no such %s: %s\n", what, enc);
	else
		sjob_reply(j, "ERROR %s %s: %s\n", store_code_proto(e->code),
		    enc, e->msg);
}

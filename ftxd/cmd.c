/*
 * cmd.c - control commands.  See cmd.h and docs/PROTOCOL.md.
 *
 * Every line goes through cmd_dispatch(): split, look the verb up in
 * cmd_table, check the argument count and authorisation, then call the
 * handler.  Handlers that touch the disk hand an `sjob` to a worker and
 * mark the session busy, so replies always come back in command order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "buf.h"
#include "chat.h"
#include "cmd.h"
#include "counters.h"
#include "ctx.h"
#include "hash.h"
#include "listing.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "proto.h"
#include "room.h"
#include "session.h"
#include "store.h"
#include "str.h"
#include "tls.h"
#include "worker.h"
#include "xfer.h"

/* Encoded names are at most three times the raw length. */
#define ENC_NAME_MAX (FTX_NAME_MAX * 3 + 1)

/* A command waiting for a worker. */
struct sjob {
	struct job job; /* must be first */
	struct session *sess; /* NULL once the session has gone */
	struct ctx *srv;
	const struct store *st; /* the session's storage */
	struct ustore *ust; /* a reference that keeps `st` open */
	void (*work)(struct sjob *j); /* on a worker */
	void (*finish)(struct sjob *j); /* on the loop, session alive */
	char name[FTX_NAME_MAX + 1];
	int md5;
	uint64_t size, offset; /* UPLOAD, PARTIAL, DOWNLOAD offset= */
	char pkey[STORE_PKEY_LEN]; /* the session's partial upload */
	uint64_t kept; /* bytes that partial holds */
	struct buf reply; /* built by work(), sent by default */
	/* DOWNLOAD preparation and HASH. */
	struct store_file *file;
	struct store_stat sb;
	unsigned char sha[HASH_SHA256_LEN];
	unsigned char md5sum[HASH_MD5_LEN]; /* HASH ... md5 */
	struct sockaddr_storage peer; /* the session's, for the hash cap */
	int need_full; /* work() found a needed hash missing from the cache */
	int full; /* may read the whole file: holds a hash slot */
	struct sjob *hnext; /* the list of jobs holding a hash slot */
	/* UPLOAD: quota and free-space checks. */
	uint64_t quota, inflight, min_free;
	uint64_t reserved; /* counted in ust->inflight until released */
	int check_space;
	/* LOGIN: the secrets are wiped when the job is freed. */
	char user[FTX_USER_MAX + 1];
	char pass[FTX_PASS_MAX + 1];
	size_t passlen;
	int anon; /* LOGIN anonymous */
	int login; /* 1 ok, 0 refused, -1 error */
	int refused; /* UPLOAD: work() queued an error reply */
	struct store *ustore; /* opened by the worker for a good login */
	int adopted; /* ustore was handed to auth_attach */
	int checking; /* LOGIN: queued or running, not yet answered */
	long long reply_ms; /* a failed login is answered at this time */
	struct sjob *qnext; /* LOGIN and LIST queues, delayed replies */
	/* LIST: the snapshot offered for reuse, the one to send, how much
	 * of it is queued, and whether it is being sent (kept on the loop
	 * in s->busy, not on a worker). */
	struct listing *cand, *snap;
	size_t sent;
	int streaming;
	struct sjob *followers; /* LISTs that take this job's snapshot */
};

/* What a command hands its job (everything else is zero). */
struct sjob_args {
	const char *name;
	int md5;
	uint64_t size, offset;
	int check_space; /* UPLOAD: quota and --min-free */
};

static void submit(struct session *s, const struct sjob_args *a,
    void (*work)(struct sjob *), void (*finish)(struct sjob *));
static void hash_release(struct sjob *j);
static void login_work(struct sjob *j);
static void login_done(void);
static void list_work(struct sjob *j);
static void list_done(struct sjob *j);

/* What cmd_dispatch logs of a command. */
enum cmd_log {
	LOG_NONE, /* nothing: chatty (ECHO) or logged by its module (chat) */
	LOG_VERB, /* the verb */
	LOG_ARG /* the verb and its first argument */
};

/* What the gate checks for a command (flags). */
enum cmd_gate {
	G_AUTH = 1, /* needs a logged-in session when accounts are on */
	G_PRETLS = 2, /* allowed before TLS under --require-tls */
	G_WRITE = 4 /* changes files: refused to read-only anonymous */
};

struct cmd_def {
	const char *verb;
	int gate; /* enum cmd_gate flags */
	int min_args;
	int max_args;
	int text_at; /* >= 0: argv[text_at] is free text (proto_split_text) */
	enum cmd_log log;
	void (*handler)(struct session *s, struct proto_cmd *c);
	const char *usage;
};

static void cmd_upload(struct session *, struct proto_cmd *);
static void cmd_download(struct session *, struct proto_cmd *);
static void cmd_list(struct session *, struct proto_cmd *);
static void cmd_delete(struct session *, struct proto_cmd *);
static void cmd_hash(struct session *, struct proto_cmd *);
static void cmd_help(struct session *, struct proto_cmd *);
static void cmd_noop(struct session *, struct proto_cmd *);
static void cmd_quit(struct session *, struct proto_cmd *);
static void cmd_partial(struct session *, struct proto_cmd *);
static void cmd_join(struct session *, struct proto_cmd *);
static void cmd_leave(struct session *, struct proto_cmd *);
static void cmd_say(struct session *, struct proto_cmd *);
static void cmd_msg(struct session *, struct proto_cmd *);
static void cmd_who(struct session *, struct proto_cmd *);
static void cmd_whoami(struct session *, struct proto_cmd *);
static void cmd_time(struct session *, struct proto_cmd *);
static void cmd_echo(struct session *, struct proto_cmd *);
static void cmd_stats(struct session *, struct proto_cmd *);
static void cmd_starttls(struct session *, struct proto_cmd *);
static void cmd_login(struct session *, struct proto_cmd *);

/* The single gate: every command is looked up here, its argument count
 * and authorisation checked, before its handler runs. */
static const struct cmd_def cmd_table[] = {
    {"UPLOAD", G_AUTH | G_WRITE, 2, 3, -1, LOG_ARG, cmd_upload,
	"UPLOAD <name> <size> [offset=N]"},
    {"DOWNLOAD", G_AUTH, 1, 2, -1, LOG_ARG, cmd_download,
	"DOWNLOAD <name> [offset=N]"},
    {"LIST", G_AUTH, 0, 0, -1, LOG_VERB, cmd_list, "LIST"},
    {"DELETE", G_AUTH | G_WRITE, 1, 1, -1, LOG_ARG, cmd_delete,
	"DELETE <name>"},
    {"HASH", G_AUTH, 1, 2, -1, LOG_ARG, cmd_hash, "HASH <name> [md5]"},
    {"HELP", 0, 0, 0, -1, LOG_VERB, cmd_help, "HELP"},
    {"NOOP", 0, 0, 0, -1, LOG_NONE, cmd_noop, "NOOP"},
    {"QUIT", G_PRETLS, 0, 0, -1, LOG_VERB, cmd_quit, "QUIT"},
    {"STARTTLS", G_PRETLS, 0, 0, -1, LOG_VERB, cmd_starttls, "STARTTLS"},
    {"LOGIN", 0, 1, 2, -1, LOG_NONE, cmd_login, "LOGIN <user> [password]"},
    {"JOIN", G_AUTH, 0, 1, -1, LOG_NONE, cmd_join, "JOIN [nick]"},
    {"LEAVE", G_AUTH, 0, 0, -1, LOG_NONE, cmd_leave, "LEAVE"},
    {"SAY", G_AUTH, 1, 1, 0, LOG_NONE, cmd_say, "SAY <text>"},
    {"MSG", G_AUTH, 2, 2, 1, LOG_NONE, cmd_msg, "MSG <nick> <text>"},
    {"WHO", G_AUTH, 0, 0, -1, LOG_VERB, cmd_who, "WHO"},
    {"WHOAMI", G_AUTH, 0, 0, -1, LOG_VERB, cmd_whoami, "WHOAMI"},
    {"TIME", G_AUTH, 0, 0, -1, LOG_VERB, cmd_time, "TIME"},
    {"ECHO", G_AUTH, 1, 1, 0, LOG_NONE, cmd_echo, "ECHO <payload>"},
    {"STATS", G_AUTH, 0, 0, -1, LOG_VERB, cmd_stats, "STATS"},
    {"PARTIAL", G_AUTH | G_WRITE, 2, 2, -1, LOG_ARG, cmd_partial,
	"PARTIAL <name> <size>"},
};
#define NCMDS (sizeof(cmd_table) / sizeof(cmd_table[0]))

/*
 * SECURITY: the one gate every command passes, in this order: TLS first
 * under --require-tls (so not even a user name crosses in plaintext),
 * then login when the server has accounts, then write permission.
 * Replies 0 if the command may run, else -1 (refusal sent).
 */
static int
gate(struct session *s, const struct cmd_def *d)
{
	if (s->srv->cfg.require_tls && s->tls_state != STLS_ON &&
	    !(d->gate & G_PRETLS)) {
		sess_reply(s, "ERROR TLS TLS required: send STARTTLS first");
		return -1;
	}
	if ((d->gate & G_AUTH) && !s->authed) {
		sess_reply(s, "ERROR AUTH login required");
		return -1;
	}
	if ((d->gate & G_WRITE) && s->readonly) {
		sess_reply(s, "ERROR PERM anonymous access is read-only");
		return -1;
	}
	return 0;
}

static void
encode_name(char *out, const char *name)
{
	if (proto_encode(out, ENC_NAME_MAX, name) == -1)
		abort(); /* names are bounded, so this cannot happen */
}

static const struct cmd_def *
lookup(const char *verb)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmd_table[i].verb, verb) == 0)
			return &cmd_table[i];
	return NULL;
}

void
cmd_dispatch(struct session *s, char *line)
{
	struct proto_cmd c;
	char err[FTX_ERRLEN], enc[ENC_NAME_MAX], verb[sizeof(c.verb)];
	const struct cmd_def *d = NULL;
	int rc;

	/* Free-text verbs are split differently, so the verb is looked at
	 * (undecoded) before the line is split. */
	if (proto_peek_verb(line, verb, sizeof(verb)) == 0)
		d = lookup(verb);
	if (d != NULL && d->text_at >= 0)
		rc = proto_split_text(line, &c, d->text_at, err, sizeof(err));
	else
		rc = proto_split(line, &c, err, sizeof(err));
	if (rc == -1) {
		sess_reply(s, "ERROR SYNTAX %s", err);
		return;
	}
	d = lookup(c.verb);
	if (d != NULL && d->text_at >= 0 && strcmp(verb, c.verb) != 0) {
		sess_reply(
		    s, "ERROR SYNTAX %s must not be percent-encoded", d->verb);
		return;
	}
	if (d == NULL) {
		encode_name(enc, c.verb);
		sess_reply(s, "ERROR UNKNOWN unknown command: %s", enc);
		return;
	}
	if (c.argc < d->min_args || c.argc > d->max_args) {
		sess_reply(s, "ERROR SYNTAX usage: %s", d->usage);
		return;
	}
	if (gate(s, d) == -1)
		return;
	/* SECURITY: chat text never reaches the log from here; the room
	 * decides what it logs (bodies only with --log-chat). */
	if (d->log == LOG_ARG && c.argc > 0 &&
	    strlen(c.argv[0]) <= FTX_NAME_MAX) {
		log_msg(s->peerstr, "cmd %s %s", c.verb,
		    log_esc(enc, sizeof(enc), c.argv[0]));
	} else if (d->log != LOG_NONE) {
		log_msg(s->peerstr, "cmd %s", c.verb);
	}
	d->handler(s, &c);
}

/* SECURITY: every name from the network passes this check. */
static int
check_name(struct session *s, const char *name)
{
	char err[FTX_ERRLEN];

	if (proto_name_check(name, err, sizeof(err)) == -1) {
		sess_reply(s, "ERROR BADNAME %s", err);
		return -1;
	}
	return 0;
}

/* The optional offset= parameter (resume); 0 when absent. */
static int
check_offset(struct session *s, struct proto_cmd *c, int idx, uint64_t *off)
{
	int rc;

	*off = 0;
	if (c->argc <= idx)
		return 0;
	rc = proto_param_u64(c->argv[idx], "offset", FTX_MAX_FILE_SIZE, off);
	if (rc != 1) {
		sess_reply(s, "ERROR SYNTAX bad parameter");
		return -1;
	}
	return 0;
}

static int
can_transfer(struct session *s)
{
	char why[FTX_ERRLEN];

	if (s->srv->stopping) {
		sess_reply(s, "ERROR SHUTDOWN server stopping");
		return 0;
	}
	if (s->xfer != NULL) {
		sess_reply(s, "ERROR BUSY a transfer is already in progress");
		return 0;
	}
	/* Early, before any disk work; xfer.c checks again when the
	 * transfer is created. */
	if (xfer_admit(s, why, sizeof(why)) == -1) {
		sess_reply(s, "ERROR BUSY %s", why);
		return 0;
	}
	return 1;
}

/* "<name> <size>" of UPLOAD and PARTIAL; 0 or -1 (replied). */
static int
check_name_size(struct session *s, struct proto_cmd *c, uint64_t *size)
{
	if (check_name(s, c->argv[0]) == -1)
		return -1;
	if (str_to_u64(c->argv[1], UINT64_MAX, size) == -1) {
		sess_reply(s, "ERROR SYNTAX bad size");
		return -1;
	}
	if (*size > FTX_MAX_FILE_SIZE) {
		sess_reply(s, "ERROR TOOBIG size above %llu bytes",
		    (unsigned long long)FTX_MAX_FILE_SIZE);
		return -1;
	}
	return 0;
}

/* --- transfers --------------------------------------------------------- */

/* " host=<public-host>" for OK replies, or "" without --public-host.
 * The value was checked to be host-name characters only, so it needs
 * no percent-encoding. */
static const char *
host_prefix(const struct ctx *srv)
{
	return srv->cfg.public_host[0] != '\0' ? " host=" : "";
}

/* How the session's transfer ended: DONE or ERROR, then the session
 * goes on (or, in a stop, closes once nothing else runs). */
static void
xfer_ended(struct session *s, const struct xfer_result *r)
{
	char hex[HASH_SHA256_HEXLEN + 1];

	if (r->err == FTXE_OK) {
		str_hex(hex, r->sha, HASH_SHA256_LEN);
		sess_reply(s, "DONE %s", hex);
	} else {
		sess_reply(s, "ERROR %s %s", ftxerr_name(r->err), r->text);
	}
	/* Cancelled by the stop itself, which closes the session next
	 * (sess_stop_idle). */
	if (r->err == FTXE_SHUTDOWN)
		return;
	if (s->srv->stopping && s->busy == NULL)
		sess_close_after(s, NULL);
	else
		sess_resume(s);
}

/* Offer an upload: OK <port> <token>, or the ERROR why not. */
static void
start_upload(struct session *s, const char *name, uint64_t size,
    uint64_t offset, uint64_t *reserved)
{
	struct xfer_offer o;

	if (xfer_upload(s, name, size, offset, reserved, xfer_ended, &o) == -1)
		sess_reply(s, "ERROR %s %s", ftxerr_name(o.err), o.why);
	else
		sess_reply(s, "OK %d %s%s%s", o.port, o.token,
		    host_prefix(s->srv), s->srv->cfg.public_host);
	explicit_bzero(o.token, sizeof(o.token));
}

/* Offer a download: OK <size> <port> <token> <sha256>, or the ERROR. */
static void
start_download(struct session *s, const char *name, struct store_file *f,
    uint64_t size, const unsigned char *sha, uint64_t offset)
{
	char shahex[HASH_SHA256_HEXLEN + 1];
	struct xfer_offer o;

	if (xfer_download(s, name, f, size, sha, offset, xfer_ended, &o) ==
	    -1) {
		sess_reply(s, "ERROR %s %s", ftxerr_name(o.err), o.why);
		return;
	}
	str_hex(shahex, sha, HASH_SHA256_LEN);
	sess_reply(s, "OK %" PRIu64 " %d %s %s%s%s", size, o.port, o.token,
	    shahex, host_prefix(s->srv), s->srv->cfg.public_host);
	explicit_bzero(o.token, sizeof(o.token));
}

static void partial_work(struct sjob *j);
static void upload_work(struct sjob *j);
static void upload_finish(struct sjob *j);

static void
cmd_upload(struct session *s, struct proto_cmd *c)
{
	struct sjob_args a = {c->argv[0], 0, 0, 0, 0};
	uint64_t size, off;
	int space = s->quota > 0 || s->srv->cfg.min_free > 0;

	if (check_name_size(s, c, &size) == -1 ||
	    check_offset(s, c, 2, &off) == -1 || !can_transfer(s))
		return;
	if (off > size) {
		sess_reply(s, "ERROR RANGE offset beyond the size");
		return;
	}
	if (off == 0 && !space) {
		start_upload(s, c->argv[0], size, 0, NULL);
		return;
	}
	/* SECURITY: an offset past what we kept would leave a hole of
	 * zeros in the file, and quotas and --min-free are checked before
	 * any byte is accepted; look before offering a token. */
	a.size = size;
	a.offset = off;
	a.check_space = space;
	submit(s, &a, upload_work, upload_finish);
}

static void
cmd_partial(struct session *s, struct proto_cmd *c)
{
	struct sjob_args a = {c->argv[0], 0, 0, 0, 0};

	if (check_name_size(s, c, &a.size) == -1)
		return;
	submit(s, &a, partial_work, NULL);
}

/* --- jobs ------------------------------------------------------------ */

static void
sjob_run(struct job *job)
{
	struct sjob *j = (struct sjob *)job;

	j->work(j);
}

static void
sjob_free(struct sjob *j)
{
	if (j->ust != NULL)
		j->ust->inflight -= j->reserved; /* refused, or never ran */
	store_read_close(j->file);
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

	if (j->work == login_work)
		login_done(); /* frees a slot, whether or not s is alive */
	if (j->full)
		hash_release(j); /* likewise */
	if (j->work == list_work)
		list_done(j);
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

/* The session is going away; its job must not report back to it. */
static void
cmd_detach(struct sjob *j)
{
	if (j->streaming) {
		sjob_free(j); /* on no worker and in no queue */
		return;
	}
	j->sess = NULL;
}

/* A job for the session, with its storage referenced; NULL if memory
 * is short. */
static struct sjob *
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

static void
submit(struct session *s, const struct sjob_args *a,
    void (*work)(struct sjob *), void (*finish)(struct sjob *))
{
	struct sjob *j;

	if ((j = sjob_new(s, work, finish, FTX_JOB_REPLY_MAX)) == NULL)
		goto fail;
	j->md5 = a->md5;
	j->size = a->size;
	j->offset = a->offset;
	if (a->check_space) {
		j->check_space = 1;
		j->quota = s->quota;
		j->min_free = s->srv->cfg.min_free;
		/* SECURITY: the upload's bytes are reserved here, on the loop
		 * thread, before its check runs on a worker: of two uploads
		 * checked at once, the later sees the earlier's reservation,
		 * so parallel uploads cannot all fit the same free quota. */
		if (s->ust != NULL) {
			j->inflight = s->ust->inflight;
			j->reserved = a->size;
			s->ust->inflight += a->size;
		}
	}
	if (a->name != NULL) {
		if (str_copy(j->name, sizeof(j->name), a->name) == -1)
			abort(); /* names were checked against FTX_NAME_MAX */
		xfer_partial_key(s, a->name, a->size, j->pkey);
	}
	if (worker_submit(&j->job) == -1) {
		sjob_free(j);
		goto fail;
	}
	s->busy = j;
	return;
fail:
	sess_reply(s, "ERROR INTERNAL out of resources");
}

/* A FIFO of jobs waiting on the loop thread for a slot (LOGIN, LIST),
 * linked through qnext. */
struct jq {
	struct sjob *head, *tail;
};

static void
jq_push(struct jq *q, struct sjob *j)
{
	j->qnext = NULL;
	if (q->tail != NULL)
		q->tail->qnext = j;
	else
		q->head = j;
	q->tail = j;
}

static struct sjob *
jq_pop(struct jq *q)
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

/* A job taken from a queue goes to a worker: 0, or -1 when it was
 * dropped (its session left while it waited) or could not start (its
 * session is answered and resumed). */
static int
start_queued(struct sjob *j)
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

/* Format a reply into the job; replies are bounded, so failure means
 * memory is short. */
static void jreply(struct sjob *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
jreply(struct sjob *j, const char *fmt, ...)
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

/* The reply for a storage error (store_code_proto: the one table). */
static void
jreply_store(struct sjob *j, const struct store_err *e)
{
	char enc[ENC_NAME_MAX];

	encode_name(enc, j->name);
	if (e->code == STORE_NOTFOUND)
		jreply(j, "ERROR NOTFOUND no such file: %s\n", enc);
	else
		jreply(j, "ERROR %s %s\n", store_code_proto(e->code), e->msg);
}

/*
 * Jobs that read a whole file to hash it (a cache miss) hold one of a
 * few slots per user and per address (FTX_HASH_JOBS_MAX): without them,
 * a client could keep every worker and core busy hashing with a few
 * bytes per request.  The list belongs to the loop thread.
 */
static struct sjob *hashing;

static void
hash_release(struct sjob *j)
{
	struct sjob **pp;

	for (pp = &hashing; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == j) {
			*pp = j->hnext;
			break;
		}
	}
	j->hnext = NULL;
	j->full = 0;
}

/* SECURITY: CPU amplification.  A slot for a full-file hash, if the
 * user (when there are accounts) and the address have one free. */
static int
hash_acquire(struct sjob *j)
{
	int by_user = 0, by_addr = 0;
	struct sjob *k;

	for (k = hashing; k != NULL; k = k->hnext) {
		if (j->ust != NULL && k->ust == j->ust)
			by_user++;
		if (net_same_ip(&k->peer, &j->peer))
			by_addr++;
	}
	if (by_user >= FTX_HASH_JOBS_MAX || by_addr >= FTX_HASH_JOBS_MAX)
		return -1;
	j->full = 1;
	j->hnext = hashing;
	hashing = j;
	return 0;
}

/*
 * On the loop, when work() found a hash missing from the cache: run the
 * job again, now allowed to read the whole file, or answer ERROR BUSY at
 * once.  1 if the job was resubmitted or answered, 0 to carry on.
 */
static int
hash_gate(struct sjob *j)
{
	struct session *s = j->sess;

	if (!j->need_full)
		return 0;
	j->need_full = 0;
	if (hash_acquire(j) == -1) {
		sess_reply(s,
		    "ERROR BUSY too many hash computations running; "
		    "try again later");
		return 1;
	}
	buf_reset(&j->reply);
	if (worker_submit(&j->job) == -1) {
		hash_release(j);
		sess_reply(s, "ERROR INTERNAL out of resources");
		return 1;
	}
	s->busy = j; /* kept: sjob_done answers when it is back */
	return 1;
}

/*
 * Open the job's file and find its SHA-256 (and, for HASH ... md5, its
 * MD5): 0 when they are in j->sha (j->md5sum); 1 when one is not cached
 * and the job must come back with a hash slot (hash_gate); -1 when the
 * error reply is queued and j->fd is -1.
 */
static int
open_and_hash(struct sjob *j)
{
	struct store_err e;
	int has_md5 = 0;

	if (j->file == NULL &&
	    store_read_open(j->st, j->name, &j->file, &j->sb, &e) == -1) {
		jreply_store(j, &e);
		return -1;
	}
	if (!j->full) {
		if (store_cached(j->file, j->sha, j->md5sum, &has_md5) == 0 &&
		    (has_md5 || !j->md5))
			return 0;
		j->need_full = 1;
		return 1;
	}
	if (store_hash(j->file, j->sha, j->md5 ? j->md5sum : NULL, &e) == -1) {
		jreply(j, "ERROR IO %s\n", e.msg);
		store_read_close(j->file);
		j->file = NULL;
		return -1;
	}
	return 0;
}

/* DOWNLOAD: open the file and find its hash before offering a token. */
static void
download_work(struct sjob *j)
{
	(void)open_and_hash(j);
}

static void
download_finish(struct sjob *j)
{
	if (j->srv->stopping) {
		/* The data listener is closed: a token would be useless. */
		sess_reply(j->sess, "ERROR SHUTDOWN server stopping");
		return;
	}
	if (hash_gate(j))
		return;
	if (j->file == NULL) {
		sess_reply_raw(j->sess, buf_head(&j->reply), j->reply.len);
		return;
	}
	if (j->offset > j->sb.size) {
		sess_reply(j->sess,
		    "ERROR RANGE offset beyond the file's %" PRIu64 " bytes",
		    j->sb.size);
		return;
	}
	start_download(
	    j->sess, j->name, j->file, j->sb.size, j->sha, j->offset);
	j->file = NULL; /* the transfer owns it now */
}

/* How much the session's partial keeps: 0, or -1 with the reply. */
static int
partial_kept(struct sjob *j)
{
	struct store_err e;

	if (store_partial_size(j->st, j->pkey, &j->kept, &e) == -1) {
		jreply(j, "ERROR IO %s\n", e.msg);
		return -1;
	}
	return 0;
}

/* PARTIAL. */
static void
partial_work(struct sjob *j)
{
	if (partial_kept(j) == 0)
		jreply(j, "OK %" PRIu64 "\n", j->kept);
}

/* SECURITY: refuse an upload that would break the user's quota or
 * leave less than --min-free on the disk, before any byte is written.
 * Both are checked again by nature at the end: ENOSPC fails the upload
 * cleanly (NOSPACE) and discards it. */
static int
space_check(struct sjob *j)
{
	uint64_t used, kept, avail, need = j->size - j->offset;
	struct store_err e;
	size_t nkept;

	if (j->quota > 0) {
		if (store_usage(j->st, j->name, &used, &e) == -1 ||
		    store_partial_usage(j->st, j->pkey, &kept, &nkept, &e) ==
			-1) {
			jreply(j, "ERROR IO %s\n", e.msg);
			return -1;
		}
		/* The replaced file's bytes are not counted (`except`), nor
		 * this upload's own partial (it becomes the file); the
		 * user's other kept partials are.  Partials are a resume
		 * cache, not stored files: when only they stand in the way,
		 * the oldest make room. */
		if (used + j->inflight + j->size <= j->quota &&
		    used + kept + j->inflight + j->size > j->quota) {
			(void)store_partial_trim(j->st, j->pkey, SIZE_MAX,
			    j->quota - used - j->inflight - j->size);
			if (store_partial_usage(
				j->st, j->pkey, &kept, &nkept, &e) == -1) {
				jreply(j, "ERROR IO %s\n", e.msg);
				return -1;
			}
		}
		used += kept;
		if (used + j->inflight + j->size > j->quota) {
			jreply(j,
			    "ERROR QUOTA upload of %" PRIu64
			    " bytes would exceed the quota of %" PRIu64
			    " bytes (%" PRIu64 " used)\n",
			    j->size, j->quota, used + j->inflight);
			return -1;
		}
	}
	if (j->min_free > 0) {
		if (store_free_bytes(j->st, &avail, &e) == -1) {
			jreply(j, "ERROR IO %s\n", e.msg);
			return -1;
		}
		if (avail < need || avail - need < j->min_free) {
			jreply(j,
			    "ERROR NOSPACE upload of %" PRIu64
			    " bytes would leave less than %" PRIu64
			    " bytes free\n",
			    need, j->min_free);
			return -1;
		}
	}
	return 0;
}

/* UPLOAD with offset= or with space limits: the checks before a token. */
static void
upload_work(struct sjob *j)
{
	if ((j->check_space && space_check(j) == -1) ||
	    (j->offset > 0 && partial_kept(j) == -1))
		j->refused = 1;
}

static void
upload_finish(struct sjob *j)
{
	if (j->refused) {
		sess_reply_raw(j->sess, buf_head(&j->reply), j->reply.len);
		return;
	}
	if (j->srv->stopping) {
		sess_reply(j->sess, "ERROR SHUTDOWN server stopping");
		return;
	}
	if (j->offset > j->kept) {
		sess_reply(j->sess,
		    "ERROR RANGE offset %" PRIu64 " beyond the %" PRIu64
		    " bytes kept",
		    j->offset, j->kept);
		return;
	}
	start_upload(j->sess, j->name, j->size, j->offset, &j->reserved);
}

static void
cmd_download(struct session *s, struct proto_cmd *c)
{
	struct sjob_args a = {c->argv[0], 0, 0, 0, 0};

	if (check_name(s, c->argv[0]) == -1 ||
	    check_offset(s, c, 1, &a.offset) == -1 || !can_transfer(s))
		return;
	submit(s, &a, download_work, download_finish);
}

/*
 * LIST.  A worker builds (or reuses) a snapshot of the FILE lines
 * (listing.c); the loop then sends "OK <n>" and the lines in pieces of
 * FTX_LIST_PIECE, each once the session's queue is below FTX_LIST_LOWAT
 * (cmd_pump, called as the output drains), then DONE.  At most
 * FTX_LIST_JOBS snapshots are built at once; further LISTs wait here,
 * in order, and while the output budget is full a LIST that would need
 * a new snapshot waits too.  The queue belongs to the loop thread.
 */
static struct jq list_q;
static int lists_running;

static void take_followers(struct sjob *j);
static void list_finish(struct sjob *j);

static void
list_start_next(struct ctx *srv)
{
	struct sjob *j;

	while (lists_running < FTX_LIST_JOBS && (j = list_q.head) != NULL) {
		if (j->sess != NULL) {
			listing_unref(j->cand);
			j->cand = listing_cached(j->st, loop_now_ms());
			/* SECURITY: a new snapshot only within the budget. */
			if (j->cand == NULL && sess_over_budget(&srv->sessions))
				return; /* retried by cmd_tick */
		}
		(void)jq_pop(&list_q);
		if (start_queued(j) == -1)
			continue;
		lists_running++;
		take_followers(j);
	}
}

/*
 * The LISTs of the same storage still waiting were all asked before
 * this job reads the directory, so its snapshot is a true answer to
 * them too: they leave the queue and share it.  (A LIST asked later
 * must not: it could miss a file committed before it was asked.)
 */
static void
take_followers(struct sjob *j)
{
	struct sjob **pp = &list_q.head, *k;

	list_q.tail = NULL;
	while ((k = *pp) != NULL) {
		if (k->st != j->st || k->sess == NULL) {
			list_q.tail = k;
			pp = &k->qnext;
			continue;
		}
		*pp = k->qnext;
		k->qnext = j->followers;
		j->followers = k;
	}
}

/* A follower gets its leader's snapshot (or error) as if its own job
 * had finished. */
static void
follow(struct sjob *lead, struct sjob *f)
{
	struct session *s = f->sess;

	if (s == NULL) {
		sjob_free(f);
		return;
	}
	if (lead->snap != NULL)
		f->snap = listing_ref(lead->snap);
	else if (buf_append(
		     &f->reply, buf_head(&lead->reply), lead->reply.len) == -1)
		(void)buf_printf(&f->reply, "ERROR INTERNAL out of memory\n");
	s->busy = NULL;
	list_finish(f);
	if (f->streaming)
		return; /* being sent: s->busy keeps it */
	sjob_free(f);
	if (s->srv->stopping && s->xfer == NULL)
		sess_close_after(s, "ERROR SHUTDOWN server stopping");
	else
		sess_resume(s);
}

static void
list_done(struct sjob *j)
{
	struct sjob *f;

	if (j->snap != NULL)
		listing_publish(j->st, j->snap, loop_now_ms());
	while ((f = j->followers) != NULL) {
		j->followers = f->qnext;
		f->qnext = NULL;
		follow(j, f);
	}
	lists_running--;
	list_start_next(j->srv);
}

static void
list_work(struct sjob *j)
{
	char err[FTX_ERRLEN];

	if ((j->snap = listing_get(j->st, j->cand, err, sizeof(err))) == NULL)
		jreply(j, "ERROR IO %s\n", err);
	else if (j->snap == j->cand)
		j->cand = NULL; /* its reference moved to snap */
}

/* Queue pieces while the session's output is short; 1 when the whole
 * reply, DONE included, is queued. */
static int
list_pump(struct sjob *j)
{
	struct session *s = j->sess;
	size_t n;

	while (s->out.len < FTX_LIST_LOWAT && !s->closing) {
		n = listing_piece(j->snap, j->sent, FTX_LIST_PIECE);
		if (n == 0) {
			sess_reply(s, "DONE");
			return 1;
		}
		sess_reply_raw(s, listing_text(j->snap) + j->sent, n);
		j->sent += n;
	}
	return s->closing;
}

static void
list_finish(struct sjob *j)
{
	struct session *s = j->sess;

	if (j->snap == NULL) {
		sess_reply_raw(s, buf_head(&j->reply), j->reply.len);
		return;
	}
	listing_unref(j->cand); /* not current: a new one was built */
	j->cand = NULL;
	sess_reply(s, "OK %zu", listing_count(j->snap));
	if (list_pump(j) == 0) {
		j->streaming = 1;
		s->busy = j; /* kept until the last piece is queued */
	}
}

/* A LIST being sent: queue its next piece (the output has drained). */
static void
cmd_pump(struct session *s)
{
	struct sjob *j = s->busy;

	if (j == NULL || !j->streaming || list_pump(j) == 0)
		return;
	s->busy = NULL;
	sjob_free(j);
	if (s->srv->stopping && s->xfer == NULL)
		sess_close_after(s, "ERROR SHUTDOWN server stopping");
}

/* Bytes of the session's LIST not queued yet, and what closing the
 * session would free of its snapshot. */
static size_t
cmd_unsent(const struct session *s)
{
	const struct sjob *j = s->busy;

	return j != NULL && j->streaming ? listing_len(j->snap) - j->sent : 0;
}

static size_t
cmd_frees(const struct session *s)
{
	const struct sjob *j = s->busy;

	return j != NULL && j->streaming ? listing_frees(j->snap) : 0;
}

static void
cmd_list(struct session *s, struct proto_cmd *c)
{
	struct sjob *j;

	(void)c;
	if ((j = sjob_new(s, list_work, list_finish, FTX_ERRLEN * 2)) == NULL) {
		sess_reply(s, "ERROR INTERNAL out of resources");
		return;
	}
	s->busy = j;
	jq_push(&list_q, j);
	list_start_next(s->srv);
}

static void
delete_work(struct sjob *j)
{
	char enc[ENC_NAME_MAX];
	struct store_err e;

	if (store_delete(j->st, j->name, &e) == -1) {
		jreply_store(j, &e);
		return;
	}
	log_msg(NULL, "delete name=%s", log_esc(enc, sizeof(enc), j->name));
	encode_name(enc, j->name);
	jreply(j, "OK deleted %s\n", enc);
}

static void
cmd_delete(struct session *s, struct proto_cmd *c)
{
	struct sjob_args a = {c->argv[0], 0, 0, 0, 0};

	if (check_name(s, c->argv[0]) == -1)
		return;
	submit(s, &a, delete_work, NULL);
}

static void
hash_work(struct sjob *j)
{
	char enc[ENC_NAME_MAX];
	char hex[HASH_SHA256_HEXLEN + 1], md5hex[2 * HASH_MD5_LEN + 1];

	if (open_and_hash(j) != 0)
		return;
	str_copy(md5hex, sizeof(md5hex), "-");
	if (j->md5)
		str_hex(md5hex, j->md5sum, HASH_MD5_LEN);
	str_hex(hex, j->sha, HASH_SHA256_LEN);
	encode_name(enc, j->name);
	jreply(j, "OK %" PRIu64 " %s %s %s\n", j->sb.size, hex, md5hex, enc);
}

static void
hash_finish(struct sjob *j)
{
	/* No whole-file hash is started once a stop has begun. */
	if (j->need_full && j->srv->stopping) {
		sess_reply(j->sess, "ERROR SHUTDOWN server stopping");
		return;
	}
	if (hash_gate(j))
		return;
	sess_reply_raw(j->sess, buf_head(&j->reply), j->reply.len);
}

static void
cmd_hash(struct session *s, struct proto_cmd *c)
{
	struct sjob_args a = {c->argv[0], 0, 0, 0, 0};

	if (check_name(s, c->argv[0]) == -1)
		return;
	if (c->argc == 2) {
		if (strcmp(c->argv[1], "md5") != 0) {
			sess_reply(s, "ERROR SYNTAX usage: HASH <name> [md5]");
			return;
		}
		a.md5 = 1;
	}
	submit(s, &a, hash_work, hash_finish);
}

static void
cmd_help(struct session *s, struct proto_cmd *c)
{
	size_t i;

	(void)c;
	sess_reply(s, "OK %zu", NCMDS);
	for (i = 0; i < NCMDS; i++)
		sess_reply(s, "HELP %s", cmd_table[i].usage);
	sess_reply(s, "DONE");
}

static void
cmd_noop(struct session *s, struct proto_cmd *c)
{
	(void)c;
	sess_reply(s, "OK");
}

static void
cmd_quit(struct session *s, struct proto_cmd *c)
{
	(void)c;
	room_leave(s, "quit");
	sess_close_after(s, "OK bye");
}

/* --- chat and echo ------------------------------------------------------ */

/* A logged-in user's nick defaults to the user name, and with
 * --chat-nick-is-user must be it. */
static void
cmd_join(struct session *s, struct proto_cmd *c)
{
	const char *nick = c->argc > 0 ? c->argv[0] : s->user;

	if (nick[0] == '\0') {
		sess_reply(s, "ERROR SYNTAX usage: JOIN <nick>");
		return;
	}
	if (s->srv->cfg.chat_nick_is_user && s->user[0] != '\0' &&
	    strcmp(nick, s->user) != 0) {
		sess_reply(s, "ERROR PERM your nick must be your user name");
		return;
	}
	room_join(s, nick);
}

static void
cmd_leave(struct session *s, struct proto_cmd *c)
{
	(void)c;
	room_leave_cmd(s);
}

static void
cmd_say(struct session *s, struct proto_cmd *c)
{
	room_say(s, c->argv[0]);
}

static void
cmd_msg(struct session *s, struct proto_cmd *c)
{
	room_msg(s, c->argv[0], c->argv[1]);
}

static void
cmd_who(struct session *s, struct proto_cmd *c)
{
	(void)c;
	room_who(s);
}

static void
cmd_whoami(struct session *s, struct proto_cmd *c)
{
	const char *nick = room_nick(s);

	(void)c;
	sess_reply(s, "OK %s %s %s", nick != NULL ? nick : "-", s->peerstr,
	    s->user[0] != '\0' ? s->user : "-");
}

static void
cmd_time(struct session *s, struct proto_cmd *c)
{
	char ts[CHAT_TS_LEN];
	struct timespec now;

	(void)c;
	clock_gettime(CLOCK_REALTIME, &now);
	if (chat_format_ts(ts, sizeof(ts), &now) == -1) {
		sess_reply(s, "ERROR INTERNAL clock");
		return;
	}
	sess_reply(s, "OK %s %lld", ts, (long long)now.tv_sec);
}

/* The payload is at most FTX_ECHO_MAX bytes because its line fit, so
 * the reply fits one line too (the check is belt and braces). */
static void
cmd_echo(struct session *s, struct proto_cmd *c)
{
	size_t n = strlen(c->argv[0]);
	char line[FTX_LINE_MAX];

	if (n > FTX_ECHO_MAX) {
		sess_reply(s, "ERROR SYNTAX payload too long");
		return;
	}
	line[0] = 'O';
	line[1] = 'K';
	line[2] = ' ';
	memcpy(line + 3, c->argv[0], n);
	line[n + 3] = '\n';
	sess_reply_raw(s, line, n + 4);
}

/* --- server statistics -------------------------------------------------- */

/* STATS for one account: uptime and what this user's own sessions and
 * transfers did (docs/PROTOCOL.md, Statistics). */
static int
stats_user_line(const struct session *s, char *out, size_t n)
{
	struct counters_now now = {loop_now_ms(), 0, 0, 0, 0};
	const struct session *k;

	for (k = s->srv->sessions.head; k != NULL; k = k->next)
		now.sessions += k->ust == s->ust;
	xfer_count_user(s->srv, s->ust, &now.xfers_running, &now.xfers_pending);
	return counters_user_line(s->ust != NULL ? s->ust->counts : NULL,
	    s->srv->stats.start_ms, &now, out, n);
}

int
cmd_stats_line(const struct ctx *srv, char *out, size_t n)
{
	struct counters_now now;

	now.now_ms = loop_now_ms();
	now.sessions = srv->sessions.n;
	now.chat = srv->room->n;
	now.xfers_running = xfer_running(srv);
	now.xfers_pending = xfer_pending(srv);
	return counters_line(&srv->stats, &now, out, n);
}

/* One line of key=value pairs (docs/PROTOCOL.md, STATS); the server-wide
 * line is the same text SIGUSR1 writes to the log. */
static void
cmd_stats(struct session *s, struct proto_cmd *c)
{
	char line[512];
	int rc;

	(void)c;
	/* SECURITY: with accounts, a user (anonymous included) sees only
	 * their own account's activity: who else is connected and how much
	 * they move is the operator's business (SIGUSR1, the log).  The
	 * single-user server without accounts shows the whole server. */
	if (s->srv->accounts)
		rc = stats_user_line(s, line, sizeof(line));
	else
		rc = cmd_stats_line(s->srv, line, sizeof(line));
	if (rc == -1) {
		sess_reply(s, "ERROR INTERNAL statistics do not fit a line");
		return;
	}
	sess_reply(s, "OK %s", line);
}

/* --- STARTTLS and LOGIN ------------------------------------------------- */

static void
cmd_starttls(struct session *s, struct proto_cmd *c)
{
	char err[FTX_ERRLEN];

	(void)c;
	if (s->xfer != NULL) {
		sess_reply(s, "ERROR BUSY a transfer is in progress");
		return;
	}
	if (s->srv->tls == NULL) {
		sess_reply(
		    s, "ERROR TLS not offered (no certificate configured)");
		return;
	}
	if (sess_starttls(s, err, sizeof(err)) == -1) {
		sess_reply(s, "ERROR TLS %s", err);
		return;
	}
	sess_reply(s, "OK begin TLS");
}

/*
 * Password checks cost FTX_SCRYPT memory and CPU each, so at most
 * FTX_AUTH_CONCURRENT run at once; further LOGINs wait here, in order.
 * Failed logins are answered after FTX_LOGIN_FAIL_DELAY_MS from the
 * `delayed` list, without holding a worker.  Both lists belong to the
 * loop thread.
 */
static struct jq login_q;
static struct sjob *delayed;
static int logins_running;

static void login_finish(struct sjob *j);

/*
 * SECURITY: the lockout of the address, and of the account name for a
 * password login, checked when a LOGIN arrives, and again when it
 * leaves the queue and when its result comes back: LOGINs sent at once
 * from many sessions must not all be checked (and the right one let in)
 * after the address or the name was locked out.  Right password or
 * wrong, the reply is the same ERROR LOCKED, at once.  1 if refused
 * (reply sent), else 0.
 */
static int
login_locked(struct session *s, int anon, const char *user)
{
	long long left;

	if (auth_locked(s->srv, &s->peer, &left)) {
		sess_reply(s,
		    "ERROR LOCKED too many failed logins; try again in %lld s",
		    left);
		return 1;
	}
	if (!anon && auth_account_locked(s->srv, user, &s->peer, &left)) {
		sess_reply(s,
		    "ERROR LOCKED too many failed logins for this account; "
		    "try again in %lld s",
		    left);
		return 1;
	}
	return 0;
}

/* login_locked for a LOGIN queued or checked. */
static int
login_refuse_locked(struct sjob *j)
{
	char enc[ENC_NAME_MAX];

	if (!login_locked(j->sess, j->anon, j->user))
		return 0;
	log_msg(j->sess->peerstr, "login user=%s refused: locked out",
	    log_esc(enc, sizeof(enc), j->user[0] != '\0' ? j->user : "-"));
	return 1;
}

/* A queued LOGIN refused before its check: the session goes on. */
static void
login_answered(struct sjob *j)
{
	struct session *s = j->sess;

	s->busy = NULL;
	sess_resume(s);
	sjob_free(j);
}

/* LOGINs of this address queued or being checked. */
static int
login_inflight(const struct session *me)
{
	const struct session *s;
	int n = 0;

	for (s = me->srv->sessions.head; s != NULL; s = s->next)
		n += s->busy != NULL && s->busy->work == login_work &&
		    s->busy->checking && net_same_ip(&s->peer, &me->peer);
	return n;
}

static void
login_start_next(void)
{
	struct sjob *j;

	while (logins_running < FTX_AUTH_CONCURRENT &&
	    (j = jq_pop(&login_q)) != NULL) {
		if (j->sess != NULL && login_refuse_locked(j)) {
			login_answered(j);
			continue;
		}
		if (start_queued(j) == -1)
			continue;
		logins_running++;
	}
}

static void
login_done(void)
{
	logins_running--;
	login_start_next();
}

static void
login_work(struct sjob *j)
{
	char err[FTX_ERRLEN];

	if (j->anon)
		j->login = auth_open_anonymous(
			       j->srv->store, &j->ustore, err, sizeof(err)) == 0
		    ? 1
		    : -1;
	else
		j->login = auth_verify(j->srv->users_path, j->srv->store,
		    j->user, j->pass, j->passlen, &j->ustore, &j->quota, err,
		    sizeof(err));
	explicit_bzero(j->pass, sizeof(j->pass));
	if (j->login == -1)
		jreply(j, "ERROR INTERNAL %s\n", err);
}

static void
login_ok(struct session *s, struct sjob *j)
{
	const char *mode = "";
	char enc[LOG_ESC_SIZE(sizeof(s->user))];

	j->adopted = 1; /* auth_attach keeps or closes it */
	if (auth_attach(s, j->anon ? FTX_ANON_USER : j->user, j->ustore) ==
	    -1) {
		sess_reply(s, "ERROR INTERNAL out of memory");
		return;
	}
	(void)str_copy(
	    s->user, sizeof(s->user), j->anon ? FTX_ANON_USER : j->user);
	s->authed = 1;
	s->quota = j->anon ? 0 : j->quota;
	if (j->anon) {
		s->readonly = s->srv->cfg.anonymous != CFG_ANON_RW;
		mode = s->readonly ? " read-only" : " read-write";
	}
	auth_succeeded(s->srv, &s->peer, j->anon ? NULL : j->user);
	log_msg(s->peerstr, "login user=%s ok%s",
	    log_esc(enc, sizeof(enc), s->user), mode);
	sess_reply(s, "OK %s logged in%s", s->user, mode);
}

static void
login_finish(struct sjob *j)
{
	struct session *s = j->sess;
	char enc[ENC_NAME_MAX];

	j->checking = 0;
	if (j->login != -1 && login_refuse_locked(j))
		return; /* sjob_done frees it; an opened store is closed */
	if (j->login == 1) {
		login_ok(s, j);
		return;
	}
	if (j->login == -1) {
		/* The reply holds the reason and its LF. */
		log_msg(s->peerstr, "login error: %.*s",
		    (int)(j->reply.len > 0 ? j->reply.len - 1 : 0),
		    buf_head(&j->reply));
		sess_reply(s,
		    "ERROR INTERNAL login failed on the server: see "
		    "its log");
		return;
	}
	log_msg(s->peerstr, "login user=%s failed",
	    log_esc(enc, sizeof(enc),
		strlen(j->user) <= FTX_NAME_MAX ? j->user : "-"));
	auth_failed(s->srv, &s->peer, j->user);
	/* SECURITY: a failed login is answered after a delay, so guessing
	 * is slow even within the lockout limit; the session waits. */
	s->busy = j;
	j->reply_ms = loop_now_ms() + FTX_LOGIN_FAIL_DELAY_MS;
	j->qnext = delayed;
	delayed = j;
}

void
cmd_tick(struct ctx *srv, long long now)
{
	struct sjob **pp = &delayed, *j;
	struct session *s;

	listing_tick(now);
	list_start_next(srv); /* LISTs waiting for the budget */

	while ((j = *pp) != NULL) {
		if (j->sess != NULL && now < j->reply_ms) {
			pp = &j->qnext;
			continue;
		}
		*pp = j->qnext;
		s = j->sess;
		if (s != NULL) {
			s->busy = NULL;
			sess_reply(s, "ERROR AUTH login incorrect");
			if (srv->stopping)
				sess_close_after(
				    s, "ERROR SHUTDOWN server stopping");
			else
				sess_resume(s);
		}
		sjob_free(j);
	}
}

/* LOGIN's preconditions; 0 if the password may be checked. */
static int
login_allowed(struct session *s, int anon, const char *user)
{
	/* Looked at again here: a LOGIN is when it matters. */
	if (auth_recheck(s->srv) == -1) {
		sess_reply(s,
		    "ERROR INTERNAL login failed on the server: see its log");
		return -1;
	}
	if (!s->srv->accounts) {
		sess_reply(s, "ERROR AUTH no accounts on this server");
		return -1;
	}
	if (s->user[0] != '\0') {
		sess_reply(s, "ERROR BUSY already logged in");
		return -1;
	}
	/* SECURITY: a password never crosses in plaintext unless the
	 * operator said so. */
	if (s->tls_state != STLS_ON && !s->srv->cfg.allow_plaintext_login) {
		sess_reply(s, "ERROR TLS login needs TLS: send STARTTLS first");
		return -1;
	}
	if (login_locked(s, anon, user))
		return -1;
	/* SECURITY: at most FTX_LOGIN_INFLIGHT_PER_IP LOGINs of one address
	 * wait for or undergo a check; more are refused at once, so one
	 * address holds few places in the queue and a legitimate LOGIN
	 * from elsewhere waits behind at most that many of its. */
	if (login_inflight(s) >= FTX_LOGIN_INFLIGHT_PER_IP) {
		sess_reply(s,
		    "ERROR BUSY too many logins in progress from your "
		    "address; try again");
		return -1;
	}
	return 0;
}

static void
cmd_login(struct session *s, struct proto_cmd *c)
{
	const char *pass = c->argc > 1 ? c->argv[1] : "";
	size_t passlen = strlen(pass);
	int anon = s->srv->cfg.anonymous != CFG_ANON_OFF &&
	    strcmp(c->argv[0], FTX_ANON_USER) == 0;
	struct sjob *j;

	if (login_allowed(s, anon, c->argv[0]) == -1)
		return;
	if ((j = sjob_new(s, login_work, login_finish, FTX_ERRLEN * 2)) ==
	    NULL) {
		sess_reply(s, "ERROR INTERNAL out of resources");
		return;
	}
	j->anon = anon;
	/* Overlong names and passwords are checked like wrong ones: the
	 * reply must not tell them apart. */
	if (str_copy(j->user, sizeof(j->user), c->argv[0]) == -1)
		j->user[0] = '\0';
	if (passlen <= FTX_PASS_MAX) {
		memcpy(j->pass, pass, passlen);
		j->passlen = passlen;
	}
	s->busy = j;
	j->checking = 1;
	jq_push(&login_q, j);
	login_start_next();
}

/* --- the session layer's hooks ----------------------------------------- */

/* A new control connection: the greeting, with the capabilities after
 * "ready" (docs/PROTOCOL.md). */
static void
cmd_open(struct session *s)
{
	const struct ctx *srv = s->srv;

	/* Without accounts every session may do everything at once. */
	s->authed = !srv->accounts;
	sess_reply(s, "OK %s ftxd/%s ready%s%s%s%s", FTX_PROTO_VERSION,
	    FTX_VERSION, srv->tls != NULL ? " tls" : "",
	    srv->cfg.require_tls ? " tls-required" : "",
	    srv->accounts ? " login" : "",
	    srv->accounts && srv->cfg.anonymous != CFG_ANON_OFF ? " anonymous"
								: "");
}

/* The session is being freed: leave the room (announced), let go of
 * its storage, and detach its job and transfer, which may still
 * finish. */
static void
cmd_close(struct session *s)
{
	room_gone(s);
	auth_unref(s->srv, s->ust);
	s->ust = NULL;
	if (s->busy != NULL)
		cmd_detach(s->busy);
	if (s->xfer != NULL)
		xfer_session_gone(s->xfer);
}

/* All LIST snapshots, which count against FTX_OUTPUT_BUDGET with the
 * sessions' queues. */
static size_t
cmd_held(void)
{
	return listing_bytes();
}

const struct sess_hooks cmd_hooks = {
    .on_open = cmd_open,
    .on_line = cmd_dispatch,
    .on_drain = cmd_pump,
    .unsent = cmd_unsent,
    .frees = cmd_frees,
    .held = cmd_held,
    .on_leave = room_leave,
    .on_close = cmd_close,
};

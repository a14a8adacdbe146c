/*
 * rtt.c - `ftx rtt`.  See rtt.h.
 */
#include "rtt.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "echo.h"
#include "exitcode.h"
#include "json.h"
#include "net.h"
#include "proto.h"
#include "stats.h"
#include "str.h"
#include "token.h"

#define UDP_HDR ECHO_UDP_HDR
/* After the last request, wait this long for stray duplicates. */
#define DRAIN_MS 200
#define HIST_ROWS 10
#define HIST_WIDTH 40

/* What became of each UDP request. */
enum { ST_PENDING, ST_ANSWERED, ST_LOST, ST_LATE };

struct udp_run {
	int fd;
	uint32_t tag; /* random: replies to an earlier run are mismatches */
	const struct rtt_opts *o;
	unsigned char *state; /* per sequence number, 1-based */
	long sent;
	double *samples;
	size_t ns;
	struct rtt_udp cnt;
	long verbatim; /* "replies" that were our requests, verbatim */
};

void
rtt_defaults(struct rtt_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->n = FTX_RTT_DEFAULT_N;
	o->warmup = FTX_RTT_WARMUP;
	o->size = FTX_RTT_DEFAULT_SIZE;
	o->timeout_ms = FTX_RTT_DEFAULT_TIMEOUT_MS;
}

size_t
rtt_max_size(int udp)
{
	return udp ? FTX_UDP_MAX - UDP_HDR : FTX_ECHO_MAX;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void
pause_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* A printable payload that differs for every sequence number, so a
 * reply can be checked byte for byte. */
static void
payload(char *out, size_t size, uint64_t seq)
{
	static const char al[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t i;

	for (i = 0; i < size; i++)
		out[i] = al[(seq * 31 + i) % (sizeof(al) - 1)];
	out[size] = '\0';
}

/* --- TCP ----------------------------------------------------------- */

static int
tcp_once(struct ctl *c, const char *pl, size_t size, double *ms, char *err,
    size_t errlen)
{
	char line[FTX_LINE_MAX];
	double t0 = now_ms();

	if (ctl_send_text(c, "ECHO", NULL, 0, pl, err, errlen) == -1 ||
	    ctl_read(c, line, FTX_REPLY_TIMEOUT_S, err, errlen) == -1)
		return -1;
	*ms = now_ms() - t0;
	if (proto_kind(line) == PROTO_ERROR) {
		(void)ctl_refusal(c, line, err, errlen);
		return -1;
	}
	if (strncmp(line, "OK ", 3) != 0 || strlen(line + 3) != size ||
	    memcmp(line + 3, pl, size) != 0)
		return str_err(err, errlen,
		    "the server's echo does not match "
		    "what was sent");
	return 0;
}

static int
tcp_run(struct ctl *c, const struct rtt_opts *o, double *v, char *err,
    size_t errlen)
{
	char pl[FTX_LINE_MAX];
	double ms;
	long i;

	for (i = 0; i < o->warmup + o->n; i++) {
		if (i > 0)
			pause_ms(o->interval_ms);
		payload(pl, o->size, (uint64_t)i);
		if (tcp_once(c, pl, o->size, &ms, err, errlen) == -1)
			return -1;
		if (i >= o->warmup)
			v[i - o->warmup] = ms;
	}
	return 0;
}

/* --- UDP ----------------------------------------------------------- */

/* Request `seq` (kind ECHO_REQUEST), or the reply it must get
 * (ECHO_REPLY). */
static void
udp_datagram(
    struct udp_run *r, enum echo_kind kind, long seq, char *dg, size_t *len)
{
	uint64_t id = ((uint64_t)r->tag << 32) | (uint64_t)seq;

	echo_udp_header((unsigned char *)dg, kind, id);
	payload(dg + UDP_HDR, r->o->size, (uint64_t)seq);
	*len = UDP_HDR + r->o->size;
}

/* Which request a reply answers: its sequence number, or 0 if it
 * matches none of ours (wrong id, altered bytes, or not a reply at all:
 * SECURITY: a datagram that still looks like a request is refused, so
 * the client never takes a looping echo for an answer). */
static long
udp_match(struct udp_run *r, const char *dg, size_t n)
{
	const unsigned char *u = (const unsigned char *)dg;
	char want[FTX_UDP_MAX + 1];
	enum echo_kind kind = echo_udp_kind(u, n);
	uint64_t id;
	size_t wlen;
	long seq;

	if (kind == ECHO_REQUEST)
		r->verbatim++;
	if (kind != ECHO_REPLY)
		return 0;
	id = echo_udp_id(u);
	seq = (long)(id & 0xffffffffu);
	if ((uint32_t)(id >> 32) != r->tag || seq < 1 || seq > r->sent)
		return 0;
	udp_datagram(r, ECHO_REPLY, seq, want, &wlen);
	if (wlen != n || memcmp(want, dg, n) != 0)
		return 0;
	return seq;
}

/* Account for one datagram while waiting for `cur`; 1 if it is the
 * awaited reply. */
static int
udp_reply(struct udp_run *r, const char *dg, size_t n, long cur)
{
	long seq = udp_match(r, dg, n);

	if (seq == 0) {
		r->cnt.mismatched++;
		return 0;
	}
	switch (r->state[seq]) {
	case ST_PENDING:
		if (seq != cur) {
			r->cnt.mismatched++; /* cannot happen: earlier ones
					      * are settled */
			return 0;
		}
		r->state[seq] = ST_ANSWERED;
		return 1;
	case ST_LOST:
		r->state[seq] = ST_LATE;
		if (seq > r->o->warmup) {
			r->cnt.lost--;
			r->cnt.late++;
		}
		return 0;
	default:
		if (seq > r->o->warmup)
			r->cnt.dup++;
		return 0;
	}
}

/* Read datagrams until `cur` is answered (1) or `until` passes (0). */
static int
udp_wait(struct udp_run *r, long cur, double until)
{
	char dg[FTX_UDP_MAX + 1];
	struct pollfd pfd;
	double left;
	ssize_t n;

	for (;;) {
		left = until - now_ms();
		if (left <= 0)
			return 0;
		pfd.fd = r->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left + 1) <= 0)
			continue;
		/* ECONNREFUSED (nobody listens) just means no reply. */
		while ((n = recv(r->fd, dg, sizeof(dg), MSG_DONTWAIT)) >= 0)
			if (udp_reply(r, dg, (size_t)n, cur) && cur > 0)
				return 1;
	}
}

static int
udp_once(struct udp_run *r, long seq, char *err, size_t errlen)
{
	char dg[FTX_UDP_MAX + 1];
	double t0;
	size_t len;

	udp_datagram(r, ECHO_REQUEST, seq, dg, &len);
	r->sent = seq;
	t0 = now_ms();
	if (send(r->fd, dg, len, 0) == -1 && errno != ECONNREFUSED)
		return str_err(err, errlen, "send: %s", strerror(errno));
	if (seq > r->o->warmup)
		r->cnt.sent++;
	if (udp_wait(r, seq, t0 + (double)r->o->timeout_ms) == 1) {
		if (seq > r->o->warmup)
			r->samples[r->ns++] = now_ms() - t0;
		if (seq > r->o->warmup)
			r->cnt.ok++;
		return 0;
	}
	r->state[seq] = ST_LOST;
	if (seq > r->o->warmup)
		r->cnt.lost++;
	return 0;
}

static int
udp_run(struct ctl *c, struct udp_run *r, char *err, size_t errlen)
{
	struct token t;
	long seq, total = r->o->warmup + r->o->n;

	if (token_new(&t, err, errlen) == -1)
		return -1;
	memcpy(&r->tag, t.b, sizeof(r->tag));
	if ((r->state = calloc((size_t)total + 1, 1)) == NULL)
		return str_err(err, errlen, "out of memory");
	r->fd = net_udp_connect(c->host, c->port, err, errlen);
	if (r->fd == -1)
		return -1;
	for (seq = 1; seq <= total; seq++) {
		if (seq > 1)
			pause_ms(r->o->interval_ms);
		if (udp_once(r, seq, err, errlen) == -1)
			return -1;
	}
	(void)udp_wait(r, 0, now_ms() + DRAIN_MS);
	return 0;
}

/* --- reports ------------------------------------------------------- */

/* One object (json.h), the keys as they always were. */
static int
report_json(struct ctl *c, const struct rtt_opts *o, const struct stats *st,
    const struct rtt_udp *u, struct buf *b)
{
	if (buf_append(b, "{", 1) == -1 ||
	    json_kv_str(b, "mode", o->udp ? "udp" : "tcp") == -1 ||
	    json_kv_str(b, "host", c->host) == -1 ||
	    json_kv_raw(b, "port", "%d", c->port) == -1 ||
	    json_kv_raw(b, "size", "%zu", o->size) == -1 ||
	    json_kv_raw(b, "warmup", "%ld", o->warmup) == -1 ||
	    json_kv_raw(b, "interval_ms", "%ld", o->interval_ms) == -1)
		return -1;
	if (!o->udp &&
	    json_kv_raw(b, "connect_ms", "%.3f", c->connect_ms) == -1)
		return -1;
	if (st->n > 0 ? stats_json(st, "ms", b) : json_kv_raw(b, "n", "0"))
		return -1;
	if (o->udp &&
	    (json_kv_raw(b, "timeout_ms", "%ld", o->timeout_ms) == -1 ||
		json_kv_raw(b, "sent", "%ld", u->sent) == -1 ||
		json_kv_raw(b, "received", "%ld", u->ok) == -1 ||
		json_kv_raw(b, "lost", "%ld", u->lost) == -1 ||
		json_kv_raw(b, "late", "%ld", u->late) == -1 ||
		json_kv_raw(b, "duplicated", "%ld", u->dup) == -1 ||
		json_kv_raw(b, "mismatched", "%ld", u->mismatched) == -1))
		return -1;
	return buf_append(b, "}\n", 2);
}

static int
report_text(struct ctl *c, const struct rtt_opts *o, const struct stats *st,
    const double *v, const struct rtt_udp *u, struct buf *b)
{
	if (buf_printf(b,
		"%s echo to %s port %d: %ld round trips of %zu bytes, "
		"%ld warm-up round trips excluded\n",
		o->udp ? "UDP" : "TCP", c->host, c->port, o->n, o->size,
		o->warmup) == -1)
		return -1;
	if (!o->udp &&
	    buf_printf(b, "  connect  %10.3f ms\n", c->connect_ms) == -1)
		return -1;
	if (o->udp &&
	    buf_printf(b,
		"  sent %ld, received %ld, lost %ld, late %ld, duplicated "
		"%ld, mismatched %ld\n",
		u->sent, u->ok, u->lost, u->late, u->dup, u->mismatched) == -1)
		return -1;
	if (st->n == 0)
		return buf_printf(b, "  no replies\n");
	if (buf_printf(b,
		"  min      %10.3f ms\n  avg      %10.3f ms\n"
		"  median   %10.3f ms\n  p90      %10.3f ms\n"
		"  p99      %10.3f ms\n  max      %10.3f ms\n"
		"  stddev   %10.3f ms\n",
		st->min, st->avg, st->median, st->p90, st->p99, st->max,
		st->stddev) == -1)
		return -1;
	return stats_histogram(v, st->n, HIST_ROWS, HIST_WIDTH, "ms", b);
}

static int
report(struct ctl *c, const struct rtt_opts *o, double *v, size_t n,
    const struct rtt_udp *u, char *err, size_t errlen)
{
	struct stats st;
	struct buf b;
	int rc;

	memset(&st, 0, sizeof(st));
	if (n > 0 && stats_compute(v, n, &st) == -1)
		return str_err(err, errlen, "cannot compute statistics");
	buf_init(&b, 1024 * 1024);
	rc = o->json ? report_json(c, o, &st, u, &b)
		     : report_text(c, o, &st, v, u, &b);
	if (rc == 0 && fwrite(buf_head(&b), 1, b.len, stdout) != b.len)
		rc = -1;
	buf_free(&b);
	if (rc == -1)
		return str_err(err, errlen, "cannot write the report");
	return 0;
}

int
rtt_run(struct ctl *c, const struct ui *u, const struct rtt_opts *o, char *err,
    size_t errlen)
{
	struct udp_run r;
	double *v;
	size_t n = 0;
	int rc = EXITCODE_FAIL;

	(void)u;
	memset(&r, 0, sizeof(r));
	r.fd = -1;
	r.o = o;
	if ((v = calloc((size_t)o->n, sizeof(*v))) == NULL) {
		str_err(err, errlen, "out of memory");
		return EXITCODE_FAIL;
	}
	if (o->udp) {
		r.samples = v;
		if (udp_run(c, &r, err, errlen) == -1)
			goto out;
		n = r.ns;
	} else {
		if (tcp_run(c, o, v, err, errlen) == -1)
			goto out;
		n = (size_t)o->n;
	}
	if (report(c, o, v, n, &r.cnt, err, errlen) == -1)
		goto out;
	rc = EXITCODE_OK;
	if (n == 0) {
		str_err(err, errlen,
		    r.verbatim > 0 ? "no replies: the server echoes requests "
				     "verbatim (not FTXR replies)"
				   : "no replies (is UDP echo on?)");
		rc = EXITCODE_FAIL;
	}
out:
	if (r.fd != -1)
		close(r.fd);
	free(r.state);
	free(v);
	return rc;
}

/*
 * talk.c - `ftx chat`.  See talk.h and docs/PROTOCOL.md, "Chat".
 *
 * One poll loop watches stdin and the control connection.  Replies come
 * back in command order, so a small queue of the commands we sent tells
 * us what each OK/ERROR/DONE answers; pushes are recognised by their
 * first token and printed whenever they arrive.
 */
#include "talk.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chat.h"
#include "esc.h"
#include "exitcode.h"
#include "lineed.h"
#include "progress.h"
#include "proto.h"
#include "rpl.h"
#include "str.h"

/* Commands in flight before we stop reading the user's input. */
#define QMAX 64
/* After QUIT, how long we wait for the server to close. */
#define QUIT_WAIT_S 5

enum sent { S_JOIN, S_SAY, S_MSG, S_WHO, S_WHOAMI, S_TIME, S_NOOP, S_QUIT };
enum state { ST_NICK, ST_JOINING, ST_JOINED, ST_QUITTING };

struct talk {
	struct ctl *c;
	struct led led;
	int tty;
	enum state st;
	enum sent q[QMAX]; /* commands awaiting their reply, oldest first */
	int qhead, qlen;
	int who_left; /* NICK lines still expected in a WHO reply */
	char who[FTX_LINE_MAX]; /* the WHO list being collected */
	char nick[FTX_NICK_MAX + 1];
	char dflt[FTX_NICK_MAX + 1]; /* offered at the tty prompt; "" none */
	char in[2 * (LED_MAX + 2)]; /* pipe input not yet split into lines */
	size_t inlen;
	int skipping; /* discarding an overlong piped line */
	int eof; /* piped input ended (QUIT once its lines are sent) */
	double last_sent, quit_at;
	int undelivered; /* private messages refused: exit 4 from a pipe */
	char lost[FTX_ERRLEN]; /* why the last one was refused */
	int rc; /* exit code once finished */
	char why[FTX_ERRLEN]; /* and why, if it is not EXITCODE_OK */
	int done;
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void show(struct talk *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One line of output, above the prompt on a terminal.  SECURITY: the
 * whole line is escaped (esc.h): chat_parse_push refuses control
 * characters, but a bidi override or an error reason gets here too. */
static void
show(struct talk *t, const char *fmt, ...)
{
	char line[FTX_LINE_MAX + 128], safe[ESC_SIZE(FTX_LINE_MAX + 128)];
	va_list ap;

	va_start(ap, fmt);
	(void)str_vfmt(line, sizeof(line), fmt, ap);
	va_end(ap);
	(void)esc_str(safe, sizeof(safe), line);
	led_print(&t->led, safe);
}

/* "HH:MM:SS" in local time for a server timestamp. */
static void
local_hms(const char *ts, char *out, size_t n)
{
	struct tm tm;
	time_t when;

	memset(&tm, 0, sizeof(tm));
	if (strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) == NULL ||
	    (when = timegm(&tm)) == (time_t)-1 ||
	    localtime_r(&when, &tm) == NULL ||
	    strftime(out, n, "%H:%M:%S", &tm) == 0)
		(void)str_copy(out, n, "??:??:??");
}

static int
send_cmd(struct talk *t, enum sent kind, const char *verb, const char *arg,
    const char *text, char *err, size_t errlen)
{
	const char *args[1] = {arg};

	if (ctl_send_text(
		t->c, verb, args, arg != NULL ? 1 : 0, text, err, errlen) == -1)
		return -1;
	t->q[(t->qhead + t->qlen) % QMAX] = kind;
	t->qlen++;
	t->last_sent = progress_now();
	return 0;
}

static void
print_push(struct talk *t, const char *line)
{
	char why[FTX_ERRLEN], hms[16];
	struct chat_push p;
	int r;

	if ((r = chat_parse_push(line, &p, why, sizeof(why))) == 1)
		return; /* a kind this client does not know */
	if (r == -1) {
		show(t, "ftx: ignoring a malformed line from the server: %s",
		    why);
		return;
	}
	local_hms(p.ts, hms, sizeof(hms));
	switch (p.kind) {
	case CHAT_MSG:
		show(t, "[%s] <%s> %s", hms, p.from, p.text);
		break;
	case CHAT_PRIV:
		show(t, "[%s] *%s -> %s* %s", hms, p.from, p.to, p.text);
		break;
	case CHAT_JOIN:
		show(t, "[%s] -- %s joined", hms, p.from);
		break;
	case CHAT_LEFT:
		show(t, "[%s] -- %s left (%s)", hms, p.from, p.text);
		break;
	case CHAT_NOTICE:
		show(t, "[%s] !! %s", hms, p.text);
		break;
	}
}

/* The nickname prompt, with the default Enter takes. */
static void
nick_prompt(const struct talk *t, char *out, size_t n)
{
	if (t->dflt[0] != '\0')
		(void)str_fmt(out, n, "nickname [%s]: ", t->dflt);
	else
		(void)str_copy(out, n, "nickname: ");
}

static void
ask_nick(struct talk *t)
{
	t->st = ST_NICK;
	if (t->tty)
		nick_prompt(t, t->led.prompt, sizeof(t->led.prompt));
}

/* The answer to JOIN. */
static void
joined(struct talk *t, const char *line)
{
	struct rpl_error e;

	if (proto_kind(line) == PROTO_OK) {
		t->st = ST_JOINED;
		if (t->tty)
			(void)str_fmt(t->led.prompt, sizeof(t->led.prompt),
			    "%s> ", t->nick);
		show(t, "-- joined as %s; /help for commands", t->nick);
		return;
	}
	(void)rpl_error(line, &e);
	show(t, "! %s (%s)", e.text, e.code);
	(void)str_fmt(t->why, sizeof(t->why), "cannot join as %s: %s (%s)",
	    t->nick, e.text, e.code);
	if (t->tty) {
		ask_nick(t);
	} else {
		/* A script's next lines are messages, not nicknames. */
		t->rc = EXITCODE_REFUSED;
		t->done = 1;
	}
}

/* A reply line (not a push): match it with the oldest command. */
static void
reply(struct talk *t, const char *line)
{
	char a[FTX_LINE_MAX], b[FTX_LINE_MAX], hms[16];
	enum proto_kind k = proto_kind(line);
	struct rpl_error e;
	struct rpl_whoami w;
	enum sent s;

	if (t->qlen == 0) {
		/* An ERROR out of the blue: the server is closing us. */
		if (rpl_error(line, &e) == 0)
			show(t, "! %s (%s)", e.text, e.code);
		return;
	}
	s = t->q[t->qhead];
	if (s == S_WHO && k == PROTO_DATA) {
		if (t->who_left > 0 && strncmp(line, "NICK ", 5) == 0) {
			t->who_left--;
			if (t->who[0] != '\0')
				(void)str_copy(a, sizeof(a), ", ");
			else
				a[0] = '\0';
			if (str_fmt(b, sizeof(b), "%s%s%s", t->who, a,
				line + 5) == 0)
				(void)str_copy(t->who, sizeof(t->who), b);
		}
		return;
	}
	if (s == S_WHO && k == PROTO_OK) {
		uint64_t n;

		if (rpl_count(line, 1000000, &n, a, sizeof(a)) == 0)
			t->who_left = (int)n;
		t->who[0] = '\0';
		return; /* the list and DONE follow */
	}
	t->qhead = (t->qhead + 1) % QMAX;
	t->qlen--;
	if (k == PROTO_ERROR) {
		if (s == S_JOIN) {
			joined(t, line);
			return;
		}
		(void)rpl_error(line, &e);
		show(t, "! %s (%s)", e.text, e.code);
		/* A script must learn that its private message went
		 * nowhere; the session goes on. */
		if (s == S_MSG && strcmp(e.code, "NOSUCHNICK") == 0) {
			t->undelivered++;
			(void)str_fmt(t->lost, sizeof(t->lost),
			    "private message not delivered: %s", e.text);
		}
		return;
	}
	switch (s) {
	case S_JOIN:
		joined(t, line);
		break;
	case S_WHO:
		show(t, "-- in the room: %s",
		    t->who[0] != '\0' ? t->who : "nobody");
		break;
	case S_WHOAMI:
		if (rpl_whoami(line, &w, NULL, 0) == -1)
			break;
		if (w.user[0] != '\0')
			show(t,
			    "-- you are %s, logged in as %s, connected from %s",
			    w.nick[0] == '-' ? "not in the room" : w.nick,
			    w.user, w.peer);
		else
			show(t, "-- you are %s, connected from %s",
			    w.nick[0] == '-' ? "not in the room" : w.nick,
			    w.peer);
		break;
	case S_TIME:
		if (sscanf(line, "OK %63s", a) == 1) {
			local_hms(a, hms, sizeof(hms));
			show(t, "-- server time %s (%s local)", a, hms);
		}
		break;
	default:
		break; /* SAY, MSG, NOOP: OK is silence; QUIT: close follows */
	}
}

static void
help(struct talk *t)
{
	show(t,
	    "-- type a line to talk to everyone; @nick text talks to "
	    "one person");
	show(t,
	    "-- /who  who is here    /whoami  your nick    /time  server "
	    "time");
	show(t, "-- /help  this text     /quit  leave (or Ctrl-D)");
}

static void
quit(struct talk *t, char *err, size_t errlen)
{
	if (t->st == ST_QUITTING)
		return;
	t->st = ST_QUITTING;
	t->quit_at = progress_now();
	if (send_cmd(t, S_QUIT, "QUIT", NULL, NULL, err, errlen) == -1)
		t->done = 1;
}

/* A line the user typed or piped in. */
static int
input(struct talk *t, char *line, char *err, size_t errlen)
{
	char why[FTX_ERRLEN], *sp;

	if (t->st == ST_NICK) {
		if (line[0] == '\0' && t->dflt[0] != '\0')
			line = t->dflt;
		if (chat_nick_check(line, why, sizeof(why)) == -1) {
			show(t, "! %s", why);
			if (!t->tty) {
				(void)str_fmt(t->why, sizeof(t->why),
				    "bad nickname: %s", why);
				t->rc = EXITCODE_USAGE;
				t->done = 1;
			}
			return 0;
		}
		(void)str_copy(t->nick, sizeof(t->nick), line);
		t->st = ST_JOINING;
		return send_cmd(t, S_JOIN, "JOIN", line, NULL, err, errlen);
	}
	if (line[0] == '\0')
		return 0;
	if (strcmp(line, "/quit") == 0) {
		quit(t, err, errlen);
		return 0;
	}
	if (strcmp(line, "/who") == 0)
		return send_cmd(t, S_WHO, "WHO", NULL, NULL, err, errlen);
	if (strcmp(line, "/whoami") == 0)
		return send_cmd(t, S_WHOAMI, "WHOAMI", NULL, NULL, err, errlen);
	if (strcmp(line, "/time") == 0)
		return send_cmd(t, S_TIME, "TIME", NULL, NULL, err, errlen);
	if (strcmp(line, "/help") == 0) {
		help(t);
		return 0;
	}
	if (line[0] == '/') {
		show(t, "! unknown command %s; /help lists them", line);
		return 0;
	}
	if (line[0] == '@') {
		if ((sp = strchr(line, ' ')) == NULL || sp[1] == '\0') {
			show(t, "! usage: @nick message");
			return 0;
		}
		*sp = '\0';
		if (chat_nick_check(line + 1, why, sizeof(why)) == -1 ||
		    chat_text_check(sp + 1, why, sizeof(why)) == -1) {
			show(t, "! %s", why);
			return 0;
		}
		return send_cmd(t, S_MSG, "MSG", line + 1, sp + 1, err, errlen);
	}
	/* Checked here too, so the user hears why at once. */
	if (chat_text_check(line, why, sizeof(why)) == -1) {
		show(t, "! %s", why);
		return 0;
	}
	return send_cmd(t, S_SAY, "SAY", NULL, line, err, errlen);
}

/* Split piped input into lines; overlong ones are reported, skipped. */
static int
pipe_lines(struct talk *t, char *err, size_t errlen)
{
	char line[LED_MAX + 2];
	char *lf;
	size_t n;

	while (!t->done && t->st != ST_JOINING && t->st != ST_QUITTING &&
	    t->qlen < QMAX) {
		lf = memchr(t->in, '\n', t->inlen);
		if (lf == NULL) {
			if (t->inlen > LED_MAX) {
				show(t, "! input line too long; skipped");
				t->skipping = 1;
				t->inlen = 0;
			}
			return 0;
		}
		n = (size_t)(lf - t->in);
		if (t->skipping) {
			t->skipping = 0;
		} else if (n <= LED_MAX) {
			memcpy(line, t->in, n);
			line[n] = '\0';
			if (n > 0 && line[n - 1] == '\r')
				line[n - 1] = '\0';
			if (input(t, line, err, errlen) == -1)
				return -1;
		} else {
			show(t, "! input line too long; skipped");
		}
		t->inlen -= n + 1;
		memmove(t->in, lf + 1, t->inlen);
	}
	return 0;
}

/*
 * End of piped input: the last line (even without LF) is sent, then the
 * lines still held back (while JOIN is answered, or QMAX commands are in
 * flight) once they can go, and only then QUIT.  Called again whenever
 * the server answers, until QUIT is sent.
 */
static int
pipe_drain(struct talk *t, char *err, size_t errlen)
{
	if (!t->eof)
		return 0;
	if (t->inlen > 0 && !t->skipping &&
	    memchr(t->in, '\n', t->inlen) == NULL) {
		if (t->inlen == sizeof(t->in))
			t->inlen--; /* overlong anyway: pipe_lines skips it */
		t->in[t->inlen++] = '\n'; /* a last line without LF */
	}
	if (pipe_lines(t, err, errlen) == -1)
		return -1;
	if (memchr(t->in, '\n', t->inlen) == NULL)
		quit(t, err, errlen);
	return 0;
}

/*
 * Piped input is read a byte at a time, and only while more is ready, so
 * nothing after the line that ends the chat (/quit) is consumed: the
 * menu that started us reads the rest.  Chat input is small; the cost is
 * a few system calls per character.
 */
static int
pipe_read(struct talk *t, char *err, size_t errlen)
{
	struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
	ssize_t n;

	do {
		if (t->inlen == sizeof(t->in))
			break; /* pipe_lines will report the overlong line */
		n = read(STDIN_FILENO, t->in + t->inlen, 1);
		if (n == 0) {
			t->eof = 1;
			return pipe_drain(t, err, errlen);
		}
		if (n == -1)
			return errno == EINTR || errno == EAGAIN
			    ? 0
			    : str_err(
				  err, errlen, "stdin: %s", strerror(errno));
		t->inlen++;
		if (t->in[t->inlen - 1] == '\n')
			return pipe_lines(t, err, errlen);
	} while (poll(&pfd, 1, 0) == 1);
	return pipe_lines(t, err, errlen);
}

/* stdin is readable. */
static int
on_stdin(struct talk *t, char *err, size_t errlen)
{
	char buf[512], line[LED_MAX + 1];
	size_t off = 0, used;
	ssize_t n;

	if (!t->tty)
		return pipe_read(t, err, errlen);
	if ((n = read(STDIN_FILENO, buf, sizeof(buf))) <= 0) {
		quit(t, err, errlen);
		return 0;
	}
	while (off < (size_t)n) {
		switch (led_feed(
		    &t->led, buf + off, (size_t)n - off, &used, line)) {
		case LED_LINE:
			if (input(t, line, err, errlen) == -1)
				return -1;
			break;
		case LED_EOF:
			quit(t, err, errlen);
			return 0;
		case LED_MORE:
			break;
		}
		off += used;
	}
	return 0;
}

/* Commands still waiting for their reply, QUIT and NOOP aside. */
static int
unanswered(const struct talk *t)
{
	int i, n = 0;

	for (i = 0; i < t->qlen; i++)
		switch (t->q[(t->qhead + i) % QMAX]) {
		case S_QUIT:
		case S_NOOP:
			break;
		default:
			n++;
		}
	return n;
}

/* The server sent something. */
static int
on_server(struct talk *t, char *err, size_t errlen)
{
	char line[FTX_LINE_MAX];
	int r;

	if (ctl_fill(t->c, err, errlen) == -1) {
		t->done = 1;
		if (t->st == ST_QUITTING && unanswered(t) == 0)
			return 0; /* the close we asked for */
		if (t->st == ST_QUITTING)
			(void)str_err(err, errlen,
			    "the server closed the session before %d "
			    "message(s) were acknowledged",
			    unanswered(t));
		t->rc = EXITCODE_FAIL;
		return -1;
	}
	while ((r = ctl_take(t->c, line, err, errlen)) == 1) {
		if (proto_kind(line) == PROTO_PUSH)
			print_push(t, line);
		else
			reply(t, line);
	}
	if (r == -1) {
		t->rc = EXITCODE_FAIL;
		t->done = 1;
		return -1;
	}
	/* Lines held back while JOIN was answered may go now. */
	if (t->tty)
		return 0;
	return t->eof ? pipe_drain(t, err, errlen) : pipe_lines(t, err, errlen);
}

static int
loop(struct talk *t, char *err, size_t errlen)
{
	struct pollfd pfd[2];
	double now;
	int nfd, r;

	while (!t->done) {
		if (interrupted) {
			interrupted = 0;
			quit(t, err, errlen);
		}
		now = progress_now();
		if (t->st == ST_QUITTING && now - t->quit_at > QUIT_WAIT_S)
			break;
		/* Listening is not idling: keep the session alive. */
		if (t->st == ST_JOINED &&
		    now - t->last_sent > FTX_CHAT_KEEPALIVE_S &&
		    send_cmd(t, S_NOOP, "NOOP", NULL, NULL, err, errlen) == -1)
			return -1;
		/* Lines TLS has already decrypted would not wake poll. */
		if (ctl_pending(t->c)) {
			if (on_server(t, err, errlen) == -1)
				return -1;
			continue;
		}
		pfd[0].fd = t->c->ch.fd;
		pfd[0].events = POLLIN;
		nfd = 1;
		if ((t->st == ST_NICK || t->st == ST_JOINED) &&
		    t->qlen < QMAX && !t->eof) {
			pfd[1].fd = STDIN_FILENO;
			pfd[1].events = POLLIN;
			nfd = 2;
		}
		r = poll(pfd, (nfds_t)nfd, 1000);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return str_err(
			    err, errlen, "poll: %s", strerror(errno));
		if (r == 0)
			continue;
		if (pfd[0].revents != 0 && on_server(t, err, errlen) == -1)
			return -1;
		if (!t->done && nfd == 2 && pfd[1].revents != 0 &&
		    on_stdin(t, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/*
 * The nickname when none was given: the account we are logged in as (a
 * server with --chat-nick-is-user accepts no other), else the login name
 * of whoever runs us ($USER, $LOGNAME).  Only a valid nick; "" if none.
 */
static void
default_nick(const struct ctl *c, char *out, size_t n)
{
	const char *cand[3];
	size_t i;

	cand[0] = c->logged_in && !c->read_only ? c->user : NULL;
	cand[1] = getenv("USER");
	cand[2] = getenv("LOGNAME");
	out[0] = '\0';
	for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (cand[i] != NULL && cand[i][0] != '\0' &&
		    chat_nick_check(cand[i], NULL, 0) == 0 &&
		    str_copy(out, n, cand[i]) == 0)
			return;
	out[0] = '\0';
}

/* Why there is no default nickname, and what to do. */
static void
no_nick(char *err, size_t errlen)
{
	const char *var = "USER", *u = getenv("USER");

	if (u == NULL || u[0] == '\0')
		u = getenv(var = "LOGNAME");
	if (u != NULL && u[0] != '\0')
		(void)str_err(err, errlen,
		    "no nickname: $%s '%s' is not a valid nickname "
		    "(letters, digits, - and _); use --nick NAME",
		    var, u);
	else
		(void)str_err(
		    err, errlen, "no nickname: use --nick NAME (or set $USER)");
}

int
talk_run(struct ctl *c, const char *nick, char *err, size_t errlen)
{
	struct sigaction sa, old_int, old_term, old_pipe;
	char first[LED_MAX + 1];
	struct talk tk, *t = &tk;
	int rc;

	memset(t, 0, sizeof(*t));
	t->c = c;
	t->led.fd = -1;
	t->tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	t->rc = EXITCODE_OK;
	t->last_sent = progress_now();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll must wake */
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, &old_int);
	(void)sigaction(SIGTERM, &sa, &old_term);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, &old_pipe);
	default_nick(c, t->dflt, sizeof(t->dflt));
	nick_prompt(t, first, sizeof(first));
	if (t->tty &&
	    led_start(&t->led, STDIN_FILENO, first, err, errlen) == -1) {
		rc = EXITCODE_FAIL;
		goto out;
	}
	if (nick == NULL && !t->tty && t->dflt[0] == '\0') {
		/* Never the first line: from a pipe every line is a
		 * message. */
		no_nick(err, errlen);
		rc = EXITCODE_USAGE;
		goto out;
	}
	ask_nick(t);
	if (t->tty)
		led_print(&t->led,
		    "-- ftx chat: /help for commands, /quit "
		    "or Ctrl-D to leave");
	if (nick == NULL && !t->tty)
		nick = t->dflt;
	if (nick != NULL &&
	    (str_copy(first, sizeof(first), nick) == -1 ||
		input(t, first, err, errlen) == -1)) {
		rc = EXITCODE_FAIL;
		goto out;
	}
	err[0] = '\0';
	rc = loop(t, err, errlen) == -1 ? EXITCODE_FAIL : t->rc;
	if (rc == EXITCODE_OK && !t->tty && t->undelivered > 0) {
		rc = EXITCODE_REFUSED;
		(void)str_copy(err, errlen, t->lost);
	} else if (rc != EXITCODE_OK && t->why[0] != '\0')
		(void)str_copy(err, errlen, t->why);
	else if (rc != EXITCODE_OK && err[0] == '\0')
		(void)str_copy(err, errlen, "chat session ended");
out:
	led_stop(&t->led);
	ctl_drop(c);
	(void)sigaction(SIGINT, &old_int, NULL);
	(void)sigaction(SIGTERM, &old_term, NULL);
	(void)sigaction(SIGPIPE, &old_pipe, NULL);
	return rc;
}

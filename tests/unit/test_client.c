/*
 * test_client.c - unit tests for ftx/rpl.c, the client's checks of the
 * server's reply lines.  The server is not trusted: every hostile or
 * malformed line below must be refused, and only well-formed ones pass.
 * Also the pure parts of ftx/transfer.c: the retry schedule, which
 * errors are retried, and the names and info lines of download partials;
 * and ftx/pass.c: user names, and where passwords may come from; and
 * ftx/ctl.c's line handling on a socket pair: reply lines that are too
 * long or hold a NUL, and free text that would end the command line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"
#include "exitcode.h"
#include "ops.h"
#include "pass.h"
#include "rglob.h"
#include "rpl.h"
#include "str.h"
#include "transfer.h"

#define SHA "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"
#define TOK "3f5a0c1e9b7d4a2c8e6f1b3d5a7c9e0f"
#define MD5 "6f5902ac237024bdd0c176cb93063dc4"

static void
test_greeting(void **state)
{
	char err[256];

	assert_int_equal(
	    rpl_greeting("OK FTX/1 ftxd/0.1.0 ready", err, sizeof(err)), 0);
	assert_int_equal(rpl_greeting("OK FTX/1", err, sizeof(err)), 0);
	assert_int_equal(rpl_greeting("OK FTX/10 x", err, sizeof(err)), -1);
	assert_int_equal(rpl_greeting("OK FTX/2 x", err, sizeof(err)), -1);
	assert_int_equal(rpl_greeting("SSH-2.0-OpenSSH", err, sizeof(err)), -1);
	assert_int_equal(rpl_greeting("", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "FTX/1"));
}

static void
test_greeting_caps(void **state)
{
	assert_int_equal(rpl_greeting_caps("OK FTX/1 ftxd/0.1.0 ready"), 0);
	assert_int_equal(
	    rpl_greeting_caps("OK FTX/1 ftxd/0.1.0 ready tls"), RPL_CAP_TLS);
	assert_int_equal(rpl_greeting_caps("OK FTX/1 ftxd/0.1.0 ready tls "
					   "tls-required login anonymous"),
	    RPL_CAP_TLS | RPL_CAP_TLS_REQUIRED | RPL_CAP_LOGIN |
		RPL_CAP_ANONYMOUS);
	/* Unknown words are ignored, known ones need to match exactly. */
	assert_int_equal(rpl_greeting_caps("OK FTX/1 x ready  future login  "),
	    RPL_CAP_LOGIN);
	assert_int_equal(
	    rpl_greeting_caps("OK FTX/1 x ready TLS logins tls-req tlsx"), 0);
	assert_int_equal(
	    rpl_greeting_caps("OK FTX/1 "
			      "tlstlstlstlstlstlstlstlstlstlstlstls"
			      "tlstlstls login"),
	    RPL_CAP_LOGIN);
	assert_int_equal(
	    rpl_greeting_caps("OK FTX/1 ftxd/0.3.0 ready folders login"),
	    RPL_CAP_FOLDERS | RPL_CAP_LOGIN);
	assert_int_equal(
	    rpl_greeting_caps("OK FTX/1 x ready folder folders2"), 0);
	assert_int_equal(
	    rpl_greeting_caps("OK FTX/1 ftxd/0.4.0 ready folders stream"),
	    RPL_CAP_FOLDERS | RPL_CAP_STREAM);
	assert_int_equal(rpl_greeting_caps("OK FTX/1 x ready streams"), 0);
	/* Not a greeting: nothing. */
	assert_int_equal(rpl_greeting_caps("OK FTX/2 tls login"), 0);
	assert_int_equal(rpl_greeting_caps("ERROR LIMIT tls"), 0);
}

static void
test_login_reply(void **state)
{
	struct rpl_login l;
	char err[256];

	assert_int_equal(
	    rpl_login("OK alice logged in", &l, err, sizeof(err)), 0);
	assert_string_equal(l.user, "alice");
	assert_int_equal(l.read_only, 0);
	assert_int_equal(
	    rpl_login("OK anonymous logged in read-only", &l, err, sizeof(err)),
	    0);
	assert_string_equal(l.user, "anonymous");
	assert_int_equal(l.read_only, 1);
	assert_int_equal(rpl_login("OK anonymous logged in read-write", &l, err,
			     sizeof(err)),
	    0);
	assert_int_equal(l.read_only, 0);
	/* SECURITY: the user name goes to the terminal. */
	assert_int_equal(
	    rpl_login("OK Alice logged in", &l, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_login("OK %1b[31m logged in", &l, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_login("OK "
		      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa logged in",
		&l, err, sizeof(err)),
	    -1);
	assert_int_equal(
	    rpl_login("OK alice logged", &l, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_login("OK alice logged out", &l, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_login("OK alice logged in read-mostly", &l, err, sizeof(err)),
	    -1);
	assert_int_equal(
	    rpl_login("ERROR AUTH login incorrect", &l, err, sizeof(err)), -1);
}

static void
test_whoami_reply(void **state)
{
	struct rpl_whoami w;
	char err[256];

	/* Before issue 4: two fields. */
	assert_int_equal(
	    rpl_whoami("OK bob 192.0.2.7:50412", &w, err, sizeof(err)), 0);
	assert_string_equal(w.nick, "bob");
	assert_string_equal(w.peer, "192.0.2.7:50412");
	assert_string_equal(w.user, "");
	assert_int_equal(
	    rpl_whoami("OK - [::1]:50412 alice", &w, err, sizeof(err)), 0);
	assert_string_equal(w.nick, "-");
	assert_string_equal(w.peer, "[::1]:50412");
	assert_string_equal(w.user, "alice");
	assert_int_equal(
	    rpl_whoami("OK bob 127.0.0.1:1 -", &w, err, sizeof(err)), 0);
	assert_string_equal(w.user, "");
	assert_int_equal(
	    rpl_whoami("OK bob 127.0.0.1:1 Alice", &w, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_whoami("OK bob 127.0.0.1:1 alice x", &w, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_whoami("OK b%1bb 127.0.0.1:1 alice", &w, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_whoami("OK bob evil%1b:1", &w, err, sizeof(err)), -1);
	assert_int_equal(rpl_whoami("OK bob", &w, err, sizeof(err)), -1);
}

static void
test_user_names(void **state)
{
	assert_int_equal(pass_user_ok("alice"), 1);
	assert_int_equal(pass_user_ok("a"), 1);
	assert_int_equal(pass_user_ok("0day_x-y"), 1);
	assert_int_equal(pass_user_ok("anonymous"), 1);
	assert_int_equal(
	    pass_user_ok("abcdefghijabcdefghijabcdefghij12"), 1); /* 32 */
	assert_int_equal(
	    pass_user_ok("abcdefghijabcdefghijabcdefghij123"), 0); /* 33 */
	assert_int_equal(pass_user_ok(""), 0);
	assert_int_equal(pass_user_ok("Alice"), 0);
	assert_int_equal(pass_user_ok("_alice"), 0);
	assert_int_equal(pass_user_ok("-alice"), 0);
	assert_int_equal(pass_user_ok("al ice"), 0);
	assert_int_equal(pass_user_ok("../x"), 0);
	assert_int_equal(pass_user_ok("a.b"), 0);
}

static void
test_password_sources(void **state)
{
	char buf[PASS_BUF], err[256], path[] = "/tmp/test_client_pw.XXXXXX";
	char big[FTX_PASS_MAX + 2];
	int fd;

	/* The first line, without LF or CR LF. */
	assert_int_equal(
	    pass_first_line("s3cret pass\nrest", 16, buf, err, sizeof(err)), 0);
	assert_string_equal(buf, "s3cret pass");
	assert_int_equal(
	    pass_first_line("pw\r\n", 4, buf, err, sizeof(err)), 0);
	assert_string_equal(buf, "pw");
	assert_int_equal(pass_first_line("pw", 2, buf, err, sizeof(err)), 0);
	assert_string_equal(buf, "pw");
	assert_int_equal(pass_first_line("\nx", 2, buf, err, sizeof(err)), -1);
	assert_int_equal(pass_first_line("", 0, buf, err, sizeof(err)), -1);
	assert_int_equal(
	    pass_first_line("a\0b\n", 4, buf, err, sizeof(err)), -1);
	memset(big, 'p', sizeof(big));
	assert_int_equal(
	    pass_first_line(big, FTX_PASS_MAX, buf, err, sizeof(err)), 0);
	assert_int_equal(strlen(buf), FTX_PASS_MAX);
	assert_int_equal(
	    pass_first_line(big, FTX_PASS_MAX + 1, buf, err, sizeof(err)), -1);
	/* FTX_PASSWORD is taken once and removed from the environment. */
	assert_int_equal(setenv("FTX_PASSWORD", "from env", 1), 0);
	assert_int_equal(pass_from_env(buf, err, sizeof(err)), 1);
	assert_string_equal(buf, "from env");
	assert_null(getenv("FTX_PASSWORD"));
	assert_int_equal(pass_from_env(buf, err, sizeof(err)), 0);
	assert_int_equal(setenv("FTX_PASSWORD", "", 1), 0);
	assert_int_equal(pass_from_env(buf, err, sizeof(err)), -1);
	assert_null(getenv("FTX_PASSWORD"));
	/* A password file: 0600 works, anything others may read does
	 * not; a missing file and a directory are errors. */
	fd = mkstemp(path);
	assert_int_not_equal(fd, -1);
	assert_int_equal(write(fd, "file pw\nsecond\n", 15), 15);
	close(fd);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(pass_from_file(path, buf, err, sizeof(err)), 0);
	assert_string_equal(buf, "file pw");
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(pass_from_file(path, buf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(pass_from_file(path, buf, err, sizeof(err)), -1);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(pass_from_file(path, buf, err, sizeof(err)), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(pass_from_file(path, buf, err, sizeof(err)), -1);
	assert_int_equal(pass_from_file("/", buf, err, sizeof(err)), -1);
	/* No terminal here: the prompt refuses instead of hanging. */
	if (!isatty(STDIN_FILENO))
		assert_int_equal(
		    pass_prompt("pw: ", buf, err, sizeof(err)), -1);
}

static void
test_error_lines(void **state)
{
	struct rpl_error e;

	assert_int_equal(rpl_error("ERROR NOTFOUND no such file: a", &e), 0);
	assert_string_equal(e.code, "NOTFOUND");
	assert_string_equal(e.text, "no such file: a");
	assert_int_equal(rpl_error("ERROR TIMEOUT", &e), 0);
	assert_string_equal(e.code, "TIMEOUT");
	assert_string_equal(e.text, "");
	/* No recognisable code: the whole rest is the reason. */
	assert_int_equal(rpl_error("ERROR something odd", &e), 0);
	assert_string_equal(e.code, "?");
	assert_string_equal(e.text, "something odd");
	/* Escape sequences never reach the terminal. */
	assert_int_equal(rpl_error("ERROR IO bad \x1b[31m\x7f", &e), 0);
	assert_string_equal(e.text, "bad ?[31m?");
	assert_int_equal(rpl_error("OK fine", &e), -1);
	assert_int_equal(rpl_error("ERRORS x", &e), -1);
}

static void
test_error_exit_codes(void **state)
{
	assert_int_equal(rpl_error_exit("INTEGRITY"), EXITCODE_INTEGRITY);
	assert_int_equal(rpl_error_exit("NOTFOUND"), EXITCODE_REFUSED);
	assert_int_equal(rpl_error_exit("BADNAME"), EXITCODE_REFUSED);
	assert_int_equal(rpl_error_exit("BUSY"), EXITCODE_REFUSED);
	assert_int_equal(rpl_error_exit("LIMIT"), EXITCODE_REFUSED);
	assert_int_equal(rpl_error_exit("SHORT"), EXITCODE_FAIL);
	assert_int_equal(rpl_error_exit("TIMEOUT"), EXITCODE_FAIL);
	assert_int_equal(rpl_error_exit("IO"), EXITCODE_FAIL);
	/* Issue 4: login and TLS refusals have exit codes of their own. */
	assert_int_equal(rpl_error_exit("AUTH"), EXITCODE_LOGIN);
	assert_int_equal(rpl_error_exit("LOCKED"), EXITCODE_LOGIN);
	assert_int_equal(rpl_error_exit("TLS"), EXITCODE_TLS);
	assert_int_equal(rpl_error_exit("PERM"), EXITCODE_REFUSED);
	assert_int_equal(rpl_error_exit("QUOTA"), EXITCODE_REFUSED);
	assert_int_equal(rpl_error_fatal("SHUTDOWN"), 1);
	assert_int_equal(rpl_error_fatal("NOTFOUND"), 0);
}

static void
test_upload_reply(void **state)
{
	struct rpl_upload u;
	char err[256];

	assert_int_equal(rpl_upload("OK 5002 " TOK, &u, err, sizeof(err)), 0);
	assert_int_equal(u.port, 5002);
	assert_string_equal(u.token, TOK);
	/* A later optional parameter is tolerated. */
	assert_int_equal(
	    rpl_upload("OK 5002 " TOK " offset=0", &u, err, sizeof(err)), 0);
	assert_int_equal(rpl_upload("OK 0 " TOK, &u, err, sizeof(err)), -1);
	assert_int_equal(rpl_upload("OK 65536 " TOK, &u, err, sizeof(err)), -1);
	assert_int_equal(rpl_upload("OK -1 " TOK, &u, err, sizeof(err)), -1);
	assert_int_equal(rpl_upload("OK 05002 " TOK, &u, err, sizeof(err)), -1);
	assert_int_equal(rpl_upload("OK 5002", &u, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_upload("OK 5002 " TOK "0", &u, err, sizeof(err)), -1);
	assert_int_equal(rpl_upload("OK 5002 3F5A0C1E9B7D4A2C8E6F1B3D5A7C9E0F",
			     &u, err, sizeof(err)),
	    -1);
	assert_int_equal(
	    rpl_upload("OK 5002 " TOK " junk", &u, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_upload("DONE 5002 " TOK, &u, err, sizeof(err)), -1);
}

static void
test_host_param(void **state)
{
	struct rpl_download d;
	struct rpl_upload u;
	char err[256], line[FTX_LINE_MAX], longhost[FTX_HOST_MAX + 2];
	static const char *const bad[] = {
	    "host=", /* empty */
	    "host=evil%20host", /* a space, once decoded */
	    "host=a%1b[31mb", /* an escape sequence */
	    "host=a/b", /* a path */
	    "host=a;b", /* shell-ish */
	    "host=user@evil", /* not a host */
	    "host=[::1]", /* brackets are ours to add */
	    "host=a%2Cb", /* a comma */
	};
	size_t i;

	assert_int_equal(rpl_upload("OK 5002 " TOK " host=files.example.org",
			     &u, err, sizeof(err)),
	    0);
	assert_string_equal(u.host, "files.example.org");
	assert_int_equal(
	    rpl_upload("OK 5002 " TOK " host=::1", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(rpl_upload("OK 5002 " TOK, &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "");
	assert_int_equal(
	    rpl_download("OK 10 5003 " TOK " " SHA " host=192.0.2.7", &d, err,
		sizeof(err)),
	    0);
	assert_string_equal(d.host, "192.0.2.7");
	/* SECURITY: the host decides where our data connection goes and is
	 * printed: host-name characters only, for both transfer replies. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_not_equal(
		    str_fmt(line, sizeof(line), "OK 5002 %s %s", TOK, bad[i]),
		    -1);
		assert_int_equal(rpl_upload(line, &u, err, sizeof(err)), -1);
		assert_int_not_equal(
		    str_fmt(line, sizeof(line), "OK 10 5003 %s %s %s", TOK, SHA,
			bad[i]),
		    -1);
		assert_int_equal(rpl_download(line, &d, err, sizeof(err)), -1);
	}
	memset(longhost, 'a', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	assert_int_not_equal(
	    str_fmt(line, sizeof(line), "OK 5002 %s host=%s", TOK, longhost),
	    -1);
	assert_int_equal(rpl_upload(line, &u, err, sizeof(err)), -1);
	longhost[FTX_HOST_MAX] = '\0';
	assert_int_not_equal(
	    str_fmt(line, sizeof(line), "OK 5002 %s host=%s", TOK, longhost),
	    -1);
	assert_int_equal(rpl_upload(line, &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, longhost);
}

/* A control connection to nowhere: ctl's end of a socket pair, and our
 * end in *peer. */
static void
fake_session(struct ctl *c, int *peer)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ctl_init(c, "127.0.0.1", 5001);
	chan_init(&c->ch, sv[0]);
	*peer = sv[1];
}

static void
test_text_line_breaks(void **state)
{
	const char *args[1] = {"bob"};
	char err[256], buf[256];
	struct ctl c;
	ssize_t n;
	int peer;

	fake_session(&c, &peer);
	/* SECURITY: free text travels unencoded, so a CR or LF in it would
	 * end the line and let a second command follow. */
	assert_int_equal(ctl_send_text(&c, "SAY", NULL, 0,
			     "hi\nDELETE precious", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "line break"));
	assert_int_equal(ctl_send_text(&c, "MSG", args, 1,
			     "hi\rDELETE precious", err, sizeof(err)),
	    -1);
	assert_int_equal(
	    ctl_send_text(&c, "SAY", NULL, 0, "\n", err, sizeof(err)), -1);
	/* Nothing at all was sent. */
	n = recv(peer, buf, sizeof(buf), MSG_DONTWAIT);
	assert_int_equal(n, -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	/* The session is still usable, and ordinary text goes out as one
	 * line. */
	assert_int_equal(
	    ctl_send_text(&c, "MSG", args, 1, "hello there", err, sizeof(err)),
	    0);
	n = recv(peer, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "MSG bob hello there\n");
	ctl_drop(&c);
	close(peer);
}

/* What the LS callbacks below saw. */
struct seen {
	int n;
	char last[FTX_RPATH_MAX + 1];
	int stop_at; /* return -1 at this entry (1-based); 0: never */
};

static int
see_entry(void *arg, const struct rpl_entry *e)
{
	struct seen *sn = arg;

	sn->n++;
	(void)str_copy(sn->last, sizeof(sn->last), e->path);
	return sn->stop_at == sn->n ? -1 : 0;
}

/* Run ops_ls_stream against a server that already sent `reply`. */
static int
ls_against(
    const char *reply, struct seen *sn, int *dropped, char *err, size_t errlen)
{
	struct ctl c;
	int peer, rc;

	fake_session(&c, &peer);
	assert_int_equal(
	    write(peer, reply, strlen(reply)), (ssize_t)strlen(reply));
	/* Then the server falls silent for good: EOF, not a timeout. */
	assert_int_equal(shutdown(peer, SHUT_WR), 0);
	rc = ops_ls_stream(&c, "dir", 1, see_entry, sn, err, errlen);
	*dropped = c.ch.fd == -1;
	ctl_drop(&c);
	close(peer);
	return rc;
}

static void
test_ls_stream(void **state)
{
	struct seen sn;
	char err[256];
	int dropped;

	/* Entries as they come, a chat push between them ignored. */
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(ls_against("OK -\nENTRY d 0 1 - a\n"
				    "MSG 2026-01-01T00:00:00Z bob hi\n"
				    "ENTRY f 3 2 - a/b%20c\nDONE 2\n",
			     &sn, &dropped, err, sizeof(err)),
	    EXITCODE_OK);
	assert_int_equal(sn.n, 2);
	assert_string_equal(sn.last, "a/b c");
	assert_int_equal(dropped, 0);
	/* An empty directory. */
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(
	    ls_against("OK -\nDONE 0\n", &sn, &dropped, err, sizeof(err)),
	    EXITCODE_OK);
	assert_int_equal(sn.n, 0);
	/* DONE must count what was sent: fewer or more is a lie. */
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(ls_against("OK -\nENTRY f 1 2 - a\nDONE 2\n", &sn,
			     &dropped, err, sizeof(err)),
	    EXITCODE_FAIL);
	assert_non_null(strstr(err, "counts 2 entries, sent 1"));
	assert_int_equal(dropped, 1);
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(ls_against("OK -\nENTRY f 1 2 - a\nDONE 0\n", &sn,
			     &dropped, err, sizeof(err)),
	    EXITCODE_FAIL);
	assert_int_equal(ls_against("OK -\nENTRY f 1 2 - a\nDONE\n", &sn,
			     &dropped, err, sizeof(err)),
	    EXITCODE_FAIL);
	/* A hostile path stops everything before the callback sees it. */
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(ls_against("OK -\nENTRY f 1 2 - ..%2Fx\nDONE 1\n", &sn,
			     &dropped, err, sizeof(err)),
	    EXITCODE_FAIL);
	assert_int_equal(sn.n, 0);
	assert_int_equal(dropped, 1);
	assert_int_equal(ls_against("OK -\nENTRY f 1 2 - a%1B%5B2J\nDONE 1\n",
			     &sn, &dropped, err, sizeof(err)),
	    EXITCODE_FAIL);
	assert_int_equal(sn.n, 0);
	/* Refused up front, or ended by an ERROR instead of DONE. */
	assert_int_equal(ls_against("ERROR NOTDIR not a directory: dir\n", &sn,
			     &dropped, err, sizeof(err)),
	    EXITCODE_REFUSED);
	assert_non_null(strstr(err, "(NOTDIR)"));
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(ls_against("OK -\nENTRY f 1 2 - a\n"
				    "ERROR NOTFOUND gone\n",
			     &sn, &dropped, err, sizeof(err)),
	    EXITCODE_REFUSED);
	assert_int_equal(sn.n, 1);
	/* Not an LS reply: a count, a LIST line inside, an OK inside. */
	assert_int_equal(ls_against("OK 3\n", &sn, &dropped, err, sizeof(err)),
	    EXITCODE_FAIL);
	assert_int_equal(ls_against("OK -\nFILE 1 2 - a\nDONE 1\n", &sn,
			     &dropped, err, sizeof(err)),
	    EXITCODE_FAIL);
	assert_int_equal(
	    ls_against("OK -\nOK\nDONE 0\n", &sn, &dropped, err, sizeof(err)),
	    EXITCODE_FAIL);
	/* The callback may stop the listing: the session goes with it. */
	memset(&sn, 0, sizeof(sn));
	sn.stop_at = 1;
	assert_int_equal(ls_against("OK -\nENTRY f 1 2 - a\n"
				    "ENTRY f 1 2 - b\nDONE 2\n",
			     &sn, &dropped, err, sizeof(err)),
	    EXITCODE_FAIL);
	assert_int_equal(sn.n, 1);
	assert_int_equal(dropped, 1);
	/* A server that stops mid-listing. */
	assert_int_equal(ls_against("OK -\nENTRY f 1 2 - a\n", &sn, &dropped,
			     err, sizeof(err)),
	    EXITCODE_FAIL);
}

/* Run rglob_expand against a server that already sent `reply`. */
static int
glob_against(const char *reply, const char *pattern, enum rglob_want want,
    struct seen *sn, char *sent, size_t sentlen, char *err, size_t errlen)
{
	struct ctl c;
	ssize_t n;
	int peer, rc;

	fake_session(&c, &peer);
	assert_int_equal(
	    write(peer, reply, strlen(reply)), (ssize_t)strlen(reply));
	assert_int_equal(shutdown(peer, SHUT_WR), 0);
	rc = rglob_expand(&c, pattern, want, see_entry, sn, err, errlen);
	n = recv(peer, sent, sentlen - 1, MSG_DONTWAIT);
	sent[n > 0 ? n : 0] = '\0';
	ctl_drop(&c);
	close(peer);
	return rc;
}

static void
test_rglob(void **state)
{
	static const char reply[] = "OK -\nENTRY f 1 2 - a.gz\n"
				    "ENTRY f 1 2 - b.txt\n"
				    "ENTRY d 0 2 - c.gz\n"
				    "ENTRY f 1 2 - x[1].gz\nDONE 4\n";
	struct seen sn;
	char err[256], sent[256];

	assert_int_equal(rglob_is_pattern("logs/*.gz"), 1);
	assert_int_equal(rglob_is_pattern("a?"), 1);
	assert_int_equal(rglob_is_pattern("[ab]"), 1);
	assert_int_equal(rglob_is_pattern("logs/a.gz"), 0);
	assert_int_equal(rglob_check("logs/*.gz", err, sizeof(err)), 0);
	assert_int_equal(rglob_check("*.gz", err, sizeof(err)), 0);
	assert_int_equal(rglob_check("*/a.gz", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "last component"));
	assert_int_equal(rglob_check("a/b?/c", err, sizeof(err)), -1);
	assert_int_equal(rglob_check("../*", err, sizeof(err)), -1);
	assert_int_equal(rglob_check("/*", err, sizeof(err)), -1);
	assert_int_equal(rglob_check(".*", err, sizeof(err)), -1);
	/* Files only: the directory c.gz is left out; the listing is of
	 * the directory part, and matches are full paths. */
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(glob_against(reply, "logs/*.gz", RGLOB_FILES, &sn,
			     sent, sizeof(sent), err, sizeof(err)),
	    EXITCODE_OK);
	assert_string_equal(sent, "LS logs\n");
	assert_int_equal(sn.n, 2);
	assert_string_equal(sn.last, "logs/x[1].gz");
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(glob_against(reply, "*.gz", RGLOB_ANY, &sn, sent,
			     sizeof(sent), err, sizeof(err)),
	    EXITCODE_OK);
	assert_string_equal(sent, "LS .\n");
	assert_int_equal(sn.n, 3);
	/* '?' and a bracket expression. */
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(glob_against(reply, "?.txt", RGLOB_ANY, &sn, sent,
			     sizeof(sent), err, sizeof(err)),
	    EXITCODE_OK);
	assert_int_equal(sn.n, 1);
	assert_string_equal(sn.last, "b.txt");
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(glob_against(reply, "[ab].*", RGLOB_ANY, &sn, sent,
			     sizeof(sent), err, sizeof(err)),
	    EXITCODE_OK);
	assert_int_equal(sn.n, 2);
	/* A name with glob characters of its own matches itself. */
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(glob_against(reply, "x[1].gz", RGLOB_ANY, &sn, sent,
			     sizeof(sent), err, sizeof(err)),
	    EXITCODE_OK);
	assert_int_equal(sn.n, 1);
	assert_string_equal(sn.last, "x[1].gz");
	/* Nothing matches: an error that names the pattern. */
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(glob_against(reply, "*.zip", RGLOB_ANY, &sn, sent,
			     sizeof(sent), err, sizeof(err)),
	    EXITCODE_REFUSED);
	assert_string_equal(err, "no match: *.zip");
	assert_int_equal(sn.n, 0);
	/* A lying listing: no match is used at all. */
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(
	    glob_against("OK -\nENTRY f 1 2 - a.gz\nDONE 5\n", "*.gz",
		RGLOB_ANY, &sn, sent, sizeof(sent), err, sizeof(err)),
	    EXITCODE_FAIL);
	assert_int_equal(sn.n, 0);
}

static void
test_reply_line_limits(void **state)
{
	static char big[FTX_LINE_MAX + 1];
	char line[FTX_LINE_MAX], err[256];
	struct ctl c;
	int peer;

	/* An ordinary line, CR LF taken off. */
	fake_session(&c, &peer);
	assert_int_equal(write(peer, "OK fine\r\n", 9), 9);
	assert_int_equal(ctl_read(&c, line, 5, err, sizeof(err)), 0);
	assert_string_equal(line, "OK fine");
	/* SECURITY: a NUL would cut the line we check short; the line is
	 * refused and the session dropped. */
	assert_int_equal(write(peer, "OK 0\0junk\n", 10), 10);
	assert_int_equal(ctl_read(&c, line, 5, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(c.ch.fd, -1);
	close(peer);

	/* The longest line (FTX_LINE_MAX bytes with its LF) is read. */
	fake_session(&c, &peer);
	memset(big, 'x', sizeof(big));
	memcpy(big, "OK ", 3);
	big[FTX_LINE_MAX - 1] = '\n';
	assert_int_equal(write(peer, big, FTX_LINE_MAX), FTX_LINE_MAX);
	assert_int_equal(ctl_read(&c, line, 5, err, sizeof(err)), 0);
	assert_int_equal(strlen(line), FTX_LINE_MAX - 1);
	/* SECURITY: one byte more and no LF in sight: refused as soon as
	 * the buffer is full, without waiting for the rest. */
	big[FTX_LINE_MAX - 1] = 'x';
	assert_int_equal(write(peer, big, FTX_LINE_MAX), FTX_LINE_MAX);
	assert_int_equal(ctl_read(&c, line, 5, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	assert_int_equal(c.ch.fd, -1);
	close(peer);
}

static void
test_download_reply(void **state)
{
	struct rpl_download d;
	char err[256];

	assert_int_equal(
	    rpl_download("OK 12 5002 " TOK " " SHA, &d, err, sizeof(err)), 0);
	assert_int_equal(d.size, 12);
	assert_int_equal(d.port, 5002);
	assert_string_equal(d.token, TOK);
	assert_string_equal(d.sha256, SHA);
	assert_int_equal(
	    rpl_download("OK 0 1 " TOK " " SHA, &d, err, sizeof(err)), 0);
	/* Sizes must fit off_t. */
	assert_int_equal(rpl_download("OK 9223372036854775807 1 " TOK " " SHA,
			     &d, err, sizeof(err)),
	    0);
	assert_int_equal(rpl_download("OK 9223372036854775808 1 " TOK " " SHA,
			     &d, err, sizeof(err)),
	    -1);
	assert_int_equal(
	    rpl_download("OK +12 5002 " TOK " " SHA, &d, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_download("OK 12 5002 " TOK " -", &d, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_download("OK 12 5002 " TOK " " SHA "a", &d, err, sizeof(err)),
	    -1);
	assert_int_equal(
	    rpl_download("OK 12 5002 " TOK, &d, err, sizeof(err)), -1);
}

static void
test_file_lines(void **state)
{
	struct rpl_file f;
	char err[256];

	assert_int_equal(rpl_file("FILE 12 1763694000 " SHA " my%20notes.txt",
			     &f, err, sizeof(err)),
	    0);
	assert_int_equal(f.size, 12);
	assert_int_equal(f.mtime, 1763694000);
	assert_int_equal(f.has_sha, 1);
	assert_string_equal(f.sha256, SHA);
	assert_string_equal(f.name, "my notes.txt");
	assert_int_equal(rpl_file("FILE 4096 1763694100 - r\xc3\xa9sum\xc3\xa9",
			     &f, err, sizeof(err)),
	    0);
	assert_int_equal(f.has_sha, 0);
	assert_string_equal(f.name, "r\xc3\xa9sum\xc3\xa9");
	/* Hostile names: hidden, path, escape sequence, NUL, too long. */
	assert_int_equal(
	    rpl_file("FILE 1 2 - .hidden", &f, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_file("FILE 1 2 - ..%2Fx", &f, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_file("FILE 1 2 - a%2Fb", &f, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_file("FILE 1 2 - a%1B%5B31m", &f, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_file("FILE 1 2 - a%00b", &f, err, sizeof(err)), -1);
	assert_int_equal(rpl_file("FILE 1 2 - a\tb", &f, err, sizeof(err)), -1);
	{
		char line[400] = "FILE 1 2 - ";

		memset(line + strlen(line), 'n', 256);
		assert_int_equal(rpl_file(line, &f, err, sizeof(err)), -1);
	}
	/* Hostile numbers and hashes. */
	assert_int_equal(rpl_file("FILE x 2 - a", &f, err, sizeof(err)), -1);
	assert_int_equal(rpl_file("FILE 1 -2 - a", &f, err, sizeof(err)), -1);
	assert_int_equal(rpl_file("FILE 1 2 abc a", &f, err, sizeof(err)), -1);
	assert_int_equal(rpl_file("FILE 1 2 -", &f, err, sizeof(err)), -1);
	assert_int_equal(rpl_file("OK 1 2 - a", &f, err, sizeof(err)), -1);
	assert_int_equal(rpl_file("FILE 1 2 - a%4", &f, err, sizeof(err)), -1);
}

/* Append s to buf[n] (bounded; the tests size their buffers). */
static void
cat(char *buf, size_t n, const char *s)
{
	size_t len = strlen(buf);

	(void)str_copy(buf + len, n - len, s);
}

static void
test_entry_lines(void **state)
{
	struct rpl_entry e;
	char err[256], line[FTX_LINE_MAX + 64];
	uint64_t n;
	size_t i;

	assert_int_equal(rpl_entry("ENTRY f 12 1763694000 " SHA " a/my%20b.txt",
			     &e, err, sizeof(err)),
	    0);
	assert_int_equal(e.type, 'f');
	assert_int_equal(e.size, 12);
	assert_int_equal(e.mtime, 1763694000);
	assert_int_equal(e.has_sha, 1);
	assert_string_equal(e.sha256, SHA);
	assert_string_equal(e.path, "a/my b.txt");
	assert_int_equal(
	    rpl_entry("ENTRY d 0 5 - photos", &e, err, sizeof(err)), 0);
	assert_int_equal(e.type, 'd');
	assert_int_equal(e.has_sha, 0);
	/* A later version's key=value parameters are tolerated. */
	assert_int_equal(
	    rpl_entry("ENTRY f 1 2 - a mode=644", &e, err, sizeof(err)), 0);
	/* STAT's OK has the same fields. */
	assert_int_equal(rpl_stat("OK d 0 7 - a/b", &e, err, sizeof(err)), 0);
	assert_string_equal(e.path, "a/b");
	assert_int_equal(rpl_stat("ENTRY d 0 7 - a", &e, err, sizeof(err)), -1);
	/* Hostile paths: "..", absolute, empty components, dot names,
	 * control characters (raw and encoded), bidi, NUL, a decoded '/'
	 * that makes "..". */
	{
		static const char *const bad[] = {"..", "a/..", "../x",
		    "%2Fetc", "/etc", "a//b", "a/", "a/./b", ".hidden", "a/.x",
		    "a%1B%5B31m", "x%0Ay", "x%07", "a%00b", "%E2%80%AEx",
		    "..%2Fx", "a%2F..%2Fb", "a\\b", "%FF", "."};

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			(void)str_fmt(
			    line, sizeof(line), "ENTRY f 1 2 - %s", bad[i]);
			assert_int_equal(
			    rpl_entry(line, &e, err, sizeof(err)), -1);
			/* Refused by the path check, or by the line
			 * splitter for bytes no line may carry. */
			assert_true(
			    strstr(err, "bad file name from server") != NULL ||
			    strstr(err, "malformed") != NULL);
		}
	}
	/* Overlong: a component over FTX_NAME_MAX, a path over
	 * FTX_RPATH_MAX, more than FTX_RPATH_DEPTH_MAX components. */
	(void)str_copy(line, sizeof(line), "ENTRY f 1 2 - ");
	memset(line + strlen(line), 'n', FTX_NAME_MAX + 1);
	assert_int_equal(rpl_entry(line, &e, err, sizeof(err)), -1);
	(void)str_copy(line, sizeof(line), "ENTRY f 1 2 - ");
	for (i = 0; i < 5; i++)
		(void)cat(line, sizeof(line),
		    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
		    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
		    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
		    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn/");
	(void)cat(line, sizeof(line), "end");
	assert_int_equal(rpl_entry(line, &e, err, sizeof(err)), -1);
	(void)str_copy(line, sizeof(line), "ENTRY f 1 2 - a");
	for (i = 0; i < FTX_RPATH_DEPTH_MAX; i++)
		(void)cat(line, sizeof(line), "/a");
	assert_int_equal(rpl_entry(line, &e, err, sizeof(err)), -1);
	/* Hostile fields: type, numbers, digest, missing and extra. */
	assert_int_equal(
	    rpl_entry("ENTRY x 1 2 - a", &e, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_entry("ENTRY ff 1 2 - a", &e, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_entry("ENTRY f -1 2 - a", &e, err, sizeof(err)), -1);
	assert_int_equal(rpl_entry("ENTRY f 99999999999999999999 2 - a", &e,
			     err, sizeof(err)),
	    -1);
	assert_int_equal(
	    rpl_entry("ENTRY f 1 2x - a", &e, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_entry("ENTRY f 1 2 ABC a", &e, err, sizeof(err)), -1);
	assert_int_equal(rpl_entry("ENTRY f 1 2 -", &e, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_entry("ENTRY f 1 2 - a b", &e, err, sizeof(err)), -1);
	assert_int_equal(rpl_entry("FILE 1 2 - a", &e, err, sizeof(err)), -1);
	/* DONE <n>: a decimal count, nothing else. */
	assert_int_equal(rpl_done_count("DONE 3", &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(rpl_done_count("DONE", &n, err, sizeof(err)), -1);
	assert_int_equal(rpl_done_count("DONE -1", &n, err, sizeof(err)), -1);
	assert_int_equal(rpl_done_count("DONE 3x", &n, err, sizeof(err)), -1);
	assert_int_equal(rpl_done_count("DONE 1 2", &n, err, sizeof(err)), -1);
	assert_int_equal(rpl_done_count("DONE 99999999999999999999999", &n, err,
			     sizeof(err)),
	    -1);
	assert_int_equal(rpl_done_count("OK 3", &n, err, sizeof(err)), -1);
}

static void
test_hash_reply(void **state)
{
	struct rpl_hash h;
	char err[256];

	assert_int_equal(
	    rpl_hash("OK 12 " SHA " - my%20notes.txt", &h, err, sizeof(err)),
	    0);
	assert_int_equal(h.has_md5, 0);
	assert_string_equal(h.name, "my notes.txt");
	assert_int_equal(
	    rpl_hash("OK 12 " SHA " " MD5 " a", &h, err, sizeof(err)), 0);
	assert_int_equal(h.has_md5, 1);
	assert_string_equal(h.md5, MD5);
	assert_int_equal(
	    rpl_hash("OK 12 " SHA " " MD5 "0 a", &h, err, sizeof(err)), -1);
	assert_int_equal(rpl_hash("OK 12 - - a", &h, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_hash("OK 12 " SHA " - ", &h, err, sizeof(err)), -1);
}

static void
test_count_and_done(void **state)
{
	char sha[65], err[256];
	uint64_t n;

	assert_int_equal(rpl_count("OK 3", 100, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(rpl_count("OK 101", 100, &n, err, sizeof(err)), -1);
	assert_int_equal(rpl_count("OK", 100, &n, err, sizeof(err)), -1);
	assert_int_equal(
	    rpl_count("OK 99999999999999999999999", 100, &n, err, sizeof(err)),
	    -1);
	assert_int_equal(rpl_done_sha("DONE " SHA, sha, err, sizeof(err)), 0);
	assert_string_equal(sha, SHA);
	assert_int_equal(
	    rpl_done_sha("DONE " SHA "\r", sha, err, sizeof(err)), 0);
	assert_int_equal(rpl_done_sha("DONE", sha, err, sizeof(err)), -1);
	assert_int_equal(rpl_done_sha("OK " SHA, sha, err, sizeof(err)), -1);
	assert_int_equal(rpl_done_sha("DONE 1234", sha, err, sizeof(err)), -1);
}

static void
test_is_hex(void **state)
{
	assert_int_equal(rpl_is_hex("00ff", 4), 1);
	assert_int_equal(rpl_is_hex("00FF", 4), 0);
	assert_int_equal(rpl_is_hex("00f", 4), 0);
	assert_int_equal(rpl_is_hex("00ff0", 4), 0);
	assert_int_equal(rpl_is_hex("", 0), 1);
}

static void
test_backoff(void **state)
{
	/* 0.5 s, 1 s, 2 s, 4 s, 8 s, then the 10 s cap. */
	assert_int_equal(transfer_backoff_ms(1, 500), 500);
	assert_int_equal(transfer_backoff_ms(2, 500), 1000);
	assert_int_equal(transfer_backoff_ms(3, 500), 2000);
	assert_int_equal(transfer_backoff_ms(4, 500), 4000);
	assert_int_equal(transfer_backoff_ms(5, 500), 8000);
	assert_int_equal(transfer_backoff_ms(6, 500), FTX_RETRY_CAP_MS);
	/* Many retries never overflow past the cap. */
	assert_int_equal(transfer_backoff_ms(100, 500), FTX_RETRY_CAP_MS);
	assert_int_equal(
	    transfer_backoff_ms(FTX_RETRIES_MAX, 1), FTX_RETRY_CAP_MS);
	/* The test base (FTX_RETRY_BASE_MS=10) doubles the same way. */
	assert_int_equal(transfer_backoff_ms(1, 10), 10);
	assert_int_equal(transfer_backoff_ms(3, 10), 40);
	assert_int_equal(transfer_backoff_ms(2, 0), 0);
	/* A base above the cap is capped from the first retry on. */
	assert_int_equal(transfer_backoff_ms(1, 60000), FTX_RETRY_CAP_MS);
}

static void
test_transient_codes(void **state)
{
	static const char *const yes[] = {
	    "SHORT", "TIMEOUT", "SHUTDOWN", "BUSY", "LIMIT", "INTEGRITY"};
	static const char *const no[] = {"NOTFOUND", "BADNAME", "SYNTAX",
	    "UNKNOWN", "TOOBIG", "IO", "INTERNAL", "RANGE", "UNSUPPORTED",
	    "FLOOD", "?", "", "short", "SHORTER"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_int_equal(transfer_transient_code(yes[i]), 1);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_int_equal(transfer_transient_code(no[i]), 0);
}

static void
test_part_name(void **state)
{
	char out[TRANSFER_PART_MAX], other[TRANSFER_PART_MAX];
	char longname[FTX_NAME_MAX + 1];

	/* SHA-256("a") = ca978112ca1bbdcafac231b39a23dc4d a786eff8... */
	assert_int_equal(transfer_part_name(out, sizeof(out), "a"), 0);
	assert_string_equal(out, ".ftx-part-ca978112ca1bbdcafac231b39a23dc4d");
	/* Deterministic, and different names get different partials. */
	assert_int_equal(transfer_part_name(other, sizeof(other), "a"), 0);
	assert_string_equal(out, other);
	assert_int_equal(transfer_part_name(other, sizeof(other), "b"), 0);
	assert_string_not_equal(out, other);
	/* A name of the maximum length still gives a short, fixed name. */
	memset(longname, 'x', FTX_NAME_MAX);
	longname[FTX_NAME_MAX] = '\0';
	assert_int_equal(transfer_part_name(out, sizeof(out), longname), 0);
	assert_int_equal(strlen(out), 10 + 32);
	/* Too small a buffer is refused, not truncated. */
	assert_int_equal(transfer_part_name(out, 20, "a"), -1);
}

/* The line a signal (or running out of retries) prints. */
static void
test_left_text(void **state)
{
	char out[256];

	(void)state;
	transfer_left_text(out, sizeof(out), "interrupted",
	    TRANSFER_LEFT_RESUME, 203ULL << 20, 300ULL << 20);
	assert_string_equal(out,
	    "interrupted at 67% (203.0 MiB of 300.0 MiB); run the same "
	    "command again to resume");
	/* Rounded as progress_bytes rounds: 3000000 B is 2.9 MiB. */
	transfer_left_text(
	    out, sizeof(out), "gave up", TRANSFER_LEFT_STDOUT, 512, 3000000);
	assert_string_equal(
	    out, "gave up at 0% (512 B of 2.9 MiB); the output is incomplete");
	/* Never 100% before the end; 1023.96 KiB is 1.0 MiB. */
	transfer_left_text(
	    out, sizeof(out), "x", TRANSFER_LEFT_NOTHING, 1048575, 1048576);
	assert_string_equal(
	    out, "x at 99% (1.0 MiB of 1.0 MiB); nothing was kept");
	transfer_left_text(out, sizeof(out), "interrupted", TRANSFER_LEFT_STDIN,
	    1536, UINT64_MAX);
	assert_string_equal(out,
	    "interrupted after 1.5 KiB; standard input cannot be read "
	    "again: nothing was stored, run the whole pipeline again");
	/* The largest counts do not overflow. */
	transfer_left_text(out, sizeof(out), "x", TRANSFER_LEFT_RESUME,
	    UINT64_MAX - 1, UINT64_MAX - 1);
	assert_non_null(strstr(out, "16.0 EiB of 16.0 EiB"));
	/* A small buffer is cut, never overrun. */
	transfer_left_text(out, 8, "interrupted", TRANSFER_LEFT_RESUME, 1, 2);
	assert_string_equal(out, "interru");
	transfer_left_text(out, 1, "interrupted", TRANSFER_LEFT_RESUME, 1, 2);
	assert_string_equal(out, "");
}

static void
test_info_lines(void **state)
{
	char line[TRANSFER_INFO_MAX], sha[65], longname[FTX_NAME_MAX + 1];
	uint64_t size = 0;

	assert_int_equal(
	    transfer_info_format(line, sizeof(line), SHA, 12, "my notes%.txt"),
	    0);
	assert_string_equal(line, "v1 " SHA " 12 my%20notes%25.txt\n");
	assert_int_equal(
	    transfer_info_parse(line, "my notes%.txt", sha, &size), 0);
	assert_string_equal(sha, SHA);
	assert_int_equal(size, 12);
	/* Another name (a hash collision of partial names) is not ours. */
	assert_int_equal(
	    transfer_info_parse(line, "my notes.txt", sha, &size), -1);
	/* Damaged or foreign lines are refused. */
	assert_int_equal(
	    transfer_info_parse("v1 " SHA " 12 a", "a", sha, &size),
	    -1); /* no newline: a torn write */
	assert_int_equal(
	    transfer_info_parse("v1 " SHA " 12 a\nx", "a", sha, &size), -1);
	assert_int_equal(
	    transfer_info_parse("v2 " SHA " 12 a\n", "a", sha, &size), -1);
	assert_int_equal(
	    transfer_info_parse("v1 " SHA " 012 a\n", "a", sha, &size), -1);
	assert_int_equal(
	    transfer_info_parse("v1 " SHA " -1 a\n", "a", sha, &size), -1);
	assert_int_equal(
	    transfer_info_parse("v1 " SHA "  12 a\n", "a", sha, &size), -1);
	assert_int_equal(transfer_info_parse("v1 " SHA " 9223372036854775808 "
					     "a\n",
			     "a", sha, &size),
	    -1);
	assert_int_equal(
	    transfer_info_parse("v1 A948904F2F0F479B8F8197694B30184B0D2ED1C1CD"
				"2A1EC0FB85D299A192A447 12 a\n",
		"a", sha, &size),
	    -1);
	assert_int_equal(
	    transfer_info_parse("v1 abc 12 a\n", "a", sha, &size), -1);
	assert_int_equal(transfer_info_parse("", "a", sha, &size), -1);
	/* The largest size a local file can have still parses. */
	assert_int_equal(transfer_info_parse("v1 " SHA " 9223372036854775807 "
					     "a\n",
			     "a", sha, &size),
	    0);
	assert_true(size == 9223372036854775807ULL);
	/* A bad hash cannot be written either. */
	assert_int_equal(
	    transfer_info_format(line, sizeof(line), "xyz", 1, "a"), -1);
	/* The longest name, fully encoded, fits TRANSFER_INFO_MAX. */
	memset(longname, ' ', FTX_NAME_MAX);
	longname[FTX_NAME_MAX] = '\0';
	assert_int_equal(transfer_info_format(line, sizeof(line), SHA,
			     9223372036854775807ULL, longname),
	    0);
	assert_int_equal(transfer_info_parse(line, longname, sha, &size), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_greeting),
	    cmocka_unit_test(test_greeting_caps),
	    cmocka_unit_test(test_login_reply),
	    cmocka_unit_test(test_whoami_reply),
	    cmocka_unit_test(test_user_names),
	    cmocka_unit_test(test_password_sources),
	    cmocka_unit_test(test_error_lines),
	    cmocka_unit_test(test_error_exit_codes),
	    cmocka_unit_test(test_upload_reply),
	    cmocka_unit_test(test_download_reply),
	    cmocka_unit_test(test_file_lines),
	    cmocka_unit_test(test_entry_lines),
	    cmocka_unit_test(test_hash_reply),
	    cmocka_unit_test(test_count_and_done),
	    cmocka_unit_test(test_is_hex),
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_transient_codes),
	    cmocka_unit_test(test_part_name),
	    cmocka_unit_test(test_info_lines),
	    cmocka_unit_test(test_left_text),
	    cmocka_unit_test(test_host_param),
	    cmocka_unit_test(test_text_line_breaks),
	    cmocka_unit_test(test_reply_line_limits),
	    cmocka_unit_test(test_ls_stream),
	    cmocka_unit_test(test_rglob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

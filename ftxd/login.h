/*
 * login.h - LOGIN: accounts and anonymous access.
 *
 * The command layer's handler for LOGIN and the timer that answers
 * failed logins.  Password checks run on workers, a few at a time
 * (FTX_AUTH_CONCURRENT), behind the address and account lockouts of
 * auth.c; a failed login is answered only after FTX_LOGIN_FAIL_DELAY_MS.
 */
#ifndef FTXD_LOGIN_H
#define FTXD_LOGIN_H

struct ctx;
struct proto_cmd;
struct session;

/* LOGIN <user> [password] (cmd.c's table has passed it). */
void login_cmd(struct session *s, struct proto_cmd *c);
/* Answer the failed logins whose delay is over. */
void login_tick(struct ctx *srv, long long now);

#endif /* FTXD_LOGIN_H */

#!/bin/bash
# The users file decides whether accounts are on (issue 11, item 2):
#  - only "does not exist" (ENOENT) means "no accounts"; a users file
#    that cannot be looked at (ENOTDIR, ELOOP, EACCES after --user...)
#    stops the start with a message naming the file and the error;
#  - an explicitly given --users FILE must exist: exit 2;
#  - at runtime (SIGHUP, LOGIN, the periodic look), a users file that
#    cannot be looked at turns accounts on (fail closed): LOGIN is refused,
#    sessions that had not logged in lose access, it is logged, and the
#    server never opens; once the file is back, logins work again.
. "$(dirname "$0")/lib.sh"

PW_A='alice-pw-7731'
mkdir -p "$TMPD/ud"
USERS=$TMPD/ud/users
if ! printf '%s\n' "$PW_A" | "$FTXD" user add alice --users "$USERS" >"$TMPD/useradd.out" 2>&1; then
	fail "ftxd user add alice: $(cat "$TMPD/useradd.out")"
	exit 1
fi

# start_fails DESC WANT_RC WANT_RE ARGS...: ftxd must exit WANT_RC at once,
# its stderr matching WANT_RE.
start_fails() {
	local desc=$1 want=$2 re=$3 rc
	shift 3
	timeout -k 2 10 "$FTXD" $ALLOW_ROOT --bind 127.0.0.1 --port 0 --data-port 0 "$@" \
	    >"$TMPD/start.out" 2>&1
	rc=$?
	if [ "$rc" = "$want" ] && grep -Eq -- "$re" "$TMPD/start.out"; then
		pass "$desc"
	else
		fail "$desc: exit $rc (want $want): $(cat "$TMPD/start.out")"
	fi
}

# ---------------------------------------------------------------- start-up

mkdir -p "$TMPD/r1"
start_fails "an explicit --users that does not exist: exit 2, naming the file" 2 \
    "--users $TMPD/nope\\.users: No such file or directory" --root "$TMPD/r1" --users "$TMPD/nope.users"
touch "$TMPD/plainfile"
start_fails "an explicit --users under a non-directory (ENOTDIR): exit 2, naming the file and the error" 2 \
    "--users $TMPD/plainfile/users: Not a directory" --root "$TMPD/r1" --users "$TMPD/plainfile/users"
# The default users file (ROOT/../ftxd.users) as a symbolic link loop:
# stat() fails with ELOOP, which is not "no accounts".
mkdir -p "$TMPD/b2/root"
ln -s ftxd.users "$TMPD/b2/ftxd.users"
start_fails "a default users file that cannot be looked at (ELOOP) stops the start, naming file and error" 1 \
    "users file $TMPD/b2/ftxd\\.users cannot be looked at: Too many levels of symbolic links" --root "$TMPD/b2/root"
if grep -q 'listening' "$TMPD/start.out"; then fail "... yet it reported listening"; fi
# Control: a default users file that does not exist means no accounts.
mkdir -p "$TMPD/b3/root"
ROOT=$TMPD/b3/root
start_server
if log_has 'listening .*accounts=off'; then pass "control: no users file (ENOENT): accounts=off"; else fail "control: not accounts=off"; fi
stop_server

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	# The users file in a directory only root may enter: root sees it,
	# nobody (after --user) cannot stat it (EACCES).
	chmod 711 "$TMPD"
	mkdir -p "$TMPD/b4/root" "$TMPD/b4/private"
	chown nobody "$TMPD/b4/root"
	cp "$USERS" "$TMPD/b4/private/users"
	chmod 700 "$TMPD/b4/private"
	start_fails "--users in a 0700 directory with --user nobody (EACCES): refuses to start" 1 \
	    "users file $TMPD/b4/private/users cannot be looked at after dropping to --user: Permission denied" \
	    --root "$TMPD/b4/root" --user nobody --users "$TMPD/b4/private/users"
	if grep -q 'accounts=off' "$TMPD/start.out"; then fail "... yet it served with accounts=off"; fi
	# Control: the same file readable by nobody serves with accounts.
	chmod 755 "$TMPD/b4/private"
	chown nobody "$TMPD/b4/private/users"
	ROOT=$TMPD/b4/root
	start_server --user nobody --users "$TMPD/b4/private/users"
	if log_has 'listening .*accounts=on'; then pass "control: readable by nobody: accounts=on"; else fail "control: not accounts=on"; fi
	stop_server
else
	echo "SKIP (part): not root or no user nobody: the 0700 directory with --user is not tested"
fi

# ---------------------------------------------------------------- runtime, accounts on

mkdir -p "$TMPD/r5"
ROOT=$TMPD/r5
start_server --users "$USERS" --allow-plaintext-login
# A session logged in before the trouble, and one that waits for it.
raw_bg "$TMPD/s1.out" -t 10 -w 60 ctl "line:LOGIN alice $PW_A" 'ok:^OK alice logged in$' \
    waitfile:"$TMPD/go1" line:LIST 'ok:^OK ' line:QUIT
S1_PID=$BG_PID
wait_for 5 grep -q 'OK alice logged in' "$TMPD/s1.out"
# Make the file unreachable: its directory becomes a symbolic link loop.
mv "$TMPD/ud" "$TMPD/ud.real"
ln -s ud "$TMPD/ud"
kill -HUP "$SERVER_PID"
if wait_for 5 log_has "users file $USERS cannot be looked at: Too many levels of symbolic links; logins refused"; then
	pass "SIGHUP: the users file that cannot be looked at is logged"
else
	fail "SIGHUP: no 'cannot be looked at' line in the log"
fi
raw "while the users file cannot be looked at, LOGIN with the right password is refused and nothing opens" \
    ctl line:LIST 'ok:^ERROR AUTH login required$' \
    "line:LOGIN alice $PW_A" 'ok:^ERROR INTERNAL login failed on the server: see its log$' \
    line:LIST 'ok:^ERROR AUTH login required$'
touch "$TMPD/go1"
wait_pid "$S1_PID" 10
assert_match '< OK ' "$(grep -A1 '> LIST' "$TMPD/s1.out")" "a session logged in before keeps working"
assert_eq 1 "$(grep -c 'cannot be looked at: Too many' "$LOG")" "the error is logged once, not at every look"
# Repaired: logins work again (the periodic look notices within a second).
rm "$TMPD/ud"
mv "$TMPD/ud.real" "$TMPD/ud"
if wait_for 5 log_has "users file $USERS can be looked at again"; then pass "the repair is logged"; else fail "no 'can be looked at again' in the log"; fi
raw "after the repair LOGIN works again" ctl "line:LOGIN alice $PW_A" 'ok:^OK alice logged in$' line:LIST 'ok:^OK '
stop_server

# ---------------------------------------------------------------- runtime, accounts off

# No users file at the start (accounts off); then the default users file
# becomes a path that cannot be looked at.  The server must not stay open.
mkdir -p "$TMPD/b6/root"
ROOT=$TMPD/b6/root
start_server --allow-plaintext-login
raw_bg "$TMPD/s0.out" -t 10 -w 60 ctl line:LIST 'ok:^OK ' waitfile:"$TMPD/go0" \
    line:LIST 'ok:^ERROR AUTH login required$' line:QUIT
S0_PID=$BG_PID
wait_for 5 grep -q '^< OK ' "$TMPD/s0.out"
ln -s ftxd.users "$TMPD/b6/ftxd.users"
# No connection, LOGIN or signal: the periodic look must notice.
if wait_for 5 log_has "accounts on: users file $TMPD/b6/ftxd.users cannot be looked at"; then
	pass "accounts off, then the users file cannot be looked at: accounts go on (logged)"
else
	fail "no 'accounts on: ... cannot be looked at' in the log"
fi
touch "$TMPD/go0"
wait_pid "$S0_PID" 10
if grep -A1 '> LIST' "$TMPD/s0.out" | tail -n 1 | grep -q 'ERROR AUTH login required'; then
	pass "a session that relied on accounts being off loses access"
else
	fail "the open session still has access: $(cat "$TMPD/s0.out")"
fi
raw "a new session must log in, and LOGIN is refused" ctl 'ok:^OK FTX/1 .*login' \
    line:LIST 'ok:^ERROR AUTH login required$' \
    "line:LOGIN alice $PW_A" 'ok:^ERROR INTERNAL login failed on the server: see its log$'
stop_server

finish

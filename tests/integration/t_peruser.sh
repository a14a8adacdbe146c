#!/bin/bash
# What one user of a server with accounts sees and may use (issue 11,
# items 9 and 12):
#  - STATS shows a user (anonymous included) only their own account:
#    uptime, their sessions and transfers, their bytes; never the
#    server's totals (other users' sessions, refusals, ...).  The
#    counters outlive the user's sessions, so `ftx stats` (a connection
#    of its own) sees earlier transfers.  Without accounts STATS stays
#    server-wide (t_daemon.sh).
#  - Full-file hash computations are capped per user: a user hashing from
#    several addresses gets ERROR BUSY past the cap; another user is
#    served meanwhile.
. "$(dirname "$0")/lib.sh"

need_ftxtls
isolate_client

gen_cert
USERS=$TMPD/users
PW_A='alice-pw-3391'
PW_B='bob-pw-7120'
add_user alice "$PW_A"
add_user bob "$PW_B"

ROOT=$TMPD/root
mkdir -p "$ROOT"
start_server "${TLS[@]}" --users "$USERS" --login-max-fails 1000 --anonymous read-only

# as USER PASSWORD ARGS...: the real client as that user.
as() {
	local user=$1 pw=$2
	shift 2
	env FTX_PASSWORD="$pw" "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" --pin "$FP" --user "$user" "$@"
}

# ---------------------------------------------------------------- STATS
mkrand "$TMPD/a.bin" 70000
mkrand "$TMPD/b.bin" 30000
assert_exit 0 "alice uploads 70000 bytes" as alice "$PW_A" put "$TMPD/a.bin"
assert_exit 0 "bob uploads 30000 bytes" as bob "$PW_B" put "$TMPD/b.bin"
assert_exit 0 "bob downloads them again" as bob "$PW_B" get b.bin -o "$TMPD/dl"
# Another session stays open while alice asks.
raw_bg "$TMPD/bob-idle.out" -w 20 ctl "touch:$TMPD/bob-idle" "waitfile:$TMPD/bob-go"
wait_for 5 test -e "$TMPD/bob-idle"

assert_exit 0 "ftx stats --raw as alice" as alice "$PW_A" stats --raw
cp "$OUT" "$TMPD/alice.stats"
sv() {
	sed -n "s/^$1=//p" "$TMPD/alice.stats"
}
assert_eq 1 "$(sv per_user)" "alice's STATS says per_user=1"
assert_eq 1 "$(sv sessions)" "alice's STATS counts her own session only"
assert_eq 1 "$(sv xfers_ok)" "alice's STATS: her one transfer"
assert_eq 70000 "$(sv bytes_in)" "alice's STATS: her bytes in only"
assert_eq 0 "$(sv bytes_out)" "alice's STATS: no bytes out (bob's download is not hers)"
assert_match '^[0-9]+$' "$(sv uptime)" "alice's STATS has the uptime"
for k in sessions_total chat refused rejected errors; do
	assert_eq "" "$(sv "$k")" "alice's STATS has no server-wide $k"
done
assert_exit 0 "ftx stats as bob (readable)" as bob "$PW_B" stats
assert_match 'your account only' "$(cat "$OUT")" "ftx stats says the figures are the account's"
assert_match 'transfers +0 running, 0 waiting, 2 done, 0 failed' "$(cat "$OUT")" "bob's transfers"
if grep -q 'refusals\|chat members' "$OUT"; then
	fail "ftx stats shows server-wide lines to a user: $(cat "$OUT")"
else
	pass "ftx stats shows no server-wide lines to a user"
fi
tlsc "anonymous sees the anonymous account's figures only" ctl starttls line:LOGIN\ anonymous \
    'ok:^OK anonymous logged in read-only$' line:STATS \
    'ok:^OK per_user=1 uptime=[0-9]+ sessions=1 xfers_running=0 xfers_pending=0 xfers_ok=0 xfers_failed=0 bytes_in=0 bytes_out=0$'
touch "$TMPD/bob-go"
# The operator still has the whole picture: SIGUSR1 writes it to the log.
kill -USR1 "$SERVER_PID"
if wait_for 5 log_has ' stats uptime=[0-9]+ .*xfers_ok=3 .*bytes_in=100000 bytes_out=30000 '; then
	pass "SIGUSR1 still logs the server-wide figures"
else
	fail "no server-wide stats line in the log"
fi

# ---------------------------------------------------------------- hash cap per user
# Sparse files (nothing on disk, about half a second of hashing each)
# that alice asks for from four addresses at once: two hash, the other
# two get ERROR BUSY at once although each address has slots free.
for f in s0 s1 s2 s3; do
	truncate -s 256M "$ROOT/.users/alice/$f.bin"
done
truncate -s 1M "$ROOT/.users/bob/mine.bin"
steps=()
for i in 0 1 2 3; do
	steps+=("ctl@127.0.0.$((i + 2))" starttls "login:alice:$PW_A" 'ok:^OK alice logged in$')
done
for i in 0 1 2 3; do
	steps+=("use:$i" "send:HASH s$i.bin md5")
done
# Meanwhile bob, from one of alice's addresses, hashes a file of his own.
steps+=(ctl@127.0.0.2 starttls "login:bob:$PW_B" 'ok:^OK bob logged in$' \
    'line:HASH mine.bin md5' 'ok:^OK 1048576 [0-9a-f]{64} [0-9a-f]{32} mine\.bin$')
for i in 0 1 2 3; do
	steps+=("use:$i" read:30)
done
tlsc "alice hashes from four addresses at once; bob is served meanwhile" -w 90 "${steps[@]}"
busy=$(grep -c '^< ERROR BUSY too many hash computations running' "$TLS_OUT")
oks=$(grep -c '^< OK 268435456 [0-9a-f]\{64\} [0-9a-f]\{32\} s[0-3]\.bin$' "$TLS_OUT")
assert_eq 4 "$((busy + oks))" "each of alice's four requests got OK or ERROR BUSY"
if [ "$oks" -le 2 ] && [ "$busy" -ge 2 ]; then
	pass "one user gets at most 2 hash computations at once, from any address ($oks OK, $busy BUSY)"
else
	fail "alice's parallel hashes: $oks OK, $busy BUSY (want at most 2 OK)"
fi
assert_alive "per-user hash bursts"
finish

#!/bin/bash
# Hold up under attack (issue 11, item 1): stalled uploads and downloads
# that are never read fill every transfer cap from several addresses,
# and still
#  - a legitimate client on another address gets LIST and HASH answers
#    within 1 s (control work has its own threads: --workers 2 here, far
#    fewer than the stalled transfers) and completes a verified upload
#    and download;
#  - past --max-transfers-per-ip, --max-transfers-per-user and
#    --max-transfers a client gets ERROR BUSY at once, not a hang;
#  - every stalled transfer ends with ERROR TIMEOUT once it has moved
#    less than --min-rate over --min-rate-window, and a stalled upload's
#    partial is kept for a resume;
#  - --min-rate 0 turns the rate check off (only --data-timeout cuts).
. "$(dirname "$0")/lib.sh"

MiB=$((1024 * 1024))
ROOT=$TMPD/root
mkdir -p "$ROOT"
# Downloads that are never read stall once the socket buffers are full
# (a few MiB); 24 MiB is more than those hold.
mkrand "$ROOT/big" $((24 * MiB))
mkrand "$ROOT/small" 100000
mkrand "$TMPD/legit" $((3 * MiB))
WINDOW=3
start_server --workers 2 --max-transfers 9 --max-transfers-per-ip 3 \
    --min-rate 64K --min-rate-window $WINDOW --data-timeout 120

# stats_has REGEX: the STATS reply (accounts are off: server-wide).
stats_has() {
	"$FTXRAW" -h 127.0.0.1 -p "$CTRL_PORT" -w 5 ctl line:STATS "has:$1" \
	    >/dev/null 2>&1
}

# An upload that sends one byte and then nothing.
stall_up() { # SRC NAME OUT
	raw_bg "$3" -w 60 "ctl@$1" "line:UPLOAD $2 1000000" 'ok:^OK ' \
	    "data@$1" 'draw:x' 'read:30' 'ok:^ERROR TIMEOUT '
	ATTACKERS+=("$BG_PID")
	OUTS+=("$3")
}

# A download whose data connection is never read.
stall_down() { # SRC OUT
	raw_bg "$2" -w 60 "ctl@$1" 'line:DOWNLOAD big' 'ok:^OK ' \
	    "data@$1" 'read:30' 'ok:^ERROR TIMEOUT '
	ATTACKERS+=("$BG_PID")
	OUTS+=("$2")
}

# The hash is computed once (and cached) before the attackers ask for
# the file: hash computations have a cap of their own per address.
assert_exit 0 "hash of the big file (cached from now on)" ftx hash big
ATTACKERS=()
OUTS=()
for i in 1 2 3; do
	stall_up 127.0.0.21 "slow$i" "$TMPD/up21.$i.out"
	stall_down 127.0.0.22 "$TMPD/down22.$i.out"
done
stall_up 127.0.0.23 slow4 "$TMPD/up23.1.out"
stall_down 127.0.0.23 "$TMPD/down23.1.out"
if wait_for 10 stats_has 'xfers_running=8 '; then
	pass "8 stalled transfers running from 127.0.0.21-23"
else
	fail "the stalled transfers did not all start"
fi

# ---------------------------------------------------------------- caps

t0=$(date +%s%N)
raw "4th transfer from 127.0.0.21: ERROR BUSY (per address)" \
    ctl@127.0.0.21 'line:UPLOAD extra 1000' 'ok:^ERROR BUSY .*your address'
raw "4th download from 127.0.0.22: ERROR BUSY (per address)" \
    ctl@127.0.0.22 'line:DOWNLOAD small' 'ok:^ERROR BUSY .*your address'
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$ms" -lt 2000 ]; then
	pass "refusals came at once (${ms} ms for two)"
else
	fail "refusals took ${ms} ms"
fi

# ---------------------------------------------------------------- the legitimate user

# timed DESC CMD...: CMD succeeds within 1 s.
timed() {
	local desc=$1 t0 ms
	shift
	t0=$(date +%s%N)
	assert_exit 0 "$desc" "$@"
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$ms" -lt 1000 ]; then
		pass "$desc answered in ${ms} ms"
	else
		fail "$desc took ${ms} ms under attack"
	fi
}
timed "legitimate ls" ftx ls
grep -q 'small' "$OUT" && pass "ls lists the files" || fail "ls output: $(cat "$OUT")"
timed "legitimate hash" ftx hash small
assert_eq "$(sha256_of "$ROOT/small")" "$(cut -c1-64 "$OUT")" "hash is right"
timed "LIST from a raw client on 127.0.0.5" \
    "$FTXRAW" -h 127.0.0.1 -p "$CTRL_PORT" -w 5 ctl@127.0.0.5 line:LIST 'has:small'
# One slot is left (8 of 9): the legitimate upload takes it.
assert_exit 0 "legitimate upload under attack" ftx put "$TMPD/legit"
assert_file_same "$TMPD/legit" "$ROOT/legit" "the upload arrived intact"

# Fill the last slot, then a new address meets the global cap.
stall_up 127.0.0.24 slow5 "$TMPD/up24.1.out"
if wait_for 10 stats_has 'xfers_running=9 '; then
	pass "9 transfers running (the global cap)"
else
	fail "the 9th stalled transfer did not start"
fi
raw "a 5th address meets the global cap: ERROR BUSY" \
    ctl@127.0.0.25 'line:UPLOAD extra 1000' 'ok:^ERROR BUSY .*server has 9'
timed "ls still answers with every transfer slot taken" ftx ls

# ---------------------------------------------------------------- min-rate

# Every stalled transfer is cut within a window (+ the 1 s check and
# slack for a loaded machine).
t0=$(date +%s)
for i in "${!ATTACKERS[@]}"; do
	wait_pid "${ATTACKERS[$i]}" $((WINDOW + 20))
	if [ "$WAIT_RC" -eq 0 ]; then
		pass "stalled transfer $i ended with ERROR TIMEOUT"
	else
		fail "stalled transfer $i (rc $WAIT_RC): $(tail -n 5 "${OUTS[$i]}")"
	fi
done
echo "all stalled transfers cut within $(($(date +%s) - t0)) s"
if log_has 'result=TIMEOUT' && grep -q 'too slow' "${OUTS[0]}"; then
	pass "the log and the client say the transfer was too slow"
else
	fail "no 'too slow' TIMEOUT: $(tail -n 3 "${OUTS[0]}")"
fi
if wait_for 5 stats_has 'xfers_running=0 '; then
	pass "no transfer left running"
else
	fail "transfers still running after the attack"
fi
# A stalled upload is resumable: its byte is kept.
raw "the stalled upload's partial is kept (PARTIAL says 1)" \
    ctl@127.0.0.21 'send:PARTIAL slow1 1000000' read 'ok:^OK 1$'
# And the legitimate user is served normally afterwards.
assert_exit 0 "download after the attack" ftx get legit -o "$TMPD/dl"
assert_file_same "$TMPD/legit" "$TMPD/dl/legit" "download verified"
assert_alive "after the attack"
stop_server

# ---------------------------------------------------------------- per user

USERS=$TMPD/users
add_user mallory mallory-pw-1
add_user alice alice-pw-1
mkdir -p "$ROOT/.users/mallory"
mkrand "$ROOT/.users/mallory/big" $((24 * MiB))
start_server --users "$USERS" --allow-plaintext-login --max-transfers 20 \
    --max-transfers-per-ip 10 --max-transfers-per-user 2 --min-rate 64K \
    --min-rate-window $WINDOW
ATTACKERS=()
OUTS=()
raw_bg "$TMPD/m1.out" -w 60 ctl@127.0.0.31 'line:LOGIN mallory mallory-pw-1' \
    'ok:^OK' 'line:UPLOAD m1 1000000' 'ok:^OK ' "touch:$TMPD/m1.ok" \
    data@127.0.0.31 'draw:x' \
    'read:30' 'ok:^ERROR TIMEOUT '
ATTACKERS+=("$BG_PID")
raw_bg "$TMPD/m2.out" -w 60 ctl@127.0.0.32 'line:LOGIN mallory mallory-pw-1' \
    'ok:^OK' 'line:DOWNLOAD big' 'ok:^OK ' "touch:$TMPD/m2.ok" \
    data@127.0.0.32 'read:30' \
    'ok:^ERROR TIMEOUT '
ATTACKERS+=("$BG_PID")
wait_for 20 eval '[ -f "$TMPD/m1.ok" ] && [ -f "$TMPD/m2.ok" ]' ||
	fail "mallory's two transfers were not offered tokens"
raw "mallory's 3rd transfer from a 3rd address: ERROR BUSY (per user)" \
    ctl@127.0.0.33 'line:LOGIN mallory mallory-pw-1' 'ok:^OK' \
    'line:UPLOAD m3 1000' 'ok:^ERROR BUSY .*user mallory'
printf 'alice-pw-1\n' >"$TMPD/alice.pw"
chmod 600 "$TMPD/alice.pw"
# A password over plaintext needs the client's explicit opt-in.
assert_exit 0 "alice uploads meanwhile" ftx --user alice \
    --password-file "$TMPD/alice.pw" --allow-plaintext-password put "$TMPD/legit"
assert_file_same "$TMPD/legit" "$ROOT/.users/alice/legit" "alice's upload arrived intact"
for pid in "${ATTACKERS[@]}"; do
	wait_pid "$pid" $((WINDOW + 20))
	assert_eq 0 "$WAIT_RC" "mallory's stalled transfer ended with ERROR TIMEOUT"
done
stop_server

# ---------------------------------------------------------------- --min-rate 0

start_server --min-rate 0 --data-timeout 3
raw_bg "$TMPD/off.out" -w 30 ctl@127.0.0.41 'line:UPLOAD slow9 1000000' \
    'ok:^OK ' data@127.0.0.41 'draw:x' 'read:20' 'ok:^ERROR TIMEOUT .*stalled'
wait_pid "$BG_PID" 25
assert_eq 0 "$WAIT_RC" "--min-rate 0: only --data-timeout cuts a stall (ERROR TIMEOUT stalled)"
assert_alive "after the attack"
finish

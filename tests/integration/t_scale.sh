#!/bin/bash
# Load and scale smoke test (issue 6; the full version is bench/scale.sh
# in `make bench`):
#  - 1,000 idle control sessions held at once by tests/tools/ftxload:
#    ftxd's resident memory must stay within the issue's budget (64 MB
#    for 10,000 sessions, "about 6.5 KB each"), scaled to 1,000: under
#    32 MB in all and at most 6.5 KB per session above the empty
#    server's RSS;
#  - a verified put and get work while they are held, and none of them
#    is dropped;
#  - 20 clients x 10 mixed operations (put, ls, hash, get, rm with the
#    real ftx, every one verified) finish with zero failures.
. "$(dirname "$0")/lib.sh"

FTXLOAD=$FTX_BUILD/tools/ftxload
if [ ! -x "$FTXLOAD" ]; then
	fail "$FTXLOAD is not built (make tools)"
	exit 1
fi

SESSIONS=1000
RSS_MAX_KB=$((32 * 1024))
PER_SESSION_MAX_B=6656 # 6.5 KiB

hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $((SESSIONS * 2 + 200)) ]; then
	skip "RLIMIT_NOFILE hard limit $hard is too low for $SESSIONS sessions"
fi
ulimit -Sn "$hard" || skip "cannot raise the soft RLIMIT_NOFILE"

# Memory numbers mean nothing under a sanitizer or valgrind: there the
# budget is reported but not enforced.
MEASURE=1
if [ -n "${FTX_WRAP:-}" ] || ldd "$FTXD" 2>/dev/null | grep -Eq 'lib(a|t|ub)san'; then
	MEASURE=0
fi

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

start_server --max-clients $((SESSIONS * 2)) --max-per-ip $((SESSIONS * 2))
sleep 0.3 # let the worker threads settle before the baseline
RSS0=$(rss_kb "$SERVER_PID")

"$FTXLOAD" -p "$CTRL_PORT" idle "$SESSIONS" --hold 60 --deadline 20 \
    >"$TMPD/idle.out" 2>"$TMPD/idle.err" &
LOAD=$!
track_pid "$LOAD"
if wait_for 25 grep -q "^ready $SESSIONS\$" "$TMPD/idle.out"; then
	pass "ftxload holds $SESSIONS idle sessions"
else
	fail "ftxload did not report ready: $(cat "$TMPD/idle.out" "$TMPD/idle.err" | head -n 10)"
	finish
fi
RSS1=$(rss_kb "$SERVER_PID")
per=$(((RSS1 - RSS0) * 1024 / SESSIONS))
echo "ftxd VmRSS: $RSS0 kB empty, $RSS1 kB with $SESSIONS idle sessions ($per bytes per session)"
if [ "$MEASURE" -eq 0 ]; then
	pass "memory budget not enforced under a sanitizer or valgrind (VmRSS $RSS1 kB)"
else
	if [ -n "$RSS1" ] && [ "$RSS1" -lt "$RSS_MAX_KB" ]; then
		pass "ftxd VmRSS $RSS1 kB < $RSS_MAX_KB kB with $SESSIONS idle sessions"
	else
		fail "ftxd VmRSS '$RSS1' kB with $SESSIONS idle sessions, budget $RSS_MAX_KB kB"
	fi
	if [ "$per" -le "$PER_SESSION_MAX_B" ]; then
		pass "$per bytes per idle session <= $PER_SESSION_MAX_B"
	else
		fail "$per bytes per idle session, budget $PER_SESSION_MAX_B"
	fi
fi

# A verified transfer in each direction while the sessions are held.
mkdir -p "$TMPD/src" "$TMPD/dl"
mkrand "$TMPD/src/big.bin" $((4 * 1024 * 1024))
assert_exit 0 "put of 4 MiB with $SESSIONS idle sessions held" ftx -q put "$TMPD/src/big.bin"
assert_file_same "$TMPD/src/big.bin" "$ROOT/big.bin" "the server's copy is identical"
assert_exit 0 "get of 4 MiB with $SESSIONS idle sessions held" ftx -q get big.bin -o "$TMPD/dl"
assert_file_same "$TMPD/src/big.bin" "$TMPD/dl/big.bin" "the download is identical"

# End the hold; every session must have survived it.
kill -TERM "$LOAD" 2>/dev/null
wait_pid "$LOAD" 10
cat "$TMPD/idle.out" "$TMPD/idle.err"
assert_eq 0 "$WAIT_RC" "ftxload idle: no session refused or lost"
assert_match " lost=0 " "$(grep '^idle ' "$TMPD/idle.out")" "no idle session was dropped"

# 20 clients x 10 verified mixed operations.
timeout -k 2 60 "$FTXLOAD" -p "$CTRL_PORT" ops 20 10 --ftx "$FTX_BIN" \
    --dir "$TMPD/ops" --size 262144 >"$TMPD/ops.out" 2>"$TMPD/ops.err"
rc=$?
cat "$TMPD/ops.out" "$TMPD/ops.err"
assert_eq 0 "$rc" "ftxload ops 20 10: exit status"
assert_match "^ops .* total=200 failures=0 clients_died=0 " "$(grep '^ops ' "$TMPD/ops.out")" \
    "200 operations, zero failures"
for op in put ls hash get rm; do
	assert_match "^op=$op n=40 failures=0 " "$(grep "^op=$op " "$TMPD/ops.out")" \
	    "40 verified $op operations"
done
if [ -z "$(find "$ROOT" -maxdepth 1 -name 'ftxload-*')" ]; then
	pass "every client removed its files"
else
	fail "files left in the root: $(find "$ROOT" -maxdepth 1 -name 'ftxload-*' | head -n 5)"
fi
assert_alive "idle sessions and mixed operations"

finish

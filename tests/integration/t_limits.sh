#!/bin/bash
# Connection limits and timers: --max-per-ip and --max-clients refuse
# extra connections with ERROR LIMIT (and free the slot when a session
# ends), --idle-timeout closes idle sessions with ERROR TIMEOUT (activity
# and running transfers keep a session alive), and idle sessions cost no
# thread.
. "$(dirname "$0")/lib.sh"

src=$TMPD/src
mkdir -p "$src"
mkrand "$src/f" 200000

# ---------------------------------------------------------------- per IP
start_server --max-per-ip 2
raw "--max-per-ip 2" ctl 'ok:^OK FTX/1' ctl 'ok:^OK FTX/1' \
    ctl 'ok:^ERROR LIMIT ' read 'ok:^(EOF|RESET)$' close \
    ctl@127.0.0.2 'ok:^OK FTX/1' line:NOOP 'ok:^OK$' close \
    close sleep:0.5 \
    ctl 'ok:^OK FTX/1' line:NOOP 'ok:^OK$'
sleep 0.5
raw_bg "$TMPD/hold.out" -w 30 ctl ctl "waitfile:$TMPD/release1"
holder=$BG_PID
held() {
	[ "$(grep -c '^< OK FTX/1' "$TMPD/hold.out")" -eq 2 ]
}
if wait_for 5 held; then pass "two sessions held"; else fail "could not hold two sessions: $(cat "$TMPD/hold.out")"; fi
assert_exit_in "3 4" "ftx is refused while the IP has 2 sessions" ftx ls
assert_match 'LIMIT|limit|too many' "$(cat "$ERR")" "ftx explains the limit"
touch "$TMPD/release1"
wait_pid "$holder" 10
sleep 0.3
assert_exit 0 "ftx works again once the sessions end" ftx ls
assert_alive "per-IP limit"
stop_server

# ---------------------------------------------------------------- overall
start_server --max-clients 3
raw "--max-clients 3" ctl 'ok:^OK FTX/1' ctl@127.0.0.2 'ok:^OK FTX/1' ctl@127.0.0.3 'ok:^OK FTX/1' \
    ctl@127.0.0.4 'ok:^ERROR LIMIT ' read 'ok:^(EOF|RESET)$' close \
    close sleep:0.5 ctl@127.0.0.4 'ok:^OK FTX/1' line:NOOP 'ok:^OK$'
# Give the server a moment to see those three sessions end.
sleep 0.5
assert_alive "overall limit"
stop_server

# ---------------------------------------------------------------- many
start_server --max-per-ip 300
# 200 idle sessions: all greeted, no thread each.
threads() {
	awk '/^Threads:/ { print $2 }' "/proc/$SERVER_PID/status"
}
before=$(threads)
steps=()
for i in $(seq 1 200); do steps+=(ctl); done
raw_bg "$TMPD/many.out" -t 5 -w 30 "${steps[@]}" "touch:$TMPD/many" "waitfile:$TMPD/release2"
many=$BG_PID
wait_for 15 test -e "$TMPD/many"
assert_eq 200 "$(grep -c '^< OK FTX/1' "$TMPD/many.out")" "200 sessions greeted"
during=$(threads)
if [ -n "$before" ] && [ -n "$during" ] && [ "$during" -le $((before + 8)) ]; then
	pass "200 idle sessions cost no threads ($before -> $during)"
else
	fail "threads grew from $before to $during with 200 idle sessions"
fi
assert_alive "200 idle sessions"
touch "$TMPD/release2"
wait_pid "$many" 10
stop_server

# ---------------------------------------------------------------- idle
start_server --idle-timeout 2
raw "an idle session is closed" -t 8 ctl 'ok:^OK FTX/1' read:6 'ok:^ERROR TIMEOUT ' read 'ok:^(EOF|RESET)$'
raw "activity keeps a session alive" ctl line:NOOP sleep:1.2 line:NOOP 'ok:^OK$' sleep:1.2 \
    line:NOOP 'ok:^OK$' sleep:1.2 line:NOOP 'ok:^OK$' sleep:1.2 line:NOOP 'ok:^OK$'
# A transfer outlasting the idle timeout is activity, not idleness.
raw "a slow transfer is not idleness" -t 10 ctl 'line:UPLOAD slow.bin 200000' 'ok:^OK ' \
    data "dsend:$src/f:50000" sleep:1.5 "dsend:$src/f:50000" sleep:1.5 "dsend:$src/f" ddigest \
    read "ok:^DONE $(sha256_of "$src/f")\$" line:NOOP 'ok:^OK$'
assert_file_same "$src/f" "$ROOT/slow.bin" "slow upload stored"

assert_exit 0 "ftx works after the idle tests" ftx put "$src/f" --as after-idle.bin
assert_alive "idle timeouts"
stop_server
assert_eq 0 "$SERVER_RC" "ftxd exits 0"
finish

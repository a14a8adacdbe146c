#!/bin/bash
# Crashes and shutdowns: a client killed (SIGKILL) mid-upload leaves no
# visible file, only a hidden partial kept for a resume; a server killed
# mid-upload leaves no visible partial file, and its restart removes old
# temporaries but keeps partial uploads; SIGTERM lets a running transfer finish and exits 0, and
# gives up on a stalled one after the grace period.
. "$(dirname "$0")/lib.sh"

start_server

src=$TMPD/src
dl=$TMPD/dl
mkdir -p "$src" "$dl"
mkrand "$src/big" $((20 * 1024 * 1024))
mkrand "$src/huge" $((64 * 1024 * 1024))
mkrand "$src/mid" $((3 * 1024 * 1024))
bigsize=$(stat -c %s "$src/big")

# ---------------------------------------------------------------- client killed
raw_bg "$TMPD/killed.out" -w 60 ctl "line:UPLOAD killed.bin $bigsize" 'ok:^OK ' \
    data "dsend:$src/big:5000000" "touch:$TMPD/half1" stall
victim=$BG_PID
if wait_for 10 test -e "$TMPD/half1"; then pass "raw upload is half way"; else fail "raw upload did not start"; fi
if wait_for 5 has_temps "$ROOT"; then
	pass "a temporary exists during the upload"
else
	fail "no partial upload under .ftx/.partial during an upload"
fi
assert_no_file "$ROOT/killed.bin" "partial upload is not visible"
kill -KILL "$victim"
wait "$victim" 2>/dev/null
if wait_for 10 log_has 'xfer upload .*name=killed\.bin'; then
	pass "the server noticed the killed upload"
else
	fail "no log line for the killed upload"
fi
assert_eq 1 "$(partials_with_data "$ROOT")" "the partial is kept (hidden) for a resume"
assert_no_file "$ROOT/killed.bin" "killed upload left no visible file"
raw "LIST after the killed upload" ctl line:LIST 'ok:^OK 0$'
if log_has 'xfer upload .*name=killed\.bin.*result=(SHORT|IO|TIMEOUT)'; then
	pass "log records the failed upload"
else
	fail "no 'xfer upload name=killed.bin ... result=SHORT' log line"
fi
assert_alive "a client killed mid-upload"

# The real client killed mid-upload (64 MiB, so the kill usually lands
# mid-transfer; if the upload wins the race it must be complete).
"$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" -q put "$src/huge" --as huge.bin >/dev/null 2>&1 &
ftxpid=$!
track_pid $ftxpid
for i in $(seq 1 500); do
	has_temps "$ROOT" && break
	kill -0 $ftxpid 2>/dev/null || break
	sleep 0.01
done
kill -KILL $ftxpid 2>/dev/null
wait $ftxpid 2>/dev/null
if [ -e "$ROOT/huge.bin" ]; then
	assert_file_same "$src/huge" "$ROOT/huge.bin" "upload finished before the kill: complete"
	rm -f "$ROOT/huge.bin"
else
	pass "ftx killed mid-upload: no visible file"
fi
assert_eq "" "$(old_temps_in "$ROOT")" "no temporary in the root after ftx was killed"
raw "LIST after the killed put" ctl line:LIST 'ok:^OK 0$'
assert_alive "ftx killed mid-upload"

# A client killed mid-download: nothing changes on the server, and the
# client leaves no partial file under the real name.
assert_exit 0 "put huge for download" ftx put "$src/huge" --as huge.bin
"$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" -q get huge.bin -o "$dl" >/dev/null 2>&1 &
ftxpid=$!
track_pid $ftxpid
for i in $(seq 1 500); do
	[ -n "$(find "$dl" -mindepth 1 -maxdepth 1 -name '.*' -print -quit)" ] && break
	kill -0 $ftxpid 2>/dev/null || break
	sleep 0.01
done
kill -KILL $ftxpid 2>/dev/null
wait $ftxpid 2>/dev/null
if [ -e "$dl/huge.bin" ]; then
	assert_file_same "$src/huge" "$dl/huge.bin" "download finished before the kill: complete"
else
	pass "ftx killed mid-download: no file under the real name"
fi
assert_file_same "$src/huge" "$ROOT/huge.bin" "server copy intact after a killed download"
assert_alive "ftx killed mid-download"

# ---------------------------------------------------------------- server killed
raw_bg "$TMPD/orphan.out" -w 60 ctl "line:UPLOAD crashed.bin $bigsize" 'ok:^OK ' \
    data "dsend:$src/big:6000000" "touch:$TMPD/half2" stall
orphan=$BG_PID
wait_for 10 test -e "$TMPD/half2"
if wait_for 5 has_temps "$ROOT"; then pass "partial exists before the server crash"; else fail "no partial before the crash"; fi
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
kill -KILL "$orphan" 2>/dev/null
wait "$orphan" 2>/dev/null
assert_no_file "$ROOT/crashed.bin" "server crash left no visible partial file"
npart=$(partials_with_data "$ROOT")
# A stale temporary from an older crash, and a hidden file that is not a
# temporary (start-up must only remove temporaries).
head -c 1000 /dev/urandom >"$ROOT/.ftxtmp-0123456789abcdef"
echo keep >"$ROOT/.not-a-temporary"
start_server
assert_eq "" "$(old_temps_in "$ROOT")" "start-up removed every old temporary"
assert_eq "$npart" "$(partials_with_data "$ROOT")" "start-up kept the partial uploads"
assert_file "$ROOT/.not-a-temporary" "start-up left other hidden files alone"
assert_no_file "$ROOT/crashed.bin" "no partial file after the restart"
raw "LIST after the restart" ctl line:LIST 'ok:^OK 1$' 'has:huge\.bin$' 'no:crashed' 'no:ftxtmp'
assert_exit 0 "upload after the restart" ftx put "$src/big" --as crashed.bin
assert_file_same "$src/big" "$ROOT/crashed.bin" "the same name uploads fine after the restart"
assert_exit 0 "download of a pre-crash file after the restart" ftx get huge.bin -o "$dl/after"
assert_file_same "$src/huge" "$dl/after/huge.bin" "pre-crash file still downloads and verifies"

# ---------------------------------------------------------------- SIGTERM
midsize=$(stat -c %s "$src/mid")
midsha=$(sha256_of "$src/mid")
raw_bg "$TMPD/term.out" -t 20 -w 60 ctl "line:UPLOAD term.bin $midsize" 'ok:^OK ' \
    data "dsend:$src/mid:1000000" "touch:$TMPD/half3" "waitfile:$TMPD/go3" "dsend:$src/mid" ddigest \
    read "ok:^DONE $midsha\$"
termclient=$BG_PID
wait_for 10 test -e "$TMPD/half3"
pid=$SERVER_PID
kill -TERM "$pid"
sleep 0.5
# New connections are no longer served.
"$FTXRAW" -p "$CTRL_PORT" -t 3 -w 10 ctl line:NOOP >"$TMPD/during-term.out" 2>&1
if grep -q '^< OK$' "$TMPD/during-term.out"; then
	fail "a new session was served after SIGTERM"
else
	pass "no new session is served after SIGTERM"
fi
if kill -0 "$pid" 2>/dev/null; then pass "server waits for the running transfer"; else fail "server exited before the running transfer finished"; fi
touch "$TMPD/go3"
wait_pid "$termclient" 20
assert_eq 0 "$WAIT_RC" "the transfer running at SIGTERM finished with DONE"
[ "$WAIT_RC" -eq 0 ] || sed 's/^/    /' "$TMPD/term.out" >&2
stop_server TERM
assert_eq 0 "$SERVER_RC" "ftxd exited 0 after SIGTERM"
assert_file_same "$src/mid" "$ROOT/term.bin" "upload finished during shutdown is stored"
if grep -q 'shutdown' "$LOG"; then pass "shutdown is logged"; else fail "no shutdown line in the log"; fi

# A stalled transfer does not hold the shutdown for more than ~10 s.
start_server
raw_bg "$TMPD/stuck.out" -w 60 ctl "line:UPLOAD stuck.bin $midsize" 'ok:^OK ' \
    data "dsend:$src/mid:100000" "touch:$TMPD/half4" stall
stuck=$BG_PID
wait_for 10 test -e "$TMPD/half4"
pid=$SERVER_PID
t0=$(date +%s)
kill -TERM "$pid"
for i in $(seq 1 200); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
t1=$(date +%s)
if kill -0 "$pid" 2>/dev/null; then
	fail "ftxd still running 20 s after SIGTERM with a stalled transfer"
	kill -KILL "$pid"
fi
wait "$pid" 2>/dev/null
rc=$?
SERVER_PID=
assert_eq 0 "$rc" "ftxd exits 0 after the grace period"
if [ $((t1 - t0)) -ge 8 ]; then pass "grace period honoured ($((t1 - t0)) s)"; else fail "gave up on the transfer after only $((t1 - t0)) s"; fi
assert_no_file "$ROOT/stuck.bin" "stalled upload not committed at shutdown"
kill -KILL "$stuck" 2>/dev/null
wait "$stuck" 2>/dev/null

# SIGINT behaves like SIGTERM.
start_server
assert_eq "" "$(old_temps_in "$ROOT")" "no old temporaries after the restart"
stop_server INT
assert_eq 0 "$SERVER_RC" "ftxd exits 0 on SIGINT"
finish

#!/bin/bash
# Daemon conveniences (issue 14):
#  - a port in use: the error names the port, suggests the option that
#    moves it (--port, --data-port; the UDP echo too), and is printed
#    exactly once (not as a log line and again on stderr), with and
#    without --log;
#  - ftxd warns, once, when it serves a non-loopback address with
#    neither TLS nor accounts, and not on 127.0.0.1, ::1, with TLS or
#    with accounts;
#  - `make run` serves 127.0.0.1 by default, says how to serve the
#    network, and takes more options from ARGS (which win).
. "$(dirname "$0")/lib.sh"

export FTXD_CONFIG=
REPO=$(cd "$ITEST_DIR/../.." && pwd)
WARN_RE='warning: serving .* without TLS or accounts'

# run_ftxd OUT ARGS...: ftxd in the foreground for at most 5 s, stdout
# and stderr together in OUT; sets RC.
run_ftxd() {
	local out=$1
	shift
	timeout -k 2 5 "$FTXD" $ALLOW_ROOT "$@" >"$out" 2>&1
	RC=$?
}

# once OUT RE WHAT: exactly one line of OUT matches RE.
once() {
	local n
	n=$(grep -cE -- "$2" "$1")
	if [ "$n" -eq 1 ]; then
		pass "$3: said once"
	else
		fail "$3: $n lines match '$2' in: $(cat "$1")"
	fi
}

# ---------------------------------------------------------------- busy ports
start_server
mkdir -p "$TMPD/r2"

run_ftxd "$TMPD/busy.ctl" --bind 127.0.0.1 --port "$CTRL_PORT" --data-port 0 --root "$TMPD/r2"
assert_eq 1 "$RC" "busy control port: exit 1"
once "$TMPD/busy.ctl" "Address already in use" "busy control port"
once "$TMPD/busy.ctl" "TCP port $CTRL_PORT: Address already in use; .*--port N" \
    "busy control port: names port $CTRL_PORT and suggests --port"

run_ftxd "$TMPD/busy.data" --bind 127.0.0.1 --port 0 --data-port "$DATA_PORT" --root "$TMPD/r2"
assert_eq 1 "$RC" "busy data port: exit 1"
once "$TMPD/busy.data" "Address already in use" "busy data port"
once "$TMPD/busy.data" "TCP port $DATA_PORT: Address already in use; .*--data-port N" \
    "busy data port: names port $DATA_PORT and suggests --data-port"

# With a log file the failure is also a log line there, and still once
# on stderr.
run_ftxd "$TMPD/busy.log.out" --bind 127.0.0.1 --port "$CTRL_PORT" --data-port 0 \
    --root "$TMPD/r2" --log "$TMPD/busy.log"
once "$TMPD/busy.log.out" "Address already in use" "busy port with --log: stderr"
once "$TMPD/busy.log" "fatal: .*Address already in use" "busy port with --log: the log file"

# Other start-up failures: once each.
touch "$TMPD/notadir"
run_ftxd "$TMPD/badroot" --bind 127.0.0.1 --port 0 --data-port 0 --root "$TMPD/notadir"
assert_eq 1 "$RC" "root that is a file: exit 1"
once "$TMPD/badroot" "notadir" "root that is a file"
run_ftxd "$TMPD/badopt" --bind 127.0.0.1 --frobnicate
assert_eq 2 "$RC" "unknown option: exit 2"
once "$TMPD/badopt" "frobnicate" "unknown option"
stop_server

# The UDP echo takes the control port's number: a UDP socket on a port
# whose TCP side is free.
if command -v python3 >/dev/null 2>&1; then
	python3 -c '
import socket, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
print(u.getsockname()[1], flush=True)
time.sleep(30)' >"$TMPD/udp.port" &
	UDP_PID=$!
	track_pid "$UDP_PID"
	wait_for 10 eval '[ -s "$TMPD/udp.port" ]'
	UPORT=$(cat "$TMPD/udp.port")
	run_ftxd "$TMPD/busy.udp" --bind 127.0.0.1 --port "$UPORT" --data-port 0 --root "$TMPD/r2"
	kill "$UDP_PID" 2>/dev/null
	wait "$UDP_PID" 2>/dev/null
	if [ "$RC" -eq 1 ]; then
		once "$TMPD/busy.udp" "UDP port $UPORT: Address already in use; .*--port N.*--no-udp-echo" \
		    "busy UDP echo port: names port $UPORT, suggests --port and --no-udp-echo"
		once "$TMPD/busy.udp" "Address already in use" "busy UDP echo port"
	else
		# Another process may have taken the TCP side meanwhile.
		echo "SKIP (part): ftxd exit $RC on the UDP case: $(cat "$TMPD/busy.udp")"
	fi
else
	echo "SKIP (part): no python3 to hold a UDP port"
fi

# ---------------------------------------------------------------- the open-server warning
# Started with --port 0 and stopped at once: the wildcard address is
# open to the network only for the moment the check needs.
ROOT=$TMPD/wroot
BIND=0.0.0.0 start_server
stop_server
once "$LOG" "$WARN_RE" "0.0.0.0 without TLS or accounts warns"
once "$LOG" "warning: serving 0.0.0.0 .*port $CTRL_PORT.*--bind 127.0.0.1" \
    "the warning names the address and port and the way out"

start_server
stop_server
if grep -qE -- "$WARN_RE" "$LOG"; then fail "127.0.0.1 warned: $(grep -E "$WARN_RE" "$LOG")"; else pass "127.0.0.1: no warning"; fi

BIND=::1 start_server
stop_server
if grep -qE -- "$WARN_RE" "$LOG"; then fail "::1 warned"; else pass "::1: no warning"; fi

gen_cert
BIND=0.0.0.0 start_server "${TLS[@]}"
stop_server
if grep -qE -- "$WARN_RE" "$LOG"; then fail "0.0.0.0 with TLS warned"; else pass "0.0.0.0 with TLS: no warning"; fi

add_user dev dev-pw-1
BIND=0.0.0.0 start_server --users "$USERS"
stop_server
if grep -qE -- "$WARN_RE" "$LOG"; then fail "0.0.0.0 with accounts warned"; else pass "0.0.0.0 with accounts: no warning"; fi

# ---------------------------------------------------------------- make run
# make_run OUT ARGS: `make run` in the background on a fresh root with
# free ports, the log in OUT.log; sets MR_PID and waits for the
# listening line.
make_run() {
	local out=$1
	shift
	mkdir -p "$TMPD/mr"
	rm -f "$out" "$out.log"
	make -s -C "$REPO" run BUILD="$FTX_BUILD" RUN_ROOT="$TMPD/mr" \
	    ARGS="--port 0 --data-port 0 --log $out.log $*" </dev/null >"$out" 2>&1 &
	MR_PID=$!
	track_pid "$MR_PID"
	if ! wait_for 60 grep -q 'listening control=' "$out.log"; then
		fail "make run did not start: $(cat "$out" "$out.log" 2>/dev/null | tail -n 5)"
	fi
}
stop_make_run() {
	kill_tree "$MR_PID"
	wait "$MR_PID" 2>/dev/null
}

make_run "$TMPD/mr1"
if grep -q 'listening control=127\.0\.0\.1:[0-9]* data=127\.0\.0\.1:' "$TMPD/mr1.log"; then
	pass "make run listens on 127.0.0.1 by default"
else
	fail "make run: $(grep listening "$TMPD/mr1.log")"
fi
once "$TMPD/mr1" "make run: serving 127\.0\.0\.1 only .*make run ARGS='--bind 0\.0\.0\.0'" \
    "make run says how to serve the network"
if grep -qE -- "$WARN_RE" "$TMPD/mr1.log"; then fail "make run on 127.0.0.1 warned"; else pass "make run: no open-server warning"; fi
MR_PORT=$(sed -nE 's/.*listening control=[^ ]*:([0-9]+).*/\1/p' "$TMPD/mr1.log" | head -n 1)
if "$FTXRAW" -h 127.0.0.1 -p "$MR_PORT" -t 5 -w 10 ctl 'ok:^OK FTX/1 ' line:NOOP 'ok:^OK$' >"$TMPD/mr1.raw" 2>&1; then
	pass "make run's server answers"
else
	fail "make run's server does not answer: $(cat "$TMPD/mr1.raw")"
fi
stop_make_run

# ARGS come after the defaults, so they win; with --bind the hint is
# not printed.
make_run "$TMPD/mr2" --bind 127.0.0.2
if grep -q 'listening control=127\.0\.0\.2:' "$TMPD/mr2.log"; then
	pass "make run ARGS='--bind ...' takes the given address"
else
	fail "make run ARGS='--bind 127.0.0.2': $(grep listening "$TMPD/mr2.log")"
fi
if grep -q 'make run: serving' "$TMPD/mr2"; then fail "hint printed although ARGS has --bind"; else pass "no hint with ARGS='--bind ...'"; fi
stop_make_run

finish

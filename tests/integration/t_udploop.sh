#!/bin/bash
# The UDP echo cannot be made to loop (the "Loop DoS" class,
# CVE-2024-2169): two ftxd on 127.0.0.2 and 127.0.0.3 with different
# ports, and one datagram to A whose source is B's echo port (spoofed on a
# raw socket by tests/tools/udpsend, as root).  A answers once with an
# FTXR reply, B counts it as a reply and never answers it, so the
# exchange ends there.  Also: a reply (FTXR) is never answered; datagrams
# from the server's own port number and from well-known ports (< 1024)
# are dropped and counted; and a legitimate client (`ftx rtt --udp`, a
# request from an ephemeral port) is answered throughout.  Without root,
# the parts that need a raw socket or a low port are skipped.
. "$(dirname "$0")/lib.sh"

UDPSEND=$FTX_BUILD/tools/udpsend
if [ ! -x "$UDPSEND" ]; then
	fail "$UDPSEND is not built (make tools)"
	exit 1
fi
ROOT_OK=0
[ "$(id -u)" = 0 ] && ROOT_OK=1

# udp_sum LOG KEY: the sum of KEY=N over the "udp echo:" reports in LOG
# (each covers the second before it).
udp_sum() {
	grep -oE 'udp echo: .*' "$1" | grep -oE " $2=[0-9]+" | sed 's/.*=//' |
	    awk '{ s += $1 } END { print s + 0 }'
}
# expect_sum SECS LOG KEY N DESC: the sum reaches exactly N within SECS.
expect_sum() {
	if wait_for "$1" eval "[ \"\$(udp_sum $2 $3)\" -eq $4 ]"; then
		pass "$5"
	else
		fail "$5: $3 adds up to $(udp_sum "$2" "$3"), not $4: $(grep 'udp echo' "$2" | tail -n 3)"
	fi
}
# send DESC ARGS...: run udpsend; its output is in $SEND_OUT.
SEND_N=0
SEND_OUT=
SEND_RC=0
send() {
	local desc=$1
	shift
	SEND_N=$((SEND_N + 1))
	SEND_OUT=$TMPD/send.$SEND_N.out
	"$UDPSEND" "$@" >"$SEND_OUT" 2>&1
	SEND_RC=$?
	if [ "$SEND_RC" -ne 0 ] && [ "$SEND_RC" -ne 77 ]; then
		fail "$desc: udpsend failed ($SEND_RC): $(cat "$SEND_OUT")"
	fi
}
# rtt_ok HOST PORT DESC: ftx rtt --udp gets all 20 replies.
rtt_ok() {
	local out=$TMPD/rtt.$SEND_N.json
	SEND_N=$((SEND_N + 1))
	timeout -k 2 30 "$FTX_BIN" --host "$1" --port "$2" rtt --udp -n 20 --warmup 0 --json >"$out" 2>&1
	assert_eq 20 "$(sed -n -E 's/.*"received":([0-9]+).*/\1/p' "$out")" "$3"
}

REQ='FTXE 0123456789abcdef loop-payload'

# ================================================================ two servers
ROOT=$TMPD/rootA
BIND=127.0.0.2 start_server
A_PID=$SERVER_PID A_PORT=$CTRL_PORT A_LOG=$LOG
ROOT=$TMPD/rootB
BIND=127.0.0.3 start_server
B_PID=$SERVER_PID B_PORT=$CTRL_PORT B_LOG=$LOG
if [ "$A_PORT" -eq "$B_PORT" ]; then
	fail "the two servers got the same port $A_PORT"
fi

# ---------------------------------------------------------------- legitimate
# (Only to A: B's reports must show no answers until the loop test is
# over.)
send "a request from an ephemeral port" --from 127.0.0.1:0 --to "127.0.0.2:$A_PORT" --data "$REQ" --wait 300
assert_eq "reply ${#REQ} FTXR" "$(grep '^reply' "$SEND_OUT")" "a request gets one reply of the same length, marked FTXR"
rtt_ok 127.0.0.2 "$A_PORT" "ftx rtt --udp: A answers all 20"

# ---------------------------------------------------------------- the loop
if [ "$ROOT_OK" -eq 1 ]; then
	send "spoofed from B's echo port" --spoof --from "127.0.0.3:$B_PORT" --to "127.0.0.2:$A_PORT" --data "$REQ"
	if [ "$SEND_RC" -eq 77 ]; then
		echo "SKIP (part): no raw socket: $(cat "$SEND_OUT")"
	else
		# A answers B once; B receives an FTXR and drops it.
		expect_sum 4 "$B_LOG" replies 1 "B receives A's reply to the spoofed request, and drops it"
		# Give a loop time to show: at least two report periods.
		sleep 2.2
		assert_eq 1 "$(udp_sum "$B_LOG" replies)" "B received no more replies: the exchange stopped after one"
		assert_eq 0 "$(udp_sum "$A_LOG" replies)" "A never got a reply back (B answered nothing)"
		assert_eq 0 "$(udp_sum "$B_LOG" answered)" "B's reports show no answer to A"
		assert_eq 0 "$(udp_sum "$A_LOG" rate-limited)" "A rate-limited nothing (no loop to limit)"
		assert_eq 0 "$(udp_sum "$B_LOG" rate-limited)" "B rate-limited nothing"
	fi
	# The same from a well-known port: echo (7) and DNS (53) answer
	# anything, so they are never answered.
	send "spoofed from port 7" --spoof --from "127.0.0.1:7" --to "127.0.0.2:$A_PORT" --data "$REQ"
	send "spoofed from port 53" --spoof --from "127.0.0.1:53" --to "127.0.0.2:$A_PORT" --data "$REQ"
	if [ "$SEND_RC" -ne 77 ]; then
		expect_sum 4 "$A_LOG" bad-port 2 "A drops the requests from ports 7 and 53 and counts them"
	fi
else
	echo "SKIP (part): spoofing a source needs root (raw socket)"
fi

# ---------------------------------------------------------------- a reply
before=$(udp_sum "$B_LOG" replies)
send "a reply sent to B" --from 127.0.0.1:0 --to "127.0.0.3:$B_PORT" --data "FTXR${REQ#FTXE}" --wait 300
assert_eq "replies=0" "$(tail -n 1 "$SEND_OUT")" "B does not answer a reply (FTXR)"
expect_sum 4 "$B_LOG" replies $((before + 1)) "B counts the reply it dropped"

# ---------------------------------------------------------------- own port
# Another address, A's port number: what another ftxd on the same port
# (on another host or address) would send.  Binding it needs no root.
before=$(udp_sum "$A_LOG" bad-port)
send "from A's own port number" --from "127.0.0.4:$A_PORT" --to "127.0.0.2:$A_PORT" --data "$REQ" --wait 300
assert_eq "replies=0" "$(tail -n 1 "$SEND_OUT")" "A does not answer a request from its own port number"
expect_sum 4 "$A_LOG" bad-port $((before + 1)) "A counts it as bad-port"

# ---------------------------------------------------------------- low port
# A real socket on a port below 1024 (root, or ip_unprivileged_port_start).
before=$(udp_sum "$A_LOG" bad-port)
lowsent=0
for p in 1010 1011 1012 1013; do
	send "from port $p" --from "127.0.0.1:$p" --to "127.0.0.2:$A_PORT" --data "$REQ" --wait 300
	[ "$SEND_RC" -eq 77 ] && break
	if [ "$SEND_RC" -eq 0 ]; then
		lowsent=1
		break
	fi
done
if [ "$lowsent" -eq 1 ]; then
	assert_eq "replies=0" "$(tail -n 1 "$SEND_OUT")" "A does not answer a request from port $p (< 1024)"
	expect_sum 4 "$A_LOG" bad-port $((before + 1)) "A counts it as bad-port"
else
	echo "SKIP (part): cannot bind a port below 1024: $(cat "$SEND_OUT")"
fi

# ---------------------------------------------------------------- still served
send "a request after all that" --from 127.0.0.1:0 --to "127.0.0.2:$A_PORT" --data "$REQ" --wait 300
assert_eq "reply ${#REQ} FTXR" "$(grep '^reply' "$SEND_OUT")" "A still answers a legitimate request"
rtt_ok 127.0.0.2 "$A_PORT" "ftx rtt --udp: A still answers all 20"
rtt_ok 127.0.0.3 "$B_PORT" "ftx rtt --udp: B still answers all 20"
HOST=127.0.0.3 assert_alive "the loop attempt (B)"
SERVER_PID=$A_PID CTRL_PORT=$A_PORT
HOST=127.0.0.2 assert_alive "the loop attempt (A)"
stop_server
SERVER_PID=$B_PID
stop_server
finish

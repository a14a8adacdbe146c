#!/bin/bash
# `ftx rtt` over TCP (ECHO on the control connection) and UDP (ftxd's UDP
# echo, docs/PROTOCOL.md "Echo"): sane statistics in text and --json
# form, the UDP server turned off, the per-source rate limit, raw
# datagrams (a reply is the request with the magic FTXR, of the same
# length; malformed ones and replies get no answer), and
# tests/tools/udpliar, a responder that drops, alters, duplicates, delays
# and echoes requests verbatim, to check that lost, late, duplicated and
# mismatched replies are counted exactly.  (Loops between two servers:
# t_udploop.sh.)  JSON is read with sed and awk
# (no python or jq in CI).
. "$(dirname "$0")/lib.sh"

UDPLIAR=$FTX_BUILD/tools/udpliar
if [ ! -x "$UDPLIAR" ]; then
	fail "$UDPLIAR is not built (make tools)"
	exit 1
fi

# ---------------------------------------------------------------- helpers

# jnum FILE KEY: a number from the one-line JSON object in FILE.
jnum() {
	sed -n -E "s/.*\"$2\":(-?[0-9][0-9.eE+-]*).*/\1/p" "$1" | head -n 1
}
# jstr FILE KEY: a string value.
jstr() {
	sed -n -E "s/.*\"$2\":\"([^\"]*)\".*/\1/p" "$1" | head -n 1
}

# check_json FILE DESC: one JSON object on one line whose statistics
# are ordered min <= median <= p90 <= p99 <= max, min <= avg <= max,
# with min > 0 and stddev >= 0.
check_json() {
	local f=$1 desc=$2 v k
	local keys="min_ms avg_ms median_ms p90_ms p99_ms max_ms stddev_ms"
	if [ "$(wc -l <"$f")" -eq 1 ] && grep -Eq '^\{.*\}$' "$f"; then
		pass "$desc: one JSON object on one line"
	else
		fail "$desc: not one JSON line: $(head -c 300 "$f")"
	fi
	for k in $keys; do
		v=$(jnum "$f" "$k")
		if [[ ! "$v" =~ ^[0-9]+\.[0-9]{3}$ ]]; then
			fail "$desc: $k is '$v', not milliseconds with microseconds"
			return 0
		fi
	done
	if awk -v mn="$(jnum "$f" min_ms)" -v av="$(jnum "$f" avg_ms)" \
	    -v md="$(jnum "$f" median_ms)" -v p90="$(jnum "$f" p90_ms)" \
	    -v p99="$(jnum "$f" p99_ms)" -v mx="$(jnum "$f" max_ms)" \
	    -v sd="$(jnum "$f" stddev_ms)" 'BEGIN {
		ok = mn > 0 && mn <= md && md <= p90 && p90 <= p99 && p99 <= mx &&
		    mn <= av && av <= mx && sd >= 0 && mx < 60000
		exit ok ? 0 : 1 }'; then
		pass "$desc: 0 < min <= median <= p90 <= p99 <= max, min <= avg <= max, stddev >= 0"
	else
		fail "$desc: statistics out of order: $(cat "$f")"
	fi
}

# check_hist FILE N DESC: the text report's histogram has 10 rows whose
# counts add up to N.
check_hist() {
	local rows sum
	rows=$(grep -cE '^  +[0-9]+\.[0-9]{3}-[0-9]+\.[0-9]{3} ms \|#* +[0-9]+$' "$1")
	sum=$(grep -E '^  +[0-9]+\.[0-9]{3}-[0-9]+\.[0-9]{3} ms \|#* +[0-9]+$' "$1" | awk '{ s += $NF } END { print s + 0 }')
	assert_eq 10 "$rows" "$3: a 10-row histogram"
	assert_eq "$2" "$sum" "$3: the histogram counts all $2 round trips"
}

# check_text FILE DESC: the text report's statistic lines.
check_text() {
	local k
	for k in min avg median p90 p99 max stddev; do
		if grep -Eq "^  $k +[0-9]+\.[0-9]{3} ms\$" "$1"; then
			pass "$2: '$k' line in ms with microseconds"
		else
			fail "$2: no '$k' line: $(head -n 12 "$1")"
		fi
	done
}

# rtt_to PORT ARGS...: ftx rtt against another port (udpliar).
rtt_to() {
	local port=$1
	shift
	timeout -k 2 60 "$FTX_BIN" --host 127.0.0.1 --port "$port" rtt "$@"
}

# ================================================================ TCP
start_server

assert_exit 0 "ftx rtt -n 100 --json" ftx rtt -n 100 --json
cp "$OUT" "$TMPD/tcp.json"
check_json "$TMPD/tcp.json" "TCP"
assert_eq tcp "$(jstr "$TMPD/tcp.json" mode)" "TCP: mode"
assert_eq 100 "$(jnum "$TMPD/tcp.json" n)" "TCP: n == 100"
assert_eq 5 "$(jnum "$TMPD/tcp.json" warmup)" "TCP: 5 warm-up round trips"
assert_eq 32 "$(jnum "$TMPD/tcp.json" size)" "TCP: default size 32"
assert_eq "$CTRL_PORT" "$(jnum "$TMPD/tcp.json" port)" "TCP: port"
assert_eq 127.0.0.1 "$(jstr "$TMPD/tcp.json" host)" "TCP: host"
assert_match '^[0-9]+\.[0-9]{3}$' "$(jnum "$TMPD/tcp.json" connect_ms)" "TCP: connect time reported"
if grep -q '"lost"' "$TMPD/tcp.json"; then fail "TCP JSON has UDP counters"; else pass "TCP JSON has no UDP counters"; fi

assert_exit 0 "ftx rtt -n 100 (text)" ftx rtt -n 100
cp "$OUT" "$TMPD/tcp.txt"
assert_match "^TCP echo to 127\.0\.0\.1 port $CTRL_PORT: 100 round trips of 32 bytes, 5 warm-up round trips excluded\$" \
    "$(head -n 1 "$TMPD/tcp.txt")" "TCP text: header names the 5 excluded warm-up round trips"
assert_match '^  connect +[0-9]+\.[0-9]{3} ms$' "$(grep connect "$TMPD/tcp.txt")" "TCP text: connect time"
check_text "$TMPD/tcp.txt" "TCP text"
check_hist "$TMPD/tcp.txt" 100 "TCP text"

assert_exit 0 "TCP --size 1 --warmup 0 --interval 2 -n 20" ftx rtt -n 20 --size 1 --warmup 0 --interval 2 --json
cp "$OUT" "$TMPD/tcp1.json"
check_json "$TMPD/tcp1.json" "TCP --size 1"
assert_eq 0 "$(jnum "$TMPD/tcp1.json" warmup)" "TCP --warmup 0 reported"
assert_eq 2 "$(jnum "$TMPD/tcp1.json" interval_ms)" "TCP --interval reported"
assert_exit 0 "TCP --size 4090 (the largest ECHO payload)" ftx rtt -n 5 --size 4090 --json
assert_eq 4090 "$(jnum "$OUT" size)" "TCP --size 4090 reported"
# The server's ECHO: byte for byte, literal, spaces kept.
raw "ECHO returns its payload verbatim" ctl 'line:ECHO  a%20b  c ' 'ok:^OK a%20b  c $' \
    'line:ECHO' 'ok:^ERROR SYNTAX ' 'line:echo x' 'ok:^OK x$'

# ---------------------------------------------------------------- bad options
assert_exit 2 "rtt -n 0" ftx rtt -n 0
assert_exit 2 "rtt -n -1" ftx rtt -n -1
assert_exit 2 "rtt -n abc" ftx rtt -n abc
assert_exit 2 "rtt --size 0" ftx rtt --size 0
assert_exit 2 "rtt --size 5000" ftx rtt --size 5000
assert_exit 2 "rtt --size 4091 (over the ECHO limit)" ftx rtt --size 4091
assert_exit 2 "rtt --udp --size 1379 (over the datagram limit)" ftx rtt --udp --size 1379
assert_exit 2 "rtt --udp --timeout-ms 0" ftx rtt --udp --timeout-ms 0
assert_exit 2 "rtt --warmup -1" ftx rtt --warmup -1
assert_exit 2 "rtt with an operand" ftx rtt extra
assert_exit 2 "rtt --bogus" ftx rtt --bogus

# ================================================================ UDP
assert_exit 0 "ftx rtt --udp -n 100 --json" ftx rtt --udp -n 100 --json
cp "$OUT" "$TMPD/udp.json"
check_json "$TMPD/udp.json" "UDP"
assert_eq udp "$(jstr "$TMPD/udp.json" mode)" "UDP: mode"
for kv in n=100 sent=100 received=100 lost=0 late=0 duplicated=0 mismatched=0 timeout_ms=1000; do
	assert_eq "${kv#*=}" "$(jnum "$TMPD/udp.json" "${kv%%=*}")" "UDP on loopback: ${kv%%=*} == ${kv#*=}"
done

assert_exit 0 "ftx rtt --udp -n 100 (text)" ftx rtt --udp -n 100
cp "$OUT" "$TMPD/udp.txt"
assert_match "^UDP echo to 127\.0\.0\.1 port $CTRL_PORT: 100 round trips of 32 bytes, 5 warm-up round trips excluded\$" \
    "$(head -n 1 "$TMPD/udp.txt")" "UDP text: header names the 5 excluded warm-up round trips"
assert_match '^  sent 100, received 100, lost 0, late 0, duplicated 0, mismatched 0$' \
    "$(grep '  sent ' "$TMPD/udp.txt")" "UDP text: the counters"
check_text "$TMPD/udp.txt" "UDP text"
check_hist "$TMPD/udp.txt" 100 "UDP text"

assert_exit 0 "UDP --size 1" ftx rtt --udp --size 1 -n 20 --json
assert_eq 20 "$(jnum "$OUT" received)" "UDP --size 1: all 20 answered"
assert_exit 0 "UDP --size 1378 (a 1400-byte datagram)" ftx rtt --udp --size 1378 -n 20 --json
assert_eq 20 "$(jnum "$OUT" received)" "UDP --size 1378: all 20 answered"

# ---------------------------------------------------------------- raw datagrams
# bash's /dev/udp gives a connected UDP socket; dd sends a file as one
# datagram (one read, one write) and reads one reply whole.
# udp_probe REQUEST-FILE REPLY-FILE: empty REPLY-FILE if no answer.
udp_probe() {
	(
		exec 5<>"/dev/udp/127.0.0.1/$CTRL_PORT" || exit 1
		dd if="$1" bs=65536 count=1 status=none >&5 || exit 1
		timeout 0.5 dd bs=65536 count=1 of="$2" status=none <&5
		exit 0
	)
}
# The reply a request must get: the same bytes with FTXR for FTXE.
want_reply() {
	printf 'FTXR'
	tail -c +5 "$1"
}
probe_answered() {
	local name=$1 desc=$2
	if ! udp_probe "$TMPD/$name.req" "$TMPD/$name.rep"; then
		fail "$desc: cannot send with /dev/udp"
		return 0
	fi
	want_reply "$TMPD/$name.req" >"$TMPD/$name.want"
	if cmp -s "$TMPD/$name.want" "$TMPD/$name.rep"; then
		pass "$desc: the reply is the request with FTXR, byte for byte ($(stat -c %s "$TMPD/$name.rep") bytes)"
	else
		fail "$desc: reply of $(stat -c %s "$TMPD/$name.rep" 2>/dev/null) bytes differs from the $(stat -c %s "$TMPD/$name.req")-byte request"
	fi
}
probe_dropped() {
	local name=$1 desc=$2
	if ! udp_probe "$TMPD/$name.req" "$TMPD/$name.rep"; then
		fail "$desc: cannot send with /dev/udp"
		return 0
	fi
	assert_eq 0 "$(stat -c %s "$TMPD/$name.rep" 2>/dev/null || echo 0)" "$desc: no answer"
}
printf 'FTXE 0123456789abcdef hello' >"$TMPD/p1.req"
probe_answered p1 "a short request"
printf 'FTXE 00000000000000ff ' >"$TMPD/p2.req"
probe_answered p2 "an empty payload"
{
	printf 'FTXE fedcba9876543210 '
	head -c 1378 /dev/urandom
} >"$TMPD/p3.req"
probe_answered p3 "a 1400-byte request with binary payload"
# Malformed: the server answers none of these, so it cannot be used to
# reflect or amplify anything.
{
	printf 'FTXE fedcba9876543210 '
	head -c 1379 /dev/urandom
} >"$TMPD/m1.req"
probe_dropped m1 "a 1401-byte request"
printf 'FTXE 0123456789ABCDEF x' >"$TMPD/m2.req"
probe_dropped m2 "an uppercase id"
printf 'FTXF 0123456789abcdef x' >"$TMPD/m3.req"
probe_dropped m3 "wrong magic"
printf 'FTXE 0123456789abcdef' >"$TMPD/m4.req"
probe_dropped m4 "no space after the id"
printf 'GET / HTTP/1.0\r\n\r\n' >"$TMPD/m5.req"
probe_dropped m5 "junk"
# A reply is never answered (two echo services cannot loop).
printf 'FTXR 0123456789abcdef hello' >"$TMPD/r1.req"
probe_dropped r1 "a reply (FTXR)"
# udp_sum KEY: the sum of KEY=N over the log's "udp echo:" reports.
udp_sum() {
	grep -oE "udp echo: .*" "$LOG" | grep -oE " $1=[0-9]+" | sed 's/.*=//' |
	    awk '{ s += $1 } END { print s + 0 }'
}
# The log counts them (once a second at most).
if wait_for 4 eval '[ "$(udp_sum malformed)" -eq 5 ] && [ "$(udp_sum replies)" -eq 1 ]'; then
	pass "the log counts the 5 malformed datagrams and the reply"
else
	fail "the log does not count 5 malformed datagrams and 1 reply: $(grep 'udp echo' "$LOG" | tail -n 3)"
fi
stop_server

# ---------------------------------------------------------------- UDP echo off
start_server --no-udp-echo
assert_exit 1 "--no-udp-echo: ftx rtt --udp -n 5 --timeout-ms 200 fails" \
    ftx rtt --udp -n 5 --timeout-ms 200 --json
assert_eq 5 "$(jnum "$OUT" lost)" "--no-udp-echo: lost == 5"
assert_eq 0 "$(jnum "$OUT" received)" "--no-udp-echo: received == 0"
assert_eq 0 "$(jnum "$OUT" n)" "--no-udp-echo: no samples"
assert_match '.' "$(cat "$ERR")" "--no-udp-echo: ftx says why on stderr"
assert_exit 0 "--no-udp-echo: TCP rtt still works" ftx rtt -n 10 --json
stop_server

# ---------------------------------------------------------------- rate limit
start_server --udp-rate 50
assert_exit 0 "--udp-rate 50: ftx rtt --udp -n 200 --timeout-ms 100" \
    ftx rtt --udp -n 200 --timeout-ms 100 --warmup 0 --json
cp "$OUT" "$TMPD/rate.json"
lost=$(jnum "$TMPD/rate.json" lost)
recv=$(jnum "$TMPD/rate.json" received)
late=$(jnum "$TMPD/rate.json" late)
echo "rate limit: received $recv, lost $lost, late $late of 200"
if [ -n "$lost" ] && [ "$lost" -gt 0 ]; then pass "--udp-rate 50: some of 200 requests went unanswered (lost $lost)"; else fail "--udp-rate 50: lost is '$lost'"; fi
if [ -n "$recv" ] && [ "$recv" -ge 50 ]; then pass "--udp-rate 50: at least the burst of 50 was answered ($recv)"; else fail "--udp-rate 50: received only '$recv'"; fi
assert_eq 200 "$((recv + lost + late))" "--udp-rate 50: received + lost + late == 200"
if wait_for 4 log_has 'udp echo: .*rate-limited=[1-9]'; then
	pass "the log mentions rate-limited datagrams"
else
	fail "no rate-limited count in the log"
fi
stop_server

# ================================================================ udpliar
# model N DROP MISMATCH CORRUPT VERBATIM DELAY DUP (0 = rule off): what
# ftx rtt must count when udpliar numbers the requests 1..N and, for
# each, the first matching rule applies (drop, mismatch, corrupt,
# verbatim, delay, dup).  A mismatched or corrupted reply, or the request
# echoed verbatim (FTXE, not a reply), matches no request, so that
# request is also lost; a reply delayed past the timeout is late (not
# lost), and a duplicate is counted once.  Prints the expected JSON
# counters and the liar's own counters.
model() {
	awk -v n="$1" -v d="$2" -v m="$3" -v c="$4" -v v="$5" -v y="$6" -v u="$7" '
	function hit(k, i) { return k > 0 && i % k == 0 }
	BEGIN {
		for (i = 1; i <= n; i++) {
			if (hit(d, i)) D++
			else if (hit(m, i)) M++
			else if (hit(c, i)) C++
			else if (hit(v, i)) V++
			else if (hit(y, i)) Y++
			else if (hit(u, i)) U++
		}
		printf "sent=%d received=%d lost=%d late=%d duplicated=%d mismatched=%d", \
		    n, n - D - M - C - V - Y, D + M + C + V, Y, U, M + C + V
		printf " requests=%d dropped=%d mismatched=%d corrupted=%d verbatim=%d delayed=%d duplicated=%d malformed=0\n", \
		    n, D, M, C, V, Y, U
	}'
}

# liar_case DESC DROP MISMATCH CORRUPT VERBATIM DELAY DUP: run udpliar with those
# rules, ftx rtt --udp -n 100 --timeout-ms 300 against it, and compare
# both sides' counters with the model.  A delay is K:450: the delayed reply
# comes 150 ms after its request timed out (so it is late, not on time),
# and the next request, sent at that timeout and answered right after the
# delayed one, is answered 150 ms before its own timeout (so it is not
# late too).  A delay of twice the timeout would race the next request's
# timeout.  The last request must not be delayed: its reply would race
# the end of the run.
LIAR_N=0
liar_case() {
	local desc=$1 d=$2 m=$3 c=$4 v=$5 y=$6 u=$7 args=() port line want kv pid
	LIAR_N=$((LIAR_N + 1))
	[ "$d" -gt 0 ] && args+=(--drop "$d")
	[ "$m" -gt 0 ] && args+=(--mismatch "$m")
	[ "$c" -gt 0 ] && args+=(--corrupt "$c")
	[ "$v" -gt 0 ] && args+=(--verbatim "$v")
	[ "$y" -gt 0 ] && args+=(--delay "$y:450")
	[ "$u" -gt 0 ] && args+=(--dup "$u")
	if [ "$y" -gt 0 ] && [ $((100 % y)) -eq 0 ]; then
		fail "$desc: a test with the last request delayed cannot be exact"
		return 0
	fi
	"$UDPLIAR" --lifetime 60 "${args[@]}" >"$TMPD/liar.$LIAR_N.out" 2>"$TMPD/liar.$LIAR_N.err" &
	pid=$!
	track_pid "$pid"
	wait_for 5 grep -qs '^port [0-9]' "$TMPD/liar.$LIAR_N.out"
	port=$(sed -n -E 's/^port ([0-9]+)$/\1/p' "$TMPD/liar.$LIAR_N.out")
	if [ -z "$port" ]; then
		fail "$desc: udpliar did not start: $(cat "$TMPD/liar.$LIAR_N.err")"
		return 0
	fi
	rtt_to "$port" --udp -n 100 --warmup 0 --timeout-ms 300 --json >"$TMPD/liar.$LIAR_N.json" 2>"$TMPD/liar.$LIAR_N.ftxerr"
	kill -TERM "$pid" 2>/dev/null
	wait_pid "$pid" 5
	want=$(model 100 "$d" "$m" "$c" "$v" "$y" "$u")
	echo "udpliar ${args[*]}: expect $want"
	echo "    ftx: $(cat "$TMPD/liar.$LIAR_N.json")"
	echo "    udpliar: $(cat "$TMPD/liar.$LIAR_N.err")"
	for kv in ${want%% requests=*}; do
		assert_eq "${kv#*=}" "$(jnum "$TMPD/liar.$LIAR_N.json" "${kv%%=*}")" "$desc: ${kv%%=*} == ${kv#*=}"
	done
	assert_eq "$(jnum "$TMPD/liar.$LIAR_N.json" received)" "$(jnum "$TMPD/liar.$LIAR_N.json" n)" "$desc: one sample per received reply"
	# The liar saw exactly our 100 requests and applied the rules we
	# modelled, so the comparison above is of like with like.
	line=$(tail -n 1 "$TMPD/liar.$LIAR_N.err")
	assert_eq "requests=${want#* requests=}" "$line" "$desc: udpliar's own counts agree with the model"
	if [ "$(jnum "$TMPD/liar.$LIAR_N.json" n)" -gt 0 ] 2>/dev/null; then
		check_json "$TMPD/liar.$LIAR_N.json" "$desc"
	fi
}

liar_case "honest udpliar" 0 0 0 0 0 0
liar_case "--drop 10" 10 0 0 0 0 0
liar_case "--mismatch 20" 0 20 0 0 0 0
liar_case "--corrupt 25" 0 0 25 0 0 0
liar_case "--verbatim 12 (requests echoed back, not replies)" 0 0 0 12 0 0
liar_case "--dup 7" 0 0 0 0 0 7
liar_case "--delay 30:450" 0 0 0 0 30 0
liar_case "all rules at once" 10 15 22 13 33 7

# A lying responder makes ftx rtt report, not fail: exit 0 while some
# replies came back.
liar_rc() {
	local port pid rc
	"$UDPLIAR" --lifetime 30 --mismatch 2 >"$TMPD/liar.rc.out" 2>/dev/null &
	pid=$!
	track_pid "$pid"
	wait_for 5 grep -qs '^port [0-9]' "$TMPD/liar.rc.out"
	port=$(sed -n -E 's/^port ([0-9]+)$/\1/p' "$TMPD/liar.rc.out")
	rtt_to "$port" --udp -n 4 --warmup 0 --timeout-ms 200 >"$TMPD/liar.rc.txt" 2>&1
	rc=$?
	kill -TERM "$pid" 2>/dev/null
	wait_pid "$pid" 5
	return $rc
}
assert_exit 0 "ftx rtt --udp against a half-lying responder exits 0" liar_rc
assert_match '^  sent 4, received 2, lost 2, late 0, duplicated 0, mismatched 2$' \
    "$(grep '  sent ' "$TMPD/liar.rc.txt")" "and its text report counts 2 mismatched and 2 lost"

# A responder that echoes every request verbatim (as ftxd did before
# replies were FTXR, and as an echo service that would loop with another
# does) gets no reply accepted: ftx rtt fails and says why.
liar_verbatim() {
	local port pid rc
	"$UDPLIAR" --lifetime 30 --verbatim 1 >"$TMPD/liar.vb.out" 2>/dev/null &
	pid=$!
	track_pid "$pid"
	wait_for 5 grep -qs '^port [0-9]' "$TMPD/liar.vb.out"
	port=$(sed -n -E 's/^port ([0-9]+)$/\1/p' "$TMPD/liar.vb.out")
	rtt_to "$port" --udp -n 3 --warmup 0 --timeout-ms 200 >"$TMPD/liar.vb.txt" 2>"$TMPD/liar.vb.err"
	rc=$?
	kill -TERM "$pid" 2>/dev/null
	wait_pid "$pid" 5
	return $rc
}
assert_exit 1 "ftx rtt --udp against a verbatim echo (requests sent back) fails" liar_verbatim
assert_match '^  sent 3, received 0, lost 3, late 0, duplicated 0, mismatched 3$' \
    "$(grep '  sent ' "$TMPD/liar.vb.txt")" "and counts the 3 verbatim echoes as mismatched"
assert_match 'verbatim' "$(cat "$TMPD/liar.vb.err")" "and says the server echoes requests verbatim"
finish

#!/bin/bash
# Slowloris (issue 6, "Fault tests"): connections that dribble one byte
# of a line that never ends every 2 s, and data connections that never
# send their token, must all be closed by the server within its timeouts,
# while a normal client keeps working with normal latency.
#
# Two servers run at once:
#  - A, with --idle-timeout 3, gets 500 slow control connections and 50
#    silent data connections.  The idle timeout counts complete lines
#    only, so the slow ones must go after about 3 s (not be kept alive by
#    their bytes), and the data connections after the token deadline
#    (FTX_DATA_HELLO_TIMEOUT_S).
#  - B, with the default idle timeout (300 s), gets 50 slow control
#    connections: there the rule "a started line must be finished within
#    FTX_LINE_TIMEOUT_S" has to close them.
# Meanwhile a normal client loops over put, get (compared byte for byte)
# and `ftx rtt -n 50 --json` against A, and rtt against B; every
# operation must succeed and the rtt median must stay below RTT_MAX_MS.
# The load comes from tests/tools/ftxload (one epoll process).
. "$(dirname "$0")/lib.sh"

FTXLOAD=$FTX_BUILD/tools/ftxload
if [ ! -x "$FTXLOAD" ]; then
	fail "$FTXLOAD is not built (make tools)"
	exit 1
fi

LIMITS_H=$ITEST_DIR/../../shared/ftx_limits.h
limit() {
	sed -n -E "s/^#define $1 \(?([0-9]+)\)?.*/\1/p" "$LIMITS_H" | head -n 1
}
IDLE=3
SLOW_A=500
DATA_A=50
SLOW_B=50
INTERVAL=2
HELLO=$(limit FTX_DATA_HELLO_TIMEOUT_S)
LINE_TIMEOUT=$(limit FTX_LINE_TIMEOUT_S)
if ! [[ $HELLO =~ ^[0-9]+$ ]]; then
	fail "cannot read FTX_DATA_HELLO_TIMEOUT_S from $LIMITS_H"
	exit 1
fi
if ! [[ $LINE_TIMEOUT =~ ^[0-9]+$ ]]; then
	# The rule the issue asks for; without the constant the server
	# has no such rule and phase B fails, as it should.
	echo "note: FTX_LINE_TIMEOUT_S not in $LIMITS_H; expecting 30 s"
	LINE_TIMEOUT=30
fi
# ftxd checks its timers once a second: allow that, plus scheduling.
SLACK=3
RTT_MAX_MS=5
if [ -n "${FTX_WRAP:-}" ]; then
	RTT_MAX_MS=50 # under valgrind everything is 20-50 times slower
fi

# 600 connections and more: make sure neither side runs out of
# descriptors (ftxload raises its own limit; ftxd inherits ours).
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt 2048 ]; then
	skip "RLIMIT_NOFILE hard limit $hard is below 2048"
fi
ulimit -Sn "$hard" || skip "cannot raise the soft RLIMIT_NOFILE"

# ---------------------------------------------------------------- servers

ROOT=$TMPD/rootA
mkdir -p "$ROOT"
start_server --idle-timeout "$IDLE" --max-clients 2000 --max-per-ip 2000
A_PID=$SERVER_PID
A_CTRL=$CTRL_PORT
A_DATA=$DATA_PORT
A_LOG=$LOG
ROOT=$TMPD/rootB
mkdir -p "$ROOT"
start_server --max-clients 2000 --max-per-ip 2000
B_PID=$SERVER_PID
B_CTRL=$CTRL_PORT
B_LOG=$LOG
# The normal client's ftx() and server_alive use server A by default.
use_a() {
	SERVER_PID=$A_PID CTRL_PORT=$A_CTRL LOG=$A_LOG ROOT=$TMPD/rootA
}
use_b() {
	SERVER_PID=$B_PID CTRL_PORT=$B_CTRL LOG=$B_LOG ROOT=$TMPD/rootB
}
use_a

# ---------------------------------------------------------------- load

"$FTXLOAD" -p "$A_CTRL" --data-port "$A_DATA" slowloris "$SLOW_A" \
    --interval "$INTERVAL" --data "$DATA_A" --deadline $((HELLO + 15)) \
    >"$TMPD/load-a.out" 2>"$TMPD/load-a.err" &
LOAD_A=$!
track_pid "$LOAD_A"
"$FTXLOAD" -p "$B_CTRL" slowloris "$SLOW_B" --interval "$INTERVAL" \
    --deadline $((LINE_TIMEOUT + 15)) >"$TMPD/load-b.out" 2>"$TMPD/load-b.err" &
LOAD_B=$!
track_pid "$LOAD_B"

# ---------------------------------------------------------------- normal client

mkdir -p "$TMPD/src" "$TMPD/dl"
mkrand "$TMPD/src/normal.bin" 100000
jnum() {
	sed -n -E "s/.*\"$2\":(-?[0-9][0-9.eE+-]*).*/\1/p" "$1" | head -n 1
}
iter=0
op_fail=0
slow_iter=0
medians=()
while kill -0 "$LOAD_A" 2>/dev/null || kill -0 "$LOAD_B" 2>/dev/null; do
	iter=$((iter + 1))
	t0=$EPOCHREALTIME
	use_a
	if ! ftx -q put "$TMPD/src/normal.bin" >"$TMPD/op.out" 2>&1; then
		op_fail=$((op_fail + 1))
		echo "iteration $iter: put failed: $(head -c 300 "$TMPD/op.out")" >&2
	fi
	rm -f "$TMPD/dl/normal.bin"
	if ! ftx -q get normal.bin -o "$TMPD/dl" >"$TMPD/op.out" 2>&1 ||
	    ! cmp -s "$TMPD/src/normal.bin" "$TMPD/dl/normal.bin"; then
		op_fail=$((op_fail + 1))
		echo "iteration $iter: get failed or differs: $(head -c 300 "$TMPD/op.out")" >&2
	fi
	for srv in a b; do
		"use_$srv"
		if ! ftx -q rtt -n 50 --json >"$TMPD/rtt.json" 2>"$TMPD/op.out"; then
			op_fail=$((op_fail + 1))
			echo "iteration $iter: rtt ($srv) failed: $(head -c 300 "$TMPD/op.out")" >&2
			continue
		fi
		medians+=("$srv:$(jnum "$TMPD/rtt.json" median_ms):$(jnum "$TMPD/rtt.json" p99_ms)")
	done
	# One round of the normal client is tens of milliseconds; seconds
	# would mean the server made it wait behind the slow peers.
	if awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a > 5) }'; then
		slow_iter=$((slow_iter + 1))
		echo "iteration $iter took more than 5 s" >&2
	fi
	sleep 0.2
done
use_a

wait "$LOAD_A"
rc_a=$?
wait "$LOAD_B"
rc_b=$?
echo "--- server A (idle timeout $IDLE s): ftxload output"
cat "$TMPD/load-a.out" "$TMPD/load-a.err"
echo "--- server B (idle timeout 300 s): ftxload output"
cat "$TMPD/load-b.out" "$TMPD/load-b.err"
for srv in a b; do
	printf '%s\n' "${medians[@]}" | awk -F: -v s="$srv" '$1 == s {
		n++; if ($2 > m) m = $2; if ($3 > p) p = $3 }
		END { printf "--- normal client, server %s: %d rtt runs, worst median %.3f ms, worst p99 %.3f ms\n", toupper(s), n, m, p }'
done

# ---------------------------------------------------------------- checks

# field FILE KIND KEY: a value from an ftxload "slowloris KIND" line.
field() {
	sed -n -E "s/^slowloris $2 .*[ ]$3=([^ ]+).*/\1/p" "$1" | head -n 1
}

# within FILE KIND N LO HI DESC: all N connections of KIND were closed,
# the first after at least LO and the last after at most HI seconds.
within() {
	local f=$1 kind=$2 n=$3 lo=$4 hi=$5 desc=$6 closed min max
	closed=$(field "$f" "$kind" closed)
	min=$(field "$f" "$kind" min_s)
	max=$(field "$f" "$kind" max_s)
	if [ "$closed" != "$n" ]; then
		fail "$desc: only '$closed' of $n closed, so no timing"
	elif awk -v a="$min" -v b="$max" -v lo="$lo" -v hi="$hi" \
	    'BEGIN { exit !(a >= lo && b <= hi) }'; then
		pass "$desc: closed after $min..$max s (allowed $lo..$hi s)"
	else
		fail "$desc: closed after $min..$max s, allowed $lo..$hi s"
	fi
}

assert_eq 0 "$rc_a" "ftxload against A: every slow connection closed by the server"
assert_eq "$SLOW_A" "$(field "$TMPD/load-a.out" control closed)" \
    "A: all $SLOW_A slow control connections were closed"
assert_eq "$SLOW_A" "$(field "$TMPD/load-a.out" control timeout_replies)" \
    "A: each was told ERROR TIMEOUT before the close"
within "$TMPD/load-a.out" control "$SLOW_A" 0 $((IDLE + SLACK)) \
    "A: slow control connections (idle timeout $IDLE s; bytes of an unfinished line are not activity)"
assert_eq "$DATA_A" "$(field "$TMPD/load-a.out" data closed)" \
    "A: all $DATA_A tokenless data connections were closed"
within "$TMPD/load-a.out" data "$DATA_A" $((HELLO - 1)) $((HELLO + SLACK)) \
    "A: tokenless data connections (token deadline $HELLO s)"

assert_eq 0 "$rc_b" "ftxload against B: every slow connection closed by the server"
assert_eq "$SLOW_B" "$(field "$TMPD/load-b.out" control closed)" \
    "B: all $SLOW_B slow control connections were closed although the idle timeout is 300 s"
# Times count from the connection's start; its line starts with its
# first byte, up to one interval later (ftxload spreads them out).
within "$TMPD/load-b.out" control "$SLOW_B" $((LINE_TIMEOUT - 1)) \
    $((LINE_TIMEOUT + INTERVAL + SLACK)) \
    "B: unfinished lines are bounded by FTX_LINE_TIMEOUT_S ($LINE_TIMEOUT s)"

if [ "$iter" -ge 3 ]; then
	pass "the normal client ran $iter rounds during the attack"
else
	fail "the normal client ran only $iter rounds"
fi
assert_eq 0 "$op_fail" "every put, get and rtt of the normal client succeeded"
assert_eq 0 "$slow_iter" "no round of the normal client took more than 5 s"
worst=$(printf '%s\n' "${medians[@]}" | awk -F: '$2 > w { w = $2 } END { print w + 0 }')
if [ "${#medians[@]}" -gt 0 ] &&
    awk -v w="$worst" -v m="$RTT_MAX_MS" 'BEGIN { exit !(w < m) }'; then
	pass "rtt median stayed below $RTT_MAX_MS ms in all ${#medians[@]} runs (worst $worst ms)"
else
	fail "rtt median reached $worst ms (limit $RTT_MAX_MS ms): ${medians[*]}"
fi

assert_alive "slowloris against server A"
use_b
assert_alive "slowloris against server B"
if log_has 'line timeout'; then
	pass "B's log names the line timeout"
else
	fail "B's log does not say 'line timeout'"
fi
use_a
n=$(grep -c 'data-reject reason=no token in time' "$A_LOG")
assert_eq "$DATA_A" "$n" "A's log has one 'no token in time' reject per data connection"

finish

#!/usr/bin/env bash
# bench/attack.sh - control-command latency under the stalled-transfer
# attack of issue 11 (item 1), for this build and, side by side, for an
# older one.
#
#	bench/attack.sh [BASE_BUILD_DIR]
#
# ATTACK_N sessions (default 130) from 127.0.0.21 and 127.0.0.22 each send
# `UPLOAD slowN 1000000`, connect the data port, send the token and one
# byte, and then nothing.  Meanwhile a client on 127.0.0.5 sends LIST and
# HASH, one at a time, SAMPLES times each (default 10), each with a
# TIMEOUT_S (default 5) reply timeout; the rows give the median and the
# worst reply time and how many were answered at all.  The servers run
# with their defaults, except --max-per-ip 100 (so that both addresses
# can open 65 sessions) and --min-rate 0 where the build has it (so the
# attack is not cut during the measurement: the latency is what the
# thread lanes give, not the watchdog).  Loopback only; every process is
# stopped by PID.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
BUILD=${FTX_BUILD:-build}
BASE=${1:-}
N=${ATTACK_N:-130}
SAMPLES=${SAMPLES:-10}
TIMEOUT_S=${TIMEOUT_S:-5}
TMP=$(mktemp -d /tmp/ftx-attack.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
ALLOW_ROOT=
[ "$(id -u)" = 0 ] && ALLOW_ROOT=--allow-root

# ms CMD...: run CMD, print its wall time in ms and its exit status.
ms() {
	local t0 rc
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 && rc=0 || rc=$?
	echo "$((($(date +%s%N) - t0) / 1000000)) $rc"
}

# run LABEL BUILD_DIR [FTXD-ARGS...]: one attack against that build's
# ftxd; two rows.
run() {
	local label=$1 b=$2 root=$TMP/root.${1// /_} log=$TMP/log.${1// /_} extra=() i line port
	shift 2
	local ftxd=$b/ftxd raw=$b/tools/ftxraw
	mkdir -p "$root"
	head -c 1000000 /dev/urandom >"$root/file"
	"$ftxd" --help | grep -q -- --min-rate && extra=(--min-rate 0)
	extra+=("$@")
	"$ftxd" $ALLOW_ROOT --root "$root" --bind 127.0.0.1 --port 0 --data-port 0 \
	    --max-per-ip 100 --log "$log" "${extra[@]}" </dev/null >/dev/null 2>&1 &
	local spid=$!
	PIDS+=("$spid")
	for ((i = 0; i < 100; i++)); do
		line=$(grep -m1 -o 'listening control=[^ ]*' "$log" 2>/dev/null || true)
		[ -n "$line" ] && break
		sleep 0.05
	done
	port=${line##*:}
	# Warm the hash cache so HASH measures the queue, not the disk.
	"$raw" -h 127.0.0.1 -p "$port" ctl 'line:HASH file' >/dev/null 2>&1 || true
	for ((i = 0; i < N; i++)); do
		local src=127.0.0.$((21 + i % 2))
		"$raw" -h 127.0.0.1 -p "$port" -w 600 "ctl@$src" "line:UPLOAD slow$i 1000000" \
		    "data@$src" 'draw:x' stall >/dev/null 2>&1 &
		PIDS+=("$!")
	done
	sleep 3 # every attacker has connected and sent its byte
	local running
	running=$("$raw" -h 127.0.0.1 -p "$port" -t "$TIMEOUT_S" ctl@127.0.0.6 line:STATS 2>/dev/null |
	    grep -o 'xfers_running=[0-9]*' | head -n 1 || true)
	[ -n "$running" ] || running="xfers_running=? (STATS unanswered)"
	local verb out=()
	for verb in LIST 'HASH file'; do
		local times=() ok=0 r t rc
		for ((i = 0; i < SAMPLES; i++)); do
			r=$(ms "$raw" -h 127.0.0.1 -p "$port" -t "$TIMEOUT_S" -w $((TIMEOUT_S + 5)) \
			    ctl@127.0.0.5 "line:$verb" 'ok:^(OK|FILE|[0-9a-f]{64})')
			t=${r% *}
			rc=${r#* }
			[ "$rc" = 0 ] && ok=$((ok + 1))
			times+=("$t")
		done
		local sorted med max
		sorted=$(printf '%s\n' "${times[@]}" | sort -n)
		med=$(printf '%s\n' "$sorted" | awk -v n="$SAMPLES" 'NR == int((n + 1) / 2) { print }')
		max=$(printf '%s\n' "$sorted" | tail -n 1)
		out+=("| $label | ${verb%% *} | $ok of $SAMPLES | $med | $max |")
	done
	printf '%s\n' "${out[@]}" | sed "s/^| $label |/| $label ($running) |/"
	for i in "${PIDS[@]}"; do kill -KILL "$i" 2>/dev/null || true; done
	PIDS=()
	wait 2>/dev/null || true
} 2>/dev/null

echo "### Control latency under $N stalled uploads"
echo
echo "\`bench/attack.sh${BASE:+ $BASE}\` ($(date -u +%Y-%m-%d), $(nproc) cores; $N attackers from 2 addresses; client on a third; each request times out after $TIMEOUT_S s)"
echo
echo "| build | command | answered | median ms | worst ms |"
echo "|---|---|---|---|---|"
run this "$BUILD"
# The thread lanes alone: caps high enough that every attacker runs.
run "this, caps lifted" "$BUILD" --max-transfers 200 --max-transfers-per-ip 200
if [ -n "$BASE" ]; then
	run base "$BASE"
fi

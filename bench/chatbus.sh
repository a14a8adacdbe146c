#!/bin/bash
# bench/chatbus.sh - chat delivery latency over the chat bus
# (--chat-redis) against one node without it: p50/p90/p99 of one
# message's trip from a sender to a receiver in an idle room
# (bench/chatlat.c), for
#   local:    one ftxd without --chat-redis (today's room)
#   bus-same: sender and receiver on the same node, through Redis
#   bus-cross: sender on node 1 (127.0.0.11), receiver on node 2
#             (127.0.0.12), through Redis (127.0.0.1)
# Prints a Markdown table.  Every process it starts is stopped by PID.
#
#	FTX_BUILD=build bash bench/chatbus.sh   (CHATLAT_N=2000 messages)
set -u
BUILD=${FTX_BUILD:-build}
N=${CHATLAT_N:-2000}
REPO=$(cd "$(dirname "$0")/.." && pwd)
FTXD=$BUILD/ftxd
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/ftx-chatbus.XXXXXX") || exit 1
PIDS=()
ALLOW_ROOT=
[ "$(id -u)" = 0 ] && ALLOW_ROOT=--allow-root

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	sleep 0.5
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$TMPD"
}
trap cleanup EXIT

command -v redis-server >/dev/null ||
	{ echo "chatbus.sh: redis-server missing (make deps-cluster)" >&2; exit 77; }
cc -O2 -o "$TMPD/chatlat" "$REPO/bench/chatlat.c" || exit 1

port=
for i in $(seq 1 50); do
	p=$((20000 + RANDOM % 30000))
	if ! (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		port=$p
		break
	fi
done
[ -n "$port" ] || exit 1
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
	--logfile "$TMPD/redis.log" &
PIDS+=($!)
for i in $(seq 1 50); do
	[ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
	sleep 0.1
done

# node N ADDR [ARGS]: ftxd on ADDR; its control port in CPORT[N].
declare -A CPORT
node() {
	local n=$1 addr=$2 line i
	shift 2
	mkdir -p "$TMPD/root$n"
	"$FTXD" $ALLOW_ROOT --bind "$addr" --port 0 --data-port 0 \
		--root "$TMPD/root$n" --log "$TMPD/n$n.log" --chat-rate 0 "$@" \
		>"$TMPD/n$n.out" 2>&1 &
	PIDS+=($!)
	for i in $(seq 1 100); do
		line=$(grep -m 1 'listening control=' "$TMPD/n$n.log" 2>/dev/null)
		[ -n "$line" ] && break
		sleep 0.05
	done
	CPORT[$n]=$(printf '%s\n' "$line" | sed -E 's/.*control=[^ ]*:([0-9]+).*/\1/')
	if [ $# -gt 0 ]; then
		for i in $(seq 1 100); do
			grep -q 'chat bus: up' "$TMPD/n$n.log" && break
			sleep 0.05
		done
	fi
}

node 0 127.0.0.13
node 1 127.0.0.11 --chat-redis "redis://127.0.0.1:$port" --node-id n1
node 2 127.0.0.12 --chat-redis "redis://127.0.0.1:$port" --node-id n2

run() {
	local name=$1 out
	shift
	out=$("$TMPD/chatlat" -n "$N" "$@") || { echo "| $name | failed | | | |"; return; }
	# n=N p50_us=A p90_us=B p99_us=C max_us=D
	set -- $(printf '%s\n' "$out" | tr '=' ' ')
	echo "| $name | $2 | $4 | $6 | $8 | ${10} |"
}

echo "| path | messages | p50 µs | p90 µs | p99 µs | max µs |"
echo "|---|---|---|---|---|---|"
run "one node, no bus" 127.0.0.13 "${CPORT[0]}" 127.0.0.13 "${CPORT[0]}"
run "one node, through Redis" 127.0.0.11 "${CPORT[1]}" 127.0.0.11 "${CPORT[1]}"
run "across nodes, through Redis" 127.0.0.11 "${CPORT[1]}" 127.0.0.12 "${CPORT[2]}"

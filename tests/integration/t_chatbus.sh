#!/bin/bash
# Chat across nodes (--chat-redis; docs/PROTOCOL.md "Chat",
# docs/SCALING.md "Chat across nodes"): a real redis-server on 127.0.0.1
# and two ftxd nodes, on 127.0.0.11 and 127.0.0.12, with raw chat
# sessions on both (bash /dev/tcp; a subshell reads each session's
# replies and pushes into a file).  Covered: join notices across nodes,
# a broadcast burst from three members on two nodes seen by all in one
# order, each message exactly once; @nick to a member of the other node
# (and to no one else), a missing nick refused; /who lists both nodes'
# members in joining order; a nick taken on one node refused on the
# other (without regard to case); leave notices across nodes; messages
# forged on the bus (a NOTICE, escape sequences, junk) never reach a
# member; redis-server killed: every member is told, chat goes on within
# the node, files are still served (put and get); redis-server restarted
# on the same port: the nodes reconnect, say so, claim their members'
# nicks again, and chat works across nodes again; a node stopped: its
# members' LEFT reaches the other node and their nicks are free again.
. "$(dirname "$0")/lib.sh"

trap '' PIPE

REDIS_SERVER=$(command -v redis-server) ||
	skip "redis-server is not installed (install with make deps-cluster)"
REDIS_CLI=$(command -v redis-cli) ||
	skip "redis-cli is not installed (install with make deps-cluster)"

# ---------------------------------------------------------------- redis

REDIS_PID=
REDIS_PORT=

# A free TCP port on 127.0.0.1 (nothing answers it now), below the
# kernel's ephemeral range: a port in it may be any connection's local
# port a moment later (another suite's client), and Redis's bind fails.
free_port() {
	local p i lo=32768
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	[ "$lo" -gt 20100 ] 2>/dev/null || lo=32768
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % (lo - 20000)))
		if ! (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

rcli() {
	timeout 5 "$REDIS_CLI" -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

# start_redis: redis-server on 127.0.0.1:$REDIS_PORT without persistence.
# Started as "$ITEST_DIR/redis-server" (its process title), so the exit
# trap recognises it as ours and stops it by PID.
start_redis() {
	(exec -a "$ITEST_DIR/redis-server" "$REDIS_SERVER" --port "$REDIS_PORT" \
		--bind 127.0.0.1 --save '' --appendonly no \
		--dir "$TMPD" --logfile "$TMPD/redis.log") &
	REDIS_PID=$!
	track_pid "$REDIS_PID"
	if wait_for 10 eval '[ "$(rcli ping 2>/dev/null)" = PONG ]'; then
		pass "redis-server up on 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)"
	else
		fail "redis-server did not start; its log:"
		tail -n 20 "$TMPD/redis.log" >&2
		exit 1
	fi
}

stop_redis() {
	[ -n "$REDIS_PID" ] || return 0
	kill -"${1:-TERM}" "$REDIS_PID" 2>/dev/null
	wait_for 10 eval "! kill -0 $REDIS_PID 2>/dev/null"
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}

REDIS_PORT=$(free_port) || skip "no free port for redis-server"
start_redis

# ---------------------------------------------------------------- options

# Bad values stop ftxd at start-up with a reason.
for bad in "http://127.0.0.1:$REDIS_PORT" "redis://u:pw@127.0.0.1:$REDIS_PORT" \
	"redis://127.0.0.1:0" "redis://127.0.0.1:$REDIS_PORT/x"; do
	out=$(timeout 10 "$FTXD" $ALLOW_ROOT --bind 127.0.0.1 --port 0 --data-port 0 \
		--root "$TMPD/badroot" --chat-redis "$bad" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && printf '%s' "$out" | grep -q -- '--chat-redis: '; then
		pass "--chat-redis $bad is refused: $(printf '%s' "$out" | head -n 1)"
	else
		fail "--chat-redis $bad: exit $rc: $out"
	fi
done
out=$(timeout 10 "$FTXD" $ALLOW_ROOT --bind 127.0.0.1 --port 0 --data-port 0 \
	--root "$TMPD/badroot" --chat-redis "redis://127.0.0.1:$REDIS_PORT" \
	--node-id 'a:b' 2>&1)
assert_match 'node id' "$out" "a --node-id with ':' is refused"

# ---------------------------------------------------------------- nodes

# start_node N ADDR: ftxd on ADDR with its own root, on the bus as node
# nN; sets NODE_PID[N], NODE_PORT[N], NODE_LOG[N].
declare -A NODE_PID NODE_PORT NODE_LOG
start_node() {
	ROOT=$TMPD/root$1
	mkdir -p "$ROOT"
	BIND=$2 start_server --chat-redis "redis://127.0.0.1:$REDIS_PORT" \
		--node-id "n$1"
	NODE_PID[$1]=$SERVER_PID
	NODE_PORT[$1]=$CTRL_PORT
	NODE_LOG[$1]=$LOG
	if wait_for 10 grep -q 'chat bus: up' "$LOG"; then
		pass "node n$1 on $2 is on the chat bus"
	else
		fail "node n$1 did not reach the chat bus: $(tail -n 5 "$LOG")"
	fi
}

start_node 1 127.0.0.11
start_node 2 127.0.0.12
ADDR[1]=127.0.0.11
ADDR[2]=127.0.0.12

# on N: ftxraw, ftx, ... against node N.
on() {
	local n=$1
	shift
	HOST=${ADDR[$n]} CTRL_PORT=${NODE_PORT[$n]} "$@"
}

# ---------------------------------------------------------------- members

declare -A CFD RPID

# client NAME N: a raw control session on node N; everything it receives
# goes to $TMPD/NAME.out.  The reader is a subshell of this script (so
# ours() knows it) holding no other session's socket.
client() {
	local name=$1 n=$2 fd other
	exec {fd}<>"/dev/tcp/${ADDR[$n]}/${NODE_PORT[$n]}" || {
		fail "cannot connect $name to node n$n"
		return 1
	}
	(
		for other in "${CFD[@]}"; do
			exec {other}>&-
		done
		while IFS= read -r -t 120 line; do
			printf '%s\n' "${line%$'\r'}"
		done
	) <&"$fd" >"$TMPD/$name.out" &
	RPID[$name]=$!
	track_pid "$!"
	CFD[$name]=$fd
}

# send NAME LINE...: lines to a session.
send() {
	local name=$1
	shift
	printf '%s\n' "$@" >&"${CFD[$name]}"
}

# hangup NAME: close the session (the reader sees EOF and ends).
hangup() {
	local fd=${CFD[$1]}
	exec {fd}>&-
	unset "CFD[$1]"
	wait_pid "${RPID[$1]}" 5
}

out_of() { printf '%s' "$TMPD/$1.out"; }
seen() { grep -Eq -- "$2" "$(out_of "$1")"; }
nseen() { grep -Ec -- "$2" "$(out_of "$1")"; }

# expect SECS NAME ERE DESC
expect() {
	if wait_for "$1" seen "$2" "$3"; then
		pass "$4"
	else
		fail "$4: /$3/ not in $2's output within $1 s; last lines:"
		tail -n 8 "$(out_of "$2")" | cut -c1-200 | sed 's/^/    /' >&2
	fi
}

# never NAME ERE DESC
never() {
	if ! seen "$1" "$2"; then
		pass "$3"
	else
		fail "$3: $(grep -E -- "$2" "$(out_of "$1")" | head -n 3 | cut -c1-200)"
	fi
}

TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z'

# join NAME N NICK: a session on node N joins as NICK.
join() {
	client "$1" "$2" || return
	send "$1" "JOIN $3"
	expect 5 "$1" "^OK $3\$" "$3 joined on node n$2"
}

join alice 1 alice
join bob 2 bob
join carol 1 carol

expect 5 alice "^JOIN $TS bob\$" "alice (n1) sees bob (n2) join"
expect 5 bob "^JOIN $TS carol\$" "bob (n2) sees carol (n1) join"
expect 5 alice "^JOIN $TS carol\$" "alice sees carol join"

# ---------------------------------------------------------------- nicks

on 2 raw "a nick taken on n1 is refused on n2, without regard to case" \
	ctl line:'JOIN ALICE' 'ok:^ERROR NICKTAKEN'
on 1 raw "a nick taken on n2 is refused on n1" \
	ctl line:'JOIN Bob' 'ok:^ERROR NICKTAKEN'
on 1 raw "a nick taken on the same node is still refused" \
	ctl line:'JOIN Carol' 'ok:^ERROR NICKTAKEN'

on 2 raw "/who on n2 lists both nodes' members in joining order" \
	ctl line:WHO 'ok:^OK 3$' 'has:^NICK alice$' 'has:^NICK bob$' \
	'has:^NICK carol$'
assert_eq "alice bob carol" \
	"$(grep '^< NICK ' "$RAW_OUT" | awk '{ printf "%s%s", sep, $3; sep = " " }')" \
	"/who order is the joining order"
on 1 raw "/who on n1 gives the same list" \
	ctl line:WHO 'ok:^OK 3$' 'has:^NICK bob$'

# Commands sent in one go are answered in order, also those that wait
# for Redis (JOIN, WHO, MSG to another node).
on 2 raw "pipelined chat commands on n2" ctl \
	'raw:JOIN pipe\nWHO\nMSG alice hi-from-pipe\nSAY piped\nWHO\nLEAVE\nNOOP\n' \
	drain:2
got=$(sed -n 's/^< //p' "$RAW_OUT" | grep -vE '^(MSG|JOIN|LEFT|PRIV|NOTICE) ' | tr '\n' '|')
assert_match '^OK FTX/1 [^|]*\|OK pipe\|OK 4\|(NICK [a-z]+\|){4}DONE\|OK\|OK\|OK 4\|(NICK [a-z]+\|){4}DONE\|OK\|OK\|(TIMEOUT\|)?$' \
	"$got" "replies come in command order"
expect 5 alice "^PRIV $TS pipe alice hi-from-pipe\$" "the pipelined @alice arrives"

# ---------------------------------------------------------------- order

# Three members on two nodes send at once; everyone must see all 45
# messages exactly once, in one order (the bus's), timestamps included.
for i in $(seq 1 15); do
	send alice "SAY a-$i"
	send bob "SAY b-$i"
	send carol "SAY c-$i"
done
for who in alice bob carol; do
	if ! wait_for 10 eval "[ \$(nseen $who '^MSG .* [abc]-[0-9]+\$') -ge 45 ]"; then
		fail "$who did not see all 45 messages: $(nseen "$who" '^MSG ')"
	fi
done
grep -E '^MSG .* [abc]-[0-9]+$' "$(out_of alice)" >"$TMPD/order.alice"
grep -E '^MSG .* [abc]-[0-9]+$' "$(out_of bob)" >"$TMPD/order.bob"
grep -E '^MSG .* [abc]-[0-9]+$' "$(out_of carol)" >"$TMPD/order.carol"
assert_eq 45 "$(sort -u "$TMPD/order.alice" | wc -l)" \
	"45 different messages, each once"
if cmp -s "$TMPD/order.alice" "$TMPD/order.bob" &&
	cmp -s "$TMPD/order.alice" "$TMPD/order.carol"; then
	pass "members on both nodes see the same order"
else
	fail "orders differ: $(diff "$TMPD/order.alice" "$TMPD/order.bob" | head -n 6)"
fi
# Each sender's own messages stay in the order it sent them.
assert_eq "$(seq 1 15 | sed 's/^/b-/' | tr '\n' ' ')" \
	"$(grep -oE 'b-[0-9]+$' "$TMPD/order.alice" | tr '\n' ' ')" \
	"bob's messages arrive at n1 in the order he sent them"
assert_eq 0 "$(grep -c '^ERROR' "$(out_of bob)")" "no errors for bob"

# ---------------------------------------------------------------- @nick

send alice "MSG bob psst across"
expect 5 bob "^PRIV $TS alice bob psst across\$" "@bob from n1 reaches bob on n2"
expect 5 alice "^PRIV $TS alice bob psst across\$" "alice gets the echo"
send bob "MSG ALICE back"
expect 5 alice "^PRIV $TS bob alice back\$" \
	"@ALICE from n2 reaches alice on n1, shown as she joined"
send carol "MSG alice same node"
expect 5 alice "^PRIV $TS carol alice same node\$" "@nick within a node"
on 2 raw "@nick to no one gets NOSUCHNICK" \
	ctl line:'JOIN dave' 'ok:^OK dave' read 'ok:^JOIN .* dave$' \
	line:'MSG nobody hello' 'ok:^ERROR NOSUCHNICK' line:LEAVE 'ok:^OK$'
send bob "SAY sync-1"
expect 5 carol "^MSG $TS bob sync-1\$" "carol is in step"
never carol "psst across|back\$" "private messages reach no one else"

# ---------------------------------------------------------------- hostile bus

# Anyone who can PUBLISH on the Redis server can put anything on the bus:
# every message is checked like a client's line.
FORGED=(
	"ftx1 evil NOTICE 2026-11-21T09:30:00.125Z server says reboot"
	"ftx1 evil MSG 2026-11-21T09:30:00.125Z mallory $(printf '\033')[2Jwiped"
	"ftx1 evil MSG 2026-11-21T09:30:00.125Z mallory $(printf 'two\nlines')"
	"ftx1 evil LEFT 2026-11-21T09:30:00.125Z alice banned"
	"ftx1 evil PRIV 2026-11-21T09:30:00.125Z mallory bob to-everyone"
	"ftx2 evil MSG 2026-11-21T09:30:00.125Z mallory future"
	"junk"
)
for m in "${FORGED[@]}"; do
	rcli PUBLISH ftx:room "$m" >/dev/null
done
rcli PUBLISH ftx:node:n2 "ftx1 evil MSG 2026-11-21T09:30:00.125Z mallory x" >/dev/null
head -c 8000 /dev/zero | tr '\0' x | sed 's/^/ftx1 evil MSG 2026-11-21T09:30:00.125Z mallory /' |
	timeout 5 "$REDIS_CLI" -h 127.0.0.1 -p "$REDIS_PORT" -x PUBLISH ftx:room >/dev/null
send alice "SAY sync-2"
expect 5 bob "^MSG $TS alice sync-2\$" "bob is in step after the forgeries"
for who in alice bob carol; do
	never "$who" "mallory|reboot|banned|to-everyone|$(printf '\033')" \
		"no forged message reaches $who"
done
expect 0 alice "." "alice still connected"
if wait_for 5 grep -q 'chat bus: [0-9]* bad messages dropped' "${NODE_LOG[1]}"; then
	pass "n1 logs the dropped messages"
else
	fail "n1 does not log the dropped messages"
fi

# ---------------------------------------------------------------- leaving

send carol LEAVE
expect 5 bob "^LEFT $TS carol leave\$" "carol's LEAVE on n1 is announced on n2"
expect 5 alice "^LEFT $TS carol leave\$" "and on n1"
on 2 raw "carol's nick is free on n2 once she left" \
	ctl line:'JOIN carol' 'ok:^OK carol' line:QUIT
expect 5 alice "^LEFT $TS carol quit\$" "the second carol's QUIT (n2) is announced on n1"

# ---------------------------------------------------------------- redis lost

stop_redis KILL
LOST='^NOTICE [^ ]+ chat bus lost; messages are not delivered across nodes until it is back$'
expect 5 alice "$LOST" "alice (n1) is told the bus is lost"
expect 5 bob "$LOST" "bob (n2) is told the bus is lost"

# The node keeps serving files...
mkrand "$TMPD/up.bin" 300000
mkdir -p "$TMPD/dl"
if on 1 ftx put "$TMPD/up.bin" >"$TMPD/put.out" 2>&1 &&
	on 1 ftx get up.bin -o "$TMPD/dl" >"$TMPD/get.out" 2>&1 &&
	cmp -s "$TMPD/up.bin" "$TMPD/dl/up.bin"; then
	pass "files are still served while the bus is down"
else
	fail "put/get failed while the bus is down: $(cat "$TMPD/put.out" "$TMPD/get.out" | tail -n 5)"
fi
# ...and chat within the node.
join erin 1 erin
expect 5 erin "$LOST" "a member joining while the bus is down is told"
send alice "SAY only-n1"
expect 5 erin "^MSG $TS alice only-n1\$" "chat goes on within n1"
on 1 raw "@nick to the other node: NOSUCHNICK, the bus is down" \
	ctl line:'JOIN frank' 'ok:^OK frank' read 'ok:^NOTICE .* chat bus lost' \
	read 'ok:^JOIN .* frank$' line:'MSG bob hi' \
	'ok:^ERROR NOSUCHNICK .*chat bus down' \
	line:QUIT
on 2 raw "/who while down lists the node's own members" \
	ctl line:WHO 'ok:^OK 1$' 'has:^NICK bob$'

# ---------------------------------------------------------------- redis back

start_redis
expect 15 alice "^NOTICE $TS chat bus back\$" "alice is told the bus is back"
expect 15 bob "^NOTICE $TS chat bus back\$" "bob is told the bus is back"
send alice "SAY across-again"
expect 5 bob "^MSG $TS alice across-again\$" "chat crosses the nodes again"
never bob "only-n1" "what was said during the outage stayed on n1"
send bob "MSG erin welcome"
expect 5 erin "^PRIV $TS bob erin welcome\$" \
	"@nick reaches a member who joined during the outage"
on 2 raw "nicks are claimed again after the restart" \
	ctl line:'JOIN alice' 'ok:^ERROR NICKTAKEN' line:'JOIN erin' \
	'ok:^ERROR NICKTAKEN'
on 2 raw "/who lists both nodes again" \
	ctl line:WHO 'ok:^OK 3$' 'has:^NICK alice$' 'has:^NICK bob$' \
	'has:^NICK erin$'

# ---------------------------------------------------------------- a node stops

SERVER_PID=${NODE_PID[2]}
stop_server TERM
assert_eq 0 "$SERVER_RC" "n2 stops cleanly"
expect 5 alice "^LEFT $TS bob shutdown\$" "n2's shutdown is announced on n1"
on 1 raw "bob's nick is free once his node stopped" \
	ctl line:'JOIN bob' 'ok:^OK bob' line:QUIT

for who in alice erin; do
	send "$who" QUIT
	hangup "$who"
done
hangup bob
SERVER_PID=${NODE_PID[1]}
stop_server TERM
assert_eq 0 "$SERVER_RC" "n1 stops cleanly"
assert_eq "" "$(rcli --raw KEYS 'ftx:nick:*')" "no nick is left claimed"
stop_redis
finish

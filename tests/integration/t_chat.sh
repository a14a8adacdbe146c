#!/bin/bash
# The chat room (docs/PROTOCOL.md, "Chat") with several real `ftx chat`
# clients, each driven through a FIFO held open by this script (pipe mode:
# lines in are sent, pushes out are printed), and raw sessions (ftxraw)
# for what ftx never sends.  Covered: join/leave notices, every member
# seeing the same order with each message exactly once, private messages
# reaching only their target (and the sender's echo), duplicate and
# invalid nicks, over-long messages, invalid UTF-8 and control bytes,
# leaving by EOF, /quit, LEAVE, a killed client, the idle timeout and
# flood control (each announced exactly once; JOIN and LEAVE count against
# the same per-session budget as messages, so JOIN/LEAVE churn is
# throttled too and rejoining does not renew it), a member that never reads
# (disconnected as slow while the room keeps receiving and ftxd's memory
# stays bounded), and chat while 64 MiB uploads run on another connection
# and on the chatting connection itself.
. "$(dirname "$0")/lib.sh"

# A client that has gone away must not kill this script when we write to
# its FIFO: the write just fails.
trap '' PIPE

# ---------------------------------------------------------------- helpers

declare -A CFD CPID
TSRE='\[[0-9]{2}:[0-9]{2}:[0-9]{2}\]'

# chat_start NAME NICK: start `ftx chat --nick NICK` with its stdin on a
# FIFO that this script holds open (so the client sees EOF only when we
# close it), stdout in $TMPD/NAME.out.  TZ=UTC makes the shown times the
# server's.  The subshell execs the binary (no timeout wrapper), so $! is
# ftx's own PID, for the kill -KILL case; cleanup kills it by PID.
chat_start() {
	local name=$1 nick=$2 fifo=$TMPD/$1.in fd
	rm -f "$fifo"
	mkfifo "$fifo" || exit 1
	# The other clients' FIFO writers are closed in the child, or a client
	# would hold an earlier one's stdin open and it would never see EOF.
	(
		for fd in "${CFD[@]}"; do
			exec {fd}>&-
		done
		TZ=UTC exec "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" chat --nick "$nick"
	) <"$fifo" >"$TMPD/$name.out" 2>"$TMPD/$name.err" &
	CPID[$name]=$!
	track_pid "$!"
	exec {fd}>"$fifo"
	CFD[$name]=$fd
}

# chat_join NAME NICK: chat_start and wait until the server said OK.
chat_join() {
	chat_start "$1" "$2"
	if wait_for 5 seen "$1" "^-- joined as $2;"; then
		pass "$2 joined"
	else
		fail "$2 did not join: $(head -c 300 "$TMPD/$1.out" "$TMPD/$1.err")"
	fi
}

# say NAME LINE...: type lines into a client.
say() {
	local name=$1
	shift
	printf '%s\n' "$@" >&"${CFD[$name]}"
}

# chat_close NAME: close the client's stdin (EOF).
chat_close() {
	local fd=${CFD[$1]}
	exec {fd}>&-
}

out_of() { printf '%s' "$TMPD/$1.out"; }
seen() { grep -Eq -- "$2" "$(out_of "$1")"; }
nseen() { grep -Ec -- "$2" "$(out_of "$1")"; }
notseen() { ! grep -Eq -- "$2" "$(out_of "$1")"; }

# expect_seen SECS NAME ERE DESC
expect_seen() {
	if wait_for "$1" seen "$2" "$3"; then
		pass "$4"
	else
		fail "$4: /$3/ not in $2's output within $1 s; last lines:"
		tail -n 8 "$(out_of "$2")" | cut -c1-200 | sed 's/^/    /' >&2
	fi
}

# once NAME ERE DESC: exactly one line of NAME's output matches.
once() {
	assert_eq 1 "$(nseen "$1" "$2")" "$3"
}

# never NAME ERE DESC
never() {
	if notseen "$1" "$2"; then
		pass "$3"
	else
		fail "$3: $(grep -E -- "$2" "$(out_of "$1")" | head -n 3 | cut -c1-200)"
	fi
}

# sync_room SENDER NAME...: SENDER says a fresh line and every NAME has
# seen it.  Pushes arrive in server order, so whatever the server sent a
# member before that line has arrived too.
SYNC_N=0
sync_room() {
	local from=$1 n
	shift
	SYNC_N=$((SYNC_N + 1))
	say "$from" "sync-$SYNC_N"
	for n in "$@"; do
		if ! wait_for 5 seen "$n" "<[^>]+> sync-$SYNC_N\$"; then
			fail "sync-$SYNC_N did not reach $n"
		fi
	done
}

# chat_exit NAME SECS WANT DESC: the client exits within SECS with WANT.
chat_exit() {
	wait_pid "${CPID[$1]}" "$2"
	assert_eq "$3" "$WAIT_RC" "$4"
}

# ================================================================ server A
start_server --chat-rate 0

# ---------------------------------------------------------------- joins
chat_join alice alice
expect_seen 5 alice "^$TSRE -- alice joined\$" "the joiner gets its own JOIN"
chat_join bob bob
expect_seen 5 alice "^$TSRE -- bob joined\$" "alice sees '-- bob joined'"
chat_join carol carol
expect_seen 5 bob "^$TSRE -- carol joined\$" "bob sees '-- carol joined'"
expect_seen 5 alice "^$TSRE -- carol joined\$" "alice sees '-- carol joined'"
never bob "-- alice joined" "bob, who came later, is not told alice joined"
once alice "-- bob joined" "alice is told once that bob joined"

say carol /who
expect_seen 5 carol '^-- in the room: alice, bob, carol$' "/who lists the room in joining order"
say bob /whoami
expect_seen 5 bob '^-- you are bob, connected from 127\.0\.0\.1:[0-9]+$' "/whoami"
say alice /time
expect_seen 5 alice '^-- server time [0-9-]{10}T[0-9:]{8}\.[0-9]{3}Z \([0-9:]{8} local\)$' "/time"
tline=$(grep -E '^-- server time ' "$(out_of alice)" | head -n 1)
utc=$(printf '%s\n' "$tline" | sed -E 's/^-- server time [0-9-]{10}T([0-9:]{8}).*/\1/')
loc=$(printf '%s\n' "$tline" | sed -E 's/.*\(([0-9:]{8}) local\)$/\1/')
assert_eq "$utc" "$loc" "with TZ=UTC the local time shown is the server's UTC time"

# ---------------------------------------------------------------- order
# Three members send 15 messages each at the same moment.  Every member
# (senders included) must see all 45, each exactly once, in one and the
# same order, and each sender's own 15 in the order it sent them.
lines_for() {
	local p=$1 i
	for i in $(seq -w 1 15); do printf 'order-%s%s\n' "$p" "$i"; done
}
say alice "$(lines_for a)"
say bob "$(lines_for b)"
say carol "$(lines_for c)"
order_seq() {
	grep -oE "^$TSRE <(alice|bob|carol)> order-[abc][0-9]{2}\$" "$(out_of "$1")" | sed -E 's/^[^<]*//'
}
all45() {
	[ "$(order_seq alice | wc -l)" -ge 45 ] && [ "$(order_seq bob | wc -l)" -ge 45 ] &&
	    [ "$(order_seq carol | wc -l)" -ge 45 ]
}
wait_for 10 all45
sync_room alice alice bob carol
for n in alice bob carol; do
	assert_eq 45 "$(order_seq $n | wc -l)" "$n received all 45 ordered messages"
	assert_eq "" "$(order_seq $n | sort | uniq -d | head -n 3)" "$n received no message twice"
	for p in a b c; do
		want=$(lines_for $p | tr '\n' ' ')
		got=$(order_seq $n | grep -oE "order-${p}[0-9]{2}" | tr '\n' ' ')
		assert_eq "$want" "$got" "$n sees sender $p's messages in sending order"
	done
done
assert_eq "$(order_seq alice)" "$(order_seq bob)" "alice and bob see the same order"
assert_eq "$(order_seq alice)" "$(order_seq carol)" "alice and carol see the same order"
# Literal text: inner and trailing spaces kept, no percent-decoding.  (The
# spaces between the verb and the text separate, so leading spaces of a
# message cannot travel: PROTOCOL.md, "Text arguments".)
say bob '50%25 off,  two  spaces %zz  '
expect_seen 5 carol "^$TSRE <bob> 50%25 off,  two  spaces %zz  \$" "text arrives literally, spaces and %25 kept"

# ---------------------------------------------------------------- private
say alice '@bob secret-for-bob 1'
say alice 'after-secret'
expect_seen 5 carol "^$TSRE <alice> after-secret\$" "carol got the public message after the private one"
expect_seen 5 bob "^$TSRE \*alice -> bob\* secret-for-bob 1\$" "bob gets alice's private message"
sync_room alice alice bob carol
once bob "secret-for-bob" "bob gets it exactly once"
once alice "^$TSRE \*alice -> bob\* secret-for-bob 1\$" "alice gets exactly one echo of her private message"
never carol "secret-for-bob" "carol never sees alice's private message to bob"
# The target is matched without regard to case, shown as it joined.
say bob '@ALICE psst-alice'
expect_seen 5 alice "^$TSRE \*bob -> alice\* psst-alice\$" "@ALICE reaches alice"
# A private message to oneself arrives once.
say carol '@carol note-to-self'
expect_seen 5 carol "^$TSRE \*carol -> carol\* note-to-self\$" "a private message to oneself arrives"
say alice '@nobody hello?'
expect_seen 5 alice '\(NOSUCHNICK\)$' "a private message to an unknown nick gets NOSUCHNICK"
sync_room alice alice bob carol
once carol "note-to-self" "a private message to oneself arrives once"
once alice "psst-alice" "alice gets bob's private message once"
never alice "note-to-self" "alice does not see carol's note to herself"
once bob "\*bob -> alice\* psst-alice" "bob gets one echo of his private message"
never bob "note-to-self" "bob does not see carol's note to herself"
never carol "psst-alice|hello\?" "carol sees neither bob's nor the refused private message"

# ---------------------------------------------------------------- nicks
chat_pipe() {
	TZ=UTC timeout -k 2 20 "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" chat "$@" </dev/null
}
assert_exit 4 "duplicate nick 'Alice' (alice is in) refused in pipe mode" chat_pipe --nick Alice
assert_match 'NICKTAKEN' "$(cat "$OUT" "$ERR")" "the refusal names NICKTAKEN"
assert_exit 4 "duplicate nick 'BOB' refused" chat_pipe --nick BOB
assert_exit 2 "invalid nick 'bad nick' refused" chat_pipe --nick 'bad nick'
assert_exit 2 "invalid nick 'x!' refused" chat_pipe --nick 'x!'
assert_exit 2 "invalid nick of 33 bytes refused" chat_pipe --nick "$(printf 'n%.0s' $(seq 1 33))"
assert_exit 2 "invalid UTF-8 nick refused" chat_pipe --nick $'j\xc3\xb6rg'
assert_exit 0 "a 32-byte nick with - and _ is fine" chat_pipe --nick "Ab-_$(printf 'z%.0s' $(seq 1 28))"
# From a pipe without --nick the nickname is $USER (or $LOGNAME), never
# the first line: every line is a message.
if printf 'hi-from-dora\nsecond-from-dora' | USER=dora TZ=UTC timeout -k 2 20 "$FTX_BIN" \
    --host 127.0.0.1 --port "$CTRL_PORT" chat >"$TMPD/dora.out" 2>&1; then
	pass "echo ... | ftx chat joins as \$USER and exits 0 at EOF"
else
	fail "ftx chat from a pipe with USER=dora failed: $(cat "$TMPD/dora.out")"
fi
assert_match '^-- joined as dora;' "$(cat "$TMPD/dora.out")" "the nick is \$USER"
expect_seen 5 bob "^$TSRE <dora> hi-from-dora\$" "dora's first line arrives as a message"
expect_seen 5 bob "^$TSRE <dora> second-from-dora\$" "dora's last line (no LF) arrives too"
# Every line was acknowledged before ftx left: the room got both
# messages before dora's leaving.
assert_eq "hi-from-dora second-from-dora left" "$(grep -oE '<dora> [a-z-]+$|-- dora left' "$(out_of bob)" |
    sed -E 's/^<dora> //; s/^-- dora //' | tr '\n' ' ' | sed 's/ $//')" "dora's messages, then dora left"
printf 'from-logname\n' | env -u USER LOGNAME=logan TZ=UTC timeout -k 2 20 "$FTX_BIN" \
    --host 127.0.0.1 --port "$CTRL_PORT" chat >"$TMPD/logan.out" 2>&1
assert_eq 0 "$?" "without \$USER the nick is \$LOGNAME"
expect_seen 5 bob "^$TSRE <logan> from-logname\$" "logan's message arrives"
nonick() {
	printf 'nobody-should-see-this\n' | env -u USER -u LOGNAME TZ=UTC timeout -k 2 20 \
	    "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" chat
}
assert_exit 2 "no --nick, no \$USER, no \$LOGNAME: usage error" nonick
assert_match 'no nickname.*--nick' "$(cat "$ERR")" "...saying to use --nick"
badnick() {
	printf 'nobody-should-see-this\n' | env -u LOGNAME USER=first.last TZ=UTC timeout -k 2 20 \
	    "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" chat
}
assert_exit 2 "an invalid \$USER is no nickname" badnick
assert_match "USER 'first\.last' is not a valid nickname" "$(cat "$ERR")" "...and says why"
# A private message to a missing nick: the session goes on (later lines
# are sent), but the exit status tells the script (4).
pm() {
	printf '@nobody where-are-you\nafter-the-pm\n' | USER=pmer TZ=UTC timeout -k 2 20 \
	    "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" chat
}
assert_exit 4 "a private message to a missing nick from a pipe exits 4" pm
assert_match 'not delivered: .*nobody' "$(cat "$ERR")" "...naming the missing nick on stderr"
expect_seen 5 bob "^$TSRE <pmer> after-the-pm\$" "the line after the refused private message was still sent"
pm_ok() {
	printf '@bob pm-for-bob\n' | USER=pmer TZ=UTC timeout -k 2 20 \
	    "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" chat
}
assert_exit 0 "a delivered private message from a pipe exits 0" pm_ok
expect_seen 5 bob "^$TSRE \*pmer -> bob\* pm-for-bob\$" "bob gets pmer's private message"
sync_room alice alice bob carol
never bob "(Alice|BOB|bad nick) joined" "refused nicks never joined"
never bob "nobody-should-see-this" "nothing is sent without a nickname"

# ---------------------------------------------------------------- text
long1024="long-$(head -c 1019 /dev/zero | tr '\0' L)"
long1025="${long1024}X"
say alice "$long1024"
expect_seen 5 bob "<alice> long-L" "a 1024-byte message arrives"
got=$(grep -E "<alice> long-L" "$(out_of bob)" | sed -E 's/^[^<]*<alice> //')
assert_eq "$long1024" "$got" "the 1024-byte message arrives intact"
say alice "$long1025"
expect_seen 5 alice '^! message longer than 1024 bytes$' "ftx refuses a 1025-byte message"
sync_room alice bob carol
never bob 'LX$' "nobody gets the 1025-byte message"

# Raw sessions: what ftx itself never sends.  The rest of the room stays
# quiet meanwhile, so each read is the expected line.
n33=$(printf 'n%.0s' $(seq 1 33))
raw "raw session: nick errors, invalid UTF-8, control bytes, limits" -w 30 ctl \
    'line:SAY hi' 'ok:^ERROR NOTJOINED ' \
    'line:WHOAMI' 'ok:^OK - 127\.0\.0\.1:[0-9]+ -$' \
    'line:JOIN bad!nick' 'ok:^ERROR BADNICK ' \
    "line:JOIN $n33" 'ok:^ERROR BADNICK ' \
    'raw:JOIN j\xc3\xb6rg\n' read 'ok:^ERROR BADNICK ' \
    'line:JOIN ALICE' 'ok:^ERROR NICKTAKEN ' \
    'line:JOIN' 'ok:^ERROR SYNTAX ' \
    'line:JOIN rawr' 'ok:^OK rawr$' read 'ok:^JOIN [0-9T:.Z-]{24} rawr$' \
    'line:JOIN rawr2' 'ok:^ERROR JOINED ' \
    'raw:SAY bad\xff\n' read 'ok:^ERROR BADTEXT ' \
    'raw:SAY \x80lone\n' read 'ok:^ERROR BADTEXT ' \
    'raw:SAY trunc\xe2\x82\n' read 'ok:^ERROR BADTEXT ' \
    'raw:SAY \xc0\xaf\n' read 'ok:^ERROR BADTEXT ' \
    'raw:SAY \xed\xa0\x80\n' read 'ok:^ERROR BADTEXT ' \
    'raw:SAY \xf4\x90\x80\x80\n' read 'ok:^ERROR BADTEXT ' \
    'raw:SAY csi\xc2\x9b2J\n' read 'ok:^ERROR BADTEXT ' \
    'raw:SAY esc\x1b[31m\n' read 'ok:^ERROR SYNTAX ' \
    'raw:SAY del\x7f\n' read 'ok:^ERROR SYNTAX ' \
    'raw:MSG bob \xff\n' read 'ok:^ERROR BADTEXT ' \
    'line:MSG bob' 'ok:^ERROR (SYNTAX|BADTEXT) ' \
    'line:MSG nobody hi' 'ok:^ERROR NOSUCHNICK ' \
    'line:MSG bad!nick hi' 'ok:^ERROR BADNICK ' \
    'line:SAY' 'ok:^ERROR (SYNTAX|BADTEXT) ' \
    "line:SAY $long1025" 'ok:^ERROR BADTEXT ' \
    "line:SAY $long1024" "ok:^MSG [^ ]+ rawr $long1024\$" read 'ok:^OK$' \
    'raw:SAY caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n' read 'ok:^MSG [^ ]+ rawr caf' read 'ok:^OK$' \
    'line:MSG RAWR self' 'ok:^PRIV [^ ]+ rawr rawr self$' read 'ok:^OK$' \
    'line:WHOAMI' 'ok:^OK rawr 127\.0\.0\.1:[0-9]+ -$' \
    'line:WHO' 'ok:^OK 4$' 'has:^NICK alice$' 'has:^NICK rawr$' 'has:^DONE$' \
    'line:TIME' 'ok:^OK [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z [0-9]+$' \
    'line:QUIT' 'ok:^OK bye' read 'ok:^EOF$'
expect_seen 5 bob "^$TSRE <rawr> caf" "valid UTF-8 (2, 3 and 4 bytes) is delivered"
got=$(grep -E "<rawr> caf" "$(out_of bob)" | sed -E 's/^[^<]*<rawr> //')
assert_eq $'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80' "$got" "and arrives byte for byte"
expect_seen 5 carol "^$TSRE -- rawr left \(quit\)\$" "QUIT is announced as 'left (quit)'"
sync_room alice alice bob carol
for n in alice bob carol; do
	assert_eq 2 "$(nseen $n "<rawr> ")" "$n got exactly rawr's two valid messages"
	once $n "-- rawr left" "$n is told once that rawr left"
done
never bob 'bad|lone|trunc|csi|esc|del|self' "no refused or private raw message reached bob"

# ---------------------------------------------------------------- leaving
# EOF on stdin.
chat_join dave dave
expect_seen 5 bob "^$TSRE -- dave joined\$" "bob sees dave join"
chat_close dave
chat_exit dave 10 0 "dave's ftx chat exits 0 at EOF"
expect_seen 5 bob "^$TSRE -- dave left \(quit\)\$" "EOF is announced as 'dave left (quit)'"
# /quit with stdin still open.
chat_join eve eve
say eve "/quit"
chat_exit eve 10 0 "eve's ftx chat exits 0 after /quit"
chat_close eve
expect_seen 5 bob "^$TSRE -- eve left \(quit\)\$" "/quit is announced as 'eve left (quit)'"
# A killed client: the dropped connection.
chat_join frank frank
expect_seen 5 bob "^$TSRE -- frank joined\$" "bob sees frank join"
kill -KILL "${CPID[frank]}"
wait "${CPID[frank]}" 2>/dev/null
chat_close frank
expect_seen 5 bob "^$TSRE -- frank left \(disconnect\)\$" "a killed client is announced as 'left (disconnect)'"
# LEAVE keeps the session; closing it afterwards announces nothing more.
raw "LEAVE, then the session goes on" -w 20 ctl 'line:JOIN gina' 'ok:^OK gina$' read 'ok:^JOIN ' \
    'line:LEAVE' 'ok:^OK$' 'line:NOOP' 'ok:^OK$' 'line:LEAVE' 'ok:^ERROR NOTJOINED ' \
    'line:SAY x' 'ok:^ERROR NOTJOINED ' 'line:WHOAMI' 'ok:^OK - ' close
expect_seen 5 bob "^$TSRE -- gina left \(leave\)\$" "LEAVE is announced as 'left (leave)'"
sleep 0.3
sync_room alice alice bob carol
for n in alice bob carol; do
	for who in dave eve frank gina; do
		once $n "-- $who left" "$n is told exactly once that $who left"
	done
done

# ---------------------------------------------------------------- transfers
# Chat while 64 MiB uploads run: (1) ftx put on its own connection;
# (2) a raw upload on another connection and (3) one on the chatting
# connection itself, both held half way until the room has received
# everything, which proves a running transfer delays nobody's chat.
big=$TMPD/big.bin
mkrand "$big" $((64 * 1024 * 1024))
bigsz=$(stat -c %s "$big")
bigsha=$(sha256_of "$big")
half=$((32 * 1024 * 1024))

raw_bg "$TMPD/xother.out" -t 30 -w 120 ctl "line:UPLOAD other.bin $bigsz" 'ok:^OK [0-9]+ [0-9a-f]{32}$' \
    data "dsend:$big:$half" "touch:$TMPD/other.half" "waitfile:$TMPD/other.go" \
    "dsend:$big" ddigest read:60 "ok:^DONE $bigsha\$"
other_pid=$BG_PID

xreads=()
for i in $(seq -w 1 15); do xreads+=(read "ok:^MSG [^ ]+ alice x$i\$"); done
raw_bg "$TMPD/xsame.out" -t 30 -w 120 ctl 'line:JOIN xfer' 'ok:^OK xfer$' read 'ok:^JOIN [^ ]+ xfer$' \
    "line:UPLOAD same.bin $bigsz" 'ok:^OK [0-9]+ [0-9a-f]{32}$' data "dsend:$big:$half" \
    'send:SAY during-xfer' read 'ok:^MSG [^ ]+ xfer during-xfer$' read 'ok:^OK$' \
    'line:WHO' 'ok:^OK 4$' 'has:^NICK xfer$' \
    "touch:$TMPD/same.half" read:20 'ok:^MSG [^ ]+ bob to-xfer$' "touch:$TMPD/same.got" \
    "${xreads[@]}" "waitfile:$TMPD/same.go" "dsend:$big" ddigest read:60 "ok:^DONE $bigsha\$" \
    'line:QUIT' 'ok:^OK bye'
same_pid=$BG_PID

ftx -q put "$big" --as put.bin >"$TMPD/put.out" 2>&1 &
put_pid=$!
track_pid "$put_pid"

if wait_for 30 eval '[ -e "$TMPD/other.half" ] && [ -e "$TMPD/same.half" ]'; then
	pass "both raw uploads are half way"
else
	fail "the raw uploads did not get half way"
fi
expect_seen 5 bob "^$TSRE <xfer> during-xfer\$" "a member chats on the connection whose upload is half way"
say bob to-xfer
if wait_for 10 eval '[ -e "$TMPD/same.got" ]'; then
	pass "the uploading member receives chat while its upload is half way"
else
	fail "the uploading member did not receive bob's message"
fi
say alice "$(seq -w 1 15 | sed "s/^/x/")"
expect_seen 10 bob "^$TSRE <alice> x15\$" "bob gets alice's messages during the uploads"
expect_seen 10 carol "^$TSRE <alice> x15\$" "carol gets alice's messages during the uploads"
if kill -0 "$other_pid" 2>/dev/null && kill -0 "$same_pid" 2>/dev/null; then
	pass "...while both raw uploads were still held half way"
else
	fail "a held raw upload ended early: $(tail -n 3 "$TMPD/xother.out" "$TMPD/xsame.out")"
fi
kill -0 "$put_pid" 2>/dev/null && echo "(ftx put was still running when the messages arrived)"
for n in bob carol; do
	got=$(grep -oE "^$TSRE <alice> x[0-9]{2}\$" "$(out_of $n)" | sed -E 's/.*> //' | tr '\n' ' ')
	assert_eq "$(seq -w 1 15 | sed 's/^/x/' | tr '\n' ' ')" "$got" "$n got x01..x15 once each, in order"
done
touch "$TMPD/other.go" "$TMPD/same.go"
wait_pid "$other_pid" 90
assert_eq 0 "$WAIT_RC" "the upload on another connection completed with the right DONE"
[ "$WAIT_RC" -eq 0 ] || tail -n 20 "$TMPD/xother.out" >&2
wait_pid "$same_pid" 90
assert_eq 0 "$WAIT_RC" "the upload on the chatting connection completed; chat and DONE both arrived"
[ "$WAIT_RC" -eq 0 ] || tail -n 30 "$TMPD/xsame.out" >&2
wait_pid "$put_pid" 90
assert_eq 0 "$WAIT_RC" "ftx put of 64 MiB alongside the chat succeeded"
[ "$WAIT_RC" -eq 0 ] || cat "$TMPD/put.out" >&2
assert_file_same "$big" "$ROOT/other.bin" "other.bin stored intact"
assert_file_same "$big" "$ROOT/same.bin" "same.bin stored intact"
assert_file_same "$big" "$ROOT/put.bin" "put.bin stored intact"
rm -f "$ROOT/other.bin" "$ROOT/same.bin" "$ROOT/put.bin" "$big"
expect_seen 5 bob "^$TSRE -- xfer left \(quit\)\$" "the uploading member's QUIT is announced"

# ---------------------------------------------------------------- slow reader
# A raw member joins and never reads.  The kernel absorbs the first few
# MB (the server's send buffer grows up to tcp_wmem's maximum, and the
# reader's receive buffer holds its default), and only then does ftxd's
# own queue grow to its 256 KiB cap; send enough to pass all three.
wmem_max=$(awk '{print $3}' /proc/sys/net/ipv4/tcp_wmem 2>/dev/null)
rmem_def=$(awk '{print $2}' /proc/sys/net/ipv4/tcp_rmem 2>/dev/null)
[[ "$wmem_max" =~ ^[0-9]+$ ]] || wmem_max=4194304
[[ "$rmem_def" =~ ^[0-9]+$ ]] || rmem_def=131072
nslow=$(((wmem_max + 2 * rmem_def + 256 * 1024 + 1024 * 1024) / 1000))
[ "$nslow" -lt 1000 ] && nslow=1000
[ "$nslow" -gt 20000 ] && nslow=20000
echo "slow reader: sending $nslow messages of 1000 bytes (tcp_wmem max $wmem_max)"

raw_bg "$TMPD/slow.out" -t 10 -w 120 ctl 'line:JOIN slowpoke' 'ok:^OK slowpoke$' "touch:$TMPD/slow.in" stall
slow_pid=$BG_PID
wait_for 5 eval '[ -e "$TMPD/slow.in" ]' || fail "slowpoke did not join"
expect_seen 5 bob "^$TSRE -- slowpoke joined\$" "bob sees slowpoke join"

pad=$(head -c 993 /dev/zero | tr '\0' p)
awk -v n="$nslow" -v pad="$pad" 'BEGIN { for (i = 1; i <= n; i++) printf "s%05d %s\n", i, pad }' >"$TMPD/slow.lines"
last=$(printf 's%05d' "$nslow")

# Sample ftxd's resident set size all the while.
(
	max=0
	# Builtins only (read, nap): 50 samples a second.
	while [ ! -e "$TMPD/rss.stop" ]; do
		r=
		while read -r k v _; do
			if [ "$k" = VmRSS: ]; then
				r=$v
				break
			fi
		done 2>/dev/null <"/proc/$SERVER_PID/status"
		if [ -n "$r" ] && [ "$r" -gt "$max" ]; then
			max=$r
			echo "$max" >"$TMPD/rss.max"
		fi
		nap 0.02
	done
) &
rss_pid=$!
track_pid "$rss_pid"
rss0=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")

cat "$TMPD/slow.lines" >&"${CFD[alice]}" &
cat_pid=$!
alive_during=0
server_alive && alive_during=1
expect_seen 60 bob "<alice> $last " "bob receives the last of $nslow messages"
expect_seen 10 carol "<alice> $last " "carol receives the last of $nslow messages"
server_alive && alive_during=$((alive_during + 1))
touch "$TMPD/rss.stop"
wait "$cat_pid" 2>/dev/null
wait_pid "$rss_pid" 5
assert_eq 2 "$alive_during" "ftxd answers NOOP during and after the flood to a slow reader"
for n in alice bob carol; do
	assert_eq "$nslow" "$(nseen $n "^$TSRE <alice> s[0-9]{5} p+\$")" "$n received all $nslow messages"
	assert_eq "$nslow" "$(grep -oE '<alice> s[0-9]{5} ' "$(out_of $n)" | sort -u | wc -l)" "$n received each one once"
done
expect_seen 5 bob "^$TSRE -- slowpoke left \(slow\)\$" "the member that never reads is dropped as 'left (slow)'"
once bob "-- slowpoke left" "bob is told once that slowpoke left"
once carol "-- slowpoke left" "carol is told once that slowpoke left"
if log_has 'nick=slowpoke reason=slow'; then pass "the log records the slow reader"; else fail "no 'reason=slow' for slowpoke in the log"; fi
rssmax=$(cat "$TMPD/rss.max" 2>/dev/null || echo 0)
echo "ftxd VmRSS: $rss0 kB before, at most $rssmax kB during the flood"
if [ "$rssmax" -gt 0 ] && [ "$rssmax" -lt $((64 * 1024)) ]; then
	pass "ftxd's memory stays bounded (max VmRSS $rssmax kB < 64 MB)"
else
	fail "ftxd's VmRSS reached $rssmax kB"
fi
# The slow reader's connection is closed by the server: what it had not
# read is lost, but it ends in EOF or a reset, not a stall.
kill -TERM "$slow_pid" 2>/dev/null
wait "$slow_pid" 2>/dev/null

# ---------------------------------------------------------------- the rest
# No message bodies in the log without --log-chat.
if grep -Eq 'order-a01|secret-for-bob|after-secret|s00001' "$LOG"; then
	fail "message bodies in the log without --log-chat: $(grep -E 'order-a01|secret-for-bob' "$LOG" | head -n 2)"
else
	pass "no message bodies in the log without --log-chat"
fi
if log_has 'chat say nick=alice bytes=1024' && log_has 'chat msg nick=alice to=bob bytes='; then
	pass "the log records message sizes"
else
	fail "the log lacks 'chat say/msg ... bytes=' lines"
fi
if log_has 'chat left nick=frank reason=disconnect'; then pass "the log records frank's disconnect"; else fail "no frank disconnect in the log"; fi
for n in alice bob carol; do
	chat_close $n
	# alice's '@nobody hello?' was refused (NOSUCHNICK): from a pipe
	# that is exit 4 at the end.
	want=0
	[ $n = alice ] && want=4
	chat_exit $n 10 $want "$n's ftx chat exits $want at EOF"
	[ -s "$TMPD/$n.err" ] && echo "$n stderr: $(head -c 300 "$TMPD/$n.err")"
done
assert_alive "the chat tests on server A"
stop_server

# ================================================================ server B
# Default flood control: 20 chat actions (JOIN, LEAVE, SAY, MSG) per 10 s.
start_server
chat_join wat wat
raw_steps=()
for i in $(seq -w 1 35); do raw_steps+=("send:SAY f$i"); done
raw "a flooding raw session is refused, then disconnected" -w 30 ctl 'line:JOIN flooder' 'ok:^OK flooder$' \
    "${raw_steps[@]}" drain:5 'has:^ERROR RATE ' 'has:^ERROR FLOOD ' 'has:^EOF$'
assert_eq 19 "$(grep -cE '^< MSG [^ ]+ flooder f[0-9]{2}$' "$RAW_OUT")" "the flooder's first 19 messages went out (its JOIN was the 20th action)"
assert_eq 19 "$(grep -cE '^< OK$' "$RAW_OUT")" "...and were each answered OK"
assert_eq 9 "$(grep -cE '^< ERROR RATE ' "$RAW_OUT")" "the next 9 got ERROR RATE"
assert_eq 1 "$(grep -cE '^< ERROR FLOOD ' "$RAW_OUT")" "the 10th refusal in a row got ERROR FLOOD"
assert_eq "< EOF" "$(grep -E '^< ' "$RAW_OUT" | tail -n 1)" "and the server closed the connection"
expect_seen 5 wat "^$TSRE -- flooder left \(flood\)\$" "the room is told 'flooder left (flood)'"
got=$(grep -oE "^$TSRE <flooder> f[0-9]{2}\$" "$(out_of wat)" | sed -E 's/.*> //' | tr '\n' ' ')
assert_eq "$(seq -w 1 19 | sed 's/^/f/' | tr '\n' ' ')" "$got" "the room got exactly f01..f19 from the flooder"
if log_has 'chat flood nick=flooder'; then pass "the log records the flood"; else fail "no flood line in the log"; fi
# ftx chat over the limit: the excess is refused, the session survives.
chat_join fast fast
say fast "$(seq -w 1 25 | sed "s/^/q/")"
expect_seen 5 wat "^$TSRE <fast> q19\$" "fast's 19th message arrives (its JOIN was the 20th action)"
if wait_for 5 eval '[ "$(nseen fast "\(RATE\)\$")" -ge 6 ]'; then pass "ftx chat shows ERROR RATE"; else fail "fast saw $(nseen fast '\(RATE\)$') RATE errors"; fi
assert_eq 6 "$(nseen fast '\(RATE\)$')" "exactly 6 of fast's 25 messages were refused"
say fast /whoami
expect_seen 5 fast '^-- you are fast, ' "fast's session survives ERROR RATE"
assert_eq 19 "$(nseen wat "^$TSRE <fast> q[0-9]{2}\$")" "the room got 19 of fast's messages"
never wat "<fast> q2[0-5]" "the refused messages were not delivered"
once wat "-- flooder left" "the flooder's leaving is announced once"
chat_close fast
chat_exit fast 10 0 "fast exits 0"

# ---------------------------------------------------------------- JOIN/LEAVE churn
# 3,000 JOIN/LEAVE pairs in one burst used to push 6,000 notices to every
# member.  Now each JOIN and LEAVE takes from the session's budget of 20:
# 10 pairs go through, then every JOIN is refused (the LEAVEs that follow
# get NOTJOINED) and the 10th refusal in a row disconnects.  A member
# that reads nothing during the burst (lazy) is not dropped as slow,
# then reads the 20 notices and still chats.
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "JOIN churn\nLEAVE\n" }' >"$TMPD/churn.lines"
raw_bg "$TMPD/lazy.out" -t 10 -w 60 ctl 'line:JOIN lazy' 'ok:^OK lazy$' "touch:$TMPD/lazy.in" \
    "waitfile:$TMPD/lazy.go" drain:1 'no:^EOF$' 'send:SAY lazy-still-here' drain:1 'has:^OK$'
lazy_pid=$BG_PID
wait_for 5 eval '[ -e "$TMPD/lazy.in" ]' || fail "lazy did not join"
expect_seen 5 wat "^$TSRE -- lazy joined\$" "wat sees lazy join"
raw "3,000 JOIN/LEAVE pairs in a burst: throttled, then disconnected" -w 30 ctl "csend:$TMPD/churn.lines" \
    drain:5 'has:^ERROR RATE ' 'has:^ERROR FLOOD ' 'has:^EOF$'
assert_eq 10 "$(grep -cE '^< OK churn$' "$RAW_OUT")" "the churner's first 10 JOINs went through"
assert_eq 10 "$(grep -cE '^< OK$' "$RAW_OUT")" "...and their 10 LEAVEs"
assert_eq 9 "$(grep -cE '^< ERROR RATE ' "$RAW_OUT")" "then 9 JOINs got ERROR RATE"
assert_eq 1 "$(grep -cE '^< ERROR FLOOD ' "$RAW_OUT")" "and the 10th refusal in a row ERROR FLOOD"
assert_eq "< EOF" "$(grep -E '^< ' "$RAW_OUT" | tail -n 1)" "and the server closed the connection"
if log_has 'chat flood nick=churn'; then pass "the log records the JOIN/LEAVE flood"; else fail "no flood line for churn in the log"; fi
sync_room wat wat
assert_eq 10 "$(nseen wat "^$TSRE -- churn joined\$")" "wat saw 10 'churn joined', not 3,000"
assert_eq 10 "$(nseen wat "^$TSRE -- churn left \(leave\)\$")" "wat saw 10 'churn left', not 3,000"
touch "$TMPD/lazy.go"
wait_pid "$lazy_pid" 20
assert_eq 0 "$WAIT_RC" "lazy, which read nothing during the burst, was not disconnected and still chats"
assert_eq 20 "$(grep -cE '^< (JOIN [^ ]+ churn|LEFT [^ ]+ churn leave)$' "$TMPD/lazy.out")" "lazy received the 20 churn notices, no more"
assert_eq 1 "$(grep -cE '^< MSG [^ ]+ wat sync-' "$TMPD/lazy.out")" "lazy received wat's message after the burst"
expect_seen 5 wat "^$TSRE <lazy> lazy-still-here\$" "lazy's message after the burst reaches the room"
never wat "-- lazy left \(slow\)" "lazy was not dropped as slow"
# The budget belongs to the session: leaving and rejoining (or changing
# nick, which is LEAVE + JOIN) does not renew it.
raw_steps=()
for i in $(seq -w 1 18); do raw_steps+=("send:SAY r$i"); done
raw "rejoining does not renew the budget" -w 30 ctl 'line:JOIN rejoin' 'ok:^OK rejoin$' "${raw_steps[@]}" \
    'send:LEAVE' 'send:JOIN rejoin2' drain:1 'has:^ERROR RATE ' 'no:^OK rejoin2$' 'line:WHOAMI' 'ok:^OK - '
assert_eq 18 "$(grep -cE '^< MSG [^ ]+ rejoin r[0-9]{2}$' "$RAW_OUT")" "JOIN + 18 messages + LEAVE: 20 actions"
assert_eq 1 "$(grep -cE '^< ERROR RATE ' "$RAW_OUT")" "the JOIN under a new nick right after is refused"
sync_room wat wat
once wat "-- rejoin left \(leave\)" "the room saw rejoin leave"
never wat "-- rejoin2 joined" "and not rejoin2 join"
chat_close wat
chat_exit wat 10 0 "wat exits 0"
stop_server

# ================================================================ server C
# The idle timeout, and --log-chat.
start_server --idle-timeout 2 --log-chat
chat_join obs obs
chat_join sleepy sleepy
expect_seen 5 obs "^$TSRE -- sleepy joined\$" "obs sees sleepy join"
# obs keeps its session alive; sleepy sends nothing.
for i in $(seq 1 16); do
	seen obs "-- sleepy left" && break
	say obs /time
	sleep 0.5
done
expect_seen 1 obs "^$TSRE -- sleepy left \(timeout\)\$" "an idle member is announced as 'left (timeout)'"
chat_exit sleepy 10 1 "sleepy's ftx chat exits 1 when the server closes it"
assert_match 'TIMEOUT' "$(cat "$(out_of sleepy)" "$TMPD/sleepy.err")" "sleepy is told why (TIMEOUT)"
say obs "logged-body"
expect_seen 5 obs "^$TSRE <obs> logged-body\$" "obs, kept alive, still chats"
once obs "-- sleepy left" "sleepy's leaving is announced once"
never obs "-- obs left" "obs did not time out"
if log_has 'chat say nick=obs text=logged-body'; then pass "--log-chat logs message bodies"; else fail "--log-chat: no body in the log"; fi
chat_close obs
chat_exit obs 10 0 "obs exits 0"
stop_server
finish

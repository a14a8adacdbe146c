#!/bin/bash
# Resume (issue 6, "Fault tests"; docs/PROTOCOL.md "Resuming"):
#  - the client is killed (SIGKILL) at 10%, 50% and 99% of a 64 MiB
#    upload and of a 64 MiB download; `ftx put --resume` / `ftx get
#    --resume` finish it, sending only the missing bytes, and the result
#    is identical and verified.  Meanwhile a watcher lists the server's
#    root (`ls -a`, `ftx ls --long`) and the download directory in a loop
#    and records any partial file under a final name or in LIST;
#  - the server is killed mid-upload and restarted on the same root and
#    ports: `ftx put --resume` finishes, and a client with --retries
#    finishes on its own across the restart;
#  - raw protocol: PARTIAL, offset= beyond the partial (ERROR RANGE),
#    a resume from below the partial, a partial nobody else can see,
#    DOWNLOAD offset=;
#  - a file changed on the server between two download attempts is
#    fetched again from 0, with a notice;
#  - --partial-ttl expires an abandoned partial.
#
# To stop a transfer at an exact percentage on fast loopback, its data
# connection runs through tests/tools/ftxproxy (see its header): ftxd
# listens on 127.0.0.1 ports C and D, the proxy on 127.0.0.2 ports C and
# D, and the client is pointed at 127.0.0.2.  The proxy stalls the data
# connection after exactly the wanted number of bytes; the test waits
# until the partial on the receiving side has them, kills the client,
# and has the proxy reset the stalled connection (SIGUSR1), which is what
# the server would see from a killed client without a proxy.
. "$(dirname "$0")/lib.sh"

FTXPROXY=$FTX_BUILD/tools/ftxproxy
if [ ! -x "$FTXPROXY" ]; then
	fail "$FTXPROXY is not built (make tools)"
	exit 1
fi
PHOST=127.0.0.2
MiB=$((1024 * 1024))
SIZE=$((64 * MiB))
HELLO=33 # the token line that starts an upload's data connection
# Retries back off from a few milliseconds here, not half a second.
export FTX_RETRY_BASE_MS=20

src=$TMPD/src
dl=$TMPD/dl
mkdir -p "$src" "$dl"
mkrand "$src/big" $SIZE
bigsha=$(sha256_of "$src/big")

# ---------------------------------------------------------------- helpers

PROXY_PID=
PROXY_OUT=
PROXY_N=0
# start_proxy FTXPROXY-ARGS...: proxy 127.0.0.2:{control,data} to the
# server's ports on 127.0.0.1; faults apply to the data map.
start_proxy() {
	PROXY_N=$((PROXY_N + 1))
	PROXY_OUT=$TMPD/proxy.$PROXY_N.out
	"$FTXPROXY" --map "$PHOST:$CTRL_PORT=127.0.0.1:$CTRL_PORT" \
	    --map "$PHOST:$DATA_PORT=127.0.0.1:$DATA_PORT" --fault-map 1 \
	    --lifetime 150 "$@" >"$PROXY_OUT" 2>&1 &
	PROXY_PID=$!
	track_pid "$PROXY_PID"
	for _ in $(seq 1 100); do
		grep -q '^ready$' "$PROXY_OUT" 2>/dev/null && return 0
		kill -0 "$PROXY_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "ftxproxy did not start: $(cat "$PROXY_OUT")"
	exit 1
}

stop_proxy() {
	[ -n "$PROXY_PID" ] || return 0
	kill -TERM "$PROXY_PID" 2>/dev/null
	wait "$PROXY_PID" 2>/dev/null
	PROXY_PID=
}

# proxy_bytes NTH DIR: bytes the NTH data connection carried up or down
# (empty until it has closed).
proxy_bytes() {
	awk -v nth="$1" -v dir="$2" '
	    $1 == "conn" && $3 == "map" && $4 == "1" && $6 == nth { id = $2 }
	    $1 == "conn" && id != "" && $2 == id && $3 == "closed" {
		for (i = 4; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == dir) print kv[2]
		}
	    }' "$PROXY_OUT"
}

# The client through the proxy.
pftx() {
	timeout -k 2 "${FTX_TIMEOUT:-60}" "$FTX_BIN" --host "$PHOST" \
	    --port "$CTRL_PORT" "$@"
}

# Server partials live under <root>/.ftx, in a directory named like
# "partial" (its exact name is the server's business).
partials() {
	find "$ROOT/.ftx" -mindepth 2 -type f -path '*partial*' ! -name '*.lock' \
	    2>/dev/null
}

# Size of the largest server partial (0 if none).
partial_size() {
	local f s max=0
	while IFS= read -r f; do
		s=$(stat -c %s "$f" 2>/dev/null) || continue
		[ "$s" -gt "$max" ] && max=$s
	done < <(partials)
	echo "$max"
}

partial_at_least() {
	[ "$(partial_size)" -ge "$1" ]
}

no_partials() {
	[ -z "$(partials)" ]
}

# The client's download partial (not its .info file) in directory $1.
client_part() {
	find "$1" -mindepth 1 -maxdepth 1 -type f -name '.ftx-part-*' \
	    ! -name '*.info' -printf '%p\n' | head -n 1
}

client_part_size() {
	local f
	f=$(client_part "$1")
	if [ -n "$f" ]; then stat -c %s "$f" 2>/dev/null || echo 0; else echo 0; fi
}

client_part_at_least() {
	[ "$(client_part_size "$1")" -ge "$2" ]
}

client_parts() {
	find "$1" -mindepth 1 -maxdepth 1 -name '.ftx-part-*' -printf '%f\n'
}

# Wait for the server to log the end of the upload of NAME (any result).
upload_logged() {
	grep -Eq "xfer upload .*name=$1 .*result=" "$LOG"
}

# ---------------------------------------------------------------- watcher
# Every file these tests commit is a copy of src/big.  So any visible
# entry in the root, in LIST or in the download directory that is not
# exactly SIZE bytes (with big's SHA-256 in LIST) is a partial file
# showing under a final name.  Each violation is one line in watch.bad.
WATCH_BAD=$TMPD/watch.bad
WATCH_N=$TMPD/watch.count
WATCH_STOP=$TMPD/watch.stop
WATCH_PID=
watcher() {
	local n=0 f s lsize lsha lname seen=' '
	while [ ! -e "$WATCH_STOP" ] && [ $n -lt 100000 ]; do
		for f in "$ROOT"/* "$ROOT"/.[!.]* "$dl"/* "$dl"/.[!.]*; do
			[ -e "$f" ] || continue
			case "${f##*/}" in
			# Hidden temporaries, and the users' areas (none here).
			.ftx | .ftx-part-* | .ftxtmp-* | .users) continue ;;
			.*)
				echo "unexpected hidden entry $f" >>"$WATCH_BAD"
				continue
				;;
			esac
			s=$(stat -c %s "$f" 2>/dev/null) || continue
			if [ "$s" != "$SIZE" ]; then
				echo "$f has $s bytes, not $SIZE" >>"$WATCH_BAD"
			elif [[ "$seen" != *" $f "* ]]; then
				# First sight of a committed file: check it all.
				if [ "$(sha256_of "$f")" != "$bigsha" ]; then
					echo "$f has the wrong content" >>"$WATCH_BAD"
				fi
				seen+="$f "
			fi
		done
		if timeout 5 "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" -q ls --long \
		    >"$TMPD/watch.ls" 2>/dev/null; then
			while read -r lsize _ _ lsha lname; do
				[ -n "$lsize" ] || continue
				# "-": a committed file whose digest the listing
				# has not cached yet; not a partial (its size is
				# whole, and the files above are hashed).
				if [ "$lsize" != "$SIZE" ] ||
				    { [ "$lsha" != "$bigsha" ] && [ "$lsha" != "-" ]; }; then
					echo "LIST shows '$lname' size=$lsize sha=$lsha" >>"$WATCH_BAD"
				fi
				case "$lname" in
				.* | *partial* | *ftx-part*)
					echo "LIST shows a hidden entry '$lname'" >>"$WATCH_BAD"
					;;
				esac
			done <"$TMPD/watch.ls"
		fi
		n=$((n + 1))
		echo "$n" >"$WATCH_N"
		sleep 0.02
	done
}

start_watcher() {
	rm -f "$WATCH_STOP" "$WATCH_N"
	: >"$WATCH_BAD"
	watcher &
	WATCH_PID=$!
	track_pid "$WATCH_PID"
}

stop_watcher() {
	local n
	touch "$WATCH_STOP"
	wait_pid "$WATCH_PID" 20
	n=$(cat "$WATCH_N" 2>/dev/null || echo 0)
	if [ "$n" -ge 20 ]; then
		pass "watcher listed the directories $n times"
	else
		fail "watcher listed the directories only $n times"
	fi
	if [ -s "$WATCH_BAD" ]; then
		fail "watcher saw partial files under final names or in LIST:"
		sort -u "$WATCH_BAD" | head -n 20 | sed 's/^/    /' >&2
	else
		pass "watcher: no partial file was ever visible under a final name or in LIST"
	fi
}

start_server
start_watcher

# ---------------------------------------------------------------- client killed: upload
for pct in 10 50 99; do
	name=up$pct.bin
	at=$((SIZE * pct / 100))
	start_proxy --dir up --stall-after $((HELLO + at))
	pftx --retries 0 -q put "$src/big" --as "$name" >"$TMPD/$name.kill.out" 2>&1 &
	cpid=$!
	track_pid $cpid
	# The server may write what it receives in blocks, so its partial
	# can stay a block behind the stall point until the connection ends.
	if wait_for 30 partial_at_least $((at - MiB)); then
		pass "upload $pct%: the server's partial reached $((at - MiB)) bytes"
	else
		fail "upload $pct%: the server's partial has $(partial_size) bytes, stall at $at (files: $(partials | tr '\n' ' '))"
	fi
	sleep 0.2
	kill_tree $cpid
	wait $cpid 2>/dev/null
	kill -USR1 "$PROXY_PID"
	if wait_for 15 upload_logged "$name"; then
		pass "upload $pct%: the server noticed the killed client"
	else
		fail "upload $pct%: no 'xfer upload name=$name ... result=' in the log 15 s after the kill"
	fi
	assert_no_file "$ROOT/$name" "upload $pct%: no file under the final name after the kill"
	kept=$(partial_size)
	assert_eq "$at" "$kept" "upload $pct%: the partial keeps exactly the bytes that arrived"

	assert_exit 0 "upload $pct%: ftx put --resume" pftx put --resume "$src/big" --as "$name"
	assert_file_same "$src/big" "$ROOT/$name" "upload $pct%: resumed file identical"
	assert_match "$bigsha" "$(cat "$ERR")" "upload $pct%: ftx reports the whole file's sha256"
	if wait_for 5 eval "[ -n \"\$(proxy_bytes 2 up)\" ]"; then
		sent=$(proxy_bytes 2 up)
		# The resumed data connection carries the token line, the
		# missing bytes and the 32-byte digest, nothing more.
		assert_eq $((HELLO + SIZE - kept + 32)) "$sent" "upload $pct%: the resume sent only the missing bytes"
	else
		fail "upload $pct%: the resume did not use a second data connection"
	fi
	if wait_for 5 no_partials; then
		pass "upload $pct%: partial removed after the commit"
	else
		fail "upload $pct%: partial left after the commit: $(partials)"
	fi
	stop_proxy
done

# ---------------------------------------------------------------- client killed: download
# Downloads of the files just uploaded (all copies of big).
for pct in 10 50 99; do
	name=up$pct.bin
	at=$((SIZE * pct / 100))
	start_proxy --dir down --stall-after $at
	pftx --retries 0 -q get "$name" -o "$dl" >"$TMPD/$name.dkill.out" 2>&1 &
	cpid=$!
	track_pid $cpid
	# The client writes what it receives in blocks of up to 256 KiB,
	# so its partial may stay a block behind the stall point.
	if wait_for 30 client_part_at_least "$dl" $((at - MiB)); then
		pass "download $pct%: the client's partial reached $((at - MiB)) bytes"
	else
		fail "download $pct%: the client's partial has $(client_part_size "$dl") bytes (stall at $at)"
	fi
	sleep 0.2
	kill_tree $cpid
	wait $cpid 2>/dev/null
	kill -USR1 "$PROXY_PID"
	assert_no_file "$dl/$name" "download $pct%: no file under the final name after the kill"
	kept=$(client_part_size "$dl")
	if [ "$kept" -gt 0 ] && [ "$kept" -le "$at" ]; then
		pass "download $pct%: the client kept a partial of $kept bytes"
	else
		fail "download $pct%: the client's partial has $kept bytes (stall at $at)"
	fi
	if cmp -s -n "$kept" "$src/big" "$(client_part "$dl")"; then
		pass "download $pct%: the partial is a prefix of the file"
	else
		fail "download $pct%: the partial is not a prefix of the file"
	fi

	assert_exit 0 "download $pct%: ftx get --resume" pftx get --resume "$name" -o "$dl"
	assert_file_same "$src/big" "$dl/$name" "download $pct%: resumed file identical"
	assert_match "$bigsha" "$(cat "$ERR")" "download $pct%: ftx reports the whole file's sha256"
	if wait_for 5 eval "[ -n \"\$(proxy_bytes 2 down)\" ]"; then
		assert_eq $((SIZE - kept)) "$(proxy_bytes 2 down)" "download $pct%: the resume received only the missing bytes"
	else
		fail "download $pct%: the resume did not use a second data connection"
	fi
	assert_eq "" "$(client_parts "$dl")" "download $pct%: no partial left in the download directory"
	rm -f "$dl/$name"
	stop_proxy
done
stop_watcher
rm -f "$ROOT"/up*.bin

# ---------------------------------------------------------------- server killed
start_proxy --dir up --stall-after $((HELLO + SIZE / 2))
pftx --retries 0 -q put "$src/big" --as crash.bin >"$TMPD/crash.out" 2>&1 &
cpid=$!
track_pid $cpid
if wait_for 30 partial_at_least $((SIZE / 2 - MiB)); then
	pass "server kill: the partial reached 50%"
else
	fail "server kill: the partial has $(partial_size) bytes"
fi
sleep 0.2
kept=$(partial_size)
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
kill_tree $cpid
wait $cpid 2>/dev/null
stop_proxy
assert_no_file "$ROOT/crash.bin" "server kill: no file under the final name"
C0=$CTRL_PORT
D0=$DATA_PORT
start_server --port "$C0" --data-port "$D0"
assert_eq "$C0 $D0" "$CTRL_PORT $DATA_PORT" "server restarted on the same ports"
# The server wrote what it had received before it was killed (not
# necessarily all of it), and must still have exactly that after the
# restart.
assert_eq "$kept" "$(partial_size)" "server kill: the partial survived the crash and the restart"
raw "server kill: PARTIAL after the restart" ctl "send:PARTIAL crash.bin $SIZE" read "ok:^OK $kept\$"
assert_exit 0 "server kill: ftx put --resume" ftx put --resume "$src/big" --as crash.bin
assert_file_same "$src/big" "$ROOT/crash.bin" "server kill: resumed file identical"
if wait_for 5 no_partials; then pass "server kill: partial gone after the commit"; else fail "server kill: partial left: $(partials)"; fi

# The same without a manual resume: the client retries on its own while
# the server is down and finishes once it is back.
rm -f "$ROOT/crash.bin"
start_proxy --dir up --stall-after $((HELLO + SIZE / 4))
FTX_RETRY_BASE_MS=400 pftx --retries 6 put "$src/big" --as crash2.bin >"$TMPD/crash2.out" 2>"$TMPD/crash2.err" &
cpid=$!
track_pid $cpid
wait_for 30 partial_at_least $((SIZE / 4 - MiB))
sleep 0.2
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
kill -USR1 "$PROXY_PID"
sleep 1
start_server --port "$C0" --data-port "$D0"
wait_pid $cpid 60
assert_eq 0 "$WAIT_RC" "server restart: ftx --retries 6 finished on its own"
assert_file_same "$src/big" "$ROOT/crash2.bin" "server restart: file identical"
if grep -Eq "^ftx: .*retry [0-9]+/6 in [0-9.]+ ?s" "$TMPD/crash2.err"; then
	pass "server restart: the retries are reported on stderr"
else
	fail "server restart: no 'retry k/6 in X s' line on stderr: $(head -c 600 "$TMPD/crash2.err")"
fi
last=$(awk '$1 == "conn" && $3 == "map" && $4 == "1" { n = $6 } END { print n + 0 }' "$PROXY_OUT")
wait_for 5 eval "[ -n \"\$(proxy_bytes $last up)\" ]"
after=$(proxy_bytes "$last" up)
if [ "$last" -ge 2 ] && [ -n "$after" ] && [ "$after" -lt $((HELLO + SIZE)) ]; then
	pass "server restart: the retry resumed ($after bytes on the last data connection)"
else
	fail "server restart: the retry did not resume (last data connection: '${after}' bytes; $(grep 'map 1' "$PROXY_OUT" | tr '\n' ';'))"
fi
stop_proxy
rm -f "$ROOT/crash2.bin"

# ---------------------------------------------------------------- raw protocol
mkrand "$src/r" 1000000
rsha=$(sha256_of "$src/r")
tail -c +60001 "$src/r" >"$src/r.tail"
# The whole file's digest as \xHH escapes for ftxraw's draw: step.
rdigest=$(sha256sum "$src/r" | cut -c1-64 | sed 's/../\\x&/g')
raw "PARTIAL: nothing kept yet" ctl 'send:PARTIAL rng.bin 1000000' read 'ok:^OK 0$'
raw "an interrupted upload keeps its bytes" ctl \
    'line:UPLOAD rng.bin 1000000' 'ok:^OK ' data "dsend:$src/r:100000" dclose \
    read 'ok:^ERROR (SHORT|TIMEOUT) ' \
    'send:PARTIAL rng.bin 1000000' read 'ok:^OK 100000$' \
    'send:PARTIAL rng.bin 999999' read 'ok:^OK 0$' \
    'send:PARTIAL other.bin 1000000' read 'ok:^OK 0$' \
    'line:LIST' 'ok:^OK 0$'
assert_no_file "$ROOT/rng.bin" "the partial is not under the final name"
raw "another client IP cannot see the partial" ctl@127.0.0.2 \
    'send:PARTIAL rng.bin 1000000' read 'ok:^OK 0$'
raw "offset beyond the partial is ERROR RANGE" ctl \
    'line:UPLOAD rng.bin 1000000 offset=100001' 'ok:^ERROR RANGE ' \
    'line:UPLOAD rng.bin 1000000 offset=2000000' 'ok:^ERROR (RANGE|SYNTAX) ' \
    'send:PARTIAL rng.bin 1000000' read 'ok:^OK 100000$' line:NOOP 'ok:^OK$'
raw "resume from below the partial: later bytes are sent again" ctl \
    'line:UPLOAD rng.bin 1000000 offset=60000' 'ok:^OK [0-9]+ [0-9a-f]{32}' \
    data "dsend:$src/r.tail" "draw:$rdigest" read "ok:^DONE $rsha\$" \
    'send:PARTIAL rng.bin 1000000' read 'ok:^OK 0$'
assert_file_same "$src/r" "$ROOT/rng.bin" "raw resumed upload stored intact"
raw "a resumed upload with the suffix's digest is refused" ctl \
    'line:UPLOAD rng2.bin 1000000' 'ok:^OK ' data "dsend:$src/r:60000" dclose read 'ok:^ERROR ' \
    'send:PARTIAL rng2.bin 1000000' read 'ok:^OK 60000$' \
    'line:UPLOAD rng2.bin 1000000 offset=60000' 'ok:^OK ' \
    data "dsend:$src/r.tail" ddigest read 'ok:^ERROR INTEGRITY ' \
    'send:PARTIAL rng2.bin 1000000' read 'ok:^OK 0$'
assert_no_file "$ROOT/rng2.bin" "a wrong whole-file digest commits nothing"
tsha=$(tail -c +900001 "$src/r" | sha256sum | cut -c1-64)
raw "DOWNLOAD offset=" ctl \
    'line:DOWNLOAD rng.bin offset=900000' "ok:^OK 1000000 [0-9]+ [0-9a-f]{32} $rsha( |\$)" \
    data drecv "ok:^DATA n=100000 sha=$tsha end=EOF" read "ok:^DONE $rsha\$" \
    'line:DOWNLOAD rng.bin offset=1000000' 'ok:^OK 1000000 ' \
    data drecv 'ok:^DATA n=0 .*end=EOF' read "ok:^DONE $rsha\$" \
    'line:DOWNLOAD rng.bin offset=1000001' 'ok:^ERROR RANGE ' line:NOOP 'ok:^OK$'

# ---------------------------------------------------------------- changed on the server
mkrand "$src/v1" $((16 * MiB))
mkrand "$src/v2" $((16 * MiB))
assert_exit 0 "put version 1" ftx put "$src/v1" --as changing.bin
start_proxy --dir down --stall-after $((8 * MiB))
pftx --retries 0 -q get changing.bin -o "$dl" >"$TMPD/chg.out" 2>&1 &
cpid=$!
track_pid $cpid
if wait_for 30 client_part_at_least "$dl" $((7 * MiB)); then
	pass "changed file: the first download is half way"
else
	fail "changed file: the client's partial has $(client_part_size "$dl") bytes"
fi
kill_tree $cpid
wait $cpid 2>/dev/null
kill -USR1 "$PROXY_PID"
stop_proxy
assert_exit 0 "put version 2 under the same name" ftx put "$src/v2" --as changing.bin
assert_exit 0 "changed file: ftx get --resume" ftx get --resume changing.bin -o "$dl"
assert_file_same "$src/v2" "$dl/changing.bin" "changed file: the new version, verified"
if grep -Eiq 'chang|differ|from (0|the start|scratch)|start(ing)? (again|over)' "$ERR"; then
	pass "changed file: a notice on stderr ($(head -n 1 "$ERR"))"
else
	fail "changed file: no notice on stderr that the download starts again: '$(cat "$ERR")'"
fi
assert_eq "" "$(client_parts "$dl")" "changed file: no partial left"

# ---------------------------------------------------------------- expiry
stop_server
ROOT=$TMPD/root-ttl
mkdir -p "$ROOT"
start_server --partial-ttl 2
raw "an abandoned partial" ctl \
    'line:UPLOAD gone.bin 1000000' 'ok:^OK ' data "dsend:$src/r:300000" dclose read 'ok:^ERROR ' \
    'send:PARTIAL gone.bin 1000000' read 'ok:^OK 300000$'
if [ -n "$(partials)" ]; then pass "the partial is on disk"; else fail "no partial under $ROOT/.ftx"; fi
if wait_for 20 no_partials; then
	pass "--partial-ttl 2 removed the partial"
else
	fail "partial still there 20 s after --partial-ttl 2: $(partials)"
fi
raw "PARTIAL after the expiry" ctl 'send:PARTIAL gone.bin 1000000' read 'ok:^OK 0$'
assert_alive "partial expiry"
stop_server
assert_eq 0 "$SERVER_RC" "ftxd exits 0"
finish

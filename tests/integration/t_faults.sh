#!/bin/bash
# Network and disk faults (issue 6, "Fault tests"), through
# tests/tools/ftxproxy on loopback:
#  - the data connection is cut (reset) in the middle of an upload and of
#    a download, and the control connection in the middle of a transfer:
#    the client reports a retry on stderr, resumes, and the file verifies;
#  - the data connection stalls (a black hole) during an upload and a
#    download: the server gives up after --data-timeout and says so
#    (ERROR TIMEOUT); the client gives up when it reads that or after its
#    own data timeout (FTX_DEFAULT_DATA_TIMEOUT_S, whichever comes
#    first), and the retry resumes and finishes;
#  - one bit flipped in an upload: the server refuses it (INTEGRITY),
#    never commits the corrupted bytes, keeps no partial of them, and the
#    retry succeeds; one bit flipped in a download: the client refuses
#    it, keeps nothing corrupted, and the retry succeeds;
#  - the disk fills up during an upload (an 8 MiB tmpfs as the root; only
#    as root, skipped otherwise): a clear ERROR, nothing left behind, the
#    server keeps serving.
# Slowloris is covered by t_slowloris.sh.
#
# ftxd listens on 127.0.0.1 ports C and D; each proxy listens on another
# loopback address with the same ports C and D (the client connects its
# data connection to the control host on the announced port), and the
# client is pointed at that address.  Faults apply to the first data
# connection (or control connection) only, so the retry passes cleanly.
. "$(dirname "$0")/lib.sh"

FTXPROXY=$FTX_BUILD/tools/ftxproxy
if [ ! -x "$FTXPROXY" ]; then
	fail "$FTXPROXY is not built (make tools)"
	exit 1
fi
MiB=$((1024 * 1024))
HELLO=33 # the token line that starts an upload's data connection
DIGEST=32
DATA_TIMEOUT=2
# The client's own data timeout (ftx has no option for it yet).
CLIENT_DATA_TIMEOUT=$(sed -n -E 's/^#define FTX_DEFAULT_DATA_TIMEOUT_S ([0-9]+).*/\1/p' \
    "$ITEST_DIR/../../shared/ftx_limits.h")
[[ $CLIENT_DATA_TIMEOUT =~ ^[0-9]+$ ]] || CLIENT_DATA_TIMEOUT=60
export FTX_RETRY_BASE_MS=20
RETRY_RE='^ftx: .+: .+; retry 1/3 in [0-9.]+ ?s$'

src=$TMPD/src
dl=$TMPD/dl
mkdir -p "$src" "$dl"
SIZE=$((32 * MiB))
mkrand "$src/f" $SIZE
fsha=$(sha256_of "$src/f")

# ---------------------------------------------------------------- helpers

# start_proxy VAR ADDR FTXPROXY-ARGS...: a proxy on ADDR for the server's
# control and data ports; faults apply to the data map unless the
# arguments say --fault-map 0.  Sets VAR_PID and VAR_OUT.
PROXY_N=0
start_proxy() {
	local var=$1 addr=$2 out pid
	shift 2
	PROXY_N=$((PROXY_N + 1))
	out=$TMPD/proxy.$PROXY_N.out
	"$FTXPROXY" --map "$addr:$CTRL_PORT=127.0.0.1:$CTRL_PORT" \
	    --map "$addr:$DATA_PORT=127.0.0.1:$DATA_PORT" --fault-map 1 \
	    --lifetime 170 "$@" >"$out" 2>&1 &
	pid=$!
	track_pid "$pid"
	printf -v "${var}_PID" '%s' "$pid"
	printf -v "${var}_OUT" '%s' "$out"
	for _ in $(seq 1 100); do
		grep -q '^ready$' "$out" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	fail "ftxproxy did not start: $(cat "$out")"
	exit 1
}

stop_proxy() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# proxy_bytes OUTFILE MAP NTH DIR: bytes the NTH connection of MAP
# carried up or down (empty if it has not closed).
proxy_bytes() {
	awk -v map="$2" -v nth="$3" -v dir="$4" '
	    $1 == "conn" && $3 == "map" && $4 == map && $6 == nth { id = $2 }
	    $1 == "conn" && id != "" && $2 == id && $3 == "closed" {
		for (i = 4; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == dir) print kv[2]
		}
	    }' "$1"
}

# proxy_conns OUTFILE MAP: connections MAP accepted.
proxy_conns() {
	awk -v map="$2" '$1 == "conn" && $3 == "map" && $4 == map { n++ } END { print n + 0 }' "$1"
}

# cftx ADDR ARGS...: the client against the proxy on ADDR.
cftx() {
	local addr=$1
	shift
	timeout -k 2 "${FTX_TIMEOUT:-60}" "$FTX_BIN" --host "$addr" --port "$CTRL_PORT" "$@"
}

partials() {
	find "$ROOT/.ftx" -mindepth 2 -type f -path '*partial*' ! -name '*.lock' \
	    2>/dev/null
}

no_partials() {
	[ -z "$(partials)" ]
}

# Partials that were not there at the last snap_partials: a failed case
# (a killed client) may leave its own behind, which later cases must not
# be blamed for.
PART_BEFORE=
snap_partials() {
	PART_BEFORE=$(partials | LC_ALL=C sort)
}

new_partials() {
	LC_ALL=C comm -13 <(printf '%s\n' "$PART_BEFORE") <(partials | LC_ALL=C sort) | sed '/^$/d'
}

no_new_partials() {
	[ -z "$(new_partials)" ]
}

# Watch final names: each time PATH (re)appears, its content must have
# SHA; any other content is a committed corruption (one line in BAD).
WATCH_STOP=$TMPD/watch.stop
watch_paths() {
	local bad=$1 n=0 p s ino
	shift
	declare -A seen
	while [ ! -e "$WATCH_STOP" ] && [ $n -lt 100000 ]; do
		for p in "$@"; do
			s=${p#*=}
			p=${p%%=*}
			ino=$(stat -c %i "$p" 2>/dev/null) || continue
			[ "${seen[$p]:-}" = "$ino" ] && continue
			seen[$p]=$ino
			if [ "$(sha256_of "$p" 2>/dev/null)" != "$s" ]; then
				echo "$p appeared with the wrong content" >>"$bad"
			fi
		done
		n=$((n + 1))
		sleep 0.01
	done
}

start_watch() {
	rm -f "$WATCH_STOP"
	: >"$TMPD/watch.bad"
	watch_paths "$TMPD/watch.bad" "$@" &
	WATCH_PID=$!
	track_pid "$WATCH_PID"
}

stop_watch() {
	touch "$WATCH_STOP"
	wait_pid "$WATCH_PID" 20
	if [ -s "$TMPD/watch.bad" ]; then
		fail "$1: corrupted content appeared under a final name: $(sort -u "$TMPD/watch.bad" | tr '\n' ' ')"
	else
		pass "$1: no corrupted content ever appeared under the final name"
	fi
}

check_retry_line() {
	if grep -Eq "$RETRY_RE" "$2"; then
		pass "$1: the retry is reported on stderr ($(grep -E -m 1 "$RETRY_RE" "$2"))"
	else
		fail "$1: no 'ftx: <name>: <reason>; retry 1/3 in X s' line on stderr: $(head -c 600 "$2")"
	fi
}

start_server --data-timeout $DATA_TIMEOUT

# ---------------------------------------------------------------- cuts
snap_partials
start_proxy P 127.0.0.2 --dir up --cut-after $((HELLO + 8 * MiB))
assert_exit 0 "upload, data connection cut at 8 MiB: ftx --retries 3 put" \
    cftx 127.0.0.2 --retries 3 put "$src/f" --as cut-up.bin
check_retry_line "upload cut" "$ERR"
assert_file_same "$src/f" "$ROOT/cut-up.bin" "upload cut: file identical"
n=$(proxy_bytes "$P_OUT" 1 1 up)
if [ -n "$n" ] && [ "$n" -le $((HELLO + 8 * MiB)) ]; then
	pass "upload cut: the first data connection was cut ($n bytes)"
else
	fail "upload cut: the first data connection carried '$n' bytes"
fi
n=$(proxy_bytes "$P_OUT" 1 2 up)
if [ -n "$n" ] && [ "$n" -lt $((HELLO + SIZE + DIGEST)) ] && [ "$n" -gt $((HELLO + DIGEST)) ]; then
	pass "upload cut: the retry resumed ($n bytes instead of $((HELLO + SIZE + DIGEST)))"
else
	fail "upload cut: the retry did not resume (second data connection: '$n' bytes)"
fi
if log_has 'xfer upload .*name=cut-up\.bin.*result=(SHORT|IO)'; then
	pass "upload cut: the server logged the broken first attempt"
else
	fail "upload cut: no 'xfer upload name=cut-up.bin ... result=SHORT' in the log"
fi
if wait_for 5 no_new_partials; then pass "upload cut: no partial left"; else fail "upload cut: partial left: $(new_partials)"; fi
stop_proxy "$P_PID"

start_proxy P 127.0.0.2 --dir down --cut-after $((8 * MiB))
assert_exit 0 "download, data connection cut at 8 MiB: ftx --retries 3 get" \
    cftx 127.0.0.2 --retries 3 get cut-up.bin -o "$dl"
check_retry_line "download cut" "$ERR"
assert_file_same "$src/f" "$dl/cut-up.bin" "download cut: file identical"
n=$(proxy_bytes "$P_OUT" 1 2 down)
if [ -n "$n" ] && [ "$n" -lt "$SIZE" ] && [ "$n" -gt 0 ]; then
	pass "download cut: the retry resumed ($n bytes instead of $SIZE)"
else
	fail "download cut: the retry did not resume (second data connection: '$n' bytes)"
fi
assert_eq "" "$(find "$dl" -name '.ftx-part-*')" "download cut: no partial left"
stop_proxy "$P_PID"

# The control connection dropped 600 ms into a 32 MiB upload that the
# proxy slows to about 16 MiB/s.
snap_partials
start_proxy P 127.0.0.2 --fault-map 0 --cut-after-ms 600 --rate $((16 * MiB))
assert_exit 0 "upload, control connection cut mid-transfer: ftx --retries 3 put" \
    cftx 127.0.0.2 --retries 3 put "$src/f" --as cut-ctl.bin
check_retry_line "control cut" "$ERR"
if grep -q 'cut at-ms' "$P_OUT"; then pass "control cut: the proxy cut the control connection"; else fail "control cut: the proxy never cut (transfer too fast?)"; fi
assert_file_same "$src/f" "$ROOT/cut-ctl.bin" "control cut: file identical"
if wait_for 5 no_new_partials; then pass "control cut: no partial left"; else fail "control cut: partial left: $(new_partials)"; fi
stop_proxy "$P_PID"
assert_alive "cut connections"

# ---------------------------------------------------------------- stalls
# Both stalls run at once, through two proxies, so that the client's
# data timeout (60 s, if the client only notices the stall by it) is
# waited for only once.
start_proxy SU 127.0.0.3 --dir up --stall-after $((HELLO + 4 * MiB))
start_proxy SD 127.0.0.4 --dir down --stall-after $((4 * MiB))
mkdir -p "$dl/stall"
start_watch "$ROOT/stall-up.bin=$fsha" "$dl/stall/cut-up.bin=$fsha"
t0=$(date +%s)
limit=$((CLIENT_DATA_TIMEOUT + 30))
FTX_TIMEOUT=$limit cftx 127.0.0.3 --retries 3 put "$src/f" --as stall-up.bin \
    >"$TMPD/stall-up.out" 2>"$TMPD/stall-up.err" &
supid=$!
track_pid $supid
FTX_TIMEOUT=$limit cftx 127.0.0.4 --retries 3 get cut-up.bin -o "$dl/stall" \
    >"$TMPD/stall-down.out" 2>"$TMPD/stall-down.err" &
sdpid=$!
track_pid $sdpid
if wait_for 15 log_has 'xfer upload .*name=stall-up\.bin.*result=TIMEOUT'; then
	pass "upload stall: the server timed out (--data-timeout $DATA_TIMEOUT)"
else
	fail "upload stall: no 'xfer upload name=stall-up.bin ... result=TIMEOUT' in the log within 15 s"
fi
if wait_for 15 log_has 'xfer download .*name=cut-up\.bin.*result=TIMEOUT'; then
	pass "download stall: the server timed out (--data-timeout $DATA_TIMEOUT)"
else
	fail "download stall: no 'xfer download name=cut-up.bin ... result=TIMEOUT' in the log within 15 s"
fi
wait_pid $supid $((limit + 5))
assert_eq 0 "$WAIT_RC" "upload stall: the client timed out, retried and finished"
echo "upload stall: the client finished after $(($(date +%s) - t0)) s"
wait_pid $sdpid $((limit + 5))
assert_eq 0 "$WAIT_RC" "download stall: the client timed out, retried and finished"
echo "download stall: the client finished after $(($(date +%s) - t0)) s"
stop_watch "stalls"
check_retry_line "upload stall" "$TMPD/stall-up.err"
check_retry_line "download stall" "$TMPD/stall-down.err"
assert_file_same "$src/f" "$ROOT/stall-up.bin" "upload stall: file identical"
assert_file_same "$src/f" "$dl/stall/cut-up.bin" "download stall: file identical"
# The black hole released both sides only because both gave up.
for o in "$SU_OUT" "$SD_OUT"; do
	if grep -Eq '^conn [0-9]+ stall ' "$o" && [ "$(proxy_conns "$o" 1)" -ge 2 ]; then
		pass "stall: the first data connection stalled and a second one finished ($(basename "$o"))"
	else
		fail "stall: unexpected proxy transcript: $(tr '\n' ';' <"$o")"
	fi
done
n=$(proxy_bytes "$SU_OUT" 1 2 up)
if [ -n "$n" ] && [ "$n" -lt $((HELLO + SIZE + DIGEST)) ]; then
	pass "upload stall: the retry resumed ($n bytes instead of $((HELLO + SIZE + DIGEST)))"
else
	fail "upload stall: the retry did not resume (second data connection: '$n' bytes)"
fi
n=$(proxy_bytes "$SD_OUT" 1 2 down)
if [ -n "$n" ] && [ "$n" -lt "$SIZE" ]; then
	pass "download stall: the retry resumed ($n bytes instead of $SIZE)"
else
	fail "download stall: the retry did not resume (second data connection: '$n' bytes)"
fi
stop_proxy "$SU_PID"
stop_proxy "$SD_PID"
assert_alive "stalled data connections"

# ---------------------------------------------------------------- flipped bits
# Upload: the first data connection flips one bit 1 MiB into the file.
snap_partials
start_proxy P 127.0.0.2 --dir up --flip-at $((HELLO + MiB))
start_watch "$ROOT/flip-up.bin=$fsha"
assert_exit 0 "upload with one flipped bit: ftx --retries 3 put" \
    cftx 127.0.0.2 --retries 3 put "$src/f" --as flip-up.bin
stop_watch "upload flip"
check_retry_line "upload flip" "$ERR"
if grep -Eq '^conn [0-9]+ flip up ' "$P_OUT"; then pass "upload flip: the proxy flipped a bit"; else fail "upload flip: the proxy flipped nothing"; fi
if log_has 'xfer upload .*name=flip-up\.bin.*result=INTEGRITY'; then
	pass "upload flip: the server refused the corrupted upload (INTEGRITY)"
else
	fail "upload flip: no 'xfer upload name=flip-up.bin ... result=INTEGRITY' in the log"
fi
# The corrupted partial must be gone, so the retry starts from 0 (a
# resume would keep the bad bit and fail again).
assert_eq $((HELLO + SIZE + DIGEST)) "$(proxy_bytes "$P_OUT" 1 2 up)" \
    "upload flip: the retry sent the whole file again"
assert_file_same "$src/f" "$ROOT/flip-up.bin" "upload flip: stored file identical"
if wait_for 5 no_new_partials; then pass "upload flip: no partial left"; else fail "upload flip: partial left: $(new_partials)"; fi
stop_proxy "$P_PID"

# Download: one bit flipped 1 MiB into the file.
start_proxy P 127.0.0.2 --dir down --flip-at $((MiB))
mkdir -p "$dl/flip"
start_watch "$dl/flip/flip-up.bin=$fsha"
assert_exit 0 "download with one flipped bit: ftx --retries 3 get" \
    cftx 127.0.0.2 --retries 3 get flip-up.bin -o "$dl/flip"
stop_watch "download flip"
check_retry_line "download flip" "$ERR"
if grep -Eiq 'integrity|sha256' "$ERR"; then pass "download flip: the integrity failure is reported"; else fail "download flip: stderr does not mention the integrity failure: $(cat "$ERR")"; fi
assert_eq "$SIZE" "$(proxy_bytes "$P_OUT" 1 2 down)" "download flip: the retry fetched the whole file again"
assert_file_same "$src/f" "$dl/flip/flip-up.bin" "download flip: file identical"
assert_eq "" "$(find "$dl/flip" -name '.ftx-part-*')" "download flip: no partial left"
stop_proxy "$P_PID"

# Without retries the corrupted download fails with exit 5 and keeps
# nothing at all.
start_proxy P 127.0.0.2 --dir down --flip-at $((MiB))
mkdir -p "$dl/flip0"
assert_exit 5 "download with one flipped bit, --retries 0: integrity failure" \
    cftx 127.0.0.2 --retries 0 get flip-up.bin -o "$dl/flip0"
assert_eq "" "$(find "$dl/flip0" -mindepth 1)" "download flip without retries: nothing kept"
stop_proxy "$P_PID"
assert_alive "flipped bits"
stop_server
assert_eq 0 "$SERVER_RC" "ftxd exits 0"

# ---------------------------------------------------------------- disk full
small_tmpfs_root 8m || finish
start_server
mkrand "$src/s" 100000
assert_exit_in "1 4" "disk full: a 32 MiB upload into 8 MiB fails" ftx put "$src/f" --as full.bin
if grep -Eq 'NOSPACE|disk full' "$ERR"; then
	pass "disk full: clear error ($(head -n 1 "$ERR"))"
else
	fail "disk full: the error does not say NOSPACE / disk full: $(cat "$ERR")"
fi
if grep -Eq 'retry' "$ERR"; then
	fail "disk full: the client retried an IO error: $(grep -m 1 retry "$ERR")"
else
	pass "disk full: no pointless retries"
fi
if log_has 'xfer upload .*name=full\.bin.*result=NOSPACE'; then pass "disk full: the server logged result=NOSPACE"; else fail "disk full: no 'xfer upload name=full.bin ... result=NOSPACE' in the log"; fi
assert_no_file "$ROOT/full.bin" "disk full: nothing under the final name"
if wait_for 5 no_partials; then
	pass "disk full: the partial was discarded (it can never complete)"
else
	fail "disk full: the server kept a partial of a disk-full upload: $(partials | xargs -r ls -l)"
fi
if wait_for 5 no_temps "$ROOT"; then pass "disk full: no temporary left"; else fail "disk full: temporaries left: $(temps_in "$ROOT")"; fi
used=$(df -k --output=used "$MNT" | tail -n 1 | tr -d ' ')
if [ "$used" -lt 1024 ]; then pass "disk full: the space was freed (${used} KiB used)"; else fail "disk full: ${used} KiB still used on the 8 MiB root"; fi
assert_alive "a disk-full upload"
assert_exit 0 "disk full: a small put works afterwards" ftx put "$src/s" --as small.bin
mkdir -p "$dl/after"
assert_exit 0 "disk full: a get works afterwards" ftx get small.bin -o "$dl/after"
assert_file_same "$src/s" "$dl/after/small.bin" "disk full: small file round trip"
stop_server
assert_eq 0 "$SERVER_RC" "ftxd on the full disk exits 0"
unmount_tmpfs
finish

#!/bin/bash
# The client's Unix habits for put and get (issue 14):
#  - pipes both ways: `... | ftx put - --as NAME` (a streamed upload),
#    `ftx get NAME -o - | ...` with nothing but the file on stdout,
#    through sha256sum and tar; a server without streamed uploads, a
#    lying server (exit 5 after the bytes went out), usage mistakes;
#  - summaries on stderr, --json objects on stdout (python3 -m json.tool);
#  - SIGINT/SIGTERM mid-transfer: the hint, exit 130/143, and the same
#    command again resumes by itself (the summary says so, the file is
#    identical); --no-resume starts over; a file changed on the server
#    is fetched again from 0;
#  - --no-clobber and --skip-same for put and get;
#  - a full local disk (a 2 MiB tmpfs; root only, else skipped): refused
#    before writing, or the partial removed when the disk fills up;
#  - names in errors as typed ("with space", not "with%20space"), and
#    the connection-refused hint.
. "$(dirname "$0")/lib.sh"

isolate_client
export FTX_RETRY_BASE_MS=20
MiB=$((1024 * 1024))
W=$TMPD/work
mkdir -p "$W"
cd "$W" || exit 1

mkrand "$TMPD/big" $((3 * MiB))
bigsha=$(sha256_of "$TMPD/big")

# json_ok FILE: FILE is JSON Lines (python3 -m json.tool), one object
# a line; then J[KEY] holds the first line's values and JN the number of
# lines.  (One python each: its start-up is most of a check's time.)
declare -A J
JN=0
json_ok() {
	local k v
	J=()
	JN=0
	python3 -m json.tool --json-lines "$1" >/dev/null 2>&1 || return 1
	while IFS=$'\t' read -r k v; do
		J[$k]=$v
	done < <(python3 -c 'import json,sys
lines = open(sys.argv[1]).read().splitlines()
print("#lines\t%d" % len(lines))
for k, v in json.loads(lines[0]).items():
    if v is None or isinstance(v, bool):
        v = json.dumps(v)
    print("%s\t%s" % (k, v))' "$1" 2>/dev/null)
	JN=${J["#lines"]:-0}
	[ "$JN" -gt 0 ]
}

# partial_size DIR: bytes in the download partial(s) in DIR.
partial_size() {
	find "$1" -maxdepth 1 -name '.ftx-part-*' ! -name '*.info' -printf '%s\n' \
	    2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

has_partial() {
	[ "$(partial_size "$1")" -gt 0 ]
}

# ftx_bg OUT ERR ARGS...: the client in the background, unwrapped, so
# that a signal reaches ftx itself; sets BG_PID.
ftx_bg() {
	local out=$1 err=$2
	shift 2
	"$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" "$@" >"$out" 2>"$err" &
	BG_PID=$!
	track_pid "$BG_PID"
}

# ---------------------------------------------------------------- pipes

start_server
raw "the greeting offers streamed uploads" ctl 'ok:^OK FTX/1 .*stream'

assert_exit 0 "cat FILE | ftx put - --as NAME" \
    bash -c 'cat "$1" | "$2" --host 127.0.0.1 --port "$3" put - --as piped.bin' \
    _ "$TMPD/big" "$FTX_BIN" "$CTRL_PORT"
assert_eq "" "$(cat "$OUT")" "put -: nothing on stdout"
assert_match "uploaded piped.bin from standard input: 3.0 MiB in .* MiB/s" \
    "$(cat "$ERR")" "put -: the summary on stderr, in MiB/s"
assert_file_same "$TMPD/big" "$ROOT/piped.bin" "put -: the server has the bytes"

assert_exit 0 "ftx get NAME -o - > FILE" ftx get piped.bin -o -
assert_file_same "$TMPD/big" "$OUT" "get -o -: stdout holds exactly the file"
assert_match "downloaded piped.bin to standard output" "$(cat "$ERR")" \
    "get -o -: the summary on stderr"
assert_no_file "$W/-" "get -o -: no directory named '-'"
assert_no_file "$W/client_downloads" "get -o -: no download directory either"

got=$(ftx get piped.bin -o - 2>/dev/null | sha256sum | cut -c1-64)
assert_eq "$bigsha" "$got" "ftx get -o - | sha256sum"

mkdir -p "$TMPD/tree/dir/sub" "$TMPD/untar"
echo hello >"$TMPD/tree/dir/a.txt"
mkrand "$TMPD/tree/dir/sub/b.bin" 200000
printf 'name with space\n' >"$TMPD/tree/dir/sub/c d"
assert_exit 0 "tar c dir | ftx put - --as d.tar" \
    bash -c 'tar c -C "$1" dir | "$2" --host 127.0.0.1 --port "$3" put - --as d.tar' \
    _ "$TMPD/tree" "$FTX_BIN" "$CTRL_PORT"
assert_exit 0 "ftx get d.tar -o - | tar x" \
    bash -c 'set -o pipefail; "$1" --host 127.0.0.1 --port "$2" get d.tar -o - | tar x -C "$3"' \
    _ "$FTX_BIN" "$CTRL_PORT" "$TMPD/untar"
if diff -r "$TMPD/tree/dir" "$TMPD/untar/dir" >/dev/null 2>&1; then
	pass "the tree came back through two pipes intact"
else
	fail "the tree differs after tar | put - / get -o - | tar"
fi

assert_exit 0 "an empty stdin is an empty file" \
    bash -c '"$1" --host 127.0.0.1 --port "$2" put - --as empty </dev/null' \
    _ "$FTX_BIN" "$CTRL_PORT"
if [ -f "$ROOT/empty" ] && [ ! -s "$ROOT/empty" ]; then
	pass "put - </dev/null stored an empty file"
else
	fail "put - </dev/null: $ROOT/empty is not an empty file"
fi

assert_exit 2 "put - without --as" bash -c 'echo x | "$1" --port "$2" put -' \
    _ "$FTX_BIN" "$CTRL_PORT"
assert_match "--as NAME" "$(cat "$ERR")" "put - without --as says to give --as"
n0=$(grep -c 'UPLOAD' "$LOG")
assert_exit 2 "put - --as ../x" bash -c 'echo x | "$1" --host 127.0.0.1 --port "$2" put - --as ../x' \
    _ "$FTX_BIN" "$CTRL_PORT"
assert_eq "$n0" "$(grep -c 'UPLOAD' "$LOG")" "put - --as ../x: nothing sent"
assert_exit 2 "put - --skip-same" bash -c 'echo x | "$1" --port "$2" put - --as x --skip-same' \
    _ "$FTX_BIN" "$CTRL_PORT"
assert_exit 2 "get -o - with two paths" ftx get piped.bin empty -o -
assert_exit 2 "get -o - with a pattern" ftx get 'p*' -o -
assert_exit 2 "get -o - --json" ftx get piped.bin -o - --json
assert_exit 4 "get -o - of a missing file" ftx get nosuch -o -
assert_eq "" "$(cat "$OUT")" "get -o - of a missing file: stdout empty"
assert_no_file "$W/-" "a failed get -o - makes no directory '-' either"

# A server without streamed uploads (ftxfake's greeting has no "stream").
start_fake good "$TMPD/big"
assert_exit 4 "put - to a server without streams" \
    bash -c 'echo x | "$1" --host 127.0.0.1 --port "$2" put - --as x' \
    _ "$FTX_BIN" "$FAKE_PORT"
assert_match "too old .*standard input" "$(cat "$ERR")" \
    "put -: an old server is named as too old"
stop_fake

# A lying server: the bytes go out, then the digest fails: exit 5.
start_fake corrupt "$TMPD/big"
"$FTX_BIN" --host 127.0.0.1 --port "$FAKE_PORT" get big -o - >"$TMPD/lie.out" 2>"$TMPD/lie.err"
rc=$?
assert_eq 5 "$rc" "get -o - from a server that corrupts the bytes exits 5"
assert_match "integrity failure: big: .*standard output are damaged" \
    "$(cat "$TMPD/lie.err")" "the error says the output is damaged"
assert_eq "$(stat -c %s "$TMPD/big")" "$(stat -c %s "$TMPD/lie.out")" \
    "the damaged bytes did go out (as curl does)"
stop_fake

# ---------------------------------------------------------------- json

assert_exit 0 "put --json" ftx put "$TMPD/big" --as j.bin --json
if json_ok "$OUT"; then pass "put --json: JSON lines"; else fail "put --json: $(cat "$OUT")"; fi
assert_eq 1 "$JN" "put --json: one object for one file"
assert_eq "put" "${J[op]}" "put --json: op"
assert_eq "j.bin" "${J[path]}" "put --json: path"
assert_eq $((3 * MiB)) "${J[bytes]}" "put --json: bytes"
assert_eq "$bigsha" "${J[sha256]}" "put --json: sha256"
assert_eq "false" "${J[resumed]}" "put --json: resumed"
assert_eq "null" "${J[skipped]}" "put --json: skipped"
assert_eq "" "$(grep -v '^ftx: ' "$ERR")" "put --json: no summary line besides"

mkdir -p "$TMPD/jd"
assert_exit 0 "get --json of two files" ftx get j.bin empty -o "$TMPD/jd" --json
if json_ok "$OUT"; then pass "get --json: JSON lines"; else fail "get --json: $(cat "$OUT")"; fi
assert_eq 2 "$JN" "get --json: one object per file"
assert_eq "$((3 * MiB))" "${J[bytes_this_run]}" "get --json: bytes_this_run"
assert_match '^[0-9]+$' "${J[bytes_per_second]}" "get --json: bytes_per_second an integer"
assert_match '^[0-9]+(\.[0-9]+)?$' "${J[seconds]}" "get --json: seconds (a number)"
assert_eq "$TMPD/jd/j.bin" "${J[local]}" "get --json: local"
assert_exit 0 "put --json with a quote in the name" ftx put "$TMPD/big" --as 'q"x y' --json
json_ok "$OUT"
assert_eq 'q"x y' "${J[path]}" "put --json: the name escaped and read back"

# ---------------------------------------------------------------- no-clobber, skip-same

echo local >"$TMPD/jd/empty"
assert_exit 0 "get --no-clobber over an existing file" ftx get empty -o "$TMPD/jd" --no-clobber
assert_match "skipped empty: exists" "$(cat "$ERR")" "get --no-clobber: skipped NAME: exists"
assert_eq "local" "$(cat "$TMPD/jd/empty")" "get --no-clobber left the file alone"
assert_exit 0 "get --no-clobber --json" ftx get empty -o "$TMPD/jd" --no-clobber --json
json_ok "$OUT"
assert_eq "exists" "${J[skipped]}" "get --no-clobber --json: skipped"
assert_exit 0 "get --no-clobber of a new file" ftx get piped.bin -o "$TMPD/jd" --no-clobber
assert_file_same "$TMPD/big" "$TMPD/jd/piped.bin" "get --no-clobber downloads a missing file"

n0=$(grep -c 'DOWNLOAD' "$LOG")
assert_exit 0 "get --skip-same of an identical file" ftx get piped.bin -o "$TMPD/jd" --skip-same
assert_match "skipped piped.bin: same SHA-256" "$(cat "$ERR")" "get --skip-same: skipped"
assert_eq "$n0" "$(grep -c 'DOWNLOAD' "$LOG")" "get --skip-same: no DOWNLOAD sent"
assert_exit 0 "get --skip-same of a different file" ftx get empty -o "$TMPD/jd" --skip-same
assert_eq 0 "$(stat -c %s "$TMPD/jd/empty")" "get --skip-same replaced a different file"

echo other >"$TMPD/other"
assert_exit 0 "put --no-clobber over an existing file" ftx put "$TMPD/other" --as piped.bin --no-clobber
assert_match "skipped piped.bin: exists" "$(cat "$ERR")" "put --no-clobber: skipped NAME: exists"
assert_file_same "$TMPD/big" "$ROOT/piped.bin" "put --no-clobber left the server's file alone"
assert_exit 0 "put - --no-clobber over an existing file" \
    bash -c 'echo x | "$1" --host 127.0.0.1 --port "$2" put - --as piped.bin --no-clobber' \
    _ "$FTX_BIN" "$CTRL_PORT"
assert_file_same "$TMPD/big" "$ROOT/piped.bin" "put - --no-clobber left it alone too"
n0=$(grep -c 'UPLOAD' "$LOG")
assert_exit 0 "put --skip-same of an identical file" ftx put "$TMPD/big" --as piped.bin --skip-same
assert_match "skipped piped.bin: same SHA-256" "$(cat "$ERR")" "put --skip-same: skipped"
assert_eq "$n0" "$(grep -c 'UPLOAD' "$LOG")" "put --skip-same: no UPLOAD sent"
assert_exit 0 "put --skip-same of a different file" ftx put "$TMPD/other" --as piped.bin --skip-same
assert_file_same "$TMPD/other" "$ROOT/piped.bin" "put --skip-same uploaded a different file"

# ---------------------------------------------------------------- names, refused

assert_exit 4 "get of a missing name with a space" ftx get 'with space' -o "$TMPD/jd"
assert_match "no such file: with space" "$(cat "$ERR")" "the name in the error as typed"
if grep -q '%20' "$ERR"; then fail "the error shows the encoded name: $(cat "$ERR")"; else pass "no %20 in the error"; fi
assert_exit 4 "get -o - of a missing name with a space" ftx get 'with space' -o -
assert_match "no such file: with space" "$(cat "$ERR")" "get -o -: the name as typed"

port=$CTRL_PORT
stop_server
assert_exit 3 "ls against a closed port" "$FTX_BIN" --host 127.0.0.1 --port "$port" ls
assert_match "Connection refused; is ftxd running on 127\.0\.0\.1 port $port\? \(--port / FTX_PORT\)" \
    "$(cat "$ERR")" "connection refused: the hint names host, port and the options"

# ---------------------------------------------------------------- interruptions

# A slow server, so that there is time to interrupt.
start_server --max-rate 1M
assert_exit 0 "upload the file to download" ftx put "$TMPD/big" --as big.bin
dl=$TMPD/dl
mkdir -p "$dl"
ftx_bg "$TMPD/int.out" "$TMPD/int.err" get big.bin -o "$dl"
if wait_for 20 eval '[ "$(partial_size "$dl")" -ge $((512 * 1024)) ]'; then
	kill -INT "$BG_PID"
	wait_pid "$BG_PID" 20
	assert_eq 130 "$WAIT_RC" "get interrupted by SIGINT exits 130"
	assert_match "^ftx: interrupted at [0-9]+% \([0-9.]+ [KM]iB of 3\.0 MiB\); run the same command again to resume$" \
	    "$(cat "$TMPD/int.err")" "SIGINT: where it stopped and what to do"
	assert_eq "" "$(cat "$TMPD/int.out")" "SIGINT: nothing on stdout"
	if has_partial "$dl"; then pass "the partial download is kept"; else fail "no partial after SIGINT"; fi
	assert_no_file "$dl/big.bin" "no file under the final name after SIGINT"
else
	fail "the download's partial never grew"
fi
kept=$(partial_size "$dl")

# The same command again, on a fast server: it resumes by itself.
stop_server
start_server
assert_exit 0 "the same get again" ftx get big.bin -o "$dl" --json
assert_match "resuming download of big\.bin at [0-9]+%" "$(cat "$ERR")" "the second get says it resumes"
json_ok "$OUT"
assert_eq "true" "${J[resumed]}" "--json: resumed"
assert_eq "$((3 * MiB - kept))" "${J[bytes_this_run]}" \
    "bytes_this_run counts only this run's bytes"
assert_file_same "$TMPD/big" "$dl/big.bin" "the resumed download is byte-identical"
assert_eq 0 "$(partial_size "$dl")" "no partial left after the resume"
assert_eq "" "$(find "$dl" -name '.ftx-part-*')" "no partial or info file left"

# --no-resume: an interrupted download starts over.
stop_server
start_server --max-rate 1M
rm -f "$dl/big.bin"
ftx_bg "$TMPD/int2.out" "$TMPD/int2.err" get big.bin -o "$dl"
if wait_for 20 has_partial "$dl"; then
	kill -TERM "$BG_PID"
	wait_pid "$BG_PID" 20
	assert_eq 143 "$WAIT_RC" "get ended by SIGTERM exits 143"
else
	fail "the second download's partial never grew"
fi
stop_server
start_server
assert_exit 0 "get --no-resume" ftx get big.bin -o "$dl" --no-resume
if grep -q resum "$ERR"; then fail "--no-resume resumed: $(cat "$ERR")"; else pass "--no-resume starts over"; fi
assert_file_same "$TMPD/big" "$dl/big.bin" "--no-resume: the file is right"

# A file changed on the server after the interruption: fetched again.
stop_server
start_server --max-rate 1M
rm -f "$dl/big.bin"
ftx_bg "$TMPD/int3.out" "$TMPD/int3.err" get big.bin -o "$dl"
if wait_for 20 has_partial "$dl"; then
	kill -INT "$BG_PID"
	wait_pid "$BG_PID" 20
else
	fail "the third download's partial never grew"
fi
stop_server
mkrand "$TMPD/big2" $((3 * MiB))
cp "$TMPD/big2" "$ROOT/big.bin"
start_server
assert_exit 0 "get after the server's file changed" ftx get big.bin -o "$dl"
assert_match "changed on the server" "$(cat "$ERR")" "the change is reported"
assert_file_same "$TMPD/big2" "$dl/big.bin" "the new file, not a mix of both"

# An interrupted upload: the same put again resumes.
mkrand "$TMPD/up" $((24 * MiB))
stop_server
start_server --max-rate 2M
ftx_bg "$TMPD/int4.out" "$TMPD/int4.err" put "$TMPD/up"
if wait_for 20 eval '[ "$(partials_with_data "$ROOT")" -gt 0 ]'; then
	sleep 1
	kill -INT "$BG_PID"
	wait_pid "$BG_PID" 20
	assert_eq 130 "$WAIT_RC" "put interrupted by SIGINT exits 130"
	assert_match "^ftx: interrupted at [0-9]+% \(.* of 24\.0 MiB\); run the same command again to resume$" \
	    "$(cat "$TMPD/int4.err")" "put SIGINT: the hint"
else
	fail "the upload's partial never grew"
fi
stop_server
start_server
assert_exit 0 "the same put again" ftx put "$TMPD/up"
assert_match "resuming upload of up at [0-9]+%" "$(cat "$ERR")" "the second put says it resumes"
assert_match "uploaded up: 24\.0 MiB .*; resumed, [0-9.]+ MiB this run\)" "$(cat "$ERR")" \
    "the summary counts this run's bytes"
assert_file_same "$TMPD/up" "$ROOT/up" "the resumed upload is byte-identical"

# A stream from stdin cannot be resumed: SIGINT says nothing was stored.
stop_server
start_server --max-rate 1M
mkfifo "$TMPD/fifo"
"$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" put - --as streamed <"$TMPD/fifo" \
    >"$TMPD/int5.out" 2>"$TMPD/int5.err" &
BG_PID=$!
track_pid "$BG_PID"
exec 7>"$TMPD/fifo"
timeout 10 head -c $((2 * MiB)) /dev/urandom >&7
sleep 0.5
kill -INT "$BG_PID"
wait_pid "$BG_PID" 20
exec 7>&-
assert_eq 130 "$WAIT_RC" "put - interrupted exits 130"
assert_match "interrupted after [0-9.]+ [KM]iB; standard input cannot be read again: nothing was stored" \
    "$(cat "$TMPD/int5.err")" "put - SIGINT: nothing stored"
assert_no_file "$ROOT/streamed" "put - SIGINT: no file on the server"
stop_server

# ---------------------------------------------------------------- disk full

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP (part): disk full needs root to mount a tmpfs"
elif ! mkdir -p "$MNT" || ! mount -t tmpfs -o size=2m,mode=0755 tmpfs "$MNT" 2>"$TMPD/mount.err"; then
	echo "SKIP (part): cannot mount a tmpfs: $(cat "$TMPD/mount.err")"
else
	MOUNTED=1
	trap _tmpfs_exit EXIT
	start_server
	assert_exit 1 "get of a file larger than the free space" ftx get big.bin -o "$MNT"
	assert_match "not enough space in .*: 3\.0 MiB needed, .* free" "$(cat "$ERR")" \
	    "refused before writing, with the figures"
	assert_eq "" "$(ls -A "$MNT")" "nothing left on the small disk"
	stop_server
	mkrand "$ROOT/mid.bin" $((1536 * 1024))
	start_server --max-rate 512K
	ftx_bg "$TMPD/full.out" "$TMPD/full.err" get mid.bin -o "$MNT"
	if wait_for 20 has_partial "$MNT"; then
		# Fill the rest of the disk while the download runs.
		head -c $((4 * MiB)) /dev/zero >"$MNT/filler" 2>/dev/null
		wait_pid "$BG_PID" 30
		assert_eq 1 "$WAIT_RC" "a download that fills the disk fails (exit 1)"
		assert_match "No space left on device; removed the partial download \([0-9.]+ [KM]iB\) to free the space" \
		    "$(cat "$TMPD/full.err")" "disk full: the partial is removed and that is said"
		assert_eq "" "$(find "$MNT" -name '.ftx-*')" "disk full: no partial left behind"
	else
		fail "the download to the small disk never started"
	fi
	rm -f "$MNT/filler"
	stop_server
	unmount_tmpfs
fi

finish

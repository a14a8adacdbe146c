#!/bin/bash
# Streamed uploads (`UPLOAD <path> *`, docs/PROTOCOL.md "Streamed
# uploads"), driven with raw sockets so that hostile streams can be
# sent: a good stream is committed byte for byte; an empty stream is an
# empty file; a wrong digest, a wrong total, a chunk over 1 MiB, a
# connection closed inside a chunk or between chunks, a stall, a stream
# past the quota or past --min-free leave nothing visible and no
# partial; `offset=` with `*` is refused; and the same over TLS.
. "$(dirname "$0")/lib.sh"

EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

start_server --data-timeout 2

src=$TMPD/src
mkdir -p "$src"
mkrand "$src/big" $((3 * 1024 * 1024 + 17))
mkrand "$src/small" 100000
sha_big=$(sha256_of "$src/big")
sha_small=$(sha256_of "$src/small")

# nothing_left NAME WHAT: NAME is not stored and no partial is left.
nothing_left() {
	if [ -e "$ROOT/$1" ]; then
		fail "$2: $1 is visible"
	elif [ -n "$(partials_in "$ROOT")" ]; then
		fail "$2: partials left: $(partials_in "$ROOT" | tr '\n' ' ')"
	else
		pass "$2: nothing visible, no partial"
	fi
}

# The partials are deleted by the transfer's worker, after the ERROR
# line may have gone out: wait a moment for them.
settle() {
	wait_for 5 eval '[ -z "$(partials_in "$ROOT")" ]' || true
}

# ---------------------------------------------------------------- greeting
raw "the greeting offers stream" ctl 'ok:^OK FTX/1 ftxd/[^ ]+ ready( [a-z-]+)* stream( |$)'

# ---------------------------------------------------------------- good streams
raw "a stream in 64 KiB chunks is committed" ctl \
    'line:UPLOAD big.bin *' 'ok:^OK [0-9]+ [0-9a-f]{32}$' \
    data dframes:65536 "dsend:$src/big" dend read "ok:^DONE $sha_big\$"
assert_file_same "$src/big" "$ROOT/big.bin" "streamed file stored byte for byte"
assert_eq "$sha_big" "$(sha256_of "$ROOT/big.bin")" "sha256sum of the stored stream"
if log_has "xfer upload name=big.bin bytes=$((3 * 1024 * 1024 + 17)) secs=[0-9.]+ mibps=[0-9.]+ sha256=$sha_big result=ok"; then
	pass "log line: bytes received, mibps="
else
	fail "no upload log line for big.bin: $(grep 'big.bin' "$LOG")"
fi

# Chunks that do not line up with the server's I/O blocks, and the
# largest chunk allowed.
raw "a stream in odd chunks of 1000 bytes is committed" ctl \
    'line:UPLOAD odd.bin *' 'ok:^OK ' \
    data dframes:1000 "dsend:$src/small" dend read "ok:^DONE $sha_small\$"
assert_file_same "$src/small" "$ROOT/odd.bin" "odd-chunked stream stored"
raw "a stream in 1 MiB chunks (the maximum) is committed" ctl \
    'line:UPLOAD max.bin *' 'ok:^OK ' \
    data dframes:1048576 "dsend:$src/big" dend read "ok:^DONE $sha_big\$"
assert_file_same "$src/big" "$ROOT/max.bin" "max-chunked stream stored"

raw "an empty stream is an empty file" ctl \
    'line:UPLOAD empty.bin *' 'ok:^OK ' data dend read "ok:^DONE $EMPTY_SHA\$"
if [ -f "$ROOT/empty.bin" ] && [ ! -s "$ROOT/empty.bin" ]; then
	pass "empty stream stored as an empty file"
else
	fail "empty.bin missing or not empty"
fi

raw "mtime= is kept, into a new folder" ctl \
    'line:UPLOAD sub/dated.bin * mtime=1000000000' 'ok:^OK ' \
    data dframes:4096 "dsend:$src/small" dend read "ok:^DONE $sha_small\$"
assert_eq 1000000000 "$(stat -c %Y "$ROOT/sub/dated.bin" 2>/dev/null)" "streamed file has the given mtime"

raw "a stream replaces an existing file" ctl \
    'line:UPLOAD odd.bin *' 'ok:^OK ' \
    data dframes:65536 "dsend:$src/big" dend read "ok:^DONE $sha_big\$"
assert_file_same "$src/big" "$ROOT/odd.bin" "replaced by the stream"

# ---------------------------------------------------------------- refused commands
raw "offset= with * is refused" ctl \
    'line:UPLOAD x.bin * offset=0' 'ok:^ERROR SYNTAX .*offset' \
    'line:UPLOAD x.bin * offset=5 mtime=1' 'ok:^ERROR SYNTAX .*offset' \
    'line:UPLOAD x.bin * bogus=1' 'ok:^ERROR SYNTAX' \
    'line:UPLOAD x.bin *5' 'ok:^ERROR SYNTAX' \
    'line:UPLOAD ../x.bin *' 'ok:^ERROR BADNAME' \
    line:NOOP 'ok:^OK$'
nothing_left x.bin "refused commands"

# ---------------------------------------------------------------- hostile streams
raw "wrong digest: ERROR INTEGRITY" ctl \
    'line:UPLOAD bad.bin *' 'ok:^OK ' \
    data dframes:65536 "dsend:$src/big" dend:bad read 'ok:^ERROR INTEGRITY ' \
    line:NOOP 'ok:^OK$'
settle
nothing_left bad.bin "wrong digest"

raw "wrong total: ERROR INTEGRITY" ctl \
    'line:UPLOAD total.bin *' 'ok:^OK ' \
    data dframes:65536 "dsend:$src/small" dend:total=99999 read 'ok:^ERROR INTEGRITY .*total' \
    line:NOOP 'ok:^OK$'
settle
nothing_left total.bin "wrong total"

raw "a chunk of 1 MiB + 1: ERROR SYNTAX" ctl \
    'line:UPLOAD long.bin *' 'ok:^OK ' \
    data dframes:1000 dgen:5000 dlen:1048577 dgen:100 read 'ok:^ERROR SYNTAX .*chunk' \
    line:NOOP 'ok:^OK$'
settle
nothing_left long.bin "chunk over 1 MiB"

raw "a chunk length of 4 GiB - 1: ERROR SYNTAX" ctl \
    'line:UPLOAD huge.bin *' 'ok:^OK ' \
    data dlen:4294967295 read 'ok:^ERROR SYNTAX .*chunk' line:NOOP 'ok:^OK$'
settle
nothing_left huge.bin "chunk length 2^32-1"

# A killed client closes its connection too: that is not an end of file.
raw "closed inside a chunk: ERROR SHORT" ctl \
    'line:UPLOAD cut1.bin *' 'ok:^OK ' \
    data dframes:65536 "dsend:$src/small" dframes:0 dlen:5000 dgen:1000 dclose \
    read 'ok:^ERROR SHORT ' line:NOOP 'ok:^OK$'
settle
nothing_left cut1.bin "closed inside a chunk"

raw "closed between chunks: ERROR SHORT" ctl \
    'line:UPLOAD cut2.bin *' 'ok:^OK ' \
    data dframes:65536 "dsend:$src/big" dclose \
    read 'ok:^ERROR SHORT ' line:NOOP 'ok:^OK$'
settle
nothing_left cut2.bin "closed between chunks"

raw "closed inside the end marker: ERROR SHORT" ctl \
    'line:UPLOAD cut3.bin *' 'ok:^OK ' \
    data dframes:1000 "dsend:$src/small" dlen:0 'draw:\x00\x00\x00' dclose \
    read 'ok:^ERROR SHORT ' line:NOOP 'ok:^OK$'
settle
nothing_left cut3.bin "closed inside the end marker"

raw "a stall inside a stream: ERROR TIMEOUT (--data-timeout 2)" -t 15 ctl \
    'line:UPLOAD stall.bin *' 'ok:^OK ' \
    data dframes:1000 dgen:5000 dframes:0 dlen:100 dgen:10 \
    read:10 'ok:^ERROR TIMEOUT ' line:NOOP 'ok:^OK$'
settle
nothing_left stall.bin "stalled stream"

assert_alive "hostile streams"
stop_server

# ---------------------------------------------------------------- quota
QUOTA=1000000
USERS=$TMPD/users
add_user q q-pw-5521 --quota $QUOTA
ROOT=$TMPD/qroot
mkdir -p "$ROOT"
start_server --users "$USERS" --allow-plaintext-login
QDIR=$ROOT/.users/q
mkrand "$src/q600" 600000
mkrand "$src/q500" 500000
sha600=$(sha256_of "$src/q600")

raw "a stream within the quota is committed" ctl 'line:LOGIN q q-pw-5521' 'ok:^OK' \
    'line:UPLOAD a.bin *' 'ok:^OK ' \
    data dframes:65536 "dsend:$src/q600" dend read "ok:^DONE $sha600\$"
assert_file_same "$src/q600" "$QDIR/a.bin" "stream within the quota stored"

raw "a stream past the quota: ERROR QUOTA" ctl 'line:LOGIN q q-pw-5521' 'ok:^OK' \
    'line:UPLOAD b.bin *' 'ok:^OK ' \
    data dframes:65536 "dsend:$src/q500" dend read 'ok:^ERROR QUOTA ' \
    line:NOOP 'ok:^OK$'
settle
if [ -e "$QDIR/b.bin" ]; then fail "b.bin past the quota is visible"; else pass "stream past the quota: nothing visible"; fi
if [ -z "$(partials_in "$ROOT")" ]; then pass "stream past the quota: no partial"; else fail "partial left after QUOTA"; fi

# Replacing a.bin: its own bytes do not count.
raw "a stream replacing a file counts without that file" ctl 'line:LOGIN q q-pw-5521' 'ok:^OK' \
    'line:UPLOAD a.bin *' 'ok:^OK ' \
    data dframes:65536 "dsend:$src/q500" dend read "ok:^DONE $(sha256_of "$src/q500")\$"

# While a stream runs it holds the room its quota left: a parallel
# upload cannot take the same bytes.
raw_bg "$TMPD/holder.out" -t 20 -w 40 ctl 'line:LOGIN q q-pw-5521' 'ok:^OK' \
    'line:UPLOAD c.bin *' 'ok:^OK ' data dframes:1000 dgen:1000 \
    "touch:$TMPD/holding" "waitfile:$TMPD/release" dgen:1000 dend read 'ok:^DONE '
holder=$BG_PID
wait_for 10 test -e "$TMPD/holding"
raw "an upload beside a running stream cannot take its room" ctl 'line:LOGIN q q-pw-5521' 'ok:^OK' \
    'line:UPLOAD d.bin 100000' 'ok:^ERROR QUOTA ' \
    'line:UPLOAD e.bin *' 'ok:^ERROR QUOTA '
touch "$TMPD/release"
wait_pid "$holder" 20
assert_eq 0 "$WAIT_RC" "the holding stream finished"
stored=$(find "$QDIR" -maxdepth 1 -type f ! -name '.*' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
if [ "$stored" -le "$QUOTA" ]; then pass "stored bytes $stored within the quota"; else fail "stored $stored > quota $QUOTA"; fi
stop_server

# ---------------------------------------------------------------- --min-free
ROOT=$TMPD/froot
mkdir -p "$ROOT"
start_server --min-free 1000000G
raw "--min-free above the free space: ERROR NOSPACE before any byte" ctl \
    'line:UPLOAD f.bin *' 'ok:^ERROR NOSPACE '
stop_server

if small_tmpfs_root 8m; then
	start_server --min-free 4m
	mkrand "$src/six" $((6 * 1024 * 1024))
	raw "a stream into --min-free: ERROR NOSPACE as it writes" -t 20 ctl \
	    'line:UPLOAD full.bin *' 'ok:^OK ' \
	    data dframes:65536 "dsend:$src/six" dend read 'ok:^ERROR NOSPACE ' \
	    line:NOOP 'ok:^OK$'
	settle
	nothing_left full.bin "stream into --min-free"
	raw "a small stream still fits" ctl 'line:UPLOAD ok.bin *' 'ok:^OK ' \
	    data dframes:65536 "dsend:$src/small" dend read "ok:^DONE $sha_small\$"
	stop_server
	unmount_tmpfs
fi

# ---------------------------------------------------------------- TLS
need_ftxtls
gen_cert
ROOT=$TMPD/troot
mkdir -p "$ROOT"
start_server "${TLS[@]}"
tlsc "a stream over TLS is committed" ctl 'starttls' 'has:^TLS-UP' \
    'line:UPLOAD tls.bin *' 'ok:^OK ' \
    data dframes:65536 "dsend:$src/big" dend read "ok:^DONE $sha_big\$"
assert_file_same "$src/big" "$ROOT/tls.bin" "TLS stream stored byte for byte"
tlsc "a wrong digest over TLS: ERROR INTEGRITY" ctl 'starttls' 'has:^TLS-UP' \
    'line:UPLOAD tbad.bin *' 'ok:^OK ' \
    data dframes:4096 "dsend:$src/small" dend:bad read 'ok:^ERROR INTEGRITY '
settle
nothing_left tbad.bin "TLS wrong digest"
stop_server

finish

#!/bin/bash
# CPU amplification through HASH (issue 11, item 9).  A HASH line costs a
# client a few bytes; hashing a large file costs the server a core for a
# while.  The MD5 is therefore cached beside the SHA-256 (computed once,
# on the first request), and hash computations that must read a whole
# file are capped per address (and per user): past the cap the answer is
# ERROR BUSY at once.  A legitimate client keeps being served: cached
# hashes need no slot, other addresses have slots of their own, and
# `ftx hash --md5` still works.
. "$(dirname "$0")/lib.sh"

ROOT=$TMPD/root
mkdir -p "$ROOT"
start_server

TCK=$(getconf CLK_TCK)
# Server CPU time (user + system) in clock ticks.
cpu() {
	awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"
}

# ---------------------------------------------------------------- burst
# 64 MiB, uploaded through ftx: its SHA-256 is cached by the upload, its
# MD5 is not computed yet.
mkrand "$TMPD/big.bin" $((64 * 1024 * 1024))
assert_exit 0 "upload the 64 MiB file" ftx put "$TMPD/big.bin"
MD5=$(md5_of "$TMPD/big.bin")
SHA=$(sha256_of "$TMPD/big.bin")
if head -c 3 "$ROOT/.ftx/big.bin" | grep -q '^v1 '; then
	pass "an upload caches the SHA-256 alone (v1 entry)"
else
	fail "cache entry after upload: $(cat "$ROOT/.ftx/big.bin")"
fi

# One request: what one MD5 of the file costs the server.
c0=$(cpu)
raw "the first HASH md5 computes the MD5" ctl 'line:HASH big.bin md5' \
    "ok:^OK 67108864 $SHA $MD5 big\\.bin\$"
c1=$(cpu)
one=$((c1 - c0))
if grep -q "^v2 $SHA $MD5 " "$ROOT/.ftx/big.bin"; then
	pass "the MD5 is cached beside the SHA-256 (v2 entry)"
else
	fail "cache entry after HASH md5: $(cat "$ROOT/.ftx/big.bin")"
fi

# 63 more, pipelined on one connection (about 1.1 KB from the client).
steps=(ctl)
for i in $(seq 63); do
	steps+=("send:HASH big.bin md5")
done
for i in $(seq 63); do
	steps+=(read:10 "ok:^OK 67108864 $SHA $MD5 big\\.bin\$")
done
raw "63 more HASH md5 requests are all answered" "${steps[@]}"
c2=$(cpu)
burst=$((c2 - c1))
echo "# server CPU: first HASH md5 ${one} ticks, 63 more ${burst} ticks (${TCK} ticks/s)"
# Without the cache the 63 would cost 63 times the first.  Generous:
# twice one computation, plus 0.3 s for the requests themselves.
if [ "$burst" -le $((2 * one + 3 * TCK / 10)) ]; then
	pass "63 HASH md5 requests cost less than two hash computations of server CPU ($burst vs $one ticks)"
else
	fail "63 HASH md5 requests cost $burst ticks of server CPU; one computation cost $one"
fi
assert_exit 0 "ftx hash --md5 still works" ftx hash --md5 big.bin
assert_eq "$SHA  big.bin" "$(sed -n 1p "$OUT")" "ftx hash --md5: the SHA-256 line"
assert_eq "$MD5  big.bin" "$(sed -n 2p "$OUT")" "ftx hash --md5: the MD5 line"
assert_exit 0 "ftx hash still works" ftx hash big.bin
assert_eq "$SHA  big.bin" "$(cat "$OUT")" "ftx hash: the SHA-256 line"

# A file changed by hand is a new version: hashed again, not served stale.
printf 'changed' >"$TMPD/small.txt"
cp "$TMPD/small.txt" "$ROOT/small.txt"
raw "HASH md5 of a hand copy" ctl 'line:HASH small.txt md5' \
    "ok:^OK 7 $(sha256_of "$TMPD/small.txt") $(md5_of "$TMPD/small.txt") small\\.txt\$"
printf 'CHANGED!' >"$ROOT/small.txt"
raw "HASH md5 after an edit by hand sees the new bytes" ctl 'line:HASH small.txt md5' \
    "ok:^OK 8 $(sha256_of "$ROOT/small.txt") $(md5_of "$ROOT/small.txt") small\\.txt\$"

# ---------------------------------------------------------------- cap
# Sparse files: nothing on disk, but hashing reads every (zero) byte,
# about half a second of CPU per file.  Four connections from one
# address ask at once; two may hash, the others get ERROR BUSY at once.
truncate -s 256M "$ROOT/sparse.bin"
truncate -s 1M "$ROOT/other.bin"
printf 'x' >"$ROOT/cached.txt"
raw "prime the cache of a small file" ctl 'line:HASH cached.txt' 'ok:^OK 1 '
steps=()
for i in 1 2 3 4; do
	steps+=(ctl "send:HASH sparse.bin md5")
done
# While they run: another address hashes a file of its own, and this
# address still gets cached hashes.
steps+=(ctl@127.0.0.2 'line:HASH other.bin md5' 'ok:^OK 1048576 [0-9a-f]{64} [0-9a-f]{32} other\.bin$' close)
steps+=(ctl 'line:HASH cached.txt md5' 'ok:^ERROR BUSY ' 'line:HASH cached.txt' 'ok:^OK 1 ' close)
for i in 1 2 3 4; do
	steps+=(read:20 close)
done
t0=$(date +%s.%N)
raw "parallel HASH md5 from one address: answered (OK or ERROR BUSY), others served meanwhile" \
    -w 60 "${steps[@]}"
t1=$(date +%s.%N)
busy=$(grep -c '^< ERROR BUSY too many hash computations running' "$RAW_OUT")
oks=$(grep -c '^< OK 268435456 [0-9a-f]\{64\} [0-9a-f]\{32\} sparse\.bin$' "$RAW_OUT")
# Three BUSY lines would include the cached.txt md5 one.
assert_eq 5 "$((busy + oks))" "each of the four parallel requests (and the md5 of cached.txt) got OK or ERROR BUSY"
if [ "$busy" -ge 3 ] && [ "$oks" -ge 1 ] && [ "$oks" -le 2 ]; then
	pass "beyond $((oks)) running hash computations the address gets ERROR BUSY ($((busy - 1)) of 4)"
else
	fail "parallel hashes: $oks OK, $((busy - 1)) BUSY (want at most 2 OK, the rest BUSY)"
fi
echo "# parallel burst answered in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
raw "after the burst the address may hash again, from the cache" ctl 'line:HASH sparse.bin md5' \
    'ok:^OK 268435456 [0-9a-f]{64} [0-9a-f]{32} sparse\.bin$'
# DOWNLOAD of an unhashed file needs a slot too, and works when free.
truncate -s 2M "$ROOT/dl.bin"
assert_exit 0 "get of an unhashed file" ftx get dl.bin -o "$TMPD"
assert_file_same "$ROOT/dl.bin" "$TMPD/dl.bin" "unhashed file downloads"
assert_alive "the server survived the hash bursts"
finish

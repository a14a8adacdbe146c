#!/bin/bash
# Round trips of every interesting size through the real client: upload
# with `ftx put`, check the server's stored copy, download with `ftx get`,
# compare byte for byte and by SHA-256.  Sizes straddle the 4 KiB chunk,
# plus 1 MiB + 3 and 64 MiB of random data; also several chunk sizes,
# several files per command, overwriting, and the --quiet summary.
. "$(dirname "$0")/lib.sh"

start_server

src=$TMPD/src
dl=$TMPD/dl
mkdir -p "$src" "$dl"

roundtrip() {
	local name=$1 f=$src/$1
	assert_exit 0 "put $name" ftx put "$f"
	assert_file_same "$f" "$ROOT/$name" "server's stored copy of $name"
	assert_exit 0 "get $name" ftx get "$name" -o "$dl"
	assert_file_same "$f" "$dl/$name" "downloaded $name"
	assert_eq "$(sha256_of "$f")" "$(sha256_of "$dl/$name")" "sha256sum of $name"
}

for size in 0 1 4095 4096 4097 $((1024 * 1024 + 3)); do
	mkrand "$src/size-$size.bin" "$size"
	roundtrip "size-$size.bin"
done

# 64 MiB: the summary line must say it was verified.
mkrand "$src/big.bin" $((64 * 1024 * 1024))
assert_exit 0 "put 64 MiB" ftx put "$src/big.bin"
assert_match 'verified sha256' "$(cat "$OUT" "$ERR")" "put summary says verified sha256"
assert_file_same "$src/big.bin" "$ROOT/big.bin" "server's stored copy of 64 MiB"
assert_exit 0 "get 64 MiB" ftx get big.bin -o "$dl"
assert_match 'verified sha256' "$(cat "$OUT" "$ERR")" "get summary says verified sha256"
assert_file_same "$src/big.bin" "$dl/big.bin" "downloaded 64 MiB"
rm -f "$dl/big.bin" "$ROOT/big.bin"

# --quiet prints nothing on success.
mkrand "$src/quiet.bin" 1000
assert_exit 0 "put --quiet" ftx --quiet put "$src/quiet.bin"
assert_eq "" "$(cat "$OUT" "$ERR")" "put --quiet output"
assert_exit 0 "get -q" ftx -q get quiet.bin -o "$dl"
assert_eq "" "$(cat "$OUT" "$ERR")" "get -q output"
assert_file_same "$src/quiet.bin" "$dl/quiet.bin" "quiet download"

# Several files in one command.
for i in 1 2 3; do mkrand "$src/multi$i" $((i * 3000)); done
assert_exit 0 "put of three files" ftx put "$src/multi1" "$src/multi2" "$src/multi3"
mkdir -p "$dl/multi"
assert_exit 0 "get of three files" ftx get multi1 multi2 multi3 -o "$dl/multi"
for i in 1 2 3; do
	assert_file_same "$src/multi$i" "$ROOT/multi$i" "stored multi$i"
	assert_file_same "$src/multi$i" "$dl/multi/multi$i" "downloaded multi$i"
done

# --as stores under another name; uploading again replaces the content,
# and a download replaces an existing local file.
mkrand "$src/v1" 5000
mkrand "$src/v2" 7000
assert_exit 0 "put --as" ftx put "$src/v1" --as renamed.bin
assert_file_same "$src/v1" "$ROOT/renamed.bin" "stored under --as name"
assert_no_file "$ROOT/v1" "--as does not also store the base name"
assert_exit 0 "get v1" ftx get renamed.bin -o "$dl"
assert_file_same "$src/v1" "$dl/renamed.bin" "first version downloaded"
assert_exit 0 "put over existing" ftx put "$src/v2" --as renamed.bin
assert_file_same "$src/v2" "$ROOT/renamed.bin" "stored copy replaced"
assert_exit 0 "get over an existing local file" ftx get renamed.bin -o "$dl"
assert_file_same "$src/v2" "$dl/renamed.bin" "local file replaced after verified download"
assert_eq "" "$(find "$dl" -maxdepth 1 -name '.*' ! -name . -printf '%f\n')" "no hidden temporaries left in the download dir"

# Default download directory is ./client_downloads.
mkdir -p "$TMPD/cwd"
(cd "$TMPD/cwd" && ftx get quiet.bin >/dev/null 2>&1)
assert_file_same "$src/quiet.bin" "$TMPD/cwd/client_downloads/quiet.bin" "default download dir ./client_downloads"

# FTX_HOST / FTX_PORT environment defaults.
assert_exit 0 "ls via FTX_HOST/FTX_PORT" env FTX_HOST=127.0.0.1 FTX_PORT="$CTRL_PORT" timeout 30 "$FTX_BIN" ls
assert_match 'quiet\.bin' "$(cat "$OUT")" "ls via env lists files"

assert_eq "" "$(temps_in "$ROOT")" "no upload temporaries left in the root"
assert_alive "size round trips"
stop_server
assert_eq 0 "$SERVER_RC" "ftxd exits 0 on SIGTERM"

# Other chunk sizes: the smallest, an odd one, the largest.
for chunk in 512 1000 1048576; do
	ROOT=$TMPD/root-$chunk
	start_server --chunk-size "$chunk"
	for size in 4097 $((1024 * 1024 + 3)); do
		f=$src/size-$size.bin
		assert_exit 0 "chunk $chunk: put $size" ftx put "$f" --as "c$size"
		assert_file_same "$f" "$ROOT/c$size" "chunk $chunk: stored $size"
		mkdir -p "$dl/c$chunk"
		assert_exit 0 "chunk $chunk: get $size" ftx get "c$size" -o "$dl/c$chunk"
		assert_file_same "$f" "$dl/c$chunk/c$size" "chunk $chunk: downloaded $size"
	done
	stop_server
done
finish

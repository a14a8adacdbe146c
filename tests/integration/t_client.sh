#!/bin/bash
# The client's own integrity checks, against tests/tools/ftxfake, a
# server that lies: a wrong announced hash, bytes corrupted in transit,
# or a short stream followed by a false DONE.  ftx must exit 5 (or 1 for
# the short stream), say so on stderr, keep no partial or temporary file,
# and leave an existing local file of that name untouched.
. "$(dirname "$0")/lib.sh"
# The lying server makes every get fail; do not wait out real backoffs.
export FTX_RETRY_BASE_MS=20

src=$TMPD/src
mkdir -p "$src"
mkrand "$src/payload" $((2 * 1024 * 1024 + 11))

fake_get() {
	timeout -k 2 30 "$FTX_BIN" --host 127.0.0.1 --port "$FAKE_PORT" "$@"
}

# The control case: the fake server telling the truth is accepted, so the
# failures below are the client's checks, not an incompatible fake.
start_fake good "$src/payload"
mkdir -p "$TMPD/good"
assert_exit 0 "honest fake server: download accepted" fake_get get payload -o "$TMPD/good"
assert_file_same "$src/payload" "$TMPD/good/payload" "honest fake server's file"
stop_fake

for mode in badsha corrupt short; do
	d=$TMPD/$mode
	mkdir -p "$d"
	echo "precious local copy" >"$d/payload"
	before=$(sha256_of "$d/payload")
	start_fake "$mode" "$src/payload"
	if [ "$mode" = short ]; then
		assert_exit_in "1 5" "$mode: download rejected" fake_get get payload -o "$d"
	else
		assert_exit 5 "$mode: download rejected as an integrity failure" fake_get get payload -o "$d"
	fi
	assert_match '.' "$(cat "$ERR")" "$mode: the client explains on stderr"
	assert_eq "$before" "$(sha256_of "$d/payload")" "$mode: the existing local file is untouched"
	# A cut-off download ("short") keeps a hidden partial and its .info
	# for --resume; bad bytes never do.
	visible_and_kept() { ls -A "$1" | grep -v '^\.ftx-part-[0-9a-f]*\(\.info\)\?$'; }
	if [ "$mode" = short ]; then
		assert_eq 2 "$(ls -A "$d" | grep -c '^\.ftx-part-')" "$mode: a hidden partial and its info kept for --resume"
	else
		assert_eq "" "$(ls -A "$d" | grep '^\.ftx-part-')" "$mode: no partial kept of bad bytes"
	fi
	assert_eq "payload" "$(visible_and_kept "$d")" "$mode: no other temporary left"
	# And into an empty directory: nothing appears.
	mkdir -p "$d/empty"
	fake_get get payload -o "$d/empty" >/dev/null 2>&1
	assert_eq "" "$(visible_and_kept "$d/empty")" "$mode: nothing visible left in an empty target directory"
	# Without -o: ./client_downloads.
	mkdir -p "$d/cwd"
	(cd "$d/cwd" && fake_get get payload >/dev/null 2>&1)
	assert_eq "" "$(visible_and_kept "$d/cwd/client_downloads" 2>/dev/null)" "$mode: nothing visible left in ./client_downloads"
	stop_fake
done
finish

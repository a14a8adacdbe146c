#!/bin/bash
# The storage root as people really treat it: files copied in by hand are
# listed, hashed on first need and downloadable; editing one by hand
# (size or mtime change) invalidates the cached hash; symlinks (inside or
# outside the root), directories and FIFOs are never listed or served,
# and nothing the server does follows a symlink out of the root.
# Uploads get the mode the umask asks for (0640 under 027, 0644 under 022).
. "$(dirname "$0")/lib.sh"

src=$TMPD/src
dl=$TMPD/dl
outside=$TMPD/outside
mkdir -p "$src" "$dl" "$outside"
ROOT=$TMPD/root
mkdir -p "$ROOT"

# Things present before the server starts.
mkrand "$ROOT/before.bin" 50000
start_server

# ---------------------------------------------------------------- hand copies
mkrand "$src/hand.bin" 300000
cp "$src/hand.bin" "$ROOT/hand.bin"
raw "a hand-copied file is listed" ctl line:LIST 'ok:^OK 2$' \
    'has:^FILE 300000 [0-9]+ ([0-9a-f]{64}|-) hand\.bin$' \
    'has:^FILE 50000 [0-9]+ ([0-9a-f]{64}|-) before\.bin$'
if grep -q "^< FILE 300000 [0-9]* $(sha256_of "$src/hand.bin") hand.bin" "$RAW_OUT" ||
    grep -q "^< FILE 300000 [0-9]* - hand.bin" "$RAW_OUT"; then
	pass "LIST shows the right hash or '-' for a hand copy"
else
	fail "LIST shows a wrong hash for a hand copy: $(grep hand.bin "$RAW_OUT")"
fi
assert_exit 0 "hash of a hand copy" ftx hash hand.bin
assert_eq "$(sha256_of "$src/hand.bin")  hand.bin" "$(cat "$OUT")" "hand copy hashed on first need"
assert_exit 0 "hash --md5 of a hand copy" ftx hash --md5 hand.bin
assert_eq "$(md5_of "$src/hand.bin")  hand.bin" "$(sed -n 2p "$OUT")" "md5 of a hand copy"
raw "LIST now carries the hash" ctl line:LIST "has:^FILE 300000 [0-9]+ $(sha256_of "$src/hand.bin") hand\\.bin\$"
assert_exit 0 "get a hand copy" ftx get hand.bin -o "$dl"
assert_file_same "$src/hand.bin" "$dl/hand.bin" "hand copy downloads"
assert_exit 0 "get a file present before start-up" ftx get before.bin -o "$dl"
assert_file_same "$ROOT/before.bin" "$dl/before.bin" "pre-existing file downloads"
# A hand copy downloaded before anything hashed it.
mkrand "$src/fresh.bin" 12345
cp "$src/fresh.bin" "$ROOT/fresh.bin"
assert_exit 0 "get an unhashed hand copy" ftx get fresh.bin -o "$dl"
assert_file_same "$src/fresh.bin" "$dl/fresh.bin" "unhashed hand copy downloads and verifies"

# Edit by hand: a different size.
mkrand "$src/hand2.bin" 400000
cp "$src/hand2.bin" "$ROOT/hand.bin"
assert_exit 0 "hash after a size change" ftx hash hand.bin
assert_eq "$(sha256_of "$src/hand2.bin")  hand.bin" "$(cat "$OUT")" "HASH follows a size change"
assert_exit 0 "get after a size change" ftx get hand.bin -o "$dl"
assert_file_same "$src/hand2.bin" "$dl/hand.bin" "download after a size change verifies"

# Same size, new content, new mtime.
mkrand "$src/hand3.bin" 400000
cp "$src/hand3.bin" "$ROOT/hand.bin"
touch -d "@$(($(date +%s) + 100))" "$ROOT/hand.bin"
assert_exit 0 "hash after an mtime change" ftx hash hand.bin
assert_eq "$(sha256_of "$src/hand3.bin")  hand.bin" "$(cat "$OUT")" "HASH follows a same-size edit with a new mtime"
assert_exit 0 "get after an mtime change" ftx get hand.bin -o "$dl"
assert_file_same "$src/hand3.bin" "$dl/hand.bin" "download after a same-size edit verifies"

# An uploaded file (hash cached at upload) edited by hand.
mkrand "$src/up.bin" 70000
assert_exit 0 "put up.bin" ftx put "$src/up.bin"
mkrand "$src/up2.bin" 70001
cp "$src/up2.bin" "$ROOT/up.bin"
assert_exit 0 "hash of an edited upload" ftx hash up.bin
assert_eq "$(sha256_of "$src/up2.bin")  up.bin" "$(cat "$OUT")" "cached upload hash invalidated by a hand edit"
raw "LIST after the edit" ctl line:LIST "has:^FILE 70001 [0-9]+ ($(sha256_of "$src/up2.bin")|-) up\\.bin\$"
# Deleted by hand: gone from LIST, NOTFOUND.
rm -f "$ROOT/up.bin"
assert_exit 4 "get of a file deleted by hand" ftx get up.bin -o "$dl"
raw "LIST after a hand delete" ctl line:LIST 'no:up\.bin'

# Deleted (by DELETE on another session) while it is being downloaded:
# the running download still delivers the complete original.
mkrand "$src/doomed.bin" $((32 * 1024 * 1024))
doomedsha=$(sha256_of "$src/doomed.bin")
assert_exit 0 "put doomed.bin" ftx put "$src/doomed.bin"
raw_bg "$TMPD/doomed.out" -t 20 -w 60 ctl 'line:DOWNLOAD doomed.bin' 'ok:^OK ' data \
    "touch:$TMPD/doomed-open" "waitfile:$TMPD/doomed-go" drecv "ok:^DATA n=$((32 * 1024 * 1024)) sha=$doomedsha end=EOF" \
    read "ok:^DONE $doomedsha\$"
doomed=$BG_PID
wait_for 10 test -e "$TMPD/doomed-open"
sleep 0.3
assert_exit 0 "rm during a download" ftx rm doomed.bin
assert_no_file "$ROOT/doomed.bin" "deleted while being downloaded"
touch "$TMPD/doomed-go"
wait_pid "$doomed" 30
assert_eq 0 "$WAIT_RC" "the running download completed with the original content"
[ "$WAIT_RC" -eq 0 ] || sed 's/^/    /' "$TMPD/doomed.out" >&2

# A big directory: 5000 files with long names make a LIST reply of
# about 600 KB, more than the server's per-session output buffer.
(
	cd "$ROOT" || exit 1
	pad=$(printf 'p%.0s' $(seq 1 90))
	for i in $(seq 1 5000); do
		: >"many-$i-$pad"
	done
)
raw "LIST of 5000 more files" -t 20 ctl line:LIST 'has:^DONE$'
n=$(grep -c '^< FILE ' "$RAW_OUT")
head=$(grep -m 1 -E '^< OK [0-9]+$' "$RAW_OUT" | awk '{print $3}')
assert_eq "$n" "$head" "LIST count matches its FILE lines"
assert_eq 5000 "$(grep -c '^< FILE 0 [0-9]* [-0-9a-f]* many-' "$RAW_OUT")" "LIST shows all 5000 hand-made files"
assert_exit 0 "ftx ls of a big directory" ftx ls
assert_eq 5000 "$(grep -c 'many-' "$OUT")" "ftx ls shows all 5000"
find "$ROOT" -maxdepth 1 -name 'many-*' -delete
assert_alive "a 600 KB LIST"

# ---------------------------------------------------------------- hostile entries
echo "secret outside the root" >"$outside/secret.txt"
outsha=$(sha256_of "$outside/secret.txt")
ln -s "$outside/secret.txt" "$ROOT/link-out"
ln -s /etc/passwd "$ROOT/passwd"
ln -s before.bin "$ROOT/link-in"
ln -s "$outside" "$ROOT/dir-link"
ln -s "$ROOT/nowhere" "$ROOT/dangling"
mkdir "$ROOT/subdir"
echo inner >"$ROOT/subdir/inner.txt"
mkfifo "$ROOT/fifo"

assert_exit 0 "ls with hostile entries" ftx ls
for n in link-out passwd link-in dir-link dangling fifo; do
	if grep -qw -- "$n" "$OUT"; then fail "ls lists $n"; else pass "ls does not list $n"; fi
done
# A directory is a folder of the namespace since 0.3: listed as one.
assert_match 'subdir/' "$(cat "$OUT")" "ls lists subdir as a directory"
raw "LIST with hostile entries" ctl line:LIST 'no:link-out' 'no:passwd' 'no:link-in' \
    'no:dir-link' 'no:dangling' 'no:subdir' 'no:fifo' 'has:before\.bin'

steps=(ctl)
for n in link-out passwd link-in dir-link dangling subdir fifo; do
	steps+=("line:DOWNLOAD $n" 'ok:^ERROR ' 'not:^ERROR (SYNTAX|UNKNOWN)')
	steps+=("line:HASH $n" 'ok:^ERROR ' 'not:^ERROR (SYNTAX|UNKNOWN)')
done
steps+=(line:NOOP 'ok:^OK$')
raw "symlinks, directories and FIFOs are not served (and do not hang)" -t 5 "${steps[@]}"
for n in link-out passwd link-in fifo; do
	FTX_TIMEOUT=15 assert_exit 4 "ftx get $n" ftx get "$n" -o "$dl"
	assert_no_file "$dl/$n" "nothing downloaded for $n"
done
assert_alive "serving hostile entries"

# Writing through a symlink must replace the link, never the target.
mkrand "$src/over.bin" 1000
assert_exit_in "0 4" "put over a symlink to the outside" ftx put "$src/over.bin" --as link-out
assert_eq "$outsha" "$(sha256_of "$outside/secret.txt")" "the symlink's target outside the root is untouched"
if [ -L "$ROOT/link-out" ]; then
	pass "upload refused, the symlink is still a symlink"
else
	assert_file_same "$src/over.bin" "$ROOT/link-out" "upload replaced the symlink itself"
fi
# DELETE of a symlink must not delete its target.
ftx rm link-in >/dev/null 2>&1
ftx rm dir-link >/dev/null 2>&1
assert_file "$ROOT/before.bin" "rm of a symlink kept its target in the root"
assert_file "$outside/secret.txt" "rm of a directory symlink kept the outside"
ftx rm subdir >/dev/null 2>&1
assert_file "$ROOT/subdir/inner.txt" "rm of a directory did nothing"
ftx rm fifo >/dev/null 2>&1
# Uploading into a name that is a directory fails cleanly.
assert_exit 4 "put onto a directory's name" ftx put "$src/over.bin" --as subdir
assert_file "$ROOT/subdir/inner.txt" "the directory is intact"

assert_eq "secret.txt" "$(ls "$outside")" "nothing was written outside the root"
assert_eq "" "$(temps_in "$ROOT")" "no temporaries left"
assert_alive "hostile storage entries"

# Restart with the hostile entries in place: start-up copes.
stop_server
assert_eq 0 "$SERVER_RC" "ftxd exits 0"
start_server
mkdir -p "$dl/r"
assert_exit 0 "get after restart" ftx get hand.bin -o "$dl/r"
assert_file_same "$src/hand3.bin" "$dl/r/hand.bin" "hand copy still served after restart"
assert_alive "restart with hostile entries"

# ---------------------------------------------------------------- file modes
# Uploads get 0666 minus the umask ftxd runs with (systemd's UMask=),
# read once at start-up; a resumed upload (committed from the partial
# directory, mode 0600 while it grows) too.
for um in 027 022; do
	stop_server
	ROOT=$TMPD/root-$um
	mkdir -p "$ROOT"
	old_umask=$(umask)
	umask "$um"
	start_server
	umask "$old_umask"
	want=$(printf '%o' $((0666 & ~8#$um)))
	mkrand "$src/mode.bin" 200000
	assert_exit 0 "put under umask $um" ftx put "$src/mode.bin"
	assert_eq "$want" "$(stat -c %a "$ROOT/mode.bin")" "an upload under umask $um is mode $want"
	raw "an interrupted upload under umask $um" ctl 'line:UPLOAD part.bin 200000' 'ok:^OK ' \
	    data "dsend:$src/mode.bin:100000" dclose read:10 'ok:^ERROR SHORT'
	assert_exit 0 "the resumed upload under umask $um" ftx put "$src/mode.bin" --as part.bin
	assert_eq "$want" "$(stat -c %a "$ROOT/part.bin")" "a resumed upload under umask $um is mode $want"
done
finish

#!/bin/bash
# Trees (docs/PROTOCOL.md "Folders", "Batches"; docs/ftx.1): put -r,
# get -r and sync over MPUT/MGET batches.  A round trip keeps every
# byte, empty directories and files, spaced, UTF-8 and deep names and
# the files' modification times; links are skipped with a notice unless
# -L; sync sends only what changed (an unchanged tree sends 0 bytes, by
# the --json summary), deletes only with --delete, and --dry-run changes
# nothing; an interrupted tree transfer, run again, ends complete and
# verified, with no temporary left.
. "$(dirname "$0")/lib.sh"

isolate_client
start_server

OUT=$TMPD/out
ERR=$TMPD/err
SRC=$TMPD/src

# files_of DIR: "path mtime-seconds size" of every file, and "path/" of
# every directory, sorted.
files_of() {
	(cd "$1" && find . -mindepth 1 -type f -printf '%P %Ts %s\n' -o \
	    -type d -printf '%P/\n' | LC_ALL=C sort)
}

# server_tree NAME: the same for the server's copy (metadata left out).
server_tree() {
	(cd "$ROOT/$1" && find . -mindepth 1 -name .ftx -prune -o -type f \
	    -printf '%P %Ts %s\n' -o -type d -printf '%P/\n' | LC_ALL=C sort)
}

# json_field NAME: the number after "NAME": in $OUT.
json_field() {
	sed -nE "s/.*\"$1\":([0-9.]+).*/\1/p" "$OUT"
}

# ---------------------------------------------------------------- a tree
mkdir -p "$SRC/docs/empty dir" "$SRC/photos/2024" "$SRC/ünïcode"
deep=$SRC
for i in $(seq 1 20); do
	deep=$deep/d$i
done
mkdir -p "$deep"
echo "deep down" >"$deep/bottom.txt"
: >"$SRC/docs/empty.txt"
echo "with spaces" >"$SRC/docs/a file with spaces.txt"
echo "grüße" >"$SRC/ünïcode/résumé €.txt"
for i in $(seq 1 150); do
	echo "small file $i" >"$SRC/photos/2024/img$i.txt"
done
head -c 5000000 /dev/urandom >"$SRC/photos/large.bin" # above the batch size
# Old, distinct times: a copy that did not keep them would show.
find "$SRC" -type f | while read -r f; do
	touch -d "@$((1500000000 + RANDOM))" "$f"
done
ln -s ../docs "$SRC/photos/link"

# ---------------------------------------------------------------- round trip
assert_exit 0 "put -r of a tree" ftx put -r "$SRC" tree
assert_match 'skipped photos/link: symbolic link' "$(cat "$ERR")" \
    "a symbolic link is skipped with a notice"
assert_match '^sent 155 files' "$(cat "$ERR")" "put -r says what it sent"
files_of "$SRC" | grep -v '^photos/link' >"$TMPD/src.list"
server_tree tree >"$TMPD/srv.list"
assert_eq "$(cat "$TMPD/src.list")" "$(cat "$TMPD/srv.list")" \
    "the server holds the tree: names, empty directories, sizes, mtimes"
assert_exit 0 "get -r of the tree" ftx get -r tree "$TMPD/back"
files_of "$TMPD/back" >"$TMPD/back.list"
assert_eq "$(cat "$TMPD/src.list")" "$(cat "$TMPD/back.list")" \
    "the round trip keeps names, empty directories, sizes and mtimes"
if diff -r --no-dereference -x link "$SRC" "$TMPD/back" >"$TMPD/diff" 2>&1; then
	pass "the round trip keeps every byte (diff -r)"
else
	fail "the round trip changed bytes: $(head -n 5 "$TMPD/diff")"
fi
assert_eq "" "$(find "$TMPD/back" -name '.ftx*')" "no temporary is left"
assert_exit 0 "get -r lands in -o DIR/<base name> by default" \
    ftx get -r tree -o "$TMPD/dl"
assert_eq "$(cat "$TMPD/src.list")" "$(files_of "$TMPD/dl/tree")" \
    "the default download place holds the tree"

# The same commands again move nothing: the other side has every file.
assert_exit 0 "put -r again" ftx put -r --json "$SRC" tree
assert_eq "0 0" "$(json_field files_sent) $(json_field bytes)" \
    "put -r again sends nothing"
assert_exit 0 "get -r again" ftx get -r --json tree "$TMPD/back"
assert_eq "0 0" "$(json_field files_sent) $(json_field bytes)" \
    "get -r again fetches nothing"

# -L follows the link.
assert_exit 0 "put -r -L follows links" ftx put -r -L "$SRC" treeL
assert_file "$ROOT/treeL/photos/link/empty.txt" "-L sent the linked directory"
assert_eq "$(cat "$SRC/docs/a file with spaces.txt")" \
    "$(cat "$ROOT/treeL/photos/link/a file with spaces.txt")" \
    "the linked directory's files were sent"

# ---------------------------------------------------------------- sync up
assert_exit 0 "an unchanged sync" ftx sync --json "$SRC" :tree
assert_eq "0 0 155" "$(json_field files_sent) $(json_field bytes) $(json_field files_skipped)" \
    "an unchanged sync sends 0 files and 0 bytes"
assert_file "$HOME/.cache/ftx/hashes" "sync keeps a hash cache"

echo "new" >"$SRC/docs/new.txt"
echo "changed" >>"$SRC/photos/2024/img7.txt"
rm "$SRC/photos/2024/img9.txt"
rm -r "$SRC/docs/empty dir"
server_tree tree >"$TMPD/before.list"
assert_exit 0 "sync --dry-run --delete" ftx sync --dry-run --delete "$SRC" :tree
assert_match '^send docs/new.txt$' "$(cat "$OUT")" "dry run: would send the new file"
assert_match '^send photos/2024/img7.txt$' "$(cat "$OUT")" "dry run: would send the changed file"
assert_match '^delete photos/2024/img9.txt$' "$(cat "$OUT")" "dry run: would delete the removed file"
assert_match '^delete docs/empty dir$' "$(cat "$OUT")" "dry run: would delete the removed directory"
assert_eq "$(cat "$TMPD/before.list")" "$(server_tree tree)" "the dry run changed nothing"

assert_exit 0 "sync without --delete" ftx sync --json "$SRC" :tree
assert_eq "2 0" "$(json_field files_sent) $(json_field files_deleted)" \
    "sync sends the new and the changed file, deletes nothing"
assert_file "$ROOT/tree/photos/2024/img9.txt" "without --delete the removed file stays"
assert_exit 0 "sync --delete" ftx sync --delete --json "$SRC" :tree
assert_eq "0 2" "$(json_field files_sent) $(json_field files_deleted)" \
    "sync --delete deletes the removed file and directory"
files_of "$SRC" | grep -v '^photos/link' >"$TMPD/src.list"
assert_eq "$(cat "$TMPD/src.list")" "$(server_tree tree)" "the server's tree is the source's"

# ---------------------------------------------------------------- sync down
echo "changed on the server" >"$TMPD/x.txt"
touch -d @1600000000 "$TMPD/x.txt"
assert_exit 0 "a change on the server" ftx put "$TMPD/x.txt" --as tree/docs/new.txt
assert_exit 0 "a removal on the server" ftx rm tree/photos/2024/img1.txt
echo "local only" >"$TMPD/back/local-only.txt"
assert_exit 0 "sync down without --delete" ftx sync --json :tree "$TMPD/back"
assert_eq "changed on the server" "$(cat "$TMPD/back/docs/new.txt")" "the changed file came down"
assert_file "$TMPD/back/local-only.txt" "a local-only file stays without --delete"
assert_file "$TMPD/back/photos/2024/img1.txt" "a file removed on the server stays without --delete"
assert_exit 0 "sync down --delete" ftx sync --delete --json :tree "$TMPD/back"
assert_no_file "$TMPD/back/local-only.txt" "--delete removes the local-only file"
assert_no_file "$TMPD/back/photos/2024/img1.txt" "--delete removes what the server removed"
assert_eq "$(server_tree tree)" "$(files_of "$TMPD/back")" "the local tree is the server's"
assert_exit 0 "an unchanged sync down" ftx sync --json :tree "$TMPD/back"
assert_eq "0 0" "$(json_field files_sent) $(json_field bytes)" \
    "an unchanged sync down moves 0 bytes"

# ---------------------------------------------------------------- interrupted
BIG=$TMPD/big
mkdir -p "$BIG/s"
for i in $(seq 1 300); do
	head -c 50000 /dev/urandom >"$BIG/s/f$i"
done
head -c 30000000 /dev/urandom >"$BIG/L1"
head -c 30000000 /dev/urandom >"$BIG/L2"
"$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" -q put -r "$BIG" big >/dev/null 2>&1 &
cpid=$!
track_pid "$cpid"
sleep 0.3
kill -INT "$cpid" 2>/dev/null
wait "$cpid"
echo "interrupted upload: exit $?"
# As a user would run it (the default --retries): the server may still
# be closing the interrupted upload's partial a moment later (BUSY).
assert_exit 0 "the interrupted put -r, run again" ftx --retries 3 put -r --json "$BIG" big
assert_exit 0 "and once more" ftx sync --json "$BIG" :big
assert_eq "0 0" "$(json_field files_sent) $(json_field bytes)" "nothing left to send"
assert_eq "$(files_of "$BIG")" "$(server_tree big)" "the server's copy is complete"

"$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" -q get -r big "$TMPD/bigback" >/dev/null 2>&1 &
cpid=$!
track_pid "$cpid"
sleep 0.2
kill -INT "$cpid" 2>/dev/null
wait "$cpid"
echo "interrupted download: exit $?"
assert_eq "" "$(find "$TMPD/bigback" -name '.ftx-tmp-*' 2>/dev/null)" \
    "an interrupted download leaves no batch temporary"
assert_exit 0 "the interrupted get -r, run again" ftx --retries 3 get -r --json big "$TMPD/bigback"
if diff -r "$BIG" "$TMPD/bigback" >"$TMPD/diff" 2>&1; then
	pass "the downloaded tree is complete and verified"
else
	fail "the downloaded tree differs: $(head -n 5 "$TMPD/diff")"
fi

# ---------------------------------------------------------------- --delete's guards
# A remote top that is a file is no tree: LS of a file lists that one
# file, and sync --delete took it for a tree holding nothing else.
KEEP=$TMPD/keep
mkdir -p "$KEEP/sub"
echo "keep me" >"$KEEP/a.txt"
echo "keep me too" >"$KEEP/sub/b.txt"
assert_exit 0 "a single file on the server" ftx put "$TMPD/x.txt" --as lone.txt
assert_exit 4 "sync --delete from a remote file is refused" \
    ftx sync --delete :lone.txt "$KEEP"
assert_match 'lone.txt is not a directory' "$(cat "$ERR")" \
    "it says the remote path is not a directory"
assert_file "$KEEP/a.txt" "nothing local was deleted"
assert_file "$KEEP/sub/b.txt" "nothing local was deleted (below)"
assert_exit 4 "get -r of a file is refused" ftx get -r lone.txt "$TMPD/lone"
assert_match 'lone.txt is not a directory' "$(cat "$ERR")" \
    "get -r says the file is not a directory"
assert_exit 4 "put -r onto a file is refused" ftx put -r "$KEEP" lone.txt
assert_eq "changed on the server" "$(cat "$ROOT/lone.txt")" \
    "the file on the server is untouched"

# A local tree the walk could not read whole deletes nothing: an entry
# it missed would look removed.  (A link to nothing under -L: root
# reads any directory, so a mode 000 one would not do.)
assert_exit 0 "sync up a tree" ftx sync -L "$KEEP" :keep
assert_file "$ROOT/keep/sub/b.txt" "the tree is on the server"
rm "$KEEP/sub/b.txt"
ln -s nothing-there "$KEEP/dangling"
assert_exit 1 "sync --delete -L with an unreadable entry" \
    ftx sync --delete -L "$KEEP" :keep
assert_match 'not deleting: 1 local entries could not be read' \
    "$(cat "$ERR")" "it says why it deletes nothing"
assert_file "$ROOT/keep/sub/b.txt" "the server's copy was not deleted"
rm "$KEEP/dangling"
assert_exit 0 "sync --delete once the walk is clean" \
    ftx sync --delete -L "$KEEP" :keep
assert_no_file "$ROOT/keep/sub/b.txt" "then the removed file goes"

# ---------------------------------------------------------------- usage
assert_exit 2 "sync needs exactly one remote side" ftx sync "$SRC" "$TMPD/x"
assert_exit 2 "a bad remote path is refused before connecting" \
    ftx put -r "$SRC" "a//b"
assert_exit 1 "a missing local directory" ftx put -r "$TMPD/nope" nope

finish

#!/bin/bash
# ftx's folder commands against a real ftxd (issue 13): mkdir [-p],
# ls [-R] [--long] [PATH], stat, mv [--force] of files and directories,
# rmdir (a non-empty one refused), rm [-r] (a directory refused without
# -r; a tree larger than one round of FTX_RMTREE_BATCH files), remote
# globs in ls, hash, rm and get, paths refused before any traffic, and
# the message every folder command gives against a server without the
# `folders` capability (tests/tools/ftxfake).
. "$(dirname "$0")/lib.sh"

if [ ! -x "$FTXFAKE" ]; then
	fail "$FTXFAKE is not built (make tools)"
	exit 1
fi

start_server

src=$TMPD/src
dl=$TMPD/dl
mkdir -p "$src" "$dl"
printf 'one\n' >"$src/a.txt"
printf 'two\n' >"$src/b.log"
mkrand "$src/c.gz" 1000
mkrand "$src/d.gz" 2000
mkrand "$src/g1.gz" 3000
mkrand "$src/g2.gz" 4000

# line_of REGEX FILE: the number of the first line matching, or 0.
line_of() {
	local n
	n=$(grep -nE -- "$1" "$2" | head -n 1 | cut -d: -f1)
	echo "${n:-0}"
}

# ---------------------------------------------------------------- usage
# SECURITY: paths are checked before anything is sent.
for bad in ../x /abs a//b a/ ./a 'a/../b' .hidden; do
	assert_exit 2 "mkdir '$bad' refused" ftx mkdir -p "$bad"
done
assert_exit 2 "a glob in a directory part is refused" ftx rm '*/x'
assert_exit 2 "ls takes one PATH" ftx ls a b
assert_exit 2 "mv needs two operands" ftx mv a
assert_exit 2 "rm -r . is refused" ftx rm -r .
assert_exit 2 "rmdir without PATH" ftx rmdir
if log_has 'MKDIR|MOVE|RMDIR|DELETE'; then
	fail "a refused command reached the server"
else
	pass "no refused command reached the server"
fi

# ---------------------------------------------------------------- mkdir
assert_exit 0 "mkdir -p a/b/c" ftx mkdir -p a/b/c
assert_match 'created a/b/c/' "$(cat "$ERR")" "mkdir says what it made"
assert_exit 0 "mkdir -p of an existing directory" ftx mkdir -p a/b/c
assert_exit 4 "mkdir of an existing directory without -p" ftx mkdir a/b/c
assert_match 'EXISTS' "$(cat "$ERR")" "mkdir: EXISTS"
assert_exit 4 "mkdir with a missing parent" ftx mkdir x/y
assert_match 'NOTFOUND' "$(cat "$ERR")" "mkdir: NOTFOUND"
assert_exit 0 "mkdir two at once" ftx mkdir logs empty
assert_exit 0 "--quiet mkdir prints nothing" ftx --quiet mkdir -p a/b
assert_eq "" "$(cat "$OUT")" "--quiet mkdir: empty stdout"

# Files go to the top, then into folders with mv (put with paths is
# another suite's).
assert_exit 0 "put six files" ftx put "$src/a.txt" "$src/b.log" "$src/c.gz" \
    "$src/d.gz" "$src/g1.gz" "$src/g2.gz"
assert_exit 0 "mv c.gz a/b/c.gz" ftx mv c.gz a/b/c.gz
assert_match 'moved c.gz -> a/b/c.gz' "$(cat "$ERR")" "mv says what it moved"
assert_exit 0 "mv d.gz a/b/c/d.gz" ftx mv d.gz a/b/c/d.gz

# ---------------------------------------------------------------- ls
assert_exit 0 "ls -R" ftx ls -R
cp "$OUT" "$TMPD/lsR"
for p in 'a/' 'a/b/' 'a/b/c/' 'a/b/c\.gz' 'a/b/c/d\.gz' 'a\.txt' 'b\.log' 'logs/' 'empty/'; do
	assert_match "  $p\$" "$(cat "$TMPD/lsR")" "ls -R shows $p"
done
assert_match '^ +1000  [0-9-]+ [0-9:]+  a/b/c\.gz$' "$(cat "$TMPD/lsR")" "ls -R: size, time, path"
assert_match '^ +-  [0-9-]+ [0-9:]+  a/b/$' "$(cat "$TMPD/lsR")" "ls -R: a directory has - and a trailing /"
if [ "$(line_of '  a/b/$' "$TMPD/lsR")" -lt "$(line_of '  a/b/c\.gz$' "$TMPD/lsR")" ] &&
    [ "$(line_of '  a/b/c/$' "$TMPD/lsR")" -lt "$(line_of '  a/b/c/d\.gz$' "$TMPD/lsR")" ]; then
	pass "ls -R: a directory comes before what it holds"
else
	fail "ls -R order: $(cat "$TMPD/lsR")"
fi
assert_exit 0 "ls (the top)" ftx ls
assert_match '  a/$' "$(cat "$OUT")" "ls shows the directory a/"
assert_match '  a\.txt$' "$(cat "$OUT")" "ls shows a.txt"
if grep -q 'c\.gz' "$OUT"; then fail "plain ls descends: $(cat "$OUT")"; else pass "plain ls does not descend"; fi
assert_exit 0 "ls a/b" ftx ls a/b
assert_match '  c\.gz$' "$(cat "$OUT")" "ls a/b shows c.gz relative to a/b"
assert_match '  c/$' "$(cat "$OUT")" "ls a/b shows c/"
assert_exit 0 "ls -R --long a/b" ftx ls -R --long a/b
assert_match "$(sha256_of "$src/d.gz")  c/d\\.gz\$" "$(cat "$OUT")" "ls --long shows the sha256"
assert_exit 0 "ls of a file" ftx ls a/b/c.gz
assert_match '^ +1000  .*  c\.gz$' "$(cat "$OUT")" "ls of a file shows it under its name"
assert_exit 0 "ls of an empty directory" ftx ls empty
assert_eq "" "$(cat "$OUT")" "ls of an empty directory: nothing on stdout"
assert_exit 4 "ls of a missing directory" ftx ls nosuch
assert_match 'NOTFOUND' "$(cat "$ERR")" "ls: NOTFOUND"

# ---------------------------------------------------------------- stat
assert_exit 0 "stat a file and a directory" ftx stat a/b/c.gz a .
assert_match "^ +1000  [0-9-]+ [0-9:]+  $(sha256_of "$src/c.gz")  a/b/c\\.gz\$" "$(cat "$OUT")" "stat of a file"
assert_match '^ +-  .*  a/$' "$(cat "$OUT")" "stat of a directory"
assert_match '  \./$' "$(cat "$OUT")" "stat . is the top"
assert_exit 4 "stat of a missing path" ftx stat a/nosuch
assert_exit 4 "stat: a missing one fails, the others are shown" ftx stat a/nosuch a/b/c.gz
assert_match 'c\.gz' "$(cat "$OUT")" "stat went on after the missing one"

# ---------------------------------------------------------------- mv
assert_exit 0 "mv a file into a directory" ftx mv a.txt a/moved.txt
assert_exit 0 "stat the moved file" ftx stat a/moved.txt
assert_exit 4 "the old name is gone" ftx stat a.txt
assert_exit 4 "mv onto an existing file without --force" ftx mv b.log a/moved.txt
assert_match 'EXISTS' "$(cat "$ERR")" "mv: EXISTS"
assert_match 'use --force' "$(cat "$ERR")" "mv says how to replace"
assert_exit 0 "hash: the target is unchanged" ftx hash a/moved.txt
assert_match "^$(sha256_of "$src/a.txt")  a/moved\\.txt\$" "$(cat "$OUT")" "the refused mv changed nothing"
assert_exit 0 "mv --force replaces it" ftx mv --force b.log a/moved.txt
assert_exit 0 "hash after mv --force" ftx hash a/moved.txt
assert_match "^$(sha256_of "$src/b.log")  a/moved\\.txt\$" "$(cat "$OUT")" "mv --force replaced the file"
assert_exit 0 "mv a directory with all it holds" ftx mv a/b z
assert_exit 0 "ls -R z" ftx ls -R z
assert_match '  c\.gz$' "$(cat "$OUT")" "the moved tree holds c.gz"
assert_match '  c/d\.gz$' "$(cat "$OUT")" "the moved tree holds c/d.gz"
assert_exit 4 "a/b is gone" ftx stat a/b
assert_exit 4 "mv of a missing file" ftx mv nosuch z/x
assert_exit 4 "mv a directory into itself" ftx mv z z/c/inner

# ---------------------------------------------------------------- rmdir
assert_exit 4 "rmdir of a non-empty directory" ftx rmdir z
assert_match 'NOTEMPTY' "$(cat "$ERR")" "rmdir: NOTEMPTY"
assert_exit 0 "z survived" ftx stat z/c/d.gz
assert_exit 4 "rmdir of a file" ftx rmdir z/c.gz
assert_match 'NOTDIR' "$(cat "$ERR")" "rmdir of a file: NOTDIR"
assert_exit 0 "rmdir of an empty directory" ftx rmdir empty
assert_exit 4 "it is gone" ftx stat empty

# ---------------------------------------------------------------- rm
assert_exit 4 "rm of a directory without -r" ftx rm z
assert_match 'is a directory \(use rm -r\)' "$(cat "$ERR")" "rm says to use -r"
assert_exit 0 "z survived rm" ftx stat z/c.gz
assert_exit 0 "rm -r z" ftx rm -r z
assert_match 'deleted z/ \(2 files\)' "$(cat "$ERR")" "rm -r says what it deleted"
assert_exit 4 "z is gone" ftx stat z
assert_exit 0 "rm -r of a file" ftx rm -r a/moved.txt
assert_exit 4 "rm -r of a missing path" ftx rm -r nosuch

# A tree of more files than one round of rm -r takes (FTX_RMTREE_BATCH,
# 1000): files made in the area by hand, which the server lists too.
AREA=$ROOT
if [ -d "$AREA" ] && mkdir -p "$AREA/big/in/deep" 2>/dev/null; then
	for i in $(seq 1 1100); do : >"$AREA/big/f$i"; done
	for i in $(seq 1 30); do : >"$AREA/big/in/deep/g$i"; done
	assert_exit 0 "ls -R of a tree of 1130 files" ftx ls -R big
	assert_eq 1132 "$(wc -l <"$OUT")" "ls -R big: every entry, once"
	assert_exit 0 "rm -r of 1130 files (two rounds)" ftx rm -r big
	assert_match 'deleted big/ \(1130 files\)' "$(cat "$ERR")" "rm -r counted every file"
	assert_exit 4 "big is gone" ftx stat big
	assert_no_file "$AREA/big" "big is gone from the disk"
else
	skip "cannot make files in the area by hand"
fi

# ---------------------------------------------------------------- globs
assert_exit 0 "put files for globs" ftx put "$src/c.gz" "$src/d.gz" "$src/a.txt"
assert_exit 0 "into logs/" ftx mv c.gz logs/x1.gz
assert_exit 0 "into logs/ (2)" ftx mv d.gz logs/x2.gz
assert_exit 0 "into logs/ (3)" ftx mv a.txt logs/keep.txt
assert_exit 0 "ls 'logs/*.gz'" ftx ls 'logs/*.gz'
assert_eq 2 "$(wc -l <"$OUT")" "ls of a glob: two matches"
assert_match '  logs/x1\.gz$' "$(cat "$OUT")" "ls of a glob shows full paths"
assert_exit 0 "hash 'logs/x?.gz'" ftx hash 'logs/x?.gz'
assert_match "^$(sha256_of "$src/c.gz")  logs/x1\\.gz\$" "$(cat "$OUT")" "hash of a glob: x1"
assert_match "^$(sha256_of "$src/d.gz")  logs/x2\\.gz\$" "$(cat "$OUT")" "hash of a glob: x2"
assert_exit 0 "get '*.gz' (top level)" ftx get '*.gz' -o "$dl"
assert_file_same "$src/g1.gz" "$dl/g1.gz" "get of a glob: g1.gz"
assert_file_same "$src/g2.gz" "$dl/g2.gz" "get of a glob: g2.gz"
assert_exit 4 "get of a glob without a match" ftx get 'nothing*' -o "$dl"
assert_match 'no match: nothing\*' "$(cat "$ERR")" "get: no match: PATTERN"
assert_exit 0 "rm 'logs/*.gz'" ftx rm 'logs/*.gz'
assert_exit 0 "ls logs" ftx ls logs
assert_match '  keep\.txt$' "$(cat "$OUT")" "rm of a glob kept what did not match"
if grep -q 'x[12]\.gz' "$OUT"; then fail "rm of a glob left: $(cat "$OUT")"; else pass "rm of a glob deleted the matches"; fi
assert_exit 4 "rm of a glob without a match" ftx rm 'logs/*.zip'
assert_match 'no match: logs/\*\.zip' "$(cat "$ERR")" "rm: no match: PATTERN"
assert_exit 0 "mkdir for rm of a glob matching a directory" ftx mkdir logs/sub.d
assert_exit 4 "rm of a glob matching a directory, without -r" ftx rm 'logs/*.d'
assert_match 'is a directory' "$(cat "$ERR")" "rm of a glob: a directory needs -r"
assert_exit 0 "rm -r of a glob matching a directory" ftx rm -r 'logs/*.d'
assert_exit 4 "the directory is gone" ftx stat logs/sub.d

assert_alive "the folder commands"

# ---------------------------------------------------------------- old server
# A server whose greeting lacks `folders` (ftxd before 0.3).
start_fake good "$src/a.txt"
old() {
	timeout -k 2 30 "$FTX_BIN" --host 127.0.0.1 --port "$FAKE_PORT" "$@"
}
msg='server does not support folders \(it is older than ftxd 0\.3\)'
assert_exit 0 "old server: plain ls still works" old ls
set -f # the patterns below are for the server, not the shell
for cmd in "mkdir x" "mkdir -p x/y" "rmdir x" "mv a b" "stat a" "ls -R" "ls sub" \
    "rm -r a" "rm *.gz" "ls *.gz" "hash *.gz" "get *.gz -o $dl"; do
	# shellcheck disable=SC2086
	assert_exit 4 "old server: $cmd refused" old $cmd
	assert_match "$msg" "$(cat "$ERR")" "old server: $cmd says why"
done
set +f
if grep -Eq 'MKDIR|RMDIR|MOVE|STAT|LS ' "$FAKE_OUT"; then
	fail "a folder command reached the old server: $(grep -E 'MKDIR|RMDIR|MOVE|STAT|LS ' "$FAKE_OUT")"
else
	pass "no folder command reached the old server"
fi
stop_fake

finish

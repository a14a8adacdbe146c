#!/bin/bash
# MPUT and MGET batches (issue 13, docs/PROTOCOL.md "Batches"), with the
# scriptable batch client tests/tools/ftxbatch.c:
#  - 200 small files in 4 batches (a commit after each 64): one OK line
#    with the right sha per file, files on disk identical with the mtimes
#    sent, DONE <files> <bytes>;
#  - a wrong digest (ERR INTEGRITY), bad paths (ERR BADNAME) and a
#    directory in the way (ERR ISDIR) fail alone, the others commit;
#  - a cut in the middle of a file ends the batch with ERROR SHORT: the
#    committed batches stay, nothing of the cut one is visible or kept;
#  - an overlong header, 65 files without a commit, a control character
#    or an unknown frame end the batch with ERROR SYNTAX;
#  - MGET of the 200 files (sha of the bytes = trailer, cmp), NOTFOUND,
#    ISDIR and BADNAME answered in line while the batch goes on;
#  - anonymous read-only MPUT is PERM; a quota refuses the file that
#    would exceed it (ERR QUOTA), earlier ones commit;
#  - a batch counts as a transfer: --max-transfers-per-ip 1 makes a
#    second MPUT from the address BUSY.
. "$(dirname "$0")/lib.sh"

FTXBATCH=$FTX_BUILD/tools/ftxbatch
if [ ! -x "$FTXBATCH" ]; then
	fail "$FTXBATCH is not built (make tools)"
	exit 1
fi

# B DESCRIPTION STEP...: an ftxbatch session; the transcript is $B_OUT
# (B_N counts them).  Passes if the tool ran (exit 0); the checks are
# greps on the transcript.
B_N=0
B_OUT=
B() {
	local desc=$1 rc
	shift
	B_N=$((B_N + 1))
	B_OUT=$TMPD/batch.$B_N.out
	"$FTXBATCH" -h 127.0.0.1 -p "$CTRL_PORT" -t 15 -w 60 "$@" >"$B_OUT" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$desc: ftxbatch ran"
	else
		fail "$desc: ftxbatch exit $rc; transcript:"
		tail -n 30 "$B_OUT" | sed 's/^/    /' >&2
	fi
}

# has REGEX DESCRIPTION / hasnt REGEX DESCRIPTION: on the last transcript.
has() {
	if grep -Eq -- "$1" "$B_OUT"; then
		pass "$2"
	else
		fail "$2: no line matches /$1/ in $B_OUT:"
		grep -E '^(CTL|RES|DATA|GOT|#)' "$B_OUT" | tail -n 15 | sed 's/^/    /' >&2
	fi
}
hasnt() {
	if grep -Eq -- "$1" "$B_OUT"; then
		fail "$2: $(grep -E -m 1 -- "$1" "$B_OUT")"
	else
		pass "$2"
	fi
}
# count REGEX: lines of the last transcript matching.
count() {
	grep -Ec -- "$1" "$B_OUT"
}

start_server
src=$TMPD/src
mkdir -p "$src"

# ---------------------------------------------------------------- 200 files

# The 200 files mirror their remote paths under $tree, so one `diff -r`
# compares them all (a fork per file costs seconds on a slow machine).
# EXPECT: "<path> <size> <mtime> <sha256>" per file.
tree=$src/tree
LIST=$TMPD/list200
GETS=$TMPD/gets200
EXPECT=$TMPD/expect200
python3 - "$tree" "$LIST" "$GETS" "$EXPECT" <<'PY' || fail "cannot make the 200 files"
import hashlib, os, sys
tree, lst, gets, exp = sys.argv[1:5]
with open(lst, "w") as l, open(gets, "w") as g, open(exp, "w") as e:
    for i in range(1, 201):
        path = "b/dir%d/file%d.bin" % (i % 7, i)
        data = os.urandom((i * 37) % 3001)
        local = os.path.join(tree, path)
        os.makedirs(os.path.dirname(local), exist_ok=True)
        with open(local, "wb") as f:
            f.write(data)
        mtime = 1500000000 + i * 1000
        l.write("%s\t%d\t%s\n" % (local, mtime, path))
        g.write(path + "\n")
        e.write("%s %d %d %s\n" % (path, len(data), mtime, hashlib.sha256(data).hexdigest()))
PY
total=$(awk '{ s += $2 } END { print s + 0 }' "$EXPECT")
B "MPUT of 200 files in 4 batches" mput putlist:"$LIST":64 end final
has '^CTL OK [0-9]+ [0-9a-f]{32}' "MPUT is offered a port and a token"
assert_eq "RES C 64 0,RES C 64 0,RES C 64 0,RES C 8 0" "$(grep '^RES C ' "$B_OUT" | paste -sd,)" \
    "four commit points: 64, 64, 64 and 8 files, no error (and no results after E)"
assert_eq 200 "$(count '^RES OK [0-9a-f]{64} b/dir[0-6]/file[0-9]+\.bin$')" "200 OK result lines"
has "^CTL DONE 200 $total$" "DONE 200 $total (files, bytes received)"
assert_eq "" "$(diff <(awk '{ print "RES OK " $4 " " $1 }' "$EXPECT" | sort) <(grep '^RES OK ' "$B_OUT" | sort))" \
    "every file's OK line carries its own sha"
assert_eq "" "$(diff -r -x '.*' "$tree/b" "$ROOT/b" 2>&1)" "every stored file is identical to the one sent (diff -r)"
assert_eq "" "$(diff <(awk '{ print $1, $3 }' "$EXPECT" | sort) <(cd "$ROOT" && stat -c '%n %Y' b/*/* | sort))" \
    "every stored file has the mtime sent"

# ---------------------------------------------------------------- MGET

dl=$TMPD/dl
mkdir -p "$dl"
B "MGET of the 200 files (at most 64 unanswered)" mget getlist:"$GETS":"$dl" \
    get:nosuch/file.bin get:b/dir1 get:../x "get:b/dir1/file1.bin:$TMPD/one.bin" end final
assert_eq 201 "$(count '^GOT .* match$')" "201 files received, every trailer equal to the sha of the bytes"
hasnt '^GOT .* MISMATCH$' "no trailer differs from the bytes"
has '^RES ERR NOTFOUND nosuch/file\.bin ' "a missing file is ERR NOTFOUND"
has '^RES ERR ISDIR b/dir1 ' "a directory is ERR ISDIR"
has '^RES ERR BADNAME ' "a bad path is ERR BADNAME"
has "^CTL DONE 201 $((total + 37))$" "the batch went on after the errors: DONE 201 <bytes sent>"
assert_eq "" "$(diff -r "$tree/b" "$dl/b" 2>&1)" "every received file is identical to the original (diff -r)"
assert_eq "" "$(diff <(awk '{ print "GOT " $1, $2, $3, $4 " match" }' "$EXPECT" | sort) \
    <(grep '^GOT ' "$B_OUT" | sed -n 1,200p | sort))" "each GOT line has the file's path, size, mtime and sha"
assert_file_same "$tree/b/dir1/file1.bin" "$TMPD/one.bin" "the file asked for after the errors arrived whole"

# ---------------------------------------------------------------- files that fail alone

mkrand "$src/g1" 1000
mkrand "$src/g2" 2000
mkrand "$src/g3" 3000
B "a batch with a wrong digest, bad paths and a directory in the way" mput \
    "put:$src/g1:-:g/one" "badsum:$src/g2:-:g/two" "put:$src/g3:1234567890:g/three" \
    "put:$src/g1:-:../x" "put:$src/g1:-:/ftxabs$$" "put:$src/g1:-:a//b" "put:$src/g1:-:a/%01b" \
    "put:$src/g1:-:b/dir1" commit "put:$src/g2:-:g/two" commit end final
assert_eq "RES OK $(sha256_of "$src/g1") g/one|RES ERR INTEGRITY g/two|RES OK $(sha256_of "$src/g3") g/three" \
    "$(grep '^RES ' "$B_OUT" | sed -n 1,3p | sed 's/^\(RES ERR [A-Z]* [^ ]*\) .*/\1/' | paste -sd'|')" \
    "results in frame order: OK, ERR INTEGRITY for the wrong digest, OK"
assert_eq 4 "$(count '^RES ERR BADNAME - ')" \
    "../x, /abs, a//b and a control character (%01) fail alone with ERR BADNAME"
has '^RES ERR ISDIR b/dir1 ' "a directory in the file's place fails alone with ERR ISDIR"
has '^RES C 2 6$' "the first commit: 2 OK, 6 failed"
has '^RES C 1 0$' "the next batch of the same MPUT goes on"
has '^CTL DONE 3 [0-9]+$' "DONE counts the 3 committed files"
assert_file_same "$src/g1" "$ROOT/g/one" "g/one committed"
assert_file_same "$src/g3" "$ROOT/g/three" "g/three committed"
assert_eq 1234567890 "$(stat -c %Y "$ROOT/g/three" 2>/dev/null)" "g/three has the mtime sent"
assert_file_same "$src/g2" "$ROOT/g/two" "g/two committed when sent again with the right digest"
assert_no_file "$TMPD/x" "../x made nothing outside the root"
assert_no_file "/ftxabs$$" "/abs made nothing"
[ -d "$ROOT/b/dir1" ] && pass "the directory in the way is still a directory" || fail "b/dir1 was replaced"

# ---------------------------------------------------------------- a cut in the middle

mkrand "$src/c1" 5000
mkrand "$src/c2" 5000
mkrand "$src/c3" 5000
mkrand "$src/c4" 5000
mkrand "$src/c5" 300000
B "a data connection cut in the middle of the third file of a batch" mput \
    "put:$src/c1:-:cut/c1" "put:$src/c2:-:cut/c2" commit \
    "put:$src/c3:-:cut/c3" "put:$src/c4:-:cut/c4" "cut:$src/c5:-:cut/c5" final
has '^RES C 2 0$' "the first batch committed"
has '^CTL ERROR SHORT ' "the control connection says ERROR SHORT"
assert_file_same "$src/c1" "$ROOT/cut/c1" "c1 (committed batch) is present"
assert_file_same "$src/c2" "$ROOT/cut/c2" "c2 (committed batch) is present"
assert_no_file "$ROOT/cut/c3" "c3 (cut batch) is not visible"
assert_no_file "$ROOT/cut/c4" "c4 (cut batch) is not visible"
assert_no_file "$ROOT/cut/c5" "c5 (cut in the middle) is not visible"
raw "LS shows no leftover of the cut batch" -t 10 -w 30 ctl 'line:LS cut recursive=1' ls \
    'has:^DONE 2$' 'no: (c3|c4|c5)$'
sleep 0.2
assert_eq "" "$(find "$ROOT" -type f \( -size 5000c -o -size +100000c \) ! -path "$ROOT/cut/*" ! -path "$ROOT/b/*" | head -n 3)" \
    "no partial of the cut batch is kept anywhere under the root"

# ---------------------------------------------------------------- malformed frames

B "an overlong (5000-byte) header line" mput long:5000 final
has '^CTL ERROR SYNTAX ' "an overlong header is ERROR SYNTAX"
B "65 files without a commit point" mput many:65:z final
has '^CTL ERROR SYNTAX ' "65 F frames without C is ERROR SYNTAX"
assert_eq "" "$(find "$ROOT" -maxdepth 1 -name 'z*')" "none of the 65 files was committed"
B "a control character in a frame header" mput 'hdr:F 1 - a\x01b\n' final
has '^CTL ERROR SYNTAX ' "a raw control character in a header is ERROR SYNTAX"
B "an unknown frame" mput 'hdr:X 1 2\n' final
has '^CTL ERROR SYNTAX ' "an unknown frame is ERROR SYNTAX"
B "a size that is not a number" mput 'hdr:F 1x - name\n' final
has '^CTL ERROR SYNTAX ' "a bad size is ERROR SYNTAX"
assert_alive "malformed batches"
stop_server

# ---------------------------------------------------------------- accounts

USERS=$TMPD/users
add_user q q-pw-3 --quota 10000
ROOT=$TMPD/root2
mkdir -p "$ROOT"
start_server --users "$USERS" --allow-plaintext-login --anonymous read-only
B "anonymous read-only MPUT" 'line:LOGIN anonymous x' line:MPUT line:MGET
has '^CTL OK anonymous logged in read-only' "anonymous logged in"
has '^CTL ERROR PERM ' "anonymous read-only MPUT is ERROR PERM"
has '^CTL OK [0-9]+ [0-9a-f]{32}' "anonymous read-only MGET is offered"
mkrand "$src/q4k" 4000
mkrand "$src/q1k" 1000
B "MPUT against a 10,000-byte quota" 'line:LOGIN q q-pw-3' mput \
    "put:$src/q4k:-:qa/one" "put:$src/q4k:-:qb/two" "put:$src/q4k:-:qc/three" "put:$src/q1k:-:qd/four" \
    commit end final
has '^RES OK [0-9a-f]{64} qa/one$' "the first file fits"
has '^RES OK [0-9a-f]{64} qb/two$' "the second file fits"
has '^RES ERR QUOTA qc/three ' "the file that would exceed the quota is ERR QUOTA"
has '^RES OK [0-9a-f]{64} qd/four$' "a smaller file after it still fits"
has '^RES C 3 1$' "3 committed, 1 refused"
assert_file_same "$src/q4k" "$ROOT/.users/q/qa/one" "qa/one is stored"
assert_file_same "$src/q4k" "$ROOT/.users/q/qb/two" "qb/two is stored"
assert_no_file "$ROOT/.users/q/qc" "nothing of the refused file"
B "a second MPUT over the quota" 'line:LOGIN q q-pw-3' mput "put:$src/q4k:-:qe/five" commit end final
has '^RES ERR QUOTA qe/five ' "the stored files count in the next batch"
# Under a quota one MPUT of a user at a time: each checks against the
# usage it saw at its start.
"$FTXBATCH" -h 127.0.0.1 -p "$CTRL_PORT" -t 15 -w 60 'line:LOGIN q q-pw-3' mput \
    "put:$src/q1k:-:qf/six" commit sleep:2 end final >"$TMPD/qhold.out" 2>&1 &
qhold=$!
track_pid "$qhold"
wait_for 10 grep -q '^RES C ' "$TMPD/qhold.out" || fail "the first quota MPUT did not start"
B "a second MPUT of the same user under a quota" 'line:LOGIN q q-pw-3' line:MPUT line:MGET
has '^CTL ERROR BUSY one batch upload at a time under a quota' \
    "a second MPUT of a user with a quota is BUSY while one runs"
has '^CTL OK [0-9]+ [0-9a-f]{32}' "... an MGET is not"
wait_pid "$qhold" 20
stop_server

# ---------------------------------------------------------------- transfer caps

ROOT=$TMPD/root3
mkdir -p "$ROOT"
start_server --max-transfers-per-ip 1
"$FTXBATCH" -h 127.0.0.1 -p "$CTRL_PORT" -t 15 -w 60 mput "put:$src/g1:-:held" commit sleep:2 end final \
    >"$TMPD/hold.out" 2>&1 &
hold=$!
track_pid "$hold"
wait_for 10 grep -q '^RES C 1 0' "$TMPD/hold.out" || fail "the first MPUT did not start"
B "a second MPUT while one runs from the address" line:MPUT line:MGET
has '^CTL ERROR BUSY ' "with --max-transfers-per-ip 1 the second MPUT is BUSY"
assert_eq 2 "$(count '^CTL ERROR BUSY ')" "... and so is an MGET"
wait_pid "$hold" 20
assert_eq 1 "$(grep -c '^CTL DONE 1 1000$' "$TMPD/hold.out")" "the first MPUT finished (DONE 1 1000)"
B "an MPUT once the first has ended" mput "put:$src/g3:-:after" commit end final
has '^CTL DONE 1 3000$' "the batch's slot was given back"
stop_server
finish

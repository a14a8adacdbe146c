#!/bin/bash
# Users' areas moved out of the shared namespace (issue 12, "Paths"):
#  - servers before 0.2 kept a user's files in ROOT/USER; they now live in
#    ROOT/.users/USER (0700, a dot name: never listed, never nameable);
#  - at the first start with accounts (or --anonymous), ftxd moves the
#    old ROOT/USER directory of every account in the users file, and
#    ROOT/anonymous, into ROOT/.users, without losing a file, logs it and
#    records it in ROOT/.ftx/.users-moved;
#  - a start without accounts moves nothing and records nothing;
#  - once recorded, a directory ROOT/USER made later is the shared
#    namespace's own: never moved again, never served as the user's area;
#  - only real directories move: a symbolic link ROOT/USER (to anywhere)
#    stays as it is, its target untouched; a directory whose name is no
#    account stays too;
#  - an account with both ROOT/USER and ROOT/.users/USER stops the start
#    (nothing moved, nothing recorded) until the operator picks one.
. "$(dirname "$0")/lib.sh"

isolate_client
USERS=$TMPD/users
PW_A='alice-pw-4410'
PW_C='carol-pw-4411'
add_user alice "$PW_A"
add_user carol "$PW_C"

# A root in the old layout.
ROOT=$TMPD/root
mkdir -p "$ROOT/alice" "$ROOT/anonymous" "$ROOT/zed" "$TMPD/elsewhere" "$TMPD/dl"
mkrand "$ROOT/alice/old.txt" 40000
mkrand "$ROOT/anonymous/pub.txt" 3000
mkrand "$ROOT/zed/keep.txt" 100
mkrand "$ROOT/shared.txt" 2000
echo "not carol's" >"$TMPD/elsewhere/theirs.txt"
ln -s "$TMPD/elsewhere" "$ROOT/carol"
old_sha=$(sha256_of "$ROOT/alice/old.txt")
pub_sha=$(sha256_of "$ROOT/anonymous/pub.txt")
elsewhere_before=$(find "$TMPD/elsewhere" -printf '%P %s %T@\n' | LC_ALL=C sort | md5sum)
MOVED=$ROOT/.ftx/.users-moved

# as USER PASSWORD ARGS...: the real client as that user (plaintext login).
as() {
	local user=$1 pw=$2
	shift 2
	FTX_PASSWORD="$pw" ftx --allow-plaintext-password --user "$user" "$@"
}

# ---------------------------------------------------------------- no accounts: nothing moves

start_server
raw "without accounts LIST shows the root's files, never .users" ctl \
    line:LIST 'ok:^OK [0-9]+$' 'has:^FILE 2000 .* shared\.txt$' 'no:\.users' 'no:\.ftx' \
    'no: (alice|anonymous|carol|zed)$' line:DOWNLOAD\ .users 'ok:^ERROR BADNAME' \
    line:HASH\ .users 'ok:^ERROR BADNAME'
stop_server
if [ -d "$ROOT/.users" ] && [ ! -L "$ROOT/.users" ]; then
	pass "<root>/.users is created"
else
	fail "no directory <root>/.users"
fi
assert_eq 700 "$(stat -c %a "$ROOT/.users" 2>&1)" "<root>/.users is mode 0700"
assert_file "$ROOT/alice/old.txt" "without accounts <root>/alice is not moved"
assert_no_file "$MOVED" "without accounts no move is recorded"
if log_has "users' areas are in"; then fail "a start without accounts logged a move"; else pass "... nor logged"; fi

# ---------------------------------------------------------------- the first start with accounts

start_server --users "$USERS" --allow-plaintext-login --anonymous read-only
if log_has "users' areas are in $ROOT/\\.users"; then
	pass "the log says the users' areas moved into <root>/.users"
else
	fail "no \"users' areas are in $ROOT/.users\" in the log"
fi
assert_file "$MOVED" "the move is recorded in <root>/.ftx/.users-moved"
assert_no_file "$ROOT/alice" "<root>/alice no longer exists"
assert_file "$ROOT/.users/alice/old.txt" "<root>/.users/alice/old.txt does"
assert_eq "$old_sha" "$(sha256_of "$ROOT/.users/alice/old.txt" 2>&1)" "old.txt moved intact"
assert_no_file "$ROOT/anonymous" "<root>/anonymous no longer exists"
assert_file "$ROOT/.users/anonymous/pub.txt" "the anonymous area moved to <root>/.users/anonymous"
assert_file "$ROOT/zed/keep.txt" "<root>/zed (no such account) is not moved"
assert_no_file "$ROOT/.users/zed" "... and not made an area"
if [ -L "$ROOT/carol" ]; then pass "the symlink <root>/carol is not moved"; else fail "<root>/carol is no longer a symlink"; fi
assert_no_file "$ROOT/.users/carol" "no area for carol before her first login"
assert_file "$ROOT/shared.txt" "the root's own file stays"

raw "alice's LIST shows her old file" ctl "line:LOGIN alice $(proto_encode "$PW_A")" 'ok:^OK alice logged in$' \
    line:LIST 'ok:^OK 1$' 'has:^FILE 40000 .* old\.txt$' \
    line:DOWNLOAD\ shared.txt 'ok:^ERROR NOTFOUND'
assert_exit 0 "alice downloads old.txt" as alice "$PW_A" get old.txt -o "$TMPD/dl"
assert_file_same "$ROOT/.users/alice/old.txt" "$TMPD/dl/old.txt" "the download verifies"
assert_exit 0 "anonymous downloads pub.txt" as anonymous x get pub.txt -o "$TMPD/dl"
assert_eq "$pub_sha" "$(sha256_of "$TMPD/dl/pub.txt" 2>&1)" "the anonymous download verifies"
raw "carol, whose old <root>/carol is a symlink, gets a fresh area of her own" ctl \
    "line:LOGIN carol $(proto_encode "$PW_C")" 'ok:^OK carol logged in$' \
    line:LIST 'ok:^OK 0$' 'no:theirs' line:DOWNLOAD\ theirs.txt 'ok:^ERROR NOTFOUND'
if [ -d "$ROOT/.users/carol" ] && [ ! -L "$ROOT/.users/carol" ]; then
	pass "<root>/.users/carol is a real directory"
else
	fail "<root>/.users/carol is not a real directory"
fi
if [ -L "$ROOT/carol" ]; then pass "<root>/carol is still the symlink"; else fail "<root>/carol was changed"; fi
assert_eq "$elsewhere_before" "$(find "$TMPD/elsewhere" -printf '%P %s %T@\n' | LC_ALL=C sort | md5sum)" \
    "the symlink's target is untouched"
stop_server

# ---------------------------------------------------------------- recorded once

# A directory <root>/alice made by hand after the move is the shared
# namespace's own.
mkdir -p "$ROOT/alice"
mkrand "$ROOT/alice/new.txt" 500
start_server --users "$USERS" --allow-plaintext-login --anonymous read-only
if log_has "users' areas are in"; then fail "the second start logged a move again"; else pass "the second start moves nothing"; fi
assert_file "$ROOT/alice/new.txt" "<root>/alice made after the move is not moved"
assert_no_file "$ROOT/.users/alice/new.txt" "... nor merged into alice's area"
raw "alice's LIST still shows her area only" ctl "line:LOGIN alice $(proto_encode "$PW_A")" \
    'ok:^OK alice logged in$' line:LIST 'ok:^OK 1$' 'has: old\.txt$' 'no:new\.txt' \
    line:DOWNLOAD\ new.txt 'ok:^ERROR NOTFOUND'
if [ -L "$ROOT/carol" ]; then pass "the symlink <root>/carol is never moved"; else fail "<root>/carol was changed"; fi
stop_server

# ---------------------------------------------------------------- both layouts at once

# An account with both <root>/USER and <root>/.users/USER: which one holds
# the user's files is the operator's call.  The start stops, nothing moves.
ROOT=$TMPD/root2
mkdir -p "$ROOT/alice" "$ROOT/.users/alice"
chmod 700 "$ROOT/.users"
echo a >"$ROOT/alice/a.txt"
echo b >"$ROOT/.users/alice/b.txt"
timeout -k 2 10 "$FTXD" $ALLOW_ROOT --bind 127.0.0.1 --port 0 --data-port 0 --root "$ROOT" \
    --users "$USERS" --log "$TMPD/both.log" >"$TMPD/both.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ]; then
	pass "both <root>/alice and <root>/.users/alice: the start stops (exit $rc)"
else
	fail "both <root>/alice and <root>/.users/alice: exit $rc: $(cat "$TMPD/both.out")"
fi
assert_match 'move one by hand' "$(cat "$TMPD/both.out" "$TMPD/both.log" 2>/dev/null)" \
    "... and says to move one by hand"
assert_file "$ROOT/alice/a.txt" "<root>/alice is kept"
assert_file "$ROOT/.users/alice/b.txt" "<root>/.users/alice is kept"
assert_no_file "$ROOT/.users/alice/a.txt" "nothing was merged"
assert_no_file "$ROOT/.ftx/.users-moved" "nothing is recorded"
# The operator merges by hand; the next start moves what is left.
mv "$ROOT/.users/alice/b.txt" "$ROOT/alice/"
rmdir "$ROOT/.users/alice"
start_server --users "$USERS" --allow-plaintext-login
assert_file "$ROOT/.users/alice/a.txt" "after the operator's fix the next start moves the area"
assert_file "$ROOT/.users/alice/b.txt" "... with every file"
assert_file "$ROOT/.ftx/.users-moved" "... and records it"
stop_server

finish

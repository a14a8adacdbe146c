#!/bin/bash
# `ftxd user ...` end to end: add (password from stdin), list, duplicate
# add refused, passwd, quota, del (files kept); the file's mode (0600),
# atomic rewrites (no temporaries left, readers never see a half file);
# bad names, sizes and passwords; the default file next to the root and
# the configuration file; refused users files (group-writable, malformed
# with FILE:LINE, symlink); the no-echo prompt on a terminal (script(1)),
# including the terminal being restored when a signal ends the prompt;
# and that the server accepts exactly the passwords the command set,
# including an account added while it runs.
. "$(dirname "$0")/lib.sh"

D=$TMPD/acct
mkdir -p "$D"
U=$D/ftxd.users
PW1='correct horse battery'
PW2='Tr0ub4dor&3'

u() {
	timeout -k 2 60 "$FTXD" user "$@"
}

mode_of() {
	stat -c '%a' -- "$1"
}

# No command's output may ever contain a password.
no_secret_in_output() {
	local p
	for p in "$@"; do
		if grep -qF -- "$p" "$OUT" "$ERR"; then
			fail "$1: a password appears in the output"
			return
		fi
	done
	pass "no password in the output"
}

tmp_files() {
	find "$1" -maxdepth 1 -name '*.tmp-*' | wc -l | tr -d ' '
}

# ================================================================ add, list

assert_exit 0 "add alice (password on stdin)" \
    bash -c 'printf "%s\n" "$1" | "$2" user --users "$3" add alice' _ "$PW1" "$FTXD" "$U"
assert_match '^added user alice to .*ftxd\.users' "$(cat "$OUT")" "add says what it did"
no_secret_in_output "$PW1"
assert_file "$U" "the users file was created"
assert_eq 600 "$(mode_of "$U")" "the users file is mode 0600"
assert_match '^alice:0:scrypt\$15\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64}$' "$(cat "$U")" \
    "the line is name:quota:scrypt hash"
if grep -qF -- "$PW1" "$U" || grep -qF -- "correct" "$U"; then
	fail "the password is in the users file"
else
	pass "the password is not in the users file"
fi

assert_exit 0 "add bob --quota 10G" \
    bash -c 'printf "%s\n" "$1" | "$2" user add bob --users "$3" --quota 10G' _ "$PW2" "$FTXD" "$U"
assert_match '^bob:10737418240:scrypt\$' "$(grep '^bob:' "$U")" "bob's quota is 10 GiB in bytes"
salt_a=$(grep '^alice:' "$U" | cut -d '$' -f 5)
assert_exit 0 "add carol with alice's password" \
    bash -c 'printf "%s\n" "$1" | "$2" user --users "$3" add carol' _ "$PW1" "$FTXD" "$U"
salt_c=$(grep '^carol:' "$U" | cut -d '$' -f 5)
if [ -n "$salt_a" ] && [ "$salt_a" != "$salt_c" ]; then
	pass "the same password gets a different salt"
else
	fail "salts: alice '$salt_a', carol '$salt_c'"
fi

assert_exit 0 "list" u --users "$U" list
assert_eq "alice none|bob 10G|carol none" "$(awk '{ printf "%s%s %s", sep, $1, $2; sep = "|" }' "$OUT")" \
    "list shows names and quotas in file order"
if grep -q 'scrypt\|\$' "$OUT"; then
	fail "list shows hashes"
else
	pass "list shows no hashes"
fi

sum_before=$(sha256_of "$U")
assert_exit 1 "a duplicate add is refused" \
    bash -c 'printf "x\n" | "$1" user --users "$2" add alice' _ "$FTXD" "$U"
assert_match "already exists" "$(cat "$ERR")" "duplicate: says so"
assert_eq 1 "$(wc -l <"$ERR" | tr -d ' ')" "duplicate: one line on stderr"
assert_eq "$sum_before" "$(sha256_of "$U")" "duplicate: the file is unchanged"

# ================================================================ passwd, quota

hash_before=$(grep '^alice:' "$U")
assert_exit 0 "passwd alice" \
    bash -c 'printf "%s\n" "$1" | "$2" user --users "$3" passwd alice' _ "$PW2" "$FTXD" "$U"
no_secret_in_output "$PW2"
hash_after=$(grep '^alice:' "$U")
if [ "$hash_before" != "$hash_after" ] && [[ "$hash_after" == alice:0:scrypt* ]]; then
	pass "passwd changed the hash and kept name and quota"
else
	fail "passwd: '$hash_before' -> '$hash_after'"
fi
assert_exit 1 "passwd of a missing user" \
    bash -c 'printf "x\n" | "$1" user --users "$2" passwd nobody' _ "$FTXD" "$U"
assert_match "no user 'nobody'" "$(cat "$ERR")" "passwd: says no such user"

assert_exit 0 "quota bob 1536M" u --users "$U" quota bob 1536M
assert_match '^bob:1610612736:' "$(grep '^bob:' "$U")" "quota set in bytes"
assert_exit 0 "list after quota" u --users "$U" list
assert_match '^bob +1536M$' "$(grep '^bob' "$OUT")" "list shows 1536M"
assert_exit 0 "quota bob 12345" u --users "$U" quota bob 12345
assert_match '^bob:12345:' "$(grep '^bob:' "$U")" "quota of plain bytes"
assert_exit 0 "quota bob none" u --users "$U" quota bob none
assert_match '^bob:0:' "$(grep '^bob:' "$U")" "quota removed"
sum_before=$(sha256_of "$U")
for bad in 1.5G 10P -1 '' 10GG 0x10 '1 G' 1152921504606846977; do
	assert_exit 2 "quota '$bad' is a usage error" u --users "$U" quota bob "$bad"
done
assert_exit 2 "add --quota 3X is a usage error" u --users "$U" add dave --quota 3X </dev/null
assert_exit 1 "quota of a missing user" u --users "$U" quota nobody 1G
assert_eq "$sum_before" "$(sha256_of "$U")" "refused quotas left the file alone"

# ================================================================ del

mkdir -p "$D/files/carol"
echo keep >"$D/files/carol/notes.txt"
assert_exit 0 "del carol" u --users "$U" --root "$D/files" del carol
assert_match "NOT deleted" "$(cat "$OUT")" "del says the files are kept"
assert_match "$D/files/carol/" "$(cat "$OUT")" "del names the directory"
assert_file "$D/files/carol/notes.txt" "del kept the user's files"
assert_exit 0 "list after del" u --users "$U" list
assert_eq "alice bob" "$(awk '{ print $1 }' "$OUT" | xargs)" "carol is gone"
assert_exit 1 "del of a missing user" u --users "$U" del carol

assert_eq 600 "$(mode_of "$U")" "still mode 0600 after the edits"
assert_eq 0 "$(tmp_files "$D")" "no temporary files left"

# ================================================================ names, usage

sum_before=$(sha256_of "$U")
long=$(printf 'a%.0s' $(seq 1 33))
for bad in Alice '../x' 'a/b' 'a.b' '_a' 'a b' 'a:b' "$long" '' "$(printf 'a\tb')" $'caf\303\251'; do
	assert_exit 2 "add '$bad' is refused" u --users "$U" add "$bad" </dev/null
done
assert_exit 2 "add anonymous is refused (reserved)" u --users "$U" add anonymous </dev/null
assert_match "reserved" "$(cat "$ERR")" "anonymous: says reserved"
assert_exit 2 "a name like an option is refused" u --users "$U" add -x </dev/null
assert_exit 2 "del '../x' is refused" u --users "$U" del ../x
assert_eq "$sum_before" "$(sha256_of "$U")" "bad names left the file alone"

assert_exit 2 "no command" u --users "$U"
assert_exit 2 "unknown command" u --users "$U" frob
assert_exit 2 "add without a name" u --users "$U" add
assert_exit 2 "add with two names" u --users "$U" add a b
assert_exit 2 "quota without a size" u --users "$U" quota bob
assert_exit 2 "list with an argument" u --users "$U" list x
assert_exit 2 "--quota with del" u --users "$U" del bob --quota 1G
assert_exit 2 "unknown option" u --users "$U" --frob list
assert_exit 2 "--users without a value" u list --users
assert_exit 0 "--help" u --help
assert_match '^usage: ftxd user add' "$(head -n 1 "$OUT")" "--help prints the usage"

# ================================================================ passwords

assert_exit 1 "an empty password is refused" \
    bash -c 'printf "\nsecond\n" | "$1" user --users "$2" add dave' _ "$FTXD" "$U"
assert_match "empty password" "$(cat "$ERR")" "empty: says so"
assert_exit 1 "no password at all is refused" u --users "$U" add dave </dev/null
p1024=$(head -c 1024 /dev/zero | tr '\0' 'p')
assert_exit 1 "a 1025-byte password is refused" \
    bash -c 'printf "%sp\n" "$1" | "$2" user --users "$3" add dave' _ "$p1024" "$FTXD" "$U"
assert_match "longer than 1024" "$(cat "$ERR")" "overlong: says so"
assert_exit 0 "a 1024-byte password is fine" \
    bash -c 'printf "%s\n" "$1" | "$2" user --users "$3" add dave' _ "$p1024" "$FTXD" "$U"
# Only the first line counts, spaces included, and no newline is needed.
assert_exit 0 "the first line of stdin, spaces kept" \
    bash -c 'printf " s p \nsecond line\n" | "$1" user --users "$2" add erin' _ "$FTXD" "$U"
assert_exit 0 "a password without a newline" \
    bash -c 'printf "nonl" | "$1" user --users "$2" add fred' _ "$FTXD" "$U"

# ================================================================ atomicity

# Readers (list) while another process rewrites the file: every read sees
# a whole file.
(
	for i in $(seq 1 40); do
		"$FTXD" user --users "$U" quota bob "$i"K >/dev/null || echo "edit $i failed"
	done
) >"$TMPD/edits.out" 2>&1 &
EDIT_PID=$!
track_pid "$EDIT_PID"
bad_reads=0
for i in $(seq 1 40); do
	if ! out=$("$FTXD" user --users "$U" list 2>&1) || ! printf '%s\n' "$out" | grep -q '^bob '; then
		bad_reads=$((bad_reads + 1))
		echo "read $i: $out" >&2
	fi
done
wait_pid "$EDIT_PID" 60
assert_eq 0 "$WAIT_RC" "the editing loop finished"
assert_eq "" "$(cat "$TMPD/edits.out")" "every edit succeeded"
assert_eq 0 "$bad_reads" "every read during the edits saw a whole file"
assert_match '^bob:40960:' "$(grep '^bob:' "$U")" "the last edit won"
assert_eq 0 "$(tmp_files "$D")" "no temporary files after concurrent edits"
assert_eq 600 "$(mode_of "$U")" "mode 0600 after concurrent edits"

# ================================================================ where the file is

mkdir -p "$TMPD/srv/files"
assert_exit 0 "--root: the default file is next to the root" \
    bash -c 'printf "pw\n" | "$1" user --root "$2" add gina' _ "$FTXD" "$TMPD/srv/files"
assert_file "$TMPD/srv/ftxd.users" "created as <root>/../ftxd.users"
assert_no_file "$TMPD/srv/files/ftxd.users" "not inside the root"
# A root that does not exist yet (the server creates it later).
mkdir -p "$TMPD/later"
assert_exit 0 "--root that does not exist yet" \
    bash -c 'printf "pw\n" | "$1" user --root "$2" add gina' _ "$FTXD" "$TMPD/later/files"
assert_file "$TMPD/later/ftxd.users" "next to the future root"
# The default root, relative to the current directory.
mkdir -p "$TMPD/cwd"
assert_exit 0 "the default root ./server_files" \
    bash -c 'cd "$3" && printf "pw\n" | "$1" user add hana' _ "$FTXD" "" "$TMPD/cwd"
assert_file "$TMPD/cwd/ftxd.users" "default: ./ftxd.users next to ./server_files"
assert_exit 2 "--root / has no room next to it" u --root / list

# The configuration file: root and users.
mkdir -p "$TMPD/c/files"
printf '[ftxd]\nroot = %s\n' "$TMPD/c/files" >"$TMPD/c/a.conf"
assert_exit 0 "--config with root" \
    bash -c 'printf "pw\n" | "$1" user --config "$2" add ivan' _ "$FTXD" "$TMPD/c/a.conf"
assert_file "$TMPD/c/ftxd.users" "root from the config file"
printf 'root = %s\nusers = %s\n' "$TMPD/c/files" "$TMPD/c/other.users" >"$TMPD/c/b.conf"
assert_exit 0 "--config with users" \
    bash -c 'printf "pw\n" | "$1" user --config "$2" add jane' _ "$FTXD" "$TMPD/c/b.conf"
assert_eq "jane" "$(cut -d: -f1 "$TMPD/c/other.users")" "users from the config file"
assert_exit 0 "FTXD_CONFIG is the default config" \
    env FTXD_CONFIG="$TMPD/c/b.conf" "$FTXD" user list
assert_eq "jane" "$(awk '{ print $1 }' "$OUT")" "the default config file is read"
assert_exit 0 "--users beats the config file" u --config "$TMPD/c/b.conf" --users "$U" list
assert_match '^alice ' "$(head -n 1 "$OUT")" "--users wins"
printf 'bogus-key = 1\n' >"$TMPD/c/bad.conf"
assert_exit 2 "a bad config file is a usage error" u --config "$TMPD/c/bad.conf" list
assert_match 'bad\.conf:1' "$(cat "$ERR")" "the config error names FILE:LINE"
assert_exit 2 "a missing config file" u --config "$TMPD/c/none.conf" list

# ================================================================ bad users files

B=$TMPD/bad
mkdir -p "$B"
assert_exit 1 "list without a users file" u --users "$B/none" list
cp "$U" "$B/gw.users"
chmod 660 "$B/gw.users"
assert_exit 1 "a group-writable users file is refused" u --users "$B/gw.users" list
assert_match "writable by group or others" "$(cat "$ERR")" "group-writable: says so"
assert_exit 1 "and not edited" u --users "$B/gw.users" quota bob 1G
assert_eq 660 "$(mode_of "$B/gw.users")" "its mode was not changed"
cp "$U" "$B/ww.users"
chmod 602 "$B/ww.users"
assert_exit 1 "a world-writable users file is refused" u --users "$B/ww.users" list
{
	echo '# ok'
	echo 'mallory:0:hunter2'
	cat "$U"
} >"$B/mal.users"
chmod 600 "$B/mal.users"
sum_before=$(sha256_of "$B/mal.users")
assert_exit 1 "a malformed users file is refused" u --users "$B/mal.users" list
assert_match "^ftxd user: $B/mal.users:2: " "$(cat "$ERR")" "the error names FILE:LINE"
if grep -q hunter2 "$ERR"; then
	fail "the error quotes the bad hash field"
else
	pass "the error does not quote the bad hash field"
fi
assert_exit 1 "add to a malformed file is refused" \
    bash -c 'printf "pw\n" | "$1" user --users "$2" add kim' _ "$FTXD" "$B/mal.users"
assert_eq "$sum_before" "$(sha256_of "$B/mal.users")" "the malformed file was not touched"
head -c 600 /dev/zero | tr '\0' '#' >"$B/long.users"
chmod 600 "$B/long.users"
assert_exit 1 "an overlong line is refused" u --users "$B/long.users" list
assert_match "long.users:1: line longer than" "$(cat "$ERR")" "overlong: FILE:LINE"
ln -s "$U" "$B/link.users"
assert_exit 1 "a symlinked users file is refused" u --users "$B/link.users" list
assert_match "symbolic link" "$(cat "$ERR")" "symlink: says so"
mkdir "$B/dir.users"
assert_exit 1 "a directory is refused" u --users "$B/dir.users" list

# ================================================================ terminal

if command -v script >/dev/null 2>&1; then
	# tty_run ID CMD: run CMD under script(1) on a new pty, with its
	# input from a FIFO this shell writes to (fd 7).
	tty_run() {
		local id=$1
		shift
		TTY_OUT=$TMPD/tty.$id.out
		rm -f "$TMPD/tty.fifo"
		mkfifo "$TMPD/tty.fifo"
		script -q -e -c "$*" /dev/null <"$TMPD/tty.fifo" >"$TTY_OUT" 2>&1 &
		TTY_PID=$!
		track_pid "$TTY_PID"
		exec 7>"$TMPD/tty.fifo"
	}
	tty_end() {
		exec 7>&-
		wait_pid "$TTY_PID" 20
	}
	tty_wait() {
		wait_for 10 grep -q -- "$1" "$TTY_OUT"
	}

	tty_run add "timeout --foreground 20 '$FTXD' user --users '$U' add tina"
	if tty_wait "New password for tina:"; then
		pass "terminal: the first prompt"
	else
		fail "terminal: no prompt: $(cat "$TTY_OUT")"
	fi
	printf 'tty-pass-1\n' >&7
	tty_wait "Retype" && pass "terminal: the second prompt" || fail "terminal: no second prompt"
	printf 'tty-pass-1\n' >&7
	tty_end
	assert_eq 0 "$WAIT_RC" "terminal: add exits 0"
	assert_match '^tina:0:scrypt' "$(grep '^tina:' "$U")" "terminal: tina added"
	if grep -q 'tty-pass' "$TTY_OUT"; then
		fail "terminal: the password was echoed"
	else
		pass "terminal: the password was not echoed"
	fi

	sum_before=$(sha256_of "$U")
	tty_run differ "timeout --foreground 20 '$FTXD' user --users '$U' passwd tina"
	tty_wait "New password" || fail "terminal: no prompt for passwd"
	printf 'one\n' >&7
	tty_wait "Retype" || fail "terminal: no second prompt for passwd"
	printf 'two\n' >&7
	tty_end
	assert_eq 1 "$WAIT_RC" "terminal: different passwords fail"
	assert_match "passwords differ" "$(cat "$TTY_OUT")" "terminal: says they differ"
	assert_eq "$sum_before" "$(sha256_of "$U")" "terminal: nothing was changed"

	# A signal during the prompt: the terminal gets its echo back.  (The
	# command runs in the background of a non-interactive shell, which
	# ignores SIGINT there, so SIGTERM stands in for ^C; both take the
	# same path.)
	tty_run sig "bash -c 'timeout --foreground 20 \"$FTXD\" user --users \"$U\" add uma </dev/tty & p=\$!; echo \$p >\"$TMPD/tty.pid\"; wait \$p; echo child=\$?; stty -a >\"$TMPD/stty.out\"'"
	tty_wait "New password for uma" || fail "terminal: no prompt for uma"
	tpid=$(cat "$TMPD/tty.pid" 2>/dev/null)
	# timeout(1) runs ftxd as its child: signal ftxd itself.
	cpid=$(cat /proc/"$tpid"/task/*/children 2>/dev/null | awk '{ print $1 }')
	if [[ "$cpid" =~ ^[0-9]+$ ]]; then
		kill -TERM "$cpid"
	else
		fail "terminal: cannot find the prompting process"
	fi
	wait_for 10 test -s "$TMPD/stty.out"
	tty_end
	assert_match 'child=143' "$(cat "$TTY_OUT")" "terminal: the signal ended the command"
	if grep -qE '(^| )-echo( |$)' "$TMPD/stty.out"; then
		fail "terminal: echo is still off after the signal"
	elif grep -qE '(^| )echo( |$)' "$TMPD/stty.out"; then
		pass "terminal: echo restored after the signal"
	else
		fail "terminal: no stty output: $(cat "$TMPD/stty.out" 2>/dev/null)"
	fi
	assert_eq "" "$(grep '^uma:' "$U")" "terminal: uma was not added"
else
	echo "note: script(1) not installed; terminal checks skipped"
fi

# ================================================================ the server agrees

start_server --users "$U" --allow-plaintext-login --login-max-fails 100

login_ok() {
	raw "$1 logs in with the password set by ftxd user" -t 10 ctl \
	    "line:LOGIN $1 $(proto_encode "$2")" "ok:^OK $1 logged in"
}
login_bad() {
	raw "$1 cannot log in with $3" -t 10 ctl \
	    "line:LOGIN $1 $(proto_encode "$2")" 'ok:^ERROR AUTH login incorrect'
}

login_ok alice "$PW2"
login_bad alice "$PW1" "the password passwd replaced"
login_ok bob "$PW2"
login_ok dave "$p1024"
login_ok erin " s p "
login_ok fred "nonl"
login_bad erin "second line" "the second line of stdin"
# Added while the server runs: can log in at once; deleted: cannot.
assert_exit 0 "add lena while ftxd runs" \
    bash -c 'printf "lena-pw\n" | "$1" user --users "$2" add lena' _ "$FTXD" "$U"
login_ok lena "lena-pw"
assert_exit 0 "del lena while ftxd runs" u --users "$U" del lena
login_bad lena "lena-pw" "a deleted account"
if ! grep -qF -- "$PW2" "$LOG" "$LOG.out" && ! grep -qF "lena-pw" "$LOG" "$LOG.out"; then
	pass "no password in the server log"
else
	fail "a password is in the server log"
fi
assert_alive "the logins"
stop_server

finish
